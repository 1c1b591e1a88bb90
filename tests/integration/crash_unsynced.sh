#!/usr/bin/env bash
# Durability with unsynced data dropped: the node runs under a shim
# (tests/fault/unsynced.c) that keeps every unsynced write to its store in
# memory, so SIGKILL loses exactly what a power cut would. After each kill
# the node must restart at a block at least as high as the last one it
# reported committed, with a head that re-hashes (the store checks it on
# open); at the end every block, exported and imported into a fresh store,
# passes validate and apply again. The shim checks itself first.
source "$(dirname "$0")/lib/common.sh"
: "${OL_FAULT_SHIM:?set by ctest}"
ROUNDS=${OL_CRASH_ROUNDS:-6}

# 1. The shim does what it claims: unsynced bytes vanish with the process,
#    synced ones stay.
mkdir -p "$T_DIR/self"
for mode in nosync sync; do
  LD_PRELOAD=$OL_FAULT_SHIM OL_FAULT_DIR="$T_DIR/self" python3 - "$T_DIR/self/$mode" "$mode" <<'PY' || true
import os, signal, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, b"x" * 1000)
if sys.argv[2] == "sync":
    os.fsync(fd)
os.kill(os.getpid(), signal.SIGKILL)
PY
done
[[ $(stat -c %s "$T_DIR/self/nosync") == 0 ]] || fail "the shim let unsynced data through"
[[ $(stat -c %s "$T_DIR/self/sync") == 1000 ]] || fail "the shim lost synced data"
pass "shim: unsynced writes are lost on SIGKILL, synced ones kept"

DATA="$T_DIR/data"
export OPENLEDGER_KEYSTORE="$T_DIR/keys"
height() { jget "$(rpc node_status '[]')" 'j["result"]["height"]'; }
for round in $(seq 1 "$ROUNDS"); do
  # The node alone gets the shim (not curl, the CLI or python).
  T_PORT=$(free_port)
  T_RPC="http://127.0.0.1:$T_PORT"
  LD_PRELOAD=$OL_FAULT_SHIM OL_FAULT_DIR="$DATA/chain" OL_FAULT_VERBOSE=1 ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0:detect_leaks=0" \
    "$OPENLEDGERD" --dev --datadir "$DATA" --rpc "127.0.0.1:$T_PORT" --block-time 20 --quiet-accounts \
    >"$T_DIR/round$round.log" 2>&1 &
  T_NODE_PID=$!
  T_PIDS+=("$T_NODE_PID")
  for _ in $(seq 1 100); do
    rpc node_status '[]' 2>/dev/null | grep -q '"result"' && break
    kill -0 "$T_NODE_PID" 2>/dev/null || fail "round $round: node exited at start"
    sleep 0.1
  done
  # Transfers keep blocks coming while the kill lands at a random moment.
  ( for i in $(seq 1 40); do cli send --from "dev$((i % 4))" --to dev9 --amount 0.001 --no-wait >/dev/null 2>&1 || true; done ) &
  load=$!
  sleep "0.$((RANDOM % 7 + 2))"
  seen=$(height)
  grep -q "unsynced: tracking" "$T_DIR/round$round.log" || fail "round $round: the shim saw no store file"
  kill -9 "$T_NODE_PID"
  wait "$T_NODE_PID" 2>/dev/null || true
  kill "$load" 2>/dev/null || true
  wait "$load" 2>/dev/null || true

  start_node "check$round" --datadir "$DATA" --quiet-accounts
  after=$(height)
  ((after >= seen)) || fail "round $round: node reported height $seen committed, restarted at $after"
  stop_node
  pass "round $round: killed after height $seen was reported, restarted at $after"
done

# Every block the store kept passes validate and apply on a fresh store.
out=$("$OPENLEDGERD" export-blocks --datadir "$DATA" --out "$T_DIR/blocks.bin") || fail "export: $out"
want=$(grep '^exported: head' <<<"$out" | sed 's/^exported: //')
out=$("$OPENLEDGERD" import-blocks --datadir "$T_DIR/fresh" --in "$T_DIR/blocks.bin") || fail "import: $out"
got=$(grep '^imported: head' <<<"$out" | sed 's/^imported: //')
[[ $got == "$want" ]] || fail "re-validated chain differs: '$got' vs '$want'"
pass "every surviving block re-validates ($want)"
