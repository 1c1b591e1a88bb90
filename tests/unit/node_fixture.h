/* A one-validator devnet "node" for the tests that produce blocks through
 * the block executor: a LevelDB store in a temporary directory holding the
 * genesis, a mempool that reads accounts from that store, a chain_blockexec,
 * signed development transfers, and the producer's path (propose, validate,
 * apply with a commit signed by the devnet validator). Header-only (static
 * inline) because each test is its own program; include after <cmocka.h>. */
#ifndef OL_TESTS_NODE_FIXTURE_H
#define OL_TESTS_NODE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/exec/blockexec.h"
#include "chain/mempool/mempool.h"
#include "chain/state/store.h"
#include "tests/unit/chain_fixture.h"

/* The devnet validator (docs/devnet.md), index 0 of its set. */
#define NFX_VALIDATOR_KEY 1000

/* What differs between the tests' nodes; a zero field takes the default. */
typedef struct nfx_opts {
    uint32_t undo_blocks; /* chain_store_opts.undo_blocks (default 0: none) */
    size_t max_txs;       /* mempool capacity (default 1000) */
} nfx_opts;

typedef struct nfx_node {
    char dir[64];
    const chain_genesis *g;
    chain_store *st;
    chain_mempool *mp;
    chain_blockexec bx;
    uint64_t now; /* the node's clock, advanced by nfx_build */
} nfx_node;

/* A chain_account_fn reading the store that ctx (a chain_store **) points
 * to, so that the pool follows a store that is closed and reopened. */
static inline int nfx_store_account(void *ctx, const chain_addr *a, uint64_t *balance,
                                    uint64_t *nonce)
{
    chain_store **st = ctx;
    chain_account acc;
    int rc = chain_store_get_account(*st, a, &acc, NULL);
    *balance = acc.balance;
    *nonce = acc.nonce;
    return rc;
}

/* A mempool with g's limits holding up to max_txs transactions (0: 1000). */
static inline chain_mempool *nfx_mempool_new(const chain_genesis *g, size_t max_txs,
                                             chain_account_fn fn, void *ctx)
{
    chain_mempool_cfg c = {.min_gas_price = g->params.min_gas_price,
                           .block_gas_limit = g->params.block_gas_limit,
                           .max_tx_size = (size_t)g->params.tx_max_bytes,
                           .max_txs = max_txs ? max_txs : 1000,
                           .max_bytes = 1u << 20,
                           .max_nonce_ahead = 64};
    snprintf(c.chain_id, sizeof c.chain_id, "%s", g->chain_id);
    memcpy(c.genesis_hash, g->hash, 32);
    chain_mempool *mp = chain_mempool_new(&c, fn, ctx);
    assert_non_null(mp);
    return mp;
}

/* Opens a node on g in a new directory under /tmp (o NULL: the defaults).
 * n must stay where it is until nfx_close: its pool points into it. */
static inline void nfx_open(nfx_node *n, const chain_genesis *g, const nfx_opts *o)
{
    memset(n, 0, sizeof *n);
    snprintf(n->dir, sizeof n->dir, "/tmp/ol-test-node-XXXXXX");
    assert_non_null(mkdtemp(n->dir));
    util_err err = {0};
    n->g = g;
    chain_store_opts so = {.undo_blocks = o ? o->undo_blocks : 0};
    if (chain_store_open_opts(&n->st, n->dir, &so, &err)) fail_msg("open: %s", err.msg);
    assert_int_equal(chain_store_init_genesis(n->st, g, &err), 0);
    n->mp = nfx_mempool_new(g, o ? o->max_txs : 0, nfx_store_account, &n->st);
    n->bx = (chain_blockexec){.g = g, .st = n->st};
    n->now = g->genesis_time_ms + 5000;
}

/* Frees the node and removes its directory. */
static inline void nfx_close(nfx_node *n)
{
    chain_mempool_free(n->mp);
    chain_store_close(n->st);
    fx_rm_tree(n->dir);
}

/* A transfer of amount from dev key `from` to dev key `to`, gas price 1,
 * signed. */
static inline chain_tx nfx_transfer_gas(const chain_genesis *g, uint32_t from, uint32_t to,
                                        uint64_t amount, uint64_t nonce, uint64_t gas)
{
    chain_keypair kp;
    chain_addr a;
    assert_int_equal(chain_keypair_dev(&kp, from), 0);
    fx_dev_addr(&a, to);
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", g->chain_id);
    tx.type = CHAIN_TX_TRANSFER;
    tx.nonce = nonce;
    tx.gas_limit = gas;
    tx.gas_price = 1;
    tx.body.transfer.to = a;
    tx.body.transfer.amount = amount;
    util_err err = {0};
    assert_int_equal(chain_tx_sign(&tx, &kp, g->hash, &err), 0);
    return tx;
}

static inline chain_tx nfx_transfer(const chain_genesis *g, uint32_t from, uint32_t to,
                                    uint64_t amount, uint64_t nonce)
{
    return nfx_transfer_gas(g, from, to, amount, nonce, CHAIN_GAS_TRANSFER);
}

/* The commit of block id at height: the devnet validator's round-0
 * precommit, the whole voting power of the devnet set. */
static inline void nfx_sign_commit(const chain_genesis *g, uint64_t height, const uint8_t id[32],
                                   chain_commit *c)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, NFX_VALIDATOR_KEY), 0);
    uint8_t digest[32];
    chain_vote_digest(digest, g->chain_id, g->hash, height, 0, CHAIN_VOTE_PRECOMMIT, id);
    memset(c, 0, sizeof *c);
    c->n = 1;
    c->sigs[0].validator = 0;
    assert_int_equal(chain_sign(c->sigs[0].sig, digest, &kp, NULL), 0);
}

/* The next block on the head, proposed by the devnet validator 1 s after
 * the last one from the pool and the given evidence (not validated, not
 * applied). */
static inline void nfx_build(nfx_node *n, const chain_evidence *evs, size_t nev, chain_block *b)
{
    util_err err = {0};
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    n->now += 1000;
    int built = 0;
    if (chain_blockexec_propose_ev(&n->bx, n->mp, evs, nev, &proposer, n->now, 1, b, &built, &err))
        fail_msg("propose: %s", err.msg);
    assert_int_equal(built, 1);
}

/* Validates b, signs its commit and applies it (the pool is not told);
 * c_out gets the commit when not NULL. */
static inline void nfx_commit(nfx_node *n, chain_block *b, chain_commit *c_out)
{
    util_err err = {0};
    int reason;
    chain_block_result res;
    if (chain_blockexec_validate(&n->bx, b, n->now, &res, &reason, &err))
        fail_msg("block %llu refused: %s", (unsigned long long)b->h.height, err.msg);
    chain_commit c;
    nfx_sign_commit(n->g, b->h.height, res.id, &c);
    assert_int_equal(chain_blockexec_apply(&n->bx, b, &res, &c, &reason, &err), 0);
    chain_block_result_free(&res);
    if (c_out) *c_out = c;
}

/* The producer's path: the next block from the pool, validated, committed,
 * applied, and its transactions taken out of the pool. b gets the block
 * (the caller frees it), c_out its commit when not NULL. */
static inline void nfx_produce(nfx_node *n, chain_block *b, chain_commit *c_out)
{
    nfx_build(n, NULL, 0, b);
    nfx_commit(n, b, c_out);
    chain_mempool_on_block(n->mp, b);
}

#endif
