/* Solidity ABI encoding of argument tuples and bounded decoding of return
 * values and event data (rollup/eth/abi.h). */
#include "rollup/eth/abi.h"

#include <string.h>

#include "rollup/eth/keccak.h"

void rollup_abi_selector(uint8_t out[4], const char *signature)
{
    uint8_t h[32];
    rollup_keccak256(h, signature, strlen(signature));
    memcpy(out, h, 4);
}

static void word_u64(uint8_t w[32], uint64_t v)
{
    memset(w, 0, 32);
    util_put_u64be(w + 24, v);
}

static void put_u64(util_buf *out, uint64_t v)
{
    uint8_t w[32];
    word_u64(w, v);
    util_buf_put(out, w, 32);
}

static void put_addr(util_buf *out, const rollup_eth_addr *a)
{
    uint8_t w[32] = {0};
    memcpy(w + 12, a->b, ROLLUP_ETH_ADDR_LEN);
    util_buf_put(out, w, 32);
}

static int is_dynamic(enum rollup_abi_kind k)
{
    return k == ROLLUP_ABI_BYTES || k == ROLLUP_ABI_ADDRESS_ARR || k == ROLLUP_ABI_UINT_ARR ||
           k == ROLLUP_ABI_BYTES32_ARR;
}

/* The word a static value puts in the head. */
static void static_word(uint8_t w[32], const rollup_abi_val *v)
{
    switch (v->kind) {
    case ROLLUP_ABI_UINT: word_u64(w, v->u64); break;
    case ROLLUP_ABI_BOOL: word_u64(w, v->u64 != 0); break;
    case ROLLUP_ABI_ADDRESS:
        memset(w, 0, 32);
        memcpy(w + 12, v->addr.b, ROLLUP_ETH_ADDR_LEN);
        break;
    default: /* UINT256, BYTES32 */ memcpy(w, v->word, 32); break;
    }
}

/* A dynamic value's length word and contents, appended to the tail. */
static void put_tail(util_buf *out, const rollup_abi_val *v)
{
    put_u64(out, (uint64_t)v->n);
    switch (v->kind) {
    case ROLLUP_ABI_BYTES: {
        static const uint8_t zero[32];
        if (v->n) util_buf_put(out, v->p, v->n);
        if (v->n % 32) util_buf_put(out, zero, 32 - v->n % 32);
        break;
    }
    case ROLLUP_ABI_ADDRESS_ARR:
        for (size_t i = 0; i < v->n; i++)
            put_addr(out, &v->addrs[i]);
        break;
    case ROLLUP_ABI_UINT_ARR:
        for (size_t i = 0; i < v->n; i++)
            put_u64(out, v->u64s[i]);
        break;
    default: /* BYTES32_ARR */
        for (size_t i = 0; i < v->n; i++)
            util_buf_put(out, v->words[i], 32);
        break;
    }
}

void rollup_abi_encode(util_buf *out, const rollup_abi_val *vals, size_t n)
{
    size_t base = out->len;
    for (size_t i = 0; i < n; i++) {
        uint8_t w[32];
        if (is_dynamic(vals[i].kind))
            memset(w, 0, 32); /* the offset, patched once the tail is written */
        else
            static_word(w, &vals[i]);
        util_buf_put(out, w, 32);
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_dynamic(vals[i].kind)) continue;
        size_t off = out->len - base;
        put_tail(out, &vals[i]);
        if (out->oom) return;
        word_u64(out->data + base + 32 * i, (uint64_t)off);
    }
}

void rollup_abi_encode_call(util_buf *out, const char *signature, const rollup_abi_val *vals,
                            size_t n)
{
    uint8_t sel[4];
    rollup_abi_selector(sel, signature);
    util_buf_put(out, sel, 4);
    rollup_abi_encode(out, vals, n);
}

/* The word at byte offset off, which the caller checked is in range. */
static int word_as_u64(const uint8_t *w, uint64_t *out, util_err *err)
{
    for (size_t i = 0; i < 24; i++)
        if (w[i] != 0) return util_err_set(err, UTIL_EINVAL, "abi: integer over 64 bits");
    *out = util_get_u64be(w + 24);
    return 0;
}

int rollup_abi_word(const uint8_t *data, size_t len, size_t i, uint8_t out[32], util_err *err)
{
    if (i >= len / ROLLUP_ABI_WORD)
        return util_err_set(err, UTIL_EINVAL, "abi: word %zu past the end of %zu bytes", i, len);
    memcpy(out, data + ROLLUP_ABI_WORD * i, ROLLUP_ABI_WORD);
    return 0;
}

int rollup_abi_u64(const uint8_t *data, size_t len, size_t i, uint64_t *out, util_err *err)
{
    uint8_t w[32];
    int rc = rollup_abi_word(data, len, i, w, err);
    if (rc) return rc;
    return word_as_u64(w, out, err);
}

int rollup_abi_address(const uint8_t *data, size_t len, size_t i, rollup_eth_addr *out,
                       util_err *err)
{
    uint8_t w[32];
    int rc = rollup_abi_word(data, len, i, w, err);
    if (rc) return rc;
    for (size_t k = 0; k < 12; k++)
        if (w[k] != 0) return util_err_set(err, UTIL_EINVAL, "abi: address over 20 bytes");
    memcpy(out->b, w + 12, ROLLUP_ETH_ADDR_LEN);
    return 0;
}

int rollup_abi_bytes(const uint8_t *data, size_t len, size_t i, const uint8_t **p, size_t *n,
                     util_err *err)
{
    uint64_t off, blen;
    int rc = rollup_abi_u64(data, len, i, &off, err);
    if (rc) return rc;
    if (off > len || len - off < ROLLUP_ABI_WORD)
        return util_err_set(err, UTIL_EINVAL, "abi: offset %llu past the end of %zu bytes",
                            (unsigned long long)off, len);
    if ((rc = word_as_u64(data + off, &blen, err))) return rc;
    if (blen > len - off - ROLLUP_ABI_WORD)
        return util_err_set(err, UTIL_EINVAL, "abi: %llu bytes at offset %llu run past the end",
                            (unsigned long long)blen, (unsigned long long)off);
    *p = data + off + ROLLUP_ABI_WORD;
    *n = (size_t)blen;
    return 0;
}
