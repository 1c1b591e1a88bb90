/* KZG commitments and proofs (rollup/eth/kzg.h). Known answers: the
 * c-kzg-4844 test vectors of blob_to_kzg_commitment, compute_blob_kzg_proof,
 * compute_challenge and compute_kzg_proof (tests/data/kzg/, converted by
 * make_vectors.py there), valid cases to the byte and invalid ones refused.
 * The built-in setup must equal c-kzg's trusted_setup.txt; verify_blobs must
 * accept matching sets and name the blob that does not match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/eth/bls12_381.h"
#include "rollup/eth/kzg.h"
#include "rollup/eth/kzg_internal.h"
#include "tests/unit/rollup/l1_anvil.h"
#include "tests/seed.h"
#include "util/hex.h"

#define DATA OL_SOURCE_DIR "/tests/data/kzg/"
#define NBLOBS 16

static struct {
    char id[16];
    uint8_t *blob; /* NULL when the vector's blob is not 131072 bytes */
} g_blobs[NBLOBS];
static size_t g_nblobs;
static uint64_t g_rng;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Reads a whole line of any length; NULL at the end. */
static char *read_line(FILE *f)
{
    size_t cap = 0;
    char *line = NULL;
    ssize_t n = getline(&line, &cap, f);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    return line;
}

static void load_blobs(void)
{
    if (g_nblobs) return;
    FILE *f = fopen(DATA "blobs.txt", "r");
    assert_non_null(f);
    char *line;
    while ((line = read_line(f)) != NULL) {
        char *sp = strchr(line, ' ');
        assert_non_null(sp);
        *sp = 0;
        assert_true(g_nblobs < NBLOBS && strlen(line) < sizeof g_blobs[0].id);
        snprintf(g_blobs[g_nblobs].id, sizeof g_blobs[0].id, "%s", line);
        if (strlen(sp + 1) == 2 * ROLLUP_BLOB_BYTES) {
            g_blobs[g_nblobs].blob = malloc(ROLLUP_BLOB_BYTES);
            assert_non_null(g_blobs[g_nblobs].blob);
            assert_int_equal(
                util_hex_decode_exact(g_blobs[g_nblobs].blob, ROLLUP_BLOB_BYTES, sp + 1), 0);
        }
        g_nblobs++;
        free(line);
    }
    fclose(f);
    assert_int_equal(g_nblobs, 11);
}

static const uint8_t *blob_by_id(const char *id, int *found)
{
    for (size_t i = 0; i < g_nblobs; i++) {
        if (strcmp(g_blobs[i].id, id) == 0) {
            *found = 1;
            return g_blobs[i].blob;
        }
    }
    *found = 0;
    return NULL;
}

/* Decodes hex of exactly n bytes; 0 when the vector's value has another
 * length (a case that must expect a refusal). */
static int hex_exact(uint8_t *out, size_t n, const char *hex)
{
    return strlen(hex) == 2 + 2 * n && util_hex_decode_exact(out, n, hex) == 0;
}

/* Every case of cases.txt, or only those of the kinds listed in `only`. */
static void run_vectors(const char *only)
{
    load_blobs();
    FILE *f = fopen(DATA "cases.txt", "r");
    assert_non_null(f);
    char *line;
    int counts[4][2] = {{0}};
    while ((line = read_line(f)) != NULL) {
        if (line[0] == '#') {
            free(line);
            continue;
        }
        char *fld[7] = {0};
        int nf = 0;
        for (char *tok = strtok(line, " "); tok && nf < 7; tok = strtok(NULL, " "))
            fld[nf++] = tok;
        assert_true(nf >= 4);
        if (only && !strstr(only, fld[0])) {
            free(line);
            continue;
        }
        int found;
        const uint8_t *blob = blob_by_id(fld[2], &found);
        assert_true(found);
        const char *want = fld[nf - 1];
        int valid = strcmp(want, "null") != 0;
        uint8_t c[48], got[48], z[32], y[32], exp[48], expy[32];
        util_err err = {0};
        int rc = -1, kind;
        if (strcmp(fld[0], "commit") == 0) {
            kind = 0;
            if (blob) rc = rollup_kzg_commit(blob, got, &err);
            if (valid) {
                assert_int_equal(rc, 0);
                assert_true(hex_exact(exp, 48, want));
                assert_memory_equal(got, exp, 48);
            }
        } else if (strcmp(fld[0], "blobproof") == 0) {
            kind = 1;
            if (blob && hex_exact(c, 48, fld[3])) rc = rollup_kzg_proof(blob, c, got, &err);
            if (valid) {
                assert_int_equal(rc, 0);
                assert_true(hex_exact(exp, 48, want));
                assert_memory_equal(got, exp, 48);
            }
        } else if (strcmp(fld[0], "challenge") == 0) {
            kind = 2;
            assert_true(blob && hex_exact(c, 48, fld[3]));
            rc = rollup_kzg_challenge(blob, c, z, &err);
            assert_int_equal(rc, 0);
            assert_true(hex_exact(exp, 32, want));
            assert_memory_equal(z, exp, 32);
        } else {
            kind = 3;
            assert_string_equal(fld[0], "kzgproof");
            if (blob && hex_exact(z, 32, fld[3])) rc = rollup_kzg_proof_at(blob, z, got, y, &err);
            if (valid) {
                assert_int_equal(nf, 6);
                assert_int_equal(rc, 0);
                assert_true(hex_exact(exp, 48, fld[4]));
                assert_true(hex_exact(expy, 32, fld[5]));
                assert_memory_equal(got, exp, 48);
                assert_memory_equal(y, expy, 32);
            }
        }
        if (!valid) {
            /* Refused with a message, or not even expressible (wrong length). */
            if (rc != -1) {
                assert_int_equal(rc, UTIL_EINVAL);
                assert_true(err.msg[0] != 0);
            }
        }
        counts[kind][valid]++;
        free(line);
    }
    fclose(f);
    if (only) return;
    printf("vectors: commit %d valid %d invalid, blob proof %d/%d, challenge %d, kzg proof %d/%d\n",
           counts[0][1], counts[0][0], counts[1][1], counts[1][0], counts[2][1], counts[3][1],
           counts[3][0]);
    assert_int_equal(counts[0][1], 7);
    assert_int_equal(counts[0][0], 4);
    assert_int_equal(counts[1][1], 7);
    assert_int_equal(counts[1][0], 8);
    assert_int_equal(counts[2][1], 9);
    assert_int_equal(counts[3][1], 42);
    assert_int_equal(counts[3][0], 10);
}

static void test_vectors(void **state)
{
    (void)state;
    run_vectors(NULL);
}

/* The portable multiplication, which CPUs without BMI2 and ADX run. */
static void test_vectors_portable(void **state)
{
    (void)state;
    int before = rollup_bls_portable(0);
    assert_int_equal(rollup_bls_portable(1), 1);
    run_vectors("commit blobproof");
    assert_int_equal(rollup_bls_portable(0), before);
}

/* The multiplications (BMI2/ADX and portable) agree, and subtraction undoes
 * addition, on the edges of the field: 0, 1, p - 1, p - 2, values with every
 * limb full, and a few random ones. */
static void test_fp_edges(void **state)
{
    (void)state;
    static const uint64_t P[6] = {0xb9feffffffffaaabu, 0x1eabfffeb153ffffu, 0x6730d2a0f6b0f624u,
                                  0x64774b84f38512bfu, 0x4b1ba7b6434bacd7u, 0x1a0111ea397fe69au};
    enum { NV = 12 };
    rollup_fp v[NV];
    memset(v, 0, sizeof v);
    v[1].l[0] = 1;
    memcpy(v[2].l, P, sizeof P);
    v[2].l[0] -= 1;
    memcpy(v[3].l, P, sizeof P);
    v[3].l[0] -= 2;
    for (int l = 0; l < 5; l++)
        v[4].l[l] = ~0ull; /* below p: the top limb is 0 */
    v[5].l[5] = P[5] - 1;  /* top limb only */
    memcpy(v[6].l, P, sizeof P);
    v[6].l[5] -= 1; /* p - 2^320 */
    for (int i = 7; i < NV; i++) {
        for (int l = 0; l < 6; l++)
            v[i].l[l] = rnd();
        v[i].l[5] %= P[5];
    }
    int before = rollup_bls_portable(0);
    for (int i = 0; i < NV; i++) {
        for (int j = 0; j < NV; j++) {
            rollup_fp a, b, d, e;
            rollup_bls_portable(1);
            rollup_fp_mul(&a, &v[i], &v[j]);
            rollup_bls_portable(0);
            rollup_fp_mul(&b, &v[i], &v[j]);
            assert_memory_equal(&a, &b, sizeof a);
            rollup_fp_sub(&d, &v[i], &v[j]);
            rollup_fp_add(&e, &d, &v[j]);
            assert_memory_equal(&e, &v[i], sizeof e);
            /* Results are fully reduced. */
            for (int l = 5; l >= 0; l--) {
                if (a.l[l] != P[l]) {
                    assert_true(a.l[l] < P[l]);
                    break;
                }
            }
        }
    }
    assert_int_equal(rollup_bls_portable(0), before);
}

static void msm(rollup_g1 *out, const rollup_g1_affine *pts, const uint64_t (*s)[4], size_t n)
{
    void *scratch = malloc(rollup_g1_msm_scratch_size(n));
    assert_non_null(scratch);
    rollup_g1_msm(out, pts, s, n, scratch);
    free(scratch);
}

/* The affine bucket sums of a large MSM against the Jacobian ones of a
 * small one, including what random scalars never produce: equal points in a
 * bucket (a doubling) and a point with its negation (infinity). */
static void test_msm_edges(void **state)
{
    (void)state;
    enum { NP = 100 };
    static rollup_g1_affine pts[NP];
    static uint64_t sc[NP][4];
    rollup_g1 big, want, one;
    uint64_t k[1][4] = {{NP, 0, 0, 0}};
    for (int i = 0; i < NP; i++) {
        pts[i] = rollup_kzg_setup_g1[7];
        memset(sc[i], 0, sizeof sc[i]);
        sc[i][0] = 1;
    }
    msm(&big, pts, (const uint64_t(*)[4])sc, NP);
    msm(&want, pts, (const uint64_t(*)[4])k, 1);
    assert_true(rollup_g1_eq(&big, &want));
    for (int i = 1; i < NP; i += 2)
        rollup_fp_neg(&pts[i].y, &pts[i].y);
    msm(&big, pts, (const uint64_t(*)[4])sc, NP);
    assert_true(rollup_g1_is_inf(&big));
    /* One bucket holding A, A, B and nothing else in any bucket: the pass
     * pairs A with A (equal x: the Jacobian bucket) and has no affine pair
     * left, but B must still move down to the bucket's first slot. */
    for (int i = 0; i < NP; i++)
        memset(sc[i], 0, sizeof sc[i]);
    pts[0] = pts[1] = rollup_kzg_setup_g1[3];
    pts[2] = rollup_kzg_setup_g1[5];
    sc[0][0] = sc[1][0] = sc[2][0] = 1;
    msm(&big, pts, (const uint64_t(*)[4])sc, NP);
    rollup_g1_set_inf(&want);
    for (int i = 0; i < 3; i++) {
        msm(&one, &pts[i], (const uint64_t(*)[4]) & sc[i], 1);
        rollup_g1_add(&want, &want, &one);
    }
    assert_true(rollup_g1_eq(&big, &want));
    /* Random scalars (some repeated, some zero) over repeated points. */
    rollup_g1_set_inf(&want);
    for (int i = 0; i < NP; i++) {
        pts[i] = rollup_kzg_setup_g1[(unsigned)(rnd() % 8)];
        if (i % 3 == 0) rollup_fp_neg(&pts[i].y, &pts[i].y);
        if (i % 5 == 0) {
            memcpy(sc[i], sc[i - (i ? 1 : 0)], sizeof sc[i]);
        } else {
            for (int l = 0; l < 4; l++)
                sc[i][l] = rnd();
            sc[i][3] &= 0x3fffffffffffffffu;
        }
        if (i % 7 == 0) memset(sc[i], 0, sizeof sc[i]);
        msm(&one, &pts[i], (const uint64_t(*)[4]) & sc[i], 1);
        rollup_g1_add(&want, &want, &one);
    }
    msm(&big, pts, (const uint64_t(*)[4])sc, NP);
    assert_true(rollup_g1_eq(&big, &want));
}

static unsigned brp12(unsigned i)
{
    unsigned r = 0;
    for (unsigned b = 0; b < 12; b++)
        r |= ((i >> b) & 1u) << (11 - b);
    return r;
}

/* The built-in points, decoded by a different path (the C decoder with its
 * square root and subgroup check), in the order c-kzg uses them. */
static void test_setup_matches_file(void **state)
{
    (void)state;
    FILE *f = fopen(DATA "trusted_setup_g1_lagrange.txt", "r");
    assert_non_null(f);
    static uint8_t enc[ROLLUP_KZG_SETUP_N][48];
    char *line;
    unsigned n = 0;
    while ((line = read_line(f)) != NULL) {
        assert_true(n < ROLLUP_KZG_SETUP_N);
        assert_int_equal(util_hex_decode_exact(enc[n++], 48, line), 0);
        free(line);
    }
    fclose(f);
    assert_int_equal(n, ROLLUP_KZG_SETUP_N);
    for (unsigned i = 0; i < ROLLUP_KZG_SETUP_N; i++) {
        rollup_g1_affine a;
        int inf = 1;
        const char *why = NULL;
        assert_int_equal(rollup_g1_decode(enc[brp12(i)], &a, &inf, &why), 0);
        assert_int_equal(inf, 0);
        assert_memory_equal(&a, &rollup_kzg_setup_g1[i], sizeof a);
        rollup_g1 p;
        uint8_t back[48];
        rollup_g1_from_affine(&p, &rollup_kzg_setup_g1[i]);
        rollup_g1_encode(&p, back);
        assert_memory_equal(back, enc[brp12(i)], 48);
    }
}

static void expect_point_refused(const uint8_t in[48], const char *why)
{
    util_err err = {0};
    assert_int_equal(rollup_kzg_check_point(in, &err), UTIL_EINVAL);
    if (!strstr(err.msg, why)) fail_msg("'%s' does not say '%s'", err.msg, why);
}

static void test_point_encodings(void **state)
{
    (void)state;
    uint8_t p[48] = {0};
    util_err err = {0};
    p[0] = 0xc0; /* infinity */
    assert_int_equal(rollup_kzg_check_point(p, &err), 0);
    p[0] = 0xe0; /* infinity with the sign bit */
    expect_point_refused(p, "infinity");
    p[0] = 0xc0;
    p[47] = 1;
    expect_point_refused(p, "infinity");
    p[47] = 0;
    p[0] = 0x40; /* infinity, uncompressed flag */
    expect_point_refused(p, "compressed");
    /* x = p: not below the modulus. */
    assert_int_equal(util_hex_decode_exact(p, 48,
                                           "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a"
                                           "0f6b0f6241eabfffeb153ffffb9feffffffffaaab"),
                     0);
    p[0] |= 0x80;
    expect_point_refused(p, "modulus");
    /* x = 0: (0, 2) is on the curve but of order 3. */
    memset(p, 0, sizeof p);
    p[0] = 0x80;
    expect_point_refused(p, "subgroup");
    /* x = 1: 1 + 4 = 5 is not a square mod p. */
    p[47] = 1;
    expect_point_refused(p, "curve");
    /* A valid commitment with the sign flipped is the negated point: valid
     * too; without the compression flag it is refused. */
    assert_int_equal(util_hex_decode_exact(
                         p, 48,
                         "a572cbea904d67468808c8eb50a9450c9721db309128012543902d0ac358a62ae28f75"
                         "bb8f1c7c42c39a8c5529bf0f4e"),
                     0);
    assert_int_equal(rollup_kzg_check_point(p, &err), 0);
    p[0] ^= 0x20;
    assert_int_equal(rollup_kzg_check_point(p, &err), 0);
    p[0] &= 0x7f;
    expect_point_refused(p, "compressed");
}

static void test_versioned_hash(void **state)
{
    (void)state;
    uint8_t c[48] = {0xc0}, h[32], want[32];
    rollup_kzg_versioned_hash(c, h);
    assert_int_equal(
        util_hex_decode_exact(want, 32,
                              "010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014"),
        0);
    assert_memory_equal(h, want, 32);
}

/* A blob of random canonical elements (first byte of each 0). */
static void random_blob(uint8_t *b)
{
    for (size_t i = 0; i < ROLLUP_BLOB_BYTES; i += 8) {
        uint64_t v = rnd();
        memcpy(b + i, &v, 8);
    }
    for (size_t i = 0; i < ROLLUP_BLOB_BYTES; i += 32)
        b[i] = 0;
}

static void test_verify_blobs(void **state)
{
    (void)state;
    enum { NB = 6 };
    uint8_t *blobs[NB];
    uint8_t com[NB][48];
    util_err err = {0};
    for (int j = 0; j < NB; j++) {
        blobs[j] = malloc(ROLLUP_BLOB_BYTES);
        assert_non_null(blobs[j]);
        random_blob(blobs[j]);
        if (j == 2) memset(blobs[j], 0, ROLLUP_BLOB_BYTES); /* commits to infinity */
        assert_int_equal(rollup_kzg_commit(blobs[j], com[j], &err), 0);
    }
    assert_int_equal(com[2][0], 0xc0);
    const uint8_t *const *bp = (const uint8_t *const *)blobs;
    for (size_t n = 1; n <= NB; n++) {
        size_t bad = 99;
        assert_int_equal(rollup_kzg_verify_blobs(bp, com, n, &bad, &err), 0);
        assert_int_equal(bad, 99);
    }
    /* One bit of one blob: the combination fails and the blob is named. */
    size_t k = (size_t)(rnd() % NB), bad = 99;
    size_t bit = (size_t)(rnd() % (31 * 8));
    size_t at = 32 * (size_t)(rnd() % ROLLUP_BLOB_FIELD_ELEMENTS) + 1 + bit / 8;
    blobs[k][at] ^= (uint8_t)(1u << (bit % 8));
    assert_int_equal(rollup_kzg_verify_blobs(bp, com, NB, &bad, &err), UTIL_EINVAL);
    assert_int_equal(bad, k);
    assert_non_null(strstr(err.msg, "does not match"));
    /* Alone as well (n = 1 takes no random coefficient). */
    bad = 99;
    assert_int_equal(rollup_kzg_verify_blobs(bp + k, com + k, 1, &bad, &err), UTIL_EINVAL);
    assert_int_equal(bad, 0);
    blobs[k][at] ^= (uint8_t)(1u << (bit % 8));
    /* Two commitments swapped: the first of the two is named. */
    uint8_t swapped[NB][48];
    memcpy(swapped, com, sizeof swapped);
    memcpy(swapped[3], com[4], 48);
    memcpy(swapped[4], com[3], 48);
    assert_int_equal(rollup_kzg_verify_blobs(bp, swapped, NB, &bad, &err), UTIL_EINVAL);
    assert_int_equal(bad, 3);
    /* An invalid commitment encoding (the top bit of x set past p). */
    memcpy(swapped, com, sizeof swapped);
    swapped[5][0] = 0x9f;
    assert_int_equal(rollup_kzg_verify_blobs(bp, swapped, NB, &bad, &err), UTIL_EINVAL);
    assert_int_equal(bad, 5);
    assert_non_null(strstr(err.msg, "commitment 5"));
    /* A non-canonical blob element. */
    blobs[1][32 * 7] = 0xff;
    assert_int_equal(rollup_kzg_verify_blobs(bp, com, NB, &bad, &err), UTIL_EINVAL);
    assert_int_equal(bad, 1);
    assert_non_null(strstr(err.msg, "field element 7"));
    for (int j = 0; j < NB; j++)
        free(blobs[j]);
}

/* anvil's point evaluation precompile (EIP-4844, address 0x0a, c-kzg or
 * an equivalent behind it) checks our proofs with a pairing: the check this
 * module cannot make itself. Input: versioned hash | z | y | commitment |
 * proof; output 4096 and r on success, an error otherwise. */
static int point_evaluation(const char *url, const uint8_t c[48], const uint8_t z[32],
                            const uint8_t y[32], const uint8_t proof[48])
{
    uint8_t in[192];
    rollup_kzg_versioned_hash(c, in);
    memcpy(in + 32, z, 32);
    memcpy(in + 64, y, 32);
    memcpy(in + 96, c, 48);
    memcpy(in + 144, proof, 48);
    char hex[2 * sizeof in + 1], params[600];
    util_hex_encode(hex, in, sizeof in);
    snprintf(params, sizeof params,
             "[{\"to\":\"0x000000000000000000000000000000000000000a\",\"data\":\"0x%s\"},"
             "\"latest\"]",
             hex);
    json_t *r = l1_rpc(url, "eth_call", params);
    int ok = r && json_is_string(r) &&
             strcmp(json_string_value(r),
                    "0x0000000000000000000000000000000000000000000000000000000000001000"
                    "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001") == 0;
    json_decref(r);
    return ok;
}

static void test_anvil_point_evaluation(void **state)
{
    l1_anvil *a = *state;
    uint8_t *blob = malloc(ROLLUP_BLOB_BYTES);
    assert_non_null(blob);
    util_err err = {0};
    for (int round = 0; round < 3; round++) {
        random_blob(blob);
        if (round == 2) memset(blob + 4096, 0, ROLLUP_BLOB_BYTES - 4096); /* mostly zeros */
        uint8_t c[48], proof[48], p2[48], z[32], y[32];
        assert_int_equal(rollup_kzg_commit(blob, c, &err), 0);
        assert_int_equal(rollup_kzg_proof(blob, c, proof, &err), 0);
        assert_int_equal(rollup_kzg_challenge(blob, c, z, &err), 0);
        assert_int_equal(rollup_kzg_proof_at(blob, z, p2, y, &err), 0);
        assert_memory_equal(proof, p2, 48);
        assert_true(point_evaluation(a->url, c, z, y, proof));
        /* Inside the evaluation domain: z = 1 is the first root of unity. */
        memset(z, 0, sizeof z);
        z[31] = 1;
        assert_int_equal(rollup_kzg_proof_at(blob, z, p2, y, &err), 0);
        assert_memory_equal(y, blob, 32); /* the blob's first element is p(1) */
        assert_true(point_evaluation(a->url, c, z, y, p2));
        /* And the precompile does refuse: a wrong y. */
        y[31] ^= 1;
        assert_false(point_evaluation(a->url, c, z, y, p2));
    }
    free(blob);
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < g_nblobs; i++)
        free(g_blobs[i].blob);
    return 0;
}

static l1_anvil g_anvil;

int main(void)
{
    util_err err;
    if (rollup_kzg_init(&err) != 0) return 1;
    g_rng = ol_test_seed("test_kzg", 0x6b7a67u);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_point_encodings),
        cmocka_unit_test(test_versioned_hash),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_setup_matches_file),
        cmocka_unit_test(test_verify_blobs),
        cmocka_unit_test(test_vectors_portable),
        cmocka_unit_test(test_msm_edges),
        cmocka_unit_test(test_fp_edges),
        L1_ANVIL_TEST(test_anvil_point_evaluation, &g_anvil),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
