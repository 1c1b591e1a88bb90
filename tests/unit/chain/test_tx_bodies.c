/* Attribution and contract transaction bodies: round trips at the limits,
 * every decoder rejection, the same rules in chain_tx_finalize, ownership
 * (copy/free under ASan), gas and value, blocks holding every type. The
 * ATTRIBUTE known answer is in test_tx.c, receipts with events in
 * test_block.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/types/block.h"
#include "chain/crypto/hash.h"
#include "chain/types/tx.h"
#include "util/hex.h"

/* The genesis hash transactions are signed for (their signing domain). */
static const uint8_t GH[32] = {0x6f, 0x6c, 0x2d, 0x74, 0x65, 0x73, 0x74};

#define CID "openledger-devnet"

static const uint8_t ALL_TYPES[] = {
    CHAIN_TX_TRANSFER,       CHAIN_TX_DATANET_CREATE, CHAIN_TX_CONTRIBUTE, CHAIN_TX_REVIEW,
    CHAIN_TX_MODEL_REGISTER, CHAIN_TX_ATTRIBUTE,      CHAIN_TX_DEPLOY,     CHAIN_TX_CALL,
};

static void envelope(chain_tx *tx, uint8_t type)
{
    chain_keypair kp;
    memset(tx, 0, sizeof *tx);
    tx->version = CHAIN_TX_VERSION;
    strcpy(tx->chain_id, CID);
    tx->type = type;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    memcpy(tx->sender, kp.pubkey, 32);
    tx->nonce = 3;
    tx->gas_limit = 100000;
    tx->gas_price = 2;
}

static void *dup(const void *p, size_t n)
{
    void *q = malloc(n);
    assert_non_null(q);
    memcpy(q, p, n);
    return q;
}

/* Sets an owned body string, bypassing chain_tx_set_str's length limit so
 * the checks can be tested: n copies of c (n = 0: NULL). */
static void fill(char **dst, char c, size_t n)
{
    free(*dst);
    *dst = NULL;
    if (n == 0) return;
    *dst = malloc(n + 1);
    assert_non_null(*dst);
    memset(*dst, c, n);
    (*dst)[n] = 0;
}

static void set(char **dst, const char *s)
{
    assert_int_equal(chain_tx_set_str(dst, s, SIZE_MAX - 1), 0);
}

/* A valid transaction of each type with typical values. */
static void make(chain_tx *tx, uint8_t type)
{
    envelope(tx, type);
    switch (type) {
    case CHAIN_TX_TRANSFER:
        memset(tx->body.transfer.to.b, 0x12, CHAIN_ADDR_LEN);
        tx->body.transfer.amount = 99;
        break;
    case CHAIN_TX_DATANET_CREATE:
        set(&tx->body.datanet_create.name, "Medical Q&A v1");
        memset(tx->body.datanet_create.meta_hash, 0x10, 32);
        set(&tx->body.datanet_create.meta_uri, "ipfs://bafy/meta.json");
        tx->body.datanet_create.bond = 1000000000;
        tx->body.datanet_create.review = 1;
        break;
    case CHAIN_TX_CONTRIBUTE:
        tx->body.contribute.datanet = 1;
        memset(tx->body.contribute.content_hash, 0x20, 32);
        tx->body.contribute.size = 4096;
        set(&tx->body.contribute.uri, "ar://c1");
        break;
    case CHAIN_TX_REVIEW:
        tx->body.review.contribution = 5;
        tx->body.review.accept = 0;
        tx->body.review.reason = 3;
        break;
    case CHAIN_TX_MODEL_REGISTER: {
        static const uint64_t ds[] = {1, 3};
        chain_tx_model_register *m = &tx->body.model_register;
        set(&m->name, "med-llm");
        assert_int_equal(chain_tx_set_datanets(m, ds, 2), 0);
        memset(m->attestor, 0x30, 32);
        m->owner_bp = 1000;
        m->validators_bp = 500;
        m->contributors_bp = 8500;
        break;
    }
    case CHAIN_TX_ATTRIBUTE: {
        static const chain_attr_entry e[3] = {{1, 600}, {5, 300}, {9, 100}};
        chain_tx_attribute *a = &tx->body.attribute;
        a->model = 7;
        memset(a->output_hash, 0x40, 32);
        a->fee = 5000000000ull;
        a->method = CHAIN_ATTR_SUFFIX_ARRAY;
        memset(a->evidence_hash, 0x41, 32);
        a->nentries = 3;
        a->entries = dup(e, sizeof e);
        break;
    }
    case CHAIN_TX_DEPLOY:
        tx->body.deploy.len = 5;
        tx->body.deploy.code = dup("\x01\x02\x03\x04\x05", 5);
        break;
    case CHAIN_TX_CALL:
        memset(tx->body.call.contract.b, 0x55, CHAIN_ADDR_LEN);
        tx->body.call.value = 12345;
        tx->body.call.len = 3;
        tx->body.call.input = dup("abc", 3);
        break;
    }
}

static void encode(const chain_tx *tx, uint8_t **p, size_t *n)
{
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_tx_encode(tx, &b), 0);
    assert_int_equal(util_buf_take(&b, p, n), 0);
}

/* finalize, encode, decode, re-encode, copy: all must agree. Frees tx. */
static void roundtrip(chain_tx *tx)
{
    util_err err = {0};
    uint8_t *p, *p2, *p3;
    size_t n, n2, n3;
    chain_tx d, c;
    if (chain_tx_finalize(tx, &err)) fail_msg("finalize: %s", err.msg);
    encode(tx, &p, &n);
    assert_int_equal(n, chain_tx_encoded_len(tx));
    assert_int_equal(n, tx->size);
    if (chain_tx_decode(&d, p, n, &err)) fail_msg("decode: %s", err.msg);
    assert_memory_equal(d.id, tx->id, 32);
    uint8_t sd[32], st[32];
    assert_int_equal(chain_tx_sighash(&d, GH, sd), 0);
    assert_int_equal(chain_tx_sighash(tx, GH, st), 0);
    assert_memory_equal(sd, st, 32);
    assert_int_equal(d.size, n);
    encode(&d, &p2, &n2);
    assert_int_equal(n2, n);
    assert_memory_equal(p2, p, n);
    assert_int_equal(chain_tx_copy(&c, &d), 0);
    chain_tx_free(&d);
    memset(&d, 0xa5, sizeof d); /* the copy must not share memory with d */
    encode(&c, &p3, &n3);
    assert_int_equal(n3, n);
    assert_memory_equal(p3, p, n);
    chain_tx_free(&c);
    chain_tx_free(tx);
    free(p);
    free(p2);
    free(p3);
}

static void test_roundtrip_each_type(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ALL_TYPES; i++) {
        chain_tx tx;
        make(&tx, ALL_TYPES[i]);
        roundtrip(&tx);
    }
    /* Decoded fields, for one type with every field kind. */
    chain_tx tx, d;
    uint8_t *p;
    size_t n;
    util_err err;
    make(&tx, CHAIN_TX_ATTRIBUTE);
    assert_int_equal(chain_tx_finalize(&tx, &err), 0);
    encode(&tx, &p, &n);
    assert_int_equal(chain_tx_decode(&d, p, n, &err), 0);
    assert_int_equal(d.body.attribute.model, 7);
    assert_int_equal(d.body.attribute.fee, 5000000000ull);
    assert_int_equal(d.body.attribute.method, 1);
    assert_int_equal(d.body.attribute.nentries, 3);
    assert_int_equal(d.body.attribute.entries[1].contribution, 5);
    assert_int_equal(d.body.attribute.entries[1].weight, 300);
    assert_ptr_not_equal(d.body.attribute.entries, tx.body.attribute.entries);
    chain_tx_free(&d);
    chain_tx_free(&tx);
    free(p);
}

static void test_boundaries(void **state)
{
    (void)state;
    chain_tx tx;
    /* Longest name: 64 bytes, space and '~' included; longest URI. */
    make(&tx, CHAIN_TX_DATANET_CREATE);
    fill(&tx.body.datanet_create.name, ' ', CHAIN_NAME_MAX);
    tx.body.datanet_create.name[0] = '~';
    fill(&tx.body.datanet_create.meta_uri, '!', CHAIN_URI_MAX);
    tx.body.datanet_create.review = 0;
    roundtrip(&tx);
    /* One-byte name, empty URI (NULL, the one form of an empty string; ""
     * encodes the same). */
    make(&tx, CHAIN_TX_DATANET_CREATE);
    set(&tx.body.datanet_create.name, "x");
    set(&tx.body.datanet_create.meta_uri, "");
    assert_null(tx.body.datanet_create.meta_uri);
    roundtrip(&tx);
    make(&tx, CHAIN_TX_CONTRIBUTE);
    fill(&tx.body.contribute.uri, '~', CHAIN_URI_MAX);
    roundtrip(&tx);
    make(&tx, CHAIN_TX_CONTRIBUTE);
    fill(&tx.body.contribute.uri, 0, 0);
    roundtrip(&tx);
    make(&tx, CHAIN_TX_REVIEW);
    tx.body.review.accept = 1;
    tx.body.review.reason = 0;
    roundtrip(&tx);
    make(&tx, CHAIN_TX_REVIEW);
    tx.body.review.reason = UINT32_MAX;
    roundtrip(&tx);
    /* 16 datanets; a split all to one party. */
    make(&tx, CHAIN_TX_MODEL_REGISTER);
    uint64_t ds[CHAIN_MODEL_MAX_DATANETS];
    for (int i = 0; i < CHAIN_MODEL_MAX_DATANETS; i++)
        ds[i] = UINT64_MAX - (uint64_t)i;
    assert_int_equal(chain_tx_set_datanets(&tx.body.model_register, ds, CHAIN_MODEL_MAX_DATANETS),
                     0);
    tx.body.model_register.owner_bp = 0;
    tx.body.model_register.validators_bp = 0;
    tx.body.model_register.contributors_bp = CHAIN_BP_TOTAL;
    assert_int_equal(chain_tx_intrinsic_gas(&tx), 5000 + 16 * 200);
    roundtrip(&tx);
    make(&tx, CHAIN_TX_MODEL_REGISTER);
    assert_int_equal(chain_tx_set_datanets(&tx.body.model_register, ds, 1), 0);
    roundtrip(&tx);
    /* 256 entries; no entries. */
    make(&tx, CHAIN_TX_ATTRIBUTE);
    free(tx.body.attribute.entries);
    tx.body.attribute.nentries = CHAIN_ATTR_MAX_ENTRIES;
    tx.body.attribute.entries = calloc(CHAIN_ATTR_MAX_ENTRIES, sizeof(chain_attr_entry));
    assert_non_null(tx.body.attribute.entries);
    for (uint32_t i = 0; i < CHAIN_ATTR_MAX_ENTRIES; i++) {
        tx.body.attribute.entries[i].contribution = 1000 - i;
        tx.body.attribute.entries[i].weight = i; /* zero weight allowed */
    }
    tx.body.attribute.method = CHAIN_ATTR_OTHER;
    assert_int_equal(chain_tx_intrinsic_gas(&tx), 5000 + 256 * 500);
    roundtrip(&tx);
    make(&tx, CHAIN_TX_ATTRIBUTE);
    free(tx.body.attribute.entries);
    tx.body.attribute.entries = NULL;
    tx.body.attribute.nentries = 0;
    tx.body.attribute.method = CHAIN_ATTR_GRADIENT;
    roundtrip(&tx);
    /* Largest and smallest code. */
    make(&tx, CHAIN_TX_DEPLOY);
    free(tx.body.deploy.code);
    tx.body.deploy.len = CHAIN_CODE_MAX;
    tx.body.deploy.code = calloc(1, CHAIN_CODE_MAX);
    assert_non_null(tx.body.deploy.code);
    tx.body.deploy.code[CHAIN_CODE_MAX - 1] = 0xff;
    assert_int_equal(chain_tx_intrinsic_gas(&tx), 20000 + 10 * (uint64_t)CHAIN_CODE_MAX);
    roundtrip(&tx);
    make(&tx, CHAIN_TX_DEPLOY);
    tx.body.deploy.len = 1;
    roundtrip(&tx);
    /* Largest and empty input. */
    make(&tx, CHAIN_TX_CALL);
    free(tx.body.call.input);
    tx.body.call.len = CHAIN_INPUT_MAX;
    tx.body.call.input = calloc(1, CHAIN_INPUT_MAX);
    assert_non_null(tx.body.call.input);
    roundtrip(&tx);
    make(&tx, CHAIN_TX_CALL);
    free(tx.body.call.input);
    tx.body.call.input = NULL;
    tx.body.call.len = 0;
    roundtrip(&tx);
}

/* ---- rejections, built byte by byte ---- */

/* A transaction of `type` with the given body bytes and a zero signature. */
static void raw(util_buf *b, uint8_t type, const util_buf *body)
{
    uint8_t sender[32] = {0};
    util_buf_init(b);
    util_buf_u8(b, 1);
    util_buf_lenbytes(b, CID, strlen(CID));
    util_buf_u8(b, type);
    util_buf_put(b, sender, 32);
    util_buf_u64(b, 1);
    util_buf_u64(b, 100000);
    util_buf_u64(b, 1);
    util_buf_put(b, body->data, body->len);
    uint8_t sig[64] = {0};
    util_buf_put(b, sig, 64);
    assert_false(b->oom);
}

static void expect(uint8_t type, util_buf *body, int code, const char *msg)
{
    util_buf b;
    chain_tx d;
    util_err err = {0};
    raw(&b, type, body);
    int rc = chain_tx_decode(&d, b.data, b.len, &err);
    if (rc != code) fail_msg("type %u: rc %d, want %d (%s)", type, rc, code, err.msg);
    if (msg && strcmp(err.msg, msg) != 0) fail_msg("got \"%s\", want \"%s\"", err.msg, msg);
    if (rc == 0) chain_tx_free(&d);
    util_buf_free(&b);
    util_buf_reset(body);
}

static void put_text(util_buf *b, char c, size_t n)
{
    char s[1024];
    memset(s, c, n);
    util_buf_lenbytes(b, s, n);
}

static void dn_body(util_buf *b, const char *name, size_t nlen, const char *uri, size_t ulen,
                    uint8_t review)
{
    uint8_t h[32] = {0};
    util_buf_lenbytes(b, name, nlen);
    util_buf_put(b, h, 32);
    util_buf_lenbytes(b, uri, ulen);
    util_buf_u64(b, 10);
    util_buf_u8(b, review);
}

static void test_reject_datanet_contribute(void **state)
{
    (void)state;
    util_buf body;
    char big[300];
    memset(big, 'a', sizeof big);
    util_buf_init(&body);
    dn_body(&body, "ok", 2, "u", 1, 1);
    expect(CHAIN_TX_DATANET_CREATE, &body, 0, NULL);
    dn_body(&body, "", 0, "u", 1, 1);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL, "transaction: name is empty");
    dn_body(&body, big, 65, "u", 1, 1);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL,
           "transaction: name too long (65 bytes, at most 64)");
    dn_body(&body, "a\x1f", 2, "u", 1, 1);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL,
           "transaction: name has byte 0x1f at position 1 (allowed 0x20..0x7e)");
    dn_body(&body, "\x7f", 1, "u", 1, 1);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL,
           "transaction: name has byte 0x7f at position 0 (allowed 0x20..0x7e)");
    dn_body(&body, "a\0b", 3, "u", 1, 1);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL,
           "transaction: name has byte 0x00 at position 1 (allowed 0x20..0x7e)");
    dn_body(&body, "\xc3\xa9", 2, "u", 1, 1);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL,
           "transaction: name has byte 0xc3 at position 0 (allowed 0x20..0x7e)");
    dn_body(&body, "ok", 2, big, 257, 1);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL,
           "transaction: meta_uri too long (257 bytes, at most 256)");
    dn_body(&body, "ok", 2, "a b", 3, 1);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL,
           "transaction: meta_uri has byte 0x20 at position 1 (allowed 0x21..0x7e)");
    dn_body(&body, "ok", 2, "u", 1, 2);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL,
           "transaction: review flag must be 0 or 1, got 2");
    /* A huge declared length is "too long", not a read past the input. */
    util_buf_varint(&body, UINT64_MAX);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL,
           "transaction: name too long (18446744073709551615 bytes, at most 64)");
    /* Non-minimal name length: 0x82 0x00 for 2. */
    util_buf_u8(&body, 0x82);
    util_buf_u8(&body, 0x00);
    expect(CHAIN_TX_DATANET_CREATE, &body, UTIL_EINVAL,
           "transaction: non-minimal varint at byte 76");

    uint8_t h[32] = {0};
    util_buf_u64(&body, 1);
    util_buf_put(&body, h, 32);
    util_buf_u64(&body, 1);
    put_text(&body, 'a', 257);
    expect(CHAIN_TX_CONTRIBUTE, &body, UTIL_EINVAL,
           "transaction: uri too long (257 bytes, at most 256)");
    util_buf_u64(&body, 1);
    util_buf_put(&body, h, 32);
    util_buf_u64(&body, 1);
    util_buf_lenbytes(&body, "ab\x7f", 3);
    expect(CHAIN_TX_CONTRIBUTE, &body, UTIL_EINVAL,
           "transaction: uri has byte 0x7f at position 2 (allowed 0x21..0x7e)");
    util_buf_free(&body);
}

static void review_body(util_buf *b, uint8_t accept, uint32_t reason)
{
    util_buf_u64(b, 9);
    util_buf_u8(b, accept);
    util_buf_u32(b, reason);
}

static void model_body(util_buf *b, uint64_t n, const uint64_t *ids, uint16_t o, uint16_t v,
                       uint16_t c)
{
    uint8_t z[32] = {0};
    util_buf_lenbytes(b, "m", 1);
    util_buf_varint(b, n);
    for (uint64_t i = 0; i < n && i < 20; i++)
        util_buf_u64(b, ids[i]);
    util_buf_put(b, z, 32);
    util_buf_put(b, z, 20);
    util_buf_u16(b, o);
    util_buf_u16(b, v);
    util_buf_u16(b, c);
}

static void test_reject_review_model(void **state)
{
    (void)state;
    util_buf body;
    util_buf_init(&body);
    review_body(&body, 0, 7);
    expect(CHAIN_TX_REVIEW, &body, 0, NULL);
    review_body(&body, 2, 0);
    expect(CHAIN_TX_REVIEW, &body, UTIL_EINVAL, "transaction: accept flag must be 0 or 1, got 2");
    review_body(&body, 1, 4);
    expect(CHAIN_TX_REVIEW, &body, UTIL_EINVAL,
           "transaction: an accepting review must have reason 0, got 4");

    uint64_t ids[20];
    for (int i = 0; i < 20; i++)
        ids[i] = (uint64_t)i + 1;
    model_body(&body, 2, ids, 2000, 1000, 7000);
    expect(CHAIN_TX_MODEL_REGISTER, &body, 0, NULL);
    model_body(&body, 0, ids, 2000, 1000, 7000);
    expect(CHAIN_TX_MODEL_REGISTER, &body, UTIL_EINVAL,
           "transaction: a model needs 1..16 datanets, got 0");
    model_body(&body, 17, ids, 2000, 1000, 7000);
    expect(CHAIN_TX_MODEL_REGISTER, &body, UTIL_EINVAL,
           "transaction: a model needs 1..16 datanets, got 17");
    ids[3] = ids[1];
    model_body(&body, 4, ids, 2000, 1000, 7000);
    expect(CHAIN_TX_MODEL_REGISTER, &body, UTIL_EINVAL, "transaction: duplicate datanet 2");
    model_body(&body, 2, ids, 2000, 1000, 6999);
    expect(CHAIN_TX_MODEL_REGISTER, &body, UTIL_EINVAL,
           "transaction: split must sum to 10000 basis points, got 9999");
    model_body(&body, 2, ids, 2000, 1000, 7001);
    expect(CHAIN_TX_MODEL_REGISTER, &body, UTIL_EINVAL,
           "transaction: split must sum to 10000 basis points, got 10001");
    /* No u16 wrap-around: 3 x 65535 is not 10000 modulo anything. */
    model_body(&body, 2, ids, 65535, 65535, 65535);
    expect(CHAIN_TX_MODEL_REGISTER, &body, UTIL_EINVAL,
           "transaction: split must sum to 10000 basis points, got 196605");
    model_body(&body, 2, ids, 10000, 0, 0);
    expect(CHAIN_TX_MODEL_REGISTER, &body, 0, NULL);
    util_buf_lenbytes(&body, "", 0);
    expect(CHAIN_TX_MODEL_REGISTER, &body, UTIL_EINVAL, "transaction: name is empty");
    util_buf_free(&body);
}

static void attr_body(util_buf *b, uint8_t method, uint64_t n, uint64_t dup_of)
{
    uint8_t z[32] = {0};
    util_buf_u64(b, 1);
    util_buf_put(b, z, 32);
    util_buf_u64(b, 100);
    util_buf_u8(b, method);
    util_buf_put(b, z, 32);
    util_buf_varint(b, n);
    for (uint64_t i = 0; i < n; i++) {
        util_buf_u64(b, i == n - 1 && dup_of != UINT64_MAX ? dup_of : i * 3);
        util_buf_u64(b, 1);
    }
}

static void test_reject_attribute_contract(void **state)
{
    (void)state;
    util_buf body;
    util_buf_init(&body);
    attr_body(&body, 2, 256, UINT64_MAX);
    expect(CHAIN_TX_ATTRIBUTE, &body, 0, NULL);
    attr_body(&body, 3, 1, UINT64_MAX);
    expect(CHAIN_TX_ATTRIBUTE, &body, UTIL_EINVAL,
           "transaction: unknown attribution method 3 (0..2)");
    attr_body(&body, 0, 257, UINT64_MAX);
    expect(CHAIN_TX_ATTRIBUTE, &body, UTIL_EINVAL,
           "transaction: 257 attribution entries, at most 256");
    attr_body(&body, 0, 10, 6); /* the last entry repeats contribution 6 (entry 2) */
    expect(CHAIN_TX_ATTRIBUTE, &body, UTIL_EINVAL,
           "transaction: duplicate entry for contribution 6");
    /* Declares 100 entries, carries 2 (and the signature): truncated. */
    attr_body(&body, 0, 2, UINT64_MAX);
    body.data[8 + 32 + 8 + 1 + 32] = 100;
    expect(CHAIN_TX_ATTRIBUTE, &body, UTIL_EINVAL, "transaction: truncated at byte 158");

    uint8_t code[CHAIN_CODE_MAX + 1] = {0};
    util_buf_lenbytes(&body, code, 0);
    expect(CHAIN_TX_DEPLOY, &body, UTIL_EINVAL, "transaction: contract code is empty");
    util_buf_lenbytes(&body, code, CHAIN_CODE_MAX + 1);
    expect(CHAIN_TX_DEPLOY, &body, UTIL_EINVAL,
           "transaction: contract code too large (24577 bytes, at most 24576)");
    util_buf_lenbytes(&body, code, CHAIN_CODE_MAX);
    expect(CHAIN_TX_DEPLOY, &body, 0, NULL);

    uint8_t to[20] = {0};
    util_buf_put(&body, to, 20);
    util_buf_u64(&body, 5);
    util_buf_lenbytes(&body, code, CHAIN_INPUT_MAX + 1);
    expect(CHAIN_TX_CALL, &body, UTIL_EINVAL,
           "transaction: call input too large (16385 bytes, at most 16384)");
    util_buf_put(&body, to, 20);
    util_buf_u64(&body, 5);
    util_buf_lenbytes(&body, code, CHAIN_INPUT_MAX);
    expect(CHAIN_TX_CALL, &body, 0, NULL);
    util_buf_free(&body);
}

/* Every proper prefix and one trailing byte, for each type: rejected, and
 * (under ASan) nothing leaks, whatever was allocated before the failure. */
static void test_truncation_and_trailing(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof ALL_TYPES; t++) {
        chain_tx tx, d;
        uint8_t *p;
        size_t n;
        util_err err;
        make(&tx, ALL_TYPES[t]);
        assert_int_equal(chain_tx_finalize(&tx, &err), 0);
        encode(&tx, &p, &n);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(chain_tx_decode(&d, p, k, &err), UTIL_EINVAL);
            assert_non_null(strstr(err.msg, "truncated"));
            assert_null(d.body.attribute.entries); /* overlaps code and input too */
            assert_null(d.body.deploy.code);
            assert_null(d.body.call.input);
        }
        uint8_t *q = malloc(n + 1);
        assert_non_null(q);
        memcpy(q, p, n);
        q[n] = 0;
        assert_int_equal(chain_tx_decode(&d, q, n + 1, &err), UTIL_EINVAL);
        assert_non_null(strstr(err.msg, "trailing bytes"));
        assert_null(d.body.call.input);
        free(q);
        free(p);
        chain_tx_free(&tx);
    }
}

/* chain_tx_finalize (and so chain_tx_sign) applies the decoder's rules to a
 * transaction built in memory. */
static void expect_finalize(chain_tx *tx, const char *msg)
{
    util_err err = {0};
    assert_int_equal(chain_tx_finalize(tx, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, msg);
    chain_tx_free(tx);
}

static void test_finalize_rules(void **state)
{
    (void)state;
    chain_tx tx;
    make(&tx, CHAIN_TX_DATANET_CREATE);
    set(&tx.body.datanet_create.name, "");
    expect_finalize(&tx, "transaction: name is empty");
    make(&tx, CHAIN_TX_DATANET_CREATE);
    fill(&tx.body.datanet_create.name, 'a', CHAIN_NAME_MAX + 1);
    expect_finalize(&tx, "transaction: name too long (65 bytes, at most 64)");
    make(&tx, CHAIN_TX_DATANET_CREATE);
    fill(&tx.body.datanet_create.name, 'a', CHAIN_NAME_MAX + 100); /* counted up to max + 1 */
    expect_finalize(&tx, "transaction: name too long (65 bytes, at most 64)");
    make(&tx, CHAIN_TX_MODEL_REGISTER);
    fill(&tx.body.model_register.name, 0, 0);
    expect_finalize(&tx, "transaction: name is empty");
    make(&tx, CHAIN_TX_DATANET_CREATE);
    set(&tx.body.datanet_create.name, "tab\there");
    expect_finalize(&tx, "transaction: name has byte 0x09 at position 3 (allowed 0x20..0x7e)");
    make(&tx, CHAIN_TX_DATANET_CREATE);
    tx.body.datanet_create.review = 7;
    expect_finalize(&tx, "transaction: review flag must be 0 or 1, got 7");
    make(&tx, CHAIN_TX_CONTRIBUTE);
    fill(&tx.body.contribute.uri, 'a', CHAIN_URI_MAX + 1);
    expect_finalize(&tx, "transaction: uri too long (257 bytes, at most 256)");
    make(&tx, CHAIN_TX_REVIEW);
    tx.body.review.accept = 1;
    expect_finalize(&tx, "transaction: an accepting review must have reason 0, got 3");
    make(&tx, CHAIN_TX_MODEL_REGISTER);
    tx.body.model_register.ndatanets = 17;
    expect_finalize(&tx, "transaction: a model needs 1..16 datanets, got 17");
    make(&tx, CHAIN_TX_MODEL_REGISTER);
    tx.body.model_register.datanets[1] = 1;
    expect_finalize(&tx, "transaction: duplicate datanet 1");
    make(&tx, CHAIN_TX_MODEL_REGISTER);
    free(tx.body.model_register.datanets);
    tx.body.model_register.datanets = NULL;
    expect_finalize(&tx, "transaction: 2 datanets but no datanet array");
    make(&tx, CHAIN_TX_MODEL_REGISTER);
    tx.body.model_register.owner_bp = 0;
    expect_finalize(&tx, "transaction: split must sum to 10000 basis points, got 9000");
    make(&tx, CHAIN_TX_ATTRIBUTE);
    tx.body.attribute.method = 9;
    expect_finalize(&tx, "transaction: unknown attribution method 9 (0..2)");
    make(&tx, CHAIN_TX_ATTRIBUTE);
    tx.body.attribute.entries[2].contribution = 1;
    expect_finalize(&tx, "transaction: duplicate entry for contribution 1");
    make(&tx, CHAIN_TX_ATTRIBUTE);
    tx.body.attribute.nentries = 257; /* checked before the array is read */
    expect_finalize(&tx, "transaction: 257 attribution entries, at most 256");
    make(&tx, CHAIN_TX_ATTRIBUTE);
    free(tx.body.attribute.entries);
    tx.body.attribute.entries = NULL;
    expect_finalize(&tx, "transaction: 3 entries but no entry array");
    make(&tx, CHAIN_TX_DEPLOY);
    tx.body.deploy.len = 0;
    expect_finalize(&tx, "transaction: contract code is empty");
    make(&tx, CHAIN_TX_DEPLOY);
    tx.body.deploy.len = CHAIN_CODE_MAX + 1;
    expect_finalize(&tx, "transaction: contract code too large (24577 bytes, at most 24576)");
    make(&tx, CHAIN_TX_DEPLOY);
    free(tx.body.deploy.code);
    tx.body.deploy.code = NULL;
    expect_finalize(&tx, "transaction: contract code missing");
    make(&tx, CHAIN_TX_CALL);
    tx.body.call.len = CHAIN_INPUT_MAX + 1;
    expect_finalize(&tx, "transaction: call input too large (16385 bytes, at most 16384)");
    make(&tx, CHAIN_TX_CALL);
    free(tx.body.call.input);
    tx.body.call.input = NULL;
    expect_finalize(&tx, "transaction: call input missing");

    /* Signing checks first too, and a valid body signs and verifies. */
    chain_keypair kp;
    util_err err;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    make(&tx, CHAIN_TX_MODEL_REGISTER);
    tx.body.model_register.contributors_bp = 0;
    assert_int_equal(chain_tx_sign(&tx, &kp, GH, &err), UTIL_EINVAL);
    tx.body.model_register.contributors_bp = 8500;
    assert_int_equal(chain_tx_sign(&tx, &kp, GH, &err), 0);
    assert_int_equal(chain_tx_check_sig(&tx, GH), 1);
    chain_tx_free(&tx);
}

static void test_copy_and_free(void **state)
{
    (void)state;
    chain_tx tx, c, z;
    /* Deep copies: changing or freeing the source leaves the copy intact. */
    make(&tx, CHAIN_TX_ATTRIBUTE);
    assert_int_equal(chain_tx_copy(&c, &tx), 0);
    assert_ptr_not_equal(c.body.attribute.entries, tx.body.attribute.entries);
    tx.body.attribute.entries[0].weight = 1;
    assert_int_equal(c.body.attribute.entries[0].weight, 600);
    chain_tx_free(&tx);
    assert_null(tx.body.attribute.entries);
    assert_int_equal(tx.body.attribute.nentries, 0);
    chain_tx_free(&tx); /* twice is safe */
    assert_int_equal(c.body.attribute.entries[2].contribution, 9);
    chain_tx_free(&c);

    make(&tx, CHAIN_TX_DEPLOY);
    assert_int_equal(chain_tx_copy(&c, &tx), 0);
    assert_ptr_not_equal(c.body.deploy.code, tx.body.deploy.code);
    assert_memory_equal(c.body.deploy.code, tx.body.deploy.code, 5);
    chain_tx_free(&tx);
    assert_null(tx.body.deploy.code);
    assert_int_equal(c.body.deploy.code[4], 5);
    chain_tx_free(&c);
    chain_tx_free(&c);

    make(&tx, CHAIN_TX_CALL);
    assert_int_equal(chain_tx_copy(&c, &tx), 0);
    assert_ptr_not_equal(c.body.call.input, tx.body.call.input);
    chain_tx_free(&tx);
    assert_null(tx.body.call.input);
    assert_memory_equal(c.body.call.input, "abc", 3);
    assert_int_equal(chain_tx_copy(&c, &c), 0); /* self-copy is a no-op */
    assert_memory_equal(c.body.call.input, "abc", 3);
    chain_tx_free(&c);

    /* Empty owned parts copy as NULL. */
    make(&tx, CHAIN_TX_CALL);
    free(tx.body.call.input);
    tx.body.call.input = NULL;
    tx.body.call.len = 0;
    assert_int_equal(chain_tx_copy(&c, &tx), 0);
    assert_null(c.body.call.input);
    chain_tx_free(&c);

    memset(&z, 0, sizeof z);
    chain_tx_free(&z);
    chain_tx_free(NULL);
    /* Names, URIs and the datanet list are owned too: deep copies. */
    make(&tx, CHAIN_TX_MODEL_REGISTER);
    assert_int_equal(chain_tx_copy(&c, &tx), 0);
    assert_ptr_not_equal(c.body.model_register.name, tx.body.model_register.name);
    assert_ptr_not_equal(c.body.model_register.datanets, tx.body.model_register.datanets);
    chain_tx_free(&tx);
    assert_null(tx.body.model_register.name);
    assert_null(tx.body.model_register.datanets);
    assert_int_equal(tx.body.model_register.ndatanets, 0);
    assert_string_equal(c.body.model_register.name, "med-llm");
    assert_int_equal(c.body.model_register.datanets[1], 3);
    chain_tx_free(&c);
    make(&tx, CHAIN_TX_DATANET_CREATE);
    assert_int_equal(chain_tx_copy(&c, &tx), 0);
    chain_tx_free(&tx);
    assert_string_equal(c.body.datanet_create.name, "Medical Q&A v1");
    assert_string_equal(c.body.datanet_create.meta_uri, "ipfs://bafy/meta.json");
    chain_tx_free(&c);
    assert_null(c.body.datanet_create.name);
    assert_null(c.body.datanet_create.meta_uri);
    make(&tx, CHAIN_TX_CONTRIBUTE);
    set(&tx.body.contribute.uri, NULL); /* empty: copies as NULL */
    assert_int_equal(chain_tx_copy(&c, &tx), 0);
    assert_null(c.body.contribute.uri);
    chain_tx_free(&c);
    set(&tx.body.contribute.uri, "x");
    assert_int_equal(chain_tx_copy(&c, &tx), 0);
    assert_ptr_not_equal(c.body.contribute.uri, tx.body.contribute.uri);
    chain_tx_free(&tx);
    assert_string_equal(c.body.contribute.uri, "x");
    chain_tx_free(&c);
    /* Plain types own nothing; copy is a value copy. */
    make(&tx, CHAIN_TX_REVIEW);
    assert_int_equal(chain_tx_copy(&c, &tx), 0);
    assert_memory_equal(&c, &tx, sizeof tx);
    chain_tx_free(&c);
    chain_tx_free(&tx);

    /* The setters: limits leave the old value, "" and NULL store NULL. */
    make(&tx, CHAIN_TX_MODEL_REGISTER);
    char long_name[CHAIN_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[CHAIN_NAME_MAX + 1] = 0;
    assert_int_equal(chain_tx_set_str(&tx.body.model_register.name, long_name, CHAIN_NAME_MAX),
                     UTIL_ELIMIT);
    assert_string_equal(tx.body.model_register.name, "med-llm");
    long_name[CHAIN_NAME_MAX] = 0;
    assert_int_equal(chain_tx_set_str(&tx.body.model_register.name, long_name, CHAIN_NAME_MAX), 0);
    assert_int_equal(strlen(tx.body.model_register.name), CHAIN_NAME_MAX);
    assert_int_equal(chain_tx_set_str(&tx.body.model_register.name, "", CHAIN_NAME_MAX), 0);
    assert_null(tx.body.model_register.name);
    assert_string_equal(chain_tx_str(tx.body.model_register.name), "");
    uint64_t many[CHAIN_MODEL_MAX_DATANETS + 1] = {0};
    assert_int_equal(
        chain_tx_set_datanets(&tx.body.model_register, many, CHAIN_MODEL_MAX_DATANETS + 1),
        UTIL_ELIMIT);
    assert_int_equal(tx.body.model_register.ndatanets, 2);
    assert_int_equal(chain_tx_set_datanets(&tx.body.model_register, many, 0), 0);
    assert_null(tx.body.model_register.datanets);
    assert_int_equal(tx.body.model_register.ndatanets, 0);
    chain_tx_free(&tx);
}

static void test_gas_value_names(void **state)
{
    (void)state;
    static const uint64_t gas[] = {1000,           5000,           3000,           2000,
                                   5000 + 2 * 200, 5000 + 3 * 500, 20000 + 5 * 10, 2000};
    static const uint64_t value[] = {99, 0, 0, 0, 0, 5000000000ull, 0, 12345};
    static const char *names[] = {"transfer",       "datanet_create", "contribute", "review",
                                  "model_register", "attribute",      "deploy",     "call"};
    for (size_t i = 0; i < sizeof ALL_TYPES; i++) {
        chain_tx tx;
        make(&tx, ALL_TYPES[i]);
        assert_int_equal(chain_tx_intrinsic_gas(&tx), gas[i]);
        assert_int_equal(chain_tx_value(&tx), value[i]);
        assert_string_equal(chain_tx_type_name(ALL_TYPES[i]), names[i]);
        chain_tx_free(&tx);
    }
    /* The CONTRIBUTE bond is not part of the value (the datanet sets it). */
    chain_tx tx;
    uint64_t c = 7;
    make(&tx, CHAIN_TX_CALL);
    tx.body.call.value = UINT64_MAX - 100000 * 2 + 1;
    assert_int_equal(chain_tx_max_cost(&tx, &c), -1);
    assert_int_equal(c, 7);
    tx.body.call.value = UINT64_MAX - 100000 * 2;
    assert_int_equal(chain_tx_max_cost(&tx, &c), 0);
    assert_true(c == UINT64_MAX);
    chain_tx_free(&tx);
    make(&tx, CHAIN_TX_ATTRIBUTE);
    tx.body.attribute.fee = UINT64_MAX;
    assert_int_equal(chain_tx_max_cost(&tx, &c), -1);
    chain_tx_free(&tx);
    assert_string_equal(chain_tx_type_name(11), "unknown");
}

/* A block holding every type: the block owns the decoded bodies, and a decode
 * that fails in a later transaction frees the earlier ones (ASan). */
static void test_block_with_all_types(void **state)
{
    (void)state;
    chain_block b = {0}, d;
    util_err err;
    util_buf buf;
    b.h.version = CHAIN_BLOCK_VERSION;
    strcpy(b.h.chain_id, CID);
    b.h.height = 1;
    b.ntx = sizeof ALL_TYPES;
    b.txs = calloc(b.ntx, sizeof *b.txs);
    assert_non_null(b.txs);
    for (size_t i = 0; i < b.ntx; i++) {
        make(&b.txs[i], ALL_TYPES[i]);
        assert_int_equal(chain_tx_finalize(&b.txs[i], &err), 0);
    }
    util_buf_init(&buf);
    assert_int_equal(chain_block_encode(&b, &buf), 0);
    assert_int_equal(chain_block_decode(&d, buf.data, buf.len, &err), 0);
    assert_int_equal(d.ntx, b.ntx);
    for (size_t i = 0; i < d.ntx; i++)
        assert_memory_equal(d.txs[i].id, b.txs[i].id, 32);
    assert_memory_equal(d.txs[7].body.call.input, "abc", 3);
    chain_block_free(&d);
    /* One byte short: the last transaction is cut, the first seven were
     * decoded and must be freed. */
    assert_int_not_equal(chain_block_decode(&d, buf.data, buf.len - 1, &err), 0);
    assert_null(d.txs);
    util_buf_free(&buf);
    chain_block_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_each_type),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_reject_datanet_contribute),
        cmocka_unit_test(test_reject_review_model),
        cmocka_unit_test(test_reject_attribute_contract),
        cmocka_unit_test(test_truncation_and_trailing),
        cmocka_unit_test(test_finalize_rules),
        cmocka_unit_test(test_copy_and_free),
        cmocka_unit_test(test_gas_value_names),
        cmocka_unit_test(test_block_with_all_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
