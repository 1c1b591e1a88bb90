/* The peer-to-peer transport: libuv TCP on the node's loop, one encrypted
 * session (p2p/session.h) per connection, and the peers' bookkeeping:
 * persistent peers dialled with reconnect and backoff, inbound and outbound
 * limits, bounded send queues, ping/pong with timeouts, peer exchange, the
 * peer book in the datadir, and bans for misbehaviour (docs/p2p.md,
 * "Peers"). What the messages mean (gossip, block sync) is the user's
 * business, through p2p_net_handler; this module only handles AUTH, PING,
 * PONG, GET_PEERS and PEERS itself.
 *
 * Bounds per connection (documented in docs/p2p.md): a handshake must finish
 * in handshake_timeout_ms and costs one ECDH and one signature check; a
 * frame is refused on its 5-byte header when its length passes the type's
 * limit (the handler's max_len), so at most that much is buffered; the send
 * queue holds at most send_queue_max bytes, past which the peer is dropped.
 *
 * Threads: everything runs on cfg.loop; callbacks are called from it. The
 * net borrows the loop, the env and the node key for its life. A p2p_peer
 * pointer is valid from peer_up until peer_down returns. */
#ifndef OL_P2P_NET_H
#define OL_P2P_NET_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "p2p/msg.h"
#include "p2p/session.h"
#include "util/env.h"
#include "util/err.h"

typedef struct p2p_net p2p_net;
typedef struct p2p_peer p2p_peer;

typedef struct p2p_net_handler {
    void *ctx;
    /* A session opened (the peer is authenticated) / a peer is gone. */
    void (*peer_up)(void *ctx, p2p_peer *p);
    void (*peer_down)(void *ctx, p2p_peer *p);
    /* Largest payload accepted now for this type from this peer, 0 to refuse
     * it (a BLOCKS nobody asked for; the peer is then banned). NULL:
     * p2p_msg_max_len. Not asked for the types the net handles itself. */
    size_t (*max_len)(void *ctx, p2p_peer *p, uint8_t type);
    /* A message other than the ones the net handles itself. Returns 0, or
     * UTIL_EINVAL with err set when the peer misbehaved (the net bans it,
     * err's text becomes the ban reason); other codes just drop the peer. */
    int (*message)(void *ctx, p2p_peer *p, uint8_t type, const uint8_t *payload, size_t len,
                   util_err *err);
} p2p_net_handler;

typedef struct p2p_net_cfg {
    uv_loop_t *loop;
    const util_env *env;           /* NULL: the default */
    const chain_keypair *node_key; /* copied */
    const char *chain_id;
    uint8_t genesis_hash[32];
    char listen_host[P2P_HOST_MAX + 1]; /* "" : do not listen */
    uint16_t listen_port;               /* 0 with a host: any free port (tests) */
    const p2p_peer_addr *persistent;    /* dialled and re-dialled forever */
    size_t n_persistent;
    int pex;                       /* 1: ask peers for addresses and dial them */
    int max_inbound;               /* 0: 40 */
    int max_outbound;              /* 0: 10 (persistent peers count, and are always dialled) */
    size_t send_queue_max;         /* bytes; 0: 32 MiB */
    uint64_t handshake_timeout_ms; /* 0: 10 s */
    uint64_t ping_interval_ms;     /* 0: 15 s */
    uint64_t ping_timeout_ms;      /* 0: 30 s without any frame drops the peer */
    uint64_t ban_ms;               /* 0: 10 min */
    uint64_t backoff_min_ms;       /* 0: 500 ms, doubled per failure */
    uint64_t backoff_max_ms;       /* 0: 60 s */
    const char *book_path;         /* the peer book (addresses, bans); NULL: in memory only */
    p2p_net_handler handler;
} p2p_net_cfg;

/* Binds the listener (when asked) and starts dialling. */
OL_MUST_CHECK int p2p_net_start(p2p_net **out, const p2p_net_cfg *cfg, util_err *err);
/* Closes every connection (peer_down for each open one) and handle; cb(arg)
 * is called on the loop once all are closed, and only then may the net be
 * freed with p2p_net_free. Saves the peer book. */
void p2p_net_stop(p2p_net *n, void (*cb)(void *arg), void *arg);
void p2p_net_free(p2p_net *n);

/* This node's id, and the port it listens on (0 when not listening). */
const uint8_t *p2p_net_node_id(const p2p_net *n);
uint16_t p2p_net_listen_port(const p2p_net *n);

/* Queues one message to a peer. A peer whose queue would pass
 * send_queue_max is disconnected ("slow peer") and UTIL_ELIMIT returned (so
 * send_queue_max must exceed the largest frame). UTIL_ESTATE when the peer
 * is not open (e.g. inside peer_down). */
OL_MUST_CHECK int p2p_net_send(p2p_peer *p, uint8_t type, const uint8_t *payload, size_t len,
                               util_err *err);
/* Sends to every open peer except `except` (may be NULL). */
void p2p_net_broadcast(p2p_net *n, p2p_peer *except, uint8_t type, const uint8_t *payload,
                       size_t len);
/* Disconnects and bans the peer's id for ban_ms, recording why. */
void p2p_net_ban(p2p_peer *p, const char *reason);
void p2p_net_disconnect(p2p_peer *p, const char *reason);

typedef struct p2p_peer_stats {
    uint8_t id[P2P_NODE_ID_LEN];
    char addr[P2P_HOST_MAX + 8]; /* "host:port" of the socket */
    int outbound;
    int persistent;
    int score; /* misbehaviour points; a ban at P2P_BAN_SCORE */
    uint64_t bytes_in, bytes_out, msgs_in, msgs_out;
    uint64_t connected_ms; /* wall clock at open */
} p2p_peer_stats;
#define P2P_BAN_SCORE 100

void p2p_peer_get_stats(const p2p_peer *p, p2p_peer_stats *out);
const p2p_peer_info *p2p_peer_get_info(const p2p_peer *p);
/* The user's per-peer pointer (gossip and sync state). */
void p2p_peer_set_user(p2p_peer *p, void *user);
void *p2p_peer_user(const p2p_peer *p);
/* Adds points; reaching P2P_BAN_SCORE bans the peer. */
void p2p_peer_penalize(p2p_peer *p, int points, const char *reason);

/* The open peers, in connection order: fills up to max, returns the count. */
size_t p2p_net_peers(p2p_net *n, p2p_peer **out, size_t max);

typedef struct p2p_net_stats {
    uint64_t peers_in, peers_out;
    uint64_t bytes_in, bytes_out;
    uint64_t msgs_in[256], msgs_out[256]; /* by type */
    uint64_t bans, handshake_failures, dropped_slow;
    uint64_t inbound_refused; /* closed at accept: over max_inbound */
} p2p_net_stats;
void p2p_net_get_stats(const p2p_net *n, p2p_net_stats *out);

#endif
