/* Admission of transactions from tx_send, in one order (docs/mempool.md,
 * "Admission order"), cheapest first, and nothing that runs the VM before
 * the signature:
 *   1. decode (tx_send, or the batch hook);
 *   2. stateless limits: chain id, size, a gas limit no larger than the block
 *      gas limit (gas_too_high);
 *   3. the signature (bad_signature);
 *   4. nonce, balance and the pool's other rules, without inserting
 *      (chain_mempool_precheck);
 *   5. for types other than TRANSFER, the dry run: at most
 *      NODE_DRY_RUN_GAS_MAX gas, taken from the request's work budgets, run
 *      without the node lock;
 *   6. chain_mempool_add, which checks 2 and 4 again against the state after
 *      the dry run, since the head may have moved meanwhile.
 *
 * A JSON-RPC batch of many tx_send calls is prepared by the batch hook in the
 * same order: signatures and dry runs on a few threads, the pool's rules in
 * between on the calling thread. The decoded transactions and outcomes are
 * kept while that batch's entries are dispatched, and node_submit_tx uses
 * them instead of redoing the work. */
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/exec/dryrun.h"
#include "chain/state/state.h"
#include "chain/types/tx.h"
#include "node/node_internal.h"
#include "util/hex.h"

#define MIN_PARALLEL 16
#define MAX_THREADS 4

/* Signatures are checked for this node's genesis (the signing domain,
 * docs/encoding.md). */
static int sig_ok(node *n, chain_tx *tx)
{
    return chain_tx_check_sig(tx, n->genesis.hash) == 1;
}

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

/* Step 2: what the transaction alone says; no state, no cryptography. */
static int stateless(const node *n, const chain_tx *tx, util_err *err)
{
    const chain_mempool_cfg *c = &n->mempool_cfg;
    if (strcmp(tx->chain_id, c->chain_id) != 0)
        return refuse(err, CHAIN_MP_WRONG_CHAIN, "\"%s\", this chain is \"%s\"", tx->chain_id,
                      c->chain_id);
    if (tx->size > c->max_tx_size)
        return refuse(err, CHAIN_MP_TOO_LARGE, "%u bytes, limit %zu", tx->size, c->max_tx_size);
    if (tx->gas_limit > c->block_gas_limit)
        return refuse(err, CHAIN_MP_GAS_TOO_HIGH, "gas limit %llu, block gas limit %llu",
                      (unsigned long long)tx->gas_limit, (unsigned long long)c->block_gas_limit);
    return CHAIN_MP_OK;
}

/* The head the dry runs execute on; read under the node lock, since a
 * commit replaces the head. */
static void head_ctx(node *n, chain_exec_ctx *ctx)
{
    const chain_header *h = chain_store_head_header(n->store);
    chain_addr proposer;
    chain_addr_from_pubkey(&proposer, n->validator.pubkey);
    *ctx = (chain_exec_ctx){.chain_id = n->genesis.chain_id,
                            .genesis_hash = n->genesis.hash,
                            .height = h->height + 1,
                            .time_ms = h->time_ms,
                            .proposer = proposer,
                            .min_gas_price = n->genesis.params.min_gas_price};
}

static uint64_t dry_run_limit(const chain_tx *tx)
{
    return chain_dry_run_limit(tx, NODE_DRY_RUN_GAS_MAX);
}

/* chain_dry_run (chain/exec/dryrun.h) with the node's counters around it.
 * Reads only the store: safe without the node lock, from any thread. */
static int dry_run(node *n, const chain_exec_ctx *ctx, const chain_tx *tx, uint64_t limit,
                   uint64_t *used, util_err *err)
{
    chain_dry_run_out out;
    atomic_fetch_add(&n->dry_runs.runs, 1);
    atomic_fetch_add(&n->dry_runs.active, 1);
    int reason = chain_dry_run(n->store, ctx, tx, limit, &out, err);
    atomic_fetch_sub(&n->dry_runs.active, 1);
    if (out.capped) atomic_fetch_add(&n->dry_runs.capped, 1);
    *used = out.gas_used;
    return reason;
}

/* What the hook learnt of one decoded entry. */
typedef struct outcome {
    int sig_done;   /* steps 2 and 3 ran: `reason` is their outcome */
    int dry_done;   /* step 5 ran (or was skipped for the budget): `reason` is its outcome */
    int reason;     /* CHAIN_MP_OK or the reason of the first step that failed */
    uint64_t limit; /* 1: wants a dry run; then the gas taken for it */
    uint64_t used;
    char msg[160];
} outcome;

typedef struct job {
    node *n;
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
        outcome *r = &j->res[i];
        util_err e = {0};
        if (j->phase == 0) {
            r->reason = stateless(j->n, &j->txs[i], &e);
            if (!r->reason && !sig_ok(j->n, &j->txs[i]))
                r->reason = util_err_set(&e, CHAIN_MP_BAD_SIGNATURE, "%s",
                                         chain_mempool_reason_text(CHAIN_MP_BAD_SIGNATURE));
            r->sig_done = 1;
        } else if (r->limit && !r->dry_done) {
            r->reason = dry_run(j->n, j->ctx, &j->txs[i], r->limit, &r->used, &e);
            r->dry_done = 1;
        } else {
            continue;
        }
        if (r->reason) snprintf(r->msg, sizeof r->msg, "%s", e.msg);
    }
    return NULL;
}

/* Runs one phase over cnt entries on up to MAX_THREADS threads, the calling
 * one included. */
static void run_phase(node *n, chain_tx *txs, outcome *res, size_t cnt, int phase,
                      const chain_exec_ctx *ctx)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = ncpu < 1 ? 1 : (size_t)ncpu;
    if (nt > MAX_THREADS) nt = MAX_THREADS;
    pthread_t th[MAX_THREADS];
    job jobs[MAX_THREADS];
    size_t started = 0;
    for (size_t t = 0; t < nt; t++) {
        jobs[t] = (job){n, txs, res, cnt * t / nt, cnt * (t + 1) / nt, phase, ctx};
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
    /* Steps 2 and 3 on threads, without the node lock. */
    unsigned depth = node_unlock_all(n);
    run_phase(n, txs, res, cnt, 0, NULL);
    node_relock(n, depth);
    /* Step 4 here: the pool is single-threaded. */
    for (size_t i = 0; i < cnt; i++) {
        outcome *r = &res[i];
        if (r->reason) continue;
        txs[i].sig_checked = 1; /* the pool need not check it again */
        if (txs[i].type == CHAIN_TX_TRANSFER) continue;
        util_err e = {0};
        if ((r->reason = chain_mempool_precheck(n->mempool, &txs[i], &e)))
            snprintf(r->msg, sizeof r->msg, "%s", e.msg);
        else
            r->limit = 1; /* wants a dry run */
    }
    /* Step 5 on threads, in waves: each wave takes the gas of as many
     * entries as the budgets hold, in entry order (so which entries get a
     * dry run does not depend on thread timing), and gives back what they
     * did not use before the next wave. Once the budgets cannot cover the
     * next entry, it and those after it are admitted unchecked. */
    chain_exec_ctx ectx;
    head_ctx(n, &ectx);
    size_t next = 0;
    while (next < cnt) {
        size_t end = next, taken = 0;
        for (; end < cnt; end++) {
            outcome *r = &res[end];
            if (!r->limit) continue;
            uint64_t want = dry_run_limit(&txs[end]);
            if (!rpc_budget_take(call, want)) break;
            r->limit = want;
            taken++;
        }
        if (!taken) break;
        depth = node_unlock_all(n);
        run_phase(n, txs + next, res + next, end - next, 1, &ectx);
        node_relock(n, depth);
        for (size_t i = next; i < end; i++)
            if (res[i].limit)
                rpc_budget_give_back(
                    call, res[i].limit - (res[i].used < res[i].limit ? res[i].used : res[i].limit));
        next = end;
    }
    for (size_t i = next; i < cnt; i++)
        if (res[i].limit && !res[i].dry_done) {
            res[i].dry_done = 1;
            atomic_fetch_add(&n->dry_runs.skipped, 1);
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

/* Step 5 for one transaction, on the calling thread without the node lock
 * (the caller holds it). */
static int dry_run_unlocked(node *n, const rpc_call *call, const chain_tx *tx, util_err *err)
{
    uint64_t want = dry_run_limit(tx);
    if (!rpc_budget_take(call, want)) {
        atomic_fetch_add(&n->dry_runs.skipped, 1);
        return CHAIN_MP_OK;
    }
    chain_exec_ctx ctx;
    head_ctx(n, &ctx);
    uint64_t used;
    unsigned depth = node_unlock_all(n);
    int reason = dry_run(n, &ctx, tx, want, &used, err);
    node_relock(n, depth);
    rpc_budget_give_back(call, want - (used < want ? used : want));
    return reason;
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
    const outcome *pre =
        b->res && i < b->ntx && &b->txs[i] == tx && b->res[i].sig_done ? &b->res[i] : NULL;
    int reason;
    if (pre && pre->reason && !pre->dry_done) {
        /* Steps 2-4 failed in the hook. Step 4 is repeated below instead,
         * because earlier entries of the batch may have changed the pool. */
        if (pre->reason != CHAIN_MP_BAD_SIGNATURE && tx->sig_checked) goto pool;
        return util_err_set(err, pre->reason, "%s", pre->msg);
    }
    if (!pre) {
        if ((reason = stateless(n, tx, err))) return reason;
        if (!tx->sig_checked && !sig_ok(n, tx))
            return util_err_set(err, CHAIN_MP_BAD_SIGNATURE, "%s",
                                chain_mempool_reason_text(CHAIN_MP_BAD_SIGNATURE));
    }
pool:
    if (tx->type != CHAIN_TX_TRANSFER) {
        if ((reason = chain_mempool_precheck(n->mempool, tx, err))) return reason;
        if (pre && pre->dry_done)
            reason = pre->reason ? util_err_set(err, pre->reason, "%s", pre->msg) : CHAIN_MP_OK;
        else
            reason = dry_run_unlocked(n, call, tx, err);
        if (reason) return reason;
    }
    int rc = chain_mempool_add(n->mempool, tx, err);
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
