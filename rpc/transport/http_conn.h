/* Internal to rpc/transport/http.c and rpc/transport/http_server.c: the RPC server's state and
 * its connections. http.c drives a connection (reads, writes, timers,
 * backpressure, WebSocket glue); http_server.c owns the listener, accepts and
 * refuses connections, and starts and stops the server. */
#ifndef OL_RPC_HTTP_CONN_H
#define OL_RPC_HTTP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "rpc/transport/addrtab.h"
#include "rpc/transport/http.h"
#include "rpc/transport/http_proto.h"
#include "rpc/transport/ws.h"
#include "util/err.h"

#define READ_CHUNK (64 * 1024)
#define LINGER_MS 1000
/* A closing WebSocket whose client does not read its last frames is cut
 * after this long. */
#define WS_CLOSE_MS 2000

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

/* The shared-state lock of a multi-loop node (rpc_http_cfg.lock). */
static inline void http_lk(rpc_http *s)
{
    if (s->lock) s->lock(s->lock_ctx);
}

static inline void http_unlk(rpc_http *s)
{
    if (s->unlock) s->unlock(s->lock_ctx);
}

/* http.c */
OL_MUST_CHECK conn *http_conn_new(rpc_http *s); /* linked into s, handles initialised */
void http_conn_close(conn *c);                  /* idempotent; freed by the close callbacks */
void http_conn_finish(conn *c); /* no more requests: write what is pending, then close */
/* Writes or queues a response (body is taken). 0, or 1 when the connection
 * closed (c->closing) or its queued bytes passed RPC_HTTP_WRITE_HIGH_WATER. */
OL_MUST_CHECK int http_conn_emit(void *sink, const char *head, size_t head_len, char *body,
                                 size_t body_len);
void http_conn_start_reading(conn *c);
void http_conn_ws_start(conn *c); /* the rest of the input is WebSocket frames */
void http_conn_on_timer(uv_timer_t *t);

/* http_server.c */
void http_srv_maybe_free(rpc_http *s); /* frees a stopped server once nothing is left */

#endif
