#!/usr/bin/env python3
"""Gossip latency on a line of nodes: the time from tx_send on the last
follower to the transaction's inclusion in a block by the validator.

  bench/gossip_latency.py FOLLOWER_URL VALIDATOR_URL [N]

Sends N transfers (default 200), one every 50 ms, from dev accounts 0..9 to
FOLLOWER_URL, noting the wall clock of each send; then reads each one's block
on VALIDATOR_URL and takes the block's timestamp (the validator's wall clock
when it built the block, same machine) as the inclusion time. Prints one
result line: p50 and p99 in ms. Signing (pure Python) is done before the
timed part.
"""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import ol_txlib as L  # noqa: E402


def main():
    furl, vurl = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    f, v = L.Rpc(furl), L.Rpc(vurl)
    chain_id, genesis = f.domain()
    keys = [L.dev_key(i) for i in range(10)]
    nonces = [f.call("account_get", k.address)["pendingNonce"] for k in keys]
    to = L.addr_decode(keys[0].address)
    txs = []
    for i in range(n):
        k = i % 10
        txs.append(L.sign_tx(keys[k], chain_id, genesis, L.TRANSFER, nonces[k], L.GAS[L.TRANSFER],
                             L.body_transfer(to, 1)))
        nonces[k] += 1
    sent = []
    for tx in txs:
        t = time.time() * 1000.0
        f.call("tx_send", tx.hex)
        sent.append((tx.id, t))
        time.sleep(0.05)
    lat = []
    deadline = time.time() + 60
    for txid, t in sent:
        while True:
            try:
                r = v.call("chain_getTransaction", txid)
                if r.get("blockHeight") is not None:
                    break
            except L.RpcError:
                pass
            if time.time() > deadline:
                sys.exit("gossip_latency: %s never included" % txid)
            time.sleep(0.05)
        b = v.call("chain_getBlock", r["blockHeight"])
        lat.append(b["header"]["timestamp"] - t)
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("gossip: p50_ms=%.0f p99_ms=%.0f max_ms=%.0f txs=%d hops=line" % (p(0.50), p(0.99), lat[-1], n))


if __name__ == "__main__":
    main()
