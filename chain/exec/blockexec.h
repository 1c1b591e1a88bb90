/* The block executor: the one path every block takes, whoever produced it
 * (this node, a peer, the L1).
 *
 *   propose   selects transactions from the mempool and builds the next block
 *             on the store's head, executed, with every root filled in;
 *   validate  checks a block against its parent (the store's head), the
 *             genesis rules and the validator's clock, executing it in an
 *             overlay: nothing is written, the store is read only;
 *   apply     commits a validated block together with the commit that
 *             finalised it, as one synced batch.
 *
 * Every rule validate enforces has a reason (chain_block_reason, with a
 * stable snake_case token); docs/blocks.md lists them in the order they are
 * checked: cheap header rules first, then the previous block's commit (at
 * most CHAIN_MAX_VALIDATORS signatures), then the body's limits, and only
 * then execution, which the block gas limit bounds.
 *
 * Memory: a chain_blockexec borrows the genesis and the store (the caller
 * keeps both alive). The caller owns the blocks it passes; a
 * chain_block_result owns the overlay and the receipts of one validated block
 * (chain_block_result_free). One thread drives an executor; other threads may
 * read the store meanwhile. */
#ifndef OL_CHAIN_BLOCKEXEC_H
#define OL_CHAIN_BLOCKEXEC_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types/block.h"
#include "chain/types/genesis.h"
#include "chain/mempool/mempool.h"
#include "chain/state/store.h"
#include "util/err.h"

enum chain_block_reason {
    CHAIN_BLOCK_OK = 0,
    CHAIN_BLOCK_MALFORMED,                  /* "malformed": the bytes do not decode */
    CHAIN_BLOCK_BAD_VERSION,                /* "bad_version" */
    CHAIN_BLOCK_WRONG_CHAIN,                /* "wrong_chain" */
    CHAIN_BLOCK_WRONG_HEIGHT,               /* "wrong_height": not head + 1 */
    CHAIN_BLOCK_WRONG_PARENT,               /* "wrong_parent": parent is not the head's id */
    CHAIN_BLOCK_TIME_NOT_AFTER_PARENT,      /* "time_not_after_parent" */
    CHAIN_BLOCK_TIME_TOO_FAR_AHEAD,         /* "time_too_far_ahead": past clock + maxClockDriftMs */
    CHAIN_BLOCK_UNKNOWN_PROPOSER,           /* "unknown_proposer": not in the validator set */
    CHAIN_BLOCK_WRONG_VALIDATORS_HASH,      /* "wrong_validators_hash" */
    CHAIN_BLOCK_WRONG_NEXT_VALIDATORS_HASH, /* "wrong_next_validators_hash" */
    CHAIN_BLOCK_WRONG_CONSENSUS_PARAMS_HASH, /* "wrong_consensus_params_hash" */
    CHAIN_BLOCK_BAD_LAST_COMMIT,     /* "bad_last_commit": not 2/3+ of the power for the parent */
    CHAIN_BLOCK_TOO_LARGE,           /* "block_too_large": encoded size > blockMaxBytes */
    CHAIN_BLOCK_TX_TOO_LARGE,        /* "tx_too_large": a tx > txMaxBytes */
    CHAIN_BLOCK_TX_GAS_TOO_HIGH,     /* "tx_gas_above_block_limit" */
    CHAIN_BLOCK_GAS_EXCEEDED,        /* "block_gas_exceeded": sum of gas limits */
    CHAIN_BLOCK_DUPLICATE_TX,        /* "duplicate_tx" */
    CHAIN_BLOCK_WRONG_TX_ROOT,       /* "wrong_tx_root" */
    CHAIN_BLOCK_INVALID_TX,          /* "invalid_tx": cannot be included (signature, nonce, ...) */
    CHAIN_BLOCK_WRONG_STATE_ROOT,    /* "wrong_state_root" */
    CHAIN_BLOCK_WRONG_RECEIPTS_ROOT, /* "wrong_receipts_root" */
    CHAIN_BLOCK_BAD_COMMIT,          /* "bad_commit": apply's commit does not finalise it */
    /* Evidence rules (checked after wrong_tx_root, before invalid_tx; the
     * values follow the older reasons so that those keep their numbers). */
    CHAIN_BLOCK_TOO_MUCH_EVIDENCE,     /* "too_much_evidence": > CHAIN_BLOCK_MAX_EVIDENCE */
    CHAIN_BLOCK_WRONG_EVIDENCE_HASH,   /* "wrong_evidence_hash" */
    CHAIN_BLOCK_EVIDENCE_VOTES_DIFFER, /* "evidence_votes_differ": type, height, round, validator */
    CHAIN_BLOCK_EVIDENCE_NOT_CONFLICTING,   /* "evidence_not_conflicting": same block id */
    CHAIN_BLOCK_EVIDENCE_NOT_CANONICAL,     /* "evidence_not_canonical": a's id not below b's */
    CHAIN_BLOCK_EVIDENCE_UNKNOWN_VALIDATOR, /* "evidence_unknown_validator" */
    CHAIN_BLOCK_EVIDENCE_BAD_HEIGHT,        /* "evidence_bad_height": 0 or not below the block's */
    CHAIN_BLOCK_EVIDENCE_TOO_OLD,           /* "evidence_too_old": past CHAIN_EVIDENCE_MAX_AGE */
    CHAIN_BLOCK_DUPLICATE_EVIDENCE,         /* "duplicate_evidence": same double vote twice */
    CHAIN_BLOCK_EVIDENCE_ALREADY_INCLUDED,  /* "evidence_already_included": in an earlier block */
    CHAIN_BLOCK_EVIDENCE_BAD_SIGNATURE,     /* "evidence_bad_signature" */
    /* Bridge rules (docs/rollup.md, "Bridge"; checked after the evidence,
     * before execution). */
    CHAIN_BLOCK_DEPOSIT_OUT_OF_PLACE,       /* "deposit_out_of_place": after another type */
    CHAIN_BLOCK_TOO_MANY_DEPOSITS,          /* "too_many_deposits": > CHAIN_BLOCK_MAX_DEPOSITS */
    CHAIN_BLOCK_DEPOSIT_WRONG_NONCE,        /* "deposit_wrong_nonce": not the next in order */
    CHAIN_BLOCK_DEPOSIT_L1_BLOCK_BACKWARDS, /* "deposit_l1_block_backwards" */
    CHAIN_BLOCK_REASON_COUNT
};

/* Stable token for a reason ("wrong_parent"), "unknown" past the table. */
const char *chain_block_reason_token(int reason);

typedef struct chain_blockexec {
    const chain_genesis *g;
    chain_store *st;
} chain_blockexec;

/* What validating a block produced: its execution, ready to commit. */
typedef struct chain_block_result {
    uint8_t id[32];
    chain_exec *ex;
    chain_receipt *rs; /* one per transaction */
    size_t n;
    uint64_t gas_used;
} chain_block_result;

void chain_block_result_free(chain_block_result *res);

/* As chain_blockexec_propose, and the block also carries evidence: the
 * first items of evs[0..nev) (the caller's pool, oldest first) that
 * validate would accept, at most CHAIN_BLOCK_MAX_EVIDENCE; the others (already
 * included, too old, bad) are skipped. Evidence alone is enough to build a
 * block when allow_empty is 0. */
OL_MUST_CHECK int chain_blockexec_propose_ev(const chain_blockexec *bx, chain_mempool *mp,
                                             const chain_evidence *evs, size_t nev,
                                             const chain_addr *proposer, uint64_t now_ms,
                                             int allow_empty, chain_block *out, int *built,
                                             util_err *err);

/* What a proposer adds to a block besides the mempool's transactions. */
typedef struct chain_propose_extra {
    const chain_evidence *evs; /* the evidence pool, oldest first (as _propose_ev) */
    size_t nev;
    /* DEPOSIT transactions seen on the L1 (chain/exec/bridge.h), in nonce
     * order: those below the state's next deposit nonce are skipped, and the
     * block takes the following consecutive ones, at most
     * CHAIN_BLOCK_MAX_DEPOSITS, first in the block. A deposit alone is
     * enough to build a block when allow_empty is 0. Borrowed. */
    const chain_tx *deposits;
    size_t ndeposits;
} chain_propose_extra;

/* chain_blockexec_propose with evidence and deposits; x may be NULL.
 * _propose and _propose_ev are this with fewer extras. */
OL_MUST_CHECK int chain_blockexec_propose_x(const chain_blockexec *bx, chain_mempool *mp,
                                            const chain_propose_extra *x,
                                            const chain_addr *proposer, uint64_t now_ms,
                                            int allow_empty, chain_block *out, int *built,
                                            util_err *err);

/* Builds the next block on the head from the mempool: transactions in the
 * pool's order while the block's gas (sum of gas limits) and byte limits
 * hold; a transaction that cannot be included any more (its funds were spent
 * by an earlier one) is removed from the pool and left out. The block is
 * executed to fill its roots; its time is max(now_ms, parent + 1).
 * *built = 0 (and *out untouched) when the pool offers nothing and
 * allow_empty is 0. On success the caller owns *out (chain_block_free). */
OL_MUST_CHECK int chain_blockexec_propose(const chain_blockexec *bx, chain_mempool *mp,
                                          const chain_addr *proposer, uint64_t now_ms,
                                          int allow_empty, chain_block *out, int *built,
                                          util_err *err);

/* Checks every consensus rule on b as the next block after the store's head,
 * with now_ms the validator's clock. Returns 0 (valid; *res owns its
 * execution), UTIL_EINVAL (invalid: *reason says which rule, err says how,
 * "wrong_parent: ..."), or another UTIL_E* for a local failure (storage,
 * memory) that says nothing about the block. Nothing is written; *res is
 * empty on failure. b's transactions get their signature-checked flag set. */
OL_MUST_CHECK int chain_blockexec_validate(const chain_blockexec *bx, chain_block *b,
                                           uint64_t now_ms, chain_block_result *res, int *reason,
                                           util_err *err);

/* Checks that commit finalises block `id` at `height`: precommit signatures
 * (chain_vote_digest, bound to the genesis) by distinct validators of the
 * set holding more than 2/3 of the voting power. 0 or UTIL_EINVAL. */
OL_MUST_CHECK int chain_blockexec_verify_commit(const chain_genesis *g, uint64_t height,
                                                const uint8_t id[32], const chain_commit *commit,
                                                util_err *err);

/* Commits a block validate accepted (res from that call), after checking
 * that commit finalises it (reason CHAIN_BLOCK_BAD_COMMIT otherwise). One
 * synced batch: the block, its receipts, the state changes, the commit and
 * the new head. res stays the caller's (its receipts are what subscribers
 * are told); free it after. */
OL_MUST_CHECK int chain_blockexec_apply(const chain_blockexec *bx, const chain_block *b,
                                        const chain_block_result *res, const chain_commit *commit,
                                        int *reason, util_err *err);

#endif
