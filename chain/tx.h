/* Transactions: the common signed envelope and the native bodies.
 *
 * Canonical encoding (docs/encoding.md, docs/transactions.md):
 *   version u8 | chain_id lenbytes(<=32) | type u8 | sender pubkey[32] |
 *   nonce u64 | gas_limit u64 | gas_price u64 | body | signature[64]
 * TRANSFER body: to[20] | amount u64
 * sighash = SHA-256(0x02 || encoding without the signature); the sender signs
 * it with BIP-340. id = SHA-256(0x03 || full encoding).
 *
 * A chain_tx is a plain value for the types so far (no heap); always call
 * chain_tx_free anyway, later body types own memory. */
#ifndef OL_CHAIN_TX_H
#define OL_CHAIN_TX_H

#include <stddef.h>
#include <stdint.h>

#include "chain/address.h"
#include "chain/keys.h"
#include "util/bytes.h"
#include "util/err.h"

#define CHAIN_TX_VERSION 1
#define CHAIN_ID_MAX 32 /* bytes of a chain id: [a-z0-9-], 1..32 */
#define CHAIN_TX_MAX_SIZE (128 * 1024)

/* Fixed gas of native types. */
#define CHAIN_GAS_TRANSFER 1000u

enum chain_tx_type {
    CHAIN_TX_TRANSFER = 1,
    CHAIN_TX_DATANET_CREATE = 2,
    CHAIN_TX_CONTRIBUTE = 3,
    CHAIN_TX_REVIEW = 4,
    CHAIN_TX_MODEL_REGISTER = 5,
    CHAIN_TX_ATTRIBUTE = 6,
    CHAIN_TX_DEPLOY = 7,
    CHAIN_TX_CALL = 8,
};

typedef struct chain_tx_transfer {
    chain_addr to;
    uint64_t amount;
} chain_tx_transfer;

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
    } body;
    uint8_t sig[CHAIN_SIG_LEN];

    /* Derived by chain_tx_decode / chain_tx_sign / chain_tx_finalize: */
    uint8_t id[32];
    uint8_t sighash[32];
    chain_addr from; /* address of sender */
    uint32_t size;   /* encoded size in bytes */
    int sig_checked; /* 1 once the signature was verified valid (never re-verified);
                      * reset to 0 by decode, sign and finalize */
} chain_tx;

/* Validates a chain id string: 1..32 chars of [a-z0-9-]. */
int chain_id_valid(const char *s);
const char *chain_tx_type_name(uint8_t type); /* "transfer", ... or "unknown" */

/* Appends the full encoding to out. Returns 0 or UTIL_ENOMEM. */
int chain_tx_encode(const chain_tx *tx, util_buf *out);
/* Length in bytes of chain_tx_encode's output, computed without encoding. */
size_t chain_tx_encoded_len(const chain_tx *tx);
/* Decodes exactly n bytes; rejects trailing bytes, unknown version or type,
 * bad chain id, over-long varints and n > CHAIN_TX_MAX_SIZE. Fills the derived
 * fields; does not verify the signature. */
int chain_tx_decode(chain_tx *tx, const uint8_t *p, size_t n, util_err *err);
/* Reads one transaction from r (used inside block decoding). */
int chain_tx_read(chain_tx *tx, util_rd *r, util_err *err);
/* Sets sender from kp, signs, fills derived fields. */
int chain_tx_sign(chain_tx *tx, const chain_keypair *kp, util_err *err);
/* Recomputes derived fields (sighash, id, from, size) from the content. */
int chain_tx_finalize(chain_tx *tx, util_err *err);
/* Verifies the BIP-340 signature over sighash; a valid result is cached in
 * sig_checked (= 1) and later calls return it without verifying again. An
 * invalid result is not cached (sig_checked stays 0, since other modules read
 * a non-zero flag as "verified"). Returns 1 valid, 0 invalid. */
int chain_tx_check_sig(chain_tx *tx);
/* Gas charged regardless of outcome for native types. */
uint64_t chain_tx_intrinsic_gas(const chain_tx *tx);
/* Value moved out of the sender besides the fee (TRANSFER amount). */
uint64_t chain_tx_value(const chain_tx *tx);
/* gas_limit*gas_price + value, checked. Returns 0 or -1 on overflow. */
int chain_tx_max_cost(const chain_tx *tx, uint64_t *cost);
int chain_tx_copy(chain_tx *dst, const chain_tx *src);
void chain_tx_free(chain_tx *tx);

#endif
