/* The simulation itself: nodes hosting consensus engines, a lossy network
 * with partitions, byzantine validators, crash-restart from a WAL of inputs,
 * and the checks (agreement, validity, termination) run on every decision.
 *
 * Hosts here do what the node will do: record every input of the current
 * height (the WAL), keep a signer state that refuses to sign a different
 * message for a height/round/step it already signed, sign only after both,
 * feed their own messages back, relay to each peer the votes and proposals
 * it lacks (so that a message dropped before the partitions healed is
 * eventually delivered), and serve a decided height's commit to peers still
 * on it (block sync, 2 s after the decision). Signatures are not
 * computed: engines take votes already checked, and the checks here are on
 * ids. A crash loses the engine; a restart replays the node's recorded
 * inputs into a fresh engine, which is what the real WAL (consensus/wal*)
 * provides. */
#include "tests/sim/sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/engine.h"

#define MAXN 10
#define GOSSIP_MS 250
#define SYNC_DELAY_MS 2000
#define TIMEOUT_AFTER_HEAL_MS 60000

enum {
    EV_PROPOSAL = 1,
    EV_VOTE,
    EV_TIMEOUT,
    EV_VALIDATED,
    EV_BUILT,
    EV_COMMIT,
    EV_GOSSIP,
    EV_CRASH,
    EV_RESTART
};
enum { HONEST = 0, SILENT, EQUIVOCATE, DOUBLE_VOTE };

typedef struct event {
    uint64_t t, seq;
    int kind, node, epoch;
    uint64_t h;
    uint32_t r;
    uint8_t step;
    int valid;
    uint8_t id[32];
    cons_proposal p;
    cons_vote v;
    chain_commit *c; /* EV_COMMIT: borrowed from the sender's store */
} event;

typedef struct signed_msg {
    int is_vote;
    cons_proposal p;
    cons_vote v;
} signed_msg;

typedef struct node {
    int kind;
    int crashed, epoch;
    cons_engine *e;
    uint64_t height;          /* height being decided (next to decide) */
    uint64_t decided;         /* last decided height */
    uint8_t ids[64][32];      /* decided ids by height */
    chain_commit commits[64]; /* by height: what block sync serves */
    uint64_t decided_at[64];  /* sim time of each decision */
    event *wal;               /* inputs of the current height */
    size_t nwal, capwal;
    signed_msg *sig; /* every message signed (the signer state) */
    size_t nsig, capsig;
} node;

typedef struct block {
    uint8_t id[32];
    int valid, proposed;
} block;

typedef struct sim {
    uint64_t rng, now, seq;
    event *q;
    size_t nq, capq;
    int n;
    node nodes[MAXN];
    cons_valset vs;
    cons_params params;
    block *blocks;
    size_t nblocks, capblocks;
    uint64_t block_ctr;
    /* network */
    uint32_t drop_pm, dup_pm, max_delay; /* per mille, ms: before healing */
    uint64_t part_start, part_end, heal;
    uint32_t part_mask; /* side of each node while partitioned */
    int heights;
    int verbose;
    int no_wal;
    uint8_t agreed[64][32];
    int agreed_set[64];
    sim_result *res;
} sim;

static uint64_t rnd(sim *s)
{
    /* splitmix64 */
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t below(sim *s, uint32_t n)
{
    return n ? (uint32_t)(rnd(s) % n) : 0;
}

static int chance(sim *s, uint32_t per_mille)
{
    return below(s, 1000) < per_mille;
}

static void fail(sim *s, int *flag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(sim *s, int *flag, const char *fmt, ...)
{
    if (!s->res->what[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->res->what, sizeof s->res->what, fmt, ap);
        va_end(ap);
    }
    *flag = 1;
}

/* ---- event queue: a binary heap on (t, seq) ---- */

static int ev_less(const event *a, const event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void ev_push(sim *s, event ev)
{
    if (s->nq == s->capq) {
        s->capq = s->capq ? s->capq * 2 : 1024;
        s->q = realloc(s->q, s->capq * sizeof *s->q);
        if (!s->q) abort();
    }
    ev.seq = s->seq++;
    size_t i = s->nq++;
    while (i > 0 && ev_less(&ev, &s->q[(i - 1) / 2])) {
        s->q[i] = s->q[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->q[i] = ev;
}

static event ev_pop(sim *s)
{
    event top = s->q[0], last = s->q[--s->nq];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->nq) break;
        if (c + 1 < s->nq && ev_less(&s->q[c + 1], &s->q[c])) c++;
        if (!ev_less(&s->q[c], &last)) break;
        s->q[i] = s->q[c];
        i = c;
    }
    if (s->nq) s->q[i] = last;
    return top;
}

static event ev_at(sim *s, uint64_t delay, int kind, int who)
{
    event ev;
    memset(&ev, 0, sizeof ev);
    ev.t = s->now + delay;
    ev.kind = kind;
    ev.node = who;
    ev.epoch = s->nodes[who].epoch;
    return ev;
}

/* ---- blocks ---- */

static block *block_find(sim *s, const uint8_t id[32])
{
    for (size_t i = 0; i < s->nblocks; i++)
        if (memcmp(s->blocks[i].id, id, 32) == 0) return &s->blocks[i];
    return NULL;
}

static block *block_new(sim *s, int valid)
{
    if (s->nblocks == s->capblocks) {
        s->capblocks = s->capblocks ? s->capblocks * 2 : 64;
        s->blocks = realloc(s->blocks, s->capblocks * sizeof *s->blocks);
        if (!s->blocks) abort();
    }
    block *b = &s->blocks[s->nblocks++];
    memset(b, 0, sizeof *b);
    uint64_t c = ++s->block_ctr;
    memcpy(b->id, &c, 8);
    b->id[31] = 0xb1;
    b->valid = valid;
    return b;
}

/* ---- network ---- */

static int partitioned(sim *s, int a, int b)
{
    if (s->now < s->part_start || s->now >= s->part_end) return 0;
    return ((s->part_mask >> a) & 1) != ((s->part_mask >> b) & 1);
}

static void send_to(sim *s, int from, int to, int kind, const cons_proposal *p, const cons_vote *v)
{
    if (to == from || partitioned(s, from, to)) return;
    int healed = s->now >= s->heal;
    uint32_t drop = healed ? 50 : s->drop_pm, dup = healed ? 20 : s->dup_pm;
    uint32_t maxd = healed ? 50 : s->max_delay;
    if (chance(s, drop)) return;
    int copies = chance(s, dup) ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        uint64_t d = 1 + below(s, maxd);
        if (!healed && chance(s, 30)) d += below(s, 2000); /* a straggler */
        event ev = ev_at(s, d, kind, to);
        if (p) ev.p = *p;
        if (v) ev.v = *v;
        ev_push(s, ev);
    }
}

static void broadcast(sim *s, int from, int kind, const cons_proposal *p, const cons_vote *v)
{
    for (int i = 0; i < s->n; i++)
        send_to(s, from, i, kind, p, v);
}

static void to_self(sim *s, int i, int kind, const cons_proposal *p, const cons_vote *v)
{
    event ev = ev_at(s, 0, kind, i);
    if (p) ev.p = *p;
    if (v) ev.v = *v;
    ev_push(s, ev);
}

/* ---- signer state: never a different message for the same h/r/step ---- */

/* 1 if it may be signed (recorded), 0 if it conflicts with a signed one. */
static int signer_ok(node *nd, int is_vote, const cons_proposal *p, const cons_vote *v)
{
    for (size_t i = 0; i < nd->nsig; i++) {
        signed_msg *m = &nd->sig[i];
        if (m->is_vote != is_vote) continue;
        if (is_vote && m->v.height == v->height && m->v.round == v->round && m->v.type == v->type)
            return memcmp(m->v.block_id, v->block_id, 32) == 0;
        if (!is_vote && m->p.height == p->height && m->p.round == p->round)
            return memcmp(m->p.block_id, p->block_id, 32) == 0 && m->p.pol_round == p->pol_round;
    }
    if (nd->nsig == nd->capsig) {
        nd->capsig = nd->capsig ? nd->capsig * 2 : 64;
        nd->sig = realloc(nd->sig, nd->capsig * sizeof *nd->sig);
        if (!nd->sig) abort();
    }
    signed_msg *m = &nd->sig[nd->nsig++];
    memset(m, 0, sizeof *m);
    m->is_vote = is_vote;
    if (p) m->p = *p;
    if (v) m->v = *v;
    return 1;
}

static void wal_add(node *nd, const event *ev)
{
    if (nd->nwal == nd->capwal) {
        nd->capwal = nd->capwal ? nd->capwal * 2 : 256;
        nd->wal = realloc(nd->wal, nd->capwal * sizeof *nd->wal);
        if (!nd->wal) abort();
    }
    nd->wal[nd->nwal++] = *ev;
}

/* ---- hosting ---- */

static void check_decision(sim *s, int i, uint64_t h, const uint8_t id[32], uint32_t round)
{
    sim_result *r = s->res;
    r->decisions++;
    if (round > r->rounds_max) r->rounds_max = round;
    if (s->verbose)
        printf("  t=%llu node %d decides h=%llu round %u block %llu\n", (unsigned long long)s->now,
               i, (unsigned long long)h, (unsigned)round,
               (unsigned long long)(id[0] | (uint64_t)id[1] << 8));
    block *b = block_find(s, id);
    if (!b || !b->proposed || !b->valid)
        if (s->nodes[i].kind != HONEST || h >= 64) return;
    if (!b || !b->proposed || !b->valid)
        fail(s, &r->validity_violation, "validity: %s decided at h=%llu by node %d",
             !b          ? "unknown block"
             : !b->valid ? "invalid block"
                         : "unproposed block",
             (unsigned long long)h, i);
    if (!s->agreed_set[h]) {
        s->agreed_set[h] = 1;
        memcpy(s->agreed[h], id, 32);
    } else if (memcmp(s->agreed[h], id, 32) != 0) {
        fail(s, &r->agreement_violation,
             "agreement: at h=%llu node %d decided another block than an earlier honest node",
             (unsigned long long)h, i);
    }
}

static void start_height(sim *s, int i, uint64_t h)
{
    node *nd = &s->nodes[i];
    nd->height = h;
    nd->nwal = 0;
    util_err err;
    if (cons_engine_start_height(nd->e, h, &s->vs, &s->params, &err)) {
        fprintf(stderr, "sim: start_height: %s\n", err.msg);
        abort();
    }
}

static void byz_vote(sim *s, int i, const cons_vote *v)
{
    /* Split the network: a random part of it gets a vote for the round's
     * proposal (or the engine's own choice), the rest a vote for nil. This
     * is the vote pattern that lets one honest node decide while the others
     * lock or not, the situation the lock rule exists for. */
    cons_proposal p;
    uint32_t mask = (uint32_t)rnd(s);
    int has = cons_engine_proposal(s->nodes[i].e, v->round, &p);
    for (int to = 0; to < s->n; to++) {
        cons_vote x = *v;
        if ((mask >> to) & 1)
            memcpy(x.block_id, has ? p.block_id : v->block_id, 32);
        else
            memset(x.block_id, 0, 32);
        send_to(s, i, to, EV_VOTE, NULL, &x);
    }
}

static void drain(sim *s, int i);

static void feed(sim *s, int i, const event *ev)
{
    node *nd = &s->nodes[i];
    util_err err;
    int rc = 0;
    switch (ev->kind) {
    case EV_PROPOSAL: rc = cons_engine_on_proposal(nd->e, &ev->p, &err); break;
    case EV_VOTE: rc = cons_engine_on_vote(nd->e, &ev->v, &err); break;
    case EV_TIMEOUT: rc = cons_engine_on_timeout(nd->e, ev->h, ev->r, ev->step, &err); break;
    case EV_VALIDATED: rc = cons_engine_on_validated(nd->e, ev->h, ev->id, ev->valid, &err); break;
    case EV_BUILT: rc = cons_engine_on_built(nd->e, ev->h, ev->r, ev->id, &err); break;
    case EV_COMMIT: rc = cons_engine_on_commit(nd->e, ev->h, ev->id, ev->c, &err); break;
    default: return;
    }
    if (rc == UTIL_ESTATE) {
        fprintf(stderr, "sim: engine refused input: %s\n", err.msg);
        abort();
    }
    /* Refused input (a proposal from the wrong proposer) changes nothing;
     * recorded or not, replay gives the same state. */
    wal_add(nd, ev);
    drain(s, i);
}

static void drain(sim *s, int i)
{
    node *nd = &s->nodes[i];
    cons_output o;
    while (cons_engine_next(nd->e, &o)) {
        switch (o.kind) {
        case CONS_OUT_BUILD: {
            event ev = ev_at(s, below(s, 20), EV_BUILT, i);
            ev.h = o.height;
            ev.r = o.round;
            /* Byzantine proposers build invalid blocks now and then. */
            block *b = block_new(s, nd->kind == HONEST || !chance(s, 400));
            memcpy(ev.id, b->id, 32);
            ev_push(s, ev);
            break;
        }
        case CONS_OUT_VALIDATE: {
            event ev = ev_at(s, 1 + below(s, 30), EV_VALIDATED, i);
            ev.h = o.height;
            memcpy(ev.id, o.block_id, 32);
            block *b = block_find(s, o.block_id);
            ev.valid = b && b->valid;
            ev_push(s, ev);
            break;
        }
        case CONS_OUT_PROPOSAL: {
            if (nd->kind == HONEST && !signer_ok(nd, 0, &o.proposal, NULL)) {
                s->res->refused++;
                if (!s->no_wal)
                    fail(s, &s->res->safety_other,
                         "signer: node %d asked to sign a second proposal at h=%llu", i,
                         (unsigned long long)o.proposal.height);
                break;
            }
            if (nd->kind != HONEST) (void)signer_ok(nd, 0, &o.proposal, NULL);
            block *b = block_find(s, o.proposal.block_id);
            if (b) b->proposed = 1;
            if (s->verbose > 1)
                printf("  t=%llu node %d proposes h=%llu r=%u block %d pol %d\n",
                       (unsigned long long)s->now, i, (unsigned long long)o.proposal.height,
                       (unsigned)o.proposal.round, o.proposal.block_id[0],
                       (int)o.proposal.pol_round);
            if (nd->kind == EQUIVOCATE && o.proposal.pol_round == CONS_POL_NONE) {
                /* A second block for half of the network. */
                cons_proposal p2 = o.proposal;
                block *b2 = block_new(s, !chance(s, 300));
                b2->proposed = 1;
                memcpy(p2.block_id, b2->id, 32);
                for (int to = 0; to < s->n; to++)
                    send_to(s, i, to, EV_PROPOSAL, below(s, 2) ? &p2 : &o.proposal, NULL);
            } else {
                broadcast(s, i, EV_PROPOSAL, &o.proposal, NULL);
            }
            to_self(s, i, EV_PROPOSAL, &o.proposal, NULL);
            break;
        }
        case CONS_OUT_VOTE:
            if (s->verbose > 1)
                printf(
                    "  t=%llu node %d votes %s h=%llu r=%u block %d\n", (unsigned long long)s->now,
                    i, o.vote.type == CHAIN_VOTE_PREVOTE ? "prevote" : "precommit",
                    (unsigned long long)o.vote.height, (unsigned)o.vote.round, o.vote.block_id[0]);
            if (nd->kind == HONEST && !signer_ok(nd, 1, NULL, &o.vote)) {
                s->res->refused++;
                if (!s->no_wal)
                    fail(s, &s->res->safety_other,
                         "signer: node %d asked to sign a conflicting vote at h=%llu", i,
                         (unsigned long long)o.vote.height);
                break;
            }
            if (nd->kind != HONEST) (void)signer_ok(nd, 1, NULL, &o.vote);
            if (nd->kind == DOUBLE_VOTE || nd->kind == EQUIVOCATE)
                byz_vote(s, i, &o.vote);
            else
                broadcast(s, i, EV_VOTE, NULL, &o.vote);
            to_self(s, i, EV_VOTE, NULL, &o.vote);
            break;
        case CONS_OUT_TIMEOUT: {
            event ev = ev_at(s, o.ms, EV_TIMEOUT, i);
            ev.h = o.height;
            ev.r = o.round;
            ev.step = o.step;
            ev_push(s, ev);
            break;
        }
        case CONS_OUT_DECIDE: {
            const chain_commit *c = cons_engine_commit(nd->e);
            if (!c) abort();
            nd->decided = o.height;
            if (o.height < 64) {
                memcpy(nd->ids[o.height], o.block_id, 32);
                nd->commits[o.height] = *c;
                nd->decided_at[o.height] = s->now;
            }
            check_decision(s, i, o.height, o.block_id, o.round);
            if (o.height < (uint64_t)s->heights) start_height(s, i, o.height + 1);
            break;
        }
        case CONS_OUT_EVIDENCE: {
            s->res->evidence++;
            uint32_t who = o.evidence.a.validator;
            if (who < (uint32_t)s->n && s->nodes[who].kind == HONEST)
                fail(s, &s->res->safety_other, "evidence: against honest validator %u at h=%llu",
                     (unsigned)who, (unsigned long long)o.evidence.a.height);
            break;
        }
        default: break;
        }
    }
}

static void gossip(sim *s, int i)
{
    node *nd = &s->nodes[i];
    /* Block sync, in short: a peer still deciding a height we decided gets
     * that height's commit (the node knows its peers' heights from their
     * status messages). */
    for (int to = 0; to < s->n; to++) {
        uint64_t h = s->nodes[to].height;
        if (to == i || h > nd->decided || h == 0 || h >= 64) continue;
        /* Block sync is slower than consensus gossip: a peer asks for blocks
         * only once it sees it is behind. This leaves the others rounds
         * to decide on their own, which is where a broken lock shows. */
        if (s->now < nd->decided_at[h] + SYNC_DELAY_MS) continue;
        if (partitioned(s, i, to) || chance(s, s->now >= s->heal ? 50 : s->drop_pm)) continue;
        event ev = ev_at(s, 1 + below(s, 50), EV_COMMIT, to);
        ev.h = h;
        memcpy(ev.id, nd->ids[h], 32);
        ev.c = &nd->commits[h];
        ev_push(s, ev);
    }
    if (nd->kind != HONEST || nd->decided >= nd->height) return;
    /* Gossip (the paper's assumption: what a correct process received, all
     * correct processes eventually receive): relay the votes and proposals a
     * peer lacks, as Tendermint's gossip routines do with the vote bitmaps
     * peers announce. The rounds: both sides' current rounds, our valid and
     * locked rounds, and the POL rounds of both sides' proposals. */
    cons_state st;
    cons_engine_state_get(nd->e, &st);
    for (int to = 0; to < s->n; to++) {
        node *pe = &s->nodes[to];
        if (to == i || pe->kind == SILENT || pe->crashed || pe->height != nd->height ||
            pe->decided >= pe->height)
            continue;
        cons_state ps;
        cons_engine_state_get(pe->e, &ps);
        uint32_t rounds[6] = {st.round,        ps.round,      st.valid_round,
                              st.locked_round, CONS_POL_NONE, CONS_POL_NONE};
        cons_proposal p;
        if (cons_engine_proposal(nd->e, st.round, &p)) rounds[4] = p.pol_round;
        if (cons_engine_proposal(nd->e, ps.round, &p)) rounds[5] = p.pol_round;
        for (int k = 0; k < 6; k++) {
            uint32_t r = rounds[k];
            if (r == CONS_POL_NONE) continue;
            int dup = 0;
            for (int j = 0; j < k; j++)
                dup |= rounds[j] == r;
            if (dup) continue;
            cons_proposal q, q2;
            if (cons_engine_proposal(nd->e, r, &q) && !cons_engine_proposal(pe->e, r, &q2))
                send_to(s, i, to, EV_PROPOSAL, &q, NULL);
            for (uint8_t type = CHAIN_VOTE_PREVOTE; type <= CHAIN_VOTE_PRECOMMIT; type++)
                for (uint32_t v = 0; v < s->vs.n; v++) {
                    cons_vote x, y;
                    if (cons_voteset_get(cons_engine_votes(nd->e), r, type, v, &x) &&
                        !cons_voteset_get(cons_engine_votes(pe->e), r, type, v, &y))
                        send_to(s, i, to, EV_VOTE, NULL, &x);
                }
        }
    }
}

static void crash(sim *s, int i)
{
    node *nd = &s->nodes[i];
    nd->crashed = 1;
    nd->epoch++; /* its pending timers and messages die with it */
}

static void restart(sim *s, int i)
{
    node *nd = &s->nodes[i];
    nd->crashed = 0;
    nd->epoch++;
    /* A fresh engine: only the store (decided heights), the WAL of the
     * current height and the signer state survived. */
    uint8_t key[32];
    memcpy(key, s->vs.v[i].pubkey, 32);
    cons_engine_init(nd->e, &s->params, key);
    size_t n = nd->nwal;
    event *wal = malloc((n ? n : 1) * sizeof *wal);
    if (!wal) abort();
    if (n) memcpy(wal, nd->wal, n * sizeof *wal);
    start_height(s, i, nd->decided + 1);
    drain(s, i);
    uint64_t h = nd->height;
    for (size_t k = 0; k < n && nd->height == h && !s->no_wal; k++)
        feed(s, i, &wal[k]);
    free(wal);
}

static void setup(sim *s, uint64_t seed, const sim_opts *o, sim_result *res)
{
    memset(s, 0, sizeof *s);
    s->res = res;
    s->rng = seed;
    static const int sizes[3] = {4, 7, 10};
    s->n = o->nodes ? o->nodes : sizes[below(s, 3)];
    s->heights = o->heights ? o->heights : 4;
    s->verbose = o->verbose;
    s->no_wal = o->no_wal;
    uint8_t keys[MAXN][32];
    uint64_t powers[MAXN];
    int weighted = chance(s, 400);
    for (int i = 0; i < s->n; i++) {
        memset(keys[i], 0, 32);
        keys[i][0] = (uint8_t)(i + 1);
        powers[i] = weighted ? 1 + below(s, 10) : 1;
    }
    util_err err;
    if (cons_valset_init_raw(&s->vs, (const uint8_t(*)[32])keys, powers, (size_t)s->n, &err))
        abort();
    s->params.timeout_propose_ms = 300;
    s->params.timeout_prevote_ms = 100;
    s->params.timeout_precommit_ms = 100;
    s->params.timeout_propose_delta_ms = 50;
    s->params.timeout_prevote_delta_ms = 50;
    s->params.timeout_precommit_delta_ms = 50;
    /* Byzantine validators: random ones while their power stays below 1/3. */
    uint64_t byz = 0;
    int want = chance(s, 200) ? 0 : 4;
    for (int k = 0; k < want; k++) {
        int i = (int)below(s, (uint32_t)s->n);
        if (s->nodes[i].kind != HONEST || 3 * (byz + powers[i]) >= s->vs.total) continue;
        byz += powers[i];
        uint32_t pick = below(s, 10);
        s->nodes[i].kind = pick < 2 ? SILENT : pick < 5 ? EQUIVOCATE : DOUBLE_VOTE;
        s->res->byz++;
    }
    s->drop_pm = below(s, 250);
    s->dup_pm = below(s, 100);
    s->max_delay = 20 + below(s, 400);
    if (chance(s, 600)) {
        s->part_start = below(s, 3000);
        s->part_end = s->part_start + 500 + below(s, 5000);
        s->part_mask = (uint32_t)rnd(s);
    }
    s->heal = s->part_end > 2000 ? s->part_end : 2000;
    for (int i = 0; i < s->n; i++) {
        node *nd = &s->nodes[i];
        nd->e = malloc(sizeof *nd->e);
        if (!nd->e) abort();
        cons_engine_init(nd->e, &s->params, s->vs.v[i].pubkey);
    }
    /* Crashes of honest validators, restarted before the network heals. */
    int crashes = (int)below(s, 3);
    for (int k = 0; k < crashes; k++) {
        int i = (int)below(s, (uint32_t)s->n);
        if (s->nodes[i].kind != HONEST) continue;
        uint64_t at = below(s, (uint32_t)s->heal);
        event ev = ev_at(s, at, EV_CRASH, i);
        ev.epoch = -1;
        ev_push(s, ev);
        ev = ev_at(s, at + 200 + below(s, 2000), EV_RESTART, i);
        ev.epoch = -1;
        ev_push(s, ev);
    }
    if (s->verbose) {
        printf("seed %llu: %d validators (%s powers), partition [%llu, %llu) mask %x, drop %u‰ "
               "dup %u‰ delay <= %u ms, healed at %llu\n",
               (unsigned long long)seed, s->n, weighted ? "weighted" : "equal",
               (unsigned long long)s->part_start, (unsigned long long)s->part_end,
               s->part_mask & ((1u << s->n) - 1), s->drop_pm, s->dup_pm, s->max_delay,
               (unsigned long long)s->heal);
        for (int i = 0; i < s->n; i++)
            printf("  node %d power %llu %s\n", i, (unsigned long long)powers[i],
                   (const char *[]){"honest", "silent", "equivocating proposer",
                                    "double voter"}[s->nodes[i].kind]);
    }
}

static int all_done(sim *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].kind == HONEST && s->nodes[i].decided < (uint64_t)s->heights) return 0;
    return 1;
}

void sim_run(uint64_t seed, const sim_opts *o, sim_result *r)
{
    sim *s = malloc(sizeof *s);
    if (!s) abort();
    memset(r, 0, sizeof *r);
    setup(s, seed, o, r);
    r->n = s->n;
    for (int i = 0; i < s->n; i++) {
        if (s->nodes[i].kind == SILENT) continue;
        start_height(s, i, 1);
        drain(s, i);
        event g = ev_at(s, below(s, GOSSIP_MS), EV_GOSSIP, i);
        g.epoch = -1;
        ev_push(s, g);
    }
    uint64_t deadline = s->heal + TIMEOUT_AFTER_HEAL_MS;
    while (s->nq && !all_done(s) && !r->agreement_violation && !r->validity_violation &&
           !r->safety_other) {
        event ev = ev_pop(s);
        if (ev.t > deadline) break;
        s->now = ev.t;
        r->events++;
        node *nd = &s->nodes[ev.node];
        if (nd->kind == SILENT) continue;
        if (ev.kind == EV_GOSSIP) {
            if (!nd->crashed) gossip(s, ev.node);
            event g = ev_at(s, GOSSIP_MS / 2 + below(s, GOSSIP_MS), EV_GOSSIP, ev.node);
            g.epoch = -1;
            ev_push(s, g);
            continue;
        }
        if (ev.kind == EV_CRASH) {
            if (!nd->crashed) crash(s, ev.node);
            continue;
        }
        if (ev.kind == EV_RESTART) {
            if (nd->crashed) {
                restart(s, ev.node);
                r->restarts++;
            }
            continue;
        }
        if (nd->crashed || ev.epoch != nd->epoch) continue;
        ev.epoch = nd->epoch;
        feed(s, ev.node, &ev);
    }
    r->sim_ms = s->now;
    if (!r->agreement_violation && !r->validity_violation && !r->safety_other && !all_done(s)) {
        r->termination_failure = 1;
        for (int i = 0; i < s->n; i++)
            if (s->nodes[i].kind == HONEST && s->nodes[i].decided < (uint64_t)s->heights) {
                cons_state st;
                cons_engine_state_get(s->nodes[i].e, &st);
                snprintf(r->what, sizeof r->what,
                         "termination: node %d decided %llu of %d heights by t=%llu ms (healed at "
                         "%llu): height %llu round %u step %s",
                         i, (unsigned long long)s->nodes[i].decided, s->heights,
                         (unsigned long long)s->now, (unsigned long long)s->heal,
                         (unsigned long long)st.height, (unsigned)st.round,
                         cons_step_name(st.step));
                break;
            }
    }
    if (s->verbose)
        for (int i = 0; i < s->n; i++) {
            cons_state st;
            cons_engine_state_get(s->nodes[i].e, &st);
            printf("  end: node %d%s height %llu round %u %s locked %d@%u valid %d@%u proposal "
                   "%d prevotes %llu precommits %llu of %llu\n",
                   i, s->nodes[i].crashed ? " (crashed)" : "", (unsigned long long)st.height,
                   (unsigned)st.round, cons_step_name(st.step), st.locked_id[0],
                   (unsigned)st.locked_round, st.valid_id[0], (unsigned)st.valid_round,
                   st.has_proposal ? st.proposal_id[0] : -1, (unsigned long long)st.prevote_power,
                   (unsigned long long)st.precommit_power, (unsigned long long)st.total_power);
        }
    for (int i = 0; i < s->n; i++) {
        free(s->nodes[i].e);
        free(s->nodes[i].wal);
        free(s->nodes[i].sig);
    }
    free(s->q);
    free(s->blocks);
    free(s);
}
