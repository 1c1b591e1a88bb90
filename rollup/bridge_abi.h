/* The L1 side of the OPEN bridge as the node and the CLI speak it
 * (docs/rollup.md, "Bridge"): calldata for OpenToken and Bridge, and the
 * parsers of the Bridge's events. Pure: no I/O, no allocation beyond the
 * util_buf the caller passes; every parser checks the log's address is not
 * its business (the caller filters by address) but checks topics and data
 * exactly, and is fuzzed.
 *
 * Function signatures (the selectors are keccak256 of these):
 *   OpenToken.approve(address,uint256)   balanceOf(address)   mint(address,uint256)
 *   Bridge.deposit(uint64,bytes20)
 *   Bridge.finalizeWithdrawal((uint64,bytes20,address,uint64),uint64,bytes32[])
 *   Bridge.finalized(uint64)   Bridge.depositNonce()   Bridge.totalLocked()
 * Events:
 *   DepositInitiated(uint64 indexed nonce, address indexed from, bytes20 l2Recipient, uint64
 * amount) WithdrawalFinalized(uint64 indexed id, address indexed l1Recipient, uint64 amount) */
#ifndef OL_ROLLUP_BRIDGE_ABI_H
#define OL_ROLLUP_BRIDGE_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "rollup/eth/ecdsa.h"
#include "rollup/l1/client.h"
#include "util/bytes.h"
#include "util/err.h"

#define ROLLUP_BRIDGE_MAX_SIBLINGS 256
/* [stateRoot, blockHash, withdrawalsRoot, siblings...] */
#define ROLLUP_BRIDGE_PROOF_MAX_WORDS (3 + ROLLUP_BRIDGE_MAX_SIBLINGS)

/* --- calldata (appended to out; 0 or UTIL_ENOMEM) -------------------------- */

OL_MUST_CHECK int rollup_token_approve_calldata(util_buf *out, const rollup_eth_addr *spender,
                                                uint64_t amount);
OL_MUST_CHECK int rollup_token_balance_of_calldata(util_buf *out, const rollup_eth_addr *owner);
OL_MUST_CHECK int rollup_token_mint_calldata(util_buf *out, const rollup_eth_addr *to,
                                             uint64_t amount);
OL_MUST_CHECK int rollup_bridge_deposit_calldata(util_buf *out, uint64_t amount,
                                                 const uint8_t l2_recipient[20]);
OL_MUST_CHECK int rollup_bridge_finalized_calldata(util_buf *out, uint64_t id);

typedef struct rollup_bridge_withdrawal {
    uint64_t id;
    uint8_t sender[20]; /* the L2 address */
    rollup_eth_addr l1_recipient;
    uint64_t amount;
} rollup_bridge_withdrawal;

/* proof: nwords words [stateRoot, blockHash, withdrawalsRoot, siblings
 * root first], 3 <= nwords <= ROLLUP_BRIDGE_PROOF_MAX_WORDS (UTIL_EINVAL
 * otherwise). */
OL_MUST_CHECK int rollup_bridge_finalize_calldata(util_buf *out, const rollup_bridge_withdrawal *w,
                                                  uint64_t output_index, const uint8_t (*proof)[32],
                                                  size_t nwords, util_err *err);

/* --- events ----------------------------------------------------------------- */

void rollup_bridge_topic_deposit(uint8_t out[32]);   /* topic0 of DepositInitiated */
void rollup_bridge_topic_finalized(uint8_t out[32]); /* topic0 of WithdrawalFinalized */

/* A DepositInitiated log, with where it sits on the L1. */
typedef struct rollup_deposit {
    uint64_t nonce;
    rollup_eth_addr from;
    uint8_t l2_recipient[20];
    uint64_t amount;
    uint64_t l1_block;
    uint8_t l1_block_hash[32];
    uint8_t l1_tx_hash[32];
    uint32_t log_index;
} rollup_deposit;

/* 0, or UTIL_EINVAL ("DepositInitiated: ...") when the log is not exactly
 * one: topic0, 3 topics, nonce and from words with zero high bytes, 64 bytes
 * of data with a left-aligned recipient and an amount of at most 64 bits,
 * not removed. */
OL_MUST_CHECK int rollup_bridge_parse_deposit(const rollup_l1_log *log, rollup_deposit *out,
                                              util_err *err);
OL_MUST_CHECK int rollup_bridge_parse_finalized(const rollup_l1_log *log, uint64_t *id,
                                                rollup_eth_addr *l1_recipient, uint64_t *amount,
                                                util_err *err);

#endif
