/* RLP, Ethereum's recursive length prefix encoding (Yellow Paper, appendix
 * B): what a signed EIP-1559 transaction is made of.
 *
 * The encoder appends to a util_buf (its oom flag reports allocation
 * failure). The decoder reads one item at a time from a byte range and is
 * strict: non-canonical lengths (a long form for a short payload, leading
 * zero bytes in a length, a single byte < 0x80 wrapped as a string) and items
 * running past the input are refused with a message. Nothing is allocated
 * while decoding: items point into the input. */
#ifndef OL_ROLLUP_RLP_H
#define OL_ROLLUP_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

/* A byte string. */
void rollup_rlp_bytes(util_buf *b, const uint8_t *p, size_t n);
/* An unsigned integer, big-endian with no leading zeros (0 is the empty string). */
void rollup_rlp_uint(util_buf *b, uint64_t v);
/* A 256-bit unsigned integer given big-endian in 32 bytes, leading zeros stripped. */
void rollup_rlp_uint256(util_buf *b, const uint8_t be[32]);

/* Lists: rollup_rlp_list_begin returns a mark, the items follow, then
 * rollup_rlp_list_end(b, mark) inserts the list header in front of them. */
size_t rollup_rlp_list_begin(util_buf *b);
void rollup_rlp_list_end(util_buf *b, size_t mark);

typedef struct rollup_rlp_item {
    int is_list;
    const uint8_t *p; /* payload: the string's bytes, or the list's encoded items */
    size_t n;
} rollup_rlp_item;

/* Reads the next item from *p (n bytes left), advancing both. 0 or
 * UTIL_EINVAL ("rlp: ..."). */
OL_MUST_CHECK int rollup_rlp_next(const uint8_t **p, size_t *n, rollup_rlp_item *it, util_err *err);
/* A string item as an unsigned integer of at most 8 bytes, canonical (no
 * leading zero). 0 or UTIL_EINVAL. */
OL_MUST_CHECK int rollup_rlp_item_uint(const rollup_rlp_item *it, uint64_t *v, util_err *err);

#endif
