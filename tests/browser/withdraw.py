#!/usr/bin/env python3
"""A WITHDRAW on the devnet for the explorer's browser test: dev key 9 burns
AMOUNT base units to an L1 address (docs/rollup.md, "Bridge"); waits for the
receipt and prints the sender's address (on success) for the page to show.
  tests/browser/withdraw.py RPC_URL AMOUNT
Exit 0 on a successful WITHDRAW, 1 otherwise (the node's reason printed)."""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import ol_txlib as L  # noqa: E402

WITHDRAW, GAS_WITHDRAW = 10, 5000  # chain/types/tx.h: CHAIN_TX_WITHDRAW, CHAIN_GAS_WITHDRAW
L1_RECIPIENT = bytes.fromhex("70997970c51812dc3a010c7d01b50e0d17dc79c8")


def main():
    rpc, amount = L.Rpc(sys.argv[1]), int(sys.argv[2])
    chain_id, genesis = rpc.domain()
    key = L.dev_key(9)
    nonce = rpc.call("account_get", key.address)["pendingNonce"]
    tx = L.sign_tx(key, chain_id, genesis, WITHDRAW, nonce, GAS_WITHDRAW, L1_RECIPIENT + L.u64(amount))
    try:
        rpc.call("tx_send", tx.hex)
    except L.RpcError as e:
        print("withdraw refused: %s" % e)
        return 1
    for _ in range(100):
        try:
            r = rpc.call("chain_getTransaction", tx.id)
        except L.RpcError:
            r = None
        if r and not r.get("pending") and r.get("receipt"):
            if r["receipt"]["status"] != "success":
                print("withdraw failed: %s" % r["receipt"].get("error"))
                return 1
            print(key.address)
            return 0
        time.sleep(0.1)
    print("withdraw not in a block after 10 s")
    return 1


if __name__ == "__main__":
    sys.exit(main())
