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

/* A file of the tree, whole, NUL-terminated. */
static char *slurp(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", OL_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* The binary embeds exactly the files in the tree (the build regenerates the
 * array when one changes): rpc/explorer/index.html with each
 * "/\*@include NAME*\/" line replaced by rpc/explorer/NAME, and the page
 * keeps its promises. */
static void test_embedded_matches_source(void **state)
{
    (void)state;
    size_t n;
    char *html = slurp("rpc/explorer/index.html", &n);
    const char *parts[] = {"olx.js", "verify.js", "charts.js", "app.js"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        char mark[64], rel[64];
        snprintf(mark, sizeof mark, "/*@include %s*/", parts[i]);
        snprintf(rel, sizeof rel, "rpc/explorer/%s", parts[i]);
        char *at = strstr(html, mark);
        if (!at) fail_msg("index.html does not include %s", parts[i]);
        size_t jn, ml = strlen(mark), pre = (size_t)(at - html);
        char *js = slurp(rel, &jn);
        char *out = malloc(n - ml + jn + 1);
        assert_non_null(out);
        memcpy(out, html, pre);
        memcpy(out + pre, js, jn);
        memcpy(out + pre + jn, at + ml, n - pre - ml + 1);
        free(js);
        free(html);
        html = out;
        n = n - ml + jn;
    }
    assert_int_equal(n, rpc_explorer_html_len);
    assert_memory_equal(html, rpc_explorer_html, n);
    free(html);

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
                             "/ws",
                             "\"state_getProof\"",
                             "contributorTotals: address",
                             "\"chain_getGenesis\"",
                             "\"bridge_listByAddress\"",
                             "BIP0340/challenge",
                             "createElementNS"};
    for (size_t i = 0; i < sizeof markers / sizeof *markers; i++)
        if (!strstr(page, markers[i])) fail_msg("page lacks %s", markers[i]);
    /* Self-contained and escaping: no external resources, no markup from data. */
    const char *banned[] = {"innerHTML",      "outerHTML", "insertAdjacentHTML",
                            "document.write", "eval(",     "<script src",
                            "<link",          "@import",   "url(",
                            "http://",        "https://"};
    /* The one URL allowed is the SVG namespace, a name that is never fetched. */
    static const char svg_ns[] = "\"http://www.w3.org/2000/svg\"";
    for (size_t i = 0; i < sizeof banned / sizeof *banned; i++)
        for (const char *at = strstr(page, banned[i]); at; at = strstr(at + 1, banned[i]))
            if (!(strcmp(banned[i], "http://") == 0 && at > page &&
                  strncmp(at - 1, svg_ns, sizeof svg_ns - 1) == 0))
                fail_msg("page contains %s", banned[i]);
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
