/* The rollup configuration: rollup.json, written by `openledgerd
 * rollup-deploy` and read by every node that talks to the L1 (the
 * validator's batcher and proposer, a node deriving from the L1).
 *
 * {
 *   "l1ChainId": 31337,
 *   "l2GenesisHash": "0x<32 bytes>",        the L2 chain these contracts serve
 *   "batchInbox": "0x<address>",
 *   "outputOracle": "0x<address>",
 *   "batcher": "0x<address>",                the only sender BatchInbox accepts
 *   "deployBlock": 1,                        L1 block of the deployment: scans start here
 *   "confirmations": 2,                      L1 depth before data counts as safe
 *   "finalizationPeriodSeconds": 60,         as given to OutputOracle
 *   "channelTimeoutBlocks": 50,              an incomplete channel is dropped after this
 *   "token": "0x<address>",                  OpenToken (the bridge's ERC-20)
 *   "bridge": "0x<address>",                 Bridge
 *   "depositConfirmations": 2                L1 depth a deposit needs before it is minted
 * }
 *
 * Unknown fields are refused, every error names its field. Plain value. */
#ifndef OL_ROLLUP_CONFIG_H
#define OL_ROLLUP_CONFIG_H

#include <stdint.h>

#include "rollup/eth/ecdsa.h"
#include "util/err.h"

#define ROLLUP_CONFIG_MAX_BYTES 65536

typedef struct rollup_config {
    uint64_t l1_chain_id;
    uint8_t l2_genesis_hash[32];
    rollup_eth_addr batch_inbox;
    rollup_eth_addr output_oracle;
    rollup_eth_addr batcher;
    uint64_t deploy_block;
    uint32_t confirmations;
    uint64_t finalization_period_s;
    uint32_t channel_timeout_blocks;
    rollup_eth_addr token;
    rollup_eth_addr bridge;
    uint32_t deposit_confirmations;
} rollup_config;

OL_MUST_CHECK int rollup_config_parse(rollup_config *c, const char *json, util_err *err);
OL_MUST_CHECK int rollup_config_load(rollup_config *c, const char *path, util_err *err);
/* Writes c as JSON to path (mode 0644, replaced atomically). */
OL_MUST_CHECK int rollup_config_save(const rollup_config *c, const char *path, util_err *err);

#endif
