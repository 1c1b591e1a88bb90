/* The Solidity ABI (rollup/eth/abi.h). Known answers: the examples of the
 * Solidity documentation, "Contract ABI Specification" > "Examples" and "Use
 * of Dynamic Types" (docs.soliditylang.org/en/latest/abi-spec.html): baz,
 * sam and f, with their selectors and encodings as printed there. The
 * decoders must stay inside their input whatever offsets and lengths say. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "rollup/eth/abi.h"
#include "util/hex.h"

static void expect_hex(const util_buf *b, const char *want)
{
    assert_int_equal(b->oom, 0);
    char *got = malloc(2 * b->len + 1);
    assert_non_null(got);
    util_hex_encode(got, b->data, b->len);
    assert_string_equal(got, want);
    free(got);
}

static void test_baz(void **state)
{
    (void)state;
    uint8_t sel[4];
    rollup_abi_selector(sel, "baz(uint32,bool)");
    assert_memory_equal(sel, ((const uint8_t[]){0xcd, 0xcd, 0x77, 0xc0}), 4);
    rollup_abi_val v[2] = {{.kind = ROLLUP_ABI_UINT, .u64 = 69},
                           {.kind = ROLLUP_ABI_BOOL, .u64 = 1}};
    util_buf b;
    util_buf_init(&b);
    rollup_abi_encode_call(&b, "baz(uint32,bool)", v, 2);
    expect_hex(&b, "cdcd77c0"
                   "0000000000000000000000000000000000000000000000000000000000000045"
                   "0000000000000000000000000000000000000000000000000000000000000001");
    util_buf_free(&b);
}

static const char SAM_HEX[] = "a5643bf2"
                              "0000000000000000000000000000000000000000000000000000000000000060"
                              "0000000000000000000000000000000000000000000000000000000000000001"
                              "00000000000000000000000000000000000000000000000000000000000000a0"
                              "0000000000000000000000000000000000000000000000000000000000000004"
                              "6461766500000000000000000000000000000000000000000000000000000000"
                              "0000000000000000000000000000000000000000000000000000000000000003"
                              "0000000000000000000000000000000000000000000000000000000000000001"
                              "0000000000000000000000000000000000000000000000000000000000000002"
                              "0000000000000000000000000000000000000000000000000000000000000003";

static void test_sam(void **state)
{
    (void)state;
    static const uint64_t arr[] = {1, 2, 3};
    rollup_abi_val v[3] = {
        {.kind = ROLLUP_ABI_BYTES, .p = (const uint8_t *)"dave", .n = 4},
        {.kind = ROLLUP_ABI_BOOL, .u64 = 1},
        {.kind = ROLLUP_ABI_UINT_ARR, .u64s = arr, .n = 3},
    };
    util_buf b;
    util_buf_init(&b);
    rollup_abi_encode_call(&b, "sam(bytes,bool,uint256[])", v, 3);
    expect_hex(&b, SAM_HEX);

    /* Decoding the arguments back (after the selector). */
    const uint8_t *d = b.data + 4;
    size_t len = b.len - 4;
    const uint8_t *p;
    size_t n;
    uint64_t u;
    assert_int_equal(rollup_abi_bytes(d, len, 0, &p, &n, NULL), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(p, "dave", 4);
    assert_int_equal(rollup_abi_u64(d, len, 1, &u, NULL), 0);
    assert_int_equal(u, 1);
    assert_int_equal(rollup_abi_u64(d, len, 2, &u, NULL), 0);
    assert_int_equal(u, 0xa0);
    util_buf_free(&b);
}

static void test_f(void **state)
{
    (void)state;
    static const uint64_t arr[] = {0x456, 0x789};
    rollup_abi_val v[4] = {
        {.kind = ROLLUP_ABI_UINT256},
        {.kind = ROLLUP_ABI_UINT_ARR, .u64s = arr, .n = 2},
        {.kind = ROLLUP_ABI_BYTES32}, /* bytes10 encodes as a left-aligned word */
        {.kind = ROLLUP_ABI_BYTES, .p = (const uint8_t *)"Hello, world!", .n = 13},
    };
    v[0].word[30] = 0x01;
    v[0].word[31] = 0x23;
    memcpy(v[2].word, "1234567890", 10);
    util_buf b;
    util_buf_init(&b);
    rollup_abi_encode_call(&b, "f(uint256,uint32[],bytes10,bytes)", v, 4);
    expect_hex(&b, "8be65246"
                   "0000000000000000000000000000000000000000000000000000000000000123"
                   "0000000000000000000000000000000000000000000000000000000000000080"
                   "3132333435363738393000000000000000000000000000000000000000000000"
                   "00000000000000000000000000000000000000000000000000000000000000e0"
                   "0000000000000000000000000000000000000000000000000000000000000002"
                   "0000000000000000000000000000000000000000000000000000000000000456"
                   "0000000000000000000000000000000000000000000000000000000000000789"
                   "000000000000000000000000000000000000000000000000000000000000000d"
                   "48656c6c6f2c20776f726c642100000000000000000000000000000000000000");
    util_buf_free(&b);
}

/* The kinds the documentation's examples do not cover: address, address[],
 * bytes32[], empty and word-sized bytes. */
static void test_other_kinds(void **state)
{
    (void)state;
    rollup_eth_addr addrs[2];
    memset(addrs[0].b, 0x11, 20);
    memset(addrs[1].b, 0x22, 20);
    uint8_t words[1][32];
    memset(words[0], 0x33, 32);
    uint8_t blob[32];
    memset(blob, 0x44, 32);
    rollup_abi_val v[5] = {
        {.kind = ROLLUP_ABI_ADDRESS, .addr = addrs[1]},
        {.kind = ROLLUP_ABI_ADDRESS_ARR, .addrs = addrs, .n = 2},
        {.kind = ROLLUP_ABI_BYTES32_ARR, .words = (const uint8_t(*)[32])words, .n = 1},
        {.kind = ROLLUP_ABI_BYTES, .p = NULL, .n = 0},
        {.kind = ROLLUP_ABI_BYTES, .p = blob, .n = 32},
    };
    util_buf b;
    util_buf_init(&b);
    rollup_abi_encode(&b, v, 5);
    /* head 5 + address[] 3 + bytes32[] 2 + empty bytes 1 + 32 bytes 2. */
    assert_int_equal(b.len, 32 * 13);
    const uint8_t *d = b.data;
    size_t len = b.len;
    rollup_eth_addr a;
    uint64_t u;
    assert_int_equal(rollup_abi_address(d, len, 0, &a, NULL), 0);
    assert_memory_equal(a.b, addrs[1].b, 20);
    assert_int_equal(rollup_abi_u64(d, len, 1, &u, NULL), 0);
    assert_int_equal(u, 5 * 32);
    assert_int_equal(rollup_abi_u64(d, len, 5, &u, NULL), 0); /* address[] length */
    assert_int_equal(u, 2);
    assert_int_equal(rollup_abi_address(d, len, 6, &a, NULL), 0);
    assert_memory_equal(a.b, addrs[0].b, 20);
    assert_int_equal(rollup_abi_address(d, len, 7, &a, NULL), 0);
    assert_memory_equal(a.b, addrs[1].b, 20);
    uint8_t w[32];
    assert_int_equal(rollup_abi_word(d, len, 9, w, NULL), 0);
    assert_memory_equal(w, words[0], 32);
    const uint8_t *p;
    size_t n;
    assert_int_equal(rollup_abi_bytes(d, len, 3, &p, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(rollup_abi_bytes(d, len, 4, &p, &n, NULL), 0);
    assert_int_equal(n, 32);
    assert_memory_equal(p, blob, 32);
    assert_ptr_equal(p + n, d + len); /* no padding after a whole word */
    util_buf_free(&b);
}

static void put_word(uint8_t *d, size_t slot, uint64_t v)
{
    memset(d + 32 * slot, 0, 32);
    util_put_u64be(d + 32 * slot + 24, v);
}

static void test_decode_bounds(void **state)
{
    (void)state;
    uint8_t d[32 * 4];
    uint8_t w[32];
    uint64_t u;
    rollup_eth_addr a;
    const uint8_t *p;
    size_t n;
    util_err err;
    memset(d, 0, sizeof d);

    /* Head slots past the end, also a partial last word. */
    assert_int_equal(rollup_abi_word(d, 64, 1, w, NULL), 0);
    assert_int_equal(rollup_abi_word(d, 64, 2, w, &err), UTIL_EINVAL);
    assert_int_equal(rollup_abi_word(d, 63, 1, w, &err), UTIL_EINVAL);
    assert_int_equal(rollup_abi_word(d, 64, SIZE_MAX, w, &err), UTIL_EINVAL);
    assert_int_equal(rollup_abi_word(d, 64, SIZE_MAX / 32 + 1, w, &err), UTIL_EINVAL);

    /* A uint over 64 bits; an address with high bytes. */
    d[23] = 1;
    assert_int_equal(rollup_abi_u64(d, 32, 0, &u, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "64 bits"));
    d[23] = 0;
    memset(d + 24, 0xff, 8);
    assert_int_equal(rollup_abi_u64(d, 32, 0, &u, NULL), 0);
    assert_true(u == UINT64_MAX);
    d[11] = 1;
    assert_int_equal(rollup_abi_address(d, 32, 0, &a, &err), UTIL_EINVAL);
    d[11] = 0;

    /* bytes: slot 0 offset, at offset a length, then the contents. */
    put_word(d, 0, 32);
    put_word(d, 1, 64); /* 64 bytes: exactly the two words that follow */
    assert_int_equal(rollup_abi_bytes(d, sizeof d, 0, &p, &n, NULL), 0);
    assert_int_equal(n, 64);
    assert_ptr_equal(p, d + 64);
    put_word(d, 1, 65); /* one past the end */
    assert_int_equal(rollup_abi_bytes(d, sizeof d, 0, &p, &n, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "past the end"));
    put_word(d, 1, UINT64_MAX); /* no wrap-around */
    assert_int_equal(rollup_abi_bytes(d, sizeof d, 0, &p, &n, &err), UTIL_EINVAL);
    memset(d + 32, 0xff, 32); /* a length over 64 bits */
    assert_int_equal(rollup_abi_bytes(d, sizeof d, 0, &p, &n, &err), UTIL_EINVAL);
    put_word(d, 1, 0);
    put_word(d, 0, sizeof d); /* offset at the end: no room for the length */
    assert_int_equal(rollup_abi_bytes(d, sizeof d, 0, &p, &n, &err), UTIL_EINVAL);
    put_word(d, 0, sizeof d - 31);
    assert_int_equal(rollup_abi_bytes(d, sizeof d, 0, &p, &n, &err), UTIL_EINVAL);
    put_word(d, 0, UINT64_MAX);
    assert_int_equal(rollup_abi_bytes(d, sizeof d, 0, &p, &n, &err), UTIL_EINVAL);
    d[0] = 1; /* an offset over 64 bits */
    assert_int_equal(rollup_abi_bytes(d, sizeof d, 0, &p, &n, &err), UTIL_EINVAL);
    /* The offset's slot itself past the end. */
    assert_int_equal(rollup_abi_bytes(d, 16, 0, &p, &n, &err), UTIL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baz),
        cmocka_unit_test(test_sam),
        cmocka_unit_test(test_f),
        cmocka_unit_test(test_other_kinds),
        cmocka_unit_test(test_decode_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
