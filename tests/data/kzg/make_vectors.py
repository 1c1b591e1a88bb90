#!/usr/bin/env python3
"""Converts c-kzg-4844's YAML test vectors (tests/<function>/kzg-mainnet/
<case>/data.yaml) into the two files test_kzg.c reads:

  blobs.txt   one blob per line: "<id> <hex>" (the vectors share 11 blobs);
  cases.txt   one case per line, fields separated by one space, "-" for an
              absent input and "null" for an expected refusal:
                commit     <case> <blob-id> <commitment|null>
                blobproof  <case> <blob-id> <commitment> <proof|null>
                challenge  <case> <blob-id> <commitment> <challenge>
                kzgproof   <case> <blob-id> <z> <proof> <y>   or ... <z> null
              A blob, commitment or z of the wrong length is kept as is (its
              hex), the test checks such a case expects a refusal.

Usage: make_vectors.py C-KZG-CHECKOUT-OR-GIT-DIR > /dev/null (writes next to
this script). Produced from ethereum/c-kzg-4844 at the commit named in
cases.txt's first line.
"""
import hashlib
import os
import re
import subprocess
import sys

FUNCS = ["blob_to_kzg_commitment", "compute_blob_kzg_proof", "compute_challenge",
         "compute_kzg_proof"]


def git(repo, *args):
    return subprocess.run(["git", "-C", repo] + list(args), check=True,
                          capture_output=True, text=True).stdout


def field(text, name):
    m = re.search(r"^\s*%s: '?(0x[0-9a-fA-F]*|null)'?\s*$" % name, text, re.M)
    return m.group(1) if m else None


def main():
    repo = sys.argv[1]
    head = git(repo, "rev-parse", "HEAD").strip()
    here = os.path.dirname(os.path.abspath(__file__))
    blobs = {}
    cases = ["# ethereum/c-kzg-4844 %s tests/{%s}" % (head, ",".join(FUNCS))]
    files = git(repo, "ls-tree", "-r", "--name-only", "HEAD", "tests/").split()
    for fn in FUNCS:
        for path in sorted(p for p in files if p.startswith("tests/%s/" % fn)):
            text = git(repo, "show", "HEAD:" + path)
            case = path.split("/")[-2]
            blob = field(text, "blob")[2:]
            bid = hashlib.sha256(blob.encode()).hexdigest()[:12]
            blobs[bid] = blob
            out = re.search(r"^output:(.*)$", text, re.M).group(1).strip()
            if fn == "blob_to_kzg_commitment":
                cases.append("commit %s %s %s" % (case, bid, out.strip("'")))
            elif fn == "compute_blob_kzg_proof":
                cases.append("blobproof %s %s %s %s" % (case, bid, field(text, "commitment"),
                                                        out.strip("'")))
            elif fn == "compute_challenge":
                cases.append("challenge %s %s %s %s" % (case, bid, field(text, "commitment"),
                                                        out.strip("'")))
            else:
                z = field(text, "z")
                if out == "null":
                    cases.append("kzgproof %s %s %s null" % (case, bid, z))
                else:
                    vals = re.findall(r"- '(0x[0-9a-f]*)'", text)
                    assert len(vals) == 2, path
                    cases.append("kzgproof %s %s %s %s %s" % (case, bid, z, vals[0], vals[1]))
    with open(os.path.join(here, "blobs.txt"), "w") as f:
        for bid in sorted(blobs):
            f.write("%s %s\n" % (bid, blobs[bid]))
    with open(os.path.join(here, "cases.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")


main()
