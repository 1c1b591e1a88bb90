/* What is left of the CLI's own HTTP code: the URL parsing of the WebSocket
 * client (cli/ws_client.c), and a one-shot POST for programs without a
 * cli_ctx (bench/). JSON-RPC requests, and the WebSocket's connection, go
 * through util/net (libcurl). */
#ifndef OL_CLI_HTTP_CLIENT_H
#define OL_CLI_HTTP_CLIENT_H

#include <stddef.h>

#include "util/err.h"
#include "util/net.h"

#define CLI_HTTP_CONNECT_TIMEOUT_MS 5000

typedef struct cli_url {
    char host[256]; /* without IPv6 brackets */
    char port[6];
    char path[1024];
    char hosthdr[270]; /* Host header value: host[:port], brackets kept */
    int tls;           /* https:// (the WebSocket is wss://) */
} cli_url;

/* Parses "http[s]://host[:port][/path]" for the WebSocket client; host may be
 * "[v6addr]". Port defaults to 80 (443 for https://), path to "/". */
int cli_url_parse(cli_url *u, const char *url, util_err *err);

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

/* For an untrusted certificate (fail UTIL_NET_FAIL_CERT), appends to err
 * what the user can do: give --cacert, or (cacert set) that it is the wrong
 * CA. Other failures are left alone. */
void cli_cert_hint(const char *cacert, util_net_fail fail, util_err *err);

#endif
