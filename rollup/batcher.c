/* The batcher: committed L2 blocks to BatchInbox frames through the
 * transaction manager, in calldata or in blobs, with the inbox scanned back
 * at start and after an L1 reorganisation (rollup/batcher.h). */
#include "rollup/batcher.h"

#include <stdlib.h>
#include <string.h>

#include "rollup/batch.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/blob.h"
#include "rollup/eth/kzg.h"
#include "rollup/inbox.h"
#include "util/bytes.h"
#include "util/log.h"
#include "util/time.h"

/* Older recorded batches are checked when their L1 block is this close to
 * the head; deeper ones are taken as final. */
#define CHECK_WINDOW 256

enum { S_NEED_SCAN, S_RUN };

typedef struct record {
    uint64_t first, last, l1_block;
    uint8_t hash[32], tx[32];
} record;

struct rollup_batcher {
    uv_loop_t *loop;
    uv_timer_t timer;
    rollup_l1 *l1;
    rollup_txmgr *tx;
    chain_store *store;
    rollup_config cfg;
    rollup_batcher_opts o;
    int closed;
    unsigned refs; /* the timer handle and every call whose callback is due */
    int state;
    int busy;      /* an L1 query or scan is in flight */
    uint64_t next; /* first L2 height neither on the L1 nor in flight */
    uint64_t pending_since_ns;
    uint64_t ticks;
    uint64_t nonce_pending;
    int nonce_stage;    /* 0: "pending" asked, 1: "latest" asked */
    uint64_t chk_block; /* the recorded block being checked */
    uint8_t chk_hash[32];
    /* the batch in flight: a_txs transactions of a_frames frames (a_blobs
     * of them in blobs), a_done of them answered */
    int active;
    uint64_t a_first, a_last;
    size_t a_frames, a_txs, a_blobs, a_done;
    int a_failed;
    uint64_t a_gas, a_fee, a_blob_gas, a_blob_fee, a_bytes, a_block;
    uint8_t a_hash[32], a_tx[32];
    /* the newest batches on the L1, oldest first */
    record rec[ROLLUP_BATCHER_RECORDS];
    size_t nrec;
    size_t rot;
    rollup_batcher_info info;
};

static void maybe_free(rollup_batcher *b)
{
    if (b->closed && b->refs == 0) free(b);
}

/* Every callback starts here: 1 when the batcher is closed (the callback
 * must return at once), after dropping its reference. */
static int unref_closed(rollup_batcher *b)
{
    b->refs--;
    if (!b->closed) return 0;
    maybe_free(b);
    return 1;
}

static void push_record(rollup_batcher *b, const record *r)
{
    if (b->nrec == ROLLUP_BATCHER_RECORDS) {
        memmove(b->rec, b->rec + 1, (ROLLUP_BATCHER_RECORDS - 1) * sizeof *b->rec);
        b->nrec--;
    }
    b->rec[b->nrec++] = *r;
    b->info.has_latest = 1;
    b->info.latest_first = r->first;
    b->info.latest_last = r->last;
    b->info.latest_l1_block = r->l1_block;
    memcpy(b->info.latest_tx, r->tx, 32);
}

static int deep_enough(const rollup_batcher *b, uint64_t l1_block)
{
    uint32_t conf = b->cfg.confirmations ? b->cfg.confirmations : 1;
    return b->info.l1_head >= l1_block && b->info.l1_head - l1_block + 1 >= conf;
}

static void update_safe(rollup_batcher *b)
{
    for (size_t i = 0; i < b->nrec; i++)
        if (deep_enough(b, b->rec[i].l1_block) && b->rec[i].last > b->info.safe)
            b->info.safe = b->rec[i].last;
}

static void reorg(rollup_batcher *b, const char *why)
{
    LOG_WARN("rollup", "batcher: L1 reorganisation (%s): scanning the inbox again", why);
    b->info.reorgs++;
    b->state = S_NEED_SCAN;
}

static int call(rollup_batcher *b, const char *method, json_t *params, rollup_l1_cb cb)
{
    util_err e = {0};
    int rc = rollup_l1_call(b->l1, method, params, cb, b, &e);
    json_decref(params);
    if (rc) {
        LOG_WARN("rollup", "batcher: %s", e.msg);
        return rc;
    }
    b->refs++;
    b->busy = 1;
    return 0;
}

/* --- scanning ------------------------------------------------------------ */

static void on_scan(void *ctx, int rc, const rollup_inbox_batch *bs, size_t n, uint64_t head,
                    const util_err *err)
{
    rollup_batcher *b = ctx;
    if (unref_closed(b)) return;
    b->busy = 0;
    if (rc) {
        LOG_WARN("rollup", "batcher: %s; retrying", err ? err->msg : "inbox scan failed");
        return;
    }
    size_t used;
    uint64_t next = rollup_inbox_next(bs, n, &used);
    b->nrec = 0;
    b->info.has_latest = 0;
    b->info.l1_head = head;
    b->info.safe = 0;
    /* The batches that count, in L1 order, newest last. */
    uint64_t want = 1;
    for (size_t i = 0; used != SIZE_MAX && i <= used; i++) {
        if (!(bs[i].first <= want && bs[i].last >= want)) continue;
        want = bs[i].last + 1;
        record r = {.first = bs[i].first, .last = bs[i].last, .l1_block = bs[i].l1_block};
        memcpy(r.hash, bs[i].l1_block_hash, 32);
        memcpy(r.tx, bs[i].tx_hash, 32);
        if (deep_enough(b, r.l1_block)) b->info.safe = r.last;
        push_record(b, &r);
    }
    b->next = next;
    b->info.posted = next - 1;
    b->info.scans++;
    b->pending_since_ns = 0;
    b->state = S_RUN;
    if (!b->info.ready)
        LOG_INFO("rollup", "batcher: %zu batches on L1, heights 1..%llu posted; posting from %llu",
                 n, (unsigned long long)(next - 1), (unsigned long long)next);
    else
        LOG_INFO("rollup", "batcher: inbox scanned again: heights 1..%llu on L1, posting from %llu",
                 (unsigned long long)(next - 1), (unsigned long long)next);
    b->info.ready = 1;
}

static void on_nonce(void *ctx, int rc, json_t *result, const util_err *err);

static void nonce_query(rollup_batcher *b, const char *tag)
{
    json_t *p = json_pack("[o,s]", rollup_l1_address(rollup_txmgr_address(b->tx)), tag);
    if (p && call(b, "eth_getTransactionCount", p, on_nonce)) { /* retried next tick */
    }
}

/* A scan sees only mined transactions: transactions of an earlier run still
 * pending must be mined first, or their heights would be posted twice. */
static void on_nonce(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_batcher *b = ctx;
    if (unref_closed(b)) return;
    b->busy = 0;
    uint64_t v;
    if (rc || rollup_l1_parse_u64(result, &v, "nonce", NULL)) {
        LOG_WARN("rollup", "batcher: eth_getTransactionCount: %s",
                 rc && err ? err->msg : "bad answer");
        return;
    }
    if (b->nonce_stage == 0) { /* the "pending" answer: ask "latest" */
        b->nonce_pending = v;
        b->nonce_stage = 1;
        nonce_query(b, "latest");
        return;
    }
    if (v != b->nonce_pending) {
        LOG_INFO("rollup", "batcher: L1 transactions still pending (nonce %llu of %llu): waiting",
                 (unsigned long long)v, (unsigned long long)b->nonce_pending);
        return;
    }
    util_err e = {0};
    if (rollup_inbox_scan(b->l1, b->o.beacon, &b->cfg, on_scan, b, &e)) {
        LOG_WARN("rollup", "batcher: %s", e.msg);
        return;
    }
    b->refs++;
    b->busy = 1;
}

/* --- posting ------------------------------------------------------------- */

static void on_frame(void *ctx, int rc, const rollup_l1_receipt *r, const util_err *err)
{
    rollup_batcher *b = ctx;
    if (unref_closed(b)) return;
    b->a_done++;
    if (r) {
        b->a_gas += r->gas_used;
        b->a_fee += r->gas_used * r->effective_gas_price;
        b->a_blob_gas += r->blob_gas_used;
        b->a_blob_fee += r->blob_gas_used * r->blob_gas_price;
    }
    if (rc) {
        b->a_failed = 1;
        LOG_WARN("rollup", "batcher: frame of batch %llu..%llu: %s", (unsigned long long)b->a_first,
                 (unsigned long long)b->a_last,
                 err                 ? err->msg
                 : rc == UTIL_EINVAL ? "reverted"
                                     : "failed");
    } else if (r && r->block_number >= b->a_block) {
        b->a_block = r->block_number;
        memcpy(b->a_hash, r->block_hash, 32);
        memcpy(b->a_tx, r->tx_hash, 32);
    }
    if (b->a_done < b->a_txs) return;
    b->active = 0;
    b->info.gas_used += b->a_gas;
    b->info.fee_wei += b->a_fee;
    b->info.blob_gas_used += b->a_blob_gas;
    b->info.blob_fee_wei += b->a_blob_fee;
    if (b->a_failed) {
        b->info.failures++;
        b->state = S_NEED_SCAN;
        return;
    }
    record rec = {.first = b->a_first, .last = b->a_last, .l1_block = b->a_block};
    memcpy(rec.hash, b->a_hash, 32);
    memcpy(rec.tx, b->a_tx, 32);
    push_record(b, &rec);
    b->info.posted = b->a_last;
    b->info.batches++;
    b->info.frames += b->a_frames;
    b->info.txs += b->a_txs;
    b->info.blobs += b->a_blobs;
    b->info.bytes += b->a_bytes;
    b->info.blocks += b->a_last - b->a_first + 1;
    if (b->a_block > b->info.l1_head) b->info.l1_head = b->a_block;
    update_safe(b);
    if (b->a_blobs)
        LOG_INFO("rollup",
                 "batch %llu..%llu posted: %zu frame(s) in %zu blob(s), %zu transaction(s), "
                 "%llu bytes, %llu gas, %llu blob gas, L1 block %llu",
                 (unsigned long long)b->a_first, (unsigned long long)b->a_last, b->a_frames,
                 b->a_blobs, b->a_txs, (unsigned long long)b->a_bytes, (unsigned long long)b->a_gas,
                 (unsigned long long)b->a_blob_gas, (unsigned long long)b->a_block);
    else
        LOG_INFO("rollup",
                 "batch %llu..%llu posted: %zu frame(s), %llu bytes, %llu gas, L1 block %llu",
                 (unsigned long long)b->a_first, (unsigned long long)b->a_last, b->a_frames,
                 (unsigned long long)b->a_bytes, (unsigned long long)b->a_gas,
                 (unsigned long long)b->a_block);
}

/* --- blob mode ----------------------------------------------------------- */

/* One batch's frames on their way to blobs: packed, committed to and proven
 * on the thread pool (work), sent from the loop (after). */
typedef struct blob_job {
    uv_work_t req;
    rollup_batcher *b;
    size_t n;
    uint8_t **frames; /* owned until packed (rollup_frames_free) */
    size_t *lens;
    uint8_t *mem; /* n blobs of ROLLUP_BLOB_BYTES */
    const uint8_t **blobs;
    uint8_t (*commits)[ROLLUP_KZG_COMMITMENT_BYTES];
    uint8_t (*proofs)[ROLLUP_KZG_PROOF_BYTES];
    int rc;
    util_err err;
} blob_job;

static void blob_job_free(blob_job *j)
{
    rollup_frames_free(j->frames, j->lens, j->n);
    free(j->mem);
    free(j->blobs);
    free(j->commits);
    free(j->proofs);
    free(j);
}

/* On a thread-pool thread: touches nothing but the job. */
static void blob_work(uv_work_t *req)
{
    blob_job *j = req->data;
    for (size_t i = 0; i < j->n && !j->rc; i++) {
        uint8_t *blob = j->mem + i * (size_t)ROLLUP_BLOB_BYTES;
        j->blobs[i] = blob;
        j->rc = rollup_blob_pack(j->frames[i], j->lens[i], blob, &j->err);
        if (!j->rc) j->rc = rollup_kzg_commit(blob, j->commits[i], &j->err);
        if (!j->rc) j->rc = rollup_kzg_proof(blob, j->commits[i], j->proofs[i], &j->err);
    }
}

/* The transactions of a batch whose blobs are ready: ROLLUP_BLOBS_PER_TX
 * blobs each, postBlobs(their commitments). */
static void send_blob_txs(rollup_batcher *b, blob_job *j)
{
    util_err e = {0};
    for (size_t i = 0; i < j->n; i += ROLLUP_BLOBS_PER_TX) {
        size_t k = j->n - i < ROLLUP_BLOBS_PER_TX ? j->n - i : ROLLUP_BLOBS_PER_TX;
        util_buf call;
        util_buf_init(&call);
        rollup_abi_val v = {
            .kind = ROLLUP_ABI_BYTES, .p = j->commits[i], .n = k * ROLLUP_KZG_COMMITMENT_BYTES};
        rollup_abi_encode_call(&call, "postBlobs(bytes)", &v, 1);
        int rc = call.oom ? util_err_set(&e, UTIL_ENOMEM, "out of memory")
                          : rollup_txmgr_send_blobs(b->tx, &b->cfg.batch_inbox, call.data, call.len,
                                                    0, j->blobs + i, j->commits + i, j->proofs + i,
                                                    k, on_frame, b, &e);
        util_buf_free(&call);
        if (rc) {
            LOG_WARN("rollup", "batcher: queueing blobs %zu..%zu of batch %llu..%llu: %s", i,
                     i + k - 1, (unsigned long long)b->a_first, (unsigned long long)b->a_last,
                     e.msg);
            b->a_failed = 1;
            break;
        }
        b->refs++;
        b->a_txs++;
        b->a_blobs += k;
        b->a_frames += k;
        for (size_t f = i; f < i + k; f++)
            b->a_bytes += j->lens[f];
    }
}

static void blob_after(uv_work_t *req, int status)
{
    blob_job *j = req->data;
    rollup_batcher *b = j->b;
    if (unref_closed(b)) {
        blob_job_free(j);
        return;
    }
    if (status || j->rc)
        LOG_ERROR("rollup", "batcher: blobs of batch %llu..%llu: %s",
                  (unsigned long long)b->a_first, (unsigned long long)b->a_last,
                  status ? uv_strerror(status) : j->err.msg);
    else
        send_blob_txs(b, j);
    blob_job_free(j);
    if (b->a_txs == 0) { /* nothing queued: no callback will end the batch */
        b->active = 0;
        b->info.failures++;
        b->state = S_NEED_SCAN;
    }
}

/* Hands the frames (taken over) to the thread pool; 0 or an error with the
 * frames freed. */
static int queue_blobs(rollup_batcher *b, uint8_t **frames, size_t *lens, size_t n, util_err *err)
{
    blob_job *j = calloc(1, sizeof *j);
    if (!j) {
        rollup_frames_free(frames, lens, n);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    j->b = b;
    j->n = n;
    j->frames = frames;
    j->lens = lens;
    j->mem = malloc(n * (size_t)ROLLUP_BLOB_BYTES);
    j->blobs = calloc(n, sizeof *j->blobs);
    j->commits = calloc(n, sizeof *j->commits);
    j->proofs = calloc(n, sizeof *j->proofs);
    j->req.data = j;
    int rc = !j->mem || !j->blobs || !j->commits || !j->proofs
                 ? util_err_set(err, UTIL_ENOMEM, "out of memory")
                 : uv_queue_work(b->loop, &j->req, blob_work, blob_after);
    if (rc) {
        if (rc < 0) rc = util_err_set(err, UTIL_EIO, "uv_queue_work: %s", uv_strerror(rc));
        blob_job_free(j);
        return rc;
    }
    b->refs++;
    return 0;
}

static void free_blocks(chain_block *blocks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        chain_block_free(&blocks[i]);
    free(blocks);
}

/* Reads blocks first..first+*count-1 (fewer when the raw size limit is
 * reached) and the last one's commit. */
static int read_blocks(rollup_batcher *b, uint64_t first, size_t *count, chain_block **out,
                       chain_commit *commit, util_err *err)
{
    chain_block *blocks = calloc(*count, sizeof *blocks);
    if (!blocks) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    size_t n = 0, raw = 0;
    int rc = 0;
    while (n < *count) {
        uint8_t id[32];
        size_t size = 0;
        if ((rc = chain_store_block_id_at(b->store, first + n, id, err))) break;
        if ((rc = chain_store_get_block(b->store, id, &blocks[n], &size, err))) break;
        if (n > 0 && raw + size > ROLLUP_BATCHER_MAX_RAW) {
            chain_block_free(&blocks[n]);
            break;
        }
        raw += size;
        n++;
    }
    if (!rc && n == 0)
        rc = util_err_set(err, UTIL_ENOTFOUND, "no block at %llu", (unsigned long long)first);
    if (!rc) rc = chain_store_get_commit(b->store, first + n - 1, commit, err);
    if (rc) {
        free_blocks(blocks, n);
        return rc;
    }
    *count = n;
    *out = blocks;
    return 0;
}

/* Blocks from b->next, at most *count, encoded and split into frames. A
 * batch the limits refuse (a channel needing more than ROLLUP_CHANNEL_MAX
 * frames of frame_max bytes, or over the size limits) is tried again with
 * half the blocks. */
static int build_frames(rollup_batcher *b, size_t *count, uint8_t ***frames, size_t **lens,
                        size_t *nframes, util_err *err)
{
    for (;;) {
        chain_block *blocks = NULL;
        chain_commit commit;
        uint8_t *chan = NULL;
        size_t chan_len = 0;
        int rc = read_blocks(b, b->next, count, &blocks, &commit, err);
        if (rc) return rc;
        rc = rollup_batch_encode(b->cfg.l2_genesis_hash, blocks, *count, &commit, b->o.zstd_level,
                                 &chan, &chan_len, err);
        free_blocks(blocks, *count);
        if (!rc)
            rc = rollup_frames_split(chan, chan_len, b->o.frame_max, frames, lens, nframes, err);
        free(chan);
        if (rc != UTIL_EINVAL || *count == 1) return rc;
        *count /= 2;
    }
}

static void post_batch(rollup_batcher *b, uint64_t head)
{
    size_t count = (size_t)(head - b->next + 1);
    if (count > b->o.max_blocks) count = b->o.max_blocks;
    util_err e = {0};
    uint8_t **frames = NULL;
    size_t *lens = NULL, nframes = 0;
    int rc = build_frames(b, &count, &frames, &lens, &nframes, &e);
    if (rc) {
        LOG_ERROR("rollup", "batcher: batch from %llu: %s", (unsigned long long)b->next, e.msg);
        b->info.failures++;
        return;
    }
    b->active = 1;
    b->a_first = b->next;
    b->a_last = b->next + count - 1;
    b->a_frames = b->a_txs = b->a_blobs = b->a_done = 0;
    b->a_failed = 0;
    b->a_gas = b->a_fee = b->a_blob_gas = b->a_blob_fee = b->a_bytes = b->a_block = 0;
    b->next = b->a_last + 1;
    b->pending_since_ns = 0;
    if (b->o.blobs) {
        /* The batch stays active until blob_after has queued its
         * transactions (or failed to). */
        if (queue_blobs(b, frames, lens, nframes, &e)) {
            LOG_ERROR("rollup", "batcher: blobs of batch %llu..%llu: %s",
                      (unsigned long long)b->a_first, (unsigned long long)b->a_last, e.msg);
            b->active = 0;
            b->info.failures++;
            b->state = S_NEED_SCAN;
        }
        return;
    }
    for (size_t i = 0; i < nframes; i++) {
        util_buf call;
        util_buf_init(&call);
        rollup_abi_val v = {.kind = ROLLUP_ABI_BYTES, .p = frames[i], .n = lens[i]};
        rollup_abi_encode_call(&call, "post(bytes)", &v, 1);
        rc = call.oom ? util_err_set(&e, UTIL_ENOMEM, "out of memory")
                      : rollup_txmgr_send(b->tx, &b->cfg.batch_inbox, call.data, call.len, 0,
                                          on_frame, b, &e);
        util_buf_free(&call);
        if (rc) {
            LOG_WARN("rollup", "batcher: queueing frame %zu of batch %llu..%llu: %s", i,
                     (unsigned long long)b->a_first, (unsigned long long)b->a_last, e.msg);
            b->a_failed = 1;
            break;
        }
        b->refs++;
        b->a_frames++;
        b->a_txs++;
        b->a_bytes += lens[i];
    }
    rollup_frames_free(frames, lens, nframes);
    if (b->a_txs == 0) { /* nothing queued: no callback will end it */
        b->active = 0;
        b->info.failures++;
        b->state = S_NEED_SCAN;
    }
}

static void maybe_post(rollup_batcher *b)
{
    if (b->active || b->state != S_RUN) return;
    uint64_t head = chain_store_height(b->store);
    if (head < b->next) {
        b->pending_since_ns = 0;
        return;
    }
    uint64_t now = util_mono_ns();
    if (!b->pending_since_ns) b->pending_since_ns = now;
    if (head - b->next + 1 < b->o.max_blocks &&
        now - b->pending_since_ns < (uint64_t)b->o.max_delay_ms * 1000000ull)
        return;
    post_batch(b, head);
}

/* --- watching the L1 ----------------------------------------------------- */

static void on_check(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_batcher *b = ctx;
    if (unref_closed(b)) return;
    b->busy = 0;
    if (rc) {
        LOG_DEBUG("rollup", "batcher: %s", err ? err->msg : "block query failed");
        return;
    }
    if (json_is_null(result)) return reorg(b, "a block with a batch is gone");
    rollup_l1_block blk;
    memset(&blk, 0, sizeof blk);
    if (rollup_l1_parse_block(result, 0, 0, &blk, NULL)) return;
    int same = blk.number == b->chk_block && memcmp(blk.hash, b->chk_hash, 32) == 0;
    rollup_l1_block_free(&blk);
    if (!same) return reorg(b, "the block of a batch changed");
    maybe_post(b);
}

static void on_head(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_batcher *b = ctx;
    if (unref_closed(b)) return;
    b->busy = 0;
    uint64_t head;
    if (rc || rollup_l1_parse_u64(result, &head, "eth_blockNumber", NULL)) {
        LOG_DEBUG("rollup", "batcher: %s", rc && err ? err->msg : "bad eth_blockNumber");
        return;
    }
    if (head < b->info.l1_head) {
        b->info.l1_head = head;
        return reorg(b, "the L1 head went back");
    }
    b->info.l1_head = head;
    update_safe(b);
    if (b->nrec == 0) return maybe_post(b);
    /* The newest batch every other tick; between, an older one still close
     * to the head, in turn. */
    size_t i = b->nrec - 1;
    if (b->ticks++ % 2) {
        size_t k = b->nrec;
        while (k > 0 && b->rec[k - 1].l1_block + CHECK_WINDOW > head)
            k--;
        if (k < b->nrec - 1) {
            b->rot = b->rot < k || b->rot >= b->nrec - 1 ? k : b->rot + 1;
            i = b->rot;
        }
    }
    if (b->rec[i].l1_block > head) return reorg(b, "a block with a batch is gone");
    b->rot = i;
    b->chk_block = b->rec[i].l1_block;
    memcpy(b->chk_hash, b->rec[i].hash, 32);
    if (call(b, "eth_getBlockByNumber",
             json_pack("[o,b]", rollup_l1_quantity(b->rec[i].l1_block), 0), on_check))
        maybe_post(b);
}

static void on_tick(uv_timer_t *t)
{
    rollup_batcher *b = t->data;
    if (b->closed || b->busy) return;
    if (b->state == S_NEED_SCAN) {
        if (b->active) return;
        b->nonce_stage = 0;
        nonce_query(b, "pending");
        return;
    }
    call(b, "eth_blockNumber", NULL, on_head);
}

static void on_timer_closed(uv_handle_t *h)
{
    rollup_batcher *b = h->data;
    b->refs--;
    maybe_free(b);
}

int rollup_batcher_new(rollup_batcher **out, uv_loop_t *loop, rollup_l1 *l1, rollup_txmgr *txmgr,
                       chain_store *store, const rollup_config *cfg,
                       const rollup_batcher_opts *opts, util_err *err)
{
    uint8_t gh[32];
    chain_store_genesis_hash(store, gh);
    if (memcmp(gh, cfg->l2_genesis_hash, 32) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "the rollup config's l2GenesisHash is not this chain's genesis");
    rollup_batcher *b = calloc(1, sizeof *b);
    if (!b) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    b->loop = loop;
    b->l1 = l1;
    b->tx = txmgr;
    b->store = store;
    b->cfg = *cfg;
    if (opts) b->o = *opts;
    if (!b->o.max_blocks) b->o.max_blocks = ROLLUP_BATCHER_MAX_BLOCKS;
    if (b->o.max_blocks > ROLLUP_BATCH_MAX_BLOCKS) b->o.max_blocks = ROLLUP_BATCH_MAX_BLOCKS;
    if (b->o.blobs && b->o.frame_max > ROLLUP_BLOB_DATA_MAX - ROLLUP_FRAME_HEADER) {
        size_t fm = b->o.frame_max;
        free(b);
        return util_err_set(err, UTIL_EINVAL, "a frame of %zu bytes does not fit in a blob", fm);
    }
    if (!b->o.max_delay_ms) b->o.max_delay_ms = ROLLUP_BATCHER_MAX_DELAY_MS;
    if (!b->o.poll_ms) b->o.poll_ms = ROLLUP_BATCHER_POLL_MS;
    if (!b->o.zstd_level) b->o.zstd_level = ROLLUP_BATCHER_ZSTD_LEVEL;
    b->state = S_NEED_SCAN;
    b->next = 1;
    uv_timer_init(loop, &b->timer);
    b->timer.data = b;
    b->refs = 1;
    uv_timer_start(&b->timer, on_tick, 0, b->o.poll_ms);
    *out = b;
    return 0;
}

void rollup_batcher_close(rollup_batcher *b)
{
    if (!b || b->closed) return;
    b->closed = 1;
    uv_timer_stop(&b->timer);
    uv_close((uv_handle_t *)&b->timer, on_timer_closed);
}

void rollup_batcher_get_info(const rollup_batcher *b, rollup_batcher_info *out)
{
    *out = b->info;
}
