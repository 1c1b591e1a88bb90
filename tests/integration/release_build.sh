#!/usr/bin/env bash
# A plain Release build (-O3) of every target, with -Werror: optimisation
# enables warnings (-Wdangling-pointer, -Wstringop-*, -Wmaybe-uninitialized)
# that the Debug test build never sees, and a user's `cmake
# -DCMAKE_BUILD_TYPE=Release` must not be the first to meet them.
# Uses the compiler of the enclosing build (OL_C_COMPILER, set by ctest), and
# ccache only when it is installed.
set -euo pipefail

: "${OL_SOURCE_DIR:?set by ctest}"
B=$(mktemp -d "${TMPDIR:-/tmp}/ol-release-XXXXXX")
trap 'rm -rf "$B"' EXIT

args=(-S "$OL_SOURCE_DIR" -B "$B" -DCMAKE_BUILD_TYPE=Release -DOL_WERROR=ON)
if [[ -n "${OL_C_COMPILER:-}" ]]; then
  args+=("-DCMAKE_C_COMPILER=$OL_C_COMPILER")
fi
if command -v ccache >/dev/null 2>&1; then
  args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

start=$SECONDS
if ! cmake "${args[@]}" >"$B/configure.log" 2>&1; then
  cat "$B/configure.log"
  echo "FAIL: Release configure" >&2
  exit 1
fi
# The sanitizer options of the test run mean nothing to the compiler, and an
# ASan-built cmake plugin would be a surprise: build with a clean slate.
if ! env -u ASAN_OPTIONS -u UBSAN_OPTIONS cmake --build "$B" -j2 >"$B/build.log" 2>&1; then
  grep -E 'error|warning' -A4 "$B/build.log" | head -n 80
  echo "FAIL: Release build (-O3 -Werror) of every target" >&2
  exit 1
fi
for prog in openledgerd openledger-cli; do
  [[ -x "$B/$prog" ]] || { echo "FAIL: $prog was not built" >&2; exit 1; }
done
echo "ok: Release build of every target with -Werror ($((SECONDS - start)) s)"
