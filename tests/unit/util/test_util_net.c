/* util/net against a scripted HTTP server on 127.0.0.1: keep-alive, the
 * headers sent, the response cap (announced and streamed), statuses, URL
 * checks, timeouts, refused connections, a TLS handshake with a plain HTTP
 * server, the CA file check, and proxies from the environment (used for other
 * hosts, never for loopback); raw streams (util_net_stream): bytes both
 * ways, a CONNECT tunnel through a proxy. Certificates are checked end to end
 * by tests/integration/cli_tls.sh and test_net_uv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/net.h"

#define HOLD ((const char *)1) /* never answer */
#define OK_HELLO "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

static struct {
    int lfd, port;
    pthread_t th;
    volatile int stop;
    const char *answer; /* raw HTTP answer to every request, or HOLD */
    int accepts, requests;
    char last[4096]; /* the last request's head and body */
    char url[64];
} S;

/* Answers requests on fd until the client closes, a new connection waits,
 * or the answer says "Connection: close". */
static int serve(int fd)
{
    char req[8192];
    size_t got = 0;
    int served = 0;
    while (!S.stop) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = S.lfd, .events = POLLIN}};
        if (poll(p, 2, 20) <= 0) continue;
        if (!(p[0].revents & POLLIN)) {
            if (p[1].revents & POLLIN) return served;
            continue;
        }
        ssize_t r = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (r <= 0) return served;
        if (got == 0 && req[0] == 0x16) {
            /* A TLS ClientHello: answer in plain HTTP, as a real server would. */
            send(fd, OK_HELLO, strlen(OK_HELLO), MSG_NOSIGNAL);
            S.accepts++;
            return 1;
        }
        got += (size_t)r;
        req[got] = 0;
        char *eoh = strstr(req, "\r\n\r\n");
        if (!eoh) continue;
        char *cl = strcasestr(req, "\r\nContent-Length:");
        size_t clen = cl ? strtoul(cl + 17, NULL, 10) : 0;
        size_t need = (size_t)(eoh + 4 - req) + clen;
        if (got < need) continue;
        memcpy(S.last, req, need < sizeof S.last - 1 ? need : sizeof S.last - 1);
        S.last[need < sizeof S.last - 1 ? need : sizeof S.last - 1] = 0;
        memmove(req, req + need, got - need);
        got -= need;
        S.requests++;
        /* A connection counts once it carried a request: other tests'
         * processes (a p2p node re-dialling a port it knew) may connect to
         * this kernel-chosen port too. */
        if (!served) S.accepts++;
        served = 1;
        if (S.answer == HOLD) {
            while (!S.stop) {
                struct pollfd h = {.fd = fd, .events = POLLIN};
                if (poll(&h, 1, 20) > 0) return served; /* the client gave up */
            }
            return served;
        }
        size_t n = strlen(S.answer), off = 0;
        while (off < n) {
            ssize_t w = send(fd, S.answer + off, n - off, MSG_NOSIGNAL);
            if (w <= 0) return served;
            off += (size_t)w;
        }
        if (strcasestr(S.answer, "Connection: close")) return served;
    }
    return served;
}

static void *accept_loop(void *arg)
{
    while (!S.stop) {
        struct pollfd p = {.fd = S.lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(S.lfd, NULL, NULL);
        if (fd < 0) continue;
        (void)serve(fd);
        close(fd);
    }
    return NULL;
}

/* The server listens on 127.0.0.<last> (all of 127/8 is loopback). */
static void server_start_at(const char *answer, uint8_t last)
{
    memset(&S, 0, sizeof S);
    S.answer = answer;
    S.lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(S.lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1u + last)};
    assert_int_equal(bind(S.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(S.lfd, 16), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(S.lfd, (struct sockaddr *)&sa, &sl), 0);
    S.port = ntohs(sa.sin_port);
    snprintf(S.url, sizeof S.url, "http://127.0.0.%u:%d/rpc", (unsigned)last, S.port);
    assert_int_equal(pthread_create(&S.th, NULL, accept_loop, NULL), 0);
}

static void server_start(const char *answer)
{
    server_start_at(answer, 1);
}

static void server_stop(void)
{
    S.stop = 1;
    pthread_join(S.th, NULL);
    close(S.lfd);
}

static util_net_client *client(size_t max_response, int timeout_ms)
{
    util_net_opts o = {.max_response = max_response, .timeout_ms = timeout_ms};
    util_net_client *c = NULL;
    util_err e;
    if (util_net_client_new(&c, &o, &e)) fail_msg("client: %s", e.msg);
    return c;
}

static void test_keepalive_and_headers(void **state)
{
    /* 127.0.0.2: the server drops a kept-alive connection when another one
     * waits, and other tests' p2p nodes re-dial 127.0.0.1 ports they once
     * knew, which the kernel may have given this listener. */
    server_start_at(OK_HELLO, 2);
    util_net_client *c = client(0, 5000);
    util_net_resp r;
    util_err e;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(util_net_post_json(c, S.url, "{\"a\":1}", 7, &r, &e), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.len, 5);
        assert_string_equal(r.body, "hello");
        util_net_resp_free(&r);
    }
    /* One connection for all three. */
    assert_int_equal(S.accepts, 1);
    assert_int_equal(S.requests, 3);
    assert_true(strncmp(S.last, "POST /rpc HTTP/1.1\r\n", 20) == 0);
    assert_non_null(strcasestr(S.last, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strcasestr(S.last, "\r\nAccept: application/json\r\n"));
    assert_non_null(strstr(S.last, "\r\n\r\n{\"a\":1}"));

    assert_int_equal(util_net_get(c, S.url, &r, &e), 0);
    assert_string_equal(r.body, "hello");
    util_net_resp_free(&r);
    assert_true(strncmp(S.last, "GET /rpc HTTP/1.1\r\n", 19) == 0);
    assert_null(strcasestr(S.last, "Content-Type"));
    assert_int_equal(S.accepts, 1);

    /* The server closing a kept-alive connection costs a reconnect, no error. */
    S.answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    assert_int_equal(util_net_post_json(c, S.url, "{}", 2, &r, &e), 0);
    util_net_resp_free(&r);
    S.answer = OK_HELLO;
    assert_int_equal(util_net_post_json(c, S.url, "{}", 2, &r, &e), 0);
    assert_string_equal(r.body, "hello");
    util_net_resp_free(&r);
    assert_int_equal(S.accepts, 2);
    util_net_client_free(c);
    server_stop();
}

static char *chunked(size_t nchunks, size_t chunk)
{
    size_t cap = 128 + nchunks * (chunk + 16);
    char *s = malloc(cap);
    assert_non_null(s);
    size_t n = (size_t)snprintf(s, cap, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t i = 0; i < nchunks; i++) {
        n += (size_t)snprintf(s + n, cap - n, "%zx\r\n", chunk);
        memset(s + n, 'x', chunk);
        n += chunk;
        n += (size_t)snprintf(s + n, cap - n, "\r\n");
    }
    snprintf(s + n, cap - n, "0\r\n\r\n");
    return s;
}

static void test_limits_and_statuses(void **state)
{
    server_start(OK_HELLO);
    util_net_client *c = client(1000, 5000);
    util_net_resp r;
    util_err e;
    /* Exactly the cap is fine, one byte more is not, announced or streamed. */
    /* The answers are freed after the server stopped: it may still be
     * sending one the client gave up on. */
    char *a = chunked(2, 500), *b = chunked(3, 400);
    S.answer = a;
    assert_int_equal(util_net_post_json(c, S.url, "{}", 2, &r, &e), 0);
    assert_int_equal(r.len, 1000);
    util_net_resp_free(&r);
    S.answer = b;
    assert_int_equal(util_net_post_json(c, S.url, "{}", 2, &r, &e), UTIL_ELIMIT);
    assert_int_equal(r.fail, UTIL_NET_FAIL_TOO_BIG);
    assert_null(r.body);
    char want[160];
    snprintf(want, sizeof want, "answer from server at %s is larger than 1000 bytes", S.url);
    assert_string_equal(e.msg, want);
    S.answer = "HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n";
    assert_int_equal(util_net_post_json(c, S.url, "{}", 2, &r, &e), UTIL_ELIMIT);
    assert_int_equal(r.fail, UTIL_NET_FAIL_TOO_BIG);

    /* Not 2xx: an error, with the status, reason and body kept. */
    S.answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy";
    assert_int_equal(util_net_get(c, S.url, &r, &e), UTIL_EIO);
    assert_int_equal(r.fail, UTIL_NET_FAIL_HTTP);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "busy");
    snprintf(want, sizeof want, "server at %s answered HTTP 503 Service Unavailable: busy", S.url);
    assert_string_equal(e.msg, want);
    util_net_resp_free(&r);
    S.answer = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    assert_int_equal(util_net_get(c, S.url, &r, &e), 0);
    assert_int_equal(r.status, 204);
    assert_string_equal(r.body, "");
    util_net_resp_free(&r);

    /* Answers that are not HTTP, or stop early. */
    S.answer = "garbage\r\n\r\n";
    assert_int_equal(util_net_get(c, S.url, &r, &e), UTIL_EIO);
    assert_int_equal(r.fail, UTIL_NET_FAIL_PROTOCOL);
    assert_non_null(strstr(e.msg, "malformed HTTP answer from server at"));
    S.answer = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort";
    assert_int_equal(util_net_get(c, S.url, &r, &e), UTIL_EIO);
    assert_non_null(strstr(e.msg, "closed the connection mid-answer"));

    /* Timeout on the answer; the request itself went out. */
    util_net_client_free(c);
    c = client(0, 300);
    S.answer = HOLD;
    assert_int_equal(util_net_get(c, S.url, &r, &e), UTIL_EIO);
    assert_int_equal(r.fail, UTIL_NET_FAIL_TIMEOUT);
    snprintf(want, sizeof want, "timed out waiting for the answer of server at %s", S.url);
    assert_string_equal(e.msg, want);
    util_net_client_free(c);

    /* https:// to a server that does not speak TLS. */
    c = client(0, 5000);
    S.answer = OK_HELLO;
    char tls_url[64];
    snprintf(tls_url, sizeof tls_url, "https://127.0.0.1:%d/", S.port);
    assert_int_equal(util_net_get(c, tls_url, &r, &e), UTIL_EIO);
    assert_int_equal(r.fail, UTIL_NET_FAIL_TLS);
    assert_non_null(strstr(e.msg, "TLS handshake with server at https://127.0.0.1:"));
    server_stop();
    free(a);
    free(b);

    /* The port is closed now. */
    assert_int_equal(util_net_get(c, S.url, &r, &e), UTIL_EIO);
    assert_int_equal(r.fail, UTIL_NET_FAIL_CONNECT);
    snprintf(want, sizeof want, "cannot reach server at %s: Connection refused", S.url);
    assert_string_equal(e.msg, want);
    util_net_client_free(c);
}

static void test_urls_and_options(void **state)
{
    util_net_client *c = client(0, 5000);
    util_net_resp r;
    util_err e;
    static const char *const bad[] = {"ftp://h/", "file:///etc/passwd", "127.0.0.1:8545", "",
                                      "http://",  "http://h:99999/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (util_net_get(c, bad[i], &r, &e) != UTIL_EINVAL)
            fail_msg("URL '%s' accepted: %s", bad[i], e.msg);
        assert_int_equal(r.fail, UTIL_NET_FAIL_URL);
    }
    assert_int_equal(util_net_get(c, "ftp://h/", &r, &e), UTIL_EINVAL);
    assert_string_equal(e.msg, "server URL must start with http:// or https:// (got 'ftp://h/')");
    util_net_client_free(c);

    util_net_opts o = {.ca_file = "/nonexistent/ca.pem", .peer_name = "node"};
    assert_int_equal(util_net_client_new(&c, &o, &e), UTIL_EINVAL);
    assert_null(c);
    assert_string_equal(e.msg,
                        "cannot read CA file '/nonexistent/ca.pem': No such file or directory");
    o.ca_file = "/";
    assert_int_equal(util_net_client_new(&c, &o, &e), UTIL_EINVAL);
    assert_non_null(strstr(e.msg, "is not a regular file"));
}

/* The test's own proxy environment, restored afterwards. */
static void clear_proxy_env(void)
{
    static const char *const vars[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                       "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
}

static void test_proxy_from_environment(void **state)
{
    clear_proxy_env();
    server_start(OK_HELLO);
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", S.port);
    setenv("http_proxy", proxy, 1);
    util_net_client *c = client(0, 5000);
    util_net_resp r;
    util_err e;
    /* Another host goes through the proxy: the request line names it. */
    assert_int_equal(util_net_post_json(c, "http://node.invalid:8545/", "{}", 2, &r, &e), 0);
    util_net_resp_free(&r);
    assert_true(strncmp(S.last, "POST http://node.invalid:8545/ HTTP/1.1\r\n", 41) == 0);
    /* Loopback never does, whatever the environment says: the request line
     * is the plain path. */
    for (int i = 0; i < 2; i++) {
        char url[64];
        snprintf(url, sizeof url, i ? "http://localhost:%d/x" : "http://127.0.0.1:%d/x", S.port);
        assert_int_equal(util_net_post_json(c, url, "{}", 2, &r, &e), 0);
        util_net_resp_free(&r);
        if (strncmp(S.last, "POST /x HTTP/1.1\r\n", 18) != 0) fail_msg("%s: %s", url, S.last);
    }
    util_net_client_free(c);
    server_stop();

    /* A proxy that does not answer: the message says it was the proxy. */
    c = client(0, 5000);
    assert_int_equal(util_net_post_json(c, "http://node.invalid:8545/", "{}", 2, &r, &e), UTIL_EIO);
    assert_int_equal(r.fail, UTIL_NET_FAIL_CONNECT);
    assert_string_equal(e.msg, "cannot reach server at http://node.invalid:8545/: Connection "
                               "refused (through the proxy in $http_proxy)");
    util_net_client_free(c);
    clear_proxy_env();
}

/* util_net_stream: a raw connection libcurl made, then bytes both ways;
 * through a proxy it is a CONNECT tunnel; a refused connection has the
 * message of a request. */
static void test_stream(void **state)
{
    clear_proxy_env();
    server_start(OK_HELLO);
    util_net_stream *st;
    util_net_fail fail;
    util_err e;
    util_net_opts o = {.timeout_ms = 5000};
    if (util_net_stream_open(&st, S.url, &o, &fail, &e)) fail_msg("open: %s", e.msg);
    assert_int_equal(fail, UTIL_NET_OK);
    assert_true(util_net_stream_fd(st) >= 0);
    static const char req[] = "POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
    size_t off = 0, n;
    while (off < sizeof req - 1) {
        assert_int_equal(util_net_stream_send(st, req + off, sizeof req - 1 - off, &n, &e), 0);
        off += n;
    }
    char got[256];
    size_t have = 0;
    for (int i = 0; i < 500 && have < strlen(OK_HELLO); i++) {
        assert_int_equal(util_net_stream_recv(st, got + have, sizeof got - 1 - have, &n, &e), 0);
        have += n;
        if (n == 0) {
            struct pollfd p = {.fd = util_net_stream_fd(st), .events = POLLIN};
            poll(&p, 1, 10);
        }
    }
    got[have] = 0;
    assert_string_equal(got, OK_HELLO);
    assert_true(strncmp(S.last, "POST /raw HTTP/1.1\r\n", 20) == 0);
    util_net_stream_close(st);

    /* Another host through the proxy: libcurl asks it for a tunnel. */
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", S.port);
    setenv("http_proxy", proxy, 1);
    S.last[0] = 0;
    if (util_net_stream_open(&st, "http://node.invalid:8545/ws", &o, &fail, &e) == 0)
        util_net_stream_close(st);
    clear_proxy_env();
    if (strncmp(S.last, "CONNECT node.invalid:8545 HTTP/1.1\r\n", 36) != 0)
        fail_msg("through the proxy: %s", S.last);
    server_stop();

    /* Nobody listens now. */
    assert_int_equal(util_net_stream_open(&st, S.url, &o, &fail, &e), UTIL_EIO);
    assert_null(st);
    assert_int_equal(fail, UTIL_NET_FAIL_CONNECT);
    assert_non_null(strstr(e.msg, "cannot reach server at http://127.0.0.1:"));
    assert_int_equal(util_net_stream_open(&st, "ws://127.0.0.1:1/", &o, &fail, &e), UTIL_EINVAL);
    assert_int_equal(fail, UTIL_NET_FAIL_URL);
}

int main(void)
{
    /* Whatever proxy the machine running the tests has must not interfere. */
    clear_proxy_env();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalive_and_headers),
        cmocka_unit_test(test_limits_and_statuses),
        cmocka_unit_test(test_urls_and_options),
        cmocka_unit_test(test_proxy_from_environment),
        cmocka_unit_test(test_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
