/* Addresses: the first 20 bytes of SHA-256(x-only pubkey), shown as bech32m
 * (BIP-350) with human-readable part "ol" and the 20 bytes as the data part,
 * no version field: "ol1" followed by 38 characters (32 data + 6 checksum). */
#ifndef OL_CHAIN_ADDRESS_H
#define OL_CHAIN_ADDRESS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CHAIN_ADDR_LEN 20
#define CHAIN_ADDR_STR_LEN 41 /* "ol1" + 38, without NUL */
#define CHAIN_ADDR_HRP "ol"

typedef struct chain_addr {
    uint8_t b[CHAIN_ADDR_LEN];
} chain_addr;

void chain_addr_from_pubkey(chain_addr *a, const uint8_t pubkey[32]);
/* First 20 bytes of SHA-256(p): also the form of the system addresses no key
 * controls (bond escrow, genesis contracts, deployed contracts). */
void chain_addr_from_hash_of(chain_addr *a, const void *p, size_t n);
/* out must hold CHAIN_ADDR_STR_LEN + 1 bytes. */
void chain_addr_encode(char out[CHAIN_ADDR_STR_LEN + 1], const chain_addr *a);
/* Accepts all-lowercase or all-uppercase; rejects a wrong hrp, wrong length,
 * bad characters, mixed case, and a bad bech32m checksum (including a bech32,
 * non-m, checksum), each with its own message. */
OL_MUST_CHECK int chain_addr_decode(chain_addr *a, const char *s, util_err *err);

/* Generic bech32m, for tests and other human-readable parts. data5 is 5-bit
 * groups. Returns 0 or -1. */
OL_MUST_CHECK int chain_bech32m_encode(char *out, size_t outcap, const char *hrp,
                                       const uint8_t *data5, size_t n5);
OL_MUST_CHECK int chain_bech32m_decode(char *hrp_out, size_t hrpcap, uint8_t *data5, size_t *n5,
                                       size_t data5cap, const char *s, util_err *err);

#endif
