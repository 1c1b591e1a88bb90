/* The libuv side of the RPC server: listener, connections, timers, writes
 * and backpressure. The HTTP protocol itself is in http_proto.c.
 *
 * A connection's life: accepted (header timer) -> requests parsed and
 * answered in order, each response one uv_write whose buffers are freed in
 * its callback -> when a response says "Connection: close" (error, client
 * asked, Upgrade), reading stops, the pending writes drain, the write side is
 * shut down, and what the client still sends is read and discarded for a
 * short linger (so the kernel does not reset the connection and destroy the
 * response in flight) -> closed. A conn is freed when both its handles
 * (socket and timer) have run their close callbacks. */
#include "rpc/http.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/addrtab.h"
#include "rpc/http_proto.h"
#include "rpc/listen.h"
#include "rpc/ws.h"
#include "util/log.h"
#include "util/time.h"

#define READ_CHUNK (64 * 1024)
#define LINGER_MS 1000
/* A closing WebSocket whose client does not read its last frames is cut
 * after this long. */
#define WS_CLOSE_MS 2000

#define BUSY_BODY                                                                                  \
    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32002,\"message\":\"too many connections\"},"       \
    "\"id\":null}"
_Static_assert(sizeof(BUSY_BODY) - 1 == 84, "update the Content-Length below");
static const char busy_reply[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                 "Content-Type: application/json\r\n"
                                 "Content-Length: 84\r\n"
                                 "Connection: close\r\n\r\n" BUSY_BODY;

typedef struct conn conn;

struct rpc_http {
    uv_loop_t *loop;
    uv_tcp_t listener;
    http_routes routes;
    http_counters counters;
    char *cors;  /* owned copy behind routes.cors_origin */
    char *token; /* owned copy behind routes.auth_token */
    /* One read buffer for every connection: libuv calls read_cb right after
     * alloc_cb, and input left unparsed is copied out before read_cb
     * returns, so a read costs no allocation. */
    char *rbuf;
    int rbuf_busy;
    uint64_t conns_refused;
    size_t max_conns;
    unsigned header_ms, idle_ms;
    int port;
    conn *conns;   /* live connections (not yet closing) */
    size_t nlive;  /* length of conns */
    size_t nalloc; /* allocated conns, including those being closed */
    int stopping;
    int listener_open;
    void (*lock)(void *ctx), (*unlock)(void *ctx);
    void *lock_ctx;
    void (*handoff)(void *ctx, int fd, int admin, uint8_t *buf, size_t len);
    void *handoff_ctx;
    rpc_http_get_fn get; /* the caller's GET routes, run under the lock */
    void *get_ctx;
    rpc_addrtab *tab; /* per-address connections and rate (a reference) */
    size_t nrefusing; /* conns being answered 503 (in nalloc, not in the cap) */
};

struct conn {
    uv_tcp_t tcp; /* first: handle->data is also set, but keep casts valid */
    uv_timer_t timer;
    uv_shutdown_t shut;
    rpc_http *srv;
    conn *prev, *next;
    http_proto proto;
    rpc_session *ws; /* after a WebSocket upgrade */
    int ws_deadline; /* the close timer of a closing session runs */
    int handles;     /* open libuv handles; the conn is freed at 0 */
    int closing, reading, eof, finishing, shutting, draining;
    size_t pending_writes, pending_bytes;
    char *in; /* a read chunk not fully parsed yet (parser paused) */
    size_t in_off, in_len;
    int in_shared; /* c->in is the server's read buffer (only inside read_cb) */
    int last_phase;
    uint64_t last_begun, last_done;
    int handing_off; /* the 101 is being written; then the socket goes to ws_handoff */
    uint8_t *ho_buf; /* input read after the upgrade request, for the new owner */
    size_t ho_len;
    int counted;  /* counted in srv->tab under proto.rate.key */
    int refusing; /* answered 503, closing: not counted against max_conns */
};

typedef struct wreq {
    uv_write_t req;
    conn *c;
    char *head, *body;
    size_t len, head_len, body_len;
    size_t body_off; /* body bytes already written by write_now */
} wreq;

static void pump(conn *c);

/* The shared-state lock of a multi-loop node (rpc_http_cfg.lock). */
static void lk(rpc_http *s)
{
    if (s->lock) s->lock(s->lock_ctx);
}

static void unlk(rpc_http *s)
{
    if (s->unlock) s->unlock(s->lock_ctx);
}

/* The GET routes read node state (/health, /metrics), so with a lock they
 * run under it. */
static int locked_get(void *ctx, const char *path, int *status, const char **ctype, char **body,
                      size_t *len)
{
    rpc_http *s = ctx;
    lk(s);
    int rc = s->get(s->get_ctx, path, status, ctype, body, len);
    unlk(s);
    return rc;
}

static void srv_maybe_free(rpc_http *s)
{
    if (s->stopping && !s->listener_open && s->nalloc == 0) {
        free(s->cors);
        free(s->token);
        free(s->rbuf);
        rpc_addrtab_unref(s->tab);
        free(s);
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    rpc_http *s = h->data;
    s->listener_open = 0;
    srv_maybe_free(s);
}

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
    srv_maybe_free(s);
}

static void drop_input(conn *c)
{
    if (!c->in_shared) free(c->in);
    c->in = NULL;
    c->in_shared = 0;
    c->in_off = c->in_len = 0;
}

static void conn_close(conn *c)
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
        lk(s);
        ws_session_detach(c->ws);
        unlk(s);
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

static void on_timer(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->ws && !c->finishing && !c->draining && !c->closing && !c->ws_deadline) {
        /* the WebSocket ping interval */
        lk(c->srv);
        ws_session_tick(c->ws, util_mono_ns(), (uint64_t)c->srv->routes.ws_ping_ms * 1000000u);
        unlk(c->srv);
        ws_after(c);
        return;
    }
    if (!c->draining) LOG_DEBUG("rpc", "closing connection: timeout");
    conn_close(c);
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
    if (!copy && left && !c->closing && !c->finishing) conn_close(c); /* out of memory */
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void start_reading(conn *c)
{
    if (c->reading || c->closing) return;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
        conn_close(c);
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
        conn_close(c);
        return;
    }
    /* Linger: read and drop what the client still sends until it closes or
     * the linger timer ends, then close. */
    c->draining = 1;
    uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
    start_reading(c);
}

static void begin_shutdown(conn *c)
{
    if (c->shutting || c->closing) return;
    c->shutting = 1;
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0) conn_close(c);
}

/* No more requests on this connection: write what is pending, then close. */
static void finish(conn *c)
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
    conn_close(c);
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
        conn_close(c);
        return;
    }
    if (c->ws) {
        lk(c->srv);
        ws_session_drained(c->ws);
        unlk(c->srv);
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
        uv_timer_start(&c->timer, on_timer, c->srv->idle_ms, 0);
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
        conn_close(c);
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
static int emit(void *sink, const char *head, size_t head_len, char *body, size_t body_len)
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
        conn_close(c);
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
    return emit(c, NULL, 0, data, len) && c->closing;
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
            finish(c);
            if (!c->closing && !c->ws_deadline) {
                c->ws_deadline = 1;
                uv_timer_start(&c->timer, on_timer, WS_CLOSE_MS, 0);
            }
        }
        return;
    }
    if (ws_session_closing(c->ws) && !c->ws_deadline) {
        /* A client that does not read cannot receive the close: cut it. */
        c->ws_deadline = 1;
        uv_timer_start(&c->timer, on_timer, WS_CLOSE_MS, 0);
    }
    if (c->finishing) return;
    if (ws_session_reading(c->ws))
        start_reading(c);
    else
        stop_reading(c);
}

/* The handshake was answered: the rest of the input is WebSocket frames. */
static void ws_start(conn *c)
{
    rpc_http *s = c->srv;
    if (s->handoff) {
        /* Sessions live on another loop: keep the unread input for it and
         * hand the socket over once the handshake response is written. */
        size_t left = c->in && c->in_off < c->in_len ? c->in_len - c->in_off : 0;
        if (left && !(c->ho_buf = malloc(left))) {
            conn_close(c);
            return;
        }
        if (left) memcpy(c->ho_buf, c->in + c->in_off, left);
        c->ho_len = left;
        drop_input(c);
        stop_reading(c);
        c->handing_off = 1;
        uv_timer_start(&c->timer, on_timer, WS_CLOSE_MS, 0);
        if (c->pending_writes == 0) handoff(c);
        return;
    }
    c->ws = ws_session_new(&s->routes, c->proto.ws_admin, &conn_ws_io, c, &c->proto.rate);
    if (!c->ws) {
        conn_close(c);
        return;
    }
    unsigned ms = s->routes.ws_ping_ms;
    uv_timer_start(&c->timer, on_timer, ms, ms);
    if (c->in && c->in_off < c->in_len) {
        char *in = c->in;
        size_t off = c->in_off, len = c->in_len;
        int shared = c->in_shared;
        c->in = NULL;
        c->in_shared = 0;
        lk(s);
        ws_session_feed(c->ws, (const uint8_t *)in + off, len - off);
        unlk(s);
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
    uv_timer_start(&c->timer, on_timer, ms, 0);
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
            ws_start(c);
            return;
        }
        update_timer(c);
        if (c->proto.close) {
            finish(c);
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
    if (!c->closing && !c->eof && !c->finishing) start_reading(c);
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = st->data;
    rpc_http *s = c->srv;
    if (nread > 0 && !c->draining && !c->closing && !c->finishing && c->ws) {
        lk(s);
        ws_session_feed(c->ws, (const uint8_t *)buf->base, (size_t)nread);
        unlk(s);
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
            conn_close(c);
        else
            finish(c);
        return;
    }
    conn_close(c);
}

static void reject_closed(uv_handle_t *h)
{
    free(h);
}

static conn *conn_new(rpc_http *s)
{
    conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->srv = s;
    http_proto_init(&c->proto, &s->routes, emit, c);
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

/* Counts c against its client address; the rate limit is charged to it.
 * Returns UTIL_ELIMIT when the address holds its share of connections. */
static int count_peer(conn *c, int force)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    rpc_addr_key k;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0 ||
        rpc_addr_key_from((struct sockaddr *)&ss, &k) != 0)
        return 0; /* not an IP peer: only max_conns applies */
    if (rpc_addrtab_conn_open(c->srv->tab, &k, force) != 0) return UTIL_ELIMIT;
    c->counted = 1;
    c->proto.rate.tab = c->srv->tab;
    c->proto.rate.key = k;
    return 0;
}

/* A connection over a cap: answered 503 and closed the graceful way
 * (shutdown, linger), so the answer is not destroyed by a reset when the
 * client's request is still unread. At most RPC_HTTP_REFUSING_MAX at once;
 * past that the 503 goes out only if the socket takes it at once. */
static void refuse_conn(conn *c)
{
    rpc_http *s = c->srv;
    s->conns_refused++;
    if (s->nrefusing >= RPC_HTTP_REFUSING_MAX) {
        uv_buf_t b = uv_buf_init((char *)busy_reply, sizeof busy_reply - 1);
        uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        conn_close(c);
        return;
    }
    c->refusing = 1;
    s->nrefusing++;
    emit(c, busy_reply, sizeof busy_reply - 1, NULL, 0);
    if (!c->closing) finish(c);
}

int rpc_http_adopt_ws(rpc_http *s, int fd, int admin, const uint8_t *buf, size_t len)
{
    if (s->stopping || s->nalloc - s->nrefusing >= s->max_conns) {
        if (!s->stopping) s->conns_refused++;
        close(fd);
        return UTIL_EIO;
    }
    char *in = len ? malloc(len) : NULL;
    conn *c = len && !in ? NULL : conn_new(s);
    if (!c) {
        free(in);
        close(fd);
        return UTIL_ENOMEM;
    }
    if (uv_tcp_open(&c->tcp, fd) != 0) {
        free(in);
        close(fd);
        conn_close(c);
        return UTIL_EIO;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    count_peer(c, 1);
    if (len) memcpy(in, buf, len);
    c->in = in;
    c->in_len = len;
    c->proto.upgraded = 1;
    c->proto.ws_admin = admin;
    ws_start(c);
    return 0;
}

static void on_connection(uv_stream_t *server, int status)
{
    rpc_http *s = server->data;
    if (status < 0) {
        LOG_WARN("rpc", "accept failed: %s", uv_strerror(status));
        return;
    }
    if (s->nalloc - s->nrefusing >= s->max_conns && s->nrefusing >= RPC_HTTP_REFUSING_MAX) {
        s->conns_refused++;
        /* Accept so the backlog drains, answer 503 if the socket takes it
         * at once, and close. */
        uv_tcp_t *t = malloc(sizeof *t);
        if (!t || uv_tcp_init(s->loop, t) != 0) {
            free(t);
            return;
        }
        if (uv_accept(server, (uv_stream_t *)t) == 0) {
            uv_buf_t b = uv_buf_init((char *)busy_reply, sizeof busy_reply - 1);
            uv_try_write((uv_stream_t *)t, &b, 1);
        }
        uv_close((uv_handle_t *)t, reject_closed);
        return;
    }
    conn *c = conn_new(s);
    if (!c) return;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, on_timer, s->header_ms, 0);
    if (s->nalloc - 1 - s->nrefusing >= s->max_conns || count_peer(c, 0) != 0) {
        refuse_conn(c);
        return;
    }
    start_reading(c);
}

int rpc_http_start(rpc_http **out, uv_loop_t *loop, const rpc_http_cfg *cfg, rpc_dispatch *d,
                   rpc_http_get_fn get, void *get_ctx, util_err *err)
{
    *out = NULL;
    if (!cfg || !d || !loop) return util_err_set(err, UTIL_EINVAL, "rpc: missing argument");
    if (cfg->port < 0 || cfg->port > 65535)
        return util_err_set(err, UTIL_EINVAL, "rpc: bad port %d", cfg->port);
    if (cfg->max_conns < 0 || cfg->max_conns_per_ip < 0)
        return util_err_set(err, UTIL_EINVAL, "rpc: bad max_conns %d / max_conns_per_ip %d",
                            cfg->max_conns, cfg->max_conns_per_ip);
    rpc_http *s = calloc(1, sizeof *s);
    if (!s) return util_err_set(err, UTIL_ENOMEM, "rpc: out of memory");
    if ((cfg->cors_origin && !(s->cors = strdup(cfg->cors_origin))) ||
        (cfg->auth_token && !(s->token = strdup(cfg->auth_token)))) {
        free(s->cors);
        free(s);
        return util_err_set(err, UTIL_ENOMEM, "rpc: out of memory");
    }
    rpc_http_cfg c = *cfg;
    c.cors_origin = s->cors;
    c.auth_token = s->token;
    int locked = cfg->lock && cfg->unlock && get;
    s->get = get;
    s->get_ctx = get_ctx;
    int rc = http_routes_init(&s->routes, &c, d, locked ? locked_get : get, locked ? s : get_ctx,
                              &s->counters, err);
    int fd = -1;
    if (rc == 0)
        rc = rpc_listen_open(cfg->host ? cfg->host : "127.0.0.1", cfg->port, cfg->reuseport, &fd,
                             err);
    if (rc != 0) {
        free(s->cors);
        free(s->token);
        free(s);
        return rc;
    }
    s->loop = loop;
    s->lock = cfg->lock && cfg->unlock ? cfg->lock : NULL;
    s->unlock = s->lock ? cfg->unlock : NULL;
    s->lock_ctx = cfg->lock_ctx;
    s->handoff = cfg->ws_handoff;
    s->handoff_ctx = cfg->handoff_ctx;
    s->rbuf = malloc(READ_CHUNK); /* NULL: every read allocates */
    s->max_conns = cfg->max_conns ? (size_t)cfg->max_conns : RPC_HTTP_DEFAULT_MAX_CONNS;
    if (cfg->addrtab) {
        s->tab = cfg->addrtab;
        rpc_addrtab_ref(s->tab);
    } else {
        s->tab = rpc_addrtab_new(s->max_conns, cfg->max_conns_per_ip
                                                   ? (unsigned)cfg->max_conns_per_ip
                                                   : RPC_HTTP_DEFAULT_MAX_CONNS_PER_IP);
    }
    if (!s->tab) {
        close(fd);
        free(s->cors);
        free(s->token);
        free(s->rbuf);
        free(s);
        return util_err_set(err, UTIL_ENOMEM, "rpc: out of memory");
    }
    s->header_ms =
        cfg->header_timeout_ms ? cfg->header_timeout_ms : RPC_HTTP_DEFAULT_HEADER_TIMEOUT_MS;
    s->idle_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms : RPC_HTTP_DEFAULT_IDLE_TIMEOUT_MS;

    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->listener_open = 1;
    int uvrc = uv_tcp_open(&s->listener, fd);
    if (uvrc == 0) uvrc = uv_listen((uv_stream_t *)&s->listener, RPC_LISTEN_BACKLOG, on_connection);
    if (uvrc != 0) {
        /* The handle exists now: it is released by its close callback when
         * the loop next runs. */
        if (uv_fileno((uv_handle_t *)&s->listener, &(uv_os_fd_t){0}) != 0) close(fd);
        s->stopping = 1;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return util_err_set(err, UTIL_EIO, "rpc: listen: %s", uv_strerror(uvrc));
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) == 0)
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    /* A peer that resets the connection while a response is written would
     * otherwise kill the process with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    *out = s;
    return 0;
}

int rpc_http_port(const rpc_http *s)
{
    return s->port;
}

size_t rpc_http_conn_count(const rpc_http *s)
{
    return s->nlive;
}

void rpc_http_get_stats(const rpc_http *s, rpc_http_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!s) return;
    st->conns = s->nlive;
    st->ws_sessions = s->counters.ws_sessions;
    st->rate_limited = s->counters.rate_limited;
    st->ws_slow_consumers = s->counters.ws_slow_consumers;
    st->conns_refused = s->conns_refused;
}

void rpc_http_stop(rpc_http *s)
{
    if (!s || s->stopping) return;
    s->stopping = 1;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    while (s->conns)
        conn_close(s->conns);
    srv_maybe_free(s);
}
