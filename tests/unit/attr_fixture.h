/* An attribution chain for the tests that query it in-process: a LevelDB
 * store in a temporary directory holding the devnet genesis, signed
 * development transactions (datanets, contributions, reviews, models,
 * ATTRIBUTE records), blocks executed and committed on the store, an RPC
 * dispatcher on it, and the calls and field readers of the JSON answers.
 * One chain per test program (each test is its own program), held in afx.
 * Header-only (static inline) like chain_fixture.h; include after
 * <cmocka.h>. */
#ifndef OL_TESTS_ATTR_FIXTURE_H
#define OL_TESTS_ATTR_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/contract.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "chain/types/attr.h"
#include "chain/types/block.h"
#include "rpc/jsonrpc.h"
#include "rpc/methods/env.h"
#include "tests/unit/node_fixture.h"

/* The development keys of the story: blocks are proposed by the devnet
 * validator; models name dev key 5 as their attestor. */
#define AFX_PROPOSER NFX_VALIDATOR_KEY
#define AFX_ATTESTOR 5

typedef struct afx_chain {
    char dir[256];
    chain_store *st;
    rpc_dispatch *d;
    rpc_env api;
    uint64_t nonce[16]; /* the next nonce of each development key */
    /* Commit each block with the devnet validator's precommit (and the
     * header's set hashes filled), as a client checking commits needs;
     * otherwise blocks are committed with an empty commit. */
    int signed_commits;
} afx_chain;

static afx_chain afx;

/* Opens the store (keeping undo records for undo_blocks blocks, 0: the
 * store's default) in a new directory /tmp/ol-test-TAG-XXXXXX, stores the
 * genesis and makes a dispatcher whose rpc_env reads the store; the test
 * registers the methods it calls. */
static inline void afx_open(const char *tag, uint32_t undo_blocks)
{
    memset(&afx, 0, sizeof afx);
    snprintf(afx.dir, sizeof afx.dir, "/tmp/ol-test-%s-XXXXXX", tag);
    assert_non_null(mkdtemp(afx.dir));
    util_err err = {0};
    chain_store_opts o = {.undo_blocks = undo_blocks};
    if (chain_store_open_opts(&afx.st, afx.dir, undo_blocks ? &o : NULL, &err))
        fail_msg("open: %s", err.msg);
    assert_int_equal(chain_store_init_genesis(afx.st, fx_devnet(), &err), 0);
    afx.d = rpc_dispatch_new();
    assert_non_null(afx.d);
    afx.api.store = afx.st;
    afx.api.genesis = fx_devnet();
}

static inline void afx_close(void)
{
    rpc_dispatch_free(afx.d);
    chain_store_close(afx.st);
    fx_rm_tree(afx.dir);
}

/* afx_close as a cmocka group teardown. */
static inline int afx_teardown(void **state)
{
    (void)state;
    afx_close();
    return 0;
}

/* Address string of development key i; the last four stay valid. */
static inline char *afx_dev_str(uint32_t i)
{
    static char s[4][CHAIN_ADDR_STR_LEN + 1];
    static int k;
    chain_addr a;
    fx_dev_addr(&a, i);
    k = (k + 1) % 4;
    chain_addr_encode(s[k], &a);
    return s[k];
}

/* An unsigned transaction of dev key dev with its next nonce, gas price 1. */
static inline chain_tx afx_tx_gas(uint32_t dev, uint8_t type, uint64_t gas_limit)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", fx_devnet()->chain_id);
    tx.type = type;
    tx.nonce = afx.nonce[dev]++;
    tx.gas_limit = gas_limit;
    tx.gas_price = 1;
    return tx;
}

static inline chain_tx afx_tx(uint32_t dev, uint8_t type)
{
    return afx_tx_gas(dev, type, 1000000);
}

/* The one place new transactions are signed (the signing domain may grow). */
static inline chain_tx afx_sign(chain_tx tx, uint32_t dev)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, dev), 0);
    util_err err = {0};
    if (chain_tx_sign(&tx, &kp, fx_devnet()->hash, &err)) fail_msg("sign: %s", err.msg);
    chain_keypair_clear(&kp);
    return tx;
}

static inline chain_tx afx_datanet(uint32_t dev, const char *name, uint64_t bond, int review)
{
    chain_tx tx = afx_tx(dev, CHAIN_TX_DATANET_CREATE);
    char uri[CHAIN_URI_MAX + 1];
    snprintf(uri, sizeof uri, "ipfs://%s", name);
    assert_int_equal(chain_tx_set_str(&tx.body.datanet_create.name, name, CHAIN_NAME_MAX), 0);
    assert_int_equal(chain_tx_set_str(&tx.body.datanet_create.meta_uri, uri, CHAIN_URI_MAX), 0);
    memset(tx.body.datanet_create.meta_hash, 0xab, 32);
    tx.body.datanet_create.bond = bond;
    tx.body.datanet_create.review = (uint8_t)review;
    return afx_sign(tx, dev);
}

static inline chain_tx afx_contribute(uint32_t dev, uint64_t ds, uint8_t fill)
{
    chain_tx tx = afx_tx(dev, CHAIN_TX_CONTRIBUTE);
    tx.body.contribute.datanet = ds;
    memset(tx.body.contribute.content_hash, fill, 32);
    tx.body.contribute.size = 1000u + fill;
    char uri[32];
    snprintf(uri, sizeof uri, "file://%u", fill);
    assert_int_equal(chain_tx_set_str(&tx.body.contribute.uri, uri, CHAIN_URI_MAX), 0);
    return afx_sign(tx, dev);
}

static inline chain_tx afx_review(uint32_t dev, uint64_t c, int accept, uint32_t reason)
{
    chain_tx tx = afx_tx(dev, CHAIN_TX_REVIEW);
    tx.body.review.contribution = c;
    tx.body.review.accept = (uint8_t)accept;
    tx.body.review.reason = reason;
    return afx_sign(tx, dev);
}

/* A model on datanet d1 (and d2 when not 0), attested by AFX_ATTESTOR,
 * splitting fees 20 % owner, 10 % validators, 70 % contributors. */
static inline chain_tx afx_model(uint32_t dev, const char *name, uint64_t d1, uint64_t d2)
{
    chain_tx tx = afx_tx(dev, CHAIN_TX_MODEL_REGISTER);
    chain_tx_model_register *b = &tx.body.model_register;
    const uint64_t ds[] = {d1, d2};
    assert_int_equal(chain_tx_set_str(&b->name, name, CHAIN_NAME_MAX), 0);
    assert_int_equal(chain_tx_set_datanets(b, ds, d2 ? 2 : 1), 0);
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, AFX_ATTESTOR), 0);
    memcpy(b->attestor, kp.pubkey, 32);
    b->owner_bp = 2000;
    b->validators_bp = 1000;
    b->contributors_bp = 7000;
    return afx_sign(tx, dev);
}

static inline chain_tx afx_attribute(uint32_t dev, uint64_t m, uint64_t fee, uint32_t n,
                                     const chain_attr_entry *es)
{
    chain_tx tx = afx_tx(dev, CHAIN_TX_ATTRIBUTE);
    chain_tx_attribute *b = &tx.body.attribute;
    b->model = m;
    b->fee = fee;
    b->method = CHAIN_ATTR_SUFFIX_ARRAY;
    memset(b->output_hash, 0x11, 32);
    memset(b->evidence_hash, 0x22, 32);
    b->nentries = n;
    b->entries = n ? malloc(n * sizeof *es) : NULL;
    if (n) memcpy(b->entries, es, n * sizeof *es);
    return afx_sign(tx, dev);
}

/* The next block on the head at time_ms (after the head's), proposed by
 * AFX_PROPOSER, and an executor on the head's state for it. */
static inline chain_exec *afx_block_begin(chain_block *b, uint64_t time_ms)
{
    const chain_header *parent = chain_store_head_header(afx.st);
    assert_true(time_ms > parent->time_ms);
    memset(b, 0, sizeof *b);
    b->h.version = CHAIN_BLOCK_VERSION;
    snprintf(b->h.chain_id, sizeof b->h.chain_id, "%s", fx_devnet()->chain_id);
    b->h.height = parent->height + 1;
    chain_store_head_id(afx.st, b->h.parent);
    b->h.time_ms = time_ms;
    fx_dev_addr(&b->h.proposer, AFX_PROPOSER);
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = b->h.height,
                          .time_ms = b->h.time_ms,
                          .proposer = b->h.proposer,
                          .min_gas_price = 1};
    chain_exec *ex = chain_exec_new(afx.st, &ctx);
    assert_non_null(ex);
    return ex;
}

/* Applies txs[i] into rs[i]; each must be applicable (it may still fail). */
static inline void afx_block_apply(chain_exec *ex, chain_tx *txs, size_t n, chain_receipt *rs)
{
    util_err err = {0};
    for (size_t i = 0; i < n; i++) {
        if (chain_exec_apply_tx(ex, &txs[i], &rs[i], &err))
            fail_msg("tx %zu not applicable: %s", i, err.msg);
    }
}

/* Finishes b with txs and commits it with receipts rs; frees ex. */
static inline void afx_block_commit(chain_block *b, chain_tx *txs, size_t n, chain_receipt *rs,
                                    chain_exec *ex)
{
    util_err err = {0};
    assert_int_equal(chain_exec_finish(ex, b->h.state_root, &err), 0);
    b->ntx = n;
    b->txs = txs;
    chain_block_tx_root(b, b->h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    if (afx.signed_commits) {
        chain_header_fill_sets(&b->h, fx_devnet());
        uint8_t id[32];
        chain_header_hash(&b->h, id);
        nfx_sign_commit(fx_devnet(), b->h.height, id, &c);
    }
    if (chain_store_commit_block(afx.st, b, rs, ex, &c, &err)) fail_msg("commit: %s", err.msg);
    chain_exec_free(ex);
}

/* Executes txs as the next block at time_ms and commits it; rs gets the
 * receipts (the caller frees them and txs). */
static inline void afx_make_block_at(chain_tx *txs, size_t n, chain_receipt *rs, uint64_t time_ms)
{
    chain_block b;
    chain_exec *ex = afx_block_begin(&b, time_ms);
    afx_block_apply(ex, txs, n, rs);
    afx_block_commit(&b, txs, n, rs, ex);
}

/* afx_make_block_at 1 s after the head. */
static inline void afx_make_block(chain_tx *txs, size_t n, chain_receipt *rs)
{
    afx_make_block_at(txs, n, rs, chain_store_head_header(afx.st)->time_ms + 1000);
}

/* Commits txs as the next block at time_ms; every tx succeeds. Frees txs. */
static inline void afx_block_ok_at(chain_tx *txs, size_t n, uint64_t time_ms)
{
    chain_receipt rs[16];
    assert_true(n <= 16);
    afx_make_block_at(txs, n, rs, time_ms);
    for (size_t i = 0; i < n; i++) {
        if (rs[i].status != CHAIN_RECEIPT_OK) fail_msg("tx %zu failed: %s", i, rs[i].error);
        chain_receipt_free(&rs[i]);
        chain_tx_free(&txs[i]);
    }
}

/* afx_block_ok_at 1 s after the head. */
static inline void afx_block_ok(chain_tx *txs, size_t n)
{
    afx_block_ok_at(txs, n, chain_store_head_header(afx.st)->time_ms + 1000);
}

/* Datanets are created by dev key 0, models by dev key 4. */
#define AFX_OWNER 0
#define AFX_MOWNER 4

/* The attribution story of the RPC and CLI tests (ids in creation order):
 *   height 1: the first ndatanets (2 or 3) of datanets 1 "reviewed" (owner
 *             dev0, bond 1000, review), 2 "open" (bond 0, no review),
 *             3 "unused";
 *   height 2: contributions 1 (dev1, ds1), 2 (dev2, ds1), 3 (dev1, ds2),
 *             4 (dev3, ds2), 5 (dev3, ds1), all pending;
 *   height 3: 1 accepted, 2 rejected (reason 7), 5 left pending;
 *             model 1 "m" (owner dev4, datanets 1 and 2, attestor dev5,
 *             20/10/70 %), model 2 "solo" (owner dev4, datanet 2);
 *   height 4: records 1: model 1, fee 1,000,000, entries (1, w3) (3, w1);
 *                     2: model 1, fee 999,999, entries (3, w5) (4, w5);
 *                     3: model 1, fee 1000, entry (1, w0) -> all to
 *                        validators + owner;
 *                     4: model 2, fee 10, entry (4, w1).
 * So dev1 owns contributions 1 and 3, paid 525,000 + 175,000 by record 1
 * and 349,999 by record 2; dev3 owns 4 (paid by records 2 and 4, models 1
 * and 2) and 5 (pending). */
static inline void afx_story(size_t ndatanets)
{
    assert_true(ndatanets == 2 || ndatanets == 3);
    chain_tx b1[] = {afx_datanet(AFX_OWNER, "reviewed", 1000, 1),
                     afx_datanet(AFX_OWNER, "open", 0, 0),
                     ndatanets == 3 ? afx_datanet(AFX_OWNER, "unused", 5, 0) : (chain_tx){0}};
    afx_block_ok(b1, ndatanets);
    chain_tx b2[] = {afx_contribute(1, 1, 1), afx_contribute(2, 1, 2), afx_contribute(1, 2, 3),
                     afx_contribute(3, 2, 4), afx_contribute(3, 1, 5)};
    afx_block_ok(b2, 5);
    chain_tx b3[] = {afx_review(AFX_OWNER, 1, 1, 0), afx_review(AFX_OWNER, 2, 0, 7),
                     afx_model(AFX_MOWNER, "m", 1, 2), afx_model(AFX_MOWNER, "solo", 2, 0)};
    afx_block_ok(b3, 4);
    chain_attr_entry e1[] = {{1, 3}, {3, 1}}, e2[] = {{3, 5}, {4, 5}}, e3[] = {{1, 0}},
                     e4[] = {{4, 1}};
    chain_tx b4[] = {afx_attribute(AFX_ATTESTOR, 1, 1000000, 2, e1),
                     afx_attribute(AFX_ATTESTOR, 1, 999999, 2, e2),
                     afx_attribute(AFX_ATTESTOR, 1, 1000, 1, e3),
                     afx_attribute(AFX_ATTESTOR, 2, 10, 1, e4)};
    afx_block_ok(b4, 4);
}

/* Calls method with params given as JSON text; expects success. */
static inline json_t *afx_call(const char *method, const char *params)
{
    json_error_t je;
    json_t *p = json_loads(params, 0, &je);
    if (!p) fail_msg("bad test params %s: %s", params, je.text);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(afx.d, method, p, &e);
    json_decref(p);
    if (!r) fail_msg("%s %s: error %d %s", method, params, e.code, e.message);
    rpc_error_clear(&e);
    return r;
}

/* Expects an error with code whose message holds needle (when not NULL). */
static inline void afx_call_fails(const char *method, const char *params, int code,
                                  const char *needle)
{
    json_t *p = json_loads(params, 0, NULL);
    assert_non_null(p);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(afx.d, method, p, &e);
    json_decref(p);
    if (r) {
        char *s = json_dumps(r, 0);
        fail_msg("%s %s succeeded: %s", method, params, s);
    }
    if (e.code != code)
        fail_msg("%s %s: code %d (%s), want %d", method, params, e.code, e.message, code);
    if (needle && !strstr(e.message, needle))
        fail_msg("%s %s: message '%s' lacks '%s'", method, params, e.message, needle);
    rpc_error_clear(&e);
}

static inline const char *afx_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) fail_msg("field %s is not a string", k);
    return json_string_value(v);
}

static inline json_int_t afx_num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) fail_msg("field %s is not an integer", k);
    return json_integer_value(v);
}

/* A decimal-string amount field. */
static inline uint64_t afx_amount(json_t *o, const char *k)
{
    return strtoull(afx_str(o, k), NULL, 10);
}

/* The items array of a list page. */
static inline json_t *afx_items(json_t *page)
{
    json_t *a = json_object_get(page, "items");
    assert_true(json_is_array(a));
    return a;
}

#endif
