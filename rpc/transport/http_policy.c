/* Who may do what on the RPC server: the routes' settings, the rate limit,
 * admin rights, the Origin and Content-Type rules and the explorer's CSP
 * header (docs/rpc-protocol.md, "Admin methods" and "Limits"). Split from
 * http_proto.c, the request state machine that applies them. */
#include "rpc/transport/http_proto.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/time.h"

/* Header values we print must not be able to end the header line. */
int http_header_safe(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e || n >= max) return 0;
    return n > 0;
}

/* RFC 6750 token68 characters. */
static int token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > RPC_HTTP_MAX_TOKEN) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr("-._~+/=", c)))
            return 0;
    }
    return 1;
}

/* Loopback: 127.0.0.0/8, ::1, ::ffff:127.x, "localhost" (and the default). */
static int host_is_loopback(const char *host)
{
    if (!host || strcmp(host, "localhost") == 0) return 1;
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1) return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) == 1) {
        static const unsigned char one[16] = {[15] = 1};
        static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
        return memcmp(a, one, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
    }
    return 0;
}

int http_routes_init(http_routes *r, const rpc_http_cfg *cfg, rpc_dispatch *d, rpc_http_get_fn get,
                     void *get_ctx, http_counters *counters, util_err *err)
{
    memset(r, 0, sizeof *r);
    r->max_body = cfg->max_body ? cfg->max_body : RPC_HTTP_DEFAULT_MAX_BODY;
    if (cfg->cors_origin && !http_header_safe(cfg->cors_origin, 256))
        return util_err_set(err, UTIL_EINVAL,
                            "rpc: cors origin must be printable ASCII, 1-256 chars");
    if (cfg->auth_token && !token_ok(cfg->auth_token))
        return util_err_set(err, UTIL_EINVAL,
                            "rpc: auth token must be 1-%d characters of A-Z a-z 0-9 - . _ ~ + / =",
                            RPC_HTTP_MAX_TOKEN);
    r->cors_origin = cfg->cors_origin;
    r->d = d;
    r->get = get;
    r->get_ctx = get_ctx;
    r->auth_token = cfg->auth_token;
    r->auth_token_len = cfg->auth_token ? strlen(cfg->auth_token) : 0;
    r->admin_open = !cfg->auth_token && host_is_loopback(cfg->host);
    if (cfg->rate_limit) {
        r->rate_interval_ns = 1000000000ull / cfg->rate_limit;
        if (r->rate_interval_ns == 0) r->rate_interval_ns = 1;
        uint64_t burst = cfg->rate_burst ? cfg->rate_burst : cfg->rate_limit;
        r->rate_tolerance_ns = burst * r->rate_interval_ns;
    }
    r->max_reply = cfg->max_reply ? cfg->max_reply : RPC_HTTP_DEFAULT_MAX_REPLY;
    r->ws_enabled = !cfg->ws_disabled;
    r->ws_send_limit = cfg->ws_send_limit ? cfg->ws_send_limit : RPC_WS_DEFAULT_SEND_LIMIT;
    r->ws_ping_ms = cfg->ws_ping_ms ? cfg->ws_ping_ms : RPC_WS_DEFAULT_PING_MS;
    r->session_closed = cfg->session_closed;
    r->session_ctx = cfg->session_ctx;
    r->counters = counters;
    return 0;
}

/* Charges n requests (n == 0: only asks whether one more fits). */
static int rate_take(const http_routes *r, http_rate *rt, uint64_t now_ns, size_t n)
{
    if (!r->rate_interval_ns) return 1;
    int ok = rt->tab
                 ? rpc_addrtab_rate_take(rt->tab, &rt->key, now_ns, r->rate_interval_ns,
                                         r->rate_tolerance_ns, n)
                 : rpc_gcra_take(&rt->tat, now_ns, r->rate_interval_ns, r->rate_tolerance_ns, n);
    if (!ok && r->counters) r->counters->rate_limited++;
    return ok;
}

int http_rate_allow(const http_routes *r, http_rate *rt, uint64_t now_ns)
{
    return rate_take(r, rt, now_ns, 0);
}

int http_rate_admit(void *ctx, size_t n)
{
    http_admit *a = ctx;
    if (!a->r->rate_interval_ns) return 0;
    return rate_take(a->r, a->rt, util_mono_ns(), n ? n : 1) ? 0 : 1;
}

int http_admin_allowed(const http_routes *r, const char *auth, size_t auth_len, const char *origin,
                       size_t origin_len)
{
    if (r->auth_token) {
        if (!auth || auth_len != 7 + r->auth_token_len || strncasecmp(auth, "Bearer ", 7) != 0)
            return 0;
        return CRYPTO_memcmp(auth + 7, r->auth_token, r->auth_token_len) == 0;
    }
    if (!r->admin_open) return 0;
    /* A web page can make a browser send requests to a loopback node; only
     * the configured explorer origin (not "*") gets admin rights there. */
    if (!origin) return 1;
    const char *c = r->cors_origin;
    return c && strcmp(c, "*") != 0 && strlen(c) == origin_len &&
           memcmp(c, origin, origin_len) == 0;
}

void http_ws_accept(const char *key, size_t len, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, EVP_sha1(), NULL) || !EVP_DigestUpdate(c, key, len) ||
        !EVP_DigestUpdate(c, guid, sizeof guid - 1) || !EVP_DigestFinal_ex(c, md, &mdlen) ||
        mdlen != 20) {
        /* Only allocation can fail here; an answer that cannot match makes
         * the client give up, which is the right outcome. */
        memset(md, 0, sizeof md);
    }
    EVP_MD_CTX_free(c);
    EVP_EncodeBlock((unsigned char *)out, md, 20);
}

int http_origin(const http_proto *p, const char **v, size_t *len)
{
    const http_hdr *h = &p->hdr[HDR_ORIGIN];
    if (h->seen == 0) return 0;
    if (h->seen != 1 || h->overflow) return -1;
    size_t n = h->len;
    while (n && (h->v[n - 1] == ' ' || h->v[n - 1] == '\t'))
        n--;
    const char *o = h->v;
    *v = o;
    *len = n;
    if (n == 4 && memcmp(o, "null", 4) == 0) return 1;
    /* scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    size_t i = 0;
    while (i < n && (isalnum((unsigned char)o[i]) || (i && strchr("+-.", o[i]))))
        i++;
    if (i == 0 || !isalpha((unsigned char)o[0]) || n - i < 4 || memcmp(o + i, "://", 3) != 0)
        return -1;
    i += 3;
    /* host [":" port]: letters, digits, "-", ".", "_", "~", "%" (a percent-
     * encoded name), and ":" "[" "]" (an IPv6 literal and the port); no
     * path, no user info, no spaces */
    size_t start = i;
    for (; i < n; i++)
        if (!isalnum((unsigned char)o[i]) && !strchr("-._~%:[]", o[i])) return -1;
    return i > start ? 1 : -1;
}

/* The media type of Content-Type (before any parameter) is application/json
 * or a "+json" type. */
int http_json_content_type(const http_proto *p)
{
    size_t n = 0;
    const char *v = http_hdr_get(p, HDR_CTYPE, &n);
    if (!v) return 0;
    size_t m = 0;
    while (m < n && v[m] != ';' && v[m] != ' ' && v[m] != '\t')
        m++;
    if (m == 16 && strncasecmp(v, "application/json", 16) == 0) return 1;
    return m > 17 && strncasecmp(v, "application/", 12) == 0 &&
           strncasecmp(v + m - 5, "+json", 5) == 0;
}

/* A Content-Type a browser sends without a CORS preflight (a "simple
 * request"): text/plain and the two form types. */
int http_simple_content_type(const http_proto *p)
{
    size_t n = 0;
    const char *v = http_hdr_get(p, HDR_CTYPE, &n);
    if (!v) return p->hdr[HDR_CTYPE].seen != 0; /* repeated or unreadable: assume the worst */
    size_t m = 0;
    while (m < n && v[m] != ';' && v[m] != ' ' && v[m] != '\t')
        m++;
    static const char *const simple[] = {"text/plain", "application/x-www-form-urlencoded",
                                         "multipart/form-data"};
    for (size_t i = 0; i < sizeof simple / sizeof *simple; i++)
        if (strlen(simple[i]) == m && strncasecmp(v, simple[i], m) == 0) return 1;
    return 0;
}

/* A page the node serves (the explorer) may open WebSockets to its own
 * origin only. Its meta policy cannot name that origin, and 'self' does not
 * cover ws: in every browser, so the header names it from Host; a browser
 * enforces both policies. Without a usable Host only 'self' is allowed. */
const char *http_html_csp(const http_proto *p, const char *ctype, char *out, size_t cap)
{
    if (strncasecmp(ctype, "text/html", 9) != 0) return NULL;
    size_t hl = 0;
    const char *host = http_hdr_get(p, HDR_HOST, &hl);
    int ok = host && hl > 0;
    for (size_t i = 0; ok && i < hl; i++)
        ok = isalnum((unsigned char)host[i]) || strchr("-._:[]", host[i]);
    if (ok)
        snprintf(out, cap, "Content-Security-Policy: connect-src 'self' ws://%.*s wss://%.*s\r\n",
                 (int)hl, host, (int)hl, host);
    else
        snprintf(out, cap, "Content-Security-Policy: connect-src 'self'\r\n");
    return out;
}
