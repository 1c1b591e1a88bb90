/* WebSocket on real sockets: the CLI's client against the server, a slow
 * consumer over TCP, bad frames and vanishing clients on raw sockets, the
 * ping timeout, and a server stopped with sessions open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/ws_client.h"
#include "rpc/transport/ws.h"
#include "tests/unit/rpc_http_test_util.h"

static _Atomic int sessions_closed;
static rpc_session *target; /* loop thread only */
static int flood_ok, flood_limit, flood_n;
static size_t flood_size;

static void on_session_closed(void *ctx, rpc_session *s)
{
    sessions_closed++;
    if (s == target) target = NULL;
}

static void flood_cb(uv_timer_t *t)
{
    char *msg = malloc(flood_size + 64);
    int k = snprintf(msg, flood_size + 64,
                     "{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":\"");
    memset(msg + k, 'n', flood_size);
    strcpy(msg + k + flood_size, "\"}");
    for (int i = 0; i < flood_n && target; i++) {
        int rc = rpc_session_send(target, msg, strlen(msg));
        if (rc == 0)
            flood_ok++;
        else if (rc == UTIL_ELIMIT)
            flood_limit++;
        else
            break;
    }
    free(msg);
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

/* ["later", n, size]: after answering, sends n notifications of size bytes */
static json_t *m_later(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    server *s = ctx;
    target = call->session;
    flood_n = (int)json_integer_value(json_array_get(params, 0));
    flood_size = (size_t)json_integer_value(json_array_get(params, 1));
    flood_ok = flood_limit = 0;
    uv_timer_t *t = malloc(sizeof *t);
    uv_timer_init(&s->loop, t);
    uv_timer_start(t, flood_cb, 0, 0);
    return json_true();
}

static json_t *m_stats(void *ctx, json_t *params, rpc_error *e)
{
    server *s = ctx;
    rpc_http_stats st;
    rpc_http_get_stats(s->http, &st);
    return json_pack("{s:I,s:I,s:I,s:I,s:I}", "conns", (json_int_t)st.conns, "ws",
                     (json_int_t)st.ws_sessions, "slow", (json_int_t)st.ws_slow_consumers,
                     "flood_ok", (json_int_t)flood_ok, "flood_limit", (json_int_t)flood_limit);
}

static void extra(server *s)
{
    assert_int_equal(rpc_dispatch_add_ex(s->d, "later", m_later, s, RPC_METHOD_SESSION), 0);
    assert_int_equal(rpc_dispatch_add(s->d, "stats", m_stats, s), 0);
}

static rpc_http_cfg ws_cfg(void)
{
    rpc_http_cfg c = test_cfg();
    c.session_closed = on_session_closed;
    return c;
}

static cli_ws *ws_open(server *s)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
    cli_ws *w;
    util_err e;
    if (cli_ws_connect(&w, url, NULL, WAIT_MS, &e)) fail_msg("connect: %s", e.msg);
    return w;
}

static json_t *ws_call(cli_ws *w, const char *req)
{
    util_err e;
    assert_int_equal(cli_ws_send_text(w, req, strlen(req), &e), 0);
    char *m;
    if (cli_ws_recv_text(w, WAIT_MS, &m, NULL, &e)) fail_msg("recv: %s", e.msg);
    json_t *j = json_loads(m, 0, NULL);
    free(m);
    assert_non_null(j);
    return j;
}

static json_t *stats(server *s)
{
    client *c = client_open(s->port);
    char *req = post_req("{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"id\":1}", NULL);
    send_str(c, req);
    free(req);
    response r;
    assert_int_equal(read_response(c, &r), 0);
    json_t *j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    response_free(&r);
    client_close(c);
    json_t *res = json_incref(json_object_get(j, "result"));
    json_decref(j);
    return res;
}

static void test_roundtrip(void **state)
{
    rpc_http_cfg cfg = ws_cfg();
    server *s = server_start_ex(&cfg, extra);
    sessions_closed = 0;
    cli_ws *w = ws_open(s);
    json_t *r = ws_call(w, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1,2],\"id\":7}");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
    assert_int_equal(json_array_size(json_object_get(r, "result")), 2);
    json_decref(r);
    /* notifications pushed by the server arrive after the answer */
    r = ws_call(w, "{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"params\":[3,10],\"id\":8}");
    assert_true(json_is_true(json_object_get(r, "result")));
    json_decref(r);
    for (int i = 0; i < 3; i++) {
        char *m;
        util_err e;
        if (cli_ws_recv_text(w, WAIT_MS, &m, NULL, &e)) fail_msg("recv: %s", e.msg);
        assert_non_null(strstr(m, "\"subscription\""));
        free(m);
    }
    /* HTTP still works next to it */
    client *c = client_open(s->port);
    send_echo(c, 5, NULL);
    expect_echo(c, 5);
    client_close(c);
    cli_ws_close(w);
    for (int i = 0; i < 500 && sessions_closed < 1; i++)
        usleep(10 * 1000);
    assert_int_equal(sessions_closed, 1);
    server_stop(s);
}

static void test_slow_consumer(void **state)
{
    rpc_http_cfg cfg = ws_cfg();
    cfg.ws_send_limit = 1024 * 1024;
    server *s = server_start_ex(&cfg, extra);
    cli_ws *w = ws_open(s);
    /* 100 MB of notifications requested; the client reads them only later */
    json_t *r = ws_call(w, "{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"params\":[100000,1000],"
                           "\"id\":1}");
    json_decref(r);
    json_t *st = NULL;
    for (int i = 0; i < 500; i++) {
        json_decref(st);
        st = stats(s);
        if (json_integer_value(json_object_get(st, "slow")) == 1) break;
        usleep(10 * 1000);
    }
    assert_int_equal(json_integer_value(json_object_get(st, "slow")), 1);
    long ok = (long)json_integer_value(json_object_get(st, "flood_ok"));
    print_message("%ld notifications queued before the limit\n", ok);
    /* the kernel buffers plus the 1 MiB limit, far from the 100000 asked */
    assert_true(ok < 20000);
    assert_int_equal(json_integer_value(json_object_get(st, "flood_limit")), 1);
    json_decref(st);
    /* reading now: the notifications, then the close frame with its reason */
    int got = 0;
    util_err e;
    char *m;
    while (cli_ws_recv_text(w, WAIT_MS, &m, NULL, &e) == 0) {
        got++;
        free(m);
    }
    print_message("client read %d notifications, then: %s\n", got, e.msg);
    assert_non_null(strstr(e.msg, "1008 send buffer limit exceeded"));
    cli_ws_close(w);
    /* still serving */
    w = ws_open(s);
    r = ws_call(w, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1],\"id\":1}");
    json_decref(r);
    cli_ws_close(w);

    /* a client that never reads again is cut by the server, not kept */
    w = ws_open(s);
    r = ws_call(w, "{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"params\":[100000,1000],"
                   "\"id\":1}");
    json_decref(r);
    st = NULL;
    for (int i = 0; i < 1000; i++) {
        json_decref(st);
        st = stats(s);
        if (json_integer_value(json_object_get(st, "slow")) == 2 &&
            json_integer_value(json_object_get(st, "ws")) == 0)
            break;
        usleep(10 * 1000);
    }
    assert_int_equal(json_integer_value(json_object_get(st, "slow")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "ws")), 0);
    json_decref(st);
    cli_ws_close(w);
    server_stop(s);
}

/* Opens a raw socket and completes the handshake by hand. */
static client *raw_ws(server *s)
{
    client *c = client_open(s->port);
    send_str(c, "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    char buf[512];
    size_t n = 0;
    while (!memmem(buf, n, "\r\n\r\n", 4)) {
        ssize_t k = recv(c->fd, buf + n, sizeof buf - n, 0);
        assert_true(k > 0);
        n += (size_t)k;
    }
    assert_int_equal(strncmp(buf, "HTTP/1.1 101 ", 13), 0);
    assert_true((char *)memmem(buf, n, "\r\n\r\n", 4) + 4 == buf + n); /* nothing more yet */
    return c;
}

/* Reads server frames until a close frame; returns its status (or -1 if
 * the connection ended without one). Pings are skipped. */
static int read_close(client *c)
{
    uint8_t buf[65536];
    size_t n = 0;
    for (;;) {
        /* parse complete unmasked server frames */
        while (n >= 2) {
            size_t len = buf[1] & 0x7f, hl = 2;
            if (len == 126) {
                if (n < 4) break;
                len = (size_t)buf[2] << 8 | buf[3];
                hl = 4;
            }
            if (n < hl + len) break;
            if ((buf[0] & 0x0f) == 0x8) return len >= 2 ? buf[hl] << 8 | buf[hl + 1] : 1005;
            memmove(buf, buf + hl + len, n - hl - len);
            n -= hl + len;
        }
        ssize_t k = recv(c->fd, buf + n, sizeof buf - n, 0);
        if (k <= 0) return -1;
        n += (size_t)k;
    }
}

static void test_bad_frames_tcp(void **state)
{
    rpc_http_cfg cfg = ws_cfg();
    cfg.max_body = 1000;
    server *s = server_start_ex(&cfg, extra);
    static const struct {
        uint8_t bytes[16];
        size_t n;
        int code;
    } cases[] = {
        {{0x81, 0x02, '{', '}'}, 4, 1002},                  /* unmasked */
        {{0x81, 0xfe, 0x03, 0xe9, 1, 2, 3, 4, 0}, 9, 1009}, /* 1001 bytes > max_body */
        {{0x82, 0x81, 1, 2, 3, 4, 0}, 7, 1003},             /* binary */
        {{0x87, 0x81, 1, 2, 3, 4, 0}, 7, 1002},             /* reserved opcode */
        {{0x81, 0x81, 0, 0, 0, 0, 0xff}, 7, 1007},          /* bad UTF-8 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        client *c = raw_ws(s);
        send_all(c, (const char *)cases[i].bytes, cases[i].n);
        int code = read_close(c);
        if (code != cases[i].code) fail_msg("case %zu: close %d, want %d", i, code, cases[i].code);
        assert_true(wait_closed(c));
        client_close(c);
    }
    /* clients that vanish mid-frame, with FIN and with RST */
    for (int i = 0; i < 4; i++) {
        client *c = raw_ws(s);
        const uint8_t half[] = {0x81, 0xfe, 0x01, 0x00, 1, 2, 3, 4, 'x'};
        send_all(c, (const char *)half, sizeof half);
        if (i % 2)
            client_reset(c);
        else
            client_close(c);
    }
    /* a client that asks for a large answer and leaves */
    client *c = raw_ws(s);
    const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"big\",\"params\":[4000000],\"id\":1}";
    uint8_t f[128];
    size_t fl = 0;
    f[fl++] = 0x81;
    f[fl++] = 0x80 | (uint8_t)strlen(req);
    memset(f + fl, 0, 4); /* zero mask */
    fl += 4;
    memcpy(f + fl, req, strlen(req));
    fl += strlen(req);
    send_all(c, (const char *)f, fl);
    client_reset(c);
    /* still serving, and every session is gone */
    cli_ws *w = ws_open(s);
    json_t *r = ws_call(w, "{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"id\":1}");
    json_decref(r);
    cli_ws_close(w);
    json_t *st = NULL;
    for (int i = 0; i < 500; i++) {
        json_decref(st);
        st = stats(s);
        if (json_integer_value(json_object_get(st, "ws")) == 0) break;
        usleep(10 * 1000);
    }
    assert_int_equal(json_integer_value(json_object_get(st, "ws")), 0);
    json_decref(st);
    server_stop(s);
}

static void test_ping_timeout(void **state)
{
    rpc_http_cfg cfg = ws_cfg();
    cfg.ws_ping_ms = 50;
    server *s = server_start_ex(&cfg, extra);
    /* a raw client never answers pings: closed as idle after 3 intervals */
    client *c = raw_ws(s);
    assert_int_equal(read_close(c), 1001);
    assert_true(wait_closed(c));
    client_close(c);
    /* the CLI client answers pings (wslay does) and stays */
    cli_ws *w = ws_open(s);
    char *m;
    util_err e;
    assert_int_equal(cli_ws_recv_text(w, 600, &m, NULL, &e), UTIL_ESTATE); /* timeout, open */
    json_t *r = ws_call(w, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1],\"id\":1}");
    json_decref(r);
    cli_ws_close(w);
    server_stop(s);
}

static void test_stop_with_sessions(void **state)
{
    rpc_http_cfg cfg = ws_cfg();
    server *s = server_start_ex(&cfg, extra);
    sessions_closed = 0;
    cli_ws *w[10];
    for (int i = 0; i < 10; i++) {
        w[i] = ws_open(s);
        json_t *r = ws_call(w[i], "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1}");
        json_decref(r);
    }
    server_stop(s); /* asserts the loop closes with nothing left */
    assert_int_equal(sessions_closed, 10);
    for (int i = 0; i < 10; i++)
        cli_ws_close(w[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),          cmocka_unit_test(test_slow_consumer),
        cmocka_unit_test(test_bad_frames_tcp),     cmocka_unit_test(test_ping_timeout),
        cmocka_unit_test(test_stop_with_sessions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
