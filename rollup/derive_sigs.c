/* The signature checks of a derived batch, pipelined with its execution
 * (rollup/derive_internal.h, derive_sigs_*): worker threads check the
 * transactions' signatures block after block, in chunks, while the loop
 * validates and applies the blocks whose signatures are done; the loop
 * checks chunks itself while it waits, so no core idles. Checking is most
 * of a derived block's cost (bench/README.md, "rollup"), and this lets a
 * block's execution overlap the next blocks' checks.
 *
 * A valid signature is cached in its transaction (sig_checked), so validate
 * does not verify it again; an invalid one stays unchecked and validate
 * refuses its block as it would anyway: nothing here decides validity. A
 * chunk is checked by chain_tx_check_sigs (chain/types/tx_sigs.h): one
 * batch, and one by one only when the batch fails. */
#include <stdlib.h>

#include "chain/types/tx_sigs.h"
#include "rollup/derive_internal.h"

/* Transactions per claim: about 7 ms of checks, so the first block starts
 * early and the threads finish together, while claiming costs nothing. */
#define SIG_CHUNK 128
#define SIG_WORKERS_MAX 16

struct derive_sigs {
    chain_block *blocks;
    size_t n;
    const uint8_t *gh;
    size_t b_next, t_next; /* the next unclaimed transaction: block, index */
    size_t *left;          /* per block: transactions not checked yet */
    int stop;
    uv_mutex_t mu;
    uv_cond_t done; /* a block's last chunk was checked */
    uv_thread_t th[SIG_WORKERS_MAX];
    int nth;
    chain_sig_cache *loop_keys;
    uint64_t worker_ns, loop_ns;
    size_t loop_txs, worker_txs;
};

/* Claims, checks and accounts for one chunk (within one block), mu held on
 * entry and exit. 0 when nothing is left to claim. */
static int check_chunk(derive_sigs *s, chain_sig_cache *cache, int on_loop)
{
    while (s->b_next < s->n && s->t_next >= s->blocks[s->b_next].ntx) {
        s->b_next++;
        s->t_next = 0;
    }
    if (s->stop || s->b_next >= s->n) return 0;
    size_t b = s->b_next, lo = s->t_next, ntx = s->blocks[b].ntx;
    size_t hi = ntx - lo > SIG_CHUNK ? lo + SIG_CHUNK : ntx;
    s->t_next = hi;
    uv_mutex_unlock(&s->mu);
    uint64_t t0 = uv_hrtime();
    chain_tx *txs[SIG_CHUNK];
    for (size_t i = lo; i < hi; i++)
        txs[i - lo] = &s->blocks[b].txs[i];
    /* The valid ones are flagged; validate judges the others. */
    chain_tx_check_sigs(txs, hi - lo, s->gh, cache);
    uint64_t ns = uv_hrtime() - t0;
    uv_mutex_lock(&s->mu);
    if (on_loop) {
        s->loop_ns += ns;
        s->loop_txs += hi - lo;
    } else {
        s->worker_ns += ns;
        s->worker_txs += hi - lo;
    }
    s->left[b] -= hi - lo;
    if (s->left[b] == 0) uv_cond_broadcast(&s->done);
    return 1;
}

static void worker(void *arg)
{
    derive_sigs *s = arg;
    chain_sig_cache *cache = chain_sig_cache_new(); /* none: one by one */
    uv_mutex_lock(&s->mu);
    while (check_chunk(s, cache, 0)) {
    }
    uv_mutex_unlock(&s->mu);
    chain_sig_cache_free(cache);
}

derive_sigs *derive_sigs_start(chain_block *blocks, size_t n, const uint8_t genesis_hash[32],
                               int workers)
{
    derive_sigs *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->blocks = blocks;
    s->n = n;
    s->gh = genesis_hash;
    s->left = calloc(n ? n : 1, sizeof *s->left);
    if (!s->left || uv_mutex_init(&s->mu)) {
        free(s->left);
        free(s);
        return NULL;
    }
    if (uv_cond_init(&s->done)) {
        uv_mutex_destroy(&s->mu);
        free(s->left);
        free(s);
        return NULL;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += s->left[i] = blocks[i].ntx;
    s->loop_keys = chain_sig_cache_new();
    /* A batch with fewer transactions than a chunk or two is checked on the
     * loop: a thread would cost more than it saves. */
    if (workers > SIG_WORKERS_MAX) workers = SIG_WORKERS_MAX;
    if (total <= SIG_CHUNK) workers = 0;
    for (int i = 0; i < workers; i++)
        if (uv_thread_create(&s->th[s->nth], worker, s) == 0) s->nth++;
    return s;
}

void derive_sigs_wait(derive_sigs *s, size_t i)
{
    if (!s || i >= s->n) return;
    uv_mutex_lock(&s->mu);
    while (s->left[i] > 0)
        if (!check_chunk(s, s->loop_keys, 1)) uv_cond_wait(&s->done, &s->mu);
    uv_mutex_unlock(&s->mu);
}

void derive_sigs_end(derive_sigs *s, derive_sigs_stats *st)
{
    if (!s) return;
    uv_mutex_lock(&s->mu);
    s->stop = 1; /* what is unclaimed is left to validate */
    uv_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nth; i++)
        uv_thread_join(&s->th[i]);
    if (st) {
        st->workers = s->nth;
        st->loop_txs = s->loop_txs;
        st->worker_txs = s->worker_txs;
        st->loop_ns = s->loop_ns;
        st->worker_ns = s->worker_ns;
    }
    uv_cond_destroy(&s->done);
    uv_mutex_destroy(&s->mu);
    chain_sig_cache_free(s->loop_keys);
    free(s->left);
    free(s);
}

int derive_sigs_workers(void)
{
    /* One thread per core but one: the loop thread executes the blocks and
     * checks chunks while it waits. */
    unsigned c = uv_available_parallelism();
    if (c <= 1) return 0;
    return c - 1 > SIG_WORKERS_MAX ? SIG_WORKERS_MAX : (int)c - 1;
}
