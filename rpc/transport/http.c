/* The libuv side of the RPC server's connections: reads, timers, writes and
 * backpressure. The listener and accepting are in http_server.c, the HTTP
 * protocol itself in http_proto.c.
 *
 * A connection's life: accepted (header timer) -> requests parsed and
 * answered in order, each response one uv_write whose buffers are freed in
 * its callback -> when a response says "Connection: close" (error, client
 * asked, Upgrade), reading stops, the pending writes drain, the write side is
 * shut down, and what the client still sends is read and discarded for a
 * short linger (so the kernel does not reset the connection and destroy the
 * response in flight) -> closed. A conn is freed when both its handles
 * (socket and timer) have run their close callbacks. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/transport/http_conn.h"
#include "util/log.h"
#include "util/time.h"

static void pump(conn *c);

static void on_conn_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->handles > 0) return;
    rpc_http *s = c->srv;
    if (c->counted) rpc_addrtab_conn_close(s->tab, &c->proto.rate.key);
    if (c->refusing) s->nrefusing--;
    ws_session_free(c->ws);
    http_proto_free(&c->proto);
    free(c->in);
    free(c->ho_buf);
    free(c);
    s->nalloc--;
    http_srv_maybe_free(s);
}

static void drop_input(conn *c)
{
    if (!c->in_shared) free(c->in);
    c->in = NULL;
    c->in_shared = 0;
    c->in_off = c->in_len = 0;
}

void http_conn_close(conn *c)
{
    if (c->closing) return;
    c->closing = 1;
    rpc_http *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->nlive--;
    /* No more notifications to a connection that is going away. */
    if (c->ws) {
        http_lk(s);
        ws_session_detach(c->ws);
        http_unlk(s);
    }
    /* c->in is not freed here: this may run inside http_parser_execute
     * (a failed write, or a method stopping the server), which still reads
     * it. The close callback frees it. */
    /* Pending writes and the shutdown request are cancelled by libuv and
     * their callbacks run before the close callbacks. */
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void ws_after(conn *c);

void http_conn_on_timer(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->ws && !c->finishing && !c->draining && !c->closing && !c->ws_deadline) {
        /* the WebSocket ping interval */
        http_lk(c->srv);
        ws_session_tick(c->ws, util_mono_ns(), (uint64_t)c->srv->routes.ws_ping_ms * 1000000u);
        http_unlk(c->srv);
        ws_after(c);
        return;
    }
    if (!c->draining) LOG_DEBUG("rpc", "closing connection: timeout");
    http_conn_close(c);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = h->data;
    rpc_http *s = c->srv;
    (void)suggested;
    if (s->rbuf && !s->rbuf_busy) {
        s->rbuf_busy = 1;
        buf->base = s->rbuf;
    } else {
        buf->base = malloc(READ_CHUNK);
    }
    buf->len = buf->base ? READ_CHUNK : 0;
}

static void release_read_buf(rpc_http *s, char *base)
{
    if (base && base == s->rbuf)
        s->rbuf_busy = 0;
    else
        free(base);
}

/* Before read_cb returns: input still needed (a paused parser) moves out of
 * the shared read buffer. */
static void own_input(conn *c)
{
    if (!c->in_shared) return;
    size_t left = c->in_len - c->in_off;
    char *copy = !c->closing && !c->finishing && left ? malloc(left) : NULL;
    if (copy) memcpy(copy, c->in + c->in_off, left);
    c->in_shared = 0;
    c->in = copy;
    c->in_off = 0;
    c->in_len = copy ? left : 0;
    if (!copy && left && !c->closing && !c->finishing) http_conn_close(c); /* out of memory */
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

void http_conn_start_reading(conn *c)
{
    if (c->reading || c->closing) return;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
        http_conn_close(c);
        return;
    }
    c->reading = 1;
}

static void stop_reading(conn *c)
{
    if (!c->reading) return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn *c = req->data;
    if (c->closing) return;
    if (status < 0 || c->eof) {
        http_conn_close(c);
        return;
    }
    /* Linger: read and drop what the client still sends until it closes or
     * the linger timer ends, then close. */
    c->draining = 1;
    uv_timer_start(&c->timer, http_conn_on_timer, LINGER_MS, 0);
    http_conn_start_reading(c);
}

static void begin_shutdown(conn *c)
{
    if (c->shutting || c->closing) return;
    c->shutting = 1;
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0) http_conn_close(c);
}

/* No more requests on this connection: write what is pending, then close. */
void http_conn_finish(conn *c)
{
    c->finishing = 1;
    stop_reading(c);
    drop_input(c);
    if (c->pending_writes == 0) begin_shutdown(c);
}

/* The 101 is out: the socket and the bytes read after the upgrade request go
 * to the loop that owns WebSocket sessions. dup() keeps the socket open while
 * libuv closes (and unregisters) its own descriptor. */
static void handoff(conn *c)
{
    rpc_http *s = c->srv;
    uv_os_fd_t fd;
    int nfd = uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    uint8_t *buf = c->ho_buf;
    size_t len = c->ho_len;
    c->ho_buf = NULL;
    c->ho_len = 0;
    if (nfd >= 0)
        s->handoff(s->handoff_ctx, nfd, c->proto.ws_admin, buf, len);
    else
        free(buf);
    http_conn_close(c);
}

static void on_write(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    conn *c = w->c;
    c->pending_writes--;
    c->pending_bytes -= w->len;
    free(w->head);
    free(w->body);
    free(w);
    if (c->closing) return;
    if (status < 0) {
        LOG_DEBUG("rpc", "write failed: %s", uv_strerror(status));
        http_conn_close(c);
        return;
    }
    if (c->ws) {
        http_lk(c->srv);
        ws_session_drained(c->ws);
        http_unlk(c->srv);
        if (c->closing) return;
        ws_after(c);
        if (c->finishing && c->pending_writes == 0 && !c->closing) begin_shutdown(c);
        return;
    }
    if (c->handing_off) {
        if (c->pending_writes == 0) handoff(c);
        return;
    }
    if (c->proto.phase == HTTP_PHASE_IDLE && !c->finishing)
        uv_timer_start(&c->timer, http_conn_on_timer, c->srv->idle_ms, 0);
    if (c->proto.paused && c->pending_bytes <= RPC_HTTP_WRITE_HIGH_WATER / 2) {
        http_proto_resume(&c->proto);
        pump(c);
        if (c->closing) return;
    }
    if (c->finishing && c->pending_writes == 0) begin_shutdown(c);
}

/* Starts one write; on failure frees it and closes the connection. */
static int start_write(conn *c, wreq *w)
{
    uv_buf_t bufs[2];
    unsigned n = 0;
    if (w->head_len) bufs[n++] = uv_buf_init(w->head, (unsigned)w->head_len);
    if (w->body_len) bufs[n++] = uv_buf_init(w->body + w->body_off, (unsigned)w->body_len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, n, on_write);
    if (rc != 0) {
        free(w->head);
        free(w->body);
        free(w);
        http_conn_close(c);
        return 1;
    }
    return 0;
}

/* Writes an HTTP response at once, which the socket takes whole for a small
 * reply. Returns the bytes written (0 when it could not start). This saves
 * copying the head, a request allocation and, with libuv's epoll backend,
 * an epoll_ctl per response: a completed uv_write re-arms the watcher even
 * though nothing changed. WebSocket frames keep the uv_write path: the
 * session paces itself on write completions (ws_session_drained). */
static size_t write_now(conn *c, const char *head, size_t head_len, char *body, size_t body_len)
{
    /* uv_try_write refuses (EAGAIN) while earlier bytes wait in libuv's
     * queue, so responses cannot overtake each other. */
    if (c->ws || c->closing) return 0;
    uv_buf_t bufs[2] = {uv_buf_init((char *)head, (unsigned)head_len),
                        uv_buf_init(body, (unsigned)body_len)};
    int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, body_len ? 2 : 1);
    return n > 0 ? (size_t)n : 0; /* EAGAIN, or an error uv_write will report */
}

/* http_proto's sink: one response, written at once or, for what the socket
 * did not take, with one uv_write (which then owns a copy of the head). */
int http_conn_emit(void *sink, const char *head, size_t head_len, char *body, size_t body_len)
{
    conn *c = sink;
    if (!body) body_len = 0;
    size_t done = write_now(c, head, head_len, body, body_len);
    if (done == head_len + body_len) {
        free(body);
        return 0;
    }
    size_t hd = done < head_len ? done : head_len;
    size_t hl = head_len - hd;
    wreq *w = c->closing ? NULL : malloc(sizeof *w);
    char *hcopy = w && hl ? malloc(hl) : NULL;
    if (!w || (hl && !hcopy)) {
        free(w);
        free(body);
        http_conn_close(c);
        return 1;
    }
    if (hl) memcpy(hcopy, head + hd, hl);
    *w = (wreq){.c = c,
                .head = hcopy,
                .body = body,
                .head_len = hl,
                .body_off = done - hd,
                .body_len = body_len - (done - hd)};
    w->len = w->head_len + w->body_len;
    if (start_write(c, w) != 0) return 1;
    c->pending_writes++;
    c->pending_bytes += w->len;
    return c->pending_bytes > RPC_HTTP_WRITE_HIGH_WATER;
}

/* ws_io for a connection: frames go out as one uv_write each. */
static int ws_write(void *ctx, char *data, size_t len)
{
    conn *c = ctx;
    return http_conn_emit(c, NULL, 0, data, len) && c->closing;
}

static size_t ws_pending(void *ctx)
{
    conn *c = ctx;
    return c->pending_bytes;
}

static const ws_io conn_ws_io = {ws_write, ws_pending};

/* After the session ran: close, pause or resume reading as it needs. */
static void ws_after(conn *c)
{
    if (c->closing || !c->ws) return;
    if (ws_session_finished(c->ws)) {
        if (!c->finishing) {
            http_conn_finish(c);
            if (!c->closing && !c->ws_deadline) {
                c->ws_deadline = 1;
                uv_timer_start(&c->timer, http_conn_on_timer, WS_CLOSE_MS, 0);
            }
        }
        return;
    }
    if (ws_session_closing(c->ws) && !c->ws_deadline) {
        /* A client that does not read cannot receive the close: cut it. */
        c->ws_deadline = 1;
        uv_timer_start(&c->timer, http_conn_on_timer, WS_CLOSE_MS, 0);
    }
    if (c->finishing) return;
    if (ws_session_reading(c->ws))
        http_conn_start_reading(c);
    else
        stop_reading(c);
}

/* The handshake was answered: the rest of the input is WebSocket frames. */
void http_conn_ws_start(conn *c)
{
    rpc_http *s = c->srv;
    if (s->handoff) {
        /* Sessions live on another loop: keep the unread input for it and
         * hand the socket over once the handshake response is written. */
        size_t left = c->in && c->in_off < c->in_len ? c->in_len - c->in_off : 0;
        if (left && !(c->ho_buf = malloc(left))) {
            http_conn_close(c);
            return;
        }
        if (left) memcpy(c->ho_buf, c->in + c->in_off, left);
        c->ho_len = left;
        drop_input(c);
        stop_reading(c);
        c->handing_off = 1;
        uv_timer_start(&c->timer, http_conn_on_timer, WS_CLOSE_MS, 0);
        if (c->pending_writes == 0) handoff(c);
        return;
    }
    c->ws = ws_session_new(&s->routes, c->proto.ws_admin, &conn_ws_io, c, &c->proto.rate);
    if (!c->ws) {
        http_conn_close(c);
        return;
    }
    unsigned ms = s->routes.ws_ping_ms;
    uv_timer_start(&c->timer, http_conn_on_timer, ms, ms);
    if (c->in && c->in_off < c->in_len) {
        char *in = c->in;
        size_t off = c->in_off, len = c->in_len;
        int shared = c->in_shared;
        c->in = NULL;
        c->in_shared = 0;
        http_lk(s);
        ws_session_feed(c->ws, (const uint8_t *)in + off, len - off);
        http_unlk(s);
        if (!shared) free(in);
    } else {
        drop_input(c);
    }
    ws_after(c);
}

/* Timers: a connection must deliver its first request's headers within the
 * header timeout of being accepted, and each later request's headers within
 * the header timeout of its first byte. Between requests, and while a body
 * arrives, the idle timeout applies. Trickling bytes does not restart a timer;
 * only progress (a new request, headers done, a request answered) does. */
static void update_timer(conn *c)
{
    http_proto *p = &c->proto;
    if (p->phase == c->last_phase && p->nbegun == c->last_begun && p->ndone == c->last_done) return;
    c->last_phase = p->phase;
    c->last_begun = p->nbegun;
    c->last_done = p->ndone;
    if (p->phase == HTTP_PHASE_HEADERS && p->ndone == 0) return; /* the accept timer runs */
    unsigned ms = p->phase == HTTP_PHASE_HEADERS ? c->srv->header_ms : c->srv->idle_ms;
    uv_timer_start(&c->timer, http_conn_on_timer, ms, 0);
}

/* Parses buffered input until it is used up, the parser pauses for
 * backpressure, or the connection is finishing. */
static void pump(conn *c)
{
    while (c->in && !c->closing) {
        /* No lock here: the dispatch table takes it around method calls
         * only (rpc_dispatch_set_lock), and GET routes take it themselves. */
        size_t used = http_proto_feed(&c->proto, c->in + c->in_off, c->in_len - c->in_off);
        c->in_off += used;
        if (c->closing) return;
        if (c->proto.upgraded) {
            http_conn_ws_start(c);
            return;
        }
        update_timer(c);
        if (c->proto.close) {
            http_conn_finish(c);
            return;
        }
        if (c->proto.paused) {
            /* Resumed by a write callback once the backlog halves; one that
             * already drained will not call back. */
            if (c->pending_bytes > RPC_HTTP_WRITE_HIGH_WATER / 2) {
                stop_reading(c);
                return;
            }
            http_proto_resume(&c->proto);
            continue;
        }
        drop_input(c);
    }
    if (!c->closing && !c->eof && !c->finishing) http_conn_start_reading(c);
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = st->data;
    rpc_http *s = c->srv;
    if (nread > 0 && !c->draining && !c->closing && !c->finishing && c->ws) {
        http_lk(s);
        ws_session_feed(c->ws, (const uint8_t *)buf->base, (size_t)nread);
        http_unlk(s);
        release_read_buf(s, buf->base);
        ws_after(c);
        return;
    }
    if (nread > 0 && !c->draining && !c->closing && !c->finishing && !c->handing_off) {
        c->in = buf->base;
        c->in_shared = buf->base == s->rbuf;
        c->in_off = 0;
        c->in_len = (size_t)nread;
        pump(c);
        own_input(c);
        if (buf->base == s->rbuf) s->rbuf_busy = 0;
        return;
    }
    release_read_buf(s, buf->base);
    if (nread >= 0 || c->closing) return;
    if (nread == UV_EOF && !c->draining) {
        /* The client half-closed: answer what it sent, then close. */
        c->eof = 1;
        if (c->pending_writes == 0)
            http_conn_close(c);
        else
            http_conn_finish(c);
        return;
    }
    http_conn_close(c);
}

conn *http_conn_new(rpc_http *s)
{
    conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->srv = s;
    http_proto_init(&c->proto, &s->routes, http_conn_emit, c);
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->nlive++;
    s->nalloc++;
    return c;
}
