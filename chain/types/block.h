/* Blocks, headers, receipts and list Merkle roots.
 *
 * Header encoding (docs/encoding.md):
 *   version u8 | chain_id lenbytes | height u64 | parent[32] | time_ms u64 |
 *   proposer[20] | tx_root[32] | state_root[32] | receipts_root[32] |
 *   validators_hash[32] | next_validators_hash[32] | consensus_params_hash[32] |
 *   evidence_hash[32] | last_commit
 * last_commit: round u32 | count varint(<=CHAIN_MAX_VALIDATORS) |
 *   count x (validator index varint | sig[64]), indexes strictly increasing.
 * Block id = SHA-256(0x04 || header encoding).
 * Block encoding: header | tx count varint | count x lenbytes(tx) |
 *   evidence count varint(<=CHAIN_BLOCK_MAX_EVIDENCE) | count x evidence.
 * Evidence (CHAIN_EVIDENCE_LEN bytes, the payload of the consensus EVIDENCE
 * message): vote a | vote b, each
 *   type u8 | height u64 | round u32 | validator u8 | block_id[32] | sig[64].
 * Decoding checks counts and lengths only; chain_blockexec_validate checks
 * what the votes say (docs/blocks.md).
 *
 * A chain_block owns its txs array (chain_block_free). */
#ifndef OL_CHAIN_BLOCK_H
#define OL_CHAIN_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types/receipt_code.h"
#include "chain/types/tx.h"
#include "util/err.h"

/* 2: the header commits to the next validator set and the consensus
 * parameters (a light client follows the chain with headers and commits). */
/* 3: the header commits to the block's evidence (evidence_hash). */
#define CHAIN_BLOCK_VERSION 3
#define CHAIN_MAX_VALIDATORS 64
#define CHAIN_BLOCK_MAX_TXS 100000
#define CHAIN_BLOCK_MAX_SIZE (16u * 1024 * 1024) /* hard decoding limit; genesis caps lower */

enum { CHAIN_VOTE_PREVOTE = 1, CHAIN_VOTE_PRECOMMIT = 2 };

/* Evidence a block may carry: at most this many items, each of a fixed size
 * (3.5 KB in all, counted in blockMaxBytes), for votes at most
 * CHAIN_EVIDENCE_MAX_AGE heights below the block. */
#define CHAIN_BLOCK_MAX_EVIDENCE 16
#define CHAIN_EVIDENCE_MAX_AGE 1000
#define CHAIN_VOTE_LEN (1 + 8 + 4 + 1 + 32 + 64)
#define CHAIN_EVIDENCE_LEN (2 * CHAIN_VOTE_LEN)

/* A signed vote as evidence carries it (consensus/msg.h has the same
 * encoding): validator is an index in the validator set. */
typedef struct chain_vote {
    uint8_t type; /* CHAIN_VOTE_PREVOTE or CHAIN_VOTE_PRECOMMIT */
    uint64_t height;
    uint32_t round;
    uint32_t validator; /* < 256 once decoded (one byte) */
    uint8_t block_id[32];
    uint8_t sig[64];
} chain_vote;

/* Two votes of one validator for the same type, height and round and
 * different blocks, a's block id below b's (one encoding per pair). */
typedef struct chain_evidence {
    chain_vote a, b;
} chain_evidence;

typedef struct chain_commit_sig {
    uint32_t validator; /* index in the validator set */
    uint8_t sig[64];
} chain_commit_sig;

typedef struct chain_commit {
    uint32_t round;
    uint32_t n;
    chain_commit_sig sigs[CHAIN_MAX_VALIDATORS];
} chain_commit;

typedef struct chain_header {
    uint8_t version;
    char chain_id[CHAIN_ID_MAX + 1];
    uint64_t height;
    uint8_t parent[32];
    uint64_t time_ms;
    chain_addr proposer;
    uint8_t tx_root[32];
    uint8_t state_root[32];
    uint8_t receipts_root[32];
    /* The validator set that signs this block's commit (chain_validators_hash),
     * the set that signs the next block's, and the consensus parameters
     * (chain_params_hash) this block was validated under. The set never
     * changes yet: next_validators_hash = validators_hash = the genesis set's. */
    uint8_t validators_hash[32];
    uint8_t next_validators_hash[32];
    uint8_t consensus_params_hash[32];
    uint8_t evidence_hash[32]; /* chain_block_evidence_hash of the body's evidence */
    chain_commit last_commit;  /* commit of block height-1; empty at height 1 */
} chain_header;

typedef struct chain_block {
    chain_header h;
    size_t ntx;
    chain_tx *txs; /* owned, malloc'd array */
    size_t nev;
    chain_evidence ev[CHAIN_BLOCK_MAX_EVIDENCE];
} chain_block;

enum { CHAIN_RECEIPT_OK = 0, CHAIN_RECEIPT_FAILED = 1 };

#define CHAIN_RECEIPT_MAX_EVENTS 1024 /* events of one receipt, so of one call */
#define CHAIN_EVENT_DATA_MAX 1024
#define CHAIN_RETURN_MAX 4096
#define CHAIN_REVERT_MAX 256      /* revert data kept (the VM keeps as much) */
#define CHAIN_RECEIPT_ERR_MAX 128 /* human message, stored beside the receipt */

/* Upper bounds of the encodings below, from the limits above (a length
 * prefix of a value under 2^21 takes at most 3 bytes): every receipt the
 * limits allow fits, so the store can always read back what it wrote. */
#define CHAIN_EVENT_MAX_SIZE (CHAIN_ADDR_LEN + 32 + 3 + CHAIN_EVENT_DATA_MAX)
#define CHAIN_RECEIPT_MAX_SIZE                                                                     \
    (1 + 1 + 8 + 8 + CHAIN_ADDR_LEN + 3 + CHAIN_RETURN_MAX + 3 + CHAIN_REVERT_MAX + 3 +            \
     (size_t)CHAIN_RECEIPT_MAX_EVENTS * CHAIN_EVENT_MAX_SIZE)
#define CHAIN_RECEIPT_STORED_MAX (CHAIN_RECEIPT_MAX_SIZE + 3 + CHAIN_RECEIPT_ERR_MAX)

/* An event: emitted by a contract (emitter = its address) or by a native
 * transaction (emitter = all zero). Payouts of attribution are events too. */
typedef struct chain_event {
    chain_addr emitter;
    uint8_t topic[32];
    uint32_t len;
    uint8_t *data; /* owned, NULL when len == 0 */
} chain_event;

typedef struct chain_receipt {
    uint8_t status;
    uint8_t code; /* enum chain_fail: CHAIN_FAIL_NONE exactly when status is OK */
    uint64_t gas_used;
    uint64_t fee; /* gas_used * gas_price, paid to the proposer */
    /* The human message: empty when status OK, well-formed UTF-8, starting
     * with code's token. Not part of the receipt hash (a node may word it
     * differently); stored next to the receipt. */
    char error[CHAIN_RECEIPT_ERR_MAX + 1];
    /* Contract results and events; all owned (chain_receipt_free). */
    chain_addr created; /* DEPLOY: the new contract's address; zero otherwise */
    uint32_t ret_len;
    uint8_t *ret;
    uint32_t revert_len; /* CHAIN_FAIL_REVERTED: the contract's revert data */
    uint8_t *revert;
    uint32_t nevents;
    chain_event *events;
} chain_receipt;

/* The commit alone (as in the header and in the store):
 * round u32 | count varint | count x (validator varint | sig[64]), indexes
 * strictly increasing and below CHAIN_MAX_VALIDATORS. */
OL_MUST_CHECK int chain_commit_encode(const chain_commit *c, util_buf *out);
OL_MUST_CHECK int chain_commit_read(chain_commit *c, util_rd *r, util_err *err);

OL_MUST_CHECK int chain_header_encode(const chain_header *h, util_buf *out);
OL_MUST_CHECK int chain_header_read(chain_header *h, util_rd *r, util_err *err);
OL_MUST_CHECK int chain_header_decode(chain_header *h, const uint8_t *p, size_t n, util_err *err);
void chain_header_hash(const chain_header *h, uint8_t out[32]);

OL_MUST_CHECK int chain_block_encode(const chain_block *b, util_buf *out);
OL_MUST_CHECK int chain_block_decode(chain_block *b, const uint8_t *p, size_t n, util_err *err);
void chain_block_free(chain_block *b);

/* Receipt encoding (docs/encoding.md), the bytes the receipts root commits to:
 *   status u8 | code u8 | gas_used u64 | fee u64 | created[20] |
 *   ret lenbytes(<=CHAIN_RETURN_MAX) | revert lenbytes(<=CHAIN_REVERT_MAX) |
 *   nevents varint(<=CHAIN_RECEIPT_MAX_EVENTS) |
 *   nevents x (emitter[20] | topic[32] | data lenbytes(<=CHAIN_EVENT_DATA_MAX)).
 * status OK <=> code CHAIN_FAIL_NONE; revert data only with CHAIN_FAIL_REVERTED.
 * The human message is not in it. */
/* 0, UTIL_ENOMEM, or UTIL_EINVAL if r breaks a rule above (nothing written). */
OL_MUST_CHECK int chain_receipt_encode(const chain_receipt *r, util_buf *out);
/* r is overwritten (free it first); on failure it owns nothing. A decoded
 * receipt owns ret, revert and events: release it with chain_receipt_free.
 * The message is left empty. */
OL_MUST_CHECK int chain_receipt_decode(chain_receipt *r, const uint8_t *p, size_t n, util_err *err);
/* Stored form (the store's receipts entries, CHAIN_DB_RECEIPTS): the encoding
 * above, then the message as lenbytes(<=CHAIN_RECEIPT_ERR_MAX) (well-formed
 * UTF-8, empty when OK). At most CHAIN_RECEIPT_STORED_MAX bytes. */
OL_MUST_CHECK int chain_receipt_encode_stored(const chain_receipt *r, util_buf *out);
OL_MUST_CHECK int chain_receipt_decode_stored(chain_receipt *r, const uint8_t *p, size_t n,
                                              util_err *err);
/* SHA-256(0x08 || the bytes chain_receipt_encode writes). */
void chain_receipt_hash(const chain_receipt *r, uint8_t out[32]);
/* Appends an event (data copied). UTIL_ELIMIT past the limits, UTIL_ENOMEM. */
OL_MUST_CHECK int chain_receipt_add_event(chain_receipt *r, const chain_addr *emitter,
                                          const uint8_t topic[32], const uint8_t *data, size_t len);
/* Marks r failed with msg: code = the token msg starts with
 * (chain_fail_from_msg), error = msg made well-formed UTF-8 and cut to
 * CHAIN_RECEIPT_ERR_MAX bytes at a character boundary. A failed receipt has
 * no return data, events or created contract: they are freed; its revert
 * data is kept when the code is CHAIN_FAIL_REVERTED. gas_used and fee stay. */
void chain_receipt_fail(chain_receipt *r, const char *msg);
/* Frees ret, revert and events and sets them NULL/0; the struct can be reused
 * after. Safe on a zeroed receipt, NULL, and twice. */
void chain_receipt_free(chain_receipt *r);

/* RFC 6962-style Merkle root over n 32-byte leaves:
 * leaf = H(0x06 || item), node = H(0x07 || left || right), split at the
 * largest power of two below n; the root of an empty list is 32 zero bytes. */
void chain_merkle_root(const uint8_t (*items)[32], size_t n, uint8_t out[32]);
/* tx_root of a block: Merkle root over the tx ids. */
void chain_block_tx_root(const chain_block *b, uint8_t out[32]);

/* One evidence item: its encoding (CHAIN_EVIDENCE_LEN bytes; no rule is
 * checked) and its id, SHA-256 of that encoding. */
void chain_evidence_encode(const chain_evidence *e, uint8_t out[CHAIN_EVIDENCE_LEN]);
void chain_evidence_decode(chain_evidence *e, const uint8_t in[CHAIN_EVIDENCE_LEN]);
void chain_evidence_id(const chain_evidence *e, uint8_t out[32]);
/* evidence_hash of a block: Merkle root over the evidence ids (32 zero bytes
 * when there is none). n is clamped to CHAIN_BLOCK_MAX_EVIDENCE. */
void chain_block_evidence_hash(const chain_block *b, uint8_t out[32]);

/* 32-byte digest a validator signs for a vote:
 * H(0x05 || lenbytes(chain_id) || genesis_hash[32] || height u64 || round u32 || type u8 ||
 *   block_id[32]).
 * The genesis hash binds a vote to one network: two chains that share a chain
 * id (a relaunched devnet) cannot replay each other's votes. */
void chain_vote_digest(uint8_t out[32], const char *chain_id, const uint8_t genesis_hash[32],
                       uint64_t height, uint32_t round, uint8_t type, const uint8_t block_id[32]);

#endif
