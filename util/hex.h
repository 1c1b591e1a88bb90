/* Lowercase hex encoding. Decoding accepts an optional "0x" prefix and either
 * case, and rejects odd lengths and non-hex characters. */
#ifndef OL_UTIL_HEX_H
#define OL_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>
#include "util/err.h"

/* Writes 2*n chars plus a NUL to out. */
void util_hex_encode(char *out, const uint8_t *p, size_t n);
/* Decodes exactly `n` bytes from a string of 2*n hex digits (after an optional
 * 0x). Returns 0 or -1. */
OL_MUST_CHECK int util_hex_decode_exact(uint8_t *out, size_t n, const char *s);
/* Decodes into a malloc'd buffer (caller frees); rejects more than max bytes. */
OL_MUST_CHECK int util_hex_decode_alloc(const char *s, size_t max, uint8_t **out, size_t *n);

#endif
