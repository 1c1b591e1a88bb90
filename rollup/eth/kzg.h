/* KZG commitments to EIP-4844 blobs, over BLS12-381, for the batcher's blob
 * posts and for checking the blobs an L1 endpoint returns (docs/rollup.md,
 * "Blobs").
 *
 * What Ethereum specifies (consensus-specs, deneb/polynomial-commitments.md),
 * checked against the c-kzg-4844 test vectors (tests/data/kzg/):
 *   - a blob is 4096 field elements of 32 bytes, big-endian, each below the
 *     BLS12-381 scalar modulus r (a blob with one at or above r is refused);
 *   - its commitment is the G1 point sum(blob[i] * L_i), L_i the Lagrange
 *     points of the ceremony's trusted setup in bit-reversed order, as 48
 *     bytes in the ZCash compressed encoding;
 *   - its proof is compute_blob_kzg_proof's (the Fiat-Shamir challenge of
 *     the blob and commitment, the quotient polynomial, one more sum);
 *   - its versioned hash is 0x01 || sha256(commitment)[1..32].
 *
 * There is no pairing here: this module only makes commitments and proofs,
 * and checks a blob against a given commitment by making the commitment
 * again. rollup_kzg_verify_blobs checks many blobs with one multi-scalar
 * multiplication (a random linear combination: sum(c_j * C_j) against the
 * commitment of sum(c_j * blob_j), c_j random 128-bit), and only when that
 * fails makes each commitment to name the bad blob.
 *
 * The trusted setup's 4096 G1 Lagrange points are built into the binary
 * (rollup/eth/kzg_setup_g1.*, from c-kzg-4844's trusted_setup.txt); the
 * first call of any function below loads them (once per process, thread
 * safe), and rollup_kzg_init does it up front. After that every function is
 * pure and may run on any thread at once. */
#ifndef OL_ROLLUP_KZG_H
#define OL_ROLLUP_KZG_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define ROLLUP_BLOB_FIELD_ELEMENTS 4096
#define ROLLUP_BLOB_BYTES (32u * ROLLUP_BLOB_FIELD_ELEMENTS) /* 131072 */
#define ROLLUP_KZG_COMMITMENT_BYTES 48
#define ROLLUP_KZG_PROOF_BYTES 48

/* Loads the trusted setup. 0, or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_kzg_init(util_err *err);

/* blob_to_kzg_commitment. 0, UTIL_EINVAL ("blob: field element N is not
 * below the modulus") or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_kzg_commit(const uint8_t blob[ROLLUP_BLOB_BYTES],
                                    uint8_t commitment[ROLLUP_KZG_COMMITMENT_BYTES], util_err *err);

/* compute_blob_kzg_proof for blob and its commitment. 0, UTIL_EINVAL (bad
 * blob, or a commitment that is not a valid G1 point) or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_kzg_proof(const uint8_t blob[ROLLUP_BLOB_BYTES],
                                   const uint8_t commitment[ROLLUP_KZG_COMMITMENT_BYTES],
                                   uint8_t proof[ROLLUP_KZG_PROOF_BYTES], util_err *err);

/* 0x01 || sha256(commitment)[1..32]. */
void rollup_kzg_versioned_hash(const uint8_t commitment[ROLLUP_KZG_COMMITMENT_BYTES],
                               uint8_t out[32]);

/* Checks that blobs[j] commits to commitments[j] for j < n (n >= 1). 0 when
 * all do; UTIL_EINVAL when one does not, or a commitment is not a valid G1
 * point, or a blob is not canonical: *bad (may be NULL) gets the index of the
 * first such blob and err says what is wrong with it. UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_kzg_verify_blobs(const uint8_t *const *blobs,
                                          const uint8_t (*commitments)[ROLLUP_KZG_COMMITMENT_BYTES],
                                          size_t n, size_t *bad, util_err *err);

#endif
