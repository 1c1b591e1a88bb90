/* rollup/contracts on a real L1: anvil started on a free loopback port (and
 * killed at the end, also when a check fails or the program dies), both
 * contracts deployed with the node's own L1 client (rollup_deploy), then
 * BatchInbox's batcher rule and event, and OutputOracle's rules: more than
 * 2/3 of the power accepts an output; too little power, a signature over
 * another digest, an unknown signer, duplicate or unsorted signers and a
 * height that is not a multiple of the interval are refused; finalization
 * after the period (evm_increaseTime); a validator-set update signed by
 * more than 2/3; and the freeze by two conflicting roots each signed by more
 * than 1/3, after which proposals and updates are refused.
 *
 * The genesis has 4 validators (dev keys 0..3) of powers 10, 20, 30, 40, so
 * the checks are on power, not on counts: {40, 30} (70) is a quorum,
 * {10, 20, 30} (60) is not. Refusals are checked twice: the revert reason
 * (the custom error's selector) through eth_call, and a mined transaction
 * with status 0 (rollup_txmgr's UTIL_EINVAL). */
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
#include "rollup/config.h"
#include "rollup/deploy.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/keccak.h"
#include "rollup/l1/client.h"
#include "rollup/l1/txmgr.h"
#include "rollup/output.h"
#include "tests/unit/genesis_doc.h"
#include "tests/unit/rollup/l1_anvil.h"
#include "util/bytes.h"
#include "util/hex.h"

#define FINALIZATION_S 3600
#define INTERVAL 10
#define REVERT_GAS 1000000

/* anvil's first two funded accounts: the deployer and the batcher. */
static const char *DEPLOYER_SK = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
static const char *BATCHER_SK = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

static l1_anvil g_anvil;
static char g_url[64];
static uint8_t g_deployer[32], g_batcher_sk[32];
static chain_genesis g_gen;
static rollup_config g_cfg;
static rollup_txmgr_opts g_txo;

#include "tests/unit/rollup/l1_calls.h"

/* ---- anvil ---------------------------------------------------------------- */

static int start_anvil(void)
{
    if (l1_anvil_start(&g_anvil)) {
        fprintf(stderr, "anvil (%s) did not start\n", OL_ANVIL);
        return -1;
    }
    /* Also on an early exit (a failed check in setup). */
    atexit(stop_anvil);
    snprintf(g_url, sizeof g_url, "%s", g_anvil.url);
    return 0;
}

/* ---- L1 helpers ------------------------------------------------------------ */

/* eth_call of a view: returns the result bytes (malloc'd) and their length. */
static uint8_t *view(const rollup_eth_addr *to, const util_buf *data, size_t *n)
{
    json_t *res = rpc("eth_call", call_params(to, data));
    uint8_t *out = NULL;
    util_err err = {0};
    if (rollup_l1_parse_data(res, 4096, &out, n, "eth_call", &err)) fail_msg("%s", err.msg);
    json_decref(res);
    return out;
}

static void calldata(util_buf *b, const char *sig, const rollup_abi_val *v, size_t n)
{
    util_buf_init(b);
    rollup_abi_encode_call(b, sig, v, n);
    assert_false(b->oom);
}

static uint64_t view_u64(const rollup_eth_addr *to, const char *sig, const rollup_abi_val *v,
                         size_t nv)
{
    util_buf b;
    calldata(&b, sig, v, nv);
    size_t n = 0;
    uint8_t *out = view(to, &b, &n);
    uint64_t x = 0;
    util_err err = {0};
    if (rollup_abi_u64(out, n, 0, &x, &err)) fail_msg("%s: %s", sig, err.msg);
    free(out);
    util_buf_free(&b);
    return x;
}

static void view_word(const rollup_eth_addr *to, const char *sig, const rollup_abi_val *v,
                      size_t nv, size_t slot, uint8_t w[32])
{
    util_buf b;
    calldata(&b, sig, v, nv);
    size_t n = 0;
    uint8_t *out = view(to, &b, &n);
    util_err err = {0};
    if (rollup_abi_word(out, n, slot, w, &err)) fail_msg("%s: %s", sig, err.msg);
    free(out);
    util_buf_free(&b);
}

static rollup_abi_val u64v(uint64_t x)
{
    rollup_abi_val v = {.kind = ROLLUP_ABI_UINT, .u64 = x};
    return v;
}

static rollup_abi_val wordv(const uint8_t w[32])
{
    rollup_abi_val v = {.kind = ROLLUP_ABI_BYTES32};
    memcpy(v.word, w, 32);
    return v;
}

static rollup_abi_val bytesv(const uint8_t *p, size_t n)
{
    rollup_abi_val v = {.kind = ROLLUP_ABI_BYTES, .p = p, .n = n};
    return v;
}

static rollup_abi_val addrv(const rollup_eth_addr *a)
{
    rollup_abi_val v = {.kind = ROLLUP_ABI_ADDRESS, .addr = *a};
    return v;
}

/* Sends data to `to` from sk; returns the txmgr's rc (UTIL_EINVAL: reverted). */
/* ---- validators and signatures ---------------------------------------------- */

typedef struct signer {
    uint8_t sk[32];
    rollup_eth_addr addr;
} signer;

static signer dev_signer(uint32_t i)
{
    chain_keypair kp;
    signer s;
    util_err err = {0};
    assert_int_equal(chain_keypair_dev(&kp, i), 0);
    memcpy(s.sk, kp.seckey, 32);
    assert_int_equal(rollup_eth_addr_from_xonly(&s.addr, kp.pubkey, &err), 0);
    chain_keypair_clear(&kp);
    return s;
}

static int by_addr(const void *a, const void *b)
{
    return memcmp(((const signer *)a)->addr.b, ((const signer *)b)->addr.b, ROLLUP_ETH_ADDR_LEN);
}

/* Signatures of dev keys devs[0..n) over digest, in increasing address order
 * when sorted, else in the given order. Returns the length in out. */
static size_t sign_set(uint8_t *out, const uint8_t digest[32], const uint32_t *devs, size_t n,
                       int sorted)
{
    signer s[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        s[i] = dev_signer(devs[i]);
    if (sorted) qsort(s, n, sizeof s[0], by_addr);
    util_err err = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rollup_output_sign(out + i * ROLLUP_ETH_SIG_LEN, digest, s[i].sk, &err),
                         0);
    return n * ROLLUP_ETH_SIG_LEN;
}

static void propose_data(util_buf *b, uint64_t h, const uint8_t root[32], const uint8_t *sigs,
                         size_t n)
{
    rollup_abi_val v[3] = {u64v(h), wordv(root), bytesv(sigs, n)};
    calldata(b, "proposeOutput(uint64,bytes32,bytes)", v, 3);
}

static void get_output(uint64_t h, uint8_t root[32], uint64_t *ts)
{
    rollup_abi_val v = u64v(h);
    uint8_t w[32];
    view_word(&g_cfg.output_oracle, "getOutput(uint64)", &v, 1, 0, root);
    view_word(&g_cfg.output_oracle, "getOutput(uint64)", &v, 1, 1, w);
    uint64_t t = 0;
    for (int i = 24; i < 32; i++)
        t = t << 8 | w[i];
    *ts = t;
}

static uint64_t is_finalized(uint64_t h)
{
    rollup_abi_val v = u64v(h);
    return view_u64(&g_cfg.output_oracle, "isFinalized(uint64)", &v, 1);
}

static uint64_t power_of(const rollup_eth_addr *a)
{
    rollup_abi_val v = addrv(a);
    return view_u64(&g_cfg.output_oracle, "powerOf(address)", &v, 1);
}

/* The validator-set digest as docs/rollup.md states it. */
static void valset_digest(uint8_t out[32], uint64_t nonce, const rollup_eth_addr *vals,
                          const uint64_t *powers, size_t n)
{
    static const char *T = "OpenLedger.ValidatorSet(bytes32 l2Genesis,uint64 nonce,bytes32 "
                           "validatorsHash,bytes32 powersHash)";
    uint8_t buf[5 * 32], w[32];
    memset(buf, 0, sizeof buf);
    rollup_keccak256(buf, T, strlen(T));
    memcpy(buf + 32, g_gen.hash, 32);
    for (int i = 0; i < 8; i++)
        buf[64 + 31 - i] = (uint8_t)(nonce >> (8 * i));
    rollup_keccak_ctx c;
    rollup_keccak_init(&c);
    for (size_t k = 0; k < n; k++) {
        memset(w, 0, 32);
        memcpy(w + 12, vals[k].b, 20);
        rollup_keccak_update(&c, w, 32);
    }
    rollup_keccak_final(&c, buf + 96);
    rollup_keccak_init(&c);
    for (size_t k = 0; k < n; k++) {
        memset(w, 0, 32);
        for (int i = 0; i < 8; i++)
            w[31 - i] = (uint8_t)(powers[k] >> (8 * i));
        rollup_keccak_update(&c, w, 32);
    }
    rollup_keccak_final(&c, buf + 128);
    rollup_keccak256(out, buf, sizeof buf);
}

/* ---- setup --------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (util_hex_decode_exact(g_deployer, 32, DEPLOYER_SK) ||
        util_hex_decode_exact(g_batcher_sk, 32, BATCHER_SK))
        return -1;
    if (start_anvil()) return -1;
    json_t *doc = devnet_doc();
    json_t *vals = json_array();
    for (uint32_t i = 0; i < 4; i++)
        json_array_append_new(vals, validator(i, 10 * (json_int_t)(i + 1)));
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
    rollup_eth_addr batcher;
    rollup_deploy_opts o = {
        .finalization_period_s = FINALIZATION_S, .confirmations = 2, .channel_timeout_blocks = 50};
    if (rollup_eth_addr_from_seckey(&batcher, g_batcher_sk, &err) ||
        rollup_deploy(g_url, g_deployer, &g_gen, &batcher, &o, &g_cfg, &err)) {
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

/* ---- tests ------------------------------------------------------------------------ */

static void test_deployed(void **state)
{
    (void)state;
    rollup_eth_addr batcher;
    util_err err = {0};
    assert_int_equal(rollup_eth_addr_from_seckey(&batcher, g_batcher_sk, &err), 0);
    assert_int_equal(g_cfg.l1_chain_id, 31337);
    assert_memory_equal(g_cfg.l2_genesis_hash, g_gen.hash, 32);
    assert_memory_equal(g_cfg.batcher.b, batcher.b, 20);
    assert_true(g_cfg.deploy_block >= 1);
    assert_int_equal(g_cfg.finalization_period_s, FINALIZATION_S);
    assert_int_equal(g_cfg.confirmations, 2);
    assert_int_equal(g_cfg.channel_timeout_blocks, 50);
    assert_memory_not_equal(g_cfg.batch_inbox.b, g_cfg.output_oracle.b, 20);

    uint8_t w[32];
    view_word(&g_cfg.batch_inbox, "l2Genesis()", NULL, 0, 0, w);
    assert_memory_equal(w, g_gen.hash, 32);
    view_word(&g_cfg.batch_inbox, "batcher()", NULL, 0, 0, w);
    assert_memory_equal(w + 12, batcher.b, 20);

    const rollup_eth_addr *o = &g_cfg.output_oracle;
    view_word(o, "l2Genesis()", NULL, 0, 0, w);
    assert_memory_equal(w, g_gen.hash, 32);
    assert_int_equal(view_u64(o, "outputInterval()", NULL, 0), INTERVAL);
    assert_int_equal(view_u64(o, "finalizationPeriodSeconds()", NULL, 0), FINALIZATION_S);
    assert_int_equal(view_u64(o, "totalPower()", NULL, 0), 100);
    assert_int_equal(view_u64(o, "validatorSetNonce()", NULL, 0), 0);
    assert_int_equal(view_u64(o, "frozen()", NULL, 0), 0);
    rollup_eth_addr addrs[CHAIN_MAX_VALIDATORS];
    assert_int_equal(rollup_validator_addrs(&g_gen, addrs, &err), 0);
    for (size_t i = 0; i < 4; i++) {
        signer s = dev_signer((uint32_t)i);
        assert_memory_equal(addrs[i].b, s.addr.b, 20);
        assert_int_equal(power_of(&addrs[i]), 10 * (i + 1));
    }
    assert_int_equal(power_of(&batcher), 0);

    /* The contract computes the digest the validators sign exactly as C does. */
    uint8_t root[32], d[32];
    memset(root, 0x42, 32);
    rollup_output_digest(d, g_gen.hash, 1234567, root);
    rollup_abi_val v[2] = {u64v(1234567), wordv(root)};
    view_word(o, "outputDigest(uint64,bytes32)", v, 2, 0, w);
    assert_memory_equal(w, d, 32);
}

static void test_batch_inbox(void **state)
{
    (void)state;
    uint8_t frame[1000];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (uint8_t)(i * 7 + 1);
    rollup_abi_val v = bytesv(frame, sizeof frame);
    util_buf b;
    calldata(&b, "post(bytes)", &v, 1);
    expect_revert(g_deployer, &g_cfg.batch_inbox, &b, "NotBatcher(address)");

    rollup_l1_receipt r;
    send_ok(g_batcher_sk, &g_cfg.batch_inbox, &b, &r);
    print_message("BatchInbox.post of a %zu-byte frame: %llu gas\n", sizeof frame,
                  (unsigned long long)r.gas_used);
    util_buf_free(&b);

    json_t *f = json_object();
    json_object_set_new(f, "address", rollup_l1_address(&g_cfg.batch_inbox));
    json_object_set_new(f, "fromBlock", rollup_l1_quantity(r.block_number));
    json_object_set_new(f, "toBlock", rollup_l1_quantity(r.block_number));
    json_t *res = rpc("eth_getLogs", json_pack("[o]", f));
    rollup_l1_log *logs = NULL;
    size_t n = 0;
    util_err err = {0};
    if (rollup_l1_parse_logs(res, 16, 1024, &logs, &n, &err)) fail_msg("%s", err.msg);
    json_decref(res);
    assert_int_equal(n, 1);
    uint8_t topic[32], h[32];
    const char *ev = "BatchPosted(address,bytes32)";
    rollup_keccak256(topic, ev, strlen(ev));
    rollup_keccak256(h, frame, sizeof frame);
    assert_int_equal(logs[0].ntopics, 2);
    assert_memory_equal(logs[0].topics[0], topic, 32);
    assert_memory_equal(logs[0].topics[1] + 12, g_cfg.batcher.b, 20);
    assert_int_equal(logs[0].data_len, 32);
    assert_memory_equal(logs[0].data, h, 32);
    assert_memory_equal(logs[0].tx_hash, r.tx_hash, 32);
    rollup_l1_logs_free(logs, n);

    /* A frame as large as the batcher sends (gas measured for docs). */
    size_t big = 120 * 1024;
    uint8_t *p = malloc(big);
    assert_non_null(p);
    for (size_t i = 0; i < big; i++)
        p[i] = (uint8_t)(i * 131 + (i >> 8));
    v = bytesv(p, big);
    calldata(&b, "post(bytes)", &v, 1);
    send_ok(g_batcher_sk, &g_cfg.batch_inbox, &b, &r);
    print_message("BatchInbox.post of a %zu-byte frame: %llu gas\n", big,
                  (unsigned long long)r.gas_used);
    util_buf_free(&b);
    free(p);
}

static void test_propose_accepted(void **state)
{
    (void)state;
    uint8_t root[32], d[32], sigs[8 * ROLLUP_ETH_SIG_LEN], got[32];
    memset(root, 0xa1, 32);
    rollup_output_digest(d, g_gen.hash, INTERVAL, root);
    uint32_t q[] = {3, 2}; /* 40 + 30 = 70 > 66.7 */
    size_t n = sign_set(sigs, d, q, 2, 1);
    util_buf b;
    propose_data(&b, INTERVAL, root, sigs, n);
    rollup_l1_receipt r;
    send_ok(g_deployer, &g_cfg.output_oracle, &b, &r);
    print_message("proposeOutput with 2 signatures: %llu gas\n", (unsigned long long)r.gas_used);
    util_buf_free(&b);
    uint64_t ts = 0;
    get_output(INTERVAL, got, &ts);
    assert_memory_equal(got, root, 32);
    assert_true(ts > 0);
    assert_int_equal(view_u64(&g_cfg.output_oracle, "latestOutputHeight()", NULL, 0), INTERVAL);
    assert_int_equal(is_finalized(INTERVAL), 0);

    /* Every validator signing: gas with 4 signatures. */
    memset(root, 0xa2, 32);
    rollup_output_digest(d, g_gen.hash, 2 * INTERVAL, root);
    uint32_t all[] = {0, 1, 2, 3};
    n = sign_set(sigs, d, all, 4, 1);
    propose_data(&b, 2 * INTERVAL, root, sigs, n);
    send_ok(g_deployer, &g_cfg.output_oracle, &b, &r);
    print_message("proposeOutput with 4 signatures: %llu gas\n", (unsigned long long)r.gas_used);
    util_buf_free(&b);
    assert_int_equal(view_u64(&g_cfg.output_oracle, "latestOutputHeight()", NULL, 0), 2 * INTERVAL);

    /* The same height again, even with a quorum, is refused. */
    memset(root, 0xa3, 32);
    rollup_output_digest(d, g_gen.hash, INTERVAL, root);
    n = sign_set(sigs, d, all, 4, 1);
    propose_data(&b, INTERVAL, root, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "OutputExists(uint64)");
    util_buf_free(&b);
    get_output(INTERVAL, got, &ts);
    memset(root, 0xa1, 32);
    assert_memory_equal(got, root, 32);
}

static void test_propose_refused(void **state)
{
    (void)state;
    const uint64_t h = 3 * INTERVAL;
    uint8_t root[32], d[32], other[32], sigs[8 * ROLLUP_ETH_SIG_LEN], got[32];
    memset(root, 0xb1, 32);
    rollup_output_digest(d, g_gen.hash, h, root);
    util_buf b;
    size_t n;

    /* Too little power: three signers, 60 of 100. */
    uint32_t weak[] = {0, 1, 2};
    n = sign_set(sigs, d, weak, 3, 1);
    propose_data(&b, h, root, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "InsufficientPower(uint256,uint256)");
    util_buf_free(&b);

    /* No signature at all. */
    propose_data(&b, h, root, sigs, 0);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "InsufficientPower(uint256,uint256)");
    util_buf_free(&b);

    /* Signatures over another digest (another height) recover to addresses
     * that hold no power. */
    uint32_t q[] = {3, 2};
    rollup_output_digest(other, g_gen.hash, h + INTERVAL, root);
    n = sign_set(sigs, other, q, 2, 1);
    propose_data(&b, h, root, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "UnknownSigner(address)");
    util_buf_free(&b);

    /* An unknown signer beside a quorum. */
    uint32_t unk[] = {3, 2, 9};
    n = sign_set(sigs, d, unk, 3, 1);
    propose_data(&b, h, root, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "UnknownSigner(address)");
    util_buf_free(&b);

    /* The 40 validator twice would make 80: duplicates are refused. */
    uint32_t one[] = {3};
    n = sign_set(sigs, d, one, 1, 1);
    memcpy(sigs + n, sigs, n);
    propose_data(&b, h, root, sigs, 2 * n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "SignersNotIncreasing(uint256)");
    util_buf_free(&b);

    /* A quorum in decreasing address order. */
    n = sign_set(sigs, d, q, 2, 1);
    uint8_t swapped[2 * ROLLUP_ETH_SIG_LEN];
    memcpy(swapped, sigs + ROLLUP_ETH_SIG_LEN, ROLLUP_ETH_SIG_LEN);
    memcpy(swapped + ROLLUP_ETH_SIG_LEN, sigs, ROLLUP_ETH_SIG_LEN);
    propose_data(&b, h, root, swapped, sizeof swapped);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "SignersNotIncreasing(uint256)");
    util_buf_free(&b);

    /* A truncated signature, and one with v outside {27, 28}. */
    propose_data(&b, h, root, sigs, n - 1);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "BadSignaturesLength(uint256)");
    util_buf_free(&b);
    memcpy(swapped, sigs, n);
    swapped[ROLLUP_ETH_SIG_LEN - 1] = 29;
    propose_data(&b, h, root, swapped, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "BadSignature(uint256)");
    util_buf_free(&b);

    /* A quorum for a height that is not a multiple of the interval, and for 0. */
    rollup_output_digest(other, g_gen.hash, h + 1, root);
    n = sign_set(sigs, other, q, 2, 1);
    propose_data(&b, h + 1, root, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "BadHeight(uint64)");
    util_buf_free(&b);
    rollup_output_digest(other, g_gen.hash, 0, root);
    n = sign_set(sigs, other, q, 2, 1);
    propose_data(&b, 0, root, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "BadHeight(uint64)");
    util_buf_free(&b);

    uint64_t ts = 1;
    get_output(h, got, &ts);
    assert_int_equal(ts, 0);
    assert_int_equal(view_u64(&g_cfg.output_oracle, "latestOutputHeight()", NULL, 0), 2 * INTERVAL);

    /* The same quorum, in order, is then accepted. */
    n = sign_set(sigs, d, q, 2, 1);
    propose_data(&b, h, root, sigs, n);
    rollup_l1_receipt r;
    send_ok(g_deployer, &g_cfg.output_oracle, &b, &r);
    util_buf_free(&b);
    get_output(h, got, &ts);
    assert_memory_equal(got, root, 32);
}

static void test_finalization(void **state)
{
    (void)state;
    assert_int_equal(is_finalized(INTERVAL), 0);
    assert_int_equal(is_finalized(5 * INTERVAL), 0); /* no output there */
    advance_time(FINALIZATION_S - 120);
    assert_int_equal(is_finalized(INTERVAL), 0);
    advance_time(240);
    assert_int_equal(is_finalized(INTERVAL), 1);
    assert_int_equal(is_finalized(5 * INTERVAL), 0);
}

/* The new set: dev keys 1..4 with 25 each (dev 0 leaves, dev 4 joins). */
static const uint32_t NEW_DEVS[4] = {1, 2, 3, 4};

static void update_data(util_buf *b, const rollup_eth_addr *vals, const uint64_t *powers,
                        const uint8_t *sigs, size_t n)
{
    rollup_abi_val v[3] = {{.kind = ROLLUP_ABI_ADDRESS_ARR, .addrs = vals, .n = 4},
                           {.kind = ROLLUP_ABI_UINT_ARR, .u64s = powers, .n = 4},
                           bytesv(sigs, n)};
    calldata(b, "updateValidators(address[],uint64[],bytes)", v, 3);
}

static void test_update_validators(void **state)
{
    (void)state;
    rollup_eth_addr vals[4];
    uint64_t powers[4] = {25, 25, 25, 25};
    for (size_t i = 0; i < 4; i++)
        vals[i] = dev_signer(NEW_DEVS[i]).addr;
    uint8_t d[32], w[32], sigs[8 * ROLLUP_ETH_SIG_LEN];
    valset_digest(d, 0, vals, powers, 4);
    rollup_abi_val v[3] = {u64v(0),
                           {.kind = ROLLUP_ABI_ADDRESS_ARR, .addrs = vals, .n = 4},
                           {.kind = ROLLUP_ABI_UINT_ARR, .u64s = powers, .n = 4}};
    view_word(&g_cfg.output_oracle, "validatorSetDigest(uint64,address[],uint64[])", v, 3, 0, w);
    assert_memory_equal(w, d, 32);

    util_buf b;
    uint32_t weak[] = {0, 1, 2};
    size_t n = sign_set(sigs, d, weak, 3, 1);
    update_data(&b, vals, powers, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "InsufficientPower(uint256,uint256)");
    util_buf_free(&b);

    /* A quorum of the new set is nobody yet. */
    uint32_t newq[] = {4, 1, 2};
    n = sign_set(sigs, d, newq, 3, 1);
    update_data(&b, vals, powers, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "UnknownSigner(address)");
    util_buf_free(&b);

    uint32_t q[] = {3, 2};
    n = sign_set(sigs, d, q, 2, 1);
    update_data(&b, vals, powers, sigs, n);
    rollup_l1_receipt r;
    send_ok(g_deployer, &g_cfg.output_oracle, &b, &r);
    print_message("updateValidators (4 validators, 2 signatures): %llu gas\n",
                  (unsigned long long)r.gas_used);
    /* The same message again: its nonce is spent. */
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "UnknownSigner(address)");
    util_buf_free(&b);

    assert_int_equal(view_u64(&g_cfg.output_oracle, "validatorSetNonce()", NULL, 0), 1);
    assert_int_equal(view_u64(&g_cfg.output_oracle, "totalPower()", NULL, 0), 100);
    signer gone = dev_signer(0), joined = dev_signer(4), kept = dev_signer(3);
    assert_int_equal(power_of(&gone.addr), 0);
    assert_int_equal(power_of(&joined.addr), 25);
    assert_int_equal(power_of(&kept.addr), 25);

    /* The old quorum {40, 30} is now 50 of 100; the new one proposes. */
    uint8_t root[32];
    memset(root, 0xc1, 32);
    const uint64_t h = 4 * INTERVAL;
    rollup_output_digest(d, g_gen.hash, h, root);
    n = sign_set(sigs, d, q, 2, 1);
    propose_data(&b, h, root, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "InsufficientPower(uint256,uint256)");
    util_buf_free(&b);
    n = sign_set(sigs, d, newq, 3, 1);
    propose_data(&b, h, root, sigs, n);
    send_ok(g_deployer, &g_cfg.output_oracle, &b, &r);
    print_message("proposeOutput with 3 signatures: %llu gas\n", (unsigned long long)r.gas_used);
    util_buf_free(&b);

    /* A set the oracle cannot take: a repeated validator. */
    rollup_eth_addr dup[4] = {vals[0], vals[1], vals[0], vals[3]};
    valset_digest(d, 1, dup, powers, 4);
    n = sign_set(sigs, d, newq, 3, 1);
    update_data(&b, dup, powers, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "DuplicateValidator(address)");
    util_buf_free(&b);
}

static void freeze_data(util_buf *b, uint64_t h, const uint8_t ra[32], const uint8_t *sa, size_t na,
                        const uint8_t rb[32], const uint8_t *sb, size_t nb)
{
    rollup_abi_val v[5] = {u64v(h), wordv(ra), bytesv(sa, na), wordv(rb), bytesv(sb, nb)};
    calldata(b, "freeze(uint64,bytes32,bytes,bytes32,bytes)", v, 5);
}

static void test_freeze(void **state)
{
    (void)state;
    const uint64_t h = 5 * INTERVAL;
    uint8_t ra[32], rb[32], da[32], db[32];
    uint8_t sa[8 * ROLLUP_ETH_SIG_LEN], sb[8 * ROLLUP_ETH_SIG_LEN];
    memset(ra, 0xd1, 32);
    memset(rb, 0xd2, 32);
    rollup_output_digest(da, g_gen.hash, h, ra);
    rollup_output_digest(db, g_gen.hash, h, rb);
    uint32_t a[] = {1, 2}, bset[] = {3, 4}, lone[] = {3}; /* 50, 50, 25 of 100 */
    size_t na = sign_set(sa, da, a, 2, 1);
    size_t nb = sign_set(sb, db, bset, 2, 1);
    util_buf b;

    /* One side at 25 is not more than 1/3. */
    size_t nl = sign_set(sb, db, lone, 1, 1);
    freeze_data(&b, h, ra, sa, na, rb, sb, nl);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "InsufficientPower(uint256,uint256)");
    util_buf_free(&b);
    /* The same root twice is no conflict. */
    freeze_data(&b, h, ra, sa, na, ra, sa, na);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "SameRoot()");
    util_buf_free(&b);
    assert_int_equal(view_u64(&g_cfg.output_oracle, "frozen()", NULL, 0), 0);
    assert_int_equal(is_finalized(INTERVAL), 1);

    /* Anyone (here the batcher account) submits the evidence. */
    nb = sign_set(sb, db, bset, 2, 1);
    freeze_data(&b, h, ra, sa, na, rb, sb, nb);
    rollup_l1_receipt r;
    send_ok(g_batcher_sk, &g_cfg.output_oracle, &b, &r);
    print_message("freeze: %llu gas\n", (unsigned long long)r.gas_used);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "OracleFrozen()");
    util_buf_free(&b);
    assert_int_equal(view_u64(&g_cfg.output_oracle, "frozen()", NULL, 0), 1);
    assert_int_equal(is_finalized(INTERVAL), 0);

    /* A full quorum can no longer propose nor change the set. */
    uint32_t all[] = {1, 2, 3, 4};
    uint8_t d[32], sigs[8 * ROLLUP_ETH_SIG_LEN];
    rollup_output_digest(d, g_gen.hash, h, ra);
    size_t n = sign_set(sigs, d, all, 4, 1);
    propose_data(&b, h, ra, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "OracleFrozen()");
    util_buf_free(&b);
    rollup_eth_addr vals[4];
    uint64_t powers[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < 4; i++)
        vals[i] = dev_signer(NEW_DEVS[i]).addr;
    valset_digest(d, 1, vals, powers, 4);
    n = sign_set(sigs, d, all, 4, 1);
    update_data(&b, vals, powers, sigs, n);
    expect_revert(g_deployer, &g_cfg.output_oracle, &b, "OracleFrozen()");
    util_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deployed),         cmocka_unit_test(test_batch_inbox),
        cmocka_unit_test(test_propose_accepted), cmocka_unit_test(test_propose_refused),
        cmocka_unit_test(test_finalization),     cmocka_unit_test(test_update_validators),
        cmocka_unit_test(test_freeze),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
