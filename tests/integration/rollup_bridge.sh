#!/usr/bin/env bash
# The OPEN bridge end to end on one devnet validator settling on anvil
# (docs/rollup.md, "Bridge"): a deposit on the L1 is minted on the L2, OPEN
# moves on the L2, two withdrawals go through waiting_for_output,
# waiting_for_finalization and ready; finalizing early is refused, then one is
# finalized with exact balances on both sides; finalizing it again, a forged
# proof (a sibling byte, the amount, the withdrawals root), a proof for
# another output and anything after a freeze of the oracle are refused. The
# bridge's books balance after every step.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/rollup.sh"
source "$(dirname "$0")/lib/bridge.sh"

PERIOD=8 # finalizationPeriodSeconds: long enough to try finalizing early
DATA="$T_DIR/data"
anvil_start anvil
L1_URL=$ANVIL_URL
deploy_rollup "$DATA" --finalization-period "$PERIOD" --confirmations 1 --deposit-confirmations 2 --dev-fund
br_contracts
l1_interval "$L1_URL" 1
pass "contracts deployed: token $TOKEN, bridge $BRIDGE, oracle $ORACLE"

start_node node --datadir "$DATA" --quiet-accounts --p2p off --block-time 200 --empty-blocks-interval 300 \
  --l1 "$L1_URL" --rollup-config "$ROLLUP_CFG" --batch-max-delay 2000
IV=$(binfo 'b["outputIntervalBlocks"]')
[[ $(binfo 'b["bridge"].lower()') == "${BRIDGE,,}" && $(binfo 'b["depositConfirmations"]') == 2 &&
  $(binfo 'b["finalizationPeriodSeconds"]') == "$PERIOD" ]] || fail "bridge_info: $(rpc bridge_info '[]')"
# The genesis supply as chain_getGenesis sums the allocations.
GENESIS_SUPPLY=$(jget "$(rpc chain_getGenesis '[]')" 'int(j["result"]["allocTotal"])') || fail "chain_getGenesis"
conserve "start" 0 0 0 0

# --- deposit: dev0's L1 tokens to dev7 on the L2 ------------------------------
OPEN=1000000000
D=$((5 * OPEN))
A0=$(l1_addr dev0)
[[ $A0 == 0x* ]] || fail "bridge l1-address dev0: $A0"
l1_before=$(tok_balance "$A0")
((l1_before >= D)) || fail "dev0's L1 account holds $l1_before base units (--dev-fund)"
to7=$(l2_addr dev7)
l2_7=$(l2_balance "$to7")
out=$(cli bridge deposit --amount 5 --to "$to7" --from dev0 --no-wait --timeout 60 2>&1) || fail "bridge deposit: $out"
[[ $(awk '/^deposit nonce:/ {print $3}' <<<"$out") == 0 ]] || fail "bridge deposit does not name nonce 0: $out"
# The L1 stops mining until the books are checked: the deposit cannot get
# its confirmations meanwhile, so it is certainly not minted yet.
l1_interval "$L1_URL" 0
[[ $(tok_balance "$A0") == $((l1_before - D)) ]] || fail "dev0's L1 balance after the deposit: $(tok_balance "$A0")"
pass "deposit 0 on the L1: dev0 $l1_before -> $((l1_before - D)) base units"
conserve "the deposit on the L1, not yet minted" 0 0 "$D" 0
l1_interval "$L1_URL" 1
wait_for 30 "deposit 0 minted" is dep 0 'w and w["status"]' minted
[[ $(dep 0 '(int(w["amount"]), w["to"], w["from"].lower(), w["height"] > 0)') == "($D, '$to7', '${A0,,}', True)" ]] ||
  fail "bridge_getDeposit 0: $(rpc bridge_getDeposit '[0]')"
[[ $(l2_balance "$to7") == $((l2_7 + D)) ]] || fail "dev7 holds $(l2_balance "$to7"), want $((l2_7 + D))"
pass "deposit 0 minted: dev7 $l2_7 -> $((l2_7 + D))"
conserve "the deposit" "$D" 0 "$D" 0

# --- an L2 transfer: dev7 -> dev8 ---------------------------------------------
to8=$(l2_addr dev8)
l2_7=$(l2_balance "$to7")
l2_8=$(l2_balance "$to8")
out=$(cli send --from dev7 --to "$to8" --amount 1.5) || fail "send: $out"
fee=$(tx_fee "$(first_hash "$out")")
[[ $(l2_balance "$to7") == $((l2_7 - 3 * OPEN / 2 - fee)) && $(l2_balance "$to8") == $((l2_8 + 3 * OPEN / 2)) ]] ||
  fail "after the transfer: dev7 $(l2_balance "$to7") dev8 $(l2_balance "$to8")"
pass "transfer of 1.5 OPEN on the L2 (fee $fee)"
conserve "the transfer" "$D" 0 "$D" 0

# --- two withdrawals from dev8 to a fresh L1 address --------------------------
# The L1 stops mining while they are made, so that no output can cover them
# yet: waiting_for_output is seen for sure.
R=0x00000000000000000000000000000000b71d9e01
W0=$((2 * OPEN))
W1=$((3 * OPEN / 4))
l2_8=$(l2_balance "$to8")
l1_interval "$L1_URL" 0
out=$(cli withdraw --amount 2 --to "$R" --from dev8) || fail "withdraw 0: $out"
fee0=$(tx_fee "$(first_hash "$out")")
[[ $(awk '/^withdrawal id:/ {print $3}' <<<"$out") == 0 ]] || fail "withdraw does not name id 0: $out"
out=$(cli withdraw --amount 0.75 --to "$R" --from dev8) || fail "withdraw 1: $out"
fee1=$(tx_fee "$(first_hash "$out")")
[[ $(awk '/^withdrawal id:/ {print $3}' <<<"$out") == 1 ]] || fail "withdraw does not name id 1: $out"
for id in 0 1; do
  [[ $(wdr "$id" 'w["status"]') == waiting_for_output ]] || fail "withdrawal $id: $(rpc bridge_getWithdrawal "[$id]")"
done
st=$(cli bridge status 0) || fail "bridge status 0: $st"
grep -q "waiting for an output" <<<"$st" || fail "bridge status 0 does not say it waits for an output: $st"
l1_interval "$L1_URL" 1
[[ $(wdr 0 '(int(w["amount"]), w["l1Recipient"].lower(), w["sender"])') == "($W0, '${R,,}', '$to8')" ]] ||
  fail "bridge_getWithdrawal 0: $(rpc bridge_getWithdrawal '[0]')"
[[ $(l2_balance "$to8") == $((l2_8 - W0 - W1 - fee0 - fee1)) ]] || fail "dev8 holds $(l2_balance "$to8") after withdrawing"
# Each address's bridge history: dev8's withdrawals newest first, dev7's deposit.
[[ $(jget "$(rpc bridge_listByAddress "[\"$to8\"]")" \
  '([w["id"] for w in j["result"]["withdrawals"]], len(j["result"]["deposits"]))') == "([1, 0], 0)" &&
  $(jget "$(rpc bridge_listByAddress "[\"$to7\"]")" \
    '([d["nonce"] for d in j["result"]["deposits"]], len(j["result"]["withdrawals"]))') == "([0], 0)" ]] ||
  fail "bridge_listByAddress: $(rpc bridge_listByAddress "[\"$to8\"]") $(rpc bridge_listByAddress "[\"$to7\"]")"
pass "withdrawals 0 and 1 burned on the L2 (fees $fee0, $fee1), waiting for an output"
conserve "the withdrawals" "$D" $((W0 + W1)) "$D" 0

# --- waiting for finalization: finalizing now is refused ----------------------
wait_for 30 "withdrawal 0 posted" is wdr 0 'w["status"]' waiting_for_finalization
left=$(wdr 0 'w["secondsLeft"]')
oi0=$(wdr 0 'w["outputIndex"]')
oh0=$(wdr 0 'w["outputHeight"]')
((left > 0 && left <= PERIOD && oh0 == oi0 * IV && oh0 >= $(wdr 0 'w["height"]'))) ||
  fail "withdrawal 0 while waiting: $(rpc bridge_getWithdrawal '[0]')"
st=$(cli bridge status 0) || fail "bridge status 0: $st"
grep -q "waiting for finalization" <<<"$st" || fail "bridge status 0 while waiting: $st"
[[ $(finalize_call 0 none) == "$ERR_NOT_FINAL" ]] || fail "finalizeWithdrawal before the period: $(finalize_call 0 none)"
finalize_refused 0 "before the period ended"
[[ $(wdr 0 'w["status"]') == waiting_for_finalization && $(tok_balance "$R") == 0 ]] ||
  fail "the early finalization is not what was refused: $(rpc bridge_getWithdrawal '[0]')"
pass "finalizing before the period ends is refused (NotFinal; the CLI fails): $left s left at output $oh0"

# --- ready: finalize withdrawal 0 ---------------------------------------------
wait_for $((PERIOD + 30)) "withdrawal 0 ready" is wdr 0 'w["status"]' ready
wait_for 30 "withdrawal 1 ready" is wdr 1 'w["status"]' ready
# The node tells "ready" by its clock, the L1 by its latest block's.
wait_for 10 "finalizeWithdrawal(0) accepted by the L1" is finalize_call 0 none ok
a0=$(tok_balance "$A0")
out=$(cli bridge finalize 0 --from dev0 2>&1) || fail "bridge finalize 0: $out"
[[ $(tok_balance "$R") == "$W0" ]] || fail "the L1 recipient holds $(tok_balance "$R"), want $W0"
[[ $(tok_balance "$A0") == "$a0" ]] || fail "the sender of the finalization lost tokens"
[[ $(l1_finalized 0) == 1 && $(l1_finalized 1) == 0 ]] || fail "Bridge.finalized(0), (1): $(l1_finalized 0) $(l1_finalized 1)"
wait_for 30 "withdrawal 0 finalized" is wdr 0 'w["status"]' finalized
[[ $(l2_balance "$to8") == $((l2_8 - W0 - W1 - fee0 - fee1)) ]] || fail "dev8's L2 balance moved"
st=$(cli bridge status 0) || fail "bridge status 0: $st"
grep -q "finalized: released on the L1" <<<"$st" || fail "bridge status 0 once finalized: $st"
pass "withdrawal 0 finalized: the L1 recipient holds exactly $W0"
conserve "finalizing withdrawal 0" "$D" $((W0 + W1)) "$D" "$W0"

# --- refused: again, forged, another output -----------------------------------
[[ $(finalize_call 0 none) == "$ERR_ALREADY_FINALIZED" ]] || fail "a second finalization: $(finalize_call 0 none)"
finalize_refused 0 "a second time"
pass "a second finalization of withdrawal 0 is refused (AlreadyFinalized; the CLI fails)"

[[ $(finalize_call 1 none) == ok ]] || fail "finalizeWithdrawal(1) would revert: $(finalize_call 1 none)"
for m in sibling amount; do
  r=$(finalize_call 1 "$m")
  [[ $r == "$ERR_BAD_PROOF" ]] || fail "a proof with a changed $m: $r, want BadProof"
done
r=$(finalize_call 1 root)
[[ $r == "$ERR_OUTPUT_ROOT_MISMATCH" ]] || fail "a proof with a changed withdrawals root: $r"
pass "forged proofs of withdrawal 1 are refused (sibling byte, amount: BadProof; root: OutputRootMismatch)"

# A proof for output X sent with output index X+1: the next output holds
# withdrawal 1 too, under another root.
oi1=$(wdr 1 'w["outputIndex"]')
# (final, or the L1 would refuse it as NotFinal before comparing the roots)
wait_for $((PERIOD + 30)) "output $(((oi1 + 1) * IV)) final" \
  is status "(s['finalized'] or 0) >= $(((oi1 + 1) * IV))" True
for _ in $(seq 1 50); do
  r=$(finalize_call 1 none $((oi1 + 1)) $((oi1 + 1)))
  [[ $r == ok ]] && break
  sleep 0.2
done
[[ $r == ok ]] || fail "withdrawal 1's proof for output $((oi1 + 1)): $r $(rpc bridge_getWithdrawalProof "[1, {\"outputIndex\": $((oi1 + 1))}]") $(rpc node_status '[]')"
r=$(finalize_call 1 none $((oi1 + 1)) "$oi1")
[[ $r == "$ERR_OUTPUT_ROOT_MISMATCH" ]] || fail "the proof for output $oi1 sent with index $((oi1 + 1)): $r"
r=$(finalize_call 1 none $((oi1 + 1000)) "$oi1")
[[ $r == "$ERR_OUTPUT_NOT_FOUND" ]] || fail "the proof sent with index $((oi1 + 1000)): $r"
[[ $(l1_finalized 1) == 0 && $(tok_balance "$R") == "$W0" ]] || fail "withdrawal 1 moved"
pass "a proof for output $oi1 sent with output index $((oi1 + 1)) is refused (OutputRootMismatch)"
conserve "the refused finalizations" "$D" $((W0 + W1)) "$D" "$W0"

# --- a frozen oracle: withdrawal 1 cannot be finalized --------------------------
"$POST" freeze --l1 "$L1_URL" --config "$ROLLUP_CFG" --key "$L1_KEY" --height "$IV" --dev-validator \
  >"$T_DIR/freeze.out" 2>&1 || fail "freeze: $(cat "$T_DIR/freeze.out")"
[[ $(oracle_frozen) == 1 ]] || fail "the oracle is not frozen"
r=$(finalize_call 1 none)
[[ $r == "$ERR_ORACLE_FROZEN" ]] || fail "finalizing on a frozen oracle: $r"
finalize_refused 1 "on a frozen oracle"
wait_for 30 "withdrawal 1 frozen" is wdr 1 'w["status"]' frozen
[[ $(l1_finalized 1) == 0 && $(tok_balance "$R") == "$W0" ]] || fail "withdrawal 1 moved on a frozen oracle"
st=$(cli bridge status 1) || fail "bridge status 1: $st"
grep -q "frozen" <<<"$st" || fail "bridge status 1 on a frozen oracle: $st"
pass "after a freeze (two roots signed for height $IV) withdrawal 1 is refused (OracleFrozen) and shown frozen"
conserve "the freeze" "$D" $((W0 + W1)) "$D" "$W0"
stop_node
