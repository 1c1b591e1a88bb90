/* Verified programs by code hash: a chained hash table plus an LRU list,
 * and a table of hints (address -> hash of the code last run there), under
 * one mutex. */
#include "chain/state/codecache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "util/bytes.h"

typedef struct entry {
    uint8_t hash[32];
    vm_program *prog; /* the cache's reference */
    uint8_t *code;    /* the verified bytes, to confirm a hit through a hint */
    size_t code_len;
    size_t bytes;
    struct entry *chain;       /* next in the bucket */
    struct entry *prev, *next; /* LRU list: head = most recently used */
} entry;

_Static_assert(sizeof(entry) <= CHAIN_CODE_CACHE_ENTRY_BYTES, "entry bookkeeping is counted");

/* A hint: the code at `addr` had this hash when it last ran. Only a
 * shortcut to an entry; a hit through it compares the bytes. */
typedef struct hint {
    uint8_t addr[CHAIN_CODE_CACHE_ADDR_LEN];
    uint8_t hash[32];
    struct hint *chain;
} hint;

#define HINT_BUCKETS 4096
/* Past this many hints all are dropped (they are only shortcuts): ~4 MiB. */
#define HINT_MAX 65536

struct chain_code_cache {
    pthread_mutex_t mu;
    uint64_t seed; /* bucket indexes an attacker cannot aim at */
    entry **buckets;
    size_t nbuckets; /* power of 2 */
    hint **hints;    /* HINT_BUCKETS */
    size_t nhints;
    entry *head, *tail;
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses, evictions;
};

chain_code_cache *chain_code_cache_new(size_t max_bytes)
{
    return chain_code_cache_new_env(max_bytes, NULL);
}

chain_code_cache *chain_code_cache_new_env(size_t max_bytes, const util_env *env)
{
    chain_code_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->nbuckets = 64;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    c->hints = calloc(HINT_BUCKETS, sizeof *c->hints);
    if (!c->buckets || !c->hints || pthread_mutex_init(&c->mu, NULL)) {
        free(c->buckets);
        free(c->hints);
        free(c);
        return NULL;
    }
    /* Not consensus: any value works, an unpredictable one resists chains
     * of colliding keys (code can be ground to any low bits of its hash). */
    if (util_env_random(env, &c->seed, sizeof c->seed, NULL))
        c->seed = (uint64_t)(uintptr_t)c * 0x9e3779b97f4a7c15ull;
    c->max_bytes = max_bytes;
    return c;
}

/* splitmix64's finalizer over the key's first 8 bytes and the seed. */
static uint64_t mix(const chain_code_cache *c, const uint8_t *key)
{
    uint64_t x = util_get_u64le(key) ^ c->seed;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static size_t bucket(const chain_code_cache *c, const uint8_t hash[32])
{
    return (size_t)mix(c, hash) & (c->nbuckets - 1);
}

static hint **hint_find(chain_code_cache *c, const uint8_t *addr)
{
    hint **pp = &c->hints[mix(c, addr) & (HINT_BUCKETS - 1)];
    while (*pp && memcmp((*pp)->addr, addr, CHAIN_CODE_CACHE_ADDR_LEN) != 0)
        pp = &(*pp)->chain;
    return pp;
}

static void hints_clear(chain_code_cache *c)
{
    for (size_t i = 0; i < HINT_BUCKETS; i++) {
        while (c->hints[i]) {
            hint *h = c->hints[i];
            c->hints[i] = h->chain;
            free(h);
        }
    }
    c->nhints = 0;
}

/* Remembers that the code at addr hashes to hash; a failed allocation only
 * loses the shortcut. */
static void hint_set(chain_code_cache *c, const uint8_t *addr, const uint8_t hash[32])
{
    if (!addr) return;
    hint **pp = hint_find(c, addr);
    if (!*pp) {
        if (c->nhints >= HINT_MAX) {
            hints_clear(c);
            pp = hint_find(c, addr);
        }
        if (!(*pp = calloc(1, sizeof **pp))) return;
        memcpy((*pp)->addr, addr, CHAIN_CODE_CACHE_ADDR_LEN);
        c->nhints++;
    }
    memcpy((*pp)->hash, hash, 32);
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
    free(e->code);
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
            size_t j = (size_t)mix(c, e->hash) & (n - 1);
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
static vm_program *insert(chain_code_cache *c, const uint8_t hash[32], const uint8_t *code,
                          size_t len, vm_program *prog)
{
    entry **pp = find(c, hash);
    if (*pp) { /* verified twice at once: keep one program */
        vm_program *shared = vm_program_ref((*pp)->prog);
        vm_program_free(prog);
        return shared;
    }
    size_t bytes = vm_program_mem(prog) + len + CHAIN_CODE_CACHE_ENTRY_BYTES;
    if (bytes > c->max_bytes) return prog;
    entry *e = calloc(1, sizeof *e);
    uint8_t *copy = malloc(len ? len : 1);
    if (!e || !copy) { /* uncached is still correct */
        free(e);
        free(copy);
        return prog;
    }
    memcpy(copy, code, len);
    e->code = copy;
    e->code_len = len;
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

static vm_program *hit(chain_code_cache *c, entry *e)
{
    c->hits++;
    lru_unlink(c, e);
    lru_push(c, e);
    return vm_program_ref(e->prog);
}

int chain_code_cache_get(chain_code_cache *c, const uint8_t *where, const uint8_t *code, size_t len,
                         vm_program **out, util_err *err)
{
    *out = NULL;
    if (!c) return vm_verify(code, len, out, NULL, err);
    pthread_mutex_lock(&c->mu);
    /* The code last run at this address, if it is these bytes: no hashing. */
    hint *h = where ? *hint_find(c, where) : NULL;
    entry *e = h ? *find(c, h->hash) : NULL;
    if (e && e->code_len == len && memcmp(e->code, code, len) == 0) {
        *out = hit(c, e);
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    pthread_mutex_unlock(&c->mu);
    uint8_t hash[32];
    chain_sha256(hash, code, len);
    pthread_mutex_lock(&c->mu);
    if ((e = *find(c, hash))) {
        *out = hit(c, e);
        hint_set(c, where, hash);
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
    *out = insert(c, hash, code, len, prog);
    hint_set(c, where, hash);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

void chain_code_cache_clear(chain_code_cache *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    while (c->head)
        drop(c, c->head);
    hints_clear(c);
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
    free(c->hints);
    free(c);
}
