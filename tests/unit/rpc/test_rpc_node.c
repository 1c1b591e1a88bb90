/* The node's RPC surface on a real store: the chain methods beyond the
 * slice (tx_list, chain_getReceipt, chain_getBlockRange, tx_estimateGas,
 * mempool_status, chain_getGenesis, node_peers), admin methods, block
 * notifications from real commits, /health and /metrics.
 *
 * The node is started in-process (temporary data directory, ephemeral RPC
 * port) but its loop is not run: the test admits transactions and produces
 * blocks itself, so everything is deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#include "chain/crypto/hash.h"
#include "chain/exec/blockexec.h"
#include "node/node_internal.h"
#include "rpc/methods/metrics.h"
#include "rpc/params.h"
#include "rpc/methods/subs.h"
#include "tests/unit/rpc_ws_test_util.h"
#include "util/hex.h"
#include "util/log.h"

static node *start_node(void)
{
    char *argv[] = {"openledgerd",      "--dev",       "--p2p", "off", "--rpc", "127.0.0.1:0",
                    "--quiet-accounts", "--log-level", "warn",  NULL};
    node_cfg cfg;
    util_err err = {0};
    assert_int_equal(node_cfg_parse(&cfg, 9, argv, &err), NODE_CFG_RUN);
    node *n;
    if (node_start(&n, &cfg, &err)) fail_msg("node_start: %s", err.msg);
    return n;
}

static chain_addr dev_addr(uint32_t i)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, i), 0);
    chain_addr a;
    chain_addr_from_pubkey(&a, kp.pubkey);
    chain_keypair_clear(&kp);
    return a;
}

static void addr_str(char out[CHAIN_ADDR_STR_LEN + 1], uint32_t i)
{
    chain_addr a = dev_addr(i);
    chain_addr_encode(out, &a);
}

/* A signed transfer's encoding as 0x hex (malloc'd); *txid gets its id. */
static char *transfer_hex(uint32_t from, uint32_t to, uint64_t amount, uint64_t nonce,
                          uint8_t txid[32], size_t strip)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "openledger-devnet");
    tx.type = CHAIN_TX_TRANSFER;
    tx.nonce = nonce;
    tx.gas_limit = CHAIN_GAS_TRANSFER;
    tx.gas_price = 1;
    tx.body.transfer.to = dev_addr(to);
    tx.body.transfer.amount = amount;
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, from), 0);
    assert_int_equal(chain_tx_sign(&tx, &kp, fx_devnet()->hash, NULL), 0);
    chain_keypair_clear(&kp);
    if (txid) memcpy(txid, tx.id, 32);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_tx_encode(&tx, &b), 0);
    size_t n = b.len - strip;
    char *hex = malloc(2 * n + 3);
    memcpy(hex, "0x", 2);
    util_hex_encode(hex + 2, b.data, n);
    util_buf_free(&b);
    chain_tx_free(&tx);
    return hex;
}

/* Calls a method through the node's own dispatch table; params is JSON text. */
static json_t *call(node *n, const char *method, const char *params, int want_code)
{
    json_t *p = params ? json_loads(params, 0, NULL) : NULL;
    if (params && !p) fail_msg("bad params %s", params);
    rpc_error e;
    json_t *r = rpc_dispatch_call(n->dispatch, method, p, &e);
    json_decref(p);
    if (want_code == 0 && !r) fail_msg("%s: error %d %s", method, e.code, e.message);
    if (want_code && r) fail_msg("%s: succeeded, wanted %d", method, want_code);
    if (want_code && e.code != want_code)
        fail_msg("%s: error %d (%s), wanted %d", method, e.code, e.message, want_code);
    rpc_error_clear(&e);
    return r;
}

static void produce(node *n, int allow_empty)
{
    int produced;
    util_err err = {0};
    if (node_produce_block(n, allow_empty, &produced, &err)) fail_msg("produce: %s", err.msg);
    assert_true(produced);
}

static void send_tx(node *n, const char *hex)
{
    char params[4096];
    snprintf(params, sizeof params, "[\"%s\"]", hex);
    json_decref(call(n, "tx_send", params, 0));
}

static int64_t iget(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) fail_msg("field %s is not an integer", k);
    return json_integer_value(v);
}

static const char *sget(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) fail_msg("field %s is not a string", k);
    return json_string_value(v);
}

static void test_chain_methods(void **state)
{
    node *n = start_node();
    json_t *r = call(n, "chain_getGenesis", "[]", 0);
    assert_string_equal(sget(r, "chainId"), "openledger-devnet");
    assert_int_equal(iget(r, "allocCount"), 10);
    assert_string_equal(sget(r, "genesisTime"), "2026-01-01T00:00:00Z");
    assert_int_equal(json_array_size(json_object_get(r, "validators")), 1);
    json_decref(r);
    call(n, "chain_getGenesis", "[1]", RPC_INVALID_PARAMS);
    r = call(n, "node_peers", "[]", 0);
    assert_true(json_is_array(r) && json_array_size(r) == 0);
    json_decref(r);
    call(n, "node_peers", "[1]", RPC_INVALID_PARAMS);
    /* A single-validator node runs no consensus engine. */
    r = call(n, "consensus_state", "[]", 0);
    assert_true(json_is_false(json_object_get(r, "running")));
    json_decref(r);
    call(n, "consensus_state", "[\"x\"]", RPC_INVALID_PARAMS);

    /* dev0 -> dev1 three times, dev1 -> dev2 once */
    uint8_t ids[4][32];
    char *hex[4];
    for (int i = 0; i < 3; i++)
        hex[i] = transfer_hex(0, 1, 1000 + (uint64_t)i, (uint64_t)i, ids[i], 0);
    hex[3] = transfer_hex(1, 2, 5, 0, ids[3], 0);
    for (int i = 0; i < 4; i++)
        send_tx(n, hex[i]);
    r = call(n, "mempool_status", "[]", 0);
    assert_int_equal(iget(r, "count"), 4);
    assert_true(iget(r, "bytes") > 0);
    assert_int_equal(iget(r, "maxCount"), 200000);
    assert_string_equal(sget(r, "minGasPrice"), "1");
    json_decref(r);

    /* a pending transaction has no receipt yet; an unknown one is not found */
    char p[1024], h0[67] = "0x";
    util_hex_encode(h0 + 2, ids[0], 32);
    snprintf(p, sizeof p, "[\"%s\"]", h0);
    rpc_error e;
    json_t *pj = json_loads(p, 0, NULL);
    assert_null(rpc_dispatch_call(n->dispatch, "chain_getReceipt", pj, &e));
    assert_int_equal(e.code, RPC_NOT_FOUND);
    assert_string_equal(json_string_value(json_object_get(e.data, "reason")), "pending");
    rpc_error_clear(&e);
    json_decref(pj);
    call(n, "chain_getReceipt",
         "[\"0x0000000000000000000000000000000000000000000000000000000000000001\"]", RPC_NOT_FOUND);
    call(n, "chain_getReceipt", "[\"0x01\"]", RPC_INVALID_PARAMS);

    produce(n, 0);
    r = call(n, "chain_getReceipt", p, 0);
    assert_string_equal(sget(r, "status"), "success");
    assert_int_equal(iget(r, "blockHeight"), 1);
    assert_int_equal(iget(r, "gasUsed"), 1000);
    assert_string_equal(sget(r, "txHash"), h0);
    assert_true(json_is_array(json_object_get(r, "events")));
    json_decref(r);

    /* tx_list: dev1 received three and sent one, newest first, in pages */
    char a1[CHAIN_ADDR_STR_LEN + 1], a0[CHAIN_ADDR_STR_LEN + 1];
    addr_str(a1, 1);
    addr_str(a0, 0);
    snprintf(p, sizeof p, "[\"%s\", null, 3]", a1);
    r = call(n, "tx_list", p, 0);
    json_t *txs = json_object_get(r, "txs");
    assert_int_equal(json_array_size(txs), 3);
    int64_t last_index = 1 << 30;
    for (size_t i = 0; i < 3; i++) {
        json_t *t = json_array_get(txs, i);
        assert_int_equal(iget(t, "blockHeight"), 1);
        assert_true(iget(t, "index") < last_index);
        last_index = iget(t, "index");
        assert_string_equal(sget(json_object_get(t, "receipt"), "status"), "success");
        assert_string_equal(sget(json_object_get(t, "tx"), "hash"), sget(t, "hash"));
    }
    const char *cursor = sget(r, "nextCursor");
    assert_int_equal(strlen(cursor), 26);

    /* account_get answers the canonical (lower-case) address, however the
     * client cased it; a wrong checksum in either case is refused. */
    for (int upper = 0; upper < 2; upper++) {
        char q[CHAIN_ADDR_STR_LEN + 8], given[CHAIN_ADDR_STR_LEN + 1];
        memcpy(given, a1, sizeof given);
        for (size_t i = 0; upper && given[i]; i++)
            if (given[i] >= 'a' && given[i] <= 'z') given[i] = (char)(given[i] - 'a' + 'A');
        snprintf(q, sizeof q, "[\"%s\"]", given);
        json_t *acc = call(n, "account_get", q, 0);
        assert_string_equal(sget(acc, "address"), a1);
        assert_int_equal(iget(acc, "nonce"), 1);
        json_decref(acc);
        given[CHAIN_ADDR_STR_LEN - 1] = given[CHAIN_ADDR_STR_LEN - 1] == (upper ? 'Q' : 'q')
                                            ? (upper ? 'P' : 'p')
                                            : (upper ? 'Q' : 'q');
        snprintf(q, sizeof q, "[\"%s\"]", given);
        call(n, "account_get", q, RPC_INVALID_PARAMS);
    }
    snprintf(p, sizeof p, "[\"%s\", \"%s\", 3]", a1, cursor);
    json_t *r2 = call(n, "tx_list", p, 0);
    assert_int_equal(json_array_size(json_object_get(r2, "txs")), 1);
    assert_true(json_is_null(json_object_get(r2, "nextCursor")));
    json_decref(r2);
    json_decref(r);
    snprintf(p, sizeof p, "[\"%s\"]", a0);
    r = call(n, "tx_list", p, 0);
    assert_int_equal(json_array_size(json_object_get(r, "txs")), 3);
    assert_true(json_is_null(json_object_get(r, "nextCursor")));
    json_decref(r);
    /* an address never seen: empty */
    r = call(n, "tx_list", "[\"ol1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqgatupd\"]", 0);
    assert_int_equal(json_array_size(json_object_get(r, "txs")), 0);
    json_decref(r);
    /* bad pages */
    static const char *const bad_pages[] = {"[\"%s\", \"0x00\"]", "[\"%s\", \"zz\"]",
                                            "[\"%s\", null, 0]",  "[\"%s\", null, 101]",
                                            "[\"%s\", null, -1]", "[\"%s\", 5]"};
    for (size_t i = 0; i < sizeof bad_pages / sizeof bad_pages[0]; i++) {
        snprintf(p, sizeof p, bad_pages[i], a1);
        call(n, "tx_list", p, RPC_INVALID_PARAMS);
    }
    call(n, "tx_list", "[\"ol1nope\"]", RPC_INVALID_PARAMS);
    call(n, "tx_list", "[]", RPC_INVALID_PARAMS);

    /* chain_getBlockRange over blocks 0..3 */
    produce(n, 1);
    produce(n, 1);
    r = call(n, "chain_getBlockRange", "[0, 2]", 0);
    json_t *bl = json_object_get(r, "blocks");
    assert_int_equal(json_array_size(bl), 2);
    assert_int_equal(iget(json_array_get(bl, 1), "height"), 1);
    assert_int_equal(iget(json_array_get(bl, 1), "txCount"), 4);
    assert_int_equal(iget(r, "next"), 2);
    json_decref(r);
    r = call(n, "chain_getBlockRange", "[\"latest\", 10, \"desc\"]", 0);
    bl = json_object_get(r, "blocks");
    assert_int_equal(json_array_size(bl), 4);
    assert_int_equal(iget(json_array_get(bl, 0), "height"), 3);
    assert_int_equal(iget(json_array_get(bl, 3), "height"), 0);
    assert_true(json_is_null(json_object_get(r, "next")));
    /* the summary's hash and header agree with chain_getBlock */
    json_t *b1 = call(n, "chain_getBlock", "[2]", 0);
    assert_string_equal(sget(b1, "hash"), sget(json_array_get(bl, 1), "hash"));
    assert_int_equal(iget(b1, "size"), iget(json_array_get(bl, 1), "size"));
    json_decref(b1);
    json_decref(r);
    r = call(n, "chain_getBlockRange", "[\"2\"]", 0);
    assert_int_equal(json_array_size(json_object_get(r, "blocks")), 2);
    assert_true(json_is_null(json_object_get(r, "next")));
    json_decref(r);
    call(n, "chain_getBlockRange", "[4]", RPC_NOT_FOUND);
    call(n, "chain_getBlockRange", "[0, 2, \"up\"]", RPC_INVALID_PARAMS);
    call(n, "chain_getBlockRange",
         "[\"0x0000000000000000000000000000000000000000000000000000000000000001\"]",
         RPC_INVALID_PARAMS);
    call(n, "chain_getBlockRange", "[-1]", RPC_INVALID_PARAMS);
    call(n, "chain_getBlockRange", "[1.5]", RPC_INVALID_PARAMS);
    call(n, "chain_getBlockRange", "[\"18446744073709551616\"]", RPC_INVALID_PARAMS);

    /* tx_estimateGas: signed and unsigned encodings */
    snprintf(p, sizeof p, "[\"%s\"]", hex[0]);
    r = call(n, "tx_estimateGas", p, 0);
    assert_int_equal(iget(r, "gas"), CHAIN_GAS_TRANSFER);
    assert_true(json_is_true(json_object_get(r, "exact")));
    assert_true(json_is_true(json_object_get(r, "signed")));
    assert_string_equal(sget(r, "type"), "transfer");
    json_decref(r);
    char *unsigned_hex = transfer_hex(3, 4, 1, 0, NULL, CHAIN_SIG_LEN);
    snprintf(p, sizeof p, "[\"%s\"]", unsigned_hex);
    r = call(n, "tx_estimateGas", p, 0);
    assert_int_equal(iget(r, "gas"), CHAIN_GAS_TRANSFER);
    assert_true(json_is_false(json_object_get(r, "signed")));
    json_decref(r);
    free(unsigned_hex);
    call(n, "tx_estimateGas", "[\"0x0102\"]", RPC_INVALID_PARAMS);
    call(n, "tx_estimateGas", "[\"0x\"]", RPC_INVALID_PARAMS);
    call(n, "tx_estimateGas", "[12]", RPC_INVALID_PARAMS);
    for (int i = 0; i < 4; i++)
        free(hex[i]);
    node_free(n);
}

static void test_admin(void **state)
{
    node *n = start_node();
    for (uint64_t i = 0; i < 5; i++) {
        char *hex = transfer_hex(2, 3, 1, i, NULL, 0);
        send_tx(n, hex);
        free(hex);
    }
    json_t *r = call(n, "admin_mempoolFlush", "[]", 0);
    assert_int_equal(iget(r, "removed"), 5);
    json_decref(r);
    r = call(n, "mempool_status", "[]", 0);
    assert_int_equal(iget(r, "count"), 0);
    json_decref(r);
    /* the node goes on with the new pool: same nonce admitted again, mined */
    char *hex = transfer_hex(2, 3, 1, 0, NULL, 0);
    send_tx(n, hex);
    free(hex);
    produce(n, 0);
    r = call(n, "node_status", "[]", 0);
    assert_int_equal(iget(r, "height"), 1);
    assert_int_equal(iget(r, "mempoolSize"), 0);
    json_decref(r);

    r = call(n, "admin_setLogLevel", "[\"error\"]", 0);
    assert_string_equal(sget(r, "previous"), "warn");
    assert_string_equal(sget(r, "level"), "error");
    json_decref(r);
    call(n, "admin_setLogLevel", "[\"verbose\"]", RPC_INVALID_PARAMS);
    call(n, "admin_setLogLevel", "[]", RPC_INVALID_PARAMS);
    /* through the wire with no admin rights */
    const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"admin_mempoolFlush\",\"id\":1}";
    size_t len;
    char *out = rpc_dispatch_handle(n->dispatch, req, strlen(req), &len);
    assert_non_null(strstr(out, "-32004"));
    free(out);
    util_log_set_level(UTIL_LOG_WARN);
    node_free(n);
}

static void test_block_notifications(void **state)
{
    node *n = start_node();
    rpc_http_cfg cfg = {.session_closed = rpc_subs_session_closed, .session_ctx = n->subs};
    wspipe *p = wp_open(n->dispatch, &cfg, 0);
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"subscribe_newBlocks\",\"id\":1}");
    wp_send(p,
            "{\"jsonrpc\":\"2.0\",\"method\":\"subscribe_pendingTransactions\",\"params\":[true],"
            "\"id\":2}");
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"subscribe_events\",\"params\":[{}],\"id\":3}");
    const char *blocks_id = sget(wp_msg(p, 0), "result");
    const char *pending_id = sget(wp_msg(p, 1), "result");
    assert_int_equal(strlen(blocks_id), 18);
    assert_string_not_equal(blocks_id, pending_id);
    assert_int_equal(rpc_subs_count(n->subs), 3);

    uint8_t txid[32];
    char *hex = transfer_hex(4, 5, 77, 0, txid, 0);
    send_tx(n, hex);
    free(hex);
    /* node_submit_tx called the admission hook: one pending notification */
    assert_non_null(chain_mempool_get(n->mempool, txid));
    wp_pump(p);
    json_t *m = wp_msg(p, 3);
    assert_string_equal(sget(m, "method"), "subscription");
    json_t *params = json_object_get(m, "params");
    assert_string_equal(sget(params, "subscription"), pending_id);
    assert_string_equal(sget(json_object_get(params, "result"), "type"), "transfer");
    assert_string_equal(sget(json_object_get(params, "result"), "amount"), "77");

    produce(n, 0);
    wp_pump(p);
    m = wp_msg(p, 4);
    params = json_object_get(m, "params");
    assert_string_equal(sget(params, "subscription"), blocks_id);
    json_t *res = json_object_get(params, "result");
    assert_int_equal(iget(res, "height"), 1);
    assert_int_equal(iget(res, "txCount"), 1);
    assert_int_equal(iget(res, "gasUsed"), 1000);
    assert_int_equal(iget(json_object_get(res, "header"), "height"), 1);
    json_t *b = call(n, "chain_getBlock", "[1]", 0);
    assert_string_equal(sget(res, "hash"), sget(b, "hash"));
    json_decref(b);
    assert_int_equal(json_array_size(p->msgs), 5); /* transfers emit no events */

    /* unsubscribe, then the session ends and takes its subscriptions */
    char req[200];
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"method\":\"unsubscribe\",\"params\":[\"%s\"],\"id\":9}",
             blocks_id);
    wp_send(p, req);
    assert_true(json_is_true(json_object_get(wp_msg(p, 5), "result")));
    wp_send(p, req);
    assert_true(json_is_false(json_object_get(wp_msg(p, 6), "result")));
    produce(n, 1);
    wp_pump(p);
    assert_int_equal(json_array_size(p->msgs), 7);
    assert_int_equal(rpc_subs_count(n->subs), 2);
    ws_session_detach(p->srv);
    assert_int_equal(rpc_subs_count(n->subs), 0);
    wp_close(p);
    node_free(n);
}

static int has_line(const char *text, const char *line)
{
    size_t l = strlen(line);
    for (const char *q = text; (q = strstr(q, line)); q++)
        if ((q == text || q[-1] == '\n') && q[l] == '\n') return 1;
    return 0;
}

static void test_health_and_metrics(void **state)
{
    node *n = start_node();
    int status;
    const char *ctype;
    char *body;
    size_t len;
    /* the loop does not run here: not ready */
    assert_int_equal(node_http_get(n, "/health", &status, &ctype, &body, &len), 0);
    assert_int_equal(status, 503);
    assert_non_null(strstr(body, "\"starting\""));
    free(body);
    n->running = 1;
    assert_int_equal(node_http_get(n, "/health", &status, &ctype, &body, &len), 0);
    assert_int_equal(status, 200);
    assert_string_equal(body, "{\"status\":\"ok\",\"height\":0}\n");
    free(body);
    assert_int_not_equal(node_http_get(n, "/nope", &status, &ctype, &body, &len), 0);

    char *hex = transfer_hex(6, 7, 1, 0, NULL, 0);
    send_tx(n, hex);
    free(hex);
    produce(n, 0);
    produce(n, 1);
    json_decref(call(n, "node_status", "[]", 0));
    call(n, "no_such_method", "[]", RPC_METHOD_NOT_FOUND);
    assert_int_equal(node_http_get(n, "/metrics", &status, &ctype, &body, &len), 0);
    assert_int_equal(status, 200);
    assert_string_equal(ctype, RPC_METRICS_CONTENT_TYPE);
    assert_int_equal(strlen(body), len);
    assert_true(has_line(body, "openledger_chain_height 2"));
    assert_true(has_line(body, "openledger_txs_committed_total 1"));
    assert_true(has_line(body, "openledger_blocks_committed_total 2"));
    assert_true(has_line(body, "openledger_block_commit_seconds_count 2"));
    assert_true(has_line(body, "openledger_block_interval_seconds_count 1"));
    assert_true(has_line(body, "openledger_mempool_transactions 0"));
    assert_true(has_line(body, "openledger_rpc_requests_total{method=\"tx_send\"} 1"));
    assert_true(has_line(body, "openledger_rpc_requests_total{method=\"node_status\"} 1"));
    assert_true(has_line(body, "openledger_rpc_requests_total{method=\"unknown\"} 1"));
    assert_true(has_line(body, "openledger_rpc_errors_total{method=\"unknown\"} 1"));
    assert_true(has_line(body, "openledger_ws_clients 0"));
    assert_non_null(strstr(body, "openledger_leveldb_write_bytes_total "));
    assert_null(strstr(body, "openledger_leveldb_write_bytes_total 0\n"));
    free(body);
    node_free(n);
}

/* 0x-hex of a signed transaction of any type (gas 1,000,000 at price 1). */
static char *signed_hex(chain_tx *tx, uint32_t dev, uint64_t nonce)
{
    tx->version = CHAIN_TX_VERSION;
    snprintf(tx->chain_id, sizeof tx->chain_id, "openledger-devnet");
    tx->nonce = nonce;
    tx->gas_limit = 1000000;
    tx->gas_price = 1;
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, dev), 0);
    assert_int_equal(chain_tx_sign(tx, &kp, fx_devnet()->hash, NULL), 0);
    chain_keypair_clear(&kp);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_tx_encode(tx, &b), 0);
    char *hex = malloc(2 * b.len + 3);
    memcpy(hex, "0x", 2);
    util_hex_encode(hex + 2, b.data, b.len);
    util_buf_free(&b);
    return hex;
}

/* A tx_send batch's checks, done ahead by the batch hook, serve that batch
 * only: a contribution refused inside a batch (its datanet does not exist
 * yet) is accepted when sent again, same bytes, once the datanet exists. */
static void test_batch_outcomes_stay_in_their_batch(void **state)
{
    node *n = start_node();
    chain_tx c;
    memset(&c, 0, sizeof c);
    c.type = CHAIN_TX_CONTRIBUTE;
    c.body.contribute.datanet = 1;
    memset(c.body.contribute.content_hash, 0x5a, 32);
    c.body.contribute.size = 1234;
    assert_int_equal(chain_tx_set_str(&c.body.contribute.uri, "file://c", CHAIN_URI_MAX), 0);
    char *chex = signed_hex(&c, 3, 0);

    /* 16 transfers and the contribution: enough for the hook to run. The
     * last transfer has an upper-case 0X prefix, which tx_send refuses; the
     * hook must not let it through by decoding it ahead. */
    util_buf body;
    util_buf_init(&body);
    util_buf_put(&body, "[", 1);
    uint8_t ids[16][32];
    for (int i = 0; i <= 16; i++) {
        char *hex = i < 16 ? transfer_hex(0, 1, 10, (uint64_t)i, ids[i], 0) : chex;
        if (i == 15) hex[1] = 'X';
        char entry[4096];
        int k = snprintf(entry, sizeof entry,
                         "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tx_send\","
                         "\"params\":[\"%s\"]}",
                         i ? "," : "", i, hex);
        util_buf_put(&body, entry, (size_t)k);
        if (i < 16) free(hex);
    }
    util_buf_put(&body, "]", 1);
    size_t olen = 0;
    char *out = rpc_dispatch_handle(n->dispatch, (const char *)body.data, body.len, &olen);
    util_buf_free(&body);
    json_t *replies = json_loadb(out, olen, 0, NULL);
    free(out);
    assert_int_equal(json_array_size(replies), 17);
    for (int i = 0; i < 15; i++) {
        /* each answer is its own transaction's id, decoded once by the hook */
        char want[67] = "0x";
        util_hex_encode(want + 2, ids[i], 32);
        json_t *res = json_object_get(json_array_get(replies, (size_t)i), "result");
        assert_string_equal(json_string_value(res), want);
    }
    json_t *err = json_object_get(json_array_get(replies, 15), "error");
    assert_int_equal(json_integer_value(json_object_get(err, "code")), RPC_INVALID_PARAMS);
    err = json_object_get(json_array_get(replies, 16), "error");
    assert_int_equal(json_integer_value(json_object_get(err, "code")), RPC_TX_REJECTED);
    json_decref(replies);

    /* the datanet appears */
    chain_tx dn;
    memset(&dn, 0, sizeof dn);
    dn.type = CHAIN_TX_DATANET_CREATE;
    assert_int_equal(chain_tx_set_str(&dn.body.datanet_create.name, "open", CHAIN_NAME_MAX), 0);
    assert_int_equal(chain_tx_set_str(&dn.body.datanet_create.meta_uri, "ipfs://x", CHAIN_URI_MAX),
                     0);
    dn.body.datanet_create.review = 0;
    char *dhex = signed_hex(&dn, 2, 0);
    send_tx(n, dhex);
    free(dhex);
    chain_tx_free(&dn);
    produce(n, 0);
    json_t *ds = call(n, "datanet_get", "[1]", 0);
    json_decref(ds);

    /* the same contribution, alone: judged against today's head */
    send_tx(n, chex);
    free(chex);
    chain_tx_free(&c);
    node_free(n);
}

/* Junk entries in a batch big enough for the hook: each gets the method's
 * own -32602, and the valid ones around them are admitted. */
static void test_batch_junk_entries(void **state)
{
    node *n = start_node();
    static const char *junk[] = {"[12]",       "[\"0xzz\"]", "[]", "{\"tx\":\"0x00\"}",
                                 "[\"0x00\"]", "[\"0x\", 1]"};
    size_t nj = sizeof junk / sizeof junk[0];
    util_buf body;
    util_buf_init(&body);
    util_buf_put(&body, "[", 1);
    for (size_t i = 0; i < 16 + nj; i++) {
        char entry[4096];
        char *hex = i < 16 ? transfer_hex(0, 1, 10, (uint64_t)i, NULL, 0) : NULL;
        int k;
        if (hex) {
            k = snprintf(entry, sizeof entry,
                         "%s{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"tx_send\","
                         "\"params\":[\"%s\"]}",
                         i ? "," : "", i, hex);
            free(hex);
        } else {
            k = snprintf(entry, sizeof entry,
                         ",{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"tx_send\","
                         "\"params\":%s}",
                         i, junk[i - 16]);
        }
        util_buf_put(&body, entry, (size_t)k);
    }
    util_buf_put(&body, "]", 1);
    size_t olen = 0;
    char *out = rpc_dispatch_handle(n->dispatch, (const char *)body.data, body.len, &olen);
    util_buf_free(&body);
    json_t *replies = json_loadb(out, olen, 0, NULL);
    free(out);
    assert_int_equal(json_array_size(replies), 16 + nj);
    for (size_t i = 0; i < 16 + nj; i++) {
        json_t *r = json_array_get(replies, i);
        if (i < 16) {
            assert_non_null(json_object_get(r, "result"));
        } else {
            json_t *err = json_object_get(r, "error");
            assert_int_equal(json_integer_value(json_object_get(err, "code")), RPC_INVALID_PARAMS);
        }
    }
    json_decref(replies);
    json_t *st = call(n, "mempool_status", "[]", 0);
    assert_int_equal(iget(st, "count"), 16);
    json_decref(st);
    node_free(n);
}

/* state_getProof carries the commit that finalised the header it proves
 * against, and headers carry the genesis set and parameters hashes: with
 * the genesis alone a client checks the node's answer. */
static void test_proof_commit(void **state)
{
    (void)state;
    node *n = start_node();
    const chain_genesis *g = fx_devnet();
    char a[CHAIN_ADDR_STR_LEN + 1], p[128], hex[67] = "0x";
    addr_str(a, 1);
    snprintf(p, sizeof p, "[\"%s\"]", a);

    json_t *r = call(n, "chain_getGenesis", "[]", 0);
    util_hex_encode(hex + 2, g->params_hash, 32);
    assert_string_equal(sget(r, "consensusParamsHash"), hex);
    json_t *jp = json_object_get(r, "params");
    assert_int_equal(iget(jp, "timeoutProposeDeltaMs"), 500);
    assert_int_equal(iget(jp, "timeoutCommitMs"), 1000);
    assert_null(json_object_get(jp, "timeoutDeltaMs"));
    json_decref(r);

    /* Block 0: nobody votes on it, its commit is empty. */
    r = call(n, "state_getProof", p, 0);
    assert_int_equal(iget(json_object_get(r, "header"), "height"), 0);
    assert_string_equal(sget(r, "commitRaw"), "0x0000000000");
    /* ... and it is the block 0 a light client rebuilds from the genesis. */
    chain_header b0;
    uint8_t b0id[32];
    util_err e0 = {0};
    assert_int_equal(chain_genesis_block0(g, &b0, &e0), 0);
    chain_header_hash(&b0, b0id);
    util_hex_encode(hex + 2, b0id, 32);
    assert_string_equal(sget(r, "headerHash"), hex);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "commit"), "signatures")),
                     0);
    json_decref(r);

    produce(n, 1);
    produce(n, 1);
    r = call(n, "state_getProof", p, 0);
    json_t *jh = json_object_get(r, "header");
    assert_int_equal(iget(jh, "height"), 2);
    assert_int_equal(iget(jh, "version"), CHAIN_BLOCK_VERSION);
    util_hex_encode(hex + 2, g->validators_hash, 32);
    assert_string_equal(sget(jh, "validatorsHash"), hex);
    assert_string_equal(sget(jh, "nextValidatorsHash"), hex);
    util_hex_encode(hex + 2, g->params_hash, 32);
    assert_string_equal(sget(jh, "consensusParamsHash"), hex);

    uint8_t id[32], *raw = NULL;
    size_t rn = 0;
    assert_int_equal(util_hex_decode_alloc(sget(r, "commitRaw"), 1024, &raw, &rn), 0);
    assert_int_equal(util_hex_decode_exact(id, 32, sget(r, "headerHash")), 0);
    chain_commit c;
    util_rd rd;
    util_rd_init(&rd, raw, rn);
    assert_int_equal(chain_commit_read(&c, &rd, NULL), 0);
    assert_int_equal(util_rd_end(&rd), 0);
    free(raw);
    assert_int_equal(c.n, 1);
    json_t *js = json_array_get(json_object_get(json_object_get(r, "commit"), "signatures"), 0);
    assert_int_equal(iget(js, "validator"), 0);
    char sig[131] = "0x";
    util_hex_encode(sig + 2, c.sigs[0].sig, 64);
    assert_string_equal(sget(js, "signature"), sig);
    util_err e = {0};
    if (chain_blockexec_verify_commit(g, 2, id, &c, &e)) fail_msg("commit: %s", e.msg);
    /* It is the commit of that header, not of another height. */
    assert_int_equal(chain_blockexec_verify_commit(g, 1, id, &c, &e), UTIL_EINVAL);

    /* chain_getCommit serves the same for the head, and block 1's commit,
     * which block 2 carries as its lastCommit. */
    json_t *gc = call(n, "chain_getCommit", "[\"latest\"]", 0);
    assert_int_equal(iget(gc, "height"), 2);
    assert_string_equal(sget(gc, "blockHash"), sget(r, "headerHash"));
    assert_string_equal(sget(gc, "commitRaw"), sget(r, "commitRaw"));
    assert_string_equal(sget(gc, "headerRaw"), sget(r, "headerRaw"));
    json_decref(gc);
    json_decref(r);
    gc = call(n, "chain_getCommit", "[1]", 0);
    json_t *b2 = call(n, "chain_getBlock", "[2]", 0);
    json_t *b1 = call(n, "chain_getBlock", "[1]", 0);
    assert_string_equal(sget(gc, "blockHash"), sget(b1, "hash"));
    assert_true(json_equal(json_object_get(gc, "commit"),
                           json_object_get(json_object_get(b2, "header"), "lastCommit")));
    assert_int_equal(util_hex_decode_exact(id, 32, sget(gc, "blockHash")), 0);
    assert_int_equal(util_hex_decode_alloc(sget(gc, "commitRaw"), 1024, &raw, &rn), 0);
    util_rd_init(&rd, raw, rn);
    assert_int_equal(chain_commit_read(&c, &rd, NULL), 0);
    free(raw);
    if (chain_blockexec_verify_commit(g, 1, id, &c, &e)) fail_msg("commit 1: %s", e.msg);
    json_decref(b1);
    json_decref(b2);
    json_decref(gc);
    gc = call(n, "chain_getCommit", "[0]", 0);
    assert_string_equal(sget(gc, "commitRaw"), "0x0000000000");
    json_decref(gc);
    call(n, "chain_getCommit", "[3]", RPC_NOT_FOUND);
    call(n, "chain_getCommit",
         "[\"0x0000000000000000000000000000000000000000000000000000000000000001\"]", RPC_NOT_FOUND);
    call(n, "chain_getCommit", "[]", RPC_INVALID_PARAMS);
    node_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_methods),
        cmocka_unit_test(test_proof_commit),
        cmocka_unit_test(test_admin),
        cmocka_unit_test(test_block_notifications),
        cmocka_unit_test(test_health_and_metrics),
        cmocka_unit_test(test_batch_outcomes_stay_in_their_batch),
        cmocka_unit_test(test_batch_junk_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
