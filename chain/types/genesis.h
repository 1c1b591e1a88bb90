/* Genesis: the JSON document that starts a chain, parsed and validated.
 *
 * {
 *   "chainId": "openledger-devnet",          1..32 chars [a-z0-9-]
 *   "genesisTime": "2026-01-01T00:00:00Z",   RFC 3339, UTC, whole seconds
 *   "params": { "blockGasLimit": "50000000", "blockMaxBytes": "8388608",
 *               "txMaxBytes": "131072", "minGasPrice": "1",
 *               "timeoutProposeMs": 3000, "timeoutProposeDeltaMs": 500,
 *               "timeoutPrevoteMs": 1000, "timeoutPrevoteDeltaMs": 500,
 *               "timeoutPrecommitMs": 1000, "timeoutPrecommitDeltaMs": 500,
 *               "timeoutCommitMs": 1000, "maxClockDriftMs": 10000,
 *               "outputIntervalBlocks": 10 },
 *   "validators": [ { "name": "v0", "pubkey": "0x<32 bytes hex>", "power": 10 } ],
 *   "alloc": [ { "address": "ol1...", "balance": "1000000000000000" } ],
 *   "contracts": [ { "address": "ol1...", "code": "0x<VM code blob>" } ]   optional
 * }
 * Amounts and u64 params are decimal strings (JSON numbers lose precision past
 * 2^53). Every error names the field, e.g. "alloc[3].balance: not a decimal
 * amount". The genesis hash is SHA-256(0x0a || canonical binary encoding of the
 * parsed document), so formatting of the JSON does not change it.
 *
 * chain_genesis owns its arrays; free with chain_genesis_free. */
#ifndef OL_CHAIN_GENESIS_H
#define OL_CHAIN_GENESIS_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/address.h"
#include "chain/types/block.h"
#include "util/err.h"

#define CHAIN_GENESIS_MAX_ALLOC 100000
/* The most the L1 bridge can lock (Bridge.MAX_LOCKED, docs/rollup.md), and
 * so the genesis supply that leaves room for it: with both bounds no balance
 * can overflow when deposits are minted. */
#define CHAIN_BRIDGE_MAX_LOCKED 10000000000000000000ull
#define CHAIN_GENESIS_MAX_SUPPLY (UINT64_MAX - CHAIN_BRIDGE_MAX_LOCKED)
#define CHAIN_GENESIS_MAX_BYTES (64u * 1024 * 1024)
#define CHAIN_GENESIS_MAX_CONTRACTS 256
/* Bounds of the consensus timeouts: a round-0 step timeout below 10 ms would
 * make validators spin through rounds faster than a vote can cross a network,
 * and one above 10 minutes is a typo, not a choice. */
#define CHAIN_TIMEOUT_MIN_MS 10
#define CHAIN_TIMEOUT_MAX_MS 600000

typedef struct chain_params {
    uint64_t block_gas_limit;
    uint64_t block_max_bytes;
    uint64_t tx_max_bytes;
    uint64_t min_gas_price;
    /* The consensus timeouts: the same for every
     * validator, so they are consensus parameters. A step's timeout in round
     * r is base + r * delta. */
    uint32_t timeout_propose_ms;
    uint32_t timeout_propose_delta_ms;
    uint32_t timeout_prevote_ms;
    uint32_t timeout_prevote_delta_ms;
    uint32_t timeout_precommit_ms;
    uint32_t timeout_precommit_delta_ms;
    uint32_t timeout_commit_ms;  /* wait after a decision before the next height */
    uint32_t max_clock_drift_ms; /* a block may be this far ahead of a validator's clock */
    /* The rollup: validators sign the output root of every height that is a
     * multiple of this (docs/rollup.md). */
    uint32_t output_interval_blocks;
} chain_params;

typedef struct chain_validator {
    char name[64];
    uint8_t pubkey[32];
    chain_addr addr;
    uint64_t power;
} chain_validator;

typedef struct chain_alloc {
    chain_addr addr;
    uint64_t balance;
} chain_alloc;

/* A contract installed at genesis: its code is stored under the contract's
 * state key at block 0, as if deployed (docs/contracts.md). */
typedef struct chain_genesis_contract {
    chain_addr addr;
    uint32_t len;
    uint8_t *code; /* owned; verified with vm_verify when parsed */
} chain_genesis_contract;

typedef struct chain_genesis {
    char chain_id[CHAIN_ID_MAX + 1];
    uint64_t genesis_time_ms;
    chain_params params;
    size_t nval;
    chain_validator *vals;
    size_t nalloc;
    chain_alloc *alloc;
    uint8_t hash[32];
    uint8_t validators_hash[32];
    uint8_t params_hash[32]; /* chain_params_hash(&params) */
    size_t ncontracts;
    chain_genesis_contract *contracts;
} chain_genesis;

/* Validation rules: chain id valid; time parses; 1..CHAIN_MAX_VALIDATORS
 * validators with valid, distinct pubkeys and power >= 1 (total fits u64);
 * allocations with valid, distinct addresses, total supply fits u64;
 * contracts (optional, absent = none) with valid, distinct addresses and code
 * that passes vm_verify (a contract address may also have an allocation);
 * params present and within sane bounds (gas limit >= CHAIN_GAS_TRANSFER,
 * tx max <= CHAIN_TX_MAX_SIZE, tx max <= block max <= CHAIN_BLOCK_MAX_SIZE,
 * timeouts within CHAIN_TIMEOUT_MIN_MS..CHAIN_TIMEOUT_MAX_MS, deltas within
 * 0..CHAIN_TIMEOUT_MAX_MS, commit within 0..CHAIN_TIMEOUT_MAX_MS);
 * unknown fields rejected. */
OL_MUST_CHECK int chain_genesis_parse(chain_genesis *g, const char *json, size_t len,
                                      util_err *err);
OL_MUST_CHECK int chain_genesis_load_file(chain_genesis *g, const char *path, util_err *err);
void chain_genesis_free(chain_genesis *g);

/* The devnet genesis compiled into the binary (same bytes as genesis/devnet.json). */
const char *chain_genesis_devnet_json(void);

/* H(0x09 || count varint || for each: pubkey[32] | power u64), in genesis order. */
void chain_validators_hash(const chain_validator *v, size_t n, uint8_t out[32]);

/* The canonical encoding of the consensus parameters, in struct order:
 * block_gas_limit u64 | block_max_bytes u64 | tx_max_bytes u64 |
 * min_gas_price u64 | timeout_propose_ms u32 | timeout_propose_delta_ms u32 |
 * timeout_prevote_ms u32 | timeout_prevote_delta_ms u32 |
 * timeout_precommit_ms u32 | timeout_precommit_delta_ms u32 |
 * timeout_commit_ms u32 | max_clock_drift_ms u32 | output_interval_blocks u32
 * (68 bytes). Part of the
 * genesis hash and of the consensus parameters hash. Sets out->oom on
 * allocation failure, as util_buf does. */
void chain_params_write(const chain_params *p, util_buf *out);
#define CHAIN_PARAMS_ENCODING_VERSION 2
/* The consensus parameters hash every header carries (docs/blocks.md):
 * H(0x10 || CHAIN_PARAMS_ENCODING_VERSION u8 || chain_params_write). The
 * version byte keeps a later layout from ever hashing like this one. */
void chain_params_hash(const chain_params *p, uint8_t out[32]);

/* Sets the header's validators_hash, next_validators_hash and
 * consensus_params_hash from the genesis: the values every header carries
 * while the validator set and the parameters never change (docs/blocks.md). */
void chain_header_fill_sets(chain_header *h, const chain_genesis *g);

#endif
