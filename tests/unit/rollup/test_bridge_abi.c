/* The bridge's ABI (rollup/bridge_abi.h): selectors and event topics against
 * values computed independently (keccak256 of the signatures with js-sha3,
 * the Keccak solc itself uses), the calldata layout word by word, and every
 * refusal of the two log parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "rollup/bridge_abi.h"
#include "util/hex.h"

static void hex32(uint8_t out[32], const char *h)
{
    assert_int_equal(util_hex_decode_exact(out, 32, h), 0);
}

/* Word i (0-based) of calldata after the 4-byte selector. */
static const uint8_t *word(const util_buf *b, size_t i)
{
    assert_true(b->len >= 4 + 32 * (i + 1));
    return b->data + 4 + 32 * i;
}

static void expect_u64_word(const uint8_t *w, uint64_t v)
{
    uint8_t want[32] = {0};
    for (int i = 0; i < 8; i++)
        want[31 - i] = (uint8_t)(v >> (8 * i));
    assert_memory_equal(w, want, 32);
}

static void expect_addr_word(const uint8_t *w, const uint8_t a[20])
{
    uint8_t want[32] = {0};
    memcpy(want + 12, a, 20);
    assert_memory_equal(w, want, 32);
}

static void expect_sel(const util_buf *b, uint32_t sel)
{
    assert_int_equal(b->oom, 0);
    assert_true(b->len >= 4);
    uint8_t want[4] = {(uint8_t)(sel >> 24), (uint8_t)(sel >> 16), (uint8_t)(sel >> 8),
                       (uint8_t)sel};
    assert_memory_equal(b->data, want, 4);
}

static void test_token_calldata(void **state)
{
    (void)state;
    rollup_eth_addr a;
    for (int i = 0; i < 20; i++)
        a.b[i] = (uint8_t)(0xa0 + i);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(rollup_token_approve_calldata(&b, &a, 0x0102030405060708ull), 0);
    expect_sel(&b, 0x095ea7b3);
    assert_int_equal(b.len, 4 + 64);
    expect_addr_word(word(&b, 0), a.b);
    expect_u64_word(word(&b, 1), 0x0102030405060708ull);

    util_buf_reset(&b);
    assert_int_equal(rollup_token_balance_of_calldata(&b, &a), 0);
    expect_sel(&b, 0x70a08231);
    assert_int_equal(b.len, 4 + 32);
    expect_addr_word(word(&b, 0), a.b);

    util_buf_reset(&b);
    assert_int_equal(rollup_token_mint_calldata(&b, &a, UINT64_MAX), 0);
    expect_sel(&b, 0x40c10f19);
    assert_int_equal(b.len, 4 + 64);
    expect_u64_word(word(&b, 1), UINT64_MAX);
    util_buf_free(&b);
}

static void test_bridge_calldata(void **state)
{
    (void)state;
    uint8_t to[20];
    for (int i = 0; i < 20; i++)
        to[i] = (uint8_t)(i + 1);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(rollup_bridge_deposit_calldata(&b, 1000, to), 0);
    expect_sel(&b, 0xc7a42289);
    assert_int_equal(b.len, 4 + 64);
    expect_u64_word(word(&b, 0), 1000);
    /* bytes20 is left-aligned, unlike an address. */
    uint8_t w[32] = {0};
    memcpy(w, to, 20);
    assert_memory_equal(word(&b, 1), w, 32);

    util_buf_reset(&b);
    assert_int_equal(rollup_bridge_finalized_calldata(&b, 7), 0);
    expect_sel(&b, 0xb3189275);
    assert_int_equal(b.len, 4 + 32);
    expect_u64_word(word(&b, 0), 7);
    util_buf_free(&b);
}

static void test_finalize_calldata(void **state)
{
    (void)state;
    rollup_bridge_withdrawal wd = {.id = 5, .amount = 123456789};
    for (int i = 0; i < 20; i++) {
        wd.sender[i] = (uint8_t)(0x10 + i);
        wd.l1_recipient.b[i] = (uint8_t)(0x40 + i);
    }
    static uint8_t proof[ROLLUP_BRIDGE_PROOF_MAX_WORDS + 1][32];
    for (size_t i = 0; i < ROLLUP_BRIDGE_PROOF_MAX_WORDS + 1; i++)
        memset(proof[i], (int)i, 32);
    util_buf b;
    util_buf_init(&b);
    util_err err = {0};
    assert_int_equal(rollup_bridge_finalize_calldata(&b, &wd, 9, proof, 4, &err), 0);
    expect_sel(&b, 0xab56a91d);
    /* head: id, sender, l1Recipient, amount (the static struct inline),
     * outputIndex, offset of proof; tail: length, 4 words. */
    assert_int_equal(b.len, 4 + 32 * (6 + 1 + 4));
    expect_u64_word(word(&b, 0), 5);
    uint8_t w[32] = {0};
    memcpy(w, wd.sender, 20);
    assert_memory_equal(word(&b, 1), w, 32);
    expect_addr_word(word(&b, 2), wd.l1_recipient.b);
    expect_u64_word(word(&b, 3), 123456789);
    expect_u64_word(word(&b, 4), 9);
    expect_u64_word(word(&b, 5), 6 * 32);
    expect_u64_word(word(&b, 6), 4);
    for (size_t i = 0; i < 4; i++)
        assert_memory_equal(word(&b, 7 + i), proof[i], 32);

    /* Lengths: 3 and 259 words are the bounds. */
    util_buf_reset(&b);
    assert_int_equal(rollup_bridge_finalize_calldata(&b, &wd, 9, proof, 3, &err), 0);
    util_buf_reset(&b);
    assert_int_equal(
        rollup_bridge_finalize_calldata(&b, &wd, 9, proof, ROLLUP_BRIDGE_PROOF_MAX_WORDS, &err), 0);
    assert_int_equal(b.len, 4 + 32 * (6 + 1 + ROLLUP_BRIDGE_PROOF_MAX_WORDS));
    util_buf_reset(&b);
    assert_int_equal(rollup_bridge_finalize_calldata(&b, &wd, 9, proof, 2, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "proof of 2 words"));
    assert_int_equal(
        rollup_bridge_finalize_calldata(&b, &wd, 9, proof, ROLLUP_BRIDGE_PROOF_MAX_WORDS + 1, &err),
        UTIL_EINVAL);
    assert_int_equal(b.len, 0);
    util_buf_free(&b);
}

static void test_topics(void **state)
{
    (void)state;
    uint8_t t[32], want[32];
    rollup_bridge_topic_deposit(t);
    hex32(want, "851649d4ab2b256ad2a4323937103c137d8610f45a9a3e762ed1a3fbadcf0df2");
    assert_memory_equal(t, want, 32);
    rollup_bridge_topic_finalized(t);
    hex32(want, "d7daeaa2e99b5d8c8f7e574a6f217f406b93d845c938bc50f2b0cdc389e8d6b4");
    assert_memory_equal(t, want, 32);
}

static uint8_t g_data[96];

/* A well-formed DepositInitiated log: nonce 3, from 0x77.., recipient
 * 0x01..0x14, amount 2^40. */
static void deposit_log(rollup_l1_log *l)
{
    memset(l, 0, sizeof *l);
    rollup_bridge_topic_deposit(l->topics[0]);
    l->topics[1][31] = 3;
    memset(l->topics[2] + 12, 0x77, 20);
    l->ntopics = 3;
    memset(g_data, 0, sizeof g_data);
    for (int i = 0; i < 20; i++)
        g_data[i] = (uint8_t)(i + 1);
    g_data[32 + 26] = 1; /* 2^40 */
    l->data = g_data;
    l->data_len = 64;
    l->block_number = 42;
    memset(l->block_hash, 0xbb, 32);
    memset(l->tx_hash, 0xcc, 32);
    l->log_index = 6;
}

static void expect_deposit_refused(const rollup_l1_log *l, const char *why)
{
    rollup_deposit d;
    util_err err = {0};
    assert_int_equal(rollup_bridge_parse_deposit(l, &d, &err), UTIL_EINVAL);
    if (!strstr(err.msg, why)) fail_msg("want \"%s\", got \"%s\"", why, err.msg);
    assert_non_null(strstr(err.msg, "DepositInitiated: "));
}

static void test_parse_deposit(void **state)
{
    (void)state;
    rollup_l1_log l;
    rollup_deposit d;
    util_err err = {0};
    deposit_log(&l);
    assert_int_equal(rollup_bridge_parse_deposit(&l, &d, &err), 0);
    assert_int_equal(d.nonce, 3);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(d.from.b[i], 0x77);
        assert_int_equal(d.l2_recipient[i], i + 1);
    }
    assert_int_equal(d.amount, 1ull << 40);
    assert_int_equal(d.l1_block, 42);
    assert_int_equal(d.l1_block_hash[0], 0xbb);
    assert_int_equal(d.l1_tx_hash[31], 0xcc);
    assert_int_equal(d.log_index, 6);

    /* Extremes that are still valid: nonce and amount of 2^64-1. */
    deposit_log(&l);
    memset(l.topics[1] + 24, 0xff, 8);
    memset(g_data + 56, 0xff, 8);
    assert_int_equal(rollup_bridge_parse_deposit(&l, &d, &err), 0);
    assert_int_equal(d.nonce, UINT64_MAX);
    assert_int_equal(d.amount, UINT64_MAX);

    deposit_log(&l);
    l.removed = 1;
    expect_deposit_refused(&l, "removed");
    for (size_t n = 0; n <= 4; n++) {
        if (n == 3) continue;
        deposit_log(&l);
        l.ntopics = n;
        expect_deposit_refused(&l, "topics, expected 3");
    }
    deposit_log(&l);
    rollup_bridge_topic_finalized(l.topics[0]);
    expect_deposit_refused(&l, "wrong topic0");
    deposit_log(&l);
    l.topics[1][23] = 1;
    expect_deposit_refused(&l, "nonce exceeds 64 bits");
    deposit_log(&l);
    l.topics[2][0] = 1;
    expect_deposit_refused(&l, "from is not an address");
    deposit_log(&l);
    l.topics[2][11] = 1;
    expect_deposit_refused(&l, "from is not an address");
    size_t lens[] = {0, 32, 63, 65, 96};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        deposit_log(&l);
        l.data_len = lens[i];
        expect_deposit_refused(&l, "bytes of data, expected 64");
    }
    deposit_log(&l);
    l.data = NULL;
    expect_deposit_refused(&l, "bytes of data");
    deposit_log(&l);
    g_data[20] = 1;
    expect_deposit_refused(&l, "recipient is not a bytes20");
    deposit_log(&l);
    g_data[31] = 1;
    expect_deposit_refused(&l, "recipient is not a bytes20");
    deposit_log(&l);
    g_data[32] = 1;
    expect_deposit_refused(&l, "amount exceeds 64 bits");
    deposit_log(&l);
    g_data[55] = 1;
    expect_deposit_refused(&l, "amount exceeds 64 bits");
}

static void finalized_log(rollup_l1_log *l)
{
    memset(l, 0, sizeof *l);
    rollup_bridge_topic_finalized(l->topics[0]);
    l->topics[1][31] = 9;
    memset(l->topics[2] + 12, 0x55, 20);
    l->ntopics = 3;
    memset(g_data, 0, sizeof g_data);
    g_data[31] = 100;
    l->data = g_data;
    l->data_len = 32;
}

static void expect_finalized_refused(const rollup_l1_log *l, const char *why)
{
    uint64_t id = 1, amount = 1;
    rollup_eth_addr a;
    util_err err = {0};
    assert_int_equal(rollup_bridge_parse_finalized(l, &id, &a, &amount, &err), UTIL_EINVAL);
    if (!strstr(err.msg, why)) fail_msg("want \"%s\", got \"%s\"", why, err.msg);
    assert_int_equal(id, 0);
    assert_int_equal(amount, 0);
}

static void test_parse_finalized(void **state)
{
    (void)state;
    rollup_l1_log l;
    uint64_t id, amount;
    rollup_eth_addr a;
    util_err err = {0};
    finalized_log(&l);
    assert_int_equal(rollup_bridge_parse_finalized(&l, &id, &a, &amount, &err), 0);
    assert_int_equal(id, 9);
    assert_int_equal(amount, 100);
    assert_int_equal(a.b[0], 0x55);
    assert_int_equal(a.b[19], 0x55);

    finalized_log(&l);
    l.removed = 1;
    expect_finalized_refused(&l, "removed");
    finalized_log(&l);
    l.ntopics = 2;
    expect_finalized_refused(&l, "topics, expected 3");
    finalized_log(&l);
    rollup_bridge_topic_deposit(l.topics[0]);
    expect_finalized_refused(&l, "wrong topic0");
    finalized_log(&l);
    l.topics[1][0] = 1;
    expect_finalized_refused(&l, "id exceeds 64 bits");
    finalized_log(&l);
    l.topics[2][5] = 1;
    expect_finalized_refused(&l, "recipient is not an address");
    finalized_log(&l);
    l.data_len = 64;
    expect_finalized_refused(&l, "expected 32");
    finalized_log(&l);
    l.data = NULL;
    expect_finalized_refused(&l, "expected 32");
    finalized_log(&l);
    g_data[0] = 1;
    expect_finalized_refused(&l, "amount exceeds 64 bits");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_calldata),    cmocka_unit_test(test_bridge_calldata),
        cmocka_unit_test(test_finalize_calldata), cmocka_unit_test(test_topics),
        cmocka_unit_test(test_parse_deposit),     cmocka_unit_test(test_parse_finalized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
