/* A fake HTTP endpoint on 127.0.0.1 for unit tests: a thread accepts
 * connections one at a time, reads a request's head and hands its path to
 * the test's handler, which answers with fh_reply (one answer per
 * connection, then the connection closes). Header-only (static) because each
 * test is its own program; include after <cmocka.h>. */
#ifndef OL_TESTS_FAKE_HTTP_H
#define OL_TESTS_FAKE_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* method: "GET", "POST", ...; path: the request target. Must answer with
 * fh_reply (or not at all: the client sees a closed connection). */
typedef void (*fh_handler)(int fd, const char *method, const char *path);

typedef struct fake_http {
    pthread_t th;
    int lfd;
    volatile int stop;
    fh_handler h;
    char url[64]; /* http://127.0.0.1:PORT (no trailing slash) */
} fake_http;

static inline void fh_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return;
        p += w, n -= (size_t)w;
    }
}

static inline void fh_reply(int fd, int status, const char *body)
{
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
                      "%zu\r\nConnection: close\r\n\r\n",
                      status, status == 200 ? "OK" : "Error", strlen(body));
    fh_write_all(fd, head, (size_t)hl);
    fh_write_all(fd, body, strlen(body));
}

static inline void fh_serve(fake_http *s, int fd)
{
    char req[8192];
    size_t got = 0;
    while (got < sizeof req - 1) {
        ssize_t r = read(fd, req + got, sizeof req - 1 - got);
        if (r <= 0) return;
        got += (size_t)r;
        req[got] = 0;
        if (strstr(req, "\r\n\r\n")) break;
    }
    char method[16], path[4096];
    if (sscanf(req, "%15s %4095s ", method, path) != 2) return fh_reply(fd, 400, "{}");
    s->h(fd, method, path);
}

static inline void *fh_main(void *arg)
{
    fake_http *s = arg;
    while (!s->stop) {
        struct pollfd p = {.fd = s->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        fh_serve(s, fd);
        close(fd);
    }
    return NULL;
}

/* Listens on a free loopback port and starts the thread. */
static inline void fh_start(fake_http *s, fh_handler h)
{
    memset(s, 0, sizeof *s);
    s->h = h;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 16), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &l), 0);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    assert_int_equal(pthread_create(&s->th, NULL, fh_main, s), 0);
}

static inline void fh_stop(fake_http *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->lfd);
}

#endif
