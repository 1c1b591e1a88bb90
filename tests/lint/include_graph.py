#!/usr/bin/env python3
"""The include graph points down only (docs/organization.md).

Every #include "dir/..." of a project file is checked against the layers
below; a lower module that includes a higher one fails the build's tests,
with the file, the line and the rule it breaks.
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")

# Top-level modules and what each may include (itself always). The design:
# util <- vm <- chain <- consensus <- p2p, rollup, rpc <- node, cli.
BELOW = {
    "util": set(),
    "vm": {"util"},
    "chain": {"vm", "util"},
    "consensus": {"chain", "vm", "util"},
    "p2p": {"consensus", "chain", "vm", "util"},
    "rollup": {"consensus", "chain", "vm", "util"},
    "rpc": {"consensus", "chain", "vm", "util"},
    "node": {"p2p", "rollup", "rpc", "consensus", "chain", "vm", "util"},
    "cli": {"rollup", "rpc", "consensus", "chain", "vm", "util"},
}
# Inside chain/: crypto <- types <- state <- mempool, exec (exec may use the
# mempool: propose takes transactions from it).
CHAIN_BELOW = {
    "crypto": set(),
    "types": {"crypto"},
    "state": {"types", "crypto"},
    "mempool": {"state", "types", "crypto"},
    "exec": {"mempool", "state", "types", "crypto"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def module_of(path):
    parts = path.split("/")
    return parts[0], (parts[1] if parts[0] == "chain" and len(parts) > 2 else None)


def main():
    bad = []
    checked = 0
    for top in BELOW:
        base = os.path.join(ROOT, top)
        if not os.path.isdir(base):
            continue
        for dirpath, _, files in os.walk(base):
            for f in files:
                if not f.endswith((".c", ".h")):
                    continue
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, ROOT)
                mod, sub = module_of(rel)
                with open(full, encoding="utf-8", errors="replace") as fh:
                    for n, line in enumerate(fh, 1):
                        m = INCLUDE.match(line)
                        if not m or "/" not in m.group(1):
                            continue
                        checked += 1
                        inc = m.group(1)
                        imod, isub = module_of(inc)
                        if imod not in BELOW and imod != "tests":
                            continue  # generated or third-party paths
                        if imod != mod and imod not in BELOW[mod]:
                            bad.append(f"{rel}:{n}: {mod}/ includes {inc}: {mod} may include only "
                                       f"{', '.join(sorted(BELOW[mod])) or 'itself'}")
                        elif mod == imod == "chain" and sub and isub and sub != isub \
                                and isub not in CHAIN_BELOW.get(sub, set()):
                            bad.append(f"{rel}:{n}: chain/{sub}/ includes {inc}: chain/{sub} may "
                                       f"include only chain/{{{', '.join(sorted(CHAIN_BELOW[sub]))}}}")
    for b in bad:
        print("FAIL:", b)
    if bad:
        print(f"{len(bad)} include(s) point up the layers (docs/organization.md)")
        return 1
    print(f"ok: {checked} includes point down only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
