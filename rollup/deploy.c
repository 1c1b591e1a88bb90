/* Deploying BatchInbox, OutputOracle, OpenToken and Bridge through the transaction manager and
 * writing down where they are (rollup/deploy.h). */
#include "rollup/deploy.h"

#include <string.h>

#include "rollup/contracts/artifacts.h"
#include "rollup/eth/abi.h"
#include "rollup/l1/client.h"
#include "rollup/l1/txmgr.h"
#include "rollup/output.h"

int rollup_deploy_inbox_code(util_buf *out, const rollup_eth_addr *batcher,
                             const uint8_t l2_genesis[32], util_err *err)
{
    static const rollup_eth_addr zero;
    if (!memcmp(batcher->b, zero.b, sizeof zero.b))
        return util_err_set(err, UTIL_EINVAL, "deploy: the batcher address is zero");
    rollup_abi_val args[2];
    memset(args, 0, sizeof args);
    args[0].kind = ROLLUP_ABI_ADDRESS;
    args[0].addr = *batcher;
    args[1].kind = ROLLUP_ABI_BYTES32;
    memcpy(args[1].word, l2_genesis, 32);
    util_buf_put(out, rollup_contract_batch_inbox_init, rollup_contract_batch_inbox_init_len);
    rollup_abi_encode(out, args, 2);
    if (out->oom) return util_err_set(err, UTIL_ENOMEM, "deploy: out of memory");
    return 0;
}

int rollup_deploy_oracle_code(util_buf *out, const chain_genesis *g, uint64_t finalization_period_s,
                              util_err *err)
{
    if (g->nval == 0 || g->nval > ROLLUP_ORACLE_MAX_VALIDATORS)
        return util_err_set(err, UTIL_EINVAL, "deploy: %zu validators; OutputOracle takes 1 to %d",
                            g->nval, ROLLUP_ORACLE_MAX_VALIDATORS);
    if (g->params.output_interval_blocks == 0)
        return util_err_set(err, UTIL_EINVAL, "deploy: params.outputIntervalBlocks is 0");
    rollup_eth_addr addrs[CHAIN_MAX_VALIDATORS];
    uint64_t powers[CHAIN_MAX_VALIDATORS];
    int rc = rollup_validator_addrs(g, addrs, err);
    if (rc) return rc;
    for (size_t i = 0; i < g->nval; i++)
        powers[i] = g->vals[i].power;
    rollup_abi_val args[5];
    memset(args, 0, sizeof args);
    args[0].kind = ROLLUP_ABI_BYTES32;
    memcpy(args[0].word, g->hash, 32);
    args[1].kind = ROLLUP_ABI_UINT;
    args[1].u64 = g->params.output_interval_blocks;
    args[2].kind = ROLLUP_ABI_UINT;
    args[2].u64 = finalization_period_s;
    args[3].kind = ROLLUP_ABI_ADDRESS_ARR;
    args[3].addrs = addrs;
    args[3].n = g->nval;
    args[4].kind = ROLLUP_ABI_UINT_ARR;
    args[4].u64s = powers;
    args[4].n = g->nval;
    util_buf_put(out, rollup_contract_output_oracle_init, rollup_contract_output_oracle_init_len);
    rollup_abi_encode(out, args, 5);
    if (out->oom) return util_err_set(err, UTIL_ENOMEM, "deploy: out of memory");
    return 0;
}

int rollup_deploy_token_code(util_buf *out, util_err *err)
{
    util_buf_put(out, rollup_contract_open_token_init, rollup_contract_open_token_init_len);
    if (out->oom) return util_err_set(err, UTIL_ENOMEM, "deploy: out of memory");
    return 0;
}

int rollup_deploy_bridge_code(util_buf *out, const rollup_eth_addr *token,
                              const rollup_eth_addr *oracle, util_err *err)
{
    rollup_abi_val args[2];
    memset(args, 0, sizeof args);
    args[0].kind = ROLLUP_ABI_ADDRESS;
    args[0].addr = *token;
    args[1].kind = ROLLUP_ABI_ADDRESS;
    args[1].addr = *oracle;
    util_buf_put(out, rollup_contract_bridge_init, rollup_contract_bridge_init_len);
    rollup_abi_encode(out, args, 2);
    if (out->oom) return util_err_set(err, UTIL_ENOMEM, "deploy: out of memory");
    return 0;
}

static int chain_id_of(const char *url, uint64_t *id, util_err *err)
{
    json_t *res = NULL;
    int rc = rollup_l1_call_sync(url, "eth_chainId", NULL, &res, err);
    if (rc) return rc;
    rc = rollup_l1_parse_u64(res, id, "eth_chainId", err);
    json_decref(res);
    return rc;
}

/* Sends one creation and returns the new contract's address and block. */
static int create(const char *url, const uint8_t sk[32], const rollup_txmgr_opts *txo,
                  const util_buf *code, const char *what, rollup_eth_addr *addr, uint64_t *block,
                  util_err *err)
{
    rollup_l1_receipt r;
    memset(&r, 0, sizeof r);
    int rc = rollup_txmgr_send_sync(url, sk, txo, NULL, code->data, code->len, 0, &r, err);
    if (rc == UTIL_EINVAL) {
        util_err_prefix(err, "deploy: %s reverted in L1 block %llu: ", what,
                        (unsigned long long)r.block_number);
        return rc;
    }
    if (rc) {
        util_err_prefix(err, "deploy: %s: ", what);
        return rc;
    }
    if (!r.has_contract)
        return util_err_set(err, UTIL_EINVAL, "deploy: %s: the receipt has no contract address",
                            what);
    *addr = r.contract_address;
    *block = r.block_number;
    return 0;
}

int rollup_deploy(const char *l1_url, const uint8_t l1_sk[32], const chain_genesis *g,
                  const rollup_eth_addr *batcher, const rollup_deploy_opts *o, rollup_config *out,
                  util_err *err)
{
    util_buf inbox, oracle, token, bridge;
    util_buf_init(&inbox);
    util_buf_init(&oracle);
    util_buf_init(&token);
    util_buf_init(&bridge);
    rollup_config c;
    memset(&c, 0, sizeof c);
    int rc = rollup_deploy_inbox_code(&inbox, batcher, g->hash, err);
    if (!rc) rc = rollup_deploy_oracle_code(&oracle, g, o->finalization_period_s, err);
    if (!rc) rc = rollup_deploy_token_code(&token, err);
    if (!rc) rc = chain_id_of(l1_url, &c.l1_chain_id, err);
    if (!rc && o->l1_chain_id && o->l1_chain_id != c.l1_chain_id)
        rc = util_err_set(err, UTIL_EINVAL, "deploy: the L1 at %s has chain id %llu, not %llu",
                          l1_url, (unsigned long long)c.l1_chain_id,
                          (unsigned long long)o->l1_chain_id);
    rollup_txmgr_opts txo;
    memset(&txo, 0, sizeof txo);
    txo.chain_id = c.l1_chain_id;
    txo.confirmations = o->tx_confirmations;
    uint64_t oracle_block = 0, block = 0;
    if (!rc)
        rc =
            create(l1_url, l1_sk, &txo, &inbox, "BatchInbox", &c.batch_inbox, &c.deploy_block, err);
    if (!rc)
        rc = create(l1_url, l1_sk, &txo, &oracle, "OutputOracle", &c.output_oracle, &oracle_block,
                    err);
    if (!rc) rc = create(l1_url, l1_sk, &txo, &token, "OpenToken", &c.token, &block, err);
    /* The bridge reads the oracle's interval and period in its constructor:
     * the oracle must exist first, and does (sent and mined above). */
    if (!rc) rc = rollup_deploy_bridge_code(&bridge, &c.token, &c.output_oracle, err);
    if (!rc) rc = create(l1_url, l1_sk, &txo, &bridge, "Bridge", &c.bridge, &block, err);
    util_buf_free(&inbox);
    util_buf_free(&oracle);
    util_buf_free(&token);
    util_buf_free(&bridge);
    if (rc) return rc;
    /* Sent in order from one account, the oracle cannot be older; the
     * smaller block is kept anyway, scans must start at the older one. */
    if (oracle_block < c.deploy_block) c.deploy_block = oracle_block;
    memcpy(c.l2_genesis_hash, g->hash, 32);
    c.batcher = *batcher;
    c.confirmations = o->confirmations;
    c.finalization_period_s = o->finalization_period_s;
    c.channel_timeout_blocks = o->channel_timeout_blocks;
    c.deposit_confirmations = o->deposit_confirmations;
    *out = c;
    return 0;
}
