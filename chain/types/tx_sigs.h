/* The signature checks of many transactions at once, for the paths that
 * receive them by the thousand (block sync, node/p2p_sync.c; L1 derivation,
 * rollup/derive_sigs.c): one BIP-340 batch verification per call
 * (chain/crypto/schnorr_batch.h), about a third of the cost of single ones,
 * with the senders' parsed and lifted keys kept in a per-thread cache.
 *
 * The verdicts are exactly chain_tx_check_sig's: a valid signature sets
 * sig_checked (so validate does not verify it again), an invalid one leaves
 * it 0 and validate refuses the block with its usual reason. Nothing here
 * decides validity; a failed batch is checked again one by one with
 * libsecp256k1.
 *
 * Memory: a cache (about 1.6 MiB, allocated by chain_sig_cache_new, freed by
 * chain_sig_cache_free) belongs to one thread at a time; it also holds the
 * batch's scratch, so a call allocates nothing. The transactions stay the
 * caller's. */
#ifndef OL_CHAIN_TX_SIGS_H
#define OL_CHAIN_TX_SIGS_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types/tx.h"

/* Transactions per chain_tx_check_sigs call, at most. */
#define CHAIN_TX_SIGS_MAX 256

typedef struct chain_sig_cache chain_sig_cache;

/* NULL when out of memory (chain_tx_check_sigs then checks one by one). */
chain_sig_cache *chain_sig_cache_new(void);
void chain_sig_cache_free(chain_sig_cache *c);

/* Checks the signatures of txs[0..n) (n <= CHAIN_TX_SIGS_MAX; more are
 * checked one by one) for the chain of genesis_hash, setting sig_checked on
 * exactly the valid ones; those already flagged are skipped. With a NULL
 * cache, each goes through chain_tx_check_sig. Returns how many are flagged
 * valid after the call. */
size_t chain_tx_check_sigs(chain_tx *const *txs, size_t n, const uint8_t genesis_hash[32],
                           chain_sig_cache *cache);

#endif
