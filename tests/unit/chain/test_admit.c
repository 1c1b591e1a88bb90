/* Admission (chain/exec/admit.h) on a real store with the devnet genesis:
 * each reason a step refuses with, the order of the steps (nothing that
 * costs budget or runs the VM before the stateless limits, the signature and
 * the pool's rules), the budget taken and given back around a dry run, the
 * caller's lock hooks around it, what a prior saves, and the context a dry
 * run executes in. VM work is observed through the hooks, never by timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/admit.h"
#include "chain/exec/blockexec.h"
#include "chain/exec/contract.h"
#include "chain/exec/dryrun.h"
#include "chain/exec/exec_ctx.h"
#include "chain/mempool/mempool.h"
#include "chain/state/store.h"
#include "vm/vm.h"

#define VALIDATOR_KEY 1000 /* the devnet validator (docs/devnet.md) */
#define NODE_KEY 7         /* the address the dry runs' block assumes as proposer */
#define CAP 100000u        /* small: a looping contract reaches it quickly */

typedef struct fx {
    char dir[64];
    const chain_genesis *g;
    chain_store *st;
    chain_mempool *mp;
    chain_blockexec bx;
    chain_admit a;
    chain_addr loop; /* a contract that loops forever */
    uint64_t now;
} fx;

/* What the hooks saw. Single-threaded here (the parallel function below
 * runs in order), so plain counters do. */
typedef struct seen {
    uint64_t budget; /* what take may still take */
    int takes, gives, unlocks, relocks, started, ran, capped, skipped;
    uint64_t taken, given;
    int locked;       /* 1 while the caller's lock is held */
    int run_unlocked; /* every dry run started with the lock released */
    unsigned token;   /* what unlock returned, checked by relock */
} seen;

static int h_take(void *ctx, uint64_t gas)
{
    seen *s = ctx;
    assert_true(s->locked);
    s->takes++;
    if (gas > s->budget) return 0;
    s->budget -= gas;
    s->taken += gas;
    return 1;
}

static void h_give(void *ctx, uint64_t gas)
{
    seen *s = ctx;
    assert_true(s->locked);
    s->gives++;
    s->budget += gas;
    s->given += gas;
}

static unsigned h_unlock(void *ctx)
{
    seen *s = ctx;
    assert_true(s->locked);
    s->locked = 0;
    s->unlocks++;
    return s->token = 40u + (unsigned)s->unlocks;
}

static void h_relock(void *ctx, unsigned token)
{
    seen *s = ctx;
    assert_false(s->locked);
    assert_int_equal(token, s->token);
    s->locked = 1;
    s->relocks++;
}

static void h_started(void *ctx)
{
    seen *s = ctx;
    s->started++;
    if (s->locked) s->run_unlocked = 0;
}

static void h_done(void *ctx, int dry)
{
    seen *s = ctx;
    if (dry == CHAIN_ADMIT_DRY_RAN) s->ran++;
    if (dry == CHAIN_ADMIT_DRY_CAPPED) s->capped++;
    if (dry == CHAIN_ADMIT_DRY_SKIPPED) s->skipped++;
}

static chain_admit_hooks hooks(seen *s, uint64_t budget)
{
    memset(s, 0, sizeof *s);
    s->budget = budget;
    s->locked = 1;
    s->run_unlocked = 1;
    return (chain_admit_hooks){.ctx = s,
                               .take = h_take,
                               .give_back = h_give,
                               .unlock = h_unlock,
                               .relock = h_relock,
                               .dry_started = h_started,
                               .dry_done = h_done};
}

/* What nothing before the dry run may have touched. */
static int paid(const seen *s)
{
    return s->takes + s->unlocks + s->started + s->skipped;
}

static int acct_fn(void *ctx, const chain_addr *a, uint64_t *balance, uint64_t *nonce)
{
    fx *f = ctx;
    chain_account acc;
    int rc = chain_store_get_account(f->st, a, &acc, NULL);
    *balance = acc.balance;
    *nonce = acc.nonce;
    return rc;
}

static chain_tx new_tx(const fx *f, uint8_t type, uint64_t nonce, uint64_t gas)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", f->g->chain_id);
    tx.type = type;
    tx.nonce = nonce;
    tx.gas_limit = gas;
    tx.gas_price = 1;
    return tx;
}

static void sign(const fx *f, chain_tx *tx, uint32_t dev)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, dev), 0);
    util_err err = {0};
    if (chain_tx_sign(tx, &kp, f->g->hash, &err)) fail_msg("sign: %s", err.msg);
    chain_keypair_clear(&kp);
}

/* A CALL of c from dev 0, signed; bad_sig flips a bit of the signature. */
static chain_tx call(const fx *f, const chain_addr *c, uint64_t nonce, uint64_t gas, int bad_sig)
{
    chain_tx tx = new_tx(f, CHAIN_TX_CALL, nonce, gas);
    tx.body.call.contract = *c;
    sign(f, &tx, 0);
    if (bad_sig) tx.sig[5] ^= 0x40;
    return tx;
}

static chain_tx transfer(const fx *f, uint64_t nonce)
{
    chain_tx tx = new_tx(f, CHAIN_TX_TRANSFER, nonce, CHAIN_GAS_TRANSFER);
    fx_dev_addr(&tx.body.transfer.to, 1);
    tx.body.transfer.amount = 5;
    sign(f, &tx, 0);
    return tx;
}

static void sign_commit(const chain_genesis *g, const chain_block *b, const uint8_t id[32],
                        chain_commit *c)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, VALIDATOR_KEY), 0);
    uint8_t digest[32];
    chain_vote_digest(digest, g->chain_id, g->hash, b->h.height, 0, CHAIN_VOTE_PRECOMMIT, id);
    memset(c, 0, sizeof *c);
    c->n = 1;
    c->sigs[0].validator = 0;
    assert_int_equal(chain_sign(c->sigs[0].sig, digest, &kp, NULL), 0);
    chain_keypair_clear(&kp);
}

/* Commits the pool's transactions as the next block. */
static void produce(fx *f)
{
    util_err err = {0};
    chain_addr proposer;
    fx_dev_addr(&proposer, VALIDATOR_KEY);
    f->now += 1000;
    chain_block b;
    int built, reason;
    assert_int_equal(chain_blockexec_propose(&f->bx, f->mp, &proposer, f->now, 1, &b, &built, &err),
                     0);
    chain_block_result res;
    if (chain_blockexec_validate(&f->bx, &b, f->now, &res, &reason, &err))
        fail_msg("own block refused: %s", err.msg);
    chain_commit c;
    sign_commit(f->g, &b, res.id, &c);
    assert_int_equal(chain_blockexec_apply(&f->bx, &b, &res, &c, &reason, &err), 0);
    chain_block_result_free(&res);
    chain_mempool_on_block(f->mp, &b);
    chain_block_free(&b);
}

/* A store at the devnet genesis, a pool, and the looping contract deployed
 * by dev 0 (nonce 0) in block 1. */
static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ol-test-admit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    util_err err = {0};
    f->g = fx_devnet();
    assert_int_equal(chain_store_open(&f->st, f->dir, &err), 0);
    assert_int_equal(chain_store_init_genesis(f->st, f->g, &err), 0);
    chain_mempool_cfg c = {.min_gas_price = f->g->params.min_gas_price,
                           .block_gas_limit = f->g->params.block_gas_limit,
                           .max_tx_size = (size_t)f->g->params.tx_max_bytes,
                           .max_txs = 1000,
                           .max_bytes = 1u << 20,
                           .max_nonce_ahead = 64};
    snprintf(c.chain_id, sizeof c.chain_id, "%s", f->g->chain_id);
    memcpy(c.genesis_hash, f->g->hash, 32);
    f->mp = chain_mempool_new(&c, acct_fn, f);
    assert_non_null(f->mp);
    f->bx = (chain_blockexec){.g = f->g, .st = f->st};
    f->now = f->g->genesis_time_ms + 5000;
    f->a = (chain_admit){.g = f->g, .st = f->st, .mp = f->mp, .dry_run_cap = CAP};
    fx_dev_addr(&f->a.proposer, NODE_KEY);

    const char *src = "spin:\n    jmp spin\n";
    uint8_t *code;
    size_t len;
    if (vm_asm_source("loop", src, strlen(src), &code, &len, &err)) fail_msg("asm: %s", err.msg);
    chain_tx d =
        new_tx(f, CHAIN_TX_DEPLOY, 0, CHAIN_GAS_DEPLOY + CHAIN_GAS_DEPLOY_PER_BYTE * (uint64_t)len);
    d.body.deploy.code = code;
    d.body.deploy.len = (uint32_t)len;
    sign(f, &d, 0);
    assert_int_equal(chain_mempool_add(f->mp, &d, &err), CHAIN_MP_OK);
    chain_tx_free(&d);
    produce(f);
    chain_addr d0;
    fx_dev_addr(&d0, 0);
    chain_contract_addr(&f->loop, &d0, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    chain_mempool_free(f->mp);
    chain_store_close(f->st);
    fx_rm_tree(f->dir);
    free(f);
    return 0;
}

/* Admits tx with the hooks and the prior, returns the reason; frees tx. */
static int admit(fx *f, chain_tx *tx, seen *s, uint64_t budget, const chain_admit_prior *prior,
                 util_err *err)
{
    chain_admit_hooks h = hooks(s, budget);
    int rc = chain_admit_tx(&f->a, &h, tx, prior, err);
    chain_tx_free(tx);
    assert_true(s->locked);
    assert_true(s->run_unlocked);
    assert_int_equal(s->started, s->ran + s->capped);
    return rc;
}

static void expect(fx *f, chain_tx tx, int want, const char *msg_prefix)
{
    seen s;
    util_err err = {0};
    size_t before = chain_mempool_count(f->mp);
    int rc = admit(f, &tx, &s, UINT64_MAX, NULL, &err);
    if (rc != want)
        fail_msg("got %s (%s), want %s", chain_mempool_reason_token(rc), err.msg,
                 chain_mempool_reason_token(want));
    if (msg_prefix && strncmp(err.msg, msg_prefix, strlen(msg_prefix)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\"", err.msg, msg_prefix);
    assert_int_equal(chain_mempool_count(f->mp), before + (want == CHAIN_MP_OK));
    /* A refusal before step 5 paid nothing and ran nothing. */
    if (want != CHAIN_MP_OK && want != CHAIN_MP_EXEC_FAILED) assert_int_equal(paid(&s), 0);
}

/* Each step's reasons, in the message shape of the pool. */
static void test_each_reason(void **state)
{
    fx *f = *state;
    chain_tx tx = call(f, &f->loop, 1, 50000, 0);
    snprintf(tx.chain_id, sizeof tx.chain_id, "other-chain");
    expect(f, tx, CHAIN_MP_WRONG_CHAIN, "wrong chain: \"other-chain\"");

    tx = call(f, &f->loop, 1, 50000, 0);
    tx.size = (uint32_t)f->g->params.tx_max_bytes + 1; /* the pool trusts derived fields */
    expect(f, tx, CHAIN_MP_TOO_LARGE, "too large");

    tx = call(f, &f->loop, 1, f->g->params.block_gas_limit + 1, 0);
    expect(f, tx, CHAIN_MP_GAS_TOO_HIGH, "gas limit above block gas limit");

    expect(f, call(f, &f->loop, 1, 50000, 1), CHAIN_MP_BAD_SIGNATURE, "bad signature");
    /* Step 4: the deploy used nonce 0; 1 + 64 is past the nonce window. */
    expect(f, call(f, &f->loop, 0, 50000, 0), CHAIN_MP_NONCE_TOO_LOW, "nonce too low");
    expect(f, call(f, &f->loop, 66, 50000, 0), CHAIN_MP_NONCE_TOO_HIGH, "nonce too high");
    /* Step 5: no code at that address. */
    chain_addr nowhere;
    fx_dev_addr(&nowhere, 3);
    expect(f, call(f, &nowhere, 1, 50000, 0), CHAIN_MP_EXEC_FAILED, "no_contract");
    /* Step 6 sees the pool: a second transaction for a pooled nonce. */
    expect(f, transfer(f, 1), CHAIN_MP_OK, NULL);
    expect(f, transfer(f, 1), CHAIN_MP_UNDERPRICED, "replacement underpriced");
}

/* Cheapest first: the stateless limits before the signature, the signature
 * and the pool's rules before any budget is taken or VM instruction runs. */
static void test_order(void **state)
{
    fx *f = *state;
    /* A bad signature with a gas limit above the block's: gas_too_high. */
    expect(f, call(f, &f->loop, 1, f->g->params.block_gas_limit + 1, 1), CHAIN_MP_GAS_TOO_HIGH,
           NULL);
    /* Another chain and a bad signature: wrong_chain. */
    chain_tx tx = call(f, &f->loop, 1, 50000, 1);
    snprintf(tx.chain_id, sizeof tx.chain_id, "other-chain");
    expect(f, tx, CHAIN_MP_WRONG_CHAIN, NULL);
    /* A bad signature on a call that would loop to the cap: refused with no
     * dry run paid (expect checks the hooks were not called). */
    expect(f, call(f, &f->loop, 1, 10000000, 1), CHAIN_MP_BAD_SIGNATURE, NULL);
    /* A bad signature and a stale nonce: the signature comes first. */
    expect(f, call(f, &f->loop, 0, 50000, 1), CHAIN_MP_BAD_SIGNATURE, NULL);
    assert_int_equal(chain_mempool_count(f->mp), 0);
}

/* A dry run stopped by the cap admits with an unknown outcome; the budget is
 * taken before (intrinsic gas + cap), what was not used is given back, and
 * the run happens with the caller's lock released. */
static void test_dry_run_budget(void **state)
{
    fx *f = *state;
    chain_tx tx = call(f, &f->loop, 1, 10000000, 0);
    uint64_t want = chain_dry_run_limit(&tx, CAP);
    assert_int_equal(want, CHAIN_GAS_CALL + CAP);
    seen s;
    util_err err = {0};
    assert_int_equal(admit(f, &tx, &s, UINT64_MAX, NULL, &err), CHAIN_MP_OK);
    assert_int_equal(s.capped, 1);
    assert_int_equal(s.takes, 1);
    assert_int_equal(s.taken, want);
    assert_int_equal(s.unlocks, 1);
    assert_int_equal(s.relocks, 1);
    assert_int_equal(s.gives, 1);
    assert_true(s.given < want); /* the capped run used (nearly) all of it */
    assert_int_equal(chain_mempool_count(f->mp), 1);

    /* A budget that cannot cover the next: skipped, admitted, nothing run. */
    tx = call(f, &f->loop, 2, 10000000, 0);
    assert_int_equal(admit(f, &tx, &s, want - 1, NULL, &err), CHAIN_MP_OK);
    assert_int_equal(s.skipped, 1);
    assert_int_equal(s.takes, 1);
    assert_int_equal(s.started + s.unlocks + s.gives, 0);
    assert_int_equal(s.budget, want - 1);
    assert_int_equal(chain_mempool_count(f->mp), 2);

    /* A transaction's own gas limit below the cap bounds the take; a run
     * that ends below it gives back the rest. */
    chain_addr nowhere;
    fx_dev_addr(&nowhere, 3);
    tx = call(f, &nowhere, 3, 50000, 0);
    assert_int_equal(admit(f, &tx, &s, UINT64_MAX, NULL, &err), CHAIN_MP_EXEC_FAILED);
    assert_int_equal(s.ran, 1);
    assert_int_equal(s.taken, 50000);
    assert_int_equal(s.gives, 1);
    assert_true(s.given > 0 && s.taken - s.given >= CHAIN_GAS_CALL);

    /* A TRANSFER has no dry run. */
    tx = transfer(f, 3);
    assert_int_equal(admit(f, &tx, &s, UINT64_MAX, NULL, &err), CHAIN_MP_OK);
    assert_int_equal(paid(&s), 0);

    /* No hooks at all: no budget, no lock; the run still happens. */
    tx = call(f, &nowhere, 4, 50000, 0);
    assert_int_equal(chain_admit_tx(&f->a, NULL, &tx, NULL, &err), CHAIN_MP_EXEC_FAILED);
    assert_non_null(strstr(err.msg, "no_contract"));
    chain_tx_free(&tx);
}

/* What a prior says is not done again; the pool's rules always are. */
static void test_prior(void **state)
{
    fx *f = *state;
    seen s;
    util_err err = {0};
    /* Steps 2-3 refused earlier: that reason and message, nothing checked. */
    chain_admit_prior p = {.checked = 1, .check_reason = CHAIN_MP_BAD_SIGNATURE};
    snprintf(p.msg, sizeof p.msg, "bad signature (earlier)");
    chain_tx tx = call(f, &f->loop, 1, 50000, 0);
    assert_int_equal(admit(f, &tx, &s, UINT64_MAX, &p, &err), CHAIN_MP_BAD_SIGNATURE);
    assert_string_equal(err.msg, "bad signature (earlier)");

    /* The dry run refused earlier: its outcome, without a new run. */
    p = (chain_admit_prior){.checked = 1, .dry_done = 1, .dry_reason = CHAIN_MP_EXEC_FAILED};
    snprintf(p.msg, sizeof p.msg, "out_of_gas: earlier");
    tx = call(f, &f->loop, 1, 50000, 0);
    assert_int_equal(admit(f, &tx, &s, UINT64_MAX, &p, &err), CHAIN_MP_EXEC_FAILED);
    assert_string_equal(err.msg, "out_of_gas: earlier");
    assert_int_equal(paid(&s), 0);

    /* It passed earlier: admitted with no run, but a stale nonce is still
     * refused by step 4. */
    p = (chain_admit_prior){.checked = 1, .dry_done = 1};
    tx = call(f, &f->loop, 0, 50000, 0);
    assert_int_equal(admit(f, &tx, &s, UINT64_MAX, &p, &err), CHAIN_MP_NONCE_TOO_LOW);
    tx = call(f, &f->loop, 1, 10000000, 0);
    assert_int_equal(admit(f, &tx, &s, UINT64_MAX, &p, &err), CHAIN_MP_OK);
    assert_int_equal(paid(&s), 0);

    /* Checked but no dry run yet: step 5 runs. */
    p = (chain_admit_prior){.checked = 1};
    tx = call(f, &f->loop, 2, 10000000, 0);
    assert_int_equal(admit(f, &tx, &s, UINT64_MAX, &p, &err), CHAIN_MP_OK);
    assert_int_equal(s.capped, 1);
    assert_int_equal(chain_mempool_count(f->mp), 2);
}

/* chain_admit_parallel_fn of the tests: in order, on this thread, and
 * counting its phases. */
static void in_order(void *ctx, size_t n, chain_admit_each_fn fn, void *arg)
{
    (*(int *)ctx)++;
    for (size_t i = 0; i < n; i++)
        fn(arg, i);
}

/* A batch prepared ahead of time: steps 2-3 of every entry, step 4 to find
 * which want a dry run, and the dry runs in waves the budget pays for in
 * entry order; those it cannot pay for are skipped. Admitting each with its
 * prior then runs nothing more. */
static void test_prepare(void **state)
{
    fx *f = *state;
    chain_addr nowhere;
    fx_dev_addr(&nowhere, 3);
    enum { N = 7 };
    chain_tx txs[N] = {
        call(f, &f->loop, 1, 10000000, 1), /* bad signature */
        transfer(f, 1),                    /* no dry run */
        call(f, &f->loop, 2, 10000000, 0), /* capped */
        call(f, &f->loop, 0, 50000, 0),    /* nonce too low: step 4, no dry run */
        call(f, &nowhere, 3, 50000, 0),    /* execution fails */
        call(f, &f->loop, 4, 10000000, 0), /* past the budget: skipped */
        call(f, &nowhere, 5, 50000, 0),    /* after it, also skipped */
    };
    chain_admit_prior prior[N];
    memset(prior, 0, sizeof prior);
    uint64_t capped_want = chain_dry_run_limit(&txs[2], CAP);
    seen s;
    /* Room for entries 2 and 4, not 5. */
    chain_admit_hooks h = hooks(&s, capped_want + 50000);
    int phases = 0;
    util_err err = {0};
    assert_int_equal(chain_admit_prepare(&f->a, &h, in_order, &phases, txs, prior, N, &err), 0);
    assert_true(s.locked);
    assert_true(s.run_unlocked);
    /* One phase for steps 2-3, one wave of dry runs; each with the lock
     * released. */
    assert_int_equal(phases, 2);
    assert_int_equal(s.unlocks, 2);
    assert_int_equal(s.relocks, 2);
    for (int i = 0; i < N; i++)
        assert_int_equal(prior[i].checked, 1);
    assert_int_equal(prior[0].check_reason, CHAIN_MP_BAD_SIGNATURE);
    assert_string_equal(prior[0].msg, "bad signature");
    for (int i = 1; i < N; i++)
        assert_int_equal(prior[i].check_reason, CHAIN_MP_OK);
    assert_false(prior[0].dry_done || prior[1].dry_done || prior[3].dry_done);
    assert_true(prior[2].dry_done && prior[2].dry_reason == CHAIN_MP_OK);
    assert_true(prior[4].dry_done && prior[4].dry_reason == CHAIN_MP_EXEC_FAILED);
    assert_true(strncmp(prior[4].msg, "no_contract", 11) == 0);
    assert_true(prior[5].dry_done && prior[5].dry_reason == CHAIN_MP_OK);
    assert_true(prior[6].dry_done && prior[6].dry_reason == CHAIN_MP_OK);
    assert_int_equal(s.capped, 1);
    assert_int_equal(s.ran, 1);
    assert_int_equal(s.skipped, 2);
    /* Entries 2 and 4 were paid; entry 5 was refused, once before the wave
     * and once after the wave gave back what it did not use; entry 6, after
     * it, was never asked for (entry order). */
    assert_int_equal(s.takes, 4);
    assert_int_equal(s.taken, capped_want + 50000);
    assert_int_equal(s.gives, 2);
    assert_int_equal(chain_mempool_count(f->mp), 0);

    /* Admission with the priors: no new dry run, step 4 again. */
    /* Entries 5 and 6 follow a gap (entry 4 was refused): queued. */
    int want[N] = {CHAIN_MP_BAD_SIGNATURE, CHAIN_MP_OK, CHAIN_MP_OK, CHAIN_MP_NONCE_TOO_LOW,
                   CHAIN_MP_EXEC_FAILED,   CHAIN_MP_OK, CHAIN_MP_OK};
    for (int i = 0; i < N; i++) {
        int rc = admit(f, &txs[i], &s, UINT64_MAX, &prior[i], &err);
        if (rc != want[i])
            fail_msg("entry %d: got %s (%s), want %s", i, chain_mempool_reason_token(rc), err.msg,
                     chain_mempool_reason_token(want[i]));
        assert_int_equal(paid(&s), 0);
    }
    assert_int_equal(chain_mempool_count(f->mp), 4);
}

/* chain_admit_check alone: the steps a caller may run on threads. */
static void test_check(void **state)
{
    fx *f = *state;
    util_err err = {0};
    chain_tx tx = call(f, &f->loop, 1, 50000, 0);
    assert_int_equal(chain_admit_check(&f->a, &tx, &err), CHAIN_MP_OK);
    assert_int_equal(tx.sig_checked, 1);
    chain_tx_free(&tx);
    tx = call(f, &f->loop, 1, 50000, 1);
    assert_int_equal(chain_admit_check(&f->a, &tx, &err), CHAIN_MP_BAD_SIGNATURE);
    assert_int_equal(tx.sig_checked, 0);
    chain_tx_free(&tx);
    assert_int_equal(chain_mempool_count(f->mp), 0);
}

/* The dry run's block: the one after the head, at the head's time, proposed
 * by this node, with the genesis's price floor. */
static void test_exec_ctx(void **state)
{
    fx *f = *state;
    const chain_header *h = chain_store_head_header(f->st);
    chain_exec_ctx c = chain_admit_exec_ctx(&f->a);
    assert_int_equal(h->height, 1);
    assert_int_equal(c.height, 2);
    assert_int_equal(c.time_ms, h->time_ms);
    assert_memory_equal(c.proposer.b, f->a.proposer.b, CHAIN_ADDR_LEN);
    assert_string_equal(c.chain_id, f->g->chain_id);
    assert_ptr_equal(c.genesis_hash, f->g->hash);
    assert_int_equal(c.min_gas_price, f->g->params.min_gas_price);

    chain_exec_ctx n = chain_exec_ctx_next(f->g, h, h->time_ms + 7, &h->proposer);
    assert_int_equal(n.height, 2);
    assert_int_equal(n.time_ms, h->time_ms + 7);
    assert_memory_equal(n.proposer.b, h->proposer.b, CHAIN_ADDR_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prior, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_ctx, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
