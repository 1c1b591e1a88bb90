/* Undo records and rollback (chain/state/store.h, docs/storage.md "Undo
 * records"): what a block's batch overwrote, kept for the last undo_blocks
 * blocks, so that a node deriving from the L1 can take back blocks an L1
 * reorganisation dropped. */
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/dbkey.h"
#include "chain/state/store_internal.h"
#include "util/bytes.h"

/* Record: version u8 | count varint | count x (store key lenbytes | present
 * u8 | value lenbytes when present), in the order the keys were captured. */
#define UNDO_VERSION 1
/* The same layout holding the state's previous values and the head only
 * (chain_store_opts.undo_state_only): proofs at past heights, no rollback. */
#define UNDO_VERSION_STATE 2
/* The longest value a record holds: a state or index value (the others are
 * fixed and shorter). */
#define UNDO_VALUE_MAX CHAIN_STATE_VALUE_MAX

typedef struct undo_rec {
    chain_store *st;
    util_buf buf; /* the entries */
    uint64_t n;
    int rc; /* first read failure */
    util_err *err;
} undo_rec;

static void rec_add(undo_rec *u, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    util_buf_lenbytes(&u->buf, k, kl);
    util_buf_u8(&u->buf, v != NULL);
    if (v) util_buf_lenbytes(&u->buf, v, vl);
    u->n++;
}

/* A key whose previous value must be read: it may exist already. */
static void rec_read(undo_rec *u, const uint8_t *k, size_t kl)
{
    if (u->rc) return;
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = chain_store_db_get(u->st, k, kl, &v, &vl, u->err);
    if (rc == UTIL_ENOTFOUND) {
        util_err_clear(u->err);
        rec_add(u, k, kl, NULL, 0);
        return;
    }
    if (rc) {
        u->rc = rc;
        return;
    }
    rec_add(u, k, kl, v, vl);
    free(v);
}

static void visit_state(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    uint8_t k[CHAIN_DBKEY_MAX];
    size_t n = chain_dbkey_state(k, key, klen);
    if (n) rec_add(ctx, k, n, val, val ? vlen : 0);
}

static void visit_index(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)val, (void)vlen;
    uint8_t k[CHAIN_DBKEY_MAX];
    size_t n = chain_dbkey_index(k, key, klen);
    if (n) rec_read(ctx, k, n);
}

static void rec_absent_tx_index(undo_rec *u, const chain_addr *a, uint64_t height, uint32_t index)
{
    uint8_t ix[CHAIN_IXKEY_TX_LEN], k[CHAIN_DBKEY_MAX];
    size_t n = chain_dbkey_index(k, ix, chain_ixkey_tx_by_addr(ix, a, height, index));
    rec_add(u, k, n, NULL, 0);
}

int chain_store_undo_capture(chain_store *st, const chain_block *b, const uint8_t id[32],
                             chain_exec *ex, leveldb_writebatch_t *wb, uint64_t *bytes,
                             uint64_t *undo_low, util_err *err)
{
    undo_rec u = {.st = st, .err = err};
    util_buf_init(&u.buf);
    uint64_t h = b->h.height;
    uint8_t k[CHAIN_DBKEY_MAX];
    /* A state-only record (undo_state_only) keeps the previous state values
     * and the head, nothing else. */
    int full = !st->undo_state_only;
    if (full) {
        /* Keyed by this block's id or by a height above the head: absent
         * before the block (a rollback deletes them), so nothing is read. */
        rec_add(&u, k, chain_dbkey_block(k, id), NULL, 0);
        rec_add(&u, k, chain_dbkey_receipts(k, id), NULL, 0);
        rec_add(&u, k, chain_dbkey_height(k, h), NULL, 0);
        rec_add(&u, k, chain_dbkey_commit(k, h), NULL, 0);
        for (size_t i = 0; i < b->ntx; i++) {
            const chain_tx *tx = &b->txs[i];
            rec_read(&u, k, chain_dbkey_txloc(k, tx->id));
            chain_addr who[2];
            size_t nwho = chain_tx_index_addrs(tx, who);
            for (size_t j = 0; j < nwho; j++)
                rec_absent_tx_index(&u, &who[j], h, (uint32_t)i);
        }
        /* Validate refused evidence already included, so the records are
         * new; read anyway, as for tx locations: the record must restore
         * exactly. */
        for (size_t i = 0; i < b->nev; i++) {
            const chain_vote *v = &b->ev[i].a;
            rec_read(&u, k, chain_dbkey_evidence(k, v->height, v->round, v->type, v->validator));
        }
    }
    chain_exec_visit_originals(ex, visit_state, &u);
    /* Attribution index keys hold fresh ids today, but nothing in their
     * layout promises it: one read each (mostly a bloom filter miss). */
    if (full) chain_exec_visit_index(ex, visit_index, &u);
    uint8_t head[40];
    util_put_u64le(head, st->height);
    memcpy(head + 8, st->head_id, 32);
    rec_add(&u, k, chain_dbkey_head(k), head, sizeof head);

    int rc = u.rc;
    util_buf rec;
    util_buf_init(&rec);
    if (!rc) {
        util_buf_u8(&rec, st->undo_state_only ? UNDO_VERSION_STATE : UNDO_VERSION);
        util_buf_varint(&rec, u.n);
        util_buf_put(&rec, u.buf.data, u.buf.len);
        if (rec.oom || u.buf.oom) rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    if (!rc) {
        uint8_t uk[CHAIN_DBKEY_HEIGHT_LEN];
        chain_dbkey_undo(uk, h);
        leveldb_writebatch_put(wb, (const char *)uk, sizeof uk, (const char *)rec.data, rec.len);
        *bytes += sizeof uk + rec.len;
        /* Keep heights h - undo_blocks + 1 .. h; the run grows by one, so in
         * steady state one record goes. */
        uint64_t low = st->undo_low ? st->undo_low : h;
        while (low + st->undo_blocks <= h) {
            leveldb_writebatch_delete(wb, (const char *)uk, chain_dbkey_undo(uk, low));
            *bytes += sizeof uk;
            low++;
        }
        *undo_low = low;
    }
    util_buf_free(&rec);
    util_buf_free(&u.buf);
    return rc;
}

uint64_t chain_store_rollback_floor(const chain_store *st)
{
    if (!st->has_head || !st->undo_low || st->undo_low > st->height) return st->height;
    return st->undo_low - 1;
}

/* --- opening ------------------------------------------------------------- */

typedef struct undo_keys {
    uint64_t *h;
    size_t n, cap;
    int oom, bad;
} undo_keys;

static int collect(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)val, (void)vlen;
    undo_keys *uk = ctx;
    if (klen != CHAIN_DBKEY_HEIGHT_LEN) {
        uk->bad = 1;
        return 1;
    }
    if (uk->n == uk->cap) {
        size_t nc = uk->cap ? uk->cap * 2 : 64;
        uint64_t *p = realloc(uk->h, nc * sizeof *p);
        if (!p) {
            uk->oom = 1;
            return 1;
        }
        uk->h = p;
        uk->cap = nc;
    }
    uk->h[uk->n++] = util_get_u64be(key + 1);
    return 0;
}

int chain_store_undo_open(chain_store *st, util_err *err)
{
    uint8_t prefix[CHAIN_DBKEY_HEIGHT_LEN];
    chain_dbkey_undo(prefix, 0);
    undo_keys uk = {0};
    /* Newest first: the run is the records head, head - 1, ... without a gap. */
    int rc = chain_store_scan(st, prefix, 1, NULL, 0, 1, SIZE_MAX, collect, &uk, err);
    if (!rc && uk.oom) rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
    if (!rc && uk.bad) rc = util_err_set(err, UTIL_EIO, "corrupt store: a malformed undo key");
    leveldb_writebatch_t *wb = NULL;
    uint64_t low = 0, want = st->height;
    for (size_t i = 0; !rc && i < uk.n; i++) {
        uint64_t h = uk.h[i];
        /* Above the head cannot happen (a rollback deletes them); below a
         * gap or past undo_blocks, the record is stale. */
        if (h <= st->height && h == want && want > 0 && st->height - h < st->undo_blocks) {
            low = h;
            want--;
            continue;
        }
        if (h <= st->height) want = 0;
        if (!wb) wb = leveldb_writebatch_create();
        uint8_t k[CHAIN_DBKEY_HEIGHT_LEN];
        leveldb_writebatch_delete(wb, (const char *)k, chain_dbkey_undo(k, h));
    }
    if (!rc && wb) {
        char *e = NULL;
        leveldb_write(st->db, st->wopts_sync, wb, &e);
        if (e) {
            rc = util_err_set(err, UTIL_EIO, "leveldb write: %s", e);
            leveldb_free(e);
        }
    }
    if (wb) leveldb_writebatch_destroy(wb);
    free(uk.h);
    if (!rc) st->undo_low = low;
    return rc;
}

/* --- rollback ------------------------------------------------------------ */

/* Adds to wb what restores the keys of one record, last captured first (a key
 * captured twice in a block then ends with its first, older, value).
 * Records are added newest first, so the oldest block's values win. */
static int restore(leveldb_writebatch_t *wb, const uint8_t *v, size_t vl, uint64_t *bytes)
{
    typedef struct entry {
        const uint8_t *k, *p;
        size_t kl, pl;
        uint8_t present;
    } entry;
    util_rd r;
    util_rd_init(&r, v, vl);
    uint8_t ver;
    uint64_t n;
    /* Each entry takes at least 3 bytes: a bound before allocating. */
    if (util_rd_u8(&r, &ver) || ver != UNDO_VERSION || util_rd_varint(&r, &n, vl / 3)) return -1;
    entry *ent = calloc(n ? n : 1, sizeof *ent);
    if (!ent) return -2;
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        entry *e = &ent[i];
        if (util_rd_lenbytes(&r, &e->k, &e->kl, CHAIN_DBKEY_MAX) || e->kl == 0 ||
            util_rd_u8(&r, &e->present) || e->present > 1 ||
            (e->present && util_rd_lenbytes(&r, &e->p, &e->pl, UNDO_VALUE_MAX)))
            rc = -1;
    }
    if (!rc && util_rd_end(&r)) rc = -1;
    for (uint64_t i = n; !rc && i-- > 0;) {
        const entry *e = &ent[i];
        if (e->present)
            leveldb_writebatch_put(wb, (const char *)e->k, e->kl, (const char *)e->p, e->pl);
        else
            leveldb_writebatch_delete(wb, (const char *)e->k, e->kl);
        *bytes += e->kl + e->pl;
    }
    free(ent);
    return rc;
}

int chain_store_rollback(chain_store *st, uint64_t height, util_err *err)
{
    if (!st->has_head) return util_err_set(err, UTIL_EINVAL, "the store has no blocks");
    if (height > st->height)
        return util_err_set(err, UTIL_EINVAL, "cannot roll back to height %llu above the head %llu",
                            (unsigned long long)height, (unsigned long long)st->height);
    uint64_t floor = chain_store_rollback_floor(st);
    if (height < floor)
        return util_err_set(err, UTIL_EINVAL,
                            "cannot roll back to height %llu: undo records reach down to %llu "
                            "(undo_blocks %u)",
                            (unsigned long long)height, (unsigned long long)floor,
                            (unsigned)st->undo_blocks);
    if (height == st->height) return 0;

    /* The new head, read before anything changes: its block stays. */
    uint8_t id[32];
    chain_block b;
    int rc = chain_store_block_id_at(st, height, id, err);
    if (!rc) rc = chain_store_get_block(st, id, &b, NULL, err);
    if (rc) {
        util_err_prefix(err,
                        "rollback: reading the block at height %llu: ", (unsigned long long)height);
        return rc == UTIL_ENOTFOUND ? UTIL_EIO : rc;
    }
    chain_header nh = b.h;
    chain_block_free(&b);

    leveldb_writebatch_t *wb = leveldb_writebatch_create();
    uint64_t bytes = 0;
    for (uint64_t h = st->height; h > height && !rc; h--) {
        uint8_t k[CHAIN_DBKEY_HEIGHT_LEN], *v = NULL;
        size_t vl = 0;
        chain_dbkey_undo(k, h);
        rc = chain_store_db_get(st, k, sizeof k, &v, &vl, err);
        if (rc == UTIL_ENOTFOUND) {
            rc = util_err_set(err, UTIL_EIO, "corrupt store: no undo record for height %llu",
                              (unsigned long long)h);
            break;
        }
        if (rc) break;
        if (vl > 0 && v[0] == UNDO_VERSION_STATE) {
            free(v);
            rc = util_err_set(err, UTIL_ESTATE,
                              "cannot roll back block %llu: its undo record holds the state only "
                              "(kept for proofs at past heights, --proof-history); rolling back "
                              "needs records written by a node deriving from the L1",
                              (unsigned long long)h);
            break;
        }
        int prc = restore(wb, v, vl, &bytes);
        free(v);
        if (prc == -2) rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
        if (prc == -1)
            rc = util_err_set(err, UTIL_EIO, "corrupt store: malformed undo record at height %llu",
                              (unsigned long long)h);
        leveldb_writebatch_delete(wb, (const char *)k, sizeof k);
        bytes += sizeof k;
    }
    if (!rc) {
        /* The records restore it too; written from the block just read so
         * the store and the in-memory head cannot disagree. */
        uint8_t k[1], head[40];
        util_put_u64le(head, height);
        memcpy(head + 8, id, 32);
        leveldb_writebatch_put(wb, (const char *)k, chain_dbkey_head(k), (const char *)head, 40);
        bytes += 1 + 40;
        char *e = NULL;
        leveldb_write(st->db, st->wopts_sync, wb, &e);
        if (e) {
            rc = util_err_set(err, UTIL_EIO, "leveldb write: %s", e);
            leveldb_free(e);
        }
    }
    leveldb_writebatch_destroy(wb);
    if (rc) return rc;
    st->write_bytes += bytes;
    st->height = height;
    memcpy(st->head_id, id, 32);
    st->head = nh;
    if (st->undo_low > height) st->undo_low = 0;
    util_err_clear(err);
    return 0;
}

/* --- past values --------------------------------------------------------- */

/* The value of store key k in one undo record (what the block overwrote):
 * its first entry for k, the value before the block. 1 and *v, *vl (borrowed
 * from rec; *v NULL when the key was absent) when the record holds k; 0 when
 * not; -1 when the record is malformed. */
static int undo_lookup(const uint8_t *rec, size_t n, const uint8_t *k, size_t kl, const uint8_t **v,
                       size_t *vl)
{
    util_rd r;
    util_rd_init(&r, rec, n);
    uint8_t ver;
    uint64_t cnt;
    if (util_rd_u8(&r, &ver) || (ver != UNDO_VERSION && ver != UNDO_VERSION_STATE) ||
        util_rd_varint(&r, &cnt, n / 3))
        return -1;
    for (uint64_t i = 0; i < cnt; i++) {
        const uint8_t *ek, *ep = NULL;
        size_t ekl, epl = 0;
        uint8_t present;
        if (util_rd_lenbytes(&r, &ek, &ekl, CHAIN_DBKEY_MAX) || util_rd_u8(&r, &present) ||
            present > 1 || (present && util_rd_lenbytes(&r, &ep, &epl, UNDO_VALUE_MAX)))
            return -1;
        if (ekl == kl && memcmp(ek, k, kl) == 0) {
            *v = present ? ep : NULL;
            *vl = epl;
            return 1;
        }
    }
    return 0;
}

int chain_store_state_get_at(chain_store *st, const uint8_t *key, size_t klen, uint64_t height,
                             const uint8_t want[32], uint8_t **val, size_t *vlen, util_err *err)
{
    *val = NULL;
    *vlen = 0;
    uint8_t sk[CHAIN_DBKEY_MAX], h[32];
    size_t skl = chain_dbkey_state(sk, key, klen);
    if (!skl) return util_err_set(err, UTIL_EINVAL, "state key too long");
    uint64_t head = st->height;
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = chain_store_db_get(st, sk, skl, &v, &vl, err);
    if (rc && rc != UTIL_ENOTFOUND) return rc;
    util_err_clear(err);
    if (!rc) {
        chain_sha256(h, v, vl);
        if (memcmp(h, want, 32) == 0) {
            *val = v;
            *vlen = vl;
            return 0;
        }
        free(v);
    }
    /* Changed since: the undo records of the blocks above height hold what
     * each overwrote. Any value hashing to `want` is the one (the hash is the
     * tree's commitment), so the walk needs no bookkeeping of its own. */
    for (uint64_t b = head; b > height && b >= st->undo_low && st->undo_low; b--) {
        uint8_t uk[CHAIN_DBKEY_HEIGHT_LEN], *rec = NULL;
        size_t rl = 0;
        chain_dbkey_undo(uk, b);
        rc = chain_store_db_get(st, uk, sizeof uk, &rec, &rl, err);
        if (rc == UTIL_ENOTFOUND) break; /* pruned meanwhile */
        if (rc) return rc;
        const uint8_t *p;
        size_t pl;
        int got = undo_lookup(rec, rl, sk, skl, &p, &pl);
        if (got < 0) {
            free(rec);
            return util_err_set(err, UTIL_EIO,
                                "corrupt store: malformed undo record at height %llu",
                                (unsigned long long)b);
        }
        if (got && p) {
            chain_sha256(h, p, pl);
            if (memcmp(h, want, 32) == 0) {
                *val = malloc(pl ? pl : 1);
                if (!*val) {
                    free(rec);
                    return util_err_set(err, UTIL_ENOMEM, "out of memory");
                }
                memcpy(*val, p, pl);
                *vlen = pl;
                free(rec);
                return 0;
            }
        }
        free(rec);
    }
    util_err_clear(err);
    return util_err_set(err, UTIL_ENOTFOUND,
                        "its value then is no longer kept: it has changed since, and this node "
                        "keeps past values back to height %llu",
                        (unsigned long long)chain_store_rollback_floor(st));
}
