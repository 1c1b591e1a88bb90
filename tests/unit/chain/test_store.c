/* Store and state execution on a real LevelDB in a temporary directory:
 * genesis, transfers, receipts, invalid transactions, commit atomicity,
 * reopening, and proofs against the committed root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/contract.h"
#include "chain/crypto/hash.h"
#include "chain/state/state.h"
#include "chain/state/store.h"

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-store-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_rm_tree(g_dir);
    return 0;
}

static chain_tx transfer(uint32_t from, const chain_addr *to, uint64_t amount, uint64_t nonce)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, from), 0);
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", fx_devnet()->chain_id);
    tx.type = CHAIN_TX_TRANSFER;
    tx.nonce = nonce;
    tx.gas_limit = CHAIN_GAS_TRANSFER;
    tx.gas_price = 2;
    tx.body.transfer.to = *to;
    tx.body.transfer.amount = amount;
    util_err err = {0};
    assert_int_equal(chain_tx_sign(&tx, &kp, fx_devnet()->hash, &err), 0);
    return tx;
}

static chain_store *open_store(void)
{
    chain_store *st;
    util_err err = {0};
    assert_int_equal(chain_store_open(&st, g_dir, &err), 0);
    assert_int_equal(chain_store_init_genesis(st, fx_devnet(), &err), 0);
    return st;
}

/* Executes txs into a block on top of the head and commits it. */
static void make_block(chain_store *st, chain_tx *txs, size_t n, chain_receipt *rs, int expect_rc)
{
    const chain_header *parent = chain_store_head_header(st);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", fx_devnet()->chain_id);
    b.h.height = parent->height + 1;
    chain_store_head_id(st, b.h.parent);
    b.h.time_ms = parent->time_ms + 1000;
    fx_dev_addr(&b.h.proposer, 1000);
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = b.h.height,
                          .time_ms = b.h.time_ms,
                          .proposer = b.h.proposer,
                          .min_gas_price = 1};
    chain_exec *ex = chain_exec_new(st, &ctx);
    assert_non_null(ex);
    util_err err = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(chain_exec_apply_tx(ex, &txs[i], &rs[i], &err), 0);
    assert_int_equal(chain_exec_finish(ex, b.h.state_root, &err), 0);
    b.ntx = n;
    b.txs = txs;
    chain_block_tx_root(&b, b.h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    assert_int_equal(chain_store_commit_block(st, &b, rs, ex, &c, &err), expect_rc);
    chain_exec_free(ex);
}

/* A test env's randomness: counts its calls, fails when asked to. */
typedef struct rnd_env {
    int calls, fail;
} rnd_env;

static int counted_random(void *ctx, void *out, size_t n, util_err *err)
{
    rnd_env *r = ctx;
    r->calls++;
    if (r->fail) return util_err_set(err, UTIL_EIO, "no entropy");
    memset(out, 0x33, n);
    return 0;
}

/* What the store does outside LevelDB goes through its env: the randomness
 * of the code cache's seed is drawn from it, and an env whose randomness
 * fails still opens a working store (the seed only resists hash flooding). */
static void test_env(void **state)
{
    (void)state;
    for (int fail = 0; fail < 2; fail++) {
        rnd_env r = {.fail = fail};
        util_env env = *util_env_default();
        env.ctx = &r;
        env.random = counted_random;
        chain_store_opts opts = {.env = &env};
        chain_store *st;
        util_err err = {0};
        assert_int_equal(chain_store_open_opts(&st, g_dir, &opts, &err), 0);
        assert_int_equal(r.calls, 1);
        assert_int_equal(chain_store_init_genesis(st, fx_devnet(), &err), 0);
        chain_addr a;
        chain_account acc;
        fx_dev_addr(&a, 3);
        assert_int_equal(chain_store_get_account(st, &a, &acc, NULL), 0);
        assert_true(acc.balance == 10000000000000000ull);
        chain_store_close(st);
    }
}

static void test_genesis_state(void **state)
{
    (void)state;
    chain_store *st = open_store();
    assert_int_equal(chain_store_height(st), 0);
    chain_addr a;
    chain_account acc;
    fx_dev_addr(&a, 3);
    assert_int_equal(chain_store_get_account(st, &a, &acc, NULL), 0);
    assert_true(acc.balance == 10000000000000000ull);
    assert_true(acc.nonce == 0);
    uint8_t gh[32];
    chain_store_genesis_hash(st, gh);
    assert_memory_equal(gh, fx_devnet()->hash, 32);
    /* Second init on the same store is a no-op. */
    util_err err = {0};
    assert_int_equal(chain_store_init_genesis(st, fx_devnet(), &err), 0);
    chain_store_close(st);
}

static void test_transfer_and_reopen(void **state)
{
    (void)state;
    chain_store *st = open_store();
    chain_addr to, prop, from;
    fx_dev_addr(&to, 1);
    fx_dev_addr(&from, 0);
    fx_dev_addr(&prop, 1000);
    chain_tx txs[3] = {transfer(0, &to, 5, 0), transfer(0, &to, 7, 1),
                       /* more than the balance: included, failed, fee charged */
                       transfer(0, &to, 20000000000000000ull, 2)};
    chain_receipt rs[3];
    make_block(st, txs, 3, rs, 0);
    assert_int_equal(rs[0].status, CHAIN_RECEIPT_OK);
    assert_int_equal(rs[1].status, CHAIN_RECEIPT_OK);
    assert_int_equal(rs[2].status, CHAIN_RECEIPT_FAILED);
    assert_non_null(strstr(rs[2].error, "insufficient_funds: "));
    assert_true(rs[0].fee == 2000 && rs[0].gas_used == CHAIN_GAS_TRANSFER);

    chain_account a;
    assert_int_equal(chain_store_get_account(st, &from, &a, NULL), 0);
    assert_true(a.balance == 10000000000000000ull - 12 - 3 * 2000);
    assert_true(a.nonce == 3);
    assert_int_equal(chain_store_get_account(st, &prop, &a, NULL), 0);
    assert_true(a.balance == 6000);

    uint8_t root[32], id[32];
    memcpy(root, chain_store_head_header(st)->state_root, 32);
    chain_store_head_id(st, id);
    chain_store_close(st);

    /* Reopen: same head, same state, receipts and tx index. */
    util_err err = {0};
    assert_int_equal(chain_store_open(&st, g_dir, &err), 0);
    assert_int_equal(chain_store_height(st), 1);
    assert_memory_equal(chain_store_head_header(st)->state_root, root, 32);
    assert_int_equal(chain_store_get_account(st, &to, &a, NULL), 0);
    assert_true(a.balance == 10000000000000000ull + 12);
    uint64_t h;
    uint32_t idx;
    assert_int_equal(chain_store_tx_location(st, txs[2].id, &h, &idx, &err), 0);
    assert_true(h == 1 && idx == 2);
    chain_receipt *got;
    size_t n;
    assert_int_equal(chain_store_get_receipts(st, id, &got, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(got[2].status, CHAIN_RECEIPT_FAILED);
    for (size_t i = 0; i < n; i++)
        chain_receipt_free(&got[i]);
    free(got);
    chain_block b;
    assert_int_equal(chain_store_get_block(st, id, &b, NULL, &err), 0);
    assert_int_equal(b.ntx, 3);
    assert_memory_equal(b.txs[1].id, txs[1].id, 32);
    chain_block_free(&b);

    /* Proofs against the committed root: present and absent. */
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN], path[32], val[CHAIN_ACCOUNT_VALUE_LEN], vh[32];
    chain_smt_proof *p = malloc(sizeof *p);
    chain_account_key(key, &to);
    chain_sha256(path, key, sizeof key);
    assert_int_equal(chain_store_prove(st, key, sizeof key, p, &err), 0);
    assert_int_equal(chain_store_get_account(st, &to, &a, NULL), 0);
    chain_account_encode(val, &a);
    chain_sha256(vh, val, sizeof val);
    assert_int_equal(chain_smt_verify(root, path, vh, p, &err), 0);
    assert_int_not_equal(chain_smt_verify(root, path, NULL, p, &err), 0);
    a.balance++;
    chain_account_encode(val, &a);
    chain_sha256(vh, val, sizeof val);
    assert_int_not_equal(chain_smt_verify(root, path, vh, p, &err), 0);
    chain_addr nobody;
    memset(&nobody, 0x42, sizeof nobody);
    chain_account_key(key, &nobody);
    chain_sha256(path, key, sizeof key);
    assert_int_equal(chain_store_prove(st, key, sizeof key, p, &err), 0);
    assert_int_equal(chain_smt_verify(root, path, NULL, p, &err), 0);
    free(p);
    chain_store_close(st);
}

static void test_invalid_txs_change_nothing(void **state)
{
    (void)state;
    chain_store *st = open_store();
    chain_addr to;
    fx_dev_addr(&to, 2);
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = 1,
                          .min_gas_price = 1};
    fx_dev_addr(&ctx.proposer, 1000);
    chain_exec *ex = chain_exec_new(st, &ctx);
    uint8_t root0[32], root1[32];
    util_err err = {0};
    assert_int_equal(chain_exec_finish(ex, root0, &err), 0);
    assert_memory_equal(root0, chain_store_head_header(st)->state_root, 32);

    chain_receipt r;
    chain_tx bad_nonce = transfer(0, &to, 1, 5);
    assert_int_equal(chain_exec_apply_tx(ex, &bad_nonce, &r, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "nonce"));

    chain_tx wrong_chain = transfer(0, &to, 1, 0);
    snprintf(wrong_chain.chain_id, sizeof wrong_chain.chain_id, "other-chain");
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    assert_int_equal(chain_tx_sign(&wrong_chain, &kp, fx_devnet()->hash, &err), 0);
    assert_int_equal(chain_exec_apply_tx(ex, &wrong_chain, &r, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "wrong chain"));

    chain_tx bad_sig = transfer(0, &to, 1, 0);
    bad_sig.sig[5] ^= 1;
    assert_int_equal(chain_exec_apply_tx(ex, &bad_sig, &r, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "signature"));

    chain_tx low_gas = transfer(0, &to, 1, 0);
    low_gas.gas_limit = 10;
    assert_int_equal(chain_tx_sign(&low_gas, &kp, fx_devnet()->hash, &err), 0);
    assert_int_equal(chain_exec_apply_tx(ex, &low_gas, &r, &err), UTIL_EINVAL);

    /* An unfunded sender cannot pay for gas. */
    chain_tx broke = transfer(77, &to, 1, 0);
    assert_int_equal(chain_exec_apply_tx(ex, &broke, &r, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "insufficient funds"));

    /* Overflow of gas_limit * gas_price. */
    chain_tx ovf = transfer(0, &to, 1, 0);
    ovf.gas_limit = UINT64_MAX / 2;
    ovf.gas_price = 3;
    assert_int_equal(chain_tx_sign(&ovf, &kp, fx_devnet()->hash, &err), 0);
    assert_int_equal(chain_exec_apply_tx(ex, &ovf, &r, &err), UTIL_EINVAL);

    assert_int_equal(chain_exec_finish(ex, root1, &err), 0);
    assert_memory_equal(root0, root1, 32);
    chain_exec_free(ex);
    chain_store_close(st);
}

/* A signature the mempool verified is not verified again when the block
 * executes: sig_checked is trusted (only the pool and the batch verifier set it). */
static void test_checked_signature_not_reverified(void **state)
{
    (void)state;
    chain_store *st = open_store();
    chain_addr to;
    fx_dev_addr(&to, 2);
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = 1,
                          .min_gas_price = 1};
    fx_dev_addr(&ctx.proposer, 1000);
    chain_exec *ex = chain_exec_new(st, &ctx);
    chain_receipt r;
    util_err err = {0};
    chain_tx tx = transfer(0, &to, 1, 0);
    tx.sig[0] ^= 1; /* no longer a valid signature */
    tx.sig_checked = 0;
    assert_int_equal(chain_exec_apply_tx(ex, &tx, &r, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "signature"));
    tx.sig_checked = 1; /* as if the pool had verified it */
    assert_int_equal(chain_exec_apply_tx(ex, &tx, &r, &err), 0);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    chain_receipt_free(&r);
    chain_exec_free(ex);
    chain_store_close(st);
}

static void test_commit_checks(void **state)
{
    (void)state;
    chain_store *st = open_store();
    chain_addr to;
    fx_dev_addr(&to, 4);
    const chain_header *parent = chain_store_head_header(st);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", fx_devnet()->chain_id);
    b.h.height = 1;
    chain_store_head_id(st, b.h.parent);
    b.h.time_ms = parent->time_ms + 1;
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = 1,
                          .min_gas_price = 1};
    chain_exec *ex = chain_exec_new(st, &ctx);
    chain_tx tx = transfer(0, &to, 1, 0);
    chain_receipt r;
    util_err err = {0};
    chain_commit c;
    memset(&c, 0, sizeof c);
    assert_int_equal(chain_exec_apply_tx(ex, &tx, &r, &err), 0);
    b.ntx = 1;
    b.txs = &tx;
    /* Not finished: refused. */
    assert_int_not_equal(chain_store_commit_block(st, &b, &r, ex, &c, &err), 0);
    assert_int_equal(chain_exec_finish(ex, b.h.state_root, &err), 0);
    /* Wrong state root: refused, nothing written. */
    b.h.state_root[0] ^= 1;
    assert_int_not_equal(chain_store_commit_block(st, &b, &r, ex, &c, &err), 0);
    b.h.state_root[0] ^= 1;
    /* Wrong height and wrong parent: refused. */
    b.h.height = 2;
    assert_int_not_equal(chain_store_commit_block(st, &b, &r, ex, &c, &err), 0);
    b.h.height = 1;
    b.h.parent[0] ^= 1;
    assert_int_not_equal(chain_store_commit_block(st, &b, &r, ex, &c, &err), 0);
    b.h.parent[0] ^= 1;
    assert_int_equal(chain_store_height(st), 0);
    assert_int_equal(chain_store_commit_block(st, &b, &r, ex, &c, &err), 0);
    assert_int_equal(chain_store_height(st), 1);
    chain_exec_free(ex);
    chain_store_close(st);
}

static void test_other_genesis_refused(void **state)
{
    (void)state;
    chain_store *st = open_store();
    chain_store_close(st);
    chain_genesis g = *fx_devnet();
    g.hash[0] ^= 1;
    util_err err = {0};
    assert_int_equal(chain_store_open(&st, g_dir, &err), 0);
    assert_int_not_equal(chain_store_init_genesis(st, &g, &err), 0);
    assert_non_null(strstr(err.msg, "another chain"));
    chain_store_close(st);
}

static int no_get(void *ctx, const uint8_t hash[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    (void)ctx, (void)hash, (void)out;
    return UTIL_ENOTFOUND; /* a tree built from the empty root reads nothing */
}

static void no_put(void *ctx, const uint8_t hash[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    (void)ctx, (void)hash, (void)node;
}

static void add_update(chain_store *st, const chain_addr *a, chain_smt_update *u)
{
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN], val[CHAIN_ACCOUNT_VALUE_LEN];
    chain_account acc;
    assert_int_equal(chain_store_get_account(st, a, &acc, NULL), 0);
    assert_true(acc.balance > 0);
    chain_account_key(key, a);
    chain_account_encode(val, &acc);
    chain_sha256(u->path, key, sizeof key);
    chain_sha256(u->value_hash, val, sizeof val);
}

static void test_many_accounts_root_matches_rebuild(void **state)
{
    (void)state;
    /* Several blocks touching many accounts; the final root must equal the
     * root of a fresh tree built from the final balances in one batch. */
    chain_store *st = open_store();
    enum { N = 300 };
    chain_tx *txs = calloc(N, sizeof *txs);
    chain_receipt *rs = calloc(N, sizeof *rs);
    for (int blk = 0; blk < 3; blk++) {
        for (int i = 0; i < N; i++) {
            chain_addr to;
            memset(&to, 0, sizeof to);
            to.b[0] = (uint8_t)i;
            to.b[1] = (uint8_t)(i >> 8);
            to.b[2] = (uint8_t)blk;
            txs[i] = transfer((uint32_t)(i % 10), &to, 1000 + (uint64_t)i,
                              (uint64_t)(blk * N / 10 + i / 10));
        }
        make_block(st, txs, N, rs, 0);
        for (int i = 0; i < N; i++)
            assert_int_equal(rs[i].status, CHAIN_RECEIPT_OK);
    }
    assert_int_equal(chain_store_height(st), 3);

    /* Rebuild from scratch: every account that exists, in one batch. */
    chain_smt_update *ups = calloc(3 * N + 11 + fx_devnet()->ncontracts, sizeof *ups);
    size_t nu = 0;
    /* The genesis contracts' code entries. */
    for (size_t i = 0; i < fx_devnet()->ncontracts; i++) {
        uint8_t k[21];
        chain_key_code(k, &fx_devnet()->contracts[i].addr);
        chain_sha256(ups[nu].path, k, sizeof k);
        chain_sha256(ups[nu++].value_hash, fx_devnet()->contracts[i].code,
                     fx_devnet()->contracts[i].len);
    }
    for (uint32_t i = 0; i <= 10; i++) {
        chain_addr a;
        fx_dev_addr(&a, i == 10 ? 1000 : i);
        add_update(st, &a, &ups[nu++]);
    }
    for (int blk = 0; blk < 3; blk++)
        for (int i = 0; i < N; i++) {
            chain_addr a;
            memset(&a, 0, sizeof a);
            a.b[0] = (uint8_t)i;
            a.b[1] = (uint8_t)(i >> 8);
            a.b[2] = (uint8_t)blk;
            add_update(st, &a, &ups[nu++]);
        }
    uint8_t zero[32] = {0}, root[32];
    util_err err = {0};
    chain_smt_store mem = {.ctx = NULL, .get = no_get, .put = no_put};
    assert_int_equal(chain_smt_apply(&mem, zero, ups, nu, root, &err), 0);
    assert_memory_equal(root, chain_store_head_header(st)->state_root, 32);
    free(ups);
    free(txs);
    free(rs);
    chain_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_genesis_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transfer_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_txs_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checked_signature_not_reverified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_genesis_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_accounts_root_matches_rebuild, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
