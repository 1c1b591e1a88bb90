/* bech32m (BIP-350) and "ol" addresses. Known answers were produced by an
 * independent implementation of the BIP-350 reference algorithm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "chain/crypto/address.h"
#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"

/* BIP-350 "valid Bech32m" test vectors. */
static const char *const valid_m[] = {
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
};

/* BIP-350 "not valid Bech32m" vectors with the message we give for each. */
static const struct {
    const char *s;
    const char *msg;
} invalid_m[] = {
    {"\x20"
     "1xj0phk",
     "invalid character 0x20 at 0"},
    {"\x7f"
     "1g6xzxy",
     "invalid character 0x7f at 0"},
    {"\x80"
     "1vctc34",
     "invalid character 0x80 at 0"},
    {"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
     "too long: 91 characters, at most 90"},
    {"qyrz8wqd2c9m", "missing separator '1'"},
    {"1qyrz8wqd2c9m", "empty human-readable part"},
    {"y1b0jsk6g", "invalid character 'b' at 2"},
    {"lt1igcx5c0", "invalid character 'i' at 3"},
    {"in1muywd", "too short: the checksum needs 6 characters"},
    {"mm1crxm3i", "invalid character 'i' at 8"},
    {"au1s5cgom", "invalid character 'o' at 7"},
    {"M1VUXWEZ", "bad checksum"},
    {"16plkw9", "empty human-readable part"},
    {"1p2gdwpf", "empty human-readable part"},
    /* Valid BIP-173 (bech32) strings must be told apart from corruption. */
    {"A12UEL5L", "bech32 (not bech32m) checksum"},
    {"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bech32 (not bech32m) checksum"},
    {"", "empty string"},
};

static void test_bip350_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid_m / sizeof *valid_m; i++) {
        char hrp[91], again[91];
        uint8_t d[90];
        size_t n;
        util_err err;
        if (chain_bech32m_decode(hrp, sizeof hrp, d, &n, sizeof d, valid_m[i], &err) != 0)
            fail_msg("%s: %s", valid_m[i], err.msg);
        /* Re-encoding yields the lowercase form of the input. */
        assert_int_equal(chain_bech32m_encode(again, sizeof again, hrp, d, n), 0);
        char lower[91];
        size_t l = strlen(valid_m[i]);
        for (size_t k = 0; k <= l; k++) {
            char c = valid_m[i][k];
            lower[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        assert_string_equal(again, lower);
    }
}

static void test_bip350_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof invalid_m / sizeof *invalid_m; i++) {
        char hrp[91];
        uint8_t d[90];
        size_t n;
        util_err err = {0};
        assert_int_equal(
            chain_bech32m_decode(hrp, sizeof hrp, d, &n, sizeof d, invalid_m[i].s, &err), -1);
        assert_int_equal(err.code, UTIL_EINVAL);
        assert_string_equal(err.msg, invalid_m[i].msg);
    }
}

static void test_bech32m_bounds(void **state)
{
    (void)state;
    char out[16], hrp[4];
    uint8_t d[4] = {0, 31, 32, 0}, big[90] = {0};
    size_t n;
    util_err err;
    assert_int_equal(chain_bech32m_encode(out, sizeof out, "a", d, 2), 0);
    assert_int_equal(chain_bech32m_encode(out, sizeof out, "a", d, 3), -1); /* group 32 */
    assert_int_equal(chain_bech32m_encode(out, sizeof out, "", d, 2), -1);
    assert_int_equal(chain_bech32m_encode(out, sizeof out, "A", d, 2), -1);
    assert_int_equal(chain_bech32m_encode(out, 10, "a", d, 2), -1); /* needs 11 */
    char huge[100];
    assert_int_equal(chain_bech32m_encode(huge, sizeof huge, "a", big, 83), -1); /* 91 chars */
    assert_int_equal(chain_bech32m_encode(huge, sizeof huge, "a", big, 82), 0);
    /* Output buffers that are too small are an error, never an overflow. */
    assert_int_equal(chain_bech32m_decode(hrp, sizeof hrp, d, &n, 1, "a1lqfn3a", &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(chain_bech32m_decode(hrp, 1, d, &n, 4, "a1lqfn3a", &err), -1);
    assert_int_equal(err.code, UTIL_ELIMIT);
    assert_int_equal(chain_bech32m_decode(hrp, sizeof hrp, d, &n, 1, huge, &err), -1);
    assert_int_equal(err.code, UTIL_ELIMIT);
}

static void test_addr_known_answers(void **state)
{
    (void)state;
    chain_addr a, b;
    char s[CHAIN_ADDR_STR_LEN + 1];
    for (int i = 0; i < CHAIN_ADDR_LEN; i++)
        a.b[i] = (uint8_t)i;
    chain_addr_encode(s, &a);
    assert_string_equal(s, "ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysncg6ehf");
    assert_int_equal(strlen(s), CHAIN_ADDR_STR_LEN);
    assert_int_equal(chain_addr_decode(&b, s, NULL), 0);
    assert_memory_equal(a.b, b.b, CHAIN_ADDR_LEN);
    assert_int_equal(chain_addr_decode(&b, "OL1QQQSYQCYQ5RQWZQFPG9SCRGWPUGPZYSNCG6EHF", NULL), 0);
    assert_memory_equal(a.b, b.b, CHAIN_ADDR_LEN);

    memset(a.b, 0, sizeof a.b);
    chain_addr_encode(s, &a);
    assert_string_equal(s, "ol1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqgatupd");
}

static void test_addr_from_pubkey(void **state)
{
    (void)state;
    chain_keypair kp;
    chain_addr a, b;
    uint8_t h[32];
    char s[CHAIN_ADDR_STR_LEN + 1];
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    chain_addr_from_pubkey(&a, kp.pubkey);
    chain_sha256(h, kp.pubkey, 32);
    assert_memory_equal(a.b, h, CHAIN_ADDR_LEN);
    chain_addr_encode(s, &a);
    assert_memory_equal(s, "ol1", 3);
    assert_int_equal(chain_addr_decode(&b, s, NULL), 0);
    assert_memory_equal(a.b, b.b, CHAIN_ADDR_LEN);
}

static void expect_addr_err(const char *s, const char *msg)
{
    chain_addr a;
    util_err err = {0};
    assert_int_equal(chain_addr_decode(&a, s, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, msg);
}

static void test_addr_rejections(void **state)
{
    (void)state;
    expect_addr_err("ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysncg6ehq", "bad checksum");
    expect_addr_err("ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysngc6ehf", "bad checksum");
    expect_addr_err("ox1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnf89g9c", "wrong prefix: expected ol");
    expect_addr_err("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "wrong prefix: expected ol");
    expect_addr_err("oL1qqqsyqcyq5rqwzqfpg9scrgwpugpzysncg6ehf", "mixed case");
    expect_addr_err("ol1qqbsyqcyq5rqwzqfpg9scrgwpugpzysncg6ehf", "invalid character 'b' at 5");
    expect_addr_err("ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysncg6eh ", "invalid character 0x20 at 40");
    /* 21 and 19.375 bytes, each with a valid bech32m checksum. */
    expect_addr_err("ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnz7mkzsm",
                    "wrong length: 42 characters, expected 41");
    expect_addr_err("ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysgnlpen",
                    "wrong length: 40 characters, expected 41");
    expect_addr_err("ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnd524jt", "bech32 (not bech32m) checksum");
    expect_addr_err("", "empty address");
    expect_addr_err("olqqqsyqcyq5rqwzqfpg9scrgwpugpzysncg6ehf", "missing separator '1'");
    char longs[120];
    memset(longs, 'q', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    memcpy(longs, "ol1", 3);
    expect_addr_err(longs, "wrong length: 119 characters, expected 41");
}

/* Every byte value at one data position: a charset character other than the
 * original fails only the checksum, its upper case makes mixed case, and
 * anything else is an invalid character (the decoder's reverse table and
 * the charset must agree on all 256 values). */
static void test_every_byte_in_data(void **state)
{
    (void)state;
    static const char cs[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    const char *good = "ol1qqqsyqcyq5rqwzqfpg9scrgwpugpzysncg6ehf";
    chain_addr a;
    util_err err = {0};
    assert_int_equal(chain_addr_decode(&a, good, &err), 0);
    for (int b = 1; b < 256; b++) {
        char s[64];
        snprintf(s, sizeof s, "%s", good);
        s[10] = (char)b;
        int rc = chain_addr_decode(&a, s, &err);
        if (b == good[10]) {
            assert_int_equal(rc, 0);
        } else if (b < 128 && strchr(cs, b)) {
            assert_string_equal(err.msg, "bad checksum");
        } else if (b >= 'A' && b <= 'Z') {
            assert_string_equal(err.msg, "mixed case"); /* case is checked before the charset */
        } else if (b != '1') {                          /* '1' would become the separator */
            if (!strstr(err.msg, "invalid character")) fail_msg("byte %d: %s", b, err.msg);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bip350_valid),       cmocka_unit_test(test_bip350_invalid),
        cmocka_unit_test(test_bech32m_bounds),     cmocka_unit_test(test_addr_known_answers),
        cmocka_unit_test(test_addr_from_pubkey),   cmocka_unit_test(test_addr_rejections),
        cmocka_unit_test(test_every_byte_in_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
