/* The evidence a block carries (chain_evidence, chain/types/block.h) and the
 * consensus EVIDENCE message (consensus/msg.h) are the same 220 bytes, so
 * the node moves gossiped evidence into blocks without a second format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "consensus/msg.h"
#include "node/consensus_int.h"

static void test_same_bytes(void **state)
{
    (void)state;
    assert_int_equal(CHAIN_EVIDENCE_LEN, CONS_EVIDENCE_LEN);
    cons_evidence ce;
    memset(&ce, 0, sizeof ce);
    ce.a.type = ce.b.type = CHAIN_VOTE_PREVOTE;
    ce.a.height = ce.b.height = 0x0102030405060708ull;
    ce.a.round = ce.b.round = 0x0a0b0c0d;
    ce.a.validator = ce.b.validator = 63;
    memset(ce.b.block_id, 0x77, 32);
    memset(ce.a.sig, 0x11, 64);
    memset(ce.b.sig, 0x22, 64);
    util_buf b;
    util_buf_init(&b);
    util_err err = {0};
    assert_int_equal(cons_evidence_encode(&ce, &b, &err), 0);
    assert_int_equal(b.len, CHAIN_EVIDENCE_LEN);

    chain_evidence e;
    node_cons_evidence_to_chain(&e, &ce);
    uint8_t enc[CHAIN_EVIDENCE_LEN];
    chain_evidence_encode(&e, enc);
    assert_memory_equal(enc, b.data, CHAIN_EVIDENCE_LEN);

    chain_evidence back;
    chain_evidence_decode(&back, b.data);
    assert_int_equal(back.a.height, ce.a.height);
    assert_int_equal(back.b.round, ce.b.round);
    assert_int_equal(back.b.validator, 63);
    assert_memory_equal(back.b.block_id, ce.b.block_id, 32);
    util_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
