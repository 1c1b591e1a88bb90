/* The one interface through which the JSON-RPC methods see the node, as
 * CometBFT's rpc/core/env.go does: the store and genesis they read, the
 * mempool they look into, and the node's hooks for everything else. The
 * methods never include node/; the node fills one rpc_env and registers every
 * family with it (rpc_methods_register).
 *
 * Methods read committed data from the store (through chain functions, never
 * raw keys) and pending data from the mempool; they never write state: a new
 * transaction goes to the node through submit_tx. The env is borrowed and must
 * outlive the dispatch table; the node may change its fields between calls
 * (admin_mempoolFlush replaces the mempool), never during one. Shapes are
 * documented in docs/rpc.md. */
#ifndef OL_RPC_METHODS_ENV_H
#define OL_RPC_METHODS_ENV_H

#include <jansson.h>
#include <stddef.h>

#include "chain/mempool/mempool.h"
#include "chain/state/store.h"
#include "chain/types/genesis.h"
#include "chain/types/tx.h"
#include "rpc/jsonrpc.h"
#include "util/err.h"

struct rpc_subs;

typedef struct rpc_env {
    chain_store *store;
    const chain_genesis *genesis;
    chain_mempool *mempool;        /* read-only use; read on each call */
    chain_mempool_cfg mempool_cfg; /* the pool's limits, for mempool_status */
    /* The subscription hub the node feeds with blocks and transactions
     * (rpc/methods/subs.h); NULL: no subscription methods. */
    struct rpc_subs *subs;

    /* Hands a decoded transaction to the node, which may check its
     * signature in place (sig_checked) and charges VM work to call's
     * budgets; returns a chain_mempool reason (CHAIN_MP_OK when admitted). */
    int (*submit_tx)(void *ctx, const rpc_call *call, chain_tx *tx, util_err *err);
    /* Optional: the transaction a batch hook already decoded from this very
     * param (pointer identity, within the batch being dispatched), so
     * tx_send need not decode it again; NULL when there is none. */
    chain_tx *(*batch_tx)(void *ctx, const json_t *param);
    /* Optional: brackets VM work that reads only the store (contract_call),
     * so the node can release its lock meanwhile; vm_end gets vm_begin's
     * result. */
    unsigned (*vm_begin)(void *ctx);
    void (*vm_end)(void *ctx, unsigned token);
    /* admin_mempoolFlush: empties the mempool (the node may replace it and
     * update `mempool`); returns how many transactions were dropped. */
    size_t (*mempool_flush)(void *ctx);

    /* Reserved for the peer-to-peer layer. Both optional (NULL: no
     * peer-to-peer layer, the answers say nothing about peers).
     * p2p_status adds the layer's fields (node id, listen address, whether
     * the node is syncing and its target height, ...) to the object
     * node_status is building, after the chain's fields; 0, or -1 when
     * memory runs out (node_status then fails with -32603).
     * p2p_peers returns the array node_peers answers (a new reference, one
     * object per peer), or NULL when memory runs out. */
    int (*p2p_status)(void *ctx, json_t *status);
    json_t *(*p2p_peers)(void *ctx);

    /* The consensus engine's view (node/consensus.c). Both optional.
     * cons_status adds "consensus" ({height, round, step} or null when the
     * node runs no engine) to node_status's object: 0, or -1 out of memory.
     * cons_state returns consensus_state's answer (a new reference), or NULL
     * when memory runs out. */
    int (*cons_status)(void *ctx, json_t *status);
    json_t *(*cons_state)(void *ctx);

    /* The rollup's view (node/rollup.c, docs/rollup.md). Optional.
     * l1_status adds "l1Head", "safe" and "finalized" (numbers, or null when
     * the node has no L1) and "l1" (details: endpoint, contracts, latest
     * batch and output with their L1 transactions, or null) to node_status's
     * object: 0, or -1 out of memory. */
    int (*l1_status)(void *ctx, json_t *status);

    void *ctx; /* every hook's first argument */
} rpc_env;

/* Registers every method family on d with env: the chain, contract and
 * attribution methods, the queries, the subscriptions (when env->subs is
 * set), the admin methods and rpc_discover (last, to describe them all).
 * env is borrowed and must outlive d. 0 or -1. */
OL_MUST_CHECK int rpc_methods_register(rpc_dispatch *d, rpc_env *env);

#endif
