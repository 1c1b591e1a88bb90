#!/usr/bin/env bash
# bench/rpc/run.sh: JSON-RPC requests/s of openledgerd and of anvil in the same
# run, with wrk (2 threads, 32 connections, 10 s each, keep-alive):
#   ours:  account_get (a store read + mempool lookup), node_status
#   anvil: eth_getBalance, eth_blockNumber (anvil -q: no request logging)
# Prints one result line per wrk run, each round's ratios, the medians and the
# ratios of the medians (the figure to report):
#   rpc account_get: req_per_s=111308 p50=0.249ms p99=1.030ms errors=0
#   rpc: account_get/eth_getBalance, round 1 = 1.25
#   rpc median of 3 rounds: account_get=112070 node_status=118031 ...
#   rpc: account_get/eth_getBalance = 1.24
# Environment (defaults in brackets):
#   OL_BENCH_BUILD     build dir with openledgerd, preferably Release [build]
#   OL_BENCH_ANVIL     anvil binary [bench/peers/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil]
#   OL_RPC_BENCH_SECS  seconds per run [10]
#   OL_RPC_BENCH_CONNS, OL_RPC_BENCH_THREADS  [32, 2]
#   OL_BENCH_RPC_THREADS  openledgerd --rpc-threads (loops serving HTTP) [2]
#   OL_RPC_BENCH_ROUNDS   interleaved rounds; ratios are of the medians [3]
# wrk and anvil share the machine with the node, as in any single-box run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/bench/rpc
BUILD=${OL_BENCH_BUILD:-$ROOT/build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
ANVIL=${OL_BENCH_ANVIL:-$ROOT/bench/peers/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}
SECS=${OL_RPC_BENCH_SECS:-10}
CONNS=${OL_RPC_BENCH_CONNS:-32}
THREADS=${OL_RPC_BENCH_THREADS:-2}
RPC_THREADS=${OL_BENCH_RPC_THREADS:-2}
ROUNDS=${OL_RPC_BENCH_ROUNDS:-3}
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"

log() { echo "bench/rpc: $*" >&2; }
die() {
  log "$*"
  exit 1
}
command -v wrk >/dev/null || die "wrk not installed (Debian: apt-get install wrk)"
[[ -x $BUILD/openledgerd ]] || die "no $BUILD/openledgerd (set OL_BENCH_BUILD)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ol-rpcbench-XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# rpc_ok URL BODY: the method answers with a result (checked before measuring).
rpc_ok() {
  curl -sf -m 2 -H 'content-type: application/json' -d "$2" "$1" | grep -q '"result"'
}

wait_up() { # wait_up URL BODY PID
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$3" 2>/dev/null || return 1
    rpc_ok "$1" "$2" && return 0
    sleep 0.1
  done
  return 1
}

# to_ms VALUE: wrk latency ("812.00us", "1.20ms", "2.01s") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# measure NAME URL SCRIPT: runs wrk, prints the result line, sets RPS.
RPS=0
measure() {
  local name=$1 url=$2 script=$3 out rps p50 p99 errs non2xx
  out=$RESULTS/rpc-$name.txt
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$script" "$url" >"$out" 2>&1 ||
    die "wrk failed for $name: $(tail -n 5 "$out")"
  rps=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  errs=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out")
  echo "rpc $name: req_per_s=$rps p50=${p50}ms p99=${p99}ms errors=$((${errs:-0} + ${non2xx:-0}))"
  RPS=$rps
}

ratio() { # ratio LABEL OURS REF
  awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN { if (b > 0) printf "rpc: %s = %.2f\n", l, a / b }'
}

# --- both servers up, then interleaved rounds ---------------------------------
port=$(free_port)
url=http://127.0.0.1:$port/
log "openledgerd --rpc-threads $RPC_THREADS"
"$BUILD/openledgerd" --dev --quiet-accounts --log-level warn --rpc "127.0.0.1:$port" \
  --rpc-threads "$RPC_THREADS" --datadir "$TMP/ol" >"$RESULTS/rpc-node.log" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_up "$url" '{"jsonrpc":"2.0","id":1,"method":"node_status","params":[]}' "$pid" ||
  die "openledgerd did not start (bench/results/rpc-node.log)"
rpc_ok "$url" "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$HERE/account_get.lua")" ||
  die "account_get does not answer"

have_anvil=0
if [[ -x $ANVIL ]]; then
  aport=$(free_port)
  aurl=http://127.0.0.1:$aport/
  "$ANVIL" -q --host 127.0.0.1 --port "$aport" >"$RESULTS/rpc-anvil.log" 2>&1 &
  apid=$!
  PIDS+=("$apid")
  wait_up "$aurl" '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' "$apid" ||
    die "anvil did not start (bench/results/rpc-anvil.log)"
  rpc_ok "$aurl" "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$HERE/eth_getBalance.lua")" ||
    die "eth_getBalance does not answer"
  have_anvil=1
else
  log "no anvil at $ANVIL (npm install --prefix bench/peers @foundry-rs/anvil-linux-amd64): ours only"
fi

# Each round measures the four pairs back to back, ours then anvil's, so that
# a noisy neighbour hits both sides of a ratio alike; the summary takes the
# median of the rounds. The idle server of the pair costs nothing meanwhile.
median() { sort -n | awk '{v[NR] = $1} END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }
declare -A ALL
PAIRS=("account_get eth_getBalance get" "node_status eth_blockNumber status") # ours, anvil's, key
for ((r = 1; r <= ROUNDS; r++)); do
  ((ROUNDS == 1)) || log "round $r of $ROUNDS"
  for pair in "${PAIRS[@]}"; do
    read -r mine theirs key <<<"$pair"
    measure "$mine" "$url" "$HERE/$mine.lua"
    ALL[$key]+="$RPS "
    ours=$RPS
    if ((have_anvil)); then
      measure "anvil_$theirs" "$aurl" "$HERE/$theirs.lua"
      ALL[ref_$key]+="$RPS "
      ((ROUNDS == 1)) || ratio "$mine/$theirs, round $r" "$ours" "$RPS"
    fi
  done
done

med() { tr ' ' '\n' <<<"${ALL[$1]}" | grep . | median; }
if ((ROUNDS > 1)); then
  echo "rpc median of $ROUNDS rounds: account_get=$(med get) node_status=$(med status)" \
    "$( ((have_anvil)) && echo "eth_getBalance=$(med ref_get) eth_blockNumber=$(med ref_status)")"
fi
if ((have_anvil)); then
  ratio "account_get/eth_getBalance" "$(med get)" "$(med ref_get)"
  ratio "node_status/eth_blockNumber" "$(med status)" "$(med ref_status)"
fi
