/* EIP-1559 transactions: signing hash, signing, raw encoding, strict
 * decoding with sender recovery, contract creation addresses
 * (rollup/eth/tx.h). */
#include "rollup/eth/tx.h"

#include <stdlib.h>
#include <string.h>

#include "rollup/eth/keccak.h"
#include "rollup/eth/rlp.h"
#include "util/bytes.h"

#define TX_TYPE_EIP1559 0x02

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
