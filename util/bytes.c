/* Byte buffers, fixed-width integers and LEB128 varints with strict readers
 * (util/bytes.h). */
#include "util/bytes.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

void util_buf_init(util_buf *b)
{
    memset(b, 0, sizeof *b);
}

void util_buf_free(util_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void util_buf_reset(util_buf *b)
{
    b->len = 0;
    b->oom = 0;
}

int util_buf_reserve(util_buf *b, size_t extra)
{
    if (b->oom) return UTIL_ENOMEM;
    if (extra > SIZE_MAX - b->len) return b->oom = 1, UTIL_ENOMEM;
    size_t need = b->len + extra;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) return b->oom = 1, UTIL_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

void util_buf_put(util_buf *b, const void *p, size_t n)
{
    if (n == 0 || util_buf_reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void util_buf_u8(util_buf *b, uint8_t v)
{
    util_buf_put(b, &v, 1);
}

void util_buf_u16(util_buf *b, uint16_t v)
{
    uint8_t t[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    util_buf_put(b, t, 2);
}

void util_buf_u32(util_buf *b, uint32_t v)
{
    uint8_t t[4];
    util_put_u32le(t, v);
    util_buf_put(b, t, 4);
}

void util_buf_u64(util_buf *b, uint64_t v)
{
    uint8_t t[8];
    util_put_u64le(t, v);
    util_buf_put(b, t, 8);
}

void util_buf_varint(util_buf *b, uint64_t v)
{
    uint8_t t[UTIL_VARINT_MAX];
    util_buf_put(b, t, util_varint_put(t, v));
}

void util_buf_lenbytes(util_buf *b, const void *p, size_t n)
{
    util_buf_varint(b, n);
    util_buf_put(b, p, n);
}

int util_buf_take(util_buf *b, uint8_t **out, size_t *len)
{
    if (b->oom) {
        util_buf_free(b);
        return UTIL_ENOMEM;
    }
    *out = b->data;
    *len = b->len;
    memset(b, 0, sizeof *b);
    return 0;
}

size_t util_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t util_varint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

void util_put_u32le(uint8_t *o, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        o[i] = (uint8_t)(v >> (8 * i));
}

void util_put_u64le(uint8_t *o, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        o[i] = (uint8_t)(v >> (8 * i));
}

uint32_t util_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t util_get_u64le(const uint8_t *p)
{
    return (uint64_t)util_get_u32le(p) | (uint64_t)util_get_u32le(p + 4) << 32;
}

void util_put_u64be(uint8_t *o, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        o[i] = (uint8_t)(v >> (56 - 8 * i));
}

uint64_t util_get_u64be(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void util_rd_init(util_rd *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->err = NULL;
    r->err_at = 0;
}

int util_rd_fail(util_rd *r, const char *why)
{
    if (!r->err) {
        r->err = why;
        r->err_at = r->pos;
    }
    return -1;
}

size_t util_rd_left(const util_rd *r)
{
    return r->len - r->pos;
}

int util_rd_bytes(util_rd *r, const uint8_t **p, size_t n)
{
    if (r->err) return -1;
    if (n > r->len - r->pos) return util_rd_fail(r, "truncated");
    *p = r->p + r->pos;
    r->pos += n;
    return 0;
}

int util_rd_copy(util_rd *r, void *out, size_t n)
{
    const uint8_t *p;
    if (util_rd_bytes(r, &p, n)) return -1;
    if (n) memcpy(out, p, n);
    return 0;
}

int util_rd_u8(util_rd *r, uint8_t *v)
{
    const uint8_t *p;
    if (util_rd_bytes(r, &p, 1)) return -1;
    *v = p[0];
    return 0;
}

int util_rd_u16(util_rd *r, uint16_t *v)
{
    const uint8_t *p;
    if (util_rd_bytes(r, &p, 2)) return -1;
    *v = (uint16_t)(p[0] | p[1] << 8);
    return 0;
}

int util_rd_u32(util_rd *r, uint32_t *v)
{
    const uint8_t *p;
    if (util_rd_bytes(r, &p, 4)) return -1;
    *v = util_get_u32le(p);
    return 0;
}

int util_rd_u64(util_rd *r, uint64_t *v)
{
    const uint8_t *p;
    if (util_rd_bytes(r, &p, 8)) return -1;
    *v = util_get_u64le(p);
    return 0;
}

int util_rd_varint(util_rd *r, uint64_t *v, uint64_t max)
{
    if (r->err) return -1;
    uint64_t x = 0;
    size_t start = r->pos;
    for (int i = 0;; i++) {
        if (r->pos >= r->len) return util_rd_fail(r, "truncated varint");
        uint8_t b = r->p[r->pos++];
        /* The 10th byte carries bit 63 only; anything more (including a
         * continuation into an 11th byte) overflows 64 bits. */
        if (i == UTIL_VARINT_MAX - 1 && b > 1) return util_rd_fail(r, "varint overflows 64 bits");
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0) {
                r->pos = start;
                return util_rd_fail(r, "non-minimal varint");
            }
            break;
        }
    }
    if (x > max) {
        r->pos = start;
        return util_rd_fail(r, "value above its limit");
    }
    *v = x;
    return 0;
}

int util_rd_lenbytes(util_rd *r, const uint8_t **p, size_t *n, size_t max)
{
    uint64_t l;
    if (util_rd_varint(r, &l, max)) return -1;
    if (util_rd_bytes(r, p, (size_t)l)) return -1;
    *n = (size_t)l;
    return 0;
}

int util_rd_end(util_rd *r)
{
    if (r->err) return -1;
    if (r->pos != r->len) return util_rd_fail(r, "trailing bytes");
    return 0;
}
