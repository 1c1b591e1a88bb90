#!/usr/bin/env node
/* The explorer's verifier (rpc/explorer/verify.js) under node: every vector
 * of tests/data/smt_vectors.json (the ones the C verifier checks) gives the
 * same verdict, through the decoded and the encoded proof; and known answers
 * for SHA-256, addresses, the vote digest (docs/encoding.md), BIP-340
 * (the BIP's own vectors 0 and 1) and the canonical decoders.
 *   node tests/browser/verify_test.js [SOURCE_DIR] */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const SRC = path.resolve(process.argv[2] || path.join(__dirname, "..", ".."));
const V = require(path.join(SRC, "rpc", "explorer", "verify.js"));
let failures = 0, checks = 0;
function check(cond, what) {
  checks++;
  if (!cond) { failures++; console.log("FAIL: " + what); }
}
function throws(fn) { try { fn(); return null; } catch (e) { return e.message || String(e); } }
const hx = V.hexToBytes;

/* ---- the shared state-proof vectors ---- */
const file = JSON.parse(fs.readFileSync(path.join(SRC, "tests", "data", "smt_vectors.json"), "utf8"));
check(file.version === 1 && file.vectors.length >= 20, "smt_vectors.json: version 1 with the vectors");
let valid = 0, invalid = 0;
for (const v of file.vectors) {
  const path32 = hx(v.path);
  check(V.toHex(V.sha256(hx(v.key))) === v.path, v.name + ": path = SHA-256(key)");
  if (v.value !== null) check(V.toHex(V.sha256(hx(v.value))) === v.valueHash, v.name + ": valueHash = SHA-256(value)");
  const vh = v.value === null ? null : V.sha256(hx(v.value));
  /* The proof as JSON fields, and as its encoding. */
  const fromJson = { siblings: v.proof.siblings.map(hx), hasLeaf: v.proof.leaf !== null,
    leafPath: v.proof.leaf ? hx(v.proof.leaf.path) : null, leafValueHash: v.proof.leaf ? hx(v.proof.leaf.valueHash) : null };
  const decoded = V.decodeProof(hx(v.encodedProof));
  check(decoded.siblings.length === fromJson.siblings.length && decoded.hasLeaf === fromJson.hasLeaf &&
    decoded.siblings.every(function (s, i) { return V.eq(s, fromJson.siblings[i]); }),
    v.name + ": the encoded proof decodes to the JSON proof");
  for (const [how, p] of [["json", fromJson], ["encoded", decoded]]) {
    const err = throws(function () { V.smtVerify(hx(v.root), path32, vh, p); });
    if (v.valid) check(err === null, v.name + " (" + how + "): accepted (" + err + ")");
    else check(err !== null, v.name + " (" + how + "): rejected (" + v.reason + ")");
  }
  if (v.valid) valid++; else invalid++;
}
check(valid > 0 && invalid > 0, "both valid and invalid vectors present");

/* ---- known answers ---- */
for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
  const m = crypto.randomBytes(n);
  check(V.toHex(V.sha256(m)).slice(2) === crypto.createHash("sha256").update(m).digest("hex"), "sha256 of " + n + " bytes");
}
const a20 = new Uint8Array(20).map(function (_, i) { return i; });
check(V.addressEncode(a20) === "ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysncg6ehf", "address encoding (docs/encoding.md)");
check(V.eq(V.addressDecode("ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysncg6ehf"), a20), "address decoding");
check(throws(function () { V.addressDecode("ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysncg6ehg"); }) !== null, "address with a bad checksum refused");
check(V.toHex(V.voteDigest("openledger-devnet", new Uint8Array(32).fill(0xcd), 42, 3, 2, new Uint8Array(32).fill(0xab))) ===
  "0xd21b011c9535ccec00185e2a0303ebf5a09e200079074c965a9e30c8beb7b574", "vote digest known answer (docs/encoding.md)");
const BIP = [
  ["F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9", "0000000000000000000000000000000000000000000000000000000000000000",
    "E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA821525F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0"],
  ["DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
    "6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE33418906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A"]];
for (const [pk, msg, sig] of BIP) {
  check(V.schnorrVerify(hx(pk), hx(msg), hx(sig)), "BIP-340 vector " + pk.slice(0, 8) + " verifies");
  const bad = hx(msg); bad[31] ^= 1;
  check(!V.schnorrVerify(hx(pk), bad, hx(sig)), "BIP-340 vector " + pk.slice(0, 8) + " with another message fails");
  const bs = hx(sig); bs[63] ^= 1;
  check(!V.schnorrVerify(hx(pk), hx(msg), bs), "BIP-340 vector " + pk.slice(0, 8) + " with a flipped signature bit fails");
}
/* Canonical decoding: non-minimal varints and trailing bytes are refused. */
check(/non-minimal/.test(throws(function () { V.decodeProof(hx("0x800000")); })), "non-minimal varint refused");
check(/trailing/.test(throws(function () { V.decodeProof(hx("0x000000")); })), "trailing bytes refused");
check(/has_leaf/.test(throws(function () { V.decodeProof(hx("0x0002")); })), "has_leaf 2 refused");
const tot = new Uint8Array(40); tot[0] = 5; tot[32] = 2;
const t = V.decodeTotals(tot);
check(t.earned === 5n && t.payouts === 2n, "contributor totals decode (earned, ..., payouts)");
check(throws(function () { V.decodeTotals(new Uint8Array(41)); }) !== null, "totals of 41 bytes refused");

console.log("explorer verify.js: " + checks + " checks, " + file.vectors.length + " vectors (" + valid + " valid, " + invalid +
  " invalid): " + (failures ? failures + " FAILED" : "all passed"));
process.exit(failures ? 1 : 0);
