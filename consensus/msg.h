/* Consensus messages: proposals, votes and evidence, with one canonical
 * encoding each, a hard size limit, and the digests validators sign
 * (docs/consensus.md, "Messages").
 *
 * A block id of 32 zero bytes is nil (no block): SHA-256 never yields it for
 * a real header in practice, and chain_vote_digest already signs it so.
 *
 * Encodings (integers little-endian, util/bytes.h):
 *   vote:     type u8 (1 prevote, 2 precommit) | height u64 | round u32 |
 *             validator u8 (< CONS_MAX_VALIDATORS) | block_id[32] | sig[64]
 *   proposal: height u64 | round u32 | pol_round u32 (0xffffffff: none, else
 *             < round) | block_id[32], not nil | proposer u8 | sig[64]
 *   evidence: vote a | vote b, same type, height, round and validator, block
 *             ids different and a's < b's (memcmp), so one pair has one
 *             encoding.
 * Height 0 is genesis: no message carries it.
 *
 * Digests (what is signed, BIP-340, by the validator's key):
 *   vote:     chain_vote_digest (chain/types/block.h), the digest block commits
 *             verify: H(0x05 || lenbytes(chain_id) || genesis_hash || height ||
 *             round || type || block_id).
 *   proposal: H(0x0b || lenbytes(chain_id) || genesis_hash || height u64 ||
 *             round u32 || pol_round u32 || block_id[32]); 0x0b is the first
 *             of the tags chain/crypto/hash.h leaves to consensus messages.
 * Both are bound to one network by its chain id and genesis hash, and
 * separated from each other and from transactions by their first byte.
 *
 * Wire types: p2p reserves 0x20..0x2f; consensus uses the three below. */
#ifndef OL_CONSENSUS_MSG_H
#define OL_CONSENSUS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "consensus/valset.h"
#include "util/bytes.h"
#include "util/err.h"

enum cons_msg_type {
    CONS_MSG_PROPOSAL = 0x20,
    CONS_MSG_VOTE = 0x21,
    CONS_MSG_EVIDENCE = 0x22,
};

/* Domain tag of the proposal digest (chain/crypto/hash.h keeps 0x0b..0x0f
 * for the consensus messages). */
#define CONS_TAG_PROPOSAL 0x0b

#define CONS_POL_NONE 0xffffffffu
#define CONS_VOTE_LEN (1 + 8 + 4 + 1 + 32 + 64)
#define CONS_PROPOSAL_LEN (8 + 4 + 4 + 32 + 1 + 64)
#define CONS_EVIDENCE_LEN (2 * CONS_VOTE_LEN)

typedef struct cons_vote {
    uint8_t type; /* CHAIN_VOTE_PREVOTE or CHAIN_VOTE_PRECOMMIT */
    uint64_t height;
    uint32_t round;
    uint32_t validator;
    uint8_t block_id[32]; /* all zero: nil */
    uint8_t sig[64];
} cons_vote;

typedef struct cons_proposal {
    uint64_t height;
    uint32_t round;
    uint32_t pol_round; /* CONS_POL_NONE, or the round of the 2/3+ prevotes it carries over */
    uint8_t block_id[32];
    uint32_t proposer;
    uint8_t sig[64];
} cons_proposal;

/* Two votes of one validator for the same height, round and type with
 * different block ids (nil counts as a value). */
typedef struct cons_evidence {
    cons_vote a, b;
} cons_evidence;

/* The signing context of one network. */
typedef struct cons_chain {
    char chain_id[CHAIN_ID_MAX + 1];
    uint8_t genesis_hash[32];
} cons_chain;

/* Largest payload of a consensus wire type, 0 for others. */
size_t cons_msg_max_len(uint8_t type);

/* 1 if the 32 bytes are all zero. */
OL_MUST_CHECK int cons_id_is_nil(const uint8_t id[32]);

void cons_vote_digest(const cons_chain *c, const cons_vote *v, uint8_t out[32]);
void cons_proposal_digest(const cons_chain *c, const cons_proposal *p, uint8_t out[32]);

/* Encoders append; UTIL_EINVAL if the message breaks a rule above. */
OL_MUST_CHECK int cons_vote_encode(const cons_vote *v, util_buf *out, util_err *err);
OL_MUST_CHECK int cons_proposal_encode(const cons_proposal *p, util_buf *out, util_err *err);
OL_MUST_CHECK int cons_evidence_encode(const cons_evidence *e, util_buf *out, util_err *err);
/* Decoders refuse every malformed input (UTIL_EINVAL, err says why); they do
 * not check signatures nor the validator index against a set. */
OL_MUST_CHECK int cons_vote_decode(cons_vote *v, const uint8_t *p, size_t n, util_err *err);
OL_MUST_CHECK int cons_proposal_decode(cons_proposal *p, const uint8_t *b, size_t n, util_err *err);
OL_MUST_CHECK int cons_evidence_decode(cons_evidence *e, const uint8_t *p, size_t n, util_err *err);
/* Builds evidence from two conflicting votes in either order (orders them).
 * UTIL_EINVAL if they do not conflict. */
OL_MUST_CHECK int cons_evidence_make(cons_evidence *e, const cons_vote *x, const cons_vote *y,
                                     util_err *err);

/* Signature checks against the set: the validator index is in range, the
 * proposer is the set's proposer of (height, round), and the signature
 * verifies. 0, UTIL_EINVAL (index, proposer) or UTIL_ECRYPTO (signature). */
OL_MUST_CHECK int cons_vote_verify(const cons_chain *c, const cons_valset *vs, const cons_vote *v,
                                   util_err *err);
OL_MUST_CHECK int cons_proposal_verify(const cons_chain *c, const cons_valset *vs,
                                       const cons_proposal *p, util_err *err);
/* Both votes verify and conflict. */
OL_MUST_CHECK int cons_evidence_verify(const cons_chain *c, const cons_valset *vs,
                                       const cons_evidence *e, util_err *err);

#endif
