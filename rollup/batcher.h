/* The batcher: posts every committed L2 block to the L1's BatchInbox
 * (docs/rollup.md, "Batcher").
 *
 * On the node's loop, every opts.poll_ms it
 *   - reads the L1 head and checks that the L1 blocks holding its latest
 *     batches still have the hashes it recorded (a changed hash, a vanished
 *     block or a head going backwards is an L1 reorganisation);
 *   - when blocks wait (from the first L2 height not on the L1 to the store's
 *     head) and there are opts.max_blocks of them, or the oldest has waited
 *     opts.max_delay_ms, encodes them as one batch (rollup_batch_encode),
 *     splits it into frames and queues one BatchInbox.post(frame) per frame
 *     through the transaction manager, one batch at a time; in blob mode
 *     (opts.blobs) each frame goes into one EIP-4844 blob instead, up to
 *     ROLLUP_BLOBS_PER_TX blobs per type-3 transaction calling
 *     BatchInbox.postBlobs(commitments) (docs/rollup.md, "Blobs"). The
 *     blobs' KZG commitments and proofs take tens of milliseconds each: they
 *     are made on libuv's thread pool (uv_queue_work), not on the loop.
 * A batch counts as posted when all its transactions are mined.
 * At start, after a reorganisation and after a failed post it waits until
 * the L1 account has no pending transaction, then scans the inbox
 * (rollup/inbox.h) and posts again from the first L2 height the L1 lacks: no
 * gap, and no height twice.
 *
 * The batcher borrows l1, txmgr and store for its life. It reads the store
 * from the loop's thread only (reads need no lock). */
#ifndef OL_ROLLUP_BATCHER_H
#define OL_ROLLUP_BATCHER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "chain/state/store.h"
#include "rollup/config.h"
#include "rollup/l1/beacon.h"
#include "rollup/l1/client.h"
#include "rollup/l1/txmgr.h"
#include "util/err.h"

#define ROLLUP_BATCHER_MAX_BLOCKS 100    /* default blocks per batch */
#define ROLLUP_BATCHER_MAX_DELAY_MS 5000 /* default wait of the oldest unposted block */
#define ROLLUP_BATCHER_POLL_MS 1000
#define ROLLUP_BATCHER_ZSTD_LEVEL 9
/* Raw block bytes per batch: a batch stops before this (always holds one). */
#define ROLLUP_BATCHER_MAX_RAW (8u * 1024 * 1024)
/* Batches remembered for the reorganisation check (the newest ones). */
#define ROLLUP_BATCHER_RECORDS 64

typedef struct rollup_batcher rollup_batcher;

typedef struct rollup_batcher_opts {
    uint32_t max_blocks;   /* 0: ROLLUP_BATCHER_MAX_BLOCKS (at most ROLLUP_BATCH_MAX_BLOCKS) */
    uint32_t max_delay_ms; /* 0: ROLLUP_BATCHER_MAX_DELAY_MS */
    uint32_t poll_ms;      /* 0: ROLLUP_BATCHER_POLL_MS */
    int zstd_level;        /* 0: ROLLUP_BATCHER_ZSTD_LEVEL */
    size_t frame_max;      /* payload bytes per frame; 0: ROLLUP_FRAME_MAX */
    int blobs;             /* post frames in blobs (postBlobs), not calldata (post) */
    /* Where the inbox scans read blob posts (borrowed; NULL: blob posts on
     * the L1 cannot be read, and a scan that meets one fails). Needed in
     * blob mode, and in calldata mode on an inbox that ever held blobs. */
    rollup_beacon *beacon;
} rollup_batcher_opts;

typedef struct rollup_batcher_info {
    int ready;        /* the first inbox scan finished */
    uint64_t l1_head; /* last L1 block number seen */
    uint64_t posted;  /* highest L2 height on the L1, contiguous from 1 (0: none) */
    uint64_t safe;    /* of those, in L1 blocks at least cfg.confirmations deep */
    int has_latest;   /* the fields below describe the latest batch */
    uint64_t latest_first, latest_last;
    uint64_t latest_l1_block;
    uint8_t latest_tx[32]; /* its last frame's transaction */
    /* Counters of this process (not of earlier runs). */
    uint64_t batches, frames, bytes, blocks; /* bytes: frame bytes posted */
    uint64_t txs;                            /* L1 transactions of those batches */
    uint64_t gas_used, fee_wei;              /* execution gas and its fee, all posts */
    /* Blob mode: blobs posted (one per frame), their blob gas and its fee
     * (receipts' blobGasUsed x blobGasPrice), all posts. */
    uint64_t blobs, blob_gas_used, blob_fee_wei;
    uint64_t reorgs, scans, failures;
} rollup_batcher_info;

OL_MUST_CHECK int rollup_batcher_new(rollup_batcher **out, uv_loop_t *loop, rollup_l1 *l1,
                                     rollup_txmgr *txmgr, chain_store *store,
                                     const rollup_config *cfg, const rollup_batcher_opts *opts,
                                     util_err *err);
/* Stops the batcher. Calls still in flight finish on the loop (their
 * results are dropped) and the batcher frees itself after the last; close
 * it before closing txmgr and l1, whose closing completes them. NULL is
 * allowed. */
void rollup_batcher_close(rollup_batcher *b);
void rollup_batcher_get_info(const rollup_batcher *b, rollup_batcher_info *out);

#endif
