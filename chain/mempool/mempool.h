/* The mempool: signature-checked transactions waiting for a block.
 *
 * Per sender, transactions are kept in nonce order. Those in the consecutive
 * run from the committed nonce are "pending" (executable); those behind a
 * nonce gap are "queued": limited per sender, and dropped after a lifetime
 * unless the gap fills first (they then become pending). Across senders,
 * block selection takes the highest gas price first among each sender's next
 * pending transaction. A transaction with the same sender and nonce as a
 * pooled one replaces it only with a strictly higher gas price (by at least
 * CHAIN_MEMPOOL_REPLACE_BUMP_PCT percent). Limits on count and bytes are
 * enforced; when full, queued transactions are evicted before pending ones,
 * and a queued newcomer never evicts a pending one. Policy: docs/mempool.md.
 *
 * The pool owns the chain_tx values it holds. Single-threaded: the node's
 * loop thread calls it. Account state is read through a callback, so the pool
 * does not depend on storage. */
#ifndef OL_CHAIN_MEMPOOL_H
#define OL_CHAIN_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types/block.h"
#include "chain/types/tx.h"
#include "util/env.h"
#include "util/err.h"

#define CHAIN_MEMPOOL_REPLACE_BUMP_PCT 10

enum chain_mempool_reason {
    CHAIN_MP_OK = 0,
    CHAIN_MP_MALFORMED,          /* "malformed" */
    CHAIN_MP_BAD_SIGNATURE,      /* "bad signature" */
    CHAIN_MP_WRONG_CHAIN,        /* "wrong chain" */
    CHAIN_MP_NONCE_TOO_LOW,      /* "nonce too low" */
    CHAIN_MP_NONCE_TOO_HIGH,     /* "nonce too high" */
    CHAIN_MP_INSUFFICIENT_FUNDS, /* "insufficient funds" */
    CHAIN_MP_FEE_TOO_LOW,        /* "fee below minimum" */
    CHAIN_MP_GAS_TOO_LOW,        /* "gas limit too low" (below intrinsic gas) */
    CHAIN_MP_GAS_TOO_HIGH,       /* "gas limit above block gas limit" */
    CHAIN_MP_TOO_LARGE,          /* "too large" */
    CHAIN_MP_POOL_FULL,          /* "pool full" */
    CHAIN_MP_ALREADY_KNOWN,      /* "already known" */
    CHAIN_MP_UNDERPRICED,        /* "replacement underpriced" */
    CHAIN_MP_UNSUPPORTED,        /* "unsupported type" */
    CHAIN_MP_INTERNAL,           /* "internal error" (out of memory, account lookup failed) */
    CHAIN_MP_EXEC_FAILED,        /* "execution would fail": the node's dry run against the head
                                  * state failed; the message starts with the execution reason
                                  * token, e.g. "not_attestor: ..." (not used by the pool itself) */
    CHAIN_MP_TOO_MANY_QUEUED,    /* "too many queued": the sender already has
                                  * max_queued_per_sender transactions behind a nonce gap */
    CHAIN_MP_REASON_COUNT
};

/* Stable snake_case token for JSON-RPC data.reason, e.g. "nonce_too_low". */
const char *chain_mempool_reason_token(int reason);
/* Human text, e.g. "nonce too low". */
const char *chain_mempool_reason_text(int reason);

typedef struct chain_mempool_cfg {
    char chain_id[CHAIN_ID_MAX + 1];
    uint8_t genesis_hash[32]; /* signing domain of transactions (docs/encoding.md) */
    uint64_t min_gas_price;
    uint64_t block_gas_limit;
    size_t max_tx_size;
    size_t max_txs;           /* e.g. 200000 */
    size_t max_bytes;         /* e.g. 64 MiB */
    uint64_t max_nonce_ahead; /* nonce > account nonce + this: "nonce too high" (e.g. 4096) */
    /* Queued (behind a nonce gap) transactions per sender; a new one past it
     * is refused with "too many queued". 0: no per-sender limit. */
    size_t max_queued_per_sender;
    /* A transaction queued for this long is dropped. 0: never. */
    uint64_t queued_lifetime_s;
    /* The environment whose monotonic clock (mono_ns) times the queued
     * transactions: the pool reads time only through it, so a test drives
     * expiry with its own clock. NULL: util_env_default(). Borrowed: it must
     * outlive the pool. */
    const util_env *env;
    /* Seed of the pool's hash keys (bucket flooding protection). 0: drawn
     * from OpenSSL's RAND_bytes; the node passes one from its util_env so a
     * test can make the layout repeatable. */
    uint64_t hash_seed;
} chain_mempool_cfg;

/* Returns the committed balance and nonce of an address (0, 0 if absent). */
typedef int (*chain_account_fn)(void *ctx, const chain_addr *a, uint64_t *balance, uint64_t *nonce);

typedef struct chain_mempool chain_mempool;

OL_MUST_CHECK chain_mempool *chain_mempool_new(const chain_mempool_cfg *cfg, chain_account_fn acct,
                                               void *ctx);
void chain_mempool_free(chain_mempool *mp);
/* The configuration the pool was created with (its copy). */
const chain_mempool_cfg *chain_mempool_config(const chain_mempool *mp);

/* Admits tx (copied in). Verifies the signature unless tx->sig_checked is
 * already 1: callers must set it only after verifying, the pool trusts it (and
 * the derived fields id, from, size). Checks: chain id, size, min gas price,
 * intrinsic gas, nonce window, the sender's queued limit, and that the
 * sender's balance covers the max cost of all its pooled transactions plus
 * this one. Returns CHAIN_MP_OK or a reason; err gets a message with details.
 * First drops expired queued transactions (as chain_mempool_expire); apart
 * from that, nothing changes on rejection.
 * Order of checks and eviction rules: docs/mempool.md. */
OL_MUST_CHECK int chain_mempool_add(chain_mempool *mp, const chain_tx *tx, util_err *err);
/* The checks of chain_mempool_add before the signature (1-15 of
 * docs/mempool.md), without changing the pool: the node runs them before
 * anything expensive that follows the signature (a dry run). The add checks
 * them again. */
OL_MUST_CHECK int chain_mempool_precheck(chain_mempool *mp, const chain_tx *tx, util_err *err);

/* Fills out[] with up to max_out borrowed pointers for the next block, in
 * execution order: each sender's transactions in consecutive nonce order from
 * its committed nonce, interleaved by gas price (highest first, ties by
 * earlier arrival), never exceeding max_gas (sum of gas limits) or max_bytes.
 * A transaction that does not fit ends its own sender's run; other senders'
 * smaller ones may still be taken. Pointers stay valid until the next mutating
 * call. */
OL_MUST_CHECK size_t chain_mempool_select(chain_mempool *mp, uint64_t max_gas, size_t max_bytes,
                                          const chain_tx **out, size_t max_out);

/* After a block commits: drops the block's transactions and every pooled
 * transaction whose nonce is now below its sender's committed nonce,
 * re-checks funds of the senders touched, promotes queued transactions whose
 * gap the block filled, and drops expired queued transactions. */
void chain_mempool_on_block(chain_mempool *mp, const chain_block *b);

/* Drops every transaction queued for at least queued_lifetime_s by the
 * env's monotonic clock; returns how many. add and on_block call it too. */
size_t chain_mempool_expire(chain_mempool *mp);

/* Removes one transaction by id (e.g. invalid at execution); the sender's
 * later transactions become queued. 0 or UTIL_ENOTFOUND. */
OL_MUST_CHECK int chain_mempool_remove(chain_mempool *mp, const uint8_t id[32]);
OL_MUST_CHECK const chain_tx *chain_mempool_get(chain_mempool *mp, const uint8_t id[32]);
size_t chain_mempool_count(const chain_mempool *mp);
size_t chain_mempool_bytes(const chain_mempool *mp);
/* How many of the pooled transactions are queued (behind a nonce gap). */
size_t chain_mempool_queued(const chain_mempool *mp);
/* Pending nonce of a sender: committed nonce + contiguous pooled txs. */
uint64_t chain_mempool_next_nonce(chain_mempool *mp, const chain_addr *a);

#endif
