/* The transaction manager: the one sender of L1 transactions from the node's
 * L1 account. The batcher, the proposer and the deployment all send through
 * it, so nonces never collide.
 *
 * Per account it keeps a FIFO of requested transactions. For each: estimate
 * gas (unless given) with a margin, price it from eth_feeHistory
 * (maxFee = 2 x next base fee + tip), assign the next nonce, sign (EIP-1559),
 * send, then poll for the receipt. Without a receipt after opts.resubmit_ms
 * it re-sends the same nonce with both fees raised by at least 12.5% (what
 * nodes require to replace a pending transaction), up to opts.max_fee_wei.
 * Once the receipt is opts.confirmations blocks deep it reports it; if the
 * receipt disappears meanwhile (an L1 reorganisation) it sends again.
 *
 * On start it reads the account's nonce with eth_getTransactionCount
 * ("pending" and "latest"): with transactions still pending from a previous
 * run it waits until they are mined before sending anything new, so a caller
 * that scans the L1 after a restart sees what was already sent.
 *
 * A reverted transaction is reported with rc UTIL_EINVAL and the receipt;
 * failures before a receipt (estimation refused, endpoint down for longer
 * than opts.give_up_ms) with their error. Callbacks run on the loop. */
#ifndef OL_ROLLUP_TXMGR_H
#define OL_ROLLUP_TXMGR_H

#include <stddef.h>
#include <stdint.h>

#include "rollup/eth/ecdsa.h"
#include "rollup/l1/client.h"
#include "util/err.h"

typedef struct rollup_txmgr rollup_txmgr;

typedef struct rollup_txmgr_opts {
    uint64_t chain_id;      /* the L1's; checked against eth_chainId at start */
    uint32_t confirmations; /* depth before a receipt is reported; 0: at once */
    uint32_t poll_ms;       /* receipt polling; 0: 500 */
    uint32_t resubmit_ms;   /* fee bump after this long unmined; 0: 12000 */
    uint64_t max_fee_wei;   /* cap on maxFeePerGas; 0: 500 gwei */
    uint32_t give_up_ms;    /* endpoint failures for this long fail the request; 0: 120000 */
} rollup_txmgr_opts;

/* The manager takes a copy of sk (wiped on close) and borrows l1. */
OL_MUST_CHECK int rollup_txmgr_new(rollup_txmgr **out, rollup_l1 *l1, const uint8_t sk[32],
                                   const rollup_txmgr_opts *opts, util_err *err);
void rollup_txmgr_close(rollup_txmgr *m);
const rollup_eth_addr *rollup_txmgr_address(const rollup_txmgr *m);

/* rc 0: mined and confirmed with status 1 (r filled). UTIL_EINVAL: mined but
 * reverted (r filled). Other: not mined, err says why (r NULL). */
typedef void (*rollup_txmgr_cb)(void *ctx, int rc, const rollup_l1_receipt *r, const util_err *err);

/* Queues a transaction to `to` (NULL: contract creation) with data (copied).
 * gas_limit 0: eth_estimateGas + 20%. cb runs exactly once, never inside
 * this call. */
OL_MUST_CHECK int rollup_txmgr_send(rollup_txmgr *m, const rollup_eth_addr *to, const uint8_t *data,
                                    size_t len, uint64_t gas_limit, rollup_txmgr_cb cb, void *ctx,
                                    util_err *err);

/* Requests queued or in flight. */
size_t rollup_txmgr_pending(const rollup_txmgr *m);

/* Blocking: one transaction sent and confirmed on a private loop (for
 * `openledgerd rollup-deploy` and tests). */
OL_MUST_CHECK int rollup_txmgr_send_sync(const char *url, const uint8_t sk[32],
                                         const rollup_txmgr_opts *opts, const rollup_eth_addr *to,
                                         const uint8_t *data, size_t len, uint64_t gas_limit,
                                         rollup_l1_receipt *r, util_err *err);

#endif
