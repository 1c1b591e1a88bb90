/* state_getProof for every kind of object (rpc/methods/proof.c), in-process
 * on a real store whose state was built by committing real attribution
 * transactions: each answer's proof holds against its header's state root,
 * its decoded object is what the kind's get method shows, an absent object
 * is a null value with a proof of absence, and {"height": H} proves against
 * an older header, with values rebuilt from the undo records or refused
 * when they are no longer kept. */
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

#include "chain/crypto/hash.h"
#include "chain/exec/contract.h"
#include "chain/state/smt.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "chain/types/attr.h"
#include "rpc/methods/attr.h"
#include "rpc/methods/methods.h"
#include "rpc/params.h"
#include "util/hex.h"

/* The story of afx_story (tests/unit/attr_fixture.h), with datanet 3, on a
 * store that keeps undo records for the last UNDO blocks:
 *   height 1: datanets 1 "reviewed", 2 "open", 3 "unused";
 *   height 2: contributions 1..5, all pending;
 *   height 3: 1 accepted, 2 rejected; models 1 "m" and 2 "solo";
 *   height 4: records 1..4. */
#define UNDO 2

static int setup(void **state)
{
    (void)state;
    afx_open("rpc-proof", UNDO);
    afx_story(3);
    assert_int_equal(rpc_methods_attr_register(afx.d, &afx.api), 0);
    assert_int_equal(rpc_methods_proof_register(afx.d, &afx.api), 0);
    return 0;
}

/* Checks an answer the way a client does: headerRaw hashes to headerHash
 * and is of the height said; path is SHA-256(stateKey) and stateKey the one
 * expected; the proof holds for the value (or absence) against the
 * header's state root. Returns whether the value is present. */
static int check_answer(json_t *r, const uint8_t *key, size_t klen, uint64_t height)
{
    uint8_t *raw = NULL, id[32], want[32], path[32];
    size_t n = 0;
    assert_int_equal(util_hex_decode_alloc(afx_str(r, "headerRaw"), 65536, &raw, &n), 0);
    chain_header h;
    util_err err = {0};
    assert_int_equal(chain_header_decode(&h, raw, n, &err), 0);
    free(raw);
    chain_header_hash(&h, id);
    assert_int_equal(util_hex_decode_exact(want, 32, afx_str(r, "headerHash")), 0);
    assert_memory_equal(id, want, 32);
    assert_int_equal(h.height, height);
    assert_int_equal(json_integer_value(json_object_get(r, "height")), (json_int_t)height);

    assert_int_equal(util_hex_decode_alloc(afx_str(r, "stateKey"), 256, &raw, &n), 0);
    assert_int_equal(n, klen);
    assert_memory_equal(raw, key, klen);
    free(raw);
    chain_sha256(want, key, klen);
    assert_int_equal(util_hex_decode_exact(path, 32, afx_str(r, "path")), 0);
    assert_memory_equal(path, want, 32);

    chain_smt_proof *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(util_hex_decode_alloc(afx_str(r, "proof"), 65536, &raw, &n), 0);
    assert_int_equal(chain_smt_proof_decode(p, raw, n, &err), 0);
    free(raw);
    int present = !json_is_null(json_object_get(r, "value"));
    uint8_t vh[32];
    if (present) {
        assert_int_equal(util_hex_decode_alloc(afx_str(r, "value"), 1 << 20, &raw, &n), 0);
        chain_sha256(vh, raw, n);
        free(raw);
    }
    if (chain_smt_verify(h.state_root, path, present ? vh : NULL, p, &err))
        fail_msg("proof does not hold: %s", err.msg);
    free(p);
    return present;
}

static void id_key(uint8_t k[9], char kind, uint64_t id)
{
    assert_int_equal(chain_key_id(k, kind, id), 9);
}

/* Every kind at the head: proven, and shown as its get method shows it. */
static void test_every_kind(void **state)
{
    (void)state;
    static const struct {
        const char *name, *get;
        char sk;
        uint64_t id;
    } ids[] = {
        {"datanet", "datanet_get", CHAIN_SK_DATANET, 1},
        {"contribution", "contribution_get", CHAIN_SK_CONTRIB, 3},
        {"model", "model_get", CHAIN_SK_MODEL, 1},
        {"record", "attribution_get", CHAIN_SK_RECORD, 2},
    };
    char params[256];
    uint8_t k[64];
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        snprintf(params, sizeof params, "[{\"%s\": %llu}]", ids[i].name,
                 (unsigned long long)ids[i].id);
        json_t *r = afx_call("state_getProof", params);
        id_key(k, ids[i].sk, ids[i].id);
        assert_true(check_answer(r, k, 9, 4));
        assert_string_equal(afx_str(r, "kind"), ids[i].name);
        assert_int_equal(json_integer_value(json_object_get(r, "id")), (json_int_t)ids[i].id);
        snprintf(params, sizeof params, "[%llu]", (unsigned long long)ids[i].id);
        json_t *g = afx_call(ids[i].get, params);
        /* attribution_get adds what a list row shows from outside the
         * record's value (the model's name, the block's time, a count): not
         * part of what the proof proves. */
        json_object_del(g, "modelName");
        json_object_del(g, "timeMs");
        json_object_del(g, "payoutCount");
        if (!json_equal(g, json_object_get(r, ids[i].name)))
            fail_msg("%s: the proven object differs from %s's", ids[i].name, ids[i].get);
        json_decref(g);
        json_decref(r);
    }
    /* A record carries its payouts. */
    json_t *r = afx_call("state_getProof", "[{\"record\": 1}]");
    assert_true(json_array_size(json_object_get(json_object_get(r, "record"), "payouts")) >= 3);
    json_decref(r);

    /* Contributor totals: the figures contributor_impact takes from state. */
    chain_addr a;
    fx_dev_addr(&a, 1);
    snprintf(params, sizeof params, "[{\"contributorTotals\": \"%s\"}]", afx_dev_str(1));
    r = afx_call("state_getProof", params);
    assert_true(check_answer(r, k, chain_key_contributor(k, &a), 4));
    assert_string_equal(afx_str(r, "address"), afx_dev_str(1));
    json_t *ct = json_object_get(r, "contributorTotals");
    snprintf(params, sizeof params, "[\"%s\"]", afx_dev_str(1));
    json_t *im = afx_call("contributor_impact", params);
    static const char *const same[] = {"earned",   "contributions", "accepted",
                                       "rejected", "pending",       "payouts"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (!json_equal(json_object_get(ct, same[i]), json_object_get(im, same[i])))
            fail_msg("contributorTotals.%s differs from contributor_impact's", same[i]);
    json_decref(im);
    json_decref(r);

    /* Accounts, in both forms. */
    chain_account acc;
    util_err err = {0};
    assert_int_equal(chain_store_get_account(afx.st, &a, &acc, &err), 0);
    chain_account_key(k, &a);
    snprintf(params, sizeof params, "[{\"account\": \"%s\"}]", afx_dev_str(1));
    r = afx_call("state_getProof", params);
    assert_true(check_answer(r, k, CHAIN_ACCOUNT_KEY_LEN, 4));
    assert_string_equal(afx_str(r, "kind"), "account");
    assert_int_equal(strtoull(afx_str(json_object_get(r, "account"), "balance"), NULL, 10),
                     acc.balance);
    snprintf(params, sizeof params, "[\"%s\"]", afx_dev_str(1));
    json_t *old = afx_call("state_getProof", params);
    assert_true(json_equal(old, r));
    json_decref(old);
    json_decref(r);
}

/* An absent object: value and object null, and a proof of absence. */
static void test_absent(void **state)
{
    (void)state;
    uint8_t k[64];
    json_t *r = afx_call("state_getProof", "[{\"model\": 77}]");
    id_key(k, CHAIN_SK_MODEL, 77);
    assert_false(check_answer(r, k, 9, 4));
    assert_true(json_is_null(json_object_get(r, "value")));
    assert_true(json_is_null(json_object_get(r, "model")));
    json_decref(r);

    /* An address that never contributed has no totals entry (contributor_impact
     * shows zeros; the proof shows absence). */
    char params[128];
    chain_addr a;
    fx_dev_addr(&a, 9);
    snprintf(params, sizeof params, "[{\"contributorTotals\": \"%s\"}]", afx_dev_str(9));
    r = afx_call("state_getProof", params);
    assert_false(check_answer(r, k, chain_key_contributor(k, &a), 4));
    assert_true(json_is_null(json_object_get(r, "contributorTotals")));
    json_decref(r);
}

/* {"height": H}: against block H's header and state root, with the value
 * the object had then. */
static void test_heights(void **state)
{
    (void)state;
    uint8_t k[9];
    /* Contribution 1 was pending at height 2, accepted at 3, earned at 4:
     * its value at 2 comes from the undo record of block 3. */
    json_t *r = afx_call("state_getProof", "[{\"contribution\": 1}, {\"height\": 2}]");
    id_key(k, CHAIN_SK_CONTRIB, 1);
    assert_true(check_answer(r, k, 9, 2));
    assert_string_equal(afx_str(json_object_get(r, "contribution"), "status"), "pending");
    assert_string_equal(afx_str(json_object_get(r, "contribution"), "earned"), "0");
    json_decref(r);
    r = afx_call("state_getProof", "[{\"contribution\": 1}, {\"height\": 3}]");
    assert_true(check_answer(r, k, 9, 3));
    assert_string_equal(afx_str(json_object_get(r, "contribution"), "status"), "accepted");
    assert_string_equal(afx_str(json_object_get(r, "contribution"), "earned"), "0");
    json_decref(r);
    /* At height 1 it did not exist yet. */
    r = afx_call("state_getProof", "[{\"contribution\": 1}, {\"height\": 1}]");
    assert_false(check_answer(r, k, 9, 1));
    json_decref(r);
    /* Datanet 3 never changed after height 1: its value is the current one. */
    r = afx_call("state_getProof", "[{\"datanet\": 3}, {\"height\": 1}]");
    id_key(k, CHAIN_SK_DATANET, 3);
    assert_true(check_answer(r, k, 9, 1));
    assert_string_equal(afx_str(json_object_get(r, "datanet"), "name"), "unused");
    json_decref(r);
    /* Datanet 1 changed at height 2, whose undo record is no longer kept. */
    afx_call_fails("state_getProof", "[{\"datanet\": 1}, {\"height\": 1}]", RPC_UNAVAILABLE,
                   "no longer kept");
    /* Block 0: the genesis state, with its empty commit. */
    r = afx_call("state_getProof", "[{\"datanet\": 1}, {\"height\": 0}]");
    id_key(k, CHAIN_SK_DATANET, 1);
    assert_false(check_answer(r, k, 9, 0));
    assert_string_equal(afx_str(r, "commitRaw"), "0x0000000000");
    json_decref(r);
    /* The head by number is the head. */
    json_t *a = afx_call("state_getProof", "[{\"record\": 4}, {\"height\": 4}]");
    json_t *b = afx_call("state_getProof", "[{\"record\": 4}, null]");
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    afx_call_fails("state_getProof", "[{\"record\": 4}, {\"height\": 5}]", RPC_NOT_FOUND,
                   "no block at height 5");
}

static void test_bad_params(void **state)
{
    (void)state;
    afx_call_fails("state_getProof", "[]", RPC_INVALID_PARAMS, NULL);
    afx_call_fails("state_getProof", "[{\"bridge\": 1}]", RPC_INVALID_PARAMS, "unknown kind");
    afx_call_fails("state_getProof", "[{\"model\": 1, \"record\": 2}]", RPC_INVALID_PARAMS,
                   "param 0");
    afx_call_fails("state_getProof", "[{\"model\": \"x\"}]", RPC_INVALID_PARAMS, "model");
    afx_call_fails("state_getProof", "[{\"account\": 5}]", RPC_INVALID_PARAMS, "account");
    afx_call_fails("state_getProof", "[7]", RPC_INVALID_PARAMS, "param 0");
    afx_call_fails("state_getProof", "[{\"model\": 1}, {\"height\": -1}]", RPC_INVALID_PARAMS,
                   "height");
    afx_call_fails("state_getProof", "[{\"model\": 1}, {\"round\": 1}]", RPC_INVALID_PARAMS,
                   "unknown option");
    afx_call_fails("state_getProof", "[{\"model\": 1}, 3]", RPC_INVALID_PARAMS, "param 1");
    afx_call_fails("state_getProof", "[{\"model\": 1}, {}, 1]", RPC_INVALID_PARAMS, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_heights),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, setup, afx_teardown);
}
