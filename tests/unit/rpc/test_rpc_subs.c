/* Subscriptions (rpc/methods/subs.c): event filters by contract, topic, attribution
 * model and recipient on receipt events, the payout event layout, limits,
 * unsubscribe rules, and sessions that go away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chain/types/attr.h"
#include "chain/crypto/hash.h"
#include "rpc/params.h"
#include "rpc/methods/subs.h"
#include "tests/unit/rpc_ws_test_util.h"
#include "util/hex.h"

typedef struct fixture {
    rpc_dispatch *d;
    rpc_subs *h;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->d = rpc_dispatch_new();
    f->h = rpc_subs_new();
    assert_int_equal(rpc_subs_register(f->d, f->h), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rpc_subs_free(f->h);
    rpc_dispatch_free(f->d);
    free(f);
    return 0;
}

static wspipe *open_session(fixture *f)
{
    rpc_http_cfg cfg = {.session_closed = rpc_subs_session_closed, .session_ctx = f->h};
    return wp_open(f->d, &cfg, 0);
}

static chain_addr addr(uint8_t fill)
{
    chain_addr a;
    memset(a.b, fill, sizeof a.b);
    return a;
}

static void addr_s(char out[CHAIN_ADDR_STR_LEN + 1], uint8_t fill)
{
    chain_addr a = addr(fill);
    chain_addr_encode(out, &a);
}

/* Subscribes with params (JSON text); returns the id (static buffer) or
 * NULL when refused, leaving the error code in *code. */
static const char *subscribe(wspipe *p, const char *method, const char *params, int *code)
{
    static char id[64];
    size_t before = json_array_size(p->msgs);
    char req[2048];
    snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":%s,\"id\":1}",
             method, params);
    wp_send(p, req);
    assert_int_equal(json_array_size(p->msgs), before + 1);
    json_t *m = wp_msg(p, before);
    json_t *err = json_object_get(m, "error");
    if (err) {
        if (code) *code = (int)json_integer_value(json_object_get(err, "code"));
        return NULL;
    }
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(m, "result")));
    return id;
}

/* A block with one transaction whose receipt carries three events: a plain
 * one from contract 0xaa, and two payouts (model 7 to 0x11, model 8 to
 * 0x22) from reward contract 0xbb. */
static void make_block(chain_block *b, chain_receipt *r, uint8_t id[32])
{
    memset(b, 0, sizeof *b);
    memset(r, 0, sizeof *r);
    b->h.version = 1;
    snprintf(b->h.chain_id, sizeof b->h.chain_id, "t");
    b->h.height = 5;
    b->h.time_ms = 1234;
    b->ntx = 1;
    b->txs = calloc(1, sizeof *b->txs);
    b->txs[0].type = CHAIN_TX_TRANSFER;
    memset(b->txs[0].id, 0x77, 32);
    memset(id, 0x55, 32);
    chain_addr a = addr(0xaa), rc = addr(0xbb);
    uint8_t t1[32], tp[32], data[CHAIN_PAYOUT_EVENT_LEN];
    memset(t1, 0x01, 32);
    chain_payout_topic(tp);
    assert_int_equal(chain_receipt_add_event(r, &a, t1, (const uint8_t *)"hi", 2), 0);
    for (int i = 0; i < 2; i++) {
        memset(data, 0, sizeof data);
        util_put_u64le(data, 7 + (uint64_t)i);         /* model */
        util_put_u64le(data + 8, 100 + (uint64_t)i);   /* contribution */
        memset(data + 16, i ? 0x22 : 0x11, 20);        /* recipient */
        data[36] = CHAIN_ROLE_CONTRIBUTOR;             /* role */
        util_put_u64le(data + 37, 5000 + (uint64_t)i); /* amount */
        util_put_u64le(data + 45, 9);                  /* record */
        assert_int_equal(chain_receipt_add_event(r, &rc, tp, data, sizeof data), 0);
    }
    r->gas_used = 1000;
}

static size_t notes(wspipe *p, const char *sub)
{
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(p->msgs); i++) {
        json_t *m = json_array_get(p->msgs, i);
        json_t *params = json_object_get(m, "params");
        const char *s = json_string_value(json_object_get(params, "subscription"));
        if (s && strcmp(s, sub) == 0) n++;
    }
    return n;
}

static void test_event_filters(void **state)
{
    fixture *f = *state;
    wspipe *p = open_session(f);
    char aa[CHAIN_ADDR_STR_LEN + 1], bb[CHAIN_ADDR_STR_LEN + 1], r11[CHAIN_ADDR_STR_LEN + 1],
        r22[CHAIN_ADDR_STR_LEN + 1];
    addr_s(aa, 0xaa);
    addr_s(bb, 0xbb);
    addr_s(r11, 0x11);
    addr_s(r22, 0x22);
    uint8_t tp[32];
    chain_payout_topic(tp);
    char tps[67] = "0x";
    util_hex_encode(tps + 2, tp, 32);

    struct {
        char params[512];
        size_t want;
        char id[64];
    } c[10];
    int k = 0;
    snprintf(c[k].params, 512, "[]"), c[k++].want = 3;
    snprintf(c[k].params, 512, "[null]"), c[k++].want = 3;
    snprintf(c[k].params, 512, "[{\"contract\":\"%s\"}]", aa), c[k++].want = 1;
    snprintf(c[k].params, 512, "[{\"contract\":[\"%s\",\"%s\"]}]", aa, bb), c[k++].want = 3;
    snprintf(c[k].params, 512, "[{\"topic\":\"%s\"}]", tps), c[k++].want = 2;
    snprintf(c[k].params, 512, "[{\"model\":7}]"), c[k++].want = 1;
    snprintf(c[k].params, 512, "[{\"model\":[\"7\",8]}]"), c[k++].want = 2;
    snprintf(c[k].params, 512, "[{\"recipient\":\"%s\"}]", r22), c[k++].want = 1;
    snprintf(c[k].params, 512, "[{\"model\":7,\"recipient\":\"%s\"}]", r22), c[k++].want = 0;
    snprintf(c[k].params, 512, "[{\"contract\":\"%s\",\"model\":7,\"recipient\":[\"%s\"]}]", bb,
             r11),
        c[k++].want = 1;
    for (int i = 0; i < k; i++) {
        const char *id = subscribe(p, "subscribe_events", c[i].params, NULL);
        if (!id) fail_msg("refused: %s", c[i].params);
        snprintf(c[i].id, sizeof c[i].id, "%s", id);
    }
    assert_int_equal(rpc_subs_count(f->h), (size_t)k);
    chain_block b;
    chain_receipt r;
    uint8_t id[32];
    make_block(&b, &r, id);
    rpc_subs_block(f->h, &b, id, &r);
    wp_pump(p);
    for (int i = 0; i < k; i++)
        if (notes(p, c[i].id) != c[i].want)
            fail_msg("%s: %zu events, want %zu", c[i].params, notes(p, c[i].id), c[i].want);
    /* the shape of a payout notification */
    json_t *pay = NULL;
    for (size_t i = 0; i < json_array_size(p->msgs) && !pay; i++) {
        json_t *params = json_object_get(wp_msg(p, i), "params");
        if (params &&
            strcmp(json_string_value(json_object_get(params, "subscription")), c[5].id) == 0)
            pay = json_object_get(params, "result");
    }
    assert_non_null(pay);
    assert_int_equal(json_integer_value(json_object_get(pay, "blockHeight")), 5);
    assert_int_equal(json_integer_value(json_object_get(pay, "txIndex")), 0);
    assert_int_equal(json_integer_value(json_object_get(pay, "eventIndex")), 1);
    assert_string_equal(json_string_value(json_object_get(pay, "emitter")), bb);
    assert_string_equal(json_string_value(json_object_get(pay, "topic")), tps);
    json_t *po = json_object_get(pay, "payout");
    assert_string_equal(json_string_value(json_object_get(po, "model")), "7");
    assert_string_equal(json_string_value(json_object_get(po, "contribution")), "100");
    assert_string_equal(json_string_value(json_object_get(po, "recipient")), r11);
    assert_string_equal(json_string_value(json_object_get(po, "role")), "contributor");
    assert_string_equal(json_string_value(json_object_get(po, "amount")), "5000");
    assert_string_equal(json_string_value(json_object_get(po, "record")), "9");
    chain_receipt_free(&r);
    chain_block_free(&b);
    wp_close(p);
    assert_int_equal(rpc_subs_count(f->h), 0); /* the session's close dropped them */
}

static void test_bad_filters(void **state)
{
    fixture *f = *state;
    wspipe *p = open_session(f);
    char many[2048];
    size_t k = (size_t)snprintf(many, sizeof many, "[{\"model\":[");
    for (int i = 0; i < 17; i++)
        k += (size_t)snprintf(many + k, sizeof many - k, "%s%d", i ? "," : "", i);
    snprintf(many + k, sizeof many - k, "]}]");
    static const char *const bad[] = {
        "[{\"contrakt\":1}]",
        "[{\"contract\":\"ol1bad\"}]",
        "[{\"contract\":[]}]",
        "[{\"topic\":\"0x12\"}]",
        "[{\"topic\":7}]",
        "[{\"model\":-1}]",
        "[{\"model\":\"x\"}]",
        "[{\"model\":1.5}]",
        "[{\"model\":[1,[2]]}]",
        "[{\"recipient\":{}}]",
        "[[]]",
        "[\"all\"]",
        "[{}, {}]",
    };
    int code = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (subscribe(p, "subscribe_events", bad[i], &code)) fail_msg("accepted %s", bad[i]);
        if (code != RPC_INVALID_PARAMS) fail_msg("%s: code %d", bad[i], code);
    }
    assert_null(subscribe(p, "subscribe_events", many, &code));
    assert_int_equal(code, RPC_INVALID_PARAMS);
    assert_null(subscribe(p, "subscribe_newBlocks", "[1]", &code));
    assert_int_equal(code, RPC_INVALID_PARAMS);
    assert_null(subscribe(p, "subscribe_pendingTransactions", "[\"yes\"]", &code));
    assert_int_equal(code, RPC_INVALID_PARAMS);
    assert_int_equal(rpc_subs_count(f->h), 0);
    wp_close(p);
}

static void test_limits_and_unsubscribe(void **state)
{
    fixture *f = *state;
    wspipe *a = open_session(f), *b = open_session(f);
    char first[64];
    for (int i = 0; i < RPC_SUBS_MAX_PER_SESSION; i++) {
        const char *id = subscribe(a, "subscribe_newBlocks", "[]", NULL);
        assert_non_null(id);
        if (i == 0) snprintf(first, sizeof first, "%s", id);
    }
    int code = 0;
    assert_null(subscribe(a, "subscribe_newBlocks", "[]", &code));
    assert_int_equal(code, RPC_LIMIT_EXCEEDED);
    /* another connection has its own allowance */
    assert_non_null(subscribe(b, "subscribe_pendingTransactions", "[]", NULL));
    /* b cannot cancel a's subscription; a can, once */
    char req[256];
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"method\":\"unsubscribe\",\"params\":[\"%s\"],\"id\":2}",
             first);
    wp_send(b, req);
    assert_true(json_is_false(json_object_get(wp_msg(b, 1), "result")));
    size_t na = json_array_size(a->msgs);
    wp_send(a, req);
    assert_true(json_is_true(json_object_get(wp_msg(a, na), "result")));
    wp_send(a, req);
    assert_true(json_is_false(json_object_get(wp_msg(a, na + 1), "result")));
    wp_send(a, "{\"jsonrpc\":\"2.0\",\"method\":\"unsubscribe\",\"params\":[5],\"id\":3}");
    assert_non_null(json_object_get(wp_msg(a, na + 2), "error"));
    assert_int_equal(rpc_subs_count(f->h), RPC_SUBS_MAX_PER_SESSION);
    /* a pending transaction reaches b only; as a hash */
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = CHAIN_TX_TRANSFER;
    memset(tx.id, 0xab, 32);
    rpc_subs_pending_tx(f->h, &tx);
    wp_pump(b);
    json_t *res = json_object_get(json_object_get(wp_msg(b, 2), "params"), "result");
    assert_string_equal(json_string_value(res),
                        "0xabababababababababababababababababababababababababababababababab");
    /* a block reaches each of a's 63 subscriptions */
    chain_block blk;
    chain_receipt r;
    uint8_t id[32];
    make_block(&blk, &r, id);
    na = json_array_size(a->msgs);
    rpc_subs_block(f->h, &blk, id, &r);
    wp_pump(a);
    assert_int_equal(json_array_size(a->msgs), na + RPC_SUBS_MAX_PER_SESSION - 1);
    chain_receipt_free(&r);
    chain_block_free(&blk);
    wp_close(a);
    assert_int_equal(rpc_subs_count(f->h), 1);
    wp_close(b);
    assert_int_equal(rpc_subs_count(f->h), 0);
}

/* A subscriber that cannot keep up is closed while notifications go out;
 * the others keep receiving. */
static void test_slow_subscriber(void **state)
{
    fixture *f = *state;
    rpc_http_cfg cfg = {
        .session_closed = rpc_subs_session_closed, .session_ctx = f->h, .ws_send_limit = 64 * 1024};
    wspipe *slow = wp_open(f->d, &cfg, 0), *fast = wp_open(f->d, &cfg, 0);
    assert_non_null(subscribe(slow, "subscribe_newBlocks", "[]", NULL));
    assert_non_null(subscribe(fast, "subscribe_newBlocks", "[]", NULL));
    slow->hold = 1;
    chain_block blk;
    chain_receipt r;
    uint8_t id[32];
    make_block(&blk, &r, id);
    for (int i = 0; i < 200; i++) {
        rpc_subs_block(f->h, &blk, id, &r);
        wp_pump(fast);
    }
    assert_int_equal(json_array_size(fast->msgs), 201);
    assert_true(slow->counters.ws_slow_consumers == 1);
    assert_true(ws_session_finished(slow->srv) || !ws_session_reading(slow->srv));
    /* the connection closing drops the subscription */
    ws_session_detach(slow->srv);
    assert_int_equal(rpc_subs_count(f->h), 1);
    chain_receipt_free(&r);
    chain_block_free(&blk);
    wp_close(slow);
    wp_close(fast);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_event_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_and_unsubscribe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_subscriber, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
