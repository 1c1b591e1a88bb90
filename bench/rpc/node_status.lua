-- wrk: JSON-RPC node_status, one request per call.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"node_status","params":[]}'
