-- wrk: JSON-RPC account_get of a funded devnet account (dev1), one request per call.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"account_get","params":["ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8"]}'
