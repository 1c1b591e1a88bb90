/* The bridge commands of openledger-cli (docs/rollup.md, "Bridge", "CLI"):
 * the local proof check, argument errors, and deposit / status / finalize run in-process against
 * one fake that answers both the node's methods and the L1's (eth_*): the L1 transactions the CLI
 * signs are decoded and their calldata compared with rollup/bridge_abi.h's, and a tampered proof is
 * refused before anything is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../cli_fake_node.h"
#include "chain/crypto/hash.h"
#include "chain/exec/bridge.h"
#include "chain/state/smt.h"
#include "cli/bridge.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/keccak.h"
#include "rollup/eth/tx.h"
#include "rollup/output.h"
#include "chain/types/tx.h"
#include "util/hex.h"

#define TOKEN "0x1111111111111111111111111111111111111111"
#define BRIDGE "0x2222222222222222222222222222222222222222"
#define ORACLE "0x3333333333333333333333333333333333333333"
#define RCPT "0x4444444444444444444444444444444444444444"
#define MAX_SENT 4
#define BHASH "0xabababababababababababababababababababababababababababababababab"

/* What the fake node and L1 answer, and what they saw. */
static struct {
    int l1url_null;
    int no_bridge_info;
    uint64_t open_balance, allowance;
    json_t *withdrawal; /* bridge_getWithdrawal */
    json_t *proof;      /* bridge_getWithdrawalProof */
    uint8_t l1_output_root[32];
    const char *revert_hex; /* eth_estimateGas answers this revert when set */
    int revert_times;       /* ... that many times, then gas (0: always) */
    int nsent;
    rollup_eth_tx sent[MAX_SENT];
    rollup_eth_addr sent_from[MAX_SENT];
    uint8_t *sent_raw[MAX_SENT];
    uint8_t sent_hash[MAX_SENT][32];
    int tx_pending; /* chain_getTransaction: pending */
    json_t *tx;     /* chain_getTransaction answer when set */
    chain_tx l2tx;  /* what tx_send got */
    int l2sent;
    char l2txid[67];
} T;

static void reset(void)
{
    for (int i = 0; i < T.nsent; i++)
        free(T.sent_raw[i]);
    json_decref(T.withdrawal);
    json_decref(T.proof);
    json_decref(T.tx);
    memset(&T, 0, sizeof T);
}

static json_t *word_hex(uint64_t v)
{
    uint8_t w[32] = {0};
    util_put_u64be(w + 24, v);
    return rollup_l1_data(w, 32);
}

static char *l1_revert(const char *data)
{
    json_t *e =
        json_pack("{s:i, s:s, s:s}", "code", 3, "message", "execution reverted", "data", data);
    json_t *env = json_pack("{s:s, s:i, s:o}", "jsonrpc", "2.0", "id", 1, "error", e);
    char *body = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    char *r = http_raw("200 OK", body);
    free(body);
    return r;
}

static int selector_is(const char *data, const char *sig)
{
    uint8_t s[4];
    char h[9];
    rollup_abi_selector(s, sig);
    util_hex_encode(h, s, 4);
    return data && strncmp(data + 2, h, 8) == 0;
}

static char *receipt(json_t *params)
{
    const char *h = json_string_value(json_array_get(params, 0));
    int k = -1;
    for (int i = 0; i < T.nsent; i++) {
        char s[67] = "0x";
        util_hex_encode(s + 2, T.sent_hash[i], 32);
        if (h && strcmp(h, s) == 0) k = i;
    }
    if (k < 0) return ok(json_null());
    json_t *logs = json_array();
    const rollup_eth_tx *tx = &T.sent[k];
    uint8_t sel[4];
    rollup_abi_selector(sel, "deposit(uint64,bytes20)");
    if (tx->data_len == 68 && memcmp(tx->data, sel, 4) == 0) {
        uint8_t topic[32], from[32] = {0}, data[64] = {0};
        rollup_bridge_topic_deposit(topic);
        memcpy(from + 12, T.sent_from[k].b, 20);
        memcpy(data, tx->data + 36, 20);         /* bytes20, left-aligned */
        memcpy(data + 56, tx->data + 4 + 24, 8); /* amount */
        json_array_append_new(
            logs,
            json_pack("{s:s, s:[o,o,o], s:o, s:s, s:s, s:o, s:s, s:s, s:b}", "address", BRIDGE,
                      "topics", rollup_l1_data(topic, 32), word_hex(7), rollup_l1_data(from, 32),
                      "data", rollup_l1_data(data, 64), "blockNumber", "0x10", "blockHash", BHASH,
                      "transactionHash", rollup_l1_data(T.sent_hash[k], 32), "transactionIndex",
                      "0x0", "logIndex", "0x0", "removed", 0));
    }
    return ok(json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:n, s:o}", "transactionHash",
                        rollup_l1_data(T.sent_hash[k], 32), "status", "0x1", "blockNumber", "0x10",
                        "blockHash", BHASH, "gasUsed", "0xc350", "effectiveGasPrice", "0x3b9aca00",
                        "contractAddress", "logs", logs));
}

static char *handler(const char *m, json_t *p)
{
    if (strcmp(m, "bridge_info") == 0 && T.no_bridge_info)
        return rpc_error(-32601, "Method not found", NULL);
    if (strcmp(m, "bridge_info") == 0)
        return ok(json_pack("{s:i, s:o, s:s, s:s, s:s, s:i, s:i, s:i}", "l1ChainId", 31337, "l1Url",
                            T.l1url_null ? json_null() : json_string(F.url), "token", TOKEN,
                            "bridge", BRIDGE, "outputOracle", ORACLE, "depositConfirmations", 2,
                            "finalizationPeriodSeconds", 30, "outputIntervalBlocks", 10));
    if (strcmp(m, "eth_chainId") == 0) return ok(json_string("0x7a69"));
    if (strcmp(m, "eth_blockNumber") == 0) return ok(json_string("0x20"));
    if (strcmp(m, "eth_getBalance") == 0) return ok(json_string("0x3635c9adc5dea00000"));
    if (strcmp(m, "eth_getTransactionCount") == 0) return ok(json_string("0x5"));
    if (strcmp(m, "eth_feeHistory") == 0)
        return ok(json_pack("{s:s, s:[s,s], s:[f], s:[[s]]}", "oldestBlock", "0x1", "baseFeePerGas",
                            "0x3b9aca00", "0x3b9aca00", "gasUsedRatio", 0.5, "reward", "0x2"));
    if (strcmp(m, "eth_estimateGas") == 0) {
        if (T.revert_hex && T.revert_times > 0 && --T.revert_times == 0) {
            const char *h = T.revert_hex;
            T.revert_hex = NULL;
            return l1_revert(h);
        }
        return T.revert_hex ? l1_revert(T.revert_hex) : ok(json_string("0xc350"));
    }
    if (strcmp(m, "eth_call") == 0) {
        const char *d = json_string_value(json_object_get(json_array_get(p, 0), "data"));
        if (selector_is(d, "balanceOf(address)")) return ok(word_hex(T.open_balance));
        if (selector_is(d, "allowance(address,address)")) return ok(word_hex(T.allowance));
        if (selector_is(d, "getOutput(uint64)")) {
            uint8_t out[64] = {0};
            memcpy(out, T.l1_output_root, 32);
            out[63] = 1;
            return ok(rollup_l1_data(out, 64));
        }
        return ok(json_string("0x"));
    }
    if (strcmp(m, "eth_sendRawTransaction") == 0) {
        assert_true(T.nsent < MAX_SENT);
        const char *hex = json_string_value(json_array_get(p, 0));
        uint8_t *raw = NULL;
        size_t n = 0;
        assert_int_equal(util_hex_decode_alloc(hex + 2, 1 << 20, &raw, &n), 0);
        int k = T.nsent++;
        T.sent_raw[k] = raw;
        assert_int_equal(rollup_eth_tx_decode(&T.sent[k], &T.sent_from[k], raw, n, NULL), 0);
        rollup_keccak256(T.sent_hash[k], raw, n);
        return ok(rollup_l1_data(T.sent_hash[k], 32));
    }
    if (strcmp(m, "eth_getTransactionReceipt") == 0) return receipt(p);
    if (strcmp(m, "bridge_getDeposit") == 0)
        return ok(json_pack("{s:i, s:s, s:i, s:s}", "nonce", 7, "status", "minted", "height", 42,
                            "txid", "0x00"));
    if (strcmp(m, "bridge_getWithdrawal") == 0)
        return ok(T.withdrawal ? json_deep_copy(T.withdrawal) : json_null());
    if (strcmp(m, "bridge_getWithdrawalProof") == 0) return ok(json_deep_copy(T.proof));
    if (strcmp(m, "node_status") == 0)
        return ok(json_pack("{s:s, s:s}", "chainId", "openledger-devnet", "genesisHash",
                            "0x0000000000000000000000000000000000000000000000000000000000000000"));
    if (strcmp(m, "account_get") == 0) return ok(json_pack("{s:i}", "pendingNonce", 4));
    if (strcmp(m, "tx_send") == 0) {
        const char *hex = json_string_value(json_array_get(p, 0));
        uint8_t *raw = NULL;
        size_t n = 0;
        assert_int_equal(util_hex_decode_alloc(hex + 2, 1 << 20, &raw, &n), 0);
        assert_int_equal(chain_tx_decode(&T.l2tx, raw, n, NULL), 0);
        free(raw);
        T.l2sent = 1;
        snprintf(T.l2txid, sizeof T.l2txid, "0x");
        util_hex_encode(T.l2txid + 2, T.l2tx.id, 32);
        return ok(json_string(T.l2txid));
    }
    if (strcmp(m, "bridge_listByAddress") == 0)
        return ok(json_pack("{s:[], s:[{s:i, s:s}, {s:i, s:s}]}", "deposits", "withdrawals", "id",
                            3, "txid", T.l2txid, "id", 2, "txid", "0x01"));
    if (strcmp(m, "chain_getTransaction") == 0) {
        if (T.tx) return ok(json_incref(T.tx));
        if (T.l2sent) {
            chain_addr d1;
            char sa[CHAIN_ADDR_STR_LEN + 1];
            assert_int_equal(cli_dev_address(1, &d1, NULL), 0);
            chain_addr_encode(sa, &d1);
            return ok(json_pack("{s:{s:s, s:s, s:s}, s:b, s:{s:s, s:i, s:s}, s:i, s:s, s:i}", "tx",
                                "hash", T.l2txid, "type", "withdraw", "from", sa, "pending", 0,
                                "receipt", "status", "success", "gasUsed", 5000, "fee", "5000",
                                "blockHeight", 17, "blockHash", "0xbb", "index", 0));
        }
        if (T.tx_pending)
            return ok(json_pack("{s:{s:s, s:s}, s:b}", "tx", "type",
                                chain_tx_type_name(CHAIN_TX_WITHDRAW), "from",
                                "ol1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", "pending", 1));
        return rpc_error(-32001, "transaction not found", NULL);
    }
    return rpc_error(-32601, "Method not found", NULL);
}

/* --- proofs ------------------------------------------------------------------ */

typedef struct mem_node {
    uint8_t h[32], n[CHAIN_SMT_NODE_LEN];
} mem_node;
static mem_node nodes[256];
static size_t nnodes;

static int ms_get(void *ctx, const uint8_t h[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    (void)ctx;
    for (size_t i = 0; i < nnodes; i++)
        if (memcmp(nodes[i].h, h, 32) == 0) {
            memcpy(out, nodes[i].n, CHAIN_SMT_NODE_LEN);
            return 0;
        }
    return UTIL_ENOTFOUND;
}

static void ms_put(void *ctx, const uint8_t h[32], const uint8_t n[CHAIN_SMT_NODE_LEN])
{
    (void)ctx;
    assert_true(nnodes < 256);
    memcpy(nodes[nnodes].h, h, 32);
    memcpy(nodes[nnodes++].n, n, CHAIN_SMT_NODE_LEN);
}

static json_t *hexj(const uint8_t *p, size_t n)
{
    return rollup_l1_data(p, n);
}

/* A withdrawals tree of five withdrawals from dev1 and the node's answer
 * for withdrawal 3 (its proof, the output's roots), as bridge_getWithdrawalProof
 * gives it. Sets T.l1_output_root to the same root. */
static json_t *make_proof(void)
{
    nnodes = 0;
    chain_smt_store st = {NULL, ms_get, ms_put};
    chain_smt_update ups[5];
    chain_addr sender;
    assert_int_equal(cli_dev_address(1, &sender, NULL), 0);
    rollup_eth_addr rcpt;
    assert_int_equal(rollup_eth_addr_parse(&rcpt, RCPT, NULL), 0);
    for (uint64_t i = 0; i < 5; i++) {
        chain_withdrawal w = {.id = i, .sender = sender, .amount = 1000000000 * (i + 1)};
        memcpy(w.l1_recipient, rcpt.b, 20);
        uint8_t v[CHAIN_WITHDRAWAL_LEN];
        chain_withdrawal_encode(&w, v);
        chain_withdrawal_path(ups[i].path, i);
        chain_sha256(ups[i].value_hash, v, sizeof v);
        ups[i].remove = 0;
    }
    uint8_t empty[32] = {0}, wroot[32], path[32];
    assert_int_equal(chain_smt_apply(&st, empty, ups, 5, wroot, NULL), 0);
    chain_smt_proof sp;
    chain_withdrawal_path(path, 3);
    assert_int_equal(chain_smt_prove(&st, wroot, path, &sp, NULL), 0);
    assert_true(sp.nsib > 0);
    uint8_t sroot[32], bhash[32], oroot[32];
    memset(sroot, 0x5a, 32);
    memset(bhash, 0xb1, 32);
    rollup_output_root(oroot, sroot, bhash, wroot);
    memcpy(T.l1_output_root, oroot, 32);
    char sa[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(sa, &sender);
    json_t *sib = json_array(),
           *proof = json_pack("[o,o,o]", hexj(sroot, 32), hexj(bhash, 32), hexj(wroot, 32));
    for (uint32_t i = 0; i < sp.nsib; i++) {
        json_array_append_new(sib, hexj(sp.siblings[i], 32));
        json_array_append_new(proof, hexj(sp.siblings[i], 32));
    }
    return json_pack(
        "{s:{s:i, s:s, s:s, s:s}, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "withdrawal", "id", 3,
        "sender", sa, "l1Recipient", RCPT, "amount", "4000000000", "outputIndex", 2, "outputHeight",
        20, "stateRoot", hexj(sroot, 32), "blockHash", hexj(bhash, 32), "withdrawalsRoot",
        hexj(wroot, 32), "outputRoot", hexj(oroot, 32), "siblings", sib, "proof", proof);
}

static void test_proof_check(void **state)
{
    (void)state;
    reset();
    json_t *res = make_proof();
    cli_bridge_proof *p = malloc(sizeof *p);
    util_err e;
    assert_int_equal(cli_bridge_proof_parse(res, p, &e), 0);
    assert_int_equal(cli_bridge_proof_verify(p, &e), 0);
    assert_int_equal(p->w.id, 3);
    assert_int_equal(p->w.amount, 4000000000u);

    /* The calldata is rollup_bridge_finalize_calldata's. */
    util_buf a, b;
    util_buf_init(&a);
    util_buf_init(&b);
    assert_int_equal(cli_bridge_proof_calldata(p, &a, &e), 0);
    assert_int_equal(rollup_bridge_finalize_calldata(&b, &p->w, 2, (const uint8_t(*)[32])p->words,
                                                     p->nwords, &e),
                     0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    util_buf_free(&a);
    util_buf_free(&b);

    /* Every tampering is refused: a sibling, the amount, the recipient, the
     * output root, a root word. */
    cli_bridge_proof q;
    q = *p;
    q.words[3][0] ^= 1;
    assert_int_equal(cli_bridge_proof_verify(&q, &e), UTIL_EINVAL);
    assert_non_null(strstr(e.msg, "does not lead to the withdrawals root"));
    q = *p;
    q.w.amount++;
    assert_int_equal(cli_bridge_proof_verify(&q, &e), UTIL_EINVAL);
    q = *p;
    q.w.l1_recipient.b[0] ^= 1;
    assert_int_equal(cli_bridge_proof_verify(&q, &e), UTIL_EINVAL);
    q = *p;
    q.output_root[5] ^= 1;
    assert_int_equal(cli_bridge_proof_verify(&q, &e), UTIL_EINVAL);
    assert_non_null(strstr(e.msg, "output root"));
    q = *p;
    q.words[2][0] ^= 1;
    assert_int_equal(cli_bridge_proof_verify(&q, &e), UTIL_EINVAL);
    q = *p;
    q.nwords--; /* a sibling dropped */
    assert_int_equal(cli_bridge_proof_verify(&q, &e), UTIL_EINVAL);

    /* "proof" and "siblings" must agree. */
    json_array_set_new(json_object_get(res, "siblings"), 0, hexj(q.words[0], 32));
    assert_int_equal(cli_bridge_proof_parse(res, p, &e), UTIL_EINVAL);
    json_decref(res);
    free(p);
}

/* --- commands ---------------------------------------------------------------- */

static void test_args(void **state)
{
    (void)state;
    char *out, *err;
    fake_start(handler);
    reset();
    assert_int_equal(RUN("bridge", "deposit", "--amount", "1"), 2);
    assert_non_null(strstr(err, "needs --to"));
    DROP();
    assert_int_equal(RUN("bridge", "deposit", "--amount", "x", "--to", "dev1"), 2);
    assert_non_null(strstr(err, "not a positive OPEN amount"));
    DROP();
    assert_int_equal(RUN("bridge", "deposit", "--amount", "0", "--to", "dev1"), 2);
    DROP();
    assert_int_equal(RUN("bridge", "deposit", "--amount", "1", "--to", RCPT), 2);
    assert_non_null(strstr(err, "not an L1 address"));
    DROP();
    char to[CHAIN_ADDR_STR_LEN + 1];
    chain_addr a;
    assert_int_equal(cli_dev_address(1, &a, NULL), 0);
    chain_addr_encode(to, &a);
    assert_int_equal(RUN("bridge", "deposit", "--amount", "1", "--to", to), 2);
    assert_non_null(strstr(err, "needs --from KEY"));
    DROP();
    assert_int_equal(RUN("withdraw", "--amount", "1", "--to", to, "--from", "dev1"), 2);
    assert_non_null(strstr(err, "use 'send'"));
    DROP();
    assert_int_equal(RUN("withdraw", "--amount", "1", "--to", "0x12", "--from", "dev1"), 2);
    assert_non_null(strstr(err, "not an L1 address"));
    DROP();
    assert_int_equal(RUN("withdraw", "--amount", "1", "--to",
                         "0x0000000000000000000000000000000000000000", "--from", "dev1"),
                     2);
    assert_non_null(strstr(err, "zero address"));
    DROP();
    assert_int_equal(RUN("bridge", "status", "abc"), 2);
    assert_non_null(strstr(err, "neither a withdrawal id nor a transaction hash"));
    DROP();
    assert_int_equal(RUN("bridge", "status"), 2);
    DROP();
    assert_int_equal(RUN("bridge", "finalize", "1", "--timeout", "x"), 2);
    DROP();
    assert_int_equal(RUN("bridge", "l1-address", "--from", to), 1);
    assert_non_null(strstr(err, "is an address"));
    DROP();
    assert_int_equal(RUN("bridge"), 2);
    assert_non_null(strstr(err, "bridge deposit"));
    assert_non_null(strstr(err, "bridge finalize"));
    DROP();
    assert_int_equal(RUN("bridge", "deposit", "--secret-hex", "00"), 2);
    DROP();
    /* No L1: neither --l1, $OPENLEDGER_L1 nor the node's. */
    unsetenv("OPENLEDGER_L1");
    T.l1url_null = 1;
    assert_int_equal(RUN("bridge", "deposit", "--amount", "1", "--to", "dev1"), 1);
    assert_non_null(strstr(err, "no L1 configured"));
    DROP();
    fake_stop();
}

static void test_l1_address(void **state)
{
    (void)state;
    char *out, *err;
    fake_start(handler);
    reset();
    T.open_balance = 2500000000;
    /* The address of dev2's even-y secret, computed from the secret. */
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 2), 0);
    uint8_t sk[32];
    rollup_eth_addr want;
    assert_int_equal(rollup_eth_seckey_even(sk, kp.seckey, NULL), 0);
    assert_int_equal(rollup_eth_addr_from_seckey(&want, sk, NULL), 0);
    char wh[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(wh, &want);
    assert_int_equal(RUN("bridge", "l1-address", "--from", "dev2"), 0);
    assert_non_null(strstr(out, wh));
    assert_non_null(strstr(out, "ETH:   1000\n"));
    assert_non_null(strstr(out, "OPEN:  2.5\n"));
    DROP();
    /* A node without the bridge, an L1 given: ETH only. */
    T.no_bridge_info = 1;
    assert_int_equal(RUN("bridge", "l1-address", "--from", "dev2", "--l1", F.url), 0);
    assert_non_null(strstr(out, "ETH:   1000\n"));
    assert_null(strstr(out, "OPEN"));
    DROP();
    fake_stop();
    /* Nothing reachable (the fake is gone): the address alone. */
    assert_int_equal(RUN("bridge", "l1-address", "--from", "dev2"), 0);
    assert_non_null(strstr(out, wh));
    assert_null(strstr(out, "ETH"));
    assert_non_null(strstr(err, "note: no L1 balances"));
    DROP();
}

static void test_deposit(void **state)
{
    (void)state;
    char *out, *err;
    fake_start(handler);
    reset();
    T.open_balance = 1000000000; /* 1 OPEN */
    assert_int_equal(RUN("bridge", "deposit", "--amount", "1.5", "--to", "dev1"), 1);
    assert_non_null(strstr(err, "insufficient L1 OPEN balance"));
    assert_non_null(strstr(err, "has 1 OPEN, the deposit needs 1.5"));
    assert_int_equal(T.nsent, 0);
    DROP();

    T.open_balance = 5000000000;
    T.allowance = 0;
    assert_int_equal(RUN("bridge", "deposit", "--amount", "1.5", "--to", "dev1"), 0);
    /* approve(bridge, 1.5 OPEN) to the token, then deposit(1.5 OPEN, dev1) to
     * the bridge, both from dev1's L1 account, nonces from the pending count. */
    assert_int_equal(T.nsent, 2);
    rollup_eth_addr token, bridge, me;
    assert_int_equal(rollup_eth_addr_parse(&token, TOKEN, NULL), 0);
    assert_int_equal(rollup_eth_addr_parse(&bridge, BRIDGE, NULL), 0);
    assert_int_equal(cli_bridge_key_address(NULL, "dev1", &me, NULL), 0);
    util_buf cd;
    util_buf_init(&cd);
    assert_int_equal(rollup_token_approve_calldata(&cd, &bridge, 1500000000), 0);
    assert_memory_equal(T.sent[0].to.b, token.b, 20);
    assert_int_equal(T.sent[0].data_len, cd.len);
    assert_memory_equal(T.sent[0].data, cd.data, cd.len);
    util_buf_reset(&cd);
    chain_addr d1;
    assert_int_equal(cli_dev_address(1, &d1, NULL), 0);
    assert_int_equal(rollup_bridge_deposit_calldata(&cd, 1500000000, d1.b), 0);
    assert_memory_equal(T.sent[1].to.b, bridge.b, 20);
    assert_int_equal(T.sent[1].data_len, cd.len);
    assert_memory_equal(T.sent[1].data, cd.data, cd.len);
    util_buf_free(&cd);
    for (int i = 0; i < 2; i++) {
        assert_memory_equal(T.sent_from[i].b, me.b, 20);
        assert_int_equal(T.sent[i].chain_id, 31337);
        assert_int_equal(T.sent[i].nonce, 5);
        assert_int_equal(T.sent[i].gas_limit, 60000); /* 50000 + 20% */
        assert_int_equal(T.sent[i].max_priority_fee_per_gas, 2);
        assert_int_equal(T.sent[i].max_fee_per_gas, 2000000002);
    }
    assert_non_null(strstr(out, "deposit nonce: 7\n"));
    assert_non_null(strstr(out, "minted:        at L2 height 42"));
    assert_non_null(strstr(out, "approve tx:"));
    DROP();

    /* Enough allowance: no approve. --no-wait: no mint wait. */
    reset();
    T.open_balance = 5000000000;
    T.allowance = 1500000000;
    assert_int_equal(
        RUN("bridge", "deposit", "--amount", "1.5", "--to", "dev1", "--no-wait", "--l1", F.url), 0);
    assert_int_equal(T.nsent, 1);
    assert_null(strstr(out, "approve tx:"));
    assert_non_null(strstr(out, "not waiting for the mint"));
    DROP();

    /* A revert at estimation is decoded. */
    reset();
    T.open_balance = 5000000000;
    T.allowance = 1500000000;
    uint8_t d[4];
    rollup_abi_selector(d, "ZeroAmount()");
    char rh[11] = "0x";
    util_hex_encode(rh + 2, d, 4);
    T.revert_hex = rh;
    assert_int_equal(RUN("bridge", "deposit", "--amount", "1.5", "--to", "dev1"), 1);
    assert_non_null(strstr(err, "the L1 refuses the transaction: the amount is zero"));
    assert_int_equal(T.nsent, 0);
    DROP();
    fake_stop();
}

static void set_withdrawal(const char *status, int secs_left)
{
    chain_addr d1;
    assert_int_equal(cli_dev_address(1, &d1, NULL), 0);
    char sa[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(sa, &d1);
    json_decref(T.withdrawal);
    T.withdrawal = json_pack("{s:i, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:i, s:i}", "id", 3,
                             "sender", sa, "l1Recipient", RCPT, "amount", "4000000000", "height",
                             17, "txid", "0xfeed", "status", status, "outputHeight", 20,
                             "outputIndex", 2, "finalizesAt", 1800000000, "secondsLeft", secs_left);
}

static void test_status(void **state)
{
    (void)state;
    char *out, *err;
    fake_start(handler);
    reset();
    set_withdrawal("waiting_for_finalization", 200);
    assert_int_equal(RUN("bridge", "status", "3"), 0);
    assert_non_null(strstr(out, "status:       waiting for finalization: 3 min 20 s left\n"));
    assert_non_null(strstr(out, "amount:       4 OPEN"));
    assert_non_null(strstr(out, "L1 recipient: " RCPT));
    assert_non_null(strstr(out, "output:       index 2, L2 height 20"));
    DROP();
    set_withdrawal("ready", 0);
    assert_int_equal(RUN("bridge", "status", "3"), 0);
    assert_non_null(strstr(out, "next:         openledger-cli bridge finalize 3"));
    DROP();
    assert_int_equal(RUN("bridge", "status", "3", "--json"), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_true(json_equal(j, T.withdrawal));
    json_decref(j);
    DROP();
    json_decref(T.withdrawal);
    T.withdrawal = NULL;
    assert_int_equal(RUN("bridge", "status", "9"), 1);
    assert_non_null(strstr(err, "knows no withdrawal 9"));
    DROP();
    /* By transaction hash: still in the mempool. */
    T.tx_pending = 1;
    assert_int_equal(RUN("bridge", "status",
                         "0x00000000000000000000000000000000000000000000000000000000000000aa"),
                     0);
    assert_non_null(strstr(out, "pending: the WITHDRAW transaction is not in a block yet"));
    DROP();
    T.tx_pending = 0;
    assert_int_equal(RUN("bridge", "status",
                         "0x00000000000000000000000000000000000000000000000000000000000000aa"),
                     1);
    assert_non_null(strstr(err, "knows no transaction"));
    DROP();
    fake_stop();
}

static void test_finalize(void **state)
{
    (void)state;
    char *out, *err;
    fake_start(handler);
    reset();
    T.proof = make_proof();
    T.open_balance = 4000000000;

    /* Not ready: refused without asking the L1 anything. */
    set_withdrawal("waiting_for_finalization", 200);
    assert_int_equal(RUN("bridge", "finalize", "3", "--from", "dev0"), 1);
    assert_non_null(strstr(err,
                           "withdrawal 3 cannot be finalized: it is not final yet (waiting for "
                           "finalization: 3 min 20 s left) (--force sends it anyway)"));
    assert_int_equal(T.nsent, 0);
    DROP();
    set_withdrawal("finalized", 0);
    assert_int_equal(RUN("bridge", "finalize", "3", "--from", "dev0"), 1);
    assert_non_null(strstr(err, "already finalized"));
    DROP();
    set_withdrawal("frozen", 0);
    assert_int_equal(RUN("bridge", "finalize", "3", "--from", "dev0"), 1);
    assert_non_null(strstr(err, "frozen"));
    DROP();

    /* --force sends, and the L1's refusal is shown in English. */
    set_withdrawal("waiting_for_finalization", 200);
    uint8_t d[36] = {0};
    rollup_abi_selector(d, "NotFinal(uint256)");
    util_put_u64be(d + 4 + 24, (uint64_t)time(NULL) + 200);
    char rh[2 * 36 + 3] = "0x";
    util_hex_encode(rh + 2, d, 36);
    T.revert_hex = rh;
    assert_int_equal(RUN("bridge", "finalize", "3", "--from", "dev0", "--force"), 1);
    assert_non_null(
        strstr(err, "the L1 refuses the transaction: the output is not final yet: 3 min"));
    assert_int_equal(T.nsent, 0);
    DROP();
    T.revert_hex = NULL;

    /* Ready: the proof is checked, sent, and the default payer is the
     * sender's key (dev1). */
    set_withdrawal("ready", 0);
    assert_int_equal(RUN("bridge", "finalize", "3"), 0);
    assert_int_equal(T.nsent, 1);
    rollup_eth_addr bridge, dev1;
    assert_int_equal(rollup_eth_addr_parse(&bridge, BRIDGE, NULL), 0);
    assert_int_equal(cli_bridge_key_address(NULL, "dev1", &dev1, NULL), 0);
    assert_memory_equal(T.sent[0].to.b, bridge.b, 20);
    assert_memory_equal(T.sent_from[0].b, dev1.b, 20);
    cli_bridge_proof *p = malloc(sizeof *p);
    assert_int_equal(cli_bridge_proof_parse(T.proof, p, NULL), 0);
    util_buf cd;
    util_buf_init(&cd);
    assert_int_equal(rollup_bridge_finalize_calldata(&cd, &p->w, 2, (const uint8_t(*)[32])p->words,
                                                     p->nwords, NULL),
                     0);
    assert_int_equal(T.sent[0].data_len, cd.len);
    assert_memory_equal(T.sent[0].data, cd.data, cd.len);
    util_buf_free(&cd);
    free(p);
    assert_non_null(strstr(out, "gas used 50000"));
    assert_non_null(strstr(out, RCPT " now has 4 OPEN on the L1"));
    DROP();

    /* "ready" by the node's clock, not yet by the L1's: it waits for the L1. */
    reset();
    T.proof = make_proof();
    set_withdrawal("ready", 0);
    T.revert_hex = rh;
    T.revert_times = 1;
    assert_int_equal(RUN("bridge", "finalize", "3", "--from", "dev0"), 0);
    assert_non_null(strstr(err, "not yet past the finalization time; waiting for it"));
    assert_int_equal(T.nsent, 1);
    DROP();
    /* ... within --timeout only. */
    reset();
    T.proof = make_proof();
    set_withdrawal("ready", 0);
    T.revert_hex = rh;
    assert_int_equal(RUN("bridge", "finalize", "3", "--from", "dev0", "--timeout", "0"), 1);
    assert_non_null(strstr(err, "the output is not final yet"));
    assert_int_equal(T.nsent, 0);
    DROP();

    /* A tampered sibling: refused before anything is sent. */
    reset();
    T.proof = make_proof();
    set_withdrawal("ready", 0);
    json_t *proof = json_object_get(T.proof, "proof"), *sib = json_object_get(T.proof, "siblings");
    char bad[67];
    snprintf(bad, sizeof bad, "%s", json_string_value(json_array_get(sib, 0)));
    bad[2] = bad[2] == '0' ? '1' : '0';
    json_array_set_new(sib, 0, json_string(bad));
    json_array_set_new(proof, 3, json_string(bad));
    assert_int_equal(RUN("bridge", "finalize", "3", "--from", "dev0"), 1);
    assert_non_null(strstr(err, "refusing to send: the node's proof does not hold"));
    assert_int_equal(T.nsent, 0);
    DROP();

    /* A proof that holds but against a root the L1 does not have. */
    reset();
    T.proof = make_proof();
    set_withdrawal("ready", 0);
    T.l1_output_root[0] ^= 1;
    assert_int_equal(RUN("bridge", "finalize", "3", "--from", "dev0"), 1);
    assert_non_null(strstr(err, "not the one on the L1"));
    assert_int_equal(T.nsent, 0);
    DROP();
    reset();
    fake_stop();
}

static void test_withdraw(void **state)
{
    (void)state;
    char *out, *err;
    fake_start(handler);
    reset();
    set_withdrawal("waiting_for_output", 0);
    assert_int_equal(RUN("withdraw", "--from", "dev1", "--amount", "4", "--to", RCPT), 0);
    assert_true(T.l2sent);
    assert_int_equal(T.l2tx.type, CHAIN_TX_WITHDRAW);
    assert_int_equal(T.l2tx.nonce, 4);
    assert_int_equal(T.l2tx.body.withdraw.amount, 4000000000u);
    rollup_eth_addr r;
    assert_int_equal(rollup_eth_addr_parse(&r, RCPT, NULL), 0);
    assert_memory_equal(T.l2tx.body.withdraw.l1_recipient, r.b, 20);
    assert_int_equal(T.l2tx.gas_limit, CHAIN_GAS_WITHDRAW);
    assert_non_null(strstr(out, "withdrawal id: 3\n"));
    assert_non_null(strstr(out, "openledger-cli bridge finalize 3 --from KEY"));
    assert_non_null(strstr(out, "at or above L2 height 17"));
    DROP();
    /* bridge status by the transaction's hash finds the same withdrawal. */
    char txid[67];
    snprintf(txid, sizeof txid, "%s", T.l2txid);
    assert_int_equal(RUN("bridge", "status", txid), 0);
    assert_non_null(strstr(out, "withdrawal:   3\n"));
    DROP();
    chain_tx_free(&T.l2tx);
    reset();
    fake_stop();
}

/* `tx` shows the bridge's fields of DEPOSIT and WITHDRAW. */
static void test_tx_render(void **state)
{
    (void)state;
    char *out, *err;
    fake_start(handler);
    reset();
    T.tx = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:i}, s:b}", "tx", "hash", "0xaa",
                     "type", "deposit", "to", "ol1xyz", "amount", "1500000000", "l1From",
                     "0xabababababababababababababababababababab", "l1Block", 118, "l1TxHash",
                     "0xcd", "logIndex", 2, "nonce", 3, "pending", 1);
    assert_int_equal(
        RUN("tx", "0x00000000000000000000000000000000000000000000000000000000000000aa"), 0);
    assert_non_null(strstr(out, "L1 from:   0xabababababababababababababababababababab\n"));
    assert_non_null(strstr(out, "L1 block:  118\n"));
    assert_non_null(strstr(out, "L1 tx:     0xcd (log 2)\n"));
    assert_non_null(strstr(out, "amount:    1.5 OPEN"));
    DROP();
    json_decref(T.tx);
    T.tx = json_pack("{s:{s:s, s:s, s:s, s:s}, s:b}", "tx", "hash", "0xaa", "type", "withdraw",
                     "l1Recipient", RCPT, "amount", "4000000000", "pending", 1);
    assert_int_equal(
        RUN("tx", "0x00000000000000000000000000000000000000000000000000000000000000aa"), 0);
    assert_non_null(strstr(out, "L1 to:     " RCPT "\n"));
    DROP();
    reset();
    fake_stop();
}

int main(void)
{
    setenv("OPENLEDGER_KEYSTORE", "/nonexistent-bcli-keystore", 1);
    unsetenv("OPENLEDGER_L1");
    const struct CMUnitTest tests[] = {

        cmocka_unit_test(test_proof_check), cmocka_unit_test(test_args),
        cmocka_unit_test(test_l1_address),  cmocka_unit_test(test_deposit),
        cmocka_unit_test(test_status),      cmocka_unit_test(test_finalize),
        cmocka_unit_test(test_tx_render),   cmocka_unit_test(test_withdraw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
