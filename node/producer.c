/* Block production on a single validator: propose, validate, sign, apply.
 * The block this node builds goes through the same validate as a block from
 * anywhere else (chain/exec/blockexec.h): one path for every block. */
#include <stdlib.h>
#include <string.h>

#include "chain/exec/blockexec.h"
#include "node/bridge.h"
#include "node/node_internal.h"
#include "util/hex.h"
#include "util/env.h"
#include "util/log.h"
#include "util/time.h"

int node_produce_block(node *n, int allow_empty, int *produced, util_err *err)
{
    *produced = 0;
    chain_blockexec bx = {.g = &n->genesis, .st = n->store};
    chain_addr proposer;
    chain_addr_from_pubkey(&proposer, n->validator.pubkey);
    const util_env *env = n->cfg.env;
    uint64_t t0 = util_env_mono_ns(env);
    uint64_t now = util_env_wall_ms(env);
    chain_block b;
    /* Confirmed deposits are worth a block of their own, as a transaction is. */
    chain_tx deps[CHAIN_BLOCK_MAX_DEPOSITS];
    size_t ndeps = 0;
    int rc = node_bridge_deposit_txs(n, deps, CHAIN_BLOCK_MAX_DEPOSITS, &ndeps, err);
    if (rc) return rc;
    chain_propose_extra x = {.deposits = deps, .ndeposits = ndeps};
    int built;
    rc = chain_blockexec_propose_x(&bx, n->mempool, &x, &proposer, now, allow_empty, &b, &built,
                                   err);
    for (size_t i = 0; i < ndeps; i++)
        chain_tx_free(&deps[i]);
    if (rc || !built) return rc;

    chain_block_result res;
    int reason;
    if ((rc = chain_blockexec_validate(&bx, &b, now, &res, &reason, err))) {
        /* Our own proposal breaking a rule is a bug in propose; committing it
         * would fork us from every honest validator. */
        util_err_prefix(err,
                        "own block %llu refused by validate: ", (unsigned long long)b.h.height);
        chain_block_free(&b);
        return rc;
    }
    uint64_t t1 = util_env_mono_ns(env);

    uint8_t digest[32];
    chain_vote_digest(digest, b.h.chain_id, n->genesis.hash, b.h.height, 0, CHAIN_VOTE_PRECOMMIT,
                      res.id);
    chain_commit commit;
    memset(&commit, 0, sizeof commit);
    commit.n = 1;
    commit.sigs[0].validator = n->validator_index;
    if (chain_sign(commit.sigs[0].sig, digest, &n->validator, NULL)) {
        chain_block_result_free(&res);
        chain_block_free(&b);
        return util_err_set(err, UTIL_ECRYPTO, "signing the commit failed");
    }
    rc = chain_blockexec_apply(&bx, &b, &res, &commit, &reason, err);
    if (rc == 0) {
        uint64_t t2 = util_env_mono_ns(env);
        chain_mempool_on_block(n->mempool, &b);
        node_block_committed(n, &b, res.id, res.rs, t1 - t0, t2 - t1);
        n->blocks_produced++;
        n->last_block_mono_ns = util_env_mono_ns(env);
        *produced = 1;
        char hex[65];
        util_hex_encode(hex, res.id, 32);
        LOG_INFO("node", "block %llu txs=%zu gas=%llu exec=%.1fms commit=%.1fms hash=0x%.16s",
                 (unsigned long long)b.h.height, b.ntx, (unsigned long long)res.gas_used,
                 (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, hex);
    }
    chain_block_result_free(&res);
    chain_block_free(&b);
    return rc;
}
