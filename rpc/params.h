/* Positional parameter helpers for RPC methods, and JSON builders for the
 * project's conventions (hex "0x" lowercase, amounts and u64 as decimal
 * strings, addresses as bech32m).
 *
 * Every rpc_param_* reads params[i] (params is the array a method receives),
 * returns 0 on success or -1 with *e filled as -32602 and a message naming the
 * parameter, e.g. `param 1 (to): invalid address: bad checksum`. `name` is
 * only used in messages. Borrowed outputs live as long as params. */
#ifndef OL_RPC_PARAMS_H
#define OL_RPC_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chain/crypto/address.h"
#include "rpc/jsonrpc.h"
#include "util/err.h"

/* min <= size(params) <= max. */
OL_MUST_CHECK int rpc_param_count(json_t *params, size_t min, size_t max, rpc_error *e);
/* 1 when params[i] exists and is not null: lets methods take optional
 * trailing params. */
OL_MUST_CHECK int rpc_param_present(json_t *params, size_t i);

/* A JSON integer >= 0, or a decimal string of digits ("0".."18446744073709551615").
 * Rejects negatives, fractions, exponents, signs, empty strings and values
 * above 2^64-1. (JSON integers above 2^63-1 are already refused by the JSON
 * parser; such values must be sent as strings.) */
OL_MUST_CHECK int rpc_param_u64(json_t *params, size_t i, const char *name, uint64_t *out,
                                rpc_error *e);
OL_MUST_CHECK int rpc_param_bool(json_t *params, size_t i, const char *name, int *out,
                                 rpc_error *e);
/* A string of at most max_len bytes (0: no limit). *out is borrowed. */
OL_MUST_CHECK int rpc_param_str(json_t *params, size_t i, const char *name, size_t max_len,
                                const char **out, rpc_error *e);
/* "0x" followed by an even number of hex digits of either case, at most
 * max_bytes bytes once decoded ("0x" alone is zero bytes). *out is malloc'd
 * (free() it; non-NULL even for zero bytes). */
OL_MUST_CHECK int rpc_param_hex(json_t *params, size_t i, const char *name, size_t max_bytes,
                                uint8_t **out, size_t *n, rpc_error *e);
/* "0x" followed by exactly 2*n hex digits. */
OL_MUST_CHECK int rpc_param_hex_exact(json_t *params, size_t i, const char *name, uint8_t *out,
                                      size_t n, rpc_error *e);
OL_MUST_CHECK int rpc_param_hash32(json_t *params, size_t i, const char *name, uint8_t out[32],
                                   rpc_error *e);
/* A bech32m address ("ol1..."); the message includes the decoder's reason. */
OL_MUST_CHECK int rpc_param_addr(json_t *params, size_t i, const char *name, chain_addr *out,
                                 rpc_error *e);

typedef enum rpc_block_ref_kind {
    RPC_BLOCK_NUMBER,    /* .number */
    RPC_BLOCK_LATEST,    /* "latest" */
    RPC_BLOCK_FINALIZED, /* "finalized" */
    RPC_BLOCK_HASH,      /* .hash */
} rpc_block_ref_kind;

typedef struct rpc_block_ref {
    rpc_block_ref_kind kind;
    uint64_t number;
    uint8_t hash[32];
} rpc_block_ref;

/* A height (as rpc_param_u64), "latest", "finalized", or a 0x block hash. */
OL_MUST_CHECK int rpc_param_block_ref(json_t *params, size_t i, const char *name,
                                      rpc_block_ref *out, rpc_error *e);

/* New references, NULL only when memory runs out. */
OL_MUST_CHECK json_t *rpc_json_hex(const uint8_t *p, size_t n); /* "0x" + lowercase hex */
OL_MUST_CHECK json_t *rpc_json_u64str(uint64_t v);              /* decimal string */
OL_MUST_CHECK json_t *rpc_json_addr(const chain_addr *a);       /* bech32m "ol1..." */

#endif
