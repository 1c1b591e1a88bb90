/* libFuzzer target: arbitrary bytes as the frames a WebSocket client sends
 * after the handshake, into a session (rpc/transport/ws.c) that runs JSON-RPC with the
 * subscription methods registered. The first byte picks the options (admin
 * rights, a small send limit, how the bytes are split); the rest are frames.
 *
 * Checks, besides the sanitizers: the bytes the server writes are the same
 * whether the input arrives at once or in pieces, and the session leaves no
 * subscription behind when it ends. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/transport/http_proto.h"
#include "rpc/jsonrpc.h"
#include "rpc/methods/subs.h"
#include "rpc/transport/ws.h"
#include "util/bytes.h"

static json_t *m_echo(void *ctx, json_t *params, rpc_error *e)
{
    return json_incref(params);
}

/* ["big", n]: n bytes of answer, at most 64 KiB */
static json_t *m_big(void *ctx, json_t *params, rpc_error *e)
{
    json_int_t n = json_integer_value(json_array_get(params, 0));
    if (n < 0 || n > 65536) n = 0;
    char *s = calloc(1, (size_t)n + 1);
    if (!s) return NULL;
    memset(s, 'b', (size_t)n);
    json_t *j = json_stringn(s, (size_t)n);
    free(s);
    return j;
}

/* Sends a notification to its own session while its request runs. */
static json_t *m_note(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    if (rpc_session_send(call->session, "{\"n\":1}", 7)) {
        /* Refused when the fuzzed input already made the session close. */
    }
    return json_true();
}

static json_t *m_admin(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    return json_true();
}

static rpc_dispatch *d;
static rpc_subs *hub;

/* A fresh table and hub per run, so subscription ids repeat between runs. */
static void init(void)
{
    d = rpc_dispatch_new();
    hub = rpc_subs_new();
    if (rpc_dispatch_add(d, "echo", m_echo, NULL)) abort();
    if (rpc_dispatch_add(d, "big", m_big, NULL)) abort();
    if (rpc_dispatch_add_ex(d, "note", m_note, NULL, RPC_METHOD_SESSION)) abort();
    if (rpc_dispatch_add_ex(d, "admin_x", m_admin, NULL, RPC_METHOD_ADMIN)) abort();
    if (rpc_subs_register(d, hub)) abort();
}

static int out_write(void *ctx, char *data, size_t len)
{
    util_buf_put(ctx, data, len);
    free(data);
    return 0;
}

static size_t out_pending(void *ctx)
{
    return 0;
}

static int run(const rpc_http_cfg *cfg0, int admin, const uint8_t *data, size_t size, size_t step,
               util_buf *out)
{
    init();
    rpc_http_cfg cfg = *cfg0;
    cfg.session_ctx = hub;
    http_routes routes, *r = &routes;
    if (http_routes_init(r, &cfg, d, NULL, NULL, NULL, NULL)) abort();
    static const ws_io io = {out_write, out_pending};
    http_rate rate = {0};
    util_buf_init(out);
    rpc_session *s = ws_session_new(r, admin, &io, out, &rate);
    if (!s) abort();
    for (size_t off = 0; off < size;) {
        size_t n = size - off < step ? size - off : step;
        ws_session_feed(s, data + off, n);
        off += n;
    }
    int finished = ws_session_finished(s);
    ws_session_free(s);
    if (rpc_subs_count(hub) != 0) abort();
    rpc_subs_free(hub);
    rpc_dispatch_free(d);
    return finished;
}

/* Offset of the last frame in what the server wrote (its frames are not
 * masked), or b->len when the bytes do not end on a frame boundary. */
static size_t last_frame(const util_buf *b)
{
    size_t off = 0, last = b->len;
    while (off + 2 <= b->len) {
        uint64_t n = b->data[off + 1] & 0x7f;
        size_t h = 2;
        if (n == 126) {
            if (off + 4 > b->len) break;
            n = (uint64_t)b->data[off + 2] << 8 | b->data[off + 3];
            h = 4;
        } else if (n == 127) {
            if (off + 10 > b->len) break;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | b->data[off + 2 + (size_t)i];
            h = 10;
        }
        if (n > b->len - off - h) break;
        last = off;
        off += h + n;
    }
    return off == b->len ? last : b->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    rpc_http_cfg cfg = {.max_body = 2048,
                        .ws_send_limit = (opt & 2) ? 4096 : 0,
                        .session_closed = rpc_subs_session_closed};
    util_buf a, b;
    int fa = run(&cfg, opt & 1, data, size, size ? size : 1, &a);
    int fb = run(&cfg, opt & 1, data, size, (size_t)(opt >> 4) + 1, &b);
    /* wslay checks a close frame's status and UTF-8 per chunk received (and
     * a truncated one only in part), so a bad close frame from the client
     * may be refused (1002, 1007), echoed, or still awaited depending on how
     * it arrived: only how the session ends may differ. */
    size_t ca = last_frame(&a), cb = last_frame(&b);
    int closing = 0;
    if (ca < a.len && a.data[ca] == 0x88) a.len = ca, closing = 1;
    if (cb < b.len && b.data[cb] == 0x88) b.len = cb, closing = 1;
    if (closing) fa = fb;
    size_t cmp = a.len;
    if (fa != fb || a.len != b.len || (cmp && memcmp(a.data, b.data, cmp) != 0)) {
        fprintf(stderr, "split feed differs (step %d)\n", (opt >> 4) + 1);
        abort();
    }
    util_buf_free(&a);
    util_buf_free(&b);
    return 0;
}
