/* The wiring of transaction admission (chain/exec/admit.h holds the order,
 * the checks and the batch's waves of dry runs): the node lock released
 * while the store is read, the dry-run counters, the request's work budget,
 * the threads, and the per-batch state.
 *
 * A batch of many tx_send calls is prepared by the batch hook
 * (chain_admit_prepare on this file's threads). The decoded transactions and
 * what the preparation found are kept while that batch's entries are
 * dispatched, and node_submit_tx hands them to chain_admit_tx as its prior
 * instead of redoing the work. */
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/exec/admit.h"
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

/* The hooks of one request: its budget, the node lock released while the
 * store is read, and the dry-run counters. */
typedef struct hooks_ctx {
    node *n;
    const rpc_call *call;
} hooks_ctx;

static int hook_take(void *ctx, uint64_t gas)
{
    return rpc_budget_take(((hooks_ctx *)ctx)->call, gas) != 0;
}

static void hook_give_back(void *ctx, uint64_t gas)
{
    rpc_budget_give_back(((hooks_ctx *)ctx)->call, gas);
}

static unsigned hook_unlock(void *ctx)
{
    return node_unlock_all(((hooks_ctx *)ctx)->n);
}

static void hook_relock(void *ctx, unsigned depth)
{
    node_relock(((hooks_ctx *)ctx)->n, depth);
}

static void hook_dry_started(void *ctx)
{
    node *n = ((hooks_ctx *)ctx)->n;
    atomic_fetch_add(&n->dry_runs.runs, 1);
    atomic_fetch_add(&n->dry_runs.active, 1);
}

static void hook_dry_done(void *ctx, int dry)
{
    node *n = ((hooks_ctx *)ctx)->n;
    if (dry != CHAIN_ADMIT_DRY_SKIPPED) atomic_fetch_sub(&n->dry_runs.active, 1);
    if (dry == CHAIN_ADMIT_DRY_CAPPED) atomic_fetch_add(&n->dry_runs.capped, 1);
    if (dry == CHAIN_ADMIT_DRY_SKIPPED) atomic_fetch_add(&n->dry_runs.skipped, 1);
}

static chain_admit_hooks hooks(hooks_ctx *hc)
{
    return (chain_admit_hooks){.ctx = hc,
                               .take = hook_take,
                               .give_back = hook_give_back,
                               .unlock = hook_unlock,
                               .relock = hook_relock,
                               .dry_started = hook_dry_started,
                               .dry_done = hook_dry_done};
}

typedef struct job {
    chain_admit_each_fn fn;
    void *arg;
    size_t from, to;
} job;

static void *work_range(void *arg)
{
    job *j = arg;
    for (size_t i = j->from; i < j->to; i++)
        j->fn(j->arg, i);
    return NULL;
}

/* chain_admit_parallel_fn: [0, n) in slices on up to MAX_THREADS threads,
 * the calling one included. */
static void run_parallel(void *ctx, size_t n, chain_admit_each_fn fn, void *arg)
{
    (void)ctx;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = ncpu < 1 ? 1 : (size_t)ncpu;
    if (nt > MAX_THREADS) nt = MAX_THREADS;
    pthread_t th[MAX_THREADS];
    job jobs[MAX_THREADS];
    size_t started = 0;
    for (size_t t = 0; t < nt; t++) {
        jobs[t] = (job){fn, arg, n * t / nt, n * (t + 1) / nt};
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
    chain_tx *txs;          /* the decoded entries, so tx_send need not decode again */
    const json_t **params;  /* txs[i] was decoded from this param string */
    chain_admit_prior *res; /* res[i] for txs[i]; NULL when the batch was not prepared */
    size_t ntx, next;       /* next: where the in-order lookup starts */
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
    chain_admit_prior *res = calloc(len, sizeof *res);
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
    /* Steps 2-3 and 5 on threads without the node lock, the budget shared
     * as the request's. */
    chain_admit a = admission(n);
    hooks_ctx hc = {n, call};
    chain_admit_hooks h = hooks(&hc);
    if (chain_admit_prepare(&a, &h, run_parallel, NULL, txs, res, cnt, NULL)) {
        free(res); /* each is checked in full on admission */
        res = NULL;
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
        b->res && i < b->ntx && &b->txs[i] == tx && b->res[i].checked ? &b->res[i] : NULL;
    chain_admit a = admission(n);
    hooks_ctx hc = {n, call};
    chain_admit_hooks h = hooks(&hc);
    int rc = chain_admit_tx(&a, &h, tx, pre, err);
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
