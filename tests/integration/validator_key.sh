#!/usr/bin/env bash
# Real validator keys and the genesis-bound signing domain (issue 9, items 4
# and 5): `openledgerd init` makes a key, a node started with --datadir and a
# genesis that lists that key produces blocks; a node whose key is not a
# validator serves RPC but produces nothing; a transaction signed for another
# genesis with the same chain id is refused with bad_signature; a data
# directory refuses another genesis.
source "$(dirname "$0")/lib/common.sh"
LIB="$OL_SOURCE_DIR/scripts"

# start_keyed NAME DATADIR GENESIS [args...]: like start_node, without --dev.
start_keyed() {
  local name=$1 dir=$2 gen=$3; shift 3
  T_PORT=$(free_port)
  T_RPC="http://127.0.0.1:$T_PORT"
  "$OPENLEDGERD" --datadir "$dir" --genesis "$gen" --rpc "127.0.0.1:$T_PORT" "$@" >"$T_DIR/$name.log" 2>&1 &
  T_NODE_PID=$!
  T_PIDS+=("$T_NODE_PID")
  for _ in $(seq 1 100); do
    if rpc node_status '[]' 2>/dev/null | grep -q '"result"'; then return 0; fi
    kill -0 "$T_NODE_PID" 2>/dev/null || fail "node $name exited at start"
    sleep 0.1
  done
  fail "node $name did not answer on $T_RPC"
}

# The Python signer agrees with the C known answer of the signing domain.
out=$(cd "$T_DIR" && PYTHONDONTWRITEBYTECODE=1 python3 "$LIB/ol_txlib.py") || fail "ol_txlib self-test: $out"
[[ $(tail -n 1 <<<"$out") == ok ]] || fail "ol_txlib self-test: $out"
pass "ol_txlib.py signing-domain known answer"

# init: a key, mode 0600, printed; never replaced.
out=$("$OPENLEDGERD" init --datadir "$T_DIR/v") || fail "init: $out"
pub=$(sed -n 's/^public key: *//p' <<<"$out")
addr=$(sed -n 's/^address: *//p' <<<"$out")
[[ $pub =~ ^0x[0-9a-f]{64}$ ]] || fail "init printed no public key: $out"
[[ $addr == ol1* && ${#addr} -eq 41 ]] || fail "init printed no address: $out"
[[ $(stat -c %a "$T_DIR/v/validator_key.json") == 600 ]] || fail "key file mode"
before=$(cat "$T_DIR/v/validator_key.json")
if out=$("$OPENLEDGERD" init --datadir "$T_DIR/v" 2>&1); then fail "second init succeeded"; fi
grep -q 'refusing to replace' <<<"$out" || fail "second init message: $out"
[[ $(cat "$T_DIR/v/validator_key.json") == "$before" ]] || fail "key replaced"
pass "init creates a 0600 key ($addr) and never replaces it"

# A genesis whose only validator is the new key; same chain id as the devnet.
python3 - "$OL_SOURCE_DIR/genesis/devnet.json" "$pub" "$T_DIR/g.json" "$T_DIR/g2.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g["validators"] = [{"name": "v0", "pubkey": sys.argv[2], "power": 10}]
json.dump(g, open(sys.argv[3], "w"), indent=1)
g["params"]["maxClockDriftMs"] += 1
json.dump(g, open(sys.argv[4], "w"), indent=1)
PY

# Without a key, or without --dev and --datadir: clear errors.
mkdir -p "$T_DIR/nokey"
if out=$("$OPENLEDGERD" --datadir "$T_DIR/nokey" --genesis "$T_DIR/g.json" 2>&1); then fail "started without a key"; fi
grep -q 'openledgerd init --datadir' <<<"$out" || fail "no-key message: $out"
if out=$("$OPENLEDGERD" 2>&1); then fail "started without --dev or --datadir"; fi
grep -q -- '--datadir DIR is needed' <<<"$out" || fail "usage message: $out"
pass "missing key and missing --datadir refused"

# The validator node produces blocks signed by its key.
start_keyed v "$T_DIR/v" "$T_DIR/g.json" --block-time 200
grep -q 'validator v0' "$T_DIR/v.log" || fail "start log does not name the validator"
V_RPC=$T_RPC V_PID=$T_NODE_PID
out=$(cli send --from dev0 --to dev1 --amount 1) || fail "send on the keyed node: $out"
grep -qi success <<<"$out" || fail "send did not succeed: $out"
blk=$(rpc chain_getBlock '["latest"]')
[[ $(jget "$blk" 'j["result"]["header"]["height"] >= 1') == True ]] || fail "no block: $blk"
[[ $(jget "$blk" 'j["result"]["header"]["proposer"]') == "$addr" ]] || fail "proposer is not the key: $blk"
g0=$(rpc chain_getBlock '[0]')
v_genesis=$(jget "$(rpc node_status '[]')" 'j["result"]["genesisHash"]')
[[ $(jget "$g0" 'j["result"]["header"]["parentHash"]') == "$v_genesis" ]] || fail "block 0 parent is not the genesis hash: $g0"
pass "the init key produces blocks with --datadir and --genesis; block 0 commits to the genesis"

# A devnet node: same chain id, another genesis. Each refuses the other's
# transactions with bad_signature.
start_node dev --quiet-accounts
DEV_RPC=$T_RPC
replay() { # replay SIGN_RPC SEND_RPC: prints the tx_send outcome
  python3 - "$LIB" "$1" "$2" <<'PY'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import ol_txlib as L
sign, send = L.Rpc(sys.argv[2]), L.Rpc(sys.argv[3])
cid, gh = sign.domain()
k = L.dev_key(3)
nonce = send.call("account_get", k.address)["pendingNonce"]
tx = L.sign_tx(k, cid, gh, L.TRANSFER, nonce, 1000, L.body_transfer(L.dev_key(4).addr, 7))
try:
    send.call("tx_send", tx.hex)
    print("accepted")
except L.RpcError as e:
    print("refused %s" % e.reason)
PY
}
[[ $(jget "$(rpc node_status '[]')" 'j["result"]["chainId"]') == openledger-devnet ]] || fail "dev chain id"
[[ $(replay "$DEV_RPC" "$V_RPC") == "refused bad_signature" ]] || fail "keyed node accepted a devnet tx"
[[ $(replay "$V_RPC" "$DEV_RPC") == "refused bad_signature" ]] || fail "devnet accepted a keyed-node tx"
[[ $(replay "$V_RPC" "$V_RPC") == accepted ]] || fail "keyed node refused its own domain"
pass "same chain id, other genesis: transactions refused with bad_signature both ways"
stop_node
T_RPC=$V_RPC T_NODE_PID=$V_PID
stop_node

# The data directory refuses another genesis, with both hashes.
if out=$("$OPENLEDGERD" --datadir "$T_DIR/v" --genesis "$T_DIR/g2.json" --rpc 127.0.0.1:0 2>&1); then
  fail "started under another genesis"
fi
grep -q 'belongs to another chain' <<<"$out" || fail "other-genesis message: $out"
pass "a data directory refuses another genesis"

# A node whose key is not a validator: RPC works, no block is produced.
"$OPENLEDGERD" init --datadir "$T_DIR/r" --genesis "$T_DIR/g.json" >"$T_DIR/init-r.out" || fail "init r"
grep -q '^validator: *no' "$T_DIR/init-r.out" || fail "init did not say not a validator: $(cat "$T_DIR/init-r.out")"
start_keyed r "$T_DIR/r" "$T_DIR/g.json" --block-time 50 --empty-blocks-interval 50
grep -q 'not in the genesis validator set' "$T_DIR/r.log" || fail "start log does not say it is not a validator"
out=$(cli --json send --from dev0 --to dev1 --amount 1 --no-wait) || fail "tx_send on a read-only node: $out"
sleep 1 # 20 block intervals: a producing node would have made blocks by now
st=$(rpc node_status '[]')
[[ $(jget "$st" 'j["result"]["height"]') == 0 ]] || fail "non-validator produced a block: $st"
pass "a node whose key is not a validator serves RPC and produces no block"
stop_node
