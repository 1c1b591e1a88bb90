/* The block executor on real LevelDB stores: a table of malformed blocks,
 * each refused with its own reason and leaving the store as it was; and a
 * block produced on one node, exported as bytes and applied on a second node
 * through validate and apply, giving the same head and state root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/node_fixture.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/blockexec.h"
#include "chain/crypto/hash.h"
#include "chain/mempool/mempool.h"
#include "chain/state/store.h"

/* A small genesis so that every limit is cheap to reach: 2,500 gas (two
 * transfers) and 1,024 bytes per block. */
static chain_genesis g_small;

static void pool_add(nfx_node *n, const chain_tx *tx)
{
    util_err err = {0};
    assert_int_equal(chain_mempool_add(n->mp, tx, &err), CHAIN_MP_OK);
}

/* The producer's path: propose, validate, sign, apply. Fills the block's
 * bytes and its commit when asked, as an exporting node would send them. */
static void produce(nfx_node *n, util_buf *bytes, chain_commit *commit_out)
{
    chain_block b;
    nfx_produce(n, &b, commit_out);
    if (bytes) assert_int_equal(chain_block_encode(&b, bytes), 0);
    chain_block_free(&b);
}

/* Decodes a block from bytes, as one arriving from a peer would be. */
static void decode(chain_block *b, const util_buf *bytes)
{
    util_err err = {0};
    if (chain_block_decode(b, bytes->data, bytes->len, &err)) fail_msg("decode: %s", err.msg);
}

/* Re-encodes and decodes b so that derived fields (ids, sizes) match a
 * mutation, then recomputes the tx root when asked. */
static void refresh(chain_block *b, int fix_tx_root)
{
    util_buf u;
    util_buf_init(&u);
    assert_int_equal(chain_block_encode(b, &u), 0);
    chain_block_free(b);
    decode(b, &u);
    util_buf_free(&u);
    if (fix_tx_root) chain_block_tx_root(b, b->h.tx_root);
}

/* Replaces the block's transactions with copies of txs[0..n). */
static void set_txs(chain_block *b, const chain_tx *txs, size_t n)
{
    for (size_t i = 0; i < b->ntx; i++)
        chain_tx_free(&b->txs[i]);
    free(b->txs);
    b->txs = calloc(n ? n : 1, sizeof *b->txs);
    assert_non_null(b->txs);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(chain_tx_copy(&b->txs[i], &txs[i]), 0);
    b->ntx = n;
    refresh(b, 1);
}

typedef struct snapshot {
    uint64_t height, write_bytes;
    uint8_t head[32], root[32];
} snapshot;

static void snap(nfx_node *n, snapshot *s)
{
    s->height = chain_store_height(n->st);
    s->write_bytes = chain_store_write_bytes(n->st);
    chain_store_head_id(n->st, s->head);
    memcpy(s->root, chain_store_head_header(n->st)->state_root, 32);
}

static void expect_refused(nfx_node *n, chain_block *b, int want, const char *what)
{
    snapshot before, after;
    snap(n, &before);
    chain_block_result res;
    util_err err = {0};
    int reason = -1;
    int rc = chain_blockexec_validate(&n->bx, b, n->now, &res, &reason, &err);
    if (rc != UTIL_EINVAL || reason != want)
        fail_msg("%s: rc %d reason %s (%s), wanted %s", what, rc, chain_block_reason_token(reason),
                 err.msg, chain_block_reason_token(want));
    /* The message names the rule first, for logs and RPC errors. */
    const char *tok = chain_block_reason_token(want);
    assert_memory_equal(err.msg, tok, strlen(tok));
    assert_null(res.ex);
    snap(n, &after);
    assert_memory_equal(&before, &after, sizeof before);
}

typedef void (*mutate_fn)(nfx_node *n, chain_block *b);

static void m_version(nfx_node *n, chain_block *b)
{
    (void)n, b->h.version = CHAIN_BLOCK_VERSION + 1;
}
/* A version 1 header (before the next set and params hashes) is refused. */
static void m_version_old(nfx_node *n, chain_block *b)
{
    (void)n, b->h.version = 1;
}
static void m_chain(nfx_node *n, chain_block *b)
{
    (void)n;
    strcpy(b->h.chain_id, "openledger-other");
}
static void m_height_up(nfx_node *n, chain_block *b)
{
    (void)n, b->h.height++;
}
static void m_height_down(nfx_node *n, chain_block *b)
{
    (void)n, b->h.height--;
}
static void m_parent(nfx_node *n, chain_block *b)
{
    (void)n, b->h.parent[7] ^= 1;
}
static void m_time_same(nfx_node *n, chain_block *b)
{
    b->h.time_ms = chain_store_head_header(n->st)->time_ms;
}
static void m_time_ahead(nfx_node *n, chain_block *b)
{
    b->h.time_ms = n->now + n->g->params.max_clock_drift_ms + 1;
}
static void m_proposer(nfx_node *n, chain_block *b)
{
    (void)n;
    fx_dev_addr(&b->h.proposer, 3);
}
static void m_valhash(nfx_node *n, chain_block *b)
{
    (void)n, b->h.validators_hash[0] ^= 1;
}
/* Another next set: the set does not change, so it must be this one. */
static void m_next_valhash(nfx_node *n, chain_block *b)
{
    (void)n, b->h.next_validators_hash[31] ^= 1;
}
/* The hash of other parameters (one more ms of commit timeout). */
static void m_params_hash(nfx_node *n, chain_block *b)
{
    chain_params p = n->g->params;
    p.timeout_commit_ms++;
    chain_params_hash(&p, b->h.consensus_params_hash);
}
static void m_commit_sig(nfx_node *n, chain_block *b)
{
    (void)n, b->h.last_commit.sigs[0].sig[5] ^= 1;
}
static void m_commit_empty(nfx_node *n, chain_block *b)
{
    (void)n, b->h.last_commit.n = 0;
}
static void m_commit_unknown(nfx_node *n, chain_block *b)
{
    (void)n;
    b->h.last_commit.sigs[0].validator = 1;
}
static void m_commit_round(nfx_node *n, chain_block *b)
{
    (void)n, b->h.last_commit.round = 1;
}
static void m_too_large(nfx_node *n, chain_block *b)
{
    /* Six transfers fit the gas (6 x 400) but not the bytes; their gas
     * limits are below a transfer's, which only execution would notice. */
    chain_tx t[6];
    for (int i = 0; i < 6; i++)
        t[i] = nfx_transfer_gas(n->g, 4 + (uint32_t)i, 0, 1, 0, 400);
    set_txs(b, t, 6);
    for (int i = 0; i < 6; i++)
        chain_tx_free(&t[i]);
}
static void m_tx_too_large(nfx_node *n, chain_block *b)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 4), 0);
    chain_tx t;
    memset(&t, 0, sizeof t);
    t.version = CHAIN_TX_VERSION;
    snprintf(t.chain_id, sizeof t.chain_id, "%s", n->g->chain_id);
    t.type = CHAIN_TX_DEPLOY;
    t.gas_limit = 2000;
    t.gas_price = 1;
    t.body.deploy.len = 1100;
    t.body.deploy.code = calloc(1, 1100);
    util_err err = {0};
    assert_int_equal(chain_tx_sign(&t, &kp, n->g->hash, &err), 0);
    set_txs(b, &t, 1);
    chain_tx_free(&t);
}
static void m_tx_gas(nfx_node *n, chain_block *b)
{
    chain_tx t = nfx_transfer_gas(n->g, 4, 5, 1, 0, n->g->params.block_gas_limit + 1);
    set_txs(b, &t, 1);
    chain_tx_free(&t);
}
/* Three transfers, each valid alone, whose gas limits exceed the block's. */
static void m_gas_sum(nfx_node *n, chain_block *b)
{
    chain_tx t[3] = {nfx_transfer(n->g, 4, 5, 1, 0), nfx_transfer(n->g, 5, 6, 1, 0),
                     nfx_transfer(n->g, 6, 7, 1, 0)};
    set_txs(b, t, 3);
    for (int i = 0; i < 3; i++)
        chain_tx_free(&t[i]);
}
static void m_duplicate(nfx_node *n, chain_block *b)
{
    chain_tx t[2] = {nfx_transfer(n->g, 4, 5, 1, 0)};
    assert_int_equal(chain_tx_copy(&t[1], &t[0]), 0);
    set_txs(b, t, 2);
    chain_tx_free(&t[0]);
    chain_tx_free(&t[1]);
}
static void m_tx_root(nfx_node *n, chain_block *b)
{
    (void)n, b->h.tx_root[31] ^= 1;
}
static void m_bad_sig(nfx_node *n, chain_block *b)
{
    (void)n;
    b->txs[0].sig[10] ^= 1;
    refresh(b, 1);
}
static void m_nonce_gap(nfx_node *n, chain_block *b)
{
    chain_tx t = nfx_transfer(n->g, 4, 5, 1, 7);
    set_txs(b, &t, 1);
    chain_tx_free(&t);
}
static void m_unfunded(nfx_node *n, chain_block *b)
{
    chain_tx t = nfx_transfer(n->g, 42, 5, 1, 0); /* dev42 has no allocation */
    set_txs(b, &t, 1);
    chain_tx_free(&t);
}
static void m_state_root(nfx_node *n, chain_block *b)
{
    (void)n, b->h.state_root[0] ^= 1;
}
static void m_receipts_root(nfx_node *n, chain_block *b)
{
    (void)n, b->h.receipts_root[0] ^= 1;
}

static const struct {
    const char *what;
    mutate_fn fn;
    int reason;
} CASES[] = {
    {"version 3", m_version, CHAIN_BLOCK_BAD_VERSION},
    {"version 1", m_version_old, CHAIN_BLOCK_BAD_VERSION},
    {"another chain id", m_chain, CHAIN_BLOCK_WRONG_CHAIN},
    {"height skips one", m_height_up, CHAIN_BLOCK_WRONG_HEIGHT},
    {"height of the head", m_height_down, CHAIN_BLOCK_WRONG_HEIGHT},
    {"parent not the head", m_parent, CHAIN_BLOCK_WRONG_PARENT},
    {"time equal to the parent's", m_time_same, CHAIN_BLOCK_TIME_NOT_AFTER_PARENT},
    {"time past the clock drift", m_time_ahead, CHAIN_BLOCK_TIME_TOO_FAR_AHEAD},
    {"proposer not a validator", m_proposer, CHAIN_BLOCK_UNKNOWN_PROPOSER},
    {"validator set hash", m_valhash, CHAIN_BLOCK_WRONG_VALIDATORS_HASH},
    {"next validator set hash", m_next_valhash, CHAIN_BLOCK_WRONG_NEXT_VALIDATORS_HASH},
    {"consensus params hash", m_params_hash, CHAIN_BLOCK_WRONG_CONSENSUS_PARAMS_HASH},
    {"last commit signature flipped", m_commit_sig, CHAIN_BLOCK_BAD_LAST_COMMIT},
    {"last commit without signatures", m_commit_empty, CHAIN_BLOCK_BAD_LAST_COMMIT},
    {"last commit by an unknown validator", m_commit_unknown, CHAIN_BLOCK_BAD_LAST_COMMIT},
    {"last commit for another round", m_commit_round, CHAIN_BLOCK_BAD_LAST_COMMIT},
    {"block over blockMaxBytes", m_too_large, CHAIN_BLOCK_TOO_LARGE},
    {"tx over txMaxBytes", m_tx_too_large, CHAIN_BLOCK_TX_TOO_LARGE},
    {"tx gas limit over the block's", m_tx_gas, CHAIN_BLOCK_TX_GAS_TOO_HIGH},
    {"gas limits over the block's", m_gas_sum, CHAIN_BLOCK_GAS_EXCEEDED},
    {"the same tx twice", m_duplicate, CHAIN_BLOCK_DUPLICATE_TX},
    {"tx root", m_tx_root, CHAIN_BLOCK_WRONG_TX_ROOT},
    {"tx with a bad signature", m_bad_sig, CHAIN_BLOCK_INVALID_TX},
    {"tx with a nonce gap", m_nonce_gap, CHAIN_BLOCK_INVALID_TX},
    {"tx its sender cannot pay", m_unfunded, CHAIN_BLOCK_INVALID_TX},
    {"state root", m_state_root, CHAIN_BLOCK_WRONG_STATE_ROOT},
    {"receipts root", m_receipts_root, CHAIN_BLOCK_WRONG_RECEIPTS_ROOT},
};

static void test_malformed_blocks(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, &g_small, NULL);
    /* Block 1, so that the candidate carries a real last commit. */
    chain_tx t0 = nfx_transfer(n.g, 0, 1, 5, 0);
    pool_add(&n, &t0);
    chain_tx_free(&t0);
    produce(&n, NULL, NULL);

    /* The candidate: block 2 with two transfers, proposed but not applied. */
    chain_tx t1 = nfx_transfer(n.g, 0, 1, 5, 1), t2 = nfx_transfer(n.g, 1, 2, 3, 0);
    pool_add(&n, &t1);
    pool_add(&n, &t2);
    chain_tx_free(&t1);
    chain_tx_free(&t2);
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    n.now += 1000;
    chain_block base;
    int built;
    util_err err = {0};
    assert_int_equal(chain_blockexec_propose(&n.bx, n.mp, &proposer, n.now, 0, &base, &built, &err),
                     0);
    assert_int_equal(built, 1);
    assert_int_equal(base.ntx, 2);
    util_buf enc;
    util_buf_init(&enc);
    assert_int_equal(chain_block_encode(&base, &enc), 0);

    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        chain_block b;
        decode(&b, &enc);
        CASES[i].fn(&n, &b);
        expect_refused(&n, &b, CASES[i].reason, CASES[i].what);
        chain_block_free(&b);
    }

    /* Every truncation, and a trailing byte, fail to decode at all. */
    for (size_t k = 0; k < enc.len; k++) {
        chain_block b;
        assert_int_not_equal(chain_block_decode(&b, enc.data, k, &err), 0);
    }
    uint8_t *longer = malloc(enc.len + 1);
    memcpy(longer, enc.data, enc.len);
    longer[enc.len] = 0;
    chain_block b;
    assert_int_not_equal(chain_block_decode(&b, longer, enc.len + 1, &err), 0);
    free(longer);

    /* After all that, the untouched candidate is valid and applies. */
    chain_block ok;
    decode(&ok, &enc);
    chain_block_result res;
    int reason;
    assert_int_equal(chain_blockexec_validate(&n.bx, &ok, n.now, &res, &reason, &err), 0);
    /* A commit that does not finalise it is refused, and changes nothing. */
    chain_commit c;
    nfx_sign_commit(n.g, ok.h.height, res.id, &c);
    chain_commit bad = c;
    bad.sigs[0].sig[0] ^= 1;
    assert_int_equal(chain_blockexec_apply(&n.bx, &ok, &res, &bad, &reason, &err), UTIL_EINVAL);
    assert_int_equal(reason, CHAIN_BLOCK_BAD_COMMIT);
    assert_int_equal(chain_store_height(n.st), 1);
    assert_int_equal(chain_blockexec_apply(&n.bx, &ok, &res, &c, &reason, &err), 0);
    assert_int_equal(chain_store_height(n.st), 2);
    chain_block_result_free(&res);
    chain_block_free(&ok);
    chain_block_free(&base);
    util_buf_free(&enc);
    nfx_close(&n);
}

/* Block 1 follows block 0, which is not voted on: it must carry no commit. */
static void test_first_block_commit(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, &g_small, NULL);
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    chain_block b;
    int built;
    util_err err = {0};
    assert_int_equal(chain_blockexec_propose(&n.bx, n.mp, &proposer, n.now, 1, &b, &built, &err),
                     0);
    assert_int_equal(b.h.last_commit.n, 0);
    b.h.last_commit.n = 1;
    expect_refused(&n, &b, CHAIN_BLOCK_BAD_LAST_COMMIT, "commit on block 1");
    chain_block_free(&b);
    nfx_close(&n);
}

/* Node A produces; node B receives the bytes and the commit, and reaches
 * the same head and state root through validate and apply. */
static void test_second_node_applies(void **state)
{
    (void)state;
    nfx_node a, b;
    nfx_open(&a, fx_devnet(), NULL);
    nfx_open(&b, fx_devnet(), NULL);
    for (uint64_t round = 0; round < 3; round++) {
        for (uint32_t s = 0; s < 4; s++) {
            chain_tx t = nfx_transfer(a.g, s, (s + 1) % 10, 1000 + round, round);
            pool_add(&a, &t);
            chain_tx_free(&t);
        }
        util_buf bytes;
        util_buf_init(&bytes);
        chain_commit commit;
        produce(&a, &bytes, &commit);

        chain_block blk;
        decode(&blk, &bytes);
        b.now = a.now;
        chain_block_result res;
        int reason;
        util_err err = {0};
        if (chain_blockexec_validate(&b.bx, &blk, b.now, &res, &reason, &err))
            fail_msg("node B refused block %llu: %s", (unsigned long long)blk.h.height, err.msg);
        assert_int_equal(chain_blockexec_apply(&b.bx, &blk, &res, &commit, &reason, &err), 0);
        chain_block_result_free(&res);
        chain_block_free(&blk);
        util_buf_free(&bytes);

        uint8_t ia[32], ib[32];
        chain_store_head_id(a.st, ia);
        chain_store_head_id(b.st, ib);
        assert_memory_equal(ia, ib, 32);
        assert_memory_equal(chain_store_head_header(a.st)->state_root,
                            chain_store_head_header(b.st)->state_root, 32);
        chain_account acc;
        chain_addr d1;
        fx_dev_addr(&d1, 1);
        assert_int_equal(chain_store_get_account(b.st, &d1, &acc, &err), 0);
        assert_int_equal(acc.nonce, round + 1);
    }
    assert_int_equal(chain_store_height(b.st), 3);
    nfx_close(&a);
    nfx_close(&b);
}

static int load_small(void **state)
{
    (void)state;
    const char *js = chain_genesis_devnet_json();
    json_t *d = json_loadb(js, strlen(js), 0, NULL);
    assert_non_null(d);
    json_t *p = json_object_get(d, "params");
    json_object_set_new(p, "blockGasLimit", json_string("2500"));
    json_object_set_new(p, "blockMaxBytes", json_string("1024"));
    json_object_set_new(p, "txMaxBytes", json_string("1024"));
    char *s = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    util_err err = {0};
    int rc = chain_genesis_parse(&g_small, s, strlen(s), &err);
    free(s);
    if (rc) fail_msg("small genesis: %s", err.msg);
    return 0;
}

static int free_small(void **state)
{
    (void)state;
    chain_genesis_free(&g_small);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_blocks),
        cmocka_unit_test(test_first_block_commit),
        cmocka_unit_test(test_second_node_applies),
    };
    return cmocka_run_group_tests(tests, load_small, free_small);
}
