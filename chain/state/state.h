/* Execution of transactions against the committed state.
 *
 * A chain_exec is the overlay of one block: it reads committed state through
 * the store, keeps every change in memory, and on chain_exec_finish computes the
 * new state root by applying the changed keys to the state tree (new nodes are
 * held for the block's write batch). Nothing reaches disk until
 * chain_store_commit_block. Deterministic: no floats, no wall clock, changed
 * keys reach the tree sorted by path.
 *
 * Changes are journaled: chain_exec_checkpoint / chain_exec_revert undo every
 * state and index write after a checkpoint (a failed contract call, a failed
 * transaction body). Index entries (explorer lookups that are not state and
 * not in the state root) are written with the block too.
 *
 * The exec owns its memory; free with chain_exec_free (also after commit).
 * Values returned by chain_exec_get are borrowed until the next write. */
#ifndef OL_CHAIN_STATE_H
#define OL_CHAIN_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types/block.h"
#include "chain/state/store.h"
#include "util/err.h"

#define CHAIN_STATE_KEY_MAX 64
#define CHAIN_STATE_VALUE_MAX (256 * 1024)

typedef struct chain_exec_ctx {
    const char *chain_id;
    /* The chain's genesis hash (32 bytes, borrowed): part of every
     * transaction's signing domain. NULL fails every unchecked signature. */
    const uint8_t *genesis_hash;
    uint64_t height;
    uint64_t time_ms;
    chain_addr proposer;
    uint64_t min_gas_price;
} chain_exec_ctx;

OL_MUST_CHECK chain_exec *chain_exec_new(chain_store *st, const chain_exec_ctx *ctx);
void chain_exec_free(chain_exec *ex);
OL_MUST_CHECK const chain_exec_ctx *chain_exec_context(const chain_exec *ex);

/* Generic state access. get returns 0 (found), UTIL_ENOTFOUND, or an error. */
OL_MUST_CHECK int chain_exec_get(chain_exec *ex, const uint8_t *key, size_t klen,
                                 const uint8_t **val, size_t *vlen, util_err *err);
OL_MUST_CHECK int chain_exec_put(chain_exec *ex, const uint8_t *key, size_t klen,
                                 const uint8_t *val, size_t vlen, util_err *err);
OL_MUST_CHECK int chain_exec_del(chain_exec *ex, const uint8_t *key, size_t klen, util_err *err);
/* An index entry (an index key of chain/state/dbkey.h), written with the block, outside the state
 * root. */
OL_MUST_CHECK int chain_exec_index_put(chain_exec *ex, const uint8_t *key, size_t klen,
                                       const uint8_t *val, size_t vlen, util_err *err);
/* chain_exec_index_put of a key the caller knows the store does not hold
 * (a ranking key of a total that only grows): when the block deletes it
 * again, neither write reaches the store. */
OL_MUST_CHECK int chain_exec_index_put_new(chain_exec *ex, const uint8_t *key, size_t klen,
                                           const uint8_t *val, size_t vlen, util_err *err);
/* Deletes an index entry with the block (a ranking key that moved). */
OL_MUST_CHECK int chain_exec_index_del(chain_exec *ex, const uint8_t *key, size_t klen,
                                       util_err *err);
/* An index entry as the block sees it: its latest write or deletion in this
 * block, else the committed one, so an index can accumulate. *val is borrowed
 * until the next index write or read. 0, UTIL_ENOTFOUND, UTIL_EINVAL (a key
 * longer than 64 bytes), or an error of the store. */
OL_MUST_CHECK int chain_exec_index_get(chain_exec *ex, const uint8_t *key, size_t klen,
                                       const uint8_t **val, size_t *vlen, util_err *err);

size_t chain_exec_checkpoint(chain_exec *ex);
void chain_exec_revert(chain_exec *ex, size_t checkpoint);

OL_MUST_CHECK int chain_exec_get_account(chain_exec *ex, const chain_addr *a, chain_account *acc,
                                         util_err *err);
OL_MUST_CHECK int chain_exec_set_account(chain_exec *ex, const chain_addr *a,
                                         const chain_account *acc, util_err *err);
/* Moves amount between accounts with checked arithmetic; UTIL_EINVAL (and no
 * change) when from cannot afford it or to would overflow. */
OL_MUST_CHECK int chain_exec_transfer(chain_exec *ex, const chain_addr *from, const chain_addr *to,
                                      uint64_t amount, util_err *err);

/* Applies one transaction. Returns 0 when the transaction is included (receipt
 * r filled; status success or failed, fee charged and nonce incremented either
 * way), or UTIL_EINVAL when it cannot be included at all (wrong chain, bad
 * signature, wrong nonce, gas limit below intrinsic gas, price below minimum,
 * or the sender cannot pay gas_limit * gas_price): then nothing changed and
 * err says why. Signatures with tx->sig_checked set are not verified again. */
OL_MUST_CHECK int chain_exec_apply_tx(chain_exec *ex, chain_tx *tx, chain_receipt *r,
                                      util_err *err);

/* Computes the state root after all applied changes. Idempotent until the
 * next change. First, when the block changed withdrawal entries
 * (CHAIN_SK_WITHDRAWAL), applies them to the committed withdrawals tree and
 * writes its new root into the bridge entry (docs/rollup.md, "Bridge"), so
 * the state root commits to it; that tree's new nodes are written with the
 * block like the state tree's. */
OL_MUST_CHECK int chain_exec_finish(chain_exec *ex, uint8_t root[32], util_err *err);

/* The sums of the balances of every account the overlay changed: before (as
 * committed) and after. The difference is what the block created or
 * destroyed (the supply check, chain/exec/bridge.h). 0 or UTIL_EIO. */
OL_MUST_CHECK int chain_exec_balance_sums(chain_exec *ex, unsigned __int128 *before,
                                          unsigned __int128 *after, util_err *err);

#endif
