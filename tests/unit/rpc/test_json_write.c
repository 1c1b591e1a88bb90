/* rpc_json_write must produce exactly what json_dumpb(JSON_COMPACT |
 * JSON_ENCODE_ANY) produces: replies are compared byte for byte by clients
 * that cache them, and tests elsewhere read replies written by either. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/json_write.h"

static void expect_same(const json_t *v)
{
    char *ref = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(ref);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(rpc_json_write(&b, v), 0);
    if (b.len != strlen(ref) || memcmp(b.data, ref, b.len) != 0)
        fail_msg("writer: %.*s\njansson: %s", (int)b.len, (const char *)b.data, ref);
    util_buf_free(&b);
    free(ref);
}

static void test_scalars(void **state)
{
    (void)state;
    json_t *v[] = {json_null(),
                   json_true(),
                   json_false(),
                   json_integer(0),
                   json_integer(-1),
                   json_integer(INT64_MAX),
                   json_integer(INT64_MIN),
                   json_real(0.5),
                   json_real(1.0),
                   json_real(-1e300),
                   json_real(0.1),
                   json_string(""),
                   json_string("plain"),
                   json_string("quote \" backslash \\ slash /"),
                   json_string("\b\f\n\r\t\x01\x1f\x7f"),
                   json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                   json_stringn("nul\0inside", 10)};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_non_null(v[i]);
        expect_same(v[i]);
        json_decref(v[i]);
    }
}

static void test_containers(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:[],s:{},s:[i,s,n,{s:b}],s:{s:{s:[[]]}}}", "empty", "obj", "mixed", 1,
                          "two", "deep", 1, "z", "a", "b", "c");
    assert_non_null(v);
    /* Keys in insertion order, not sorted: both writers must agree. */
    json_object_set_new(v, "\x01key\"", json_string("v"));
    json_object_set_new(v, "aaa", json_integer(3));
    expect_same(v);
    json_decref(v);
}

/* Random trees of every type, with strings drawn from bytes that need
 * escaping and multi-byte characters. */
static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static json_t *random_string(void)
{
    static const char *parts[] = {"a",  "Z",        "\"",           "\\",
                                  "/",  "\n",       "\x02",         "\x1e",
                                  " ",  "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                  "0x", "\t"};
    char s[64];
    size_t n = 0, k = next() % 8;
    for (size_t i = 0; i < k; i++) {
        const char *p = parts[next() % (sizeof parts / sizeof parts[0])];
        size_t l = strlen(p);
        memcpy(s + n, p, l);
        n += l;
    }
    return json_stringn(s, n);
}

static json_t *random_value(int depth)
{
    switch (next() % (depth > 4 ? 6 : 8)) {
    case 0: return json_null();
    case 1: return json_boolean(next() & 1);
    case 2: return json_integer((json_int_t)next());
    case 3: return json_real((double)(int64_t)next() / (double)(1 + next() % 1000));
    case 4:
    case 5: return random_string();
    case 6: {
        json_t *a = json_array();
        for (size_t i = next() % 5; i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (size_t i = next() % 5; i > 0; i--) {
            json_t *k = random_string();
            json_object_setn_new(o, json_string_value(k), json_string_length(k),
                                 random_value(depth + 1));
            json_decref(k);
        }
        return o;
    }
    }
}

static void test_random_trees(void **state)
{
    (void)state;
    for (int i = 0; i < 2000; i++) {
        json_t *v = random_value(0);
        assert_non_null(v);
        expect_same(v);
        json_decref(v);
    }
}

static void test_too_deep_and_oom(void **state)
{
    (void)state;
    json_t *root = json_array(), *cur = root;
    for (int i = 0; i < RPC_JSON_WRITE_MAX_DEPTH + 5; i++) {
        json_t *a = json_array();
        json_array_append_new(cur, a);
        cur = a;
    }
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(rpc_json_write(&b, root), -1);
    util_buf_free(&b);
    json_decref(root);

    /* A latched allocation failure is reported, not ignored. */
    util_buf_init(&b);
    b.oom = 1;
    json_t *s = json_string("x");
    assert_int_equal(rpc_json_write(&b, s), -1);
    json_decref(s);
    assert_int_equal(rpc_json_write(&b, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_random_trees),
        cmocka_unit_test(test_too_deep_and_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
