/* chain_tx_check_sigs (chain/types/tx_sigs.h) gives chain_tx_check_sig's
 * verdicts: on all-valid calls (one batch), on calls with a bad signature or
 * a sender that is not a key (the batch fails, each is checked alone), past
 * CHAIN_TX_SIGS_MAX, with a NULL genesis hash (nothing valid), with the wrong
 * genesis (nothing valid), and without a cache. Callers' own tests cover the
 * cache slots shared by two senders (test_p2p_sync_sigs, test_derive_sigs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "tests/unit/node_fixture.h"

#include "chain/types/tx_sigs.h"

#define N 600

static chain_tx *txs;
static int *valid;

static int setup(void **state)
{
    (void)state;
    const chain_genesis *g = fx_devnet();
    txs = calloc(N, sizeof *txs);
    valid = calloc(N, sizeof *valid);
    if (!txs || !valid) return -1;
    for (size_t i = 0; i < N; i++) {
        txs[i] = nfx_transfer(g, (uint32_t)(i % 7), 1, 1, i);
        valid[i] = 1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < N; i++)
        chain_tx_free(&txs[i]);
    free(txs);
    free(valid);
    return 0;
}

static void reset(void)
{
    for (size_t i = 0; i < N; i++)
        txs[i].sig_checked = 0;
}

/* Checks [lo, hi) in one call and compares every flag with valid[]. */
static void check(size_t lo, size_t hi, const uint8_t *gh, chain_sig_cache *c)
{
    chain_tx *p[N] = {0};
    size_t want = 0;
    for (size_t i = lo; i < hi; i++) {
        p[i - lo] = &txs[i];
        want += (size_t)(valid[i] && gh == fx_devnet()->hash);
    }
    assert_int_equal(chain_tx_check_sigs(p, hi - lo, gh, c), want);
    for (size_t i = lo; i < hi; i++)
        if (txs[i].sig_checked != (valid[i] && gh == fx_devnet()->hash))
            fail_msg("tx %zu: flag %d, valid %d", i, txs[i].sig_checked, valid[i]);
}

static void test_all_valid(void **state)
{
    (void)state;
    chain_sig_cache *c = chain_sig_cache_new();
    assert_non_null(c);
    reset();
    check(0, CHAIN_TX_SIGS_MAX, fx_devnet()->hash, c);
    check(CHAIN_TX_SIGS_MAX, N, fx_devnet()->hash, c); /* more than the max */
    check(0, N, fx_devnet()->hash, c);                 /* already flagged: counted */
    reset();
    check(0, 3, fx_devnet()->hash, c); /* below CHAIN_BATCH_MIN */
    reset();
    check(0, N, fx_devnet()->hash, NULL);
    chain_sig_cache_free(c);
}

static void test_some_invalid(void **state)
{
    (void)state;
    chain_sig_cache *c = chain_sig_cache_new();
    assert_non_null(c);
    uint8_t sender[32];
    txs[10].sig[40] ^= 1;
    valid[10] = 0;
    memcpy(sender, txs[200].sender, 32);
    memset(txs[200].sender, 0xff, 32); /* not on the curve */
    valid[200] = 0;
    txs[300].nonce ^= 1; /* signed over another message */
    valid[300] = 0;
    for (int with_cache = 0; with_cache < 2; with_cache++) {
        reset();
        check(0, CHAIN_TX_SIGS_MAX, fx_devnet()->hash, with_cache ? c : NULL);
        check(CHAIN_TX_SIGS_MAX, N, fx_devnet()->hash, with_cache ? c : NULL);
    }
    txs[10].sig[40] ^= 1;
    memcpy(txs[200].sender, sender, 32);
    txs[300].nonce ^= 1;
    valid[10] = valid[200] = valid[300] = 1;
    chain_sig_cache_free(c);
}

static void test_wrong_genesis(void **state)
{
    (void)state;
    chain_sig_cache *c = chain_sig_cache_new();
    assert_non_null(c);
    uint8_t other[32];
    memcpy(other, fx_devnet()->hash, 32);
    other[0] ^= 1;
    reset();
    check(0, 100, other, c);
    check(0, 100, NULL, c);
    check(0, 100, NULL, NULL);
    chain_sig_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_valid),
        cmocka_unit_test(test_some_invalid),
        cmocka_unit_test(test_wrong_genesis),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
