# shellcheck shell=bash
# Helpers for tests of a local testnet (openledgerd testnet + scripts/testnet.sh):
# real validators on 127.0.0.1. Source after lib/common.sh; its trap kills
# every pid the helpers record.

TN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
export OPENLEDGERD

# Four consecutive free ports from a random base.
tn_free_base() {
  python3 - <<'PY'
import random, socket
while True:
    # Below the ephemeral range (32768..60999 on Linux), so a kernel-chosen
    # port of another test cannot take one of ours between now and the start.
    # (and away from the default p2p port 26656 that --dev nodes take).
    b = random.randrange(20000, 32000, 8)
    if 26600 <= b <= 26700:
        continue
    socks = []
    try:
        for p in range(b, b + 4):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        print(b); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
}

# tn_make DIR N: writes the testnet; sets TN, RPC_BASE.
tn_make() {
  TN=$1
  RPC_BASE=$(tn_free_base)
  local p2p; p2p=$(tn_free_base)
  [[ $p2p != "$RPC_BASE" ]] || p2p=$((RPC_BASE + 8))
  "$OPENLEDGERD" testnet --validators "$2" --out "$TN" --rpc-port "$RPC_BASE" --p2p-port "$p2p" \
    >"$T_DIR/testnet.log" || fail "openledgerd testnet"
}

tn_collect_pids() {
  for d in "$TN"/node*; do [[ -f $d/node.pid ]] && T_PIDS+=("$(cat "$d/node.pid")"); done
  return 0
}
# Starts the nodes that are not running.
tn_up() {
  bash "$TN_ROOT/scripts/testnet.sh" up "$TN" >>"$T_DIR/testnet.log" 2>&1 || { tn_collect_pids; fail "testnet.sh up"; }
  tn_collect_pids
}

# tn_start N: starts nodeN alone (as testnet.sh up does for each).
tn_start() {
  "$OPENLEDGERD" --datadir "$TN/node$1" >>"$TN/node$1/node.log" 2>&1 &
  echo $! >"$TN/node$1/node.pid"
  T_PIDS+=("$!")
}

tn_url() { echo "http://127.0.0.1:$((RPC_BASE + $1))"; }
tn_call() {
  curl -s --max-time 5 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$(tn_url "$1")"
}
tn_height() { jget "$(tn_call "$1" node_status '[]')" 'j["result"]["height"]' 2>/dev/null || echo -1; }
# tn_wait_all H SECS NODES...: each node reaches height H within SECS seconds.
tn_wait_all() {
  local h=$1 secs=$2; shift 2
  for n in "$@"; do
    local got=-1
    for _ in $(seq 1 $((secs * 10))); do
      got=$(tn_height "$n"); ((got >= h)) && break; sleep 0.1
    done
    ((got >= h)) || fail "node$n at height $got, not $h within $secs s"
  done
}
tn_kill() { local p; p=$(cat "$TN/node$1/node.pid"); kill -9 "$p"; wait "$p" 2>/dev/null || true; }

# tn_same_chains NODES...: identical block hashes and state roots at every
# height up to the lowest head.
tn_same_chains() {
  local urls=()
  for n in "$@"; do urls+=("$(tn_url "$n")"); done
  python3 - "${urls[@]}" <<'PY'
import json, sys, urllib.request
def call(u, m, p):
    r = urllib.request.Request(u, json.dumps({"jsonrpc":"2.0","id":1,"method":m,"params":p}).encode(),
                               {"Content-Type":"application/json"})
    return json.load(urllib.request.urlopen(r, timeout=5))["result"]
urls = sys.argv[1:]
top = min(call(u, "node_status", [])["height"] for u in urls)
def chain(u):
    out, h = {}, 1
    while h <= top:
        page = call(u, "chain_getBlockRange", [h, 100, "asc"])["blocks"]
        for b in page:
            if b["height"] <= top: out[b["height"]] = (b["hash"], b["header"]["stateRoot"])
        h = max(b["height"] for b in page) + 1
    return out
chains = [chain(u) for u in urls]
for h in range(1, top + 1):
    vals = {c.get(h) for c in chains}
    if len(vals) != 1 or None in vals:
        print("height", h, "differs:", vals); sys.exit(1)
print("heights 1..%d identical on %d nodes" % (top, len(urls)))
PY
}

tn_down() {
  bash "$TN_ROOT/scripts/testnet.sh" down "$TN" >>"$T_DIR/testnet.log" 2>&1 || fail "testnet.sh down"
  if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TN"/node*/node.log; then
    fail "sanitizer report in a node log"
  fi
}
