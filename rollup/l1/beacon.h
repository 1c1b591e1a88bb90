/* Blobs from an Ethereum beacon node's HTTP API, for the rollup's blob posts
 * (docs/rollup.md, "Blobs").
 *
 *   GET {url}/eth/v1/beacon/blobs/{block_id}?versioned_hashes=0x..,0x..
 *
 * block_id is the slot of the L1 block: (timestamp - genesis_time) /
 * SECONDS_PER_SLOT, from /eth/v1/beacon/genesis and /eth/v1/config/spec,
 * read once per client. An endpoint without /eth/v1/config/spec (anvil,
 * whose beacon API indexes blobs by execution block number) gets the block
 * number instead; the client logs which rule it uses.
 *
 * The answer must hold exactly the blobs asked for, each of ROLLUP_BLOB_BYTES
 * (hex), and at most ROLLUP_BEACON_MAX_BLOBS per request; they are handed
 * over in the order the API gives them (block order; callers ask in block
 * order). Nothing here trusts them: the caller checks them against their
 * commitments (rollup_kzg_verify_blobs), so a wrong block id or order is a
 * mismatch, never data.
 *
 * Threading and memory: one client per loop, used from the loop's thread
 * (it runs on util/net_uv.h and never blocks). The callback owns the blobs
 * it is given (rollup_beacon_blobs_free). */
#ifndef OL_ROLLUP_BEACON_H
#define OL_ROLLUP_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "util/err.h"

#define ROLLUP_BEACON_MAX_BLOBS 48
/* A blob's bytes (rollup/eth/kzg.h ROLLUP_BLOB_BYTES; this header does not
 * need the KZG code). */
#define ROLLUP_BEACON_BLOB_BYTES 131072u

typedef struct rollup_beacon rollup_beacon;

OL_MUST_CHECK int rollup_beacon_new(rollup_beacon **out, uv_loop_t *loop, const char *url,
                                    util_err *err);
/* Cancels pending requests (their callbacks run with UTIL_ESTATE inside this
 * call) and frees the client. NULL is allowed. */
void rollup_beacon_close(rollup_beacon *b);
const char *rollup_beacon_url(const rollup_beacon *b);

/* rc 0: blobs[0..n) (n as asked). Otherwise err says why: UTIL_EIO
 * (unreachable, not a beacon answer), UTIL_EINVAL (the answer has the wrong
 * number of blobs or a malformed one), UTIL_ESTATE (closed). */
typedef void (*rollup_beacon_cb)(void *ctx, int rc, uint8_t **blobs, size_t n, const util_err *err);

/* Asks for the blobs with versioned hashes hashes[0..n) (1 <= n <=
 * ROLLUP_BEACON_MAX_BLOBS) of the L1 block l1_number with timestamp
 * l1_timestamp. cb runs exactly once, on the loop, never inside this call. */
OL_MUST_CHECK int rollup_beacon_get_blobs(rollup_beacon *b, uint64_t l1_number,
                                          uint64_t l1_timestamp, const uint8_t (*hashes)[32],
                                          size_t n, rollup_beacon_cb cb, void *ctx, util_err *err);

/* rollup_beacon_get_blobs, then a check of the blobs against
 * commitments[0..n) (rollup_kzg_verify_blobs) on libuv's thread pool, so the
 * loop does not wait for it: rc 0 only when every blob matches. A blob that
 * does not match is UTIL_EINVAL (the endpoint's fault: the L1 guarantees the
 * blob behind a versioned hash). rollup_beacon_close cancels it at any stage
 * (the callback runs inside the close with UTIL_ESTATE; the thread pool's
 * work, when running, finishes alone). */
OL_MUST_CHECK int rollup_beacon_get_checked_blobs(rollup_beacon *b, uint64_t l1_number,
                                                  uint64_t l1_timestamp,
                                                  const uint8_t (*hashes)[32],
                                                  const uint8_t (*commitments)[48], size_t n,
                                                  rollup_beacon_cb cb, void *ctx, util_err *err);

/* The same on a private loop (commands, tests). *blobs malloc'd. */
OL_MUST_CHECK int rollup_beacon_get_blobs_sync(const char *url, uint64_t l1_number,
                                               uint64_t l1_timestamp, const uint8_t (*hashes)[32],
                                               size_t n, uint8_t ***blobs, util_err *err);

void rollup_beacon_blobs_free(uint8_t **blobs, size_t n);

/* The parser of a blobs answer (body, len bytes): {"data": [n strings of
 * "0x" + 2 x ROLLUP_BEACON_BLOB_BYTES hex digits], ...}, nothing else
 * accepted. Pure (fuzzed by tests/fuzz/fuzz_beacon_blobs.c). 0 with
 * *blobs (n malloc'd blobs), or UTIL_EINVAL / UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_beacon_parse_blobs(const char *body, size_t len, size_t n,
                                            uint8_t ***blobs, util_err *err);

#endif
