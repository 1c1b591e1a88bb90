/* The per-client-address table behind the RPC rate limit and connection limit
 * (rpc/transport/addrtab.h). */
#include "rpc/transport/addrtab.h"

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <uv.h>

#include "util/err.h"
#include "util/time.h"

#define NIL UINT32_MAX

typedef struct ent {
    rpc_addr_key key;
    uint32_t conns;
    uint32_t chain;              /* next entry in the same bucket, or a free entry */
    uint32_t lru_prev, lru_next; /* idle entries only (conns == 0) */
    uint64_t tat;
} ent;

struct rpc_addrtab {
    uv_mutex_t mu;
    atomic_uint refs;
    unsigned per_addr;
    ent *e;
    uint32_t cap;
    uint32_t *bucket;
    uint32_t mask;
    uint32_t free_head;
    uint32_t lru_head, lru_tail; /* least recently used idle entry first */
    uint64_t seed;
};

int rpc_addr_key_from(const struct sockaddr *sa, rpc_addr_key *k)
{
    memset(k, 0, sizeof *k);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        k->b[10] = k->b[11] = 0xff;
        memcpy(k->b + 12, &a->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        const uint8_t *b = a->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
        /* An IPv4 client of a dual-stack socket is one IPv4 address. */
        memcpy(k->b, b, memcmp(b, mapped, 12) == 0 ? 16 : 8);
        return 0;
    }
    return -1;
}

int rpc_gcra_take(uint64_t *tat, uint64_t now_ns, uint64_t interval_ns, uint64_t tolerance_ns,
                  size_t n)
{
    uint64_t base = *tat > now_ns ? *tat : now_ns;
    uint64_t debt = base - now_ns;
    uint64_t want = n ? n : 1;
    if (want > (UINT64_MAX - debt) / (interval_ns ? interval_ns : 1)) return 0;
    if (debt + want * interval_ns > tolerance_ns) return 0;
    if (n) *tat = base + n * interval_ns;
    return 1;
}

rpc_addrtab *rpc_addrtab_new(size_t max_conns, unsigned per_addr)
{
    if (max_conns > UINT32_MAX / 4) return NULL;
    rpc_addrtab *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->cap = (uint32_t)max_conns + RPC_ADDRTAB_IDLE_ENTRIES;
    uint32_t nb = 1;
    while (nb < t->cap)
        nb <<= 1;
    t->mask = nb - 1;
    t->e = calloc(t->cap, sizeof *t->e);
    t->bucket = malloc(nb * sizeof *t->bucket);
    if (!t->e || !t->bucket || uv_mutex_init(&t->mu) != 0) {
        free(t->e);
        free(t->bucket);
        free(t);
        return NULL;
    }
    for (uint32_t i = 0; i < nb; i++)
        t->bucket[i] = NIL;
    for (uint32_t i = 0; i < t->cap; i++)
        t->e[i].chain = i + 1 < t->cap ? i + 1 : NIL;
    t->free_head = 0;
    t->lru_head = t->lru_tail = NIL;
    t->per_addr = per_addr;
    if (getrandom(&t->seed, sizeof t->seed, GRND_NONBLOCK) != sizeof t->seed)
        t->seed = util_mono_ns() * 0x9e3779b97f4a7c15ull;
    atomic_init(&t->refs, 1);
    return t;
}

void rpc_addrtab_ref(rpc_addrtab *t)
{
    atomic_fetch_add(&t->refs, 1);
}

void rpc_addrtab_unref(rpc_addrtab *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
    uv_mutex_destroy(&t->mu);
    free(t->e);
    free(t->bucket);
    free(t);
}

static uint32_t hash(const rpc_addrtab *t, const rpc_addr_key *k)
{
    uint64_t a, b;
    memcpy(&a, k->b, 8);
    memcpy(&b, k->b + 8, 8);
    uint64_t h = (a ^ t->seed) * 0xff51afd7ed558ccdull;
    h = (h ^ (h >> 29) ^ b) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    return (uint32_t)h & t->mask;
}

static void lru_unlink(rpc_addrtab *t, uint32_t i)
{
    ent *x = &t->e[i];
    if (x->lru_prev != NIL)
        t->e[x->lru_prev].lru_next = x->lru_next;
    else
        t->lru_head = x->lru_next;
    if (x->lru_next != NIL)
        t->e[x->lru_next].lru_prev = x->lru_prev;
    else
        t->lru_tail = x->lru_prev;
    x->lru_prev = x->lru_next = NIL;
}

static void lru_push(rpc_addrtab *t, uint32_t i)
{
    ent *x = &t->e[i];
    x->lru_next = NIL;
    x->lru_prev = t->lru_tail;
    if (t->lru_tail != NIL)
        t->e[t->lru_tail].lru_next = i;
    else
        t->lru_head = i;
    t->lru_tail = i;
}

static void unhash(rpc_addrtab *t, uint32_t i)
{
    uint32_t *p = &t->bucket[hash(t, &t->e[i].key)];
    while (*p != i)
        p = &t->e[*p].chain;
    *p = t->e[i].chain;
}

static uint32_t find(const rpc_addrtab *t, const rpc_addr_key *k)
{
    for (uint32_t i = t->bucket[hash(t, k)]; i != NIL; i = t->e[i].chain)
        if (memcmp(t->e[i].key.b, k->b, 16) == 0) return i;
    return NIL;
}

/* The entry of k, made (idle, fresh) when absent; NIL when every entry
 * holds connections. */
static uint32_t get(rpc_addrtab *t, const rpc_addr_key *k)
{
    uint32_t i = find(t, k);
    if (i != NIL) return i;
    if (t->free_head != NIL) {
        i = t->free_head;
        t->free_head = t->e[i].chain;
    } else if (t->lru_head != NIL) {
        i = t->lru_head;
        lru_unlink(t, i);
        unhash(t, i);
    } else {
        return NIL;
    }
    ent *x = &t->e[i];
    *x = (ent){.key = *k, .lru_prev = NIL, .lru_next = NIL};
    uint32_t h = hash(t, k);
    x->chain = t->bucket[h];
    t->bucket[h] = i;
    lru_push(t, i);
    return i;
}

int rpc_addrtab_conn_open(rpc_addrtab *t, const rpc_addr_key *k, int force)
{
    uv_mutex_lock(&t->mu);
    uint32_t i = get(t, k);
    int rc = UTIL_ELIMIT;
    if (i != NIL && (force || !t->per_addr || t->e[i].conns < t->per_addr)) {
        if (t->e[i].conns++ == 0) lru_unlink(t, i);
        rc = 0;
    }
    uv_mutex_unlock(&t->mu);
    return rc;
}

void rpc_addrtab_conn_close(rpc_addrtab *t, const rpc_addr_key *k)
{
    uv_mutex_lock(&t->mu);
    uint32_t i = find(t, k);
    if (i != NIL && t->e[i].conns > 0 && --t->e[i].conns == 0) lru_push(t, i);
    uv_mutex_unlock(&t->mu);
}

unsigned rpc_addrtab_conns(rpc_addrtab *t, const rpc_addr_key *k)
{
    uv_mutex_lock(&t->mu);
    uint32_t i = find(t, k);
    unsigned n = i != NIL ? t->e[i].conns : 0;
    uv_mutex_unlock(&t->mu);
    return n;
}

int rpc_addrtab_rate_take(rpc_addrtab *t, const rpc_addr_key *k, uint64_t now_ns,
                          uint64_t interval_ns, uint64_t tolerance_ns, size_t n)
{
    uv_mutex_lock(&t->mu);
    uint32_t i = get(t, k);
    int ok = 0;
    if (i != NIL) {
        ok = rpc_gcra_take(&t->e[i].tat, now_ns, interval_ns, tolerance_ns, n);
        if (t->e[i].conns == 0) { /* recently used: evicted last */
            lru_unlink(t, i);
            lru_push(t, i);
        }
    }
    uv_mutex_unlock(&t->mu);
    return ok;
}
