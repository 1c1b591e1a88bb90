/* Query methods for wallets and explorers: chain_getBlockRange,
 * chain_getReceipt, chain_getGenesis, tx_list, tx_estimateGas,
 * mempool_status, node_peers.
 *
 * Read-only, like rpc/methods/chain.c; shapes in docs/rpc.md. */
#ifndef OL_RPC_METHODS_QUERIES_H
#define OL_RPC_METHODS_QUERIES_H

#include "rpc/jsonrpc.h"
#include "rpc/methods/env.h"
#include "util/err.h"

#define RPC_PAGE_DEFAULT 30
#define RPC_PAGE_MAX 100

/* env is borrowed and must outlive d. 0 or -1. */
OL_MUST_CHECK int rpc_methods_queries_register(rpc_dispatch *d, rpc_env *env);

/* Admin methods (RPC_METHOD_ADMIN): admin_mempoolFlush (env->mempool_flush),
 * admin_setLogLevel. */
OL_MUST_CHECK int rpc_methods_admin_register(rpc_dispatch *d, rpc_env *env);

#endif
