# Helpers for peer-to-peer tests: several openledgerd processes on
# 127.0.0.1, each with a free JSON-RPC port and a peer-to-peer port the
# kernel picks (--p2p 127.0.0.1:0, read back from node_status). Source
# after lib/common.sh; its trap stops every process.

# p2p_start NAME [args...]: starts openledgerd --dev (add --follower etc.),
# waits for JSON-RPC; sets RPC_NAME, PID_NAME, ID_NAME (node id) and
# ADDR_NAME (ID@127.0.0.1:PORT, for --peers).
p2p_start() {
  local name=$1; shift
  local port; port=$(free_port)
  "$OPENLEDGERD" --dev --quiet-accounts --rpc "127.0.0.1:$port" "$@" >>"$T_DIR/$name.log" 2>&1 &
  local pid=$!
  T_PIDS+=("$pid")
  printf -v "PID_$name" %s "$pid"
  printf -v "RPC_$name" %s "http://127.0.0.1:$port"
  local st=""
  for _ in $(seq 1 150); do
    st=$(rpcn "$name" node_status '[]' 2>/dev/null || true)
    if grep -q '"result"' <<<"$st"; then break; fi
    kill -0 "$pid" 2>/dev/null || fail "node $name exited at start"
    sleep 0.1
  done
  grep -q '"result"' <<<"$st" || fail "node $name did not answer"
  printf -v "ID_$name" %s "$(jget "$st" 'j["result"]["nodeId"]')"
  local listen; listen=$(jget "$st" 'j["result"]["p2pListen"]')
  printf -v "ADDR_$name" %s "$(jget "$st" 'j["result"]["nodeId"]')@$listen"
}

# rpcn NAME METHOD PARAMS_JSON
rpcn() {
  local url="RPC_$1"
  curl -s --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "${!url}"
}

height_of() { jget "$(rpcn "$1" node_status '[]')" 'j["result"]["height"]'; }

# wait_height NAME H SECONDS: until NAME's head is at least H.
wait_height() {
  local h=0
  for _ in $(seq 1 $(( $3 * 10 ))); do
    h=$(height_of "$1" 2>/dev/null || echo 0)
    (( h >= $2 )) && return 0
    sleep 0.1
  done
  fail "$1 at height $h, not $2 within $3 s"
}

# p2p_stop NAME: SIGTERM, and the node must exit 0 (LeakSanitizer checks then).
p2p_stop() {
  local pid="PID_$1" st=0
  kill -TERM "${!pid}" 2>/dev/null || true
  wait "${!pid}" 2>/dev/null || st=$?
  [[ $st -eq 0 ]] || fail "node $1 exited with status $st on SIGTERM"
}

# head_of NAME H: "hash stateRoot" of block H.
block_of() {
  jget "$(rpcn "$1" chain_getBlock "[$2]")" 'j["result"]["hash"] + " " + j["result"]["header"]["stateRoot"]'
}
