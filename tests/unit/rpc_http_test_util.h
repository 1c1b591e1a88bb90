/* Shared by the RPC HTTP server tests (test_rpc_http.c,
 * test_rpc_http_limits.c): a server whose libuv loop runs on a thread, and
 * blocking clients on 127.0.0.1 whose responses are parsed with http-parser.
 * No timing assertions: timeouts only bound how long a test may wait for
 * something that must happen. Include after cmocka.h. */
#ifndef OL_TESTS_RPC_HTTP_TEST_UTIL_H
#define OL_TESTS_RPC_HTTP_TEST_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/transport/http.h"
#include "rpc/jsonrpc.h"
#include "util/bytes.h"

/* Each test file uses a subset of the helpers. */
#define RT_HELPER static __attribute__((unused))

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

RT_HELPER json_t *m_echo(void *ctx, json_t *params, rpc_error *e)
{
    return json_incref(params);
}

static _Atomic int big_calls;

/* The i-th byte of a "big" result: position-dependent, so a lost, repeated
 * or reordered piece of a response shows. */
static inline char big_byte(size_t i)
{
    return (char)('a' + (i * 7 + i / 4093) % 26);
}

/* ["big", n]: a string of n bytes */
RT_HELPER json_t *m_big(void *ctx, json_t *params, rpc_error *e)
{
    big_calls++;
    size_t n = (size_t)json_integer_value(json_array_get(params, 0));
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = big_byte(i);
    s[n] = 0;
    json_t *j = json_stringn(s, n);
    free(s);
    return j;
}

RT_HELPER int get_route(void *ctx, const char *path, int *status, const char **ctype, char **body,
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

/* Stops the server from inside a request, as an admin method could. */
RT_HELPER json_t *m_stop_server(void *ctx, json_t *params, rpc_error *e)
{
    server *s = ctx;
    rpc_http_stop(s->http);
    s->http = NULL;
    return json_true();
}

RT_HELPER void on_stop(uv_async_t *a)
{
    server *s = a->data;
    rpc_http_stop(s->http);
    uv_close((uv_handle_t *)a, NULL);
}

RT_HELPER void *loop_main(void *arg)
{
    server *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* extra: registers more methods before the server starts (may be NULL). */
RT_HELPER server *server_start_ex(const rpc_http_cfg *cfg, void (*extra)(server *s))
{
    server *s = calloc(1, sizeof *s);
    assert_int_equal(uv_loop_init(&s->loop), 0);
    s->d = rpc_dispatch_new();
    assert_int_equal(rpc_dispatch_add(s->d, "echo", m_echo, NULL), 0);
    assert_int_equal(rpc_dispatch_add(s->d, "big", m_big, NULL), 0);
    assert_int_equal(rpc_dispatch_add(s->d, "stop_server", m_stop_server, s), 0);
    if (extra) extra(s);
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

RT_HELPER server *server_start(const rpc_http_cfg *cfg)
{
    return server_start_ex(cfg, NULL);
}

RT_HELPER void server_stop(server *s)
{
    uv_async_send(&s->stop);
    pthread_join(s->thread, NULL);
    /* every handle, connection and buffer is released by now */
    assert_int_equal(uv_loop_close(&s->loop), 0);
    rpc_dispatch_free(s->d);
    free(s);
}

RT_HELPER rpc_http_cfg test_cfg(void)
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

RT_HELPER void hdr_append(response *r, const char *at, size_t n, int lower)
{
    for (size_t i = 0; i < n && r->hlen + 2 < sizeof r->headers; i++) {
        char c = at[i];
        if (lower && c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        r->headers[r->hlen++] = c;
    }
    r->headers[r->hlen] = 0;
}

RT_HELPER int c_header_field(http_parser *p, const char *at, size_t n)
{
    client *c = p->data;
    if (c->last_was_value && c->cur->hlen) hdr_append(c->cur, "\n", 1, 0);
    c->last_was_value = 0;
    hdr_append(c->cur, at, n, 1);
    return 0;
}

RT_HELPER int c_header_value(http_parser *p, const char *at, size_t n)
{
    client *c = p->data;
    if (!c->last_was_value) hdr_append(c->cur, ": ", 2, 0);
    c->last_was_value = 1;
    hdr_append(c->cur, at, n, 0);
    return 0;
}

RT_HELPER int c_headers_complete(http_parser *p)
{
    client *c = p->data;
    hdr_append(c->cur, "\n", 1, 0);
    c->cur->status = (int)p->status_code;
    return 0;
}

RT_HELPER int c_body(http_parser *p, const char *at, size_t n)
{
    client *c = p->data;
    util_buf_put(&c->cur->body, at, n);
    return 0;
}

RT_HELPER int c_complete(http_parser *p)
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

RT_HELPER client *client_open(int port)
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

RT_HELPER void client_close(client *c)
{
    if (c->fd >= 0) close(c->fd);
    free(c);
}

/* Closes with a reset instead of a FIN. */
RT_HELPER void client_reset(client *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    client_close(c);
}

RT_HELPER void send_all(client *c, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
        if (w <= 0) fail_msg("send: %s", strerror(errno));
        data += w;
        n -= (size_t)w;
    }
}

RT_HELPER void send_str(client *c, const char *s)
{
    send_all(c, s, strlen(s));
}

RT_HELPER void response_free(response *r)
{
    util_buf_free(&r->body);
}

/* Reads one response. Returns 0, or -1 if the connection ended first. */
RT_HELPER int read_response(client *c, response *r)
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
RT_HELPER int wait_closed(client *c)
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

RT_HELPER char *post_req(const char *body, const char *extra_headers)
{
    char *req = malloc(strlen(body) + (extra_headers ? strlen(extra_headers) : 0) + 512);
    sprintf(req,
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n%sContent-Length: "
            "%zu\r\n\r\n%s",
            extra_headers ? extra_headers : "", strlen(body), body);
    return req;
}

RT_HELPER void expect_echo(client *c, int id)
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

RT_HELPER void send_echo(client *c, int id, const char *extra)
{
    char body[128];
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[%d],\"id\":%d}", id, id);
    char *req = post_req(body, extra);
    send_str(c, req);
    free(req);
}

RT_HELPER void expect_status_and_close(server *s, const char *raw, size_t len, int status)
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

#endif
