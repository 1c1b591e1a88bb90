/* Derivation (rollup/derive.h) against a fake L1 that answers from memory:
 * a chain produced on one store is posted as batches into fake L1 blocks and
 * derived into a second store through the block executor; outputs are
 * checked (a wrong one halts, naming the height); an L1 reorganisation that
 * drops a batch rolls the derived blocks back and the re-posted data is
 * followed; a batch above head + 1 is skipped; a corrupt channel and an
 * invalid block halt with their reason, leaving the store at the last good
 * block. */
#include "tests/unit/rollup/derive_fixture.h"

/* --- tests ---------------------------------------------------------------- */

static void test_derives_checks_outputs_heads(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 12, 0);
    l1_post(13, 30, 0);
    l1_output(10, 0);
    l1_output(20, 0);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, at_height, 30);
    same_as_source(&dv, 30);
    rollup_derive_status s = st_of(&dv);
    assert_int_equal(s.halted, 0);
    assert_int_equal(s.outputs_checked, 2);
    assert_int_equal(s.blocks_derived, 30);
    assert_int_equal(dv.on_block_calls, 30);
    assert_int_equal(s.l1_head, json_array_size(l1_blocks) - 1);
    /* Every batch is deeper than 2 blocks (two outputs came after). */
    assert_int_equal(s.safe, 30);
    /* Not final yet: 30 s have not passed on the L1. */
    assert_int_equal(s.has_finalized, 0);
    for (int i = 0; i < 4; i++)
        l1_add_block(NULL, NULL, NULL, 0, NULL);
    run_until(&dv, at_height, 30);
    s = st_of(&dv);
    assert_int_equal(s.has_finalized, 1);
    assert_int_equal(s.finalized, 20);
    /* The L1 origin of every block is recorded. */
    uint64_t n;
    uint8_t h[32];
    util_err err = {0};
    assert_int_equal(rollup_derive_origin(dv.st, 30, &n, h, &err), 0);
    assert_int_equal(rollup_derive_origin(dv.st, 0, &n, h, &err), UTIL_ENOTFOUND);
    /* The same data again (a batcher re-posting) is skipped, not a fault. */
    l1_post(25, 32, 0);
    run_until(&dv, at_height, 32);
    s = st_of(&dv);
    assert_int_equal(s.halted, 0);
    assert_true(s.blocks_skipped >= 6);
    /* A batch above head + 1 is skipped. */
    l1_post(35, 36, 0);
    l1_post(33, 34, 0);
    run_until(&dv, at_height, 34);
    assert_int_equal(st_of(&dv).halted, 0);
    same_as_source(&dv, 34);
    json_t *js = json_object();
    assert_int_equal(rollup_derive_status_json(dv.d, js), 0);
    assert_true(json_is_integer(json_object_get(js, "l1Head")));
    assert_true(json_is_integer(json_object_get(js, "safe")));
    assert_true(json_is_integer(json_object_get(js, "finalized")));
    assert_true(json_is_object(json_object_get(js, "l1")));
    json_decref(js);
    deriver_close(&dv);
}

static void test_reorg_rolls_back_and_follows(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 10, 0);
    uint64_t fork = json_array_size(l1_blocks);
    l1_post(11, 20, 0);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, at_height, 20);
    /* The L1 drops the second batch; other blocks take its place. */
    l1_reorg(fork);
    l1_add_block(NULL, NULL, NULL, 0, NULL);
    l1_add_block(NULL, NULL, NULL, 0, NULL);
    run_until(&dv, rolled_back, 1);
    rollup_derive_status s = st_of(&dv);
    assert_int_equal(s.blocks_rolled_back, 10);
    assert_true(chain_store_height(dv.st) == 10);
    /* Re-posted in other batches, followed again. */
    l1_post(11, 15, 0);
    l1_post(16, 25, 0);
    l1_output(20, 0);
    run_until(&dv, at_height, 25);
    same_as_source(&dv, 25);
    s = st_of(&dv);
    assert_int_equal(s.halted, 0);
    assert_int_equal(s.outputs_checked, 1);
    deriver_close(&dv);
}

/* After a restart the logs are read again from shortly before the head's
 * origin only; the oracle's latest output (eth_call) gives the finalized
 * head back, and nothing is derived again. */
static void test_restart_resumes(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 20, 0);
    l1_output(10, 0);
    l1_output(20, 0);
    for (int i = 0; i < 30; i++)
        l1_add_block(NULL, NULL, NULL, 0, NULL);
    l1_post(21, 30, 0); /* its origin is far past the outputs' logs */
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, at_height, 30);
    assert_int_equal(st_of(&dv).finalized, 20);
    char dir[64];
    snprintf(dir, sizeof dir, "%s", dv.dir);
    deriver_stop(&dv, 0);
    deriver_reopen(&dv, dir);
    run_until(&dv, at_height, 30);
    rollup_derive_status s = st_of(&dv);
    assert_int_equal(s.blocks_derived, 0);
    assert_int_equal(s.outputs_seen, 1); /* the seeded one; the logs are older than the rescan */
    assert_int_equal(s.has_finalized, 1);
    assert_int_equal(s.finalized, 20);
    assert_int_equal(s.halted, 0);
    deriver_close(&dv);
}

static void test_wrong_output_halts(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 12, 0);
    l1_output(10, 1);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, halted, 0);
    rollup_derive_status s = st_of(&dv);
    assert_non_null(strstr(s.halt_reason, "output root mismatch at L2 height 10"));
    deriver_close(&dv);
}

static void test_invalid_block_halts(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 5, 0);
    l1_post(6, 8, 1);
    l1_post(6, 8, 0); /* never read: derivation stopped */
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, halted, 0);
    rollup_derive_status s = st_of(&dv);
    assert_non_null(strstr(s.halt_reason, "L2 block 6"));
    assert_non_null(strstr(s.halt_reason, "wrong_state_root"));
    assert_int_equal(chain_store_height(dv.st), 5);
    deriver_close(&dv);
}

static void test_bad_signature_halts(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 6, 0);
    l1_post(7, 9, 2); /* block 7 holds a transfer */
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, halted, 0);
    rollup_derive_status s = st_of(&dv);
    assert_non_null(strstr(s.halt_reason, "L2 block 7"));
    assert_non_null(strstr(s.halt_reason, "invalid_tx"));
    assert_int_equal(chain_store_height(dv.st), 6);
    deriver_close(&dv);
}

static void test_bad_compression_halts(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 5, 0);
    static const uint8_t junk[] = "not a zstd frame at all";
    uint8_t **frames;
    size_t *lens, nf;
    util_err err = {0};
    assert_int_equal(rollup_frames_split(junk, sizeof junk, 0, &frames, &lens, &nf, &err), 0);
    l1_post_frame(frames[0], lens[0]);
    rollup_frames_free(frames, lens, nf);
    l1_post(6, 8, 0);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, halted, 0);
    rollup_derive_status s = st_of(&dv);
    assert_non_null(strstr(s.halt_reason, "batch"));
    assert_int_equal(chain_store_height(dv.st), 5);
    deriver_close(&dv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derives_checks_outputs_heads),
        cmocka_unit_test(test_reorg_rolls_back_and_follows),
        cmocka_unit_test(test_restart_resumes),
        cmocka_unit_test(test_wrong_output_halts),
        cmocka_unit_test(test_invalid_block_halts),
        cmocka_unit_test(test_bad_signature_halts),
        cmocka_unit_test(test_bad_compression_halts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
