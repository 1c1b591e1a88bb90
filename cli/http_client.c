/* The WebSocket client's URL parsing and TCP connect, and a one-shot POST
 * on util/net (cli/http_client.h). */
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

#include "util/net.h"
#include "util/time.h"

int cli_url_parse(cli_url *u, const char *url, util_err *err)
{
    memset(u, 0, sizeof *u);
    if (strncmp(url, "http://", 7) != 0) {
        if (strncmp(url, "https://", 8) == 0)
            return util_err_set(err, UTIL_EINVAL,
                                "https:// is not supported by watch (no WebSocket over TLS "
                                "yet), only http:// URLs (got '%s')",
                                url);
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

int cli_http_post(const char *url, const char *content_type, const char *body, size_t len,
                  int timeout_ms, char **resp, size_t *resp_len, util_err *err)
{
    util_net_opts o = {.timeout_ms = timeout_ms > 0 ? timeout_ms : 1,
                       .connect_timeout_ms = CLI_HTTP_CONNECT_TIMEOUT_MS,
                       .user_agent = "openledger-cli/" OL_VERSION,
                       .peer_name = "node"};
    util_net_client *c;
    int rc = util_net_client_new(&c, &o, err);
    if (rc) return rc;
    util_net_resp r;
    rc = util_net_post_json(c, url, body, len, &r, err);
    util_net_client_free(c);
    if (rc) {
        util_net_resp_free(&r);
        return rc;
    }
    *resp = r.body;
    if (resp_len) *resp_len = r.len;
    return 0;
}
