/* KZG commitments and proofs for EIP-4844 blobs (rollup/eth/kzg.h), after
 * the consensus specs' deneb/polynomial-commitments.md: the scalar field Fr
 * (4 x 64-bit Montgomery), the blob's polynomial in evaluation form over the
 * 4096th roots of unity in bit-reversed order, the Fiat-Shamir challenge,
 * the quotient at the challenge, and the multi-scalar multiplications over
 * the built-in setup (rollup/eth/bls12_381.c). */
#include "rollup/eth/kzg.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "rollup/eth/bls12_381.h"
#include "rollup/eth/kzg_internal.h"

#define N ROLLUP_BLOB_FIELD_ELEMENTS

__extension__ typedef unsigned __int128 u128;

/* An element of Fr: little-endian limbs, Montgomery form unless a name says
 * "canon" (then the plain integer, as the MSM takes it). */
typedef struct {
    uint64_t l[4];
} fr;

/* r, -r^-1 mod 2^64, 2^256 mod r (one), 2^512 mod r, r - 2, and the
 * primitive 4096th root of unity 7^((r-1)/4096) of the specs (plain). */
static const uint64_t R[4] = {0xffffffff00000001u, 0x53bda402fffe5bfeu, 0x3339d80809a1d805u,
                              0x73eda753299d7d48u};
static const uint64_t RINV = 0xfffffffeffffffffu;
static const fr FR_ONE = {
    {0x00000001fffffffeu, 0x5884b7fa00034802u, 0x998c4fefecbc4ff5u, 0x1824b159acc5056fu}};
static const fr FR_R2 = {
    {0xc999e990f3f29c6du, 0x2b6cedcb87925c23u, 0x05d314967254398fu, 0x0748d9d99f59ff11u}};
static const uint64_t R_MINUS_2[4] = {0xfffffffeffffffffu, 0x53bda402fffe5bfeu, 0x3339d80809a1d805u,
                                      0x73eda753299d7d48u};
static const uint64_t OMEGA_4096[4] = {0xe206da11a5d36306u, 0x0ad1347b378fbf96u,
                                       0xfc3e8acfe0f8245fu, 0x564c0a11a0f704f4u};

static int geq4(const uint64_t *a, const uint64_t *b)
{
    for (int i = 3; i >= 0; i--) {
        if (a[i] != b[i]) return a[i] > b[i];
    }
    return 1;
}

static uint64_t sub4(uint64_t *r, const uint64_t *a, const uint64_t *b)
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a[i] - b[i] - borrow;
        r[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    return borrow;
}

static void add4(uint64_t *r, const uint64_t *a, const uint64_t *b)
{
    u128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (u128)a[i] + b[i];
        r[i] = (uint64_t)c;
        c >>= 64;
    }
}

static void fr_add(fr *r, const fr *a, const fr *b)
{
    /* a + b < 2r < 2^256. */
    add4(r->l, a->l, b->l);
    if (geq4(r->l, R)) sub4(r->l, r->l, R);
}

static void fr_sub(fr *r, const fr *a, const fr *b)
{
    if (sub4(r->l, a->l, b->l)) add4(r->l, r->l, R);
}

static int fr_eq(const fr *a, const fr *b)
{
    return memcmp(a->l, b->l, sizeof a->l) == 0;
}

/* Montgomery product a * b / 2^256 mod r: with a plain and b in Montgomery
 * form it is the plain product, which verify_blobs uses. */
static void fr_mul(fr *r, const fr *a, const fr *b)
{
    uint64_t t[6] = {0};
    for (int i = 0; i < 4; i++) {
        u128 c = 0;
        for (int j = 0; j < 4; j++) {
            c += (u128)a->l[j] * b->l[i] + t[j];
            t[j] = (uint64_t)c;
            c >>= 64;
        }
        c += t[4];
        t[4] = (uint64_t)c;
        t[5] = (uint64_t)(c >> 64);
        uint64_t m = t[0] * RINV;
        c = (u128)m * R[0] + t[0];
        c >>= 64;
        for (int j = 1; j < 4; j++) {
            c += (u128)m * R[j] + t[j];
            t[j - 1] = (uint64_t)c;
            c >>= 64;
        }
        c += t[4];
        t[3] = (uint64_t)c;
        t[4] = t[5] + (uint64_t)(c >> 64);
    }
    if (t[4] || geq4(t, R)) sub4(t, t, R);
    memcpy(r->l, t, sizeof r->l);
}

static void fr_pow(fr *r, const fr *a, const uint64_t e[4])
{
    fr acc = FR_ONE;
    for (int i = 255; i >= 0; i--) {
        fr_mul(&acc, &acc, &acc);
        if ((e[i / 64] >> (i % 64)) & 1) fr_mul(&acc, &acc, a);
    }
    *r = acc;
}

static void fr_inv(fr *r, const fr *a)
{
    fr_pow(r, a, R_MINUS_2);
}

/* Any integer below 2^256 (plain limbs) to Montgomery form mod r. */
static void fr_from_plain(fr *r, const uint64_t v[4])
{
    fr t;
    memcpy(t.l, v, sizeof t.l);
    fr_mul(r, &t, &FR_R2);
}

static void fr_to_plain(uint64_t v[4], const fr *a)
{
    static const fr one = {{1, 0, 0, 0}};
    fr t;
    fr_mul(&t, a, &one);
    memcpy(v, t.l, sizeof t.l);
}

static void be32_to_limbs(uint64_t v[4], const uint8_t b[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t x = 0;
        for (int k = 0; k < 8; k++)
            x = x << 8 | b[8 * (3 - i) + k];
        v[i] = x;
    }
}

static void limbs_to_be32(uint8_t b[32], const uint64_t v[4])
{
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(v[3 - i / 8] >> (56 - 8 * (i % 8)));
}

/* Every out[i] = 1 / in[i] (all non-zero) with one inversion: prefix
 * products, then back. out and in do not alias. */
static void fr_batch_inv(fr *out, const fr *in, size_t n)
{
    fr acc = FR_ONE;
    for (size_t i = 0; i < n; i++) {
        out[i] = acc;
        fr_mul(&acc, &acc, &in[i]);
    }
    fr inv;
    fr_inv(&inv, &acc);
    for (size_t i = n; i-- > 0;) {
        fr_mul(&out[i], &out[i], &inv);
        fr_mul(&inv, &inv, &in[i]);
    }
}

/* ---- the setup: roots of unity (the G1 points are built in) ---- */

static fr g_roots_brp[N]; /* omega^brp(i), Montgomery form */
static fr g_inv_n;        /* 1 / 4096 */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void setup_load(void)
{
    rollup_bls_init();
    fr w, x = FR_ONE;
    fr_from_plain(&w, OMEGA_4096);
    for (unsigned i = 0; i < N; i++) {
        unsigned rev = 0;
        for (unsigned b = 0; b < 12; b++)
            rev |= ((i >> b) & 1u) << (11 - b);
        g_roots_brp[rev] = x;
        fr_mul(&x, &x, &w);
    }
    uint64_t n_plain[4] = {N, 0, 0, 0};
    fr n_fr;
    fr_from_plain(&n_fr, n_plain);
    fr_inv(&g_inv_n, &n_fr);
    chain_hash_init();
}

static void setup(void)
{
    pthread_once(&g_once, setup_load);
}

int rollup_kzg_init(util_err *err)
{
    setup();
    return 0;
}

/* ---- blobs and points ---- */

/* The blob's field elements as plain integers; UTIL_EINVAL for one at or
 * above r. */
static int blob_parse(const uint8_t *blob, uint64_t (*out)[4], const char *what, util_err *err)
{
    for (size_t i = 0; i < N; i++) {
        be32_to_limbs(out[i], blob + 32 * i);
        if (geq4(out[i], R))
            return util_err_set(err, UTIL_EINVAL, "%sfield element %zu is not below the modulus",
                                what, i);
    }
    return 0;
}

/* sum(s[i] * setup[i]), into 48 bytes. */
static int commit_scalars(const uint64_t (*s)[4], uint8_t out[48], rollup_g1 *pt, util_err *err)
{
    void *scratch = malloc(rollup_g1_msm_scratch_size(N));
    if (!scratch) return util_err_set(err, UTIL_ENOMEM, "kzg: out of memory");
    rollup_g1 p;
    rollup_g1_msm(&p, rollup_kzg_setup_g1, s, N, scratch);
    free(scratch);
    if (out) rollup_g1_encode(&p, out);
    if (pt) *pt = p;
    return 0;
}

int rollup_kzg_commit(const uint8_t blob[ROLLUP_BLOB_BYTES],
                      uint8_t commitment[ROLLUP_KZG_COMMITMENT_BYTES], util_err *err)
{
    setup();
    uint64_t(*s)[4] = malloc(N * sizeof *s);
    if (!s) return util_err_set(err, UTIL_ENOMEM, "kzg: out of memory");
    int rc = blob_parse(blob, s, "blob: ", err);
    if (rc == 0) rc = commit_scalars(s, commitment, NULL, err);
    free(s);
    return rc;
}

int rollup_kzg_check_point(const uint8_t in[ROLLUP_KZG_COMMITMENT_BYTES], util_err *err)
{
    setup();
    rollup_g1_affine a;
    int inf;
    const char *why;
    if (rollup_g1_decode(in, &a, &inf, &why) != 0)
        return util_err_set(err, UTIL_EINVAL, "commitment: %s", why);
    return 0;
}

void rollup_kzg_versioned_hash(const uint8_t commitment[ROLLUP_KZG_COMMITMENT_BYTES],
                               uint8_t out[32])
{
    chain_sha256(out, commitment, ROLLUP_KZG_COMMITMENT_BYTES);
    out[0] = 0x01;
}

/* ---- proofs ---- */

/* hash_to_bls_field(sha256(domain || degree (16 bytes) || blob || commitment)). */
static int challenge(const uint8_t *blob, const uint8_t commitment[48], fr *z, util_err *err)
{
    static const char domain[16] = {'F', 'S', 'B', 'L', 'O', 'B', 'V', 'E',
                                    'R', 'I', 'F', 'Y', '_', 'V', '1', '_'};
    uint8_t degree[16] = {0};
    degree[14] = (uint8_t)(N >> 8);
    degree[15] = (uint8_t)(N & 0xff);
    chain_sha256_ctx c;
    if (chain_sha256_begin(&c) != 0) return util_err_set(err, UTIL_ENOMEM, "kzg: out of memory");
    chain_sha256_update(&c, domain, sizeof domain);
    chain_sha256_update(&c, degree, sizeof degree);
    chain_sha256_update(&c, blob, ROLLUP_BLOB_BYTES);
    chain_sha256_update(&c, commitment, 48);
    uint8_t h[32];
    chain_sha256_final(&c, h);
    chain_sha256_free(&c);
    uint64_t v[4];
    be32_to_limbs(v, h);
    fr_from_plain(z, v); /* reduces mod r: v < 2^256 */
    return 0;
}

int rollup_kzg_challenge(const uint8_t blob[ROLLUP_BLOB_BYTES],
                         const uint8_t commitment[ROLLUP_KZG_COMMITMENT_BYTES], uint8_t z[32],
                         util_err *err)
{
    setup();
    int rc = rollup_kzg_check_point(commitment, err);
    if (rc) return rc;
    fr zf;
    rc = challenge(blob, commitment, &zf, err);
    if (rc) return rc;
    uint64_t v[4];
    fr_to_plain(v, &zf);
    limbs_to_be32(z, v);
    return 0;
}

/* compute_kzg_proof_impl: the quotient (p(x) - y) / (x - z) in evaluation
 * form, committed to. poly and the work arrays hold N elements; q (N plain
 * scalars) may share memory with nothing else. */
static int proof_impl(const fr *poly, const fr *z, uint8_t proof[48], fr *y_out, util_err *err)
{
    fr *den = malloc(2 * N * sizeof *den);
    uint64_t(*q)[4] = malloc(N * sizeof *q);
    if (!den || !q) {
        free(den);
        free(q);
        return util_err_set(err, UTIL_ENOMEM, "kzg: out of memory");
    }
    fr *inv = den + N;
    /* m: 1 + the index of z in the domain, or 0. */
    size_t m = 0;
    for (size_t i = 0; i < N; i++) {
        if (fr_eq(z, &g_roots_brp[i])) {
            m = i + 1;
            den[i] = FR_ONE;
        } else {
            fr_sub(&den[i], z, &g_roots_brp[i]);
        }
    }
    fr y = {{0}}, t;
    if (m) {
        y = poly[m - 1];
    } else {
        /* Barycentric: y = (z^N - 1) / N * sum(p_i * w_i / (z - w_i)). */
        fr_batch_inv(inv, den, N);
        for (size_t i = 0; i < N; i++) {
            fr_mul(&t, &inv[i], &g_roots_brp[i]);
            fr_mul(&t, &t, &poly[i]);
            fr_add(&y, &y, &t);
        }
        fr zn = *z;
        for (int k = 0; k < 12; k++)
            fr_mul(&zn, &zn, &zn);
        fr_sub(&zn, &zn, &FR_ONE);
        fr_mul(&y, &y, &zn);
        fr_mul(&y, &y, &g_inv_n);
    }
    /* q_i = (p_i - y) / (w_i - z) = (y - p_i) / (z - w_i) off the point z. */
    if (m) fr_batch_inv(inv, den, N);
    fr qm = {{0}};
    for (size_t i = 0; i < N; i++) {
        fr qi = {{0}};
        if (i + 1 != m) {
            fr_sub(&t, &y, &poly[i]);
            fr_mul(&qi, &t, &inv[i]);
        }
        fr_to_plain(q[i], &qi);
    }
    if (m) {
        /* At w_m = z: q_m = sum over i != m of (p_i - y) * w_i / (z * (z - w_i)). */
        for (size_t i = 0; i < N; i++) {
            if (i + 1 == m) continue;
            fr_mul(&den[i], &den[i], z);
        }
        fr_batch_inv(inv, den, N);
        for (size_t i = 0; i < N; i++) {
            if (i + 1 == m) continue;
            fr_sub(&t, &poly[i], &y);
            fr_mul(&t, &t, &g_roots_brp[i]);
            fr_mul(&t, &t, &inv[i]);
            fr_add(&qm, &qm, &t);
        }
        fr_to_plain(q[m - 1], &qm);
    }
    free(den);
    int rc = commit_scalars((const uint64_t(*)[4])q, proof, NULL, err);
    free(q);
    if (rc == 0) *y_out = y;
    return rc;
}

/* The blob's polynomial, Montgomery form; UTIL_EINVAL for a bad blob. */
static int blob_poly(const uint8_t *blob, fr *poly, util_err *err)
{
    for (size_t i = 0; i < N; i++) {
        uint64_t v[4];
        be32_to_limbs(v, blob + 32 * i);
        if (geq4(v, R))
            return util_err_set(err, UTIL_EINVAL,
                                "blob: field element %zu is not below the modulus", i);
        fr_from_plain(&poly[i], v);
    }
    return 0;
}

int rollup_kzg_proof_at(const uint8_t blob[ROLLUP_BLOB_BYTES], const uint8_t z[32],
                        uint8_t proof[ROLLUP_KZG_PROOF_BYTES], uint8_t y[32], util_err *err)
{
    setup();
    uint64_t zv[4];
    be32_to_limbs(zv, z);
    if (geq4(zv, R)) return util_err_set(err, UTIL_EINVAL, "z is not below the modulus");
    fr *poly = malloc(N * sizeof *poly);
    if (!poly) return util_err_set(err, UTIL_ENOMEM, "kzg: out of memory");
    fr zf, yf;
    fr_from_plain(&zf, zv);
    uint8_t pr[48];
    int rc = blob_poly(blob, poly, err);
    if (rc == 0) rc = proof_impl(poly, &zf, pr, &yf, err);
    free(poly);
    if (rc) return rc;
    memcpy(proof, pr, 48);
    fr_to_plain(zv, &yf);
    limbs_to_be32(y, zv);
    return 0;
}

int rollup_kzg_proof(const uint8_t blob[ROLLUP_BLOB_BYTES],
                     const uint8_t commitment[ROLLUP_KZG_COMMITMENT_BYTES],
                     uint8_t proof[ROLLUP_KZG_PROOF_BYTES], util_err *err)
{
    setup();
    int rc = rollup_kzg_check_point(commitment, err);
    if (rc) return rc;
    fr *poly = malloc(N * sizeof *poly);
    if (!poly) return util_err_set(err, UTIL_ENOMEM, "kzg: out of memory");
    fr z, y;
    uint8_t pr[48];
    rc = blob_poly(blob, poly, err);
    if (rc == 0) rc = challenge(blob, commitment, &z, err);
    if (rc == 0) rc = proof_impl(poly, &z, pr, &y, err);
    free(poly);
    if (rc == 0) memcpy(proof, pr, 48);
    return rc;
}

/* ---- checking blobs against commitments ---- */

/* The first j whose blob does not commit to commitments[j], by committing
 * each; n when all do. -1 (err set) on allocation failure. */
static long first_mismatch(const uint8_t *const *blobs, const uint8_t (*commitments)[48], size_t n,
                           uint64_t (*s)[4], util_err *err)
{
    for (size_t j = 0; j < n; j++) {
        uint8_t c[48];
        if (blob_parse(blobs[j], s, "", err) != 0) return (long)j; /* checked before */
        if (commit_scalars((const uint64_t(*)[4])s, c, NULL, err) != 0) return -1;
        if (memcmp(c, commitments[j], 48) != 0) return (long)j;
    }
    return (long)n;
}

int rollup_kzg_verify_blobs(const uint8_t *const *blobs,
                            const uint8_t (*commitments)[ROLLUP_KZG_COMMITMENT_BYTES], size_t n,
                            size_t *bad, util_err *err)
{
    setup();
    if (n == 0) return 0;
    rollup_g1_affine *pts = malloc(n * sizeof *pts);
    uint64_t(*coef)[4] = calloc(n, sizeof *coef);
    uint64_t(*s)[4] = malloc(N * sizeof *s);
    uint64_t(*sum)[4] = calloc(N, sizeof *sum);
    void *scratch = NULL;
    int rc = 0;
    if (!pts || !coef || !s || !sum) {
        rc = util_err_set(err, UTIL_ENOMEM, "kzg: out of memory");
        goto out;
    }
    /* Commitments from L1 calldata and blobs from a beacon endpoint: both
     * checked before any arithmetic, in index order. */
    size_t npts = 0;
    uint8_t rnd[16];
    int have_rnd = 1;
    for (size_t j = 0; j < n; j++) {
        int inf;
        const char *why;
        rollup_g1_affine a;
        if (rollup_g1_decode(commitments[j], &a, &inf, &why) != 0) {
            if (bad) *bad = j;
            rc = util_err_set(err, UTIL_EINVAL, "commitment %zu: %s", j, why);
            goto out;
        }
        char what[32];
        snprintf(what, sizeof what, "blob %zu: ", j);
        rc = blob_parse(blobs[j], s, what, err);
        if (rc) {
            if (bad) *bad = j;
            goto out;
        }
        /* c_j: 128 random bits (c_0 = 1 when there is one blob: the check
         * is then exact). */
        fr c = FR_ONE;
        if (n > 1) {
            uint64_t v[4] = {0};
            if (RAND_bytes(rnd, sizeof rnd) != 1) have_rnd = 0;
            for (int k = 0; k < 16; k++)
                v[k / 8] |= (uint64_t)rnd[k] << (8 * (k % 8));
            fr_from_plain(&c, v);
            memcpy(coef[npts], v, sizeof v);
        } else {
            coef[npts][0] = 1;
        }
        if (!inf) pts[npts++] = a;
        for (size_t i = 0; i < N; i++) {
            fr t, acc;
            memcpy(t.l, s[i], sizeof t.l);
            fr_mul(&t, &t, &c); /* plain * Montgomery = plain */
            memcpy(acc.l, sum[i], sizeof acc.l);
            fr_add(&acc, &acc, &t);
            memcpy(sum[i], acc.l, sizeof acc.l);
        }
    }
    int ok = 0;
    if (have_rnd) {
        rollup_g1 lhs, rhs;
        rc = commit_scalars((const uint64_t(*)[4])sum, NULL, &lhs, err);
        if (rc) goto out;
        scratch = malloc(rollup_g1_msm_scratch_size(npts));
        if (!scratch) {
            rc = util_err_set(err, UTIL_ENOMEM, "kzg: out of memory");
            goto out;
        }
        rollup_g1_msm(&rhs, pts, (const uint64_t(*)[4])coef, npts, scratch);
        ok = rollup_g1_eq(&lhs, &rhs);
    }
    if (!ok) {
        /* Without randomness, or on a mismatch: blob by blob. */
        long j = first_mismatch(blobs, commitments, n, s, err);
        if (j < 0) {
            rc = UTIL_ENOMEM;
        } else if ((size_t)j < n) {
            if (bad) *bad = (size_t)j;
            rc = util_err_set(err, UTIL_EINVAL, "blob %ld does not match its commitment", j);
        }
    }
out:
    free(pts);
    free(coef);
    free(s);
    free(sum);
    free(scratch);
    return rc;
}
