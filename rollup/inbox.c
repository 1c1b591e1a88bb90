/* Scanning the BatchInbox for the L2 heights already on the L1: logs, then
 * the calldata of the logged transactions, reassembled and decoded
 * (rollup/inbox.h). */
#include "rollup/inbox.h"

#include <stdlib.h>
#include <string.h>

#include "rollup/batch.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/keccak.h"

typedef struct scan_log {
    uint64_t block;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
} scan_log;

typedef struct scan {
    rollup_l1 *l1;
    rollup_config cfg;
    rollup_inbox_cb cb;
    void *ctx;
    uint64_t head, from;
    scan_log *logs;
    size_t nlogs, caplogs, li;
    rollup_assembler *as;
    rollup_inbox_batch *batches;
    size_t nb, capb;
} scan;

void rollup_inbox_topic(uint8_t out[32])
{
    static const char sig[] = "BatchPosted(address,bytes32)";
    rollup_keccak256(out, sig, sizeof sig - 1);
}

uint64_t rollup_inbox_next(const rollup_inbox_batch *b, size_t n, size_t *last_used)
{
    uint64_t next = 1;
    size_t used = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (b[i].first <= next && b[i].last >= next) {
            next = b[i].last + 1;
            used = i;
        }
    }
    if (last_used) *last_used = used;
    return next;
}

static void scan_free(scan *s)
{
    rollup_asm_free(s->as);
    free(s->logs);
    free(s->batches);
    free(s);
}

static void scan_fail(scan *s, int rc, const util_err *err)
{
    s->cb(s->ctx, rc, NULL, 0, 0, err);
    scan_free(s);
}

static void scan_failf(scan *s, int rc, const char *msg)
{
    util_err e = {0};
    util_err_set(&e, rc, "inbox scan: %s", msg);
    scan_fail(s, rc, &e);
}

static void scan_done(scan *s)
{
    s->cb(s->ctx, 0, s->batches, s->nb, s->head, NULL);
    scan_free(s);
}

static void request_logs(scan *s);
static void request_block(scan *s);

static void call_or_fail(scan *s, const char *method, json_t *params, rollup_l1_cb cb)
{
    util_err e = {0};
    int rc = params ? rollup_l1_call(s->l1, method, params, cb, s, &e) : UTIL_ENOMEM;
    json_decref(params);
    if (rc) {
        if (!params) util_err_set(&e, rc, "out of memory");
        scan_fail(s, rc, &e);
    }
}

static void on_head(void *ctx, int rc, json_t *result, const util_err *err)
{
    scan *s = ctx;
    if (rc) return scan_fail(s, rc, err);
    util_err e = {0};
    if ((rc = rollup_l1_parse_u64(result, &s->head, "eth_blockNumber", &e)))
        return scan_fail(s, rc, &e);
    if (s->head < s->cfg.deploy_block) return scan_done(s);
    s->from = s->cfg.deploy_block;
    request_logs(s);
}

static void on_logs(void *ctx, int rc, json_t *result, const util_err *err)
{
    scan *s = ctx;
    if (rc) return scan_fail(s, rc, err);
    rollup_l1_log *logs = NULL;
    size_t n = 0;
    util_err e = {0};
    if ((rc = rollup_l1_parse_logs(result, ROLLUP_INBOX_MAX_LOGS, 256, &logs, &n, &e)))
        return scan_fail(s, rc, &e);
    for (size_t i = 0; i < n; i++) {
        if (logs[i].removed) continue;
        if (s->nlogs == s->caplogs) {
            size_t cap = s->caplogs ? 2 * s->caplogs : 64;
            scan_log *p = realloc(s->logs, cap * sizeof *p);
            if (!p) {
                rollup_l1_logs_free(logs, n);
                return scan_failf(s, UTIL_ENOMEM, "out of memory");
            }
            s->logs = p;
            s->caplogs = cap;
        }
        scan_log *l = &s->logs[s->nlogs++];
        l->block = logs[i].block_number;
        memcpy(l->block_hash, logs[i].block_hash, 32);
        memcpy(l->tx_hash, logs[i].tx_hash, 32);
    }
    rollup_l1_logs_free(logs, n);
    uint64_t to = s->from + ROLLUP_INBOX_LOG_RANGE - 1;
    if (to >= s->head) {
        s->li = 0;
        return request_block(s);
    }
    s->from = to + 1;
    request_logs(s);
}

static void request_logs(scan *s)
{
    uint64_t to = s->from + ROLLUP_INBOX_LOG_RANGE - 1;
    if (to > s->head) to = s->head;
    uint8_t topic0[32], topic1[32] = {0};
    rollup_inbox_topic(topic0);
    memcpy(topic1 + 12, s->cfg.batcher.b, 20);
    json_t *filter =
        json_pack("{s:o, s:o, s:o, s:[o,o]}", "address", rollup_l1_address(&s->cfg.batch_inbox),
                  "fromBlock", rollup_l1_quantity(s->from), "toBlock", rollup_l1_quantity(to),
                  "topics", rollup_l1_data(topic0, 32), rollup_l1_data(topic1, 32));
    call_or_fail(s, "eth_getLogs", filter ? json_pack("[o]", filter) : NULL, on_logs);
}

static int push_batch(scan *s, const rollup_batch *b, uint64_t l1_block, const uint8_t hash[32],
                      const uint8_t txh[32], uint32_t frames)
{
    if (s->nb == s->capb) {
        size_t cap = s->capb ? 2 * s->capb : 32;
        rollup_inbox_batch *p = realloc(s->batches, cap * sizeof *p);
        if (!p) return UTIL_ENOMEM;
        s->batches = p;
        s->capb = cap;
    }
    rollup_inbox_batch *o = &s->batches[s->nb++];
    o->first = b->first;
    o->last = b->first + b->count - 1;
    o->l1_block = l1_block;
    memcpy(o->l1_block_hash, hash, 32);
    memcpy(o->tx_hash, txh, 32);
    o->frames = frames;
    return 0;
}

/* One logged post(bytes) call: a frame for the assembler. Anything that is
 * not a well-formed frame of a decodable channel is skipped, as derivation
 * skips it; only memory exhaustion fails the scan. */
static int take_frame(scan *s, const rollup_l1_block *blk, const rollup_l1_tx *tx)
{
    static uint8_t sel[4];
    static int sel_set;
    if (!sel_set) {
        rollup_abi_selector(sel, "post(bytes)");
        sel_set = 1;
    }
    if (!tx->has_to || memcmp(tx->to.b, s->cfg.batch_inbox.b, 20) != 0 ||
        memcmp(tx->from.b, s->cfg.batcher.b, 20) != 0 || tx->input_len < 4 ||
        memcmp(tx->input, sel, 4) != 0)
        return 0;
    const uint8_t *p;
    size_t n;
    rollup_frame f;
    if (rollup_abi_bytes(tx->input + 4, tx->input_len - 4, 0, &p, &n, NULL) ||
        rollup_frame_parse(&f, p, n, NULL))
        return 0;
    uint8_t *chan = NULL;
    size_t clen = 0;
    util_err e = {0};
    int rc = rollup_asm_add(s->as, blk->number, &f, &chan, &clen, &e);
    if (rc == UTIL_ENOMEM) return rc;
    if (rc || !chan) return 0;
    rollup_batch b;
    memset(&b, 0, sizeof b);
    rc = rollup_batch_decode(chan, clen, &b, &e);
    free(chan);
    if (rc == UTIL_ENOMEM) return rc;
    if (rc) return 0;
    if (memcmp(b.genesis_hash, s->cfg.l2_genesis_hash, 32) == 0 && b.count > 0)
        rc = push_batch(s, &b, blk->number, blk->hash, tx->hash, f.total);
    rollup_batch_free(&b);
    return rc;
}

static void on_block(void *ctx, int rc, json_t *result, const util_err *err)
{
    scan *s = ctx;
    if (rc) return scan_fail(s, rc, err);
    if (json_is_null(result))
        return scan_failf(s, UTIL_ESTATE, "a block with batches disappeared (L1 reorganisation)");
    rollup_l1_block blk;
    memset(&blk, 0, sizeof blk);
    util_err e = {0};
    if ((rc = rollup_l1_parse_block(result, 1, ROLLUP_FRAME_MAX + 1024, &blk, &e)))
        return scan_fail(s, rc, &e);
    size_t lj = s->li;
    while (lj < s->nlogs && s->logs[lj].block == s->logs[s->li].block)
        lj++;
    if (blk.number != s->logs[s->li].block ||
        memcmp(blk.hash, s->logs[s->li].block_hash, 32) != 0) {
        rollup_l1_block_free(&blk);
        return scan_failf(s, UTIL_ESTATE, "a block changed during the scan (L1 reorganisation)");
    }
    for (size_t t = 0; t < blk.ntx && rc == 0; t++) {
        for (size_t k = s->li; k < lj; k++) {
            if (memcmp(blk.txs[t].hash, s->logs[k].tx_hash, 32) == 0) {
                rc = take_frame(s, &blk, &blk.txs[t]);
                break;
            }
        }
    }
    rollup_l1_block_free(&blk);
    if (rc) return scan_failf(s, rc, "out of memory");
    s->li = lj;
    request_block(s);
}

static void request_block(scan *s)
{
    if (s->li >= s->nlogs) return scan_done(s);
    call_or_fail(s, "eth_getBlockByNumber",
                 json_pack("[o,b]", rollup_l1_quantity(s->logs[s->li].block), 1), on_block);
}

int rollup_inbox_scan(rollup_l1 *l1, const rollup_config *cfg, rollup_inbox_cb cb, void *ctx,
                      util_err *err)
{
    scan *s = calloc(1, sizeof *s);
    if (!s) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    s->l1 = l1;
    s->cfg = *cfg;
    s->cb = cb;
    s->ctx = ctx;
    int rc = rollup_asm_new(&s->as, cfg->channel_timeout_blocks, err);
    if (rc) {
        free(s);
        return rc;
    }
    rc = rollup_l1_call(l1, "eth_blockNumber", NULL, on_head, s, err);
    if (rc) scan_free(s);
    return rc;
}

typedef struct sync_out {
    int done, rc;
    util_err err;
    rollup_inbox_batch *b;
    size_t n;
    uint64_t head;
} sync_out;

static void on_sync(void *ctx, int rc, const rollup_inbox_batch *b, size_t n, uint64_t head,
                    const util_err *err)
{
    sync_out *o = ctx;
    o->done = 1;
    o->rc = rc;
    if (rc) {
        if (err) o->err = *err;
        return;
    }
    o->head = head;
    if (n) {
        o->b = malloc(n * sizeof *b);
        if (!o->b) {
            o->rc = util_err_set(&o->err, UTIL_ENOMEM, "out of memory");
            return;
        }
        memcpy(o->b, b, n * sizeof *b);
        o->n = n;
    }
}

int rollup_inbox_scan_sync(const char *url, const rollup_config *cfg, rollup_inbox_batch **out,
                           size_t *n, uint64_t *l1_head, util_err *err)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop)) return util_err_set(err, UTIL_EIO, "cannot create an event loop");
    rollup_l1 *l1 = NULL;
    sync_out o = {0};
    int rc = rollup_l1_new(&l1, &loop, url, NULL, err);
    if (!rc) rc = rollup_inbox_scan(l1, cfg, on_sync, &o, err);
    if (!rc) {
        while (!o.done && uv_run(&loop, UV_RUN_ONCE))
            ;
        rc = o.done ? o.rc : util_err_set(&o.err, UTIL_EIO, "inbox scan did not finish");
        if (rc && err) *err = o.err;
    }
    rollup_l1_close(l1);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop)) { /* a handle still open: leak it rather than crash */
    }
    if (rc) {
        free(o.b);
        return rc;
    }
    *out = o.b;
    *n = o.n;
    if (l1_head) *l1_head = o.head;
    return 0;
}
