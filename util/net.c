/* HTTP(S) client on libcurl's easy interface (util/net.h). */
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

#define EXCERPT_MAX 160

struct util_net_client {
    CURL *h;
    struct curl_slist *hdr_post, *hdr_get;
    char *ca_file, *peer;
    size_t max_response;
    char errbuf[CURL_ERROR_SIZE];
    /* The transfer in progress. */
    char *body;
    size_t len, cap;
    int too_big, oom;
    char reason[64]; /* reason phrase of the last status line */
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
    util_net_client *c = ud;
    size_t len = size * n;
    if (len > c->max_response - c->len) {
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
    util_net_client *c = ud;
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

int util_net_client_new(util_net_client **out, const util_net_opts *opts, util_err *err)
{
    *out = NULL;
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

    util_net_client *c = calloc(1, sizeof *c);
    if (!c) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    c->max_response = o.max_response;
    c->ca_file = dup_or_null(o.ca_file);
    c->peer = strdup(o.peer_name);
    c->h = curl_easy_init();
    /* "Expect:" removes libcurl's "Expect: 100-continue" on large bodies: a
     * JSON server need not support it, and it costs a round trip. */
    static const char *const post_hdrs[] = {"Content-Type: application/json",
                                            "Accept: application/json", "Expect:"};
    for (size_t i = 0; i < sizeof post_hdrs / sizeof *post_hdrs && c->h; i++) {
        struct curl_slist *l = curl_slist_append(c->hdr_post, post_hdrs[i]);
        if (!l) goto nomem;
        c->hdr_post = l;
    }
    c->hdr_get = curl_slist_append(NULL, "Accept: application/json");
    if (!c->h || !c->peer || (o.ca_file && !c->ca_file) || !c->hdr_post || !c->hdr_get) goto nomem;

    CURL *h = c->h;
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
    SET(CURLOPT_TIMEOUT_MS, (long)o.timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)o.connect_timeout_ms);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o.max_response);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, c);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, c);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_USERAGENT, o.user_agent);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    if (c->ca_file) {
        /* Only these CAs: also drop the built-in CA directory. */
        SET(CURLOPT_CAINFO, c->ca_file);
        SET(CURLOPT_CAPATH, (char *)NULL);
    }
#undef SET
    if (cc != CURLE_OK) {
        util_err_fill(err, UTIL_EIO, "libcurl refused an option: %s", curl_easy_strerror(cc));
        util_net_client_free(c);
        return UTIL_EIO;
    }
    *out = c;
    return 0;
nomem:
    util_net_client_free(c);
    return util_err_set(err, UTIL_ENOMEM, "out of memory");
}

void util_net_client_free(util_net_client *c)
{
    if (!c) return;
    if (c->h) curl_easy_cleanup(c->h);
    curl_slist_free_all(c->hdr_post);
    curl_slist_free_all(c->hdr_get);
    free(c->ca_file);
    free(c->peer);
    free(c->body);
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

typedef struct target {
    int https;
    int loopback;
} target;

/* Checks the URL before libcurl sees it, so a wrong scheme gets a plain
 * message, and learns whether its host is loopback. */
static int check_url(util_net_client *c, const char *url, target *t, util_err *err)
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
            rc =
                util_err_set(err, UTIL_EINVAL,
                             "%s URL must start with http:// or https:// (got '%s')", c->peer, url);
        else
            rc = util_err_set(err, UTIL_EINVAL, "bad %s URL '%s': %s", c->peer, url,
                              curl_url_strerror(uc));
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = util_err_set(err, UTIL_EINVAL, "%s URL must start with http:// or https:// (got '%s')",
                          c->peer, url);
    } else {
        t->https = strcmp(scheme, "https") == 0;
        t->loopback = is_loopback(host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* Sets up the handle for one request. A multi-interface client will prepare
 * each of its handles the same way. */
static int prepare(util_net_client *c, const char *url, const char *body, size_t len, target *t,
                   util_err *err)
{
    int rc = check_url(c, url, t, err);
    if (rc) return rc;
    c->len = 0;
    c->too_big = c->oom = 0;
    c->reason[0] = 0;
    c->errbuf[0] = 0;
    CURL *h = c->h;
    CURLcode cc = curl_easy_setopt(h, CURLOPT_URL, url);
    /* "" disables proxies for this request; NULL restores libcurl's default,
     * which reads the environment. */
    if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_PROXY, t->loopback ? "" : (char *)NULL);
    if (body) {
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_POST, 1L);
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdr_post);
    } else {
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdr_get);
    }
    if (cc != CURLE_OK)
        return util_err_set(err, UTIL_EINVAL, "cannot request %s: %s", url, curl_easy_strerror(cc));
    return 0;
}

/* The proxy variable libcurl will use for this request, for the message of
 * a failed connection; NULL when none applies or no_proxy may exempt it. */
static const char *proxy_env(const target *t)
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

static const char *detail(util_net_client *c, CURLcode cc)
{
    return c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
}

static int fail(util_net_resp *resp, util_net_fail kind, int code)
{
    resp->fail = kind;
    return code;
}

/* Turns a finished transfer into resp and a message. A multi-interface
 * client will finish each transfer the same way. */
static int finish(util_net_client *c, const char *url, const target *t, CURLcode cc,
                  util_net_resp *resp, util_err *err)
{
    const char *P = c->peer;
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
                      c->ca_file ? c->ca_file : "(system)", d);
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
        if (c->max_response % (1u << 20) == 0)
            util_err_fill(err, UTIL_ELIMIT, "answer from %s at %s is larger than %zu MiB", P, url,
                          c->max_response >> 20);
        else
            util_err_fill(err, UTIL_ELIMIT, "answer from %s at %s is larger than %zu bytes", P, url,
                          c->max_response);
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
    target t = {0};
    int rc = prepare(c, url, body, len, &t, err);
    if (rc) return fail(resp, UTIL_NET_FAIL_URL, rc);
    CURLcode cc = curl_easy_perform(c->h);
    return finish(c, url, &t, cc, resp, err);
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
