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
 * first one of an L1 block checks every blob post of that block and fetches
 * their blobs with one beacon request (DERIVE_BLOBS_WAIT); once they are
 * checked, each log's frame goes to derive_frame in log order. 0 (done, or
 * halted), DERIVE_BLOBS_WAIT, or UTIL_ESTATE (the transaction is not in the
 * block: the L1 answer is inconsistent, the step starts over from a
 * reorganisation check). */
OL_MUST_CHECK int derive_blob_log(rollup_derive *d, const rollup_l1_log *log);
/* Forgets the blobs of the block at hand (step done, reorganisation, retry,
 * close). */
void derive_blobs_clear(rollup_derive *d);

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
