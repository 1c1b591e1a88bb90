/* Minimal blocking HTTP/1.1 client for JSON-RPC: one POST per connection
 * ("Connection: close"), response parsed with http-parser. Only http:// URLs;
 * there is no TLS. */
#ifndef OL_CLI_HTTP_CLIENT_H
#define OL_CLI_HTTP_CLIENT_H

#include <stddef.h>

#include "util/err.h"

#define CLI_HTTP_MAX_RESPONSE (64u * 1024 * 1024)
#define CLI_HTTP_CONNECT_TIMEOUT_MS 5000

typedef struct cli_url {
    char host[256]; /* without IPv6 brackets */
    char port[6];
    char path[1024];
    char hosthdr[270]; /* Host header value: host[:port], brackets kept */
} cli_url;

/* Parses "http://host[:port][/path]"; host may be "[v6addr]". Port defaults
 * to 80, path to "/". */
int cli_url_parse(cli_url *u, const char *url, util_err *err);

/* Opens a TCP connection to u's host and port (non-blocking socket), within
 * timeout_ms. Returns the fd, or -1 with err naming url. */
int cli_http_connect(const cli_url *u, const char *url, int timeout_ms, util_err *err);

/* POSTs body to url and returns the body of a 200 answer (malloc'd,
 * NUL-terminated, caller frees). timeout_ms bounds the whole exchange.
 * Errors name the URL: "cannot reach node at URL: Connection refused",
 * timeouts, answers other than 200, malformed or oversized answers. */
int cli_http_post(const char *url, const char *content_type, const char *body, size_t len,
                  int timeout_ms, char **resp, size_t *resp_len, util_err *err);

#endif
