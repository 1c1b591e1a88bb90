/* The peer-to-peer transport (p2p/net.h) with real sockets on 127.0.0.1:
 * two or three nets on one libuv loop, plus a "raw" peer that drives a
 * session by hand to misbehave. Every wait is bounded by a deadline timer,
 * so a test fails instead of hanging. The book alone: test_book.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>
#include <uv.h>

#include "p2p/book.h"
#include "p2p/net.h"

#define CHAIN "openledger-test"
#define WAIT_MS 15000

static uv_loop_t loop;
static uv_timer_t deadline;
static int deadline_hit;

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    deadline_hit = 1;
}

/* Runs the loop until cond holds or WAIT_MS passed; asserts cond. */
#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        deadline_hit = 0;                                                                          \
        uv_timer_start(&deadline, on_deadline, WAIT_MS, 0);                                        \
        while (!(cond) && !deadline_hit)                                                           \
            uv_run(&loop, UV_RUN_ONCE);                                                            \
        uv_timer_stop(&deadline);                                                                  \
        assert_true(cond);                                                                         \
    } while (0)

/* Runs the loop for ms (to see that something does not happen). */
static void run_for(uint64_t ms)
{
    deadline_hit = 0;
    uv_timer_start(&deadline, on_deadline, ms, 0);
    while (!deadline_hit)
        uv_run(&loop, UV_RUN_ONCE);
}

static void loop_open(void)
{
    assert_int_equal(uv_loop_init(&loop), 0);
    uv_timer_init(&loop, &deadline);
}

static void loop_close(void)
{
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* Every handle of every net was closed. */
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A node under test: its net and what its handler saw. */
typedef struct tnode {
    p2p_net_cfg cfg;
    chain_keypair key;
    p2p_net *net;
    p2p_peer_addr persistent[2];
    int ups, downs, msgs, stopped;
    uint8_t last_type;
    size_t last_len;
    int einval_type;   /* the handler calls this type invalid; -1: none */
    int penalize_type; /* the handler adds 60 points for this type; -1: none */
    size_t txs_max;    /* max_len for TXS; 0: the default */
    p2p_peer *last_up;
} tnode;

static void h_up(void *ctx, p2p_peer *p)
{
    tnode *t = ctx;
    t->ups++;
    t->last_up = p;
}

static void h_down(void *ctx, p2p_peer *p)
{
    tnode *t = ctx;
    t->downs++;
    if (t->last_up == p) t->last_up = NULL;
}

static size_t h_max_len(void *ctx, p2p_peer *p, uint8_t type)
{
    tnode *t = ctx;
    (void)p;
    if (type == P2P_MSG_TXS && t->txs_max) return t->txs_max;
    return p2p_msg_max_len(type);
}

static int h_message(void *ctx, p2p_peer *p, uint8_t type, const uint8_t *payload, size_t len,
                     util_err *err)
{
    tnode *t = ctx;
    (void)payload;
    t->msgs++;
    t->last_type = type;
    t->last_len = len;
    if (t->penalize_type == type) p2p_peer_penalize(p, 60, "bad_status: the test penalizes it");
    if (t->einval_type == type)
        return util_err_set(err, UTIL_EINVAL, "bad_tx: the test calls every TXS invalid");
    return 0;
}

static void node_init(tnode *t, uint32_t key_index)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(chain_keypair_dev(&t->key, key_index), 0);
    t->einval_type = -1;
    t->penalize_type = -1;
    p2p_net_cfg *c = &t->cfg;
    c->loop = &loop;
    c->node_key = &t->key;
    c->chain_id = CHAIN;
    memset(c->genesis_hash, 0x47, 32);
    snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
    c->pex = 0;
    c->handshake_timeout_ms = 5000;
    c->backoff_min_ms = 20;
    c->backoff_max_ms = 200;
    c->handler.ctx = t;
    c->handler.peer_up = h_up;
    c->handler.peer_down = h_down;
    c->handler.max_len = h_max_len;
    c->handler.message = h_message;
}

static void node_start(tnode *t)
{
    util_err err;
    int rc = p2p_net_start(&t->net, &t->cfg, &err);
    if (rc) fprintf(stderr, "p2p_net_start: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static void on_stopped(void *arg)
{
    ((tnode *)arg)->stopped = 1;
}

static void node_stop(tnode *t)
{
    if (!t->net) return;
    t->stopped = 0;
    p2p_net_stop(t->net, on_stopped, t);
    WAIT_FOR(t->stopped);
    p2p_net_free(t->net);
    t->net = NULL;
}

/* t's address, for another node to dial. */
static p2p_peer_addr addr_of(const tnode *t)
{
    p2p_peer_addr a;
    memset(&a, 0, sizeof a);
    memcpy(a.id, p2p_net_node_id(t->net), P2P_NODE_ID_LEN);
    snprintf(a.host, sizeof a.host, "127.0.0.1");
    a.port = p2p_net_listen_port(t->net);
    return a;
}

static void dial_to(tnode *from, const tnode *to)
{
    from->persistent[from->cfg.n_persistent] = addr_of(to);
    from->cfg.n_persistent++;
    from->cfg.persistent = from->persistent;
}

static size_t npeers(tnode *t)
{
    p2p_peer *ps[16];
    return p2p_net_peers(t->net, ps, 16);
}

static p2p_net_stats stats_of(tnode *t)
{
    p2p_net_stats s;
    p2p_net_get_stats(t->net, &s);
    return s;
}

/* Whether t has an open peer with id. */
static int has_peer(tnode *t, const uint8_t *id)
{
    p2p_peer *ps[16];
    size_t n = p2p_net_peers(t->net, ps, 16);
    for (size_t i = 0; i < n; i++)
        if (memcmp(p2p_peer_get_info(ps[i])->id, id, P2P_NODE_ID_LEN) == 0) return 1;
    return 0;
}

/* How many open peers of t have id. */
static int count_peer(tnode *t, const uint8_t *id)
{
    p2p_peer *ps[16];
    size_t n = p2p_net_peers(t->net, ps, 16);
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += memcmp(p2p_peer_get_info(ps[i])->id, id, P2P_NODE_ID_LEN) == 0;
    return k;
}

/* A raw peer: one session driven by hand over a uv socket, to send what a
 * correct net never would. */
typedef struct raw_peer {
    uv_tcp_t tcp;
    uv_connect_t conn;
    chain_keypair key;
    p2p_session *s;
    int open, eof, closed;
    int keep_reading; /* after the handshake */
    size_t frames;
} raw_peer;

static void raw_wrote(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
    free(w);
}

static void raw_write(raw_peer *r, util_buf *b)
{
    uint8_t *data;
    size_t len;
    assert_int_equal(util_buf_take(b, &data, &len), 0);
    if (!len) {
        free(data);
        return;
    }
    uv_write_t *w = malloc(sizeof *w);
    assert_non_null(w);
    w->data = data;
    uv_buf_t ub = uv_buf_init((char *)data, (unsigned)len);
    assert_int_equal(uv_write(w, (uv_stream_t *)&r->tcp, &ub, 1, raw_wrote), 0);
}

static void raw_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(sz);
    b->len = b->base ? sz : 0;
}

static void raw_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    raw_peer *r = st->data;
    if (n < 0) r->eof = 1;
    size_t off = 0;
    while (n > 0 && r->s) {
        size_t used = 0;
        int got = 0;
        p2p_frame m;
        util_buf out;
        util_buf_init(&out);
        util_err err;
        int rc = p2p_session_recv(r->s, (uint8_t *)b->base + off, (size_t)n - off, &used, NULL,
                                  NULL, &out, &got, &m, &err);
        raw_write(r, &out);
        util_buf_free(&out);
        if (rc) break;
        off += used;
        if (got == 1) {
            r->open = 1;
            if (!r->keep_reading) {
                uv_read_stop(st);
                break;
            }
        }
        if (got == 2) r->frames++;
        if (!used && !got) break;
    }
    free(b->base);
}

static void raw_connected(uv_connect_t *c, int status)
{
    raw_peer *r = c->data;
    assert_int_equal(status, 0);
    assert_int_equal(uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read), 0);
}

static void raw_connect_ex(raw_peer *r, uint32_t key_index, uint16_t port, int keep_reading,
                           int send_hello)
{
    memset(r, 0, sizeof *r);
    r->keep_reading = keep_reading;
    assert_int_equal(chain_keypair_dev(&r->key, key_index), 0);
    p2p_session_cfg sc;
    memset(&sc, 0, sizeof sc);
    sc.node_key = &r->key;
    sc.chain_id = CHAIN;
    memset(sc.genesis_hash, 0x47, 32);
    util_buf hello;
    util_buf_init(&hello);
    util_err err;
    assert_int_equal(p2p_session_new(&r->s, &sc, &hello, &err), 0);
    uv_tcp_init(&loop, &r->tcp);
    r->tcp.data = r;
    r->conn.data = r;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    assert_int_equal(uv_tcp_connect(&r->conn, &r->tcp, (struct sockaddr *)&sa, raw_connected), 0);
    if (send_hello) raw_write(r, &hello);
    util_buf_free(&hello);
}

static void raw_connect(raw_peer *r, uint32_t key_index, uint16_t port, int keep_reading)
{
    raw_connect_ex(r, key_index, port, keep_reading, 1);
}

static void raw_send(raw_peer *r, uint8_t type, const uint8_t *p, size_t n)
{
    util_buf b;
    util_buf_init(&b);
    util_err err;
    assert_int_equal(p2p_session_seal(r->s, type, p, n, &b, &err), 0);
    raw_write(r, &b);
    util_buf_free(&b);
}

static void raw_closed(uv_handle_t *h)
{
    ((raw_peer *)h->data)->closed = 1;
}

static void raw_close(raw_peer *r)
{
    uv_close((uv_handle_t *)&r->tcp, raw_closed);
    WAIT_FOR(r->closed);
    p2p_session_free(r->s);
    r->s = NULL;
}

static uint8_t status_payload[64];
static size_t status_len;

static void make_status(void)
{
    p2p_status st;
    memset(&st, 0, sizeof st);
    st.height = 7;
    memset(st.head, 0xab, 32);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(p2p_status_encode(&st, &b, NULL), 0);
    assert_true(b.len <= sizeof status_payload);
    memcpy(status_payload, b.data, b.len);
    status_len = b.len;
    util_buf_free(&b);
}

/* Two nets: B dials A; both see the peer, messages flow both ways, the
 * stats count them. */
static void test_handshake_and_messages(void **state)
{
    (void)state;
    loop_open();
    make_status();
    tnode a, b;
    node_init(&a, 1);
    node_start(&a);
    node_init(&b, 2);
    dial_to(&b, &a);
    node_start(&b);
    WAIT_FOR(a.ups == 1 && b.ups == 1);
    assert_memory_equal(p2p_peer_get_info(b.last_up)->id, p2p_net_node_id(a.net), P2P_NODE_ID_LEN);
    assert_int_equal(p2p_peer_get_info(a.last_up)->listen_port, p2p_net_listen_port(b.net));

    assert_int_equal(p2p_net_send(b.last_up, P2P_MSG_STATUS, status_payload, status_len, NULL), 0);
    WAIT_FOR(a.msgs == 1);
    assert_int_equal(a.last_type, P2P_MSG_STATUS);
    assert_int_equal(a.last_len, status_len);
    p2p_net_broadcast(a.net, NULL, P2P_MSG_STATUS, status_payload, status_len);
    WAIT_FOR(b.msgs == 1);

    p2p_net_stats sa = stats_of(&a), sb = stats_of(&b);
    assert_int_equal(sa.peers_in, 1);
    assert_int_equal(sb.peers_out, 1);
    assert_int_equal(sa.msgs_in[P2P_MSG_STATUS], 1);
    assert_int_equal(sb.msgs_out[P2P_MSG_STATUS], 1);
    assert_true(sa.bytes_in > 0 && sa.bytes_out > 0);
    p2p_peer_stats ps;
    p2p_peer_get_stats(b.last_up, &ps);
    assert_int_equal(ps.outbound, 1);
    assert_int_equal(ps.persistent, 1);
    assert_int_equal(ps.msgs_in, 1);
    assert_true(ps.bytes_in > 0);

    node_stop(&b);
    WAIT_FOR(a.downs == 1);
    node_stop(&a);
    loop_close();
}

/* Dialled by id, a node that proves another id is refused. */
static void test_wrong_expected_id(void **state)
{
    (void)state;
    loop_open();
    tnode a, b, c;
    node_init(&a, 1);
    node_start(&a);
    node_init(&c, 3);
    node_start(&c);
    node_init(&b, 2);
    p2p_peer_addr wrong = addr_of(&a);
    memcpy(wrong.id, p2p_net_node_id(c.net), P2P_NODE_ID_LEN);
    b.persistent[0] = wrong;
    b.cfg.persistent = b.persistent;
    b.cfg.n_persistent = 1;
    node_start(&b);
    WAIT_FOR(stats_of(&b).handshake_failures >= 2);
    assert_int_equal(b.ups, 0);
    assert_int_equal(npeers(&b), 0);
    node_stop(&b);
    node_stop(&c);
    node_stop(&a);
    loop_close();
}

/* A persistent peer is dialled again after the other side restarts. */
static void test_persistent_reconnect(void **state)
{
    (void)state;
    loop_open();
    tnode a, b;
    node_init(&a, 1);
    node_start(&a);
    uint16_t port = p2p_net_listen_port(&*a.net);
    node_init(&b, 2);
    dial_to(&b, &a);
    node_start(&b);
    WAIT_FOR(b.ups == 1);
    node_stop(&a);
    WAIT_FOR(b.downs == 1);
    run_for(100); /* a few failed dials while A is away */
    a.cfg.listen_port = port;
    node_start(&a);
    WAIT_FOR(b.ups == 2 && a.ups == 2);
    assert_true(has_peer(&b, p2p_net_node_id(a.net)));
    node_stop(&b);
    node_stop(&a);
    loop_close();
}

/* Over max_inbound, a connection is closed at accept. */
static void test_inbound_limit(void **state)
{
    (void)state;
    loop_open();
    tnode a, b, c;
    node_init(&a, 1);
    a.cfg.max_inbound = 1;
    node_start(&a);
    node_init(&b, 2);
    dial_to(&b, &a);
    node_start(&b);
    WAIT_FOR(a.ups == 1);
    node_init(&c, 3);
    dial_to(&c, &a);
    node_start(&c);
    WAIT_FOR(stats_of(&a).inbound_refused >= 2);
    assert_int_equal(a.ups, 1);
    assert_int_equal(c.ups, 0);
    assert_int_equal(stats_of(&a).handshake_failures, 0);
    node_stop(&c);
    node_stop(&b);
    node_stop(&a);
    loop_close();
}

/* A handler's UTIL_EINVAL bans the sender; its reconnects are refused after
 * its AUTH. */
static void test_invalid_message_bans(void **state)
{
    (void)state;
    loop_open();
    tnode a, b;
    node_init(&a, 1);
    a.einval_type = P2P_MSG_TXS;
    node_start(&a);
    node_init(&b, 2);
    dial_to(&b, &a);
    node_start(&b);
    WAIT_FOR(b.ups == 1);
    uint8_t junk[10] = {1, 2, 3};
    assert_int_equal(p2p_net_send(b.last_up, P2P_MSG_TXS, junk, sizeof junk, NULL), 0);
    WAIT_FOR(stats_of(&a).bans == 1);
    WAIT_FOR(b.downs >= 1);
    /* B keeps dialling (persistent); A refuses every attempt. */
    WAIT_FOR(b.downs >= 4);
    assert_int_equal(a.ups, 1);
    assert_int_equal(npeers(&a), 0);
    node_stop(&b);
    node_stop(&a);
    loop_close();
}

/* Points from p2p_peer_penalize add up; at P2P_BAN_SCORE the peer is
 * banned. */
static void test_penalize_to_ban(void **state)
{
    (void)state;
    loop_open();
    make_status();
    tnode a, b;
    node_init(&a, 1);
    a.penalize_type = P2P_MSG_STATUS;
    node_start(&a);
    node_init(&b, 2);
    dial_to(&b, &a);
    node_start(&b);
    WAIT_FOR(a.ups == 1 && b.ups == 1);
    assert_int_equal(p2p_net_send(b.last_up, P2P_MSG_STATUS, status_payload, status_len, NULL), 0);
    WAIT_FOR(a.msgs == 1);
    p2p_peer_stats st;
    p2p_peer_get_stats(a.last_up, &st);
    assert_int_equal(st.score, 60);
    assert_int_equal(stats_of(&a).bans, 0);
    assert_int_equal(p2p_net_send(b.last_up, P2P_MSG_STATUS, status_payload, status_len, NULL), 0);
    WAIT_FOR(stats_of(&a).bans == 1 && a.downs == 1);
    node_stop(&b);
    node_stop(&a);
    loop_close();
}

/* A frame longer than its type allows (checked on the header) bans. */
static void test_oversized_frame_bans(void **state)
{
    (void)state;
    loop_open();
    tnode a;
    node_init(&a, 1);
    a.txs_max = 1000;
    node_start(&a);
    raw_peer r;
    raw_connect(&r, 5, p2p_net_listen_port(a.net), 1);
    WAIT_FOR(r.open && a.ups == 1);
    uint8_t *big = calloc(1, 2000);
    assert_non_null(big);
    raw_send(&r, P2P_MSG_TXS, big, 2000);
    free(big);
    WAIT_FOR(stats_of(&a).bans == 1 && a.downs == 1);
    WAIT_FOR(r.eof);
    assert_int_equal(a.msgs, 0);
    raw_close(&r);
    /* The same id again: refused after its AUTH. */
    raw_connect(&r, 5, p2p_net_listen_port(a.net), 1);
    WAIT_FOR(r.eof);
    assert_int_equal(a.ups, 1);
    raw_close(&r);
    node_stop(&a);
    loop_close();
}

/* A peer that never reads is dropped once its queue passes the bound. */
typedef struct flood {
    uv_timer_t t;
    tnode *a;
    uint8_t *buf;
    int closed;
} flood;

static void flood_tick(uv_timer_t *t)
{
    flood *f = t->data;
    if (!f->a->last_up) return;
    if (p2p_net_send(f->a->last_up, P2P_MSG_TXS, f->buf, 65536, NULL) != 0) uv_timer_stop(t);
}

static void flood_closed(uv_handle_t *h)
{
    ((flood *)h->data)->closed = 1;
}

static void test_slow_peer_dropped(void **state)
{
    (void)state;
    loop_open();
    tnode a;
    node_init(&a, 1);
    a.cfg.send_queue_max = 512 * 1024;
    node_start(&a);
    raw_peer r;
    raw_connect(&r, 5, p2p_net_listen_port(a.net), 0);
    WAIT_FOR(r.open && a.ups == 1);
    flood f;
    memset(&f, 0, sizeof f);
    f.a = &a;
    f.buf = calloc(1, 65536);
    uv_timer_init(&loop, &f.t);
    f.t.data = &f;
    uv_timer_start(&f.t, flood_tick, 1, 1);
    WAIT_FOR(stats_of(&a).dropped_slow == 1);
    assert_int_equal(a.downs, 1);
    assert_int_equal(npeers(&a), 0);
    uv_close((uv_handle_t *)&f.t, flood_closed);
    WAIT_FOR(f.closed);
    free(f.buf);
    raw_close(&r);
    node_stop(&a);
    loop_close();
}

/* A peer that sends nothing is dropped after ping_timeout_ms; one that
 * answers pings stays. */
static void test_ping_timeout(void **state)
{
    (void)state;
    loop_open();
    tnode a, b;
    node_init(&a, 1);
    a.cfg.ping_interval_ms = 50;
    a.cfg.ping_timeout_ms = 300;
    node_start(&a);
    node_init(&b, 2);
    b.cfg.ping_interval_ms = 50;
    b.cfg.ping_timeout_ms = 300;
    dial_to(&b, &a);
    node_start(&b);
    WAIT_FOR(a.ups == 1);
    raw_peer r;
    raw_connect(&r, 5, p2p_net_listen_port(a.net), 1);
    WAIT_FOR(r.open && a.ups == 2);
    WAIT_FOR(r.eof);
    assert_true(r.frames >= 1); /* it was pinged */
    assert_int_equal(a.downs, 1);
    assert_true(has_peer(&a, p2p_net_node_id(b.net)));
    assert_true(stats_of(&a).msgs_in[P2P_MSG_PONG] >= 1);
    raw_close(&r);
    node_stop(&b);
    node_stop(&a);
    loop_close();
}

/* A connection that never completes its handshake is closed after
 * handshake_timeout_ms. */
static void test_handshake_timeout(void **state)
{
    (void)state;
    loop_open();
    tnode a;
    node_init(&a, 1);
    a.cfg.handshake_timeout_ms = 200;
    node_start(&a);
    raw_peer r;
    raw_connect_ex(&r, 5, p2p_net_listen_port(a.net), 1, 0);
    WAIT_FOR(r.eof);
    assert_int_equal(stats_of(&a).handshake_failures, 1);
    assert_int_equal(a.ups, 0);
    raw_close(&r);
    node_stop(&a);
    loop_close();
}

/* Peer exchange: C knows only A, learns B's address from A and dials it. */
static void test_peer_exchange(void **state)
{
    (void)state;
    loop_open();
    tnode a, b, c;
    node_init(&a, 1);
    node_start(&a);
    node_init(&b, 2);
    dial_to(&b, &a);
    node_start(&b);
    WAIT_FOR(a.ups == 1);
    node_init(&c, 3);
    c.cfg.pex = 1;
    dial_to(&c, &a);
    node_start(&c);
    WAIT_FOR(has_peer(&c, p2p_net_node_id(b.net)));
    assert_true(has_peer(&b, p2p_net_node_id(c.net)));
    assert_true(stats_of(&c).msgs_in[P2P_MSG_PEERS] >= 1);
    node_stop(&c);
    node_stop(&b);
    node_stop(&a);
    loop_close();
}

/* Two nodes that dial each other end with one connection. */
static void test_one_connection_per_id(void **state)
{
    (void)state;
    loop_open();
    tnode a, b;
    node_init(&a, 1);
    node_start(&a);
    node_init(&b, 2);
    dial_to(&b, &a);
    node_start(&b);
    WAIT_FOR(a.ups == 1);
    /* A now also dials B: restart A with B as its persistent peer. */
    uint16_t port = p2p_net_listen_port(a.net);
    node_stop(&a);
    a.cfg.listen_port = port;
    dial_to(&a, &b);
    node_start(&a);
    WAIT_FOR(npeers(&a) == 1 && npeers(&b) == 1);
    run_for(300);
    assert_int_equal(npeers(&a), 1);
    assert_int_equal(npeers(&b), 1);
    node_stop(&b);
    node_stop(&a);
    loop_close();
}

/* Duplicates with the tie-break: A dialled B; then "B" (a raw peer with B's
 * key) connects to A. Opposite directions: A keeps the connection dialled by
 * the lower id. Then two inbound sessions with one id: the older stays. */
static void duplicate_case(uint32_t ka, uint32_t kb)
{
    loop_open();
    tnode a, b;
    node_init(&b, kb);
    node_start(&b);
    node_init(&a, ka);
    dial_to(&a, &b);
    node_start(&a);
    WAIT_FOR(a.ups == 1 && b.ups == 1);
    int a_lower = memcmp(p2p_net_node_id(a.net), p2p_net_node_id(b.net), P2P_NODE_ID_LEN) < 0;
    raw_peer r;
    raw_connect(&r, kb, p2p_net_listen_port(a.net), 1);
    if (a_lower) {
        /* A dialled B and has the lower id: its outbound connection stays. */
        WAIT_FOR(r.eof);
        assert_int_equal(a.ups, 1);
        assert_int_equal(a.downs, 0);
    } else {
        /* B has the lower id: the connection B dialled (the raw one) stays. */
        WAIT_FOR(a.downs == 1 && a.ups == 2);
        run_for(100);
        assert_false(r.eof);
        p2p_peer_stats st;
        assert_non_null(a.last_up);
        p2p_peer_get_stats(a.last_up, &st);
        assert_int_equal(st.outbound, 0);
    }
    assert_int_equal(npeers(&a), 1);
    raw_close(&r);

    /* Same direction (two inbound with key 7): the older stays. */
    raw_peer r1, r2;
    raw_connect(&r1, 7, p2p_net_listen_port(a.net), 1);
    uint8_t id7[P2P_NODE_ID_LEN];
    p2p_node_id(r1.key.pubkey, id7);
    WAIT_FOR(r1.open && count_peer(&a, id7) == 1);
    raw_connect(&r2, 7, p2p_net_listen_port(a.net), 1);
    WAIT_FOR(r2.eof);
    run_for(50);
    assert_false(r1.eof);
    assert_int_equal(count_peer(&a, id7), 1);
    raw_close(&r2);
    raw_close(&r1);
    node_stop(&a);
    node_stop(&b);
    loop_close();
}

static void test_duplicate_connections(void **state)
{
    (void)state;
    duplicate_case(1, 2);
    duplicate_case(2, 1);
}

/* Host names go through getaddrinfo (on the loop's thread pool); a stop
 * while a name is being resolved still closes everything. */
static void test_dial_by_name(void **state)
{
    (void)state;
    loop_open();
    tnode a, b, c;
    node_init(&a, 1);
    node_start(&a);
    char host[256] = "";
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int named = gethostname(host, sizeof host) == 0 && strlen(host) <= P2P_HOST_MAX &&
                getaddrinfo(host, NULL, &hints, &res) == 0 && res &&
                ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    if (res) freeaddrinfo(res);
    if (named) {
        node_init(&b, 2);
        dial_to(&b, &a);
        snprintf(b.persistent[0].host, sizeof b.persistent[0].host, "%s", host);
        node_start(&b);
        WAIT_FOR(b.ups == 1);
        node_stop(&b);
    } else {
        printf("test_dial_by_name: %s does not resolve to 127.0.0.1; only the stop is tested\n",
               host);
    }
    node_init(&c, 3);
    dial_to(&c, &a);
    snprintf(c.persistent[0].host, sizeof c.persistent[0].host, "nothing.invalid");
    node_start(&c);
    node_stop(&c);
    node_stop(&a);
    loop_close();
}

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_p2p_net.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
}

static void rm_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* A ban survives a restart through the book; so do addresses. */
static void test_ban_survives_restart(void **state)
{
    (void)state;
    make_tmpdir();
    char path[300];
    snprintf(path, sizeof path, "%s/peers.json", tmpdir);
    loop_open();
    tnode a, b;
    node_init(&a, 1);
    a.einval_type = P2P_MSG_TXS;
    a.cfg.book_path = path;
    node_start(&a);
    uint16_t port = p2p_net_listen_port(a.net);
    node_init(&b, 2);
    dial_to(&b, &a);
    node_start(&b);
    WAIT_FOR(b.ups == 1);
    uint8_t junk[4] = {0};
    assert_int_equal(p2p_net_send(b.last_up, P2P_MSG_TXS, junk, sizeof junk, NULL), 0);
    WAIT_FOR(stats_of(&a).bans == 1);
    node_stop(&a);

    p2p_book *bk = p2p_book_new(NULL, path);
    assert_non_null(bk);
    assert_int_equal(p2p_book_load(bk, util_env_wall_ms(NULL), NULL), 0);
    const p2p_ban *ban = p2p_book_banned(bk, p2p_net_node_id(b.net), util_env_wall_ms(NULL));
    assert_non_null(ban);
    assert_non_null(strstr(ban->reason, "bad_tx"));
    /* B's address too: the socket's IP with the port B announced. */
    const p2p_book_addr *ba = p2p_book_find(bk, p2p_net_node_id(b.net));
    assert_non_null(ba);
    assert_string_equal(ba->a.host, "127.0.0.1");
    assert_int_equal(ba->a.port, p2p_net_listen_port(b.net));
    p2p_book_free(bk);

    a.cfg.listen_port = port;
    int downs = b.downs;
    node_start(&a);
    WAIT_FOR(b.downs >= downs + 3);
    assert_int_equal(a.ups, 1); /* only the first session, before the restart */
    node_stop(&b);
    node_stop(&a);
    loop_close();
    rm_tmpdir();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_messages), cmocka_unit_test(test_wrong_expected_id),
        cmocka_unit_test(test_persistent_reconnect),   cmocka_unit_test(test_inbound_limit),
        cmocka_unit_test(test_invalid_message_bans),   cmocka_unit_test(test_penalize_to_ban),
        cmocka_unit_test(test_oversized_frame_bans),   cmocka_unit_test(test_slow_peer_dropped),
        cmocka_unit_test(test_ping_timeout),           cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_peer_exchange),          cmocka_unit_test(test_one_connection_per_id),
        cmocka_unit_test(test_duplicate_connections),  cmocka_unit_test(test_dial_by_name),
        cmocka_unit_test(test_ban_survives_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
