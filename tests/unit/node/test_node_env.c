/* The node reads time, randomness and files through its util_env: a test
 * clock sets block timestamps, test randomness seeds the mempool, and a
 * file system that fails or lies is reported, not trusted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "chain/types/tx.h"
#include "node/node_internal.h"
#include "node/validator_key.h"
#include "tests/unit/chain_fixture.h"
#include "util/env.h"

typedef struct fake {
    uint64_t wall_ms, mono_ns;
    uint8_t rnd;
    int fail_create;
    unsigned mode; /* what read_file reports */
} fake;

static uint64_t f_wall(void *ctx)
{
    return ((fake *)ctx)->wall_ms;
}
static uint64_t f_mono(void *ctx)
{
    return ((fake *)ctx)->mono_ns;
}
static int f_random(void *ctx, void *out, size_t n, util_err *err)
{
    (void)err;
    memset(out, ((fake *)ctx)->rnd, n);
    return 0;
}
static int f_create(void *ctx, const char *path, const void *data, size_t n, unsigned mode,
                    util_err *err)
{
    fake *f = ctx;
    if (f->fail_create) return util_err_set(err, UTIL_EIO, "cannot write %s: disk full", path);
    return util_env_default()->create_file(NULL, path, data, n, mode, err);
}
static int f_read(void *ctx, const char *path, size_t max, char **out, size_t *n, unsigned *mode,
                  util_err *err)
{
    int rc = util_env_default()->read_file(NULL, path, max, out, n, mode, err);
    if (!rc) *mode = ((fake *)ctx)->mode;
    return rc;
}

static node *start(const util_env *env)
{
    char *argv[] = {"openledgerd",      "--dev",       "--rpc", "127.0.0.1:0",
                    "--quiet-accounts", "--log-level", "warn",  NULL};
    node_cfg cfg;
    util_err err = {0};
    assert_int_equal(node_cfg_parse(&cfg, 7, argv, &err), NODE_CFG_RUN);
    cfg.env = env;
    node *n;
    if (node_start(&n, &cfg, &err)) fail_msg("node_start: %s", err.msg);
    return n;
}

static void test_clock_and_seed(void **state)
{
    (void)state;
    fake f = {.wall_ms = fx_devnet()->genesis_time_ms + 123456, .mono_ns = 5, .rnd = 0x5a};
    util_env env = {.ctx = &f,
                    .wall_ms = f_wall,
                    .mono_ns = f_mono,
                    .random = f_random,
                    .create_file = f_create,
                    .read_file = f_read};
    node *n = start(&env);
    uint64_t seed;
    memset(&seed, 0x5a, sizeof seed);
    assert_true(n->mempool_cfg.hash_seed == seed);

    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    strcpy(tx.chain_id, n->genesis.chain_id);
    tx.type = CHAIN_TX_TRANSFER;
    tx.gas_limit = CHAIN_GAS_TRANSFER;
    tx.gas_price = 1;
    tx.body.transfer.amount = 1;
    util_err err = {0};
    assert_int_equal(chain_tx_sign(&tx, &kp, n->genesis.hash, &err), 0);
    assert_int_equal(chain_mempool_add(n->mempool, &tx, &err), CHAIN_MP_OK);
    chain_tx_free(&tx);
    int produced;
    assert_int_equal(node_produce_block(n, 0, &produced, &err), 0);
    assert_int_equal(produced, 1);
    /* The block's time is the test clock's, not the machine's. */
    assert_true(chain_store_head_header(n->store)->time_ms == f.wall_ms);
    assert_true(n->last_block_mono_ns == 5);
    /* The clock did not move: the next block is forced just past it. */
    assert_int_equal(node_produce_block(n, 1, &produced, &err), 0);
    assert_true(chain_store_head_header(n->store)->time_ms == f.wall_ms + 1);
    node_free(n);
}

/* The node's pool times queued transactions by the env's clock: one behind
 * a nonce gap is dropped once the test clock passes the lifetime (600 s),
 * while the machine's clock has hardly moved. */
static void test_mempool_expiry(void **state)
{
    (void)state;
    fake f = {.wall_ms = fx_devnet()->genesis_time_ms + 1000, .mono_ns = 1000, .rnd = 1};
    util_env env = {.ctx = &f,
                    .wall_ms = f_wall,
                    .mono_ns = f_mono,
                    .random = f_random,
                    .create_file = f_create,
                    .read_file = f_read};
    node *n = start(&env);
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    strcpy(tx.chain_id, n->genesis.chain_id);
    tx.type = CHAIN_TX_TRANSFER;
    tx.nonce = 5; /* behind a gap: queued */
    tx.gas_limit = CHAIN_GAS_TRANSFER;
    tx.gas_price = 1;
    tx.body.transfer.amount = 1;
    util_err err = {0};
    assert_int_equal(chain_tx_sign(&tx, &kp, n->genesis.hash, &err), 0);
    chain_keypair_clear(&kp);
    assert_int_equal(chain_mempool_add(n->mempool, &tx, &err), CHAIN_MP_OK);
    chain_tx_free(&tx);
    assert_int_equal(chain_mempool_queued(n->mempool), 1);
    f.mono_ns += 599 * 1000000000ull;
    assert_int_equal(chain_mempool_expire(n->mempool), 0);
    f.mono_ns += 1000000000ull;
    assert_int_equal(chain_mempool_expire(n->mempool), 1);
    assert_int_equal(chain_mempool_count(n->mempool), 0);
    node_free(n);
}

static void test_key_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/ol-test-env-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/validator_key.json", dir);
    fake f = {.fail_create = 1, .mode = 0600};
    util_env env = *util_env_default();
    env.ctx = &f;
    env.create_file = f_create;
    env.read_file = f_read;
    chain_keypair kp;
    util_err err = {0};
    /* A write that fails is an error with the reason, and leaves no file. */
    assert_int_equal(node_key_create(&env, path, &kp, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "disk full"));
    assert_int_not_equal(access(path, F_OK), 0);
    f.fail_create = 0;
    assert_int_equal(node_key_create(&env, path, &kp, &err), 0);
    chain_keypair_clear(&kp);
    assert_int_equal(node_key_load(&env, path, &kp, &err), 0);
    chain_keypair_clear(&kp);
    /* A key the file system says others can read is refused. */
    f.mode = 0644;
    assert_int_equal(node_key_load(&env, path, &kp, &err), UTIL_ESTATE);
    assert_non_null(strstr(err.msg, "chmod 600"));
    fx_rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_and_seed),
        cmocka_unit_test(test_mempool_expiry),
        cmocka_unit_test(test_key_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
