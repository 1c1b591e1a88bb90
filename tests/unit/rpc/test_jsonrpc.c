/* JSON-RPC 2.0 dispatch rules and the positional parameter helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/crypto/address.h"
#include "rpc/jsonrpc.h"
#include "rpc/params.h"
#include "util/err.h"

static int notified;
static int hook_calls;
static size_t hook_size;

static json_t *m_echo(void *ctx, json_t *params, rpc_error *e)
{
    (void)ctx;
    (void)e;
    return json_incref(params);
}

static json_t *m_add(void *ctx, json_t *params, rpc_error *e)
{
    uint64_t a, b, s;
    if (rpc_param_count(params, 2, 2, e) || rpc_param_u64(params, 0, "a", &a, e) ||
        rpc_param_u64(params, 1, "b", &b, e))
        return NULL;
    if (__builtin_add_overflow(a, b, &s)) return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "overflow");
    return rpc_json_u64str(s);
}

static json_t *m_fail(void *ctx, json_t *params, rpc_error *e)
{
    return rpc_fail(e, RPC_NOT_FOUND, json_pack("{s:s}", "why", "gone"), "not found: %d", 7);
}

static json_t *m_silent_null(void *ctx, json_t *params, rpc_error *e)
{
    return NULL; /* a buggy method: no result, no error */
}

static json_t *m_error_and_result(void *ctx, json_t *params, rpc_error *e)
{
    rpc_fail(e, RPC_INTERNAL_ERROR, json_string("leak?"), "ignored");
    return json_true();
}

static json_t *m_notify(void *ctx, json_t *params, rpc_error *e)
{
    notified++;
    return json_null();
}

static int end_calls, notified_at_end;

static void batch_hook(void *ctx, const rpc_call *call, json_t *batch)
{
    hook_calls++;
    hook_size = json_array_size(batch);
}

/* After every entry of the batch: each hook call is matched by one end. */
static void batch_end(void *ctx)
{
    end_calls++;
    notified_at_end = notified;
    assert_int_equal(end_calls, hook_calls);
}

static int setup(void **state)
{
    rpc_dispatch *d = rpc_dispatch_new();
    assert_non_null(d);
    assert_int_equal(rpc_dispatch_add(d, "echo", m_echo, NULL), 0);
    assert_int_equal(rpc_dispatch_add(d, "add", m_add, NULL), 0);
    assert_int_equal(rpc_dispatch_add(d, "fail", m_fail, NULL), 0);
    assert_int_equal(rpc_dispatch_add(d, "silent_null", m_silent_null, NULL), 0);
    assert_int_equal(rpc_dispatch_add(d, "error_and_result", m_error_and_result, NULL), 0);
    assert_int_equal(rpc_dispatch_add(d, "notify", m_notify, NULL), 0);
    rpc_dispatch_set_batch_hook(d, batch_hook, batch_end, NULL);
    notified = hook_calls = end_calls = notified_at_end = 0;
    hook_size = 0;
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    rpc_dispatch_free(*state);
    return 0;
}

/* Sends `body`, returns the parsed reply (NULL when there is none). The
 * reply text must always be valid JSON. */
static json_t *call_n(rpc_dispatch *d, const char *body, size_t len)
{
    size_t n = 12345;
    char *out = rpc_dispatch_handle(d, body, len, &n);
    if (!out) {
        assert_int_equal(n, 0);
        return NULL;
    }
    assert_int_equal(strlen(out), n);
    json_error_t jerr;
    json_t *j = json_loadb(out, n, 0, &jerr);
    if (!j) fail_msg("reply is not JSON: %s (%s)", out, jerr.text);
    free(out);
    return j;
}

static json_t *call(rpc_dispatch *d, const char *body)
{
    return call_n(d, body, strlen(body));
}

static char *call_text(rpc_dispatch *d, const char *body)
{
    size_t n;
    return rpc_dispatch_handle(d, body, strlen(body), &n);
}

/* Checks an error reply: code, the id (NULL: null), and returns the message. */
static const char *expect_error(json_t *r, int code, json_t *id)
{
    assert_non_null(r);
    assert_true(json_is_object(r));
    assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
    assert_null(json_object_get(r, "result"));
    json_t *err = json_object_get(r, "error");
    assert_true(json_is_object(err));
    assert_int_equal(json_integer_value(json_object_get(err, "code")), code);
    assert_true(json_is_string(json_object_get(err, "message")));
    json_t *rid = json_object_get(r, "id");
    assert_non_null(rid); /* "id" is always present in a reply */
    if (id)
        assert_true(json_equal(rid, id));
    else
        assert_true(json_is_null(rid));
    return json_string_value(json_object_get(err, "message"));
}

static void expect_error_body(rpc_dispatch *d, const char *body, int code)
{
    json_t *r = call(d, body);
    expect_error(r, code, NULL);
    json_decref(r);
}

static void test_single_call(void **state)
{
    rpc_dispatch *d = *state;
    char *t =
        call_text(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1,\"a\"],\"id\":1}");
    assert_string_equal(t, "{\"jsonrpc\":\"2.0\",\"result\":[1,\"a\"],\"id\":1}");
    free(t);
    /* absent params -> [] */
    t = call_text(d, " {\"id\":\"x\",\"method\":\"echo\",\"jsonrpc\":\"2.0\"} \n");
    assert_string_equal(t, "{\"jsonrpc\":\"2.0\",\"result\":[],\"id\":\"x\"}");
    free(t);
    /* null and fractional ids are echoed */
    json_t *r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":null}");
    assert_true(json_is_null(json_object_get(r, "id")));
    assert_non_null(json_object_get(r, "result"));
    json_decref(r);
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":2.5}");
    assert_true(json_real_value(json_object_get(r, "id")) == 2.5);
    json_decref(r);
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[2,\"40\"],\"id\":-3}");
    assert_string_equal(json_string_value(json_object_get(r, "result")), "42");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), -3);
    json_decref(r);
}

static void test_parse_errors(void **state)
{
    rpc_dispatch *d = *state;
    expect_error_body(d, "", RPC_PARSE_ERROR);
    expect_error_body(d, "{", RPC_PARSE_ERROR);
    expect_error_body(d, "not json", RPC_PARSE_ERROR);
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1} x", RPC_PARSE_ERROR);
    /* invalid UTF-8, raw and as an escaped lone surrogate */
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"ech\xff\",\"id\":1}", RPC_PARSE_ERROR);
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"\xc0\xaf\",\"id\":1}", RPC_PARSE_ERROR);
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"\\ud800\",\"id\":1}", RPC_PARSE_ERROR);
    /* NUL inside a string, duplicate keys, an integer beyond int64 */
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"e\\u0000\",\"id\":1}", RPC_PARSE_ERROR);
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"method\":\"add\",\"id\":1}",
                      RPC_PARSE_ERROR);
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":99999999999999999999}",
                      RPC_PARSE_ERROR);
    /* a raw NUL byte in the body */
    json_t *r = call_n(d, "{\"jsonrpc\":\"2.0\",\0\"method\":\"echo\"}", 33);
    expect_error(r, RPC_PARSE_ERROR, NULL);
    json_decref(r);
    /* a NULL body is an empty one */
    size_t n;
    char *t = rpc_dispatch_handle(d, NULL, 0, &n);
    assert_non_null(t);
    free(t);
}

static char *nested(int depth, int with_strings)
{
    /* params [[[...]]] inside the request object: depth counts the object,
     * the params array and its nested arrays. */
    char *b = malloc((size_t)depth * 8 + 200);
    int n = sprintf(b, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1,\"params\":");
    for (int i = 1; i < depth; i++)
        n += sprintf(b + n, with_strings ? "[\"[{\"," : "[");
    n += sprintf(b + n, "0");
    for (int i = 1; i < depth; i++)
        n += sprintf(b + n, "]");
    sprintf(b + n, "}");
    return b;
}

static void test_depth_limit(void **state)
{
    rpc_dispatch *d = *state;
    char *ok = nested(RPC_MAX_DEPTH, 0);
    json_t *r = call(d, ok);
    assert_non_null(json_object_get(r, "result"));
    json_decref(r);
    free(ok);
    char *deep = nested(RPC_MAX_DEPTH + 1, 0);
    r = call(d, deep);
    const char *msg = expect_error(r, RPC_PARSE_ERROR, NULL);
    assert_non_null(strstr(msg, "nested"));
    json_decref(r);
    free(deep);
    /* brackets inside strings (with escaped quotes around) do not count */
    char *strs = nested(RPC_MAX_DEPTH, 1);
    r = call(d, strs);
    assert_non_null(json_object_get(r, "result"));
    json_decref(r);
    free(strs);
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1,\"params\":[\"\\\"[[[[\"]}");
    assert_non_null(json_object_get(r, "result"));
    json_decref(r);
    /* a very deep body is refused before jansson sees it */
    char *huge = malloc(200001);
    memset(huge, '[', 200000);
    huge[200000] = 0;
    expect_error_body(d, huge, RPC_PARSE_ERROR);
    free(huge);
}

static void test_invalid_request(void **state)
{
    rpc_dispatch *d = *state;
    expect_error_body(d, "1", RPC_INVALID_REQUEST);
    expect_error_body(d, "null", RPC_INVALID_REQUEST);
    expect_error_body(d, "\"echo\"", RPC_INVALID_REQUEST);
    expect_error_body(d, "{}", RPC_INVALID_REQUEST);
    /* bad id types: reported with id null */
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":{}}",
                      RPC_INVALID_REQUEST);
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":[1]}",
                      RPC_INVALID_REQUEST);
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":true}",
                      RPC_INVALID_REQUEST);

    /* with a usable id, the id is echoed */
    json_t *id = json_integer(5);
    const char *bad[] = {
        "{\"method\":\"echo\",\"id\":5}",
        "{\"jsonrpc\":\"1.0\",\"method\":\"echo\",\"id\":5}",
        "{\"jsonrpc\":2.0,\"method\":\"echo\",\"id\":5}",
        "{\"jsonrpc\":\"2.0 \",\"method\":\"echo\",\"id\":5}",
        "{\"jsonrpc\":\"2.0\",\"id\":5}",
        "{\"jsonrpc\":\"2.0\",\"method\":1,\"id\":5}",
        "{\"jsonrpc\":\"2.0\",\"method\":null,\"id\":5}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":\"bar\",\"id\":5}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":3,\"id\":5}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":null,\"id\":5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *r = call(d, bad[i]);
        expect_error(r, RPC_INVALID_REQUEST, id);
        assert_null(json_object_get(json_object_get(r, "error"), "data"));
        json_decref(r);
    }
    json_decref(id);
    /* an invalid request gets an error even without an id */
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":1,\"params\":\"bar\"}",
                      RPC_INVALID_REQUEST);
    assert_int_equal(notified, 0);
}

static void test_method_errors(void **state)
{
    rpc_dispatch *d = *state;
    json_t *id = json_string("q");
    json_t *r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":\"q\"}");
    const char *msg = expect_error(r, RPC_METHOD_NOT_FOUND, id);
    assert_non_null(strstr(msg, "nope"));
    json_decref(r);

    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"a\":1},\"id\":\"q\"}");
    msg = expect_error(r, RPC_INVALID_PARAMS, id);
    assert_string_equal(msg, "params must be a positional array");
    json_decref(r);

    /* wrong parameter types, through the helpers */
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1],\"id\":\"q\"}");
    msg = expect_error(r, RPC_INVALID_PARAMS, id);
    assert_string_equal(msg, "expected 2 params, got 1");
    json_decref(r);
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,-2],\"id\":\"q\"}");
    msg = expect_error(r, RPC_INVALID_PARAMS, id);
    assert_non_null(strstr(msg, "param 1 (b)"));
    assert_non_null(strstr(msg, "negative"));
    json_decref(r);
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1.5,2],\"id\":\"q\"}");
    msg = expect_error(r, RPC_INVALID_PARAMS, id);
    assert_non_null(strstr(msg, "param 0 (a)"));
    json_decref(r);

    /* error data only when set */
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"fail\",\"id\":\"q\"}");
    msg = expect_error(r, RPC_NOT_FOUND, id);
    assert_string_equal(msg, "not found: 7");
    json_t *data = json_object_get(json_object_get(r, "error"), "data");
    assert_string_equal(json_string_value(json_object_get(data, "why")), "gone");
    json_decref(r);
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":\"q\"}");
    assert_null(json_object_get(json_object_get(r, "error"), "data"));
    json_decref(r);

    /* a method that returns nothing and says nothing is an internal error */
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"silent_null\",\"id\":\"q\"}");
    expect_error(r, RPC_INTERNAL_ERROR, id);
    json_decref(r);
    /* a result wins over a filled error (whose data is released) */
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"error_and_result\",\"id\":\"q\"}");
    assert_true(json_is_true(json_object_get(r, "result")));
    assert_null(json_object_get(r, "error"));
    json_decref(r);
    json_decref(id);
}

static void test_error_message_utf8(void **state)
{
    rpc_dispatch *d = *state;
    /* The echoed method name is cut at 64 bytes, here in the middle of a
     * two-byte character; the reply must still be valid JSON. */
    char body[400];
    char name[200] = "a";
    for (int i = 0; i < 40; i++)
        strcat(name, "\xc3\xa9");
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"id\":1}", name);
    json_t *r = call(d, body);
    json_t *id = json_integer(1);
    const char *msg = expect_error(r, RPC_METHOD_NOT_FOUND, id);
    assert_non_null(strstr(msg, "method not found: a\xc3\xa9"));
    json_decref(id);
    json_decref(r);
}

static void test_notifications(void **state)
{
    rpc_dispatch *d = *state;
    size_t n = 99;
    assert_null(rpc_dispatch_handle(d, "{\"jsonrpc\":\"2.0\",\"method\":\"notify\"}", 35, &n));
    assert_int_equal(n, 0);
    assert_int_equal(notified, 1);
    /* errors of well-formed notifications are not reported */
    assert_null(call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}"));
    assert_null(call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"fail\"}"));
    assert_null(call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"notify\",\"params\":{\"a\":1}}"));
    assert_null(call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[\"x\"]}"));
    assert_int_equal(notified, 1);
    /* "id": null is a request, not a notification */
    json_t *r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"notify\",\"id\":null}");
    assert_non_null(r);
    assert_int_equal(notified, 2);
    json_decref(r);
}

static void test_batches(void **state)
{
    rpc_dispatch *d = *state;
    /* empty batch: one error object, not an array */
    json_t *r = call(d, "[]");
    expect_error(r, RPC_INVALID_REQUEST, NULL);
    json_decref(r);
    assert_int_equal(hook_calls, 0);
    assert_int_equal(end_calls, 0);

    /* invalid entries get their own error with id null */
    r = call(d, "[1,2,3]");
    assert_true(json_is_array(r));
    assert_int_equal(json_array_size(r), 3);
    for (size_t i = 0; i < 3; i++)
        expect_error(json_array_get(r, i), RPC_INVALID_REQUEST, NULL);
    json_decref(r);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(hook_size, 3);

    /* mixed: answers in order, notifications skipped */
    r = call(d, "[{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":\"1\"},"
                "{\"jsonrpc\":\"2.0\",\"method\":\"notify\"},"
                "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":\"2\"},"
                "{\"foo\":\"boo\"},"
                "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[7],\"id\":\"3\"},"
                "[]]");
    assert_int_equal(json_array_size(r), 5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "result")), "3");
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "id")), "1");
    json_t *id2 = json_string("2");
    expect_error(json_array_get(r, 1), RPC_METHOD_NOT_FOUND, id2);
    json_decref(id2);
    expect_error(json_array_get(r, 2), RPC_INVALID_REQUEST, NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 3), "id")), "3");
    expect_error(json_array_get(r, 4), RPC_INVALID_REQUEST, NULL);
    json_decref(r);
    assert_int_equal(notified, 1);
    assert_int_equal(hook_calls, 2);
    assert_int_equal(end_calls, 2);
    assert_int_equal(notified_at_end, 1); /* the end came after the notification entry */

    /* only notifications: nothing at all */
    assert_null(call(d, "[{\"jsonrpc\":\"2.0\",\"method\":\"notify\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}]"));
    assert_int_equal(notified, 2);

    /* a batch inside a batch is one invalid entry */
    r = call(d, "[[{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1}]]");
    assert_int_equal(json_array_size(r), 1);
    expect_error(json_array_get(r, 0), RPC_INVALID_REQUEST, NULL);
    json_decref(r);
}

static char *make_batch(size_t n)
{
    const char *one = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1},";
    char *b = malloc(n * strlen(one) + 3);
    size_t k = 0;
    b[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        memcpy(b + k, one, strlen(one));
        k += strlen(one);
    }
    b[k - 1] = ']';
    b[k] = 0;
    return b;
}

static void test_batch_limit(void **state)
{
    rpc_dispatch *d = *state;
    char *b = make_batch(RPC_MAX_BATCH);
    json_t *r = call(d, b);
    assert_int_equal(json_array_size(r), RPC_MAX_BATCH);
    json_decref(r);
    free(b);
    assert_int_equal(hook_size, RPC_MAX_BATCH);
    b = make_batch(RPC_MAX_BATCH + 1);
    r = call(d, b);
    const char *msg = expect_error(r, RPC_INVALID_REQUEST, NULL);
    assert_non_null(strstr(msg, "batch too large"));
    json_decref(r);
    free(b);
    assert_int_equal(hook_calls, 1);
}

static void test_registry(void **state)
{
    rpc_dispatch *d = *state;
    assert_int_equal(rpc_dispatch_add(d, "echo", m_echo, NULL), UTIL_EEXIST);
    assert_int_equal(rpc_dispatch_add(d, "", m_echo, NULL), UTIL_EINVAL);
    assert_int_equal(rpc_dispatch_add(d, "x", NULL, NULL), UTIL_EINVAL);
    assert_int_equal(rpc_dispatch_count(d), 6);
    assert_string_equal(rpc_dispatch_name(d, 0), "echo");
    assert_string_equal(rpc_dispatch_name(d, 5), "notify");
    assert_null(rpc_dispatch_name(d, 6));
    /* grows past its first allocation */
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "m%d", i);
        assert_int_equal(rpc_dispatch_add(d, name, m_echo, NULL), 0);
    }
    assert_int_equal(rpc_dispatch_count(d), 106);
    json_t *r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"m99\",\"params\":[9],\"id\":1}");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(r, "result"), 0)), 9);
    json_decref(r);

    rpc_error e;
    json_t *res = rpc_dispatch_call(d, "echo", NULL, &e);
    assert_int_equal(json_array_size(res), 0);
    json_decref(res);
    json_t *obj = json_object();
    assert_null(rpc_dispatch_call(d, "echo", obj, &e));
    assert_int_equal(e.code, RPC_INVALID_PARAMS);
    json_decref(obj);
    assert_null(rpc_dispatch_call(d, "nope", NULL, &e));
    assert_int_equal(e.code, RPC_METHOD_NOT_FOUND);
    assert_null(rpc_dispatch_call(d, "fail", NULL, &e));
    assert_non_null(e.data);
    rpc_error_clear(&e);
    assert_null(e.data);
}

/* --- call context: admin and session flags, observer, specs --- */

static json_t *m_whoami(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    return json_pack("{s:b,s:b}", "admin", call->admin, "session", call->session != NULL);
}

static size_t obs_calls, obs_last_method, obs_errors;
static void observer(void *ctx, size_t method, uint64_t ns, int code)
{
    obs_calls++;
    obs_last_method = method;
    if (code) obs_errors++;
}

static const rpc_method_spec spec = {"who", "[]", "{\"name\":\"r\",\"schema\":{}}"};

static void test_call_context(void **state)
{
    rpc_dispatch *d = *state;
    assert_int_equal(rpc_dispatch_add_ex(d, "whoami", m_whoami, NULL, 0), 0);
    assert_int_equal(rpc_dispatch_add_ex(d, "admin_x", m_whoami, NULL, RPC_METHOD_ADMIN), 0);
    assert_int_equal(rpc_dispatch_add_ex(d, "sub_x", m_whoami, NULL, RPC_METHOD_SESSION), 0);
    assert_int_equal(rpc_dispatch_add_ex(d, "whoami", m_whoami, NULL, 0), UTIL_EEXIST);
    assert_int_equal(rpc_dispatch_add_ex(d, "y", NULL, NULL, 0), UTIL_EINVAL);
    assert_int_equal(rpc_dispatch_flags(d, 7), RPC_METHOD_ADMIN);
    assert_int_equal(rpc_dispatch_flags(d, 99), 0);
    assert_null(rpc_dispatch_spec(d, 6));
    assert_int_equal(rpc_dispatch_describe(d, "whoami", &spec), 0);
    assert_ptr_equal(rpc_dispatch_spec(d, 6), &spec);
    assert_int_equal(rpc_dispatch_describe(d, "nope", &spec), UTIL_ENOTFOUND);

    /* rpc_dispatch_handle: no admin, no session */
    json_t *one_id = json_integer(1);
    json_t *r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"admin_x\",\"id\":1}");
    assert_non_null(strstr(expect_error(r, RPC_UNAUTHORIZED, one_id), "admin"));
    json_decref(r);
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"sub_x\",\"id\":1}");
    assert_non_null(strstr(expect_error(r, RPC_METHOD_NOT_FOUND, one_id), "WebSocket"));
    json_decref(r);
    json_decref(one_id);

    /* with a call context */
    const char *b = "[{\"jsonrpc\":\"2.0\",\"method\":\"admin_x\",\"id\":1},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"sub_x\",\"id\":2},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"whoami\"}]";
    rpc_call c = {.admin = 1, .session = (rpc_session *)&c};
    size_t n;
    char *out = rpc_dispatch_handle_call(d, b, strlen(b), &n, &c);
    assert_int_equal(c.ncalls, 3); /* the notification counts too */
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    assert_int_equal(json_array_size(j), 2);
    assert_true(
        json_is_true(json_object_get(json_object_get(json_array_get(j, 0), "result"), "admin")));
    assert_true(
        json_is_true(json_object_get(json_object_get(json_array_get(j, 1), "result"), "session")));
    json_decref(j);
    const char *one = "{\"jsonrpc\":\"2.0\",\"method\":\"whoami\",\"id\":1}";
    out = rpc_dispatch_handle_call(d, one, strlen(one), &n, &c);
    assert_int_equal(c.ncalls, 1);
    free(out);
    /* a parse error counts as one request */
    out = rpc_dispatch_handle_call(d, "[", 1, &n, &c);
    assert_int_equal(c.ncalls, 1);
    free(out);

    /* in-process calls are trusted */
    rpc_error e;
    json_t *res = rpc_dispatch_call(d, "admin_x", NULL, &e);
    assert_true(json_is_true(json_object_get(res, "admin")));
    json_decref(res);
    assert_null(rpc_dispatch_call_ex(d, NULL, "admin_x", NULL, &e));
    assert_int_equal(e.code, RPC_UNAUTHORIZED);
    rpc_error_clear(&e);

    /* the observer sees every call, unknown methods as SIZE_MAX */
    rpc_dispatch_set_observer(d, observer, NULL);
    obs_calls = obs_errors = 0;
    r = call(d, "[{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1},"
                "{\"jsonrpc\":\"2.0\",\"method\":\"fail\",\"id\":2},"
                "{\"jsonrpc\":\"2.0\",\"method\":\"zzz\",\"id\":3}]");
    json_decref(r);
    assert_int_equal(obs_calls, 3);
    assert_int_equal(obs_errors, 2);
    assert_int_equal(obs_last_method, SIZE_MAX);
    r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"id\":1,\"params\":[1,2]}");
    json_decref(r);
    assert_int_equal(obs_last_method, 1);
    /* invalid requests never reach a method */
    r = call(d, "{\"jsonrpc\":\"1.0\",\"method\":\"add\",\"id\":1}");
    json_decref(r);
    assert_int_equal(obs_calls, 4);
    rpc_dispatch_set_observer(d, NULL, NULL);
}

/* Wrong param types and numbers out of range, through the whole request path. */
static void test_bad_param_values(void **state)
{
    rpc_dispatch *d = *state;
    static const char *const bad[] = {
        "[\"1\", {}]",   "[[1], 2]",    "[true, 1]",
        "[-1, 1]",       "[1.5, 1]",    "[1e3, 1]",
        "[\"-1\", 1]",   "[\"\", 1]",   "[\"18446744073709551616\", 1]",
        "[\"0x10\", 1]", "[null, 1]",   "[1]",
        "[1, 2, 3]",     "[\" 1\", 1]", "[\"1 \", 1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[200];
        snprintf(body, sizeof body,
                 "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":%s,\"id\":1}", bad[i]);
        json_t *r = call(d, body);
        json_t *id = json_integer(1);
        const char *msg = expect_error(r, RPC_INVALID_PARAMS, id);
        if (!strstr(msg, "param") && !strstr(msg, "expected")) fail_msg("message: %s", msg);
        json_decref(id);
        json_decref(r);
    }
    /* integers beyond the signed 64-bit range are a parse error, as are
     * numbers too large for a double */
    expect_error_body(
        d, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[9223372036854775808,1],\"id\":1}",
        RPC_PARSE_ERROR);
    expect_error_body(d, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1e400,1],\"id\":1}",
                      RPC_PARSE_ERROR);
    /* the sum overflowing u64 is the method's own error */
    json_t *r = call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":["
                        "\"18446744073709551615\",1],\"id\":1}");
    json_t *id = json_integer(1);
    expect_error(r, RPC_INVALID_PARAMS, id);
    json_decref(id);
    json_decref(r);
}

/* --- params helpers --- */

static json_t *P(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j) fail_msg("bad test JSON %s: %s", text, jerr.text);
    return j;
}

static void test_param_u64(void **state)
{
    json_t *p = P("[0, 5, \"18446744073709551615\", 9223372036854775807, \"007\"]");
    rpc_error e = {0};
    uint64_t v;
    assert_int_equal(rpc_param_u64(p, 0, "a", &v, &e), 0);
    assert_true(v == 0);
    assert_int_equal(rpc_param_u64(p, 1, "a", &v, &e), 0);
    assert_true(v == 5);
    assert_int_equal(rpc_param_u64(p, 2, "a", &v, &e), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(rpc_param_u64(p, 3, "a", &v, &e), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(rpc_param_u64(p, 4, "a", &v, &e), 0);
    assert_true(v == 7);
    assert_int_equal(rpc_param_u64(p, 5, "height", &v, &e), -1);
    assert_int_equal(e.code, RPC_INVALID_PARAMS);
    assert_string_equal(e.message, "param 5 (height): missing");
    json_decref(p);

    const char *bad[] = {"[-1]",
                         "[1.5]",
                         "[1e3]",
                         "[\"18446744073709551616\"]",
                         "[\"-1\"]",
                         "[\"\"]",
                         "[\" 1\"]",
                         "[\"+1\"]",
                         "[\"0x10\"]",
                         "[\"1.0\"]",
                         "[true]",
                         "[null]",
                         "[[1]]",
                         "[\"99999999999999999999999\"]",
                         "[-9223372036854775808]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = P(bad[i]);
        memset(&e, 0, sizeof e);
        v = 77;
        if (rpc_param_u64(p, 0, "amount", &v, &e) != -1) fail_msg("accepted %s", bad[i]);
        assert_int_equal(e.code, RPC_INVALID_PARAMS);
        assert_non_null(strstr(e.message, "param 0 (amount)"));
        json_decref(p);
    }
    /* an embedded NUL cannot hide trailing characters */
    p = json_pack("[s#]",
                  "12\0"
                  "3",
                  (int)4);
    assert_int_equal(rpc_param_u64(p, 0, "a", &v, &e), -1);
    json_decref(p);
}

static void test_param_count_str_bool(void **state)
{
    rpc_error e = {0};
    json_t *p = P("[\"abc\", 1, true, null]");
    assert_int_equal(rpc_param_count(p, 1, 4, &e), 0);
    assert_int_equal(rpc_param_count(p, 0, 3, &e), -1);
    assert_string_equal(e.message, "expected 0 to 3 params, got 4");
    assert_int_equal(rpc_param_count(p, 1, 1, &e), -1);
    assert_string_equal(e.message, "expected 1 param, got 4");
    assert_true(rpc_param_present(p, 0));
    assert_false(rpc_param_present(p, 3));
    assert_false(rpc_param_present(p, 4));
    const char *s;
    assert_int_equal(rpc_param_str(p, 0, "s", 3, &s, &e), 0);
    assert_string_equal(s, "abc");
    assert_int_equal(rpc_param_str(p, 0, "s", 2, &s, &e), -1);
    assert_non_null(strstr(e.message, "longer than 2"));
    assert_int_equal(rpc_param_str(p, 1, "s", 0, &s, &e), -1);
    int b;
    assert_int_equal(rpc_param_bool(p, 2, "flag", &b, &e), 0);
    assert_true(b);
    assert_int_equal(rpc_param_bool(p, 1, "flag", &b, &e), -1);
    assert_non_null(strstr(e.message, "param 1 (flag)"));
    json_decref(p);
}

static void test_param_hex(void **state)
{
    rpc_error e = {0};
    json_t *p = P("[\"0x\", \"0xABcd\", \"abcd\", \"0xabc\", \"0xzz\", \"0x0102030405\", 5, "
                  "\"0X12\"]");
    uint8_t *out;
    size_t n;
    assert_int_equal(rpc_param_hex(p, 0, "data", 4, &out, &n, &e), 0);
    assert_int_equal(n, 0);
    free(out);
    assert_int_equal(rpc_param_hex(p, 1, "data", 4, &out, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 0xab);
    assert_int_equal(out[1], 0xcd);
    free(out);
    assert_int_equal(rpc_param_hex(p, 2, "data", 4, &out, &n, &e), -1);
    assert_non_null(strstr(e.message, "0x-prefixed"));
    assert_int_equal(rpc_param_hex(p, 3, "data", 4, &out, &n, &e), -1);
    assert_non_null(strstr(e.message, "odd"));
    assert_int_equal(rpc_param_hex(p, 4, "data", 4, &out, &n, &e), -1);
    assert_non_null(strstr(e.message, "invalid hex character at offset 2"));
    assert_int_equal(rpc_param_hex(p, 5, "data", 4, &out, &n, &e), -1);
    assert_non_null(strstr(e.message, "longer than 4 bytes"));
    assert_int_equal(rpc_param_hex(p, 6, "data", 4, &out, &n, &e), -1);
    assert_int_equal(rpc_param_hex(p, 7, "data", 4, &out, &n, &e), -1);
    uint8_t two[2];
    assert_int_equal(rpc_param_hex_exact(p, 1, "x", two, 2, &e), 0);
    assert_int_equal(rpc_param_hex_exact(p, 5, "x", two, 2, &e), -1);
    assert_non_null(strstr(e.message, "expected 2 bytes"));
    json_decref(p);

    char h[70] = "0x";
    for (int i = 0; i < 32; i++)
        sprintf(h + 2 + 2 * i, "%02x", (unsigned)i);
    p = json_pack("[s,s]", h, "0x1234");
    uint8_t hash[32];
    assert_int_equal(rpc_param_hash32(p, 0, "hash", hash, &e), 0);
    assert_int_equal(hash[31], 31);
    assert_int_equal(rpc_param_hash32(p, 1, "hash", hash, &e), -1);
    assert_non_null(strstr(e.message, "param 1 (hash)"));
    json_decref(p);
}

static void test_param_addr(void **state)
{
    chain_addr a, b;
    for (int i = 0; i < CHAIN_ADDR_LEN; i++)
        a.b[i] = (uint8_t)(i * 7 + 1);
    json_t *js = rpc_json_addr(&a);
    const char *s = json_string_value(js);
    assert_int_equal(strlen(s), CHAIN_ADDR_STR_LEN);
    assert_memory_equal(s, "ol1", 3);

    char bad[64];
    strcpy(bad, s);
    bad[10] = bad[10] == 'q' ? 'p' : 'q'; /* breaks the checksum */
    json_t *p = json_pack("[O,s,s,i]", js, bad, "ol1short", 5);
    rpc_error e = {0};
    assert_int_equal(rpc_param_addr(p, 0, "to", &b, &e), 0);
    assert_memory_equal(a.b, b.b, CHAIN_ADDR_LEN);
    assert_int_equal(rpc_param_addr(p, 1, "to", &b, &e), -1);
    assert_int_equal(e.code, RPC_INVALID_PARAMS);
    assert_non_null(strstr(e.message, "param 1 (to): invalid address: "));
    assert_true(strlen(e.message) > strlen("param 1 (to): invalid address: "));
    assert_int_equal(rpc_param_addr(p, 2, "to", &b, &e), -1);
    assert_non_null(strstr(e.message, "invalid address: "));
    assert_int_equal(rpc_param_addr(p, 3, "to", &b, &e), -1);
    assert_non_null(strstr(e.message, "param 3 (to)"));
    json_decref(p);
    json_decref(js);
}

static void test_param_block_ref(void **state)
{
    char h[70] = "0x";
    for (int i = 0; i < 32; i++)
        sprintf(h + 2 + 2 * i, "%02x", (unsigned)(255 - i));
    json_t *p = json_pack("[i,s,s,s,s,s,s,i,f]", 12, "34", "latest", "finalized", h, "0x12",
                          "earliest", -1, 1.5);
    rpc_error e = {0};
    rpc_block_ref r;
    assert_int_equal(rpc_param_block_ref(p, 0, "block", &r, &e), 0);
    assert_int_equal(r.kind, RPC_BLOCK_NUMBER);
    assert_true(r.number == 12);
    assert_int_equal(rpc_param_block_ref(p, 1, "block", &r, &e), 0);
    assert_int_equal(r.kind, RPC_BLOCK_NUMBER);
    assert_true(r.number == 34);
    assert_int_equal(rpc_param_block_ref(p, 2, "block", &r, &e), 0);
    assert_int_equal(r.kind, RPC_BLOCK_LATEST);
    assert_int_equal(rpc_param_block_ref(p, 3, "block", &r, &e), 0);
    assert_int_equal(r.kind, RPC_BLOCK_FINALIZED);
    assert_int_equal(rpc_param_block_ref(p, 4, "block", &r, &e), 0);
    assert_int_equal(r.kind, RPC_BLOCK_HASH);
    assert_int_equal(r.hash[0], 255);
    assert_int_equal(r.hash[31], 224);
    for (size_t i = 5; i < 9; i++) {
        assert_int_equal(rpc_param_block_ref(p, i, "block", &r, &e), -1);
        assert_int_equal(e.code, RPC_INVALID_PARAMS);
        assert_non_null(strstr(e.message, "(block)"));
    }
    json_decref(p);
}

static void test_json_helpers(void **state)
{
    uint8_t b[3] = {0x00, 0xAB, 0xff};
    json_t *j = rpc_json_hex(b, 3);
    assert_string_equal(json_string_value(j), "0x00abff");
    json_decref(j);
    j = rpc_json_hex(NULL, 0);
    assert_string_equal(json_string_value(j), "0x");
    json_decref(j);
    j = rpc_json_u64str(UINT64_MAX);
    assert_string_equal(json_string_value(j), "18446744073709551615");
    json_decref(j);
    j = rpc_json_u64str(0);
    assert_string_equal(json_string_value(j), "0");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_single_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_message_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_param_values, setup, teardown),
        cmocka_unit_test(test_param_u64),
        cmocka_unit_test(test_param_count_str_bool),
        cmocka_unit_test(test_param_hex),
        cmocka_unit_test(test_param_addr),
        cmocka_unit_test(test_param_block_ref),
        cmocka_unit_test(test_json_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
