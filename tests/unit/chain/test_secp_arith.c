/* The secp256k1 arithmetic under the batch verification
 * (chain/crypto/secp_arith.h): field and scalar operations against OpenSSL
 * BIGNUM, point operations against libsecp256k1's public API (pubkey
 * combine and tweak_mul), the multi-scalar multiplication against a plain
 * sum, on random and edge values, with the mulx/adx multiplication and the
 * portable C one. OL_TEST_SEED replays a run. The C add and sub (asm on
 * x86-64) are tested by building this file and the two sources with
 * CHAIN_SECP_NO_ASM: gcc -std=gnu11 -DCHAIN_SECP_NO_ASM -DOL_SOURCE_DIR='"."'
 * -I. tests/unit/chain/test_secp_arith.c chain/crypto/secp_arith.c
 * chain/crypto/secp_msm.c -lcmocka -lcrypto -lsecp256k1 -lpthread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <secp256k1.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/secp_arith.h"
#include "tests/seed.h"

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static BIGNUM *P, *N;
static BN_CTX *bctx;
static secp256k1_context *sctx;

static int setup(void **state)
{
    (void)state;
    rng = ol_test_seed("test_secp_arith", 0xa417e5ec9ull);
    assert_true(BN_hex2bn(&P, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F") >
                0);
    assert_true(BN_hex2bn(&N, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141") >
                0);
    bctx = BN_CTX_new();
    sctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    assert_true(bctx && sctx);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    BN_free(P);
    BN_free(N);
    BN_CTX_free(bctx);
    secp256k1_context_destroy(sctx);
    return 0;
}

static BIGNUM *bn_of(const uint8_t b[32])
{
    BIGNUM *x = BN_bin2bn(b, 32, NULL);
    assert_non_null(x);
    return x;
}

static void bn_to(uint8_t b[32], const BIGNUM *x)
{
    assert_int_equal(BN_bn2binpad(x, b, 32), 32);
}

/* m + d (d may be negative) as 32 bytes. */
static void near(uint8_t b[32], const BIGNUM *m, long d)
{
    BIGNUM *x = BN_dup(m);
    assert_non_null(x);
    if (d < 0)
        assert_true(BN_sub_word(x, (BN_ULONG)-d));
    else
        assert_true(BN_add_word(x, (BN_ULONG)d));
    bn_to(b, x);
    BN_free(x);
}

/* Edge and random 32-byte values below m: 0, 1, 2, m - 1, m - 2, 2^255,
 * 2^64 - 1, then random ones (some with all-ones or all-zero limbs). */
static void value(uint8_t b[32], const BIGNUM *m, int k)
{
    memset(b, 0, 32);
    switch (k) {
    case 0: return;
    case 1: b[31] = 1; return;
    case 2: b[31] = 2; return;
    case 3: near(b, m, -1); return;
    case 4: near(b, m, -2); return;
    case 5: b[0] = 0x80; return;
    case 6: memset(b + 24, 0xff, 8); return;
    default: break;
    }
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)rnd();
    if (k % 5 == 0) memset(b + 8 * (rnd() % 4), 0xff, 8);
    if (k % 7 == 0) memset(b + 8 * (rnd() % 4), 0, 8);
    BIGNUM *x = bn_of(b);
    assert_true(BN_nnmod(x, x, m, bctx));
    bn_to(b, x);
    BN_free(x);
}

static void fe_of(chain_fe *r, const uint8_t b[32])
{
    assert_int_equal(chain_fe_set_b32(r, b), 1);
}

static void check_fe(const chain_fe *got, const BIGNUM *want)
{
    uint8_t a[32], w[32];
    chain_fe_get_b32(a, got);
    bn_to(w, want);
    assert_memory_equal(a, w, 32);
}

static void field_ops(void)
{
    BIGNUM *r = BN_new(), *e = BN_new();
    assert_true(r && e);
    assert_true(BN_add_word(BN_copy(e, P), 1) && BN_rshift(e, e, 2)); /* (p + 1) / 4 */
    int squares = 0;
    for (int i = 0; i < 400; i++) {
        uint8_t ab[32], bb[32];
        /* Every pair of the edge values first, then mostly random ones. */
        value(ab, P, i < 49 ? i / 7 : i % 50);
        value(bb, P, i < 49 ? i % 7 : (i / 50 + 3 * i) % 50);
        BIGNUM *a = bn_of(ab), *b = bn_of(bb);
        chain_fe fa, fb, fr;
        fe_of(&fa, ab);
        fe_of(&fb, bb);
        chain_fe_add(&fr, &fa, &fb);
        assert_true(BN_mod_add(r, a, b, P, bctx));
        check_fe(&fr, r);
        chain_fe_sub(&fr, &fa, &fb);
        assert_true(BN_mod_sub(r, a, b, P, bctx));
        check_fe(&fr, r);
        chain_fe_neg(&fr, &fa);
        assert_true(BN_mod_sub(r, P, a, P, bctx));
        check_fe(&fr, r);
        chain_fe_mul(&fr, &fa, &fb);
        assert_true(BN_mod_mul(r, a, b, P, bctx));
        check_fe(&fr, r);
        fr = fa;
        chain_fe_mul(&fr, &fr, &fr); /* aliased */
        assert_true(BN_mod_sqr(r, a, P, bctx));
        check_fe(&fr, r);
        chain_fe_sqr(&fr, &fa);
        check_fe(&fr, r);
        chain_fe_inv(&fr, &fa);
        if (BN_is_zero(a)) {
            assert_true(chain_fe_is_zero(&fr));
        } else {
            assert_non_null(BN_mod_inverse(r, a, P, bctx));
            check_fe(&fr, r);
        }
        int sq = chain_fe_sqrt(&fr, &fa);
        assert_true(BN_mod_exp(r, a, e, P, bctx));
        check_fe(&fr, r); /* the candidate, square root or not */
        assert_true(BN_mod_sqr(r, r, P, bctx));
        assert_int_equal(sq, BN_cmp(r, a) == 0);
        squares += sq;
        BN_free(a);
        BN_free(b);
    }
    assert_true(squares > 120 && squares < 320);
    BN_free(r);
    BN_free(e);
}

/* Products on the reduction's rare branches: the first four wrap past
 * 2^256 a second time (the first fold leaves 2^256 + l with l within 2^67
 * of 2^256; found by solving a b - q p = 2^257 - 5 and neighbours for q),
 * the last three leave a value in [p, 2^256) for the final subtraction
 * (a b = 1, 5 and 2^32 + 976 mod p; found by trying a). */
static const char *const WRAP[7][2] = {
    {"000000033b1a11df587fd2803bab6c398d88348a7eed8d14f06d3fef701966a0",
     "9b1638f2d8502ca013b27187da5520e23c626c3480c806820af5e526ad8449a7"},
    {"0000000205805975ed2f89d94a2f20aaf3c64af775a89294c2cd789a380208a9",
     "df56eda794fcaf3aacece0a8bc86449d9d999c458f3ac3780bc53e09815c5c9b"},
    {"00000003acab1a6bc69d4bd8b3fa7aa7e1fab9d78c7e134f5dfbd3d12c4a3698",
     "56f4806c8ae0f814a272e60d64bbafd89cfe9c1ca2b5c13b17469959b3f101c3"},
    {"0000000375491bc354c56c9a9cc9af4ec9546b439f9d01298a449ebe89d9bf02",
     "c3ec09f0d8075b903f1d59d60ecd86d663155301a86762016686b6c4061bf082"},
    {"34a2b35c13dad126719ff5a8693c92a4e8916e164ca11c8471ae79731a75e8c5",
     "40717bbd346dbd3758e96292b264435f0f4bb6842669c553857e3e45d61012fa"},
    {"6000656ef9f590fc48cac843b34efc65cf5b3ebec3424c3b7cc046282738df46",
     "922e1b0f12782567725795bbd02834ddc0f7a8c0a99ef6b1b92863f6e4d3dd18"},
    {"6e694807294df38ff15c68325f6173e9a25e8289e04af5afce56ead9faca65b3",
     "2362efb77ed932173373f2e7ba133bee5f088bdb93630afe24426573fd9d7054"},
};

static void wrap_products(void)
{
    BIGNUM *r = BN_new();
    assert_non_null(r);
    for (int i = 0; i < 7; i++) {
        BIGNUM *a = NULL, *b = NULL;
        assert_true(BN_hex2bn(&a, WRAP[i][0]) > 0 && BN_hex2bn(&b, WRAP[i][1]) > 0);
        uint8_t ab[32], bb[32];
        bn_to(ab, a);
        bn_to(bb, b);
        chain_fe fa, fb, fr;
        fe_of(&fa, ab);
        fe_of(&fb, bb);
        chain_fe_mul(&fr, &fa, &fb);
        assert_true(BN_mod_mul(r, a, b, P, bctx));
        check_fe(&fr, r);
        BN_free(a);
        BN_free(b);
    }
    BN_free(r);
}

/* Sums in [p, 2^256) without a carry out, and just past 2^256: p - 1 + k
 * for k = 1, 2, 2^32 + 976 (2^256 - 1), 2^32 + 977 (2^256), 2^32 + 978. */
static void edge_adds(void)
{
    static const unsigned long ks[5] = {1, 2, 0x1000003D0ul, 0x1000003D1ul, 0x1000003D2ul};
    BIGNUM *r = BN_new(), *b = BN_new();
    assert_true(r && b);
    for (int i = 0; i < 5; i++) {
        uint8_t ab[32], bb[32];
        near(ab, P, -1);
        assert_true(BN_set_word(b, ks[i]));
        bn_to(bb, b);
        BIGNUM *a = bn_of(ab);
        chain_fe fa, fb, fr;
        fe_of(&fa, ab);
        fe_of(&fb, bb);
        chain_fe_add(&fr, &fa, &fb);
        assert_true(BN_mod_add(r, a, b, P, bctx));
        check_fe(&fr, r);
        chain_fe_add(&fr, &fb, &fa);
        check_fe(&fr, r);
        BN_free(a);
    }
    BN_free(r);
    BN_free(b);
}

static void test_field(void **state)
{
    (void)state;
    chain_secp_portable(1);
    field_ops();
    wrap_products();
    chain_secp_portable(0);
    field_ops();
    wrap_products();
    edge_adds();
    /* Only values below p are field elements. */
    uint8_t b[32];
    chain_fe f;
    for (long d = -3; d <= 3; d++) {
        near(b, P, d);
        assert_int_equal(chain_fe_set_b32(&f, b), d < 0);
    }
    memset(b, 0xff, 32);
    assert_int_equal(chain_fe_set_b32(&f, b), 0);
}

static void test_scalar(void **state)
{
    (void)state;
    BIGNUM *r = BN_new();
    assert_non_null(r);
    /* 32-byte input: below n as is; from n up reduced mod n, flagged. */
    for (long d = -3; d <= 3; d++) {
        uint8_t b[32], g[32];
        near(b, N, d);
        chain_sc s;
        int over = -1;
        chain_sc_set_b32(&s, b, &over);
        assert_int_equal(over, d >= 0);
        chain_sc_get_b32(g, &s);
        BIGNUM *x = bn_of(b);
        assert_true(BN_nnmod(x, x, N, bctx));
        bn_to(b, x);
        assert_memory_equal(g, b, 32);
        BN_free(x);
    }
    uint8_t ones[32], g[32];
    memset(ones, 0xff, 32);
    chain_sc s;
    int over = 0;
    chain_sc_set_b32(&s, ones, &over);
    assert_int_equal(over, 1);
    chain_sc_get_b32(g, &s);
    BIGNUM *x = bn_of(ones);
    assert_true(BN_nnmod(x, x, N, bctx));
    bn_to(ones, x);
    assert_memory_equal(g, ones, 32);
    BN_free(x);
    for (int i = 0; i < 400; i++) {
        uint8_t ab[32], bb[32];
        /* Every pair of the edge values first, then mostly random ones. */
        value(ab, N, i < 49 ? i / 7 : i % 50);
        value(bb, N, i < 49 ? i % 7 : (i / 50 + 3 * i) % 50);
        BIGNUM *a = bn_of(ab), *b = bn_of(bb);
        chain_sc sa, sb, sr;
        chain_sc_set_b32(&sa, ab, &over);
        assert_int_equal(over, 0);
        chain_sc_set_b32(&sb, bb, &over);
        assert_int_equal(over, 0);
        chain_sc_add(&sr, &sa, &sb);
        assert_true(BN_mod_add(r, a, b, N, bctx));
        chain_sc_get_b32(g, &sr);
        bn_to(ab, r);
        assert_memory_equal(g, ab, 32);
        chain_sc_mul(&sr, &sa, &sb);
        assert_true(BN_mod_mul(r, a, b, N, bctx));
        chain_sc_get_b32(g, &sr);
        bn_to(ab, r);
        assert_memory_equal(g, ab, 32);
        chain_sc_neg(&sr, &sa);
        assert_true(BN_mod_sub(r, N, a, N, bctx));
        assert_true(BN_nnmod(r, r, N, bctx));
        chain_sc_get_b32(g, &sr);
        bn_to(ab, r);
        assert_memory_equal(g, ab, 32);
        BN_free(a);
        BN_free(b);
    }
    BN_free(r);
}

/* k P by double-and-add on chain_gej (the reference for the MSM). */
static void mul_naive(chain_gej *r, const chain_ge *p, const chain_sc *k)
{
    chain_gej_set_inf(r);
    for (int i = 255; i >= 0; i--) {
        chain_gej_dbl(r, r);
        if (k->l[i / 64] >> (i % 64) & 1) chain_gej_add_ge(r, r, p);
    }
}

/* The point as libsecp256k1's pubkey, or 0 for infinity. */
static int to_pub(secp256k1_pubkey *pk, const chain_gej *p)
{
    chain_ge a;
    chain_ge_set_gej(&a, p);
    if (a.inf) return 0;
    uint8_t ser[65];
    ser[0] = 4;
    chain_fe_get_b32(ser + 1, &a.x);
    chain_fe_get_b32(ser + 33, &a.y);
    assert_int_equal(secp256k1_ec_pubkey_parse(sctx, pk, ser, 65), 1);
    return 1;
}

static void assert_same(const chain_gej *a, const chain_gej *b)
{
    chain_ge x, y;
    chain_ge_set_gej(&x, a);
    chain_ge_set_gej(&y, b);
    assert_int_equal(x.inf, y.inf);
    if (x.inf) return;
    assert_true(chain_fe_eq(&x.x, &y.x));
    assert_true(chain_fe_eq(&x.y, &y.y));
}

static void pub_same(const secp256k1_pubkey *pk, const chain_gej *p)
{
    secp256k1_pubkey q;
    assert_int_equal(to_pub(&q, p), 1);
    assert_int_equal(secp256k1_ec_pubkey_cmp(sctx, pk, &q), 0);
}

static void rand_sc(chain_sc *s)
{
    uint8_t b[32];
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)rnd();
    chain_sc_set_b32(s, b, NULL);
}

static void test_points(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        chain_secp_portable(round == 0);
        for (int i = 0; i < 24; i++) {
            /* P = kG (ours by double-and-add, libsecp256k1's by tweak_mul). */
            chain_sc k, k2;
            rand_sc(&k);
            rand_sc(&k2);
            if (i == 0) memset(&k, 0, sizeof k), k.l[0] = 1;
            uint8_t kb[32], k2b[32];
            chain_sc_get_b32(kb, &k);
            chain_sc_get_b32(k2b, &k2);
            chain_gej pj, qj, sj, tj;
            mul_naive(&pj, &chain_ge_g, &k);
            secp256k1_pubkey gp, pp, qp, sp;
            chain_gej g1;
            chain_gej_set_ge(&g1, &chain_ge_g);
            assert_int_equal(to_pub(&gp, &g1), 1);
            pp = gp;
            assert_int_equal(secp256k1_ec_pubkey_tweak_mul(sctx, &pp, kb), 1);
            pub_same(&pp, &pj);
            /* Q = k2 P (a non-affine input to the next adds). */
            chain_ge pa;
            chain_ge_set_gej(&pa, &pj);
            mul_naive(&qj, &pa, &k2);
            qp = pp;
            assert_int_equal(secp256k1_ec_pubkey_tweak_mul(sctx, &qp, k2b), 1);
            pub_same(&qp, &qj);
            /* P + Q, both Jacobian and mixed, and aliased. */
            const secp256k1_pubkey *two[2] = {&pp, &qp};
            assert_int_equal(secp256k1_ec_pubkey_combine(sctx, &sp, two, 2), 1);
            chain_gej_add(&sj, &pj, &qj);
            pub_same(&sp, &sj);
            tj = qj;
            chain_gej_add_ge(&tj, &tj, &pa);
            pub_same(&sp, &tj);
            /* P + P (the addition meets the doubling), P - P. */
            chain_gej_add(&sj, &pj, &pj);
            chain_gej_dbl(&tj, &pj);
            assert_same(&sj, &tj);
            const secp256k1_pubkey *pair[2] = {&pp, &pp};
            assert_int_equal(secp256k1_ec_pubkey_combine(sctx, &sp, pair, 2), 1);
            pub_same(&sp, &sj);
            tj = pj;
            chain_gej_add_ge(&tj, &tj, &pa);
            assert_same(&sj, &tj);
            chain_ge na;
            chain_ge_neg(&na, &pa);
            tj = pj;
            chain_gej_add_ge(&tj, &tj, &na);
            assert_true(tj.inf);
            chain_gej nj;
            chain_gej_set_ge(&nj, &na);
            chain_gej_add(&tj, &qj, &nj); /* Q - P, then + P back to Q */
            chain_gej_add(&tj, &tj, &pj);
            assert_same(&tj, &qj);
            chain_gej_add(&tj, &pj, &nj);
            assert_true(tj.inf);
            /* Infinity on either side. */
            chain_gej inf;
            chain_gej_set_inf(&inf);
            chain_gej_add(&tj, &inf, &pj);
            assert_same(&tj, &pj);
            chain_gej_add(&tj, &pj, &inf);
            assert_same(&tj, &pj);
            chain_gej_add_ge(&tj, &inf, &pa);
            assert_same(&tj, &pj);
            /* (n - 1) P = -P. */
            chain_sc m1 = {{1, 0, 0, 0}};
            chain_sc_neg(&m1, &m1);
            mul_naive(&tj, &pa, &m1);
            assert_same(&tj, &nj);
        }
    }
}

/* lift_x agrees with libsecp256k1's x-only parse, y even. */
static void test_lift(void **state)
{
    (void)state;
    int lifted = 0;
    for (int i = 0; i < 300; i++) {
        uint8_t x[32], ser[33];
        value(x, P, i);
        chain_ge p;
        secp256k1_pubkey pk;
        ser[0] = 2;
        memcpy(ser + 1, x, 32);
        int want = secp256k1_ec_pubkey_parse(sctx, &pk, ser, 33);
        assert_int_equal(chain_ge_lift_x(&p, x), want);
        if (!want) continue;
        lifted++;
        assert_int_equal(p.y.l[0] & 1, 0);
        chain_gej pj;
        chain_gej_set_ge(&pj, &p);
        pub_same(&pk, &pj);
    }
    assert_true(lifted > 100);
}

/* The MSM against the plain sum of k_i P_i. */
static void msm_check(const chain_ge *pts, const chain_sc *sc, size_t n)
{
    chain_gej want, got, t;
    chain_gej_set_inf(&want);
    for (size_t i = 0; i < n; i++) {
        mul_naive(&t, &pts[i], &sc[i]);
        chain_gej_add(&want, &want, &t);
    }
    assert_int_equal(chain_secp_msm(&got, pts, sc, n), 1);
    assert_same(&got, &want);
}

static void test_msm(void **state)
{
    (void)state;
    enum { MAX = 300 };
    chain_ge *pts = calloc(MAX, sizeof *pts), base[8];
    chain_sc *sc = calloc(MAX, sizeof *sc);
    assert_true(pts && sc);
    for (int k = 0; k < 8; k++) {
        chain_sc s;
        chain_gej j;
        rand_sc(&s);
        mul_naive(&j, &chain_ge_g, &s);
        chain_ge_set_gej(&base[k], &j);
    }
    static const size_t sizes[] = {1, 2, 3, 7, 40, 129, 300};
    for (int round = 0; round < 2; round++) {
        chain_secp_portable(round == 0);
        for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
            size_t n = sizes[z];
            for (int kind = 0; kind < 6; kind++) {
                for (size_t i = 0; i < n; i++) {
                    rand_sc(&sc[i]);
                    pts[i] = base[rnd() % 8];
                    if (rnd() % 4 == 0) chain_ge_neg(&pts[i], &pts[i]);
                    if (rnd() % 2) sc[i].l[2] = sc[i].l[3] = 0; /* 128-bit, as R's */
                }
                switch (kind) {
                case 0: break; /* random over 8 points and their negations */
                case 1:        /* one point, one scalar: every bucket meets P + P */
                    for (size_t i = 0; i < n; i++) {
                        pts[i] = base[0];
                        sc[i] = sc[0];
                    }
                    break;
                case 2: /* a point and its negation with the same scalar: P + (-P) */
                    for (size_t i = 0; i < n; i++) {
                        pts[i] = base[0];
                        if (i % 2) chain_ge_neg(&pts[i], &pts[i]);
                        sc[i] = sc[0];
                    }
                    break;
                case 3: /* one point, the scalars k and n - k: P and -P in a bucket */
                    for (size_t i = 0; i < n; i++) {
                        pts[i] = base[1];
                        if (i % 2) chain_sc_neg(&sc[i], &sc[i - 1]);
                    }
                    break;
                case 4: /* zero scalars, n - 1, infinity */
                    for (size_t i = 0; i < n; i++) {
                        if (i % 3 == 0) memset(&sc[i], 0, sizeof sc[i]);
                        if (i % 3 == 1) {
                            chain_sc one = {{1, 0, 0, 0}};
                            chain_sc_neg(&sc[i], &one);
                        }
                        if (i % 5 == 2) pts[i].inf = 1;
                    }
                    break;
                default: /* small scalars: few buckets, many equal sums */
                    for (size_t i = 0; i < n; i++) {
                        memset(&sc[i], 0, sizeof sc[i]);
                        sc[i].l[0] = rnd() % 5;
                        pts[i] = base[rnd() % 2];
                    }
                    break;
                }
                msm_check(pts, sc, n);
            }
        }
    }
    chain_gej r;
    assert_int_equal(chain_secp_msm(&r, pts, sc, 0), 1);
    assert_true(r.inf);
    free(pts);
    free(sc);
}

/* The endomorphism: lambda P is (beta x, y), and the split k = k1 + lambda
 * k2 holds (BIGNUM) with both halves below 2^128, on edges and random k. */
static void test_lambda(void **state)
{
    (void)state;
    static const char *lam_hex = "5363AD4CC05C30E0A5261C028812645A122E22EA20816678DF02967C1B23BD72";
    BIGNUM *lam = NULL, *a = BN_new(), *b = BN_new(), *k = NULL;
    assert_true(BN_hex2bn(&lam, lam_hex) > 0 && a && b);
    uint8_t lb[32];
    bn_to(lb, lam);
    chain_sc ls;
    chain_sc_set_b32(&ls, lb, NULL);
    for (int i = 0; i < 4; i++) {
        chain_sc s;
        rand_sc(&s);
        chain_gej pj, qj;
        mul_naive(&pj, &chain_ge_g, &s);
        chain_ge pa, la;
        chain_ge_set_gej(&pa, &pj);
        mul_naive(&qj, &pa, &ls);
        chain_ge_mul_lambda(&la, &pa);
        chain_gej lj;
        chain_gej_set_ge(&lj, &la);
        assert_same(&lj, &qj);
    }
    for (int i = 0; i < 3000; i++) {
        uint8_t kb[32];
        value(kb, N, i % 60);
        if (i == 60) bn_to(kb, lam);
        if (i == 61) {
            BIGNUM *t = BN_new();
            assert_true(t && BN_sub(t, N, lam));
            bn_to(kb, t);
            BN_free(t);
        }
        if (i == 62) near(kb, N, -5);
        chain_sc ks, k1, k2;
        int n1 = -1, n2 = -1;
        chain_sc_set_b32(&ks, kb, NULL);
        chain_sc_split_lambda(&k1, &n1, &k2, &n2, &ks);
        assert_true(k1.l[2] == 0 && k1.l[3] == 0 && k2.l[2] == 0 && k2.l[3] == 0);
        uint8_t b1[32], b2[32];
        chain_sc_get_b32(b1, &k1);
        chain_sc_get_b32(b2, &k2);
        assert_non_null(BN_bin2bn(b1, 32, a));
        assert_non_null(BN_bin2bn(b2, 32, b));
        if (n1) BN_set_negative(a, 1);
        if (n2) BN_set_negative(b, 1);
        assert_true(BN_mod_mul(b, b, lam, N, bctx));
        assert_true(BN_mod_add(a, a, b, N, bctx));
        k = bn_of(kb);
        assert_int_equal(BN_cmp(a, k), 0);
        BN_free(k);
    }
    BN_free(lam);
    BN_free(a);
    BN_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field), cmocka_unit_test(test_scalar), cmocka_unit_test(test_points),
        cmocka_unit_test(test_lift),  cmocka_unit_test(test_msm),    cmocka_unit_test(test_lambda),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
