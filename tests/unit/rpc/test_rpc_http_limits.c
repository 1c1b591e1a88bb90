/* The RPC HTTP server's limits on real sockets: body size, slow and idle
 * clients, connection cap, clients that vanish mid-response, backpressure,
 * start-up errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/resource.h>

#include "tests/unit/rpc_http_test_util.h"

static void test_body_too_large(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    cfg.max_body = 1000;
    server *s = server_start(&cfg);
    /* declared length over the limit: refused before the body is read */
    size_t n = 5000;
    char *body = malloc(n + 1);
    memset(body, ' ', n);
    body[n] = 0;
    char *req = post_req(body, NULL);
    expect_status_and_close(s, req, strlen(req), 413);
    free(req);
    /* chunked, growing past the limit */
    char *raw = malloc(n + 512);
    int k = sprintf(raw, "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 5; i++)
        k += sprintf(raw + k, "258\r\n%.600s\r\n", body);
    k += sprintf(raw + k, "0\r\n\r\n");
    expect_status_and_close(s, raw, (size_t)k, 413);
    free(raw);
    /* exactly at the limit is fine */
    body[1000] = 0;
    body[0] = '[';
    body[999] = ']';
    req = post_req(body, NULL);
    client *c = client_open(s->port);
    send_str(c, req);
    response r;
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200); /* an empty batch error, but HTTP is fine */
    response_free(&r);
    client_close(c);
    free(req);
    free(body);
    server_stop(s);
}

static void test_slowloris(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    cfg.header_timeout_ms = 200;
    cfg.idle_timeout_ms = 400;
    server *s = server_start(&cfg);
    /* never sends anything */
    client *silent = client_open(s->port);
    /* sends part of the headers, then stalls */
    client *slow = client_open(s->port);
    send_str(slow, "POST / HTTP/1.1\r\nHost: t\r\nX-A: ");
    /* trickles a byte at a time: progress inside the headers does not count */
    client *trickle = client_open(s->port);
    send_str(trickle, "POST / HTTP/1.1\r\n");
    int closed = 0;
    for (int i = 0; i < 200 && !closed; i++) {
        usleep(20 * 1000);
        if (send(trickle->fd, "X", 1, MSG_NOSIGNAL) <= 0) closed = 1;
    }
    assert_true(wait_closed(trickle));
    assert_true(wait_closed(slow));
    assert_true(wait_closed(silent));
    /* a body that never completes is bounded by the idle timeout */
    client *body = client_open(s->port);
    send_str(body, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n[");
    assert_true(wait_closed(body));
    /* an idle keep-alive connection is closed after the idle timeout */
    client *idle = client_open(s->port);
    send_echo(idle, 1, NULL);
    expect_echo(idle, 1);
    assert_true(wait_closed(idle));
    client_close(silent);
    client_close(slow);
    client_close(trickle);
    client_close(body);
    client_close(idle);
    server_stop(s);
}

/* Both ends of every connection live in this process: raise the soft
 * descriptor limit when it is below what the test needs. */
static void need_fds(rlim_t n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= n) return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= n ? n : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < n) skip();
}

static void test_many_idle_connections(void **state)
{
    enum { N = 1000 };
    need_fds(2 * N + 100);
    rpc_http_cfg cfg = test_cfg();
    cfg.max_conns = N + 10;
    cfg.max_conns_per_ip = N + 10; /* every client is 127.0.0.1 */
    server *s = server_start(&cfg);
    client **idle = calloc(N, sizeof *idle);
    for (int i = 0; i < N; i++) {
        idle[i] = client_open(s->port);
        if (i % 3 == 1) send_str(idle[i], "POST / HTTP/1.1\r\n"); /* mid-request */
        if (i % 3 == 2)                                           /* an idle WebSocket session */
            send_str(idle[i], "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: "
                              "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    }
    client *c = client_open(s->port);
    for (int i = 1; i <= 3; i++) {
        send_echo(c, i, NULL);
        expect_echo(c, i);
    }
    client_close(c);
    for (int i = 0; i < N; i++)
        client_close(idle[i]);
    free(idle);
    server_stop(s);
}

/* The rate limit over HTTP: 429 with a JSON-RPC body, the connection kept;
 * batch entries count one each. Per address: test_rpc_abuse.c. */
static void test_rate_limit(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    cfg.rate_limit = 5;
    server *s = server_start(&cfg);
    client *c = client_open(s->port);
    int ok = 0, limited = 0;
    for (int i = 1; i <= 30; i++) {
        send_echo(c, i, NULL);
        response r;
        assert_int_equal(read_response(c, &r), 0);
        if (r.status == 200) {
            ok++;
        } else {
            assert_int_equal(r.status, 429);
            assert_string_equal(header(&r, "retry-after"), "1");
            assert_non_null(strstr((char *)r.body.data, "-32005"));
            assert_null(header(&r, "connection")); /* kept open */
            limited++;
        }
        response_free(&r);
    }
    print_message("%d served, %d refused\n", ok, limited);
    assert_true(ok >= 5 && limited >= 15);
    /* a batch of 20 is more than the burst: refused whole, even later */
    char body[4096];
    size_t k = (size_t)sprintf(body, "[");
    for (int i = 0; i < 20; i++)
        k += (size_t)sprintf(body + k, "%s{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":%d}",
                             i ? "," : "", i);
    sprintf(body + k, "]");
    char *req = post_req(body, NULL);
    send_str(c, req);
    response r;
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 429);
    response_free(&r);
    free(req);
    client_close(c);
    server_stop(s);
}

static void test_max_conns(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    cfg.max_conns = 2;
    server *s = server_start(&cfg);
    client *a = client_open(s->port), *b = client_open(s->port);
    send_echo(a, 1, NULL);
    expect_echo(a, 1);
    send_echo(b, 2, NULL);
    expect_echo(b, 2);
    /* the third is answered 503, even when its request is already sent */
    for (int i = 0; i < 3; i++) {
        client *x = client_open(s->port);
        if (i) send_echo(x, 9, NULL);
        response r;
        assert_int_equal(read_response(x, &r), 0);
        assert_int_equal(r.status, 503);
        response_free(&r);
        assert_true(wait_closed(x));
        client_close(x);
    }
    response r;
    /* a freed slot is usable again; the server counts the close asynchronously */
    client_close(a);
    int served = 0;
    for (int i = 0; i < 100 && !served; i++) {
        client *y = client_open(s->port);
        send_echo(y, 3, NULL);
        if (read_response(y, &r) == 0 && r.status == 200) served = 1;
        response_free(&r);
        client_close(y);
        if (!served) usleep(10 * 1000);
    }
    assert_true(served);
    client_close(b);
    server_stop(s);
}

static void test_client_disconnects(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    cfg.max_body = 8 * 1024 * 1024;
    server *s = server_start(&cfg);
    const char *big = "{\"jsonrpc\":\"2.0\",\"method\":\"big\",\"params\":[4000000],\"id\":1}";
    /* leaves right after asking for a 4 MB response, with FIN and with RST */
    for (int i = 0; i < 4; i++) {
        client *c = client_open(s->port);
        char *req = post_req(big, NULL);
        send_str(c, req);
        free(req);
        if (i % 2) {
            client_reset(c);
        } else {
            char buf[1000];
            assert_true(recv(c->fd, buf, sizeof buf, 0) > 0); /* reads a little */
            client_close(c);
        }
    }
    /* pipelines many requests without reading, then leaves: the server
     * stops reading at its write high-water mark, so this cannot grow */
    client *c = client_open(s->port);
    const char *mid = "{\"jsonrpc\":\"2.0\",\"method\":\"big\",\"params\":[100000],\"id\":1}";
    char *req = post_req(mid, NULL);
    int sent = 0;
    big_calls = 0;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 300 * 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    for (int i = 0; i < 100000; i++) {
        ssize_t w = send(c->fd, req, strlen(req), MSG_NOSIGNAL);
        if (w < (ssize_t)strlen(req)) break; /* the server stopped reading: send buffer full */
        sent++;
    }
    free(req);
    assert_true(sent < 100000);
    /* Only what the kernel buffers take was answered; the rest waits unread
     * in the socket, not in server memory. */
    int answered = big_calls;
    print_message("pipelined %d requests, %d answered before the server stopped reading\n", sent,
                  answered);
    assert_true(answered < sent / 10);
    client_reset(c);

    /* still serving */
    c = client_open(s->port);
    send_echo(c, 7, NULL);
    expect_echo(c, 7);
    /* the big one completes for a client that reads */
    req = post_req(big, NULL);
    send_str(c, req);
    free(req);
    response r;
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_true(r.body.len > 4000000);
    /* Far larger than the socket buffer: written partly at once and the
     * rest through uv_write. Every byte must arrive, in order. */
    const char *pre = "{\"jsonrpc\":\"2.0\",\"result\":\"";
    assert_memory_equal(r.body.data, pre, strlen(pre));
    const char *res = (const char *)r.body.data + strlen(pre);
    for (size_t i = 0; i < 4000000; i++)
        if (res[i] != big_byte(i)) fail_msg("byte %zu of the result differs", i);
    const char *post = "\",\"id\":1}";
    assert_int_equal(r.body.len, strlen(pre) + 4000000 + strlen(post));
    assert_memory_equal(res + 4000000, post, strlen(post));
    response_free(&r);
    client_close(c);
    server_stop(s);
}

static void test_start_errors(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    server *s = server_start(&cfg);
    uv_loop_t loop;
    uv_loop_init(&loop);
    rpc_dispatch *d = rpc_dispatch_new();
    rpc_http *h = NULL;
    util_err err = {0};
    cfg.port = s->port; /* in use */
    assert_int_equal(rpc_http_start(&h, &loop, &cfg, d, NULL, NULL, &err), UTIL_EIO);
    assert_null(h);
    assert_non_null(strstr(err.msg, "cannot listen"));
    cfg.port = 70000;
    assert_int_equal(rpc_http_start(&h, &loop, &cfg, d, NULL, NULL, &err), UTIL_EINVAL);
    cfg.port = 0;
    cfg.host = "example.com"; /* numeric only: no DNS at start-up */
    assert_int_equal(rpc_http_start(&h, &loop, &cfg, d, NULL, NULL, &err), UTIL_EINVAL);
    cfg.host = "127.0.0.1";
    cfg.cors_origin = "x\r\nEvil: 1";
    assert_int_equal(rpc_http_start(&h, &loop, &cfg, d, NULL, NULL, &err), UTIL_EINVAL);
    /* IPv6 loopback works too when the host has it; stop without running */
    cfg.cors_origin = NULL;
    cfg.host = "::1";
    if (rpc_http_start(&h, &loop, &cfg, d, NULL, NULL, &err) == 0) {
        assert_true(rpc_http_port(h) > 0);
        rpc_http_stop(h);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    assert_int_equal(uv_loop_close(&loop), 0);
    rpc_dispatch_free(d);
    server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_slowloris),
        cmocka_unit_test(test_many_idle_connections),
        cmocka_unit_test(test_max_conns),
        cmocka_unit_test(test_client_disconnects),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
