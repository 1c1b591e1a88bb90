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

/* Appends ,"id":id} (id borrowed; NULL means null). */
static void put_id_end(util_buf *b, const json_t *id)
{
    PUT_LIT(b, ",\"id\":");
    /* An id is a string, number or null (handle_one checks), so the write
     * fails only when memory runs out, which b->oom latches. */
    if (id)
        rpc_json_write(b, id);
    else
        PUT_LIT(b, "null");
    util_buf_u8(b, '}');
}

/* Appends {"jsonrpc":"2.0","error":{...},"id":id}; takes e->data and clears
 * *e. */
static void put_error(util_buf *b, const json_t *id, rpc_error *e)
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
    put_id_end(b, id);
}

static void put_errorf(util_buf *b, const json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put_errorf(util_buf *b, const json_t *id, int code, const char *fmt, ...)
{
    rpc_error e = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    put_error(b, id, &e);
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
 * returns 1, or returns 0 for a notification (nothing appended). */
static int handle_one(rpc_dispatch *d, const rpc_call *call, json_t *req, util_buf *b)
{
    if (!json_is_object(req)) {
        put_errorf(b, NULL, RPC_INVALID_REQUEST, "invalid request: not an object");
        return 1;
    }
    json_t *id = json_object_get(req, "id");
    if (id && !json_is_string(id) && !json_is_number(id) && !json_is_null(id)) {
        put_errorf(b, NULL, RPC_INVALID_REQUEST,
                   "invalid request: id must be a string, a number or null");
        return 1;
    }
    json_t *ver = json_object_get(req, "jsonrpc");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0) {
        put_errorf(b, id, RPC_INVALID_REQUEST, "invalid request: jsonrpc must be \"2.0\"");
        return 1;
    }
    json_t *method = json_object_get(req, "method");
    if (!json_is_string(method)) {
        put_errorf(b, id, RPC_INVALID_REQUEST, "invalid request: method must be a string");
        return 1;
    }
    json_t *params = json_object_get(req, "params");
    if (params && !json_is_array(params) && !json_is_object(params)) {
        put_errorf(b, id, RPC_INVALID_REQUEST,
                   "invalid request: params must be an array or an object");
        return 1;
    }

    /* From here the request is well formed; a notification never gets a
     * reply, not even an error. */
    rpc_error e = {0};
    json_t *res = rpc_dispatch_call_ex(d, call, json_string_value(method), params, &e);
    if (!id) {
        json_decref(res);
        rpc_error_clear(&e);
        return 0;
    }
    if (!res) {
        put_error(b, id, &e);
        return 1;
    }
    size_t mark = b->len;
    PUT_LIT(b, "{\"jsonrpc\":\"2.0\",\"result\":");
    int bad = rpc_json_write(b, res);
    json_decref(res);
    if (bad) {
        if (b->oom) return 1;
        b->len = mark;
        put_errorf(b, id, RPC_INTERNAL_ERROR, "internal error: result nests too deeply");
        return 1;
    }
    put_id_end(b, id);
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

/* Appends the reply to a whole body; returns 0 when nothing is to be sent
 * (only notifications). */
static int handle_doc(rpc_dispatch *d, rpc_call *call, const char *body, size_t len, util_buf *b)
{
    if (too_deep(body, len)) {
        put_errorf(b, NULL, RPC_PARSE_ERROR, "parse error: nested deeper than %d levels",
                   RPC_MAX_DEPTH);
        return 1;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        put_errorf(b, NULL, RPC_PARSE_ERROR, "parse error: %s at position %d", jerr.text,
                   jerr.position);
        return 1;
    }
    if (!json_is_array(doc)) {
        int r = handle_one(d, call, doc, b);
        json_decref(doc);
        return r;
    }
    size_t n = json_array_size(doc);
    int any = 1;
    if (n == 0) {
        put_errorf(b, NULL, RPC_INVALID_REQUEST, "invalid request: empty batch");
    } else if (n > RPC_MAX_BATCH) {
        put_errorf(b, NULL, RPC_INVALID_REQUEST, "invalid request: batch too large (%zu > %d)", n,
                   RPC_MAX_BATCH);
    } else {
        call->ncalls = n;
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
            if (handle_one(d, call, json_array_get(doc, i), b))
                any = 1;
            else
                b->len = mark;
        }
        util_buf_u8(b, ']');
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
