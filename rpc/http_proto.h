/* Internal to rpc/: the per-connection HTTP/1.1 state machine of the RPC
 * server, without sockets. Bytes go in through http_proto_feed; complete
 * responses come out through the emit callback, in request order. rpc/http.c
 * drives it from libuv; rpc_http_process_bytes drives it from a buffer. */
#ifndef OL_RPC_HTTP_PROTO_H
#define OL_RPC_HTTP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "rpc/http.h"
#include "util/bytes.h"

/* Settings shared by every connection of a server; read-only. */
typedef struct http_routes {
    size_t max_body;
    const char *cors_origin; /* NULL: no CORS */
    rpc_dispatch *d;
    rpc_http_get_fn get;
    void *get_ctx;
} http_routes;

enum { HTTP_PHASE_IDLE, HTTP_PHASE_HEADERS, HTTP_PHASE_BODY };

/* Takes ownership of head and body (malloc'd; body may be NULL). Returns
 * nonzero to ask the parser to pause after the current request
 * (backpressure, or the connection is going away). */
typedef int (*http_emit_fn)(void *sink, char *head, size_t head_len, char *body, size_t body_len);

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
    char field[16]; /* current header name, truncated */
    size_t field_len;
    int capture;     /* current header is one we read the value of */
    char expect[16]; /* Expect: value, truncated */
    size_t expect_len;
    int route;            /* ROUTE_* in http_proto.c */
    uint64_t chunk_left;  /* bytes of the current chunk still to come */
    int crlf_need;        /* CRLF bytes after chunk data not yet checked */
    const char *feed_end; /* end of the buffer being parsed */
    size_t body_len;
    util_buf body;
} http_proto;

void http_proto_init(http_proto *p, const http_routes *r, http_emit_fn emit, void *sink);
void http_proto_free(http_proto *p);
/* Parses up to len bytes and returns how many were consumed. Fewer than len
 * means p->paused (call http_proto_resume, then feed the rest) or p->close
 * (discard the rest). */
size_t http_proto_feed(http_proto *p, const char *data, size_t len);
void http_proto_resume(http_proto *p);

/* Fills r from cfg with defaults applied; checks cors_origin. */
int http_routes_init(http_routes *r, const rpc_http_cfg *cfg, rpc_dispatch *d, rpc_http_get_fn get,
                     void *get_ctx, util_err *err);

#endif
