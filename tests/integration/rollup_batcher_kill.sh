#!/usr/bin/env bash
# The batcher is killed (kill -9 of the node) while it posts, and restarted
# on the same data directory, several times: at the end the inbox holds every
# L2 height exactly once, with no gap (docs/rollup.md, "Batcher").
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/rollup.sh"

DATA="$T_DIR/data"
ROUNDS=${KILL_ROUNDS:-4}
start_anvil
deploy_rollup "$DATA" --finalization-period 3600 --confirmations 1

senders() {
  ( while :; do
      cli send --from dev1 --to dev2 --amount 0.001 --no-wait >/dev/null 2>&1 || true
      sleep 0.05
    done ) &
  SENDER_PID=$!
  T_PIDS+=("$SENDER_PID")
}

for round in $(seq 1 "$ROUNDS"); do
  start_node "round$round" --datadir "$DATA" --quiet-accounts --p2p off --block-time 100 --l1 "$L1_URL" \
    --rollup-config "$ROLLUP_CFG" --batch-max-blocks 4 --batch-max-delay 300
  senders
  wait_status 's["l1"]["batcher"]["batches"] >= 2' 60 "round $round: two batches posted"
  sleep "0.$((RANDOM % 9))"
  kill -9 "$T_NODE_PID"
  wait "$T_NODE_PID" 2>/dev/null || true
  kill "$SENDER_PID" 2>/dev/null || true
  wait "$SENDER_PID" 2>/dev/null || true
  pass "round $round: killed while posting"
done

# The last run catches up with the chain and posts everything.
start_node final --datadir "$DATA" --quiet-accounts --p2p off --block-time 100 --l1 "$L1_URL" \
  --rollup-config "$ROLLUP_CFG" --batch-max-blocks 4 --batch-max-delay 300
height=$(status 's["height"]')
wait_status "s['l1']['batcher']['posted'] >= $height" 120 "posted up to $height"
next=$(inbox_check) || fail "inbox: $next"
(( next > height )) || fail "inbox next $next, chain height $height"
pass "after $ROUNDS kills the inbox holds heights 1..$((next - 1)) exactly once, no gap"
stop_node
