/* The attribution JSON-RPC methods in-process, on a real store in a temporary
 * directory whose state was built by executing and committing real
 * attribution transactions: objects, paging, filters, contributor_impact, and
 * the bad-parameter paths. */
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

#include "chain/types/attr.h"
#include "chain/exec/contract.h"
#include "chain/crypto/hash.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "rpc/methods/attr.h"
#include "rpc/params.h"
#include "vm/vm.h"

/* The story of afx_story (tests/unit/attr_fixture.h), with datanet 3. */
static int setup(void **state)
{
    (void)state;
    afx_open("rpc-attr", 0);
    afx_story(3);
    assert_int_equal(rpc_methods_attr_register(afx.d, &afx.api), 0);
    return 0;
}

static void test_datanet(void **state)
{
    (void)state;
    json_t *d = afx_call("datanet_get", "[1]");
    assert_int_equal(afx_num(d, "id"), 1);
    assert_string_equal(afx_str(d, "name"), "reviewed");
    assert_string_equal(afx_str(d, "owner"), afx_dev_str(AFX_OWNER));
    assert_string_equal(afx_str(d, "metaUri"), "ipfs://reviewed");
    assert_string_equal(afx_str(d, "metaHash"),
                        "0xabababababababababababababababababababababababababababababababab");
    assert_string_equal(afx_str(d, "bond"), "1000");
    assert_true(json_is_true(json_object_get(d, "review")));
    assert_int_equal(afx_num(d, "height"), 1);
    assert_int_equal(afx_num(d, "contributions"), 3);
    assert_int_equal(afx_num(d, "accepted"), 1);
    assert_int_equal(afx_num(d, "rejected"), 1);
    assert_int_equal(afx_num(d, "pending"), 1);
    assert_int_equal(afx_num(d, "models"), 1);
    json_decref(d);
    d = afx_call("datanet_get", "[\"2\"]"); /* ids as decimal strings too */
    assert_int_equal(afx_num(d, "models"), 2);
    assert_true(json_is_false(json_object_get(d, "review")));
    json_decref(d);

    afx_call_fails("datanet_get", "[99]", RPC_NOT_FOUND, "datanet 99 not found");
    afx_call_fails("datanet_get", "[]", RPC_INVALID_PARAMS, NULL);
    afx_call_fails("datanet_get", "[-1]", RPC_INVALID_PARAMS, "id");
    afx_call_fails("datanet_get", "[\"one\"]", RPC_INVALID_PARAMS, "id");
    afx_call_fails("datanet_get", "[1, 2]", RPC_INVALID_PARAMS, NULL);
}

static void test_paging(void **state)
{
    (void)state;
    json_t *all = afx_call("datanet_list", "[]");
    assert_int_equal(json_array_size(afx_items(all)), 3);
    assert_true(json_is_null(json_object_get(all, "nextCursor")));
    json_decref(all);

    /* Page by page with limit 2: ids 1 2 | 3, then the end. */
    json_t *p1 = afx_call("datanet_list", "[null, 2]");
    assert_int_equal(json_array_size(afx_items(p1)), 2);
    assert_int_equal(afx_num(json_array_get(afx_items(p1), 0), "id"), 1);
    assert_int_equal(afx_num(json_array_get(afx_items(p1), 1), "id"), 2);
    const char *cur = afx_str(p1, "nextCursor");
    char params[256];
    snprintf(params, sizeof params, "[\"%s\", 2]", cur);
    json_t *p2 = afx_call("datanet_list", params);
    assert_int_equal(json_array_size(afx_items(p2)), 1);
    assert_int_equal(afx_num(json_array_get(afx_items(p2), 0), "id"), 3);
    assert_true(json_is_null(json_object_get(p2, "nextCursor")));

    /* A cursor of one list is refused by another. */
    snprintf(params, sizeof params, "[null, \"%s\"]", cur);
    afx_call_fails("model_list", params, RPC_INVALID_PARAMS, "cursor");
    json_decref(p1);
    json_decref(p2);

    /* Newest first. */
    json_t *d = afx_call("datanet_list", "[null, 1, \"desc\"]");
    assert_int_equal(afx_num(json_array_get(afx_items(d), 0), "id"), 3);
    snprintf(params, sizeof params, "[\"%s\", 5, \"desc\"]", afx_str(d, "nextCursor"));
    json_t *d2 = afx_call("datanet_list", params);
    assert_int_equal(json_array_size(afx_items(d2)), 2);
    assert_int_equal(afx_num(json_array_get(afx_items(d2), 0), "id"), 2);
    assert_int_equal(afx_num(json_array_get(afx_items(d2), 1), "id"), 1);
    json_decref(d);
    json_decref(d2);

    afx_call_fails("datanet_list", "[null, 0]", RPC_INVALID_PARAMS, "limit");
    afx_call_fails("datanet_list", "[null, 101]", RPC_INVALID_PARAMS, "limit");
    afx_call_fails("datanet_list", "[null, 100, \"sideways\"]", RPC_INVALID_PARAMS, "order");
    afx_call_fails("datanet_list", "[\"zz\"]", RPC_INVALID_PARAMS, "cursor");
    afx_call_fails("datanet_list", "[\"7364\"]", RPC_INVALID_PARAMS, "cursor");
    afx_call_fails("datanet_list", "[42]", RPC_INVALID_PARAMS, "cursor");
    afx_call_fails("datanet_list", "[null, 1, \"asc\", 4]", RPC_INVALID_PARAMS, NULL);
    json_t *max = afx_call("datanet_list", "[null, 100, \"asc\"]");
    json_decref(max);
}

static void test_contributions(void **state)
{
    (void)state;
    json_t *c = afx_call("contribution_get", "[2]");
    assert_string_equal(afx_str(c, "status"), "rejected");
    assert_int_equal(afx_num(c, "reason"), 7);
    assert_string_equal(afx_str(c, "contributor"), afx_dev_str(2));
    assert_string_equal(afx_str(c, "size"), "1002");
    assert_string_equal(afx_str(c, "uri"), "file://2");
    assert_string_equal(afx_str(c, "bond"), "1000");
    assert_int_equal(afx_num(c, "datanet"), 1);
    json_decref(c);
    c = afx_call("contribution_get", "[5]");
    assert_string_equal(afx_str(c, "status"), "pending");
    assert_true(json_is_null(json_object_get(c, "reason")));
    json_decref(c);
    /* Contribution 1: used by records 1 and 3; earned 525,000 in record 1. */
    c = afx_call("contribution_get", "[1]");
    assert_string_equal(afx_str(c, "status"), "accepted");
    assert_int_equal(afx_num(c, "timesUsed"), 2);
    assert_string_equal(afx_str(c, "earned"), "525000");
    json_decref(c);

    json_t *l = afx_call("contribution_list", "[{\"datanet\": 1}]");
    assert_int_equal(json_array_size(afx_items(l)), 3);
    assert_int_equal(afx_num(json_array_get(afx_items(l), 2), "id"), 5);
    json_decref(l);
    char params[512];
    snprintf(params, sizeof params, "[{\"contributor\": \"%s\"}, null, 1]", afx_dev_str(1));
    l = afx_call("contribution_list", params);
    assert_int_equal(json_array_size(afx_items(l)), 1);
    assert_int_equal(afx_num(json_array_get(afx_items(l), 0), "id"), 1);
    snprintf(params, sizeof params, "[{\"contributor\": \"%s\"}, \"%s\", 1]", afx_dev_str(1),
             afx_str(l, "nextCursor"));
    json_t *l2 = afx_call("contribution_list", params);
    assert_int_equal(json_array_size(afx_items(l2)), 1);
    assert_int_equal(afx_num(json_array_get(afx_items(l2), 0), "id"), 3);
    assert_true(json_is_null(json_object_get(l2, "nextCursor")));
    json_decref(l);
    json_decref(l2);
    l = afx_call("contribution_list", "[{\"datanet\": 3}]");
    assert_int_equal(json_array_size(afx_items(l)), 0);
    json_decref(l);

    afx_call_fails("contribution_list", "[{\"datanet\": 9}]", RPC_NOT_FOUND, "datanet 9");
    /* No filter: every contribution of every datanet, newest first on demand. */
    const char *const all[] = {"[]", "[null]", "[{}]"};
    for (size_t i = 0; i < 3; i++) {
        l = afx_call("contribution_list", all[i]);
        assert_int_equal(json_array_size(afx_items(l)), 5);
        assert_int_equal(afx_num(json_array_get(afx_items(l), 4), "id"), 5);
        json_decref(l);
    }
    l = afx_call("contribution_list", "[null, null, 2, \"desc\"]");
    assert_int_equal(afx_num(json_array_get(afx_items(l), 0), "id"), 5);
    assert_int_equal(afx_num(json_array_get(afx_items(l), 1), "id"), 4);
    snprintf(params, sizeof params, "[null, \"%s\", 2, \"desc\"]", afx_str(l, "nextCursor"));
    l2 = afx_call("contribution_list", params);
    assert_int_equal(afx_num(json_array_get(afx_items(l2), 0), "id"), 3);
    assert_int_equal(afx_num(json_array_get(afx_items(l2), 1), "id"), 2);
    json_decref(l);
    json_decref(l2);
    afx_call_fails("contribution_list", "[[]]", RPC_INVALID_PARAMS, "filter");
    afx_call_fails("contribution_list", "[{\"model\": 1}]", RPC_INVALID_PARAMS, "filter");
    afx_call_fails("contribution_list", "[{\"datanet\": 1, \"contributor\": \"x\"}]",
                   RPC_INVALID_PARAMS, "filter");
    afx_call_fails("contribution_list", "[{\"contributor\": \"ol1nope\"}]", RPC_INVALID_PARAMS,
                   "filter.contributor");
    afx_call_fails("contribution_list", "[{\"datanet\": \"x\"}]", RPC_INVALID_PARAMS,
                   "filter.datanet");
    afx_call_fails("contribution_get", "[77]", RPC_NOT_FOUND, NULL);
}

static void test_models(void **state)
{
    (void)state;
    json_t *m = afx_call("model_get", "[1]");
    assert_string_equal(afx_str(m, "name"), "m");
    assert_string_equal(afx_str(m, "owner"), afx_dev_str(AFX_MOWNER));
    assert_string_equal(afx_str(m, "attestorAddress"), afx_dev_str(AFX_ATTESTOR));
    json_t *ds = json_object_get(m, "datanets");
    assert_int_equal(json_array_size(ds), 2);
    assert_int_equal(json_integer_value(json_array_get(ds, 1)), 2);
    json_t *split = json_object_get(m, "split");
    assert_int_equal(afx_num(split, "owner"), 2000);
    assert_int_equal(afx_num(split, "validators"), 1000);
    assert_int_equal(afx_num(split, "contributors"), 7000);
    assert_int_equal(afx_num(m, "inferences"), 3);
    assert_string_equal(afx_str(m, "fees"), "2000999");
    assert_non_null(strstr(afx_str(m, "rewardContract"), "ol1"));
    json_decref(m);

    json_t *l = afx_call("model_list", "[]");
    assert_int_equal(json_array_size(afx_items(l)), 2);
    json_decref(l);
    l = afx_call("model_list", "[null, null, 1]");
    assert_int_equal(json_array_size(afx_items(l)), 1);
    assert_false(json_is_null(json_object_get(l, "nextCursor")));
    json_decref(l);
    l = afx_call("model_list", "[{\"datanet\": 1}]");
    assert_int_equal(json_array_size(afx_items(l)), 1);
    json_decref(l);
    l = afx_call("model_list", "[{\"datanet\": 2}, null, null, \"desc\"]");
    assert_int_equal(json_array_size(afx_items(l)), 2);
    assert_int_equal(afx_num(json_array_get(afx_items(l), 0), "id"), 2);
    json_decref(l);
    char params[512];
    snprintf(params, sizeof params, "[{\"owner\": \"%s\"}]", afx_dev_str(AFX_MOWNER));
    l = afx_call("model_list", params);
    assert_int_equal(json_array_size(afx_items(l)), 2);
    json_decref(l);
    snprintf(params, sizeof params, "[{\"owner\": \"%s\"}]", afx_dev_str(AFX_OWNER));
    l = afx_call("model_list", params);
    assert_int_equal(json_array_size(afx_items(l)), 0);
    json_decref(l);
    afx_call_fails("model_get", "[3]", RPC_NOT_FOUND, "model 3");
    afx_call_fails("model_list", "[{\"datanet\": 4}]", RPC_NOT_FOUND, NULL);
    afx_call_fails("model_list", "[{\"owner\": 5}]", RPC_INVALID_PARAMS, "filter.owner");
    afx_call_fails("model_list", "[7]", RPC_INVALID_PARAMS, "filter");
}

static uint64_t sum_payouts(json_t *rec, const char *role, const char *recipient)
{
    uint64_t s = 0;
    json_t *ps = json_object_get(rec, "payouts"), *p;
    size_t i;
    json_array_foreach(ps, i, p)
    {
        if (role && strcmp(afx_str(p, "role"), role) != 0) continue;
        if (recipient && strcmp(afx_str(p, "recipient"), recipient) != 0) continue;
        s += afx_amount(p, "amount");
    }
    return s;
}

static void test_records(void **state)
{
    (void)state;
    json_t *r = afx_call("attribution_get", "[1]");
    assert_int_equal(afx_num(r, "model"), 1);
    assert_string_equal(afx_str(r, "fee"), "1000000");
    assert_string_equal(afx_str(r, "method"), "suffix-array");
    assert_string_equal(afx_str(r, "owner"), afx_dev_str(AFX_MOWNER));
    assert_string_equal(afx_str(r, "attestor"), afx_dev_str(AFX_ATTESTOR));
    assert_string_equal(afx_str(r, "retained"), "0");
    json_t *es = json_object_get(r, "entries");
    assert_int_equal(json_array_size(es), 2);
    assert_string_equal(afx_str(json_array_get(es, 0), "weight"), "3");
    assert_string_equal(afx_str(json_array_get(es, 1), "contributor"), afx_dev_str(1));
    /* The default contract's order: owner share, validators, contributors in
     * entry order, then the remainder to the owner (zero here, so not paid). */
    json_t *ps = json_object_get(r, "payouts");
    assert_int_equal(json_array_size(ps), 4);
    assert_string_equal(afx_str(json_array_get(ps, 0), "role"), "owner");
    assert_string_equal(afx_str(json_array_get(ps, 0), "amount"), "200000");
    assert_string_equal(afx_str(json_array_get(ps, 1), "role"), "validator");
    assert_string_equal(afx_str(json_array_get(ps, 1), "recipient"), afx_dev_str(AFX_PROPOSER));
    assert_string_equal(afx_str(json_array_get(ps, 1), "amount"), "100000");
    assert_true(json_is_null(json_object_get(json_array_get(ps, 1), "contribution")));
    assert_int_equal(afx_num(json_array_get(ps, 2), "contribution"), 1);
    assert_string_equal(afx_str(json_array_get(ps, 2), "amount"), "525000");
    assert_string_equal(afx_str(json_array_get(ps, 3), "amount"), "175000");
    assert_true(sum_payouts(r, NULL, NULL) == 1000000);
    json_decref(r);

    /* 999,999: validators 99,999; contributors 699,999 -> 349,999 each; owner the rest. */
    r = afx_call("attribution_get", "[2]");
    assert_true(sum_payouts(r, "validator", NULL) == 99999);
    assert_true(sum_payouts(r, "contributor", NULL) == 2 * 349999);
    assert_true(sum_payouts(r, "owner", NULL) == 999999 - 99999 - 2 * 349999);
    json_decref(r);
    /* Zero total weight: no contributor payout. */
    r = afx_call("attribution_get", "[3]");
    /* owner share, validators, remainder to the owner */
    assert_int_equal(json_array_size(json_object_get(r, "payouts")), 3);
    assert_true(sum_payouts(r, "contributor", NULL) == 0);
    assert_true(sum_payouts(r, "owner", NULL) == 900);
    json_decref(r);

    json_t *l = afx_call("attribution_list", "[{\"model\": 1}]");
    assert_int_equal(json_array_size(afx_items(l)), 3);
    json_decref(l);
    l = afx_call("attribution_list", "[{\"contribution\": 4}, null, null, \"desc\"]");
    assert_int_equal(json_array_size(afx_items(l)), 2);
    assert_int_equal(afx_num(json_array_get(afx_items(l), 0), "id"), 4);
    assert_int_equal(afx_num(json_array_get(afx_items(l), 1), "id"), 2);
    json_decref(l);
    l = afx_call("attribution_list", "[{\"contribution\": 2}]");
    assert_int_equal(json_array_size(afx_items(l)), 0);
    json_decref(l);
    afx_call_fails("attribution_get", "[5]", RPC_NOT_FOUND, "attribution record 5");
    afx_call_fails("attribution_list", "[{\"model\": 3}]", RPC_NOT_FOUND, "model 3");
    afx_call_fails("attribution_list", "[{\"contribution\": 30}]", RPC_NOT_FOUND, NULL);
    afx_call_fails("attribution_list", "[{\"datanet\": 1}]", RPC_INVALID_PARAMS, "filter");
}

static void test_impact(void **state)
{
    (void)state;
    char params[512];
    /* dev1: contributions 1 (ds1) and 3 (ds2); record 1 pays 525,000 + 175,000,
     * record 2 pays 349,999 for contribution 3. */
    snprintf(params, sizeof params, "[\"%s\"]", afx_dev_str(1));
    json_t *im = afx_call("contributor_impact", params);
    assert_string_equal(afx_str(im, "earned"), "1049999");
    assert_int_equal(afx_num(im, "contributions"), 2);
    assert_int_equal(afx_num(im, "accepted"), 2);
    assert_int_equal(afx_num(im, "rejected"), 0);
    assert_int_equal(afx_num(im, "pending"), 0);
    assert_int_equal(afx_num(im, "payouts"), 3);
    assert_true(json_is_false(json_object_get(im, "payoutsTruncated")));
    json_t *bm = json_object_get(im, "byModel");
    assert_int_equal(json_array_size(bm), 1);
    assert_int_equal(afx_num(json_array_get(bm, 0), "model"), 1);
    assert_string_equal(afx_str(json_array_get(bm, 0), "name"), "m");
    assert_int_equal(afx_num(json_array_get(bm, 0), "records"), 2);
    assert_int_equal(afx_num(json_array_get(bm, 0), "payouts"), 3);
    assert_string_equal(afx_str(json_array_get(bm, 0), "earned"), "1049999");
    json_t *bd = json_object_get(im, "byDatanet");
    assert_int_equal(json_array_size(bd), 2);
    assert_string_equal(afx_str(json_array_get(bd, 0), "name"), "reviewed");
    assert_string_equal(afx_str(json_array_get(bd, 0), "earned"), "525000");
    assert_string_equal(afx_str(json_array_get(bd, 1), "earned"), "524999");
    assert_int_equal(afx_num(json_array_get(bd, 1), "timesUsed"), 2);
    json_t *rp = json_object_get(im, "recentPayouts");
    assert_int_equal(json_array_size(rp), 3);
    assert_int_equal(afx_num(json_array_get(rp, 0), "record"), 2); /* newest first */
    json_decref(im);

    /* dev3: one accepted (4) and one pending (5); two models. */
    snprintf(params, sizeof params, "[\"%s\", 1]", afx_dev_str(3));
    im = afx_call("contributor_impact", params);
    assert_int_equal(afx_num(im, "pending"), 1);
    assert_int_equal(json_array_size(json_object_get(im, "byModel")), 2);
    assert_int_equal(json_array_size(json_object_get(im, "recentPayouts")), 1);
    assert_string_equal(afx_str(im, "earned"), "350006"); /* + 7 of record 4 (10 x 70 %) */
    json_decref(im);

    /* The proposer earned as a validator only. */
    snprintf(params, sizeof params, "[\"%s\"]", afx_dev_str(AFX_PROPOSER));
    im = afx_call("contributor_impact", params);
    assert_string_equal(afx_str(im, "earned"), "0");
    assert_string_equal(afx_str(json_object_get(im, "scannedByRole"), "validator"),
                        "200100"); /* 100000 + 99999 + 100 + 1 */
    assert_int_equal(json_array_size(json_object_get(im, "byModel")), 0);
    json_decref(im);

    /* An address that never did anything. */
    snprintf(params, sizeof params, "[\"%s\"]", afx_dev_str(9));
    im = afx_call("contributor_impact", params);
    assert_string_equal(afx_str(im, "earned"), "0");
    assert_int_equal(json_array_size(json_object_get(im, "byDatanet")), 0);
    json_decref(im);

    afx_call_fails("contributor_impact", "[]", RPC_INVALID_PARAMS, NULL);
    afx_call_fails("contributor_impact", "[\"ol1xyz\"]", RPC_INVALID_PARAMS, "address");
    snprintf(params, sizeof params, "[\"%s\", 101]", afx_dev_str(1));
    afx_call_fails("contributor_impact", params, RPC_INVALID_PARAMS, "recent");
}

/* The body fields an explorer sees for each attribution type. */
static void test_tx_body_json(void **state)
{
    (void)state;
    chain_attr_entry es[] = {{1, 2}};
    uint64_t saved[16];
    memcpy(saved, afx.nonce, sizeof saved);
    chain_tx txs[] = {afx_datanet(0, "x", 1, 1), afx_contribute(1, 1, 9), afx_review(0, 5, 0, 3),
                      afx_model(4, "mm", 1, 0), afx_attribute(5, 1, 77, 1, es)};
    const char *keys[] = {"review", "contentHash", "reason", "split", "entries"};
    for (size_t i = 0; i < 5; i++) {
        json_t *o = json_object();
        assert_int_equal(rpc_json_attr_tx_body(o, &txs[i]), 0);
        assert_non_null(json_object_get(o, keys[i]));
        json_decref(o);
        chain_tx_free(&txs[i]);
    }
    memcpy(afx.nonce, saved, sizeof saved);
}

/* A reward contract that reverts or faults fails the ATTRIBUTE as a whole: no
 * record, no payout, no totals moved; the attestor pays only the gas. */
static void test_failing_contract(void **state)
{
    (void)state;
    static const char *const progs[] = {
        ".data\nmsg: .ascii \"no\"\n.code\nmain:\n    ldi r1, msg\n    ldi r2, 2\n"
        "    revert r1, r2\n",
        "main:\n    ldi r1, 1\n    ldi r2, 0\n    divu r3, r1, r2\n    stop\n",
    };
    for (size_t k = 0; k < 2; k++) {
        uint8_t *code;
        size_t len;
        util_err err = {0};
        if (vm_asm_source("t", progs[k], strlen(progs[k]), &code, &len, &err))
            fail_msg("asm: %s", err.msg);
        chain_tx dep = afx_tx(6, CHAIN_TX_DEPLOY);
        chain_addr deployer, contract;
        fx_dev_addr(&deployer, 6);
        chain_contract_addr(&contract, &deployer, dep.nonce);
        dep.body.deploy.code = code;
        dep.body.deploy.len = (uint32_t)len;
        dep = afx_sign(dep, 6);
        chain_tx reg = afx_model(AFX_MOWNER, "reverting", 2, 0);
        reg.body.model_register.reward_contract = contract;
        reg = afx_sign(reg, AFX_MOWNER); /* again, with the contract */
        chain_tx b1[] = {dep, reg};
        afx_block_ok(b1, 2);

        json_t *ml = afx_call("model_list", "[null, null, 1, \"desc\"]");
        json_int_t mid = afx_num(json_array_get(afx_items(ml), 0), "id");
        json_decref(ml);
        json_t *c4 = afx_call("contribution_get", "[4]");
        json_int_t used = afx_num(c4, "timesUsed");
        json_decref(c4);
        chain_addr att;
        chain_account before, after, cb;
        fx_dev_addr(&att, AFX_ATTESTOR);
        assert_int_equal(chain_store_get_account(afx.st, &att, &before, NULL), 0);

        chain_attr_entry es[] = {{4, 1}};
        chain_tx a = afx_attribute(AFX_ATTESTOR, (uint64_t)mid, 1000, 1, es);
        chain_receipt r;
        afx_make_block(&a, 1, &r);
        assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
        assert_int_equal(r.nevents, 0);
        assert_int_equal(chain_store_get_account(afx.st, &att, &after, NULL), 0);
        assert_true(before.balance - after.balance == r.fee);
        assert_int_equal(chain_store_get_account(afx.st, &contract, &cb, NULL), 0);
        assert_true(cb.balance == 0);
        chain_receipt_free(&r);
        chain_tx_free(&a);

        char params[64];
        snprintf(params, sizeof params, "[{\"model\": %lld}]", (long long)mid);
        json_t *l = afx_call("attribution_list", params);
        assert_int_equal(json_array_size(afx_items(l)), 0);
        json_decref(l);
        snprintf(params, sizeof params, "[%lld]", (long long)mid);
        json_t *m = afx_call("model_get", params);
        assert_int_equal(afx_num(m, "inferences"), 0);
        assert_string_equal(afx_str(m, "fees"), "0");
        json_decref(m);
        c4 = afx_call("contribution_get", "[4]");
        assert_int_equal(afx_num(c4, "timesUsed"), used);
        json_decref(c4);
    }
}

/* Every method carries an OpenRPC description that parses. */
static void test_specs(void **state)
{
    (void)state;
    assert_int_equal(rpc_dispatch_count(afx.d), 11);
    for (size_t i = 0; i < rpc_dispatch_count(afx.d); i++) {
        const rpc_method_spec *sp = rpc_dispatch_spec(afx.d, i);
        if (!sp) fail_msg("%s has no spec", rpc_dispatch_name(afx.d, i));
        json_error_t je;
        json_t *p = json_loads(sp->params, 0, &je);
        if (!json_is_array(p)) fail_msg("%s params: %s", rpc_dispatch_name(afx.d, i), je.text);
        json_t *r = json_loads(sp->result, 0, &je);
        if (!json_is_object(r)) fail_msg("%s result: %s", rpc_dispatch_name(afx.d, i), je.text);
        assert_true(strlen(sp->summary) > 0);
        json_decref(p);
        json_decref(r);
    }
}

/* More payouts than contributor_impact scans: the answer says so, and the
 * exact totals still come from state and the earnings-by-model index. Runs last: it adds to the
 * story. */
static void test_impact_truncated(void **state)
{
    (void)state;
    enum { NC = CHAIN_ATTR_MAX_ENTRIES, NR = 40, WHO = 7 };
    chain_tx *txs = calloc(NC, sizeof *txs);
    chain_receipt *rs = calloc(NC, sizeof *rs);
    assert_non_null(txs);
    assert_non_null(rs);
    uint64_t first = 0;
    for (size_t i = 0; i < NC; i++) {
        chain_tx tx = afx_tx(WHO, CHAIN_TX_CONTRIBUTE);
        tx.body.contribute.datanet = 2;
        chain_sha256(tx.body.contribute.content_hash, &i, sizeof i);
        txs[i] = afx_sign(tx, WHO);
    }
    afx_make_block(txs, NC, rs);
    for (size_t i = 0; i < NC; i++) {
        assert_int_equal(rs[i].status, CHAIN_RECEIPT_OK);
        chain_receipt_free(&rs[i]);
        chain_tx_free(&txs[i]);
    }
    json_t *c = afx_call("contribution_list", "[{\"datanet\": 2}, null, 1, \"desc\"]");
    first = (uint64_t)afx_num(json_array_get(afx_items(c), 0), "id") - NC + 1;
    json_decref(c);
    chain_attr_entry es[NC];
    for (size_t i = 0; i < NC; i++)
        es[i] = (chain_attr_entry){first + i, 1};
    for (size_t i = 0; i < NR; i++)
        txs[i] = afx_attribute(AFX_ATTESTOR, 1, 256000, NC, es);
    afx_make_block(txs, NR, rs);
    for (size_t i = 0; i < NR; i++) {
        if (rs[i].status != CHAIN_RECEIPT_OK) fail_msg("record %zu: %s", i, rs[i].error);
        chain_receipt_free(&rs[i]);
        chain_tx_free(&txs[i]);
    }
    free(txs);
    free(rs);

    char params[128];
    snprintf(params, sizeof params, "[\"%s\", 100]", afx_dev_str(WHO));
    json_t *im = afx_call("contributor_impact", params);
    /* 256,000 x 70 % / 256 entries = 700 per payout. */
    assert_string_equal(afx_str(im, "earned"), "7168000");
    assert_int_equal(afx_num(im, "payouts"), NC * NR);
    assert_true(json_is_true(json_object_get(im, "payoutsTruncated")));
    assert_true(json_is_false(json_object_get(im, "contributionsTruncated")));
    /* byModel is exact (the earnings-by-model index), whatever the scan read. */
    json_t *bm = json_array_get(json_object_get(im, "byModel"), 0);
    assert_string_equal(afx_str(bm, "earned"), "7168000");
    assert_int_equal(afx_num(bm, "payouts"), NC * NR);
    assert_int_equal(afx_num(bm, "records"), NR);
    assert_true(json_is_false(json_object_get(im, "modelsTruncated")));
    json_t *bd = json_array_get(json_object_get(im, "byDatanet"), 0);
    assert_string_equal(afx_str(bd, "earned"), "7168000"); /* exact: from the contributions */
    assert_int_equal(afx_num(bd, "contributions"), NC);
    assert_int_equal(json_array_size(json_object_get(im, "recentPayouts")), 100);
    json_decref(im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datanet),          cmocka_unit_test(test_paging),
        cmocka_unit_test(test_contributions),    cmocka_unit_test(test_models),
        cmocka_unit_test(test_records),          cmocka_unit_test(test_impact),
        cmocka_unit_test(test_tx_body_json),     cmocka_unit_test(test_specs),
        cmocka_unit_test(test_failing_contract), cmocka_unit_test(test_impact_truncated),
    };
    return cmocka_run_group_tests(tests, setup, afx_teardown);
}
