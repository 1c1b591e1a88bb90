/* The L1 side of tests/unit/rollup/test_bridge_contract.c: JSON-RPC calls,
 * views, transactions and revert checks against the anvil at g_url, with the
 * contracts of g_cfg. Header-only, included by that one test program, which
 * defines what it uses (g_anvil, g_url, g_cfg, g_txo, REVERT_GAS) and
 * includes cmocka, jansson and the rollup headers before it. */
#ifndef OL_TESTS_BRIDGE_L1_H
#define OL_TESTS_BRIDGE_L1_H

#include "tests/unit/rollup/l1_calls.h"

/* eth_call's first result word. */
static void view_word(const rollup_eth_addr *to, const util_buf *data, uint8_t w[32])
{
    json_t *res = rpc("eth_call", call_params(to, data));
    uint8_t *out = NULL;
    size_t n = 0;
    util_err err = {0};
    if (rollup_l1_parse_data(res, 4096, &out, &n, "eth_call", &err) ||
        rollup_abi_word(out, n, 0, w, &err))
        fail_msg("%s", err.msg);
    free(out);
    json_decref(res);
}

static uint64_t view_u64(const rollup_eth_addr *to, const char *sig, const rollup_abi_val *v,
                         size_t nv)
{
    util_buf b;
    util_buf_init(&b);
    rollup_abi_encode_call(&b, sig, v, nv);
    uint8_t w[32];
    view_word(to, &b, w);
    util_buf_free(&b);
    for (int i = 0; i < 24; i++)
        if (w[i]) fail_msg("%s: more than 64 bits", sig);
    uint64_t x = 0;
    for (int i = 24; i < 32; i++)
        x = x << 8 | w[i];
    return x;
}

static uint64_t balance_of(const rollup_eth_addr *a)
{
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(rollup_token_balance_of_calldata(&b, a), 0);
    uint8_t w[32];
    view_word(&g_cfg.token, &b, w);
    util_buf_free(&b);
    uint64_t x = 0;
    for (int i = 24; i < 32; i++)
        x = x << 8 | w[i];
    return x;
}

/* gasUsed without the 21,000 base and the calldata's 4/16 gas per zero /
 * non-zero byte (EIP-2028; none of these transactions is mostly data, so
 * EIP-7623's floor does not apply): the execution alone, comparable with
 * forge's gas snapshots. */
static uint64_t exec_gas(const util_buf *data, uint64_t gas)
{
    uint64_t cd = 0;
    for (size_t i = 0; i < data->len; i++)
        cd += data->data[i] ? 16 : 4;
    return gas - 21000 - cd;
}

/* Bridge logs with topic0 in blocks [from, to]. */
static size_t bridge_logs(uint64_t from, uint64_t to, const uint8_t topic0[32],
                          rollup_l1_log **logs)
{
    json_t *f = json_object();
    json_object_set_new(f, "address", rollup_l1_address(&g_cfg.bridge));
    json_object_set_new(f, "fromBlock", rollup_l1_quantity(from));
    json_object_set_new(f, "toBlock", rollup_l1_quantity(to));
    json_object_set_new(f, "topics", json_pack("[o]", rollup_l1_data(topic0, 32)));
    json_t *res = rpc("eth_getLogs", json_pack("[o]", f));
    size_t n = 0;
    util_err err = {0};
    if (rollup_l1_parse_logs(res, 64, 1024, logs, &n, &err)) fail_msg("%s", err.msg);
    json_decref(res);
    return n;
}

#endif
