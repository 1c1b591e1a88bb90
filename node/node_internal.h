/* State shared by the files of node/; not a public interface. */
#ifndef OL_NODE_INTERNAL_H
#define OL_NODE_INTERNAL_H

#include <stdatomic.h>
#include <uv.h>

#include "chain/types/genesis.h"
#include "chain/crypto/keys.h"
#include "chain/mempool/mempool.h"
#include "chain/state/store.h"
#include "node/node.h"
#include "rpc/methods/env.h"
#include "util/err.h"

/* The dry run of a transaction on admission (chain/exec/admit.h) stops after
 * this much gas beyond the transaction's intrinsic gas. It is a node
 * policy, not a consensus rule: a transaction whose dry run reaches it is
 * admitted with an unknown outcome and runs in its block with its own gas
 * limit (docs/mempool.md, "Admission order"). At about 2.5 ns per gas in a
 * release build, one capped dry run takes about 12 ms. */
#define NODE_DRY_RUN_GAS_MAX 5000000ull

/* Counters of the admission dry runs, for tests and metrics. */
typedef struct node_dry_run_stats {
    atomic_uint_fast64_t runs;    /* dry runs started (each runs the VM or a body) */
    atomic_uint_fast64_t active;  /* dry runs in progress */
    atomic_uint_fast64_t capped;  /* stopped by NODE_DRY_RUN_GAS_MAX: admitted, outcome unknown */
    atomic_uint_fast64_t skipped; /* the request's work budget was spent: admitted unchecked */
} node_dry_run_stats;

struct rpc_dispatch;
struct rpc_http;
struct rpc_subs;
struct rpc_metrics;
struct rpc_http_cfg;
typedef struct node_rpc_workers node_rpc_workers;
struct node_p2p;

struct node {
    node_cfg cfg;
    uv_loop_t loop;
    uv_timer_t block_timer;
    uv_signal_t sig_int, sig_term;
    chain_genesis genesis;
    chain_store *store;
    chain_mempool *mempool;
    chain_keypair validator;
    uint32_t validator_index; /* UINT32_MAX: the key is not in the genesis validator set */
    int producing;            /* the key alone can commit blocks (docs/node.md) */
    struct rpc_dispatch *dispatch;
    struct rpc_http *http;
    struct rpc_subs *subs;
    struct rpc_metrics *metrics;
    rpc_env rpc_env; /* what the RPC methods see of this node */
    chain_mempool_cfg mempool_cfg;
    uint64_t last_commit_ns; /* monotonic time of the last commit, 0 before the first */
    atomic_int running;      /* the loop runs: /health answers 200 */
    int remove_datadir;
    uint64_t last_block_mono_ns;
    uint64_t blocks_produced;
    int loop_inited;
    /* --rpc-threads N > 1 (node/rpc_workers.c): `lock` serialises every
     * method call, block production and anything else that touches the
     * store, mempool, metrics or subscriptions; rpc_wake brings WebSocket
     * connections that reached a worker to this loop. */
    int multi_loop;
    uv_mutex_t lock;     /* recursive */
    unsigned lock_depth; /* how deep the holder holds `lock` (written by the holder only) */
    uv_async_t rpc_wake;
    node_rpc_workers *workers;
    node_dry_run_stats dry_runs; /* node/txverify.c */
    struct node_p2p *p2p;        /* node/p2p.c; NULL with --p2p off */
    int has_validator_key;       /* 0: a follower without a key */
    struct node_cons *cons;      /* node/consensus.c; NULL when it does not run */
    struct node_outsig *outsig;  /* node/output_sigs.c; set from node_start on */
    struct node_rollup *rollup;  /* node/rollup.c; NULL without --l1 */
    struct node_derive *derive;  /* node/derive.c; NULL unless --derive-from-l1 */
    struct node_bridge *bridge;  /* node/bridge.c; set from node_start on */
};

/* --derive-from-l1 (node/derive.c): start after the RPC server, stop before
 * the loop's handles are closed, free after the loop is closed. The status
 * hook is rpc_env.l1_status. */
OL_MUST_CHECK int node_derive_start(node *n, util_err *err);
void node_derive_stop(node *n);
void node_derive_free(node *n);
OL_MUST_CHECK int node_derive_status_json(void *ctx, json_t *status);

/* --rpc-threads N > 1. Before the main server starts: creates the lock and
 * the wake handle on n->loop, and sets cfg's reuseport and lock hooks. */
OL_MUST_CHECK int node_rpc_workers_prepare(node *n, struct rpc_http_cfg *cfg, util_err *err);
/* After the main server listens: N-1 loops on threads, each with its own
 * server on the same port (SO_REUSEPORT), handing WebSocket upgrades back. */
OL_MUST_CHECK int node_rpc_workers_start(node *n, const struct rpc_http_cfg *cfg, util_err *err);
/* Stops and joins the worker loops; closes the sockets still queued for the
 * main loop. The main loop's handles are left to node_free. */
void node_rpc_workers_stop(node *n);
/* Releases what prepare made, after n->loop is closed. */
void node_rpc_workers_free(node *n);
/* The shared-state lock; no-ops with one loop. */
void node_lock(node *n);
void node_unlock(node *n);
/* For long work that needs no shared state (a dry run, a read-only call:
 * the store is safe to read from any thread): releases the lock however
 * deeply this thread holds it, and returns that depth for node_relock. The
 * caller must hold the lock (with one loop both are no-ops). */
OL_MUST_CHECK unsigned node_unlock_all(node *n);
void node_relock(node *n, unsigned depth);

/* node_http_get with the connection gauges of server srv (the loop serving
 * the scrape). */
OL_MUST_CHECK int node_http_get_srv(node *n, struct rpc_http *srv, const char *path, int *status,
                                    const char **content_type, char **body, size_t *len);

/* Builds, executes, signs and commits the next block from the mempool. With
 * allow_empty = 0 and nothing to include, does nothing. *produced is set to 1
 * when a block was committed. */
OL_MUST_CHECK int node_produce_block(node *n, int allow_empty, int *produced, util_err *err);

/* Called after each block is committed (subscriptions, metrics). The block
 * and receipts are borrowed for the call only. */
void node_block_committed(node *n, const chain_block *b, const uint8_t id[32],
                          const chain_receipt *rs, uint64_t exec_ns, uint64_t commit_ns);

/* Called after a transaction was admitted to the mempool (pending-tx
 * subscriptions, metrics). tx is borrowed for the call only. */
void node_tx_admitted(node *n, const chain_tx *tx);

/* Registers every JSON-RPC method family the node serves on d (the chain,
 * contract, subscription, admin and discovery methods) with n->rpc_env,
 * which must be set up. 0 or -1. The unit test of rpc_discover and
 * docs/rpc.md iterates the table this builds. */
OL_MUST_CHECK int node_register_rpc(node *n, struct rpc_dispatch *d);

/* The node's GET routes (rpc_http_get_fn): /health (200 once the loop runs,
 * else 503) and /metrics (Prometheus text). */
OL_MUST_CHECK int node_http_get(void *ctx, const char *path, int *status, const char **content_type,
                                char **body, size_t *len);

/* Batch preparation of tx_send entries on worker threads, in the admission
 * order of node_submit_tx (stateless limits and signatures, then the pool's
 * rules, then dry runs charged to the batch's budgets); the outcomes serve
 * that batch's entries only, and node_batch_end drops them. */
void node_batch_hook(void *ctx, const rpc_call *call, json_t *batch);
void node_batch_end(void *ctx);
/* The transaction the current batch's hook decoded from this tx_send param
 * (the same json_t), or NULL; valid until node_batch_end. */
OL_MUST_CHECK chain_tx *node_batch_tx(void *ctx, const json_t *param);
/* Admits a decoded transaction (docs/mempool.md, "Admission order"); its VM
 * work is charged to call's budgets. Returns a chain_mempool reason. */
OL_MUST_CHECK int node_submit_tx(void *ctx, const rpc_call *call, chain_tx *tx, util_err *err);
/* rpc_env.vm_begin / vm_end: node_unlock_all / node_relock. */
OL_MUST_CHECK unsigned node_vm_begin(void *ctx);
void node_vm_end(void *ctx, unsigned token);

/* Appends a printf-formatted piece of any length to a /metrics body
 * (*body malloc'd, *len bytes). Out of memory frees *body and sets it NULL,
 * which the /metrics route answers 500, rather than serving a body with a
 * line missing; with *body already NULL it does nothing. */
void node_metrics_appendf(char **body, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
