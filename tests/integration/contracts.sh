#!/usr/bin/env bash
# Contracts through the real node and the real CLI: the genesis reward
# contract, asm/disasm, deploy, a call with value and input and its receipt
# (status, gas used, return data, events), contract_get / contract_call /
# contract_getStorage, a revert and every run-time fault ending a call
# cleanly with its fault in the receipt while the node keeps going, and code
# that does not verify refused at the door with its reason, creating nothing.
#
# tx_send dry-runs every non-transfer transaction against the head state, so a
# call that would revert or fault is refused before it reaches a block
# (docs/contracts.md, "Admission"). To see such calls in receipts, the test
# contract below is "armed": the first call with an input stores a flag and
# succeeds, a later call with the same input runs the fault. The arming and
# the faulting transaction are sent in one JSON-RPC batch, so both are dry-run
# against the same head (the flag not yet set) and executed in order in the
# next block, where the second one fails.
source "$(dirname "$0")/lib/common.sh"

SRC=${OL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
start_node c1 --block-time 300
export OPENLEDGER_KEYSTORE="$T_DIR/keys" OPENLEDGER_PASSWORD=itest OPENLEDGER_SCRYPT_N=1024

# ---- the genesis reward contract ---------------------------------------------
DEFAULT=ol1vklxu4jqc9asa4w3kfd6fmyauffc4t745qvywn
cli asm "$SRC/genesis/contracts/proportional_split.olasm" -o "$T_DIR/ps.bin" >"$T_DIR/out" ||
  fail "asm: $(cat "$T_DIR/out")"
size=$(stat -c %s "$T_DIR/ps.bin")
hash=0x$(sha256sum "$T_DIR/ps.bin" | cut -d' ' -f1)
grep -q "$hash" "$T_DIR/out" || fail "asm output has no code hash: $(cat "$T_DIR/out")"
g=$(rpc contract_get "[\"$DEFAULT\"]")
[[ $(jget "$g" 'j["result"]["codeSize"]') == "$size" ]] || fail "genesis contract size: $g"
[[ $(jget "$g" 'j["result"]["codeHash"]') == "$hash" ]] || fail "genesis contract hash: $g"
out=$(cli contract show "$DEFAULT") || fail "contract show: $out"
grep -q "code size: $size bytes" <<<"$out" || fail "contract show: $out"
pass "genesis reward contract at $DEFAULT ($size bytes)"

# ---- asm / disasm round trip ---------------------------------------------------
cli disasm "$T_DIR/ps.bin" -o "$T_DIR/ps2.olasm" || fail "disasm"
cli asm "$T_DIR/ps2.olasm" >/dev/null || fail "asm of the disassembly"
cmp -s "$T_DIR/ps.bin" "$T_DIR/ps2.bin" || fail "disassemble + assemble changed the bytes"
printf 'main:\n    ldi r16, 1\n    stop\n' >"$T_DIR/bad.olasm"
if out=$(cli asm "$T_DIR/bad.olasm" 2>&1); then fail "asm accepted r16"; fi
grep -q "bad.olasm:2:9: " <<<"$out" || fail "asm error is not file:line:col: $out"
pass "asm, disasm, reassembly identical; asm errors as file:line:col"

# ---- deploy and call -------------------------------------------------------------
cat >"$T_DIR/vault.olasm" <<'EOF'
; With input (32 bytes): stores it under key 01, logs it under "stored",
; pays half the value to a fixed payee and returns its balance (u64le).
; Without input: returns the stored value.
.data
topic: .ascii "stored"
       .zero 26
payee: .hex "abababababababababababababababababababab"
.const KEY 0x100
.const VAL 0x140
.const OUT 0x180
.code
.entry main
main:
    ldi r1, KEY
    ldi r2, 1
    st8 [r1], r2
    sys input_size
    beqz r0, get
    ldi r1, VAL
    ldi r2, 0
    ldi r3, 32
    sys input
    ldi r1, KEY
    ldi r2, VAL
    sys sstore
    ldi r1, topic
    ldi r2, VAL
    ldi r3, 32
    sys emit
    sys value
    ldi r3, 2
    divu r2, r0, r3
    ldi r1, payee
    sys pay
    ldi r1, OUT
    sys self
    sys balance
    st64 [r1], r0
    ldi r2, 8
    return r1, r2
get:
    ldi r1, KEY
    ldi r2, OUT
    sys sload
    ldi r1, OUT
    ldi r2, 32
    return r1, r2
EOF
out=$(cli contract deploy "$T_DIR/vault.olasm" --from dev0) || fail "deploy: $out"
grep -q '^status:    success' <<<"$out" || fail "deploy status: $out"
C=$(sed -n 's/^contract:  \(ol1[0-9a-z]*\)$/\1/p' <<<"$out")
[[ $C == ol1* ]] || fail "deploy printed no address: $out"
want=$(python3 - "$SRC" <<'EOF'
import hashlib, struct, sys
sys.path.insert(0, sys.argv[1] + "/scripts")
import ol_txlib as L
k = L.dev_key(0)
a = hashlib.sha256(k.pubkey).digest()[:20]
print(L.addr_encode(hashlib.sha256(b"openledger:contract" + a + struct.pack("<Q", 0)).digest()[:20]))
EOF
)
[[ $C == "$want" ]] || fail "contract address $C, derived $want"
cli asm "$T_DIR/vault.olasm" -o "$T_DIR/vault.bin" >/dev/null
g=$(rpc contract_get "[\"$C\"]")
[[ $(jget "$g" 'j["result"]["codeSize"]') == "$(stat -c %s "$T_DIR/vault.bin")" ]] || fail "code size: $g"
[[ $(jget "$g" 'j["result"]["balance"]') == 0 ]] || fail "new contract balance: $g"
pass "deploy: $C = H(deployer | nonce 0), code stored"

# --json --no-wait: the address is printed before inclusion, and is the one
# the receipt gives once the transaction is in.
out=$(cli --json contract deploy "$T_DIR/vault.bin" --from dev5 --no-wait) || fail "deploy --no-wait: $out"
h=$(jget "$out" 'j["hash"]')
C5=$(jget "$out" 'j["contractAddress"]')
[[ $C5 == ol1* ]] || fail "deploy --json --no-wait printed no address: $out"
for _ in $(seq 1 100); do
  t=$(rpc chain_getTransaction "[\"$h\"]")
  [[ $(jget "$t" 'j.get("result", {}).get("pending", True)') == False ]] && break
  sleep 0.1
done
[[ $(jget "$t" 'j["result"]["receipt"]["contractAddress"]') == "$C5" ]] || fail "no-wait address $C5, receipt: $t"
pass "deploy --json --no-wait: address $C5 known before inclusion"

IN=0x$(python3 -c 'print(bytes(range(1, 33)).hex())')
out=$(cli contract call "$C" --input "$IN" --value 0.000001 --from dev1) || fail "call: $out"
grep -q '^status:    success' <<<"$out" || fail "call status: $out"
grep -q '^return:    0xf401000000000000$' <<<"$out" || fail "call return data: $out"
grep -q '^events:    2$' <<<"$out" || fail "call events: $out"
grep -q '"stored"' <<<"$out" || fail "log topic not shown: $out"
grep -q '(pay)' <<<"$out" || fail "pay event not shown: $out"
txh=$(sed -n 's/^hash: *\(0x[0-9a-f]*\)$/\1/p' <<<"$out")
t=$(rpc chain_getTransaction "[\"$txh\"]")
[[ $(jget "$t" 'j["result"]["receipt"]["status"]') == success ]] || fail "receipt: $t"
gas=$(jget "$t" 'j["result"]["receipt"]["gasUsed"]')
((gas > 2000 && gas < 1002000)) || fail "gas used $gas"
[[ $(jget "$t" 'j["result"]["receipt"]["returnData"]') == 0xf401000000000000 ]] || fail "returnData: $t"
[[ $(jget "$t" 'j["result"]["receipt"]["error"]') == None ]] || fail "error: $t"
[[ $(jget "$t" 'j["result"]["receipt"]["events"][0]["data"]') == "$IN" ]] || fail "log data: $t"
[[ $(jget "$t" 'j["result"]["receipt"]["events"][0]["emitter"]') == "$C" ]] || fail "emitter: $t"
[[ $(jget "$t" 'j["result"]["receipt"]["events"][1]["data"]') == 0x$(printf "ab%.0s" {1..20})f401000000000000 ]] ||
  fail "pay event data: $t"
g=$(rpc contract_get "[\"$C\"]")
[[ $(jget "$g" 'j["result"]["balance"]') == 500 ]] || fail "contract balance after the call: $g"
pass "call with value and input: receipt status, gas $gas, return data, 2 events"

KEY=0x01$(printf '0%.0s' {1..62})
out=$(cli contract storage "$C" "$KEY") || fail "storage: $out"
[[ $out == "$IN" ]] || fail "storage slot: $out"
s=$(rpc contract_getStorage "[\"$C\", \"0x$(printf '0%.0s' {1..64})\"]")
[[ $(jget "$s" 'j["result"]') == 0x$(printf '0%.0s' {1..64}) ]] || fail "empty slot: $s"
out=$(cli contract call "$C" --read) || fail "read-only call: $out"
grep -q "^return:    $IN\$" <<<"$out" || fail "read-only return: $out"
r=$(rpc contract_call "[\"$C\", \"0x$(printf '77%.0s' {1..32})\", {\"value\": \"600\"}]")
[[ $(jget "$r" 'j["result"]["status"]') == success ]] || fail "contract_call: $r"
[[ $(jget "$r" 'j["result"]["returnData"]') == 0x2003000000000000 ]] || fail "contract_call return: $r"
[[ $(jget "$r" 'len(j["result"]["events"])') == 2 ]] || fail "contract_call events: $r"
out=$(cli contract storage "$C" "$KEY")
[[ $out == "$IN" ]] || fail "contract_call changed storage: $out"
g=$(rpc contract_get "[\"$C\"]")
[[ $(jget "$g" 'j["result"]["balance"]') == 500 ]] || fail "contract_call changed the balance: $g"
pass "contract_getStorage, contract_call (read-only: reports, keeps nothing)"

# ---- run-time faults ----------------------------------------------------------------
cat >"$T_DIR/armed.olasm" <<'EOF'
; Input: kind u8, tag u8. The first call with a (kind, tag) stores a flag
; under key [kind, tag, 0...] and succeeds; a later one runs fault `kind`:
; 1 revert, 2 deep recursion, 3 memory out of bounds, 4 infinite loop,
; 5 pay more than the balance, 6 storage writes past the limit.
.data
msg: .ascii "armed: reverting"
msg_end:
.const KEY 0x100
.const VAL 0x140
.const OUT 0x180
.code
.entry main
main:
    ldi r1, KEY
    ldi r2, 0
    ldi r3, 2
    sys input
    ldi r2, OUT
    sys sload
    bnez r0, fire
    ldi r2, VAL
    ldi r3, 1
    st8 [r2], r3
    sys sstore
    stop
fire:
    ld8 r5, [r1]
    ldi r6, 1
    beq r5, r6, k_revert
    ldi r6, 2
    beq r5, r6, k_depth
    ldi r6, 3
    beq r5, r6, k_oob
    ldi r6, 4
    beq r5, r6, k_loop
    ldi r6, 5
    beq r5, r6, k_pay
    ldi r6, 6
    beq r5, r6, k_storage
    stop
k_revert:
    ldi r1, msg
    ldi r2, msg_end - msg
    revert r1, r2
k_depth:
    call k_depth
    ret
k_oob:
    li r1, 65530
    ld64 r2, [r1]
    stop
k_loop:
    jmp k_loop
k_pay:
    ldi r1, 0x200
    sys self
    sys balance
    addi r2, r0, 1
    sys caller
    sys pay
    stop
k_storage:
    ldi r1, 0x300
    ldi r2, VAL
    ldi r4, 257
again:
    addi r3, r3, 1
    st64 [r1], r3
    sys sstore
    addi r4, r4, -1
    bnez r4, again
    stop
EOF
out=$(cli contract deploy "$T_DIR/armed.olasm" --from dev2) || fail "deploy armed: $out"
A=$(sed -n 's/^contract:  \(ol1[0-9a-z]*\)$/\1/p' <<<"$out")

cat >"$T_DIR/tool.py" <<'EOF'
import json, sys, time
sys.path.insert(0, sys.argv[1])
import ol_txlib as L
rpc = L.Rpc(sys.argv[2])
cmd = sys.argv[3]
cid, gh = rpc.domain()

def body_call(contract, value, data):
    return L.addr_decode(contract) + L.u64(value) + L.lenbytes(data)

def wait(txid):
    for _ in range(300):
        try:
            t = rpc.call("chain_getTransaction", txid)
            if not t["pending"]:
                return t
        except L.RpcError:
            pass
        time.sleep(0.05)
    sys.exit("transaction %s not included" % txid)

if cmd == "armfault":
    # armfault KEY CONTRACT KIND GAS: arm and fire in one batch; prints the
    # failed receipt of the firing transaction.
    k = L.dev_key(int(sys.argv[4]))
    contract, kind, gas = sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
    for tag in range(1, 8):
        nonce = rpc.call("account_get", k.address)["pendingNonce"]
        data = bytes([kind, tag])
        arm = L.sign_tx(k, cid, gh, 8, nonce, 1000000, body_call(contract, 0, data))
        fire = L.sign_tx(k, cid, gh, 8, nonce + 1, gas, body_call(contract, 1000, data))
        res = rpc.batch([("tx_send", [arm.hex]), ("tx_send", [fire.hex])])
        if res[0][1]:
            sys.exit("arming refused: %s" % res[0][1])
        wait(arm.id)
        if res[1][1]:  # a block came between the two dry runs: try again
            continue
        t = wait(fire.id)
        print(json.dumps({"receipt": t["receipt"], "tag": tag, "gasLimit": gas,
                          "hash": t["tx"]["hash"]}))
        sys.exit(0)
    sys.exit("the firing transaction never got past the dry run")
elif cmd == "deployraw":
    # deployraw KEY HEX: a DEPLOY of exactly these bytes; prints the outcome.
    k = L.dev_key(int(sys.argv[4]))
    code = bytes.fromhex(sys.argv[5])
    nonce = rpc.call("account_get", k.address)["pendingNonce"]
    tx = L.sign_tx(k, cid, gh, 7, nonce, 20000 + 10 * len(code) + 1000, L.lenbytes(code))
    try:
        rpc.call("tx_send", tx.hex)
        print("accepted")
    except L.RpcError as e:
        print(json.dumps({"code": e.code, "reason": e.reason, "message": e.message,
                          "nonce": nonce}))
EOF
tool() { python3 "$T_DIR/tool.py" "$SRC/scripts" "$T_RPC" "$@"; }

KINDS=("" "reverted: armed: reverting" "vm_fault: call depth exceeded" \
  "vm_fault: memory access out of bounds" "vm_fault: out of gas" "vm_fault: pay over balance" \
  "vm_fault: storage write limit")
NAMES=("" "revert" "deep recursion" "memory out of bounds" "infinite loop" "pay over the balance" \
  "storage writes past the limit")
for kind in 1 2 3 4 5 6; do
  gas=2000000
  [[ $kind == 4 ]] && gas=300000
  [[ $kind == 6 ]] && gas=5000000 # 257 sstores of 2,000 + 64 x 200 gas
  before=$(rpc account_get '["'"$A"'"]')
  r=$(tool armfault 3 "$A" "$kind" "$gas") || fail "${NAMES[$kind]}: $r"
  [[ $(jget "$r" 'j["receipt"]["status"]') == failed ]] || fail "${NAMES[$kind]}: $r"
  err=$(jget "$r" 'j["receipt"]["error"]')
  [[ $err == "${KINDS[$kind]}"* ]] || fail "${NAMES[$kind]}: error '$err'"
  [[ $(jget "$r" 'len(j["receipt"]["events"])') == 0 ]] || fail "${NAMES[$kind]}: events kept: $r"
  [[ $(jget "$r" 'j["receipt"]["returnData"]') == 0x ]] || fail "${NAMES[$kind]}: return data: $r"
  used=$(jget "$r" 'j["receipt"]["gasUsed"]')
  ((used > 2000 && used <= gas)) || fail "${NAMES[$kind]}: gas used $used"
  [[ $kind != 4 || $used == "$gas" ]] || fail "out of gas charges the whole limit: $used"
  # The value and everything the call did were undone.
  [[ $(rpc account_get '["'"$A"'"]') == "$before" ]] || fail "${NAMES[$kind]}: contract balance changed"
  # The same call, read-only, reports the same fault.
  tag=$(jget "$r" 'j["tag"]')
  c=$(rpc contract_call "[\"$A\", \"0x0${kind}0${tag}\"]")
  [[ $(jget "$c" 'j["result"]["error"]') == "${KINDS[$kind]}"* ]] || fail "contract_call ${NAMES[$kind]}: $c"
  # `openledger-cli tx` shows the failure; its structured fields when the
  # node gives them (docs/cli.md, "tx").
  out=$(cli tx "$(jget "$r" 'j["hash"]')") || fail "cli tx ${NAMES[$kind]}: $out"
  grep -q '^status:    failed$' <<<"$out" || fail "cli tx ${NAMES[$kind]} status: $out"
  fc=$(jget "$r" 'j["receipt"].get("failureCode", "")')
  if [[ -n $fc ]]; then
    grep -q "^failure:   $fc\$" <<<"$out" || fail "cli tx ${NAMES[$kind]} failure code: $out"
    rd=$(jget "$r" 'j["receipt"].get("revertData", "")')
    [[ -z $rd ]] || grep -q "^revert data: $rd\$" <<<"$out" || fail "cli tx revert data: $out"
  fi
  pass "${NAMES[$kind]}: failed receipt '$err', gas $used charged, nothing kept"
done
# The read-only CLI shows the revert message and exits 1.
if out=$(cli contract call "$A" --input 0x0101 --read 2>&1); then fail "read-only revert exit 0: $out"; fi
# (revert text: from a node with structured failures, revert: from the error otherwise)
grep -qE '^(revert:    |revert text: )armed: reverting$' <<<"$out" || fail "read-only revert output: $out"
# A call that would fail is refused at the door, with its reason, and costs nothing.
n0=$(jget "$(rpc account_get '["'"$(cli key show dev4 | sed -n 's/^address: *//p')"'"]')" 'j["result"]["nonce"]')
if out=$(cli contract call "$A" --input 0x0301 --from dev4 2>&1); then fail "faulting call admitted: $out"; fi
grep -q 'memory access out of bounds' <<<"$out" || fail "refused call message: $out"
grep -q '(reason: vm_fault)' <<<"$out" || fail "refused call reason: $out"
n1=$(jget "$(rpc account_get '["'"$(cli key show dev4 | sed -n 's/^address: *//p')"'"]')" 'j["result"]["nonce"]')
[[ $n0 == "$n1" ]] || fail "a refused call used a nonce"
pass "failing calls refused at tx_send (reason vm_fault), read-only shows the revert"

# The node is still running and making blocks.
h0=$(jget "$(rpc node_status '[]')" 'j["result"]["height"]')
out=$(cli send --from dev5 --to dev6 --amount 1) || fail "send after the faults: $out"
h1=$(jget "$(rpc node_status '[]')" 'j["result"]["height"]')
((h1 > h0)) || fail "no new block after the faults"
pass "node keeps running after the faults"

# ---- code that does not verify ------------------------------------------------------
# header(entry, code length, data length) + instructions
hdr() { python3 -c 'import struct,sys; print((b"OLVM\x01\x00" + struct.pack("<HII", *map(int, sys.argv[1:]))).hex())' "$@"; }
STOP=0100000000000000
declare -A BAD=(
  [empty]=""
  [truncated]="$(hdr 16 16 0)$STOP"
  [oversized]="$(hdr 16 24568 0)$(python3 -c 'print("0100000000000000" * 3071)')"
  [unknown-opcode]="$(hdr 16 16 0)ee00000000000000$STOP"
  [bad-register]="$(hdr 16 16 0)1010000000000000$STOP"
  [bad-jump-target]="$(hdr 16 16 0)0400000000100000$STOP"
  [missing-entry]="$(hdr 400 8 0)$STOP"
)
declare -A WHY=(
  [empty]="contract code is empty"
  [truncated]="truncated"
  [oversized]="contract code too large"
  [unknown-opcode]="unknown opcode"
  [bad-register]="bad register"
  [bad-jump-target]="outside the code"
  [missing-entry]="missing entry point"
)
for what in empty truncated oversized unknown-opcode bad-register bad-jump-target missing-entry; do
  r=$(tool deployraw 7 "${BAD[$what]}")
  [[ $r != accepted ]] || fail "$what code accepted"
  msg=$(jget "$r" 'j["message"]')
  grep -q -- "${WHY[$what]}" <<<"$msg" || fail "$what: message '$msg'"
  case $what in
    empty | oversized) [[ $(jget "$r" 'j["code"]') == -32602 ]] || fail "$what: $r" ;;
    *)
      [[ $(jget "$r" 'j["reason"]') == invalid_code ]] || fail "$what: reason $r"
      grep -q 'invalid_code: offset ' <<<"$msg" || fail "$what: no offset in '$msg'"
      ;;
  esac
  # Nothing created at the address this deploy would have had; nonce unused.
  n=$(jget "$r" 'j["nonce"]')
  a=$(python3 - "$SRC" "$n" <<'EOF'
import hashlib, struct, sys
sys.path.insert(0, sys.argv[1] + "/scripts")
import ol_txlib as L
a = hashlib.sha256(L.dev_key(7).pubkey).digest()[:20]
print(L.addr_encode(hashlib.sha256(b"openledger:contract" + a + struct.pack("<Q", int(sys.argv[2]))).digest()[:20]))
EOF
  )
  [[ $(jget "$(rpc contract_get "[\"$a\"]")" 'j["error"]["code"]') == -32001 ]] || fail "$what: contract created"
  pass "deploy of $what code refused: $msg"
done
acct=$(rpc account_get '["'"$(cli key show dev7 | sed -n 's/^address: *//p')"'"]')
[[ $(jget "$acct" 'j["result"]["nonce"]') == 0 ]] || fail "refused deploys used nonces: $acct"
# The CLI sends a .bin as is and shows the node's reason.
python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "${BAD[bad-register]}" >"$T_DIR/badreg.bin"
if out=$(cli contract deploy "$T_DIR/badreg.bin" --from dev7 2>&1); then fail "CLI deploy of bad code: $out"; fi
grep -q 'invalid_code: offset 16: bad register' <<<"$out" || fail "CLI deploy message: $out"
: >"$T_DIR/empty.bin"
if out=$(cli contract deploy "$T_DIR/empty.bin" --from dev7 2>&1); then fail "CLI deploy of nothing: $out"; fi
grep -q 'empty' <<<"$out" || fail "CLI empty deploy message: $out"
pass "CLI deploy of bad code shows the node's reason"

stop_node
echo "contracts: all passed"
