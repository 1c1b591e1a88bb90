/* The node's side of the OPEN bridge (docs/rollup.md, "Bridge"):
 *
 * - the deposit watcher: with --l1 and --rollup-config, on the node's loop,
 *   it reads the Bridge's DepositInitiated logs up to L1 head -
 *   depositConfirmations and keeps the confirmed deposits not yet minted,
 *   by nonce (at most NODE_BRIDGE_MAX_DEPOSITS); it also follows the
 *   OutputOracle's OutputProposed and Frozen logs and the Bridge's
 *   WithdrawalFinalized logs, for the withdrawals' status only;
 * - proposing: the DEPOSIT transactions a proposer puts first in its block;
 * - voting: the L1-view rules a validator checks before it votes for a
 *   proposal (node_bridge_check_deposits, pure, in node/bridge_check.c);
 * - the bridge_* RPC methods (node/bridge_rpc.c) and /metrics.
 *
 * Every node has a node_bridge (the voting rules and the metrics hold
 * without an L1 too); the watcher runs only with an L1. Everything runs on
 * the node's loop or under node_lock. */
#ifndef OL_NODE_BRIDGE_H
#define OL_NODE_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "chain/exec/bridge.h"
#include "chain/types/block.h"
#include "rollup/bridge_abi.h"
#include "rollup/config.h"
#include "rollup/l1/client.h"
#include "util/err.h"

struct node;
struct rpc_dispatch;

/* Confirmed deposits kept, not yet minted. A watcher that holds this many
 * stops reading further L1 blocks until the chain mints some (16 blocks of
 * CHAIN_BLOCK_MAX_DEPOSITS each at most, about 200 KiB). */
#define NODE_BRIDGE_MAX_DEPOSITS 1024
/* L1 blocks per eth_getLogs call (fewer after an answer with more than
 * NODE_BRIDGE_MAX_LOGS logs, back up one block per answer that fits), and
 * status-event calls per poll. */
#define NODE_BRIDGE_LOG_RANGE 1000
#define NODE_BRIDGE_MAX_LOGS 10000
#define NODE_BRIDGE_EVENT_CALLS 8
/* How often the watcher polls the L1. */
#define NODE_BRIDGE_POLL_MS 1000
/* The grace of the "missing" rule: a validator refuses a block that leaves
 * out a deposit it has seen depositConfirmations + this many blocks deep. */
#define NODE_BRIDGE_MISSING_GRACE 4u
/* Posted outputs and finalized withdrawal ids remembered for the status. */
#define NODE_BRIDGE_MAX_OUTPUTS 4096
#define NODE_BRIDGE_MAX_FINALIZED 65536

/* A validator's view of the L1 for the voting rules. */
typedef struct node_bridge_view {
    int has_l1;             /* 0: no --l1, or no L1 answer yet */
    uint64_t l1_head;       /* the newest L1 block number seen */
    uint32_t confirmations; /* depositConfirmations */
    /* Confirmed deposits (l1_block + confirmations <= l1_head when read),
     * strictly increasing consecutive nonces. */
    const rollup_deposit *deps;
    size_t ndeps;
} node_bridge_view;

/* The L1-view rules on block b, proposed on a state whose bridge entry is
 * st (docs/rollup.md, "DEPOSIT and WITHDRAW"): 0 when this validator may
 * vote for it; 1 when not, with why ("deposit N ...") filled. b already
 * passed chain_blockexec_validate (deposits first, consecutive from
 * st->next_deposit). */
int node_bridge_check_deposits(const node_bridge_view *v, const chain_bridge_state *st,
                               const chain_block *b, char *why, size_t whylen);

/* The DEPOSIT body a log gives. */
void node_bridge_deposit_body(chain_tx_deposit *d, const rollup_deposit *dep);

typedef struct node_bridge node_bridge;

/* Every node: from node_start, after the store is open. */
OL_MUST_CHECK int node_bridge_new(struct node *n, util_err *err);
void node_bridge_free(struct node *n);
/* With an L1 (node/rollup.c): starts the watcher on l1 (borrowed until
 * node_bridge_stop) and cfg (copied); url_origin is what bridge_info shows. */
OL_MUST_CHECK int node_bridge_start(struct node *n, rollup_l1 *l1, const rollup_config *cfg,
                                    const char *url_origin, util_err *err);
void node_bridge_stop(struct node *n);

/* The confirmed deposits from the state's next deposit on, as DEPOSIT
 * transactions (at most max); *n set. Callers hold node_lock. */
OL_MUST_CHECK int node_bridge_deposit_txs(struct node *n, chain_tx *out, size_t max, size_t *nout,
                                          util_err *err);
/* Before voting for a proposal (node/consensus_sign.c): 0 may vote, 1 not
 * (logged, counted). */
int node_bridge_check_block(struct node *n, const chain_block *b);

void node_bridge_metrics(struct node *n, char **body, size_t *len);
OL_MUST_CHECK int node_bridge_register(struct node *n, struct rpc_dispatch *d);

/* --- what the RPC methods read (node/bridge_rpc.c) ------------------------ */

/* The watcher's view; NULL fields when it does not run. */
typedef struct node_bridge_l1info {
    int running;   /* a watcher exists (--l1) */
    int has_head;  /* it has read the L1 head */
    uint64_t head; /* L1 head */
    int frozen;
    const rollup_config *cfg;
    const char *url; /* scheme://host:port */
} node_bridge_l1info;
void node_bridge_l1info_get(struct node *n, node_bridge_l1info *out);
/* A confirmed deposit not yet minted: 0, or UTIL_ENOTFOUND. */
int node_bridge_pending(struct node *n, uint64_t nonce, rollup_deposit *out);
/* The oldest output posted at or above height: 0 with its height and L1
 * timestamp (seconds), or UTIL_ENOTFOUND. */
int node_bridge_output_at_or_above(struct node *n, uint64_t height, uint64_t *out_height,
                                   uint64_t *l1_time);
/* WithdrawalFinalized seen for id. */
int node_bridge_is_finalized(struct node *n, uint64_t id);

#endif
