/* The L1 JSON-RPC client against a real anvil: every method the rollup uses,
 * JSON-RPC errors, a down endpoint, an oversized answer, cancellation on
 * close, and the parsers refusing malformed results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rollup/l1/client.h"
#include "tests/unit/rollup/l1_anvil.h"

#define ACCT0 "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define ACCT1 "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
/* Init code: emits LOG1(topic 0xaa, data 32 bytes ending 0x2a), then deploys
 * a runtime that returns 32 bytes ending 0x2a. */
#define INIT_CODE "0x602a60005260aa60206000a1600a6018600039600a6000f3602a60005260206000f3"

static l1_anvil anvil;

static uint64_t rpc_u64(const char *method, const char *params)
{
    json_t *r = l1_rpc(anvil.url, method, params);
    assert_non_null(r);
    uint64_t v = 0;
    util_err err = {0};
    assert_int_equal(rollup_l1_parse_u64(r, &v, method, &err), 0);
    json_decref(r);
    return v;
}

/* anvil mines right after answering a send: the receipt may lag a moment. */
static json_t *wait_receipt(const char *params)
{
    for (int i = 0; i < 200; i++) {
        json_t *r = l1_rpc(anvil.url, "eth_getTransactionReceipt", params);
        assert_non_null(r);
        if (!json_is_null(r)) return r;
        json_decref(r);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("no receipt for %s", params);
    return NULL;
}

/* Sends from an unlocked anvil account; returns the receipt. */
static void send_and_receipt(const char *txjson, rollup_l1_receipt *rc_out)
{
    char params[512];
    snprintf(params, sizeof params, "[%s]", txjson);
    json_t *h = l1_rpc(anvil.url, "eth_sendTransaction", params);
    assert_non_null(h);
    snprintf(params, sizeof params, "[\"%s\"]", json_string_value(h));
    json_decref(h);
    json_t *r = wait_receipt(params);
    assert_non_null(r);
    util_err err = {0};
    assert_int_equal(rollup_l1_parse_receipt(r, rc_out, &err), 0);
    json_decref(r);
}

static void test_methods(void **state)
{
    (void)state;
    util_err err = {0};
    assert_int_equal(rpc_u64("eth_chainId", "[]"), 31337);
    uint64_t n0 = rpc_u64("eth_blockNumber", "[]");

    /* A contract creation that logs and leaves code for eth_call. */
    rollup_l1_receipt cr;
    send_and_receipt("{\"from\":\"" ACCT0 "\",\"data\":\"" INIT_CODE "\"}", &cr);
    assert_int_equal(cr.status, 1);
    assert_true(cr.has_contract);
    assert_int_equal(cr.block_number, n0 + 1);
    assert_true(cr.gas_used > 21000);
    assert_true(cr.effective_gas_price > 0);
    assert_int_equal(rpc_u64("eth_blockNumber", "[]"), n0 + 1);
    assert_int_equal(rpc_u64("eth_getTransactionCount", "[\"" ACCT0 "\",\"latest\"]"), 1);

    /* Blocks, full and not. */
    char params[512];
    snprintf(params, sizeof params, "[\"0x%llx\",true]", (unsigned long long)cr.block_number);
    json_t *bj = l1_rpc(anvil.url, "eth_getBlockByNumber", params);
    rollup_l1_block b;
    assert_int_equal(rollup_l1_parse_block(bj, 1, 1024, &b, &err), 0);
    assert_int_equal(b.number, cr.block_number);
    assert_memory_equal(b.hash, cr.block_hash, 32);
    assert_int_equal(b.ntx, 1);
    assert_false(b.txs[0].has_to);
    assert_memory_equal(b.txs[0].hash, cr.tx_hash, 32);
    assert_int_equal(b.txs[0].input_len, (sizeof INIT_CODE - 3) / 2);
    assert_int_equal(b.txs[0].input[0], 0x60);
    assert_true(b.base_fee > 0);
    assert_true(b.timestamp > 0);
    uint8_t from[20];
    json_t *fromj = json_string(ACCT0);
    assert_int_equal(rollup_l1_parse_fixed(fromj, from, 20, "x", &err), 0);
    json_decref(fromj);
    assert_memory_equal(b.txs[0].from.b, from, 20);
    /* Too small an input cap refuses the block. */
    rollup_l1_block b2;
    assert_int_equal(rollup_l1_parse_block(bj, 1, 10, &b2, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "transaction input"));
    rollup_l1_block_free(&b);
    json_decref(bj);
    snprintf(params, sizeof params, "[\"0x%llx\",false]", (unsigned long long)cr.block_number);
    bj = l1_rpc(anvil.url, "eth_getBlockByNumber", params);
    assert_int_equal(rollup_l1_parse_block(bj, 0, 0, &b, &err), 0);
    assert_null(b.txs);
    assert_memory_equal(b.hash, cr.block_hash, 32);
    /* A block of hashes is refused where full transactions are expected. */
    assert_int_equal(rollup_l1_parse_block(bj, 1, 1024, &b2, &err), UTIL_EINVAL);
    json_decref(bj);

    /* Logs. */
    json_t *addr = rollup_l1_address(&cr.contract_address);
    snprintf(params, sizeof params, "[{\"fromBlock\":\"0x0\",\"address\":\"%s\"}]",
             json_string_value(addr));
    json_decref(addr);
    json_t *lj = l1_rpc(anvil.url, "eth_getLogs", params);
    rollup_l1_log *logs = NULL;
    size_t nlogs = 0;
    assert_int_equal(rollup_l1_parse_logs(lj, 10, 64, &logs, &nlogs, &err), 0);
    assert_int_equal(nlogs, 1);
    assert_memory_equal(logs[0].address.b, cr.contract_address.b, 20);
    assert_int_equal(logs[0].ntopics, 1);
    assert_int_equal(logs[0].topics[0][31], 0xaa);
    assert_int_equal(logs[0].data_len, 32);
    assert_int_equal(logs[0].data[31], 0x2a);
    assert_int_equal(logs[0].block_number, cr.block_number);
    assert_memory_equal(logs[0].tx_hash, cr.tx_hash, 32);
    assert_false(logs[0].removed);
    rollup_l1_logs_free(logs, nlogs);
    assert_int_equal(rollup_l1_parse_logs(lj, 0, 64, &logs, &nlogs, &err), UTIL_ELIMIT);
    assert_int_equal(rollup_l1_parse_logs(lj, 10, 31, &logs, &nlogs, &err), UTIL_EINVAL);
    json_decref(lj);

    /* eth_call and eth_estimateGas. */
    addr = rollup_l1_address(&cr.contract_address);
    snprintf(params, sizeof params, "[{\"to\":\"%s\",\"data\":\"0x\"},\"latest\"]",
             json_string_value(addr));
    json_decref(addr);
    json_t *cj = l1_rpc(anvil.url, "eth_call", params);
    uint8_t *out = NULL;
    size_t outn = 0;
    assert_int_equal(rollup_l1_parse_data(cj, 32, &out, &outn, "call", &err), 0);
    assert_int_equal(outn, 32);
    assert_int_equal(out[31], 0x2a);
    free(out);
    json_decref(cj);
    assert_int_equal(rpc_u64("eth_estimateGas",
                             "[{\"from\":\"" ACCT0 "\",\"to\":\"" ACCT1 "\",\"value\":\"0x1\"}]"),
                     21000);

    /* eth_sendRawTransaction with a transaction anvil signs. */
    json_t *raw = l1_rpc(anvil.url, "eth_signTransaction",
                         "[{\"from\":\"" ACCT0 "\",\"to\":\"" ACCT1 "\",\"value\":\"0x5\",\"gas\":"
                         "\"0x5208\",\"maxFeePerGas\":\"0x77359400\",\"maxPriorityFeePerGas\":"
                         "\"0x1\",\"nonce\":\"0x1\"}]");
    assert_non_null(raw);
    json_t *p = json_pack("[O]", raw);
    json_t *hj = NULL;
    assert_int_equal(rollup_l1_call_sync(anvil.url, "eth_sendRawTransaction", p, &hj, &err), 0);
    json_decref(p);
    json_decref(raw);
    uint8_t h[32];
    assert_int_equal(rollup_l1_parse_fixed(hj, h, 32, "hash", &err), 0);
    char *hs = json_dumps(hj, JSON_ENCODE_ANY);
    snprintf(params, sizeof params, "[%s]", hs);
    free(hs);
    json_decref(hj);
    json_t *rj = wait_receipt(params);
    rollup_l1_receipt r;
    assert_int_equal(rollup_l1_parse_receipt(rj, &r, &err), 0);
    assert_memory_equal(r.tx_hash, h, 32);
    assert_int_equal(r.status, 1);
    assert_false(r.has_contract);
    assert_int_equal(r.gas_used, 21000);
    json_decref(rj);
    assert_int_equal(rpc_u64("eth_getTransactionCount", "[\"" ACCT0 "\",\"pending\"]"), 2);

    /* Fee history: the next base fee and a tip of at least 1 wei. */
    json_t *fj = l1_rpc(anvil.url, "eth_feeHistory", "[\"0x4\",\"latest\",[50]]");
    rollup_l1_fees f;
    assert_int_equal(rollup_l1_parse_fee_history(fj, &f, &err), 0);
    assert_true(f.next_base_fee > 0);
    assert_true(f.tip >= 1);
    json_decref(fj);
}

/* --- on the loop ------------------------------------------------------- */

typedef struct got {
    int n, rc;
    json_t *result;
    util_err err;
} got;

static void on_got(void *ctx, int rc, json_t *result, const util_err *err)
{
    got *g = ctx;
    g->n++;
    g->rc = rc;
    if (rc)
        g->err = *err;
    else
        g->result = json_incref(result);
}

static void run_until(uv_loop_t *loop, const got *g, int n)
{
    for (int i = 0; i < 100000 && g->n < n; i++)
        uv_run(loop, UV_RUN_ONCE);
}

static void test_async_calls(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    rollup_l1 *c = NULL;
    util_err err = {0};
    assert_int_equal(rollup_l1_new(&c, &loop, anvil.url, NULL, &err), 0);
    assert_string_equal(rollup_l1_url(c), anvil.url);
    got g[4] = {0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(rollup_l1_call(c, "eth_chainId", NULL, on_got, &g[i], &err), 0);
    /* Callbacks never run inside the call. */
    assert_int_equal(g[0].n, 0);
    assert_int_equal(rollup_l1_pending(c), 4);
    for (int i = 0; i < 4; i++) {
        run_until(&loop, &g[i], 1);
        assert_int_equal(g[i].n, 1);
        assert_int_equal(g[i].rc, 0);
        assert_string_equal(json_string_value(g[i].result), "0x7a69");
        json_decref(g[i].result);
    }
    assert_int_equal(rollup_l1_pending(c), 0);

    /* JSON-RPC error: code and message surface. */
    got e = {0};
    assert_int_equal(rollup_l1_call(c, "eth_noSuchMethod", NULL, on_got, &e, &err), 0);
    run_until(&loop, &e, 1);
    assert_int_equal(e.rc, UTIL_EINVAL);
    assert_non_null(strstr(e.err.msg, "eth_noSuchMethod"));
    assert_non_null(strstr(e.err.msg, "-32601"));
    assert_non_null(strstr(e.err.msg, "Method not found"));
    json_t *bad = json_pack("[s]", "0x02");
    got e2 = {0};
    assert_int_equal(rollup_l1_call(c, "eth_sendRawTransaction", bad, on_got, &e2, &err), 0);
    json_decref(bad);
    run_until(&loop, &e2, 1);
    assert_int_equal(e2.rc, UTIL_EINVAL);
    assert_non_null(strstr(e2.err.msg, "-32602"));

    /* params must be an array. */
    json_t *obj = json_object();
    assert_int_equal(rollup_l1_call(c, "eth_chainId", obj, on_got, &e, &err), UTIL_EINVAL);
    json_decref(obj);

    /* Close with calls in flight: each callback runs once, UTIL_ESTATE. */
    got k[3] = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(rollup_l1_call(c, "eth_blockNumber", NULL, on_got, &k[i], &err), 0);
    rollup_l1_close(c);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(k[i].n, 1);
        assert_int_equal(k[i].rc, UTIL_ESTATE);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_endpoint_down(void **state)
{
    (void)state;
    int port = l1_free_port();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    json_t *r = NULL;
    util_err err = {0};
    int rc = rollup_l1_call_sync(url, "eth_chainId", NULL, &r, &err);
    assert_int_equal(rc, UTIL_EIO);
    assert_null(r);
    assert_non_null(strstr(err.msg, "eth_chainId"));
    assert_non_null(strstr(err.msg, "cannot reach"));
    /* Not an http(s) URL. */
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    rollup_l1 *c = NULL;
    assert_int_equal(rollup_l1_new(&c, &loop, "ftp://127.0.0.1/", NULL, &err), UTIL_EINVAL);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_oversized_answer(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    util_net_opts o = {.max_response = 200};
    rollup_l1 *c = NULL;
    util_err err = {0};
    assert_int_equal(rollup_l1_new(&c, &loop, anvil.url, &o, &err), 0);
    got g = {0}, small = {0};
    json_t *p = json_pack("[sb]", "0x0", 1);
    assert_int_equal(rollup_l1_call(c, "eth_getBlockByNumber", p, on_got, &g, &err), 0);
    assert_int_equal(rollup_l1_call(c, "eth_chainId", NULL, on_got, &small, &err), 0);
    json_decref(p);
    run_until(&loop, &g, 1);
    run_until(&loop, &small, 1);
    assert_int_equal(g.rc, UTIL_ELIMIT);
    assert_non_null(strstr(g.err.msg, "eth_getBlockByNumber"));
    /* The small answer on the same client still passes. */
    assert_int_equal(small.rc, 0);
    json_decref(small.result);
    rollup_l1_close(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* --- parsers on malformed input ----------------------------------------- */

static json_t *J(const char *s)
{
    json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    return j;
}

static void test_parse_quantities(void **state)
{
    (void)state;
    util_err err = {0};
    uint64_t v = 7;
    const char *bad[] = {"\"0x01\"", "\"0x\"", "\"1\"",   "\"0xg\"",  "\"0x10000000000000000\"",
                         "1",        "null",   "\"0X1\"", "\"0x-1\"", "\"0x 1\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = J(bad[i]);
        assert_int_equal(rollup_l1_parse_u64(j, &v, "q", &err), UTIL_EINVAL);
        assert_int_equal(v, 7);
        json_decref(j);
    }
    json_t *j = J("\"0x0\"");
    assert_int_equal(rollup_l1_parse_u64(j, &v, "q", &err), 0);
    assert_int_equal(v, 0);
    json_decref(j);
    j = J("\"0xffffffffffffffff\"");
    assert_int_equal(rollup_l1_parse_u64(j, &v, "q", &err), 0);
    assert_true(v == UINT64_MAX);
    json_decref(j);
    /* Embedded NUL is not hidden by a C string. */
    j = json_stringn("0x1\0", 4);
    assert_int_equal(rollup_l1_parse_u64(j, &v, "q", &err), UTIL_EINVAL);
    json_decref(j);

    uint8_t h[4];
    const char *badfixed[] = {"\"0x0102030\"", "\"0x0102030405\"", "\"01020304\"", "\"0x010203zz\"",
                              "42"};
    for (size_t i = 0; i < sizeof badfixed / sizeof badfixed[0]; i++) {
        j = J(badfixed[i]);
        assert_int_equal(rollup_l1_parse_fixed(j, h, 4, "f", &err), UTIL_EINVAL);
        json_decref(j);
    }
    uint8_t *d = NULL;
    size_t n = 99;
    j = J("\"0x\"");
    assert_int_equal(rollup_l1_parse_data(j, 4, &d, &n, "d", &err), 0);
    assert_null(d);
    assert_int_equal(n, 0);
    json_decref(j);
    j = J("\"0x0102030405\"");
    assert_int_equal(rollup_l1_parse_data(j, 4, &d, &n, "d", &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "longer than 4"));
    json_decref(j);
    j = J("\"0x012\"");
    assert_int_equal(rollup_l1_parse_data(j, 4, &d, &n, "d", &err), UTIL_EINVAL);
    json_decref(j);

    /* The helpers write canonical forms. */
    j = rollup_l1_quantity(0);
    assert_string_equal(json_string_value(j), "0x0");
    json_decref(j);
    j = rollup_l1_quantity(0x1a);
    assert_string_equal(json_string_value(j), "0x1a");
    json_decref(j);
    uint8_t bytes[2] = {0, 0xab};
    j = rollup_l1_data(bytes, 2);
    assert_string_equal(json_string_value(j), "0x00ab");
    json_decref(j);
}

#define H32 "\"0x1111111111111111111111111111111111111111111111111111111111111111\""
#define A20 "\"0x2222222222222222222222222222222222222222\""

static void test_parse_structs(void **state)
{
    (void)state;
    util_err err = {0};
    const char *rcpt_ok =
        "{\"transactionHash\":" H32 ",\"status\":\"0x1\",\"blockNumber\":\"0x5\","
        "\"blockHash\":" H32 ",\"gasUsed\":\"0x5208\",\"effectiveGasPrice\":\"0x1\","
        "\"contractAddress\":null}";
    rollup_l1_receipt r;
    json_t *j = J(rcpt_ok);
    assert_int_equal(rollup_l1_parse_receipt(j, &r, &err), 0);
    assert_int_equal(r.block_number, 5);
    json_decref(j);
    const char *rcpt_bad[] = {
        /* missing status */
        "{\"transactionHash\":" H32 ",\"blockNumber\":\"0x5\",\"blockHash\":" H32
        ",\"gasUsed\":\"0x1\",\"effectiveGasPrice\":\"0x1\"}",
        /* status 2 */
        "{\"transactionHash\":" H32 ",\"status\":\"0x2\",\"blockNumber\":\"0x5\",\"blockHash\":" H32
        ",\"gasUsed\":\"0x1\",\"effectiveGasPrice\":\"0x1\"}",
        /* non-canonical block number */
        "{\"transactionHash\":" H32
        ",\"status\":\"0x1\",\"blockNumber\":\"0x05\",\"blockHash\":" H32
        ",\"gasUsed\":\"0x1\",\"effectiveGasPrice\":\"0x1\"}",
        /* short hash */
        "{\"transactionHash\":\"0x11\",\"status\":\"0x1\",\"blockNumber\":\"0x5\","
        "\"blockHash\":" H32 ",\"gasUsed\":\"0x1\",\"effectiveGasPrice\":\"0x1\"}",
        /* contract address of the wrong length */
        "{\"transactionHash\":" H32 ",\"status\":\"0x1\",\"blockNumber\":\"0x5\",\"blockHash\":" H32
        ",\"gasUsed\":\"0x1\",\"effectiveGasPrice\":\"0x1\",\"contractAddress\":" H32 "}",
        "[]",
        "null",
    };
    for (size_t i = 0; i < sizeof rcpt_bad / sizeof rcpt_bad[0]; i++) {
        j = J(rcpt_bad[i]);
        assert_int_not_equal(rollup_l1_parse_receipt(j, &r, &err), 0);
        json_decref(j);
    }

    const char *blk_bad[] = {
        /* pending block: number null */
        "{\"number\":null,\"hash\":" H32 ",\"parentHash\":" H32
        ",\"timestamp\":\"0x1\",\"transactions\":[]}",
        /* no transactions */
        "{\"number\":\"0x1\",\"hash\":" H32 ",\"parentHash\":" H32 ",\"timestamp\":\"0x1\"}",
        /* tx index out of place */
        "{\"number\":\"0x1\",\"hash\":" H32 ",\"parentHash\":" H32
        ",\"timestamp\":\"0x1\",\"transactions\":[{\"hash\":" H32 ",\"from\":" A20
        ",\"to\":null,\"transactionIndex\":\"0x1\",\"input\":\"0x\"}]}",
        /* tx without input */
        "{\"number\":\"0x1\",\"hash\":" H32 ",\"parentHash\":" H32
        ",\"timestamp\":\"0x1\",\"transactions\":[{\"hash\":" H32 ",\"from\":" A20
        ",\"to\":null,\"transactionIndex\":\"0x0\"}]}",
        /* second tx bad after a first with input (frees what it parsed) */
        "{\"number\":\"0x1\",\"hash\":" H32 ",\"parentHash\":" H32
        ",\"timestamp\":\"0x1\",\"transactions\":[{\"hash\":" H32 ",\"from\":" A20 ",\"to\":" A20
        ",\"transactionIndex\":\"0x0\",\"input\":\"0xabcd\"},{\"hash\":" H32
        ",\"from\":\"0x22\",\"to\":null,\"transactionIndex\":\"0x1\",\"input\":\"0x\"}]}",
        /* non-canonical base fee */
        "{\"number\":\"0x1\",\"hash\":" H32 ",\"parentHash\":" H32
        ",\"timestamp\":\"0x1\",\"baseFeePerGas\":\"0x007\",\"transactions\":[]}",
    };
    rollup_l1_block b;
    for (size_t i = 0; i < sizeof blk_bad / sizeof blk_bad[0]; i++) {
        j = J(blk_bad[i]);
        assert_int_not_equal(rollup_l1_parse_block(j, 1, 100, &b, &err), 0);
        json_decref(j);
    }

    const char *log_ok =
        "{\"address\":" A20 ",\"topics\":[" H32 "],\"data\":\"0xab\",\"blockNumber\":"
        "\"0x1\",\"blockHash\":" H32 ",\"transactionHash\":" H32
        ",\"transactionIndex\":\"0x0\",\"logIndex\":\"0x0\",\"removed\":false}";
    char buf[2048];
    snprintf(buf, sizeof buf, "[%s]", log_ok);
    rollup_l1_log *logs = NULL;
    size_t n = 0;
    j = J(buf);
    assert_int_equal(rollup_l1_parse_logs(j, 1, 1, &logs, &n, &err), 0);
    rollup_l1_logs_free(logs, n);
    json_decref(j);
    const char *logs_bad[] = {
        "{}",
        "[{\"address\":" A20 ",\"topics\":[" H32 "," H32 "," H32 "," H32 "," H32
        "],\"data\":\"0x\",\"blockNumber\":\"0x1\",\"blockHash\":" H32 ",\"transactionHash\":" H32
        ",\"transactionIndex\":\"0x0\",\"logIndex\":\"0x0\"}]",
        "[{\"address\":" A20
        ",\"topics\":[],\"data\":\"0x\",\"blockNumber\":null,\"blockHash\":" H32
        ",\"transactionHash\":" H32 ",\"transactionIndex\":\"0x0\",\"logIndex\":\"0x0\"}]",
        "[{\"address\":" A20
        ",\"topics\":[],\"data\":\"0x\",\"blockNumber\":\"0x1\",\"blockHash\":" H32
        ",\"transactionHash\":" H32 ",\"transactionIndex\":\"0x100000000\",\"logIndex\":\"0x0\"}]",
        "[{\"address\":" A20
        ",\"topics\":[],\"data\":\"0x\",\"blockNumber\":\"0x1\",\"blockHash\":" H32
        ",\"transactionHash\":" H32 ",\"transactionIndex\":\"0x0\",\"logIndex\":\"0x0\","
        "\"removed\":\"no\"}]",
    };
    for (size_t i = 0; i < sizeof logs_bad / sizeof logs_bad[0]; i++) {
        j = J(logs_bad[i]);
        assert_int_not_equal(rollup_l1_parse_logs(j, 10, 10, &logs, &n, &err), 0);
        json_decref(j);
    }

    /* Fee history: the rule of client.h. */
    rollup_l1_fees f;
    j = J(
        "{\"baseFeePerGas\":[\"0x10\",\"0x20\",\"0x30\",\"0x40\"],\"reward\":[[\"0x0\"],[\"0x5\"],"
        "[\"0x3\"]]}");
    assert_int_equal(rollup_l1_parse_fee_history(j, &f, &err), 0);
    assert_int_equal(f.next_base_fee, 0x40);
    assert_int_equal(f.tip, 3); /* median of {3, 5}, zeros left out */
    json_decref(j);
    j = J("{\"baseFeePerGas\":[\"0x10\",\"0x20\"],\"reward\":[[\"0x0\"]]}");
    assert_int_equal(rollup_l1_parse_fee_history(j, &f, &err), 0);
    assert_int_equal(f.tip, 1);
    json_decref(j);
    const char *fh_bad[] = {
        "{\"baseFeePerGas\":[]}",
        "{\"baseFeePerGas\":[\"0x10\",\"0x20\"],\"reward\":[[\"0x1\"],[\"0x1\"]]}",
        "{\"baseFeePerGas\":[\"0x10\",\"0x20\"],\"reward\":[[]]}",
        "{\"baseFeePerGas\":[\"0x10\",\"0x020\"]}",
        "{\"reward\":[]}",
    };
    for (size_t i = 0; i < sizeof fh_bad / sizeof fh_bad[0]; i++) {
        j = J(fh_bad[i]);
        assert_int_equal(rollup_l1_parse_fee_history(j, &f, &err), UTIL_EINVAL);
        json_decref(j);
    }
}

/* A block holding one transaction of the given type-related fields. */
static int parse_one_tx(const char *fields, rollup_l1_block *b, util_err *err)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"number\":\"0x1\",\"hash\":" H32 ",\"parentHash\":" H32
             ",\"timestamp\":\"0x1\",\"transactions\":[{\"hash\":" H32 ",\"from\":" A20
             ",\"to\":" A20 ",\"transactionIndex\":\"0x0\",\"input\":\"0xab\"%s]}",
             fields);
    json_t *j = J(buf);
    memset(b, 0, sizeof *b);
    int rc = rollup_l1_parse_block(j, 1, 100, b, err);
    json_decref(j);
    return rc;
}

#define VH(c) "\"0x01" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c "\""

static void test_parse_blob_fields(void **state)
{
    (void)state;
    util_err err = {0};
    rollup_l1_block b;
    /* No type: legacy (0), no hashes. */
    assert_int_equal(parse_one_tx("}", &b, &err), 0);
    assert_int_equal(b.txs[0].type, 0);
    assert_null(b.txs[0].blob_hashes);
    rollup_l1_block_free(&b);
    /* Type 2 with an empty or null list is fine. */
    assert_int_equal(parse_one_tx(",\"type\":\"0x2\",\"blobVersionedHashes\":[]}", &b, &err), 0);
    assert_int_equal(b.txs[0].type, 2);
    assert_int_equal(b.txs[0].nblob_hashes, 0);
    rollup_l1_block_free(&b);
    assert_int_equal(parse_one_tx(",\"type\":\"0x2\",\"blobVersionedHashes\":null}", &b, &err), 0);
    rollup_l1_block_free(&b);
    /* Type 3 with two hashes, in order. */
    assert_int_equal(
        parse_one_tx(",\"type\":\"0x3\",\"blobVersionedHashes\":[" VH("aa") "," VH("bb") "]}", &b,
                     &err),
        0);
    assert_int_equal(b.txs[0].type, 3);
    assert_int_equal(b.txs[0].nblob_hashes, 2);
    assert_int_equal(b.txs[0].blob_hashes[0][0], 0x01);
    assert_int_equal(b.txs[0].blob_hashes[0][31], 0xaa);
    assert_int_equal(b.txs[0].blob_hashes[1][31], 0xbb);
    rollup_l1_block_free(&b);
    /* 16 hashes is the bound. */
    char many[4096];
    strcpy(many, ",\"type\":\"0x3\",\"blobVersionedHashes\":[");
    for (int i = 0; i < 16; i++) {
        if (i) strcat(many, ",");
        strcat(many, VH("cc"));
    }
    strcat(many, "]}");
    assert_int_equal(parse_one_tx(many, &b, &err), 0);
    assert_int_equal(b.txs[0].nblob_hashes, 16);
    rollup_l1_block_free(&b);
    many[strlen(many) - 2] = 0;
    strcat(many, "," VH("cc") "]}");
    assert_int_equal(parse_one_tx(many, &b, &err), UTIL_EINVAL);

    const char *bad[] = {
        ",\"type\":\"0x3\"}",                                         /* no hashes */
        ",\"type\":\"0x3\",\"blobVersionedHashes\":[]}",              /* no blob */
        ",\"type\":\"0x3\",\"blobVersionedHashes\":null}",            /* no blob */
        ",\"type\":\"0x3\",\"blobVersionedHashes\":[\"0x01\"]}",      /* short hash */
        ",\"type\":\"0x3\",\"blobVersionedHashes\":" VH("aa") "}",    /* not an array */
        ",\"type\":\"0x2\",\"blobVersionedHashes\":[" VH("aa") "]}",  /* hashes on type 2 */
        ",\"type\":\"0x03\",\"blobVersionedHashes\":[" VH("aa") "]}", /* non-canonical */
        ",\"type\":\"0x80\"}",                                        /* not an EIP-2718 type */
        ",\"type\":3}",                                               /* not a quantity */
        /* the second hash is bad after the first was parsed (frees them) */
        ",\"type\":\"0x3\",\"blobVersionedHashes\":[" VH("aa") ",\"0xzz\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse_one_tx(bad[i], &b, &err), UTIL_EINVAL);

    /* A type-3 transaction must have a recipient. */
    json_t *j = J("{\"number\":\"0x1\",\"hash\":" H32 ",\"parentHash\":" H32
                  ",\"timestamp\":\"0x1\",\"transactions\":[{\"hash\":" H32 ",\"from\":" A20
                  ",\"to\":null,\"transactionIndex\":\"0x0\",\"input\":\"0x\",\"type\":\"0x3\","
                  "\"blobVersionedHashes\":[" VH("aa") "]}]}");
    assert_int_equal(rollup_l1_parse_block(j, 1, 100, &b, &err), UTIL_EINVAL);
    json_decref(j);

    /* Receipts: blob gas when present, 0 when absent, refused when bad. */
    const char *rcpt =
        "{\"transactionHash\":" H32 ",\"status\":\"0x1\",\"blockNumber\":\"0x5\","
        "\"blockHash\":" H32 ",\"gasUsed\":\"0x5208\",\"effectiveGasPrice\":\"0x1\"%s}";
    char buf[2048];
    rollup_l1_receipt r;
    snprintf(buf, sizeof buf, rcpt, ",\"blobGasUsed\":\"0x20000\",\"blobGasPrice\":\"0x3\"");
    j = J(buf);
    assert_int_equal(rollup_l1_parse_receipt(j, &r, &err), 0);
    assert_int_equal(r.blob_gas_used, 131072);
    assert_int_equal(r.blob_gas_price, 3);
    json_decref(j);
    snprintf(buf, sizeof buf, rcpt, "");
    j = J(buf);
    assert_int_equal(rollup_l1_parse_receipt(j, &r, &err), 0);
    assert_int_equal(r.blob_gas_used, 0);
    assert_int_equal(r.blob_gas_price, 0);
    json_decref(j);
    snprintf(buf, sizeof buf, rcpt, ",\"blobGasUsed\":\"0x020000\"");
    j = J(buf);
    assert_int_equal(rollup_l1_parse_receipt(j, &r, &err), UTIL_EINVAL);
    json_decref(j);
    snprintf(buf, sizeof buf, rcpt, ",\"blobGasPrice\":1");
    j = J(buf);
    assert_int_equal(rollup_l1_parse_receipt(j, &r, &err), UTIL_EINVAL);
    json_decref(j);
}

/* The fuzz seeds are real anvil answers: each parses with its parser. */
static json_t *corpus(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_l1_parse/%s", OL_SOURCE_DIR, name);
    json_t *doc = json_load_file(path, 0, NULL);
    assert_non_null(doc);
    json_t *r = json_incref(json_object_get(doc, "result"));
    json_decref(doc);
    assert_non_null(r);
    return r;
}

static void test_parse_corpus(void **state)
{
    (void)state;
    util_err err = {0};
    json_t *j = corpus("block_full.json");
    rollup_l1_block b;
    assert_int_equal(rollup_l1_parse_block(j, 1, 1024, &b, &err), 0);
    assert_int_equal(b.ntx, 1);
    assert_int_equal(b.txs[0].type, 2);
    rollup_l1_block_free(&b);
    json_decref(j);
    j = corpus("block_hashes.json");
    assert_int_equal(rollup_l1_parse_block(j, 0, 0, &b, &err), 0);
    json_decref(j);
    /* A postBlobs transaction on anvil --hardfork prague (its "blobs" field,
     * 256 KiB, cut from the seed). */
    j = corpus("block_blob.json");
    assert_int_equal(rollup_l1_parse_block(j, 1, 1024, &b, &err), 0);
    assert_int_equal(b.ntx, 1);
    assert_int_equal(b.txs[0].type, 3);
    assert_int_equal(b.txs[0].nblob_hashes, 1);
    assert_int_equal(b.txs[0].blob_hashes[0][0], 0x01);
    assert_int_equal(b.txs[0].blob_hashes[0][1], 0x06);
    rollup_l1_block_free(&b);
    json_decref(j);
    j = corpus("receipt_blob.json");
    rollup_l1_receipt rb;
    assert_int_equal(rollup_l1_parse_receipt(j, &rb, &err), 0);
    assert_int_equal(rb.blob_gas_used, 6 * 131072);
    assert_int_equal(rb.blob_gas_price, 1);
    json_decref(j);
    j = corpus("logs.json");
    rollup_l1_log *logs = NULL;
    size_t n = 0;
    assert_int_equal(rollup_l1_parse_logs(j, 8, 64, &logs, &n, &err), 0);
    assert_int_equal(n, 1);
    rollup_l1_logs_free(logs, n);
    json_decref(j);
    j = corpus("receipt_create.json");
    rollup_l1_receipt r;
    assert_int_equal(rollup_l1_parse_receipt(j, &r, &err), 0);
    assert_true(r.has_contract);
    json_decref(j);
    j = corpus("fee_history.json");
    rollup_l1_fees f;
    assert_int_equal(rollup_l1_parse_fee_history(j, &f, &err), 0);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_quantities),  cmocka_unit_test(test_parse_structs),
        cmocka_unit_test(test_parse_corpus),      cmocka_unit_test(test_endpoint_down),
        cmocka_unit_test(test_parse_blob_fields), L1_ANVIL_TEST(test_methods, &anvil),
        L1_ANVIL_TEST(test_async_calls, &anvil),  L1_ANVIL_TEST(test_oversized_answer, &anvil),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
