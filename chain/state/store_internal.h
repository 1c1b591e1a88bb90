/* Private glue between chain/state/store.c and chain/state/state.c; not a public interface. */
#ifndef OL_CHAIN_STORE_INTERNAL_H
#define OL_CHAIN_STORE_INTERNAL_H

#include <leveldb/c.h>
#include <pthread.h>

#include "chain/state/state.h"
#include "chain/state/store.h"
#include "util/err.h"

/* 2: receipts carry a failure code and revert data, and the human message is
 * stored after the receipt encoding instead of inside it.
 * 3: stored headers (block version 2) carry the next validator set's hash and
 * the consensus parameters hash.
 * 4: block version 3 (the header commits to the evidence the body carries)
 * and the included-evidence records (CHAIN_DB_EVIDENCE). */
#define DB_FORMAT_VERSION 5

/* Shared by store.c (open, reads), store_commit.c (commit) and store_undo.c
 * (undo records, rollback). */
struct chain_store {
    leveldb_t *db;
    leveldb_options_t *opts;
    leveldb_cache_t *cache;
    leveldb_filterpolicy_t *filter;
    leveldb_readoptions_t *ropts;
    leveldb_writeoptions_t *wopts_sync;
    /* The block batch, cleared and reused by every commit: its buffer keeps
     * its capacity, where a new batch per block grew a string of several MB
     * by doubling (copies and fresh pages on the executing thread). */
    leveldb_writebatch_t *wb;
    /* The block's entries before they go into wb in key order (store.c),
     * reused likewise. */
    util_buf stage;
    struct staged *stage_ents;
    size_t stage_cap;
    /* Recent tree nodes (store.c, chain_store_smt_get), direct-mapped by
     * hash, under nc_mu (RPC threads read proofs). NULL: none. */
    uint8_t *nc;
    pthread_mutex_t nc_mu;
    int has_head;
    uint64_t height;
    uint8_t head_id[32];
    chain_header head;
    uint8_t genesis_hash[32];
    int has_genesis; /* a valid genesis record was read or written */
    uint64_t write_bytes;
    chain_code_cache *code_cache;
    uint32_t undo_blocks; /* chain_store_opts.undo_blocks */
    int undo_state_only;  /* chain_store_opts.undo_state_only */
    /* The lowest height of the unbroken run of undo records ending at the
     * head (0: none; block 0 never has one). */
    uint64_t undo_low;
};

/* Reads key; returns 0 with a malloc'd value, UTIL_ENOTFOUND, or UTIL_EIO. */
OL_MUST_CHECK int chain_store_db_get(chain_store *st, const uint8_t *k, size_t kl, uint8_t **v,
                                     size_t *vl, util_err *err);

/* With undo records on (store_undo.c): after the head is loaded, finds the run
 * of records ending at the head and deletes the others (left by a run with
 * undo records off, or beyond a smaller undo_blocks). */
OL_MUST_CHECK int chain_store_undo_open(chain_store *st, util_err *err);
/* Adds to wb the undo record of block b (id) about to be committed on the
 * head by executing ex, and the deletion of records that fall out of
 * undo_blocks; *bytes grows by what was added, *undo_low gets the run's new
 * lowest height (for after the write). Reads the old values of the keys that
 * are not new by construction (tx locations, index entries); state values
 * come from ex. */
OL_MUST_CHECK int chain_store_undo_capture(chain_store *st, const chain_block *b,
                                           const uint8_t id[32], chain_exec *ex,
                                           leveldb_writebatch_t *wb, uint64_t *bytes,
                                           uint64_t *undo_low, util_err *err);

/* The addresses whose transaction index (CHAIN_IX_TX_BY_ADDR) lists tx:
 * the sender, a transfer's recipient, a DEPOSIT's recipient only. 1 or 2. */
size_t chain_tx_index_addrs(const chain_tx *tx, chain_addr out[2]);
/* store.c: puts the block's new tree nodes in the node cache, once written. */
void chain_store_cache_nodes(chain_store *st, chain_exec *ex);

typedef void (*chain_kv_visit_fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                                  size_t vlen);

/* Visits every changed state entry (its state key, without CHAIN_DB_STATE); a deleted
 * key comes with val NULL and vlen SIZE_MAX. */
void chain_exec_visit_changes(chain_exec *ex, chain_kv_visit_fn fn, void *ctx);
/* Visits every changed state entry with its committed value from before the
 * block (val NULL and vlen SIZE_MAX: it was absent), each key once: what an
 * undo record keeps (chain_store_rollback). */
void chain_exec_visit_originals(chain_exec *ex, chain_kv_visit_fn fn, void *ctx);
/* Visits every index entry (its index key, without CHAIN_DB_INDEX) in write
 * order, each key once: its latest write or deletion (val NULL, vlen SIZE_MAX). */
void chain_exec_visit_index(chain_exec *ex, chain_kv_visit_fn fn, void *ctx);
/* Visits every new tree node produced by chain_exec_finish (key = node hash). */
void chain_exec_visit_nodes(chain_exec *ex, chain_kv_visit_fn fn, void *ctx);
/* 1 once chain_exec_finish computed a root that is still current. */
OL_MUST_CHECK int chain_exec_finished(const chain_exec *ex, uint8_t root[32]);

/* The store an overlay reads (its code cache, chain/exec/exec_contract.c). */
OL_MUST_CHECK chain_store *chain_exec_store(const chain_exec *ex);

/* The store's tree-node reader, for chain_smt_apply / chain_smt_prove. */
OL_MUST_CHECK int chain_store_smt_get(void *store, const uint8_t hash[32],
                                      uint8_t out[CHAIN_SMT_NODE_LEN]);
/* State root of the committed head. */
void chain_store_head_root(const chain_store *st, uint8_t root[32]);

#endif
