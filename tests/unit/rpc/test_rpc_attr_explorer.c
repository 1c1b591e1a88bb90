/* The explorer's attribution answers in-process, on a real store whose state
 * was built by executing and committing real attribution transactions at
 * chosen block times around a UTC midnight: lists without a filter and the
 * record rows, earnings and fees per day and per block (sums equal the
 * totals, a block at 23:59:59.999 and one at 00:00:00.000 fall on either
 * side), the exact earnings by model, the rankings and their pages, the
 * refused limits, and a rollback that takes a block's index entries back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/state/attr_ix.h"
#include "chain/state/dbkey.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "chain/types/attr.h"
#include "rpc/methods/attr.h"
#include "rpc/params.h"
#include "util/bytes.h"

static char g_dir[256];
static chain_store *g_st;
static rpc_dispatch *g_d;
static rpc_env g_api;
static uint64_t g_nonce[16];
static uint64_t g_day;      /* D: the day of block 4; block 5 is at D + 1's midnight */
static uint64_t g_midnight; /* the start of day D + 1, ms */

#define PROPOSER 1000
#define OWNER 0
#define MOWNER 4
#define ATTESTOR 5
#define HOUR 3600000ull

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

static chain_tx datanet(const char *name)
{
    chain_tx tx = mk(OWNER, CHAIN_TX_DATANET_CREATE);
    assert_int_equal(chain_tx_set_str(&tx.body.datanet_create.name, name, CHAIN_NAME_MAX), 0);
    return sign(tx, OWNER);
}

static chain_tx contribute(uint32_t dev, uint64_t ds, uint8_t fill)
{
    chain_tx tx = mk(dev, CHAIN_TX_CONTRIBUTE);
    tx.body.contribute.datanet = ds;
    memset(tx.body.contribute.content_hash, fill, 32);
    tx.body.contribute.size = 100;
    return sign(tx, dev);
}

static chain_tx model(const char *name, uint64_t d1, uint64_t d2)
{
    chain_tx tx = mk(MOWNER, CHAIN_TX_MODEL_REGISTER);
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
    return sign(tx, MOWNER);
}

static chain_tx attribute(uint64_t m, uint64_t fee, uint32_t n, const chain_attr_entry *es)
{
    chain_tx tx = mk(ATTESTOR, CHAIN_TX_ATTRIBUTE);
    chain_tx_attribute *b = &tx.body.attribute;
    b->model = m;
    b->fee = fee;
    b->method = CHAIN_ATTR_GRADIENT;
    b->nentries = n;
    b->entries = malloc(n * sizeof *es);
    assert_non_null(b->entries);
    memcpy(b->entries, es, n * sizeof *es);
    return sign(tx, ATTESTOR);
}

/* Executes and commits txs as the next block at time_ms; every tx succeeds. */
static void block_at(chain_tx *txs, size_t n, uint64_t time_ms)
{
    const chain_header *parent = chain_store_head_header(g_st);
    assert_true(time_ms > parent->time_ms);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", fx_devnet()->chain_id);
    b.h.height = parent->height + 1;
    chain_store_head_id(g_st, b.h.parent);
    b.h.time_ms = time_ms;
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
    chain_receipt rs[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        if (chain_exec_apply_tx(ex, &txs[i], &rs[i], &err))
            fail_msg("tx %zu not applicable: %s", i, err.msg);
        if (rs[i].status != CHAIN_RECEIPT_OK) fail_msg("tx %zu failed: %s", i, rs[i].error);
    }
    assert_int_equal(chain_exec_finish(ex, b.h.state_root, &err), 0);
    b.ntx = n;
    b.txs = txs;
    chain_block_tx_root(&b, b.h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    if (chain_store_commit_block(g_st, &b, rs, ex, &c, &err)) fail_msg("commit: %s", err.msg);
    chain_exec_free(ex);
    for (size_t i = 0; i < n; i++) {
        chain_receipt_free(&rs[i]);
        chain_tx_free(&txs[i]);
    }
}

/* The story (fees split 20 / 10 / 70 %):
 *   datanets 1, 2; contributions 1 (dev1, ds1), 2 (dev2, ds1), 3 (dev1, ds2),
 *   4 (dev3, ds2); model 1 "alpha" (ds 1, 2), model 2 "beta" (ds 2);
 *   block 4 at D 23:59:59.999: record 1 (model 1, fee 1,000,000, c1 w1, c2 w1)
 *     -> dev1 350,000, dev2 350,000; record 2 (model 1, fee 2,000,000, c1 w3,
 *     c3 w1) -> dev1 1,050,000 + 350,000;
 *   block 5 at D + 1 00:00:00.000: record 3 (model 2, fee 500,000, c3 w1,
 *     c4 w1) -> dev1 175,000, dev3 175,000;
 *   block 6 at D + 2 00:00:05: record 4 (model 1, fee 10,000, c2) -> dev2 7,000.
 * Totals: dev1 1,925,000 in 4 payouts, dev2 357,000 in 2, dev3 175,000 in 1. */
static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-rpc-explorer-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    util_err err = {0};
    chain_store_opts o = {.undo_blocks = 16};
    assert_int_equal(chain_store_open_opts(&g_st, g_dir, &o, &err), 0);
    assert_int_equal(chain_store_init_genesis(g_st, fx_devnet(), &err), 0);
    g_day = CHAIN_DAY_OF(chain_store_head_header(g_st)->time_ms) + 1;
    g_midnight = (g_day + 1) * CHAIN_DAY_MS;

    chain_tx b1[] = {datanet("one"), datanet("two")};
    block_at(b1, 2, g_midnight - 10 * HOUR);
    chain_tx b2[] = {contribute(1, 1, 1), contribute(2, 1, 2), contribute(1, 2, 3),
                     contribute(3, 2, 4)};
    block_at(b2, 4, g_midnight - 9 * HOUR);
    chain_tx b3[] = {model("alpha", 1, 2), model("beta", 2, 0)};
    block_at(b3, 2, g_midnight - 8 * HOUR);
    chain_attr_entry e1[] = {{1, 1}, {2, 1}}, e2[] = {{1, 3}, {3, 1}}, e3[] = {{3, 1}, {4, 1}},
                     e4[] = {{2, 1}};
    chain_tx b4[] = {attribute(1, 1000000, 2, e1), attribute(1, 2000000, 2, e2)};
    block_at(b4, 2, g_midnight - 1);
    chain_tx b5[] = {attribute(2, 500000, 2, e3)};
    block_at(b5, 1, g_midnight);
    chain_tx b6[] = {attribute(1, 10000, 1, e4)};
    block_at(b6, 1, g_midnight + CHAIN_DAY_MS + 5000);

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

/* A SERIES's buckets sum to total - before; returns the buckets. */
static json_t *checked_buckets(json_t *series)
{
    json_t *bs = json_object_get(series, "buckets");
    assert_true(json_is_array(bs));
    uint64_t a = amount(json_object_get(series, "before"), "amount");
    uint64_t c = (uint64_t)num(json_object_get(series, "before"), "count");
    uint64_t last = 0;
    for (size_t i = 0; i < json_array_size(bs); i++) {
        json_t *b = json_array_get(bs, i);
        a += amount(b, "amount");
        c += (uint64_t)num(b, "count");
        uint64_t at = (uint64_t)num(b, json_object_get(b, "day") ? "day" : "height");
        if (i) assert_true(at > last); /* in order, each once */
        last = at;
    }
    assert_int_equal(a, amount(json_object_get(series, "total"), "amount"));
    assert_int_equal(c, (uint64_t)num(json_object_get(series, "total"), "count"));
    return bs;
}

static json_t *impact_series(uint32_t dev, const char *spec)
{
    char params[256];
    snprintf(params, sizeof params, "[\"%s\", 0, %s]", dev_str(dev), spec);
    return call("contributor_impact", params);
}

static void test_lists_without_filter(void **state)
{
    (void)state;
    json_t *l = call("attribution_list", "[null, null, 3, \"desc\"]");
    assert_int_equal(json_array_size(items(l)), 3);
    json_t *r4 = json_array_get(items(l), 0), *r3 = json_array_get(items(l), 1),
           *r2 = json_array_get(items(l), 2);
    assert_int_equal(num(r4, "id"), 4);
    assert_int_equal(num(r3, "id"), 3);
    assert_int_equal(num(r2, "id"), 2);
    /* What a front-page row shows, with no other call. */
    assert_string_equal(str(r4, "modelName"), "alpha");
    assert_string_equal(str(r3, "modelName"), "beta");
    assert_string_equal(str(r4, "fee"), "10000");
    assert_int_equal(num(r4, "timeMs"), (json_int_t)(g_midnight + CHAIN_DAY_MS + 5000));
    assert_int_equal(num(r3, "timeMs"), (json_int_t)g_midnight);
    assert_int_equal(num(r2, "timeMs"), (json_int_t)(g_midnight - 1));
    /* owner, validator, c1, c3 (and no remainder: 2,000,000 divides evenly) */
    assert_int_equal(num(r2, "payoutCount"), 4);
    assert_int_equal(num(r2, "payoutCount"),
                     (json_int_t)json_array_size(json_object_get(r2, "payouts")));
    char params[256];
    snprintf(params, sizeof params, "[{}, \"%s\", 3, \"desc\"]", str(l, "nextCursor"));
    json_t *l2 = call("attribution_list", params);
    assert_int_equal(json_array_size(items(l2)), 1);
    assert_int_equal(num(json_array_get(items(l2), 0), "id"), 1);
    assert_true(json_is_null(json_object_get(l2, "nextCursor")));
    json_decref(l);
    json_decref(l2);
    json_t *g = call("attribution_get", "[1]");
    assert_string_equal(str(g, "modelName"), "alpha");
    assert_int_equal(num(g, "timeMs"), (json_int_t)(g_midnight - 1));
    json_decref(g);

    l = call("contribution_list", "[null, null, 100, \"desc\"]");
    assert_int_equal(json_array_size(items(l)), 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(num(json_array_get(items(l), i), "id"), (json_int_t)(4 - i));
    json_decref(l);
    call_fails("attribution_list", "[null, null, 101]", RPC_INVALID_PARAMS, "limit");
    call_fails("attribution_list", "[null, \"zz\"]", RPC_INVALID_PARAMS, "cursor");
}

static void test_earnings_by_day(void **state)
{
    (void)state;
    char spec[128];
    snprintf(spec, sizeof spec, "{\"bucket\": \"day\", \"from\": %llu, \"to\": %llu}",
             (unsigned long long)g_day - 1, (unsigned long long)g_day + 2);
    json_t *im = impact_series(1, spec);
    json_t *s = json_object_get(im, "earnings");
    assert_string_equal(str(s, "bucket"), "day");
    json_t *bs = checked_buckets(s);
    /* The sums equal the exact totals from state. */
    assert_string_equal(str(json_object_get(s, "total"), "amount"), str(im, "earned"));
    assert_int_equal(num(json_object_get(s, "total"), "count"), num(im, "payouts"));
    assert_string_equal(str(im, "earned"), "1925000");
    /* 23:59:59.999 is day D, 00:00:00.000 is day D + 1. */
    assert_int_equal(json_array_size(bs), 2);
    json_t *d0 = json_array_get(bs, 0), *d1 = json_array_get(bs, 1);
    assert_int_equal(num(d0, "day"), (json_int_t)g_day);
    assert_int_equal(num(d0, "startMs"), (json_int_t)(g_day * CHAIN_DAY_MS));
    assert_string_equal(str(d0, "amount"), "1750000");
    assert_int_equal(num(d0, "count"), 3);
    assert_int_equal(num(d1, "day"), (json_int_t)g_day + 1);
    assert_int_equal(num(d1, "startMs"), (json_int_t)g_midnight);
    assert_string_equal(str(d1, "amount"), "175000");
    assert_int_equal(num(d1, "count"), 1);
    json_decref(im);

    /* A range that starts after some earnings: before carries them. */
    snprintf(spec, sizeof spec, "{\"from\": %llu, \"to\": %llu}", (unsigned long long)g_day + 1,
             (unsigned long long)g_day + 1);
    im = impact_series(1, spec);
    s = json_object_get(im, "earnings");
    bs = checked_buckets(s);
    assert_string_equal(str(json_object_get(s, "before"), "amount"), "1750000");
    assert_int_equal(json_array_size(bs), 1);
    json_decref(im);

    /* dev2: day D and D + 2, nothing on D + 1; the default range ends at
     * the head's day (D + 2). */
    im = impact_series(2, "{}");
    s = json_object_get(im, "earnings");
    assert_int_equal(num(s, "to"), (json_int_t)g_day + 2);
    assert_int_equal(num(s, "from"), (json_int_t)g_day + 2 - (RPC_ATTR_DAYS_DEFAULT - 1));
    bs = checked_buckets(s);
    assert_int_equal(json_array_size(bs), 2);
    assert_int_equal(num(json_array_get(bs, 0), "day"), (json_int_t)g_day);
    assert_int_equal(num(json_array_get(bs, 1), "day"), (json_int_t)g_day + 2);
    assert_string_equal(str(json_array_get(bs, 1), "amount"), "7000");
    assert_string_equal(str(json_object_get(s, "total"), "amount"), str(im, "earned"));
    json_decref(im);

    /* Without series, no earnings field. */
    char params[128];
    snprintf(params, sizeof params, "[\"%s\"]", dev_str(1));
    im = call("contributor_impact", params);
    assert_null(json_object_get(im, "earnings"));
    json_decref(im);
}

static void test_earnings_by_block(void **state)
{
    (void)state;
    json_t *im = impact_series(1, "{\"bucket\": \"block\", \"from\": 0, \"to\": 6}");
    json_t *s = json_object_get(im, "earnings");
    json_t *bs = checked_buckets(s);
    assert_string_equal(str(json_object_get(s, "total"), "amount"), "1925000");
    assert_int_equal(json_array_size(bs), 2);
    /* Two records in block 4 pay dev1 three times: one bucket. */
    assert_int_equal(num(json_array_get(bs, 0), "height"), 4);
    assert_int_equal(num(json_array_get(bs, 0), "timeMs"), (json_int_t)(g_midnight - 1));
    assert_string_equal(str(json_array_get(bs, 0), "amount"), "1750000");
    assert_int_equal(num(json_array_get(bs, 0), "count"), 3);
    assert_int_equal(num(json_array_get(bs, 1), "height"), 5);
    json_decref(im);
    /* Default: the last 100 blocks up to the head. */
    im = impact_series(3, "{\"bucket\": \"block\"}");
    s = json_object_get(im, "earnings");
    assert_int_equal(num(s, "to"), 6);
    assert_int_equal(num(s, "from"), 0);
    bs = checked_buckets(s);
    assert_int_equal(json_array_size(bs), 1);
    assert_string_equal(str(json_array_get(bs, 0), "amount"), "175000");
    json_decref(im);
    /* An address that never earned: empty, zeros. */
    im = impact_series(9, "{\"bucket\": \"block\"}");
    s = json_object_get(im, "earnings");
    assert_int_equal(json_array_size(checked_buckets(s)), 0);
    assert_string_equal(str(json_object_get(s, "total"), "amount"), "0");
    json_decref(im);
}

static void test_model_fees(void **state)
{
    (void)state;
    char params[160];
    snprintf(params, sizeof params, "[1, {\"from\": %llu, \"to\": %llu}]",
             (unsigned long long)g_day, (unsigned long long)g_day + 2);
    json_t *f = call("model_fees", params);
    assert_string_equal(str(f, "name"), "alpha");
    assert_string_equal(str(f, "fees"), "3010000");
    assert_int_equal(num(f, "inferences"), 3);
    json_t *s = json_object_get(f, "series");
    json_t *bs = checked_buckets(s);
    assert_string_equal(str(json_object_get(s, "total"), "amount"), str(f, "fees"));
    assert_int_equal(num(json_object_get(s, "total"), "count"), num(f, "inferences"));
    assert_int_equal(json_array_size(bs), 2);
    assert_int_equal(num(json_array_get(bs, 0), "day"), (json_int_t)g_day);
    assert_string_equal(str(json_array_get(bs, 0), "amount"), "3000000");
    assert_int_equal(num(json_array_get(bs, 0), "count"), 2);
    assert_int_equal(num(json_array_get(bs, 1), "day"), (json_int_t)g_day + 2);
    json_decref(f);
    f = call("model_fees", "[2, {\"bucket\": \"block\", \"from\": 5, \"to\": 5}]");
    bs = checked_buckets(json_object_get(f, "series"));
    assert_int_equal(json_array_size(bs), 1);
    assert_string_equal(str(json_array_get(bs, 0), "amount"), "500000");
    assert_int_equal(num(json_array_get(bs, 0), "timeMs"), (json_int_t)g_midnight);
    json_decref(f);
    f = call("model_fees", "[2]"); /* default: days */
    assert_string_equal(str(json_object_get(f, "series"), "bucket"), "day");
    json_decref(f);
    call_fails("model_fees", "[3]", RPC_NOT_FOUND, "model 3");
    call_fails("model_fees", "[]", RPC_INVALID_PARAMS, NULL);
}

static void test_limits(void **state)
{
    (void)state;
    /* 1,000 buckets pass, 1,001 do not; the message names the parameter. */
    json_t *f = call("model_fees", "[1, {\"bucket\": \"block\", \"from\": 0, \"to\": 999}]");
    json_decref(f);
    call_fails("model_fees", "[1, {\"bucket\": \"block\", \"from\": 0, \"to\": 1000}]",
               RPC_INVALID_PARAMS, "at most 1000");
    call_fails("model_fees", "[1, {\"from\": 5, \"to\": 4}]", RPC_INVALID_PARAMS, "before from");
    call_fails("model_fees", "[1, {\"bucket\": \"week\"}]", RPC_INVALID_PARAMS, "bucket");
    call_fails("model_fees", "[1, {\"to\": -1}]", RPC_INVALID_PARAMS, "to");
    call_fails("model_fees", "[1, {\"step\": 1}]", RPC_INVALID_PARAMS, "unknown field");
    call_fails("model_fees", "[1, 7]", RPC_INVALID_PARAMS, "series");
    char params[128];
    snprintf(params, sizeof params, "[\"%s\", 0, {\"from\": 0, \"to\": 5000}]", dev_str(1));
    call_fails("contributor_impact", params, RPC_INVALID_PARAMS, "param 2 (series)");
    call_fails("contributor_top", "[null, null, 0]", RPC_INVALID_PARAMS, "limit");
    call_fails("contributor_top", "[null, null, 101]", RPC_INVALID_PARAMS, "limit");
    call_fails("contributor_top", "[null, \"00\"]", RPC_INVALID_PARAMS, "cursor");
    call_fails("contributor_top", "[{\"datanet\": 1}]", RPC_INVALID_PARAMS, "filter");
    call_fails("contributor_top", "[{\"model\": 9}]", RPC_NOT_FOUND, "model 9");
}

static void test_top(void **state)
{
    (void)state;
    json_t *t = call("contributor_top", "[null, null, 2]");
    assert_int_equal(json_array_size(items(t)), 2);
    json_t *a = json_array_get(items(t), 0), *b = json_array_get(items(t), 1);
    assert_int_equal(num(a, "rank"), 1);
    assert_string_equal(str(a, "address"), dev_str(1));
    assert_string_equal(str(a, "earned"), "1925000");
    assert_int_equal(num(a, "payouts"), 4);
    assert_true(json_is_null(json_object_get(a, "records")));
    assert_int_equal(num(b, "rank"), 2);
    assert_string_equal(str(b, "address"), dev_str(2));
    assert_string_equal(str(b, "earned"), "357000");
    char params[256];
    snprintf(params, sizeof params, "[{}, \"%s\", 2]", str(t, "nextCursor"));
    json_t *t2 = call("contributor_top", params);
    assert_int_equal(json_array_size(items(t2)), 1);
    assert_int_equal(num(json_array_get(items(t2), 0), "rank"), 3);
    assert_string_equal(str(json_array_get(items(t2), 0), "address"), dev_str(3));
    assert_true(json_is_null(json_object_get(t2, "nextCursor")));
    json_decref(t);
    json_decref(t2);

    /* Of model 1: dev1 1,750,000 (3 payouts in 2 records), dev2 357,000. */
    t = call("contributor_top", "[{\"model\": 1}]");
    assert_int_equal(json_array_size(items(t)), 2);
    a = json_array_get(items(t), 0);
    assert_string_equal(str(a, "address"), dev_str(1));
    assert_string_equal(str(a, "earned"), "1750000");
    assert_int_equal(num(a, "payouts"), 3);
    assert_int_equal(num(a, "records"), 2);
    assert_string_equal(str(json_array_get(items(t), 1), "earned"), "357000");
    json_decref(t);
    /* Of model 2: a tie, the higher address first. */
    t = call("contributor_top", "[{\"model\": \"2\"}]");
    assert_int_equal(json_array_size(items(t)), 2);
    const char *x = str(json_array_get(items(t), 0), "address"),
               *y = str(json_array_get(items(t), 1), "address");
    chain_addr ax, ay;
    util_err ue = {0};
    assert_int_equal(chain_addr_decode(&ax, x, &ue), 0);
    assert_int_equal(chain_addr_decode(&ay, y, &ue), 0);
    assert_true(memcmp(ax.b, ay.b, CHAIN_ADDR_LEN) > 0);
    assert_string_equal(str(json_array_get(items(t), 0), "earned"), "175000");
    json_decref(t);

    /* The address page's breakdown by model is exact and sums to earned. */
    snprintf(params, sizeof params, "[\"%s\"]", dev_str(1));
    json_t *im = call("contributor_impact", params);
    json_t *bm = json_object_get(im, "byModel");
    assert_int_equal(json_array_size(bm), 2);
    assert_int_equal(num(json_array_get(bm, 0), "model"), 1);
    assert_string_equal(str(json_array_get(bm, 0), "name"), "alpha");
    assert_int_equal(num(json_array_get(bm, 0), "records"), 2);
    assert_int_equal(num(json_array_get(bm, 1), "model"), 2);
    assert_int_equal(amount(json_array_get(bm, 0), "earned") +
                         amount(json_array_get(bm, 1), "earned"),
                     amount(im, "earned"));
    assert_true(json_is_false(json_object_get(im, "modelsTruncated")));
    json_decref(im);
}

/* Every index entry ('x' ...) in the store, as one JSON object of hex. */
static int dump_visit(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    util_buf *b = ctx;
    util_buf_lenbytes(b, key, klen);
    util_buf_lenbytes(b, val, vlen);
    return 0;
}

static util_buf dump_index(void)
{
    util_buf b;
    util_buf_init(&b);
    uint8_t prefix[1] = {CHAIN_DB_INDEX};
    util_err err = {0};
    assert_int_equal(chain_store_scan(g_st, prefix, 1, NULL, 0, 0, SIZE_MAX, dump_visit, &b, &err),
                     0);
    assert_false(b.oom);
    return b;
}

/* The answers an explorer reads, as text, for comparing. */
static char *answers(void)
{
    char p1[160], p2[160];
    snprintf(p1, sizeof p1, "[\"%s\", 0, {\"bucket\": \"block\", \"from\": 0, \"to\": 20}]",
             dev_str(3));
    snprintf(p2, sizeof p2, "[\"%s\", 0, {\"from\": %llu, \"to\": %llu}]", dev_str(3),
             (unsigned long long)g_day - 1, (unsigned long long)g_day + 5);
    json_t *all =
        json_pack("[o,o,o,o,o,o]", call("contributor_top", "[null]"),
                  call("contributor_top", "[{\"model\": 2}]"), call("contributor_impact", p1),
                  call("contributor_impact", p2),
                  call("model_fees", "[2, {\"bucket\": \"block\", \"from\": 0, \"to\": 20}]"),
                  call("attribution_list", "[null, null, 100, \"desc\"]"));
    assert_non_null(all);
    char *s = json_dumps(all, JSON_SORT_KEYS);
    json_decref(all);
    return s;
}

/* Block 7 moves dev3 above dev2 in both rankings and adds to every series;
 * rolling it back takes every one of its index entries back: the store's
 * index keys and the answers are what they were at height 6. Runs last. */
static void test_rollback(void **state)
{
    (void)state;
    util_buf before = dump_index();
    char *ans = answers();
    chain_attr_entry e[] = {{4, 1}};
    chain_tx b7[] = {attribute(2, 1000000, 1, e)};
    block_at(b7, 1, g_midnight + 2 * CHAIN_DAY_MS + 1);
    json_t *t = call("contributor_top", "[null]");
    assert_string_equal(str(json_array_get(items(t), 1), "address"), dev_str(3));
    assert_string_equal(str(json_array_get(items(t), 1), "earned"), "875000");
    assert_int_equal(json_array_size(items(t)), 3); /* dev3's old key is gone */
    json_decref(t);
    char *ans7 = answers();
    assert_string_not_equal(ans, ans7);

    util_err err = {0};
    if (chain_store_rollback(g_st, 6, &err)) fail_msg("rollback: %s", err.msg);
    util_buf after = dump_index();
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    char *ans6 = answers();
    assert_string_equal(ans, ans6);
    free(ans);
    free(ans6);
    free(ans7);
    util_buf_free(&before);
    util_buf_free(&after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_without_filter),
        cmocka_unit_test(test_earnings_by_day),
        cmocka_unit_test(test_earnings_by_block),
        cmocka_unit_test(test_model_fees),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_top),
        cmocka_unit_test(test_rollback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
