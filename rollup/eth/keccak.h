/* Keccak-256 as Ethereum uses it (the original Keccak padding 0x01, not
 * FIPS 202's SHA3-256 padding 0x06): addresses, transaction hashes, ABI
 * selectors, the OutputOracle's digests.
 *
 * Built on nettle's public Keccak-f[1600] permutation (sha3_permute): OpenSSL
 * 3.0 has only FIPS SHA-3. A context is a plain value; no allocation. */
#ifndef OL_ROLLUP_KECCAK_H
#define OL_ROLLUP_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define ROLLUP_KECCAK256_RATE 136 /* bytes absorbed per permutation */

typedef struct rollup_keccak_ctx {
    uint64_t a[25]; /* the state, as nettle's struct sha3_state */
    uint8_t buf[ROLLUP_KECCAK256_RATE];
    size_t used;
} rollup_keccak_ctx;

void rollup_keccak_init(rollup_keccak_ctx *c);
void rollup_keccak_update(rollup_keccak_ctx *c, const void *p, size_t n);
/* Writes the digest; c must be initialised again before reuse. */
void rollup_keccak_final(rollup_keccak_ctx *c, uint8_t out[32]);

/* One-shot Keccak-256. */
void rollup_keccak256(uint8_t out[32], const void *p, size_t n);

#endif
