/* Signature pre-verification for batches of tx_send requests.
 *
 * BIP-340 verification (~26 us) dominates admission, and attribution
 * transactions also need a dry run against the head state. A JSON-RPC batch
 * of many tx_send calls is first decoded here, and its signatures checked and
 * dry runs done on a few threads; the decoded transactions and their outcomes
 * are kept while that batch's entries are dispatched, and tx_send and
 * node_submit_tx use them instead of redoing the work. */
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/state.h"
#include "chain/tx.h"
#include "node/node_internal.h"
#include "util/hex.h"

#define MIN_PARALLEL 16
#define MAX_THREADS 4

/* Attribution transactions depend on state the pool cannot see (who attests
 * a model, which contributions are accepted). They are run once against the
 * head state in a throwaway overlay, with the sender's nonce set to the
 * transaction's, so a body that would fail is refused at the door with its
 * reason and changes nothing. A transaction can still fail in its block if the
 * state moves in between; then it has a receipt saying why. */
static int dry_run(node *n, const chain_tx *tx, util_err *err)
{
    if (tx->type == CHAIN_TX_TRANSFER) return CHAIN_MP_OK;
    const chain_header *h = chain_store_head_header(n->store);
    chain_addr proposer;
    chain_addr_from_pubkey(&proposer, n->validator.pubkey);
    chain_exec_ctx ctx = {.chain_id = n->genesis.chain_id,
                          .genesis_hash = n->genesis.hash,
                          .height = h->height + 1,
                          .time_ms = h->time_ms,
                          .proposer = proposer,
                          .min_gas_price = n->genesis.params.min_gas_price};
    chain_exec *ex = chain_exec_new(n->store, &ctx);
    if (!ex) return util_err_set(err, CHAIN_MP_INTERNAL, "out of memory");
    chain_tx copy;
    chain_receipt r;
    memset(&r, 0, sizeof r);
    int reason = CHAIN_MP_OK;
    chain_account acc;
    util_err e = {0};
    if (chain_tx_copy(&copy, tx)) {
        chain_exec_free(ex);
        return util_err_set(err, CHAIN_MP_INTERNAL, "out of memory");
    }
    copy.sig_checked = 1; /* the pool verified it */
    if (chain_exec_get_account(ex, &tx->from, &acc, &e) == 0) {
        acc.nonce = tx->nonce;
        chain_exec_set_account(ex, &tx->from, &acc, &e);
        int rc = chain_exec_apply_tx(ex, &copy, &r, &e);
        if (rc)
            reason = util_err_set(err, CHAIN_MP_EXEC_FAILED, "%s", e.msg);
        else if (r.status != CHAIN_RECEIPT_OK)
            reason = util_err_set(err, CHAIN_MP_EXEC_FAILED, "%s", r.error);
    }
    chain_receipt_free(&r);
    chain_tx_free(&copy);
    chain_exec_free(ex);
    return reason;
}

/* What the hook learnt of one decoded entry. */
typedef struct outcome {
    int checked; /* the signature verified and `reason` holds the dry run's outcome */
    int reason;  /* CHAIN_MP_OK (always for transfers) or the dry run's reason */
    char msg[160];
} outcome;

typedef struct job {
    node *n;
    chain_tx *txs;
    outcome *res;
    size_t from, to;
} job;

/* Each worker verifies its slice and dry-runs the state-dependent ones; the
 * store and the VM are safe to read from several threads, and each dry run
 * has its own overlay. */
static void *verify_range(void *arg)
{
    job *j = arg;
    for (size_t i = j->from; i < j->to; i++) {
        outcome *r = &j->res[i];
        r->checked = chain_tx_check_sig(&j->txs[i], j->n->genesis.hash);
        if (r->checked && j->txs[i].type != CHAIN_TX_TRANSFER) {
            util_err e = {0};
            r->reason = dry_run(j->n, &j->txs[i], &e);
            if (r->reason) snprintf(r->msg, sizeof r->msg, "%s", e.msg);
        }
    }
    return NULL;
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

void node_batch_hook(void *ctx, void *batch_json)
{
    node *n = ctx;
    json_t *batch = batch_json;
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
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = ncpu < 1 ? 1 : (size_t)ncpu;
    if (nt > MAX_THREADS) nt = MAX_THREADS;
    pthread_t th[MAX_THREADS];
    job jobs[MAX_THREADS];
    size_t started = 0;
    for (size_t t = 0; t < nt; t++) {
        jobs[t] = (job){n, txs, res, cnt * t / nt, cnt * (t + 1) / nt};
        /* The calling thread takes the last slice itself. */
        if (t + 1 < nt && pthread_create(&th[t], NULL, verify_range, &jobs[t]) == 0)
            started = t + 1;
        else
            verify_range(&jobs[t]);
    }
    for (size_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    for (size_t i = 0; i < cnt; i++)
        txs[i].sig_checked = res[i].checked; /* the mempool need not check it again */
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

const chain_tx *node_batch_tx(void *ctx, const json_t *param)
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

int node_submit_tx(void *ctx, const chain_tx *tx, util_err *err)
{
    node *n = ctx;
    const batch_state *b = &tl_batch;
    /* A transaction this batch's hook checked (tx_send passed its own copy):
     * its signature (tx->sig_checked is set) and its dry run are known.
     * Compared as integers: tx may point anywhere. */
    uintptr_t at = (uintptr_t)tx, first = (uintptr_t)b->txs;
    size_t i = at >= first ? (at - first) / sizeof *tx : SIZE_MAX;
    const outcome *pre =
        b->res && i < b->ntx && &b->txs[i] == tx && b->res[i].checked ? &b->res[i] : NULL;
    int reason = pre ? pre->reason : dry_run(n, tx, err);
    if (reason) {
        if (pre) util_err_set(err, UTIL_EINVAL, "%s", pre->msg);
        return reason;
    }
    int rc = chain_mempool_add(n->mempool, tx, err);
    if (rc == CHAIN_MP_OK) node_tx_admitted(n, tx);
    return rc;
}
