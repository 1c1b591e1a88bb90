/* Storage of the chain on LevelDB: blocks, receipts, the tx index, commits,
 * state entries and the state tree's nodes, and the head pointer.
 *
 * Every key is built by chain/state/dbkey.h, the registry of prefixes and
 * layouts; docs/storage.md describes them and their values.
 *
 * Every block is written with its receipts, index entries, state changes, new
 * tree nodes and the new head as ONE synced write batch: after a crash the
 * store is at the last committed block, never between two.
 *
 * Thread-safety: reads may come from any thread (LevelDB is thread-safe);
 * commits happen from one thread. The store owns the LevelDB handle. */
#ifndef OL_CHAIN_STORE_H
#define OL_CHAIN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types/block.h"
#include "chain/state/codecache.h"
#include "chain/state/dbkey.h"
#include "chain/types/genesis.h"
#include "chain/state/smt.h"
#include "util/bytes.h"
#include "util/env.h"
#include "util/err.h"

typedef struct chain_store chain_store;

typedef struct chain_account {
    uint64_t balance;
    uint64_t nonce;
} chain_account;

#define CHAIN_ACCOUNT_VALUE_LEN 16

void chain_account_encode(uint8_t out[CHAIN_ACCOUNT_VALUE_LEN], const chain_account *acc);
OL_MUST_CHECK int chain_account_decode(chain_account *acc, const uint8_t *p, size_t n);

/* Opens (creating if needed) the store in dir. Refuses a store of another
 * format version, one whose genesis record is missing or malformed, and one
 * whose head block does not hash to the head record's id (docs/storage.md). */
OL_MUST_CHECK int chain_store_open(chain_store **out, const char *dir, util_err *err);

typedef struct chain_store_opts {
    /* The environment of what the store does outside LevelDB: LevelDB keeps
     * the directory, the lock, the version (a record of its own, see
     * docs/storage.md) and every file, and its C API takes no custom Env, so
     * what is left is the randomness of the code cache's hash seed. NULL:
     * util_env_default(). Borrowed: it must outlive the store. */
    const util_env *env;
    /* Keep undo records for the last undo_blocks blocks (0: none, the
     * default): each block's batch then also holds what it overwrote, so
     * chain_store_rollback can take those blocks back. A node deriving from
     * the L1 needs them when an L1 reorganisation drops data it derived
     * from (docs/rollup.md). Older records are deleted in the same batch
     * that commits a new block. */
    uint32_t undo_blocks;
    /* With undo_blocks: the records hold the state's previous values only
     * (no index entries, transaction locations or block keys), which is all
     * chain_store_state_get_at needs to serve proofs at past heights and
     * saves a read per index entry a block writes; chain_store_rollback
     * refuses to cross such a record. */
    int undo_state_only;
} chain_store_opts;

/* chain_store_open with options (opts NULL: the defaults, as chain_store_open). */
OL_MUST_CHECK int chain_store_open_opts(chain_store **out, const char *dir,
                                        const chain_store_opts *opts, util_err *err);
void chain_store_close(chain_store *st);

/* The verified contract programs of this store's code, shared by every
 * execution on it (blocks, dry runs, read-only calls); chain/state/codecache.h. */
OL_MUST_CHECK chain_code_cache *chain_store_code_cache(chain_store *st);

/* Writes the genesis state and block 0 if the store is empty; otherwise checks
 * that the store belongs to this genesis (same genesis hash) and fails with a
 * clear message if not. */
OL_MUST_CHECK int chain_store_init_genesis(chain_store *st, const chain_genesis *g, util_err *err);

/* The state root of the genesis state (its allocations and contracts), and
 * the header of block 0 (chain_store_init_genesis stores exactly this one),
 * computed from the genesis alone, without a store: what a light client
 * holding a trusted genesis compares a served block 0 with. 0 or UTIL_ENOMEM. */
OL_MUST_CHECK int chain_genesis_state_root(const chain_genesis *g, uint8_t root[32], util_err *err);
OL_MUST_CHECK int chain_genesis_block0(const chain_genesis *g, chain_header *h, util_err *err);

/* Committed head. */
uint64_t chain_store_height(const chain_store *st);
void chain_store_head_id(const chain_store *st, uint8_t id[32]);
OL_MUST_CHECK const chain_header *chain_store_head_header(const chain_store *st);
void chain_store_genesis_hash(const chain_store *st, uint8_t out[32]);
uint64_t chain_store_write_bytes(const chain_store *st); /* total bytes of committed batches */

OL_MUST_CHECK int chain_store_block_id_at(chain_store *st, uint64_t height, uint8_t id[32],
                                          util_err *err);
/* Block by id; *size gets the encoded size when non-NULL. */
OL_MUST_CHECK int chain_store_get_block(chain_store *st, const uint8_t id[32], chain_block *b,
                                        size_t *size, util_err *err);
/* A block's stored encoding (malloc'd into *enc), for readers that decode only
 * part of it. 0, UTIL_ENOTFOUND or UTIL_EIO. */
OL_MUST_CHECK int chain_store_get_block_bytes(chain_store *st, const uint8_t id[32], uint8_t **enc,
                                              size_t *len, util_err *err);
OL_MUST_CHECK int chain_store_get_receipts(chain_store *st, const uint8_t id[32],
                                           chain_receipt **rs, size_t *n, util_err *err);
OL_MUST_CHECK int chain_store_get_commit(chain_store *st, uint64_t height, chain_commit *c,
                                         util_err *err);
/* Locates a committed transaction. */
OL_MUST_CHECK int chain_store_tx_location(chain_store *st, const uint8_t txid[32], uint64_t *height,
                                          uint32_t *index, util_err *err);

/* Whether a committed block included evidence of the same double vote as e
 * (validator, height, round, type): 0 and that block's height in *height
 * (may be NULL), UTIL_ENOTFOUND, or UTIL_EIO. */
OL_MUST_CHECK int chain_store_evidence_included(chain_store *st, const chain_evidence *e,
                                                uint64_t *height, util_err *err);

/* Committed state value (malloc'd into *val) or UTIL_ENOTFOUND. */
OL_MUST_CHECK int chain_store_state_get(chain_store *st, const uint8_t *key, size_t klen,
                                        uint8_t **val, size_t *vlen, util_err *err);
/* Committed account; an absent account reads as zero balance and nonce. */
OL_MUST_CHECK int chain_store_get_account(chain_store *st, const chain_addr *a, chain_account *acc,
                                          util_err *err);
/* Proof of a state key against the head's state root. */
OL_MUST_CHECK int chain_store_prove(chain_store *st, const uint8_t *key, size_t klen,
                                    chain_smt_proof *proof, util_err *err);

/* The transactions of address a (sent, or received by transfer or deposit), newest first:
 * fn gets each one's block height, index in the block and id, and returns 0
 * to continue, 1 to stop. With before non-NULL, starts after the position
 * (*before_height, *before_index), the last one of the previous page. At most
 * limit are visited. 0, or UTIL_EIO (also for a malformed index entry). */
typedef int (*chain_addr_tx_fn)(void *ctx, uint64_t height, uint32_t index, const uint8_t txid[32]);
OL_MUST_CHECK int chain_store_addr_txs(chain_store *st, const chain_addr *a, int before,
                                       uint64_t before_height, uint32_t before_index, size_t limit,
                                       chain_addr_tx_fn fn, void *ctx, util_err *err);

/* Index and range scans. Visits the entries whose store key starts with
 * prefix (built by chain/state/dbkey.h, e.g. chain_dbkey_index_prefix), in key order, after
 * `after` when it is non-NULL (a full store key, the cursor of the previous
 * page), or in reverse order when reverse is set (then `after` means before).
 * The callback returns 0 to continue, 1 to stop. Returns 0 or UTIL_EIO. */
typedef int (*chain_scan_fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                             size_t vlen);
OL_MUST_CHECK int chain_store_scan(chain_store *st, const uint8_t *prefix, size_t plen,
                                   const uint8_t *after, size_t alen, int reverse, size_t limit,
                                   chain_scan_fn fn, void *ctx, util_err *err);

/* --- block commit ------------------------------------------------------ */

/* A block's pending state changes, built by chain_exec (chain/state/state.h). */
typedef struct chain_exec chain_exec;

/* Commits block b (already executed by ex into receipts rs; b->h.state_root
 * must equal the exec's root) together with `commit`, the signatures that
 * committed it. One synced batch. On success the head moves to b. */
OL_MUST_CHECK int chain_store_commit_block(chain_store *st, const chain_block *b,
                                           const chain_receipt *rs, chain_exec *ex,
                                           const chain_commit *commit, util_err *err);

/* --- rollback (undo records, opts.undo_blocks) -------------------------- */

/* The lowest height chain_store_rollback can return to: the head minus the
 * blocks whose undo records are kept (the head itself without any). */
uint64_t chain_store_rollback_floor(const chain_store *st);

/* Takes back every block above `height`, newest first, as ONE synced batch:
 * state entries, blocks, receipts, commits, the tx and address indexes and
 * the head return to what they were when `height` was the head (tree nodes,
 * addressed by content, may stay). A crash leaves the store before or after
 * the whole rollback. UTIL_EINVAL when height is above the head or below
 * chain_store_rollback_floor; UTIL_EIO on a storage failure or a malformed
 * undo record. */
OL_MUST_CHECK int chain_store_rollback(chain_store *st, uint64_t height, util_err *err);

/* The value a state key held at `height` (a committed height at most the
 * head), given the SHA-256 `want` that height's state tree commits for it
 * (the leaf of a proof against its root): the current value when it hashes
 * to want, else the one an undo record above height kept. malloc'd into
 * *val. 0, UTIL_ENOTFOUND when the value has changed since and the undo
 * records no longer reach back (docs/proofs.md, "Heights"), or UTIL_EIO. */
OL_MUST_CHECK int chain_store_state_get_at(chain_store *st, const uint8_t *key, size_t klen,
                                           uint64_t height, const uint8_t want[32], uint8_t **val,
                                           size_t *vlen, util_err *err);

#endif
