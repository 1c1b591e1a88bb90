/* rpc_env, the one interface the methods see the node through
 * (rpc/methods/env.h): rpc_methods_register registers every family with it,
 * node_status adds the peer-to-peer layer's fields through p2p_status (and
 * none without it), admin_mempoolFlush goes through mempool_flush with the
 * env's ctx, and mempool_status reads the env's pool and limits. */
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

#include "chain/state/store.h"
#include "rpc/methods/env.h"
#include "rpc/methods/subs.h"

static char g_dir[256];
static chain_store *g_st;
static chain_mempool *g_mp;
static rpc_subs *g_hub;
static rpc_dispatch *g_d;
static rpc_env g_env;
static int g_ctx_seen; /* a hook got &g_env as its ctx */

static int acct(void *ctx, const chain_addr *a, uint64_t *balance, uint64_t *nonce)
{
    (void)ctx, (void)a;
    *balance = 0;
    *nonce = 0;
    return 0;
}

static size_t flush(void *ctx)
{
    g_ctx_seen = ctx == &g_env;
    return 7;
}

static int p2p_status(void *ctx, json_t *status)
{
    g_ctx_seen = ctx == &g_env;
    return json_object_set_new(status, "nodeId", json_string("abc")) ||
                   json_object_set_new(status, "syncing", json_true())
               ? -1
               : 0;
}

static int p2p_status_oom(void *ctx, json_t *status)
{
    (void)ctx, (void)status;
    return -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-rpc-env-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    util_err err = {0};
    assert_int_equal(chain_store_open(&g_st, g_dir, &err), 0);
    assert_int_equal(chain_store_init_genesis(g_st, fx_devnet(), &err), 0);
    chain_mempool_cfg c;
    memset(&c, 0, sizeof c);
    snprintf(c.chain_id, sizeof c.chain_id, "%s", fx_devnet()->chain_id);
    memcpy(c.genesis_hash, fx_devnet()->hash, 32);
    c.max_txs = 123;
    c.max_bytes = 4567;
    c.max_nonce_ahead = 16;
    g_mp = chain_mempool_new(&c, acct, NULL);
    assert_non_null(g_mp);
    g_hub = rpc_subs_new();
    assert_non_null(g_hub);
    g_d = rpc_dispatch_new();
    assert_non_null(g_d);
    g_env = (rpc_env){.store = g_st,
                      .genesis = fx_devnet(),
                      .mempool = g_mp,
                      .mempool_cfg = c,
                      .subs = g_hub,
                      .mempool_flush = flush,
                      .ctx = &g_env};
    g_ctx_seen = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rpc_dispatch_free(g_d);
    rpc_subs_free(g_hub);
    chain_mempool_free(g_mp);
    chain_store_close(g_st);
    fx_rm_tree(g_dir);
    return 0;
}

static int has_method(const char *name)
{
    for (size_t i = 0; i < rpc_dispatch_count(g_d); i++)
        if (strcmp(rpc_dispatch_name(g_d, i), name) == 0) return 1;
    return 0;
}

static json_t *call_ok(const rpc_call *c, const char *method)
{
    rpc_error e = {0};
    json_t *r = c ? rpc_dispatch_call_ex(g_d, c, method, NULL, &e)
                  : rpc_dispatch_call(g_d, method, NULL, &e);
    if (!r) fail_msg("%s: %d %s", method, e.code, e.message);
    rpc_error_clear(&e);
    return r;
}

/* Every family, each with the one env; discovery last. */
static void test_register_all(void **state)
{
    (void)state;
    assert_int_equal(rpc_methods_register(g_d, &g_env), 0);
    const char *names[] = {"node_status",      "chain_getBlock",      "contract_call",
                           "datanet_get",      "contributor_impact",  "chain_getGenesis",
                           "mempool_status",   "subscribe_newBlocks", "admin_mempoolFlush",
                           "admin_setLogLevel"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!has_method(names[i])) fail_msg("%s is not registered", names[i]);
    size_t n = rpc_dispatch_count(g_d);
    assert_string_equal(rpc_dispatch_name(g_d, n - 1), "rpc_discover");
}

/* Without a hub the subscription methods are left out, the rest is there. */
static void test_register_without_subs(void **state)
{
    (void)state;
    g_env.subs = NULL;
    assert_int_equal(rpc_methods_register(g_d, &g_env), 0);
    assert_false(has_method("subscribe_newBlocks"));
    assert_true(has_method("node_status"));
    assert_true(has_method("rpc_discover"));
}

static void test_node_status_without_p2p(void **state)
{
    (void)state;
    assert_int_equal(rpc_methods_register(g_d, &g_env), 0);
    json_t *r = call_ok(NULL, "node_status");
    assert_string_equal(json_string_value(json_object_get(r, "chainId")), fx_devnet()->chain_id);
    /* the chain's fields, and the L1 heads null without an L1 (rpc_env.l1_status) */
    assert_int_equal(json_object_size(r), 7 + 4);
    assert_null(json_object_get(r, "nodeId"));
    json_decref(r);
}

static void test_node_status_p2p_fields(void **state)
{
    (void)state;
    g_env.p2p_status = p2p_status;
    assert_int_equal(rpc_methods_register(g_d, &g_env), 0);
    json_t *r = call_ok(NULL, "node_status");
    assert_true(g_ctx_seen);
    assert_string_equal(json_string_value(json_object_get(r, "nodeId")), "abc");
    assert_true(json_is_true(json_object_get(r, "syncing")));
    assert_int_equal(json_integer_value(json_object_get(r, "height")), 0);
    assert_int_equal(json_object_size(r), 9 + 4);
    json_decref(r);
}

static void test_node_status_p2p_failure(void **state)
{
    (void)state;
    g_env.p2p_status = p2p_status_oom;
    assert_int_equal(rpc_methods_register(g_d, &g_env), 0);
    rpc_error e = {0};
    assert_null(rpc_dispatch_call(g_d, "node_status", NULL, &e));
    assert_int_equal(e.code, RPC_INTERNAL_ERROR);
    rpc_error_clear(&e);
}

static void test_mempool_flush_hook(void **state)
{
    (void)state;
    assert_int_equal(rpc_methods_register(g_d, &g_env), 0);
    rpc_call admin = {.admin = 1};
    json_t *r = call_ok(&admin, "admin_mempoolFlush");
    assert_true(g_ctx_seen);
    assert_int_equal(json_integer_value(json_object_get(r, "removed")), 7);
    json_decref(r);
}

static void test_mempool_status_reads_env(void **state)
{
    (void)state;
    assert_int_equal(rpc_methods_register(g_d, &g_env), 0);
    json_t *r = call_ok(NULL, "mempool_status");
    assert_int_equal(json_integer_value(json_object_get(r, "count")), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "maxCount")), 123);
    assert_int_equal(json_integer_value(json_object_get(r, "maxBytes")), 4567);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_without_subs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_status_without_p2p, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_status_p2p_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_status_p2p_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mempool_flush_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mempool_status_reads_env, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
