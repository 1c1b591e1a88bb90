# Helpers for the rollup's integration tests: anvil as the L1 on a free
# loopback port, the contracts deployed from a node's L1 account, and a node
# posting to them. Source after common.sh; anvil is killed with the nodes.

: "${OL_ANVIL:?set by ctest}"
[[ -x "$OL_ANVIL" ]] || { echo "SKIP: no anvil at $OL_ANVIL (scripts/deps.sh installs it)"; exit 0; }

# Selectors and topics (keccak256 of the signatures; docs/rollup.md).
SEL_GET_OUTPUT=ded69860        # getOutput(uint64)
SEL_LATEST_OUTPUT=80e01510     # latestOutputHeight()
TOPIC_BATCH_POSTED=0x530142daefa0f801478973eb3a0c513b013383d4ed920de33e790f764b43dbf7

# start_anvil [args...]: anvil on a free port, a block every second.
start_anvil() {
  L1_PORT=$(free_port)
  L1_URL="http://127.0.0.1:$L1_PORT"
  "$OL_ANVIL" -q --host 127.0.0.1 --port "$L1_PORT" --chain-id 31337 --block-time 1 "$@" \
    >"$T_DIR/anvil.log" 2>&1 &
  ANVIL_PID=$!
  T_PIDS+=("$ANVIL_PID")
  for _ in $(seq 1 100); do
    l1 eth_chainId '[]' 2>/dev/null | grep -q result && return 0
    kill -0 "$ANVIL_PID" 2>/dev/null || fail "anvil exited at start"
    sleep 0.1
  done
  fail "anvil did not answer on $L1_URL"
}

# l1 METHOD PARAMS_JSON: a JSON-RPC call to anvil, the full answer.
l1() {
  curl -s --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$L1_URL"
}
l1_result() { jget "$(l1 "$1" "$2")" 'j["result"]'; }

# deploy_rollup DATADIR [rollup-deploy args...]: funds DATADIR's L1 account
# and deploys; ROLLUP_CFG is the config written.
deploy_rollup() {
  local dir=$1; shift
  mkdir -p "$dir"
  L1_ADDR=$("$OPENLEDGERD" l1-address --datadir "$dir" 2>/dev/null) || fail "l1-address"
  l1 anvil_setBalance "[\"$L1_ADDR\",\"0x3635c9adc5dea00000\"]" | grep -q result || fail "anvil_setBalance"
  ROLLUP_CFG="$dir/rollup.json"
  "$OPENLEDGERD" rollup-deploy --l1 "$L1_URL" --datadir "$dir" --out "$ROLLUP_CFG" "$@" \
    >"$T_DIR/deploy.log" 2>&1 || fail "rollup-deploy: $(cat "$T_DIR/deploy.log")"
  INBOX=$(jget "$(cat "$ROLLUP_CFG")" 'j["batchInbox"]')
  ORACLE=$(jget "$(cat "$ROLLUP_CFG")" 'j["outputOracle"]')
}

# status EXPR: a python expression on node_status's result `s`.
status() { jget "$(rpc node_status '[]')" "(lambda s: $1)(j['result'])"; }

# wait_status EXPR SECONDS WHAT: until EXPR is True.
wait_status() {
  local i
  for i in $(seq 1 $(($2 * 2))); do
    [[ $(status "$1" 2>/dev/null) == True ]] && return 0
    kill -0 "$T_NODE_PID" 2>/dev/null || fail "node exited while waiting for $3"
    sleep 0.5
  done
  fail "$3: not after $2 s ($(rpc node_status '[]'))"
}

# inbox_check [gaps]: runs `openledgerd l1-inbox` and checks that, in L1
# order, every decoded batch starts exactly at the next height: each L2
# height once from 1, no gap. With "gaps", a batch starting above the next
# height is allowed (derivation ignores it; the batch in flight when the L1
# reorganised lands there) and its heights must come again. Prints the first
# height the L1 lacks, and writes the count of ignored batches to
# $T_DIR/ignored.
inbox_check() {
  "$OPENLEDGERD" l1-inbox --l1 "$L1_URL" --rollup-config "$ROLLUP_CFG" >"$T_DIR/inbox.txt" ||
    fail "l1-inbox: $(cat "$T_DIR/inbox.txt")"
  python3 - "$T_DIR/inbox.txt" "${1:-}" "$T_DIR/ignored" <<'PY'
import sys
nxt, seen, ignored = 1, {}, 0
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == "batch":
        first, last = int(w[1]), int(w[2])
        if first > nxt and sys.argv[2] == "gaps":
            ignored += 1
            continue
        if first != nxt:
            sys.exit("batch %d..%d in L1 block %s after height %d" % (first, last, w[3], nxt - 1))
        for h in range(first, last + 1):
            if h in seen:
                sys.exit("height %d twice: L1 blocks %s and %s" % (h, seen[h], w[3]))
            seen[h] = w[3]
        nxt = last + 1
    elif w[0] == "next" and int(w[1]) != nxt:
        sys.exit("l1-inbox says next %s, the lines %d" % (w[1], nxt))
open(sys.argv[3], "w").write(str(ignored))
print(nxt)
PY
}
