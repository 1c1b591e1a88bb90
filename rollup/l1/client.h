/* A JSON-RPC client for an Ethereum node (the L1), on util/net_uv.h: every
 * call runs on the node's libuv loop and never blocks it.
 *
 * The client sends one request per call (no batching: endpoints differ in
 * what they accept) and keeps connections alive. An answer is refused, with
 * a message naming the method, when it is not JSON, has no result, carries a
 * JSON-RPC error, or is larger than opts.max_response (util_net_opts); the
 * JSON-RPC error's code and message are kept in the util_err text
 * ("METHOD: L1 error CODE: MESSAGE"). Codes: UTIL_EINVAL when the endpoint
 * answered with a JSON-RPC error (it refused the request), UTIL_ELIMIT for
 * an answer over the cap, UTIL_ESTATE when cancelled by rollup_l1_close,
 * UTIL_EIO for everything else (unreachable, timeout, not a JSON-RPC answer).
 *
 * The typed parsers below turn a result into C structs; they are pure (no
 * I/O), check every field and are fuzzed. Quantities ("0x1a") must be
 * canonical hex of at most 64 bits where a u64 is expected.
 *
 * Memory: the caller owns params it passes (they are not stolen) and frees
 * parsed structs with their _free functions. A result handed to a callback
 * is borrowed for the callback only (json_incref to keep it). One client per
 * loop, used from the loop's thread only. */
#ifndef OL_ROLLUP_L1_CLIENT_H
#define OL_ROLLUP_L1_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "rollup/eth/ecdsa.h"
#include "util/err.h"
#include "util/net.h"

/* Biggest answer accepted by default: a full L1 block of 30M gas of calldata
 * is about 1.9 MB of bytes, about 4 MB as hex. */
#define ROLLUP_L1_MAX_BODY (16u * 1024 * 1024)

typedef struct rollup_l1 rollup_l1;

/* A client for url (http:// or https://). opts NULL: defaults, with
 * max_response ROLLUP_L1_MAX_BODY (also when opts->max_response is 0) and
 * peer_name "L1 endpoint". */
OL_MUST_CHECK int rollup_l1_new(rollup_l1 **out, uv_loop_t *loop, const char *url,
                                const util_net_opts *opts, util_err *err);
/* Cancels pending calls (their callbacks run with UTIL_ESTATE, inside this
 * call) and frees the client; the HTTP client's handles are released once
 * the loop runs again. NULL is allowed. */
void rollup_l1_close(rollup_l1 *c);
const char *rollup_l1_url(const rollup_l1 *c);
/* The loop the client runs on (for timers of its users: the tx manager). */
uv_loop_t *rollup_l1_loop(const rollup_l1 *c);
/* Calls whose callback has not run yet. */
size_t rollup_l1_pending(const rollup_l1 *c);

/* rc 0: result is the JSON-RPC "result" (may be JSON null, e.g. a receipt not
 * yet there). rc != 0: err says why. */
typedef void (*rollup_l1_cb)(void *ctx, int rc, json_t *result, const util_err *err);

/* Sends {"jsonrpc":"2.0","id":n,"method":method,"params":params}. params is
 * a JSON array (borrowed; NULL means []). cb runs exactly once, on the loop,
 * never inside this call. 0, or an error and cb never runs. */
OL_MUST_CHECK int rollup_l1_call(rollup_l1 *c, const char *method, json_t *params, rollup_l1_cb cb,
                                 void *ctx, util_err *err);

/* The same call, blocking: runs a private loop until the answer (for
 * commands and tests, never from the node's loop). *result is owned by the
 * caller (json_decref). */
OL_MUST_CHECK int rollup_l1_call_sync(const char *url, const char *method, json_t *params,
                                      json_t **result, util_err *err);

/* --- parameter and result helpers --------------------------------------- */

/* "0x..." quantity (minimal hex) as a new JSON string. */
json_t *rollup_l1_quantity(uint64_t v);
/* "0x" + hex of bytes as a new JSON string. */
json_t *rollup_l1_data(const uint8_t *p, size_t n);
json_t *rollup_l1_address(const rollup_eth_addr *a);

/* Parses a quantity of at most 64 bits. */
OL_MUST_CHECK int rollup_l1_parse_u64(json_t *v, uint64_t *out, const char *what, util_err *err);
/* Parses exactly n bytes of "0x" hex (hashes, addresses). */
OL_MUST_CHECK int rollup_l1_parse_fixed(json_t *v, uint8_t *out, size_t n, const char *what,
                                        util_err *err);
/* Parses "0x" hex data of at most max bytes into a malloc'd buffer (*out
 * NULL when empty). */
OL_MUST_CHECK int rollup_l1_parse_data(json_t *v, size_t max, uint8_t **out, size_t *n,
                                       const char *what, util_err *err);

typedef struct rollup_l1_tx {
    uint8_t hash[32];
    rollup_eth_addr from;
    int has_to;
    rollup_eth_addr to;
    uint32_t index; /* position in its block */
    uint8_t *input; /* calldata (owned) */
    size_t input_len;
    uint8_t type;               /* EIP-2718 type: 0 legacy, 2 EIP-1559, 3 blob, ... */
    uint8_t (*blob_hashes)[32]; /* type 3: blobVersionedHashes (owned), else NULL */
    size_t nblob_hashes;
} rollup_l1_tx;

typedef struct rollup_l1_block {
    uint64_t number;
    uint8_t hash[32];
    uint8_t parent_hash[32];
    uint64_t timestamp; /* seconds */
    uint64_t base_fee;  /* wei; 0 before London */
    rollup_l1_tx *txs;  /* only with full transactions requested, else NULL */
    size_t ntx;
} rollup_l1_block;

/* A result of eth_getBlockByNumber / eth_getBlockByHash. With full = 1 the
 * transactions must be objects and each input is at most max_input bytes. */
OL_MUST_CHECK int rollup_l1_parse_block(json_t *v, int full, size_t max_input, rollup_l1_block *out,
                                        util_err *err);
void rollup_l1_block_free(rollup_l1_block *b);

#define ROLLUP_L1_MAX_TOPICS 4
typedef struct rollup_l1_log {
    rollup_eth_addr address;
    uint8_t topics[ROLLUP_L1_MAX_TOPICS][32];
    size_t ntopics;
    uint8_t *data; /* owned */
    size_t data_len;
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    uint32_t tx_index;
    uint32_t log_index;
    int removed;
} rollup_l1_log;

/* A result of eth_getLogs: at most max_logs logs, each data at most max_data. */
OL_MUST_CHECK int rollup_l1_parse_logs(json_t *v, size_t max_logs, size_t max_data,
                                       rollup_l1_log **out, size_t *n, util_err *err);
void rollup_l1_logs_free(rollup_l1_log *logs, size_t n);

typedef struct rollup_l1_receipt {
    uint8_t tx_hash[32];
    int status; /* 1 success, 0 reverted */
    uint64_t block_number;
    uint8_t block_hash[32];
    uint64_t gas_used;
    uint64_t effective_gas_price;
    uint64_t blob_gas_used;  /* type 3 only, else 0 */
    uint64_t blob_gas_price; /* wei per blob gas; type 3 only */
    int has_contract;
    rollup_eth_addr contract_address; /* contract creation */
} rollup_l1_receipt;

/* A result of eth_getTransactionReceipt that is not null. */
OL_MUST_CHECK int rollup_l1_parse_receipt(json_t *v, rollup_l1_receipt *out, util_err *err);

/* What eth_feeHistory says about the next block. next_base_fee is the last
 * entry of baseFeePerGas (the block after the newest one asked for). tip is
 * the median (the lower of the two middle values) of the first requested
 * reward percentile over the blocks whose reward is not 0 (empty blocks
 * report 0 and say nothing about the going tip); 1 wei when there is none or
 * no "reward" field. reward must have one non-empty entry per block (one
 * fewer than baseFeePerGas); at most 1024 blocks. */
typedef struct rollup_l1_fees {
    uint64_t next_base_fee;
    uint64_t tip;
} rollup_l1_fees;
OL_MUST_CHECK int rollup_l1_parse_fee_history(json_t *v, rollup_l1_fees *out, util_err *err);

#endif
