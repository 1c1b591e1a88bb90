/* The transaction manager: the one sender of L1 transactions from the node's
 * L1 account. The batcher, the proposer and the deployment all send through
 * it, so nonces never collide.
 *
 * Per account it keeps a FIFO of requested transactions and works on one at
 * a time (the next is sent once the previous is reported): estimate gas
 * (unless given) with a 20% margin, price it, assign the next nonce, sign
 * (EIP-1559, rollup/eth/tx.h), send, then poll for the receipt of every
 * attempt signed for that nonce (any of them may be the one mined).
 *
 * Fees: eth_feeHistory over the last 10 blocks with the 50th reward
 * percentile gives next_base_fee and tip (rollup_l1_parse_fee_history); then
 * maxPriorityFee = tip and maxFee = 2 x next_base_fee + tip. Without a
 * receipt after opts.resubmit_ms it re-sends the same nonce with both fees
 * raised to at least old + ceil(old / 8) (12.5%, what nodes require to
 * replace a pending transaction), or to the fresh rule if that is higher.
 * maxFee never exceeds opts.max_fee_wei (the tip is cut to maxFee); when
 * the cap leaves no room for a 12.5% raise it stops replacing and keeps
 * waiting for what it sent.
 *
 * Answers to a send: "already known"/"already imported" counts as sent; "nonce
 * too low" means an earlier attempt was mined or another sender took the
 * nonce: it polls all attempts, and if none has a receipt while the account's
 * mined nonce is past ours, it starts over with the next free nonce. Other
 * refusals fail the request when nothing was sent for it before, else it
 * keeps waiting. A send whose answer is lost is repeated with the same bytes.
 *
 * Confirmations: a receipt is reported once head - receipt block + 1 >=
 * opts.confirmations (0 and 1: as soon as mined). Until then every poll reads
 * the receipt again: if it disappeared (an L1 reorganisation) it broadcasts
 * the last attempt again; if it moved to another block it follows it.
 * Before each fee bump it reads the account's mined nonce: when it is below
 * ours (a reorganisation deeper than the confirmations dropped transactions
 * already reported), ours can never be mined, and the request starts over
 * with the account's nonce.
 *
 * On start it checks eth_chainId against opts.chain_id (a mismatch fails
 * every request, now and later) and reads the account's nonce with
 * eth_getTransactionCount ("latest" and "pending"): with transactions still
 * pending from a previous run it waits until they are mined before sending
 * anything new, so a caller that scans the L1 after a restart sees what was
 * already sent. The same re-read happens after a request failed with
 * something possibly broadcast.
 *
 * A reverted transaction is reported with rc UTIL_EINVAL and the receipt;
 * failures before a receipt (estimation refused: UTIL_EINVAL; endpoint down
 * for longer than opts.give_up_ms: its error, usually UTIL_EIO) without.
 * Callbacks run on the loop of the client (rollup_l1_loop); every L1 call
 * goes through it, so the manager never blocks the loop. */
#ifndef OL_ROLLUP_TXMGR_H
#define OL_ROLLUP_TXMGR_H

#include <stddef.h>
#include <stdint.h>

#include "rollup/eth/ecdsa.h"
#include "rollup/l1/client.h"
#include "util/err.h"

typedef struct rollup_txmgr rollup_txmgr;

typedef struct rollup_txmgr_opts {
    uint64_t chain_id;         /* the L1's; checked against eth_chainId at start */
    uint32_t confirmations;    /* depth before a receipt is reported; 0: at once */
    uint32_t poll_ms;          /* receipt polling; 0: 500 */
    uint32_t resubmit_ms;      /* fee bump after this long unmined; 0: 12000 */
    uint64_t max_fee_wei;      /* cap on maxFeePerGas; 0: 500 gwei */
    uint64_t max_blob_fee_wei; /* cap on maxFeePerBlobGas; 0: 500 gwei */
    uint32_t give_up_ms;       /* endpoint failures for this long fail the request; 0: 120000 */
} rollup_txmgr_opts;

/* The manager takes a copy of sk (wiped on close) and borrows l1, which
 * must outlive it. opts->chain_id must not be 0. */
OL_MUST_CHECK int rollup_txmgr_new(rollup_txmgr **out, rollup_l1 *l1, const uint8_t sk[32],
                                   const rollup_txmgr_opts *opts, util_err *err);
/* Fails queued requests with UTIL_ESTATE (their callbacks run inside this
 * call) and frees the manager once the loop has closed its timer; what was
 * broadcast stays in the L1's pool. NULL is allowed. */
void rollup_txmgr_close(rollup_txmgr *m);
const rollup_eth_addr *rollup_txmgr_address(const rollup_txmgr *m);

/* rc 0: mined and confirmed with status 1 (r filled). UTIL_EINVAL with r:
 * mined but reverted. Otherwise r is NULL and err says why: UTIL_EINVAL when
 * refused before mining (estimation, chain id, the node refused the first
 * send), UTIL_ESTATE when the manager closed, else the endpoint's failure. */
typedef void (*rollup_txmgr_cb)(void *ctx, int rc, const rollup_l1_receipt *r, const util_err *err);

/* Queues a transaction to `to` (NULL: contract creation) with data (copied).
 * gas_limit 0: eth_estimateGas + 20%. cb runs exactly once, never inside
 * this call. */
OL_MUST_CHECK int rollup_txmgr_send(rollup_txmgr *m, const rollup_eth_addr *to, const uint8_t *data,
                                    size_t len, uint64_t gas_limit, rollup_txmgr_cb cb, void *ctx,
                                    util_err *err);

/* Queues a blob transaction (type 3, rollup/eth/tx.h) to `to` with data
 * and nblobs blobs (1..ROLLUP_BLOBS_PER_TX), copied with their commitments
 * and proofs. gas_limit as above. Fees as above, plus maxFeePerBlobGas =
 * 2 x eth_blobBaseFee (at least 1 wei); a replacement at least doubles
 * maxFeePerGas, the tip and maxFeePerBlobGas (nodes require a 100% raise to
 * replace a blob transaction), within opts.max_fee_wei for maxFeePerGas and
 * opts.max_blob_fee_wei for the blob fee. The receipt carries
 * blob_gas_used and blob_gas_price. */
OL_MUST_CHECK int rollup_txmgr_send_blobs(rollup_txmgr *m, const rollup_eth_addr *to,
                                          const uint8_t *data, size_t len, uint64_t gas_limit,
                                          const uint8_t *const *blobs,
                                          const uint8_t (*commitments)[48],
                                          const uint8_t (*proofs)[48], size_t nblobs,
                                          rollup_txmgr_cb cb, void *ctx, util_err *err);

/* Requests queued or in flight. */
size_t rollup_txmgr_pending(const rollup_txmgr *m);

/* Blocking: one transaction sent and confirmed on a private loop (for
 * `openledgerd rollup-deploy` and tests). The callback's codes; *r is
 * written when the transaction was mined (rc 0, or UTIL_EINVAL reverted). */
OL_MUST_CHECK int rollup_txmgr_send_sync(const char *url, const uint8_t sk[32],
                                         const rollup_txmgr_opts *opts, const rollup_eth_addr *to,
                                         const uint8_t *data, size_t len, uint64_t gas_limit,
                                         rollup_l1_receipt *r, util_err *err);

#endif
