/* Admission of a transaction to the mempool in one order (chain/exec/admit.h);
 * node/txverify.c wires it to the RPC's threads, lock and budgets. */
#include "chain/exec/admit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/dryrun.h"
#include "chain/exec/exec_ctx.h"

static int refuse(util_err *err, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(util_err *err, int reason, const char *fmt, ...)
{
    char detail[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    /* The pool's message shape: the reason's text, then details. */
    return util_err_set(err, reason, "%s: %s", chain_mempool_reason_text(reason), detail);
}

int chain_admit_check(const chain_admit *a, chain_tx *tx, util_err *err)
{
    /* Step 2: what the transaction alone says; no state, no cryptography. */
    const chain_mempool_cfg *c = chain_mempool_config(a->mp);
    /* Before the signature: a DEPOSIT has none, and "bad signature" would
     * hide what is wrong with sending one. */
    if (tx->type == CHAIN_TX_DEPOSIT)
        return refuse(err, CHAIN_MP_UNSUPPORTED, "%s",
                      "deposit: a system transaction, only a block proposer includes one");
    if (strcmp(tx->chain_id, c->chain_id) != 0)
        return refuse(err, CHAIN_MP_WRONG_CHAIN, "\"%s\", this chain is \"%s\"", tx->chain_id,
                      c->chain_id);
    if (tx->size > c->max_tx_size)
        return refuse(err, CHAIN_MP_TOO_LARGE, "%u bytes, limit %zu", tx->size, c->max_tx_size);
    if (tx->gas_limit > c->block_gas_limit)
        return refuse(err, CHAIN_MP_GAS_TOO_HIGH, "gas limit %llu, block gas limit %llu",
                      (unsigned long long)tx->gas_limit, (unsigned long long)c->block_gas_limit);
    /* Step 3. */
    if (chain_tx_check_sig(tx, a->g->hash) != 1)
        return util_err_set(err, CHAIN_MP_BAD_SIGNATURE, "%s",
                            chain_mempool_reason_text(CHAIN_MP_BAD_SIGNATURE));
    return CHAIN_MP_OK;
}

chain_exec_ctx chain_admit_exec_ctx(const chain_admit *a)
{
    const chain_header *h = chain_store_head_header(a->st);
    return chain_exec_ctx_next(a->g, h, h->time_ms, &a->proposer);
}

static void started(const chain_admit_hooks *h)
{
    if (h && h->dry_started) h->dry_started(h->ctx);
}

static void done(const chain_admit_hooks *h, int dry)
{
    if (h && h->dry_done) h->dry_done(h->ctx, dry);
}

static unsigned unlock(const chain_admit_hooks *h)
{
    return h && h->unlock ? h->unlock(h->ctx) : 0;
}

static void relock(const chain_admit_hooks *h, unsigned token)
{
    if (h && h->relock) h->relock(h->ctx, token);
}

static int take(const chain_admit_hooks *h, uint64_t gas)
{
    return !h || !h->take || h->take(h->ctx, gas);
}

/* Gives back what a run of `used` gas did not use of `taken`. */
static void give_back(const chain_admit_hooks *h, uint64_t taken, uint64_t used)
{
    if (h && h->take && h->give_back) h->give_back(h->ctx, taken - (used < taken ? used : taken));
}

/* One dry run with the hooks' report around it; any thread. */
static int run(const chain_admit *a, const chain_admit_hooks *h, const chain_exec_ctx *ctx,
               const chain_tx *tx, uint64_t limit, uint64_t *used, util_err *err)
{
    chain_dry_run_out out;
    started(h);
    int reason = chain_dry_run(a->st, ctx, tx, limit, &out, err);
    done(h, out.capped ? CHAIN_ADMIT_DRY_CAPPED : CHAIN_ADMIT_DRY_RAN);
    *used = out.gas_used;
    return reason;
}

/* Step 5 for one transaction. */
static int dry_run(const chain_admit *a, const chain_admit_hooks *h, const chain_tx *tx,
                   util_err *err)
{
    uint64_t want = chain_dry_run_limit(tx, a->dry_run_cap), used;
    if (!take(h, want)) {
        done(h, CHAIN_ADMIT_DRY_SKIPPED);
        return CHAIN_MP_OK;
    }
    /* Read before unlocking: a commit replaces the head. */
    chain_exec_ctx ctx = chain_admit_exec_ctx(a);
    unsigned token = unlock(h);
    int reason = run(a, h, &ctx, tx, want, &used, err);
    relock(h, token);
    give_back(h, want, used);
    return reason;
}

int chain_admit_tx(const chain_admit *a, const chain_admit_hooks *h, chain_tx *tx,
                   const chain_admit_prior *prior, util_err *err)
{
    int reason;
    if (prior && prior->checked) {
        if (prior->check_reason) return util_err_set(err, prior->check_reason, "%s", prior->msg);
    } else if ((reason = chain_admit_check(a, tx, err))) {
        return reason;
    }
    if (tx->type != CHAIN_TX_TRANSFER) {
        /* Step 4 even when a prior exists: the pool may have changed since. */
        if ((reason = chain_mempool_precheck(a->mp, tx, err))) return reason;
        if (prior && prior->dry_done)
            reason = prior->dry_reason ? util_err_set(err, prior->dry_reason, "%s", prior->msg)
                                       : CHAIN_MP_OK;
        else
            reason = dry_run(a, h, tx, err);
        if (reason) return reason;
    }
    return chain_mempool_add(a->mp, tx, err);
}

/* A batch being prepared; `limit` is 1 for an entry that wants a dry run,
 * then the gas taken for it. */
typedef struct prep {
    const chain_admit *a;
    const chain_admit_hooks *h;
    chain_tx *txs;
    chain_admit_prior *prior;
    uint64_t *limit, *used;
    const chain_exec_ctx *ctx;
} prep;

static void record(chain_admit_prior *p, int reason, const util_err *e)
{
    if (reason) snprintf(p->msg, sizeof p->msg, "%s", e->msg);
}

static void check_one(void *arg, size_t i)
{
    prep *b = arg;
    util_err e = {0};
    chain_admit_prior *p = &b->prior[i];
    p->check_reason = chain_admit_check(b->a, &b->txs[i], &e);
    p->checked = 1;
    record(p, p->check_reason, &e);
}

/* The store and the VM are safe to use from several threads, and each dry
 * run has its own overlay. */
static void dry_run_one(void *arg, size_t i)
{
    prep *b = arg;
    chain_admit_prior *p = &b->prior[i];
    if (!b->limit[i] || p->dry_done) return;
    util_err e = {0};
    p->dry_reason = run(b->a, b->h, b->ctx, &b->txs[i], b->limit[i], &b->used[i], &e);
    p->dry_done = 1;
    record(p, p->dry_reason, &e);
}

/* Runs fn over [from, to) with the caller's lock released. */
static void phase(const chain_admit_hooks *h, chain_admit_parallel_fn parallel, void *pctx,
                  size_t from, size_t to, chain_admit_each_fn fn, prep *b)
{
    /* The parallel function sees indexes from 0: shift the arrays. */
    prep sub = *b;
    sub.txs += from;
    sub.prior += from;
    sub.limit += from;
    sub.used += from;
    unsigned token = unlock(h);
    parallel(pctx, to - from, fn, &sub);
    relock(h, token);
}

int chain_admit_prepare(const chain_admit *a, const chain_admit_hooks *h,
                        chain_admit_parallel_fn parallel, void *parallel_ctx, chain_tx *txs,
                        chain_admit_prior *prior, size_t n, util_err *err)
{
    uint64_t *limit = calloc(n ? 2 * n : 1, sizeof *limit);
    if (!limit) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    prep b = {a, h, txs, prior, limit, limit + n, NULL};
    /* Steps 2 and 3. */
    phase(h, parallel, parallel_ctx, 0, n, check_one, &b);
    /* Step 4, to know which entries want a dry run. */
    for (size_t i = 0; i < n; i++) {
        if (prior[i].check_reason || txs[i].type == CHAIN_TX_TRANSFER) continue;
        util_err e = {0};
        if (!chain_mempool_precheck(a->mp, &txs[i], &e)) limit[i] = 1;
    }
    /* Step 5, in waves. */
    chain_exec_ctx ctx = chain_admit_exec_ctx(a);
    b.ctx = &ctx;
    size_t next = 0;
    while (next < n) {
        size_t end = next, taken = 0;
        for (; end < n; end++) {
            if (!limit[end]) continue;
            uint64_t want = chain_dry_run_limit(&txs[end], a->dry_run_cap);
            if (!take(h, want)) break;
            limit[end] = want;
            taken++;
        }
        if (!taken) break;
        phase(h, parallel, parallel_ctx, next, end, dry_run_one, &b);
        for (size_t i = next; i < end; i++)
            if (limit[i]) give_back(h, limit[i], b.used[i]);
        next = end;
    }
    for (size_t i = next; i < n; i++)
        if (limit[i] && !prior[i].dry_done) {
            prior[i].dry_done = 1;
            done(h, CHAIN_ADMIT_DRY_SKIPPED);
        }
    free(limit);
    return 0;
}
