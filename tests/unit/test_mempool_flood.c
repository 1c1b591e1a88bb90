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

#include "chain/keys.h"
#include "chain/mempool.h"

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

/* The injected clock. */
static uint64_t g_now;
static uint64_t fake_clock(void)
{
    return g_now;
}

static int setup(void **state)
{
    (void)state;
    g_nacc = 0;
    g_now = 1000 * SEC;
    for (uint32_t i = 0; i < NKEYS; i++) {
        if (chain_keypair_dev(&g_keys[i], 200 + i)) return -1;
        chain_addr_from_pubkey(&g_addrs[i], g_keys[i].pubkey);
        g_acc[g_nacc++] = (acct){g_addrs[i], 1000000000000ull, 0};
    }
    return 0;
}

static chain_mempool_cfg small_cfg(size_t max_txs, size_t max_queued, uint64_t lifetime_s)
{
    chain_mempool_cfg c;
    memset(&c, 0, sizeof c);
    strcpy(c.chain_id, CHAIN);
    c.min_gas_price = 1;
    c.block_gas_limit = 1000000;
    c.max_tx_size = 4096;
    c.max_txs = max_txs;
    c.max_bytes = 1 << 24;
    c.max_nonce_ahead = 64;
    c.max_queued_per_sender = max_queued;
    c.queued_lifetime_s = lifetime_s;
    c.clock_ns = fake_clock;
    return c;
}

/* The only place that signs: a change to the signing API is a one-line fix. */
static void sign(chain_tx *tx, const chain_keypair *kp)
{
    util_err err = {0};
    if (chain_tx_sign(tx, kp, &err)) fail_msg("sign: %s", err.msg);
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
    chain_mempool_remove(mp, s0.id);
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

    /* No lifetime, or no clock: nothing expires. */
    c.queued_lifetime_s = 0;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    add_ok(mp, &q2);
    g_now += 1000000 * SEC;
    assert_int_equal(chain_mempool_expire(mp), 0);
    chain_mempool_free(mp);
    c.queued_lifetime_s = 60;
    c.clock_ns = NULL;
    mp = chain_mempool_new(&c, acct_fn, NULL);
    add_ok(mp, &q2);
    assert_int_equal(chain_mempool_expire(mp), 0);
    assert_true(pooled(mp, &q2));
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
    chain_mempool_remove(mp, o0.id);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_gapped_flood_cannot_block_a_transfer, setup),
        cmocka_unit_test_setup(test_queued_limit_per_sender, setup),
        cmocka_unit_test_setup(test_expiry, setup),
        cmocka_unit_test_setup(test_eviction_order, setup),
        cmocka_unit_test_setup(test_promotion, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
