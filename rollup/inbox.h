/* Reading the BatchInbox back: which L2 heights are on the L1 (docs/rollup.md,
 * "Batcher" and "Blobs").
 *
 * A scan asks for the BatchPosted and BlobPosted logs of cfg.batcher from
 * cfg.deploy_block to the L1 head, fetches the blocks holding them with their
 * transactions, takes the frame out of each logged post(bytes) call and, for
 * the blob posts of a block, its blobs from the beacon endpoint (one request
 * per L1 block, each blob checked against its commitment from the postBlobs
 * calldata, rollup_beacon_get_checked_blobs), then reassembles channels in
 * L1 log order (rollup_asm, cfg.channel_timeout_blocks) and decodes them
 * (rollup_batch_decode). A channel that does not decode, or serves another L2
 * genesis, is skipped, as derivation skips it; so is a malformed blob post
 * (derivation halts on it). The endpoints' failures fail the scan: an
 * unreachable beacon endpoint, a blob that does not match its commitment, or
 * a well-formed blob post with no beacon (NULL) to read it from.
 *
 * The result lists every decoded batch in L1 order. rollup_inbox_next gives
 * the first L2 height not on the L1 under the rule derivation applies: batches
 * are taken in L1 order, and a batch counts when it starts at or below the
 * next height expected and reaches past it; a batch starting above it leaves
 * a gap and is ignored.
 *
 * The batcher runs the scan at start and after an L1 reorganisation;
 * `openledgerd l1-inbox` prints it. A scan is one tick of a new inbox watch
 * (rollup/inbox_watch.h); a node that does not post keeps its watch and
 * reads only what is new on the L1 at each tick. Memory: the callback's array is borrowed
 * for the call; the _sync form returns a malloc'd array the caller frees. */
#ifndef OL_ROLLUP_INBOX_H
#define OL_ROLLUP_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "rollup/config.h"
#include "rollup/l1/beacon.h"
#include "rollup/l1/client.h"
#include "util/err.h"

/* Blocks per eth_getLogs request (endpoints cap the range they accept). */
#define ROLLUP_INBOX_LOG_RANGE 2000
/* Logs accepted from one eth_getLogs answer. */
#define ROLLUP_INBOX_MAX_LOGS 10000

typedef struct rollup_inbox_batch {
    uint64_t first, last;      /* L2 heights carried */
    uint64_t l1_block;         /* the L1 block of the frame that completed the channel */
    uint8_t l1_block_hash[32]; /* its hash */
    uint8_t tx_hash[32];       /* that frame's transaction */
    uint32_t frames;           /* frames of the channel */
} rollup_inbox_batch;

/* rc 0: batches[0..n) in L1 order, l1_head the L1 block the scan stopped at.
 * rc != 0: err says why (an L1 reorganisation during the scan is
 * UTIL_ESTATE: scan again). */
typedef void (*rollup_inbox_cb)(void *ctx, int rc, const rollup_inbox_batch *batches, size_t n,
                                uint64_t l1_head, const util_err *err);

/* Starts a scan on l1's loop (cfg is copied). beacon (borrowed, on the same
 * loop; NULL allowed) serves the blobs of blob posts; closing it cancels a
 * scan waiting for blobs (cb runs with UTIL_ESTATE): close it before l1. cb
 * runs exactly once,
 * never inside this call. 0, or an error and cb never runs. */
OL_MUST_CHECK int rollup_inbox_scan(rollup_l1 *l1, rollup_beacon *beacon, const rollup_config *cfg,
                                    rollup_inbox_cb cb, void *ctx, util_err *err);

/* The same on a private loop (for commands and tests), with a beacon client
 * of its own on beacon_url (NULL: none). *out malloc'd (NULL when empty). */
OL_MUST_CHECK int rollup_inbox_scan_sync(const char *url, const char *beacon_url,
                                         const rollup_config *cfg, rollup_inbox_batch **out,
                                         size_t *n, uint64_t *l1_head, util_err *err);

/* The first L2 height not on the L1 (1 when nothing is), by the rule above;
 * *last_used (may be NULL) gets the index of the last batch that counted, or
 * SIZE_MAX. */
uint64_t rollup_inbox_next(const rollup_inbox_batch *b, size_t n, size_t *last_used);

/* keccak256("BatchPosted(address,bytes32)"), the event's topic 0. */
void rollup_inbox_topic(uint8_t out[32]);
/* keccak256("BlobPosted(address,bytes32)"), the blob post's topic 0. */
void rollup_inbox_blob_topic(uint8_t out[32]);

#endif
