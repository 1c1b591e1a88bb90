/* The node's consensus wiring (docs/consensus.md, "How the node runs the
 * engine"): the engine of consensus/engine.h on the node's loop, its timers
 * as libuv timers, its messages over p2p (types 0x20..0x22), blocks built
 * and checked by the block executor, every signature recorded first in the
 * WAL and the signer state of DATADIR/consensus/. Not a public interface:
 * node/ only.
 *
 * It runs when the genesis has more than one validator, this node's key is
 * one of them and holds no more than 2/3 of the power alone; otherwise every
 * call below does nothing (the single-validator devnet keeps its producer).
 *
 * Threads: everything runs on the main loop under node_lock; the RPC hooks
 * are called by methods, which hold the lock too. */
#ifndef OL_NODE_CONSENSUS_H
#define OL_NODE_CONSENSUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/net.h"
#include "util/err.h"

struct node;

#define NODE_CONS_DIR "consensus"
#define NODE_CONS_SIGNER_FILE "signer_state"

/* 1 when the node should run consensus (the rule above). */
OL_MUST_CHECK int node_cons_wanted(const struct node *n);
/* After the p2p layer started: opens the WAL and the signer state, replays
 * the height in progress, starts the engine at the head + 1. */
OL_MUST_CHECK int node_cons_start(struct node *n, util_err *err);
/* Before the loop's handles are closed / after the loop is closed. */
void node_cons_stop(struct node *n);
void node_cons_free(struct node *n);

/* A consensus message from a peer (p2p type 0x20..0x2f). 0, or an error the
 * net bans for (a bad signature, a malformed message). */
OL_MUST_CHECK int node_cons_on_message(struct node *n, p2p_peer *from, uint8_t type,
                                       const uint8_t *payload, size_t len, util_err *err);
/* A new peer: it gets the current round's proposal and votes. */
void node_cons_peer_up(struct node *n, p2p_peer *p);
/* The store's head moved (a decision here, or block sync). */
void node_cons_head_changed(struct node *n);
/* A transaction entered the pool (any thread, under node_lock): a proposer
 * waiting for one builds its block. */
void node_cons_tx_admitted(struct node *n);

/* RPC hooks (rpc_env.cons_status, rpc_env.cons_state) and /metrics. */
int node_cons_status_json(void *ctx, json_t *status);
json_t *node_cons_state_json(void *ctx);
void node_cons_metrics(struct node *n, char **body, size_t *len);

#endif
