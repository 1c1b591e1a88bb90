/* chain/codecache: a cached program is the one a fresh vm_verify builds; the
 * cache stays within its byte bound (LRU eviction) and never frees a program
 * a caller still holds; code that does not verify is refused and not cached;
 * the address hint never stands for other bytes; threads share it safely
 * (run under ASan/UBSan, and under TSan by hand). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/state/codecache.h"
#include "vm/host_mem.h"
#include "vm/vm.h"

#define NPROG 10

static uint8_t *g_code[NPROG];
static size_t g_len[NPROG];

/* Program i returns i (distinct code, distinct hash) after i loop rounds. */
static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < NPROG; i++) {
        char src[256];
        snprintf(src, sizeof src,
                 "ldi r1, %d\nloop:\naddi r2, r2, 1\nbne r2, r1, loop\nst64 [r0], r1\n"
                 "ldi r3, 8\nreturn r0, r3\n",
                 i + 1);
        util_err err = {0};
        if (vm_asm_source("t", src, strlen(src), &g_code[i], &g_len[i], &err))
            fail_msg("%s", err.msg);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NPROG; i++)
        free(g_code[i]);
    return 0;
}

static vm_program *fresh(int i)
{
    vm_program *p;
    util_err err = {0};
    assert_int_equal(vm_verify(g_code[i], g_len[i], &p, NULL, &err), 0);
    return p;
}

/* Runs p and checks it returns i + 1. */
static void run_returns(vm_program *p, int i)
{
    uint8_t self[VM_ADDR_LEN] = {1};
    vm_memhost *h = vm_memhost_new(self);
    assert_non_null(h);
    vm_env env = {.height = 1};
    memcpy(env.self, self, VM_ADDR_LEN);
    vm_result res;
    util_err err;
    assert_int_equal(vm_memhost_call(h, p, &env, 100000, &res, &err), 0);
    assert_int_equal(res.status, VM_OK);
    assert_int_equal(res.ret_len, 8);
    assert_int_equal(res.ret[0], i + 1);
    vm_result_free(&res);
    vm_memhost_free(h);
}

static void test_same_as_fresh(void **state)
{
    (void)state;
    chain_code_cache *c = chain_code_cache_new(CHAIN_CODE_CACHE_BYTES);
    assert_non_null(c);
    util_err err = {0};
    for (int i = 0; i < NPROG; i++) {
        vm_program *a, *b, *f = fresh(i);
        assert_int_equal(chain_code_cache_get(c, NULL, g_code[i], g_len[i], &a, &err),
                         0); /* miss */
        assert_int_equal(chain_code_cache_get(c, NULL, g_code[i], g_len[i], &b, &err), 0); /* hit */
        assert_ptr_equal(a, b);
        assert_true(vm_program_equal(a, f));
        assert_true(vm_program_equal(b, f));
        run_returns(b, i);
        vm_program_free(a);
        vm_program_free(b);
        vm_program_free(f);
    }
    /* Different programs are not equal: the comparison can fail. */
    vm_program *p0 = fresh(0), *p1 = fresh(1);
    assert_false(vm_program_equal(p0, p1));
    vm_program_free(p0);
    vm_program_free(p1);
    chain_code_cache_stats s;
    chain_code_cache_get_stats(c, &s);
    assert_int_equal(s.hits, NPROG);
    assert_int_equal(s.misses, NPROG);
    assert_int_equal(s.entries, NPROG);
    assert_int_equal(s.evictions, 0);
    assert_true(s.bytes > 0 && s.bytes <= s.max_bytes);
    chain_code_cache_clear(c);
    chain_code_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.bytes, 0);
    chain_code_cache_free(c);

    /* No cache: a plain verification. */
    vm_program *p;
    assert_int_equal(chain_code_cache_get(NULL, NULL, g_code[3], g_len[3], &p, &err), 0);
    run_returns(p, 3);
    vm_program_free(p);
}

/* Room for 3 programs: the 10 go through it, the bound holds, the least
 * recently used go first, and a program held by a caller outlives its
 * eviction. */
static void test_eviction_bounded(void **state)
{
    (void)state;
    vm_program *f = fresh(0);
    /* All 10 are this size: program, code copy, bookkeeping. */
    size_t one = vm_program_mem(f) + g_len[0] + CHAIN_CODE_CACHE_ENTRY_BYTES;
    vm_program_free(f);
    chain_code_cache *c = chain_code_cache_new(3 * one);
    assert_non_null(c);
    util_err err = {0};
    vm_program *held;
    assert_int_equal(chain_code_cache_get(c, NULL, g_code[0], g_len[0], &held, &err), 0);
    chain_code_cache_stats s;
    for (int i = 1; i < NPROG; i++) {
        vm_program *p;
        assert_int_equal(chain_code_cache_get(c, NULL, g_code[i], g_len[i], &p, &err), 0);
        vm_program_free(p);
        /* Keep program 1 recently used: it must survive. */
        if (i > 1) {
            assert_int_equal(chain_code_cache_get(c, NULL, g_code[1], g_len[1], &p, &err), 0);
            vm_program_free(p);
        }
        chain_code_cache_get_stats(c, &s);
        assert_true(s.bytes <= s.max_bytes);
        assert_true(s.entries <= 3);
    }
    chain_code_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 3);
    assert_int_equal(s.evictions, NPROG - 3);
    assert_int_equal(s.misses, NPROG);
    /* Program 0 was evicted but is still ours to run. */
    run_returns(held, 0);
    vm_program_free(held);
    /* 1 and 9 are cached (hits), 0 is not (a miss). */
    uint64_t h0 = s.hits, m0 = s.misses;
    vm_program *p;
    assert_int_equal(chain_code_cache_get(c, NULL, g_code[1], g_len[1], &p, &err), 0);
    vm_program_free(p);
    assert_int_equal(chain_code_cache_get(c, NULL, g_code[9], g_len[9], &p, &err), 0);
    vm_program_free(p);
    chain_code_cache_get_stats(c, &s);
    assert_int_equal(s.hits, h0 + 2);
    assert_int_equal(chain_code_cache_get(c, NULL, g_code[0], g_len[0], &p, &err), 0);
    run_returns(p, 0);
    vm_program_free(p);
    chain_code_cache_get_stats(c, &s);
    assert_int_equal(s.misses, m0 + 1);
    assert_true(s.bytes <= s.max_bytes);
    chain_code_cache_free(c);

    /* A program larger than the whole cache is returned, not cached. */
    c = chain_code_cache_new(64);
    assert_non_null(c);
    assert_int_equal(chain_code_cache_get(c, NULL, g_code[2], g_len[2], &p, &err), 0);
    run_returns(p, 2);
    vm_program_free(p);
    chain_code_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.bytes, 0);
    chain_code_cache_free(c);
}

/* Code that does not verify is refused with the verifier's reason, and
 * never cached, even next to cached programs. */
static void test_bad_code_refused(void **state)
{
    (void)state;
    chain_code_cache *c = chain_code_cache_new(CHAIN_CODE_CACHE_BYTES);
    assert_non_null(c);
    util_err err = {0};
    vm_program *p;
    assert_int_equal(chain_code_cache_get(c, NULL, g_code[4], g_len[4], &p, &err), 0);
    vm_program_free(p);
    uint8_t *bad = malloc(g_len[4]);
    assert_non_null(bad);
    memcpy(bad, g_code[4], g_len[4]);
    bad[16] = 0xee; /* the first opcode: unknown */
    for (int i = 0; i < 2; i++) {
        p = (vm_program *)1;
        assert_int_equal(chain_code_cache_get(c, NULL, bad, g_len[4], &p, &err), UTIL_EINVAL);
        assert_null(p);
        assert_non_null(strstr(err.msg, "unknown opcode"));
    }
    chain_code_cache_stats s;
    chain_code_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 1);
    assert_int_equal(s.misses, 3);
    free(bad);
    chain_code_cache_free(c);
}

/* The address hint saves hashing only when the bytes are the same: the code
 * at an address that changes (another program, code that does not verify)
 * is never answered with the program last run there. */
static void test_address_hint(void **state)
{
    (void)state;
    chain_code_cache *c = chain_code_cache_new(CHAIN_CODE_CACHE_BYTES);
    assert_non_null(c);
    const uint8_t A[CHAIN_CODE_CACHE_ADDR_LEN] = {0xaa}, B[CHAIN_CODE_CACHE_ADDR_LEN] = {0xbb};
    util_err err = {0};
    vm_program *p, *f0 = fresh(0), *f1 = fresh(1);
    chain_code_cache_stats s;
    assert_int_equal(chain_code_cache_get(c, A, g_code[0], g_len[0], &p, &err), 0);
    assert_true(vm_program_equal(p, f0));
    vm_program_free(p);
    assert_int_equal(chain_code_cache_get(c, A, g_code[0], g_len[0], &p, &err), 0);
    assert_true(vm_program_equal(p, f0));
    vm_program_free(p);
    chain_code_cache_get_stats(c, &s);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses, 1);
    /* Other code at A: its own program. */
    assert_int_equal(chain_code_cache_get(c, A, g_code[1], g_len[1], &p, &err), 0);
    assert_true(vm_program_equal(p, f1));
    assert_false(vm_program_equal(p, f0));
    run_returns(p, 1);
    vm_program_free(p);
    chain_code_cache_get_stats(c, &s);
    assert_int_equal(s.misses, 2);
    /* Program 0 at A again (its hash is cached, the hint is stale), and at B. */
    assert_int_equal(chain_code_cache_get(c, A, g_code[0], g_len[0], &p, &err), 0);
    run_returns(p, 0);
    vm_program_free(p);
    assert_int_equal(chain_code_cache_get(c, B, g_code[0], g_len[0], &p, &err), 0);
    run_returns(p, 0);
    vm_program_free(p);
    /* The same length, one byte off, at an address whose code is cached. */
    uint8_t *bad = malloc(g_len[0]);
    assert_non_null(bad);
    memcpy(bad, g_code[0], g_len[0]);
    bad[16] = 0xee;
    p = (vm_program *)1;
    assert_int_equal(chain_code_cache_get(c, B, bad, g_len[0], &p, &err), UTIL_EINVAL);
    assert_null(p);
    free(bad);
    chain_code_cache_get_stats(c, &s);
    assert_int_equal(s.hits, 3);
    assert_int_equal(s.misses, 3);
    assert_int_equal(s.entries, 2);
    vm_program_free(f0);
    vm_program_free(f1);
    chain_code_cache_free(c);
}

typedef struct worker {
    chain_code_cache *c;
    vm_program *ref[NPROG];
    int seed, failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    unsigned x = (unsigned)w->seed * 2654435761u + 1;
    for (int k = 0; k < 2000; k++) {
        x = x * 1103515245u + 12345u;
        int i = (int)((x >> 16) % NPROG);
        vm_program *p;
        util_err err = {0};
        /* Four addresses over ten programs: hints that match and hints
         * that do not, concurrently. */
        uint8_t where[CHAIN_CODE_CACHE_ADDR_LEN] = {(uint8_t)(x >> 8) & 3};
        if (chain_code_cache_get(w->c, where, g_code[i], g_len[i], &p, &err) ||
            !vm_program_equal(p, w->ref[i]))
            w->failures++;
        else
            vm_program_free(p);
    }
    return NULL;
}

/* Four threads over a cache with room for 4 of the 10 programs: constant
 * eviction under concurrent hits and misses; every program handed out is the
 * right one and the bound holds. */
static void test_threads(void **state)
{
    (void)state;
    vm_program *ref[NPROG];
    for (int i = 0; i < NPROG; i++)
        ref[i] = fresh(i);
    chain_code_cache *c = chain_code_cache_new(
        4 * (vm_program_mem(ref[0]) + g_len[0] + CHAIN_CODE_CACHE_ENTRY_BYTES));
    assert_non_null(c);
    worker ws[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        ws[t] = (worker){.c = c, .seed = t + 1};
        memcpy(ws[t].ref, ref, sizeof ref);
        assert_int_equal(pthread_create(&th[t], NULL, work, &ws[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(ws[t].failures, 0);
    }
    chain_code_cache_stats s;
    chain_code_cache_get_stats(c, &s);
    assert_true(s.hits + s.misses == 4 * 2000);
    assert_true(s.entries <= 4);
    assert_true(s.bytes <= s.max_bytes);
    chain_code_cache_free(c);
    for (int i = 0; i < NPROG; i++)
        vm_program_free(ref[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_fresh),    cmocka_unit_test(test_eviction_bounded),
        cmocka_unit_test(test_bad_code_refused), cmocka_unit_test(test_address_hint),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
