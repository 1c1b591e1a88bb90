#!/usr/bin/env bash
# The JSON-RPC service of a real node: /health, /metrics, CORS, the CLI's
# generic `rpc` and `methods` commands and `watch` over WebSocket, the new
# chain methods after real transfers, admin rights by bind and token, the
# per-address rate limit and the connection cap.
source "$(dirname "$0")/lib/common.sh"

ORIGIN=https://explorer.example
start_node svc --block-time 200 --rpc-cors "$ORIGIN" --rpc-rate-limit 20 --rpc-max-conns 64

# --- health and metrics -------------------------------------------------
h=$(curl -s "$T_RPC/health")
code=$(curl -s -o /dev/null -w '%{http_code}' "$T_RPC/health")
[[ "$code" == 200 && $(jget "$h" 'j["status"]') == ok ]] || fail "health: $code $h"
pass "GET /health: $code $h"
ct=$(curl -s -o /dev/null -w '%{content_type}' "$T_RPC/metrics")
[[ "$ct" == "text/plain; version=0.0.4; charset=utf-8" ]] || fail "metrics content type: $ct"

# --- CORS -----------------------------------------------------------------
pre=$(curl -s -i -X OPTIONS -H "Origin: $ORIGIN" -H 'Access-Control-Request-Method: POST' \
  -H 'Access-Control-Request-Headers: content-type' "$T_RPC/" | tr -d '\r')
grep -q "^Access-Control-Allow-Origin: $ORIGIN$" <<<"$pre" || fail "preflight: $pre"
grep -q '^Access-Control-Allow-Headers: Content-Type, Authorization$' <<<"$pre" || fail "preflight headers"
got=$(curl -s -i -H "Origin: $ORIGIN" -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"node_status"}' "$T_RPC/" | tr -d '\r')
grep -q "^Access-Control-Allow-Origin: $ORIGIN$" <<<"$got" || fail "CORS header on POST"
pass "CORS for $ORIGIN"

# --- the CLI speaks every method ---------------------------------------------
out=$(cli rpc node_status)
[[ $(jget "$out" 'j["chainId"]') == openledger-devnet ]] || fail "cli rpc node_status: $out"
methods=$(cli methods)
for m in node_status chain_getBlockRange chain_getReceipt tx_list tx_estimateGas mempool_status \
  node_peers chain_getGenesis subscribe_newBlocks subscribe_events unsubscribe rpc_discover \
  admin_mempoolFlush; do
  grep -q "^$m " <<<"$methods" || fail "methods lacks $m"
done
n_methods=$(cli --json methods | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["methods"]))')
pass "cli methods lists $n_methods methods"
[[ $(cli rpc node_peers) == "[]" ]] || fail "node_peers"

# --- watch over WebSocket while transfers land ---------------------------------
WATCH_OUT="$T_DIR/watch.out"
ws=1
if ! cli watch 1 --json >"$WATCH_OUT" 2>&1 & then :; fi
WPID=$!
T_PIDS+=("$WPID")
sleep 0.5
if grep -q "without WebSocket support" "$WATCH_OUT"; then
  ws=0
  echo "SKIP: this openledger-cli has no WebSocket support linked (cli must link wslay)"
fi
H1=$(cli send --from dev0 --to dev1 --amount 1.5 --no-wait | awk '/^hash:/ {print $2}')
H2=$(cli send --from dev1 --to dev2 --amount 0.25 | awk '/^hash:/ {print $2}')
[[ -n "$H1" && -n "$H2" ]] || fail "sends did not print hashes"
if [[ $ws == 1 ]]; then
  for _ in $(seq 1 100); do kill -0 "$WPID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$WPID" 2>/dev/null && fail "watch did not see a block"
  wait "$WPID" || fail "watch failed: $(cat "$WATCH_OUT")"
  [[ $(jget "$(tail -n1 "$WATCH_OUT")" 'j["height"] >= 1') == True ]] || fail "watch: $(cat "$WATCH_OUT")"
  line=$(cli watch 1 </dev/null 2>&1 & sleep 0.4; cli send --from dev3 --to dev4 --amount 1 >/dev/null; wait)
  grep -qE '^#[0-9]+  0x[0-9a-f]{8}\.\.[0-9a-f]{4}  [0-9]+ txs?  gas [0-9]+  ' <<<"$line" ||
    fail "watch line: $line"
  pass "watch: $(grep '^#' <<<"$line")"
fi

# --- the chain methods after real transfers ------------------------------------
DEV1=$(cli key show dev1 | awk '/^address:/ {print $2}')
out=$(cli rpc chain_getReceipt "$H2")
[[ $(jget "$out" 'j["status"]') == success ]] || fail "receipt: $out"
out=$(cli rpc tx_list "$DEV1")
[[ $(jget "$out" 'len(j["txs"])') == 2 ]] || fail "tx_list dev1: $out"
[[ $(jget "$out" 'j["txs"][0]["hash"]') == "$H2" ]] || fail "tx_list order: $out"
out=$(cli rpc tx_list "$DEV1" null 1)
cursor=$(jget "$out" 'j["nextCursor"]')
out=$(cli rpc tx_list "$DEV1" "$cursor" 1)
[[ $(jget "$out" 'j["txs"][0]["hash"]') == "$H1" ]] || fail "tx_list page 2: $out"
out=$(cli rpc chain_getBlockRange latest 5 desc)
[[ $(jget "$out" 'len(j["blocks"]) >= 2') == True ]] || fail "block range: $out"
out=$(cli rpc mempool_status)
[[ $(jget "$out" 'j["count"]') == 0 ]] || fail "mempool_status: $out"
pass "tx_list, chain_getReceipt, chain_getBlockRange, mempool_status"

metrics=$(curl -s "$T_RPC/metrics")
for want in 'openledger_txs_committed_total [2-9]' 'openledger_rpc_requests_total\{method="tx_send"\} [2-9]' \
  '^openledger_chain_height [1-9]' 'openledger_block_commit_seconds_count [1-9]' \
  'openledger_leveldb_write_bytes_total [1-9]'; do
  grep -qE "$want" <<<"$metrics" || fail "metrics lack $want"
done
pass "metrics after activity"

# --- admin on a loopback bind --------------------------------------------------
out=$(cli rpc admin_setLogLevel info)
[[ $(jget "$out" 'j["level"]') == info ]] || fail "admin on loopback: $out"
out=$(curl -s -H 'Origin: https://evil.example' -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"admin_mempoolFlush","params":[]}' "$T_RPC/")
[[ $(jget "$out" 'j["error"]["code"]') == -32004 ]] || fail "admin from a foreign page: $out"
# a page's form or text/plain post (no CORS preflight) is refused outright
st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Origin: https://evil.example' -H 'Content-Type: text/plain' -d '{"jsonrpc":"2.0","id":1,"method":"admin_mempoolFlush","params":[]}' "$T_RPC/")
[[ "$st" == 415 ]] || fail "simple cross-origin POST: HTTP $st"
st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Origin: https://a.example' -H 'Origin: https://b.example' -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"node_status","params":[]}' "$T_RPC/")
[[ "$st" == 403 ]] || fail "two Origin headers: HTTP $st"
pass "admin: loopback yes, foreign Origin no; simple cross-origin POST 415, two Origins 403"

# --- per-address rate limit ----------------------------------------------------
res=$(python3 - "$T_PORT" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
codes = []
for i in range(60):
    c.request("POST", "/", body='{"jsonrpc":"2.0","id":1,"method":"node_status"}')
    r = c.getresponse(); r.read(); codes.append(r.status)
print(codes.count(200), codes.count(429))
EOF
)
read -r ok limited <<<"$res"
(( ok >= 20 && limited >= 10 )) || fail "rate limit: $ok served, $limited refused"
pass "rate limit: $ok served, $limited refused (HTTP 429) on one connection"
stop_node

# --- a public bind: admin off without a token, on with it -----------------------------
start_public() {
  local name=$1; shift
  T_PORT=$(free_port)
  T_RPC="http://127.0.0.1:$T_PORT"
  "$OPENLEDGERD" --dev --quiet-accounts --rpc "0.0.0.0:$T_PORT" "$@" >"$T_DIR/$name.log" 2>&1 &
  T_NODE_PID=$!
  T_PIDS+=("$T_NODE_PID")
  for _ in $(seq 1 100); do
    rpc node_status '[]' 2>/dev/null | grep -q '"result"' && return 0
    sleep 0.1
  done
  fail "node $name did not start"
}
admin_code() { # prints the error code, or "ok"
  local out
  out=$(curl -s "$@" -d '{"jsonrpc":"2.0","id":1,"method":"admin_setLogLevel","params":["info"]}' "$T_RPC/")
  jget "$out" '"ok" if "result" in j else j["error"]["code"]'
}
start_public open --rpc-max-conns 3
[[ $(admin_code) == -32004 ]] || fail "public bind without token allowed admin"
grep -q "admin methods are disabled" "$T_DIR/open.log" || fail "no warning for a public bind"
res=$(python3 - "$T_PORT" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
time.sleep(0.2)
x = socket.create_connection(("127.0.0.1", port)); x.settimeout(5)
data = b""
try:
    while True:
        b = x.recv(4096)
        if not b: break
        data += b
except Exception:
    pass
print(data.split(b"\r\n")[0].decode() or "closed")
EOF
)
[[ "$res" == "HTTP/1.1 503 Service Unavailable" || "$res" == closed ]] || fail "max conns: $res"
pass "public bind: admin off without a token; 4th connection over --rpc-max-conns 3: $res"
stop_node

echo -n 's3cret_T0ken' >"$T_DIR/token"
start_public tok --rpc-auth-token-file "$T_DIR/token"
[[ $(admin_code) == -32004 ]] || fail "token node: admin without header"
[[ $(admin_code -H 'Authorization: Bearer wrong') == -32004 ]] || fail "token node: wrong token"
[[ $(admin_code -H 'Authorization: Bearer s3cret_T0ken') == ok ]] || fail "token node: right token refused"
pass "public bind with --rpc-auth-token-file: admin only with the bearer token"
stop_node
