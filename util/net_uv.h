/* HTTP(S) requests from inside a libuv loop, on libcurl's multi interface:
 * for code that must not block its loop (the rollup's L1 client talking
 * JSON-RPC to Ethereum endpoints from the node's loop).
 *
 * A library of its own (util_net_uv: util_net, libcurl and libuv) so that
 * only its users link them. Every request gets what util/net.h lists
 * (http(s) only, certificate checks against opts.ca_file or the system's
 * CAs, proxies from the environment except for loopback, timeouts, the cap
 * on the answer's body) and fails with the same messages and util_net_fail
 * kinds. Requests run concurrently; connections to the same server are kept
 * alive and reused by later requests.
 *
 * Threading: one client per loop, used only from the loop's thread.
 *
 * Callbacks run on the loop, never from inside util_net_uv_post. Each
 * accepted request gets exactly one callback: its answer, its failure, or
 * UTIL_NET_FAIL_CANCELLED when util_net_uv_cancel or util_net_uv_close ended
 * it first (then the callback runs inside that call). A callback may post new
 * requests, cancel others, or close the client. */
#ifndef OL_UTIL_NET_UV_H
#define OL_UTIL_NET_UV_H

#include <stddef.h>

#include <uv.h>

#include "util/err.h"
#include "util/net.h"

typedef struct util_net_uv util_net_uv;
typedef struct util_net_uv_req util_net_uv_req;

/* rc: 0 for a 2xx answer, else the code util_net_post_json would return
 * (UTIL_ESTATE when cancelled). resp: status, body (NUL-terminated), len and
 * fail; the callback may take resp->body (setting it to NULL), otherwise it is
 * freed after the callback returns. err: the message when rc is not 0. */
typedef void (*util_net_uv_cb)(void *ctx, int rc, util_net_resp *resp, const util_err *err);

/* A client on loop; opts as util_net_client_new (copied; NULL: defaults).
 * The client keeps the loop alive while requests run (and until libcurl's
 * last timer, if it leaves one, has fired). */
OL_MUST_CHECK int util_net_uv_new(util_net_uv **out, uv_loop_t *loop, const util_net_opts *opts,
                                  util_err *err);

/* Starts a POST of body (len bytes, copied; Content-Type and Accept:
 * application/json), or a GET when body is NULL, to url. headers: NULL or a
 * NULL-terminated list of extra "Name: value" lines (copied), for example an
 * endpoint's "Authorization: Bearer ...". timeout_ms bounds the whole request
 * (0: opts.timeout_ms). Returns 0 when the request started (cb will be
 * called, and *req, when req is not NULL, names it until then); otherwise
 * UTIL_EINVAL (bad URL), UTIL_ESTATE (client closing), UTIL_ENOMEM or
 * UTIL_EIO, and cb is never called. */
OL_MUST_CHECK int util_net_uv_post(util_net_uv *c, const char *url, const char *body, size_t len,
                                   const char *const *headers, int timeout_ms, util_net_uv_cb cb,
                                   void *ctx, util_net_uv_req **req, util_err *err);

/* Ends a running request: its callback runs now, with UTIL_ESTATE and
 * UTIL_NET_FAIL_CANCELLED. req must not have had its callback yet. */
void util_net_uv_cancel(util_net_uv_req *req);

/* Number of requests whose callback has not run yet. */
size_t util_net_uv_pending(const util_net_uv *c);

/* Cancels every running request (their callbacks run now), closes the
 * connections, and releases the client once libuv has closed its handles:
 * run the loop afterwards (uv_run returns when nothing else is active). c
 * must not be used after this call. NULL is allowed. */
void util_net_uv_close(util_net_uv *c);

#endif
