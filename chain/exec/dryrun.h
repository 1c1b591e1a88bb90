/* Dry runs: a transaction executed once against the head state in a
 * throwaway overlay, before admission, so a body that would fail is refused
 * at the door with its reason and nothing changes.
 *
 * Attribution and contract transactions depend on state the pool cannot see
 * (who attests a model, which contributions are accepted, what a contract
 * does). The sender's nonce is set to the transaction's, and the run gets at
 * most `limit` gas. A run stopped by that limit below the transaction's own
 * gas limit says nothing about the outcome: it is reported as capped, not
 * failed (the cap is a node's policy, not a consensus rule). A transaction
 * can still fail in its block if the state moves in between; its receipt
 * then says why.
 *
 * Reads only the store: safe from any thread without the node's lock; the
 * caller owns tx and ctx, nothing is kept. The admission order around it is
 * chain/exec/admit.h (docs/mempool.md, "Admission order"). */
#ifndef OL_CHAIN_EXEC_DRYRUN_H
#define OL_CHAIN_EXEC_DRYRUN_H

#include <stdint.h>

#include "chain/state/state.h"
#include "chain/types/tx.h"
#include "util/err.h"

typedef struct chain_dry_run_out {
    uint64_t gas_used;
    int capped; /* stopped by `limit`, below the transaction's own gas limit */
} chain_dry_run_out;

/* The gas a dry run of tx may use: its own gas limit, or its intrinsic gas
 * plus `cap` when that is lower. */
uint64_t chain_dry_run_limit(const chain_tx *tx, uint64_t cap);

/* Runs tx (its signature already checked) on the state under ctx with at
 * most `limit` gas. Returns a chain_mempool reason: CHAIN_MP_OK (it would
 * succeed, or it was capped: see out->capped), CHAIN_MP_EXEC_FAILED (err
 * starts with the execution's reason token), or CHAIN_MP_INTERNAL (the
 * store could not be read, or memory ran out). */
OL_MUST_CHECK int chain_dry_run(chain_store *st, const chain_exec_ctx *ctx, const chain_tx *tx,
                                uint64_t limit, chain_dry_run_out *out, util_err *err);

#endif
