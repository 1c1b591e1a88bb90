/* The bridge end to end on a real anvil with an in-process devnet node
 * (--dev --l1 --rollup-config): a deposit is not minted before it is
 * depositConfirmations deep, is minted once it is, a restart reads the L1
 * again from the last deposit minted and mints the next one once only, and
 * a withdrawal goes from waiting_for_output through ready to finalized as
 * the proposer posts outputs and Bridge.finalizeWithdrawal releases it with
 * the proof of bridge_getWithdrawalProof. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/exec/bridge.h"
#include "node/bridge.h"
#include "node/node_internal.h"
#include "node/rollup.h"
#include "rollup/bridge_abi.h"
#include "rollup/deploy.h"
#include "rollup/l1/txmgr.h"
#include "rpc/jsonrpc.h"
#include "tests/unit/chain_fixture.h"
#include "tests/unit/rollup/l1_anvil.h"
#include "util/hex.h"
#include "util/time.h"

#define DEPOSIT_CONF 2
/* anvil's unlocked accounts 0 and 1 */
#define ACCT0 "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
#define ACCT1 "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

static l1_anvil anvil;
static char dir[64];
static char cfg_path[128];
static rollup_config cfg;
static chain_genesis gen;

static void hexdata(char *out, const util_buf *b)
{
    out[0] = '0';
    out[1] = 'x';
    util_hex_encode(out + 2, b->data, b->len);
}

static json_t *wait_receipt(const char *txh)
{
    char params[128];
    snprintf(params, sizeof params, "[\"%s\"]", txh);
    for (int i = 0; i < 200; i++) {
        json_t *r = l1_rpc(anvil.url, "eth_getTransactionReceipt", params);
        if (r && !json_is_null(r)) return r;
        json_decref(r);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* eth_sendTransaction from an unlocked anvil account; 1 mined and
 * succeeded, 0 refused or reverted. */
static int send_from(const char *from, const rollup_eth_addr *to, const util_buf *data)
{
    char *hex = malloc(2 * data->len + 3), toh[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    hexdata(hex, data);
    rollup_eth_addr_hex(toh, to);
    json_t *p = json_pack("[{s:s,s:s,s:s}]", "from", from, "to", toh, "data", hex);
    json_t *h = NULL;
    util_err err = {0};
    int ok = 0;
    if (rollup_l1_call_sync(anvil.url, "eth_sendTransaction", p, &h, &err) == 0) {
        json_t *r = wait_receipt(json_string_value(h));
        rollup_l1_receipt rc;
        ok = r && rollup_l1_parse_receipt(r, &rc, &err) == 0 && rc.status == 1;
        json_decref(r);
    }
    json_decref(h);
    json_decref(p);
    free(hex);
    return ok;
}

static void mine(int k)
{
    char p[32];
    snprintf(p, sizeof p, "[%d]", k);
    json_decref(l1_rpc(anvil.url, "anvil_mine", p));
}

static uint64_t l1_head(void)
{
    json_t *r = l1_rpc(anvil.url, "eth_blockNumber", "[]");
    uint64_t v = 0;
    util_err err = {0};
    assert_int_equal(rollup_l1_parse_u64(r, &v, "head", &err), 0);
    json_decref(r);
    return v;
}

static void deposit(uint64_t amount, uint32_t dev_to)
{
    chain_addr to;
    fx_dev_addr(&to, dev_to);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(rollup_bridge_deposit_calldata(&b, amount, to.b), 0);
    assert_true(send_from(ACCT0, &cfg.bridge, &b));
    util_buf_free(&b);
}

static int group_setup(void **state)
{
    (void)state;
    if (l1_anvil_start(&anvil)) return -1;
    snprintf(dir, sizeof dir, "/tmp/ol-test-bridge-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(cfg_path, sizeof cfg_path, "%s/rollup.json", dir);
    uint8_t sk[32];
    rollup_eth_addr addr;
    int created;
    util_err err = {0};
    const char *gj = chain_genesis_devnet_json();
    if (node_l1_key_load_or_create(NULL, dir, sk, &addr, &created, &err) ||
        chain_genesis_parse(&gen, gj, strlen(gj), &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    char ah[ROLLUP_ETH_ADDR_HEX_LEN + 1], p[128];
    rollup_eth_addr_hex(ah, &addr);
    snprintf(p, sizeof p, "[\"%s\",\"0x3635c9adc5dea00000\"]", ah);
    json_decref(l1_rpc(anvil.url, "anvil_setBalance", p));
    /* The node's account deploys (it mints OPEN) and is the batcher: the
     * node posts batches and outputs. */
    rollup_deploy_opts o = {.finalization_period_s = 2,
                            .confirmations = 1,
                            .channel_timeout_blocks = 50,
                            .deposit_confirmations = DEPOSIT_CONF};
    if (rollup_deploy(anvil.url, sk, &gen, &addr, &o, &cfg, &err) ||
        rollup_config_save(&cfg, cfg_path, &err)) {
        fprintf(stderr, "deploy: %s\n", err.msg);
        return -1;
    }
    rollup_eth_addr a0;
    util_buf b;
    util_buf_init(&b);
    rollup_txmgr_opts txo = {.chain_id = 31337};
    rollup_l1_receipt r;
    if (rollup_eth_addr_parse(&a0, ACCT0, &err) ||
        rollup_token_mint_calldata(&b, &a0, 1000000000000ull) ||
        rollup_txmgr_send_sync(anvil.url, sk, &txo, &cfg.token, b.data, b.len, 0, &r, &err)) {
        fprintf(stderr, "mint: %s\n", err.msg);
        return -1;
    }
    util_buf_reset(&b);
    if (rollup_token_approve_calldata(&b, &cfg.bridge, 1000000000000ull) ||
        !send_from(ACCT0, &cfg.token, &b))
        return -1;
    util_buf_free(&b);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    l1_anvil_stop(&anvil);
    fx_rm_tree(dir);
    chain_genesis_free(&gen);
    return 0;
}

static node *start_node(void)
{
    char *argv[] = {
        "openledgerd",      "--dev",           "--rpc",  "127.0.0.1:0",  "--p2p", "off",
        "--quiet-accounts", "--log-level",     "error",  "--datadir",    dir,     "--l1",
        anvil.url,          "--rollup-config", cfg_path, "--block-time", "200",   NULL};
    node_cfg c;
    util_err err = {0};
    assert_int_equal(node_cfg_parse(&c, 17, argv, &err), NODE_CFG_RUN);
    node *n;
    if (node_start(&n, &c, &err)) fail_msg("node_start: %s", err.msg);
    return n;
}

static json_t *call(node *n, const char *method, const char *params)
{
    json_t *p = json_loads(params, 0, NULL);
    assert_non_null(p);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(n->dispatch, method, p, &e);
    json_decref(p);
    if (!r) fail_msg("%s %s: %s", method, params, e.message);
    return r;
}

/* A string field of method(params), "" when null. */
static int field_is(node *n, const char *method, const char *params, const char *key,
                    const char *want)
{
    json_t *r = call(n, method, params);
    const char *s = json_is_object(r) ? json_string_value(json_object_get(r, key)) : NULL;
    int eq = s && strcmp(s, want) == 0;
    json_decref(r);
    return eq;
}

typedef int (*pred_fn)(node *n, void *ctx);

/* Runs the node's loop until pred holds; fails after secs seconds. */
static void run_until(node *n, pred_fn pred, void *ctx, unsigned secs, const char *what)
{
    uint64_t end = util_mono_ns() + secs * UINT64_C(1000000000);
    while (!pred(n, ctx)) {
        if (util_mono_ns() > end) fail_msg("no %s within %u s", what, secs);
        uv_run(&n->loop, UV_RUN_ONCE);
    }
}

static int run_for(node *n, void *ctx)
{
    (void)n;
    return util_mono_ns() > *(uint64_t *)ctx;
}

static int l1_head_is(node *n, void *ctx)
{
    json_t *r = call(n, "bridge_info", "[]");
    json_t *h = json_object_get(r, "l1Head");
    int ok = json_is_integer(h) && (uint64_t)json_integer_value(h) >= *(uint64_t *)ctx;
    json_decref(r);
    return ok;
}

static int minted(node *n, void *ctx)
{
    char p[32];
    snprintf(p, sizeof p, "[%llu]", (unsigned long long)*(uint64_t *)ctx);
    return field_is(n, "bridge_getDeposit", p, "status", "minted");
}

static uint64_t balance(node *n, uint32_t dev)
{
    chain_addr a;
    fx_dev_addr(&a, dev);
    chain_account acc;
    util_err err = {0};
    assert_int_equal(chain_store_get_account(n->store, &a, &acc, &err), 0);
    return acc.balance;
}

static void test_deposit_waits_for_confirmations_then_mints(void **state)
{
    (void)state;
    node *n = start_node();
    uint64_t before = balance(n, 2);
    deposit(5000000000ull, 2);
    uint64_t d = l1_head();
    /* The watcher has read the L1 at the deposit's block: not confirmed,
     * nothing pending, nothing minted (one more full poll to be sure). */
    run_until(n, l1_head_is, &d, 20, "L1 head");
    uint64_t until = util_mono_ns() + 2ull * NODE_BRIDGE_POLL_MS * 1000000ull;
    run_until(n, run_for, &until, 10, "pause");
    json_t *r = call(n, "bridge_getDeposit", "[0]");
    assert_true(json_is_null(r));
    json_decref(r);
    chain_bridge_state st;
    util_err err = {0};
    assert_int_equal(chain_bridge_get(n->store, &st, &err), 0);
    assert_int_equal(st.next_deposit, 0);

    mine(DEPOSIT_CONF);
    uint64_t nonce = 0;
    run_until(n, minted, &nonce, 30, "deposit 0 minted");
    r = call(n, "bridge_getDeposit", "[0]");
    assert_int_equal(json_integer_value(json_object_get(r, "l1Block")), d);
    assert_string_equal(json_string_value(json_object_get(r, "amount")), "5000000000");
    assert_string_equal(json_string_value(json_object_get(r, "from")), ACCT0);
    json_decref(r);
    assert_int_equal(balance(n, 2), before + 5000000000ull);
    r = call(n, "bridge_info", "[]");
    assert_string_equal(json_string_value(json_object_get(r, "minted")), "5000000000");
    assert_string_equal(json_string_value(json_object_get(r, "locked")), "5000000000");
    json_decref(r);
    node_free(n);
}

static void test_restart_mints_the_next_once(void **state)
{
    (void)state;
    /* Deposit 1 while the node is down. */
    deposit(7000000000ull, 3);
    mine(DEPOSIT_CONF);
    node *n = start_node();
    uint64_t before = balance(n, 3), nonce = 1;
    run_until(n, minted, &nonce, 30, "deposit 1 minted");
    assert_int_equal(balance(n, 3), before + 7000000000ull);
    /* A few more polls: deposit 0 is not minted again. */
    uint64_t until = util_mono_ns() + 2ull * NODE_BRIDGE_POLL_MS * 1000000ull;
    run_until(n, run_for, &until, 10, "pause");
    chain_bridge_state st;
    util_err err = {0};
    assert_int_equal(chain_bridge_get(n->store, &st, &err), 0);
    assert_int_equal(st.next_deposit, 2);
    assert_int_equal(st.minted, 12000000000ull);
    node_free(n);
}

static void send_withdraw(node *n, uint32_t from, uint64_t amount, const rollup_eth_addr *to)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, from), 0);
    chain_addr a;
    fx_dev_addr(&a, from);
    chain_account acc;
    util_err err = {0};
    assert_int_equal(chain_store_get_account(n->store, &a, &acc, &err), 0);
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", n->genesis.chain_id);
    tx.type = CHAIN_TX_WITHDRAW;
    tx.nonce = acc.nonce;
    tx.gas_limit = CHAIN_GAS_WITHDRAW;
    tx.gas_price = n->genesis.params.min_gas_price;
    memcpy(tx.body.withdraw.l1_recipient, to->b, 20);
    tx.body.withdraw.amount = amount;
    assert_int_equal(chain_tx_sign(&tx, &kp, n->genesis.hash, &err), 0);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_tx_encode(&tx, &b), 0);
    char *hex = malloc(2 * b.len + 3);
    hexdata(hex, &b);
    char *params = malloc(2 * b.len + 16);
    sprintf(params, "[\"%s\"]", hex);
    json_decref(call(n, "tx_send", params));
    free(params);
    free(hex);
    util_buf_free(&b);
    chain_keypair_clear(&kp);
}

static int withdrawal_status(node *n, void *ctx)
{
    return field_is(n, "bridge_getWithdrawal", "[0]", "status", ctx);
}

static int have_withdrawal(node *n, void *ctx)
{
    (void)ctx;
    json_t *r = call(n, "bridge_getWithdrawal", "[0]");
    int ok = json_is_object(r);
    json_decref(r);
    return ok;
}

static void unhex32(const char *s, uint8_t out[32])
{
    assert_non_null(s);
    assert_int_equal(util_hex_decode_exact(out, 32, s), 0);
}

/* Bridge.finalizeWithdrawal from anvil account 1 with the node's proof. */
static int finalize(node *n)
{
    json_t *p = call(n, "bridge_getWithdrawalProof", "[0]");
    json_t *w = json_object_get(p, "withdrawal"), *words = json_object_get(p, "proof");
    rollup_bridge_withdrawal bw;
    memset(&bw, 0, sizeof bw);
    util_err err = {0};
    bw.id = (uint64_t)json_integer_value(json_object_get(w, "id"));
    assert_int_equal(
        util_hex_decode_exact(bw.sender, 20, json_string_value(json_object_get(w, "senderBytes"))),
        0);
    assert_int_equal(rollup_eth_addr_parse(&bw.l1_recipient,
                                           json_string_value(json_object_get(w, "l1Recipient")),
                                           &err),
                     0);
    bw.amount = strtoull(json_string_value(json_object_get(w, "amount")), NULL, 10);
    size_t nw = json_array_size(words);
    uint8_t(*proof)[32] = calloc(nw, 32);
    for (size_t i = 0; i < nw; i++)
        unhex32(json_string_value(json_array_get(words, i)), proof[i]);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(rollup_bridge_finalize_calldata(
                         &b, &bw, (uint64_t)json_integer_value(json_object_get(p, "outputIndex")),
                         (const uint8_t(*)[32])proof, nw, &err),
                     0);
    int ok = send_from(ACCT1, &cfg.bridge, &b);
    util_buf_free(&b);
    free(proof);
    json_decref(p);
    return ok;
}

static uint64_t l1_token_balance(const char *who)
{
    rollup_eth_addr a;
    util_err err = {0};
    assert_int_equal(rollup_eth_addr_parse(&a, who, &err), 0);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(rollup_token_balance_of_calldata(&b, &a), 0);
    char *hex = malloc(2 * b.len + 3), th[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    hexdata(hex, &b);
    rollup_eth_addr_hex(th, &cfg.token);
    json_t *p = json_pack("[{s:s,s:s},s]", "to", th, "data", hex, "latest"), *r = NULL;
    assert_int_equal(rollup_l1_call_sync(anvil.url, "eth_call", p, &r, &err), 0);
    uint8_t word[32];
    assert_int_equal(util_hex_decode_exact(word, 32, json_string_value(r)), 0);
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | word[i];
    json_decref(p);
    json_decref(r);
    free(hex);
    util_buf_free(&b);
    return v;
}

static void test_withdrawal_to_finalized(void **state)
{
    (void)state;
    node *n = start_node();
    rollup_eth_addr to;
    util_err err = {0};
    assert_int_equal(rollup_eth_addr_parse(&to, ACCT1, &err), 0);
    uint64_t l1_before = l1_token_balance(ACCT1);
    send_withdraw(n, 2, 3000000000ull, &to);
    run_until(n, have_withdrawal, NULL, 30, "withdrawal 0");
    /* An idle devnet makes no empty blocks: up to the first output height. */
    while (chain_store_height(n->store) < n->genesis.params.output_interval_blocks) {
        int produced = 0;
        if (node_produce_block(n, 1, &produced, &err)) fail_msg("produce: %s", err.msg);
    }
    /* Posted outputs come every 10 L2 blocks; the finalization period is 2 s. */
    run_until(n, withdrawal_status, "ready", 90, "withdrawal ready");
    json_t *w = call(n, "bridge_getWithdrawal", "[0]");
    assert_true(json_integer_value(json_object_get(w, "outputHeight")) >=
                json_integer_value(json_object_get(w, "height")));
    assert_int_equal(json_integer_value(json_object_get(w, "secondsLeft")), 0);
    json_decref(w);
    /* The L1's clock moves with its blocks: a refusal (NotFinal) is retried. */
    int ok = 0;
    for (int i = 0; i < 20 && !ok; i++) {
        mine(1);
        ok = finalize(n);
        if (!ok) {
            uint64_t until = util_mono_ns() + 500000000ull;
            run_until(n, run_for, &until, 5, "pause");
        }
    }
    assert_true(ok);
    assert_int_equal(l1_token_balance(ACCT1), l1_before + 3000000000ull);
    run_until(n, withdrawal_status, "finalized", 30, "withdrawal finalized");
    /* Once only. */
    assert_false(finalize(n));
    json_t *r = call(n, "bridge_info", "[]");
    assert_string_equal(json_string_value(json_object_get(r, "burned")), "3000000000");
    json_decref(r);
    node_free(n);
}

/* A node without a validator key: it mints nothing, so its watcher keeps
 * what it sees pending. */
static node *start_follower(const char *datadir)
{
    char *argv[] = {"openledgerd",
                    "--dev",
                    "--follower",
                    "--rpc",
                    "127.0.0.1:0",
                    "--p2p",
                    "off",
                    "--quiet-accounts",
                    "--log-level",
                    "error",
                    "--datadir",
                    (char *)datadir,
                    "--l1",
                    anvil.url,
                    "--rollup-config",
                    cfg_path,
                    NULL};
    node_cfg c;
    util_err err = {0};
    assert_int_equal(node_cfg_parse(&c, 16, argv, &err), NODE_CFG_RUN);
    node *n;
    if (node_start(&n, &c, &err)) fail_msg("node_start: %s", err.msg);
    assert_false(n->producing);
    return n;
}

static int deposit_is(node *n, void *ctx)
{
    const char **want = ctx; /* nonce param, status or NULL for null */
    json_t *r = call(n, "bridge_getDeposit", want[0]);
    int ok = want[1] ? json_is_object(r) &&
                           strcmp(json_string_value(json_object_get(r, "status")), want[1]) == 0
                     : json_is_null(r);
    json_decref(r);
    return ok;
}

static void test_l1_reorg_drops_a_pending_deposit(void **state)
{
    (void)state;
    char fdir[64];
    snprintf(fdir, sizeof fdir, "/tmp/ol-test-bridge-f-XXXXXX");
    assert_non_null(mkdtemp(fdir));
    node *n = start_follower(fdir);
    /* Its chain minted nothing: deposits 0 and 1 of the tests above are
     * pending in its view, the next one is 2. */
    json_t *snap = l1_rpc(anvil.url, "evm_snapshot", "[]");
    assert_non_null(snap);
    deposit(1000000000ull, 4);
    uint64_t d = l1_head();
    mine(DEPOSIT_CONF);
    const char *pending2[] = {"[2]", "pending"}, *gone2[] = {"[2]", NULL},
               *pending1[] = {"[1]", "pending"};
    run_until(n, deposit_is, pending2, 30, "deposit 2 pending");
    assert_true(deposit_is(n, pending1));
    json_t *r = call(n, "bridge_getDeposit", "[2]");
    assert_int_equal(json_integer_value(json_object_get(r, "l1Block")), d);
    assert_true(json_is_null(json_object_get(r, "height")));
    json_decref(r);

    /* An L1 reorganisation deeper than the confirmations takes it away. */
    json_t *sp = json_pack("[O]", snap), *ok = NULL;
    util_err err = {0};
    assert_int_equal(rollup_l1_call_sync(anvil.url, "evm_revert", sp, &ok, &err), 0);
    assert_true(json_is_true(ok));
    json_decref(ok);
    json_decref(sp);
    json_decref(snap);
    mine(DEPOSIT_CONF + 3);
    run_until(n, deposit_is, gone2, 30, "deposit 2 dropped");
    assert_true(deposit_is(n, pending1)); /* older ones stay */

    /* The same nonce made again elsewhere is kept from its new block. */
    mine(1);
    deposit(1500000000ull, 4);
    uint64_t d2 = l1_head();
    mine(DEPOSIT_CONF);
    run_until(n, deposit_is, pending2, 30, "deposit 2 pending again");
    r = call(n, "bridge_getDeposit", "[2]");
    assert_int_equal(json_integer_value(json_object_get(r, "l1Block")), d2);
    assert_string_equal(json_string_value(json_object_get(r, "amount")), "1500000000");
    json_decref(r);
    node_free(n);
    fx_rm_tree(fdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deposit_waits_for_confirmations_then_mints),
        cmocka_unit_test(test_restart_mints_the_next_once),
        cmocka_unit_test(test_withdrawal_to_finalized),
        cmocka_unit_test(test_l1_reorg_drops_a_pending_deposit),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
