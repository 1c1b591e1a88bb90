/* Block 0 from the genesis alone (chain/state/store.h): its header, state
 * root included, computed without a store, so a light client holding only a
 * trusted genesis can recognise block 0, which no commit signs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/dbkey.h"
#include "chain/state/smt.h"
#include "chain/state/store.h"

/* The tree is built from the empty root in one batch, so nothing is ever
 * read back: no node store is needed, and new nodes are dropped. */
static int no_get(void *ctx, const uint8_t hash[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    (void)ctx, (void)hash, (void)out;
    return UTIL_ENOTFOUND;
}

static void no_put(void *ctx, const uint8_t hash[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    (void)ctx, (void)hash, (void)node;
}

int chain_genesis_state_root(const chain_genesis *g, uint8_t root[32], util_err *err)
{
    size_t n = g->nalloc + g->ncontracts;
    chain_smt_update *ups = calloc(n ? n : 1, sizeof *ups);
    if (!ups) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    /* The entries chain_store_init_genesis writes: each allocation as an
     * account (nonce 0), each contract's code under its code key. */
    for (size_t i = 0; i < g->nalloc; i++) {
        uint8_t key[CHAIN_ACCOUNT_KEY_LEN], val[CHAIN_ACCOUNT_VALUE_LEN];
        chain_account acc = {.balance = g->alloc[i].balance, .nonce = 0};
        chain_account_key(key, &g->alloc[i].addr);
        chain_account_encode(val, &acc);
        chain_sha256(ups[i].path, key, sizeof key);
        chain_sha256(ups[i].value_hash, val, sizeof val);
    }
    for (size_t i = 0; i < g->ncontracts; i++) {
        uint8_t key[21];
        size_t kl = chain_key_code(key, &g->contracts[i].addr);
        chain_sha256(ups[g->nalloc + i].path, key, kl);
        chain_sha256(ups[g->nalloc + i].value_hash, g->contracts[i].code, g->contracts[i].len);
    }
    static const uint8_t empty[32];
    chain_smt_store st = {.ctx = NULL, .get = no_get, .put = no_put};
    int rc = chain_smt_apply(&st, empty, ups, n, root, err);
    free(ups);
    return rc;
}

int chain_genesis_block0(const chain_genesis *g, chain_header *h, util_err *err)
{
    memset(h, 0, sizeof *h);
    h->version = CHAIN_BLOCK_VERSION;
    snprintf(h->chain_id, sizeof h->chain_id, "%s", g->chain_id);
    h->height = 0;
    /* Block 0 has no parent block; its parent field holds the genesis hash,
     * which covers the chain id, time, every param, the validators, the
     * allocations and contracts. Nodes started from different genesis
     * documents then disagree on block 0's id, not at some later block. */
    memcpy(h->parent, g->hash, 32);
    h->time_ms = g->genesis_time_ms;
    chain_header_fill_sets(h, g);
    return chain_genesis_state_root(g, h->state_root, err);
}
