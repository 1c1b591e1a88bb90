#!/usr/bin/env bash
# An L1 reorganisation drops a batch (evm_snapshot / evm_revert on anvil):
# the batcher sees it and posts the dropped heights again, and the inbox ends
# with every L2 height exactly once (docs/rollup.md, "Batcher").
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/rollup.sh"

DATA="$T_DIR/data"
start_anvil
deploy_rollup "$DATA" --finalization-period 3600 --confirmations 1
start_node node --datadir "$DATA" --quiet-accounts --p2p off --block-time 200 --l1 "$L1_URL" \
  --rollup-config "$ROLLUP_CFG" --batch-max-blocks 5 --batch-max-delay 500
( while :; do
    cli send --from dev1 --to dev2 --amount 0.001 --no-wait >/dev/null 2>&1 || true
    sleep 0.1
  done ) &
T_PIDS+=($!)

wait_status 's["l1"]["batcher"]["batches"] >= 2' 60 "two batches posted"
snap=$(l1_result evm_snapshot '[]')
before=$(status 's["l1"]["batcher"]["posted"]')
wait_status "s['l1']['batcher']['posted'] >= $before + 10" 60 "batches after the snapshot"
dropped=$(status 's["l1"]["batcher"]["posted"]')
[[ $(l1_result evm_revert "[\"$snap\"]") == True ]] || fail "evm_revert"
pass "L1 reverted to the snapshot: heights $((before + 1))..$dropped dropped from the inbox"

wait_status 's["l1"]["batcher"]["reorgs"] >= 1' 30 "the batcher sees the reorganisation"
wait_status "s['l1']['batcher']['posted'] >= $dropped + 5" 90 "the dropped heights posted again"
next=$(inbox_check) || fail "inbox: $next"
(( next > dropped )) || fail "inbox next $next: the dropped heights up to $dropped are not back"
pass "the batcher re-posted: the inbox holds heights 1..$((next - 1)) exactly once"
stop_node
