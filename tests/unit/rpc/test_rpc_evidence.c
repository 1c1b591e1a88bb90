/* The JSON of a block's evidence (rpc_json_evidence, docs/rpc.md
 * "chain_getBlock"): validator, height, round, type, both block hashes (null
 * for nil) and both signatures; and the header's evidenceHash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rpc/methods/methods.h"

static void test_evidence_json(void **state)
{
    (void)state;
    chain_evidence e;
    memset(&e, 0, sizeof e);
    e.a.type = e.b.type = CHAIN_VOTE_PRECOMMIT;
    e.a.height = e.b.height = 41;
    e.a.round = e.b.round = 2;
    e.a.validator = e.b.validator = 3;
    memset(e.b.block_id, 0xe2, 32); /* a is nil */
    memset(e.a.sig, 0x11, 64);
    memset(e.b.sig, 0x22, 64);
    json_t *j = rpc_json_evidence(&e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "validator")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "height")), 41);
    assert_int_equal(json_integer_value(json_object_get(j, "round")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "precommit");
    assert_true(json_is_null(json_object_get(j, "blockHashA")));
    char want[67] = "0x";
    memset(want + 2, 'e', 64);
    for (int i = 0; i < 32; i++)
        want[2 + 2 * i + 1] = '2';
    assert_string_equal(json_string_value(json_object_get(j, "blockHashB")), want);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "signatureA"))), 2 + 128);
    assert_int_equal(json_object_size(j), 8);
    json_decref(j);

    chain_header h;
    memset(&h, 0, sizeof h);
    memset(h.evidence_hash, 0xab, 32);
    json_t *jh = rpc_json_header(&h);
    assert_non_null(jh);
    const char *eh = json_string_value(json_object_get(jh, "evidenceHash"));
    assert_non_null(eh);
    assert_int_equal(strncmp(eh, "0xabab", 6), 0);
    json_decref(jh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evidence_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
