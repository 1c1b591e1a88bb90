/* What the batcher takes as already on the L1 (rollup/inbox.h): batches in
 * L1 order, each counting when it starts at or below the next height and
 * reaches past it, as derivation applies them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rollup/eth/keccak.h"
#include "rollup/inbox.h"
#include "util/hex.h"

static rollup_inbox_batch B(uint64_t first, uint64_t last)
{
    rollup_inbox_batch b;
    memset(&b, 0, sizeof b);
    b.first = first;
    b.last = last;
    return b;
}

static void test_next(void **state)
{
    (void)state;
    size_t used;
    assert_int_equal(rollup_inbox_next(NULL, 0, &used), 1);
    assert_int_equal(used, SIZE_MAX);
    rollup_inbox_batch in_order[] = {B(1, 5), B(6, 6), B(7, 20)};
    assert_int_equal(rollup_inbox_next(in_order, 3, &used), 21);
    assert_int_equal(used, 2);
    /* A gap: the batch after it is ignored, even once the gap is filled
     * later in L1 order (derivation skipped it; its heights come again). */
    rollup_inbox_batch gap[] = {B(1, 5), B(11, 20), B(6, 10)};
    assert_int_equal(rollup_inbox_next(gap, 3, &used), 11);
    assert_int_equal(used, 2);
    /* Overlaps: the part past the next height counts, a repeat does not. */
    rollup_inbox_batch overlap[] = {B(1, 5), B(3, 8), B(1, 8), B(9, 9)};
    assert_int_equal(rollup_inbox_next(overlap, 4, &used), 10);
    assert_int_equal(used, 3);
    /* Nothing from height 1: nothing is on the L1. */
    rollup_inbox_batch late[] = {B(2, 5)};
    assert_int_equal(rollup_inbox_next(late, 1, NULL), 1);
}

static void test_topic(void **state)
{
    (void)state;
    uint8_t t[32];
    char hex[65];
    rollup_inbox_topic(t);
    util_hex_encode(hex, t, 32);
    /* keccak256("BatchPosted(address,bytes32)"), as the contract's ABI has it. */
    assert_string_equal(hex, "530142daefa0f801478973eb3a0c513b013383d4ed920de33e790f764b43dbf7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_topic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
