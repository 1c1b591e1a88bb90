/* The block overlay: a journaled key-value cache over the committed state. */
#include "chain/state/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/dbkey.h"
#include "chain/state/smt.h"
#include "chain/state/store_internal.h"

/* One state key touched by the block. Iteration order of the table never
 * reaches the state root: the tree sorts its updates by path. */
typedef struct slot {
    uint8_t key[CHAIN_STATE_KEY_MAX];
    uint8_t klen;
    uint8_t used;
    uint8_t present; /* the key has a value (else absent or deleted) */
    uint8_t dirty;   /* differs from what was loaded */
    uint8_t *val;    /* owned */
    uint32_t vlen;
} slot;

/* Undo record: the slot's previous content (ownership of the old value moves
 * here) or an index write to drop. */
typedef struct undo {
    uint32_t slot; /* UINT32_MAX: an index entry */
    uint8_t present, dirty;
    uint8_t *val;
    uint32_t vlen;
    size_t ixprev; /* an index entry: its key's previous latest write (IX_NONE: none) */
} undo;

/* The latest write of one index key in this block (chain_exec_index_get):
 * off is the offset of its record in the index buffer, IX_NONE when no write
 * of the key is live (none yet, or a revert dropped them). The key's bytes
 * are kept in an arena of their own (ixkeys, never truncated), so an entry
 * stays small. Keys longer than IX_KEY_MAX are not mapped (nothing writes
 * them). */
#define IX_NONE SIZE_MAX
#define IX_KEY_MAX 64
#define IX_DELETED UINT32_MAX /* vlen of a deletion record */
typedef struct ixent {
    uint64_t h;
    size_t off;
    uint32_t koff; /* the key in ixkeys */
    uint8_t klen;  /* 0: unused */
    uint8_t fresh; /* the live writes began with a put of a key the store did not hold */
} ixent;

struct chain_exec {
    chain_store *st;
    chain_exec_ctx ctx;
    char chain_id[CHAIN_ID_MAX + 1];
    slot *slots;
    size_t cap, used;
    undo *journal;
    ixent *ixmap; /* the latest write of each index key */
    size_t ixcap, ixused;
    util_buf ixkeys; /* their keys */
    int ix_unmapped; /* a key longer than IX_KEY_MAX was written */
    uint8_t *ixread; /* the committed index value chain_exec_index_get returned */
    size_t nj, capj;
    util_buf index;  /* klen u8 | key | vlen u32 | val records */
    util_buf nodes;  /* new tree nodes: hash[32] | node[65] records */
    util_buf wnodes; /* the same, of the withdrawals tree */
    int finished;
    uint8_t root[32];
};

#define NODE_REC (32 + CHAIN_SMT_NODE_LEN)

chain_exec *chain_exec_new(chain_store *st, const chain_exec_ctx *ctx)
{
    chain_exec *ex = calloc(1, sizeof *ex);
    if (!ex) return NULL;
    ex->st = st;
    ex->ctx = *ctx;
    snprintf(ex->chain_id, sizeof ex->chain_id, "%s", ctx->chain_id ? ctx->chain_id : "");
    ex->ctx.chain_id = ex->chain_id;
    ex->cap = 256; /* grows by doubling; small for dry runs */
    ex->slots = calloc(ex->cap, sizeof *ex->slots);
    if (!ex->slots) {
        free(ex);
        return NULL;
    }
    util_buf_init(&ex->nodes);
    util_buf_init(&ex->wnodes);
    util_buf_init(&ex->index);
    util_buf_init(&ex->ixkeys);
    return ex;
}

void chain_exec_free(chain_exec *ex)
{
    if (!ex) return;
    for (size_t i = 0; i < ex->cap; i++)
        free(ex->slots[i].val);
    for (size_t i = 0; i < ex->nj; i++)
        free(ex->journal[i].val);
    free(ex->ixmap);
    util_buf_free(&ex->ixkeys);
    free(ex->ixread);
    free(ex->slots);
    free(ex->journal);
    util_buf_free(&ex->nodes);
    util_buf_free(&ex->wnodes);
    util_buf_free(&ex->index);
    free(ex);
}

const chain_exec_ctx *chain_exec_context(const chain_exec *ex)
{
    return &ex->ctx;
}

chain_store *chain_exec_store(const chain_exec *ex)
{
    return ex->st;
}

static uint64_t key_hash(const uint8_t *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static size_t find(const slot *slots, size_t cap, const uint8_t *k, size_t n)
{
    size_t i = (size_t)key_hash(k, n) & (cap - 1);
    while (slots[i].used && (slots[i].klen != n || memcmp(slots[i].key, k, n) != 0))
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(chain_exec *ex)
{
    size_t ncap = ex->cap * 2;
    slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return UTIL_ENOMEM;
    /* Journal entries name slots by index: remap them. */
    size_t *map = malloc(ex->cap * sizeof *map);
    if (!map) {
        free(ns);
        return UTIL_ENOMEM;
    }
    for (size_t i = 0; i < ex->cap; i++) {
        if (!ex->slots[i].used) continue;
        size_t j = find(ns, ncap, ex->slots[i].key, ex->slots[i].klen);
        ns[j] = ex->slots[i];
        map[i] = j;
    }
    for (size_t i = 0; i < ex->nj; i++)
        if (ex->journal[i].slot != UINT32_MAX)
            ex->journal[i].slot = (uint32_t)map[ex->journal[i].slot];
    free(map);
    free(ex->slots);
    ex->slots = ns;
    ex->cap = ncap;
    return 0;
}

/* Returns the slot index of key, loading it from the committed state first. */
static int slot_for(chain_exec *ex, const uint8_t *k, size_t n, size_t *out, util_err *err)
{
    if (n == 0 || n > CHAIN_STATE_KEY_MAX)
        return util_err_set(err, UTIL_EINVAL, "state key of %zu bytes", n);
    size_t i = find(ex->slots, ex->cap, k, n);
    if (ex->slots[i].used) {
        *out = i;
        return 0;
    }
    if ((ex->used + 1) * 2 > ex->cap) {
        if (grow(ex)) return util_err_set(err, UTIL_ENOMEM, "out of memory");
        i = find(ex->slots, ex->cap, k, n);
    }
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = chain_store_state_get(ex->st, k, n, &v, &vl, err);
    if (rc && rc != UTIL_ENOTFOUND) return rc;
    if (!rc && vl > CHAIN_STATE_VALUE_MAX) {
        free(v);
        return util_err_set(err, UTIL_EIO, "stored state value too large");
    }
    slot *s = &ex->slots[i];
    memcpy(s->key, k, n);
    s->klen = (uint8_t)n;
    s->used = 1;
    s->present = rc == 0;
    s->dirty = 0;
    s->val = rc == 0 ? v : NULL;
    s->vlen = rc == 0 ? (uint32_t)vl : 0;
    if (rc) free(v);
    ex->used++;
    util_err_clear(err);
    *out = i;
    return 0;
}

int chain_exec_get(chain_exec *ex, const uint8_t *key, size_t klen, const uint8_t **val,
                   size_t *vlen, util_err *err)
{
    size_t i;
    int rc = slot_for(ex, key, klen, &i, err);
    if (rc) return rc;
    if (!ex->slots[i].present) return UTIL_ENOTFOUND;
    *val = ex->slots[i].val;
    *vlen = ex->slots[i].vlen;
    return 0;
}

static int journal_push(chain_exec *ex, undo u)
{
    if (ex->nj == ex->capj) {
        size_t nc = ex->capj ? ex->capj * 2 : 256;
        undo *j = realloc(ex->journal, nc * sizeof *j);
        if (!j) return UTIL_ENOMEM;
        ex->journal = j;
        ex->capj = nc;
    }
    ex->journal[ex->nj++] = u;
    return 0;
}

static int set_slot(chain_exec *ex, const uint8_t *key, size_t klen, const uint8_t *val,
                    size_t vlen, int present, util_err *err)
{
    if (vlen > CHAIN_STATE_VALUE_MAX)
        return util_err_set(err, UTIL_ELIMIT, "state value of %zu bytes", vlen);
    size_t i;
    int rc = slot_for(ex, key, klen, &i, err);
    if (rc) return rc;
    uint8_t *nv = NULL;
    if (present) {
        nv = malloc(vlen ? vlen : 1);
        if (!nv) return util_err_set(err, UTIL_ENOMEM, "out of memory");
        if (vlen) memcpy(nv, val, vlen);
    }
    slot *s = &ex->slots[i];
    undo u = {.slot = (uint32_t)i,
              .present = s->present,
              .dirty = s->dirty,
              .val = s->val,
              .vlen = s->vlen};
    if (journal_push(ex, u)) {
        free(nv);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    s->val = nv;
    s->vlen = present ? (uint32_t)vlen : 0;
    s->present = (uint8_t)present;
    s->dirty = 1;
    ex->finished = 0;
    return 0;
}

int chain_exec_put(chain_exec *ex, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                   util_err *err)
{
    return set_slot(ex, key, klen, val, vlen, 1, err);
}

int chain_exec_del(chain_exec *ex, const uint8_t *key, size_t klen, util_err *err)
{
    return set_slot(ex, key, klen, NULL, 0, 0, err);
}

static ixent *ix_find(const chain_exec *ex, const uint8_t *k, size_t n, uint64_t h)
{
    size_t cap = ex->ixcap, i = (size_t)h & (cap - 1);
    const ixent *m = ex->ixmap;
    while (m[i].klen &&
           (m[i].h != h || m[i].klen != n || memcmp(ex->ixkeys.data + m[i].koff, k, n) != 0))
        i = (i + 1) & (cap - 1);
    return &ex->ixmap[i];
}

/* The map entry of key k (added when absent, off IX_NONE), or NULL for a
 * key too long to map or when memory runs out. */
static ixent *ix_entry(chain_exec *ex, const uint8_t *k, size_t n)
{
    if (n > IX_KEY_MAX) return NULL;
    if ((ex->ixused + 1) * 2 > ex->ixcap) {
        size_t ncap = ex->ixcap ? ex->ixcap * 2 : 64;
        ixent *nm = calloc(ncap, sizeof *nm);
        if (!nm) return NULL;
        for (size_t i = 0; i < ex->ixcap; i++) {
            if (!ex->ixmap[i].klen) continue;
            size_t j = (size_t)ex->ixmap[i].h & (ncap - 1);
            while (nm[j].klen)
                j = (j + 1) & (ncap - 1);
            nm[j] = ex->ixmap[i];
        }
        free(ex->ixmap);
        ex->ixmap = nm;
        ex->ixcap = ncap;
    }
    uint64_t h = key_hash(k, n);
    ixent *e = ix_find(ex, k, n, h);
    if (!e->klen) {
        size_t koff = ex->ixkeys.len;
        util_buf_put(&ex->ixkeys, k, n);
        if (ex->ixkeys.oom || koff > UINT32_MAX) return NULL;
        e->h = h;
        e->koff = (uint32_t)koff;
        e->klen = (uint8_t)n;
        e->off = IX_NONE;
        e->fresh = 0;
        ex->ixused++;
    }
    return e;
}

/* The map entry of a mapped key, or NULL. */
static ixent *ix_lookup(const chain_exec *ex, const uint8_t *k, size_t n)
{
    if (n > IX_KEY_MAX || !ex->ixcap) return NULL;
    ixent *e = ix_find(ex, k, n, key_hash(k, n));
    return e->klen ? e : NULL;
}

/* Appends a write (val NULL: a deletion) of an index key, journaled. fresh:
 * the caller knows the store holds no entry under key. */
static int index_write(chain_exec *ex, const uint8_t *key, size_t klen, const uint8_t *val,
                       size_t vlen, int fresh, util_err *err)
{
    if (klen == 0 || klen > 255 || vlen > CHAIN_STATE_VALUE_MAX)
        return util_err_set(err, UTIL_EINVAL, "index entry too large");
    ixent *e = ix_entry(ex, key, klen);
    if (!e && klen <= IX_KEY_MAX) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    if (!e) ex->ix_unmapped = 1;
    size_t at = ex->index.len;
    util_buf_u8(&ex->index, (uint8_t)klen);
    util_buf_put(&ex->index, key, klen);
    util_buf_u32(&ex->index, val ? (uint32_t)vlen : IX_DELETED);
    if (val) util_buf_put(&ex->index, val, vlen);
    if (ex->index.oom) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    /* The undo of an index write truncates the buffer back to `at` and
     * gives the key its previous latest write back. */
    if (journal_push(
            ex, (undo){.slot = UINT32_MAX, .vlen = (uint32_t)at, .ixprev = e ? e->off : IX_NONE})) {
        ex->index.len = at;
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    if (e) {
        if (e->off == IX_NONE) e->fresh = (uint8_t)(fresh && val);
        e->off = at;
    }
    return 0;
}

int chain_exec_index_put(chain_exec *ex, const uint8_t *key, size_t klen, const uint8_t *val,
                         size_t vlen, util_err *err)
{
    static const uint8_t none[1];
    return index_write(ex, key, klen, val ? val : none, val ? vlen : 0, 0, err);
}

int chain_exec_index_put_new(chain_exec *ex, const uint8_t *key, size_t klen, const uint8_t *val,
                             size_t vlen, util_err *err)
{
    static const uint8_t none[1];
    return index_write(ex, key, klen, val ? val : none, val ? vlen : 0, 1, err);
}

int chain_exec_index_del(chain_exec *ex, const uint8_t *key, size_t klen, util_err *err)
{
    return index_write(ex, key, klen, NULL, 0, 0, err);
}

int chain_exec_index_get(chain_exec *ex, const uint8_t *key, size_t klen, const uint8_t **val,
                         size_t *vlen, util_err *err)
{
    if (klen == 0 || klen > IX_KEY_MAX)
        return util_err_set(err, UTIL_EINVAL, "index key of %zu bytes", klen);
    const ixent *e = ix_lookup(ex, key, klen);
    if (e) {
        if (e->off != IX_NONE) {
            const uint8_t *p = ex->index.data + e->off;
            uint32_t vl = util_get_u32le(p + 1 + p[0]);
            if (vl == IX_DELETED) return UTIL_ENOTFOUND;
            *val = p + 1 + p[0] + 4;
            *vlen = vl;
            return 0;
        }
    }
    uint8_t k[CHAIN_DBKEY_MAX];
    size_t n = chain_dbkey_index(k, key, klen);
    free(ex->ixread);
    ex->ixread = NULL;
    size_t vl = 0;
    int rc = chain_store_db_get(ex->st, k, n, &ex->ixread, &vl, err);
    if (rc == UTIL_ENOTFOUND) util_err_clear(err);
    if (rc) return rc;
    *val = ex->ixread;
    *vlen = vl;
    return 0;
}

size_t chain_exec_checkpoint(chain_exec *ex)
{
    return ex->nj;
}

void chain_exec_revert(chain_exec *ex, size_t cp)
{
    while (ex->nj > cp) {
        undo *u = &ex->journal[--ex->nj];
        if (u->slot == UINT32_MAX) {
            const uint8_t *p = ex->index.data + u->vlen;
            ixent *e = ix_lookup(ex, p + 1, p[0]);
            if (e) e->off = u->ixprev;
            ex->index.len = u->vlen;
            continue;
        }
        slot *s = &ex->slots[u->slot];
        free(s->val);
        s->val = u->val;
        s->vlen = u->vlen;
        s->present = u->present;
        s->dirty = u->dirty;
    }
    ex->finished = 0;
}

int chain_exec_get_account(chain_exec *ex, const chain_addr *a, chain_account *acc, util_err *err)
{
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN];
    const uint8_t *v;
    size_t vl;
    chain_account_key(key, a);
    int rc = chain_exec_get(ex, key, sizeof key, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) {
        acc->balance = acc->nonce = 0;
        return 0;
    }
    if (rc) return rc;
    if (chain_account_decode(acc, v, vl)) return util_err_set(err, UTIL_EIO, "corrupt account");
    return 0;
}

int chain_exec_set_account(chain_exec *ex, const chain_addr *a, const chain_account *acc,
                           util_err *err)
{
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN], val[CHAIN_ACCOUNT_VALUE_LEN];
    chain_account_key(key, a);
    chain_account_encode(val, acc);
    return chain_exec_put(ex, key, sizeof key, val, sizeof val, err);
}

int chain_exec_transfer(chain_exec *ex, const chain_addr *from, const chain_addr *to,
                        uint64_t amount, util_err *err)
{
    chain_account fa, ta;
    int rc;
    if ((rc = chain_exec_get_account(ex, from, &fa, err))) return rc;
    if (fa.balance < amount)
        return util_err_set(err, UTIL_EINVAL, "insufficient funds: balance %llu < amount %llu",
                            (unsigned long long)fa.balance, (unsigned long long)amount);
    if (memcmp(from->b, to->b, CHAIN_ADDR_LEN) == 0) return 0;
    if ((rc = chain_exec_get_account(ex, to, &ta, err))) return rc;
    if (ta.balance > UINT64_MAX - amount)
        return util_err_set(err, UTIL_EINVAL, "amount overflows the recipient's balance");
    fa.balance -= amount;
    ta.balance += amount;
    size_t cp = chain_exec_checkpoint(ex);
    if ((rc = chain_exec_set_account(ex, from, &fa, err)) ||
        (rc = chain_exec_set_account(ex, to, &ta, err))) {
        chain_exec_revert(ex, cp);
        return rc;
    }
    return 0;
}

static int get_node(void *ctx, const uint8_t hash[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    return chain_store_smt_get(((chain_exec *)ctx)->st, hash, out);
}

static void put_node(void *ctx, const uint8_t hash[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    chain_exec *ex = ctx;
    util_buf_put(&ex->nodes, hash, 32);
    util_buf_put(&ex->nodes, node, CHAIN_SMT_NODE_LEN);
}

static void put_wnode(void *ctx, const uint8_t hash[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    chain_exec *ex = ctx;
    util_buf_put(&ex->wnodes, hash, 32);
    util_buf_put(&ex->wnodes, node, CHAIN_SMT_NODE_LEN);
}

#define BRIDGE_LEN (CHAIN_BRIDGE_WROOT_OFF + 32)

static int is_withdrawal(const slot *s)
{
    return s->used && s->dirty && s->klen == 9 && s->key[0] == CHAIN_SK_WITHDRAWAL;
}

/* The withdrawals tree (docs/rollup.md, "Bridge"): every withdrawal entry the
 * block changed, applied to the committed tree's root (always the committed
 * one, so a second run gives the same result), and the new root written into
 * the bridge entry before the state root is computed. The tree's nodes go to
 * their own buffer: the state tree's run resets its own. */
static int apply_withdrawals(chain_exec *ex, util_err *err)
{
    util_buf_reset(&ex->wnodes);
    size_t n = 0;
    for (size_t i = 0; i < ex->cap; i++)
        n += (size_t)is_withdrawal(&ex->slots[i]);
    if (n == 0) return 0;
    chain_smt_update *ups = calloc(n, sizeof *ups);
    if (!ups) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < ex->cap; i++) {
        slot *s = &ex->slots[i];
        if (!is_withdrawal(s)) continue;
        chain_sha256(ups[k].path, s->key, s->klen);
        if (s->present)
            chain_sha256(ups[k].value_hash, s->val, s->vlen);
        else
            ups[k].remove = 1;
        k++;
    }
    uint8_t bkey[1], old[32] = {0}, entry[BRIDGE_LEN] = {0};
    chain_key_bridge(bkey);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = chain_store_state_get(ex->st, bkey, sizeof bkey, &v, &vl, err);
    if (rc == 0 && vl != BRIDGE_LEN) rc = util_err_set(err, UTIL_EIO, "corrupt bridge entry");
    if (rc == 0) memcpy(old, v + CHAIN_BRIDGE_WROOT_OFF, 32);
    free(v);
    if (rc == UTIL_ENOTFOUND) {
        util_err_clear(err);
        rc = 0;
    }
    uint8_t wroot[32];
    chain_smt_store sst = {.ctx = ex, .get = get_node, .put = put_wnode};
    if (!rc) rc = chain_smt_apply(&sst, old, ups, n, wroot, err);
    free(ups);
    if (rc) return rc;
    if (ex->wnodes.oom) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    const uint8_t *cur;
    size_t cl;
    rc = chain_exec_get(ex, bkey, sizeof bkey, &cur, &cl, err);
    if (rc == 0) {
        if (cl != BRIDGE_LEN) return util_err_set(err, UTIL_EIO, "corrupt bridge entry");
        memcpy(entry, cur, BRIDGE_LEN);
    } else if (rc != UTIL_ENOTFOUND) {
        return rc;
    }
    if (rc == 0 && memcmp(entry + CHAIN_BRIDGE_WROOT_OFF, wroot, 32) == 0) return 0;
    memcpy(entry + CHAIN_BRIDGE_WROOT_OFF, wroot, 32);
    return chain_exec_put(ex, bkey, sizeof bkey, entry, sizeof entry, err);
}

int chain_exec_finish(chain_exec *ex, uint8_t root[32], util_err *err)
{
    if (ex->finished) {
        memcpy(root, ex->root, 32);
        return 0;
    }
    int wrc = apply_withdrawals(ex, err);
    if (wrc) return wrc;
    size_t n = 0;
    for (size_t i = 0; i < ex->cap; i++)
        n += ex->slots[i].used && ex->slots[i].dirty;
    chain_smt_update *ups = calloc(n ? n : 1, sizeof *ups);
    if (!ups) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < ex->cap; i++) {
        slot *s = &ex->slots[i];
        if (!s->used || !s->dirty) continue;
        chain_sha256(ups[k].path, s->key, s->klen);
        if (s->present)
            chain_sha256(ups[k].value_hash, s->val, s->vlen);
        else
            ups[k].remove = 1;
        k++;
    }
    util_buf_reset(&ex->nodes);
    /* Reads go to the committed tree; new nodes are collected for the batch. */
    chain_smt_store sst = {.ctx = ex, .get = get_node, .put = put_node};
    uint8_t old[32];
    chain_store_head_root(ex->st, old);
    int rc = chain_smt_apply(&sst, old, ups, n, ex->root, err);
    free(ups);
    if (rc) return rc;
    if (ex->nodes.oom) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    ex->finished = 1;
    memcpy(root, ex->root, 32);
    return 0;
}

void chain_exec_visit_changes(chain_exec *ex, chain_kv_visit_fn fn, void *ctx)
{
    for (size_t i = 0; i < ex->cap; i++) {
        slot *s = &ex->slots[i];
        if (!s->used || !s->dirty) continue;
        fn(ctx, s->key, s->klen, s->present ? s->val : NULL, s->present ? s->vlen : SIZE_MAX);
    }
}

/* A changed slot's first journal entry is the only one taken while it was
 * clean (the next writes see it dirty, and a revert to clean pops that entry),
 * and it holds the value loaded from the committed state: no store read. */
void chain_exec_visit_originals(chain_exec *ex, chain_kv_visit_fn fn, void *ctx)
{
    for (size_t i = 0; i < ex->nj; i++) {
        const undo *u = &ex->journal[i];
        if (u->slot == UINT32_MAX || u->dirty) continue;
        const slot *s = &ex->slots[u->slot];
        fn(ctx, s->key, s->klen, u->present ? u->val : NULL, u->present ? u->vlen : SIZE_MAX);
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static void visit_record(const chain_exec *ex, size_t at, chain_kv_visit_fn fn, void *ctx)
{
    const uint8_t *p = ex->index.data + at;
    size_t kl = p[0];
    uint32_t vl = util_get_u32le(p + 1 + kl);
    if (vl == IX_DELETED)
        fn(ctx, p + 1, kl, NULL, SIZE_MAX);
    else
        fn(ctx, p + 1, kl, p + 1 + kl + 4, vl);
}

void chain_exec_visit_index(chain_exec *ex, chain_kv_visit_fn fn, void *ctx)
{
    /* Only a key's latest write reaches the batch: a running total or a
     * ranking key rewritten by every payout of the block is one entry, and a
     * key put new in this block and deleted again is none. The map knows
     * the latest writes; they are visited in write order. */
    size_t n = 0, *offs = ex->ixused ? malloc(ex->ixused * sizeof *offs) : NULL;
    for (size_t i = 0; offs && i < ex->ixcap; i++) {
        const ixent *e = &ex->ixmap[i];
        if (!e->klen || e->off == IX_NONE) continue;
        const uint8_t *p = ex->index.data + e->off;
        if (e->fresh && util_get_u32le(p + 1 + p[0]) == IX_DELETED) continue;
        offs[n++] = e->off;
    }
    if (offs || !ex->ixused) {
        if (n) qsort(offs, n, sizeof *offs, cmp_size);
        for (size_t i = 0; i < n; i++)
            visit_record(ex, offs[i], fn, ctx);
        free(offs);
        if (!ex->ix_unmapped) return;
    }
    /* Out of memory for the list, or keys too long for the map: walk the
     * whole buffer (those keys, or every write; a key's latest write comes
     * last, so the batch still ends with it). */
    int all = !offs && ex->ixused;
    for (size_t off = 0; off < ex->index.len;) {
        const uint8_t *p = ex->index.data + off;
        size_t kl = p[0], at = off;
        uint32_t vl = util_get_u32le(p + 1 + kl);
        off += 1 + kl + 4 + (vl == IX_DELETED ? 0 : vl);
        if (all || kl > IX_KEY_MAX) visit_record(ex, at, fn, ctx);
    }
}

void chain_exec_visit_nodes(chain_exec *ex, chain_kv_visit_fn fn, void *ctx)
{
    for (size_t off = 0; off + NODE_REC <= ex->nodes.len; off += NODE_REC)
        fn(ctx, ex->nodes.data + off, 32, ex->nodes.data + off + 32, CHAIN_SMT_NODE_LEN);
    for (size_t off = 0; off + NODE_REC <= ex->wnodes.len; off += NODE_REC)
        fn(ctx, ex->wnodes.data + off, 32, ex->wnodes.data + off + 32, CHAIN_SMT_NODE_LEN);
}

static int is_account(const uint8_t *key, size_t klen)
{
    return klen == CHAIN_ACCOUNT_KEY_LEN && key[0] == CHAIN_SK_ACCOUNT;
}

static int add_balance(unsigned __int128 *sum, const uint8_t *val, size_t vlen, util_err *err)
{
    chain_account a;
    if (chain_account_decode(&a, val, vlen)) return util_err_set(err, UTIL_EIO, "corrupt account");
    *sum += a.balance;
    return 0;
}

int chain_exec_balance_sums(chain_exec *ex, unsigned __int128 *before, unsigned __int128 *after,
                            util_err *err)
{
    *before = *after = 0;
    for (size_t i = 0; i < ex->cap; i++) {
        const slot *s = &ex->slots[i];
        if (!s->used || !s->dirty || !is_account(s->key, s->klen) || !s->present) continue;
        if (add_balance(after, s->val, s->vlen, err)) return UTIL_EIO;
    }
    /* As chain_exec_visit_originals: a changed slot's first journal entry
     * holds its committed value. */
    for (size_t i = 0; i < ex->nj; i++) {
        const undo *u = &ex->journal[i];
        if (u->slot == UINT32_MAX || u->dirty || !u->present) continue;
        const slot *s = &ex->slots[u->slot];
        if (!is_account(s->key, s->klen)) continue;
        if (add_balance(before, u->val, u->vlen, err)) return UTIL_EIO;
    }
    return 0;
}

int chain_exec_finished(const chain_exec *ex, uint8_t root[32])
{
    if (ex->finished) memcpy(root, ex->root, 32);
    return ex->finished;
}
