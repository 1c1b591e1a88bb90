/* openledgerd --rpc-threads N: HTTP JSON-RPC served by N loops.
 *
 * The main loop keeps everything it had (block timer, signals, WebSocket
 * sessions and their subscriptions). N-1 worker threads each run a loop with
 * their own rpc_http server on the same address (SO_REUSEPORT: the kernel
 * spreads new connections over the listeners). Node state is shared, so
 * n->lock (recursive) is held around every method call (the dispatch table
 * takes it: rpc_dispatch_set_lock), the GET routes, WebSocket sessions and
 * block production. Sockets, HTTP parsing, JSON parsing of requests and
 * writing of replies run outside it, on every loop at once; that is the
 * parallelism.
 *
 * Subscriptions write to sessions' libuv handles from the main loop, so a
 * WebSocket upgrade that reaches a worker is answered there (101) and then
 * the socket, with any bytes read after the request, is queued for the main
 * loop, which adopts it (rpc_http_adopt_ws). --rpc-max-conns is per loop;
 * the per-address limits (connections, rate) hold across loops: every server
 * shares the node's address table (rpc_http_cfg.addrtab). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_internal.h"
#include "rpc/transport/http.h"
#include "util/log.h"

typedef struct ho_item {
    struct ho_item *next;
    int fd, admin;
    uint8_t *buf;
    size_t len;
} ho_item;

typedef struct rpc_worker {
    node *n;
    uv_loop_t loop;
    uv_async_t stop;
    rpc_http *http;
    uv_thread_t thread;
    int loop_inited, running;
} rpc_worker;

struct node_rpc_workers {
    size_t count;
    rpc_worker *w;
    uv_mutex_t qmu; /* guards q */
    ho_item *q, *qtail;
};

/* Critical sections are a few microseconds: spinning a little before
 * sleeping on the futex saves the two context switches a sleep costs. */
#define LOCK_SPINS 200

void node_lock(node *n)
{
    if (!n->multi_loop) return;
    for (int i = 0; i < LOCK_SPINS; i++) {
        if (uv_mutex_trylock(&n->lock) == 0) {
            n->lock_depth++;
            return;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    uv_mutex_lock(&n->lock);
    n->lock_depth++;
}

void node_unlock(node *n)
{
    if (!n->multi_loop) return;
    n->lock_depth--;
    uv_mutex_unlock(&n->lock);
}

unsigned node_unlock_all(node *n)
{
    if (!n->multi_loop) return 0;
    /* Only the holder writes lock_depth, so the holder may read it. */
    unsigned depth = n->lock_depth;
    for (unsigned i = 0; i < depth; i++)
        node_unlock(n);
    return depth;
}

void node_relock(node *n, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        node_lock(n);
}

static void lock_cb(void *ctx)
{
    node_lock(ctx);
}

static void unlock_cb(void *ctx)
{
    node_unlock(ctx);
}

static void close_queue(node_rpc_workers *ws)
{
    uv_mutex_lock(&ws->qmu);
    ho_item *it = ws->q;
    ws->q = ws->qtail = NULL;
    uv_mutex_unlock(&ws->qmu);
    while (it) {
        ho_item *next = it->next;
        close(it->fd);
        free(it->buf);
        free(it);
        it = next;
    }
}

/* Main loop: adopt the WebSocket connections the workers handed over. */
static void on_wake(uv_async_t *a)
{
    node *n = a->data;
    node_rpc_workers *ws = n->workers;
    uv_mutex_lock(&ws->qmu);
    ho_item *it = ws->q;
    ws->q = ws->qtail = NULL;
    uv_mutex_unlock(&ws->qmu);
    while (it) {
        ho_item *next = it->next;
        if (!n->http || rpc_http_adopt_ws(n->http, it->fd, it->admin, it->buf, it->len) != 0) {
            if (!n->http) close(it->fd);
            LOG_DEBUG("rpc", "WebSocket handover refused");
        }
        free(it->buf);
        free(it);
        it = next;
    }
}

/* Worker loop: a WebSocket upgrade goes to the main loop. */
static void on_handoff(void *ctx, int fd, int admin, uint8_t *buf, size_t len)
{
    node *n = ctx;
    node_rpc_workers *ws = n->workers;
    ho_item *it = malloc(sizeof *it);
    if (!it) {
        close(fd);
        free(buf);
        return;
    }
    *it = (ho_item){.fd = fd, .admin = admin, .buf = buf, .len = len};
    uv_mutex_lock(&ws->qmu);
    if (ws->qtail)
        ws->qtail->next = it;
    else
        ws->q = it;
    ws->qtail = it;
    uv_mutex_unlock(&ws->qmu);
    uv_async_send(&n->rpc_wake);
    LOG_DEBUG("rpc", "WebSocket connection handed to the main loop (%zu bytes read ahead)", len);
}

static int worker_get(void *ctx, const char *path, int *status, const char **ctype, char **body,
                      size_t *len)
{
    rpc_worker *w = ctx;
    return node_http_get_srv(w->n, w->http, path, status, ctype, body, len);
}

static void on_stop(uv_async_t *a)
{
    rpc_worker *w = a->data;
    rpc_http_stop(w->http);
    w->http = NULL;
    uv_close((uv_handle_t *)a, NULL);
}

static void worker_main(void *arg)
{
    rpc_worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

int node_rpc_workers_prepare(node *n, rpc_http_cfg *cfg, util_err *err)
{
    node_rpc_workers *ws = calloc(1, sizeof *ws);
    if (!ws) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    if (uv_mutex_init(&ws->qmu) != 0) {
        free(ws);
        return util_err_set(err, UTIL_ENOMEM, "rpc threads: mutex");
    }
    if (uv_mutex_init_recursive(&n->lock) != 0) {
        uv_mutex_destroy(&ws->qmu);
        free(ws);
        return util_err_set(err, UTIL_ENOMEM, "rpc threads: mutex");
    }
    n->workers = ws;
    n->multi_loop = 1;
    uv_async_init(&n->loop, &n->rpc_wake, on_wake);
    n->rpc_wake.data = n;
    cfg->reuseport = 1;
    cfg->lock = lock_cb;
    cfg->unlock = unlock_cb;
    cfg->lock_ctx = n;
    rpc_dispatch_set_lock(n->dispatch, lock_cb, unlock_cb, n);
    return 0;
}

int node_rpc_workers_start(node *n, const rpc_http_cfg *base, util_err *err)
{
    node_rpc_workers *ws = n->workers;
    size_t count = n->cfg.rpc_threads - 1;
    ws->w = calloc(count, sizeof *ws->w);
    if (!ws->w) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    ws->count = count;
    rpc_http_cfg cfg = *base;
    cfg.port = rpc_http_port(n->http); /* the main server's, also when it was ephemeral */
    cfg.ws_handoff = on_handoff;
    cfg.handoff_ctx = n;
    for (size_t i = 0; i < count; i++) {
        rpc_worker *w = &ws->w[i];
        w->n = n;
        if (uv_loop_init(&w->loop) != 0)
            return util_err_set(err, UTIL_EIO, "rpc threads: loop init failed");
        w->loop_inited = 1;
        uv_async_init(&w->loop, &w->stop, on_stop);
        w->stop.data = w;
        int rc = rpc_http_start(&w->http, &w->loop, &cfg, n->dispatch, worker_get, w, err);
        if (rc) return rc;
        if (uv_thread_create(&w->thread, worker_main, w) != 0)
            return util_err_set(err, UTIL_EIO, "rpc threads: cannot start a thread");
        w->running = 1;
    }
    LOG_INFO("node", "JSON-RPC served by %u loops", n->cfg.rpc_threads);
    return 0;
}

void node_rpc_workers_stop(node *n)
{
    node_rpc_workers *ws = n->workers;
    if (!ws) return;
    for (size_t i = 0; i < ws->count; i++) {
        rpc_worker *w = &ws->w[i];
        if (!w->loop_inited) continue;
        if (w->running) {
            uv_async_send(&w->stop);
            uv_thread_join(&w->thread);
            w->running = 0;
        } else {
            /* Never ran: release its handles here. */
            on_stop(&w->stop);
            uv_run(&w->loop, UV_RUN_DEFAULT);
        }
        if (uv_loop_close(&w->loop) != 0) LOG_WARN("node", "an RPC loop had handles left");
        w->loop_inited = 0;
    }
    close_queue(ws);
}

void node_rpc_workers_free(node *n)
{
    node_rpc_workers *ws = n->workers;
    if (!ws) return;
    close_queue(ws);
    free(ws->w);
    uv_mutex_destroy(&ws->qmu);
    uv_mutex_destroy(&n->lock);
    free(ws);
    n->workers = NULL;
    n->multi_loop = 0;
}
