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
 * chunk is first checked as one batch (chain/crypto/schnorr_batch.h), and
 * one by one only when the batch fails. */
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/keys.h"
#include "chain/crypto/schnorr_batch.h"
#include "rollup/derive_internal.h"

/* Transactions per claim: about 7 ms of checks, so the first block starts
 * early and the threads finish together, while claiming costs nothing. */
#define SIG_CHUNK 128
#define SIG_WORKERS_MAX 16
/* Parsed sender keys per thread, direct-mapped: a chain's senders recur,
 * and parsing an x-only key is about a tenth of a check. Sized so that a
 * few thousand active senders mostly keep their own slot (a collision, even
 * a chosen one, only costs a parse). */
#define KEY_CACHE 8192

typedef struct key_slot {
    uint8_t raw[32];
    int state;  /* 0 empty, 1 parsed, -1 not a key */
    int lifted; /* bpk filled (only when state == 1) */
    chain_xonly pk;
    chain_bpk bpk;
} key_slot;

/* The cache slot of sender s, (re)filled with its parse. */
static key_slot *key_of(key_slot *cache, const uint8_t *s)
{
    key_slot *k = &cache[(s[0] | (unsigned)s[1] << 8 | (unsigned)s[2] << 16) % KEY_CACHE];
    if (k->state == 0 || memcmp(k->raw, s, 32) != 0) {
        memcpy(k->raw, s, 32);
        k->state = chain_xonly_parse(&k->pk, s) ? 1 : -1;
        k->lifted = 0;
    }
    return k;
}

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
    key_slot *loop_keys;
    uint64_t worker_ns, loop_ns;
    size_t loop_txs, worker_txs;
};

/* chain_tx_check_sig's verdict and flag, with the sender's key from the
 * cache (none: parsed each time). */
static void check_one(chain_tx *tx, const uint8_t gh[32], key_slot *cache)
{
    if (!cache) {
        /* Sets the flag when valid; an invalid one is left unchecked. */
        int valid = chain_tx_check_sig(tx, gh);
        (void)valid;
        return;
    }
    uint8_t msg[32];
    if (tx->sig_checked == 1) return;
    if (chain_tx_sighash(tx, gh, msg)) return;
    key_slot *k = key_of(cache, tx->sender);
    /* Invalid: left unchecked, validate refuses the block with its reason. */
    if (k->state == 1 && chain_verify_xonly(tx->sig, msg, &k->pk)) tx->sig_checked = 1;
}

/* One chunk's inputs for chain_verify_batch. The keys are copies, not
 * pointers into the cache: two senders of one chunk may share a slot, and a
 * pointer would then pair a signature with the other sender's key. */
typedef struct sig_batch {
    chain_tx *tx[SIG_CHUNK];
    const uint8_t *sig[SIG_CHUNK], *msg[SIG_CHUNK];
    const chain_bpk *pk[SIG_CHUNK];
    const chain_xonly *xo[SIG_CHUNK];
    uint8_t msgs[SIG_CHUNK][32];
    chain_bpk keys[SIG_CHUNK];
    chain_xonly xos[SIG_CHUNK];
    uint8_t ok[SIG_CHUNK];
} sig_batch;

/* Checks txs[0..n) (n <= SIG_CHUNK): those with a cached key through
 * chain_verify_many (one batch verification, about a third of the cost of
 * single ones, and single ones only when it fails), the others with
 * check_one; the flags set are exactly libsecp256k1's verdicts either way. */
static void check_txs(chain_tx *txs, size_t n, const uint8_t gh[32], key_slot *cache)
{
    sig_batch *sb = cache ? malloc(sizeof *sb) : NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        chain_tx *tx = &txs[i];
        if (tx->sig_checked == 1) continue;
        key_slot *k = sb ? key_of(cache, tx->sender) : NULL;
        if (k && k->state == 1 && !k->lifted) k->lifted = chain_bpk_lift(&k->bpk, tx->sender);
        if (!k || k->state != 1 || !k->lifted || m == SIG_CHUNK ||
            chain_tx_sighash(tx, gh, sb->msgs[m])) {
            check_one(tx, gh, cache); /* not batchable: its own verdict */
            continue;
        }
        sb->keys[m] = k->bpk;
        sb->tx[m] = tx;
        sb->sig[m] = tx->sig;
        sb->msg[m] = sb->msgs[m];
        sb->pk[m] = &sb->keys[m];
        sb->xos[m] = k->pk;
        sb->xo[m] = &sb->xos[m];
        m++;
    }
    if (m > 0) {
        /* The batch, or each one again when it fails: libsecp256k1's
         * verdicts either way. */
        chain_verify_many(sb->sig, sb->msg, sb->pk, sb->xo, m, sb->ok);
        for (size_t i = 0; i < m; i++)
            if (sb->ok[i]) sb->tx[i]->sig_checked = 1;
    }
    free(sb);
}

/* Claims, checks and accounts for one chunk (within one block), mu held on
 * entry and exit. 0 when nothing is left to claim. */
static int check_chunk(derive_sigs *s, key_slot *cache, int on_loop)
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
    check_txs(s->blocks[b].txs + lo, hi - lo, s->gh, cache);
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
    key_slot *cache = calloc(KEY_CACHE, sizeof *cache);
    uv_mutex_lock(&s->mu);
    while (check_chunk(s, cache, 0)) {
    }
    uv_mutex_unlock(&s->mu);
    free(cache);
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
    s->loop_keys = calloc(KEY_CACHE, sizeof *s->loop_keys);
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
    free(s->loop_keys);
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
