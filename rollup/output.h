/* Output roots: what the validators sign for the L1 every
 * params.outputIntervalBlocks blocks, and the OutputOracle checks.
 *
 *   output root = SHA-256(0x11 || version u8 (0) || l2 state root[32] ||
 *                         l2 block hash[32] || withdrawals root[32])
 *
 * 0x11 is the project's domain tag for output roots (chain/crypto/hash.h);
 * the L1 bridge recomputes the same hash with the SHA-256 precompile. The
 * withdrawals root is the bridge's after the block (chain_bridge_wroot_at).
 *
 * The validators sign, with ECDSA (rollup/eth/ecdsa.h, the even-y normalised
 * BIP-340 secret), the digest
 *
 *   keccak256(OUTPUT_TYPEHASH || l2 genesis hash[32] || uint256(height) ||
 *             output root[32])
 *   OUTPUT_TYPEHASH = keccak256("OpenLedger.Output(bytes32 l2Genesis,uint64 l2Height,bytes32
 * outputRoot)")
 *
 * exactly what OutputOracle.sol computes. A signature set for the oracle is
 * 65-byte signatures concatenated in strictly increasing order of the
 * signers' addresses (the contract refuses duplicates this way).
 *
 * Memory: a rollup_sigset is a plain value with a fixed capacity. */
#ifndef OL_ROLLUP_OUTPUT_H
#define OL_ROLLUP_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "chain/state/store.h"
#include "chain/types/genesis.h"
#include "rollup/eth/ecdsa.h"
#include "util/err.h"

#define ROLLUP_OUTPUT_VERSION 0
#define ROLLUP_TAG_OUTPUT 0x11

void rollup_output_root(uint8_t out[32], const uint8_t state_root[32], const uint8_t block_hash[32],
                        const uint8_t withdrawals_root[32]);

/* The output root of the store's block at height: its state root, its id
 * and the withdrawals root after it. UTIL_ENOTFOUND above the head; other
 * codes for a storage failure. id (may be NULL) gets the block id. */
OL_MUST_CHECK int rollup_output_root_at(chain_store *st, uint64_t height, uint8_t root[32],
                                        uint8_t id[32], util_err *err);

/* The digest validators sign for (height, root) of chain genesis_hash. */
void rollup_output_digest(uint8_t out[32], const uint8_t genesis_hash[32], uint64_t height,
                          const uint8_t root[32]);

/* Signs digest with a validator's BIP-340 secret key (normalised to the
 * even-y point first). */
OL_MUST_CHECK int rollup_output_sign(uint8_t sig[ROLLUP_ETH_SIG_LEN], const uint8_t digest[32],
                                     const uint8_t validator_sk[32], util_err *err);

/* The validators' Ethereum addresses, in genesis order (vals[i] gets
 * genesis validator i's). */
OL_MUST_CHECK int rollup_validator_addrs(const chain_genesis *g, rollup_eth_addr *addrs,
                                         util_err *err);

/* Signatures collected for one (height, root). */
typedef struct rollup_sigset {
    uint8_t digest[32];
    size_t n;
    rollup_eth_addr signer[CHAIN_MAX_VALIDATORS];
    uint8_t sig[CHAIN_MAX_VALIDATORS][ROLLUP_ETH_SIG_LEN];
    uint64_t power; /* of the signers so far */
    uint64_t total; /* of the whole set */
} rollup_sigset;

void rollup_sigset_init(rollup_sigset *s, const uint8_t digest[32], const chain_genesis *g);
/* Adds sig if it recovers to a validator of g not yet in the set. 0 (added
 * or already there), UTIL_EINVAL (bad signature, unknown signer). */
OL_MUST_CHECK int rollup_sigset_add(rollup_sigset *s, const chain_genesis *g,
                                    const uint8_t sig[ROLLUP_ETH_SIG_LEN], util_err *err);
/* More than 2/3 of the power. */
int rollup_sigset_quorum(const rollup_sigset *s);
/* The signatures sorted by signer address, concatenated: n * 65 bytes into
 * out (capacity CHAIN_MAX_VALIDATORS * 65). Returns the length. */
size_t rollup_sigset_pack(const rollup_sigset *s, uint8_t *out);

#endif
