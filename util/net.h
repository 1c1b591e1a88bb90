/* HTTP(S) client for JSON APIs, on libcurl: the CLI's JSON-RPC today, the
 * rollup's L1 client later.
 *
 * A util_net_client owns one libcurl easy handle and reuses it, so requests
 * to the same server share a kept-alive connection (and TLS session). It is
 * blocking and for one thread: use one client per thread.
 *
 * What every request gets:
 *   - http:// and https:// only (no other libcurl protocol, no redirects);
 *   - certificate and host name checks, against opts.ca_file when given, else
 *     the system's CAs. There is deliberately no switch to turn them off;
 *   - proxies from the environment, as libcurl reads them (http_proxy,
 *     https_proxy / HTTPS_PROXY, all_proxy, no_proxy), except that loopback
 *     hosts (localhost, 127.0.0.0/8, ::1) are never proxied: a local node must
 *     stay reachable when a desktop's proxy is set;
 *   - a connect timeout and a timeout on the whole request;
 *   - a cap on the answer's body (refused from Content-Length when announced,
 *     else as soon as it grows past the cap);
 *   - errors that say what went wrong, naming opts.peer_name and the URL:
 *     "cannot reach node at URL: Connection refused", "timed out waiting for
 *     the answer of node at URL", "TLS certificate of node at URL is not
 *     trusted: ...", "node at URL answered HTTP 503 Service Unavailable: ...".
 *     resp->fail classifies them for callers that retry or add hints.
 *
 * A libuv loop runs many requests at once through libcurl's multi interface
 * with util/net_uv.h (library util_net_uv), which takes the same
 * util_net_opts and reports the same errors: both set up and finish their
 * transfers with the code of util/net_xfer.h.
 *
 * util_net_stream is a raw byte connection for protocols libcurl does not
 * speak here (the CLI's WebSocket client: Debian 12's libcurl has no
 * WebSocket support): libcurl connects, through the proxy and TLS with the
 * same checks, then the caller sends and receives bytes. */
#ifndef OL_UTIL_NET_H
#define OL_UTIL_NET_H

#include <stddef.h>

#include "util/err.h"

#define UTIL_NET_MAX_RESPONSE_DEFAULT (64u * 1024 * 1024)
#define UTIL_NET_TIMEOUT_MS_DEFAULT 30000
#define UTIL_NET_CONNECT_TIMEOUT_MS_DEFAULT 5000

typedef struct util_net_opts {
    const char *ca_file;    /* PEM file of CAs to trust instead of the system's; NULL: system */
    int timeout_ms;         /* whole request; 0: UTIL_NET_TIMEOUT_MS_DEFAULT */
    int connect_timeout_ms; /* 0: UTIL_NET_CONNECT_TIMEOUT_MS_DEFAULT (never above timeout_ms) */
    size_t max_response;    /* body cap in bytes; 0: UTIL_NET_MAX_RESPONSE_DEFAULT */
    const char *user_agent; /* NULL: "openledger/VERSION" */
    const char *peer_name;  /* how messages call the server ("node"); NULL: "server" */
} util_net_opts;

/* What failed, for callers that react differently (retry, hint, give up). */
typedef enum util_net_fail {
    UTIL_NET_OK = 0,
    UTIL_NET_FAIL_URL,       /* not an http(s) URL, or malformed */
    UTIL_NET_FAIL_RESOLVE,   /* host name did not resolve */
    UTIL_NET_FAIL_CONNECT,   /* refused, unreachable, connect timeout; also via the proxy */
    UTIL_NET_FAIL_TIMEOUT,   /* connected, but no complete answer in time */
    UTIL_NET_FAIL_TLS,       /* TLS handshake failed or timed out (e.g. not a TLS server) */
    UTIL_NET_FAIL_CERT,      /* the certificate is not trusted (unknown CA, expired, ...) */
    UTIL_NET_FAIL_HOSTNAME,  /* the certificate is trusted but for another host name */
    UTIL_NET_FAIL_CA_FILE,   /* opts.ca_file cannot be used */
    UTIL_NET_FAIL_HTTP,      /* an answer whose status is not 2xx (status and body kept) */
    UTIL_NET_FAIL_TOO_BIG,   /* the body is larger than opts.max_response */
    UTIL_NET_FAIL_PROTOCOL,  /* malformed HTTP, or the connection ended mid-answer */
    UTIL_NET_FAIL_OTHER,     /* out of memory, libcurl internals */
    UTIL_NET_FAIL_CANCELLED, /* util/net_uv.h: cancelled, or the client closed, first */
} util_net_fail;

typedef struct util_net_resp {
    long status; /* HTTP status of the final answer; 0 when there was none */
    char *body;  /* NUL-terminated (not counted in len); NULL when there was no answer */
    size_t len;
    util_net_fail fail;
} util_net_resp;

typedef struct util_net_client util_net_client;

/* Copies opts (strings included); opts NULL means all defaults. Fails when
 * libcurl cannot start or opts.ca_file is not a readable file. */
OL_MUST_CHECK int util_net_client_new(util_net_client **out, const util_net_opts *opts,
                                      util_err *err);
/* Closes the kept-alive connection. NULL is allowed. */
void util_net_client_free(util_net_client *c);

/* POSTs body (Content-Type and Accept: application/json) to url. Returns 0
 * for a 2xx answer, with its body in resp. Otherwise UTIL_EINVAL (bad URL or
 * options), UTIL_ELIMIT (answer too big), UTIL_ENOMEM or UTIL_EIO (everything
 * else), err holding the message and resp->fail the kind; a non-2xx answer
 * keeps its status and body in resp. resp is always filled: release it with
 * util_net_resp_free whatever the result. */
OL_MUST_CHECK int util_net_post_json(util_net_client *c, const char *url, const char *body,
                                     size_t len, util_net_resp *resp, util_err *err);
/* GET, with Accept: application/json; otherwise as util_net_post_json. */
OL_MUST_CHECK int util_net_get(util_net_client *c, const char *url, util_net_resp *resp,
                               util_err *err);

void util_net_resp_free(util_net_resp *resp);

typedef struct util_net_stream util_net_stream;

/* Connects to url's server (http:// or https://; the path is not used) within
 * opts.timeout_ms, with the TLS handshake and certificate checks for
 * https://, through a proxy from the environment (a CONNECT tunnel) unless
 * the host is loopback. Errors are those of util_net_post_json, and *fail
 * (when fail is not NULL) their kind. */
OL_MUST_CHECK int util_net_stream_open(util_net_stream **out, const char *url,
                                       const util_net_opts *opts, util_net_fail *fail,
                                       util_err *err);
/* The socket, to poll for readability. Over TLS, data may already wait
 * decrypted inside the stream: call util_net_stream_recv until it gives 0
 * bytes before polling. */
int util_net_stream_fd(const util_net_stream *s);
/* Non-blocking: *n bytes were sent (0: the socket is full, poll for
 * writability). UTIL_EIO when the connection failed. */
OL_MUST_CHECK int util_net_stream_send(util_net_stream *s, const void *buf, size_t len, size_t *n,
                                       util_err *err);
/* Non-blocking: *n bytes were read (0: nothing yet). UTIL_EIO when the
 * connection ended ("closed the connection") or failed. */
OL_MUST_CHECK int util_net_stream_recv(util_net_stream *s, void *buf, size_t len, size_t *n,
                                       util_err *err);
/* Closes the connection. NULL is allowed. */
void util_net_stream_close(util_net_stream *s);

#endif
