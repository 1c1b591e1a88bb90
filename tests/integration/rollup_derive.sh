#!/usr/bin/env bash
# Derivation from the L1 alone: an L2 devnet makes 500+ blocks of transfers,
# its blocks are posted as batches to BatchInbox and its output roots to
# OutputOracle on anvil; a fresh node started with --derive-from-l1 then
# rebuilds the chain, reaches the same block and state root at every output
# height, checks every posted output and reports l1Head, safe and finalized.
# Restarted, it resumes from its stored L1 origins without deriving again.
# Then the same with the real batcher and proposer (--l1): a devnet posting
# its own blocks and outputs, and a node deriving from them.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/derive.sh"

start_anvil
deploy --finalization 4 --confirmations 2 --channel-timeout 50
pass "contracts deployed"

start_at l2 --dev --p2p off --datadir "$T_DIR/l2" --block-time 20 --empty-blocks-interval 20
L2_URL=$R_URL
L2_PID=$R_PID
"$OL_BUILD_DIR/bench/bench_transfers" --rpc "$L2_URL" --txs 2000 --senders 20 \
  >"$T_DIR/load.out" 2>&1 || { cat "$T_DIR/load.out"; fail "transfers"; }
wait_for "$L2_URL" 'r["height"] >= 500' 180 "500 L2 blocks"
stop_pid "$L2_PID"
cp -r "$T_DIR/l2" "$T_DIR/l2posted" # what rollup_post reads (the restarted node locks l2)
start_at l2b --dev --p2p off --datadir "$T_DIR/l2" --block-time 3600000
L2_URL=$R_URL
H=$(status "$L2_URL" 'r["height"]')
TXS=$(python3 - "$L2_URL" "$H" <<'PY'
import json, sys, urllib.request
url, h, n, frm = sys.argv[1], int(sys.argv[2]), 0, 1
while frm is not None and frm <= h:
    req = urllib.request.Request(url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "chain_getBlockRange",
                                                  "params": [frm, 100]}).encode(), {"Content-Type": "application/json"})
    r = json.load(urllib.request.urlopen(req))["result"]
    n += sum(b["txCount"] for b in r["blocks"] if b["height"] <= h)
    frm = r["next"]
print(n)
PY
)
((TXS >= 2000)) || fail "the L2 chain holds $TXS transactions"
pass "L2 devnet: $H blocks, $TXS transactions"

"$POST" post --l1 "$T_L1" --config "$T_DIR/rollup.json" --key "$L1_KEY" --datadir "$T_DIR/l2posted" \
  --from 1 --to "$H" --per-batch 100 >"$T_DIR/post.out" || fail "posting batches"
"$POST" outputs --l1 "$T_L1" --config "$T_DIR/rollup.json" --key "$L1_KEY" --datadir "$T_DIR/l2posted" \
  --from 1 --to "$H" --dev-validator >"$T_DIR/outputs.out" || fail "posting outputs"
NOUT=$(grep -c '^output' "$T_DIR/outputs.out")
((NOUT == H / 10)) || fail "$NOUT outputs posted for $H blocks"
pass "posted $(grep -c '^frame' "$T_DIR/post.out") frames and $NOUT outputs"
# Outputs final by the L1's clock, every batch more than 2 blocks deep.
rpc_at "$T_L1" evm_increaseTime '[60]' >/dev/null
mine 3

start_deriver d1 --datadir "$T_DIR/d1"
wait_for "$D_URL" "r['height'] >= $H and r['l1']['outputsChecked'] >= $NOUT" 300 "derivation to $H"
[[ $(status "$D_URL" 'r["l1"]["halted"]') == False ]] || fail "halted: $(status "$D_URL" 'r["l1"]')"
for ((h = 10; h <= H; h += 10)); do
  a=$(header "$L2_URL" "$h")
  b=$(header "$D_URL" "$h")
  [[ -n $a && $a == "$b" ]] || fail "L2 height $h: validator '$a', derived '$b'"
done
[[ $(header "$L2_URL" "$H") == $(header "$D_URL" "$H") ]] || fail "head $H differs"
pass "same block and state root at all $NOUT output heights and at $H"

l1head=$(python3 -c 'import json,sys; print(int(json.loads(sys.argv[1])["result"], 16))' \
  "$(rpc_at "$T_L1" eth_blockNumber '[]')")
wait_for "$D_URL" "r['l1Head'] == $l1head and r['safe'] == $H and r['finalized'] == $((H / 10 * 10))" 30 "heads"
pass "heads: l1Head $l1head, safe $H, finalized $((H / 10 * 10))"

# A restart resumes from the stored L1 origins: nothing is derived again.
stop_pid "$D_PID"
start_deriver d1b --datadir "$T_DIR/d1"
wait_for "$D_URL" "r['l1']['l1Scanned'] >= $l1head" 60 "resumed scan"
[[ $(status "$D_URL" 'r["height"]') == "$H" ]] || fail "height after restart"
[[ $(status "$D_URL" 'r["l1"]["blocksDerived"]') == 0 ]] || fail "derived again after restart"
[[ $(status "$D_URL" 'r["l1"]["halted"]') == False ]] || fail "halted after restart"
wait_for "$D_URL" "r['finalized'] == $((H / 10 * 10))" 30 "finalized after restart"
pass "restart resumes at $H without deriving again, finalized $((H / 10 * 10)) from the oracle"
stop_pid "$D_PID"

# The real batcher and proposer: a devnet with --l1 posts its blocks and
# outputs to contracts of its own; a fresh node derives the same chain.
REAL=$T_DIR/real
mkdir -p "$REAL"
addr=$("$OPENLEDGERD" l1-address --datadir "$REAL" 2>/dev/null) || fail "l1-address"
rpc_at "$T_L1" anvil_setBalance "[\"$addr\",\"0x3635c9adc5dea00000\"]" | grep -q result || fail "fund"
"$OPENLEDGERD" rollup-deploy --l1 "$T_L1" --datadir "$REAL" --out "$REAL/rollup.json" \
  --finalization-period 4 --confirmations 2 >"$T_DIR/deploy-real.log" 2>&1 || fail "rollup-deploy"
start_at real --dev --p2p off --datadir "$REAL" --block-time 20 --empty-blocks-interval 20 \
  --l1 "$T_L1" --rollup-config "$REAL/rollup.json" --batch-max-delay 1000
REAL_URL=$R_URL
"$OL_BUILD_DIR/bench/bench_transfers" --rpc "$REAL_URL" --txs 1000 --senders 10 \
  >"$T_DIR/load-real.out" 2>&1 || { cat "$T_DIR/load-real.out"; fail "transfers"; }
wait_for "$REAL_URL" 'r["l1"]["batcher"]["posted"] >= 500 and r["l1"]["proposer"]["posted"] >= 200' \
  240 "the batcher posting 500 blocks and the proposer 20 outputs"
pass "the real batcher posted $(status "$REAL_URL" 'r["l1"]["batcher"]["posted"]') blocks"
ROLLUP_CFG=$REAL/rollup.json start_deriver dreal
wait_for "$D_URL" 'r["height"] >= 500 and r["l1"]["outputsChecked"] >= 20' 300 "derivation from the real batcher"
[[ $(status "$D_URL" 'r["l1"]["halted"]') == False ]] || fail "halted: $(status "$D_URL" 'r["l1"]')"
for ((h = 10; h <= 500; h += 10)); do
  a=$(header "$REAL_URL" "$h")
  b=$(header "$D_URL" "$h")
  [[ -n $a && $a == "$b" ]] || fail "L2 height $h: validator '$a', derived '$b'"
done
pass "derived from the real batcher: same block and state root at every output height to 500, $(status "$D_URL" 'r["l1"]["outputsChecked"]') posted outputs checked"
stop_pid "$D_PID"
