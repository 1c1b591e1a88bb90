#!/usr/bin/env python3
"""Line coverage per module from a --coverage build that has run its tests.

    scripts/coverage.py BUILD_DIR

Runs gcov (no output files) on every object that has coverage data and sums
executed / executable lines per module: the top-level folder, and the
sub-folders of chain/ and rpc/. Prints a table and the total. `make coverage`
builds, runs the suite and calls this. Not a gate: a number people can see.
"""
import os
import re
import subprocess
import sys
from collections import defaultdict

build = sys.argv[1] if len(sys.argv) > 1 else "build-cov"
root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MODULES = ("util", "vm", "chain", "consensus", "p2p", "rollup", "rpc", "node", "cli")

per_file = {}
for dirpath, _, files in os.walk(build):
    gcdas = [f for f in files if f.endswith(".gcda")]
    if not gcdas:
        continue
    out = subprocess.run(["gcov", "-n", "-o", dirpath] + [os.path.join(dirpath, f) for f in gcdas],
                         capture_output=True, text=True, cwd=root).stdout
    cur = None
    for line in out.splitlines():
        m = re.match(r"File '(.+)'", line)
        if m:
            cur = os.path.relpath(os.path.abspath(os.path.join(root, m.group(1))), root)
            continue
        m = re.match(r"Lines executed:([\d.]+)% of (\d+)", line)
        if m and cur:
            total = int(m.group(2))
            hit = round(float(m.group(1)) * total / 100)
            # The same source is compiled into one library only; keep the largest view.
            if cur not in per_file or per_file[cur][1] < total:
                per_file[cur] = (hit, total)
            cur = None

mods = defaultdict(lambda: [0, 0])
for path, (hit, total) in per_file.items():
    parts = path.split("/")
    if parts[0] not in MODULES:
        continue
    key = "/".join(parts[:2]) if parts[0] in ("chain", "rpc") and len(parts) > 2 else parts[0]
    mods[key][0] += hit
    mods[key][1] += total
if not mods:
    print(f"no coverage data under {build}: build with -DOL_COVERAGE=ON and run the tests first")
    sys.exit(1)
print(f"{'module':<16} {'lines':>8} {'covered':>8}")
th = tt = 0
for k in sorted(mods):
    h, t = mods[k]
    th += h
    tt += t
    print(f"{k:<16} {t:>8} {100.0 * h / t:>7.1f}%")
print(f"{'total':<16} {tt:>8} {100.0 * th / tt:>7.1f}%")
