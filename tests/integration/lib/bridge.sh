# shellcheck shell=bash
# Helpers of the bridge tests (rollup_bridge*.sh): the L1 contracts' views
# read with eth_call, the node's bridge_* views, finalizeWithdrawal calls
# built here (so that a proof can be tampered with) and the conservation
# check of docs/rollup.md, "Bridge". Source after common.sh and rollup.sh.

: "${OL_BUILD_DIR:?set by ctest}"
POST=$OL_BUILD_DIR/rollup_post
[[ -x $POST ]] || fail "$POST is not built (cmake --build ... -t rollup_post)"
# anvil's first development account: sends the L1 transactions the tests
# make by hand (the freeze), and is the `from` of their eth_calls.
L1_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
L1_KEY_ADDR=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266

# Selectors (keccak256 of the signatures, rollup/bridge_abi.h).
SEL_BALANCE_OF=70a08231   # OpenToken.balanceOf(address)
SEL_TOTAL_LOCKED=56891412 # Bridge.totalLocked()
SEL_DEPOSIT_NONCE=de35f5cb # Bridge.depositNonce()
SEL_FINALIZED=b3189275    # Bridge.finalized(uint64)
SEL_FROZEN=054f7d9c       # OutputOracle.frozen()
# finalizeWithdrawal((uint64,bytes20,address,uint64),uint64,bytes32[])
SEL_FINALIZE=ab56a91d
# The Bridge's errors: the first four bytes of the revert data.
ERR_OUTPUT_NOT_FOUND=0xb398be34  # OutputNotFound(uint64)
ERR_ORACLE_FROZEN=0x9af506b8     # OracleFrozen()
ERR_NOT_FINAL=0x44801909         # NotFinal(uint256)
ERR_OUTPUT_ROOT_MISMATCH=0xab9f0b18 # OutputRootMismatch()
ERR_ALREADY_FINALIZED=0x788fa84d # AlreadyFinalized(uint64)
ERR_BAD_PROOF=0x7ca55c77         # BadProof()

# br_contracts [CONFIG]: TOKEN and BRIDGE from the rollup config.
br_contracts() {
  local cfg=${1:-$ROLLUP_CFG}
  TOKEN=$(jget "$(cat "$cfg")" 'j["token"]')
  BRIDGE=$(jget "$(cat "$cfg")" 'j["bridge"]')
  [[ $TOKEN == 0x* && $BRIDGE == 0x* ]] || fail "no token or bridge in $cfg"
}

# l1_at URL METHOD PARAMS_JSON: a JSON-RPC call to that L1.
l1_at() {
  curl -s --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$1"
}

# l1_view TO DATA [URL]: eth_call at the latest block, the result as an integer.
l1_view() {
  local r
  r=$(l1_at "${3:-$L1_URL}" eth_call "[{\"to\":\"$1\",\"data\":\"$2\"},\"latest\"]")
  jget "$r" 'int(j["result"], 16)' || fail "eth_call $2 on $1: $r"
}
# tok_balance ADDR [URL]: OPEN base units ADDR holds on the L1.
tok_balance() { l1_view "$TOKEN" "0x${SEL_BALANCE_OF}$(printf %064s "${1#0x}" | tr ' ' 0)" "${2:-}"; }
total_locked() { l1_view "$BRIDGE" "0x$SEL_TOTAL_LOCKED" "${1:-}"; }
l1_finalized() { l1_view "$BRIDGE" "0x${SEL_FINALIZED}$(printf %064x "$1")"; }
oracle_frozen() { l1_view "$ORACLE" "0x$SEL_FROZEN"; }
l1_head() { jget "$(l1_at "${1:-$L1_URL}" eth_blockNumber '[]')" 'int(j["result"], 16)'; }
# l1_mine N [URL]: N L1 blocks now.
l1_mine() { l1_at "${2:-$L1_URL}" anvil_mine "[\"0x$(printf %x "$1")\"]" | grep -q result || fail "anvil_mine"; }

# l2_balance ADDRESS|devN: base units on the L2.
l2_balance() {
  local r
  r=$(rpc account_get "[\"$1\"]")
  jget "$r" 'int(j["result"]["balance"])' || fail "account_get $1: $r"
}
# l2_addr devN: the key's ol1 address.
l2_addr() { cli key show "$1" | awk '/^address:/ {print $2}'; }
# l1_addr devN: the key's Ethereum address (the L1 account of the bridge CLI).
l1_addr() { cli bridge l1-address --from "$1" | grep -oE '0x[0-9a-fA-F]{40}' | head -n 1; }
# tx_fee TXID: the fee the L2 transaction paid.
tx_fee() {
  local r
  r=$(rpc chain_getReceipt "[\"$1\"]")
  jget "$r" 'int(j["result"]["fee"])' || fail "chain_getReceipt $1: $r"
}
# first_hash TEXT: the first 0x + 64 hex digits in TEXT (a CLI's transaction hash).
first_hash() { grep -oE '0x[0-9a-f]{64}' <<<"$1" | head -n 1; }

# binfo EXPR: a python expression on bridge_info's result `b`.
binfo() { jget "$(rpc bridge_info '[]')" "(lambda b: $1)(j['result'])"; }
# wdr ID EXPR / dep NONCE EXPR: on bridge_getWithdrawal / bridge_getDeposit (`w`, None when unknown).
wdr() { jget "$(rpc bridge_getWithdrawal "[$1]")" "(lambda w: $2)(j['result'])"; }
dep() { jget "$(rpc bridge_getDeposit "[$1]")" "(lambda w: $2)(j['result'])"; }

# metric NAME: the value of an unlabelled /metrics sample (the body read whole).
metric() {
  local body
  body=$(curl -s --max-time 10 "$T_RPC/metrics") || fail "/metrics"
  awk -v n="$1" '$1 == n {print $2; found=1} END {if (!found) exit 1}' <<<"$body" ||
    fail "/metrics has no $1"
}

# wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds (every 0.2 s).
wait_for() {
  local secs=$1 what=$2 i
  shift 2
  for i in $(seq 1 $((secs * 5))); do
    "$@" && return 0
    [[ -z ${T_NODE_PID:-} ]] || kill -0 "$T_NODE_PID" 2>/dev/null || fail "node exited while waiting for $what"
    sleep 0.2
  done
  fail "$what: not within $secs s"
}
# is EXPR_OUTPUT WANT: for wait_for (a command that prints, compared).
is() { [[ $("${@:1:$#-1}" 2>/dev/null) == "${!#}" ]]; }

# conserve WHAT MINTED BURNED DEPOSITED FINALIZED: the bridge's books,
# against the amounts the test made (base units):
#   L2: bridge_info minted and burned are these, locked = minted - burned,
#       supply = genesisSupply + locked, and /metrics says the same;
#   L1: the Bridge holds DEPOSITED - FINALIZED tokens (minted - finalized +
#       the deposits not yet minted) and totalLocked() says so.
conserve() {
  local what=$1 minted=$2 burned=$3 deposited=$4 finalized=$5
  local info supply_m locked_m held locked_l1
  info=$(rpc bridge_info '[]')
  supply_m=$(metric openledger_supply_base_units)
  locked_m=$(metric openledger_bridge_locked_base_units)
  held=$(tok_balance "$BRIDGE")
  locked_l1=$(total_locked)
  python3 - "$info" "$minted" "$burned" "$supply_m" "$locked_m" "$held" "$locked_l1" \
    "$deposited" "$finalized" "${GENESIS_SUPPLY:-}" <<'PY' || fail "conservation after $what"
import json, sys
b = json.loads(sys.argv[1])["result"]
minted, burned, supply_m, locked_m, held, locked_l1, deposited, finalized = map(int, sys.argv[2:10])
g = int(b["genesisSupply"])
errs = []
def check(name, got, want):
    if int(got) != want: errs.append("%s = %s, want %d" % (name, got, want))
if sys.argv[10]: check("bridge_info.genesisSupply", g, int(sys.argv[10]))
check("bridge_info.minted", b["minted"], minted)
check("bridge_info.burned", b["burned"], burned)
check("bridge_info.locked", b["locked"], minted - burned)
check("bridge_info.supply", b["supply"], g + minted - burned)
check("openledger_supply_base_units", supply_m, g + minted - burned)
check("openledger_bridge_locked_base_units", locked_m, minted - burned)
check("Bridge's L1 token balance", held, deposited - finalized)
check("Bridge.totalLocked()", locked_l1, deposited - finalized)
if errs: sys.exit("\n".join(errs))
PY
  pass "conservation after $what: L2 supply = genesis + $((minted - burned)), L1 bridge holds $((deposited - finalized))"
}

# finalize_call ID MUTATION [OUTPUT_INDEX [PROOF_OUTPUT_INDEX]]: an eth_call
# of Bridge.finalizeWithdrawal for withdrawal ID with the node's proof
# (bridge_getWithdrawalProof, built for PROOF_OUTPUT_INDEX, by default the
# node's choice) submitted with OUTPUT_INDEX (by default the proof's).
# MUTATION: none, sibling (one byte of the deepest sibling changed), amount
# (the amount plus one), root (one byte of the withdrawals root changed).
# Prints "ok" when the call would succeed, else the error's selector
# (0x + 8 hex digits).
finalize_call() {
  local opts='{}' proof
  [[ -z ${4:-} ]] || opts="{\"outputIndex\": $4}"
  proof=$(rpc bridge_getWithdrawalProof "[$1, $opts]")
  python3 - "$proof" "$2" "${3:-}" "$BRIDGE" "$L1_URL" "$L1_KEY_ADDR" <<'PY'
import json, sys, urllib.request
res = json.loads(sys.argv[1]).get("result")
if not res: sys.exit("no proof: %s" % sys.argv[1])
mut, oi = sys.argv[2], sys.argv[3]
w = res["withdrawal"]

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
def bech32_20(a):
    data = [CHARSET.index(c) for c in a[a.rindex("1") + 1:-6]]
    acc, bits, out = 0, 0, []
    for v in data:
        acc, bits = (acc << 5) | v, bits + 5
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xff)
    assert len(out) == 20, a
    return bytes(out)
def addr20(a):
    return bytes.fromhex(a[2:]) if a.startswith("0x") else bech32_20(a)
def word(b): return bytes(32 - len(b)) + b
def u(n): return int(n).to_bytes(32, "big")

words = [bytes.fromhex(p[2:]) for p in res["proof"]]
amount = int(w["amount"])
if mut == "sibling":
    if len(words) < 4: sys.exit("the proof has no sibling to change: %s" % res["proof"])
    words[-1] = bytes([words[-1][0] ^ 1]) + words[-1][1:]
elif mut == "root":
    words[2] = bytes([words[2][0] ^ 1]) + words[2][1:]
elif mut == "amount":
    amount += 1
elif mut != "none":
    sys.exit("unknown mutation " + mut)
index = int(oi) if oi else int(res["outputIndex"])
data = (bytes.fromhex("ab56a91d") + u(w["id"]) + addr20(w["sender"]) + bytes(12)
        + word(addr20(w["l1Recipient"])) + u(amount) + u(index) + u(6 * 32) + u(len(words))
        + b"".join(words))
call = {"jsonrpc": "2.0", "id": 1, "method": "eth_call",
        "params": [{"from": sys.argv[6], "to": sys.argv[4], "data": "0x" + data.hex()}, "latest"]}
req = urllib.request.Request(sys.argv[5], json.dumps(call).encode(), {"Content-Type": "application/json"})
ans = json.load(urllib.request.urlopen(req, timeout=10))
if "error" in ans:
    d = ans["error"].get("data")
    if isinstance(d, dict): d = d.get("data")
    print((d or ans["error"].get("message", "?"))[:10])
else:
    print("ok")
PY
}

# anvil_start NAME [ARGS...]: one more anvil on a free port (log
# $T_DIR/NAME.log); sets ANVIL_URL. Without --block-time it mines a block per
# transaction only (and on anvil_mine), so L1 depths are the test's to set.
anvil_start() {
  local name=$1 port pid
  shift
  port=$(free_port)
  ANVIL_URL="http://127.0.0.1:$port"
  "$OL_ANVIL" -q --host 127.0.0.1 --port "$port" --chain-id 31337 "$@" >"$T_DIR/$name.log" 2>&1 &
  pid=$!
  T_PIDS+=("$pid")
  for _ in $(seq 1 100); do
    l1_at "$ANVIL_URL" eth_chainId '[]' 2>/dev/null | grep -q result && return 0
    kill -0 "$pid" 2>/dev/null || fail "anvil $name exited at start"
    sleep 0.1
  done
  fail "anvil $name did not answer on $ANVIL_URL"
}

# finalize_refused ID WHAT: `bridge finalize ID` fails, and so does it with
# --force (which skips the CLI's own status check and asks the L1).
finalize_refused() {
  local out force
  for force in "" --force; do
    # shellcheck disable=SC2086
    if out=$(timeout 60 "$OPENLEDGER_CLI" --rpc "$T_RPC" bridge finalize "$1" --from dev0 $force 2>&1); then
      fail "bridge finalize $1 $force $2 succeeded: $out"
    fi
  done
}

# l1_interval URL SECONDS: from now on the L1 mines a block every SECONDS
# (0: none, not even for a transaction; anvil started without --block-time
# mines one per transaction until this is called). The tests deploy on an
# L1 that mines at once (ten mints and four contracts wait for no block
# time), then give it a block time.
l1_interval() { l1_at "$1" evm_setIntervalMining "[$2]" | grep -q result || fail "evm_setIntervalMining $2"; }
