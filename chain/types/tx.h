/* Transactions: the common signed envelope and the native bodies.
 *
 * Canonical encoding (docs/encoding.md, docs/transactions.md):
 *   version u8 | chain_id lenbytes(<=32) | type u8 | sender pubkey[32] |
 *   nonce u64 | gas_limit u64 | gas_price u64 | body | signature[64]
 * TRANSFER body: to[20] | amount u64
 * sighash = SHA-256(0x02 || genesis_hash[32] || encoding without the signature);
 * the sender signs it with BIP-340. The genesis hash binds a signature to one
 * network: two chains that share a chain id (devnets, a relaunch) differ in
 * their genesis, so neither accepts the other's transactions. The decoder does
 * not know the genesis, so the sighash is computed when signing and checking,
 * never stored. id = SHA-256(0x03 || full encoding).
 *
 * A chain_tx owns heap memory for its variable-length body parts: the names
 * and URIs of DATANET_CREATE, CONTRIBUTE and MODEL_REGISTER, the datanet list
 * of MODEL_REGISTER, ATTRIBUTE entries, DEPLOY code and CALL input. Each is
 * allocated at its exact size, so the struct stays small (its body union is
 * the size of the largest fixed part, DEPOSIT's: 128 bytes) and decoding a block of
 * small transactions costs little more than the block (docs/encoding.md,
 * "Block"). The decoder and chain_tx_copy allocate them, chain_tx_free
 * releases them; a failed decode or copy leaves nothing allocated. Never copy
 * a tx with `=` or memcpy (use chain_tx_copy), release every tx with
 * chain_tx_free, and set the strings and the datanet list only through
 * chain_tx_set_str and chain_tx_set_datanets.
 *
 * Strings (name, meta_uri, uri) are NUL-terminated copies. An empty string is
 * NULL, never "": the decoder and chain_tx_set_str store NULL for it, and the
 * encoder writes NULL as an empty field. Read them through chain_tx_str,
 * which returns "" for NULL. A name is never empty in a valid tx, so a
 * decoded name is never NULL. */
#ifndef OL_CHAIN_TX_H
#define OL_CHAIN_TX_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/address.h"
#include "chain/crypto/keys.h"
#include "util/bytes.h"
#include "util/err.h"

#define CHAIN_TX_VERSION 1
#define CHAIN_ID_MAX 32 /* bytes of a chain id: [a-z0-9-], 1..32 */
#define CHAIN_TX_MAX_SIZE (128 * 1024)

/* Intrinsic gas: charged whatever the outcome (docs/transactions.md). ATTRIBUTE
 * and CALL also pay the metered VM gas of the contract they run, added at
 * execution. */
#define CHAIN_GAS_TRANSFER 1000u
#define CHAIN_GAS_DATANET_CREATE 5000u
#define CHAIN_GAS_CONTRIBUTE 3000u
#define CHAIN_GAS_REVIEW 2000u
#define CHAIN_GAS_MODEL_REGISTER 5000u /* + CHAIN_GAS_MODEL_PER_DATANET per datanet */
#define CHAIN_GAS_MODEL_PER_DATANET 200u
#define CHAIN_GAS_ATTRIBUTE 5000u /* + CHAIN_GAS_ATTRIBUTE_PER_ENTRY per entry */
#define CHAIN_GAS_ATTRIBUTE_PER_ENTRY 500u
#define CHAIN_GAS_DEPLOY 20000u /* + CHAIN_GAS_DEPLOY_PER_BYTE per code byte */
#define CHAIN_GAS_DEPLOY_PER_BYTE 10u
#define CHAIN_GAS_CALL 2000u
#define CHAIN_GAS_WITHDRAW 5000u

enum chain_tx_type {
    CHAIN_TX_TRANSFER = 1,
    CHAIN_TX_DATANET_CREATE = 2,
    CHAIN_TX_CONTRIBUTE = 3,
    CHAIN_TX_REVIEW = 4,
    CHAIN_TX_MODEL_REGISTER = 5,
    CHAIN_TX_ATTRIBUTE = 6,
    CHAIN_TX_DEPLOY = 7,
    CHAIN_TX_CALL = 8,
    /* The bridge (docs/rollup.md, "Bridge"). DEPOSIT is a system transaction:
     * sender key, gas limit, gas price and signature are all zero (the
     * decoder refuses anything else), its nonce is the L1 deposit nonce, and
     * only a block proposer includes one, copied from the L1; the mempool
     * never admits it. */
    CHAIN_TX_DEPOSIT = 9,
    CHAIN_TX_WITHDRAW = 10,
};

typedef struct chain_tx_transfer {
    chain_addr to;
    uint64_t amount;
} chain_tx_transfer;

/* Limits of the attribution and contract bodies (docs/transactions.md). */
#define CHAIN_NAME_MAX 64 /* names: 1..64 bytes of printable ASCII 0x20..0x7e */
#define CHAIN_URI_MAX 256 /* URIs: 0..256 bytes of printable ASCII 0x21..0x7e */
#define CHAIN_MODEL_MAX_DATANETS 16
#define CHAIN_ATTR_MAX_ENTRIES 256
#define CHAIN_BP_TOTAL 10000        /* basis points of a split */
#define CHAIN_CODE_MAX (24 * 1024)  /* DEPLOY code bytes */
#define CHAIN_INPUT_MAX (16 * 1024) /* CALL input bytes */

enum chain_attr_method {
    CHAIN_ATTR_GRADIENT = 0,
    CHAIN_ATTR_SUFFIX_ARRAY = 1,
    CHAIN_ATTR_OTHER = 2,
};

/* DATANET_CREATE body: name lenbytes | meta_hash[32] | meta_uri lenbytes | bond u64 | review u8
 * (0/1) */
typedef struct chain_tx_datanet_create {
    char *name; /* owned, 1..CHAIN_NAME_MAX bytes */
    uint8_t meta_hash[32];
    char *meta_uri; /* owned, 0..CHAIN_URI_MAX bytes, NULL when empty */
    uint64_t bond;
    uint8_t review;
} chain_tx_datanet_create;

/* CONTRIBUTE body: datanet u64 | content_hash[32] | size u64 | uri lenbytes */
typedef struct chain_tx_contribute {
    uint64_t datanet;
    uint8_t content_hash[32];
    uint64_t size;
    char *uri; /* owned, 0..CHAIN_URI_MAX bytes, NULL when empty */
} chain_tx_contribute;

/* REVIEW body: contribution u64 | accept u8 (0/1) | reason u32 (0 when accepting) */
typedef struct chain_tx_review {
    uint64_t contribution;
    uint8_t accept;
    uint32_t reason;
} chain_tx_review;

/* MODEL_REGISTER body: name lenbytes | n varint(1..16) | n x datanet u64 |
 * attestor pubkey[32] | reward_contract[20] (all zero: the default) |
 * owner_bp u16 | validators_bp u16 | contributors_bp u16 */
typedef struct chain_tx_model_register {
    char *name; /* owned, 1..CHAIN_NAME_MAX bytes */
    uint32_t ndatanets;
    uint64_t *datanets; /* owned, ndatanets ids (malloc), NULL when ndatanets == 0 */
    uint8_t attestor[32];
    chain_addr reward_contract;
    uint16_t owner_bp, validators_bp, contributors_bp;
} chain_tx_model_register;

typedef struct chain_attr_entry {
    uint64_t contribution;
    uint64_t weight;
} chain_attr_entry;

/* ATTRIBUTE body: model u64 | output_hash[32] | fee u64 | method u8 (0..2) |
 * evidence_hash[32] | n varint(0..256) | n x (contribution u64 | weight u64) */
typedef struct chain_tx_attribute {
    uint64_t model;
    uint8_t output_hash[32];
    uint64_t fee;
    uint8_t method;
    uint8_t evidence_hash[32];
    uint32_t nentries;
    chain_attr_entry *entries; /* owned (malloc), NULL when nentries == 0 */
} chain_tx_attribute;

/* DEPLOY body: code lenbytes(1..CHAIN_CODE_MAX) */
typedef struct chain_tx_deploy {
    uint32_t len;
    uint8_t *code; /* owned */
} chain_tx_deploy;

/* CALL body: contract[20] | value u64 | input lenbytes(0..CHAIN_INPUT_MAX) */
typedef struct chain_tx_call {
    chain_addr contract;
    uint64_t value;
    uint32_t len;
    uint8_t *input; /* owned, NULL when len == 0 */
} chain_tx_call;

/* DEPOSIT body: l1_block u64 | l1_block_hash[32] | l1_tx_hash[32] |
 * log_index u32 | l1_from[20] | to[20] | amount u64 (amount > 0) */
typedef struct chain_tx_deposit {
    uint64_t l1_block;
    uint8_t l1_block_hash[32];
    uint8_t l1_tx_hash[32];
    uint32_t log_index;
    uint8_t l1_from[20]; /* the L1 account that locked the tokens */
    chain_addr to;
    uint64_t amount;
} chain_tx_deposit;

/* WITHDRAW body: l1_recipient[20] (not all zero) | amount u64 (> 0) */
typedef struct chain_tx_withdraw {
    uint8_t l1_recipient[20];
    uint64_t amount;
} chain_tx_withdraw;

typedef struct chain_tx {
    uint8_t version;
    char chain_id[CHAIN_ID_MAX + 1];
    uint8_t type;
    uint8_t sender[CHAIN_PUBKEY_LEN];
    uint64_t nonce;
    uint64_t gas_limit;
    uint64_t gas_price;
    union {
        chain_tx_transfer transfer;
        chain_tx_datanet_create datanet_create;
        chain_tx_contribute contribute;
        chain_tx_review review;
        chain_tx_model_register model_register;
        chain_tx_attribute attribute;
        chain_tx_deploy deploy;
        chain_tx_call call;
        chain_tx_deposit deposit;
        chain_tx_withdraw withdraw;
    } body;
    uint8_t sig[CHAIN_SIG_LEN];

    /* Derived by chain_tx_decode / chain_tx_sign / chain_tx_finalize: */
    uint8_t id[32];
    chain_addr from; /* address of sender */
    uint32_t size;   /* encoded size in bytes */
    int sig_checked; /* 1 once the signature was verified valid (never re-verified);
                      * reset to 0 by decode, sign and finalize. A process
                      * serves one genesis, so the flag is not tied to the
                      * genesis hash it was checked under. */
} chain_tx;

/* Validates a chain id string: 1..32 chars of [a-z0-9-]. */
OL_MUST_CHECK int chain_id_valid(const char *s);
const char *chain_tx_type_name(uint8_t type); /* "transfer", ... or "unknown" */

/* Appends the full encoding to out. Returns 0 or UTIL_ENOMEM. */
OL_MUST_CHECK int chain_tx_encode(const chain_tx *tx, util_buf *out);
/* Length in bytes of chain_tx_encode's output, computed without encoding. */
size_t chain_tx_encoded_len(const chain_tx *tx);
/* Decodes exactly n bytes; rejects trailing bytes, unknown version or type,
 * bad chain id, over-long varints, n > CHAIN_TX_MAX_SIZE and every stateless
 * body rule (docs/transactions.md). Fills the derived fields; does not verify
 * the signature. tx is overwritten (free it first if it owns memory); on
 * failure it is all zero and owns nothing. */
OL_MUST_CHECK int chain_tx_decode(chain_tx *tx, const uint8_t *p, size_t n, util_err *err);
/* Reads one transaction from r (used inside block decoding); same rules. */
OL_MUST_CHECK int chain_tx_read(chain_tx *tx, util_rd *r, util_err *err);
/* The message the sender signs for the chain whose genesis hash is
 * genesis_hash: SHA-256(0x02 || genesis_hash || encoding without the
 * signature). Returns 0 or UTIL_ENOMEM. */
OL_MUST_CHECK int chain_tx_sighash(const chain_tx *tx, const uint8_t genesis_hash[32],
                                   uint8_t out[32]);
/* Sets sender from kp, signs for the chain of genesis_hash, fills derived
 * fields. */
OL_MUST_CHECK int chain_tx_sign(chain_tx *tx, const chain_keypair *kp,
                                const uint8_t genesis_hash[32], util_err *err);
/* Recomputes derived fields (id, from, size) from the content, after checking
 * it with the decoder's rules (so what is signed also decodes). */
OL_MUST_CHECK int chain_tx_finalize(chain_tx *tx, util_err *err);
/* Verifies the BIP-340 signature over the sighash for genesis_hash; a valid
 * result is cached in sig_checked (= 1) and later calls return it without
 * verifying again. An invalid result is not cached (sig_checked stays 0, since
 * other modules read a non-zero flag as "verified"). Returns 1 valid, 0
 * invalid (also when genesis_hash is NULL or memory runs out: never "valid"
 * without a check). */
OL_MUST_CHECK int chain_tx_check_sig(chain_tx *tx, const uint8_t genesis_hash[32]);
/* Gas charged regardless of outcome (CHAIN_GAS_*); metered VM gas is extra. */
uint64_t chain_tx_intrinsic_gas(const chain_tx *tx);
/* Value moved out of the sender besides the fee: TRANSFER amount, ATTRIBUTE
 * fee, CALL value, WITHDRAW amount; 0 otherwise (a DEPOSIT moves nothing out
 * of an account). A CONTRIBUTE's bond is not included: it
 * depends on the datanet, which only execution can read. */
uint64_t chain_tx_value(const chain_tx *tx);
/* gas_limit*gas_price + value, checked. Returns 0 or -1 on overflow. */
OL_MUST_CHECK int chain_tx_max_cost(const chain_tx *tx, uint64_t *cost);
/* Deep copy (dst is overwritten, not freed). 0 or UTIL_ENOMEM; on failure dst
 * is zeroed and owns nothing. */
OL_MUST_CHECK int chain_tx_copy(chain_tx *dst, const chain_tx *src);
/* Frees the owned body memory and sets its pointers NULL and counts 0. Safe on
 * a zeroed tx, NULL, and twice. */
void chain_tx_free(chain_tx *tx);

/* Sets an owned string of a body (name, meta_uri, uri) to a copy of s, freeing
 * the old one; s NULL or "" stores NULL (the empty string). UTIL_ELIMIT when s
 * is longer than max bytes, UTIL_ENOMEM; on failure *dst is unchanged. The
 * characters are checked later, by chain_tx_sign/finalize. */
OL_MUST_CHECK int chain_tx_set_str(char **dst, const char *s, size_t max);
/* A body string for reading: s, or "" when s is NULL. */
const char *chain_tx_str(const char *s);
/* Sets a MODEL_REGISTER body's datanet list to a copy of ids[0..n), freeing
 * the old one (n = 0 stores NULL). UTIL_ELIMIT when n >
 * CHAIN_MODEL_MAX_DATANETS, UTIL_ENOMEM; on failure the body is unchanged. */
OL_MUST_CHECK int chain_tx_set_datanets(chain_tx_model_register *b, const uint64_t *ids,
                                        uint32_t n);
/* Bytes of heap the tx's body owns, as requested from malloc (without the
 * allocator's own overhead): what decoding it allocates besides the chain_tx
 * itself. */
size_t chain_tx_heap_bytes(const chain_tx *tx);

#endif
