/* What a contract run costs, through chain_exec_apply_tx on a real store:
 * the run and code-load gas (CHAIN_GAS_VM_RUN + CHAIN_GAS_CODE_LOAD_PER_BYTE
 * per code byte) and sstore's per-byte gas, in exact numbers; the same gas
 * with a cold and a warm code cache (nodes' caches differ, gas must not);
 * and stored code that no longer verifies refused although another program
 * is cached for the same contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/state/codecache.h"
#include "chain/exec/contract.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "vm/isa.h"
#include "vm/vm.h"

#define PROPOSER 1000

static char g_dir[256];
static chain_store *g_st;
static uint64_t g_nonce[8];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-contract-gas-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    util_err err = {0};
    assert_int_equal(chain_store_open(&g_st, g_dir, &err), 0);
    assert_int_equal(chain_store_init_genesis(g_st, fx_devnet(), &err), 0);
    memset(g_nonce, 0, sizeof g_nonce);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    chain_store_close(g_st);
    fx_rm_tree(g_dir);
    return 0;
}

/* The one place that signs: for the devnet genesis. */
static void sign(chain_tx *tx, uint32_t dev)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, dev), 0);
    util_err err = {0};
    if (chain_tx_sign(tx, &kp, fx_devnet()->hash, &err)) fail_msg("sign: %s", err.msg);
}

static chain_tx mk(uint32_t dev, uint8_t type, uint64_t gas_limit)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", fx_devnet()->chain_id);
    tx.type = type;
    tx.nonce = g_nonce[dev]++;
    tx.gas_limit = gas_limit;
    tx.gas_price = 1;
    return tx;
}

static chain_exec *new_exec(void)
{
    const chain_header *parent = chain_store_head_header(g_st);
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = parent->height + 1,
                          .time_ms = parent->time_ms + 1000,
                          .min_gas_price = 1};
    fx_dev_addr(&ctx.proposer, PROPOSER);
    chain_exec *ex = chain_exec_new(g_st, &ctx);
    assert_non_null(ex);
    return ex;
}

/* Commits the block ex ran tx in. tx is freed. */
static void commit(chain_exec *ex, chain_tx *tx, chain_receipt *r)
{
    const chain_header *parent = chain_store_head_header(g_st);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", fx_devnet()->chain_id);
    b.h.height = parent->height + 1;
    chain_store_head_id(g_st, b.h.parent);
    b.h.time_ms = parent->time_ms + 1000;
    b.h.proposer = chain_exec_context(ex)->proposer;
    util_err err = {0};
    assert_int_equal(chain_exec_finish(ex, b.h.state_root, &err), 0);
    b.ntx = 1;
    b.txs = tx;
    chain_block_tx_root(&b, b.h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    if (chain_store_commit_block(g_st, &b, r, ex, &c, &err)) fail_msg("commit: %s", err.msg);
    chain_exec_free(ex);
    chain_tx_free(tx);
}

static void run_block(chain_tx *tx, chain_receipt *r)
{
    chain_exec *ex = new_exec();
    util_err err = {0};
    if (chain_exec_apply_tx(ex, tx, r, &err)) fail_msg("apply: %s", err.msg);
    commit(ex, tx, r);
}

static chain_addr deploy(const char *src, size_t *code_len)
{
    uint8_t *code;
    size_t len;
    util_err err = {0};
    if (vm_asm_source("test", src, strlen(src), &code, &len, &err)) fail_msg("asm: %s", err.msg);
    chain_tx tx = mk(0, CHAIN_TX_DEPLOY, CHAIN_GAS_DEPLOY + CHAIN_GAS_DEPLOY_PER_BYTE * len);
    tx.body.deploy.code = code;
    tx.body.deploy.len = (uint32_t)len;
    sign(&tx, 0);
    chain_receipt r;
    run_block(&tx, &r);
    if (r.status != CHAIN_RECEIPT_OK) fail_msg("deploy: %s", r.error);
    chain_addr a = r.created;
    chain_receipt_free(&r);
    if (code_len) *code_len = len;
    return a;
}

static chain_tx mk_call(uint32_t dev, const chain_addr *to, uint64_t gas_limit)
{
    chain_tx tx = mk(dev, CHAIN_TX_CALL, gas_limit);
    tx.body.call.contract = *to;
    sign(&tx, dev);
    return tx;
}

static void call(uint32_t dev, const chain_addr *to, uint64_t gas_limit, chain_receipt *r)
{
    chain_tx tx = mk_call(dev, to, gas_limit);
    run_block(&tx, r);
}

static void readonly(const chain_addr *to, uint64_t gas_limit, chain_receipt *r)
{
    const chain_header *h = chain_store_head_header(g_st);
    chain_exec_ctx cx = {.chain_id = fx_devnet()->chain_id,
                         .height = h->height + 1,
                         .time_ms = h->time_ms,
                         .proposer = h->proposer};
    chain_addr from;
    fx_dev_addr(&from, 5);
    util_err err = {0};
    if (chain_contract_call_readonly(g_st, &cx, &from, to, 0, NULL, 0, gas_limit, r, &err))
        fail_msg("readonly: %s", err.msg);
}

static chain_code_cache_stats stats(void)
{
    chain_code_cache_stats s;
    chain_code_cache_get_stats(chain_store_code_cache(g_st), &s);
    return s;
}

/* Writes 7 to slot 0: 6 instructions, a 64-byte blob; VM gas = ldi x3 (3) +
 * st64 (2) + sstore (2,000 + 64 bytes x 200) + stop (1) = 14,806. */
static const char STORE7[] = "ldi r1, 0\nldi r2, 64\nldi r3, 7\nst64 [r2], r3\nsys sstore\nstop\n";

static void test_constants(void **state)
{
    (void)state;
    assert_int_equal(CHAIN_GAS_VM_RUN, 2500);
    assert_int_equal(CHAIN_GAS_CODE_LOAD_PER_BYTE, 2);
    assert_int_equal(VM_GAS_SSTORE_BYTE, 200);
}

/* `stop` (a 24-byte blob): 2,000 intrinsic + 2,500 run + 2 x 24 + 1 = 4,549.
 * The sstore contract: 2,000 + 2,500 + 2 x 64 + 14,806 = 19,434. A limit one
 * gas short of the run and load gas fails before the VM starts, charging the
 * whole limit. */
static void test_exact_gas(void **state)
{
    (void)state;
    size_t len;
    chain_addr stop = deploy("stop\n", &len);
    assert_int_equal(len, 24);
    chain_receipt r;
    call(1, &stop, 100000, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    assert_int_equal(r.gas_used, 4549);
    assert_int_equal(r.fee, 4549);
    chain_receipt_free(&r);
    readonly(&stop, 100000, &r); /* no intrinsic gas */
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    assert_int_equal(r.gas_used, 2549);
    chain_receipt_free(&r);

    chain_addr st = deploy(STORE7, &len);
    assert_int_equal(len, 64);
    call(1, &st, 100000, &r);
    if (r.status != CHAIN_RECEIPT_OK) fail_msg("store: %s", r.error);
    assert_int_equal(r.gas_used, 19434);
    chain_receipt_free(&r);

    /* 4,547: one short of 2,000 + 2,548. */
    call(1, &stop, 4547, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
    assert_true(strncmp(r.error, "vm_fault: out of gas", 20) == 0);
    assert_non_null(strstr(r.error, "24 bytes of code"));
    assert_int_equal(r.gas_used, 4547);
    chain_receipt_free(&r);
    /* 4,548: the code loads, the VM has nothing left for `stop`. */
    call(1, &stop, 4548, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
    assert_true(strncmp(r.error, "vm_fault: out of gas", 20) == 0);
    assert_int_equal(r.gas_used, 4548);
    chain_receipt_free(&r);
    call(1, &stop, 4549, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    assert_int_equal(r.gas_used, 4549);
    chain_receipt_free(&r);
    /* One short of sstore's per-byte gas: nothing stored. */
    call(1, &st, 19433, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
    assert_int_equal(r.gas_used, 19433);
    chain_receipt_free(&r);
}

/* The same CALL costs the same gas with a cold and a warm cache, and with no
 * program cached at all after the cache is emptied. */
static void test_cold_warm_same_gas(void **state)
{
    (void)state;
    chain_addr st = deploy(STORE7, NULL);
    chain_code_cache_clear(chain_store_code_cache(g_st));
    chain_code_cache_stats s0 = stats();
    chain_receipt cold, warm, ro_cold, ro_warm;
    call(2, &st, 100000, &cold);
    chain_code_cache_stats s1 = stats();
    assert_int_equal(s1.misses, s0.misses + 1); /* it was cold */
    call(2, &st, 100000, &warm);
    chain_code_cache_stats s2 = stats();
    assert_int_equal(s2.hits, s1.hits + 1); /* and then warm */
    assert_int_equal(s2.misses, s1.misses);
    assert_int_equal(cold.status, CHAIN_RECEIPT_OK);
    assert_int_equal(warm.status, CHAIN_RECEIPT_OK);
    assert_int_equal(cold.gas_used, 19434);
    assert_int_equal(warm.gas_used, cold.gas_used);
    assert_int_equal(warm.fee, cold.fee);

    chain_code_cache_clear(chain_store_code_cache(g_st));
    readonly(&st, 100000, &ro_cold);
    assert_int_equal(stats().misses, s2.misses + 1);
    readonly(&st, 100000, &ro_warm);
    assert_int_equal(stats().hits, s2.hits + 1);
    assert_int_equal(ro_cold.gas_used, 19434 - CHAIN_GAS_CALL);
    assert_int_equal(ro_warm.gas_used, ro_cold.gas_used);
    chain_receipt_free(&cold);
    chain_receipt_free(&warm);
    chain_receipt_free(&ro_cold);
    chain_receipt_free(&ro_warm);
}

/* Returns 5 (ldi's immediate is the blob's bytes 20..23). */
static const char RET5[] = "ldi r1, 5\nst64 [r0], r1\nldi r3, 8\nreturn r0, r3\n";

/* Runs a CALL of `to` in a block (not committed) whose state has `code`
 * stored at `to`. */
static int call_with_code(const chain_addr *to, const uint8_t *code, size_t len, chain_receipt *r,
                          util_err *err)
{
    chain_exec *ex = new_exec();
    uint8_t k[21];
    chain_key_code(k, to);
    assert_int_equal(chain_exec_put(ex, k, sizeof k, code, len, err), 0);
    chain_tx tx = mk_call(3, to, 100000);
    g_nonce[3]--; /* the block is not committed */
    int rc = chain_exec_apply_tx(ex, &tx, r, err);
    chain_tx_free(&tx);
    chain_exec_free(ex);
    return rc;
}

/* The contract's program is cached; its stored code then changes (as a
 * corrupt store would). Code that no longer verifies is refused (the node
 * fails, it is not a receipt); code that still verifies but differs runs as
 * itself, never as the cached program. */
static void test_corrupt_code_refused(void **state)
{
    (void)state;
    size_t len;
    chain_addr c = deploy(RET5, &len);
    chain_receipt r;
    call(3, &c, 100000, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    assert_int_equal(r.ret_len, 8);
    assert_int_equal(r.ret[0], 5);
    chain_receipt_free(&r);
    assert_true(stats().entries >= 1);
    uint8_t k[21], *code = NULL;
    size_t vl = 0;
    chain_key_code(k, &c);
    assert_int_equal(chain_store_state_get(g_st, k, sizeof k, &code, &vl, NULL), 0);
    assert_int_equal(vl, len);
    assert_int_equal(code[20], 5);

    uint64_t hits = stats().hits;
    code[16] = 0xee; /* the first opcode: unknown */
    util_err err = {0};
    assert_int_equal(call_with_code(&c, code, len, &r, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "no longer verifies"));
    assert_int_equal(stats().hits, hits); /* the cached program was not used */

    code[16] = OP_LDI;
    code[20] = 6;
    memset(&err, 0, sizeof err);
    assert_int_equal(call_with_code(&c, code, len, &r, &err), 0);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    assert_int_equal(r.ret[0], 6);
    chain_receipt_free(&r);
    free(code);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants),
        cmocka_unit_test_setup_teardown(test_exact_gas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cold_warm_same_gas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_code_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
