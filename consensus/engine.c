/* The Tendermint state machine (Algorithm 1 of arXiv 1807.04938) over block
 * ids; line numbers in comments are the paper's. Every input updates the
 * state, then progress() re-evaluates the "upon" rules until none fires, so
 * the order in which messages and answers arrive does not matter. */
#include "consensus/engine.h"

#include <string.h>

static const uint8_t NIL[32];

uint64_t cons_timeout_ms(const cons_params *p, uint8_t step, uint32_t round)
{
    uint32_t base = p->timeout_precommit_ms, delta = p->timeout_precommit_delta_ms;
    if (step == CONS_STEP_PROPOSE) {
        base = p->timeout_propose_ms;
        delta = p->timeout_propose_delta_ms;
    } else if (step == CONS_STEP_PREVOTE) {
        base = p->timeout_prevote_ms;
        delta = p->timeout_prevote_delta_ms;
    }
    return base + (uint64_t)delta * round;
}

const char *cons_step_name(uint8_t step)
{
    switch (step) {
    case CONS_STEP_PROPOSE: return "propose";
    case CONS_STEP_PREVOTE: return "prevote";
    case CONS_STEP_PRECOMMIT: return "precommit";
    case CONS_STEP_DECIDED: return "decided";
    default: return "none";
    }
}

void cons_engine_init(cons_engine *e, const cons_params *p, const uint8_t *self_key)
{
    memset(e, 0, sizeof *e);
    e->params = *p;
    if (self_key) {
        e->has_self = 1;
        memcpy(e->self_key, self_key, 32);
    }
    e->self = -1;
    e->locked_round = e->valid_round = CONS_POL_NONE;
}

/* ---- output queue ---- */

static cons_output *push(cons_engine *e, int kind)
{
    /* Inputs are refused while less than CONS_OUT_PER_INPUT slots are free,
     * and one input emits far fewer, so this never fails. */
    cons_output *o = &e->out[(e->out_head + e->out_len) % CONS_OUT_CAP];
    if (e->out_len < CONS_OUT_CAP) e->out_len++;
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->height = e->height;
    return o;
}

int cons_engine_next(cons_engine *e, cons_output *o)
{
    if (e->out_len == 0) return 0;
    *o = e->out[e->out_head];
    e->out_head = (e->out_head + 1) % CONS_OUT_CAP;
    e->out_len--;
    return 1;
}

static int room(cons_engine *e, util_err *err)
{
    if (CONS_OUT_CAP - e->out_len < CONS_OUT_PER_INPUT)
        return util_err_set(err, UTIL_ESTATE, "consensus: output queue not drained");
    return 0;
}

static void schedule(cons_engine *e, uint8_t step)
{
    cons_output *o = push(e, CONS_OUT_TIMEOUT);
    o->round = e->round;
    o->step = step;
    o->ms = cons_timeout_ms(&e->params, step, e->round);
}

static void vote(cons_engine *e, uint8_t type, const uint8_t id[32])
{
    int *sent = type == CHAIN_VOTE_PREVOTE ? &e->sent_prevote : &e->sent_precommit;
    if (*sent || e->self < 0) return;
    *sent = 1;
    cons_output *o = push(e, CONS_OUT_VOTE);
    o->vote.type = type;
    o->vote.height = e->height;
    o->vote.round = e->round;
    o->vote.validator = (uint32_t)e->self;
    memcpy(o->vote.block_id, id, 32);
}

/* ---- block validity (host answers) ---- */

static uint8_t *block_state(cons_engine *e, const uint8_t id[32])
{
    for (uint32_t i = 0; i < e->nblocks; i++)
        if (memcmp(e->blocks[i].id, id, 32) == 0) return &e->blocks[i].state;
    return NULL;
}

static uint8_t *block_slot(cons_engine *e, const uint8_t id[32])
{
    uint8_t *st = block_state(e, id);
    if (st) return st;
    uint32_t at;
    if (e->nblocks < CONS_BLOCK_CACHE) {
        at = e->nblocks++;
    } else {
        /* Replace the oldest entry that is neither the locked nor the valid
         * block: those may be needed again in later rounds. A replaced
         * answer is asked again if needed. */
        do {
            at = e->block_next++ % CONS_BLOCK_CACHE;
        } while (memcmp(e->blocks[at].id, e->locked_id, 32) == 0 ||
                 memcmp(e->blocks[at].id, e->valid_id, 32) == 0);
    }
    memcpy(e->blocks[at].id, id, 32);
    e->blocks[at].state = 0;
    return &e->blocks[at].state;
}

/* CONS_BLK_VALID / INVALID if known; otherwise asks the host (once) and
 * returns 0. */
static int validity(cons_engine *e, const uint8_t id[32])
{
    uint8_t *st = block_slot(e, id);
    if (*st == CONS_BLK_VALID || *st == CONS_BLK_INVALID) return *st;
    if (*st != CONS_BLK_PENDING) {
        *st = CONS_BLK_PENDING;
        memcpy(push(e, CONS_OUT_VALIDATE)->block_id, id, 32);
    }
    return 0;
}

/* ---- proposals ---- */

static const cons_proposal *proposal_of(const cons_engine *e, uint32_t r)
{
    const cons_voteset *s = &e->votes;
    if (r < s->base || r - s->base >= CONS_VS_ROUNDS) return NULL;
    const cons_proposal *p = &e->props[r % CONS_VS_ROUNDS].p;
    return e->props[r % CONS_VS_ROUNDS].used && p->round == r ? p : NULL;
}

int cons_engine_proposal(const cons_engine *e, uint32_t r, cons_proposal *p)
{
    const cons_proposal *x = proposal_of(e, r);
    if (!x) return 0;
    *p = *x;
    return 1;
}

/* ---- rounds ---- */

static void start_round(cons_engine *e, uint32_t r)
{
    e->round = r;
    e->step = CONS_STEP_PROPOSE;
    e->sent_proposal = e->sent_prevote = e->sent_precommit = e->asked_build = 0;
    e->timeout_prevote_set = e->timeout_precommit_set = e->pol_seen = 0;
    cons_voteset_set_round(&e->votes, r);
    for (int i = 0; i < CONS_VS_ROUNDS; i++)
        if (e->props[i].used && !proposal_of(e, e->props[i].p.round)) e->props[i].used = 0;
    if (e->self >= 0 && cons_valset_proposer(&e->vs, e->height, r) == (uint32_t)e->self) {
        if (e->valid_round != CONS_POL_NONE) {
            /* Line 15: re-propose the valid value with its POL round. */
            e->sent_proposal = 1;
            cons_output *o = push(e, CONS_OUT_PROPOSAL);
            o->proposal.height = e->height;
            o->proposal.round = r;
            o->proposal.pol_round = e->valid_round;
            memcpy(o->proposal.block_id, e->valid_id, 32);
            o->proposal.proposer = (uint32_t)e->self;
        } else {
            e->asked_build = 1;
            push(e, CONS_OUT_BUILD)->round = r;
        }
    }
    /* Line 21, and also for the proposer: if its host never builds, the
     * round still ends. */
    schedule(e, CONS_STEP_PROPOSE);
}

static int can_prevote_for(const cons_engine *e, const cons_proposal *p)
{
#ifdef CONS_TEST_BREAK_LOCK
    /* Test builds only (tests/sim, the mutant): the lock rule is gone, to
     * show that the simulation finds the agreement violation that follows. */
    (void)e;
    (void)p;
    return 1;
#else
    if (e->locked_round == CONS_POL_NONE || memcmp(e->locked_id, p->block_id, 32) == 0) return 1;
    /* Line 29: a POL newer than (or as new as) our lock unlocks us. */
    return p->pol_round != CONS_POL_NONE && e->locked_round <= p->pol_round;
#endif
}

static void decide(cons_engine *e, uint32_t r, const uint8_t id[32])
{
    if (!cons_voteset_commit(&e->votes, r, id, &e->commit)) return;
    e->step = CONS_STEP_DECIDED;
    e->decided_round = r;
    memcpy(e->decided_id, id, 32);
    cons_output *o = push(e, CONS_OUT_DECIDE);
    o->round = r;
    memcpy(o->block_id, id, 32);
}

/* One pass over the rules; 1 if one fired (state changed). */
static int step_once(cons_engine *e)
{
    const cons_voteset *vs = &e->votes;
    uint32_t r = e->round;
    uint8_t id[32];

    /* Line 49: 2/3+ precommits for a block in any round decide it. Honest
     * validators precommit only blocks they validated, so the host may have
     * to fetch the block, but it is valid. */
    for (uint32_t k = 0; k < CONS_VS_ROUNDS; k++) {
        uint32_t rr = vs->base + k;
        if (cons_voteset_quorum_value(vs, rr, CHAIN_VOTE_PRECOMMIT, id) && !cons_id_is_nil(id)) {
            decide(e, rr, id);
            return 1;
        }
    }

    /* Line 55: f+1 of a higher round: skip to it. */
    uint32_t to;
    if (cons_voteset_skip_round(vs, r, &to)) {
        start_round(e, to);
        return 1;
    }

    const cons_proposal *p = proposal_of(e, r);
    /* Line 28 needs the prevotes of the proposal's POL round. */
    cons_voteset_keep(&e->votes, 1, p ? p->pol_round : CONS_POL_NONE);
    if (e->step == CONS_STEP_PROPOSE && p && !e->sent_prevote) {
        int ready = p->pol_round == CONS_POL_NONE                       /* line 22 */
                    || cons_voteset_pol(vs, p->pol_round, p->block_id); /* line 28 */
        if (ready) {
            int v = validity(e, p->block_id);
            if (v) {
                int yes = v == CONS_BLK_VALID && can_prevote_for(e, p);
                vote(e, CHAIN_VOTE_PREVOTE, yes ? p->block_id : NIL);
                e->step = CONS_STEP_PREVOTE;
                return 1;
            }
        }
    }

    /* Line 34. */
    if (e->step == CONS_STEP_PREVOTE && !e->timeout_prevote_set &&
        cons_voteset_quorum_any(vs, r, CHAIN_VOTE_PREVOTE)) {
        e->timeout_prevote_set = 1;
        schedule(e, CONS_STEP_PREVOTE);
        return 1;
    }

    /* Line 36: 2/3+ prevotes for the proposal, which is valid. */
    if (p && !e->pol_seen && e->step >= CONS_STEP_PREVOTE &&
        cons_voteset_quorum_for(vs, r, CHAIN_VOTE_PREVOTE, p->block_id)) {
        int v = validity(e, p->block_id);
        if (v == CONS_BLK_VALID) {
            e->pol_seen = 1;
            if (e->step == CONS_STEP_PREVOTE) {
                e->locked_round = r;
                memcpy(e->locked_id, p->block_id, 32);
                vote(e, CHAIN_VOTE_PRECOMMIT, p->block_id);
                e->step = CONS_STEP_PRECOMMIT;
            }
            e->valid_round = r;
            memcpy(e->valid_id, p->block_id, 32);
            /* Peers that missed them need these prevotes to accept our
             * re-proposal (line 28): keep them after the window moves. */
            cons_voteset_keep(&e->votes, 0, r);
            return 1;
        }
        if (v == CONS_BLK_INVALID) e->pol_seen = 1; /* never fires for this round */
    }

    /* Line 44. */
    if (e->step == CONS_STEP_PREVOTE && cons_voteset_quorum_for(vs, r, CHAIN_VOTE_PREVOTE, NIL)) {
        vote(e, CHAIN_VOTE_PRECOMMIT, NIL);
        e->step = CONS_STEP_PRECOMMIT;
        return 1;
    }

    /* Line 47. */
    if (!e->timeout_precommit_set && cons_voteset_quorum_any(vs, r, CHAIN_VOTE_PRECOMMIT)) {
        e->timeout_precommit_set = 1;
        schedule(e, CONS_STEP_PRECOMMIT);
        return 1;
    }
    return 0;
}

static void progress(cons_engine *e)
{
    /* Each firing sets a flag, moves the step forward or the round up, so
     * the loop ends; the bound is a guard. */
    for (int i = 0; i < 16 && e->step != CONS_STEP_DECIDED && step_once(e); i++) {
    }
}

static int running(const cons_engine *e, uint64_t h)
{
    return e->step != CONS_STEP_NONE && e->step != CONS_STEP_DECIDED && h == e->height;
}

int cons_engine_start_height(cons_engine *e, uint64_t h, const cons_valset *vs,
                             const cons_params *p, util_err *err)
{
    if (h == 0 || (e->step != CONS_STEP_NONE && h <= e->height))
        return util_err_set(err, UTIL_EINVAL, "consensus: cannot start height %llu at %llu",
                            (unsigned long long)h, (unsigned long long)e->height);
    int rc = room(e, err);
    if (rc) return rc;
    e->vs = *vs;
    e->params = *p;
    e->height = h;
    e->self = e->has_self ? cons_valset_find(&e->vs, e->self_key) : -1;
    e->locked_round = e->valid_round = CONS_POL_NONE;
    memset(e->locked_id, 0, 32);
    memset(e->valid_id, 0, 32);
    memset(e->props, 0, sizeof e->props);
    e->nblocks = e->block_next = 0;
    e->decided_round = 0;
    memset(e->decided_id, 0, 32);
    memset(&e->commit, 0, sizeof e->commit);
    cons_voteset_init(&e->votes, &e->vs, h);
    start_round(e, 0);
    progress(e);
    return 0;
}

int cons_engine_on_proposal(cons_engine *e, const cons_proposal *p, util_err *err)
{
    if (!running(e, p->height)) return 0;
    int rc = room(e, err);
    if (rc) return rc;
    if (p->proposer != cons_valset_proposer(&e->vs, p->height, p->round))
        return util_err_set(err, UTIL_EINVAL, "proposal: validator %u is not the proposer",
                            (unsigned)p->proposer);
    if (p->pol_round != CONS_POL_NONE && p->pol_round >= p->round)
        return util_err_set(err, UTIL_EINVAL, "proposal: pol_round not below round");
    if (cons_id_is_nil(p->block_id))
        return util_err_set(err, UTIL_EINVAL, "proposal: nil block id");
    cons_voteset_note_round(&e->votes, p->proposer, p->round);
    const cons_voteset *s = &e->votes;
    if (p->round >= s->base && p->round - s->base < CONS_VS_ROUNDS && !proposal_of(e, p->round)) {
        /* The first proposal of a round wins; a second one (an equivocating
         * proposer) is ignored: a block needs 2/3+ prevotes anyway. */
        e->props[p->round % CONS_VS_ROUNDS].used = 1;
        e->props[p->round % CONS_VS_ROUNDS].p = *p;
        (void)validity(e, p->block_id); /* ask the host now, not when needed */
    }
    progress(e);
    return 0;
}

int cons_engine_on_vote(cons_engine *e, const cons_vote *v, util_err *err)
{
    if (!running(e, v->height)) return 0;
    int rc = room(e, err);
    if (rc) return rc;
    cons_evidence ev;
    switch (cons_voteset_add(&e->votes, v, &ev)) {
    case CONS_VS_BAD:
        return util_err_set(err, UTIL_EINVAL, "vote: validator %u or type %u invalid",
                            (unsigned)v->validator, (unsigned)v->type);
    case CONS_VS_CONFLICT: push(e, CONS_OUT_EVIDENCE)->evidence = ev; break;
    case CONS_VS_DUP: return 0;
    default: break;
    }
    progress(e);
    return 0;
}

int cons_engine_on_validated(cons_engine *e, uint64_t h, const uint8_t id[32], int valid,
                             util_err *err)
{
    if (!running(e, h)) return 0;
    int rc = room(e, err);
    if (rc) return rc;
    *block_slot(e, id) = valid ? CONS_BLK_VALID : CONS_BLK_INVALID;
    progress(e);
    return 0;
}

int cons_engine_on_built(cons_engine *e, uint64_t h, uint32_t round, const uint8_t id[32],
                         util_err *err)
{
    /* Too late once we prevoted (the propose timeout fired): a proposal
     * signed after our prevote of the round would be refused by a signer
     * that keeps the steps in order (consensus/signer.h). */
    if (!running(e, h) || round != e->round || !e->asked_build || e->sent_proposal ||
        e->step != CONS_STEP_PROPOSE)
        return 0;
    int rc = room(e, err);
    if (rc) return rc;
    if (cons_id_is_nil(id)) return 0;
    *block_slot(e, id) = CONS_BLK_VALID; /* we executed it */
    e->sent_proposal = 1;
    cons_output *o = push(e, CONS_OUT_PROPOSAL);
    o->proposal.height = h;
    o->proposal.round = round;
    o->proposal.pol_round = CONS_POL_NONE;
    memcpy(o->proposal.block_id, id, 32);
    o->proposal.proposer = (uint32_t)e->self;
    progress(e);
    return 0;
}

int cons_engine_on_timeout(cons_engine *e, uint64_t h, uint32_t round, uint8_t step, util_err *err)
{
    if (!running(e, h) || round != e->round) return 0;
    int rc = room(e, err);
    if (rc) return rc;
    if (step == CONS_STEP_PROPOSE && e->step == CONS_STEP_PROPOSE) { /* line 57 */
        vote(e, CHAIN_VOTE_PREVOTE, NIL);
        e->step = CONS_STEP_PREVOTE;
    } else if (step == CONS_STEP_PREVOTE && e->step == CONS_STEP_PREVOTE) { /* line 61 */
        vote(e, CHAIN_VOTE_PRECOMMIT, NIL);
        e->step = CONS_STEP_PRECOMMIT;
    } else if (step == CONS_STEP_PRECOMMIT) { /* line 65 */
        start_round(e, round + 1);
    } else {
        return 0;
    }
    progress(e);
    return 0;
}

int cons_engine_on_commit(cons_engine *e, uint64_t h, const uint8_t id[32], const chain_commit *c,
                          util_err *err)
{
    if (!running(e, h)) return 0;
    int rc = room(e, err);
    if (rc) return rc;
    if (cons_id_is_nil(id)) return util_err_set(err, UTIL_EINVAL, "commit: nil block id");
    uint64_t power = 0;
    for (uint32_t k = 0; k < c->n; k++) {
        uint32_t v = c->sigs[k].validator;
        if (v >= e->vs.n || (k > 0 && v <= c->sigs[k - 1].validator))
            return util_err_set(err, UTIL_EINVAL, "commit: validator indexes not increasing");
        power += e->vs.v[v].power;
    }
    if (c->n > CONS_MAX_VALIDATORS || !cons_valset_has_quorum(&e->vs, power))
        return util_err_set(err, UTIL_EINVAL, "commit: less than 2/3 of the power");
    e->commit = *c;
    e->step = CONS_STEP_DECIDED;
    e->decided_round = c->round;
    memcpy(e->decided_id, id, 32);
    cons_output *o = push(e, CONS_OUT_DECIDE);
    o->round = c->round;
    memcpy(o->block_id, id, 32);
    return 0;
}

const chain_commit *cons_engine_commit(const cons_engine *e)
{
    return e->step == CONS_STEP_DECIDED ? &e->commit : NULL;
}

const cons_voteset *cons_engine_votes(const cons_engine *e)
{
    return &e->votes;
}

void cons_engine_state_get(const cons_engine *e, cons_state *s)
{
    memset(s, 0, sizeof *s);
    s->height = e->height;
    s->round = e->round;
    s->step = e->step;
    s->locked_round = e->locked_round;
    memcpy(s->locked_id, e->locked_id, 32);
    s->valid_round = e->valid_round;
    memcpy(s->valid_id, e->valid_id, 32);
    const cons_proposal *p = proposal_of(e, e->round);
    if (p) {
        s->has_proposal = 1;
        memcpy(s->proposal_id, p->block_id, 32);
    }
    s->proposer = e->step == CONS_STEP_NONE ? 0 : cons_valset_proposer(&e->vs, e->height, e->round);
    s->prevote_power = cons_voteset_power(&e->votes, e->round, CHAIN_VOTE_PREVOTE);
    s->precommit_power = cons_voteset_power(&e->votes, e->round, CHAIN_VOTE_PRECOMMIT);
    s->total_power = e->vs.total;
}
