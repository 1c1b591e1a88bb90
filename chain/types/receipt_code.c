/* The table of receipt failure codes and their stable tokens
 * (chain/types/receipt_code.h). */
#include "chain/types/receipt_code.h"

#include <string.h>

static const char *const tokens[CHAIN_FAIL_COUNT] = {
    [CHAIN_FAIL_NONE] = NULL,
    [CHAIN_FAIL_FAILED] = "failed",
    [CHAIN_FAIL_REVERTED] = "reverted",
    [CHAIN_FAIL_VM_FAULT] = "vm_fault",
    [CHAIN_FAIL_NO_CONTRACT] = "no_contract",
    [CHAIN_FAIL_INVALID_CODE] = "invalid_code",
    [CHAIN_FAIL_CONTRACT_EXISTS] = "contract_exists",
    [CHAIN_FAIL_TOO_MANY_EVENTS] = "too_many_events",
    [CHAIN_FAIL_INSUFFICIENT_FUNDS] = "insufficient_funds",
    [CHAIN_FAIL_BALANCE_OVERFLOW] = "balance_overflow",
    [CHAIN_FAIL_UNKNOWN_DATANET] = "unknown_datanet",
    [CHAIN_FAIL_UNKNOWN_CONTRIBUTION] = "unknown_contribution",
    [CHAIN_FAIL_UNKNOWN_MODEL] = "unknown_model",
    [CHAIN_FAIL_DUPLICATE_CONTRIBUTION] = "duplicate_contribution",
    [CHAIN_FAIL_NOT_DATANET_OWNER] = "not_datanet_owner",
    [CHAIN_FAIL_NOT_PENDING] = "not_pending",
    [CHAIN_FAIL_BAD_SPLIT] = "bad_split",
    [CHAIN_FAIL_NOT_ATTESTOR] = "not_attestor",
    [CHAIN_FAIL_TOO_MANY_ENTRIES] = "too_many_entries",
    [CHAIN_FAIL_DUPLICATE_ENTRY] = "duplicate_entry",
    [CHAIN_FAIL_CONTRIBUTION_NOT_ACCEPTED] = "contribution_not_accepted",
    [CHAIN_FAIL_FOREIGN_CONTRIBUTION] = "foreign_contribution",
    [CHAIN_FAIL_TOO_MANY_PAYOUTS] = "too_many_payouts",
    [CHAIN_FAIL_CONSERVATION] = "conservation",
    [CHAIN_FAIL_WEIGHTS_OVERFLOW] = "weights_overflow",
    [CHAIN_FAIL_INVALID_PAYOUT] = "invalid_payout",
    [CHAIN_FAIL_EARNINGS_OVERFLOW] = "earnings_overflow",
};

const char *chain_fail_token(unsigned code)
{
    return code < CHAIN_FAIL_COUNT ? tokens[code] : NULL;
}

uint8_t chain_fail_from_msg(const char *msg)
{
    size_t n = strcspn(msg, ":");
    if (msg[n] != ':') return CHAIN_FAIL_FAILED;
    for (unsigned c = CHAIN_FAIL_FAILED + 1; c < CHAIN_FAIL_COUNT; c++)
        if (strlen(tokens[c]) == n && memcmp(tokens[c], msg, n) == 0) return (uint8_t)c;
    return CHAIN_FAIL_FAILED;
}

/* Length of the well-formed sequence at p (1..4), or 0. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c == 0) return 0;
    if (c < 0x80) return 1;
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0; /* overlong */
        if (c == 0xed) hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90; /* overlong */
        if (c == 0xf4) hi = 0x8f; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return len;
}

int chain_utf8_valid(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

size_t chain_utf8_sanitize(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(src + i, n - i);
        size_t w = k ? k : 1;
        if (o + w > cap - 1) break;
        if (k)
            memcpy(dst + o, src + i, k);
        else
            dst[o] = '?';
        o += w;
        i += w;
    }
    dst[o] = 0;
    return o;
}
