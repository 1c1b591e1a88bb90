#!/usr/bin/env bash
# Proof of attribution through the real node and the real CLI: the small
# demonstration with its checks, a story told with openledger-cli, then every
# bad-input line of the issue, each refused with its named reason and leaving
# the state exactly as it was (balances, nonces, pending nonces and every
# datanet, contribution, model and record, compared before and after).
source "$(dirname "$0")/lib/common.sh"

SRC=${OL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

out=$("$SRC/scripts/demo-attribution" --small 2>&1) || fail "demo-attribution --small: $out"
grep -q 'all checks passed' <<<"$out" || fail "demo did not pass: $out"
pass "scripts/demo-attribution --small"

start_node n1 --block-time 100
export OPENLEDGER_KEYSTORE="$T_DIR/keys" OPENLEDGER_PASSWORD=itest OPENLEDGER_SCRYPT_N=1024

# Everything an explorer could see, as one text: accounts of the dev keys and
# of the test's own key, and every attribution object.
cat >"$T_DIR/snapshot.py" <<'EOF'
import json, sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import ol_txlib as L
rpc = L.Rpc(sys.argv[2])
out = {"accounts": [rpc.call("account_get", a) for a in sys.argv[3:]]}
out["datanets"] = list(rpc.pages("datanet_list"))
out["models"] = list(rpc.pages("model_list", None))
out["contributions"] = [list(rpc.pages("contribution_list", {"datanet": d["id"]})) for d in out["datanets"]]
out["records"] = [list(rpc.pages("attribution_list", {"model": m["id"]})) for m in out["models"]]
print(json.dumps(out, sort_keys=True))
EOF
ADDRS=()
for i in 0 1 2 3 4 5 6; do
  ADDRS+=("$(python3 -B -c "import sys; sys.path.insert(0,'$SRC/scripts'); import ol_txlib as L; print(L.dev_key($i).address)")")
done
snapshot() { python3 "$T_DIR/snapshot.py" "$SRC/scripts" "$T_RPC" "${ADDRS[@]}"; }

# expect_refused WHAT TOKEN CMD...: CMD fails, its message names TOKEN, and
# nothing an explorer or a wallet can see changed.
expect_refused() {
  local what=$1 token=$2 before after msg
  shift 2
  before=$(snapshot)
  if msg=$("$@" 2>&1); then fail "$what: accepted: $msg"; fi
  grep -q -- "$token" <<<"$msg" || fail "$what: message does not name '$token': $msg"
  after=$(snapshot)
  [[ $before == "$after" ]] || fail "$what: the state changed"
  pass "$what refused ($token)"
}

# raw KIND: a transaction the CLI would never sign, built and signed in
# Python, sent as is; prints the node's error code and message.
cat >"$T_DIR/raw.py" <<'EOF'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import ol_txlib as L
rpc = L.Rpc(sys.argv[2])
kind = sys.argv[3]
cid, gh = rpc.domain()
k = L.dev_key(int(sys.argv[4]))
nonce = rpc.call("account_get", k.address)["pendingNonce"]
if kind == "long-name":
    t, body, gas = L.DATANET_CREATE, L.body_datanet_create("n" * 65), 5000
elif kind == "long-uri":
    t, body, gas = L.CONTRIBUTE, L.body_contribute(2, bytes(range(32)), 1, "u" * 257), 3000
elif kind == "bad-split":
    t, body, gas = L.MODEL_REGISTER, L.body_model_register("m", [1], k.pubkey, (2000, 1000, 6999)), 6000
elif kind == "dup-entry":
    t, body, gas = L.ATTRIBUTE, L.body_attribute(1, 1, [(1, 1), (4, 2), (1, 3)]), 100000
elif kind == "too-many":
    t, body, gas = L.ATTRIBUTE, L.body_attribute(1, 1, [(i + 1, 1) for i in range(257)]), 200000
tx = L.sign_tx(k, cid, gh, t, nonce, gas, body)
try:
    rpc.call("tx_send", tx.hex)
    print("accepted")
    sys.exit(0)
except L.RpcError as e:
    print("%s %s" % (e.code, e.message))
    sys.exit(1)
EOF
raw() { python3 "$T_DIR/raw.py" "$SRC/scripts" "$T_RPC" "$@"; }

# ---- the story, with the CLI -------------------------------------------------
echo "readme" >"$T_DIR/readme"
for i in 1 2 3 4 5; do echo "data $i" >"$T_DIR/f$i"; done
cli datanet create reviewed "$T_DIR/readme" --uri ipfs://readme --bond 0.5 --review --from dev0 >"$T_DIR/out" ||
  fail "datanet create: $(cat "$T_DIR/out")"
grep -q '^datanet       1$' "$T_DIR/out" || fail "datanet create shows no id: $(cat "$T_DIR/out")"
cli datanet create open --from dev0 >/dev/null || fail "datanet create open"
cli datanet create elsewhere --from dev1 >/dev/null || fail "datanet create elsewhere"
pass "datanet create (3)"

cli contribute --datanet 1 "$T_DIR/f1" --uri s3://x/1 --from dev2 >"$T_DIR/out" || fail "contribute: $(cat "$T_DIR/out")"
grep -q 'status        pending' "$T_DIR/out" || fail "contribution 1 not pending: $(cat "$T_DIR/out")"
cli contribute --datanet 1 "$T_DIR/f2" --from dev2 >/dev/null || fail "contribute 2"
cli contribute --datanet 1 "$T_DIR/f3" --from dev3 >/dev/null || fail "contribute 3"
cli contribute --datanet 2 "$T_DIR/f4" --from dev3 >"$T_DIR/out" || fail "contribute 4"
grep -q 'status        accepted' "$T_DIR/out" || fail "contribution 4 not accepted: $(cat "$T_DIR/out")"
cli contribute --datanet 3 "$T_DIR/f5" --from dev2 >/dev/null || fail "contribute 5"
bal=$(jget "$(rpc account_get "[\"${ADDRS[2]}\"]")" 'j["result"]["balance"]')
[[ $bal == $((10000000000000000 - 3 * 3000 - 2 * 500000000)) ]] || fail "bonds not locked: $bal"
pass "contribute (5), bonds locked"

cli review 1 --accept --from dev0 >/dev/null || fail "review accept"
cli review 2 --reject 4 --from dev0 >"$T_DIR/out" || fail "review reject"
grep -q 'rejected (reason 4)' "$T_DIR/out" || fail "reject output: $(cat "$T_DIR/out")"
bal=$(jget "$(rpc account_get "[\"${ADDRS[2]}\"]")" 'j["result"]["balance"]')
[[ $bal == $((10000000000000000 - 3 * 3000 - 500000000)) ]] || fail "bond of the accepted one not back: $bal"
pass "review: accept returns the bond, reject forfeits it"

cli key new --name poor >/dev/null || fail "key new"
cli send --from dev0 --to poor --amount 1 >/dev/null || fail "fund poor"
cli model register m --datanet 1 --datanet 2 --split 2000/1000/7000 --attestor dev5 --from dev4 >"$T_DIR/out" ||
  fail "model register: $(cat "$T_DIR/out")"
grep -q '^datanets      1, 2$' "$T_DIR/out" || fail "model output: $(cat "$T_DIR/out")"
cli model register poorman --datanet 2 --split 0/0/10000 --attestor poor --from dev4 >/dev/null || fail "model 2"
pass "model register (2)"

echo '[{"contribution": 1, "weight": 3}, {"contribution": 4, "weight": "1"}]' >"$T_DIR/ok.json"
cli attribute --model 1 --fee 2.5 --entries "$T_DIR/ok.json" --method gradient --from dev5 >"$T_DIR/out" ||
  fail "attribute: $(cat "$T_DIR/out")"
grep -q 'contributor .* 1.3125 OPEN  (contribution 1)' "$T_DIR/out" || fail "payouts: $(cat "$T_DIR/out")"
grep -q 'owner .* 0.5 OPEN' "$T_DIR/out" || fail "owner payout: $(cat "$T_DIR/out")"
out=$(cli impact dev2) || fail "impact: $out"
grep -q 'earned        1.3125 OPEN' <<<"$out" || fail "impact: $out"
grep -q 'model 1 "m": 1 inferences, 1 payouts, earned 1.3125 OPEN' <<<"$out" || fail "impact by model: $out"
cli datanet list | grep -q 'reviewed' || fail "datanet list"
cli model show 1 | grep -q 'inferences    1' || fail "model show"
pass "attribute and impact"

# ---- bad input ------------------------------------------------------------------
printf '[{"contribution": 1, "weight": 1}]' >"$T_DIR/c1.json"
printf '[{"contribution": 3, "weight": 1}]' >"$T_DIR/pending.json"
printf '[{"contribution": 2, "weight": 1}]' >"$T_DIR/rejected.json"
printf '[{"contribution": 5, "weight": 1}]' >"$T_DIR/foreign.json"
printf '[{"contribution": 99, "weight": 1}]' >"$T_DIR/unknown.json"
printf '[{"contribution": 4, "weight": 1}]' >"$T_DIR/c4.json"
printf '[{"contribution": 1, "weight": 1}, {"contribution": 1, "weight": 2}]' >"$T_DIR/dup.json"
python3 -c 'import json; print(json.dumps([{"contribution": i + 1, "weight": 1} for i in range(257)]))' \
  >"$T_DIR/many.json"

expect_refused "attribution from a non-attestor" not_attestor \
  cli attribute --model 1 --fee 1 --entries "$T_DIR/c1.json" --from dev4
expect_refused "entry naming a pending contribution" contribution_not_accepted \
  cli attribute --model 1 --fee 1 --entries "$T_DIR/pending.json" --from dev5
expect_refused "entry naming a rejected contribution" contribution_not_accepted \
  cli attribute --model 1 --fee 1 --entries "$T_DIR/rejected.json" --from dev5
expect_refused "entry naming a foreign contribution" foreign_contribution \
  cli attribute --model 1 --fee 1 --entries "$T_DIR/foreign.json" --from dev5
expect_refused "entry naming an unknown contribution" unknown_contribution \
  cli attribute --model 1 --fee 1 --entries "$T_DIR/unknown.json" --from dev5
expect_refused "duplicate entry (CLI)" "duplicate entry" \
  cli attribute --model 1 --fee 1 --entries "$T_DIR/dup.json" --from dev5
expect_refused "duplicate entry (raw transaction)" "duplicate entry" raw dup-entry 5
expect_refused "too many entries (CLI)" too_many_entries \
  cli attribute --model 1 --fee 1 --entries "$T_DIR/many.json" --from dev5
expect_refused "too many entries (raw transaction)" "257 attribution entries, at most 256" raw too-many 5
expect_refused "fee above the balance" insufficient_funds \
  cli attribute --model 2 --fee 5 --entries "$T_DIR/c4.json" --from poor
expect_refused "split not summing to 10,000 (CLI)" "not 10000" \
  cli model register bad --datanet 1 --split 2000/1000/6999 --from dev4
expect_refused "split not summing to 10,000 (raw transaction)" "split must sum to 10000" raw bad-split 4
expect_refused "review by a non-owner" not_datanet_owner cli review 3 --accept --from dev1
expect_refused "review of an accepted contribution" not_pending cli review 1 --reject 2 --from dev0
expect_refused "review of a rejected contribution" not_pending cli review 2 --accept --from dev0
expect_refused "duplicate content hash" duplicate_contribution \
  cli contribute --datanet 1 "$T_DIR/f1" --from dev3
expect_refused "contribution to an unknown datanet" unknown_datanet \
  cli contribute --datanet 99 "$T_DIR/f1" --from dev3
expect_refused "model on an unknown datanet" unknown_datanet \
  cli model register ghost --datanet 99 --split 2000/1000/7000 --from dev4
expect_refused "attribution to an unknown model" unknown_model \
  cli attribute --model 99 --fee 1 --entries "$T_DIR/c1.json" --from dev5
expect_refused "name over its limit (CLI)" "too long" \
  cli datanet create "$(printf 'n%.0s' {1..65})" --from dev0
expect_refused "name over its limit (raw transaction)" "name too long" raw long-name 0
expect_refused "URI over its limit (CLI)" "too long" \
  cli contribute --datanet 2 "$T_DIR/f2" --uri "$(printf 'u%.0s' {1..257})" --from dev3
expect_refused "URI over its limit (raw transaction)" "uri too long" raw long-uri 3

# The JSON-RPC side of bad input: wrong params get -32602, unknown ids -32001.
code() { jget "$1" 'j["error"]["code"]'; }
[[ $(code "$(rpc datanet_get '[99]')") == -32001 ]] || fail "datanet_get 99"
[[ $(code "$(rpc model_list '[{"owner": "nope"}]')") == -32602 ]] || fail "model_list bad owner"
[[ $(code "$(rpc datanet_list '[null, 1000]')") == -32602 ]] || fail "datanet_list limit"
[[ $(code "$(rpc attribution_list '[{"model": 1}, "00"]')") == -32602 ]] || fail "bad cursor"
pass "RPC parameter errors"

stop_node
echo "attribution: all passed"
