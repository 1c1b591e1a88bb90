/* openledger-cli against a fake node on 127.0.0.1: the HTTP path as the CLI
 * sees it (answers, errors, limits, timeouts; util/net and libcurl do the
 * parsing), the JSON-RPC layer, and the commands run
 * in-process, including send (the fake decodes and checks the signed tx) and
 * prove (the fake serves a real sparse Merkle proof, intact and tampered). */
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
#include "chain/state/smt.h"
#include "chain/state/store.h"
#include "chain/types/genesis.h"
#include "chain/types/tx.h"
#include "cli/cli.h"
#include "cli/http_client.h"
#include "util/hex.h"

/* The genesis hash transactions are signed for (their signing domain). */
static const uint8_t GH[32] = {0x6f, 0x6c, 0x2d, 0x74, 0x65, 0x73, 0x74};

/* --- fake node ------------------------------------------------------------ */

#define HOLD ((char *)1) /* handler result: keep the connection open, never answer */

typedef char *(*handler_fn)(const char *method, json_t *params);

static struct {
    int lfd, port;
    pthread_t th;
    volatile int stop;
    handler_fn h;
    char url[64];
    int ncalls[8]; /* by method, see method_idx */
} F;

enum { M_STATUS, M_ACCOUNT, M_SEND, M_GETTX, M_BLOCK, M_PROOF, M_OTHER };

static int method_idx(const char *m)
{
    static const char *const names[] = {"node_status",          "account_get",    "tx_send",
                                        "chain_getTransaction", "chain_getBlock", "state_getProof"};
    for (int i = 0; i < M_OTHER; i++)
        if (m && strcmp(m, names[i]) == 0) return i;
    return M_OTHER;
}

static char *http_raw(const char *status, const char *body)
{
    char *r;
    assert_true(asprintf(&r,
                         "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: "
                         "%zu\r\nConnection: close\r\n\r\n%s",
                         status, strlen(body), body) > 0);
    return r;
}

/* Steals result. */
static char *ok(json_t *result)
{
    json_t *env = json_pack("{s:s, s:i, s:o}", "jsonrpc", "2.0", "id", 1, "result", result);
    char *body = json_dumps(env, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(env);
    char *r = http_raw("200 OK", body);
    free(body);
    return r;
}

static char *rpc_error(int code, const char *msg, const char *reason)
{
    json_t *e = json_pack("{s:i, s:s}", "code", code, "message", msg);
    if (reason) json_object_set_new(e, "data", json_pack("{s:s}", "reason", reason));
    json_t *env = json_pack("{s:s, s:i, s:o}", "jsonrpc", "2.0", "id", 1, "error", e);
    char *body = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    char *r = http_raw("200 OK", body);
    free(body);
    return r;
}

static void serve(int fd)
{
    char req[65536];
    size_t got = 0;
    char *body = NULL;
    size_t clen = 0;
    while (got < sizeof req - 1) {
        ssize_t r = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (r <= 0) return;
        if (got == 0 && req[0] == 0x16) {
            /* A TLS ClientHello (https:// to this plain HTTP fake). */
            static const char bad[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
            send(fd, bad, sizeof bad - 1, MSG_NOSIGNAL);
            return;
        }
        got += (size_t)r;
        req[got] = 0;
        char *eoh = strstr(req, "\r\n\r\n");
        if (!eoh) continue;
        char *cl = strcasestr(req, "\r\nContent-Length:");
        if (!cl) return;
        clen = strtoul(cl + 17, NULL, 10);
        body = eoh + 4;
        if ((size_t)(req + got - body) >= clen) break;
    }
    if (!body) return;
    json_t *doc = json_loadb(body, clen, 0, NULL);
    const char *m = json_string_value(json_object_get(doc, "method"));
    F.ncalls[method_idx(m)]++;
    char *resp = F.h(m ? m : "", json_object_get(doc, "params"));
    json_decref(doc);
    if (resp == HOLD) {
        /* Until the client gives up (closes) or the test ends. */
        while (!F.stop) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 20) > 0) {
                char c;
                if (recv(fd, &c, 1, 0) <= 0) break;
            }
        }
        return;
    }
    if (resp) {
        size_t n = strlen(resp), off = 0;
        while (off < n) {
            ssize_t w = send(fd, resp + off, n - off, MSG_NOSIGNAL);
            if (w <= 0) break;
            off += (size_t)w;
        }
        free(resp);
    }
}

static void *accept_loop(void *arg)
{
    while (!F.stop) {
        struct pollfd p = {.fd = F.lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(F.lfd, NULL, NULL);
        if (fd < 0) continue;
        serve(fd);
        close(fd);
    }
    return NULL;
}

static void fake_start(handler_fn h)
{
    memset(&F, 0, sizeof F);
    F.h = h;
    F.lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(F.lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(F.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(F.lfd, 16), 0);
    socklen_t sl = sizeof sa;
    getsockname(F.lfd, (struct sockaddr *)&sa, &sl);
    F.port = ntohs(sa.sin_port);
    snprintf(F.url, sizeof F.url, "http://127.0.0.1:%d", F.port);
    assert_int_equal(pthread_create(&F.th, NULL, accept_loop, NULL), 0);
}

static void fake_stop(void)
{
    F.stop = 1;
    pthread_join(F.th, NULL);
    close(F.lfd);
}

/* Runs the program in-process against the fake. */
static int run(char **out, char **err, const char *const *args)
{
    const char *argv[32] = {"openledger-cli", "--rpc", F.url};
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

/* --- prove ----------------------------------------------------------------- */

static struct {
    uint8_t h[32];
    uint8_t node[CHAIN_SMT_NODE_LEN];
} g_nodes[256];
static size_t g_nn;

static int mget(void *c, const uint8_t h[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    for (size_t i = 0; i < g_nn; i++)
        if (!memcmp(g_nodes[i].h, h, 32)) {
            memcpy(out, g_nodes[i].node, CHAIN_SMT_NODE_LEN);
            return 0;
        }
    return UTIL_ENOTFOUND;
}

static void mput(void *c, const uint8_t h[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    uint8_t tmp[CHAIN_SMT_NODE_LEN];
    if (mget(c, h, tmp) == 0) return;
    assert_true(g_nn < 256);
    memcpy(g_nodes[g_nn].h, h, 32);
    memcpy(g_nodes[g_nn++].node, node, CHAIN_SMT_NODE_LEN);
}

static const chain_smt_store g_st = {NULL, mget, mput};

enum {
    T_NONE,
    T_HEADER_HASH,
    T_HEADER_RAW,
    T_HEIGHT,
    T_SHOWN,
    T_VALUE,
    T_STATE_KEY,
    T_PATH,
    T_PROOF,
    T_CLAIM_ABSENT,
    T_OTHER_ROOT,
    T_ADDRESS,
    /* the header is not the chain's: the commit does not back it */
    T_NO_COMMIT,
    T_COMMIT_RAW,
    T_COMMIT_FORGED,
    T_COMMIT_EMPTY,
    T_COMMIT_OTHER_HEIGHT,
    T_FORGED_SET,
    T_PARAMS,
    T_BLOCK0,
    T_COUNT
};

static int g_tamper;
static uint8_t g_root[32];
/* The genesis whose validator (dev key g_val_key) signs the fake's commits. */
static chain_genesis g_gen;
static uint32_t g_val_key = 1000;
static chain_account g_accs[3] = {{1250000000, 3}, {7000000000, 0}, {100, 9}}; /* dev1..dev3 */

static void account_path(const chain_addr *a, uint8_t path[32])
{
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN];
    chain_account_key(key, a);
    chain_sha256(path, key, sizeof key);
}

static char *hexdup(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    s[0] = '0', s[1] = 'x';
    util_hex_encode(s + 2, p, n);
    return s;
}

static void set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
    char *s = hexdup(p, n);
    json_object_set_new(o, k, json_string(s));
    free(s);
}

static char *h_proof(const char *m, json_t *params)
{
    if (strcmp(m, "state_getProof")) return rpc_error(-32601, "method not found", NULL);
    chain_addr a;
    assert_int_equal(chain_addr_decode(&a, json_string_value(json_array_get(params, 0)), NULL), 0);
    int idx = -1;
    for (uint32_t i = 0; i < 3; i++) {
        chain_addr d;
        char ds[CHAIN_ADDR_STR_LEN + 1];
        addr_of_dev(i + 1, &d, ds);
        if (!memcmp(d.b, a.b, CHAIN_ADDR_LEN)) idx = (int)i;
    }
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN], path[32], val[CHAIN_ACCOUNT_VALUE_LEN];
    chain_account_key(key, &a);
    account_path(&a, path);
    chain_header hd;
    memset(&hd, 0, sizeof hd);
    hd.version = CHAIN_BLOCK_VERSION;
    strcpy(hd.chain_id, g_gen.chain_id);
    hd.height = g_tamper == T_BLOCK0 ? 0 : 12;
    memcpy(hd.state_root, g_root, 32);
    chain_header_fill_sets(&hd, &g_gen);
    if (g_tamper == T_OTHER_ROOT) hd.state_root[0] ^= 1;
    uint32_t signer = g_val_key;
    if (g_tamper == T_FORGED_SET || g_tamper == T_COMMIT_FORGED) {
        /* A forger signs with its own key; in T_FORGED_SET it also puts its
         * own one-validator set in the header. */
        chain_validator v = g_gen.vals[0];
        chain_keypair fk;
        assert_int_equal(chain_keypair_dev(&fk, 7), 0);
        memcpy(v.pubkey, fk.pubkey, 32);
        if (g_tamper == T_FORGED_SET) chain_validators_hash(&v, 1, hd.validators_hash);
        signer = 7;
    }
    if (g_tamper == T_PARAMS) hd.consensus_params_hash[3] ^= 1;
    /* The commit: a precommit of the header by the genesis validator. */
    uint8_t hid[32], digest[32];
    chain_header_hash(&hd, hid);
    chain_vote_digest(digest, g_gen.chain_id, g_gen.hash,
                      hd.height + (g_tamper == T_COMMIT_OTHER_HEIGHT), 0, CHAIN_VOTE_PRECOMMIT,
                      hid);
    chain_commit cm;
    memset(&cm, 0, sizeof cm);
    if (g_tamper != T_COMMIT_EMPTY && g_tamper != T_BLOCK0) {
        chain_keypair vk;
        assert_int_equal(chain_keypair_dev(&vk, signer), 0);
        assert_int_equal(chain_sign(cm.sigs[0].sig, digest, &vk, NULL), 0);
        cm.n = 1;
    }
    chain_smt_proof *pr = calloc(1, sizeof *pr);
    assert_int_equal(chain_smt_prove(&g_st, g_root, path, pr, NULL), 0);
    if (g_tamper == T_PROOF) {
        assert_true(pr->nsib > 0);
        pr->siblings[pr->nsib - 1][5] ^= 0x40;
    }
    util_buf pb, hb, cb;
    util_buf_init(&pb);
    util_buf_init(&hb);
    util_buf_init(&cb);
    assert_int_equal(chain_smt_proof_encode(pr, &pb), 0);
    assert_int_equal(chain_header_encode(&hd, &hb), 0);
    assert_int_equal(chain_commit_encode(&cm, &cb), 0);
    if (g_tamper == T_COMMIT_RAW) cb.len--;
    free(pr);
    uint8_t hh[32];
    chain_header_hash(&hd, hh);
    if (g_tamper == T_HEADER_HASH) hh[31] ^= 1;
    json_t *r = json_object();
    json_object_set_new(r, "address", json_copy(json_array_get(params, 0)));
    if (g_tamper == T_ADDRESS) {
        char other[CHAIN_ADDR_STR_LEN + 1];
        addr_of_dev(9, &a, other);
        json_object_set_new(r, "address", json_string(other));
    }
    if (g_tamper == T_STATE_KEY) key[1] ^= 1;
    if (g_tamper == T_PATH) path[0] ^= 1;
    set_hex(r, "stateKey", key, sizeof key);
    set_hex(r, "path", path, 32);
    if (idx >= 0 && g_tamper != T_CLAIM_ABSENT) {
        chain_account acc = g_accs[idx];
        if (g_tamper == T_VALUE) acc.balance++;
        chain_account_encode(val, &acc);
        if (g_tamper == T_SHOWN) acc.balance++;
        char bal[32];
        snprintf(bal, sizeof bal, "%llu", (unsigned long long)acc.balance);
        json_object_set_new(
            r, "account", json_pack("{s:s, s:I}", "balance", bal, "nonce", (json_int_t)acc.nonce));
        set_hex(r, "value", val, sizeof val);
    } else {
        json_object_set_new(r, "account", json_null());
        json_object_set_new(r, "value", json_null());
    }
    set_hex(r, "proof", pb.data, pb.len);
    json_t *jh = json_pack("{s:i, s:I}", "version", CHAIN_BLOCK_VERSION, "height",
                           (json_int_t)(g_tamper == T_HEIGHT ? 13 : hd.height));
    set_hex(jh, "stateRoot", hd.state_root, 32);
    json_object_set_new(r, "header", jh);
    if (g_tamper == T_HEADER_RAW) hb.len -= 3;
    set_hex(r, "headerRaw", hb.data, hb.len);
    set_hex(r, "headerHash", hh, 32);
    if (g_tamper != T_NO_COMMIT) set_hex(r, "commitRaw", cb.data, cb.len);
    util_buf_free(&pb);
    util_buf_free(&hb);
    util_buf_free(&cb);
    return ok(r);
}

static void test_prove(void **state)
{
    g_nn = 0;
    chain_smt_update ups[3];
    for (uint32_t i = 0; i < 3; i++) {
        chain_addr a;
        char s[CHAIN_ADDR_STR_LEN + 1];
        uint8_t v[CHAIN_ACCOUNT_VALUE_LEN];
        addr_of_dev(i + 1, &a, s);
        account_path(&a, ups[i].path);
        chain_account_encode(v, &g_accs[i]);
        chain_sha256(ups[i].value_hash, v, sizeof v);
        ups[i].remove = 0;
    }
    uint8_t zero[32] = {0};
    assert_int_equal(chain_smt_apply(&g_st, zero, ups, 3, g_root, NULL), 0);
    util_err ge = {0};
    const char *dj = chain_genesis_devnet_json();
    assert_int_equal(chain_genesis_parse(&g_gen, dj, strlen(dj), &ge), 0);
    g_val_key = 1000;
    fake_start(h_proof);
    char *out, *err, want[256], root[67] = "0x";
    util_hex_encode(root + 2, g_root, 32);
    chain_addr a;
    char s1[CHAIN_ADDR_STR_LEN + 1], s5[CHAIN_ADDR_STR_LEN + 1];
    addr_of_dev(1, &a, s1);
    addr_of_dev(5, &a, s5);

    g_tamper = T_NONE;
    assert_int_equal(RUN("prove", "dev1"), 0);
    snprintf(want, sizeof want,
             "proof OK: %s has 1.25 OPEN, nonce 3 at height 12 (state root %s)\n", s1, root);
    assert_string_equal(out, want);
    DROP();
    assert_int_equal(RUN("prove", "dev5"), 0);
    snprintf(want, sizeof want, "proof OK: %s is absent at height 12 (state root %s)\n", s5, root);
    assert_string_equal(out, want);
    DROP();
    assert_int_equal(RUN("--json", "prove", s1), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(json_object_get(j, "proof"));
    json_decref(j);
    DROP();

    static const char *const reasons[T_COUNT] = {
        [T_HEADER_HASH] = "does not hash to headerHash",
        [T_HEADER_RAW] = "headerRaw does not decode",
        [T_HEIGHT] = "header height 13 differs",
        [T_SHOWN] = "is not the proven value",
        [T_VALUE] = "does not hold against the state root",
        [T_STATE_KEY] = "stateKey is not this address's account key",
        [T_PATH] = "path is not SHA-256(stateKey)",
        [T_PROOF] = "does not hold against the state root",
        [T_CLAIM_ABSENT] = "does not hold against the state root",
        [T_OTHER_ROOT] = "does not hold against the state root",
        [T_ADDRESS] = "the proof is for",
        [T_NO_COMMIT] = "the node sent no commit for the header",
        [T_COMMIT_RAW] = "commitRaw does not decode",
        [T_COMMIT_FORGED] = "no valid commit by more than 2/3 of the validators",
        [T_COMMIT_EMPTY] = "0 of 10 voting power, more than 2/3 is needed",
        [T_COMMIT_OTHER_HEIGHT] = "signature of validator 0 (devnet-validator) does not verify",
        [T_FORGED_SET] = "validatorsHash is not the trusted genesis validator set's",
        [T_PARAMS] = "consensusParamsHash is not the trusted genesis parameters'",
        [T_BLOCK0] = "the header claims to be block 0 but is not the trusted genesis' block 0",
    };
    for (g_tamper = T_HEADER_HASH; g_tamper < T_COUNT; g_tamper++) {
        assert_int_equal(RUN("prove", "dev1"), 1);
        snprintf(want, sizeof want, "error: proof verification FAILED for %s: ", s1);
        if (strncmp(err, want, strlen(want)) || !strstr(err, reasons[g_tamper]))
            fail_msg("tamper %d: got '%s'", g_tamper, err);
        assert_string_equal(out, "");
        DROP();
    }
    /* An absent account with a forged proof root fails too. */
    g_tamper = T_OTHER_ROOT;
    assert_int_equal(RUN("prove", "dev5"), 1);
    DROP();

    /* Another network: its genesis, given with --genesis, is what the
     * header must be signed under; the built-in devnet genesis refuses it. */
    char gpath[] = "/tmp/ol-test-genesis-XXXXXX";
    int fd = mkstemp(gpath);
    assert_true(fd >= 0);
    json_t *doc = json_loads(dj, 0, NULL);
    chain_keypair vk;
    char pk[67] = "0x";
    assert_int_equal(chain_keypair_dev(&vk, 2000), 0);
    util_hex_encode(pk + 2, vk.pubkey, 32);
    json_object_set_new(doc, "chainId", json_string("openledger-other"));
    json_object_set_new(doc, "validators",
                        json_pack("[{s:s,s:s,s:i}]", "name", "other", "pubkey", pk, "power", 3));
    char *gj = json_dumps(doc, 0);
    json_decref(doc);
    assert_int_equal(write(fd, gj, strlen(gj)), (ssize_t)strlen(gj));
    close(fd);
    chain_genesis_free(&g_gen);
    assert_int_equal(chain_genesis_parse(&g_gen, gj, strlen(gj), &ge), 0);
    free(gj);
    g_val_key = 2000;
    g_tamper = T_NONE;
    assert_int_equal(RUN("prove", "--genesis", gpath, "dev1"), 0);
    assert_non_null(strstr(out, "proof OK"));
    DROP();
    assert_int_equal(RUN("prove", "dev1"), 1);
    assert_non_null(strstr(err, "the header is for chain 'openledger-other'"));
    DROP();
    assert_int_equal(RUN("prove", "--genesis", "/nonexistent/g.json", "dev1"), 1);
    assert_non_null(strstr(err, "trusted genesis: /nonexistent/g.json"));
    DROP();
    unlink(gpath);
    chain_genesis_free(&g_gen);
    fake_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http),      cmocka_unit_test(test_https_errors),
        cmocka_unit_test(test_rpc_layer), cmocka_unit_test(test_query_commands),
        cmocka_unit_test(test_send),      cmocka_unit_test(test_prove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
