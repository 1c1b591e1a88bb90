/* The inbox watch: the scan of rollup/inbox.h made incremental, for a node
 * that reports the rollup's `safe` head every few seconds (docs/rollup.md,
 * "Scanning the inbox").
 *
 * The watch keeps what the blocks scanned so far hold: the batches found, the
 * channel reassembly state (rollup_asm, so a channel whose frames span two
 * ticks completes) and a cursor, the number and hash of the last L1 block
 * scanned. A tick asks for the L1 head (eth_getBlockByNumber "latest"); when
 * it is the cursor, that one request is the tick. Otherwise it checks that
 * the cursor block is still the canonical one at its number (one
 * eth_getBlockByNumber) and reads only (cursor, head] as the scan reads its
 * range: eth_getLogs, ROLLUP_INBOX_LOG_RANGE blocks per request, the blocks
 * holding posts, and the blobs of new blob posts (one beacon request per
 * block, KZG-checked). Each block holding posts moves the cursor once its
 * frames are in, so a tick that fails half-way (an endpoint error, a beacon
 * that does not answer) resumes after the last block taken.
 *
 * An L1 reorganisation is seen at the next tick: the cursor block is no
 * longer canonical (or the head fell below it). The watch then rewinds to
 * the newest checkpoint still canonical (one eth_getBlockByNumber per
 * checkpoint tried, newest first): a checkpoint is taken at the end of a
 * tick when no channel can still be open at that block (every multi-frame
 * channel seen either completed or is more than cfg.channel_timeout_blocks
 * old, so the assembler would drop it at the next frame), and it keeps the
 * number of batches and the block's hash; rewinding truncates the batches
 * and empties the assembler, and the scan resumes after the checkpoint. The
 * last ROLLUP_INBOX_WATCH_CHECKPOINTS are kept. With none canonical (a
 * reorganisation deeper than the oldest, or before the first one) the watch
 * scans again from cfg.deploy_block. Either way the batches equal those of a
 * full scan (rollup_inbox_scan is one tick of a new watch). Like the scan,
 * a tick trusts that the logs it reads belong to the branch of the head it
 * read first: each block holding posts must have the hash its logs name (else
 * UTIL_ESTATE), and a branch switch is seen at the next tick, but a switch
 * away and back while one tick runs is not.
 *
 * Memory: one rollup_inbox_batch (about 100 bytes) per batch found, which
 * grows with the chain; the assembler's open channels (bounded by rollup_asm);
 * per tick, the logs of one eth_getLogs range and the blobs of one L1 block,
 * freed when the tick ends.
 *
 * Threading: the watch runs on l1's loop and is used from its thread; l1 and
 * beacon are borrowed and must outlive it (or be closed first: closing them
 * ends a tick in flight with UTIL_ESTATE). */
#ifndef OL_ROLLUP_INBOX_WATCH_H
#define OL_ROLLUP_INBOX_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "rollup/config.h"
#include "rollup/inbox.h"
#include "rollup/l1/beacon.h"
#include "rollup/l1/client.h"
#include "util/err.h"

#define ROLLUP_INBOX_WATCH_CHECKPOINTS 16

typedef struct rollup_inbox_watch rollup_inbox_watch;

/* What the watch did (for tests and diagnostics). */
typedef struct rollup_inbox_watch_stats {
    uint64_t ticks;                        /* ticks started */
    uint64_t l1_requests;                  /* JSON-RPC requests sent */
    uint64_t log_requests, block_requests; /* eth_getLogs; blocks holding posts */
    uint64_t blob_requests, blobs;         /* beacon requests; blobs fetched */
    uint64_t reorgs;                       /* cursor found no longer canonical */
    uint64_t rewinds;                      /* ... and a checkpoint was: resumed from it */
    uint64_t rescans;                      /* ... and none was: scanned again from deployBlock */
    int has_cursor;
    uint64_t cursor; /* last L1 block scanned */
} rollup_inbox_watch_stats;

/* cfg is copied. beacon may be NULL (a blob post then fails the tick, as it
 * fails the scan). Nothing is read until the first tick. */
OL_MUST_CHECK int rollup_inbox_watch_new(rollup_inbox_watch **out, rollup_l1 *l1,
                                         rollup_beacon *beacon, const rollup_config *cfg,
                                         util_err *err);

/* Frees the watch. With a tick in flight its callback will not run, and the
 * memory goes when the pending answer returns (or its client is closed).
 * May be called from the tick's callback. NULL is allowed. */
void rollup_inbox_watch_free(rollup_inbox_watch *w);

/* Reads what is new on the L1 and calls cb (as rollup_inbox_scan's: every
 * batch found since cfg.deploy_block, in L1 order, and the head; or an error,
 * UTIL_ESTATE for an L1 reorganisation seen during the tick, which the next
 * tick handles). cb runs exactly once, on the loop, never inside this call.
 * One tick at a time: UTIL_ESTATE while one is in flight. 0, or an error and
 * cb never runs. */
OL_MUST_CHECK int rollup_inbox_watch_tick(rollup_inbox_watch *w, rollup_inbox_cb cb, void *ctx,
                                          util_err *err);

void rollup_inbox_watch_get_stats(const rollup_inbox_watch *w, rollup_inbox_watch_stats *out);

#endif
