/* Output signatures between validators (docs/rollup.md, "Output signatures
 * between validators"; docs/p2p.md, "OUTPUT_SIG (0x23)"). Every
 * params.outputIntervalBlocks-th height, a validator node signs the output
 * root of the block it committed and sends it to its peers; every node keeps
 * the signatures it sees for the last output heights, checks them against
 * its own root, relays the new ones, and hands them to a sink (the L1
 * proposer, when the node runs one). rollup_outputSignatures shows them.
 * Not a public interface: node/ only.
 *
 * Memory: NODE_OUTSIG_SLOTS output heights of CHAIN_MAX_VALIDATORS
 * signatures (about 100 KiB) and NODE_OUTSIG_EVIDENCE evidence records, all
 * allocated once at start.
 *
 * Threads: everything runs on the main loop or in RPC methods, under
 * node_lock. */
#ifndef OL_NODE_OUTPUT_SIGS_H
#define OL_NODE_OUTPUT_SIGS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/types/block.h"
#include "p2p/net.h"
#include "rpc/jsonrpc.h"
#include "util/err.h"

struct node;

/* The window, in output heights: the last NODE_OUTSIG_BEHIND at or below
 * the head, and the next NODE_OUTSIG_AHEAD above it (peers a little ahead
 * sign before this node has the block). */
#define NODE_OUTSIG_BEHIND 12
#define NODE_OUTSIG_AHEAD 4
#define NODE_OUTSIG_SLOTS (NODE_OUTSIG_BEHIND + NODE_OUTSIG_AHEAD)
#define NODE_OUTSIG_EVIDENCE 16

/* Where signatures go besides the node's own set (the proposer's
 * rollup_proposer_add_sig): only those of the node's own root, once it has
 * the block. Returns UTIL_ESTATE for "not now" (a height the sink does not
 * await yet): the signature is offered again after each committed block
 * while it is in the window; any other value takes it (or drops it) for
 * good. Called under node_lock on the main loop. */
typedef int (*node_outsig_sink_fn)(void *ctx, uint64_t height, const uint8_t root[32],
                                   const uint8_t sig[65]);

OL_MUST_CHECK int node_outsig_start(struct node *n, util_err *err);
void node_outsig_free(struct node *n);
void node_outsig_set_sink(struct node *n, node_outsig_sink_fn fn, void *ctx);

/* A block was committed (node_block_committed): at an output height, the
 * node's own root is computed and, on a validator, signed and sent. */
void node_outsig_block_committed(struct node *n, const chain_block *b, const uint8_t id[32]);
/* An OUTPUT_SIG from a peer. 0 (kept, relayed, or ignored), or UTIL_EINVAL
 * for what a correct relayer never sends (the peer is banned). */
OL_MUST_CHECK int node_outsig_on_message(struct node *n, p2p_peer *from, const uint8_t *payload,
                                         size_t len, util_err *err);
/* A peer's STATUS moved its head from `from` to `to`: it gets the
 * signatures this node holds for the output heights in (from, to], so a
 * node that was down or syncing collects those it missed. */
void node_outsig_peer_status(struct node *n, p2p_peer *p, uint64_t from, uint64_t to);

/* Registers rollup_outputSignatures on d. 0 or -1. */
OL_MUST_CHECK int node_outsig_register(struct node *n, rpc_dispatch *d);
/* rpc_env.cons_state: consensus_state's object with "outputSignatures"
 * (counters and evidence of validators signing another root) added. */
json_t *node_outsig_cons_state_json(void *ctx);

#endif
