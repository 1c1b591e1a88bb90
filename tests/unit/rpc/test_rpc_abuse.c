/* The RPC server under abuse (issue 9, item 8): limits per client address
 * (connections, rate), the reply cap, strict Origin and content types,
 * HTTP versions and CONNECT, the explorer's CSP header, and the
 * per-address table itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpc/transport/addrtab.h"
#include "tests/unit/rpc_http_test_util.h"

static char *batch_of(int n, const char *method, const char *params)
{
    char *b = malloc((size_t)n * 128 + 16);
    size_t k = (size_t)sprintf(b, "[");
    for (int i = 0; i < n; i++)
        k += (size_t)sprintf(b + k,
                             "%s{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":%s,\"id\":%d}",
                             i ? "," : "", method, params, i);
    sprintf(b + k, "]");
    return b;
}

static int post_status(client *c, const char *body, const char *headers, response *r)
{
    char *req = post_req(body, headers);
    send_str(c, req);
    free(req);
    assert_int_equal(read_response(c, r), 0);
    return r->status;
}

/* The rate limit is the client address's, not the connection's: a new
 * connection does not bring a fresh allowance, and a batch is charged before
 * it runs and refused whole when it does not fit. */
static void test_rate_per_address(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    cfg.rate_limit = 1; /* 1 per second, bursts of 5: nothing refills within the test */
    cfg.rate_burst = 5;
    server *s = server_start(&cfg);
    client *a = client_open(s->port);
    response r;
    /* a batch of 6 never fits a burst of 5: refused whole, nothing runs */
    char *six = batch_of(6, "big", "[1]");
    int before = big_calls;
    assert_int_equal(post_status(a, six, NULL, &r), 429);
    assert_non_null(strstr((char *)r.body.data, "\"code\":-32005"));
    assert_int_equal(big_calls, before);
    response_free(&r);
    free(six);
    /* 3 of 5 used on one connection ... */
    char *three = batch_of(3, "echo", "[]");
    assert_int_equal(post_status(a, three, NULL, &r), 200);
    response_free(&r);
    /* ... leave 2 for every other connection of the address */
    client *b = client_open(s->port);
    assert_int_equal(post_status(b, three, NULL, &r), 429); /* 3 > 2: refused whole */
    response_free(&r);
    send_echo(b, 1, NULL);
    expect_echo(b, 1);
    client *c = client_open(s->port);
    send_echo(c, 2, NULL);
    expect_echo(c, 2);
    client *d = client_open(s->port);
    send_echo(d, 3, NULL);
    assert_int_equal(read_response(d, &r), 0);
    assert_int_equal(r.status, 429);
    assert_string_equal(header(&r, "retry-after"), "1");
    response_free(&r);
    free(three);
    client_close(a);
    client_close(b);
    client_close(c);
    client_close(d);
    server_stop(s);
}

/* One address holds at most max_conns_per_ip connections; the next one is
 * answered 503 with a JSON body, never just closed. */
static void test_conns_per_address(void **state)
{
    enum { PER_IP = 4 };
    rpc_http_cfg cfg = test_cfg();
    cfg.max_conns_per_ip = PER_IP;
    server *s = server_start(&cfg);
    client *held[PER_IP];
    for (int i = 0; i < PER_IP; i++) {
        held[i] = client_open(s->port);
        send_echo(held[i], i, NULL); /* accepted and counted */
        expect_echo(held[i], i);
    }
    for (int round = 0; round < 3; round++) {
        client *x = client_open(s->port);
        send_echo(x, 9, NULL); /* a request already on its way */
        response r;
        assert_int_equal(read_response(x, &r), 0);
        assert_int_equal(r.status, 503);
        assert_non_null(strstr((char *)r.body.data, "too many connections"));
        response_free(&r);
        assert_true(wait_closed(x));
        client_close(x);
    }
    rpc_http_stats st;
    /* a closed connection frees its address's slot (counted asynchronously) */
    client_close(held[0]);
    int served = 0;
    for (int i = 0; i < 200 && !served; i++) {
        client *y = client_open(s->port);
        send_echo(y, 5, NULL);
        response r;
        if (read_response(y, &r) == 0 && r.status == 200) served = 1;
        response_free(&r);
        client_close(y);
        if (!served) usleep(10 * 1000);
    }
    assert_true(served);
    for (int i = 1; i < PER_IP; i++)
        client_close(held[i]);
    (void)st;
    server_stop(s);
}

/* A reply past max_reply is a -32005 error with the request's id; in a batch
 * the entries after it are answered the same without running. */
static void test_reply_cap(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    cfg.max_reply = 64 * 1024;
    server *s = server_start(&cfg);
    client *c = client_open(s->port);
    response r;
    assert_int_equal(
        post_status(c, "{\"jsonrpc\":\"2.0\",\"method\":\"big\",\"params\":[100000],\"id\":7}",
                    NULL, &r),
        200);
    assert_non_null(strstr((char *)r.body.data, "\"code\":-32005"));
    assert_non_null(strstr((char *)r.body.data, "reply too large"));
    assert_non_null(strstr((char *)r.body.data, "\"id\":7}"));
    assert_true(r.body.len < 1024);
    response_free(&r);
    /* 10 x 10 KB: the 7th passes the cap */
    char *ten = batch_of(10, "big", "[10000]");
    int before = big_calls;
    assert_int_equal(post_status(c, ten, NULL, &r), 200);
    json_t *j = json_loadb((char *)r.body.data, r.body.len, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(j), 10);
    for (size_t i = 0; i < 10; i++) {
        json_t *e = json_object_get(json_array_get(j, i), "error");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(j, i), "id")), (int)i);
        if (i < 6) assert_null(e);
        if (i >= 6) assert_int_equal(json_integer_value(json_object_get(e, "code")), -32005);
    }
    assert_int_equal(big_calls - before, 7); /* the rest did not run */
    assert_true(r.body.len <= 64 * 1024 + 10 * 128);
    json_decref(j);
    response_free(&r);
    free(ten);
    client_close(c);
    server_stop(s);
}

static json_t *m_admin_ok(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    return json_string("done");
}

/* Runs raw request bytes through the state machine of a loopback server
 * without token; returns the output (free it). */
static char *run_raw(const char *req, const rpc_http_cfg *cfg0)
{
    rpc_dispatch *d = rpc_dispatch_new();
    assert_int_equal(rpc_dispatch_add_ex(d, "admin_x", m_admin_ok, NULL, RPC_METHOD_ADMIN), 0);
    rpc_http_cfg cfg = cfg0 ? *cfg0 : (rpc_http_cfg){.host = "127.0.0.1"};
    char *out;
    size_t n;
    int closed;
    assert_int_equal(rpc_http_process_bytes(&cfg, d, get_route, NULL, (const uint8_t *)req,
                                            strlen(req), &out, &n, &closed),
                     0);
    rpc_dispatch_free(d);
    return out;
}

static void expect_admin(const char *headers, const char *want)
{
    char *req = post_req("{\"jsonrpc\":\"2.0\",\"method\":\"admin_x\",\"id\":1}", headers);
    char *out = run_raw(req, NULL);
    if (!strstr(out, want)) fail_msg("headers %s: want %s, got %s", headers, want, out);
    free(out);
    free(req);
}

static void test_origin_and_content_type(void **state)
{
    /* without Origin, on loopback: admin */
    expect_admin(NULL, "\"result\":\"done\"");
    /* two Origin headers, an overlong one, unparseable ones: refused */
    expect_admin("Origin: https://a.example\r\nOrigin: https://b.example\r\n", "403 Forbidden");
    char lng[400];
    snprintf(lng, sizeof lng, "Origin: https://%0300d.example\r\n", 0);
    expect_admin(lng, "403 Forbidden");
    expect_admin("Origin: evil\r\n", "403 Forbidden");
    expect_admin("Origin: https://a.example/path\r\n", "403 Forbidden");
    expect_admin("Origin: https://\r\n", "403 Forbidden");
    /* a well-formed foreign Origin: served, without admin */
    expect_admin("Origin: https://a.example\r\n", "-32004");
    expect_admin("Origin: null\r\n", "-32004");
    /* browser "simple requests": refused with 415 */
    const char *simple[] = {"text/plain", "application/x-www-form-urlencoded",
                            "multipart/form-data; boundary=x", "TEXT/PLAIN;charset=utf-8"};
    for (size_t i = 0; i < 4; i++) {
        char req[512];
        snprintf(
            req, sizeof req,
            "POST / HTTP/1.1\r\nHost: t\r\nOrigin: https://a.example\r\nContent-Type: "
            "%s\r\nContent-Length: 43\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"admin_x\",\"id\":1}",
            simple[i]);
        char *out = run_raw(req, NULL);
        assert_non_null(strstr(out, "HTTP/1.1 415 Unsupported Media Type"));
        assert_null(strstr(out, "done"));
        free(out);
        /* the same without Origin (a script, or an old browser's form): served, no admin */
        snprintf(req, sizeof req,
                 "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\nContent-Length: 43\r\n\r\n"
                 "{\"jsonrpc\":\"2.0\",\"method\":\"admin_x\",\"id\":1}",
                 simple[i]);
        out = run_raw(req, NULL);
        assert_non_null(strstr(out, "-32004"));
        free(out);
    }
    /* Origin and no Content-Type at all (a typeless fetch body): 415 */
    char *out = run_raw("POST / HTTP/1.1\r\nHost: t\r\nOrigin: https://a.example\r\n"
                        "Content-Length: 2\r\n\r\n[]",
                        NULL);
    assert_non_null(strstr(out, "415"));
    free(out);
    /* a WebSocket handshake with two Origins is refused too */
    out =
        run_raw("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Origin: http://t\r\nOrigin: http://t\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                NULL);
    assert_non_null(strstr(out, "HTTP/1.1 403 Forbidden"));
    free(out);
}

static void test_versions_and_connect(void **state)
{
    const char *bad[] = {"HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/3.1"};
    for (size_t i = 0; i < 4; i++) {
        char req[128];
        snprintf(req, sizeof req, "GET /health %s\r\nHost: t\r\n\r\n", bad[i]);
        char *out = run_raw(req, NULL);
        if (!strstr(out, "HTTP/1.1 505 HTTP Version Not Supported"))
            fail_msg("%s: %s", bad[i], out);
        free(out);
    }
    char *out = run_raw("GET /health HTTP/1.0\r\n\r\n", NULL);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK"));
    free(out);
    out = run_raw("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", NULL);
    assert_non_null(strstr(out, "HTTP/1.1 405 Method Not Allowed"));
    assert_non_null(strstr(out, "Allow: GET, HEAD, POST, OPTIONS"));
    assert_non_null(strstr(out, "Connection: close"));
    free(out);
}

static int html_route(void *ctx, const char *path, int *status, const char **ctype, char **body,
                      size_t *len)
{
    *status = 200;
    *ctype = "text/html; charset=utf-8";
    *body = strdup("<p>");
    *len = 3;
    return 0;
}

/* An HTML page may open WebSockets to its own origin only. */
static void test_html_csp(void **state)
{
    rpc_dispatch *d = rpc_dispatch_new();
    rpc_http_cfg cfg = {0};
    const char *in = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8545\r\n\r\n";
    char *out;
    size_t n;
    int closed;
    assert_int_equal(rpc_http_process_bytes(&cfg, d, html_route, NULL, (const uint8_t *)in,
                                            strlen(in), &out, &n, &closed),
                     0);
    assert_non_null(strstr(out, "Content-Security-Policy: connect-src 'self' ws://127.0.0.1:8545 "
                                "wss://127.0.0.1:8545\r\n"));
    free(out);
    in = "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"; /* not a host: 'self' only */
    assert_int_equal(rpc_http_process_bytes(&cfg, d, html_route, NULL, (const uint8_t *)in,
                                            strlen(in), &out, &n, &closed),
                     0);
    assert_non_null(strstr(out, "Content-Security-Policy: connect-src 'self'\r\n"));
    free(out);
    rpc_dispatch_free(d);
}

static void test_addrtab(void **state)
{
    rpc_addrtab *t = rpc_addrtab_new(2, 2);
    assert_non_null(t);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "2001:db8:1:2:3:4:5:6", &a6.sin6_addr);
    rpc_addr_key k1, k2;
    assert_int_equal(rpc_addr_key_from((struct sockaddr *)&a6, &k1), 0);
    inet_pton(AF_INET6, "2001:db8:1:2:ffff:ffff:ffff:ffff", &a6.sin6_addr);
    assert_int_equal(rpc_addr_key_from((struct sockaddr *)&a6, &k2), 0);
    assert_memory_equal(k1.b, k2.b, 16); /* one /64, one client */
    assert_int_equal(rpc_addrtab_conn_open(t, &k1, 0), 0);
    assert_int_equal(rpc_addrtab_conn_open(t, &k2, 0), 0);
    assert_int_equal(rpc_addrtab_conn_open(t, &k2, 0), UTIL_ELIMIT);
    assert_int_equal(rpc_addrtab_conn_open(t, &k2, 1), 0); /* a handover */
    assert_int_equal(rpc_addrtab_conns(t, &k1), 3);
    for (int i = 0; i < 3; i++)
        rpc_addrtab_conn_close(t, &k1);
    assert_int_equal(rpc_addrtab_conns(t, &k1), 0);
    /* rate state outlives connections, and many other addresses evict the
     * least recently used idle entry only */
    const uint64_t s = 1000000000ull;
    assert_true(rpc_addrtab_rate_take(t, &k1, s, s, 3 * s, 3));
    assert_false(rpc_addrtab_rate_take(t, &k1, s, s, 3 * s, 1));
    assert_true(rpc_addrtab_rate_take(t, &k1, 2 * s, s, 3 * s, 1)); /* refilled one */
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    rpc_addr_key held;
    a4.sin_addr.s_addr = htonl(0x0a000001);
    assert_int_equal(rpc_addr_key_from((struct sockaddr *)&a4, &held), 0);
    assert_int_equal(rpc_addrtab_conn_open(t, &held, 0), 0);
    for (uint32_t i = 0; i < 2 * RPC_ADDRTAB_IDLE_ENTRIES; i++) {
        rpc_addr_key k;
        a4.sin_addr.s_addr = htonl(0x0b000000 + i);
        assert_int_equal(rpc_addr_key_from((struct sockaddr *)&a4, &k), 0);
        assert_true(rpc_addrtab_rate_take(t, &k, 2 * s, s, 3 * s, 1)); /* a new address */
    }
    assert_int_equal(rpc_addrtab_conns(t, &held), 1); /* never evicted */
    rpc_addrtab_conn_close(t, &held);
    rpc_addrtab_unref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_per_address),
        cmocka_unit_test(test_conns_per_address),
        cmocka_unit_test(test_reply_cap),
        cmocka_unit_test(test_origin_and_content_type),
        cmocka_unit_test(test_versions_and_connect),
        cmocka_unit_test(test_html_csp),
        cmocka_unit_test(test_addrtab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
