/* Derivation's L1 side: the steps that follow the L1 head (latest block,
 * reorganisation check, logs of a bounded range, the blocks of the posting
 * transactions, read ahead by derive_fetch.c), the walk back after an L1
 * reorganisation, and the status (rollup/derive.h). What the logs carry is
 * handled in derive_apply.c, blob posts in derive_blobs.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/derive_blobs.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/keccak.h"
#include "util/bytes.h"
#include "util/hex.h"
#include "util/log.h"

uint8_t derive_topic_batch[32], derive_topic_output[32], derive_topic_frozen[32];

static void step_later(rollup_derive *d, uint64_t ms);
static void start_reorg(rollup_derive *d);

void derive_lock(rollup_derive *d)
{
    if (d->o.lock) d->o.lock(d->o.ctx);
}

void derive_unlock(rollup_derive *d)
{
    if (d->o.unlock) d->o.unlock(d->o.ctx);
}

void derive_halt(rollup_derive *d, const char *fmt, ...)
{
    if (d->s.halted) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->s.halt_reason, sizeof d->s.halt_reason, fmt, ap);
    va_end(ap);
    d->s.halted = 1;
    LOG_ERROR("derive",
              "derivation halted at L2 height %llu: %s (the node keeps serving its state; see "
              "docs/rollup.md, \"Derivation\")",
              (unsigned long long)chain_store_height(d->st), d->s.halt_reason);
}

typedef struct origin_rd {
    int found, bad;
    uint64_t n;
    uint8_t h[32];
} origin_rd;

static int origin_visit(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)key, (void)klen;
    origin_rd *r = ctx;
    if (vlen != 40) {
        r->bad = 1;
        return 1;
    }
    r->found = 1;
    r->n = util_get_u64le(val);
    memcpy(r->h, val + 8, 32);
    return 1;
}

int rollup_derive_origin(chain_store *st, uint64_t height, uint64_t *l1_number, uint8_t l1_hash[32],
                         util_err *err)
{
    uint8_t ix[CHAIN_IXKEY_L1_ORIGIN_LEN], key[CHAIN_DBKEY_MAX];
    chain_ixkey_l1_origin(ix, height);
    size_t kl = chain_dbkey_index(key, ix, sizeof ix);
    origin_rd r = {0};
    int rc = chain_store_scan(st, key, kl, NULL, 0, 0, 1, origin_visit, &r, err);
    if (rc) return rc;
    if (r.bad)
        return util_err_set(err, UTIL_EIO, "malformed L1 origin record at L2 height %llu",
                            (unsigned long long)height);
    if (!r.found)
        return util_err_set(err, UTIL_ENOTFOUND, "no L1 origin recorded for L2 height %llu",
                            (unsigned long long)height);
    *l1_number = r.n;
    memcpy(l1_hash, r.h, 32);
    return 0;
}

/* --- calls ------------------------------------------------------------- */

int derive_l1_call(rollup_derive *d, const char *method, json_t *params, rollup_l1_cb cb, void *ctx,
                   util_err *err)
{
    return d->o.call ? d->o.call(d->o.call_ctx, method, params, cb, ctx, err)
                     : rollup_l1_call(d->l1, method, params, cb, ctx, err);
}

/* A call of the step itself: one at a time, d->inflight while it runs. */
static int l1_call(rollup_derive *d, const char *method, json_t *params, rollup_l1_cb cb,
                   util_err *err)
{
    int rc = derive_l1_call(d, method, params, cb, d, err);
    if (rc == 0) d->inflight = 1;
    return rc;
}

static void maybe_free(rollup_derive *d)
{
    if (!d->closing || d->inflight || !d->timer_closed) return;
    derive_fetch_clear(d);
    rollup_l1_logs_free(d->logs, d->nlogs);
    if (d->has_blk) rollup_l1_block_free(&d->blk);
    derive_blobs_clear(d);
    rollup_asm_free(d->as);
    free(d->outs);
    free(d);
}

/* Every answer goes through here first: 1 when the step goes on. */
static int answer(rollup_derive *d, int rc, const util_err *err, const char *what)
{
    d->inflight = 0;
    if (d->closing) {
        maybe_free(d);
        return 0;
    }
    if (rc) {
        snprintf(d->s.last_error, sizeof d->s.last_error, "%s: %s", what, err ? err->msg : "?");
        LOG_WARN("derive", "L1 %s failed: %s; retrying", what, err ? err->msg : "?");
        step_later(d, d->o.poll_ms);
        return 0;
    }
    return 1;
}

int derive_back(rollup_derive *d)
{
    d->inflight = 0;
    if (d->closing) {
        maybe_free(d);
        return 0;
    }
    return 1;
}

static void fail_call(rollup_derive *d, const util_err *err, const char *what)
{
    snprintf(d->s.last_error, sizeof d->s.last_error, "%s: %s", what, err->msg);
    LOG_WARN("derive", "L1 %s failed: %s; retrying", what, err->msg);
    step_later(d, d->o.poll_ms);
}

static int get_block(rollup_derive *d, uint64_t number, int full, rollup_l1_cb cb, util_err *err)
{
    json_t *p = json_pack("[o,b]", rollup_l1_quantity(number), full);
    if (!p) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = l1_call(d, "eth_getBlockByNumber", p, cb, err);
    json_decref(p);
    return rc;
}

/* --- a step -------------------------------------------------------------- */

static void step(rollup_derive *d);

static void on_timer(uv_timer_t *t)
{
    rollup_derive *d = t->data;
    if (!d->closing && !d->s.halted) step(d);
}

static void step_later(rollup_derive *d, uint64_t ms)
{
    if (d->closing || d->s.halted) return;
    uv_timer_start(&d->timer, on_timer, ms, 0);
}

/* Forgets the step's logs, its block at hand and what the queue holds. */
static void drop_step(rollup_derive *d)
{
    derive_fetch_clear(d);
    rollup_l1_logs_free(d->logs, d->nlogs);
    d->logs = NULL;
    d->nlogs = d->li = 0;
    if (d->has_blk) rollup_l1_block_free(&d->blk);
    d->has_blk = 0;
    derive_blobs_clear(d);
}

static void step_done(rollup_derive *d)
{
    drop_step(d);
    d->cursor = d->to;
    memcpy(d->cursor_hash, d->to_hash, 32);
    d->has_cursor_hash = 1;
    d->s.l1_scanned = d->to;
    d->s.last_error[0] = 0;
    derive_check_outputs(d);
    derive_update_heads(d);
    /* A range that went well lets the next one grow back. */
    uint32_t max = d->o.max_range ? d->o.max_range : ROLLUP_DERIVE_MAX_RANGE;
    if (d->range < max) d->range = d->range * 2 < max ? d->range * 2 : max;
    step_later(d, d->cursor < d->s.l1_head ? 0 : d->o.poll_ms);
}

static void next_log(rollup_derive *d);

void derive_resume(rollup_derive *d)
{
    next_log(d);
}

static void on_resume(uv_timer_t *t)
{
    rollup_derive *d = t->data;
    if (!d->closing && !d->s.halted) next_log(d);
}

void derive_retry_later(rollup_derive *d, const char *what, const util_err *err)
{
    snprintf(d->s.last_error, sizeof d->s.last_error, "%s: %s", what, err ? err->msg : "?");
    LOG_WARN("derive", "%s failed: %s; retrying", what, err ? err->msg : "?");
    /* The log's block is fetched again: a reorganisation meanwhile is seen
     * there (its hash is compared with the log's). */
    derive_blobs_clear(d);
    if (d->has_blk) rollup_l1_block_free(&d->blk);
    d->has_blk = 0;
    if (d->closing || d->s.halted) return;
    uv_timer_start(&d->timer, on_resume, d->o.poll_ms, 0);
}

/* Handles the logs in L1 order, taking a posting transaction's block from
 * the fetch queue (derive_fetch.c) when it is not the one at hand. */
static void next_log(rollup_derive *d)
{
    util_err e = {0};
    while (d->li < d->nlogs && !d->s.halted) {
        rollup_l1_log *lg = &d->logs[d->li];
        if (lg->removed || lg->ntopics == 0) {
            d->li++;
            continue;
        }
        if (memcmp(lg->address.b, d->cfg.output_oracle.b, 20) == 0) {
            derive_oracle_log(d, lg);
            d->li++;
            continue;
        }
        int blob = memcmp(lg->topics[0], derive_topic_blob, 32) == 0;
        if (memcmp(lg->address.b, d->cfg.batch_inbox.b, 20) != 0 ||
            (!blob && memcmp(lg->topics[0], derive_topic_batch, 32) != 0)) {
            d->li++;
            continue;
        }
        if (!d->has_blk || d->blk.number != lg->block_number ||
            memcmp(d->blk.hash, lg->block_hash, 32) != 0) {
            if (d->has_blk) rollup_l1_block_free(&d->blk);
            d->has_blk = 0;
            derive_blobs_clear(d);
            int rc = derive_fetch_take(d, &e);
            if (rc == DERIVE_FETCH_WAIT) return;
            if (rc == DERIVE_FETCH_REORG) start_reorg(d); /* the block went away, or changed */
            if (rc == DERIVE_FETCH_L1) fail_call(d, &e, "eth_getBlockByNumber (full)");
            if (rc == DERIVE_FETCH_BEACON) derive_retry_later(d, "beacon blobs", &e);
            if (rc) return;
            continue;
        }
        int rc = blob ? derive_blob_log(d, lg) : derive_post(d, lg);
        if (rc == DERIVE_BLOBS_WAIT) return;
        if (rc == UTIL_ESTATE) {
            start_reorg(d);
            return;
        }
        d->li++;
    }
    if (d->s.halted) {
        derive_fetch_clear(d);
        derive_update_heads(d);
        return;
    }
    step_done(d);
}

static void on_logs(void *ctx, int rc, json_t *res, const util_err *err)
{
    rollup_derive *d = ctx;
    if (!answer(d, rc, err, "eth_getLogs")) return;
    util_err e = {0};
    drop_step(d); /* what a step that failed half way left */
    if (rollup_l1_parse_logs(res, ROLLUP_DERIVE_MAX_LOGS, 4096, &d->logs, &d->nlogs, &e)) {
        /* Too many logs for one answer: read a smaller range. */
        if (d->range > 1) d->range /= 2;
        fail_call(d, &e, "eth_getLogs");
        return;
    }
    d->li = 0;
    next_log(d);
}

static void get_logs(rollup_derive *d)
{
    util_err e = {0};
    json_t *addrs = json_array(), *topics = json_array(), *t0 = json_array();
    char h[67] = "0x";
    const uint8_t *ts[4] = {derive_topic_batch, derive_topic_blob, derive_topic_output,
                            derive_topic_frozen};
    for (int i = 0; i < 4; i++) {
        util_hex_encode(h + 2, ts[i], 32);
        json_array_append_new(t0, json_string(h));
    }
    json_array_append_new(addrs, rollup_l1_address(&d->cfg.batch_inbox));
    json_array_append_new(addrs, rollup_l1_address(&d->cfg.output_oracle));
    json_array_append_new(topics, t0);
    json_t *p = json_pack("[{s:o,s:o,s:o,s:o}]", "fromBlock", rollup_l1_quantity(d->cursor + 1),
                          "toBlock", rollup_l1_quantity(d->to), "address", addrs, "topics", topics);
    if (!p) {
        util_err_set(&e, UTIL_ENOMEM, "out of memory");
        fail_call(d, &e, "eth_getLogs");
        return;
    }
    if (l1_call(d, "eth_getLogs", p, on_logs, &e)) fail_call(d, &e, "eth_getLogs");
    json_decref(p);
}

static void on_to(void *ctx, int rc, json_t *res, const util_err *err)
{
    rollup_derive *d = ctx;
    if (!answer(d, rc, err, "eth_getBlockByNumber")) return;
    util_err e = {0};
    rollup_l1_block b;
    if (json_is_null(res)) {
        step_later(d, d->o.poll_ms); /* shorter chain than a moment ago: try again */
        return;
    }
    if (rollup_l1_parse_block(res, 0, 0, &b, &e)) {
        fail_call(d, &e, "eth_getBlockByNumber");
        return;
    }
    memcpy(d->to_hash, b.hash, 32);
    rollup_l1_block_free(&b);
    get_logs(d);
}

/* The cursor's block still has the hash it had: read the next range. */
static void plan(rollup_derive *d)
{
    util_err e = {0};
    uint64_t head = d->s.l1_head;
    if (head <= d->cursor) {
        derive_check_outputs(d);
        derive_update_heads(d);
        d->s.last_error[0] = 0;
        step_later(d, d->o.poll_ms);
        return;
    }
    d->to = head - d->cursor > d->range ? d->cursor + d->range : head;
    if (d->to == d->latest_hash_num) {
        memcpy(d->to_hash, d->latest_hash, 32);
        get_logs(d);
        return;
    }
    if (get_block(d, d->to, 0, on_to, &e)) fail_call(d, &e, "eth_getBlockByNumber");
}

static void on_cursor(void *ctx, int rc, json_t *res, const util_err *err)
{
    rollup_derive *d = ctx;
    if (!answer(d, rc, err, "eth_getBlockByNumber")) return;
    util_err e = {0};
    rollup_l1_block b;
    if (json_is_null(res)) {
        start_reorg(d);
        return;
    }
    if (rollup_l1_parse_block(res, 0, 0, &b, &e)) {
        fail_call(d, &e, "eth_getBlockByNumber");
        return;
    }
    int same = memcmp(b.hash, d->cursor_hash, 32) == 0;
    rollup_l1_block_free(&b);
    if (!same) {
        start_reorg(d);
        return;
    }
    plan(d);
}

static void on_latest(void *ctx, int rc, json_t *res, const util_err *err)
{
    rollup_derive *d = ctx;
    if (!answer(d, rc, err, "eth_getBlockByNumber latest")) return;
    util_err e = {0};
    rollup_l1_block b;
    if (rollup_l1_parse_block(res, 0, 0, &b, &e)) {
        fail_call(d, &e, "eth_getBlockByNumber latest");
        return;
    }
    d->s.has_l1_head = 1;
    d->s.l1_head = b.number;
    d->s.l1_head_time = b.timestamp;
    d->latest_hash_num = b.number;
    memcpy(d->latest_hash, b.hash, 32);
    rollup_l1_block_free(&b);
    /* A shorter chain than the cursor is a reorganisation too. */
    if (d->has_cursor_hash && d->cursor > d->s.l1_head) {
        start_reorg(d);
        return;
    }
    if (d->has_cursor_hash) {
        if (d->cursor == d->latest_hash_num) {
            if (memcmp(d->latest_hash, d->cursor_hash, 32) != 0) {
                start_reorg(d);
                return;
            }
        } else if (get_block(d, d->cursor, 0, on_cursor, &e) == 0) {
            return;
        } else {
            fail_call(d, &e, "eth_getBlockByNumber");
            return;
        }
    }
    plan(d);
}

static void step(rollup_derive *d)
{
    util_err e = {0};
    json_t *p = json_pack("[s,b]", "latest", 0);
    if (!p || l1_call(d, "eth_getBlockByNumber", p, on_latest, &e)) {
        if (!p) util_err_set(&e, UTIL_ENOMEM, "out of memory");
        fail_call(d, &e, "eth_getBlockByNumber latest");
    }
    json_decref(p);
}

/* --- reorganisations and restarts ------------------------------------------ */

/* The L1 block to read from again when the chain is at L2 height h: the
 * channel that brought h may have started up to channel_timeout_blocks
 * before its origin, and the channels completing after it too. */
static void reset_to(rollup_derive *d, uint64_t h)
{
    uint64_t n = d->cfg.deploy_block ? d->cfg.deploy_block - 1 : 0;
    uint8_t hash[32];
    if (h > 0 && rollup_derive_origin(d->st, h, &n, hash, NULL) != 0)
        n = d->cfg.deploy_block ? d->cfg.deploy_block - 1 : 0;
    uint64_t back = (uint64_t)d->cfg.channel_timeout_blocks + 1;
    uint64_t from = n + 1 > back ? n + 1 - back : 0;
    if (from < d->cfg.deploy_block) from = d->cfg.deploy_block;
    rollup_asm_reset(d->as);
    d->cursor = from ? from - 1 : 0;
    d->has_cursor_hash = 0;
    /* Outputs logged from there on are read again; the others stand, but
     * heights above h must be checked again once re-derived. */
    size_t k = 0;
    for (size_t i = 0; i < d->nouts; i++) {
        if (d->outs[i].l1_block >= from) continue;
        if (d->outs[i].height > h) d->outs[i].checked = 0;
        d->outs[k++] = d->outs[i];
    }
    d->nouts = k;
    drop_step(d);
}

static void reorg_found(rollup_derive *d, uint64_t h)
{
    uint64_t head = chain_store_height(d->st);
    if (h < head) {
        util_err e = {0};
        if (h < chain_store_rollback_floor(d->st)) {
            derive_halt(d,
                        "an L1 reorganisation reaches below L2 height %llu, the oldest block with "
                        "undo records: resync from an empty data directory",
                        (unsigned long long)chain_store_rollback_floor(d->st));
            return;
        }
        derive_lock(d);
        int rc = chain_store_rollback(d->st, h, &e);
        derive_unlock(d);
        if (rc) {
            derive_halt(d, "rolling back to L2 height %llu failed: %s", (unsigned long long)h,
                        e.msg);
            return;
        }
        d->s.rollbacks++;
        d->s.blocks_rolled_back += head - h;
        LOG_WARN("derive",
                 "L1 reorganisation: rolled back L2 blocks %llu..%llu (their L1 origin is gone), "
                 "re-deriving",
                 (unsigned long long)h + 1, (unsigned long long)head);
    } else {
        LOG_WARN("derive", "L1 reorganisation above the origin of L2 head %llu: reading again",
                 (unsigned long long)head);
    }
    reset_to(d, h);
    derive_update_heads(d);
    step_later(d, 0);
}

static void walk(rollup_derive *d);

static void on_walk(void *ctx, int rc, json_t *res, const util_err *err)
{
    rollup_derive *d = ctx;
    if (!answer(d, rc, err, "eth_getBlockByNumber (reorganisation)")) return;
    util_err e = {0};
    rollup_l1_block b;
    int same = 0;
    if (!json_is_null(res)) {
        if (rollup_l1_parse_block(res, 0, 0, &b, &e)) {
            fail_call(d, &e, "eth_getBlockByNumber");
            return;
        }
        same = memcmp(b.hash, d->walk_hash, 32) == 0;
        rollup_l1_block_free(&b);
    }
    if (same) {
        reorg_found(d, d->walk_h);
        return;
    }
    /* Every block with that origin goes: down to the first older origin. */
    uint64_t n = d->walk_n;
    while (d->walk_h > 0) {
        d->walk_h--;
        if (d->walk_h == 0) break;
        uint64_t m;
        uint8_t hh[32];
        if (rollup_derive_origin(d->st, d->walk_h, &m, hh, NULL) != 0) break;
        if (m != n) break;
    }
    walk(d);
}

/* Checks the origin of L2 block walk_h; a block without a recorded origin
 * (block 0, or one this store did not derive) is kept. */
static void walk(rollup_derive *d)
{
    util_err e = {0};
    if (d->walk_h == 0 ||
        rollup_derive_origin(d->st, d->walk_h, &d->walk_n, d->walk_hash, NULL) != 0) {
        reorg_found(d, d->walk_h);
        return;
    }
    if (d->walk_h < chain_store_rollback_floor(d->st)) {
        reorg_found(d, d->walk_h); /* halts with the reason */
        return;
    }
    if (get_block(d, d->walk_n, 0, on_walk, &e)) fail_call(d, &e, "eth_getBlockByNumber");
}

static void start_reorg(rollup_derive *d)
{
    d->s.reorgs++;
    drop_step(d);
    d->walk_h = chain_store_height(d->st);
    LOG_WARN("derive",
             "the L1 changed under L1 block %llu: looking for the last L2 block whose "
             "L1 origin is still canonical",
             (unsigned long long)d->cursor);
    walk(d);
}

/* --- the oracle's latest output, at start ------------------------------------ */

/* A restart reads the logs again only from shortly before the head's
 * origin: the oracle's latest output, read from its storage, gives the
 * finalized head back at once (and is checked like any other). Best effort:
 * a failure only leaves it to the logs. */
static int oracle_call(rollup_derive *d, const char *sig, const rollup_abi_val *args, size_t n,
                       rollup_l1_cb cb, util_err *err)
{
    util_buf call;
    util_buf_init(&call);
    rollup_abi_encode_call(&call, sig, args, n);
    json_t *p = call.oom
                    ? NULL
                    : json_pack("[{s:o,s:o},s]", "to", rollup_l1_address(&d->cfg.output_oracle),
                                "data", rollup_l1_data(call.data, call.len), "latest");
    util_buf_free(&call);
    if (!p) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = l1_call(d, "eth_call", p, cb, err);
    json_decref(p);
    return rc;
}

static void on_seed_output(void *ctx, int rc, json_t *res, const util_err *err)
{
    rollup_derive *d = ctx;
    d->inflight = 0;
    if (d->closing) {
        maybe_free(d);
        return;
    }
    util_err e = {0};
    uint8_t *data = NULL, root[32], none[32] = {0};
    size_t n = 0;
    uint64_t ts;
    if (rc)
        LOG_WARN("derive", "OutputOracle.getOutput: %s", err ? err->msg : "?");
    else if (rollup_l1_parse_data(res, 4096, &data, &n, "getOutput", &e) ||
             rollup_abi_word(data, n, 0, root, &e) || rollup_abi_u64(data, n, 1, &ts, &e))
        LOG_WARN("derive", "OutputOracle.getOutput: %s", e.msg);
    else if (ts)
        derive_add_output(d, d->seed_height, root, ts, 0, none);
    free(data);
    derive_update_heads(d);
    step_later(d, 0);
}

static void on_seed_height(void *ctx, int rc, json_t *res, const util_err *err)
{
    rollup_derive *d = ctx;
    d->inflight = 0;
    if (d->closing) {
        maybe_free(d);
        return;
    }
    util_err e = {0};
    uint8_t *data = NULL;
    size_t n = 0;
    d->seed_height = 0;
    if (rc)
        LOG_WARN("derive", "OutputOracle.latestOutputHeight: %s", err ? err->msg : "?");
    else if (rollup_l1_parse_data(res, 4096, &data, &n, "latestOutputHeight", &e) ||
             rollup_abi_u64(data, n, 0, &d->seed_height, &e))
        LOG_WARN("derive", "OutputOracle.latestOutputHeight: %s", e.msg);
    free(data);
    if (d->seed_height) {
        rollup_abi_val v = {.kind = ROLLUP_ABI_UINT, .u64 = d->seed_height};
        if (oracle_call(d, "getOutput(uint64)", &v, 1, on_seed_output, &e) == 0) return;
        LOG_WARN("derive", "OutputOracle.getOutput: %s", e.msg);
    }
    step_later(d, 0);
}

/* --- life cycle ---------------------------------------------------------- */

int rollup_derive_new(rollup_derive **out, uv_loop_t *loop, rollup_l1 *l1, const rollup_config *cfg,
                      const chain_genesis *g, chain_store *st, const rollup_derive_opts *opts,
                      util_err *err)
{
    *out = NULL;
    if (!l1 && !(opts && opts->call)) return util_err_set(err, UTIL_EINVAL, "derive: no L1 client");
    if (memcmp(cfg->l2_genesis_hash, g->hash, 32) != 0) {
        char a[65], b[65];
        util_hex_encode(a, cfg->l2_genesis_hash, 32);
        util_hex_encode(b, g->hash, 32);
        return util_err_set(err, UTIL_EINVAL,
                            "derive: the rollup config serves L2 genesis 0x%s, the genesis given "
                            "is 0x%s",
                            a, b);
    }
    uint8_t sh[32];
    chain_store_genesis_hash(st, sh);
    if (memcmp(sh, g->hash, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "derive: the store holds another chain");
    rollup_keccak256(derive_topic_batch, "BatchPosted(address,bytes32)", 28);
    rollup_keccak256(derive_topic_blob, "BlobPosted(address,bytes32)", 27);
    rollup_keccak256(derive_topic_output, "OutputProposed(uint64,bytes32,uint64)", 37);
    rollup_keccak256(derive_topic_frozen, "Frozen(uint64,bytes32,bytes32)", 30);
    rollup_derive *d = calloc(1, sizeof *d);
    if (!d) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    d->loop = loop;
    d->l1 = l1;
    d->cfg = *cfg;
    d->g = g;
    d->st = st;
    if (opts) d->o = *opts;
    if (!d->o.poll_ms) d->o.poll_ms = 1000;
    d->range = d->o.max_range ? d->o.max_range : ROLLUP_DERIVE_MAX_RANGE;
    int rc = rollup_asm_new(&d->as, cfg->channel_timeout_blocks, err);
    if (rc) {
        free(d);
        return rc;
    }
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    *out = d;
    return 0;
}

int rollup_derive_start(rollup_derive *d, util_err *err)
{
    (void)err;
    if (d->started) return 0;
    d->started = 1;
    reset_to(d, chain_store_height(d->st));
    derive_update_heads(d);
    LOG_INFO("derive", "deriving from the L1: L2 head %llu, reading from L1 block %llu",
             (unsigned long long)chain_store_height(d->st), (unsigned long long)d->cursor + 1);
    util_err e = {0};
    if (oracle_call(d, "latestOutputHeight()", NULL, 0, on_seed_height, &e)) {
        LOG_WARN("derive", "OutputOracle.latestOutputHeight: %s", e.msg);
        step_later(d, 0);
    }
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    rollup_derive *d = h->data;
    d->timer_closed = 1;
    maybe_free(d);
}

void rollup_derive_close(rollup_derive *d)
{
    if (!d) return;
    d->closing = 1;
    derive_fetch_clear(d); /* its answers in flight free themselves */
    uv_close((uv_handle_t *)&d->timer, on_timer_closed);
}

/* --- status -------------------------------------------------------------- */

void rollup_derive_status_get(const rollup_derive *d, rollup_derive_status *s)
{
    *s = d->s;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char h[2 + 64 + 1] = "0x";
    util_hex_encode(h + 2, p, n);
    return json_string(h);
}

static json_t *addr_json(const rollup_eth_addr *a)
{
    char h[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(h, a);
    return json_string(h);
}

int rollup_derive_status_json(const rollup_derive *d, json_t *status)
{
    const rollup_derive_status *s = &d->s;
    json_t *l1 = json_object();
    if (!l1) return -1;
    int bad = 0;
    bad |= json_object_set_new(l1, "mode", json_string("derive"));
    bad |= json_object_set_new(l1, "endpoint",
                               d->l1 ? json_string(rollup_l1_url(d->l1)) : json_null());
    bad |= json_object_set_new(
        l1, "beacon", d->o.beacon ? json_string(rollup_beacon_url(d->o.beacon)) : json_null());
    bad |= json_object_set_new(l1, "l1ChainId", json_integer((json_int_t)d->cfg.l1_chain_id));
    bad |= json_object_set_new(l1, "batchInbox", addr_json(&d->cfg.batch_inbox));
    bad |= json_object_set_new(l1, "outputOracle", addr_json(&d->cfg.output_oracle));
    bad |= json_object_set_new(l1, "l1Scanned", json_integer((json_int_t)s->l1_scanned));
    bad |= json_object_set_new(l1, "blocksDerived", json_integer((json_int_t)s->blocks_derived));
    bad |= json_object_set_new(l1, "blocksSkipped", json_integer((json_int_t)s->blocks_skipped));
    bad |= json_object_set_new(l1, "batches", json_integer((json_int_t)s->batches));
    bad |= json_object_set_new(l1, "frames", json_integer((json_int_t)s->frames));
    bad |= json_object_set_new(l1, "framesRefused", json_integer((json_int_t)s->frames_refused));
    bad |= json_object_set_new(l1, "outputsSeen", json_integer((json_int_t)s->outputs_seen));
    bad |= json_object_set_new(l1, "outputsChecked", json_integer((json_int_t)s->outputs_checked));
    bad |= json_object_set_new(l1, "reorgs", json_integer((json_int_t)s->reorgs));
    bad |= json_object_set_new(l1, "rollbacks", json_integer((json_int_t)s->rollbacks));
    bad |= json_object_set_new(l1, "blocksRolledBack",
                               json_integer((json_int_t)s->blocks_rolled_back));
    bad |= json_object_set_new(l1, "frozen", json_boolean(s->frozen));
    bad |= json_object_set_new(l1, "halted", json_boolean(s->halted));
    bad |= json_object_set_new(l1, "haltReason",
                               s->halted ? json_string(s->halt_reason) : json_null());
    bad |= json_object_set_new(l1, "lastError",
                               s->last_error[0] ? json_string(s->last_error) : json_null());
    if (s->has_last_batch) {
        json_t *b = json_object();
        if (!b) return -1;
        bad |= json_object_set_new(b, "first", json_integer((json_int_t)s->last_batch_first));
        bad |= json_object_set_new(
            b, "last", json_integer((json_int_t)(s->last_batch_first + s->last_batch_count - 1)));
        bad |= json_object_set_new(b, "l1Block", json_integer((json_int_t)s->last_batch_l1_block));
        bad |= json_object_set_new(b, "l1Tx", hex_json(s->last_batch_tx, 32));
        bad |= json_object_set_new(l1, "lastBatch", b);
    } else {
        bad |= json_object_set_new(l1, "lastBatch", json_null());
    }
    if (s->has_last_output) {
        json_t *o = json_object();
        if (!o) return -1;
        bad |= json_object_set_new(o, "height", json_integer((json_int_t)s->last_output_height));
        bad |= json_object_set_new(o, "l1Block", json_integer((json_int_t)s->last_output_l1_block));
        bad |= json_object_set_new(o, "l1Tx", hex_json(s->last_output_tx, 32));
        bad |= json_object_set_new(l1, "lastOutput", o);
    } else {
        bad |= json_object_set_new(l1, "lastOutput", json_null());
    }
    bad |= json_object_set_new(status, "l1Head",
                               s->has_l1_head ? json_integer((json_int_t)s->l1_head) : json_null());
    bad |= json_object_set_new(status, "safe", json_integer((json_int_t)s->safe));
    bad |= json_object_set_new(status, "finalized",
                               s->has_finalized ? json_integer((json_int_t)s->finalized)
                                                : json_null());
    bad |= json_object_set_new(status, "l1", l1);
    return bad ? -1 : 0;
}
