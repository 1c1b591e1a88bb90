#!/usr/bin/env bash
# Blob posts (docs/rollup.md, "Blobs") on anvil --hardfork prague: a
# validator with --batch-da blobs is killed (kill -9) while it posts, several
# times, and restarted on the same data directory while transfers flow; the
# last run posts everything. Then `openledgerd l1-inbox` (reading the blobs
# from anvil's beacon API) lists every L2 height exactly once with no gap,
# the posts are type-3 postBlobs transactions, node_status and /metrics
# count blobs and blob gas, and a fresh node with --derive-from-l1 reaches
# the validator's block and state root at its height. Frames of 256 bytes
# split each batch into several blobs, and a batch of more than 6 frames
# into several L1 transactions, so a kill also lands between the blobs of
# one channel.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/rollup.sh"

DATA="$T_DIR/data"
ROUNDS=${KILL_ROUNDS:-3}
start_anvil --hardfork prague
deploy_rollup "$DATA" --finalization-period 3600 --confirmations 1
pass "contracts deployed on anvil --hardfork prague: inbox $INBOX"

senders() {
  ( while :; do
      cli send --from dev1 --to dev2 --amount 0.001 --no-wait >/dev/null 2>&1 || true
      sleep 0.05
    done ) &
  SENDER_PID=$!
  T_PIDS+=("$SENDER_PID")
}

for round in $(seq 1 "$ROUNDS"); do
  start_node "round$round" --datadir "$DATA" --quiet-accounts --p2p off --block-time 100 --l1 "$L1_URL" \
    --rollup-config "$ROLLUP_CFG" --batch-da blobs --batch-max-blocks 8 --batch-max-delay 300 \
    --batch-frame-max 256
  senders
  wait_status 's["l1"]["batcher"]["batches"] >= 2' 120 "round $round: two batches posted in blobs"
  [[ $(status 's["l1"]["batcher"]["da"]') == blobs ]] || fail "node_status l1.batcher.da"
  sleep "0.$((RANDOM % 9))"
  kill -9 "$T_NODE_PID"
  wait "$T_NODE_PID" 2>/dev/null || true
  kill "$SENDER_PID" 2>/dev/null || true
  wait "$SENDER_PID" 2>/dev/null || true
  pass "round $round: killed while posting blobs"
done

# The last run catches up with the chain and posts everything (no more
# transfers: the chain's height stays put for the deriver below).
start_node final --datadir "$DATA" --quiet-accounts --p2p off --block-time 100 --l1 "$L1_URL" \
  --rollup-config "$ROLLUP_CFG" --batch-da blobs --batch-max-blocks 200 --batch-max-delay 300
height=$(status 's["height"]')
wait_status "s['l1']['batcher']['posted'] >= $height" 180 "posted up to $height"
next=$(inbox_check) || fail "inbox: $next"
(( next > height )) || fail "inbox next $next, chain height $height"
multi=$(awk '$1 == "batch" && $6 > 1' "$T_DIR/inbox.txt" | wc -l)
(( multi > 0 )) || fail "no batch of several blobs: $(cat "$T_DIR/inbox.txt")"
many=$(awk '$1 == "batch" && $6 > 6' "$T_DIR/inbox.txt" | wc -l)
pass "after $ROUNDS kills the inbox holds heights 1..$((next - 1)) exactly once, no gap ($multi batches of several blobs, $many of more than 6)"

# Every post is a type-3 transaction calling postBlobs, with blobs.
python3 - "$L1_URL" "$T_DIR/inbox.txt" <<'PY' || fail "the posts are not blob transactions"
import json, sys, urllib.request
url = sys.argv[1]
def call(m, p):
    req = urllib.request.Request(url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": m, "params": p}).encode(),
                                 {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["result"]
n = 0
for line in open(sys.argv[2]):
    w = line.split()
    if w[0] != "batch":
        continue
    tx = call("eth_getTransactionByHash", [w[4]])
    rc = call("eth_getTransactionReceipt", [w[4]])
    assert int(tx["type"], 16) == 3, (w[4], tx["type"])
    assert tx["input"].startswith("0x") and len(tx["blobVersionedHashes"]) >= 1, w[4]
    assert int(rc["blobGasUsed"], 16) == 131072 * len(tx["blobVersionedHashes"]), rc
    n += 1
print("ok: %d batches end in type-3 transactions with blobs" % n)
PY

python3 - "$(rpc node_status '[]')" <<'PY' || fail "node_status blob counters"
import json, sys
b = json.loads(sys.argv[1])["result"]["l1"]["batcher"]
assert b["da"] == "blobs" and b["blobs"] >= 1 and b["blobGasUsed"] == 131072 * b["blobs"], b
assert b["l1Txs"] >= 1 and b["blobs"] >= b["l1Txs"], b
print("ok: this run posted %d batches in %d blobs and %d L1 transactions: %d gas, %d blob gas"
      % (b["batches"], b["blobs"], b["l1Txs"], b["gasUsed"], b["blobGasUsed"]))
PY
metrics=$(curl -s "$T_RPC/metrics")
grep -q '^openledger_rollup_blobs_total [1-9]' <<<"$metrics" || fail "metrics: no blobs"
grep -q '^openledger_rollup_l1_blob_gas_total{kind="batch"} [1-9]' <<<"$metrics" ||
  fail "metrics: no blob gas"
pass "/metrics counts blobs and blob gas"

# A fresh node derives the chain from the blob posts alone.
dport=$(free_port)
durl=http://127.0.0.1:$dport
"$OPENLEDGERD" --dev --derive-from-l1 "$L1_URL" --rollup-config "$ROLLUP_CFG" --rpc "127.0.0.1:$dport" \
  --datadir "$T_DIR/derived" --quiet-accounts >"$T_DIR/deriver.log" 2>&1 &
DPID=$!
T_PIDS+=("$DPID")
dstatus() {
  curl -s --max-time 10 -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"node_status","params":[]}' "$durl" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(eval(sys.argv[1]))' "$1"
}
ok=
for _ in $(seq 1 600); do
  kill -0 "$DPID" 2>/dev/null || fail "the deriver exited"
  [[ $(dstatus "r['height'] >= $height" 2>/dev/null) == True ]] && { ok=1; break; }
  sleep 0.5
done
[[ -n $ok ]] || fail "the deriver did not reach $height: $(dstatus 'r' 2>/dev/null)"
[[ $(dstatus 'r["l1"]["halted"]') == False ]] || fail "the deriver halted: $(dstatus 'r["l1"]')"
hdr() {
  curl -s --max-time 20 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"chain_getBlock\",\"params\":[$2]}" "$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(r["hash"], r["header"]["stateRoot"])'
}
a=$(hdr "$T_RPC" "$height")
b=$(hdr "$durl" "$height")
[[ -n $a && $a == "$b" ]] || fail "height $height: validator '$a', derived '$b'"
pass "a node deriving from the blobs reaches block and state root $a at height $height"
kill -TERM "$DPID"
st=0
wait "$DPID" 2>/dev/null || st=$?
[[ $st -eq 0 ]] || fail "the deriver exited with status $st on SIGTERM"
stop_node
