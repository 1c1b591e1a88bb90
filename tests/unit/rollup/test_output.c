/* Output roots and their signatures (rollup/output.h): the root against the
 * documented layout, the digest against values anvil's web3_sha3 computed
 * (the Keccak the OutputOracle runs), validators' addresses from the
 * genesis alone matching what their normalised keys sign, and the signature
 * set of 4 validators: quorum only past 2/3, unknown signers refused,
 * repeats counted once, packed in increasing address order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"
#include "rollup/eth/keccak.h"
#include "rollup/output.h"
#include "tests/unit/genesis_doc.h"

#define DEV0 1000 /* the validators are development keys 1000..1003 */

static void hex32(uint8_t out[32], const char *s)
{
    assert_int_equal(util_hex_decode_exact(out, 32, s), 0);
}

/* A genesis with validators of development keys DEV0.. and these powers. */
static void genesis_with(chain_genesis *g, const json_int_t *powers, size_t n)
{
    json_t *doc = devnet_doc();
    json_t *vals = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *v = validator(DEV0 + (uint32_t)i, powers[i]);
        char name[16];
        snprintf(name, sizeof name, "v%zu", i);
        set_str(v, "name", name);
        json_array_append_new(vals, v);
    }
    json_object_set_new(doc, "validators", vals);
    util_err err = {0};
    if (parse_doc(doc, g, &err)) fail_msg("genesis: %s", err.msg);
    json_decref(doc);
}

static void dev_sk(uint8_t sk[32], uint32_t i)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, i), 0);
    memcpy(sk, kp.seckey, 32);
}

static void test_root_layout(void **state)
{
    (void)state;
    uint8_t sr[32], bh[32], wr[32], got[32], want[32];
    memset(sr, 0xaa, 32);
    memset(bh, 0xbb, 32);
    memset(wr, 0, 32);
    /* SHA-256(0x11 || 0x00 || state root || block hash || withdrawals root) */
    uint8_t m[2 + 96];
    m[0] = 0x11;
    m[1] = 0x00;
    memcpy(m + 2, sr, 32);
    memcpy(m + 34, bh, 32);
    memcpy(m + 66, wr, 32);
    chain_sha256(want, m, sizeof m);
    rollup_output_root(got, sr, bh, wr);
    assert_memory_equal(got, want, 32);
    /* The same value from Python's hashlib, so the layout above is not
     * only checked against itself. */
    hex32(want, "9f7df7cbe06072d9692e47f2113a9359820455e2270ce19715a3b85fd4c66f9a");
    assert_memory_equal(got, want, 32);
    memset(wr, 0xcc, 32);
    rollup_output_root(got, sr, bh, wr);
    hex32(want, "9c7d79204947fdbe6314e73513c6498aaae9bf42ca28242a46dcdac2a1486ff7");
    assert_memory_equal(got, want, 32);
    /* Every input counts. */
    uint8_t other[32];
    sr[31] ^= 1;
    rollup_output_root(other, sr, bh, wr);
    assert_memory_not_equal(other, got, 32);
}

static void test_digest_anvil(void **state)
{
    (void)state;
    /* web3_sha3 on anvil of the type string, and of OUTPUT_TYPEHASH ||
     * 0x11 x 32 || uint256(0x0102030405060708) || 0x22 x 32. */
    static const char type[] =
        "OpenLedger.Output(bytes32 l2Genesis,uint64 l2Height,bytes32 outputRoot)";
    uint8_t th[32], want[32];
    rollup_keccak256(th, type, sizeof type - 1);
    hex32(want, "bcbd562f926fc3be51306e616d6caf4507c0aef8df31aa430469d34deed43948");
    assert_memory_equal(th, want, 32);

    uint8_t gh[32], root[32], got[32];
    memset(gh, 0x11, 32);
    memset(root, 0x22, 32);
    rollup_output_digest(got, gh, 0x0102030405060708ull, root);
    hex32(want, "4f3bacab75ae597a52f9178ea9ef4f9db336f4672d981207dcd45f89d9b1598a");
    assert_memory_equal(got, want, 32);
    /* And through the documented concatenation. */
    uint8_t m[128] = {0}; /* the uint256's high 24 bytes stay zero */
    memcpy(m, th, 32);
    memcpy(m + 32, gh, 32);
    util_put_u64be(m + 88, 0x0102030405060708ull);
    memcpy(m + 96, root, 32);
    rollup_keccak256(want, m, sizeof m);
    assert_memory_equal(got, want, 32);
}

/* Each validator's signature recovers to the address the genesis gives it;
 * at least one of the keys has an odd-y point, so normalising matters. */
static void test_sign_matches_genesis_addrs(void **state)
{
    (void)state;
    chain_genesis g;
    json_int_t powers[4] = {1, 1, 1, 1};
    genesis_with(&g, powers, 4);
    rollup_eth_addr addrs[CHAIN_MAX_VALIDATORS];
    util_err err = {0};
    assert_int_equal(rollup_validator_addrs(&g, addrs, &err), 0);
    uint8_t digest[32];
    memset(digest, 0x42, 32);
    int odd = 0;
    for (uint32_t i = 0; i < 4; i++) {
        uint8_t sk[32], sig[ROLLUP_ETH_SIG_LEN];
        dev_sk(sk, DEV0 + i);
        assert_int_equal(rollup_output_sign(sig, digest, sk, &err), 0);
        rollup_eth_addr who, own;
        assert_int_equal(rollup_eth_recover(&who, digest, sig, &err), 0);
        assert_memory_equal(who.b, addrs[i].b, 20);
        assert_int_equal(rollup_eth_addr_from_seckey(&own, sk, &err), 0);
        if (memcmp(own.b, addrs[i].b, 20) != 0) odd++;
        /* Deterministic (RFC 6979). */
        uint8_t again[ROLLUP_ETH_SIG_LEN];
        assert_int_equal(rollup_output_sign(again, digest, sk, &err), 0);
        assert_memory_equal(again, sig, sizeof sig);
    }
    assert_true(odd > 0);
    uint8_t zero[32] = {0}, sig[ROLLUP_ETH_SIG_LEN];
    assert_int_equal(rollup_output_sign(sig, digest, zero, &err), UTIL_EINVAL);
    chain_genesis_free(&g);
}

static void sign_dev(uint8_t sig[ROLLUP_ETH_SIG_LEN], const uint8_t digest[32], uint32_t dev)
{
    uint8_t sk[32];
    dev_sk(sk, dev);
    util_err err = {0};
    assert_int_equal(rollup_output_sign(sig, digest, sk, &err), 0);
}

static void test_sigset_four_equal(void **state)
{
    (void)state;
    chain_genesis g;
    json_int_t powers[4] = {10, 10, 10, 10};
    genesis_with(&g, powers, 4);
    uint8_t digest[32], root[32];
    memset(root, 0x5e, 32);
    rollup_output_digest(digest, g.hash, 10, root);
    rollup_sigset s;
    rollup_sigset_init(&s, digest, &g);
    assert_int_equal(s.total, 40);
    util_err err = {0};
    uint8_t sig[4][ROLLUP_ETH_SIG_LEN];
    for (uint32_t i = 0; i < 4; i++)
        sign_dev(sig[i], digest, DEV0 + i);

    /* Added in an order unrelated to the addresses. */
    assert_int_equal(rollup_sigset_add(&s, &g, sig[2], &err), 0);
    assert_false(rollup_sigset_quorum(&s));
    assert_int_equal(rollup_sigset_add(&s, &g, sig[0], &err), 0);
    assert_false(rollup_sigset_quorum(&s)); /* 2 of 4: 20 of 40 */
    /* A repeat counts once. */
    assert_int_equal(rollup_sigset_add(&s, &g, sig[0], &err), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.power, 20);
    assert_false(rollup_sigset_quorum(&s));
    /* A key that is not a validator's, and a signature over another digest
     * (it recovers to a stranger). */
    uint8_t stranger[ROLLUP_ETH_SIG_LEN];
    sign_dev(stranger, digest, 5);
    assert_int_equal(rollup_sigset_add(&s, &g, stranger, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "is not a validator"));
    uint8_t other[32];
    memset(other, 1, 32);
    sign_dev(stranger, other, DEV0 + 3);
    assert_int_equal(rollup_sigset_add(&s, &g, stranger, &err), UTIL_EINVAL);
    /* Malformed: v outside 27/28. */
    uint8_t bad[ROLLUP_ETH_SIG_LEN];
    memcpy(bad, sig[3], sizeof bad);
    bad[64] = 29;
    assert_int_equal(rollup_sigset_add(&s, &g, bad, &err), UTIL_EINVAL);
    assert_int_equal(s.n, 2);

    assert_int_equal(rollup_sigset_add(&s, &g, sig[3], &err), 0);
    assert_true(rollup_sigset_quorum(&s)); /* 3 of 4: 30 * 3 > 40 * 2 */
    assert_int_equal(rollup_sigset_add(&s, &g, sig[1], &err), 0);
    assert_true(rollup_sigset_quorum(&s));
    assert_int_equal(s.power, 40);

    /* Packed: 4 x 65 bytes whose signers increase strictly. */
    uint8_t out[CHAIN_MAX_VALIDATORS * ROLLUP_ETH_SIG_LEN];
    size_t n = rollup_sigset_pack(&s, out);
    assert_int_equal(n, 4 * ROLLUP_ETH_SIG_LEN);
    rollup_eth_addr prev;
    memset(&prev, 0, sizeof prev);
    for (size_t i = 0; i < 4; i++) {
        rollup_eth_addr who;
        assert_int_equal(rollup_eth_recover(&who, digest, out + i * ROLLUP_ETH_SIG_LEN, &err), 0);
        assert_true(memcmp(prev.b, who.b, 20) < 0);
        prev = who;
    }
    chain_genesis_free(&g);
}

/* Exactly 2/3 is not a quorum: powers 1, 1, 1, 3 (total 6). */
static void test_sigset_strict_two_thirds(void **state)
{
    (void)state;
    chain_genesis g;
    json_int_t powers[4] = {1, 1, 1, 3};
    genesis_with(&g, powers, 4);
    uint8_t digest[32], sig[ROLLUP_ETH_SIG_LEN];
    memset(digest, 9, 32);
    rollup_sigset s;
    rollup_sigset_init(&s, digest, &g);
    util_err err = {0};
    sign_dev(sig, digest, DEV0 + 3);
    assert_int_equal(rollup_sigset_add(&s, &g, sig, &err), 0);
    sign_dev(sig, digest, DEV0 + 0);
    assert_int_equal(rollup_sigset_add(&s, &g, sig, &err), 0);
    assert_int_equal(s.power, 4);
    assert_false(rollup_sigset_quorum(&s)); /* 4 * 3 == 6 * 2 */
    sign_dev(sig, digest, DEV0 + 1);
    assert_int_equal(rollup_sigset_add(&s, &g, sig, &err), 0);
    assert_true(rollup_sigset_quorum(&s));
    chain_genesis_free(&g);

    /* The devnet's single validator signs alone. */
    json_int_t solo[1] = {10};
    genesis_with(&g, solo, 1);
    rollup_sigset_init(&s, digest, &g);
    assert_false(rollup_sigset_quorum(&s));
    sign_dev(sig, digest, DEV0);
    assert_int_equal(rollup_sigset_add(&s, &g, sig, &err), 0);
    assert_true(rollup_sigset_quorum(&s));
    uint8_t out[ROLLUP_ETH_SIG_LEN];
    assert_int_equal(rollup_sigset_pack(&s, out), ROLLUP_ETH_SIG_LEN);
    assert_memory_equal(out, sig, ROLLUP_ETH_SIG_LEN);
    chain_genesis_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_layout),
        cmocka_unit_test(test_digest_anvil),
        cmocka_unit_test(test_sign_matches_genesis_addrs),
        cmocka_unit_test(test_sigset_four_equal),
        cmocka_unit_test(test_sigset_strict_two_thirds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
