/* Admission of a transaction to the mempool in one order (chain/exec/admit.h);
 * node/txverify.c wires it to the RPC's threads, lock and budgets. */
#include "chain/exec/admit.h"

#include <stdarg.h>
#include <stdio.h>
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

/* Step 5 for one transaction. */
static int dry_run(const chain_admit *a, const chain_admit_hooks *h, const chain_tx *tx, int *dry,
                   util_err *err)
{
    uint64_t want = chain_dry_run_limit(tx, a->dry_run_cap);
    if (h && h->take && !h->take(h->ctx, want)) {
        *dry = CHAIN_ADMIT_DRY_SKIPPED;
        return CHAIN_MP_OK;
    }
    /* Read before begin: the caller may release its lock there, and a
     * commit replaces the head. */
    chain_exec_ctx ctx = chain_admit_exec_ctx(a);
    unsigned token = h && h->begin ? h->begin(h->ctx) : 0;
    chain_dry_run_out out;
    int reason = chain_dry_run(a->st, &ctx, tx, want, &out, err);
    if (h && h->end) h->end(h->ctx, token);
    if (h && h->take && h->give_back)
        h->give_back(h->ctx, want - (out.gas_used < want ? out.gas_used : want));
    *dry = out.capped ? CHAIN_ADMIT_DRY_CAPPED : CHAIN_ADMIT_DRY_RAN;
    return reason;
}

int chain_admit_tx(const chain_admit *a, const chain_admit_hooks *h, chain_tx *tx,
                   const chain_admit_prior *prior, int *dry, util_err *err)
{
    int none, reason;
    if (!dry) dry = &none;
    *dry = CHAIN_ADMIT_DRY_NONE;
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
            reason = dry_run(a, h, tx, dry, err);
        if (reason) return reason;
    }
    return chain_mempool_add(a->mp, tx, err);
}
