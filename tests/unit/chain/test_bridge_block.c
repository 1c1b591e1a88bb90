/* The bridge in blocks (chain/exec/bridge.h, docs/rollup.md "Bridge") on
 * real LevelDB stores: each bridge block rule; chain_blockexec_propose_x;
 * admission refuses a DEPOSIT; the supply rule over a mix of transactions;
 * rollback of a block with deposits and withdrawals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/node_fixture.h"
#include "tests/unit/chain/bridge_fixture.h"

static void refresh(chain_block *b)
{
    util_buf u;
    util_buf_init(&u);
    assert_int_equal(chain_block_encode(b, &u), 0);
    chain_block_free(b);
    util_err err = {0};
    if (chain_block_decode(b, u.data, u.len, &err)) fail_msg("decode: %s", err.msg);
    util_buf_free(&u);
    chain_block_tx_root(b, b->h.tx_root);
}

static void set_txs(chain_block *b, const chain_tx *txs, size_t n)
{
    for (size_t i = 0; i < b->ntx; i++)
        chain_tx_free(&b->txs[i]);
    free(b->txs);
    b->txs = calloc(n ? n : 1, sizeof *b->txs);
    assert_non_null(b->txs);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(chain_tx_copy(&b->txs[i], &txs[i]), 0);
    b->ntx = n;
    refresh(b);
}

static void expect_refused(nfx_node *n, chain_block *b, int want)
{
    chain_block_result res;
    util_err err = {0};
    int reason = -1;
    int rc = chain_blockexec_validate(&n->bx, b, n->now, &res, &reason, &err);
    if (rc != UTIL_EINVAL || reason != want)
        fail_msg("rc %d reason %s (%s), wanted %s", rc, chain_block_reason_token(reason), err.msg,
                 chain_block_reason_token(want));
    const char *tok = chain_block_reason_token(want);
    assert_memory_equal(err.msg, tok, strlen(tok));
}

/* An empty block on the head, to carry a mutated body. */
static void empty_block(nfx_node *n, chain_block *b)
{
    util_err err = {0};
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    int built = 0;
    assert_int_equal(chain_blockexec_propose_x(&n->bx, n->mp, NULL, &proposer, n->now + 1000, 1, b,
                                               &built, &err),
                     0);
    assert_int_equal(built, 1);
}

static void test_block_rules(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), NULL);
    chain_block b;
    assert_string_equal(chain_block_reason_token(CHAIN_BLOCK_DEPOSIT_OUT_OF_PLACE),
                        "deposit_out_of_place");
    assert_string_equal(chain_block_reason_token(CHAIN_BLOCK_DEPOSIT_L1_BLOCK_BACKWARDS),
                        "deposit_l1_block_backwards");

    chain_tx t = nfx_transfer(n.g, 0, 1, 1, 0);
    chain_tx mix[2] = {t, deposit(n.g, 0, 5, 1, 10)};
    empty_block(&n, &b);
    set_txs(&b, mix, 2);
    expect_refused(&n, &b, CHAIN_BLOCK_DEPOSIT_OUT_OF_PLACE);
    chain_block_free(&b);

    chain_tx many[CHAIN_BLOCK_MAX_DEPOSITS + 1];
    for (size_t i = 0; i <= CHAIN_BLOCK_MAX_DEPOSITS; i++)
        many[i] = deposit(n.g, i, 5, 1, 10);
    empty_block(&n, &b);
    set_txs(&b, many, CHAIN_BLOCK_MAX_DEPOSITS + 1);
    expect_refused(&n, &b, CHAIN_BLOCK_TOO_MANY_DEPOSITS);
    chain_block_free(&b);

    empty_block(&n, &b);
    set_txs(&b, many + 1, 1); /* nonce 1, the state wants 0 */
    expect_refused(&n, &b, CHAIN_BLOCK_DEPOSIT_WRONG_NONCE);
    chain_block_free(&b);
    chain_tx gap[2] = {many[0], many[2]};
    empty_block(&n, &b);
    set_txs(&b, gap, 2);
    expect_refused(&n, &b, CHAIN_BLOCK_DEPOSIT_WRONG_NONCE);
    chain_block_free(&b);

    chain_tx back[2] = {deposit(n.g, 0, 9, 1, 10), deposit(n.g, 1, 8, 1, 10)};
    empty_block(&n, &b);
    set_txs(&b, back, 2);
    expect_refused(&n, &b, CHAIN_BLOCK_DEPOSIT_L1_BLOCK_BACKWARDS);
    chain_block_free(&b);

    /* Across blocks: after a deposit from L1 block 9, one from 8 is refused,
     * one from 9 accepted. */
    assert_int_equal(produce_x(&n, back, 1, 0, &b), 1);
    chain_block_free(&b);
    chain_tx later = deposit(n.g, 1, 8, 1, 10);
    empty_block(&n, &b);
    set_txs(&b, &later, 1);
    expect_refused(&n, &b, CHAIN_BLOCK_DEPOSIT_L1_BLOCK_BACKWARDS);
    chain_block_free(&b);
    chain_tx same = deposit(n.g, 1, 9, 1, 10);
    assert_int_equal(produce_x(&n, &same, 1, 0, &b), 1);
    assert_int_equal(b.ntx, 1);
    chain_block_free(&b);
    nfx_close(&n);
}

/* --- propose_x -------------------------------------------------------------- */

static void test_propose_x(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), NULL);
    chain_block b;
    /* Nothing to do and allow_empty 0: no block; deposits alone: a block. */
    assert_int_equal(produce_x(&n, NULL, 0, 0, &b), 0);
    chain_tx d[CHAIN_BLOCK_MAX_DEPOSITS + 10];
    for (size_t i = 0; i < CHAIN_BLOCK_MAX_DEPOSITS + 10; i++)
        d[i] = deposit(n.g, i, 10 + i, (uint32_t)(i % 4), 1 + i);
    assert_int_equal(produce_x(&n, d, 2, 0, &b), 1);
    assert_int_equal(b.ntx, 2);
    chain_block_free(&b);

    /* The ones already minted are skipped, the pool's transactions follow
     * the deposits, and at most CHAIN_BLOCK_MAX_DEPOSITS are taken. */
    chain_tx t = nfx_transfer(n.g, 8, 9, 1, 0);
    pool_add(&n, &t);
    assert_int_equal(produce_x(&n, d, CHAIN_BLOCK_MAX_DEPOSITS + 10, 0, &b), 1);
    assert_int_equal(b.ntx, CHAIN_BLOCK_MAX_DEPOSITS + 1);
    for (size_t i = 0; i < CHAIN_BLOCK_MAX_DEPOSITS; i++) {
        assert_int_equal(b.txs[i].type, CHAIN_TX_DEPOSIT);
        assert_int_equal(b.txs[i].nonce, 2 + i);
    }
    assert_int_equal(b.txs[CHAIN_BLOCK_MAX_DEPOSITS].type, CHAIN_TX_TRANSFER);
    chain_block_free(&b);
    assert_int_equal(bridge(&n).next_deposit, 2 + CHAIN_BLOCK_MAX_DEPOSITS);

    /* A gap stops the run: nonces 66, 67, then 69. */
    chain_tx g3[3] = {d[66], d[67], d[69]};
    assert_int_equal(produce_x(&n, g3, 3, 0, &b), 1);
    assert_int_equal(b.ntx, 2);
    chain_block_free(&b);
    /* A deposit whose L1 block goes backwards stops it too. */
    chain_tx back[2] = {deposit(n.g, 68, 200, 1, 1), deposit(n.g, 69, 150, 1, 1)};
    assert_int_equal(produce_x(&n, back, 2, 0, &b), 1);
    assert_int_equal(b.ntx, 1);
    chain_block_free(&b);
    /* Nothing new: no block. */
    assert_int_equal(produce_x(&n, d, 5, 0, &b), 0);
    check_supply(&n);
    chain_tx_free(&t);
    nfx_close(&n);
}

/* --- admission -------------------------------------------------------------- */

static void test_admission(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), NULL);
    chain_tx d = deposit(n.g, 0, 1, 1, 10);
    util_err err = {0};
    assert_int_equal(chain_mempool_add(n.mp, &d, &err), CHAIN_MP_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "deposit: a system transaction, only a block proposer"));
    chain_admit a = {.g = n.g, .st = n.st, .mp = n.mp};
    err = (util_err){0};
    assert_int_equal(chain_admit_tx(&a, NULL, &d, NULL, &err), CHAIN_MP_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "deposit: a system transaction"));
    assert_int_equal(chain_mempool_count(n.mp), 0);
    /* Nor through the envelope. */
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    chain_exec_ctx ctx = chain_exec_ctx_next(n.g, chain_store_head_header(n.st), n.now, &proposer);
    chain_exec *ex = chain_exec_new(n.st, &ctx);
    chain_receipt r;
    assert_int_equal(chain_exec_apply_tx(ex, &d, &r, &err), UTIL_EINVAL);
    chain_exec_free(ex);
    /* A WITHDRAW is an ordinary transaction. */
    chain_tx w = withdraw(n.g, 0, 0, 10, 1);
    err = (util_err){0};
    assert_int_equal(chain_admit_tx(&a, NULL, &w, NULL, &err), CHAIN_MP_OK);
    nfx_close(&n);
}

/* --- supply ----------------------------------------------------------------- */

static void test_supply(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), NULL);
    chain_block b;
    check_supply(&n);
    /* Transfers, withdrawals (one failing), deposits and a bonded datanet
     * (its bond moves to the escrow account) over several blocks. */
    uint64_t dn = 0;
    for (uint64_t k = 0; k < 4; k++) {
        chain_tx t = nfx_transfer(n.g, 0, 1, 100 + k, 2 * k);
        chain_tx w = withdraw(n.g, 0, 2 * k + 1, 50 + k, 0x42);
        pool_add(&n, &t);
        pool_add(&n, &w);
        chain_tx d[2] = {deposit(n.g, dn, 10 * k, 3, 1000 + k), deposit(n.g, dn + 1, 10 * k, 0, 7)};
        dn += 2;
        assert_int_equal(produce_x(&n, d, 2, 1, &b), 1);
        assert_int_equal(b.ntx, 4);
        chain_block_free(&b);
        check_supply(&n);
        chain_tx_free(&t);
        chain_tx_free(&w);
    }
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 2), 0);
    chain_tx dc;
    memset(&dc, 0, sizeof dc);
    dc.version = CHAIN_TX_VERSION;
    snprintf(dc.chain_id, sizeof dc.chain_id, "%s", n.g->chain_id);
    dc.type = CHAIN_TX_DATANET_CREATE;
    dc.gas_limit = 100000;
    dc.gas_price = 1;
    assert_int_equal(chain_tx_set_str(&dc.body.datanet_create.name, "bridged", CHAIN_NAME_MAX), 0);
    dc.body.datanet_create.bond = 12345;
    util_err err = {0};
    assert_int_equal(chain_tx_sign(&dc, &kp, n.g->hash, &err), 0);
    pool_add(&n, &dc);
    chain_tx w = withdraw(n.g, 2, 1, 999, 0x42);
    pool_add(&n, &w);
    nfx_produce(&n, &b, NULL);
    assert_int_equal(b.ntx, 2);
    chain_block_free(&b);
    check_supply(&n);
    chain_bridge_state s = bridge(&n);
    assert_int_equal(s.minted, 4 * 7 + 1000 + 1001 + 1002 + 1003);
    assert_int_equal(s.burned, 50 + 51 + 52 + 53 + 999);
    chain_tx_free(&dc);

    /* The per-block rule catches a balance created from nothing. */
    chain_addr proposer, a;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    fx_dev_addr(&a, 3);
    chain_exec_ctx ctx = chain_exec_ctx_next(n.g, chain_store_head_header(n.st), n.now, &proposer);
    chain_exec *ex = chain_exec_new(n.st, &ctx);
    chain_account acc;
    assert_int_equal(chain_exec_get_account(ex, &a, &acc, &err), 0);
    acc.balance += 1;
    assert_int_equal(chain_exec_set_account(ex, &a, &acc, &err), 0);
    assert_int_equal(chain_bridge_check_block_supply(ex, &err), UTIL_ESTATE);
    assert_non_null(strstr(err.msg, "supply"));
    acc.balance -= 1;
    assert_int_equal(chain_exec_set_account(ex, &a, &acc, &err), 0);
    assert_int_equal(chain_bridge_check_block_supply(ex, &err), 0);
    chain_exec_free(ex);
    nfx_close(&n);
}

/* --- rollback ---------------------------------------------------------------- */

typedef struct dump {
    util_buf b;
} dump;

static int dump_one(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    dump *d = ctx;
    util_buf_lenbytes(&d->b, key, klen);
    util_buf_lenbytes(&d->b, val, vlen);
    return 0;
}

/* Every state and index entry. */
static void dump_store(nfx_node *n, util_buf *out)
{
    dump d;
    util_buf_init(&d.b);
    util_err err = {0};
    const uint8_t pfx[2] = {CHAIN_DB_STATE, CHAIN_DB_INDEX};
    for (int i = 0; i < 2; i++)
        assert_int_equal(
            chain_store_scan(n->st, &pfx[i], 1, NULL, 0, 0, SIZE_MAX, dump_one, &d, &err), 0);
    *out = d.b;
}

static void test_rollback(void **state)
{
    (void)state;
    nfx_node n;
    nfx_opts o = {.undo_blocks = 16};
    nfx_open(&n, fx_devnet(), &o);
    chain_block b;
    chain_tx d0 = deposit(n.g, 0, 3, 4, 500);
    chain_tx w0 = withdraw(n.g, 0, 0, 20, 0x42);
    pool_add(&n, &w0);
    assert_int_equal(produce_x(&n, &d0, 1, 0, &b), 1);
    chain_block_free(&b);
    util_buf before;
    dump_store(&n, &before);
    chain_bridge_state s1 = bridge(&n);

    chain_tx d1 = deposit(n.g, 1, 4, 5, 600);
    chain_tx w1 = withdraw(n.g, 0, 1, 30, 0x43);
    pool_add(&n, &w1);
    assert_int_equal(produce_x(&n, &d1, 1, 0, &b), 1);
    assert_int_equal(b.ntx, 2);
    chain_block_free(&b);
    assert_int_equal(bridge(&n).next_withdrawal, 2);
    util_err err = {0};
    uint8_t r[32];
    assert_int_equal(chain_bridge_wroot_at(n.st, 2, r, &err), 0);

    assert_int_equal(chain_store_rollback(n.st, 1, &err), 0);
    util_buf after;
    dump_store(&n, &after);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, before.len);
    chain_bridge_state s = bridge(&n);
    assert_memory_equal(&s, &s1, sizeof s);
    assert_int_equal(chain_bridge_wroot_at(n.st, 2, r, &err), UTIL_ENOTFOUND);
    uint64_t h;
    assert_int_equal(chain_deposit_find(n.st, 1, &h, r, &err), UTIL_ENOTFOUND);
    chain_withdrawal wd;
    assert_int_equal(chain_withdrawal_get(n.st, 1, &wd, NULL, NULL, &err), UTIL_ENOTFOUND);
    check_supply(&n);
    util_buf_free(&before);
    util_buf_free(&after);
    nfx_close(&n);
}

/* --- fuzz seeds and JSON ------------------------------------------------------ */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_rules), cmocka_unit_test(test_propose_x),
        cmocka_unit_test(test_admission),   cmocka_unit_test(test_supply),
        cmocka_unit_test(test_rollback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
