/* The default reward contract on chain: random attribution records settled
 * by the genesis contract in the VM (chain_reward_run on a real store, the
 * code read from the genesis state) and by the C reference
 * (chain_reward_run_native) must give identical payouts (recipient, role,
 * contribution, amount, order), identical payout events and identical state;
 * payouts plus what stays in the contract equal the fee exactly. Also: a
 * model whose reward contract holds no code cannot settle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/types/attr.h"
#include "chain/exec/contract.h"
#include "chain/exec/exec_internal.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "tests/seed.h"

#define ITERATIONS 600
#define EXTRA_MAX 1000000 /* balance the contract held before the record */

static char g_dir[256];
static chain_store *g_st;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-reward-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    static chain_genesis g;
    util_err err = {0};
    const char *js = chain_genesis_devnet_json();
    assert_int_equal(chain_genesis_parse(&g, js, strlen(js), &err), 0);
    assert_int_equal(chain_store_open(&g_st, g_dir, &err), 0);
    assert_int_equal(chain_store_init_genesis(g_st, &g, &err), 0);
    chain_genesis_free(&g);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    chain_store_close(g_st);
    fx_rm_tree(g_dir);
    return 0;
}

static void addr_of(chain_addr *a, uint32_t tag)
{
    memset(a->b, 0, CHAIN_ADDR_LEN);
    a->b[0] = 0xa0;
    util_put_u32le(a->b + 16, tag);
}

typedef struct scenario {
    chain_model m;
    chain_record_entry entries[CHAIN_ATTR_MAX_ENTRIES];
    uint32_t n;
    uint64_t fee, extra, rec_id;
    chain_addr proposer;
} scenario;

static uint64_t random_fee(void)
{
    switch (next() % 6) {
    case 0: return next() % 1000;
    case 1: return 1000000000000000000ull; /* 10^18 */
    case 2: return 0;
    default: return next() % 1000000000000000001ull;
    }
}

static void random_scenario(scenario *s)
{
    memset(s, 0, sizeof *s);
    s->m.id = 1 + next() % 1000;
    s->rec_id = 1 + next() % 100000;
    addr_of(&s->m.owner, 1);
    chain_default_reward_addr(&s->m.reward_contract);
    uint32_t obp = (uint32_t)(next() % 10001);
    uint32_t vbp = (uint32_t)(next() % (10001 - obp));
    switch (next() % 8) { /* the edges: all to one party */
    case 0: obp = 10000, vbp = 0; break;
    case 1: obp = 0, vbp = 10000; break;
    case 2: obp = 0, vbp = 0; break;
    default: break;
    }
    s->m.owner_bp = (uint16_t)obp;
    s->m.validators_bp = (uint16_t)vbp;
    s->m.contributors_bp = (uint16_t)(10000 - obp - vbp);
    s->fee = random_fee();
    s->extra = next() % 3 == 0 ? next() % EXTRA_MAX : 0;
    /* The proposer is sometimes the owner. */
    addr_of(&s->proposer, next() % 6 == 0 ? 1 : 2);
    s->n = (uint32_t)(next() % 4 == 0 ? next() % (CHAIN_ATTR_MAX_ENTRIES + 1) : next() % 12);
    int zero_all = next() % 8 == 0;
    int wbits = (int)(next() % 65);
    for (uint32_t i = 0; i < s->n; i++) {
        uint64_t w = wbits == 0 ? next() % 2 : next() >> (64 - wbits);
        if (zero_all || next() % 5 == 0) w = 0;
        s->entries[i].contribution = 100 + i;
        s->entries[i].weight = w;
        /* A small pool, including the owner (1) and the proposer (2), so
         * some addresses are paid more than once and in several roles. */
        addr_of(&s->entries[i].contributor, 1 + (uint32_t)(next() % 12));
    }
}

typedef struct outcome {
    int rc;
    char msg[256];
    chain_record rec;
    chain_receipt r;
    uint8_t root[32];
    uint64_t contract_after;
} outcome;

/* Settles s in a fresh overlay of the genesis state with fn; the contract
 * holds the fee (escrowed) plus s->extra. */
static void settle(const scenario *s, int vm, outcome *o)
{
    memset(o, 0, sizeof *o);
    chain_exec_ctx ctx = {.chain_id = "openledger-devnet",
                          .genesis_hash = fx_devnet()->hash,
                          .height = 7,
                          .time_ms = 1767225607000ull,
                          .proposer = s->proposer,
                          .min_gas_price = 1};
    chain_exec *ex = chain_exec_new(g_st, &ctx);
    assert_non_null(ex);
    util_err err = {0};
    chain_account acc = {.balance = s->fee + s->extra};
    assert_int_equal(chain_exec_set_account(ex, &s->m.reward_contract, &acc, &err), 0);
    o->rec.id = s->rec_id;
    o->rec.model = s->m.id;
    o->rec.owner = s->m.owner;
    o->rec.fee = s->fee;
    o->rec.nentries = s->n;
    o->rec.entries = calloc(s->n ? s->n : 1, sizeof *o->rec.entries);
    o->rec.payouts = calloc(CHAIN_RECORD_MAX_PAYOUTS, sizeof *o->rec.payouts);
    assert_non_null(o->rec.entries);
    assert_non_null(o->rec.payouts);
    memcpy(o->rec.entries, s->entries, s->n * sizeof *s->entries);
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = CHAIN_TX_ATTRIBUTE;
    tx.gas_limit = 100000000;
    addr_of(&tx.from, 3);
    o->rc = vm ? chain_reward_run(ex, &tx, &s->m, &o->rec, &o->r, &err)
               : chain_reward_run_native(ex, &tx, &s->m, &o->rec, &o->r, &err);
    snprintf(o->msg, sizeof o->msg, "%s", err.msg);
    assert_int_equal(chain_exec_get_account(ex, &s->m.reward_contract, &acc, &err), 0);
    o->contract_after = acc.balance;
    assert_int_equal(chain_exec_finish(ex, o->root, &err), 0);
    chain_exec_free(ex);
}

static void outcome_free(outcome *o)
{
    chain_record_free(&o->rec);
    chain_receipt_free(&o->r);
}

static int g_failed, g_settled, g_big;

static void compare(const scenario *s, int iter)
{
    outcome a, b;
    settle(s, 1, &a);
    settle(s, 0, &b);
    /* Both fail (weights past 64 bits) or both succeed. */
    if ((a.rc == 0) != (b.rc == 0))
        fail_msg("iteration %d: vm rc %d '%s', native rc %d '%s'", iter, a.rc, a.msg, b.rc, b.msg);
    if (a.rc) {
        /* The host refuses before the contract runs: no VM gas. */
        assert_true(strncmp(a.msg, "weights_overflow: ", 18) == 0);
        assert_true(strncmp(b.msg, "weights_overflow: ", 18) == 0);
        assert_int_equal(a.r.gas_used, 0);
        g_failed++;
        outcome_free(&a);
        outcome_free(&b);
        return;
    }
    /* The VM's work is metered; the reference's is not. */
    assert_true(a.r.gas_used > 0);
    assert_int_equal(b.r.gas_used, 0);
    if (a.rec.npayouts != b.rec.npayouts)
        fail_msg("iteration %d: %u payouts in the VM, %u in the reference", iter, a.rec.npayouts,
                 b.rec.npayouts);
    uint64_t paid = 0;
    for (uint32_t i = 0; i < a.rec.npayouts; i++) {
        const chain_payout *p = &a.rec.payouts[i], *q = &b.rec.payouts[i];
        if (memcmp(p->recipient.b, q->recipient.b, CHAIN_ADDR_LEN) != 0 || p->role != q->role ||
            p->contribution != q->contribution || p->amount != q->amount)
            fail_msg("iteration %d: payout %u differs: role %u/%u amount %llu/%llu", iter, i,
                     p->role, q->role, (unsigned long long)p->amount,
                     (unsigned long long)q->amount);
        assert_true(p->amount > 0);
        paid += p->amount;
    }
    /* payouts + retained == fee, exactly; the default contract keeps nothing. */
    uint64_t retained = a.contract_after - s->extra;
    assert_true(a.contract_after >= s->extra);
    assert_true(paid + retained == s->fee);
    assert_true(retained == 0);
    assert_true(b.contract_after == a.contract_after);
    /* The payout events of the receipts match one for one (the VM receipt
     * also carries the contract's own logs). */
    uint8_t topic[32];
    chain_payout_topic(topic);
    uint32_t j = 0;
    for (uint32_t i = 0; i < a.r.nevents; i++) {
        const chain_event *e = &a.r.events[i];
        if (memcmp(e->topic, topic, 32) != 0) continue;
        assert_true(j < b.r.nevents);
        const chain_event *f = &b.r.events[j++];
        assert_int_equal(e->len, f->len);
        assert_memory_equal(e->data, f->data, e->len);
        assert_memory_equal(e->emitter.b, f->emitter.b, CHAIN_ADDR_LEN);
    }
    assert_int_equal(j, b.r.nevents);
    assert_int_equal(j, a.rec.npayouts);
    /* Same balances everywhere: the same state root. */
    assert_memory_equal(a.root, b.root, 32);
    g_settled++;
    g_big += s->n > 200;
    outcome_free(&a);
    outcome_free(&b);
}

static void test_random_records(void **state)
{
    (void)state;
    g_settled = g_failed = g_big = 0;
    scenario *s = malloc(sizeof *s);
    assert_non_null(s);
    for (int i = 0; i < ITERATIONS; i++) {
        random_scenario(s);
        compare(s, i);
    }
    print_message("%d records settled identically (%d with over 200 entries), %d refused by "
                  "both\n",
                  g_settled, g_big, g_failed);
    assert_true(g_failed > 0 && g_big > 0);
    free(s);
}

/* Exhaustive over a small domain (libsecp256k1's tests_exhaustive.c is the
 * model): every split from a set of edge values, every fee from a set, every
 * weight vector of 0 to 3 entries over {0, 1, 3}, and the proposer owning the
 * model or not. The VM contract and the C reference must agree on every one
 * (compare), and beyond compare: a zero total weight pays no contributor,
 * and no contributor with weight 0 is paid. */
static void test_exhaustive_small_domain(void **state)
{
    (void)state;
    static const uint16_t bps[] = {0, 1, 3333, 5000, 9999, 10000};
    static const uint64_t fees[] = {0, 1, 3, 10000, 10001};
    static const uint64_t ws[] = {0, 1, 3};
    scenario *s = malloc(sizeof *s);
    assert_non_null(s);
    int cases = 0;
    for (size_t a = 0; a < sizeof bps / sizeof bps[0]; a++)
        for (size_t v = 0; v < sizeof bps / sizeof bps[0]; v++) {
            if (bps[a] + bps[v] > 10000) continue;
            for (size_t f = 0; f < sizeof fees / sizeof fees[0]; f++)
                for (uint32_t n = 0; n <= 3; n++) {
                    uint32_t combos = n == 0 ? 1 : n == 1 ? 3 : n == 2 ? 9 : 27;
                    for (uint32_t c = 0; c < combos; c++)
                        for (int own = 0; own < 2; own++) {
                            memset(s, 0, sizeof *s);
                            s->m.id = 5;
                            s->rec_id = 9;
                            addr_of(&s->m.owner, 1);
                            chain_default_reward_addr(&s->m.reward_contract);
                            s->m.owner_bp = bps[a];
                            s->m.validators_bp = bps[v];
                            s->m.contributors_bp = (uint16_t)(10000 - bps[a] - bps[v]);
                            s->fee = fees[f];
                            addr_of(&s->proposer, own ? 1 : 2);
                            s->n = n;
                            uint64_t total = 0;
                            for (uint32_t i = 0, k = c; i < n; i++, k /= 3) {
                                s->entries[i].contribution = 100 + i;
                                s->entries[i].weight = ws[k % 3];
                                addr_of(&s->entries[i].contributor, 10 + i);
                                total += ws[k % 3];
                            }
                            compare(s, cases);
                            /* compare freed its outcomes: settle once more
                             * in the VM for the contributor checks. */
                            outcome o;
                            settle(s, 1, &o);
                            for (uint32_t i = 0; i < o.rec.npayouts; i++) {
                                const chain_payout *p = &o.rec.payouts[i];
                                if (p->role != CHAIN_ROLE_CONTRIBUTOR) continue;
                                assert_true(total > 0);
                                assert_true(p->contribution >= 100 && p->contribution < 100 + n);
                                assert_true(s->entries[p->contribution - 100].weight > 0);
                            }
                            outcome_free(&o);
                            cases++;
                        }
                }
        }
    print_message("%d small-domain records settled identically\n", cases);
    free(s);
}

/* The worked example of docs/attribution.md, and the edge cases by hand. */
static void test_fixed_records(void **state)
{
    (void)state;
    scenario *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->m.id = 1;
    addr_of(&s->m.owner, 1);
    chain_default_reward_addr(&s->m.reward_contract);
    s->m.owner_bp = 2000;
    s->m.validators_bp = 1000;
    s->m.contributors_bp = 7000;
    addr_of(&s->proposer, 2);
    s->fee = 2500000001ull;
    const uint64_t w[] = {3, 1, 2};
    for (uint32_t i = 0; i < 3; i++) {
        s->entries[i].contribution = i == 0 ? 1 : i == 1 ? 4 : 7;
        s->entries[i].weight = w[i];
        addr_of(&s->entries[i].contributor, i == 1 ? 11 : 10);
    }
    s->n = 3;
    compare(s, -1);
    outcome o;
    settle(s, 1, &o);
    assert_int_equal(o.rc, 0);
    /* owner share, validators, #1, #4, #7, remainder to the owner */
    static const uint64_t want[] = {500000000, 250000000, 875000000, 291666666, 583333333, 2};
    assert_int_equal(o.rec.npayouts, 6);
    for (int i = 0; i < 6; i++)
        assert_true(o.rec.payouts[i].amount == want[i]);
    assert_int_equal(o.rec.payouts[0].role, CHAIN_ROLE_OWNER);
    assert_int_equal(o.rec.payouts[1].role, CHAIN_ROLE_VALIDATOR);
    assert_int_equal(o.rec.payouts[3].role, CHAIN_ROLE_CONTRIBUTOR);
    assert_true(o.rec.payouts[3].contribution == 4);
    assert_int_equal(o.rec.payouts[5].role, CHAIN_ROLE_OWNER);
    outcome_free(&o);

    /* All weights zero: no contributor payout, nothing divided by zero. */
    for (uint32_t i = 0; i < 3; i++)
        s->entries[i].weight = 0;
    compare(s, -2);
    /* No entries at all. */
    s->n = 0;
    compare(s, -3);
    /* Weights that sum past 2^64 fail in both. */
    s->n = 2;
    s->entries[0].weight = UINT64_MAX;
    s->entries[1].weight = 1;
    compare(s, -4);
    /* Proposer = owner: the validators' share is still role validator, also
     * when it equals the owner share. */
    s->entries[0].weight = 5;
    addr_of(&s->proposer, 1);
    compare(s, -5);
    s->m.validators_bp = 2000;
    s->m.contributors_bp = 6000;
    compare(s, -6);
    settle(s, 1, &o);
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.rec.payouts[0].role, CHAIN_ROLE_OWNER);
    assert_int_equal(o.rec.payouts[1].role, CHAIN_ROLE_VALIDATOR);
    assert_true(o.rec.payouts[0].amount == o.rec.payouts[1].amount);
    outcome_free(&o);
    /* Fee 0: nothing paid. */
    s->fee = 0;
    settle(s, 1, &o);
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.rec.npayouts, 0);
    outcome_free(&o);
    free(s);
}

/* A model whose reward contract holds no code cannot settle; nothing moves. */
static void test_no_contract(void **state)
{
    (void)state;
    scenario *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->m.id = 9;
    addr_of(&s->m.owner, 1);
    addr_of(&s->m.reward_contract, 77); /* no code there */
    s->m.owner_bp = 10000;
    s->fee = 1000;
    addr_of(&s->proposer, 2);
    outcome o;
    settle(s, 1, &o);
    assert_int_equal(o.rc, UTIL_ENOTFOUND);
    assert_non_null(strstr(o.msg, "no_contract: the reward contract ol1"));
    assert_int_equal(o.rec.npayouts, 0);
    assert_int_equal(o.r.nevents, 0);
    assert_true(o.contract_after == 1000);
    outcome_free(&o);
    free(s);
}

int main(void)
{
    rng = ol_test_seed("test_reward_contract", rng);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exhaustive_small_domain),
        cmocka_unit_test(test_random_records),
        cmocka_unit_test(test_fixed_records),
        cmocka_unit_test(test_no_contract),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
