#!/usr/bin/env bash
# Four validators (openledgerd testnet) settle on anvil: each signs the
# output roots and sends its signature to its peers (p2p OUTPUT_SIG); node0,
# whose L1 account is the batcher, posts batches and the outputs once it
# holds more than 2/3 of the power. With one validator down the other three
# still make the quorum (docs/rollup.md, "Proposer").
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/testnet.sh"
source "$(dirname "$0")/lib/rollup.sh"

tn_make "$T_DIR/tn" 4
start_anvil
deploy_rollup "$TN/node0" --genesis "$TN/genesis.json" --finalization-period 3600 --confirmations 1
pass "contracts deployed for the 4-validator genesis; node0's L1 account is the batcher"

start_rollup_node() {
  "$OPENLEDGERD" --datadir "$TN/node$1" --l1 "$L1_URL" --rollup-config "$ROLLUP_CFG" \
    --empty-blocks-interval 500 --batch-max-delay 1000 >>"$TN/node$1/node.log" 2>&1 &
  echo $! >"$TN/node$1/node.pid"
  T_PIDS+=("$!")
}
for i in 0 1 2 3; do start_rollup_node "$i"; done
T_RPC=$(tn_url 0)
T_NODE_PID=$(cat "$TN/node0/node.pid")
tn_wait_all 3 30 0 1 2 3
[[ $(jget "$(tn_call 1 node_status '[]')" 'j["result"]["l1"]["mode"]') == follow ]] ||
  fail "node1 is not following: $(tn_call 1 node_status '[]')"

wait_status 's["l1"]["proposer"]["posted"] >= 20' 120 "outputs 10 and 20 posted with 4 validators"
wait_status 's["safe"] is not None and s["safe"] >= 20' 60 "batches posted"
pass "node0 posted outputs up to $(status 's["l1"]["proposer"]["posted"]') and batches up to $(status 's["safe"]')"

tn_kill 3
base=$(status 's["l1"]["proposer"]["posted"]')
wait_status "s['l1']['proposer']['posted'] >= $base + 20" 120 "outputs posted with node3 down"
pass "with node3 down, outputs still posted (3 of 4 signatures): up to $(status 's["l1"]["proposer"]["posted"]')"

# Everyone sees the same oracle.
st1=$(tn_call 1 node_status '[]')
p1=$(jget "$st1" 'j["result"]["l1"]["proposer"]["posted"]')
(( p1 >= base )) || fail "node1 reads the oracle at $p1"
# node1 does not post: its safe head comes from its own scan of the inbox.
[[ $(jget "$st1" 'j["result"]["l1Head"] > 0 and j["result"]["safe"] is not None and j["result"]["safe"] >= 20') == True ]] ||
  fail "node1's heads: $st1"
# ... read incrementally: a tick every 5 s, each reading only the new L1 blocks.
[[ $(jget "$st1" 'j["result"]["l1"]["watch"]["ticks"] >= 3 and j["result"]["l1"]["watch"]["cursor"] is not None and j["result"]["l1"]["watch"]["l1Requests"] > 0') == True ]] ||
  fail "node1's inbox watch: $st1"
curl -s --max-time 10 "$(tn_url 1)/metrics" | grep -q '^openledger_rollup_inbox_watch_requests_total{endpoint="l1"} [1-9]' ||
  fail "node1's /metrics lacks the inbox watch"
next=$(inbox_check) || fail "inbox: $next"
pass "the inbox holds heights 1..$((next - 1)) exactly once; node1 reads outputs up to $p1"
for i in 0 1 2; do
  p=$(cat "$TN/node$i/node.pid"); kill -TERM "$p"; wait "$p" || fail "node$i exit status $?"
done
