/* The L2 side of the OPEN bridge (docs/rollup.md, "Bridge"): the bridge's
 * state entry, withdrawals and their tree, DEPOSIT transactions, and the
 * supply the bridge must conserve.
 *
 *   L2 supply = genesis supply + minted - burned
 *
 * DEPOSIT (a system transaction, chain/types/tx.h) mints; WITHDRAW burns and
 * records a withdrawal in the withdrawals tree, a compressed sparse Merkle
 * tree with the state tree's rules (chain/state/smt.h) whose root is in the
 * bridge's state entry and in every output root. The tree is updated once
 * per block with every withdrawal the block recorded, before the state root
 * is computed (by the block executor, on every path that computes a block's
 * roots), so the state commits to it.
 *
 * The read functions read the store's committed head (and, for roots and
 * proofs of a past height, the archived tree nodes); they are safe from any
 * thread that may read the store. Plain values, no ownership. */
#ifndef OL_CHAIN_BRIDGE_H
#define OL_CHAIN_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "chain/state/smt.h"
#include "chain/state/store.h"
#include "chain/types/genesis.h"
#include "chain/types/tx.h"
#include "util/err.h"

#define CHAIN_BLOCK_MAX_DEPOSITS 64 /* DEPOSIT transactions in one block */
#define CHAIN_BRIDGE_ENTRY_LEN 72
#define CHAIN_WITHDRAWAL_LEN 56
#define CHAIN_WITHDRAWAL_KEY_LEN 9 /* 'w' | id u64be: the state key and the tree key */

/* The state entry CHAIN_SK_BRIDGE (absent: all zero):
 * next_deposit u64le | next_withdrawal u64le | minted u64le | burned u64le |
 * last_deposit_l1_block u64le | withdrawals_root[32] */
typedef struct chain_bridge_state {
    uint64_t next_deposit;    /* nonce the next DEPOSIT must carry */
    uint64_t next_withdrawal; /* id the next WITHDRAW records */
    uint64_t minted;          /* sum of the deposits minted */
    uint64_t burned;          /* sum of the withdrawals burned */
    uint64_t last_deposit_l1_block;
    uint8_t withdrawals_root[32];
} chain_bridge_state;

void chain_bridge_encode(const chain_bridge_state *s, uint8_t out[CHAIN_BRIDGE_ENTRY_LEN]);
OL_MUST_CHECK int chain_bridge_decode(chain_bridge_state *s, const uint8_t *b, size_t n,
                                      util_err *err);

/* A withdrawal, the value of its state entry and of its tree leaf:
 * id u64le | sender[20] | l1_recipient[20] | amount u64le */
typedef struct chain_withdrawal {
    uint64_t id;
    chain_addr sender;
    uint8_t l1_recipient[20];
    uint64_t amount;
} chain_withdrawal;

void chain_withdrawal_encode(const chain_withdrawal *w, uint8_t out[CHAIN_WITHDRAWAL_LEN]);
OL_MUST_CHECK int chain_withdrawal_decode(chain_withdrawal *w, const uint8_t *b, size_t n,
                                          util_err *err);
/* The withdrawal's path in the tree: SHA-256('w' | id u64be). */
void chain_withdrawal_path(uint8_t path[32], uint64_t id);

/* A DEPOSIT transaction for chain_id carrying deposit `nonce` (the system
 * envelope: zero sender, gas and signature; derived fields filled). */
OL_MUST_CHECK int chain_tx_deposit_make(chain_tx *tx, const char *chain_id, uint64_t nonce,
                                        const chain_tx_deposit *d, util_err *err);

/* --- committed reads ------------------------------------------------------ */

OL_MUST_CHECK int chain_bridge_get(chain_store *st, chain_bridge_state *out, util_err *err);
/* Withdrawal id, with the height and transaction that recorded it.
 * UTIL_ENOTFOUND when there is none. height and txid may be NULL. */
OL_MUST_CHECK int chain_withdrawal_get(chain_store *st, uint64_t id, chain_withdrawal *w,
                                       uint64_t *height, uint8_t txid[32], util_err *err);
/* Where deposit `nonce` was minted: UTIL_ENOTFOUND when not (yet). The
 * deposit itself is that transaction's body (chain_store's tx lookup). */
OL_MUST_CHECK int chain_deposit_find(chain_store *st, uint64_t nonce, uint64_t *height,
                                     uint8_t txid[32], util_err *err);
/* The withdrawals root after block `height` (index CHAIN_IX_WROOT);
 * UTIL_ENOTFOUND above the head. */
OL_MUST_CHECK int chain_bridge_wroot_at(chain_store *st, uint64_t height, uint8_t root[32],
                                        util_err *err);
/* Inclusion proof of withdrawal id in the tree as of block `height` (root
 * filled with that height's withdrawals root): UTIL_ENOTFOUND when the
 * withdrawal is not in that tree (recorded later, or never). */
OL_MUST_CHECK int chain_withdrawal_prove(chain_store *st, uint64_t id, uint64_t height,
                                         chain_smt_proof *proof, uint8_t root[32], util_err *err);

/* One entry of an address's bridge history (index CHAIN_IX_BRIDGE_BY_ADDR):
 * the deposits it received that minted (a DEPOSIT whose receipt failed is
 * only in chain_deposit_find's index) and the withdrawals it sent. */
typedef struct chain_bridge_ref {
    char kind; /* 'd' deposit (the address received it), 'w' withdrawal (it sent it) */
    uint64_t id;
    uint64_t height;
    uint8_t txid[32];
} chain_bridge_ref;
/* The newest first, at most max; *n set. */
OL_MUST_CHECK int chain_bridge_list_by_addr(chain_store *st, const chain_addr *a,
                                            chain_bridge_ref *out, size_t max, size_t *n,
                                            util_err *err);

/* --- supply ----------------------------------------------------------------- */

/* Sum of the genesis allocations (checked: genesis refuses an overflow). */
uint64_t chain_genesis_supply(const chain_genesis *g);
/* Sums every account balance of the committed state and checks it equals
 * genesis supply + minted - burned: 0, UTIL_ESTATE with both figures when
 * not. A full scan: the test build runs it after every block
 * (OL_CHECK_SUPPLY); *supply gets the sum when non-NULL. */
OL_MUST_CHECK int chain_supply_check(chain_store *st, const chain_genesis *g, uint64_t *supply,
                                     util_err *err);

#endif
