#!/usr/bin/env bash
# A validator and three followers in a line, v - f1 - f2 - f3 (peer exchange
# off, so the line stays a line). Transactions sent to f3 only (a transfer
# with the CLI, then the attribution demo's datanets, contributions, models
# and records) are gossiped hop by hop to the validator, committed, and the
# blocks come back down the line: all four nodes then answer chain_getBlock
# identically at every height (same hashes and state roots), and
# account_get and the attribution methods identically at the head.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/p2p.sh"
SRC=${OL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

P=(--p2p 127.0.0.1:0 --p2p-pex off)
p2p_start v "${P[@]}" --block-time 100
p2p_start f1 "${P[@]}" --follower --peers "$ADDR_v"
# f2 serves RPC on 2 loops: gossip from RPC worker threads, p2p under the node lock.
p2p_start f2 "${P[@]}" --follower --rpc-threads 2 --peers "$ADDR_f1"
p2p_start f3 "${P[@]}" --follower --peers "$ADDR_f2"
[[ $ID_v =~ ^[0-9a-f]{40}$ && $ID_v != "$ID_f1" ]] || fail "node ids: $ID_v $ID_f1"
pass "v, f1, f2, f3 started (v listens at $ADDR_v)"

# The line is up: f2 has f1 (outbound) and f3 (inbound); v only f1.
for _ in $(seq 1 100); do
  n2=$(jget "$(rpcn f2 node_peers '[]')" 'len(j["result"])')
  n3=$(jget "$(rpcn f3 node_status '[]')" 'j["result"]["peers"]')
  [[ $n2 == 2 && $n3 == 1 ]] && break
  sleep 0.1
done
peers=$(rpcn f2 node_peers '[]')
[[ $(jget "$peers" 'sorted(p["direction"] for p in j["result"])') == "['inbound', 'outbound']" ]] ||
  fail "f2 peers: $peers"
[[ $(jget "$peers" '[p["id"] for p in j["result"] if p["direction"] == "outbound"][0]') == "$ID_f1" ]] ||
  fail "f2's outbound peer is not f1: $peers"
[[ $(jget "$(rpcn v node_peers '[]')" '[p["id"] for p in j["result"]]') == "['$ID_f1']" ]] ||
  fail "v's peers: $(rpcn v node_peers '[]')"
pass "line topology: node_peers shows v-f1-f2-f3"

# One transfer sent to the last follower reaches the validator and comes back.
export OPENLEDGER_KEYSTORE="$T_DIR/keys" OPENLEDGER_PASSWORD=itest OPENLEDGER_SCRYPT_N=1024
out=$(timeout 30 "$OPENLEDGER_CLI" --rpc "$RPC_f3" send --from dev0 --to dev5 --amount 2.5) ||
  fail "send to f3: $out"
grep -qi success <<<"$out" || fail "send to f3 not committed: $out"
txh=$(awk '/^hash:/ {print $2}' <<<"$out")
h=$(jget "$(rpcn f3 chain_getTransaction "[\"$txh\"]")" 'j["result"]["blockHeight"]')
for n in v f1 f2; do
  wait_height "$n" "$h" 10
  r=$(rpcn "$n" chain_getTransaction "[\"$txh\"]")
  [[ $(jget "$r" 'j["result"]["blockHeight"]') == "$h" ]] || fail "$n: tx not at $h: $r"
done
grep -q "txs=1" "$T_DIR/v.log" || fail "the validator did not produce the block"
pass "tx_send to f3 committed at height $h, visible on all four"

# The attribution demo, every transaction sent to f3, except that f2 (two RPC
# loops) gets a transfer meanwhile.
( timeout 30 "$OPENLEDGER_CLI" --rpc "$RPC_f2" send --from dev9 --to dev8 --amount 1 >"$T_DIR/f2send.out" 2>&1 ) &
f2send=$!
out=$(timeout 120 "$SRC/scripts/demo-attribution" --small --rpc "$RPC_f3" 2>&1) ||
  fail "demo-attribution through f3: $out"
grep -q 'all checks passed' <<<"$out" || fail "demo through f3: $out"
pass "attribution demo through f3: all checks passed"
wait "$f2send" || fail "send via f2: $(cat "$T_DIR/f2send.out")"
grep -qi success "$T_DIR/f2send.out" || fail "send via f2: $(cat "$T_DIR/f2send.out")"
pass "a transfer sent to f2 (--rpc-threads 2) committed too"

H=$(height_of v)
for n in f1 f2 f3; do wait_height "$n" "$H" 20; done
cat >"$T_DIR/equal.py" <<'PY'
import json, sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import ol_txlib as L
H = int(sys.argv[2])
urls = sys.argv[3:]
def view(url):
    rpc = L.Rpc(url)
    blocks = [r for r, e in rpc.batch([("chain_getBlock", [h]) for h in range(1, H + 1)])]
    out = {"blocks": blocks}
    addrs = [L.dev_key(i).address for i in range(10)]
    out["accounts"] = [rpc.call("account_get", a) for a in addrs]
    out["datanets"] = list(rpc.pages("datanet_list"))
    out["models"] = list(rpc.pages("model_list", None))
    out["contributions"] = [list(rpc.pages("contribution_list", {"datanet": d["id"]})) for d in out["datanets"]]
    out["records"] = [list(rpc.pages("attribution_list", {"model": m["id"]})) for m in out["models"]]
    out["records_get"] = [rpc.call("attribution_get", r["id"]) for rs in out["records"] for r in rs[:3]]
    out["impact"] = [rpc.call("contributor_impact", a, 100) for a in addrs]
    return out
views = [view(u) for u in urls]
assert all(b is not None for b in views[0]["blocks"]), "missing blocks on the validator"
assert sum(len(r) for r in views[0]["records"]) >= 30, "too few records: %d" % sum(len(r) for r in views[0]["records"])
for u, v in zip(urls[1:], views[1:]):
    for k in views[0]:
        if v[k] != views[0][k]:
            if k == "blocks":
                h = next(i for i in range(H) if v[k][i] != views[0][k][i]) + 1
                sys.exit("%s: chain_getBlock(%d) differs from the validator's" % (u, h))
            sys.exit("%s: %s differs from the validator's" % (u, k))
print("equal: %d blocks, %d records" % (H, sum(len(r) for r in views[0]["records"])))
PY
out=$(python3 "$T_DIR/equal.py" "$SRC/scripts" "$H" "$RPC_v" "$RPC_f1" "$RPC_f2" "$RPC_f3") ||
  fail "RPC answers differ: $out"
pass "f1, f2, f3 answer chain_getBlock at every height (1..$H), account_get and the attribution methods as v does ($out)"

# Sync and peers show in node_status and /metrics.
st=$(rpcn f3 node_status '[]')
[[ $(jget "$st" 'j["result"]["syncing"]') == False && $(jget "$st" 'j["result"]["syncTarget"]') -ge $H ]] ||
  fail "f3 node_status: $st"
m=$(curl -s "${RPC_f2}/metrics")
grep -q 'openledger_p2p_peers{direction="outbound"} 1' <<<"$m" || fail "metrics peers: $m"
grep -q 'openledger_p2p_messages_total{type="txs",direction="in"}' <<<"$m" || fail "metrics txs"
grep -q 'openledger_sync_blocks_total' <<<"$m" || fail "metrics sync"
pass "node_status and /metrics show peers, messages and sync"

for n in f3 f2 f1 v; do p2p_stop "$n"; done
pass "all four stop cleanly"
