/* Ethereum accounts from secp256k1 keys: addresses, recoverable ECDSA
 * signatures (libsecp256k1's recovery module), EIP-55 hex.
 *
 * A validator's key is a BIP-340 key: its public key is the x coordinate of
 * the point with EVEN y. The same secret used for ECDSA would sign for the
 * odd-y point when the secret's own point has odd y, so rollup code signs
 * with the secret normalised to the even-y point (rollup_eth_seckey_even) and
 * the validator's Ethereum address is keccak256(x || y_even)[12..32]
 * (rollup_eth_addr_from_xonly): computable from the genesis alone.
 * docs/rollup.md states this derivation.
 *
 * Signatures are 65 bytes r[32] || s[32] || v, v = 27 + recovery id, s in the
 * lower half of the order (what ecrecover and EIP-2 expect). */
#ifndef OL_ROLLUP_ECDSA_H
#define OL_ROLLUP_ECDSA_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define ROLLUP_ETH_ADDR_LEN 20
#define ROLLUP_ETH_SIG_LEN 65
#define ROLLUP_ETH_ADDR_HEX_LEN 42 /* "0x" + 40 hex digits */

typedef struct rollup_eth_addr {
    uint8_t b[ROLLUP_ETH_ADDR_LEN];
} rollup_eth_addr;

/* The address of a secret key's own point (an L1 account key). 0 or
 * UTIL_EINVAL (not a valid secret key). */
OL_MUST_CHECK int rollup_eth_addr_from_seckey(rollup_eth_addr *out, const uint8_t sk[32],
                                              util_err *err);
/* The address of the even-y point with x coordinate xonly (a BIP-340 public
 * key, as in the genesis). 0 or UTIL_EINVAL (not on the curve). */
OL_MUST_CHECK int rollup_eth_addr_from_xonly(rollup_eth_addr *out, const uint8_t xonly[32],
                                             util_err *err);
/* out = sk or its negation, whichever has the even-y point. 0 or UTIL_EINVAL. */
OL_MUST_CHECK int rollup_eth_seckey_even(uint8_t out[32], const uint8_t sk[32], util_err *err);

/* Recoverable ECDSA over a 32-byte digest (RFC 6979 nonces): deterministic. */
OL_MUST_CHECK int rollup_eth_sign(uint8_t sig[ROLLUP_ETH_SIG_LEN], const uint8_t digest[32],
                                  const uint8_t sk[32], util_err *err);
/* The signer of digest, as ecrecover would return it; refuses v outside
 * {27, 28} and s in the upper half. 0 or UTIL_EINVAL. */
OL_MUST_CHECK int rollup_eth_recover(rollup_eth_addr *out, const uint8_t digest[32],
                                     const uint8_t sig[ROLLUP_ETH_SIG_LEN], util_err *err);

/* "0x" + EIP-55 mixed-case hex; out has ROLLUP_ETH_ADDR_HEX_LEN + 1 bytes. */
void rollup_eth_addr_hex(char out[ROLLUP_ETH_ADDR_HEX_LEN + 1], const rollup_eth_addr *a);
/* Parses "0x" + 40 hex digits; all-lower and all-upper are accepted, mixed
 * case must be a correct EIP-55 checksum. 0 or UTIL_EINVAL. */
OL_MUST_CHECK int rollup_eth_addr_parse(rollup_eth_addr *a, const char *s, util_err *err);

#endif
