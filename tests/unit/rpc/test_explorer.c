/* The block explorer page: served by the node's GET route through the real
 * HTTP layer, and byte-identical to rpc/explorer/index.html. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/node_internal.h"
#include "rpc/explorer/explorer.h"
#include "rpc/transport/http.h"
#include "rpc/jsonrpc.h"

/* Runs one request through the HTTP parser and router with the node's GET
 * route. The explorer paths never touch the node, so no node is needed.
 * The reply pointer lives in the caller: its address is handed to the HTTP
 * layer, and a local of this function would end its life (as far as GCC's
 * -Wdangling-pointer can tell at -O3) before the caller reads the reply. */
static void serve(rpc_dispatch *d, const char *req, char **out, size_t *n)
{
    rpc_http_cfg cfg = {0};
    int closed;
    *out = NULL;
    assert_int_equal(rpc_http_process_bytes(&cfg, d, node_http_get, NULL, (const uint8_t *)req,
                                            strlen(req), out, n, &closed),
                     0);
    assert_non_null(*out);
}

/* The body of a single response, checked against its Content-Length. */
static const char *body_of(const char *out, size_t n, size_t *blen)
{
    const char *cl = strstr(out, "Content-Length: ");
    assert_non_null(cl);
    const char *sep = strstr(out, "\r\n\r\n");
    assert_non_null(sep);
    assert_true(cl < sep);
    *blen = strtoul(cl + 16, NULL, 10);
    const char *b = sep + 4;
    assert_int_equal((size_t)(out + n - b), *blen);
    return b;
}

static void test_get_root_serves_page(void **state)
{
    (void)state;
    rpc_dispatch *d = rpc_dispatch_new();
    const char *paths[] = {"/", "/explorer", "/explorer/", "/?from=bookmark"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", paths[i]);
        size_t n, blen;
        char *out;
        serve(d, req, &out, &n);
        if (strncmp(out, "HTTP/1.1 200 OK\r\n", 17) != 0) fail_msg("GET %s: %.60s", paths[i], out);
        assert_non_null(strstr(out, "Content-Type: text/html; charset=utf-8\r\n"));
        const char *b = body_of(out, n, &blen);
        assert_int_equal(blen, rpc_explorer_html_len);
        assert_memory_equal(b, rpc_explorer_html, blen);
        free(out);
    }
    rpc_dispatch_free(d);
}

static void test_head_and_other_paths(void **state)
{
    (void)state;
    rpc_dispatch *d = rpc_dispatch_new();
    size_t n;
    char *out;
    serve(d, "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n", &out, &n);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(out, "text/html; charset=utf-8"));
    assert_null(strstr(out, "<html")); /* HEAD: headers only */
    free(out);

    const char *missing[] = {"/explorerx", "/index.html", "/explorer/x", "//"};
    for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
        char req[128];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\n\r\n", missing[i]);
        serve(d, req, &out, &n);
        if (!strstr(out, "HTTP/1.1 404")) fail_msg("GET %s: %.60s", missing[i], out);
        assert_null(strstr(out, "<html"));
        free(out);
    }
    rpc_dispatch_free(d);
}

static json_t *m_ping(void *ctx, json_t *params, rpc_error *e)
{
    (void)ctx, (void)params, (void)e;
    return json_string("pong");
}

/* POST / is still JSON-RPC, on the same connection as a GET of the page. */
static void test_post_root_is_jsonrpc(void **state)
{
    (void)state;
    rpc_dispatch *d = rpc_dispatch_new();
    assert_int_equal(rpc_dispatch_add(d, "ping", m_ping, NULL), 0);
    const char *req = "GET / HTTP/1.1\r\n\r\n"
                      "POST / HTTP/1.1\r\nContent-Length: 40\r\n\r\n"
                      "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":7}";
    size_t n;
    char *out;
    serve(d, req, &out, &n);
    const char *second = strstr(out + 1, "HTTP/1.1 200 OK\r\n");
    assert_non_null(second);
    assert_non_null(strstr(second, "Content-Type: application/json"));
    assert_non_null(strstr(second, "\"result\":\"pong\""));
    free(out);
    rpc_dispatch_free(d);
}

static void test_route_function(void **state)
{
    (void)state;
    int status = 0;
    const char *ct = NULL;
    char *body = NULL;
    size_t len = 0;
    assert_int_equal(rpc_explorer_get("/health", &status, &ct, &body, &len), 1);
    assert_null(body);
    assert_int_equal(rpc_explorer_get(NULL, &status, &ct, &body, &len), 1);
    assert_int_equal(rpc_explorer_get("/", &status, &ct, &body, &len), 0);
    assert_int_equal(status, 200);
    assert_string_equal(ct, RPC_EXPLORER_CONTENT_TYPE);
    assert_int_equal(len, rpc_explorer_html_len);
    free(body);
    assert_int_equal(rpc_explorer_html[rpc_explorer_html_len], 0); /* usable as a C string */
}

/* The binary embeds exactly the file in the tree (the build regenerates the
 * array when the file changes), and the page keeps its promises. */
static void test_embedded_matches_source(void **state)
{
    (void)state;
    FILE *f = fopen(OL_SOURCE_DIR "/rpc/explorer/index.html", "rb");
    assert_non_null(f);
    size_t cap = rpc_explorer_html_len + 2, n = 0;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    n = fread(buf, 1, cap, f);
    fclose(f);
    assert_int_equal(n, rpc_explorer_html_len);
    assert_memory_equal(buf, rpc_explorer_html, n);
    free(buf);

    const char *page = (const char *)rpc_explorer_html;
    assert_int_equal(strlen(page), rpc_explorer_html_len); /* no NUL inside */
    const char *markers[] = {"<!doctype html>",
                             "<title>OpenLedger explorer</title>",
                             "name=\"ol-explorer\"",
                             "Content-Security-Policy",
                             "\"subscribe_newBlocks\"",
                             "\"node_status\"",
                             "\"chain_getBlockRange\"",
                             "\"chain_getBlock\"",
                             "\"chain_getTransaction\"",
                             "\"account_get\"",
                             "\"tx_list\"",
                             "\"contributor_impact\"",
                             "\"datanet_list\"",
                             "\"model_list\"",
                             "\"attribution_list\"",
                             "\"attribution_get\"",
                             "#/attribution",
                             "/ws"};
    for (size_t i = 0; i < sizeof markers / sizeof *markers; i++)
        if (!strstr(page, markers[i])) fail_msg("page lacks %s", markers[i]);
    /* Self-contained and escaping: no external resources, no markup from data. */
    const char *banned[] = {"innerHTML",      "outerHTML", "insertAdjacentHTML",
                            "document.write", "eval(",     "<script src",
                            "<link",          "@import",   "url(",
                            "http://",        "https://"};
    for (size_t i = 0; i < sizeof banned / sizeof *banned; i++)
        if (strstr(page, banned[i])) fail_msg("page contains %s", banned[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_root_serves_page),    cmocka_unit_test(test_head_and_other_paths),
        cmocka_unit_test(test_post_root_is_jsonrpc),    cmocka_unit_test(test_route_function),
        cmocka_unit_test(test_embedded_matches_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
