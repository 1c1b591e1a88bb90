/* Scanning the BatchInbox for the L2 heights already on the L1: logs, then
 * the calldata of the logged transactions and the blobs of the logged blob
 * posts (from the beacon endpoint, checked against their commitments by the
 * beacon client on libuv's thread pool), reassembled and decoded in L1 log
 * order
 * (rollup/inbox.h). */
#include "rollup/inbox.h"

#include <stdlib.h>
#include <string.h>

#include "rollup/batch.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/blob.h"
#include "rollup/eth/keccak.h"
#include "rollup/eth/kzg.h"

typedef struct scan_log {
    uint64_t block;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    uint32_t log_index;
    int blob;       /* BlobPosted, else BatchPosted */
    uint8_t vh[32]; /* BlobPosted: the versioned hash logged */
    int slot;       /* BlobPosted: its blob among those asked for, -1 none */
} scan_log;

typedef struct scan {
    rollup_l1 *l1;
    rollup_beacon *beacon;
    rollup_config cfg;
    rollup_inbox_cb cb;
    void *ctx;
    uint64_t head, from;
    scan_log *logs;
    size_t nlogs, caplogs, li;
    rollup_assembler *as;
    rollup_inbox_batch *batches;
    size_t nb, capb;
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
} scan;

void rollup_inbox_topic(uint8_t out[32])
{
    static const char sig[] = "BatchPosted(address,bytes32)";
    rollup_keccak256(out, sig, sizeof sig - 1);
}

void rollup_inbox_blob_topic(uint8_t out[32])
{
    static const char sig[] = "BlobPosted(address,bytes32)";
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

static void blobs_clear(scan *s)
{
    if (s->frames)
        for (size_t i = 0; i < s->nblobs; i++)
            free(s->frames[i]);
    free(s->frames);
    free(s->flens);
    free(s->hashes);
    free(s->commits);
    s->frames = NULL;
    s->flens = NULL;
    s->hashes = NULL;
    s->commits = NULL;
    s->nblobs = 0;
    if (s->has_blk) rollup_l1_block_free(&s->blk);
    s->has_blk = 0;
}

static void scan_free(scan *s)
{
    blobs_clear(s);
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
    uint8_t blob_topic[32];
    rollup_inbox_blob_topic(blob_topic);
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
    uint8_t topic0[32], topic0b[32], topic1[32] = {0};
    rollup_inbox_topic(topic0);
    rollup_inbox_blob_topic(topic0b);
    memcpy(topic1 + 12, s->cfg.batcher.b, 20);
    json_t *filter = json_pack(
        "{s:o, s:o, s:o, s:[[o,o],o]}", "address", rollup_l1_address(&s->cfg.batch_inbox),
        "fromBlock", rollup_l1_quantity(s->from), "toBlock", rollup_l1_quantity(to), "topics",
        rollup_l1_data(topic0, 32), rollup_l1_data(topic0b, 32), rollup_l1_data(topic1, 32));
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

/* One frame of the batcher (calldata or blob) for the assembler. Anything
 * that is not a well-formed frame of a decodable channel is skipped, as
 * derivation skips it; only memory exhaustion fails the scan. */
static int take_frame(scan *s, const uint8_t *p, size_t n, const uint8_t txh[32])
{
    rollup_frame f;
    if (rollup_frame_parse(&f, p, n, NULL)) return 0;
    uint8_t *chan = NULL;
    size_t clen = 0;
    util_err e = {0};
    int rc = rollup_asm_add(s->as, s->blk.number, &f, &chan, &clen, &e);
    if (rc == UTIL_ENOMEM) return rc;
    if (rc || !chan) return 0;
    rollup_batch b;
    memset(&b, 0, sizeof b);
    rc = rollup_batch_decode(chan, clen, &b, &e);
    free(chan);
    if (rc == UTIL_ENOMEM) return rc;
    if (rc) return 0;
    if (memcmp(b.genesis_hash, s->cfg.l2_genesis_hash, 32) == 0 && b.count > 0)
        rc = push_batch(s, &b, s->blk.number, s->blk.hash, txh, f.total);
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
static int calldata_frame(const scan *s, const rollup_l1_tx *tx, const uint8_t **p, size_t *n)
{
    uint8_t sel[4];
    rollup_abi_selector(sel, "post(bytes)");
    if (!tx->has_to || memcmp(tx->to.b, s->cfg.batch_inbox.b, 20) != 0 ||
        memcmp(tx->from.b, s->cfg.batcher.b, 20) != 0 || tx->input_len < 4 ||
        memcmp(tx->input, sel, 4) != 0 ||
        rollup_abi_bytes(tx->input + 4, tx->input_len - 4, 0, p, n, NULL))
        return -1;
    return 0;
}

/* The commitment of a BlobPosted log's blob, when its transaction is a
 * well-formed postBlobs call of the batcher whose blob hash at the log's
 * position is the logged one and the commitment's versioned hash; else -1
 * (skipped, as derivation would halt on it). */
static int blob_commitment(const scan *s, const scan_log *l, const rollup_l1_tx *tx,
                           const uint8_t **c)
{
    uint8_t sel[4];
    rollup_abi_selector(sel, "postBlobs(bytes)");
    const uint8_t *p;
    size_t n;
    if (tx->type != 3 || !tx->has_to || memcmp(tx->to.b, s->cfg.batch_inbox.b, 20) != 0 ||
        memcmp(tx->from.b, s->cfg.batcher.b, 20) != 0 || tx->input_len < 4 ||
        memcmp(tx->input, sel, 4) != 0 ||
        rollup_abi_bytes(tx->input + 4, tx->input_len - 4, 0, &p, &n, NULL) || n == 0 ||
        n % ROLLUP_KZG_COMMITMENT_BYTES != 0 ||
        n / ROLLUP_KZG_COMMITMENT_BYTES > ROLLUP_BLOBS_PER_TX ||
        n / ROLLUP_KZG_COMMITMENT_BYTES != tx->nblob_hashes)
        return -1;
    size_t k = 0;
    for (size_t j = s->li; j < s->lj; j++)
        if (s->logs[j].blob && memcmp(s->logs[j].tx_hash, l->tx_hash, 32) == 0 &&
            s->logs[j].log_index < l->log_index)
            k++;
    if (k >= tx->nblob_hashes || memcmp(tx->blob_hashes[k], l->vh, 32) != 0) return -1;
    uint8_t vh[32];
    rollup_kzg_versioned_hash(p + k * ROLLUP_KZG_COMMITMENT_BYTES, vh);
    if (memcmp(vh, l->vh, 32) != 0) return -1;
    *c = p + k * ROLLUP_KZG_COMMITMENT_BYTES;
    return 0;
}

/* The frames of the block at hand, in log order. */
static void take_block(scan *s)
{
    int rc = 0;
    for (size_t k = s->li; k < s->lj && rc == 0; k++) {
        const scan_log *l = &s->logs[k];
        const rollup_l1_tx *tx = find_tx(&s->blk, l->tx_hash);
        const uint8_t *p;
        size_t n;
        if (!tx) continue;
        if (!l->blob) {
            if (calldata_frame(s, tx, &p, &n) == 0) rc = take_frame(s, p, n, tx->hash);
        } else if (l->slot >= 0 && s->frames[l->slot]) {
            rc = take_frame(s, s->frames[l->slot], s->flens[l->slot], tx->hash);
        }
    }
    blobs_clear(s);
    if (rc) return scan_failf(s, rc, "out of memory");
    s->li = s->lj;
    request_block(s);
}

/* The blobs, checked against their commitments by the beacon client (on
 * the thread pool): their frames, then the block's frames in log order. */
static void on_blobs(void *ctx, int rc, uint8_t **blobs, size_t n, const util_err *err)
{
    scan *s = ctx;
    if (rc) {
        util_err e = *err;
        util_err_prefix(&e, "inbox scan: L1 block %llu: ", (unsigned long long)s->blk.number);
        return scan_fail(s, rc == UTIL_ESTATE ? UTIL_ESTATE : UTIL_EIO, &e);
    }
    s->frames = calloc(n, sizeof *s->frames);
    s->flens = calloc(n, sizeof *s->flens);
    int oom = !s->frames || !s->flens;
    for (size_t i = 0; i < n && !oom; i++) {
        if (!(s->frames[i] = malloc(ROLLUP_BLOB_DATA_MAX))) {
            oom = 1;
        } else if (rollup_blob_unpack(blobs[i], s->frames[i], ROLLUP_BLOB_DATA_MAX, &s->flens[i],
                                      NULL)) {
            free(s->frames[i]);
            s->frames[i] = NULL; /* skipped, as derivation would halt on it */
        }
    }
    rollup_beacon_blobs_free(blobs, n);
    if (oom) return scan_failf(s, UTIL_ENOMEM, "out of memory");
    take_block(s);
}

/* The block's blob posts: which blobs to ask for, each once. 0 (nothing to
 * fetch), 1 (asked), or an error (the scan failed). */
static int ask_blobs(scan *s)
{
    size_t cap = s->lj - s->li;
    s->hashes = calloc(cap, sizeof *s->hashes);
    s->commits = calloc(cap, sizeof *s->commits);
    if (!s->hashes || !s->commits) {
        scan_failf(s, UTIL_ENOMEM, "out of memory");
        return -1;
    }
    for (size_t k = s->li; k < s->lj; k++) {
        scan_log *l = &s->logs[k];
        const rollup_l1_tx *tx = l->blob ? find_tx(&s->blk, l->tx_hash) : NULL;
        const uint8_t *c;
        if (!tx || blob_commitment(s, l, tx, &c)) continue;
        for (size_t i = 0; i < s->nblobs && l->slot < 0; i++)
            if (memcmp(s->hashes[i], l->vh, 32) == 0) l->slot = (int)i;
        if (l->slot >= 0) continue;
        if (s->nblobs == ROLLUP_BEACON_MAX_BLOBS) continue;
        memcpy(s->hashes[s->nblobs], l->vh, 32);
        memcpy(s->commits[s->nblobs], c, ROLLUP_KZG_COMMITMENT_BYTES);
        l->slot = (int)s->nblobs++;
    }
    if (s->nblobs == 0) return 0;
    util_err e = {0};
    if (!s->beacon) {
        util_err_set(&e, UTIL_EINVAL,
                     "inbox scan: L1 block %llu holds blob posts of the batcher, and there is no "
                     "beacon endpoint (--l1-beacon) to read them from",
                     (unsigned long long)s->blk.number);
        scan_fail(s, UTIL_EINVAL, &e);
        return -1;
    }
    int rc = rollup_beacon_get_checked_blobs(
        s->beacon, s->blk.number, s->blk.timestamp, (const uint8_t(*)[32])s->hashes,
        (const uint8_t(*)[48])s->commits, s->nblobs, on_blobs, s, &e);
    if (rc) {
        scan_fail(s, rc, &e);
        return -1;
    }
    return 1;
}

static void on_block(void *ctx, int rc, json_t *result, const util_err *err)
{
    scan *s = ctx;
    if (rc) return scan_fail(s, rc, err);
    if (json_is_null(result))
        return scan_failf(s, UTIL_ESTATE, "a block with batches disappeared (L1 reorganisation)");
    util_err e = {0};
    memset(&s->blk, 0, sizeof s->blk);
    if ((rc = rollup_l1_parse_block(result, 1, ROLLUP_FRAME_MAX + 1024, &s->blk, &e)))
        return scan_fail(s, rc, &e);
    s->has_blk = 1;
    s->lj = s->li;
    while (s->lj < s->nlogs && s->logs[s->lj].block == s->logs[s->li].block)
        s->lj++;
    if (s->blk.number != s->logs[s->li].block ||
        memcmp(s->blk.hash, s->logs[s->li].block_hash, 32) != 0)
        return scan_failf(s, UTIL_ESTATE, "a block changed during the scan (L1 reorganisation)");
    int asked = ask_blobs(s);
    if (asked < 0 || asked == 1) return;
    take_block(s);
}

static void request_block(scan *s)
{
    if (s->li >= s->nlogs) return scan_done(s);
    call_or_fail(s, "eth_getBlockByNumber",
                 json_pack("[o,b]", rollup_l1_quantity(s->logs[s->li].block), 1), on_block);
}

int rollup_inbox_scan(rollup_l1 *l1, rollup_beacon *beacon, const rollup_config *cfg,
                      rollup_inbox_cb cb, void *ctx, util_err *err)
{
    scan *s = calloc(1, sizeof *s);
    if (!s) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    s->l1 = l1;
    s->beacon = beacon;
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

int rollup_inbox_scan_sync(const char *url, const char *beacon_url, const rollup_config *cfg,
                           rollup_inbox_batch **out, size_t *n, uint64_t *l1_head, util_err *err)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop)) return util_err_set(err, UTIL_EIO, "cannot create an event loop");
    rollup_l1 *l1 = NULL;
    rollup_beacon *beacon = NULL;
    sync_out o = {0};
    int rc = rollup_l1_new(&l1, &loop, url, NULL, err);
    if (!rc && beacon_url) rc = rollup_beacon_new(&beacon, &loop, beacon_url, err);
    if (!rc) rc = rollup_inbox_scan(l1, beacon, cfg, on_sync, &o, err);
    if (!rc) {
        while (!o.done && uv_run(&loop, UV_RUN_ONCE))
            ;
        rc = o.done ? o.rc : util_err_set(&o.err, UTIL_EIO, "inbox scan did not finish");
        if (rc && err) *err = o.err;
    }
    rollup_beacon_close(beacon);
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
