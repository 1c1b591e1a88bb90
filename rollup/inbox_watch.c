/* The inbox scan's engine, kept between ticks (rollup/inbox_watch.h): logs,
 * then the calldata of the logged transactions and the blobs of the logged
 * blob posts (from the beacon endpoint, checked against their commitments
 * by the beacon client on libuv's thread pool), reassembled and decoded in
 * L1 log order, from a cursor that moves with each block taken. */
#include "rollup/inbox_watch.h"

#include <stdlib.h>
#include <string.h>

#include "rollup/batch.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/blob.h"
#include "rollup/eth/kzg.h"

/* Multi-frame channels remembered to tell when none can be open (a
 * checkpoint); more are summed up in one "lost" block number. */
#define WATCH_CHANNELS 64

typedef struct scan_log {
    uint64_t block;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    uint32_t log_index;
    int blob;       /* BlobPosted, else BatchPosted */
    uint8_t vh[32]; /* BlobPosted: the versioned hash logged */
    int slot;       /* BlobPosted: its blob among those asked for, -1 none */
} scan_log;

typedef struct watch_cp {
    uint64_t number;
    uint8_t hash[32];
    size_t nb; /* batches found up to this block */
} watch_cp;

typedef struct watch_chan {
    uint8_t id[16];
    uint64_t last; /* L1 block of its latest frame */
} watch_chan;

struct rollup_inbox_watch {
    rollup_l1 *l1;
    rollup_beacon *beacon;
    rollup_config cfg;
    rollup_inbox_watch_stats st;
    /* What the blocks up to the cursor hold. */
    int has_cur;
    uint64_t cur;
    uint8_t cur_hash[32];
    rollup_assembler *as;
    rollup_inbox_batch *batches;
    size_t nb, capb;
    /* Channels that may be open in the assembler: a superset (completion
     * is the only removal seen; timeouts and evictions are not). */
    watch_chan open[WATCH_CHANNELS];
    size_t nopen;
    int has_lost;
    uint64_t lost; /* the newest last block of channels no longer listed */
    watch_cp cps[ROLLUP_INBOX_WATCH_CHECKPOINTS];
    size_t ncp;
    /* The tick in flight. */
    int busy, in_cb, freed;
    rollup_inbox_cb cb;
    void *ctx;
    uint64_t head, from, to; /* logs of [from, to] at hand */
    uint8_t head_hash[32];
    size_t probe; /* after a reorganisation: checkpoints [0, probe) left to try */
    scan_log *logs;
    size_t nlogs, caplogs, li;
    /* The block at hand and its blob posts: the distinct blobs asked for,
     * then their frames. */
    size_t lj; /* its logs are [li, lj) */
    int has_blk;
    rollup_l1_block blk;
    uint8_t (*hashes)[32];
    uint8_t (*commits)[ROLLUP_KZG_COMMITMENT_BYTES];
    size_t nblobs;
    uint8_t **frames; /* NULL: did not unpack */
    size_t *flens;
};

static void blobs_clear(rollup_inbox_watch *w)
{
    if (w->frames)
        for (size_t i = 0; i < w->nblobs; i++)
            free(w->frames[i]);
    free(w->frames);
    free(w->flens);
    free(w->hashes);
    free(w->commits);
    w->frames = NULL;
    w->flens = NULL;
    w->hashes = NULL;
    w->commits = NULL;
    w->nblobs = 0;
    if (w->has_blk) rollup_l1_block_free(&w->blk);
    w->has_blk = 0;
}

static void destroy(rollup_inbox_watch *w)
{
    blobs_clear(w);
    rollup_asm_free(w->as);
    free(w->logs);
    free(w->batches);
    free(w);
}

/* Forgets everything: the next range starts at cfg.deploy_block. */
static void reset_all(rollup_inbox_watch *w)
{
    rollup_asm_reset(w->as);
    w->nb = 0;
    w->has_cur = 0;
    w->nopen = 0;
    w->has_lost = 0;
    w->ncp = 0;
}

/* Ends the tick: per-tick memory goes, then the callback (unless freed). */
static void finish(rollup_inbox_watch *w, int rc, const util_err *err)
{
    blobs_clear(w);
    free(w->logs);
    w->logs = NULL;
    w->nlogs = w->caplogs = w->li = w->lj = 0;
    w->busy = 0;
    if (w->freed) return destroy(w);
    w->in_cb = 1;
    if (rc)
        w->cb(w->ctx, rc, NULL, 0, 0, err);
    else
        w->cb(w->ctx, 0, w->batches, w->nb, w->head, NULL);
    w->in_cb = 0;
    if (w->freed) destroy(w);
}

static void fail(rollup_inbox_watch *w, int rc, const util_err *err)
{
    /* Out of memory half-way through a block: the assembler may hold part
     * of it, so only a new scan is sure to be right. */
    if (rc == UTIL_ENOMEM) reset_all(w);
    finish(w, rc, err);
}

static void failf(rollup_inbox_watch *w, int rc, const char *msg)
{
    util_err e = {0};
    util_err_set(&e, rc, "inbox scan: %s", msg);
    fail(w, rc, &e);
}

static void call_or_fail(rollup_inbox_watch *w, const char *method, json_t *params, rollup_l1_cb cb)
{
    util_err e = {0};
    int rc = params ? rollup_l1_call(w->l1, method, params, cb, w, &e) : UTIL_ENOMEM;
    json_decref(params);
    if (rc) {
        if (!params) util_err_set(&e, rc, "out of memory");
        return fail(w, rc, &e);
    }
    w->st.l1_requests++;
}

/* No channel can still be open at block b: each one listed either completed
 * or is so old that the assembler drops it at the next frame (whose block
 * is above b), before anything else, so the assembler acts as a new one. */
static int quiet_at(rollup_inbox_watch *w, uint64_t b)
{
    uint64_t t = w->cfg.channel_timeout_blocks;
    size_t k = 0;
    for (size_t i = 0; i < w->nopen; i++)
        if (!(b >= w->open[i].last && b - w->open[i].last >= t)) w->open[k++] = w->open[i];
    w->nopen = k;
    if (w->has_lost && b >= w->lost && b - w->lost >= t) w->has_lost = 0;
    return w->nopen == 0 && !w->has_lost;
}

static void track(rollup_inbox_watch *w, const uint8_t id[16], uint64_t block)
{
    for (size_t i = 0; i < w->nopen; i++)
        if (memcmp(w->open[i].id, id, 16) == 0) {
            w->open[i].last = block;
            return;
        }
    if (w->nopen == WATCH_CHANNELS) {
        size_t o = 0;
        for (size_t i = 1; i < w->nopen; i++)
            if (w->open[i].last < w->open[o].last) o = i;
        if (!w->has_lost || w->open[o].last > w->lost) w->lost = w->open[o].last;
        w->has_lost = 1;
        w->open[o] = w->open[--w->nopen];
    }
    memcpy(w->open[w->nopen].id, id, 16);
    w->open[w->nopen++].last = block;
}

static void untrack(rollup_inbox_watch *w, const uint8_t id[16])
{
    for (size_t i = 0; i < w->nopen; i++)
        if (memcmp(w->open[i].id, id, 16) == 0) {
            w->open[i] = w->open[--w->nopen];
            return;
        }
}

static void request_logs(rollup_inbox_watch *w);
static void request_block(rollup_inbox_watch *w);
static void probe_next(rollup_inbox_watch *w);

/* The cursor is at the head: a checkpoint when no channel can be open. */
static void tick_done(rollup_inbox_watch *w)
{
    w->has_cur = 1;
    w->cur = w->head;
    memcpy(w->cur_hash, w->head_hash, 32);
    if (quiet_at(w, w->head) && (w->ncp == 0 || w->cps[w->ncp - 1].number < w->head)) {
        if (w->ncp == ROLLUP_INBOX_WATCH_CHECKPOINTS) {
            memmove(w->cps, w->cps + 1, (w->ncp - 1) * sizeof *w->cps);
            w->ncp--;
        }
        watch_cp *c = &w->cps[w->ncp++];
        c->number = w->head;
        memcpy(c->hash, w->head_hash, 32);
        c->nb = w->nb;
    }
    finish(w, 0, NULL);
}

/* Reads [from, head]; blocks below deployBlock hold no post. */
static void scan_from(rollup_inbox_watch *w, uint64_t from)
{
    if (from < w->cfg.deploy_block) from = w->cfg.deploy_block;
    if (from > w->head) return tick_done(w);
    w->from = from;
    request_logs(w);
}

static int parse_block_ref(json_t *result, uint64_t *number, uint8_t hash[32], util_err *err)
{
    rollup_l1_block b;
    memset(&b, 0, sizeof b);
    int rc = rollup_l1_parse_block(result, 0, 0, &b, err);
    if (rc) return rc;
    *number = b.number;
    memcpy(hash, b.hash, 32);
    rollup_l1_block_free(&b);
    return 0;
}

/* The cursor is no longer canonical: the newest checkpoint that is. */
static void reorganised(rollup_inbox_watch *w)
{
    w->st.reorgs++;
    w->probe = w->ncp;
    probe_next(w);
}

static void rewind_to(rollup_inbox_watch *w, size_t i)
{
    const watch_cp *c = &w->cps[i];
    rollup_asm_reset(w->as);
    w->nopen = 0;
    w->has_lost = 0;
    w->nb = c->nb;
    w->has_cur = 1;
    w->cur = c->number;
    memcpy(w->cur_hash, c->hash, 32);
    w->ncp = i + 1;
    w->st.rewinds++;
    scan_from(w, w->cur + 1);
}

static void on_probe(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_inbox_watch *w = ctx;
    if (rc) return fail(w, rc, err);
    const watch_cp *c = &w->cps[w->probe - 1];
    uint64_t n = 0;
    uint8_t h[32];
    util_err e = {0};
    if (!json_is_null(result)) {
        if ((rc = parse_block_ref(result, &n, h, &e))) return fail(w, rc, &e);
        if (n == c->number && memcmp(h, c->hash, 32) == 0) return rewind_to(w, w->probe - 1);
    }
    w->probe--;
    probe_next(w);
}

static void probe_next(rollup_inbox_watch *w)
{
    while (w->probe > 0) {
        const watch_cp *c = &w->cps[w->probe - 1];
        if (c->number < w->head)
            return call_or_fail(w, "eth_getBlockByNumber",
                                json_pack("[o,b]", rollup_l1_quantity(c->number), 0), on_probe);
        if (c->number == w->head && memcmp(c->hash, w->head_hash, 32) == 0)
            return rewind_to(w, w->probe - 1);
        w->probe--;
    }
    w->st.rescans++;
    reset_all(w);
    scan_from(w, w->cfg.deploy_block);
}

static void on_cursor(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_inbox_watch *w = ctx;
    if (rc) return fail(w, rc, err);
    uint64_t n = 0;
    uint8_t h[32];
    util_err e = {0};
    if (!json_is_null(result)) {
        if ((rc = parse_block_ref(result, &n, h, &e))) return fail(w, rc, &e);
        if (n == w->cur && memcmp(h, w->cur_hash, 32) == 0) return scan_from(w, w->cur + 1);
    }
    reorganised(w);
}

static void on_head(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_inbox_watch *w = ctx;
    if (rc) return fail(w, rc, err);
    util_err e = {0};
    if (json_is_null(result)) return failf(w, UTIL_EIO, "the L1 endpoint has no latest block");
    if ((rc = parse_block_ref(result, &w->head, w->head_hash, &e))) return fail(w, rc, &e);
    if (!w->has_cur) return scan_from(w, w->cfg.deploy_block);
    if (w->head == w->cur && memcmp(w->head_hash, w->cur_hash, 32) == 0) return tick_done(w);
    if (w->head > w->cur)
        return call_or_fail(w, "eth_getBlockByNumber",
                            json_pack("[o,b]", rollup_l1_quantity(w->cur), 0), on_cursor);
    reorganised(w);
}

static void on_logs(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_inbox_watch *w = ctx;
    if (rc) return fail(w, rc, err);
    rollup_l1_log *logs = NULL;
    size_t n = 0;
    util_err e = {0};
    uint8_t blob_topic[32];
    rollup_inbox_blob_topic(blob_topic);
    if ((rc = rollup_l1_parse_logs(result, ROLLUP_INBOX_MAX_LOGS, 256, &logs, &n, &e)))
        return fail(w, rc, &e);
    w->nlogs = 0;
    for (size_t i = 0; i < n; i++) {
        if (logs[i].removed) continue;
        if (w->nlogs == w->caplogs) {
            size_t cap = w->caplogs ? 2 * w->caplogs : 64;
            scan_log *p = realloc(w->logs, cap * sizeof *p);
            if (!p) {
                rollup_l1_logs_free(logs, n);
                return failf(w, UTIL_ENOMEM, "out of memory");
            }
            w->logs = p;
            w->caplogs = cap;
        }
        scan_log *l = &w->logs[w->nlogs++];
        memset(l, 0, sizeof *l);
        l->block = logs[i].block_number;
        memcpy(l->block_hash, logs[i].block_hash, 32);
        memcpy(l->tx_hash, logs[i].tx_hash, 32);
        l->log_index = logs[i].log_index;
        l->blob = logs[i].ntopics > 0 && memcmp(logs[i].topics[0], blob_topic, 32) == 0;
        l->slot = -1;
        if (l->blob && logs[i].data_len == 32) memcpy(l->vh, logs[i].data, 32);
    }
    rollup_l1_logs_free(logs, n);
    w->li = 0;
    request_block(w);
}

static void request_logs(rollup_inbox_watch *w)
{
    w->to = w->from + ROLLUP_INBOX_LOG_RANGE - 1;
    if (w->to > w->head) w->to = w->head;
    uint8_t topic0[32], topic0b[32], topic1[32] = {0};
    rollup_inbox_topic(topic0);
    rollup_inbox_blob_topic(topic0b);
    memcpy(topic1 + 12, w->cfg.batcher.b, 20);
    json_t *filter = json_pack(
        "{s:o, s:o, s:o, s:[[o,o],o]}", "address", rollup_l1_address(&w->cfg.batch_inbox),
        "fromBlock", rollup_l1_quantity(w->from), "toBlock", rollup_l1_quantity(w->to), "topics",
        rollup_l1_data(topic0, 32), rollup_l1_data(topic0b, 32), rollup_l1_data(topic1, 32));
    w->st.log_requests++;
    call_or_fail(w, "eth_getLogs", filter ? json_pack("[o]", filter) : NULL, on_logs);
}

static int push_batch(rollup_inbox_watch *w, const rollup_batch *b, const uint8_t txh[32],
                      uint32_t frames)
{
    if (w->nb == w->capb) {
        size_t cap = w->capb ? 2 * w->capb : 32;
        rollup_inbox_batch *p = realloc(w->batches, cap * sizeof *p);
        if (!p) return UTIL_ENOMEM;
        w->batches = p;
        w->capb = cap;
    }
    rollup_inbox_batch *o = &w->batches[w->nb++];
    o->first = b->first;
    o->last = b->first + b->count - 1;
    o->l1_block = w->blk.number;
    memcpy(o->l1_block_hash, w->blk.hash, 32);
    memcpy(o->tx_hash, txh, 32);
    o->frames = frames;
    return 0;
}

/* One frame of the batcher (calldata or blob) for the assembler. Anything
 * that is not a well-formed frame of a decodable channel is skipped, as
 * derivation skips it; only memory exhaustion fails the scan. */
static int take_frame(rollup_inbox_watch *w, const uint8_t *p, size_t n, const uint8_t txh[32])
{
    rollup_frame f;
    if (rollup_frame_parse(&f, p, n, NULL)) return 0;
    if (f.total > 1) track(w, f.channel_id, w->blk.number);
    uint8_t *chan = NULL;
    size_t clen = 0;
    util_err e = {0};
    int rc = rollup_asm_add(w->as, w->blk.number, &f, &chan, &clen, &e);
    if (rc == UTIL_ENOMEM) return rc;
    if (rc || !chan) return 0;
    untrack(w, f.channel_id);
    rollup_batch b;
    memset(&b, 0, sizeof b);
    rc = rollup_batch_decode(chan, clen, &b, &e);
    free(chan);
    if (rc == UTIL_ENOMEM) return rc;
    if (rc) return 0;
    if (memcmp(b.genesis_hash, w->cfg.l2_genesis_hash, 32) == 0 && b.count > 0)
        rc = push_batch(w, &b, txh, f.total);
    rollup_batch_free(&b);
    return rc;
}

static const rollup_l1_tx *find_tx(const rollup_l1_block *blk, const uint8_t h[32])
{
    for (size_t t = 0; t < blk->ntx; t++)
        if (memcmp(blk->txs[t].hash, h, 32) == 0) return &blk->txs[t];
    return NULL;
}

/* A logged post(bytes) call's frame (*p points into the calldata), or -1. */
static int calldata_frame(const rollup_inbox_watch *w, const rollup_l1_tx *tx, const uint8_t **p,
                          size_t *n)
{
    uint8_t sel[4];
    rollup_abi_selector(sel, "post(bytes)");
    if (!tx->has_to || memcmp(tx->to.b, w->cfg.batch_inbox.b, 20) != 0 ||
        memcmp(tx->from.b, w->cfg.batcher.b, 20) != 0 || tx->input_len < 4 ||
        memcmp(tx->input, sel, 4) != 0 ||
        rollup_abi_bytes(tx->input + 4, tx->input_len - 4, 0, p, n, NULL))
        return -1;
    return 0;
}

/* The commitment of a BlobPosted log's blob, when its transaction is a
 * well-formed postBlobs call of the batcher whose blob hash at the log's
 * position is the logged one and the commitment's versioned hash; else -1
 * (skipped, as derivation would halt on it). */
static int blob_commitment(const rollup_inbox_watch *w, const scan_log *l, const rollup_l1_tx *tx,
                           const uint8_t **c)
{
    uint8_t sel[4];
    rollup_abi_selector(sel, "postBlobs(bytes)");
    const uint8_t *p;
    size_t n;
    if (tx->type != 3 || !tx->has_to || memcmp(tx->to.b, w->cfg.batch_inbox.b, 20) != 0 ||
        memcmp(tx->from.b, w->cfg.batcher.b, 20) != 0 || tx->input_len < 4 ||
        memcmp(tx->input, sel, 4) != 0 ||
        rollup_abi_bytes(tx->input + 4, tx->input_len - 4, 0, &p, &n, NULL) || n == 0 ||
        n % ROLLUP_KZG_COMMITMENT_BYTES != 0 ||
        n / ROLLUP_KZG_COMMITMENT_BYTES > ROLLUP_BLOBS_PER_TX ||
        n / ROLLUP_KZG_COMMITMENT_BYTES != tx->nblob_hashes)
        return -1;
    size_t k = 0;
    for (size_t j = w->li; j < w->lj; j++)
        if (w->logs[j].blob && memcmp(w->logs[j].tx_hash, l->tx_hash, 32) == 0 &&
            w->logs[j].log_index < l->log_index)
            k++;
    if (k >= tx->nblob_hashes || memcmp(tx->blob_hashes[k], l->vh, 32) != 0) return -1;
    uint8_t vh[32];
    rollup_kzg_versioned_hash(p + k * ROLLUP_KZG_COMMITMENT_BYTES, vh);
    if (memcmp(vh, l->vh, 32) != 0) return -1;
    *c = p + k * ROLLUP_KZG_COMMITMENT_BYTES;
    return 0;
}

/* The frames of the block at hand, in log order; then the cursor is that
 * block, so a tick failing later resumes after it. */
static void take_block(rollup_inbox_watch *w)
{
    int rc = 0;
    for (size_t k = w->li; k < w->lj && rc == 0; k++) {
        const scan_log *l = &w->logs[k];
        const rollup_l1_tx *tx = find_tx(&w->blk, l->tx_hash);
        const uint8_t *p;
        size_t n;
        if (!tx) continue;
        if (!l->blob) {
            if (calldata_frame(w, tx, &p, &n) == 0) rc = take_frame(w, p, n, tx->hash);
        } else if (l->slot >= 0 && w->frames[l->slot]) {
            rc = take_frame(w, w->frames[l->slot], w->flens[l->slot], tx->hash);
        }
    }
    if (rc) return failf(w, rc, "out of memory");
    w->has_cur = 1;
    w->cur = w->blk.number;
    memcpy(w->cur_hash, w->blk.hash, 32);
    blobs_clear(w);
    w->li = w->lj;
    request_block(w);
}

/* The blobs, checked against their commitments by the beacon client (on
 * the thread pool): their frames, then the block's frames in log order. */
static void on_blobs(void *ctx, int rc, uint8_t **blobs, size_t n, const util_err *err)
{
    rollup_inbox_watch *w = ctx;
    if (rc) {
        util_err e = *err;
        util_err_prefix(&e, "inbox scan: L1 block %llu: ", (unsigned long long)w->blk.number);
        return fail(w, rc == UTIL_ESTATE ? UTIL_ESTATE : UTIL_EIO, &e);
    }
    w->st.blobs += n;
    w->frames = calloc(n, sizeof *w->frames);
    w->flens = calloc(n, sizeof *w->flens);
    int oom = !w->frames || !w->flens;
    for (size_t i = 0; i < n && !oom; i++) {
        if (!(w->frames[i] = malloc(ROLLUP_BLOB_DATA_MAX))) {
            oom = 1;
        } else if (rollup_blob_unpack(blobs[i], w->frames[i], ROLLUP_BLOB_DATA_MAX, &w->flens[i],
                                      NULL)) {
            free(w->frames[i]);
            w->frames[i] = NULL; /* skipped, as derivation would halt on it */
        }
    }
    rollup_beacon_blobs_free(blobs, n);
    if (oom) return failf(w, UTIL_ENOMEM, "out of memory");
    take_block(w);
}

/* The block's blob posts: which blobs to ask for, each once. 0 (nothing to
 * fetch), 1 (asked), or -1 (the tick failed). */
static int ask_blobs(rollup_inbox_watch *w)
{
    size_t cap = w->lj - w->li;
    w->hashes = calloc(cap, sizeof *w->hashes);
    w->commits = calloc(cap, sizeof *w->commits);
    if (!w->hashes || !w->commits) {
        failf(w, UTIL_ENOMEM, "out of memory");
        return -1;
    }
    for (size_t k = w->li; k < w->lj; k++) {
        scan_log *l = &w->logs[k];
        const rollup_l1_tx *tx = l->blob ? find_tx(&w->blk, l->tx_hash) : NULL;
        const uint8_t *c;
        if (!tx || blob_commitment(w, l, tx, &c)) continue;
        for (size_t i = 0; i < w->nblobs && l->slot < 0; i++)
            if (memcmp(w->hashes[i], l->vh, 32) == 0) l->slot = (int)i;
        if (l->slot >= 0) continue;
        if (w->nblobs == ROLLUP_BEACON_MAX_BLOBS) continue;
        memcpy(w->hashes[w->nblobs], l->vh, 32);
        memcpy(w->commits[w->nblobs], c, ROLLUP_KZG_COMMITMENT_BYTES);
        l->slot = (int)w->nblobs++;
    }
    if (w->nblobs == 0) return 0;
    util_err e = {0};
    if (!w->beacon) {
        util_err_set(&e, UTIL_EINVAL,
                     "inbox scan: L1 block %llu holds blob posts of the batcher, and there is no "
                     "beacon endpoint (--l1-beacon) to read them from",
                     (unsigned long long)w->blk.number);
        fail(w, UTIL_EINVAL, &e);
        return -1;
    }
    int rc = rollup_beacon_get_checked_blobs(
        w->beacon, w->blk.number, w->blk.timestamp, (const uint8_t(*)[32])w->hashes,
        (const uint8_t(*)[48])w->commits, w->nblobs, on_blobs, w, &e);
    if (rc) {
        fail(w, rc, &e);
        return -1;
    }
    w->st.blob_requests++;
    return 1;
}

static void on_block(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_inbox_watch *w = ctx;
    if (rc) return fail(w, rc, err);
    if (json_is_null(result))
        return failf(w, UTIL_ESTATE, "a block with batches disappeared (L1 reorganisation)");
    util_err e = {0};
    memset(&w->blk, 0, sizeof w->blk);
    if ((rc = rollup_l1_parse_block(result, 1, ROLLUP_FRAME_MAX + 1024, &w->blk, &e)))
        return fail(w, rc, &e);
    w->has_blk = 1;
    w->lj = w->li;
    while (w->lj < w->nlogs && w->logs[w->lj].block == w->logs[w->li].block)
        w->lj++;
    if (w->blk.number != w->logs[w->li].block ||
        memcmp(w->blk.hash, w->logs[w->li].block_hash, 32) != 0)
        return failf(w, UTIL_ESTATE, "a block changed during the scan (L1 reorganisation)");
    int asked = ask_blobs(w);
    if (asked < 0 || asked == 1) return;
    take_block(w);
}

static void request_block(rollup_inbox_watch *w)
{
    if (w->li >= w->nlogs) {
        if (w->to >= w->head) return tick_done(w);
        w->from = w->to + 1;
        return request_logs(w);
    }
    w->st.block_requests++;
    call_or_fail(w, "eth_getBlockByNumber",
                 json_pack("[o,b]", rollup_l1_quantity(w->logs[w->li].block), 1), on_block);
}

int rollup_inbox_watch_new(rollup_inbox_watch **out, rollup_l1 *l1, rollup_beacon *beacon,
                           const rollup_config *cfg, util_err *err)
{
    rollup_inbox_watch *w = calloc(1, sizeof *w);
    if (!w) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    w->l1 = l1;
    w->beacon = beacon;
    w->cfg = *cfg;
    int rc = rollup_asm_new(&w->as, cfg->channel_timeout_blocks, err);
    if (rc) {
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void rollup_inbox_watch_free(rollup_inbox_watch *w)
{
    if (!w) return;
    if (w->busy || w->in_cb)
        w->freed = 1;
    else
        destroy(w);
}

int rollup_inbox_watch_tick(rollup_inbox_watch *w, rollup_inbox_cb cb, void *ctx, util_err *err)
{
    if (w->busy) return util_err_set(err, UTIL_ESTATE, "inbox watch: a tick is in flight");
    json_t *p = json_pack("[s,b]", "latest", 0);
    if (!p) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = rollup_l1_call(w->l1, "eth_getBlockByNumber", p, on_head, w, err);
    json_decref(p);
    if (rc) return rc;
    w->st.l1_requests++;
    w->st.ticks++;
    w->busy = 1;
    w->cb = cb;
    w->ctx = ctx;
    return 0;
}

void rollup_inbox_watch_get_stats(const rollup_inbox_watch *w, rollup_inbox_watch_stats *out)
{
    *out = w->st;
    out->has_cursor = w->has_cur;
    out->cursor = w->cur;
}
