/* openledger-cli's bridge deposit against the real contracts on anvil: the
 * approve and the deposit are mined, the nonce comes from a real
 * DepositInitiated log, the tokens are locked; and the contracts' real
 * reverts at estimation come back as plain English. The node is the fake of
 * cli_fake_node.h (bridge_info points at anvil, the deposit is reported
 * minted). Skipped when anvil is not installed (scripts/deps.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../cli_fake_node.h"
#include "../genesis_doc.h"
#include "../rollup/l1_anvil.h"
#include "cli/bridge.h"
#include "rollup/deploy.h"
#include "rollup/eth/abi.h"
#include "rollup/l1/txmgr.h"
#include "util/hex.h"

static l1_anvil g_anvil;
static rollup_config g_cfg;
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

static void test_deposit_on_anvil(void **state)
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
    chain_genesis g;
    json_t *doc = devnet_doc();
    util_err e = {0};
    assert_int_equal(parse_doc(doc, &g, &e), 0);
    json_decref(doc);
    rollup_deploy_opts o = {.finalization_period_s = 30,
                            .confirmations = 1,
                            .channel_timeout_blocks = 50,
                            .deposit_confirmations = 1};
    if (rollup_deploy(g_anvil.url, dsk, &g, &deployer, &o, &g_cfg, &e)) fail_msg("%s", e.msg);
    chain_genesis_free(&g);

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
    cli_l1_close(&c);
    util_buf_free(&cd);
    fake_stop();
    l1_anvil_stop(&g_anvil);
}

int main(void)
{
    setenv("OPENLEDGER_KEYSTORE", "/nonexistent-bcli-keystore", 1);
    unsetenv("OPENLEDGER_L1");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_deposit_on_anvil)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
