/* Every method in the node's dispatch table, built the way the node builds
 * it (node_register_rpc, through node_start), must appear in rpc_discover
 * with a summary, params and a result, and in docs/rpc.md under its own
 * "## method" heading with an example request and response. A method family
 * added later is covered without touching this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/node_internal.h"
#include "rpc/jsonrpc.h"

static node *start_node(void)
{
    char *argv[] = {"openledgerd",      "--dev",       "--p2p", "off", "--rpc", "127.0.0.1:0",
                    "--quiet-accounts", "--log-level", "warn",  NULL};
    node_cfg cfg;
    util_err err = {0};
    assert_int_equal(node_cfg_parse(&cfg, 9, argv, &err), NODE_CFG_RUN);
    node *n;
    if (node_start(&n, &cfg, &err)) fail_msg("node_start: %s", err.msg);
    return n;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

/* The section of docs/rpc.md for a method: from "## name" to the next "## ". */
static const char *doc_section(const char *doc, const char *name, size_t *len)
{
    char head[160];
    snprintf(head, sizeof head, "\n## %s\n", name);
    const char *s = strstr(doc, head);
    if (!s) return NULL;
    s += 1;
    const char *e = strstr(s + strlen(head) - 1, "\n## ");
    *len = e ? (size_t)(e - s) : strlen(s);
    return s;
}

/* Every "$ref" to #/components/schemas/X names a schema that exists. */
static void check_refs(json_t *v, json_t *schemas, const char *where)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (strcmp(k, "$ref") == 0 && json_is_string(x)) {
                const char *r = json_string_value(x);
                const char *pre = "#/components/schemas/";
                if (strncmp(r, pre, strlen(pre)) == 0 && !json_object_get(schemas, r + strlen(pre)))
                    fail_msg("%s: dangling $ref %s", where, r);
            } else {
                check_refs(x, schemas, where);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) check_refs(x, schemas, where);
    }
}

static void test_every_method_documented(void **state)
{
    node *n = start_node();
    rpc_error e;
    json_t *doc = rpc_dispatch_call(n->dispatch, "rpc_discover", NULL, &e);
    if (!doc) fail_msg("rpc_discover: %s", e.message);
    assert_string_equal(json_string_value(json_object_get(doc, "openrpc")), "1.2.6");
    json_t *methods = json_object_get(doc, "methods");
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    assert_true(json_is_object(schemas));
    size_t count = rpc_dispatch_count(n->dispatch);
    assert_true(count >= 23);
    assert_int_equal(json_array_size(methods), count);

    char path[4096];
    snprintf(path, sizeof path, "%s/docs/rpc.md", OL_SOURCE_DIR);
    char *md = read_file(path);
    int missing = 0;
    for (size_t i = 0; i < count; i++) {
        const char *name = rpc_dispatch_name(n->dispatch, i);
        /* in rpc_discover, with a description */
        json_t *m = json_array_get(methods, i);
        assert_string_equal(json_string_value(json_object_get(m, "name")), name);
        const char *sum = json_string_value(json_object_get(m, "summary"));
        if (!sum || !*sum) {
            print_error("%s: no spec in rpc_discover (rpc_dispatch_describe)\n", name);
            missing++;
        }
        json_t *params = json_object_get(m, "params"), *p;
        assert_true(json_is_array(params));
        size_t k;
        json_array_foreach(params, k, p)
        {
            assert_true(json_is_string(json_object_get(p, "name")));
            assert_true(json_is_object(json_object_get(p, "schema")));
        }
        json_t *res = json_object_get(m, "result");
        assert_true(json_is_string(json_object_get(res, "name")));
        assert_true(json_is_object(json_object_get(res, "schema")));
        check_refs(m, schemas, name);
        /* in docs/rpc.md, with an example request naming it and a response */
        size_t len = 0;
        const char *sec = doc_section(md, name, &len);
        char want[160];
        snprintf(want, sizeof want, "\"method\":\"%s\"", name);
        if (!sec) {
            print_error("%s: no \"## %s\" section in docs/rpc.md\n", name, name);
            missing++;
        } else {
            char *copy = strndup(sec, len);
            if (!strstr(copy, want) || !strstr(copy, "\"jsonrpc\":\"2.0\",\"result\"") ||
                !strstr(copy, "```")) {
                print_error("%s: docs/rpc.md has no example request and response\n", name);
                missing++;
            }
            free(copy);
        }
        /* flags are shown */
        unsigned fl = rpc_dispatch_flags(n->dispatch, i);
        assert_int_equal(json_is_true(json_object_get(m, "x-admin")), (fl & RPC_METHOD_ADMIN) != 0);
        assert_int_equal(json_is_true(json_object_get(m, "x-websocket-only")),
                         (fl & RPC_METHOD_SESSION) != 0);
    }
    assert_int_equal(missing, 0);
    free(md);
    json_decref(doc);
    node_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_method_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
