/* EIP-1559 and EIP-4844 transactions: signing hash, signing, raw encoding
 * (for blobs, the network form with blobs, commitments and proofs), strict
 * decoding with sender recovery, contract creation addresses
 * (rollup/eth/tx.h). */
#include "rollup/eth/tx.h"

#include <stdlib.h>
#include <string.h>

#include "rollup/eth/keccak.h"
#include "rollup/eth/kzg.h"
#include "rollup/eth/rlp.h"
#include "util/bytes.h"

#define TX_TYPE_EIP1559 0x02
#define TX_TYPE_EIP4844 0x03

/* Prefixes err's message with where decoding failed; returns rc (err may be
 * NULL, when util_err_prefix would return 0). */
static int at(util_err *err, int rc, const char *what)
{
    util_err_prefix(err, "eth tx %s: ", what);
    return rc;
}

/* The nine unsigned fields, inside an open list. */
static void put_fields(util_buf *b, const rollup_eth_tx *tx)
{
    rollup_rlp_uint(b, tx->chain_id);
    rollup_rlp_uint(b, tx->nonce);
    rollup_rlp_uint(b, tx->max_priority_fee_per_gas);
    rollup_rlp_uint(b, tx->max_fee_per_gas);
    rollup_rlp_uint(b, tx->gas_limit);
    rollup_rlp_bytes(b, tx->to.b, tx->has_to ? ROLLUP_ETH_ADDR_LEN : 0);
    rollup_rlp_uint256(b, tx->value);
    rollup_rlp_bytes(b, tx->data, tx->data_len);
    rollup_rlp_list_end(b, rollup_rlp_list_begin(b)); /* the empty access list */
}

/* 0x02 || rlp([fields..., (yParity, r, s) when sig is given]). */
static void encode(util_buf *b, const rollup_eth_tx *tx, const uint8_t *sig)
{
    util_buf_u8(b, TX_TYPE_EIP1559);
    size_t mark = rollup_rlp_list_begin(b);
    put_fields(b, tx);
    if (sig) {
        rollup_rlp_uint(b, (uint64_t)(sig[64] - 27));
        rollup_rlp_uint256(b, sig);
        rollup_rlp_uint256(b, sig + 32);
    }
    rollup_rlp_list_end(b, mark);
}

int rollup_eth_tx_sighash(const rollup_eth_tx *tx, uint8_t out[32], util_err *err)
{
    util_buf b;
    util_buf_init(&b);
    encode(&b, tx, NULL);
    if (b.oom) {
        util_buf_free(&b);
        return util_err_set(err, UTIL_ENOMEM, "out of memory encoding a transaction");
    }
    rollup_keccak256(out, b.data, b.len);
    util_buf_free(&b);
    return 0;
}

int rollup_eth_tx_sign(const rollup_eth_tx *tx, const uint8_t sk[32], uint8_t **raw,
                       size_t *raw_len, uint8_t txhash[32], util_err *err)
{
    uint8_t h[32], sig[ROLLUP_ETH_SIG_LEN];
    int rc = rollup_eth_tx_sighash(tx, h, err);
    if (rc) return rc;
    rc = rollup_eth_sign(sig, h, sk, err);
    if (rc) return rc;
    util_buf b;
    util_buf_init(&b);
    encode(&b, tx, sig);
    if (util_buf_take(&b, raw, raw_len)) {
        util_buf_free(&b);
        return util_err_set(err, UTIL_ENOMEM, "out of memory encoding a transaction");
    }
    rollup_keccak256(txhash, *raw, *raw_len);
    return 0;
}

/* --- type 3 --------------------------------------------------------------- */

/* The eleven unsigned fields of a blob transaction, inside an open list. */
static void put_blob_fields(util_buf *b, const rollup_eth_tx *tx, uint64_t max_fee_per_blob_gas,
                            const uint8_t (*hashes)[32], size_t n)
{
    put_fields(b, tx);
    rollup_rlp_uint(b, max_fee_per_blob_gas);
    size_t mark = rollup_rlp_list_begin(b);
    for (size_t i = 0; i < n; i++)
        rollup_rlp_bytes(b, hashes[i], 32);
    rollup_rlp_list_end(b, mark);
}

static void blob_sighash(const rollup_eth_tx *tx, uint64_t max_fee_per_blob_gas,
                         const uint8_t (*hashes)[32], size_t n, uint8_t out[32], int *oom)
{
    util_buf b;
    util_buf_init(&b);
    util_buf_u8(&b, TX_TYPE_EIP4844);
    size_t mark = rollup_rlp_list_begin(&b);
    put_blob_fields(&b, tx, max_fee_per_blob_gas, hashes, n);
    rollup_rlp_list_end(&b, mark);
    *oom = b.oom;
    if (!b.oom) rollup_keccak256(out, b.data, b.len);
    util_buf_free(&b);
}

int rollup_eth_tx_sign_blob(const rollup_eth_tx *tx, const rollup_eth_blobs *bl,
                            const uint8_t sk[32], uint8_t **raw, size_t *raw_len,
                            uint8_t txhash[32], util_err *err)
{
    if (!tx->has_to)
        return util_err_set(err, UTIL_EINVAL, "eth tx: a blob transaction needs a recipient");
    if (bl->n < 1 || bl->n > ROLLUP_BLOBS_PER_TX)
        return util_err_set(err, UTIL_EINVAL, "eth tx: %zu blobs, not 1 to %d", bl->n,
                            ROLLUP_BLOBS_PER_TX);
    uint8_t hashes[ROLLUP_BLOBS_PER_TX][32];
    for (size_t i = 0; i < bl->n; i++)
        rollup_kzg_versioned_hash(bl->commitments[i], hashes[i]);
    uint8_t h[32], sig[ROLLUP_ETH_SIG_LEN];
    int oom;
    blob_sighash(tx, bl->max_fee_per_blob_gas, (const uint8_t(*)[32])hashes, bl->n, h, &oom);
    if (oom) return util_err_set(err, UTIL_ENOMEM, "out of memory encoding a transaction");
    int rc = rollup_eth_sign(sig, h, sk, err);
    if (rc) return rc;

    /* 0x03 || rlp([signed, blobs, commitments, proofs]); the transaction
     * hash covers 0x03 || signed, which is what the buffer holds before the
     * outer list's header is put in front of it. */
    util_buf b;
    util_buf_init(&b);
    util_buf_u8(&b, TX_TYPE_EIP4844);
    size_t outer = rollup_rlp_list_begin(&b);
    size_t mark = rollup_rlp_list_begin(&b);
    put_blob_fields(&b, tx, bl->max_fee_per_blob_gas, (const uint8_t(*)[32])hashes, bl->n);
    rollup_rlp_uint(&b, (uint64_t)(sig[64] - 27));
    rollup_rlp_uint256(&b, sig);
    rollup_rlp_uint256(&b, sig + 32);
    rollup_rlp_list_end(&b, mark);
    if (!b.oom) rollup_keccak256(txhash, b.data, b.len);
    mark = rollup_rlp_list_begin(&b);
    for (size_t i = 0; i < bl->n; i++)
        rollup_rlp_bytes(&b, bl->blobs[i], ROLLUP_BLOB_BYTES);
    rollup_rlp_list_end(&b, mark);
    mark = rollup_rlp_list_begin(&b);
    for (size_t i = 0; i < bl->n; i++)
        rollup_rlp_bytes(&b, bl->commitments[i], 48);
    rollup_rlp_list_end(&b, mark);
    mark = rollup_rlp_list_begin(&b);
    for (size_t i = 0; i < bl->n; i++)
        rollup_rlp_bytes(&b, bl->proofs[i], 48);
    rollup_rlp_list_end(&b, mark);
    rollup_rlp_list_end(&b, outer);
    if (util_buf_take(&b, raw, raw_len)) {
        util_buf_free(&b);
        return util_err_set(err, UTIL_ENOMEM, "out of memory encoding a transaction");
    }
    return 0;
}

static int next_uint(const uint8_t **p, size_t *n, uint64_t *v, const char *what, util_err *err)
{
    rollup_rlp_item it;
    int rc = rollup_rlp_next(p, n, &it, err);
    if (!rc) rc = rollup_rlp_item_uint(&it, v, err);
    if (rc) return at(err, rc, what);
    return 0;
}

/* A canonical big-endian integer of at most 32 bytes, into out[32]. */
static int next_uint256(const uint8_t **p, size_t *n, uint8_t out[32], const char *what,
                        util_err *err)
{
    rollup_rlp_item it;
    int rc = rollup_rlp_next(p, n, &it, err);
    if (rc) return at(err, rc, what);
    if (it.is_list || it.n > 32 || (it.n > 0 && it.p[0] == 0))
        return util_err_set(err, UTIL_EINVAL, "eth tx %s: not a canonical 256-bit integer", what);
    memset(out, 0, 32);
    if (it.n) memcpy(out + 32 - it.n, it.p, it.n);
    return 0;
}

static int next_string(const uint8_t **p, size_t *n, rollup_rlp_item *it, const char *what,
                       util_err *err)
{
    int rc = rollup_rlp_next(p, n, it, err);
    if (rc) return at(err, rc, what);
    if (it->is_list) return util_err_set(err, UTIL_EINVAL, "eth tx %s: a list", what);
    return 0;
}

int rollup_eth_tx_decode(rollup_eth_tx *tx, rollup_eth_addr *from, const uint8_t *raw,
                         size_t raw_len, util_err *err)
{
    rollup_eth_tx t;
    memset(&t, 0, sizeof t);
    if (raw_len == 0 || raw[0] != TX_TYPE_EIP1559)
        return util_err_set(err, UTIL_EINVAL, "eth tx: not a type-2 transaction");
    const uint8_t *p = raw + 1;
    size_t n = raw_len - 1;
    rollup_rlp_item list, it;
    int rc = rollup_rlp_next(&p, &n, &list, err);
    if (rc) return at(err, rc, "envelope");
    if (!list.is_list) return util_err_set(err, UTIL_EINVAL, "eth tx: not a list");
    if (n != 0) return util_err_set(err, UTIL_EINVAL, "eth tx: %zu trailing bytes", n);

    p = list.p;
    n = list.n;
    uint64_t y;
    uint8_t sig[ROLLUP_ETH_SIG_LEN];
    if ((rc = next_uint(&p, &n, &t.chain_id, "chainId", err)) ||
        (rc = next_uint(&p, &n, &t.nonce, "nonce", err)) ||
        (rc = next_uint(&p, &n, &t.max_priority_fee_per_gas, "maxPriorityFeePerGas", err)) ||
        (rc = next_uint(&p, &n, &t.max_fee_per_gas, "maxFeePerGas", err)) ||
        (rc = next_uint(&p, &n, &t.gas_limit, "gasLimit", err)) ||
        (rc = next_string(&p, &n, &it, "to", err)))
        return rc;
    if (it.n == ROLLUP_ETH_ADDR_LEN) {
        t.has_to = 1;
        memcpy(t.to.b, it.p, ROLLUP_ETH_ADDR_LEN);
    } else if (it.n != 0) {
        return util_err_set(err, UTIL_EINVAL, "eth tx to: %zu bytes, not 20 or 0", it.n);
    }
    if ((rc = next_uint256(&p, &n, t.value, "value", err)) ||
        (rc = next_string(&p, &n, &it, "data", err)))
        return rc;
    t.data = it.p;
    t.data_len = it.n;
    if ((rc = rollup_rlp_next(&p, &n, &it, err))) return at(err, rc, "accessList");
    if (!it.is_list || it.n != 0)
        return util_err_set(err, UTIL_EINVAL, "eth tx: the access list must be an empty list");
    if ((rc = next_uint(&p, &n, &y, "yParity", err)) ||
        (rc = next_uint256(&p, &n, sig, "r", err)) ||
        (rc = next_uint256(&p, &n, sig + 32, "s", err)))
        return rc;
    if (y > 1) return util_err_set(err, UTIL_EINVAL, "eth tx: yParity %llu", (unsigned long long)y);
    if (n != 0) return util_err_set(err, UTIL_EINVAL, "eth tx: more than 12 fields");
    sig[64] = (uint8_t)(27 + y);

    uint8_t h[32];
    if ((rc = rollup_eth_tx_sighash(&t, h, err))) return rc;
    if ((rc = rollup_eth_recover(from, h, sig, err))) return at(err, rc, "signature");
    *tx = t;
    return 0;
}

/* A list of n strings of exactly len bytes each (n <= ROLLUP_BLOBS_PER_TX,
 * or exactly want when want != 0), into ptrs. */
static int next_fixed_list(const uint8_t **p, size_t *n, size_t len, size_t want,
                           const uint8_t **ptrs, size_t *count, const char *what, util_err *err)
{
    rollup_rlp_item list, it;
    int rc = rollup_rlp_next(p, n, &list, err);
    if (rc) return at(err, rc, what);
    if (!list.is_list) return util_err_set(err, UTIL_EINVAL, "eth tx %s: not a list", what);
    size_t k = 0;
    while (list.n) {
        if (k == ROLLUP_BLOBS_PER_TX)
            return util_err_set(err, UTIL_EINVAL, "eth tx %s: more than %d", what,
                                ROLLUP_BLOBS_PER_TX);
        if ((rc = next_string(&list.p, &list.n, &it, what, err))) return rc;
        if (it.n != len)
            return util_err_set(err, UTIL_EINVAL, "eth tx %s: an item of %zu bytes, not %zu", what,
                                it.n, len);
        ptrs[k++] = it.p;
    }
    if (want ? k != want : k == 0)
        return util_err_set(err, UTIL_EINVAL, "eth tx %s: %zu items", what, k);
    *count = k;
    return 0;
}

int rollup_eth_tx_decode_blob(rollup_eth_blob_tx *out, const uint8_t *raw, size_t raw_len,
                              util_err *err)
{
    rollup_eth_blob_tx d;
    memset(&d, 0, sizeof d);
    if (raw_len == 0 || raw[0] != TX_TYPE_EIP4844)
        return util_err_set(err, UTIL_EINVAL, "eth tx: not a type-3 transaction");
    const uint8_t *p = raw + 1;
    size_t n = raw_len - 1;
    rollup_rlp_item outer, inner, it;
    int rc = rollup_rlp_next(&p, &n, &outer, err);
    if (rc) return at(err, rc, "envelope");
    if (!outer.is_list) return util_err_set(err, UTIL_EINVAL, "eth tx: not a list");
    if (n != 0) return util_err_set(err, UTIL_EINVAL, "eth tx: %zu trailing bytes", n);
    p = outer.p;
    n = outer.n;
    const uint8_t *signed_start = p;
    if ((rc = rollup_rlp_next(&p, &n, &inner, err))) return at(err, rc, "signed payload");
    if (!inner.is_list)
        return util_err_set(err, UTIL_EINVAL,
                            "eth tx: not the network form (version 0) of a blob transaction");
    /* 0x03 || the signed payload, for the transaction hash. */
    size_t signed_len = (size_t)(p - signed_start);
    uint8_t *h = malloc(1 + signed_len);
    if (!h) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    h[0] = TX_TYPE_EIP4844;
    memcpy(h + 1, signed_start, signed_len);
    rollup_keccak256(d.txhash, h, 1 + signed_len);
    free(h);

    size_t nb, nc, np;
    if ((rc = next_fixed_list(&p, &n, ROLLUP_BLOB_BYTES, 0, d.blobs, &nb, "blobs", err)) ||
        (rc = next_fixed_list(&p, &n, 48, nb, d.commitments, &nc, "commitments", err)) ||
        (rc = next_fixed_list(&p, &n, 48, nb, d.proofs, &np, "proofs", err)))
        return rc;
    if (n != 0) return util_err_set(err, UTIL_EINVAL, "eth tx: more than 4 items in the envelope");
    d.n = nb;

    p = inner.p;
    n = inner.n;
    rollup_eth_tx *t = &d.tx;
    if ((rc = next_uint(&p, &n, &t->chain_id, "chainId", err)) ||
        (rc = next_uint(&p, &n, &t->nonce, "nonce", err)) ||
        (rc = next_uint(&p, &n, &t->max_priority_fee_per_gas, "maxPriorityFeePerGas", err)) ||
        (rc = next_uint(&p, &n, &t->max_fee_per_gas, "maxFeePerGas", err)) ||
        (rc = next_uint(&p, &n, &t->gas_limit, "gasLimit", err)) ||
        (rc = next_string(&p, &n, &it, "to", err)))
        return rc;
    if (it.n != ROLLUP_ETH_ADDR_LEN)
        return util_err_set(err, UTIL_EINVAL, "eth tx to: %zu bytes, not 20", it.n);
    t->has_to = 1;
    memcpy(t->to.b, it.p, ROLLUP_ETH_ADDR_LEN);
    if ((rc = next_uint256(&p, &n, t->value, "value", err)) ||
        (rc = next_string(&p, &n, &it, "data", err)))
        return rc;
    t->data = it.p;
    t->data_len = it.n;
    if ((rc = rollup_rlp_next(&p, &n, &it, err))) return at(err, rc, "accessList");
    if (!it.is_list || it.n != 0)
        return util_err_set(err, UTIL_EINVAL, "eth tx: the access list must be an empty list");
    if ((rc = next_uint(&p, &n, &d.max_fee_per_blob_gas, "maxFeePerBlobGas", err))) return rc;
    const uint8_t *hp[ROLLUP_BLOBS_PER_TX];
    size_t nh;
    if ((rc = next_fixed_list(&p, &n, 32, d.n, hp, &nh, "blobVersionedHashes", err))) return rc;
    for (size_t i = 0; i < d.n; i++) {
        memcpy(d.hashes[i], hp[i], 32);
        uint8_t want[32];
        rollup_kzg_versioned_hash(d.commitments[i], want);
        if (memcmp(want, d.hashes[i], 32) != 0)
            return util_err_set(err, UTIL_EINVAL,
                                "eth tx: versioned hash %zu is not that of commitment %zu", i, i);
    }
    uint64_t y;
    uint8_t sig[ROLLUP_ETH_SIG_LEN];
    if ((rc = next_uint(&p, &n, &y, "yParity", err)) ||
        (rc = next_uint256(&p, &n, sig, "r", err)) ||
        (rc = next_uint256(&p, &n, sig + 32, "s", err)))
        return rc;
    if (y > 1) return util_err_set(err, UTIL_EINVAL, "eth tx: yParity %llu", (unsigned long long)y);
    if (n != 0) return util_err_set(err, UTIL_EINVAL, "eth tx: more than 14 fields");
    sig[64] = (uint8_t)(27 + y);

    uint8_t sh[32];
    int oom;
    blob_sighash(t, d.max_fee_per_blob_gas, (const uint8_t(*)[32])d.hashes, d.n, sh, &oom);
    if (oom) return util_err_set(err, UTIL_ENOMEM, "out of memory encoding a transaction");
    if ((rc = rollup_eth_recover(&d.from, sh, sig, err))) return at(err, rc, "signature");
    *out = d;
    return 0;
}

void rollup_eth_create_address(rollup_eth_addr *out, const rollup_eth_addr *sender, uint64_t nonce)
{
    /* At most 1 + 21 + 9 bytes: no allocation can fail for this list. */
    uint8_t mem[64];
    util_buf b = {.data = mem, .len = 0, .cap = sizeof mem, .oom = 0};
    size_t mark = rollup_rlp_list_begin(&b);
    rollup_rlp_bytes(&b, sender->b, ROLLUP_ETH_ADDR_LEN);
    rollup_rlp_uint(&b, nonce);
    rollup_rlp_list_end(&b, mark);
    uint8_t h[32];
    rollup_keccak256(h, b.data, b.len);
    memcpy(out->b, h + 12, ROLLUP_ETH_ADDR_LEN);
}
