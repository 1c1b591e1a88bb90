#!/usr/bin/env bash
# A validator whose disk fills under its consensus WAL and signer state
# (tests/fault/enospc.c) stops signing and says why, while the three others
# keep committing; restarted with room again it signs again, and nobody ever
# sees it sign two conflicting votes.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/testnet.sh"
: "${OL_FAULT_ENOSPC_SHIM:?set by ctest}"
SECONDS=0
tn_make "$T_DIR/tn" 4
FLAG="$T_DIR/disk_full"

# node3 runs under the shim (the others and the tools do not).
start3() {
  LD_PRELOAD=$OL_FAULT_ENOSPC_SHIM OL_FAULT_DIR="$TN/node3/consensus" OL_FAULT_ENOSPC_FLAG="$FLAG" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0:detect_leaks=0" \
    "$OPENLEDGERD" --datadir "$TN/node3" >>"$TN/node3/node.log" 2>&1 &
  echo $! >"$TN/node3/node.pid"
  T_PIDS+=("$!")
}
start3
tn_up
tn_wait_all 3 20 0 1 2 3
pass "4 validators commit, node3 under the ENOSPC shim"

touch "$FLAG"
for _ in $(seq 1 100); do grep -q 'stops signing' "$TN/node3/node.log" && break; sleep 0.1; done
grep 'stops signing' "$TN/node3/node.log" | grep -q 'No space left on device' ||
  fail "node3 did not say it stops signing because the disk is full"
st=$(tn_call 3 node_status '[]')
[[ $(jget "$st" 'j["result"]["consensus"]["signing"]') == False ]] || fail "node_status.consensus.signing: $st"
grep -q '^openledger_consensus_signing 0' <<<"$(curl -s "$(tn_url 3)/metrics")" || fail "metrics: signing"
h=$(tn_height 0)
tn_wait_all $((h + 4)) 20 0 1 2 3
pass "disk full: node3 stops signing and says why; the chain goes on, node3 follows it"

tn_kill 3
rm -f "$FLAG"
start3
h=$(tn_height 0)
tn_wait_all $((h + 4)) 30 0 1 2 3
st=$(tn_call 3 node_status '[]')
[[ $(jget "$st" 'j["result"]["consensus"]["signing"]') == True ]] || fail "node3 does not sign after restart: $st"
# node3 signs again: its count of signatures grows.
signed() { curl -s "$(tn_url 3)/metrics" | awk '/^openledger_consensus_signed_total /{print $2}'; }
s1=$(signed)
h=$(tn_height 0)
tn_wait_all $((h + 3)) 20 0
s2=$(signed)
((s2 > s1)) || fail "node3 signs nothing after restart ($s1 -> $s2)"
pass "restarted with room: node3 signs again"

if grep -E 'signed two|equivocated' "$TN"/node*/node.log; then fail "evidence of equivocation"; fi
tn_same_chains 0 1 2 3 || fail "chains differ"
tn_down
pass "no equivocation; identical chains"
echo "bft_wal_enospc: all passed in $SECONDS s"
