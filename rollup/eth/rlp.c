/* RLP encoder and strict decoder (rollup/eth/rlp.h). */
#include "rollup/eth/rlp.h"

#include <string.h>

/* Writes the header for a payload of n bytes (offset 0x80 for strings, 0xc0
 * for lists) to hdr; returns its length (at most 9). */
static size_t header(uint8_t hdr[9], uint8_t offset, size_t n)
{
    if (n <= 55) {
        hdr[0] = (uint8_t)(offset + n);
        return 1;
    }
    uint8_t be[8];
    util_put_u64be(be, (uint64_t)n);
    size_t skip = 0;
    while (be[skip] == 0)
        skip++;
    size_t lenlen = 8 - skip;
    hdr[0] = (uint8_t)(offset + 55 + lenlen);
    memcpy(hdr + 1, be + skip, lenlen);
    return 1 + lenlen;
}

void rollup_rlp_bytes(util_buf *b, const uint8_t *p, size_t n)
{
    if (n == 1 && p[0] < 0x80) {
        util_buf_u8(b, p[0]);
        return;
    }
    uint8_t hdr[9];
    util_buf_put(b, hdr, header(hdr, 0x80, n));
    if (n > 0) util_buf_put(b, p, n);
}

void rollup_rlp_uint(util_buf *b, uint64_t v)
{
    uint8_t be[8];
    util_put_u64be(be, v);
    size_t skip = 0;
    while (skip < 8 && be[skip] == 0)
        skip++;
    rollup_rlp_bytes(b, be + skip, 8 - skip);
}

void rollup_rlp_uint256(util_buf *b, const uint8_t be[32])
{
    size_t skip = 0;
    while (skip < 32 && be[skip] == 0)
        skip++;
    rollup_rlp_bytes(b, be + skip, 32 - skip);
}

size_t rollup_rlp_list_begin(util_buf *b)
{
    return b->len;
}

void rollup_rlp_list_end(util_buf *b, size_t mark)
{
    if (b->oom || mark > b->len) return;
    size_t n = b->len - mark;
    uint8_t hdr[9];
    size_t h = header(hdr, 0xc0, n);
    /* Grow by the header's length, then shift the items up behind it. */
    util_buf_put(b, hdr, h);
    if (b->oom) return;
    memmove(b->data + mark + h, b->data + mark, n);
    memcpy(b->data + mark, hdr, h);
}

/* The long form: lenlen big-endian bytes of length follow the first byte. */
static int long_len(const uint8_t *p, size_t n, size_t lenlen, size_t *len, util_err *err)
{
    if (1 + lenlen > n) return util_err_set(err, UTIL_EINVAL, "rlp: truncated length");
    if (p[1] == 0) return util_err_set(err, UTIL_EINVAL, "rlp: length with a leading zero");
    if (lenlen > sizeof(size_t)) return util_err_set(err, UTIL_EINVAL, "rlp: length too large");
    size_t v = 0;
    for (size_t i = 0; i < lenlen; i++)
        v = (v << 8) | p[1 + i];
    if (v <= 55)
        return util_err_set(err, UTIL_EINVAL, "rlp: long form for a payload of %zu bytes", v);
    *len = v;
    return 0;
}

int rollup_rlp_next(const uint8_t **pp, size_t *np, rollup_rlp_item *it, util_err *err)
{
    const uint8_t *p = *pp;
    size_t n = *np;
    if (n == 0) return util_err_set(err, UTIL_EINVAL, "rlp: no item left");
    uint8_t b = p[0];
    size_t hlen, len;
    int is_list = b >= 0xc0;
    if (b < 0x80) {
        it->is_list = 0;
        it->p = p;
        it->n = 1;
        *pp = p + 1;
        *np = n - 1;
        return 0;
    } else if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
        hlen = 1;
        len = (size_t)(b - (is_list ? 0xc0 : 0x80));
    } else {
        size_t lenlen = (size_t)(b - (is_list ? 0xf7 : 0xb7));
        int rc = long_len(p, n, lenlen, &len, err);
        if (rc) return rc;
        hlen = 1 + lenlen;
    }
    if (hlen > n || len > n - hlen)
        return util_err_set(err, UTIL_EINVAL, "rlp: item of %zu bytes runs past the input", len);
    if (!is_list && len == 1 && p[hlen] < 0x80)
        return util_err_set(err, UTIL_EINVAL, "rlp: single byte below 0x80 wrapped as a string");
    it->is_list = is_list;
    it->p = p + hlen;
    it->n = len;
    *pp = p + hlen + len;
    *np = n - hlen - len;
    return 0;
}

int rollup_rlp_item_uint(const rollup_rlp_item *it, uint64_t *v, util_err *err)
{
    if (it->is_list) return util_err_set(err, UTIL_EINVAL, "rlp: a list where an integer was due");
    if (it->n > 8) return util_err_set(err, UTIL_EINVAL, "rlp: integer over 64 bits");
    if (it->n > 0 && it->p[0] == 0)
        return util_err_set(err, UTIL_EINVAL, "rlp: integer with a leading zero");
    uint64_t x = 0;
    for (size_t i = 0; i < it->n; i++)
        x = (x << 8) | it->p[i];
    *v = x;
    return 0;
}
