/* The RPC server itself: the listener, accepting and refusing connections
 * (max_conns, the per-address limit), adopting WebSocket connections from
 * other loops, start, stop and counters. Connections are driven by http.c. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/transport/http_conn.h"
#include "rpc/transport/listen.h"
#include "util/log.h"

#define BUSY_BODY                                                                                  \
    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32002,\"message\":\"too many connections\"},"       \
    "\"id\":null}"
_Static_assert(sizeof(BUSY_BODY) - 1 == 84, "update the Content-Length below");
static const char http_busy_reply[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                      "Content-Type: application/json\r\n"
                                      "Content-Length: 84\r\n"
                                      "Connection: close\r\n\r\n" BUSY_BODY;

/* The GET routes read node state (/health, /metrics), so with a lock they
 * run under it. */
static int locked_get(void *ctx, const char *path, int *status, const char **ctype, char **body,
                      size_t *len)
{
    rpc_http *s = ctx;
    http_lk(s);
    int rc = s->get(s->get_ctx, path, status, ctype, body, len);
    http_unlk(s);
    return rc;
}

void http_srv_maybe_free(rpc_http *s)
{
    if (s->stopping && !s->listener_open && s->nalloc == 0) {
        free(s->cors);
        free(s->token);
        free(s->rbuf);
        rpc_addrtab_unref(s->tab);
        free(s);
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    rpc_http *s = h->data;
    s->listener_open = 0;
    http_srv_maybe_free(s);
}

static void reject_closed(uv_handle_t *h)
{
    free(h);
}

/* Counts c against its client address; the rate limit is charged to it.
 * Returns UTIL_ELIMIT when the address holds its share of connections. */
static int count_peer(conn *c, int force)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    rpc_addr_key k;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0 ||
        rpc_addr_key_from((struct sockaddr *)&ss, &k) != 0)
        return 0; /* not an IP peer: only max_conns applies */
    if (rpc_addrtab_conn_open(c->srv->tab, &k, force) != 0) return UTIL_ELIMIT;
    c->counted = 1;
    c->proto.rate.tab = c->srv->tab;
    c->proto.rate.key = k;
    return 0;
}

/* A connection over a cap: answered 503 and closed the graceful way
 * (shutdown, linger), so the answer is not destroyed by a reset when the
 * client's request is still unread. At most RPC_HTTP_REFUSING_MAX at once;
 * past that the 503 goes out only if the socket takes it at once. */
static void refuse_conn(conn *c)
{
    rpc_http *s = c->srv;
    s->conns_refused++;
    if (s->nrefusing >= RPC_HTTP_REFUSING_MAX) {
        uv_buf_t b = uv_buf_init((char *)http_busy_reply, sizeof http_busy_reply - 1);
        uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        http_conn_close(c);
        return;
    }
    c->refusing = 1;
    s->nrefusing++;
    if (http_conn_emit(c, http_busy_reply, sizeof http_busy_reply - 1, NULL, 0)) {
        /* Closed (tested next) or past the high-water mark, which matters only
         * to a connection that goes on reading: this one is finished. */
    }
    if (!c->closing) http_conn_finish(c);
}

int rpc_http_adopt_ws(rpc_http *s, int fd, int admin, const uint8_t *buf, size_t len)
{
    if (s->stopping || s->nalloc - s->nrefusing >= s->max_conns) {
        if (!s->stopping) s->conns_refused++;
        close(fd);
        return UTIL_EIO;
    }
    char *in = len ? malloc(len) : NULL;
    conn *c = len && !in ? NULL : http_conn_new(s);
    if (!c) {
        free(in);
        close(fd);
        return UTIL_ENOMEM;
    }
    if (uv_tcp_open(&c->tcp, fd) != 0) {
        free(in);
        close(fd);
        http_conn_close(c);
        return UTIL_EIO;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    count_peer(c, 1);
    if (len) memcpy(in, buf, len);
    c->in = in;
    c->in_len = len;
    c->proto.upgraded = 1;
    c->proto.ws_admin = admin;
    http_conn_ws_start(c);
    return 0;
}

static void on_connection(uv_stream_t *server, int status)
{
    rpc_http *s = server->data;
    if (status < 0) {
        LOG_WARN("rpc", "accept failed: %s", uv_strerror(status));
        return;
    }
    if (s->nalloc - s->nrefusing >= s->max_conns && s->nrefusing >= RPC_HTTP_REFUSING_MAX) {
        s->conns_refused++;
        /* Accept so the backlog drains, answer 503 if the socket takes it
         * at once, and close. */
        uv_tcp_t *t = malloc(sizeof *t);
        if (!t || uv_tcp_init(s->loop, t) != 0) {
            free(t);
            return;
        }
        if (uv_accept(server, (uv_stream_t *)t) == 0) {
            uv_buf_t b = uv_buf_init((char *)http_busy_reply, sizeof http_busy_reply - 1);
            uv_try_write((uv_stream_t *)t, &b, 1);
        }
        uv_close((uv_handle_t *)t, reject_closed);
        return;
    }
    conn *c = http_conn_new(s);
    if (!c) return;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        http_conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, http_conn_on_timer, s->header_ms, 0);
    if (s->nalloc - 1 - s->nrefusing >= s->max_conns || count_peer(c, 0) != 0) {
        refuse_conn(c);
        return;
    }
    http_conn_start_reading(c);
}

int rpc_http_start(rpc_http **out, uv_loop_t *loop, const rpc_http_cfg *cfg, rpc_dispatch *d,
                   rpc_http_get_fn get, void *get_ctx, util_err *err)
{
    *out = NULL;
    if (!cfg || !d || !loop) return util_err_set(err, UTIL_EINVAL, "rpc: missing argument");
    if (cfg->port < 0 || cfg->port > 65535)
        return util_err_set(err, UTIL_EINVAL, "rpc: bad port %d", cfg->port);
    if (cfg->max_conns < 0 || cfg->max_conns_per_ip < 0)
        return util_err_set(err, UTIL_EINVAL, "rpc: bad max_conns %d / max_conns_per_ip %d",
                            cfg->max_conns, cfg->max_conns_per_ip);
    rpc_http *s = calloc(1, sizeof *s);
    if (!s) return util_err_set(err, UTIL_ENOMEM, "rpc: out of memory");
    if ((cfg->cors_origin && !(s->cors = strdup(cfg->cors_origin))) ||
        (cfg->auth_token && !(s->token = strdup(cfg->auth_token)))) {
        free(s->cors);
        free(s);
        return util_err_set(err, UTIL_ENOMEM, "rpc: out of memory");
    }
    rpc_http_cfg c = *cfg;
    c.cors_origin = s->cors;
    c.auth_token = s->token;
    int locked = cfg->lock && cfg->unlock && get;
    s->get = get;
    s->get_ctx = get_ctx;
    int rc = http_routes_init(&s->routes, &c, d, locked ? locked_get : get, locked ? s : get_ctx,
                              &s->counters, err);
    int fd = -1;
    if (rc == 0)
        rc = rpc_listen_open(cfg->host ? cfg->host : "127.0.0.1", cfg->port, cfg->reuseport, &fd,
                             err);
    if (rc != 0) {
        free(s->cors);
        free(s->token);
        free(s);
        return rc;
    }
    s->loop = loop;
    s->lock = cfg->lock && cfg->unlock ? cfg->lock : NULL;
    s->unlock = s->lock ? cfg->unlock : NULL;
    s->lock_ctx = cfg->lock_ctx;
    s->handoff = cfg->ws_handoff;
    s->handoff_ctx = cfg->handoff_ctx;
    s->rbuf = malloc(READ_CHUNK); /* NULL: every read allocates */
    s->max_conns = cfg->max_conns ? (size_t)cfg->max_conns : RPC_HTTP_DEFAULT_MAX_CONNS;
    if (cfg->addrtab) {
        s->tab = cfg->addrtab;
        rpc_addrtab_ref(s->tab);
    } else {
        s->tab = rpc_addrtab_new(s->max_conns, cfg->max_conns_per_ip
                                                   ? (unsigned)cfg->max_conns_per_ip
                                                   : RPC_HTTP_DEFAULT_MAX_CONNS_PER_IP);
    }
    if (!s->tab) {
        close(fd);
        free(s->cors);
        free(s->token);
        free(s->rbuf);
        free(s);
        return util_err_set(err, UTIL_ENOMEM, "rpc: out of memory");
    }
    s->header_ms =
        cfg->header_timeout_ms ? cfg->header_timeout_ms : RPC_HTTP_DEFAULT_HEADER_TIMEOUT_MS;
    s->idle_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms : RPC_HTTP_DEFAULT_IDLE_TIMEOUT_MS;

    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->listener_open = 1;
    int uvrc = uv_tcp_open(&s->listener, fd);
    if (uvrc == 0) uvrc = uv_listen((uv_stream_t *)&s->listener, RPC_LISTEN_BACKLOG, on_connection);
    if (uvrc != 0) {
        /* The handle exists now: it is released by its close callback when
         * the loop next runs. */
        if (uv_fileno((uv_handle_t *)&s->listener, &(uv_os_fd_t){0}) != 0) close(fd);
        s->stopping = 1;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return util_err_set(err, UTIL_EIO, "rpc: listen: %s", uv_strerror(uvrc));
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) == 0)
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    /* A peer that resets the connection while a response is written would
     * otherwise kill the process with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    *out = s;
    return 0;
}

int rpc_http_port(const rpc_http *s)
{
    return s->port;
}

size_t rpc_http_conn_count(const rpc_http *s)
{
    return s->nlive;
}

void rpc_http_get_stats(const rpc_http *s, rpc_http_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!s) return;
    st->conns = s->nlive;
    st->ws_sessions = s->counters.ws_sessions;
    st->rate_limited = s->counters.rate_limited;
    st->ws_slow_consumers = s->counters.ws_slow_consumers;
    st->conns_refused = s->conns_refused;
}

void rpc_http_stop(rpc_http *s)
{
    if (!s || s->stopping) return;
    s->stopping = 1;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    while (s->conns)
        http_conn_close(s->conns);
    http_srv_maybe_free(s);
}
