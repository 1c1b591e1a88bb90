/* Contracts on chain, through chain_exec_apply_tx on a real LevelDB store with
 * committed blocks: the genesis contract, DEPLOY (address derivation, code
 * stored, gas), CALL (value moved, input, storage, events, return data), a
 * revert that undoes payouts and storage but charges gas, every run-time
 * fault ending the call cleanly with its fault in the receipt, code the
 * verifier rejects creating nothing, read-only calls changing nothing, and a
 * CALL to an address without code. */
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
#include "chain/exec/exec_internal.h" /* chain_default_reward_addr */
#include "chain/crypto/hash.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "vm/vm.h"

#define PROPOSER 1000
#define GAS_PRICE 3

static char g_dir[256];
static chain_store *g_st;
static uint64_t g_nonce[16];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-contract-XXXXXX");
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

static uint64_t balance(const chain_addr *a)
{
    chain_account acc;
    assert_int_equal(chain_store_get_account(g_st, a, &acc, NULL), 0);
    return acc.balance;
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
    tx.gas_price = GAS_PRICE;
    return tx;
}

static void sign(chain_tx *tx, uint32_t dev)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, dev), 0);
    util_err err = {0};
    if (chain_tx_sign(tx, &kp, fx_devnet()->hash, &err)) fail_msg("sign: %s", err.msg);
}

/* Executes one transaction in a new block on the head and commits it; r gets
 * its receipt (owned by the caller). The tx is freed. */
static void run_block(chain_tx *tx, chain_receipt *r)
{
    const chain_header *parent = chain_store_head_header(g_st);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", fx_devnet()->chain_id);
    b.h.height = parent->height + 1;
    chain_store_head_id(g_st, b.h.parent);
    b.h.time_ms = parent->time_ms + 1000;
    fx_dev_addr(&b.h.proposer, PROPOSER);
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = b.h.height,
                          .time_ms = b.h.time_ms,
                          .proposer = b.h.proposer,
                          .min_gas_price = 1};
    chain_exec *ex = chain_exec_new(g_st, &ctx);
    assert_non_null(ex);
    util_err err = {0};
    if (chain_exec_apply_tx(ex, tx, r, &err)) fail_msg("apply: %s", err.msg);
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

static uint8_t *assemble(const char *src, size_t *len)
{
    uint8_t *code;
    util_err err = {0};
    if (vm_asm_source("test", src, strlen(src), &code, len, &err)) fail_msg("asm: %s", err.msg);
    return code;
}

/* A DEPLOY of code (taken over) from dev; returns the receipt. */
static void deploy_code(uint32_t dev, uint8_t *code, size_t len, chain_receipt *r)
{
    chain_tx tx =
        mk(dev, CHAIN_TX_DEPLOY, CHAIN_GAS_DEPLOY + CHAIN_GAS_DEPLOY_PER_BYTE * (uint64_t)len);
    tx.body.deploy.code = code;
    tx.body.deploy.len = (uint32_t)len;
    sign(&tx, dev);
    run_block(&tx, r);
}

/* Deploys assembled source from dev 0 and returns the contract's address. */
static chain_addr deploy(const char *src)
{
    size_t len;
    uint8_t *code = assemble(src, &len);
    chain_receipt r;
    deploy_code(0, code, len, &r);
    if (r.status != CHAIN_RECEIPT_OK) fail_msg("deploy failed: %s", r.error);
    chain_addr a = r.created;
    chain_receipt_free(&r);
    return a;
}

static void call(uint32_t dev, const chain_addr *to, uint64_t value, const uint8_t *input,
                 size_t len, uint64_t gas_limit, chain_receipt *r)
{
    chain_tx tx = mk(dev, CHAIN_TX_CALL, gas_limit);
    tx.body.call.contract = *to;
    tx.body.call.value = value;
    if (len) {
        tx.body.call.input = malloc(len);
        assert_non_null(tx.body.call.input);
        memcpy(tx.body.call.input, input, len);
        tx.body.call.len = (uint32_t)len;
    }
    sign(&tx, dev);
    run_block(&tx, r);
}

/* Reads a storage slot of the committed state (zeros when empty). */
static void storage(const chain_addr *a, uint8_t key0, uint8_t out[32])
{
    uint8_t key[32] = {key0}, k[53], *v = NULL;
    size_t vl = 0;
    chain_key_storage(k, a, key);
    int rc = chain_store_state_get(g_st, k, sizeof k, &v, &vl, NULL);
    memset(out, 0, 32);
    if (rc == UTIL_ENOTFOUND) return;
    assert_int_equal(rc, 0);
    assert_int_equal(vl, 32);
    memcpy(out, v, 32);
    free(v);
}

static int has_code(const chain_addr *a)
{
    uint8_t k[21], *v = NULL;
    size_t vl = 0;
    chain_key_code(k, a);
    int rc = chain_store_state_get(g_st, k, sizeof k, &v, &vl, NULL);
    free(v);
    return rc == 0;
}

/* ---- the genesis contract ------------------------------------------------ */

static void test_genesis_contract(void **state)
{
    (void)state;
    chain_addr a;
    chain_default_reward_addr(&a);
    uint8_t k[21], *v = NULL;
    size_t vl = 0;
    chain_key_code(k, &a);
    assert_int_equal(chain_store_state_get(g_st, k, sizeof k, &v, &vl, NULL), 0);
    uint8_t *code;
    size_t n;
    util_err err = {0};
    if (vm_asm_file(OL_SOURCE_DIR "/genesis/contracts/proportional_split.olasm", &code, &n, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(vl, n);
    assert_memory_equal(v, code, n);
    /* Its code is part of the genesis state root. */
    chain_smt_proof proof;
    uint8_t path[32], vh[32];
    assert_int_equal(chain_store_prove(g_st, k, sizeof k, &proof, &err), 0);
    chain_sha256(path, k, sizeof k);
    chain_sha256(vh, code, n);
    assert_int_equal(
        chain_smt_verify(chain_store_head_header(g_st)->state_root, path, vh, &proof, &err), 0);
    free(v);
    free(code);
}

/* ---- DEPLOY and CALL ----------------------------------------------------- */

/* With input (32 bytes): stores it under key 01, logs it under "stored", pays
 * half of the value to a fixed payee and returns its balance (u64). Without
 * input: returns the stored value. */
static const char VAULT[] = ".data\n"
                            "topic: .ascii \"stored\"\n"
                            "       .zero 26\n"
                            "payee: .hex \"abababababababababababababababababababab\"\n"
                            ".const KEY 0x100\n"
                            ".const VAL 0x140\n"
                            ".const OUT 0x180\n"
                            ".code\n"
                            ".entry main\n"
                            "main:\n"
                            "    ldi r1, KEY\n"
                            "    ldi r2, 1\n"
                            "    st8 [r1], r2\n"
                            "    sys input_size\n"
                            "    beqz r0, get\n"
                            "    ldi r1, VAL\n"
                            "    ldi r2, 0\n"
                            "    ldi r3, 32\n"
                            "    sys input\n"
                            "    ldi r1, KEY\n"
                            "    ldi r2, VAL\n"
                            "    sys sstore\n"
                            "    ldi r1, topic\n"
                            "    ldi r2, VAL\n"
                            "    ldi r3, 32\n"
                            "    sys emit\n"
                            "    sys value\n"
                            "    ldi r3, 2\n"
                            "    divu r2, r0, r3\n"
                            "    ldi r1, payee\n"
                            "    sys pay\n"
                            "    ldi r1, OUT\n"
                            "    sys self\n"
                            "    sys balance\n"
                            "    st64 [r1], r0\n"
                            "    ldi r2, 8\n"
                            "    return r1, r2\n"
                            "get:\n"
                            "    ldi r1, KEY\n"
                            "    ldi r2, OUT\n"
                            "    sys sload\n"
                            "    ldi r1, OUT\n"
                            "    ldi r2, 32\n"
                            "    return r1, r2\n";

static void test_deploy_and_call(void **state)
{
    (void)state;
    chain_addr dev0, dev1, prop, payee;
    fx_dev_addr(&dev0, 0);
    fx_dev_addr(&dev1, 1);
    fx_dev_addr(&prop, PROPOSER);
    memset(payee.b, 0xab, CHAIN_ADDR_LEN);

    /* DEPLOY: the address is derived from the deployer and the tx's nonce,
     * the code is stored, the gas is intrinsic (20,000 + 10 per byte). */
    g_nonce[0] = 0;
    size_t len;
    uint8_t *code = assemble(VAULT, &len);
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, code, len);
    uint64_t b0 = balance(&dev0);
    chain_receipt r;
    deploy_code(0, code, len, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    chain_addr want;
    chain_contract_addr(&want, &dev0, 0);
    assert_memory_equal(r.created.b, want.b, CHAIN_ADDR_LEN);
    assert_true(r.gas_used == CHAIN_GAS_DEPLOY + CHAIN_GAS_DEPLOY_PER_BYTE * len);
    assert_true(balance(&dev0) == b0 - r.gas_used * GAS_PRICE);
    chain_receipt_free(&r);
    uint8_t k[21], *v = NULL;
    size_t vl = 0;
    chain_key_code(k, &want);
    assert_int_equal(chain_store_state_get(g_st, k, sizeof k, &v, &vl, NULL), 0);
    assert_int_equal(vl, len);
    assert_memory_equal(v, copy, len);
    free(v);
    free(copy);
    /* The derivation: SHA-256("openledger:contract" | deployer | nonce u64le). */
    uint8_t pre[19 + 20 + 8], h[32];
    memcpy(pre, "openledger:contract", 19);
    memcpy(pre + 19, dev0.b, 20);
    memset(pre + 39, 0, 8);
    chain_sha256(h, pre, sizeof pre);
    assert_memory_equal(h, want.b, CHAIN_ADDR_LEN);
    /* A second deploy of the same code gets another address (next nonce). */
    chain_addr second = deploy(VAULT);
    chain_contract_addr(&want, &dev0, 1);
    assert_memory_equal(second.b, want.b, CHAIN_ADDR_LEN);
    chain_contract_addr(&want, &dev0, 0);
    chain_addr c = want;

    /* CALL with value and input from dev1. */
    uint8_t in[32];
    for (int i = 0; i < 32; i++)
        in[i] = (uint8_t)(i + 1);
    uint64_t b1 = balance(&dev1), bp = balance(&prop);
    call(1, &c, 1000, in, sizeof in, 200000, &r);
    if (r.status != CHAIN_RECEIPT_OK) fail_msg("call: %s", r.error);
    assert_true(r.gas_used > CHAIN_GAS_CALL);
    assert_true(r.gas_used < 200000);
    assert_true(r.fee == r.gas_used * GAS_PRICE);
    /* value 1000 in, 500 out to the payee: 500 stay. */
    assert_true(balance(&dev1) == b1 - 1000 - r.fee);
    assert_true(balance(&payee) == 500);
    assert_true(balance(&c) == 500);
    assert_true(balance(&prop) == bp + r.fee);
    assert_int_equal(r.ret_len, 8);
    assert_true(util_get_u64le(r.ret) == 500);
    /* Events: the log, then the pay. */
    assert_int_equal(r.nevents, 2);
    assert_memory_equal(r.events[0].emitter.b, c.b, CHAIN_ADDR_LEN);
    assert_memory_equal(r.events[0].topic, "stored\0\0\0\0\0\0\0\0\0\0", 16);
    assert_int_equal(r.events[0].len, 32);
    assert_memory_equal(r.events[0].data, in, 32);
    uint8_t pay_topic[32];
    chain_pay_topic(pay_topic);
    assert_memory_equal(r.events[1].topic, pay_topic, 32);
    assert_int_equal(r.events[1].len, 28);
    assert_memory_equal(r.events[1].data, payee.b, 20);
    assert_true(util_get_u64le(r.events[1].data + 20) == 500);
    chain_receipt_free(&r);
    uint8_t got[32];
    storage(&c, 1, got);
    assert_memory_equal(got, in, 32);

    /* Read back through a read-only call: the value, and nothing changes. */
    const chain_header *hd = chain_store_head_header(g_st);
    chain_exec_ctx cx = {.chain_id = fx_devnet()->chain_id,
                         .genesis_hash = fx_devnet()->hash,
                         .height = hd->height + 1,
                         .time_ms = hd->time_ms,
                         .proposer = hd->proposer};
    uint8_t root[32];
    memcpy(root, hd->state_root, 32);
    util_err err = {0};
    assert_int_equal(
        chain_contract_call_readonly(g_st, &cx, &dev1, &c, 0, NULL, 0, 100000, &r, &err), 0);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    assert_int_equal(r.ret_len, 32);
    assert_memory_equal(r.ret, in, 32);
    chain_receipt_free(&r);
    /* A read-only call that would store and pay: it reports what would
     * happen (success, events, return data) and keeps nothing. */
    uint8_t in2[32];
    memset(in2, 0x77, sizeof in2);
    assert_int_equal(
        chain_contract_call_readonly(g_st, &cx, &dev1, &c, 600, in2, sizeof in2, 100000, &r, &err),
        0);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    assert_int_equal(r.nevents, 2);
    assert_true(util_get_u64le(r.ret) == 500 + 600 - 300);
    chain_receipt_free(&r);
    storage(&c, 1, got);
    assert_memory_equal(got, in, 32);
    assert_true(balance(&payee) == 500);
    assert_true(balance(&c) == 500);
    assert_memory_equal(chain_store_head_header(g_st)->state_root, root, 32);

    /* A storage write of zeros empties the slot (no key left in state). */
    memset(in, 0, sizeof in);
    call(1, &c, 0, in, sizeof in, 200000, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    chain_receipt_free(&r);
    uint8_t key[32] = {1}, sk[53], *sv = NULL;
    size_t svl;
    chain_key_storage(sk, &c, key);
    assert_int_equal(chain_store_state_get(g_st, sk, sizeof sk, &sv, &svl, NULL), UTIL_ENOTFOUND);
}

/* A revert after a pay, a storage write and a log: the receipt says
 * reverted with the message, the gas is charged, and the value, payout,
 * storage and log are all undone. */
static void test_revert_undoes_everything(void **state)
{
    (void)state;
    static const char src[] = ".data\n"
                              "msg: .ascii \"not today\"\n"
                              "msg_end:\n"
                              "payee: .hex \"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\"\n"
                              ".code\n"
                              "    ldi r1, 0x100\n"
                              "    ldi r2, 0x100\n"
                              "    ldi r3, 9\n"
                              "    st8 [r2], r3\n"
                              "    sys sstore\n"
                              "    ldi r1, payee\n"
                              "    sys value\n"
                              "    mov r2, r0\n"
                              "    sys pay\n"
                              "    ldi r1, 0x100\n"
                              "    ldi r2, 0x100\n"
                              "    ldi r3, 4\n"
                              "    sys emit\n"
                              "    ldi r1, msg\n"
                              "    ldi r2, msg_end - msg\n"
                              "    revert r1, r2\n";
    chain_addr c = deploy(src), dev2, payee, prop;
    fx_dev_addr(&dev2, 2);
    fx_dev_addr(&prop, PROPOSER);
    memset(payee.b, 0xcd, CHAIN_ADDR_LEN);
    uint64_t b2 = balance(&dev2), bp = balance(&prop);
    chain_receipt r;
    call(2, &c, 777, NULL, 0, 100000, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
    assert_string_equal(r.error, "reverted: not today");
    assert_true(r.gas_used > CHAIN_GAS_CALL && r.gas_used < 100000);
    assert_true(r.fee == r.gas_used * GAS_PRICE);
    assert_int_equal(r.nevents, 0);
    assert_int_equal(r.ret_len, 0);
    assert_true(balance(&dev2) == b2 - r.fee);
    assert_true(balance(&prop) == bp + r.fee);
    assert_true(balance(&payee) == 0);
    assert_true(balance(&c) == 0);
    uint8_t got[32], zero[32] = {0};
    storage(&c, 9, got);
    assert_memory_equal(got, zero, 32);
    chain_account acc;
    assert_int_equal(chain_store_get_account(g_st, &dev2, &acc, NULL), 0);
    assert_true(acc.nonce == g_nonce[2]); /* the nonce is used */
    chain_receipt_free(&r);
}

/* ---- run-time faults ----------------------------------------------------- */

typedef struct fault_case {
    const char *name;
    const char *src;
    int status;
    uint64_t gas_limit;
} fault_case;

static void test_faults(void **state)
{
    (void)state;
    static const fault_case cases[] = {
        {"deep recursion", "down:\n    addi r1, r1, 1\n    call down\n    ret\n", VM_E_DEPTH,
         100000},
        {"memory out of bounds", "    li r1, 65530\n    ld64 r2, [r1]\n    stop\n", VM_E_MEMORY,
         100000},
        {"infinite loop", "spin:\n    addi r1, r1, 1\n    jmp spin\n", VM_E_GAS, 60000},
        {"pay over balance",
         "    ldi r1, 0x100\n    sys self\n    sys balance\n    addi r2, r0, 1\n"
         "    sys caller\n    sys pay\n    stop\n",
         VM_E_BALANCE, 100000},
        {"storage writes past the limit",
         "    ldi r1, 0\n    ldi r2, 64\n    ldi r3, 1\n    st64 [r2], r3\n    ldi r4, 257\n"
         "loop:\n    addi r3, r3, 1\n    st64 [r1], r3\n    sys sstore\n    addi r4, r4, -1\n"
         "    bnez r4, loop\n    stop\n",
         VM_E_STORAGE, 5000000}, /* 256 x (2,000 + 64 x VM_GAS_SSTORE_BYTE) */
        {"division by zero", "    ldi r1, 10\n    ldi r2, 0\n    divu r3, r1, r2\n    stop\n",
         VM_E_DIVZERO, 100000},
        {"checked overflow",
         "    li r1, 0xfffffffffffffff0\n    ldi r2, 16\n    addc r3, r1, r2\n"
         "    stop\n",
         VM_E_OVERFLOW, 100000},
        {"record outside a settlement", "    sys rec_fee\n    stop\n", VM_E_HOST, 100000},
        {"return data too large", "    ldi r1, 0\n    ldi r2, 5000\n    return r1, r2\n",
         VM_E_RETURN, 100000},
    };
    chain_addr dev3, prop;
    fx_dev_addr(&dev3, 3);
    fx_dev_addr(&prop, PROPOSER);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fault_case *fc = &cases[i];
        chain_addr c = deploy(fc->src);
        uint64_t b3 = balance(&dev3), bp = balance(&prop), bc = balance(&c);
        chain_receipt r;
        call(3, &c, 5000, NULL, 0, fc->gas_limit, &r);
        char want[96];
        snprintf(want, sizeof want, "vm_fault: %s", vm_status_name(fc->status));
        if (r.status != CHAIN_RECEIPT_FAILED || strncmp(r.error, want, strlen(want)) != 0)
            fail_msg("%s: status %u error '%s', want '%s'", fc->name, r.status, r.error, want);
        print_message("%-30s %s\n", fc->name, r.error);
        assert_true(r.gas_used > CHAIN_GAS_CALL);
        assert_true(r.gas_used <= fc->gas_limit);
        if (fc->status == VM_E_GAS) assert_true(r.gas_used == fc->gas_limit);
        assert_true(r.fee == r.gas_used * GAS_PRICE);
        assert_int_equal(r.nevents, 0);
        /* Only the fee moved: the value went back with the rest of the call. */
        assert_true(balance(&dev3) == b3 - r.fee);
        assert_true(balance(&prop) == bp + r.fee);
        assert_true(balance(&c) == bc);
        chain_receipt_free(&r);
        uint8_t got[32], zero[32] = {0};
        storage(&c, 0, got);
        assert_memory_equal(got, zero, 32);
    }
    /* The chain goes on: a plain transfer in the next block works. */
    chain_tx tx = mk(3, CHAIN_TX_TRANSFER, CHAIN_GAS_TRANSFER);
    fx_dev_addr(&tx.body.transfer.to, 4);
    tx.body.transfer.amount = 1;
    sign(&tx, 3);
    chain_receipt r;
    run_block(&tx, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    chain_receipt_free(&r);
}

/* A read-only call that faults reports the fault; nothing is kept. */
static void test_readonly_fault(void **state)
{
    (void)state;
    chain_addr c = deploy("spin:\n    jmp spin\n"), dev5;
    fx_dev_addr(&dev5, 5);
    const chain_header *hd = chain_store_head_header(g_st);
    chain_exec_ctx cx = {.chain_id = fx_devnet()->chain_id,
                         .genesis_hash = fx_devnet()->hash,
                         .height = hd->height + 1,
                         .time_ms = hd->time_ms,
                         .proposer = hd->proposer};
    chain_receipt r;
    util_err err = {0};
    assert_int_equal(chain_contract_call_readonly(g_st, &cx, &dev5, &c, 0, NULL, 0, 5000, &r, &err),
                     0);
    assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
    assert_true(strncmp(r.error, "vm_fault: out of gas", 20) == 0);
    assert_true(r.gas_used == 5000);
    chain_receipt_free(&r);
    /* No code there: the read-only call says so. */
    chain_addr none;
    memset(none.b, 0x42, CHAIN_ADDR_LEN);
    assert_int_equal(
        chain_contract_call_readonly(g_st, &cx, &dev5, &none, 0, NULL, 0, 5000, &r, &err),
        UTIL_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no_contract"));
    chain_receipt_free(&r);
}

/* ---- code the verifier rejects ------------------------------------------- */

/* Header + instructions (8 bytes each) + no data. */
static uint8_t *blob(uint16_t entry, const uint8_t (*ins)[8], size_t n, uint32_t code_len,
                     size_t *len)
{
    *len = VM_HEADER_SIZE + 8 * n;
    uint8_t *b = calloc(1, *len);
    assert_non_null(b);
    memcpy(b, "OLVM", 4);
    b[4] = 1;
    b[6] = (uint8_t)entry;
    b[7] = (uint8_t)(entry >> 8);
    util_put_u32le(b + 8, code_len);
    for (size_t i = 0; i < n; i++)
        memcpy(b + VM_HEADER_SIZE + 8 * i, ins[i], 8);
    return b;
}

static void test_deploy_rejects_bad_code(void **state)
{
    (void)state;
    static const uint8_t stop[8] = {0x01};
    static const uint8_t unknown[8] = {0xee};
    static const uint8_t bad_reg[8] = {0x10, 16, 0, 0};
    static const uint8_t far_jump[8] = {0x04, 0, 0, 0, 0x00, 0x10, 0, 0}; /* +4096 */
    static const uint8_t mid_jump[8] = {0x04, 0, 0, 0, 0x04, 0, 0, 0};    /* +4 */
    const struct {
        const char *what;
        uint16_t entry;
        uint8_t ins[2][8];
        size_t n;
        int32_t code_len; /* -1: 8 * n */
        const char *want;
    } cases[] = {
        {"unknown opcode", 16, {{0}}, 0, -1, "unknown opcode"},
        {"bad register", 16, {{0}}, 0, -1, "bad register"},
        {"jump outside the code", 16, {{0}}, 0, -1, "outside the code"},
        {"jump into an instruction", 16, {{0}}, 0, -1, "not on an instruction"},
        {"entry outside the code", 400, {{0}}, 0, -1, "missing entry point"},
        {"no instructions", 16, {{0}}, 0, 0, "missing entry point"},
        {"truncated", 16, {{0}}, 0, 16, "truncated"},
    };
    const uint8_t *first[] = {unknown, bad_reg, far_jump, mid_jump, stop, stop, stop};
    chain_addr dev6;
    fx_dev_addr(&dev6, 6);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t ins[2][8];
        memcpy(ins[0], first[i], 8);
        memcpy(ins[1], stop, 8);
        size_t n = cases[i].code_len == 0 ? 0 : 2;
        uint32_t cl = cases[i].code_len < 0 ? (uint32_t)(8 * n) : (uint32_t)cases[i].code_len;
        if (cases[i].code_len == 16) n = 1; /* declares two instructions, holds one */
        size_t len;
        uint8_t *code = blob(cases[i].entry, (const uint8_t(*)[8])ins, n, cl, &len);
        uint64_t nonce = g_nonce[6], b6 = balance(&dev6);
        chain_receipt r;
        deploy_code(6, code, len, &r);
        if (r.status != CHAIN_RECEIPT_FAILED ||
            strncmp(r.error, "invalid_code: offset ", 21) != 0 || !strstr(r.error, cases[i].want))
            fail_msg("%s: status %u '%s'", cases[i].what, r.status, r.error);
        print_message("%-26s %s\n", cases[i].what, r.error);
        /* Nothing created; only the (intrinsic) gas is charged. */
        chain_addr a;
        chain_contract_addr(&a, &dev6, nonce);
        assert_false(has_code(&a));
        assert_true(balance(&a) == 0);
        assert_true(r.gas_used == CHAIN_GAS_DEPLOY + CHAIN_GAS_DEPLOY_PER_BYTE * len);
        assert_true(balance(&dev6) == b6 - r.fee);
        static const chain_addr zero;
        assert_memory_equal(r.created.b, zero.b, CHAIN_ADDR_LEN);
        chain_receipt_free(&r);
    }

    /* Empty and oversized blobs never make a transaction: the encoding
     * refuses them (so tx_send rejects them when decoding). */
    chain_tx tx = mk(6, CHAIN_TX_DEPLOY, 100000);
    g_nonce[6]--;
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 6), 0);
    util_err err = {0};
    assert_int_not_equal(chain_tx_sign(&tx, &kp, fx_devnet()->hash, &err), 0);
    tx.body.deploy.len = CHAIN_CODE_MAX + 1;
    tx.body.deploy.code = calloc(1, CHAIN_CODE_MAX + 1);
    assert_non_null(tx.body.deploy.code);
    assert_int_not_equal(chain_tx_sign(&tx, &kp, fx_devnet()->hash, &err), 0);
    chain_tx_free(&tx);
}

/* A CALL of an address without code fails with no_contract, charging gas
 * and moving no value. */
static void test_call_without_code(void **state)
{
    (void)state;
    chain_addr none, dev7;
    memset(none.b, 0x55, CHAIN_ADDR_LEN);
    fx_dev_addr(&dev7, 7);
    uint64_t b7 = balance(&dev7);
    chain_receipt r;
    call(7, &none, 99, NULL, 0, 100000, &r);
    assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
    assert_non_null(strstr(r.error, "no_contract"));
    assert_true(r.gas_used == CHAIN_GAS_CALL);
    assert_true(balance(&dev7) == b7 - r.fee);
    assert_true(balance(&none) == 0);
    chain_receipt_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_genesis_contract, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deploy_and_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revert_undoes_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deploy_rejects_bad_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_without_code, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
