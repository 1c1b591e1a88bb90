/* Derivation of the batcher's blob posts (docs/rollup.md, "Blobs"): for the
 * BlobPosted logs of one L1 block, the checks of their postBlobs
 * transactions, one beacon request for their blobs, the KZG check of all of
 * them against the commitments of the calldata (by the beacon client, on
 * libuv's thread pool, so the loop does not wait for it), and each blob's
 * frame handed to derive_frame in L1 log order. The fetch queue
 * (derive_fetch.c) runs the same steps ahead of application, through
 * derive_blobs_plan, _ask and _unpack.
 *
 * Who is at fault decides what happens: a blob that does not match its
 * commitment comes from the beacon endpoint (the L1 guarantees the blob
 * behind a versioned hash), so the log is read again later; a transaction,
 * a log or a blob that the batcher got wrong halts, naming the L1
 * transaction, when derivation reaches that log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/derive_blobs.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/blob.h"
#include "rollup/eth/kzg.h"
#include "rollup/l1/beacon.h"
#include "util/hex.h"
#include "util/log.h"

uint8_t derive_topic_blob[32];

/* One BlobPosted log of the batcher in the block at hand. */
typedef struct blob_post {
    uint32_t log_index;
    int slot;      /* index of its blob in the request, -1 when err is set */
    char err[200]; /* not "": derivation halts with it when it reaches the log */
} blob_post;

struct derive_blobs {
    uint64_t block;
    uint8_t block_hash[32];
    uint64_t asked_ns; /* uv_hrtime when the blobs were asked for */
    int ready;         /* the blobs are checked and unpacked */
    blob_post *posts;
    size_t nposts;
    /* The distinct blobs asked for, in log order. */
    uint8_t (*hashes)[32];
    uint8_t (*commits)[ROLLUP_KZG_COMMITMENT_BYTES];
    size_t n;
    uint8_t **frames; /* one per blob; NULL when it did not unpack */
    size_t *flens;
    char (*uerr)[160]; /* why a blob did not unpack */
};

static void hex32(char out[67], const uint8_t *p)
{
    out[0] = '0', out[1] = 'x';
    util_hex_encode(out + 2, p, 32);
}

void derive_blobs_free(derive_blobs *B)
{
    if (!B) return;
    if (B->frames)
        for (size_t i = 0; i < B->n; i++)
            free(B->frames[i]);
    free(B->frames);
    free(B->flens);
    free(B->uerr);
    free(B->posts);
    free(B->hashes);
    free(B->commits);
    free(B);
}

void derive_blobs_clear(rollup_derive *d)
{
    derive_blobs_free(d->blobs);
    d->blobs = NULL;
}

static int is_blob_log(const rollup_derive *d, const rollup_l1_log *lg)
{
    return !lg->removed && lg->ntopics >= 1 &&
           memcmp(lg->address.b, d->cfg.batch_inbox.b, 20) == 0 &&
           memcmp(lg->topics[0], derive_topic_blob, 32) == 0;
}

static int from_batcher(const rollup_derive *d, const rollup_l1_log *lg)
{
    return lg->ntopics >= 2 && memcmp(lg->topics[1] + 12, d->cfg.batcher.b, 20) == 0;
}

int derive_blobs_is_post(const rollup_derive *d, const rollup_l1_log *lg)
{
    return is_blob_log(d, lg) && from_batcher(d, lg);
}

/* The commitments of a postBlobs(bytes) call from the batcher to the inbox
 * carrying as many blobs: *c points into the calldata. 0, or a reason. */
static int post_commitments(const rollup_derive *d, const rollup_l1_tx *tx, const uint8_t **c,
                            size_t *nc, char *why, size_t whylen)
{
    static uint8_t sel[4];
    static int sel_set;
    if (!sel_set) {
        rollup_abi_selector(sel, "postBlobs(bytes)");
        sel_set = 1;
    }
    const uint8_t *p = NULL;
    size_t n = 0;
    if (tx->type != 3 || memcmp(tx->from.b, d->cfg.batcher.b, 20) != 0 || !tx->has_to ||
        memcmp(tx->to.b, d->cfg.batch_inbox.b, 20) != 0 || tx->input_len < 4 ||
        memcmp(tx->input, sel, 4) != 0 ||
        rollup_abi_bytes(tx->input + 4, tx->input_len - 4, 0, &p, &n, NULL)) {
        snprintf(why, whylen,
                 "not a blob transaction calling postBlobs(commitments) from the "
                 "batcher to the inbox");
        return -1;
    }
    if (n == 0 || n % ROLLUP_KZG_COMMITMENT_BYTES != 0 ||
        n / ROLLUP_KZG_COMMITMENT_BYTES > ROLLUP_BLOBS_PER_TX) {
        snprintf(why, whylen, "postBlobs carries %zu bytes of commitments, not 48 x (1..%d)", n,
                 ROLLUP_BLOBS_PER_TX);
        return -1;
    }
    if (tx->nblob_hashes != n / ROLLUP_KZG_COMMITMENT_BYTES) {
        snprintf(why, whylen, "postBlobs carries %zu commitments for %zu blobs",
                 n / ROLLUP_KZG_COMMITMENT_BYTES, tx->nblob_hashes);
        return -1;
    }
    *c = p;
    *nc = n / ROLLUP_KZG_COMMITMENT_BYTES;
    return 0;
}

/* Checks one BlobPosted log of the batcher (logs [b0, b1) are its block's)
 * and adds its blob to the request. 0, UTIL_ESTATE (its transaction is not
 * in the block) or UTIL_ENOMEM. */
static int add_post(const rollup_derive *d, const rollup_l1_block *blk, derive_blobs *B, size_t b0,
                    size_t b1, const rollup_l1_log *lg)
{
    blob_post *p = &B->posts[B->nposts++];
    memset(p, 0, sizeof *p);
    p->log_index = lg->log_index;
    p->slot = -1;
    const rollup_l1_tx *tx = NULL;
    for (size_t i = 0; i < blk->ntx && !tx; i++)
        if (memcmp(blk->txs[i].hash, lg->tx_hash, 32) == 0) tx = &blk->txs[i];
    if (!tx) return UTIL_ESTATE;
    if (lg->data_len != 32) {
        snprintf(p->err, sizeof p->err, "a BlobPosted log with %zu data bytes, not 32",
                 lg->data_len);
        return 0;
    }
    const uint8_t *c;
    size_t nc;
    if (post_commitments(d, tx, &c, &nc, p->err, sizeof p->err)) return 0;
    /* The contract logs one hash per blob, in blob order: the log's position
     * among its transaction's BlobPosted logs is its blob's index. */
    size_t k = 0;
    for (size_t j = b0; j < b1; j++)
        if (is_blob_log(d, &d->logs[j]) && memcmp(d->logs[j].tx_hash, lg->tx_hash, 32) == 0 &&
            d->logs[j].log_index < lg->log_index)
            k++;
    if (k >= nc) {
        snprintf(p->err, sizeof p->err, "BlobPosted log %zu of a transaction with %zu blobs", k,
                 nc);
        return 0;
    }
    uint8_t vh[32];
    rollup_kzg_versioned_hash(c + k * ROLLUP_KZG_COMMITMENT_BYTES, vh);
    if (memcmp(lg->data, tx->blob_hashes[k], 32) != 0 || memcmp(vh, lg->data, 32) != 0) {
        snprintf(p->err, sizeof p->err,
                 "BlobPosted log %zu: its hash, the transaction's blob hash %zu and the "
                 "versioned hash of commitment %zu differ",
                 k, k, k);
        return 0;
    }
    if (!d->o.beacon) {
        snprintf(p->err, sizeof p->err,
                 "a blob post, and no beacon endpoint (--l1-beacon) to read blobs from");
        return 0;
    }
    for (size_t i = 0; i < B->n; i++)
        if (memcmp(B->hashes[i], vh, 32) == 0) {
            p->slot = (int)i; /* the same blob twice: asked for once */
            return 0;
        }
    if (B->n == ROLLUP_BEACON_MAX_BLOBS) {
        snprintf(p->err, sizeof p->err, "more than %d blobs of the batcher in one L1 block",
                 ROLLUP_BEACON_MAX_BLOBS);
        return 0;
    }
    memcpy(B->hashes[B->n], vh, 32);
    memcpy(B->commits[B->n], c + k * ROLLUP_KZG_COMMITMENT_BYTES, ROLLUP_KZG_COMMITMENT_BYTES);
    p->slot = (int)B->n++;
    return 0;
}

int derive_blobs_unpack(derive_blobs *B, uint8_t **blobs, size_t n, util_err *err)
{
    if (n != B->n) return util_err_set(err, UTIL_EINVAL, "%zu blobs for %zu asked", n, B->n);
    B->frames = calloc(B->n, sizeof *B->frames);
    B->flens = calloc(B->n, sizeof *B->flens);
    B->uerr = calloc(B->n, sizeof *B->uerr);
    util_err e = {0};
    if (!B->frames || !B->flens || !B->uerr) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < B->n; i++) {
        if (!(B->frames[i] = malloc(ROLLUP_BLOB_DATA_MAX)))
            return util_err_set(err, UTIL_ENOMEM, "out of memory");
        if (rollup_blob_unpack(blobs[i], B->frames[i], ROLLUP_BLOB_DATA_MAX, &B->flens[i], &e)) {
            free(B->frames[i]);
            B->frames[i] = NULL;
            snprintf(B->uerr[i], sizeof B->uerr[i], "%s", e.msg);
        }
    }
    B->ready = 1;
    LOG_INFO("derive",
             "L1 block %llu: %zu blob%s read and checked against their commitments in "
             "%.1f ms",
             (unsigned long long)B->block, B->n, B->n == 1 ? "" : "s",
             (double)(uv_hrtime() - B->asked_ns) / 1e6);
    return 0;
}

/* The blobs asked for by derive_blob_log itself (not prefetched: the
 * fetch queue's own answers go to derive_fetch.c). */
static void on_blobs(void *ctx, int rc, uint8_t **blobs, size_t n, const util_err *err)
{
    rollup_derive *d = ctx;
    if (!derive_back(d)) {
        rollup_beacon_blobs_free(blobs, n);
        return;
    }
    if (rc) {
        /* Unreachable, or a blob that does not match its commitment: the
         * endpoint's fault either way. */
        derive_retry_later(d, "beacon blobs", err);
        return;
    }
    util_err e = {0};
    rc = derive_blobs_unpack(d->blobs, blobs, n, &e);
    rollup_beacon_blobs_free(blobs, n);
    if (rc) {
        derive_retry_later(d, "beacon blobs", &e);
        return;
    }
    derive_resume(d);
}

int derive_blobs_plan(const rollup_derive *d, const rollup_l1_block *blk, size_t b0, size_t b1,
                      derive_blobs **out)
{
    *out = NULL;
    size_t cap = 0;
    for (size_t j = b0; j < b1; j++)
        cap += (size_t)derive_blobs_is_post(d, &d->logs[j]);
    derive_blobs *B = calloc(1, sizeof *B);
    if (B) {
        B->posts = calloc(cap ? cap : 1, sizeof *B->posts);
        B->hashes = calloc(cap ? cap : 1, sizeof *B->hashes);
        B->commits = calloc(cap ? cap : 1, sizeof *B->commits);
    }
    if (!B || !B->posts || !B->hashes || !B->commits) {
        derive_blobs_free(B);
        return UTIL_ENOMEM;
    }
    B->block = blk->number;
    memcpy(B->block_hash, blk->hash, 32);
    for (size_t j = b0; j < b1; j++) {
        const rollup_l1_log *lg = &d->logs[j];
        if (!derive_blobs_is_post(d, lg)) continue;
        int rc = add_post(d, blk, B, b0, b1, lg);
        if (rc) {
            derive_blobs_free(B);
            return rc;
        }
    }
    if (B->n == 0) B->ready = 1;
    *out = B;
    return 0;
}

size_t derive_blobs_count(const derive_blobs *B)
{
    return B->ready ? 0 : B->n;
}

int derive_blobs_ask(rollup_derive *d, derive_blobs *B, const rollup_l1_block *blk,
                     rollup_beacon_cb cb, void *ctx, util_err *err)
{
    B->asked_ns = uv_hrtime();
    return rollup_beacon_get_checked_blobs(d->o.beacon, blk->number, blk->timestamp,
                                           (const uint8_t(*)[32])B->hashes,
                                           (const uint8_t(*)[48])B->commits, B->n, cb, ctx, err);
}

void derive_block_logs(const rollup_derive *d, size_t i, size_t *b0, size_t *b1)
{
    uint64_t n = d->logs[i].block_number;
    *b0 = *b1 = i;
    while (*b0 > 0 && d->logs[*b0 - 1].block_number == n)
        (*b0)--;
    while (*b1 < d->nlogs && d->logs[*b1].block_number == n)
        (*b1)++;
}

/* Checks every blob post of d->blk (the block of d->logs[d->li]) and asks
 * for their blobs, when the fetch queue did not. 0 (ready: nothing to
 * fetch), DERIVE_BLOBS_WAIT, UTIL_ESTATE, or UTIL_ENOMEM (halted). */
static int prepare(rollup_derive *d)
{
    size_t b0, b1;
    derive_block_logs(d, d->li, &b0, &b1);
    int rc = derive_blobs_plan(d, &d->blk, b0, b1, &d->blobs);
    if (rc == UTIL_ENOMEM) derive_halt(d, "out of memory reading blob posts");
    if (rc || d->blobs->ready) return rc;
    util_err e = {0};
    if (derive_blobs_ask(d, d->blobs, &d->blk, on_blobs, d, &e)) {
        derive_retry_later(d, "beacon blobs", &e);
        return DERIVE_BLOBS_WAIT;
    }
    d->inflight = 1;
    return DERIVE_BLOBS_WAIT;
}

int derive_blob_log(rollup_derive *d, const rollup_l1_log *log)
{
    /* Only the batcher's posts count (the contract refuses others). */
    if (!from_batcher(d, log)) return 0;
    derive_blobs *B = d->blobs;
    if (!B || B->block != log->block_number || memcmp(B->block_hash, log->block_hash, 32) != 0) {
        derive_blobs_clear(d);
        int rc = prepare(d);
        if (rc == UTIL_ENOMEM) return 0;
        if (rc) return rc;
        B = d->blobs;
    }
    char txh[67];
    hex32(txh, log->tx_hash);
    const blob_post *p = NULL;
    for (size_t i = 0; i < B->nposts && !p; i++)
        if (B->posts[i].log_index == log->log_index) p = &B->posts[i];
    if (!p) return UTIL_ESTATE; /* the logs changed under us */
    if (p->err[0]) {
        derive_halt(d, "L1 tx %s: %s", txh, p->err);
        return 0;
    }
    size_t s = (size_t)p->slot;
    if (!B->frames[s]) {
        char vh[67];
        hex32(vh, B->hashes[s]);
        derive_halt(d, "L1 tx %s: the blob with versioned hash %s does not unpack: %s", txh, vh,
                    B->uerr[s]);
        return 0;
    }
    return derive_frame(d, log, B->frames[s], B->flens[s]);
}
