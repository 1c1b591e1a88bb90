/* Derivation: rebuilding the L2 chain from the L1 alone (docs/rollup.md,
 * "Derivation").
 *
 * A rollup_derive follows the L1 head through a rollup_l1 client. Each step
 * covers at most opts.max_range L1 blocks: it reads the BatchPosted and
 * BlobPosted logs of cfg.batch_inbox and the OutputProposed and Frozen logs
 * of cfg.output_oracle in that range (one eth_getLogs), fetches the calldata
 * of each posting transaction (eth_getBlockByNumber with full transactions),
 * checks that the transaction was sent by cfg.batcher straight to the inbox
 * and that keccak256(frame) is the log's dataHash; for blob posts, that the
 * transaction is a type-3 postBlobs(commitments) call whose blob hashes are
 * the logged ones, then reads the block's blobs from opts.beacon (one
 * request per L1 block), checks them against the commitments
 * (rollup_kzg_verify_blobs, on libuv's thread pool) and unpacks each blob's
 * frame (rollup_blob_unpack). Frames of both kinds go, in L1 log order, to
 * the assembler; derivation reassembles channels
 * (rollup_asm), decodes batches (rollup_batch_decode) and puts each block
 * through chain_blockexec_validate and chain_blockexec_apply with the commit
 * that finalised it. Every posted output root is compared with the one of
 * this node's own block once that height is derived.
 *
 * Rules (deterministic: every deriving node reaches the same chain):
 *   - a block at a height <= head is skipped when its id is ours; another id
 *     at a known height halts derivation;
 *   - a block above head + 1 is skipped with the rest of its batch (blocks
 *     are applied in strict order; the batcher re-posts from the gap);
 *   - a frame or batch from the batcher that does not parse or decode, and
 *     a block that validate or apply refuses, halt derivation
 *     with a message naming the L1 transaction, the L2 height and the reason;
 *   - a posted output root that differs from ours halts with the height;
 *   - a blob that does not match its commitment is the beacon endpoint's
 *     fault, not the batcher's: it is read again later, derivation does not
 *     halt; a blob post the batcher got wrong (transaction, commitments, a
 *     blob that does not unpack) halts like a bad calldata frame;
 *   - a frame the assembler refuses (it contradicts its channel, or completes
 *     a channel whose bytes do not hash to its id) is ignored, as its rules
 *     say (docs/rollup.md, "Reassembly").
 * A halted deriver stays halted (the node keeps serving RPC from its last
 * good block): rollup_derive_status says why.
 *
 * L1 reorganisations: the L1 origin (number, hash) of every derived block is
 * written in that block's own batch (chain/state/dbkey.h CHAIN_IX_L1_ORIGIN,
 * through chain_exec_index_put), so a restart resumes from the head's origin
 * and nothing can be half written. Each step first checks that the last L1
 * block it read still has the hash it had; when not, derivation walks the
 * origins of its blocks down to the highest one still canonical, takes the
 * blocks above it back with chain_store_rollback (the store must be opened
 * with chain_store_opts.undo_blocks, ROLLUP_DERIVE_UNDO_BLOCKS), resets the
 * assembler and reads the L1 again from channel_timeout_blocks before that
 * origin. A reorganisation deeper than the undo records halts.
 *
 * Threading and memory: everything runs on the loop given to
 * rollup_derive_new, from its thread. The L1 calls never block it; a
 * completed batch is applied synchronously (its signatures checked on
 * short-lived threads first, one per core), so the loop is busy for as
 * long as that takes. opts.lock/unlock (optional) are held
 * around every store write and every read of shared node state, so other
 * threads (RPC workers) may read the store meanwhile. The deriver borrows
 * the L1 client, the genesis and the store (they outlive it); it owns its
 * assembler, the fetched logs and blocks (freed as soon as a step is done)
 * and a list of the posted outputs it saw (a few bytes per output). */
#ifndef OL_ROLLUP_DERIVE_H
#define OL_ROLLUP_DERIVE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "chain/state/store.h"
#include "chain/types/block.h"
#include "chain/types/genesis.h"
#include "rollup/config.h"
#include "rollup/l1/beacon.h"
#include "rollup/l1/client.h"
#include "util/err.h"

/* Undo records kept by a deriving node's store: L1 reorganisations deeper
 * than this many L2 blocks halt derivation. At one block per second that is
 * close to three hours of L2 blocks, far deeper than any L1 reorganisation
 * since the merge, for about a block's worth of changed entries each. */
#define ROLLUP_DERIVE_UNDO_BLOCKS 10000
#define ROLLUP_DERIVE_MAX_RANGE 100 /* default L1 blocks per step */
#define ROLLUP_DERIVE_MAX_LOGS 10000

typedef struct rollup_derive rollup_derive;

/* How derivation reaches the L1: rollup_l1_call by default. Tests give a
 * fake that answers from memory (it must call cb later, on the loop). */
typedef int (*rollup_derive_call_fn)(void *call_ctx, const char *method, json_t *params,
                                     rollup_l1_cb cb, void *ctx, util_err *err);

typedef struct rollup_derive_opts {
    uint32_t poll_ms;           /* wait at the L1 head (and after an L1 error); 0: 1000 */
    uint32_t max_range;         /* L1 blocks per step; 0: ROLLUP_DERIVE_MAX_RANGE */
    rollup_derive_call_fn call; /* NULL: rollup_l1_call on the client */
    void *call_ctx;
    /* Where blobs are read (borrowed; it outlives the deriver, and is
     * closed after it). NULL: a blob post of the batcher halts derivation
     * ("no beacon endpoint (--l1-beacon)"). */
    rollup_beacon *beacon;
    /* Around store writes and status reads; NULL: none (one thread). */
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    /* After each derived block is committed (subscriptions, metrics),
     * called with the lock held. Borrowed arguments. */
    void (*on_block)(void *ctx, const chain_block *b, const uint8_t id[32], const chain_receipt *rs,
                     size_t nrs);
    void *ctx;
} rollup_derive_opts;

/* Checks that g is the chain cfg describes (cfg.l2_genesis_hash) and that
 * st holds it. l1 may be NULL when opts.call is set. Nothing runs until
 * rollup_derive_start. */
OL_MUST_CHECK int rollup_derive_new(rollup_derive **out, uv_loop_t *loop, rollup_l1 *l1,
                                    const rollup_config *cfg, const chain_genesis *g,
                                    chain_store *st, const rollup_derive_opts *opts, util_err *err);
/* Reads the head's L1 origin and starts stepping. */
OL_MUST_CHECK int rollup_derive_start(rollup_derive *d, util_err *err);
/* Stops the timer and forgets pending answers (their callbacks become
 * no-ops), then frees once the loop closed the timer. NULL is allowed. */
void rollup_derive_close(rollup_derive *d);

typedef struct rollup_derive_status {
    int has_l1_head;
    uint64_t l1_head;      /* latest L1 block seen */
    uint64_t l1_head_time; /* its timestamp (s) */
    uint64_t l1_scanned;   /* last L1 block fully read */
    uint64_t head;         /* L2 head */
    uint64_t safe;         /* L2 height derived from L1 blocks >= confirmations deep */
    int has_finalized;
    uint64_t finalized; /* highest L2 height with a final, matching output */
    uint64_t blocks_derived, blocks_skipped, batches, frames;
    uint64_t frames_refused; /* by the assembler's rules: ignored, not a halt */
    uint64_t outputs_seen, outputs_checked;
    uint64_t reorgs;             /* L1 reorganisations seen */
    uint64_t rollbacks;          /* of those, the ones that took L2 blocks back */
    uint64_t blocks_rolled_back; /* in total */
    int frozen;                  /* the oracle was frozen (Frozen log) */
    int halted;
    char halt_reason[512];
    char last_error[256]; /* the last transient L1 failure, "" when the last step worked */
    int has_last_batch;
    uint8_t last_batch_tx[32];
    uint64_t last_batch_l1_block, last_batch_first, last_batch_count;
    int has_last_output;
    uint8_t last_output_tx[32];
    uint64_t last_output_height, last_output_l1_block; /* l1 block 0: read from storage */
} rollup_derive_status;

void rollup_derive_status_get(const rollup_derive *d, rollup_derive_status *s);
/* Sets node_status's "l1Head", "safe", "finalized" and "l1" (details, with
 * "halted" and its reason) on status. 0 or -1 (out of memory). */
OL_MUST_CHECK int rollup_derive_status_json(const rollup_derive *d, json_t *status);

/* The L1 origin recorded for L2 block `height`. 0, UTIL_ENOTFOUND (not a
 * derived block: block 0, or a store that did not derive it) or UTIL_EIO. */
OL_MUST_CHECK int rollup_derive_origin(chain_store *st, uint64_t height, uint64_t *l1_number,
                                       uint8_t l1_hash[32], util_err *err);

#endif
