/* util/net_uv inside a libuv loop, against a small HTTP(S) server on
 * 127.0.0.1 run by threads of this test: requests run concurrently (the
 * server answers none until all have arrived) and reuse their connections,
 * extra headers are sent, a time limit fires, answers over the size cap are
 * refused (announced and streamed), HTTPS with a self-signed certificate made
 * here by `openssl req` works with the CA given and fails without it, and
 * cancelling or closing the client ends running requests. Each loop has a
 * deadline timer, so no test can hang. */
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

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "util/net_uv.h"

#define DEADLINE_MS 20000
#define MAX_CONNS 32

/* --- the server ---------------------------------------------------------------- */

typedef enum mode {
    M_ECHO,    /* 200 with the request's body */
    M_BARRIER, /* M_ECHO, but only once S.barrier requests have arrived */
    M_HOLD,    /* never answer */
    M_BIG,     /* announce 4000 bytes */
    M_STREAM,  /* chunked, 4000 bytes, no length announced */
} mode;

static struct {
    int lfd, port;
    pthread_t th, conn_th[MAX_CONNS];
    int nconn;
    volatile int stop;
    mode mode;
    int barrier;
    SSL_CTX *tls; /* NULL: plain HTTP */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived, accepts, handshakes_failed;
    char auth[128]; /* the last Authorization header */
    char url[64];
} S;

typedef struct conn {
    int fd;
    SSL *ssl;
} conn;

/* Waits until c has bytes to read; 0 ready, -1 stopping. */
static int wait_readable(conn *c)
{
    while (!S.stop) {
        if (c->ssl && SSL_pending(c->ssl) > 0) return 0;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 20) > 0) return 0;
    }
    return -1;
}

static ssize_t rd(conn *c, char *buf, size_t n)
{
    if (c->ssl) {
        int r = SSL_read(c->ssl, buf, (int)n);
        return r > 0 ? r : -1;
    }
    ssize_t r = recv(c->fd, buf, n, 0);
    return r > 0 ? r : -1;
}

static int wr(conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n) : send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void answer(conn *c, const char *body, size_t blen)
{
    char buf[9000];
    if (S.mode == M_HOLD) {
        while (wait_readable(c) == 0) {
            char tmp[64];
            if (rd(c, tmp, sizeof tmp) < 0) return; /* the client gave up */
        }
        return;
    }
    if (S.mode == M_BIG) {
        const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n";
        wr(c, a, strlen(a));
        return;
    }
    if (S.mode == M_STREAM) {
        const char *a = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        if (wr(c, a, strlen(a))) return;
        char chunk[512];
        memset(chunk, 'x', sizeof chunk);
        for (int i = 0; i < 8; i++) {
            if (wr(c, "200\r\n", 5) || wr(c, chunk, 512) || wr(c, "\r\n", 2)) return;
        }
        wr(c, "0\r\n\r\n", 5);
        return;
    }
    if (S.mode == M_BARRIER) {
        pthread_mutex_lock(&S.mu);
        while (S.arrived < S.barrier && !S.stop)
            pthread_cond_wait(&S.cv, &S.mu);
        pthread_mutex_unlock(&S.mu);
    }
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%.*s",
                     blen, (int)blen, body);
    wr(c, buf, (size_t)n);
}

/* Answers requests on one connection until the client closes it. */
static void *serve(void *arg)
{
    conn c = {.fd = (int)(intptr_t)arg};
    if (S.tls) {
        c.ssl = SSL_new(S.tls);
        SSL_set_fd(c.ssl, c.fd);
        if (SSL_accept(c.ssl) != 1) {
            pthread_mutex_lock(&S.mu);
            S.handshakes_failed++;
            pthread_mutex_unlock(&S.mu);
            goto out;
        }
    }
    char req[8192];
    size_t got = 0;
    while (wait_readable(&c) == 0) {
        ssize_t r = rd(&c, req + got, sizeof req - 1 - got);
        if (r <= 0) break;
        got += (size_t)r;
        req[got] = 0;
        char *eoh = strstr(req, "\r\n\r\n");
        if (!eoh) continue;
        char *cl = strcasestr(req, "\r\nContent-Length:");
        size_t clen = cl ? strtoul(cl + 17, NULL, 10) : 0;
        size_t head = (size_t)(eoh + 4 - req);
        if (got < head + clen) continue;
        pthread_mutex_lock(&S.mu);
        char *auth = strcasestr(req, "\r\nAuthorization: ");
        if (auth && auth < eoh)
            snprintf(S.auth, sizeof S.auth, "%.*s", (int)strcspn(auth + 17, "\r"), auth + 17);
        S.arrived++;
        pthread_cond_broadcast(&S.cv);
        pthread_mutex_unlock(&S.mu);
        char body[4096];
        size_t blen = clen < sizeof body ? clen : sizeof body;
        memcpy(body, eoh + 4, blen);
        memmove(req, req + head + clen, got - head - clen);
        got -= head + clen;
        answer(&c, body, blen);
        if (S.mode == M_HOLD || S.mode == M_BIG) break;
    }
out:
    if (c.ssl) SSL_free(c.ssl);
    close(c.fd);
    return NULL;
}

static void *accept_loop(void *arg)
{
    while (!S.stop) {
        struct pollfd p = {.fd = S.lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(S.lfd, NULL, NULL);
        if (fd < 0) continue;
        pthread_mutex_lock(&S.mu);
        int slot = S.nconn < MAX_CONNS ? S.nconn++ : -1;
        S.accepts++;
        pthread_mutex_unlock(&S.mu);
        if (slot < 0 || pthread_create(&S.conn_th[slot], NULL, serve, (void *)(intptr_t)fd) != 0) {
            close(fd);
            if (slot >= 0) S.nconn--;
        }
    }
    return NULL;
}

static void server_start(mode m, SSL_CTX *tls)
{
    memset(&S, 0, sizeof S);
    S.mode = m;
    S.tls = tls;
    pthread_mutex_init(&S.mu, NULL);
    pthread_cond_init(&S.cv, NULL);
    S.lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(S.lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(S.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(S.lfd, 64), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(S.lfd, (struct sockaddr *)&sa, &sl), 0);
    S.port = ntohs(sa.sin_port);
    snprintf(S.url, sizeof S.url, "%s://127.0.0.1:%d/rpc", tls ? "https" : "http", S.port);
    assert_int_equal(pthread_create(&S.th, NULL, accept_loop, NULL), 0);
}

static void server_stop(void)
{
    pthread_mutex_lock(&S.mu);
    S.stop = 1;
    pthread_cond_broadcast(&S.cv);
    pthread_mutex_unlock(&S.mu);
    pthread_join(S.th, NULL);
    for (int i = 0; i < S.nconn; i++)
        pthread_join(S.conn_th[i], NULL);
    close(S.lfd);
    pthread_mutex_destroy(&S.mu);
    pthread_cond_destroy(&S.cv);
}

/* --- the client side ------------------------------------------------------------- */

typedef struct result {
    int called, rc;
    long status;
    util_net_fail fail;
    char body[256];
    char msg[256];
} result;

typedef struct run {
    uv_loop_t loop;
    uv_timer_t deadline;
    util_net_uv *client;
    int expected, done, timed_out;
    int close_on_last; /* close the client from the last callback */
    result res[8];
} run;

static run R;

static void on_deadline(uv_timer_t *t)
{
    R.timed_out = 1;
    util_net_uv_close(R.client);
    R.client = NULL;
}

static void on_answer(void *ctx, int rc, util_net_resp *resp, const util_err *err)
{
    result *r = ctx;
    r->called++;
    r->rc = rc;
    r->status = resp->status;
    r->fail = resp->fail;
    snprintf(r->body, sizeof r->body, "%s", resp->body ? resp->body : "");
    snprintf(r->msg, sizeof r->msg, "%s", rc ? err->msg : "");
    if (++R.done == R.expected) {
        if (R.close_on_last) {
            uv_timer_stop(&R.deadline);
            util_net_uv_close(R.client);
            R.client = NULL;
        } else {
            /* The loop must now end by itself: the deadline still fires if
             * the idle client holds it. */
            uv_unref((uv_handle_t *)&R.deadline);
        }
    }
}

static void run_start(const util_net_opts *o, int expected)
{
    memset(&R, 0, sizeof R);
    assert_int_equal(uv_loop_init(&R.loop), 0);
    assert_int_equal(uv_timer_init(&R.loop, &R.deadline), 0);
    assert_int_equal(uv_timer_start(&R.deadline, on_deadline, DEADLINE_MS, 0), 0);
    util_err e;
    if (util_net_uv_new(&R.client, &R.loop, o, &e)) fail_msg("client: %s", e.msg);
    R.expected = expected;
    R.close_on_last = 1;
}

static void post(int i, const char *body, const char *const *hdrs, int timeout_ms)
{
    util_err e;
    if (util_net_uv_post(R.client, S.url, body, body ? strlen(body) : 0, hdrs, timeout_ms,
                         on_answer, &R.res[i], NULL, &e))
        fail_msg("post: %s", e.msg);
}

/* Runs the loop until it has nothing left (the client closed), then frees
 * it; fails if the deadline fired. */
static void run_finish(void)
{
    uv_run(&R.loop, UV_RUN_DEFAULT);
    util_net_uv_close(R.client); /* when a test kept it open */
    R.client = NULL;
    uv_close((uv_handle_t *)&R.deadline, NULL);
    uv_run(&R.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&R.loop), 0);
    if (R.timed_out) fail_msg("the deadline fired: %d of %d answers", R.done, R.expected);
}

static void test_concurrent_requests(void **state)
{
    enum { N = 4 };
    server_start(M_BARRIER, NULL);
    S.barrier = N;
    run_start(NULL, N);
    static const char *const hdrs[] = {"Authorization: Bearer t0ken", NULL};
    char bodies[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(bodies[i], sizeof bodies[i], "{\"id\":%d}", i);
        post(i, bodies[i], hdrs, 10000);
    }
    assert_int_equal(util_net_uv_pending(R.client), N);
    for (int i = 0; i < N; i++)
        assert_int_equal(R.res[i].called, 0); /* never from inside post */
    R.close_on_last = 0;
    uv_run(&R.loop, UV_RUN_DEFAULT); /* returns once they are done: idle clients do not hold it */
    assert_int_equal(R.timed_out, 0);
    assert_int_equal(util_net_uv_pending(R.client), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(R.res[i].called, 1);
        if (R.res[i].rc) fail_msg("request %d: %s", i, R.res[i].msg);
        assert_int_equal(R.res[i].status, 200);
        assert_string_equal(R.res[i].body, bodies[i]);
    }
    assert_string_equal(S.auth, "Bearer t0ken");
    assert_int_equal(S.accepts, N); /* one connection each: they were in flight together */

    /* More requests reuse the kept-alive connections. */
    R.expected += 2;
    uv_ref((uv_handle_t *)&R.deadline);
    post(4, "[1]", NULL, 0);
    post(5, "[2]", NULL, 0);
    R.close_on_last = 1;
    run_finish();
    assert_string_equal(R.res[4].body, "[1]");
    assert_string_equal(R.res[5].body, "[2]");
    assert_int_equal(S.accepts, N);
    server_stop();
}

static void test_timeout(void **state)
{
    server_start(M_HOLD, NULL);
    util_net_opts o = {.peer_name = "L1 node"};
    run_start(&o, 1);
    post(0, "{}", NULL, 300);
    run_finish();
    assert_int_equal(R.res[0].called, 1);
    assert_int_equal(R.res[0].rc, UTIL_EIO);
    assert_int_equal(R.res[0].fail, UTIL_NET_FAIL_TIMEOUT);
    assert_non_null(strstr(R.res[0].msg, "timed out waiting for the answer of L1 node at"));
    server_stop();
}

static void test_too_big(void **state)
{
    mode modes[] = {M_BIG, M_STREAM};
    for (size_t k = 0; k < 2; k++) {
        server_start(modes[k], NULL);
        util_net_opts o = {.max_response = 1000};
        run_start(&o, 1);
        post(0, "{}", NULL, 0);
        run_finish();
        assert_int_equal(R.res[0].rc, UTIL_ELIMIT);
        assert_int_equal(R.res[0].fail, UTIL_NET_FAIL_TOO_BIG);
        assert_non_null(strstr(R.res[0].msg, "larger than 1000 bytes"));
        server_stop();
    }
    /* Under the cap the same stream is accepted. */
    server_start(M_STREAM, NULL);
    util_net_opts o = {.max_response = 4096};
    run_start(&o, 1);
    post(0, "{}", NULL, 0);
    run_finish();
    if (R.res[0].rc) fail_msg("%s", R.res[0].msg);
    assert_int_equal(strlen(R.res[0].body), sizeof R.res[0].body - 1); /* truncated copy */
    server_stop();
}

static void test_cancel_and_close(void **state)
{
    server_start(M_HOLD, NULL);
    run_start(NULL, 3);
    R.close_on_last = 0;
    util_net_uv_req *req[3];
    util_err e;
    for (int i = 0; i < 3; i++)
        if (util_net_uv_post(R.client, S.url, "{}", 2, NULL, 0, on_answer, &R.res[i], &req[i], &e))
            fail_msg("post: %s", e.msg);
    /* Let them connect and send. */
    while (S.arrived < 3 && !R.timed_out)
        uv_run(&R.loop, UV_RUN_ONCE);
    util_net_uv_cancel(req[1]);
    assert_int_equal(R.res[1].called, 1);
    assert_int_equal(R.res[1].rc, UTIL_ESTATE);
    assert_int_equal(R.res[1].fail, UTIL_NET_FAIL_CANCELLED);
    assert_int_equal(util_net_uv_pending(R.client), 2);
    util_net_uv_close(R.client); /* the other two end now */
    R.client = NULL;
    assert_int_equal(R.res[0].called, 1);
    assert_int_equal(R.res[2].called, 1);
    assert_int_equal(R.res[0].fail, UTIL_NET_FAIL_CANCELLED);
    assert_non_null(strstr(R.res[2].msg, "cancelled"));
    run_finish();
    server_stop();
}

/* A self-signed certificate for 127.0.0.1 made by the openssl program. */
static int make_cert(char *dir, char *cert, char *key, size_t cap)
{
    if (system("command -v openssl >/dev/null 2>&1") != 0) return -1;
    if (!mkdtemp(dir)) return -1;
    snprintf(cert, cap, "%s/cert.pem", dir);
    snprintf(key, cap, "%s/key.pem", dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
             "-keyout '%s' -out '%s' >/dev/null 2>&1",
             key, cert);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_https(void **state)
{
    char dir[] = "/tmp/ol-test-net-uv-XXXXXX", cert[128], key[128];
    if (make_cert(dir, cert, key, sizeof cert)) {
        print_message("no openssl program: HTTPS not tested\n");
        skip();
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
    server_start(M_ECHO, ctx);

    util_net_opts with = {.ca_file = cert};
    run_start(&with, 2);
    post(0, "{\"tls\":1}", NULL, 0);
    post(1, "{\"tls\":2}", NULL, 0);
    run_finish();
    for (int i = 0; i < 2; i++)
        if (R.res[i].rc) fail_msg("with the CA: %s", R.res[i].msg);
    assert_string_equal(R.res[0].body, "{\"tls\":1}");
    assert_string_equal(R.res[1].body, "{\"tls\":2}");

    util_net_opts without = {.ca_file = NULL};
    run_start(&without, 1);
    post(0, "{}", NULL, 0);
    run_finish();
    assert_int_equal(R.res[0].rc, UTIL_EIO);
    assert_int_equal(R.res[0].fail, UTIL_NET_FAIL_CERT);
    assert_non_null(strstr(R.res[0].msg, "is not trusted"));
    server_stop();
    SSL_CTX_free(ctx);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

static void test_bad_url(void **state)
{
    run_start(NULL, 0);
    util_err e;
    assert_int_equal(util_net_uv_post(R.client, "ftp://127.0.0.1/", "{}", 2, NULL, 0, on_answer,
                                      &R.res[0], NULL, &e),
                     UTIL_EINVAL);
    assert_non_null(strstr(e.msg, "must start with http:// or https://"));
    assert_int_equal(util_net_uv_pending(R.client), 0);
    uv_timer_stop(&R.deadline);
    run_finish();
    assert_int_equal(R.res[0].called, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_requests),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_cancel_and_close),
        cmocka_unit_test(test_https),
        cmocka_unit_test(test_bad_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
