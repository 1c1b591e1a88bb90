/* BIP-340 keys and signatures against the official test vectors, plus the
 * SHA-256 primitives they rest on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"
#include "util/bytes.h"
#include "util/hex.h"

#define VECTORS OL_SOURCE_DIR "/tests/unit/data/bip340_vectors.csv"

static void hex32(uint8_t out[32], const char *s)
{
    assert_int_equal(util_hex_decode_exact(out, 32, s), 0);
}

/* Splits a CSV line of the vectors file (no quoting is used there) into at
 * most nf fields; the last field takes the rest of the line. */
static size_t split(char *line, char **f, size_t nf)
{
    size_t n = 0;
    line[strcspn(line, "\r\n")] = 0;
    f[n++] = line;
    for (char *p = line; *p && n < nf; p++)
        if (*p == ',') {
            *p = 0;
            f[n++] = p + 1;
        }
    return n;
}

/* Variable-length messages are outside the chain_* API (it signs 32-byte
 * digests only), so those rows go straight to libsecp256k1. */
static int verify_any(const uint8_t sig[64], const uint8_t *msg, size_t mlen,
                      const uint8_t pk32[32])
{
    if (mlen == 32) {
        /* The parsed-key path (block sync caches parsed keys) agrees on
         * every vector, the invalid keys included. */
        chain_xonly k;
        int a = chain_verify(sig, msg, pk32),
            b = chain_xonly_parse(&k, pk32) && chain_verify_xonly(sig, msg, &k);
        if (a != b) fail_msg("chain_verify gave %d, chain_verify_xonly %d", a, b);
        return a;
    }
    secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_xonly_pubkey pk;
    int ok = secp256k1_xonly_pubkey_parse(c, &pk, pk32) &&
             secp256k1_schnorrsig_verify(c, sig, msg, mlen, &pk);
    secp256k1_context_destroy(c);
    return ok;
}

static void sign_any(uint8_t sig[64], const uint8_t *msg, size_t mlen, const chain_keypair *kp,
                     const uint8_t aux[32])
{
    if (mlen == 32) {
        assert_int_equal(chain_sign(sig, msg, kp, aux), 0);
        return;
    }
    secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_keypair k;
    secp256k1_schnorrsig_extraparams ep = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
    ep.ndata = (unsigned char *)aux;
    assert_true(secp256k1_keypair_create(c, &k, kp->seckey));
    assert_true(secp256k1_schnorrsig_sign_custom(c, sig, msg, mlen, &k, &ep));
    secp256k1_context_destroy(c);
}

static void test_bip340_vectors(void **state)
{
    (void)state;
    FILE *f = fopen(VECTORS, "r");
    assert_non_null(f);
    char line[1024];
    int rows = 0, sign_rows = 0, true_rows = 0, false_rows = 0;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        char *fld[8];
        if (line[0] == '\n' || line[0] == 0) continue;
        assert_int_equal(split(line, fld, 8), 8);
        int idx = atoi(fld[0]);
        uint8_t pk[32], sig[64], *msg = NULL;
        size_t mlen = 0;
        assert_int_equal(util_hex_decode_exact(pk, 32, fld[2]), 0);
        assert_int_equal(util_hex_decode_alloc(fld[4], 1024, &msg, &mlen), 0);
        assert_int_equal(util_hex_decode_exact(sig, 64, fld[5]), 0);
        int expect = strcmp(fld[6], "TRUE") == 0;
        assert_true(expect || strcmp(fld[6], "FALSE") == 0);

        if (fld[1][0]) {
            uint8_t sk[32], aux[32], got[64];
            chain_keypair kp;
            util_err err;
            hex32(sk, fld[1]);
            hex32(aux, fld[3]);
            assert_int_equal(chain_keypair_from_seckey(&kp, sk, &err), 0);
            if (memcmp(kp.pubkey, pk, 32) != 0) fail_msg("vector %d: public key differs", idx);
            sign_any(got, msg, mlen, &kp, aux);
            if (memcmp(got, sig, 64) != 0) fail_msg("vector %d: signature differs", idx);
            chain_keypair_clear(&kp);
            sign_rows++;
        }
        int got = verify_any(sig, msg, mlen, pk);
        if (got != expect) fail_msg("vector %d (%s): verify gave %d", idx, fld[7], got);
        expect ? true_rows++ : false_rows++;
        free(msg);
        rows++;
    }
    fclose(f);
    /* Every row of the upstream file (bips/bip-0340/test-vectors.csv). */
    assert_int_equal(rows, 19);
    assert_int_equal(sign_rows, 8);
    assert_int_equal(true_rows, 9);
    assert_int_equal(false_rows, 10);
}

static void test_seckey_range(void **state)
{
    (void)state;
    chain_keypair kp;
    util_err err;
    uint8_t sk[32] = {0};
    assert_int_equal(chain_keypair_from_seckey(&kp, sk, &err), UTIL_ECRYPTO);
    assert_true(strlen(err.msg) > 0);
    /* n, the group order, is invalid; n - 1 is the largest valid key. */
    hex32(sk, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");
    assert_int_equal(chain_keypair_from_seckey(&kp, sk, &err), UTIL_ECRYPTO);
    memset(sk, 0xff, 32);
    assert_int_equal(chain_keypair_from_seckey(&kp, sk, &err), UTIL_ECRYPTO);
    hex32(sk, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140");
    assert_int_equal(chain_keypair_from_seckey(&kp, sk, &err), 0);
    memset(sk, 0, 32);
    sk[31] = 1;
    assert_int_equal(chain_keypair_from_seckey(&kp, sk, NULL), 0);
    /* 1*G: x of the generator. */
    uint8_t g[32];
    hex32(g, "79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798");
    assert_memory_equal(kp.pubkey, g, 32);
}

static void test_dev_keys(void **state)
{
    (void)state;
    chain_keypair a, b, c;
    assert_int_equal(chain_keypair_dev(&a, 0), 0);
    assert_int_equal(chain_keypair_dev(&b, 0), 0);
    assert_int_equal(chain_keypair_dev(&c, 1), 0);
    assert_memory_equal(&a, &b, sizeof a);
    assert_memory_not_equal(a.seckey, c.seckey, 32);
    assert_memory_not_equal(a.pubkey, c.pubkey, 32);

    /* The published derivation, recomputed independently of keys.c. */
    uint8_t in[21 + 4], sk[32];
    memcpy(in, "openledger devnet key", 21);
    util_put_u32le(in + 21, 1);
    chain_sha256(sk, in, sizeof in);
    assert_memory_equal(c.seckey, sk, 32);
    chain_keypair check;
    assert_int_equal(chain_keypair_from_seckey(&check, sk, NULL), 0);
    assert_memory_equal(check.pubkey, c.pubkey, 32);
}

static void test_generate_sign_verify(void **state)
{
    (void)state;
    chain_keypair a, b;
    util_err err;
    assert_int_equal(chain_keypair_generate(&a, &err), 0);
    assert_int_equal(chain_keypair_generate(&b, &err), 0);
    assert_memory_not_equal(a.seckey, b.seckey, 32);

    uint8_t msg[32], sig[64], sig2[64], zero[32] = {0}, aux[32];
    chain_sha256(msg, "hello", 5);
    assert_int_equal(chain_sign(sig, msg, &a, NULL), 0);
    assert_int_equal(chain_verify(sig, msg, a.pubkey), 1);
    assert_int_equal(chain_verify(sig, msg, b.pubkey), 0);
    /* NULL aux is the spec's all-zero aux. */
    assert_int_equal(chain_sign(sig2, msg, &a, zero), 0);
    assert_memory_equal(sig, sig2, 64);
    memset(aux, 7, sizeof aux);
    assert_int_equal(chain_sign(sig2, msg, &a, aux), 0);
    assert_memory_not_equal(sig, sig2, 64);
    assert_int_equal(chain_verify(sig2, msg, a.pubkey), 1);
    for (int bit = 0; bit < 512; bit += 37) {
        memcpy(sig2, sig, 64);
        sig2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(chain_verify(sig2, msg, a.pubkey), 0);
    }
    msg[0] ^= 1;
    assert_int_equal(chain_verify(sig, msg, a.pubkey), 0);

    chain_keypair_clear(&a);
    assert_memory_equal(a.seckey, zero, 32);
}

static void *sign_loop(void *arg)
{
    chain_keypair kp;
    uint8_t msg[32], sig[64];
    uintptr_t ok = 1;
    if (chain_keypair_dev(&kp, (uint32_t)(uintptr_t)arg)) return NULL;
    for (int i = 0; i < 50; i++) {
        chain_sha256(msg, &i, sizeof i);
        if (chain_sign(sig, msg, &kp, NULL) || !chain_verify(sig, msg, kp.pubkey)) ok = 0;
    }
    return (void *)ok;
}

/* The shared context is created lazily; racing first uses must be safe. */
static void test_threads(void **state)
{
    (void)state;
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, sign_loop, (void *)i), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_true(r == (void *)1);
    }
}

static void test_sha256_known_answers(void **state)
{
    (void)state;
    uint8_t out[32], want[32];
    chain_sha256(out, "", 0);
    hex32(want, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_memory_equal(out, want, 32);
    chain_sha256(out, "abc", 3);
    hex32(want, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_memory_equal(out, want, 32);

    /* Tagged hashes are SHA-256 of the tag byte followed by the data. */
    uint8_t buf[4] = {CHAIN_TAG_TX_ID, 'a', 'b', 'c'};
    chain_sha256(want, buf, 4);
    chain_hash_tagged(out, CHAIN_TAG_TX_ID, "abc", 3);
    assert_memory_equal(out, want, 32);
    chain_hash_tagged2(out, CHAIN_TAG_TX_ID, "a", 1, "bc", 2);
    assert_memory_equal(out, want, 32);

    chain_sha256_ctx c;
    assert_int_equal(chain_sha256_begin(&c), 0);
    chain_sha256_update(&c, "a", 1);
    chain_sha256_update(&c, "bc", 2);
    chain_sha256_final(&c, out);
    chain_sha256_free(&c);
    hex32(want, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_memory_equal(out, want, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bip340_vectors), cmocka_unit_test(test_seckey_range),
        cmocka_unit_test(test_dev_keys),       cmocka_unit_test(test_generate_sign_verify),
        cmocka_unit_test(test_threads),        cmocka_unit_test(test_sha256_known_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
