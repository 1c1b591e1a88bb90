/* The CLI's HTTP/1.1 client for JSON-RPC over plain TCP (cli/http_client.h). */
#include "cli/http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <http_parser.h>

#include "util/time.h"

int cli_url_parse(cli_url *u, const char *url, util_err *err)
{
    memset(u, 0, sizeof *u);
    if (strncmp(url, "http://", 7) != 0) {
        if (strncmp(url, "https://", 8) == 0)
            return util_err_set(err, UTIL_EINVAL,
                                "https:// is not supported, only http:// URLs (got '%s')", url);
        return util_err_set(err, UTIL_EINVAL, "node URL must start with http:// (got '%s')", url);
    }
    const char *h = url + 7;
    const char *end = h + strcspn(h, "/?#");
    if (*end == '#') return util_err_set(err, UTIL_EINVAL, "bad node URL '%s'", url);
    const char *hend, *pstart = NULL;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb) return util_err_set(err, UTIL_EINVAL, "bad IPv6 host in node URL '%s'", url);
        if (rb + 1 < end) {
            if (rb[1] != ':') return util_err_set(err, UTIL_EINVAL, "bad node URL '%s'", url);
            pstart = rb + 2;
        }
        hend = rb;
        h++;
    } else {
        const char *colon = memchr(h, ':', (size_t)(end - h));
        hend = colon ? colon : end;
        if (colon) pstart = colon + 1;
    }
    size_t hl = (size_t)(hend - h);
    if (hl == 0 || hl >= sizeof u->host || memchr(h, '@', hl))
        return util_err_set(err, UTIL_EINVAL, "bad host in node URL '%s'", url);
    memcpy(u->host, h, hl);
    if (pstart) {
        size_t pl = (size_t)(end - pstart);
        unsigned long port = 0;
        if (pl == 0 || pl > 5) return util_err_set(err, UTIL_EINVAL, "bad port in '%s'", url);
        for (size_t i = 0; i < pl; i++) {
            if (pstart[i] < '0' || pstart[i] > '9')
                return util_err_set(err, UTIL_EINVAL, "bad port in '%s'", url);
            port = port * 10 + (unsigned long)(pstart[i] - '0');
        }
        if (port == 0 || port > 65535)
            return util_err_set(err, UTIL_EINVAL, "bad port in '%s'", url);
        snprintf(u->port, sizeof u->port, "%lu", port);
    } else {
        strcpy(u->port, "80");
    }
    const char *path = *end ? end : "/";
    if (*path == '?') {
        /* "http://h:1?x" : keep the query, give it a path */
        if (strlen(path) + 2 > sizeof u->path)
            return util_err_set(err, UTIL_EINVAL, "node URL path too long");
        u->path[0] = '/';
        strcpy(u->path + 1, path);
    } else {
        if (strlen(path) + 1 > sizeof u->path)
            return util_err_set(err, UTIL_EINVAL, "node URL path too long");
        strcpy(u->path, path);
    }
    for (const char *p = u->path; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return util_err_set(err, UTIL_EINVAL, "bad character in node URL '%s'", url);
    snprintf(u->hosthdr, sizeof u->hosthdr, "%.*s", (int)(end - (url + 7)), url + 7);
    return 0;
}

/* Milliseconds left before deadline (ns), at least 0. */
static int left_ms(uint64_t deadline)
{
    uint64_t now = util_mono_ns();
    if (now >= deadline) return 0;
    uint64_t ms = (deadline - now + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Waits for ev on fd; 0 ready, -1 timeout or poll failure (errno set). */
static int wait_fd(int fd, short ev, uint64_t deadline)
{
    for (;;) {
        int ms = left_ms(deadline);
        if (ms == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, ms);
        if (r > 0) return 0;
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR) return -1;
    }
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
    if (errno != EINPROGRESS) goto fail;
    if (wait_fd(fd, POLLOUT, deadline)) goto fail;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl)) goto fail;
    if (soerr) {
        errno = soerr;
        goto fail;
    }
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

static int dial(const cli_url *u, const char *url, uint64_t deadline, util_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gr = getaddrinfo(u->host, u->port, &hints, &res);
    if (gr) {
        util_err_set(err, UTIL_EIO, "cannot reach node at %s: cannot resolve '%s': %s", url,
                     u->host, gai_strerror(gr));
        return -1;
    }
    uint64_t cdeadline = util_mono_ns() + (uint64_t)CLI_HTTP_CONNECT_TIMEOUT_MS * 1000000u;
    if (cdeadline > deadline) cdeadline = deadline;
    int fd = -1, e = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = connect_one(ai, cdeadline);
        if (fd < 0) e = errno;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (e == ETIMEDOUT)
            util_err_set(err, UTIL_EIO, "cannot reach node at %s: connection timed out", url);
        else
            util_err_set(err, UTIL_EIO, "cannot reach node at %s: %s", url, strerror(e));
    }
    return fd;
}

int cli_http_connect(const cli_url *u, const char *url, int timeout_ms, util_err *err)
{
    uint64_t deadline = util_mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1) * 1000000u;
    return dial(u, url, deadline, err);
}

static int send_all(int fd, const char *p, size_t n, uint64_t deadline)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(fd, POLLOUT, deadline)) return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

typedef struct resp_state {
    char *body;
    size_t len, cap;
    char status[64];
    int done;
    int too_big;
    int oom;
} resp_state;

static int on_status(http_parser *p, const char *at, size_t n)
{
    resp_state *st = p->data;
    size_t have = strlen(st->status);
    size_t room = sizeof st->status - 1 - have;
    if (n > room) n = room;
    memcpy(st->status + have, at, n);
    st->status[have + n] = 0;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    resp_state *st = p->data;
    if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
        p->content_length > CLI_HTTP_MAX_RESPONSE) {
        st->too_big = 1;
        return -1;
    }
    return 0;
}

/* A chunk announces its size: refuse before receiving it. */
static int on_chunk_header(http_parser *p)
{
    resp_state *st = p->data;
    if (p->content_length > CLI_HTTP_MAX_RESPONSE - st->len) {
        st->too_big = 1;
        return -1;
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    resp_state *st = p->data;
    if (n > CLI_HTTP_MAX_RESPONSE - st->len) {
        st->too_big = 1;
        return -1;
    }
    if (st->len + n + 1 > st->cap) {
        size_t cap = st->cap ? st->cap : 4096;
        while (cap < st->len + n + 1)
            cap *= 2;
        char *nb = realloc(st->body, cap);
        if (!nb) {
            st->oom = 1;
            return -1;
        }
        st->body = nb;
        st->cap = cap;
    }
    memcpy(st->body + st->len, at, n);
    st->len += n;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    resp_state *st = p->data;
    /* A 1xx interim answer is followed by the real one. */
    if (p->status_code >= 100 && p->status_code < 200) {
        st->len = 0;
        st->status[0] = 0;
        return 0;
    }
    st->done = 1;
    http_parser_pause(p, 1);
    return 0;
}

static int parse_error(http_parser *hp, resp_state *st, const char *url, util_err *err)
{
    if (st->too_big)
        return util_err_set(err, UTIL_ELIMIT, "answer from node at %s is larger than %u MiB", url,
                            CLI_HTTP_MAX_RESPONSE >> 20);
    if (st->oom) return util_err_set(err, UTIL_ENOMEM, "out of memory reading the node's answer");
    return util_err_set(err, UTIL_EIO, "malformed HTTP answer from node at %s: %s", url,
                        http_errno_description(HTTP_PARSER_ERRNO(hp)));
}

static int read_response(int fd, resp_state *st, const char *url, uint64_t deadline, util_err *err)
{
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_status = on_status;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_chunk_header = on_chunk_header;
    s.on_message_complete = on_message_complete;
    http_parser hp;
    http_parser_init(&hp, HTTP_RESPONSE);
    hp.data = st;
    char buf[16384];
    while (!st->done) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (wait_fd(fd, POLLIN, deadline)) {
                    if (errno == ETIMEDOUT)
                        return util_err_set(err, UTIL_EIO,
                                            "timed out waiting for the answer of node at %s", url);
                    return util_err_set(err, UTIL_EIO, "reading from node at %s: %s", url,
                                        strerror(errno));
                }
                continue;
            }
            return util_err_set(err, UTIL_EIO, "reading from node at %s: %s", url, strerror(errno));
        }
        /* r == 0 tells the parser about EOF (ends a body delimited by close). */
        http_parser_execute(&hp, &s, buf, (size_t)r);
        enum http_errno he = HTTP_PARSER_ERRNO(&hp);
        if (he != HPE_OK && he != HPE_PAUSED && (r > 0 || st->too_big || st->oom))
            return parse_error(&hp, st, url, err);
        if (r == 0 && !st->done)
            return util_err_set(err, UTIL_EIO, "node at %s closed the connection mid-answer", url);
    }
    if (hp.status_code != 200) {
        char excerpt[160] = "";
        if (st->len) {
            size_t n = st->len < sizeof excerpt - 1 ? st->len : sizeof excerpt - 1;
            for (size_t i = 0; i < n; i++)
                excerpt[i] = (st->body[i] >= ' ' && st->body[i] < 0x7f) ? st->body[i] : ' ';
            excerpt[n] = 0;
        }
        return util_err_set(err, UTIL_EIO, "node at %s answered HTTP %u %s%s%s", url,
                            hp.status_code, st->status, excerpt[0] ? ": " : "", excerpt);
    }
    return 0;
}

int cli_http_post(const char *url, const char *content_type, const char *body, size_t len,
                  int timeout_ms, char **resp, size_t *resp_len, util_err *err)
{
    cli_url u;
    int rc = cli_url_parse(&u, url, err);
    if (rc) return rc;
    uint64_t deadline = util_mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1) * 1000000u;
    int fd = dial(&u, url, deadline, err);
    if (fd < 0) return UTIL_EIO;

    char head[1600];
    int hl = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: openledger-cli/" OL_VERSION
                      "\r\nContent-Type: %s\r\nAccept: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      u.path, u.hosthdr, content_type, len);
    if (hl < 0 || (size_t)hl >= sizeof head) {
        close(fd);
        return util_err_set(err, UTIL_EINVAL, "request header too long");
    }
    if (send_all(fd, head, (size_t)hl, deadline) || send_all(fd, body, len, deadline)) {
        int e = errno;
        close(fd);
        if (e == ETIMEDOUT)
            return util_err_set(err, UTIL_EIO, "timed out sending the request to node at %s", url);
        return util_err_set(err, UTIL_EIO, "sending to node at %s: %s", url, strerror(e));
    }
    resp_state st = {0};
    rc = read_response(fd, &st, url, deadline, err);
    close(fd);
    if (rc) {
        free(st.body);
        return rc;
    }
    if (!st.body) {
        st.body = malloc(1);
        if (!st.body) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    st.body[st.len] = 0;
    *resp = st.body;
    if (resp_len) *resp_len = st.len;
    return 0;
}
