/* openledgerd's rollup flags (docs/rollup.md, "Operating"): --l1 needs
 * --rollup-config, URLs must be http(s), the batch limits are bounded,
 * --batch-da is calldata or blobs (with --l1), --l1-beacon goes with an L1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "node/node.h"

static int parse(node_cfg *cfg, int argc, char **args)
{
    char *argv[16] = {"openledgerd", "--dev"};
    for (int i = 0; i < argc; i++)
        argv[2 + i] = args[i];
    util_err err = {0};
    return node_cfg_parse(cfg, argc + 2, argv, &err);
}

static void test_rollup_flags(void **state)
{
    (void)state;
    node_cfg cfg;
    char *ok[] = {"--l1",
                  "https://l1.example/v2/key",
                  "--rollup-config",
                  "r.json",
                  "--l1-explorer",
                  "http://127.0.0.1:4000",
                  "--batch-max-blocks",
                  "7",
                  "--batch-max-delay",
                  "250"};
    assert_int_equal(parse(&cfg, 10, ok), NODE_CFG_RUN);
    assert_string_equal(cfg.l1_url, "https://l1.example/v2/key");
    assert_string_equal(cfg.rollup_config_path, "r.json");
    assert_string_equal(cfg.l1_explorer, "http://127.0.0.1:4000");
    assert_int_equal(cfg.batch_max_blocks, 7);
    assert_int_equal(cfg.batch_max_delay_ms, 250);
    /* Without any of them the node has no L1. */
    assert_int_equal(parse(&cfg, 0, ok), NODE_CFG_RUN);
    assert_string_equal(cfg.l1_url, "");
    assert_int_equal(cfg.batch_max_blocks, 0);

    char *alone[] = {"--l1", "http://127.0.0.1:8546"};
    assert_int_equal(parse(&cfg, 2, alone), NODE_CFG_USAGE);
    char *bad_url[] = {"--l1", "127.0.0.1:8546", "--rollup-config", "r.json"};
    assert_int_equal(parse(&cfg, 4, bad_url), NODE_CFG_USAGE);
    char *bad_explorer[] = {"--l1-explorer", "javascript:alert(1)"};
    assert_int_equal(parse(&cfg, 2, bad_explorer), NODE_CFG_USAGE);
    char *zero[] = {"--batch-max-blocks", "0"};
    assert_int_equal(parse(&cfg, 2, zero), NODE_CFG_USAGE);
    char *big[] = {"--batch-max-blocks", "10001"};
    assert_int_equal(parse(&cfg, 2, big), NODE_CFG_USAGE);
    char *delay[] = {"--batch-max-delay", "x"};
    assert_int_equal(parse(&cfg, 2, delay), NODE_CFG_USAGE);
    char *frame[] = {"--batch-frame-max", "1000"};
    assert_int_equal(parse(&cfg, 2, frame), NODE_CFG_RUN);
    assert_int_equal(cfg.batch_frame_max, 1000);
    char *small[] = {"--batch-frame-max", "255"};
    assert_int_equal(parse(&cfg, 2, small), NODE_CFG_USAGE);
    char *large[] = {"--batch-frame-max", "122881"};
    assert_int_equal(parse(&cfg, 2, large), NODE_CFG_USAGE);
}

static void test_blob_flags(void **state)
{
    (void)state;
    node_cfg cfg;
    char *dflt[] = {"--l1", "http://127.0.0.1:8546", "--rollup-config", "r.json"};
    assert_int_equal(parse(&cfg, 4, dflt), NODE_CFG_RUN);
    assert_int_equal(cfg.batch_blobs, 0);
    assert_string_equal(cfg.l1_beacon_url, "");
    char *blobs[] = {
        "--l1",  "http://127.0.0.1:8546", "--rollup-config",      "r.json", "--batch-da",
        "blobs", "--l1-beacon",           "http://127.0.0.1:5052"};
    assert_int_equal(parse(&cfg, 8, blobs), NODE_CFG_RUN);
    assert_int_equal(cfg.batch_blobs, 1);
    assert_string_equal(cfg.l1_beacon_url, "http://127.0.0.1:5052");
    char *calldata[] = {
        "--l1", "http://127.0.0.1:8546", "--rollup-config", "r.json", "--batch-da", "calldata"};
    assert_int_equal(parse(&cfg, 6, calldata), NODE_CFG_RUN);
    assert_int_equal(cfg.batch_blobs, 0);
    char *other[] = {"--l1", "http://127.0.0.1:8546", "--rollup-config", "r.json", "--batch-da",
                     "blob"};
    assert_int_equal(parse(&cfg, 6, other), NODE_CFG_USAGE);
    char *no_l1[] = {"--batch-da", "blobs"};
    assert_int_equal(parse(&cfg, 2, no_l1), NODE_CFG_USAGE);
    char *beacon_alone[] = {"--l1-beacon", "http://127.0.0.1:5052"};
    assert_int_equal(parse(&cfg, 2, beacon_alone), NODE_CFG_USAGE);
    char *beacon_bad[] = {"--l1",   "http://127.0.0.1:8546", "--rollup-config",
                          "r.json", "--l1-beacon",           "127.0.0.1:5052"};
    assert_int_equal(parse(&cfg, 6, beacon_bad), NODE_CFG_USAGE);
    char *derive[] = {"--derive-from-l1", "http://127.0.0.1:8546", "--rollup-config",
                      "r.json",           "--l1-beacon",           "http://127.0.0.1:5052"};
    assert_int_equal(parse(&cfg, 6, derive), NODE_CFG_RUN);
    assert_string_equal(cfg.l1_beacon_url, "http://127.0.0.1:5052");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rollup_flags),
                                       cmocka_unit_test(test_blob_flags)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
