/* consensus/voteset: tallies and quorums, duplicates, conflicts as
 * evidence, the bounded round window, kept rounds, the f+1 round skip and
 * commits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "consensus/voteset.h"

static cons_valset vs4;

static void setup4(const uint64_t *p)
{
    uint8_t keys[4][32];
    memset(keys, 0, sizeof keys);
    for (int i = 0; i < 4; i++)
        keys[i][0] = (uint8_t)(i + 1);
    assert_int_equal(cons_valset_init_raw(&vs4, (const uint8_t(*)[32])keys, p, 4, NULL), 0);
}

static cons_vote mk(uint8_t type, uint32_t round, uint32_t val, uint8_t id)
{
    cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = 7;
    v.round = round;
    v.validator = val;
    memset(v.block_id, id, 32); /* id 0: nil */
    v.sig[0] = (uint8_t)(val + 1);
    v.sig[1] = id;
    return v;
}

static int add(cons_voteset *s, uint8_t type, uint32_t round, uint32_t val, uint8_t id)
{
    cons_evidence ev;
    cons_vote v = mk(type, round, val, id);
    return cons_voteset_add(s, &v, &ev);
}

static void test_tallies(void **state)
{
    (void)state;
    uint64_t p[4] = {1, 1, 1, 1};
    setup4(p);
    static cons_voteset s;
    cons_voteset_init(&s, &vs4, 7);
    uint8_t a[32], nil[32] = {0}, got[32];
    memset(a, 0xaa, 32);
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 0, 0, 0xaa), CONS_VS_ADDED);
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 0, 1, 0xaa), CONS_VS_ADDED);
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 0, 1, 0xaa), CONS_VS_DUP);
    assert_false(cons_voteset_quorum_any(&s, 0, CHAIN_VOTE_PREVOTE));
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 0, 2, 0), CONS_VS_ADDED);
    /* 3 of 4 voted, but 2 for a and 1 for nil: 2/3+ any, not for a value. */
    assert_true(cons_voteset_quorum_any(&s, 0, CHAIN_VOTE_PREVOTE));
    assert_false(cons_voteset_quorum_for(&s, 0, CHAIN_VOTE_PREVOTE, a));
    assert_false(cons_voteset_quorum_value(&s, 0, CHAIN_VOTE_PREVOTE, got));
    assert_false(cons_voteset_pol(&s, 0, a));
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 0, 3, 0xaa), CONS_VS_ADDED);
    assert_true(cons_voteset_quorum_for(&s, 0, CHAIN_VOTE_PREVOTE, a));
    assert_true(cons_voteset_quorum_value(&s, 0, CHAIN_VOTE_PREVOTE, got));
    assert_memory_equal(got, a, 32);
    assert_true(cons_voteset_pol(&s, 0, a));
    assert_false(cons_voteset_quorum_for(&s, 0, CHAIN_VOTE_PRECOMMIT, a)); /* types apart */
    assert_false(cons_voteset_pol(&s, 0, nil));
    assert_int_equal(cons_voteset_power(&s, 0, CHAIN_VOTE_PREVOTE), 4);
    /* Nil can be the value with 2/3+. */
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(add(&s, CHAIN_VOTE_PRECOMMIT, 1, i, 0), CONS_VS_ADDED);
    assert_true(cons_voteset_quorum_for(&s, 1, CHAIN_VOTE_PRECOMMIT, nil));
    chain_commit c;
    assert_false(cons_voteset_commit(&s, 1, nil, &c)); /* a nil commit is no commit */
    /* Other heights, types and validators are refused. */
    cons_vote v = mk(CHAIN_VOTE_PREVOTE, 0, 0, 0xaa);
    cons_evidence ev;
    v.height = 8;
    assert_int_equal(cons_voteset_add(&s, &v, &ev), CONS_VS_BAD);
    v = mk(CHAIN_VOTE_PREVOTE, 0, 4, 0xaa);
    assert_int_equal(cons_voteset_add(&s, &v, &ev), CONS_VS_BAD);
    v = mk(9, 0, 0, 0xaa);
    assert_int_equal(cons_voteset_add(&s, &v, &ev), CONS_VS_BAD);
}

static void test_weighted_quorum(void **state)
{
    (void)state;
    uint64_t p[4] = {5, 1, 1, 1}; /* T = 8: 2/3+ needs 6 */
    setup4(p);
    static cons_voteset s;
    cons_voteset_init(&s, &vs4, 7);
    uint8_t b[32];
    memset(b, 0xbb, 32);
    assert_int_equal(add(&s, CHAIN_VOTE_PRECOMMIT, 0, 0, 0xbb), CONS_VS_ADDED);
    assert_false(cons_voteset_quorum_for(&s, 0, CHAIN_VOTE_PRECOMMIT, b));
    assert_int_equal(add(&s, CHAIN_VOTE_PRECOMMIT, 0, 2, 0xbb), CONS_VS_ADDED);
    assert_true(cons_voteset_quorum_for(&s, 0, CHAIN_VOTE_PRECOMMIT, b));
    chain_commit c;
    assert_true(cons_voteset_commit(&s, 0, b, &c));
    assert_int_equal(c.round, 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.sigs[0].validator, 0);
    assert_int_equal(c.sigs[1].validator, 2);
    assert_int_equal(c.sigs[1].sig[0], 3);
}

static void test_conflict_evidence(void **state)
{
    (void)state;
    uint64_t p[4] = {1, 1, 1, 1};
    setup4(p);
    static cons_voteset s;
    cons_voteset_init(&s, &vs4, 7);
    cons_evidence ev;
    cons_vote v1 = mk(CHAIN_VOTE_PREVOTE, 2, 1, 0xcc), v2 = mk(CHAIN_VOTE_PREVOTE, 2, 1, 0);
    assert_int_equal(cons_voteset_add(&s, &v1, &ev), CONS_VS_ADDED);
    assert_int_equal(cons_voteset_add(&s, &v2, &ev), CONS_VS_CONFLICT);
    /* Ordered by block id: nil (zeros) first; both signatures kept. */
    assert_int_equal(ev.a.block_id[0], 0);
    assert_int_equal(ev.b.block_id[0], 0xcc);
    assert_int_equal(ev.a.sig[1], 0);
    assert_int_equal(ev.b.sig[1], 0xcc);
    assert_int_equal(ev.a.validator, 1);
    /* Only the first vote counts. */
    assert_int_equal(cons_voteset_power(&s, 2, CHAIN_VOTE_PREVOTE), 1);
    cons_vote got;
    assert_true(cons_voteset_get(&s, 2, CHAIN_VOTE_PREVOTE, 1, &got));
    assert_int_equal(got.block_id[0], 0xcc);
    /* A prevote and a precommit of one round do not conflict. */
    assert_int_equal(add(&s, CHAIN_VOTE_PRECOMMIT, 2, 1, 0), CONS_VS_ADDED);
}

static void test_window_skip_keep(void **state)
{
    (void)state;
    uint64_t p[4] = {1, 1, 1, 1};
    setup4(p);
    static cons_voteset s;
    cons_voteset_init(&s, &vs4, 7);
    uint32_t to;
    /* Rounds [0, CONS_VS_ROUNDS) are stored; beyond, only counted. */
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, CONS_VS_ROUNDS, 0, 0xaa), CONS_VS_WINDOW);
    assert_false(cons_voteset_get(&s, CONS_VS_ROUNDS, CHAIN_VOTE_PREVOTE, 0, &(cons_vote){0}));
    /* One validator of 4 ahead is not f+1; two are, at the lower of their
     * highest rounds. */
    assert_false(cons_voteset_skip_round(&s, 0, &to));
    assert_int_equal(add(&s, CHAIN_VOTE_PRECOMMIT, 5, 1, 0), CONS_VS_ADDED);
    assert_true(cons_voteset_skip_round(&s, 0, &to));
    assert_int_equal(to, 5);
    assert_false(cons_voteset_skip_round(&s, 5, &to));
    cons_voteset_note_round(&s, 2, 20); /* a proposal counts too */
    assert_true(cons_voteset_skip_round(&s, 5, &to));
    assert_int_equal(to, CONS_VS_ROUNDS);

    /* A POL in round 1, kept as the valid round, survives the window. */
    uint8_t a[32];
    memset(a, 0xaa, 32);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 1, i, 0xaa), CONS_VS_ADDED);
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 3, 0, 0xaa), CONS_VS_ADDED);
    cons_voteset_keep(&s, 0, 1);
    cons_voteset_set_round(&s, 30);
    assert_true(cons_voteset_quorum_for(&s, 1, CHAIN_VOTE_PREVOTE, a));
    cons_vote got;
    assert_true(cons_voteset_get(&s, 1, CHAIN_VOTE_PREVOTE, 2, &got));  /* to re-gossip */
    assert_false(cons_voteset_get(&s, 3, CHAIN_VOTE_PREVOTE, 0, &got)); /* dropped */
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 3, 1, 0xaa), CONS_VS_WINDOW);
    /* Keeping an old round from now on (a proposal's pol_round): its votes
     * are stored again as they come. */
    cons_voteset_keep(&s, 1, 3);
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 3, 1, 0xaa), CONS_VS_ADDED);
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 3, 2, 0xaa), CONS_VS_ADDED);
    assert_false(cons_voteset_pol(&s, 3, a));
    assert_int_equal(add(&s, CHAIN_VOTE_PREVOTE, 3, 3, 0xaa), CONS_VS_ADDED);
    assert_true(cons_voteset_pol(&s, 3, a));
    /* Both places on one round, then place 0 moves on: place 1 keeps it. */
    cons_voteset_keep(&s, 0, 3);
    cons_voteset_keep(&s, 0, CONS_POL_NONE);
    assert_true(cons_voteset_quorum_for(&s, 3, CHAIN_VOTE_PREVOTE, a));
    /* The POL memory answers for rounds no longer stored at all. */
    assert_true(cons_voteset_pol(&s, 1, a));
    /* The window never moves back. */
    cons_voteset_set_round(&s, 2);
    assert_int_equal(s.base, 30 - CONS_VS_BEHIND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tallies),
        cmocka_unit_test(test_weighted_quorum),
        cmocka_unit_test(test_conflict_evidence),
        cmocka_unit_test(test_window_skip_keep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
