/* rollup/eth/blob.h: frames packed into EIP-4844 blobs and read back. Round
 * trips at the sizes around a field element's 31 data bytes and at the
 * maximum, the exact layout of the first bytes, and every refusal of the
 * strict unpacking (each is one changed byte of a valid blob). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "rollup/eth/blob.h"

static uint8_t *blob, *data, *out;

static int setup(void **state)
{
    (void)state;
    blob = malloc(ROLLUP_BLOB_BYTES);
    data = malloc(ROLLUP_BLOB_DATA_MAX + 1);
    out = malloc(ROLLUP_BLOB_DATA_MAX + 1);
    if (!blob || !data || !out) return -1;
    /* Never zero, so a lost or moved byte shows. */
    for (size_t i = 0; i <= ROLLUP_BLOB_DATA_MAX; i++)
        data[i] = (uint8_t)(1 + (7 * i + 3) % 255);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(blob);
    free(data);
    free(out);
    return 0;
}

static void round_trip(size_t len)
{
    util_err err = {0};
    assert_int_equal(rollup_blob_pack(data, len, blob, &err), 0);
    for (size_t e = 0; e < ROLLUP_BLOB_FIELD_ELEMENTS; e++)
        assert_int_equal(blob[32 * e], 0);
    size_t got = 12345;
    assert_int_equal(rollup_blob_unpack(blob, out, ROLLUP_BLOB_DATA_MAX, &got, &err), 0);
    assert_int_equal(got, len);
    if (len) assert_memory_equal(out, data, len);
}

static void test_round_trips(void **state)
{
    (void)state;
    const size_t sizes[] = {
        0, 1, 26, 27, 28, 30, 31, 32, 58, 59, 1000, ROLLUP_BLOB_DATA_MAX - 1, ROLLUP_BLOB_DATA_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        round_trip(sizes[i]);
    /* 126,976 data bytes per blob, 4 of them for the length. */
    assert_int_equal(ROLLUP_BLOB_CAPACITY, 126976);
    assert_int_equal(ROLLUP_BLOB_DATA_MAX, 126972);
}

static void test_layout(void **state)
{
    (void)state;
    util_err err = {0};
    /* 28 bytes: the length, 27 bytes in
     * element 0, the 28th at byte 1 of element 1. */
    assert_int_equal(rollup_blob_pack(data, 28, blob, &err), 0);
    const uint8_t hdr[5] = {0, 0, 0, 0, 28};
    assert_memory_equal(blob, hdr, 5);
    assert_memory_equal(blob + 5, data, 27);
    assert_int_equal(blob[32], 0);
    assert_int_equal(blob[33], data[27]);
    for (size_t i = 34; i < ROLLUP_BLOB_BYTES; i++)
        assert_int_equal(blob[i], 0);
    /* The maximum fills the last data byte of the last element. */
    assert_int_equal(rollup_blob_pack(data, ROLLUP_BLOB_DATA_MAX, blob, &err), 0);
    assert_int_equal(blob[1], 0x00);
    assert_int_equal(blob[2], 0x01);
    assert_int_equal(blob[3], 0xef);
    assert_int_equal(blob[4], 0xfc);
    assert_int_equal(blob[ROLLUP_BLOB_BYTES - 1], data[ROLLUP_BLOB_DATA_MAX - 1]);
}

static void expect_refused(const char *what)
{
    util_err err = {0};
    size_t got = 777;
    assert_int_equal(rollup_blob_unpack(blob, out, ROLLUP_BLOB_DATA_MAX, &got, &err), UTIL_EINVAL);
    assert_int_equal(got, 777);
    assert_non_null(strstr(err.msg, what));
}

static void test_refusals(void **state)
{
    (void)state;
    util_err err = {0};
    /* Packing more than fits. */
    assert_int_equal(rollup_blob_pack(data, ROLLUP_BLOB_DATA_MAX + 1, blob, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "blob:"));

    /* A field element that does not start with 0: the first and the last. */
    assert_int_equal(rollup_blob_pack(data, 100, blob, &err), 0);
    blob[0] = 1;
    expect_refused("field element 0 ");
    blob[0] = 0;
    blob[32 * (ROLLUP_BLOB_FIELD_ELEMENTS - 1)] = 0x73;
    expect_refused("field element 4095 ");

    /* A length over the maximum (126,973), with zeros after it. */
    assert_int_equal(rollup_blob_pack(NULL, 0, blob, &err), 0);
    blob[2] = 0x01;
    blob[3] = 0xef;
    blob[4] = 0xfd;
    expect_refused("length");
    blob[1] = 0xff;
    expect_refused("length");

    /* A length over the caller's room. */
    assert_int_equal(rollup_blob_pack(data, 100, blob, &err), 0);
    size_t got = 0;
    assert_int_equal(rollup_blob_unpack(blob, out, 99, &got, &err), UTIL_EINVAL);
    assert_int_equal(rollup_blob_unpack(blob, out, 100, &got, &err), 0);
    assert_int_equal(got, 100);

    /* A non-zero byte right after the data, and the very last byte. */
    blob[(104 / 31) * 32 + 1 + 104 % 31] = 1;
    expect_refused("after");
    assert_int_equal(rollup_blob_pack(data, 100, blob, &err), 0);
    blob[ROLLUP_BLOB_BYTES - 1] = 0x80;
    expect_refused("after");
    /* The empty blob has one reading too. */
    assert_int_equal(rollup_blob_pack(data, 0, blob, &err), 0);
    blob[5] = 1;
    expect_refused("after");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
