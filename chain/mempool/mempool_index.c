/* The mempool's indexes: keyed hash tables by id and by sender, the eviction
 * heap, per-sender nonce arrays and the expiry list of queued entries. The
 * layout is described in chain/mempool/mempool_internal.h. */
#include <stdlib.h>
#include <string.h>

#include "chain/mempool/mempool_internal.h"
#include "util/bytes.h"

/* ---- hashing and tables ---- */

/* Multiply-fold of two keyed 64-bit words (as in wyhash): cheap, and without
 * the keys an attacker cannot aim at a bucket. */
uint64_t chain_mp_mix(uint64_t a, uint64_t b)
{
    unsigned __int128 m = (unsigned __int128)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static size_t id_slot(const chain_mempool *mp, const uint8_t id[32])
{
    return (size_t)chain_mp_mix(util_get_u64le(id) ^ mp->k0, util_get_u64le(id + 8) ^ mp->k1) &
           mp->ids_mask;
}

static size_t addr_slot(const chain_mempool *mp, const chain_addr *a)
{
    uint64_t lo = util_get_u64le(a->b), hi = util_get_u64le(a->b + 8);
    hi ^= (uint64_t)util_get_u32le(a->b + 16) << 32;
    return (size_t)chain_mp_mix(lo ^ mp->k2, hi ^ mp->k3) & mp->snd_mask;
}

mp_entry *chain_mp_id_find(const chain_mempool *mp, const uint8_t id[32])
{
    for (mp_entry *e = mp->ids[id_slot(mp, id)]; e; e = e->next)
        if (memcmp(e->tx.id, id, 32) == 0) return e;
    return NULL;
}

void chain_mp_id_insert(chain_mempool *mp, mp_entry *e)
{
    size_t i = id_slot(mp, e->tx.id);
    e->next = mp->ids[i];
    mp->ids[i] = e;
}

void chain_mp_id_remove(chain_mempool *mp, mp_entry *e)
{
    mp_entry **pp = &mp->ids[id_slot(mp, e->tx.id)];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    e->next = NULL;
}

/* Growing is best effort: on allocation failure chains just get longer. */
void chain_mp_id_maybe_grow(chain_mempool *mp)
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
            chain_mp_id_insert(mp, e);
        }
    free(old);
}

mp_sender *chain_mp_snd_find(const chain_mempool *mp, const chain_addr *a)
{
    for (mp_sender *s = mp->snd[addr_slot(mp, a)]; s; s = s->next)
        if (memcmp(s->addr.b, a->b, CHAIN_ADDR_LEN) == 0) return s;
    return NULL;
}

void chain_mp_snd_insert(chain_mempool *mp, mp_sender *s)
{
    size_t i = addr_slot(mp, &s->addr);
    s->next = mp->snd[i];
    mp->snd[i] = s;
    mp->nsenders++;
}

void chain_mp_snd_remove(chain_mempool *mp, mp_sender *s)
{
    mp_sender **pp = &mp->snd[addr_slot(mp, &s->addr)];
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    s->next = NULL;
    mp->nsenders--;
}

void chain_mp_snd_maybe_grow(chain_mempool *mp)
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
            chain_mp_snd_insert(mp, s);
        }
    free(old);
}

/* ---- eviction heap ---- */

const mp_entry *chain_mp_tail(const mp_sender *s)
{
    return s->txs[s->n - 1];
}

int chain_mp_tail_queued(const mp_sender *s)
{
    return s->npend < s->n;
}

/* 1 if a's tail should be evicted before b's: queued before pending (a
 * transaction that cannot run yet goes before one that can), then cheaper,
 * then newer. */
static int evict_before(const mp_sender *a, const mp_sender *b)
{
    int qa = chain_mp_tail_queued(a), qb = chain_mp_tail_queued(b);
    if (qa != qb) return qa;
    const mp_entry *x = chain_mp_tail(a), *y = chain_mp_tail(b);
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
void chain_mp_heap_push(chain_mempool *mp, mp_sender *s)
{
    heap_set(mp, mp->hn++, s);
    heap_up(mp, s->hpos);
}

void chain_mp_heap_fix(chain_mempool *mp, mp_sender *s)
{
    heap_up(mp, s->hpos);
    heap_down(mp, s->hpos);
}

void chain_mp_heap_del(chain_mempool *mp, mp_sender *s)
{
    size_t i = s->hpos;
    s->hpos = NPOS;
    mp_sender *last = mp->heap[--mp->hn];
    if (i == mp->hn) return;
    heap_set(mp, i, last);
    chain_mp_heap_fix(mp, last);
}

int chain_mp_heap_reserve(chain_mempool *mp)
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
size_t chain_mp_lower_bound(const mp_sender *s, uint64_t nonce)
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

int chain_mp_txs_reserve(mp_sender *s)
{
    if (s->n < s->cap) return 0;
    size_t nc = s->cap ? s->cap * 2 : 4;
    mp_entry **t = realloc(s->txs, nc * sizeof *t);
    if (!t) return -1;
    s->txs = t;
    s->cap = nc;
    return 0;
}

void chain_mp_entry_free(mp_entry *e)
{
    chain_tx_free(&e->tx);
    free(e);
}

void chain_mp_sender_free(mp_sender *s)
{
    free(s->txs);
    free(s);
}

/* ---- queued entries: the expiry list ---- */

/* The env's monotonic clock, clamped so that times handed out never
 * decrease: the expiry list stays sorted even if the clock misbehaves. */
uint64_t chain_mp_pool_now(chain_mempool *mp)
{
    uint64_t t = util_env_mono_ns(mp->cfg.env);
    if (t > mp->now) mp->now = t;
    return mp->now;
}

void chain_mp_q_link(chain_mempool *mp, mp_entry *e, uint64_t now)
{
    e->queued = 1;
    e->qsince = now;
    e->qnext = NULL;
    e->qprev = mp->qtail;
    if (mp->qtail)
        mp->qtail->qnext = e;
    else
        mp->qhead = e;
    mp->qtail = e;
    mp->nqueued++;
}

void chain_mp_q_unlink(chain_mempool *mp, mp_entry *e)
{
    if (e->qprev)
        e->qprev->qnext = e->qnext;
    else
        mp->qhead = e->qnext;
    if (e->qnext)
        e->qnext->qprev = e->qprev;
    else
        mp->qtail = e->qprev;
    e->qprev = e->qnext = NULL;
    e->queued = 0;
    mp->nqueued--;
}

/* e takes old's place in the list, and its queued-since time: replacing a
 * queued transaction does not extend its life. */
void chain_mp_q_replace(chain_mempool *mp, mp_entry *old, mp_entry *e)
{
    e->queued = 1;
    e->qsince = old->qsince;
    e->qprev = old->qprev;
    e->qnext = old->qnext;
    if (e->qprev)
        e->qprev->qnext = e;
    else
        mp->qhead = e;
    if (e->qnext)
        e->qnext->qprev = e;
    else
        mp->qtail = e;
    old->qprev = old->qnext = NULL;
    old->queued = 0;
}

/* Recomputes the pending run of s from s->nonce after entries were removed or
 * the nonce changed: entries that now run are promoted (leave the list),
 * entries after the run that were pending are demoted (join it, queued from
 * now). Before the call, txs[] is a pending prefix and a queued suffix; any
 * removal keeps that shape, so demotion stops at the first queued entry. */
void chain_mp_reclass(chain_mempool *mp, mp_sender *s)
{
    size_t run = 0;
    while (run < s->n && s->txs[run]->tx.nonce >= s->nonce &&
           s->txs[run]->tx.nonce - s->nonce == run)
        run++;
    for (size_t i = 0; i < run; i++)
        if (s->txs[i]->queued) chain_mp_q_unlink(mp, s->txs[i]);
    if (run < s->n && !s->txs[run]->queued) {
        uint64_t now = chain_mp_pool_now(mp);
        for (size_t i = run; i < s->n && !s->txs[i]->queued; i++)
            chain_mp_q_link(mp, s->txs[i], now);
    }
    s->npend = run;
}

/* Removes entries [from, to) of s and frees them; frees s if it empties. */
void chain_mp_drop_range(chain_mempool *mp, mp_sender *s, size_t from, size_t to)
{
    if (from >= to) return;
    /* Removing queued entries only leaves the run as it is. */
    int run_changes = from < s->npend;
    for (size_t i = from; i < to; i++) {
        mp_entry *e = s->txs[i];
        if (e->queued) chain_mp_q_unlink(mp, e);
        chain_mp_id_remove(mp, e);
        s->cost -= e->cost;
        mp->count--;
        mp->bytes -= e->tx.size;
        chain_mp_entry_free(e);
    }
    memmove(s->txs + from, s->txs + to, (s->n - to) * sizeof *s->txs);
    s->n -= to - from;
    if (run_changes) chain_mp_reclass(mp, s);
    if (s->n == 0) {
        chain_mp_heap_del(mp, s);
        chain_mp_snd_remove(mp, s);
        chain_mp_sender_free(s);
    } else {
        chain_mp_heap_fix(mp, s);
    }
}
