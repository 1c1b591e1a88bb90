#!/usr/bin/env bash
# SIGKILL while blocks are being committed: the node restarts at a committed
# height with a consistent state (proofs verify, total supply is conserved).
source "$(dirname "$0")/lib/common.sh"

DATA="$T_DIR/data"
TOTAL=100000000000000000   # 10 dev accounts x 10^16 base units
ROUNDS=${KILL_ROUNDS:-3}

senders() {
  for s in 0 1 2; do
    ( while :; do
        cli send --from dev$s --to dev$(( (s + 3) % 10 )) --amount 0.001 --no-wait >/dev/null 2>&1 || true
      done ) &
    T_PIDS+=($!)
    SENDER_PIDS+=($!)
  done
}

check_supply() {
  local sum=0 proposer
  proposer=$(jget "$(rpc chain_getBlock '["latest"]')" 'j["result"]["header"]["proposer"]')
  for i in $(seq 0 9); do
    addr=$(cli --json balance dev$i | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')
    b=$(jget "$(rpc account_get "[\"$addr\"]")" 'j["result"]["balance"]')
    sum=$(python3 -c "print($sum + $b)")
  done
  if [[ $proposer != ol1qqqq* ]]; then
    b=$(jget "$(rpc account_get "[\"$proposer\"]")" 'j["result"]["balance"]')
    sum=$(python3 -c "print($sum + $b)")
  fi
  [[ $sum == "$TOTAL" ]] || fail "supply not conserved: $sum != $TOTAL"
}

last=0
for round in $(seq 1 "$ROUNDS"); do
  start_node "round$round" --datadir "$DATA" --block-time 50 --quiet-accounts
  h=$(jget "$(rpc node_status '[]')" 'j["result"]["height"]')
  (( h >= last )) || fail "round $round: restarted at height $h, below committed $last"
  check_supply
  for i in 0 3 9; do
    out=$(cli prove dev$i) || fail "round $round: proof of dev$i failed after restart: $out"
  done
  pass "round $round: restarted at height $h (>= $last), proofs verify, supply conserved"

  SENDER_PIDS=()
  senders
  sleep "1.$((RANDOM % 9))"
  last=$(jget "$(rpc node_status '[]')" 'j["result"]["height"]')
  kill -9 "$T_NODE_PID"
  wait "$T_NODE_PID" 2>/dev/null || true
  kill "${SENDER_PIDS[@]}" 2>/dev/null || true
  wait "${SENDER_PIDS[@]}" 2>/dev/null || true
  echo "round $round: killed at height >= $last"
done

start_node final --datadir "$DATA" --quiet-accounts
h=$(jget "$(rpc node_status '[]')" 'j["result"]["height"]')
(( h >= last )) || fail "final: height $h below committed $last"
(( h > 0 )) || fail "no block was ever committed"
check_supply
pass "final restart at height $h"
stop_node
echo "kill_restart: all passed"
