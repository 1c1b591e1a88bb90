/* Mempool internals.
 *
 * - by id: chained hash table of entries (intrusive next pointer);
 * - by sender: chained hash table of senders, each holding its entries in a
 *   nonce-sorted array;
 * - eviction: a binary min-heap over senders keyed by their tail (highest
 *   nonce) transaction (gas price asc, then newest arrival first);
 * - selection: a max-heap built per call over each sender's next executable
 *   transaction (gas price desc, then arrival seq asc).
 * Every key that orders output includes the arrival sequence number, which is
 * unique, so results never depend on hash table iteration order.
 *
 * Hash tables are keyed with per-pool random secrets: ids and addresses are
 * hashes, but an attacker can grind keys or signatures until many land in one
 * bucket of an unkeyed table. */
#include "chain/mempool.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/amount.h"
#include "util/bytes.h"
#include "util/time.h"

#define NPOS ((size_t)-1)
#define INITIAL_BUCKETS 1024

typedef struct mp_sender mp_sender;

typedef struct mp_entry {
    chain_tx tx;
    uint64_t seq;  /* arrival order, unique */
    uint64_t cost; /* chain_tx_max_cost */
    mp_sender *s;
    struct mp_entry *next; /* id bucket chain; victim list while being evicted */
} mp_entry;

struct mp_sender {
    chain_addr addr;
    uint64_t nonce; /* committed nonce as last read through the callback */
    uint64_t cost;  /* sum of cost of txs[] */
    mp_entry **txs; /* sorted by nonce, distinct nonces */
    size_t n, cap;
    size_t hpos;     /* index in the eviction heap or NPOS */
    uint64_t mark;   /* on_block dedup */
    mp_sender *next; /* sender bucket chain; dead list while being freed */
};

/* The key is copied in so that heap comparisons touch only the heap array. */
typedef struct sel_item {
    uint64_t price, seq;
    mp_sender *s;
    size_t k;
} sel_item;

struct chain_mempool {
    chain_mempool_cfg cfg;
    chain_account_fn acct;
    void *ctx;
    uint64_t k0, k1, k2, k3;

    mp_entry **ids;
    size_t ids_mask;
    size_t count, bytes;

    mp_sender **snd;
    size_t snd_mask, nsenders;

    mp_sender **heap; /* eviction min-heap */
    size_t hn, hcap;

    sel_item *sel;
    size_t selcap;

    uint64_t seq, mark;
    /* Smallest gas limit and size ever admitted: lower bounds for selection. */
    uint64_t min_gas;
    size_t min_size;
};

static const struct {
    const char *token, *text;
} REASONS[CHAIN_MP_REASON_COUNT] = {
    [CHAIN_MP_OK] = {"ok", "ok"},
    [CHAIN_MP_MALFORMED] = {"malformed", "malformed"},
    [CHAIN_MP_BAD_SIGNATURE] = {"bad_signature", "bad signature"},
    [CHAIN_MP_WRONG_CHAIN] = {"wrong_chain", "wrong chain"},
    [CHAIN_MP_NONCE_TOO_LOW] = {"nonce_too_low", "nonce too low"},
    [CHAIN_MP_NONCE_TOO_HIGH] = {"nonce_too_high", "nonce too high"},
    [CHAIN_MP_INSUFFICIENT_FUNDS] = {"insufficient_funds", "insufficient funds"},
    [CHAIN_MP_FEE_TOO_LOW] = {"fee_too_low", "fee below minimum"},
    [CHAIN_MP_GAS_TOO_LOW] = {"gas_too_low", "gas limit too low"},
    [CHAIN_MP_GAS_TOO_HIGH] = {"gas_too_high", "gas limit above block gas limit"},
    [CHAIN_MP_TOO_LARGE] = {"too_large", "too large"},
    [CHAIN_MP_POOL_FULL] = {"pool_full", "pool full"},
    [CHAIN_MP_ALREADY_KNOWN] = {"already_known", "already known"},
    [CHAIN_MP_UNDERPRICED] = {"replacement_underpriced", "replacement underpriced"},
    [CHAIN_MP_UNSUPPORTED] = {"unsupported_type", "unsupported type"},
    [CHAIN_MP_INTERNAL] = {"internal_error", "internal error"},
    [CHAIN_MP_EXEC_FAILED] = {"execution_failed", "execution would fail"},
};

const char *chain_mempool_reason_token(int reason)
{
    if (reason < 0 || reason >= CHAIN_MP_REASON_COUNT) return "unknown";
    return REASONS[reason].token;
}

const char *chain_mempool_reason_text(int reason)
{
    if (reason < 0 || reason >= CHAIN_MP_REASON_COUNT) return "unknown";
    return REASONS[reason].text;
}

/* ---- hashing and tables ---- */

/* Multiply-fold of two keyed 64-bit words (as in wyhash): cheap, and without
 * the keys an attacker cannot aim at a bucket. */
static uint64_t mix(uint64_t a, uint64_t b)
{
    unsigned __int128 m = (unsigned __int128)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static size_t id_slot(const chain_mempool *mp, const uint8_t id[32])
{
    return (size_t)mix(util_get_u64le(id) ^ mp->k0, util_get_u64le(id + 8) ^ mp->k1) & mp->ids_mask;
}

static size_t addr_slot(const chain_mempool *mp, const chain_addr *a)
{
    uint64_t lo = util_get_u64le(a->b), hi = util_get_u64le(a->b + 8);
    hi ^= (uint64_t)util_get_u32le(a->b + 16) << 32;
    return (size_t)mix(lo ^ mp->k2, hi ^ mp->k3) & mp->snd_mask;
}

static mp_entry *id_find(const chain_mempool *mp, const uint8_t id[32])
{
    for (mp_entry *e = mp->ids[id_slot(mp, id)]; e; e = e->next)
        if (memcmp(e->tx.id, id, 32) == 0) return e;
    return NULL;
}

static void id_insert(chain_mempool *mp, mp_entry *e)
{
    size_t i = id_slot(mp, e->tx.id);
    e->next = mp->ids[i];
    mp->ids[i] = e;
}

static void id_remove(chain_mempool *mp, mp_entry *e)
{
    mp_entry **pp = &mp->ids[id_slot(mp, e->tx.id)];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    e->next = NULL;
}

/* Growing is best effort: on allocation failure chains just get longer. */
static void id_maybe_grow(chain_mempool *mp)
{
    if (mp->count <= mp->ids_mask + 1) return;
    size_t nb = (mp->ids_mask + 1) * 2;
    mp_entry **t = calloc(nb, sizeof *t);
    if (!t) return;
    mp_entry **old = mp->ids;
    size_t on = mp->ids_mask + 1;
    mp->ids = t;
    mp->ids_mask = nb - 1;
    for (size_t i = 0; i < on; i++)
        for (mp_entry *e = old[i], *nx; e; e = nx) {
            nx = e->next;
            id_insert(mp, e);
        }
    free(old);
}

static mp_sender *snd_find(const chain_mempool *mp, const chain_addr *a)
{
    for (mp_sender *s = mp->snd[addr_slot(mp, a)]; s; s = s->next)
        if (memcmp(s->addr.b, a->b, CHAIN_ADDR_LEN) == 0) return s;
    return NULL;
}

static void snd_insert(chain_mempool *mp, mp_sender *s)
{
    size_t i = addr_slot(mp, &s->addr);
    s->next = mp->snd[i];
    mp->snd[i] = s;
    mp->nsenders++;
}

static void snd_remove(chain_mempool *mp, mp_sender *s)
{
    mp_sender **pp = &mp->snd[addr_slot(mp, &s->addr)];
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    s->next = NULL;
    mp->nsenders--;
}

static void snd_maybe_grow(chain_mempool *mp)
{
    if (mp->nsenders <= mp->snd_mask + 1) return;
    size_t nb = (mp->snd_mask + 1) * 2;
    mp_sender **t = calloc(nb, sizeof *t);
    if (!t) return;
    mp_sender **old = mp->snd;
    size_t on = mp->snd_mask + 1;
    mp->snd = t;
    mp->snd_mask = nb - 1;
    mp->nsenders = 0;
    for (size_t i = 0; i < on; i++)
        for (mp_sender *s = old[i], *nx; s; s = nx) {
            nx = s->next;
            snd_insert(mp, s);
        }
    free(old);
}

/* ---- eviction heap ---- */

static const mp_entry *tail(const mp_sender *s)
{
    return s->txs[s->n - 1];
}

/* 1 if a's tail should be evicted before b's: cheaper first, then newer. */
static int evict_before(const mp_sender *a, const mp_sender *b)
{
    const mp_entry *x = tail(a), *y = tail(b);
    if (x->tx.gas_price != y->tx.gas_price) return x->tx.gas_price < y->tx.gas_price;
    return x->seq > y->seq;
}

static void heap_set(chain_mempool *mp, size_t i, mp_sender *s)
{
    mp->heap[i] = s;
    s->hpos = i;
}

static void heap_up(chain_mempool *mp, size_t i)
{
    mp_sender *s = mp->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!evict_before(s, mp->heap[p])) break;
        heap_set(mp, i, mp->heap[p]);
        i = p;
    }
    heap_set(mp, i, s);
}

static void heap_down(chain_mempool *mp, size_t i)
{
    mp_sender *s = mp->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= mp->hn) break;
        if (c + 1 < mp->hn && evict_before(mp->heap[c + 1], mp->heap[c])) c++;
        if (!evict_before(mp->heap[c], s)) break;
        heap_set(mp, i, mp->heap[c]);
        i = c;
    }
    heap_set(mp, i, s);
}

/* Capacity must have been reserved (heap_reserve). */
static void heap_push(chain_mempool *mp, mp_sender *s)
{
    heap_set(mp, mp->hn++, s);
    heap_up(mp, s->hpos);
}

static void heap_fix(chain_mempool *mp, mp_sender *s)
{
    heap_up(mp, s->hpos);
    heap_down(mp, s->hpos);
}

static void heap_del(chain_mempool *mp, mp_sender *s)
{
    size_t i = s->hpos;
    s->hpos = NPOS;
    mp_sender *last = mp->heap[--mp->hn];
    if (i == mp->hn) return;
    heap_set(mp, i, last);
    heap_fix(mp, last);
}

static int heap_reserve(chain_mempool *mp)
{
    if (mp->hn < mp->hcap) return 0;
    size_t nc = mp->hcap ? mp->hcap * 2 : 256;
    mp_sender **h = realloc(mp->heap, nc * sizeof *h);
    if (!h) return -1;
    mp->heap = h;
    mp->hcap = nc;
    return 0;
}

/* ---- senders ---- */

/* Index of the first entry with nonce >= nonce. */
static size_t lower_bound(const mp_sender *s, uint64_t nonce)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (s->txs[m]->tx.nonce < nonce)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

static int txs_reserve(mp_sender *s)
{
    if (s->n < s->cap) return 0;
    size_t nc = s->cap ? s->cap * 2 : 4;
    mp_entry **t = realloc(s->txs, nc * sizeof *t);
    if (!t) return -1;
    s->txs = t;
    s->cap = nc;
    return 0;
}

static void entry_free(mp_entry *e)
{
    chain_tx_free(&e->tx);
    free(e);
}

static void sender_free(mp_sender *s)
{
    free(s->txs);
    free(s);
}

/* Removes entries [from, to) of s and frees them; frees s if it empties. */
static void drop_range(chain_mempool *mp, mp_sender *s, size_t from, size_t to)
{
    if (from >= to) return;
    for (size_t i = from; i < to; i++) {
        mp_entry *e = s->txs[i];
        id_remove(mp, e);
        s->cost -= e->cost;
        mp->count--;
        mp->bytes -= e->tx.size;
        entry_free(e);
    }
    memmove(s->txs + from, s->txs + to, (s->n - to) * sizeof *s->txs);
    s->n -= to - from;
    if (s->n == 0) {
        heap_del(mp, s);
        snd_remove(mp, s);
        sender_free(s);
    } else {
        heap_fix(mp, s);
    }
}

/* ---- public API ---- */

chain_mempool *chain_mempool_new(const chain_mempool_cfg *cfg, chain_account_fn acct, void *ctx)
{
    if (!cfg || !acct) return NULL;
    chain_mempool *mp = calloc(1, sizeof *mp);
    if (!mp) return NULL;
    mp->cfg = *cfg;
    mp->cfg.chain_id[CHAIN_ID_MAX] = 0;
    mp->acct = acct;
    mp->ctx = ctx;
    uint64_t k[4];
    if (RAND_bytes((unsigned char *)k, sizeof k) != 1) {
        /* Keys only protect against bucket flooding; a weak seed degrades
         * that protection, it does not break correctness. */
        uint64_t t = util_mono_ns() ^ (uint64_t)(uintptr_t)mp;
        for (int i = 0; i < 4; i++)
            k[i] = t = mix(t ^ 0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull + (uint64_t)i);
    }
    mp->k0 = k[0] | 1;
    mp->k1 = k[1] | 1;
    mp->k2 = k[2] | 1;
    mp->k3 = k[3] | 1;
    mp->ids = calloc(INITIAL_BUCKETS, sizeof *mp->ids);
    mp->snd = calloc(INITIAL_BUCKETS, sizeof *mp->snd);
    if (!mp->ids || !mp->snd) {
        free(mp->ids);
        free(mp->snd);
        free(mp);
        return NULL;
    }
    mp->ids_mask = mp->snd_mask = INITIAL_BUCKETS - 1;
    mp->min_gas = UINT64_MAX;
    mp->min_size = SIZE_MAX;
    return mp;
}

void chain_mempool_free(chain_mempool *mp)
{
    if (!mp) return;
    for (size_t i = 0; i <= mp->snd_mask; i++)
        for (mp_sender *s = mp->snd[i], *nx; s; s = nx) {
            nx = s->next;
            for (size_t k = 0; k < s->n; k++)
                entry_free(s->txs[k]);
            sender_free(s);
        }
    free(mp->snd);
    free(mp->ids);
    free(mp->heap);
    free(mp->sel);
    free(mp);
}

static int reject(util_err *err, int reason, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int reject(util_err *err, int reason, int code, const char *fmt, ...)
{
    if (err) {
        char detail[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        util_err_set(err, code, "%s%s%s", REASONS[reason].text, *detail ? ": " : "", detail);
    }
    return reason;
}

/* Checks that need no account state. */
static int check_stateless(const chain_mempool *mp, const chain_tx *tx, util_err *err)
{
    const chain_mempool_cfg *c = &mp->cfg;
    if (tx->version != CHAIN_TX_VERSION || tx->size == 0)
        return reject(err, CHAIN_MP_MALFORMED, UTIL_EINVAL, "version %u", tx->version);
    if (tx->type < CHAIN_TX_TRANSFER || tx->type > CHAIN_TX_CALL)
        return reject(err, CHAIN_MP_UNSUPPORTED, UTIL_EINVAL, "type %u (%s) is not accepted",
                      tx->type, chain_tx_type_name(tx->type));
    if (id_find(mp, tx->id)) return reject(err, CHAIN_MP_ALREADY_KNOWN, UTIL_EEXIST, "%s", "");
    if (strcmp(tx->chain_id, c->chain_id) != 0)
        return reject(err, CHAIN_MP_WRONG_CHAIN, UTIL_EINVAL, "\"%s\", this chain is \"%s\"",
                      tx->chain_id, c->chain_id);
    if (tx->size > c->max_tx_size)
        return reject(err, CHAIN_MP_TOO_LARGE, UTIL_ELIMIT, "%u bytes, limit %zu", tx->size,
                      c->max_tx_size);
    if (tx->gas_price < c->min_gas_price)
        return reject(err, CHAIN_MP_FEE_TOO_LOW, UTIL_EINVAL, "gas price %llu, minimum %llu",
                      (unsigned long long)tx->gas_price, (unsigned long long)c->min_gas_price);
    uint64_t ig = chain_tx_intrinsic_gas(tx);
    if (tx->gas_limit < ig)
        return reject(err, CHAIN_MP_GAS_TOO_LOW, UTIL_EINVAL, "gas limit %llu, intrinsic gas %llu",
                      (unsigned long long)tx->gas_limit, (unsigned long long)ig);
    if (tx->gas_limit > c->block_gas_limit)
        return reject(err, CHAIN_MP_GAS_TOO_HIGH, UTIL_EINVAL,
                      "gas limit %llu, block gas limit %llu", (unsigned long long)tx->gas_limit,
                      (unsigned long long)c->block_gas_limit);
    return CHAIN_MP_OK;
}

/* A replacement must pay at least BUMP percent more, and strictly more (a
 * zero price bumped by a percentage is still zero). */
static int replacement_ok(uint64_t old_price, uint64_t new_price)
{
    return new_price > old_price &&
           (unsigned __int128)new_price * 100 >=
               (unsigned __int128)old_price * (100 + CHAIN_MEMPOOL_REPLACE_BUMP_PCT);
}

/* Detaches the tail of the cheapest sender so that the pool can be restored
 * exactly by reattach() if the add fails later. */
static mp_entry *detach_tail(chain_mempool *mp, mp_sender *v)
{
    mp_entry *e = v->txs[--v->n];
    v->cost -= e->cost;
    id_remove(mp, e);
    mp->count--;
    mp->bytes -= e->tx.size;
    if (v->n == 0)
        heap_del(mp, v);
    else
        heap_fix(mp, v);
    return e;
}

static void reattach(chain_mempool *mp, mp_entry *e)
{
    mp_sender *v = e->s;
    v->txs[v->n++] = e; /* the slot is still allocated: arrays never shrink */
    v->cost += e->cost;
    id_insert(mp, e);
    mp->count++;
    mp->bytes += e->tx.size;
    if (v->n == 1)
        heap_push(mp, v); /* heap_del freed exactly this slot */
    else
        heap_fix(mp, v);
}

/* What the checks found out, for the add. */
typedef struct precheck_out {
    mp_sender *s;  /* the sender's pooled transactions, or NULL */
    mp_entry *old; /* the pooled transaction tx replaces, or NULL */
    size_t pos;    /* where tx goes in s */
    uint64_t cost, nonce;
} precheck_out;

/* Checks 1-15 of docs/mempool.md; on success fills *o. */
static int precheck(chain_mempool *mp, const chain_tx *tx, util_err *err, precheck_out *o)
{
    int r = check_stateless(mp, tx, err);
    if (r) return r;
    uint64_t cost;
    if (chain_tx_max_cost(tx, &cost))
        return reject(err, CHAIN_MP_INSUFFICIENT_FUNDS, UTIL_ESTATE,
                      "gas limit x gas price + value overflows");

    uint64_t bal = 0, nonce = 0;
    if (mp->acct(mp->ctx, &tx->from, &bal, &nonce))
        return reject(err, CHAIN_MP_INTERNAL, UTIL_EIO, "account lookup failed");
    if (tx->nonce < nonce)
        return reject(err, CHAIN_MP_NONCE_TOO_LOW, UTIL_ESTATE, "nonce %llu, account nonce %llu",
                      (unsigned long long)tx->nonce, (unsigned long long)nonce);
    uint64_t maxn;
    if (util_add_u64(nonce, mp->cfg.max_nonce_ahead, &maxn)) maxn = UINT64_MAX;
    if (tx->nonce > maxn)
        return reject(err, CHAIN_MP_NONCE_TOO_HIGH, UTIL_ESTATE,
                      "nonce %llu, account nonce %llu, at most %llu ahead",
                      (unsigned long long)tx->nonce, (unsigned long long)nonce,
                      (unsigned long long)mp->cfg.max_nonce_ahead);

    mp_sender *s = snd_find(mp, &tx->from);
    size_t pos = s ? lower_bound(s, tx->nonce) : 0;
    mp_entry *old = (s && pos < s->n && s->txs[pos]->tx.nonce == tx->nonce) ? s->txs[pos] : NULL;
    if (old && !replacement_ok(old->tx.gas_price, tx->gas_price))
        return reject(err, CHAIN_MP_UNDERPRICED, UTIL_ESTATE,
                      "gas price %llu, pooled transaction with nonce %llu pays %llu (need +%d%%)",
                      (unsigned long long)tx->gas_price, (unsigned long long)tx->nonce,
                      (unsigned long long)old->tx.gas_price, CHAIN_MEMPOOL_REPLACE_BUMP_PCT);
    uint64_t pooled = s ? s->cost - (old ? old->cost : 0) : 0, need;
    if (util_add_u64(pooled, cost, &need) || need > bal)
        return reject(err, CHAIN_MP_INSUFFICIENT_FUNDS, UTIL_ESTATE,
                      "balance %llu, needs %llu (this transaction) + %llu (pooled)",
                      (unsigned long long)bal, (unsigned long long)cost,
                      (unsigned long long)pooled);
    if (tx->size > mp->cfg.max_bytes || mp->cfg.max_txs == 0)
        return reject(err, CHAIN_MP_POOL_FULL, UTIL_ELIMIT, "%s", "");
    *o = (precheck_out){.s = s, .old = old, .pos = pos, .cost = cost, .nonce = nonce};
    return CHAIN_MP_OK;
}

int chain_mempool_precheck(chain_mempool *mp, const chain_tx *tx, util_err *err)
{
    precheck_out o;
    return precheck(mp, tx, err, &o);
}

int chain_mempool_add(chain_mempool *mp, const chain_tx *tx, util_err *err)
{
    precheck_out o;
    int r = precheck(mp, tx, err, &o);
    if (r) return r;
    mp_sender *s = o.s;
    mp_entry *old = o.old;
    size_t pos = o.pos;
    uint64_t cost = o.cost, nonce = o.nonce;

    /* Everything that can fail is allocated before the pool is touched. */
    mp_entry *e = calloc(1, sizeof *e);
    if (!e) return reject(err, CHAIN_MP_INTERNAL, UTIL_ENOMEM, "out of memory");
    if (chain_tx_copy(&e->tx, tx)) {
        free(e);
        return reject(err, CHAIN_MP_INTERNAL, UTIL_ENOMEM, "out of memory");
    }
    /* Only now, after the cheap checks: verification is the expensive part.
     * A caller that set sig_checked vouches for the signature. */
    if (chain_tx_check_sig(&e->tx) != 1) {
        entry_free(e);
        return reject(err, CHAIN_MP_BAD_SIGNATURE, UTIL_ECRYPTO, "%s", "");
    }
    mp_sender *ns = NULL;
    if (!s) {
        ns = calloc(1, sizeof *ns);
        if (!ns || txs_reserve(ns) || heap_reserve(mp)) {
            if (ns) sender_free(ns);
            entry_free(e);
            return reject(err, CHAIN_MP_INTERNAL, UTIL_ENOMEM, "out of memory");
        }
    } else if (!old && txs_reserve(s)) {
        entry_free(e);
        return reject(err, CHAIN_MP_INTERNAL, UTIL_ENOMEM, "out of memory");
    }

    /* Make room by evicting the globally cheapest tails, each strictly
     * cheaper than the newcomer; never the sender's own (that could open a
     * nonce gap in front of the new transaction, or remove the replaced one). */
    size_t cnt = mp->count - (old ? 1 : 0) + 1;
    size_t bytes = mp->bytes - (old ? old->tx.size : 0) + tx->size;
    int full = cnt > mp->cfg.max_txs || bytes > mp->cfg.max_bytes;
    mp_entry *victims = NULL;
    if (full && s) heap_del(mp, s); /* out of reach while choosing victims */
    while (cnt > mp->cfg.max_txs || bytes > mp->cfg.max_bytes) {
        mp_sender *v = mp->hn ? mp->heap[0] : NULL;
        if (!v || tail(v)->tx.gas_price >= tx->gas_price) {
            while (victims) {
                mp_entry *nx = victims->next;
                reattach(mp, victims);
                victims = nx;
            }
            if (full && s) heap_push(mp, s);
            if (ns) sender_free(ns);
            entry_free(e);
            return reject(err, CHAIN_MP_POOL_FULL, UTIL_ELIMIT,
                          "%zu transactions, %zu bytes; gas price %llu does not outbid the "
                          "cheapest",
                          mp->count, mp->bytes, (unsigned long long)tx->gas_price);
        }
        mp_entry *ve = detach_tail(mp, v);
        cnt--;
        bytes -= ve->tx.size;
        ve->next = victims;
        victims = ve;
    }

    /* Commit. Victim senders left empty are freed once, after all victims. */
    mp_sender *dead = NULL;
    while (victims) {
        mp_entry *nx = victims->next;
        mp_sender *v = victims->s;
        if (v->n == 0 && v->txs) {
            snd_remove(mp, v);
            free(v->txs);
            v->txs = NULL;
            v->next = dead;
            dead = v;
        }
        entry_free(victims);
        victims = nx;
    }
    while (dead) {
        mp_sender *nx = dead->next;
        free(dead);
        dead = nx;
    }

    e->seq = mp->seq++;
    e->cost = cost;
    if (ns) {
        s = ns;
        s->addr = tx->from;
        s->hpos = NPOS;
        snd_insert(mp, s);
    }
    s->nonce = nonce;
    e->s = s;
    if (old) {
        s->txs[pos] = e;
        s->cost -= old->cost;
        id_remove(mp, old);
        mp->count--;
        mp->bytes -= old->tx.size;
        entry_free(old);
    } else {
        memmove(s->txs + pos + 1, s->txs + pos, (s->n - pos) * sizeof *s->txs);
        s->txs[pos] = e;
        s->n++;
    }
    s->cost += cost;
    id_insert(mp, e);
    mp->count++;
    mp->bytes += e->tx.size;
    if (ns || full)
        heap_push(mp, s);
    else
        heap_fix(mp, s);
    if (tx->gas_limit < mp->min_gas) mp->min_gas = tx->gas_limit;
    if (tx->size < mp->min_size) mp->min_size = tx->size;
    id_maybe_grow(mp);
    snd_maybe_grow(mp);
    return CHAIN_MP_OK;
}

/* ---- selection ---- */

/* 1 if a's next transaction goes first: higher price, then earlier arrival. */
static int sel_before(const sel_item *a, const sel_item *b)
{
    if (a->price != b->price) return a->price > b->price;
    return a->seq < b->seq;
}

static sel_item sel_at(mp_sender *s, size_t k)
{
    return (sel_item){s->txs[k]->tx.gas_price, s->txs[k]->seq, s, k};
}

static void sel_down(sel_item *h, size_t n, size_t i)
{
    sel_item it = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && sel_before(&h[c + 1], &h[c])) c++;
        if (!sel_before(&h[c], &it)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = it;
}

size_t chain_mempool_select(chain_mempool *mp, uint64_t max_gas, size_t max_bytes,
                            const chain_tx **out, size_t max_out)
{
    if (max_out == 0 || mp->nsenders == 0) return 0;
    if (mp->selcap < mp->nsenders) {
        sel_item *t = realloc(mp->sel, mp->nsenders * sizeof *t);
        if (!t) return 0;
        mp->sel = t;
        mp->selcap = mp->nsenders;
    }
    sel_item *h = mp->sel;
    size_t hn = 0;
    for (size_t i = 0; i <= mp->snd_mask; i++)
        for (mp_sender *s = mp->snd[i]; s; s = s->next) {
            /* Entries below the committed nonce wait for on_block to drop them. */
            size_t k = lower_bound(s, s->nonce);
            if (k < s->n && s->txs[k]->tx.nonce == s->nonce) h[hn++] = sel_at(s, k);
        }
    for (size_t i = hn / 2; i-- > 0;)
        sel_down(h, hn, i);

    size_t n = 0;
    uint64_t gas = 0;
    size_t bytes = 0;
    /* Once nothing admitted so far could fit, popping the rest is wasted work. */
    while (hn > 0 && n < max_out && max_gas - gas >= mp->min_gas &&
           max_bytes - bytes >= mp->min_size) {
        mp_sender *s = h[0].s;
        const mp_entry *e = s->txs[h[0].k];
        /* A transaction that does not fit ends its sender's run (its later
         * nonces cannot go without it); smaller ones of others may still fit. */
        if (e->tx.gas_limit <= max_gas - gas && e->tx.size <= max_bytes - bytes) {
            out[n++] = &e->tx;
            gas += e->tx.gas_limit;
            bytes += e->tx.size;
            size_t k = h[0].k + 1;
            if (k < s->n && s->txs[k]->tx.nonce == e->tx.nonce + 1) {
                h[0] = sel_at(s, k);
                sel_down(h, hn, 0);
                continue;
            }
        }
        h[0] = h[--hn];
        if (hn) sel_down(h, hn, 0);
    }
    return n;
}

/* ---- after a block, removal, queries ---- */

static void remove_entry(chain_mempool *mp, mp_entry *e)
{
    mp_sender *s = e->s;
    size_t k = lower_bound(s, e->tx.nonce);
    drop_range(mp, s, k, k + 1);
}

/* Re-reads the account: drops entries below the committed nonce, then every
 * entry from the first one the balance no longer covers (in nonce order). */
static void refresh_sender(chain_mempool *mp, mp_sender *s)
{
    uint64_t bal, nonce;
    if (mp->acct(mp->ctx, &s->addr, &bal, &nonce)) return;
    s->nonce = nonce;
    size_t k = lower_bound(s, nonce);
    uint64_t acc = 0;
    size_t cut = s->n;
    for (size_t i = k; i < s->n; i++)
        if (util_add_u64(acc, s->txs[i]->cost, &acc) || acc > bal) {
            cut = i;
            break;
        }
    /* Tail first, so that the sender is freed at most once, by the last call. */
    if (cut == k) {
        drop_range(mp, s, 0, s->n);
        return;
    }
    drop_range(mp, s, cut, s->n);
    drop_range(mp, s, 0, k);
}

void chain_mempool_on_block(chain_mempool *mp, const chain_block *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->ntx; i++) {
        mp_entry *e = id_find(mp, b->txs[i].id);
        if (e) remove_entry(mp, e);
    }
    uint64_t mark = ++mp->mark;
    for (size_t i = 0; i < b->ntx; i++) {
        mp_sender *s = snd_find(mp, &b->txs[i].from);
        if (!s || s->mark == mark) continue;
        s->mark = mark;
        refresh_sender(mp, s);
    }
}

int chain_mempool_remove(chain_mempool *mp, const uint8_t id[32])
{
    mp_entry *e = id_find(mp, id);
    if (!e) return UTIL_ENOTFOUND;
    remove_entry(mp, e);
    return 0;
}

const chain_tx *chain_mempool_get(chain_mempool *mp, const uint8_t id[32])
{
    mp_entry *e = id_find(mp, id);
    return e ? &e->tx : NULL;
}

size_t chain_mempool_count(const chain_mempool *mp)
{
    return mp->count;
}

size_t chain_mempool_bytes(const chain_mempool *mp)
{
    return mp->bytes;
}

uint64_t chain_mempool_next_nonce(chain_mempool *mp, const chain_addr *a)
{
    mp_sender *s = snd_find(mp, a);
    uint64_t bal, n;
    if (mp->acct(mp->ctx, a, &bal, &n)) n = s ? s->nonce : 0;
    if (!s) return n;
    for (size_t k = lower_bound(s, n); k < s->n && s->txs[k]->tx.nonce == n && n < UINT64_MAX; k++)
        n++;
    return n;
}
