/* What the bridge commands print (cli/bridge_text.c): durations, uint256
 * amounts, the withdrawal statuses and the L1 contracts' custom errors in
 * plain English. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/bridge.h"
#include "rollup/eth/abi.h"

/* --- texts ------------------------------------------------------------------ */

static void test_duration(void **state)
{
    (void)state;
    char s[48];
    static const struct {
        uint64_t v;
        const char *want;
    } cases[] = {{0, "0 s"},          {45, "45 s"},        {60, "1 min 0 s"},  {200, "3 min 20 s"},
                 {3600, "1 h 0 min"}, {7500, "2 h 5 min"}, {86400, "1 d 0 h"}, {90061, "1 d 1 h"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_format_duration(s, sizeof s, cases[i].v);
        assert_string_equal(s, cases[i].want);
    }
}

static void test_u256(void **state)
{
    (void)state;
    uint8_t w[32] = {0};
    char s[96];
    cli_format_u256(s, sizeof s, w, 9);
    assert_string_equal(s, "0");
    w[31] = 1;
    cli_format_u256(s, sizeof s, w, 9);
    assert_string_equal(s, "0.000000001");
    util_put_u64be(w + 24, 1500000000);
    cli_format_u256(s, sizeof s, w, 9);
    assert_string_equal(s, "1.5");
    assert_int_equal(cli_parse_quantity256("0x3635c9adc5dea00000", w), 0);
    cli_format_u256(s, sizeof s, w, 18);
    assert_string_equal(s, "1000");
    uint64_t v;
    assert_int_equal(cli_u256_to_u64(w, &v), UTIL_ELIMIT);
    memset(w, 0xff, 32);
    cli_format_u256(s, sizeof s, w, 0);
    assert_string_equal(
        s, "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    assert_int_not_equal(cli_parse_quantity256("12", w), 0);
    assert_int_not_equal(cli_parse_quantity256("0x", w), 0);
    assert_int_not_equal(cli_parse_quantity256("0xzz", w), 0);
}

static void status_is(const char *json, const char *want)
{
    json_t *w = json_loads(json, 0, NULL);
    assert_non_null(w);
    char s[256];
    cli_bridge_status_text(s, sizeof s, w);
    assert_string_equal(s, want);
    json_decref(w);
}

static void test_status_text(void **state)
{
    (void)state;
    status_is("{\"status\":\"pending\"}",
              "pending: the WITHDRAW transaction is not in a block yet");
    status_is("{\"status\":\"waiting_for_output\"}",
              "waiting for an output: none at or above its L2 height is on the L1 yet");
    status_is("{\"status\":\"waiting_for_finalization\",\"secondsLeft\":200}",
              "waiting for finalization: 3 min 20 s left");
    status_is("{\"status\":\"waiting_for_finalization\",\"secondsLeft\":null}",
              "waiting for finalization");
    status_is("{\"status\":\"ready\"}", "ready: final on the L1, it can be finalized");
    status_is("{\"status\":\"finalized\"}", "finalized: released on the L1");
    status_is("{\"status\":\"frozen\"}",
              "frozen: the OutputOracle is frozen, nothing can be finalized");
    status_is("{\"status\":\"\\u001b[2Jodd\"}", "unknown status '?[2Jodd'");
    status_is("{\"status\":null}", "unknown: the node has no L1, it cannot tell");
}

/* selector(sig) || words */
static size_t revert_data(uint8_t *out, const char *sig, const uint8_t (*words)[32], size_t n)
{
    rollup_abi_selector(out, sig);
    for (size_t i = 0; i < n; i++)
        memcpy(out + 4 + 32 * i, words[i], 32);
    return 4 + 32 * n;
}

static void test_revert_text(void **state)
{
    (void)state;
    uint8_t d[4 + 3 * 32], w[3][32];
    char s[512];
    memset(w, 0, sizeof w);
    const uint64_t now = 1800000000;

    util_put_u64be(w[0] + 24, now + 200);
    size_t n = revert_data(d, "NotFinal(uint256)", (const uint8_t(*)[32])w, 1);
    assert_int_equal(cli_l1_revert_text(s, sizeof s, d, n, now), 1);
    assert_non_null(strstr(s, "the output is not final yet: 3 min 20 s left (final at 2027-01-15"));
    /* Truncated arguments: shown raw, not misread. */
    assert_int_equal(cli_l1_revert_text(s, sizeof s, d, 4 + 16, now), 0);
    assert_non_null(strstr(s, "reverted with data 0x"));

    util_put_u64be(w[0] + 24, 7);
    n = revert_data(d, "AlreadyFinalized(uint64)", (const uint8_t(*)[32])w, 1);
    assert_int_equal(cli_l1_revert_text(s, sizeof s, d, n, now), 1);
    assert_string_equal(s, "withdrawal 7 was already finalized on the L1");

    n = revert_data(d, "OracleFrozen()", NULL, 0);
    assert_int_equal(cli_l1_revert_text(s, sizeof s, d, n, now), 1);
    assert_non_null(strstr(s, "OutputOracle is frozen"));
    n = revert_data(d, "BadProof()", NULL, 0);
    assert_int_equal(cli_l1_revert_text(s, sizeof s, d, n, now), 1);
    assert_non_null(strstr(s, "Merkle proof does not lead"));
    n = revert_data(d, "OutputRootMismatch()", NULL, 0);
    assert_int_equal(cli_l1_revert_text(s, sizeof s, d, n, now), 1);
    util_put_u64be(w[0] + 24, 3);
    n = revert_data(d, "OutputNotFound(uint64)", (const uint8_t(*)[32])w, 1);
    assert_int_equal(cli_l1_revert_text(s, sizeof s, d, n, now), 1);
    assert_non_null(strstr(s, "no output with index 3"));

    memset(w, 0, sizeof w);
    memset(w[0] + 12, 0xab, 20);
    util_put_u64be(w[1] + 24, 1000000000);
    util_put_u64be(w[2] + 24, 2500000000);
    n = revert_data(d, "InsufficientBalance(address,uint256,uint256)", (const uint8_t(*)[32])w, 3);
    assert_int_equal(cli_l1_revert_text(s, sizeof s, d, n, now), 1);
    assert_string_equal(s, "insufficient L1 OPEN balance: "
                           "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB has 1 OPEN, needs 2.5 OPEN");
    n = revert_data(d, "InsufficientAllowance(address,uint256,uint256)", (const uint8_t(*)[32])w,
                    3);
    assert_int_equal(cli_l1_revert_text(s, sizeof s, d, n, now), 1);
    assert_non_null(strstr(s, "insufficient allowance"));

    /* Error(string) */
    uint8_t e[4 + 96] = {0};
    rollup_abi_selector(e, "Error(string)");
    e[4 + 31] = 32;
    e[4 + 63] = 4;
    memcpy(e + 4 + 64, "nope", 4);
    assert_int_equal(cli_l1_revert_text(s, sizeof s, e, sizeof e, now), 1);
    assert_string_equal(s, "reverted: nope");

    static const uint8_t unknown[] = {0xde, 0xad, 0xbe, 0xef, 1};
    assert_int_equal(cli_l1_revert_text(s, sizeof s, unknown, sizeof unknown, now), 0);
    assert_string_equal(s, "reverted with data 0xdeadbeef01");
    assert_int_equal(cli_l1_revert_text(s, sizeof s, NULL, 0, now), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_u256),
        cmocka_unit_test(test_status_text),
        cmocka_unit_test(test_revert_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
