/* Shared by the bridge's chain tests (test_bridge.c, test_bridge_block.c):
 * builders of DEPOSIT and WITHDRAW transactions for the devnet keys, block
 * production through chain_blockexec_propose_x, reads of balances, the
 * bridge entry and receipts, the supply check, and an in-memory SMT for an
 * independently built withdrawals tree. Header-only (static inline); include
 * after cmocka and tests/unit/node_fixture.h. */
#ifndef OL_TESTS_BRIDGE_FIXTURE_H
#define OL_TESTS_BRIDGE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/exec/admit.h"
#include "chain/exec/blockexec.h"
#include "chain/exec/bridge.h"
#include "chain/exec/exec_ctx.h"
#include "chain/exec/exec_internal.h"
#include "chain/mempool/mempool.h"
#include "chain/state/dbkey.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "rpc/methods/methods.h"

#include <jansson.h>

#define FEE_W CHAIN_GAS_WITHDRAW /* gas price 1 */

/* --- builders ------------------------------------------------------------- */

static inline chain_tx deposit(const chain_genesis *g, uint64_t nonce, uint64_t l1_block,
                               uint32_t to, uint64_t amount)
{
    chain_tx_deposit d;
    memset(&d, 0, sizeof d);
    d.l1_block = l1_block;
    memset(d.l1_block_hash, 0xb0 + (int)(nonce & 15), 32);
    memset(d.l1_tx_hash, 0xc0 + (int)(nonce & 15), 32);
    d.log_index = (uint32_t)nonce + 3;
    memset(d.l1_from, 0x11, 20);
    fx_dev_addr(&d.to, to);
    d.amount = amount;
    chain_tx tx;
    util_err err = {0};
    if (chain_tx_deposit_make(&tx, g->chain_id, nonce, &d, &err)) fail_msg("deposit: %s", err.msg);
    return tx;
}

static inline chain_tx withdraw(const chain_genesis *g, uint32_t from, uint64_t nonce,
                                uint64_t amount, uint8_t l1byte)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, from), 0);
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", g->chain_id);
    tx.type = CHAIN_TX_WITHDRAW;
    tx.nonce = nonce;
    tx.gas_limit = CHAIN_GAS_WITHDRAW;
    tx.gas_price = 1;
    memset(tx.body.withdraw.l1_recipient, l1byte, 20);
    tx.body.withdraw.amount = amount;
    util_err err = {0};
    if (chain_tx_sign(&tx, &kp, g->hash, &err)) fail_msg("sign: %s", err.msg);
    return tx;
}

static inline void pool_add(nfx_node *n, const chain_tx *tx)
{
    util_err err = {0};
    if (chain_mempool_add(n->mp, tx, &err) != CHAIN_MP_OK) fail_msg("pool: %s", err.msg);
}

static inline uint64_t balance(nfx_node *n, uint32_t key)
{
    chain_addr a;
    chain_account acc;
    util_err err = {0};
    fx_dev_addr(&a, key);
    assert_int_equal(chain_store_get_account(n->st, &a, &acc, &err), 0);
    return acc.balance;
}

static inline chain_bridge_state bridge(nfx_node *n)
{
    chain_bridge_state s;
    util_err err = {0};
    assert_int_equal(chain_bridge_get(n->st, &s, &err), 0);
    return s;
}

static inline void check_supply(nfx_node *n)
{
    util_err err = {0};
    uint64_t supply;
    if (chain_supply_check(n->st, n->g, &supply, &err)) fail_msg("supply: %s", err.msg);
    chain_bridge_state s = bridge(n);
    assert_true(supply == chain_genesis_supply(n->g) + s.minted - s.burned);
}

/* Proposes with deposits (allow_empty as given), validates, commits,
 * applies; returns whether a block was built. b gets it when built. */
static inline int produce_x(nfx_node *n, const chain_tx *deps, size_t ndeps, int allow_empty,
                            chain_block *b)
{
    util_err err = {0};
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    n->now += 1000;
    int built = 0;
    chain_propose_extra x = {.deposits = deps, .ndeposits = ndeps};
    if (chain_blockexec_propose_x(&n->bx, n->mp, &x, &proposer, n->now, allow_empty, b, &built,
                                  &err))
        fail_msg("propose: %s", err.msg);
    if (!built) return 0;
    nfx_commit(n, b, NULL);
    chain_mempool_on_block(n->mp, b);
    return 1;
}

static inline void receipts(nfx_node *n, uint64_t height, chain_receipt **rs, size_t *nr)
{
    uint8_t id[32];
    util_err err = {0};
    assert_int_equal(chain_store_block_id_at(n->st, height, id, &err), 0);
    assert_int_equal(chain_store_get_receipts(n->st, id, rs, nr, &err), 0);
}

static inline void free_receipts(chain_receipt *rs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        chain_receipt_free(&rs[i]);
    free(rs);
}

/* --- an independent tree ---------------------------------------------------- */

typedef struct mem_tree {
    uint8_t (*k)[32];
    uint8_t (*v)[CHAIN_SMT_NODE_LEN];
    size_t n, cap;
} mem_tree;

static inline int mem_get(void *ctx, const uint8_t hash[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    mem_tree *t = ctx;
    for (size_t i = 0; i < t->n; i++)
        if (memcmp(t->k[i], hash, 32) == 0) {
            memcpy(out, t->v[i], CHAIN_SMT_NODE_LEN);
            return 0;
        }
    return UTIL_ENOTFOUND;
}

static inline void mem_put(void *ctx, const uint8_t hash[32],
                           const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    mem_tree *t = ctx;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->k = realloc(t->k, t->cap * 32);
        t->v = realloc(t->v, t->cap * CHAIN_SMT_NODE_LEN);
        assert_non_null(t->k);
        assert_non_null(t->v);
    }
    memcpy(t->k[t->n], hash, 32);
    memcpy(t->v[t->n], node, CHAIN_SMT_NODE_LEN);
    t->n++;
}

/* The root of the tree holding withdrawals ws[0..n), built from scratch
 * from the spec's key and value layouts. */
static inline void independent_root(const chain_withdrawal *ws, size_t n, uint8_t root[32])
{
    mem_tree t = {0};
    chain_smt_store st = {.ctx = &t, .get = mem_get, .put = mem_put};
    chain_smt_update *ups = calloc(n ? n : 1, sizeof *ups);
    assert_non_null(ups);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[9], val[56];
        key[0] = 'w';
        for (int b = 0; b < 8; b++)
            key[1 + b] = (uint8_t)(ws[i].id >> (56 - 8 * b));
        memset(val, 0, sizeof val);
        for (int b = 0; b < 8; b++)
            val[b] = (uint8_t)(ws[i].id >> (8 * b));
        memcpy(val + 8, ws[i].sender.b, 20);
        memcpy(val + 28, ws[i].l1_recipient, 20);
        for (int b = 0; b < 8; b++)
            val[48 + b] = (uint8_t)(ws[i].amount >> (8 * b));
        chain_sha256(ups[i].path, key, sizeof key);
        chain_sha256(ups[i].value_hash, val, sizeof val);
    }
    static const uint8_t empty[32];
    util_err err = {0};
    assert_int_equal(chain_smt_apply(&st, empty, ups, n, root, &err), 0);
    free(ups);
    free(t.k);
    free(t.v);
}

/* --- codecs ------------------------------------------------------------- */

#endif
