/* HTTP(S) client on libcurl's easy interface (util/net.h), and the set-up
 * and finish of a transfer shared with util/net_uv.c (util/net_xfer.h). */
#include "util/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "util/net_xfer.h"

#define EXCERPT_MAX 160

struct util_net_client {
    util_net_cfg cfg;
    util_net_xfer x;
    struct curl_slist *hdr_post, *hdr_get;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc;

/* libcurl's global set-up is not thread-safe in every version: once per
 * process, and never undone (it would race with other threads' clients). */
static void global_init(void)
{
    g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    util_net_xfer *c = ud;
    size_t len = size * n;
    if (len > c->cfg->max_response - c->len) {
        c->too_big = 1;
        return 0;
    }
    if (c->len + len + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + len + 1)
            cap *= 2;
        char *nb = realloc(c->body, cap);
        if (!nb) {
            c->oom = 1;
            return 0;
        }
        c->body = nb;
        c->cap = cap;
    }
    memcpy(c->body + c->len, p, len);
    c->len += len;
    return len;
}

/* Keeps the reason phrase of the last status line ("HTTP/1.1 404 Not
 * Found"): libcurl gives only the number. A 1xx interim answer is followed by
 * another status line, which overwrites it. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    util_net_xfer *c = ud;
    size_t len = size * n;
    if (len < 5 || memcmp(p, "HTTP/", 5) != 0) return len;
    size_t i = 5;
    while (i < len && p[i] != ' ')
        i++; /* version */
    while (i < len && p[i] == ' ')
        i++;
    while (i < len && p[i] >= '0' && p[i] <= '9')
        i++; /* status */
    while (i < len && p[i] == ' ')
        i++;
    size_t end = len;
    while (end > i && (p[end - 1] == '\r' || p[end - 1] == '\n' || p[end - 1] == ' '))
        end--;
    size_t k = 0;
    for (; i < end && k < sizeof c->reason - 1; i++)
        c->reason[k++] = (p[i] >= ' ' && p[i] < 0x7f) ? p[i] : ' ';
    c->reason[k] = 0;
    return len;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* A CA file that cannot be read is reported now, by name, rather than as a
 * TLS failure at the first request. */
static int check_ca_file(const char *path, util_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return util_err_set(err, UTIL_EINVAL, "cannot read CA file '%s': %s", path,
                            strerror(errno));
    struct stat st;
    int bad = fstat(fd, &st) != 0 || !S_ISREG(st.st_mode);
    close(fd);
    if (bad) return util_err_set(err, UTIL_EINVAL, "CA file '%s' is not a regular file", path);
    return 0;
}

int util_net_cfg_init(util_net_cfg *cfg, const util_net_opts *opts, util_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    util_net_opts o = {0};
    if (opts) o = *opts;
    if (o.timeout_ms <= 0) o.timeout_ms = UTIL_NET_TIMEOUT_MS_DEFAULT;
    if (o.connect_timeout_ms <= 0) o.connect_timeout_ms = UTIL_NET_CONNECT_TIMEOUT_MS_DEFAULT;
    if (o.connect_timeout_ms > o.timeout_ms) o.connect_timeout_ms = o.timeout_ms;
    if (o.max_response == 0) o.max_response = UTIL_NET_MAX_RESPONSE_DEFAULT;
    if (!o.user_agent) o.user_agent = "openledger/" OL_VERSION;
    if (!o.peer_name) o.peer_name = "server";
    if (o.ca_file) {
        int rc = check_ca_file(o.ca_file, err);
        if (rc) return rc;
    }
    pthread_once(&g_once, global_init);
    if (g_init_rc != CURLE_OK)
        return util_err_set(err, UTIL_EIO, "libcurl failed to start: %s",
                            curl_easy_strerror(g_init_rc));
    cfg->max_response = o.max_response;
    cfg->timeout_ms = o.timeout_ms;
    cfg->connect_timeout_ms = o.connect_timeout_ms;
    cfg->ca_file = dup_or_null(o.ca_file);
    cfg->peer = strdup(o.peer_name);
    cfg->user_agent = strdup(o.user_agent);
    if (!cfg->peer || !cfg->user_agent || (o.ca_file && !cfg->ca_file)) {
        util_net_cfg_free(cfg);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    return 0;
}

void util_net_cfg_free(util_net_cfg *cfg)
{
    free(cfg->ca_file);
    free(cfg->peer);
    free(cfg->user_agent);
    memset(cfg, 0, sizeof *cfg);
}

struct curl_slist *util_net_json_headers(int post, const char *const *extra)
{
    /* "Expect:" removes libcurl's "Expect: 100-continue" on large bodies: a
     * JSON server need not support it, and it costs a round trip. */
    static const char *const post_hdrs[] = {"Content-Type: application/json",
                                            "Accept: application/json", "Expect:", NULL};
    static const char *const get_hdrs[] = {"Accept: application/json", NULL};
    struct curl_slist *l = NULL;
    for (int pass = 0; pass < 2; pass++) {
        const char *const *v = pass == 0 ? (post ? post_hdrs : get_hdrs) : extra;
        for (; v && *v; v++) {
            struct curl_slist *n = curl_slist_append(l, *v);
            if (!n) {
                curl_slist_free_all(l);
                return NULL;
            }
            l = n;
        }
    }
    return l;
}

int util_net_xfer_init(util_net_xfer *x, const util_net_cfg *cfg, util_err *err)
{
    memset(x, 0, sizeof *x);
    x->cfg = cfg;
    x->h = curl_easy_init();
    if (!x->h) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    CURL *h = x->h;
    CURLcode cc = CURLE_OK;
#define SET(opt, val)                                                                              \
    if (cc == CURLE_OK) cc = curl_easy_setopt(h, opt, val)
    SET(CURLOPT_NOSIGNAL, 1L); /* signals are the program's; threads may use clients */
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_response);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_USERAGENT, cfg->user_agent);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_PRIVATE, x);
    if (cfg->ca_file) {
        /* Only these CAs: also drop the built-in CA directory. */
        SET(CURLOPT_CAINFO, cfg->ca_file);
        SET(CURLOPT_CAPATH, (char *)NULL);
    }
#undef SET
    if (cc != CURLE_OK) {
        util_err_fill(err, UTIL_EIO, "libcurl refused an option: %s", curl_easy_strerror(cc));
        util_net_xfer_cleanup(x);
        return UTIL_EIO;
    }
    return 0;
}

void util_net_xfer_cleanup(util_net_xfer *x)
{
    if (x->h) curl_easy_cleanup(x->h);
    free(x->body);
    memset(x, 0, sizeof *x);
}

int util_net_client_new(util_net_client **out, const util_net_opts *opts, util_err *err)
{
    *out = NULL;
    util_net_client *c = calloc(1, sizeof *c);
    if (!c) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = util_net_cfg_init(&c->cfg, opts, err);
    if (rc) {
        free(c);
        return rc;
    }
    if ((rc = util_net_xfer_init(&c->x, &c->cfg, err))) {
        util_net_cfg_free(&c->cfg);
        free(c);
        return rc;
    }
    c->hdr_post = util_net_json_headers(1, NULL);
    c->hdr_get = util_net_json_headers(0, NULL);
    if (!c->hdr_post || !c->hdr_get) {
        util_net_client_free(c);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    *out = c;
    return 0;
}

void util_net_client_free(util_net_client *c)
{
    if (!c) return;
    util_net_xfer_cleanup(&c->x);
    curl_slist_free_all(c->hdr_post);
    curl_slist_free_all(c->hdr_get);
    util_net_cfg_free(&c->cfg);
    free(c);
}

void util_net_resp_free(util_net_resp *resp)
{
    if (!resp) return;
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

/* localhost, *.localhost, 127.0.0.0/8 and ::1 (host as libcurl gives it:
 * IPv6 in brackets). */
static int is_loopback(const char *host)
{
    size_t n = strlen(host);
    if (strcasecmp(host, "localhost") == 0) return 1;
    if (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0) return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
        char v6[64];
        if (n - 2 >= sizeof v6) return 0;
        memcpy(v6, host + 1, n - 2);
        v6[n - 2] = 0;
        struct in6_addr a6;
        return inet_pton(AF_INET6, v6, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return 0;
}

/* Checks the URL before libcurl sees it, so a wrong scheme gets a plain
 * message, and learns whether its host is loopback. */
static int check_url(util_net_xfer *x, const char *url, util_err *err)
{
    CURLU *u = curl_url();
    if (!u) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK) uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc == CURLUE_OK) uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc != CURLUE_OK) {
        if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
            rc = util_err_set(err, UTIL_EINVAL,
                              "%s URL must start with http:// or https:// (got '%s')", x->cfg->peer,
                              url);
        else
            rc = util_err_set(err, UTIL_EINVAL, "bad %s URL '%s': %s", x->cfg->peer, url,
                              curl_url_strerror(uc));
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = util_err_set(err, UTIL_EINVAL, "%s URL must start with http:// or https:// (got '%s')",
                          x->cfg->peer, url);
    } else {
        x->https = strcmp(scheme, "https") == 0;
        x->loopback = is_loopback(host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

int util_net_xfer_prepare(util_net_xfer *x, const char *url, const char *body, size_t len,
                          struct curl_slist *headers, util_err *err)
{
    int rc = check_url(x, url, err);
    if (rc) return rc;
    free(x->body);
    x->body = NULL;
    x->len = x->cap = 0;
    x->too_big = x->oom = 0;
    x->reason[0] = 0;
    x->errbuf[0] = 0;
    CURL *h = x->h;
    CURLcode cc = curl_easy_setopt(h, CURLOPT_URL, url);
    /* "" disables proxies for this request; NULL restores libcurl's default,
     * which reads the environment. */
    if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_PROXY, x->loopback ? "" : (char *)NULL);
    if (body) {
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_POST, 1L);
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    } else {
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (cc != CURLE_OK)
        return util_err_set(err, UTIL_EINVAL, "cannot request %s: %s", url, curl_easy_strerror(cc));
    return 0;
}

/* The proxy variable libcurl will use for this request, for the message of
 * a failed connection; NULL when none applies or no_proxy may exempt it. */
static const char *proxy_env(const util_net_xfer *t)
{
    if (t->loopback || getenv("no_proxy") || getenv("NO_PROXY")) return NULL;
    static const char *const https_vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                                             NULL};
    /* libcurl ignores HTTP_PROXY in capitals (a CGI program's header). */
    static const char *const http_vars[] = {"http_proxy", "all_proxy", "ALL_PROXY", NULL};
    for (const char *const *v = t->https ? https_vars : http_vars; *v; v++) {
        const char *s = getenv(*v);
        if (s && *s) return *v;
    }
    return NULL;
}

static const char *detail(util_net_xfer *c, CURLcode cc)
{
    return c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
}

static int fail(util_net_resp *resp, util_net_fail kind, int code)
{
    resp->fail = kind;
    return code;
}

int util_net_xfer_finish(util_net_xfer *c, const char *url, CURLcode cc, util_net_resp *resp,
                         util_err *err)
{
    const util_net_xfer *t = c;
    const char *P = c->cfg->peer;
    long status = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    if (cc == CURLE_OK) {
        if (!c->body) {
            c->body = malloc(1);
            if (!c->body)
                return fail(resp, UTIL_NET_FAIL_OTHER,
                            util_err_set(err, UTIL_ENOMEM, "out of memory"));
            c->cap = 1;
        }
        c->body[c->len] = 0;
        /* The body moves to resp; the client's buffer starts again. */
        resp->body = c->body;
        resp->len = c->len;
        c->body = NULL;
        c->len = c->cap = 0;
        if (status >= 200 && status < 300) return 0;
        char excerpt[EXCERPT_MAX + 1];
        size_t n = resp->len < EXCERPT_MAX ? resp->len : EXCERPT_MAX;
        for (size_t i = 0; i < n; i++)
            excerpt[i] = (resp->body[i] >= ' ' && resp->body[i] < 0x7f) ? resp->body[i] : ' ';
        excerpt[n] = 0;
        util_err_fill(err, UTIL_EIO, "%s at %s answered HTTP %ld%s%s%s%s", P, url, status,
                      c->reason[0] ? " " : "", c->reason, n ? ": " : "", excerpt);
        return fail(resp, UTIL_NET_FAIL_HTTP, UTIL_EIO);
    }

    /* A partial answer is of no use; do not hold up to max_response for it. */
    free(c->body);
    c->body = NULL;
    c->len = c->cap = 0;
    long os_errno = 0;
    curl_easy_getinfo(c->h, CURLINFO_OS_ERRNO, &os_errno);
    const char *d = detail(c, cc);
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        util_err_fill(err, UTIL_EIO, "cannot reach %s at %s: %s", P, url, d);
        return fail(resp, UTIL_NET_FAIL_RESOLVE, UTIL_EIO);
    case CURLE_COULDNT_RESOLVE_PROXY:
        util_err_fill(err, UTIL_EIO, "cannot reach %s at %s: proxy: %s", P, url, d);
        return fail(resp, UTIL_NET_FAIL_RESOLVE, UTIL_EIO);
    case CURLE_COULDNT_CONNECT: {
        const char *pv = proxy_env(t);
        util_err_fill(err, UTIL_EIO, "cannot reach %s at %s: %s%s%s%s", P, url,
                      os_errno ? strerror((int)os_errno) : d, pv ? " (through the proxy in $" : "",
                      pv ? pv : "", pv ? ")" : "");
        return fail(resp, UTIL_NET_FAIL_CONNECT, UTIL_EIO);
    }
    case CURLE_OPERATION_TIMEDOUT: {
        /* libcurl 7.88 marks the connection connected only after TLS, so
         * whether the request went out tells the phases apart, and its
         * message names a TLS handshake. */
        long sent = 0;
        curl_easy_getinfo(c->h, CURLINFO_REQUEST_SIZE, &sent);
        if (sent == 0 && t->https && strstr(d, "SSL")) {
            util_err_fill(err, UTIL_EIO, "TLS handshake with %s at %s timed out", P, url);
            return fail(resp, UTIL_NET_FAIL_TLS, UTIL_EIO);
        }
        if (sent == 0) {
            util_err_fill(err, UTIL_EIO, "cannot reach %s at %s: connection timed out", P, url);
            return fail(resp, UTIL_NET_FAIL_CONNECT, UTIL_EIO);
        }
        util_err_fill(err, UTIL_EIO, "timed out waiting for the answer of %s at %s", P, url);
        return fail(resp, UTIL_NET_FAIL_TIMEOUT, UTIL_EIO);
    }
    case CURLE_PEER_FAILED_VERIFICATION:
        /* libcurl checks the host name itself, after OpenSSL accepted the
         * chain; its messages say "host name". */
        if (strstr(d, "host name")) {
            util_err_fill(err, UTIL_EIO, "TLS certificate of %s at %s is for another host: %s", P,
                          url, d);
            return fail(resp, UTIL_NET_FAIL_HOSTNAME, UTIL_EIO);
        }
        util_err_fill(err, UTIL_EIO, "TLS certificate of %s at %s is not trusted: %s", P, url, d);
        return fail(resp, UTIL_NET_FAIL_CERT, UTIL_EIO);
    case CURLE_SSL_CACERT_BADFILE:
        util_err_fill(err, UTIL_EINVAL, "cannot use CA file '%s': %s",
                      c->cfg->ca_file ? c->cfg->ca_file : "(system)", d);
        return fail(resp, UTIL_NET_FAIL_CA_FILE, UTIL_EINVAL);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CLIENTCERT:
        util_err_fill(err, UTIL_EIO, "TLS handshake with %s at %s failed: %s", P, url, d);
        return fail(resp, UTIL_NET_FAIL_TLS, UTIL_EIO);
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
        if (cc == CURLE_WRITE_ERROR && !c->too_big) break;
        if (c->cfg->max_response % (1u << 20) == 0)
            util_err_fill(err, UTIL_ELIMIT, "answer from %s at %s is larger than %zu MiB", P, url,
                          c->cfg->max_response >> 20);
        else
            util_err_fill(err, UTIL_ELIMIT, "answer from %s at %s is larger than %zu bytes", P, url,
                          c->cfg->max_response);
        return fail(resp, UTIL_NET_FAIL_TOO_BIG, UTIL_ELIMIT);
    case CURLE_UNSUPPORTED_PROTOCOL: /* the scheme was checked: an HTTP/0.9 answer */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
        util_err_fill(err, UTIL_EIO, "malformed HTTP answer from %s at %s: %s", P, url, d);
        return fail(resp, UTIL_NET_FAIL_PROTOCOL, UTIL_EIO);
    case CURLE_GOT_NOTHING:
        util_err_fill(err, UTIL_EIO, "%s at %s closed the connection without answering", P, url);
        return fail(resp, UTIL_NET_FAIL_PROTOCOL, UTIL_EIO);
    case CURLE_PARTIAL_FILE:
        util_err_fill(err, UTIL_EIO, "%s at %s closed the connection mid-answer (%s)", P, url, d);
        return fail(resp, UTIL_NET_FAIL_PROTOCOL, UTIL_EIO);
    case CURLE_RECV_ERROR:
        util_err_fill(err, UTIL_EIO, "reading from %s at %s: %s", P, url, d);
        return fail(resp, UTIL_NET_FAIL_PROTOCOL, UTIL_EIO);
    case CURLE_SEND_ERROR:
        util_err_fill(err, UTIL_EIO, "sending to %s at %s: %s", P, url, d);
        return fail(resp, UTIL_NET_FAIL_PROTOCOL, UTIL_EIO);
    case CURLE_OUT_OF_MEMORY:
        util_err_fill(err, UTIL_ENOMEM, "out of memory talking to %s at %s", P, url);
        return fail(resp, UTIL_NET_FAIL_OTHER, UTIL_ENOMEM);
    default: break;
    }
    if (c->oom) {
        util_err_fill(err, UTIL_ENOMEM, "out of memory reading the answer of %s at %s", P, url);
        return fail(resp, UTIL_NET_FAIL_OTHER, UTIL_ENOMEM);
    }
    util_err_fill(err, UTIL_EIO, "request to %s at %s failed: %s", P, url, d);
    return fail(resp, UTIL_NET_FAIL_OTHER, UTIL_EIO);
}

static int perform(util_net_client *c, const char *url, const char *body, size_t len,
                   util_net_resp *resp, util_err *err)
{
    memset(resp, 0, sizeof *resp);
    int rc = util_net_xfer_prepare(&c->x, url, body, len, body ? c->hdr_post : c->hdr_get, err);
    if (rc) return fail(resp, UTIL_NET_FAIL_URL, rc);
    CURLcode cc = curl_easy_perform(c->x.h);
    return util_net_xfer_finish(&c->x, url, cc, resp, err);
}

int util_net_post_json(util_net_client *c, const char *url, const char *body, size_t len,
                       util_net_resp *resp, util_err *err)
{
    /* POSTFIELDS NULL would make libcurl read the body from a callback. */
    return perform(c, url, body ? body : "", body ? len : 0, resp, err);
}

int util_net_get(util_net_client *c, const char *url, util_net_resp *resp, util_err *err)
{
    return perform(c, url, NULL, 0, resp, err);
}

/* --- raw streams ---------------------------------------------------------- */

struct util_net_stream {
    util_net_cfg cfg;
    util_net_xfer x;
    curl_socket_t fd;
    char *url;
};

int util_net_stream_open(util_net_stream **out, const char *url, const util_net_opts *opts,
                         util_net_fail *fail, util_err *err)
{
    *out = NULL;
    util_net_fail dummy;
    if (!fail) fail = &dummy;
    *fail = UTIL_NET_FAIL_OTHER;
    util_net_stream *s = calloc(1, sizeof *s);
    if (!s) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    s->fd = CURL_SOCKET_BAD;
    int rc = util_net_cfg_init(&s->cfg, opts, err);
    if (rc) {
        /* util_net_cfg_init refuses input only for the CA file. */
        if (rc == UTIL_EINVAL) *fail = UTIL_NET_FAIL_CA_FILE;
        free(s);
        return rc;
    }
    if ((rc = util_net_xfer_init(&s->x, &s->cfg, err))) goto out;
    if (!(s->url = strdup(url))) {
        rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = util_net_xfer_prepare(&s->x, url, NULL, 0, NULL, err))) {
        *fail = UTIL_NET_FAIL_URL;
        goto out;
    }
    /* libcurl connects (through a proxy's CONNECT tunnel for http:// too: a
     * proxy would not forward an Upgrade request) and does the TLS handshake
     * with its checks, then hands the connection over. */
    CURLcode cc = curl_easy_setopt(s->x.h, CURLOPT_CONNECT_ONLY, 1L);
    if (cc == CURLE_OK) cc = curl_easy_setopt(s->x.h, CURLOPT_HTTPPROXYTUNNEL, 1L);
    if (cc != CURLE_OK) {
        rc = util_err_set(err, UTIL_EIO, "libcurl refused an option: %s", curl_easy_strerror(cc));
        goto out;
    }
    cc = curl_easy_perform(s->x.h);
    if (cc != CURLE_OK) {
        util_net_resp r = {0};
        rc = util_net_xfer_finish(&s->x, url, cc, &r, err);
        *fail = r.fail;
        util_net_resp_free(&r);
        if (rc == 0) rc = util_err_set(err, UTIL_EIO, "cannot reach %s at %s", s->cfg.peer, url);
        goto out;
    }
    cc = curl_easy_getinfo(s->x.h, CURLINFO_ACTIVESOCKET, &s->fd);
    if (cc != CURLE_OK || s->fd == CURL_SOCKET_BAD) {
        rc = util_err_set(err, UTIL_EIO, "no connection to %s at %s", s->cfg.peer, url);
        goto out;
    }
    *fail = UTIL_NET_OK;
    *out = s;
    return 0;
out:
    util_net_stream_close(s);
    return rc;
}

int util_net_stream_fd(const util_net_stream *s)
{
    return (int)s->fd;
}

int util_net_stream_send(util_net_stream *s, const void *buf, size_t len, size_t *n, util_err *err)
{
    *n = 0;
    s->x.errbuf[0] = 0;
    CURLcode cc = curl_easy_send(s->x.h, buf, len, n);
    if (cc == CURLE_AGAIN) {
        *n = 0;
        return 0;
    }
    if (cc != CURLE_OK)
        return util_err_set(err, UTIL_EIO, "sending to %s at %s: %s", s->cfg.peer, s->url,
                            detail(&s->x, cc));
    return 0;
}

int util_net_stream_recv(util_net_stream *s, void *buf, size_t len, size_t *n, util_err *err)
{
    *n = 0;
    s->x.errbuf[0] = 0;
    CURLcode cc = curl_easy_recv(s->x.h, buf, len, n);
    if (cc == CURLE_AGAIN) {
        *n = 0;
        return 0;
    }
    if (cc != CURLE_OK)
        return util_err_set(err, UTIL_EIO, "reading from %s at %s: %s", s->cfg.peer, s->url,
                            detail(&s->x, cc));
    if (*n == 0 && len > 0)
        return util_err_set(err, UTIL_EIO, "%s at %s closed the connection", s->cfg.peer, s->url);
    return 0;
}

void util_net_stream_close(util_net_stream *s)
{
    if (!s) return;
    util_net_xfer_cleanup(&s->x);
    util_net_cfg_free(&s->cfg);
    free(s->url);
    free(s);
}
