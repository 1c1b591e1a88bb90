#!/usr/bin/env bash
# The libFuzzer build (`make fuzz`: clang, ASan + UBSan, -Werror) of every
# fuzz target, and a short run of each on its seed corpus: clang warns about
# things gcc does not, and a fuzz build that stopped compiling would go
# unnoticed, since the rest of the suite is built with gcc and runs the
# targets through the replay driver. Longer fuzzing: `make fuzz`, then
# build-fuzz/fuzz_NAME DIR tests/fuzz/corpus/fuzz_NAME (docs/conventions.md).
set -euo pipefail
: "${OL_SOURCE_DIR:?set by ctest}"
command -v clang >/dev/null || { echo "FAIL: clang is not installed (scripts/deps.sh installs it)" >&2; exit 1; }
B=$(mktemp -d "${TMPDIR:-/tmp}/ol-fuzz-XXXXXX")
trap 'rm -rf "$B"' EXIT

start=$SECONDS
if ! env -u ASAN_OPTIONS -u UBSAN_OPTIONS CC=clang cmake -S "$OL_SOURCE_DIR" -B "$B" \
  -DCMAKE_BUILD_TYPE=Debug -DOL_SANITIZE=ON -DOL_FUZZ=ON -DOL_WERROR=ON >"$B/configure.log" 2>&1; then
  cat "$B/configure.log"
  echo "FAIL: fuzz configure (clang)" >&2
  exit 1
fi
targets=()
for src in "$OL_SOURCE_DIR"/tests/fuzz/fuzz_*.c; do
  targets+=("$(basename "$src" .c)")
done
if ! env -u ASAN_OPTIONS -u UBSAN_OPTIONS cmake --build "$B" -j2 --target "${targets[@]}" >"$B/build.log" 2>&1; then
  grep -E 'error|warning' -A4 "$B/build.log" | head -n 80
  echo "FAIL: fuzz build (clang -Werror) of ${#targets[@]} targets" >&2
  exit 1
fi
echo "built ${#targets[@]} fuzz targets with clang in $((SECONDS - start)) s"

# A few hundred inputs each, new ones into a scratch directory (the seed
# corpus in git is only read).
for t in "${targets[@]}"; do
  mkdir -p "$B/new/$t"
  if ! "$B/$t" -runs=300 -max_total_time=10 -rss_limit_mb=2048 "$B/new/$t" \
    "$OL_SOURCE_DIR/tests/fuzz/corpus/$t" >"$B/$t.log" 2>&1; then
    tail -n 40 "$B/$t.log"
    echo "FAIL: $t" >&2
    exit 1
  fi
done
echo "ok: ${#targets[@]} fuzz targets built with clang and run ($((SECONDS - start)) s)"
