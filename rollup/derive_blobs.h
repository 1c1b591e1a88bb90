/* Private glue between rollup/derive.c (the L1 steps) and
 * rollup/derive_blobs.c (the batcher's blob posts: BlobPosted logs, their
 * postBlobs transactions, the blobs from the beacon endpoint checked against
 * their commitments); not a public interface. docs/rollup.md, "Blobs". */
#ifndef OL_ROLLUP_DERIVE_BLOBS_H
#define OL_ROLLUP_DERIVE_BLOBS_H

#include "rollup/derive_internal.h"

/* keccak256("BlobPosted(address,bytes32)"), set by rollup_derive_new. */
typedef struct derive_blobs derive_blobs;

extern uint8_t derive_topic_blob[32];

/* derive_blob_log waits for the beacon endpoint and the KZG check: the
 * step goes on with derive_resume once they are done. */
#define DERIVE_BLOBS_WAIT 1

/* A BlobPosted log of the inbox at d->logs[d->li], its block in d->blk. The
 * fetch queue (derive_fetch.c) has usually read and checked the block's
 * blobs already (d->blobs); if not, the first one of an L1 block checks
 * every blob post of that block and fetches their blobs with one beacon
 * request (DERIVE_BLOBS_WAIT); once they are
 * checked, each log's frame goes to derive_frame in log order. 0 (done, or
 * halted), DERIVE_BLOBS_WAIT, or UTIL_ESTATE (the transaction is not in the
 * block: the L1 answer is inconsistent, the step starts over from a
 * reorganisation check). */
OL_MUST_CHECK int derive_blob_log(rollup_derive *d, const rollup_l1_log *log);
/* Forgets the blobs of the block at hand (step done, reorganisation, retry,
 * close). */
void derive_blobs_clear(rollup_derive *d);

/* The steps of derive_blob_log's first call for a block, apart, for the
 * fetch queue (derive_fetch.c) to run them ahead of application. */

/* A BlobPosted log of the inbox from the batcher. */
int derive_blobs_is_post(const rollup_derive *d, const rollup_l1_log *lg);
/* Checks the blob posts among d->logs[b0, b1) (the logs of blk) and lists
 * the blobs to ask for. 0 (*out set; ready at once when there is nothing
 * to ask for: a post the batcher got wrong halts only when derivation
 * reaches its log), UTIL_ESTATE (a logged transaction is not in blk) or
 * UTIL_ENOMEM. */
OL_MUST_CHECK int derive_blobs_plan(const rollup_derive *d, const rollup_l1_block *blk, size_t b0,
                                    size_t b1, derive_blobs **out);
/* How many blobs B still waits for (0: ready). */
size_t derive_blobs_count(const derive_blobs *B);
/* Asks opts.beacon for B's blobs, checked against their commitments;
 * cb(ctx) runs once, later (rollup_beacon_get_checked_blobs). */
OL_MUST_CHECK int derive_blobs_ask(rollup_derive *d, derive_blobs *B, const rollup_l1_block *blk,
                                   rollup_beacon_cb cb, void *ctx, util_err *err);
/* Unpacks the checked blobs[0..n) into B's frames (the blobs stay the
 * caller's); B is then ready. 0, UTIL_EINVAL (not the count asked) or
 * UTIL_ENOMEM. */
OL_MUST_CHECK int derive_blobs_unpack(derive_blobs *B, uint8_t **blobs, size_t n, util_err *err);
void derive_blobs_free(derive_blobs *B);

/* In derive.c: goes on with the logs of the step from d->li. */
void derive_resume(rollup_derive *d);
/* In derive.c: the beacon endpoint failed or gave a wrong blob; logs it and
 * reads the log at d->li again after poll_ms (its block fetched again, so a
 * reorganisation meanwhile is seen). */
void derive_retry_later(rollup_derive *d, const char *what, const util_err *err);
/* In derive.c: an asynchronous answer came back (beacon, KZG check). 1 when
 * the step goes on, 0 when the deriver is closing (then it may be freed). */
int derive_back(rollup_derive *d);

#endif
