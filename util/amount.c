/* OPEN amounts: decimal strings to and from base units, without floating
 * point (util/amount.h). */
#include "util/amount.h"

#include <stdio.h>
#include <string.h>

static int parse_digits(const char *s, size_t n, uint64_t *acc)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        if (util_mul_u64(*acc, 10, acc) || util_add_u64(*acc, (uint64_t)(s[i] - '0'), acc))
            return -1;
    }
    return 0;
}

int util_amount_parse_base(const char *s, uint64_t *out)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 20) return -1;
    uint64_t v = 0;
    if (parse_digits(s, n, &v)) return -1;
    *out = v;
    return 0;
}

int util_amount_parse_open(const char *s, uint64_t *out)
{
    if (!s || !*s) return -1;
    const char *dot = strchr(s, '.');
    size_t ilen = dot ? (size_t)(dot - s) : strlen(s);
    size_t flen = dot ? strlen(dot + 1) : 0;
    if (ilen == 0 || ilen > 20 || (dot && (flen == 0 || flen > UTIL_OPEN_DECIMALS))) return -1;
    uint64_t v = 0;
    if (parse_digits(s, ilen, &v)) return -1;
    if (dot && parse_digits(dot + 1, flen, &v) == -1) return -1;
    for (size_t i = flen; i < UTIL_OPEN_DECIMALS; i++)
        if (util_mul_u64(v, 10, &v)) return -1;
    *out = v;
    return 0;
}

void util_amount_format_base(char *out, uint64_t base)
{
    snprintf(out, UTIL_AMOUNT_STR_MAX, "%llu", (unsigned long long)base);
}

void util_amount_format_open(char *out, uint64_t base)
{
    uint64_t ip = base / UTIL_BASE_PER_OPEN, fp = base % UTIL_BASE_PER_OPEN;
    if (fp == 0) {
        snprintf(out, UTIL_AMOUNT_STR_MAX, "%llu", (unsigned long long)ip);
        return;
    }
    char frac[16];
    snprintf(frac, sizeof frac, "%09llu", (unsigned long long)fp);
    size_t l = strlen(frac);
    while (l > 0 && frac[l - 1] == '0')
        frac[--l] = 0;
    snprintf(out, UTIL_AMOUNT_STR_MAX, "%llu.%s", (unsigned long long)ip, frac);
}
