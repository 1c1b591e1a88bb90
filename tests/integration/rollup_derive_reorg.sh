#!/usr/bin/env bash
# An L1 reorganisation drops a batch the deriving node has already applied
# (evm_snapshot before posting it, evm_revert after): the node notices the
# changed L1 chain, rolls its store back to the last L2 block whose L1 origin
# is still canonical, and follows the data posted again, ending with the
# validator's state.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/derive.sh"

start_anvil
deploy --finalization 4 --confirmations 2 --channel-timeout 50
start_at l2 --dev --p2p off --datadir "$T_DIR/l2" --block-time 20 --empty-blocks-interval 20
L2_PID=$R_PID
"$OL_BUILD_DIR/bench/bench_transfers" --rpc "$R_URL" --txs 300 --senders 10 \
  >"$T_DIR/load.out" 2>&1 || { cat "$T_DIR/load.out"; fail "transfers"; }
wait_for "$R_URL" 'r["height"] >= 60' 120 "60 L2 blocks"
stop_pid "$L2_PID"
cp -r "$T_DIR/l2" "$T_DIR/l2posted" # what rollup_post reads (the restarted node locks l2)
start_at l2b --dev --p2p off --datadir "$T_DIR/l2" --block-time 3600000
L2_URL=$R_URL
post() {
  "$POST" post --l1 "$T_L1" --config "$T_DIR/rollup.json" --key "$L1_KEY" --datadir "$T_DIR/l2posted" \
    --from "$1" --to "$2" --per-batch "$3" >>"$T_DIR/post.out" || fail "posting $1..$2"
}

post 1 30 30
start_deriver d --datadir "$T_DIR/d"
wait_for "$D_URL" 'r["height"] == 30' 60 "derived 1..30"
pass "derived 1..30"

snap=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["result"])' \
  "$(rpc_at "$T_L1" evm_snapshot '[]')")
post 31 50 20
wait_for "$D_URL" 'r["height"] == 50' 60 "derived 31..50"
pass "derived 31..50 from the batch about to be dropped"

r=$(rpc_at "$T_L1" evm_revert "[\"$snap\"]")
[[ $(jget "$r" 'j["result"]') == True ]] || fail "evm_revert: $r"
mine 2
wait_for "$D_URL" 'r["l1"]["rollbacks"] >= 1 and r["l1"]["blocksRolledBack"] >= 20' 60 "rollback"
grep -q 'rolled back L2 blocks 31..50' "$T_DIR/d.log" || fail "no rollback log line"
pass "rolled back 31..50 after the L1 reorganisation"

# The batcher posts the gap again (in other batches).
post 31 60 15
wait_for "$D_URL" 'r["height"] == 60' 60 "derived again to 60"
for h in 10 20 30 31 40 45 50 55 60; do
  a=$(header "$L2_URL" "$h")
  b=$(header "$D_URL" "$h")
  [[ -n $a && $a == "$b" ]] || fail "L2 height $h: validator '$a', derived '$b'"
done
[[ $(status "$D_URL" 'r["l1"]["halted"]') == False ]] || fail "halted: $(status "$D_URL" 'r["l1"]')"
pass "followed the re-posted data: same blocks and state roots as the validator to 60"
stop_pid "$D_PID"
