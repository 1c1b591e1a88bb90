/* openledger-cli impact --verify against a node that answers from a real
 * store (real attribution transactions, blocks committed with the devnet
 * validator's signature), honestly or lying: an honest node's figures are
 * verified and printed; an altered payout, an altered total, a record left
 * out, another header or a missing commit are each caught, named, and
 * nothing unproven is printed. */
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
#include "chain/crypto/keys.h"
#include "chain/exec/contract.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "chain/types/attr.h"
#include "chain/types/block.h"
#include "rpc/methods/attr.h"
#include "rpc/methods/methods.h"
#include "rpc/params.h"
#include "util/hex.h"

/* The fake node's error answer is named like the RPC error type. */
#define rpc_error fake_rpc_error
#include "tests/unit/cli_fake_node.h"
#undef rpc_error

/* The story of afx_story (tests/unit/attr_fixture.h), without datanet 3,
 * each block committed with the devnet validator's precommit: dev1 owns
 * contributions 1 and 3, paid 525,000 + 175,000 by record 1 and 349,999 by
 * record 2 (model 1); record 3 used contribution 1 with weight 0 (nothing to
 * dev1); dev3 owns 4 (paid by records 2 and 4, models 1 and 2) and 5
 * (pending). */
static int setup(void **state)
{
    (void)state;
    afx_open("cli-impact", 0);
    afx.signed_commits = 1;
    afx_story(2);
    assert_int_equal(rpc_methods_attr_register(afx.d, &afx.api), 0);
    assert_int_equal(rpc_methods_proof_register(afx.d, &afx.api), 0);
    return 0;
}

/* --- the node, honest or lying ---------------------------------------------- */

enum {
    L_NONE,
    L_RECORD_VALUE,  /* record 1's value: dev1's payout one unit higher */
    L_RECORD_SHOWN,  /* record 1's JSON payout one unit higher, value intact */
    L_TOTALS_VALUE,  /* the totals' value: earned one unit higher */
    L_TOTALS_SHOWN,  /* the totals' JSON earned one unit higher */
    L_OMIT_RECORD,   /* attribution_list leaves record 1 out */
    L_OTHER_HEADER,  /* record 2 proven against block 3's header */
    L_NO_COMMIT,     /* record 2 without its commit */
    L_RECORD_ABSENT, /* record 1 answered with record 9's absence proof, relabelled */
    L_COUNT
};
static int g_lie;

/* One payout amount inside a record's value: the last 8 bytes of payout i
 * (recipient[20] role u8 contribution u64 amount u64), payouts last. */
static void bump_payout_in_value(json_t *res, const char *recipient)
{
    uint8_t *v = NULL;
    size_t n = 0;
    assert_int_equal(
        util_hex_decode_alloc(json_string_value(json_object_get(res, "value")), 1 << 20, &v, &n),
        0);
    chain_record r;
    assert_int_equal(chain_record_decode(&r, v, n), 0);
    uint32_t np = r.npayouts, hit = np;
    for (uint32_t i = 0; i < np; i++) {
        char s[CHAIN_ADDR_STR_LEN + 1];
        chain_addr_encode(s, &r.payouts[i].recipient);
        if (strcmp(s, recipient) == 0 && hit == np) hit = i;
    }
    chain_record_free(&r);
    assert_true(hit < np);
    size_t off = n - (size_t)(np - hit) * 37 + 29; /* the amount's low byte */
    v[off]++;
    char *hx = malloc(2 * n + 3);
    memcpy(hx, "0x", 2);
    util_hex_encode(hx + 2, v, n);
    json_object_set_new(res, "value", json_string(hx));
    free(hx);
    free(v);
}

static void bump_amount_str(json_t *o, const char *k)
{
    char s[32];
    snprintf(s, sizeof s, "%llu", strtoull(json_string_value(json_object_get(o, k)), NULL, 10) + 1);
    json_object_set_new(o, k, json_string(s));
}

static char g_dev1[CHAIN_ADDR_STR_LEN + 1];

static char *h_node(const char *m, json_t *params)
{
    json_t *p = json_deep_copy(params);
    /* L_OTHER_HEADER: record 2 asked at the head, served at height 3. */
    json_t *o0 = json_array_get(p, 0);
    json_int_t rid = json_integer_value(json_object_get(o0, "record"));
    if (g_lie == L_OTHER_HEADER && rid == 2)
        json_array_set_new(p, 1, json_pack("{s:i}", "height", 3));
    if (g_lie == L_RECORD_ABSENT && rid == 1) json_object_set_new(o0, "record", json_integer(9));
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(afx.d, m, p, &e);
    json_decref(p);
    if (!r) {
        char *ans = fake_rpc_error(e.code, e.message, NULL);
        rpc_error_clear(&e);
        return ans;
    }
    if (!strcmp(m, "state_getProof")) {
        json_t *ct = json_object_get(r, "contributorTotals");
        if (g_lie == L_TOTALS_SHOWN && json_is_object(ct)) bump_amount_str(ct, "earned");
        if (g_lie == L_TOTALS_VALUE && json_is_object(ct)) {
            uint8_t v[40];
            assert_int_equal(
                util_hex_decode_exact(v, 40, json_string_value(json_object_get(r, "value"))), 0);
            v[0]++;
            char hx[83] = "0x";
            util_hex_encode(hx + 2, v, 40);
            json_object_set_new(r, "value", json_string(hx));
            bump_amount_str(ct, "earned");
        }
        json_t *rec = json_object_get(r, "record");
        if (g_lie == L_RECORD_VALUE && rid == 1) bump_payout_in_value(r, g_dev1);
        if (g_lie == L_RECORD_SHOWN && rid == 1) {
            size_t i;
            json_t *py;
            json_array_foreach(
                json_object_get(rec, "payouts"), i,
                py) if (!strcmp(json_string_value(json_object_get(py, "recipient")), g_dev1))
            {
                bump_amount_str(py, "amount");
                break;
            }
        }
        if (g_lie == L_NO_COMMIT && rid == 2) json_object_del(r, "commitRaw");
        if (g_lie == L_RECORD_ABSENT && rid == 1) json_object_set_new(r, "id", json_integer(1));
    }
    if (!strcmp(m, "attribution_list") && g_lie == L_OMIT_RECORD) {
        json_t *items = json_object_get(r, "items"), *it;
        size_t i;
        json_array_foreach(items, i, it) if (json_integer_value(json_object_get(it, "id")) == 1)
        {
            json_array_remove(items, i);
            break;
        }
    }
    return ok(r);
}

static void test_honest(void **state)
{
    (void)state;
    char *out, *err, a3[CHAIN_ADDR_STR_LEN + 1], hh[67] = "0x", want[512];
    chain_addr a;
    fx_dev_addr(&a, 1);
    chain_addr_encode(g_dev1, &a);
    fx_dev_addr(&a, 3);
    chain_addr_encode(a3, &a);
    uint8_t id[32];
    chain_store_head_id(afx.st, id);
    util_hex_encode(hh + 2, id, 32);
    g_lie = L_NONE;
    fake_start(h_node);

    assert_int_equal(RUN("impact", "--verify", g_dev1), 0);
    snprintf(want, sizeof want,
             "0.001049999 OPEN in 3 payouts across 1 model, verified at height 4 against header "
             "%s\n  model 1: 0.001049999 OPEN in 3 payouts\n",
             hh);
    assert_string_equal(out, want);
    DROP();

    assert_int_equal(RUN("impact", "--verify", a3), 0);
    snprintf(want, sizeof want,
             "0.000350006 OPEN in 2 payouts across 2 models, verified at height 4 against header "
             "%s\n  model 1: 0.000349999 OPEN in 1 payout\n  model 2: 0.000000007 OPEN in 1 "
             "payout\n",
             hh);
    assert_string_equal(out, want);
    DROP();

    /* Never contributed: its totals are proven absent. */
    assert_int_equal(RUN("impact", "--verify", "dev9"), 0);
    assert_non_null(strstr(out, "0 OPEN in 0 payouts across 0 models, verified at height 4"));
    DROP();

    assert_int_equal(RUN("--json", "impact", "--verify", g_dev1), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "verified")));
    assert_string_equal(json_string_value(json_object_get(j, "earned")), "1049999");
    assert_int_equal(json_integer_value(json_object_get(j, "records")), 3);
    json_decref(j);
    DROP();
    fake_stop();
}

static void test_lies(void **state)
{
    (void)state;
    static const char *const caught[L_COUNT] = {
        [L_RECORD_VALUE] = "record 1: proof does not hold against the state root",
        [L_RECORD_SHOWN] = "record 1: payout",
        [L_TOTALS_VALUE] = "contributor totals: proof does not hold against the state root",
        [L_TOTALS_SHOWN] = "contributor totals: the totals shown",
        [L_OMIT_RECORD] = "earned: the proven records pay 0.000349999 OPEN in 1 payout, the "
                          "proven totals say 0.001049999 OPEN in 3 payouts",
        [L_OTHER_HEADER] = "record 2: it is proven against another header",
        [L_NO_COMMIT] = "record 2: the node sent no commit",
        [L_RECORD_ABSENT] = "record 1: stateKey is not record 1's key",
    };
    char *out, *err, want[160];
    chain_addr a;
    fx_dev_addr(&a, 1);
    chain_addr_encode(g_dev1, &a);
    fake_start(h_node);
    for (g_lie = L_RECORD_VALUE; g_lie < L_COUNT; g_lie++) {
        assert_int_equal(RUN("impact", "--verify", g_dev1), 1);
        snprintf(want, sizeof want, "error: impact verification FAILED for %s: ", g_dev1);
        if (strncmp(err, want, strlen(want)) || !strstr(err, caught[g_lie]))
            fail_msg("lie %d: got '%s'", g_lie, err);
        /* Nothing unproven is printed. */
        assert_string_equal(out, "");
        DROP();
    }
    fake_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_honest),
        cmocka_unit_test(test_lies),
    };
    return cmocka_run_group_tests(tests, setup, afx_teardown);
}
