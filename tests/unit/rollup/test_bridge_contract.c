/* OpenToken and Bridge on a real L1 (anvil on a free loopback port, killed at
 * the end, also when a check fails): the four contracts deployed by
 * rollup_deploy for a genesis of one validator (dev key 0) whose key the test
 * holds, so it can sign output roots itself.
 *
 * Deposits: approve + deposit, the DepositInitiated logs parsed with
 * rollup_bridge_parse_deposit (nonces 0, 1, ...), and the refusals.
 * Withdrawals: a withdrawals tree built in memory with chain_smt_apply (the
 * L2's code), its root in an output root (rollup_output_root) signed and
 * proposed, time advanced past the finalization period, then
 * finalizeWithdrawal with chain_smt_prove's siblings: exact balances, a
 * second release refused, too early refused, another output refused, and
 * every proof mutation that chain_smt_verify rejects rejected by the contract
 * too (both sides checked here). Last, the oracle frozen: nothing releases.
 * The shared SMT vectors (tests/data/smt_vectors.json, or $OL_SMT_VECTORS)
 * are checked through verifyInclusion when present.
 *
 * Gas: every transaction's gasUsed is printed ("bridge gas: ..."), with
 * finalizeWithdrawal measured on trees of OL_BRIDGE_GAS_SIZES withdrawals
 * (default "1,100"; bench/run bridge passes "1,100,10000"). Refusals are
 * checked twice: the custom error's selector through eth_call, and a mined
 * transaction with status 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chain/crypto/keys.h"
#include "chain/types/genesis.h"
#include "rollup/bridge_abi.h"
#include "rollup/config.h"
#include "rollup/deploy.h"
#include "rollup/eth/abi.h"
#include "rollup/l1/client.h"
#include "rollup/l1/txmgr.h"
#include "rollup/output.h"
#include "tests/unit/genesis_doc.h"
#include "tests/unit/rollup/bridge_fixture.h"
#include "tests/unit/rollup/l1_anvil.h"
#include "util/bytes.h"
#include "util/hex.h"

#define FINALIZATION_S 600
#define INTERVAL 2
#define REVERT_GAS 2000000
#define USER_FUNDS 1000000000000000ull /* 1,000,000 OPEN */

/* anvil's first two funded accounts: the deployer (token minter) and a user. */
static const char *DEPLOYER_SK = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
static const char *USER_SK = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
static const char *USER2_SK = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

static l1_anvil g_anvil;
static char g_url[64];
static uint8_t g_deployer[32], g_user_sk[32], g_user2_sk[32], g_val_sk[32];
static rollup_eth_addr g_user;
static chain_genesis g_gen;
static rollup_config g_cfg;
static rollup_txmgr_opts g_txo;
static uint64_t g_next_index = 1; /* the next output index to propose */

#include "tests/unit/rollup/bridge_l1.h"

/* ---- outputs ------------------------------------------------------------------ */

typedef struct posted {
    uint64_t index;
    uint8_t state_root[32], block_hash[32], root[32];
} posted;

/* Proposes an output holding withdrawals_root at the next index, signed by
 * the single validator. */
static posted propose(const uint8_t withdrawals_root[32])
{
    posted p;
    p.index = g_next_index++;
    memset(p.state_root, 0xa0 ^ (int)(p.index & 0xff), 32);
    memset(p.block_hash, 0xb0 ^ (int)(p.index & 0xff), 32);
    rollup_output_root(p.root, p.state_root, p.block_hash, withdrawals_root);
    uint8_t d[32], sig[ROLLUP_ETH_SIG_LEN];
    util_err err = {0};
    rollup_output_digest(d, g_gen.hash, p.index * INTERVAL, p.root);
    assert_int_equal(rollup_output_sign(sig, d, g_val_sk, &err), 0);
    rollup_abi_val v[3] = {{.kind = ROLLUP_ABI_UINT, .u64 = p.index * INTERVAL},
                           {.kind = ROLLUP_ABI_BYTES32},
                           {.kind = ROLLUP_ABI_BYTES, .p = sig, .n = sizeof sig}};
    memcpy(v[1].word, p.root, 32);
    util_buf b;
    util_buf_init(&b);
    rollup_abi_encode_call(&b, "proposeOutput(uint64,bytes32,bytes)", v, 3);
    rollup_l1_receipt r;
    send_ok(g_deployer, &g_cfg.output_oracle, &b, &r);
    util_buf_free(&b);
    return p;
}

/* ---- withdrawals ----------------------------------------------------------------- */

static rollup_bridge_withdrawal make_wd(uint64_t id, uint64_t amount)
{
    rollup_bridge_withdrawal w;
    memset(&w, 0, sizeof w);
    w.id = id;
    w.amount = amount;
    for (int i = 0; i < 20; i++)
        w.sender[i] = (uint8_t)(0x51 + i);
    /* A fresh L1 address per withdrawal: its balance starts at zero. */
    w.l1_recipient.b[0] = 0xee;
    for (int i = 0; i < 8; i++)
        w.l1_recipient.b[12 + i] = (uint8_t)(id >> (8 * (7 - i)));
    return w;
}

static rollup_bridge_withdrawal *make_wds(uint64_t first_id, size_t n)
{
    rollup_bridge_withdrawal *ws = calloc(n, sizeof *ws);
    assert_non_null(ws);
    for (size_t i = 0; i < n; i++)
        ws[i] = make_wd(first_id + i, 1000 + i);
    return ws;
}

static void finalize_data(util_buf *b, const rollup_bridge_withdrawal *w, uint64_t index,
                          const uint8_t (*words)[32], size_t n)
{
    util_err err = {0};
    util_buf_init(b);
    if (rollup_bridge_finalize_calldata(b, w, index, words, n, &err)) fail_msg("%s", err.msg);
}

/* What chain_smt_verify says of (w, siblings) against withdrawals_root. */
static int c_verify(const uint8_t root[32], const rollup_bridge_withdrawal *w,
                    const uint8_t (*sibs)[32], size_t nsib)
{
    static chain_smt_proof p;
    memset(&p, 0, sizeof p);
    if (nsib > CHAIN_SMT_MAX_DEPTH) return UTIL_EINVAL;
    p.nsib = (uint32_t)nsib;
    memcpy(p.siblings, sibs, nsib * 32);
    p.has_leaf = 1;
    bf_path(p.leaf_path, w->id);
    bf_value_hash(p.leaf_value_hash, w);
    util_err err = {0};
    return chain_smt_verify(root, p.leaf_path, p.leaf_value_hash, &p, &err);
}

/* verifyInclusion(root, path, valueHash, siblings) through eth_call. */
static int contract_verify(const uint8_t root[32], const uint8_t path[32],
                           const uint8_t value_hash[32], const uint8_t (*sibs)[32], size_t nsib)
{
    rollup_abi_val v[4];
    memset(v, 0, sizeof v);
    v[0].kind = v[1].kind = v[2].kind = ROLLUP_ABI_BYTES32;
    memcpy(v[0].word, root, 32);
    memcpy(v[1].word, path, 32);
    memcpy(v[2].word, value_hash, 32);
    v[3].kind = ROLLUP_ABI_BYTES32_ARR;
    v[3].words = sibs;
    v[3].n = nsib;
    util_buf b;
    util_buf_init(&b);
    rollup_abi_encode_call(&b, "verifyInclusion(bytes32,bytes32,bytes32,bytes32[])", v, 4);
    uint8_t w[32];
    view_word(&g_cfg.bridge, &b, w);
    util_buf_free(&b);
    for (int i = 0; i < 31; i++)
        assert_int_equal(w[i], 0);
    return w[31];
}

/* ---- setup ------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    chain_hash_init();
    if (util_hex_decode_exact(g_deployer, 32, DEPLOYER_SK) ||
        util_hex_decode_exact(g_user_sk, 32, USER_SK) ||
        util_hex_decode_exact(g_user2_sk, 32, USER2_SK))
        return -1;
    if (l1_anvil_start(&g_anvil)) {
        fprintf(stderr, "anvil (%s) did not start\n", OL_ANVIL);
        return -1;
    }
    atexit(stop_anvil);
    snprintf(g_url, sizeof g_url, "%s", g_anvil.url);
    chain_keypair kp;
    if (chain_keypair_dev(&kp, 0)) return -1;
    memcpy(g_val_sk, kp.seckey, 32);
    chain_keypair_clear(&kp);
    json_t *doc = devnet_doc();
    json_t *vals = json_array();
    json_array_append_new(vals, validator(0, 10));
    json_object_set_new(doc, "validators", vals);
    set_param(doc, "outputIntervalBlocks", json_integer(INTERVAL));
    util_err err = {0};
    int rc = parse_doc(doc, &g_gen, &err);
    json_decref(doc);
    if (rc) {
        fprintf(stderr, "genesis: %s\n", err.msg);
        return -1;
    }
    g_txo.chain_id = 31337;
    g_txo.poll_ms = 20;
    rollup_deploy_opts o = {.finalization_period_s = FINALIZATION_S,
                            .confirmations = 2,
                            .channel_timeout_blocks = 50,
                            .deposit_confirmations = 3};
    if (rollup_eth_addr_from_seckey(&g_user, g_user_sk, &err) ||
        rollup_deploy(g_url, g_deployer, &g_gen, &g_user, &o, &g_cfg, &err)) {
        fprintf(stderr, "deploy: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    stop_anvil();
    chain_genesis_free(&g_gen);
    return 0;
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_deployed(void **state)
{
    (void)state;
    assert_int_equal(g_cfg.deposit_confirmations, 3);
    assert_memory_not_equal(g_cfg.token.b, g_cfg.bridge.b, 20);
    util_buf b;
    uint8_t w[32];
    util_buf_init(&b);
    rollup_abi_encode_call(&b, "token()", NULL, 0);
    view_word(&g_cfg.bridge, &b, w);
    assert_memory_equal(w + 12, g_cfg.token.b, 20);
    util_buf_reset(&b);
    rollup_abi_encode_call(&b, "oracle()", NULL, 0);
    view_word(&g_cfg.bridge, &b, w);
    assert_memory_equal(w + 12, g_cfg.output_oracle.b, 20);
    util_buf_reset(&b);
    rollup_abi_encode_call(&b, "minter()", NULL, 0);
    view_word(&g_cfg.token, &b, w);
    rollup_eth_addr dep;
    util_err err = {0};
    assert_int_equal(rollup_eth_addr_from_seckey(&dep, g_deployer, &err), 0);
    assert_memory_equal(w + 12, dep.b, 20);
    util_buf_free(&b);
    assert_int_equal(view_u64(&g_cfg.token, "decimals()", NULL, 0), 9);
    assert_int_equal(view_u64(&g_cfg.bridge, "MAX_LOCKED()", NULL, 0), 10000000000000000000ull);
    assert_int_equal(view_u64(&g_cfg.bridge, "depositNonce()", NULL, 0), 0);
    assert_int_equal(view_u64(&g_cfg.bridge, "totalLocked()", NULL, 0), 0);

    /* Only the minter mints. */
    util_buf_init(&b);
    assert_int_equal(rollup_token_mint_calldata(&b, &g_user, USER_FUNDS), 0);
    expect_revert(g_user_sk, &g_cfg.token, &b, "NotMinter(address)");
    rollup_l1_receipt r;
    print_message("bridge gas: OpenToken.mint (new holder): %llu\n",
                  (unsigned long long)send_ok(g_deployer, &g_cfg.token, &b, &r));
    util_buf_free(&b);
    assert_int_equal(balance_of(&g_user), USER_FUNDS);
    assert_int_equal(view_u64(&g_cfg.token, "totalSupply()", NULL, 0), USER_FUNDS);
}

static void test_deposit(void **state)
{
    (void)state;
    uint8_t to[20];
    for (int i = 0; i < 20; i++)
        to[i] = (uint8_t)(0x30 + i);
    util_buf b;
    rollup_l1_receipt r;

    /* Without an allowance the token refuses the transfer. */
    util_buf_init(&b);
    assert_int_equal(rollup_bridge_deposit_calldata(&b, 1000, to), 0);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "InsufficientAllowance(address,uint256,uint256)");
    util_buf_free(&b);

    util_buf_init(&b);
    assert_int_equal(rollup_token_approve_calldata(&b, &g_cfg.bridge, USER_FUNDS), 0);
    uint64_t agas = send_ok(g_user_sk, &g_cfg.token, &b, &r);
    print_message("bridge gas: OpenToken.approve: %llu (execution %llu)\n",
                  (unsigned long long)agas, (unsigned long long)exec_gas(&b, agas));
    util_buf_free(&b);
    uint64_t first_block = 0;
    uint64_t amounts[3] = {1000, 2000, 500000000000ull};
    for (int k = 0; k < 3; k++) {
        util_buf_init(&b);
        assert_int_equal(rollup_bridge_deposit_calldata(&b, amounts[k], to), 0);
        uint64_t gas = send_ok(g_user_sk, &g_cfg.bridge, &b, &r);
        print_message("bridge gas: Bridge.deposit (%s): %llu (execution %llu)\n",
                      k == 0 ? "first ever" : "later", (unsigned long long)gas,
                      (unsigned long long)exec_gas(&b, gas));
        util_buf_free(&b);
        if (k == 0) first_block = r.block_number;
    }
    uint64_t locked = amounts[0] + amounts[1] + amounts[2];
    assert_int_equal(view_u64(&g_cfg.bridge, "depositNonce()", NULL, 0), 3);
    assert_int_equal(view_u64(&g_cfg.bridge, "totalLocked()", NULL, 0), locked);
    assert_int_equal(balance_of(&g_cfg.bridge), locked);
    assert_int_equal(balance_of(&g_user), USER_FUNDS - locked);

    uint8_t t0[32];
    rollup_bridge_topic_deposit(t0);
    rollup_l1_log *logs = NULL;
    size_t n = bridge_logs(first_block, r.block_number, t0, &logs);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        rollup_deposit d;
        util_err err = {0};
        if (rollup_bridge_parse_deposit(&logs[i], &d, &err)) fail_msg("%s", err.msg);
        assert_int_equal(d.nonce, i);
        assert_int_equal(d.amount, amounts[i]);
        assert_memory_equal(d.from.b, g_user.b, 20);
        assert_memory_equal(d.l2_recipient, to, 20);
        assert_int_equal(d.l1_block, logs[i].block_number);
        if (i == n - 1) assert_memory_equal(d.l1_tx_hash, r.tx_hash, 32);
    }
    rollup_l1_logs_free(logs, n);

    /* Refusals. */
    util_buf_init(&b);
    assert_int_equal(rollup_bridge_deposit_calldata(&b, 0, to), 0);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "ZeroAmount()");
    util_buf_free(&b);
    uint8_t zero[20] = {0};
    util_buf_init(&b);
    assert_int_equal(rollup_bridge_deposit_calldata(&b, 5, zero), 0);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "ZeroRecipient()");
    util_buf_free(&b);
    /* MAX_LOCKED = 10^19: the locked sum plus this would pass it. */
    util_buf_init(&b);
    assert_int_equal(rollup_bridge_deposit_calldata(&b, 10000000000000000000ull - locked + 1, to),
                     0);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "LockLimit(uint256,uint256)");
    util_buf_free(&b);
    /* Approved but not held: the token refuses (user2 holds no OPEN). */
    util_buf_init(&b);
    assert_int_equal(rollup_token_approve_calldata(&b, &g_cfg.bridge, 1000), 0);
    send_ok(g_user2_sk, &g_cfg.token, &b, &r);
    util_buf_free(&b);
    util_buf_init(&b);
    assert_int_equal(rollup_bridge_deposit_calldata(&b, 1000, to), 0);
    expect_revert(g_user2_sk, &g_cfg.bridge, &b, "InsufficientBalance(address,uint256,uint256)");
    util_buf_free(&b);
    assert_int_equal(view_u64(&g_cfg.bridge, "depositNonce()", NULL, 0), 3);
}

/* A withdrawal's proof, and the same withdrawal with each field altered. */
static void test_finalize(void **state)
{
    (void)state;
    enum { N = 40 };
    rollup_bridge_withdrawal *ws = make_wds(0, N);
    bf_tree t;
    util_err err = {0};
    if (bf_tree_build(&t, ws, N, &err)) fail_msg("%s", err.msg);
    posted out = propose(t.root);
    /* Another tree (one more withdrawal), in the next output. */
    rollup_bridge_withdrawal *ws2 = make_wds(0, N + 1);
    bf_tree t2;
    if (bf_tree_build(&t2, ws2, N + 1, &err)) fail_msg("%s", err.msg);
    posted out2 = propose(t2.root);

    static uint8_t words[ROLLUP_BRIDGE_PROOF_MAX_WORDS + 2][32];
    static chain_smt_proof p;
    /* The shallowest and the deepest withdrawals of the tree. */
    size_t lo = 0, hi = 0;
    uint32_t dmin = 999, dmax = 0;
    for (size_t i = 0; i < N; i++) {
        size_t n = bf_proof_words(&t, &ws[i], out.state_root, out.block_hash, words, &p, &err);
        assert_true(n >= 3);
        assert_int_equal(c_verify(t.root, &ws[i], (const uint8_t(*)[32])words + 3, n - 3), 0);
        uint8_t path[32], vh[32];
        bf_path(path, ws[i].id);
        bf_value_hash(vh, &ws[i]);
        assert_int_equal(contract_verify(t.root, path, vh, (const uint8_t(*)[32])words + 3, n - 3),
                         1);
        if (p.nsib < dmin) dmin = p.nsib, lo = i;
        if (p.nsib > dmax) dmax = p.nsib, hi = i;
    }
    print_message("withdrawals tree of %d: depths %u..%u\n", N, dmin, dmax);
    assert_true(dmax > dmin);

    const rollup_bridge_withdrawal *w = &ws[hi];
    size_t n = bf_proof_words(&t, w, out.state_root, out.block_hash, words, &p, &err);
    util_buf b;
    rollup_l1_receipt r;

    /* Too early. */
    finalize_data(&b, w, out.index, (const uint8_t(*)[32])words, n);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "NotFinal(uint256)");
    util_buf_free(&b);
    advance_time(FINALIZATION_S);

    /* No output at that index; proof lengths out of range. */
    finalize_data(&b, w, 999, (const uint8_t(*)[32])words, n);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "OutputNotFound(uint64)");
    util_buf_free(&b);
    finalize_data(&b, w, UINT64_MAX, (const uint8_t(*)[32])words, n);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "OutputNotFound(uint64)");
    util_buf_free(&b);
    {
        /* The C encoder refuses these lengths, so the calldata is built here. */
        rollup_abi_val v[6];
        memset(v, 0, sizeof v);
        v[0].kind = v[3].kind = v[4].kind = ROLLUP_ABI_UINT;
        v[0].u64 = w->id;
        v[3].u64 = w->amount;
        v[4].u64 = out.index;
        v[1].kind = ROLLUP_ABI_BYTES32;
        memcpy(v[1].word, w->sender, 20);
        v[2].kind = ROLLUP_ABI_ADDRESS;
        v[2].addr = w->l1_recipient;
        v[5].kind = ROLLUP_ABI_BYTES32_ARR;
        v[5].words = (const uint8_t(*)[32])words;
        size_t lens[] = {0, 2, ROLLUP_BRIDGE_PROOF_MAX_WORDS + 1};
        for (size_t k = 0; k < 3; k++) {
            v[5].n = lens[k];
            util_buf_init(&b);
            rollup_abi_encode_call(
                &b, "finalizeWithdrawal((uint64,bytes20,address,uint64),uint64,bytes32[])", v, 6);
            expect_revert(g_user_sk, &g_cfg.bridge, &b, "BadProofLength(uint256)");
            util_buf_free(&b);
        }
    }

    /* A wrong preimage word of the output root: the C side computes another
     * root too. */
    for (int k = 0; k < 3; k++) {
        words[k][7] ^= 0x01;
        uint8_t root[32];
        rollup_output_root(root, words[0], words[1], words[2]);
        assert_memory_not_equal(root, out.root, 32);
        finalize_data(&b, w, out.index, (const uint8_t(*)[32])words, n);
        expect_revert(g_user_sk, &g_cfg.bridge, &b, "OutputRootMismatch()");
        util_buf_free(&b);
        words[k][7] ^= 0x01;
    }
    /* The proof against another output (its root differs). */
    finalize_data(&b, w, out2.index, (const uint8_t(*)[32])words, n);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "OutputRootMismatch()");
    util_buf_free(&b);
    /* The other output's header words with this tree's siblings. */
    {
        static uint8_t mix[ROLLUP_BRIDGE_PROOF_MAX_WORDS][32];
        memcpy(mix, words, n * 32);
        memcpy(mix[0], out2.state_root, 32);
        memcpy(mix[1], out2.block_hash, 32);
        memcpy(mix[2], t2.root, 32);
        assert_int_not_equal(c_verify(t2.root, w, (const uint8_t(*)[32])mix + 3, n - 3), 0);
        finalize_data(&b, w, out2.index, (const uint8_t(*)[32])mix, n);
        expect_revert(g_user_sk, &g_cfg.bridge, &b, "BadProof()");
        util_buf_free(&b);
    }

    /* Proof mutations: each rejected by chain_smt_verify and by the contract. */
    const uint8_t(*sib)[32] = (const uint8_t(*)[32])words + 3;
    size_t nsib = n - 3;
    assert_true(nsib >= 2);
    for (size_t s = 0; s < nsib; s += nsib - 1) { /* the first and the last sibling */
        words[3 + s][31] ^= 0x80;
        assert_int_not_equal(c_verify(t.root, w, sib, nsib), 0);
        finalize_data(&b, w, out.index, (const uint8_t(*)[32])words, n);
        expect_revert(g_user_sk, &g_cfg.bridge, &b, "BadProof()");
        util_buf_free(&b);
        words[3 + s][31] ^= 0x80;
    }
    /* A sibling removed (the deepest), one added (zero, or a copy). */
    assert_int_not_equal(c_verify(t.root, w, sib, nsib - 1), 0);
    finalize_data(&b, w, out.index, (const uint8_t(*)[32])words, n - 1);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "BadProof()");
    util_buf_free(&b);
    memset(words[n], 0, 32);
    assert_int_not_equal(c_verify(t.root, w, sib, nsib + 1), 0);
    finalize_data(&b, w, out.index, (const uint8_t(*)[32])words, n + 1);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "BadProof()");
    util_buf_free(&b);
    memcpy(words[n], words[n - 1], 32);
    assert_int_not_equal(c_verify(t.root, w, sib, nsib + 1), 0);
    finalize_data(&b, w, out.index, (const uint8_t(*)[32])words, n + 1);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "BadProof()");
    util_buf_free(&b);
    /* The first sibling removed (the proof of a shallower position). */
    assert_int_not_equal(c_verify(t.root, w, sib + 1, nsib - 1), 0);
    /* Altered withdrawals: amount, recipient, id, sender. */
    for (int k = 0; k < 4; k++) {
        rollup_bridge_withdrawal m = *w;
        if (k == 0) m.amount += 1;
        if (k == 1) m.l1_recipient.b[19] ^= 1;
        if (k == 2) m.id = ws[lo].id;
        if (k == 3) m.sender[0] ^= 1;
        assert_int_not_equal(c_verify(t.root, &m, sib, nsib), 0);
        finalize_data(&b, &m, out.index, (const uint8_t(*)[32])words, n);
        expect_revert(g_user_sk, &g_cfg.bridge, &b, "BadProof()");
        util_buf_free(&b);
    }
    /* A withdrawal that is not in the tree at all, with another's proof. */
    rollup_bridge_withdrawal absent = make_wd(N + 7, 1000);
    assert_int_not_equal(c_verify(t.root, &absent, sib, nsib), 0);
    finalize_data(&b, &absent, out.index, (const uint8_t(*)[32])words, n);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "BadProof()");
    util_buf_free(&b);

    /* The real thing: exact balances, once. */
    uint64_t locked = view_u64(&g_cfg.bridge, "totalLocked()", NULL, 0);
    uint64_t held = balance_of(&g_cfg.bridge);
    assert_int_equal(balance_of(&w->l1_recipient), 0);
    rollup_abi_val idv = {.kind = ROLLUP_ABI_UINT, .u64 = w->id};
    assert_int_equal(view_u64(&g_cfg.bridge, "finalized(uint64)", &idv, 1), 0);
    finalize_data(&b, w, out.index, (const uint8_t(*)[32])words, n);
    uint64_t gas = send_ok(g_user2_sk, &g_cfg.bridge, &b, &r);
    print_message("bridge gas: Bridge.finalizeWithdrawal (%zu siblings, tree of %d): %llu\n", nsib,
                  N, (unsigned long long)gas);
    assert_int_equal(balance_of(&w->l1_recipient), w->amount);
    assert_int_equal(balance_of(&g_cfg.bridge), held - w->amount);
    assert_int_equal(view_u64(&g_cfg.bridge, "totalLocked()", NULL, 0), locked - w->amount);
    assert_int_equal(view_u64(&g_cfg.bridge, "finalized(uint64)", &idv, 1), 1);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "AlreadyFinalized(uint64)");
    util_buf_free(&b);
    /* Its neighbour in the bitmap is still open. */
    idv.u64 = w->id ^ 1;
    assert_int_equal(view_u64(&g_cfg.bridge, "finalized(uint64)", &idv, 1), 0);

    uint8_t t0[32];
    rollup_bridge_topic_finalized(t0);
    rollup_l1_log *logs = NULL;
    size_t nl = bridge_logs(r.block_number, r.block_number, t0, &logs);
    assert_int_equal(nl, 1);
    uint64_t id = 0, amount = 0;
    rollup_eth_addr to;
    if (rollup_bridge_parse_finalized(&logs[0], &id, &to, &amount, &err)) fail_msg("%s", err.msg);
    assert_int_equal(id, w->id);
    assert_int_equal(amount, w->amount);
    assert_memory_equal(to.b, w->l1_recipient.b, 20);
    rollup_l1_logs_free(logs, nl);

    /* The shallowest one, proven against the second output (its tree holds
     * it too); then the same withdrawal against the first output is a
     * repeat. */
    const rollup_bridge_withdrawal *w2 = &ws2[lo];
    n = bf_proof_words(&t2, w2, out2.state_root, out2.block_hash, words, &p, &err);
    finalize_data(&b, w2, out2.index, (const uint8_t(*)[32])words, n);
    gas = send_ok(g_user2_sk, &g_cfg.bridge, &b, &r);
    print_message("bridge gas: Bridge.finalizeWithdrawal (%u siblings, tree of %d): %llu\n", p.nsib,
                  N + 1, (unsigned long long)gas);
    util_buf_free(&b);
    assert_int_equal(balance_of(&w2->l1_recipient), w2->amount);
    n = bf_proof_words(&t, &ws[lo], out.state_root, out.block_hash, words, &p, &err);
    finalize_data(&b, &ws[lo], out.index, (const uint8_t(*)[32])words, n);
    expect_revert(g_user_sk, &g_cfg.bridge, &b, "AlreadyFinalized(uint64)");
    util_buf_free(&b);
    assert_int_equal(view_u64(&g_cfg.bridge, "totalLocked()", NULL, 0),
                     locked - w->amount - w2->amount);

    bf_store_free(&t.mem);
    bf_store_free(&t2.mem);
    free(ws);
    free(ws2);
}

/* The shared SMT vectors: every one with a value, through verifyInclusion,
 * gives the vector's verdict. */
static void test_vectors(void **state)
{
    (void)state;
    const char *path = getenv("OL_SMT_VECTORS");
    char def[512];
    if (!path || !*path) {
        snprintf(def, sizeof def, "%s/tests/data/smt_vectors.json", OL_SOURCE_DIR);
        path = def;
    }
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    /* The file is committed: a missing or unreadable one is a failure. */
    if (!doc) fail_msg("SMT vectors %s: %s", path, je.text);
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);
    json_t *vs = json_object_get(doc, "vectors"), *v;
    size_t i, checked = 0;
    json_array_foreach(vs, i, v)
    {
        json_t *val = json_object_get(v, "value");
        if (json_is_null(val)) continue; /* absence: the bridge proves inclusion only */
        uint8_t root[32], p[32], vh[32];
        assert_int_equal(
            util_hex_decode_exact(root, 32, json_string_value(json_object_get(v, "root"))), 0);
        assert_int_equal(
            util_hex_decode_exact(p, 32, json_string_value(json_object_get(v, "path"))), 0);
        assert_int_equal(
            util_hex_decode_exact(vh, 32, json_string_value(json_object_get(v, "valueHash"))), 0);
        json_t *sibs = json_object_get(json_object_get(v, "proof"), "siblings");
        size_t ns = json_array_size(sibs);
        uint8_t(*s)[32] = calloc(ns ? ns : 1, 32);
        assert_non_null(s);
        for (size_t k = 0; k < ns; k++)
            assert_int_equal(
                util_hex_decode_exact(s[k], 32, json_string_value(json_array_get(sibs, k))), 0);
        int want = json_is_true(json_object_get(v, "valid"));
        int got = contract_verify(root, p, vh, (const uint8_t(*)[32])s, ns);
        if (got != want)
            fail_msg("vector \"%s\": contract says %d, vector %d",
                     json_string_value(json_object_get(v, "name")), got, want);
        free(s);
        checked++;
    }
    print_message("SMT vectors: %zu inclusion vectors agree with verifyInclusion\n", checked);
    assert_true(checked > 0);
    json_decref(doc);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* finalizeWithdrawal's gas against the size of the tree (the depth of the
 * proof): for each size, the depths of all its withdrawals' proofs, then the
 * release of the deepest and of one of median depth. A release sets a bit in
 * a 256-id bitmap word: the first in a word fills an empty slot (20,000 gas
 * more than rewriting it), so each line says which it was. */
static void test_gas_by_tree_size(void **state)
{
    (void)state;
    const char *env = getenv("OL_BRIDGE_GAS_SIZES");
    char sizes[256];
    snprintf(sizes, sizeof sizes, "%s", env && *env ? env : "1,100");
    uint64_t base = 1u << 20; /* ids apart from test_finalize's */
    static uint8_t words[ROLLUP_BRIDGE_PROOF_MAX_WORDS][32];
    static chain_smt_proof p;
    struct {
        size_t n;
        bf_tree t;
        rollup_bridge_withdrawal *ws;
        posted out;
    } runs[8];
    size_t nruns = 0;
    for (char *tok = strtok(sizes, ","); tok && nruns < 8; tok = strtok(NULL, ",")) {
        size_t n = strtoul(tok, NULL, 10);
        assert_true(n >= 1 && n <= 1000000);
        runs[nruns].n = n;
        runs[nruns].ws = make_wds(base, n);
        util_err err = {0};
        if (bf_tree_build(&runs[nruns].t, runs[nruns].ws, n, &err)) fail_msg("%s", err.msg);
        runs[nruns].out = propose(runs[nruns].t.root);
        base += 1u << 20;
        nruns++;
    }
    advance_time(FINALIZATION_S);
    for (size_t k = 0; k < nruns; k++) {
        size_t n = runs[k].n;
        uint32_t *depth = calloc(n, sizeof *depth), *sorted = calloc(n, sizeof *sorted);
        assert_non_null(depth);
        assert_non_null(sorted);
        uint8_t path[32];
        size_t deepest = 0;
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            util_err err = {0};
            bf_path(path, runs[k].ws[i].id);
            if (chain_smt_prove(&runs[k].t.st, runs[k].t.root, path, &p, &err))
                fail_msg("%s", err.msg);
            depth[i] = sorted[i] = p.nsib;
            sum += p.nsib;
            if (depth[i] > depth[deepest]) deepest = i;
        }
        qsort(sorted, n, sizeof *sorted, cmp_u32);
        uint32_t median = sorted[n / 2];
        size_t typical = deepest;
        for (size_t i = 0; i < n; i++)
            if (depth[i] == median && i != deepest) {
                typical = i;
                break;
            }
        print_message("bridge gas: tree=%zu depth min=%u median=%u mean=%.1f max=%u\n", n,
                      sorted[0], median, (double)sum / (double)n, sorted[n - 1]);
        size_t pick[2] = {deepest, typical};
        for (size_t j = 0; j < 2 && (j == 0 || typical != deepest); j++) {
            const rollup_bridge_withdrawal *w = &runs[k].ws[pick[j]];
            util_err err = {0};
            size_t nw = bf_proof_words(&runs[k].t, w, runs[k].out.state_root,
                                       runs[k].out.block_hash, words, &p, &err);
            assert_true(nw >= 3);
            int same = j == 1 && (w->id >> 8) == (runs[k].ws[pick[0]].id >> 8);
            util_buf b;
            rollup_l1_receipt r;
            finalize_data(&b, w, runs[k].out.index, (const uint8_t(*)[32])words, nw);
            uint64_t gas = send_ok(g_user2_sk, &g_cfg.bridge, &b, &r);
            size_t cdlen = b.len;
            uint64_t ex = exec_gas(&b, gas);
            util_buf_free(&b);
            print_message("bridge gas: Bridge.finalizeWithdrawal tree=%zu %s siblings=%u "
                          "calldata=%zu bitmap=%s: %llu (execution %llu)\n",
                          n, j == 0 ? "deepest" : "median", p.nsib, cdlen,
                          same ? "same word" : "new word", (unsigned long long)gas,
                          (unsigned long long)ex);
            assert_int_equal(balance_of(&w->l1_recipient), w->amount);
        }
        free(depth);
        free(sorted);
        bf_store_free(&runs[k].t.mem);
        free(runs[k].ws);
    }
}

/* Freeze the oracle (two different roots for one height, each signed by the
 * single validator): nothing releases any more, even a final output. */
static void test_frozen(void **state)
{
    (void)state;
    rollup_bridge_withdrawal *ws = make_wds(1u << 30, 3);
    bf_tree t;
    util_err err = {0};
    if (bf_tree_build(&t, ws, 3, &err)) fail_msg("%s", err.msg);
    posted out = propose(t.root);
    advance_time(FINALIZATION_S);
    static uint8_t words[ROLLUP_BRIDGE_PROOF_MAX_WORDS][32];
    static chain_smt_proof p;
    size_t n = bf_proof_words(&t, &ws[0], out.state_root, out.block_hash, words, &p, &err);
    util_buf b;
    finalize_data(&b, &ws[0], out.index, (const uint8_t(*)[32])words, n);
    /* Final and valid: eth_call succeeds before the freeze. */
    json_decref(rpc("eth_call", call_params(&g_cfg.bridge, &b)));

    const uint64_t h = 1000 * INTERVAL;
    uint8_t ra[32], rb[32], da[32], db[32], sa[ROLLUP_ETH_SIG_LEN], sb[ROLLUP_ETH_SIG_LEN];
    memset(ra, 0xd1, 32);
    memset(rb, 0xd2, 32);
    rollup_output_digest(da, g_gen.hash, h, ra);
    rollup_output_digest(db, g_gen.hash, h, rb);
    assert_int_equal(rollup_output_sign(sa, da, g_val_sk, &err), 0);
    assert_int_equal(rollup_output_sign(sb, db, g_val_sk, &err), 0);
    rollup_abi_val v[5];
    memset(v, 0, sizeof v);
    v[0].kind = ROLLUP_ABI_UINT;
    v[0].u64 = h;
    v[1].kind = v[3].kind = ROLLUP_ABI_BYTES32;
    memcpy(v[1].word, ra, 32);
    memcpy(v[3].word, rb, 32);
    v[2].kind = v[4].kind = ROLLUP_ABI_BYTES;
    v[2].p = sa;
    v[2].n = sizeof sa;
    v[4].p = sb;
    v[4].n = sizeof sb;
    util_buf fb;
    util_buf_init(&fb);
    rollup_abi_encode_call(&fb, "freeze(uint64,bytes32,bytes,bytes32,bytes)", v, 5);
    rollup_l1_receipt r;
    send_ok(g_user2_sk, &g_cfg.output_oracle, &fb, &r);
    util_buf_free(&fb);

    expect_revert(g_user_sk, &g_cfg.bridge, &b, "OracleFrozen()");
    util_buf_free(&b);
    assert_int_equal(balance_of(&ws[0].l1_recipient), 0);
    bf_store_free(&t.mem);
    free(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deployed),         cmocka_unit_test(test_deposit),
        cmocka_unit_test(test_finalize),         cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_gas_by_tree_size), cmocka_unit_test(test_frozen),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
