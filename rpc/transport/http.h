/* HTTP/1.1 server for JSON-RPC on a libuv loop.
 *
 * POST / carries a JSON-RPC body (any Content-Type) and is answered 200
 * application/json, or 204 when the body held only notifications. GET and
 * HEAD go to an optional route callback (health, metrics, static files).
 * OPTIONS answers CORS preflights. Keep-alive is the HTTP/1.1 default;
 * pipelined requests are answered in order. Requests are parsed by
 * http-parser; see docs/rpc-protocol.md for every limit and status code.
 *
 * Everything runs on the loop's thread: call these functions from it (or
 * before the loop runs). Methods run synchronously inside the read callback.
 * rpc_http_start sets SIGPIPE to be ignored for the process, because a client
 * that disconnects mid-response would otherwise kill it. */
#ifndef OL_RPC_HTTP_H
#define OL_RPC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "rpc/jsonrpc.h"
#include "util/err.h"

#define RPC_HTTP_DEFAULT_MAX_BODY (1024 * 1024)
#define RPC_HTTP_DEFAULT_MAX_CONNS 1024
/* Connections one client address may hold (IPv6: one /64). */
#define RPC_HTTP_DEFAULT_MAX_CONNS_PER_IP 64
/* Connections refused over a cap that may be in their graceful close (503
 * written, then shutdown and a short linger) at once, beyond max_conns. */
#define RPC_HTTP_REFUSING_MAX 64
/* Bytes of one JSON-RPC reply (a whole batch's); past it -32005. */
#define RPC_HTTP_DEFAULT_MAX_REPLY (16u * 1024 * 1024)
#define RPC_HTTP_DEFAULT_HEADER_TIMEOUT_MS 10000
#define RPC_HTTP_DEFAULT_IDLE_TIMEOUT_MS 60000
#define RPC_HTTP_MAX_HEADER_BYTES 8192 /* request line + header lines, in total */
#define RPC_HTTP_MAX_URL 2048
/* A connection stops reading (and parsing pipelined requests) while more
 * than this many response bytes wait to be written to it. */
#define RPC_HTTP_WRITE_HIGH_WATER (256 * 1024)

#define RPC_HTTP_MAX_TOKEN 256 /* bytes of an auth token */
#define RPC_WS_DEFAULT_SEND_LIMIT (4u * 1024 * 1024)
#define RPC_WS_DEFAULT_PING_MS 30000

typedef struct rpc_http_cfg {
    const char *host;           /* numeric IPv4/IPv6 or "localhost"; NULL: 127.0.0.1 */
    int port;                   /* 0: an ephemeral port (see rpc_http_port) */
    size_t max_body;            /* 0: RPC_HTTP_DEFAULT_MAX_BODY; also the WebSocket message cap */
    int max_conns;              /* 0: RPC_HTTP_DEFAULT_MAX_CONNS (HTTP and WebSocket) */
    int max_conns_per_ip;       /* 0: RPC_HTTP_DEFAULT_MAX_CONNS_PER_IP */
    size_t max_reply;           /* 0: RPC_HTTP_DEFAULT_MAX_REPLY */
    unsigned header_timeout_ms; /* 0: default; from accept or request start to end of headers */
    unsigned idle_timeout_ms;   /* 0: default; between requests, and for a request's body */
    const char *cors_origin;    /* NULL: no CORS headers; "*" or an origin */
    /* Admin methods (RPC_METHOD_ADMIN): with a token, only for requests with
     * "Authorization: Bearer <token>"; without one, only on a loopback bind
     * and only for requests without a foreign Origin (docs/rpc-protocol.md). */
    const char *auth_token;
    unsigned rate_limit;  /* JSON-RPC requests per second per client address; 0: unlimited */
    unsigned rate_burst;  /* requests allowed at once; 0: rate_limit */
    size_t ws_send_limit; /* 0: RPC_WS_DEFAULT_SEND_LIMIT; unsent bytes before disconnect */
    unsigned ws_ping_ms;  /* 0: RPC_WS_DEFAULT_PING_MS; silent clients closed after 3 */
    int ws_disabled;      /* no /ws endpoint */
    /* Called when a WebSocket session ends (subscriptions are dropped). */
    void (*session_closed)(void *ctx, rpc_session *s);
    void *session_ctx;
    /* Several loops (openledgerd --rpc-threads, docs/rpc-protocol.md):
     * reuseport sets SO_REUSEPORT on the listener so that every loop can
     * listen on the same port. lock/unlock (both or neither), when set, are
     * taken around the GET routes, feeding WebSocket frames and ending a
     * WebSocket session; they must allow recursion. HTTP JSON-RPC bodies are
     * parsed and answered outside them: the dispatch table takes the same
     * lock around each method call (rpc_dispatch_set_lock). ws_handoff, when set,
     * takes every WebSocket upgrade away from this server once the 101 is
     * written: it receives the socket (fd, now owned by the callee), the
     * session's admin right and the bytes read after the upgrade request
     * (malloc'd, owned by the callee, NULL when len is 0). It runs on this
     * server's loop; the receiver passes them to rpc_http_adopt_ws. */
    int reuseport;
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    void *lock_ctx;
    void (*ws_handoff)(void *ctx, int fd, int admin, uint8_t *buf, size_t len);
    void *handoff_ctx;
    /* The per-address table (rpc/transport/addrtab.h) shared by the servers of several
     * loops, so connection and rate limits hold per address across them; the
     * server takes a reference. NULL: the server makes its own, sized for
     * max_conns; then max_conns_per_ip applies per server. */
    struct rpc_addrtab *addrtab;
} rpc_http_cfg;

/* Counters of a running server, for metrics. */
typedef struct rpc_http_stats {
    size_t conns;               /* open connections, HTTP and WebSocket */
    size_t ws_sessions;         /* open WebSocket sessions */
    uint64_t rate_limited;      /* requests refused by the rate limit */
    uint64_t ws_slow_consumers; /* sessions closed for passing the send limit */
    uint64_t conns_refused;     /* connections over max_conns or max_conns_per_ip */
} rpc_http_stats;

/* An extra GET/HEAD route. path is the request path without the query
 * string. Return 0 after filling *status, *content_type (a static string;
 * NULL means application/octet-stream), *body (malloc'd, or NULL) and *len;
 * return nonzero for "no such route" (404, or 405 on "/"). */
typedef int (*rpc_http_get_fn)(void *ctx, const char *path, int *status, const char **content_type,
                               char **body, size_t *len);

typedef struct rpc_http rpc_http;

/* Binds and listens. Returns 0, or UTIL_EINVAL (bad config) / UTIL_EIO (bind
 * or listen failed, e.g. address in use) with *err filled. A bind or listen
 * failure leaves nothing to release (the socket is made without libuv); only
 * if libuv then refuses the bound socket is a closing handle left for the
 * loop's next run to free. d must outlive the server. */
OL_MUST_CHECK int rpc_http_start(rpc_http **out, uv_loop_t *loop, const rpc_http_cfg *cfg,
                                 rpc_dispatch *d, rpc_http_get_fn get, void *get_ctx,
                                 util_err *err);
OL_MUST_CHECK int rpc_http_port(const rpc_http *s); /* the bound port */
size_t rpc_http_conn_count(const rpc_http *s);      /* open client connections */
void rpc_http_get_stats(const rpc_http *s, rpc_http_stats *st);

/* Takes over a connected socket whose WebSocket handshake another server
 * already answered (see ws_handoff): the session starts with `admin` rights
 * and the bytes in buf (copied). Call on s's loop thread. fd is owned by s
 * afterwards (closed on any failure). Returns 0, UTIL_ENOMEM or UTIL_EIO. */
OL_MUST_CHECK int rpc_http_adopt_ws(rpc_http *s, int fd, int admin, const uint8_t *buf, size_t len);

/* Closes the listener and every connection (pending responses are dropped).
 * The server's memory is released by the close callbacks, so the caller must
 * let the loop run afterwards, e.g. `rpc_http_stop(s); uv_run(loop,
 * UV_RUN_DEFAULT);` when nothing else is active, before uv_loop_close. The
 * pointer is invalid after this call. NULL is a no-op. */
void rpc_http_stop(rpc_http *s);

/* For tests and fuzzing: runs `in` through the same parser, limits and
 * router that a connection uses, without sockets or timers, as if a client
 * sent it all at once. After a WebSocket upgrade the rest of `in` goes to the
 * session as frames. *out receives every response byte the connection
 * would write (malloc'd, free() it; may be empty), *closed whether the
 * connection would be closed afterwards. Returns 0 or UTIL_ENOMEM. */
OL_MUST_CHECK int rpc_http_process_bytes(const rpc_http_cfg *cfg, rpc_dispatch *d,
                                         rpc_http_get_fn get, void *get_ctx, const uint8_t *in,
                                         size_t len, char **out, size_t *out_len, int *closed);

#endif
