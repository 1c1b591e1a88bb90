/* libFuzzer target: arbitrary bytes as what a client sends to the RPC port,
 * and as a JSON-RPC body. A stream that upgrades to WebSocket (GET /ws) goes
 * on into a WebSocket session, with subscription and admin methods
 * registered, so the path from HTTP bytes to a JSON-RPC answer is covered in
 * both protocols.
 *
 * Checks, besides the sanitizers:
 *   - the connection state machine gives the same output whether the bytes
 *     arrive at once or split in small pieces;
 *   - every reply of rpc_dispatch_handle is valid JSON of the right shape. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/transport/http.h"
#include "rpc/transport/http_proto.h"
#include "rpc/jsonrpc.h"
#include "rpc/params.h"
#include "rpc/methods/subs.h"
#include "rpc/transport/ws.h"
#include "util/bytes.h"

static json_t *m_echo(void *ctx, json_t *params, rpc_error *e)
{
    return json_incref(params);
}

/* Takes a result the fuzzer does not judge: which one a call gives depends on
 * the input, and only memory safety is checked. Passing it here, rather than
 * dropping it, says so to the reader and to warn_unused_result. */
static void any_result(int rc)
{
    (void)rc;
}

/* Runs every parameter helper over params[0..], so their bad-input paths are
 * reached from fuzzed JSON. */
static json_t *m_params(void *ctx, json_t *params, rpc_error *e)
{
    if (rpc_param_count(params, 1, 8, e)) return NULL;
    uint64_t u;
    const char *s;
    uint8_t *hex = NULL, h32[32];
    size_t n;
    chain_addr a;
    rpc_block_ref br;
    int b;
    for (size_t i = 0; i < json_array_size(params); i++) {
        rpc_error tmp = {0};
        any_result(rpc_param_u64(params, i, "u", &u, &tmp));
        any_result(rpc_param_str(params, i, "s", 16, &s, &tmp));
        if (rpc_param_hex(params, i, "h", 64, &hex, &n, &tmp) == 0) free(hex);
        any_result(rpc_param_hash32(params, i, "h32", h32, &tmp));
        any_result(rpc_param_addr(params, i, "a", &a, &tmp));
        any_result(rpc_param_block_ref(params, i, "b", &br, &tmp));
        any_result(rpc_param_bool(params, i, "f", &b, &tmp));
        rpc_error_clear(&tmp);
    }
    if (rpc_param_addr(params, 0, "addr", &a, e) == 0) return rpc_json_addr(&a);
    return NULL;
}

static json_t *m_fail(void *ctx, json_t *params, rpc_error *e)
{
    return rpc_fail(e, RPC_TX_REJECTED, json_incref(params), "rejected %zu",
                    json_array_size(params));
}

static json_t *m_buggy(void *ctx, json_t *params, rpc_error *e)
{
    return NULL;
}

static json_t *m_admin(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    return json_true();
}

static rpc_subs *hub;

static void hook(void *ctx, const rpc_call *call, json_t *batch)
{
    (void)json_array_size(batch);
}

static int get_route(void *ctx, const char *path, int *status, const char **ctype, char **body,
                     size_t *len)
{
    if (strcmp(path, "/health") != 0) return 1;
    *status = 200;
    *ctype = "text/plain";
    *body = strdup("ok");
    *len = 2;
    return 0;
}

/* A fresh table and subscription hub for each run, so that subscription
 * ids are the same in the runs that are compared. */
static rpc_dispatch *table_new(void)
{
    rpc_dispatch *d = rpc_dispatch_new();
    if (!d) abort();
    if (rpc_dispatch_add(d, "echo", m_echo, NULL)) abort();
    if (rpc_dispatch_add(d, "params", m_params, NULL)) abort();
    if (rpc_dispatch_add(d, "fail", m_fail, NULL)) abort();
    if (rpc_dispatch_add(d, "buggy", m_buggy, NULL)) abort();
    if (rpc_dispatch_add_ex(d, "admin_x", m_admin, NULL, RPC_METHOD_ADMIN)) abort();
    hub = rpc_subs_new();
    if (rpc_subs_register(d, hub)) abort();
    rpc_dispatch_set_batch_hook(d, hook, NULL, NULL);
    return d;
}

static void table_free(rpc_dispatch *d)
{
    rpc_subs_free(hub);
    hub = NULL;
    rpc_dispatch_free(d);
}

typedef struct sink {
    util_buf out;
    size_t last_start; /* offset of the last response */
    int last_status;
} sink;

static int collect(void *ctx, const char *head, size_t head_len, char *body, size_t body_len)
{
    sink *k = ctx;
    k->last_start = k->out.len;
    k->last_status = atoi(head + 9); /* "HTTP/1.1 NNN" */
    util_buf_put(&k->out, head, head_len);
    if (body) util_buf_put(&k->out, body, body_len);
    free(body);
    return 0;
}

static int ws_collect(void *ctx, char *data, size_t len)
{
    sink *k = ctx;
    util_buf_put(&k->out, data, len);
    free(data);
    return 0;
}

static size_t ws_pending(void *ctx)
{
    return 0;
}

/* Feeds data in pieces of `step` bytes, as reads from a socket would. */
static int run(const rpc_http_cfg *cfg0, const uint8_t *data, size_t size, size_t step, sink *k)
{
    rpc_dispatch *d = table_new();
    rpc_http_cfg cfg = *cfg0;
    cfg.session_ctx = hub;
    http_routes routes, *r = &routes;
    if (http_routes_init(r, &cfg, d, get_route, NULL, NULL, NULL)) abort();
    memset(k, 0, sizeof *k);
    util_buf_init(&k->out);
    http_proto p;
    http_proto_init(&p, r, collect, k);
    size_t off = 0;
    while (off < size && !p.close && !p.upgraded) {
        size_t n = size - off < step ? size - off : step;
        size_t used = http_proto_feed(&p, (const char *)data + off, n);
        if (used < n && !p.close && !p.upgraded) abort(); /* this sink never asks to pause */
        off += used;
    }
    int closed = p.close;
    if (p.upgraded) {
        static const ws_io io = {ws_collect, ws_pending};
        rpc_session *s = ws_session_new(r, p.ws_admin, &io, k, &p.rate);
        if (!s) abort();
        for (; off < size; off += step < size - off ? step : size - off)
            ws_session_feed(s, data + off, step < size - off ? step : size - off);
        closed = ws_session_finished(s);
        ws_session_free(s);
        if (rpc_subs_count(hub) != 0) abort(); /* the session took its subscriptions */
    }
    http_proto_free(&p);
    table_free(d);
    return closed;
}

static void check_reply(const char *out, size_t n)
{
    json_error_t jerr;
    json_t *j = json_loadb(out, n, 0, &jerr);
    if (!j || !(json_is_object(j) || (json_is_array(j) && json_array_size(j) > 0))) {
        fprintf(stderr, "bad reply: %.*s\n", (int)n, out);
        abort();
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rpc_http_cfg cfg = {.max_body = 4096,
                        .cors_origin = "*",
                        .ws_send_limit = 64 * 1024,
                        .session_closed = rpc_subs_session_closed};
    if (size && (data[0] & 1)) cfg.auth_token = "tok";

    /* As an HTTP byte stream, at once and in pieces of 1..16 bytes: the
     * answers must be the same, except that a stream that ends in an error
     * may be refused a little earlier or later, with another message. */
    sink a, b;
    size_t step = size ? (size_t)(data[size - 1] % 16) + 1 : 1;
    int ca = run(&cfg, data, size, size ? size : 1, &a);
    int cb = run(&cfg, data, size, step, &b);
    int same = ca == cb && a.out.len == b.out.len &&
               (a.out.len == 0 || memcmp(a.out.data, b.out.data, a.out.len) == 0);
    if (!same) {
        int both_fail = ca && cb && a.last_status >= 400 && b.last_status >= 400;
        if (!both_fail || a.last_start != b.last_start ||
            memcmp(a.out.data, b.out.data, a.last_start) != 0) {
            fprintf(stderr, "split feed differs (step %zu)\n", step);
            abort();
        }
    }
    util_buf_free(&a.out);
    util_buf_free(&b.out);

    /* as a JSON-RPC body */
    rpc_dispatch *d = table_new();
    size_t n = 0;
    char *out = rpc_dispatch_handle(d, (const char *)data, size, &n);
    if (out) {
        check_reply(out, n);
        free(out);
    }
    table_free(d);
    return 0;
}
