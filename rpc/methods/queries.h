/* Query methods for wallets and explorers: chain_getBlockRange,
 * chain_getReceipt, chain_getGenesis, tx_list, tx_estimateGas,
 * mempool_status, node_peers.
 *
 * Read-only, like rpc/methods/chain.c; shapes in docs/rpc.md. */
#ifndef OL_RPC_METHODS_QUERIES_H
#define OL_RPC_METHODS_QUERIES_H

#include "chain/mempool/mempool.h"
#include "rpc/jsonrpc.h"
#include "rpc/methods/methods.h"
#include "util/err.h"

#define RPC_PAGE_DEFAULT 30
#define RPC_PAGE_MAX 100

typedef struct rpc_queries_api {
    rpc_chain_api *chain;      /* borrowed; its mempool pointer is read on each call */
    chain_mempool_cfg mempool; /* limits, for mempool_status */
} rpc_queries_api;

/* api is borrowed and must outlive d. 0 or -1. */
OL_MUST_CHECK int rpc_methods_queries_register(rpc_dispatch *d, rpc_queries_api *api);

/* Admin methods (RPC_METHOD_ADMIN): admin_mempoolFlush, admin_setLogLevel. */
typedef struct rpc_admin_api {
    /* Empties the mempool; returns how many transactions were dropped. */
    size_t (*mempool_flush)(void *ctx);
    void *ctx;
} rpc_admin_api;

OL_MUST_CHECK int rpc_methods_admin_register(rpc_dispatch *d, rpc_admin_api *api);

#endif
