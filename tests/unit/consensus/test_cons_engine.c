/* consensus/engine: the rules of Algorithm 1 one scenario at a time, with
 * the test as the host (it drains the outputs and plays the other
 * validators): a single validator decides at once; an invalid block gets a
 * nil prevote; the lock keeps a validator off another value; the valid
 * value is re-proposed with its POL round; f+1 of a higher round skips to
 * it; timeouts grow per round; 2/3+ precommits decide in any round; a
 * verified commit decides; conflicting votes come out as evidence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "consensus/engine.h"

static cons_valset vs;
/* Deltas differ per step so that the test sees each one used. */
static cons_params params = {.timeout_propose_ms = 300,
                             .timeout_propose_delta_ms = 50,
                             .timeout_prevote_ms = 100,
                             .timeout_prevote_delta_ms = 20,
                             .timeout_precommit_ms = 100,
                             .timeout_precommit_delta_ms = 30};
static cons_output outs[256];
static size_t nout;

static void key(uint8_t k[32], uint32_t i)
{
    memset(k, 0, 32);
    k[0] = (uint8_t)(i + 1);
}

static void make_set(size_t n)
{
    uint8_t keys[8][32];
    uint64_t p[8];
    for (uint32_t i = 0; i < n; i++) {
        key(keys[i], i);
        p[i] = 1;
    }
    assert_int_equal(cons_valset_init_raw(&vs, (const uint8_t(*)[32])keys, p, n, NULL), 0);
}

static cons_engine *engine_for(uint32_t self)
{
    cons_engine *e = malloc(sizeof *e);
    assert_non_null(e);
    uint8_t k[32];
    key(k, self);
    cons_engine_init(e, &params, k);
    return e;
}

static void drain(cons_engine *e)
{
    nout = 0;
    cons_output o;
    while (cons_engine_next(e, &o))
        if (nout < 256) outs[nout++] = o;
}

static const cons_output *find(int kind)
{
    for (size_t i = 0; i < nout; i++)
        if (outs[i].kind == kind) return &outs[i];
    return NULL;
}

static void id_of(uint8_t id[32], uint8_t b)
{
    memset(id, b, 32);
}

static void vote_from(cons_engine *e, uint32_t val, uint8_t type, uint32_t round, uint8_t b)
{
    cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = e->height;
    v.round = round;
    v.validator = val;
    id_of(v.block_id, b);
    assert_int_equal(cons_engine_on_vote(e, &v, NULL), 0);
}

static void proposal_from(cons_engine *e, uint32_t round, uint8_t b, uint32_t pol)
{
    cons_proposal p;
    memset(&p, 0, sizeof p);
    p.height = e->height;
    p.round = round;
    p.pol_round = pol;
    id_of(p.block_id, b);
    p.proposer = cons_valset_proposer(&vs, e->height, round);
    assert_int_equal(cons_engine_on_proposal(e, &p, NULL), 0);
}

/* A validator of the 4-set that is not the proposer of rounds 0 and 1 at h. */
static uint32_t follower(uint64_t h)
{
    for (uint32_t i = 0; i < 4; i++)
        if (i != cons_valset_proposer(&vs, h, 0) && i != cons_valset_proposer(&vs, h, 1)) return i;
    fail();
    return 0;
}

static void start(cons_engine *e, uint64_t h)
{
    assert_int_equal(cons_engine_start_height(e, h, &vs, &params, NULL), 0);
}

static void test_single_validator_decides_at_once(void **state)
{
    (void)state;
    make_set(1);
    cons_engine *e = engine_for(0);
    for (uint64_t h = 1; h <= 3; h++) {
        start(e, h);
        drain(e);
        const cons_output *b = find(CONS_OUT_BUILD);
        assert_non_null(b);
        assert_int_equal(b->round, 0);
        uint8_t id[32];
        id_of(id, (uint8_t)(0x10 + h));
        assert_int_equal(cons_engine_on_built(e, h, 0, id, NULL), 0);
        drain(e);
        const cons_output *p = find(CONS_OUT_PROPOSAL);
        assert_non_null(p);
        assert_int_equal(p->proposal.pol_round, CONS_POL_NONE);
        cons_proposal prop = p->proposal;
        assert_int_equal(cons_engine_on_proposal(e, &prop, NULL), 0); /* fed back, signed */
        drain(e);
        assert_null(find(CONS_OUT_VALIDATE)); /* we built it: no need */
        const cons_output *v = find(CONS_OUT_VOTE);
        assert_non_null(v);
        assert_int_equal(v->vote.type, CHAIN_VOTE_PREVOTE);
        assert_memory_equal(v->vote.block_id, id, 32);
        cons_vote pv = v->vote;
        assert_int_equal(cons_engine_on_vote(e, &pv, NULL), 0);
        drain(e);
        v = find(CONS_OUT_VOTE);
        assert_non_null(v);
        assert_int_equal(v->vote.type, CHAIN_VOTE_PRECOMMIT);
        cons_vote pc = v->vote;
        assert_int_equal(cons_engine_on_vote(e, &pc, NULL), 0);
        drain(e);
        const cons_output *d = find(CONS_OUT_DECIDE);
        assert_non_null(d);
        assert_int_equal(d->height, h);
        assert_memory_equal(d->block_id, id, 32);
        const chain_commit *c = cons_engine_commit(e);
        assert_non_null(c);
        assert_int_equal(c->n, 1);
        assert_int_equal(c->sigs[0].validator, 0);
        cons_state st;
        cons_engine_state_get(e, &st);
        assert_int_equal(st.step, CONS_STEP_DECIDED);
    }
    free(e);
}

static void test_invalid_block_prevotes_nil(void **state)
{
    (void)state;
    make_set(4);
    uint32_t me = follower(1);
    cons_engine *e = engine_for(me);
    start(e, 1);
    drain(e);
    assert_null(find(CONS_OUT_BUILD));
    proposal_from(e, 0, 0xbb, CONS_POL_NONE);
    drain(e);
    const cons_output *v = find(CONS_OUT_VALIDATE);
    assert_non_null(v);
    assert_int_equal(v->block_id[0], 0xbb);
    assert_null(find(CONS_OUT_VOTE)); /* waits for the answer */
    uint8_t id[32];
    id_of(id, 0xbb);
    assert_int_equal(cons_engine_on_validated(e, 1, id, 0, NULL), 0);
    drain(e);
    const cons_output *pv = find(CONS_OUT_VOTE);
    assert_non_null(pv);
    assert_int_equal(pv->vote.type, CHAIN_VOTE_PREVOTE);
    assert_true(cons_id_is_nil(pv->vote.block_id));
    free(e);
}

/* Round 0 at height 1: the engine validates 0xaa, sees 2/3+ prevotes for
 * it and locks; precommits go nil elsewhere and round 1 starts. */
static cons_engine *locked_on_aa(uint32_t me)
{
    cons_engine *e = engine_for(me);
    start(e, 1);
    drain(e);
    proposal_from(e, 0, 0xaa, CONS_POL_NONE);
    uint8_t id[32];
    id_of(id, 0xaa);
    assert_int_equal(cons_engine_on_validated(e, 1, id, 1, NULL), 0);
    drain(e);
    assert_int_equal(find(CONS_OUT_VOTE)->vote.block_id[0], 0xaa);
    for (uint32_t i = 0; i < 4; i++)
        if (i != me) vote_from(e, i, CHAIN_VOTE_PREVOTE, 0, 0xaa);
    drain(e);
    const cons_output *pc = find(CONS_OUT_VOTE);
    assert_non_null(pc);
    assert_int_equal(pc->vote.type, CHAIN_VOTE_PRECOMMIT);
    assert_int_equal(pc->vote.block_id[0], 0xaa);
    cons_state st;
    cons_engine_state_get(e, &st);
    assert_int_equal(st.locked_round, 0);
    assert_int_equal(st.locked_id[0], 0xaa);
    assert_int_equal(st.valid_round, 0);
    for (uint32_t i = 0; i < 4; i++)
        if (i != me) vote_from(e, i, CHAIN_VOTE_PRECOMMIT, 0, 0x00);
    drain(e);
    const cons_output *t = find(CONS_OUT_TIMEOUT);
    assert_non_null(t);
    assert_int_equal(t->step, CONS_STEP_PRECOMMIT);
    assert_int_equal(cons_engine_on_timeout(e, 1, 0, CONS_STEP_PRECOMMIT, NULL), 0);
    drain(e);
    cons_engine_state_get(e, &st);
    assert_int_equal(st.round, 1);
    assert_int_equal(st.step, CONS_STEP_PROPOSE);
    return e;
}

static void test_lock_prevents_other_value(void **state)
{
    (void)state;
    make_set(4);
    uint32_t me = follower(1);
    cons_engine *e = locked_on_aa(me);
    /* Round 1: a valid new block 0xbb without a POL: locked, so nil. (Had
     * 2/3+ prevoted 0xbb in round 1 all the same, line 36 would move the
     * lock to it: the lock follows the newest POL seen while prevoting.) */
    proposal_from(e, 1, 0xbb, CONS_POL_NONE);
    uint8_t id[32];
    id_of(id, 0xbb);
    assert_int_equal(cons_engine_on_validated(e, 1, id, 1, NULL), 0);
    drain(e);
    const cons_output *v = find(CONS_OUT_VOTE);
    assert_non_null(v);
    assert_int_equal(v->vote.round, 1);
    assert_true(cons_id_is_nil(v->vote.block_id));
    free(e);

    /* The same block while not locked gets our prevote. */
    e = engine_for(me);
    start(e, 1);
    drain(e);
    assert_int_equal(cons_engine_on_timeout(e, 1, 0, CONS_STEP_PROPOSE, NULL), 0);
    for (uint32_t i = 0; i < 4; i++)
        if (i != me) vote_from(e, i, CHAIN_VOTE_PRECOMMIT, 0, 0x00);
    assert_int_equal(cons_engine_on_timeout(e, 1, 0, CONS_STEP_PRECOMMIT, NULL), 0);
    drain(e);
    proposal_from(e, 1, 0xbb, CONS_POL_NONE);
    assert_int_equal(cons_engine_on_validated(e, 1, id, 1, NULL), 0);
    drain(e);
    v = find(CONS_OUT_VOTE);
    assert_non_null(v);
    assert_int_equal(v->vote.block_id[0], 0xbb);
    free(e);
}

static void test_lock_released_by_newer_pol(void **state)
{
    (void)state;
    make_set(4);
    uint32_t me = follower(1);
    cons_engine *e = locked_on_aa(me);
    /* Round 1: 0xbb, which we prevote nil (locked). Two others prevote it:
     * with ours, 2/3+ prevotes of any kind, so the prevote timeout runs and
     * we precommit nil. */
    proposal_from(e, 1, 0xbb, CONS_POL_NONE);
    uint8_t id[32];
    id_of(id, 0xbb);
    assert_int_equal(cons_engine_on_validated(e, 1, id, 1, NULL), 0);
    uint32_t others[3], k = 0;
    for (uint32_t i = 0; i < 4; i++)
        if (i != me) others[k++] = i;
    vote_from(e, others[0], CHAIN_VOTE_PREVOTE, 1, 0xbb);
    vote_from(e, others[1], CHAIN_VOTE_PREVOTE, 1, 0xbb);
    assert_int_equal(cons_engine_on_timeout(e, 1, 1, CONS_STEP_PREVOTE, NULL), 0);
    drain(e);
    /* Then the third: 2/3+ for 0xbb after our precommit. The valid value
     * moves to 0xbb; the lock stays (line 36 locks only in the prevote step). */
    vote_from(e, others[2], CHAIN_VOTE_PREVOTE, 1, 0xbb);
    drain(e);
    assert_null(find(CONS_OUT_VOTE));
    cons_state st;
    cons_engine_state_get(e, &st);
    assert_int_equal(st.valid_round, 1);
    assert_int_equal(st.valid_id[0], 0xbb);
    assert_int_equal(st.locked_round, 0);
    assert_int_equal(st.locked_id[0], 0xaa);
    /* Round 2: 0xbb again with pol_round 1 >= our lock round: prevote it. */
    assert_int_equal(cons_engine_on_timeout(e, 1, 1, CONS_STEP_PRECOMMIT, NULL), 0);
    drain(e);
    cons_engine_state_get(e, &st);
    assert_int_equal(st.round, 2);
    if (cons_valset_proposer(&vs, 1, 2) == me) {
        /* We re-propose the valid value ourselves. */
        const cons_output *p = find(CONS_OUT_PROPOSAL);
        assert_non_null(p);
        assert_int_equal(p->proposal.pol_round, 1);
        cons_proposal prop = p->proposal;
        assert_int_equal(cons_engine_on_proposal(e, &prop, NULL), 0);
    } else {
        proposal_from(e, 2, 0xbb, 1);
    }
    drain(e);
    const cons_output *v = find(CONS_OUT_VOTE);
    assert_non_null(v);
    assert_int_equal(v->vote.round, 2);
    assert_int_equal(v->vote.block_id[0], 0xbb);
    free(e);
}

static void test_valid_value_reproposed(void **state)
{
    (void)state;
    make_set(4);
    /* The proposer of round 1 locks on 0xaa in round 0 (as a follower of
     * round 0), then proposes 0xaa with pol_round 0, not a new block. */
    uint32_t me = cons_valset_proposer(&vs, 1, 1);
    assert_int_not_equal(me, cons_valset_proposer(&vs, 1, 0));
    cons_engine *e = locked_on_aa(me);
    (void)e;
    /* locked_on_aa drained round 1's start: look at it again. */
    const cons_output *p = find(CONS_OUT_PROPOSAL);
    assert_non_null(p);
    assert_null(find(CONS_OUT_BUILD));
    assert_int_equal(p->proposal.round, 1);
    assert_int_equal(p->proposal.pol_round, 0);
    assert_int_equal(p->proposal.block_id[0], 0xaa);
    assert_int_equal(p->proposal.proposer, me);
    free(e);
}

static void test_late_build_not_proposed(void **state)
{
    (void)state;
    make_set(4);
    uint32_t me = cons_valset_proposer(&vs, 1, 0);
    cons_engine *e = engine_for(me);
    start(e, 1);
    drain(e);
    assert_non_null(find(CONS_OUT_BUILD));
    /* The host was slow: the propose timeout fires first, we prevote nil. */
    assert_int_equal(cons_engine_on_timeout(e, 1, 0, CONS_STEP_PROPOSE, NULL), 0);
    drain(e);
    assert_true(cons_id_is_nil(find(CONS_OUT_VOTE)->vote.block_id));
    uint8_t id[32];
    id_of(id, 0x42);
    assert_int_equal(cons_engine_on_built(e, 1, 0, id, NULL), 0);
    drain(e);
    assert_null(find(CONS_OUT_PROPOSAL)); /* no proposal after our prevote */
    free(e);
}

static void test_observer_never_votes(void **state)
{
    (void)state;
    make_set(4);
    cons_engine *e = malloc(sizeof *e);
    assert_non_null(e);
    cons_engine_init(e, &params, NULL); /* a follower: no key */
    start(e, 1);
    drain(e);
    assert_null(find(CONS_OUT_BUILD));
    proposal_from(e, 0, 0xaa, CONS_POL_NONE);
    uint8_t id[32];
    id_of(id, 0xaa);
    assert_int_equal(cons_engine_on_validated(e, 1, id, 1, NULL), 0);
    for (uint32_t i = 0; i < 3; i++)
        vote_from(e, i, CHAIN_VOTE_PREVOTE, 0, 0xaa);
    drain(e);
    assert_null(find(CONS_OUT_VOTE));
    for (uint32_t i = 1; i < 4; i++)
        vote_from(e, i, CHAIN_VOTE_PRECOMMIT, 0, 0xaa);
    drain(e);
    assert_null(find(CONS_OUT_VOTE));
    assert_non_null(find(CONS_OUT_DECIDE));
    free(e);
}

static void test_round_skip(void **state)
{
    (void)state;
    make_set(4);
    cons_engine *e = engine_for(follower(1));
    start(e, 1);
    drain(e);
    /* One validator at round 5: not enough (could be faulty alone). */
    vote_from(e, ((uint32_t)e->self + 1) % 4, CHAIN_VOTE_PREVOTE, 5, 0xcc);
    drain(e);
    cons_state st;
    cons_engine_state_get(e, &st);
    assert_int_equal(st.round, 0);
    /* A second one (f+1 of 4): skip to round 5 and start it. */
    vote_from(e, ((uint32_t)e->self + 2) % 4, CHAIN_VOTE_PRECOMMIT, 5, 0x00);
    drain(e);
    cons_engine_state_get(e, &st);
    assert_int_equal(st.round, 5);
    assert_int_equal(st.step, CONS_STEP_PROPOSE);
    const cons_output *t = find(CONS_OUT_TIMEOUT);
    assert_non_null(t);
    assert_int_equal(t->round, 5);
    free(e);
}

static void test_timeouts_grow(void **state)
{
    (void)state;
    make_set(4);
    uint32_t me = follower(1);
    cons_engine *e = engine_for(me);
    start(e, 1);
    drain(e);
    const cons_output *t = find(CONS_OUT_TIMEOUT);
    assert_non_null(t);
    assert_int_equal(t->step, CONS_STEP_PROPOSE);
    assert_int_equal(t->ms, 300);
    for (uint32_t r = 0; r < 3; r++) {
        assert_int_equal(cons_engine_on_timeout(e, 1, r, CONS_STEP_PROPOSE, NULL), 0);
        for (uint32_t i = 0; i < 4; i++)
            if (i != me) vote_from(e, i, CHAIN_VOTE_PREVOTE, r, 0xdd);
        drain(e);
        /* 2/3+ prevotes for a block we have no proposal of: timeout prevote. */
        t = find(CONS_OUT_TIMEOUT);
        assert_non_null(t);
        assert_int_equal(t->step, CONS_STEP_PREVOTE);
        assert_int_equal(t->ms, 100 + 20 * r);
        assert_int_equal(cons_engine_on_timeout(e, 1, r, CONS_STEP_PREVOTE, NULL), 0);
        drain(e);
        assert_true(cons_id_is_nil(find(CONS_OUT_VOTE)->vote.block_id));
        for (uint32_t i = 0; i < 4; i++)
            if (i != me) vote_from(e, i, CHAIN_VOTE_PRECOMMIT, r, 0x00);
        drain(e);
        t = find(CONS_OUT_TIMEOUT);
        assert_int_equal(t->step, CONS_STEP_PRECOMMIT);
        assert_int_equal(t->ms, 100 + 30 * r);
        assert_int_equal(cons_engine_on_timeout(e, 1, r, CONS_STEP_PRECOMMIT, NULL), 0);
        drain(e);
        t = find(CONS_OUT_TIMEOUT);
        assert_int_equal(t->round, r + 1);
        assert_int_equal(t->ms, 300 + 50 * (r + 1));
    }
    /* Stale timeouts are ignored. */
    assert_int_equal(cons_engine_on_timeout(e, 1, 0, CONS_STEP_PRECOMMIT, NULL), 0);
    drain(e);
    assert_int_equal(nout, 0);
    free(e);
}

static void test_decide_in_any_round_and_by_commit(void **state)
{
    (void)state;
    make_set(4);
    uint32_t me = follower(1);
    cons_engine *e = engine_for(me);
    start(e, 1);
    drain(e);
    /* Precommits for 0xee in round 2 while we are in round 0. */
    for (uint32_t i = 0, n = 0; n < 3; i++)
        if (i != me) {
            vote_from(e, i, CHAIN_VOTE_PRECOMMIT, 2, 0xee);
            n++;
        }
    drain(e);
    const cons_output *d = find(CONS_OUT_DECIDE);
    assert_non_null(d);
    assert_int_equal(d->round, 2);
    assert_int_equal(d->block_id[0], 0xee);
    assert_int_equal(cons_engine_commit(e)->n, 3);
    /* Inputs of the decided height are ignored until the next starts. */
    vote_from(e, 0, CHAIN_VOTE_PREVOTE, 0, 0xee);
    drain(e);
    assert_int_equal(nout, 0);

    /* Height 2 decided from a commit the host verified (block sync). */
    start(e, 2);
    drain(e);
    chain_commit c;
    memset(&c, 0, sizeof c);
    c.round = 40;
    c.n = 2;
    c.sigs[0].validator = 0;
    c.sigs[1].validator = 1;
    uint8_t id[32];
    id_of(id, 0xef);
    util_err err;
    assert_int_equal(cons_engine_on_commit(e, 2, id, &c, &err), UTIL_EINVAL); /* 2 of 4 */
    c.n = 3;
    c.sigs[2].validator = 1;
    assert_int_equal(cons_engine_on_commit(e, 2, id, &c, &err), UTIL_EINVAL); /* not increasing */
    c.sigs[2].validator = 3;
    assert_int_equal(cons_engine_on_commit(e, 2, id, &c, &err), 0);
    drain(e);
    d = find(CONS_OUT_DECIDE);
    assert_non_null(d);
    assert_int_equal(d->height, 2);
    assert_int_equal(d->round, 40);
    free(e);
}

static void test_evidence_and_refusals(void **state)
{
    (void)state;
    make_set(4);
    uint32_t me = follower(1);
    cons_engine *e = engine_for(me);
    start(e, 1);
    drain(e);
    uint32_t other = (me + 1) % 4;
    vote_from(e, other, CHAIN_VOTE_PREVOTE, 0, 0x01);
    vote_from(e, other, CHAIN_VOTE_PREVOTE, 0, 0x01); /* duplicate: nothing */
    drain(e);
    assert_null(find(CONS_OUT_EVIDENCE));
    vote_from(e, other, CHAIN_VOTE_PREVOTE, 0, 0x02);
    drain(e);
    const cons_output *ev = find(CONS_OUT_EVIDENCE);
    assert_non_null(ev);
    assert_int_equal(ev->evidence.a.validator, other);
    assert_int_equal(ev->evidence.a.block_id[0], 0x01);
    assert_int_equal(ev->evidence.b.block_id[0], 0x02);
    /* A proposal from someone else than the round's proposer. */
    cons_proposal p;
    memset(&p, 0, sizeof p);
    p.height = 1;
    p.pol_round = CONS_POL_NONE;
    id_of(p.block_id, 0x03);
    p.proposer = (cons_valset_proposer(&vs, 1, 0) + 1) % 4;
    util_err err;
    assert_int_equal(cons_engine_on_proposal(e, &p, &err), UTIL_EINVAL);
    /* A vote of a validator outside the set. */
    cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = CHAIN_VOTE_PREVOTE;
    v.height = 1;
    v.validator = 4;
    assert_int_equal(cons_engine_on_vote(e, &v, &err), UTIL_EINVAL);
    /* A host that does not drain is told so rather than losing outputs. */
    int rc = 0, calls = 0;
    while (!rc && calls++ < CONS_OUT_CAP)
        rc = cons_engine_on_timeout(e, 1, e->round, CONS_STEP_PRECOMMIT, &err);
    assert_int_equal(rc, UTIL_ESTATE);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_validator_decides_at_once),
        cmocka_unit_test(test_invalid_block_prevotes_nil),
        cmocka_unit_test(test_lock_prevents_other_value),
        cmocka_unit_test(test_lock_released_by_newer_pol),
        cmocka_unit_test(test_valid_value_reproposed),
        cmocka_unit_test(test_late_build_not_proposed),
        cmocka_unit_test(test_observer_never_votes),
        cmocka_unit_test(test_round_skip),
        cmocka_unit_test(test_timeouts_grow),
        cmocka_unit_test(test_decide_in_any_round_and_by_commit),
        cmocka_unit_test(test_evidence_and_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
