/* A counting HTTP proxy in front of anvil, for tests that check which
 * requests a client sends (the inbox watch): it listens on a free
 * 127.0.0.1 port, records each request ("POST <body>" or "GET <path>"),
 * forwards it to the upstream on a new connection and answers with the
 * upstream's status and body (keep-alive towards the client). One thread
 * accepts, one thread per client connection. Header-only: each test is its
 * own program. */
#ifndef OL_TESTS_L1_PROXY_H
#define OL_TESTS_L1_PROXY_H

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

typedef struct l1_proxy {
    int fd, port, upstream;
    char url[64];
    pthread_t th;
    pthread_mutex_t mu;
    char **log;
    size_t nlog, cap;
    volatile int stop;
} l1_proxy;

typedef struct l1_pbuf {
    char *p;
    size_t n, cap;
} l1_pbuf;

static inline int l1_pbuf_put(l1_pbuf *b, const char *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

static inline int l1_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The value of header name in head (NUL-terminated headers), or NULL. */
static inline const char *l1_header(const char *head, const char *name)
{
    size_t ln = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
        const char *h = l + 2;
        if (strncasecmp(h, name, ln) == 0 && h[ln] == ':') {
            h += ln + 1;
            while (*h == ' ')
                h++;
            return h;
        }
    }
    return NULL;
}

/* Reads one HTTP message from fd into b and its body into body: a request
 * by its Content-Length (none: no body); an answer (until_eof: the upstream
 * was asked to close) up to EOF, chunked or not. 0, or -1. */
static inline int l1_read_msg(int fd, l1_pbuf *b, size_t *body_off, int until_eof, l1_pbuf *body)
{
    char tmp[65536];
    char *end = NULL;
    for (;;) {
        if (b->p && (end = strstr(b->p, "\r\n\r\n")) && !until_eof) break;
        ssize_t k = recv(fd, tmp, sizeof tmp, 0);
        if (k <= 0) {
            if (until_eof && end) break;
            return -1;
        }
        if (l1_pbuf_put(b, tmp, (size_t)k)) return -1;
    }
    *end = 0; /* the head becomes a string; the body starts after the blank line */
    *body_off = (size_t)(end - b->p) + 4;
    const char *cl = l1_header(b->p, "Content-Length");
    const char *te = l1_header(b->p, "Transfer-Encoding");
    if (until_eof && te && strncasecmp(te, "chunked", 7) == 0) {
        size_t off = *body_off;
        for (;;) {
            unsigned long len = strtoul(b->p + off, NULL, 16);
            const char *crlf = strstr(b->p + off, "\r\n");
            if (!crlf) return -1;
            off = (size_t)(crlf - b->p) + 2;
            if (len == 0) return 0;
            if (off + len > b->n) return -1;
            if (l1_pbuf_put(body, b->p + off, len)) return -1;
            off += len + 2;
        }
    }
    size_t want = cl ? strtoul(cl, NULL, 10) : until_eof ? b->n - *body_off : 0;
    while (b->n - *body_off < want) {
        ssize_t k = recv(fd, tmp, sizeof tmp, 0);
        if (k <= 0) return -1;
        if (l1_pbuf_put(b, tmp, (size_t)k)) return -1;
    }
    return l1_pbuf_put(body, b->p + *body_off, want) ? -1 : 0;
}

static inline void l1_proxy_record(l1_proxy *p, const char *what)
{
    pthread_mutex_lock(&p->mu);
    if (p->nlog == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->log = realloc(p->log, p->cap * sizeof *p->log);
    }
    p->log[p->nlog++] = strdup(what);
    pthread_mutex_unlock(&p->mu);
}

typedef struct l1_proxy_conn {
    l1_proxy *p;
    int fd;
} l1_proxy_conn;

static inline void *l1_proxy_serve(void *arg)
{
    l1_proxy_conn c = *(l1_proxy_conn *)arg;
    free(arg);
    for (;;) {
        l1_pbuf req = {0}, body = {0}, resp = {0}, rbody = {0};
        size_t off;
        if (l1_read_msg(c.fd, &req, &off, 0, &body)) {
            free(req.p), free(body.p);
            break;
        }
        char method[8] = {0}, path[2048] = {0};
        sscanf(req.p, "%7s %2047s", method, path);
        l1_pbuf rec = {0};
        l1_pbuf_put(&rec, method, strlen(method));
        l1_pbuf_put(&rec, " ", 1);
        if (body.n)
            l1_pbuf_put(&rec, body.p, body.n);
        else
            l1_pbuf_put(&rec, path, strlen(path));
        l1_proxy_record(c.p, rec.p);
        free(rec.p);
        int up = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                .sin_port = htons((uint16_t)c.p->upstream)};
        char head[512];
        int hn = snprintf(head, sizeof head,
                          "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
                          "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                          method, path, c.p->upstream, body.n);
        int ok = up >= 0 && connect(up, (struct sockaddr *)&a, sizeof a) == 0 &&
                 l1_write_all(up, head, (size_t)hn) == 0 &&
                 (!body.n || l1_write_all(up, body.p, body.n) == 0) &&
                 l1_read_msg(up, &resp, &off, 1, &rbody) == 0;
        if (up >= 0) close(up);
        int status = ok ? atoi(resp.p + 9) : 502;
        char out[256];
        int on = snprintf(out, sizeof out,
                          "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: "
                          "%zu\r\n\r\n",
                          status, rbody.n);
        int wr = l1_write_all(c.fd, out, (size_t)on) ||
                 (rbody.n && l1_write_all(c.fd, rbody.p, rbody.n));
        free(req.p), free(body.p), free(resp.p), free(rbody.p);
        if (wr) break;
    }
    close(c.fd);
    return NULL;
}

static inline void *l1_proxy_accept(void *arg)
{
    l1_proxy *p = arg;
    while (!p->stop) {
        struct pollfd pf = {.fd = p->fd, .events = POLLIN};
        if (poll(&pf, 1, 50) <= 0) continue;
        int fd = accept(p->fd, NULL, NULL);
        if (fd < 0) continue;
        l1_proxy_conn *c = malloc(sizeof *c);
        c->p = p;
        c->fd = fd;
        pthread_t t;
        if (pthread_create(&t, NULL, l1_proxy_serve, c) == 0)
            pthread_detach(t);
        else
            close(fd), free(c);
    }
    return NULL;
}

/* 0 once listening in front of 127.0.0.1:upstream. */
static inline int l1_proxy_start(l1_proxy *p, int upstream)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->upstream = upstream;
    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&a, sizeof a) || listen(p->fd, 16) ||
        getsockname(p->fd, (struct sockaddr *)&a, &l))
        return -1;
    p->port = ntohs(a.sin_port);
    snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", p->port);
    return pthread_create(&p->th, NULL, l1_proxy_accept, p) ? -1 : 0;
}

/* Forgets the requests recorded so far. */
static inline void l1_proxy_clear(l1_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nlog; i++)
        free(p->log[i]);
    p->nlog = 0;
    pthread_mutex_unlock(&p->mu);
}

/* Requests recorded whose text contains s (NULL: all). */
static inline size_t l1_proxy_count(l1_proxy *p, const char *s)
{
    size_t n = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nlog; i++)
        if (!s || strstr(p->log[i], s)) n++;
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* Stops accepting (connections still open end with their client). */
static inline void l1_proxy_stop(l1_proxy *p)
{
    p->stop = 1;
    pthread_join(p->th, NULL);
    close(p->fd);
    l1_proxy_clear(p);
    free(p->log);
    p->log = NULL;
    p->cap = 0;
}

#endif
