#!/usr/bin/env bash
# openledger-cli against a node behind a TLS terminator, as docs/rpc-protocol.md
# recommends for a public node: a small Python proxy started here terminates
# TLS on 127.0.0.1 with a self-signed certificate made here, and forwards to
# the node's plain HTTP port. The CLI works with --cacert, refuses without it
# (or with the wrong CA, or a certificate for another host) with a clear
# message, and keeps one connection alive across a command's requests.
# `watch` follows blocks over wss:// through the same terminator.
source "$(dirname "$0")/lib/common.sh"

# Proxies from the machine's environment are never used for loopback, but
# keep the test independent of them anyway.
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

command -v openssl >/dev/null || fail "openssl is needed to make the test certificates"

start_node tls --block-time 200

# --- certificates ----------------------------------------------------------------
# cert.pem: for localhost and 127.0.0.1; other.pem: for another host only.
mkcert() { # NAME SUBJECT_ALT_NAME
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=${2#*:}" -addext "subjectAltName=$2" \
    -keyout "$T_DIR/$1.key" -out "$T_DIR/$1.pem" 2>"$T_DIR/openssl.log" \
    || fail "openssl req failed: $(cat "$T_DIR/openssl.log")"
}
mkcert cert "DNS:localhost,IP:127.0.0.1"
mkcert other "DNS:other.example"

# --- the TLS terminator ---------------------------------------------------------
# One listener per certificate, each on a free port written to a file; every
# TLS connection is logged, then forwarded to the node. It stops by itself
# after its time limit (and is killed when the test exits).
cat >"$T_DIR/tlsproxy.py" <<'EOF'
import os, select, socket, ssl, sys, threading, time

backend, log_path, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
log = open(log_path, "a", buffering=1)
lock = threading.Lock()

def note(msg):
    with lock:
        log.write(msg + "\n")

def relay(name, conn, ctx):
    try:
        conn.settimeout(10)
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        note(f"{name} handshake failed: {e}")
        conn.close()
        return
    note(f"{name} connection")
    up = socket.create_connection(("127.0.0.1", backend), timeout=10)
    tls.settimeout(None)
    up.settimeout(None)
    try:
        while True:
            ready, _, _ = select.select([tls, up], [], [], 30)
            if not ready:
                return
            for s in ready:
                other = up if s is tls else tls
                try:
                    data = s.recv(65536)
                except ssl.SSLWantReadError:
                    continue
                if not data:
                    return
                other.sendall(data)
                while s is tls and tls.pending():
                    data = tls.recv(65536)
                    if not data:
                        return
                    up.sendall(data)
    except OSError:
        return
    finally:
        tls.close()
        up.close()

listeners = {}
for spec in sys.argv[4:]:
    name, cert, key, port_file = spec.split(",")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    listeners[ls] = (name, ctx)

end = time.time() + limit
while time.time() < end:
    ready, _, _ = select.select(list(listeners), [], [], 0.5)
    for ls in ready:
        conn, _ = ls.accept()
        name, ctx = listeners[ls]
        threading.Thread(target=relay, args=(name, conn, ctx), daemon=True).start()
EOF
PROXY_LOG="$T_DIR/tlsproxy.log"
: >"$PROXY_LOG"
python3 "$T_DIR/tlsproxy.py" "$T_PORT" "$PROXY_LOG" 300 \
  "good,$T_DIR/cert.pem,$T_DIR/cert.key,$T_DIR/good.port" \
  "other,$T_DIR/other.pem,$T_DIR/other.key,$T_DIR/other.port" >"$T_DIR/tlsproxy.out" 2>&1 &
T_PIDS+=("$!")
for _ in $(seq 1 100); do
  [[ -s "$T_DIR/good.port" && -s "$T_DIR/other.port" ]] && break
  sleep 0.1
done
[[ -s "$T_DIR/good.port" && -s "$T_DIR/other.port" ]] || fail "TLS proxy did not start: $(cat "$T_DIR/tlsproxy.out")"
TLS_URL="https://127.0.0.1:$(cat "$T_DIR/good.port")"
OTHER_URL="https://127.0.0.1:$(cat "$T_DIR/other.port")"

# tcli URL ARGS...: the CLI against URL, bounded in time.
tcli() { local url=$1; shift; timeout 60 "$OPENLEDGER_CLI" --rpc "$url" "$@"; }
connections() { grep -c "^good connection" "$PROXY_LOG" || true; }

# --- works with --cacert ----------------------------------------------------------
out=$(tcli "$TLS_URL" --cacert "$T_DIR/cert.pem" status) || fail "status over TLS: $out"
grep -q "openledger-devnet" <<<"$out" || fail "status over TLS: $out"
pass "status over $TLS_URL with --cacert"
out=$(tcli "https://localhost:$(cat "$T_DIR/good.port")" --cacert "$T_DIR/cert.pem" status) \
  || fail "status via https://localhost: $out"
pass "status over https://localhost (the certificate's DNS name)"

before=$(connections)
out=$(tcli "$TLS_URL" --cacert "$T_DIR/cert.pem" send --from dev0 --to dev1 --amount 1.5 2>&1) \
  || fail "send over TLS: $out"
grep -q "^status: *success" <<<"$out" || fail "send over TLS: $out"
after=$(connections)
# node_status, account_get, tx_send and the polls: all on one connection.
[[ $((after - before)) -eq 1 ]] || fail "send opened $((after - before)) TLS connections, expected 1 (keep-alive)"
pass "send over TLS: node_status, account_get, tx_send and the polls on one kept-alive connection"
bal=$(tcli "$TLS_URL" --cacert "$T_DIR/cert.pem" --json balance dev1) || fail "balance over TLS: $bal"
[[ $(jget "$bal" 'int(j["balance"]) > 0') == True ]] || fail "balance over TLS: $bal"
# The same account read directly over http:// agrees.
[[ $(cli --json balance dev1) == "$bal" ]] || fail "balance differs between http and https"
pass "balance over TLS matches the node's"

# --- refusals ------------------------------------------------------------------------
# check_refusal WANT ARGS...: exit code 1, "error: " + a message holding WANT.
check_refusal() {
  local want=$1; shift
  local st=0 err
  err=$(tcli "$@" status 2>&1 >/dev/null) || st=$?
  [[ $st -eq 1 ]] || fail "$* status: exit $st, expected 1 ($err)"
  [[ "$err" == "error: "* && "$err" == *"$want"* ]] || fail "$* status: message '$err' lacks '$want'"
  echo "  $err"
}
check_refusal "TLS certificate of node at $TLS_URL is not trusted" "$TLS_URL"
check_refusal "(give the node's CA certificate with --cacert FILE)" "$TLS_URL"
pass "without --cacert: refused, the self-signed certificate is not trusted"
check_refusal "is not trusted" "$TLS_URL" --cacert "$T_DIR/other.pem"
pass "with another CA: refused"
check_refusal "TLS certificate of node at $OTHER_URL is for another host" "$OTHER_URL" --cacert "$T_DIR/other.pem"
pass "a trusted certificate for another host name: refused"
check_refusal "--cacert: cannot read CA file" "$TLS_URL" --cacert "$T_DIR/missing.pem"
check_refusal "TLS handshake with node at https://127.0.0.1:$T_PORT failed" "https://127.0.0.1:$T_PORT"
pass "a missing CA file, and https:// to the plain HTTP port: refused"
grep -q "handshake failed" "$PROXY_LOG" || fail "the proxy saw no refused handshake"

# --- watch over wss:// ------------------------------------------------------------
# The WebSocket goes through the same terminator (the proxy relays bytes both
# ways): the upgrade, the subscription and a new-block notification over TLS.
# watch_blocks OUT URL ARGS...: runs `watch` in the background, sends
# transfers over plain HTTP (a block holds at least one transaction) until it
# exits, and fails unless it exits 0.
watch_blocks() {
  local out=$1; shift
  tcli "$@" >"$out" 2>&1 &
  local wpid=$! st=0
  T_PIDS+=("$wpid")
  for _ in $(seq 1 30); do
    kill -0 "$wpid" 2>/dev/null || break
    cli send --from dev3 --to dev4 --amount 0.1 >/dev/null
    sleep 0.2
  done
  wait "$wpid" || st=$?
  [[ $st -eq 0 ]] || fail "watch $*: exit $st: $(cat "$out")"
}
before=$(connections)
watch_blocks "$T_DIR/watch1.out" "$TLS_URL" --cacert "$T_DIR/cert.pem" --json watch 1
out=$(cat "$T_DIR/watch1.out")
[[ $(jget "$out" 'int(j["height"]) > 0 and len(j["hash"]) == 66') == True ]] \
  || fail "watch over wss://: no block notification: $out"
[[ $(($(connections) - before)) -eq 1 ]] || fail "watch did not go through the TLS terminator"
pass "watch over wss:// (--rpc $TLS_URL) receives a new block"
watch_blocks "$T_DIR/watch2.out" "$TLS_URL" --cacert "$T_DIR/cert.pem" watch 2
out=$(cat "$T_DIR/watch2.out")
[[ $(grep -c '^#[0-9]' <<<"$out") -eq 2 ]] || fail "watch 2 over wss://: $out"
[[ "$out" == "watching new blocks at $TLS_URL"* ]] || fail "watch 2 over wss://: $out"
pass "watch 2 over wss:// prints two block lines"
st=0
err=$(tcli "$TLS_URL" watch 1 2>&1 >/dev/null) || st=$?
[[ $st -eq 1 && "$err" == *"TLS certificate of node at $TLS_URL is not trusted"*"--cacert FILE"* ]] \
  || fail "watch over wss:// without --cacert: $st $err"
st=0
err=$(tcli "$OTHER_URL" --cacert "$T_DIR/other.pem" watch 1 2>&1 >/dev/null) || st=$?
[[ $st -eq 1 && "$err" == *"is for another host"* ]] || fail "watch, certificate for another host: $st $err"
pass "watch over wss://: an untrusted certificate, or one for another host, is refused"
# ws:// still works, straight to the node.
watch_blocks "$T_DIR/watch3.out" "$T_RPC" --json watch 1
out=$(cat "$T_DIR/watch3.out")
[[ $(jget "$out" 'int(j["height"]) > 0') == True ]] || fail "watch over ws://: $out"
pass "watch over ws:// (--rpc http://) still works"

stop_node
pass "cli_tls"
