/* openledger-cli against a fake node on 127.0.0.1: the HTTP path as the CLI
 * sees it (answers, errors, limits, timeouts; util/net and libcurl do the
 * parsing), the JSON-RPC layer, and the commands run
 * in-process, including send (the fake decodes and checks the signed tx).
 * prove has its own file, test_cli_prove.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chain/types/block.h"
#include "chain/crypto/hash.h"
#include "chain/state/store.h"
#include "chain/types/tx.h"
#include "cli/cli.h"
#include "cli/http_client.h"
#include "util/hex.h"

#include "tests/unit/cli_fake_node.h"

/* The genesis hash transactions are signed for (their signing domain). */
static const uint8_t GH[32] = {0x6f, 0x6c, 0x2d, 0x74, 0x65, 0x73, 0x74};

/* The fake node: tests/unit/cli_fake_node.h. */

/* --- HTTP client ---------------------------------------------------------- */

static char *g_raw; /* next raw answer for h_raw */

static char *h_raw(const char *m, json_t *p)
{
    return g_raw ? strdup(g_raw) : HOLD;
}

static int post(char **resp, util_err *e, int timeout_ms)
{
    size_t n;
    return cli_http_post(F.url, "application/json", "{}", 2, timeout_ms, resp, &n, e);
}

static void test_http(void **state)
{
    fake_start(h_raw);
    char *r = NULL;
    util_err e;
    g_raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    assert_int_equal(post(&r, &e, 5000), 0);
    assert_string_equal(r, "hello");
    free(r);
    g_raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n";
    assert_int_equal(post(&r, &e, 5000), 0);
    assert_string_equal(r, "hello");
    free(r);
    g_raw = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close";
    assert_int_equal(post(&r, &e, 5000), 0);
    assert_string_equal(r, "until close");
    free(r);
    g_raw = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(post(&r, &e, 5000), 0);
    assert_string_equal(r, "");
    free(r);

    g_raw = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno\x01such\nx";
    assert_int_equal(post(&r, &e, 5000), UTIL_EIO);
    assert_non_null(strstr(e.msg, "answered HTTP 404 Not Found: no such x"));
    g_raw = "HTTP/1.1 200 OK\r\nContent-Length: 67108865\r\n\r\n";
    int rc = post(&r, &e, 5000);
    if (rc != UTIL_ELIMIT) fail_msg("rc %d: %s", rc, e.msg);
    assert_non_null(strstr(e.msg, "larger than 64 MiB"));
    /* A chunked answer that grows past the cap: tests/unit/util/test_util_net.c
     * (with a small cap). */
    g_raw = "garbage\r\n\r\n";
    assert_int_equal(post(&r, &e, 5000), UTIL_EIO);
    assert_non_null(strstr(e.msg, "malformed HTTP answer"));
    g_raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
    assert_int_equal(post(&r, &e, 5000), UTIL_EIO);
    assert_non_null(strstr(e.msg, "closed the connection mid-answer"));
    g_raw = "";
    assert_int_equal(post(&r, &e, 5000), UTIL_EIO);
    assert_non_null(strstr(e.msg, "closed the connection without answering"));
    g_raw = NULL; /* never answers */
    assert_int_equal(post(&r, &e, 300), UTIL_EIO);
    assert_non_null(strstr(e.msg, "timed out"));
    fake_stop();

    /* The port is closed now. */
    char want[128];
    snprintf(want, sizeof want, "cannot reach node at %s: Connection refused", F.url);
    assert_int_equal(post(&r, &e, 5000), UTIL_EIO);
    assert_string_equal(e.msg, want);
    assert_int_equal(cli_http_post("http://nonexistent.invalid:1", "a", "", 0, 2000, &r, NULL, &e),
                     UTIL_EIO);
    assert_non_null(strstr(e.msg, "cannot reach node at http://nonexistent.invalid:1"));
}

/* https:// and --cacert as the CLI reports them (certificates themselves:
 * tests/integration/cli_tls.sh). */
static void test_https_errors(void **state)
{
    fake_start(h_raw);
    g_raw = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    char url[80], want[200];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", F.port);
    char *out, *err;
    size_t ol, el;
    char *argv1[] = {"openledger-cli", "--rpc", url, "status", NULL};
    FILE *fo = open_memstream(&out, &ol), *fe = open_memstream(&err, &el);
    assert_int_equal(cli_main(4, argv1, fo, fe), 1);
    fclose(fo);
    fclose(fe);
    snprintf(want, sizeof want, "error: TLS handshake with node at %s failed: ", url);
    if (strncmp(err, want, strlen(want)) != 0) fail_msg("got '%s'", err);
    DROP();
    char *argv2[] = {"openledger-cli",   "--rpc",  url, "--cacert",
                     "/nonexistent.pem", "status", NULL};
    fo = open_memstream(&out, &ol), fe = open_memstream(&err, &el);
    assert_int_equal(cli_main(6, argv2, fo, fe), 1);
    fclose(fo);
    fclose(fe);
    assert_string_equal(err, "error: --cacert: cannot read CA file '/nonexistent.pem': No such "
                             "file or directory\n");
    DROP();
    fake_stop();
}

/* --- JSON-RPC layer ------------------------------------------------------- */

static void test_rpc_layer(void **state)
{
    fake_start(h_raw);
    cli_ctx ctx = {.rpc_url = F.url, .rpc_timeout_ms = 5000, .out = stdout, .err = stderr};
    json_t *res;
    util_err e;
    cli_rpc_error re;
    char *r = http_raw("200 OK", "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":42}");
    g_raw = r;
    assert_int_equal(cli_rpc_call(&ctx, "m", NULL, &res, &re, &e), 0);
    free(r);
    assert_int_equal(json_integer_value(res), 42);
    json_decref(res);
    g_raw = r = rpc_error(-32000, "transaction rejected: nonce too low", "nonce_too_low");
    assert_int_equal(cli_rpc_call(&ctx, "m", NULL, &res, &re, &e), UTIL_ESTATE);
    assert_string_equal(e.msg, "transaction rejected: nonce too low (reason: nonce_too_low)");
    assert_int_equal(re.code, -32000);
    assert_string_equal(re.reason, "nonce_too_low");
    assert_null(res);
    free(r);
    g_raw = r = rpc_error(-32001, "transaction not found", NULL);
    assert_int_equal(cli_rpc_call(&ctx, "m", NULL, &res, &re, &e), UTIL_ENOTFOUND);
    assert_string_equal(e.msg, "transaction not found");
    free(r);
    g_raw = r = rpc_error(-32602, "invalid params: bad hex", NULL);
    assert_int_equal(cli_rpc_call(&ctx, "m", NULL, &res, &re, &e), UTIL_ESTATE);
    assert_string_equal(e.msg, "invalid params: bad hex (code -32602)");
    free(r);
    static const char *const bad[] = {
        "{\"id\":1", "[1]", "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1}", "{\"id\":1,\"error\":\"x\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        g_raw = r = http_raw("200 OK", bad[i]);
        assert_int_equal(cli_rpc_call(&ctx, "m", NULL, &res, NULL, &e), UTIL_EIO);
        free(r);
    }
    cli_rpc_close(&ctx);
    fake_stop();
}

/* --- a scripted node for the commands ------------------------------------ */

static struct {
    uint64_t pending_nonce;
    int polls_pending;  /* chain_getTransaction answers pending this many times */
    const char *status; /* receipt status */
    int reject;         /* tx_send answers -32000 */
    chain_tx sent;      /* the last transaction received */
    int have_sent;
    char hash[67];
} S;

static json_t *tx_json(const chain_tx *tx)
{
    char h[67] = "0x", from[CHAIN_ADDR_STR_LEN + 1], to[CHAIN_ADDR_STR_LEN + 1], amt[32];
    util_hex_encode(h + 2, tx->id, 32);
    chain_addr_encode(from, &tx->from);
    chain_addr_encode(to, &tx->body.transfer.to);
    snprintf(amt, sizeof amt, "%llu", (unsigned long long)tx->body.transfer.amount);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:i}", "hash", h, "type",
                     "transfer", "chainId", tx->chain_id, "from", from, "nonce",
                     (json_int_t)tx->nonce, "gasLimit", (json_int_t)tx->gas_limit, "gasPrice", "1",
                     "to", to, "amount", amt, "size", (int)tx->size);
}

static char *h_node(const char *m, json_t *p)
{
    if (!strcmp(m, "node_status"))
        return ok(json_pack("{s:s, s:s, s:i, s:s, s:I, s:s, s:i}", "chainId", "openledger-devnet",
                            "genesisHash",
                            "0x6f6c2d7465737400000000000000000000000000000000000000000000000000",
                            "height", 12, "headHash", "0xab", "headTime", (json_int_t)1764000000000,
                            "version", "0.1.0", "mempoolSize", 0));
    if (!strcmp(m, "account_get"))
        return ok(json_pack("{s:O, s:s, s:i, s:I}", "address", json_array_get(p, 0), "balance",
                            "1250000000", "nonce", 3, "pendingNonce", (json_int_t)S.pending_nonce));
    if (!strcmp(m, "tx_send")) {
        uint8_t *raw;
        size_t n;
        const char *hx = json_string_value(json_array_get(p, 0));
        if (!hx || strncmp(hx, "0x", 2) || util_hex_decode_alloc(hx, 1 << 20, &raw, &n))
            return rpc_error(-32602, "bad hex", NULL);
        int bad = chain_tx_decode(&S.sent, raw, n, NULL) || chain_tx_check_sig(&S.sent, GH) != 1;
        free(raw);
        if (bad) return rpc_error(-32602, "bad tx", NULL);
        S.have_sent = 1;
        if (S.reject)
            return rpc_error(-32000, "transaction rejected: nonce too low", "nonce_too_low");
        S.hash[0] = '0', S.hash[1] = 'x';
        util_hex_encode(S.hash + 2, S.sent.id, 32);
        return ok(json_string(S.hash));
    }
    if (!strcmp(m, "chain_getTransaction")) {
        if (!S.have_sent || strcmp(json_string_value(json_array_get(p, 0)), S.hash) != 0)
            return rpc_error(-32001, "transaction not found", NULL);
        if (S.polls_pending != 0) {
            if (S.polls_pending > 0) S.polls_pending--;
            return ok(
                json_pack("{s:o, s:n, s:b}", "tx", tx_json(&S.sent), "receipt", "pending", 1));
        }
        int failed = strcmp(S.status, "success") != 0;
        json_t *rc = json_pack(
            "{s:s, s:i, s:s, s:o}", "status", S.status, "gasUsed", 1000, "fee", "1000", "error",
            failed ? json_string("insufficient funds: need 5, have 1") : json_null());
        return ok(json_pack("{s:o, s:o, s:i, s:s, s:i, s:b}", "tx", tx_json(&S.sent), "receipt", rc,
                            "blockHeight", 13, "blockHash", "0xbb", "index", 0, "pending", 0));
    }
    if (!strcmp(m, "chain_getBlock")) {
        json_t *txs = json_array();
        if (S.have_sent) json_array_append_new(txs, tx_json(&S.sent));
        json_t *hd =
            json_pack("{s:i, s:s, s:i, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:[]}}",
                      "version", 1, "chainId", "openledger-devnet", "height", 13, "parentHash",
                      "0xaa", "timestamp", (json_int_t)1764000000000, "proposer", "ol1x", "txRoot",
                      "0x01", "stateRoot", "0x02", "receiptsRoot", "0x03", "validatorsHash", "0x04",
                      "lastCommit", "round", 0, "signatures");
        return ok(json_pack("{s:s, s:i, s:o, s:o}", "hash", "0xbb", "size", 300, "header", hd,
                            "txs", txs));
    }
    return rpc_error(-32601, "method not found", NULL);
}

static void addr_of_dev(uint32_t i, chain_addr *a, char s[CHAIN_ADDR_STR_LEN + 1])
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, i), 0);
    chain_addr_from_pubkey(a, kp.pubkey);
    chain_addr_encode(s, a);
    chain_keypair_clear(&kp);
}

static void test_query_commands(void **state)
{
    memset(&S, 0, sizeof S);
    S.pending_nonce = 3;
    fake_start(h_node);
    char *out, *err;
    assert_int_equal(RUN("status"), 0);
    assert_non_null(strstr(out, "chain id:     openledger-devnet\nheight:       12\n"));
    assert_non_null(strstr(out, "version:      0.1.0"));
    DROP();
    assert_int_equal(RUN("balance", "dev1"), 0);
    assert_string_equal(out, "1.25 OPEN (1250000000 base units), nonce 3\n");
    DROP();
    S.pending_nonce = 5;
    assert_int_equal(RUN("balance", "dev1"), 0);
    assert_string_equal(out, "1.25 OPEN (1250000000 base units), nonce 3 (pending 5)\n");
    DROP();
    assert_int_equal(RUN("--json", "balance", "dev1"), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "balance")), "1250000000");
    json_decref(j);
    DROP();
    assert_int_equal(RUN("balance", "ol1notanaddress"), 1);
    assert_int_equal(F.ncalls[M_ACCOUNT], 3);
    DROP();
    char h[67] = "0x";
    memset(h + 2, 'a', 64);
    h[66] = 0;
    assert_int_equal(RUN("tx", h), 1);
    assert_string_equal(err, "error: transaction not found\n");
    DROP();
    assert_int_equal(RUN("block"), 0);
    assert_non_null(strstr(out, "block          13\nhash           0xbb\n"));
    assert_non_null(strstr(out, "transactions   0\n"));
    DROP();
    assert_int_equal(RUN("block", "0x1234"), 2);
    DROP();
    fake_stop();
}

static void test_send(void **state)
{
    memset(&S, 0, sizeof S);
    S.pending_nonce = 7;
    S.polls_pending = 2;
    S.status = "success";
    fake_start(h_node);
    char *out, *err;
    chain_addr to;
    char tos[CHAIN_ADDR_STR_LEN + 1];
    addr_of_dev(1, &to, tos);

    assert_int_equal(RUN("send", "--from", "dev0", "--to", "dev1", "--amount", "1.25"), 0);
    assert_true(S.have_sent);
    assert_int_equal(S.sent.type, CHAIN_TX_TRANSFER);
    assert_string_equal(S.sent.chain_id, "openledger-devnet");
    assert_int_equal(S.sent.nonce, 7);
    assert_int_equal(S.sent.gas_limit, 1000);
    assert_int_equal(S.sent.gas_price, 1);
    assert_int_equal(S.sent.body.transfer.amount, 1250000000);
    assert_memory_equal(S.sent.body.transfer.to.b, to.b, CHAIN_ADDR_LEN);
    char want[200];
    snprintf(want, sizeof want, "hash:      %s\nstatus:    success\n", S.hash);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "block:     13 (0xbb), index 0\ngas used:  1000\n"));
    assert_non_null(strstr(out, "fee:       0.000001 OPEN (1000 base units)\n"));
    assert_int_equal(F.ncalls[M_GETTX], 3);
    DROP();
    assert_int_equal(RUN("tx", S.hash + 2), 0);
    assert_non_null(strstr(out, "amount:    1.25 OPEN (1250000000 base units)\n"));
    assert_non_null(strstr(out, "status:    success\n"));
    DROP();
    assert_int_equal(RUN("block", "13"), 0);
    assert_non_null(strstr(out, "transactions   1\n  0. 0x"));
    assert_non_null(strstr(out, "amount 1.25 OPEN"));
    DROP();

    /* Explicit nonce and gas, no waiting: no account_get, no polling. */
    memset(F.ncalls, 0, sizeof F.ncalls);
    assert_int_equal(RUN("send", "--from", "dev0", "--to", tos, "--amount", "0.000000001",
                         "--nonce", "42", "--gas-price", "3", "--gas-limit", "2000", "--no-wait"),
                     0);
    assert_int_equal(F.ncalls[M_ACCOUNT], 0);
    assert_int_equal(F.ncalls[M_GETTX], 0);
    assert_int_equal(S.sent.nonce, 42);
    assert_int_equal(S.sent.gas_price, 3);
    assert_int_equal(S.sent.gas_limit, 2000);
    assert_int_equal(S.sent.body.transfer.amount, 1);
    snprintf(want, sizeof want, "hash:      %s\n", S.hash);
    assert_string_equal(out, want);
    DROP();
    assert_int_equal(
        RUN("--json", "send", "--from", "dev0", "--to", "dev1", "--amount", "2", "--no-wait"), 0);
    snprintf(want, sizeof want, "\"%s\"\n", S.hash);
    assert_string_equal(out, want);
    DROP();

    /* Included but failed: exit 1 with the receipt's error. */
    S.status = "failed";
    assert_int_equal(RUN("send", "--from", "dev0", "--to", "dev1", "--amount", "5"), 1);
    assert_non_null(strstr(out, "status:    failed\nerror:     insufficient funds"));
    assert_string_equal(err, "error: transaction failed: insufficient funds: need 5, have 1\n");
    DROP();
    /* Rejected by the mempool: the node's message and reason. */
    S.reject = 1;
    assert_int_equal(RUN("send", "--from", "dev0", "--to", "dev1", "--amount", "5"), 1);
    assert_string_equal(err,
                        "error: transaction rejected: nonce too low (reason: nonce_too_low)\n");
    DROP();
    /* Never included. */
    S.reject = 0;
    S.polls_pending = -1;
    assert_int_equal(
        RUN("send", "--from", "dev0", "--to", "dev1", "--amount", "5", "--timeout", "0"), 1);
    assert_non_null(strstr(err, "not in a block after 0 s (still pending)"));
    DROP();
    /* Signing with an address, or an unknown key. */
    assert_int_equal(RUN("send", "--from", tos, "--to", "dev1", "--amount", "5"), 2);
    DROP();
    assert_int_equal(RUN("send", "--from", "nobody", "--to", "dev1", "--amount", "5", "--keystore",
                         "/nonexistent"),
                     1);
    assert_non_null(strstr(err, "no key named 'nobody'"));
    DROP();
    fake_stop();
    chain_tx_free(&S.sent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http),      cmocka_unit_test(test_https_errors),
        cmocka_unit_test(test_rpc_layer), cmocka_unit_test(test_query_commands),
        cmocka_unit_test(test_send),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
