/* The L2 side of the bridge (chain/exec/bridge.h, docs/rollup.md "Bridge")
 * on real LevelDB stores: the DEPOSIT and WITHDRAW codecs and every refusal;
 * WITHDRAW burns and records, the withdrawals tree matches one built
 * independently and its proofs verify at past heights; DEPOSIT mints; the
 * fuzz seeds decode and render. Block rules, propose_x, admission, supply and
 * rollback: test_bridge_block.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/node_fixture.h"
#include "tests/unit/chain/bridge_fixture.h"

static void expect_decode_refused(const chain_tx *tx, const char *want)
{
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_tx_encode(tx, &b), 0);
    chain_tx d;
    util_err err = {0};
    assert_int_equal(chain_tx_decode(&d, b.data, b.len, &err), UTIL_EINVAL);
    if (!strstr(err.msg, want)) fail_msg("got \"%s\", want \"%s\"", err.msg, want);
    util_buf_free(&b);
}

static void roundtrip(const chain_tx *tx)
{
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_tx_encode(tx, &b), 0);
    assert_int_equal(b.len, chain_tx_encoded_len(tx));
    assert_int_equal(b.len, tx->size);
    chain_tx d;
    util_err err = {0};
    if (chain_tx_decode(&d, b.data, b.len, &err)) fail_msg("decode: %s", err.msg);
    assert_memory_equal(d.id, tx->id, 32);
    assert_int_equal(d.type, tx->type);
    assert_memory_equal(&d.body, &tx->body, sizeof d.body);
    util_buf re;
    util_buf_init(&re);
    assert_int_equal(chain_tx_encode(&d, &re), 0);
    assert_int_equal(re.len, b.len);
    assert_memory_equal(re.data, b.data, b.len);
    util_buf_free(&re);
    util_buf_free(&b);
    chain_tx_free(&d);
}

static void test_codecs(void **state)
{
    (void)state;
    const chain_genesis *g = fx_devnet();
    chain_tx d = deposit(g, 7, 1234, 3, 5000);
    roundtrip(&d);
    assert_string_equal(chain_tx_type_name(CHAIN_TX_DEPOSIT), "deposit");
    assert_string_equal(chain_tx_type_name(CHAIN_TX_WITHDRAW), "withdraw");
    assert_int_equal(chain_tx_intrinsic_gas(&d), 0);
    assert_int_equal(chain_tx_value(&d), 0);
    /* The body: 8 + 32 + 32 + 4 + 20 + 20 + 8 bytes. */
    assert_int_equal(d.size, 1 + 1 + strlen(g->chain_id) + 1 + 32 + 24 + 124 + 64);

    chain_tx w = withdraw(g, 0, 0, 77, 0x42);
    roundtrip(&w);
    assert_int_equal(chain_tx_intrinsic_gas(&w), CHAIN_GAS_WITHDRAW);
    assert_int_equal(chain_tx_value(&w), 77);
    uint64_t cost;
    assert_int_equal(chain_tx_max_cost(&w, &cost), 0);
    assert_int_equal(cost, 77 + CHAIN_GAS_WITHDRAW);

    /* Every envelope field of a deposit must be zero, on decode and finalize. */
    util_err err = {0};
    chain_tx bad = d;
    bad.sender[5] = 1;
    expect_decode_refused(&bad, "must be zero");
    assert_int_equal(chain_tx_finalize(&bad, &err), UTIL_EINVAL);
    bad = d;
    bad.gas_limit = 1;
    expect_decode_refused(&bad, "must be zero");
    bad = d;
    bad.gas_price = 1;
    expect_decode_refused(&bad, "must be zero");
    bad = d;
    bad.sig[63] = 1;
    expect_decode_refused(&bad, "must be zero");
    bad = d;
    bad.body.deposit.amount = 0;
    expect_decode_refused(&bad, "deposit amount is zero");
    assert_int_equal(chain_tx_finalize(&bad, &err), UTIL_EINVAL);
    /* A deposit cannot be signed. */
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    bad = d;
    assert_int_equal(chain_tx_sign(&bad, &kp, g->hash, &err), UTIL_EINVAL);

    bad = w;
    memset(bad.body.withdraw.l1_recipient, 0, 20);
    expect_decode_refused(&bad, "zero L1 address");
    assert_int_equal(chain_tx_finalize(&bad, &err), UTIL_EINVAL);
    bad = w;
    bad.body.withdraw.amount = 0;
    expect_decode_refused(&bad, "withdraw amount is zero");
    /* Truncated bodies. */
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_tx_encode(&w, &b), 0);
    for (size_t cut = 1; cut < 30; cut++) {
        chain_tx x;
        assert_int_not_equal(chain_tx_decode(&x, b.data, b.len - 64 - cut, &err), 0);
    }
    util_buf_free(&b);

    /* The state entries. */
    chain_bridge_state s = {1, 2, 3, 4, 5, {0}}, s2;
    memset(s.withdrawals_root, 0xab, 32);
    uint8_t e[CHAIN_BRIDGE_ENTRY_LEN];
    chain_bridge_encode(&s, e);
    assert_int_equal(chain_bridge_decode(&s2, e, sizeof e, &err), 0);
    assert_memory_equal(&s, &s2, sizeof s);
    assert_int_equal(chain_bridge_decode(&s2, e, sizeof e - 1, &err), UTIL_EIO);
    chain_withdrawal wd = {.id = 9, .amount = 10}, wd2;
    memset(wd.sender.b, 1, 20);
    memset(wd.l1_recipient, 2, 20);
    uint8_t we[CHAIN_WITHDRAWAL_LEN];
    chain_withdrawal_encode(&wd, we);
    assert_int_equal(chain_withdrawal_decode(&wd2, we, sizeof we, &err), 0);
    assert_memory_equal(&wd, &wd2, sizeof wd);
    assert_int_equal(chain_withdrawal_decode(&wd2, we, 55, &err), UTIL_EIO);
}

/* --- withdrawals ----------------------------------------------------------- */

static void expect_proof(nfx_node *n, const chain_withdrawal *w, uint64_t height)
{
    chain_smt_proof *p = malloc(sizeof *p);
    assert_non_null(p);
    uint8_t root[32], path[32], val[CHAIN_WITHDRAWAL_LEN], vh[32], want[32];
    util_err err = {0};
    if (chain_withdrawal_prove(n->st, w->id, height, p, root, &err))
        fail_msg("prove %llu at %llu: %s", (unsigned long long)w->id, (unsigned long long)height,
                 err.msg);
    assert_int_equal(chain_bridge_wroot_at(n->st, height, want, &err), 0);
    assert_memory_equal(root, want, 32);
    chain_withdrawal_path(path, w->id);
    chain_withdrawal_encode(w, val);
    chain_sha256(vh, val, sizeof val);
    if (chain_smt_verify(root, path, vh, p, &err)) fail_msg("verify: %s", err.msg);
    free(p);
}

static void test_withdraw(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), NULL);
    util_err err = {0};
    chain_withdrawal ws[4];
    uint8_t r[32];
    assert_int_equal(chain_bridge_wroot_at(n.st, 0, r, &err), 0);
    assert_int_equal(chain_bridge_wroot_at(n.st, 1, r, &err), UTIL_ENOTFOUND);

    /* Block 1: one withdrawal. */
    uint64_t b0 = balance(&n, 0);
    chain_tx w0 = withdraw(n.g, 0, 0, 1000, 0x42);
    pool_add(&n, &w0);
    chain_block b;
    nfx_produce(&n, &b, NULL);
    chain_block_free(&b);
    assert_true(balance(&n, 0) == b0 - 1000 - FEE_W);
    chain_bridge_state s = bridge(&n);
    assert_int_equal(s.next_withdrawal, 1);
    assert_int_equal(s.burned, 1000);
    uint64_t h;
    uint8_t txid[32];
    assert_int_equal(chain_withdrawal_get(n.st, 0, &ws[0], &h, txid, &err), 0);
    assert_int_equal(h, 1);
    assert_memory_equal(txid, w0.id, 32);
    assert_int_equal(ws[0].amount, 1000);
    chain_addr a0;
    fx_dev_addr(&a0, 0);
    assert_memory_equal(ws[0].sender.b, a0.b, 20);
    assert_int_equal(ws[0].l1_recipient[0], 0x42);
    uint8_t want[32];
    independent_root(ws, 1, want);
    assert_memory_equal(s.withdrawals_root, want, 32);
    assert_int_equal(chain_bridge_wroot_at(n.st, 1, r, &err), 0);
    assert_memory_equal(r, want, 32);
    chain_receipt *rs;
    size_t nr;
    receipts(&n, 1, &rs, &nr);
    assert_int_equal(rs[0].status, CHAIN_RECEIPT_OK);
    assert_int_equal(rs[0].nevents, 1);
    assert_int_equal(rs[0].events[0].len, CHAIN_WITHDRAWAL_LEN);
    free_receipts(rs, nr);

    /* Block 2: none (the root is indexed anyway). Block 3: two more, one
     * from another sender. */
    nfx_produce(&n, &b, NULL);
    chain_block_free(&b);
    assert_int_equal(chain_bridge_wroot_at(n.st, 2, r, &err), 0);
    assert_memory_equal(r, want, 32);
    chain_tx w1 = withdraw(n.g, 0, 1, 5, 0x43), w2 = withdraw(n.g, 1, 0, 7, 0x44);
    pool_add(&n, &w1);
    pool_add(&n, &w2);
    nfx_produce(&n, &b, NULL);
    assert_int_equal(b.ntx, 2);
    chain_block_free(&b);

    /* One that cannot pay (its balance went to the fee): failed, nothing
     * burned or recorded, fee and nonce taken (the pool would not take it,
     * so straight into an overlay). */
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    chain_exec_ctx ctx = chain_exec_ctx_next(n.g, chain_store_head_header(n.st), n.now, &proposer);
    chain_exec *ex = chain_exec_new(n.st, &ctx);
    chain_tx w3 = withdraw(n.g, 1, 1, balance(&n, 1), 0x45);
    chain_receipt rf;
    assert_int_equal(chain_exec_apply_tx(ex, &w3, &rf, &err), 0);
    assert_int_equal(rf.status, CHAIN_RECEIPT_FAILED);
    assert_string_equal(chain_fail_token(rf.code), "insufficient_funds");
    assert_int_equal(rf.fee, FEE_W);
    assert_int_equal(rf.nevents, 0);
    uint8_t bk[1];
    const uint8_t *bv;
    size_t bvl;
    assert_int_equal(chain_exec_get(ex, bk, chain_key_bridge(bk), &bv, &bvl, &err), 0);
    chain_bridge_state sx;
    assert_int_equal(chain_bridge_decode(&sx, bv, bvl, &err), 0);
    assert_int_equal(sx.next_withdrawal, 3);
    assert_int_equal(chain_bridge_check_block_supply(ex, &err), 0);
    chain_receipt_free(&rf);
    chain_exec_free(ex);
    chain_tx_free(&w3);

    s = bridge(&n);
    assert_int_equal(s.next_withdrawal, 3);
    assert_int_equal(s.burned, 1012);
    for (uint64_t i = 1; i < 3; i++)
        assert_int_equal(chain_withdrawal_get(n.st, i, &ws[i], NULL, NULL, &err), 0);
    assert_int_equal(chain_withdrawal_get(n.st, 3, &ws[3], NULL, NULL, &err), UTIL_ENOTFOUND);
    independent_root(ws, 3, want);
    assert_memory_equal(s.withdrawals_root, want, 32);

    /* Proofs at every height since each was recorded; none before. */
    for (uint64_t height = 1; height <= 3; height++)
        expect_proof(&n, &ws[0], height);
    expect_proof(&n, &ws[1], 3);
    expect_proof(&n, &ws[2], 3);
    chain_smt_proof *p = malloc(sizeof *p);
    assert_int_equal(chain_withdrawal_prove(n.st, 2, 2, p, r, &err), UTIL_ENOTFOUND);
    assert_int_equal(chain_withdrawal_prove(n.st, 2, 4, p, r, &err), UTIL_ENOTFOUND);
    free(p);

    /* The address history: newest first. */
    chain_bridge_ref refs[8];
    size_t nrefs;
    assert_int_equal(chain_bridge_list_by_addr(n.st, &a0, refs, 8, &nrefs, &err), 0);
    assert_int_equal(nrefs, 2);
    assert_int_equal(refs[0].kind, 'w');
    assert_int_equal(refs[0].id, 1);
    assert_int_equal(refs[0].height, 3);
    assert_int_equal(refs[1].id, 0);
    assert_int_equal(chain_bridge_list_by_addr(n.st, &a0, refs, 1, &nrefs, &err), 0);
    assert_int_equal(nrefs, 1);
    assert_int_equal(refs[0].id, 1);
    check_supply(&n);
    chain_tx_free(&w0);
    nfx_close(&n);
}

/* Finishing twice, or again after more changes, gives the root of the
 * final content: the tree always starts from the committed root. */
static void test_finish_idempotent(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), NULL);
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    chain_exec_ctx ctx = chain_exec_ctx_next(n.g, chain_store_head_header(n.st), n.now, &proposer);
    chain_exec *ex = chain_exec_new(n.st, &ctx);
    assert_non_null(ex);
    util_err err = {0};
    chain_tx w0 = withdraw(n.g, 2, 0, 10, 0x42), w1 = withdraw(n.g, 2, 1, 11, 0x42);
    chain_receipt r0, r1;
    assert_int_equal(chain_exec_apply_tx(ex, &w0, &r0, &err), 0);
    uint8_t a[32], b[32], c[32];
    assert_int_equal(chain_exec_finish(ex, a, &err), 0);
    assert_int_equal(chain_exec_finish(ex, b, &err), 0);
    assert_memory_equal(a, b, 32);
    assert_int_equal(chain_exec_apply_tx(ex, &w1, &r1, &err), 0);
    assert_int_equal(chain_exec_finish(ex, b, &err), 0);
    assert_memory_not_equal(a, b, 32);
    /* The same two withdrawals in a fresh overlay, finished once. */
    chain_exec *ex2 = chain_exec_new(n.st, &ctx);
    chain_receipt r2, r3;
    assert_int_equal(chain_exec_apply_tx(ex2, &w0, &r2, &err), 0);
    assert_int_equal(chain_exec_apply_tx(ex2, &w1, &r3, &err), 0);
    assert_int_equal(chain_exec_finish(ex2, c, &err), 0);
    assert_memory_equal(b, c, 32);
    chain_receipt_free(&r0);
    chain_receipt_free(&r1);
    chain_receipt_free(&r2);
    chain_receipt_free(&r3);
    chain_exec_free(ex);
    chain_exec_free(ex2);
    nfx_close(&n);
}

/* --- deposits ------------------------------------------------------------- */

static void test_deposit_mint(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), NULL);
    util_err err = {0};
    uint64_t b5 = balance(&n, 5), b6 = balance(&n, 6);
    chain_tx d[2] = {deposit(n.g, 0, 100, 5, 1000), deposit(n.g, 1, 101, 6, 2000)};
    chain_block b;
    assert_int_equal(produce_x(&n, d, 2, 0, &b), 1);
    assert_int_equal(b.ntx, 2);
    chain_block_free(&b);
    assert_true(balance(&n, 5) == b5 + 1000);
    assert_true(balance(&n, 6) == b6 + 2000);
    chain_bridge_state s = bridge(&n);
    assert_int_equal(s.next_deposit, 2);
    assert_int_equal(s.minted, 3000);
    assert_int_equal(s.last_deposit_l1_block, 101);
    chain_receipt *rs;
    size_t nr;
    receipts(&n, 1, &rs, &nr);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(rs[i].status, CHAIN_RECEIPT_OK);
        assert_int_equal(rs[i].gas_used, 0);
        assert_int_equal(rs[i].fee, 0);
        assert_int_equal(rs[i].nevents, 1);
    }
    free_receipts(rs, nr);
    uint64_t h;
    uint8_t txid[32];
    assert_int_equal(chain_deposit_find(n.st, 1, &h, txid, &err), 0);
    assert_int_equal(h, 1);
    assert_memory_equal(txid, d[1].id, 32);
    assert_int_equal(chain_deposit_find(n.st, 2, &h, txid, &err), UTIL_ENOTFOUND);
    chain_bridge_ref refs[4];
    size_t nrefs;
    chain_addr a5;
    fx_dev_addr(&a5, 5);
    assert_int_equal(chain_bridge_list_by_addr(n.st, &a5, refs, 4, &nrefs, &err), 0);
    assert_int_equal(nrefs, 1);
    assert_int_equal(refs[0].kind, 'd');
    assert_int_equal(refs[0].id, 0);
    uint64_t th;
    uint32_t ti;
    assert_int_equal(chain_store_tx_location(n.st, d[1].id, &th, &ti, &err), 0);
    assert_int_equal(th, 1);
    assert_int_equal(ti, 1);
    check_supply(&n);

    /* An amount that overflows the recipient's balance: a failed receipt,
     * nothing minted, the nonce consumed. */
    chain_tx o = deposit(n.g, 2, 101, 5, UINT64_MAX - 10);
    assert_int_equal(produce_x(&n, &o, 1, 0, &b), 1);
    chain_block_free(&b);
    receipts(&n, 2, &rs, &nr);
    assert_int_equal(rs[0].status, CHAIN_RECEIPT_FAILED);
    assert_string_equal(chain_fail_token(rs[0].code), "balance_overflow");
    assert_int_equal(rs[0].fee, 0);
    free_receipts(rs, nr);
    s = bridge(&n);
    assert_int_equal(s.next_deposit, 3);
    assert_int_equal(s.minted, 3000);
    assert_true(balance(&n, 5) == b5 + 1000);
    assert_int_equal(chain_deposit_find(n.st, 2, &h, txid, &err), 0);
    check_supply(&n);
    nfx_close(&n);
}

typedef struct addr_seen {
    const uint8_t *want;
    int found;
} addr_seen;

static int on_addr_tx(void *ctx, uint64_t height, uint32_t index, const uint8_t txid[32])
{
    (void)height, (void)index;
    addr_seen *s = ctx;
    if (memcmp(txid, s->want, 32) == 0) s->found = 1;
    return 0;
}

static void test_deposit_tx_index(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), NULL);
    util_err err = {0};
    chain_tx d = deposit(n.g, 0, 1, 7, 50);
    chain_block b;
    assert_int_equal(produce_x(&n, &d, 1, 0, &b), 1);
    chain_block_free(&b);
    chain_addr a7;
    fx_dev_addr(&a7, 7);
    addr_seen s = {.want = d.id};
    assert_int_equal(chain_store_addr_txs(n.st, &a7, 0, 0, 0, 100, on_addr_tx, &s, &err), 0);
    assert_int_equal(s.found, 1);
    /* Not under the zero key's address. */
    s.found = 0;
    assert_int_equal(chain_store_addr_txs(n.st, &d.from, 0, 0, 0, 100, on_addr_tx, &s, &err), 0);
    assert_int_equal(s.found, 0);
    nfx_close(&n);
}

/* --- block rules ------------------------------------------------------------ */

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)len + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* The seed corpus holds valid bridge transactions and a block of them (so
 * the fuzzers start inside the new decoders), and the RPC renders every
 * body field. */
static void test_seeds_and_json(void **state)
{
    (void)state;
    size_t n;
    util_err err = {0};
    chain_tx tx[2];
    const char *names[2] = {OL_SOURCE_DIR "/tests/fuzz/corpus/fuzz_tx_decode/deposit",
                            OL_SOURCE_DIR "/tests/fuzz/corpus/fuzz_tx_decode/withdraw"};
    for (int i = 0; i < 2; i++) {
        uint8_t *p = read_all(names[i], &n);
        if (chain_tx_decode(&tx[i], p, n, &err)) fail_msg("%s: %s", names[i], err.msg);
        free(p);
    }
    assert_int_equal(tx[0].type, CHAIN_TX_DEPOSIT);
    assert_int_equal(tx[1].type, CHAIN_TX_WITHDRAW);
    uint8_t *p = read_all(OL_SOURCE_DIR "/tests/fuzz/corpus/fuzz_block_decode/block_bridge", &n);
    chain_block b;
    if (chain_block_decode(&b, p, n, &err)) fail_msg("block_bridge: %s", err.msg);
    free(p);
    assert_int_equal(b.ntx, 2);
    assert_memory_equal(b.txs[0].id, tx[0].id, 32);
    assert_memory_equal(b.txs[1].id, tx[1].id, 32);
    chain_block_free(&b);

    json_t *j = rpc_json_tx(&tx[0]);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "deposit");
    assert_int_equal(json_integer_value(json_object_get(j, "l1Block")), 1234);
    assert_int_equal(json_integer_value(json_object_get(j, "logIndex")), 5);
    assert_string_equal(json_string_value(json_object_get(j, "amount")), "1000000000");
    assert_string_equal(json_string_value(json_object_get(j, "l1From")),
                        "0x1111111111111111111111111111111111111111");
    assert_non_null(json_string_value(json_object_get(j, "l1BlockHash")));
    assert_non_null(json_string_value(json_object_get(j, "l1TxHash")));
    assert_non_null(json_string_value(json_object_get(j, "to")));
    json_decref(j);
    j = rpc_json_tx(&tx[1]);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "withdraw");
    assert_string_equal(json_string_value(json_object_get(j, "amount")), "777");
    assert_string_equal(json_string_value(json_object_get(j, "l1Recipient")),
                        "0x4242424242424242424242424242424242424242");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codecs),
        cmocka_unit_test(test_withdraw),
        cmocka_unit_test(test_finish_idempotent),
        cmocka_unit_test(test_deposit_mint),
        cmocka_unit_test(test_deposit_tx_index),
        cmocka_unit_test(test_seeds_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
