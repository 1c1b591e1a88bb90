#!/usr/bin/env bash
# A validator whose L1 view lacks a deposit does not vote for the block that
# mints it (docs/rollup.md, "Bridge"): four validators, node0..node2 on anvil
# A, node3 on anvil B, where the same contracts sit at the same addresses
# (same deployer key, same nonces) but the deposit is never made. The other
# three commit the block; node3 logs why it refused it, counts it in
# openledger_bridge_blocks_refused_total, and then holds the same chain.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/testnet.sh"
source "$(dirname "$0")/lib/rollup.sh"
source "$(dirname "$0")/lib/bridge.sh"

CONF=2
tn_make "$T_DIR/tn" 4
anvil_start anvilA
URL_A=$ANVIL_URL
anvil_start anvilB
URL_B=$ANVIL_URL
for side in A B; do
  url_var=URL_$side
  L1_URL=${!url_var}
  deploy_rollup "$TN/node0" --genesis "$TN/genesis.json" --finalization-period 3600 --confirmations 1 --deposit-confirmations "$CONF" \
    --dev-fund
  cp "$ROLLUP_CFG" "$T_DIR/rollup-$side.json"
done
l1_interval "$URL_A" 1
l1_interval "$URL_B" 1
L1_URL=$URL_A
ROLLUP_CFG=$T_DIR/rollup-A.json
python3 - "$T_DIR/rollup-A.json" "$T_DIR/rollup-B.json" <<'PY' || fail "the contracts differ between the two L1s"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
keys = ("batchInbox", "outputOracle", "token", "bridge")
sys.exit(0 if all(a[k] == b[k] for k in keys) else "A %s, B %s" % ([a[k] for k in keys], [b[k] for k in keys]))
PY
br_contracts
pass "the same contracts on anvil A and anvil B: token $TOKEN, bridge $BRIDGE"

start_validator() { # N URL CONFIG
  "$OPENLEDGERD" --datadir "$TN/node$1" --l1 "$2" --rollup-config "$3" --empty-blocks-interval 500 \
    --batch-max-delay 1000 >>"$TN/node$1/node.log" 2>&1 &
  echo $! >"$TN/node$1/node.pid"
  T_PIDS+=("$!")
}
for i in 0 1 2; do start_validator "$i" "$URL_A" "$T_DIR/rollup-A.json"; done
start_validator 3 "$URL_B" "$T_DIR/rollup-B.json"
T_RPC=$(tn_url 0)
T_NODE_PID=$(cat "$TN/node0/node.pid")
tn_wait_all 3 60 0 1 2 3
pass "four validators commit blocks (node3 on anvil B)"

# The deposit, on anvil A only.
OPEN=1000000000
to=$(l2_addr dev7)
before=$(l2_balance "$to")
out=$(cli bridge deposit --amount 2 --to "$to" --from dev0 --l1 "$URL_A" --no-wait 2>&1) || fail "bridge deposit: $out"
[[ $(tok_balance "$BRIDGE" "$URL_A") == $((2 * OPEN)) && $(tok_balance "$BRIDGE" "$URL_B") == 0 ]] ||
  fail "the deposit is not on A alone"
wait_for 90 "the deposit minted" is dep 0 'w and w["status"]' minted
H=$(dep 0 'w["height"]')
[[ $(l2_balance "$to") == $((before + 2 * OPEN)) ]] || fail "dev7 holds $(l2_balance "$to")"
pass "deposit 0 (on anvil A) minted at L2 height $H by node0..node2"

# node3 refused it, said so, and counted it.
T_RPC=$(tn_url 3)
refused=$(metric openledger_bridge_blocks_refused_total)
((refused >= 1)) || fail "node3's openledger_bridge_blocks_refused_total is $refused"
grep -iE 'deposit' "$TN/node3/node.log" | grep -iE 'refus|not vot|prevote nil' >"$T_DIR/refusals" ||
  fail "node3's log does not say it refused the block with the deposit"
pass "node3 refused $refused block(s): $(head -n 1 "$T_DIR/refusals")"
commit=$(tn_call 0 chain_getCommit "[$H]")
[[ $(jget "$commit" '3 in [s["validator"] for s in j["result"]["commit"]["signatures"]]') == False ]] ||
  fail "node3's precommit is in the commit of block $H: $commit"
pass "the commit of block $H holds no signature of node3"

# Afterwards the four hold one chain, node3's state with the deposit too.
tn_wait_all $((H + 3)) 60 0 1 2 3
out=$(tn_same_chains 0 1 2 3) || fail "$out"
pass "$out"
[[ $(l2_balance "$to") == $((before + 2 * OPEN)) ]] || fail "node3's state: dev7 holds $(l2_balance "$to")"
T_RPC=$(tn_url 0)
conserve "the deposit" $((2 * OPEN)) 0 $((2 * OPEN)) 0
for i in 0 1 2 3; do
  p=$(cat "$TN/node$i/node.pid")
  kill -TERM "$p"
  wait "$p" || fail "node$i exit status $?"
done
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TN"/node*/node.log; then
  fail "sanitizer report in a node log"
fi
