/* The L1 transaction manager (rollup/l1/txmgr.h): a state machine on the
 * node's loop. At most one JSON-RPC call is outstanding at a time, and one
 * request (the FIFO's head) is worked on at a time: it is estimated, priced,
 * signed, sent, polled for a receipt, re-priced and re-sent while unmined,
 * and reported once deep enough. Sending one transaction at a time keeps
 * nonces trivially in order and makes a reorganisation's "send again" a
 * re-broadcast of the head's last signed attempt. A blob request (type 3)
 * takes the same path with one more price (eth_blobBaseFee) and its own
 * replacement rule. */
#include "rollup/l1/txmgr.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/eth/kzg.h"
#include "rollup/eth/tx.h"
#include "util/log.h"

#define MOD "txmgr"
/* Signed attempts remembered per request: each one may be the one mined.
 * 12.5% bumps from any tip reach the fee cap long before. */
#define MAX_ATTEMPTS 64
/* Blocks of fee history read, and the reward percentile the tip comes from
 * (rollup_l1_parse_fee_history). */
#define FEE_BLOCKS "0xa"
#define FEE_PERCENTILE 50

typedef enum { R_GAS, R_PRICE, R_SEND, R_WAIT } rstate;

typedef struct treq {
    struct treq *next;
    /* Blob requests: nblobs > 0, the blobs in one buffer, their commitments,
     * proofs and versioned hashes (for the gas estimate). */
    size_t nblobs;
    uint8_t *blobs;
    uint8_t commitments[ROLLUP_BLOBS_PER_TX][48];
    uint8_t proofs[ROLLUP_BLOBS_PER_TX][48];
    uint8_t vhashes[ROLLUP_BLOBS_PER_TX][32];
    uint64_t blob_fee;   /* maxFeePerBlobGas of the last signed attempt */
    rollup_l1_fees fees; /* read, waiting for the blob base fee */
    int has_to;
    rollup_eth_addr to;
    uint8_t *data;
    size_t len;
    uint64_t gas_limit;
    rollup_txmgr_cb cb;
    void *ctx;
    rstate st;
    int has_nonce;
    uint64_t nonce;
    uint64_t tip, max_fee; /* of the last signed attempt; 0 before the first */
    uint8_t hashes[MAX_ATTEMPTS][32];
    size_t nh;    /* signed attempts, each possibly broadcast */
    uint8_t *raw; /* the last attempt, for (re-)broadcast */
    size_t raw_len;
    uint64_t sent_at, next_poll; /* loop time, ms */
    size_t poll_idx;
    int nonce_low; /* the node said "nonce too low" */
    int capped;    /* the fee cap stopped a replacement (logged once) */
    int has_rcpt;
    rollup_l1_receipt rcpt;
} treq;

typedef enum { M_CHAIN, M_NONCE_LATEST, M_NONCE_PENDING, M_WAIT_PENDING, M_READY, M_FATAL } mphase;

typedef enum {
    K_CHAIN,
    K_COUNT_LATEST,
    K_COUNT_PENDING,
    K_ESTIMATE,
    K_FEES,
    K_BLOB_FEE,
    K_SEND,
    K_RECEIPT,
    K_RECHECK,
    K_HEAD,
    K_NONCE_CHECK,
} kind;

/* One outstanding call; detached (m NULL) when the manager closes first. */
typedef struct op {
    rollup_txmgr *m;
    kind k;
} op;

struct rollup_txmgr {
    rollup_l1 *l1;
    uv_loop_t *loop;
    uv_timer_t timer;
    uint8_t sk[32];
    rollup_eth_addr addr;
    rollup_txmgr_opts o;
    mphase phase;
    uint64_t latest, pending_target, next_nonce;
    treq *head, *tail;
    size_t nreq;
    op *op;
    uint64_t fail_since; /* loop time of the first failure in a row, 0: none */
    util_err fatal;
    int closing;
};

static void step(rollup_txmgr *m);

static uint64_t now_ms(const rollup_txmgr *m)
{
    return uv_now(m->loop) + 1; /* never 0, the "none" of fail_since */
}

static void on_timer(uv_timer_t *t)
{
    step(t->data);
}

static void arm(rollup_txmgr *m, uint64_t ms)
{
    if (!m->closing) uv_timer_start(&m->timer, on_timer, ms, 0);
}

static void on_op(void *ctx, int rc, json_t *result, const util_err *err);
static void transient(rollup_txmgr *m, const util_err *err);

/* Starts a call; params is stolen. A call that cannot start counts as a
 * failure of the endpoint. */
static void call(rollup_txmgr *m, kind k, const char *method, json_t *params)
{
    util_err err = {0};
    op *o = calloc(1, sizeof *o);
    int rc;
    if (!o || !params) {
        rc = util_err_set(&err, UTIL_ENOMEM, "out of memory");
    } else {
        o->m = m;
        o->k = k;
        rc = rollup_l1_call(m->l1, method, params, on_op, o, &err);
    }
    json_decref(params);
    if (!rc) {
        m->op = o;
        return;
    }
    free(o);
    transient(m, &err);
}

static void treq_free(treq *q)
{
    free(q->data);
    free(q->blobs);
    free(q->raw);
    free(q);
}

/* Reports the head and moves to the next request. A request that broadcast
 * something without a receipt may still use its nonce later: the nonce is
 * read again before the next request. */
static void finish_head(rollup_txmgr *m, int rc, const rollup_l1_receipt *r, const util_err *err)
{
    treq *q = m->head;
    m->head = q->next;
    if (!m->head) m->tail = NULL;
    m->nreq--;
    if (r)
        m->next_nonce = q->nonce + 1;
    else if (q->nh && m->phase == M_READY)
        m->phase = M_NONCE_LATEST;
    m->fail_since = 0;
    arm(m, 0);
    q->cb(q->ctx, rc, r, rc ? err : NULL);
    treq_free(q);
}

/* A failure that may pass (endpoint down, a bad answer): retried after
 * poll_ms until failures have lasted give_up_ms, then the head fails. */
static void transient(rollup_txmgr *m, const util_err *err)
{
    uint64_t now = now_ms(m);
    /* The first failure in a row is worth a warning; its repeats are not. */
    util_log(m->fail_since ? UTIL_LOG_DEBUG : UTIL_LOG_WARN, MOD, "%s", err->msg);
    if (!m->fail_since) m->fail_since = now;
    if (now - m->fail_since >= m->o.give_up_ms && m->head) {
        util_err e = *err;
        util_err_prefix(&e, "L1 failing for %u ms: ", m->o.give_up_ms);
        finish_head(m, e.code ? e.code : UTIL_EIO, NULL, &e);
        return;
    }
    arm(m, m->o.poll_ms);
}

static json_t *addr_json(const rollup_eth_addr *a)
{
    return rollup_l1_address(a);
}

static json_t *hash_json(const uint8_t h[32])
{
    return rollup_l1_data(h, 32);
}

static uint64_t bump(uint64_t x)
{
    /* at least 12.5% more, rounded up, and at least 1 more */
    uint64_t b = x + (x + 7) / 8;
    if (b < x) return UINT64_MAX;
    return b == x ? x + 1 : b;
}

static void step(rollup_txmgr *m)
{
    if (m->closing || m->op) return;
    switch (m->phase) {
    case M_FATAL:
        while (m->head)
            finish_head(m, m->fatal.code, NULL, &m->fatal);
        return;
    case M_CHAIN: call(m, K_CHAIN, "eth_chainId", json_array()); return;
    case M_NONCE_LATEST:
    case M_WAIT_PENDING:
        call(m, K_COUNT_LATEST, "eth_getTransactionCount",
             json_pack("[os]", addr_json(&m->addr), "latest"));
        return;
    case M_NONCE_PENDING:
        call(m, K_COUNT_PENDING, "eth_getTransactionCount",
             json_pack("[os]", addr_json(&m->addr), "pending"));
        return;
    case M_READY: break;
    }
    treq *q = m->head;
    if (!q) return;
    uint64_t now = now_ms(m);
    switch (q->st) {
    case R_GAS: {
        if (q->gas_limit) {
            q->st = R_PRICE;
            step(m);
            return;
        }
        json_t *t = json_pack("{s:o,s:o}", "from", addr_json(&m->addr), "data",
                              rollup_l1_data(q->data, q->len));
        if (t && q->has_to) json_object_set_new(t, "to", addr_json(&q->to));
        if (t && q->nblobs) {
            /* The call sees the blob hashes (BLOBHASH), as the mined one will. */
            json_t *vh = json_array();
            for (size_t i = 0; vh && i < q->nblobs; i++)
                json_array_append_new(vh, hash_json(q->vhashes[i]));
            json_object_set_new(t, "blobVersionedHashes", vh);
        }
        call(m, K_ESTIMATE, "eth_estimateGas", t ? json_pack("[o]", t) : NULL);
        return;
    }
    case R_PRICE:
        call(m, K_FEES, "eth_feeHistory",
             json_pack("[ss[i]]", FEE_BLOCKS, "latest", FEE_PERCENTILE));
        return;
    case R_SEND:
        call(m, K_SEND, "eth_sendRawTransaction",
             json_pack("[o]", rollup_l1_data(q->raw, q->raw_len)));
        return;
    case R_WAIT:
        if (now < q->next_poll) {
            arm(m, q->next_poll - now);
            return;
        }
        if (q->has_rcpt)
            call(m, K_RECHECK, "eth_getTransactionReceipt",
                 json_pack("[o]", hash_json(q->rcpt.tx_hash)));
        else
            call(m, K_RECEIPT, "eth_getTransactionReceipt",
                 json_pack("[o]", hash_json(q->hashes[q->poll_idx])));
        return;
    }
}

static void wait_poll(rollup_txmgr *m, treq *q)
{
    q->st = R_WAIT;
    q->next_poll = now_ms(m) + m->o.poll_ms;
    arm(m, m->o.poll_ms);
}

static uint64_t twice(uint64_t x)
{
    uint64_t y;
    return __builtin_mul_overflow(x, 2, &y) ? UINT64_MAX : y;
}

/* A blob transaction's next attempt: the fresh rule, or for a replacement at
 * least twice every fee of the last attempt (what nodes require to replace
 * a blob transaction), within the caps. 0, or 1 when the caps leave no room
 * for a replacement. */
static int blob_prices(const rollup_txmgr *m, const treq *q, uint64_t blob_base, uint64_t *tip,
                       uint64_t *maxf, uint64_t *blobf)
{
    *blobf = twice(blob_base);
    if (*blobf == 0) *blobf = 1;
    if (q->nh) {
        if (*tip < twice(q->tip)) *tip = twice(q->tip);
        if (*maxf < twice(q->max_fee)) *maxf = twice(q->max_fee);
        if (*blobf < twice(q->blob_fee)) *blobf = twice(q->blob_fee);
    }
    if (*maxf > m->o.max_fee_wei) *maxf = m->o.max_fee_wei;
    if (*tip > *maxf) *tip = *maxf;
    if (*blobf > m->o.max_blob_fee_wei) *blobf = m->o.max_blob_fee_wei;
    return q->nh && (q->nh == MAX_ATTEMPTS || *maxf < twice(q->max_fee) || *tip < twice(q->tip) ||
                     *blobf < twice(q->blob_fee));
}

/* Signs the head's next attempt with these fees. */
static int sign_attempt(rollup_txmgr *m, treq *q, const rollup_eth_tx *tx, uint64_t blobf,
                        uint8_t **raw, size_t *raw_len, uint8_t h[32], util_err *err)
{
    if (!q->nblobs) return rollup_eth_tx_sign(tx, m->sk, raw, raw_len, h, err);
    const uint8_t *blobs[ROLLUP_BLOBS_PER_TX];
    for (size_t i = 0; i < q->nblobs; i++)
        blobs[i] = q->blobs + i * ROLLUP_BLOB_BYTES;
    rollup_eth_blobs bl = {
        .n = q->nblobs,
        .blobs = blobs,
        .commitments = (const uint8_t(*)[48])q->commitments,
        .proofs = (const uint8_t(*)[48])q->proofs,
        .max_fee_per_blob_gas = blobf,
    };
    return rollup_eth_tx_sign_blob(tx, &bl, m->sk, raw, raw_len, h, err);
}

/* Prices, signs and queues the broadcast of the head's next attempt
 * (blob_base: eth_blobBaseFee, for a blob request). */
static void on_fees(rollup_txmgr *m, treq *q, const rollup_l1_fees *f, uint64_t blob_base)
{
    util_err err = {0};
    uint64_t tip = f->tip, base2 = twice(f->next_base_fee), blobf = 0;
    uint64_t maxf;
    if (__builtin_add_overflow(base2, tip, &maxf)) maxf = UINT64_MAX;
    if (q->nblobs) {
        if (blob_prices(m, q, blob_base, &tip, &maxf, &blobf)) {
            if (!q->capped)
                LOG_WARN(MOD,
                         "nonce %" PRIu64 ": fee caps (%" PRIu64 " wei, blob %" PRIu64
                         " wei) reached, not replacing",
                         q->nonce, m->o.max_fee_wei, m->o.max_blob_fee_wei);
            q->capped = 1;
            q->sent_at = now_ms(m);
            wait_poll(m, q);
            return;
        }
    } else if (q->nh) {
        if (tip < bump(q->tip)) tip = bump(q->tip);
        if (maxf < bump(q->max_fee)) maxf = bump(q->max_fee);
    }
    if (maxf > m->o.max_fee_wei) maxf = m->o.max_fee_wei;
    if (tip > maxf) tip = maxf;
    if (!q->nblobs && q->nh &&
        (q->nh == MAX_ATTEMPTS || maxf < bump(q->max_fee) || tip < bump(q->tip))) {
        /* A replacement must pay 12.5% more on both fees; under the cap it
         * cannot: keep waiting for what was sent. */
        if (!q->capped)
            LOG_WARN(MOD, "nonce %" PRIu64 ": fee cap %" PRIu64 " wei reached, not replacing",
                     q->nonce, m->o.max_fee_wei);
        q->capped = 1;
        q->sent_at = now_ms(m);
        wait_poll(m, q);
        return;
    }
    if (!q->has_nonce) {
        q->nonce = m->next_nonce;
        q->has_nonce = 1;
    }
    rollup_eth_tx tx = {
        .chain_id = m->o.chain_id,
        .nonce = q->nonce,
        .max_priority_fee_per_gas = tip,
        .max_fee_per_gas = maxf,
        .gas_limit = q->gas_limit,
        .has_to = q->has_to,
        .to = q->to,
        .data = q->data,
        .data_len = q->len,
    };
    uint8_t *raw = NULL, h[32];
    size_t raw_len = 0;
    int rc = sign_attempt(m, q, &tx, blobf, &raw, &raw_len, h, &err);
    if (rc) {
        finish_head(m, rc, NULL, &err);
        return;
    }
    if (q->nh)
        LOG_INFO(MOD,
                 "nonce %" PRIu64 ": re-sending with maxFee %" PRIu64 " tip %" PRIu64
                 " blob fee %" PRIu64 " wei",
                 q->nonce, maxf, tip, blobf);
    free(q->raw);
    q->raw = raw;
    q->raw_len = raw_len;
    q->tip = tip;
    q->max_fee = maxf;
    q->blob_fee = blobf;
    memcpy(q->hashes[q->nh++], h, 32);
    q->st = R_SEND;
    step(m);
}

static int contains(const char *s, const char *w)
{
    return strstr(s, w) != NULL;
}

static void on_send(rollup_txmgr *m, treq *q, int rc, const util_err *err)
{
    if (rc == 0) {
        q->sent_at = now_ms(m);
        q->poll_idx = 0;
        wait_poll(m, q);
        return;
    }
    if (rc != UTIL_EINVAL) {
        /* It may or may not have arrived: send the same bytes again. */
        transient(m, err);
        return;
    }
    /* Refused. Node messages differ (geth, anvil, reth, erigon); lower case. */
    char msg[sizeof err->msg];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)(err->msg[i] >= 'A' && err->msg[i] <= 'Z' ? err->msg[i] + 32 : err->msg[i]);
    if (contains(msg, "already known") || contains(msg, "known transaction") ||
        contains(msg, "already imported") || contains(msg, "already exists")) {
        on_send(m, q, 0, NULL);
        return;
    }
    if (contains(msg, "nonce too low") || contains(msg, "nonce is too low") ||
        contains(msg, "oldnonce")) {
        /* An earlier attempt was mined (or another sender took the nonce):
         * the polling finds out which. */
        q->nonce_low = 1;
        on_send(m, q, 0, NULL);
        return;
    }
    if (q->nh > 1 || contains(msg, "underpriced")) {
        /* An earlier attempt is out there, or the fee was too low: wait,
         * then bump. */
        LOG_WARN(MOD, "%s", err->msg);
        on_send(m, q, 0, NULL);
        return;
    }
    finish_head(m, rc, NULL, err);
}

static void on_receipt(rollup_txmgr *m, treq *q, json_t *result)
{
    util_err err = {0};
    if (!json_is_null(result)) {
        rollup_l1_receipt r;
        int rc = rollup_l1_parse_receipt(result, &r, &err);
        if (!rc && memcmp(r.tx_hash, q->hashes[q->poll_idx], 32) != 0)
            rc = util_err_set(&err, UTIL_EIO, "L1 answer: a receipt of another transaction");
        if (rc) {
            transient(m, &err);
            return;
        }
        q->rcpt = r;
        q->has_rcpt = 1;
        call(m, K_HEAD, "eth_blockNumber", json_array());
        return;
    }
    if (++q->poll_idx < q->nh) {
        step(m);
        return;
    }
    q->poll_idx = 0;
    /* Unmined for resubmit_ms: before bumping, check that the nonce is still
     * the account's next one (an L1 reorganisation deeper than the
     * confirmations may have dropped earlier transactions). */
    if (q->nonce_low || now_ms(m) - q->sent_at >= m->o.resubmit_ms) {
        call(m, K_NONCE_CHECK, "eth_getTransactionCount",
             json_pack("[os]", addr_json(&m->addr), "latest"));
        return;
    }
    wait_poll(m, q);
}

static void on_recheck(rollup_txmgr *m, treq *q, json_t *result)
{
    util_err err = {0};
    rollup_l1_receipt r;
    if (json_is_null(result)) {
        /* The block that held it was reorganised away. */
        LOG_WARN(MOD, "nonce %" PRIu64 ": receipt gone (L1 reorganisation), sending again",
                 q->nonce);
        q->has_rcpt = 0;
        q->nonce_low = 0;
        q->st = R_SEND;
        step(m);
        return;
    }
    int rc = rollup_l1_parse_receipt(result, &r, &err);
    if (!rc && memcmp(r.tx_hash, q->rcpt.tx_hash, 32) != 0)
        rc = util_err_set(&err, UTIL_EIO, "L1 answer: a receipt of another transaction");
    if (rc) {
        transient(m, &err);
        return;
    }
    q->rcpt = r; /* possibly in another block now */
    call(m, K_HEAD, "eth_blockNumber", json_array());
}

static void on_head(rollup_txmgr *m, treq *q, uint64_t head)
{
    uint64_t need = m->o.confirmations ? m->o.confirmations : 1;
    uint64_t depth = head >= q->rcpt.block_number ? head - q->rcpt.block_number + 1 : 0;
    if (depth < need) {
        wait_poll(m, q);
        return;
    }
    rollup_l1_receipt r = q->rcpt;
    if (r.status == 1) {
        finish_head(m, 0, &r, NULL);
        return;
    }
    util_err err;
    util_err_fill(&err, UTIL_EINVAL, "L1 transaction reverted in block %" PRIu64, r.block_number);
    finish_head(m, UTIL_EINVAL, &r, &err);
}

static void on_op(void *ctx, int rc, json_t *result, const util_err *err)
{
    op *o = ctx;
    rollup_txmgr *m = o->m;
    kind k = o->k;
    free(o);
    if (!m) return; /* the manager closed meanwhile */
    m->op = NULL;
    treq *q = m->head;
    util_err perr = {0};
    uint64_t v = 0;
    if (k == K_SEND) {
        on_send(m, q, rc, err);
        return;
    }
    if (k == K_ESTIMATE && rc == UTIL_EINVAL) {
        util_err e = *err;
        util_err_prefix(&e, "gas estimation refused: ");
        finish_head(m, rc, NULL, &e);
        return;
    }
    if (rc) {
        transient(m, err);
        return;
    }
    m->fail_since = 0;
    switch (k) {
    case K_CHAIN:
    case K_COUNT_LATEST:
    case K_COUNT_PENDING:
    case K_ESTIMATE:
    case K_HEAD:
    case K_NONCE_CHECK:
    case K_BLOB_FEE:
        if (rollup_l1_parse_u64(result, &v, "quantity", &perr)) {
            transient(m, &perr);
            return;
        }
        break;
    default: break;
    }
    switch (k) {
    case K_CHAIN:
        if (v != m->o.chain_id) {
            util_err_fill(&m->fatal, UTIL_EINVAL,
                          "the L1 endpoint's chain id is %" PRIu64 ", expected %" PRIu64, v,
                          m->o.chain_id);
            LOG_ERROR(MOD, "%s", m->fatal.msg);
            m->phase = M_FATAL;
        } else {
            m->phase = M_NONCE_LATEST;
        }
        step(m);
        return;
    case K_COUNT_LATEST:
        m->latest = v;
        if (m->phase == M_NONCE_LATEST) {
            m->phase = M_NONCE_PENDING;
            step(m);
        } else if (v >= m->pending_target) {
            m->next_nonce = v;
            m->phase = M_READY;
            step(m);
        } else {
            arm(m, m->o.poll_ms);
        }
        return;
    case K_COUNT_PENDING:
        if (v > m->latest) {
            LOG_INFO(MOD, "waiting for %" PRIu64 " pending L1 transaction(s) of a previous run",
                     v - m->latest);
            m->pending_target = v;
            m->phase = M_WAIT_PENDING;
            arm(m, m->o.poll_ms);
        } else {
            m->next_nonce = m->latest;
            m->phase = M_READY;
            step(m);
        }
        return;
    case K_ESTIMATE:
        q->gas_limit = v + v / 5;
        if (q->gas_limit < v) q->gas_limit = UINT64_MAX;
        q->st = R_PRICE;
        step(m);
        return;
    case K_FEES: {
        rollup_l1_fees f;
        if (rollup_l1_parse_fee_history(result, &f, &perr)) {
            transient(m, &perr);
            return;
        }
        if (q->nblobs) {
            q->fees = f;
            call(m, K_BLOB_FEE, "eth_blobBaseFee", json_array());
            return;
        }
        on_fees(m, q, &f, 0);
        return;
    }
    case K_BLOB_FEE: on_fees(m, q, &q->fees, v); return;
    case K_RECEIPT: on_receipt(m, q, result); return;
    case K_RECHECK: on_recheck(m, q, result); return;
    case K_HEAD: on_head(m, q, v); return;
    case K_NONCE_CHECK:
        q->nonce_low = 0;
        if (v < q->nonce) {
            /* Transactions below ours were reorganised away: ours can never
             * be mined. Start over with the account's next nonce (their
             * senders see their own receipts gone and send again). */
            LOG_WARN(MOD,
                     "nonce %" PRIu64 " is ahead of the account's %" PRIu64
                     " (L1 reorganisation): using %" PRIu64,
                     q->nonce, v, v);
            m->next_nonce = v;
            q->has_nonce = 0;
            q->nh = 0;
            q->tip = q->max_fee = q->blob_fee = 0;
            q->st = R_PRICE;
            step(m);
            return;
        }
        if (v > q->nonce) {
            /* None of our attempts is mined, yet the nonce is used: another
             * sender took it. Start over with the next free nonce. */
            LOG_WARN(MOD, "nonce %" PRIu64 " taken by another transaction, using %" PRIu64,
                     q->nonce, v);
            m->next_nonce = v;
            q->has_nonce = 0;
            q->nh = 0;
            q->tip = q->max_fee = q->blob_fee = 0;
            q->st = R_PRICE;
            step(m);
            return;
        }
        if (now_ms(m) - q->sent_at >= m->o.resubmit_ms) {
            q->st = R_PRICE;
            step(m);
            return;
        }
        wait_poll(m, q);
        return;
    default: return;
    }
}

int rollup_txmgr_new(rollup_txmgr **out, rollup_l1 *l1, const uint8_t sk[32],
                     const rollup_txmgr_opts *opts, util_err *err)
{
    if (!opts || !opts->chain_id)
        return util_err_set(err, UTIL_EINVAL, "tx manager: no L1 chain id");
    rollup_txmgr *m = calloc(1, sizeof *m);
    if (!m) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = rollup_eth_addr_from_seckey(&m->addr, sk, err);
    if (rc) {
        free(m);
        return rc;
    }
    m->l1 = l1;
    m->loop = rollup_l1_loop(l1);
    memcpy(m->sk, sk, 32);
    m->o = *opts;
    if (!m->o.poll_ms) m->o.poll_ms = 500;
    if (!m->o.resubmit_ms) m->o.resubmit_ms = 12000;
    if (!m->o.max_fee_wei) m->o.max_fee_wei = 500ull * 1000 * 1000 * 1000;
    if (!m->o.max_blob_fee_wei) m->o.max_blob_fee_wei = 500ull * 1000 * 1000 * 1000;
    if (!m->o.give_up_ms) m->o.give_up_ms = 120000;
    if (uv_timer_init(m->loop, &m->timer)) {
        free(m);
        return util_err_set(err, UTIL_EIO, "tx manager: cannot start a timer");
    }
    m->timer.data = m;
    m->phase = M_CHAIN;
    arm(m, 0);
    *out = m;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void rollup_txmgr_close(rollup_txmgr *m)
{
    if (!m || m->closing) return;
    m->closing = 1;
    volatile uint8_t *p = m->sk;
    for (size_t i = 0; i < sizeof m->sk; i++)
        p[i] = 0;
    if (m->op) m->op->m = NULL;
    m->op = NULL;
    util_err err;
    util_err_fill(&err, UTIL_ESTATE, "the L1 transaction manager closed");
    while (m->head) {
        treq *q = m->head;
        m->head = q->next;
        m->nreq--;
        q->cb(q->ctx, UTIL_ESTATE, NULL, &err);
        treq_free(q);
    }
    m->tail = NULL;
    uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, on_closed);
}

const rollup_eth_addr *rollup_txmgr_address(const rollup_txmgr *m)
{
    return &m->addr;
}

size_t rollup_txmgr_pending(const rollup_txmgr *m)
{
    return m->nreq;
}

/* A new request with a copy of data, not queued yet. */
static int treq_new(rollup_txmgr *m, treq **out, const rollup_eth_addr *to, const uint8_t *data,
                    size_t len, uint64_t gas_limit, rollup_txmgr_cb cb, void *ctx, util_err *err)
{
    if (m->closing) return util_err_set(err, UTIL_ESTATE, "the L1 transaction manager is closing");
    if (m->phase == M_FATAL) {
        if (err) *err = m->fatal;
        return m->fatal.code;
    }
    treq *q = calloc(1, sizeof *q);
    if (!q || (len && !(q->data = malloc(len)))) {
        free(q);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    if (len) memcpy(q->data, data, len);
    q->len = len;
    q->has_to = to != NULL;
    if (to) q->to = *to;
    q->gas_limit = gas_limit;
    q->cb = cb;
    q->ctx = ctx;
    q->st = R_GAS;
    *out = q;
    return 0;
}

static void enqueue(rollup_txmgr *m, treq *q)
{
    if (m->tail)
        m->tail->next = q;
    else
        m->head = q;
    m->tail = q;
    m->nreq++;
    if (!m->op && m->head == q) arm(m, 0);
}

int rollup_txmgr_send(rollup_txmgr *m, const rollup_eth_addr *to, const uint8_t *data, size_t len,
                      uint64_t gas_limit, rollup_txmgr_cb cb, void *ctx, util_err *err)
{
    treq *q = NULL;
    int rc = treq_new(m, &q, to, data, len, gas_limit, cb, ctx, err);
    if (rc) return rc;
    enqueue(m, q);
    return 0;
}

int rollup_txmgr_send_blobs(rollup_txmgr *m, const rollup_eth_addr *to, const uint8_t *data,
                            size_t len, uint64_t gas_limit, const uint8_t *const *blobs,
                            const uint8_t (*commitments)[48], const uint8_t (*proofs)[48],
                            size_t nblobs, rollup_txmgr_cb cb, void *ctx, util_err *err)
{
    if (!to) return util_err_set(err, UTIL_EINVAL, "a blob transaction needs a recipient");
    if (nblobs < 1 || nblobs > ROLLUP_BLOBS_PER_TX)
        return util_err_set(err, UTIL_EINVAL, "%zu blobs in one transaction, not 1 to %d", nblobs,
                            ROLLUP_BLOBS_PER_TX);
    treq *q = NULL;
    int rc = treq_new(m, &q, to, data, len, gas_limit, cb, ctx, err);
    if (rc) return rc;
    q->blobs = malloc(nblobs * ROLLUP_BLOB_BYTES);
    if (!q->blobs) {
        treq_free(q);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    q->nblobs = nblobs;
    for (size_t i = 0; i < nblobs; i++) {
        memcpy(q->blobs + i * ROLLUP_BLOB_BYTES, blobs[i], ROLLUP_BLOB_BYTES);
        memcpy(q->commitments[i], commitments[i], 48);
        memcpy(q->proofs[i], proofs[i], 48);
        rollup_kzg_versioned_hash(commitments[i], q->vhashes[i]);
    }
    enqueue(m, q);
    return 0;
}
