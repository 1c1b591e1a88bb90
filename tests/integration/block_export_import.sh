#!/usr/bin/env bash
# One node's blocks, exported to a file and applied by a second node's store
# through the block executor (validate and apply), reach the same head and
# state root; a tampered file is refused with the rule it breaks and leaves
# the second store where it was.
source "$(dirname "$0")/lib/common.sh"

A="$T_DIR/a" B="$T_DIR/b" C="$T_DIR/c"
start_node a --datadir "$A" --block-time 100 --quiet-accounts
for i in 1 2 3; do
  cli send --from dev0 --to dev1 --amount "0.$i" >/dev/null || fail "send $i"
  cli send --from dev2 --to dev3 --amount "1.$i" >/dev/null || fail "send $i from dev2"
done
stop_node
pass "node A committed blocks"

out=$("$OPENLEDGERD" export-blocks --datadir "$A" --out "$T_DIR/blocks.bin") || fail "export: $out"
want=$(grep '^exported: head' <<<"$out" | sed 's/^exported: //')
[[ -n $want ]] || fail "export printed no head: $out"
pass "export ($want)"

out=$("$OPENLEDGERD" import-blocks --datadir "$B" --in "$T_DIR/blocks.bin") || fail "import: $out"
got=$(grep '^imported: head' <<<"$out" | sed 's/^imported: //')
[[ $got == "$want" ]] || fail "node B reached '$got', node A has '$want'"
pass "import reaches the same head and state root"

# Importing again is idempotent: every block is already held.
out=$("$OPENLEDGERD" import-blocks --datadir "$B" --in "$T_DIR/blocks.bin") || fail "re-import: $out"
grep -q 'applied 0 blocks' <<<"$out" || fail "re-import applied blocks: $out"
pass "re-import skips held blocks"

# The state the import built serves RPC like the original.
start_node b --datadir "$B" --quiet-accounts
bal=$(rpc account_get '["'"$(cli --json key show dev1 | jget "$(cat)" 'j["address"]')"'"]')
[[ $(jget "$bal" 'int(j["result"]["balance"]) > 0') == True ]] || fail "balance on B: $bal"
stop_node
pass "node B serves the imported state"

# Tamper with the last block's state root: a fresh store applies the blocks
# before it, then refuses that one with its reason.
python3 - "$T_DIR/blocks.bin" "$T_DIR/bad.bin" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
def varint(b, i):
    v = s = 0
    while True:
        x = b[i]; i += 1; v |= (x & 0x7f) << s; s += 7
        if not x & 0x80: return v, i
i, recs = 40, []
while i < len(data):
    n, j = varint(data, i); recs.append((j, n)); i = j + n
blk_start, _ = recs[-2]                      # last block's encoding
cid_len = data[blk_start + 1]
off = blk_start + 1 + 1 + cid_len + 8 + 32 + 8 + 20 + 32   # state_root
data[off] ^= 1
open(sys.argv[2], 'wb').write(data)
PY
if out=$("$OPENLEDGERD" import-blocks --datadir "$C" --in "$T_DIR/bad.bin" 2>&1); then
  fail "tampered file imported: $out"
fi
grep -q 'wrong_state_root' <<<"$out" || fail "no reason given: $out"
pass "tampered block refused: $(grep -o 'wrong_state_root[^;]*' <<<"$out" | head -1)"

# A file of another network is refused before any block is read.
head -c 8 "$T_DIR/blocks.bin" >"$T_DIR/other.bin"
head -c 32 /dev/zero >>"$T_DIR/other.bin"
if out=$("$OPENLEDGERD" import-blocks --datadir "$C" --in "$T_DIR/other.bin" 2>&1); then
  fail "foreign file imported"
fi
grep -q 'genesis' <<<"$out" || fail "foreign file: $out"
pass "a file of another genesis is refused"

# A file cut short inside its last record is refused with the cut named;
# the blocks before it are applied.
size=$(stat -c %s "$T_DIR/blocks.bin")
head -c $((size - 10)) "$T_DIR/blocks.bin" >"$T_DIR/cut.bin"
if out=$("$OPENLEDGERD" import-blocks --datadir "$T_DIR/d" --in "$T_DIR/cut.bin" 2>&1); then
  fail "truncated file imported: $out"
fi
grep -q 'truncated' <<<"$out" || fail "truncated file: $out"
pass "a truncated file is refused ($(grep -o 'block [0-9]*: commit: truncated\|block: truncated' <<<"$out" | head -1))"
