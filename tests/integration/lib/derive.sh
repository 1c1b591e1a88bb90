# shellcheck shell=bash
# Helpers of the derivation tests (rollup_derive*.sh, rollup_corrupt_batch.sh):
# anvil as the L1, the contracts deployed by tests/tools/rollup_post, an L2
# devnet, and a node deriving from the L1. Source after lib/common.sh; every
# process started here is in T_PIDS, killed on exit also on failure.

: "${OL_ANVIL:?set by ctest}"
: "${OL_BUILD_DIR:?set by ctest}"
POST=$OL_BUILD_DIR/rollup_post
[[ -x $POST ]] || fail "$POST is not built (cmake --build ... -t rollup_post)"
# anvil's first development account: deployer and batcher of these tests.
L1_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80

# rpc_at URL METHOD PARAMS_JSON -> the full JSON response
rpc_at() {
  curl -s --max-time 20 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$1"
}

start_anvil() {
  local port
  port=$(free_port)
  T_L1=http://127.0.0.1:$port
  "$OL_ANVIL" -q --host 127.0.0.1 --port "$port" --chain-id 31337 >"$T_DIR/anvil.log" 2>&1 &
  T_PIDS+=("$!")
  for _ in $(seq 1 100); do
    rpc_at "$T_L1" eth_chainId '[]' 2>/dev/null | grep -q '"result"' && return 0
    sleep 0.1
  done
  fail "anvil did not start on $T_L1"
}

# mine N: N more L1 blocks.
mine() { rpc_at "$T_L1" anvil_mine "[\"0x$(printf %x "$1")\"]" >/dev/null; }

# deploy ARGS...: BatchInbox and OutputOracle for the devnet genesis, the
# config in $T_DIR/rollup.json.
deploy() {
  "$POST" deploy --l1 "$T_L1" --key "$L1_KEY" --out "$T_DIR/rollup.json" "$@" \
    >"$T_DIR/deploy.out" 2>&1 || { cat "$T_DIR/deploy.out"; fail "deploy"; }
}

# start_at NAME ARGS...: openledgerd on a free port; sets R_URL and R_PID.
start_at() {
  local name=$1 port
  shift
  port=$(free_port)
  R_URL=http://127.0.0.1:$port
  "$OPENLEDGERD" --rpc "127.0.0.1:$port" --quiet-accounts "$@" >"$T_DIR/$name.log" 2>&1 &
  R_PID=$!
  T_PIDS+=("$R_PID")
  for _ in $(seq 1 200); do
    rpc_at "$R_URL" node_status '[]' 2>/dev/null | grep -q '"result"' && return 0
    kill -0 "$R_PID" 2>/dev/null || fail "$name exited at start"
    sleep 0.1
  done
  fail "$name did not answer on $R_URL"
}

# start_deriver NAME [ARGS...]: a node deriving from the L1 (devnet genesis).
start_deriver() {
  local name=$1
  shift
  start_at "$name" --dev --derive-from-l1 "$T_L1" --rollup-config "${ROLLUP_CFG:-$T_DIR/rollup.json}" "$@"
  # shellcheck disable=SC2034 # read by the tests that source this file
  D_URL=$R_URL
  # shellcheck disable=SC2034
  D_PID=$R_PID
}

# status URL EXPR: evaluates EXPR on node_status's result `r`.
status() {
  rpc_at "$1" node_status '[]' |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(eval(sys.argv[1]))' "$2"
}

# wait_for URL EXPR SECONDS WHAT: until EXPR (on node_status's result r) is True.
wait_for() {
  local i
  for ((i = 0; i < $3 * 5; i++)); do
    [[ $(status "$1" "$2" 2>/dev/null) == True ]] && return 0
    sleep 0.2
  done
  echo "last node_status: $(rpc_at "$1" node_status '[]')" >&2
  fail "$4: not within $3 s"
}

# header URL HEIGHT: "hash stateRoot" of block HEIGHT. The block comes on
# stdin: with its transactions it can pass the 128 KiB limit of one argument.
header() {
  rpc_at "$1" chain_getBlock "[$2]" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(r["hash"], r["header"]["stateRoot"])'
}

# stop_pid PID: SIGTERM, a clean exit expected.
stop_pid() {
  local st=0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || st=$?
  [[ $st -eq 0 ]] || fail "process $1 exited with status $st on SIGTERM"
}
