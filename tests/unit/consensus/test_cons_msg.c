/* consensus/msg: canonical encodings round-trip, decoders refuse every
 * malformed input, digests are domain-separated and bound to the network
 * (known answers computed with Python hashlib from the layouts in msg.h),
 * signatures verify against the set, evidence is canonical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "chain/crypto/keys.h"
#include "consensus/msg.h"
#include "util/hex.h"

static void hexeq(const uint8_t *p, size_t n, const char *want)
{
    char h[2 * 64 + 1];
    util_hex_encode(h, p, n);
    assert_string_equal(h, want);
}

static cons_chain chain(void)
{
    cons_chain c;
    memset(&c, 0, sizeof c);
    strcpy(c.chain_id, "openledger-devnet");
    memset(c.genesis_hash, 0xcd, 32);
    return c;
}

static cons_vote a_vote(void)
{
    cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = CHAIN_VOTE_PRECOMMIT;
    v.height = 42;
    v.round = 3;
    v.validator = 2;
    memset(v.block_id, 0xab, 32);
    memset(v.sig, 0x55, 64);
    return v;
}

static cons_proposal a_proposal(void)
{
    cons_proposal p;
    memset(&p, 0, sizeof p);
    p.height = 42;
    p.round = 3;
    p.pol_round = 1;
    memset(p.block_id, 0xab, 32);
    p.proposer = 1;
    memset(p.sig, 0x66, 64);
    return p;
}

static void test_vote_roundtrip_and_rejects(void **state)
{
    (void)state;
    cons_vote v = a_vote(), w;
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(cons_vote_encode(&v, &b, NULL), 0);
    assert_int_equal(b.len, CONS_VOTE_LEN);
    assert_int_equal(cons_vote_decode(&w, b.data, b.len, NULL), 0);
    assert_memory_equal(&v, &w, sizeof v);
    util_err err;
    /* Short, long, bad type, height 0, index out of range. */
    assert_int_equal(cons_vote_decode(&w, b.data, b.len - 1, &err), UTIL_EINVAL);
    uint8_t big[CONS_VOTE_LEN + 1];
    memcpy(big, b.data, b.len);
    big[b.len] = 0;
    assert_int_equal(cons_vote_decode(&w, big, sizeof big, &err), UTIL_EINVAL);
    uint8_t m[CONS_VOTE_LEN];
    memcpy(m, b.data, b.len);
    m[0] = 3;
    assert_int_equal(cons_vote_decode(&w, m, sizeof m, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "type"));
    memcpy(m, b.data, b.len);
    memset(m + 1, 0, 8);
    assert_int_equal(cons_vote_decode(&w, m, sizeof m, &err), UTIL_EINVAL);
    memcpy(m, b.data, b.len);
    m[13] = CONS_MAX_VALIDATORS;
    assert_int_equal(cons_vote_decode(&w, m, sizeof m, &err), UTIL_EINVAL);
    /* The encoder refuses what the decoder would. */
    v.type = 0;
    util_buf_reset(&b);
    assert_int_equal(cons_vote_encode(&v, &b, &err), UTIL_EINVAL);
    assert_int_equal(b.len, 0);
    util_buf_free(&b);
}

static void test_proposal_roundtrip_and_rejects(void **state)
{
    (void)state;
    cons_proposal p = a_proposal(), q;
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(cons_proposal_encode(&p, &b, NULL), 0);
    assert_int_equal(b.len, CONS_PROPOSAL_LEN);
    assert_int_equal(cons_proposal_decode(&q, b.data, b.len, NULL), 0);
    assert_memory_equal(&p, &q, sizeof p);
    util_err err;
    uint8_t m[CONS_PROPOSAL_LEN];
    /* pol_round must be below round (or none). */
    memcpy(m, b.data, b.len);
    util_put_u32le(m + 12, 3);
    assert_int_equal(cons_proposal_decode(&q, m, sizeof m, &err), UTIL_EINVAL);
    util_put_u32le(m + 12, CONS_POL_NONE);
    assert_int_equal(cons_proposal_decode(&q, m, sizeof m, &err), 0);
    assert_int_equal(q.pol_round, CONS_POL_NONE);
    /* A nil block id is not a proposal. */
    memcpy(m, b.data, b.len);
    memset(m + 16, 0, 32);
    assert_int_equal(cons_proposal_decode(&q, m, sizeof m, &err), UTIL_EINVAL);
    memcpy(m, b.data, b.len);
    m[48] = 200;
    assert_int_equal(cons_proposal_decode(&q, m, sizeof m, &err), UTIL_EINVAL);
    assert_int_equal(cons_proposal_decode(&q, m, 10, &err), UTIL_EINVAL);
    util_buf_free(&b);
    assert_int_equal(cons_msg_max_len(CONS_MSG_PROPOSAL), CONS_PROPOSAL_LEN);
    assert_int_equal(cons_msg_max_len(CONS_MSG_VOTE), CONS_VOTE_LEN);
    assert_int_equal(cons_msg_max_len(CONS_MSG_EVIDENCE), CONS_EVIDENCE_LEN);
    assert_int_equal(cons_msg_max_len(0x2f), 0);
}

static void test_digests(void **state)
{
    (void)state;
    cons_chain c = chain();
    cons_proposal p = a_proposal();
    uint8_t d[32], d2[32];
    cons_proposal_digest(&c, &p, d);
    hexeq(d, 32, "652bcb89095fea77a31e5f8f2949f47dce7ff86f5ac6905ae053f7e8a0c7d50c");
    p.pol_round = CONS_POL_NONE;
    cons_proposal_digest(&c, &p, d);
    hexeq(d, 32, "397f1500da01b53becb3b7aebeb924a57848b6433514cdcd4e7b8f0ea5670072");
    /* The signature and proposer index are not signed over. */
    p.proposer = 0;
    memset(p.sig, 0, 64);
    cons_proposal_digest(&c, &p, d2);
    assert_memory_equal(d, d2, 32);
    /* Votes keep chain_vote_digest exactly (block commits verify it): the
     * known answer of tests/unit/chain/test_block.c. */
    cons_vote v = a_vote();
    cons_vote_digest(&c, &v, d);
    hexeq(d, 32, "d21b011c9535ccec00185e2a0303ebf5a09e200079074c965a9e30c8beb7b574");
    /* Another genesis or chain id: another digest. */
    cons_chain c2 = c;
    c2.genesis_hash[0] ^= 1;
    cons_vote_digest(&c2, &v, d2);
    assert_memory_not_equal(d, d2, 32);
    c2 = c;
    c2.chain_id[0] = 'x';
    cons_proposal_digest(&c, &p, d);
    cons_proposal_digest(&c2, &p, d2);
    assert_memory_not_equal(d, d2, 32);
}

static void test_sign_verify_and_evidence(void **state)
{
    (void)state;
    chain_keypair kp[3];
    uint8_t keys[3][32];
    uint64_t powers[3] = {1, 1, 1};
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(chain_keypair_dev(&kp[i], i), 0);
        memcpy(keys[i], kp[i].pubkey, 32);
    }
    cons_valset vs;
    assert_int_equal(cons_valset_init_raw(&vs, (const uint8_t(*)[32])keys, powers, 3, NULL), 0);
    cons_chain c = chain();
    util_err err;
    cons_vote v = a_vote(), w;
    uint8_t d[32];
    cons_vote_digest(&c, &v, d);
    assert_int_equal(chain_sign(v.sig, d, &kp[2], NULL), 0);
    assert_int_equal(cons_vote_verify(&c, &vs, &v, &err), 0);
    w = v;
    w.validator = 1; /* someone else's signature */
    assert_int_equal(cons_vote_verify(&c, &vs, &w, &err), UTIL_ECRYPTO);
    w.validator = 3; /* outside the set of 3 */
    assert_int_equal(cons_vote_verify(&c, &vs, &w, &err), UTIL_EINVAL);
    cons_chain c2 = c;
    c2.genesis_hash[5] ^= 1; /* another network */
    assert_int_equal(cons_vote_verify(&c2, &vs, &v, &err), UTIL_ECRYPTO);

    /* Proposals: only the round's proposer. */
    cons_proposal p = a_proposal();
    p.proposer = cons_valset_proposer(&vs, p.height, p.round);
    cons_proposal_digest(&c, &p, d);
    assert_int_equal(chain_sign(p.sig, d, &kp[p.proposer], NULL), 0);
    assert_int_equal(cons_proposal_verify(&c, &vs, &p, &err), 0);
    cons_proposal q = p;
    q.proposer = (p.proposer + 1) % 3;
    assert_int_equal(cons_proposal_verify(&c, &vs, &q, &err), UTIL_EINVAL);
    q = p;
    q.pol_round = CONS_POL_NONE; /* the signature covers pol_round */
    assert_int_equal(cons_proposal_verify(&c, &vs, &q, &err), UTIL_ECRYPTO);

    /* Evidence: a second vote of validator 2 for nil in the same round. */
    cons_vote nil = v;
    memset(nil.block_id, 0, 32);
    cons_vote_digest(&c, &nil, d);
    assert_int_equal(chain_sign(nil.sig, d, &kp[2], NULL), 0);
    cons_evidence e, e2, back;
    assert_int_equal(cons_evidence_make(&e, &v, &nil, NULL), 0);
    assert_int_equal(cons_evidence_make(&e2, &nil, &v, NULL), 0);
    assert_memory_equal(&e, &e2, sizeof e); /* either order, one evidence */
    assert_int_equal(cons_evidence_verify(&c, &vs, &e, &err), 0);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(cons_evidence_encode(&e, &b, NULL), 0);
    assert_int_equal(b.len, CONS_EVIDENCE_LEN);
    assert_int_equal(cons_evidence_decode(&back, b.data, b.len, NULL), 0);
    assert_memory_equal(&back, &e, sizeof e);
    /* Swapped halves are not canonical. */
    uint8_t m[CONS_EVIDENCE_LEN];
    memcpy(m, b.data + CONS_VOTE_LEN, CONS_VOTE_LEN);
    memcpy(m + CONS_VOTE_LEN, b.data, CONS_VOTE_LEN);
    assert_int_equal(cons_evidence_decode(&back, m, sizeof m, &err), UTIL_EINVAL);
    util_buf_free(&b);
    /* Not conflicting: same block, other round, other validator. */
    assert_int_equal(cons_evidence_make(&e, &v, &v, &err), UTIL_EINVAL);
    w = nil;
    w.round = 4;
    assert_int_equal(cons_evidence_make(&e, &v, &w, &err), UTIL_EINVAL);
    w = nil;
    w.validator = 1;
    assert_int_equal(cons_evidence_make(&e, &v, &w, &err), UTIL_EINVAL);
    w = nil;
    w.type = CHAIN_VOTE_PREVOTE;
    assert_int_equal(cons_evidence_make(&e, &v, &w, &err), UTIL_EINVAL);
    /* A forged second vote does not make evidence. */
    assert_int_equal(cons_evidence_make(&e, &v, &nil, NULL), 0);
    e.a.sig[0] ^= 1;
    assert_int_equal(cons_evidence_verify(&c, &vs, &e, &err), UTIL_ECRYPTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vote_roundtrip_and_rejects),
        cmocka_unit_test(test_proposal_roundtrip_and_rejects),
        cmocka_unit_test(test_digests),
        cmocka_unit_test(test_sign_verify_and_evidence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
