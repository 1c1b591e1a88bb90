/* Admission of a transaction to the mempool, in one order (docs/mempool.md,
 * "Admission order"), cheapest first, and nothing that runs the VM before
 * the signature:
 *   1. decode (the caller's: tx_send, a peer's message);
 *   2. stateless limits of the pool's configuration: chain id, size, a gas
 *      limit no larger than the block gas limit (gas_too_high);
 *   3. the signature, for the genesis's signing domain (bad_signature);
 *   4. nonce, balance and the pool's other rules, without inserting
 *      (chain_mempool_precheck);
 *   5. for types other than TRANSFER, the dry run (chain/exec/dryrun.h) on
 *      the head, as the next block proposed by this node would run it, with
 *      at most the intrinsic gas plus a cap, charged to the caller's budget;
 *   6. chain_mempool_add, which checks 2 and 4 again against the state after
 *      the dry run, since the head may have moved meanwhile.
 *
 * The caller wires it in (node/txverify.c): its lock, its counters, its
 * threads. A caller that ran steps 2, 3 and 5 of many transactions ahead of
 * time, on threads (a JSON-RPC batch), passes what it found as a
 * chain_admit_prior and those steps are not repeated.
 *
 * Threads: chain_admit_check and chain_dry_run read no shared mutable state
 * and may run on any thread; chain_admit_tx uses the pool, which is
 * single-threaded, so its caller serialises it with every other use of the
 * pool and of the store's head. */
#ifndef OL_CHAIN_EXEC_ADMIT_H
#define OL_CHAIN_EXEC_ADMIT_H

#include <stdint.h>

#include "chain/crypto/address.h"
#include "chain/mempool/mempool.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "chain/types/genesis.h"
#include "chain/types/tx.h"
#include "util/err.h"

/* Where transactions are admitted. Every pointer is borrowed. */
typedef struct chain_admit {
    const chain_genesis *g; /* the signing domain; the chain of the dry runs */
    chain_store *st;        /* dry runs execute on its head */
    chain_mempool *mp;      /* step 2 uses its configuration's limits */
    chain_addr proposer;    /* the proposer a dry run's block assumes: this node */
    uint64_t dry_run_cap;   /* gas a dry run may use beyond the intrinsic gas */
} chain_admit;

/* How the caller surrounds step 5. Any member may be NULL. */
typedef struct chain_admit_hooks {
    void *ctx;
    /* The caller's work budget: take returns 1 when `gas` was taken, 0 when
     * the budget cannot cover it, and the dry run is then skipped (the
     * transaction goes on with an unknown outcome, as a capped run does);
     * give_back returns what the run did not use. take NULL: no budget. */
    int (*take)(void *ctx, uint64_t gas);
    void (*give_back)(void *ctx, uint64_t gas);
    /* Around the run, after the head was read: the run reads only the
     * store, so the caller may release its lock in between. begin's result
     * is handed to end. */
    unsigned (*begin)(void *ctx);
    void (*end)(void *ctx, unsigned token);
} chain_admit_hooks;

/* What a caller found for a transaction ahead of time. */
typedef struct chain_admit_prior {
    int checked;      /* steps 2 and 3 ran; check_reason is their outcome */
    int check_reason; /* CHAIN_MP_OK or the reason they refused */
    int dry_done;     /* step 5 ran, or was skipped for the budget */
    int dry_reason;   /* CHAIN_MP_OK (also when capped or skipped) or its refusal */
    char msg[160];    /* the message of whichever refused */
} chain_admit_prior;

/* What chain_admit_tx did about step 5. */
enum chain_admit_dry {
    CHAIN_ADMIT_DRY_NONE = 0, /* none: refused before it, a TRANSFER, or known from the prior */
    CHAIN_ADMIT_DRY_RAN,      /* ran to its outcome */
    CHAIN_ADMIT_DRY_CAPPED,   /* stopped by the cap: the outcome is unknown */
    CHAIN_ADMIT_DRY_SKIPPED   /* the budget could not cover it: not run */
};

/* Steps 2 and 3. Returns CHAIN_MP_OK or the reason, with err's message
 * starting with the reason's text. A valid signature is cached in
 * tx->sig_checked, and a transaction that has it set is not verified again. */
OL_MUST_CHECK int chain_admit_check(const chain_admit *a, chain_tx *tx, util_err *err);

/* The context a dry run executes in: the block after the store's head, at
 * the head's time, proposed by a->proposer. Read it while the head cannot
 * change. */
chain_exec_ctx chain_admit_exec_ctx(const chain_admit *a);

/* Steps 2 to 6 for tx, minus what prior (NULL: nothing) says was done.
 * Returns CHAIN_MP_OK once the pool holds a copy of tx, or the reason of
 * the first step that refused it (err says why; nothing changed). *dry
 * (may be NULL) says what happened to step 5. */
OL_MUST_CHECK int chain_admit_tx(const chain_admit *a, const chain_admit_hooks *h, chain_tx *tx,
                                 const chain_admit_prior *prior, int *dry, util_err *err);

#endif
