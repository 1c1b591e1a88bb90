/* The RPC HTTP server on real sockets: requests, keep-alive, pipelining,
 * malformed HTTP, routes, CORS. Limits and hostile clients are in
 * test_rpc_http_limits.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/rpc_http_test_util.h"

static void test_post_and_keepalive(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    server *s = server_start(&cfg);
    client *c = client_open(s->port);
    for (int i = 1; i <= 3; i++) {
        send_echo(c, i, NULL);
        expect_echo(c, i);
    }
    /* a notification: 204 without a body, connection kept */
    char *req = post_req("{\"jsonrpc\":\"2.0\",\"method\":\"echo\"}", NULL);
    send_str(c, req);
    free(req);
    response r;
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body.len, 0);
    assert_null(header(&r, "content-length"));
    assert_null(header(&r, "access-control-allow-origin"));
    response_free(&r);
    /* invalid JSON is a JSON-RPC error with HTTP 200 */
    req = post_req("{oops", NULL);
    send_str(c, req);
    free(req);
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr((char *)r.body.data, "-32700"));
    response_free(&r);
    send_echo(c, 9, NULL);
    expect_echo(c, 9);
    client_close(c);
    server_stop(s);
}

static void test_pipelined(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    server *s = server_start(&cfg);
    client *c = client_open(s->port);
    /* 3 requests in one write, the last one chunked, answered in order */
    char all[4096] = "";
    for (int i = 1; i <= 2; i++) {
        char body[128];
        snprintf(body, sizeof body,
                 "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[%d],\"id\":%d}", i, i);
        char *req = post_req(body, NULL);
        strcat(all, req);
        free(req);
    }
    const char *b3 = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[3],\"id\":3}";
    char chunk[512];
    snprintf(chunk, sizeof chunk,
             "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "%zx\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n",
             (size_t)10, 10, b3, strlen(b3 + 10), b3 + 10);
    strcat(all, chunk);
    send_str(c, all);
    for (int i = 1; i <= 3; i++)
        expect_echo(c, i);
    client_close(c);
    server_stop(s);
}

static void test_malformed_http(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    server *s = server_start(&cfg);
    const char *cases[] = {
        "GARBAGE\r\n\r\n",
        "POST / HTTP/9.x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n[]",
        "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n[]",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        ("POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: "
         "chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n"),
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n[]\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]xx0\r\n\r\n",
        "POST / HTTP/1.1\r\nBad Header Name: 1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_status_and_close(s, cases[i], strlen(cases[i]), 400);

    /* headers over 8 KiB in total, in many small lines and in one */
    char *big = malloc(20000);
    int k = sprintf(big, "POST / HTTP/1.1\r\n");
    for (int i = 0; i < 600; i++) /* 600 * 20 bytes */
        k += sprintf(big + k, "X-H%03d: 0123456789\r\n", i);
    k += sprintf(big + k, "\r\n");
    expect_status_and_close(s, big, (size_t)k, 400);
    k = sprintf(big, "POST / HTTP/1.1\r\nX-Long: ");
    memset(big + k, 'a', 9000);
    k += 9000;
    k += sprintf(big + k, "\r\n\r\n");
    expect_status_and_close(s, big, (size_t)k, 400);
    /* a long URL */
    k = sprintf(big, "GET /");
    memset(big + k, 'a', 3000);
    k += 3000;
    k += sprintf(big + k, " HTTP/1.1\r\n\r\n");
    expect_status_and_close(s, big, (size_t)k, 414);
    free(big);

    /* the server still works, also with large but allowed headers */
    client *c = client_open(s->port);
    send_echo(c, 1, NULL);
    expect_echo(c, 1);
    char *hdr = malloc(7100);
    k = sprintf(hdr, "X-Big: ");
    memset(hdr + k, 'b', 7000);
    k += 7000;
    sprintf(hdr + k, "\r\n");
    send_echo(c, 2, hdr);
    expect_echo(c, 2);
    free(hdr);
    client_close(c);
    server_stop(s);
}

static void test_routes(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    server *s = server_start(&cfg);
    client *c = client_open(s->port);
    response r;

    send_str(c, "GET /health?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "content-type"), "text/plain");
    assert_int_equal(r.body.len, 3);
    assert_memory_equal(r.body.data, "ok\n", 3);
    response_free(&r);

    /* HEAD: the GET's headers, no body */
    send_str(c, "HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n");
    {
        /* read raw: a response parser would wait for the body */
        char raw[1024] = "";
        size_t got = 0;
        while (!strstr(raw, "\r\n\r\n")) {
            ssize_t n = recv(c->fd, raw + got, sizeof raw - 1 - got, 0);
            assert_true(n > 0);
            got += (size_t)n;
            raw[got] = 0;
        }
        assert_non_null(strstr(raw, "HTTP/1.1 200 OK\r\n"));
        assert_non_null(strstr(raw, "Content-Length: 3\r\n"));
        assert_int_equal(strlen(strstr(raw, "\r\n\r\n")), 4);
    }

    struct {
        const char *req;
        int status;
    } cases[] = {
        {"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", 404},
        {"GET / HTTP/1.1\r\nHost: t\r\n\r\n", 405},
        {"PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n[]", 405},
        {"DELETE /x HTTP/1.1\r\nHost: t\r\n\r\n", 405},
        {"POST /other HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n[]", 404},
        {"GET /teapot HTTP/1.1\r\nHost: t\r\n\r\n", 418},
        {"GET /badstatus HTTP/1.1\r\nHost: t\r\n\r\n", 500},
        {"GET http://example.com/health HTTP/1.1\r\nHost: t\r\n\r\n", 200},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        send_str(c, cases[i].req);
        assert_int_equal(read_response(c, &r), 0);
        if (r.status != cases[i].status)
            fail_msg("%s: got %d want %d", cases[i].req, r.status, cases[i].status);
        if (r.status == 405) assert_non_null(header(&r, "allow"));
        if (r.status == 418) {
            assert_string_equal(header(&r, "content-type"), "application/octet-stream");
            assert_null(header(&r, "injected"));
        }
        response_free(&r);
    }
    /* still the same keep-alive connection */
    send_echo(c, 4, NULL);
    expect_echo(c, 4);
    client_close(c);
    server_stop(s);
}

static void test_connection_close_and_http10(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    server *s = server_start(&cfg);
    client *c = client_open(s->port);
    send_echo(c, 1, "Connection: close\r\n");
    response r;
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "connection"), "close");
    response_free(&r);
    assert_true(wait_closed(c));
    client_close(c);

    /* HTTP/1.0: closed after the response unless keep-alive is asked */
    c = client_open(s->port);
    send_str(c, "GET /health HTTP/1.0\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    response_free(&r);
    assert_true(wait_closed(c));
    client_close(c);
    c = client_open(s->port);
    send_str(c, "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_string_equal(header(&r, "connection"), "keep-alive");
    response_free(&r);
    send_str(c, "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    response_free(&r);
    client_close(c);

    /* a client that half-closes after its requests still gets the answers */
    c = client_open(s->port);
    send_echo(c, 1, NULL);
    send_echo(c, 2, NULL);
    shutdown(c->fd, SHUT_WR);
    expect_echo(c, 1);
    expect_echo(c, 2);
    assert_true(wait_closed(c));
    client_close(c);

    /* Upgrade is not spoken: answered, then closed */
    c = client_open(s->port);
    send_str(c, "GET /health HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "connection"), "close");
    response_free(&r);
    assert_true(wait_closed(c));
    client_close(c);
    server_stop(s);
}

static void test_expect_continue(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    server *s = server_start(&cfg);
    client *c = client_open(s->port);
    const char *body = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[5],\"id\":5}";
    char req[512];
    snprintf(req, sizeof req,
             "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
             strlen(body));
    send_str(c, req);
    response r;
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 100);
    response_free(&r);
    send_str(c, body);
    expect_echo(c, 5);
    client_close(c);
    server_stop(s);
}

static void test_cors(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    cfg.cors_origin = "*";
    server *s = server_start(&cfg);
    client *c = client_open(s->port);
    send_str(c, "OPTIONS / HTTP/1.1\r\nHost: t\r\nOrigin: http://x.example\r\n"
                "Access-Control-Request-Method: POST\r\n"
                "Access-Control-Request-Headers: content-type\r\n\r\n");
    response r;
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 204);
    assert_string_equal(header(&r, "access-control-allow-origin"), "*");
    assert_non_null(strstr(header(&r, "access-control-allow-methods"), "POST"));
    assert_non_null(strstr(header(&r, "access-control-allow-headers"), "Content-Type"));
    response_free(&r);
    send_echo(c, 1, "Origin: http://x.example\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "access-control-allow-origin"), "*");
    response_free(&r);
    client_close(c);
    server_stop(s);

    /* without cors_origin: OPTIONS answers Allow, no CORS headers */
    cfg.cors_origin = NULL;
    s = server_start(&cfg);
    c = client_open(s->port);
    send_str(c, "OPTIONS / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 204);
    assert_null(header(&r, "access-control-allow-origin"));
    assert_non_null(header(&r, "allow"));
    response_free(&r);
    client_close(c);
    server_stop(s);
}

static void test_stop_inside_request(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    server *s = server_start(&cfg);
    client *idle = client_open(s->port);
    client *c = client_open(s->port);
    /* more requests pipelined behind the one that stops the server */
    char *stop = post_req("{\"jsonrpc\":\"2.0\",\"method\":\"stop_server\",\"id\":1}", NULL);
    char all[2048];
    snprintf(all, sizeof all, "%s%s%s", stop, stop, stop);
    free(stop);
    send_str(c, all);
    assert_true(wait_closed(c));
    assert_true(wait_closed(idle));
    client_close(c);
    client_close(idle);
    server_stop(s);
}

static void test_process_bytes(void **state)
{
    rpc_dispatch *d = rpc_dispatch_new();
    assert_int_equal(rpc_dispatch_add(d, "echo", m_echo, NULL), 0);
    rpc_http_cfg cfg = {0};
    const char *in = "POST / HTTP/1.1\r\nContent-Length: 44\r\n\r\n"
                     "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1}    "
                     "GET /health HTTP/1.1\r\n\r\n"
                     "BAD\r\n\r\n"
                     "GET /health HTTP/1.1\r\n\r\n";
    char *out;
    size_t n;
    int closed;
    assert_int_equal(rpc_http_process_bytes(&cfg, d, get_route, NULL, (const uint8_t *)in,
                                            strlen(in), &out, &n, &closed),
                     0);
    assert_true(closed);
    assert_int_equal(strlen(out), n);
    const char *p1 = strstr(out, "HTTP/1.1 200 OK");
    assert_non_null(p1);
    assert_non_null(strstr(out, "{\"jsonrpc\":\"2.0\",\"result\":[],\"id\":1}"));
    const char *p2 = strstr(p1 + 1, "HTTP/1.1 200 OK");
    assert_non_null(p2);
    assert_non_null(strstr(p2, "ok\n"));
    const char *p3 = strstr(p2, "HTTP/1.1 400 Bad Request");
    assert_non_null(p3);
    assert_null(strstr(p3 + 1, "HTTP/1.1")); /* nothing after the error */
    free(out);
    rpc_dispatch_free(d);
}

static json_t *m_admin_ok(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    return json_string("done");
}

/* Runs one POST of admin_x through the state machine with the given bind,
 * token and extra headers; returns 1 when it ran, 0 when refused (-32004). */
static int admin_runs(const char *host, const char *token, const char *cors, const char *headers)
{
    rpc_dispatch *d = rpc_dispatch_new();
    assert_int_equal(rpc_dispatch_add_ex(d, "admin_x", m_admin_ok, NULL, RPC_METHOD_ADMIN), 0);
    rpc_http_cfg cfg = {.host = host, .auth_token = token, .cors_origin = cors};
    char *req = post_req("{\"jsonrpc\":\"2.0\",\"method\":\"admin_x\",\"id\":1}", headers);
    char *out;
    size_t n;
    int closed;
    assert_int_equal(rpc_http_process_bytes(&cfg, d, NULL, NULL, (const uint8_t *)req, strlen(req),
                                            &out, &n, &closed),
                     0);
    int ran = strstr(out, "\"result\":\"done\"") != NULL;
    if (!ran && !strstr(out, "-32004")) fail_msg("unexpected answer: %s", out);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK")); /* a JSON-RPC error, not an HTTP one */
    free(out);
    free(req);
    rpc_dispatch_free(d);
    return ran;
}

static void test_admin_auth(void **state)
{
    /* loopback bind, no token: allowed, except from a foreign web page */
    assert_true(admin_runs(NULL, NULL, NULL, NULL));
    assert_true(admin_runs("127.0.0.1", NULL, NULL, NULL));
    assert_true(admin_runs("127.8.9.10", NULL, NULL, NULL));
    assert_true(admin_runs("::1", NULL, NULL, NULL));
    assert_true(admin_runs("localhost", NULL, NULL, NULL));
    assert_false(admin_runs("127.0.0.1", NULL, NULL, "Origin: https://evil.example\r\n"));
    assert_false(admin_runs("127.0.0.1", NULL, "*", "Origin: https://evil.example\r\n"));
    assert_true(
        admin_runs("127.0.0.1", NULL, "https://ex.example", "Origin: https://ex.example\r\n"));
    assert_false(
        admin_runs("127.0.0.1", NULL, "https://ex.example", "Origin: https://ex.example.evil\r\n"));
    /* public bind, no token: off */
    assert_false(admin_runs("0.0.0.0", NULL, NULL, NULL));
    assert_false(admin_runs("::", NULL, NULL, NULL));
    assert_false(admin_runs("192.168.1.2", NULL, NULL, NULL));
    /* a token: needed everywhere, compared exactly */
    assert_false(admin_runs("0.0.0.0", "s3cret-T0k", NULL, NULL));
    assert_false(admin_runs("127.0.0.1", "s3cret-T0k", NULL, NULL));
    assert_true(admin_runs("0.0.0.0", "s3cret-T0k", NULL, "Authorization: Bearer s3cret-T0k\r\n"));
    assert_true(admin_runs("0.0.0.0", "s3cret-T0k", NULL, "Authorization: bearer s3cret-T0k\r\n"));
    assert_false(admin_runs("0.0.0.0", "s3cret-T0k", NULL, "Authorization: Bearer s3cret-T0\r\n"));
    assert_false(
        admin_runs("0.0.0.0", "s3cret-T0k", NULL, "Authorization: Bearer s3cret-T0kk\r\n"));
    assert_false(admin_runs("0.0.0.0", "s3cret-T0k", NULL, "Authorization: Basic s3cret-T0k\r\n"));
    assert_false(admin_runs("0.0.0.0", "s3cret-T0k", NULL,
                            "Authorization: Bearer s3cret-T0k\r\n"
                            "Authorization: Bearer s3cret-T0k\r\n")); /* repeated */
    /* a browser with the token may (it had to be given the token) */
    assert_true(admin_runs("0.0.0.0", "s3cret-T0k", NULL,
                           "Origin: https://x.example\r\nAuthorization: Bearer s3cret-T0k\r\n"));
    /* an over-long header does not match and does not overflow */
    char big[600];
    snprintf(big, sizeof big, "Authorization: Bearer %0500d\r\n", 0);
    assert_false(admin_runs("0.0.0.0", "s3cret-T0k", NULL, big));
    /* tokens are checked at start-up */
    rpc_dispatch *d = rpc_dispatch_new();
    uv_loop_t loop;
    uv_loop_init(&loop);
    rpc_http *h = NULL;
    util_err err = {0};
    rpc_http_cfg cfg = test_cfg();
    cfg.auth_token = "has space";
    assert_int_equal(rpc_http_start(&h, &loop, &cfg, d, NULL, NULL, &err), UTIL_EINVAL);
    cfg.auth_token = "";
    assert_int_equal(rpc_http_start(&h, &loop, &cfg, d, NULL, NULL, &err), UTIL_EINVAL);
    assert_int_equal(uv_loop_close(&loop), 0);
    rpc_dispatch_free(d);
}

/* CORS preflight lets a browser send the token. */
static void test_cors_authorization(void **state)
{
    rpc_dispatch *d = rpc_dispatch_new();
    rpc_http_cfg cfg = {.cors_origin = "https://ex.example"};
    const char *in = "OPTIONS / HTTP/1.1\r\nHost: t\r\nOrigin: https://ex.example\r\n"
                     "Access-Control-Request-Method: POST\r\n"
                     "Access-Control-Request-Headers: authorization, content-type\r\n\r\n";
    char *out;
    size_t n;
    int closed;
    assert_int_equal(rpc_http_process_bytes(&cfg, d, NULL, NULL, (const uint8_t *)in, strlen(in),
                                            &out, &n, &closed),
                     0);
    assert_non_null(strstr(out, "HTTP/1.1 204"));
    assert_non_null(strstr(out, "Access-Control-Allow-Origin: https://ex.example\r\n"));
    assert_non_null(strstr(out, "Access-Control-Allow-Headers: Content-Type, Authorization\r\n"));
    free(out);
    rpc_dispatch_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_and_keepalive),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_malformed_http),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_connection_close_and_http10),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_stop_inside_request),
        cmocka_unit_test(test_process_bytes),
        cmocka_unit_test(test_admin_auth),
        cmocka_unit_test(test_cors_authorization),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
