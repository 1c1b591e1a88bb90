/* HTTP/1.1 request parsing and answering for one connection, independent of
 * sockets (rpc/transport/http_proto.h). */
#include "rpc/transport/http_proto.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rpc/transport/ws.h"
#include "util/time.h"

enum {
    ROUTE_NONE,
    ROUTE_RPC,        /* POST / */
    ROUTE_GET,        /* GET or HEAD */
    ROUTE_OPTIONS,    /* OPTIONS, any path */
    ROUTE_NOT_FOUND,  /* POST elsewhere */
    ROUTE_BAD_METHOD, /* anything else */
};

/* A request body buffer bigger than this is released after its request
 * instead of being kept for the next one, so idle keep-alive connections do
 * not each hold up to max_body bytes. */
#define BODY_KEEP_CAP (64 * 1024)

#define ALLOWED_METHODS "GET, HEAD, POST, OPTIONS"

static const char *reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: {
        const char *s = http_status_str((enum http_status)status);
        return (s && s[0] != '<') ? s : "Status";
    }
    }
}

void http_proto_init(http_proto *p, const http_routes *r, http_emit_fn emit, void *sink)
{
    memset(p, 0, sizeof *p);
    http_parser_init(&p->parser, HTTP_REQUEST);
    p->parser.data = p;
    p->routes = r;
    p->emit = emit;
    p->sink = sink;
    util_buf_init(&p->body);
}

void http_proto_free(http_proto *p)
{
    util_buf_free(&p->body);
}

void http_proto_resume(http_proto *p)
{
    p->paused = 0;
    http_parser_pause(&p->parser, 0);
}

/* Sends one response; body (malloc'd or NULL) is taken. keep=0 marks the
 * connection for closing after it. */
/* Appends a string; head has room (respond sizes it). */
static size_t put(char *head, size_t n, const char *s)
{
    size_t l = strlen(s);
    memcpy(head + n, s, l);
    return n + l;
}

static size_t put_u(char *head, size_t n, size_t v)
{
    char digits[24];
    size_t k = 0;
    do {
        digits[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        head[n++] = digits[--k];
    return n;
}

/* Sends one response; body (malloc'd or NULL) is taken. keep=0 marks the
 * connection for closing after it. Built without printf: this runs for every
 * request. */
static void respond(http_proto *p, int status, const char *ctype, const char *extra, char *body,
                    size_t blen, int keep)
{
    const http_routes *r = p->routes;
    if (!keep) p->close = 1;
    const char *cors = r->cors_origin;
    if (!ctype) ctype = "application/octet-stream";
    const char *why = reason(status);
    size_t cap =
        200 + strlen(why) + strlen(ctype) + (extra ? strlen(extra) : 0) + (cors ? strlen(cors) : 0);
    char stack[512];
    char *head = cap <= sizeof stack ? stack : malloc(cap);
    if (!head) {
        free(body);
        p->close = 1;
        return;
    }
    size_t n = put(head, 0, "HTTP/1.1 ");
    n = put_u(head, n, (size_t)status);
    head[n++] = ' ';
    n = put(head, n, why);
    n = put(head, n, "\r\n");
    if (status == 204 || status < 200) {
        free(body);
        body = NULL;
        blen = 0;
    } else {
        n = put(head, n, "Content-Type: ");
        n = put(head, n, ctype);
        n = put(head, n, "\r\nContent-Length: ");
        n = put_u(head, n, blen);
        n = put(head, n, "\r\n");
    }
    if (cors && status >= 200) {
        n = put(head, n, "Access-Control-Allow-Origin: ");
        n = put(head, n, cors);
        n = put(head, n, "\r\n");
    }
    if (extra) n = put(head, n, extra);
    if (status >= 200) {
        if (!keep)
            n = put(head, n, "Connection: close\r\n");
        else if (p->parser.http_major == 1 && p->parser.http_minor == 0)
            n = put(head, n, "Connection: keep-alive\r\n");
    }
    n = put(head, n, "\r\n");
    if (p->route == ROUTE_GET && p->parser.method == HTTP_HEAD) {
        free(body);
        body = NULL;
        blen = 0;
    }
    int full = p->emit(p->sink, head, n, body, blen);
    if (head != stack) free(head);
    if (full) {
        p->paused = 1;
        http_parser_pause(&p->parser, 1);
    }
}

/* A JSON-RPC-shaped error body for HTTP-level failures. msg is ours, but may
 * quote a parser description, so quotes and controls are dropped. */
static char *error_body(int code, const char *msg, size_t *len)
{
    char clean[200];
    size_t k = 0;
    for (size_t i = 0; msg[i] && k + 1 < sizeof clean; i++) {
        unsigned char c = (unsigned char)msg[i];
        clean[k++] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ? ' ' : (char)c;
    }
    clean[k] = 0;
    size_t cap = sizeof clean + 96;
    char *b = malloc(cap);
    if (!b) return NULL;
    int n = snprintf(b, cap,
                     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":%d,\"message\":\"%s\"},\"id\":null}",
                     code, clean);
    *len = (size_t)n;
    return b;
}

static void respond_error(http_proto *p, int status, int code, const char *msg, const char *extra,
                          int keep)
{
    size_t len = 0;
    char *b = error_body(code, msg, &len);
    respond(p, status, "application/json", extra, b, b ? len : 0, keep);
}

/* Fails the request: answer and close. Returns -1 so callbacks can stop the
 * parser with `return fail(...)`. */
static int fail(http_proto *p, int status, const char *msg)
{
    if (!p->close)
        respond_error(p, status, status >= 500 ? RPC_INTERNAL_ERROR : RPC_INVALID_REQUEST, msg,
                      NULL, 0);
    p->close = 1;
    return -1;
}

static int count_header(http_proto *p, size_t n)
{
    p->header_bytes += n;
    if (p->header_bytes > RPC_HTTP_MAX_HEADER_BYTES)
        return fail(p, 400, "request headers too large");
    return 0;
}

static int on_message_begin(http_parser *hp)
{
    http_proto *p = hp->data;
    p->phase = HTTP_PHASE_HEADERS;
    p->nbegun++;
    p->url_len = 0;
    p->header_bytes = 0;
    p->in_value = 1; /* so the first header name starts a new header */
    p->field_len = 0;
    p->capture = -1;
    for (int i = 0; i < HDR_COUNT; i++) {
        p->hdr[i].len = 0;
        p->hdr[i].seen = 0;
        p->hdr[i].overflow = 0;
    }
    p->route = ROUTE_NONE;
    p->body_len = 0;
    util_buf_reset(&p->body);
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t n)
{
    http_proto *p = hp->data;
    if (count_header(p, n)) return -1;
    if (n > RPC_HTTP_MAX_URL - p->url_len) return fail(p, 414, "request target too long");
    memcpy(p->url + p->url_len, at, n);
    p->url_len += n;
    return 0;
}

/* RFC 7230 tchar. http-parser without HTTP_PARSER_STRICT also lets spaces
 * through in header names, which RFC 7230 3.2.4 says to refuse. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int on_header_field(http_parser *hp, const char *at, size_t n)
{
    http_proto *p = hp->data;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)at[i]))
            return fail(p, 400, "bad request: invalid header name");
    /* 4 for ": " and CRLF, so many empty headers still count. */
    if (count_header(p, n + (p->in_value ? 4 : 0))) return -1;
    if (p->in_value) {
        p->in_value = 0;
        p->field_len = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (p->field_len < sizeof p->field - 1) p->field[p->field_len] = at[i];
        if (p->field_len < sizeof p->field) p->field_len++;
    }
    return 0;
}

static int header_id(const char *name, size_t n)
{
    static const char *const names[HDR_COUNT] = {
        [HDR_EXPECT] = "expect",
        [HDR_AUTH] = "authorization",
        [HDR_ORIGIN] = "origin",
        [HDR_UPGRADE] = "upgrade",
        [HDR_WS_KEY] = "sec-websocket-key",
        [HDR_WS_VERSION] = "sec-websocket-version",
        [HDR_HOST] = "host",
        [HDR_CTYPE] = "content-type",
    };
    for (int i = 0; i < HDR_COUNT; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0) return i;
    return -1;
}

static int on_header_value(http_parser *hp, const char *at, size_t n)
{
    http_proto *p = hp->data;
    if (count_header(p, n)) return -1;
    if (!p->in_value) {
        p->in_value = 1;
        p->capture = p->field_len <= sizeof p->field ? header_id(p->field, p->field_len) : -1;
        if (p->capture >= 0) {
            http_hdr *h = &p->hdr[p->capture];
            h->seen++;
            h->len = 0;
        }
    }
    if (p->capture >= 0) {
        http_hdr *h = &p->hdr[p->capture];
        for (size_t i = 0; i < n; i++) {
            if (h->len == HTTP_HDR_VALUE_MAX) {
                h->overflow = 1;
                break;
            }
            h->v[h->len++] = at[i];
        }
        h->v[h->len] = 0;
    }
    return 0;
}

const char *http_hdr_get(const http_proto *p, int id, size_t *len)
{
    const http_hdr *h = &p->hdr[id];
    if (h->seen != 1 || h->overflow) return NULL;
    *len = h->len;
    return h->v;
}

/* Cuts the query and fragment off the target; returns the path (inside
 * p->url) or NULL when the target has no usable path. */
static const char *request_path(http_proto *p)
{
    p->url[p->url_len] = 0;
    if (p->url[0] == '/') {
        p->url[strcspn(p->url, "?#")] = 0;
        return p->url;
    }
    if (strcmp(p->url, "*") == 0) return p->url;
    /* absolute-form "http://host/path" (RFC 7230 5.3.2) */
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(p->url, p->url_len, 0, &u) != 0) return NULL;
    if (!(u.field_set & (1 << UF_PATH))) {
        strcpy(p->url, "/");
        return p->url;
    }
    memmove(p->url, p->url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
    p->url[u.field_data[UF_PATH].len] = 0;
    return p->url;
}

static int on_headers_complete(http_parser *hp)
{
    http_proto *p = hp->data;
    p->phase = HTTP_PHASE_BODY;
    if (hp->http_major != 1 || hp->http_minor > 1)
        return fail(p, 505, "HTTP version not supported: use HTTP/1.1");
    if (hp->method == HTTP_CONNECT) {
        /* Its target is host:port, not a path: answered 405 without one. */
        p->url_len = 0;
        p->route = ROUTE_BAD_METHOD;
        return 0;
    }
    const char *path = request_path(p);
    if (!path) return fail(p, 400, "bad request target");
    switch (hp->method) {
    case HTTP_POST: p->route = strcmp(path, "/") == 0 ? ROUTE_RPC : ROUTE_NOT_FOUND; break;
    case HTTP_GET:
    case HTTP_HEAD: p->route = ROUTE_GET; break;
    case HTTP_OPTIONS: p->route = ROUTE_OPTIONS; break;
    default: p->route = ROUTE_BAD_METHOD; break;
    }
    int chunked = (hp->flags & F_CHUNKED) != 0;
    if (!chunked && hp->content_length != ULLONG_MAX && hp->content_length > p->routes->max_body)
        return fail(p, 413, "request body too large");
    size_t elen = 0;
    const char *expect = http_hdr_get(p, HDR_EXPECT, &elen);
    if (p->route == ROUTE_RPC && expect && elen == 12 &&
        strncasecmp(expect, "100-continue", 12) == 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        p->emit(p->sink, cont, sizeof cont - 1, NULL, 0);
    }
    return 0;
}

/* http-parser built without HTTP_PARSER_STRICT (as Debian ships it) takes
 * any two bytes after a chunk's data as its CRLF. They are checked here
 * instead, in this buffer or, when it ends first, at the start of the next. */
static int check_crlf(http_proto *p, const char *at)
{
    while (p->crlf_need > 0 && at < p->feed_end) {
        char want = p->crlf_need == 2 ? '\r' : '\n';
        if (*at++ != want) return fail(p, 400, "bad request: chunk data not followed by CRLF");
        p->crlf_need--;
    }
    return 0;
}

static int on_chunk_header(http_parser *hp)
{
    http_proto *p = hp->data;
    p->chunk_left = hp->content_length;
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
    http_proto *p = hp->data;
    if (n > p->routes->max_body - p->body_len) return fail(p, 413, "request body too large");
    p->body_len += n;
    if (hp->flags & F_CHUNKED) {
        p->chunk_left = n < p->chunk_left ? p->chunk_left - n : 0;
        if (p->chunk_left == 0) {
            p->crlf_need = 2;
            if (check_crlf(p, at + n)) return -1;
        }
    }
    if (p->route == ROUTE_RPC) {
        util_buf_put(&p->body, at, n);
        if (p->body.oom) return fail(p, 500, "out of memory");
    }
    return 0;
}

static void answer_get(http_proto *p, int keep)
{
    const http_routes *r = p->routes;
    int status = 200;
    const char *ctype = NULL;
    char *body = NULL;
    size_t len = 0;
    if (r->get && r->get(r->get_ctx, p->url, &status, &ctype, &body, &len) == 0) {
        if (status < 200 || status > 599) {
            free(body);
            respond_error(p, 500, RPC_INTERNAL_ERROR, "route returned a bad status", NULL, keep);
            return;
        }
        if (!ctype || !http_header_safe(ctype, 128)) ctype = "application/octet-stream";
        char csp[96 + 2 * HTTP_HDR_VALUE_MAX];
        respond(p, status, ctype, http_html_csp(p, ctype, csp, sizeof csp), body, body ? len : 0,
                keep);
        return;
    }
    free(body);
    if (strcmp(p->url, "/") == 0)
        respond_error(p, 405, RPC_INVALID_REQUEST, "method not allowed: use POST",
                      "Allow: POST, OPTIONS\r\n", keep);
    else
        respond_error(p, 404, RPC_METHOD_NOT_FOUND, "not found", NULL, keep);
}

static int is_base64_key(const char *k, size_t n)
{
    /* base64 of 16 bytes: 22 characters and "==" */
    if (n != 24 || k[22] != '=' || k[23] != '=') return 0;
    for (size_t i = 0; i < 22; i++) {
        unsigned char c = (unsigned char)k[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '+' || c == '/'))
            return 0;
    }
    return 1;
}

/* 1 when Origin is "http://" or "https://" followed by exactly the Host header. */
static int same_origin(http_proto *p, const char *origin, size_t ol)
{
    size_t hl = 0;
    const char *host = http_hdr_get(p, HDR_HOST, &hl);
    if (!origin || !host || hl == 0) return 0;
    size_t skip = ol > 7 && strncasecmp(origin, "http://", 7) == 0    ? 7
                  : ol > 8 && strncasecmp(origin, "https://", 8) == 0 ? 8
                                                                      : 0;
    return skip && ol - skip == hl && strncasecmp(origin + skip, host, hl) == 0;
}

/* GET /ws: answers the WebSocket handshake (RFC 6455 4.2) with 101, or
 * refuses it. Returns 1 when the connection is upgraded. */
static int ws_upgrade(http_proto *p, int keep)
{
    const http_routes *r = p->routes;
    http_parser *hp = &p->parser;
    size_t ul = 0, kl = 0, vl = 0, ol = 0, al = 0;
    const char *up = http_hdr_get(p, HDR_UPGRADE, &ul);
    const char *key = http_hdr_get(p, HDR_WS_KEY, &kl);
    const char *ver = http_hdr_get(p, HDR_WS_VERSION, &vl);
    const char *origin = NULL;
    int os = http_origin(p, &origin, &ol);
    const char *auth = http_hdr_get(p, HDR_AUTH, &al);
    if (hp->method != HTTP_GET || !hp->upgrade || !up || ul != 9 ||
        strncasecmp(up, "websocket", 9) != 0 || hp->http_major != 1 || hp->http_minor < 1) {
        respond_error(p, 426, RPC_INVALID_REQUEST, "upgrade required: websocket",
                      "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n", keep && !hp->upgrade);
        return 0;
    }
    if (!ver || vl != 2 || memcmp(ver, "13", 2) != 0) {
        respond_error(p, 426, RPC_INVALID_REQUEST, "unsupported WebSocket version",
                      "Sec-WebSocket-Version: 13\r\n", 0);
        return 0;
    }
    if (!key || !is_base64_key(key, kl)) {
        respond_error(p, 400, RPC_INVALID_REQUEST, "bad Sec-WebSocket-Key", NULL, 0);
        return 0;
    }
    /* Browsers always send Origin on a WebSocket; a page may only connect
     * when it was served by this node (same origin: the node's own explorer)
     * or when CORS allows its origin, as for HTTP. */
    if (os < 0 || (os > 0 && !same_origin(p, origin, ol) &&
                   (!r->cors_origin ||
                    (strcmp(r->cors_origin, "*") != 0 &&
                     (strlen(r->cors_origin) != ol || memcmp(r->cors_origin, origin, ol) != 0))))) {
        respond_error(p, 403, RPC_INVALID_REQUEST,
                      os < 0 ? "bad Origin header" : "origin not allowed", NULL, 0);
        return 0;
    }
    char accept[29];
    http_ws_accept(key, kl, accept);
    char head[160];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    p->upgraded = 1;
    p->ws_admin = http_admin_allowed(r, auth, al, origin, ol);
    p->emit(p->sink, head, (size_t)n, NULL, 0);
    return 1;
}

static void answer_rpc(http_proto *p, int keep)
{
    const http_routes *r = p->routes;
    size_t al = 0, ol = 0;
    const char *auth = http_hdr_get(p, HDR_AUTH, &al);
    const char *origin = NULL;
    int os = http_origin(p, &origin, &ol);
    if (os < 0) {
        /* Read as "no Origin", it would grant admin on a loopback node. */
        respond_error(p, 403, RPC_INVALID_REQUEST, "bad Origin header", NULL, keep);
        return;
    }
    if (os > 0 && !http_json_content_type(p)) {
        /* A browser sends text/plain, form or typeless bodies to any origin
         * without asking first (no CORS preflight): such a page must not be
         * able to make the node act. */
        respond_error(p, 415, RPC_INVALID_REQUEST,
                      "unsupported media type: a request with Origin needs Content-Type: "
                      "application/json",
                      NULL, keep);
        return;
    }
    if (!http_rate_allow(r, &p->rate, r->rate_interval_ns ? util_mono_ns() : 0)) {
        respond_error(p, 429, RPC_RATE_LIMITED, "rate limit exceeded", "Retry-After: 1\r\n", keep);
        return;
    }
    /* Without a token, a body a browser could have sent without Origin
     * (older browsers omit it on form posts) gets no admin rights. */
    int admin = http_admin_allowed(r, auth, al, os > 0 ? origin : NULL, ol) &&
                (r->auth_token || !http_simple_content_type(p));
    http_admit adm = {r, &p->rate};
    rpc_call call = {.admin = admin,
                     .admit = http_rate_admit,
                     .admit_ctx = &adm,
                     .max_reply = r->max_reply,
                     .conn = &p->gas};
    size_t n = 0;
    char *out = rpc_dispatch_handle_call(r->d, (const char *)p->body.data, p->body.len, &n, &call);
    if (out && call.refused)
        respond(p, 429, "application/json", "Retry-After: 1\r\n", out, n, keep);
    else if (out)
        respond(p, 200, "application/json", NULL, out, n, keep);
    else
        respond(p, 204, NULL, NULL, NULL, 0, keep);
}

static int on_message_complete(http_parser *hp)
{
    http_proto *p = hp->data;
    const http_routes *r = p->routes;
    p->phase = HTTP_PHASE_IDLE;
    p->ndone++;
    /* After an Upgrade or CONNECT the following bytes would be another
     * protocol, which this server does not speak: answer, then close. */
    int keep = !p->close && http_should_keep_alive(hp) && !hp->upgrade;
    switch (p->route) {
    case ROUTE_RPC: answer_rpc(p, keep); break;
    case ROUTE_GET:
        if (r->ws_enabled && strcmp(p->url, "/ws") == 0) {
            if (ws_upgrade(p, keep)) {
                /* Not paused: http-parser returns right after an upgrade
                 * request, counting all of its bytes. */
                p->route = ROUTE_NONE;
                return 0;
            }
        } else {
            answer_get(p, keep);
        }
        break;
    case ROUTE_OPTIONS:
        respond(p, 204, NULL,
                r->cors_origin ? "Allow: " ALLOWED_METHODS "\r\n"
                                 "Access-Control-Allow-Methods: " ALLOWED_METHODS "\r\n"
                                 "Access-Control-Allow-Headers: Content-Type, Authorization\r\n"
                                 "Access-Control-Max-Age: 86400\r\n"
                               : "Allow: " ALLOWED_METHODS "\r\n",
                NULL, 0, keep);
        break;
    case ROUTE_NOT_FOUND:
        respond_error(p, 404, RPC_METHOD_NOT_FOUND, "not found", NULL, keep);
        break;
    default:
        respond_error(p, 405, RPC_INVALID_REQUEST, "method not allowed",
                      "Allow: " ALLOWED_METHODS "\r\n", keep);
        break;
    }
    if (p->body.cap > BODY_KEEP_CAP) {
        util_buf_free(&p->body);
        util_buf_init(&p->body);
    }
    p->route = ROUTE_NONE;
    if (p->close) http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_chunk_header = on_chunk_header,
    .on_message_complete = on_message_complete,
};

size_t http_proto_feed(http_proto *p, const char *data, size_t len)
{
    if (p->close || p->paused || p->upgraded || len == 0) return 0;
    p->feed_end = data + len;
    if (p->crlf_need && check_crlf(p, data)) return 0;
    size_t used = http_parser_execute(&p->parser, &settings, data, len);
    if (p->close || p->upgraded) return used;
    enum http_errno e = HTTP_PARSER_ERRNO(&p->parser);
    if (e == HPE_PAUSED) {
        p->paused = 1;
        return used;
    }
    if (e != HPE_OK) {
        char msg[160];
        snprintf(msg, sizeof msg, "bad request: %s", http_errno_description(e));
        fail(p, 400, msg);
        return used;
    }
    if (used < len) fail(p, 400, "bad request"); /* not expected: upgrade closes above */
    return used;
}

/* rpc_http_process_bytes: a sink that collects everything. */
static int collect(void *sink, const char *head, size_t head_len, char *body, size_t body_len)
{
    util_buf *b = sink;
    util_buf_put(b, head, head_len);
    if (body) util_buf_put(b, body, body_len);
    free(body);
    return 0;
}

static int collect_ws(void *ctx, char *data, size_t len)
{
    util_buf *b = ctx;
    util_buf_put(b, data, len);
    free(data);
    return 0;
}

static size_t collect_pending(void *ctx)
{
    (void)ctx;
    return 0;
}

int rpc_http_process_bytes(const rpc_http_cfg *cfg, rpc_dispatch *d, rpc_http_get_fn get,
                           void *get_ctx, const uint8_t *in, size_t len, char **out,
                           size_t *out_len, int *closed)
{
    http_routes r;
    if (http_routes_init(&r, cfg, d, get, get_ctx, NULL, NULL) != 0) return UTIL_EINVAL;
    util_buf b;
    util_buf_init(&b);
    http_proto p;
    http_proto_init(&p, &r, collect, &b);
    size_t used = http_proto_feed(&p, (const char *)in, len);
    *closed = p.close;
    if (p.upgraded) {
        static const ws_io io = {collect_ws, collect_pending};
        rpc_session *s = ws_session_new(&r, p.ws_admin, &io, &b, &p.rate);
        if (s) {
            ws_session_feed(s, in + used, len - used);
            *closed = ws_session_finished(s);
            ws_session_free(s);
        }
    }
    http_proto_free(&p);
    util_buf_u8(&b, 0);
    uint8_t *data;
    size_t n;
    if (util_buf_take(&b, &data, &n) != 0) {
        util_buf_free(&b);
        return UTIL_ENOMEM;
    }
    *out = (char *)data;
    *out_len = n - 1;
    return 0;
}
