#!/usr/bin/env bash
# A follower started late catches up 1,000 blocks by block sync: the
# validator makes them fast (empty blocks every few milliseconds), is
# restarted without empty blocks so its head stays put, and a new follower
# syncs from it, logging progress, then follows the head: a transfer made
# after the catch-up reaches it too. Blocks and state roots are equal.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/p2p.sh"

N=${CATCHUP_BLOCKS:-1000}
P=(--p2p 127.0.0.1:0 --p2p-pex off)
p2p_start v "${P[@]}" --datadir "$T_DIR/v" --block-time 2 --empty-blocks-interval 1
wait_height v "$N" 50
p2p_stop v
p2p_start v "${P[@]}" --datadir "$T_DIR/v" --block-time 100
H=$(height_of v)
(( H >= N )) || fail "validator at $H"
pass "validator has $H blocks"

start=$(date +%s.%N)
p2p_start f "${P[@]}" --follower --datadir "$T_DIR/f" --peers "$ADDR_v"
wait_height f "$H" 60
secs=$(python3 -c "print(round($(date +%s.%N) - $start, 2))")
grep -q 'sync .*syncing' "$T_DIR/f.log" || fail "no sync start in the log"
line=$(grep -m1 'caught up at height' "$T_DIR/f.log") || fail "no catch-up line in the log"
pass "follower caught up $H blocks in $secs s: ${line#*INFO  }"

# node-id prints the id the running node proves to its peers; on a new
# directory it creates the key, mode 0600, and prints the same id twice.
[[ $("$OPENLEDGERD" node-id --datadir "$T_DIR/f" 2>/dev/null) == "$ID_f" ]] || fail "node-id of f"
id1=$("$OPENLEDGERD" node-id --datadir "$T_DIR/new" 2>/dev/null) || fail "node-id on a new dir"
[[ $id1 =~ ^[0-9a-f]{40}$ && $(stat -c %a "$T_DIR/new/node_key.json") == 600 ]] || fail "new key $id1"
[[ $("$OPENLEDGERD" node-id --datadir "$T_DIR/new") == "$id1" ]] || fail "node-id changed"
grep -q "node id $ID_f listening on 127.0.0.1:" "$T_DIR/f.log" || fail "no node id line in the log"
pass "openledgerd node-id (existing and new key, mode 0600) and the start log line"

for h in 1 $(( H / 2 )) "$H"; do
  [[ $(block_of v "$h") == "$(block_of f "$h")" ]] || fail "block $h differs"
done
pass "blocks 1, $(( H / 2 )), $H: same hash and state root"

export OPENLEDGER_KEYSTORE="$T_DIR/keys" OPENLEDGER_PASSWORD=itest OPENLEDGER_SCRYPT_N=1024
out=$(timeout 30 "$OPENLEDGER_CLI" --rpc "$RPC_v" send --from dev1 --to dev2 --amount 1) || fail "send: $out"
wait_height f $(( H + 1 )) 10
[[ $(block_of v $(( H + 1 ))) == "$(block_of f $(( H + 1 )))" ]] || fail "new head differs"
[[ $(jget "$(rpcn f node_status '[]')" 'j["result"]["syncing"]') == False ]] || fail "still syncing"
pass "then follows the head (block $(( H + 1 )))"

p2p_stop f
p2p_stop v
