/* The block explorer page, served from the binary with its security headers
 * (rpc/explorer/explorer.h). */
#include "rpc/explorer/explorer.h"

#include <stdlib.h>
#include <string.h>

int rpc_explorer_path(const char *path)
{
    return path && (strcmp(path, "/") == 0 || strcmp(path, "/explorer") == 0 ||
                    strcmp(path, "/explorer/") == 0);
}

int rpc_explorer_get(const char *path, int *status, const char **content_type, char **body,
                     size_t *len)
{
    if (!rpc_explorer_path(path)) return 1;
    *content_type = RPC_EXPLORER_CONTENT_TYPE;
    /* The route contract hands over a malloc'd body, so the page is copied
     * per request; it is a few tens of KiB and GET / is not a hot path. */
    *body = malloc(rpc_explorer_html_len ? rpc_explorer_html_len : 1);
    if (!*body) {
        *status = 500;
        *len = 0;
        return 0;
    }
    memcpy(*body, rpc_explorer_html, rpc_explorer_html_len);
    *len = rpc_explorer_html_len;
    *status = 200;
    return 0;
}
