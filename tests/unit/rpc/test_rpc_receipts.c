/* Every receipt the limits allow is stored and readable through the RPC
 * methods (chain_getTransaction, chain_getReceipt, tx_list), on a real store:
 *   - a block holding a maximum-size receipt (4,096 bytes of return data,
 *     1,024 events of 1,024 bytes) next to an ordinary transfer;
 *   - a block of real calls: one with 1,024 events and 4,096 bytes of return
 *     data, reverts whose data is ill-formed UTF-8 (cut inside a character by
 *     the 256-byte limit, or a lone lead byte), a revert with text, and a call
 *     past the events limit;
 * every reply is valid JSON, no list skips an entry, and the failures carry
 * failureCode, revertData and (for text only) revertText. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/attr_fixture.h"

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/contract.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "rpc/methods/methods.h"
#include "rpc/methods/queries.h"
#include "util/hex.h"
#include "vm/vm.h"

static int setup(void **state)
{
    (void)state;
    afx_open("rpc-receipts", 0);
    assert_int_equal(rpc_methods_chain_register(afx.d, &afx.api), 0);
    assert_int_equal(rpc_methods_queries_register(afx.d, &afx.api), 0);
    return 0;
}

static chain_tx transfer(uint32_t dev, uint32_t to, uint64_t amount)
{
    chain_tx tx = afx_tx_gas(dev, CHAIN_TX_TRANSFER, CHAIN_GAS_TRANSFER);
    fx_dev_addr(&tx.body.transfer.to, to);
    tx.body.transfer.amount = amount;
    return afx_sign(tx, dev);
}

static chain_tx call_tx(uint32_t dev, const chain_addr *c)
{
    chain_tx tx = afx_tx_gas(dev, CHAIN_TX_CALL, 50000000);
    tx.body.call.contract = *c;
    return afx_sign(tx, dev);
}

/* Executes txs in a new block and commits it with their receipts, except
 * that receipt `swap` (when >= 0) is replaced by *forced first: how a test
 * stores a receipt at the encoding's limits, which no contract reaches. */
static void commit_block(chain_tx *txs, size_t n, chain_receipt *rs, int swap,
                         chain_receipt *forced)
{
    chain_block b;
    chain_exec *ex = afx_block_begin(&b, chain_store_head_header(afx.st)->time_ms + 1000);
    afx_block_apply(ex, txs, n, rs);
    if (swap >= 0) {
        chain_receipt_free(&rs[swap]);
        rs[swap] = *forced;
        memset(forced, 0, sizeof *forced);
    }
    afx_block_commit(&b, txs, n, rs, ex);
}

static chain_addr deploy(const char *src)
{
    uint8_t *code;
    size_t len;
    util_err err = {0};
    if (vm_asm_source("test", src, strlen(src), &code, &len, &err)) fail_msg("asm: %s", err.msg);
    chain_tx tx =
        afx_tx_gas(0, CHAIN_TX_DEPLOY, CHAIN_GAS_DEPLOY + CHAIN_GAS_DEPLOY_PER_BYTE * len);
    tx.body.deploy.code = code;
    tx.body.deploy.len = (uint32_t)len;
    tx = afx_sign(tx, 0);
    chain_receipt r;
    commit_block(&tx, 1, &r, -1, NULL);
    if (r.status != CHAIN_RECEIPT_OK) fail_msg("deploy: %s", r.error);
    chain_addr a = r.created;
    chain_receipt_free(&r);
    chain_tx_free(&tx);
    return a;
}

/* Calls method with params (JSON text); the reply must exist, and must dump
 * to JSON that parses back. Returns the parsed copy. */
static json_t *call_ok(const char *method, const char *params)
{
    json_t *p = json_loads(params, 0, NULL);
    assert_non_null(p);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(afx.d, method, p, &e);
    json_decref(p);
    if (!r) fail_msg("%s %s: error %d %s", method, params, e.code, e.message);
    rpc_error_clear(&e);
    char *text = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    if (!text) fail_msg("%s: reply does not serialize", method);
    json_error_t je;
    json_t *back = json_loads(text, 0, &je);
    if (!back) fail_msg("%s: reply is not valid JSON: %s", method, je.text);
    free(text);
    return back;
}

/* Reads tx back through chain_getTransaction and chain_getReceipt; both
 * receipts agree. Returns chain_getReceipt's reply. */
static json_t *read_back(const chain_tx *tx)
{
    char hash[67] = "0x", p[80];
    util_hex_encode(hash + 2, tx->id, 32);
    snprintf(p, sizeof p, "[\"%s\"]", hash);
    json_t *t = call_ok("chain_getTransaction", p);
    assert_string_equal(afx_str(json_object_get(t, "tx"), "hash"), hash);
    json_t *r = call_ok("chain_getReceipt", p);
    assert_string_equal(afx_str(r, "txHash"), hash);
    json_t *tr = json_object_get(t, "receipt");
    assert_string_equal(afx_str(tr, "status"), afx_str(r, "status"));
    assert_true(json_equal(json_object_get(tr, "events"), json_object_get(r, "events")));
    assert_true(json_equal(json_object_get(tr, "failureCode"), json_object_get(r, "failureCode")));
    json_decref(t);
    return r;
}

/* tx_list of dev lists exactly `want` transactions, all readable. */
static void list_all(uint32_t dev, size_t want)
{
    chain_addr a;
    char s[CHAIN_ADDR_STR_LEN + 1], p[160];
    fx_dev_addr(&a, dev);
    chain_addr_encode(s, &a);
    size_t seen = 0;
    char cursor[40] = "";
    for (;;) {
        if (cursor[0])
            snprintf(p, sizeof p, "[\"%s\", \"%s\", 100]", s, cursor);
        else
            snprintf(p, sizeof p, "[\"%s\", null, 100]", s);
        json_t *r = call_ok("tx_list", p);
        json_t *txs = json_object_get(r, "txs");
        for (size_t i = 0; i < json_array_size(txs); i++)
            assert_non_null(json_object_get(json_array_get(txs, i), "receipt"));
        seen += json_array_size(txs);
        json_t *next = json_object_get(r, "nextCursor");
        int more = json_is_string(next);
        if (more) snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        json_decref(r);
        if (!more) break;
    }
    assert_int_equal(seen, want);
}

/* A receipt at every limit of the encoding. */
static void largest_receipt(chain_receipt *r)
{
    chain_addr a;
    uint8_t topic[32], data[CHAIN_EVENT_DATA_MAX];
    memset(r, 0, sizeof *r);
    r->gas_used = 21000;
    r->fee = 21000;
    memset(a.b, 0x5a, CHAIN_ADDR_LEN);
    memset(topic, 0x77, 32);
    memset(data, 0xee, sizeof data);
    for (uint32_t i = 0; i < CHAIN_RECEIPT_MAX_EVENTS; i++)
        assert_int_equal(chain_receipt_add_event(r, &a, topic, data, sizeof data), 0);
    r->ret = malloc(CHAIN_RETURN_MAX);
    assert_non_null(r->ret);
    memset(r->ret, 0xab, CHAIN_RETURN_MAX);
    r->ret_len = CHAIN_RETURN_MAX;
}

static void test_largest_receipt_beside_a_transfer(void **state)
{
    (void)state;
    chain_addr c = deploy("    stop\n");
    size_t before = (size_t)afx.nonce[0];
    chain_tx txs[3] = {transfer(0, 1, 12345), call_tx(0, &c), transfer(2, 3, 99)};
    chain_receipt rs[3], big;
    largest_receipt(&big);
    commit_block(txs, 3, rs, 1, &big);
    for (size_t i = 0; i < 3; i++) {
        json_t *r = read_back(&txs[i]);
        assert_string_equal(afx_str(r, "status"), "success");
        assert_true(json_is_null(json_object_get(r, "failureCode")));
        assert_true(json_is_null(json_object_get(r, "error")));
        size_t nev = json_array_size(json_object_get(r, "events"));
        assert_int_equal(nev, i == 1 ? CHAIN_RECEIPT_MAX_EVENTS : 0);
        if (i == 1) assert_int_equal(strlen(afx_str(r, "returnData")), 2 + 2 * CHAIN_RETURN_MAX);
        json_decref(r);
        chain_receipt_free(&rs[i]);
    }
    list_all(0, before + 2); /* dev0: the deploy, the transfer and the call */
    list_all(3, 1);
    for (size_t i = 0; i < 3; i++)
        chain_tx_free(&txs[i]);
}

/* Emits `count` logs (the first 64 with 1,024 data bytes, the VM's 64 KiB of
 * log data) and returns 4,096 bytes. */
static chain_addr spammer(int count)
{
    char src[1024];
    snprintf(src, sizeof src,
             ".data\n"
             "topic: .ascii \"spam\"\n"
             "       .zero 28\n"
             ".code\n"
             "    ldi r8, 0\n"
             "    ldi r9, %d\n"
             "    ldi r10, 64\n"
             "loop:\n"
             "    beq r8, r9, done\n"
             "    ldi r3, 0\n"
             "    bltu r8, r10, big\n"
             "    jmp emit\n"
             "big:\n"
             "    ldi r3, 1024\n"
             "emit:\n"
             "    ldi r1, topic\n"
             "    ldi r2, 0x1000\n"
             "    sys emit\n"
             "    addi r8, r8, 1\n"
             "    jmp loop\n"
             "done:\n"
             "    ldi r1, 0x2000\n"
             "    ldi r2, 4096\n"
             "    return r1, r2\n",
             count);
    return deploy(src);
}

/* Reverts with the bytes given as hex after `prefix_len` bytes of 'a'. */
static chain_addr reverter(size_t prefix_len, const char *hex)
{
    char src[2048], pad[300];
    memset(pad, 'a', prefix_len);
    pad[prefix_len] = 0;
    snprintf(src, sizeof src,
             ".data\n"
             "msg: .ascii \"%s\"\n"
             "     .hex \"%s\"\n"
             "msg_end:\n"
             ".code\n"
             "    ldi r1, msg\n"
             "    ldi r2, msg_end - msg\n"
             "    revert r1, r2\n",
             pad, hex);
    return deploy(src);
}

static void test_contract_receipts_read_back(void **state)
{
    (void)state;
    chain_addr c[5] = {
        spammer(CHAIN_RECEIPT_MAX_EVENTS),
        reverter(255, "c3a9"), /* 257 bytes: the VM keeps 256, cutting the character */
        reverter(3, "e282"),   /* a lone start of a euro sign */
        reverter(0, "6e6f7420746f646179e282ac"), /* "not today€" */
        spammer(CHAIN_RECEIPT_MAX_EVENTS + 1),
    };
    chain_tx txs[6];
    txs[0] = transfer(0, 1, 5);
    for (int i = 0; i < 5; i++)
        txs[1 + i] = call_tx(0, &c[i]);
    chain_receipt rs[6];
    commit_block(txs, 6, rs, -1, NULL);

    json_t *r = read_back(&txs[1]);
    assert_string_equal(afx_str(r, "status"), "success");
    assert_int_equal(json_array_size(json_object_get(r, "events")), CHAIN_RECEIPT_MAX_EVENTS);
    assert_int_equal(strlen(afx_str(r, "returnData")), 2 + 2 * 4096);
    json_decref(r);

    /* Cut inside a character: revertData, no revertText, a valid message. */
    r = read_back(&txs[2]);
    assert_string_equal(afx_str(r, "status"), "failed");
    assert_string_equal(afx_str(r, "failureCode"), "reverted");
    const char *rd = afx_str(r, "revertData");
    assert_int_equal(strlen(rd), 2 + 2 * CHAIN_REVERT_MAX);
    assert_string_equal(rd + 2 + 2 * 255, "c3");
    assert_null(json_object_get(r, "revertText"));
    assert_string_equal(afx_str(r, "error"), "reverted: 256 bytes of revert data, not UTF-8 text");
    json_decref(r);

    r = read_back(&txs[3]);
    assert_string_equal(afx_str(r, "failureCode"), "reverted");
    assert_string_equal(afx_str(r, "revertData"), "0x616161e282");
    assert_null(json_object_get(r, "revertText"));
    json_decref(r);

    r = read_back(&txs[4]);
    assert_string_equal(afx_str(r, "revertData"), "0x6e6f7420746f646179e282ac");
    assert_string_equal(afx_str(r, "revertText"), "not today\xe2\x82\xac");
    assert_string_equal(afx_str(r, "error"), "reverted: not today\xe2\x82\xac");
    json_decref(r);

    /* One events limit, the receipt's, checked by the host. */
    r = read_back(&txs[5]);
    assert_string_equal(afx_str(r, "failureCode"), "too_many_events");
    assert_null(json_object_get(r, "revertData"));
    assert_int_equal(json_array_size(json_object_get(r, "events")), 0);
    json_decref(r);

    list_all(0, (size_t)afx.nonce[0]);
    for (int i = 0; i < 6; i++) {
        chain_receipt_free(&rs[i]);
        chain_tx_free(&txs[i]);
    }
}

/* contract_call (read-only) reports a revert the same way, and a failed call
 * returns no events. */
static void test_readonly_revert(void **state)
{
    (void)state;
    chain_addr c = reverter(1, "ff");
    chain_addr many = spammer(CHAIN_RECEIPT_MAX_EVENTS + 1);
    char s[CHAIN_ADDR_STR_LEN + 1], p[160];
    chain_addr_encode(s, &c);
    snprintf(p, sizeof p, "[\"%s\"]", s);
    json_t *r = call_ok("contract_call", p);
    assert_string_equal(afx_str(r, "failureCode"), "reverted");
    assert_string_equal(afx_str(r, "revertData"), "0x61ff");
    assert_null(json_object_get(r, "revertText"));
    json_decref(r);
    chain_addr_encode(s, &many);
    snprintf(p, sizeof p, "[\"%s\"]", s);
    r = call_ok("contract_call", p);
    assert_string_equal(afx_str(r, "failureCode"), "too_many_events");
    assert_int_equal(json_array_size(json_object_get(r, "events")), 0);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_largest_receipt_beside_a_transfer),
        cmocka_unit_test(test_contract_receipts_read_back),
        cmocka_unit_test(test_readonly_revert),
    };
    return cmocka_run_group_tests(tests, setup, afx_teardown);
}
