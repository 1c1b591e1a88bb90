/* Canonical binary encoding primitives: a growable write buffer and a bounded
 * read cursor. Integers are fixed-width little-endian; lengths and counts are
 * unsigned LEB128, at most 10 bytes, minimal (no redundant 0x80 groups).
 *
 * util_buf owns its heap memory; util_buf_free releases it. A failed
 * allocation latches buf->oom and turns later writes into no-ops, so encoders
 * check once at the end. util_rd borrows the bytes it reads. */
#ifndef OL_UTIL_BYTES_H
#define OL_UTIL_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include "util/err.h"

#define UTIL_VARINT_MAX 10

typedef struct util_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int oom;
} util_buf;

void util_buf_init(util_buf *b);
void util_buf_free(util_buf *b);
void util_buf_reset(util_buf *b);                              /* len = 0, keeps capacity */
OL_MUST_CHECK int util_buf_reserve(util_buf *b, size_t extra); /* 0 or UTIL_ENOMEM */
void util_buf_put(util_buf *b, const void *p, size_t n);
void util_buf_u8(util_buf *b, uint8_t v);
void util_buf_u16(util_buf *b, uint16_t v);
void util_buf_u32(util_buf *b, uint32_t v);
void util_buf_u64(util_buf *b, uint64_t v);
void util_buf_varint(util_buf *b, uint64_t v);
/* varint length, then the bytes */
void util_buf_lenbytes(util_buf *b, const void *p, size_t n);
/* Moves the data out: caller frees *out with free(). Returns UTIL_ENOMEM if oom latched. */
OL_MUST_CHECK int util_buf_take(util_buf *b, uint8_t **out, size_t *len);

size_t util_varint_len(uint64_t v);
/* Writes v to out (>= UTIL_VARINT_MAX bytes); returns the length. */
size_t util_varint_put(uint8_t *out, uint64_t v);
void util_put_u32le(uint8_t *out, uint32_t v);
void util_put_u64le(uint8_t *out, uint64_t v);
uint32_t util_get_u32le(const uint8_t *p);
uint64_t util_get_u64le(const uint8_t *p);
void util_put_u64be(uint8_t *out, uint64_t v);
uint64_t util_get_u64be(const uint8_t *p);

/* Reader: every function returns 0 or -1; on -1, rd->err names the problem and
 * rd->err_at the offset. Once failed, the reader stays failed. */
typedef struct util_rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
    const char *err;
    size_t err_at;
} util_rd;

void util_rd_init(util_rd *r, const void *p, size_t len);
int util_rd_fail(util_rd *r, const char *why);
int util_rd_u8(util_rd *r, uint8_t *v);
int util_rd_u16(util_rd *r, uint16_t *v);
int util_rd_u32(util_rd *r, uint32_t *v);
int util_rd_u64(util_rd *r, uint64_t *v);
/* Rejects over-long (non-minimal) encodings, more than 10 bytes, overflow,
 * and values above max. */
int util_rd_varint(util_rd *r, uint64_t *v, uint64_t max);
/* Borrows n bytes. */
int util_rd_bytes(util_rd *r, const uint8_t **p, size_t n);
int util_rd_copy(util_rd *r, void *out, size_t n);
/* varint length <= max, then borrows that many bytes */
int util_rd_lenbytes(util_rd *r, const uint8_t **p, size_t *n, size_t max);
/* Fails with "trailing bytes" unless everything was consumed. */
OL_MUST_CHECK int util_rd_end(util_rd *r);
size_t util_rd_left(const util_rd *r);

#endif
