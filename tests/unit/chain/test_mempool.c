#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/crypto/keys.h"
#include "chain/mempool/mempool.h"
#include "tests/seed.h"

/* The genesis hash transactions are signed for (their signing domain). */
static const uint8_t GH[32] = {0x6f, 0x6c, 0x2d, 0x74, 0x65, 0x73, 0x74};

#define NKEYS 16
#define CHAIN "test-chain"

static chain_keypair g_keys[NKEYS];
static chain_addr g_addrs[NKEYS];

/* Committed account state served to the pool. */
typedef struct acct {
    chain_addr a;
    uint64_t bal, nonce;
} acct;
static acct g_acc[4096];
static size_t g_nacc;
static int g_acct_fail;

static int acct_fn(void *ctx, const chain_addr *a, uint64_t *bal, uint64_t *nonce)
{
    (void)ctx;
    if (g_acct_fail) return UTIL_EIO;
    for (size_t i = 0; i < g_nacc; i++)
        if (memcmp(g_acc[i].a.b, a->b, CHAIN_ADDR_LEN) == 0) {
            *bal = g_acc[i].bal;
            *nonce = g_acc[i].nonce;
            return 0;
        }
    *bal = 0;
    *nonce = 0;
    return 0;
}

static void set_acct(const chain_addr *a, uint64_t bal, uint64_t nonce)
{
    for (size_t i = 0; i < g_nacc; i++)
        if (memcmp(g_acc[i].a.b, a->b, CHAIN_ADDR_LEN) == 0) {
            g_acc[i].bal = bal;
            g_acc[i].nonce = nonce;
            return;
        }
    assert_true(g_nacc < sizeof g_acc / sizeof g_acc[0]);
    g_acc[g_nacc++] = (acct){*a, bal, nonce};
}

static int setup(void **state)
{
    (void)state;
    g_nacc = 0;
    g_acct_fail = 0;
    for (uint32_t i = 0; i < NKEYS; i++) {
        if (chain_keypair_dev(&g_keys[i], i)) return -1;
        chain_addr_from_pubkey(&g_addrs[i], g_keys[i].pubkey);
        set_acct(&g_addrs[i], 1000000000, 0);
    }
    return 0;
}

static chain_mempool_cfg cfg_default(void)
{
    chain_mempool_cfg c;
    memset(&c, 0, sizeof c);
    strcpy(c.chain_id, CHAIN);
    memcpy(c.genesis_hash, GH, 32);
    c.min_gas_price = 1;
    c.block_gas_limit = 1000000;
    c.max_tx_size = 4096;
    c.max_txs = 10000;
    c.max_bytes = 1 << 24;
    c.max_nonce_ahead = 16;
    return c;
}

static chain_tx mk_full(int k, uint64_t nonce, uint64_t price, uint64_t gas, uint64_t amount,
                        const char *cid)
{
    chain_tx tx;
    util_err err = {0};
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", cid);
    tx.type = CHAIN_TX_TRANSFER;
    tx.nonce = nonce;
    tx.gas_limit = gas;
    tx.gas_price = price;
    tx.body.transfer.to = g_addrs[NKEYS - 1];
    tx.body.transfer.amount = amount;
    if (chain_tx_sign(&tx, &g_keys[k], GH, &err)) fail_msg("sign: %s", err.msg);
    return tx;
}

static chain_tx mk(int k, uint64_t nonce, uint64_t price)
{
    return mk_full(k, nonce, price, CHAIN_GAS_TRANSFER, 1, CHAIN);
}

static int add(chain_mempool *mp, const chain_tx *tx)
{
    util_err err = {0};
    return chain_mempool_add(mp, tx, &err);
}

/* Adds and expects a rejection that leaves count and bytes as they were, with
 * the reason's text at the start of the message. */
static void add_reject(chain_mempool *mp, const chain_tx *tx, int want)
{
    size_t c = chain_mempool_count(mp), b = chain_mempool_bytes(mp);
    util_err err = {0};
    int r = chain_mempool_add(mp, tx, &err);
    if (r != want)
        fail_msg("want %s, got %s (%s)", chain_mempool_reason_token(want),
                 chain_mempool_reason_token(r), err.msg);
    assert_int_equal(
        strncmp(err.msg, chain_mempool_reason_text(want), strlen(chain_mempool_reason_text(want))),
        0);
    assert_int_equal(chain_mempool_count(mp), c);
    assert_int_equal(chain_mempool_bytes(mp), b);
    if (want != CHAIN_MP_ALREADY_KNOWN) assert_null(chain_mempool_get(mp, tx->id));
}

static size_t sel(chain_mempool *mp, const chain_tx **out, size_t max_out)
{
    return chain_mempool_select(mp, UINT64_MAX, SIZE_MAX, out, max_out);
}

static void test_reason_strings(void **state)
{
    (void)state;
    assert_string_equal(chain_mempool_reason_token(CHAIN_MP_NONCE_TOO_LOW), "nonce_too_low");
    assert_string_equal(chain_mempool_reason_text(CHAIN_MP_UNDERPRICED), "replacement underpriced");
    assert_string_equal(chain_mempool_reason_text(CHAIN_MP_FEE_TOO_LOW), "fee below minimum");
    assert_string_equal(chain_mempool_reason_token(-1), "unknown");
    assert_string_equal(chain_mempool_reason_text(CHAIN_MP_REASON_COUNT), "unknown");
    for (int i = 0; i < CHAIN_MP_REASON_COUNT; i++) {
        const char *t = chain_mempool_reason_token(i);
        assert_non_null(t);
        assert_non_null(chain_mempool_reason_text(i));
        for (const char *p = t; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
        for (int j = 0; j < i; j++)
            assert_string_not_equal(t, chain_mempool_reason_token(j));
    }
}

static void test_ordering(void **state)
{
    (void)state;
    chain_mempool_cfg c = cfg_default();
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    assert_non_null(mp);
    /* A pays 5, 5; B pays 10, 4, 8: B0 first, then A (5 beats B1's 4), then B. */
    chain_tx a0 = mk(0, 0, 5), a1 = mk(0, 1, 5);
    chain_tx b0 = mk(1, 0, 10), b1 = mk(1, 1, 4), b2 = mk(1, 2, 8);
    /* Out of nonce order on purpose. */
    assert_int_equal(add(mp, &b2), CHAIN_MP_OK);
    assert_int_equal(add(mp, &a1), CHAIN_MP_OK);
    assert_int_equal(add(mp, &b1), CHAIN_MP_OK);
    assert_int_equal(add(mp, &a0), CHAIN_MP_OK);
    assert_int_equal(add(mp, &b0), CHAIN_MP_OK);
    assert_int_equal(chain_mempool_count(mp), 5);
    assert_int_equal(chain_mempool_bytes(mp), 5 * (size_t)a0.size);

    const chain_tx *out[8];
    assert_int_equal(sel(mp, out, 8), 5);
    const chain_tx *want[] = {&b0, &a0, &a1, &b1, &b2};
    for (int i = 0; i < 5; i++)
        assert_memory_equal(out[i]->id, want[i]->id, 32);
    /* Selection does not consume. */
    assert_int_equal(sel(mp, out, 8), 5);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[0]), 2);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[1]), 3);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[5]), 0);

    /* Equal prices: earlier arrival first. */
    chain_tx c0 = mk(2, 0, 7), d0 = mk(3, 0, 7);
    assert_int_equal(add(mp, &d0), CHAIN_MP_OK);
    assert_int_equal(add(mp, &c0), CHAIN_MP_OK);
    assert_int_equal(sel(mp, out, 3), 3);
    assert_memory_equal(out[0]->id, b0.id, 32);
    assert_memory_equal(out[1]->id, d0.id, 32);
    assert_memory_equal(out[2]->id, c0.id, 32);
    chain_mempool_free(mp);
}

static void test_gap_and_committed_nonce(void **state)
{
    (void)state;
    chain_mempool_cfg c = cfg_default();
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    const chain_tx *out[8];
    chain_tx t0 = mk(0, 0, 3), t1 = mk(0, 1, 3), t2 = mk(0, 2, 3);
    assert_int_equal(add(mp, &t0), CHAIN_MP_OK);
    assert_int_equal(add(mp, &t2), CHAIN_MP_OK);
    assert_int_equal(sel(mp, out, 8), 1);
    assert_memory_equal(out[0]->id, t0.id, 32);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[0]), 1);
    assert_int_equal(add(mp, &t1), CHAIN_MP_OK);
    assert_int_equal(sel(mp, out, 8), 3);
    assert_memory_equal(out[1]->id, t1.id, 32);
    assert_memory_equal(out[2]->id, t2.id, 32);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[0]), 3);

    /* Only a tx at the committed nonce starts a run. */
    set_acct(&g_addrs[1], 1000000000, 5);
    chain_tx u6 = mk(1, 6, 9), u5 = mk(1, 5, 9), u4 = mk(1, 4, 9);
    add_reject(mp, &u4, CHAIN_MP_NONCE_TOO_LOW);
    assert_int_equal(add(mp, &u6), CHAIN_MP_OK);
    assert_int_equal(sel(mp, out, 8), 3);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[1]), 5);
    assert_int_equal(add(mp, &u5), CHAIN_MP_OK);
    assert_int_equal(sel(mp, out, 8), 5);
    assert_memory_equal(out[0]->id, u5.id, 32);
    assert_memory_equal(out[1]->id, u6.id, 32);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[1]), 7);
    chain_mempool_free(mp);
}

static void test_replacement(void **state)
{
    (void)state;
    chain_mempool_cfg c = cfg_default();
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    const chain_tx *out[4];
    chain_tx o = mk(0, 0, 10), o1 = mk(0, 1, 10);
    assert_int_equal(add(mp, &o), CHAIN_MP_OK);
    assert_int_equal(add(mp, &o1), CHAIN_MP_OK);
    add_reject(mp, &o, CHAIN_MP_ALREADY_KNOWN);
    chain_tx same = mk(0, 0, 10); /* new signature, same price */
    assert_memory_not_equal(same.id, o.id, 32);
    add_reject(mp, &same, CHAIN_MP_UNDERPRICED);
    chain_tx low = mk(0, 0, 9);
    add_reject(mp, &low, CHAIN_MP_UNDERPRICED);
    chain_tx r = mk(0, 0, 11); /* exactly +10% */
    assert_int_equal(add(mp, &r), CHAIN_MP_OK);
    assert_int_equal(chain_mempool_count(mp), 2);
    assert_null(chain_mempool_get(mp, o.id));
    assert_non_null(chain_mempool_get(mp, r.id));
    assert_int_equal(sel(mp, out, 4), 2);
    assert_memory_equal(out[0]->id, r.id, 32);
    assert_memory_equal(out[1]->id, o1.id, 32);

    /* The bump is a percentage: 20 -> 21 is only +5%, 20 -> 22 is enough. */
    chain_tx h20 = mk(4, 0, 20), h21 = mk(4, 0, 21), h22 = mk(4, 0, 22);
    assert_int_equal(add(mp, &h20), CHAIN_MP_OK);
    add_reject(mp, &h21, CHAIN_MP_UNDERPRICED);
    assert_int_equal(add(mp, &h22), CHAIN_MP_OK);

    /* 5 -> 6 is +20%, 6 -> 6 is not strictly higher. */
    chain_tx p5 = mk(1, 0, 5), p6 = mk(1, 0, 6), p6b = mk(1, 0, 6);
    assert_int_equal(add(mp, &p5), CHAIN_MP_OK);
    assert_int_equal(add(mp, &p6), CHAIN_MP_OK);
    add_reject(mp, &p6b, CHAIN_MP_UNDERPRICED);

    /* The replaced tx's cost is not counted twice, but the new cost must fit. */
    set_acct(&g_addrs[2], 2 * 1000 * 20 + 10, 0);
    chain_tx f0 = mk_full(2, 0, 20, 1000, 5, CHAIN), f1 = mk_full(2, 1, 20, 1000, 5, CHAIN);
    assert_int_equal(add(mp, &f0), CHAIN_MP_OK);
    assert_int_equal(add(mp, &f1), CHAIN_MP_OK);
    chain_tx f1r = mk_full(2, 1, 22, 1000, 5, CHAIN);
    add_reject(mp, &f1r, CHAIN_MP_INSUFFICIENT_FUNDS);
    chain_tx f1ok = mk_full(2, 1, 22, 1000, 0, CHAIN); /* 22000 + 20005 > 40010: still no */
    add_reject(mp, &f1ok, CHAIN_MP_INSUFFICIENT_FUNDS);
    set_acct(&g_addrs[2], 2 * 1000 * 22 + 10, 0);
    assert_int_equal(add(mp, &f1r), CHAIN_MP_OK);
    chain_mempool_free(mp);

    /* With a zero minimum price, 0 -> 0 is not a replacement but 0 -> 1 is. */
    c.min_gas_price = 0;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    chain_tx z = mk(3, 0, 0), z2 = mk(3, 0, 0), z1 = mk(3, 0, 1);
    assert_int_equal(add(mp, &z), CHAIN_MP_OK);
    add_reject(mp, &z2, CHAIN_MP_UNDERPRICED);
    assert_int_equal(add(mp, &z1), CHAIN_MP_OK);
    chain_mempool_free(mp);
}

static void test_rejections(void **state)
{
    (void)state;
    chain_mempool_cfg c = cfg_default();
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    chain_tx base = mk(0, 0, 5);
    assert_int_equal(add(mp, &base), CHAIN_MP_OK);

    chain_tx t = mk(1, 0, 5);
    t.sig[10] ^= 0x01;
    add_reject(mp, &t, CHAIN_MP_BAD_SIGNATURE);
    t = mk(1, 0, 5);
    t.body.transfer.amount = 2; /* content changed after signing */
    {
        util_err err = {0};
        assert_int_equal(chain_tx_finalize(&t, &err), 0);
    }
    add_reject(mp, &t, CHAIN_MP_BAD_SIGNATURE);
    t = mk(1, 1, 5);
    memcpy(t.sender, g_keys[2].pubkey, 32); /* someone else's key */
    {
        util_err err = {0};
        assert_int_equal(chain_tx_finalize(&t, &err), 0);
    }
    add_reject(mp, &t, CHAIN_MP_BAD_SIGNATURE);

    t = mk_full(1, 0, 5, 1000, 1, "other-chain");
    add_reject(mp, &t, CHAIN_MP_WRONG_CHAIN);

    set_acct(&g_addrs[1], 1000000000, 3);
    t = mk(1, 2, 5);
    add_reject(mp, &t, CHAIN_MP_NONCE_TOO_LOW);
    t = mk(1, 3 + 17, 5);
    add_reject(mp, &t, CHAIN_MP_NONCE_TOO_HIGH);
    t = mk(1, 3 + 16, 5); /* the window's edge is allowed */
    assert_int_equal(add(mp, &t), CHAIN_MP_OK);
    set_acct(&g_addrs[1], 1000000000, UINT64_MAX - 2);
    t = mk(1, UINT64_MAX, 5); /* window end saturates instead of wrapping */
    assert_int_equal(add(mp, &t), CHAIN_MP_OK);

    t = mk(0, 1, 0);
    add_reject(mp, &t, CHAIN_MP_FEE_TOO_LOW);
    t = mk_full(0, 1, 5, CHAIN_GAS_TRANSFER - 1, 1, CHAIN);
    add_reject(mp, &t, CHAIN_MP_GAS_TOO_LOW);
    t = mk_full(0, 1, 5, c.block_gas_limit + 1, 1, CHAIN);
    add_reject(mp, &t, CHAIN_MP_GAS_TOO_HIGH);
    t = mk_full(0, 1, UINT64_MAX / 1000, 1001, 1, CHAIN); /* max cost overflows */
    add_reject(mp, &t, CHAIN_MP_INSUFFICIENT_FUNDS);

    t = mk(0, 1, 5);
    t.version = 2;
    add_reject(mp, &t, CHAIN_MP_MALFORMED);
    t = mk(0, 1, 5);
    t.type = 9; /* no such type */
    add_reject(mp, &t, CHAIN_MP_UNSUPPORTED);

    g_acct_fail = 1;
    t = mk(0, 1, 5);
    add_reject(mp, &t, CHAIN_MP_INTERNAL);
    g_acct_fail = 0;

    /* Funds: alone, then cumulative with pooled transactions. */
    set_acct(&g_addrs[3], 999, 0);
    t = mk_full(3, 0, 1, 1000, 0, CHAIN);
    add_reject(mp, &t, CHAIN_MP_INSUFFICIENT_FUNDS);
    set_acct(&g_addrs[3], 2 * (1000 * 2 + 100) - 1, 0);
    t = mk_full(3, 0, 2, 1000, 100, CHAIN);
    assert_int_equal(add(mp, &t), CHAIN_MP_OK);
    t = mk_full(3, 1, 2, 1000, 100, CHAIN);
    add_reject(mp, &t, CHAIN_MP_INSUFFICIENT_FUNDS);
    t = mk_full(3, 1, 2, 1000, 99, CHAIN);
    assert_int_equal(add(mp, &t), CHAIN_MP_OK);
    chain_mempool_free(mp);

    c.max_tx_size = base.size - 1;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    add_reject(mp, &base, CHAIN_MP_TOO_LARGE);
    chain_mempool_free(mp);
}

static void test_pool_full(void **state)
{
    (void)state;
    chain_mempool_cfg c = cfg_default();
    c.max_txs = 3;
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    chain_tx a = mk(0, 0, 5), b = mk(1, 0, 5), d = mk(2, 0, 5);
    assert_int_equal(add(mp, &a), CHAIN_MP_OK);
    assert_int_equal(add(mp, &b), CHAIN_MP_OK);
    assert_int_equal(add(mp, &d), CHAIN_MP_OK);
    chain_tx e5 = mk(3, 0, 5);
    add_reject(mp, &e5, CHAIN_MP_POOL_FULL);
    /* A higher price evicts the cheapest tail; among equals, the newest. */
    chain_tx e6 = mk(3, 0, 6);
    assert_int_equal(add(mp, &e6), CHAIN_MP_OK);
    assert_int_equal(chain_mempool_count(mp), 3);
    assert_null(chain_mempool_get(mp, d.id));
    assert_non_null(chain_mempool_get(mp, a.id));
    assert_non_null(chain_mempool_get(mp, b.id));
    /* A sender never evicts its own tail (it would open a gap before itself). */
    assert_int_equal(chain_mempool_remove(mp, a.id), 0);
    assert_int_equal(chain_mempool_remove(mp, b.id), 0);
    chain_tx s1 = mk(3, 1, 4), s2 = mk(3, 2, 4);
    assert_int_equal(add(mp, &s1), CHAIN_MP_OK);
    assert_int_equal(add(mp, &s2), CHAIN_MP_OK);
    chain_tx s3 = mk(3, 3, 9);
    add_reject(mp, &s3, CHAIN_MP_POOL_FULL);
    /* A replacement does not need room by count. */
    chain_tx s2r = mk(3, 2, 9);
    assert_int_equal(add(mp, &s2r), CHAIN_MP_OK);
    assert_int_equal(chain_mempool_count(mp), 3);
    chain_mempool_free(mp);

    /* By bytes: a pool of 3 tx sizes; the evicted tail is removed whole. */
    c = cfg_default();
    c.max_bytes = 3 * (size_t)a.size;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    chain_tx x0 = mk(0, 0, 8), x1 = mk(0, 1, 3), y0 = mk(1, 0, 4);
    assert_int_equal(add(mp, &x0), CHAIN_MP_OK);
    assert_int_equal(add(mp, &x1), CHAIN_MP_OK);
    assert_int_equal(add(mp, &y0), CHAIN_MP_OK);
    chain_tx z3 = mk(2, 0, 3);
    add_reject(mp, &z3, CHAIN_MP_POOL_FULL);
    chain_tx z4 = mk(2, 0, 4); /* beats x1 (3) */
    assert_int_equal(add(mp, &z4), CHAIN_MP_OK);
    assert_null(chain_mempool_get(mp, x1.id));
    assert_int_equal(chain_mempool_bytes(mp), 3 * (size_t)a.size);
    /* Among equal prices the newest tail goes first, but z4 is the
     * newcomer's own: y0 goes instead. */
    chain_tx z5 = mk(2, 1, 5);
    assert_int_equal(add(mp, &z5), CHAIN_MP_OK);
    assert_null(chain_mempool_get(mp, y0.id));
    assert_non_null(chain_mempool_get(mp, z4.id));
    chain_mempool_free(mp);

    /* Several victims for one newcomer. Transfers all have the same size, so
     * the newcomer claims a larger size: the pool trusts the derived fields
     * of a transaction, which decoding or signing computed. */
    c = cfg_default();
    size_t sz = a.size;
    c.max_bytes = 4 * sz;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    chain_tx p0 = mk(0, 0, 2), p1 = mk(0, 1, 2), r0 = mk(1, 0, 9), q0 = mk(2, 0, 3);
    assert_int_equal(add(mp, &p0), CHAIN_MP_OK);
    assert_int_equal(add(mp, &p1), CHAIN_MP_OK);
    assert_int_equal(add(mp, &r0), CHAIN_MP_OK);
    assert_int_equal(add(mp, &q0), CHAIN_MP_OK);
    const chain_tx *before[8], *after[8];
    size_t nb = sel(mp, before, 8);
    assert_int_equal(nb, 4);
    chain_tx big = mk(3, 0, 3);
    big.size = (uint32_t)(3 * sz);
    big.sig_checked = 1;
    /* Would need p1, p0 and q0, but q0 pays 3 too: everything is put back. */
    add_reject(mp, &big, CHAIN_MP_POOL_FULL);
    assert_int_equal(sel(mp, after, 8), nb);
    for (size_t i = 0; i < nb; i++)
        assert_memory_equal(after[i]->id, before[i]->id, 32);
    big = mk(3, 0, 4);
    big.size = (uint32_t)(3 * sz);
    big.sig_checked = 1;
    assert_int_equal(add(mp, &big), CHAIN_MP_OK);
    assert_null(chain_mempool_get(mp, p0.id));
    assert_null(chain_mempool_get(mp, p1.id));
    assert_null(chain_mempool_get(mp, q0.id));
    assert_int_equal(chain_mempool_count(mp), 2);
    assert_int_equal(chain_mempool_bytes(mp), 4 * sz);
    assert_int_equal(sel(mp, after, 8), 2);
    assert_memory_equal(after[0]->id, r0.id, 32);
    assert_memory_equal(after[1]->id, big.id, 32);
    /* The emptied senders are gone and can come back. */
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[0]), 0);
    chain_mempool_free(mp);

    /* Nothing fits a zero-sized pool. */
    c = cfg_default();
    c.max_txs = 0;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    add_reject(mp, &a, CHAIN_MP_POOL_FULL);
    chain_mempool_free(mp);
}

static void test_select_limits(void **state)
{
    (void)state;
    chain_mempool_cfg c = cfg_default();
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    const chain_tx *out[8];
    chain_tx t[5];
    for (int i = 0; i < 5; i++) {
        t[i] = mk(0, (uint64_t)i, 5);
        assert_int_equal(add(mp, &t[i]), CHAIN_MP_OK);
    }
    size_t sz = t[0].size;
    assert_int_equal(chain_mempool_select(mp, 2500, SIZE_MAX, out, 8), 2);
    assert_int_equal(chain_mempool_select(mp, 3000, SIZE_MAX, out, 8), 3);
    assert_int_equal(chain_mempool_select(mp, UINT64_MAX, 3 * sz, out, 8), 3);
    assert_int_equal(chain_mempool_select(mp, UINT64_MAX, 3 * sz - 1, out, 8), 2);
    assert_int_equal(chain_mempool_select(mp, UINT64_MAX, SIZE_MAX, out, 1), 1);
    assert_int_equal(chain_mempool_select(mp, UINT64_MAX, SIZE_MAX, out, 0), 0);
    assert_int_equal(chain_mempool_select(mp, 999, SIZE_MAX, out, 8), 0);

    /* A tx that does not fit ends only its own sender's run. */
    chain_tx big = mk_full(1, 0, 50, 5000, 1, CHAIN), small = mk(2, 0, 1);
    assert_int_equal(add(mp, &big), CHAIN_MP_OK);
    assert_int_equal(add(mp, &small), CHAIN_MP_OK);
    assert_int_equal(chain_mempool_select(mp, 3000, SIZE_MAX, out, 8), 3);
    assert_memory_equal(out[0]->id, t[0].id, 32);
    assert_memory_equal(out[2]->id, t[2].id, 32);
    assert_int_equal(chain_mempool_select(mp, 6500, SIZE_MAX, out, 8), 2);
    assert_memory_equal(out[0]->id, big.id, 32);
    assert_memory_equal(out[1]->id, t[0].id, 32);
    assert_int_equal(chain_mempool_select(mp, 5000 + 5 * 1000 + 1000, SIZE_MAX, out, 8), 7);
    assert_memory_equal(out[6]->id, small.id, 32);
    chain_mempool_free(mp);
}

static void test_on_block_and_remove(void **state)
{
    (void)state;
    chain_mempool_cfg c = cfg_default();
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    const chain_tx *out[8];
    chain_tx a0 = mk(0, 0, 5), a1 = mk(0, 1, 5), a2 = mk(0, 2, 5), a3 = mk(0, 3, 5);
    chain_tx b0 = mk(1, 0, 5), b1 = mk(1, 1, 5), b2 = mk(1, 2, 5);
    chain_tx c0 = mk(2, 0, 5);
    chain_tx *all[] = {&a0, &a1, &a2, &a3, &b0, &b1, &b2, &c0};
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(add(mp, all[i]), CHAIN_MP_OK);

    /* The block carries a0 and a different a1 (same nonce, not pooled), and
     * b0; B spent so much that only one more of its txs is affordable. */
    chain_tx blk[3] = {a0, mk(0, 1, 7), b0};
    chain_block b;
    memset(&b, 0, sizeof b);
    b.ntx = 3;
    b.txs = blk;
    set_acct(&g_addrs[0], 1000000000, 2);
    set_acct(&g_addrs[1], 1000 * 5 + 1 + 1000 * 5, 1); /* b1 fits exactly, b2 does not */
    chain_mempool_on_block(mp, &b);
    assert_null(chain_mempool_get(mp, a0.id));
    assert_null(chain_mempool_get(mp, a1.id));
    assert_null(chain_mempool_get(mp, b0.id));
    assert_null(chain_mempool_get(mp, b2.id));
    assert_non_null(chain_mempool_get(mp, a2.id));
    assert_non_null(chain_mempool_get(mp, b1.id));
    assert_non_null(chain_mempool_get(mp, c0.id));
    assert_int_equal(chain_mempool_count(mp), 4);
    assert_int_equal(chain_mempool_bytes(mp), 4 * (size_t)a0.size);
    assert_int_equal(sel(mp, out, 8), 4);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[0]), 4);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[1]), 2);

    /* A sender whose whole queue is now stale disappears. */
    set_acct(&g_addrs[1], 1000000000, 5);
    chain_tx blk2[1] = {mk(1, 4, 5)};
    b.ntx = 1;
    b.txs = blk2;
    chain_mempool_on_block(mp, &b);
    assert_null(chain_mempool_get(mp, b1.id));
    assert_int_equal(chain_mempool_count(mp), 3);
    /* A sender that can no longer pay for anything disappears too. */
    set_acct(&g_addrs[2], 10, 0);
    blk2[0] = mk(2, 7, 5); /* any tx from C marks it touched */
    chain_mempool_on_block(mp, &b);
    assert_null(chain_mempool_get(mp, c0.id));
    assert_int_equal(chain_mempool_count(mp), 2);
    /* An empty block changes nothing. */
    b.ntx = 0;
    chain_mempool_on_block(mp, &b);
    assert_int_equal(chain_mempool_count(mp), 2);

    /* remove: a gap stops selection for that sender. */
    assert_int_equal(chain_mempool_remove(mp, a2.id), 0);
    assert_int_equal(chain_mempool_remove(mp, a2.id), UTIL_ENOTFOUND);
    assert_int_equal(chain_mempool_count(mp), 1);
    assert_int_equal(sel(mp, out, 8), 0);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[0]), 2);
    assert_int_equal(chain_mempool_remove(mp, a3.id), 0);
    assert_int_equal(chain_mempool_count(mp), 0);
    assert_int_equal(chain_mempool_bytes(mp), 0);
    /* The sender is gone; it can come back. */
    assert_int_equal(add(mp, &a2), CHAIN_MP_OK);
    assert_int_equal(sel(mp, out, 8), 1);
    chain_mempool_free(mp);
}

static void test_sig_checked_trusted(void **state)
{
    (void)state;
    chain_mempool_cfg c = cfg_default();
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    /* Callers must set sig_checked only after verifying: the pool trusts it. */
    chain_tx t = mk(0, 0, 5);
    t.sig[0] ^= 0x80;
    t.sig_checked = 1;
    assert_int_equal(add(mp, &t), CHAIN_MP_OK);
    assert_non_null(chain_mempool_get(mp, t.id));
    t = mk(0, 1, 5);
    t.sig[0] ^= 0x80;
    t.sig_checked = 0;
    add_reject(mp, &t, CHAIN_MP_BAD_SIGNATURE);
    /* Pooled copies are marked verified. */
    chain_tx ok = mk(0, 1, 5);
    assert_int_equal(ok.sig_checked, 0);
    assert_int_equal(add(mp, &ok), CHAIN_MP_OK);
    assert_int_equal(chain_mempool_get(mp, ok.id)->sig_checked, 1);
    chain_mempool_free(mp);
}

/* ---- bulk: many senders, checked against a simple reference ---- */

static uint64_t g_rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Unsigned txs marked verified, so the test spends its time in the pool. */
static chain_tx mk_fast(const uint8_t pk[32], uint64_t nonce, uint64_t price)
{
    chain_tx tx;
    util_err err = {0};
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    strcpy(tx.chain_id, CHAIN);
    tx.type = CHAIN_TX_TRANSFER;
    memcpy(tx.sender, pk, 32);
    tx.nonce = nonce;
    tx.gas_limit = CHAIN_GAS_TRANSFER;
    tx.gas_price = price;
    tx.body.transfer.amount = 1;
    assert_int_equal(chain_tx_finalize(&tx, &err), 0);
    tx.sig_checked = 1;
    return tx;
}

static void test_bulk_against_reference(void **state)
{
    (void)state;
    enum { S = 1500, PER = 6 };
    chain_mempool_cfg c = cfg_default();
    c.max_txs = 100000;
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    chain_tx *txs = calloc(S * PER, sizeof *txs);
    assert_non_null(txs);
    g_nacc = 0;
    for (int s = 0; s < S; s++) {
        uint8_t pk[32] = {0};
        pk[0] = (uint8_t)s;
        pk[1] = (uint8_t)(s >> 8);
        pk[2] = 0xAB;
        for (int k = 0; k < PER; k++)
            txs[s * PER + k] = mk_fast(pk, (uint64_t)k, 1 + rnd() % 50);
        set_acct(&txs[s * PER].from, 1000000000, 0);
    }
    /* Random arrival order; one sender in ten misses nonce 3 (a gap). */
    size_t n = S * PER;
    size_t *order = malloc(n * sizeof *order);
    assert_non_null(order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rnd() % (i + 1), x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        size_t t = order[i];
        if ((t / PER) % 10 == 0 && t % PER == 3) continue;
        assert_int_equal(add(mp, &txs[t]), CHAIN_MP_OK);
        added++;
    }
    assert_int_equal(chain_mempool_count(mp), added);

    const chain_tx **out = malloc(n * sizeof *out);
    assert_non_null(out);
    size_t got = sel(mp, out, n);
    /* Reference: repeatedly take the best head by (price desc, arrival asc). */
    size_t *next = calloc(S, sizeof *next), *rank = malloc(n * sizeof *rank), ref = 0;
    assert_non_null(next);
    assert_non_null(rank);
    for (size_t i = 0, r = 0; i < n; i++)
        rank[order[i]] = r++;
    for (;;) {
        int best = -1;
        for (int s = 0; s < S; s++) {
            size_t k = next[s];
            if (k >= PER || (s % 10 == 0 && k == 3)) continue;
            const chain_tx *t = &txs[(size_t)s * PER + k];
            if (best < 0) {
                best = s;
                continue;
            }
            const chain_tx *b = &txs[(size_t)best * PER + next[best]];
            if (t->gas_price > b->gas_price ||
                (t->gas_price == b->gas_price &&
                 rank[(size_t)s * PER + k] < rank[(size_t)best * PER + next[best]]))
                best = s;
        }
        if (best < 0) break;
        assert_true(ref < got);
        assert_memory_equal(out[ref]->id, txs[(size_t)best * PER + next[best]].id, 32);
        ref++;
        next[best]++;
    }
    assert_int_equal(ref, got);
    assert_int_equal(got, added - (S / 10) * 2);

    /* Commit the first half of the selection and check the cleanup. */
    chain_block b;
    memset(&b, 0, sizeof b);
    b.ntx = got / 2;
    b.txs = calloc(b.ntx, sizeof *b.txs);
    assert_non_null(b.txs);
    for (size_t i = 0; i < b.ntx; i++) {
        b.txs[i] = *out[i];
        chain_addr *a = &b.txs[i].from;
        for (size_t k = 0; k < g_nacc; k++)
            if (memcmp(g_acc[k].a.b, a->b, CHAIN_ADDR_LEN) == 0 && g_acc[k].nonce <= b.txs[i].nonce)
                g_acc[k].nonce = b.txs[i].nonce + 1;
    }
    chain_mempool_on_block(mp, &b);
    assert_int_equal(chain_mempool_count(mp), added - b.ntx);
    got = sel(mp, out, n);
    assert_int_equal(got, added - (S / 10) * 2 - b.ntx);
    free(b.txs);
    free(next);
    free(rank);
    free(out);
    free(order);
    free(txs);
    chain_mempool_free(mp);
}

/* Random adds into a small pool: the limits always hold, and rejections
 * never change count or bytes (add_reject checks that). */
static void test_random_small_pool(void **state)
{
    (void)state;
    chain_mempool_cfg c = cfg_default();
    c.max_txs = 40;
    c.max_nonce_ahead = 8;
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    g_nacc = 0;
    for (int i = 0; i < 3000; i++) {
        uint8_t pk[32] = {0};
        pk[0] = (uint8_t)(rnd() % 12);
        pk[3] = 0xCD;
        chain_tx t = mk_fast(pk, rnd() % 10, 1 + rnd() % 20);
        if (i == 0 || rnd() % 2) set_acct(&t.from, 1000000, 0);
        size_t cnt = chain_mempool_count(mp), by = chain_mempool_bytes(mp);
        util_err err = {0};
        int r = chain_mempool_add(mp, &t, &err);
        if (r != CHAIN_MP_OK) {
            assert_int_equal(chain_mempool_count(mp), cnt);
            assert_int_equal(chain_mempool_bytes(mp), by);
        } else {
            assert_non_null(chain_mempool_get(mp, t.id));
        }
        assert_true(chain_mempool_count(mp) <= c.max_txs);
        assert_int_equal(chain_mempool_bytes(mp), chain_mempool_count(mp) * (size_t)t.size);
        if (i % 500 == 499) {
            const chain_tx *out[64];
            size_t n = sel(mp, out, 64);
            chain_tx blk[64];
            for (size_t k = 0; k < n; k++)
                blk[k] = *out[k];
            for (size_t k = 0; k < n; k++)
                for (size_t q = 0; q < g_nacc; q++)
                    if (memcmp(g_acc[q].a.b, blk[k].from.b, CHAIN_ADDR_LEN) == 0)
                        g_acc[q].nonce = blk[k].nonce + 1;
            chain_block b;
            memset(&b, 0, sizeof b);
            b.ntx = n;
            b.txs = blk;
            chain_mempool_on_block(mp, &b);
        }
    }
    chain_mempool_free(mp);
}

int main(void)
{
    g_rng = ol_test_seed("test_mempool", g_rng);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reason_strings, setup),
        cmocka_unit_test_setup(test_ordering, setup),
        cmocka_unit_test_setup(test_gap_and_committed_nonce, setup),
        cmocka_unit_test_setup(test_replacement, setup),
        cmocka_unit_test_setup(test_rejections, setup),
        cmocka_unit_test_setup(test_pool_full, setup),
        cmocka_unit_test_setup(test_select_limits, setup),
        cmocka_unit_test_setup(test_on_block_and_remove, setup),
        cmocka_unit_test_setup(test_sig_checked_trusted, setup),
        cmocka_unit_test_setup(test_bulk_against_reference, setup),
        cmocka_unit_test_setup(test_random_small_pool, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
