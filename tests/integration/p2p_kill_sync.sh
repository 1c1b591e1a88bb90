#!/usr/bin/env bash
# A follower killed with SIGKILL in the middle of block sync restarts on its
# data directory at a committed height and finishes the sync: same head, same
# state root as the validator.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/p2p.sh"

N=${KILL_SYNC_BLOCKS:-1500}
P=(--p2p 127.0.0.1:0 --p2p-pex off)
p2p_start v "${P[@]}" --datadir "$T_DIR/v" --block-time 2 --empty-blocks-interval 1
wait_height v "$N" 60
p2p_stop v
p2p_start v "${P[@]}" --datadir "$T_DIR/v" --block-time 100
H=$(height_of v)
pass "validator has $H blocks"

p2p_start f "${P[@]}" --follower --datadir "$T_DIR/f" --peers "$ADDR_v"
killed=0
for _ in $(seq 1 600); do
  h=$(height_of f 2>/dev/null || echo 0)
  if (( h >= 50 && h < H - 100 )); then
    kill -9 "$PID_f"
    wait "$PID_f" 2>/dev/null || true
    killed=$h
    break
  fi
  (( h >= H - 100 )) && fail "sync finished before the kill (height $h): raise KILL_SYNC_BLOCKS"
  sleep 0.02
done
(( killed > 0 )) || fail "follower never started syncing"
pass "follower killed with SIGKILL at height $killed or above, of $H"

p2p_start f "${P[@]}" --follower --datadir "$T_DIR/f" --peers "$ADDR_v"
# The store's head at restart, before any sync (the start log says it).
h0=$(grep 'head at height' "$T_DIR/f.log" | tail -n 1 | sed 's/.*head at height //')
(( h0 >= killed && h0 < H )) || fail "restarted at height $h0 (killed at $killed)"
wait_height f "$H" 60
[[ $(block_of v "$H") == "$(block_of f "$H")" ]] || fail "head differs"
[[ $(block_of v "$h0") == "$(block_of f "$h0")" ]] || fail "block $h0 differs"
pass "restarted at height $h0, finished at $H with the validator's hash and state root"

p2p_stop f
p2p_stop v
