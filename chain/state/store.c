/* The chain on LevelDB: opening and checking a store, reads of blocks, receipts,
 * commits and state (with a cache of tree nodes), and scans (chain/state/store.h;
 * the one synced batch per block is store_commit.c). */
#include "chain/state/store.h"

#include <leveldb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/dbkey.h"
#include "chain/state/state.h"
#include "chain/state/store_internal.h"
#include "util/hex.h"

/* The node cache's size (chain_store_smt_get): 6 MB. */
#define NC_SLOTS (1u << 16)
#define NC_REC (32 + CHAIN_SMT_NODE_LEN)

void chain_account_encode(uint8_t out[CHAIN_ACCOUNT_VALUE_LEN], const chain_account *acc)
{
    util_put_u64le(out, acc->balance);
    util_put_u64le(out + 8, acc->nonce);
}

int chain_account_decode(chain_account *acc, const uint8_t *p, size_t n)
{
    if (n != CHAIN_ACCOUNT_VALUE_LEN) return UTIL_EINVAL;
    acc->balance = util_get_u64le(p);
    acc->nonce = util_get_u64le(p + 8);
    return 0;
}

int chain_store_db_get(chain_store *st, const uint8_t *k, size_t kl, uint8_t **v, size_t *vl,
                       util_err *err)
{
    char *e = NULL;
    size_t n = 0;
    char *val = leveldb_get(st->db, st->ropts, (const char *)k, kl, &n, &e);
    if (e) {
        util_err_set(err, UTIL_EIO, "leveldb read: %s", e);
        leveldb_free(e);
        return UTIL_EIO;
    }
    if (!val) return util_err_set(err, UTIL_ENOTFOUND, "not found");
    /* Copy into malloc memory so callers free() without knowing LevelDB. */
    uint8_t *c = malloc(n ? n : 1);
    if (!c) {
        leveldb_free(val);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    memcpy(c, val, n);
    leveldb_free(val);
    *v = c;
    *vl = n;
    return 0;
}

/* The genesis record: genesis hash[32] | format version u8. Written with block 0,
 * so a store without it is empty or was not written by this program. */
static int load_meta(chain_store *st, const char *dir, util_err *err)
{
    uint8_t k[1], *v = NULL;
    size_t vl = 0;
    int rc = chain_store_db_get(st, k, chain_dbkey_genesis(k), &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) return 0;
    if (rc) return rc;
    if (vl != 33) {
        free(v);
        return util_err_set(err, UTIL_EIO,
                            "corrupt store in %s: the genesis record has %zu bytes, not 33 (not "
                            "a database of this program; move it away and start again)",
                            dir, vl);
    }
    unsigned version = v[32];
    memcpy(st->genesis_hash, v, 32);
    free(v);
    if (version != DB_FORMAT_VERSION)
        return util_err_set(err, UTIL_ESTATE,
                            "database in %s has format version %u, this openledgerd needs "
                            "version %u: there is no migration, so move the data directory away "
                            "(or use a matching openledgerd) and start again to rebuild it",
                            dir, version, (unsigned)DB_FORMAT_VERSION);
    st->has_genesis = 1;
    return 0;
}

/* Loads the head named by the head record and checks that the block stored there really
 * is that head: a block that does not hash to its id means the store was
 * damaged or edited, and building on it would fork from every other node. */
static int load_head(chain_store *st, const char *dir, util_err *err)
{
    uint8_t k[1], *v = NULL;
    size_t vl = 0;
    int rc = chain_store_db_get(st, k, chain_dbkey_head(k), &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) {
        if (st->has_genesis)
            return util_err_set(err, UTIL_EIO,
                                "corrupt store in %s: a genesis record but no head record", dir);
        return 0;
    }
    if (rc) return rc;
    if (vl != 40) {
        free(v);
        return util_err_set(err, UTIL_EIO, "corrupt store in %s: bad head record", dir);
    }
    if (!st->has_genesis) {
        free(v);
        return util_err_set(err, UTIL_EIO,
                            "corrupt store in %s: a head but no genesis record (not a database "
                            "of this version; move it away and start again)",
                            dir);
    }
    st->height = util_get_u64le(v);
    memcpy(st->head_id, v + 8, 32);
    free(v);
    chain_block b;
    if ((rc = chain_store_get_block(st, st->head_id, &b, NULL, err))) {
        util_err_prefix(err, "corrupt store: loading the head block: ");
        return rc == UTIL_ENOTFOUND ? UTIL_EIO : rc;
    }
    uint8_t id[32];
    chain_header_hash(&b.h, id);
    if (memcmp(id, st->head_id, 32) != 0 || b.h.height != st->height) {
        char want[65], got[65];
        util_hex_encode(want, st->head_id, 32);
        util_hex_encode(got, id, 32);
        chain_block_free(&b);
        return util_err_set(err, UTIL_EIO,
                            "corrupt store in %s: the head block hashes to 0x%s at height %llu, "
                            "the head record says 0x%s at height %llu",
                            dir, got, (unsigned long long)b.h.height, want,
                            (unsigned long long)st->height);
    }
    st->head = b.h;
    chain_block_free(&b);
    st->has_head = 1;
    return 0;
}

int chain_store_open(chain_store **out, const char *dir, util_err *err)
{
    return chain_store_open_opts(out, dir, NULL, err);
}

int chain_store_open_opts(chain_store **out, const char *dir, const chain_store_opts *opts,
                          util_err *err)
{
    chain_store *st = calloc(1, sizeof *st);
    if (!st) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    st->code_cache = chain_code_cache_new_env(CHAIN_CODE_CACHE_BYTES, opts ? opts->env : NULL);
    if (!st->code_cache) {
        free(st);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    /* Without memory for it (or a mutex), reads go to LevelDB. */
    st->nc = calloc(NC_SLOTS, NC_REC);
    if (st->nc && pthread_mutex_init(&st->nc_mu, NULL)) {
        free(st->nc);
        st->nc = NULL;
    }
    st->opts = leveldb_options_create();
    st->cache = leveldb_cache_create_lru(128u << 20);
    st->filter = leveldb_filterpolicy_create_bloom(10);
    leveldb_options_set_create_if_missing(st->opts, 1);
    leveldb_options_set_cache(st->opts, st->cache);
    leveldb_options_set_filter_policy(st->opts, st->filter);
    leveldb_options_set_write_buffer_size(st->opts, 64u << 20);
    leveldb_options_set_max_open_files(st->opts, 512);
    st->ropts = leveldb_readoptions_create();
    st->wopts_sync = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(st->wopts_sync, 1);
    char *e = NULL;
    st->db = leveldb_open(st->opts, dir, &e);
    if (e) {
        util_err_set(err, UTIL_EIO, "cannot open database in %s: %s", dir, e);
        leveldb_free(e);
        chain_store_close(st);
        return UTIL_EIO;
    }
    st->undo_blocks = opts ? opts->undo_blocks : 0;
    st->undo_state_only = opts ? opts->undo_state_only : 0;
    int rc = load_meta(st, dir, err);
    if (!rc) rc = load_head(st, dir, err);
    if (!rc && st->undo_blocks && st->has_head) rc = chain_store_undo_open(st, err);
    if (rc) {
        chain_store_close(st);
        return rc;
    }
    util_err_clear(err);
    *out = st;
    return 0;
}

void chain_store_close(chain_store *st)
{
    if (!st) return;
    if (st->db) leveldb_close(st->db);
    if (st->ropts) leveldb_readoptions_destroy(st->ropts);
    if (st->wopts_sync) leveldb_writeoptions_destroy(st->wopts_sync);
    if (st->wb) leveldb_writebatch_destroy(st->wb);
    free(st->stage_ents);
    util_buf_free(&st->stage);
    if (st->nc) {
        pthread_mutex_destroy(&st->nc_mu);
        free(st->nc);
    }
    if (st->opts) leveldb_options_destroy(st->opts);
    if (st->cache) leveldb_cache_destroy(st->cache);
    if (st->filter) leveldb_filterpolicy_destroy(st->filter);
    chain_code_cache_free(st->code_cache);
    free(st);
}

chain_code_cache *chain_store_code_cache(chain_store *st)
{
    return st->code_cache;
}

uint64_t chain_store_height(const chain_store *st)
{
    return st->height;
}

void chain_store_head_id(const chain_store *st, uint8_t id[32])
{
    memcpy(id, st->head_id, 32);
}

const chain_header *chain_store_head_header(const chain_store *st)
{
    return &st->head;
}

void chain_store_genesis_hash(const chain_store *st, uint8_t out[32])
{
    memcpy(out, st->genesis_hash, 32);
}

uint64_t chain_store_write_bytes(const chain_store *st)
{
    return st->write_bytes;
}

void chain_store_head_root(const chain_store *st, uint8_t root[32])
{
    if (st->has_head)
        memcpy(root, st->head.state_root, 32);
    else
        memset(root, 0, 32);
}

/* The node cache: a block's tree update reads the nodes along every changed
 * path from the previous root, most of them written by the last blocks; each
 * was a LevelDB get (a quarter of a transfer block's validate). Nodes are
 * keyed by their hash and never deleted or rewritten, so a cached node can
 * never be stale. Filled by each commit's new nodes and by reads. */

static uint8_t *nc_slot(const chain_store *st, const uint8_t hash[32])
{
    uint32_t i = ((uint32_t)hash[0] | (uint32_t)hash[1] << 8 | (uint32_t)hash[2] << 16) % NC_SLOTS;
    return st->nc + (size_t)i * NC_REC;
}

static void nc_put(chain_store *st, const uint8_t hash[32], const uint8_t *node)
{
    if (!st->nc) return;
    pthread_mutex_lock(&st->nc_mu);
    uint8_t *r = nc_slot(st, hash);
    memcpy(r, hash, 32);
    memcpy(r + 32, node, CHAIN_SMT_NODE_LEN);
    pthread_mutex_unlock(&st->nc_mu);
}

static int nc_get(chain_store *st, const uint8_t hash[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    static const uint8_t zero[32];
    /* An empty slot is all zeros: the zero hash (the empty tree) is never
     * a node. */
    if (!st->nc || memcmp(hash, zero, 32) == 0) return 0;
    pthread_mutex_lock(&st->nc_mu);
    const uint8_t *r = nc_slot(st, hash);
    int hit = memcmp(r, hash, 32) == 0;
    if (hit) memcpy(out, r + 32, CHAIN_SMT_NODE_LEN);
    pthread_mutex_unlock(&st->nc_mu);
    return hit;
}

static void nc_visit(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    if (klen == 32 && val && vlen == CHAIN_SMT_NODE_LEN) nc_put(ctx, key, val);
}

void chain_store_cache_nodes(chain_store *st, chain_exec *ex)
{
    chain_exec_visit_nodes(ex, nc_visit, st);
}

int chain_store_smt_get(void *store, const uint8_t hash[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    chain_store *st = store;
    if (nc_get(st, hash, out)) return 0;
    uint8_t k[CHAIN_DBKEY_ID_LEN];
    chain_dbkey_node(k, hash);
    char *e = NULL;
    size_t n = 0;
    char *val = leveldb_get(st->db, st->ropts, (const char *)k, sizeof k, &n, &e);
    if (e) {
        leveldb_free(e);
        return UTIL_EIO;
    }
    if (!val) return UTIL_ENOTFOUND;
    int rc = 0;
    if (n == CHAIN_SMT_NODE_LEN) {
        memcpy(out, val, n);
        nc_put(st, hash, out);
    } else {
        rc = UTIL_EIO;
    }
    leveldb_free(val);
    return rc;
}

int chain_store_block_id_at(chain_store *st, uint64_t height, uint8_t id[32], util_err *err)
{
    if (!st->has_head || height > st->height)
        return util_err_set(err, UTIL_ENOTFOUND, "no block at height %llu",
                            (unsigned long long)height);
    uint8_t k[CHAIN_DBKEY_HEIGHT_LEN], *v = NULL;
    size_t vl = 0;
    chain_dbkey_height(k, height);
    int rc = chain_store_db_get(st, k, sizeof k, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND)
        return util_err_set(err, rc, "no block at height %llu", (unsigned long long)height);
    if (rc) return rc;
    if (vl != 32)
        rc = util_err_set(err, UTIL_EIO, "corrupt height index");
    else
        memcpy(id, v, 32);
    free(v);
    return rc;
}

int chain_store_get_block(chain_store *st, const uint8_t id[32], chain_block *b, size_t *size,
                          util_err *err)
{
    uint8_t k[CHAIN_DBKEY_ID_LEN], *v = NULL;
    size_t vl = 0;
    chain_dbkey_block(k, id);
    int rc = chain_store_db_get(st, k, sizeof k, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) return util_err_set(err, rc, "block not found");
    if (rc) return rc;
    rc = chain_block_decode(b, v, vl, err);
    if (rc) util_err_prefix(err, "corrupt stored block: ");
    if (size) *size = vl;
    free(v);
    return rc;
}

int chain_store_get_block_bytes(chain_store *st, const uint8_t id[32], uint8_t **enc, size_t *len,
                                util_err *err)
{
    uint8_t k[CHAIN_DBKEY_ID_LEN];
    int rc = chain_store_db_get(st, k, chain_dbkey_block(k, id), enc, len, err);
    if (rc == UTIL_ENOTFOUND) return util_err_set(err, rc, "block not found");
    return rc;
}

int chain_store_get_receipts(chain_store *st, const uint8_t id[32], chain_receipt **rs, size_t *n,
                             util_err *err)
{
    uint8_t k[CHAIN_DBKEY_ID_LEN], *v = NULL;
    size_t vl = 0;
    chain_dbkey_receipts(k, id);
    int rc = chain_store_db_get(st, k, sizeof k, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) return util_err_set(err, rc, "receipts not found");
    if (rc) return rc;
    util_rd r;
    util_rd_init(&r, v, vl);
    uint64_t cnt;
    chain_receipt *out = NULL;
    util_err derr = {0};
    if (util_rd_varint(&r, &cnt, CHAIN_BLOCK_MAX_TXS)) goto corrupt;
    out = calloc(cnt ? cnt : 1, sizeof *out);
    if (!out) {
        free(v);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    for (uint64_t i = 0; i < cnt; i++) {
        const uint8_t *p;
        size_t pl;
        /* The bound comes from the receipt limits: any receipt the chain can
         * write reads back. */
        if (util_rd_lenbytes(&r, &p, &pl, CHAIN_RECEIPT_STORED_MAX)) goto corrupt;
        if (chain_receipt_decode_stored(&out[i], p, pl, &derr)) goto corrupt;
    }
    if (util_rd_end(&r)) goto corrupt;
    free(v);
    *rs = out;
    *n = cnt;
    return 0;
corrupt:
    if (out)
        for (uint64_t i = 0; i < cnt; i++)
            chain_receipt_free(&out[i]);
    free(out);
    free(v);
    return util_err_set(err, UTIL_EIO, "corrupt stored receipts%s%s", derr.msg[0] ? ": " : "",
                        derr.msg);
}

int chain_store_get_commit(chain_store *st, uint64_t height, chain_commit *c, util_err *err)
{
    uint8_t k[CHAIN_DBKEY_HEIGHT_LEN], *v = NULL;
    size_t vl = 0;
    chain_dbkey_commit(k, height);
    int rc = chain_store_db_get(st, k, sizeof k, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) return util_err_set(err, rc, "no commit for that height");
    if (rc) return rc;
    util_rd r;
    util_rd_init(&r, v, vl);
    rc = chain_commit_read(c, &r, NULL) || util_rd_end(&r)
             ? util_err_set(err, UTIL_EIO, "corrupt stored commit")
             : 0;
    free(v);
    return rc;
}

int chain_store_tx_location(chain_store *st, const uint8_t txid[32], uint64_t *height,
                            uint32_t *index, util_err *err)
{
    uint8_t k[CHAIN_DBKEY_ID_LEN], *v = NULL;
    size_t vl = 0;
    chain_dbkey_txloc(k, txid);
    int rc = chain_store_db_get(st, k, sizeof k, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) return util_err_set(err, rc, "transaction not found");
    if (rc) return rc;
    if (vl != 12)
        rc = util_err_set(err, UTIL_EIO, "corrupt tx index");
    else {
        *height = util_get_u64le(v);
        *index = util_get_u32le(v + 8);
    }
    free(v);
    return rc;
}

int chain_store_evidence_included(chain_store *st, const chain_evidence *e, uint64_t *height,
                                  util_err *err)
{
    uint8_t k[CHAIN_DBKEY_EVIDENCE_LEN], *v = NULL;
    size_t vl = 0;
    chain_dbkey_evidence(k, e->a.height, e->a.round, e->a.type, e->a.validator);
    int rc = chain_store_db_get(st, k, sizeof k, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) return util_err_set(err, rc, "evidence not included");
    if (rc) return rc;
    if (vl != 8)
        rc = util_err_set(err, UTIL_EIO, "corrupt evidence record");
    else if (height)
        *height = util_get_u64le(v);
    free(v);
    return rc;
}

int chain_store_state_get(chain_store *st, const uint8_t *key, size_t klen, uint8_t **val,
                          size_t *vlen, util_err *err)
{
    uint8_t k[CHAIN_DBKEY_MAX];
    size_t n = chain_dbkey_state(k, key, klen);
    if (!n) return util_err_set(err, UTIL_EINVAL, "state key too long");
    return chain_store_db_get(st, k, n, val, vlen, err);
}

int chain_store_get_account(chain_store *st, const chain_addr *a, chain_account *acc, util_err *err)
{
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN], *v;
    size_t vl = 0;
    chain_account_key(key, a);
    int rc = chain_store_state_get(st, key, sizeof key, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) {
        util_err_clear(err);
        acc->balance = acc->nonce = 0;
        return 0;
    }
    if (rc) return rc;
    rc = chain_account_decode(acc, v, vl) ? util_err_set(err, UTIL_EIO, "corrupt account") : 0;
    free(v);
    return rc;
}

int chain_store_prove(chain_store *st, const uint8_t *key, size_t klen, chain_smt_proof *proof,
                      util_err *err)
{
    uint8_t path[32], root[32];
    chain_sha256(path, key, klen);
    chain_store_head_root(st, root);
    chain_smt_store sst = {.ctx = st, .get = chain_store_smt_get, .put = NULL};
    return chain_smt_prove(&sst, root, path, proof, err);
}

int chain_store_scan(chain_store *st, const uint8_t *prefix, size_t plen, const uint8_t *after,
                     size_t alen, int reverse, size_t limit, chain_scan_fn fn, void *ctx,
                     util_err *err)
{
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->ropts);
    size_t seen = 0;
    if (!reverse) {
        if (after) {
            leveldb_iter_seek(it, (const char *)after, alen);
            if (leveldb_iter_valid(it)) {
                size_t kl;
                const char *k = leveldb_iter_key(it, &kl);
                if (kl == alen && memcmp(k, after, alen) == 0) leveldb_iter_next(it);
            }
        } else {
            leveldb_iter_seek(it, (const char *)prefix, plen);
        }
    } else {
        if (after) {
            leveldb_iter_seek(it, (const char *)after, alen);
        } else {
            /* Seek past the prefix: prefix with its last byte incremented,
             * or the end of the database if it is all 0xff. */
            uint8_t end[256];
            size_t el = plen < sizeof end ? plen : sizeof end;
            memcpy(end, prefix, el);
            while (el > 0 && end[el - 1] == 0xff)
                el--;
            if (el == 0) {
                leveldb_iter_seek_to_last(it);
                goto check;
            }
            end[el - 1]++;
            leveldb_iter_seek(it, (const char *)end, el);
        }
        if (leveldb_iter_valid(it))
            leveldb_iter_prev(it);
        else
            leveldb_iter_seek_to_last(it);
    }
check:
    while (leveldb_iter_valid(it) && seen < limit) {
        size_t kl, vl;
        const char *k = leveldb_iter_key(it, &kl);
        if (kl < plen || memcmp(k, prefix, plen) != 0) break;
        const char *v = leveldb_iter_value(it, &vl);
        seen++;
        if (fn(ctx, (const uint8_t *)k, kl, (const uint8_t *)v, vl)) break;
        if (reverse)
            leveldb_iter_prev(it);
        else
            leveldb_iter_next(it);
    }
    char *e = NULL;
    leveldb_iter_get_error(it, &e);
    leveldb_iter_destroy(it);
    if (e) {
        util_err_set(err, UTIL_EIO, "leveldb scan: %s", e);
        leveldb_free(e);
        return UTIL_EIO;
    }
    return 0;
}

typedef struct addr_txs {
    chain_addr_tx_fn fn;
    void *ctx;
    int bad;
} addr_txs;

static int visit_addr_tx(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                         size_t vlen)
{
    addr_txs *at = ctx;
    uint64_t height;
    uint32_t index;
    if (klen < 1 || vlen != 32 ||
        chain_ixkey_tx_by_addr_parse(key + 1, klen - 1, &height, &index)) {
        at->bad = 1;
        return 1;
    }
    return at->fn(at->ctx, height, index, val);
}

int chain_store_addr_txs(chain_store *st, const chain_addr *a, int before, uint64_t before_height,
                         uint32_t before_index, size_t limit, chain_addr_tx_fn fn, void *ctx,
                         util_err *err)
{
    uint8_t prefix[2 + CHAIN_ADDR_LEN], ix[CHAIN_IXKEY_TX_LEN], cursor[CHAIN_DBKEY_MAX];
    size_t plen = chain_dbkey_index_prefix(prefix, CHAIN_IX_TX_BY_ADDR, a->b, CHAIN_ADDR_LEN);
    size_t clen = 0;
    if (before)
        clen = chain_dbkey_index(cursor, ix,
                                 chain_ixkey_tx_by_addr(ix, a, before_height, before_index));
    addr_txs at = {.fn = fn, .ctx = ctx};
    int rc = chain_store_scan(st, prefix, plen, before ? cursor : NULL, clen, 1, limit,
                              visit_addr_tx, &at, err);
    if (!rc && at.bad) rc = util_err_set(err, UTIL_EIO, "malformed transaction index entry");
    return rc;
}
