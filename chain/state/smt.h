/* Compressed sparse Merkle tree over 256-bit key paths (as in the Jellyfish /
 * Diem SMT), committing the state.
 *
 *   path       = SHA-256(state key), bits read from the most significant bit
 *   leaf hash  = SHA-256(0x00 || path || value_hash), value_hash = SHA-256(value)
 *   node hash  = SHA-256(0x01 || left || right)
 *   empty      = 32 zero bytes
 * A subtree holding exactly one leaf is represented by that leaf itself, at the
 * height where its path first diverges from every other key, so depth is about
 * log2(number of keys).
 *
 * Nodes are content-addressed: stored under their hash, so every committed root
 * stays readable (archive mode; pruning is future work). Storage is reached only
 * through chain_smt_store, so the tree knows nothing of LevelDB. */
#ifndef OL_CHAIN_SMT_H
#define OL_CHAIN_SMT_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

#define CHAIN_SMT_MAX_DEPTH 256
/* Stored node: 0x00 | path[32] | value_hash[32]  (leaf)
 *              0x01 | left[32] | right[32]       (internal) */
#define CHAIN_SMT_NODE_LEN 65

typedef struct chain_smt_store {
    void *ctx;
    /* Reads the node stored under hash into out (65 bytes). Returns 0,
     * UTIL_ENOTFOUND, or another error code. */
    int (*get)(void *ctx, const uint8_t hash[32], uint8_t out[CHAIN_SMT_NODE_LEN]);
    /* Records a new node to be written with the block batch. */
    void (*put)(void *ctx, const uint8_t hash[32], const uint8_t node[CHAIN_SMT_NODE_LEN]);
} chain_smt_store;

typedef struct chain_smt_update {
    uint8_t path[32];
    uint8_t value_hash[32];
    int remove; /* 1: delete the key (value_hash ignored) */
} chain_smt_update;

/* Applies updates (any order; duplicates of a path are an error) to the tree at
 * root, writing the new nodes through st->put and the new root to new_root.
 * ups may be reordered in place. A node referenced but missing or malformed in
 * the store is UTIL_EIO ("state corrupted"); other get errors pass through. On
 * error some nodes may already have been put: discard the batch. */
OL_MUST_CHECK int chain_smt_apply(const chain_smt_store *st, const uint8_t root[32],
                                  chain_smt_update *ups, size_t n, uint8_t new_root[32],
                                  util_err *err);

/* Proof for path under root. siblings[0] is the sibling at depth 0 (just below
 * the root), siblings[nsib-1] the deepest. The path ends at `leaf` (has_leaf):
 * either the key itself (inclusion) or another key whose leaf occupies the
 * position (non-inclusion); or at an empty subtree (has_leaf = 0). */
typedef struct chain_smt_proof {
    uint32_t nsib;
    uint8_t siblings[CHAIN_SMT_MAX_DEPTH][32];
    int has_leaf;
    uint8_t leaf_path[32];
    uint8_t leaf_value_hash[32];
} chain_smt_proof;

OL_MUST_CHECK int chain_smt_prove(const chain_smt_store *st, const uint8_t root[32],
                                  const uint8_t path[32], chain_smt_proof *proof, util_err *err);
/* Checks proof against root. value_hash non-NULL: proves path maps to it;
 * NULL: proves path is absent. Returns 0 if the proof holds, UTIL_EINVAL with a
 * reason otherwise. */
OL_MUST_CHECK int chain_smt_verify(const uint8_t root[32], const uint8_t path[32],
                                   const uint8_t *value_hash, const chain_smt_proof *proof,
                                   util_err *err);

/* Proof encoding: nsib varint(<=256) | nsib x [32] | has_leaf u8 | [path[32] | value_hash[32]] */
OL_MUST_CHECK int chain_smt_proof_encode(const chain_smt_proof *p, util_buf *out);
OL_MUST_CHECK int chain_smt_proof_decode(chain_smt_proof *p, const uint8_t *b, size_t n,
                                         util_err *err);

#endif
