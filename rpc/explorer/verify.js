/* The explorer's verifier (OLV): everything the "verify" action checks, in
 * plain JavaScript with no DOM and no network of its own, so that node runs
 * the same code in tests/explorer/verify_test.js. SHA-256, the state tree's
 * proofs (docs/proofs.md), the canonical decoders (docs/encoding.md), and
 * BIP-340 Schnorr signatures over secp256k1 with BigInt for the commit. */
"use strict";
const OLV = (function () {
  /* ---- bytes ---- */
  function hexToBytes(h) {
    if (typeof h !== "string") throw new Error("expected a hex string");
    h = h.replace(/^0x/, "");
    if (h.length % 2 || !/^[0-9a-fA-F]*$/.test(h)) throw new Error("bad hex");
    const b = new Uint8Array(h.length / 2);
    for (let i = 0; i < b.length; i++) b[i] = parseInt(h.substr(i * 2, 2), 16);
    return b;
  }
  function toHex(b) {
    let s = "0x";
    for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return s;
  }
  function concat() {
    let n = 0;
    for (const a of arguments) n += a.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const a of arguments) { out.set(a, o); o += a.length; }
    return out;
  }
  function eq(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function u64be(v) {
    v = BigInt(v);
    const b = new Uint8Array(8);
    for (let i = 7; i >= 0; i--) { b[i] = Number(v & 0xffn); v >>= 8n; }
    return b;
  }
  function u64le(v) { return u64be(v).reverse(); }

  /* ---- SHA-256 (FIPS 180-4), synchronous so the verifier also runs on
   * pages served over plain HTTP, where crypto.subtle is missing ---- */
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  function sha256() {
    const msg = concat.apply(null, arguments);
    const n = msg.length, total = ((n + 9 + 63) >> 6) << 6;
    const buf = new Uint8Array(total);
    buf.set(msg);
    buf[n] = 0x80;
    const bits = n * 8;
    for (let i = 0; i < 8; i++) buf[total - 1 - i] = Math.floor(bits / Math.pow(2, 8 * i)) & 0xff;
    const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const W = new Uint32Array(64);
    for (let off = 0; off < total; off += 64) {
      for (let i = 0; i < 16; i++)
        W[i] = (buf[off + 4 * i] << 24) | (buf[off + 4 * i + 1] << 16) | (buf[off + 4 * i + 2] << 8) | buf[off + 4 * i + 3];
      for (let i = 16; i < 64; i++) {
        const a = W[i - 15], b = W[i - 2];
        const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
        const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (let i = 0; i < 64; i++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }
    const out = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      out[4 * i] = H[i] >>> 24; out[4 * i + 1] = (H[i] >>> 16) & 0xff;
      out[4 * i + 2] = (H[i] >>> 8) & 0xff; out[4 * i + 3] = H[i] & 0xff;
    }
    return out;
  }
  const TAG = function (t) { return new Uint8Array([t]); };

  /* ---- canonical decoding (docs/encoding.md "Primitives") ---- */
  function Reader(b, what) { this.b = b; this.o = 0; this.what = what; }
  Reader.prototype.fail = function (why) { throw new Error(this.what + ": " + why + " at byte " + this.o); };
  Reader.prototype.bytes = function (n) {
    if (this.o + n > this.b.length) this.fail("truncated");
    const r = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return r;
  };
  Reader.prototype.u8 = function () { return this.bytes(1)[0]; };
  Reader.prototype.uint = function (n) { /* little-endian, as a BigInt */
    const r = this.bytes(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(r[i]);
    return v;
  };
  Reader.prototype.u64 = function () { return this.uint(8); };
  Reader.prototype.u32 = function () { return Number(this.uint(4)); };
  Reader.prototype.u16 = function () { return Number(this.uint(2)); };
  /* Minimal LEB128, at most 10 bytes, below max. */
  Reader.prototype.varint = function (max) {
    let v = 0n, shift = 0n;
    for (let i = 0; ; i++) {
      if (this.o >= this.b.length) this.fail("truncated varint");
      const c = this.b[this.o++];
      if (i === 9 && c > 1) this.fail("varint overflows 64 bits");
      v |= BigInt(c & 0x7f) << shift;
      if (!(c & 0x80)) {
        if (c === 0 && i > 0) this.fail("non-minimal varint");
        break;
      }
      shift += 7n;
    }
    if (max !== undefined && v > BigInt(max)) this.fail("value above its limit");
    return v;
  };
  Reader.prototype.lenbytes = function (max) { return this.bytes(Number(this.varint(max))); };
  Reader.prototype.end = function () { if (this.o !== this.b.length) this.fail("trailing bytes"); };

  /* ---- the state tree (docs/proofs.md) ---- */
  const MAX_DEPTH = 256;
  function decodeProof(bytes) {
    const r = new Reader(bytes, "smt proof");
    const nsib = Number(r.varint(MAX_DEPTH));
    const siblings = [];
    for (let i = 0; i < nsib; i++) siblings.push(r.bytes(32));
    const has = r.u8();
    if (has > 1) r.fail("has_leaf is not 0 or 1");
    const p = { siblings: siblings, hasLeaf: has === 1, leafPath: null, leafValueHash: null };
    if (p.hasLeaf) { p.leafPath = r.bytes(32); p.leafValueHash = r.bytes(32); }
    r.end();
    return p;
  }
  function bitAt(path, i) { return (path[i >> 3] >> (7 - (i & 7))) & 1; }
  function prefixEq(a, b, nbits) {
    for (let i = 0; i < nbits; i++) if (bitAt(a, i) !== bitAt(b, i)) return false;
    return true;
  }
  function leafHash(path, valueHash) { return sha256(TAG(0), path, valueHash); }
  function nodeHash(l, r) { return sha256(TAG(1), l, r); }
  /* Inclusion when valueHash is given, else non-inclusion; throws with the
   * reason when the proof does not show it against root. Siblings are listed
   * from the root down; bit i of the path (most significant first) says on
   * which side of level i the key's subtree is, 1 = right; the fold runs
   * from the deepest sibling up to the root. */
  function smtVerify(root, path, valueHash, proof) {
    const p = proof;
    if (p.siblings.length > MAX_DEPTH) throw new Error("smt proof: too many siblings");
    if (valueHash) {
      if (!p.hasLeaf) throw new Error("smt proof: proves absence, not inclusion");
      if (!eq(p.leafPath, path)) throw new Error("smt proof: proves another key");
      if (!eq(p.leafValueHash, valueHash)) throw new Error("smt proof: value does not match");
    } else if (p.hasLeaf) {
      if (eq(p.leafPath, path)) throw new Error("smt proof: key is present");
      /* Another key's leaf says the key is absent only where the key would be. */
      if (!prefixEq(p.leafPath, path, p.siblings.length)) throw new Error("smt proof: leaf is off the key's path");
    }
    let cur = p.hasLeaf ? leafHash(p.leafPath, p.leafValueHash) : new Uint8Array(32);
    for (let i = p.siblings.length - 1; i >= 0; i--)
      cur = bitAt(path, i) ? nodeHash(p.siblings[i], cur) : nodeHash(cur, p.siblings[i]);
    if (!eq(cur, root)) throw new Error("smt proof: root does not match");
    return true;
  }

  /* ---- addresses (bech32m, docs/encoding.md "Keys, signatures, addresses") ---- */
  const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  function polymod(values) {
    const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let chk = 1;
    for (const v of values) {
      const b = chk >>> 25;
      chk = ((chk & 0x1ffffff) << 5) ^ v;
      for (let i = 0; i < 5; i++) if ((b >>> i) & 1) chk ^= GEN[i];
    }
    return chk >>> 0;
  }
  function hrpExpand(h) {
    const r = [];
    for (const c of h) r.push(c.charCodeAt(0) >> 5);
    r.push(0);
    for (const c of h) r.push(c.charCodeAt(0) & 31);
    return r;
  }
  function groups(addr20) {
    const out = [];
    let acc = 0, bits = 0;
    for (const b of addr20) {
      acc = (acc << 8) | b; bits += 8;
      while (bits >= 5) { bits -= 5; out.push((acc >> bits) & 31); }
    }
    return out;
  }
  function addressEncode(addr20) {
    const data = groups(addr20);
    const mod = polymod(hrpExpand("ol").concat(data, [0, 0, 0, 0, 0, 0])) ^ 0x2bc830a3;
    let s = "ol1";
    for (const d of data) s += CHARSET[d];
    for (let i = 0; i < 6; i++) s += CHARSET[(mod >>> (5 * (5 - i))) & 31];
    return s;
  }
  function addressDecode(s) {
    s = String(s).toLowerCase();
    if (s.length !== 41 || !s.startsWith("ol1")) throw new Error("not an ol1 address");
    const data = [];
    for (const c of s.slice(3)) {
      const v = CHARSET.indexOf(c);
      if (v < 0) throw new Error("bad address character");
      data.push(v);
    }
    if (polymod(hrpExpand("ol").concat(data)) !== 0x2bc830a3) throw new Error("bad address checksum");
    const out = new Uint8Array(20);
    let acc = 0, bits = 0, o = 0;
    for (const d of data.slice(0, 32)) {
      acc = ((acc << 5) | d) & 0xfff; bits += 5;
      if (bits >= 8) { bits -= 8; out[o++] = (acc >> bits) & 0xff; }
    }
    return out;
  }

  /* ---- state keys and values (docs/proofs.md "State keys") ---- */
  const ascii = function (c) { return new Uint8Array([c.charCodeAt(0)]); };
  function keyTotals(addr20) { return concat(ascii("p"), addr20); }
  function keyRecord(id) { return concat(ascii("r"), u64be(id)); }
  function keyAccount(addr20) { return concat(ascii("a"), addr20); }
  function decodeTotals(b) {
    const r = new Reader(b, "contributor totals");
    const t = { earned: r.u64(), contributions: r.u64(), accepted: r.u64(), rejected: r.u64(), payouts: r.u64() };
    r.end();
    return t;
  }
  const ROLES = ["owner", "validator", "contributor"];
  function decodeRecord(b) {
    const r = new Reader(b, "record");
    const rec = { id: r.u64(), model: r.u64(), attestor: r.bytes(20), owner: r.bytes(20), outputHash: r.bytes(32),
      fee: r.u64(), method: r.u8(), evidenceHash: r.bytes(32), height: r.u64(), tx: r.bytes(32), retained: r.u64(),
      entries: [], payouts: [] };
    const n = Number(r.varint(1 << 16));
    for (let i = 0; i < n; i++) rec.entries.push({ contribution: r.u64(), weight: r.u64(), contributor: r.bytes(20) });
    const p = Number(r.varint(1 << 16));
    for (let i = 0; i < p; i++) {
      const recipient = r.bytes(20), role = r.u8();
      if (role > 2) r.fail("unknown payout role " + role);
      rec.payouts.push({ recipient: recipient, role: ROLES[role], contribution: r.u64(), amount: r.u64() });
    }
    r.end();
    return rec;
  }

  /* ---- headers and commits (docs/encoding.md "Block header") ---- */
  function decodeCommit(r) {
    const round = r.u32();
    const count = Number(r.varint(64));
    const sigs = [];
    let last = -1;
    for (let i = 0; i < count; i++) {
      const v = Number(r.varint(63));
      if (v <= last) r.fail("commit validators not increasing");
      last = v;
      sigs.push({ validator: v, signature: r.bytes(64) });
    }
    return { round: round, signatures: sigs };
  }
  function decodeHeader(b) {
    const r = new Reader(b, "header");
    const version = r.u8();
    if (version !== 3) r.fail("header version " + version + ", expected 3");
    const h = { version: version, chainId: new TextDecoder().decode(r.lenbytes(32)), height: r.u64(), parent: r.bytes(32),
      timeMs: r.u64(), proposer: r.bytes(20), txRoot: r.bytes(32), stateRoot: r.bytes(32), receiptsRoot: r.bytes(32),
      validatorsHash: r.bytes(32), nextValidatorsHash: r.bytes(32), consensusParamsHash: r.bytes(32),
      evidenceHash: r.bytes(32) };
    h.lastCommit = decodeCommit(r);
    r.end();
    return h;
  }
  function headerHash(raw) { return sha256(TAG(4), raw); }
  function commitDecode(raw) {
    const r = new Reader(raw, "commit");
    const c = decodeCommit(r);
    r.end();
    return c;
  }
  function varint(v) {
    v = BigInt(v);
    const out = [];
    do {
      let c = Number(v & 0x7fn);
      v >>= 7n;
      if (v) c |= 0x80;
      out.push(c);
    } while (v);
    return new Uint8Array(out);
  }
  function validatorSetHash(vals) {
    const parts = [TAG(9), varint(vals.length)];
    for (const v of vals) parts.push(v.pubkey, u64le(v.power));
    return sha256.apply(null, parts);
  }
  function voteDigest(chainId, genesisHash, height, round, type, blockId) {
    const cid = new TextEncoder().encode(chainId);
    const r = new Uint8Array(4);
    for (let i = 0; i < 4; i++) r[i] = (round >>> (8 * i)) & 0xff;
    return sha256(TAG(5), varint(cid.length), cid, genesisHash, u64le(height), r, new Uint8Array([type]), blockId);
  }

  /* ---- BIP-340 Schnorr verification over secp256k1 ---- */
  const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
  const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const G = [0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n,
    0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n, 1n];
  const mod = function (a, m) { const r = a % (m || P); return r < 0n ? r + (m || P) : r; };
  function powmod(b, e, m) {
    let r = 1n;
    b = mod(b, m);
    while (e > 0n) { if (e & 1n) r = r * b % m; b = b * b % m; e >>= 1n; }
    return r;
  }
  /* Jacobian coordinates: [X, Y, Z], Z = 0 is the point at infinity. */
  function jDouble(p) {
    const X = p[0], Y = p[1], Z = p[2];
    if (Z === 0n || Y === 0n) return [0n, 1n, 0n];
    const YY = Y * Y % P, S = 4n * X * YY % P, M = 3n * X * X % P;
    const X3 = mod(M * M - 2n * S);
    return [X3, mod(M * (S - X3) - 8n * YY * YY), 2n * Y * Z % P];
  }
  function jAdd(p, q) {
    if (p[2] === 0n) return q;
    if (q[2] === 0n) return p;
    const Z1Z1 = p[2] * p[2] % P, Z2Z2 = q[2] * q[2] % P;
    const U1 = p[0] * Z2Z2 % P, U2 = q[0] * Z1Z1 % P;
    const S1 = p[1] * q[2] % P * Z2Z2 % P, S2 = q[1] * p[2] % P * Z1Z1 % P;
    if (U1 === U2) return S1 === S2 ? jDouble(p) : [0n, 1n, 0n];
    const H = mod(U2 - U1), R = mod(S2 - S1), HH = H * H % P, HHH = H * HH % P, V = U1 * HH % P;
    const X3 = mod(R * R - HHH - 2n * V);
    return [X3, mod(R * (V - X3) - S1 * HHH), H * p[2] % P * q[2] % P];
  }
  function jMul(p, k) {
    let r = [0n, 1n, 0n];
    for (let i = BigInt(k.toString(2).length) - 1n; i >= 0n; i--) {
      r = jDouble(r);
      if ((k >> i) & 1n) r = jAdd(r, p);
    }
    return r;
  }
  function toAffine(p) {
    if (p[2] === 0n) return null;
    const zi = powmod(p[2], P - 2n, P), zi2 = zi * zi % P;
    return [p[0] * zi2 % P, p[1] * zi2 % P * zi % P];
  }
  function bytesToInt(b) { let v = 0n; for (const x of b) v = (v << 8n) | BigInt(x); return v; }
  function liftX(x) {
    if (x >= P) return null;
    const c = mod(x * x % P * x + 7n);
    const y = powmod(c, (P + 1n) / 4n, P);
    if (y * y % P !== c) return null;
    return [x, y & 1n ? P - y : y, 1n];
  }
  function taggedHash(tag, msg) {
    const t = sha256(new TextEncoder().encode(tag));
    return sha256(t, t, msg);
  }
  function schnorrVerify(pub, msg, sig) {
    if (pub.length !== 32 || sig.length !== 64) return false;
    const Pt = liftX(bytesToInt(pub));
    if (!Pt) return false;
    const r = bytesToInt(sig.subarray(0, 32)), s = bytesToInt(sig.subarray(32));
    if (r >= P || s >= N) return false;
    const e = bytesToInt(taggedHash("BIP0340/challenge", concat(sig.subarray(0, 32), pub, msg))) % N;
    const R = toAffine(jAdd(jMul(G, s), jMul(Pt, mod(N - e, N))));
    return R !== null && (R[1] & 1n) === 0n && R[0] === r;
  }

  /* ---- checking one state_getProof answer ---- */
  /* ans: {stateKey, path, value, proof, headerRaw, headerHash}; key: the
   * state key the verifier expects (computed here, never taken from the
   * answer). Returns {header, headerHash, value (bytes or null)}. */
  function checkProofAnswer(ans, key) {
    if (!ans || typeof ans !== "object") throw new Error("no proof in the answer");
    const raw = hexToBytes(ans.headerRaw), hh = headerHash(raw);
    if (ans.headerHash !== undefined && !eq(hh, hexToBytes(ans.headerHash)))
      throw new Error("header hash: SHA-256(04 || headerRaw) is not the headerHash the node sent");
    const header = decodeHeader(raw);
    if (ans.stateKey !== undefined && !eq(hexToBytes(ans.stateKey), key))
      throw new Error("the node proved state key " + ans.stateKey + ", not " + toHex(key));
    const path = sha256(key);
    if (ans.path !== undefined && !eq(hexToBytes(ans.path), path)) throw new Error("path is not SHA-256(stateKey)");
    const value = ans.value === null || ans.value === undefined ? null : hexToBytes(ans.value);
    smtVerify(header.stateRoot, path, value ? sha256(value) : null, decodeProof(hexToBytes(ans.proof)));
    return { header: header, headerHash: hh, value: value };
  }

  /* The commit of the header: more than 2/3 of the validators' power signed
   * a precommit of headerHash. vals: [{pubkey (bytes), power}] in set order. */
  function checkCommit(header, hh, commitRaw, vals, genesisHash) {
    if (!eq(validatorSetHash(vals), header.validatorsHash))
      throw new Error("the header's validatorsHash is not the hash of the genesis validators");
    const c = commitDecode(hexToBytes(commitRaw));
    let total = 0n, signed = 0n;
    for (const v of vals) total += BigInt(v.power);
    const digest = voteDigest(header.chainId, genesisHash, header.height, c.round, 2, hh);
    for (const s of c.signatures) {
      const v = vals[s.validator];
      if (!v) throw new Error("commit names validator " + s.validator + ", not in the set");
      if (!schnorrVerify(v.pubkey, digest, s.signature))
        throw new Error("commit signature of validator " + s.validator + " does not verify");
      signed += BigInt(v.power);
    }
    if (signed * 3n <= total * 2n) throw new Error("commit holds " + signed + " of " + total + " voting power, not more than 2/3");
    return { round: c.round, signers: c.signatures.length, power: signed, total: total };
  }

  /* ---- the "verify" action: a contributor's totals and every payout ---- */
  function openStr(v) { /* base units (BigInt) to "1.250000000" */
    const s = v.toString().padStart(10, "0");
    return s.slice(0, -9) + "." + s.slice(-9);
  }
  const MAX_RECORDS = 5000; /* what one browser tab proves in a few seconds */
  /* io: {rpc(method, params), batch([[method, params], ...]) -> [{result} | {error}],
   * step(text, ok)}. Resolves to a report; throws (with the step that failed
   * already reported) when anything does not verify. Trust: the validator
   * set is the genesis as this node reports it (chain_getGenesis); compare
   * its hash with one you know to take even that from elsewhere. */
  async function verifyContributor(io, address, shown) {
    const addr20 = addressDecode(address);
    const step = io.step;
    const fail = function (what, e) { step(what + ": " + (e && e.message || e), false); throw e instanceof Error ? e : new Error(String(e)); };
    let g, ans, tp;
    try { g = await io.rpc("chain_getGenesis", []); } catch (e) { fail("genesis", e); }
    try { ans = await io.rpc("state_getProof", [{ contributorTotals: address }]); } catch (e) { fail("proof of the contributor's totals", e); }
    try { tp = checkProofAnswer(ans, keyTotals(addr20)); } catch (e) { fail("proof of the contributor's totals", e); }
    const height = tp.header.height, hh = tp.headerHash;
    step("header " + toHex(hh) + " at height " + height + ": its hash is SHA-256(04 || header)", true);
    step("totals proven " + (tp.value ? "present" : "absent (never paid)") + " in the state root " + toHex(tp.header.stateRoot) +
      " (" + decodeProof(hexToBytes(ans.proof)).siblings.length + " siblings)", true);
    let commit;
    try {
      let raw = ans.commitRaw;
      if (raw === undefined || raw === null) raw = (await io.rpc("chain_getCommit", [Number(height)])).commitRaw;
      const vals = g.validators.map(function (v) { return { pubkey: hexToBytes(v.pubkey), power: v.power }; });
      if (height === 0n) throw new Error("block 0 has no commit");
      if (tp.header.chainId !== g.chainId) throw new Error("the header is of chain " + tp.header.chainId + ", the genesis of " + g.chainId);
      commit = checkCommit(tp.header, hh, raw, vals, hexToBytes(g.hash));
    } catch (e) { fail("commit of the header", e); }
    step("commit: " + commit.signers + " BIP-340 signature(s), " + commit.power + " of " + commit.total +
      " voting power of the genesis validators (genesis " + g.hash.slice(0, 18) + "…)", true);
    const totals = tp.value ? decodeTotals(tp.value) : { earned: 0n, contributions: 0n, accepted: 0n, rejected: 0n, payouts: 0n };
    step("totals decoded: earned " + openStr(totals.earned) + " OPEN in " + totals.payouts + " payouts, " +
      totals.contributions + " contributions", true);

    /* Which records paid this contributor: from the node's indexes, which
     * prove nothing; the sums below make an omission show. */
    const ids = [];
    try {
      let contribs = [], cur = null;
      do {
        const pg = await io.rpc("contribution_list", [{ contributor: address }, cur, 100, "asc"]);
        contribs = contribs.concat(pg.items); cur = pg.nextCursor;
      } while (cur);
      const seen = {};
      for (const c of contribs) {
        cur = null;
        do {
          const pg = await io.rpc("attribution_list", [{ contribution: c.id }, cur, 100, "asc"]);
          /* Records of later blocks are not in the header's state: the
           * sums below catch a node that moves one out of the range. */
          for (const r of pg.items) if (!seen[r.id] && BigInt(r.height) <= height) { seen[r.id] = 1; ids.push(r.id); }
          cur = pg.nextCursor;
          if (ids.length > MAX_RECORDS) throw new Error("more than " + MAX_RECORDS + " records: too many to prove in the browser (use openledger-cli impact --verify)");
        } while (cur);
      }
    } catch (e) { fail("listing the records", e); }
    ids.sort(function (a, b) { return a - b; });
    let sum = 0n, count = 0n;
    const byModel = {};
    for (let i = 0; i < ids.length; i += 50) {
      if (io.progress) io.progress(i, ids.length);
      const chunk = ids.slice(i, i + 50);
      let res;
      try { res = await io.batch(chunk.map(function (id) { return ["state_getProof", [{ record: id }, { height: Number(height) }]]; })); }
      catch (e) { fail("proofs of the records", e); }
      for (let j = 0; j < chunk.length; j++) {
        const id = chunk[j];
        try {
          if (res[j].error) throw new Error(res[j].error.message);
          const rp = checkProofAnswer(res[j].result, keyRecord(id));
          if (!eq(rp.headerHash, hh)) throw new Error("proven against another header (height " + rp.header.height + ")");
          if (!rp.value) throw new Error("the proof says the record does not exist");
          const rec = decodeRecord(rp.value);
          if (rec.id !== BigInt(id)) throw new Error("the value is record " + rec.id);
          for (const p of rec.payouts) {
            if (p.role !== "contributor" || !eq(p.recipient, addr20)) continue;
            sum += p.amount; count += 1n;
            const m = rec.model.toString();
            byModel[m] = (byModel[m] || 0n) + p.amount;
          }
        } catch (e) { fail("record " + id, e); }
      }
    }
    const models = Object.keys(byModel).length;
    step(ids.length + " record(s) proven against the same header; their payouts to this address: " + openStr(sum) +
      " OPEN in " + count + " payout(s) across " + models + " model(s)", true);
    if (sum !== totals.earned || count !== totals.payouts)
      fail("sum of payouts", new Error("the proven records pay " + openStr(sum) + " OPEN in " + count + " payouts, the proven totals say " +
        openStr(totals.earned) + " OPEN in " + totals.payouts + " (a record is missing or altered)"));
    step("the payouts add up to the totals exactly", true);
    if (shown && shown.earned !== undefined && String(shown.earned) !== totals.earned.toString())
      fail("the figure on this page", new Error("the page showed " + shown.earned + " base units, the proof says " + totals.earned));
    return { earned: totals.earned, earnedOpen: openStr(totals.earned), payouts: count, models: models, records: ids.length,
      height: height, headerHash: toHex(hh), commit: commit, byModel: byModel, totals: totals };
  }

  return { hexToBytes: hexToBytes, toHex: toHex, concat: concat, eq: eq, u64be: u64be, u64le: u64le, sha256: sha256,
    Reader: Reader, decodeProof: decodeProof, smtVerify: smtVerify, leafHash: leafHash, nodeHash: nodeHash,
    addressEncode: addressEncode, addressDecode: addressDecode, keyTotals: keyTotals, keyRecord: keyRecord,
    keyAccount: keyAccount, decodeTotals: decodeTotals, decodeRecord: decodeRecord, decodeHeader: decodeHeader,
    headerHash: headerHash, commitDecode: commitDecode, validatorSetHash: validatorSetHash, voteDigest: voteDigest,
    schnorrVerify: schnorrVerify, taggedHash: taggedHash, checkProofAnswer: checkProofAnswer, checkCommit: checkCommit,
    verifyContributor: verifyContributor, openStr: openStr };
})();
if (typeof module !== "undefined" && module.exports) module.exports = OLV;
