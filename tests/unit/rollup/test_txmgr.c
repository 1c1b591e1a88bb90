/* The L1 transaction manager against a real anvil: confirmations, fee bumps
 * on resubmission (a transaction left unmined, then dropped), a reverted
 * transaction, a restart with a transaction still pending, an L1
 * reorganisation removing a receipt not yet deep enough, a wrong chain id.
 * The test drives anvil (mining, snapshots) from a timer on the manager's
 * own loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "rollup/l1/txmgr.h"
#include "tests/unit/rollup/l1_anvil.h"

#define ACCT0 "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define ACCT1 "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"

static const uint8_t SK0[32] = {0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6,
                                0xb4, 0xd2, 0x38, 0xff, 0x94, 0x4b, 0xac, 0xb4, 0x78, 0xcb, 0xed,
                                0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80};

static l1_anvil anvil;

static json_t *rpc(const char *method, const char *params)
{
    json_t *r = l1_rpc(anvil.url, method, params);
    assert_non_null(r);
    return r;
}

static void rpc_ok(const char *method, const char *params)
{
    json_decref(rpc(method, params));
}

static uint64_t rpc_u64(const char *method, const char *params)
{
    json_t *r = rpc(method, params);
    uint64_t v = 0;
    assert_int_equal(rollup_l1_parse_u64(r, &v, method, NULL), 0);
    json_decref(r);
    return v;
}

static uint64_t head(void)
{
    return rpc_u64("eth_blockNumber", "[]");
}

/* The pending pool's transaction of ACCT0 with nonce n: its maxFeePerGas
 * (0: none) and hash. */
static uint64_t pool_fee(int n, char hash[67])
{
    json_t *p = rpc("txpool_content", "[]");
    char key[16];
    snprintf(key, sizeof key, "%d", n);
    json_t *tx = json_object_get(json_object_get(json_object_get(p, "pending"), ACCT0), key);
    uint64_t fee = 0;
    if (tx) {
        assert_int_equal(
            rollup_l1_parse_u64(json_object_get(tx, "maxFeePerGas"), &fee, "fee", NULL), 0);
        if (hash) snprintf(hash, 67, "%s", json_string_value(json_object_get(tx, "hash")));
    }
    json_decref(p);
    return fee;
}

typedef struct harness harness;
typedef void (*tick_fn)(harness *h);

struct harness {
    uv_loop_t loop;
    rollup_l1 *l1;
    rollup_txmgr *m;
    uv_timer_t tick;
    tick_fn on_tick;
    int done, rc, has_r, ncb;
    rollup_l1_receipt r;
    util_err err;
    /* per test */
    int stage, ticks, bumped, dropped;
    uint64_t fee0, base_head, snap;
    char hash0[67];
    json_t *raw0;
};

static void on_done(void *ctx, int rc, const rollup_l1_receipt *r, const util_err *err)
{
    harness *h = ctx;
    h->ncb++;
    h->done = 1;
    h->rc = rc;
    h->has_r = r != NULL;
    if (r) h->r = *r;
    if (rc) h->err = *err;
}

static void on_tick(uv_timer_t *t)
{
    harness *h = t->data;
    if (h->on_tick && !h->done) h->on_tick(h);
}

static void h_open(harness *h, const rollup_txmgr_opts *o, tick_fn fn)
{
    memset(h, 0, sizeof *h);
    assert_int_equal(uv_loop_init(&h->loop), 0);
    util_err err = {0};
    assert_int_equal(rollup_l1_new(&h->l1, &h->loop, anvil.url, NULL, &err), 0);
    assert_int_equal(rollup_txmgr_new(&h->m, h->l1, SK0, o, &err), 0);
    assert_int_equal(uv_timer_init(&h->loop, &h->tick), 0);
    h->tick.data = h;
    h->on_tick = fn;
    uv_timer_start(&h->tick, on_tick, 100, 100);
}

/* Runs the loop until the request's callback, at most 60 s. */
static void h_run(harness *h)
{
    uint64_t until = uv_now(&h->loop) + 60000;
    while (!h->done && uv_now(&h->loop) < until)
        uv_run(&h->loop, UV_RUN_ONCE);
    if (!h->done) fail_msg("no callback within 60 s (stage %d)", h->stage);
}

static void h_close(harness *h)
{
    uv_close((uv_handle_t *)&h->tick, NULL);
    rollup_txmgr_close(h->m);
    rollup_l1_close(h->l1);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&h->loop), 0);
}

static rollup_eth_addr acct1(void)
{
    rollup_eth_addr a;
    assert_int_equal(rollup_eth_addr_parse(&a, ACCT1, NULL), 0);
    return a;
}

/* --- a transfer, two confirmations ---------------------------------------- */

static void tick_confirm(harness *h)
{
    if (h->stage == 0) {
        if (head() > h->base_head) h->stage = 1;
        return;
    }
    /* Mined but one block deep: the manager polls every 50 ms and must not
     * report it yet. */
    if (h->stage == 1 && ++h->ticks >= 5) {
        assert_int_equal(h->done, 0);
        rpc_ok("evm_mine", "[]");
        h->stage = 2;
    }
}

static void test_transfer_confirmed(void **state)
{
    (void)state;
    harness h;
    rollup_txmgr_opts o = {.chain_id = 31337, .confirmations = 2, .poll_ms = 50};
    h_open(&h, &o, tick_confirm);
    h.base_head = head();
    char want[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(want, rollup_txmgr_address(h.m));
    assert_string_equal(want, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    rollup_eth_addr to = acct1();
    util_err err = {0};
    uint8_t data[3] = {1, 2, 3};
    assert_int_equal(rollup_txmgr_send(h.m, &to, data, sizeof data, 0, on_done, &h, &err), 0);
    assert_int_equal(h.done, 0); /* never inside the call */
    assert_int_equal(rollup_txmgr_pending(h.m), 1);
    h_run(&h);
    assert_int_equal(h.rc, 0);
    assert_int_equal(h.ncb, 1);
    assert_true(h.has_r);
    assert_int_equal(h.r.status, 1);
    assert_int_equal(h.r.block_number, h.base_head + 1);
    assert_true(head() >= h.r.block_number + 1);
    assert_int_equal(rollup_txmgr_pending(h.m), 0);
    /* What anvil holds is our type-2 transaction with nonce 0. */
    json_t *hj = rollup_l1_data(h.r.tx_hash, 32);
    char params[128];
    snprintf(params, sizeof params, "[\"%s\"]", json_string_value(hj));
    json_decref(hj);
    json_t *tx = rpc("eth_getTransactionByHash", params);
    assert_string_equal(json_string_value(json_object_get(tx, "type")), "0x2");
    assert_string_equal(json_string_value(json_object_get(tx, "nonce")), "0x0");
    assert_string_equal(json_string_value(json_object_get(tx, "input")), "0x010203");
    json_decref(tx);

    /* A second one takes the next nonce. */
    h.done = 0;
    h.stage = 0;
    h.ticks = 0;
    h.base_head = head();
    assert_int_equal(rollup_txmgr_send(h.m, &to, NULL, 0, 21000, on_done, &h, &err), 0);
    h_run(&h);
    assert_int_equal(h.rc, 0);
    assert_int_equal(rpc_u64("eth_getTransactionCount", "[\"" ACCT0 "\",\"latest\"]"), 2);
    h_close(&h);
}

/* --- fee bumps -------------------------------------------------------------- */

static void tick_bump(harness *h)
{
    char hash[67] = "";
    uint64_t fee = pool_fee(0, hash);
    if (h->stage == 0) {
        if (!fee) return;
        h->fee0 = fee;
        snprintf(h->hash0, sizeof h->hash0, "%s", hash);
        h->stage = 1;
        return;
    }
    if (h->stage == 1) {
        /* Unmined: re-sent with at least 12.5% more. */
        if (!fee || !strcmp(hash, h->hash0)) return;
        assert_true(fee >= h->fee0 + h->fee0 / 8);
        h->bumped = 1;
        h->fee0 = fee;
        snprintf(h->hash0, sizeof h->hash0, "%s", hash);
        /* Dropped from the pool: sent again. */
        char params[96];
        snprintf(params, sizeof params, "[\"%s\"]", hash);
        rpc_ok("anvil_dropTransaction", params);
        assert_int_equal(pool_fee(0, NULL), 0);
        h->stage = 2;
        return;
    }
    if (h->stage == 2) {
        if (!fee) return;
        assert_true(fee >= h->fee0);
        h->dropped = 1;
        snprintf(h->hash0, sizeof h->hash0, "%s", hash);
        rpc_ok("evm_mine", "[]");
        h->stage = 3;
    }
}

static void test_fee_bump(void **state)
{
    (void)state;
    rpc_ok("evm_setAutomine", "[false]");
    harness h;
    rollup_txmgr_opts o = {.chain_id = 31337, .poll_ms = 50, .resubmit_ms = 300};
    h_open(&h, &o, tick_bump);
    rollup_eth_addr to = acct1();
    util_err err = {0};
    assert_int_equal(rollup_txmgr_send(h.m, &to, NULL, 0, 21000, on_done, &h, &err), 0);
    h_run(&h);
    assert_int_equal(h.rc, 0);
    assert_true(h.bumped);
    assert_true(h.dropped);
    /* What got mined is the last attempt seen in the pool. */
    json_t *hj = rollup_l1_data(h.r.tx_hash, 32);
    assert_string_equal(json_string_value(hj), h.hash0);
    json_decref(hj);
    h_close(&h);
}

static void test_fee_cap(void **state)
{
    (void)state;
    /* Base fee 1 gwei on anvil: a cap under 2 x base + tip still sends (at the
     * cap), and never replaces above it. */
    rpc_ok("evm_setAutomine", "[false]");
    harness h;
    rollup_txmgr_opts o = {
        .chain_id = 31337, .poll_ms = 50, .resubmit_ms = 100, .max_fee_wei = 1500000000};
    h_open(&h, &o, NULL);
    rollup_eth_addr to = acct1();
    util_err err = {0};
    assert_int_equal(rollup_txmgr_send(h.m, &to, NULL, 0, 21000, on_done, &h, &err), 0);
    uint64_t until = uv_now(&h.loop) + 30000;
    while (!pool_fee(0, NULL) && uv_now(&h.loop) < until)
        uv_run(&h.loop, UV_RUN_NOWAIT);
    /* Ten resubmission periods: none may go over the cap. */
    until = uv_now(&h.loop) + 1000;
    while (uv_now(&h.loop) < until)
        uv_run(&h.loop, UV_RUN_ONCE);
    char hash[67];
    uint64_t fee = pool_fee(0, hash);
    assert_int_equal(fee, 1500000000);
    assert_int_equal(h.done, 0);
    rpc_ok("evm_mine", "[]");
    h_run(&h);
    assert_int_equal(h.rc, 0);
    h_close(&h);
}

/* --- reverted ---------------------------------------------------------------- */

static void test_reverted(void **state)
{
    (void)state;
    harness h;
    rollup_txmgr_opts o = {.chain_id = 31337, .poll_ms = 50};
    h_open(&h, &o, NULL);
    util_err err = {0};
    /* Init code that reverts: PUSH1 0 PUSH1 0 REVERT. */
    static const uint8_t revert[] = {0x60, 0x00, 0x60, 0x00, 0xfd};
    assert_int_equal(rollup_txmgr_send(h.m, NULL, revert, sizeof revert, 100000, on_done, &h, &err),
                     0);
    h_run(&h);
    assert_int_equal(h.rc, UTIL_EINVAL);
    assert_true(h.has_r);
    assert_int_equal(h.r.status, 0);
    assert_non_null(strstr(h.err.msg, "reverted"));
    /* Estimated, it is refused before sending: no receipt. */
    h.done = 0;
    assert_int_equal(rollup_txmgr_send(h.m, NULL, revert, sizeof revert, 0, on_done, &h, &err), 0);
    h_run(&h);
    assert_int_equal(h.rc, UTIL_EINVAL);
    assert_false(h.has_r);
    assert_non_null(strstr(h.err.msg, "gas estimation"));
    /* The nonce was not used: the next transfer gets nonce 1. */
    h.done = 0;
    rollup_eth_addr to = acct1();
    assert_int_equal(rollup_txmgr_send(h.m, &to, NULL, 0, 0, on_done, &h, &err), 0);
    h_run(&h);
    assert_int_equal(h.rc, 0);
    assert_int_equal(rpc_u64("eth_getTransactionCount", "[\"" ACCT0 "\",\"latest\"]"), 2);
    h_close(&h);
}

/* --- restart with a pending transaction ------------------------------------- */

static void tick_restart(harness *h)
{
    if (h->stage == 0) {
        /* The second manager waits for nonce 0 to be mined before sending. */
        assert_int_equal(pool_fee(1, NULL), 0);
        if (++h->ticks < 8) return;
        rpc_ok("evm_mine", "[]");
        h->stage = 1;
        return;
    }
    if (h->stage == 1 && pool_fee(1, NULL)) {
        rpc_ok("evm_mine", "[]");
        h->stage = 2;
    }
}

static void test_restart_pending(void **state)
{
    (void)state;
    rpc_ok("evm_setAutomine", "[false]");
    harness h;
    rollup_txmgr_opts o = {.chain_id = 31337, .poll_ms = 50};
    h_open(&h, &o, NULL);
    rollup_eth_addr to = acct1();
    util_err err = {0};
    assert_int_equal(rollup_txmgr_send(h.m, &to, NULL, 0, 21000, on_done, &h, &err), 0);
    uint64_t until = uv_now(&h.loop) + 30000;
    while (!pool_fee(0, NULL) && uv_now(&h.loop) < until)
        uv_run(&h.loop, UV_RUN_NOWAIT);
    assert_true(pool_fee(0, NULL) > 0);
    h_close(&h); /* the request is cancelled, its transaction stays in the pool */
    assert_int_equal(h.rc, UTIL_ESTATE);
    assert_int_equal(h.ncb, 1);

    h_open(&h, &o, tick_restart);
    assert_int_equal(rollup_txmgr_send(h.m, &to, NULL, 0, 21000, on_done, &h, &err), 0);
    h_run(&h);
    assert_int_equal(h.rc, 0);
    assert_int_equal(h.stage, 2);
    json_t *hj = rollup_l1_data(h.r.tx_hash, 32);
    char params[128];
    snprintf(params, sizeof params, "[\"%s\"]", json_string_value(hj));
    json_decref(hj);
    json_t *tx = rpc("eth_getTransactionByHash", params);
    assert_string_equal(json_string_value(json_object_get(tx, "nonce")), "0x1");
    json_decref(tx);
    h_close(&h);
}

/* --- reorganisation ---------------------------------------------------------- */

static void tick_reorg(harness *h)
{
    uint64_t n = head();
    if (h->stage == 0) {
        if (n <= h->base_head) return;
        /* Mined, one block deep of the three asked: let the manager see the
         * receipt, then take the block away. */
        if (++h->ticks < 10) return;
        char params[64];
        snprintf(params, sizeof params, "[\"0x%llx\"]", (unsigned long long)h->snap);
        json_t *ok = rpc("evm_revert", params);
        assert_true(json_is_true(ok));
        json_decref(ok);
        assert_int_equal(head(), h->base_head);
        assert_int_equal(rpc_u64("eth_getTransactionCount", "[\"" ACCT0 "\",\"pending\"]"), 0);
        h->stage = 1;
        return;
    }
    if (h->stage == 1 && n > h->base_head) {
        /* Sent again (automine): make it deep enough. */
        assert_int_equal(h->done, 0);
        rpc_ok("evm_mine", "[]");
        rpc_ok("evm_mine", "[]");
        h->stage = 2;
    }
}

static void test_reorg_resend(void **state)
{
    (void)state;
    harness h;
    rollup_txmgr_opts o = {
        .chain_id = 31337, .confirmations = 3, .poll_ms = 50, .resubmit_ms = 60000};
    h_open(&h, &o, tick_reorg);
    h.base_head = head();
    h.snap = rpc_u64("evm_snapshot", "[]");
    rollup_eth_addr to = acct1();
    util_err err = {0};
    assert_int_equal(rollup_txmgr_send(h.m, &to, NULL, 0, 21000, on_done, &h, &err), 0);
    h_run(&h);
    assert_int_equal(h.rc, 0);
    assert_int_equal(h.stage, 2);
    /* The receipt reported is the one on the chain now. */
    json_t *hj = rollup_l1_data(h.r.tx_hash, 32);
    char params[128];
    snprintf(params, sizeof params, "[\"%s\"]", json_string_value(hj));
    json_decref(hj);
    json_t *rj = rpc("eth_getTransactionReceipt", params);
    rollup_l1_receipt now;
    assert_int_equal(rollup_l1_parse_receipt(rj, &now, NULL), 0);
    json_decref(rj);
    assert_memory_equal(now.block_hash, h.r.block_hash, 32);
    assert_true(head() >= h.r.block_number + 2);
    h_close(&h);
}

/* --- an earlier attempt mined; the nonce taken by another sender ---------- */

static void tick_earlier(harness *h)
{
    char hash[67] = "", params[160];
    uint64_t fee = pool_fee(0, hash);
    if (h->stage == 0) {
        if (!fee) return;
        /* Keep the first attempt's bytes. */
        snprintf(h->hash0, sizeof h->hash0, "%s", hash);
        snprintf(params, sizeof params, "[\"%s\"]", hash);
        json_t *raw = rpc("eth_getRawTransactionByHash", params);
        assert_true(json_is_string(raw));
        h->raw0 = raw;
        h->stage = 1;
        return;
    }
    if (h->stage == 1) {
        if (!fee || !strcmp(hash, h->hash0)) return;
        /* The bumped attempt is out; the first one gets mined instead. */
        snprintf(params, sizeof params, "[\"%s\"]", hash);
        rpc_ok("anvil_dropTransaction", params);
        json_t *p = json_pack("[O]", h->raw0);
        json_t *r = NULL;
        assert_int_equal(rollup_l1_call_sync(anvil.url, "eth_sendRawTransaction", p, &r, NULL), 0);
        json_decref(p);
        json_decref(r);
        rpc_ok("evm_mine", "[]");
        h->stage = 2;
    }
}

static void test_earlier_attempt_mined(void **state)
{
    (void)state;
    rpc_ok("evm_setAutomine", "[false]");
    harness h;
    rollup_txmgr_opts o = {.chain_id = 31337, .poll_ms = 50, .resubmit_ms = 300};
    h_open(&h, &o, tick_earlier);
    rollup_eth_addr to = acct1();
    util_err err = {0};
    assert_int_equal(rollup_txmgr_send(h.m, &to, NULL, 0, 21000, on_done, &h, &err), 0);
    h_run(&h);
    assert_int_equal(h.rc, 0);
    assert_int_equal(h.stage, 2);
    json_t *hj = rollup_l1_data(h.r.tx_hash, 32);
    assert_string_equal(json_string_value(hj), h.hash0);
    json_decref(hj);
    json_decref(h.raw0);
    h_close(&h);
}

static void test_nonce_taken(void **state)
{
    (void)state;
    harness h;
    rollup_txmgr_opts o = {.chain_id = 31337, .poll_ms = 50};
    h_open(&h, &o, NULL);
    /* Let the manager read its nonce (0), then use it from outside. */
    uint64_t until = uv_now(&h.loop) + 500;
    while (uv_now(&h.loop) < until)
        uv_run(&h.loop, UV_RUN_ONCE);
    rpc_ok("eth_sendTransaction",
           "[{\"from\":\"" ACCT0 "\",\"to\":\"" ACCT1 "\",\"value\":\"0x1\"}]");
    until = uv_now(&h.loop) + 30000;
    while (rpc_u64("eth_getTransactionCount", "[\"" ACCT0 "\",\"latest\"]") < 1 &&
           uv_now(&h.loop) < until)
        uv_run(&h.loop, UV_RUN_NOWAIT);
    rollup_eth_addr to = acct1();
    util_err err = {0};
    assert_int_equal(rollup_txmgr_send(h.m, &to, NULL, 0, 21000, on_done, &h, &err), 0);
    h_run(&h);
    assert_int_equal(h.rc, 0);
    json_t *hj = rollup_l1_data(h.r.tx_hash, 32);
    char params[128];
    snprintf(params, sizeof params, "[\"%s\"]", json_string_value(hj));
    json_decref(hj);
    json_t *tx = rpc("eth_getTransactionByHash", params);
    assert_string_equal(json_string_value(json_object_get(tx, "nonce")), "0x1");
    json_decref(tx);
    h_close(&h);
}

/* --- "already known" after a lost answer (a scripted endpoint) ------------- */

/* A one-thread JSON-RPC endpoint: eth_sendRawTransaction first drops the
 * connection without answering, then says the transaction is already known;
 * receipts appear on the third poll. */
typedef struct fake {
    int fd, port;
    pthread_t th;
    char url[64];
    int n_send, n_receipt, same_raw;
    char raw1[512];
} fake;

static json_t *fake_result(fake *f, const char *method, json_t *params, int *drop, json_t **error)
{
    if (!strcmp(method, "eth_chainId")) return json_string("0x7a69");
    if (!strcmp(method, "eth_getTransactionCount")) return json_string("0x0");
    if (!strcmp(method, "eth_blockNumber")) return json_string("0x5");
    if (!strcmp(method, "eth_feeHistory"))
        return json_loads(
            "{\"baseFeePerGas\":[\"0x3b9aca00\",\"0x3b9aca00\"],\"reward\":[[\"0x1\"]]}", 0, NULL);
    if (!strcmp(method, "eth_sendRawTransaction")) {
        const char *raw = json_string_value(json_array_get(params, 0));
        if (++f->n_send == 1) {
            snprintf(f->raw1, sizeof f->raw1, "%s", raw ? raw : "");
            *drop = 1;
            return NULL;
        }
        f->same_raw = raw && !strcmp(raw, f->raw1);
        *error = json_pack("{s:i,s:s}", "code", -32003, "message", "transaction already imported");
        return NULL;
    }
    if (!strcmp(method, "eth_getTransactionReceipt")) {
        if (++f->n_receipt < 3) return json_null();
        return json_pack("{s:O,s:s,s:s,s:s,s:s,s:s,s:n}", "transactionHash",
                         json_array_get(params, 0), "status", "0x1", "blockNumber", "0x5",
                         "blockHash",
                         "0x1111111111111111111111111111111111111111111111111111111111111111",
                         "gasUsed", "0x5208", "effectiveGasPrice", "0x1", "contractAddress");
    }
    *error = json_pack("{s:i,s:s}", "code", -32601, "message", "Method not found");
    return NULL;
}

static void fake_serve(fake *f, int c)
{
    char buf[8192];
    size_t n = 0;
    char *body = NULL;
    size_t want = 0;
    for (;;) {
        ssize_t r = read(c, buf + n, sizeof buf - 1 - n);
        if (r <= 0) return;
        n += (size_t)r;
        buf[n] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        char *cl = strcasestr(buf, "content-length:");
        if (!cl) return;
        want = (size_t)strtoul(cl + 15, NULL, 10);
        body = end + 4;
        if ((size_t)(buf + n - body) >= want) break;
    }
    json_t *req = json_loadb(body, want, 0, NULL);
    const char *method = json_string_value(json_object_get(req, "method"));
    int drop = 0;
    json_t *error = NULL;
    json_t *result =
        method ? fake_result(f, method, json_object_get(req, "params"), &drop, &error) : NULL;
    if (!drop) {
        json_t *ans = json_pack("{s:s,s:O}", "jsonrpc", "2.0", "id", json_object_get(req, "id"));
        json_object_set_new(ans, error ? "error" : "result", error ? error : result);
        char *txt = json_dumps(ans, JSON_COMPACT);
        char head[256];
        int hl = snprintf(head, sizeof head,
                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                          "%zu\r\nConnection: close\r\n\r\n",
                          strlen(txt));
        if (write(c, head, (size_t)hl) < 0 || write(c, txt, strlen(txt)) < 0) {
            /* the client went away: nothing to tell it */
        }
        free(txt);
        json_decref(ans);
    } else {
        json_decref(result);
    }
    json_decref(req);
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    for (;;) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0) return NULL;
        fake_serve(f, c);
        close(c);
    }
}

static void fake_start(fake *f)
{
    memset(f, 0, sizeof *f);
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->fd, 16), 0);
    assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &l), 0);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(fake *f)
{
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->th, NULL);
    close(f->fd);
}

static void test_already_known(void **state)
{
    (void)state;
    fake f;
    fake_start(&f);
    rollup_txmgr_opts o = {.chain_id = 31337, .poll_ms = 20};
    rollup_eth_addr to = acct1();
    rollup_l1_receipt r;
    util_err err = {0};
    int rc = rollup_txmgr_send_sync(f.url, SK0, &o, &to, NULL, 0, 21000, &r, &err);
    fake_stop(&f);
    assert_int_equal(rc, 0);
    assert_int_equal(f.n_send, 2);
    assert_true(f.same_raw);
    assert_int_equal(r.block_number, 5);
}

/* --- closing from inside a callback ---------------------------------------- */

typedef struct closer {
    rollup_txmgr *m;
    int n, rc;
} closer;

static void on_close_cb(void *ctx, int rc, const rollup_l1_receipt *r, const util_err *err)
{
    (void)r;
    (void)err;
    closer *c = ctx;
    c->n++;
    c->rc = rc;
    if (c->m) {
        rollup_txmgr *m = c->m;
        c->m = NULL;
        rollup_txmgr_close(m);
    }
}

static void test_close_in_callback(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    rollup_l1 *l1 = NULL;
    rollup_txmgr *m = NULL;
    util_err err = {0};
    assert_int_equal(rollup_l1_new(&l1, &loop, anvil.url, NULL, &err), 0);
    rollup_txmgr_opts o = {.chain_id = 5, .poll_ms = 50}; /* refused: fails fast */
    assert_int_equal(rollup_txmgr_new(&m, l1, SK0, &o, &err), 0);
    closer a = {.m = m}, b = {0};
    rollup_eth_addr to = acct1();
    assert_int_equal(rollup_txmgr_send(m, &to, NULL, 0, 21000, on_close_cb, &a, &err), 0);
    assert_int_equal(rollup_txmgr_send(m, &to, NULL, 0, 21000, on_close_cb, &b, &err), 0);
    uint64_t until = uv_now(&loop) + 30000;
    while (!a.n && uv_now(&loop) < until)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.rc, UTIL_EINVAL);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.rc, UTIL_ESTATE);
    rollup_l1_close(l1);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* --- wrong chain, endpoint down ---------------------------------------------- */

static void test_wrong_chain(void **state)
{
    (void)state;
    harness h;
    rollup_txmgr_opts o = {.chain_id = 1, .poll_ms = 50};
    h_open(&h, &o, NULL);
    rollup_eth_addr to = acct1();
    util_err err = {0};
    assert_int_equal(rollup_txmgr_send(h.m, &to, NULL, 0, 21000, on_done, &h, &err), 0);
    h_run(&h);
    assert_int_equal(h.rc, UTIL_EINVAL);
    assert_non_null(strstr(h.err.msg, "chain id is 31337"));
    assert_int_equal(rpc_u64("eth_getTransactionCount", "[\"" ACCT0 "\",\"pending\"]"), 0);
    h_close(&h);

    /* Down for longer than give_up_ms: the request fails with the reason. */
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", l1_free_port());
    rollup_l1 *l1 = NULL;
    rollup_txmgr *m = NULL;
    assert_int_equal(rollup_l1_new(&l1, &loop, url, NULL, &err), 0);
    rollup_txmgr_opts od = {.chain_id = 31337, .poll_ms = 50, .give_up_ms = 500};
    assert_int_equal(rollup_txmgr_new(&m, l1, SK0, &od, &err), 0);
    harness d = {0};
    assert_int_equal(rollup_txmgr_send(m, &to, NULL, 0, 21000, on_done, &d, &err), 0);
    uint64_t until = uv_now(&loop) + 30000;
    while (!d.done && uv_now(&loop) < until)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(d.done);
    assert_int_equal(d.rc, UTIL_EIO);
    assert_non_null(strstr(d.err.msg, "cannot reach"));
    rollup_txmgr_close(m);
    rollup_l1_close(l1);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_send_sync(void **state)
{
    (void)state;
    rollup_txmgr_opts o = {.chain_id = 31337, .poll_ms = 50};
    rollup_eth_addr to = acct1();
    rollup_l1_receipt r;
    util_err err = {0};
    assert_int_equal(rollup_txmgr_send_sync(anvil.url, SK0, &o, &to, NULL, 0, 0, &r, &err), 0);
    assert_int_equal(r.status, 1);
    assert_int_equal(r.gas_used, 21000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        L1_ANVIL_TEST(test_transfer_confirmed, &anvil),
        L1_ANVIL_TEST(test_fee_bump, &anvil),
        L1_ANVIL_TEST(test_fee_cap, &anvil),
        L1_ANVIL_TEST(test_reverted, &anvil),
        L1_ANVIL_TEST(test_restart_pending, &anvil),
        L1_ANVIL_TEST(test_reorg_resend, &anvil),
        L1_ANVIL_TEST(test_earlier_attempt_mined, &anvil),
        L1_ANVIL_TEST(test_nonce_taken, &anvil),
        cmocka_unit_test(test_already_known),
        L1_ANVIL_TEST(test_close_in_callback, &anvil),
        L1_ANVIL_TEST(test_wrong_chain, &anvil),
        L1_ANVIL_TEST(test_send_sync, &anvil),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
