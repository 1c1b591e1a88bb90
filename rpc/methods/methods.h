/* The chain's JSON-RPC methods (node_status, chain_getBlock,
 * chain_getTransaction, tx_send, account_get, state_getProof).
 *
 * Methods read committed data from the store and pending data from the
 * mempool; they never write state: a new transaction goes to the node through
 * submit_tx. The api struct is borrowed and must outlive the dispatch table.
 * Shapes are documented in docs/rpc.md. */
#ifndef OL_RPC_METHODS_H
#define OL_RPC_METHODS_H

#include <jansson.h>

#include "chain/types/block.h"
#include "chain/types/genesis.h"
#include "chain/mempool/mempool.h"
#include "chain/state/store.h"
#include "rpc/jsonrpc.h"
#include "util/err.h"

typedef struct rpc_chain_api {
    chain_store *store;
    const chain_genesis *genesis;
    chain_mempool *mempool; /* read-only use */
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
    /* Optional, the peer-to-peer layer: p2p_status adds nodeId, p2pListen,
     * syncing, syncTarget and peers to node_status's object; p2p_peers
     * returns node_peers' array (a new reference, NULL on OOM). NULL: a
     * node without the layer (no such fields, no peers). */
    void (*p2p_status)(void *ctx, json_t *status);
    json_t *(*p2p_peers)(void *ctx);
    void *ctx;
} rpc_chain_api;

/* Registers the chain methods and the other families that read the same
 * store (contracts, attribution). */
OL_MUST_CHECK int rpc_methods_chain_register(rpc_dispatch *d, rpc_chain_api *api);
OL_MUST_CHECK int rpc_methods_contract_register(rpc_dispatch *d, rpc_chain_api *api);

/* JSON shapes shared by method families (new references, NULL on OOM). */
OL_MUST_CHECK json_t *rpc_json_header(const chain_header *h);
OL_MUST_CHECK json_t *rpc_json_tx(const chain_tx *tx);
OL_MUST_CHECK json_t *
rpc_json_receipt(const chain_receipt *r); /* with events, return data, created */
OL_MUST_CHECK json_t *rpc_json_event(const chain_event *ev);

#endif
