#!/usr/bin/env bash
# Output signatures between four validators (docs/rollup.md, "Output
# signatures between validators"): with outputIntervalBlocks 8, each
# validator signs the output root of heights 8, 16, 24, ... and sends it to
# its peers (p2p OUTPUT_SIG); every node's rollup_outputSignatures then holds
# more than 2/3 of the power for the same root, which is the output root
# recomputed here from the block (SHA-256 of 0x11, version 0, state root,
# block hash, 32 zero bytes), and the packed signatures are sorted by signer.
# A validator killed and restarted gets the signatures of the heights it
# missed from its peers (sent as its STATUS passes them) and signs the
# heights it syncs. On the L1 (anvil): node0 runs with --l1, and its
# proposer posts outputs with the signatures it gathered from the others
# (at least 3 of 4 in each proposeOutput); and a second OutputOracle accepts
# an output posted by hand with rollup_outputSignatures' answer as it is,
# and refuses two of four.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/testnet.sh"
source "$(dirname "$0")/lib/rollup.sh"
SECONDS=0
INTERVAL=8
tn_make "$T_DIR/tn" 4
sed -i "s/\"outputIntervalBlocks\": *[0-9]*/\"outputIntervalBlocks\": $INTERVAL/" "$TN/genesis.json"
grep -q "\"outputIntervalBlocks\": $INTERVAL" "$TN/genesis.json" || fail "genesis edit"

# The L1 first: the contracts for this genesis, deployed from node0's L1
# account, which is then the batcher and the one proposer that posts.
start_anvil
deploy_rollup "$TN/node0" --genesis "$TN/genesis.json" --finalization-period 60
"$OPENLEDGERD" --datadir "$TN/node0" --l1 "$L1_URL" --rollup-config "$ROLLUP_CFG" \
  >>"$TN/node0/node.log" 2>&1 &
echo $! >"$TN/node0/node.pid"
T_PIDS+=("$!")
tn_up

# check_outputs NODES... : every output height from INTERVAL up to the
# lowest head (at most the window of 12; or the heights in $HEIGHTS, a
# comma-separated list) has a quorum of >= 3 signers on every node, for the
# same root, which is the block's output root.
check_outputs() {
  local urls=()
  for n in "$@"; do urls+=("$(tn_url "$n")"); done
  HEIGHTS=${HEIGHTS:-} python3 - "$INTERVAL" "${urls[@]}" <<'PY'
import os
import hashlib, json, sys, urllib.request
def call(u, m, p):
    r = urllib.request.Request(u, json.dumps({"jsonrpc":"2.0","id":1,"method":m,"params":p}).encode(),
                               {"Content-Type":"application/json"})
    return json.load(urllib.request.urlopen(r, timeout=5))
interval, urls = int(sys.argv[1]), sys.argv[2:]
top = min(call(u, "node_status", [])["result"]["height"] for u in urls) // interval * interval
heights = [h for h in range(interval, top + 1, interval)][-12:]
if os.environ["HEIGHTS"]:
    heights = [int(x) for x in os.environ["HEIGHTS"].split(",")]
assert heights, "no output height yet"
for h in heights:
    b = call(urls[0], "chain_getBlock", [h])["result"]
    m = bytes([0x11, 0]) + bytes.fromhex(b["header"]["stateRoot"][2:]) + bytes.fromhex(b["hash"][2:]) + bytes(32)
    want = "0x" + hashlib.sha256(m).hexdigest()
    for u in urls:
        r = call(u, "rollup_outputSignatures", [h])
        if "result" not in r: sys.exit("%s height %d: %s" % (u, h, r))
        r = r["result"]
        if r["height"] != h or r["outputRoot"] != want or not r["ownRoot"]:
            sys.exit("%s height %d: root %s, want %s" % (u, h, r["outputRoot"], want))
        if not r["quorum"] or len(r["signers"]) < 3 or 3 * r["power"] <= 2 * r["totalPower"]:
            sys.exit("%s height %d: no quorum: %s" % (u, h, r))
        sigs = bytes.fromhex(r["sigs"][2:])
        if len(sigs) != 65 * len(r["signers"]) or any(sigs[65 * i + 64] not in (27, 28) for i in range(len(r["signers"]))):
            sys.exit("%s height %d: sigs %s" % (u, h, r["sigs"]))
        addrs = [s["address"].lower() for s in r["signers"]]
        if len(set(addrs)) != len(addrs):
            sys.exit("%s height %d: repeated signer" % (u, h))
print("output heights %s: quorum for the block's root on %d nodes" % (heights, len(urls)))
PY
}

tn_wait_all $((4 * INTERVAL + 2)) 60 0 1 2 3
# Signatures travel after the block: give the last one a moment.
ok=0
for _ in $(seq 1 50); do
  if check_outputs 0 1 2 3 >"$T_DIR/check.out" 2>&1; then ok=1; break; fi
  sleep 0.2
done
((ok)) || fail "output signatures: $(cat "$T_DIR/check.out")"
pass "$(cat "$T_DIR/check.out")"

r=$(tn_call 2 rollup_outputSignatures "[$INTERVAL]")
[[ $(jget "$r" 'len(j["result"]["signers"])') == 4 ]] || fail "all four signed height $INTERVAL: $r"
r=$(tn_call 1 rollup_outputSignatures '[]')
h=$(jget "$r" 'j["result"]["height"]')
((h % INTERVAL == 0 && h >= 4 * INTERVAL)) || fail "latest output height: $r"
r=$(tn_call 1 rollup_outputSignatures '[7]')
[[ $(jget "$r" 'j["error"]["code"]') == -32602 ]] || fail "height 7 is not an output height: $r"
cs=$(tn_call 0 consensus_state '[]')
[[ $(jget "$cs" 'j["result"]["outputSignatures"]["evidenceTotal"]') == 0 ]] || fail "evidence: $cs"
(($(jget "$cs" 'j["result"]["outputSignatures"]["signed"]') >= 4)) || fail "signed count: $cs"
(($(jget "$cs" 'j["result"]["outputSignatures"]["accepted"]') >= 12)) || fail "accepted count: $cs"
pass "all four signed height $INTERVAL; [] is the latest output height ($h); 7 refused; no evidence"

# node3 down for a few output heights, then back: it syncs, signs those
# heights itself and receives the others' signatures of them from its peers
# as its STATUS passes them (they were sent while it was down). Checked on
# node3 alone, right after it caught up, while they are in its window.
tn_kill 3
h=$(tn_height 0)
first=$(((h / INTERVAL + 1) * INTERVAL))
tn_wait_all $((first + INTERVAL + 1)) 60 0 1 2
tn_start 3
tn_wait_all $((first + INTERVAL)) 60 3
ok=0
for _ in $(seq 1 50); do
  if HEIGHTS="$first,$((first + INTERVAL))" check_outputs 3 >"$T_DIR/check.out" 2>&1; then ok=1; break; fi
  sleep 0.2
done
((ok)) || fail "after node3's restart: $(cat "$T_DIR/check.out")"
r=$(tn_call 3 rollup_outputSignatures "[$first]")
[[ $(jget "$r" 'len(j["result"]["signers"])') == 4 ]] || fail "node3, height $first: $r"
pass "node3 restarted: it holds all four signatures of heights $first and $((first + INTERVAL)), signed while it was down"
ok=0
for _ in $(seq 1 50); do
  if check_outputs 0 1 2 3 >"$T_DIR/check.out" 2>&1; then ok=1; break; fi
  sleep 0.2
done
((ok)) || fail "after node3's restart: $(cat "$T_DIR/check.out")"
pass "after the restart: $(cat "$T_DIR/check.out")"

# The proposer in node0 posts outputs with the signatures node0 gathered
# from the other validators: each output on the oracle is the chain's root
# and its proposeOutput carries at least 3 of the 4 signatures (the oracle
# refuses fewer; node0 alone holds one).
python3 - "$L1_URL" "$(tn_url 0)" "$ORACLE" "$INTERVAL" >"$T_DIR/posted.out" 2>&1 <<'PY' ||
import hashlib, json, sys, time, urllib.request
l1, l2, oracle, interval = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def ok(u, m, p):
    r = urllib.request.Request(u, json.dumps({"jsonrpc":"2.0","id":1,"method":m,"params":p}).encode(),
                               {"Content-Type":"application/json"})
    r = json.load(urllib.request.urlopen(r, timeout=10))
    if "result" not in r: sys.exit("%s %s: %s" % (m, p, r))
    return r["result"]
topic = ok(l1, "web3_sha3", ["0x" + b"OutputProposed(uint64,bytes32,uint64)".hex()])
logs = []
for _ in range(300):
    logs = ok(l1, "eth_getLogs", [{"address": oracle, "fromBlock": "0x0", "toBlock": "latest", "topics": [topic]}])
    if len(logs) >= 3: break
    time.sleep(0.2)
if len(logs) < 3: sys.exit("%d outputs posted in 60 s" % len(logs))
for lg in logs:
    h = int(lg["topics"][1], 16)
    b = ok(l2, "chain_getBlock", [h])
    m = bytes([0x11, 0]) + bytes.fromhex(b["header"]["stateRoot"][2:]) + bytes.fromhex(b["hash"][2:]) + bytes(32)
    if lg["data"][2:66] != hashlib.sha256(m).hexdigest(): sys.exit("output %d: %s" % (h, lg))
    data = bytes.fromhex(ok(l1, "eth_getTransactionByHash", [lg["transactionHash"]])["input"][2:])
    nsig = int.from_bytes(data[4 + 96:4 + 128], "big") // 65
    if nsig < 3: sys.exit("output %d posted with %d signatures" % (h, nsig))
print("node0's proposer posted outputs %s, each the chain's root with >= 3 of 4 signatures"
      % [int(lg["topics"][1], 16) for lg in logs])
PY
  fail "proposer: $(cat "$T_DIR/posted.out") $(grep -i 'rollup' "$TN/node0/node.log" | tail -5)"
pass "$(cat "$T_DIR/posted.out")"

# By hand, as an operator would: another OutputOracle for this chain (its
# genesis hash, interval 8, the four validators' addresses and powers)
# accepts an output posted with the signatures gathered over p2p, taken from
# rollup_outputSignatures as they are; two of four signatures are refused,
# three accepted (eth_call), and the root is then the oracle's.
python3 - "$L1_URL" "$(tn_url 1)" "$INTERVAL" \
  "$TN_ROOT/rollup/contracts/artifacts/OutputOracle.json" >"$T_DIR/l1.out" 2>&1 <<'PY' ||
import json, sys, time, urllib.request
l1, l2, interval, artifact = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def rpc(u, m, p):
    r = urllib.request.Request(u, json.dumps({"jsonrpc":"2.0","id":1,"method":m,"params":p}).encode(),
                               {"Content-Type":"application/json"})
    return json.load(urllib.request.urlopen(r, timeout=10))
def ok(u, m, p):
    r = rpc(u, m, p)
    if "result" not in r: sys.exit("%s %s: %s" % (m, p, r))
    return r["result"]
for _ in range(100):
    try: ok(l1, "eth_chainId", []); break
    except Exception: time.sleep(0.1)
acct = ok(l1, "eth_accounts", [])[0]
word = lambda v: v.to_bytes(32, "big")
def selector(sig): return bytes.fromhex(ok(l1, "web3_sha3", ["0x" + sig.encode().hex()])[2:10])
def send(data, to=None):
    tx = {"from": acct, "data": "0x" + data.hex(), "gas": hex(8000000)}
    if to: tx["to"] = to
    h = ok(l1, "eth_sendTransaction", [tx])
    for _ in range(100):
        rc = ok(l1, "eth_getTransactionReceipt", [h])
        if rc: return rc
        time.sleep(0.1)
    sys.exit("no receipt for %s" % h)

g = ok(l2, "chain_getGenesis", [])
# The latest output height that all four signed (the newest may still be
# on its way), well inside the window.
H = ok(l2, "rollup_outputSignatures", [])["height"]
for _ in range(4):
    full = ok(l2, "rollup_outputSignatures", [H])
    if len(full["signers"]) == 4: break
    H -= interval
addrs = [None] * len(g["validators"])
for s in full["signers"]: addrs[s["validator"]] = int(s["address"], 16)
assert None not in addrs, full
powers = [int(v["power"]) for v in g["validators"]]
n = len(addrs)
# constructor(bytes32 l2Genesis, uint64 outputInterval, uint64 finalizationPeriodSeconds,
#             address[] validators, uint64[] powers)
args = bytes.fromhex(g["hash"][2:]) + word(interval) + word(60) + word(5 * 32) + word(5 * 32 + 32 + 32 * n)
args += word(n) + b"".join(word(a) for a in addrs) + word(n) + b"".join(word(p) for p in powers)
code = bytes.fromhex(json.load(open(artifact))["bytecode"].removeprefix("0x"))
rc = send(code + args)
assert rc["status"] == "0x1", rc
oracle = rc["contractAddress"]

def propose(h, root, sigs):
    tail = word(len(sigs)) + sigs + bytes(-len(sigs) % 32)
    return selector("proposeOutput(uint64,bytes32,bytes)") + word(h) + bytes.fromhex(root[2:]) + word(96) + tail
def call(data):
    return rpc(l1, "eth_call", [{"from": acct, "to": oracle, "data": "0x" + data.hex()}, "latest"])

out = full
sigs = bytes.fromhex(out["sigs"][2:])
assert out["quorum"] and len(sigs) == 65 * 4, out
r2 = call(propose(H, out["outputRoot"], sigs[:130]))
assert "error" in r2, "two of four signatures accepted: %s" % r2
r3 = call(propose(H, out["outputRoot"], sigs[:195]))
assert "result" in r3, "three of four signatures refused: %s" % r3
rc = send(propose(H, out["outputRoot"], sigs), oracle)
assert rc["status"] == "0x1", rc
got = ok(l1, "eth_call", [{"to": oracle, "data": "0x" + (selector("getOutput(uint64)") + word(H)).hex()}, "latest"])
assert got[2:66] == out["outputRoot"][2:], (got, out["outputRoot"])
latest = ok(l1, "eth_call", [{"to": oracle, "data": "0x" + selector("latestOutputHeight()").hex()}, "latest"])
assert int(latest, 16) == H, latest
print("OutputOracle %s: output %d (root %s...) accepted with the 4 gathered signatures (gas %d); "
      "2 of 4 refused, 3 of 4 accepted" % (oracle, H, out["outputRoot"][:18], int(rc["gasUsed"], 16)))
PY
  fail "L1: $(cat "$T_DIR/l1.out")"
pass "$(cat "$T_DIR/l1.out")"

tn_down
grep -q 'signed two output roots\|signed output root' "$TN"/node*/node.log && fail "evidence logged"
echo "bft_output_sigs: all passed in $SECONDS s"
