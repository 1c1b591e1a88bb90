/* OPEN amounts: u64 base units, 1 OPEN = 10^9 base units. Decimal strings are
 * converted exactly, digit by digit, never through floating point. */
#ifndef OL_UTIL_AMOUNT_H
#define OL_UTIL_AMOUNT_H

#include <stdint.h>
#include "util/err.h"

#define UTIL_OPEN_DECIMALS 9
#define UTIL_BASE_PER_OPEN 1000000000ULL
#define UTIL_AMOUNT_STR_MAX 32

/* "1.25" -> 1250000000. Rejects signs, exponents, empty parts, more than 9
 * fractional digits, and overflow. Returns 0 or -1. */
OL_MUST_CHECK int util_amount_parse_open(const char *s, uint64_t *out);
/* Base units as a plain decimal integer string ("1250000000"). */
OL_MUST_CHECK int util_amount_parse_base(const char *s, uint64_t *out);
/* 1250000000 -> "1.25"; out has UTIL_AMOUNT_STR_MAX bytes. */
void util_amount_format_open(char *out, uint64_t base);
void util_amount_format_base(char *out, uint64_t base);

/* Checked arithmetic: return 0 on success, -1 on overflow (out untouched). */
OL_MUST_CHECK static inline int util_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) return -1;
    *out = r;
    return 0;
}
OL_MUST_CHECK static inline int util_sub_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > a) return -1;
    *out = a - b;
    return 0;
}
OL_MUST_CHECK static inline int util_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return -1;
    *out = r;
    return 0;
}

#endif
