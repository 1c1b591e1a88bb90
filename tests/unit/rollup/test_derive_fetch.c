/* Derivation's fetch queue (rollup/derive_fetch.c) against the fake L1 of
 * derive_fixture.h, which can hold the answers of full-block calls: the
 * blocks of the next posts are asked for while a block's frames are
 * applied; never more than DERIVE_FETCH_WINDOW of them are in flight or
 * buffered; answers that come back out of order are consumed in log order;
 * an L1 reorganisation while blocks are buffered drops them and derivation
 * follows the new chain; a fetch that failed is retried when derivation
 * reaches its block; a deriver closed with blocks in flight frees them
 * when their answers arrive (ASan). */
#include "tests/unit/rollup/derive_fixture.h"

#include "rollup/derive_internal.h"

/* Runs the loop until only held answers are left (the deriver waits). */
static void run_until_held(deriver *dv)
{
    for (int i = 0; i < 100000 && npend > fx_held(); i++)
        uv_run(&dv->loop, UV_RUN_ONCE);
    assert_int_equal(npend, fx_held());
}

/* Answers the held full-block call for L1 block n (it must be held). */
static void release_block(uint64_t n)
{
    for (size_t i = 0; i < npend; i++)
        if (pend[i].full_block && pend[i].number == n) {
            answer_one(i);
            return;
        }
    fail_msg("no call held for L1 block %llu", (unsigned long long)n);
}

static uint64_t ahead, applied;
static size_t most_queued;

/* After each derived block: was a later L1 block already asked for, and
 * does the queue stay within its window? */
static void hook(deriver *dv, const chain_block *b)
{
    uint64_t n;
    uint8_t h[32];
    util_err err = {0};
    assert_int_equal(rollup_derive_origin(dv->st, b->h.height, &n, h, &err), 0);
    applied++;
    if (fx_full_max > n) ahead++;
    if (dv->d->fq_n > most_queued) most_queued = dv->d->fq_n;
    assert_true(dv->d->fq_n <= DERIVE_FETCH_WINDOW);
}

static void test_fetches_ahead_of_application(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 6, 0);
    l1_post(7, 12, 0);
    l1_post(13, 20, 0);
    l1_post(21, 30, 0);
    fx_max_range = 7;
    deriver dv;
    deriver_open(&dv);
    dv.hook = hook;
    ahead = applied = most_queued = 0;
    run_until(&dv, at_height, 30);
    same_as_source(&dv, 30);
    assert_int_equal(applied, 30);
    /* While a batch's blocks were applied, a later L1 block (with the next
     * batch's frames) had already been asked for: one at a time, the block
     * asked last is the one applied. */
    assert_true(ahead > 0);
    assert_true(most_queued > 0);
    deriver_close(&dv);
}

/* Never more than the window in flight, whatever the answers' order, and
 * the blocks are derived in L1 log order all the same. */
static void test_window_bound_and_log_order(void **state)
{
    (void)state;
    l1_reset();
    uint64_t first = json_array_size(l1_blocks);
    l1_post(1, 30, 0); /* small frames: one L1 block each, many blocks */
    uint64_t last = json_array_size(l1_blocks) - 1;
    assert_true(last - first + 1 > 2 * DERIVE_FETCH_WINDOW);
    fx_max_range = 100; /* one step: the window is not cut by the step's end */
    deriver dv;
    deriver_open(&dv);
    fx_hold_blocks = 1;
    run_until_held(&dv);
    /* The first posting block and the next ones, up to the window. */
    assert_int_equal(fx_held(), DERIVE_FETCH_WINDOW);
    assert_int_equal(dv.d->fq_n, DERIVE_FETCH_WINDOW);
    assert_int_equal(fx_full_max, first + DERIVE_FETCH_WINDOW - 1);
    /* The last ones answered first: nothing is derived before the first. */
    for (uint64_t n = first + DERIVE_FETCH_WINDOW - 1; n > first; n--)
        release_block(n);
    run_until_held(&dv);
    assert_int_equal(fx_held(), 1);
    assert_int_equal(dv.d->fq_n, DERIVE_FETCH_WINDOW);
    assert_int_equal(fx_full_max, first + DERIVE_FETCH_WINDOW - 1);
    /* Then one at a time, in L1 order: the window moves on by one. */
    while (fx_held()) {
        uint64_t n = pend[0].number;
        for (size_t i = 1; i < npend; i++)
            if (pend[i].full_block && pend[i].number < n) n = pend[i].number;
        release_block(n);
        run_until_held(&dv);
        assert_true(fx_held() <= DERIVE_FETCH_WINDOW);
        assert_true(dv.d->fq_n <= DERIVE_FETCH_WINDOW);
        if (chain_store_height(dv.st) == 30) break;
    }
    fx_release();
    run_until(&dv, at_height, 30);
    same_as_source(&dv, 30);
    assert_int_equal(st_of(&dv).halted, 0);
    /* Each block asked for once: nothing fetched twice or dropped. */
    assert_int_equal(fx_full_calls, last - first + 1);
    deriver_close(&dv);
}

/* The L1 reorganises while the blocks of the next batch are buffered (and
 * in flight): they are dropped, derivation walks back and follows the new
 * chain. */
static void test_reorg_drops_buffered_blocks(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 10, 0);
    uint64_t fork = json_array_size(l1_blocks);
    l1_post(11, 25, 0);
    fx_max_range = 100;
    deriver dv;
    deriver_open(&dv);
    fx_hold_blocks = 1;
    fx_hold_from = fork;
    run_until_held(&dv);
    assert_int_equal(chain_store_height(dv.st), 10);
    assert_int_equal(fx_held(), DERIVE_FETCH_WINDOW);
    assert_int_equal(dv.d->fq_n, DERIVE_FETCH_WINDOW);
    /* The block after the fork's answered and buffered, the others in
     * flight, when the L1 drops them all for another batch. */
    release_block(fork + 1);
    run_until_held(&dv);
    assert_int_equal(fx_held(), DERIVE_FETCH_WINDOW - 1);
    assert_int_equal(dv.d->fq_n, DERIVE_FETCH_WINDOW);
    l1_reorg(fork);
    l1_post(11, 30, 0);
    fx_release();
    run_until(&dv, at_height, 30);
    same_as_source(&dv, 30);
    rollup_derive_status s = st_of(&dv);
    assert_int_equal(s.halted, 0);
    assert_true(s.reorgs >= 1);
    assert_int_equal(s.rollbacks, 0); /* nothing of the dropped batch was applied */
    deriver_close(&dv);
}

/* A block fetched ahead whose call failed: when derivation reaches it, the
 * step starts again (as when it was fetched then) and derivation goes on. */
static void test_failed_fetch_retried(void **state)
{
    (void)state;
    l1_reset();
    uint64_t first = json_array_size(l1_blocks);
    l1_post(1, 20, 0);
    uint64_t last = json_array_size(l1_blocks) - 1;
    fx_max_range = 100;
    deriver dv;
    deriver_open(&dv);
    fx_fail_block = first + 2; /* in the first window, behind the first block */
    run_until(&dv, at_height, 20);
    same_as_source(&dv, 20);
    rollup_derive_status s = st_of(&dv);
    assert_int_equal(s.halted, 0);
    assert_int_equal(fx_fail_block, 0);
    /* The failed one asked again, and the window behind it with it. */
    assert_true(fx_full_calls > last - first + 1);
    deriver_close(&dv);
}

/* Closed with blocks in flight: their answers arrive after the close
 * (deriver_stop delivers them) and are freed, the deriver too. */
static void test_close_with_blocks_in_flight(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 20, 0);
    fx_max_range = 100;
    deriver dv;
    deriver_open(&dv);
    fx_hold_blocks = 1;
    run_until_held(&dv);
    assert_int_equal(fx_held(), DERIVE_FETCH_WINDOW);
    deriver_close(&dv);
    /* Also with some answered and buffered, the step waiting for another. */
    l1_reset();
    l1_post(1, 20, 0);
    deriver_open(&dv);
    fx_hold_blocks = 1;
    run_until_held(&dv);
    uint64_t n = pend[npend - 1].number;
    release_block(n);
    release_block(n - 1);
    run_until_held(&dv);
    assert_int_equal(fx_held(), DERIVE_FETCH_WINDOW - 2);
    deriver_close(&dv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetches_ahead_of_application),
        cmocka_unit_test(test_window_bound_and_log_order),
        cmocka_unit_test(test_reorg_drops_buffered_blocks),
        cmocka_unit_test(test_failed_fetch_retried),
        cmocka_unit_test(test_close_with_blocks_in_flight),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
