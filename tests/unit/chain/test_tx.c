/* Transaction encoding, signing and decoding; the bodies of the other types
 * are in test_tx_bodies.c. The known answers were computed
 * independently (a from-scratch Python BIP-340 that reproduces the official
 * vectors, plus hashlib) from the layout in chain/types/tx.h; scripts/ol_txlib.py
 * (run it) reproduces the signing-domain ones, which docs/encoding.md lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/types/tx.h"
#include "util/hex.h"

#define KAT_ENC                                                                                    \
    "01116f70656e6c65646765722d6465766e657401d9e7a7390f7199c8332b29b4cbeb49fec41c59595f7689924b55" \
    "1337f501d38b0700000000000000e8030000000000000100000000000000dc04d1a9923e361eccad546a7d2fbff6" \
    "cac6eea6807c814a00000000aafb0b9b344f5e93e64b68926a44a8cabdc347bbb8d34e4d045260b10f57e146a30d" \
    "01f6afcfae3ce6cdf989de3c5370d846a3fc8a09d5f3b85a62694e8c522f"
#define KAT_ID "589b12f698e306aab0accb762fa9e0ebedad066c6d9f6464a9eca3eed41aa8e1"
#define KAT_SIGHASH "7c34c934753ad03ad98843998438fa6817819f16cd5dc9bfb21259b2f9cf0661"
/* The same content without the genesis hash in the domain (before it was
 * bound): the sighash of a chain whose domain lacked the genesis. */
#define KAT_SIGHASH_UNBOUND "1acf360969030fd75004226bb530019e397d41789dfeb14b66265d0e89480daf"
#define KAT_LEN 168

/* ATTRIBUTE by dev key 0, computed the same way: nonce 42, gas 20000 at 3,
 * model 7, output hash 00..1f, fee 5 OPEN, method 1, evidence ee.., entries
 * (1,600) (5,300) (9,100); all-zero aux. */
#define ATTR_LEN 270
#define ATTR_ENC                                                                                   \
    "01116f70656e6c65646765722d6465766e657406d9e7a7390f7199c8332b29b4cbeb49fec41c59595f7689924b55" \
    "1337f501d38b2a00000000000000204e000000000000030000000000000007000000000000000001020304050607" \
    "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00f2052a0100000001eeeeeeeeeeeeeeeeeeeeeeeeee" \
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee030100000000000000580200000000000005000000000000002c01" \
    "000000000000090000000000000064000000000000004f77227003d053d675ba8b54a473ee76ae79165800f469fc" \
    "a687b4d89d781dbc7af6b416cee6591ef16c7abd60394cec8312f2886c732ef634ceecff940f173c"
#define ATTR_SIGHASH "ba8131382fc84b2ebc66529257b9d6b0bbcb25f7405cce1a4867f21c760a2ad2"
#define ATTR_ID "76ffca80e01a73d32ef9070c4cdac9373ab165645dcccb9a16d131aa9566b6b8"

/* The genesis hash of the known answers: bytes 00 01 .. 1f. */
static const uint8_t G[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                              16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* Fixed content: dev key 0 sends 1.25 OPEN to dev key 1's address. */
static void make_tx(chain_tx *tx, const chain_keypair *from, uint32_t to_index)
{
    chain_keypair to;
    memset(tx, 0, sizeof *tx);
    tx->version = CHAIN_TX_VERSION;
    strcpy(tx->chain_id, "openledger-devnet");
    tx->type = CHAIN_TX_TRANSFER;
    memcpy(tx->sender, from->pubkey, 32);
    tx->nonce = 7;
    tx->gas_limit = 1000;
    tx->gas_price = 1;
    assert_int_equal(chain_keypair_dev(&to, to_index), 0);
    chain_addr_from_pubkey(&tx->body.transfer.to, to.pubkey);
    tx->body.transfer.amount = 1250000000;
}

static void encode(const chain_tx *tx, uint8_t **p, size_t *n)
{
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_tx_encode(tx, &b), 0);
    assert_int_equal(util_buf_take(&b, p, n), 0);
}

static void signed_tx(chain_tx *tx, uint8_t **p, size_t *n)
{
    chain_keypair kp;
    util_err err;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    make_tx(tx, &kp, 1);
    assert_int_equal(chain_tx_sign(tx, &kp, G, &err), 0);
    encode(tx, p, n);
}

static void test_known_answer(void **state)
{
    (void)state;
    chain_keypair kp;
    chain_tx tx;
    util_err err;
    char hex[2 * KAT_LEN + 1];
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    make_tx(&tx, &kp, 1);
    /* Deterministic signature (all-zero aux) so the bytes are stable. */
    assert_int_equal(chain_tx_finalize(&tx, &err), 0);
    uint8_t sh[32];
    assert_int_equal(chain_tx_sighash(&tx, G, sh), 0);
    util_hex_encode(hex, sh, 32);
    assert_string_equal(hex, KAT_SIGHASH);
    assert_int_equal(chain_sign(tx.sig, sh, &kp, NULL), 0);
    assert_int_equal(chain_tx_finalize(&tx, &err), 0);

    uint8_t *p;
    size_t n;
    encode(&tx, &p, &n);
    assert_int_equal(n, KAT_LEN);
    assert_int_equal(tx.size, KAT_LEN);
    util_hex_encode(hex, p, n);
    assert_string_equal(hex, KAT_ENC);
    util_hex_encode(hex, tx.id, 32);
    assert_string_equal(hex, KAT_ID);
    chain_addr from;
    chain_addr_from_pubkey(&from, kp.pubkey);
    assert_memory_equal(tx.from.b, from.b, CHAIN_ADDR_LEN);
    assert_int_equal(chain_tx_check_sig(&tx, G), 1);

    /* The same bytes decode to the same transaction. */
    chain_tx d;
    assert_int_equal(chain_tx_decode(&d, p, n, &err), 0);
    assert_memory_equal(d.id, tx.id, 32);
    uint8_t dsh[32];
    assert_int_equal(chain_tx_sighash(&d, G, dsh), 0);
    assert_memory_equal(dsh, sh, 32);
    assert_int_equal(d.sig_checked, 0);
    chain_tx_free(&d);
    chain_tx_free(&tx);
    free(p);
}

static void test_sign_decode_roundtrip(void **state)
{
    (void)state;
    chain_tx tx, d;
    util_err err;
    uint8_t *p, *p2;
    size_t n, n2;
    signed_tx(&tx, &p, &n);
    assert_int_equal(chain_tx_decode(&d, p, n, &err), 0);
    assert_int_equal(d.version, 1);
    assert_string_equal(d.chain_id, "openledger-devnet");
    assert_int_equal(d.type, CHAIN_TX_TRANSFER);
    assert_memory_equal(d.sender, tx.sender, 32);
    assert_int_equal(d.nonce, 7);
    assert_int_equal(d.gas_limit, 1000);
    assert_int_equal(d.gas_price, 1);
    assert_memory_equal(d.body.transfer.to.b, tx.body.transfer.to.b, CHAIN_ADDR_LEN);
    assert_int_equal(d.body.transfer.amount, 1250000000);
    assert_memory_equal(d.sig, tx.sig, 64);
    assert_memory_equal(d.id, tx.id, 32);
    assert_memory_equal(d.from.b, tx.from.b, CHAIN_ADDR_LEN);
    assert_int_equal(d.size, n);
    encode(&d, &p2, &n2);
    assert_int_equal(n2, n);
    assert_memory_equal(p2, p, n);

    assert_int_equal(d.sig_checked, 0);
    assert_int_equal(chain_tx_check_sig(&d, G), 1);
    assert_int_equal(d.sig_checked, 1);
    /* Cached: a later call does not verify again. */
    d.sig[0] ^= 1;
    assert_int_equal(chain_tx_check_sig(&d, G), 1);
    /* Finalize recomputes from content and drops the cache. */
    assert_int_equal(chain_tx_finalize(&d, &err), 0);
    assert_int_equal(d.sig_checked, 0);
    assert_int_equal(chain_tx_check_sig(&d, G), 0);
    assert_int_equal(chain_tx_check_sig(&d, G), 0);

    chain_tx c;
    assert_int_equal(chain_tx_copy(&c, &tx), 0);
    assert_memory_equal(c.id, tx.id, 32);
    chain_tx_free(&c);
    chain_tx_free(&d);
    chain_tx_free(&tx);
    free(p);
    free(p2);
}

/* Randomized aux: two signatures of the same content differ, both verify. */
static void test_sign_is_randomized(void **state)
{
    (void)state;
    chain_tx a, b;
    uint8_t *pa, *pb;
    size_t na, nb;
    signed_tx(&a, &pa, &na);
    signed_tx(&b, &pb, &nb);
    uint8_t sa[32], sb[32];
    assert_int_equal(chain_tx_sighash(&a, G, sa), 0);
    assert_int_equal(chain_tx_sighash(&b, G, sb), 0);
    assert_memory_equal(sa, sb, 32);
    assert_memory_not_equal(a.sig, b.sig, 64);
    assert_int_equal(chain_tx_check_sig(&a, G), 1);
    assert_int_equal(chain_tx_check_sig(&b, G), 1);
    free(pa);
    free(pb);
}

/* Any single flipped bit either makes the bytes undecodable or the signature
 * invalid: the signature covers every field, including the chain id. */
static void test_bit_flips(void **state)
{
    (void)state;
    chain_tx tx, d;
    uint8_t *p;
    size_t n;
    int decoded = 0;
    signed_tx(&tx, &p, &n);
    for (size_t bit = 0; bit < n * 8; bit++) {
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (chain_tx_decode(&d, p, n, NULL) == 0) {
            decoded++;
            if (chain_tx_check_sig(&d, G) != 0) fail_msg("bit %zu flipped still verifies", bit);
            assert_memory_not_equal(d.id, tx.id, 32);
        }
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Sender, nonce, gas, body and signature bits all decode. */
    assert_true(decoded > (int)(n * 8) / 2);
    free(p);
}

static void expect_reject(const uint8_t *p, size_t n, int code, const char *msg)
{
    chain_tx d;
    util_err err = {0};
    assert_int_equal(chain_tx_decode(&d, p, n, &err), code);
    if (msg && strcmp(err.msg, msg) != 0) fail_msg("got \"%s\", want \"%s\"", err.msg, msg);
}

static void test_rejections(void **state)
{
    (void)state;
    chain_tx tx;
    uint8_t *p, buf[512];
    size_t n;
    signed_tx(&tx, &p, &n);
    /* offsets: version 0, chain id length 1, chain id 2..18, type 19 */

    memcpy(buf, p, n);
    buf[0] = 2;
    expect_reject(buf, n, UTIL_EINVAL, "transaction: unsupported version 2");
    buf[0] = 0;
    expect_reject(buf, n, UTIL_EINVAL, "transaction: unsupported version 0");

    static const uint8_t types[] = {0, 11, 12, 255};
    for (size_t i = 0; i < sizeof types; i++) {
        char want[64];
        memcpy(buf, p, n);
        buf[19] = types[i];
        snprintf(want, sizeof want, "unsupported transaction type %u", types[i]);
        expect_reject(buf, n, UTIL_EINVAL, want);
    }

    const char *badid = "transaction: bad chain id (1..32 characters of a-z, 0-9, '-')";
    memcpy(buf, p, n);
    buf[2] = 'O'; /* uppercase */
    expect_reject(buf, n, UTIL_EINVAL, badid);
    buf[2] = '_';
    expect_reject(buf, n, UTIL_EINVAL, badid);
    buf[2] = 0; /* embedded NUL */
    expect_reject(buf, n, UTIL_EINVAL, badid);
    /* Empty chain id: drop the 17 bytes. */
    buf[0] = 1;
    buf[1] = 0;
    memcpy(buf + 2, p + 19, n - 19);
    expect_reject(buf, n - 17, UTIL_EINVAL, badid);
    /* 33-byte chain id. */
    buf[1] = 33;
    memset(buf + 2, 'a', 33);
    memcpy(buf + 35, p + 19, n - 19);
    expect_reject(buf, n + 16, UTIL_EINVAL, "transaction: bad chain id (33 bytes, at most 32)");
    /* 32 bytes is the maximum and decodes (signature aside). */
    buf[1] = 32;
    memcpy(buf + 34, p + 19, n - 19);
    expect_reject(buf, n + 15, 0, NULL);

    /* Non-minimal length varint 0x91 0x00 for 17. */
    buf[0] = 1;
    buf[1] = 0x91;
    buf[2] = 0x00;
    memcpy(buf + 3, p + 2, n - 2);
    expect_reject(buf, n + 1, UTIL_EINVAL, "transaction: non-minimal varint at byte 1");
    /* An 11-byte varint (caught at its 10th byte, which may only be 0 or 1). */
    memset(buf + 1, 0x80, 10);
    buf[11] = 0x01;
    expect_reject(buf, 12, UTIL_EINVAL, "transaction: varint overflows 64 bits at byte 11");

    /* Every proper prefix is truncated. */
    for (size_t k = 0; k < n; k++) {
        chain_tx d;
        util_err err = {0};
        assert_int_equal(chain_tx_decode(&d, p, k, &err), UTIL_EINVAL);
        assert_non_null(strstr(err.msg, "truncated"));
    }

    memcpy(buf, p, n);
    buf[n] = 0;
    expect_reject(buf, n + 1, UTIL_EINVAL, "transaction: trailing bytes at byte 168");

    uint8_t *big = calloc(1, CHAIN_TX_MAX_SIZE + 1);
    assert_non_null(big);
    memcpy(big, p, n);
    expect_reject(big, CHAIN_TX_MAX_SIZE + 1, UTIL_ELIMIT,
                  "transaction too large: 131073 bytes, at most 131072");
    /* At the limit, the only complaint is the padding after the transaction. */
    expect_reject(big, CHAIN_TX_MAX_SIZE, UTIL_EINVAL, "transaction: trailing bytes at byte 168");
    free(big);
    free(p);
}

static void test_read_sequence(void **state)
{
    (void)state;
    chain_tx a, b, x, y;
    uint8_t *pa, *pb;
    size_t na, nb;
    util_err err;
    signed_tx(&a, &pa, &na);
    signed_tx(&b, &pb, &nb);
    uint8_t buf[400];
    memcpy(buf, pa, na);
    memcpy(buf + na, pb, nb);
    util_rd r;
    util_rd_init(&r, buf, na + nb);
    assert_int_equal(chain_tx_read(&x, &r, &err), 0);
    assert_int_equal(r.pos, na);
    assert_int_equal(chain_tx_read(&y, &r, &err), 0);
    assert_int_equal(util_rd_end(&r), 0);
    assert_memory_equal(x.id, a.id, 32);
    assert_memory_equal(y.id, b.id, 32);
    assert_int_equal(chain_tx_check_sig(&y, G), 1);
    /* Error offsets are relative to the transaction being read. */
    assert_int_equal(chain_tx_read(&x, &r, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, "transaction: truncated at byte 0");
    free(pa);
    free(pb);
}

static void test_finalize_and_sign_checks(void **state)
{
    (void)state;
    chain_keypair kp;
    chain_tx tx;
    util_err err;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    make_tx(&tx, &kp, 1);
    tx.version = 2;
    assert_int_equal(chain_tx_finalize(&tx, &err), UTIL_EINVAL);
    assert_int_equal(chain_tx_sign(&tx, &kp, G, &err), UTIL_EINVAL);
    make_tx(&tx, &kp, 1);
    tx.type = 11;
    assert_int_equal(chain_tx_sign(&tx, &kp, G, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, "unsupported transaction type 11");
    make_tx(&tx, &kp, 1);
    strcpy(tx.chain_id, "Devnet");
    assert_int_equal(chain_tx_sign(&tx, &kp, G, &err), UTIL_EINVAL);
    make_tx(&tx, &kp, 1);
    memset(tx.chain_id, 'a', sizeof tx.chain_id); /* not terminated */
    assert_int_equal(chain_tx_finalize(&tx, &err), UTIL_EINVAL);
}

static void test_chain_id_valid(void **state)
{
    (void)state;
    assert_true(chain_id_valid("openledger-devnet"));
    assert_true(chain_id_valid("a"));
    assert_true(chain_id_valid("0-9"));
    assert_true(chain_id_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
    assert_false(chain_id_valid("abcdefghijklmnopqrstuvwxyz0123456"));
    assert_false(chain_id_valid(""));
    assert_false(chain_id_valid(NULL));
    assert_false(chain_id_valid("Devnet"));
    assert_false(chain_id_valid("dev net"));
    assert_false(chain_id_valid("dev_net"));
    assert_false(chain_id_valid("dev.net"));
    assert_false(chain_id_valid("d\xc3\xa9v"));
}

static void test_gas_and_cost(void **state)
{
    (void)state;
    chain_keypair kp;
    chain_tx tx;
    uint64_t c;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    make_tx(&tx, &kp, 1);
    assert_int_equal(chain_tx_intrinsic_gas(&tx), CHAIN_GAS_TRANSFER);
    assert_int_equal(chain_tx_value(&tx), 1250000000);
    assert_int_equal(chain_tx_max_cost(&tx, &c), 0);
    assert_int_equal(c, 1000 * 1 + 1250000000);
    tx.gas_price = UINT64_MAX / 1000 + 1; /* gas_limit * gas_price overflows */
    c = 42;
    assert_int_equal(chain_tx_max_cost(&tx, &c), -1);
    assert_int_equal(c, 42);
    tx.gas_price = 1;
    tx.body.transfer.amount = UINT64_MAX - 999; /* fee + amount = 2^64 */
    assert_int_equal(chain_tx_max_cost(&tx, &c), -1);
    tx.body.transfer.amount = UINT64_MAX - 1000;
    assert_int_equal(chain_tx_max_cost(&tx, &c), 0);
    assert_true(c == UINT64_MAX);

    assert_string_equal(chain_tx_type_name(CHAIN_TX_TRANSFER), "transfer");
    assert_string_equal(chain_tx_type_name(CHAIN_TX_CALL), "call");
    assert_string_equal(chain_tx_type_name(0), "unknown");
    assert_string_equal(chain_tx_type_name(99), "unknown");
}

static void test_known_answer_attribute(void **state)
{
    (void)state;
    chain_keypair kp;
    chain_tx tx, d;
    util_err err;
    char hex[2 * ATTR_LEN + 1];
    static const chain_attr_entry e[3] = {{1, 600}, {5, 300}, {9, 100}};
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    strcpy(tx.chain_id, "openledger-devnet");
    tx.type = CHAIN_TX_ATTRIBUTE;
    memcpy(tx.sender, kp.pubkey, 32);
    tx.nonce = 42;
    tx.gas_limit = 20000;
    tx.gas_price = 3;
    tx.body.attribute.model = 7;
    for (int i = 0; i < 32; i++)
        tx.body.attribute.output_hash[i] = (uint8_t)i;
    tx.body.attribute.fee = 5000000000ull;
    tx.body.attribute.method = CHAIN_ATTR_SUFFIX_ARRAY;
    memset(tx.body.attribute.evidence_hash, 0xee, 32);
    tx.body.attribute.nentries = 3;
    tx.body.attribute.entries = malloc(sizeof e);
    assert_non_null(tx.body.attribute.entries);
    memcpy(tx.body.attribute.entries, e, sizeof e);
    assert_int_equal(chain_tx_finalize(&tx, &err), 0);
    uint8_t sh[32];
    assert_int_equal(chain_tx_sighash(&tx, G, sh), 0);
    util_hex_encode(hex, sh, 32);
    assert_string_equal(hex, ATTR_SIGHASH);
    /* All-zero aux: the deterministic BIP-340 signature. */
    assert_int_equal(chain_sign(tx.sig, sh, &kp, NULL), 0);
    assert_int_equal(chain_tx_finalize(&tx, &err), 0);
    uint8_t *p;
    size_t n;
    encode(&tx, &p, &n);
    assert_int_equal(n, ATTR_LEN);
    util_hex_encode(hex, p, n);
    assert_string_equal(hex, ATTR_ENC);
    util_hex_encode(hex, tx.id, 32);
    assert_string_equal(hex, ATTR_ID);
    assert_int_equal(chain_tx_check_sig(&tx, G), 1);

    assert_int_equal(chain_tx_decode(&d, p, n, &err), 0);
    assert_memory_equal(d.id, tx.id, 32);
    assert_int_equal(chain_tx_check_sig(&d, G), 1);
    assert_int_equal(chain_tx_value(&d), 5000000000ull);
    assert_int_equal(chain_tx_intrinsic_gas(&d), 5000 + 3 * 500);
    uint64_t cost;
    assert_int_equal(chain_tx_max_cost(&d, &cost), 0);
    assert_int_equal(cost, 20000 * 3 + 5000000000ull);
    chain_tx_free(&d);
    chain_tx_free(&tx);
    free(p);
}

/* The genesis hash is part of the signing domain: a transaction signed for
 * one genesis does not verify under another with the same chain id, and the
 * unbound digest of the old domain is not what is signed. */
static void test_genesis_domain(void **state)
{
    (void)state;
    chain_keypair kp;
    chain_tx tx, d;
    util_err err;
    char hex[65];
    uint8_t other[32], sh[32];
    memcpy(other, G, 32);
    other[31] ^= 1;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    make_tx(&tx, &kp, 1);
    assert_int_equal(chain_tx_sign(&tx, &kp, G, &err), 0);
    assert_int_equal(chain_tx_copy(&d, &tx), 0);
    assert_int_equal(chain_tx_check_sig(&d, other), 0);
    assert_int_equal(d.sig_checked, 0);
    assert_int_equal(chain_tx_check_sig(&d, NULL), 0); /* no domain: never valid */
    assert_int_equal(chain_tx_check_sig(&d, G), 1);
    assert_int_equal(chain_tx_sighash(&tx, other, sh), 0);
    util_hex_encode(hex, sh, 32);
    assert_string_not_equal(hex, KAT_SIGHASH);
    assert_string_not_equal(hex, KAT_SIGHASH_UNBOUND);
    /* A signature over the old, unbound digest is refused. */
    uint8_t unbound[32];
    assert_int_equal(util_hex_decode_exact(unbound, 32, KAT_SIGHASH_UNBOUND), 0);
    assert_int_equal(chain_sign(tx.sig, unbound, &kp, NULL), 0);
    assert_int_equal(chain_tx_finalize(&tx, &err), 0);
    assert_int_equal(chain_tx_check_sig(&tx, G), 0);
    chain_tx_free(&d);
    chain_tx_free(&tx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_sign_decode_roundtrip),
        cmocka_unit_test(test_sign_is_randomized),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_read_sequence),
        cmocka_unit_test(test_finalize_and_sign_checks),
        cmocka_unit_test(test_chain_id_valid),
        cmocka_unit_test(test_gas_and_cost),
        cmocka_unit_test(test_known_answer_attribute),
        cmocka_unit_test(test_genesis_domain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
