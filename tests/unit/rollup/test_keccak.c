/* Keccak-256 (Ethereum's, original padding). Known answers: the empty string
 * and "abc" are the values every Ethereum client publishes (e.g. the
 * keccak256("") constant KECCAK_EMPTY in go-ethereum's crypto package, and
 * the "abc" vector of the Keccak team's KeccakKAT ShortMsgKAT_256); the
 * 135/136/137/1000-byte values (byte i = 7i + 3 mod 256, around the 136-byte
 * rate) were obtained from anvil's web3_sha3 RPC (foundry, pinned in
 * rollup/peers). Every split of the input through the incremental API must
 * give the one-shot digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rollup/eth/keccak.h"
#include "util/hex.h"

static void check_hex(const uint8_t d[32], const char *want)
{
    char got[65];
    util_hex_encode(got, d, 32);
    assert_string_equal(got, want);
}

static void test_known(void **state)
{
    (void)state;
    uint8_t d[32];
    rollup_keccak256(d, "", 0);
    check_hex(d, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    rollup_keccak256(d, "abc", 3);
    check_hex(d, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

static const struct {
    size_t n;
    const char *hex;
} anvil_vectors[] = {
    {135, "00ef96af9cf4b24c7f269d922294444a197d0a33638c2e56634c57e892103a8f"},
    {136, "742061bcad767ed4c4f5883b1dcb1aad11afdcc140dc469d953759b127b9f9ed"},
    {137, "e3371f61e770abf254c34239c3b0099ad90594507415bc81dd0a10b9692bbf2a"},
    {1000, "80cdc8dd52cbb3dbaea8f383209893fa2bb52efbd5aedbb4b26dcfe307fcdc9b"},
};

static void test_rate_boundaries_and_splits(void **state)
{
    (void)state;
    uint8_t in[1000];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(7 * i + 3);
    for (size_t v = 0; v < sizeof anvil_vectors / sizeof anvil_vectors[0]; v++) {
        size_t n = anvil_vectors[v].n;
        uint8_t one[32];
        rollup_keccak256(one, in, n);
        check_hex(one, anvil_vectors[v].hex);
        for (size_t split = 0; split <= n; split++) {
            rollup_keccak_ctx c;
            uint8_t two[32];
            rollup_keccak_init(&c);
            rollup_keccak_update(&c, in, split);
            rollup_keccak_update(&c, in + split, n - split);
            rollup_keccak_final(&c, two);
            assert_memory_equal(one, two, 32);
        }
        /* Byte at a time: the buffered path only. */
        rollup_keccak_ctx c;
        uint8_t three[32];
        rollup_keccak_init(&c);
        for (size_t i = 0; i < n; i++)
            rollup_keccak_update(&c, in + i, 1);
        rollup_keccak_final(&c, three);
        assert_memory_equal(one, three, 32);
    }
}

/* SHA3-256("") differs (padding 0x06): a FIPS implementation would fail here. */
static void test_not_sha3(void **state)
{
    (void)state;
    uint8_t d[32];
    rollup_keccak256(d, "", 0);
    char got[65];
    util_hex_encode(got, d, 32);
    assert_string_not_equal(got,
                            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_rate_boundaries_and_splits),
        cmocka_unit_test(test_not_sha3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
