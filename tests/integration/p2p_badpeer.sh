#!/usr/bin/env bash
# A peer that speaks the protocol but misbehaves is disconnected and banned
# (issue 11): tests/tools/p2p_badpeer does the real handshake, then sends a
# TXS that does not decode, a frame header past its type's limit, a reserved
# consensus type, a forged block for a height it claimed, or no block for a
# height it claimed. After each, the node must hang up (exit 0), and the same
# node id must then be refused (probe: exit 3), while a fresh id is accepted
# and the node keeps committing transactions. Needs the p2p_badpeer program.
source "$(dirname "$0")/lib/common.sh"

BADPEER="${OL_BUILD_DIR:?set by ctest}/p2p_badpeer"
[[ -x "$BADPEER" ]] || fail "$BADPEER missing: build the p2p_badpeer target first"

P2P=$(free_port)
start_node v --p2p "127.0.0.1:$P2P" --block-time 100

# send_ok: a transfer through the node's RPC is committed.
send_ok() {
  local out
  out=$(cli send --from dev0 --to dev1 --amount 0.001) || fail "send: $out"
  grep -qi success <<<"$out" || fail "send did not report success: $out"
}

# A block exists, so the forged block has a real parent to build on.
send_ok
h0=$(jget "$(rpc node_status '[]')" 'j["result"]["height"]')
(( h0 >= 1 )) || fail "no block after a transfer (height $h0)"

# badpeer MODE IDFILE: runs the tool, prints its line, sets BP_RC.
badpeer() {
  local out
  set +e
  out=$("$BADPEER" --connect "127.0.0.1:$P2P" --genesis-dev --mode "$1" --id-file "$2" 2>&1)
  BP_RC=$?
  set -e
  echo "$out"
}

badpeer probe "$T_DIR/id.honest"
[[ $BP_RC -eq 0 ]] || fail "an honest peer was not accepted (exit $BP_RC)"
pass "an honest peer is accepted"

modes=(garbage oversized unknown forged-block no-serve)
for mode in "${modes[@]}"; do
  badpeer "$mode" "$T_DIR/id.$mode"
  [[ $BP_RC -eq 0 ]] || fail "$mode: the node did not disconnect the peer (exit $BP_RC)"
  badpeer probe "$T_DIR/id.$mode"
  [[ $BP_RC -eq 3 ]] || fail "$mode: the same id was not refused afterwards (exit $BP_RC)"
  pass "$mode: disconnected, and its id banned"
done

# The bans are counted and logged with their reasons; honest peers and block
# transactions are unaffected.
bans=$(curl -s "$T_RPC/metrics" | awk '$1 == "openledger_p2p_bans_total" {print $2}')
[[ "$bans" -ge ${#modes[@]} ]] || fail "openledger_p2p_bans_total is '$bans', want >= ${#modes[@]}"
[[ $(grep -c "banning peer" "$T_DIR/v.log") -ge ${#modes[@]} ]] || fail "bans not logged"
# The forged block carried the node's own head and its commit: only
# execution could find it wrong (docs/blocks.md, rule wrong_state_root).
grep -q "wrong_state_root" "$T_DIR/v.log" || fail "the forged block was not refused for its state root"
badpeer probe "$T_DIR/id.honest"
[[ $BP_RC -eq 0 ]] || fail "the honest peer was refused after the bans (exit $BP_RC)"
send_ok
h1=$(jget "$(rpc node_status '[]')" 'j["result"]["height"]')
(( h1 > h0 )) || fail "no new block after the bad peers ($h0 -> $h1)"
pass "bans counted ($bans) and logged; honest peers and transactions unaffected"

stop_node
