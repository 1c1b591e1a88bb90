/* openledger-cli commands against canned node answers, served by the real
 * JSON-RPC HTTP server with test methods: dev key names in `rpc`, the
 * per-command --gas-limit defaults (help and what is sent), attribution
 * weights up to 2^64-1, `contract deploy --json --no-wait`, and the failure
 * code and revert data of a failed transaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/rpc_http_test_util.h"

#include "chain/exec/contract.h"
#include "chain/types/tx.h"
#include "cli/cli.h"
#include "cli/commands_rpc.h"
#include "util/hex.h"

#define GENESIS_HASH "0x0b3e5d1c9a8f7e6d5c4b3a29180716f5e4d3c2b1a09f8e7d6c5b4a3928170605"
#define NONCE 5

/* What the fake node holds: the last transaction sent, and the canned answers
 * of chain_getTransaction and contract_call (JSON text). */
static struct {
    server *srv;
    char url[64];
    chain_tx sent;
    int have_sent;
    const char *get_tx;
    const char *call;
    char dir[64];
} G;

static json_t *m_status(void *ctx, json_t *params, rpc_error *e)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:s}", "chainId", "openledger-devnet", "genesisHash",
                     GENESIS_HASH, "height", 12, "headHash", "0xab", "version", "0.1.0");
}

static json_t *m_account(void *ctx, json_t *params, rpc_error *e)
{
    return json_pack("{s:O, s:s, s:i, s:i}", "address", json_array_get(params, 0), "balance",
                     "1000000000000", "nonce", NONCE, "pendingNonce", NONCE);
}

/* Decodes and keeps the transaction; the signature is not checked here (its
 * domain is the business of tests/unit/chain/test_tx.c). */
static json_t *m_send(void *ctx, json_t *params, rpc_error *e)
{
    uint8_t *raw;
    size_t n;
    const char *hx = json_string_value(json_array_get(params, 0));
    if (!hx || util_hex_decode_alloc(hx, 1 << 20, &raw, &n))
        return rpc_fail(e, -32602, NULL, "bad hex");
    chain_tx_free(&G.sent);
    int bad = chain_tx_decode(&G.sent, raw, n, NULL);
    free(raw);
    if (bad) return rpc_fail(e, -32602, NULL, "bad tx");
    G.have_sent = 1;
    char h[67] = "0x";
    util_hex_encode(h + 2, G.sent.id, 32);
    return json_string(h);
}

static json_t *canned(const char *text, rpc_error *e)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : rpc_fail(e, -32001, NULL, "transaction not found");
}

static json_t *m_get_tx(void *ctx, json_t *params, rpc_error *e)
{
    return canned(G.get_tx, e);
}

static json_t *m_call(void *ctx, json_t *params, rpc_error *e)
{
    return canned(G.call, e);
}

static void add_methods(server *s)
{
    assert_int_equal(rpc_dispatch_add(s->d, "node_status", m_status, NULL), 0);
    assert_int_equal(rpc_dispatch_add(s->d, "account_get", m_account, NULL), 0);
    assert_int_equal(rpc_dispatch_add(s->d, "tx_send", m_send, NULL), 0);
    assert_int_equal(rpc_dispatch_add(s->d, "chain_getTransaction", m_get_tx, NULL), 0);
    assert_int_equal(rpc_dispatch_add(s->d, "contract_call", m_call, NULL), 0);
}

static int setup(void **state)
{
    memset(&G, 0, sizeof G);
    rpc_http_cfg cfg = test_cfg();
    G.srv = server_start_ex(&cfg, add_methods);
    snprintf(G.url, sizeof G.url, "http://127.0.0.1:%d", G.srv->port);
    snprintf(G.dir, sizeof G.dir, "/tmp/ol-test-clitx-XXXXXX");
    assert_non_null(mkdtemp(G.dir));
    return 0;
}

static int teardown(void **state)
{
    server_stop(G.srv);
    chain_tx_free(&G.sent);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", G.dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* Runs the program in-process against the fake node. */
static int run(char **out, char **err, const char *const *args)
{
    const char *argv[32] = {"openledger-cli", "--rpc", G.url};
    int argc = 3;
    while (*args)
        argv[argc++] = *args++;
    size_t ol, el;
    FILE *fo = open_memstream(out, &ol), *fe = open_memstream(err, &el);
    int rc = cli_main(argc, (char **)argv, fo, fe);
    fclose(fo);
    fclose(fe);
    return rc;
}

#define RUN(...) run(&out, &err, (const char *const[]){__VA_ARGS__, NULL})
#define DROP() (free(out), free(err))

static const char *write_tmp(const char *name, const void *data, size_t n)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", G.dir, name);
    FILE *f = fopen(p[k], "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    return p[k];
}

static void dev_addr(int i, char s[CHAIN_ADDR_STR_LEN + 1])
{
    chain_addr a;
    assert_int_equal(cli_dev_address(i, &a, NULL), 0);
    chain_addr_encode(s, &a);
}

/* --- rpc: dev0..dev9 ------------------------------------------------------ */

static void test_rpc_dev_names(void **state)
{
    char d0[CHAIN_ADDR_STR_LEN + 1], d3[CHAIN_ADDR_STR_LEN + 1];
    dev_addr(0, d0);
    dev_addr(3, d3);
    util_err e;
    const char *args[] = {"dev0", "\"dev3\"", "dev10", "Dev1", "dev3x"};
    json_t *p = cli_rpc_params(args, 5, &e);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_array_get(p, 0)), d0);
    assert_string_equal(json_string_value(json_array_get(p, 1)), "dev3"); /* quoted: literal */
    assert_string_equal(json_string_value(json_array_get(p, 2)), "dev10");
    assert_string_equal(json_string_value(json_array_get(p, 3)), "Dev1");
    assert_string_equal(json_string_value(json_array_get(p, 4)), "dev3x");
    json_decref(p);

    /* The whole command, through the node: "echo" answers its params. */
    char *out, *err;
    assert_int_equal(RUN("rpc", "echo", "dev3", "12"), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_array_get(j, 0)), d3);
    assert_int_equal(json_integer_value(json_array_get(j, 1)), 12);
    json_decref(j);
    DROP();
    assert_int_equal(RUN("rpc", "account_get", "dev0"), 0);
    j = json_loads(out, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "address")), d0);
    json_decref(j);
    DROP();
}

/* --- --gas-limit: each command's own default --------------------------- */

/* "default A" or "default A + B per ..." from the --gas-limit line of the
 * command's help. */
static void help_default(const char *cmd, uint64_t *a, uint64_t *b)
{
    char *out, *err, words[64];
    snprintf(words, sizeof words, "%s", cmd);
    char *sp = strchr(words, ' ');
    if (sp) *sp++ = 0;
    assert_int_equal(sp ? RUN("help", words, sp) : RUN("help", words), 0);
    const char *g = strstr(out, "\n  --gas-limit N ");
    assert_non_null(g);
    const char *d = strstr(g, "(default ");
    if (!d) fail_msg("%s: --gas-limit help names no default: %.120s", cmd, g);
    unsigned long long x = 0, y = 0;
    int n = sscanf(d, "(default %llu + %llu per", &x, &y);
    if (n < 1) fail_msg("%s: unreadable default: %.80s", cmd, d);
    *a = x;
    *b = n == 2 ? y : 0;
    DROP();
}

static void test_gas_limit_help(void **state)
{
    /* Every command that takes --gas-limit says its own default. */
    for (size_t i = 0; i < cli_ncommands; i++)
        if (cli_commands[i].opts & CLI_OPTBIT(CLI_OPT_GAS_LIMIT) && !cli_commands[i].tx_type)
            fail_msg("'%s' takes --gas-limit but has no tx_type", cli_commands[i].name);

    uint64_t a, b;
    help_default("send", &a, &b);
    assert_int_equal(a, CHAIN_GAS_TRANSFER);
    assert_int_equal(b, 0);
    help_default("model register", &a, &b);
    assert_int_equal(a, CHAIN_GAS_MODEL_REGISTER);
    assert_int_equal(b, CHAIN_GAS_MODEL_PER_DATANET);
    help_default("review", &a, &b);
    assert_int_equal(a, CHAIN_GAS_REVIEW);

    /* What the help says is what is sent. */
    char *out, *err;
    help_default("send", &a, &b);
    assert_int_equal(RUN("send", "--from", "dev0", "--to", "dev1", "--amount", "1", "--no-wait"),
                     0);
    assert_int_equal(G.sent.gas_limit, a);
    DROP();

    help_default("contract call", &a, &b);
    assert_int_equal(a, CHAIN_GAS_CALL + 1000000);
    char d3[CHAIN_ADDR_STR_LEN + 1];
    dev_addr(3, d3);
    assert_int_equal(RUN("contract", "call", d3, "--from", "dev0", "--no-wait"), 0);
    assert_int_equal(G.sent.type, CHAIN_TX_CALL);
    assert_int_equal(G.sent.gas_limit, a);
    DROP();

    help_default("contract deploy", &a, &b);
    static const uint8_t code[37] = {1, 2, 3};
    assert_int_equal(RUN("contract", "deploy", write_tmp("c.bin", code, sizeof code), "--from",
                         "dev0", "--no-wait"),
                     0);
    assert_int_equal(G.sent.type, CHAIN_TX_DEPLOY);
    assert_int_equal(G.sent.gas_limit, a + b * sizeof code);
    DROP();

    help_default("attribute", &a, &b);
    const char *ent =
        "[{\"contribution\": 1, \"weight\": 3}, {\"contribution\": 2, \"weight\": 1}, "
        "{\"contribution\": 4, \"weight\": 1}]";
    assert_int_equal(RUN("attribute", "--model", "1", "--fee", "1", "--entries",
                         write_tmp("e.json", ent, strlen(ent)), "--from", "dev0", "--no-wait"),
                     0);
    assert_int_equal(G.sent.type, CHAIN_TX_ATTRIBUTE);
    assert_int_equal(G.sent.gas_limit, a + b * 3);
    DROP();
}

/* --- attribute: weights up to 2^64-1 ------------------------------------ */

static int attribute(char **out, char **err, const char *entries)
{
    const char *f = write_tmp("w.json", entries, strlen(entries));
    return run(out, err,
               (const char *const[]){"attribute", "--model", "1", "--fee", "1", "--entries", f,
                                     "--from", "dev0", "--no-wait", NULL});
}

static void test_big_weights(void **state)
{
    char *out, *err;
    G.have_sent = 0;
    assert_int_equal(attribute(&out, &err,
                               "[{\"contribution\": 1, \"weight\": 18446744073709551615},\n"
                               " {\"contribution\": 9223372036854775808, \"weight\": "
                               "\"9223372036854775809\"},\n"
                               " {\"contribution\": 3, \"weight\": 9223372036854775807},\n"
                               " {\"weight\": 12345678901234567890, \"contribution\": 4}]"),
                     0);
    assert_true(G.have_sent);
    assert_int_equal(G.sent.body.attribute.nentries, 4);
    const chain_attr_entry *en = G.sent.body.attribute.entries;
    assert_true(en[0].contribution == 1 && en[0].weight == UINT64_MAX);
    assert_true(en[1].contribution == 9223372036854775808ull &&
                en[1].weight == 9223372036854775809ull);
    assert_true(en[2].weight == 9223372036854775807ull);
    assert_true(en[3].contribution == 4 && en[3].weight == 12345678901234567890ull);
    DROP();

    /* Past 2^64-1, bare or as a string: refused, saying why. */
    assert_int_equal(
        attribute(&out, &err, "[{\"contribution\": 1, \"weight\": 18446744073709551616}]"), 1);
    assert_non_null(strstr(err, "entry 0: weight 18446744073709551616 is above the largest value, "
                                "18446744073709551615 (2^64-1)"));
    DROP();
    assert_int_equal(attribute(&out, &err,
                               "[{\"contribution\": 1, \"weight\": 1},"
                               " {\"contribution\": \"99999999999999999999999\", \"weight\": 1}]"),
                     1);
    assert_non_null(strstr(err, "entry 1: contribution 99999999999999999999999 is above"));
    DROP();
    /* Not whole numbers. */
    static const char *const bad[] = {
        "[{\"contribution\": 1, \"weight\": 1.5}]",
        "[{\"contribution\": 1, \"weight\": -1}]",
        "[{\"contribution\": 1, \"weight\": 1e30}]",
        "[{\"contribution\": 1, \"weight\": \"-18446744073709551615\"}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(attribute(&out, &err, bad[i]), 1);
        if (!strstr(err, "entry 0 must be")) fail_msg("%s: %s", bad[i], err);
        DROP();
    }
    /* Digits inside strings, escaped quotes included, are left alone. */
    assert_int_equal(attribute(&out, &err,
                               "[{\"contribution\": 1, \"weight\": 2}, "
                               "\"a\\\"99999999999999999999\\\"\"]"),
                     1);
    assert_non_null(strstr(err, "entry 1 must be"));
    DROP();
    /* A file that ends inside a number, or holds a NUL byte: read within its
     * bytes (ASan would see an overread), refused as JSON. */
    assert_int_equal(attribute(&out, &err, "[99999999999999999999"), 1);
    assert_non_null(strstr(err, "--entries "));
    DROP();
    static const char nul[] = "[{\"contribution\": 1, \"weight\": 1234567890123456789\0001}]";
    const char *f = write_tmp("nul.json", nul, sizeof nul - 1);
    assert_int_equal(
        run(&out, &err,
            (const char *const[]){"attribute", "--model", "1", "--fee", "1", "--entries", f,
                                  "--from", "dev0", "--no-wait", NULL}),
        1);
    DROP();
    /* A JSON syntax error still names its line. */
    assert_int_equal(attribute(&out, &err, "[\n{\"contribution\": 1, \"weight\": 2},\n]"), 1);
    assert_non_null(strstr(err, "line 3"));
    DROP();
}

/* --- contract deploy --json --no-wait ---------------------------------- */

static void test_deploy_no_wait_json(void **state)
{
    static const uint8_t code[12] = {9, 8, 7};
    const char *f = write_tmp("d.bin", code, sizeof code);
    char *out, *err;
    assert_int_equal(RUN("--json", "contract", "deploy", f, "--from", "dev2", "--no-wait"), 0);
    json_t *j = json_loads(out, 0, NULL);
    if (!j) fail_msg("not JSON: %s", out);
    char h[67] = "0x", want[CHAIN_ADDR_STR_LEN + 1];
    util_hex_encode(h + 2, G.sent.id, 32);
    chain_addr from, ca;
    assert_int_equal(cli_dev_address(2, &from, NULL), 0);
    chain_contract_addr(&ca, &from, NONCE);
    chain_addr_encode(want, &ca);
    assert_string_equal(json_string_value(json_object_get(j, "hash")), h);
    assert_string_equal(json_string_value(json_object_get(j, "contractAddress")), want);
    json_decref(j);
    DROP();
    /* Text: the hash, then the address it will have. */
    assert_int_equal(RUN("contract", "deploy", f, "--from", "dev2", "--no-wait"), 0);
    char line[128];
    snprintf(line, sizeof line, "contract:  %s (once included)\n", want);
    assert_non_null(strstr(out, line));
    DROP();
}

/* --- tx: failure code and revert data ---------------------------------- */

#define TX_HASH "0x7d6f0c000000000000000000000000000000000000000000000000000000e1e1"
#define TX_PART                                                                                    \
    "\"tx\": {\"hash\": \"" TX_HASH "\", \"type\": \"call\", \"nonce\": 5, \"gasLimit\": "         \
    "1002000, \"gasPrice\": \"1\", \"size\": 150}, \"blockHeight\": 13, \"blockHash\": "           \
    "\"0xbb\", \"index\": 0, \"pending\": false"

static const char reverted[] =
    "{" TX_PART ", \"receipt\": {\"status\": \"failed\", \"gasUsed\": 4545, \"fee\": \"4545\", "
    "\"error\": \"reverted: no\\u001b[2Jpe\", \"failureCode\": \"reverted\", "
    "\"revertData\": \"0x6e6f1b5b324a7065\", \"revertText\": \"no\\u001b[2Jpe\", "
    "\"returnData\": \"0x\", \"events\": []}}";
static const char faulted[] =
    "{" TX_PART ", \"receipt\": {\"status\": \"failed\", \"gasUsed\": 1002000, \"fee\": "
    "\"1002000\", \"error\": \"vm_fault: out of gas\", \"failureCode\": \"vm_fault\", "
    "\"revertData\": \"0x\", \"returnData\": \"0x\", \"events\": []}}";
static const char binary_revert[] =
    "{" TX_PART ", \"receipt\": {\"status\": \"failed\", \"gasUsed\": 300, \"fee\": \"300\", "
    "\"error\": \"reverted\", \"failureCode\": \"reverted\", \"revertData\": \"0xff00fe\"}}";
static const char succeeded[] = "{" TX_PART ", \"receipt\": {\"status\": \"success\", "
                                "\"failureCode\": null, \"gasUsed\": 1000, \"fee\": \"1000\", "
                                "\"error\": null}}";

static void test_tx_failure(void **state)
{
    char *out, *err;
    G.get_tx = reverted;
    assert_int_equal(RUN("tx", TX_HASH), 0);
    assert_non_null(strstr(out, "status:    failed\n"
                                "error:     reverted: no\\x1b[2Jpe\n"
                                "failure:   reverted\n"
                                "revert data: 0x6e6f1b5b324a7065\n"
                                "revert text: no\\x1b[2Jpe\n"
                                "block:     13 (0xbb), index 0\n"));
    assert_null(strchr(out, 0x1b)); /* the terminal never sees the raw escape */
    DROP();
    /* --json passes the fields through. */
    assert_int_equal(RUN("--json", "tx", TX_HASH), 0);
    json_t *j = json_loads(out, 0, NULL);
    json_t *r = json_object_get(j, "receipt");
    assert_string_equal(json_string_value(json_object_get(r, "failureCode")), "reverted");
    assert_string_equal(json_string_value(json_object_get(r, "revertData")), "0x6e6f1b5b324a7065");
    assert_string_equal(json_string_value(json_object_get(r, "revertText")), "no\x1b[2Jpe");
    json_decref(j);
    DROP();

    G.get_tx = faulted;
    assert_int_equal(RUN("tx", TX_HASH), 0);
    assert_non_null(strstr(out, "error:     vm_fault: out of gas\n"
                                "failure:   vm_fault\n"
                                "revert data: 0x\n"
                                "block:"));
    assert_null(strstr(out, "revert text"));
    DROP();
    G.get_tx = binary_revert; /* not UTF-8: data only */
    assert_int_equal(RUN("tx", TX_HASH), 0);
    assert_non_null(strstr(out, "failure:   reverted\nrevert data: 0xff00fe\nblock:"));
    DROP();
    G.get_tx = succeeded;
    assert_int_equal(RUN("tx", TX_HASH), 0);
    assert_non_null(strstr(out, "status:    success\nblock:"));
    assert_null(strstr(out, "failure"));
    DROP();

    /* A CALL that fails in its block: the same lines, the error on stderr,
     * and no prose-parsed "revert:" line beside the structured ones. */
    char d3[CHAIN_ADDR_STR_LEN + 1];
    dev_addr(3, d3);
    G.get_tx = reverted;
    assert_int_equal(RUN("contract", "call", d3, "--from", "dev0"), 1);
    assert_non_null(strstr(out, "failure:   reverted\nrevert data: 0x6e6f1b5b324a7065\n"));
    assert_null(strstr(out, "revert:    "));
    assert_string_equal(err, "error: transaction failed: reverted: no\\x1b[2Jpe\n");
    DROP();

    /* Read-only calls show them too; a node without them: parsed from the error. */
    G.call = "{\"status\": \"failed\", \"error\": \"reverted: armed\", \"failureCode\": "
             "\"reverted\", \"revertData\": \"0x61726d6564\", \"revertText\": \"armed\", "
             "\"gasUsed\": 218, \"returnData\": \"0x\", \"events\": []}";
    assert_int_equal(RUN("contract", "call", d3, "--read"), 1);
    assert_non_null(strstr(out, "error:     reverted: armed\nfailure:   reverted\n"
                                "revert data: 0x61726d6564\nrevert text: armed\ngas used:  218\n"));
    assert_null(strstr(out, "revert:    "));
    DROP();
    G.call = "{\"status\": \"failed\", \"error\": \"reverted: armed\", \"gasUsed\": 218, "
             "\"returnData\": \"0x\", \"events\": []}";
    assert_int_equal(RUN("contract", "call", d3, "--read"), 1);
    assert_non_null(strstr(out, "revert:    armed\n"));
    assert_null(strstr(out, "failure"));
    DROP();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpc_dev_names), cmocka_unit_test(test_gas_limit_help),
        cmocka_unit_test(test_big_weights),   cmocka_unit_test(test_deploy_no_wait_json),
        cmocka_unit_test(test_tx_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
