/* openledger-cli's bridge deposit and finalize against the real contracts
 * on anvil: the approve and the deposit are mined, the nonce comes from a
 * real DepositInitiated log, the tokens are locked; a withdrawal proven
 * against an output signed by the genesis validator is refused before the
 * finalization period (NotFinal, in English), released after it, and
 * refused the second time (AlreadyFinalized); other real reverts at
 * estimation come back as plain English too. The node is the fake of
 * cli_fake_node.h (bridge_info points at anvil, the deposit is reported
 * minted, the withdrawal and its proof come from a tree built here).
 * Skipped when anvil is not installed (scripts/deps.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../cli_fake_node.h"
#include "../genesis_doc.h"
#include "../rollup/bridge_fixture.h"
#include "../rollup/l1_anvil.h"
#include "rollup/output.h"
#include "cli/bridge.h"
#include "rollup/deploy.h"
#include "rollup/eth/abi.h"
#include "rollup/l1/txmgr.h"
#include "util/hex.h"

#define RCPT "0x4444444444444444444444444444444444444444"

static l1_anvil g_anvil;
static rollup_config g_cfg;
static const char *g_status = "ready"; /* the withdrawal's, as the fake node reports it */
static json_t *g_proof;                /* bridge_getWithdrawalProof */
/* anvil's first default account: deploys, and mints as the token's minter. */
static const char *const DEPLOYER =
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

static char *handler(const char *m, json_t *p)
{
    (void)p;
    char tok[ROLLUP_ETH_ADDR_HEX_LEN + 1], br[ROLLUP_ETH_ADDR_HEX_LEN + 1],
        orc[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(tok, &g_cfg.token);
    rollup_eth_addr_hex(br, &g_cfg.bridge);
    rollup_eth_addr_hex(orc, &g_cfg.output_oracle);
    if (strcmp(m, "bridge_info") == 0)
        return ok(json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "l1ChainId", 31337, "l1Url",
                            g_anvil.url, "token", tok, "bridge", br, "outputOracle", orc,
                            "depositConfirmations", 1));
    if (strcmp(m, "bridge_getWithdrawal") == 0) {
        json_t *w = json_deep_copy(json_object_get(g_proof, "withdrawal"));
        json_object_set_new(w, "status", json_string(g_status));
        return ok(w);
    }
    if (strcmp(m, "bridge_getWithdrawalProof") == 0) return ok(json_incref(g_proof));
    if (strcmp(m, "bridge_getDeposit") == 0)
        return ok(json_pack("{s:i, s:s, s:i, s:s}", "nonce", 0, "status", "minted", "height", 9,
                            "txid", "0x00"));
    return rpc_error(-32601, "Method not found", NULL);
}

static void l1(const char *method, json_t *params)
{
    json_t *r = NULL;
    util_err e = {0};
    if (rollup_l1_call_sync(g_anvil.url, method, params, &r, &e)) fail_msg("%s: %s", method, e.msg);
    json_decref(params);
    json_decref(r);
}

static uint64_t word_u64(const uint8_t w[32])
{
    uint64_t v = 0;
    assert_int_equal(cli_u256_to_u64(w, &v), 0);
    return v;
}

static json_t *hexj(const uint8_t *p, size_t n)
{
    return rollup_l1_data(p, n);
}

/* Withdrawal 0 (1 OPEN from dev2 to RCPT) in a tree of three, an output at
 * L2 height 10 holding it, proposed with dev0's signature; the CLI
 * finalizes it through the fake node's proof. */
static void finalize_on_anvil(const chain_genesis *g, const uint8_t dsk[32], cli_l1 *c)
{
    chain_addr d2;
    assert_int_equal(cli_dev_address(2, &d2, NULL), 0);
    rollup_bridge_withdrawal ws[3];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < 3; i++) {
        ws[i].id = (uint64_t)i;
        memcpy(ws[i].sender, d2.b, 20);
        assert_int_equal(rollup_eth_addr_parse(&ws[i].l1_recipient, RCPT, NULL), 0);
        ws[i].amount = 1000000000;
    }
    util_err e = {0};
    bf_tree t;
    if (bf_tree_build(&t, ws, 3, &e)) fail_msg("%s", e.msg);
    uint8_t sroot[32], bhash[32], oroot[32], words[ROLLUP_BRIDGE_PROOF_MAX_WORDS][32];
    memset(sroot, 0xa1, 32);
    memset(bhash, 0xb1, 32);
    chain_smt_proof p;
    size_t nw = bf_proof_words(&t, &ws[0], sroot, bhash, words, &p, &e);
    assert_true(nw >= 3);
    rollup_output_root(oroot, sroot, bhash, t.root);

    /* proposeOutput(10, root, dev0's signature) */
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    uint8_t d[32], sig[ROLLUP_ETH_SIG_LEN];
    rollup_output_digest(d, g->hash, 10, oroot);
    assert_int_equal(rollup_output_sign(sig, d, kp.seckey, &e), 0);
    chain_keypair_clear(&kp);
    rollup_abi_val v[3] = {{.kind = ROLLUP_ABI_UINT, .u64 = 10},
                           {.kind = ROLLUP_ABI_BYTES32},
                           {.kind = ROLLUP_ABI_BYTES, .p = sig, .n = sizeof sig}};
    memcpy(v[1].word, oroot, 32);
    util_buf cd;
    util_buf_init(&cd);
    rollup_abi_encode_call(&cd, "proposeOutput(uint64,bytes32,bytes)", v, 3);
    rollup_txmgr_opts txo = {.chain_id = 31337, .poll_ms = 20};
    rollup_l1_receipt r;
    if (rollup_txmgr_send_sync(g_anvil.url, dsk, &txo, &g_cfg.output_oracle, cd.data, cd.len, 0, &r,
                               &e))
        fail_msg("proposeOutput: %s", e.msg);

    char sender[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(sender, &d2);
    json_t *sib = json_array(), *proof = json_array();
    for (size_t i = 0; i < nw; i++) {
        json_array_append_new(proof, hexj(words[i], 32));
        if (i >= 3) json_array_append_new(sib, hexj(words[i], 32));
    }
    g_proof =
        json_pack("{s:{s:i, s:s, s:s, s:s, s:i, s:s}, s:i, s:i, s:o, s:o, s:o, s:o, s:o, "
                  "s:o}",
                  "withdrawal", "id", 0, "sender", sender, "l1Recipient", RCPT, "amount",
                  "1000000000", "height", 3, "txid", "0x01", "outputIndex", 1, "outputHeight", 10,
                  "stateRoot", hexj(sroot, 32), "blockHash", hexj(bhash, 32), "withdrawalsRoot",
                  hexj(t.root, 32), "outputRoot", hexj(oroot, 32), "siblings", sib, "proof", proof);
    bf_store_free(&t.mem);

    char *out, *err;
    /* Before the period: the Bridge's NotFinal, in English. */
    g_status = "waiting_for_finalization";
    assert_int_equal(RUN("bridge", "finalize", "0", "--from", "dev1", "--force"), 1);
    assert_non_null(strstr(err, "the L1 refuses the transaction: the output is not final yet: "));
    DROP();
    /* After it: released, 1 OPEN at the recipient. */
    l1("evm_increaseTime", json_pack("[i]", 31));
    l1("evm_mine", json_array());
    g_status = "ready";
    assert_int_equal(RUN("bridge", "finalize", "0", "--from", "dev1"), 0);
    assert_non_null(strstr(out, "finalized:    0\n"));
    assert_non_null(strstr(out, RCPT " now has 1 OPEN on the L1"));
    DROP();
    /* Twice: AlreadyFinalized. */
    assert_int_equal(RUN("bridge", "finalize", "0", "--from", "dev1", "--force"), 1);
    assert_non_null(strstr(err, "withdrawal 0 was already finalized on the L1"));
    DROP();
    /* The bridge's locked amount went down by the withdrawal. */
    uint8_t w[32];
    util_buf_reset(&cd);
    rollup_abi_encode_call(&cd, "totalLocked()", NULL, 0);
    assert_int_equal(cli_l1_call_word(c, &g_cfg.bridge, &cd, w, &e), 0);
    assert_int_equal(word_u64(w), 500000000u);
    util_buf_free(&cd);
    json_decref(g_proof);
    g_proof = NULL;
}

static void test_bridge_on_anvil(void **state)
{
    (void)state;
    if (access(OL_ANVIL, X_OK) != 0) {
        fprintf(stderr, "skipped: no anvil at %s (scripts/deps.sh)\n", OL_ANVIL);
        skip();
    }
    assert_int_equal(l1_anvil_start(&g_anvil), 0);
    uint8_t dsk[32];
    assert_int_equal(util_hex_decode_exact(dsk, 32, DEPLOYER), 0);
    rollup_eth_addr deployer;
    assert_int_equal(rollup_eth_addr_from_seckey(&deployer, dsk, NULL), 0);
    /* One validator, dev0, whose key signs the output below. */
    chain_genesis g;
    json_t *doc = devnet_doc();
    json_t *vals = json_array();
    json_array_append_new(vals, validator(0, 10));
    json_object_set_new(doc, "validators", vals);
    set_param(doc, "outputIntervalBlocks", json_integer(10));
    util_err e = {0};
    assert_int_equal(parse_doc(doc, &g, &e), 0);
    json_decref(doc);
    rollup_deploy_opts o = {.finalization_period_s = 30,
                            .confirmations = 1,
                            .channel_timeout_blocks = 50,
                            .deposit_confirmations = 1};
    if (rollup_deploy(g_anvil.url, dsk, &g, &deployer, &o, &g_cfg, &e)) fail_msg("%s", e.msg);

    /* dev1's L1 account: 100 OPEN minted, 1 ether. */
    rollup_eth_addr me;
    assert_int_equal(cli_bridge_key_address(NULL, "dev1", &me, NULL), 0);
    l1("anvil_setBalance", json_pack("[o, s]", rollup_l1_address(&me), "0xde0b6b3a7640000"));
    util_buf cd;
    util_buf_init(&cd);
    assert_int_equal(rollup_token_mint_calldata(&cd, &me, 100000000000), 0);
    rollup_txmgr_opts txo = {.chain_id = 31337, .poll_ms = 20};
    rollup_l1_receipt r;
    if (rollup_txmgr_send_sync(g_anvil.url, dsk, &txo, &g_cfg.token, cd.data, cd.len, 0, &r, &e))
        fail_msg("mint: %s", e.msg);

    fake_start(handler);
    char *out, *err;
    assert_int_equal(RUN("bridge", "deposit", "--amount", "1.5", "--to", "dev1"), 0);
    assert_non_null(strstr(out, "deposit nonce: 0\n"));
    assert_non_null(strstr(out, "approve tx:"));
    assert_non_null(strstr(out, "minted:        at L2 height 9"));
    DROP();

    /* The tokens moved: 1.5 OPEN locked in the bridge, 98.5 left. */
    cli_l1 c;
    assert_int_equal(cli_l1_open(&c, g_anvil.url, &e), 0);
    uint8_t w[32];
    util_buf_reset(&cd);
    assert_int_equal(rollup_token_balance_of_calldata(&cd, &me), 0);
    assert_int_equal(cli_l1_call_word(&c, &g_cfg.token, &cd, w, &e), 0);
    assert_int_equal(word_u64(w), 98500000000u);
    util_buf_reset(&cd);
    rollup_abi_encode_call(&cd, "totalLocked()", NULL, 0);
    assert_int_equal(cli_l1_call_word(&c, &g_cfg.bridge, &cd, w, &e), 0);
    assert_int_equal(word_u64(w), 1500000000u);

    /* Real reverts at estimation, in English: the allowance is used up. */
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 1), 0);
    uint8_t sk[32], h[32];
    assert_int_equal(rollup_eth_seckey_even(sk, kp.seckey, NULL), 0);
    chain_keypair_clear(&kp);
    chain_addr d1;
    assert_int_equal(cli_dev_address(1, &d1, NULL), 0);
    util_buf_reset(&cd);
    assert_int_equal(rollup_bridge_deposit_calldata(&cd, 2000000000, d1.b), 0);
    assert_int_equal(cli_l1_send(&c, sk, &me, &g_cfg.bridge, &cd, h, &e), UTIL_EINVAL);
    assert_non_null(strstr(e.msg, "the L1 refuses the transaction: insufficient allowance: "));
    assert_non_null(strstr(e.msg, "may spend 0 OPEN, needs 2 OPEN"));
    util_buf_reset(&cd);
    assert_int_equal(rollup_bridge_deposit_calldata(&cd, 0, d1.b), 0);
    assert_int_equal(cli_l1_send(&c, sk, &me, &g_cfg.bridge, &cd, h, &e), UTIL_EINVAL);
    assert_string_equal(e.msg, "the L1 refuses the transaction: the amount is zero");
    /* A withdrawal against an output that is not there. */
    rollup_bridge_withdrawal wd = {.id = 0, .amount = 1};
    uint8_t words[3][32];
    memset(words, 0, sizeof words);
    util_buf_reset(&cd);
    assert_int_equal(
        rollup_bridge_finalize_calldata(&cd, &wd, 5, (const uint8_t(*)[32])words, 3, &e), 0);
    assert_int_equal(cli_l1_send(&c, sk, &me, &g_cfg.bridge, &cd, h, &e), UTIL_EINVAL);
    assert_non_null(strstr(e.msg, "no output with index 5 is on the L1 yet"));
    memset(sk, 0, sizeof sk);

    finalize_on_anvil(&g, dsk, &c);
    chain_genesis_free(&g);
    cli_l1_close(&c);
    util_buf_free(&cd);
    fake_stop();
    l1_anvil_stop(&g_anvil);
}

int main(void)
{
    setenv("OPENLEDGER_KEYSTORE", "/nonexistent-bcli-keystore", 1);
    unsetenv("OPENLEDGER_L1");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bridge_on_anvil)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
