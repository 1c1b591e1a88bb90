#!/usr/bin/env bash
# A real devnet and the real CLI: a first transfer, end to end, and bad input.
source "$(dirname "$0")/lib/common.sh"

start_node n1 --block-time 200
export OPENLEDGER_KEYSTORE="$T_DIR/keys" OPENLEDGER_PASSWORD=itest OPENLEDGER_SCRYPT_N=1024

out=$(cli status) || fail "status"
grep -q openledger-devnet <<<"$out" || fail "status shows the chain id: $out"
pass "status"

cli key new --name alice >/dev/null || fail "key new"
alice=$(cli --json key show alice | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')
[[ $alice == ol1* && ${#alice} -eq 41 ]] || fail "alice address $alice"
[[ $(stat -c %a "$T_DIR/keys/alice.json") == 600 ]] || fail "keystore mode"
pass "key new ($alice)"

out=$(cli send --from dev0 --to "$alice" --amount 1.25) || fail "send: $out"
grep -qi success <<<"$out" || fail "send did not report success: $out"
pass "send 1.25 OPEN"

bal=$(rpc account_get "[\"$alice\"]")
[[ $(jget "$bal" 'j["result"]["balance"]') == 1250000000 ]] || fail "balance $bal"
out=$(cli balance "$alice")
grep -q '1.25 OPEN' <<<"$out" || fail "cli balance: $out"
pass "balance 1.25"

# alice sends back (her keystore key, passphrase from the environment)
out=$(cli send --from alice --to dev1 --amount 0.5) || fail "send from keystore: $out"
bal=$(rpc account_get "[\"$alice\"]")
[[ $(jget "$bal" 'j["result"]["balance"]') == 749999000 ]] || fail "after fee: $bal"
[[ $(jget "$bal" 'j["result"]["nonce"]') == 1 ]] || fail "nonce: $bal"
pass "send back, fee charged"

out=$(cli prove "$alice") || fail "prove: $out"
grep -q 'proof OK' <<<"$out" || fail "prove output: $out"
cli key new --name bob >/dev/null || fail "key new bob"
out=$(cli prove bob) || fail "prove absent: $out"
grep -q 'absent' <<<"$out" || fail "absent account proof output: $out"
pass "prove (present and absent)"

blk=$(rpc chain_getBlock '["latest"]')
[[ $(jget "$blk" 'j["result"]["header"]["height"] >= 2') == True ]] || fail "latest block $blk"
cli block 1 >/dev/null || fail "cli block 1"
pass "blocks"

# Bad input over JSON-RPC: errors with the right codes, the node keeps running.
code() { jget "$1" 'j["error"]["code"]'; }
r=$(curl -s -d 'not json' "$T_RPC"); [[ $(code "$r") == -32700 ]] || fail "not json: $r"
r=$(curl -s -d '{"jsonrpc":"2.0","id":1}' "$T_RPC"); [[ $(code "$r") == -32600 ]] || fail "no method: $r"
r=$(rpc no_such '[]'); [[ $(code "$r") == -32601 ]] || fail "unknown method: $r"
r=$(rpc account_get '[42]'); [[ $(code "$r") == -32602 ]] || fail "wrong type: $r"
r=$(rpc account_get '["ol1notanaddress"]'); [[ $(code "$r") == -32602 ]] || fail "bad address: $r"
r=$(rpc tx_send '["0xzz"]'); [[ $(code "$r") == -32602 ]] || fail "bad hex: $r"
r=$(rpc tx_send '["0x0102"]'); [[ $(code "$r") == -32602 ]] || fail "truncated tx: $r"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$T_DIR/big"
st=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T_DIR/big" "$T_RPC")
[[ $st == 413 ]] || fail "oversized body got HTTP $st"
r=$(rpc chain_getTransaction '["0x0000000000000000000000000000000000000000000000000000000000000000"]')
[[ $(code "$r") == -32001 ]] || fail "unknown tx: $r"
rpc node_status '[]' | grep -q '"result"' || fail "node died on bad input"
pass "bad input rejected"

# Replayed nonce: resend the exact first transaction bytes of dev0.
txh=$(jget "$(rpc chain_getBlock '[1]')" 'j["result"]["txs"][0]["hash"]')
out=$(cli send --from dev0 --to "$alice" --amount 1 --nonce 0 --no-wait 2>&1) && fail "replay accepted: $out"
grep -qi 'nonce' <<<"$out" || fail "replay reason: $out"
pass "replayed nonce rejected ($txh)"

stop_node
echo "devnet_transfer: all passed"
