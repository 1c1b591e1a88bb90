/* The wiring of transaction admission (chain/exec/admit.h holds the order
 * and the checks): the node's lock released around dry runs, their counters,
 * the request's work budget, and the preparation of a JSON-RPC batch.
 *
 * A batch of many tx_send calls is prepared by the batch hook in the same
 * order: stateless limits and signatures, then dry runs, on a few threads,
 * the pool's rules in between on the calling thread. The decoded
 * transactions and what the hook found are kept while that batch's entries
 * are dispatched, and node_submit_tx hands them to chain_admit_tx as its
 * prior instead of redoing the work. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/exec/admit.h"
#include "chain/exec/dryrun.h"
#include "chain/state/state.h"
#include "chain/types/tx.h"
#include "node/node_internal.h"
#include "util/hex.h"

#define MIN_PARALLEL 16
#define MAX_THREADS 4

/* The admission of this node: its genesis, store and pool (the pool is
 * replaced by admin_mempoolFlush, so it is read each time), and its own address
 * as the proposer of the block a dry run assumes. */
static chain_admit admission(node *n)
{
    chain_admit a = {
        .g = &n->genesis, .st = n->store, .mp = n->mempool, .dry_run_cap = NODE_DRY_RUN_GAS_MAX};
    chain_addr_from_pubkey(&a.proposer, n->validator.pubkey);
    return a;
}

static void count_dry_run(node *n, int dry)
{
    if (dry == CHAIN_ADMIT_DRY_CAPPED) atomic_fetch_add(&n->dry_runs.capped, 1);
    if (dry == CHAIN_ADMIT_DRY_SKIPPED) atomic_fetch_add(&n->dry_runs.skipped, 1);
}

/* chain_dry_run with the node's counters around it, for the batch's
 * threads. Reads only the store: safe without the node lock. */
static int dry_run(node *n, const chain_exec_ctx *ctx, const chain_tx *tx, uint64_t limit,
                   uint64_t *used, util_err *err)
{
    chain_dry_run_out out;
    atomic_fetch_add(&n->dry_runs.runs, 1);
    atomic_fetch_add(&n->dry_runs.active, 1);
    int reason = chain_dry_run(n->store, ctx, tx, limit, &out, err);
    atomic_fetch_sub(&n->dry_runs.active, 1);
    count_dry_run(n, out.capped ? CHAIN_ADMIT_DRY_CAPPED : CHAIN_ADMIT_DRY_RAN);
    *used = out.gas_used;
    return reason;
}

/* What the hook learnt of one decoded entry: p is handed to chain_admit_tx. */
typedef struct outcome {
    chain_admit_prior p;
    uint64_t limit; /* 1: wants a dry run; then the gas taken for it */
    uint64_t used;
} outcome;

typedef struct job {
    node *n;
    const chain_admit *a;
    chain_tx *txs;
    outcome *res;
    size_t from, to;
    int phase; /* 0: stateless limits and signatures; 1: the dry runs not done yet */
    const chain_exec_ctx *ctx;
} job;

/* The store and the VM are safe to use from several threads, and each dry
 * run has its own overlay. */
static void *work_range(void *arg)
{
    job *j = arg;
    for (size_t i = j->from; i < j->to; i++) {
        chain_admit_prior *p = &j->res[i].p;
        util_err e = {0};
        int reason;
        if (j->phase == 0) {
            reason = p->check_reason = chain_admit_check(j->a, &j->txs[i], &e);
            p->checked = 1;
        } else if (j->res[i].limit && !p->dry_done) {
            reason = p->dry_reason =
                dry_run(j->n, j->ctx, &j->txs[i], j->res[i].limit, &j->res[i].used, &e);
            p->dry_done = 1;
        } else {
            continue;
        }
        if (reason) snprintf(p->msg, sizeof p->msg, "%s", e.msg);
    }
    return NULL;
}

/* Runs one phase over cnt entries on up to MAX_THREADS threads, the calling
 * one included. */
static void run_phase(node *n, const chain_admit *a, chain_tx *txs, outcome *res, size_t cnt,
                      int phase, const chain_exec_ctx *ctx)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = ncpu < 1 ? 1 : (size_t)ncpu;
    if (nt > MAX_THREADS) nt = MAX_THREADS;
    pthread_t th[MAX_THREADS];
    job jobs[MAX_THREADS];
    size_t started = 0;
    for (size_t t = 0; t < nt; t++) {
        jobs[t] = (job){n, a, txs, res, cnt * t / nt, cnt * (t + 1) / nt, phase, ctx};
        /* The calling thread takes the last slice itself. */
        if (t + 1 < nt && pthread_create(&th[t], NULL, work_range, &jobs[t]) == 0)
            started = t + 1;
        else
            work_range(&jobs[t]);
    }
    for (size_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
}

/* The batch being dispatched on this thread. A batch runs on one loop
 * thread from hook to end, so thread-local state keeps what the hook did to
 * that batch's own entries: another loop's batch (--rpc-threads) cannot
 * replace it midway, and a later tx_send never sees an outcome computed
 * against an older head. tx_send hands node_submit_tx a pointer into txs,
 * which leads to the entry's outcome. */
typedef struct batch_state {
    chain_tx *txs;         /* the decoded entries, so tx_send need not decode again */
    const json_t **params; /* txs[i] was decoded from this param string */
    outcome *res;          /* res[i] for txs[i]; NULL when the batch was too small to check */
    size_t ntx, next;      /* next: where the in-order lookup starts */
} batch_state;
static _Thread_local batch_state tl_batch;

/* Called under the node lock (the dispatch lock); releases it while the
 * threads work. */
void node_batch_hook(void *ctx, const rpc_call *call, json_t *batch)
{
    node *n = ctx;
    node_batch_end(NULL);
    size_t len = json_array_size(batch), cnt = 0;
    if (len < MIN_PARALLEL) return;
    chain_tx *txs = calloc(len, sizeof *txs);
    const json_t **from = calloc(len, sizeof *from);
    outcome *res = calloc(len, sizeof *res);
    if (!txs || !from || !res) goto out;
    for (size_t i = 0; i < len; i++) {
        json_t *req = json_array_get(batch, i);
        const char *m = json_string_value(json_object_get(req, "method"));
        json_t *params = json_object_get(req, "params");
        json_t *param = json_array_get(params, 0);
        const char *hex = json_string_value(param);
        /* Only what tx_send itself would accept (rpc_param_hex: a lower-case
         * 0x prefix), so a kept decoding never widens the method. */
        if (!m || strcmp(m, "tx_send") != 0 || !hex || hex[0] != '0' || hex[1] != 'x') continue;
        uint8_t *raw;
        size_t rl;
        if (util_hex_decode_alloc(hex, CHAIN_TX_MAX_SIZE, &raw, &rl)) continue;
        if (chain_tx_decode(&txs[cnt], raw, rl, NULL) == 0) from[cnt++] = param;
        free(raw);
    }
    if (cnt < MIN_PARALLEL) {
        free(res); /* too few to be worth threads: each is checked on admission */
        res = NULL;
        goto keep;
    }
    chain_admit a = admission(n);
    /* Steps 2 and 3 on threads, without the node lock. */
    unsigned depth = node_unlock_all(n);
    run_phase(n, &a, txs, res, cnt, 0, NULL);
    node_relock(n, depth);
    /* Step 4 here: the pool is single-threaded. Its outcome is not kept:
     * chain_admit_tx repeats it, since earlier entries of the batch may
     * change the pool. */
    for (size_t i = 0; i < cnt; i++) {
        if (res[i].p.check_reason || txs[i].type == CHAIN_TX_TRANSFER) continue;
        util_err e = {0};
        if (!chain_mempool_precheck(n->mempool, &txs[i], &e)) res[i].limit = 1;
    }
    /* Step 5 on threads, in waves: each wave takes the gas of as many
     * entries as the budgets hold, in entry order (so which entries get a
     * dry run does not depend on thread timing), and gives back what they
     * did not use before the next wave. Once the budgets cannot cover the
     * next entry, it and those after it are admitted unchecked. */
    chain_exec_ctx ectx = chain_admit_exec_ctx(&a);
    size_t next = 0;
    while (next < cnt) {
        size_t end = next, taken = 0;
        for (; end < cnt; end++) {
            outcome *r = &res[end];
            if (!r->limit) continue;
            uint64_t want = chain_dry_run_limit(&txs[end], a.dry_run_cap);
            if (!rpc_budget_take(call, want)) break;
            r->limit = want;
            taken++;
        }
        if (!taken) break;
        depth = node_unlock_all(n);
        run_phase(n, &a, txs + next, res + next, end - next, 1, &ectx);
        node_relock(n, depth);
        for (size_t i = next; i < end; i++)
            if (res[i].limit)
                rpc_budget_give_back(
                    call, res[i].limit - (res[i].used < res[i].limit ? res[i].used : res[i].limit));
        next = end;
    }
    for (size_t i = next; i < cnt; i++)
        if (res[i].limit && !res[i].p.dry_done) {
            res[i].p.dry_done = 1;
            count_dry_run(n, CHAIN_ADMIT_DRY_SKIPPED);
        }
keep:
    tl_batch = (batch_state){.txs = txs, .params = from, .res = res, .ntx = cnt};
    return;
out:
    free(txs);
    free(from);
    free(res);
}

void node_batch_end(void *ctx)
{
    (void)ctx;
    batch_state *b = &tl_batch;
    for (size_t i = 0; i < b->ntx; i++)
        chain_tx_free(&b->txs[i]);
    free(b->txs);
    free(b->params);
    free(b->res);
    memset(b, 0, sizeof *b);
}

chain_tx *node_batch_tx(void *ctx, const json_t *param)
{
    (void)ctx;
    batch_state *b = &tl_batch;
    /* Entries are dispatched in order, so the search starts after the last
     * match and almost always succeeds at once. */
    for (size_t k = 0; k < b->ntx; k++) {
        size_t i = (b->next + k) % b->ntx;
        if (b->params[i] == param) {
            b->next = i + 1;
            return &b->txs[i];
        }
    }
    return NULL;
}

/* The hooks of one tx_send: the request's budget, and the node lock
 * released while the dry run executes (the caller holds it). */
typedef struct submit_hooks {
    node *n;
    const rpc_call *call;
} submit_hooks;

static int hook_take(void *ctx, uint64_t gas)
{
    return rpc_budget_take(((submit_hooks *)ctx)->call, gas) != 0;
}

static void hook_give_back(void *ctx, uint64_t gas)
{
    rpc_budget_give_back(((submit_hooks *)ctx)->call, gas);
}

static unsigned hook_begin(void *ctx)
{
    node *n = ((submit_hooks *)ctx)->n;
    atomic_fetch_add(&n->dry_runs.runs, 1);
    atomic_fetch_add(&n->dry_runs.active, 1);
    return node_unlock_all(n);
}

static void hook_end(void *ctx, unsigned depth)
{
    node *n = ((submit_hooks *)ctx)->n;
    atomic_fetch_sub(&n->dry_runs.active, 1);
    node_relock(n, depth);
}

int node_submit_tx(void *ctx, const rpc_call *call, chain_tx *tx, util_err *err)
{
    node *n = ctx;
    const batch_state *b = &tl_batch;
    /* A transaction this batch's hook prepared (tx_send passed its own
     * copy): what it found is known. Compared as integers: tx may point
     * anywhere. */
    uintptr_t at = (uintptr_t)tx, first = (uintptr_t)b->txs;
    size_t i = at >= first ? (at - first) / sizeof *tx : SIZE_MAX;
    const chain_admit_prior *pre =
        b->res && i < b->ntx && &b->txs[i] == tx && b->res[i].p.checked ? &b->res[i].p : NULL;
    chain_admit a = admission(n);
    submit_hooks sh = {n, call};
    chain_admit_hooks h = {.ctx = &sh,
                           .take = hook_take,
                           .give_back = hook_give_back,
                           .begin = hook_begin,
                           .end = hook_end};
    int dry;
    int rc = chain_admit_tx(&a, &h, tx, pre, &dry, err);
    count_dry_run(n, dry);
    if (rc == CHAIN_MP_OK) node_tx_admitted(n, tx);
    return rc;
}

unsigned node_vm_begin(void *ctx)
{
    return node_unlock_all(ctx);
}

void node_vm_end(void *ctx, unsigned token)
{
    node_relock(ctx, token);
}
