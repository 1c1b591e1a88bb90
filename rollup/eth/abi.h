/* The Solidity ABI, as far as the rollup's contracts need it: encoding calls
 * and constructor arguments, decoding return values and event data.
 *
 * Values are 32-byte words; static types (uint, address, bytes32, bool) sit
 * in the head, dynamic ones (bytes, T[]) are an offset in the head and their
 * length and contents in the tail. Decoding is bounded by the input: every
 * offset and length is checked against it before use, and nothing is
 * allocated (results point into the input). */
#ifndef OL_ROLLUP_ABI_H
#define OL_ROLLUP_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "rollup/eth/ecdsa.h"
#include "util/bytes.h"
#include "util/err.h"

#define ROLLUP_ABI_WORD 32

enum rollup_abi_kind {
    ROLLUP_ABI_UINT,        /* uint<N>: u64 (the high bytes are zero) */
    ROLLUP_ABI_UINT256,     /* uint256 given as 32 big-endian bytes (word) */
    ROLLUP_ABI_ADDRESS,     /* address: addr */
    ROLLUP_ABI_BYTES32,     /* bytes32: word */
    ROLLUP_ABI_BOOL,        /* bool: u64 0 or 1 */
    ROLLUP_ABI_BYTES,       /* bytes: p, n */
    ROLLUP_ABI_ADDRESS_ARR, /* address[]: addrs, n */
    ROLLUP_ABI_UINT_ARR,    /* uint<N>[]: u64s, n */
    ROLLUP_ABI_BYTES32_ARR, /* bytes32[]: words, n */
};

/* One argument; the pointers are borrowed for the call. */
typedef struct rollup_abi_val {
    enum rollup_abi_kind kind;
    uint64_t u64;
    uint8_t word[32];
    rollup_eth_addr addr;
    const uint8_t *p;
    const rollup_eth_addr *addrs;
    const uint64_t *u64s;
    const uint8_t (*words)[32];
    size_t n;
} rollup_abi_val;

/* The first 4 bytes of keccak256(signature), e.g. "post(bytes)". */
void rollup_abi_selector(uint8_t out[4], const char *signature);

/* Appends the ABI encoding of the tuple vals[0..n) (no selector: constructor
 * arguments follow the init code this way). */
void rollup_abi_encode(util_buf *out, const rollup_abi_val *vals, size_t n);
/* Appends selector(signature) followed by the encoded arguments: calldata. */
void rollup_abi_encode_call(util_buf *out, const char *signature, const rollup_abi_val *vals,
                            size_t n);

/* Decoding, on data (len bytes, e.g. an eth_call result or a log's data),
 * head slot i counted in words from the start. Each returns 0 or UTIL_EINVAL
 * ("abi: ..."), never reading past len. */
OL_MUST_CHECK int rollup_abi_word(const uint8_t *data, size_t len, size_t i, uint8_t out[32],
                                  util_err *err);
/* A uint that must fit in 64 bits. */
OL_MUST_CHECK int rollup_abi_u64(const uint8_t *data, size_t len, size_t i, uint64_t *out,
                                 util_err *err);
OL_MUST_CHECK int rollup_abi_address(const uint8_t *data, size_t len, size_t i,
                                     rollup_eth_addr *out, util_err *err);
/* The dynamic `bytes` whose offset is in head slot i: *p points into data. */
OL_MUST_CHECK int rollup_abi_bytes(const uint8_t *data, size_t len, size_t i, const uint8_t **p,
                                   size_t *n, util_err *err);

#endif
