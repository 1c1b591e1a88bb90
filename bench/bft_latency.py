#!/usr/bin/env python3
"""Commit latency of a BFT testnet at light load: the time from tx_send on a
validator to the moment that validator answers chain_getTransaction with the
transaction in a committed block (its receipt visible).

  bench/bft_latency.py VALIDATOR_URL [N [RATE]]

Sends N transfers (default 200) at RATE per second (default 20), on a fixed
schedule, from dev accounts 0..9 to VALIDATOR_URL, noting the wall clock of
each send. A second thread, on its own connection, polls every pending
transaction in one batch every 10 ms and notes when each first shows a block
height: that is the commit latency as a client of that validator sees it
(resolution about 10 ms plus one batch round trip). For comparison it also
prints the latency to the including block's header timestamp, which is the
proposer's clock when it proposed, before the votes: it leaves out the
prevote/precommit rounds, so it reads lower. Signing (pure Python) is done
before the timed part. Prints one result line.
"""
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import ol_txlib as L  # noqa: E402


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    url = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    rpc = L.Rpc(url)
    chain_id, genesis = rpc.domain()
    keys = [L.dev_key(i) for i in range(10)]
    nonces = [rpc.call("account_get", k.address)["pendingNonce"] for k in keys]
    to = L.addr_decode(keys[0].address)
    txs = []
    for i in range(n):
        k = i % 10
        txs.append(L.sign_tx(keys[k], chain_id, genesis, L.TRANSFER, nonces[k], L.GAS[L.TRANSFER],
                             L.body_transfer(to, 1)))
        nonces[k] += 1

    lock = threading.Lock()
    pending = {}  # txid -> send time (ms)
    seen = {}  # txid -> (send ms, visible ms, block height)
    done_sending = threading.Event()
    failure = []

    def poll():
        prpc = L.Rpc(url)
        deadline = None
        while True:
            with lock:
                ids = list(pending)
            if not ids:
                if done_sending.is_set():
                    return
                time.sleep(0.002)
                continue
            if done_sending.is_set() and deadline is None:
                deadline = time.time() + 60
            res = prpc.batch([("chain_getTransaction", [i]) for i in ids])
            now = time.time() * 1000.0
            with lock:
                for txid, (r, err) in zip(ids, res):
                    if err is None and r and r.get("blockHeight") is not None:
                        seen[txid] = (pending.pop(txid), now, r["blockHeight"])
            if deadline is not None and time.time() > deadline:
                failure.append("%d transactions never committed" % len(pending))
                return
            time.sleep(0.01)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    t0 = time.time()
    for i, tx in enumerate(txs):
        wait = t0 + i / rate - time.time()
        if wait > 0:
            time.sleep(wait)
        t = time.time() * 1000.0
        with lock:
            pending[tx.id] = t
        rpc.call("tx_send", tx.hex)
    done_sending.set()
    th.join()
    if failure:
        sys.exit("bft_latency: " + failure[0])

    vis = [v - s for s, v, _ in seen.values()]
    stamps = {}
    for h in sorted({h for _, _, h in seen.values()}):
        stamps[h] = rpc.call("chain_getBlock", h)["header"]["timestamp"]
    blk = [stamps[h] - s for s, _, h in seen.values()]
    print("bft_latency: p50_ms=%.0f p99_ms=%.0f max_ms=%.0f block_ts_p50_ms=%.0f block_ts_p99_ms=%.0f "
          "txs=%d rate_per_s=%g blocks=%d (tx_send to receipt visible on the same validator)"
          % (pct(vis, 0.50), pct(vis, 0.99), max(vis), pct(blk, 0.50), pct(blk, 0.99), n, rate, len(stamps)))


if __name__ == "__main__":
    main()
