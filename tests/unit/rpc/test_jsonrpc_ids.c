/* Request ids come back exactly as sent, fractions included: jansson keeps
 * only a double, which would print 0.1 as 0.10000000000000001. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/jsonrpc.h"

static json_t *m_echo(void *ctx, json_t *params, rpc_error *e)
{
    return json_incref(params);
}

static json_t *m_fail(void *ctx, json_t *params, rpc_error *e)
{
    return rpc_fail(e, RPC_NOT_FOUND, NULL, "nope");
}

static void expect(rpc_dispatch *d, const char *body, const char *want)
{
    size_t n = 0;
    char *out = rpc_dispatch_handle(d, body, strlen(body), &n);
    assert_non_null(out);
    if (strcmp(out, want) != 0) fail_msg("%s\n got  %s\n want %s", body, out, want);
    free(out);
}

static void test_fraction_ids(void **state)
{
    rpc_dispatch *d = rpc_dispatch_new();
    assert_int_equal(rpc_dispatch_add(d, "echo", m_echo, NULL), 0);
    assert_int_equal(rpc_dispatch_add(d, "fail", m_fail, NULL), 0);
    expect(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":0.1}",
           "{\"jsonrpc\":\"2.0\",\"result\":[],\"id\":0.1}");
    const char *ids[] = {"1.50", "-0.0", "1e2", "1E+2", "2.5e-3", "0.30000000000000004", "7"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char body[256], want[256];
        /* numbers before the id, in params and in other members */
        snprintf(body, sizeof body,
                 "{\"jsonrpc\":\"2.0\",\"x\":[1.25,{\"y\":-3e1}],\"method\":\"echo\",\"params\":"
                 "[0.5,\"1.5\",-7],\"id\": %s }",
                 ids[i]);
        snprintf(want, sizeof want, "{\"jsonrpc\":\"2.0\",\"result\":[0.5,\"1.5\",-7],\"id\":%s}",
                 ids[i]);
        expect(d, body, want);
        /* errors echo the same text */
        snprintf(body, sizeof body, "{\"id\":%s,\"jsonrpc\":\"2.0\",\"method\":\"fail\"}", ids[i]);
        snprintf(want, sizeof want,
                 "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32001,\"message\":\"nope\"},\"id\":%s}",
                 ids[i]);
        expect(d, body, want);
    }
    /* a batch: each entry its own id, invalid entries and notifications in between */
    expect(d,
           "[{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[0.25],\"id\":0.1},"
           "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[9.75]},"
           "{\"jsonrpc\":\"1.0\",\"method\":\"echo\",\"id\":0.70},"
           "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":\"0.1\"},"
           "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":3},"
           "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1.000}]",
           "[{\"jsonrpc\":\"2.0\",\"result\":[0.25],\"id\":0.1},"
           "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":\"invalid request: "
           "jsonrpc must be \\\"2.0\\\"\"},\"id\":0.70},"
           "{\"jsonrpc\":\"2.0\",\"result\":[],\"id\":\"0.1\"},"
           "{\"jsonrpc\":\"2.0\",\"result\":[],\"id\":3},"
           "{\"jsonrpc\":\"2.0\",\"result\":[],\"id\":1.000}]");
    rpc_dispatch_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fraction_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
