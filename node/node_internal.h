/* State shared by the files of node/; not a public interface. */
#ifndef OL_NODE_INTERNAL_H
#define OL_NODE_INTERNAL_H

#include <uv.h>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/mempool.h"
#include "chain/store.h"
#include "node/node.h"

struct rpc_dispatch;
struct rpc_http;

typedef struct node_verified {
    uint8_t (*ids)[32]; /* sorted ids of transactions whose signature was checked */
    size_t n, cap;
} node_verified;

struct node {
    node_cfg cfg;
    uv_loop_t loop;
    uv_timer_t block_timer;
    uv_signal_t sig_int, sig_term;
    chain_genesis genesis;
    chain_store *store;
    chain_mempool *mempool;
    chain_keypair validator;
    uint32_t validator_index;
    struct rpc_dispatch *dispatch;
    struct rpc_http *http;
    int remove_datadir;
    uint64_t last_block_mono_ns;
    node_verified verified;
    uint64_t blocks_produced;
    int loop_inited;
};

/* Builds, executes, signs and commits the next block from the mempool. With
 * allow_empty = 0 and nothing to include, does nothing. *produced is set to 1
 * when a block was committed. */
int node_produce_block(node *n, int allow_empty, int *produced, util_err *err);

/* Called after each block is committed (subscriptions, metrics). The block
 * and receipts are borrowed for the call only. */
void node_block_committed(node *n, const chain_block *b, const uint8_t id[32],
                          const chain_receipt *rs, uint64_t exec_ns, uint64_t commit_ns);

/* Batch pre-verification of tx_send signatures on worker threads. */
void node_batch_hook(void *ctx, void *batch /* json_t* array */);
/* Hands a decoded transaction to the mempool; returns a chain_mempool reason. */
int node_submit_tx(void *ctx, const chain_tx *tx, util_err *err);
void node_verified_free(node_verified *v);

#endif
