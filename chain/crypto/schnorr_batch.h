/* BIP-340 batch verification (the BIP's "Batch Verification" section).
 *
 * One multi-scalar multiplication checks u signatures for roughly half the
 * cost of u single verifications. The verdict is 1 only when every signature
 * is valid; a 0 says that at least one is not (or that memory ran out), not
 * which one, so callers fall back to chain_verify per signature for the
 * verdicts. A batch of valid signatures always gives 1; a batch holding an
 * invalid one gives 0 except with probability below 2^-127 over the
 * randomizers, which are derived from a hash of every input (deterministic,
 * and unknowable before the inputs are fixed). Thread-safe; no shared state. */
#ifndef OL_CHAIN_SCHNORR_BATCH_H
#define OL_CHAIN_SCHNORR_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/keys.h"
#include "util/err.h"

/* A lifted x-only public key (the even-y point), cacheable by the caller:
 * lifting costs a square root. Opaque. */
typedef struct chain_bpk {
    unsigned char data[96];
} chain_bpk;

/* 1 when pk32 is a valid x-only key (out filled), else 0. */
OL_MUST_CHECK int chain_bpk_lift(chain_bpk *out, const uint8_t pk32[32]);

/* 1 when, for every i < n, sigs[i] (64 bytes) is a valid BIP-340 signature of
 * the 32-byte msgs[i] under pks[i] (filled by chain_bpk_lift); else 0. n == 0
 * gives 1. */
OL_MUST_CHECK int chain_verify_batch(const uint8_t *const *sigs, const uint8_t *const *msgs,
                                     const chain_bpk *const *pks, size_t n);

/* Below this many signatures a batch gains little or loses (per signature,
 * against a verification with a parsed key: 2 signatures 1.2 to 1.3, 4: 0.8
 * to 0.86, 8: 0.62 to 0.67, 16: 0.43 to 0.55); chain_verify_many then
 * checks them one by one. */
#define CHAIN_BATCH_MIN 8

/* ok[i] = 1 exactly when sigs[i] is a valid signature of msgs[i] under
 * pks[i] (libsecp256k1's verdict), else 0; returns how many are valid.
 * All n in one chain_verify_batch first (from CHAIN_BATCH_MIN up), and only
 * when that fails (a bad signature, or no memory) each on its own with
 * libsecp256k1: with xos (the same keys parsed by chain_xonly_parse, may be
 * NULL) through chain_verify_xonly, else chain_verify. A batch passes only
 * when every signature is valid (but with probability below 2^-127), so
 * flagging all of them then is the single verdict too. */
size_t chain_verify_many(const uint8_t *const *sigs, const uint8_t *const *msgs,
                         const chain_bpk *const *pks, const chain_xonly *const *xos, size_t n,
                         uint8_t *ok);

#endif
