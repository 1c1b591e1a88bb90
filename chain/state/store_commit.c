/* The one synced LevelDB batch per block (chain/state/store.h,
 * chain_store_commit_block, chain_store_init_genesis): the block, its
 * receipts, tx index entries, evidence records and commit, the state, index
 * and tree changes of its execution, its undo record and the new head,
 * written in key order. */
#include <leveldb/c.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/dbkey.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "chain/state/store_internal.h"
#include "util/hex.h"

/* --- commit --------------------------------------------------------------- */

/* A block's entries are staged, sorted by key and only then put into the
 * LevelDB batch: LevelDB inserts a batch into its memtable (a skip list of
 * up to the write buffer's size) one entry at a time, and a block's keys
 * (transaction ids, addresses, node hashes) come in random order, so every
 * insert missed the cache on most levels of the list; in key order each
 * insert walks the nodes the previous one just touched. Equal keys keep
 * their order (the later write still wins). */
/* Staged and batch bytes kept for the next block (beyond: freed). */
#define STAGE_KEEP (64u << 20)

typedef struct staged {
    uint64_t pre;     /* the key's first 8 bytes, big-endian (zero-padded): most
                       * comparisons end there, without reading the key */
    const uint8_t *k; /* set once staging is done (the buffer may move before) */
    size_t off;       /* of the key in the stage buffer; the value follows */
    uint32_t kl, vl;  /* vl UINT32_MAX: a delete */
    uint32_t seq;
} staged;

typedef struct batch_ctx {
    chain_store *st;
    size_t (*key)(uint8_t out[CHAIN_DBKEY_MAX], const uint8_t *key, size_t klen);
    uint64_t bytes;
    size_t n;
    int oom;
} batch_ctx;

static void stage(batch_ctx *bc, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, int del)
{
    chain_store *st = bc->st;
    if (bc->oom) return;
    if (kl >= UINT32_MAX || vl >= UINT32_MAX || bc->n >= UINT32_MAX) {
        bc->oom = 1;
        return;
    }
    if (bc->n == st->stage_cap) {
        size_t nc = st->stage_cap ? 2 * st->stage_cap : 1024;
        staged *ne = realloc(st->stage_ents, nc * sizeof *ne);
        if (!ne) {
            bc->oom = 1;
            return;
        }
        st->stage_ents = ne;
        st->stage_cap = nc;
    }
    staged *e = &st->stage_ents[bc->n];
    e->off = st->stage.len;
    e->kl = (uint32_t)kl;
    e->vl = del ? UINT32_MAX : (uint32_t)vl;
    e->seq = (uint32_t)bc->n;
    e->pre = 0;
    for (size_t i = 0; i < 8; i++)
        e->pre = e->pre << 8 | (i < kl ? k[i] : 0);
    util_buf_put(&st->stage, k, kl);
    if (!del && vl) util_buf_put(&st->stage, v, vl);
    if (st->stage.oom) {
        bc->oom = 1;
        return;
    }
    bc->n++;
    bc->bytes += kl + (del ? 0 : vl);
}

static void batch_put(batch_ctx *bc, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    stage(bc, k, kl, v, vl, 0);
}

static int cmp_staged(const void *a, const void *b)
{
    const staged *x = a, *y = b;
    if (x->pre != y->pre) return x->pre < y->pre ? -1 : 1;
    size_t n = x->kl < y->kl ? x->kl : y->kl;
    int c = n > 8 ? memcmp(x->k + 8, y->k + 8, n - 8) : 0;
    if (c) return c;
    if (x->kl != y->kl) return x->kl < y->kl ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Puts the staged entries into wb in key order. */
static void flush_staged(batch_ctx *bc, leveldb_writebatch_t *wb)
{
    staged *es = bc->st->stage_ents;
    const uint8_t *d = bc->st->stage.data;
    for (size_t i = 0; i < bc->n; i++)
        es[i].k = d + es[i].off;
    if (bc->n > 1) qsort(es, bc->n, sizeof *es, cmp_staged);
    for (size_t i = 0; i < bc->n; i++) {
        const staged *e = &es[i];
        if (e->vl == UINT32_MAX)
            leveldb_writebatch_delete(wb, (const char *)e->k, e->kl);
        else
            leveldb_writebatch_put(wb, (const char *)e->k, e->kl, (const char *)e->k + e->kl,
                                   e->vl);
    }
}

size_t chain_tx_index_addrs(const chain_tx *tx, chain_addr out[2])
{
    /* A DEPOSIT has no sender (its key is zero): it is its recipient's. */
    if (tx->type == CHAIN_TX_DEPOSIT) {
        out[0] = tx->body.deposit.to;
        return 1;
    }
    out[0] = tx->from;
    if (tx->type == CHAIN_TX_TRANSFER &&
        memcmp(tx->body.transfer.to.b, tx->from.b, CHAIN_ADDR_LEN) != 0) {
        out[1] = tx->body.transfer.to;
        return 2;
    }
    return 1;
}

static void put_tx_index(batch_ctx *bc, const chain_addr *a, uint64_t height, uint32_t index,
                         const uint8_t txid[32])
{
    uint8_t ix[CHAIN_IXKEY_TX_LEN], k[CHAIN_DBKEY_MAX];
    size_t n = chain_dbkey_index(k, ix, chain_ixkey_tx_by_addr(ix, a, height, index));
    batch_put(bc, k, n, txid, 32);
}

static void visit_put(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    batch_ctx *bc = ctx;
    uint8_t k[CHAIN_DBKEY_MAX];
    size_t n = bc->key(k, key, klen);
    if (!n) return; /* state and index keys are bounded by construction */
    if (!val && vlen == SIZE_MAX) {
        stage(bc, k, n, NULL, 0, 1);
        return;
    }
    batch_put(bc, k, n, val, vlen);
}

/* Tree nodes come with their 32-byte hash as key. */
static size_t node_key(uint8_t out[CHAIN_DBKEY_MAX], const uint8_t *hash, size_t len)
{
    return len == 32 ? chain_dbkey_node(out, hash) : 0;
}

static int commit_batch(chain_store *st, const chain_block *b, const chain_receipt *rs,
                        chain_exec *ex, const chain_commit *commit, const uint8_t *genesis_hash,
                        util_err *err)
{
    uint8_t root[32], id[32];
    if (!chain_exec_finished(ex, root))
        return util_err_set(err, UTIL_ESTATE, "block state not finished");
    if (memcmp(root, b->h.state_root, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "state root mismatch");
    if (st->has_head) {
        if (b->h.height != st->height + 1)
            return util_err_set(err, UTIL_EINVAL, "block height %llu does not follow head %llu",
                                (unsigned long long)b->h.height, (unsigned long long)st->height);
        if (memcmp(b->h.parent, st->head_id, 32) != 0)
            return util_err_set(err, UTIL_EINVAL, "block parent is not the head");
    } else if (b->h.height != 0) {
        return util_err_set(err, UTIL_ESTATE, "store has no genesis");
    }
    chain_header_hash(&b->h, id);

    util_buf enc, tmp;
    util_buf_init(&enc);
    util_buf_init(&tmp);
    if (!st->wb) st->wb = leveldb_writebatch_create();
    util_buf_reset(&st->stage);
    batch_ctx bc = {.st = st};
    int rc = 0;
    uint8_t k[CHAIN_DBKEY_ID_LEN];

    if (chain_block_encode(b, &enc)) goto oom;
    batch_put(&bc, k, chain_dbkey_block(k, id), enc.data, enc.len);
    batch_put(&bc, k, chain_dbkey_height(k, b->h.height), id, 32);

    util_buf_reset(&enc);
    util_buf_varint(&enc, b->ntx);
    for (size_t i = 0; i < b->ntx; i++) {
        util_buf_reset(&tmp);
        int erc = chain_receipt_encode_stored(&rs[i], &tmp);
        if (erc == UTIL_ENOMEM) goto oom;
        if (erc) {
            rc = util_err_set(err, UTIL_EINVAL, "receipt %zu breaks the receipt rules", i);
            goto out;
        }
        util_buf_lenbytes(&enc, tmp.data, tmp.len);
        uint8_t loc[12];
        util_put_u64le(loc, b->h.height);
        util_put_u32le(loc + 8, (uint32_t)i);
        batch_put(&bc, k, chain_dbkey_txloc(k, b->txs[i].id), loc, 12);
        chain_addr who[2];
        size_t nwho = chain_tx_index_addrs(&b->txs[i], who);
        for (size_t j = 0; j < nwho; j++)
            put_tx_index(&bc, &who[j], b->h.height, (uint32_t)i, b->txs[i].id);
    }
    if (enc.oom) goto oom;
    batch_put(&bc, k, chain_dbkey_receipts(k, id), enc.data, enc.len);

    for (size_t i = 0; i < b->nev; i++) {
        const chain_vote *v = &b->ev[i].a;
        uint8_t ek[CHAIN_DBKEY_EVIDENCE_LEN], at[8];
        util_put_u64le(at, b->h.height);
        batch_put(&bc, ek, chain_dbkey_evidence(ek, v->height, v->round, v->type, v->validator), at,
                  8);
    }

    util_buf_reset(&enc);
    if (chain_commit_encode(commit, &enc)) goto oom;
    batch_put(&bc, k, chain_dbkey_commit(k, b->h.height), enc.data, enc.len);

    bc.key = chain_dbkey_state;
    chain_exec_visit_changes(ex, visit_put, &bc);
    bc.key = chain_dbkey_index;
    chain_exec_visit_index(ex, visit_put, &bc);
    bc.key = node_key;
    chain_exec_visit_nodes(ex, visit_put, &bc);

    uint8_t head[40];
    util_put_u64le(head, b->h.height);
    memcpy(head + 8, id, 32);
    batch_put(&bc, k, chain_dbkey_head(k), head, 40);
    /* Block 0 has nothing to return to: it gets no undo record. */
    uint64_t undo_low = st->undo_low;
    if (st->undo_blocks && !genesis_hash &&
        (rc = chain_store_undo_capture(st, b, id, ex, st->wb, &bc.bytes, &undo_low, err)))
        goto out;
    if (genesis_hash) {
        uint8_t meta[33];
        memcpy(meta, genesis_hash, 32);
        meta[32] = DB_FORMAT_VERSION;
        batch_put(&bc, k, chain_dbkey_genesis(k), meta, 33);
    }

    if (bc.oom) goto oom;
    flush_staged(&bc, st->wb);
    char *e = NULL;
    leveldb_write(st->db, st->wopts_sync, st->wb, &e);
    if (e) {
        rc = util_err_set(err, UTIL_EIO, "leveldb write: %s", e);
        leveldb_free(e);
        goto out;
    }
    st->write_bytes += bc.bytes;
    chain_store_cache_nodes(st, ex);
    st->undo_low = undo_low;
    st->has_head = 1;
    st->height = b->h.height;
    memcpy(st->head_id, id, 32);
    st->head = b->h;
    if (genesis_hash) {
        memcpy(st->genesis_hash, genesis_hash, 32);
        st->has_genesis = 1;
    }
    goto out;
oom:
    rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
out:
    if (bc.bytes > STAGE_KEEP) {
        /* A rare huge block: give its memory back rather than hold it. */
        leveldb_writebatch_destroy(st->wb);
        st->wb = NULL;
        util_buf_free(&st->stage);
        free(st->stage_ents);
        st->stage_ents = NULL;
        st->stage_cap = 0;
    } else {
        leveldb_writebatch_clear(st->wb);
    }
    util_buf_free(&enc);
    util_buf_free(&tmp);
    return rc;
}

int chain_store_commit_block(chain_store *st, const chain_block *b, const chain_receipt *rs,
                             chain_exec *ex, const chain_commit *commit, util_err *err)
{
    if (!st->has_head) return util_err_set(err, UTIL_ESTATE, "store has no genesis");
    return commit_batch(st, b, rs, ex, commit, NULL, err);
}

int chain_store_init_genesis(chain_store *st, const chain_genesis *g, util_err *err)
{
    if (st->has_head) {
        /* chain_store_open refuses these; kept so no path builds on a store
         * whose genesis is unknown. */
        if (!st->has_genesis)
            return util_err_set(err, UTIL_ESTATE,
                                "data directory has no genesis record: not created by this "
                                "version (move it away and start again)");
        if (memcmp(st->genesis_hash, g->hash, 32) != 0) {
            char have[65], want[65];
            util_hex_encode(have, st->genesis_hash, 32);
            util_hex_encode(want, g->hash, 32);
            return util_err_set(err, UTIL_ESTATE,
                                "data directory belongs to another chain (genesis 0x%s), not "
                                "this genesis (0x%s)",
                                have, want);
        }
        return 0;
    }
    chain_exec_ctx ctx = {.chain_id = g->chain_id,
                          .genesis_hash = g->hash,
                          .height = 0,
                          .time_ms = g->genesis_time_ms};
    chain_exec *ex = chain_exec_new(st, &ctx);
    if (!ex) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < g->nalloc && !rc; i++) {
        chain_account acc = {.balance = g->alloc[i].balance, .nonce = 0};
        rc = chain_exec_set_account(ex, &g->alloc[i].addr, &acc, err);
    }
    /* Genesis contracts: code stored as a DEPLOY would (docs/contracts.md). */
    for (size_t i = 0; i < g->ncontracts && !rc; i++) {
        uint8_t k[21];
        chain_key_code(k, &g->contracts[i].addr);
        rc = chain_exec_put(ex, k, sizeof k, g->contracts[i].code, g->contracts[i].len, err);
    }
    chain_block b;
    memset(&b, 0, sizeof b);
    /* The header a light client rebuilds from the genesis alone; the state
     * written here must have its root, or the client would refuse our block 0. */
    if (!rc) rc = chain_genesis_block0(g, &b.h, err);
    uint8_t root[32];
    if (!rc) rc = chain_exec_finish(ex, root, err);
    if (!rc && memcmp(root, b.h.state_root, 32) != 0)
        rc = util_err_set(err, UTIL_ESTATE,
                          "the genesis state written has another root than the genesis "
                          "computes (a bug)");
    chain_commit none;
    memset(&none, 0, sizeof none);
    if (!rc) rc = commit_batch(st, &b, NULL, ex, &none, g->hash, err);
    chain_exec_free(ex);
    return rc;
}
