#!/usr/bin/env bash
# A follower killed with SIGKILL in the middle of block sync restarts on its
# data directory at a committed height and finishes the sync: same head, same
# state root as the validator.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/p2p.sh"

N=${KILL_SYNC_BLOCKS:-2500}
P=(--p2p 127.0.0.1:0 --p2p-pex off)
p2p_start v "${P[@]}" --datadir "$T_DIR/v" --block-time 2 --empty-blocks-interval 1
wait_height v "$N" 60
p2p_stop v
p2p_start v "${P[@]}" --datadir "$T_DIR/v" --block-time 100
H=$(height_of v)
pass "validator has $H blocks"

# Started by hand, not through p2p_start, so the kill does not wait for
# JSON-RPC: a fraction of a second after the log says it is syncing.
"$OPENLEDGERD" --dev --quiet-accounts --rpc "127.0.0.1:$(free_port)" "${P[@]}" --follower \
  --datadir "$T_DIR/f" --peers "$ADDR_v" >>"$T_DIR/f.log" 2>&1 &
PID_f=$!
T_PIDS+=("$PID_f")
for _ in $(seq 1 1000); do
  grep -q 'syncing' "$T_DIR/f.log" && break
  kill -0 "$PID_f" 2>/dev/null || fail "follower exited at start"
  sleep 0.01
done
sleep "${KILL_SYNC_DELAY:-0.3}"
kill -9 "$PID_f"
wait "$PID_f" 2>/dev/null || true
grep -q 'caught up' "$T_DIR/f.log" && fail "sync finished before the kill: raise KILL_SYNC_BLOCKS"
pass "follower killed with SIGKILL during sync"

p2p_start f "${P[@]}" --follower --datadir "$T_DIR/f" --peers "$ADDR_v"
# The store's head at restart, before any sync (the start log says it).
h0=$(grep 'head at height' "$T_DIR/f.log" | tail -n 1 | sed 's/.*head at height //')
(( h0 > 0 && h0 < H )) || fail "restarted at height $h0: the kill was not during sync"
wait_height f "$H" 60
[[ $(block_of v "$H") == "$(block_of f "$H")" ]] || fail "head differs"
[[ $(block_of v "$h0") == "$(block_of f "$h0")" ]] || fail "block $h0 differs"
pass "restarted at height $h0, finished at $H with the validator's hash and state root"

p2p_stop f
p2p_stop v
