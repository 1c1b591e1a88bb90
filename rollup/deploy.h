/* Deploying the rollup's L1 contracts (the Solidity sources in rollup/contracts/) from an L1
 * account, for `openledgerd rollup-deploy`, `make devnet` and the tests.
 *
 * rollup_deploy sends four contract creations through the transaction
 * manager (rollup_txmgr_send_sync), in this order:
 *
 *   BatchInbox(batcher, l2Genesis)
 *   OutputOracle(l2Genesis, params.outputIntervalBlocks,
 *                finalizationPeriodSeconds, validators' Ethereum addresses
 *                (rollup_validator_addrs, genesis order), their powers)
 *   OpenToken()                      the deploying account is its minter
 *   Bridge(token, oracle)
 *
 * and fills a rollup_config with the addresses and the L1 block of the
 * first deployment (deployBlock: no batch or output can be older). It blocks
 * on a private loop: never call it from the node's loop. */
#ifndef OL_ROLLUP_DEPLOY_H
#define OL_ROLLUP_DEPLOY_H

#include <stdint.h>

#include "chain/types/genesis.h"
#include "rollup/config.h"
#include "rollup/eth/ecdsa.h"
#include "util/bytes.h"
#include "util/err.h"

/* The OutputOracle's limit on the validator set (MAX_VALIDATORS). */
#define ROLLUP_ORACLE_MAX_VALIDATORS 64

typedef struct rollup_deploy_opts {
    uint64_t l1_chain_id;            /* expected; 0: whatever eth_chainId says */
    uint64_t finalization_period_s;  /* OutputOracle's finalization period */
    uint32_t confirmations;          /* copied into the config */
    uint32_t channel_timeout_blocks; /* copied into the config */
    uint32_t tx_confirmations;       /* L1 depth each creation waits for; 0: mined */
    uint32_t deposit_confirmations;  /* copied into the config */
} rollup_deploy_opts;

/* Deploys both contracts from the account of l1_sk on the L1 at l1_url for
 * the chain of genesis g, with `batcher` the only address BatchInbox
 * accepts. 0 and *out filled; UTIL_EINVAL (a genesis the oracle cannot take,
 * a reverted creation), or the error of the L1 or the transaction manager. */
OL_MUST_CHECK int rollup_deploy(const char *l1_url, const uint8_t l1_sk[32], const chain_genesis *g,
                                const rollup_eth_addr *batcher, const rollup_deploy_opts *o,
                                rollup_config *out, util_err *err);

/* The creation data (init code and ABI-encoded constructor arguments), for
 * callers that send the transactions themselves. Append to out; 0 or
 * UTIL_EINVAL / UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_deploy_inbox_code(util_buf *out, const rollup_eth_addr *batcher,
                                           const uint8_t l2_genesis[32], util_err *err);
OL_MUST_CHECK int rollup_deploy_oracle_code(util_buf *out, const chain_genesis *g,
                                            uint64_t finalization_period_s, util_err *err);
OL_MUST_CHECK int rollup_deploy_token_code(util_buf *out, util_err *err);
OL_MUST_CHECK int rollup_deploy_bridge_code(util_buf *out, const rollup_eth_addr *token,
                                            const rollup_eth_addr *oracle, util_err *err);

#endif
