#!/usr/bin/env python3
"""An independent verifier of the state-proof vectors, written from
docs/proofs.md alone (no project code): it must agree with every vector of
tests/data/smt_vectors.json, as the C verifier does (test_smt_vectors) and the
explorer's JavaScript one. With --explain NAME it prints the fold of one
vector step by step (the worked examples of docs/proofs.md).

Usage: smt_vectors_check.py SOURCE_DIR [--explain NAME]"""
import hashlib
import json
import sys


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def bit(path, i):
    return (path[i // 8] >> (7 - i % 8)) & 1


def varint(b, pos):
    """Minimal unsigned LEB128, at most 10 bytes."""
    v = shift = 0
    for n in range(10):
        if pos >= len(b):
            raise ValueError("truncated varint")
        c = b[pos]
        pos += 1
        if n == 9 and c > 1:
            raise ValueError("varint overflows 64 bits")
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            if c == 0 and n > 0:
                raise ValueError("non-minimal varint")
            return v, pos
    raise ValueError("varint overflows 64 bits")


def decode_proof(b):
    nsib, pos = varint(b, 0)
    if nsib > 256:
        raise ValueError("more than 256 siblings")
    sibs = [b[pos + 32 * i:pos + 32 * i + 32] for i in range(nsib)]
    pos += 32 * nsib
    if pos + 1 > len(b):
        raise ValueError("truncated")
    has = b[pos]
    pos += 1
    leaf = None
    if has == 1:
        leaf = (b[pos:pos + 32], b[pos + 32:pos + 64])
        pos += 64
    elif has != 0:
        raise ValueError("has_leaf is not 0 or 1")
    if pos != len(b) or any(len(s) != 32 for s in sibs) or (leaf and len(leaf[1]) != 32):
        raise ValueError("truncated or trailing bytes")
    return sibs, leaf


def verify(root, key, value, sibs, leaf, log=None):
    """None when the proof holds, else the reason. value None: absence."""
    path = sha(key)
    n = len(sibs)
    if n > 256:
        return "more than 256 siblings"
    if value is not None:
        if leaf is None:
            return "proves absence, not inclusion"
        if leaf[0] != path:
            return "proves another key"
        if leaf[1] != sha(value):
            return "value does not match"
    elif leaf is not None:
        if leaf[0] == path:
            return "key is present"
        if any(bit(leaf[0], i) != bit(path, i) for i in range(n)):
            return "leaf is off the key's path"
    cur = sha(b"\x00", leaf[0], leaf[1]) if leaf else bytes(32)
    if log is not None:
        log.append(("start", cur))
    for i in range(n - 1, -1, -1):
        if bit(path, i):
            cur = sha(b"\x01", sibs[i], cur)
        else:
            cur = sha(b"\x01", cur, sibs[i])
        if log is not None:
            log.append((i, bit(path, i), cur))
    if cur != root:
        return "root does not match"
    return None


def h(s):
    return bytes.fromhex(s[2:]) if s is not None else None


def main():
    src = sys.argv[1]
    doc = json.load(open(src + "/tests/data/smt_vectors.json"))
    assert doc["version"] == 1
    explain = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--explain" else None
    bad = 0
    for v in doc["vectors"]:
        key, value = h(v["key"]), h(v["value"])
        assert h(v["path"]) == sha(key), v["name"]
        if value is not None:
            assert h(v["valueHash"]) == sha(value), v["name"]
        sibs, leaf = decode_proof(h(v["encodedProof"]))
        jl = v["proof"]["leaf"]
        assert sibs == [h(s) for s in v["proof"]["siblings"]], v["name"]
        assert leaf == ((h(jl["path"]), h(jl["valueHash"])) if jl else None), v["name"]
        log = []
        why = verify(h(v["root"]), key, value, sibs, leaf, log)
        if (why is None) != v["valid"]:
            print("DISAGREES: %s: marked %s, got %s" % (v["name"], v["valid"], why or "valid"))
            bad += 1
        if explain and v["name"] == explain:
            print("path", sha(key).hex())
            for step in log:
                if step[0] == "start":
                    print("start", step[1].hex())
                else:
                    print("depth %d bit %d -> %s" % (step[0], step[1], step[2].hex()))
            print("result:", why or "valid")
    print("%d vectors, %d disagreements" % (len(doc["vectors"]), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
