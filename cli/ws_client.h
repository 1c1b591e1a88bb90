/* Blocking WebSocket client for `openledger-cli watch`: libcurl makes the
 * connection (util_net_stream: TCP for ws://, TLS with certificate checks
 * for wss://, proxies from the environment), the handshake is written here
 * and parsed with http-parser, frames by wslay (client side, masked). One
 * connection, text messages only. */
#ifndef OL_CLI_WS_CLIENT_H
#define OL_CLI_WS_CLIENT_H

#include <stddef.h>

#include "util/err.h"

#define CLI_WS_MAX_MESSAGE (16u * 1024 * 1024)

typedef struct cli_ws cli_ws;

/* Connects to the node's /ws endpoint derived from an http:// or https://
 * RPC URL ("http://h:p" -> ws://h:p/ws; "https://h:p/x" -> wss://h:p/x/ws).
 * ca_file: as --cacert (NULL: the system's CAs). */
OL_MUST_CHECK int cli_ws_connect(cli_ws **out, const char *rpc_url, const char *ca_file,
                                 int timeout_ms, util_err *err);
OL_MUST_CHECK int cli_ws_send_text(cli_ws *w, const char *text, size_t len, util_err *err);
/* Next text message (malloc'd, NUL-terminated). timeout_ms < 0 waits
 * forever. UTIL_ESTATE on timeout; UTIL_EIO when the connection ended, with
 * the close code and reason in err. */
OL_MUST_CHECK int cli_ws_recv_text(cli_ws *w, int timeout_ms, char **msg, size_t *len,
                                   util_err *err);
void cli_ws_close(cli_ws *w);

#endif
