/* What is left of the CLI's own HTTP code: the URL parsing and TCP connect
 * of the WebSocket client (cli/ws_client.c, http:// URLs only, no TLS), and a
 * one-shot POST for programs without a cli_ctx (bench/). JSON-RPC requests go
 * through util/net (libcurl), which also speaks https://. */
#ifndef OL_CLI_HTTP_CLIENT_H
#define OL_CLI_HTTP_CLIENT_H

#include <stddef.h>

#include "util/err.h"

#define CLI_HTTP_CONNECT_TIMEOUT_MS 5000

typedef struct cli_url {
    char host[256]; /* without IPv6 brackets */
    char port[6];
    char path[1024];
    char hosthdr[270]; /* Host header value: host[:port], brackets kept */
} cli_url;

/* Parses "http://host[:port][/path]" for the WebSocket client; host may be
 * "[v6addr]". Port defaults to 80, path to "/". https:// is refused: there is
 * no WebSocket over TLS. */
int cli_url_parse(cli_url *u, const char *url, util_err *err);

/* Opens a TCP connection to u's host and port (non-blocking socket), within
 * timeout_ms. Returns the fd, or -1 with err naming url. */
int cli_http_connect(const cli_url *u, const char *url, int timeout_ms, util_err *err);

/* POSTs body to url (http:// or https://, system CAs) on a connection of its
 * own, through util/net, and returns the body of a 2xx answer (malloc'd,
 * NUL-terminated, caller frees). timeout_ms bounds the whole exchange. Errors
 * name the URL: "cannot reach node at URL: Connection refused", timeouts,
 * other statuses, TLS failures, malformed answers, answers over
 * UTIL_NET_MAX_RESPONSE_DEFAULT (UTIL_ELIMIT). content_type is ignored:
 * util/net sends application/json. */
OL_MUST_CHECK int cli_http_post(const char *url, const char *content_type, const char *body,
                                size_t len, int timeout_ms, char **resp, size_t *resp_len,
                                util_err *err);

#endif
