#!/usr/bin/env bash
# A devnet with --l1 posts batches and outputs while transfers and
# attribution records flow: BatchPosted logs and the inbox hold every L2
# height once, the oracle's outputs are the node's output roots, and
# node_status's L1 heads advance (docs/rollup.md, "Operating").
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/rollup.sh"

DATA="$T_DIR/data"
start_anvil
deploy_rollup "$DATA" --finalization-period 3 --confirmations 2
pass "contracts deployed: inbox $INBOX, oracle $ORACLE"

start_node node --datadir "$DATA" --quiet-accounts --p2p off --block-time 200 --empty-blocks-interval 300 \
  --l1 "$L1_URL" \
  --rollup-config "$ROLLUP_CFG" --batch-max-delay 2000
[[ $(status 's["l1"]["account"].lower()') == "${L1_ADDR,,}" ]] || fail "node_status l1.account"

# Transfers, and an attribution story: a datanet, a contribution, a model,
# then paid inferences.
echo "data" >"$T_DIR/f1"
cli datanet create open --from dev0 >/dev/null || fail "datanet create"
cli contribute --datanet 1 "$T_DIR/f1" --from dev2 >/dev/null || fail "contribute"
cli model register m --datanet 1 --split 2000/1000/7000 --attestor dev5 --from dev4 >/dev/null ||
  fail "model register"
echo '[{"contribution": 1, "weight": 1}]' >"$T_DIR/e.json"
SENT=0
for i in $(seq 1 40); do
  cli send --from dev1 --to dev3 --amount 0.001 --no-wait >/dev/null || fail "send $i"
  cli attribute --model 1 --fee 0.01 --entries "$T_DIR/e.json" --from dev5 --no-wait >/dev/null ||
    fail "attribute $i"
  SENT=$((SENT + 2))
  (( i % 10 == 0 )) && sleep 1
done
pass "$SENT transactions sent (transfers and attribution records)"

wait_status 's["safe"] is not None and s["safe"] >= 40' 120 "safe head at 40"
wait_status 's["finalized"] is not None and s["finalized"] >= 20' 120 "finalized head at 20"
h1=$(status '(s["l1Head"], s["safe"], s["finalized"])')
sleep 4
h2=$(status '(s["l1Head"], s["safe"], s["finalized"])')
python3 -c "a=$h1; b=$h2; assert all(y >= x for x, y in zip(a, b)) and b[0] > a[0], (a, b)" ||
  fail "L1 heads did not advance: $h1 -> $h2"
pass "node_status heads advance: (l1Head, safe, finalized) $h1 -> $h2"

# BatchPosted logs from the batcher, and every L2 height on L1 exactly once.
logs=$(l1 eth_getLogs "[{\"address\":\"$INBOX\",\"fromBlock\":\"0x0\",\"toBlock\":\"latest\",\"topics\":[\"$TOPIC_BATCH_POSTED\"]}]")
nlogs=$(jget "$logs" 'len(j["result"])')
(( nlogs >= 2 )) || fail "only $nlogs BatchPosted logs"
next=$(inbox_check) || fail "inbox: $next"
safe=$(status 's["safe"]')
(( next > safe )) || fail "inbox next $next not past the safe head $safe"
pass "$nlogs BatchPosted logs; the inbox holds heights 1..$((next - 1)) exactly once"

height=$(status 's["height"]')
(( height >= next - 1 )) || fail "the L1 holds heights past the chain's $height"

# The oracle's outputs are the node's output roots.
posted=$(status 's["l1"]["proposer"]["posted"]')
(( posted >= 20 )) || fail "outputs posted up to $posted"
for oh in 10 20; do
  data=$(printf '0x%s%064x' "$SEL_GET_OUTPUT" "$oh")
  res=$(l1_result eth_call "[{\"to\":\"$ORACLE\",\"data\":\"$data\"},\"latest\"]")
  blk=$(rpc chain_getBlock "[$oh]")
  want=$(python3 - "$blk" <<'PY'
import hashlib, json, sys
b = json.loads(sys.argv[1])["result"]
sr = bytes.fromhex(b["header"]["stateRoot"].removeprefix("0x"))
bh = bytes.fromhex(b["hash"].removeprefix("0x"))
print("0x" + hashlib.sha256(b"\x11\x00" + sr + bh + bytes(32)).hexdigest())
PY
)
  [[ ${res:0:66} == "$want" ]] || fail "getOutput($oh) = ${res:0:66}, node's output root $want"
done
pass "getOutput(10) and getOutput(20) are the node's output roots; outputs posted up to $posted"

# What it cost, for docs/rollup.md.
python3 - "$(rpc node_status '[]')" "$SENT" <<'PY'
import json, sys
s = json.loads(sys.argv[1])["result"]; b = s["l1"]["batcher"]; p = s["l1"]["proposer"]
print("ok: batches %d (%d blocks, %d bytes, %d gas: %d gas/batch), outputs %d (%d gas/output), "
      "%d L2 txs sent: %.1f bytes and %.0f gas per L2 tx"
      % (b["batches"], b["blocks"], b["bytes"], b["gasUsed"], b["gasUsed"] // max(1, b["batches"]),
         p["outputs"], p["gasUsed"] // max(1, p["outputs"]), int(sys.argv[2]),
         b["bytes"] / int(sys.argv[2]), b["gasUsed"] / int(sys.argv[2])))
PY

grep -q '^openledger_rollup_batches_total [1-9]' <<<"$(curl -s "$T_RPC/metrics")" || fail "metrics: no batches"
grep -q 'openledger_rollup_output_height{state="finalized"} [1-9]' <<<"$(curl -s "$T_RPC/metrics")" ||
  fail "metrics: no finalized output height"
# The exposition format: each family's samples together, after its TYPE.
curl -s "$T_RPC/metrics" | python3 -c '
import re, sys
done, cur = set(), None
for line in sys.stdin:
    if line.startswith("# TYPE "):
        fam = line.split()[2]
        if fam in done: sys.exit("family %s twice" % fam)
        done.add(fam); cur = fam
    elif line.strip() and not line.startswith("#"):
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        if name != cur and not (cur and name.startswith(cur + "_")): sys.exit("%s outside its family (in %s)" % (name, cur))
' || fail "/metrics: families interleaved"
pass "/metrics shows batches and output heights, one block per family"
stop_node
