/* State of the node's consensus wiring shared by node/consensus.c and
 * node/consensus_rpc.c; not a public interface. */
#ifndef OL_NODE_CONSENSUS_INT_H
#define OL_NODE_CONSENSUS_INT_H

#include <uv.h>

#include "chain/exec/blockexec.h"
#include "consensus/engine.h"
#include "consensus/signer.h"
#include "consensus/wal.h"
#include "node/consensus.h"
#include "util/bytes.h"

/* Blocks of the height in progress: built here or received in proposals. */
#define NODE_CONS_BLOCKS 16
/* Messages of the next height received while waiting timeout_commit. */
#define NODE_CONS_FUTURE 256
#define NODE_CONS_FUTURE_BYTES (32u << 20)
#define NODE_CONS_GOSSIP_MS 500
#define NODE_CONS_GOSSIP_PROPOSAL_TICKS 4 /* a stalled round re-sends its proposal every 2 s */
#define NODE_CONS_EVIDENCE 16

typedef struct node_cons_blk {
    int used;
    uint8_t id[32];
    chain_block b;
    util_buf enc;
    int checked;    /* 0: not validated yet, 1: valid (res kept to apply), 2: invalid */
    int l1_checked; /* the bridge's L1-view rules: 0 not yet, 1 may vote, 2 not (yet) */
    chain_block_result res;
    int own;            /* recorded as our own proposal (WAL replay) */
    uint32_t own_round; /* its round */
} node_cons_blk;

typedef struct node_cons_timer {
    uv_timer_t t;
    struct node_cons *c;
    uint64_t h;
    uint32_t r;
    uint8_t step;
} node_cons_timer;

typedef struct node_cons {
    struct node *n;
    cons_engine *e; /* large: allocated once */
    cons_valset vs;
    cons_params params;
    cons_chain chain;
    uint32_t commit_ms; /* genesis timeoutCommitMs */
    /* Waiting for transactions (docs/consensus.md, "Waiting for
     * transactions"): the longest a round-0 proposer holds back an empty
     * block, a BUILD not answered yet, and the precommits seen for the
     * block just decided (all in: the commit wait is skipped). */
    uint32_t empty_ms;
    int build_waiting;
    uint64_t build_h;
    uint32_t build_r;
    uv_timer_t txwait;
    uv_async_t txs;
    uint64_t dec_h;
    uint32_t dec_r;
    uint8_t dec_id[32];
    uint64_t dec_have; /* bit i: validator i's precommit for dec_id */
    int32_t self;
    cons_wal *wal;
    cons_signer *signer;
    int signing_off; /* the WAL or the signer failed: nothing is signed until a restart */
    char signing_off_why[256];
    node_cons_blk blks[NODE_CONS_BLOCKS];
    uint32_t blk_next;
    node_cons_timer tmr[3]; /* by step - 1 */
    uv_timer_t commit_timer, gossip_timer, kick;
    int handles, stopping;
    int waiting; /* decided: waiting timeout_commit before next_height */
    uint64_t next_height;
    int replaying;
    cons_output deferred[32]; /* own messages asked for during replay */
    uint32_t ndeferred;
    struct {
        uint8_t type;
        util_buf b;
    } fut[NODE_CONS_FUTURE];
    uint32_t nfut;
    size_t fut_bytes;
    cons_evidence evidence[NODE_CONS_EVIDENCE]; /* a ring: the last ones kept */
    uint32_t nevidence;                         /* kept in all */
    /* By ring slot: 0 while the evidence is pending (the pool proposals take
     * it from), else the height of the block that included it. */
    uint64_t evidence_in[NODE_CONS_EVIDENCE];
    uint64_t gossip_key;        /* (height, round, step) at the last gossip tick */
    uint64_t gossip_prop_key;   /* (height, round) whose proposal the stall gossip re-sent */
    uint32_t gossip_prop_ticks; /* stalled ticks since it last did */
    /* metrics */
    uint64_t heights, rounds, last_rounds, signed_msgs, sign_failures;
    uint64_t commit_skips, empty_waits;
    uint64_t missed_proposals[CONS_MAX_VALIDATORS], missed_votes[CONS_MAX_VALIDATORS];
    uint64_t height_start_ns, last_height_ns;
    uint8_t cur_step;       /* as drain last saw it (CONS_STEP_DECIDED while waiting) */
    uint64_t step_since_ns; /* when cur_step began */
    uint64_t step_ns[CONS_STEP_DECIDED + 1]; /* time spent in each step, by enum cons_step */
} node_cons;

/* node/consensus_sign.c: the blocks of the height. blk_add takes b (the
 * oldest entry makes room); blk_check validates once on the head and keeps
 * the result (1 valid, 0 not). */
node_cons_blk *node_cons_blk_find(node_cons *c, const uint8_t id[32]);
node_cons_blk *node_cons_blk_add(node_cons *c, chain_block *b, const uint8_t id[32]);
OL_MUST_CHECK int node_cons_blk_check(node_cons *c, node_cons_blk *k);
/* Valid by the state alone (what a decided block needs to be applied: more
 * than 2/3 voted for it, whatever this validator's L1 view says). */
OL_MUST_CHECK int node_cons_blk_valid(node_cons *c, node_cons_blk *k);
void node_cons_blks_clear(node_cons *c);
/* Signing: stop for good (logged once); a WAL record (0, or the failure,
 * after which signing stops); sending; an own proposal or vote through
 * WAL, signer state, key, broadcast and back to the engine. */
void node_cons_signing_stop(node_cons *c, const char *why);
int node_cons_wal_put(node_cons *c, uint8_t wtype, uint8_t tag, const uint8_t *a, size_t an,
                      const uint8_t *b, size_t bn, int sync);
void node_cons_send_proposal(node_cons *c, p2p_peer *to, const cons_proposal *p, node_cons_blk *k);
void node_cons_send_vote(node_cons *c, p2p_peer *to, const cons_vote *v);
void node_cons_own_proposal(node_cons *c, cons_proposal p);
void node_cons_own_vote(node_cons *c, cons_vote v);
/* The chain's form of a consensus evidence (same fields, same encoding). */
void node_cons_evidence_to_chain(chain_evidence *out, const cons_evidence *in);

#endif
