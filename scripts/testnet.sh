#!/usr/bin/env bash
# Starts or stops the local network that `openledgerd testnet --out DIR`
# wrote (docs/node.md, "A local testnet"):
#   scripts/testnet.sh up DIR      start every DIR/nodeI (log: DIR/nodeI/node.log,
#                                  pid: DIR/nodeI/node.pid), wait for their RPC
#   scripts/testnet.sh down DIR    SIGTERM each running node, wait for it to exit
#   scripts/testnet.sh status DIR  height and consensus step of each node
# OPENLEDGERD names the binary (default: build/openledgerd, then PATH).
set -euo pipefail

usage() { echo "usage: $0 up|down|status DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd=$1 dir=$2
[[ -f "$dir/nodes.json" ]] || { echo "$0: $dir/nodes.json not found (openledgerd testnet --out $dir)" >&2; exit 1; }

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${OPENLEDGERD:-}
if [[ -z "$bin" ]]; then
  if [[ -x "$here/build/openledgerd" ]]; then bin="$here/build/openledgerd"; else bin=openledgerd; fi
fi

running() { [[ -f "$1/node.pid" ]] && kill -0 "$(cat "$1/node.pid")" 2>/dev/null; }

status_of() {
  curl -s --max-time 2 -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"node_status","params":[]}' "$1" 2>/dev/null || true
}

nodes() { ls -d "$dir"/node[0-9]* 2>/dev/null | sort -V; }

case $cmd in
up)
  for d in $(nodes); do
    if running "$d"; then echo "$(basename "$d"): already running (pid $(cat "$d/node.pid"))"; continue; fi
    "$bin" --datadir "$d" >>"$d/node.log" 2>&1 &
    echo $! >"$d/node.pid"
  done
  # Wait for each RPC to answer.
  mapfile -t urls < <(python3 -c 'import json,sys; [print(n["rpc"]) for n in json.load(open(sys.argv[1]))]' "$dir/nodes.json")
  i=0
  for d in $(nodes); do
    url=${urls[$i]}; i=$((i + 1))
    for _ in $(seq 1 100); do
      grep -q '"result"' <<<"$(status_of "$url")" && break
      running "$d" || { echo "$(basename "$d") exited; see $d/node.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "$(basename "$d"): pid $(cat "$d/node.pid"), $url"
  done
  ;;
down)
  for d in $(nodes); do
    if running "$d"; then
      pid=$(cat "$d/node.pid")
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "$(basename "$d"): stopped"
    fi
    rm -f "$d/node.pid"
  done
  ;;
status)
  mapfile -t urls < <(python3 -c 'import json,sys; [print(n["rpc"]) for n in json.load(open(sys.argv[1]))]' "$dir/nodes.json")
  i=0
  for d in $(nodes); do
    url=${urls[$i]}; i=$((i + 1))
    st=$(status_of "$url")
    if grep -q '"result"' <<<"$st"; then
      python3 -c 'import json,sys; r=json.loads(sys.argv[2])["result"]; c=r.get("consensus") or {}
print("%s: height %d, consensus round %s step %s, %d peers" % (sys.argv[1], r["height"], c.get("round"), c.get("step"), r["peers"]))' "$(basename "$d")" "$st"
    else
      echo "$(basename "$d"): down"
    fi
  done
  ;;
*) usage ;;
esac
