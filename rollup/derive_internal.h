/* Private glue between rollup/derive.c (the L1 steps, reorganisations,
 * status) and rollup/derive_apply.c (frames, batches, blocks and outputs);
 * not a public interface. */
#ifndef OL_ROLLUP_DERIVE_INTERNAL_H
#define OL_ROLLUP_DERIVE_INTERNAL_H

#include "rollup/batch.h"
#include "rollup/derive.h"

/* The fetch queue's bounds (derive_fetch.c): while the frames of one L1
 * block are applied, the blocks (with their transactions) and the checked
 * blobs of at most DERIVE_FETCH_WINDOW next L1 blocks with posts (each
 * holds one log or more) are fetched or held, and together at most
 * DERIVE_FETCH_BYTES of posted data: each block counts its blobs
 * (ROLLUP_BEACON_BLOB_BYTES each) and its calldata frames (ROLLUP_FRAME_MAX
 * each, and once fetched, the calldata of all its transactions when more).
 * The first block after the one at hand is fetched whatever its size. */
#define DERIVE_FETCH_WINDOW 4
/* 2.25 MiB: two L1 blocks of blobs at Prague's maximum (9 per block). */
#define DERIVE_FETCH_BYTES (18u * ROLLUP_BEACON_BLOB_BYTES)

/* A posted output root, as the OutputProposed log gave it. */
typedef struct derive_output {
    uint64_t height;
    uint8_t root[32];
    uint64_t ts; /* the L1 timestamp the oracle stored */
    uint64_t l1_block;
    uint8_t tx[32];
    int checked; /* compared with our block of that height, and equal */
} derive_output;

struct rollup_derive {
    uv_loop_t *loop;
    rollup_l1 *l1;
    rollup_config cfg;
    const chain_genesis *g;
    chain_store *st;
    rollup_derive_opts o;
    rollup_assembler *as;
    uv_timer_t timer;
    int started, closing, inflight, timer_closed;
    uint32_t range; /* L1 blocks per step, halved while a range has too many logs */

    /* The last L1 block read, and the hash it had (unknown right after a
     * start or a reset: the next step's end sets it). */
    uint64_t cursor;
    int has_cursor_hash;
    uint8_t cursor_hash[32];

    /* The step in progress. */
    uint64_t latest_hash_num;
    uint8_t latest_hash[32];
    uint64_t to;
    uint8_t to_hash[32];
    rollup_l1_log *logs;
    size_t nlogs, li;
    int has_blk;
    rollup_l1_block blk;
    struct derive_blobs *blobs; /* the blob posts of blk (derive_blobs.c), or NULL */

    /* The fetch queue (derive_fetch.c): the next L1 blocks with posts of
     * the step, in log order, fetched ahead of application. */
    struct derive_fetch *fq, *fq_tail;
    size_t fq_n, fq_bytes;
    size_t fq_beacon; /* its blob requests in flight */
    size_t fq_next;   /* the first log whose block is not queued */
    int fq_waiting;   /* the step waits for the queue's first block */

    /* A reorganisation walk: the L2 height whose origin is being checked. */
    uint64_t walk_h, walk_n;
    uint8_t walk_hash[32];
    uint64_t seed_height; /* the oracle's latest output, read at start */

    derive_output *outs;
    size_t nouts, cap_outs;

    rollup_derive_status s;
};

/* The keccak topics of the logs derivation reads. */
extern uint8_t derive_topic_batch[32], derive_topic_output[32], derive_topic_frozen[32];

/* The logs of d->logs[i]'s L1 block: d->logs[*b0, *b1). */
void derive_block_logs(const rollup_derive *d, size_t i, size_t *b0, size_t *b1);

/* The fetch queue (rollup/derive_fetch.c). Its answers are consumed
 * strictly in log order: derive_fetch_take hands over the block of
 * d->logs[d->li] only, once fetched (with its blobs checked). */
/* What derive_fetch_take says besides 0 (d->blk is the block of the log):
 * the block (and its blobs) are not there yet (the step goes on with
 * derive_resume when they are); the block is gone or has another hash (a
 * reorganisation); the L1 call failed (the step starts again after
 * poll_ms); the beacon endpoint failed (the block is fetched again after
 * poll_ms, derive_retry_later). err says why for the last two. */
enum { DERIVE_FETCH_WAIT = 100, DERIVE_FETCH_REORG, DERIVE_FETCH_L1, DERIVE_FETCH_BEACON };
/* Fills d->blk (and d->blobs, NULL when derive_blob_log is to ask for them
 * itself) with the block of d->logs[d->li], first queueing the blocks of
 * the next posts within the bounds. 0 or DERIVE_FETCH_*. */
OL_MUST_CHECK int derive_fetch_take(rollup_derive *d, util_err *err);
/* Drops everything queued (step done, new logs, reorganisation, halt,
 * close); answers still to come are freed when they arrive. */
void derive_fetch_clear(rollup_derive *d);
/* In derive.c: an L1 call with its own callback context. */
OL_MUST_CHECK int derive_l1_call(rollup_derive *d, const char *method, json_t *params,
                                 rollup_l1_cb cb, void *ctx, util_err *err);

/* Halts derivation for good (until a restart) with a reason; logged once. */
void derive_halt(rollup_derive *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void derive_lock(rollup_derive *d);
void derive_unlock(rollup_derive *d);

/* A BatchPosted log whose transaction's block is d->blk: checks the
 * transaction and its frame, feeds the assembler and derives what a
 * completed channel carries. 0 (done, or halted: d->s.halted), or
 * UTIL_ESTATE when the L1 answer is inconsistent (the transaction is not in
 * the block): the step starts over from a reorganisation check. */
OL_MUST_CHECK int derive_post(rollup_derive *d, const rollup_l1_log *log);
/* One frame the batcher posted (from calldata, or from a blob once checked
 * against its commitment), in L1 order; log names its L1 transaction and
 * block. Feeds the assembler and derives what a completed channel carries.
 * 0 (done, or halted: d->s.halted). */
OL_MUST_CHECK int derive_frame(rollup_derive *d, const rollup_l1_log *log, const uint8_t *frame,
                               size_t flen);
/* Records a posted output (l1_block 0: read from the oracle's storage at
 * start, its log not seen) and checks it when its height is derived. */
void derive_add_output(rollup_derive *d, uint64_t height, const uint8_t root[32], uint64_t ts,
                       uint64_t l1_block, const uint8_t tx[32]);
/* An OutputProposed or Frozen log of the oracle. */
void derive_oracle_log(rollup_derive *d, const rollup_l1_log *log);
/* Compares every unchecked output at a height <= head with our block;
 * halts on a mismatch. */
void derive_check_outputs(rollup_derive *d);
/* Recomputes s.head, s.safe and s.finalized. */
void derive_update_heads(rollup_derive *d);

/* The signature checks of a batch's blocks (rollup/derive_sigs.c), run on
 * worker threads ahead of the blocks' execution on the loop. Each valid
 * signature is cached in its transaction (sig_checked); an invalid one is
 * left unchecked, for validate to refuse its block. */
typedef struct derive_sigs derive_sigs;
typedef struct derive_sigs_stats {
    int workers;                 /* threads besides the loop */
    size_t loop_txs, worker_txs; /* transactions checked on each side */
    uint64_t loop_ns, worker_ns; /* time spent checking, summed per side */
} derive_sigs_stats;
/* Starts checking blocks[0..n) (which must outlive derive_sigs_end), earliest
 * first, on up to workers threads. NULL when out of memory: validate then
 * checks every signature itself. */
derive_sigs *derive_sigs_start(chain_block *blocks, size_t n, const uint8_t genesis_hash[32],
                               int workers);
/* Returns once every signature of blocks[i] was checked, checking chunks
 * on the calling thread meanwhile. s NULL: returns at once. */
void derive_sigs_wait(derive_sigs *s, size_t i);
/* Stops the workers (what they did not claim stays unchecked), joins them,
 * fills st (may be NULL) and frees s. */
void derive_sigs_end(derive_sigs *s, derive_sigs_stats *st);
/* The worker threads to use: one per core but one. */
int derive_sigs_workers(void);

#endif
