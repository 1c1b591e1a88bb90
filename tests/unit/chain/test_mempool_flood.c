/* The mempool against cheap flooding: transactions behind a nonce gap
 * ("queued") are limited per sender, expire, are evicted before executable
 * ("pending") ones and never evict them; a filled gap promotes them.
 * Policy: docs/mempool.md. */
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
#include "util/env.h"
#include "tests/seed.h"

#define CHAIN "test-chain"
#define NKEYS 96
#define SEC 1000000000ull

static chain_keypair g_keys[NKEYS];
static chain_addr g_addrs[NKEYS];

typedef struct acct {
    chain_addr a;
    uint64_t bal, nonce;
} acct;
static acct g_acc[NKEYS + 64];
static size_t g_nacc;

static int acct_fn(void *ctx, const chain_addr *a, uint64_t *bal, uint64_t *nonce)
{
    (void)ctx;
    *bal = *nonce = 0;
    for (size_t i = 0; i < g_nacc; i++)
        if (memcmp(g_acc[i].a.b, a->b, CHAIN_ADDR_LEN) == 0) {
            *bal = g_acc[i].bal;
            *nonce = g_acc[i].nonce;
        }
    return 0;
}

static void set_nonce(int k, uint64_t nonce)
{
    for (size_t i = 0; i < g_nacc; i++)
        if (memcmp(g_acc[i].a.b, g_addrs[k].b, CHAIN_ADDR_LEN) == 0) g_acc[i].nonce = nonce;
}

/* The test env: its monotonic clock is the uint64_t at ctx, moved by hand
 * (g_now for the pools of small_cfg). */
static uint64_t g_now;
static uint64_t test_mono_ns(void *ctx)
{
    return *(const uint64_t *)ctx;
}
static util_env g_env;

static int setup(void **state)
{
    (void)state;
    g_nacc = 0;
    g_now = 1000 * SEC;
    g_env = *util_env_default();
    g_env.ctx = &g_now;
    g_env.mono_ns = test_mono_ns;
    for (uint32_t i = 0; i < NKEYS; i++) {
        if (chain_keypair_dev(&g_keys[i], 200 + i)) return -1;
        chain_addr_from_pubkey(&g_addrs[i], g_keys[i].pubkey);
        g_acc[g_nacc++] = (acct){g_addrs[i], 1000000000000ull, 0};
    }
    return 0;
}

/* The genesis hash the pool and the signer share (any 32 bytes will do). */
static const uint8_t GH[32] = {0x6f, 0x6c, 0x2d, 0x66, 0x6c, 0x6f, 0x6f, 0x64};

static chain_mempool_cfg small_cfg(size_t max_txs, size_t max_queued, uint64_t lifetime_s)
{
    chain_mempool_cfg c;
    memset(&c, 0, sizeof c);
    strcpy(c.chain_id, CHAIN);
    memcpy(c.genesis_hash, GH, 32);
    c.min_gas_price = 1;
    c.block_gas_limit = 1000000;
    c.max_tx_size = 4096;
    c.max_txs = max_txs;
    c.max_bytes = 1 << 24;
    c.max_nonce_ahead = 64;
    c.max_queued_per_sender = max_queued;
    c.queued_lifetime_s = lifetime_s;
    c.env = &g_env;
    return c;
}

/* The only place that signs: for the test genesis GH. */
static void sign(chain_tx *tx, const chain_keypair *kp)
{
    util_err err = {0};
    if (chain_tx_sign(tx, kp, GH, &err)) fail_msg("sign: %s", err.msg);
}

static chain_tx mk(int k, uint64_t nonce, uint64_t price)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    strcpy(tx.chain_id, CHAIN);
    tx.type = CHAIN_TX_TRANSFER;
    tx.nonce = nonce;
    tx.gas_limit = CHAIN_GAS_TRANSFER;
    tx.gas_price = price;
    tx.body.transfer.to = g_addrs[0];
    tx.body.transfer.amount = 1;
    sign(&tx, &g_keys[k]);
    return tx;
}

static int add_msg(chain_mempool *mp, const chain_tx *tx, char *msg, size_t cap)
{
    util_err err = {0};
    int r = chain_mempool_add(mp, tx, &err);
    if (msg) snprintf(msg, cap, "%s", err.msg);
    return r;
}

static void add_ok(chain_mempool *mp, const chain_tx *tx)
{
    char m[256];
    int r = add_msg(mp, tx, m, sizeof m);
    if (r != CHAIN_MP_OK) fail_msg("add: %s (%s)", chain_mempool_reason_token(r), m);
}

/* Expects a rejection that leaves the pool as it was. */
static void add_no(chain_mempool *mp, const chain_tx *tx, int want)
{
    size_t c = chain_mempool_count(mp), b = chain_mempool_bytes(mp), q = chain_mempool_queued(mp);
    char m[256];
    int r = add_msg(mp, tx, m, sizeof m);
    if (r != want)
        fail_msg("want %s, got %s (%s)", chain_mempool_reason_token(want),
                 chain_mempool_reason_token(r), m);
    assert_int_equal(chain_mempool_count(mp), c);
    assert_int_equal(chain_mempool_bytes(mp), b);
    assert_int_equal(chain_mempool_queued(mp), q);
    assert_null(chain_mempool_get(mp, tx->id));
}

static int pooled(chain_mempool *mp, const chain_tx *tx)
{
    return chain_mempool_get(mp, tx->id) != NULL;
}

static size_t sel(chain_mempool *mp, const chain_tx **out, size_t max_out)
{
    return chain_mempool_select(mp, UINT64_MAX, SIZE_MAX, out, max_out);
}

static int selected(const chain_tx **out, size_t n, const chain_tx *tx)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(out[i]->id, tx->id, 32) == 0) return 1;
    return 0;
}

/* Issue 9, item 6: accounts that send only gapped transactions, enough to
 * fill a small pool and at a much higher price, cannot keep a fresh,
 * correctly-nonced, minimum-price transfer out. */
static void test_gapped_flood_cannot_block_a_transfer(void **state)
{
    (void)state;
    enum { POOL = 48, ATTACKERS = 40, PER = 4, HONEST = 48 };
    for (int by_bytes = 0; by_bytes < 2; by_bytes++) {
        chain_mempool_cfg c = small_cfg(POOL, PER, 0);
        chain_tx probe = mk(0, 0, 1);
        if (by_bytes) {
            c.max_txs = 100000;
            c.max_bytes = POOL * (size_t)probe.size;
        }
        chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
        assert_non_null(mp);
        /* Attackers: keys [0, ATTACKERS), nonces 1.. with nonce 0 never sent. */
        size_t admitted = 0;
        for (int a = 0; a < ATTACKERS; a++)
            for (uint64_t k = 1; k <= PER; k++) {
                chain_tx t = mk(a, k, 1000);
                util_err err = {0};
                int r = chain_mempool_add(mp, &t, &err);
                assert_true(r == CHAIN_MP_OK || r == CHAIN_MP_POOL_FULL);
                admitted += r == CHAIN_MP_OK;
            }
        assert_int_equal(admitted, POOL);
        assert_int_equal(chain_mempool_count(mp), POOL);
        assert_int_equal(chain_mempool_queued(mp), POOL);
        const chain_tx *out[POOL];
        assert_int_equal(sel(mp, out, POOL), 0);

        /* Honest senders, keys [ATTACKERS, ATTACKERS + HONEST): nonce 0 at the
         * minimum price. Each one gets in, and into the next block. */
        chain_tx honest[HONEST];
        for (int h = 0; h < HONEST; h++) {
            honest[h] = mk(ATTACKERS + h, 0, c.min_gas_price);
            add_ok(mp, &honest[h]);
            assert_int_equal(chain_mempool_count(mp), POOL);
        }
        assert_int_equal(chain_mempool_queued(mp), 0);
        size_t n = sel(mp, out, POOL);
        assert_int_equal(n, HONEST);
        for (int h = 0; h < HONEST; h++)
            assert_true(selected(out, n, &honest[h]));

        /* The flood goes on, at any price: no gapped transaction evicts them. */
        for (int a = 0; a < ATTACKERS; a++) {
            chain_tx t = mk(a, 1, 1000000);
            add_no(mp, &t, CHAIN_MP_POOL_FULL);
        }
        for (int h = 0; h < HONEST; h++)
            assert_true(pooled(mp, &honest[h]));
        chain_mempool_free(mp);
    }
}

static void test_queued_limit_per_sender(void **state)
{
    (void)state;
    chain_mempool_cfg c = small_cfg(1000, 3, 0);
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    chain_tx q2 = mk(1, 2, 5), q3 = mk(1, 3, 5), q4 = mk(1, 4, 5), q5 = mk(1, 5, 5);
    add_ok(mp, &q2);
    add_ok(mp, &q3);
    add_ok(mp, &q4);
    assert_int_equal(chain_mempool_queued(mp), 3);
    add_no(mp, &q5, CHAIN_MP_TOO_MANY_QUEUED);
    char m[256];
    assert_int_equal(add_msg(mp, &q5, m, sizeof m), CHAIN_MP_TOO_MANY_QUEUED);
    assert_string_equal(m, "too many queued: 3 transactions of this sender wait behind a nonce "
                           "gap (limit 3); nonce 0 is missing");
    assert_string_equal(chain_mempool_reason_token(CHAIN_MP_TOO_MANY_QUEUED), "too_many_queued");
    /* Other senders have their own allowance. */
    chain_tx o2 = mk(2, 2, 5);
    add_ok(mp, &o2);
    /* A replacement of a queued one needs no new slot. */
    chain_tx q3r = mk(1, 3, 6);
    add_ok(mp, &q3r);
    assert_false(pooled(mp, &q3));
    /* Pending transactions do not count: nonce 0 runs, 1 is still missing. */
    chain_tx p0 = mk(1, 0, 5), p1 = mk(1, 1, 5);
    add_ok(mp, &p0);
    assert_int_equal(chain_mempool_queued(mp), 4);
    add_msg(mp, &q5, m, sizeof m);
    assert_non_null(strstr(m, "nonce 1 is missing"));
    /* Filling the gap frees the allowance. */
    add_ok(mp, &p1);
    assert_int_equal(chain_mempool_queued(mp), 1);
    chain_tx q7 = mk(1, 7, 5), q8 = mk(1, 8, 5), q9 = mk(1, 9, 5), q10 = mk(1, 10, 5);
    add_ok(mp, &q5);
    add_ok(mp, &q7);
    add_ok(mp, &q8);
    add_ok(mp, &q9);
    add_no(mp, &q10, CHAIN_MP_TOO_MANY_QUEUED);
    chain_mempool_free(mp);

    /* 0: no per-sender limit. */
    c.max_queued_per_sender = 0;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    for (uint64_t k = 1; k <= 40; k++) {
        chain_tx t = mk(3, k, 5);
        add_ok(mp, &t);
    }
    assert_int_equal(chain_mempool_queued(mp), 40);
    chain_mempool_free(mp);
}

static void test_expiry(void **state)
{
    (void)state;
    chain_mempool_cfg c = small_cfg(1000, 16, 60);
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    uint64_t t0 = g_now;
    chain_tx p0 = mk(1, 0, 5), q2 = mk(1, 2, 5), r5 = mk(2, 5, 5);
    add_ok(mp, &p0);
    add_ok(mp, &q2);
    g_now = t0 + 10 * SEC;
    add_ok(mp, &r5);
    assert_int_equal(chain_mempool_queued(mp), 2);

    /* Not before the lifetime... */
    g_now = t0 + 60 * SEC - 1;
    assert_int_equal(chain_mempool_expire(mp), 0);
    assert_true(pooled(mp, &q2));
    /* ...and at it; the younger one and the pending one stay. */
    g_now = t0 + 60 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 1);
    assert_false(pooled(mp, &q2));
    assert_true(pooled(mp, &r5));
    assert_true(pooled(mp, &p0));
    assert_int_equal(chain_mempool_queued(mp), 1);
    /* An add triggers expiry too, even one that is refused. */
    g_now = t0 + 70 * SEC;
    chain_tx low = mk(3, 0, 0);
    util_err err = {0};
    assert_int_equal(chain_mempool_add(mp, &low, &err), CHAIN_MP_FEE_TOO_LOW);
    assert_false(pooled(mp, &r5));
    assert_int_equal(chain_mempool_queued(mp), 0);
    /* Pending transactions never expire. */
    g_now += 100000 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 0);
    assert_true(pooled(mp, &p0));

    /* Promoted before the lifetime: it stays. */
    t0 = g_now;
    chain_tx s1 = mk(4, 1, 5), s0 = mk(4, 0, 5);
    add_ok(mp, &s1);
    g_now = t0 + 59 * SEC;
    add_ok(mp, &s0);
    g_now = t0 + 1000 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 0);
    assert_true(pooled(mp, &s1));

    /* Demoted (its predecessor removed, e.g. invalid at execution): the
     * lifetime runs from the demotion. */
    t0 = g_now;
    assert_int_equal(chain_mempool_remove(mp, s0.id), 0);
    assert_int_equal(chain_mempool_queued(mp), 1);
    g_now = t0 + 59 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 0);
    g_now = t0 + 60 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 1);
    assert_false(pooled(mp, &s1));

    /* A replacement does not extend the life of the one it replaces. */
    t0 = g_now;
    chain_tx u3 = mk(5, 3, 5), u3r = mk(5, 3, 6);
    add_ok(mp, &u3);
    g_now = t0 + 50 * SEC;
    add_ok(mp, &u3r);
    g_now = t0 + 60 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 1);
    assert_false(pooled(mp, &u3r));

    /* on_block expires too, and a clock that steps back changes nothing. */
    t0 = g_now;
    chain_tx v4 = mk(6, 4, 5);
    add_ok(mp, &v4);
    g_now = t0 - 30 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 0);
    g_now = t0 + 60 * SEC;
    chain_block b;
    memset(&b, 0, sizeof b);
    chain_mempool_on_block(mp, &b);
    assert_false(pooled(mp, &v4));
    assert_int_equal(chain_mempool_count(mp), 1); /* p0 */
    chain_mempool_free(mp);

    /* No lifetime: nothing expires. */
    c.queued_lifetime_s = 0;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    add_ok(mp, &q2);
    g_now += 1000000 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 0);
    chain_mempool_free(mp);
    /* Each pool times expiry by its own env's clock, called with that env's
     * ctx: one that stands still expires nothing while g_now moves on. */
    c.queued_lifetime_s = 60;
    uint64_t still = g_now;
    util_env frozen = g_env;
    frozen.ctx = &still;
    c.env = &frozen;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    add_ok(mp, &q2);
    g_now += 1000 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 0);
    assert_true(pooled(mp, &q2));
    still += 60 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 1);
    assert_false(pooled(mp, &q2));
    chain_mempool_free(mp);
}

static void test_eviction_order(void **state)
{
    (void)state;
    chain_mempool_cfg c = small_cfg(4, 16, 0);
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    /* A, B pending; C, D queued, C paying more than everyone. */
    chain_tx a0 = mk(1, 0, 1), b0 = mk(2, 0, 5), c2 = mk(3, 2, 9), d5 = mk(4, 5, 3);
    add_ok(mp, &a0);
    add_ok(mp, &b0);
    add_ok(mp, &c2);
    add_ok(mp, &d5);
    /* A minimum-price pending newcomer evicts queued ones, cheapest first. */
    chain_tx e0 = mk(5, 0, 1), f0 = mk(6, 0, 1);
    add_ok(mp, &e0);
    assert_false(pooled(mp, &d5));
    assert_true(pooled(mp, &c2));
    add_ok(mp, &f0);
    assert_false(pooled(mp, &c2));
    assert_int_equal(chain_mempool_queued(mp), 0);
    /* All pending now: a queued newcomer gets nothing, whatever it pays. */
    chain_tx g3 = mk(7, 3, 1000);
    add_no(mp, &g3, CHAIN_MP_POOL_FULL);
    char m[256];
    add_msg(mp, &g3, m, sizeof m);
    assert_non_null(strstr(m, "nonce 0 is missing"));
    /* Among pending ones, the cheapest, then newest: F (price 1, after A, E). */
    chain_tx h0 = mk(8, 0, 1);
    add_no(mp, &h0, CHAIN_MP_POOL_FULL);
    chain_tx h0b = mk(8, 0, 2);
    add_ok(mp, &h0b);
    assert_false(pooled(mp, &f0));
    assert_true(pooled(mp, &a0) && pooled(mp, &e0) && pooled(mp, &b0));
    chain_mempool_free(mp);

    /* A sender with a pending head and a queued tail loses the tail first,
     * then is ranked by its pending tail. */
    mp = chain_mempool_new(&c, acct_fn, NULL);
    chain_tx k0 = mk(1, 0, 2), k2 = mk(1, 2, 50), l0 = mk(2, 0, 3), l1 = mk(2, 1, 3);
    add_ok(mp, &k0);
    add_ok(mp, &k2);
    add_ok(mp, &l0);
    add_ok(mp, &l1);
    chain_tx n0 = mk(3, 0, 4), o0 = mk(4, 0, 4);
    add_ok(mp, &n0);
    assert_false(pooled(mp, &k2));
    add_ok(mp, &o0);
    assert_false(pooled(mp, &k0)); /* price 2 < L's 3 */
    assert_true(pooled(mp, &l0) && pooled(mp, &l1));
    /* Queued against queued: only a strictly cheaper one goes. */
    assert_int_equal(chain_mempool_remove(mp, o0.id), 0);
    chain_tx x3 = mk(5, 3, 3), y3 = mk(6, 3, 3), y3b = mk(6, 3, 4);
    add_ok(mp, &x3);
    add_no(mp, &y3, CHAIN_MP_POOL_FULL);
    add_ok(mp, &y3b);
    assert_false(pooled(mp, &x3));
    chain_mempool_free(mp);

    /* By bytes: the queued ones go first, and a refused add puts every victim
     * back. Transfers all have one size, so the newcomer claims a larger one
     * (the pool trusts the derived fields). */
    c.max_txs = 100;
    c.max_bytes = 4 * (size_t)k0.size;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    chain_tx p0 = mk(1, 0, 1), q4 = mk(2, 4, 9), r0 = mk(3, 0, 2), s6 = mk(4, 6, 8);
    add_ok(mp, &p0);
    add_ok(mp, &q4);
    add_ok(mp, &r0);
    add_ok(mp, &s6);
    const chain_tx *before[8], *after[8];
    size_t nb = sel(mp, before, 8);
    chain_tx big = mk(7, 0, 1);
    big.size = (uint32_t)(3 * big.size);
    big.sig_checked = 1;
    /* Needs 3 slots: both queued ones and then p0, which pays the same. */
    add_no(mp, &big, CHAIN_MP_POOL_FULL);
    assert_int_equal(sel(mp, after, 8), nb);
    for (size_t i = 0; i < nb; i++)
        assert_memory_equal(after[i]->id, before[i]->id, 32);
    assert_int_equal(chain_mempool_queued(mp), 2);
    big = mk(7, 0, 2);
    big.size = (uint32_t)(3 * big.size);
    big.sig_checked = 1;
    add_ok(mp, &big);
    assert_false(pooled(mp, &q4) || pooled(mp, &s6) || pooled(mp, &p0));
    assert_true(pooled(mp, &r0));
    assert_int_equal(chain_mempool_queued(mp), 0);
    chain_mempool_free(mp);
}

static void test_promotion(void **state)
{
    (void)state;
    chain_mempool_cfg c = small_cfg(1000, 16, 60);
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    const chain_tx *out[16];
    /* Nonce 0 missing; 1, 2, 3 queued, and 5 behind a second gap. Prices rise
     * with the nonce, so a price-only order would be wrong. */
    chain_tx t1 = mk(1, 1, 7), t2 = mk(1, 2, 8), t3 = mk(1, 3, 9), t5 = mk(1, 5, 9);
    chain_tx o0 = mk(2, 0, 6);
    add_ok(mp, &t3);
    add_ok(mp, &t1);
    add_ok(mp, &t5);
    add_ok(mp, &t2);
    add_ok(mp, &o0);
    assert_int_equal(chain_mempool_queued(mp), 4);
    assert_int_equal(sel(mp, out, 16), 1);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[1]), 0);
    /* The missing nonce arrives, paying less than the others. */
    chain_tx t0 = mk(1, 0, 2);
    add_ok(mp, &t0);
    assert_int_equal(chain_mempool_queued(mp), 1);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[1]), 4);
    assert_int_equal(sel(mp, out, 16), 5);
    /* o0 (6) before t0 (2); then t1..t3 in nonce order. */
    const chain_tx *want[] = {&o0, &t0, &t1, &t2, &t3};
    for (int i = 0; i < 5; i++)
        assert_memory_equal(out[i]->id, want[i]->id, 32);
    /* Promoted ones no longer expire; t5 still does. */
    g_now += 60 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 1);
    assert_false(pooled(mp, &t5));
    assert_int_equal(chain_mempool_count(mp), 5);

    /* A block fills a gap with a transaction this pool never saw: sender 3
     * has 0 pending and 2, 3 queued; the block carries its 0 and another 1. */
    chain_tx w0 = mk(3, 0, 5), w2 = mk(3, 2, 5), w3 = mk(3, 3, 5), w1 = mk(3, 1, 5);
    add_ok(mp, &w0);
    add_ok(mp, &w2);
    add_ok(mp, &w3);
    assert_int_equal(chain_mempool_queued(mp), 2);
    chain_tx blk[2] = {w0, w1};
    chain_block b;
    memset(&b, 0, sizeof b);
    b.ntx = 2;
    b.txs = blk;
    set_nonce(3, 2);
    chain_mempool_on_block(mp, &b);
    assert_false(pooled(mp, &w0));
    assert_int_equal(chain_mempool_queued(mp), 0);
    assert_int_equal(chain_mempool_next_nonce(mp, &g_addrs[3]), 4);
    size_t n = sel(mp, out, 16);
    assert_int_equal(n, 7);
    size_t i2 = n, i3 = n;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(out[i]->id, w2.id, 32) == 0) i2 = i;
        if (memcmp(out[i]->id, w3.id, 32) == 0) i3 = i;
    }
    assert_true(i2 < i3 && i3 < n);
    /* They no longer expire either. */
    g_now += 1000 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 0);

    /* A block that leaves a gap keeps them queued: sender 4 has 2 queued, the
     * block moves its nonce from 0 to 1. */
    chain_tx z2 = mk(4, 2, 5);
    add_ok(mp, &z2);
    blk[0] = mk(4, 0, 5);
    b.ntx = 1;
    set_nonce(4, 1);
    chain_mempool_on_block(mp, &b);
    assert_int_equal(chain_mempool_queued(mp), 1);
    chain_mempool_free(mp);
}

/* ---- random operations against a reference model ---- */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

enum { MS = 10, MNONCE = 8192, MOPS = 2500, MLIFE = 50 };

/* Every transaction the pool ever admitted, with what the model knows. */
typedef struct mtx {
    chain_tx tx;
    int s;
    int pooled, queued; /* after the last operation */
    uint64_t since;     /* when it became queued, by the model */
} mtx;
static mtx g_m[MOPS];
static size_t g_nm;
static uint64_t g_cn[MS]; /* committed nonces */

/* Unsigned transactions marked verified: the model spends its time in the
 * pool, not in signing. */
static chain_tx mk_fast(int s, uint64_t nonce, uint64_t price)
{
    chain_tx tx;
    util_err err = {0};
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    strcpy(tx.chain_id, CHAIN);
    tx.type = CHAIN_TX_TRANSFER;
    tx.sender[0] = (uint8_t)s;
    tx.sender[1] = 0x5A;
    tx.nonce = nonce;
    tx.gas_limit = CHAIN_GAS_TRANSFER;
    tx.gas_price = price;
    tx.body.transfer.amount = (uint64_t)(rnd() % 1000); /* distinct ids */
    assert_int_equal(chain_tx_finalize(&tx, &err), 0);
    tx.sig_checked = 1;
    return tx;
}

/* Reference class of every pooled transaction: pending iff every nonce from
 * the committed one up to its own is pooled for its sender. */
static void model_classify(chain_mempool *mp, int *runlen, size_t *nq)
{
    static uint8_t has[MS][MNONCE];
    memset(has, 0, sizeof has);
    for (size_t i = 0; i < g_nm; i++)
        if (chain_mempool_get(mp, g_m[i].tx.id)) has[g_m[i].s][g_m[i].tx.nonce] = 1;
    for (int s = 0; s < MS; s++) {
        uint64_t n = g_cn[s];
        while (n < MNONCE && has[s][n])
            n++;
        runlen[s] = (int)(n - g_cn[s]);
    }
    *nq = 0;
    for (size_t i = 0; i < g_nm; i++)
        if (chain_mempool_get(mp, g_m[i].tx.id))
            *nq += g_m[i].tx.nonce >= g_cn[g_m[i].s] + (uint64_t)runlen[g_m[i].s];
}

/* After an operation: counts agree, selection is exactly the pending runs in
 * nonce order, and whatever left the pool had a reason to: it had expired, or
 * gone_ok(i) says the operation may remove transaction i. With
 * expired_checked, no queued transaction outlived its lifetime. */
typedef int (*gone_ok_fn)(size_t i, const void *ctx);

static void model_check(chain_mempool *mp, int expired_checked, gone_ok_fn gone_ok, const void *ctx)
{
    int run[MS];
    size_t nq;
    model_classify(mp, run, &nq);
    assert_int_equal(chain_mempool_queued(mp), nq);
    size_t pend = 0;
    for (int s = 0; s < MS; s++)
        pend += (size_t)run[s];
    assert_int_equal(chain_mempool_count(mp), pend + nq);
    static const chain_tx *out[MOPS];
    size_t n = sel(mp, out, MOPS);
    assert_int_equal(n, pend);
    uint64_t next[MS];
    memcpy(next, g_cn, sizeof next);
    for (size_t k = 0; k < n; k++) {
        int s = out[k]->sender[0];
        assert_int_equal(out[k]->nonce, next[s]++);
    }
    uint64_t life = MLIFE * SEC;
    for (size_t i = 0; i < g_nm; i++) {
        mtx *m = &g_m[i];
        int now_pooled = chain_mempool_get(mp, m->tx.id) != NULL;
        if (m->pooled && !now_pooled) {
            int expired = m->queued && g_now - m->since >= life;
            if (!expired && !gone_ok(i, ctx))
                fail_msg("tx %zu (sender %d nonce %llu) left without a reason", i, m->s,
                         (unsigned long long)m->tx.nonce);
        }
        int q = now_pooled && m->tx.nonce >= g_cn[m->s] + (uint64_t)run[m->s];
        if (q && !(m->pooled && m->queued)) m->since = g_now;
        m->pooled = now_pooled;
        m->queued = q;
        if (q && expired_checked) assert_true(g_now - m->since < life);
    }
}

typedef struct add_ctx {
    size_t newcomer, replaced; /* replaced: g_nm if none */
    int ok, pend;
} add_ctx;

static int gone_add(size_t i, const void *vctx)
{
    const add_ctx *c = vctx;
    if (!c->ok) return 0;
    if (i == c->replaced) return 1;
    /* Evicted: another sender's, queued first; pending only for a pending
     * newcomer, and only a strictly cheaper one. */
    const mtx *m = &g_m[i], *nw = &g_m[c->newcomer];
    if (m->s == nw->s) return 0;
    if (m->queued) return c->pend || m->tx.gas_price < nw->tx.gas_price;
    return c->pend && m->tx.gas_price < nw->tx.gas_price;
}

static int gone_block(size_t i, const void *ctx)
{
    (void)ctx;
    return g_m[i].tx.nonce < g_cn[g_m[i].s];
}

static int gone_one(size_t i, const void *ctx)
{
    return i == *(const size_t *)ctx;
}

static int gone_none(size_t i, const void *ctx)
{
    (void)i, (void)ctx;
    return 0;
}

static void test_random_against_model(void **state)
{
    (void)state;
    chain_mempool_cfg c = small_cfg(24, 3, MLIFE);
    c.max_nonce_ahead = 9;
    chain_mempool *mp = chain_mempool_new(&c, acct_fn, NULL);
    g_nm = 0;
    memset(g_cn, 0, sizeof g_cn);
    for (int s = 0; s < MS; s++) {
        chain_tx t = mk_fast(s, 0, 1);
        g_acc[g_nacc++] = (acct){t.from, 1000000000000ull, 0};
    }
    size_t adds = 0, evicted_pending = 0, too_many = 0, full = 0;
    for (int op = 0; op < 6000 && g_nm < MOPS; op++) {
        uint64_t r = rnd() % 100;
        if (r < 70) {
            int s = (int)(rnd() % MS);
            chain_tx t = mk_fast(s, g_cn[s] + rnd() % 10, 1 + rnd() % 20);
            add_ctx ac = {.newcomer = g_nm, .replaced = g_nm};
            /* Expired ones go first, so they are not replaced. */
            for (size_t i = 0; i < g_nm; i++)
                if (g_m[i].pooled && g_m[i].s == s && g_m[i].tx.nonce == t.nonce &&
                    !(g_m[i].queued && g_now - g_m[i].since >= MLIFE * SEC))
                    ac.replaced = i;
            int run[MS];
            size_t nq;
            model_classify(mp, run, &nq);
            ac.pend = t.nonce <= g_cn[s] + (uint64_t)run[s];
            size_t before = chain_mempool_count(mp) - chain_mempool_queued(mp);
            util_err err = {0};
            int rc = chain_mempool_add(mp, &t, &err);
            assert_true(rc == CHAIN_MP_OK || rc == CHAIN_MP_POOL_FULL ||
                        rc == CHAIN_MP_TOO_MANY_QUEUED || rc == CHAIN_MP_UNDERPRICED);
            too_many += rc == CHAIN_MP_TOO_MANY_QUEUED;
            full += rc == CHAIN_MP_POOL_FULL;
            ac.ok = rc == CHAIN_MP_OK;
            if (ac.ok) {
                g_m[g_nm] = (mtx){.tx = t, .s = s};
                /* A replacement keeps the stamp of the queued one it replaces;
                 * the model would otherwise stamp the newcomer now. */
                if (ac.replaced < g_nm && g_m[ac.replaced].queued)
                    g_m[g_nm] = (mtx){
                        .tx = t, .s = s, .pooled = 1, .queued = 1, .since = g_m[ac.replaced].since};
                g_nm++;
                adds++;
            }
            model_check(mp, 1, gone_add, &ac);
            size_t after = chain_mempool_count(mp) - chain_mempool_queued(mp);
            if (ac.ok && ac.pend && after < before + 1) evicted_pending++;
        } else if (r < 80) {
            g_now += (rnd() % 20) * SEC;
        } else if (r < 90) {
            const chain_tx *out[8];
            size_t n = sel(mp, out, 1 + rnd() % 8);
            chain_tx blk[9];
            for (size_t k = 0; k < n; k++) {
                blk[k] = *out[k];
                g_cn[blk[k].sender[0]] = blk[k].nonce + 1;
            }
            if (rnd() % 3 == 0) { /* a transaction this pool never saw */
                int s = (int)(rnd() % MS);
                blk[n++] = mk_fast(s, g_cn[s]++, 1);
            }
            for (size_t k = 0; k < n; k++)
                for (size_t a = 0; a < g_nacc; a++)
                    if (memcmp(g_acc[a].a.b, blk[k].from.b, CHAIN_ADDR_LEN) == 0)
                        g_acc[a].nonce = g_cn[blk[k].sender[0]];
            chain_block b;
            memset(&b, 0, sizeof b);
            b.ntx = n;
            b.txs = blk;
            chain_mempool_on_block(mp, &b);
            model_check(mp, 1, gone_block, NULL);
        } else if (r < 95) {
            size_t cnt = 0, pick = g_nm;
            for (size_t i = 0; i < g_nm; i++)
                if (g_m[i].pooled && rnd() % ++cnt == 0) pick = i;
            if (pick == g_nm) continue;
            assert_int_equal(chain_mempool_remove(mp, g_m[pick].tx.id), 0);
            model_check(mp, 0, gone_one, &pick);
        } else {
            chain_mempool_expire(mp);
            model_check(mp, 1, gone_none, NULL);
        }
    }
    /* The run exercised what it is meant to. */
    assert_true(adds > 500);
    assert_true(too_many > 0 && full > 0 && evicted_pending > 0);
    chain_mempool_free(mp);
}

int main(void)
{
    g_rng = ol_test_seed("test_mempool_flood", g_rng);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_gapped_flood_cannot_block_a_transfer, setup),
        cmocka_unit_test_setup(test_queued_limit_per_sender, setup),
        cmocka_unit_test_setup(test_expiry, setup),
        cmocka_unit_test_setup(test_eviction_order, setup),
        cmocka_unit_test_setup(test_promotion, setup),
        cmocka_unit_test_setup(test_random_against_model, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
