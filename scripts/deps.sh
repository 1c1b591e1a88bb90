#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, only those missing.
# Non-interactive; safe to run repeatedly. Needs root (or sudo) when something is missing.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang clang-format
  libsecp256k1-dev libleveldb-dev libuv1-dev libssl-dev libcmocka-dev
  libjansson-dev libhttp-parser-dev libwslay-dev libzstd-dev libcurl4-openssl-dev nettle-dev
  python3 curl
)
# Benchmarks only: installed by `make bench` (OL_DEPS_BENCH=1).
if [[ "${OL_DEPS_BENCH:-0}" == 1 ]]; then
  PKGS+=(lua5.4 wrk)
  # A Node.js from elsewhere (e.g. NodeSource) bundles npm and conflicts with
  # Debian's npm package: only install them when there is no npm at all.
  command -v npm >/dev/null || PKGS+=(nodejs npm)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#PKGS[@]} packages present"
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
echo "deps: done"
