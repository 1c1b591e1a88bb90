/* p2p/msg: the canonical encodings of the peer-to-peer messages. Round trips,
 * each limit at its value (accepted) and one past (refused), every
 * truncation of a valid encoding and a trailing byte refused, the type table,
 * and ID@HOST:PORT parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/msg.h"

/* Decodes with the decoder of `type` (the message struct stays local). */
static int decode(uint8_t type, const uint8_t *p, size_t n)
{
    util_err err;
    int rc;
    switch (type) {
    case P2P_MSG_STATUS: {
        p2p_status m;
        return p2p_status_decode(&m, p, n, &err);
    }
    case P2P_MSG_TXS: {
        p2p_txs m = {0};
        rc = p2p_txs_decode(&m, p, n, &err);
        p2p_txs_free(&m);
        return rc;
    }
    case P2P_MSG_GET_BLOCKS: {
        p2p_get_blocks m;
        return p2p_get_blocks_decode(&m, p, n, &err);
    }
    case P2P_MSG_BLOCKS: {
        p2p_blocks m = {0};
        rc = p2p_blocks_decode(&m, p, n, &err);
        p2p_blocks_free(&m);
        return rc;
    }
    case P2P_MSG_PEERS: {
        p2p_peers *m = calloc(1, sizeof *m);
        assert_non_null(m);
        rc = p2p_peers_decode(m, p, n, &err);
        free(m);
        return rc;
    }
    case P2P_MSG_OUTPUT_SIG: {
        p2p_output_sig m;
        return p2p_output_sig_decode(&m, p, n, &err);
    }
    default: {
        uint64_t v;
        return p2p_ping_decode(&v, p, n, &err);
    }
    }
}

/* The encoding is accepted, every prefix of it is refused, and so is it with
 * one byte more. */
static void check_exact(uint8_t type, const util_buf *b)
{
    assert_int_equal(decode(type, b->data, b->len), 0);
    for (size_t i = 0; i < b->len; i++) {
        if (decode(type, b->data, i) == 0) fail_msg("type %u: prefix %zu accepted", type, i);
    }
    uint8_t *more = malloc(b->len + 1);
    assert_non_null(more);
    memcpy(more, b->data, b->len);
    more[b->len] = 0;
    assert_int_not_equal(decode(type, more, b->len + 1), 0);
    free(more);
}

static void test_types(void **state)
{
    (void)state;
    for (int t = 0; t < 256; t++) {
        int known = (t >= P2P_MSG_STATUS && t <= P2P_MSG_PONG) ||
                    (t >= P2P_MSG_PROPOSAL && t <= P2P_MSG_OUTPUT_SIG);
        assert_int_equal(p2p_msg_known((uint8_t)t), known);
        if (!known) {
            assert_int_equal(p2p_msg_max_len((uint8_t)t), 0);
            assert_false(p2p_msg_len_ok((uint8_t)t, 0));
        }
    }
    assert_int_equal(p2p_msg_max_len(P2P_MSG_STATUS), 40);
    assert_int_equal(p2p_msg_max_len(P2P_MSG_TXS), 1024 * 1024);
    assert_int_equal(p2p_msg_max_len(P2P_MSG_GET_BLOCKS), 12);
    assert_int_equal(p2p_msg_max_len(P2P_MSG_BLOCKS), P2P_BLOCKS_MAX_LEN);
    assert_int_equal(p2p_msg_max_len(P2P_MSG_PEERS), 2 + 32 * (20 + 1 + 63 + 2));
    assert_int_equal(p2p_msg_max_len(P2P_MSG_PING), 8);
    assert_int_equal(p2p_msg_max_len(P2P_MSG_PONG), 8);
    /* GET_PEERS: an empty payload is accepted, one byte is not. */
    assert_true(p2p_msg_len_ok(P2P_MSG_GET_PEERS, 0));
    assert_false(p2p_msg_len_ok(P2P_MSG_GET_PEERS, 1));
    assert_true(p2p_msg_len_ok(P2P_MSG_PING, 8));
    assert_false(p2p_msg_len_ok(P2P_MSG_PING, 9));
    assert_true(p2p_msg_len_ok(P2P_MSG_BLOCKS, P2P_BLOCKS_MAX_LEN));
    assert_false(p2p_msg_len_ok(P2P_MSG_BLOCKS, P2P_BLOCKS_MAX_LEN + 1));
    /* AUTH belongs to the handshake; past evidence, consensus types are
     * reserved. */
    assert_false(p2p_msg_len_ok(P2P_MSG_AUTH, 0));
    assert_true(p2p_msg_len_ok(P2P_MSG_VOTE, CONS_VOTE_LEN));
    assert_false(p2p_msg_len_ok(P2P_MSG_VOTE, CONS_VOTE_LEN + 1));
    assert_true(p2p_msg_len_ok(P2P_MSG_PROPOSAL, CONS_PROPOSAL_LEN + 1000));
    assert_false(p2p_msg_len_ok(P2P_MSG_PROPOSAL, P2P_PROPOSAL_MAX_LEN + 1));
    assert_true(p2p_msg_len_ok(P2P_MSG_EVIDENCE, CONS_EVIDENCE_LEN));
    assert_int_equal(P2P_MSG_OUTPUT_SIG, 0x23);
    assert_int_equal(p2p_msg_max_len(P2P_MSG_OUTPUT_SIG), 107);
    assert_true(p2p_msg_len_ok(P2P_MSG_OUTPUT_SIG, 107));
    assert_false(p2p_msg_len_ok(P2P_MSG_OUTPUT_SIG, 108));
    assert_string_equal(p2p_msg_name(P2P_MSG_OUTPUT_SIG), "output_sig");
    assert_false(p2p_msg_len_ok(P2P_MSG_OUTPUT_SIG + 1, 0));
    assert_false(p2p_msg_len_ok(P2P_MSG_CONSENSUS_LAST, 1));
    assert_string_equal(p2p_msg_name(P2P_MSG_VOTE), "vote");
    assert_string_equal(p2p_msg_name(P2P_MSG_TXS), "txs");
    assert_string_equal(p2p_msg_name(0x25), "consensus");
    assert_string_equal(p2p_msg_name(0x30), "unknown");
    assert_string_equal(p2p_msg_name(0x09), "unknown");
}

/* OUTPUT_SIG: the layout byte by byte, the form checks, and the frame
 * header's limit (a session refuses 108 bytes on the header). */
static void test_output_sig(void **state)
{
    (void)state;
    util_buf b;
    util_err err;
    util_buf_init(&b);
    p2p_output_sig m = {.height = 0x0102030405060708ull, .validator = 3}, d;
    for (int i = 0; i < 32; i++)
        m.root[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 64; i++)
        m.sig[i] = (uint8_t)i;
    m.sig[64] = 28;
    assert_int_equal(p2p_output_sig_encode(&m, &b, &err), 0);
    assert_int_equal(b.len, 107);
    assert_int_equal(b.data[0], 0x08); /* le64 height */
    assert_int_equal(b.data[7], 0x01);
    assert_int_equal(b.data[8], 0xa0); /* root */
    assert_int_equal(b.data[40], 3);   /* le16 validator */
    assert_int_equal(b.data[41], 0);
    assert_int_equal(b.data[42], 0); /* r */
    assert_int_equal(b.data[106], 28);
    memset(&d, 0, sizeof d);
    assert_int_equal(p2p_output_sig_decode(&d, b.data, b.len, &err), 0);
    assert_true(d.height == m.height);
    assert_int_equal(d.validator, 3);
    assert_memory_equal(d.root, m.root, 32);
    assert_memory_equal(d.sig, m.sig, 65);
    check_exact(P2P_MSG_OUTPUT_SIG, &b);

    /* Form: height 0, a validator index past the largest set, v not 27/28
     * are refused by the decoder (and the encoder, which appends nothing). */
    uint8_t bad[107];
    memcpy(bad, b.data, 107);
    memset(bad, 0, 8);
    assert_int_equal(p2p_output_sig_decode(&d, bad, 107, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "height 0"));
    memcpy(bad, b.data, 107);
    bad[40] = CHAIN_MAX_VALIDATORS;
    assert_int_equal(p2p_output_sig_decode(&d, bad, 107, &err), UTIL_EINVAL);
    bad[40] = CHAIN_MAX_VALIDATORS - 1;
    assert_int_equal(p2p_output_sig_decode(&d, bad, 107, &err), 0);
    bad[40] = 0;
    bad[41] = 1; /* 256 */
    assert_int_equal(p2p_output_sig_decode(&d, bad, 107, &err), UTIL_EINVAL);
    for (int v = 0; v < 256; v++) {
        memcpy(bad, b.data, 107);
        bad[106] = (uint8_t)v;
        assert_int_equal(p2p_output_sig_decode(&d, bad, 107, &err) == 0, v == 27 || v == 28);
    }
    size_t before = b.len;
    p2p_output_sig z = m;
    z.height = 0;
    assert_int_equal(p2p_output_sig_encode(&z, &b, &err), UTIL_EINVAL);
    z = m;
    z.sig[64] = 1;
    assert_int_equal(p2p_output_sig_encode(&z, &b, &err), UTIL_EINVAL);
    z = m;
    z.validator = CHAIN_MAX_VALIDATORS;
    assert_int_equal(p2p_output_sig_encode(&z, &b, &err), UTIL_EINVAL);
    assert_int_equal(b.len, before);
    util_buf_free(&b);
}

static void test_status_ping(void **state)
{
    (void)state;
    util_buf b;
    util_err err;
    util_buf_init(&b);
    p2p_status s = {.height = 0x0102030405060708ull}, d;
    for (int i = 0; i < 32; i++)
        s.head[i] = (uint8_t)i;
    assert_int_equal(p2p_status_encode(&s, &b, &err), 0);
    assert_int_equal(b.len, 40);
    assert_int_equal(b.data[0], 0x08); /* little-endian */
    assert_int_equal(p2p_status_decode(&d, b.data, b.len, &err), 0);
    assert_true(d.height == s.height);
    assert_memory_equal(d.head, s.head, 32);
    check_exact(P2P_MSG_STATUS, &b);

    util_buf_reset(&b);
    uint64_t v = 0;
    assert_int_equal(p2p_ping_encode(UINT64_MAX - 1, &b, &err), 0);
    assert_int_equal(b.len, 8);
    assert_int_equal(p2p_ping_decode(&v, b.data, b.len, &err), 0);
    assert_true(v == UINT64_MAX - 1);
    check_exact(P2P_MSG_PING, &b);
    util_buf_free(&b);
}

/* n txs of the given lengths (filled with a pattern). */
static int txs_encode_lens(const size_t *lens, size_t n, util_buf *b, uint8_t *pool)
{
    p2p_bytes *txs = calloc(n ? n : 1, sizeof *txs);
    assert_non_null(txs);
    for (size_t i = 0; i < n; i++) {
        txs[i].p = pool;
        txs[i].n = lens[i];
    }
    util_err err;
    int rc = p2p_txs_encode(txs, n, b, &err);
    free(txs);
    return rc;
}

static void test_txs(void **state)
{
    (void)state;
    util_buf b;
    util_err err;
    util_buf_init(&b);
    uint8_t *pool = malloc(P2P_TX_MAX_LEN + 1);
    assert_non_null(pool);
    for (size_t i = 0; i <= P2P_TX_MAX_LEN; i++)
        pool[i] = (uint8_t)(i * 7);

    size_t lens[P2P_TXS_MAX_COUNT + 1];
    lens[0] = 3;
    lens[1] = 1;
    assert_int_equal(txs_encode_lens(lens, 2, &b, pool), 0);
    assert_int_equal(b.len, 2 + 4 + 3 + 4 + 1);
    p2p_txs m = {0};
    assert_int_equal(p2p_txs_decode(&m, b.data, b.len, &err), 0);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.txs[0].n, 3);
    assert_memory_equal(m.txs[0].p, pool, 3);
    assert_ptr_equal(m.txs[0].p, b.data + 6); /* borrowed from the payload */
    p2p_txs_free(&m);
    p2p_txs_free(&m);
    check_exact(P2P_MSG_TXS, &b);

    /* No txs, an empty tx. */
    util_buf_reset(&b);
    assert_int_equal(txs_encode_lens(lens, 0, &b, pool), UTIL_EINVAL);
    lens[0] = 0;
    assert_int_equal(txs_encode_lens(lens, 1, &b, pool), UTIL_EINVAL);
    assert_int_equal(b.len, 0);
    static const uint8_t zero_count[] = {0, 0};
    static const uint8_t empty_tx[] = {1, 0, 0, 0, 0, 0};
    assert_int_equal(p2p_txs_decode(&m, zero_count, sizeof zero_count, &err), UTIL_EINVAL);
    assert_int_equal(p2p_txs_decode(&m, empty_tx, sizeof empty_tx, &err), UTIL_EINVAL);

    /* Count: 256 accepted, 257 refused (by the encoder and by the decoder). */
    for (size_t i = 0; i <= P2P_TXS_MAX_COUNT; i++)
        lens[i] = 1;
    assert_int_equal(txs_encode_lens(lens, P2P_TXS_MAX_COUNT, &b, pool), 0);
    assert_int_equal(decode(P2P_MSG_TXS, b.data, b.len), 0);
    assert_int_equal(txs_encode_lens(lens, P2P_TXS_MAX_COUNT + 1, &b, pool), UTIL_ELIMIT);
    uint8_t *big = malloc(b.len + 5);
    assert_non_null(big);
    memcpy(big, b.data, b.len);
    big[0] = (uint8_t)(P2P_TXS_MAX_COUNT + 1);
    big[1] = (uint8_t)((P2P_TXS_MAX_COUNT + 1) >> 8);
    memcpy(big + b.len, (const uint8_t[]){1, 0, 0, 0, 9}, 5);
    assert_int_equal(decode(P2P_MSG_TXS, big, b.len + 5), UTIL_EINVAL);
    free(big);

    /* One tx: 131072 bytes accepted, 131073 refused. */
    util_buf_reset(&b);
    lens[0] = P2P_TX_MAX_LEN;
    assert_int_equal(txs_encode_lens(lens, 1, &b, pool), 0);
    assert_int_equal(decode(P2P_MSG_TXS, b.data, b.len), 0);
    lens[0] = P2P_TX_MAX_LEN + 1;
    assert_int_equal(txs_encode_lens(lens, 1, &b, pool), UTIL_ELIMIT);
    util_buf_reset(&b);
    util_buf_u16(&b, 1);
    util_buf_u32(&b, P2P_TX_MAX_LEN + 1);
    util_buf_put(&b, pool, P2P_TX_MAX_LEN + 1);
    assert_int_equal(decode(P2P_MSG_TXS, b.data, b.len), UTIL_EINVAL);

    /* The whole message: exactly 1 MiB accepted, one byte more refused. */
    for (size_t i = 0; i < 7; i++)
        lens[i] = P2P_TX_MAX_LEN;
    lens[7] = P2P_TXS_MAX_LEN - 2 - 8 * 4 - 7 * P2P_TX_MAX_LEN;
    util_buf_reset(&b);
    assert_int_equal(txs_encode_lens(lens, 8, &b, pool), 0);
    assert_int_equal(b.len, P2P_TXS_MAX_LEN);
    assert_int_equal(decode(P2P_MSG_TXS, b.data, b.len), 0);
    lens[7]++;
    util_buf_reset(&b);
    assert_int_equal(txs_encode_lens(lens, 8, &b, pool), UTIL_ELIMIT);
    util_buf_u16(&b, 8);
    for (size_t i = 0; i < 8; i++) {
        util_buf_u32(&b, (uint32_t)lens[i]);
        util_buf_put(&b, pool, lens[i]);
    }
    assert_int_equal(b.len, P2P_TXS_MAX_LEN + 1);
    assert_int_equal(decode(P2P_MSG_TXS, b.data, b.len), UTIL_EINVAL);
    free(pool);
    util_buf_free(&b);
}

static void test_get_blocks(void **state)
{
    (void)state;
    util_buf b;
    util_err err;
    util_buf_init(&b);
    p2p_get_blocks g = {.from = 7, .count = P2P_GET_BLOCKS_MAX_COUNT}, d;
    assert_int_equal(p2p_get_blocks_encode(&g, &b, &err), 0);
    assert_int_equal(b.len, 12);
    assert_int_equal(p2p_get_blocks_decode(&d, b.data, b.len, &err), 0);
    assert_true(d.from == 7 && d.count == P2P_GET_BLOCKS_MAX_COUNT);
    check_exact(P2P_MSG_GET_BLOCKS, &b);

    /* count 65 and 0, from 0, a range past UINT64_MAX: refused both ways. */
    const p2p_get_blocks bad[] = {
        {7, P2P_GET_BLOCKS_MAX_COUNT + 1}, {7, 0}, {0, 1}, {UINT64_MAX, 2}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        util_buf_reset(&b);
        assert_int_equal(p2p_get_blocks_encode(&bad[i], &b, &err), UTIL_EINVAL);
        assert_int_equal(b.len, 0);
        util_buf_u64(&b, bad[i].from);
        util_buf_u32(&b, bad[i].count);
        assert_int_equal(p2p_get_blocks_decode(&d, b.data, b.len, &err), UTIL_EINVAL);
    }
    util_buf_reset(&b);
    g.from = UINT64_MAX;
    g.count = 1;
    assert_int_equal(p2p_get_blocks_encode(&g, &b, &err), 0);
    assert_int_equal(p2p_get_blocks_decode(&d, b.data, b.len, &err), 0);
    util_buf_free(&b);
}

static void test_blocks(void **state)
{
    (void)state;
    util_buf b;
    util_err err;
    util_buf_init(&b);
    static const uint8_t blk[] = {1, 2, 3, 4}, com[] = {9, 9};
    p2p_block_item items[P2P_GET_BLOCKS_MAX_COUNT + 1];
    for (size_t i = 0; i <= P2P_GET_BLOCKS_MAX_COUNT; i++) {
        items[i].block = (p2p_bytes){blk, sizeof blk};
        items[i].commit = (p2p_bytes){com, sizeof com};
    }
    assert_int_equal(p2p_blocks_encode(5, items, 2, &b, &err), 0);
    assert_int_equal(b.len, 8 + 2 + 2 * (4 + 4 + 4 + 2));
    p2p_blocks m = {0};
    assert_int_equal(p2p_blocks_decode(&m, b.data, b.len, &err), 0);
    assert_true(m.from == 5 && m.n == 2);
    assert_memory_equal(m.items[1].block.p, blk, sizeof blk);
    assert_int_equal(m.items[1].commit.n, sizeof com);
    p2p_blocks_free(&m);
    p2p_blocks_free(&m);
    check_exact(P2P_MSG_BLOCKS, &b);

    /* None served is a valid answer. */
    util_buf_reset(&b);
    assert_int_equal(p2p_blocks_encode(5, items, 0, &b, &err), 0);
    assert_int_equal(b.len, 10);
    assert_int_equal(p2p_blocks_decode(&m, b.data, b.len, &err), 0);
    assert_int_equal(m.n, 0);
    assert_null(m.items);
    check_exact(P2P_MSG_BLOCKS, &b);

    /* 64 items accepted, 65 refused. */
    util_buf_reset(&b);
    assert_int_equal(p2p_blocks_encode(5, items, P2P_GET_BLOCKS_MAX_COUNT, &b, &err), 0);
    assert_int_equal(decode(P2P_MSG_BLOCKS, b.data, b.len), 0);
    util_buf_reset(&b);
    assert_int_equal(p2p_blocks_encode(5, items, P2P_GET_BLOCKS_MAX_COUNT + 1, &b, &err),
                     UTIL_ELIMIT);
    util_buf_u64(&b, 5);
    util_buf_u16(&b, P2P_GET_BLOCKS_MAX_COUNT + 1);
    for (size_t i = 0; i <= P2P_GET_BLOCKS_MAX_COUNT; i++) {
        util_buf_u32(&b, sizeof blk);
        util_buf_put(&b, blk, sizeof blk);
        util_buf_u32(&b, sizeof com);
        util_buf_put(&b, com, sizeof com);
    }
    assert_int_equal(decode(P2P_MSG_BLOCKS, b.data, b.len), UTIL_EINVAL);

    /* Empty block, empty commit, from 0, past UINT64_MAX. */
    util_buf_reset(&b);
    items[0].block.n = 0;
    assert_int_equal(p2p_blocks_encode(5, items, 1, &b, &err), UTIL_EINVAL);
    items[0].block.n = sizeof blk;
    items[0].commit.n = 0;
    assert_int_equal(p2p_blocks_encode(5, items, 1, &b, &err), UTIL_EINVAL);
    items[0].commit.n = sizeof com;
    assert_int_equal(p2p_blocks_encode(0, items, 1, &b, &err), UTIL_EINVAL);
    assert_int_equal(p2p_blocks_encode(UINT64_MAX, items, 2, &b, &err), UTIL_EINVAL);
    assert_int_equal(b.len, 0);
    static const uint8_t empty_block[] = {5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9};
    static const uint8_t empty_commit[] = {5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0};
    static const uint8_t from_zero[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(decode(P2P_MSG_BLOCKS, empty_block, sizeof empty_block), UTIL_EINVAL);
    assert_int_equal(decode(P2P_MSG_BLOCKS, empty_commit, sizeof empty_commit), UTIL_EINVAL);
    assert_int_equal(decode(P2P_MSG_BLOCKS, from_zero, sizeof from_zero), UTIL_EINVAL);

    /* The whole message: exactly P2P_BLOCKS_MAX_LEN accepted, one more refused. */
    size_t fill = P2P_BLOCKS_MAX_LEN - 10 - 8 - sizeof com;
    uint8_t *large = calloc(1, fill + 1);
    assert_non_null(large);
    items[0].block = (p2p_bytes){large, fill};
    util_buf_reset(&b);
    assert_int_equal(p2p_blocks_encode(5, items, 1, &b, &err), 0);
    assert_int_equal(b.len, P2P_BLOCKS_MAX_LEN);
    assert_int_equal(decode(P2P_MSG_BLOCKS, b.data, b.len), 0);
    items[0].block.n = fill + 1;
    util_buf_reset(&b);
    assert_int_equal(p2p_blocks_encode(5, items, 1, &b, &err), UTIL_ELIMIT);
    util_buf_u64(&b, 5);
    util_buf_u16(&b, 1);
    util_buf_u32(&b, (uint32_t)(fill + 1));
    util_buf_put(&b, large, fill + 1);
    util_buf_u32(&b, sizeof com);
    util_buf_put(&b, com, sizeof com);
    assert_int_equal(b.len, P2P_BLOCKS_MAX_LEN + 1);
    assert_int_equal(decode(P2P_MSG_BLOCKS, b.data, b.len), UTIL_EINVAL);
    free(large);
    util_buf_free(&b);
}

static void fill_addr(p2p_peer_addr *a, uint8_t seed, const char *host, uint16_t port)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < P2P_NODE_ID_LEN; i++)
        a->id[i] = (uint8_t)(seed + i);
    strcpy(a->host, host);
    a->port = port;
}

static void test_peers(void **state)
{
    (void)state;
    util_buf b;
    util_err err;
    util_buf_init(&b);
    p2p_peers *m = calloc(1, sizeof *m), *d = calloc(1, sizeof *d);
    assert_non_null(m);
    assert_non_null(d);
    char host63[P2P_HOST_MAX + 2];
    memset(host63, 'h', P2P_HOST_MAX);
    host63[P2P_HOST_MAX] = 0;

    fill_addr(&m->addrs[0], 1, "127.0.0.1", 26656);
    fill_addr(&m->addrs[1], 2, "::1", 1);
    fill_addr(&m->addrs[2], 3, host63, 65535);
    m->n = 3;
    assert_int_equal(p2p_peers_encode(m, &b, &err), 0);
    assert_int_equal(p2p_peers_decode(d, b.data, b.len, &err), 0);
    assert_int_equal(d->n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_memory_equal(d->addrs[i].id, m->addrs[i].id, P2P_NODE_ID_LEN);
        assert_string_equal(d->addrs[i].host, m->addrs[i].host);
        assert_int_equal(d->addrs[i].port, m->addrs[i].port);
    }
    check_exact(P2P_MSG_PEERS, &b);

    /* None is a valid answer. */
    util_buf_reset(&b);
    m->n = 0;
    assert_int_equal(p2p_peers_encode(m, &b, &err), 0);
    check_exact(P2P_MSG_PEERS, &b);

    /* 32 addresses with 63-byte hosts: the largest message, accepted. */
    for (size_t i = 0; i < P2P_PEERS_MAX_COUNT; i++)
        fill_addr(&m->addrs[i], 9, host63, 80);
    m->n = P2P_PEERS_MAX_COUNT;
    util_buf_reset(&b);
    assert_int_equal(p2p_peers_encode(m, &b, &err), 0);
    assert_int_equal(b.len, P2P_PEERS_MAX_LEN);
    assert_int_equal(p2p_peers_decode(d, b.data, b.len, &err), 0);
    assert_int_equal(d->n, P2P_PEERS_MAX_COUNT);
    /* 33 refused. */
    m->n = P2P_PEERS_MAX_COUNT + 1;
    assert_int_equal(p2p_peers_encode(m, &b, &err), UTIL_ELIMIT);
    util_buf_reset(&b);
    util_buf_u16(&b, P2P_PEERS_MAX_COUNT + 1);
    for (size_t i = 0; i <= P2P_PEERS_MAX_COUNT; i++) {
        util_buf_put(&b, m->addrs[0].id, P2P_NODE_ID_LEN);
        util_buf_u8(&b, 1);
        util_buf_u8(&b, 'a');
        util_buf_u16(&b, 80);
    }
    assert_int_equal(p2p_peers_decode(d, b.data, b.len, &err), UTIL_EINVAL);

    /* One address: host of 64 bytes, 0 bytes, not printable, not a valid
     * literal; port 0; all refused by the decoder. */
    static const char *bad_hosts[] = {
        "h234567890123456789012345678901234567890123456789012345678901234",
        "",
        "a b",
        "a\x01",
        "caf\xc3\xa9",
        "-lead",
        "1.2.3.999",
        "::1::2",
        "[::1]",
        "a/b"};
    for (size_t i = 0; i < sizeof bad_hosts / sizeof *bad_hosts; i++) {
        assert_false(p2p_host_valid(bad_hosts[i]));
        util_buf_reset(&b);
        size_t hl = strlen(bad_hosts[i]);
        util_buf_u16(&b, 1);
        util_buf_put(&b, m->addrs[0].id, P2P_NODE_ID_LEN);
        util_buf_u8(&b, (uint8_t)hl);
        util_buf_put(&b, bad_hosts[i], hl);
        util_buf_u16(&b, 80);
        if (p2p_peers_decode(d, b.data, b.len, &err) == 0) fail_msg("host %zu accepted", i);
    }
    static const uint8_t nul_host[] = {'a', 0, 'b'};
    util_buf_reset(&b);
    util_buf_u16(&b, 1);
    util_buf_put(&b, m->addrs[0].id, P2P_NODE_ID_LEN);
    util_buf_u8(&b, 3);
    util_buf_put(&b, nul_host, 3);
    util_buf_u16(&b, 80);
    assert_int_equal(p2p_peers_decode(d, b.data, b.len, &err), UTIL_EINVAL);
    util_buf_reset(&b);
    util_buf_u16(&b, 1);
    util_buf_put(&b, m->addrs[0].id, P2P_NODE_ID_LEN);
    util_buf_u8(&b, 1);
    util_buf_u8(&b, 'a');
    util_buf_u16(&b, 0);
    assert_int_equal(p2p_peers_decode(d, b.data, b.len, &err), UTIL_EINVAL);

    /* The encoder refuses what the decoder would. */
    m->n = 1;
    m->addrs[0].port = 0;
    assert_int_equal(p2p_peers_encode(m, &b, &err), UTIL_EINVAL);
    fill_addr(&m->addrs[0], 1, "a b", 80);
    assert_int_equal(p2p_peers_encode(m, &b, &err), UTIL_EINVAL);

    static const char *good_hosts[] = {"localhost", "node-1.example.org",     "10.0.0.255",
                                       "fe80::1",   "2001:db8::ff00:42:8329", "a_b"};
    for (size_t i = 0; i < sizeof good_hosts / sizeof *good_hosts; i++)
        assert_true(p2p_host_valid(good_hosts[i]));
    free(m);
    free(d);
    util_buf_free(&b);
}

static void test_addr_parse(void **state)
{
    (void)state;
    util_err err;
    p2p_peer_addr a;
    char out[128];
    const char *id = "00112233445566778899aabbccddeeff01234567";
    static const struct {
        const char *tail, *host;
        uint16_t port;
    } good[] = {
        {"@127.0.0.1:26656", "127.0.0.1", 26656},
        {"@[::1]:1", "::1", 1},
        {"@[2001:db8::1]:65535", "2001:db8::1", 65535},
        {"@validator.example.org:443", "validator.example.org", 443},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char s[160];
        snprintf(s, sizeof s, "%s%s", id, good[i].tail);
        assert_int_equal(p2p_peer_addr_parse(s, &a, &err), 0);
        assert_string_equal(a.host, good[i].host);
        assert_int_equal(a.port, good[i].port);
        assert_int_equal(a.id[0], 0x00);
        assert_int_equal(a.id[19], 0x67);
        p2p_peer_addr_format(&a, out, sizeof out);
        assert_string_equal(out, s);
    }
    /* Upper-case ids are read, and written back in lower case. */
    assert_int_equal(p2p_peer_addr_parse("00112233445566778899AABBCCDDEEFF01234567@h:1", &a, &err),
                     0);
    p2p_peer_addr_format(&a, out, sizeof out);
    assert_string_equal(out, "00112233445566778899aabbccddeeff01234567@h:1");

    static const char *bad[] = {
        "",
        "127.0.0.1:26656",
        "00112233445566778899aabbccddeeff0123456@h:1",   /* 39 digits */
        "00112233445566778899aabbccddeeff012345678@h:1", /* 41 */
        "0x112233445566778899aabbccddeeff01234567@h:1",
        "00112233445566778899aabbccddeeff0123456g@h:1",
        "00112233445566778899aabbccddeeff01234567@h",
        "00112233445566778899aabbccddeeff01234567@h:",
        "00112233445566778899aabbccddeeff01234567@h:0",
        "00112233445566778899aabbccddeeff01234567@h:65536",
        "00112233445566778899aabbccddeeff01234567@h:080",
        "00112233445566778899aabbccddeeff01234567@h:+80",
        "00112233445566778899aabbccddeeff01234567@h:8a",
        "00112233445566778899aabbccddeeff01234567@:80",
        "00112233445566778899aabbccddeeff01234567@::1:80",
        "00112233445566778899aabbccddeeff01234567@[::1]80",
        "00112233445566778899aabbccddeeff01234567@[::1:80",
        "00112233445566778899aabbccddeeff01234567@[1.2.3.4]:80",
        "00112233445566778899aabbccddeeff01234567@[zz::1]:80",
        "00112233445566778899aabbccddeeff01234567@1.2.3.999:80",
        "00112233445566778899aabbccddeeff01234567@a b:80",
        /* one literal split in two (parenthesised: not a missing comma) */
        ("00112233445566778899aabbccddeeff01234567@"
         "h234567890123456789012345678901234567890123456789012345678901234:80"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&a, 0x5a, sizeof a);
        if (p2p_peer_addr_parse(bad[i], &a, &err) == 0) fail_msg("accepted: %s", bad[i]);
        assert_int_equal(a.port, 0x5a5a); /* untouched on failure */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),      cmocka_unit_test(test_status_ping),
        cmocka_unit_test(test_txs),        cmocka_unit_test(test_get_blocks),
        cmocka_unit_test(test_blocks),     cmocka_unit_test(test_peers),
        cmocka_unit_test(test_addr_parse), cmocka_unit_test(test_output_sig),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
