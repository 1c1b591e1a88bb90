/* The transport's bookkeeping (p2p/net.h): the listener and its inbound
 * limit, dialling with the outbound limit, persistent peers with backoff,
 * the checks once a session opens (self, bans, duplicates), peer exchange,
 * bans and the peer book, stats, and the orderly stop. One connection's I/O
 * is in p2p/peer_conn.c. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2p/net_int.h"
#include "util/log.h"

#define LISTEN_BACKLOG 128

static uint64_t now_ms(const p2p_net *n)
{
    return util_env_wall_ms(n->env);
}

static void id_hex(const uint8_t id[P2P_NODE_ID_LEN], char out[2 * P2P_NODE_ID_LEN + 1])
{
    p2p_node_id_hex(id, out);
}

/* A live connection (dialling or open) to or from id, other than skip. */
static p2p_peer *find_live(p2p_net *n, const uint8_t id[P2P_NODE_ID_LEN], const p2p_peer *skip)
{
    for (p2p_peer *p = n->head; p; p = p->next) {
        if (p == skip || p->state == P2P_CONN_CLOSED) continue;
        if (p->state == P2P_CONN_OPEN
                ? memcmp(p->info.id, id, P2P_NODE_ID_LEN) == 0
                : p->has_target && memcmp(p->target.id, id, P2P_NODE_ID_LEN) == 0)
            return p;
    }
    return NULL;
}

static int is_persistent_id(const p2p_net *n, const uint8_t id[P2P_NODE_ID_LEN])
{
    for (size_t i = 0; i < n->n_pers; i++)
        if (memcmp(n->pers[i].a.id, id, P2P_NODE_ID_LEN) == 0) return 1;
    return 0;
}

static void save_book(p2p_net *n)
{
    util_err err;
    if (p2p_book_save(n->book, &err) != 0)
        LOG_WARN("p2p", "cannot save the peer book: %s", err.msg);
    n->last_save_ns = util_env_mono_ns(n->env);
}

static p2p_peer *dial(p2p_net *n, const p2p_peer_addr *a, int pers)
{
    p2p_peer *p = p2p_conn_new(n, 1);
    if (!p) {
        LOG_WARN("p2p", "out of memory dialling %s:%u", a->host, (unsigned)a->port);
        return NULL;
    }
    p->has_target = 1;
    p->target = *a;
    p->persistent = pers;
    p2p_conn_dial(p);
    return p;
}

/* Persistent peers: dialled at start and after every disconnect or failed
 * dial, after a delay doubling from backoff_min to backoff_max, jittered to
 * [d/2, d] so that nodes restarted together do not dial in lockstep. */
static void pers_fire(uv_timer_t *t);

static void pers_schedule(p2p_net *n, size_t i)
{
    p2p_persist *ps = &n->pers[i];
    uint64_t d = ps->backoff_ms, r = 0;
    if (util_env_random(n->env, &r, sizeof r, NULL) != 0) r = 0;
    d = d / 2 + (d / 2 ? r % (d / 2 + 1) : 0);
    ps->backoff_ms =
        ps->backoff_ms * 2 > n->cfg.backoff_max_ms ? n->cfg.backoff_max_ms : ps->backoff_ms * 2;
    uv_timer_start(&ps->timer, pers_fire, d, 0);
}

static void pers_dial(p2p_net *n, size_t i)
{
    p2p_persist *ps = &n->pers[i];
    if (n->stopping || find_live(n, ps->a.id, NULL)) return;
    const p2p_ban *b = p2p_book_banned(n->book, ps->a.id, now_ms(n));
    if (b) {
        uint64_t wait = b->until_ms - now_ms(n);
        uv_timer_start(&ps->timer, pers_fire,
                       wait < n->cfg.backoff_min_ms ? n->cfg.backoff_min_ms : wait, 0);
        return;
    }
    if (!dial(n, &ps->a, (int)i)) pers_schedule(n, i);
}

static void pers_fire(uv_timer_t *t)
{
    p2p_persist *ps = t->data;
    pers_dial(ps->net, (size_t)(ps - ps->net->pers));
}

/* Peer exchange: dial addresses from the book while outbound connections
 * are below the limit. */
static void pex_dial(p2p_net *n)
{
    if (!n->cfg.pex || n->stopping) return;
    uint64_t now = now_ms(n);
    for (size_t i = 0; i < p2p_book_count(n->book) && n->n_out < n->cfg.max_outbound; i++) {
        const p2p_book_addr *e = p2p_book_at(n->book, i);
        if (!e || e->next_try_ms > now || memcmp(e->a.id, n->id, P2P_NODE_ID_LEN) == 0 ||
            is_persistent_id(n, e->a.id) || find_live(n, e->a.id, NULL) ||
            p2p_book_banned(n->book, e->a.id, now))
            continue;
        p2p_peer_addr a = e->a;
        if (!dial(n, &a, -1)) break;
    }
}

static void ask_peers(p2p_peer *p)
{
    util_err err;
    p->asked_peers = 1;
    p->last_pex_ns = util_env_mono_ns(p->net->env);
    if (p2p_net_send(p, P2P_MSG_GET_PEERS, NULL, 0, &err) != 0) {
        /* The peer was dropped by the send. */
    }
}

static void on_tick(uv_timer_t *t)
{
    p2p_net *n = t->data;
    uint64_t mono = util_env_mono_ns(n->env);
    if (n->cfg.pex && n->n_out < n->cfg.max_outbound) {
        for (p2p_peer *p = n->head; p; p = p->next)
            if (p->state == P2P_CONN_OPEN && !p->asked_peers &&
                mono - p->last_pex_ns >= (uint64_t)P2P_PEX_ASK_MS * 1000000u)
                ask_peers(p);
        pex_dial(n);
    }
    if (p2p_book_dirty(n->book) && mono - n->last_save_ns >= (uint64_t)P2P_BOOK_SAVE_MS * 1000000u)
        save_book(n);
}

/* Inbound: over the limit, the socket is closed before any crypto. */
static void on_reject_closed(uv_handle_t *h)
{
    p2p_net *n = h->data;
    free(h);
    n->handles--;
    p2p_net_maybe_stopped(n);
}

static void on_connection(uv_stream_t *server, int status)
{
    p2p_net *n = server->data;
    if (status < 0 || n->stopping) return;
    if (n->n_in >= n->cfg.max_inbound) {
        uv_tcp_t *t = malloc(sizeof *t);
        if (!t) return;
        uv_tcp_init(n->loop, t);
        t->data = n;
        n->handles++;
        if (uv_accept(server, (uv_stream_t *)t) == 0) n->stats.inbound_refused++;
        uv_close((uv_handle_t *)t, on_reject_closed);
        return;
    }
    p2p_peer *p = p2p_conn_new(n, 0);
    if (!p) return;
    if (uv_accept(server, (uv_stream_t *)&p->tcp) != 0) {
        p2p_conn_close(p, "accept failed");
        return;
    }
    p2p_conn_start(p);
}

int p2p_net_on_open(p2p_peer *p)
{
    p2p_net *n = p->net;
    p->info = *p2p_session_peer(p->s);
    char hex[2 * P2P_NODE_ID_LEN + 1];
    id_hex(p->info.id, hex);
    if (memcmp(p->info.id, n->id, P2P_NODE_ID_LEN) == 0) {
        /* Our own address came back through peer exchange or configuration. */
        p2p_book_remove(n->book, n->id);
        p2p_conn_close(p, "connected to self");
        return -1;
    }
    const p2p_ban *b = p2p_book_banned(n->book, p->info.id, now_ms(n));
    if (b) {
        LOG_INFO("p2p", "refusing banned peer %s (%s): %s", hex, p->addr, b->reason);
        p2p_conn_close(p, "banned");
        return -1;
    }
    /* One connection per node id. When both sides dialled each other at
     * once, each keeps the connection dialled by the lower id, so both keep
     * the same one; otherwise the older connection stays. */
    for (p2p_peer *q = n->head; q; q = q->next) {
        if (q == p || q->state != P2P_CONN_OPEN ||
            memcmp(q->info.id, p->info.id, P2P_NODE_ID_LEN) != 0)
            continue;
        int keep_new = 0;
        if (q->outbound != p->outbound) {
            int we_lower = memcmp(n->id, p->info.id, P2P_NODE_ID_LEN) < 0;
            keep_new = p->outbound == we_lower;
        }
        if (!keep_new) {
            p2p_conn_close(p, "duplicate connection");
            return -1;
        }
        p2p_conn_close(q, "duplicate connection");
        break;
    }
    p->state = P2P_CONN_OPEN;
    p->connected_ms = now_ms(n);
    if (p->outbound)
        n->stats.peers_out++;
    else
        n->stats.peers_in++;
    if (p->outbound) {
        p2p_book_add(n->book, &p->target);
        p2p_book_mark_ok(n->book, p->info.id, now_ms(n));
    } else if (p->info.listen_port && p->ip[0]) {
        /* Its announced port with the address it came from: what others
         * may dial. Not marked reached until we dial it ourselves. */
        p2p_peer_addr a;
        memset(&a, 0, sizeof a);
        memcpy(a.id, p->info.id, P2P_NODE_ID_LEN);
        snprintf(a.host, sizeof a.host, "%s", p->ip);
        a.port = p->info.listen_port;
        p2p_book_add(n->book, &a);
    }
    for (size_t i = 0; i < n->n_pers; i++)
        if (memcmp(n->pers[i].a.id, p->info.id, P2P_NODE_ID_LEN) == 0) p->persistent = (int)i;
    p->open_ns = util_env_mono_ns(n->env);
    LOG_INFO("p2p", "peer %s (%s, %s) connected", hex, p->addr,
             p->outbound ? "outbound" : "inbound");
    p2p_conn_start_ticker(p);
    p->up = 1;
    if (n->cfg.handler.peer_up) n->cfg.handler.peer_up(n->cfg.handler.ctx, p);
    if (p->state != P2P_CONN_OPEN) return -1;
    if (n->cfg.pex) ask_peers(p);
    return p->state == P2P_CONN_OPEN ? 0 : -1;
}

/* The addresses we would give a peer: open peers' dialable addresses first,
 * then addresses we reached before; never the asker's own or ours. */
static void answer_peers(p2p_peer *asker)
{
    p2p_net *n = asker->net;
    p2p_peers m;
    memset(&m, 0, sizeof m);
    for (p2p_peer *p = n->head; p && m.n < P2P_PEERS_MAX_COUNT; p = p->next) {
        if (p == asker || p->state != P2P_CONN_OPEN) continue;
        p2p_peer_addr a;
        memset(&a, 0, sizeof a);
        memcpy(a.id, p->info.id, P2P_NODE_ID_LEN);
        if (p->outbound) {
            a = p->target;
        } else if (p->info.listen_port && p->ip[0]) {
            snprintf(a.host, sizeof a.host, "%s", p->ip);
            a.port = p->info.listen_port;
        } else {
            continue;
        }
        if (memcmp(a.id, asker->info.id, P2P_NODE_ID_LEN) != 0) m.addrs[m.n++] = a;
    }
    for (size_t i = 0; i < p2p_book_count(n->book) && m.n < P2P_PEERS_MAX_COUNT; i++) {
        const p2p_book_addr *e = p2p_book_at(n->book, i);
        if (!e || !e->last_ok_ms || memcmp(e->a.id, asker->info.id, P2P_NODE_ID_LEN) == 0 ||
            memcmp(e->a.id, n->id, P2P_NODE_ID_LEN) == 0)
            continue;
        int dup = 0;
        for (size_t j = 0; j < m.n && !dup; j++)
            dup = memcmp(m.addrs[j].id, e->a.id, P2P_NODE_ID_LEN) == 0;
        if (!dup) m.addrs[m.n++] = e->a;
    }
    util_buf b;
    util_buf_init(&b);
    util_err err;
    if (p2p_peers_encode(&m, &b, &err) == 0 &&
        p2p_net_send(asker, P2P_MSG_PEERS, b.data, b.len, &err) != 0) {
        /* Dropped by the send (slow peer). */
    }
    util_buf_free(&b);
}

void p2p_net_on_own_msg(p2p_peer *p, uint8_t type, const uint8_t *payload, size_t len)
{
    p2p_net *n = p->net;
    util_err err;
    if (type == P2P_MSG_PONG) {
        uint64_t nonce = 0;
        if (p2p_ping_decode(&nonce, payload, len, &err) != 0) p2p_net_ban(p, err.msg);
        return;
    }
    if (type == P2P_MSG_GET_PEERS) {
        if (len) {
            p2p_net_ban(p, "bad_message: GET_PEERS carries no payload");
            return;
        }
        answer_peers(p);
        return;
    }
    /* PEERS, which we asked for (the session refuses it otherwise). */
    p->asked_peers = 0;
    p2p_peers m;
    if (p2p_peers_decode(&m, payload, len, &err) != 0) {
        p2p_net_ban(p, err.msg);
        return;
    }
    uint64_t now = now_ms(n);
    for (size_t i = 0; i < m.n; i++) {
        if (memcmp(m.addrs[i].id, n->id, P2P_NODE_ID_LEN) == 0 ||
            p2p_book_banned(n->book, m.addrs[i].id, now) || m.addrs[i].port == 0)
            continue;
        /* A known address is not replaced by hearsay. */
        if (!p2p_book_find(n->book, m.addrs[i].id)) p2p_book_add(n->book, &m.addrs[i]);
    }
    pex_dial(n);
}

void p2p_net_on_closed(p2p_peer *p, int was_open)
{
    p2p_net *n = p->net;
    if (n->stopping) return;
    if (p->outbound && p->has_target && !was_open)
        p2p_book_mark_failed(n->book, p->target.id, now_ms(n), n->cfg.backoff_min_ms,
                             n->cfg.backoff_max_ms);
    const uint8_t *id = was_open ? p->info.id : p->has_target ? p->target.id : NULL;
    if (!id) return;
    /* Only a session that lasted resets the backoff: a peer that accepts and
     * then drops us at once (full, or banning us) is not redialled at the
     * minimum delay forever. */
    int lasted =
        was_open && util_env_mono_ns(n->env) - p->open_ns >= (uint64_t)P2P_STABLE_MS * 1000000u;
    for (size_t i = 0; i < n->n_pers; i++) {
        if (memcmp(n->pers[i].a.id, id, P2P_NODE_ID_LEN) != 0 || find_live(n, id, p)) continue;
        if (lasted) n->pers[i].backoff_ms = n->cfg.backoff_min_ms;
        pers_schedule(n, i);
    }
    /* Peer exchange refills the outbound slot on its next tick, not here: a
     * dial that fails at once would otherwise recurse through the book. */
}

void p2p_net_disconnect(p2p_peer *p, const char *reason)
{
    p2p_conn_close(p, reason);
}

void p2p_net_ban(p2p_peer *p, const char *reason)
{
    p2p_net *n = p->net;
    if (p->state == P2P_CONN_CLOSED) return;
    if (p->state != P2P_CONN_OPEN) {
        /* No proven id to ban yet. */
        p2p_conn_close(p, reason);
        return;
    }
    char hex[2 * P2P_NODE_ID_LEN + 1];
    id_hex(p->info.id, hex);
    LOG_WARN("p2p", "banning peer %s (%s) for %llu ms: %s", hex, p->addr,
             (unsigned long long)n->cfg.ban_ms, reason);
    n->stats.bans++;
    p2p_book_ban(n->book, p->info.id, now_ms(n) + n->cfg.ban_ms, reason);
    save_book(n);
    p2p_conn_close(p, reason);
}

void p2p_peer_penalize(p2p_peer *p, int points, const char *reason)
{
    if (p->state == P2P_CONN_CLOSED) return;
    p->score += points;
    if (p->score >= P2P_BAN_SCORE) p2p_net_ban(p, reason);
}

void p2p_net_broadcast(p2p_net *n, p2p_peer *except, uint8_t type, const uint8_t *payload,
                       size_t len)
{
    for (p2p_peer *p = n->head; p; p = p->next) {
        if (p == except || p->state != P2P_CONN_OPEN) continue;
        util_err err;
        if (p2p_net_send(p, type, payload, len, &err) != 0) {
            /* That peer is dropped (slow) or closing; the others still get it. */
        }
    }
}

size_t p2p_net_peers(p2p_net *n, p2p_peer **out, size_t max)
{
    size_t k = 0;
    for (p2p_peer *p = n->head; p; p = p->next)
        if (p->state == P2P_CONN_OPEN) {
            if (k < max) out[k] = p;
            k++;
        }
    return k < max ? k : max;
}

void p2p_net_get_stats(const p2p_net *n, p2p_net_stats *out)
{
    *out = n->stats;
}

const uint8_t *p2p_net_node_id(const p2p_net *n)
{
    return n->id;
}

uint16_t p2p_net_listen_port(const p2p_net *n)
{
    return n->port;
}

/* The listening socket, made by hand so that a bind failure leaves no libuv
 * handle to close asynchronously. */
static int listen_open(const char *host, uint16_t port, int *fd_out, util_err *err)
{
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0)
        return util_err_set(err, UTIL_EINVAL, "p2p: bad listen address %s: %s", host,
                            gai_strerror(gai));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        return util_err_set(err, UTIL_EIO, "p2p: socket: %s", strerror(errno));
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
        /* Only a restart within TIME_WAIT is affected. */
    }
    int rc = bind(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        int e = errno;
        close(fd);
        return util_err_set(err, UTIL_EIO, "p2p: cannot listen on %s:%u: %s", host, (unsigned)port,
                            strerror(e));
    }
    *fd_out = fd;
    return 0;
}

static void on_net_handle_closed(uv_handle_t *h)
{
    p2p_net *n = h->data;
    n->handles--;
    p2p_net_maybe_stopped(n);
}

static void on_pers_timer_closed(uv_handle_t *h)
{
    p2p_persist *ps = h->data;
    ps->net->handles--;
    p2p_net_maybe_stopped(ps->net);
}

static void close_all(p2p_net *n)
{
    uv_close((uv_handle_t *)&n->tick, on_net_handle_closed);
    for (size_t i = 0; i < n->n_pers; i++)
        uv_close((uv_handle_t *)&n->pers[i].timer, on_pers_timer_closed);
    if (n->listening) uv_close((uv_handle_t *)&n->listener, on_net_handle_closed);
    for (p2p_peer *p = n->head; p; p = p->next)
        p2p_conn_close(p, "stopping");
}

static void free_net(p2p_net *n)
{
    p2p_book_free(n->book);
    free(n->pers);
    free(n->chain_id);
    chain_keypair_clear(&n->key);
    free(n);
}

int p2p_net_start(p2p_net **out, const p2p_net_cfg *cfg, util_err *err)
{
    *out = NULL;
    if (!cfg || !cfg->loop || !cfg->node_key || !cfg->chain_id)
        return util_err_set(err, UTIL_EINVAL, "p2p: missing loop, node key or chain id");
    p2p_net *n = calloc(1, sizeof *n);
    if (!n) return util_err_set(err, UTIL_ENOMEM, "p2p: out of memory");
    n->cfg = *cfg;
    p2p_net_cfg *c = &n->cfg;
    if (!c->max_inbound) c->max_inbound = 40;
    if (!c->max_outbound) c->max_outbound = 10;
    if (!c->send_queue_max) c->send_queue_max = 32u * 1024u * 1024u;
    if (!c->handshake_timeout_ms) c->handshake_timeout_ms = 10000;
    if (!c->ping_interval_ms) c->ping_interval_ms = 15000;
    if (!c->ping_timeout_ms) c->ping_timeout_ms = 30000;
    if (!c->ban_ms) c->ban_ms = 10u * 60u * 1000u;
    if (!c->backoff_min_ms) c->backoff_min_ms = 500;
    if (!c->backoff_max_ms) c->backoff_max_ms = 60000;
    if (c->backoff_max_ms < c->backoff_min_ms) c->backoff_max_ms = c->backoff_min_ms;
    c->persistent = NULL;
    c->book_path = NULL;
    c->node_key = NULL;
    c->chain_id = NULL;
    n->loop = cfg->loop;
    n->env = cfg->env ? cfg->env : util_env_default();
    n->key = *cfg->node_key;
    memcpy(n->genesis_hash, cfg->genesis_hash, 32);
    p2p_node_id(n->key.pubkey, n->id);
    n->chain_id = strdup(cfg->chain_id);
    n->book = p2p_book_new(n->env, cfg->book_path);
    n->pers = calloc(cfg->n_persistent ? cfg->n_persistent : 1, sizeof *n->pers);
    if (!n->chain_id || !n->book || !n->pers) {
        free_net(n);
        return util_err_set(err, UTIL_ENOMEM, "p2p: out of memory");
    }
    int rc = p2p_book_load(n->book, now_ms(n), err);
    int fd = -1;
    if (rc == 0 && cfg->listen_host[0])
        rc = listen_open(cfg->listen_host, cfg->listen_port, &fd, err);
    if (rc != 0) {
        free_net(n);
        return rc;
    }
    for (size_t i = 0; i < cfg->n_persistent; i++) {
        if (memcmp(cfg->persistent[i].id, n->id, P2P_NODE_ID_LEN) == 0) {
            LOG_WARN("p2p", "persistent peer %s:%u is this node; not dialled",
                     cfg->persistent[i].host, (unsigned)cfg->persistent[i].port);
            continue;
        }
        p2p_persist *ps = &n->pers[n->n_pers++];
        ps->a = cfg->persistent[i];
        ps->net = n;
        ps->backoff_ms = c->backoff_min_ms;
    }

    uv_timer_init(n->loop, &n->tick);
    n->tick.data = n;
    n->handles++;
    for (size_t i = 0; i < n->n_pers; i++) {
        uv_timer_init(n->loop, &n->pers[i].timer);
        n->pers[i].timer.data = &n->pers[i];
        n->handles++;
    }
    if (fd >= 0) {
        uv_tcp_init(n->loop, &n->listener);
        n->listener.data = n;
        n->handles++;
        n->listening = 1;
        int uvrc = uv_tcp_open(&n->listener, fd);
        if (uvrc == 0) uvrc = uv_listen((uv_stream_t *)&n->listener, LISTEN_BACKLOG, on_connection);
        if (uvrc != 0) {
            if (uv_fileno((uv_handle_t *)&n->listener, &(uv_os_fd_t){0}) != 0) close(fd);
            /* The handles exist now: the net frees itself once they closed. */
            n->stopping = 2;
            close_all(n);
            return util_err_set(err, UTIL_EIO, "p2p: listen: %s", uv_strerror(uvrc));
        }
        struct sockaddr_storage ss;
        int len = sizeof ss;
        if (uv_tcp_getsockname(&n->listener, (struct sockaddr *)&ss, &len) == 0)
            n->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                     : ((struct sockaddr_in *)&ss)->sin_port);
    }
    /* A peer that resets while we write would otherwise kill the process. */
    signal(SIGPIPE, SIG_IGN);
    n->last_save_ns = util_env_mono_ns(n->env);
    uv_timer_start(&n->tick, on_tick, P2P_TICK_MS, P2P_TICK_MS);
    char hex[2 * P2P_NODE_ID_LEN + 1];
    id_hex(n->id, hex);
    if (n->listening)
        LOG_INFO("p2p", "node id %s listening on %s:%u", hex, cfg->listen_host, (unsigned)n->port);
    for (size_t i = 0; i < n->n_pers; i++)
        pers_dial(n, i);
    *out = n;
    return 0;
}

void p2p_net_maybe_stopped(p2p_net *n)
{
    if (!n->stopping || n->handles || n->head) return;
    if (n->stopping == 2) {
        /* p2p_net_start failed after creating handles: nobody holds n. */
        free_net(n);
        return;
    }
    void (*cb)(void *) = n->stop_cb;
    n->stop_cb = NULL;
    if (cb) cb(n->stop_arg);
}

void p2p_net_stop(p2p_net *n, void (*cb)(void *arg), void *arg)
{
    if (!n || n->stopping) return;
    n->stopping = 1;
    n->stop_cb = cb;
    n->stop_arg = arg;
    close_all(n);
    if (p2p_book_dirty(n->book)) save_book(n);
}

void p2p_net_free(p2p_net *n)
{
    if (!n) return;
    free_net(n);
}
