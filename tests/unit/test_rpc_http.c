/* The RPC HTTP server on a real socket: a libuv loop runs on a thread, the
 * tests are blocking clients on 127.0.0.1. Responses are parsed with
 * http-parser. No timing assertions: timeouts only bound how long a test may
 * wait for something that must happen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/http.h"
#include "rpc/jsonrpc.h"
#include "util/bytes.h"

#define WAIT_MS 10000 /* upper bound for anything a test waits for */

/* ---------- server fixture ---------- */

typedef struct server {
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t thread;
    rpc_dispatch *d;
    rpc_http *http;
    int port;
} server;

static json_t *m_echo(void *ctx, json_t *params, rpc_error *e)
{
    return json_incref(params);
}

static _Atomic int big_calls;

/* ["big", n]: a string of n bytes */
static json_t *m_big(void *ctx, json_t *params, rpc_error *e)
{
    big_calls++;
    size_t n = (size_t)json_integer_value(json_array_get(params, 0));
    char *s = malloc(n + 1);
    memset(s, 'x', n);
    s[n] = 0;
    json_t *j = json_stringn(s, n);
    free(s);
    return j;
}

static int get_route(void *ctx, const char *path, int *status, const char **ctype, char **body,
                     size_t *len)
{
    if (strcmp(path, "/health") == 0) {
        *status = 200;
        *ctype = "text/plain";
        *body = strdup("ok\n");
        *len = 3;
        return 0;
    }
    if (strcmp(path, "/teapot") == 0) {
        *status = 418;
        *ctype = "bad\r\nInjected: yes"; /* must not reach the wire */
        *body = NULL;
        *len = 0;
        return 0;
    }
    if (strcmp(path, "/badstatus") == 0) {
        *status = 42;
        *body = strdup("x");
        *len = 1;
        return 0;
    }
    return 1;
}

static void on_stop(uv_async_t *a)
{
    server *s = a->data;
    rpc_http_stop(s->http);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
    server *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static server *server_start(const rpc_http_cfg *cfg)
{
    server *s = calloc(1, sizeof *s);
    assert_int_equal(uv_loop_init(&s->loop), 0);
    s->d = rpc_dispatch_new();
    assert_int_equal(rpc_dispatch_add(s->d, "echo", m_echo, NULL), 0);
    assert_int_equal(rpc_dispatch_add(s->d, "big", m_big, NULL), 0);
    util_err err = {0};
    int rc = rpc_http_start(&s->http, &s->loop, cfg, s->d, get_route, NULL, &err);
    if (rc) fail_msg("start: %s", err.msg);
    s->port = rpc_http_port(s->http);
    assert_true(s->port > 0);
    uv_async_init(&s->loop, &s->stop, on_stop);
    s->stop.data = s;
    assert_int_equal(pthread_create(&s->thread, NULL, loop_main, s), 0);
    return s;
}

static void server_stop(server *s)
{
    uv_async_send(&s->stop);
    pthread_join(s->thread, NULL);
    /* every handle, connection and buffer is released by now */
    assert_int_equal(uv_loop_close(&s->loop), 0);
    rpc_dispatch_free(s->d);
    free(s);
}

static rpc_http_cfg test_cfg(void)
{
    rpc_http_cfg c = {.host = "127.0.0.1", .port = 0};
    return c;
}

/* ---------- client ---------- */

typedef struct response {
    int status;
    char headers[4096]; /* "name: value\n" lines, names lowercased */
    size_t hlen;
    util_buf body;
    int complete;
} response;

typedef struct client {
    int fd;
    http_parser parser;
    char buf[65536]; /* received, not yet parsed */
    size_t len;
    response *cur;
    int last_was_value;
} client;

static void hdr_append(response *r, const char *at, size_t n, int lower)
{
    for (size_t i = 0; i < n && r->hlen + 2 < sizeof r->headers; i++) {
        char c = at[i];
        if (lower && c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        r->headers[r->hlen++] = c;
    }
    r->headers[r->hlen] = 0;
}

static int c_header_field(http_parser *p, const char *at, size_t n)
{
    client *c = p->data;
    if (c->last_was_value && c->cur->hlen) hdr_append(c->cur, "\n", 1, 0);
    c->last_was_value = 0;
    hdr_append(c->cur, at, n, 1);
    return 0;
}

static int c_header_value(http_parser *p, const char *at, size_t n)
{
    client *c = p->data;
    if (!c->last_was_value) hdr_append(c->cur, ": ", 2, 0);
    c->last_was_value = 1;
    hdr_append(c->cur, at, n, 0);
    return 0;
}

static int c_headers_complete(http_parser *p)
{
    client *c = p->data;
    hdr_append(c->cur, "\n", 1, 0);
    c->cur->status = (int)p->status_code;
    return 0;
}

static int c_body(http_parser *p, const char *at, size_t n)
{
    client *c = p->data;
    util_buf_put(&c->cur->body, at, n);
    return 0;
}

static int c_complete(http_parser *p)
{
    client *c = p->data;
    c->cur->complete = 1;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings client_settings = {
    .on_header_field = c_header_field,
    .on_header_value = c_header_value,
    .on_headers_complete = c_headers_complete,
    .on_body = c_body,
    .on_message_complete = c_complete,
};

static client *client_open(int port)
{
    client *c = calloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {.tv_sec = WAIT_MS / 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    return c;
}

static void client_close(client *c)
{
    if (c->fd >= 0) close(c->fd);
    free(c);
}

/* Closes with a reset instead of a FIN. */
static void client_reset(client *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    client_close(c);
}

static void send_all(client *c, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
        if (w <= 0) fail_msg("send: %s", strerror(errno));
        data += w;
        n -= (size_t)w;
    }
}

static void send_str(client *c, const char *s)
{
    send_all(c, s, strlen(s));
}

static void response_free(response *r)
{
    util_buf_free(&r->body);
}

/* Reads one response. Returns 0, or -1 if the connection ended first. */
static int read_response(client *c, response *r)
{
    memset(r, 0, sizeof *r);
    util_buf_init(&r->body);
    c->cur = r;
    c->last_was_value = 0;
    http_parser_pause(&c->parser, 0);
    for (;;) {
        if (c->len > 0) {
            size_t used = http_parser_execute(&c->parser, &client_settings, c->buf, c->len);
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
            if (e != HPE_OK && e != HPE_PAUSED) fail_msg("client parse: %s", http_errno_name(e));
            if (r->complete) return 0;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n <= 0) {
            /* EOF ends a body without Content-Length */
            http_parser_execute(&c->parser, &client_settings, NULL, 0);
            return r->complete ? 0 : -1;
        }
        c->len += (size_t)n;
    }
}

/* 1 when the server closes the connection (FIN or reset) within WAIT_MS. */
static int wait_closed(client *c)
{
    char b[4096];
    for (;;) {
        struct pollfd pf = {.fd = c->fd, .events = POLLIN};
        if (poll(&pf, 1, WAIT_MS) <= 0) return 0;
        ssize_t n = recv(c->fd, b, sizeof b, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return 1;
    }
}

static const char *header(const response *r, const char *name)
{
    static char val[512];
    char key[64];
    snprintf(key, sizeof key, "%s: ", name);
    const char *p = r->headers;
    while (p && *p) {
        if (strncmp(p, key, strlen(key)) == 0) {
            const char *v = p + strlen(key);
            size_t n = strcspn(v, "\n");
            snprintf(val, sizeof val, "%.*s", (int)n, v);
            return val;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return NULL;
}

static char *post_req(const char *body, const char *extra_headers)
{
    char *req = malloc(strlen(body) + (extra_headers ? strlen(extra_headers) : 0) + 512);
    sprintf(req, "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n\r\n%s",
            extra_headers ? extra_headers : "", strlen(body), body);
    return req;
}

static void expect_echo(client *c, int id)
{
    response r;
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "content-type"), "application/json");
    char want[128];
    snprintf(want, sizeof want, "{\"jsonrpc\":\"2.0\",\"result\":[%d],\"id\":%d}", id, id);
    assert_int_equal(r.body.len, strlen(want));
    assert_memory_equal(r.body.data, want, strlen(want));
    response_free(&r);
}

static void send_echo(client *c, int id, const char *extra)
{
    char body[128];
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[%d],\"id\":%d}",
             id, id);
    char *req = post_req(body, extra);
    send_str(c, req);
    free(req);
}

/* ---------- tests ---------- */

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

static void expect_status_and_close(server *s, const char *raw, size_t len, int status)
{
    client *c = client_open(s->port);
    send_all(c, raw, len);
    response r;
    assert_int_equal(read_response(c, &r), 0);
    if (r.status != status) {
        char shown[200];
        size_t k = 0;
        for (size_t i = 0; i < len && k + 5 < sizeof shown; i++)
            k += (size_t)snprintf(shown + k, sizeof shown - k,
                                  raw[i] >= 32 && raw[i] < 127 ? "%c" : "\\x%02x",
                                  (unsigned char)raw[i]);
        fail_msg("got %d, want %d for %s", r.status, status, shown);
    }
    assert_string_equal(header(&r, "connection"), "close");
    assert_non_null(strstr((char *)r.body.data, "\"jsonrpc\":\"2.0\""));
    response_free(&r);
    assert_true(wait_closed(c));
    client_close(c);
}

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
        "POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n",
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

static void test_many_idle_connections(void **state)
{
    rpc_http_cfg cfg = test_cfg();
    server *s = server_start(&cfg);
    enum { N = 300 };
    client **idle = calloc(N, sizeof *idle);
    for (int i = 0; i < N; i++) {
        idle[i] = client_open(s->port);
        if (i % 2) send_str(idle[i], "POST / HTTP/1.1\r\n"); /* half of them mid-request */
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
    /* the third is answered 503 (or just closed) */
    client *x = client_open(s->port);
    response r;
    if (read_response(x, &r) == 0) {
        assert_int_equal(r.status, 503);
        response_free(&r);
    }
    assert_true(wait_closed(x));
    client_close(x);
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
    print_message("pipelined %d requests, %d answered before the server stopped reading\n",
                  sent, answered);
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
    response_free(&r);
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

static void test_process_bytes(void **state)
{
    rpc_dispatch *d = rpc_dispatch_new();
    rpc_dispatch_add(d, "echo", m_echo, NULL);
    rpc_http_cfg cfg = {0};
    const char *in = "POST / HTTP/1.1\r\nContent-Length: 44\r\n\r\n"
                     "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1}    "
                     "GET /health HTTP/1.1\r\n\r\n"
                     "BAD\r\n\r\n"
                     "GET /health HTTP/1.1\r\n\r\n";
    char *out;
    size_t n;
    int closed;
    assert_int_equal(
        rpc_http_process_bytes(&cfg, d, get_route, NULL, (const uint8_t *)in, strlen(in), &out,
                               &n, &closed),
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_and_keepalive),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_malformed_http),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_connection_close_and_http10),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_slowloris),
        cmocka_unit_test(test_many_idle_connections),
        cmocka_unit_test(test_max_conns),
        cmocka_unit_test(test_client_disconnects),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_process_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
