/* The WebSocket client's URL parsing, and a one-shot POST on util/net
 * (cli/http_client.h). */
#include "cli/http_client.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/net.h"

int cli_url_parse(cli_url *u, const char *url, util_err *err)
{
    memset(u, 0, sizeof *u);
    size_t skip;
    if (strncmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncmp(url, "https://", 8) == 0)
        skip = 8, u->tls = 1;
    else
        return util_err_set(err, UTIL_EINVAL,
                            "node URL must start with http:// or https:// (got '%s')", url);
    const char *h = url + skip, *h0 = h;
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
        strcpy(u->port, u->tls ? "443" : "80");
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
    snprintf(u->hosthdr, sizeof u->hosthdr, "%.*s", (int)(end - h0), h0);
    return 0;
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
