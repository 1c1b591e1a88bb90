#!/usr/bin/env bash
# `make devnet`: the whole rollup on this machine. Starts anvil as the L1,
# funds the node's L1 account, deploys the four contracts (BatchInbox,
# OutputOracle, OpenToken, Bridge; dev0..dev9 get OPEN and ether), and runs
# `openledgerd --dev` posting batches and outputs to them (docs/rollup.md,
# "Operating"). anvil runs at Prague and the batcher posts its frames in
# EIP-4844 blobs (--batch-da blobs): the batcher sends blobs with version-0
# proofs, which an L1 past Osaka (EIP-7594) no longer takes (docs/rollup.md,
# "Blobs"). Arguments are passed to openledgerd (a later --batch-da
# calldata overrides). Everything lives in a temporary directory removed at
# the end; anvil stops when the node stops.
#
# Environment: OPENLEDGERD (default build/openledgerd), OL_ANVIL (the anvil
# binary), L1_PORT (default 8546), L1_BLOCK_TIME (seconds, default 1),
# L1_HARDFORK (default prague), BATCH_DA (calldata or blobs, default blobs),
# FINALIZATION_PERIOD (seconds, default 30).
set -euo pipefail
cd "$(dirname "$0")/.."

OPENLEDGERD=${OPENLEDGERD:-build/openledgerd}
ANVIL=${OL_ANVIL:-rollup/peers/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}
L1_PORT=${L1_PORT:-8546}
L1_URL="http://127.0.0.1:$L1_PORT"
L1_BLOCK_TIME=${L1_BLOCK_TIME:-1}
L1_HARDFORK=${L1_HARDFORK:-prague}
BATCH_DA=${BATCH_DA:-blobs}
FINALIZATION_PERIOD=${FINALIZATION_PERIOD:-30}

[[ -x "$ANVIL" ]] || { echo "devnet: no anvil at $ANVIL: run 'make deps' (or 'make devnet L1=none' for the L2 alone)" >&2; exit 1; }
[[ -x "$OPENLEDGERD" ]] || { echo "devnet: no $OPENLEDGERD: run 'make build'" >&2; exit 1; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/openledger-devnet-XXXXXX")
ANVIL_PID=
NODE_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n "$NODE_PID" ]] && kill -TERM "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
  [[ -n "$ANVIL_PID" ]] && kill -TERM "$ANVIL_PID" 2>/dev/null && wait "$ANVIL_PID" 2>/dev/null
  rm -rf "$DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

l1() {
  curl -s --max-time 5 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$L1_URL"
}

if l1 eth_chainId '[]' >/dev/null 2>&1; then
  echo "devnet: something already answers on $L1_URL (set L1_PORT)" >&2
  exit 1
fi
"$ANVIL" -q --host 127.0.0.1 --port "$L1_PORT" --chain-id 31337 --block-time "$L1_BLOCK_TIME" \
  --hardfork "$L1_HARDFORK" >"$DIR/anvil.log" 2>&1 &
ANVIL_PID=$!
for _ in $(seq 1 100); do
  l1 eth_chainId '[]' 2>/dev/null | grep -q result && break
  kill -0 "$ANVIL_PID" 2>/dev/null || { cat "$DIR/anvil.log" >&2; echo "devnet: anvil exited" >&2; exit 1; }
  sleep 0.1
done

ADDR=$("$OPENLEDGERD" l1-address --datadir "$DIR" 2>/dev/null)
# 1000 ether for the node's L1 account.
l1 anvil_setBalance "[\"$ADDR\",\"0x3635c9adc5dea00000\"]" | grep -q result ||
  { echo "devnet: anvil_setBalance failed" >&2; exit 1; }
"$OPENLEDGERD" rollup-deploy --l1 "$L1_URL" --datadir "$DIR" --out "$DIR/rollup.json" \
  --finalization-period "$FINALIZATION_PERIOD" --confirmations 2 --dev-fund >"$DIR/deploy.log" ||
  { cat "$DIR/deploy.log" >&2; exit 1; }
echo
echo "L1: anvil at $L1_URL (chain id 31337, $L1_HARDFORK, a block every ${L1_BLOCK_TIME} s), L1 account $ADDR"
echo "    batches posted in $BATCH_DA"
grep -v '^dev[0-9]:' "$DIR/deploy.log" | head -6 | sed 's/^/    /'
echo "    dev0..dev9: 1,000,000 OPEN and 100 ether each on the L1 (their L1 addresses: $DIR/deploy.log)"

"$OPENLEDGERD" --dev --datadir "$DIR" --l1 "$L1_URL" --rollup-config "$DIR/rollup.json" \
  --batch-da "$BATCH_DA" "$@" &
NODE_PID=$!
set +e
wait "$NODE_PID"
rc=$?
NODE_PID=
exit "$rc"
