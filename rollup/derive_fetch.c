/* Derivation's fetch queue: the L1 blocks (eth_getBlockByNumber with their
 * transactions) and the checked blobs of the next posts of a step, fetched
 * while the frames of the block at hand are applied, so that reading the
 * L1 is off the critical path (docs/rollup.md, "Derivation").
 *
 * The queue holds the next L1 blocks with posts of the step's logs, in log
 * order, within DERIVE_FETCH_WINDOW blocks and DERIVE_FETCH_BYTES of posted
 * data (rollup/derive_internal.h). Answers may arrive in any order; they
 * are consumed in log order only (derive_fetch_take hands over the queue's
 * first block, and only for the log derivation is at), so what derivation
 * does is what it did reading one block at a time: what a fetched block
 * says (another hash, a failure) is acted upon when derivation reaches its
 * first log. Each fetch has its own context: derive_fetch_clear detaches
 * the ones in flight, which then free themselves and their answer when it
 * arrives, whatever became of the deriver. */
#include <stdlib.h>
#include <string.h>

#include "rollup/derive_blobs.h"
#include "rollup/l1/beacon.h"
#include "util/log.h"

/* Asked for the block; planned its blobs, waiting for a beacon slot; asked
 * for the blobs; ready (or failed). */
enum { F_BLOCK, F_PLANNED, F_BLOBS, F_READY };

typedef struct derive_fetch {
    struct derive_fetch *next;
    rollup_derive *d; /* NULL once dropped: the answer in flight frees it */
    uint64_t number;
    uint8_t hash[32]; /* the block hash its logs give */
    size_t b0, b1;    /* its logs: d->logs[b0, b1) */
    size_t charge;    /* bytes counted in d->fq_bytes */
    int state;
    int fail; /* F_READY: 0 or DERIVE_FETCH_REORG, _L1, _BEACON */
    util_err err;
    int has_blk;
    rollup_l1_block blk;
    derive_blobs *blobs; /* NULL: derive_blob_log asks for them itself */
} derive_fetch;

static void item_free(derive_fetch *it)
{
    if (it->has_blk) rollup_l1_block_free(&it->blk);
    derive_blobs_free(it->blobs);
    free(it);
}

static int is_post(const rollup_derive *d, const rollup_l1_log *lg)
{
    if (lg->removed || lg->ntopics == 0 || memcmp(lg->address.b, d->cfg.batch_inbox.b, 20) != 0)
        return 0;
    return memcmp(lg->topics[0], derive_topic_batch, 32) == 0 ||
           memcmp(lg->topics[0], derive_topic_blob, 32) == 0;
}

/* Posted bytes a block will hold, from its logs (before it is fetched). */
static size_t charge_of(const rollup_derive *d, size_t b0, size_t b1)
{
    size_t c = 0;
    for (size_t j = b0; j < b1; j++) {
        const rollup_l1_log *lg = &d->logs[j];
        if (!is_post(d, lg)) continue;
        if (derive_blobs_is_post(d, lg))
            c += ROLLUP_BEACON_BLOB_BYTES;
        else if (memcmp(lg->topics[0], derive_topic_batch, 32) == 0)
            c += ROLLUP_FRAME_MAX;
    }
    return c;
}

static void recharge(rollup_derive *d, derive_fetch *it, size_t c)
{
    d->fq_bytes = d->fq_bytes - it->charge + c;
    it->charge = c;
}

/* Derivation goes on if it waits for the queue's first block and that is
 * there (or failed). */
static void wake(rollup_derive *d)
{
    if (d->fq_waiting && d->fq && d->fq->state == F_READY && !d->closing && !d->s.halted) {
        d->fq_waiting = 0;
        derive_resume(d);
    }
}

static void on_blobs(void *ctx, int rc, uint8_t **blobs, size_t n, const util_err *err);

/* The KZG check of a request takes one core (rollup_kzg_verify_blobs on
 * the thread pool): more requests at once than cores would only slow down
 * the first one, the block derivation waits for. */
static size_t beacon_slots(void)
{
    unsigned c = uv_available_parallelism();
    return c < 1 ? 1 : c > DERIVE_FETCH_WINDOW ? DERIVE_FETCH_WINDOW : c;
}

/* Asks for the blobs of planned blocks while slots are free, strictly
 * earliest first: a later block whose answer came first waits for the
 * earlier ones to be asked (blocks come back within milliseconds, a KZG
 * check takes tens of them). */
static void ask_next(rollup_derive *d)
{
    for (derive_fetch *it = d->fq; it && d->fq_beacon < beacon_slots(); it = it->next) {
        if (it->state == F_BLOCK) break;
        if (it->state != F_PLANNED) continue;
        util_err e = {0};
        if (derive_blobs_ask(d, it->blobs, &it->blk, on_blobs, it, &e)) {
            it->fail = DERIVE_FETCH_BEACON;
            it->err = e;
            derive_blobs_free(it->blobs);
            it->blobs = NULL;
            it->state = F_READY;
            continue;
        }
        it->state = F_BLOBS;
        d->fq_beacon++;
    }
}

static void on_blobs(void *ctx, int rc, uint8_t **blobs, size_t n, const util_err *err)
{
    derive_fetch *it = ctx;
    if (!it->d) {
        rollup_beacon_blobs_free(blobs, n);
        item_free(it);
        return;
    }
    rollup_derive *d = it->d;
    d->fq_beacon--;
    util_err e = {0};
    if (rc == 0)
        rc = derive_blobs_unpack(it->blobs, blobs, n, &e);
    else if (err)
        e = *err;
    rollup_beacon_blobs_free(blobs, n);
    if (rc) {
        /* The endpoint's fault (or memory): read again, as derive_blob_log
         * would, once derivation reaches this block. */
        it->fail = DERIVE_FETCH_BEACON;
        it->err = e;
        derive_blobs_free(it->blobs);
        it->blobs = NULL;
    }
    it->state = F_READY;
    ask_next(d);
    wake(d);
}

/* Plans the block's blobs. A post that makes the plan fail (a transaction
 * not in the block, memory) is left to derive_blob_log, which plans again
 * when derivation reaches it and acts in log order. */
static void plan_blobs(rollup_derive *d, derive_fetch *it)
{
    size_t nb = 0;
    for (size_t j = it->b0; j < it->b1; j++)
        nb += (size_t)derive_blobs_is_post(d, &d->logs[j]);
    it->state = F_READY;
    if (!nb || derive_blobs_plan(d, &it->blk, it->b0, it->b1, &it->blobs)) return;
    if (derive_blobs_count(it->blobs) > 0) it->state = F_PLANNED;
}

static void on_block(void *ctx, int rc, json_t *res, const util_err *err)
{
    derive_fetch *it = ctx;
    rollup_derive *d = it->d;
    if (!d) {
        item_free(it);
        return;
    }
    if (rc) {
        it->fail = DERIVE_FETCH_L1;
        if (err)
            it->err = *err;
        else
            util_err_set(&it->err, rc, "?");
    } else if (json_is_null(res)) {
        it->fail = DERIVE_FETCH_REORG; /* gone since the logs were read */
    } else if (rollup_l1_parse_block(res, 1, ROLLUP_L1_MAX_BODY, &it->blk, &it->err)) {
        it->fail = DERIVE_FETCH_L1;
    } else {
        it->has_blk = 1;
        if (memcmp(it->blk.hash, it->hash, 32) != 0) {
            it->fail = DERIVE_FETCH_REORG;
        } else {
            size_t c = 0;
            for (size_t i = 0; i < it->blk.ntx; i++)
                c += it->blk.txs[i].input_len;
            if (c > it->charge) recharge(d, it, c);
            plan_blobs(d, it);
            ask_next(d);
            wake(d);
            return;
        }
    }
    it->state = F_READY;
    ask_next(d); /* the blocks behind it may ask for their blobs now */
    wake(d);
}

/* Queues the block of d->logs[i] (i the first log of it not queued). 0, or
 * an error (the call could not be made: memory). */
static int push(rollup_derive *d, size_t i, size_t b0, size_t b1, size_t charge, util_err *err)
{
    derive_fetch *it = calloc(1, sizeof *it);
    if (!it) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    it->d = d;
    it->number = d->logs[i].block_number;
    memcpy(it->hash, d->logs[i].block_hash, 32);
    it->b0 = b0;
    it->b1 = b1;
    json_t *p = json_pack("[o,b]", rollup_l1_quantity(it->number), 1);
    int rc = p ? derive_l1_call(d, "eth_getBlockByNumber", p, on_block, it, err)
               : util_err_set(err, UTIL_ENOMEM, "out of memory");
    json_decref(p);
    if (rc) {
        free(it);
        return rc;
    }
    it->charge = charge;
    d->fq_bytes += charge;
    if (d->fq_tail)
        d->fq_tail->next = it;
    else
        d->fq = it;
    d->fq_tail = it;
    d->fq_n++;
    return 0;
}

/* Queues the blocks of the next posts from d->fq_next on, within the
 * bounds; the first one whatever its size. */
static int fill(rollup_derive *d, util_err *err)
{
    while (d->fq_n < DERIVE_FETCH_WINDOW && d->fq_next < d->nlogs) {
        size_t i = d->fq_next;
        if (!is_post(d, &d->logs[i])) {
            d->fq_next++;
            continue;
        }
        size_t b0, b1;
        derive_block_logs(d, i, &b0, &b1);
        /* Logs after i in the same block but of another block hash cannot
         * be: one answer of eth_getLogs sees one chain. */
        size_t c = charge_of(d, b0, b1);
        if (d->fq && d->fq_bytes + c > DERIVE_FETCH_BYTES) break;
        int rc = push(d, i, b0, b1, c, err);
        if (rc) return rc;
        d->fq_next = b1;
    }
    return 0;
}

void derive_fetch_clear(rollup_derive *d)
{
    derive_fetch *it = d->fq;
    while (it) {
        derive_fetch *next = it->next;
        if (it->state == F_READY || it->state == F_PLANNED) {
            item_free(it); /* nothing in flight */
        } else {
            it->d = NULL; /* freed by its answer */
            it->next = NULL;
        }
        it = next;
    }
    d->fq = d->fq_tail = NULL;
    d->fq_n = d->fq_bytes = d->fq_beacon = 0;
    d->fq_next = 0;
    d->fq_waiting = 0;
}

int derive_fetch_take(rollup_derive *d, util_err *err)
{
    const rollup_l1_log *lg = &d->logs[d->li];
    derive_fetch *it = d->fq;
    /* The queue runs from the block at hand on; anything else (a block
     * fetched again after a failure) starts it over. */
    if (it && !(it->number == lg->block_number && memcmp(it->hash, lg->block_hash, 32) == 0 &&
                it->b0 <= d->li && d->li < it->b1))
        derive_fetch_clear(d);
    if (!d->fq) d->fq_next = d->li;
    /* A later block that could not be asked for is asked again later. */
    int frc = fill(d, err);
    if (!d->fq) {
        if (!frc) util_err_set(err, UTIL_ESTATE, "no posting block to fetch");
        return DERIVE_FETCH_L1;
    }
    it = d->fq;
    if (it->state != F_READY) {
        d->fq_waiting = 1;
        return DERIVE_FETCH_WAIT;
    }
    d->fq = it->next;
    if (!d->fq) d->fq_tail = NULL;
    d->fq_n--;
    d->fq_bytes -= it->charge;
    int rc = it->fail;
    if (rc) {
        *err = it->err;
    } else {
        d->blk = it->blk;
        d->has_blk = 1;
        it->has_blk = 0;
        d->blobs = it->blobs;
        it->blobs = NULL;
    }
    item_free(it);
    if (rc == 0) {
        /* The window moves on while this block is applied. */
        util_err e = {0};
        if (fill(d, &e)) LOG_WARN("derive", "fetching ahead: %s", e.msg);
    }
    return rc;
}
