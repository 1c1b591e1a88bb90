/* Private glue between rollup/derive.c (the L1 steps, reorganisations,
 * status) and rollup/derive_apply.c (frames, batches, blocks and outputs);
 * not a public interface. */
#ifndef OL_ROLLUP_DERIVE_INTERNAL_H
#define OL_ROLLUP_DERIVE_INTERNAL_H

#include "rollup/batch.h"
#include "rollup/derive.h"

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

#endif
