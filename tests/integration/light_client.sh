#!/usr/bin/env bash
# openledger-cli prove as a light client: against the real devnet node it
# succeeds; against a dishonest node (a small python3 HTTP server on
# 127.0.0.1) that serves a forged header with a valid-looking proof (the state
# root of a forged tree, a Merkle proof consistent with it, a header whose hash
# matches) but no commit of more than 2/3 of the genesis validators, it
# refuses with a clear message, whatever commit the forger sends along.
source "$(dirname "$0")/lib/common.sh"

start_node n1 --block-time 100 --quiet-accounts
dev1=ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8 # dev key 1 (docs/devnet.md)
# Before any transaction: the head may be block 0, which nobody signs; the
# CLI rebuilds it from the genesis.
h=$(jget "$(rpc node_status '[]')" 'j["result"]["height"]')
out=$(cli prove "$dev1") || fail "prove at height $h: $out"
pass "prove at height $h: $out"
out=$(cli send --from dev0 --to dev1 --amount 1) || fail "send: $out"

out=$(cli prove "$dev1") || fail "prove against the real node: $out"
grep -q "proof OK: $dev1 has" <<<"$out" || fail "prove output: $out"
pass "prove against the real node: $out"

# The forger: asks the real node, then rewrites the answer around a tree of
# its own in which dev1 holds 1,000,000,000 OPEN. MODE picks the commit it
# sends with the forged header.
FAKE_PORT=$(free_port)
cat >"$T_DIR/forger.py" <<'EOF'
import hashlib, json, sys, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

port, real = int(sys.argv[1]), sys.argv[2]
mode = {"m": "real-commit"}

def sha(b):
    return hashlib.sha256(b).digest()

def h(b):
    return "0x" + b.hex()

def forge(res):
    raw = bytes.fromhex(res["headerRaw"][2:])
    # version u8 | chain_id lenbytes | height u64 | parent[32] | time u64 |
    # proposer[20] | tx_root[32] | state_root[32] | ... (docs/encoding.md)
    at = 1 + 1 + raw[1] + 8 + 32 + 8 + 20 + 32
    path = bytes.fromhex(res["path"][2:])
    value = (10**18).to_bytes(8, "little") + (0).to_bytes(8, "little")
    vh = sha(value)
    root = sha(b"\x00" + path + vh)  # a tree of one leaf: the leaf is the root
    raw = raw[:at] + root + raw[at + 32:]
    res["headerRaw"] = h(raw)
    res["headerHash"] = h(sha(b"\x04" + raw))
    res["header"]["stateRoot"] = h(root)
    res["value"] = h(value)
    res["account"] = {"balance": str(10**18), "nonce": 0}
    res["proof"] = h(b"\x00\x01" + path + vh)  # no siblings, the leaf
    m = mode["m"]
    if m == "no-commit":
        del res["commit"], res["commitRaw"]
    elif m == "empty-commit":
        res["commitRaw"] = "0x0000000000"
        res["commit"] = {"round": 0, "signatures": []}
    # real-commit: the node's genuine commit, which signs the real header only
    return res

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        req = json.loads(body)
        if req.get("method") == "forger_mode":
            mode["m"] = req["params"][0]
            out = {"jsonrpc": "2.0", "id": req.get("id"), "result": mode["m"]}
        else:
            r = urllib.request.Request(real, body, {"Content-Type": "application/json"})
            out = json.loads(urllib.request.urlopen(r, timeout=10).read())
            if req.get("method") == "state_getProof" and "result" in out:
                out["result"] = forge(out["result"])
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
python3 "$T_DIR/forger.py" "$FAKE_PORT" "$T_RPC" >"$T_DIR/forger.log" 2>&1 &
T_PIDS+=($!)
FAKE="http://127.0.0.1:$FAKE_PORT"
for _ in $(seq 1 50); do
  curl -s -d '{"jsonrpc":"2.0","id":1,"method":"forger_mode","params":["real-commit"]}' "$FAKE" | grep -q result && break
  sleep 0.1
done

# The forgery holds together by the old checks: the header hashes to what
# the forger says, and the proof holds against its state root.
python3 - "$FAKE" "$dev1" <<'EOF' || fail "the forgery is not self-consistent"
import hashlib, json, sys, urllib.request
req = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "state_getProof", "params": [sys.argv[2]]})
r = json.loads(urllib.request.urlopen(urllib.request.Request(sys.argv[1], req.encode(), {"Content-Type": "application/json"})).read())["result"]
raw = bytes.fromhex(r["headerRaw"][2:])
assert hashlib.sha256(b"\x04" + raw).hexdigest() == r["headerHash"][2:]
p = bytes.fromhex(r["path"][2:]); vh = hashlib.sha256(bytes.fromhex(r["value"][2:])).digest()
assert hashlib.sha256(b"\x00" + p + vh).hexdigest() == r["header"]["stateRoot"][2:]
assert r["account"]["balance"] == str(10**18)
EOF

fcli() { "$OPENLEDGER_CLI" --rpc "$FAKE" "$@"; }
for mode in real-commit empty-commit no-commit; do
  curl -s -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"forger_mode\",\"params\":[\"$mode\"]}" "$FAKE" >/dev/null
  if out=$(fcli prove "$dev1" 2>&1); then fail "$mode: a forged header was accepted: $out"; fi
  grep -q "error: proof verification FAILED for $dev1: " <<<"$out" || fail "$mode: message: $out"
  case $mode in
    real-commit) want="no valid commit by more than 2/3 of the validators for header" ;;
    empty-commit) want="0 of 10 voting power, more than 2/3 is needed" ;;
    no-commit) want="the node sent no commit for the header" ;;
  esac
  grep -q "$want" <<<"$out" || fail "$mode: want '$want', got: $out"
  ! grep -q "proof OK" <<<"$out" || fail "$mode: printed proof OK: $out"
  pass "forged header with $mode refused: $out"
done

# The honest node still proves, through the same CLI, after all of that.
out=$(cli prove "$dev1") || fail "prove against the real node again: $out"
pass "real node proves again"
