/* The parts of rollup/eth/kzg.c that the tests and the fuzz target reach
 * below the public interface: the Fiat-Shamir challenge, a proof at a given
 * point (the consensus specs' compute_kzg_proof, whose vectors include points
 * of the evaluation domain), and the commitment decoder. */
#ifndef OL_ROLLUP_KZG_INTERNAL_H
#define OL_ROLLUP_KZG_INTERNAL_H

#include "rollup/eth/kzg.h"

/* compute_challenge: the 32-byte big-endian field element z. 0, UTIL_EINVAL
 * (a commitment that is not a valid G1 point) or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_kzg_challenge(const uint8_t blob[ROLLUP_BLOB_BYTES],
                                       const uint8_t commitment[ROLLUP_KZG_COMMITMENT_BYTES],
                                       uint8_t z[32], util_err *err);

/* compute_kzg_proof: the proof that the blob's polynomial is y at z (both
 * 32-byte big-endian field elements). 0, UTIL_EINVAL (bad blob, z not below
 * the modulus) or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_kzg_proof_at(const uint8_t blob[ROLLUP_BLOB_BYTES], const uint8_t z[32],
                                      uint8_t proof[ROLLUP_KZG_PROOF_BYTES], uint8_t y[32],
                                      util_err *err);

/* validate_kzg_g1: 0 when the 48 bytes are a valid commitment (compressed,
 * on the curve, in the subgroup, or the canonical point at infinity);
 * UTIL_EINVAL with the reason otherwise. */
OL_MUST_CHECK int rollup_kzg_check_point(const uint8_t in[ROLLUP_KZG_COMMITMENT_BYTES],
                                         util_err *err);

#endif
