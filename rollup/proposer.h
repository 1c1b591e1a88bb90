/* The proposer: signs the output root of every params.outputIntervalBlocks-th
 * L2 height and posts it, with more than 2/3 of the validators' signatures,
 * to OutputOracle.proposeOutput (docs/rollup.md, "Proposer").
 *
 * Every opts.poll_ms, on the node's loop, it reads the L1 head and the
 * oracle's latestOutputHeight (eth_call; a value going back, after an L1
 * reorganisation, is followed), and when the store holds the next output
 * height H = latest + interval, computes
 *   root = rollup_output_root_at(store, H): state root and id of block H,
 *          withdrawals root after it
 * signs its digest with the validator key and adds the signature to the set
 * for (H, root). Signatures of other validators come in through
 * rollup_proposer_add_sig; the node's own signature goes out through the
 * sig hook (a transport between validators). Once the set holds more than
 * 2/3 of the power, and a transaction manager is given, it sends
 * proposeOutput(H, root, sigs), one output at a time. It also follows
 * finalization: the highest posted height whose isFinalized(h) is true.
 *
 * The proposer borrows l1, txmgr (may be NULL: sign only), store and genesis
 * for its life. */
#ifndef OL_ROLLUP_PROPOSER_H
#define OL_ROLLUP_PROPOSER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "chain/state/store.h"
#include "chain/types/genesis.h"
#include "rollup/config.h"
#include "rollup/eth/ecdsa.h"
#include "rollup/l1/client.h"
#include "rollup/l1/txmgr.h"
#include "util/err.h"

#define ROLLUP_PROPOSER_POLL_MS 1000
/* Output heights for which signatures are kept (the next and a few after). */
#define ROLLUP_PROPOSER_SLOTS 8

typedef struct rollup_proposer rollup_proposer;

typedef struct rollup_proposer_opts {
    uint32_t poll_ms; /* 0: ROLLUP_PROPOSER_POLL_MS */
} rollup_proposer_opts;

typedef struct rollup_proposer_info {
    int ready;          /* latestOutputHeight was read once */
    uint64_t interval;  /* params.outputIntervalBlocks */
    uint64_t l1_head;   /* last L1 block number seen (0: none yet) */
    uint64_t posted;    /* the oracle's latestOutputHeight */
    uint64_t finalized; /* highest posted height that isFinalized (0: none) */
    int has_latest;     /* the fields below: the latest output this process posted */
    uint64_t latest_height;
    uint8_t latest_root[32];
    uint64_t latest_l1_block;
    uint8_t latest_tx[32];
    uint64_t outputs, gas_used, fee_wei, failures; /* of this process */
} rollup_proposer_info;

/* validator_sk: the node's BIP-340 validator secret (copied, wiped on
 * close); NULL for a node that signs nothing. */
OL_MUST_CHECK int rollup_proposer_new(rollup_proposer **out, uv_loop_t *loop, rollup_l1 *l1,
                                      rollup_txmgr *txmgr, chain_store *store,
                                      const chain_genesis *g, const rollup_config *cfg,
                                      const uint8_t *validator_sk, const rollup_proposer_opts *opts,
                                      util_err *err);
/* As rollup_batcher_close. NULL is allowed. */
void rollup_proposer_close(rollup_proposer *p);

/* A validator's signature of (height, root). Kept when height is an output
 * height not yet posted, within ROLLUP_PROPOSER_SLOTS intervals of the next
 * one. 0 (kept, or already there), UTIL_EINVAL (not an output height, or
 * the signature does not recover to a validator), UTIL_ESTATE (height
 * already posted or too far ahead). */
OL_MUST_CHECK int rollup_proposer_add_sig(rollup_proposer *p, uint64_t height,
                                          const uint8_t root[32],
                                          const uint8_t sig[ROLLUP_ETH_SIG_LEN], util_err *err);
void rollup_proposer_get_info(const rollup_proposer *p, rollup_proposer_info *out);

#endif
