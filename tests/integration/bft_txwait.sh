#!/usr/bin/env bash
# Waiting for transactions (docs/consensus.md, "Waiting for transactions"):
# on a 4-validator testnet whose genesis sets timeoutProposeMs 8000, a
# round-0 proposer with nothing to propose waits up to 4 s for a first
# transaction. An idle network still makes empty blocks, at about one per
# 4 s (counted: far fewer than the ~60 that timeoutCommitMs 200 alone would
# give in the same 12 s, and more than none); a transfer sent to an idle
# network is in the very next block, proposed without waiting out the 4 s.
# With all four precommits in, nobody waits timeoutCommitMs either.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/testnet.sh"
SECONDS=0
tn_make "$T_DIR/tn" 4
python3 - "$TN/genesis.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
def put(o):
    if isinstance(o, dict):
        for k in o:
            if k == "timeoutProposeMs": o[k] = 8000
            else: put(o[k])
    elif isinstance(o, list):
        for x in o: put(x)
put(g)
json.dump(g, open(sys.argv[1], "w"), indent=2)
PY
grep -q '"timeoutProposeMs": 8000' "$TN/genesis.json" || fail "genesis not rewritten"
tn_up
tn_wait_all 2 40 0 1 2 3
pass "4 validators commit blocks with timeoutProposeMs 8000"

# Idle: empty blocks keep coming, about one per 4 s.
h0=$(tn_height 0)
sleep 12
h1=$(tn_height 0)
n=$((h1 - h0))
((n >= 1)) || fail "no empty block in 12 s on an idle network ($h0 -> $h1)"
((n <= 6)) || fail "$n blocks in 12 s on an idle network: the proposers do not wait for transactions"
pass "idle: $n empty blocks in 12 s (one per ~4 s, not one per timeoutCommitMs)"

# Right after a block, the next proposer waits for a transaction: a transfer
# sent to node1 (gossiped to whoever proposes) wakes it, and lands in the
# next block, well before the 4 s are out.
h=$(tn_height 0)
for _ in $(seq 1 100); do
  got=$(tn_height 0)
  ((got > h)) && break
  sleep 0.05
done
((got > h)) || fail "no block within 5 s"
h=$got
T_RPC=$(tn_url 1)
export OPENLEDGER_KEYSTORE="$T_DIR/keys" OPENLEDGER_PASSWORD=itest OPENLEDGER_SCRYPT_N=1024
out=$(cli send --from dev0 --to ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8 --amount 2) || fail "send: $out"
grep -qi success <<<"$out" || fail "send did not report success: $out"
res=$(python3 - "$(tn_url 0)" "$h" <<'EOF'
import json, sys, urllib.request
def call(u, m, p):
    r = urllib.request.Request(u, json.dumps({"jsonrpc":"2.0","id":1,"method":m,"params":p}).encode(),
                               {"Content-Type":"application/json"})
    return json.load(urllib.request.urlopen(r, timeout=5))["result"]
u, h = sys.argv[1], int(sys.argv[2])
blocks = call(u, "chain_getBlockRange", [h, 100, "asc"])["blocks"]
first = next((b for b in blocks if b["txCount"] > 0), None)
if first is None:
    print("none"); sys.exit()
prev = next(b for b in blocks if b["height"] == first["height"] - 1)
print(first["height"], first["header"]["timestamp"] - prev["header"]["timestamp"])
EOF
)
read -r txh gap <<<"$res"
[[ $txh != none ]] || fail "the transfer is in no block after $h"
((txh <= h + 1)) || fail "the transfer is in block $txh, not in the next block $((h + 1))"
# Generous: the proposer's own wait is 4,000 ms; waking up takes a few ms.
((gap < 3000)) || fail "block $txh came $gap ms after its parent: the proposer waited out its interval"
pass "a transfer sent to an idle network is in the next block ($txh), $gap ms after its parent"

# Counted by the nodes: proposers waited, and commit waits ended early
# (all four precommits in).
waits=0 skips=0
for i in 0 1 2 3; do
  m=$(curl -s --max-time 5 "$(tn_url "$i")/metrics")
  w=$(awk '$1 == "openledger_consensus_tx_waits_total" { print $2 }' <<<"$m")
  s=$(awk '$1 == "openledger_consensus_commit_waits_skipped_total" { print $2 }' <<<"$m")
  [[ -n $w && -n $s ]] || fail "node$i /metrics lacks the waiting counters"
  waits=$((waits + w)) skips=$((skips + s))
done
((waits >= 2 && skips >= 2)) || fail "tx waits $waits, skipped commit waits $skips"
pass "metrics: $waits waits for transactions, $skips commit waits skipped"

tn_same_chains 0 1 2 3 || fail "the four chains differ"
tn_down
echo "bft_txwait: all passed in $SECONDS s"
