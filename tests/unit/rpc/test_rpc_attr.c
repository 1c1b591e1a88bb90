/* The attribution JSON-RPC methods in-process, on a real store in a temporary
 * directory whose state was built by executing and committing real
 * attribution transactions: objects, paging, filters, contributor_impact, and
 * the bad-parameter paths. */
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

#include "chain/types/attr.h"
#include "chain/exec/contract.h"
#include "chain/crypto/hash.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "rpc/methods/attr.h"
#include "rpc/params.h"
#include "vm/vm.h"

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

/* State of the story (ids in creation order):
 *   datanet 1 "reviewed" (owner dev0, bond 1000, review), datanet 2 "open"
 *   (bond 0, no review), datanet 3 "unused";
 *   contributions 1 (dev1, ds1, accepted), 2 (dev2, ds1, rejected reason 7),
 *   3 (dev1, ds2), 4 (dev3, ds2), 5 (dev3, ds1, pending);
 *   model 1 "m" (owner dev4, datanets 1 and 2, attestor dev5, 20/10/70 %);
 *   model 2 "solo" (owner dev4, datanet 2);
 *   records 1: model 1, fee 1,000,000, entries (1, w3) (3, w1);
 *           2: model 1, fee 999,999, entries (3, w5) (4, w5);
 *           3: model 1, fee 1000, entry (1, w0) -> all to validators + owner;
 *           4: model 2, fee 10, entry (4, w1). */
static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-rpc-attr-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    util_err err = {0};
    assert_int_equal(chain_store_open(&g_st, g_dir, &err), 0);
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

/* Calls method with params given as JSON text; expects success. */
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

/* Expects an error with code; returns nothing. */
static void call_fails(const char *method, const char *params, int code, const char *needle)
{
    json_t *p = json_loads(params, 0, NULL);
    assert_non_null(p);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(g_d, method, p, &e);
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

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) fail_msg("field %s is not a string", k);
    return json_string_value(v);
}

static json_int_t num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) fail_msg("field %s is not an integer", k);
    return json_integer_value(v);
}

static uint64_t amount(json_t *o, const char *k)
{
    return strtoull(str(o, k), NULL, 10);
}

static json_t *items(json_t *page)
{
    json_t *a = json_object_get(page, "items");
    assert_true(json_is_array(a));
    return a;
}

static void test_datanet(void **state)
{
    (void)state;
    json_t *d = call("datanet_get", "[1]");
    assert_int_equal(num(d, "id"), 1);
    assert_string_equal(str(d, "name"), "reviewed");
    assert_string_equal(str(d, "owner"), dev_str(OWNER));
    assert_string_equal(str(d, "metaUri"), "ipfs://reviewed");
    assert_string_equal(str(d, "metaHash"),
                        "0xabababababababababababababababababababababababababababababababab");
    assert_string_equal(str(d, "bond"), "1000");
    assert_true(json_is_true(json_object_get(d, "review")));
    assert_int_equal(num(d, "height"), 1);
    assert_int_equal(num(d, "contributions"), 3);
    assert_int_equal(num(d, "accepted"), 1);
    assert_int_equal(num(d, "rejected"), 1);
    assert_int_equal(num(d, "pending"), 1);
    assert_int_equal(num(d, "models"), 1);
    json_decref(d);
    d = call("datanet_get", "[\"2\"]"); /* ids as decimal strings too */
    assert_int_equal(num(d, "models"), 2);
    assert_true(json_is_false(json_object_get(d, "review")));
    json_decref(d);

    call_fails("datanet_get", "[99]", RPC_NOT_FOUND, "datanet 99 not found");
    call_fails("datanet_get", "[]", RPC_INVALID_PARAMS, NULL);
    call_fails("datanet_get", "[-1]", RPC_INVALID_PARAMS, "id");
    call_fails("datanet_get", "[\"one\"]", RPC_INVALID_PARAMS, "id");
    call_fails("datanet_get", "[1, 2]", RPC_INVALID_PARAMS, NULL);
}

static void test_paging(void **state)
{
    (void)state;
    json_t *all = call("datanet_list", "[]");
    assert_int_equal(json_array_size(items(all)), 3);
    assert_true(json_is_null(json_object_get(all, "nextCursor")));
    json_decref(all);

    /* Page by page with limit 2: ids 1 2 | 3, then the end. */
    json_t *p1 = call("datanet_list", "[null, 2]");
    assert_int_equal(json_array_size(items(p1)), 2);
    assert_int_equal(num(json_array_get(items(p1), 0), "id"), 1);
    assert_int_equal(num(json_array_get(items(p1), 1), "id"), 2);
    const char *cur = str(p1, "nextCursor");
    char params[256];
    snprintf(params, sizeof params, "[\"%s\", 2]", cur);
    json_t *p2 = call("datanet_list", params);
    assert_int_equal(json_array_size(items(p2)), 1);
    assert_int_equal(num(json_array_get(items(p2), 0), "id"), 3);
    assert_true(json_is_null(json_object_get(p2, "nextCursor")));

    /* A cursor of one list is refused by another. */
    snprintf(params, sizeof params, "[null, \"%s\"]", cur);
    call_fails("model_list", params, RPC_INVALID_PARAMS, "cursor");
    json_decref(p1);
    json_decref(p2);

    /* Newest first. */
    json_t *d = call("datanet_list", "[null, 1, \"desc\"]");
    assert_int_equal(num(json_array_get(items(d), 0), "id"), 3);
    snprintf(params, sizeof params, "[\"%s\", 5, \"desc\"]", str(d, "nextCursor"));
    json_t *d2 = call("datanet_list", params);
    assert_int_equal(json_array_size(items(d2)), 2);
    assert_int_equal(num(json_array_get(items(d2), 0), "id"), 2);
    assert_int_equal(num(json_array_get(items(d2), 1), "id"), 1);
    json_decref(d);
    json_decref(d2);

    call_fails("datanet_list", "[null, 0]", RPC_INVALID_PARAMS, "limit");
    call_fails("datanet_list", "[null, 101]", RPC_INVALID_PARAMS, "limit");
    call_fails("datanet_list", "[null, 100, \"sideways\"]", RPC_INVALID_PARAMS, "order");
    call_fails("datanet_list", "[\"zz\"]", RPC_INVALID_PARAMS, "cursor");
    call_fails("datanet_list", "[\"7364\"]", RPC_INVALID_PARAMS, "cursor");
    call_fails("datanet_list", "[42]", RPC_INVALID_PARAMS, "cursor");
    call_fails("datanet_list", "[null, 1, \"asc\", 4]", RPC_INVALID_PARAMS, NULL);
    json_t *max = call("datanet_list", "[null, 100, \"asc\"]");
    json_decref(max);
}

static void test_contributions(void **state)
{
    (void)state;
    json_t *c = call("contribution_get", "[2]");
    assert_string_equal(str(c, "status"), "rejected");
    assert_int_equal(num(c, "reason"), 7);
    assert_string_equal(str(c, "contributor"), dev_str(2));
    assert_string_equal(str(c, "size"), "1002");
    assert_string_equal(str(c, "uri"), "file://2");
    assert_string_equal(str(c, "bond"), "1000");
    assert_int_equal(num(c, "datanet"), 1);
    json_decref(c);
    c = call("contribution_get", "[5]");
    assert_string_equal(str(c, "status"), "pending");
    assert_true(json_is_null(json_object_get(c, "reason")));
    json_decref(c);
    /* Contribution 1: used by records 1 and 3; earned 525,000 in record 1. */
    c = call("contribution_get", "[1]");
    assert_string_equal(str(c, "status"), "accepted");
    assert_int_equal(num(c, "timesUsed"), 2);
    assert_string_equal(str(c, "earned"), "525000");
    json_decref(c);

    json_t *l = call("contribution_list", "[{\"datanet\": 1}]");
    assert_int_equal(json_array_size(items(l)), 3);
    assert_int_equal(num(json_array_get(items(l), 2), "id"), 5);
    json_decref(l);
    char params[512];
    snprintf(params, sizeof params, "[{\"contributor\": \"%s\"}, null, 1]", dev_str(1));
    l = call("contribution_list", params);
    assert_int_equal(json_array_size(items(l)), 1);
    assert_int_equal(num(json_array_get(items(l), 0), "id"), 1);
    snprintf(params, sizeof params, "[{\"contributor\": \"%s\"}, \"%s\", 1]", dev_str(1),
             str(l, "nextCursor"));
    json_t *l2 = call("contribution_list", params);
    assert_int_equal(json_array_size(items(l2)), 1);
    assert_int_equal(num(json_array_get(items(l2), 0), "id"), 3);
    assert_true(json_is_null(json_object_get(l2, "nextCursor")));
    json_decref(l);
    json_decref(l2);
    l = call("contribution_list", "[{\"datanet\": 3}]");
    assert_int_equal(json_array_size(items(l)), 0);
    json_decref(l);

    call_fails("contribution_list", "[{\"datanet\": 9}]", RPC_NOT_FOUND, "datanet 9");
    /* No filter: every contribution of every datanet, newest first on demand. */
    const char *const all[] = {"[]", "[null]", "[{}]"};
    for (size_t i = 0; i < 3; i++) {
        l = call("contribution_list", all[i]);
        assert_int_equal(json_array_size(items(l)), 5);
        assert_int_equal(num(json_array_get(items(l), 4), "id"), 5);
        json_decref(l);
    }
    l = call("contribution_list", "[null, null, 2, \"desc\"]");
    assert_int_equal(num(json_array_get(items(l), 0), "id"), 5);
    assert_int_equal(num(json_array_get(items(l), 1), "id"), 4);
    snprintf(params, sizeof params, "[null, \"%s\", 2, \"desc\"]", str(l, "nextCursor"));
    l2 = call("contribution_list", params);
    assert_int_equal(num(json_array_get(items(l2), 0), "id"), 3);
    assert_int_equal(num(json_array_get(items(l2), 1), "id"), 2);
    json_decref(l);
    json_decref(l2);
    call_fails("contribution_list", "[[]]", RPC_INVALID_PARAMS, "filter");
    call_fails("contribution_list", "[{\"model\": 1}]", RPC_INVALID_PARAMS, "filter");
    call_fails("contribution_list", "[{\"datanet\": 1, \"contributor\": \"x\"}]",
               RPC_INVALID_PARAMS, "filter");
    call_fails("contribution_list", "[{\"contributor\": \"ol1nope\"}]", RPC_INVALID_PARAMS,
               "filter.contributor");
    call_fails("contribution_list", "[{\"datanet\": \"x\"}]", RPC_INVALID_PARAMS, "filter.datanet");
    call_fails("contribution_get", "[77]", RPC_NOT_FOUND, NULL);
}

static void test_models(void **state)
{
    (void)state;
    json_t *m = call("model_get", "[1]");
    assert_string_equal(str(m, "name"), "m");
    assert_string_equal(str(m, "owner"), dev_str(MOWNER));
    assert_string_equal(str(m, "attestorAddress"), dev_str(ATTESTOR));
    json_t *ds = json_object_get(m, "datanets");
    assert_int_equal(json_array_size(ds), 2);
    assert_int_equal(json_integer_value(json_array_get(ds, 1)), 2);
    json_t *split = json_object_get(m, "split");
    assert_int_equal(num(split, "owner"), 2000);
    assert_int_equal(num(split, "validators"), 1000);
    assert_int_equal(num(split, "contributors"), 7000);
    assert_int_equal(num(m, "inferences"), 3);
    assert_string_equal(str(m, "fees"), "2000999");
    assert_non_null(strstr(str(m, "rewardContract"), "ol1"));
    json_decref(m);

    json_t *l = call("model_list", "[]");
    assert_int_equal(json_array_size(items(l)), 2);
    json_decref(l);
    l = call("model_list", "[null, null, 1]");
    assert_int_equal(json_array_size(items(l)), 1);
    assert_false(json_is_null(json_object_get(l, "nextCursor")));
    json_decref(l);
    l = call("model_list", "[{\"datanet\": 1}]");
    assert_int_equal(json_array_size(items(l)), 1);
    json_decref(l);
    l = call("model_list", "[{\"datanet\": 2}, null, null, \"desc\"]");
    assert_int_equal(json_array_size(items(l)), 2);
    assert_int_equal(num(json_array_get(items(l), 0), "id"), 2);
    json_decref(l);
    char params[512];
    snprintf(params, sizeof params, "[{\"owner\": \"%s\"}]", dev_str(MOWNER));
    l = call("model_list", params);
    assert_int_equal(json_array_size(items(l)), 2);
    json_decref(l);
    snprintf(params, sizeof params, "[{\"owner\": \"%s\"}]", dev_str(OWNER));
    l = call("model_list", params);
    assert_int_equal(json_array_size(items(l)), 0);
    json_decref(l);
    call_fails("model_get", "[3]", RPC_NOT_FOUND, "model 3");
    call_fails("model_list", "[{\"datanet\": 4}]", RPC_NOT_FOUND, NULL);
    call_fails("model_list", "[{\"owner\": 5}]", RPC_INVALID_PARAMS, "filter.owner");
    call_fails("model_list", "[7]", RPC_INVALID_PARAMS, "filter");
}

static uint64_t sum_payouts(json_t *rec, const char *role, const char *recipient)
{
    uint64_t s = 0;
    json_t *ps = json_object_get(rec, "payouts"), *p;
    size_t i;
    json_array_foreach(ps, i, p)
    {
        if (role && strcmp(str(p, "role"), role) != 0) continue;
        if (recipient && strcmp(str(p, "recipient"), recipient) != 0) continue;
        s += amount(p, "amount");
    }
    return s;
}

static void test_records(void **state)
{
    (void)state;
    json_t *r = call("attribution_get", "[1]");
    assert_int_equal(num(r, "model"), 1);
    assert_string_equal(str(r, "fee"), "1000000");
    assert_string_equal(str(r, "method"), "suffix-array");
    assert_string_equal(str(r, "owner"), dev_str(MOWNER));
    assert_string_equal(str(r, "attestor"), dev_str(ATTESTOR));
    assert_string_equal(str(r, "retained"), "0");
    json_t *es = json_object_get(r, "entries");
    assert_int_equal(json_array_size(es), 2);
    assert_string_equal(str(json_array_get(es, 0), "weight"), "3");
    assert_string_equal(str(json_array_get(es, 1), "contributor"), dev_str(1));
    /* The default contract's order: owner share, validators, contributors in
     * entry order, then the remainder to the owner (zero here, so not paid). */
    json_t *ps = json_object_get(r, "payouts");
    assert_int_equal(json_array_size(ps), 4);
    assert_string_equal(str(json_array_get(ps, 0), "role"), "owner");
    assert_string_equal(str(json_array_get(ps, 0), "amount"), "200000");
    assert_string_equal(str(json_array_get(ps, 1), "role"), "validator");
    assert_string_equal(str(json_array_get(ps, 1), "recipient"), dev_str(PROPOSER));
    assert_string_equal(str(json_array_get(ps, 1), "amount"), "100000");
    assert_true(json_is_null(json_object_get(json_array_get(ps, 1), "contribution")));
    assert_int_equal(num(json_array_get(ps, 2), "contribution"), 1);
    assert_string_equal(str(json_array_get(ps, 2), "amount"), "525000");
    assert_string_equal(str(json_array_get(ps, 3), "amount"), "175000");
    assert_true(sum_payouts(r, NULL, NULL) == 1000000);
    json_decref(r);

    /* 999,999: validators 99,999; contributors 699,999 -> 349,999 each; owner the rest. */
    r = call("attribution_get", "[2]");
    assert_true(sum_payouts(r, "validator", NULL) == 99999);
    assert_true(sum_payouts(r, "contributor", NULL) == 2 * 349999);
    assert_true(sum_payouts(r, "owner", NULL) == 999999 - 99999 - 2 * 349999);
    json_decref(r);
    /* Zero total weight: no contributor payout. */
    r = call("attribution_get", "[3]");
    /* owner share, validators, remainder to the owner */
    assert_int_equal(json_array_size(json_object_get(r, "payouts")), 3);
    assert_true(sum_payouts(r, "contributor", NULL) == 0);
    assert_true(sum_payouts(r, "owner", NULL) == 900);
    json_decref(r);

    json_t *l = call("attribution_list", "[{\"model\": 1}]");
    assert_int_equal(json_array_size(items(l)), 3);
    json_decref(l);
    l = call("attribution_list", "[{\"contribution\": 4}, null, null, \"desc\"]");
    assert_int_equal(json_array_size(items(l)), 2);
    assert_int_equal(num(json_array_get(items(l), 0), "id"), 4);
    assert_int_equal(num(json_array_get(items(l), 1), "id"), 2);
    json_decref(l);
    l = call("attribution_list", "[{\"contribution\": 2}]");
    assert_int_equal(json_array_size(items(l)), 0);
    json_decref(l);
    call_fails("attribution_get", "[5]", RPC_NOT_FOUND, "attribution record 5");
    call_fails("attribution_list", "[{\"model\": 3}]", RPC_NOT_FOUND, "model 3");
    call_fails("attribution_list", "[{\"contribution\": 30}]", RPC_NOT_FOUND, NULL);
    call_fails("attribution_list", "[{\"datanet\": 1}]", RPC_INVALID_PARAMS, "filter");
}

static void test_impact(void **state)
{
    (void)state;
    char params[512];
    /* dev1: contributions 1 (ds1) and 3 (ds2); record 1 pays 525,000 + 175,000,
     * record 2 pays 349,999 for contribution 3. */
    snprintf(params, sizeof params, "[\"%s\"]", dev_str(1));
    json_t *im = call("contributor_impact", params);
    assert_string_equal(str(im, "earned"), "1049999");
    assert_int_equal(num(im, "contributions"), 2);
    assert_int_equal(num(im, "accepted"), 2);
    assert_int_equal(num(im, "rejected"), 0);
    assert_int_equal(num(im, "pending"), 0);
    assert_int_equal(num(im, "payouts"), 3);
    assert_true(json_is_false(json_object_get(im, "payoutsTruncated")));
    json_t *bm = json_object_get(im, "byModel");
    assert_int_equal(json_array_size(bm), 1);
    assert_int_equal(num(json_array_get(bm, 0), "model"), 1);
    assert_string_equal(str(json_array_get(bm, 0), "name"), "m");
    assert_int_equal(num(json_array_get(bm, 0), "records"), 2);
    assert_int_equal(num(json_array_get(bm, 0), "payouts"), 3);
    assert_string_equal(str(json_array_get(bm, 0), "earned"), "1049999");
    json_t *bd = json_object_get(im, "byDatanet");
    assert_int_equal(json_array_size(bd), 2);
    assert_string_equal(str(json_array_get(bd, 0), "name"), "reviewed");
    assert_string_equal(str(json_array_get(bd, 0), "earned"), "525000");
    assert_string_equal(str(json_array_get(bd, 1), "earned"), "524999");
    assert_int_equal(num(json_array_get(bd, 1), "timesUsed"), 2);
    json_t *rp = json_object_get(im, "recentPayouts");
    assert_int_equal(json_array_size(rp), 3);
    assert_int_equal(num(json_array_get(rp, 0), "record"), 2); /* newest first */
    json_decref(im);

    /* dev3: one accepted (4) and one pending (5); two models. */
    snprintf(params, sizeof params, "[\"%s\", 1]", dev_str(3));
    im = call("contributor_impact", params);
    assert_int_equal(num(im, "pending"), 1);
    assert_int_equal(json_array_size(json_object_get(im, "byModel")), 2);
    assert_int_equal(json_array_size(json_object_get(im, "recentPayouts")), 1);
    assert_string_equal(str(im, "earned"), "350006"); /* + 7 of record 4 (10 x 70 %) */
    json_decref(im);

    /* The proposer earned as a validator only. */
    snprintf(params, sizeof params, "[\"%s\"]", dev_str(PROPOSER));
    im = call("contributor_impact", params);
    assert_string_equal(str(im, "earned"), "0");
    assert_string_equal(str(json_object_get(im, "scannedByRole"), "validator"),
                        "200100"); /* 100000 + 99999 + 100 + 1 */
    assert_int_equal(json_array_size(json_object_get(im, "byModel")), 0);
    json_decref(im);

    /* An address that never did anything. */
    snprintf(params, sizeof params, "[\"%s\"]", dev_str(9));
    im = call("contributor_impact", params);
    assert_string_equal(str(im, "earned"), "0");
    assert_int_equal(json_array_size(json_object_get(im, "byDatanet")), 0);
    json_decref(im);

    call_fails("contributor_impact", "[]", RPC_INVALID_PARAMS, NULL);
    call_fails("contributor_impact", "[\"ol1xyz\"]", RPC_INVALID_PARAMS, "address");
    snprintf(params, sizeof params, "[\"%s\", 101]", dev_str(1));
    call_fails("contributor_impact", params, RPC_INVALID_PARAMS, "recent");
}

/* The body fields an explorer sees for each attribution type. */
static void test_tx_body_json(void **state)
{
    (void)state;
    chain_attr_entry es[] = {{1, 2}};
    uint64_t saved[16];
    memcpy(saved, g_nonce, sizeof saved);
    chain_tx txs[] = {datanet(0, "x", 1, 1), contribute(1, 1, 9), review(0, 5, 0, 3),
                      model(4, "mm", 1, 0), attribute(5, 1, 77, 1, es)};
    const char *keys[] = {"review", "contentHash", "reason", "split", "entries"};
    for (size_t i = 0; i < 5; i++) {
        json_t *o = json_object();
        assert_int_equal(rpc_json_attr_tx_body(o, &txs[i]), 0);
        assert_non_null(json_object_get(o, keys[i]));
        json_decref(o);
        chain_tx_free(&txs[i]);
    }
    memcpy(g_nonce, saved, sizeof saved);
}

/* A reward contract that reverts or faults fails the ATTRIBUTE as a whole: no
 * record, no payout, no totals moved; the attestor pays only the gas. */
static void test_failing_contract(void **state)
{
    (void)state;
    static const char *const progs[] = {
        ".data\nmsg: .ascii \"no\"\n.code\nmain:\n    ldi r1, msg\n    ldi r2, 2\n"
        "    revert r1, r2\n",
        "main:\n    ldi r1, 1\n    ldi r2, 0\n    divu r3, r1, r2\n    stop\n",
    };
    for (size_t k = 0; k < 2; k++) {
        uint8_t *code;
        size_t len;
        util_err err = {0};
        if (vm_asm_source("t", progs[k], strlen(progs[k]), &code, &len, &err))
            fail_msg("asm: %s", err.msg);
        chain_tx dep = mk(6, CHAIN_TX_DEPLOY);
        chain_addr deployer, contract;
        fx_dev_addr(&deployer, 6);
        chain_contract_addr(&contract, &deployer, dep.nonce);
        dep.body.deploy.code = code;
        dep.body.deploy.len = (uint32_t)len;
        dep = sign(dep, 6);
        chain_tx reg = model(MOWNER, "reverting", 2, 0);
        reg.body.model_register.reward_contract = contract;
        reg = sign(reg, MOWNER); /* again, with the contract */
        chain_tx b1[] = {dep, reg};
        block_ok(b1, 2);

        json_t *ml = call("model_list", "[null, null, 1, \"desc\"]");
        json_int_t mid = num(json_array_get(items(ml), 0), "id");
        json_decref(ml);
        json_t *c4 = call("contribution_get", "[4]");
        json_int_t used = num(c4, "timesUsed");
        json_decref(c4);
        chain_addr att;
        chain_account before, after, cb;
        fx_dev_addr(&att, ATTESTOR);
        assert_int_equal(chain_store_get_account(g_st, &att, &before, NULL), 0);

        chain_attr_entry es[] = {{4, 1}};
        chain_tx a = attribute(ATTESTOR, (uint64_t)mid, 1000, 1, es);
        chain_receipt r;
        make_block(&a, 1, &r);
        assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
        assert_int_equal(r.nevents, 0);
        assert_int_equal(chain_store_get_account(g_st, &att, &after, NULL), 0);
        assert_true(before.balance - after.balance == r.fee);
        assert_int_equal(chain_store_get_account(g_st, &contract, &cb, NULL), 0);
        assert_true(cb.balance == 0);
        chain_receipt_free(&r);
        chain_tx_free(&a);

        char params[64];
        snprintf(params, sizeof params, "[{\"model\": %lld}]", (long long)mid);
        json_t *l = call("attribution_list", params);
        assert_int_equal(json_array_size(items(l)), 0);
        json_decref(l);
        snprintf(params, sizeof params, "[%lld]", (long long)mid);
        json_t *m = call("model_get", params);
        assert_int_equal(num(m, "inferences"), 0);
        assert_string_equal(str(m, "fees"), "0");
        json_decref(m);
        c4 = call("contribution_get", "[4]");
        assert_int_equal(num(c4, "timesUsed"), used);
        json_decref(c4);
    }
}

/* Every method carries an OpenRPC description that parses. */
static void test_specs(void **state)
{
    (void)state;
    assert_int_equal(rpc_dispatch_count(g_d), 11);
    for (size_t i = 0; i < rpc_dispatch_count(g_d); i++) {
        const rpc_method_spec *sp = rpc_dispatch_spec(g_d, i);
        if (!sp) fail_msg("%s has no spec", rpc_dispatch_name(g_d, i));
        json_error_t je;
        json_t *p = json_loads(sp->params, 0, &je);
        if (!json_is_array(p)) fail_msg("%s params: %s", rpc_dispatch_name(g_d, i), je.text);
        json_t *r = json_loads(sp->result, 0, &je);
        if (!json_is_object(r)) fail_msg("%s result: %s", rpc_dispatch_name(g_d, i), je.text);
        assert_true(strlen(sp->summary) > 0);
        json_decref(p);
        json_decref(r);
    }
}

/* More payouts than contributor_impact scans: the answer says so, and the
 * exact totals still come from state and the earnings-by-model index. Runs last: it adds to the
 * story. */
static void test_impact_truncated(void **state)
{
    (void)state;
    enum { NC = CHAIN_ATTR_MAX_ENTRIES, NR = 40, WHO = 7 };
    chain_tx *txs = calloc(NC, sizeof *txs);
    chain_receipt *rs = calloc(NC, sizeof *rs);
    assert_non_null(txs);
    assert_non_null(rs);
    uint64_t first = 0;
    for (size_t i = 0; i < NC; i++) {
        chain_tx tx = mk(WHO, CHAIN_TX_CONTRIBUTE);
        tx.body.contribute.datanet = 2;
        chain_sha256(tx.body.contribute.content_hash, &i, sizeof i);
        txs[i] = sign(tx, WHO);
    }
    make_block(txs, NC, rs);
    for (size_t i = 0; i < NC; i++) {
        assert_int_equal(rs[i].status, CHAIN_RECEIPT_OK);
        chain_receipt_free(&rs[i]);
        chain_tx_free(&txs[i]);
    }
    json_t *c = call("contribution_list", "[{\"datanet\": 2}, null, 1, \"desc\"]");
    first = (uint64_t)num(json_array_get(items(c), 0), "id") - NC + 1;
    json_decref(c);
    chain_attr_entry es[NC];
    for (size_t i = 0; i < NC; i++)
        es[i] = (chain_attr_entry){first + i, 1};
    for (size_t i = 0; i < NR; i++)
        txs[i] = attribute(ATTESTOR, 1, 256000, NC, es);
    make_block(txs, NR, rs);
    for (size_t i = 0; i < NR; i++) {
        if (rs[i].status != CHAIN_RECEIPT_OK) fail_msg("record %zu: %s", i, rs[i].error);
        chain_receipt_free(&rs[i]);
        chain_tx_free(&txs[i]);
    }
    free(txs);
    free(rs);

    char params[128];
    snprintf(params, sizeof params, "[\"%s\", 100]", dev_str(WHO));
    json_t *im = call("contributor_impact", params);
    /* 256,000 x 70 % / 256 entries = 700 per payout. */
    assert_string_equal(str(im, "earned"), "7168000");
    assert_int_equal(num(im, "payouts"), NC * NR);
    assert_true(json_is_true(json_object_get(im, "payoutsTruncated")));
    assert_true(json_is_false(json_object_get(im, "contributionsTruncated")));
    /* byModel is exact (the earnings-by-model index), whatever the scan read. */
    json_t *bm = json_array_get(json_object_get(im, "byModel"), 0);
    assert_string_equal(str(bm, "earned"), "7168000");
    assert_int_equal(num(bm, "payouts"), NC * NR);
    assert_int_equal(num(bm, "records"), NR);
    assert_true(json_is_false(json_object_get(im, "modelsTruncated")));
    json_t *bd = json_array_get(json_object_get(im, "byDatanet"), 0);
    assert_string_equal(str(bd, "earned"), "7168000"); /* exact: from the contributions */
    assert_int_equal(num(bd, "contributions"), NC);
    assert_int_equal(json_array_size(json_object_get(im, "recentPayouts")), 100);
    json_decref(im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datanet),          cmocka_unit_test(test_paging),
        cmocka_unit_test(test_contributions),    cmocka_unit_test(test_models),
        cmocka_unit_test(test_records),          cmocka_unit_test(test_impact),
        cmocka_unit_test(test_tx_body_json),     cmocka_unit_test(test_specs),
        cmocka_unit_test(test_failing_contract), cmocka_unit_test(test_impact_truncated),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
