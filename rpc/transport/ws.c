/* WebSocket sessions over wslay: frames checked before wslay sees them, JSON-
 * RPC messages, backpressure (rpc/transport/ws.h). */
#include "rpc/transport/ws.h"

#include <stdlib.h>
#include <string.h>

#include <wslay/wslay.h>

#include "util/bytes.h"
#include "util/err.h"
#include "util/log.h"
#include "util/time.h"

#define RATE_REPLY                                                                                 \
    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32005,\"message\":\"rate limit exceeded\"},"        \
    "\"id\":null}"

typedef struct deferred {
    char *text;
    size_t len;
} deferred;

struct rpc_session {
    uint64_t id;
    const http_routes *routes;
    const ws_io *io;
    void *io_ctx;
    http_rate *rate;
    rpc_budget gas; /* the session's gas allowance (docs/rpc-protocol.md) */
    wslay_event_context_ptr ctx;
    int admin;
    util_buf in; /* client bytes not yet taken by wslay */
    size_t in_off;
    util_buf out; /* frames produced by wslay, not yet handed to io */
    int paused;   /* stopped taking input: too much output waits */
    int detached; /* the connection is closing */
    int closing;  /* we queued a close: no more messages */
    int in_dispatch;
    uint64_t nmsgs; /* messages received */
    deferred *dq;   /* notifications sent while a request of this session runs */
    size_t ndq, capdq, dq_bytes;
    /* Requests wslay had already read ahead (at most its 4 KiB buffer, or one
     * message) when the session paused: they run once it resumes. */
    deferred *rq;
    size_t nrq, caprq;
    uint64_t last_rx_ns;
    /* Frame headers as they arrive, checked before wslay sees them
     * (check_frames): the header being read, and the payload bytes of the
     * current frame still to come. */
    uint8_t fh[14];
    size_t fh_len;
    uint64_t fskip;
};

static uint64_t next_id;

static void ws_session_feed_checked(rpc_session *s, const uint8_t *data, size_t len);

static int push(deferred **v, size_t *n, size_t *cap, const uint8_t *text, size_t len);

uint64_t rpc_session_id(const rpc_session *s)
{
    return s->id;
}

static size_t waiting_bytes(const rpc_session *s)
{
    return wslay_event_get_queued_msg_length(s->ctx) + s->out.len + s->io->pending(s->io_ctx) +
           s->dq_bytes;
}

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    rpc_session *s = user;
    size_t have = s->in.len - s->in_off;
    if (s->paused || s->detached || have == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = have < len ? have : len;
    memcpy(buf, s->in.data + s->in_off, n);
    s->in_off += n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    rpc_session *s = user;
    if (s->detached) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    /* Hold frames back in wslay's queue while the socket is slow. */
    if (s->out.len + s->io->pending(s->io_ctx) >= RPC_WS_HIGH_WATER) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    util_buf_put(&s->out, data, len);
    if (s->out.oom) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

/* Lets wslay produce frames and hands them to the transport. */
static void flush(rpc_session *s)
{
    if (s->detached) return;
    if (wslay_event_send(s->ctx) != 0) {
        /* Only our callback fails (out of memory): give up the session. */
        wslay_event_shutdown_read(s->ctx);
        wslay_event_shutdown_write(s->ctx);
    }
    if (s->out.len == 0) return;
    uint8_t *data;
    size_t len;
    if (util_buf_take(&s->out, &data, &len) != 0) {
        util_buf_free(&s->out);
        util_buf_init(&s->out);
        wslay_event_shutdown_write(s->ctx);
        return;
    }
    util_buf_init(&s->out);
    s->io->write(s->io_ctx, (char *)data, len);
}

/* Starts the closing handshake with a status and reason; reads nothing more. */
static void close_with(rpc_session *s, uint16_t code, const char *reason)
{
    if (s->closing || s->detached) return;
    s->closing = 1;
    wslay_event_queue_close(s->ctx, code, (const uint8_t *)reason, strlen(reason));
    wslay_event_shutdown_read(s->ctx);
}

static int queue_text(rpc_session *s, const char *text, size_t len)
{
    if (s->detached || s->closing || !wslay_event_get_write_enabled(s->ctx)) return UTIL_ESTATE;
    if (waiting_bytes(s) + len > s->routes->ws_send_limit) {
        LOG_DEBUG("rpc", "WebSocket session %llu: send limit exceeded, closing",
                  (unsigned long long)s->id);
        if (s->routes->counters) s->routes->counters->ws_slow_consumers++;
        close_with(s, RPC_WS_CLOSE_SLOW, "send buffer limit exceeded");
        return UTIL_ELIMIT;
    }
    struct wslay_event_msg m = {
        .opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)text, .msg_length = len};
    int rc = wslay_event_queue_msg(s->ctx, &m);
    if (rc == WSLAY_ERR_NOMEM) return UTIL_ENOMEM;
    return rc ? UTIL_ESTATE : 0;
}

int rpc_session_send(rpc_session *s, const char *text, size_t len)
{
    if (s->detached || s->closing) return UTIL_ESTATE;
    if (s->in_dispatch) {
        /* A request of this session is running (e.g. tx_send admitting a
         * transaction this session watches): its answer goes first. */
        if (waiting_bytes(s) + len > s->routes->ws_send_limit) return queue_text(s, text, len);
        if (push(&s->dq, &s->ndq, &s->capdq, (const uint8_t *)text, len)) return UTIL_ENOMEM;
        s->dq_bytes += len;
        return 0;
    }
    int rc = queue_text(s, text, len);
    flush(s);
    return rc;
}

static void run_text(rpc_session *s, const uint8_t *msg, size_t len)
{
    const http_routes *r = s->routes;
    uint64_t now = r->rate_interval_ns ? util_mono_ns() : 0;
    if (!http_rate_allow(r, s->rate, now)) {
        queue_text(s, RATE_REPLY, sizeof RATE_REPLY - 1);
        return;
    }
    http_admit adm = {r, s->rate};
    rpc_call call = {.admin = s->admin,
                     .session = s,
                     .conn = &s->gas,
                     .admit = http_rate_admit,
                     .admit_ctx = &adm,
                     /* a reply past the send limit would cost the session */
                     .max_reply =
                         r->max_reply < r->ws_send_limit ? r->max_reply : r->ws_send_limit};
    size_t n = 0;
    s->in_dispatch = 1;
    char *out = rpc_dispatch_handle_call(r->d, (const char *)msg, len, &n, &call);
    s->in_dispatch = 0;
    if (out) queue_text(s, out, n);
    free(out);
    for (size_t i = 0; i < s->ndq; i++) {
        s->dq_bytes -= s->dq[i].len;
        queue_text(s, s->dq[i].text, s->dq[i].len);
        free(s->dq[i].text);
    }
    s->ndq = 0;
}

static int push(deferred **v, size_t *n, size_t *cap, const uint8_t *text, size_t len)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 4;
        deferred *nv = realloc(*v, c * sizeof *nv);
        if (!nv) return UTIL_ENOMEM;
        *v = nv;
        *cap = c;
    }
    char *copy = malloc(len ? len : 1);
    if (!copy) return UTIL_ENOMEM;
    memcpy(copy, text, len);
    (*v)[(*n)++] = (deferred){copy, len};
    return 0;
}

static void run_queued(rpc_session *s)
{
    size_t i = 0;
    while (i < s->nrq && !s->paused && !s->closing && !s->detached) {
        run_text(s, (const uint8_t *)s->rq[i].text, s->rq[i].len);
        free(s->rq[i].text);
        flush(s);
        i++;
        if (waiting_bytes(s) > RPC_WS_HIGH_WATER) s->paused = 1;
    }
    memmove(s->rq, s->rq + i, (s->nrq - i) * sizeof *s->rq);
    s->nrq -= i;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    rpc_session *s = user;
    s->nmsgs++;
    if (s->closing || s->detached) return;
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
        if (s->paused || s->nrq) {
            if (push(&s->rq, &s->nrq, &s->caprq, arg->msg, arg->msg_length))
                close_with(s, WSLAY_CODE_INTERNAL_SERVER_ERROR, "out of memory");
            break;
        }
        run_text(s, arg->msg, arg->msg_length);
        /* Out now, before wslay parses the next frame: a close frame behind
         * this request would otherwise be answered first (control frames
         * jump the queue) and the answer lost. */
        flush(s);
        if (waiting_bytes(s) > RPC_WS_HIGH_WATER) s->paused = 1;
        break;
    case WSLAY_BINARY_FRAME:
        close_with(s, WSLAY_CODE_UNSUPPORTED_DATA, "binary messages are not supported");
        break;
    default:
        /* close, ping, pong: wslay queued the answer; send a pong now, as a
         * close queued later would make wslay drop it */
        flush(s);
        break;
    }
}

rpc_session *ws_session_new(const http_routes *r, int admin, const ws_io *io, void *io_ctx,
                            http_rate *rate)
{
    rpc_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = recv_cb,
        .send_callback = send_cb,
        .on_msg_recv_callback = on_msg,
    };
    if (wslay_event_context_server_init(&s->ctx, &cbs, s) != 0) {
        free(s);
        return NULL;
    }
    wslay_event_config_set_max_recv_msg_length(s->ctx, r->max_body);
    s->id = ++next_id;
    s->routes = r;
    s->admin = admin;
    s->io = io;
    s->io_ctx = io_ctx;
    s->rate = rate;
    s->last_rx_ns = util_mono_ns();
    util_buf_init(&s->in);
    util_buf_init(&s->out);
    if (r->counters) r->counters->ws_sessions++;
    return s;
}

/* Lets wslay parse what it has. wslay reads ahead into a buffer of its own,
 * so it is called again after a pause even when our input is used up: the
 * frames it already holds must not wait for the client's next bytes. */
static void run_input(rpc_session *s)
{
    while (!s->detached && !s->paused && wslay_event_want_read(s->ctx)) {
        size_t before = s->in_off;
        uint64_t msgs = s->nmsgs;
        if (wslay_event_recv(s->ctx) != 0) {
            /* A frame wslay could not parse (e.g. a control frame over 125
             * bytes): it queued a close; nothing more is read. */
            s->closing = 1;
            wslay_event_shutdown_read(s->ctx);
            break;
        }
        flush(s);
        if (s->in_off == before && s->nmsgs == msgs) break;
    }
    if (s->in_off == s->in.len || !wslay_event_want_read(s->ctx)) {
        util_buf_reset(&s->in);
        s->in_off = 0;
        if (s->in.cap > 64 * 1024) {
            util_buf_free(&s->in);
            util_buf_init(&s->in);
        }
    }
    flush(s);
}

/* Follows the frame headers in the client's byte stream. wslay refuses a
 * fragmented or over-125-byte control frame and a 64-bit length with its top
 * bit set by closing without a status, and checks a message's size only
 * once it reads the header; these are refused here with their RFC 6455
 * codes (1002, 1009) before any of the frame is buffered. Returns how many
 * bytes of data may go to wslay: all, or those before a refused frame. */
static size_t check_frames(rpc_session *s, const uint8_t *data, size_t len, uint16_t *code,
                           const char **why)
{
    size_t i = 0;
    while (i < len) {
        if (s->fskip) {
            uint64_t take = len - i < s->fskip ? len - i : s->fskip;
            s->fskip -= take;
            i += (size_t)take;
            continue;
        }
        size_t start = i >= s->fh_len ? i - s->fh_len : 0;
        s->fh[s->fh_len++] = data[i++];
        if (s->fh_len < 2) continue;
        uint8_t op = s->fh[0] & 0x0f, len7 = s->fh[1] & 0x7f;
        if ((op & 8) && (!(s->fh[0] & 0x80) || len7 > 125)) {
            *code = WSLAY_CODE_PROTOCOL_ERROR;
            *why = "malformed control frame";
            return start;
        }
        size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
        size_t need = 2 + ext + ((s->fh[1] & 0x80) ? 4 : 0);
        if (s->fh_len < need) continue;
        uint64_t plen = len7;
        if (ext) {
            plen = 0;
            for (size_t k = 0; k < ext; k++)
                plen = plen << 8 | s->fh[2 + k];
        }
        if (ext == 8 && (plen >> 63)) {
            *code = WSLAY_CODE_PROTOCOL_ERROR;
            *why = "bad frame length";
            return start;
        }
        if (!(op & 8) && plen > s->routes->max_body) {
            *code = WSLAY_CODE_MESSAGE_TOO_BIG;
            *why = "message too big";
            return start;
        }
        s->fh_len = 0;
        s->fskip = plen;
    }
    return len;
}

void ws_session_feed(rpc_session *s, const uint8_t *data, size_t len)
{
    if (s->detached || len == 0) return;
    s->last_rx_ns = util_mono_ns();
    if (!wslay_event_want_read(s->ctx)) return; /* closing: input is dropped */
    uint16_t code = 0;
    const char *why = NULL;
    size_t ok = check_frames(s, data, len, &code, &why);
    if (ok < len) {
        /* What came before the refused frame is still answered. */
        if (ok) ws_session_feed_checked(s, data, ok);
        close_with(s, code, why);
        flush(s);
        return;
    }
    ws_session_feed_checked(s, data, len);
}

static void ws_session_feed_checked(rpc_session *s, const uint8_t *data, size_t len)
{
    util_buf_put(&s->in, data, len);
    if (s->in.oom) {
        wslay_event_shutdown_read(s->ctx);
        wslay_event_shutdown_write(s->ctx);
        return;
    }
    run_input(s);
}

void ws_session_drained(rpc_session *s)
{
    if (s->detached) return;
    flush(s);
    if (s->paused && waiting_bytes(s) <= RPC_WS_HIGH_WATER / 2) {
        s->paused = 0;
        run_queued(s);
        flush(s);
        run_input(s);
    }
}

int ws_session_reading(const rpc_session *s)
{
    return !s->detached && !s->paused && s->nrq == 0 && wslay_event_want_read(s->ctx);
}

int ws_session_finished(const rpc_session *s)
{
    if (s->detached) return 1;
    if (!wslay_event_get_write_enabled(s->ctx)) return 1; /* close sent, or failed */
    return !wslay_event_want_read(s->ctx) && !wslay_event_want_write(s->ctx);
}

int ws_session_closing(const rpc_session *s)
{
    return s->closing || !wslay_event_want_read(s->ctx);
}

void ws_session_tick(rpc_session *s, uint64_t now_ns, uint64_t interval_ns)
{
    if (s->detached || s->closing) return;
    if (now_ns - s->last_rx_ns > 3 * interval_ns) {
        close_with(s, WSLAY_CODE_GOING_AWAY, "idle timeout");
    } else {
        struct wslay_event_msg m = {.opcode = WSLAY_PING, .msg = NULL, .msg_length = 0};
        wslay_event_queue_msg(s->ctx, &m);
    }
    flush(s);
}

void ws_session_detach(rpc_session *s)
{
    if (s->detached) return;
    s->detached = 1;
    if (s->routes->counters) s->routes->counters->ws_sessions--;
    if (s->routes->session_closed) s->routes->session_closed(s->routes->session_ctx, s);
}

void ws_session_free(rpc_session *s)
{
    if (!s) return;
    ws_session_detach(s);
    for (size_t i = 0; i < s->ndq; i++)
        free(s->dq[i].text);
    free(s->dq);
    for (size_t i = 0; i < s->nrq; i++)
        free(s->rq[i].text);
    free(s->rq);
    wslay_event_context_free(s->ctx);
    util_buf_free(&s->in);
    util_buf_free(&s->out);
    free(s);
}
