/* BIP-340 batch verification (chain/crypto/schnorr_batch.h) against the
 * BIP's test vectors (tests/data/bip340_vectors.csv, bitcoin/bips 7fe0b034)
 * and, differentially, against libsecp256k1's single verification
 * (chain_verify): on random batches with random tampering the batch verdict
 * must be the AND of the single verdicts (OL_TEST_SEED replays a run;
 * OL_BATCH_ITERS sets the number of random batches, 1500 by default). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/keys.h"
#include "chain/crypto/schnorr_batch.h"
#include "tests/seed.h"
#include "util/hex.h"

typedef struct vec {
    uint8_t pk[32], msg[32], sig[64];
    int valid;
} vec;

/* The vectors with a 32-byte message (the only length the node signs). */
static size_t load_vectors(vec *v, size_t cap)
{
    FILE *f = fopen(OL_SOURCE_DIR "/tests/data/bip340_vectors.csv", "r");
    assert_non_null(f);
    char line[1024];
    size_t n = 0;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        char *col[8] = {0};
        char *p = line;
        for (int c = 0; c < 8 && p; c++) {
            col[c] = p;
            p = strchr(p, ',');
            if (p) *p++ = '\0';
        }
        assert_non_null(col[6]);
        if (strlen(col[4]) != 64) continue;
        assert_true(n < cap);
        assert_int_equal(util_hex_decode_exact(v[n].pk, 32, col[2]), 0);
        assert_int_equal(util_hex_decode_exact(v[n].msg, 32, col[4]), 0);
        assert_int_equal(util_hex_decode_exact(v[n].sig, 64, col[5]), 0);
        v[n].valid = strcmp(col[6], "TRUE") == 0;
        n++;
    }
    fclose(f);
    return n;
}

/* Batch verdict over items, or 0 when a key does not lift (as a caller
 * would: such a signature is invalid without a batch). */
static int batch(const vec *items, size_t n)
{
    const uint8_t **sigs = calloc(n + 1, sizeof *sigs);
    const uint8_t **msgs = calloc(n + 1, sizeof *msgs);
    const chain_bpk **pks = calloc(n + 1, sizeof *pks);
    chain_bpk *bp = calloc(n + 1, sizeof *bp);
    assert_true(sigs && msgs && pks && bp);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        ok = chain_bpk_lift(&bp[i], items[i].pk);
        sigs[i] = items[i].sig;
        msgs[i] = items[i].msg;
        pks[i] = &bp[i];
    }
    if (ok) ok = chain_verify_batch(sigs, msgs, pks, n);
    free(sigs);
    free(msgs);
    free(pks);
    free(bp);
    return ok;
}

static void test_vectors(void **state)
{
    (void)state;
    vec v[32], good[32];
    size_t n = load_vectors(v, 32), ng = 0, nbad = 0;
    assert_true(n >= 15);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(chain_verify(v[i].sig, v[i].msg, v[i].pk), v[i].valid);
        assert_int_equal(batch(&v[i], 1), v[i].valid);
        if (v[i].valid) good[ng++] = v[i];
    }
    assert_true(ng >= 4);
    assert_int_equal(batch(good, ng), 1);
    for (size_t i = 0; i < n; i++) {
        if (v[i].valid) continue;
        nbad++;
        /* The bad one first, in the middle and last among the good ones. */
        for (size_t at = 0; at <= ng; at += ng / 2 ? ng / 2 : 1) {
            vec mix[33];
            memcpy(mix, good, at * sizeof *mix);
            mix[at] = v[i];
            memcpy(mix + at + 1, good + at, (ng - at) * sizeof *mix);
            assert_int_equal(batch(mix, ng + 1), 0);
        }
    }
    assert_true(nbad >= 10);
}

/* Keys near and above p, and x = 0: the lift agrees with libsecp256k1's
 * parse; BIGNUM gives the values near p. */
static void test_lift_edges(void **state)
{
    (void)state;
    BIGNUM *p = NULL;
    assert_true(BN_hex2bn(&p, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F") >
                0);
    BIGNUM *x = BN_new();
    assert_non_null(x);
    int lifted = 0;
    for (int d = -300; d <= 300; d++) {
        uint8_t b[32];
        assert_non_null(BN_copy(x, p));
        if (d < 0)
            assert_true(BN_sub_word(x, (BN_ULONG)-d));
        else
            assert_true(BN_add_word(x, (BN_ULONG)d));
        assert_int_equal(BN_bn2binpad(x, b, 32), 32);
        chain_xonly xo;
        chain_bpk bp;
        int want = chain_xonly_parse(&xo, b);
        assert_int_equal(chain_bpk_lift(&bp, b), want);
        if (d >= 0) assert_int_equal(want, 0);
        lifted += want;
        /* Small x too (carries from the top words never happen there). */
        uint8_t s[32] = {0};
        s[31] = (uint8_t)(d & 0xff);
        s[30] = (uint8_t)((d >> 8) & 0xff);
        assert_int_equal(chain_bpk_lift(&bp, s), chain_xonly_parse(&xo, s));
    }
    assert_true(lifted > 50); /* about half of the x below p lift */
    BN_free(x);
    BN_free(p);
}

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define POOL 400
#define NKEYS 24

static const uint8_t N_ORDER[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};
static const uint8_t P_FIELD[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFC, 0x2F};

/* b (big-endian 32 bytes) += k with carry. */
static void add_small(uint8_t b[32], unsigned k)
{
    for (int i = 31; i >= 0 && k; i--) {
        unsigned t = b[i] + (k & 0xff);
        b[i] = (uint8_t)t;
        k = (k >> 8) + (t >> 8);
    }
}

/* An x with no point on the curve. */
static void no_lift_x(uint8_t x[32])
{
    chain_xonly xo;
    do {
        for (int i = 0; i < 32; i++)
            x[i] = (uint8_t)rnd();
    } while (chain_xonly_parse(&xo, x));
}

static void tamper(vec *it, vec *all, size_t n)
{
    switch (rnd() % 11) {
    case 0: it->sig[rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8)); break;
    case 1: it->sig[32 + rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8)); break;
    case 2: it->msg[rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8)); break;
    case 3: it->pk[rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8)); break;
    case 4: /* s = n + small (s >= n) */
        memcpy(it->sig + 32, N_ORDER, 32);
        add_small(it->sig + 32, (unsigned)(rnd() % 3));
        break;
    case 5: /* r = p + small (r >= p) */
        memcpy(it->sig, P_FIELD, 32);
        add_small(it->sig, (unsigned)(rnd() % 3));
        break;
    case 6: no_lift_x(it->sig); break;
    case 7: no_lift_x(it->pk); break;
    case 8: /* a valid signature of another item under this key */
        memcpy(it->sig, all[rnd() % n].sig, 64);
        break;
    case 9: /* s replaced by s +- 1 mod 2^256 */ add_small(it->sig + 32, 1); break;
    default: /* the other item's message */ memcpy(it->msg, all[rnd() % n].msg, 32); break;
    }
}

static void test_differential(void **state)
{
    (void)state;
    rng = ol_test_seed("test_schnorr_batch", 0x5eedba7c4b11ull);
    chain_keypair kp[NKEYS];
    for (int k = 0; k < NKEYS; k++)
        assert_int_equal(chain_keypair_dev(&kp[k], (uint32_t)(rnd() % 1000)), 0);
    static vec pool[POOL];
    for (size_t i = 0; i < POOL; i++) {
        const chain_keypair *k = &kp[rnd() % NKEYS];
        for (int j = 0; j < 32; j++)
            pool[i].msg[j] = (uint8_t)rnd();
        memcpy(pool[i].pk, k->pubkey, 32);
        assert_int_equal(chain_sign(pool[i].sig, pool[i].msg, k, NULL), 0);
    }
    static vec items[310];
    int iters = getenv("OL_BATCH_ITERS") ? atoi(getenv("OL_BATCH_ITERS")) : 1500;
    int saw[2] = {0, 0};
    for (int it = 0; it < iters; it++) {
        size_t n = rnd() % 8 == 0 ? 1 + rnd() % 300 : 1 + rnd() % 24;
        for (size_t i = 0; i < n; i++)
            items[i] = pool[rnd() % POOL];
        unsigned shape = (unsigned)(rnd() % 8);
        if (shape < 3) { /* one to three tampered items */
            for (unsigned t = 0; t <= shape; t++)
                tamper(&items[rnd() % n], items, n);
        } else if (shape == 3 && n >= 2) { /* duplicates, maybe tampered */
            size_t a = rnd() % n, b = rnd() % n;
            items[b] = items[a];
            if (rnd() % 2) tamper(&items[a], items, n);
        } else if (shape == 4 && n >= 2) {
            /* Two errors that cancel without randomizers: s_a + 1, s_b - 1
             * (as mod-n steps only while both stay below n). */
            size_t a = rnd() % n, b = (a + 1 + rnd() % (n - 1)) % n;
            if (items[a].sig[63] < 0xff && items[b].sig[63] > 0) {
                items[a].sig[63]++;
                items[b].sig[63]--;
            }
        }
        int want = 1;
        for (size_t i = 0; i < n; i++)
            want &= chain_verify(items[i].sig, items[i].msg, items[i].pk);
        int got = batch(items, n);
        if (got != want)
            fail_msg("iteration %d: batch of %zu says %d, single verification %d", it, n, got,
                     want);
        saw[want]++;
    }
    printf("batches: %d valid, %d invalid\n", saw[1], saw[0]);
    assert_true(saw[0] > iters / 4 && saw[1] > iters / 4);
}

/* Repeated signatures put the same point (R_i, P_i) in a bucket many times
 * over, and with opposite signs (the digits of a_i and of a_j differ in
 * sign): the affine bucket sums meet P + P and P + (-P). Also n = 1 and 2,
 * and one bad copy among good ones. */
static void test_repeats(void **state)
{
    (void)state;
    chain_keypair kp[2];
    assert_int_equal(chain_keypair_dev(&kp[0], 7), 0);
    assert_int_equal(chain_keypair_dev(&kp[1], 8), 0);
    static vec items[300];
    vec a, b;
    memset(&a, 0, sizeof a);
    memset(a.msg, 0x5a, 32);
    memcpy(a.pk, kp[0].pubkey, 32);
    assert_int_equal(chain_sign(a.sig, a.msg, &kp[0], NULL), 0);
    b = a;
    b.msg[0] ^= 1;
    memcpy(b.pk, kp[1].pubkey, 32);
    assert_int_equal(chain_sign(b.sig, b.msg, &kp[1], NULL), 0);
    static const size_t sizes[] = {1, 2, 3, 17, 64, 256, 300};
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        size_t n = sizes[z];
        for (size_t i = 0; i < n; i++)
            items[i] = a;
        assert_int_equal(batch(items, n), 1);
        for (size_t i = 0; i < n; i += 2)
            items[i] = b;
        assert_int_equal(batch(items, n), 1);
        /* One copy with s + 1, first, middle or last. */
        size_t at = z % 3 == 0 ? 0 : z % 3 == 1 ? n / 2 : n - 1;
        items[at].sig[63] ^= 1;
        assert_int_equal(batch(items, n), 0);
        items[at].sig[63] ^= 1;
        /* A copy under the other key (same R, wrong P). */
        memcpy(items[at].pk, memcmp(items[at].pk, a.pk, 32) == 0 ? b.pk : a.pk, 32);
        assert_int_equal(batch(items, n), 0);
    }
}

/* chain_verify_many flags exactly the valid ones (chain_verify's verdicts),
 * below and above CHAIN_BATCH_MIN, all valid or with bad ones, with parsed
 * keys and without. */
static void test_many(void **state)
{
    (void)state;
    chain_keypair kp[3];
    for (uint32_t k = 0; k < 3; k++)
        assert_int_equal(chain_keypair_dev(&kp[k], 40 + k), 0);
    enum { M = 70 };
    static vec items[M];
    static chain_bpk bp[M];
    static chain_xonly xo[M];
    const uint8_t *sigs[M], *msgs[M];
    const chain_bpk *pks[M];
    const chain_xonly *xos[M];
    uint8_t ok[M];
    for (size_t i = 0; i < M; i++) {
        memset(items[i].msg, (int)i, 32);
        memcpy(items[i].pk, kp[i % 3].pubkey, 32);
        assert_int_equal(chain_sign(items[i].sig, items[i].msg, &kp[i % 3], NULL), 0);
    }
    static const size_t sizes[] = {1, CHAIN_BATCH_MIN - 1, CHAIN_BATCH_MIN, M};
    for (size_t z = 0; z < 4; z++) {
        size_t n = sizes[z];
        for (int bad = 0; bad < 3; bad++) {
            if (bad) items[(size_t)bad * 7 % n].sig[40] ^= 1;
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(chain_bpk_lift(&bp[i], items[i].pk), 1);
                assert_int_equal(chain_xonly_parse(&xo[i], items[i].pk), 1);
                sigs[i] = items[i].sig;
                msgs[i] = items[i].msg;
                pks[i] = &bp[i];
                xos[i] = &xo[i];
            }
            for (int parsed = 0; parsed < 2; parsed++) {
                memset(ok, 7, sizeof ok);
                size_t good = chain_verify_many(sigs, msgs, pks, parsed ? xos : NULL, n, ok);
                size_t want_good = 0;
                for (size_t i = 0; i < n; i++) {
                    int want = chain_verify(items[i].sig, items[i].msg, items[i].pk);
                    assert_int_equal(ok[i], want);
                    want_good += (size_t)want;
                }
                assert_int_equal(good, want_good);
                assert_true(bad == 0 ? good == n : good < n);
            }
            if (bad) items[(size_t)bad * 7 % n].sig[40] ^= 1;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),      cmocka_unit_test(test_lift_edges),
        cmocka_unit_test(test_differential), cmocka_unit_test(test_repeats),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
