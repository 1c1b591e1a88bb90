/* HTTP(S) requests inside a libuv loop (util/net_uv.h): libcurl's multi
 * interface driven by curl_multi_socket_action, with one uv_poll_t per socket
 * libcurl asks to watch and one uv_timer_t for libcurl's timeouts (the
 * pattern of curl's docs/examples/multi-uv.c). Transfers are set up and
 * finished by util/net_xfer.h, as the blocking client's are. */
#include "util/net_uv.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "util/net_xfer.h"

/* One socket libcurl watches. */
typedef struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    util_net_uv *c;
    struct sock *prev, *next;
} sock;

struct util_net_uv_req {
    util_net_uv *c;
    util_net_xfer x;
    struct curl_slist *hdrs;
    char *url, *body;
    util_net_uv_cb cb;
    void *ctx;
    util_net_uv_req *prev, *next;
};

struct util_net_uv {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    util_net_cfg cfg;
    util_net_uv_req *reqs; /* running, callback not yet called */
    size_t nreqs;
    sock *socks; /* polls not yet closing */
    int closing;
    unsigned open_handles; /* timer and polls libuv has not finished closing */
};

static void release_if_done(util_net_uv *c)
{
    if (!c->closing || c->open_handles) return;
    util_net_cfg_free(&c->cfg);
    free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    util_net_uv *c;
    if (h->type == UV_POLL) {
        sock *s = h->data;
        c = s->c;
        free(s);
    } else {
        c = h->data;
    }
    c->open_handles--;
    release_if_done(c);
}

static void sock_close(sock *s)
{
    util_net_uv *c = s->c;
    if (s->prev)
        s->prev->next = s->next;
    else
        c->socks = s->next;
    if (s->next) s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

static void req_unlink(util_net_uv_req *r)
{
    util_net_uv *c = r->c;
    if (r->prev)
        r->prev->next = r->next;
    else
        c->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
    c->nreqs--;
}

static void req_free(util_net_uv_req *r)
{
    util_net_xfer_cleanup(&r->x);
    curl_slist_free_all(r->hdrs);
    free(r->url);
    free(r->body);
    free(r);
}

/* Hands the result to the callback and frees the request, which is already
 * out of the multi handle and the list. */
static void req_done(util_net_uv_req *r, int rc, util_net_resp *resp, const util_err *err)
{
    r->cb(r->ctx, rc, resp, err);
    util_net_resp_free(resp);
    req_free(r);
}

/* Delivers every finished transfer. Stops when a callback closed the
 * client: the multi handle is gone then. */
static void check_done(util_net_uv *c)
{
    CURLMsg *m;
    int left;
    while (!c->closing && (m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *h = m->easy_handle;
        CURLcode cc = m->data.result;
        util_net_xfer *x = NULL;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
        util_net_uv_req *r = (util_net_uv_req *)((char *)x - offsetof(util_net_uv_req, x));
        curl_multi_remove_handle(c->multi, h);
        req_unlink(r);
        util_net_resp resp = {0};
        util_err err = {0};
        int rc = util_net_xfer_finish(&r->x, r->url, cc, &resp, &err);
        req_done(r, rc, &resp, &err);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    sock *s = p->data;
    util_net_uv *c = s->c;
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    check_done(c);
}

static void on_timer(uv_timer_t *t)
{
    util_net_uv *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

/* CURLMOPT_TIMERFUNCTION: libcurl wants to be called after ms (-1: never). */
static int timer_cb(CURLM *multi, long ms, void *ud)
{
    util_net_uv *c = ud;
    if (ms < 0) {
        uv_timer_stop(&c->timer);
        return 0;
    }
    /* 0 means "now"; not from inside this callback: on the next turn. */
    return uv_timer_start(&c->timer, on_timer, ms > 0 ? (uint64_t)ms : 1, 0) == 0 ? 0 : -1;
}

/* CURLMOPT_SOCKETFUNCTION: what libcurl wants to know about socket fd. */
static int socket_cb(CURL *h, curl_socket_t fd, int what, void *ud, void *sockp)
{
    util_net_uv *c = ud;
    sock *s = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(c->multi, fd, NULL);
            sock_close(s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return -1;
        if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->c = c;
        s->poll.data = s;
        c->open_handles++;
        /* The loop runs while libcurl has a timeout set, which it has for
         * every running transfer (its time limit); a socket it still
         * watches once idle must not keep the loop alive. */
        uv_unref((uv_handle_t *)&s->poll);
        s->next = c->socks;
        if (c->socks) c->socks->prev = s;
        c->socks = s;
        curl_multi_assign(c->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    return uv_poll_start(&s->poll, events, on_poll) == 0 ? 0 : -1;
}

int util_net_uv_new(util_net_uv **out, uv_loop_t *loop, const util_net_opts *opts, util_err *err)
{
    *out = NULL;
    util_net_uv *c = calloc(1, sizeof *c);
    if (!c) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = util_net_cfg_init(&c->cfg, opts, err);
    if (rc) {
        free(c);
        return rc;
    }
    c->loop = loop;
    c->multi = curl_multi_init();
    if (!c->multi) {
        util_net_cfg_free(&c->cfg);
        free(c);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    CURLMcode mc = curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    if (mc == CURLM_OK) mc = curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    if (mc == CURLM_OK) mc = curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    if (mc == CURLM_OK) mc = curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    if (mc != CURLM_OK || uv_timer_init(loop, &c->timer) != 0) {
        curl_multi_cleanup(c->multi);
        util_net_cfg_free(&c->cfg);
        free(c);
        return util_err_set(err, UTIL_EIO, "cannot set up the multi interface: %s",
                            curl_multi_strerror(mc));
    }
    c->timer.data = c;
    c->open_handles = 1;
    *out = c;
    return 0;
}

int util_net_uv_post(util_net_uv *c, const char *url, const char *body, size_t len,
                     const char *const *headers, int timeout_ms, util_net_uv_cb cb, void *ctx,
                     util_net_uv_req **req, util_err *err)
{
    if (req) *req = NULL;
    if (c->closing) return util_err_set(err, UTIL_ESTATE, "the HTTP client is closing");
    util_net_uv_req *r = calloc(1, sizeof *r);
    if (!r) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    r->c = c;
    r->cb = cb;
    r->ctx = ctx;
    int rc = util_net_xfer_init(&r->x, &c->cfg, err);
    if (rc) {
        free(r);
        return rc;
    }
    r->url = strdup(url);
    r->hdrs = util_net_json_headers(body != NULL, headers);
    if (body) {
        /* One byte more so that an empty body is not a NULL pointer. */
        r->body = malloc(len + 1);
        if (r->body) memcpy(r->body, body, len);
    }
    if (!r->url || !r->hdrs || (body && !r->body)) {
        req_free(r);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    if ((rc = util_net_xfer_prepare(&r->x, url, r->body, len, r->hdrs, err))) {
        req_free(r);
        return rc;
    }
    if (timeout_ms > 0) {
        long t = timeout_ms, ct = c->cfg.connect_timeout_ms < t ? c->cfg.connect_timeout_ms : t;
        if (curl_easy_setopt(r->x.h, CURLOPT_TIMEOUT_MS, t) != CURLE_OK ||
            curl_easy_setopt(r->x.h, CURLOPT_CONNECTTIMEOUT_MS, ct) != CURLE_OK) {
            req_free(r);
            return util_err_set(err, UTIL_EIO, "libcurl refused the timeout");
        }
    }
    CURLMcode mc = curl_multi_add_handle(c->multi, r->x.h);
    if (mc != CURLM_OK) {
        req_free(r);
        return util_err_set(err, mc == CURLM_OUT_OF_MEMORY ? UTIL_ENOMEM : UTIL_EIO,
                            "cannot start the request to %s: %s", url, curl_multi_strerror(mc));
    }
    r->next = c->reqs;
    if (c->reqs) c->reqs->prev = r;
    c->reqs = r;
    c->nreqs++;
    if (req) *req = r;
    return 0;
}

static void cancel(util_net_uv_req *r)
{
    util_net_uv *c = r->c;
    curl_multi_remove_handle(c->multi, r->x.h);
    req_unlink(r);
    util_net_resp resp = {.fail = UTIL_NET_FAIL_CANCELLED};
    util_err err = {0};
    util_err_set(&err, UTIL_ESTATE, "request to %s at %s cancelled", c->cfg.peer, r->url);
    req_done(r, UTIL_ESTATE, &resp, &err);
}

void util_net_uv_cancel(util_net_uv_req *r)
{
    cancel(r);
}

size_t util_net_uv_pending(const util_net_uv *c)
{
    return c->nreqs;
}

void util_net_uv_close(util_net_uv *c)
{
    if (!c || c->closing) return;
    /* Callbacks of cancelled requests may post: they are refused from now. */
    c->closing = 1;
    while (c->reqs)
        cancel(c->reqs);
    /* libcurl must not call back into handles that are closing. */
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, NULL);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, NULL);
    while (c->socks)
        sock_close(c->socks);
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}
