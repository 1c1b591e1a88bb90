/* The bridge_* RPC methods of a node without an L1 (node/bridge_rpc.c):
 * every parameter error, the figures of bridge_info, a withdrawal made on
 * the chain with its proof against the output root (which carries the real
 * withdrawals root), a block with a deposit refused by a validator without
 * an L1, and the bridge's /metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/exec/bridge.h"
#include "node/bridge.h"
#include "node/node_internal.h"
#include "rollup/output.h"
#include "rpc/jsonrpc.h"
#include "tests/unit/chain_fixture.h"
#include "util/hex.h"

static node *start_node(void)
{
    char *argv[] = {"openledgerd",      "--dev",       "--rpc", "127.0.0.1:0", "--p2p", "off",
                    "--quiet-accounts", "--log-level", "error", NULL};
    node_cfg cfg;
    util_err err = {0};
    assert_int_equal(node_cfg_parse(&cfg, 9, argv, &err), NODE_CFG_RUN);
    node *n;
    if (node_start(&n, &cfg, &err)) fail_msg("node_start: %s", err.msg);
    return n;
}

static void produce_to(node *n, uint64_t h)
{
    while (chain_store_height(n->store) < h) {
        int produced = 0;
        util_err err = {0};
        if (node_produce_block(n, 1, &produced, &err)) fail_msg("produce: %s", err.msg);
        assert_true(produced);
    }
}

static json_t *call(node *n, const char *method, const char *params, int want_code)
{
    json_error_t je;
    json_t *p = json_loads(params, 0, &je);
    if (!p) fail_msg("bad test params %s", params);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(n->dispatch, method, p, &e);
    json_decref(p);
    if (want_code) {
        if (r) fail_msg("%s %s: expected error %d", method, params, want_code);
        if (e.code != want_code)
            fail_msg("%s %s: error %d (%s), expected %d", method, params, e.code, e.message,
                     want_code);
        json_decref(e.data);
        return NULL;
    }
    if (!r) fail_msg("%s %s: %s", method, params, e.message);
    return r;
}

/* The message of an expected -32602 contains want. */
static void bad(node *n, const char *method, const char *params, const char *want)
{
    json_error_t je;
    json_t *p = json_loads(params, 0, &je);
    assert_non_null(p);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(n->dispatch, method, p, &e);
    json_decref(p);
    if (r) fail_msg("%s %s: expected -32602", method, params);
    if (e.code != RPC_INVALID_PARAMS || !strstr(e.message, want))
        fail_msg("%s %s: got %d \"%s\", expected -32602 with \"%s\"", method, params, e.code,
                 e.message, want);
    json_decref(e.data);
}

static void test_param_errors(void **state)
{
    (void)state;
    node *n = start_node();
    bad(n, "bridge_info", "[1]", "");
    bad(n, "bridge_getDeposit", "[]", "");
    bad(n, "bridge_getDeposit", "[-1]", "nonce");
    bad(n, "bridge_getDeposit", "[\"1x\"]", "nonce");
    bad(n, "bridge_getDeposit", "[1, 2]", "");
    bad(n, "bridge_getWithdrawal", "[]", "");
    bad(n, "bridge_getWithdrawal", "[1.5]", "id");
    bad(n, "bridge_listByAddress", "[]", "");
    bad(n, "bridge_listByAddress", "[\"ol1nope\"]", "address");
    bad(n, "bridge_listByAddress", "[\"ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8\", 5]",
        "param 1 (options): must be an object");
    bad(n, "bridge_listByAddress", "[\"ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8\", {\"max\":1}]",
        "unknown field \"max\"");
    bad(n, "bridge_listByAddress", "[\"ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8\", {\"limit\":0}]",
        "param 1 (options.limit): must be 1..1000");
    bad(n, "bridge_listByAddress",
        "[\"ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8\", {\"limit\":1001}]", "must be 1..1000");
    bad(n, "bridge_listByAddress",
        "[\"ol1mszdr2vj8cmpan9d23486tal7m9vdm4xmfgxw8\", {\"limit\":\"x\"}]",
        "param 1 (options.limit)");
    bad(n, "bridge_getWithdrawalProof", "[]", "");
    bad(n, "bridge_getWithdrawalProof", "[\"a\"]", "id");
    bad(n, "bridge_getWithdrawalProof", "[0, []]", "param 1 (options)");
    bad(n, "bridge_getWithdrawalProof", "[0, {\"index\":1}]", "unknown field");
    bad(n, "bridge_getWithdrawalProof", "[0, {\"outputIndex\":-2}]",
        "param 1 (options.outputIndex)");
    /* Well formed, but nothing there. */
    json_t *r = call(n, "bridge_getDeposit", "[0]", 0);
    assert_true(json_is_null(r));
    json_decref(r);
    r = call(n, "bridge_getWithdrawal", "[\"0\"]", 0);
    assert_true(json_is_null(r));
    json_decref(r);
    call(n, "bridge_getWithdrawalProof", "[0, {\"outputIndex\":1}]", RPC_NOT_FOUND);
    node_free(n);
}

static void test_info_without_l1(void **state)
{
    (void)state;
    node *n = start_node();
    json_t *r = call(n, "bridge_info", "[]", 0);
    static const char *nulls[] = {"l1ChainId",
                                  "l1Url",
                                  "token",
                                  "bridge",
                                  "outputOracle",
                                  "depositConfirmations",
                                  "finalizationPeriodSeconds",
                                  "l1Head",
                                  "frozen"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (!json_is_null(json_object_get(r, nulls[i]))) fail_msg("%s is not null", nulls[i]);
    char supply[32];
    snprintf(supply, sizeof supply, "%llu", (unsigned long long)chain_genesis_supply(&n->genesis));
    assert_string_equal(json_string_value(json_object_get(r, "genesisSupply")), supply);
    assert_string_equal(json_string_value(json_object_get(r, "supply")), supply);
    assert_string_equal(json_string_value(json_object_get(r, "minted")), "0");
    assert_string_equal(json_string_value(json_object_get(r, "locked")), "0");
    assert_int_equal(json_integer_value(json_object_get(r, "nextDeposit")), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "outputIntervalBlocks")),
                     n->genesis.params.output_interval_blocks);
    json_decref(r);
    node_free(n);
}

/* Sends a WITHDRAW of amount from dev key `from` through tx_send. */
static void send_withdraw(node *n, uint32_t from, uint64_t nonce, uint64_t amount)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, from), 0);
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", n->genesis.chain_id);
    tx.type = CHAIN_TX_WITHDRAW;
    tx.nonce = nonce;
    tx.gas_limit = CHAIN_GAS_WITHDRAW;
    tx.gas_price = n->genesis.params.min_gas_price;
    memset(tx.body.withdraw.l1_recipient, 0x70, 20);
    tx.body.withdraw.amount = amount;
    util_err err = {0};
    assert_int_equal(chain_tx_sign(&tx, &kp, n->genesis.hash, &err), 0);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_tx_encode(&tx, &b), 0);
    char *hex = malloc(2 * b.len + 8);
    hex[0] = '0';
    hex[1] = 'x';
    util_hex_encode(hex + 2, b.data, b.len);
    json_t *p = json_pack("[s]", hex);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(n->dispatch, "tx_send", p, &e);
    if (!r) fail_msg("tx_send: %s", e.message);
    json_decref(r);
    json_decref(p);
    free(hex);
    util_buf_free(&b);
    chain_keypair_clear(&kp);
}

static void unhex32(const char *s, uint8_t out[32])
{
    assert_non_null(s);
    assert_int_equal(strlen(s), 66);
    assert_int_equal(util_hex_decode_exact(out, 32, s + 2), 0);
}

static void test_withdrawal_and_proof(void **state)
{
    (void)state;
    node *n = start_node();
    produce_to(n, 1);
    send_withdraw(n, 1, 0, 2000000000ull);
    produce_to(n, 2);
    uint64_t interval = n->genesis.params.output_interval_blocks;
    produce_to(n, interval);

    json_t *w = call(n, "bridge_getWithdrawal", "[0]", 0);
    assert_int_equal(json_integer_value(json_object_get(w, "id")), 0);
    assert_int_equal(json_integer_value(json_object_get(w, "height")), 2);
    assert_string_equal(json_string_value(json_object_get(w, "amount")), "2000000000");
    assert_string_equal(json_string_value(json_object_get(w, "l1Recipient")),
                        "0x7070707070707070707070707070707070707070");
    chain_addr a;
    fx_dev_addr(&a, 1);
    char as[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(as, &a);
    assert_string_equal(json_string_value(json_object_get(w, "sender")), as);
    /* Without an L1 the node cannot know the status. */
    assert_true(json_is_null(json_object_get(w, "status")));
    assert_true(json_is_null(json_object_get(w, "outputIndex")));
    json_decref(w);

    /* Without an L1 the output index must be given. */
    call(n, "bridge_getWithdrawalProof", "[0]", RPC_UNAVAILABLE);
    bad(n, "bridge_getWithdrawalProof", "[0, {\"outputIndex\":0}]", "outputIndex");
    json_t *p = call(n, "bridge_getWithdrawalProof", "[0, {\"outputIndex\":1}]", 0);
    assert_int_equal(json_integer_value(json_object_get(p, "outputHeight")), interval);
    uint8_t sr[32], bh[32], wr[32], orr[32], want[32];
    unhex32(json_string_value(json_object_get(p, "stateRoot")), sr);
    unhex32(json_string_value(json_object_get(p, "blockHash")), bh);
    unhex32(json_string_value(json_object_get(p, "withdrawalsRoot")), wr);
    unhex32(json_string_value(json_object_get(p, "outputRoot")), orr);
    /* The output root carries the withdrawals root, which is not zero now. */
    static const uint8_t zero[32];
    assert_memory_not_equal(wr, zero, 32);
    util_err err = {0};
    assert_int_equal(rollup_output_root_at(n->store, interval, want, NULL, &err), 0);
    assert_memory_equal(orr, want, 32);
    rollup_output_root(want, sr, bh, wr);
    assert_memory_equal(orr, want, 32);
    /* What the validators sign is that root too. */
    json_t *os = call(n, "rollup_outputSignatures", "[]", 0);
    uint8_t signed_root[32];
    unhex32(json_string_value(json_object_get(os, "outputRoot")), signed_root);
    assert_memory_equal(signed_root, orr, 32);
    json_decref(os);

    /* The siblings prove the withdrawal's leaf against the withdrawals root. */
    json_t *sibs = json_object_get(p, "siblings"), *words = json_object_get(p, "proof");
    assert_int_equal(json_array_size(words), 3 + json_array_size(sibs));
    chain_smt_proof pr;
    memset(&pr, 0, sizeof pr);
    pr.nsib = (uint32_t)json_array_size(sibs);
    for (size_t i = 0; i < pr.nsib; i++) {
        unhex32(json_string_value(json_array_get(sibs, i)), pr.siblings[i]);
        uint8_t x[32];
        unhex32(json_string_value(json_array_get(words, 3 + i)), x);
        assert_memory_equal(x, pr.siblings[i], 32);
    }
    chain_withdrawal cw = {.id = 0, .sender = a, .amount = 2000000000ull};
    memset(cw.l1_recipient, 0x70, 20);
    uint8_t val[CHAIN_WITHDRAWAL_LEN], vh[32], path[32];
    chain_withdrawal_encode(&cw, val);
    chain_sha256(vh, val, sizeof val);
    chain_withdrawal_path(path, 0);
    pr.has_leaf = 1;
    memcpy(pr.leaf_path, path, 32);
    memcpy(pr.leaf_value_hash, vh, 32);
    if (chain_smt_verify(wr, path, vh, &pr, &err)) fail_msg("proof: %s", err.msg);
    json_decref(p);

    /* The sender's history lists it. */
    char params[128];
    snprintf(params, sizeof params, "[\"%s\", {\"limit\": 5}]", as);
    json_t *l = call(n, "bridge_listByAddress", params, 0);
    assert_int_equal(json_array_size(json_object_get(l, "withdrawals")), 1);
    assert_int_equal(json_array_size(json_object_get(l, "deposits")), 0);
    json_decref(l);

    json_t *info = call(n, "bridge_info", "[]", 0);
    assert_string_equal(json_string_value(json_object_get(info, "burned")), "2000000000");
    assert_int_equal(json_integer_value(json_object_get(info, "nextWithdrawal")), 1);
    json_decref(info);

    /* A later output proves it too. */
    produce_to(n, 2 * interval);
    snprintf(params, sizeof params, "[0, {\"outputIndex\": 2}]");
    json_decref(call(n, "bridge_getWithdrawalProof", params, 0));
    node_free(n);
}

static uint64_t metric(node *n, const char *name)
{
    int status;
    const char *ct;
    char *body = NULL;
    size_t len;
    assert_int_equal(node_http_get(n, "/metrics", &status, &ct, &body, &len), 0);
    assert_int_equal(status, 200);
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(body, key);
    if (!p) fail_msg("no %s in /metrics", name);
    uint64_t v = strtoull(p + strlen(key), NULL, 10);
    free(body);
    return v;
}

static void test_no_l1_refuses_deposits(void **state)
{
    (void)state;
    node *n = start_node();
    produce_to(n, 1);
    assert_int_equal(metric(n, "openledger_bridge_blocks_refused_total"), 0);
    assert_int_equal(metric(n, "openledger_supply_base_units"), chain_genesis_supply(&n->genesis));
    assert_int_equal(metric(n, "openledger_bridge_locked_base_units"), 0);
    assert_int_equal(metric(n, "openledger_bridge_deposits_confirmed_pending"), 0);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.height = 2;
    b.ntx = 1;
    b.txs = calloc(1, sizeof *b.txs);
    chain_tx_deposit d = {.l1_block = 5, .log_index = 0, .amount = 7};
    fx_dev_addr(&d.to, 2);
    util_err err = {0};
    assert_int_equal(chain_tx_deposit_make(&b.txs[0], n->genesis.chain_id, 0, &d, &err), 0);
    assert_int_equal(node_bridge_check_block(n, &b), 1);
    assert_int_equal(metric(n, "openledger_bridge_blocks_refused_total"), 1);
    chain_block_free(&b);
    /* A block without deposits is not its business. */
    memset(&b, 0, sizeof b);
    b.h.height = 2;
    assert_int_equal(node_bridge_check_block(n, &b), 0);
    assert_int_equal(metric(n, "openledger_bridge_blocks_refused_total"), 1);
    node_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_errors),
        cmocka_unit_test(test_info_without_l1),
        cmocka_unit_test(test_withdrawal_and_proof),
        cmocka_unit_test(test_no_l1_refuses_deposits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
