#!/usr/bin/env bash
# Four validators on 127.0.0.1 (openledgerd testnet + scripts/testnet.sh) run
# Tendermint consensus: all commit blocks, a transfer included; with one
# killed the other three keep committing; with two killed the chain halts
# (2/4 of the power is not 2/3+); one restarted, it resumes, and a restarted
# validator catches up by block sync. At the end all four hold the same
# block hashes and state roots at every height.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/testnet.sh"
SECONDS=0
tn_make "$T_DIR/tn" 4
[[ -f $TN/genesis.json && -f $TN/nodes.json && -f $TN/node3/validator_key.json &&
   -f $TN/node3/node_key.json && -f $TN/node3/config.json ]] || fail "testnet files"
pass "testnet --validators 4 wrote genesis, keys, configs and nodes.json"

tn_up

tn_wait_all 3 20 0 1 2 3
st=$(tn_call 0 node_status '[]')
[[ $(jget "$st" 'j["result"]["consensus"]["step"]') =~ ^(propose|prevote|precommit|decided)$ ]] ||
  fail "node_status.consensus: $st"
cs=$(tn_call 1 consensus_state '[]')
[[ $(jget "$cs" 'j["result"]["running"]') == True ]] || fail "consensus_state: $cs"
grep -q '^openledger_consensus_height ' <<<"$(curl -s "$(tn_url 2)/metrics")" || fail "/metrics lacks consensus"
pass "4 validators commit blocks (node_status, consensus_state, /metrics show consensus)"

# A transfer sent to node1 is gossiped, proposed by whoever's turn it is,
# and committed on all four.
T_RPC=$(tn_url 1)
export OPENLEDGER_KEYSTORE="$T_DIR/keys" OPENLEDGER_PASSWORD=itest OPENLEDGER_SCRYPT_N=1024
out=$(cli send --from dev0 --to ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8 --amount 2) || fail "send: $out"
grep -qi success <<<"$out" || fail "send did not report success: $out"
tx_height=$(python3 - "$(tn_url 0)" <<'EOF'
import json, sys, urllib.request
def call(u, m, p):
    r = urllib.request.Request(u, json.dumps({"jsonrpc":"2.0","id":1,"method":m,"params":p}).encode(),
                               {"Content-Type":"application/json"})
    return json.load(urllib.request.urlopen(r, timeout=5))
u = sys.argv[1]
top = call(u, "node_status", [])["result"]["height"]
for h in range(top, 0, -1):
    if call(u, "chain_getBlock", [h])["result"]["txs"]:
        print(h); break
else:
    print(0)
EOF
)
((tx_height > 0)) || fail "no block with the transfer on node0"
tn_wait_all "$tx_height" 10 0 1 2 3
pass "a transfer was committed in block $tx_height"

# The light client checks the head against a commit of 2/3+ of the four.
out=$(cli --genesis "$TN/genesis.json" prove ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8) || fail "prove: $out"
grep -q 'proof OK' <<<"$out" || fail "prove output: $out"
pass "openledger-cli prove verifies against the validators' commit"

# One validator down: 3/4 of the power is more than 2/3, blocks go on.
tn_kill 3
h=$(tn_height 0)
tn_wait_all $((h + 4)) 20 0 1 2
pass "node3 killed: the other three commit (from $h to $(tn_height 0))"

# Two down: 2/4 is not more than 2/3, the chain halts.
tn_kill 2
sleep 1.5
h1=$(tn_height 0)
sleep 3
h2=$(tn_height 0)
((h2 == h1)) || fail "the chain kept growing with half the power: $h1 -> $h2"
[[ $(tn_height 1) -le $((h2 + 1)) ]] || fail "node1 ahead of the halt"
pass "node2 killed too: the chain halts at $h2"

# node2 back: three again, consensus resumes; node3 back: it catches up.
tn_start 2
tn_wait_all $((h2 + 3)) 30 0 1 2
pass "node2 restarted: blocks again (height $(tn_height 0))"
tn_up
target=$(tn_height 0)
tn_wait_all "$target" 30 3
tn_wait_all $((target + 2)) 20 0 1 2 3
pass "node3 restarted and caught up by block sync"

# Identical chains: block hashes and state roots at every height.
tn_same_chains 0 1 2 3 || fail "the four chains differ"
pass "identical block hashes and state roots at every height"

tn_down
grep -q 'replayed' "$TN/node2/node.log" || fail "node2 did not replay its WAL"
echo "bft_4val: all passed in $SECONDS s"
