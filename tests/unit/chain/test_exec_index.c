/* Index entries in a block overlay (chain/state/state.h): an entry reads
 * back as the block's latest write or deletion of it, else as committed;
 * chain_exec_revert gives a key its earlier write back (also after the map
 * of latest writes grew); a deletion reaches the store with the block; only
 * a key's latest write reaches the batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/state/dbkey.h"
#include "chain/state/state.h"
#include "chain/state/store.h"

static char g_dir[256];
static chain_store *g_st;

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-exec-index-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    util_err err = {0};
    chain_store_opts o = {.undo_blocks = 8};
    assert_int_equal(chain_store_open_opts(&g_st, g_dir, &o, &err), 0);
    assert_int_equal(chain_store_init_genesis(g_st, fx_devnet(), &err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    chain_store_close(g_st);
    fx_rm_tree(g_dir);
    return 0;
}

static chain_exec *next_exec(chain_block *b)
{
    const chain_header *parent = chain_store_head_header(g_st);
    memset(b, 0, sizeof *b);
    b->h.version = CHAIN_BLOCK_VERSION;
    snprintf(b->h.chain_id, sizeof b->h.chain_id, "%s", fx_devnet()->chain_id);
    b->h.height = parent->height + 1;
    chain_store_head_id(g_st, b->h.parent);
    b->h.time_ms = parent->time_ms + 1000;
    fx_dev_addr(&b->h.proposer, 1000);
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = b->h.height,
                          .time_ms = b->h.time_ms,
                          .proposer = b->h.proposer,
                          .min_gas_price = 1};
    chain_exec *ex = chain_exec_new(g_st, &ctx);
    assert_non_null(ex);
    return ex;
}

static void commit(chain_exec *ex, chain_block *b)
{
    util_err err = {0};
    assert_int_equal(chain_exec_finish(ex, b->h.state_root, &err), 0);
    chain_block_tx_root(b, b->h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    if (chain_store_commit_block(g_st, b, NULL, ex, &c, &err)) fail_msg("commit: %s", err.msg);
    chain_exec_free(ex);
}

/* The value of key as ex sees it, "" when absent. */
static void expect(chain_exec *ex, const char *key, const char *want)
{
    const uint8_t *v;
    size_t vl;
    util_err err = {0};
    int rc = chain_exec_index_get(ex, (const uint8_t *)key, strlen(key), &v, &vl, &err);
    if (!*want) {
        if (rc != UTIL_ENOTFOUND) fail_msg("%s: rc %d, want absent", key, rc);
        return;
    }
    if (rc) fail_msg("%s: rc %d (%s)", key, rc, err.msg);
    if (vl != strlen(want) || memcmp(v, want, vl) != 0)
        fail_msg("%s: '%.*s', want '%s'", key, (int)vl, (const char *)v, want);
}

static void put(chain_exec *ex, const char *key, const char *val)
{
    util_err err = {0};
    assert_int_equal(chain_exec_index_put(ex, (const uint8_t *)key, strlen(key),
                                          (const uint8_t *)val, strlen(val), &err),
                     0);
}

static void del(chain_exec *ex, const char *key)
{
    util_err err = {0};
    assert_int_equal(chain_exec_index_del(ex, (const uint8_t *)key, strlen(key), &err), 0);
}

static void put_new(chain_exec *ex, const char *key, const char *val)
{
    util_err err = {0};
    assert_int_equal(chain_exec_index_put_new(ex, (const uint8_t *)key, strlen(key),
                                              (const uint8_t *)val, strlen(val), &err),
                     0);
}

typedef struct undo_scan {
    const char *needle;
    size_t hits;
} undo_scan;

static int count_key(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)key, (void)klen;
    undo_scan *u = ctx;
    size_t n = strlen(u->needle);
    for (size_t i = 0; i + n <= vlen; i++)
        u->hits += memcmp(val + i, u->needle, n) == 0;
    return 0;
}

/* How often the head block's undo record names index key `key`: once per
 * index write that reached the block's batch. */
static size_t undo_mentions(const char *key)
{
    uint8_t k[CHAIN_DBKEY_HEIGHT_LEN];
    chain_dbkey_undo(k, chain_store_head_header(g_st)->height);
    char needle[64];
    snprintf(needle, sizeof needle, "x%s", key); /* the store key: CHAIN_DB_INDEX | key */
    undo_scan u = {.needle = needle};
    util_err err = {0};
    assert_int_equal(chain_store_scan(g_st, k, sizeof k, NULL, 0, 0, 1, count_key, &u, &err), 0);
    return u.hits;
}

/* Only a key's latest write reaches the batch (and so the undo record), and
 * a key put new and deleted in the same block none at all. */
static void test_batch_keeps_latest(void **state)
{
    (void)state;
    chain_block b;
    chain_exec *ex = next_exec(&b);
    put(ex, "Zs", "a");
    put(ex, "Zs", "b");
    put(ex, "Zs", "c");
    put_new(ex, "Zf", "x");
    del(ex, "Zf");
    put(ex, "Zg", "x"); /* not known to be new: its deletion must reach the store */
    del(ex, "Zg");
    commit(ex, &b);
    assert_int_equal(undo_mentions("Zs"), 1);
    assert_int_equal(undo_mentions("Zf"), 0);
    assert_int_equal(undo_mentions("Zg"), 1);
    ex = next_exec(&b);
    expect(ex, "Zs", "c");
    expect(ex, "Zf", "");
    expect(ex, "Zg", "");
    chain_exec_free(ex);
}

static void test_get_put_del_revert(void **state)
{
    (void)state;
    chain_block b;
    chain_exec *ex = next_exec(&b);
    expect(ex, "Zk", "");
    put(ex, "Zk", "one");
    expect(ex, "Zk", "one");
    size_t cp = chain_exec_checkpoint(ex);
    put(ex, "Zk", "two");
    del(ex, "Zj");
    /* Enough other keys for the map to grow past its first size. */
    char k[16];
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "Zn%03d", i);
        put(ex, k, "x");
    }
    expect(ex, "Zk", "two");
    chain_exec_revert(ex, cp);
    expect(ex, "Zk", "one");
    expect(ex, "Zn007", "");
    cp = chain_exec_checkpoint(ex);
    del(ex, "Zk");
    expect(ex, "Zk", "");
    chain_exec_revert(ex, cp);
    expect(ex, "Zk", "one");
    put(ex, "Zd", "doomed");
    commit(ex, &b);

    /* Next block: reads the committed entries, deletes one. */
    ex = next_exec(&b);
    expect(ex, "Zk", "one");
    expect(ex, "Zd", "doomed");
    del(ex, "Zd");
    expect(ex, "Zd", "");
    put(ex, "Zk", "three");
    expect(ex, "Zk", "three");
    commit(ex, &b);

    ex = next_exec(&b);
    expect(ex, "Zd", "");
    expect(ex, "Zk", "three");
    chain_exec_free(ex);

    util_err err = {0};
    uint8_t too_long[65] = {'Z'};
    const uint8_t *v;
    size_t vl;
    ex = next_exec(&b);
    assert_int_equal(chain_exec_index_get(ex, too_long, sizeof too_long, &v, &vl, &err),
                     UTIL_EINVAL);
    chain_exec_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put_del_revert),
        cmocka_unit_test(test_batch_keeps_latest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
