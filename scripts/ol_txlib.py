"""OpenLedger transactions and JSON-RPC from Python 3, standard library only.

Used by scripts/demo-attribution and tests/integration/attribution.sh. It
follows docs/encoding.md and docs/transactions.md byte for byte (the node
refuses anything else, so a drift shows up as rejected transactions):

  tx = version u8 | chain_id lenbytes | type u8 | sender pubkey[32] |
       nonce u64 | gas_limit u64 | gas_price u64 | body | signature[64]
  sighash = SHA-256(0x02 || genesis_hash[32] || tx without the signature)
  id = SHA-256(0x03 || tx)

The genesis hash in the signing domain binds a transaction to one network:
take it from the node (node_status "genesisHash", see Rpc.domain()). Run this
file to check the known answer of docs/encoding.md: python3 ol_txlib.py

Signatures are BIP-340 Schnorr with the all-zero auxiliary randomness
(deterministic), computed here with plain integers and a fixed-base table:
about 0.5 ms each, enough for thousands of transactions. The encoders do NOT
validate: they can build the malformed transactions the tests need.
"""

import hashlib
import http.client
import json
import struct
import urllib.parse

# ---- secp256k1 / BIP-340 -------------------------------------------------

P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def _jdouble(pt):
    x, y, z = pt
    if y == 0:
        return (0, 1, 0)
    yy = y * y % P
    s = 4 * x * yy % P
    m = 3 * x * x % P
    x3 = (m * m - 2 * s) % P
    return (x3, (m * (s - x3) - 8 * yy * yy) % P, 2 * y * z % P)


def _jadd_affine(pt, q):
    x1, y1, z1 = pt
    if z1 == 0:
        return (q[0], q[1], 1)
    z1z1 = z1 * z1 % P
    u2 = q[0] * z1z1 % P
    s2 = q[1] * z1 * z1z1 % P
    h = (u2 - x1) % P
    r = (s2 - y1) % P
    if h == 0:
        return _jdouble(pt) if r == 0 else (0, 1, 0)
    hh = h * h % P
    hhh = h * hh % P
    v = x1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    return (x3, (r * (v - x3) - y1 * hhh) % P, z1 * h % P)


def _affine(pt):
    x, y, z = pt
    zi = pow(z, -1, P)
    zi2 = zi * zi % P
    return (x * zi2 % P, y * zi2 * zi % P)


_GTABLE = []
_pt = (G[0], G[1], 1)
for _ in range(256):
    _GTABLE.append(_affine(_pt))
    _pt = _jdouble(_pt)


def _mul_g(k):
    acc = (0, 1, 0)
    i = 0
    while k:
        if k & 1:
            acc = _jadd_affine(acc, _GTABLE[i])
        k >>= 1
        i += 1
    return _affine(acc)


def _tagged(tag, msg):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + msg).digest()


class Key:
    """A secp256k1 key: x-only public key and OpenLedger address."""

    def __init__(self, seckey: bytes):
        d = int.from_bytes(seckey, "big")
        if not 0 < d < N:
            raise ValueError("secret key out of range")
        px, py = _mul_g(d)
        self.d = d if py % 2 == 0 else N - d
        self.pubkey = px.to_bytes(32, "big")
        self.addr = hashlib.sha256(self.pubkey).digest()[:20]
        self.address = addr_encode(self.addr)

    def sign(self, msg32: bytes) -> bytes:
        t = (self.d ^ int.from_bytes(_tagged("BIP0340/aux", bytes(32)), "big")).to_bytes(32, "big")
        k0 = int.from_bytes(_tagged("BIP0340/nonce", t + self.pubkey + msg32), "big") % N
        if k0 == 0:
            raise ValueError("nonce is zero")
        rx, ry = _mul_g(k0)
        k = k0 if ry % 2 == 0 else N - k0
        r = rx.to_bytes(32, "big")
        e = int.from_bytes(_tagged("BIP0340/challenge", r + self.pubkey + msg32), "big") % N
        return r + ((k + e * self.d) % N).to_bytes(32, "big")


def dev_key(i: int) -> Key:
    """Development key i (docs/devnet.md)."""
    sk = hashlib.sha256(b"openledger devnet key" + struct.pack("<I", i)).digest()
    while not 0 < int.from_bytes(sk, "big") < N:
        sk = hashlib.sha256(sk).digest()
    return Key(sk)


def seeded_key(label: str) -> Key:
    """A throwaway key derived from a label (demo accounts)."""
    sk = hashlib.sha256(b"openledger demo key:" + label.encode()).digest()
    while not 0 < int.from_bytes(sk, "big") < N:
        sk = hashlib.sha256(sk).digest()
    return Key(sk)


# ---- bech32m addresses ------------------------------------------------------

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32M = 0x2BC830A3
HRP = "ol"


def _polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (b >> i) & 1 else 0
    return chk


def _hrp_expand(hrp):
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convertbits(data, frm, to, pad):
    acc = bits = 0
    out = []
    for v in data:
        acc = (acc << frm) | v
        bits += frm
        while bits >= to:
            bits -= to
            out.append((acc >> bits) & ((1 << to) - 1))
    if pad and bits:
        out.append((acc << (to - bits)) & ((1 << to) - 1))
    elif not pad and (bits >= frm or (acc << (to - bits)) & ((1 << to) - 1)):
        raise ValueError("bad padding")
    return out


def addr_encode(addr20: bytes) -> str:
    data = _convertbits(addr20, 8, 5, True)
    chk = _polymod(_hrp_expand(HRP) + data + [0] * 6) ^ _BECH32M
    return HRP + "1" + "".join(_CHARSET[d] for d in data + [(chk >> 5 * (5 - i)) & 31 for i in range(6)])


def addr_decode(s: str) -> bytes:
    s = s.lower()
    hrp, _, rest = s.rpartition("1")
    if hrp != HRP or len(rest) < 6:
        raise ValueError("not an ol1 address: " + s)
    data = [_CHARSET.index(c) for c in rest]
    if _polymod(_hrp_expand(hrp) + data) != _BECH32M:
        raise ValueError("bad checksum: " + s)
    out = bytes(_convertbits(data[:-6], 5, 8, False))
    if len(out) != 20:
        raise ValueError("address is not 20 bytes: " + s)
    return out


# ---- encoding ---------------------------------------------------------------

TRANSFER, DATANET_CREATE, CONTRIBUTE, REVIEW, MODEL_REGISTER, ATTRIBUTE = 1, 2, 3, 4, 5, 6
GAS = {TRANSFER: 1000, DATANET_CREATE: 5000, CONTRIBUTE: 3000, REVIEW: 2000}
METHODS = {"gradient": 0, "suffix-array": 1, "other": 2}


def varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def lenbytes(b) -> bytes:
    if isinstance(b, str):
        b = b.encode()
    return varint(len(b)) + b


def u8(v):
    return struct.pack("<B", v)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def body_transfer(to20: bytes, amount: int) -> bytes:
    return to20 + u64(amount)


def body_datanet_create(name, meta_hash=bytes(32), meta_uri="", bond=0, review=False) -> bytes:
    return lenbytes(name) + meta_hash + lenbytes(meta_uri) + u64(bond) + u8(1 if review else 0)


def body_contribute(datanet, content_hash, size, uri="") -> bytes:
    return u64(datanet) + content_hash + u64(size) + lenbytes(uri)


def body_review(contribution, accept, reason=0) -> bytes:
    return u64(contribution) + u8(1 if accept else 0) + u32(reason)


def body_model_register(name, datanets, attestor_pubkey, split, reward_contract=bytes(20)) -> bytes:
    return (lenbytes(name) + varint(len(datanets)) + b"".join(u64(d) for d in datanets) +
            attestor_pubkey + reward_contract + u16(split[0]) + u16(split[1]) + u16(split[2]))


def body_attribute(model, fee, entries, method=2, output_hash=bytes(32), evidence_hash=bytes(32)) -> bytes:
    return (u64(model) + output_hash + u64(fee) + u8(method) + evidence_hash + varint(len(entries)) +
            b"".join(u64(c) + u64(w) for c, w in entries))


def gas_model_register(ndatanets):
    return 5000 + 200 * ndatanets


def gas_attribute(nentries):
    return 5000 + 500 * nentries


class Tx:
    def __init__(self, raw: bytes):
        self.raw = raw
        self.hex = "0x" + raw.hex()
        self.id = "0x" + hashlib.sha256(b"\x03" + raw).hexdigest()


def _genesis_bytes(genesis_hash) -> bytes:
    if isinstance(genesis_hash, str):
        genesis_hash = bytes.fromhex(genesis_hash[2:] if genesis_hash.startswith("0x") else genesis_hash)
    if len(genesis_hash) != 32:
        raise ValueError("genesis hash must be 32 bytes")
    return bytes(genesis_hash)


def sighash(genesis_hash, unsigned: bytes) -> bytes:
    """The message a sender signs: SHA-256(0x02 || genesis hash || unsigned encoding)."""
    return hashlib.sha256(b"\x02" + _genesis_bytes(genesis_hash) + unsigned).digest()


def sign_tx(key: Key, chain_id: str, genesis_hash, txtype: int, nonce: int, gas_limit: int,
            body: bytes, gas_price: int = 1, version: int = 1) -> Tx:
    """Signs for the network of genesis_hash (32 bytes, or hex with or without 0x)."""
    unsigned = (u8(version) + lenbytes(chain_id) + u8(txtype) + key.pubkey + u64(nonce) +
                u64(gas_limit) + u64(gas_price) + body)
    return Tx(unsigned + key.sign(sighash(genesis_hash, unsigned)))


# ---- JSON-RPC -----------------------------------------------------------------

class RpcError(Exception):
    def __init__(self, err):
        self.code = err.get("code")
        self.message = err.get("message", "")
        data = err.get("data") or {}
        self.reason = data.get("reason") if isinstance(data, dict) else None
        super().__init__("%s (code %s, reason %s)" % (self.message, self.code, self.reason))


class Rpc:
    """JSON-RPC over one keep-alive HTTP connection."""

    MAX_BATCH = 1000

    def __init__(self, url, timeout=60):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.timeout = timeout
        self.conn = None
        self.next_id = 1

    def _post(self, payload):
        body = json.dumps(payload).encode()
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", "/", body, {"Content-Type": "application/json"})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    raise RuntimeError("HTTP %d: %s" % (resp.status, data[:200]))
                return json.loads(data) if data else None
            except (http.client.HTTPException, ConnectionError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def call(self, method, *params):
        r = self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        if "error" in r:
            raise RpcError(r["error"])
        return r["result"]

    def batch(self, calls):
        """calls: [(method, [params...]), ...] -> [(result, RpcError or None), ...] in order."""
        out = []
        for i in range(0, len(calls), self.MAX_BATCH):
            chunk = calls[i:i + self.MAX_BATCH]
            reqs = [{"jsonrpc": "2.0", "id": j, "method": m, "params": list(p)}
                    for j, (m, p) in enumerate(chunk)]
            resp = self._post(reqs)
            by_id = {r.get("id"): r for r in resp}
            for j in range(len(chunk)):
                r = by_id.get(j, {"error": {"code": 0, "message": "no answer"}})
                out.append((r.get("result"), RpcError(r["error"]) if "error" in r else None))
        return out

    def domain(self):
        """(chain id, genesis hash bytes) of the node: the signing domain."""
        st = self.call("node_status")
        return st["chainId"], _genesis_bytes(st["genesisHash"])

    def pages(self, method, *filter_params, limit=100):
        """Every item of a paged list method (docs/attribution.md), oldest first."""
        cursor = None
        while True:
            page = self.call(method, *filter_params, cursor, limit)
            yield from page["items"]
            cursor = page["nextCursor"]
            if cursor is None:
                return


# ---- known answer (docs/encoding.md, tests/unit/chain/test_tx.c) -------------------

KAT_GENESIS = bytes(range(32))


def _selftest():
    """The signing-domain known answer: dev key 0 sends 1.25 OPEN to dev key 1,
    nonce 7, gas 1000 at 1, chain "openledger-devnet", genesis hash 00 01 .. 1f."""
    k0, k1 = dev_key(0), dev_key(1)
    unsigned = (u8(1) + lenbytes("openledger-devnet") + u8(1) + k0.pubkey + u64(7) + u64(1000) +
                u64(1) + body_transfer(k1.addr, 1250000000))
    tx = sign_tx(k0, "openledger-devnet", KAT_GENESIS, 1, 7, 1000, body_transfer(k1.addr, 1250000000))
    print("unsigned", unsigned.hex())
    print("sighash ", sighash(KAT_GENESIS, unsigned).hex())
    print("tx      ", tx.raw.hex())
    print("id      ", tx.id[2:])
    assert sighash(KAT_GENESIS, unsigned).hex() == KAT_SIGHASH, "sighash drifted"
    assert tx.id[2:] == KAT_ID, "id drifted"
    other = sign_tx(k0, "openledger-devnet", bytes(32), 1, 7, 1000, body_transfer(k1.addr, 1250000000))
    assert other.raw != tx.raw, "the genesis hash must change the signature"
    print("ok")


KAT_SIGHASH = "7c34c934753ad03ad98843998438fa6817819f16cd5dc9bfb21259b2f9cf0661"
KAT_ID = "589b12f698e306aab0accb762fa9e0ebedad066c6d9f6464a9eca3eed41aa8e1"

if __name__ == "__main__":
    _selftest()
