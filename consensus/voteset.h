/* The votes of one height: by round and type, with power tallies, quorum
 * queries, the round-skip count, and conflicting-vote detection.
 *
 * Votes given here were signature-checked by the caller; the set checks only
 * height, type and validator index.
 *
 * Bounded memory (no allocation; sizeof(cons_voteset) is fixed):
 *   - full votes are kept for CONS_VS_ROUNDS rounds: from CONS_VS_BEHIND
 *     below the current round (cons_voteset_set_round) to the window's end.
 *     A vote outside the window is not stored; it still counts for the round
 *     skip (below) and is reported CONS_VS_WINDOW. Conflicts are detected
 *     only among stored votes;
 *   - a round whose prevotes reached 2/3+ for a block (a "POL") is
 *     remembered as (round, block id) after its votes leave the window: the
 *     CONS_VS_POLS most recent ones, which is what a proposal's pol_round
 *     needs (an honest proposer carries its latest valid round);
 *   - for the round skip, each validator's highest round seen in a vote or
 *     proposal of this height (one u32 per validator), whatever the window.
 * The engine advances rounds only on timeouts or f+1 power of a higher round,
 * and peers re-gossip the current round's votes, so dropping far-off votes
 * costs no liveness. */
#ifndef OL_CONSENSUS_VOTESET_H
#define OL_CONSENSUS_VOTESET_H

#include <stddef.h>
#include <stdint.h>

#include "consensus/msg.h"
#include "consensus/valset.h"

#define CONS_VS_ROUNDS 8
#define CONS_VS_BEHIND 2
#define CONS_VS_POLS 8

enum cons_vs_result {
    CONS_VS_ADDED = 0,
    CONS_VS_DUP = 1,      /* the same vote again: ignored */
    CONS_VS_CONFLICT = 2, /* a different vote of the same validator, round and type: the
                           * first stays counted; the evidence is filled */
    CONS_VS_WINDOW = 3,   /* round outside the window: counted for the round skip only */
    CONS_VS_BAD = 4,      /* other height, bad type or validator index: ignored */
};

typedef struct cons_vs_tally {
    uint8_t id[32];
    uint64_t power;
} cons_vs_tally;

typedef struct cons_vs_kind {
    uint64_t have; /* bit i: validator i voted */
    uint64_t any_power;
    uint32_t nt;
    uint8_t ids[CONS_MAX_VALIDATORS][32];
    uint8_t sigs[CONS_MAX_VALIDATORS][64];
    cons_vs_tally t[CONS_MAX_VALIDATORS]; /* distinct values voted, nil included */
} cons_vs_kind;

typedef struct cons_vs_round {
    uint32_t round;
    int used;
    cons_vs_kind k[2]; /* [0] prevotes, [1] precommits */
} cons_vs_round;

typedef struct cons_vs_pol {
    uint32_t round;
    uint8_t id[32];
} cons_vs_pol;

typedef struct cons_voteset {
    const cons_valset *vs; /* borrowed: outlives the set */
    uint64_t height;
    uint32_t base;                       /* the window is [base, base + CONS_VS_ROUNDS) */
    cons_vs_round r[CONS_VS_ROUNDS + 2]; /* the last two: the kept rounds */
    uint32_t keep[2];                    /* CONS_POL_NONE: none */
    uint32_t npol;
    cons_vs_pol pol[CONS_VS_POLS];
    uint64_t seen; /* bit i: max_round[i] is set */
    uint32_t max_round[CONS_MAX_VALIDATORS];
} cons_voteset;

void cons_voteset_init(cons_voteset *s, const cons_valset *vs, uint64_t height);
/* Moves the window for the current round; rounds leaving it are dropped. */
void cons_voteset_set_round(cons_voteset *s, uint32_t round);

/* Keeps the votes of round r in place k (0 or 1) even below the window,
 * instead of the round kept there before; CONS_POL_NONE frees the place. */
void cons_voteset_keep(cons_voteset *s, int k, uint32_t r);

/* Adds a vote (enum cons_vs_result); ev is filled on CONS_VS_CONFLICT. */
OL_MUST_CHECK int cons_voteset_add(cons_voteset *s, const cons_vote *v, cons_evidence *ev);
/* A proposal of (height, round) by validator: counts for the round skip. */
void cons_voteset_note_round(cons_voteset *s, uint32_t validator, uint32_t round);

/* 1 if round r has 2/3+ of the power in votes of type (any values). */
OL_MUST_CHECK int cons_voteset_quorum_any(const cons_voteset *s, uint32_t r, uint8_t type);
/* 1 if round r has 2/3+ of the power in votes of type for id (nil: zeros). */
OL_MUST_CHECK int cons_voteset_quorum_for(const cons_voteset *s, uint32_t r, uint8_t type,
                                          const uint8_t id[32]);
/* 1 and id filled if some value (nil included) has 2/3+ in round r. */
OL_MUST_CHECK int cons_voteset_quorum_value(const cons_voteset *s, uint32_t r, uint8_t type,
                                            uint8_t id[32]);
/* 1 if round r had 2/3+ prevotes for the (non-nil) id, in the window or
 * remembered as a POL. */
OL_MUST_CHECK int cons_voteset_pol(const cons_voteset *s, uint32_t r, const uint8_t id[32]);
/* The highest round above cur that validators of more than 1/3 of the power
 * have reached (each counted at its highest round seen): 1 and *to filled,
 * or 0. */
OL_MUST_CHECK int cons_voteset_skip_round(const cons_voteset *s, uint32_t cur, uint32_t *to);
/* The vote of validator i in (r, type), if stored: 1 and v filled, or 0. */
OL_MUST_CHECK int cons_voteset_get(const cons_voteset *s, uint32_t r, uint8_t type, uint32_t i,
                                   cons_vote *v);
/* Power of the votes of type in round r (any value), 0 outside the window. */
uint64_t cons_voteset_power(const cons_voteset *s, uint32_t r, uint8_t type);
/* The precommits of round r for id, in validator order, as a block commit.
 * 1 if they reach 2/3+, 0 otherwise (c untouched). */
OL_MUST_CHECK int cons_voteset_commit(const cons_voteset *s, uint32_t r, const uint8_t id[32],
                                      chain_commit *c);

#endif
