/* A fake JSON-RPC node on 127.0.0.1 for the CLI tests: a thread accepts
 * connections and answers each request with a handler's raw HTTP answer, and
 * run() runs openledger-cli in-process against it, capturing what it prints.
 * Header-only (static) because each test is its own program; include after
 * <cmocka.h>. */
#ifndef OL_TESTS_CLI_FAKE_NODE_H
#define OL_TESTS_CLI_FAKE_NODE_H

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

#include <jansson.h>

#include "cli/cli.h"

#define HOLD ((char *)1) /* handler result: keep the connection open, never answer */

typedef char *(*handler_fn)(const char *method, json_t *params);

static struct {
    int lfd, port;
    pthread_t th;
    volatile int stop;
    handler_fn h;
    char url[64];
    int ncalls[8]; /* by method, see method_idx */
} F;

enum { M_STATUS, M_ACCOUNT, M_SEND, M_GETTX, M_BLOCK, M_PROOF, M_OTHER };

static inline int method_idx(const char *m)
{
    static const char *const names[] = {"node_status",          "account_get",    "tx_send",
                                        "chain_getTransaction", "chain_getBlock", "state_getProof"};
    for (int i = 0; i < M_OTHER; i++)
        if (m && strcmp(m, names[i]) == 0) return i;
    return M_OTHER;
}

static inline char *http_raw(const char *status, const char *body)
{
    char *r;
    assert_true(asprintf(&r,
                         "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: "
                         "%zu\r\nConnection: close\r\n\r\n%s",
                         status, strlen(body), body) > 0);
    return r;
}

/* Steals result. */
static inline char *ok(json_t *result)
{
    json_t *env = json_pack("{s:s, s:i, s:o}", "jsonrpc", "2.0", "id", 1, "result", result);
    char *body = json_dumps(env, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(env);
    char *r = http_raw("200 OK", body);
    free(body);
    return r;
}

static inline char *rpc_error(int code, const char *msg, const char *reason)
{
    json_t *e = json_pack("{s:i, s:s}", "code", code, "message", msg);
    if (reason) json_object_set_new(e, "data", json_pack("{s:s}", "reason", reason));
    json_t *env = json_pack("{s:s, s:i, s:o}", "jsonrpc", "2.0", "id", 1, "error", e);
    char *body = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    char *r = http_raw("200 OK", body);
    free(body);
    return r;
}

static inline void serve(int fd)
{
    char req[65536];
    size_t got = 0;
    char *body = NULL;
    size_t clen = 0;
    while (got < sizeof req - 1) {
        ssize_t r = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (r <= 0) return;
        if (got == 0 && req[0] == 0x16) {
            /* A TLS ClientHello (https:// to this plain HTTP fake). */
            static const char bad[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
            send(fd, bad, sizeof bad - 1, MSG_NOSIGNAL);
            return;
        }
        got += (size_t)r;
        req[got] = 0;
        char *eoh = strstr(req, "\r\n\r\n");
        if (!eoh) continue;
        char *cl = strcasestr(req, "\r\nContent-Length:");
        if (!cl) return;
        clen = strtoul(cl + 17, NULL, 10);
        body = eoh + 4;
        if ((size_t)(req + got - body) >= clen) break;
    }
    if (!body) return;
    json_t *doc = json_loadb(body, clen, 0, NULL);
    const char *m = json_string_value(json_object_get(doc, "method"));
    F.ncalls[method_idx(m)]++;
    char *resp = F.h(m ? m : "", json_object_get(doc, "params"));
    json_decref(doc);
    if (resp == HOLD) {
        /* Until the client gives up (closes) or the test ends. */
        while (!F.stop) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 20) > 0) {
                char c;
                if (recv(fd, &c, 1, 0) <= 0) break;
            }
        }
        return;
    }
    if (resp) {
        size_t n = strlen(resp), off = 0;
        while (off < n) {
            ssize_t w = send(fd, resp + off, n - off, MSG_NOSIGNAL);
            if (w <= 0) break;
            off += (size_t)w;
        }
        free(resp);
    }
}

static inline void *accept_loop(void *arg)
{
    while (!F.stop) {
        struct pollfd p = {.fd = F.lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(F.lfd, NULL, NULL);
        if (fd < 0) continue;
        serve(fd);
        close(fd);
    }
    return NULL;
}

static inline void fake_start(handler_fn h)
{
    memset(&F, 0, sizeof F);
    F.h = h;
    F.lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(F.lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(F.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(F.lfd, 16), 0);
    socklen_t sl = sizeof sa;
    getsockname(F.lfd, (struct sockaddr *)&sa, &sl);
    F.port = ntohs(sa.sin_port);
    snprintf(F.url, sizeof F.url, "http://127.0.0.1:%d", F.port);
    assert_int_equal(pthread_create(&F.th, NULL, accept_loop, NULL), 0);
}

static inline void fake_stop(void)
{
    F.stop = 1;
    pthread_join(F.th, NULL);
    close(F.lfd);
}

/* Runs the program in-process against the fake. */
static inline int run(char **out, char **err, const char *const *args)
{
    const char *argv[32] = {"openledger-cli", "--rpc", F.url};
    int argc = 3;
    while (*args)
        argv[argc++] = *args++;
    size_t ol, el;
    FILE *fo = open_memstream(out, &ol), *fe = open_memstream(err, &el);
    int rc = cli_main(argc, (char **)argv, fo, fe);
    fclose(fo);
    fclose(fe);
    return rc;
}

#define RUN(...) run(&out, &err, (const char *const[]){__VA_ARGS__, NULL})
#define DROP() (free(out), free(err))

#endif
