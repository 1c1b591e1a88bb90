#!/usr/bin/env bash
# A deposit that an L1 reorganisation removes before it is depositConfirmations
# deep is never minted; the deposit made afterwards, with the same nonce,
# is minted exactly once, also after a shallow reorganisation above it
# (docs/rollup.md, "L1 reorganisations and deposits").
#
# anvil mines a block per transaction only, and the node is not the
# batcher (it posts nothing): the L1 grows only when this test makes it.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/rollup.sh"
source "$(dirname "$0")/lib/bridge.sh"

CONF=3
DATA="$T_DIR/data"
anvil_start anvil
L1_URL=$ANVIL_URL
deploy_rollup "$DATA" --finalization-period 3600 --deposit-confirmations "$CONF" --batcher "$L1_KEY_ADDR" --dev-fund
br_contracts
start_node node --datadir "$DATA" --quiet-accounts --p2p off --block-time 200 --empty-blocks-interval 300 \
  --l1 "$L1_URL" --rollup-config "$ROLLUP_CFG"
[[ $(status 's["l1"]["mode"]') == follow ]] || fail "the node posts to the L1: $(rpc node_status '[]')"
conserve "start" 0 0 0 0

OPEN=1000000000
A0=$(l1_addr dev0)
to7=$(l2_addr dev7)
l1_0=$(tok_balance "$A0")
l2_7=$(l2_balance "$to7")

# node_sees_l1 N: the node's L1 head is at least N.
node_sees_l1() { (($(binfo 'b["l1Head"] or 0') >= $1)); }
# l2_blocks N: N more L2 blocks (the proposer had its chances).
l2_blocks() {
  local h
  h=$(status 's["height"]')
  wait_status "s['height'] >= $h + $1" 30 "$1 L2 blocks"
}

# depth BLOCK: how many L1 blocks sit on top of BLOCK (the watcher mints a
# deposit once depositConfirmations do: docs/rollup.md, "The deposit watcher").
depth() { echo $(($(l1_head) - $1)); }
# deposit_block OUT: the L1 block of the deposit the CLI reports.
deposit_block() { awk '/^L1 block:/ {print $3}' <<<"$1"; }

# --- a deposit, then a reorganisation before it is confirmed ------------------
snap=$(l1_result evm_snapshot '[]')
out=$(cli bridge deposit --amount 4 --to "$to7" --from dev0 --no-wait 2>&1) || fail "bridge deposit: $out"
b=$(deposit_block "$out")
[[ $b =~ ^[0-9]+$ ]] || fail "no L1 block in: $out"
l1_mine $((CONF - 1))
head=$(l1_head)
[[ $(depth "$b") == $((CONF - 1)) ]] || fail "the deposit is $(depth "$b") deep"
wait_for 20 "the node at L1 head $head" node_sees_l1 "$head"
l2_blocks 5
[[ $(binfo 'b["nextDeposit"]') == 0 && $(l2_balance "$to7") == "$l2_7" && $(dep 0 'w is None') == True ]] ||
  fail "taken at $((CONF - 1)) confirmations: $(rpc bridge_info '[]') $(rpc bridge_getDeposit '[0]')"
[[ $(metric openledger_bridge_deposits_confirmed_pending) == 0 ]] || fail "a deposit counted as confirmed"
conserve "a deposit with $((CONF - 1)) confirmations" 0 0 $((4 * OPEN)) 0

[[ $(l1_result evm_revert "[\"$snap\"]") == True ]] || fail "evm_revert"
[[ $(tok_balance "$A0") == "$l1_0" ]] || fail "the reorganisation left dev0's deposit on the L1"
l1_mine $((CONF + 7))
head=$(l1_head)
wait_for 20 "the node at L1 head $head" node_sees_l1 "$head"
l2_blocks 5
[[ $(binfo '(b["nextDeposit"], int(b["minted"]))') == "(0, 0)" && $(l2_balance "$to7") == "$l2_7" ]] ||
  fail "the removed deposit was minted: $(rpc bridge_info '[]'), dev7 $(l2_balance "$to7")"
[[ $(dep 0 'w is None') == True ]] ||
  fail "bridge_getDeposit 0 shows the removed deposit: $(rpc bridge_getDeposit '[0]')"
pass "the deposit removed with $((CONF - 1)) confirmations is never minted ($((CONF + 7)) L1 blocks later)"
conserve "the reorganisation" 0 0 0 0

# --- the next deposit (nonce 0 again): minted at exactly CONF, once -----------
# The CLI waits for the mint and tells how many confirmations are missing,
# counted as the node counts them.
cli bridge deposit --amount 3 --to "$to7" --from dev0 --timeout 60 >"$T_DIR/dep2.out" 2>"$T_DIR/dep2.err" &
dep_cli=$!
T_PIDS+=("$dep_cli")
wait_for 20 "the second deposit on the L1" is l1_view "$BRIDGE" "0x$SEL_DEPOSIT_NONCE" 1
b=$(l1_head) # the deposit's block: this L1 mines a block per transaction
l1_mine $((CONF - 1))
head=$(l1_head)
wait_for 20 "the node at L1 head $head" node_sees_l1 "$head"
l2_blocks 3
[[ $(binfo 'b["nextDeposit"]') == 0 ]] || fail "minted with $(depth "$b") confirmations"
for _ in $(seq 1 50); do
  grep -q "of $CONF (1 to go)" "$T_DIR/dep2.err" && break
  sleep 0.2
done
grep -q "of $CONF (1 to go)" "$T_DIR/dep2.err" ||
  fail "the CLI does not wait for 1 more confirmation: $(cat "$T_DIR/dep2.err")"
! grep -q "confirmed on the L1" "$T_DIR/dep2.err" ||
  fail "the CLI calls the deposit confirmed one block early: $(cat "$T_DIR/dep2.err")"
l1_mine 1
wait_for 30 "the new deposit 0 minted" is dep 0 'w and w["status"]' minted
wait "$dep_cli" || fail "bridge deposit: $(cat "$T_DIR/dep2.out" "$T_DIR/dep2.err")"
[[ $(deposit_block "$(cat "$T_DIR/dep2.out")") == "$b" ]] || fail "bridge deposit: $(cat "$T_DIR/dep2.out")"
[[ $(dep 0 '(int(w["amount"]), w["l1Block"])') == "($((3 * OPEN)), $b)" ]] ||
  fail "bridge_getDeposit 0: $(rpc bridge_getDeposit '[0]')"
[[ $(l2_balance "$to7") == $((l2_7 + 3 * OPEN)) ]] || fail "dev7 holds $(l2_balance "$to7"), want $((l2_7 + 3 * OPEN))"
pass "the deposit made after the reorganisation is minted with $CONF confirmations, not $((CONF - 1))"
conserve "the second deposit" $((3 * OPEN)) 0 $((3 * OPEN)) 0

# A shallow reorganisation above it (its block stays) changes nothing.
[[ $(l1_result anvil_reorg '[1, []]') == None ]] || fail "anvil_reorg"
l1_mine $((CONF + 3))
head=$(l1_head)
wait_for 20 "the node at L1 head $head" node_sees_l1 "$head"
l2_blocks 5
[[ $(binfo '(b["nextDeposit"], int(b["minted"]))') == "(1, $((3 * OPEN)))" &&
  $(l2_balance "$to7") == $((l2_7 + 3 * OPEN)) ]] || fail "after more L1 blocks: $(rpc bridge_info '[]')"
pass "deposit 0 is minted once, after a 1-block reorganisation above it and $((CONF + 3)) more L1 blocks"
conserve "the end" $((3 * OPEN)) 0 $((3 * OPEN)) 0
stop_node
