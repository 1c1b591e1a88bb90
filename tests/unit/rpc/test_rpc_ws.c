/* WebSocket sessions (rpc/transport/ws.c) over an in-memory transport: JSON-RPC over
 * text messages, frame abuse (unmasked, oversized, reserved bits and
 * opcodes, bad UTF-8, binary, fragmented control frames), the slow-consumer
 * limit, backpressure, rate limiting, and the handshake through the HTTP
 * state machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rpc/transport/http.h"
#include "rpc/params.h"
#include "tests/unit/rpc_ws_test_util.h"
#include "util/time.h"

static json_t *m_echo(void *ctx, json_t *params, rpc_error *e)
{
    return json_incref(params);
}

static int big_calls;

/* ["big", n]: a string of n bytes */
static json_t *m_big(void *ctx, json_t *params, rpc_error *e)
{
    big_calls++;
    size_t n = (size_t)json_integer_value(json_array_get(params, 0));
    char *s = malloc(n + 1);
    memset(s, 'x', n);
    s[n] = 0;
    json_t *j = json_stringn(s, n);
    free(s);
    return j;
}

static rpc_session *last_session;
static int flood_ok, flood_limit;

static json_t *m_remember(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    last_session = call->session;
    return json_true();
}

/* Sends a notification to its own session while its request runs: the
 * answer must still come first. */
static json_t *m_selfnote(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    static const char note[] = "{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":{}}";
    assert_int_equal(rpc_session_send(call->session, note, sizeof note - 1), 0);
    return json_string("answer");
}

static json_t *m_admin(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    return json_true();
}

static rpc_dispatch *table(void)
{
    rpc_dispatch *d = rpc_dispatch_new();
    assert_int_equal(rpc_dispatch_add(d, "echo", m_echo, NULL), 0);
    assert_int_equal(rpc_dispatch_add(d, "big", m_big, NULL), 0);
    assert_int_equal(rpc_dispatch_add_ex(d, "remember", m_remember, NULL, RPC_METHOD_SESSION), 0);
    assert_int_equal(rpc_dispatch_add_ex(d, "selfnote", m_selfnote, NULL, RPC_METHOD_SESSION), 0);
    assert_int_equal(rpc_dispatch_add_ex(d, "admin_x", m_admin, NULL, RPC_METHOD_ADMIN), 0);
    return d;
}

/* Pushes notifications of `size` bytes until the session refuses one. */
static void flood(rpc_session *s, int n, size_t size)
{
    char *msg = malloc(size + 64);
    int k =
        snprintf(msg, size + 64, "{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":\"");
    memset(msg + k, 'n', size);
    strcpy(msg + k + size, "\"}");
    flood_ok = flood_limit = 0;
    for (int i = 0; i < n; i++) {
        int rc = rpc_session_send(s, msg, strlen(msg));
        if (rc == 0)
            flood_ok++;
        else if (rc == UTIL_ELIMIT)
            flood_limit++;
        else
            break;
    }
    free(msg);
}

static int result_int(json_t *reply)
{
    return (int)json_integer_value(json_array_get(json_object_get(reply, "result"), 0));
}

static void test_requests(void **state)
{
    rpc_dispatch *d = table();
    wspipe *p = wp_open(d, NULL, 0);
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[7],\"id\":1}");
    assert_int_equal(json_array_size(p->msgs), 1);
    assert_int_equal(result_int(wp_msg(p, 0)), 7);
    /* a batch is one message and gets one answer; a notification gets none */
    wp_send(p, "[{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1],\"id\":1},"
               "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[2]}]");
    assert_int_equal(json_array_size(p->msgs), 2);
    assert_int_equal(json_array_size(wp_msg(p, 1)), 1);
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[3]}");
    assert_int_equal(json_array_size(p->msgs), 2);
    /* protocol errors are answered, the session stays open */
    wp_send(p, "{\"jsonrpc\":");
    wp_send(p, "[]");
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":9}");
    assert_int_equal(json_array_size(p->msgs), 5);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(wp_msg(p, 2), "error"), "code")),
        RPC_PARSE_ERROR);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(wp_msg(p, 3), "error"), "code")),
        RPC_INVALID_REQUEST);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(wp_msg(p, 4), "error"), "code")),
        RPC_METHOD_NOT_FOUND);
    /* session methods work here; admin needs the session's rights */
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"remember\",\"id\":1}");
    assert_ptr_equal(last_session, p->srv);
    assert_true(rpc_session_id(p->srv) > 0);
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"admin_x\",\"id\":1}");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(wp_msg(p, 6), "error"), "code")),
        RPC_UNAUTHORIZED);
    /* the answer of a request precedes notifications it caused */
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"selfnote\",\"id\":5}");
    assert_string_equal(json_string_value(json_object_get(wp_msg(p, 7), "result")), "answer");
    assert_string_equal(json_string_value(json_object_get(wp_msg(p, 8), "method")), "subscription");
    /* a frame arriving one byte at a time */
    uint8_t f[256];
    const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[42],\"id\":2}";
    size_t n = wp_frame(f, 0x81, req, strlen(req), 1);
    for (size_t i = 0; i < n; i++)
        wp_send_raw(p, f + i, 1);
    assert_int_equal(result_int(wp_msg(p, 9)), 42);
    /* a message in three fragments with a ping in between */
    const char *a = "{\"jsonrpc\":\"2.0\",", *b = "\"method\":\"echo\",\"params\":[43]",
               *c = ",\"id\":3}";
    n = wp_frame(f, 0x01, a, strlen(a), 1);
    n += wp_frame(f + n, 0x89, "hi", 2, 1);
    n += wp_frame(f + n, 0x00, b, strlen(b), 1);
    n += wp_frame(f + n, 0x80, c, strlen(c), 1);
    wp_send_raw(p, f, n);
    assert_int_equal(result_int(wp_msg(p, 10)), 43);
    assert_false(ws_session_finished(p->srv));
    /* the client closes: the server answers and is done */
    assert_int_equal(wslay_event_queue_close(p->cli, 1000, (const uint8_t *)"bye", 3), 0);
    wslay_event_send(p->cli);
    wp_pump(p);
    assert_true(p->closed);
    assert_int_equal(p->close_code, 1000);
    assert_true(ws_session_finished(p->srv));
    assert_int_equal(p->counters.ws_sessions, 1);
    wp_close(p);
    rpc_dispatch_free(d);
}

/* Each bad frame closes the session with the RFC 6455 status. */
static void expect_close(rpc_dispatch *d, const uint8_t *raw, size_t n, uint16_t code,
                         const char *what)
{
    rpc_http_cfg cfg = {.max_body = 1000};
    wspipe *p = wp_open(d, &cfg, 0);
    wp_send_raw(p, raw, n);
    if (!ws_session_finished(p->srv)) fail_msg("%s: session not closed", what);
    if (code && (!p->closed || p->close_code != code))
        fail_msg("%s: close %d (%u), want %u", what, p->closed, p->close_code, code);
    if (!code && !p->closed) fail_msg("%s: no close frame", what);
    /* nothing after the bad frame is answered */
    size_t before = json_array_size(p->msgs);
    uint8_t f[128];
    const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1],\"id\":1}";
    wp_send_raw(p, f, wp_frame(f, 0x81, req, strlen(req), 1));
    assert_int_equal(json_array_size(p->msgs), before);
    assert_int_equal(p->session_closed_calls, 0);
    wp_close(p);
}

static void test_bad_frames(void **state)
{
    rpc_dispatch *d = table();
    uint8_t f[4096], big[2000];
    memset(big, 'a', sizeof big);
    const char *ok = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1}";

    expect_close(d, f, wp_frame(f, 0x81, ok, strlen(ok), 0), 1002, "unmasked text");
    expect_close(d, f, wp_frame(f, 0x89, "x", 1, 0), 1002, "unmasked ping");
    expect_close(d, f, wp_frame(f, 0x83, "x", 1, 1), 1002, "reserved opcode 3");
    expect_close(d, f, wp_frame(f, 0x8b, "x", 1, 1), 1002, "reserved control opcode 0xb");
    expect_close(d, f, wp_frame(f, 0xc1, ok, strlen(ok), 1), 1002, "RSV1 without extension");
    expect_close(d, f, wp_frame(f, 0xa1, ok, strlen(ok), 1), 1002, "RSV2");
    expect_close(d, f, wp_frame(f, 0x80, ok, strlen(ok), 1), 1002, "continuation first");
    expect_close(d, f, wp_frame(f, 0x09, "x", 1, 1), 1002, "fragmented ping");
    expect_close(d, f, wp_frame(f, 0x89, big, 126, 1), 1002, "ping over 125 bytes");
    expect_close(d, f, wp_frame(f, 0x08, "", 0, 1), 1002, "fragmented close");
    expect_close(d, f, wp_frame(f, 0x8a, big, 200, 1), 1002, "pong over 125 bytes");
    /* in the same packet as a request */
    size_t m = wp_frame(f, 0x81, ok, strlen(ok), 1);
    m += wp_frame(f + m, 0x09, "x", 1, 1);
    expect_close(d, f, m, 1002, "fragmented ping after a request");
    /* a new text frame while a fragmented one is open */
    size_t n = wp_frame(f, 0x01, "{", 1, 1);
    n += wp_frame(f + n, 0x81, ok, strlen(ok), 1);
    expect_close(d, f, n, 1002, "text inside a fragmented message");
    /* over max_body (1000): in one frame, and in fragments adding up */
    expect_close(d, f, wp_frame(f, 0x81, big, 1001, 1), 1009, "oversized frame");
    n = wp_frame(f, 0x01, big, 600, 1);
    n += wp_frame(f + n, 0x80, big, 600, 1);
    expect_close(d, f, n, 1009, "oversized fragments");
    /* a declared 2^63-byte frame is refused from its header, nothing allocated */
    uint8_t huge[15] = {0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5};
    expect_close(d, huge, sizeof huge, 1009, "2^63-1-byte length");
    huge[2] = 0xff; /* a 64-bit length with the top bit set is invalid */
    expect_close(d, huge, sizeof huge, 1002, "2^64-1-byte length");
    /* the header alone of an oversized frame is enough */
    expect_close(d, f, wp_frame(f, 0x81, big, 1001, 1) - 1001, 1009, "oversized frame header");
    uint8_t huge2[15] = {0x81, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5};
    expect_close(d, huge2, sizeof huge2, 1009, "4 GiB length");
    /* text that is not UTF-8, and a bad close payload */
    const uint8_t bad_utf8[] = {'{', 0xc3, 0x28, '}'};
    expect_close(d, f, wp_frame(f, 0x81, bad_utf8, sizeof bad_utf8, 1), 1007, "invalid UTF-8");
    const uint8_t surrogate[] = {'"', 0xed, 0xa0, 0x80, '"'};
    expect_close(d, f, wp_frame(f, 0x81, surrogate, sizeof surrogate, 1), 1007, "surrogate");
    const uint8_t bad_code[] = {0x03, 0xe7}; /* 999 */
    expect_close(d, f, wp_frame(f, 0x88, bad_code, 2, 1), 1002, "close code 999");
    expect_close(d, f, wp_frame(f, 0x88, "x", 1, 1), 0, "close payload of 1 byte");
    /* binary messages are not JSON-RPC */
    expect_close(d, f, wp_frame(f, 0x82, ok, strlen(ok), 1), 1003, "binary");
    /* garbage */
    expect_close(d, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, 0, "HTTP after upgrade");
    rpc_dispatch_free(d);
}

static void test_slow_consumer(void **state)
{
    rpc_dispatch *d = table();
    rpc_http_cfg cfg = {.ws_send_limit = 256 * 1024};
    wspipe *p = wp_open(d, &cfg, 0);
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"remember\",\"id\":1}");
    /* the client stops reading: everything the server writes stays queued */
    p->hold = 1;
    flood(last_session, 10000, 1000);
    print_message("queued %d notifications of 1000 bytes before the limit\n", flood_ok);
    assert_int_equal(flood_limit, 1);
    assert_true(flood_ok > 0 && flood_ok < 300); /* bounded by the 256 KiB limit */
    assert_int_equal(p->counters.ws_slow_consumers, 1);
    /* what is still buffered for this client is bounded too */
    assert_true(p->held < 256 * 1024 + 2048);
    /* the session refuses anything more and wants to be closed */
    assert_int_equal(rpc_session_send(last_session, "{}", 2), UTIL_ESTATE);
    assert_false(ws_session_reading(p->srv));
    /* once the client reads again, it sees what was sent, then the close
     * with its reason */
    wp_release(p);
    assert_true(p->closed);
    assert_int_equal(p->close_code, RPC_WS_CLOSE_SLOW);
    assert_string_equal(p->close_reason, "send buffer limit exceeded");
    assert_true(json_array_size(p->msgs) >= 2);
    assert_true(ws_session_finished(p->srv));
    wp_close(p);
    rpc_dispatch_free(d);
}

static void test_backpressure(void **state)
{
    rpc_dispatch *d = table();
    rpc_http_cfg cfg = {.ws_send_limit = 64u << 20};
    wspipe *p = wp_open(d, &cfg, 0);
    p->hold = 1;
    /* 200 requests of 10 kB answers sent at once, answers not read */
    const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"big\",\"params\":[10000],\"id\":1}";
    uint8_t f[128];
    size_t fl = wp_frame(f, 0x81, req, strlen(req), 1);
    util_buf all;
    util_buf_init(&all);
    for (int i = 0; i < 200; i++)
        util_buf_put(&all, f, fl);
    big_calls = 0;
    wp_send_raw(p, all.data, all.len);
    util_buf_free(&all);
    print_message("%d of 200 requests ran before the session stopped reading\n", big_calls);
    assert_true(big_calls < 200);
    assert_false(ws_session_reading(p->srv));
    /* as the client reads, the rest runs; every answer arrives, in order */
    wp_release(p);
    assert_int_equal(big_calls, 200);
    assert_int_equal(json_array_size(p->msgs), 200);
    assert_true(ws_session_reading(p->srv));
    assert_int_equal(p->counters.ws_slow_consumers, 0);
    wp_close(p);

    /* small requests that wslay read ahead in one go still run after the
     * pause, without the client sending anything more */
    p = wp_open(d, &cfg, 0);
    p->hold = 1;
    req = "{\"jsonrpc\":\"2.0\",\"method\":\"big\",\"params\":[100000],\"id\":1}";
    fl = wp_frame(f, 0x81, req, strlen(req), 1);
    util_buf_init(&all);
    for (int i = 0; i < 10; i++)
        util_buf_put(&all, f, fl);
    big_calls = 0;
    wp_send_raw(p, all.data, all.len);
    util_buf_free(&all);
    assert_true(big_calls < 10);
    wp_release(p);
    assert_int_equal(big_calls, 10);
    assert_int_equal(json_array_size(p->msgs), 10);
    wp_close(p);
    rpc_dispatch_free(d);
}

static void test_rate_limit(void **state)
{
    rpc_dispatch *d = table();
    rpc_http_cfg cfg = {.rate_limit = 5};
    wspipe *p = wp_open(d, &cfg, 0);
    for (int i = 0; i < 20; i++)
        wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1],\"id\":1}");
    int limited = 0;
    for (size_t i = 0; i < json_array_size(p->msgs); i++) {
        json_t *err = json_object_get(wp_msg(p, i), "error");
        if (err) {
            assert_int_equal(json_integer_value(json_object_get(err, "code")), RPC_RATE_LIMITED);
            limited++;
        }
    }
    print_message("%d of 20 refused\n", limited);
    assert_true(limited >= 10); /* a burst of 5 (+1) passes within the test's time */
    assert_int_equal(p->counters.rate_limited, (uint64_t)limited);
    /* a batch counts its entries, charged before it runs: 6 do not fit a
     * burst of 5 and are refused whole; 5 do, and then nothing more */
    const char *e = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1}";
    char six[512], five[512];
    snprintf(six, sizeof six, "[%s,%s,%s,%s,%s,%s]", e, e, e, e, e, e);
    snprintf(five, sizeof five, "[%s,%s,%s,%s,%s]", e, e, e, e, e);
    wspipe *q = wp_open(d, &cfg, 0);
    wp_send(q, six);
    json_t *err = json_object_get(wp_msg(q, 0), "error");
    assert_int_equal(json_integer_value(json_object_get(err, "code")), RPC_RATE_LIMITED);
    wp_send(q, five);
    assert_int_equal(json_array_size(wp_msg(q, 1)), 5);
    wp_send(q, e);
    assert_non_null(json_object_get(wp_msg(q, 2), "error"));
    wp_close(q);
    wp_close(p);
    rpc_dispatch_free(d);
}

/* A reply past the cap (max_reply, or the send limit when lower) is a
 * -32005 error with its id, and the session stays open. */
static void test_reply_cap(void **state)
{
    rpc_dispatch *d = table();
    rpc_http_cfg cfg = {.max_reply = 1 << 20, .ws_send_limit = 65536};
    wspipe *p = wp_open(d, &cfg, 0);
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"big\",\"params\":[100000],\"id\":4}");
    json_t *err = json_object_get(wp_msg(p, 0), "error");
    assert_int_equal(json_integer_value(json_object_get(err, "code")), RPC_REPLY_TOO_LARGE);
    assert_int_equal(json_integer_value(json_object_get(wp_msg(p, 0), "id")), 4);
    assert_false(p->closed);
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"big\",\"params\":[1000],\"id\":5}");
    assert_non_null(json_object_get(wp_msg(p, 1), "result"));
    wp_close(p);
    rpc_dispatch_free(d);
}

static void test_ping_and_idle(void **state)
{
    rpc_dispatch *d = table();
    wspipe *p = wp_open(d, NULL, 1);
    uint64_t iv = 1000000; /* 1 ms "interval" */
    uint64_t now = util_mono_ns();
    ws_session_tick(p->srv, now, iv); /* a ping, answered by the client */
    wp_pump(p);
    assert_false(ws_session_finished(p->srv));
    /* admin rights of the session apply */
    wp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"admin_x\",\"id\":1}");
    assert_true(json_is_true(json_object_get(wp_msg(p, 0), "result")));
    /* nothing received for more than three intervals: closed as idle */
    ws_session_tick(p->srv, util_mono_ns() + 10 * iv, iv);
    wp_pump(p);
    assert_true(p->closed);
    assert_int_equal(p->close_code, 1001);
    assert_string_equal(p->close_reason, "idle timeout");
    /* detaching tells the owner once; sends are refused after */
    ws_session_detach(p->srv);
    ws_session_detach(p->srv);
    assert_int_equal(p->session_closed_calls, 1);
    assert_int_equal(rpc_session_send(p->srv, "{}", 2), UTIL_ESTATE);
    assert_int_equal(p->counters.ws_sessions, 0);
    wp_close(p);
    rpc_dispatch_free(d);
}

/* --- the handshake, through the HTTP state machine ---------------------- */

static char *run_http(rpc_dispatch *d, const rpc_http_cfg *cfg, const char *req, int *closed)
{
    char *out;
    size_t n;
    assert_int_equal(rpc_http_process_bytes(cfg, d, NULL, NULL, (const uint8_t *)req, strlen(req),
                                            &out, &n, closed),
                     0);
    return out;
}

#define WS_REQ(extra)                                                                              \
    "GET /ws HTTP/1.1\r\nHost: n\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"                 \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" extra "\r\n"

static void test_handshake(void **state)
{
    rpc_dispatch *d = table();
    rpc_http_cfg cfg = {0};
    int closed;
    /* RFC 6455 1.3's example key and answer */
    char *out = run_http(d, &cfg, WS_REQ("Sec-WebSocket-Version: 13\r\n"), &closed);
    assert_non_null(strstr(out, "HTTP/1.1 101 Switching Protocols\r\n"));
    assert_non_null(strstr(out, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert_false(closed);
    free(out);
    /* refusals */
    static const struct {
        const char *req;
        const char *status;
        int closes;
    } bad[] = {
        {WS_REQ(""), "426", 1},                             /* no version */
        {WS_REQ("Sec-WebSocket-Version: 8\r\n"), "426", 1}, /* old version */
        {WS_REQ("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n"), "426", 1},
        {"GET /ws HTTP/1.1\r\nHost: n\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
         "400", 1},
        {"GET /ws HTTP/1.1\r\nHost: n\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n",
         "400", 1},                                        /* no key */
        {"GET /ws HTTP/1.1\r\nHost: n\r\n\r\n", "426", 0}, /* plain GET */
        {"GET /ws HTTP/1.1\r\nHost: n\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", "426", 1},
        {"POST /ws HTTP/1.1\r\nHost: n\r\nContent-Length: 0\r\n\r\n", "404", 0},
        {"GET /ws HTTP/1.0\r\nHost: n\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
         "426", 1},
        /* browsers send Origin: refused without CORS */
        {WS_REQ("Sec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n"), "403", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out = run_http(d, &cfg, bad[i].req, &closed);
        char want[32];
        snprintf(want, sizeof want, "HTTP/1.1 %s ", bad[i].status);
        if (strncmp(out, want, strlen(want)) != 0) fail_msg("case %zu: got %.40s", i, out);
        assert_int_equal(closed, bad[i].closes);
        free(out);
    }
    /* the node's own page (Origin = this Host) may connect without CORS;
     * a look-alike origin may not */
    out = run_http(d, &cfg, WS_REQ("Sec-WebSocket-Version: 13\r\nOrigin: http://n\r\n"), &closed);
    assert_non_null(strstr(out, " 101 "));
    free(out);
    out = run_http(d, &cfg, WS_REQ("Sec-WebSocket-Version: 13\r\nOrigin: http://n.evil\r\n"),
                   &closed);
    assert_non_null(strstr(out, " 403 "));
    free(out);
    out = run_http(d, &cfg, WS_REQ("Sec-WebSocket-Version: 13\r\nOrigin: ftp://n\r\n"), &closed);
    assert_non_null(strstr(out, " 403 "));
    free(out);
    /* with CORS, the explorer's origin may connect, another may not */
    cfg.cors_origin = "https://explorer.example";
    out = run_http(d, &cfg,
                   WS_REQ("Sec-WebSocket-Version: 13\r\nOrigin: https://explorer.example\r\n"),
                   &closed);
    assert_non_null(strstr(out, " 101 "));
    free(out);
    out = run_http(d, &cfg, WS_REQ("Sec-WebSocket-Version: 13\r\nOrigin: https://x.example\r\n"),
                   &closed);
    assert_non_null(strstr(out, " 403 "));
    free(out);
    /* disabled */
    cfg = (rpc_http_cfg){.ws_disabled = 1};
    out = run_http(d, &cfg, WS_REQ("Sec-WebSocket-Version: 13\r\n"), &closed);
    assert_non_null(strstr(out, " 404 "));
    assert_true(closed);
    free(out);
    /* frames right behind the handshake are served from the same bytes */
    cfg = (rpc_http_cfg){0};
    uint8_t f[256];
    const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"hi\"],\"id\":1}";
    size_t fl = wp_frame(f, 0x81, req, strlen(req), 1);
    const char *hs = WS_REQ("Sec-WebSocket-Version: 13\r\n");
    uint8_t all[1024];
    memcpy(all, hs, strlen(hs));
    memcpy(all + strlen(hs), f, fl);
    size_t n;
    assert_int_equal(
        rpc_http_process_bytes(&cfg, d, NULL, NULL, all, strlen(hs) + fl, &out, &n, &closed), 0);
    char *body = strstr(out, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    assert_int_equal((uint8_t)body[0], 0x81); /* an unmasked text frame */
    assert_non_null(memmem(body, n - (size_t)(body - out), "\"result\":[\"hi\"]", 15));
    free(out);
    rpc_dispatch_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),      cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_slow_consumer), cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_rate_limit),    cmocka_unit_test(test_ping_and_idle),
        cmocka_unit_test(test_handshake),     cmocka_unit_test(test_reply_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
