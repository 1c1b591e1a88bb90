/* Mempool internals shared by chain/mempool/mempool.c (policy: admission, eviction
 * choice, selection, block cleanup, expiry) and chain/mempool/mempool_index.c (the
 * indexes they work on). Not part of the module's API.
 *
 * - by id: chained hash table of entries (intrusive next pointer);
 * - by sender: chained hash table of senders, each holding its entries in a
 *   nonce-sorted array: txs[0, npend) is the pending run from the committed
 *   nonce, txs[npend, n) the queued rest (no entry is below the committed
 *   nonce between calls);
 * - expiry: a doubly linked list of the queued entries in the order they
 *   became queued, which is also the order of their (clamped, monotonic)
 *   queued-since times, so expiry pops from the head;
 * - eviction: a binary min-heap over senders keyed by their tail (highest
 *   nonce) transaction: queued tails before pending ones, then gas price
 *   asc, then newest arrival first;
 * - selection: a max-heap built per call over each sender's next executable
 *   transaction (gas price desc, then arrival seq asc).
 * Every key that orders output includes the arrival sequence number, which is
 * unique, so results never depend on hash table iteration order.
 *
 * Hash tables are keyed with per-pool random secrets: ids and addresses are
 * hashes, but an attacker can grind keys or signatures until many land in one
 * bucket of an unkeyed table. */
#ifndef OL_CHAIN_MEMPOOL_INTERNAL_H
#define OL_CHAIN_MEMPOOL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "chain/mempool/mempool.h"
#include "util/err.h"

#define NPOS ((size_t)-1)
#define INITIAL_BUCKETS 1024

typedef struct mp_sender mp_sender;

typedef struct mp_entry {
    chain_tx tx;
    uint64_t seq;  /* arrival order, unique */
    uint64_t cost; /* chain_tx_max_cost */
    mp_sender *s;
    struct mp_entry *next; /* id bucket chain; victim list while being evicted */
    /* Queued entries only: the expiry list, and when the entry became queued. */
    struct mp_entry *qprev, *qnext;
    uint64_t qsince;
    int queued;
} mp_entry;

struct mp_sender {
    chain_addr addr;
    uint64_t nonce; /* committed nonce as last read through the callback */
    uint64_t cost;  /* sum of cost of txs[] */
    mp_entry **txs; /* sorted by nonce, distinct nonces */
    size_t n, cap;
    size_t npend;    /* txs[0, npend) run consecutively from nonce */
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
    mp_entry *qhead, *qtail; /* expiry list, oldest first */
    size_t nqueued;
    uint64_t now; /* last clock reading: time never goes back in the pool */
    /* Smallest gas limit and size ever admitted: lower bounds for selection. */
    uint64_t min_gas;
    size_t min_size;
};

/* Keyed multiply-fold hash of two words. */
uint64_t chain_mp_mix(uint64_t a, uint64_t b);

/* By id and by sender. The *_maybe_grow calls are best effort. */
OL_MUST_CHECK mp_entry *chain_mp_id_find(const chain_mempool *mp, const uint8_t id[32]);
void chain_mp_id_insert(chain_mempool *mp, mp_entry *e);
void chain_mp_id_remove(chain_mempool *mp, mp_entry *e);
void chain_mp_id_maybe_grow(chain_mempool *mp);
OL_MUST_CHECK mp_sender *chain_mp_snd_find(const chain_mempool *mp, const chain_addr *a);
void chain_mp_snd_insert(chain_mempool *mp, mp_sender *s);
void chain_mp_snd_remove(chain_mempool *mp, mp_sender *s);
void chain_mp_snd_maybe_grow(chain_mempool *mp);

/* Eviction heap over senders, keyed by their tail (s->n > 0). push needs
 * capacity reserved by heap_reserve; fix after any change to a sender's tail
 * or pending run. */
OL_MUST_CHECK const mp_entry *chain_mp_tail(const mp_sender *s);
OL_MUST_CHECK int chain_mp_tail_queued(const mp_sender *s);
void chain_mp_heap_push(chain_mempool *mp, mp_sender *s);
void chain_mp_heap_fix(chain_mempool *mp, mp_sender *s);
void chain_mp_heap_del(chain_mempool *mp, mp_sender *s);
OL_MUST_CHECK int chain_mp_heap_reserve(chain_mempool *mp);

/* Senders and entries. */
size_t chain_mp_lower_bound(const mp_sender *s, uint64_t nonce);
OL_MUST_CHECK int chain_mp_txs_reserve(mp_sender *s);
void chain_mp_entry_free(mp_entry *e);
void chain_mp_sender_free(mp_sender *s);

/* Queued entries: the injected clock, the expiry list, the pending run. */
uint64_t chain_mp_pool_now(chain_mempool *mp);
void chain_mp_q_link(chain_mempool *mp, mp_entry *e, uint64_t now);
void chain_mp_q_unlink(chain_mempool *mp, mp_entry *e);
void chain_mp_q_replace(chain_mempool *mp, mp_entry *old, mp_entry *e);
void chain_mp_reclass(chain_mempool *mp, mp_sender *s);
/* Removes entries [from, to) of s and frees them; frees s if it empties. */
void chain_mp_drop_range(chain_mempool *mp, mp_sender *s, size_t from, size_t to);

#endif
