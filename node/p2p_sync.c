/* Block sync on the node (node/p2p.h): serving GET_BLOCKS from the store,
 * receiving BLOCKS for the scheduler (p2p/sync.h), checking the popped
 * ranges' transaction signatures on the libuv pool in chunks, and
 * validating and applying each block, in order, through the block executor
 * (exactly as import-blocks does, node/blockio.c) as soon as its own
 * signatures are checked, while later blocks' checks go on; and logging
 * progress. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/types/tx_sigs.h"
#include "chain/exec/blockexec.h"
#include "node/node_internal.h"
#include "node/p2p.h"
#include "util/env.h"
#include "util/hex.h"
#include "util/log.h"

#define PROGRESS_EVERY_MS 2000
#define SYNC_LAG 2 /* blocks behind the target that count as syncing */
/* A BLOCKS answer stops before this many bytes (it always holds at least
 * one block): with two requests in flight per peer, the answers stay well
 * inside the net's 32 MiB send queue, past which the asker would be dropped
 * as a slow peer. */
#define SERVE_MAX (8u << 20)
/* Transactions per pool job: small enough that the first block of a range
 * starts executing early and the cores stay busy to the end, large enough
 * that queueing costs nothing (~15 ms of checks). */
#define SIG_CHUNK NODE_SYNC_SIG_CHUNK
#define SIG_WORKERS_MAX 16

/* CPU time of the calling thread, for the debug log's accounting only. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(const node_p2p *np)
{
    return util_env_mono_ns(np->n->cfg.env) / 1000000u;
}

/* ---- serving ---- */

int node_p2p_on_get_blocks(node_p2p *np, node_peer *pp, const uint8_t *payload, size_t len,
                           util_err *err)
{
    node *n = np->n;
    p2p_get_blocks m;
    int rc = p2p_get_blocks_decode(&m, payload, len, err);
    if (rc) return rc;
    p2p_block_item items[P2P_GET_BLOCKS_MAX_COUNT];
    uint8_t *blocks[P2P_GET_BLOCKS_MAX_COUNT];
    util_buf commits[P2P_GET_BLOCKS_MAX_COUNT];
    size_t k = 0, total = 0;
    node_lock(n);
    uint64_t head = chain_store_height(n->store);
    for (uint64_t h = m.from; h >= 1 && h <= head && k < m.count; h++) {
        uint8_t id[32];
        chain_commit c;
        size_t blen;
        util_err lerr = {0};
        if (chain_store_block_id_at(n->store, h, id, &lerr) ||
            chain_store_get_commit(n->store, h, &c, &lerr) ||
            chain_store_get_block_bytes(n->store, id, &blocks[k], &blen, &lerr)) {
            LOG_WARN("p2p", "serving block %llu: %s", (unsigned long long)h, lerr.msg);
            break;
        }
        util_buf_init(&commits[k]);
        if (chain_commit_encode(&c, &commits[k]) || commits[k].oom) {
            free(blocks[k]);
            util_buf_free(&commits[k]);
            break;
        }
        size_t add = blen + commits[k].len + 32;
        if (k > 0 && total + add > SERVE_MAX) {
            free(blocks[k]);
            util_buf_free(&commits[k]);
            break; /* the rest in the next request */
        }
        total += add;
        items[k].block = (p2p_bytes){blocks[k], blen};
        items[k].commit = (p2p_bytes){commits[k].data, commits[k].len};
        k++;
    }
    node_unlock(n);
    util_buf out;
    util_buf_init(&out);
    size_t send = k;
    while ((rc = p2p_blocks_encode(m.from, items, send, &out, err)) == UTIL_ELIMIT && send > 1) {
        util_buf_reset(&out);
        send /= 2;
    }
    if (rc == 0) {
        np->ranges_served++;
        if (p2p_net_send(pp->p, P2P_MSG_BLOCKS, out.data, out.len, err)) {
            /* the net dropped a slow peer */
        }
    }
    util_buf_free(&out);
    for (size_t i = 0; i < k; i++) {
        free(blocks[i]);
        util_buf_free(&commits[i]);
    }
    return rc == UTIL_EINVAL ? UTIL_ESTATE : 0; /* our own encoding failing is not the peer's */
}

/* ---- receiving ---- */

void node_p2p_range_free(void *user)
{
    node_range *r = user;
    if (!r) return;
    for (uint32_t i = 0; i < r->n; i++)
        if (r->blocks) chain_block_free(&r->blocks[i]);
    free(r->blocks);
    free(r->commits);
    free(r->tx_at);
    free(r->pending);
    free(r);
}

static int decode_range(node_range *r, const p2p_blocks *m, util_err *err)
{
    r->blocks = calloc(m->n ? m->n : 1, sizeof *r->blocks);
    r->commits = calloc(m->n ? m->n : 1, sizeof *r->commits);
    r->tx_at = calloc(m->n + 1, sizeof *r->tx_at);
    r->pending = calloc(m->n ? m->n : 1, sizeof *r->pending);
    if (!r->blocks || !r->commits || !r->tx_at || !r->pending)
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        util_err e = {0};
        if (chain_block_decode(&r->blocks[i], m->items[i].block.p, m->items[i].block.n, &e))
            return util_err_set(err, UTIL_EINVAL, "bad_block: block %llu: %s",
                                (unsigned long long)(m->from + i), e.msg);
        r->n = (uint32_t)(i + 1);
        if (r->blocks[i].h.height != m->from + i)
            return util_err_set(err, UTIL_EINVAL, "bad_block: height %llu where %llu was due",
                                (unsigned long long)r->blocks[i].h.height,
                                (unsigned long long)(m->from + i));
        util_rd rd;
        util_rd_init(&rd, m->items[i].commit.p, m->items[i].commit.n);
        if (chain_commit_read(&r->commits[i], &rd, &e) || rd.pos != rd.len)
            return util_err_set(err, UTIL_EINVAL, "bad_block: commit of block %llu: %s",
                                (unsigned long long)(m->from + i),
                                e.msg[0] ? e.msg : "trailing bytes");
        size_t ntx = r->blocks[i].ntx;
        r->tx_at[i + 1] = r->tx_at[i] + ntx;
        /* The chunks (SIG_CHUNK-aligned in the range) touching block i. */
        if (ntx)
            r->pending[i] =
                (uint32_t)((r->tx_at[i + 1] - 1) / SIG_CHUNK - r->tx_at[i] / SIG_CHUNK + 1);
    }
    return 0;
}

int node_p2p_on_blocks(node_p2p *np, node_peer *pp, const uint8_t *payload, size_t len,
                       util_err *err)
{
    p2p_blocks m;
    int rc = p2p_blocks_decode(&m, payload, len, err);
    if (rc) return rc;
    node_range *r = calloc(1, sizeof *r);
    if (!r) {
        p2p_blocks_free(&m);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    r->np = np;
    r->peer = pp->token;
    r->from = m.from;
    rc = decode_range(r, &m, err);
    uint32_t n = (uint32_t)m.n;
    p2p_blocks_free(&m);
    if (rc) {
        node_p2p_range_free(r);
        return rc;
    }
    int v = p2p_sync_on_blocks(np->sync, pp->token, r->from, n, r, err);
    if (v != P2P_SYNC_ACCEPTED) node_p2p_range_free(r);
    if (v == P2P_SYNC_BAN) {
        np->sync_bans++;
        return UTIL_EINVAL; /* err says why; the net bans */
    }
    node_p2p_sync_pump(np);
    return 0;
}

/* ---- applying ---- */

/* The block holding flattened transaction `at` (blocks without any hold
 * none). */
static uint32_t block_of(const node_range *r, size_t at)
{
    uint32_t lo = 0, hi = r->n; /* tx_at[lo] <= at < tx_at[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->tx_at[mid] <= at)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Checks the signatures of flattened transactions [lo, hi) of r (at most
 * SIG_CHUNK) with chain_tx_check_sigs: the flags set are exactly
 * libsecp256k1's verdicts. */
void node_sync_check_txs(node_range *r, size_t lo, size_t hi, const uint8_t gh[32],
                         chain_sig_cache *cache)
{
    chain_tx *txs[SIG_CHUNK];
    size_t n = 0;
    uint32_t b = block_of(r, lo);
    for (size_t at = lo; at < hi && n < SIG_CHUNK; at++) {
        while (at >= r->tx_at[b + 1])
            b++;
        txs[n++] = &r->blocks[b].txs[at - r->tx_at[b]];
    }
    /* The valid ones are flagged; validate judges the others. */
    chain_tx_check_sigs(txs, n, gh, cache);
}

/* A pool worker: claims chunks of the pipeline's ranges, earliest heights
 * first, and checks their signatures until none is left. It takes the next
 * chunk itself rather than wait for the loop, which may be executing a
 * large block meanwhile. The flag each check sets lets validate skip it; a
 * bad one stays unset and validate refuses the block. A block whose last
 * chunk is done wakes the loop to apply it. */
/* Claims, checks and releases one chunk, sig_lock held on entry and exit.
 * 0 when no chunk is left to claim. */
static int check_chunk(node_p2p *np, chain_sig_cache *cache, int wake)
{
    node_range *r = NULL;
    for (size_t i = 0; i < np->npipe && !r; i++)
        if (np->pipe[i]->next_tx < np->pipe[i]->tx_at[np->pipe[i]->n]) r = np->pipe[i];
    if (!r || np->sig_stop) return 0;
    const uint8_t *gh = np->n->genesis.hash;
    size_t lo = r->next_tx, total = r->tx_at[r->n];
    size_t hi = total - lo > SIG_CHUNK ? lo + SIG_CHUNK : total;
    r->next_tx = hi;
    r->inflight++;
    uv_mutex_unlock(&np->sig_lock);
    uint64_t c0 = thread_cpu_ns();
    node_sync_check_txs(r, lo, hi, gh, cache);
    uint64_t c1 = thread_cpu_ns();
    uv_mutex_lock(&np->sig_lock);
    np->sig_cpu_ns[!wake] += c1 - c0;
    np->sig_checks[!wake] += hi - lo;
    int ready = 0;
    for (uint32_t b = block_of(r, lo); b < r->n && r->tx_at[b] < hi; b++)
        if (r->tx_at[b + 1] > r->tx_at[b]) ready |= --r->pending[b] == 0;
    r->inflight--;
    if (r->next_tx == total && r->inflight == 0) r->checked_ns = util_env_mono_ns(np->n->cfg.env);
    if (wake && ready && !np->sig_stop) uv_async_send(&np->wake);
    return 1;
}

static void sig_work(uv_work_t *w)
{
    node_p2p *np = w->data;
    chain_sig_cache *cache = chain_sig_cache_new(); /* none: one by one */
    uv_mutex_lock(&np->sig_lock);
    while (check_chunk(np, cache, 1)) {
    }
    uv_mutex_unlock(&np->sig_lock);
    chain_sig_cache_free(cache);
}

/* The loop, waiting for the next block's signatures, checks one chunk
 * itself (then serves I/O and comes back): with one worker per core but
 * one, the loop thread and the workers never contend for the cores, and no
 * core idles while the loop waits. 1 when it checked a chunk. */
static int help(node_p2p *np)
{
    if (!np->loop_keys) np->loop_keys = chain_sig_cache_new();
    uv_mutex_lock(&np->sig_lock);
    int did = check_chunk(np, np->loop_keys, 0);
    uv_mutex_unlock(&np->sig_lock);
    return did;
}

/* Frees the ranges out of the pipeline that no worker checks any more. */
static void bury(node_p2p *np)
{
    node_range *free_list = NULL;
    uv_mutex_lock(&np->sig_lock);
    for (node_range **pr = &np->graves; *pr;) {
        node_range *r = *pr;
        if (r->inflight == 0) {
            *pr = r->grave_next;
            r->grave_next = free_list;
            free_list = r;
        } else
            pr = &r->grave_next;
    }
    uv_mutex_unlock(&np->sig_lock);
    while (free_list) {
        node_range *r = free_list;
        free_list = r->grave_next;
        node_p2p_range_free(r);
    }
}

static void sig_done(uv_work_t *w, int status)
{
    (void)status;
    node_p2p *np = w->data;
    free(w);
    np->sig_workers--;
    bury(np);
    if (!np->stopping) node_p2p_sync_pump(np);
}

/* Starts workers while the pipeline has unclaimed chunks, one per core but
 * one (at least one): the loop thread executes the checked blocks, and
 * checks chunks itself while it waits (help). */
static void feed(node_p2p *np)
{
    if (!np->sig_max) {
        unsigned c = uv_available_parallelism();
        np->sig_max = c <= 2 ? 1 : c - 1 > SIG_WORKERS_MAX ? SIG_WORKERS_MAX : (int)c - 1;
    }
    while (np->sig_workers < np->sig_max) {
        int work = 0;
        uv_mutex_lock(&np->sig_lock);
        for (size_t i = 0; i < np->npipe && !work; i++)
            work = np->pipe[i]->next_tx < np->pipe[i]->tx_at[np->pipe[i]->n];
        uv_mutex_unlock(&np->sig_lock);
        if (!work) return;
        uv_work_t *w = malloc(sizeof *w);
        if (!w) return; /* the next pump tries again */
        w->data = np;
        if (uv_queue_work(&np->n->loop, w, sig_work, sig_done)) {
            sig_work(w); /* no pool: this thread checks them all */
            free(w);
            return;
        }
        np->sig_workers++;
    }
}

/* Validates and applies block i of r. Returns 1 when it was bad (the peer
 * is banned), -1 on a local failure (the node stops), else 0. */
static int apply_block(node_p2p *np, node_range *r, uint32_t i)
{
    node *n = np->n;
    chain_blockexec bx = {.g = &n->genesis, .st = n->store};
    util_err err = {0};
    int bad = 0, fatal = 0;
    chain_block *b = &r->blocks[i];
    node_lock(n);
    uint64_t head = chain_store_height(n->store);
    if (b->h.height <= head) {
        uint8_t have[32], id[32];
        chain_header_hash(&b->h, id);
        if (chain_store_block_id_at(n->store, b->h.height, have, &err)) {
            fatal = 1;
        } else if (memcmp(have, id, 32) != 0) {
            bad = 1;
            util_err_set(&err, UTIL_EINVAL, "wrong_block: block %llu differs from ours",
                         (unsigned long long)b->h.height);
        }
    } else {
        const util_env *env = n->cfg.env;
        uint64_t t0 = util_env_mono_ns(env), wb0 = chain_store_write_bytes(n->store),
                 c0 = thread_cpu_ns();
        chain_block_result res;
        int reason,
            rc = chain_blockexec_validate(&bx, b, util_env_wall_ms(env), &res, &reason, &err);
        uint64_t t1 = util_env_mono_ns(env), c1 = thread_cpu_ns();
        if (rc == 0) rc = chain_blockexec_apply(&bx, b, &res, &r->commits[i], &reason, &err);
        if (rc == 0) {
            uint64_t t2 = util_env_mono_ns(env), c2 = thread_cpu_ns();
            chain_mempool_on_block(n->mempool, b);
            node_block_committed(n, b, res.id, res.rs, t1 - t0, t2 - t1);
            LOG_DEBUG("sync",
                      "block %llu: %zu txs, validate %.1f ms (CPU %.1f), apply %.1f ms (CPU "
                      "%.1f), %.1f MB written",
                      (unsigned long long)b->h.height, b->ntx, (double)(t1 - t0) / 1e6,
                      (double)(c1 - c0) / 1e6, (double)(t2 - t1) / 1e6, (double)(c2 - c1) / 1e6,
                      (double)(chain_store_write_bytes(n->store) - wb0) / 1e6);
            np->blocks_synced++;
        } else if (rc == UTIL_EINVAL)
            bad = 1;
        else
            fatal = 1;
        chain_block_result_free(&res);
    }
    uint64_t height = chain_store_height(n->store);
    node_unlock(n);
    p2p_sync_applied(np->sync, height);
    if (fatal) {
        /* Storage refusing writes: the store stays at its last block, and
         * going on would only fail again (as block production does). */
        LOG_ERROR("p2p", "applying synced blocks failed: %s; stopping", err.msg);
        uv_stop(&n->loop);
        return -1;
    }
    if (bad) {
        node_peer *pp = node_p2p_find(np, r->peer);
        char id[2 * P2P_NODE_ID_LEN + 1] = "(gone)";
        if (pp) p2p_node_id_hex(p2p_peer_get_info(pp->p)->id, id);
        LOG_WARN("p2p", "block %llu from peer %s refused: %s; banning the peer",
                 (unsigned long long)b->h.height, id, err.msg);
        np->sync_bans++;
        if (pp) p2p_net_ban(pp->p, err.msg);
        return 1;
    }
    return 0;
}

/* Takes the first range out of the pipeline; a worker still checking a
 * chunk of it leaves it in the graves until bury. */
static void pipe_shift(node_p2p *np)
{
    uv_mutex_lock(&np->sig_lock);
    node_range *r = np->pipe[0];
    memmove(np->pipe, np->pipe + 1, (np->npipe - 1) * sizeof *np->pipe);
    np->npipe--;
    int busy = r->inflight > 0;
    if (busy) {
        r->grave_next = np->graves;
        np->graves = r;
    }
    uv_mutex_unlock(&np->sig_lock);
    if (!busy) node_p2p_range_free(r);
}

/* Applies the checked blocks at the head of the pipeline, in order. A bad
 * block drops every range of the pipeline (their heights are asked again).
 * Called from the pump only, so a ban's peer_down cannot re-enter it. */
static void drain(node_p2p *np)
{
    const util_env *env = np->n->cfg.env;
    while (np->npipe && !np->stopping) {
        node_range *r = np->pipe[0];
        if (r->next < r->n) {
            uv_mutex_lock(&np->sig_lock);
            uint32_t pending = r->pending[r->next];
            uv_mutex_unlock(&np->sig_lock);
            if (pending > 0) {
                /* Checks under way: a worker wakes the loop when the block is
                 * ready; meanwhile the loop checks a chunk and comes back. */
                if (help(np)) uv_async_send(&np->wake);
                return;
            }
            uint64_t t0 = util_env_mono_ns(env), c0 = thread_cpu_ns();
            int rc = apply_block(np, r, r->next++);
            r->exec_ns += util_env_mono_ns(env) - t0;
            np->exec_cpu_ns += thread_cpu_ns() - c0;
            if (rc == 1) {
                while (np->npipe)
                    pipe_shift(np);
                p2p_sync_abandon(np->sync);
                return;
            }
            if (rc < 0) return; /* stopping */
            continue;
        }
        uv_mutex_lock(&np->sig_lock);
        uint64_t checked = r->checked_ns;
        uv_mutex_unlock(&np->sig_lock);
        LOG_DEBUG("sync",
                  "blocks %llu..%llu: %zu txs, signatures checked %.1f ms after popping, "
                  "validate+apply %.1f ms, done %.1f ms after popping",
                  (unsigned long long)r->from, (unsigned long long)(r->from + r->n - 1),
                  r->tx_at[r->n], (double)(checked - r->queued_ns) / 1e6, (double)r->exec_ns / 1e6,
                  (double)(util_env_mono_ns(env) - r->queued_ns) / 1e6);
        pipe_shift(np);
    }
}

/* Enters a popped range into the pipeline, where workers claim its chunks. */
static void start_verify(node_p2p *np, node_range *r)
{
    r->queued_ns = util_env_mono_ns(np->n->cfg.env);
    r->checked_ns = r->queued_ns;
    uv_mutex_lock(&np->sig_lock);
    np->pipe[np->npipe++] = r;
    uv_mutex_unlock(&np->sig_lock);
}

static void log_progress(node_p2p *np, uint64_t now)
{
    uint64_t h = p2p_sync_height(np->sync), t = p2p_sync_target(np->sync);
    int behind = p2p_sync_behind(np->sync, SYNC_LAG);
    if (behind && !np->was_syncing) {
        np->was_syncing = 1;
        np->progress_ms = np->progress_start_ms = now;
        np->progress_height = np->progress_start_height = h;
        LOG_INFO("sync", "height %llu, peers report %llu: syncing", (unsigned long long)h,
                 (unsigned long long)t);
        return;
    }
    if (!behind && np->was_syncing) {
        np->was_syncing = 0;
        uint64_t ms = now - np->progress_start_ms, blocks = h - np->progress_start_height;
        LOG_INFO("sync",
                 "caught up at height %llu: %llu blocks in %.1f s (%.0f blocks/s); "
                 "following the head",
                 (unsigned long long)h, (unsigned long long)blocks, (double)ms / 1000.0,
                 ms ? (double)blocks * 1000.0 / (double)ms : 0.0);
        uv_mutex_lock(&np->sig_lock);
        uint64_t checks[2], sig_ns[2];
        for (int i = 0; i < 2; i++) {
            checks[i] = np->sig_checks[i];
            sig_ns[i] = np->sig_cpu_ns[i];
            np->sig_checks[i] = np->sig_cpu_ns[i] = 0;
        }
        uv_mutex_unlock(&np->sig_lock);
        LOG_DEBUG("sync",
                  "thread CPU: %llu signature checks on the pool in %.2f s (%.1f us each), "
                  "%llu on the loop in %.2f s (%.1f us each); blocks validated and applied "
                  "in %.2f s",
                  (unsigned long long)checks[0], (double)sig_ns[0] / 1e9,
                  checks[0] ? (double)sig_ns[0] / 1e3 / (double)checks[0] : 0.0,
                  (unsigned long long)checks[1], (double)sig_ns[1] / 1e9,
                  checks[1] ? (double)sig_ns[1] / 1e3 / (double)checks[1] : 0.0,
                  (double)np->exec_cpu_ns / 1e9);
        np->exec_cpu_ns = 0;
        return;
    }
    if (!behind || now - np->progress_ms < PROGRESS_EVERY_MS) return;
    double rate = (double)(h - np->progress_height) * 1000.0 / (double)(now - np->progress_ms);
    char eta[32] = "unknown";
    if (rate > 0) snprintf(eta, sizeof eta, "%.0f s", (double)(t - h) / rate);
    LOG_INFO("sync", "height %llu/%llu (%.1f%%), %.0f blocks/s, ETA %s, %zu requests in flight",
             (unsigned long long)h, (unsigned long long)t,
             t ? 100.0 * (double)h / (double)t : 100.0, rate, eta, p2p_sync_in_flight(np->sync));
    np->progress_ms = now;
    np->progress_height = h;
}

void node_p2p_sync_pump(node_p2p *np)
{
    /* Banning inside the pump calls peer_down, which pumps. */
    if (np->stopping || np->pumping) return;
    np->pumping = 1;
    drain(np);
    uint64_t now = now_ms(np), token, from;
    util_err err = {0};
    while (p2p_sync_expired(np->sync, now, &token, &err)) {
        node_peer *pp = node_p2p_find(np, token);
        np->sync_bans++;
        if (!pp) continue;
        char id[2 * P2P_NODE_ID_LEN + 1];
        p2p_node_id_hex(p2p_peer_get_info(pp->p)->id, id);
        LOG_WARN("p2p", "peer %s: %s; banning it", id, err.msg);
        p2p_net_ban(pp->p, err.msg);
    }
    uint32_t count;
    util_buf b;
    util_buf_init(&b);
    while (p2p_sync_next_request(np->sync, now, &token, &from, &count)) {
        node_peer *pp = node_p2p_find(np, token);
        if (!pp) {
            p2p_sync_peer_remove(np->sync, token);
            continue;
        }
        p2p_get_blocks m = {.from = from, .count = count};
        util_buf_reset(&b);
        if (p2p_get_blocks_encode(&m, &b, &err) == 0 &&
            p2p_net_send(pp->p, P2P_MSG_GET_BLOCKS, b.data, b.len, &err)) {
            /* dropped as slow: its request times out or goes with it */
        }
    }
    util_buf_free(&b);
    uint64_t peer;
    uint32_t n;
    void *user;
    while (np->npipe < NODE_P2P_PIPELINE && p2p_sync_pop_ready(np->sync, &peer, &from, &n, &user)) {
        start_verify(np, user);
    }
    feed(np);
    if (np->npipe && !np->stopping) {
        node_range *r = np->pipe[0];
        uv_mutex_lock(&np->sig_lock);
        int ready = r->next == r->n || r->pending[r->next] == 0;
        uv_mutex_unlock(&np->sig_lock);
        if (ready) uv_async_send(&np->wake); /* checked without the pool: drain next turn */
    }
    log_progress(np, now);
    np->pumping = 0;
}
