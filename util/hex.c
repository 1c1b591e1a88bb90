/* Hex encoding and strict decoding (util/hex.h). */
#include "util/hex.h"

#include <stdlib.h>
#include <string.h>

static const char digits[] = "0123456789abcdef";

void util_hex_encode(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

static int nib(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static const char *skip0x(const char *s)
{
    return (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : s;
}

static int decode(uint8_t *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int h = nib(s[2 * i]), l = nib(s[2 * i + 1]);
        if (h < 0 || l < 0) return -1;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return 0;
}

int util_hex_decode_exact(uint8_t *out, size_t n, const char *s)
{
    if (!s) return -1;
    s = skip0x(s);
    if (strlen(s) != 2 * n) return -1;
    return decode(out, s, n);
}

int util_hex_decode_alloc(const char *s, size_t max, uint8_t **out, size_t *n)
{
    if (!s) return -1;
    s = skip0x(s);
    size_t l = strlen(s);
    if (l % 2 || l / 2 > max) return -1;
    uint8_t *b = malloc(l / 2 ? l / 2 : 1);
    if (!b) return -1;
    if (decode(b, s, l / 2)) {
        free(b);
        return -1;
    }
    *out = b;
    *n = l / 2;
    return 0;
}
