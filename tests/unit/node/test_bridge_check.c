/* The L1-view rules a validator checks before it votes for a block with
 * deposits (node_bridge_check_deposits, docs/rollup.md "DEPOSIT and
 * WITHDRAW"), on a fake view: extra, altered, unconfirmed, missing (with
 * its grace and the block's room), and no L1 at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "node/bridge.h"

#define CONF 2
#define NDEP 80

static rollup_deposit deps[NDEP]; /* nonces 10.., one per L1 block 100.. */

static void make_view(node_bridge_view *v, uint64_t head, size_t ndeps)
{
    for (size_t i = 0; i < NDEP; i++) {
        rollup_deposit *d = &deps[i];
        memset(d, 0, sizeof *d);
        d->nonce = 10 + i;
        d->l1_block = 100 + i;
        memset(d->l1_block_hash, (int)(0x10 + i), 32);
        memset(d->l1_tx_hash, (int)(0x20 + i), 32);
        d->log_index = (uint32_t)i;
        memset(d->from.b, 0xf0, 20);
        memset(d->l2_recipient, (int)(0x40 + i), 20);
        d->amount = 1000 + i;
    }
    *v = (node_bridge_view){
        .has_l1 = 1, .l1_head = head, .confirmations = CONF, .deps = deps, .ndeps = ndeps};
}

/* A block with n DEPOSITs copied from deps[first..] and one transfer. */
static void make_block(chain_block *b, size_t first, size_t n)
{
    memset(b, 0, sizeof *b);
    b->h.height = 7;
    b->ntx = n + 1;
    b->txs = calloc(b->ntx, sizeof *b->txs);
    assert_non_null(b->txs);
    for (size_t i = 0; i < n; i++) {
        b->txs[i].type = CHAIN_TX_DEPOSIT;
        b->txs[i].nonce = deps[first + i].nonce;
        node_bridge_deposit_body(&b->txs[i].body.deposit, &deps[first + i]);
    }
    b->txs[n].type = CHAIN_TX_TRANSFER;
}

static chain_bridge_state state_at(uint64_t next)
{
    chain_bridge_state st;
    memset(&st, 0, sizeof st);
    st.next_deposit = next;
    st.last_deposit_l1_block = next > 10 ? 100 + (next - 11) : 0;
    return st;
}

static int check(const node_bridge_view *v, uint64_t next, const chain_block *b, char *why)
{
    chain_bridge_state st = state_at(next);
    why[0] = 0;
    return node_bridge_check_deposits(v, &st, b, why, 512);
}

static void test_matching_deposits_pass(void **state)
{
    (void)state;
    node_bridge_view v;
    make_view(&v, 200, 3);
    chain_block b;
    char why[512];
    make_block(&b, 0, 3);
    assert_int_equal(check(&v, 10, &b, why), 0);
    free(b.txs);
    /* Some of them, the rest within the grace: fine too. */
    make_view(&v, 100 + CONF + 1, 3); /* deposit 11 (block 101) is CONF deep, 12 is not */
    v.ndeps = 2;
    make_block(&b, 0, 1);
    assert_int_equal(check(&v, 10, &b, why), 0);
    free(b.txs);
}

static void test_no_l1(void **state)
{
    (void)state;
    node_bridge_view v;
    make_view(&v, 200, 3);
    v.has_l1 = 0;
    chain_block b;
    char why[512];
    make_block(&b, 0, 0);
    assert_int_equal(check(&v, 10, &b, why), 0); /* no deposits: no opinion */
    free(b.txs);
    make_block(&b, 0, 1);
    assert_int_equal(check(&v, 10, &b, why), 1);
    assert_non_null(strstr(why, "deposit 10"));
    assert_non_null(strstr(why, "no view of the L1"));
    free(b.txs);
}

static void test_extra(void **state)
{
    (void)state;
    node_bridge_view v;
    make_view(&v, 200, 2); /* sees 10 and 11 only */
    chain_block b;
    char why[512];
    make_block(&b, 0, 3);
    assert_int_equal(check(&v, 10, &b, why), 1);
    assert_non_null(strstr(why, "deposit 12 "));
    assert_non_null(strstr(why, "extra or not yet confirmed"));
    free(b.txs);
    make_view(&v, 200, 0); /* sees none */
    make_block(&b, 0, 1);
    assert_int_equal(check(&v, 10, &b, why), 1);
    assert_non_null(strstr(why, "deposit 10 "));
    free(b.txs);
}

static void test_unconfirmed(void **state)
{
    (void)state;
    node_bridge_view v;
    /* The view kept deposit 10 (block 100), but the head went back. */
    make_view(&v, 100 + CONF - 1, 1);
    chain_block b;
    char why[512];
    make_block(&b, 0, 1);
    assert_int_equal(check(&v, 10, &b, why), 1);
    assert_non_null(strstr(why, "not yet 2 blocks deep"));
    free(b.txs);
}

static void test_altered(void **state)
{
    (void)state;
    static const char *fields[] = {"l1Block", "l1BlockHash", "l1TxHash", "logIndex",
                                   "from",    "to",          "amount"};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        node_bridge_view v;
        make_view(&v, 200, 3);
        chain_block b;
        char why[512];
        make_block(&b, 0, 3);
        chain_tx_deposit *d = &b.txs[1].body.deposit;
        switch (f) {
        case 0: d->l1_block++; break;
        case 1: d->l1_block_hash[31] ^= 1; break;
        case 2: d->l1_tx_hash[0] ^= 1; break;
        case 3: d->log_index++; break;
        case 4: d->l1_from[3] ^= 1; break;
        case 5: d->to.b[19] ^= 1; break;
        default: d->amount++; break;
        }
        assert_int_equal(check(&v, 10, &b, why), 1);
        assert_non_null(strstr(why, "deposit 11 is altered"));
        assert_non_null(strstr(why, fields[f]));
        free(b.txs);
    }
}

static void test_missing(void **state)
{
    (void)state;
    node_bridge_view v;
    chain_block b;
    char why[512];
    /* Deposit 10 in block 100, seen CONF + 4 deep: a block without it is
     * refused. */
    make_view(&v, 100 + CONF + NODE_BRIDGE_MISSING_GRACE, 1);
    make_block(&b, 0, 0);
    assert_int_equal(check(&v, 10, &b, why), 1);
    assert_non_null(strstr(why, "deposit 10 is missing"));
    free(b.txs);
    /* One block less deep: within the grace. */
    make_view(&v, 100 + CONF + NODE_BRIDGE_MISSING_GRACE - 1, 1);
    make_block(&b, 0, 0);
    assert_int_equal(check(&v, 10, &b, why), 0);
    free(b.txs);
    /* The block takes 10 and 11 but leaves out 12, deep enough. */
    make_view(&v, 200, 3);
    make_block(&b, 0, 2);
    assert_int_equal(check(&v, 10, &b, why), 1);
    assert_non_null(strstr(why, "deposit 12 is missing"));
    free(b.txs);
    /* Already minted ones (below the state's next deposit) are not missing. */
    make_view(&v, 200, 3);
    make_block(&b, 0, 0);
    assert_int_equal(check(&v, 13, &b, why), 0);
    free(b.txs);
}

static void test_full_block_has_no_room(void **state)
{
    (void)state;
    node_bridge_view v;
    make_view(&v, 400, NDEP);
    chain_block b;
    char why[512];
    make_block(&b, 0, CHAIN_BLOCK_MAX_DEPOSITS);
    assert_int_equal(check(&v, 10, &b, why), 0);
    free(b.txs);
    make_block(&b, 0, CHAIN_BLOCK_MAX_DEPOSITS - 1);
    assert_int_equal(check(&v, 10, &b, why), 1);
    free(b.txs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching_deposits_pass),
        cmocka_unit_test(test_no_l1),
        cmocka_unit_test(test_extra),
        cmocka_unit_test(test_unconfirmed),
        cmocka_unit_test(test_altered),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_full_block_has_no_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
