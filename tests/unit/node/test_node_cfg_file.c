/* DATADIR/config.json (node_cfg_file_args): its settings become flags that
 * the command line overrides, a relative genesis path is the data
 * directory's, and a malformed file or an unknown key stops the start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node.h"

static char dir[] = "/tmp/ol-cfgfile-XXXXXX";

static void write_cfg(const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Parses argv through the file as openledgerd's main does. */
static int parse(node_cfg *cfg, int argc, char **argv, util_err *err)
{
    int fargc;
    char **fargv;
    memset(err, 0, sizeof *err);
    int rc = node_cfg_file_args(argc, argv, &fargc, &fargv, err);
    if (rc) return rc;
    rc = fargv ? node_cfg_parse(cfg, fargc, fargv, err) : node_cfg_parse(cfg, argc, argv, err);
    node_cfg_file_args_free(fargc, fargv);
    return rc;
}

static void test_file_then_flags(void **state)
{
    (void)state;
    write_cfg("{\"genesis\":\"../genesis.json\",\"rpc\":\"127.0.0.1:18545\","
              "\"p2p\":\"127.0.0.1:26756\",\"peers\":\"\",\"logLevel\":\"warn\"}");
    node_cfg cfg;
    util_err err;
    char *argv[] = {"openledgerd", "--datadir", dir, NULL};
    assert_int_equal(parse(&cfg, 3, argv, &err), NODE_CFG_RUN);
    char want[300];
    snprintf(want, sizeof want, "%s/../genesis.json", dir);
    assert_string_equal(cfg.genesis_path, want);
    assert_int_equal(cfg.rpc_port, 18545);
    assert_int_equal(cfg.p2p_port, 26756);
    assert_int_equal(cfg.p2p_default, 0);
    assert_string_equal(cfg.p2p_peers, "");

    /* The command line wins. */
    char *argv2[] = {"openledgerd", "--datadir", dir, "--rpc", "127.0.0.1:9999", NULL};
    assert_int_equal(parse(&cfg, 5, argv2, &err), NODE_CFG_RUN);
    assert_int_equal(cfg.rpc_port, 9999);
    assert_int_equal(cfg.p2p_port, 26756);
}

static void test_bad_files(void **state)
{
    (void)state;
    node_cfg cfg;
    util_err err;
    char *argv[] = {"openledgerd", "--datadir", dir, NULL};
    write_cfg("{\"rpcc\":\"127.0.0.1:1\"}");
    assert_int_equal(parse(&cfg, 3, argv, &err), NODE_CFG_USAGE);
    assert_non_null(strstr(err.msg, "unknown setting \"rpcc\""));
    write_cfg("{\"rpc\":");
    assert_int_equal(parse(&cfg, 3, argv, &err), NODE_CFG_USAGE);
    assert_non_null(strstr(err.msg, "config.json"));
    write_cfg("{\"rpc\":\"nonsense\"}");
    assert_int_equal(parse(&cfg, 3, argv, &err), NODE_CFG_USAGE);
    write_cfg("{\"rpc\":[1]}");
    assert_int_equal(parse(&cfg, 3, argv, &err), NODE_CFG_USAGE);
    /* No file: the flags alone. */
    char path[256];
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    assert_int_equal(parse(&cfg, 3, argv, &err), NODE_CFG_RUN);
    assert_int_equal(cfg.rpc_port, NODE_DEFAULT_RPC_PORT);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_then_flags),
        cmocka_unit_test(test_bad_files),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
    return rc;
}
