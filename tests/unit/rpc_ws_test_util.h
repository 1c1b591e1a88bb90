/* An in-memory WebSocket connection for tests: a server session (rpc/transport/ws.h)
 * whose transport is a buffer, and a wslay client context reading that
 * buffer and writing into the session. Deterministic: no sockets, no
 * threads. A test can also hold the "socket" (bytes written but not taken)
 * to play a client that does not read. Include after cmocka.h. */
#ifndef OL_TESTS_RPC_WS_TEST_UTIL_H
#define OL_TESTS_RPC_WS_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <wslay/wslay.h>

#include "rpc/transport/http_proto.h"
#include "rpc/transport/ws.h"
#include "util/bytes.h"

#define WP_HELPER static __attribute__((unused))

typedef struct wspipe {
    http_routes routes;
    http_counters counters;
    http_rate rate;
    rpc_session *srv;
    wslay_event_context_ptr cli;
    util_buf to_cli; /* bytes the server wrote */
    size_t to_cli_off;
    util_buf to_srv; /* bytes the client wrote */
    int hold;        /* server writes stay "in the socket" until released */
    size_t held;     /* bytes the socket has not taken */
    json_t *msgs;    /* text messages the client received, parsed (or as strings) */
    int closed;      /* close frame received by the client */
    uint16_t close_code;
    char close_reason[128];
    int session_closed_calls;
    uint64_t written, drained_at; /* io writes, and how many the session heard drained */
} wspipe;

WP_HELPER int wp_io_write(void *ctx, char *data, size_t len)
{
    wspipe *p = ctx;
    util_buf_put(&p->to_cli, data, len);
    p->written++;
    if (p->hold) p->held += len;
    free(data);
    return 0;
}

WP_HELPER size_t wp_io_pending(void *ctx)
{
    wspipe *p = ctx;
    return p->held;
}

static const ws_io wp_io = {wp_io_write, wp_io_pending};

WP_HELPER ssize_t wp_cli_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                              void *user)
{
    wspipe *p = user;
    /* bytes still "in the socket" are not visible to the client */
    size_t visible = p->to_cli.len - p->held;
    if (p->to_cli_off >= visible) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = visible - p->to_cli_off;
    if (n > len) n = len;
    memcpy(buf, p->to_cli.data + p->to_cli_off, n);
    p->to_cli_off += n;
    return (ssize_t)n;
}

WP_HELPER ssize_t wp_cli_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                              int flags, void *user)
{
    wspipe *p = user;
    util_buf_put(&p->to_srv, data, len);
    return (ssize_t)len;
}

WP_HELPER int wp_cli_mask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(0x5a + i);
    return 0;
}

WP_HELPER void wp_cli_msg(wslay_event_context_ptr ctx,
                          const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    wspipe *p = user;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        p->closed = 1;
        p->close_code = arg->status_code;
        size_t rl = arg->msg_length > 2 ? arg->msg_length - 2 : 0;
        if (rl >= sizeof p->close_reason) rl = sizeof p->close_reason - 1;
        memcpy(p->close_reason, arg->msg + 2, rl);
        p->close_reason[rl] = 0;
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME) return;
    json_t *j = json_loadb((const char *)arg->msg, arg->msg_length, 0, NULL);
    if (!j) j = json_stringn((const char *)arg->msg, arg->msg_length);
    json_array_append_new(p->msgs, j);
}

WP_HELPER void wp_session_closed(void *ctx, rpc_session *s)
{
    wspipe *p = ctx;
    p->session_closed_calls++;
}

/* cfg may set max_body, rate_limit, ws_send_limit, auth... */
WP_HELPER wspipe *wp_open(rpc_dispatch *d, const rpc_http_cfg *cfg, int admin)
{
    wspipe *p = calloc(1, sizeof *p);
    rpc_http_cfg c = cfg ? *cfg : (rpc_http_cfg){0};
    if (!c.session_closed) {
        c.session_closed = wp_session_closed;
        c.session_ctx = p;
    }
    assert_int_equal(http_routes_init(&p->routes, &c, d, NULL, NULL, &p->counters, NULL), 0);
    util_buf_init(&p->to_cli);
    util_buf_init(&p->to_srv);
    p->msgs = json_array();
    p->srv = ws_session_new(&p->routes, admin, &wp_io, p, &p->rate);
    assert_non_null(p->srv);
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = wp_cli_recv,
        .send_callback = wp_cli_send,
        .genmask_callback = wp_cli_mask,
        .on_msg_recv_callback = wp_cli_msg,
    };
    assert_int_equal(wslay_event_context_client_init(&p->cli, &cbs, p), 0);
    wslay_event_config_set_max_recv_msg_length(p->cli, 64u << 20);
    return p;
}

/* Moves bytes both ways until nothing changes. */
WP_HELPER void wp_pump(wspipe *p)
{
    for (int round = 0; round < 100000; round++) {
        int moved = 0;
        if (p->to_srv.len) {
            util_buf b = p->to_srv;
            util_buf_init(&p->to_srv);
            ws_session_feed(p->srv, b.data, b.len);
            util_buf_free(&b);
            moved = 1;
        }
        if (!p->hold && p->written != p->drained_at) {
            /* the socket took everything: tell the session, as on_write does */
            p->drained_at = p->written;
            ws_session_drained(p->srv);
            moved = 1;
        }
        size_t before = p->to_cli_off;
        wslay_event_recv(p->cli);
        wslay_event_send(p->cli);
        if (p->to_cli_off != before) moved = 1;
        if (p->to_cli_off == p->to_cli.len && p->held == 0) {
            util_buf_reset(&p->to_cli);
            p->to_cli_off = 0;
        }
        if (!moved && !p->to_srv.len) return;
    }
    fail_msg("wp_pump: no quiescence");
}

/* The held bytes are taken by the "socket": the client sees them and the
 * server is told they drained. */
WP_HELPER void wp_release(wspipe *p)
{
    p->hold = 0;
    p->held = 0;
    p->drained_at = p->written - 1; /* forces one drained call */
    wp_pump(p);
}

WP_HELPER void wp_send(wspipe *p, const char *text)
{
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, strlen(text)};
    assert_int_equal(wslay_event_queue_msg(p->cli, &m), 0);
    assert_int_equal(wslay_event_send(p->cli), 0);
    wp_pump(p);
}

/* Raw client bytes (for malformed frames), fed as they are. */
WP_HELPER void wp_send_raw(wspipe *p, const void *data, size_t len)
{
    ws_session_feed(p->srv, data, len);
    wp_pump(p);
}

/* A masked client frame: fin|rsv|opcode byte, payload. */
WP_HELPER size_t wp_frame(uint8_t *out, uint8_t b0, const void *payload, size_t n, int mask)
{
    size_t k = 0;
    out[k++] = b0;
    uint8_t m = mask ? 0x80 : 0;
    if (n < 126) {
        out[k++] = (uint8_t)(m | n);
    } else if (n < 65536) {
        out[k++] = m | 126;
        out[k++] = (uint8_t)(n >> 8);
        out[k++] = (uint8_t)n;
    } else {
        out[k++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[k++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    static const uint8_t key[4] = {1, 2, 3, 4};
    if (mask) {
        memcpy(out + k, key, 4);
        k += 4;
    }
    for (size_t i = 0; i < n; i++)
        out[k + i] = ((const uint8_t *)payload)[i] ^ (mask ? key[i % 4] : 0);
    return k + n;
}

WP_HELPER void wp_close(wspipe *p)
{
    ws_session_free(p->srv);
    wslay_event_context_free(p->cli);
    util_buf_free(&p->to_cli);
    util_buf_free(&p->to_srv);
    json_decref(p->msgs);
    free(p);
}

/* The i-th received message. */
WP_HELPER json_t *wp_msg(wspipe *p, size_t i)
{
    json_t *m = json_array_get(p->msgs, i);
    if (!m) fail_msg("no message %zu (have %zu)", i, json_array_size(p->msgs));
    return m;
}

#endif
