/* Admission order and work budgets (docs/mempool.md "Admission order",
 * docs/rpc-protocol.md "Budgets of work"), on an in-process node with a real
 * store: nothing runs the VM before the signature; a gas limit above the
 * block's is refused statelessly; a dry run stops at its cap and does not
 * hold the node lock; contract_call and dry runs are charged to the
 * request's budgets, so a batch of looping calls is bounded; a failed
 * contract_call returns no events.
 *
 * VM work is counted through the node's dry-run counters, never by timing;
 * the time node_status took during a dry run is printed, never asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/exec/contract.h"
#include "node/node_internal.h"
#include "util/hex.h"
#include "util/time.h"
#include "vm/vm.h"

#define BLOCK_GAS 50000000ull /* genesis/devnet.json */

static node *start_node(int threads)
{
    char *argv[] = {"openledgerd",
                    "--dev",
                    "--p2p",
                    "off",
                    "--rpc",
                    "127.0.0.1:0",
                    "--quiet-accounts",
                    "--log-level",
                    "warn",
                    "--rpc-threads",
                    threads > 1 ? "2" : "1",
                    NULL};
    node_cfg cfg;
    util_err err = {0};
    assert_int_equal(node_cfg_parse(&cfg, 11, argv, &err), NODE_CFG_RUN);
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

/* The one place these tests sign: for the node's genesis. */
static void sign_tx(node *n, chain_tx *tx, uint32_t dev)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, dev), 0);
    util_err err = {0};
    if (chain_tx_sign(tx, &kp, n->genesis.hash, &err)) fail_msg("sign: %s", err.msg);
    chain_keypair_clear(&kp);
}

static chain_tx new_tx(uint8_t type, uint64_t nonce, uint64_t gas_limit)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "openledger-devnet");
    tx.type = type;
    tx.nonce = nonce;
    tx.gas_limit = gas_limit;
    tx.gas_price = 1;
    return tx;
}

/* The encoding as 0x hex (malloc'd); frees tx. */
static char *tx_hex(chain_tx *tx)
{
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_tx_encode(tx, &b), 0);
    char *hex = malloc(2 * b.len + 3);
    memcpy(hex, "0x", 2);
    util_hex_encode(hex + 2, b.data, b.len);
    util_buf_free(&b);
    chain_tx_free(tx);
    return hex;
}

/* Handles a body as a transport would; returns the parsed reply. */
static json_t *handle(node *n, rpc_call *call, const char *body)
{
    size_t len;
    char *out = rpc_dispatch_handle_call(n->dispatch, body, strlen(body), &len, call);
    assert_non_null(out);
    json_t *r = json_loads(out, 0, NULL);
    if (!r) fail_msg("reply is not JSON: %s", out);
    free(out);
    return r;
}

static json_t *request(node *n, const char *method, const char *params)
{
    size_t need = strlen(params) + strlen(method) + 64;
    char *body = malloc(need);
    snprintf(body, need, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method,
             params);
    json_t *r = handle(n, NULL, body);
    free(body);
    return r;
}

static const char *reason_of(json_t *reply)
{
    json_t *e = json_object_get(reply, "error");
    if (!e) fail_msg("expected an error, got a result");
    return json_string_value(json_object_get(json_object_get(e, "data"), "reason"));
}

static json_t *tx_send(node *n, char *hex)
{
    char params[80000];
    snprintf(params, sizeof params, "[\"%s\"]", hex);
    free(hex);
    return request(n, "tx_send", params);
}

static void produce(node *n)
{
    int produced;
    util_err err = {0};
    node_lock(n);
    int rc = node_produce_block(n, 0, &produced, &err);
    node_unlock(n);
    if (rc) fail_msg("produce: %s", err.msg);
    assert_true(produced);
}

/* Deploys assembled source from dev 0 with nonce `nonce` and commits it. */
static chain_addr deploy(node *n, const char *src, uint64_t nonce)
{
    uint8_t *code;
    size_t len;
    util_err err = {0};
    if (vm_asm_source("test", src, strlen(src), &code, &len, &err)) fail_msg("asm: %s", err.msg);
    chain_tx tx = new_tx(CHAIN_TX_DEPLOY, nonce,
                         CHAIN_GAS_DEPLOY + CHAIN_GAS_DEPLOY_PER_BYTE * (uint64_t)len);
    tx.body.deploy.code = code;
    tx.body.deploy.len = (uint32_t)len;
    sign_tx(n, &tx, 0);
    json_t *r = tx_send(n, tx_hex(&tx));
    if (!json_object_get(r, "result")) fail_msg("deploy refused: %s", json_dumps(r, 0));
    json_decref(r);
    produce(n);
    chain_addr a, d0 = dev_addr(0);
    chain_contract_addr(&a, &d0, nonce);
    return a;
}

static const char *LOOP = "spin:\n    jmp spin\n";

/* A CALL of contract c from dev 0 with that gas limit; bad_sig flips a bit
 * of the signature. */
static char *call_hex(node *n, const chain_addr *c, uint64_t nonce, uint64_t gas, int bad_sig)
{
    chain_tx tx = new_tx(CHAIN_TX_CALL, nonce, gas);
    tx.body.call.contract = *c;
    sign_tx(n, &tx, 0);
    if (bad_sig) tx.sig[5] ^= 0x40;
    return tx_hex(&tx);
}

static uint64_t runs(node *n)
{
    return atomic_load(&n->dry_runs.runs);
}

/* (a) A CALL with a bad signature and a gas limit as large as the block's:
 * refused as bad_signature before any VM instruction runs, alone and inside
 * a batch the hook prepares. A validly signed one is dry-run, stops at the
 * cap and is admitted with an unknown outcome. */
static void test_bad_signature_before_vm(void **state)
{
    (void)state;
    node *n = start_node(1);
    chain_addr c = deploy(n, LOOP, 0);
    uint64_t before = runs(n);

    json_t *r = tx_send(n, call_hex(n, &c, 1, BLOCK_GAS, 1));
    assert_string_equal(reason_of(r), "bad_signature");
    json_decref(r);
    assert_int_equal(runs(n), before);

    /* A batch large enough for the hook's threads. */
    util_buf b;
    util_buf_init(&b);
    util_buf_put(&b, "[", 1);
    for (int i = 0; i < 20; i++) {
        char *hex = call_hex(n, &c, 1 + (uint64_t)i, BLOCK_GAS, 1);
        char ent[4096];
        int k =
            snprintf(ent, sizeof ent,
                     "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tx_send\",\"params\":[\"%s\"]}",
                     i ? "," : "", i, hex);
        util_buf_put(&b, ent, (size_t)k);
        free(hex);
    }
    util_buf_put(&b, "]", 2);
    r = handle(n, NULL, (const char *)b.data);
    util_buf_free(&b);
    assert_int_equal(json_array_size(r), 20);
    for (size_t i = 0; i < 20; i++)
        assert_string_equal(reason_of(json_array_get(r, i)), "bad_signature");
    json_decref(r);
    assert_int_equal(runs(n), before);

    r = tx_send(n, call_hex(n, &c, 1, BLOCK_GAS, 0));
    if (!json_object_get(r, "result")) fail_msg("refused: %s", json_dumps(r, 0));
    json_decref(r);
    assert_int_equal(runs(n), before + 1);
    assert_int_equal(atomic_load(&n->dry_runs.capped), 1);
    node_free(n);
}

/* (d) A gas limit above the block gas limit is refused before the
 * signature and the VM: gas_too_high, even with a bad signature. */
static void test_gas_too_high(void **state)
{
    (void)state;
    node *n = start_node(1);
    chain_addr c = deploy(n, LOOP, 0);
    uint64_t before = runs(n);
    for (int bad = 0; bad < 2; bad++) {
        json_t *r = tx_send(n, call_hex(n, &c, 1, 4000000000ull, bad));
        assert_string_equal(reason_of(r), "gas_too_high");
        json_decref(r);
        r = tx_send(n, call_hex(n, &c, 1, BLOCK_GAS + 1, bad));
        assert_string_equal(reason_of(r), "gas_too_high");
        json_decref(r);
    }
    assert_int_equal(runs(n), before);
    node_free(n);
}

typedef struct sender {
    node *n;
    char *hex;
    json_t *reply;
} sender;

static void *send_thread(void *arg)
{
    sender *s = arg;
    s->reply = tx_send(s->n, s->hex);
    return NULL;
}

/* (b) While a dry run of a contract that loops to the cap runs, node_status
 * from another thread (another loop's connection) answers: the dry run does
 * not hold the node lock. Shown by the status answering while the dry run
 * is still in progress (a counter); the time it took is printed only. */
static void test_status_during_dry_run(void **state)
{
    (void)state;
    node *n = start_node(2);
    assert_true(n->multi_loop);
    chain_addr c = deploy(n, LOOP, 0);
    sender s = {.n = n, .hex = call_hex(n, &c, 1, BLOCK_GAS, 0)};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, send_thread, &s), 0);
    uint64_t t_wait = util_mono_ns();
    while (atomic_load(&n->dry_runs.active) == 0) {
        if (util_mono_ns() - t_wait > 30000000000ull) fail_msg("the dry run never started");
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    uint64_t t0 = util_mono_ns();
    json_t *r = request(n, "node_status", "[]");
    uint64_t took = util_mono_ns() - t0;
    uint64_t still = atomic_load(&n->dry_runs.active);
    /* Join before any assertion: a failed one leaves this frame, and the
     * sender thread writes its reply into `s`. */
    pthread_join(th, NULL);
    int answered = json_object_get(r, "result") != NULL;
    if (!answered) {
        char *d = json_dumps(r, 0);
        print_message("node_status: %s\n", d ? d : "?");
        free(d);
    }
    json_decref(r);
    assert_true(answered);
    if (!json_object_get(s.reply, "result")) fail_msg("refused: %s", json_dumps(s.reply, 0));
    json_decref(s.reply);
    print_message("node_status took %llu us during the dry run\n",
                  (unsigned long long)(took / 1000));
    assert_int_equal(still, 1); /* answered while the VM was running */
    node_free(n);
}

/* (c) A batch of 40 contract_calls of a looping contract: as many run as
 * the body's budget holds, each further one is refused with -32006
 * budget_exhausted; unused gas is given back, so 40 cheap calls all run.
 * A connection's allowance carries over to its next body. */
static void test_batch_budget(void **state)
{
    (void)state;
    node *n = start_node(1);
    chain_addr loop = deploy(n, LOOP, 0);
    chain_addr cheap = deploy(n, "    stop\n", 1);
    char a_loop[CHAIN_ADDR_STR_LEN + 1], a_cheap[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(a_loop, &loop);
    chain_addr_encode(a_cheap, &cheap);

    const uint64_t call_max = 5000000; /* CALL_GAS_MAX */
    const size_t fit = RPC_BODY_GAS / call_max;
    for (int k = 0; k < 2; k++) {
        util_buf b;
        util_buf_init(&b);
        util_buf_put(&b, "[", 1);
        for (int i = 0; i < 40; i++) {
            char ent[512];
            int len = snprintf(ent, sizeof ent,
                               "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"contract_call\","
                               "\"params\":[\"%s\",\"0x\",{\"gasLimit\":100000000}]}",
                               i ? "," : "", i, k ? a_cheap : a_loop);
            util_buf_put(&b, ent, (size_t)len);
        }
        util_buf_put(&b, "]", 2);
        json_t *r = handle(n, NULL, (const char *)b.data);
        util_buf_free(&b);
        assert_int_equal(json_array_size(r), 40);
        size_t ran = 0, refused = 0;
        for (size_t i = 0; i < 40; i++) {
            json_t *e = json_array_get(r, i);
            json_t *res = json_object_get(e, "result");
            if (res) {
                ran++;
                if (k == 0) {
                    assert_string_equal(json_string_value(json_object_get(res, "status")),
                                        "failed");
                    assert_int_equal(json_integer_value(json_object_get(res, "gasUsed")), call_max);
                }
            } else {
                assert_int_equal(
                    json_integer_value(json_object_get(json_object_get(e, "error"), "code")),
                    RPC_LIMIT_EXCEEDED);
                assert_string_equal(reason_of(e), "budget_exhausted");
                assert_true(i >= fit); /* in order: the first ones ran */
                refused++;
            }
        }
        json_decref(r);
        assert_int_equal(ran, k ? 40 : fit);
        assert_int_equal(refused, k ? 0 : 40 - fit);
    }

    /* A connection: what one body spends is gone for its next body too,
     * until time refills it. An allowance spent just now refuses the next
     * call (refill over microseconds is far below one call's gas). */
    rpc_budget conn = {0};
    rpc_call call = {.conn = &conn};
    char body[512];
    snprintf(body, sizeof body,
             "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"contract_call\",\"params\":[\"%s\"]},"
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"contract_call\",\"params\":[\"%s\"]}]",
             a_loop, a_cheap);
    json_t *r = handle(n, &call, body);
    for (size_t i = 0; i < 2; i++)
        assert_non_null(json_object_get(json_array_get(r, i), "result"));
    json_decref(r);
    assert_true(conn.stamp_ns != 0);
    conn = (rpc_budget){.gas = 0, .stamp_ns = util_mono_ns()};
    r = handle(n, &call, body);
    assert_string_equal(reason_of(json_array_get(r, 0)), "budget_exhausted");
    assert_string_equal(reason_of(json_array_get(r, 1)), "budget_exhausted");
    json_decref(r);
    node_free(n);
}

/* A batch of tx_sends the hook prepares: dry runs are charged to the
 * body's budget too; once it cannot cover the next one, the rest are
 * admitted unchecked (their outcome is settled in their blocks). */
static void test_batch_hook_budget(void **state)
{
    (void)state;
    node *n = start_node(1);
    chain_addr c = deploy(n, LOOP, 0);
    uint64_t before = runs(n);
    util_buf b;
    util_buf_init(&b);
    util_buf_put(&b, "[", 1);
    for (int i = 0; i < 20; i++) {
        char *hex = call_hex(n, &c, 1 + (uint64_t)i, BLOCK_GAS, 0);
        char ent[4096];
        int k =
            snprintf(ent, sizeof ent,
                     "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tx_send\",\"params\":[\"%s\"]}",
                     i ? "," : "", i, hex);
        util_buf_put(&b, ent, (size_t)k);
        free(hex);
    }
    util_buf_put(&b, "]", 2);
    json_t *r = handle(n, NULL, (const char *)b.data);
    util_buf_free(&b);
    for (size_t i = 0; i < 20; i++)
        if (!json_object_get(json_array_get(r, i), "result"))
            fail_msg("entry %zu refused: %s", i, json_dumps(json_array_get(r, i), 0));
    json_decref(r);
    /* Each run takes the intrinsic gas plus the cap, and uses all of it. */
    uint64_t each = CHAIN_GAS_CALL + NODE_DRY_RUN_GAS_MAX;
    uint64_t fit = RPC_BODY_GAS / each;
    assert_int_equal(runs(n) - before, fit);
    assert_int_equal(atomic_load(&n->dry_runs.capped), fit);
    assert_int_equal(atomic_load(&n->dry_runs.skipped), 20 - fit);
    node_free(n);
}

/* A contract_call that fails after emitting events (more than a receipt
 * holds) returns none of them. */
static void test_failed_call_no_events(void **state)
{
    (void)state;
    node *n = start_node(1);
    chain_addr c = deploy(n,
                          "    ldi r4, 1100\n"
                          "again:\n"
                          "    ldi r1, 0x100\n"
                          "    ldi r2, 0x100\n"
                          "    ldi r3, 0\n"
                          "    sys emit\n"
                          "    addi r4, r4, -1\n"
                          "    bnez r4, again\n"
                          "    stop\n",
                          0);
    char a[CHAIN_ADDR_STR_LEN + 1], params[128];
    chain_addr_encode(a, &c);
    snprintf(params, sizeof params, "[\"%s\"]", a);
    json_t *r = request(n, "contract_call", params);
    json_t *res = json_object_get(r, "result");
    assert_non_null(res);
    assert_string_equal(json_string_value(json_object_get(res, "status")), "failed");
    assert_int_equal(json_array_size(json_object_get(res, "events")), 0);
    json_decref(r);
    node_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_signature_before_vm),
        cmocka_unit_test(test_gas_too_high),
        cmocka_unit_test(test_status_during_dry_run),
        cmocka_unit_test(test_batch_budget),
        cmocka_unit_test(test_batch_hook_budget),
        cmocka_unit_test(test_failed_call_no_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
