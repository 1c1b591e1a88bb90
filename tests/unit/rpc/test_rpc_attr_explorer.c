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

#include "tests/unit/attr_fixture.h"

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

static uint64_t g_day;      /* D: the day of block 4; block 5 is at D + 1's midnight */
static uint64_t g_midnight; /* the start of day D + 1, ms */

#define HOUR 3600000ull

/* This story's own datanet, contribution and ATTRIBUTE bodies: barer than
 * afx_datanet and the others (no URIs, size 100, the gradient method). */
static chain_tx datanet(const char *name)
{
    chain_tx tx = afx_tx(AFX_OWNER, CHAIN_TX_DATANET_CREATE);
    assert_int_equal(chain_tx_set_str(&tx.body.datanet_create.name, name, CHAIN_NAME_MAX), 0);
    return afx_sign(tx, AFX_OWNER);
}

static chain_tx contribute(uint32_t dev, uint64_t ds, uint8_t fill)
{
    chain_tx tx = afx_tx(dev, CHAIN_TX_CONTRIBUTE);
    tx.body.contribute.datanet = ds;
    memset(tx.body.contribute.content_hash, fill, 32);
    tx.body.contribute.size = 100;
    return afx_sign(tx, dev);
}

static chain_tx attribute(uint64_t m, uint64_t fee, uint32_t n, const chain_attr_entry *es)
{
    chain_tx tx = afx_tx(AFX_ATTESTOR, CHAIN_TX_ATTRIBUTE);
    chain_tx_attribute *b = &tx.body.attribute;
    b->model = m;
    b->fee = fee;
    b->method = CHAIN_ATTR_GRADIENT;
    b->nentries = n;
    b->entries = malloc(n * sizeof *es);
    assert_non_null(b->entries);
    memcpy(b->entries, es, n * sizeof *es);
    return afx_sign(tx, AFX_ATTESTOR);
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
    afx_open("rpc-explorer", 16);
    g_day = CHAIN_DAY_OF(chain_store_head_header(afx.st)->time_ms) + 1;
    g_midnight = (g_day + 1) * CHAIN_DAY_MS;

    chain_tx b1[] = {datanet("one"), datanet("two")};
    afx_block_ok_at(b1, 2, g_midnight - 10 * HOUR);
    chain_tx b2[] = {contribute(1, 1, 1), contribute(2, 1, 2), contribute(1, 2, 3),
                     contribute(3, 2, 4)};
    afx_block_ok_at(b2, 4, g_midnight - 9 * HOUR);
    chain_tx b3[] = {afx_model(AFX_MOWNER, "alpha", 1, 2), afx_model(AFX_MOWNER, "beta", 2, 0)};
    afx_block_ok_at(b3, 2, g_midnight - 8 * HOUR);
    chain_attr_entry e1[] = {{1, 1}, {2, 1}}, e2[] = {{1, 3}, {3, 1}}, e3[] = {{3, 1}, {4, 1}},
                     e4[] = {{2, 1}};
    chain_tx b4[] = {attribute(1, 1000000, 2, e1), attribute(1, 2000000, 2, e2)};
    afx_block_ok_at(b4, 2, g_midnight - 1);
    chain_tx b5[] = {attribute(2, 500000, 2, e3)};
    afx_block_ok_at(b5, 1, g_midnight);
    chain_tx b6[] = {attribute(1, 10000, 1, e4)};
    afx_block_ok_at(b6, 1, g_midnight + CHAIN_DAY_MS + 5000);

    assert_int_equal(rpc_methods_attr_register(afx.d, &afx.api), 0);
    return 0;
}

/* A SERIES's buckets sum to total - before; returns the buckets. */
static json_t *checked_buckets(json_t *series)
{
    json_t *bs = json_object_get(series, "buckets");
    assert_true(json_is_array(bs));
    uint64_t a = afx_amount(json_object_get(series, "before"), "amount");
    uint64_t c = (uint64_t)afx_num(json_object_get(series, "before"), "count");
    uint64_t last = 0;
    for (size_t i = 0; i < json_array_size(bs); i++) {
        json_t *b = json_array_get(bs, i);
        a += afx_amount(b, "amount");
        c += (uint64_t)afx_num(b, "count");
        uint64_t at = (uint64_t)afx_num(b, json_object_get(b, "day") ? "day" : "height");
        if (i) assert_true(at > last); /* in order, each once */
        last = at;
    }
    assert_int_equal(a, afx_amount(json_object_get(series, "total"), "amount"));
    assert_int_equal(c, (uint64_t)afx_num(json_object_get(series, "total"), "count"));
    return bs;
}

static json_t *impact_series(uint32_t dev, const char *spec)
{
    char params[256];
    snprintf(params, sizeof params, "[\"%s\", 0, %s]", afx_dev_str(dev), spec);
    return afx_call("contributor_impact", params);
}

static void test_lists_without_filter(void **state)
{
    (void)state;
    json_t *l = afx_call("attribution_list", "[null, null, 3, \"desc\"]");
    assert_int_equal(json_array_size(afx_items(l)), 3);
    json_t *r4 = json_array_get(afx_items(l), 0), *r3 = json_array_get(afx_items(l), 1),
           *r2 = json_array_get(afx_items(l), 2);
    assert_int_equal(afx_num(r4, "id"), 4);
    assert_int_equal(afx_num(r3, "id"), 3);
    assert_int_equal(afx_num(r2, "id"), 2);
    /* What a front-page row shows, with no other call. */
    assert_string_equal(afx_str(r4, "modelName"), "alpha");
    assert_string_equal(afx_str(r3, "modelName"), "beta");
    assert_string_equal(afx_str(r4, "fee"), "10000");
    assert_int_equal(afx_num(r4, "timeMs"), (json_int_t)(g_midnight + CHAIN_DAY_MS + 5000));
    assert_int_equal(afx_num(r3, "timeMs"), (json_int_t)g_midnight);
    assert_int_equal(afx_num(r2, "timeMs"), (json_int_t)(g_midnight - 1));
    /* owner, validator, c1, c3 (and no remainder: 2,000,000 divides evenly) */
    assert_int_equal(afx_num(r2, "payoutCount"), 4);
    assert_int_equal(afx_num(r2, "payoutCount"),
                     (json_int_t)json_array_size(json_object_get(r2, "payouts")));
    char params[256];
    snprintf(params, sizeof params, "[{}, \"%s\", 3, \"desc\"]", afx_str(l, "nextCursor"));
    json_t *l2 = afx_call("attribution_list", params);
    assert_int_equal(json_array_size(afx_items(l2)), 1);
    assert_int_equal(afx_num(json_array_get(afx_items(l2), 0), "id"), 1);
    assert_true(json_is_null(json_object_get(l2, "nextCursor")));
    json_decref(l);
    json_decref(l2);
    json_t *g = afx_call("attribution_get", "[1]");
    assert_string_equal(afx_str(g, "modelName"), "alpha");
    assert_int_equal(afx_num(g, "timeMs"), (json_int_t)(g_midnight - 1));
    json_decref(g);

    l = afx_call("contribution_list", "[null, null, 100, \"desc\"]");
    assert_int_equal(json_array_size(afx_items(l)), 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(afx_num(json_array_get(afx_items(l), i), "id"), (json_int_t)(4 - i));
    json_decref(l);
    afx_call_fails("attribution_list", "[null, null, 101]", RPC_INVALID_PARAMS, "limit");
    afx_call_fails("attribution_list", "[null, \"zz\"]", RPC_INVALID_PARAMS, "cursor");
}

static void test_earnings_by_day(void **state)
{
    (void)state;
    char spec[128];
    snprintf(spec, sizeof spec, "{\"bucket\": \"day\", \"from\": %llu, \"to\": %llu}",
             (unsigned long long)g_day - 1, (unsigned long long)g_day + 2);
    json_t *im = impact_series(1, spec);
    json_t *s = json_object_get(im, "earnings");
    assert_string_equal(afx_str(s, "bucket"), "day");
    json_t *bs = checked_buckets(s);
    /* The sums equal the exact totals from state. */
    assert_string_equal(afx_str(json_object_get(s, "total"), "amount"), afx_str(im, "earned"));
    assert_int_equal(afx_num(json_object_get(s, "total"), "count"), afx_num(im, "payouts"));
    assert_string_equal(afx_str(im, "earned"), "1925000");
    /* 23:59:59.999 is day D, 00:00:00.000 is day D + 1. */
    assert_int_equal(json_array_size(bs), 2);
    json_t *d0 = json_array_get(bs, 0), *d1 = json_array_get(bs, 1);
    assert_int_equal(afx_num(d0, "day"), (json_int_t)g_day);
    assert_int_equal(afx_num(d0, "startMs"), (json_int_t)(g_day * CHAIN_DAY_MS));
    assert_string_equal(afx_str(d0, "amount"), "1750000");
    assert_int_equal(afx_num(d0, "count"), 3);
    assert_int_equal(afx_num(d1, "day"), (json_int_t)g_day + 1);
    assert_int_equal(afx_num(d1, "startMs"), (json_int_t)g_midnight);
    assert_string_equal(afx_str(d1, "amount"), "175000");
    assert_int_equal(afx_num(d1, "count"), 1);
    json_decref(im);

    /* A range that starts after some earnings: before carries them. */
    snprintf(spec, sizeof spec, "{\"from\": %llu, \"to\": %llu}", (unsigned long long)g_day + 1,
             (unsigned long long)g_day + 1);
    im = impact_series(1, spec);
    s = json_object_get(im, "earnings");
    bs = checked_buckets(s);
    assert_string_equal(afx_str(json_object_get(s, "before"), "amount"), "1750000");
    assert_int_equal(json_array_size(bs), 1);
    json_decref(im);

    /* dev2: day D and D + 2, nothing on D + 1; the default range ends at
     * the head's day (D + 2). */
    im = impact_series(2, "{}");
    s = json_object_get(im, "earnings");
    assert_int_equal(afx_num(s, "to"), (json_int_t)g_day + 2);
    assert_int_equal(afx_num(s, "from"), (json_int_t)g_day + 2 - (RPC_ATTR_DAYS_DEFAULT - 1));
    bs = checked_buckets(s);
    assert_int_equal(json_array_size(bs), 2);
    assert_int_equal(afx_num(json_array_get(bs, 0), "day"), (json_int_t)g_day);
    assert_int_equal(afx_num(json_array_get(bs, 1), "day"), (json_int_t)g_day + 2);
    assert_string_equal(afx_str(json_array_get(bs, 1), "amount"), "7000");
    assert_string_equal(afx_str(json_object_get(s, "total"), "amount"), afx_str(im, "earned"));
    json_decref(im);

    /* Without series, no earnings field. */
    char params[128];
    snprintf(params, sizeof params, "[\"%s\"]", afx_dev_str(1));
    im = afx_call("contributor_impact", params);
    assert_null(json_object_get(im, "earnings"));
    json_decref(im);
}

static void test_earnings_by_block(void **state)
{
    (void)state;
    json_t *im = impact_series(1, "{\"bucket\": \"block\", \"from\": 0, \"to\": 6}");
    json_t *s = json_object_get(im, "earnings");
    json_t *bs = checked_buckets(s);
    assert_string_equal(afx_str(json_object_get(s, "total"), "amount"), "1925000");
    assert_int_equal(json_array_size(bs), 2);
    /* Two records in block 4 pay dev1 three times: one bucket. */
    assert_int_equal(afx_num(json_array_get(bs, 0), "height"), 4);
    assert_int_equal(afx_num(json_array_get(bs, 0), "timeMs"), (json_int_t)(g_midnight - 1));
    assert_string_equal(afx_str(json_array_get(bs, 0), "amount"), "1750000");
    assert_int_equal(afx_num(json_array_get(bs, 0), "count"), 3);
    assert_int_equal(afx_num(json_array_get(bs, 1), "height"), 5);
    json_decref(im);
    /* Default: the last 100 blocks up to the head. */
    im = impact_series(3, "{\"bucket\": \"block\"}");
    s = json_object_get(im, "earnings");
    assert_int_equal(afx_num(s, "to"), 6);
    assert_int_equal(afx_num(s, "from"), 0);
    bs = checked_buckets(s);
    assert_int_equal(json_array_size(bs), 1);
    assert_string_equal(afx_str(json_array_get(bs, 0), "amount"), "175000");
    json_decref(im);
    /* An address that never earned: empty, zeros. */
    im = impact_series(9, "{\"bucket\": \"block\"}");
    s = json_object_get(im, "earnings");
    assert_int_equal(json_array_size(checked_buckets(s)), 0);
    assert_string_equal(afx_str(json_object_get(s, "total"), "amount"), "0");
    json_decref(im);
}

static void test_model_fees(void **state)
{
    (void)state;
    char params[160];
    snprintf(params, sizeof params, "[1, {\"from\": %llu, \"to\": %llu}]",
             (unsigned long long)g_day, (unsigned long long)g_day + 2);
    json_t *f = afx_call("model_fees", params);
    assert_string_equal(afx_str(f, "name"), "alpha");
    assert_string_equal(afx_str(f, "fees"), "3010000");
    assert_int_equal(afx_num(f, "inferences"), 3);
    json_t *s = json_object_get(f, "series");
    json_t *bs = checked_buckets(s);
    assert_string_equal(afx_str(json_object_get(s, "total"), "amount"), afx_str(f, "fees"));
    assert_int_equal(afx_num(json_object_get(s, "total"), "count"), afx_num(f, "inferences"));
    assert_int_equal(json_array_size(bs), 2);
    assert_int_equal(afx_num(json_array_get(bs, 0), "day"), (json_int_t)g_day);
    assert_string_equal(afx_str(json_array_get(bs, 0), "amount"), "3000000");
    assert_int_equal(afx_num(json_array_get(bs, 0), "count"), 2);
    assert_int_equal(afx_num(json_array_get(bs, 1), "day"), (json_int_t)g_day + 2);
    json_decref(f);
    f = afx_call("model_fees", "[2, {\"bucket\": \"block\", \"from\": 5, \"to\": 5}]");
    bs = checked_buckets(json_object_get(f, "series"));
    assert_int_equal(json_array_size(bs), 1);
    assert_string_equal(afx_str(json_array_get(bs, 0), "amount"), "500000");
    assert_int_equal(afx_num(json_array_get(bs, 0), "timeMs"), (json_int_t)g_midnight);
    json_decref(f);
    f = afx_call("model_fees", "[2]"); /* default: days */
    assert_string_equal(afx_str(json_object_get(f, "series"), "bucket"), "day");
    json_decref(f);
    afx_call_fails("model_fees", "[3]", RPC_NOT_FOUND, "model 3");
    afx_call_fails("model_fees", "[]", RPC_INVALID_PARAMS, NULL);
}

static void test_limits(void **state)
{
    (void)state;
    /* 1,000 buckets pass, 1,001 do not; the message names the parameter. */
    json_t *f = afx_call("model_fees", "[1, {\"bucket\": \"block\", \"from\": 0, \"to\": 999}]");
    json_decref(f);
    afx_call_fails("model_fees", "[1, {\"bucket\": \"block\", \"from\": 0, \"to\": 1000}]",
                   RPC_INVALID_PARAMS, "at most 1000");
    afx_call_fails("model_fees", "[1, {\"from\": 5, \"to\": 4}]", RPC_INVALID_PARAMS,
                   "before from");
    afx_call_fails("model_fees", "[1, {\"bucket\": \"week\"}]", RPC_INVALID_PARAMS, "bucket");
    afx_call_fails("model_fees", "[1, {\"to\": -1}]", RPC_INVALID_PARAMS, "to");
    afx_call_fails("model_fees", "[1, {\"step\": 1}]", RPC_INVALID_PARAMS, "unknown field");
    afx_call_fails("model_fees", "[1, 7]", RPC_INVALID_PARAMS, "series");
    char params[128];
    snprintf(params, sizeof params, "[\"%s\", 0, {\"from\": 0, \"to\": 5000}]", afx_dev_str(1));
    afx_call_fails("contributor_impact", params, RPC_INVALID_PARAMS, "param 2 (series)");
    afx_call_fails("contributor_top", "[null, null, 0]", RPC_INVALID_PARAMS, "limit");
    afx_call_fails("contributor_top", "[null, null, 101]", RPC_INVALID_PARAMS, "limit");
    afx_call_fails("contributor_top", "[null, \"00\"]", RPC_INVALID_PARAMS, "cursor");
    afx_call_fails("contributor_top", "[{\"datanet\": 1}]", RPC_INVALID_PARAMS, "filter");
    afx_call_fails("contributor_top", "[{\"model\": 9}]", RPC_NOT_FOUND, "model 9");
}

static void test_top(void **state)
{
    (void)state;
    json_t *t = afx_call("contributor_top", "[null, null, 2]");
    assert_int_equal(json_array_size(afx_items(t)), 2);
    json_t *a = json_array_get(afx_items(t), 0), *b = json_array_get(afx_items(t), 1);
    assert_int_equal(afx_num(a, "rank"), 1);
    assert_string_equal(afx_str(a, "address"), afx_dev_str(1));
    assert_string_equal(afx_str(a, "earned"), "1925000");
    assert_int_equal(afx_num(a, "payouts"), 4);
    assert_true(json_is_null(json_object_get(a, "records")));
    assert_int_equal(afx_num(b, "rank"), 2);
    assert_string_equal(afx_str(b, "address"), afx_dev_str(2));
    assert_string_equal(afx_str(b, "earned"), "357000");
    char params[256];
    snprintf(params, sizeof params, "[{}, \"%s\", 2]", afx_str(t, "nextCursor"));
    json_t *t2 = afx_call("contributor_top", params);
    assert_int_equal(json_array_size(afx_items(t2)), 1);
    assert_int_equal(afx_num(json_array_get(afx_items(t2), 0), "rank"), 3);
    assert_string_equal(afx_str(json_array_get(afx_items(t2), 0), "address"), afx_dev_str(3));
    assert_true(json_is_null(json_object_get(t2, "nextCursor")));
    json_decref(t);
    json_decref(t2);

    /* Of model 1: dev1 1,750,000 (3 payouts in 2 records), dev2 357,000. */
    t = afx_call("contributor_top", "[{\"model\": 1}]");
    assert_int_equal(json_array_size(afx_items(t)), 2);
    a = json_array_get(afx_items(t), 0);
    assert_string_equal(afx_str(a, "address"), afx_dev_str(1));
    assert_string_equal(afx_str(a, "earned"), "1750000");
    assert_int_equal(afx_num(a, "payouts"), 3);
    assert_int_equal(afx_num(a, "records"), 2);
    assert_string_equal(afx_str(json_array_get(afx_items(t), 1), "earned"), "357000");
    json_decref(t);
    /* Of model 2: a tie, the higher address first. */
    t = afx_call("contributor_top", "[{\"model\": \"2\"}]");
    assert_int_equal(json_array_size(afx_items(t)), 2);
    const char *x = afx_str(json_array_get(afx_items(t), 0), "address"),
               *y = afx_str(json_array_get(afx_items(t), 1), "address");
    chain_addr ax, ay;
    util_err ue = {0};
    assert_int_equal(chain_addr_decode(&ax, x, &ue), 0);
    assert_int_equal(chain_addr_decode(&ay, y, &ue), 0);
    assert_true(memcmp(ax.b, ay.b, CHAIN_ADDR_LEN) > 0);
    assert_string_equal(afx_str(json_array_get(afx_items(t), 0), "earned"), "175000");
    json_decref(t);

    /* The address page's breakdown by model is exact and sums to earned. */
    snprintf(params, sizeof params, "[\"%s\"]", afx_dev_str(1));
    json_t *im = afx_call("contributor_impact", params);
    json_t *bm = json_object_get(im, "byModel");
    assert_int_equal(json_array_size(bm), 2);
    assert_int_equal(afx_num(json_array_get(bm, 0), "model"), 1);
    assert_string_equal(afx_str(json_array_get(bm, 0), "name"), "alpha");
    assert_int_equal(afx_num(json_array_get(bm, 0), "records"), 2);
    assert_int_equal(afx_num(json_array_get(bm, 1), "model"), 2);
    assert_int_equal(afx_amount(json_array_get(bm, 0), "earned") +
                         afx_amount(json_array_get(bm, 1), "earned"),
                     afx_amount(im, "earned"));
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
    assert_int_equal(
        chain_store_scan(afx.st, prefix, 1, NULL, 0, 0, SIZE_MAX, dump_visit, &b, &err), 0);
    assert_false(b.oom);
    return b;
}

/* The answers an explorer reads, as text, for comparing. */
static char *answers(void)
{
    char p1[160], p2[160];
    snprintf(p1, sizeof p1, "[\"%s\", 0, {\"bucket\": \"block\", \"from\": 0, \"to\": 20}]",
             afx_dev_str(3));
    snprintf(p2, sizeof p2, "[\"%s\", 0, {\"from\": %llu, \"to\": %llu}]", afx_dev_str(3),
             (unsigned long long)g_day - 1, (unsigned long long)g_day + 5);
    json_t *all =
        json_pack("[o,o,o,o,o,o]", afx_call("contributor_top", "[null]"),
                  afx_call("contributor_top", "[{\"model\": 2}]"),
                  afx_call("contributor_impact", p1), afx_call("contributor_impact", p2),
                  afx_call("model_fees", "[2, {\"bucket\": \"block\", \"from\": 0, \"to\": 20}]"),
                  afx_call("attribution_list", "[null, null, 100, \"desc\"]"));
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
    afx_block_ok_at(b7, 1, g_midnight + 2 * CHAIN_DAY_MS + 1);
    json_t *t = afx_call("contributor_top", "[null]");
    assert_string_equal(afx_str(json_array_get(afx_items(t), 1), "address"), afx_dev_str(3));
    assert_string_equal(afx_str(json_array_get(afx_items(t), 1), "earned"), "875000");
    assert_int_equal(json_array_size(afx_items(t)), 3); /* dev3's old key is gone */
    json_decref(t);
    char *ans7 = answers();
    assert_string_not_equal(ans, ans7);

    util_err err = {0};
    if (chain_store_rollback(afx.st, 6, &err)) fail_msg("rollback: %s", err.msg);
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
    return cmocka_run_group_tests(tests, setup, afx_teardown);
}
