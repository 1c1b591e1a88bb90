#!/usr/bin/env bash
# The explorer in headless Chromium (tests/browser/explorer_test.js) against a
# devnet that ran scripts/demo-attribution --small: the blocks page, search,
# the earnings chart against the index, "verify" against an honest node and
# two lying ones, the record and attribution charts, a withdrawal on its
# sender's page, no console errors.
# Screenshots go to $OL_BUILD_DIR/test-output/explorer_browser/. Exits 77
# (ctest: skipped) only when chromium cannot run on this machine at all.
source "$(dirname "$0")/lib/common.sh"

SRC=${OL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${OL_BUILD_DIR:-$T_DIR}/test-output/explorer_browser
command -v node >/dev/null || fail "node is missing (scripts/deps.sh installs it)"

start_node n1
out=$("$SRC/scripts/demo-attribution" --small --rpc "$T_RPC" 2>&1) || fail "demo-attribution --small: $out"
grep -q 'all checks passed' <<<"$out" || fail "demo did not pass: $out"
pass "scripts/demo-attribution --small on $T_RPC"

# A withdrawal (WITHDRAW burns on the L2; no L1 is needed) for the page's
# Bridge section.
w=$(python3 "$SRC/tests/browser/withdraw.py" "$T_RPC" 1500000000) || fail "withdraw: $w"
pass "WITHDRAW of 1.5 OPEN from $w"

rm -rf "$OUT"
st=0
node "$SRC/tests/browser/explorer_test.js" --rpc "$T_RPC" --out "$OUT" --withdrawer "$w" || st=$?
if [[ $st -eq 77 ]]; then
  trap - EXIT
  kill -9 "${T_PIDS[@]}" 2>/dev/null || true
  rm -rf "$T_DIR"
  exit 77
fi
[[ $st -eq 0 ]] || fail "explorer browser test (screenshots in $OUT)"
pass "explorer in chromium; screenshots in $OUT"
