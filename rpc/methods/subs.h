/* WebSocket subscriptions: subscribe_newBlocks, subscribe_events,
 * subscribe_pendingTransactions and unsubscribe.
 *
 * The hub keeps every live subscription with its session. The node calls
 * rpc_subs_block after each committed block and rpc_subs_pending_tx after
 * each admitted transaction; matching sessions get
 *   {"jsonrpc":"2.0","method":"subscription",
 *    "params":{"subscription":"0x<16 hex>","result":...}}
 * Each notification's JSON is built once and shared by its subscribers.
 * A session that cannot keep up is closed by rpc/transport/ws.c (send limit); its
 * subscriptions go when rpc_subs_session_closed is called.
 *
 * Shapes and filters: docs/rpc.md ("Subscriptions"). Loop thread only. */
#ifndef OL_RPC_SUBS_H
#define OL_RPC_SUBS_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types/block.h"
#include "rpc/jsonrpc.h"
#include "util/err.h"

#define RPC_SUBS_MAX_PER_SESSION 64
#define RPC_SUBS_MAX_TOTAL 65536
#define RPC_SUBS_MAX_FILTER_VALUES 16 /* per filter field */

typedef struct rpc_subs rpc_subs;

OL_MUST_CHECK rpc_subs *rpc_subs_new(void);
void rpc_subs_free(rpc_subs *h);

/* Registers the four methods (WebSocket only: -32601 over HTTP). */
OL_MUST_CHECK int rpc_subs_register(rpc_dispatch *d, rpc_subs *h);

/* For rpc_http_cfg.session_closed (ctx is the hub). */
void rpc_subs_session_closed(void *hub, rpc_session *s);

/* A block was committed (borrowed for the call; rs has b->ntx receipts). */
void rpc_subs_block(rpc_subs *h, const chain_block *b, const uint8_t id[32],
                    const chain_receipt *rs);
/* A transaction entered the mempool. */
void rpc_subs_pending_tx(rpc_subs *h, const chain_tx *tx);

/* Live subscriptions, for metrics. */
size_t rpc_subs_count(const rpc_subs *h);

#endif
