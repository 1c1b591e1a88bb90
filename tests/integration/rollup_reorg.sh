#!/usr/bin/env bash
# An L1 reorganisation drops batches (evm_snapshot / evm_revert on anvil):
# the batcher sees it and posts the dropped heights again. In L1 order the
# inbox then holds every L2 height once from 1, except batches above the gap
# the reorganisation left (the one in flight), which derivation ignores and
# whose heights come again (docs/rollup.md, "Batcher").
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
# The batcher's own view can run ahead of the rescan: watch the L1 itself.
for _ in $(seq 1 90); do
  next=$(inbox_check gaps) || fail "inbox: $next"
  (( next > dropped + 5 )) && break
  sleep 1
done
(( next > dropped + 5 )) || fail "inbox next $next: the dropped heights up to $dropped are not back"
ignored=$(cat "$T_DIR/ignored")
(( ignored <= 1 )) || fail "$ignored batches above the gap: only the one in flight may be"
pass "the batcher re-posted: heights 1..$((next - 1)) on L1 in order ($ignored batch above the gap ignored)"

# The proposer follows the oracle back and posts the dropped outputs again.
wait_status "s['l1']['proposer']['posted'] >= $dropped" 60 "outputs posted again up to $dropped"
pass "outputs posted again up to $(status 's["l1"]["proposer"]["posted"]')"
stop_node
