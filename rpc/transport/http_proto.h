/* Internal to rpc/: the per-connection HTTP/1.1 state machine of the RPC
 * server, without sockets. Bytes go in through http_proto_feed; complete
 * responses come out through the emit callback, in request order. rpc/transport/http.c
 * drives it from libuv; rpc_http_process_bytes drives it from a buffer. */
#ifndef OL_RPC_HTTP_PROTO_H
#define OL_RPC_HTTP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "rpc/transport/addrtab.h"
#include "rpc/transport/http.h"
#include "util/bytes.h"
#include "util/err.h"

/* Counters shared by the connections of a server (loop thread only). */
typedef struct http_counters {
    uint64_t rate_limited;
    uint64_t ws_slow_consumers;
    size_t ws_sessions;
} http_counters;

/* Settings shared by every connection of a server; read-only except for
 * *counters. */
typedef struct http_routes {
    size_t max_body;
    const char *cors_origin; /* NULL: no CORS */
    rpc_dispatch *d;
    rpc_http_get_fn get;
    void *get_ctx;
    const char *auth_token; /* NULL: none */
    size_t auth_token_len;
    int admin_open;             /* no token and a loopback bind */
    uint64_t rate_interval_ns;  /* ns per request; 0: no rate limit */
    uint64_t rate_tolerance_ns; /* burst * interval */
    size_t max_reply;           /* bytes of one JSON-RPC reply */
    int ws_enabled;
    size_t ws_send_limit;
    unsigned ws_ping_ms;
    void (*session_closed)(void *ctx, rpc_session *s);
    void *session_ctx;
    http_counters *counters;
} http_routes;

/* A connection's view of the rate limit (rpc/transport/addrtab.h, a generic cell rate
 * algorithm): charged to its client address in tab, or, without a table
 * (rpc_http_process_bytes, tests), to tat. */
typedef struct http_rate {
    rpc_addrtab *tab; /* borrowed; NULL: per connection */
    rpc_addr_key key;
    uint64_t tat;
} http_rate;

/* 1 when one more request would be admitted now (always when the limit is
 * off); counts a refusal. Charges nothing. */
OL_MUST_CHECK int http_rate_allow(const http_routes *r, http_rate *rt, uint64_t now_ns);

/* rpc_call.admit for a connection: charges a body's n requests before it
 * runs, or refuses it whole (counted in rate_limited). */
typedef struct http_admit {
    const http_routes *r;
    http_rate *rt;
} http_admit;
OL_MUST_CHECK int http_rate_admit(void *http_admit_ctx, size_t n);

/* Whether a request gets admin rights: auth is the Authorization value (or
 * NULL), origin the Origin value (NULL only when there is no Origin header:
 * callers refuse a request whose Origin cannot be read, see
 * http_origin). */
OL_MUST_CHECK int http_admin_allowed(const http_routes *r, const char *auth, size_t auth_len,
                                     const char *origin, size_t origin_len);

enum { HTTP_PHASE_IDLE, HTTP_PHASE_HEADERS, HTTP_PHASE_BODY };

/* Request headers the server reads, with bounded copies of their values. */
enum {
    HDR_EXPECT,
    HDR_AUTH,
    HDR_ORIGIN,
    HDR_UPGRADE,
    HDR_WS_KEY,
    HDR_WS_VERSION,
    HDR_HOST,
    HDR_CTYPE,
    HDR_COUNT
};
#define HTTP_HDR_VALUE_MAX (16 + RPC_HTTP_MAX_TOKEN)

typedef struct http_hdr {
    char v[HTTP_HDR_VALUE_MAX + 1];
    size_t len;
    int seen;     /* times the header appeared */
    int overflow; /* value longer than HTTP_HDR_VALUE_MAX */
} http_hdr;

/* One response: head is borrowed (often on the caller's stack: the sink
 * copies what it cannot send at once), body is taken (malloc'd, or NULL).
 * Returns nonzero to ask the parser to pause after the current request
 * (backpressure, or the connection is going away). */
typedef int (*http_emit_fn)(void *sink, const char *head, size_t head_len, char *body,
                            size_t body_len);

typedef struct http_proto {
    http_parser parser;
    const http_routes *routes;
    http_emit_fn emit;
    void *sink;

    int phase;       /* HTTP_PHASE_* */
    uint64_t nbegun; /* requests started */
    uint64_t ndone;  /* requests answered */
    int paused;      /* feed stopped for backpressure; see http_proto_resume */
    int close;       /* no more requests: flush what was emitted, then close */

    /* the request being parsed */
    char url[RPC_HTTP_MAX_URL + 1];
    size_t url_len;
    size_t header_bytes;
    int in_value;   /* last header callback was a value */
    char field[32]; /* current header name, truncated */
    size_t field_len;
    int capture; /* HDR_* of the current header, or -1 */
    http_hdr hdr[HDR_COUNT];
    int route;            /* ROUTE_* in http_proto.c */
    uint64_t chunk_left;  /* bytes of the current chunk still to come */
    int crlf_need;        /* CRLF bytes after chunk data not yet checked */
    const char *feed_end; /* end of the buffer being parsed */
    size_t body_len;
    util_buf body;

    http_rate rate;
    rpc_budget gas; /* the connection's gas allowance (docs/rpc-protocol.md) */
    /* Set once a WebSocket handshake was answered (101): the bytes after
     * the request belong to the WebSocket session. */
    int upgraded;
    int ws_admin; /* admin rights of the upgraded session */
} http_proto;

void http_proto_init(http_proto *p, const http_routes *r, http_emit_fn emit, void *sink);
void http_proto_free(http_proto *p);
/* Parses up to len bytes and returns how many were consumed. Fewer than len
 * means p->paused (call http_proto_resume, then feed the rest) or p->close
 * (discard the rest). */
size_t http_proto_feed(http_proto *p, const char *data, size_t len);
void http_proto_resume(http_proto *p);

/* Fills r from cfg with defaults applied; checks cors_origin and the auth
 * token. counters may be NULL. Strings are borrowed from cfg. */
OL_MUST_CHECK int http_routes_init(http_routes *r, const rpc_http_cfg *cfg, rpc_dispatch *d,
                                   rpc_http_get_fn get, void *get_ctx, http_counters *counters,
                                   util_err *err);

/* The request's Origin: 0 when absent, 1 with *v and *len set when it is one
 * well-formed serialized origin (RFC 6454: "null", or scheme "://" host
 * [":" port]), -1 when it is repeated, too long or malformed. */
OL_MUST_CHECK int http_origin(const http_proto *p, const char **v, size_t *len);

/* The rest is in rpc/transport/http_policy.c. */

/* A captured header's value (HDR_*), or NULL when absent, repeated or too
 * long. */
const char *http_hdr_get(const http_proto *p, int id, size_t *len);
/* s is 1..max printable ASCII characters: safe to print in a header. */
OL_MUST_CHECK int http_header_safe(const char *s, size_t max);
/* The Content-Type's media type is application/json or application/...+json. */
OL_MUST_CHECK int http_json_content_type(const http_proto *p);
/* The Content-Type is one a browser sends without a CORS preflight
 * (text/plain, application/x-www-form-urlencoded, multipart/form-data), or
 * is repeated or unreadable. */
OL_MUST_CHECK int http_simple_content_type(const http_proto *p);
/* For a text/html answer: the Content-Security-Policy header line (in out)
 * that allows connections to the page's own origin only, ws:// and wss://
 * included; NULL for other types. */
const char *http_html_csp(const http_proto *p, const char *ctype, char *out, size_t cap);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 4.2.2). */
void http_ws_accept(const char *key, size_t len, char out[29]);

#endif
