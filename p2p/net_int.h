/* Internal to p2p/net.c and p2p/peer_conn.c: the transport's state. net.c
 * owns the listener, dialling, persistent peers, peer exchange, bans and the
 * book; peer_conn.c owns one connection's socket, session, timers and send
 * queue. Everything runs on the net's loop. */
#ifndef OL_P2P_NET_INT_H
#define OL_P2P_NET_INT_H

#include "p2p/book.h"
#include "p2p/net.h"
#include "util/bytes.h"

#define P2P_READ_CHUNK 65536
/* Housekeeping: peer exchange dials, book saves. */
#define P2P_TICK_MS 1000
#define P2P_BOOK_SAVE_MS 30000
#define P2P_PEX_ASK_MS 60000
/* A persistent peer's session that lasted this long resets its backoff. */
#define P2P_STABLE_MS 10000

enum p2p_conn_state {
    P2P_CONN_RESOLVING, /* outbound, waiting for getaddrinfo */
    P2P_CONN_CONNECTING,
    P2P_CONN_HANDSHAKE,
    P2P_CONN_OPEN,
    P2P_CONN_CLOSED, /* handles closing; freed by their callbacks */
};

typedef struct p2p_persist {
    p2p_peer_addr a;
    uv_timer_t timer;
    uint64_t backoff_ms; /* the next delay before jitter */
    p2p_net *net;
} p2p_persist;

struct p2p_peer {
    p2p_net *net;
    p2p_peer *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer; /* handshake timeout, then the ping ticker */
    uv_connect_t connect;
    uv_getaddrinfo_t gai;
    int handles_open;
    int resolving;
    enum p2p_conn_state state;
    int outbound;
    int persistent; /* index in net->pers, or -1 */
    int has_target; /* outbound: dialled by id */
    p2p_peer_addr target;
    p2p_session *s;
    p2p_peer_info info; /* once open */
    char addr[P2P_HOST_MAX + 8];
    char ip[P2P_HOST_MAX + 1];
    int up; /* peer_up was called, peer_down not yet */
    int score;
    void *user;
    uint64_t bytes_in, bytes_out, msgs_in, msgs_out;
    uint64_t connected_ms;
    uint64_t open_ns;
    uint64_t last_rx_ns, last_ping_ns, last_pex_ns;
    size_t queued; /* bytes in writes not yet completed */
    int asked_peers;
};

struct p2p_net {
    uv_loop_t *loop;
    const util_env *env;
    chain_keypair key;
    char *chain_id;
    uint8_t genesis_hash[32];
    uint8_t id[P2P_NODE_ID_LEN];
    p2p_net_cfg cfg; /* defaults filled; pointers not to be used (copied apart) */
    uv_tcp_t listener;
    int listening;
    uint16_t port;
    uv_timer_t tick;
    uint64_t last_save_ns;
    p2p_persist *pers;
    size_t n_pers;
    p2p_peer *head, *tail;
    int n_in, n_out; /* live connections by direction, handshakes included */
    p2p_net_stats stats;
    p2p_book *book;
    size_t handles; /* handles and requests not yet closed or called back */
    int stopping;
    void (*stop_cb)(void *arg);
    void *stop_arg;
    uint64_t ping_nonce;
    uint8_t rbuf[P2P_READ_CHUNK];
};

/* peer_conn.c */
p2p_peer *p2p_conn_new(p2p_net *n, int outbound);
/* Starts the handshake on a connected socket. */
void p2p_conn_start(p2p_peer *p);
/* The session opened: the ping ticker replaces the handshake timeout. */
void p2p_conn_start_ticker(p2p_peer *p);
/* Resolves and connects p->target (outbound). */
void p2p_conn_dial(p2p_peer *p);
/* Closes the connection (idempotent); calls peer_down when it was up. */
void p2p_conn_close(p2p_peer *p, const char *reason);
void p2p_conn_handle_closed(uv_handle_t *h);

/* net.c, called by peer_conn.c */
/* The session opened: refuse self, bans and duplicates, then peer_up.
 * Returns 0 when the peer stays. */
int p2p_net_on_open(p2p_peer *p);
/* A message of a type the net handles itself. */
void p2p_net_on_own_msg(p2p_peer *p, uint8_t type, const uint8_t *payload, size_t len);
/* A connection closed (after peer_down): redials, book. */
void p2p_net_on_closed(p2p_peer *p, int was_open);
void p2p_net_maybe_stopped(p2p_net *n);

#endif
