/* The validator set of one height, as consensus sees it: keys, addresses and
 * voting powers in genesis order (the index of a validator is its position),
 * the quorum thresholds, and the proposer of each (height, round).
 *
 * Thresholds, integer only. With T the total power:
 *   2/3+ ("quorum"): power p with 3p > 2T, i.e. p >= floor(2T/3) + 1;
 *   1/3+ ("f+1"):    power p with 3p > T,  i.e. p >= floor(T/3) + 1.
 * Both are computed without overflow for any T that fits u64.
 *
 * Proposer rotation (docs/consensus.md, "Proposer"): stateless and weighted.
 * Lay the validators' powers end to end on [0, T) in index order, so that
 * validator i owns the interval [C_i, C_i + w_i). Step s = (height + round)
 * mod T is mapped to the point x = s * K mod T, where K is the first integer
 * >= floor(T * 0.6180339887) (integer arithmetic: T * 6180339887 / 10^10 in
 * 128 bits) that is coprime with T. The proposer is the owner of x.
 * s -> s*K mod T is a permutation of [0, T), so over any T consecutive steps
 * every validator proposes exactly w_i times; the golden-ratio stride spreads
 * a validator's turns across the cycle instead of bunching them (three-gap
 * theorem). No state is carried between heights, so a node that restarts or
 * syncs computes any proposer from the set alone. */
#ifndef OL_CONSENSUS_VALSET_H
#define OL_CONSENSUS_VALSET_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/address.h"
#include "chain/types/block.h"
#include "chain/types/genesis.h"
#include "util/err.h"

#define CONS_MAX_VALIDATORS CHAIN_MAX_VALIDATORS

typedef struct cons_validator {
    uint8_t pubkey[32];
    chain_addr addr;
    uint64_t power;
} cons_validator;

typedef struct cons_valset {
    uint32_t n;
    cons_validator v[CONS_MAX_VALIDATORS];
    uint64_t total;
    uint64_t quorum;    /* floor(2T/3) + 1 */
    uint64_t one_third; /* floor(T/3) + 1 */
    uint64_t stride;    /* K above */
} cons_valset;

/* From genesis validators (n in 1..CONS_MAX_VALIDATORS, powers >= 1, total
 * fits u64, distinct pubkeys). 0 or UTIL_EINVAL. */
OL_MUST_CHECK int cons_valset_init(cons_valset *vs, const chain_validator *v, size_t n,
                                   util_err *err);
/* Same from (pubkey, power) pairs; addresses are derived from the keys. */
OL_MUST_CHECK int cons_valset_init_raw(cons_valset *vs, const uint8_t (*pubkeys)[32],
                                       const uint64_t *powers, size_t n, util_err *err);

/* 1 if power is more than 2/3 of the total. */
OL_MUST_CHECK int cons_valset_has_quorum(const cons_valset *vs, uint64_t power);
/* 1 if power is more than 1/3 of the total (at least one honest validator
 * among them while faulty power stays below 1/3). */
OL_MUST_CHECK int cons_valset_has_one_third(const cons_valset *vs, uint64_t power);

/* Index of the proposer of (height, round). */
OL_MUST_CHECK uint32_t cons_valset_proposer(const cons_valset *vs, uint64_t height, uint32_t round);

/* Index of the validator with this pubkey, or -1. */
OL_MUST_CHECK int cons_valset_find(const cons_valset *vs, const uint8_t pubkey[32]);

#endif
