/* Failure codes of receipts: a stable number in the receipt encoding (and so
 * in the receipts root) with a stable snake_case token for JSON and the CLI
 * (docs/transactions.md lists them). A body that fails reports a message
 * starting with its token ("not_attestor: only model 3's attestor ...");
 * chain_exec_apply_tx maps that token to the code, and the rest of the
 * message is human detail that no hash covers.
 *
 * Numbers are consensus: never renumber or reuse one; append new codes. */
#ifndef OL_CHAIN_RECEIPT_CODE_H
#define OL_CHAIN_RECEIPT_CODE_H

#include <stddef.h>
#include <stdint.h>
#include "util/err.h"

enum chain_fail {
    CHAIN_FAIL_NONE = 0,   /* success */
    CHAIN_FAIL_FAILED = 1, /* a failure whose message carries no known token */
    CHAIN_FAIL_REVERTED = 2,
    CHAIN_FAIL_VM_FAULT = 3,
    CHAIN_FAIL_NO_CONTRACT = 4,
    CHAIN_FAIL_INVALID_CODE = 5,
    CHAIN_FAIL_CONTRACT_EXISTS = 6,
    CHAIN_FAIL_TOO_MANY_EVENTS = 7,
    CHAIN_FAIL_INSUFFICIENT_FUNDS = 8,
    CHAIN_FAIL_BALANCE_OVERFLOW = 9,
    CHAIN_FAIL_UNKNOWN_DATANET = 10,
    CHAIN_FAIL_UNKNOWN_CONTRIBUTION = 11,
    CHAIN_FAIL_UNKNOWN_MODEL = 12,
    CHAIN_FAIL_DUPLICATE_CONTRIBUTION = 13,
    CHAIN_FAIL_NOT_DATANET_OWNER = 14,
    CHAIN_FAIL_NOT_PENDING = 15,
    CHAIN_FAIL_BAD_SPLIT = 16,
    CHAIN_FAIL_NOT_ATTESTOR = 17,
    CHAIN_FAIL_TOO_MANY_ENTRIES = 18,
    CHAIN_FAIL_DUPLICATE_ENTRY = 19,
    CHAIN_FAIL_CONTRIBUTION_NOT_ACCEPTED = 20,
    CHAIN_FAIL_FOREIGN_CONTRIBUTION = 21,
    CHAIN_FAIL_TOO_MANY_PAYOUTS = 22,
    CHAIN_FAIL_CONSERVATION = 23,
    CHAIN_FAIL_WEIGHTS_OVERFLOW = 24,
    CHAIN_FAIL_INVALID_PAYOUT = 25,
    CHAIN_FAIL_EARNINGS_OVERFLOW = 26,
    CHAIN_FAIL_COUNT
};

/* "reverted", "not_attestor", ...; NULL for CHAIN_FAIL_NONE and unknown codes. */
const char *chain_fail_token(unsigned code);
/* The code whose token leads msg, followed by ':' ("vm_fault: out of gas");
 * CHAIN_FAIL_FAILED when none does. Never CHAIN_FAIL_NONE. */
uint8_t chain_fail_from_msg(const char *msg);

/* 1 when p[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or
 * code points past U+10FFFF) with no NUL byte. */
OL_MUST_CHECK int chain_utf8_valid(const uint8_t *p, size_t n);
/* Copies at most cap-1 bytes of src[0..n) into dst as well-formed UTF-8: each
 * byte of an ill-formed sequence and each NUL becomes '?', and a character
 * that would not fit whole is left out. Always NUL-terminates (cap >= 1).
 * Returns the length written. */
size_t chain_utf8_sanitize(char *dst, size_t cap, const uint8_t *src, size_t n);

#endif
