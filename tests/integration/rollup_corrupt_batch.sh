#!/usr/bin/env bash
# Corrupted data posted with the batcher's key: a frame whose channel is not
# zstd, and a batch whose block fails validation. Each deriving node refuses
# it with the reason (node_status and its log), halts derivation at its last
# good height and keeps serving JSON-RPC there.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/derive.sh"

start_anvil
start_at l2 --dev --p2p off --datadir "$T_DIR/l2" --block-time 20 --empty-blocks-interval 20
L2_PID=$R_PID
"$OL_BUILD_DIR/bench/bench_transfers" --rpc "$R_URL" --txs 100 --senders 5 \
  >"$T_DIR/load.out" 2>&1 || { cat "$T_DIR/load.out"; fail "transfers"; }
wait_for "$R_URL" 'r["height"] >= 40' 120 "40 L2 blocks"
stop_pid "$L2_PID"

# Two deployments, one per corruption: the L1 keeps bad data for good, and a
# deriving node halts at the first.
for case in zstd invalid; do
  deploy --finalization 4 --confirmations 2 --channel-timeout 50
  mv "$T_DIR/rollup.json" "$T_DIR/rollup-$case.json"
done
post() {
  "$POST" post --l1 "$T_L1" --config "$T_DIR/rollup-$1.json" --key "$L1_KEY" \
    --datadir "$T_DIR/l2" --from "$2" --to "$3" "${@:4}" >"$T_DIR/post-$1.out" ||
    fail "posting $2..$3"
}

# 1. Bad compression.
post zstd 1 20
ROLLUP_CFG=$T_DIR/rollup-zstd.json start_deriver dz
wait_for "$D_URL" 'r["height"] == 20' 60 "derived 1..20"
"$POST" raw --l1 "$T_L1" --config "$T_DIR/rollup-zstd.json" --key "$L1_KEY" --bad-compression \
  >"$T_DIR/raw.out" || fail "posting the bad frame"
tx=$(awk '{print $4}' "$T_DIR/raw.out")
post zstd 21 30 # good data after the bad frame is not read
wait_for "$D_URL" 'r["l1"]["halted"]' 60 "halt on bad compression"
reason=$(status "$D_URL" 'r["l1"]["haltReason"]')
[[ $reason == *"$tx"* && $reason == *batch* ]] || fail "reason: $reason"
grep -q "derivation halted at L2 height 20: .*$tx" "$T_DIR/dz.log" || fail "no log line"
[[ $(status "$D_URL" 'r["height"]') == 20 ]] || fail "height after the halt"
[[ -n $(header "$D_URL" 20) ]] || fail "no block 20 served"
pass "bad compression refused ($reason), halted at 20, still serving"
stop_pid "$D_PID"

# 2. A block that fails validation (its state root changed, the batch well formed).
post invalid 1 20
ROLLUP_CFG=$T_DIR/rollup-invalid.json start_deriver dv
wait_for "$D_URL" 'r["height"] == 20' 60 "derived 1..20"
post invalid 21 25 --tamper
tx=$(awk '/^frame/ {print $13; exit}' "$T_DIR/post-invalid.out")
wait_for "$D_URL" 'r["l1"]["halted"]' 60 "halt on an invalid block"
reason=$(status "$D_URL" 'r["l1"]["haltReason"]')
[[ $reason == *"L2 block 21"* && $reason == *"$tx"* && $reason == *wrong_state_root* ]] ||
  fail "reason: $reason"
grep -q "derivation halted at L2 height 20: .*wrong_state_root" "$T_DIR/dv.log" || fail "no log line"
[[ $(status "$D_URL" 'r["height"]') == 20 ]] || fail "height after the halt"
[[ -n $(header "$D_URL" 20) ]] || fail "no block 20 served"
pass "invalid block refused ($reason), halted at 20, still serving"
stop_pid "$D_PID"
