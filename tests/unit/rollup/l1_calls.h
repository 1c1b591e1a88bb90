/* L1 calls for the contract tests on anvil (test_contracts.c,
 * test_bridge_contract.c): JSON-RPC calls, transactions through the
 * transaction manager, revert checks and time travel. Header-only; the
 * including program defines g_anvil, g_url, g_txo and REVERT_GAS and includes
 * cmocka, jansson and the rollup headers before it. Static inline so that a
 * program not using one of them does not warn. */
#ifndef OL_TESTS_L1_CALLS_H
#define OL_TESTS_L1_CALLS_H

static inline void stop_anvil(void)
{
    l1_anvil_stop(&g_anvil);
}

static inline json_t *rpc(const char *method, json_t *params)
{
    json_t *res = NULL;
    util_err err = {0};
    int rc = rollup_l1_call_sync(g_url, method, params, &res, &err);
    json_decref(params);
    if (rc) fail_msg("%s: %s", method, err.msg);
    return res;
}

static inline json_t *call_params(const rollup_eth_addr *to, const util_buf *data)
{
    json_t *tx = json_object();
    json_object_set_new(tx, "to", rollup_l1_address(to));
    json_object_set_new(tx, "data", rollup_l1_data(data->data, data->len));
    return json_pack("[o,s]", tx, "latest");
}

static inline int send_tx(const uint8_t sk[32], const rollup_eth_addr *to, const util_buf *data,
                          uint64_t gas, rollup_l1_receipt *r)
{
    util_err err = {0};
    memset(r, 0, sizeof *r);
    int rc = rollup_txmgr_send_sync(g_url, sk, &g_txo, to, data->data, data->len, gas, r, &err);
    if (rc && rc != UTIL_EINVAL) fail_msg("send: rc %d %s", rc, err.msg);
    return rc;
}

static inline uint64_t send_ok(const uint8_t sk[32], const rollup_eth_addr *to,
                               const util_buf *data, rollup_l1_receipt *r)
{
    assert_int_equal(send_tx(sk, to, data, 0, r), 0);
    assert_int_equal(r->status, 1);
    return r->gas_used;
}

/* The call reverts with the custom error error_sig (its selector in
 * eth_call's error), and the same transaction mined with a fixed gas limit
 * has status 0. */
static inline void expect_revert(const uint8_t sk[32], const rollup_eth_addr *to,
                                 const util_buf *data, const char *error_sig)
{
    uint8_t sel[4];
    char want[9];
    rollup_abi_selector(sel, error_sig);
    util_hex_encode(want, sel, 4);
    json_t *tx = json_object();
    rollup_eth_addr from;
    util_err err = {0};
    assert_int_equal(rollup_eth_addr_from_seckey(&from, sk, &err), 0);
    json_object_set_new(tx, "from", rollup_l1_address(&from));
    json_object_set_new(tx, "to", rollup_l1_address(to));
    json_object_set_new(tx, "data", rollup_l1_data(data->data, data->len));
    json_t *res = NULL, *params = json_pack("[o,s]", tx, "latest");
    int rc = rollup_l1_call_sync(g_url, "eth_call", params, &res, &err);
    json_decref(params);
    json_decref(res);
    if (rc == 0) fail_msg("eth_call succeeded, want revert %s", error_sig);
    if (!strstr(err.msg, want))
        fail_msg("want revert %s (0x%s), got: %s", error_sig, want, err.msg);
    rollup_l1_receipt r;
    assert_int_equal(send_tx(sk, to, data, REVERT_GAS, &r), UTIL_EINVAL);
    assert_int_equal(r.status, 0);
}

static inline void advance_time(uint64_t s)
{
    json_decref(rpc("evm_increaseTime", json_pack("[I]", (json_int_t)s)));
    json_decref(rpc("evm_mine", json_array()));
}

#endif
