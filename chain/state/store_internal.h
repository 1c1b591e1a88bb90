/* Private glue between chain/state/store.c and chain/state/state.c; not a public interface. */
#ifndef OL_CHAIN_STORE_INTERNAL_H
#define OL_CHAIN_STORE_INTERNAL_H

#include "chain/state/state.h"
#include "chain/state/store.h"
#include "util/err.h"

typedef void (*chain_kv_visit_fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                                  size_t vlen);

/* Visits every changed state entry (its state key, without CHAIN_DB_STATE); a deleted
 * key comes with val NULL and vlen SIZE_MAX. */
void chain_exec_visit_changes(chain_exec *ex, chain_kv_visit_fn fn, void *ctx);
/* Visits every index entry (its index key, without CHAIN_DB_INDEX), in write order. */
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
