/* The derivation flags (node/config.c): --derive-from-l1 needs
 * --rollup-config, refuses --peers and several RPC loops, and makes the node
 * a follower without the peer-to-peer layer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "node/node.h"

static int parse(node_cfg *cfg, util_err *err, int argc, char **argv)
{
    return node_cfg_parse(cfg, argc, argv, err);
}

static void test_derive_flags(void **state)
{
    (void)state;
    node_cfg cfg;
    util_err err = {0};
    char *ok[] = {"openledgerd",           "--dev",           "--derive-from-l1",
                  "http://127.0.0.1:8545", "--rollup-config", "/tmp/rollup.json"};
    assert_int_equal(parse(&cfg, &err, 6, ok), NODE_CFG_RUN);
    assert_string_equal(cfg.derive_l1_url, "http://127.0.0.1:8545");
    assert_string_equal(cfg.rollup_config_path, "/tmp/rollup.json");
    assert_int_equal(cfg.follower, 1);
    assert_int_equal(cfg.p2p_host[0], 0);

    char *no_cfg[] = {"openledgerd", "--dev", "--derive-from-l1", "http://127.0.0.1:8545"};
    assert_int_equal(parse(&cfg, &err, 4, no_cfg), NODE_CFG_USAGE);
    assert_non_null(strstr(err.msg, "--rollup-config"));

    char *peers[] = {"openledgerd",      "--dev",
                     "--derive-from-l1", "http://x",
                     "--rollup-config",  "f",
                     "--peers",          "0123456789abcdef0123456789abcdef01234567@127.0.0.1:1"};
    assert_int_equal(parse(&cfg, &err, 8, peers), NODE_CFG_USAGE);
    char *threads[] = {"openledgerd",     "--dev", "--derive-from-l1", "http://x",
                       "--rollup-config", "f",     "--rpc-threads",    "2"};
    assert_int_equal(parse(&cfg, &err, 8, threads), NODE_CFG_USAGE);
    char *empty[] = {"openledgerd", "--dev", "--derive-from-l1", "", "--rollup-config", "f"};
    assert_int_equal(parse(&cfg, &err, 6, empty), NODE_CFG_USAGE);

    char *both[] = {"openledgerd", "--dev", "--derive-from-l1", "http://x", "--rollup-config",
                    "f",           "--l1",  "http://y"};
    assert_int_equal(parse(&cfg, &err, 8, both), NODE_CFG_USAGE);
    assert_non_null(strstr(err.msg, "exclude"));

    char *plain[] = {"openledgerd", "--dev"};
    assert_int_equal(parse(&cfg, &err, 2, plain), NODE_CFG_RUN);
    assert_int_equal(cfg.derive_l1_url[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_derive_flags)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
