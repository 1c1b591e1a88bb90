/* EIP-1559 (type 2) Ethereum transactions: the signing hash, the signature
 * and the raw encoding eth_sendRawTransaction takes.
 *
 *   raw = 0x02 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas,
 *                      gasLimit, to, value, data, accessList,
 *                      yParity, r, s])
 *   signing hash = keccak256(0x02 || rlp([the first nine fields]))
 *   transaction hash = keccak256(raw)
 *
 * The access list is always empty. Fees and values are in wei. The caller
 * owns tx (data is borrowed) and *raw (free). */
#ifndef OL_ROLLUP_TX_H
#define OL_ROLLUP_TX_H

#include <stddef.h>
#include <stdint.h>

#include "rollup/eth/blob.h"
#include "rollup/eth/ecdsa.h"
#include "util/err.h"

typedef struct rollup_eth_tx {
    uint64_t chain_id;
    uint64_t nonce;
    uint64_t max_priority_fee_per_gas; /* wei */
    uint64_t max_fee_per_gas;          /* wei */
    uint64_t gas_limit;
    int has_to; /* 0: contract creation (data is the init code) */
    rollup_eth_addr to;
    uint8_t value[32]; /* wei, big-endian uint256 */
    const uint8_t *data;
    size_t data_len;
} rollup_eth_tx;

/* keccak256 of the unsigned type-2 payload. 0 or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_eth_tx_sighash(const rollup_eth_tx *tx, uint8_t out[32], util_err *err);

/* Signs tx with sk: *raw (malloc'd, *raw_len bytes) for
 * eth_sendRawTransaction, and its transaction hash. 0, UTIL_EINVAL (bad key)
 * or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_eth_tx_sign(const rollup_eth_tx *tx, const uint8_t sk[32], uint8_t **raw,
                                     size_t *raw_len, uint8_t txhash[32], util_err *err);

/* Decodes a signed type-2 transaction (what rollup_eth_tx_sign wrote) and
 * recovers its sender; tx->data points into raw. Strict: any other type,
 * a non-empty access list, trailing bytes or a bad signature is refused.
 * For tests and for reading back what was sent. 0 or UTIL_EINVAL. */
OL_MUST_CHECK int rollup_eth_tx_decode(rollup_eth_tx *tx, rollup_eth_addr *from, const uint8_t *raw,
                                       size_t raw_len, util_err *err);

/* --- EIP-4844 blob transactions (type 3) ---------------------------------- *
 *
 *   signed = 0x03 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas,
 *                         gasLimit, to, value, data, accessList,
 *                         maxFeePerBlobGas, blobVersionedHashes,
 *                         yParity, r, s])
 *   signing hash = keccak256(0x03 || rlp([the first eleven fields]))
 *   transaction hash = keccak256(signed)
 *   raw (what eth_sendRawTransaction takes: EIP-4844's network form with its
 *   blobs, version 0) = 0x03 || rlp([[the fourteen fields], blobs,
 *                                    commitments, proofs])
 *
 * A blob transaction must have a recipient (tx->has_to). The versioned
 * hashes are made from the commitments (rollup_kzg_versioned_hash). */
typedef struct rollup_eth_blobs {
    size_t n;                    /* 1..ROLLUP_BLOBS_PER_TX */
    const uint8_t *const *blobs; /* n blobs of ROLLUP_BLOB_BYTES, borrowed */
    const uint8_t (*commitments)[48];
    const uint8_t (*proofs)[48];
    uint64_t max_fee_per_blob_gas; /* wei */
} rollup_eth_blobs;

/* Signs a type-3 transaction: *raw (malloc'd, the network form above) and
 * its transaction hash. 0, UTIL_EINVAL (bad key, no recipient, n out of
 * range) or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_eth_tx_sign_blob(const rollup_eth_tx *tx, const rollup_eth_blobs *bl,
                                          const uint8_t sk[32], uint8_t **raw, size_t *raw_len,
                                          uint8_t txhash[32], util_err *err);

/* A signed type-3 transaction in the network form, decoded (blobs,
 * commitments, proofs and tx.data point into raw). */
typedef struct rollup_eth_blob_tx {
    rollup_eth_tx tx;
    rollup_eth_addr from;
    uint64_t max_fee_per_blob_gas;
    size_t n;
    uint8_t hashes[ROLLUP_BLOBS_PER_TX][32]; /* blobVersionedHashes */
    const uint8_t *blobs[ROLLUP_BLOBS_PER_TX];
    const uint8_t *commitments[ROLLUP_BLOBS_PER_TX];
    const uint8_t *proofs[ROLLUP_BLOBS_PER_TX];
    uint8_t txhash[32];
} rollup_eth_blob_tx;

/* Decodes what rollup_eth_tx_sign_blob wrote and recovers the sender.
 * Strict: network form version 0 only, 1..ROLLUP_BLOBS_PER_TX blobs, a
 * recipient, an empty access list, each versioned hash that of its
 * commitment (the proofs are not checked: no pairing here). For tests and
 * for reading back what was sent. 0 or UTIL_EINVAL. */
OL_MUST_CHECK int rollup_eth_tx_decode_blob(rollup_eth_blob_tx *out, const uint8_t *raw,
                                            size_t raw_len, util_err *err);

/* The address a contract created by `sender` with `nonce` gets:
 * keccak256(rlp([sender, nonce]))[12..32]. */
void rollup_eth_create_address(rollup_eth_addr *out, const rollup_eth_addr *sender, uint64_t nonce);

#endif
