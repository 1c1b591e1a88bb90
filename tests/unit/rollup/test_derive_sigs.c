/* The signature checks of a derived batch (rollup/derive_sigs.c): blocks
 * of signed transactions, some with a bad signature, a sender that is not a
 * key, or a sender sharing a key-cache slot with a real one, are checked
 * with 0, 1 and 3 worker threads; once derive_sigs_wait returns for a
 * block, exactly its valid transactions are flagged, whatever thread
 * checked them; stopping early leaves the rest unchecked or correctly
 * checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/node_fixture.h"

#include <stdlib.h>
#include <string.h>

#include "rollup/derive_internal.h"

#define NB 6
static const size_t counts[NB] = {0, 700, 3, 600, 1, 300};
static chain_block blocks[NB];
static int *valid[NB]; /* what each transaction's check must conclude */

/* A sender whose key-cache slot (its first bytes) is the real signer's,
 * signed by the real signer over the twin's message: valid under the real
 * key, not the twin's. A cache answering for one key with the other would
 * accept it. */
static void twin(chain_tx *tx, uint32_t signer)
{
    chain_keypair kp;
    uint8_t msg[32], aux[32] = {0};
    assert_int_equal(chain_keypair_dev(&kp, signer), 0);
    tx->sender[31] ^= 0x55;
    assert_int_equal(chain_tx_sighash(tx, fx_devnet()->hash, msg), 0);
    assert_int_equal(chain_sign(tx->sig, msg, &kp, aux), 0);
}

static int setup(void **state)
{
    (void)state;
    chain_hash_init();
    const chain_genesis *g = fx_devnet();
    for (int b = 0; b < NB; b++) {
        blocks[b].ntx = counts[b];
        blocks[b].txs = calloc(counts[b] ? counts[b] : 1, sizeof(chain_tx));
        valid[b] = calloc(counts[b] ? counts[b] : 1, sizeof(int));
        for (size_t i = 0; i < counts[b]; i++) {
            /* 20 senders, so the caches are hit and replaced. */
            chain_tx *tx = &blocks[b].txs[i];
            *tx = nfx_transfer(g, (uint32_t)(i % 20), 21, 1, i);
            valid[b][i] = 1;
            if ((b == 1 && i == 300) || (b == 3 && i == 599) || (b == 5 && i == 0)) {
                tx->sig[9] ^= 1; /* a bad signature */
                valid[b][i] = 0;
            } else if (b == 3 && i % 50 == 7) {
                twin(tx, (uint32_t)(i % 20));
                valid[b][i] = 0;
            } else if (b == 1 && i == 650) {
                memset(tx->sender, 0xff, 32); /* not on the curve: not a key */
                valid[b][i] = 0;
            }
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int b = 0; b < NB; b++) {
        for (size_t i = 0; i < counts[b]; i++)
            chain_tx_free(&blocks[b].txs[i]);
        free(blocks[b].txs);
        free(valid[b]);
    }
    return 0;
}

static void reset_flags(void)
{
    for (int b = 0; b < NB; b++)
        for (size_t i = 0; i < counts[b]; i++)
            blocks[b].txs[i].sig_checked = 0;
}

static void expect_block(int b)
{
    for (size_t i = 0; i < counts[b]; i++)
        if (blocks[b].txs[i].sig_checked != valid[b][i])
            fail_msg("block %d tx %zu: sig_checked %d, expected %d", b, i,
                     blocks[b].txs[i].sig_checked, valid[b][i]);
}

static void run_all(int workers)
{
    reset_flags();
    derive_sigs *s = derive_sigs_start(blocks, NB, fx_devnet()->hash, workers);
    assert_non_null(s);
    for (int b = 0; b < NB; b++) {
        derive_sigs_wait(s, (size_t)b);
        expect_block(b);
    }
    derive_sigs_stats st;
    derive_sigs_end(s, &st);
    size_t total = 0;
    for (int b = 0; b < NB; b++)
        total += counts[b];
    assert_int_equal(st.loop_txs + st.worker_txs, total);
    assert_int_equal(st.workers, workers);
    if (workers == 0) assert_int_equal(st.worker_txs, 0);
}

static void test_loop_only(void **state)
{
    (void)state;
    run_all(0);
}

static void test_one_worker(void **state)
{
    (void)state;
    run_all(1);
}

static void test_three_workers(void **state)
{
    (void)state;
    run_all(3);
}

/* Derivation halts in the middle of a batch: the workers stop claiming, are
 * joined, and whatever they checked is flagged rightly. */
static void test_stop_early(void **state)
{
    (void)state;
    reset_flags();
    derive_sigs *s = derive_sigs_start(blocks, NB, fx_devnet()->hash, 2);
    assert_non_null(s);
    derive_sigs_wait(s, 1);
    expect_block(1);
    derive_sigs_end(s, NULL);
    for (int b = 2; b < NB; b++)
        for (size_t i = 0; i < counts[b]; i++)
            if (blocks[b].txs[i].sig_checked) assert_int_equal(valid[b][i], 1);
}

/* Checking twice changes nothing, blocks can be waited for out of order,
 * and a batch of a few transactions is checked on the loop alone. */
static void test_small_batch_on_loop(void **state)
{
    (void)state;
    reset_flags();
    for (int round = 0; round < 2; round++) {
        derive_sigs *s = derive_sigs_start(&blocks[1], 2, fx_devnet()->hash, 0);
        assert_non_null(s);
        derive_sigs_wait(s, 1);
        derive_sigs_wait(s, 0);
        derive_sigs_wait(s, 7); /* out of range: returns */
        derive_sigs_end(s, NULL);
        expect_block(1);
        expect_block(2);
    }
    derive_sigs *s = derive_sigs_start(&blocks[2], 1, fx_devnet()->hash, 3);
    assert_non_null(s);
    derive_sigs_wait(s, 0);
    derive_sigs_stats st;
    derive_sigs_end(s, &st);
    assert_int_equal(st.workers, 0);
    derive_sigs_wait(NULL, 0);
    derive_sigs_end(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_only),           cmocka_unit_test(test_one_worker),
        cmocka_unit_test(test_three_workers),       cmocka_unit_test(test_stop_early),
        cmocka_unit_test(test_small_batch_on_loop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
