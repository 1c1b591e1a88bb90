/* The Tendermint consensus algorithm ("The latest gossip on BFT consensus",
 * Buchman, Kwon, Milosevic, 2018, arXiv 1807.04938, Algorithm 1) as a pure
 * state machine for one validator (or a non-voting observer): inputs are
 * calls, outputs are queued for the host to drain. No I/O, no clock, no
 * allocation, no floats. docs/consensus.md describes the rules and how a
 * host drives it.
 *
 * The engine works with block ids; block bytes, execution, signatures, the
 * WAL and the network are the host's:
 *
 *   Inputs (each returns 0, or an error code for input it refuses; refused
 *   input changes nothing):
 *     cons_engine_start_height  begin height h with its validator set and
 *                               params (after the previous decision is stored)
 *     cons_engine_on_proposal   a proposal whose signature the host checked
 *                               (cons_proposal_verify), and whose block it has
 *     cons_engine_on_vote       a vote whose signature the host checked
 *                               (cons_vote_verify); our own votes come back
 *                               here too, once signed
 *     cons_engine_on_validated  the answer to CONS_OUT_VALIDATE
 *     cons_engine_on_built      the answer to CONS_OUT_BUILD
 *     cons_engine_on_timeout    a timer set by CONS_OUT_TIMEOUT fired
 *     cons_engine_on_commit     a commit of the current height that the host
 *                               got from a peer (block sync) and whose
 *                               signatures it checked: decides at once
 *
 *   Outputs (cons_engine_next; drain the queue after every input):
 *     CONS_OUT_BUILD     our turn to propose a new block at (height, round):
 *                        build and execute it, then call on_built with its id
 *     CONS_OUT_VALIDATE  execute block_id on the previous state and check its
 *                        post-state root, then call on_validated
 *     CONS_OUT_PROPOSAL  sign-and-broadcast: record the proposal in the WAL
 *                        (and the signer state) durably, sign it, broadcast
 *                        it with its block, and feed it back to on_proposal
 *     CONS_OUT_VOTE      the same for a vote: WAL, sign, broadcast, on_vote
 *     CONS_OUT_TIMEOUT   call on_timeout(height, round, step) after ms
 *     CONS_OUT_DECIDE    block_id is decided at height in round: store it
 *                        with cons_engine_commit (2/3+ precommits), then
 *                        start_height(height + 1)
 *     CONS_OUT_EVIDENCE  two conflicting signed votes of one validator
 *
 * The sig fields of proposal and vote outputs are zero: the host signs. A
 * host that cannot record or sign (disk full, signer refuses) must not
 * broadcast; the engine then simply waits for timeouts, as if the message
 * had been lost. */
#ifndef OL_CONSENSUS_ENGINE_H
#define OL_CONSENSUS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "consensus/msg.h"
#include "consensus/valset.h"
#include "consensus/voteset.h"

/* The step timeouts: in round r, base + delta * r ms. The host fills them
 * from the genesis parameters of the same names (chain_params:
 * timeout_propose_ms, timeout_propose_delta_ms, ...), the same for every
 * validator. timeoutCommitMs, the wait after a decision before the next
 * height, is the host's: it calls start_height when it has passed. */
typedef struct cons_params {
    uint32_t timeout_propose_ms, timeout_propose_delta_ms;
    uint32_t timeout_prevote_ms, timeout_prevote_delta_ms;
    uint32_t timeout_precommit_ms, timeout_precommit_delta_ms;
} cons_params;

enum cons_step {
    CONS_STEP_NONE = 0, /* before start_height */
    CONS_STEP_PROPOSE = 1,
    CONS_STEP_PREVOTE = 2,
    CONS_STEP_PRECOMMIT = 3,
    CONS_STEP_DECIDED = 4, /* waiting for start_height(height + 1) */
};

enum cons_out_kind {
    CONS_OUT_BUILD = 1,
    CONS_OUT_VALIDATE,
    CONS_OUT_PROPOSAL,
    CONS_OUT_VOTE,
    CONS_OUT_TIMEOUT,
    CONS_OUT_DECIDE,
    CONS_OUT_EVIDENCE,
};

typedef struct cons_output {
    int kind;               /* enum cons_out_kind */
    uint64_t height;        /* all kinds */
    uint32_t round;         /* BUILD, TIMEOUT, DECIDE */
    uint8_t step;           /* TIMEOUT: CONS_STEP_PROPOSE/PREVOTE/PRECOMMIT */
    uint64_t ms;            /* TIMEOUT */
    uint8_t block_id[32];   /* VALIDATE, DECIDE */
    cons_proposal proposal; /* PROPOSAL */
    cons_vote vote;         /* VOTE */
    cons_evidence evidence; /* EVIDENCE */
} cons_output;

/* What consensus_state and node_status show. */
typedef struct cons_state {
    uint64_t height;
    uint32_t round;
    uint8_t step;
    uint32_t locked_round; /* CONS_POL_NONE: not locked */
    uint8_t locked_id[32];
    uint32_t valid_round; /* CONS_POL_NONE: none */
    uint8_t valid_id[32];
    int has_proposal; /* a proposal for the current round was received */
    uint8_t proposal_id[32];
    uint32_t proposer; /* of the current round */
    uint64_t prevote_power, precommit_power, total_power;
} cons_state;

#define CONS_OUT_CAP 64
#define CONS_OUT_PER_INPUT 32 /* an input is refused (UTIL_ESTATE) with less room left */
#define CONS_BLOCK_CACHE 32   /* validity answers kept per height */

enum { CONS_BLK_PENDING = 1, CONS_BLK_VALID = 2, CONS_BLK_INVALID = 3 };

typedef struct cons_engine {
    cons_params params;
    int has_self;
    uint8_t self_key[32];
    int32_t self; /* index in vs, -1: not a validator at this height */
    cons_valset vs;
    uint64_t height;
    uint32_t round;
    uint8_t step;
    uint32_t locked_round, valid_round;
    uint8_t locked_id[32], valid_id[32];
    cons_voteset votes;
    struct {
        int used;
        cons_proposal p;
    } props[CONS_VS_ROUNDS]; /* by round % CONS_VS_ROUNDS, same window as votes */
    struct {
        uint8_t id[32];
        uint8_t state;
    } blocks[CONS_BLOCK_CACHE];
    uint32_t nblocks, block_next;
    /* once-per-round flags of the current round */
    int sent_proposal, sent_prevote, sent_precommit, asked_build;
    int timeout_prevote_set, timeout_precommit_set, pol_seen;
    uint32_t decided_round;
    uint8_t decided_id[32];
    chain_commit commit;
    cons_output out[CONS_OUT_CAP];
    uint32_t out_head, out_len;
} cons_engine;

/* Duration of the step's timeout in round r: base + delta * r (a u32 times
 * a u32 plus a u32: no overflow in u64). */
uint64_t cons_timeout_ms(const cons_params *p, uint8_t step, uint32_t round);

/* self_key: our validator key (NULL: observe only, never vote). The engine
 * struct is large (about 220 KB, the vote set): allocate it once, and do not
 * copy it (its vote set points at its validator set). */
void cons_engine_init(cons_engine *e, const cons_params *p, const uint8_t *self_key);

/* Starts height h (>= 1; above the current one) with its set and params:
 * round 0, a clean vote set. Emits BUILD or TIMEOUT(propose). */
OL_MUST_CHECK int cons_engine_start_height(cons_engine *e, uint64_t h, const cons_valset *vs,
                                           const cons_params *p, util_err *err);
/* UTIL_EINVAL: not from the round's proposer or malformed; other heights and
 * a second proposal for a round are ignored (0). */
OL_MUST_CHECK int cons_engine_on_proposal(cons_engine *e, const cons_proposal *p, util_err *err);
/* UTIL_EINVAL: validator index outside the set or bad type; other heights
 * are ignored (0). */
OL_MUST_CHECK int cons_engine_on_vote(cons_engine *e, const cons_vote *v, util_err *err);
OL_MUST_CHECK int cons_engine_on_validated(cons_engine *e, uint64_t h, const uint8_t id[32],
                                           int valid, util_err *err);
/* The block built for (h, round) after CONS_OUT_BUILD (nil id: could not
 * build; the round then times out). Ignored once the round's propose
 * timeout made us prevote: a proposal must precede our prevote. */
OL_MUST_CHECK int cons_engine_on_built(cons_engine *e, uint64_t h, uint32_t round,
                                       const uint8_t id[32], util_err *err);
OL_MUST_CHECK int cons_engine_on_timeout(cons_engine *e, uint64_t h, uint32_t round, uint8_t step,
                                         util_err *err);

/* A verified commit of height h for id (the host checked every signature
 * against the set with chain_vote_digest): decides if its validators hold
 * 2/3+ of the power. The way out for a node whose peers moved on: the
 * precommits of an old round may be outside its vote window.
 * UTIL_EINVAL: indexes not increasing or outside the set, or less than 2/3+. */
OL_MUST_CHECK int cons_engine_on_commit(cons_engine *e, uint64_t h, const uint8_t id[32],
                                        const chain_commit *c, util_err *err);

/* Pops the next output: 1 and *o filled, or 0 when the queue is empty. */
OL_MUST_CHECK int cons_engine_next(cons_engine *e, cons_output *o);
/* After CONS_OUT_DECIDE: the commit of the decided block (borrowed until
 * the next start_height). NULL before a decision. */
OL_MUST_CHECK const chain_commit *cons_engine_commit(const cons_engine *e);
void cons_engine_state_get(const cons_engine *e, cons_state *s);
/* The votes of the current height, for consensus_state and re-gossip. */
OL_MUST_CHECK const cons_voteset *cons_engine_votes(const cons_engine *e);
/* The stored proposal of round r of this height: 1 and *p filled, or 0. */
OL_MUST_CHECK int cons_engine_proposal(const cons_engine *e, uint32_t r, cons_proposal *p);
/* "propose", "prevote", "precommit", "decided", "none". */
const char *cons_step_name(uint8_t step);

#endif
