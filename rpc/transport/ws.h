/* WebSocket sessions carrying JSON-RPC (RFC 6455, framing by wslay).
 *
 * A session starts when rpc/transport/http_proto.c answered a handshake on GET /ws
 * with 101. Every text message is one JSON-RPC body (a request or a batch),
 * answered with one text message; methods see the session in
 * rpc_call.session, so subscription methods can keep it and push
 * notifications later with rpc_session_send.
 *
 * Limits (docs/rpc-protocol.md): a message is at most max_body bytes (close
 * 1009, from the frame header); binary messages are refused (close 1003);
 * invalid frames, unmasked client frames and bad UTF-8 close the session
 * (1002/1007; malformed control frames and lengths are caught before wslay). The
 * bytes waiting to go out to a client (queued messages, the write buffer and
 * what the socket has not taken yet) may not pass ws_send_limit: a slow
 * consumer is sent close 1008 "send buffer limit exceeded" and dropped, so it
 * can never grow the node's memory without bound. Above RPC_WS_HIGH_WATER the
 * session stops reading requests from that client until it reads its answers.
 *
 * Loop thread only. The session is transport-neutral: rpc/transport/http.c drives it
 * from a socket, rpc_http_process_bytes from a buffer. */
#ifndef OL_RPC_WS_H
#define OL_RPC_WS_H

#include <stddef.h>
#include <stdint.h>

#include "rpc/transport/http_proto.h"
#include "rpc/jsonrpc.h"
#include "util/err.h"

#define RPC_WS_HIGH_WATER (256 * 1024)
#define RPC_WS_CLOSE_SLOW 1008 /* policy violation: "send buffer limit exceeded" */

/* --- for methods and subscriptions --------------------------------------- */

/* Queues one text message (e.g. a subscription notification). Returns 0;
 * UTIL_ESTATE when the session is closing; UTIL_ELIMIT when the message
 * would pass the send limit (the session is then being closed as a slow
 * consumer); UTIL_ENOMEM. The text is copied. */
OL_MUST_CHECK int rpc_session_send(rpc_session *s, const char *text, size_t len);
/* Process-unique, never 0. */
uint64_t rpc_session_id(const rpc_session *s);

/* --- for the transport (rpc/transport/http.c) --------------------------------------- */

typedef struct ws_io {
    /* Sends bytes to the client; takes data (malloc'd). Nonzero: the
     * connection failed (it may be closing now). */
    int (*write)(void *ctx, char *data, size_t len);
    /* Bytes handed to write that the socket has not taken yet. */
    size_t (*pending)(void *ctx);
} ws_io;

/* NULL when memory runs out. rate is the connection's limiter (kept). */
OL_MUST_CHECK rpc_session *ws_session_new(const http_routes *r, int admin, const ws_io *io,
                                          void *io_ctx, http_rate *rate);
/* Bytes from the client (copied); runs the messages they complete. */
void ws_session_feed(rpc_session *s, const uint8_t *data, size_t len);
/* Call when written bytes left the process: sends what waits, and resumes
 * reading below the high-water mark. */
void ws_session_drained(rpc_session *s);
/* 0 while the session wants no more input (backpressure or closing). */
OL_MUST_CHECK int ws_session_reading(const rpc_session *s);
/* 1 once the connection should be closed after its pending writes. */
OL_MUST_CHECK int ws_session_finished(const rpc_session *s);
/* 1 once the server started closing (slow consumer, bad frame, idle): the
 * transport should cut the connection if the close does not get out soon. */
OL_MUST_CHECK int ws_session_closing(const rpc_session *s);
/* Periodic: pings the client, and closes a session that sent nothing for
 * three intervals. */
void ws_session_tick(rpc_session *s, uint64_t now_ns, uint64_t interval_ns);
/* The connection is going away: no more sends, session_closed is called.
 * Idempotent. */
void ws_session_detach(rpc_session *s);
/* Detaches if needed and frees. NULL is a no-op. */
void ws_session_free(rpc_session *s);

#endif
