/* Inside util/net: one libcurl transfer, set up and finished the same way by
 * the blocking client (util/net.c), the libuv client (util/net_uv.c) and the
 * raw streams of util_net_stream. Not for users of util/net: its types are
 * libcurl's. */
#ifndef OL_UTIL_NET_XFER_H
#define OL_UTIL_NET_XFER_H

#include <stddef.h>

#include <curl/curl.h>

#include "util/err.h"
#include "util/net.h"

/* util_net_opts with the defaults applied and the strings owned. */
typedef struct util_net_cfg {
    char *ca_file, *peer, *user_agent;
    size_t max_response;
    int timeout_ms, connect_timeout_ms;
} util_net_cfg;

typedef struct util_net_xfer {
    CURL *h;
    const util_net_cfg *cfg;
    char errbuf[CURL_ERROR_SIZE];
    char *body;
    size_t len, cap;
    int too_big, oom;
    char reason[64]; /* reason phrase of the last status line */
    int https, loopback;
} util_net_xfer;

/* Applies the defaults, copies the strings, checks the CA file and starts
 * libcurl once per process. */
OL_MUST_CHECK int util_net_cfg_init(util_net_cfg *cfg, const util_net_opts *opts, util_err *err);
void util_net_cfg_free(util_net_cfg *cfg);

/* A new easy handle with every option that does not depend on the request;
 * cfg must outlive x. */
OL_MUST_CHECK int util_net_xfer_init(util_net_xfer *x, const util_net_cfg *cfg, util_err *err);
void util_net_xfer_cleanup(util_net_xfer *x);

/* Sets up one request: a POST of body when body is non-NULL, else a GET;
 * headers is the whole header list (kept by the caller until the end). */
OL_MUST_CHECK int util_net_xfer_prepare(util_net_xfer *x, const char *url, const char *body,
                                        size_t len, struct curl_slist *headers, util_err *err);

/* Turns the transfer's result into resp, err and a return code, as
 * util_net_post_json documents. resp must start zeroed. */
OL_MUST_CHECK int util_net_xfer_finish(util_net_xfer *x, const char *url, CURLcode cc,
                                       util_net_resp *resp, util_err *err);

/* The header list of a JSON POST (or GET when post is 0), then extra (NULL
 * or NULL-terminated "Name: value" strings). NULL when out of memory. */
struct curl_slist *util_net_json_headers(int post, const char *const *extra);

#endif
