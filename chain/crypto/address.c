/* Addresses: the first 20 bytes of SHA-256(pubkey), shown as bech32m with hrp
 * "ol" (chain/crypto/address.h). */
#include "chain/crypto/address.h"

#include <stdio.h>
#include <string.h>

#include "chain/crypto/hash.h"

#define BECH32_MAX_LEN 90 /* BIP-173 limit on the whole string */
#define BECH32_CHECKSUM_LEN 6
#define BECH32M_CONST 0x2bc830a3u

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* Branch-free: the bits of `top` are data, so branches on them mispredict
 * about half the time, and every address in every reply goes through here. */
static uint32_t polymod_step(uint32_t c, uint8_t v)
{
    uint32_t top = c >> 25;
    c = (c & 0x1ffffff) << 5 ^ v;
    c ^= -(top & 1) & 0x3b6a57b2u;
    c ^= -(top >> 1 & 1) & 0x26508e6du;
    c ^= -(top >> 2 & 1) & 0x1ea119fau;
    c ^= -(top >> 3 & 1) & 0x3d4233ddu;
    c ^= -(top >> 4 & 1) & 0x2a1462b3u;
    return c;
}

/* Checksum state after the expanded hrp (high bits, 0, low bits). hrp must be
 * lowercase so that both cases of an input checksum identically. */
static uint32_t polymod_hrp(const char *hrp, size_t n)
{
    uint32_t c = 1;
    for (size_t i = 0; i < n; i++)
        c = polymod_step(c, (uint8_t)hrp[i] >> 5);
    c = polymod_step(c, 0);
    for (size_t i = 0; i < n; i++)
        c = polymod_step(c, (uint8_t)hrp[i] & 31);
    return c;
}

static int charset_rev(char c)
{
    /* 1 + the index in charset; 0 for characters outside it. */
    static const uint8_t rev[128] = {
        ['q'] = 1,  ['p'] = 2,  ['z'] = 3,  ['r'] = 4,  ['y'] = 5,  ['9'] = 6,  ['x'] = 7,
        ['8'] = 8,  ['g'] = 9,  ['f'] = 10, ['2'] = 11, ['t'] = 12, ['v'] = 13, ['d'] = 14,
        ['w'] = 15, ['0'] = 16, ['s'] = 17, ['3'] = 18, ['j'] = 19, ['n'] = 20, ['5'] = 21,
        ['4'] = 22, ['k'] = 23, ['h'] = 24, ['c'] = 25, ['e'] = 26, ['6'] = 27, ['m'] = 28,
        ['u'] = 29, ['a'] = 30, ['7'] = 31, ['l'] = 32};
    unsigned char u = (unsigned char)c;
    return u < 128 ? rev[u] - 1 : -1;
}

int chain_bech32m_encode(char *out, size_t outcap, const char *hrp, const uint8_t *data5, size_t n5)
{
    size_t hn = strlen(hrp);
    if (hn == 0 || hn + 1 + n5 + BECH32_CHECKSUM_LEN > BECH32_MAX_LEN) return -1;
    if (outcap < hn + 1 + n5 + BECH32_CHECKSUM_LEN + 1) return -1;
    for (size_t i = 0; i < hn; i++)
        if (hrp[i] < 33 || hrp[i] > 126 || (hrp[i] >= 'A' && hrp[i] <= 'Z')) return -1;
    uint32_t c = polymod_hrp(hrp, hn);
    char *o = out;
    memcpy(o, hrp, hn);
    o += hn;
    *o++ = '1';
    for (size_t i = 0; i < n5; i++) {
        if (data5[i] > 31) return -1;
        c = polymod_step(c, data5[i]);
        *o++ = charset[data5[i]];
    }
    for (int i = 0; i < BECH32_CHECKSUM_LEN; i++)
        c = polymod_step(c, 0);
    c ^= BECH32M_CONST;
    for (int i = 0; i < BECH32_CHECKSUM_LEN; i++)
        *o++ = charset[(c >> (5 * (5 - i))) & 31];
    *o = 0;
    return 0;
}

/* A parsed but not yet checksum-verified string. */
typedef struct parsed {
    char hrp[BECH32_MAX_LEN + 1]; /* lowercased */
    size_t hrp_len;
    uint8_t data[BECH32_MAX_LEN]; /* 5-bit groups including the checksum */
    size_t n;
} parsed;

static void describe_char(char *out, size_t cap, unsigned char c)
{
    if (c >= 33 && c <= 126)
        snprintf(out, cap, "'%c'", c);
    else
        snprintf(out, cap, "0x%02x", c);
}

static int bad_char(util_err *err, unsigned char c, size_t at)
{
    char d[8];
    describe_char(d, sizeof d, c);
    return util_err_set(err, UTIL_EINVAL, "invalid character %s at %zu", d, at);
}

/* Structural checks shared by the generic decoder and addresses, in the order
 * that gives the most useful message: characters, case, separator, charset. */
static int parse(parsed *ps, const char *s, size_t len, util_err *err)
{
    int lower = 0, upper = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 33 || c > 126) return bad_char(err, c, i);
        if (c >= 'a' && c <= 'z') lower = 1;
        if (c >= 'A' && c <= 'Z') upper = 1;
    }
    if (lower && upper) return util_err_set(err, UTIL_EINVAL, "mixed case");
    const char *sep = NULL;
    for (size_t i = len; i-- > 0;)
        if (s[i] == '1') {
            sep = s + i;
            break;
        }
    if (!sep) return util_err_set(err, UTIL_EINVAL, "missing separator '1'");
    ps->hrp_len = (size_t)(sep - s);
    if (ps->hrp_len == 0) return util_err_set(err, UTIL_EINVAL, "empty human-readable part");
    for (size_t i = 0; i < ps->hrp_len; i++) {
        char c = s[i];
        ps->hrp[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    ps->hrp[ps->hrp_len] = 0;
    ps->n = len - ps->hrp_len - 1;
    for (size_t i = 0; i < ps->n; i++) {
        size_t at = ps->hrp_len + 1 + i;
        char c = s[at];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        int v = charset_rev(c);
        if (v < 0) return bad_char(err, (unsigned char)s[at], at);
        ps->data[i] = (uint8_t)v;
    }
    return 0;
}

static int verify_checksum(const parsed *ps, util_err *err)
{
    if (ps->n < BECH32_CHECKSUM_LEN)
        return util_err_set(err, UTIL_EINVAL, "too short: the checksum needs 6 characters");
    uint32_t c = polymod_hrp(ps->hrp, ps->hrp_len);
    for (size_t i = 0; i < ps->n; i++)
        c = polymod_step(c, ps->data[i]);
    if (c == BECH32M_CONST) return 0;
    if (c == 1) return util_err_set(err, UTIL_EINVAL, "bech32 (not bech32m) checksum");
    return util_err_set(err, UTIL_EINVAL, "bad checksum");
}

int chain_bech32m_decode(char *hrp_out, size_t hrpcap, uint8_t *data5, size_t *n5, size_t data5cap,
                         const char *s, util_err *err)
{
    if (!s) return util_err_set(err, UTIL_EINVAL, "empty string"), -1;
    size_t len = strlen(s);
    if (len == 0) return util_err_set(err, UTIL_EINVAL, "empty string"), -1;
    if (len > BECH32_MAX_LEN)
        return util_err_set(err, UTIL_EINVAL, "too long: %zu characters, at most 90", len), -1;
    parsed ps;
    if (parse(&ps, s, len, err) || verify_checksum(&ps, err)) return -1;
    size_t nd = ps.n - BECH32_CHECKSUM_LEN;
    if (ps.hrp_len + 1 > hrpcap || nd > data5cap)
        return util_err_set(err, UTIL_ELIMIT, "output buffer too small"), -1;
    memcpy(hrp_out, ps.hrp, ps.hrp_len + 1);
    if (nd) memcpy(data5, ps.data, nd);
    *n5 = nd;
    return 0;
}

void chain_addr_from_hash_of(chain_addr *a, const void *p, size_t n)
{
    uint8_t h[32];
    chain_sha256(h, p, n);
    memcpy(a->b, h, CHAIN_ADDR_LEN);
}

void chain_addr_from_pubkey(chain_addr *a, const uint8_t pubkey[32])
{
    chain_addr_from_hash_of(a, pubkey, 32);
}

/* 20 bytes are exactly 32 five-bit groups, so there is never padding. */
#define ADDR_N5 (CHAIN_ADDR_LEN * 8 / 5)

void chain_addr_encode(char out[CHAIN_ADDR_STR_LEN + 1], const chain_addr *a)
{
    uint8_t d5[ADDR_N5];
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < CHAIN_ADDR_LEN; i++) {
        acc = acc << 8 | a->b[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            d5[n++] = (uint8_t)(acc >> bits & 31);
        }
    }
    if (chain_bech32m_encode(out, CHAIN_ADDR_STR_LEN + 1, CHAIN_ADDR_HRP, d5, n)) {
        /* Cannot happen: fixed hrp, valid groups, exact buffer size. Were it
         * to, an empty string is refused by every decoder, garbage might not. */
        out[0] = 0;
    }
}

int chain_addr_decode(chain_addr *a, const char *s, util_err *err)
{
    if (!s || !*s) return util_err_set(err, UTIL_EINVAL, "empty address");
    size_t len = strlen(s);
    if (len > BECH32_MAX_LEN)
        return util_err_set(err, UTIL_EINVAL, "wrong length: %zu characters, expected %d", len,
                            CHAIN_ADDR_STR_LEN);
    parsed ps;
    int rc = parse(&ps, s, len, err);
    if (rc) return rc;
    if (strcmp(ps.hrp, CHAIN_ADDR_HRP) != 0)
        return util_err_set(err, UTIL_EINVAL, "wrong prefix: expected %s", CHAIN_ADDR_HRP);
    if (len != CHAIN_ADDR_STR_LEN)
        return util_err_set(err, UTIL_EINVAL, "wrong length: %zu characters, expected %d", len,
                            CHAIN_ADDR_STR_LEN);
    rc = verify_checksum(&ps, err);
    if (rc) return rc;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < ADDR_N5; i++) {
        acc = acc << 5 | ps.data[i];
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            a->b[n++] = (uint8_t)(acc >> bits);
        }
    }
    return 0;
}
