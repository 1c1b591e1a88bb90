/* consensus/valset: integer thresholds at their edges, and the weighted
 * proposer rotation: deterministic, exactly fair by power over each cycle of
 * total-power steps, spread out, and fair over many heights in round 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "consensus/valset.h"

static void make(cons_valset *vs, const uint64_t *powers, size_t n)
{
    uint8_t keys[CONS_MAX_VALIDATORS][32];
    for (size_t i = 0; i < n; i++) {
        memset(keys[i], 0, 32);
        keys[i][0] = (uint8_t)(i + 1);
    }
    assert_int_equal(cons_valset_init_raw(vs, (const uint8_t(*)[32])keys, powers, n, NULL), 0);
}

static void test_thresholds(void **state)
{
    (void)state;
    cons_valset vs;
    /* 4 x 1: 3 of 4 is 2/3+, 2 is not; f+1 = 2. */
    uint64_t four[4] = {1, 1, 1, 1};
    make(&vs, four, 4);
    assert_false(cons_valset_has_quorum(&vs, 2));
    assert_true(cons_valset_has_quorum(&vs, 3));
    assert_false(cons_valset_has_one_third(&vs, 1));
    assert_true(cons_valset_has_one_third(&vs, 2));
    /* T = 3: exactly 2/3 (2) is not more than 2/3. */
    uint64_t three[3] = {1, 1, 1};
    make(&vs, three, 3);
    assert_false(cons_valset_has_quorum(&vs, 2));
    assert_true(cons_valset_has_quorum(&vs, 3));
    assert_false(cons_valset_has_one_third(&vs, 1));
    /* T = 6: 4 is exactly 2/3, 5 is more; 2 is exactly 1/3, 3 is more. */
    uint64_t six[2] = {2, 4};
    make(&vs, six, 2);
    assert_false(cons_valset_has_quorum(&vs, 4));
    assert_true(cons_valset_has_quorum(&vs, 5));
    assert_false(cons_valset_has_one_third(&vs, 2));
    assert_true(cons_valset_has_one_third(&vs, 3));
    /* A total near 2^64: no overflow in 2T/3. */
    uint64_t big[2] = {UINT64_MAX / 2, UINT64_MAX / 2};
    make(&vs, big, 2);
    uint64_t t = vs.total;
    assert_true(cons_valset_has_quorum(&vs, t));
    assert_false(cons_valset_has_quorum(&vs, t / 3 * 2));
    assert_true(cons_valset_has_quorum(&vs, t / 3 * 2 + 1 + ((t % 3) * 2) / 3));
    /* One validator: everything it has is a quorum. */
    uint64_t one[1] = {7};
    make(&vs, one, 1);
    assert_true(cons_valset_has_quorum(&vs, 7));
    assert_int_equal(cons_valset_proposer(&vs, 123, 45), 0);
}

static void test_rejects(void **state)
{
    (void)state;
    cons_valset vs;
    uint8_t keys[2][32];
    memset(keys, 0, sizeof keys);
    uint64_t p[2] = {1, 1};
    util_err err;
    /* Same key twice. */
    assert_int_equal(cons_valset_init_raw(&vs, (const uint8_t(*)[32])keys, p, 2, &err),
                     UTIL_EINVAL);
    keys[1][0] = 1;
    uint64_t zero[2] = {1, 0};
    assert_int_equal(cons_valset_init_raw(&vs, (const uint8_t(*)[32])keys, zero, 2, &err),
                     UTIL_EINVAL);
    uint64_t over[2] = {UINT64_MAX, 1};
    assert_int_equal(cons_valset_init_raw(&vs, (const uint8_t(*)[32])keys, over, 2, &err),
                     UTIL_EINVAL);
    assert_int_equal(cons_valset_init_raw(&vs, (const uint8_t(*)[32])keys, p, 0, &err),
                     UTIL_EINVAL);
}

static void test_rotation_fair(void **state)
{
    (void)state;
    static const uint64_t sets[][6] = {
        {1, 1, 1, 1, 0, 0}, {1, 2, 3, 4, 0, 0}, {10, 1, 1, 1, 1, 1}, {7, 7, 3, 0, 0, 0}};
    static const size_t ns[] = {4, 4, 6, 3};
    for (size_t k = 0; k < 4; k++) {
        cons_valset vs;
        make(&vs, sets[k], ns[k]);
        uint64_t count[6] = {0};
        /* Exactly fair over each cycle of T steps (round 0, consecutive
         * heights), and so over many heights. */
        uint64_t cycles = 50;
        for (uint64_t h = 1; h <= cycles * vs.total; h++)
            count[cons_valset_proposer(&vs, h, 0)]++;
        for (size_t i = 0; i < ns[k]; i++)
            assert_int_equal(count[i], cycles * sets[k][i]);
        /* Deterministic: the same answer twice; round r at height h is the
         * next step after round r-1. */
        assert_int_equal(cons_valset_proposer(&vs, 77, 3), cons_valset_proposer(&vs, 77, 3));
        assert_int_equal(cons_valset_proposer(&vs, 77, 3), cons_valset_proposer(&vs, 78, 2));
    }
    /* Equal powers: a round robin, so 4 consecutive rounds have 4 proposers
     * (a faulty proposer costs one round, not several in a row). */
    cons_valset vs;
    make(&vs, sets[0], 4);
    for (uint64_t h = 1; h < 100; h++) {
        int seen = 0;
        for (uint32_t r = 0; r < 4; r++)
            seen |= 1 << cons_valset_proposer(&vs, h, r);
        assert_int_equal(seen, 0xf);
    }
    /* Spread: the validator with 10 of 15 never proposes more than 3 times
     * in a row, and the small ones are never two apart by more than T. */
    make(&vs, sets[2], 6);
    int run = 0, maxrun = 0;
    for (uint64_t h = 1; h < 1000; h++) {
        run = cons_valset_proposer(&vs, h, 0) == 0 ? run + 1 : 0;
        if (run > maxrun) maxrun = run;
    }
    assert_true(maxrun <= 3);
}

static void test_rotation_weighted_random(void **state)
{
    (void)state;
    /* 64 validators with uneven powers: counts over 100 cycles match. */
    uint64_t p[CONS_MAX_VALIDATORS];
    for (int i = 0; i < CONS_MAX_VALIDATORS; i++)
        p[i] = 1 + (uint64_t)((i * 37) % 11);
    cons_valset vs;
    make(&vs, p, CONS_MAX_VALIDATORS);
    static uint64_t count[CONS_MAX_VALIDATORS];
    memset(count, 0, sizeof count);
    for (uint64_t s = 0; s < 100 * vs.total; s++)
        count[cons_valset_proposer(&vs, 1000 + s, 0)]++;
    for (int i = 0; i < CONS_MAX_VALIDATORS; i++)
        assert_int_equal(count[i], 100 * p[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_rotation_fair),
        cmocka_unit_test(test_rotation_weighted_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
