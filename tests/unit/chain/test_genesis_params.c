/* The genesis params: every rule on each of them, the consensus timeouts
 * in particular (chain/types/genesis.h, docs/genesis.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "chain/types/genesis.h"
#include "tests/unit/genesis_doc.h"

static void test_bad_params(void **state)
{
    (void)state;
    json_t *d;
    d = devnet_doc();
    set_param(d, "blockGasLimt", json_string("1"));
    expect_reject(d, "params.blockGasLimt: unknown field");
    d = devnet_doc();
    json_object_del(json_object_get(d, "params"), "blockGasLimit");
    expect_reject(d, "params.blockGasLimit: missing");
    d = devnet_doc();
    set_param(d, "blockGasLimit", json_integer(50000000));
    expect_reject(d, "params.blockGasLimit: not a decimal integer");
    d = devnet_doc();
    set_param(d, "blockGasLimit", json_string("999"));
    expect_reject(d, "params.blockGasLimit: below the gas of one transfer");
    d = devnet_doc();
    set_param(d, "minGasPrice", json_string("-1"));
    expect_reject(d, "params.minGasPrice: not a decimal integer");
    d = devnet_doc();
    set_param(d, "minGasPrice", json_string("01"));
    expect_reject(d, "params.minGasPrice: not a decimal integer");
    d = devnet_doc();
    set_param(d, "minGasPrice", json_string("18446744073709551616"));
    expect_reject(d, "params.minGasPrice: out of range");
    d = devnet_doc();
    set_param(d, "blockMaxBytes", json_string("16777217"));
    expect_reject(d, "params.blockMaxBytes: above the block size limit");
    d = devnet_doc();
    set_param(d, "blockMaxBytes", json_string("100000"));
    expect_reject(d, "params.blockMaxBytes: below params.txMaxBytes");
    d = devnet_doc();
    set_param(d, "txMaxBytes", json_string("131073"));
    expect_reject(d, "params.txMaxBytes: out of range");
    d = devnet_doc();
    set_param(d, "txMaxBytes", json_string("100"));
    expect_reject(d, "params.txMaxBytes: out of range");
    d = devnet_doc();
    set_param(d, "timeoutProposeMs", json_string("3000"));
    expect_reject(d, "params.timeoutProposeMs: not an integer");
    d = devnet_doc();
    set_param(d, "timeoutPrevoteMs", json_integer(0));
    expect_reject(d, "params.timeoutPrevoteMs: out of range");
    d = devnet_doc();
    set_param(d, "timeoutPrecommitMs", json_real(1000.0));
    expect_reject(d, "params.timeoutPrecommitMs: not an integer");
    /* A step timeout of 0, or below the floor, would spin through rounds. */
    static const char *const steps[] = {"timeoutProposeMs", "timeoutPrevoteMs",
                                        "timeoutPrecommitMs"};
    for (size_t i = 0; i < 3; i++) {
        char want[96];
        snprintf(want, sizeof want, "params.%s: out of range (10..600000)", steps[i]);
        d = devnet_doc();
        set_param(d, steps[i], json_integer(0));
        expect_reject(d, want);
        d = devnet_doc();
        set_param(d, steps[i], json_integer(CHAIN_TIMEOUT_MIN_MS - 1));
        expect_reject(d, want);
        d = devnet_doc();
        set_param(d, steps[i], json_integer(CHAIN_TIMEOUT_MAX_MS + 1));
        expect_reject(d, want);
    }
    static const char *const waits[] = {"timeoutProposeDeltaMs", "timeoutPrevoteDeltaMs",
                                        "timeoutPrecommitDeltaMs", "timeoutCommitMs"};
    for (size_t i = 0; i < 4; i++) {
        char want[96];
        snprintf(want, sizeof want, "params.%s: out of range (0..600000)", waits[i]);
        d = devnet_doc();
        set_param(d, waits[i], json_integer(-1));
        expect_reject(d, want);
        d = devnet_doc();
        set_param(d, waits[i], json_integer(600001));
        expect_reject(d, want);
        d = devnet_doc();
        json_object_del(json_object_get(d, "params"), waits[i]);
        snprintf(want, sizeof want, "params.%s: missing", waits[i]);
        expect_reject(d, want);
    }
    d = devnet_doc();
    set_param(d, "timeoutDeltaMs", json_integer(500));
    expect_reject(d, "params.timeoutDeltaMs: unknown field");
    d = devnet_doc();
    set_param(d, "maxClockDriftMs", json_integer(0));
    expect_reject(d, "params.maxClockDriftMs: out of range");
    d = devnet_doc();
    set_param(d, "outputIntervalBlocks", json_integer(0));
    expect_reject(d, "params.outputIntervalBlocks: out of range");
    d = devnet_doc();
    json_object_del(json_object_get(d, "params"), "outputIntervalBlocks");
    expect_reject(d, "params.outputIntervalBlocks");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
