/* Block sync's batched signature checks (node/p2p_sync.c,
 * node_sync_check_txs): a
 * range of blocks whose chunks hold valid transactions, bad signatures, a
 * sender that is not a key and senders sharing a key-cache slot with a real
 * one (signed by the real key: valid under it, not under theirs) is checked
 * chunk by chunk as the pool does; exactly the valid transactions end up
 * flagged, with and without a key cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/node_fixture.h"

#include "node/p2p.h"

#define NBLK 4
static const size_t counts[NBLK] = {300, 1, 0, 500};

/* As tests/unit/rollup/test_derive_sigs.c: same cache slot (first bytes) as
 * the real signer's, signed by the real signer over the twin's message. */
static void twin(chain_tx *tx, uint32_t signer)
{
    chain_keypair kp;
    uint8_t msg[32], aux[32] = {0};
    assert_int_equal(chain_keypair_dev(&kp, signer), 0);
    tx->sender[31] ^= 0x55;
    assert_int_equal(chain_tx_sighash(tx, fx_devnet()->hash, msg), 0);
    assert_int_equal(chain_sign(tx->sig, msg, &kp, aux), 0);
}

/* Flattened, the chunks are [0, 256) and [256, 512), each with a bad
 * signature or a non-key, so their batches fail; [512, 768) (block 3's
 * 211..466) is all valid but two twins of sender 17, each followed in the
 * chunk by sender 17's own transactions, which refill the shared slot: a
 * batch reading keys from the cache rather than copies would pass them. */
static void run(int with_cache)
{
    const chain_genesis *g = fx_devnet();
    chain_block blocks[NBLK];
    int *valid[NBLK];
    size_t tx_at[NBLK + 1] = {0};
    memset(blocks, 0, sizeof blocks);
    for (int b = 0; b < NBLK; b++) {
        blocks[b].ntx = counts[b];
        blocks[b].txs = calloc(counts[b] ? counts[b] : 1, sizeof(chain_tx));
        valid[b] = calloc(counts[b] ? counts[b] : 1, sizeof(int));
        assert_true(blocks[b].txs && valid[b]);
        tx_at[b + 1] = tx_at[b] + counts[b];
        for (size_t i = 0; i < counts[b]; i++) {
            chain_tx *tx = &blocks[b].txs[i];
            *tx = nfx_transfer(g, (uint32_t)(i % 20), 21, 1, i);
            valid[b][i] = 1;
            if ((b == 0 && i == 100) || (b == 3 && i == 499) || b == 1) {
                tx->sig[9] ^= 1; /* a bad signature */
                valid[b][i] = 0;
            } else if (b == 3 && (i == 237 || i == 317 || i == 477)) {
                twin(tx, (uint32_t)(i % 20));
                chain_xonly xo; /* the twin is a key: it takes the batch path */
                assert_true(chain_xonly_parse(&xo, tx->sender));
                valid[b][i] = 0;
            } else if (b == 0 && i == 260) {
                memset(tx->sender, 0xff, 32); /* not on the curve: not a key */
                valid[b][i] = 0;
            } else if (b == 3 && i == 3) {
                tx->sig_checked = 1; /* checked before: kept, not rechecked */
            }
        }
    }
    node_range r;
    memset(&r, 0, sizeof r);
    r.n = NBLK;
    r.blocks = blocks;
    r.tx_at = tx_at;
    chain_sig_cache *cache = with_cache ? chain_sig_cache_new() : NULL;
    if (with_cache) assert_non_null(cache);
    for (size_t lo = 0; lo < tx_at[NBLK]; lo += NODE_SYNC_SIG_CHUNK) {
        size_t hi = tx_at[NBLK] - lo > NODE_SYNC_SIG_CHUNK ? lo + NODE_SYNC_SIG_CHUNK : tx_at[NBLK];
        node_sync_check_txs(&r, lo, hi, g->hash, cache);
    }
    for (int b = 0; b < NBLK; b++)
        for (size_t i = 0; i < counts[b]; i++)
            if (blocks[b].txs[i].sig_checked != valid[b][i])
                fail_msg("block %d tx %zu: flag %d, want %d", b, i, blocks[b].txs[i].sig_checked,
                         valid[b][i]);
    chain_sig_cache_free(cache);
    for (int b = 0; b < NBLK; b++) {
        for (size_t i = 0; i < counts[b]; i++)
            chain_tx_free(&blocks[b].txs[i]);
        free(blocks[b].txs);
        free(valid[b]);
    }
}

static void test_with_cache(void **state)
{
    (void)state;
    run(1);
}

static void test_without_cache(void **state)
{
    (void)state;
    run(0);
}

int main(void)
{
    chain_hash_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_with_cache),
        cmocka_unit_test(test_without_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
