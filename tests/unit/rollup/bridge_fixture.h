/* Helpers of the bridge's L1 tests (tests/unit/rollup/test_bridge_contract.c)
 * and gas measurement: an in-memory chain_smt_store, and the withdrawals tree
 * as docs/rollup.md "The withdrawals tree and its proofs" states it, built
 * with chain_smt_apply and proven with chain_smt_prove, the very code the L2
 * uses. Header-only: each test is its own program. */
#ifndef OL_TESTS_BRIDGE_FIXTURE_H
#define OL_TESTS_BRIDGE_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/smt.h"
#include "rollup/bridge_abi.h"
#include "util/err.h"

/* ---- an in-memory node store (open addressing on the hash's first bytes) -- */

typedef struct bf_node {
    uint8_t hash[32];
    uint8_t node[CHAIN_SMT_NODE_LEN];
    uint8_t used;
} bf_node;

typedef struct bf_store {
    bf_node *t;
    size_t cap, n; /* cap a power of two */
} bf_store;

static inline size_t bf_slot(const bf_store *s, const uint8_t h[32])
{
    uint64_t x;
    memcpy(&x, h, 8);
    return (size_t)x & (s->cap - 1);
}

static inline void bf_insert(bf_store *s, const uint8_t h[32], const uint8_t node[65])
{
    size_t i = bf_slot(s, h);
    while (s->t[i].used && memcmp(s->t[i].hash, h, 32) != 0)
        i = (i + 1) & (s->cap - 1);
    if (!s->t[i].used) s->n++;
    s->t[i].used = 1;
    memcpy(s->t[i].hash, h, 32);
    memcpy(s->t[i].node, node, CHAIN_SMT_NODE_LEN);
}

static inline int bf_get(void *ctx, const uint8_t h[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    bf_store *s = ctx;
    if (!s->cap) return UTIL_ENOTFOUND;
    for (size_t i = bf_slot(s, h); s->t[i].used; i = (i + 1) & (s->cap - 1))
        if (memcmp(s->t[i].hash, h, 32) == 0) {
            memcpy(out, s->t[i].node, CHAIN_SMT_NODE_LEN);
            return 0;
        }
    return UTIL_ENOTFOUND;
}

static inline void bf_put(void *ctx, const uint8_t h[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    bf_store *s = ctx;
    if (2 * (s->n + 1) > s->cap) {
        bf_store g = {.cap = s->cap ? 2 * s->cap : 1024};
        g.t = calloc(g.cap, sizeof *g.t);
        if (!g.t) abort(); /* a test helper: out of memory ends the test */
        for (size_t i = 0; i < s->cap; i++)
            if (s->t[i].used) bf_insert(&g, s->t[i].hash, s->t[i].node);
        free(s->t);
        *s = g;
    }
    bf_insert(s, h, node);
}

static inline void bf_store_free(bf_store *s)
{
    free(s->t);
    memset(s, 0, sizeof *s);
}

/* ---- the withdrawals tree ------------------------------------------------- */

#define BF_VALUE_LEN 56

/* id u64le | sender[20] | l1Recipient[20] | amount u64le */
static inline void bf_value(uint8_t out[BF_VALUE_LEN], const rollup_bridge_withdrawal *w)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(w->id >> (8 * i));
        out[48 + i] = (uint8_t)(w->amount >> (8 * i));
    }
    memcpy(out + 8, w->sender, 20);
    memcpy(out + 28, w->l1_recipient.b, 20);
}

static inline void bf_value_hash(uint8_t out[32], const rollup_bridge_withdrawal *w)
{
    uint8_t v[BF_VALUE_LEN];
    bf_value(v, w);
    chain_sha256(out, v, sizeof v);
}

/* SHA-256('w' || id u64 big-endian) */
static inline void bf_path(uint8_t out[32], uint64_t id)
{
    uint8_t k[9] = {'w'};
    for (int i = 0; i < 8; i++)
        k[1 + i] = (uint8_t)(id >> (8 * (7 - i)));
    chain_sha256(out, k, sizeof k);
}

typedef struct bf_tree {
    bf_store mem;
    chain_smt_store st;
    uint8_t root[32];
} bf_tree;

/* A tree holding ws[0..n); 0 or the error of chain_smt_apply. */
static inline int bf_tree_build(bf_tree *t, const rollup_bridge_withdrawal *ws, size_t n,
                                util_err *err)
{
    memset(t, 0, sizeof *t);
    t->st.ctx = &t->mem;
    t->st.get = bf_get;
    t->st.put = bf_put;
    chain_smt_update *ups = calloc(n ? n : 1, sizeof *ups);
    if (!ups) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        bf_path(ups[i].path, ws[i].id);
        bf_value_hash(ups[i].value_hash, &ws[i]);
    }
    uint8_t empty[32] = {0};
    int rc = chain_smt_apply(&t->st, empty, ups, n, t->root, err);
    free(ups);
    return rc;
}

/* The contract's proof words for w: [stateRoot, blockHash, withdrawalsRoot,
 * siblings...] into words (ROLLUP_BRIDGE_PROOF_MAX_WORDS of them); returns
 * the count, and the chain_smt_proof in *p. */
static inline size_t bf_proof_words(bf_tree *t, const rollup_bridge_withdrawal *w,
                                    const uint8_t state_root[32], const uint8_t block_hash[32],
                                    uint8_t (*words)[32], chain_smt_proof *p, util_err *err)
{
    uint8_t path[32];
    bf_path(path, w->id);
    if (chain_smt_prove(&t->st, t->root, path, p, err)) return 0;
    memcpy(words[0], state_root, 32);
    memcpy(words[1], block_hash, 32);
    memcpy(words[2], t->root, 32);
    for (uint32_t i = 0; i < p->nsib; i++)
        memcpy(words[3 + i], p->siblings[i], 32);
    return 3 + p->nsib;
}

#endif
