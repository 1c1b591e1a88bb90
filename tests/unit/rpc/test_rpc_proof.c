/* state_getProof for every kind of object (rpc/methods/proof.c), in-process
 * on a real store whose state was built by committing real attribution
 * transactions: each answer's proof holds against its header's state root,
 * its decoded object is what the kind's get method shows, an absent object
 * is a null value with a proof of absence, and {"height": H} proves against
 * an older header, with values rebuilt from the undo records or refused
 * when they are no longer kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/exec/contract.h"
#include "chain/state/smt.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "chain/types/attr.h"
#include "rpc/methods/attr.h"
#include "rpc/methods/methods.h"
#include "rpc/params.h"
#include "util/hex.h"

static char g_dir[256];
static chain_store *g_st;
static rpc_dispatch *g_d;
static rpc_env g_api;
static uint64_t g_nonce[16];

#define PROPOSER 1000
#define OWNER 0  /* datanets */
#define MOWNER 4 /* model owner */
#define ATTESTOR 5

static char *dev_str(uint32_t i)
{
    static char s[4][CHAIN_ADDR_STR_LEN + 1];
    static int k;
    chain_addr a;
    fx_dev_addr(&a, i);
    k = (k + 1) % 4;
    chain_addr_encode(s[k], &a);
    return s[k];
}

static chain_tx mk(uint32_t dev, uint8_t type)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", fx_devnet()->chain_id);
    tx.type = type;
    tx.nonce = g_nonce[dev]++;
    tx.gas_limit = 1000000;
    tx.gas_price = 1;
    return tx;
}

static chain_tx sign(chain_tx tx, uint32_t dev)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, dev), 0);
    util_err err = {0};
    if (chain_tx_sign(&tx, &kp, fx_devnet()->hash, &err)) fail_msg("sign: %s", err.msg);
    return tx;
}

static chain_tx datanet(uint32_t dev, const char *name, uint64_t bond, int review)
{
    chain_tx tx = mk(dev, CHAIN_TX_DATANET_CREATE);
    char uri[CHAIN_URI_MAX + 1];
    snprintf(uri, sizeof uri, "ipfs://%s", name);
    assert_int_equal(chain_tx_set_str(&tx.body.datanet_create.name, name, CHAIN_NAME_MAX), 0);
    assert_int_equal(chain_tx_set_str(&tx.body.datanet_create.meta_uri, uri, CHAIN_URI_MAX), 0);
    memset(tx.body.datanet_create.meta_hash, 0xab, 32);
    tx.body.datanet_create.bond = bond;
    tx.body.datanet_create.review = (uint8_t)review;
    return sign(tx, dev);
}

static chain_tx contribute(uint32_t dev, uint64_t ds, uint8_t fill)
{
    chain_tx tx = mk(dev, CHAIN_TX_CONTRIBUTE);
    tx.body.contribute.datanet = ds;
    memset(tx.body.contribute.content_hash, fill, 32);
    tx.body.contribute.size = 1000u + fill;
    char uri[32];
    snprintf(uri, sizeof uri, "file://%u", fill);
    assert_int_equal(chain_tx_set_str(&tx.body.contribute.uri, uri, CHAIN_URI_MAX), 0);
    return sign(tx, dev);
}

static chain_tx review(uint32_t dev, uint64_t c, int accept, uint32_t reason)
{
    chain_tx tx = mk(dev, CHAIN_TX_REVIEW);
    tx.body.review.contribution = c;
    tx.body.review.accept = (uint8_t)accept;
    tx.body.review.reason = reason;
    return sign(tx, dev);
}

static chain_tx model(uint32_t dev, const char *name, uint64_t d1, uint64_t d2)
{
    chain_tx tx = mk(dev, CHAIN_TX_MODEL_REGISTER);
    chain_tx_model_register *b = &tx.body.model_register;
    const uint64_t ds[] = {d1, d2};
    assert_int_equal(chain_tx_set_str(&b->name, name, CHAIN_NAME_MAX), 0);
    assert_int_equal(chain_tx_set_datanets(b, ds, d2 ? 2 : 1), 0);
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, ATTESTOR), 0);
    memcpy(b->attestor, kp.pubkey, 32);
    b->owner_bp = 2000;
    b->validators_bp = 1000;
    b->contributors_bp = 7000;
    return sign(tx, dev);
}

static chain_tx attribute(uint32_t dev, uint64_t m, uint64_t fee, uint32_t n,
                          const chain_attr_entry *es)
{
    chain_tx tx = mk(dev, CHAIN_TX_ATTRIBUTE);
    chain_tx_attribute *b = &tx.body.attribute;
    b->model = m;
    b->fee = fee;
    b->method = CHAIN_ATTR_SUFFIX_ARRAY;
    memset(b->output_hash, 0x11, 32);
    memset(b->evidence_hash, 0x22, 32);
    b->nentries = n;
    b->entries = n ? malloc(n * sizeof *es) : NULL;
    if (n) memcpy(b->entries, es, n * sizeof *es);
    return sign(tx, dev);
}

static void make_block(chain_tx *txs, size_t n, chain_receipt *rs)
{
    const chain_header *parent = chain_store_head_header(g_st);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", fx_devnet()->chain_id);
    b.h.height = parent->height + 1;
    chain_store_head_id(g_st, b.h.parent);
    b.h.time_ms = parent->time_ms + 1000;
    fx_dev_addr(&b.h.proposer, PROPOSER);
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = b.h.height,
                          .time_ms = b.h.time_ms,
                          .proposer = b.h.proposer,
                          .min_gas_price = 1};
    chain_exec *ex = chain_exec_new(g_st, &ctx);
    assert_non_null(ex);
    util_err err = {0};
    for (size_t i = 0; i < n; i++) {
        if (chain_exec_apply_tx(ex, &txs[i], &rs[i], &err))
            fail_msg("tx %zu not applicable: %s", i, err.msg);
    }
    assert_int_equal(chain_exec_finish(ex, b.h.state_root, &err), 0);
    b.ntx = n;
    b.txs = txs;
    chain_block_tx_root(&b, b.h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    assert_int_equal(chain_store_commit_block(g_st, &b, rs, ex, &c, &err), 0);
    chain_exec_free(ex);
}

static void block_ok(chain_tx *txs, size_t n)
{
    chain_receipt rs[16];
    assert_true(n <= 16);
    make_block(txs, n, rs);
    for (size_t i = 0; i < n; i++) {
        if (rs[i].status != CHAIN_RECEIPT_OK) fail_msg("tx %zu failed: %s", i, rs[i].error);
        chain_receipt_free(&rs[i]);
        chain_tx_free(&txs[i]);
    }
}

/* The state of tests/unit/rpc/test_rpc_attr.c, on a store that keeps undo
 * records for the last UNDO blocks:
 *   height 1: datanets 1 "reviewed", 2 "open", 3 "unused";
 *   height 2: contributions 1 (dev1, ds1), 2 (dev2, ds1), 3 (dev1, ds2),
 *             4 (dev3, ds2), 5 (dev3, ds1), all pending;
 *   height 3: 1 accepted, 2 rejected; models 1 "m" and 2 "solo";
 *   height 4: records 1..4. */
#define UNDO 2

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-rpc-proof-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    util_err err = {0};
    chain_store_opts o = {.undo_blocks = UNDO};
    assert_int_equal(chain_store_open_opts(&g_st, g_dir, &o, &err), 0);
    assert_int_equal(chain_store_init_genesis(g_st, fx_devnet(), &err), 0);
    memset(g_nonce, 0, sizeof g_nonce);

    chain_tx b1[] = {datanet(OWNER, "reviewed", 1000, 1), datanet(OWNER, "open", 0, 0),
                     datanet(OWNER, "unused", 5, 0)};
    block_ok(b1, 3);
    chain_tx b2[] = {contribute(1, 1, 1), contribute(2, 1, 2), contribute(1, 2, 3),
                     contribute(3, 2, 4), contribute(3, 1, 5)};
    block_ok(b2, 5);
    chain_tx b3[] = {review(OWNER, 1, 1, 0), review(OWNER, 2, 0, 7), model(MOWNER, "m", 1, 2),
                     model(MOWNER, "solo", 2, 0)};
    block_ok(b3, 4);
    chain_attr_entry e1[] = {{1, 3}, {3, 1}}, e2[] = {{3, 5}, {4, 5}}, e3[] = {{1, 0}},
                     e4[] = {{4, 1}};
    chain_tx b4[] = {attribute(ATTESTOR, 1, 1000000, 2, e1), attribute(ATTESTOR, 1, 999999, 2, e2),
                     attribute(ATTESTOR, 1, 1000, 1, e3), attribute(ATTESTOR, 2, 10, 1, e4)};
    block_ok(b4, 4);

    g_d = rpc_dispatch_new();
    assert_non_null(g_d);
    memset(&g_api, 0, sizeof g_api);
    g_api.store = g_st;
    g_api.genesis = fx_devnet();
    assert_int_equal(rpc_methods_attr_register(g_d, &g_api), 0);
    assert_int_equal(rpc_methods_proof_register(g_d, &g_api), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rpc_dispatch_free(g_d);
    chain_store_close(g_st);
    fx_rm_tree(g_dir);
    return 0;
}

static json_t *call(const char *method, const char *params)
{
    json_error_t je;
    json_t *p = json_loads(params, 0, &je);
    if (!p) fail_msg("bad test params %s: %s", params, je.text);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(g_d, method, p, &e);
    json_decref(p);
    if (!r) fail_msg("%s %s: error %d %s", method, params, e.code, e.message);
    rpc_error_clear(&e);
    return r;
}

static void call_fails(const char *method, const char *params, int code, const char *needle)
{
    json_t *p = json_loads(params, 0, NULL);
    assert_non_null(p);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(g_d, method, p, &e);
    json_decref(p);
    if (r) fail_msg("%s %s succeeded", method, params);
    if (e.code != code)
        fail_msg("%s %s: code %d (%s), want %d", method, params, e.code, e.message, code);
    if (needle && !strstr(e.message, needle))
        fail_msg("%s %s: message '%s' lacks '%s'", method, params, e.message, needle);
    rpc_error_clear(&e);
}

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) fail_msg("field %s is not a string", k);
    return json_string_value(v);
}

/* Checks an answer the way a client does: headerRaw hashes to headerHash
 * and is of the height said; path is SHA-256(stateKey) and stateKey the one
 * expected; the proof holds for the value (or absence) against the
 * header's state root. Returns whether the value is present. */
static int check_answer(json_t *r, const uint8_t *key, size_t klen, uint64_t height)
{
    uint8_t *raw = NULL, id[32], want[32], path[32];
    size_t n = 0;
    assert_int_equal(util_hex_decode_alloc(str(r, "headerRaw"), 65536, &raw, &n), 0);
    chain_header h;
    util_err err = {0};
    assert_int_equal(chain_header_decode(&h, raw, n, &err), 0);
    free(raw);
    chain_header_hash(&h, id);
    assert_int_equal(util_hex_decode_exact(want, 32, str(r, "headerHash")), 0);
    assert_memory_equal(id, want, 32);
    assert_int_equal(h.height, height);
    assert_int_equal(json_integer_value(json_object_get(r, "height")), (json_int_t)height);

    assert_int_equal(util_hex_decode_alloc(str(r, "stateKey"), 256, &raw, &n), 0);
    assert_int_equal(n, klen);
    assert_memory_equal(raw, key, klen);
    free(raw);
    chain_sha256(want, key, klen);
    assert_int_equal(util_hex_decode_exact(path, 32, str(r, "path")), 0);
    assert_memory_equal(path, want, 32);

    chain_smt_proof *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(util_hex_decode_alloc(str(r, "proof"), 65536, &raw, &n), 0);
    assert_int_equal(chain_smt_proof_decode(p, raw, n, &err), 0);
    free(raw);
    int present = !json_is_null(json_object_get(r, "value"));
    uint8_t vh[32];
    if (present) {
        assert_int_equal(util_hex_decode_alloc(str(r, "value"), 1 << 20, &raw, &n), 0);
        chain_sha256(vh, raw, n);
        free(raw);
    }
    if (chain_smt_verify(h.state_root, path, present ? vh : NULL, p, &err))
        fail_msg("proof does not hold: %s", err.msg);
    free(p);
    return present;
}

static void id_key(uint8_t k[9], char kind, uint64_t id)
{
    assert_int_equal(chain_key_id(k, kind, id), 9);
}

/* Every kind at the head: proven, and shown as its get method shows it. */
static void test_every_kind(void **state)
{
    (void)state;
    static const struct {
        const char *name, *get;
        char sk;
        uint64_t id;
    } ids[] = {
        {"datanet", "datanet_get", CHAIN_SK_DATANET, 1},
        {"contribution", "contribution_get", CHAIN_SK_CONTRIB, 3},
        {"model", "model_get", CHAIN_SK_MODEL, 1},
        {"record", "attribution_get", CHAIN_SK_RECORD, 2},
    };
    char params[256];
    uint8_t k[64];
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        snprintf(params, sizeof params, "[{\"%s\": %llu}]", ids[i].name,
                 (unsigned long long)ids[i].id);
        json_t *r = call("state_getProof", params);
        id_key(k, ids[i].sk, ids[i].id);
        assert_true(check_answer(r, k, 9, 4));
        assert_string_equal(str(r, "kind"), ids[i].name);
        assert_int_equal(json_integer_value(json_object_get(r, "id")), (json_int_t)ids[i].id);
        snprintf(params, sizeof params, "[%llu]", (unsigned long long)ids[i].id);
        json_t *g = call(ids[i].get, params);
        /* attribution_get adds what a list row shows from outside the
         * record's value (the model's name, the block's time, a count): not
         * part of what the proof proves. */
        json_object_del(g, "modelName");
        json_object_del(g, "timeMs");
        json_object_del(g, "payoutCount");
        if (!json_equal(g, json_object_get(r, ids[i].name)))
            fail_msg("%s: the proven object differs from %s's", ids[i].name, ids[i].get);
        json_decref(g);
        json_decref(r);
    }
    /* A record carries its payouts. */
    json_t *r = call("state_getProof", "[{\"record\": 1}]");
    assert_true(json_array_size(json_object_get(json_object_get(r, "record"), "payouts")) >= 3);
    json_decref(r);

    /* Contributor totals: the figures contributor_impact takes from state. */
    chain_addr a;
    fx_dev_addr(&a, 1);
    snprintf(params, sizeof params, "[{\"contributorTotals\": \"%s\"}]", dev_str(1));
    r = call("state_getProof", params);
    assert_true(check_answer(r, k, chain_key_contributor(k, &a), 4));
    assert_string_equal(str(r, "address"), dev_str(1));
    json_t *ct = json_object_get(r, "contributorTotals");
    snprintf(params, sizeof params, "[\"%s\"]", dev_str(1));
    json_t *im = call("contributor_impact", params);
    static const char *const same[] = {"earned",   "contributions", "accepted",
                                       "rejected", "pending",       "payouts"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (!json_equal(json_object_get(ct, same[i]), json_object_get(im, same[i])))
            fail_msg("contributorTotals.%s differs from contributor_impact's", same[i]);
    json_decref(im);
    json_decref(r);

    /* Accounts, in both forms. */
    chain_account acc;
    util_err err = {0};
    assert_int_equal(chain_store_get_account(g_st, &a, &acc, &err), 0);
    chain_account_key(k, &a);
    snprintf(params, sizeof params, "[{\"account\": \"%s\"}]", dev_str(1));
    r = call("state_getProof", params);
    assert_true(check_answer(r, k, CHAIN_ACCOUNT_KEY_LEN, 4));
    assert_string_equal(str(r, "kind"), "account");
    assert_int_equal(strtoull(str(json_object_get(r, "account"), "balance"), NULL, 10),
                     acc.balance);
    snprintf(params, sizeof params, "[\"%s\"]", dev_str(1));
    json_t *old = call("state_getProof", params);
    assert_true(json_equal(old, r));
    json_decref(old);
    json_decref(r);
}

/* An absent object: value and object null, and a proof of absence. */
static void test_absent(void **state)
{
    (void)state;
    uint8_t k[64];
    json_t *r = call("state_getProof", "[{\"model\": 77}]");
    id_key(k, CHAIN_SK_MODEL, 77);
    assert_false(check_answer(r, k, 9, 4));
    assert_true(json_is_null(json_object_get(r, "value")));
    assert_true(json_is_null(json_object_get(r, "model")));
    json_decref(r);

    /* An address that never contributed has no totals entry (contributor_impact
     * shows zeros; the proof shows absence). */
    char params[128];
    chain_addr a;
    fx_dev_addr(&a, 9);
    snprintf(params, sizeof params, "[{\"contributorTotals\": \"%s\"}]", dev_str(9));
    r = call("state_getProof", params);
    assert_false(check_answer(r, k, chain_key_contributor(k, &a), 4));
    assert_true(json_is_null(json_object_get(r, "contributorTotals")));
    json_decref(r);
}

/* {"height": H}: against block H's header and state root, with the value
 * the object had then. */
static void test_heights(void **state)
{
    (void)state;
    uint8_t k[9];
    /* Contribution 1 was pending at height 2, accepted at 3, earned at 4:
     * its value at 2 comes from the undo record of block 3. */
    json_t *r = call("state_getProof", "[{\"contribution\": 1}, {\"height\": 2}]");
    id_key(k, CHAIN_SK_CONTRIB, 1);
    assert_true(check_answer(r, k, 9, 2));
    assert_string_equal(str(json_object_get(r, "contribution"), "status"), "pending");
    assert_string_equal(str(json_object_get(r, "contribution"), "earned"), "0");
    json_decref(r);
    r = call("state_getProof", "[{\"contribution\": 1}, {\"height\": 3}]");
    assert_true(check_answer(r, k, 9, 3));
    assert_string_equal(str(json_object_get(r, "contribution"), "status"), "accepted");
    assert_string_equal(str(json_object_get(r, "contribution"), "earned"), "0");
    json_decref(r);
    /* At height 1 it did not exist yet. */
    r = call("state_getProof", "[{\"contribution\": 1}, {\"height\": 1}]");
    assert_false(check_answer(r, k, 9, 1));
    json_decref(r);
    /* Datanet 3 never changed after height 1: its value is the current one. */
    r = call("state_getProof", "[{\"datanet\": 3}, {\"height\": 1}]");
    id_key(k, CHAIN_SK_DATANET, 3);
    assert_true(check_answer(r, k, 9, 1));
    assert_string_equal(str(json_object_get(r, "datanet"), "name"), "unused");
    json_decref(r);
    /* Datanet 1 changed at height 2, whose undo record is no longer kept. */
    call_fails("state_getProof", "[{\"datanet\": 1}, {\"height\": 1}]", RPC_UNAVAILABLE,
               "no longer kept");
    /* Block 0: the genesis state, with its empty commit. */
    r = call("state_getProof", "[{\"datanet\": 1}, {\"height\": 0}]");
    id_key(k, CHAIN_SK_DATANET, 1);
    assert_false(check_answer(r, k, 9, 0));
    assert_string_equal(str(r, "commitRaw"), "0x0000000000");
    json_decref(r);
    /* The head by number is the head. */
    json_t *a = call("state_getProof", "[{\"record\": 4}, {\"height\": 4}]");
    json_t *b = call("state_getProof", "[{\"record\": 4}, null]");
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    call_fails("state_getProof", "[{\"record\": 4}, {\"height\": 5}]", RPC_NOT_FOUND,
               "no block at height 5");
}

static void test_bad_params(void **state)
{
    (void)state;
    call_fails("state_getProof", "[]", RPC_INVALID_PARAMS, NULL);
    call_fails("state_getProof", "[{\"bridge\": 1}]", RPC_INVALID_PARAMS, "unknown kind");
    call_fails("state_getProof", "[{\"model\": 1, \"record\": 2}]", RPC_INVALID_PARAMS, "param 0");
    call_fails("state_getProof", "[{\"model\": \"x\"}]", RPC_INVALID_PARAMS, "model");
    call_fails("state_getProof", "[{\"account\": 5}]", RPC_INVALID_PARAMS, "account");
    call_fails("state_getProof", "[7]", RPC_INVALID_PARAMS, "param 0");
    call_fails("state_getProof", "[{\"model\": 1}, {\"height\": -1}]", RPC_INVALID_PARAMS,
               "height");
    call_fails("state_getProof", "[{\"model\": 1}, {\"round\": 1}]", RPC_INVALID_PARAMS,
               "unknown option");
    call_fails("state_getProof", "[{\"model\": 1}, 3]", RPC_INVALID_PARAMS, "param 1");
    call_fails("state_getProof", "[{\"model\": 1}, {}, 1]", RPC_INVALID_PARAMS, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_heights),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
