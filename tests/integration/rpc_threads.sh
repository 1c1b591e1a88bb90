#!/usr/bin/env bash
# openledgerd --rpc-threads 2: HTTP JSON-RPC served by two loops. Many
# concurrent clients while blocks are produced and a transfer lands; GET
# routes on every loop; WebSocket subscribers (whichever loop accepted them,
# with the subscribe frame sent in the same packet as the upgrade request)
# still receive block notifications; SIGTERM stops every loop cleanly.
source "$(dirname "$0")/lib/common.sh"

start_node mt --block-time 200 --empty-blocks-interval 200 --rpc-threads 2 --quiet-accounts \
  --log-level debug
grep -q "served by 2 loops" "$T_DIR/mt.log" || fail "no worker loop started"

# --- WebSocket subscribers, started first so they see the blocks -----------------
cat >"$T_DIR/ws.py" <<'PY'
import base64, json, os, socket, struct, sys
port, want = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=20)
def frame(text):
    b = text.encode(); m = os.urandom(4)
    hdr = bytes([0x81]) + (bytes([0x80 | len(b)]) if len(b) < 126 else bytes([0x80 | 126]) + struct.pack(">H", len(b)))
    return hdr + m + bytes(c ^ m[i % 4] for i, c in enumerate(b))
key = base64.b64encode(os.urandom(16)).decode()
req = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode()
# The subscription rides in the same write as the handshake: the loop that
# reads it must pass the already-read bytes on with the socket.
s.sendall(req + frame('{"jsonrpc":"2.0","id":1,"method":"subscribe_newBlocks","params":[]}'))
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d: sys.exit("closed during handshake")
    buf += d
head, buf = buf.split(b"\r\n\r\n", 1)
if b" 101 " not in head.split(b"\r\n")[0]: sys.exit("no 101: %r" % head)
def recv_exact(n):
    global buf
    while len(buf) < n:
        d = s.recv(65536)
        if not d: sys.exit("closed")
        buf += d
    r, buf = buf[:n], buf[n:]
    return r
got, subscribed = 0, False
while got < want:
    b0, b1 = recv_exact(2)
    n = b1 & 0x7f
    if n == 126: n = struct.unpack(">H", recv_exact(2))[0]
    elif n == 127: n = struct.unpack(">Q", recv_exact(8))[0]
    payload = recv_exact(n)
    if b0 & 0x0f != 1: continue
    j = json.loads(payload)
    if j.get("id") == 1:
        if "result" not in j: sys.exit("subscribe failed: %r" % j)
        subscribed = True
    elif j.get("method") == "subscription":
        got += 1
if not subscribed: sys.exit("no subscribe reply")
print("ok", got)
PY
WS_PIDS=()
for i in 1 2 3 4 5 6 7 8; do
  python3 "$T_DIR/ws.py" "$T_PORT" 3 >"$T_DIR/ws$i.out" 2>&1 &
  WS_PIDS+=($!)
  T_PIDS+=($!)
done

# --- concurrent HTTP clients while blocks are produced -----------------------------
cat >"$T_DIR/load.py" <<'PY'
import http.client, json, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
for i in range(n):
    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "node_status", "params": []},
                       {"jsonrpc": "2.0", "id": -i, "method": "mempool_status", "params": []}])
    c.request("POST", "/", body, {"Content-Type": "application/json"})
    r = c.getresponse(); j = json.loads(r.read())
    if r.status != 200 or len(j) != 2 or any("result" not in e for e in j): sys.exit("bad reply %r" % j)
    if i % 50 == 0:
        c.request("GET", "/health"); r = c.getresponse(); r.read()
        if r.status != 200: sys.exit("health %d" % r.status)
print("ok")
PY
LOAD_PIDS=()
for i in 1 2 3 4; do
  python3 "$T_DIR/load.py" "$T_PORT" 400 >"$T_DIR/load$i.out" 2>&1 &
  LOAD_PIDS+=($!)
  T_PIDS+=($!)
done
# New connections each time: curl spreads over both listeners.
CURL_FAIL=0
for i in $(seq 1 60); do
  rpc node_status '[]' | grep -q '"result"' || CURL_FAIL=1
  curl -sf -o /dev/null "$T_RPC/metrics" || CURL_FAIL=1
  curl -sf "$T_RPC/" | grep -qi '<html' || CURL_FAIL=1
done &
CPID=$!
T_PIDS+=($CPID)
H=$(cli send --from dev0 --to dev1 --amount 2 | awk '/^hash:/ {print $2}')
[[ -n "$H" ]] || fail "transfer did not print a hash"
out=$(rpc chain_getReceipt "[\"$H\"]")
[[ $(jget "$out" 'j["result"]["status"]') == success ]] || fail "receipt: $out"
pass "transfer $H committed under load"

for p in "${LOAD_PIDS[@]}"; do wait "$p" || fail "load client: $(cat "$T_DIR"/load*.out)"; done
wait "$CPID" || fail "curl clients failed"
pass "4 keep-alive clients x 400 batches and 180 curl requests answered"

for i in "${!WS_PIDS[@]}"; do
  wait "${WS_PIDS[$i]}" || fail "WebSocket client $((i + 1)): $(cat "$T_DIR/ws$((i + 1)).out")"
done
handed=$(grep -c "handed to the main loop" "$T_DIR/mt.log" || true)
pass "8 WebSocket subscribers received block notifications ($handed handed over by the worker)"

h=$(rpc node_status '[]')
[[ $(jget "$h" 'j["result"]["height"] >= 3') == True ]] || fail "height: $h"
stop_node
grep -q "signal 15" "$T_DIR/mt.log" || fail "no shutdown log"
pass "SIGTERM: clean exit with 2 loops"
