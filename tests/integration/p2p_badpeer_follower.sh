#!/usr/bin/env bash
# Bad peers are banned: tests/tools/p2p_badpeer does the real handshake, then
# sends garbage, an oversized frame, a reserved message type, a forged block,
# or claims a height it does not serve. Each time the node disconnects it,
# and the same node id is refused when it comes back. Meanwhile an honest
# follower stays connected and the node keeps serving.
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
listen_v=${ADDR_v#*@}
listen_f=${ADDR_f#*@}

bans=0
for target in v f; do
  for mode in garbage oversized unknown forged-block no-serve; do
    hp=listen_$target
    idf="$T_DIR/id-$target-$mode"
    st=0
    out=$(timeout 30 "$BADPEER" --connect "${!hp}" --genesis-dev --mode "$mode" --id-file "$idf" 2>&1) || st=$?
    [[ $st -eq 0 ]] || fail "$target, $mode: not disconnected (exit $st): $out"
    st=0
    out2=$(timeout 30 "$BADPEER" --connect "${!hp}" --genesis-dev --mode probe --id-file "$idf" 2>&1) || st=$?
    [[ $st -eq 3 ]] || fail "$target, $mode: the banned id came back (exit $st): $out2"
    bans=$((bans + 1))
    id=$(grep -o 'id [0-9a-f]\{40\}' <<<"$out" | cut -c4-)
    case $mode in
      # block sync's own verdicts, in the node's log with the peer's id
      forged-block) grep -q "from peer $id refused: " "$T_DIR/$target.log" ||
        fail "$target: no refused-block line for $id" ;;
      no-serve) grep -q "$id.*not_served" "$T_DIR/$target.log" ||
        fail "$target: no not_served ban of $id" ;;
    esac
    pass "$target, $mode: disconnected ($out), reconnection refused"
  done
done

# The honest peers are still connected; the node still serves and syncs.
[[ $(jget "$(rpcn f node_peers '[]')" '[p["id"] for p in j["result"]]') == "['$ID_v']" ]] ||
  fail "f lost v: $(rpcn f node_peers '[]')"
out=$(timeout 30 "$OPENLEDGER_CLI" --rpc "$RPC_f" send --from dev2 --to dev3 --amount 1) || fail "send via f: $out"
grep -qi success <<<"$out" || fail "send via f: $out"
for n in v f; do
  m=$(curl -s "$(eval echo "\$RPC_$n")/metrics")
  b=$(sed -n 's/^openledger_p2p_bans_total //p' <<<"$m")
  (( b >= 5 )) || fail "$n: openledger_p2p_bans_total $b"
done
pass "after $bans bans: v and f still peers, a transfer through f is committed, bans counted in /metrics"
p2p_stop f
p2p_stop v
