#!/usr/bin/env bash
# The committed contract artifacts (rollup/contracts/artifacts/*.json and the
# generated artifacts.{h,c}) are exactly what rollup/contracts/*.sol compile
# to with the pinned solc-js: build.mjs --check recompiles and compares. A
# copy of the tree with one source edited shows the check fails when a .sol
# changes without a rebuild, naming the stale file, and passes after it.
set -euo pipefail
SRC=${OL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ol-artifacts-XXXXXX")
trap 'rm -rf "$T_DIR"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

command -v node >/dev/null || fail "node not found (scripts/deps.sh installs it)"
[[ -d "$SRC/rollup/peers/node_modules/solc" ]] || fail "solc-js missing: run scripts/deps.sh"

node "$SRC/rollup/contracts/build.mjs" --check >"$T_DIR/out" 2>&1 || fail "committed artifacts are stale: $(cat "$T_DIR/out")"
pass "committed artifacts match the sources"

# A private tree: the contracts copied, the installed compiler shared.
mkdir -p "$T_DIR/t/rollup"
cp -r "$SRC/rollup/contracts" "$T_DIR/t/rollup/contracts"
ln -s "$SRC/rollup/peers" "$T_DIR/t/rollup/peers"
B="$T_DIR/t/rollup/contracts/build.mjs"
node "$B" --check >/dev/null 2>&1 || fail "the copied tree does not check"

echo "// edited" >>"$T_DIR/t/rollup/contracts/BatchInbox.sol"
before=$(cat "$T_DIR/t/rollup/contracts/artifacts/BatchInbox.json")
if node "$B" --check >"$T_DIR/out" 2>&1; then fail "--check passed after BatchInbox.sol changed"; fi
grep -q "rollup/contracts/artifacts/BatchInbox.json differs" "$T_DIR/out" || fail "--check does not name the stale file: $(cat "$T_DIR/out")"
[[ "$before" == "$(cat "$T_DIR/t/rollup/contracts/artifacts/BatchInbox.json")" ]] || fail "--check wrote a file"
pass "an edited source without a rebuild fails the check: $(cat "$T_DIR/out")"

node "$B" >/dev/null || fail "rebuild"
node "$B" --check >/dev/null || fail "--check fails right after a rebuild"
cmp -s "$T_DIR/t/rollup/contracts/artifacts/OutputOracle.json" "$SRC/rollup/contracts/artifacts/OutputOracle.json" ||
  fail "an unrelated artifact changed on rebuild"
pass "a rebuild makes the check pass again"
