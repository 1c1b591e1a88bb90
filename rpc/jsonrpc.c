/* The JSON-RPC 2.0 dispatcher: parsing, batches, ids, errors, work budgets
 * and the reply cap (rpc/jsonrpc.h). */
#include "rpc/jsonrpc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/json_write.h"
#include "util/bytes.h"
#include "util/err.h"

#include "util/time.h"

struct method {
    char *name;
    rpc_method_fn fn;
    rpc_method_ex_fn fn_ex;
    void *ctx;
    unsigned flags;
    const rpc_method_spec *spec;
};

struct rpc_dispatch {
    struct method *v;
    size_t n, cap;
    void (*hook)(void *ctx, const rpc_call *call, json_t *batch);
    void (*hook_end)(void *ctx);
    void *hook_ctx;
    rpc_observer_fn observer;
    void *observer_ctx;
    void (*lock)(void *ctx), (*unlock)(void *ctx);
    void *lock_ctx;
};

/* Replaces every byte that does not start a well-formed UTF-8 sequence with
 * '?', in place. Error messages may embed client text (a method name) or be
 * cut by snprintf in the middle of a character, and jansson refuses to build
 * a string that is not valid UTF-8. */
static void utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        unsigned c = p[0];
        size_t n;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f; /* no surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            *p++ = '?';
            continue;
        }
        size_t ok = 1;
        if (p[1] >= lo && p[1] <= hi) {
            ok = 2;
            while (ok < n && p[ok] >= 0x80 && p[ok] <= 0xbf)
                ok++;
        }
        if (ok < n) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

json_t *rpc_fail(rpc_error *e, int code, json_t *data, const char *fmt, ...)
{
    if (!e) {
        json_decref(data);
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->code = code;
    if (e->data != data) json_decref(e->data);
    e->data = data;
    return NULL;
}

void rpc_error_clear(rpc_error *e)
{
    if (!e) return;
    json_decref(e->data);
    memset(e, 0, sizeof *e);
}

rpc_dispatch *rpc_dispatch_new(void)
{
    return calloc(1, sizeof(rpc_dispatch));
}

void rpc_dispatch_free(rpc_dispatch *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].name);
    free(d->v);
    free(d);
}

static struct method *find(const rpc_dispatch *d, const char *name)
{
    /* A linear scan: tables hold tens of methods and the JSON work around a
     * call dwarfs the string compares. */
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->v[i].name, name) == 0) return &d->v[i];
    return NULL;
}

static int add(rpc_dispatch *d, const char *name, rpc_method_fn fn, rpc_method_ex_fn fn_ex,
               void *ctx, unsigned flags)
{
    if (!name || !*name || (!fn && !fn_ex)) return UTIL_EINVAL;
    if (find(d, name)) return UTIL_EEXIST;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 32;
        struct method *v = realloc(d->v, cap * sizeof *v);
        if (!v) return UTIL_ENOMEM;
        d->v = v;
        d->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return UTIL_ENOMEM;
    d->v[d->n++] = (struct method){copy, fn, fn_ex, ctx, flags, NULL};
    return 0;
}

int rpc_dispatch_add(rpc_dispatch *d, const char *name, rpc_method_fn fn, void *ctx)
{
    return add(d, name, fn, NULL, ctx, 0);
}

int rpc_dispatch_add_ex(rpc_dispatch *d, const char *name, rpc_method_ex_fn fn, void *ctx,
                        unsigned flags)
{
    return add(d, name, NULL, fn, ctx, flags);
}

int rpc_dispatch_describe(rpc_dispatch *d, const char *name, const rpc_method_spec *spec)
{
    struct method *m = name ? find(d, name) : NULL;
    if (!m) return UTIL_ENOTFOUND;
    m->spec = spec;
    return 0;
}

void rpc_dispatch_set_observer(rpc_dispatch *d, rpc_observer_fn fn, void *ctx)
{
    d->observer = fn;
    d->observer_ctx = ctx;
}

void rpc_dispatch_set_batch_hook(rpc_dispatch *d,
                                 void (*hook)(void *ctx, const rpc_call *call, json_t *batch),
                                 void (*end)(void *ctx), void *ctx)
{
    d->hook = hook;
    d->hook_end = hook ? end : NULL;
    d->hook_ctx = ctx;
}

void rpc_dispatch_set_lock(rpc_dispatch *d, void (*lock)(void *ctx), void (*unlock)(void *ctx),
                           void *ctx)
{
    d->lock = lock && unlock ? lock : NULL;
    d->unlock = lock && unlock ? unlock : NULL;
    d->lock_ctx = ctx;
}

static void dlock(rpc_dispatch *d)
{
    if (d->lock) d->lock(d->lock_ctx);
}

static void dunlock(rpc_dispatch *d)
{
    if (d->unlock) d->unlock(d->lock_ctx);
}

size_t rpc_dispatch_count(const rpc_dispatch *d)
{
    return d->n;
}

const char *rpc_dispatch_name(const rpc_dispatch *d, size_t i)
{
    return i < d->n ? d->v[i].name : NULL;
}

unsigned rpc_dispatch_flags(const rpc_dispatch *d, size_t i)
{
    return i < d->n ? d->v[i].flags : 0;
}

const rpc_method_spec *rpc_dispatch_spec(const rpc_dispatch *d, size_t i)
{
    return i < d->n ? d->v[i].spec : NULL;
}

/* Replies are written straight into the output buffer (rpc/json_write.h):
 * building them as jansson objects and dumping those cost more than the
 * method call itself for the common small request. */
#define PUT_LIT(b, s) util_buf_put((b), (s), sizeof(s) - 1)

/* The text of a number token in the request body. */
typedef struct rawtok {
    const char *p;
    size_t n;
} rawtok;

/* Appends ,"id":id} (id borrowed; NULL means null). raw, when set, is the
 * id's text as the client sent it: a fractional id is echoed from it, since
 * jansson keeps only the double (0.1 would come back 0.10000000000000001). */
static void put_id_end(util_buf *b, const json_t *id, const rawtok *raw)
{
    PUT_LIT(b, ",\"id\":");
    /* An id is a string, number or null (handle_one checks), so the write
     * fails only when memory runs out, which b->oom latches. */
    if (raw)
        util_buf_put(b, raw->p, raw->n);
    else if (id) {
        if (rpc_json_write(b, id)) {
            /* Out of memory: b->oom latched it for the caller. */
        }
    } else
        PUT_LIT(b, "null");
    util_buf_u8(b, '}');
}

/* Appends {"jsonrpc":"2.0","error":{...},"id":id}; takes e->data and clears
 * *e. */
static void put_error(util_buf *b, const json_t *id, const rawtok *raw, rpc_error *e)
{
    utf8_sanitize(e->message);
    PUT_LIT(b, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":");
    char code[16];
    int n = snprintf(code, sizeof code, "%d", e->code);
    util_buf_put(b, code, (size_t)n);
    PUT_LIT(b, ",\"message\":");
    rpc_json_write_string(b, e->message, strlen(e->message));
    if (e->data) {
        size_t mark = b->len;
        PUT_LIT(b, ",\"data\":");
        if (rpc_json_write(b, e->data) && !b->oom) b->len = mark; /* unwritable data: left out */
    }
    util_buf_u8(b, '}');
    rpc_error_clear(e);
    put_id_end(b, id, raw);
}

static void put_errorf(util_buf *b, const json_t *id, const rawtok *raw, int code, const char *fmt,
                       ...) __attribute__((format(printf, 5, 6)));
static void put_errorf(util_buf *b, const json_t *id, const rawtok *raw, int code, const char *fmt,
                       ...)
{
    rpc_error e = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    put_error(b, id, raw, &e);
}

static json_t *invoke(struct method *m, const rpc_call *call, json_t *params, rpc_error *e)
{
    if ((m->flags & RPC_METHOD_ADMIN) && !call->admin)
        return rpc_fail(e, RPC_UNAUTHORIZED, NULL,
                        "%s is an admin method: it needs a loopback bind or the auth token "
                        "(Authorization: Bearer)",
                        m->name);
    if ((m->flags & RPC_METHOD_SESSION) && !call->session)
        return rpc_fail(e, RPC_METHOD_NOT_FOUND, NULL, "%s needs a WebSocket connection (/ws)",
                        m->name);
    json_t *res = m->fn_ex ? m->fn_ex(m->ctx, call, params, e) : m->fn(m->ctx, params, e);
    if (res) {
        /* A method that filled *e but still returned a result: the result wins. */
        rpc_error_clear(e);
        return res;
    }
    if (e->code == 0) {
        rpc_error_clear(e);
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "internal error: %s returned no result", m->name);
    }
    return NULL;
}

json_t *rpc_dispatch_call_ex(rpc_dispatch *d, const rpc_call *call, const char *method,
                             json_t *params, rpc_error *e)
{
    memset(e, 0, sizeof *e);
    static const rpc_call none = {0};
    if (!call) call = &none;
    struct method *m = method ? find(d, method) : NULL;
    dlock(d);
    uint64_t t0 = d->observer ? util_mono_ns() : 0;
    json_t *res = NULL;
    if (!m) {
        rpc_fail(e, RPC_METHOD_NOT_FOUND, NULL, "method not found: %.64s", method ? method : "");
    } else if (params && !json_is_array(params)) {
        rpc_fail(e, RPC_INVALID_PARAMS, NULL, "params must be a positional array");
    } else {
        json_t *own = params ? json_incref(params) : json_array();
        if (!own)
            rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        else
            res = invoke(m, call, own, e);
        json_decref(own);
    }
    if (d->observer)
        d->observer(d->observer_ctx, m ? (size_t)(m - d->v) : SIZE_MAX, util_mono_ns() - t0,
                    res ? 0 : e->code);
    dunlock(d);
    return res;
}

json_t *rpc_dispatch_call(rpc_dispatch *d, const char *method, json_t *params, rpc_error *e)
{
    /* In-process callers are trusted. */
    static const rpc_call local = {.admin = 1};
    return rpc_dispatch_call_ex(d, &local, method, params, e);
}

/* One request object (alone or a batch entry). Appends its reply to b and
 * returns 1, or returns 0 for a notification (nothing appended). raw is the
 * id's text for a fractional id. *full is set once the reply reached
 * call->max_reply; from then on requests are answered -32005 unrun. */
static int handle_one(rpc_dispatch *d, const rpc_call *call, json_t *req, const rawtok *raw,
                      int *full, util_buf *b)
{
    if (!json_is_object(req)) {
        put_errorf(b, NULL, NULL, RPC_INVALID_REQUEST, "invalid request: not an object");
        return 1;
    }
    json_t *id = json_object_get(req, "id");
    if (id && !json_is_string(id) && !json_is_number(id) && !json_is_null(id)) {
        put_errorf(b, NULL, NULL, RPC_INVALID_REQUEST,
                   "invalid request: id must be a string, a number or null");
        return 1;
    }
    if (!json_is_real(id)) raw = NULL;
    json_t *ver = json_object_get(req, "jsonrpc");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0) {
        put_errorf(b, id, raw, RPC_INVALID_REQUEST, "invalid request: jsonrpc must be \"2.0\"");
        return 1;
    }
    json_t *method = json_object_get(req, "method");
    if (!json_is_string(method)) {
        put_errorf(b, id, raw, RPC_INVALID_REQUEST, "invalid request: method must be a string");
        return 1;
    }
    json_t *params = json_object_get(req, "params");
    if (params && !json_is_array(params) && !json_is_object(params)) {
        put_errorf(b, id, raw, RPC_INVALID_REQUEST,
                   "invalid request: params must be an array or an object");
        return 1;
    }

    /* From here the request is well formed; a notification never gets a
     * reply, not even an error. */
    if (*full) {
        if (!id) return 0;
        put_errorf(b, id, raw, RPC_REPLY_TOO_LARGE, "reply too large: over %zu bytes",
                   call->max_reply);
        return 1;
    }
    rpc_error e = {0};
    json_t *res = rpc_dispatch_call_ex(d, call, json_string_value(method), params, &e);
    if (!id) {
        json_decref(res);
        rpc_error_clear(&e);
        return 0;
    }
    if (!res) {
        put_error(b, id, raw, &e);
        return 1;
    }
    size_t mark = b->len;
    PUT_LIT(b, "{\"jsonrpc\":\"2.0\",\"result\":");
    int bad = rpc_json_write(b, res);
    json_decref(res);
    if (bad) {
        if (b->oom) return 1;
        b->len = mark;
        put_errorf(b, id, raw, RPC_INTERNAL_ERROR, "internal error: result nests too deeply");
        return 1;
    }
    if (call->max_reply && b->len > call->max_reply) {
        /* The memory is given back at once: a client that never reads a
         * huge reply must not hold it. */
        b->len = mark;
        if (b->cap > 2 * (mark + 4096)) {
            uint8_t *smaller = realloc(b->data, mark + 4096);
            if (smaller) {
                b->data = smaller;
                b->cap = mark + 4096;
            }
        }
        *full = 1;
        put_errorf(b, id, raw, RPC_REPLY_TOO_LARGE, "reply too large: over %zu bytes",
                   call->max_reply);
        return 1;
    }
    put_id_end(b, id, raw);
    return 1;
}

/* jansson's depth limit is a compile-time 2048, so nesting is bounded here
 * before parsing: count brackets outside strings. Malformed input is left for
 * the parser to report. */
static int too_deep(const char *s, size_t n)
{
    int depth = 0, in_str = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > RPC_MAX_DEPTH) return 1;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

/* Fractional ids are echoed from their text in the body. jansson keeps
 * neither token positions nor number texts, so the number tokens are
 * listed in document order and matched against a walk of the parsed tree in
 * the same order (jansson objects keep insertion order, and duplicate keys
 * are refused). Runs only when some id is a real. */
typedef struct idscan {
    rawtok *toks; /* number tokens of the body, in order */
    size_t ntoks, tok;
    json_t *const *ids; /* the real ids, in request order */
    size_t nids, k;
    rawtok *raw; /* out: raw[k] for ids[k] */
} idscan;

static rawtok *number_tokens(const char *s, size_t n, size_t *count)
{
    size_t cap = 16, k = 0;
    rawtok *v = malloc(cap * sizeof *v);
    int in_str = 0, esc = 0;
    for (size_t i = 0; v && i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) continue;
        size_t j = i;
        while (j < n && s[j] && strchr("+-.0123456789eE", s[j]))
            j++;
        if (k == cap) {
            rawtok *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                free(v);
                return NULL;
            }
            v = nv;
            cap *= 2;
        }
        v[k++] = (rawtok){s + i, j - i};
        i = j - 1;
    }
    *count = k;
    return v;
}

static void id_walk(json_t *v, idscan *w)
{
    if (w->k == w->nids) return;
    if (json_is_number(v)) {
        if (w->tok < w->ntoks && v == w->ids[w->k]) w->raw[w->k++] = w->toks[w->tok];
        w->tok++;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) id_walk(x, w);
    } else if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x) id_walk(x, w);
    }
}

/* raw[i] for the i-th request of doc (n of them): the text of a real id;
 * NULL when no id is a real, or when memory runs out (ids are then printed
 * from their value). */
static rawtok *real_id_texts(json_t *doc, size_t n, const char *body, size_t len)
{
    json_t **ids = NULL;
    size_t nids = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *req = json_is_array(doc) ? json_array_get(doc, i) : doc;
        json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
        if (!json_is_real(id)) continue;
        if (!ids && !(ids = malloc(n * sizeof *ids))) return NULL;
        ids[nids++] = id;
    }
    if (!nids) return NULL;
    rawtok *byreq = calloc(n, sizeof *byreq);
    rawtok *raw = calloc(nids, sizeof *raw);
    idscan w = {.ids = ids, .nids = nids, .raw = raw};
    w.toks = byreq && raw ? number_tokens(body, len, &w.ntoks) : NULL;
    if (w.toks) id_walk(doc, &w);
    if (!w.toks || w.k != nids) {
        free(byreq);
        byreq = NULL;
    } else {
        for (size_t i = 0, k = 0; i < n; i++) {
            json_t *req = json_is_array(doc) ? json_array_get(doc, i) : doc;
            json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
            if (json_is_real(id)) byreq[i] = raw[k++];
        }
    }
    free(w.toks);
    free(raw);
    free(ids);
    return byreq;
}

/* Charges the body's n requests to the transport's rate limit; on refusal
 * writes the one -32005 reply and returns 1. */
static int refuse(rpc_call *call, size_t n, util_buf *b)
{
    if (!call->admit || call->admit(call->admit_ctx, n) == 0) return 0;
    call->refused = 1;
    put_errorf(b, NULL, NULL, RPC_RATE_LIMITED, "rate limit exceeded");
    return 1;
}

/* Appends the reply to a whole body; returns 0 when nothing is to be sent
 * (only notifications). */
static int handle_doc(rpc_dispatch *d, rpc_call *call, const char *body, size_t len, util_buf *b)
{
    if (too_deep(body, len)) {
        if (refuse(call, 1, b)) return 1;
        put_errorf(b, NULL, NULL, RPC_PARSE_ERROR, "parse error: nested deeper than %d levels",
                   RPC_MAX_DEPTH);
        return 1;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (refuse(call, 1, b)) return 1;
        put_errorf(b, NULL, NULL, RPC_PARSE_ERROR, "parse error: %s at position %d", jerr.text,
                   jerr.position);
        return 1;
    }
    size_t n = json_is_array(doc) ? json_array_size(doc) : 1;
    int batch = json_is_array(doc) && n > 0 && n <= RPC_MAX_BATCH;
    if (refuse(call, batch ? n : 1, b)) {
        json_decref(doc);
        return 1;
    }
    int full = 0;
    if (!json_is_array(doc)) {
        rawtok *raw = real_id_texts(doc, 1, body, len);
        int r = handle_one(d, call, doc, raw, &full, b);
        free(raw);
        json_decref(doc);
        return r;
    }
    int any = 1;
    if (n == 0) {
        put_errorf(b, NULL, NULL, RPC_INVALID_REQUEST, "invalid request: empty batch");
    } else if (n > RPC_MAX_BATCH) {
        put_errorf(b, NULL, NULL, RPC_INVALID_REQUEST,
                   "invalid request: batch too large (%zu > %d)", n, RPC_MAX_BATCH);
    } else {
        call->ncalls = n;
        rawtok *raw = real_id_texts(doc, n, body, len);
        if (d->hook) {
            dlock(d);
            d->hook(d->hook_ctx, call, doc);
            dunlock(d);
        }
        util_buf_u8(b, '[');
        any = 0;
        for (size_t i = 0; i < n && !b->oom; i++) {
            size_t mark = b->len;
            if (any) util_buf_u8(b, ',');
            if (handle_one(d, call, json_array_get(doc, i), raw ? &raw[i] : NULL, &full, b))
                any = 1;
            else
                b->len = mark;
        }
        util_buf_u8(b, ']');
        free(raw);
        if (d->hook_end) {
            dlock(d);
            d->hook_end(d->hook_ctx);
            dunlock(d);
        }
    }
    json_decref(doc);
    return any;
}

char *rpc_dispatch_handle(rpc_dispatch *d, const char *body, size_t len, size_t *out_len)
{
    return rpc_dispatch_handle_call(d, body, len, out_len, NULL);
}

char *rpc_dispatch_handle_call(rpc_dispatch *d, const char *body, size_t len, size_t *out_len,
                               rpc_call *call)
{
    *out_len = 0;
    rpc_call none = {0};
    if (!call) call = &none;
    call->ncalls = 1;
    call->refused = 0;
    util_buf b;
    util_buf_init(&b);
    /* One allocation covers the usual reply. */
    if (util_buf_reserve(&b, 512)) return NULL;
    rpc_budget budget = {.gas = RPC_BODY_GAS};
    call->body = &budget;
    int any = handle_doc(d, call, body ? body : "", body ? len : 0, &b);
    call->body = NULL;  /* it pointed here */
    util_buf_u8(&b, 0); /* callers may treat the text as a C string */
    uint8_t *out = NULL;
    size_t n = 0;
    if (!any || util_buf_take(&b, &out, &n)) {
        util_buf_free(&b);
        return NULL;
    }
    *out_len = n - 1;
    return (char *)out;
}

/* A connection's allowance grows with time since its last use, up to one
 * second's worth. */
static void conn_refill(rpc_budget *c)
{
    uint64_t now = util_mono_ns();
    if (c->stamp_ns == 0) {
        c->gas = RPC_CONN_GAS_PER_S;
    } else if (now > c->stamp_ns) {
        unsigned __int128 add = (unsigned __int128)(now - c->stamp_ns) * RPC_CONN_GAS_PER_S;
        add /= 1000000000u;
        c->gas = add >= RPC_CONN_GAS_PER_S - c->gas ? RPC_CONN_GAS_PER_S : c->gas + (uint64_t)add;
    }
    c->stamp_ns = now;
}

uint64_t rpc_budget_left(const rpc_call *call)
{
    uint64_t left = UINT64_MAX;
    if (call && call->body) left = call->body->gas;
    if (call && call->conn) {
        conn_refill(call->conn);
        if (call->conn->gas < left) left = call->conn->gas;
    }
    return left;
}

uint64_t rpc_budget_take(const rpc_call *call, uint64_t want)
{
    if (want == 0 || rpc_budget_left(call) < want) return 0;
    if (call && call->body) call->body->gas -= want;
    if (call && call->conn) call->conn->gas -= want;
    return want;
}

void rpc_budget_give_back(const rpc_call *call, uint64_t unused)
{
    if (call && call->body) call->body->gas += unused;
    if (call && call->conn)
        call->conn->gas = unused >= RPC_CONN_GAS_PER_S - call->conn->gas ? RPC_CONN_GAS_PER_S
                                                                         : call->conn->gas + unused;
}
