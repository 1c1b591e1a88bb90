/* The node's consensus wiring (node/consensus.h): drives the pure engine of
 * consensus/engine.h with the node's loop, network, block executor, WAL and
 * signer state. The algorithm is the engine's; this file only moves its
 * inputs and outputs. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/bridge.h"
#include "node/consensus_int.h"
#include "node/node_internal.h"
#include "node/p2p.h"
#include "util/hex.h"
#include "util/log.h"

/* WAL payloads start with the p2p type of what they hold (proposal: the
 * signed or unsigned proposal then the block; vote), or this for a timeout:
 * height u64 | round u32 | step u8. */
#define WAL_TIMEOUT_TAG 0x7f

static void drain(node_cons *c);

int node_cons_wanted(const node *n)
{
    return n->genesis.nval > 1 && n->has_validator_key && !n->cfg.follower &&
           n->validator_index != UINT32_MAX && !n->producing;
}

/* ---- outputs ---- */

static void on_step_timer(uv_timer_t *t);
static void on_commit_timer(uv_timer_t *t);

static void vote_to_chain(chain_vote *out, const cons_vote *in)
{
    out->type = in->type;
    out->height = in->height;
    out->round = in->round;
    out->validator = in->validator;
    memcpy(out->block_id, in->block_id, 32);
    memcpy(out->sig, in->sig, 64);
}

void node_cons_evidence_to_chain(chain_evidence *out, const cons_evidence *in)
{
    memset(out, 0, sizeof *out);
    vote_to_chain(&out->a, &in->a);
    vote_to_chain(&out->b, &in->b);
}

/* Drops from the pool the evidence a committed block included (this node's
 * commit or block sync's): the store's evidence records say which. */
static void evidence_prune(node_cons *c)
{
    uint32_t lo = c->nevidence > NODE_CONS_EVIDENCE ? c->nevidence - NODE_CONS_EVIDENCE : 0;
    for (uint32_t k = lo; k < c->nevidence; k++) {
        uint32_t i = k % NODE_CONS_EVIDENCE;
        if (c->evidence_in[i]) continue;
        chain_evidence ce;
        uint64_t at = 0;
        util_err err = {0};
        node_cons_evidence_to_chain(&ce, &c->evidence[i]);
        if (chain_store_evidence_included(c->n->store, &ce, &at, &err) == 0 && at)
            c->evidence_in[i] = at;
    }
}

/* The pending evidence, oldest first, at most CHAIN_BLOCK_MAX_EVIDENCE
 * (propose skips what it cannot include). */
static size_t evidence_pending(node_cons *c, chain_evidence *out)
{
    size_t n = 0;
    evidence_prune(c);
    uint32_t lo = c->nevidence > NODE_CONS_EVIDENCE ? c->nevidence - NODE_CONS_EVIDENCE : 0;
    for (uint32_t k = lo; k < c->nevidence && n < CHAIN_BLOCK_MAX_EVIDENCE; k++) {
        uint32_t i = k % NODE_CONS_EVIDENCE;
        if (!c->evidence_in[i]) node_cons_evidence_to_chain(&out[n++], &c->evidence[i]);
    }
    return n;
}

static void on_txwait(uv_timer_t *t);

static void build_done(node_cons *c)
{
    c->build_waiting = 0;
    uv_timer_stop(&c->txwait);
}

/* Answers the engine's BUILD of (build_h, build_r). Unless force, a block
 * without transactions is not proposed: the proposer keeps waiting for one
 * (a new admission tries again) until the txwait timer forces the empty
 * block. The rule only delays the answer; what is proposed is any block
 * chain_blockexec_propose makes. */
static void try_build(node_cons *c, int force)
{
    node *n = c->n;
    util_err err = {0};
    uint8_t id[32] = {0};
    uint64_t h = c->build_h;
    uint32_t r = c->build_r;
    if (c->e->height != h || c->e->round != r || c->e->step != CONS_STEP_PROPOSE) {
        build_done(c); /* the round moved on without our proposal */
        return;
    }
    if (c->replaying) {
        /* The block recorded with our proposal of this round, so the digest
         * is the one the signer state may hold. */
        for (size_t i = 0; i < NODE_CONS_BLOCKS; i++)
            if (c->blks[i].used && c->blks[i].own && c->blks[i].own_round == r)
                memcpy(id, c->blks[i].id, 32);
    }
    if (cons_id_is_nil(id)) {
        chain_blockexec bx = {.g = &n->genesis, .st = n->store};
        chain_addr proposer;
        chain_addr_from_pubkey(&proposer, n->validator.pubkey);
        chain_mempool_expire(n->mempool);
        chain_block b;
        int built = 0;
        chain_evidence evs[CHAIN_BLOCK_MAX_EVIDENCE];
        size_t nev = evidence_pending(c, evs);
        uint64_t t0 = util_env_mono_ns(n->cfg.env);
        chain_tx deps[CHAIN_BLOCK_MAX_DEPOSITS];
        size_t ndeps = 0;
        int rc = node_bridge_deposit_txs(n, deps, CHAIN_BLOCK_MAX_DEPOSITS, &ndeps, &err);
        chain_propose_extra x = {.evs = evs, .nev = nev, .deposits = deps, .ndeposits = ndeps};
        if (!rc)
            rc = chain_blockexec_propose_x(&bx, n->mempool, &x, &proposer,
                                           util_env_wall_ms(n->cfg.env), 1, &b, &built, &err);
        for (size_t i = 0; i < ndeps; i++)
            chain_tx_free(&deps[i]);
        if (rc == 0 && built) {
            /* Pending evidence and confirmed deposits are worth a block of
             * their own, as a transaction is (deposits are transactions). */
            if (b.ntx == 0 && b.nev == 0 && !force) {
                chain_block_free(&b);
                return; /* still waiting */
            }
            uint8_t bid[32];
            chain_header_hash(&b.h, bid);
            node_cons_blk *k = node_cons_blk_add(c, &b, bid);
            if (node_cons_blk_check(c, k) && k->enc.len) memcpy(id, bid, 32);
            /* The time a proposer's round 0 depends on, for the logs of a
             * loaded network (bench/README.md, bft). */
            if (k->b.ntx)
                LOG_INFO("consensus",
                         "proposing block %llu round %u: txs=%zu built and validated in %.1f ms",
                         (unsigned long long)h, r, k->b.ntx,
                         (double)(util_env_mono_ns(n->cfg.env) - t0) / 1e6);
        } else if (err.msg[0])
            LOG_ERROR("consensus", "building block %llu failed: %s", (unsigned long long)h,
                      err.msg);
    }
    build_done(c);
    if (cons_engine_on_built(c->e, h, r, id, &err)) LOG_WARN("consensus", "on_built: %s", err.msg);
}

static void do_build(node_cons *c, const cons_output *o)
{
    c->build_waiting = 1;
    c->build_h = o->height;
    c->build_r = o->round;
    /* Only round 0 waits: a later round follows a failed one, and its
     * proposer must not add to the delay. A replay answers as before. */
    int wait = c->empty_ms && o->round == 0 && !c->replaying;
    try_build(c, !wait);
    if (c->build_waiting) {
        c->empty_waits++;
        uv_timer_start(&c->txwait, on_txwait, c->empty_ms, 0);
    }
}

static void on_txwait(uv_timer_t *t)
{
    node_cons *c = t->data;
    if (c->stopping) return;
    node_lock(c->n);
    if (c->build_waiting && !c->waiting) {
        try_build(c, 1);
        drain(c);
    }
    node_unlock(c->n);
}

/* A transaction was admitted (node_cons_tx_admitted, any thread): a waiting
 * proposer tries again. */
static void on_txs(uv_async_t *a)
{
    node_cons *c = a->data;
    if (c->stopping) return;
    node_lock(c->n);
    if (c->build_waiting && !c->waiting) {
        try_build(c, 0);
        drain(c);
    }
    node_unlock(c->n);
}

void node_cons_tx_admitted(node *n)
{
    node_cons *c = n->cons;
    if (c && c->handles && !c->stopping && c->build_waiting) uv_async_send(&c->txs);
}

static uint64_t all_validators(const node_cons *c)
{
    return c->vs.n >= 64 ? ~0ull : (1ull << c->vs.n) - 1;
}

static void do_decide(node_cons *c, const cons_output *o)
{
    node *n = c->n;
    util_err err = {0};
    const chain_commit *commit = cons_engine_commit(c->e);
    node_cons_blk *k = node_cons_blk_find(c, o->block_id);
    uint64_t now = util_env_mono_ns(n->cfg.env);
    c->heights++;
    c->rounds += o->round + 1;
    c->last_rounds = o->round + 1;
    c->last_height_ns = c->height_start_ns ? now - c->height_start_ns : 0;
    /* Validators whose precommit is not in the commit missed their vote. */
    uint64_t in = 0;
    for (uint32_t i = 0; commit && i < commit->n; i++)
        in |= 1ull << commit->sigs[i].validator;
    build_done(c);
    for (uint32_t i = 0; i < c->vs.n; i++)
        if (!(in >> i & 1)) c->missed_votes[i]++;

    if (chain_store_height(n->store) >= o->height) {
        /* Block sync applied it meanwhile. */
    } else if (!k || !commit || !node_cons_blk_valid(c, k)) {
        LOG_INFO("consensus", "height %llu decided without its block here; block sync fetches it",
                 (unsigned long long)o->height);
        return; /* the head moves by sync, which restarts the engine */
    } else {
        chain_blockexec bx = {.g = &n->genesis, .st = n->store};
        int reason;
        uint64_t t1 = util_env_mono_ns(n->cfg.env);
        if (chain_blockexec_apply(&bx, &k->b, &k->res, commit, &reason, &err)) {
            LOG_ERROR("consensus", "committing block %llu failed: %s; stopping",
                      (unsigned long long)o->height, err.msg);
            uv_stop(&n->loop);
            return;
        }
        uint64_t t2 = util_env_mono_ns(n->cfg.env);
        chain_mempool_on_block(n->mempool, &k->b);
        if (k->b.nev) evidence_prune(c);
        node_block_committed(n, &k->b, k->id, k->res.rs, 0, t2 - t1);
        n->blocks_produced++;
        char hex[65];
        util_hex_encode(hex, k->id, 32);
        LOG_INFO("consensus", "block %llu txs=%zu evidence=%zu round=%u commit=%u/%u hash=0x%.16s",
                 (unsigned long long)o->height, k->b.ntx, k->b.nev, o->round, commit->n, c->vs.n,
                 hex);
    }
    if (c->wal && !c->signing_off && cons_wal_end_height(c->wal, o->height, &err))
        node_cons_signing_stop(c, err.msg);
    node_cons_blks_clear(c);
    for (int i = 0; i < 3; i++)
        uv_timer_stop(&c->tmr[i].t);
    c->waiting = 1;
    c->next_height = o->height + 1;
    c->dec_h = o->height;
    c->dec_r = o->round;
    memcpy(c->dec_id, o->block_id, 32);
    c->dec_have = in;
    /* Every validator precommitted this block: nobody is left to wait for
     * (late precommits can still complete the set: late_precommit). */
    int all = (in & all_validators(c)) == all_validators(c);
    if (all && !c->replaying) c->commit_skips++;
    uv_timer_start(&c->commit_timer, on_commit_timer, c->replaying || all ? 0 : c->commit_ms, 0);
}

/* While waiting timeout_commit: a precommit for the block just decided,
 * from a validator not counted yet, is checked and counted; with the last
 * one the wait ends (CometBFT's skip_timeout_commit). It decides nothing:
 * the block and its commit are stored already. */
static int late_precommit(node_cons *c, const uint8_t *payload, size_t len, util_err *err)
{
    cons_vote v;
    int rc = cons_vote_decode(&v, payload, len, err);
    if (rc) return rc;
    if (v.type != CHAIN_VOTE_PRECOMMIT || v.height != c->dec_h || v.round != c->dec_r ||
        v.validator >= c->vs.n || (c->dec_have >> v.validator & 1) ||
        memcmp(v.block_id, c->dec_id, 32) != 0 || c->next_height != c->dec_h + 1)
        return 0;
    if ((rc = cons_vote_verify(&c->chain, &c->vs, &v, err))) return rc;
    c->dec_have |= 1ull << v.validator;
    if (c->dec_have == all_validators(c)) {
        c->commit_skips++;
        uv_timer_start(&c->commit_timer, on_commit_timer, 0, 0);
    }
    return 0;
}

/* Evidence of equivocation: kept (the last NODE_CONS_EVIDENCE, for
 * consensus_state and as the pool proposals take evidence from) and
 * gossiped once. */
static void keep_evidence(node_cons *c, const cons_evidence *ev, const char *how)
{
    /* Field by field: the structs' padding is not defined. */
    for (uint32_t i = 0; i < c->nevidence && i < NODE_CONS_EVIDENCE; i++) {
        const cons_evidence *k = &c->evidence[i];
        if (k->a.validator == ev->a.validator && k->a.height == ev->a.height &&
            k->a.round == ev->a.round && k->a.type == ev->a.type &&
            memcmp(k->a.block_id, ev->a.block_id, 32) == 0 &&
            memcmp(k->b.block_id, ev->b.block_id, 32) == 0)
            return;
    }
    c->evidence_in[c->nevidence % NODE_CONS_EVIDENCE] = 0;
    c->evidence[c->nevidence++ % NODE_CONS_EVIDENCE] = *ev;
    LOG_WARN("consensus", "evidence (%s): validator %u signed two %s at height %llu round %u", how,
             ev->a.validator, ev->a.type == CHAIN_VOTE_PREVOTE ? "prevotes" : "precommits",
             (unsigned long long)ev->a.height, ev->a.round);
    util_buf b;
    util_buf_init(&b);
    util_err err = {0};
    if (c->n->p2p && cons_evidence_encode(ev, &b, &err) == 0 && !b.oom)
        p2p_net_broadcast(c->n->p2p->net, NULL, P2P_MSG_EVIDENCE, b.data, b.len);
    util_buf_free(&b);
}

static void handle(node_cons *c, const cons_output *o)
{
    util_err err = {0};
    switch (o->kind) {
    case CONS_OUT_BUILD: do_build(c, o); break;
    case CONS_OUT_VALIDATE: {
        node_cons_blk *k = node_cons_blk_find(c, o->block_id);
        int fresh = k && !k->checked;
        uint64_t t0 = util_env_mono_ns(c->n->cfg.env);
        int ok = k && node_cons_blk_check(c, k);
        if (fresh && k->b.ntx)
            LOG_INFO("consensus", "validated block %llu round %u: txs=%zu %s in %.1f ms",
                     (unsigned long long)o->height, c->e->round, k->b.ntx, ok ? "valid" : "refused",
                     (double)(util_env_mono_ns(c->n->cfg.env) - t0) / 1e6);
        if (cons_engine_on_validated(c->e, o->height, o->block_id, ok, &err))
            LOG_WARN("consensus", "on_validated: %s", err.msg);
        break;
    }
    case CONS_OUT_PROPOSAL:
    case CONS_OUT_VOTE:
        if (c->replaying) {
            if (c->ndeferred < sizeof c->deferred / sizeof c->deferred[0])
                c->deferred[c->ndeferred++] = *o;
        } else if (o->kind == CONS_OUT_PROPOSAL)
            node_cons_own_proposal(c, o->proposal);
        else
            node_cons_own_vote(c, o->vote);
        break;
    case CONS_OUT_TIMEOUT: {
        if (o->step < CONS_STEP_PROPOSE || o->step > CONS_STEP_PRECOMMIT) break;
        node_cons_timer *t = &c->tmr[o->step - 1];
        t->h = o->height;
        t->r = o->round;
        t->step = o->step;
        uv_timer_start(&t->t, on_step_timer, o->ms, 0);
        break;
    }
    case CONS_OUT_DECIDE: do_decide(c, o); break;
    case CONS_OUT_EVIDENCE: keep_evidence(c, &o->evidence, "seen here"); break;
    default: break;
    }
}

static void drain(node_cons *c)
{
    cons_output o;
    while (!c->waiting && cons_engine_next(c->e, &o))
        handle(c, &o);
    /* After a decision the rest of the height's outputs are stale. */
    if (c->waiting)
        while (cons_engine_next(c->e, &o)) {
        }
    /* Time per step, for /metrics: charged to a step when it is left. */
    uint8_t step = c->waiting ? CONS_STEP_DECIDED : c->e->step;
    if (step != c->cur_step) {
        uint64_t now = util_env_mono_ns(c->n->cfg.env);
        if (c->cur_step && c->cur_step <= CONS_STEP_DECIDED)
            c->step_ns[c->cur_step] += now - c->step_since_ns;
        c->cur_step = step;
        c->step_since_ns = now;
    }
}

/* ---- inputs ---- */

/* A proposal (signature checked, or from our WAL): caches its block and
 * feeds it. rec: record it in the WAL first. */
static int feed_proposal(node_cons *c, const uint8_t *payload, size_t len, int check, int rec,
                         util_err *err)
{
    cons_proposal p;
    if (len < CONS_PROPOSAL_LEN)
        return util_err_set(err, UTIL_EINVAL, "bad_proposal: %zu bytes", len);
    int rc = cons_proposal_decode(&p, payload, CONS_PROPOSAL_LEN, err);
    if (rc) return rc;
    if (p.height != c->e->height || c->waiting) return 0;
    cons_proposal have;
    if (cons_engine_proposal(c->e, p.round, &have) && memcmp(have.block_id, p.block_id, 32) == 0)
        return 0; /* a copy (gossip repeats) */
    if (check && (rc = cons_proposal_verify(&c->chain, &c->vs, &p, err))) return rc;
    chain_block b;
    if ((rc = chain_block_decode(&b, payload + CONS_PROPOSAL_LEN, len - CONS_PROPOSAL_LEN, err)))
        return rc;
    uint8_t id[32];
    chain_header_hash(&b.h, id);
    if (memcmp(id, p.block_id, 32) != 0) {
        chain_block_free(&b);
        return util_err_set(err, UTIL_EINVAL, "bad_proposal: the block is not the one signed");
    }
    node_cons_blk_add(c, &b, id);
    if (rec)
        (void)node_cons_wal_put(c, CONS_WAL_MSG, P2P_MSG_PROPOSAL, payload, CONS_PROPOSAL_LEN,
                                payload + CONS_PROPOSAL_LEN, len - CONS_PROPOSAL_LEN, 0);
    util_err e2 = {0};
    if (cons_engine_on_proposal(c->e, &p, &e2)) LOG_DEBUG("consensus", "proposal: %s", e2.msg);
    return 0;
}

static int feed_vote(node_cons *c, const uint8_t *payload, size_t len, int check, int rec,
                     util_err *err)
{
    cons_vote v, have;
    int rc = cons_vote_decode(&v, payload, len, err);
    if (rc) return rc;
    if (v.height != c->e->height || c->waiting) return 0;
    const cons_voteset *vs = cons_engine_votes(c->e);
    if (v.validator < c->vs.n && cons_voteset_get(vs, v.round, v.type, v.validator, &have) &&
        memcmp(have.block_id, v.block_id, 32) == 0)
        return 0;
    if (check && (rc = cons_vote_verify(&c->chain, &c->vs, &v, err))) return rc;
    if (rec) (void)node_cons_wal_put(c, CONS_WAL_MSG, P2P_MSG_VOTE, payload, len, NULL, 0, 0);
    util_err e2 = {0};
    if (cons_engine_on_vote(c->e, &v, &e2)) LOG_DEBUG("consensus", "vote: %s", e2.msg);
    return 0;
}

static void save_future(node_cons *c, uint8_t type, const uint8_t *p, size_t len)
{
    /* Unverified yet: bounded in count and bytes; gossip repeats what is lost. */
    if (c->nfut == NODE_CONS_FUTURE || c->fut_bytes + len > NODE_CONS_FUTURE_BYTES) return;
    c->fut_bytes += len;
    util_buf_init(&c->fut[c->nfut].b);
    util_buf_put(&c->fut[c->nfut].b, p, len);
    c->fut[c->nfut++].type = type;
}

int node_cons_on_message(node *n, p2p_peer *from, uint8_t type, const uint8_t *payload, size_t len,
                         util_err *err)
{
    (void)from;
    node_cons *c = n->cons;
    if (!c || c->stopping) return 0; /* a follower ignores consensus traffic */
    int rc = 0;
    node_lock(n);
    uint64_t h = 0;
    if (len >= 8 && type == P2P_MSG_PROPOSAL) h = util_get_u64le(payload);
    if (len >= 9 && type == P2P_MSG_VOTE) h = util_get_u64le(payload + 1);
    /* The next height's messages wait for it (peers that decided first, or
     * a block sync about to move the head). */
    uint64_t next = c->waiting ? c->next_height : c->e->height + 1;
    if (h == next && type != P2P_MSG_EVIDENCE)
        save_future(c, type, payload, len);
    else if (type == P2P_MSG_PROPOSAL)
        rc = feed_proposal(c, payload, len, 1, 1, err);
    else if (type == P2P_MSG_VOTE && c->waiting)
        rc = late_precommit(c, payload, len, err);
    else if (type == P2P_MSG_VOTE)
        rc = feed_vote(c, payload, len, 1, 1, err);
    else if (type == P2P_MSG_EVIDENCE) {
        cons_evidence ev;
        if (!(rc = cons_evidence_decode(&ev, payload, len, err)) &&
            !(rc = cons_evidence_verify(&c->chain, &c->vs, &ev, err)))
            keep_evidence(c, &ev, "from a peer");
    } else
        rc = util_err_set(err, UTIL_EINVAL, "unexpected_type: message type 0x%02x", type);
    if (rc == 0) drain(c);
    node_unlock(n);
    return rc;
}

static void start_height(node_cons *c, uint64_t h)
{
    node *n = c->n;
    util_err err = {0};
    c->waiting = 0;
    build_done(c);
    c->height_start_ns = util_env_mono_ns(n->cfg.env);
    if (cons_engine_start_height(c->e, h, &c->vs, &c->params, &err)) {
        LOG_ERROR("consensus", "cannot start height %llu: %s", (unsigned long long)h, err.msg);
        return;
    }
    drain(c);
    /* Messages of this height that came during the wait. */
    uint32_t nf = c->nfut;
    c->nfut = 0;
    c->fut_bytes = 0;
    for (uint32_t i = 0; i < nf; i++) {
        util_err e2 = {0};
        if (!c->waiting) {
            if (c->fut[i].type == P2P_MSG_PROPOSAL)
                (void)feed_proposal(c, c->fut[i].b.data, c->fut[i].b.len, 1, 1, &e2);
            else
                (void)feed_vote(c, c->fut[i].b.data, c->fut[i].b.len, 1, 1, &e2);
            drain(c);
        }
        util_buf_free(&c->fut[i].b);
    }
}

static void on_commit_timer(uv_timer_t *t)
{
    node_cons *c = t->data;
    if (c->stopping) return;
    node_lock(c->n);
    uint64_t head = chain_store_height(c->n->store);
    start_height(c, head + 1 > c->next_height ? head + 1 : c->next_height);
    node_unlock(c->n);
}

static void on_step_timer(uv_timer_t *t)
{
    node_cons_timer *ct = (node_cons_timer *)t;
    node_cons *c = ct->c;
    if (c->stopping || c->waiting) return;
    node_lock(c->n);
    uint8_t rec[13];
    for (int i = 0; i < 8; i++)
        rec[i] = (uint8_t)(ct->h >> (8 * i));
    for (int i = 0; i < 4; i++)
        rec[8 + i] = (uint8_t)(ct->r >> (8 * i));
    rec[12] = ct->step;
    (void)node_cons_wal_put(c, CONS_WAL_TIMEOUT, WAL_TIMEOUT_TAG, rec, sizeof rec, NULL, 0, 0);
    if (ct->step == CONS_STEP_PROPOSE && ct->h == c->e->height && ct->r == c->e->round &&
        c->e->step == CONS_STEP_PROPOSE) {
        cons_state s;
        cons_engine_state_get(c->e, &s);
        if (!s.has_proposal && s.proposer < CONS_MAX_VALIDATORS) c->missed_proposals[s.proposer]++;
    }
    util_err err = {0};
    if (cons_engine_on_timeout(c->e, ct->h, ct->r, ct->step, &err))
        LOG_DEBUG("consensus", "timeout: %s", err.msg);
    drain(c);
    node_unlock(c->n);
}

/* ---- gossip: what peers may have missed ---- */

static void gossip_to(node_cons *c, p2p_peer *to, int with_proposal)
{
    cons_state s;
    cons_engine_state_get(c->e, &s);
    cons_proposal p;
    if (with_proposal && cons_engine_proposal(c->e, s.round, &p)) {
        node_cons_blk *k = node_cons_blk_find(c, p.block_id);
        if (k) node_cons_send_proposal(c, to, &p, k);
    }
    const cons_voteset *vs = cons_engine_votes(c->e);
    for (uint32_t r = s.round ? s.round - 1 : 0; r <= s.round; r++)
        for (uint8_t type = CHAIN_VOTE_PREVOTE; type <= CHAIN_VOTE_PRECOMMIT; type++)
            for (uint32_t i = 0; i < c->vs.n; i++) {
                cons_vote v;
                if (cons_voteset_get(vs, r, type, i, &v)) node_cons_send_vote(c, to, &v);
            }
}

static void on_gossip_timer(uv_timer_t *t)
{
    node_cons *c = t->data;
    if (c->stopping || c->waiting || !c->n->p2p) return;
    node_lock(c->n);
    uint64_t key = c->e->height * 4096 * 8 + (uint64_t)c->e->round * 8 + c->e->step;
    /* Only when nothing moved for a whole tick: the normal path broadcasts.
     * The proposal carries its block (megabytes under load, when a round
     * stalls on validating it): at the first stalled tick of a round and
     * then every NODE_CONS_GOSSIP_PROPOSAL_TICKS, not every tick, or the
     * queues to peers still reading the last copy pass the p2p limit and
     * the peers are dropped. TCP loses nothing short of a disconnect (a
     * reconnected peer gets it from node_cons_peer_up); the repeats are for
     * a peer that was a height behind when it came. */
    if (key == c->gossip_key) {
        uint64_t pk = c->e->height * 4096 + c->e->round;
        int prop =
            pk != c->gossip_prop_key || ++c->gossip_prop_ticks >= NODE_CONS_GOSSIP_PROPOSAL_TICKS;
        if (prop) c->gossip_prop_ticks = 0;
        gossip_to(c, NULL, prop);
        c->gossip_prop_key = pk;
    }
    c->gossip_key = key;
    node_unlock(c->n);
}

void node_cons_peer_up(node *n, p2p_peer *p)
{
    node_cons *c = n->cons;
    if (!c || c->stopping || c->waiting) return;
    node_lock(n);
    gossip_to(c, p, 1);
    node_unlock(n);
}

/* The head moved without this engine (block sync): the height in progress
 * is over here; start the one after the head. */
static void on_kick(uv_timer_t *t)
{
    node_cons *c = t->data;
    if (c->stopping) return;
    node_lock(c->n);
    uint64_t head = chain_store_height(c->n->store);
    if (!c->waiting && head >= c->e->height) {
        util_err err = {0};
        LOG_INFO("consensus", "head %llu reached by block sync: consensus resumes at %llu",
                 (unsigned long long)head, (unsigned long long)head + 1);
        if (c->wal && !c->signing_off && cons_wal_end_height(c->wal, head, &err))
            node_cons_signing_stop(c, err.msg);
        node_cons_blks_clear(c);
        for (int i = 0; i < 3; i++)
            uv_timer_stop(&c->tmr[i].t);
        start_height(c, head + 1);
    } else if (c->waiting && head >= c->next_height) {
        c->next_height = head + 1;
    }
    node_unlock(c->n);
}

void node_cons_head_changed(node *n)
{
    node_cons *c = n->cons;
    if (c && c->handles && !c->stopping) uv_timer_start(&c->kick, on_kick, 0, 0);
}

/* ---- start, replay, stop ---- */

typedef struct replay_rec {
    uint8_t type;
    util_buf b;
} replay_rec;

typedef struct replay_ctx {
    replay_rec *r;
    size_t n, cap;
} replay_ctx;

static int collect(void *ctx, uint8_t type, const uint8_t *data, size_t n, util_err *err)
{
    replay_ctx *rc = ctx;
    if (rc->n == rc->cap) {
        size_t nc = rc->cap ? 2 * rc->cap : 64;
        replay_rec *nr = realloc(rc->r, nc * sizeof *nr);
        if (!nr) return util_err_set(err, UTIL_ENOMEM, "out of memory");
        rc->r = nr;
        rc->cap = nc;
    }
    rc->r[rc->n].type = type;
    util_buf_init(&rc->r[rc->n].b);
    util_buf_put(&rc->r[rc->n].b, data, n);
    rc->n++;
    return 0;
}

/* 1 when the signer state is past this own message: it was signed and sent
 * before the crash, and is not signed again (peers' gossip brings it back). */
static int signed_before(node_cons *c, const cons_output *o)
{
    uint8_t d[32], step;
    uint64_t h;
    uint32_t r;
    if (o->kind == CONS_OUT_PROPOSAL) {
        cons_proposal_digest(&c->chain, &o->proposal, d);
        step = CONS_SIGN_PROPOSAL, h = o->proposal.height, r = o->proposal.round;
    } else {
        cons_vote_digest(&c->chain, &o->vote, d);
        step = o->vote.type == CHAIN_VOTE_PREVOTE ? CONS_SIGN_PREVOTE : CONS_SIGN_PRECOMMIT;
        h = o->vote.height, r = o->vote.round;
    }
    return cons_signer_allow(cons_signer_get(c->signer), h, r, step, d, NULL) ==
           CONS_SIGNER_REGRESSION;
}

/* Feeds the records of height h to the engine: what it received, its
 * timeouts, and the blocks of its own proposals (for BUILD). Own messages
 * it asks for are signed after the replay, unless a signed copy was among
 * the records. */
static void replay(node_cons *c, replay_ctx *rx, uint64_t h)
{
    util_err err = {0};
    c->replaying = 1;
    for (size_t i = 0; i < rx->n; i++) {
        const uint8_t *p = rx->r[i].b.data;
        size_t len = rx->r[i].b.len;
        if (len < 1 || rx->r[i].type != CONS_WAL_OWN || p[0] != P2P_MSG_PROPOSAL) continue;
        cons_proposal pr;
        chain_block b;
        if (len < 1 + CONS_PROPOSAL_LEN ||
            cons_proposal_decode(&pr, p + 1, CONS_PROPOSAL_LEN, &err) || pr.height != h ||
            chain_block_decode(&b, p + 1 + CONS_PROPOSAL_LEN, len - 1 - CONS_PROPOSAL_LEN, &err))
            continue;
        node_cons_blk *k = node_cons_blk_add(c, &b, pr.block_id);
        k->own = 1;
        k->own_round = pr.round;
    }
    start_height(c, h);
    for (size_t i = 0; i < rx->n && !c->waiting; i++) {
        const uint8_t *p = rx->r[i].b.data;
        size_t len = rx->r[i].b.len;
        if (len < 1 || rx->r[i].type == CONS_WAL_OWN) continue;
        if (rx->r[i].type == CONS_WAL_TIMEOUT && p[0] == WAL_TIMEOUT_TAG && len == 14) {
            if (util_get_u64le(p + 1) == h &&
                cons_engine_on_timeout(c->e, h, util_get_u32le(p + 9), p[13], &err) == 0)
                drain(c);
        } else if (p[0] == P2P_MSG_PROPOSAL) {
            if (feed_proposal(c, p + 1, len - 1, 0, 0, &err) == 0) drain(c);
        } else if (p[0] == P2P_MSG_VOTE) {
            if (feed_vote(c, p + 1, len - 1, 0, 0, &err) == 0) drain(c);
        }
    }
    c->replaying = 0;
    uint32_t nd = c->ndeferred;
    c->ndeferred = 0;
    for (uint32_t i = 0; i < nd && !c->waiting; i++) {
        const cons_output *o = &c->deferred[i];
        if (signed_before(c, o)) continue;
        if (o->kind == CONS_OUT_PROPOSAL) {
            cons_proposal have;
            if (!cons_engine_proposal(c->e, o->proposal.round, &have))
                node_cons_own_proposal(c, o->proposal);
        } else {
            cons_vote have;
            if (!cons_voteset_get(cons_engine_votes(c->e), o->vote.round, o->vote.type,
                                  o->vote.validator, &have))
                node_cons_own_vote(c, o->vote);
        }
        drain(c);
    }
    LOG_INFO("consensus", "replayed %zu WAL records of height %llu", rx->n, (unsigned long long)h);
}

static int open_files(node_cons *c, util_err *err)
{
    node *n = c->n;
    char dir[PATH_MAX + 16], path[PATH_MAX + 32], wal[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/%s", n->cfg.datadir, NODE_CONS_DIR);
    snprintf(wal, sizeof wal, "%s/%s", dir, CONS_WAL_FILE);
    snprintf(path, sizeof path, "%s/%s", dir, NODE_CONS_SIGNER_FILE);
    struct stat st;
    /* A fresh signer state only with a fresh directory: a validator that
     * signed before must not start over because one file went missing. */
    int fresh = stat(dir, &st) != 0;
    if (fresh && mkdir(dir, 0700) != 0) return util_err_set(err, UTIL_EIO, "cannot create %s", dir);
    int rc = cons_signer_open(n->cfg.env, path, fresh ? CONS_SIGNER_CREATE : 0, &c->signer, err);
    if (rc == UTIL_ENOTFOUND && stat(wal, &st) != 0)
        rc = cons_signer_open(n->cfg.env, path, CONS_SIGNER_CREATE, &c->signer, err);
    if (rc) return util_err_prefix(err, "consensus signer state: ");
    if ((rc = cons_wal_open(n->cfg.env, dir, &c->wal, err)))
        return util_err_prefix(err, "consensus WAL: ");
    return 0;
}

int node_cons_start(node *n, util_err *err)
{
    if (!node_cons_wanted(n)) return 0;
    node_cons *c = calloc(1, sizeof *c);
    cons_engine *e = malloc(sizeof *e);
    if (!c || !e) {
        free(c);
        free(e);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    c->n = n;
    c->e = e;
    c->self = (int32_t)n->validator_index;
    int rc = cons_valset_init(&c->vs, n->genesis.vals, n->genesis.nval, err);
    if (rc) {
        free(e);
        free(c);
        return rc;
    }
    const chain_params *gp = &n->genesis.params;
    c->params = (cons_params){
        .timeout_propose_ms = gp->timeout_propose_ms,
        .timeout_propose_delta_ms = gp->timeout_propose_delta_ms,
        .timeout_prevote_ms = gp->timeout_prevote_ms,
        .timeout_prevote_delta_ms = gp->timeout_prevote_delta_ms,
        .timeout_precommit_ms = gp->timeout_precommit_ms,
        .timeout_precommit_delta_ms = gp->timeout_precommit_delta_ms,
    };
    c->commit_ms = n->genesis.params.timeout_commit_ms;
    /* Half the propose timeout: the others' round-0 timer (started when
     * they start the height, at most timeoutCommitMs apart from ours) still
     * has room for the proposal and its gossip. */
    c->empty_ms = gp->timeout_propose_ms / 2;
    snprintf(c->chain.chain_id, sizeof c->chain.chain_id, "%s", n->genesis.chain_id);
    memcpy(c->chain.genesis_hash, n->genesis.hash, 32);
    cons_engine_init(e, &c->params, n->validator.pubkey);
    n->cons = c;
    if ((rc = open_files(c, err))) return rc; /* node_free releases c */

    /* First: the only handle whose creation can fail. */
    if (uv_async_init(&n->loop, &c->txs, on_txs))
        return util_err_set(err, UTIL_EIO, "consensus: cannot create its wake-up handle");
    for (int i = 0; i < 3; i++) {
        uv_timer_init(&n->loop, &c->tmr[i].t);
        c->tmr[i].c = c;
    }
    uv_timer_init(&n->loop, &c->commit_timer);
    uv_timer_init(&n->loop, &c->gossip_timer);
    uv_timer_init(&n->loop, &c->kick);
    uv_timer_init(&n->loop, &c->txwait);
    c->commit_timer.data = c->gossip_timer.data = c->kick.data = c->txwait.data = c->txs.data = c;
    c->handles = 1;

    uint64_t head = chain_store_height(n->store), h = head + 1;
    cons_wal_info info;
    cons_wal_get_info(c->wal, &info);
    replay_ctx rx = {0};
    node_lock(n);
    if (info.has_end_height ? info.end_height < head : head > 0) {
        /* Its records are of heights the store has: over. */
        if ((rc = cons_wal_end_height(c->wal, head, err)))
            util_err_prefix(err, "consensus WAL: ");
        else
            start_height(c, h);
    } else if (!(rc = cons_wal_replay(c->wal, collect, &rx, err))) {
        replay(c, &rx, h);
    }
    node_unlock(n);
    for (size_t i = 0; i < rx.n; i++)
        util_buf_free(&rx.r[i].b);
    free(rx.r);
    if (rc) return rc;
    if (info.repaired_bytes)
        LOG_WARN("consensus", "WAL: cut a torn tail of %llu bytes at offset %llu",
                 (unsigned long long)info.repaired_bytes, (unsigned long long)info.repaired_at);
    uv_timer_start(&c->gossip_timer, on_gossip_timer, NODE_CONS_GOSSIP_MS, NODE_CONS_GOSSIP_MS);
    LOG_INFO("consensus", "validator %d of %u (power %llu of %llu): consensus from height %llu",
             (int)c->self, c->vs.n, (unsigned long long)c->vs.v[c->self].power,
             (unsigned long long)c->vs.total, (unsigned long long)c->e->height);
    return 0;
}

void node_cons_stop(node *n)
{
    node_cons *c = n->cons;
    if (!c || !c->handles || c->stopping) return;
    c->stopping = 1;
    for (int i = 0; i < 3; i++)
        uv_close((uv_handle_t *)&c->tmr[i].t, NULL);
    uv_close((uv_handle_t *)&c->commit_timer, NULL);
    uv_close((uv_handle_t *)&c->gossip_timer, NULL);
    uv_close((uv_handle_t *)&c->kick, NULL);
    uv_close((uv_handle_t *)&c->txwait, NULL);
    uv_close((uv_handle_t *)&c->txs, NULL);
}

void node_cons_free(node *n)
{
    node_cons *c = n->cons;
    if (!c) return;
    node_cons_blks_clear(c);
    for (uint32_t i = 0; i < c->nfut; i++)
        util_buf_free(&c->fut[i].b);
    cons_wal_close(c->wal);
    cons_signer_close(c->signer);
    free(c->e);
    free(c);
    n->cons = NULL;
}
