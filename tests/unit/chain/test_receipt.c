/* Receipts: the canonical encoding the receipts root commits to (failure
 * code, return data, revert data, events; never the message), the stored
 * form with the message, the limits, the failure tokens and the UTF-8 rules
 * that keep every reply valid JSON. Hex known answers were computed
 * independently (Python hashlib) from the layout in chain/types/block.h. */
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
#include "util/hex.h"

static void hexeq(const uint8_t *p, size_t n, const char *want)
{
    char *h = malloc(2 * n + 1);
    assert_non_null(h);
    util_hex_encode(h, p, n);
    assert_string_equal(h, want);
    free(h);
}

static void *dup(const void *p, size_t n)
{
    void *q = malloc(n);
    assert_non_null(q);
    memcpy(q, p, n);
    return q;
}

static void encode(const chain_receipt *r, util_buf *b)
{
    util_buf_init(b);
    assert_int_equal(chain_receipt_encode(r, b), 0);
}

/* Layout: status 0, code 1, gas_used 2..9, fee 10..17, created 18..37, ret
 * length 38, revert length 39, event count 40. */
#define FAILED_ENC                                                                                 \
    "0108e803000000000000e8030000000000000000000000000000000000000000000000000000000000"
#define FAILED_HASH "403a9b04ad48570d66e4e6b6739e8852c12cfbc4a7e0e43a0d5eb286ba9d57f5"
#define REVERT_ENC                                                                                 \
    "0102e803000000000000e803000000000000000000000000000000000000000000000000000000026e6f00"
#define REVERT_HASH "f9f5c564ae1dbed0603875d3947ffdb0975a0a1028107759c9c02919e8751e28"

static void test_failed_receipt_known_answer(void **state)
{
    (void)state;
    chain_receipt r = {0}, d;
    uint8_t h[32], h2[32];
    util_err err;
    util_buf b;
    r.gas_used = 1000;
    r.fee = 1000;
    chain_receipt_fail(&r, "insufficient_funds: balance 5 < amount 7");
    assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
    assert_int_equal(r.code, CHAIN_FAIL_INSUFFICIENT_FUNDS);
    encode(&r, &b);
    hexeq(b.data, b.len, FAILED_ENC);
    chain_receipt_hash(&r, h);
    hexeq(h, 32, FAILED_HASH);

    /* Rewording the message never changes the hash: it is not encoded. */
    snprintf(r.error, sizeof r.error, "insufficient_funds: you are %d short", 2);
    chain_receipt_hash(&r, h2);
    assert_memory_equal(h, h2, 32);
    r.error[0] = 0;
    chain_receipt_hash(&r, h2);
    assert_memory_equal(h, h2, 32);
    /* So a block's receipts root does not move either. */
    uint8_t leaves[2][32], root1[32], root2[32];
    memcpy(leaves[0], h, 32);
    memcpy(leaves[1], h2, 32);
    chain_merkle_root((const uint8_t(*)[32])leaves, 2, root1);
    snprintf(r.error, sizeof r.error, "insufficient_funds: reworded");
    chain_receipt_hash(&r, leaves[1]);
    chain_merkle_root((const uint8_t(*)[32])leaves, 2, root2);
    assert_memory_equal(root1, root2, 32);

    assert_int_equal(chain_receipt_decode(&d, b.data, b.len, &err), 0);
    assert_int_equal(d.status, CHAIN_RECEIPT_FAILED);
    assert_int_equal(d.code, CHAIN_FAIL_INSUFFICIENT_FUNDS);
    assert_int_equal(d.gas_used, 1000);
    assert_string_equal(d.error, "");
    chain_receipt_free(&d);
    for (size_t k = 0; k < b.len; k++)
        assert_int_equal(chain_receipt_decode(&d, b.data, k, NULL), UTIL_EINVAL);
    util_buf_u8(&b, 0);
    assert_int_equal(chain_receipt_decode(&d, b.data, b.len, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, "receipt: trailing bytes at byte 41");
    util_buf_free(&b);

    /* Status, code and revert data must agree. */
    static const struct {
        uint8_t status, code;
        const char *msg;
    } bad[] = {
        {2, 1, "receipt: unknown status (status 2, code 1)"},
        {0, 8, "receipt: failure code does not match the status (status 0, code 8)"},
        {1, 0, "receipt: failure code does not match the status (status 1, code 0)"},
        {1, CHAIN_FAIL_COUNT, "receipt: unknown failure code (status 1, code 27)"},
    };
    uint8_t buf[64];
    assert_int_equal(util_hex_decode_exact(buf, 41, FAILED_ENC), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf[0] = bad[i].status;
        buf[1] = bad[i].code;
        assert_int_equal(chain_receipt_decode(&d, buf, 41, &err), UTIL_EINVAL);
        assert_string_equal(err.msg, bad[i].msg);
    }
    /* Revert data with a code other than reverted. */
    assert_int_equal(util_hex_decode_exact(buf, 43, REVERT_ENC), 0);
    buf[1] = CHAIN_FAIL_VM_FAULT;
    assert_int_equal(chain_receipt_decode(&d, buf, 43, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, "receipt: revert data without a revert (status 1, code 3)");
    assert_null(d.revert);
    chain_receipt_free(&r);
}

static void test_revert_receipt(void **state)
{
    (void)state;
    chain_receipt r = {0}, d;
    uint8_t h[32];
    util_err err;
    util_buf b;
    r.gas_used = 1000;
    r.fee = 1000;
    r.revert = dup("no", 2);
    r.revert_len = 2;
    chain_receipt_fail(&r, "reverted: no");
    assert_int_equal(r.code, CHAIN_FAIL_REVERTED);
    encode(&r, &b);
    hexeq(b.data, b.len, REVERT_ENC);
    chain_receipt_hash(&r, h);
    hexeq(h, 32, REVERT_HASH);
    assert_int_equal(chain_receipt_decode(&d, b.data, b.len, &err), 0);
    assert_int_equal(d.revert_len, 2);
    assert_memory_equal(d.revert, "no", 2);
    chain_receipt_free(&d);
    util_buf_free(&b);

    /* The stored form adds the message after the hashed bytes. */
    util_buf_init(&b);
    assert_int_equal(chain_receipt_encode_stored(&r, &b), 0);
    assert_int_equal(b.len, 43 + 1 + strlen("reverted: no"));
    assert_memory_equal(b.data + 44, "reverted: no", 12);
    assert_int_equal(chain_receipt_decode_stored(&d, b.data, b.len, &err), 0);
    assert_string_equal(d.error, "reverted: no");
    assert_memory_equal(d.revert, "no", 2);
    chain_receipt_free(&d);
    for (size_t k = 0; k < b.len; k++)
        assert_int_equal(chain_receipt_decode_stored(&d, b.data, k, NULL), UTIL_EINVAL);
    /* An ill-formed stored message is refused, so no reply can carry one. */
    b.data[b.len - 1] = 0xc3;
    assert_int_equal(chain_receipt_decode_stored(&d, b.data, b.len, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, "receipt: message is not UTF-8 or is on a successful receipt");
    assert_null(d.revert);
    util_buf_free(&b);

    /* A failure that is not a revert drops the revert data. */
    chain_receipt_fail(&r, "vm_fault: out of gas");
    assert_null(r.revert);
    assert_int_equal(r.revert_len, 0);
    chain_receipt_free(&r);
}

/* ok, gas 6500, fee 19500, created 11.., ret 010203, no revert data, events
 * (22.., 33.., "") and (zero emitter, 44.., "payout"). */
#define RC_ENC                                                                                     \
    "000064190000000000002c4c0000000000001111111111111111111111111111111111111111030102030002"     \
    "2222222222222222222222222222222222222222333333333333333333333333333333333333333333333333"     \
    "3333333333333333000000000000000000000000000000000000000000444444444444444444444444444444"     \
    "4444444444444444444444444444444444067061796f7574"
#define RC_HASH "e20d544727302214003ac29ef4bace05ce9bae2da6211f9cf6f5ba2e9c28d7a2"

static void test_receipt_events_roundtrip(void **state)
{
    (void)state;
    chain_receipt r, d;
    util_buf b;
    util_err err;
    uint8_t h[32], t1[32], t2[32];
    chain_addr e1, zero = {{0}};
    memset(&r, 0, sizeof r);
    r.gas_used = 6500;
    r.fee = 19500;
    memset(r.created.b, 0x11, CHAIN_ADDR_LEN);
    r.ret = dup("\x01\x02\x03", 3);
    r.ret_len = 3;
    memset(e1.b, 0x22, CHAIN_ADDR_LEN);
    memset(t1, 0x33, 32);
    memset(t2, 0x44, 32);
    assert_int_equal(chain_receipt_add_event(&r, &e1, t1, NULL, 0), 0);
    assert_int_equal(chain_receipt_add_event(&r, &zero, t2, (const uint8_t *)"payout", 6), 0);
    encode(&r, &b);
    hexeq(b.data, b.len, RC_ENC);
    chain_receipt_hash(&r, h);
    hexeq(h, 32, RC_HASH);
    assert_int_equal(chain_receipt_decode(&d, b.data, b.len, &err), 0);
    assert_memory_equal(d.created.b, r.created.b, CHAIN_ADDR_LEN);
    assert_int_equal(d.ret_len, 3);
    assert_int_equal(d.nevents, 2);
    assert_null(d.events[0].data);
    assert_memory_equal(d.events[1].data, "payout", 6);
    chain_receipt_free(&d);
    for (size_t k = 0; k < b.len; k++) {
        assert_int_equal(chain_receipt_decode(&d, b.data, k, NULL), UTIL_EINVAL);
        assert_null(d.ret);
        assert_null(d.events);
    }
    util_buf_free(&b);
    /* A successful receipt carries no message in the stored form. */
    strcpy(r.error, "oops");
    util_buf_init(&b);
    assert_int_equal(chain_receipt_encode_stored(&r, &b), UTIL_EINVAL);
    util_buf_free(&b);
    chain_receipt_free(&r);
    chain_receipt_free(&r);
    chain_receipt_free(NULL);
}

/* Receipt bytes up to the event list: ok, created zero. */
static void receipt_head(util_buf *b, size_t ret_len, size_t revert_len)
{
    static uint8_t zero[CHAIN_RETURN_MAX + 1];
    util_buf_init(b);
    util_buf_u8(b, revert_len ? CHAIN_RECEIPT_FAILED : CHAIN_RECEIPT_OK);
    util_buf_u8(b, revert_len ? CHAIN_FAIL_REVERTED : CHAIN_FAIL_NONE);
    util_buf_u64(b, 1);
    util_buf_u64(b, 1);
    util_buf_put(b, zero, 20);
    util_buf_lenbytes(b, zero, ret_len);
    util_buf_lenbytes(b, zero, revert_len);
}

static void expect_receipt(util_buf *b, int code, const char *msg)
{
    chain_receipt d;
    util_err err = {0};
    assert_int_equal(chain_receipt_decode(&d, b->data, b->len, &err), code);
    if (msg) assert_string_equal(err.msg, msg);
    if (code == 0) chain_receipt_free(&d);
    assert_null(code ? d.events : NULL);
    assert_null(code ? d.ret : NULL);
    assert_null(code ? d.revert : NULL);
    util_buf_free(b);
}

static void test_receipt_rejections(void **state)
{
    (void)state;
    util_buf b;
    uint8_t z[CHAIN_EVENT_DATA_MAX + 1] = {0};
    receipt_head(&b, CHAIN_RETURN_MAX, 0);
    util_buf_varint(&b, 0);
    expect_receipt(&b, 0, NULL);
    receipt_head(&b, CHAIN_RETURN_MAX + 1, 0);
    util_buf_varint(&b, 0);
    expect_receipt(&b, UTIL_EINVAL, "receipt: return data too large (4097 bytes, at most 4096)");
    receipt_head(&b, 0, CHAIN_REVERT_MAX);
    util_buf_varint(&b, 0);
    expect_receipt(&b, 0, NULL);
    receipt_head(&b, 3, CHAIN_REVERT_MAX + 1);
    util_buf_varint(&b, 0);
    expect_receipt(&b, UTIL_EINVAL, "receipt: revert data too large (257 bytes, at most 256)");
    receipt_head(&b, 0, 0);
    util_buf_varint(&b, CHAIN_RECEIPT_MAX_EVENTS + 1);
    expect_receipt(&b, UTIL_EINVAL, "receipt: 1025 events, at most 1024");
    receipt_head(&b, 0, 0);
    util_buf_varint(&b, 2);
    util_buf_put(&b, z, 53);
    expect_receipt(&b, UTIL_EINVAL, "receipt: 2 events cannot fit in 53 bytes");
    receipt_head(&b, 3, 0);
    util_buf_varint(&b, 2);
    util_buf_put(&b, z, 52);
    util_buf_lenbytes(&b, z, 10);
    util_buf_put(&b, z, 52);
    util_buf_lenbytes(&b, z, CHAIN_EVENT_DATA_MAX + 1);
    expect_receipt(&b, UTIL_EINVAL, "receipt: event 1 data too large (1025 bytes, at most 1024)");
    receipt_head(&b, 0, 0);
    util_buf_u8(&b, 0x80);
    util_buf_u8(&b, 0x00);
    expect_receipt(&b, UTIL_EINVAL, "receipt: non-minimal varint at byte 40");
}

/* The largest receipt the limits allow: full return data and revert data,
 * 1,024 events of 1,024 bytes, a 128-byte message. Its stored form fits the
 * bound the store reads with. */
static void test_largest_receipt(void **state)
{
    (void)state;
    chain_receipt r, d;
    chain_addr a = {{0}};
    uint8_t topic[32] = {0}, data[CHAIN_EVENT_DATA_MAX + 1] = {0};
    util_buf b;
    util_err err;
    memset(&r, 0, sizeof r);
    assert_int_equal(chain_receipt_add_event(&r, &a, topic, data, CHAIN_EVENT_DATA_MAX + 1),
                     UTIL_ELIMIT);
    assert_null(r.events);
    assert_int_equal(chain_receipt_add_event(&r, &a, topic, NULL, 1), UTIL_EINVAL);
    for (uint32_t i = 0; i < CHAIN_RECEIPT_MAX_EVENTS; i++) {
        data[0] = (uint8_t)i;
        assert_int_equal(chain_receipt_add_event(&r, &a, topic, data, CHAIN_EVENT_DATA_MAX), 0);
    }
    assert_int_equal(chain_receipt_add_event(&r, &a, topic, data, 0), UTIL_ELIMIT);
    r.ret = calloc(1, CHAIN_RETURN_MAX);
    r.ret_len = CHAIN_RETURN_MAX;
    r.revert = calloc(1, CHAIN_REVERT_MAX);
    r.revert_len = CHAIN_REVERT_MAX;
    r.status = CHAIN_RECEIPT_FAILED;
    r.code = CHAIN_FAIL_REVERTED;
    memset(r.error, 'x', CHAIN_RECEIPT_ERR_MAX);
    util_buf_init(&b);
    assert_int_equal(chain_receipt_encode_stored(&r, &b), 0);
    assert_true(b.len > 1024 * 1024);
    assert_true(b.len <= CHAIN_RECEIPT_STORED_MAX);
    print_message("largest stored receipt: %zu bytes (bound %zu)\n", b.len,
                  (size_t)CHAIN_RECEIPT_STORED_MAX);
    assert_int_equal(chain_receipt_decode_stored(&d, b.data, b.len, &err), 0);
    assert_int_equal(d.nevents, CHAIN_RECEIPT_MAX_EVENTS);
    assert_int_equal(d.events[300].data[0], 300 & 0xff);
    assert_int_equal(strlen(d.error), CHAIN_RECEIPT_ERR_MAX);
    chain_receipt_free(&d);
    util_buf_free(&b);

    /* A struct over a limit (only a bug builds one) does not encode. */
    r.events[5].len = CHAIN_EVENT_DATA_MAX + 1;
    util_buf_init(&b);
    assert_int_equal(chain_receipt_encode(&r, &b), UTIL_EINVAL);
    assert_int_equal(b.len, 0);
    r.events[5].len = CHAIN_EVENT_DATA_MAX;
    r.revert_len = CHAIN_REVERT_MAX + 1;
    assert_int_equal(chain_receipt_encode(&r, &b), UTIL_EINVAL);
    r.revert_len = CHAIN_REVERT_MAX;
    chain_receipt_free(&r);
    util_buf_free(&b);
}

static void test_fail_tokens(void **state)
{
    (void)state;
    assert_null(chain_fail_token(CHAIN_FAIL_NONE));
    assert_null(chain_fail_token(CHAIN_FAIL_COUNT));
    for (unsigned c = 1; c < CHAIN_FAIL_COUNT; c++) {
        const char *t = chain_fail_token(c);
        assert_non_null(t);
        char msg[80];
        snprintf(msg, sizeof msg, "%s: detail", t);
        assert_int_equal(chain_fail_from_msg(msg), c);
        for (unsigned k = 1; k < c; k++)
            assert_string_not_equal(t, chain_fail_token(k));
    }
    /* Stable numbers: the receipts root commits to them. */
    assert_string_equal(chain_fail_token(2), "reverted");
    assert_string_equal(chain_fail_token(24), "weights_overflow");
    assert_string_equal(chain_fail_token(25), "invalid_payout");
    assert_string_equal(chain_fail_token(26), "earnings_overflow");
    assert_int_equal(chain_fail_from_msg("reverted"), CHAIN_FAIL_FAILED);
    assert_int_equal(chain_fail_from_msg("revert: x"), CHAIN_FAIL_FAILED);
    assert_int_equal(chain_fail_from_msg("no token here"), CHAIN_FAIL_FAILED);
    assert_int_equal(chain_fail_from_msg(""), CHAIN_FAIL_FAILED);
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"plain", 1},        {"caf\xc3\xa9", 1},      {"\xe2\x82\xac", 1}, {"\xf0\x9f\x98\x80", 1},
        {"caf\xc3", 0},      {"\xe2\x82", 0},         {"\xc0\xaf", 0},     {"\xe0\x80\xaf", 0},
        {"\xed\xa0\x80", 0}, {"\xf4\x90\x80\x80", 0}, {"\xff", 0},         {"\x80", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(chain_utf8_valid((const uint8_t *)cases[i].s, strlen(cases[i].s)),
                         cases[i].ok);
    assert_int_equal(chain_utf8_valid((const uint8_t *)"a\0b", 3), 0);

    /* The message is cut at a character boundary and bad bytes become '?'. */
    chain_receipt r;
    memset(&r, 0, sizeof r);
    char msg[200] = "reverted: ";
    size_t n = strlen(msg);
    while (n + 2 <= 150) {
        msg[n++] = '\xc3';
        msg[n++] = '\xa9';
    }
    msg[n] = 0;
    chain_receipt_fail(&r, msg);
    assert_int_equal(r.code, CHAIN_FAIL_REVERTED);
    assert_true(strlen(r.error) <= CHAIN_RECEIPT_ERR_MAX);
    assert_true(chain_utf8_valid((const uint8_t *)r.error, strlen(r.error)));
    assert_int_equal(strlen(r.error), 10 + 2 * 59); /* 128 would split a character */
    chain_receipt_fail(&r, "vm_fault: \xff\xfe done");
    assert_string_equal(r.error, "vm_fault: ?? done");
    assert_int_equal(r.code, CHAIN_FAIL_VM_FAULT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_receipt_known_answer),
        cmocka_unit_test(test_revert_receipt),
        cmocka_unit_test(test_receipt_events_roundtrip),
        cmocka_unit_test(test_receipt_rejections),
        cmocka_unit_test(test_largest_receipt),
        cmocka_unit_test(test_fail_tokens),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
