#!/usr/bin/env bash
# Four validators on 127.0.0.1 (openledgerd testnet + scripts/testnet.sh) run
# Tendermint consensus: all commit blocks, a transfer included; with one
# killed the other three keep committing; with two killed the chain halts
# (2/4 of the power is not 2/3+); one restarted, it resumes, and a restarted
# validator catches up by block sync. At the end all four hold the same
# block hashes and state roots at every height.
source "$(dirname "$0")/lib/common.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export OPENLEDGERD
TN="$T_DIR/tn"
SECONDS=0

# Four consecutive free ports from a random base, for RPC and for p2p.
free_base() {
  python3 - <<'EOF'
import random, socket
while True:
    b = random.randrange(20000, 60000, 8)
    try:
        socks = []
        for p in range(b, b + 4):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        for s in socks: s.close()
        print(b); break
    except OSError:
        for s in socks: s.close()
EOF
}
RPC_BASE=$(free_base)
P2P_BASE=$(free_base)
[[ $P2P_BASE != "$RPC_BASE" ]] || P2P_BASE=$((RPC_BASE + 8))
"$OPENLEDGERD" testnet --validators 4 --out "$TN" --rpc-port "$RPC_BASE" --p2p-port "$P2P_BASE" \
  >"$T_DIR/testnet.log" || fail "openledgerd testnet"
[[ -f $TN/genesis.json && -f $TN/nodes.json && -f $TN/node3/validator_key.json &&
   -f $TN/node3/node_key.json && -f $TN/node3/config.json ]] || fail "testnet files"
pass "testnet --validators 4 wrote genesis, keys, configs and nodes.json"

# Every pid the script writes goes to the trap too.
collect_pids() { for i in 0 1 2 3; do [[ -f $TN/node$i/node.pid ]] && T_PIDS+=("$(cat "$TN/node$i/node.pid")"); done; return 0; }
up() { bash "$ROOT/scripts/testnet.sh" up "$TN" >>"$T_DIR/testnet.log" 2>&1 || { collect_pids; fail "testnet.sh up"; }; collect_pids; }
up

url() { echo "http://127.0.0.1:$((RPC_BASE + $1))"; }
call() { curl -s --max-time 5 -H 'Content-Type: application/json' \
  -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$(url "$1")"; }
height() { jget "$(call "$1" node_status '[]')" 'j["result"]["height"]' 2>/dev/null || echo -1; }
# wait_all H SECS NODES...: each node reaches height H within SECS seconds.
wait_all() {
  local h=$1 secs=$2; shift 2
  for n in "$@"; do
    local got=-1
    for _ in $(seq 1 $((secs * 10))); do
      got=$(height "$n"); ((got >= h)) && break; sleep 0.1
    done
    ((got >= h)) || fail "node$n at height $got, not $h within $secs s"
  done
}
kill_node() { local p; p=$(cat "$TN/node$1/node.pid"); kill -9 "$p"; wait "$p" 2>/dev/null || true; }

wait_all 3 20 0 1 2 3
st=$(call 0 node_status '[]')
[[ $(jget "$st" 'j["result"]["consensus"]["step"]') =~ ^(propose|prevote|precommit|decided)$ ]] ||
  fail "node_status.consensus: $st"
cs=$(call 1 consensus_state '[]')
[[ $(jget "$cs" 'j["result"]["running"]') == True ]] || fail "consensus_state: $cs"
curl -s "$(url 2)/metrics" | grep -q '^openledger_consensus_height ' || fail "/metrics lacks consensus"
pass "4 validators commit blocks (node_status, consensus_state, /metrics show consensus)"

# A transfer sent to node1 is gossiped, proposed by whoever's turn it is,
# and committed on all four.
T_RPC=$(url 1)
export OPENLEDGER_KEYSTORE="$T_DIR/keys" OPENLEDGER_PASSWORD=itest OPENLEDGER_SCRYPT_N=1024
out=$(cli send --from dev0 --to ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8 --amount 2) || fail "send: $out"
grep -qi success <<<"$out" || fail "send did not report success: $out"
tx_height=$(python3 - "$(url 0)" <<'EOF'
import json, sys, urllib.request
def call(u, m, p):
    r = urllib.request.Request(u, json.dumps({"jsonrpc":"2.0","id":1,"method":m,"params":p}).encode(),
                               {"Content-Type":"application/json"})
    return json.load(urllib.request.urlopen(r, timeout=5))
u = sys.argv[1]
top = call(u, "node_status", [])["result"]["height"]
for h in range(top, 0, -1):
    if call(u, "chain_getBlock", [h])["result"]["txs"]:
        print(h); break
else:
    print(0)
EOF
)
((tx_height > 0)) || fail "no block with the transfer on node0"
wait_all "$tx_height" 10 0 1 2 3
pass "a transfer was committed in block $tx_height"

# One validator down: 3/4 of the power is more than 2/3, blocks go on.
kill_node 3
h=$(height 0)
wait_all $((h + 4)) 20 0 1 2
pass "node3 killed: the other three commit (from $h to $(height 0))"

# Two down: 2/4 is not more than 2/3, the chain halts.
kill_node 2
sleep 1.5
h1=$(height 0)
sleep 3
h2=$(height 0)
((h2 == h1)) || fail "the chain kept growing with half the power: $h1 -> $h2"
[[ $(height 1) -le $((h2 + 1)) ]] || fail "node1 ahead of the halt"
pass "node2 killed too: the chain halts at $h2"

# node2 back: three again, consensus resumes; node3 back: it catches up.
up
wait_all $((h2 + 3)) 30 0 1 2
pass "node2 restarted: blocks again (height $(height 0))"
target=$(height 0)
wait_all "$target" 30 3
wait_all $((target + 2)) 20 0 1 2 3
pass "node3 restarted and caught up by block sync"

# Identical chains: block hashes and state roots at every height.
python3 - "$(url 0)" "$(url 1)" "$(url 2)" "$(url 3)" <<'EOF' || fail "the four chains differ"
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
print("heights 1..%d identical on 4 nodes" % top)
EOF
pass "identical block hashes and state roots at every height"

bash "$ROOT/scripts/testnet.sh" down "$TN" >>"$T_DIR/testnet.log" 2>&1 || fail "testnet.sh down"
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TN"/node*/node.log; then
  fail "sanitizer report in a node log"
fi
grep -q 'replayed' "$TN/node2/node.log" || fail "node2 did not replay its WAL"
echo "bft_4val: all passed in $SECONDS s"
