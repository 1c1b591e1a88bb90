#!/usr/bin/env bash
# Bad peers are banned by a follower too (p2p_badpeer.sh does it against a
# validator): tests/tools/p2p_badpeer does the real handshake with a
# follower, then sends garbage, an oversized frame, a reserved message type,
# a forged block, or claims a height it does not serve. Each time the
# follower disconnects it, its block sync says why (forged block, unserved
# height), and the same node id is refused when it comes back. Meanwhile the
# follower keeps its validator, and a transfer sent to it is committed.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/p2p.sh"
BADPEER=${OL_BUILD_DIR:-$(dirname "$OPENLEDGERD")}/p2p_badpeer
[[ -x $BADPEER ]] || fail "no $BADPEER (build the p2p_badpeer target)"

P=(--p2p 127.0.0.1:0 --p2p-pex off)
p2p_start v "${P[@]}" --block-time 100
p2p_start f "${P[@]}" --follower --peers "$ADDR_v"
export OPENLEDGER_KEYSTORE="$T_DIR/keys" OPENLEDGER_PASSWORD=itest OPENLEDGER_SCRYPT_N=1024
out=$(timeout 30 "$OPENLEDGER_CLI" --rpc "$RPC_v" send --from dev0 --to dev1 --amount 1) || fail "send: $out"
wait_height f 1 10
listen_f=${ADDR_f#*@}

bans=0
for mode in garbage oversized unknown forged-block bad-sig no-serve; do
  idf="$T_DIR/id-$mode"
  st=0
  out=$(timeout 30 "$BADPEER" --connect "$listen_f" --genesis-dev --mode "$mode" --id-file "$idf" 2>&1) || st=$?
  [[ $st -eq 0 ]] || fail "$mode: not disconnected (exit $st): $out"
  st=0
  out2=$(timeout 30 "$BADPEER" --connect "$listen_f" --genesis-dev --mode probe --id-file "$idf" 2>&1) || st=$?
  [[ $st -eq 3 ]] || fail "$mode: the banned id came back (exit $st): $out2"
  bans=$((bans + 1))
  id=$(grep -o 'id [0-9a-f]\{40\}' <<<"$out" | cut -c4-)
  case $mode in
    # block sync's own verdicts, in the follower's log with the peer's id
    forged-block) grep -q "from peer $id refused: wrong_state_root" "$T_DIR/f.log" ||
      fail "no wrong_state_root refusal of $id's block" ;;
    # the signature check on the pool leaves the flag unset: validate refuses
    bad-sig) grep -q "from peer $id refused: .*bad signature" "$T_DIR/f.log" ||
      fail "no bad signature refusal of $id's block" ;;
    no-serve) grep -q "$id.*not_served" "$T_DIR/f.log" || fail "no not_served ban of $id" ;;
  esac
  pass "$mode: disconnected ($out), reconnection refused"
done

# The honest peers are still connected; the node still serves and syncs.
[[ $(jget "$(rpcn f node_peers '[]')" '[p["id"] for p in j["result"]]') == "['$ID_v']" ]] ||
  fail "f lost v: $(rpcn f node_peers '[]')"
out=$(timeout 30 "$OPENLEDGER_CLI" --rpc "$RPC_f" send --from dev2 --to dev3 --amount 1) || fail "send via f: $out"
grep -qi success <<<"$out" || fail "send via f: $out"
b=$(curl -s "$RPC_f/metrics" | sed -n 's/^openledger_p2p_bans_total //p')
(( b >= bans )) || fail "openledger_p2p_bans_total $b"
pass "after $bans bans: f keeps v, a transfer through f is committed, bans counted in /metrics"
p2p_stop f
p2p_stop v
