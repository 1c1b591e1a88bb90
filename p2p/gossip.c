/* The transaction seen-cache of gossip (p2p/gossip.h): a ring of entries in
 * arrival order, so the oldest is the one overwritten, indexed by a chained
 * hash table keyed with a secret seed. */
#include "p2p/gossip.h"

#include <stdlib.h>
#include <string.h>

#define NIL SIZE_MAX

typedef struct entry {
    uint8_t id[32];
    uint64_t holders[P2P_GOSSIP_HOLDERS]; /* 0 = empty slot; this node is not recorded */
    size_t next;                          /* next entry in the bucket, NIL at the end */
    int used;
} entry;

struct p2p_gossip {
    entry *e;
    size_t cap, ring, count;
    size_t *bucket;
    size_t mask;
    uint64_t seed;
};

static size_t bucket_of(const p2p_gossip *g, const uint8_t id[32])
{
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    uint64_t h = (a ^ g->seed) * 0x9e3779b97f4a7c15ull;
    h ^= (b + (g->seed >> 7)) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 29;
    return (size_t)(h & g->mask);
}

p2p_gossip *p2p_gossip_new(size_t capacity, uint64_t seed)
{
    if (capacity == 0 || capacity > (SIZE_MAX >> 4)) return NULL;
    p2p_gossip *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    size_t nb = 16;
    while (nb < 2 * capacity)
        nb <<= 1;
    g->e = calloc(capacity, sizeof *g->e);
    g->bucket = malloc(nb * sizeof *g->bucket);
    if (!g->e || !g->bucket) {
        p2p_gossip_free(g);
        return NULL;
    }
    for (size_t i = 0; i < nb; i++)
        g->bucket[i] = NIL;
    g->cap = capacity;
    g->mask = nb - 1;
    g->seed = seed;
    return g;
}

void p2p_gossip_free(p2p_gossip *g)
{
    if (!g) return;
    free(g->e);
    free(g->bucket);
    free(g);
}

static size_t find(const p2p_gossip *g, const uint8_t id[32])
{
    for (size_t i = g->bucket[bucket_of(g, id)]; i != NIL; i = g->e[i].next)
        if (memcmp(g->e[i].id, id, 32) == 0) return i;
    return NIL;
}

static void unlink_entry(p2p_gossip *g, size_t i)
{
    size_t *p = &g->bucket[bucket_of(g, g->e[i].id)];
    while (*p != i)
        p = &g->e[*p].next;
    *p = g->e[i].next;
    g->e[i].used = 0;
    g->count--;
}

static void add_holder(entry *e, uint64_t from)
{
    if (from == 0) return;
    for (size_t k = 0; k < P2P_GOSSIP_HOLDERS; k++) {
        if (e->holders[k] == from) return;
        if (e->holders[k] == 0) {
            e->holders[k] = from;
            return;
        }
    }
}

int p2p_gossip_note(p2p_gossip *g, const uint8_t id[32], uint64_t from)
{
    size_t i = find(g, id);
    if (i != NIL) {
        add_holder(&g->e[i], from);
        return 0;
    }
    i = g->ring;
    g->ring = (g->ring + 1) % g->cap;
    if (g->e[i].used) unlink_entry(g, i);
    entry *e = &g->e[i];
    memset(e, 0, sizeof *e);
    memcpy(e->id, id, 32);
    add_holder(e, from);
    e->used = 1;
    size_t b = bucket_of(g, id);
    e->next = g->bucket[b];
    g->bucket[b] = i;
    g->count++;
    return 1;
}

int p2p_gossip_peer_has(const p2p_gossip *g, const uint8_t id[32], uint64_t peer)
{
    size_t i = find(g, id);
    if (i == NIL || peer == 0) return 0;
    for (size_t k = 0; k < P2P_GOSSIP_HOLDERS; k++)
        if (g->e[i].holders[k] == peer) return 1;
    return 0;
}

int p2p_gossip_seen(const p2p_gossip *g, const uint8_t id[32])
{
    return find(g, id) != NIL;
}

void p2p_gossip_forget(p2p_gossip *g, const uint8_t id[32])
{
    size_t i = find(g, id);
    if (i != NIL) unlink_entry(g, i);
}

size_t p2p_gossip_count(const p2p_gossip *g)
{
    return g->count;
}
