#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, only those missing.
# Non-interactive; safe to run repeatedly. Needs root (or sudo) when something is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PKGS=(
  build-essential cmake pkg-config clang clang-format
  libsecp256k1-dev libleveldb-dev libuv1-dev libssl-dev libcmocka-dev
  libjansson-dev libhttp-parser-dev libwslay-dev libzstd-dev libcurl4-openssl-dev nettle-dev
  python3 curl
)
# The rollup's outside programs (anvil, the local L1; solc-js) come from npm,
# so the devnet and the tests need Node.js. A Node.js from elsewhere (e.g.
# NodeSource) bundles npm and conflicts with Debian's npm package: only
# install them when there is no npm at all.
command -v npm >/dev/null || PKGS+=(nodejs npm)
# The explorer's browser test (tests/integration/explorer_browser.sh) drives
# Debian's chromium over the DevTools pipe; any chromium on the PATH will do.
command -v chromium >/dev/null || PKGS+=(chromium)
# Benchmarks only: installed by `make bench` (OL_DEPS_BENCH=1).
if [[ "${OL_DEPS_BENCH:-0}" == 1 ]]; then
  PKGS+=(lua5.4 wrk)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# rollup/peers/package.json pins anvil and solc; package-lock.json pins what
# npm fetches. Reinstalled only when the lock file changed since the last install.
rollup_peers() {
  local dir="$ROOT/rollup/peers" stamp="$ROOT/rollup/peers/node_modules/.ol-lock"
  if [[ -x "$dir/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" && -f "$stamp" ]] &&
    cmp -s "$dir/package-lock.json" "$stamp"; then
    echo "deps: rollup peers (anvil, solc) present"
    return 0
  fi
  echo "deps: installing the rollup peers (anvil, solc) into rollup/peers with npm"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
  cp "$dir/package-lock.json" "$stamp"
}

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#PKGS[@]} packages present"
  rollup_peers
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq </dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
rollup_peers
echo "deps: done"
