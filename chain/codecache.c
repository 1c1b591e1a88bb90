/* Verified programs by code hash: a chained hash table plus an LRU list,
 * under one mutex. */
#include "chain/codecache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chain/hash.h"
#include "util/bytes.h"

typedef struct entry {
    uint8_t hash[32];
    vm_program *prog; /* the cache's reference */
    size_t bytes;
    struct entry *chain;       /* next in the bucket */
    struct entry *prev, *next; /* LRU list: head = most recently used */
} entry;

_Static_assert(sizeof(entry) <= CHAIN_CODE_CACHE_ENTRY_BYTES, "entry bookkeeping is counted");

struct chain_code_cache {
    pthread_mutex_t mu;
    entry **buckets;
    size_t nbuckets; /* power of 2 */
    entry *head, *tail;
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses, evictions;
};

chain_code_cache *chain_code_cache_new(size_t max_bytes)
{
    chain_code_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->nbuckets = 64;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets || pthread_mutex_init(&c->mu, NULL)) {
        free(c->buckets);
        free(c);
        return NULL;
    }
    c->max_bytes = max_bytes;
    return c;
}

/* The hash is uniform: its first bytes index the table directly. */
static size_t bucket(const chain_code_cache *c, const uint8_t hash[32])
{
    return (size_t)util_get_u64le(hash) & (c->nbuckets - 1);
}

static entry **find(chain_code_cache *c, const uint8_t hash[32])
{
    entry **pp = &c->buckets[bucket(c, hash)];
    while (*pp && memcmp((*pp)->hash, hash, 32) != 0)
        pp = &(*pp)->chain;
    return pp;
}

static void lru_unlink(chain_code_cache *c, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(chain_code_cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (!c->tail) c->tail = e;
}

static void drop(chain_code_cache *c, entry *e)
{
    entry **pp = find(c, e->hash);
    *pp = e->chain;
    lru_unlink(c, e);
    c->entries--;
    c->bytes -= e->bytes;
    vm_program_free(e->prog);
    free(e);
}

/* Doubles the table when it holds more entries than buckets; a failed
 * allocation keeps the old table (longer chains, same results). */
static void grow(chain_code_cache *c)
{
    if (c->entries <= c->nbuckets) return;
    size_t n = c->nbuckets * 2;
    entry **b = calloc(n, sizeof *b);
    if (!b) return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        entry *e = c->buckets[i];
        while (e) {
            entry *next = e->chain;
            size_t j = (size_t)util_get_u64le(e->hash) & (n - 1);
            e->chain = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

/* Caches prog (taking a reference) unless it is larger than the whole cache
 * or another thread cached the same hash meanwhile; returns the program the
 * caller should use. Called with the lock held. */
static vm_program *insert(chain_code_cache *c, const uint8_t hash[32], vm_program *prog)
{
    entry **pp = find(c, hash);
    if (*pp) { /* verified twice at once: keep one program */
        vm_program *shared = vm_program_ref((*pp)->prog);
        vm_program_free(prog);
        return shared;
    }
    size_t bytes = vm_program_mem(prog) + CHAIN_CODE_CACHE_ENTRY_BYTES;
    if (bytes > c->max_bytes) return prog;
    entry *e = calloc(1, sizeof *e);
    if (!e) return prog; /* uncached is still correct */
    memcpy(e->hash, hash, 32);
    e->prog = vm_program_ref(prog);
    e->bytes = bytes;
    *pp = e;
    lru_push(c, e);
    c->entries++;
    c->bytes += bytes;
    while (c->bytes > c->max_bytes && c->tail != e) {
        drop(c, c->tail);
        c->evictions++;
    }
    grow(c);
    return prog;
}

int chain_code_cache_get(chain_code_cache *c, const uint8_t *code, size_t len, vm_program **out,
                         util_err *err)
{
    *out = NULL;
    if (!c) return vm_verify(code, len, out, NULL, err);
    uint8_t hash[32];
    chain_sha256(hash, code, len);
    pthread_mutex_lock(&c->mu);
    entry *e = *find(c, hash);
    if (e) {
        c->hits++;
        lru_unlink(c, e);
        lru_push(c, e);
        *out = vm_program_ref(e->prog);
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    c->misses++;
    pthread_mutex_unlock(&c->mu);
    /* Verify without the lock: other threads' hits must not wait ~100 us. */
    vm_program *prog;
    int rc = vm_verify(code, len, &prog, NULL, err);
    if (rc) return rc;
    pthread_mutex_lock(&c->mu);
    *out = insert(c, hash, prog);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

void chain_code_cache_clear(chain_code_cache *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    while (c->head)
        drop(c, c->head);
    pthread_mutex_unlock(&c->mu);
}

void chain_code_cache_get_stats(chain_code_cache *c, chain_code_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    out->hits = c->hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
    out->entries = c->entries;
    out->bytes = c->bytes;
    out->max_bytes = c->max_bytes;
    pthread_mutex_unlock(&c->mu);
}

void chain_code_cache_free(chain_code_cache *c)
{
    if (!c) return;
    chain_code_cache_clear(c);
    pthread_mutex_destroy(&c->mu);
    free(c->buckets);
    free(c);
}
