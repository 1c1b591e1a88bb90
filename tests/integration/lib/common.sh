# Helpers for integration tests: real openledgerd processes on loopback.
# Each test sources this file; everything it starts is killed on exit.
set -euo pipefail

: "${OPENLEDGERD:?set by ctest}"
: "${OPENLEDGER_CLI:?set by ctest}"

T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ol-itest-XXXXXX")
T_PIDS=()

t_cleanup() {
  local rc=$?
  for p in "${T_PIDS[@]:-}"; do
    [[ -n "$p" ]] && kill -9 "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  # A sanitizer report in any node's log fails the test, even when every
  # check passed: the nodes run the ASan+UBSan build in `make test`.
  if [[ $rc -eq 0 ]] && grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T_DIR"/*.log 2>/dev/null; then
    echo "FAIL: sanitizer report in a node log" >&2
    rc=1
  fi
  if [[ $rc -ne 0 ]]; then
    for f in "$T_DIR"/*.log; do
      [[ -f "$f" ]] || continue
      echo "---- $f (last 40 lines)"; tail -n 40 "$f"
    done
  fi
  rm -rf "$T_DIR"
  exit $rc
}
trap t_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# rpc METHOD PARAMS_JSON -> prints the full JSON response
rpc() {
  curl -s --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$T_RPC"
}

# jget JSON EXPR: evaluates a python expression on the parsed JSON `j`
jget() {
  python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# start_node NAME [args...]: starts openledgerd --dev on a free port, waits for RPC.
start_node() {
  local name=$1; shift
  T_PORT=$(free_port)
  T_RPC="http://127.0.0.1:$T_PORT"
  "$OPENLEDGERD" --dev --rpc "127.0.0.1:$T_PORT" "$@" >"$T_DIR/$name.log" 2>&1 &
  T_NODE_PID=$!
  T_PIDS+=("$T_NODE_PID")
  for _ in $(seq 1 100); do
    if rpc node_status '[]' 2>/dev/null | grep -q '"result"'; then return 0; fi
    kill -0 "$T_NODE_PID" 2>/dev/null || fail "node $name exited at start"
    sleep 0.1
  done
  fail "node $name did not answer on $T_RPC"
}

# Stops the node with SIGTERM; it must shut down cleanly (exit 0), which is
# also when LeakSanitizer checks it.
stop_node() {
  local st=0
  kill -TERM "$T_NODE_PID" 2>/dev/null || true
  wait "$T_NODE_PID" 2>/dev/null || st=$?
  [[ $st -eq 0 ]] || fail "node exited with status $st on SIGTERM"
}

cli() { "$OPENLEDGER_CLI" --rpc "$T_RPC" "$@"; }
