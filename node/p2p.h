/* The node's peer-to-peer wiring (docs/p2p.md, docs/node.md "Peers"): the
 * transport (p2p/net.h) on the node's loop, transaction gossip
 * (p2p/gossip.h) through the node's own admission, and block sync
 * (p2p/sync.h) through the block executor, exactly as import-blocks does.
 * Not a public interface: node/ only.
 *
 * Threads: the net and every callback run on the main loop and take
 * node_lock around store and mempool work. node_p2p_tx_admitted and the
 * RPC/metrics readers may run on RPC worker threads: they only touch the
 * outbox and the snapshot, each under its own mutex. */
#ifndef OL_NODE_P2P_H
#define OL_NODE_P2P_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "chain/crypto/keys.h"
#include "chain/types/block.h"
#include "chain/types/tx.h"
#include "chain/types/tx_sigs.h"
#include "p2p/gossip.h"
#include "p2p/net.h"
#include "p2p/sync.h"
#include "util/err.h"

struct node;

/* One connected peer, as the node knows it. */
typedef struct node_peer {
    uint64_t token; /* connection serial, never 0, never reused */
    p2p_peer *p;
} node_peer;

/* A snapshot for readers on other threads (refreshed on the main loop). */
typedef struct node_peer_snap {
    p2p_peer_stats st;
    uint64_t height;
} node_peer_snap;

#define NODE_P2P_MAX_PEERS 128
/* Ranges popped at once: the next ones have their signatures checked on
 * the pool while the first executes on the loop. */
#define NODE_P2P_PIPELINE 3

/* A range of blocks received for sync: decoded on arrival, its signatures
 * checked on the libuv pool in chunks (in height order), and each block
 * applied on the loop, in order, as soon as its own signatures are checked. */
typedef struct node_range {
    struct node_p2p *np;
    uint64_t peer, from;
    uint32_t n;
    chain_block *blocks;
    chain_commit *commits;
    size_t *tx_at;     /* n + 1 prefix sums of the blocks' tx counts */
    uint32_t *pending; /* per block: chunks touching it not yet checked */
    /* under np->sig_lock (pool workers claim chunks from the pipeline): */
    size_t next_tx; /* first transaction not yet claimed for checking */
    int inflight;   /* chunks being checked */
    /* loop only: */
    uint32_t next;      /* next block to apply */
    uint64_t queued_ns; /* monotonic, when it entered the pipeline */
    uint64_t checked_ns, exec_ns;
    struct node_range *grave_next;
} node_range;

typedef struct node_p2p {
    struct node *n;
    p2p_net *net;
    chain_keypair key;
    uint8_t id[P2P_NODE_ID_LEN];
    char id_hex[2 * P2P_NODE_ID_LEN + 1];
    char listen[P2P_HOST_MAX + 8]; /* "host:port", "" when not listening */
    p2p_gossip *gossip;
    p2p_sync *sync;
    node_peer peers[NODE_P2P_MAX_PEERS];
    size_t npeers;
    uint64_t next_token;
    uv_timer_t tick;
    uv_async_t wake;
    int handles;                         /* tick and wake initialised */
    int stopping;                        /* node shutting down: ranges in flight are dropped */
    int stopped;                         /* the net called back from p2p_net_stop */
    int pumping;                         /* inside node_p2p_sync_pump */
    node_range *pipe[NODE_P2P_PIPELINE]; /* popped ranges, in height order */
    size_t npipe;
    /* Signature checks: up to sig_max workers on the pool take chunks of
     * the pipeline's ranges (pipe, npipe, and the ranges' claim fields are
     * under sig_lock); ranges out of the pipeline while a worker still
     * checks a chunk of theirs wait in graves. */
    uv_mutex_t sig_lock;
    int sig_workers, sig_max;
    int sig_stop; /* stopping: workers take no more chunks, send no wake */
    node_range *graves;
    chain_sig_cache *loop_keys; /* the loop's key cache when it checks a chunk itself */
    int was_syncing;
    uint64_t progress_ms, progress_height, progress_start_ms, progress_start_height;
    /* outbox: transactions admitted (any thread) waiting to be gossiped */
    uv_mutex_t out_lock;
    util_buf out_txs; /* concatenated encodings */
    size_t *out_len;  /* their lengths */
    size_t out_n, out_cap;
    int announce; /* the head moved: send STATUS */
    /* snapshot for RPC and metrics */
    uv_mutex_t snap_lock;
    node_peer_snap snap[NODE_P2P_MAX_PEERS];
    size_t nsnap;
    p2p_net_stats net_stats;
    uint64_t snap_height, snap_target;
    int snap_syncing;
    uint64_t snap_blocks;
    /* counters (main loop; copied into the snapshot) */
    uint64_t blocks_synced, sync_bans, txs_in, txs_relayed, ranges_served;
    /* thread CPU of this sync's checks on the pool ([0]) and on the loop
     * ([1]) (under sig_lock), and of its executions, for the debug log at
     * "caught up" */
    uint64_t sig_cpu_ns[2], sig_checks[2], exec_cpu_ns;
} node_p2p;

/* Starts the layer when cfg asks for it (n->p2p stays NULL with --p2p
 * off). Loads or creates the node key, logs "node id ID listening on
 * HOST:PORT". */
OL_MUST_CHECK int node_p2p_start(struct node *n, util_err *err);
/* Closes every connection, runs the loop until the net has closed. */
void node_p2p_stop(struct node *n);
/* After the loop is closed. */
void node_p2p_free(struct node *n);

/* Hooks from node.c (any thread for tx_admitted; main loop for the head). */
void node_p2p_tx_admitted(struct node *n, const chain_tx *tx);
void node_p2p_head_changed(struct node *n);

/* RPC hooks (rpc_env.p2p_status, rpc_env.p2p_peers; ctx is the node), any
 * thread. */
int node_p2p_status_json(void *ctx, json_t *status);
OL_MUST_CHECK json_t *node_p2p_peers_json(void *ctx);
/* Appends the Prometheus lines of the layer to *body (realloc'd). */
void node_p2p_metrics(struct node *n, char **body, size_t *len);

/* node/p2p_sync.c: sync's side of the message handler and its timer work. */
OL_MUST_CHECK int node_p2p_on_get_blocks(node_p2p *np, node_peer *pp, const uint8_t *payload,
                                         size_t len, util_err *err);
OL_MUST_CHECK int node_p2p_on_blocks(node_p2p *np, node_peer *pp, const uint8_t *payload,
                                     size_t len, util_err *err);
/* Sends due requests, bans expired peers, applies what is ready, logs
 * progress. */
void node_p2p_sync_pump(node_p2p *np);
void node_p2p_range_free(void *range);
node_peer *node_p2p_find(node_p2p *np, uint64_t token);
void node_p2p_send_status(node_p2p *np, p2p_peer *to);

/* Block sync's signature checks (node/p2p_sync.c), reached by its unit test:
 * the checks of the flattened transactions [lo, hi) of r, at most
 * NODE_SYNC_SIG_CHUNK, through chain_tx_check_sigs (chain/types/tx_sigs.h):
 * exactly the valid ones are flagged; a NULL cache checks one by one. */
#define NODE_SYNC_SIG_CHUNK CHAIN_TX_SIGS_MAX
void node_sync_check_txs(node_range *r, size_t lo, size_t hi, const uint8_t gh[32],
                         chain_sig_cache *cache);

#endif
