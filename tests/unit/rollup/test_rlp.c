/* RLP (rollup/eth/rlp.h). Known answers: the examples of the Ethereum wiki's
 * RLP page (ethereum.org/en/developers/docs/data-structures-and-encoding/rlp,
 * "Examples"), which follow the Yellow Paper's appendix B. The decoder must
 * refuse every non-canonical form the Yellow Paper excludes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "rollup/eth/rlp.h"

static const char LOREM[] = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";

static void expect(util_buf *b, const uint8_t *want, size_t n)
{
    assert_int_equal(b->oom, 0);
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
    util_buf_reset(b);
}

static void test_wiki_examples(void **state)
{
    (void)state;
    util_buf b;
    util_buf_init(&b);

    rollup_rlp_bytes(&b, (const uint8_t *)"dog", 3);
    expect(&b, (const uint8_t[]){0x83, 'd', 'o', 'g'}, 4);

    size_t m = rollup_rlp_list_begin(&b);
    rollup_rlp_bytes(&b, (const uint8_t *)"cat", 3);
    rollup_rlp_bytes(&b, (const uint8_t *)"dog", 3);
    rollup_rlp_list_end(&b, m);
    expect(&b, (const uint8_t[]){0xc8, 0x83, 'c', 'a', 't', 0x83, 'd', 'o', 'g'}, 9);

    rollup_rlp_bytes(&b, NULL, 0);
    expect(&b, (const uint8_t[]){0x80}, 1);

    rollup_rlp_list_end(&b, rollup_rlp_list_begin(&b));
    expect(&b, (const uint8_t[]){0xc0}, 1);

    rollup_rlp_uint(&b, 0);
    expect(&b, (const uint8_t[]){0x80}, 1);
    /* The byte string "\x00" is not the integer 0. */
    rollup_rlp_bytes(&b, (const uint8_t[]){0x00}, 1);
    expect(&b, (const uint8_t[]){0x00}, 1);
    rollup_rlp_uint(&b, 15);
    expect(&b, (const uint8_t[]){0x0f}, 1);
    rollup_rlp_uint(&b, 1024);
    expect(&b, (const uint8_t[]){0x82, 0x04, 0x00}, 3);

    /* The set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ]. */
    size_t outer = rollup_rlp_list_begin(&b);
    rollup_rlp_list_end(&b, rollup_rlp_list_begin(&b));
    size_t l1 = rollup_rlp_list_begin(&b);
    rollup_rlp_list_end(&b, rollup_rlp_list_begin(&b));
    rollup_rlp_list_end(&b, l1);
    size_t l2 = rollup_rlp_list_begin(&b);
    rollup_rlp_list_end(&b, rollup_rlp_list_begin(&b));
    size_t l3 = rollup_rlp_list_begin(&b);
    rollup_rlp_list_end(&b, rollup_rlp_list_begin(&b));
    rollup_rlp_list_end(&b, l3);
    rollup_rlp_list_end(&b, l2);
    rollup_rlp_list_end(&b, outer);
    expect(&b, (const uint8_t[]){0xc7, 0xc0, 0xc1, 0xc0, 0xc3, 0xc0, 0xc1, 0xc0}, 8);

    /* 56 bytes: the first long-form string. */
    rollup_rlp_bytes(&b, (const uint8_t *)LOREM, 56);
    assert_int_equal(b.len, 58);
    assert_int_equal(b.data[0], 0xb8);
    assert_int_equal(b.data[1], 0x38);
    assert_memory_equal(b.data + 2, LOREM, 56);
    util_buf_reset(&b);

    uint8_t be[32] = {0};
    rollup_rlp_uint256(&b, be);
    expect(&b, (const uint8_t[]){0x80}, 1);
    be[30] = 0x04;
    rollup_rlp_uint256(&b, be);
    expect(&b, (const uint8_t[]){0x82, 0x04, 0x00}, 3);
    util_buf_free(&b);
}

/* Long payloads: a 1024-byte string and a list of 100 of them, whose headers
 * need 2 and 3 length bytes; both decode back to themselves. */
static void test_long_round_trip(void **state)
{
    (void)state;
    uint8_t s[1024];
    for (size_t i = 0; i < sizeof s; i++)
        s[i] = (uint8_t)(i * 31);
    util_buf b;
    util_buf_init(&b);
    size_t m = rollup_rlp_list_begin(&b);
    for (int i = 0; i < 100; i++)
        rollup_rlp_bytes(&b, s, sizeof s);
    rollup_rlp_list_end(&b, m);
    assert_int_equal(b.oom, 0);
    assert_int_equal(b.len, 4 + 100 * (3 + 1024));
    assert_int_equal(b.data[0], 0xfa); /* 0xf7 + 3 length bytes */
    assert_int_equal(b.data[4], 0xb9); /* 0xb7 + 2 length bytes */

    const uint8_t *p = b.data;
    size_t n = b.len;
    rollup_rlp_item list, it;
    assert_int_equal(rollup_rlp_next(&p, &n, &list, NULL), 0);
    assert_int_equal(n, 0);
    assert_true(list.is_list);
    p = list.p;
    n = list.n;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
        assert_false(it.is_list);
        assert_int_equal(it.n, sizeof s);
        assert_memory_equal(it.p, s, sizeof s);
    }
    assert_int_equal(n, 0);
    util_err err;
    assert_int_equal(rollup_rlp_next(&p, &n, &it, &err), UTIL_EINVAL);
    util_buf_free(&b);
}

static void test_decode_examples(void **state)
{
    (void)state;
    rollup_rlp_item it;
    uint64_t v;
    const uint8_t dog[] = {0x83, 'd', 'o', 'g', 0x0f};
    const uint8_t *p = dog;
    size_t n = sizeof dog;
    assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
    assert_false(it.is_list);
    assert_int_equal(it.n, 3);
    assert_memory_equal(it.p, "dog", 3);
    /* One item read: the rest stays for the caller (here, 15). */
    assert_int_equal(n, 1);
    assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
    assert_int_equal(rollup_rlp_item_uint(&it, &v, NULL), 0);
    assert_int_equal(v, 15);
    assert_int_equal(n, 0);

    const uint8_t k[] = {0x82, 0x04, 0x00};
    p = k;
    n = sizeof k;
    assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
    assert_int_equal(rollup_rlp_item_uint(&it, &v, NULL), 0);
    assert_int_equal(v, 1024);

    const uint8_t empty[] = {0x80};
    p = empty;
    n = 1;
    assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
    assert_int_equal(rollup_rlp_item_uint(&it, &v, NULL), 0);
    assert_int_equal(v, 0);

    const uint8_t max[] = {0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    p = max;
    n = sizeof max;
    assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
    assert_int_equal(rollup_rlp_item_uint(&it, &v, NULL), 0);
    assert_true(v == UINT64_MAX);
}

static void refuse(const uint8_t *in, size_t len, const char *why)
{
    const uint8_t *p = in;
    size_t n = len;
    rollup_rlp_item it;
    util_err err;
    assert_int_equal(rollup_rlp_next(&p, &n, &it, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, why));
    /* Nothing consumed on failure. */
    assert_ptr_equal(p, in);
    assert_int_equal(n, len);
}

static void test_decode_refusals(void **state)
{
    (void)state;
    /* A single byte below 0x80 must be itself, not 0x81 0x05. */
    refuse((const uint8_t[]){0x81, 0x05}, 2, "single byte");
    /* Long forms for payloads of 55 bytes or fewer. */
    uint8_t lf[2 + 55];
    memset(lf, 'a', sizeof lf);
    lf[0] = 0xb8;
    lf[1] = 55;
    refuse(lf, sizeof lf, "long form");
    lf[0] = 0xf8;
    refuse(lf, sizeof lf, "long form");
    /* A length with a leading zero byte. */
    uint8_t lz[3 + 64];
    memset(lz, 'a', sizeof lz);
    lz[0] = 0xb9;
    lz[1] = 0x00;
    lz[2] = 64;
    refuse(lz, sizeof lz, "leading zero");
    /* Truncated: the payload, the length bytes, and a list's payload. */
    refuse((const uint8_t[]){0x83, 'd', 'o'}, 3, "past the input");
    refuse((const uint8_t[]){0xb9, 0x04}, 2, "truncated length");
    refuse((const uint8_t[]){0xc8, 0x83, 'c', 'a', 't'}, 5, "past the input");
    /* A length of 2^64 - 1: no overflow into a small one. */
    refuse((const uint8_t[]){0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, 10,
           "past the input");
    refuse(NULL, 0, "no item");

    /* Integers: a leading zero, over 64 bits, a list. */
    rollup_rlp_item it;
    uint64_t v;
    util_err err;
    const uint8_t lzint[] = {0x82, 0x00, 0x80};
    const uint8_t *p = lzint;
    size_t n = sizeof lzint;
    assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
    assert_int_equal(rollup_rlp_item_uint(&it, &v, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "leading zero"));
    const uint8_t zero_byte[] = {0x00};
    p = zero_byte;
    n = 1;
    assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
    assert_int_equal(rollup_rlp_item_uint(&it, &v, &err), UTIL_EINVAL);
    const uint8_t big[] = {0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    p = big;
    n = sizeof big;
    assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
    assert_int_equal(rollup_rlp_item_uint(&it, &v, &err), UTIL_EINVAL);
    const uint8_t list[] = {0xc0};
    p = list;
    n = 1;
    assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
    assert_int_equal(rollup_rlp_item_uint(&it, &v, &err), UTIL_EINVAL);
}

/* Every encodable uint decodes back to itself. */
static void test_uint_round_trip(void **state)
{
    (void)state;
    util_buf b;
    util_buf_init(&b);
    for (int shift = 0; shift < 64; shift++) {
        uint64_t vals[3] = {(uint64_t)1 << shift, ((uint64_t)1 << shift) - 1,
                            ~(uint64_t)0 >> shift};
        for (int k = 0; k < 3; k++) {
            util_buf_reset(&b);
            rollup_rlp_uint(&b, vals[k]);
            const uint8_t *p = b.data;
            size_t n = b.len;
            rollup_rlp_item it;
            uint64_t v;
            assert_int_equal(rollup_rlp_next(&p, &n, &it, NULL), 0);
            assert_int_equal(n, 0);
            assert_int_equal(rollup_rlp_item_uint(&it, &v, NULL), 0);
            assert_true(v == vals[k]);
        }
    }
    util_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wiki_examples),   cmocka_unit_test(test_long_round_trip),
        cmocka_unit_test(test_decode_examples), cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_uint_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
