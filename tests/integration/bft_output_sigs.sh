#!/usr/bin/env bash
# Output signatures between four validators (docs/rollup.md, "Output
# signatures between validators"): with outputIntervalBlocks 8, each
# validator signs the output root of heights 8, 16, 24, ... and sends it to
# its peers (p2p OUTPUT_SIG); every node's rollup_outputSignatures then holds
# more than 2/3 of the power for the same root, which is the output root
# recomputed here from the block (SHA-256 of 0x11, version 0, state root,
# block hash, 32 zero bytes), and the packed signatures are sorted by signer.
# A validator killed and restarted gets the signatures of the heights it
# missed from its peers (sent to each new peer) and signs the heights it
# syncs.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/testnet.sh"
SECONDS=0
INTERVAL=8
tn_make "$T_DIR/tn" 4
sed -i "s/\"outputIntervalBlocks\": *[0-9]*/\"outputIntervalBlocks\": $INTERVAL/" "$TN/genesis.json"
grep -q "\"outputIntervalBlocks\": $INTERVAL" "$TN/genesis.json" || fail "genesis edit"
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

tn_down
grep -q 'signed two output roots\|signed output root' "$TN"/node*/node.log && fail "evidence logged"
echo "bft_output_sigs: all passed in $SECONDS s"
