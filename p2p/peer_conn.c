/* One peer connection of the transport (p2p/net.h): its socket, its
 * encrypted session, the handshake timeout and ping ticker, the bounded send
 * queue, and the read loop that feeds the session and dispatches messages.
 * What a message means is decided in net.c or by the user's handler. */
#include <stdlib.h>
#include <string.h>

#include "p2p/net_int.h"
#include "util/log.h"

typedef struct p2p_wreq {
    uv_write_t req;
    p2p_peer *p;
    uint8_t *data;
    size_t len;
} p2p_wreq;

p2p_peer *p2p_conn_new(p2p_net *n, int outbound)
{
    p2p_peer *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->net = n;
    p->outbound = outbound;
    p->persistent = -1;
    p->state = P2P_CONN_CONNECTING;
    uv_tcp_init(n->loop, &p->tcp);
    uv_timer_init(n->loop, &p->timer);
    p->tcp.data = p->timer.data = p->connect.data = p->gai.data = p;
    p->handles_open = 2;
    n->handles += 2;
    p->prev = n->tail;
    if (n->tail)
        n->tail->next = p;
    else
        n->head = p;
    n->tail = p;
    if (outbound)
        n->n_out++;
    else
        n->n_in++;
    return p;
}

static void conn_free(p2p_peer *p)
{
    p2p_net *n = p->net;
    if (p->prev)
        p->prev->next = p->next;
    else
        n->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        n->tail = p->prev;
    p2p_session_free(p->s);
    free(p);
    p2p_net_maybe_stopped(n);
}

void p2p_conn_handle_closed(uv_handle_t *h)
{
    p2p_peer *p = h->data;
    p->net->handles--;
    if (--p->handles_open == 0 && !p->resolving) conn_free(p);
}

void p2p_conn_close(p2p_peer *p, const char *reason)
{
    if (p->state == P2P_CONN_CLOSED) return;
    p2p_net *n = p->net;
    int was_open = p->state == P2P_CONN_OPEN;
    p->state = P2P_CONN_CLOSED;
    if (p->outbound)
        n->n_out--;
    else
        n->n_in--;
    if (was_open) {
        if (p->outbound)
            n->stats.peers_out--;
        else
            n->stats.peers_in--;
        char hex[2 * P2P_NODE_ID_LEN + 1];
        p2p_node_id_hex(p->info.id, hex);
        LOG_INFO("p2p", "peer %s (%s, %s) disconnected: %s", hex, p->addr,
                 p->outbound ? "outbound" : "inbound", reason);
    } else {
        LOG_DEBUG("p2p", "connection %s (%s) closed before it opened: %s", p->addr,
                  p->outbound ? "outbound" : "inbound", reason);
    }
    if (p->up) {
        p->up = 0;
        if (n->cfg.handler.peer_down) n->cfg.handler.peer_down(n->cfg.handler.ctx, p);
    }
    if (p->resolving) uv_cancel((uv_req_t *)&p->gai);
    uv_read_stop((uv_stream_t *)&p->tcp);
    uv_close((uv_handle_t *)&p->timer, p2p_conn_handle_closed);
    uv_close((uv_handle_t *)&p->tcp, p2p_conn_handle_closed);
    p2p_net_on_closed(p, was_open);
}

static void on_write(uv_write_t *req, int status)
{
    p2p_wreq *w = (p2p_wreq *)req;
    p2p_peer *p = w->p;
    p->queued -= w->len;
    free(w->data);
    free(w);
    if (status < 0 && p->state != P2P_CONN_CLOSED) p2p_conn_close(p, uv_strerror(status));
}

/* Queues bytes already framed; takes data (malloc'd). */
static int conn_write(p2p_peer *p, uint8_t *data, size_t len, util_err *err)
{
    p2p_net *n = p->net;
    if (p->queued + len > n->cfg.send_queue_max) {
        free(data);
        n->stats.dropped_slow++;
        LOG_WARN("p2p", "dropping slow peer %s: %zu bytes queued, limit %zu", p->addr,
                 p->queued + len, n->cfg.send_queue_max);
        p2p_conn_close(p, "slow peer");
        return util_err_set(err, UTIL_ELIMIT, "slow peer: send queue full");
    }
    p2p_wreq *w = malloc(sizeof *w);
    if (!w) {
        free(data);
        p2p_conn_close(p, "out of memory");
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    w->p = p;
    w->data = data;
    w->len = len;
    w->req.data = w;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&p->tcp, &b, 1, on_write);
    if (rc != 0) {
        free(data);
        free(w);
        p2p_conn_close(p, uv_strerror(rc));
        return util_err_set(err, UTIL_EIO, "write: %s", uv_strerror(rc));
    }
    p->queued += len;
    p->bytes_out += len;
    n->stats.bytes_out += len;
    return 0;
}

static int conn_write_buf(p2p_peer *p, util_buf *b, util_err *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (util_buf_take(b, &data, &len) != 0) {
        p2p_conn_close(p, "out of memory");
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    if (!len) {
        free(data);
        return 0;
    }
    return conn_write(p, data, len, err);
}

int p2p_net_send(p2p_peer *p, uint8_t type, const uint8_t *payload, size_t len, util_err *err)
{
    if (p->state != P2P_CONN_OPEN)
        return util_err_set(err, UTIL_ESTATE, "peer %s is not connected", p->addr);
    util_buf b;
    util_buf_init(&b);
    /* One allocation of the exact size: growing by doubling would copy the
     * frame and, past glibc's mmap threshold, fault in fresh pages. */
    if (util_buf_reserve(&b, len + P2P_FRAME_HDR_LEN + P2P_TAG_LEN) != 0)
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = p2p_session_seal(p->s, type, payload, len, &b, err);
    if (rc != 0) {
        util_buf_free(&b);
        return rc;
    }
    rc = conn_write_buf(p, &b, err);
    if (rc == 0) {
        p->msgs_out++;
        p->net->stats.msgs_out[type]++;
    }
    return rc;
}

static size_t conn_max_len(void *ctx, uint8_t type)
{
    p2p_peer *p = ctx;
    p2p_net *n = p->net;
    switch (type) {
    case P2P_MSG_AUTH: return p->state == P2P_CONN_OPEN ? 0 : P2P_AUTH_MAX;
    case P2P_MSG_PING:
    case P2P_MSG_PONG: return p2p_msg_max_len(type);
    /* Empty, but 0 here would mean "refused" to the session: 1 lets the
     * header through, and a non-empty payload is refused on arrival. */
    case P2P_MSG_GET_PEERS: return 1;
    /* Addresses nobody asked for are not taken: a peer could otherwise fill
     * the book with addresses of its choosing as fast as it can send. */
    case P2P_MSG_PEERS: return p->asked_peers ? p2p_msg_max_len(type) : 0;
    default:
        if (n->cfg.handler.max_len) return n->cfg.handler.max_len(n->cfg.handler.ctx, p, type);
        return p2p_msg_max_len(type);
    }
}

static void send_ping(p2p_peer *p, uint8_t type, uint64_t nonce)
{
    util_buf b;
    util_buf_init(&b);
    util_err err;
    if (p2p_ping_encode(nonce, &b, &err) == 0 && p2p_net_send(p, type, b.data, b.len, &err) != 0) {
        /* The peer was dropped by the send (slow peer) or is closing. */
    }
    util_buf_free(&b);
}

static void on_message(p2p_peer *p, const p2p_frame *m)
{
    p2p_net *n = p->net;
    p->last_rx_ns = util_env_mono_ns(n->env);
    p->msgs_in++;
    n->stats.msgs_in[m->type]++;
    switch (m->type) {
    case P2P_MSG_PING: {
        uint64_t nonce = 0;
        util_err err;
        if (p2p_ping_decode(&nonce, m->payload, m->len, &err) != 0) {
            p2p_net_ban(p, err.msg);
            return;
        }
        send_ping(p, P2P_MSG_PONG, nonce);
        return;
    }
    case P2P_MSG_PONG:
    case P2P_MSG_GET_PEERS:
    case P2P_MSG_PEERS: p2p_net_on_own_msg(p, m->type, m->payload, m->len); return;
    default: break;
    }
    if (!n->cfg.handler.message) return;
    util_err err;
    util_err_clear(&err);
    int rc = n->cfg.handler.message(n->cfg.handler.ctx, p, m->type, m->payload, m->len, &err);
    if (rc == UTIL_EINVAL)
        p2p_net_ban(p, err.msg[0] ? err.msg : "invalid message");
    else if (rc != 0)
        p2p_net_disconnect(p, err.msg[0] ? err.msg : "message refused");
}

/* Feeds what the socket gave to the session until it needs more bytes. */
static void conn_feed(p2p_peer *p, const uint8_t *data, size_t n)
{
    size_t off = 0;
    util_buf out;
    util_buf_init(&out);
    while (p->state == P2P_CONN_HANDSHAKE || p->state == P2P_CONN_OPEN) {
        size_t used = 0;
        int got = 0;
        p2p_frame m;
        memset(&m, 0, sizeof m);
        util_err err;
        util_err_clear(&err);
        util_buf_reset(&out);
        int rc = p2p_session_recv(p->s, data + off, n - off, &used, conn_max_len, p, &out, &got, &m,
                                  &err);
        if (out.len && conn_write_buf(p, &out, NULL) != 0) break;
        if (rc != 0) {
            if (rc == UTIL_EINVAL && p->state == P2P_CONN_OPEN) {
                p2p_net_ban(p, err.msg);
            } else if (p->state == P2P_CONN_HANDSHAKE) {
                p->net->stats.handshake_failures++;
                LOG_INFO("p2p", "handshake with %s failed: %s", p->addr, err.msg);
                p2p_conn_close(p, err.msg);
            } else {
                p2p_conn_close(p, err.msg);
            }
            break;
        }
        off += used;
        if (got == 1) {
            if (p2p_net_on_open(p) != 0) break;
        } else if (got == 2) {
            on_message(p, &m);
        } else if (!used) {
            break;
        }
    }
    util_buf_free(&out);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    p2p_peer *p = h->data;
    /* One buffer for every connection: each read is fed to its session
     * before the next read starts. */
    *buf = uv_buf_init((char *)p->net->rbuf, sizeof p->net->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    p2p_peer *p = s->data;
    if (nread == 0 || p->state == P2P_CONN_CLOSED) return;
    if (nread < 0) {
        p2p_conn_close(p, nread == UV_EOF ? "closed by the peer" : uv_strerror((int)nread));
        return;
    }
    p->bytes_in += (uint64_t)nread;
    p->net->stats.bytes_in += (uint64_t)nread;
    conn_feed(p, (const uint8_t *)buf->base, (size_t)nread);
}

static void on_timer(uv_timer_t *t)
{
    p2p_peer *p = t->data;
    p2p_net *n = p->net;
    if (p->state == P2P_CONN_RESOLVING || p->state == P2P_CONN_CONNECTING) {
        p2p_conn_close(p, "connect timeout");
        return;
    }
    if (p->state != P2P_CONN_OPEN) {
        n->stats.handshake_failures++;
        LOG_INFO("p2p", "handshake with %s timed out", p->addr);
        p2p_conn_close(p, "handshake timeout");
        return;
    }
    uint64_t now = util_env_mono_ns(n->env);
    if (now - p->last_rx_ns >= n->cfg.ping_timeout_ms * 1000000u) {
        p2p_conn_close(p, "ping timeout");
        return;
    }
    if (now - p->last_ping_ns >= n->cfg.ping_interval_ms * 1000000u) {
        p->last_ping_ns = now;
        send_ping(p, P2P_MSG_PING, ++n->ping_nonce);
    }
}

void p2p_conn_start_ticker(p2p_peer *p)
{
    p2p_net *n = p->net;
    uint64_t tick = n->cfg.ping_interval_ms;
    if (n->cfg.ping_timeout_ms / 2 < tick) tick = n->cfg.ping_timeout_ms / 2;
    if (!tick) tick = 1;
    p->last_rx_ns = p->last_ping_ns = util_env_mono_ns(n->env);
    uv_timer_start(&p->timer, on_timer, tick, tick);
}

static void set_addr(p2p_peer *p)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&p->tcp, (struct sockaddr *)&ss, &len) != 0) return;
    int port = 0;
    if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, p->ip, sizeof p->ip);
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        snprintf(p->addr, sizeof p->addr, "[%s]:%d", p->ip, port);
    } else {
        uv_ip4_name((struct sockaddr_in *)&ss, p->ip, sizeof p->ip);
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        snprintf(p->addr, sizeof p->addr, "%s:%d", p->ip, port);
    }
}

void p2p_conn_start(p2p_peer *p)
{
    p2p_net *n = p->net;
    set_addr(p);
    uv_tcp_nodelay(&p->tcp, 1);
    p2p_session_cfg sc;
    memset(&sc, 0, sizeof sc);
    sc.node_key = &n->key;
    sc.chain_id = n->chain_id;
    memcpy(sc.genesis_hash, n->genesis_hash, 32);
    sc.listen_port = n->port;
    if (p->has_target) {
        sc.expect_id_set = 1;
        memcpy(sc.expect_id, p->target.id, P2P_NODE_ID_LEN);
    }
    util_buf hello;
    util_buf_init(&hello);
    util_err err;
    p->state = P2P_CONN_HANDSHAKE;
    if (p2p_session_new(&p->s, &sc, &hello, &err) != 0) {
        util_buf_free(&hello);
        LOG_WARN("p2p", "session: %s", err.msg);
        p2p_conn_close(p, err.msg);
        return;
    }
    uv_timer_start(&p->timer, on_timer, n->cfg.handshake_timeout_ms, 0);
    if (conn_write_buf(p, &hello, NULL) != 0) return;
    int rc = uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
    if (rc != 0) p2p_conn_close(p, uv_strerror(rc));
}

static void on_connect(uv_connect_t *req, int status)
{
    p2p_peer *p = req->data;
    if (p->state == P2P_CONN_CLOSED) return;
    if (status < 0) {
        p2p_conn_close(p, uv_strerror(status));
        return;
    }
    p2p_conn_start(p);
}

static void connect_to(p2p_peer *p, const struct sockaddr *sa)
{
    p->state = P2P_CONN_CONNECTING;
    int rc = uv_tcp_connect(&p->connect, &p->tcp, sa, on_connect);
    if (rc != 0) p2p_conn_close(p, uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    p2p_peer *p = req->data;
    p2p_net *n = p->net;
    p->resolving = 0;
    n->handles--;
    if (p->state == P2P_CONN_CLOSED) {
        uv_freeaddrinfo(res);
        if (p->handles_open == 0) conn_free(p);
        return;
    }
    if (status < 0 || !res) {
        uv_freeaddrinfo(res);
        p2p_conn_close(p, status < 0 ? uv_strerror(status) : "no address");
        return;
    }
    connect_to(p, res->ai_addr);
    uv_freeaddrinfo(res);
}

void p2p_conn_dial(p2p_peer *p)
{
    p2p_net *n = p->net;
    const char *host = p->target.host;
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    snprintf(p->addr, sizeof p->addr, "%s:%u", p->target.host, (unsigned)p->target.port);
    /* A connect to a black hole would otherwise wait for the kernel's SYN
     * retries (minutes); the handshake's own timeout replaces this one. */
    uv_timer_start(&p->timer, on_timer, n->cfg.handshake_timeout_ms, 0);
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    if (uv_ip4_addr(host, p->target.port, &a4) == 0) {
        connect_to(p, (const struct sockaddr *)&a4);
        return;
    }
    if (uv_ip6_addr(host, p->target.port, &a6) == 0) {
        connect_to(p, (const struct sockaddr *)&a6);
        return;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)p->target.port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    p->state = P2P_CONN_RESOLVING;
    int rc = uv_getaddrinfo(n->loop, &p->gai, on_resolved, host, port, &hints);
    if (rc != 0) {
        p2p_conn_close(p, uv_strerror(rc));
        return;
    }
    p->resolving = 1;
    n->handles++;
}

/* Accessors of p2p/net.h that only read a peer. */
void p2p_peer_get_stats(const p2p_peer *p, p2p_peer_stats *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->id, p->info.id, P2P_NODE_ID_LEN);
    snprintf(out->addr, sizeof out->addr, "%s", p->addr);
    out->outbound = p->outbound;
    out->persistent = p->persistent >= 0;
    out->score = p->score;
    out->bytes_in = p->bytes_in;
    out->bytes_out = p->bytes_out;
    out->msgs_in = p->msgs_in;
    out->msgs_out = p->msgs_out;
    out->connected_ms = p->connected_ms;
}

const p2p_peer_info *p2p_peer_get_info(const p2p_peer *p)
{
    return &p->info;
}

void p2p_peer_set_user(p2p_peer *p, void *user)
{
    p->user = user;
}

void *p2p_peer_user(const p2p_peer *p)
{
    return p->user;
}
