/* Block sync on the node (node/p2p.h): serving GET_BLOCKS from the store,
 * receiving BLOCKS for the scheduler (p2p/sync.h), checking a range's
 * transaction signatures on the libuv pool, then validating and applying
 * its blocks in order through the block executor, exactly as import-blocks
 * does (node/blockio.c), and logging progress. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#define SIGS_PER_SLICE 64 /* below this, one thread checks a range */

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
    free(r);
}

static int decode_range(node_range *r, const p2p_blocks *m, util_err *err)
{
    r->blocks = calloc(m->n ? m->n : 1, sizeof *r->blocks);
    r->commits = calloc(m->n ? m->n : 1, sizeof *r->commits);
    if (!r->blocks || !r->commits) return util_err_set(err, UTIL_ENOMEM, "out of memory");
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

/* Signatures of one slice of the range's transactions, on a pool thread:
 * the flag each check sets lets validate skip it; a bad one stays unset
 * and validate refuses the block. */
static void sig_work(uv_work_t *w)
{
    node_range *r = w->data;
    size_t slice = (size_t)(w - r->work);
    size_t lo = r->slice_from[slice], hi = r->slice_from[slice + 1], at = 0;
    const uint8_t *gh = r->np->n->genesis.hash;
    for (uint32_t b = 0; b < r->n && at < hi; b++) {
        chain_block *blk = &r->blocks[b];
        for (size_t t = 0; t < blk->ntx; t++, at++)
            if (at >= lo && at < hi && chain_tx_check_sig(&blk->txs[t], gh)) {
                /* valid: cached in sig_checked */
            }
    }
}

/* Returns 1 when a block was bad (the peer is banned), -1 on a local
 * failure (the node stops), else 0. */
static int apply_range(node_p2p *np, node_range *r)
{
    node *n = np->n;
    chain_blockexec bx = {.g = &n->genesis, .st = n->store};
    util_err err = {0};
    int bad = 0, fatal = 0;
    uint64_t bad_height = 0;
    node_lock(n);
    for (uint32_t i = 0; i < r->n && !bad && !fatal; i++) {
        chain_block *b = &r->blocks[i];
        uint64_t head = chain_store_height(n->store);
        if (b->h.height <= head) {
            uint8_t have[32], id[32];
            chain_header_hash(&b->h, id);
            if (chain_store_block_id_at(n->store, b->h.height, have, &err)) {
                fatal = 1;
            } else if (memcmp(have, id, 32) != 0) {
                bad = 1;
                bad_height = b->h.height;
                util_err_set(&err, UTIL_EINVAL, "wrong_block: block %llu differs from ours",
                             (unsigned long long)b->h.height);
            }
            continue;
        }
        const util_env *env = n->cfg.env;
        uint64_t t0 = util_env_mono_ns(env);
        chain_block_result res;
        int reason,
            rc = chain_blockexec_validate(&bx, b, util_env_wall_ms(env), &res, &reason, &err);
        uint64_t t1 = util_env_mono_ns(env);
        if (rc == 0) rc = chain_blockexec_apply(&bx, b, &res, &r->commits[i], &reason, &err);
        if (rc == 0) {
            uint64_t t2 = util_env_mono_ns(env);
            chain_mempool_on_block(n->mempool, b);
            node_block_committed(n, b, res.id, res.rs, t1 - t0, t2 - t1);
            np->blocks_synced++;
        } else if (rc == UTIL_EINVAL) {
            bad = 1;
            bad_height = b->h.height;
        } else
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
                 (unsigned long long)bad_height, id, err.msg);
        np->sync_bans++;
        if (pp) p2p_net_ban(pp->p, err.msg);
        return 1;
    }
    return 0;
}

/* Applies the verified ranges at the head of the pipeline, in order. A bad
 * block drops the ranges behind it (their heights are asked again). Called
 * from the pump only, so a ban's peer_down cannot re-enter it. */
static void drain(node_p2p *np)
{
    while (np->npipe && np->pipe[0]->verified) {
        node_range *r = np->pipe[0];
        memmove(np->pipe, np->pipe + 1, (np->npipe - 1) * sizeof *np->pipe);
        np->npipe--;
        if (!np->stopping && !r->aborted) {
            uint64_t t0 = util_env_mono_ns(np->n->cfg.env);
            int rc = apply_range(np, r);
            uint64_t t1 = util_env_mono_ns(np->n->cfg.env);
            LOG_DEBUG("sync",
                      "blocks %llu..%llu: %zu txs, signatures %.1f ms, validate+apply "
                      "%.1f ms",
                      (unsigned long long)r->from, (unsigned long long)(r->from + r->n - 1),
                      r->slice_from[NODE_P2P_SIG_SLICES], (double)(t0 - r->queued_ns) / 1e6,
                      (double)(t1 - t0) / 1e6);
            if (rc == 1) {
                for (size_t i = 0; i < np->npipe; i++)
                    np->pipe[i]->aborted = 1;
                p2p_sync_abandon(np->sync);
            }
        }
        node_p2p_range_free(r);
    }
}

static void sig_done(uv_work_t *w, int status)
{
    (void)status;
    node_range *r = w->data;
    if (--r->pending > 0) return;
    r->verified = 1;
    if (!r->np->stopping) node_p2p_sync_pump(r->np);
}

/* Queues the range's signature checks on the pool, in slices. */
static void start_verify(node_p2p *np, node_range *r)
{
    size_t total = 0;
    for (uint32_t i = 0; i < r->n; i++)
        total += r->blocks[i].ntx;
    size_t k = (total + SIGS_PER_SLICE - 1) / SIGS_PER_SLICE;
    if (k > NODE_P2P_SIG_SLICES) k = NODE_P2P_SIG_SLICES;
    if (k == 0) k = 1;
    for (size_t s = 0; s <= k; s++)
        r->slice_from[s] = total * s / k;
    for (size_t s = k + 1; s <= NODE_P2P_SIG_SLICES; s++)
        r->slice_from[s] = total;
    r->queued_ns = util_env_mono_ns(np->n->cfg.env);
    np->pipe[np->npipe++] = r;
    r->pending = (int)k + 1; /* + 1 until every slice is queued */
    for (size_t s = 0; s < k; s++) {
        r->work[s].data = r;
        if (uv_queue_work(&np->n->loop, &r->work[s], sig_work, sig_done)) {
            sig_work(&r->work[s]); /* no pool: this thread checks the slice */
            r->pending--;
        }
    }
    if (--r->pending == 0) r->verified = 1; /* drained by the pump */
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
    while (np->npipe < NODE_P2P_PIPELINE && p2p_sync_pop_ready(np->sync, &peer, &from, &n, &user))
        start_verify(np, user);
    if (np->npipe && np->pipe[0]->verified && !np->stopping)
        uv_async_send(&np->wake); /* verified without the pool: drain next turn */
    log_progress(np, now);
    np->pumping = 0;
}
