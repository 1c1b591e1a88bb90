/* openledger-cli's generic JSON-RPC commands (rpc, methods) and `watch`
 * over WebSocket, against a node running in this process. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/commands_rpc.h"
#include "cli/ws_client.h"
#include "node/node_internal.h"
#include "rpc/transport/http.h"

static void test_params(void **state)
{
    util_err e;
    const char *a1[] = {"[1, \"x\", {\"a\": true}]"};
    json_t *p = cli_rpc_params(a1, 1, &e);
    assert_int_equal(json_array_size(p), 3);
    json_decref(p);
    const char *a2[] = {"ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8",
                        "12",
                        "latest",
                        "true",
                        "{\"model\":7}",
                        "\"5\"",
                        "0x00ff"};
    p = cli_rpc_params(a2, 7, &e);
    assert_int_equal(json_array_size(p), 7);
    assert_true(json_is_string(json_array_get(p, 0)));
    assert_int_equal(json_integer_value(json_array_get(p, 1)), 12);
    assert_string_equal(json_string_value(json_array_get(p, 2)), "latest");
    assert_true(json_is_true(json_array_get(p, 3)));
    assert_true(json_is_object(json_array_get(p, 4)));
    assert_string_equal(json_string_value(json_array_get(p, 5)), "5");
    assert_string_equal(json_string_value(json_array_get(p, 6)), "0x00ff");
    json_decref(p);
    p = cli_rpc_params(NULL, 0, &e);
    assert_int_equal(json_array_size(p), 0);
    json_decref(p);
    const char *bad[] = {"[1,"};
    assert_null(cli_rpc_params(bad, 1, &e));
    assert_non_null(strstr(e.msg, "not a JSON array"));
    const char *two[] = {"[1]", "[2]"}; /* two arrays: two params */
    p = cli_rpc_params(two, 2, &e);
    assert_int_equal(json_array_size(p), 2);
    json_decref(p);
}

static void test_watch_line(void **state)
{
    json_t *b =
        json_loads("{\"hash\":\"0x1f3a4b5c6d7e8f90112233445566778899aabbccddeeff0011223344556"
                   "6e9f0\",\"height\":12,\"timestamp\":1795620931748,\"txCount\":3,"
                   "\"gasUsed\":3000,\"header\":{}}",
                   0, NULL);
    assert_non_null(b);
    char line[256];
    assert_int_equal(cli_watch_line(line, sizeof line, b, 1795620930746), 0);
    assert_string_equal(line, "#12  0x1f3a4b5c..e9f0  3 txs  gas 3000  "
                              "2026-11-25 15:35:31.748 UTC  +1.002 s");
    assert_int_equal(cli_watch_line(line, sizeof line, b, 0), 0);
    assert_null(strstr(line, "+"));
    json_object_set_new(b, "txCount", json_integer(1));
    assert_int_equal(cli_watch_line(line, sizeof line, b, 0), 0);
    assert_non_null(strstr(line, " 1 tx "));
    json_object_del(b, "height");
    assert_int_equal(cli_watch_line(line, sizeof line, b, 0), -1);
    json_decref(b);
}

/* --- against a running node --------------------------------------------- */

static node *the_node;
static pthread_t node_thread;
static int node_rc = -1; /* node_run's result, checked on the main thread after the join */
static char url[64];

static void *run_node(void *arg)
{
    node_rc = node_run(the_node);
    return NULL;
}

static int start(void **state)
{
    char *argv[] = {"openledgerd",
                    "--dev",
                    "--p2p",
                    "off",
                    "--rpc",
                    "127.0.0.1:0",
                    "--quiet-accounts",
                    "--log-level",
                    "warn",
                    "--block-time",
                    "100",
                    "--empty-blocks-interval",
                    "100",
                    NULL};
    node_cfg cfg;
    util_err err = {0};
    assert_int_equal(node_cfg_parse(&cfg, 13, argv, &err), NODE_CFG_RUN);
    if (node_start(&the_node, &cfg, &err)) fail_msg("node_start: %s", err.msg);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", rpc_http_port(the_node->http));
    assert_int_equal(pthread_create(&node_thread, NULL, run_node, NULL), 0);
    return 0;
}

static int stop(void **state)
{
    kill(getpid(), SIGTERM); /* the node's signal handler stops its loop */
    pthread_join(node_thread, NULL);
    node_free(the_node);
    assert_int_equal(node_rc, 0);
    return 0;
}

/* Runs the CLI; returns its exit code, output in *out (malloc'd). */
static int cli(char **out, char **err, ...)
{
    char *argv[16] = {"openledger-cli", "--rpc", url};
    int argc = 3;
    va_list ap;
    va_start(ap, err);
    for (char *a; argc < 15 && (a = va_arg(ap, char *));)
        argv[argc++] = a;
    va_end(ap);
    size_t ol, el;
    FILE *fo = open_memstream(out, &ol), *fe = open_memstream(err, &el);
    int rc = cli_main(argc, argv, fo, fe);
    fclose(fo);
    fclose(fe);
    return rc;
}

static void test_rpc_command(void **state)
{
    char *out, *err;
    assert_int_equal(cli(&out, &err, "rpc", "node_status", NULL), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "chainId")), "openledger-devnet");
    json_decref(j);
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "rpc", "chain_getBlockRange", "0", "1", "--json", NULL), 0);
    j = json_loads(out, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "blocks")), 1);
    json_decref(j);
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "rpc", "mempool_status", "[]", NULL), 0);
    assert_non_null(strstr(out, "\"maxCount\""));
    free(out);
    free(err);
    /* errors: the node's message and code, exit 1 */
    assert_int_equal(cli(&out, &err, "rpc", "no_such", NULL), 1);
    assert_non_null(strstr(err, "method not found"));
    assert_non_null(strstr(err, "-32601"));
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "rpc", "tx_list", "not-an-address", NULL), 1);
    assert_non_null(strstr(err, "param 0 (address)"));
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "rpc", "node_status", "[1,", NULL), 2);
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "rpc", NULL), 2);
    free(out);
    free(err);
    /* admin on the loopback node */
    assert_int_equal(cli(&out, &err, "rpc", "admin_setLogLevel", "warn", NULL), 0);
    assert_non_null(strstr(out, "\"level\": \"warn\""));
    free(out);
    free(err);
    /* the method list */
    assert_int_equal(cli(&out, &err, "methods", NULL), 0);
    assert_non_null(strstr(out, "tx_list                        address [cursor] [limit]\n"));
    assert_non_null(strstr(out, "subscribe_newBlocks"));
    free(out);
    free(err);
}

static void test_watch(void **state)
{
    char *out, *err;
    assert_int_equal(cli(&out, &err, "watch", "2", NULL), 0);
    /* a header line, then one line per block */
    assert_non_null(strstr(out, "watching new blocks at "));
    int lines = 0;
    for (char *p = out; (p = strstr(p, "\n#")); p++)
        lines++;
    assert_int_equal(lines, 2);
    assert_non_null(strstr(out, " 0 txs  gas 0  "));
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "watch", "1", "--json", NULL), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_true(json_integer_value(json_object_get(j, "height")) > 0);
    json_decref(j);
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "watch", "0", NULL), 2);
    free(out);
    free(err);
    /* a node that is not there */
    char *argv[] = {"openledger-cli", "--rpc", "http://127.0.0.1:1", "watch", "1"};
    size_t ol, el;
    FILE *fo = open_memstream(&out, &ol), *fe = open_memstream(&err, &el);
    assert_int_equal(cli_main(5, argv, fo, fe), 1);
    fclose(fo);
    fclose(fe);
    assert_non_null(strstr(err, "cannot reach node"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_watch_line),
        cmocka_unit_test_setup_teardown(test_rpc_command, start, stop),
        cmocka_unit_test_setup_teardown(test_watch, start, stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
