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
 * budget, its threads. A caller that gets many transactions at once (a
 * JSON-RPC batch) prepares them with chain_admit_prepare, which runs steps 2,
 * 3 and 5 of all of them on the caller's threads, and then admits each with
 * chain_admit_tx and what the preparation found (a chain_admit_prior): those
 * steps are not repeated, step 4 always is.
 *
 * Threads: chain_admit_check and chain_dry_run read no shared mutable state
 * and may run on any thread; chain_admit_tx and chain_admit_prepare use the
 * pool, which is single-threaded, so their caller serialises them with
 * every other use of the pool and of the store's head. */
#ifndef OL_CHAIN_EXEC_ADMIT_H
#define OL_CHAIN_EXEC_ADMIT_H

#include <stddef.h>
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

/* What the caller puts around the dry runs. Any member may be NULL. */
typedef struct chain_admit_hooks {
    void *ctx;
    /* The caller's work budget: take returns 1 when `gas` was taken, 0 when
     * the budget cannot cover it, and the dry run is then skipped (the
     * transaction goes on with an unknown outcome, as a capped run does);
     * give_back returns what the run did not use. take NULL: no budget. */
    int (*take)(void *ctx, uint64_t gas);
    void (*give_back)(void *ctx, uint64_t gas);
    /* Around work that reads only the store (a dry run, a batch's parallel
     * phases), after the head was read: the caller may release its lock in
     * between. unlock's result is handed to relock. */
    unsigned (*unlock)(void *ctx);
    void (*relock)(void *ctx, unsigned token);
    /* Each dry run, from whichever thread runs it (so thread-safe): started
     * as it begins, then done with its CHAIN_ADMIT_DRY_* outcome; a skipped
     * one is only reported done. For the caller's counters. */
    void (*dry_started)(void *ctx);
    void (*dry_done)(void *ctx, int dry);
} chain_admit_hooks;

/* What a caller found for a transaction ahead of time. */
typedef struct chain_admit_prior {
    int checked;      /* steps 2 and 3 ran; check_reason is their outcome */
    int check_reason; /* CHAIN_MP_OK or the reason they refused */
    int dry_done;     /* step 5 ran, or was skipped for the budget */
    int dry_reason;   /* CHAIN_MP_OK (also when capped or skipped) or its refusal */
    char msg[160];    /* the message of whichever refused */
} chain_admit_prior;

/* What happened to a dry run (chain_admit_hooks.dry_done). */
enum chain_admit_dry {
    CHAIN_ADMIT_DRY_RAN = 1, /* ran to its outcome */
    CHAIN_ADMIT_DRY_CAPPED,  /* stopped by the cap: the outcome is unknown */
    CHAIN_ADMIT_DRY_SKIPPED  /* the budget could not cover it: not run */
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
 * the first step that refused it (err says why; nothing changed). */
OL_MUST_CHECK int chain_admit_tx(const chain_admit *a, const chain_admit_hooks *h, chain_tx *tx,
                                 const chain_admit_prior *prior, util_err *err);

/* Runs fn(arg, i) for every i in [0, n) on as many threads as the caller
 * likes, itself included, and returns when all are done. */
typedef void (*chain_admit_each_fn)(void *arg, size_t i);
typedef void (*chain_admit_parallel_fn)(void *ctx, size_t n, chain_admit_each_fn fn, void *arg);

/* Prepares txs[0..n) for chain_admit_tx, filling prior[i] for each: steps 2
 * and 3 of all of them on `parallel`; then step 4 here, to find which want
 * a dry run (not kept: chain_admit_tx repeats it, since the entries admitted
 * before change the pool); then their dry runs on `parallel`, in waves: each
 * wave takes from the budget the gas of as many entries as it holds, in
 * entry order (so which entries get a dry run does not depend on thread
 * timing), and gives back what they did not use before the next. Once the
 * budget cannot cover the next entry, it and those after it are skipped.
 * The hooks' unlock and relock surround each parallel phase. 0, or
 * UTIL_ENOMEM with nothing prepared (each transaction is then checked in
 * full on admission). */
OL_MUST_CHECK int chain_admit_prepare(const chain_admit *a, const chain_admit_hooks *h,
                                      chain_admit_parallel_fn parallel, void *parallel_ctx,
                                      chain_tx *txs, chain_admit_prior *prior, size_t n,
                                      util_err *err);

#endif
