/* The node's block explorer: one self-contained HTML page (rpc/explorer/index.html)
 * compiled into the rpc library, so the binary always serves the page it was
 * built with. The page talks to the node through same-origin JSON-RPC
 * (POST /) and WebSocket (/ws); see docs/rpc-protocol.md, "Explorer". */
#ifndef OL_RPC_EXPLORER_H
#define OL_RPC_EXPLORER_H

#include <stddef.h>
#include "util/err.h"

#define RPC_EXPLORER_CONTENT_TYPE "text/html; charset=utf-8"

/* The embedded page and its length in bytes (not counting a trailing NUL,
 * which is present so the page can be used as a C string). */
extern const unsigned char rpc_explorer_html[];
extern const size_t rpc_explorer_html_len;

/* Nonzero when path (without query string) is one the page is served at:
 * "/" and "/explorer" (also with a trailing slash). */
OL_MUST_CHECK int rpc_explorer_path(const char *path);

/* An rpc_http_get_fn-shaped route: for an explorer path fills 200, the
 * content type and a malloc'd copy of the page and returns 0 (*status 500
 * and a NULL body when out of memory); returns 1 for any other path. */
OL_MUST_CHECK int rpc_explorer_get(const char *path, int *status, const char **content_type,
                                   char **body, size_t *len);

#endif
