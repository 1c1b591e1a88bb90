#include "rpc/jsonrpc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    void (*hook)(void *ctx, json_t *batch);
    void *hook_ctx;
    rpc_observer_fn observer;
    void *observer_ctx;
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

void rpc_dispatch_set_batch_hook(rpc_dispatch *d, void (*hook)(void *ctx, json_t *batch), void *ctx)
{
    d->hook = hook;
    d->hook_ctx = ctx;
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

/* Builds {"jsonrpc":"2.0","error":{...},"id":id}; takes e->data. id is
 * borrowed; NULL means null. */
static json_t *error_reply(json_t *id, rpc_error *e)
{
    utf8_sanitize(e->message);
    json_t *err = json_pack("{s:i,s:s}", "code", e->code, "message", e->message);
    if (err && e->data) {
        json_object_set_new(err, "data", e->data);
        e->data = NULL;
    }
    rpc_error_clear(e);
    if (!err) return NULL;
    return json_pack("{s:s,s:o,s:O}", "jsonrpc", "2.0", "error", err, "id", id ? id : json_null());
}

static json_t *error_replyf(json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *error_replyf(json_t *id, int code, const char *fmt, ...)
{
    rpc_error e = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    return error_reply(id, &e);
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
    return res;
}

json_t *rpc_dispatch_call(rpc_dispatch *d, const char *method, json_t *params, rpc_error *e)
{
    /* In-process callers are trusted. */
    static const rpc_call local = {.admin = 1};
    return rpc_dispatch_call_ex(d, &local, method, params, e);
}

/* One request object (alone or a batch entry). Returns the reply to send, or
 * NULL for a notification (or when memory ran out building the reply). */
static json_t *handle_one(rpc_dispatch *d, const rpc_call *call, json_t *req)
{
    if (!json_is_object(req))
        return error_replyf(NULL, RPC_INVALID_REQUEST, "invalid request: not an object");
    json_t *id = json_object_get(req, "id");
    if (id && !json_is_string(id) && !json_is_number(id) && !json_is_null(id))
        return error_replyf(NULL, RPC_INVALID_REQUEST,
                            "invalid request: id must be a string, a number or null");
    json_t *ver = json_object_get(req, "jsonrpc");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0)
        return error_replyf(id, RPC_INVALID_REQUEST, "invalid request: jsonrpc must be \"2.0\"");
    json_t *method = json_object_get(req, "method");
    if (!json_is_string(method))
        return error_replyf(id, RPC_INVALID_REQUEST, "invalid request: method must be a string");
    json_t *params = json_object_get(req, "params");
    if (params && !json_is_array(params) && !json_is_object(params))
        return error_replyf(id, RPC_INVALID_REQUEST,
                            "invalid request: params must be an array or an object");

    /* From here the request is well formed; a notification never gets a
     * reply, not even an error. */
    rpc_error e = {0};
    json_t *res = rpc_dispatch_call_ex(d, call, json_string_value(method), params, &e);
    if (!id) {
        json_decref(res);
        rpc_error_clear(&e);
        return NULL;
    }
    if (!res) return error_reply(id, &e);
    return json_pack("{s:s,s:o,s:O}", "jsonrpc", "2.0", "result", res, "id", id);
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

static json_t *handle_doc(rpc_dispatch *d, rpc_call *call, const char *body, size_t len)
{
    if (too_deep(body, len))
        return error_replyf(NULL, RPC_PARSE_ERROR, "parse error: nested deeper than %d levels",
                            RPC_MAX_DEPTH);
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return error_replyf(NULL, RPC_PARSE_ERROR, "parse error: %s at position %d", jerr.text,
                            jerr.position);
    if (!json_is_array(doc)) {
        json_t *r = handle_one(d, call, doc);
        json_decref(doc);
        return r;
    }
    size_t n = json_array_size(doc);
    json_t *out = NULL;
    if (n == 0) {
        out = error_replyf(NULL, RPC_INVALID_REQUEST, "invalid request: empty batch");
    } else if (n > RPC_MAX_BATCH) {
        out = error_replyf(NULL, RPC_INVALID_REQUEST, "invalid request: batch too large (%zu > %d)",
                           n, RPC_MAX_BATCH);
    } else {
        call->ncalls = n;
        if (d->hook) d->hook(d->hook_ctx, doc);
        out = json_array();
        for (size_t i = 0; out && i < n; i++) {
            json_t *r = handle_one(d, call, json_array_get(doc, i));
            if (r) json_array_append_new(out, r);
        }
        if (out && json_array_size(out) == 0) {
            json_decref(out);
            out = NULL;
        }
    }
    json_decref(doc);
    return out;
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
    json_t *reply = handle_doc(d, call, body ? body : "", body ? len : 0);
    if (!reply) return NULL;
    /* Most replies are small: dump into a stack buffer and copy once; a
     * larger one is dumped again into an exact allocation. */
    char small[4096];
    size_t n = json_dumpb(reply, small, sizeof small, JSON_COMPACT);
    char *out = NULL;
    if (n > 0 && n <= sizeof small) {
        out = malloc(n + 1);
        if (out) memcpy(out, small, n);
    } else if (n > sizeof small) {
        out = malloc(n + 1);
        if (out && json_dumpb(reply, out, n, JSON_COMPACT) != n) {
            free(out);
            out = NULL;
        }
    }
    json_decref(reply);
    if (!out) return NULL;
    out[n] = 0;
    *out_len = n;
    return out;
}
