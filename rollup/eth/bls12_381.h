/* BLS12-381 G1 arithmetic for the KZG commitments of rollup/eth/kzg.h: the
 * base field Fp (6 x 64-bit limbs, Montgomery form), points on
 * y^2 = x^3 + 4 in Jacobian coordinates, the ZCash compressed encoding, the
 * subgroup check, and a Pippenger multi-scalar multiplication. Internal to
 * rollup/eth; nothing here is constant time (every input is public). */
#ifndef OL_ROLLUP_BLS12_381_H
#define OL_ROLLUP_BLS12_381_H

#include <stddef.h>
#include <stdint.h>

/* An element of Fp, little-endian limbs, Montgomery form (value * 2^384 mod
 * p), always fully reduced (below p). */
typedef struct {
    uint64_t l[6];
} rollup_fp;

/* A finite point in affine coordinates (never the point at infinity). */
typedef struct {
    rollup_fp x, y;
} rollup_g1_affine;

/* A point in Jacobian coordinates (x = X/Z^2, y = Y/Z^3); Z = 0 is the point
 * at infinity. */
typedef struct {
    rollup_fp x, y, z;
} rollup_g1;

/* Picks the fastest multiplication this CPU runs (BMI2 and ADX on x86-64).
 * Called once before any other function here (rollup_kzg_init does). */
void rollup_bls_init(void);
/* Tests: with on, the portable C multiplication from now on; otherwise the
 * choice of rollup_bls_init again. 1 when the portable one is in use. Not
 * thread safe. */
int rollup_bls_portable(int on);

#define ROLLUP_KZG_SETUP_N 4096

/* The trusted setup's G1 Lagrange points in bit-reversed order
 * (rollup/eth/kzg_setup_g1.c, generated). */
extern const rollup_g1_affine rollup_kzg_setup_g1[ROLLUP_KZG_SETUP_N];

/* Fp arithmetic on reduced elements (outputs may alias inputs). */
void rollup_fp_add(rollup_fp *r, const rollup_fp *a, const rollup_fp *b);
void rollup_fp_sub(rollup_fp *r, const rollup_fp *a, const rollup_fp *b);
void rollup_fp_mul(rollup_fp *r, const rollup_fp *a, const rollup_fp *b);
void rollup_fp_neg(rollup_fp *r, const rollup_fp *a);
void rollup_fp_inv(rollup_fp *r, const rollup_fp *a); /* a != 0 */
int rollup_fp_eq(const rollup_fp *a, const rollup_fp *b);

void rollup_g1_set_inf(rollup_g1 *p);
int rollup_g1_is_inf(const rollup_g1 *p);
void rollup_g1_from_affine(rollup_g1 *out, const rollup_g1_affine *a);
/* out = p + q (any of them may alias). */
void rollup_g1_add(rollup_g1 *out, const rollup_g1 *p, const rollup_g1 *q);
void rollup_g1_neg(rollup_g1 *out, const rollup_g1 *p);
void rollup_g1_dbl(rollup_g1 *out, const rollup_g1 *p);
/* *acc += q, or -q when neg (the mixed addition). */
void rollup_g1_madd(rollup_g1 *acc, const rollup_g1_affine *q, int neg);
/* 1 when p and q are the same point. */
int rollup_g1_eq(const rollup_g1 *p, const rollup_g1 *q);
/* 1 when the affine point is on the curve. */
int rollup_g1_affine_on_curve(const rollup_g1_affine *a);
/* 1 when [r]a is the point at infinity (a is in the order-r subgroup). */
int rollup_g1_affine_in_subgroup(const rollup_g1_affine *a);

/* The ZCash compressed encoding (48 bytes, big-endian x, flags in the top 3
 * bits: compressed, infinity, y is the larger root). */
void rollup_g1_encode(const rollup_g1 *p, uint8_t out[48]);
/* Decodes and checks a compressed point the way the consensus specs'
 * validate_kzg_g1 does (compression flag set, canonical infinity, x below p,
 * on the curve, in the subgroup). 0 and *out, *inf (1 for the point at
 * infinity, out then unset); -1 and *why (a static message) otherwise. */
int rollup_g1_decode(const uint8_t in[48], rollup_g1_affine *out, int *inf, const char **why);

/* out = sum(scalars[i] * points[i]) for i < n; scalars are canonical
 * integers (4 little-endian limbs, below 2^255). A scratch of
 * rollup_g1_msm_scratch_size(n) bytes is passed in so the caller owns the
 * allocation (and its failure). */
size_t rollup_g1_msm_scratch_size(size_t n);
void rollup_g1_msm(rollup_g1 *out, const rollup_g1_affine *points, const uint64_t (*scalars)[4],
                   size_t n, void *scratch);

#endif
