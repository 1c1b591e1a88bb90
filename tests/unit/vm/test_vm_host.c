/* VM host calls on the in-memory host: context values, input, balances and
 * pay, storage, events, the attribution record, the per-call limits, and
 * that every failed call (fault, revert, out of gas, host failure) leaves
 * the host's state as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "vm/host_mem.h"
#include "vm/isa.h"
#include "vm/vm.h"

static const uint8_t SELF[VM_ADDR_LEN] = {0x5e, 0x1f};
static const uint8_t CALLER[VM_ADDR_LEN] = {0xca, 0x11, 0xe7};
static const uint8_t BOB[VM_ADDR_LEN] = {0xb0, 0xb0};

static vm_program *build(const char *src)
{
    uint8_t *code;
    size_t n;
    util_err err = {0};
    if (vm_asm_source("test", src, strlen(src), &code, &n, &err)) fail_msg("%s", err.msg);
    vm_program *p;
    if (vm_verify(code, n, &p, NULL, &err)) fail_msg("%s", err.msg);
    free(code);
    return p;
}

typedef struct world {
    vm_memhost *h;
    vm_env env;
    vm_entry entries[3];
    vm_record rec;
} world;

static void world_init(world *w)
{
    memset(w, 0, sizeof *w);
    w->h = vm_memhost_new(SELF);
    assert_non_null(w->h);
    memcpy(w->env.self, SELF, VM_ADDR_LEN);
    memcpy(w->env.caller, CALLER, VM_ADDR_LEN);
    w->env.value = 42;
    w->env.height = 1234;
    w->env.time_ms = 1700000000123ull;
    assert_int_equal(vm_memhost_set_balance(w->h, SELF, 1000), 0);
    assert_int_equal(vm_memhost_set_balance(w->h, BOB, 5), 0);
    for (int i = 0; i < 3; i++) {
        w->entries[i].contribution = 100 + (uint64_t)i;
        memset(w->entries[i].addr, 0xe0 + i, VM_ADDR_LEN);
        w->entries[i].weight = 10 * (uint64_t)(i + 1);
    }
    w->rec = (vm_record){.id = 9,
                         .model = 3,
                         .fee = 600,
                         .owner_bp = 7000,
                         .validators_bp = 1000,
                         .contributors_bp = 2000,
                         .n_entries = 3,
                         .entries = w->entries};
    memset(w->rec.owner, 0x0a, VM_ADDR_LEN);
    memset(w->rec.validators, 0x0b, VM_ADDR_LEN);
}

static int call(world *w, vm_program *p, uint64_t gas, vm_result *res)
{
    util_err err;
    assert_int_equal(vm_memhost_call(w->h, p, &w->env, gas, res, &err), 0);
    return res->status;
}

static void test_context(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    uint8_t input[5] = {1, 2, 3, 4, 5};
    w.env.input = input;
    w.env.input_len = sizeof input;
    vm_program *p = build("ldi r1, 0\nsys caller\nldi r1, 20\nsys self\n"
                          "sys value\nst64 [r15+40], r0\nsys height\nst64 [r15+48], r0\n"
                          "sys time\nst64 [r15+56], r0\nsys input_size\nst64 [r15+64], r0\n"
                          "ldi r1, 72\nldi r2, 1\nldi r3, 4\nsys input\n"
                          "ldi r1, 20\nsys balance\nst64 [r15+76], r0\n"
                          "sys rec_has\nst64 [r15+84], r0\n"
                          "ldi r1, 0\nldi r2, 92\nreturn r1, r2\n");
    vm_result res;
    assert_int_equal(call(&w, p, 10000, &res), VM_OK);
    assert_int_equal(res.ret_len, 92);
    assert_memory_equal(res.ret, CALLER, 20);
    assert_memory_equal(res.ret + 20, SELF, 20);
    assert_int_equal(util_get_u64le(res.ret + 40), 42);
    assert_int_equal(util_get_u64le(res.ret + 48), 1234);
    assert_true(util_get_u64le(res.ret + 56) == 1700000000123ull);
    assert_int_equal(util_get_u64le(res.ret + 64), 5);
    assert_memory_equal(res.ret + 72, input + 1, 4);
    assert_int_equal(util_get_u64le(res.ret + 76), 1000);
    assert_int_equal(util_get_u64le(res.ret + 84), 0);
    vm_result_free(&res);

    /* Input outside the input, or written outside memory. */
    vm_program *q = build("ldi r1, 0\nldi r2, 2\nldi r3, 4\nsys input\nstop\n");
    assert_int_equal(call(&w, q, 1000, &res), VM_E_HOST);
    assert_non_null(strstr(res.detail, "input"));
    vm_result_free(&res);
    vm_program_free(q);
    q = build("li r1, 65535\nldi r2, 0\nldi r3, 2\nsys input\nstop\n");
    assert_int_equal(call(&w, q, 1000, &res), VM_E_MEMORY);
    vm_result_free(&res);
    vm_program_free(q);
    q = build("ldi r1, -4\nsys caller\nstop\n");
    assert_int_equal(call(&w, q, 1000, &res), VM_E_MEMORY);
    vm_result_free(&res);
    vm_program_free(q);
    vm_program_free(p);
    vm_memhost_free(w.h);
}

static void test_record(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    vm_program *p = build("sys rec_has\nst64 [r15], r0\nsys rec_id\nst64 [r15+8], r0\n"
                          "sys rec_model\nst64 [r15+16], r0\nsys rec_fee\nst64 [r15+24], r0\n"
                          "sys rec_count\nst64 [r15+32], r0\n"
                          "ldi r1, 40\nsys rec_owner\nldi r1, 60\nsys rec_validators\n"
                          "ldi r1, 80\nsys rec_split\n"
                          "ldi r1, 2\nldi r2, 104\nsys rec_entry\nst64 [r15+140], r0\n"
                          "ldi r1, 0\nldi r2, 148\nreturn r1, r2\n");
    vm_result res;
    w.env.record = &w.rec;
    assert_int_equal(call(&w, p, 10000, &res), VM_OK);
    const uint8_t *r = res.ret;
    assert_int_equal(util_get_u64le(r), 1);
    assert_int_equal(util_get_u64le(r + 8), 9);
    assert_int_equal(util_get_u64le(r + 16), 3);
    assert_int_equal(util_get_u64le(r + 24), 600);
    assert_int_equal(util_get_u64le(r + 32), 3);
    assert_memory_equal(r + 40, w.rec.owner, 20);
    assert_memory_equal(r + 60, w.rec.validators, 20);
    assert_int_equal(util_get_u64le(r + 80), 7000);
    assert_int_equal(util_get_u64le(r + 88), 1000);
    assert_int_equal(util_get_u64le(r + 96), 2000);
    assert_int_equal(util_get_u64le(r + 104), 102);
    assert_int_equal(util_get_u64le(r + 112), 30);
    assert_memory_equal(r + 120, w.entries[2].addr, 20);
    assert_int_equal(util_get_u64le(r + 140), 30);
    vm_result_free(&res);

    /* Without a record every record call but rec_has faults. */
    w.env.record = NULL;
    assert_int_equal(call(&w, p, 10000, &res), VM_E_HOST);
    assert_int_equal(res.end_pc, 16 + 2 * 8);
    assert_non_null(strstr(res.detail, "no attribution record"));
    vm_result_free(&res);
    vm_program_free(p);

    /* Entry index out of range. */
    w.env.record = &w.rec;
    p = build("ldi r1, 3\nldi r2, 0\nsys rec_entry\nstop\n");
    assert_int_equal(call(&w, p, 1000, &res), VM_E_HOST);
    vm_result_free(&res);
    vm_program_free(p);
    p = build("ldi r1, 0\nli r2, 65501\nsys rec_entry\nstop\n");
    assert_int_equal(call(&w, p, 1000, &res), VM_E_MEMORY);
    vm_result_free(&res);
    vm_program_free(p);
    vm_memhost_free(w.h);
}

/* Pays `amount` from input to BOB (at address 0 in data). */
static const char *pay_src =
    ".data\nbob: .hex \"b0b0000000000000000000000000000000000000\"\n.code\n"
    "ldi r1, 100\nldi r2, 0\nldi r3, 8\nsys input\nld64 r2, [r15+100]\n"
    "ldi r1, bob\nsys pay\nstop\n";

static void test_pay(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    vm_program *p = build(pay_src);
    uint8_t in[8];
    w.env.input = in;
    w.env.input_len = 8;
    vm_result res;

    util_put_u64le(in, 300);
    assert_int_equal(call(&w, p, 10000, &res), VM_OK);
    assert_int_equal(vm_memhost_balance(w.h, SELF), 700);
    assert_int_equal(vm_memhost_balance(w.h, BOB), 305);
    assert_int_equal(res.n_events, 1);
    assert_int_equal(res.events[0].kind, VM_EVENT_PAY);
    assert_memory_equal(res.events[0].to, BOB, VM_ADDR_LEN);
    assert_int_equal(res.events[0].amount, 300);
    vm_result_free(&res);

    /* A zero pay does nothing and records nothing. */
    util_put_u64le(in, 0);
    assert_int_equal(call(&w, p, 10000, &res), VM_OK);
    assert_int_equal(res.n_events, 0);
    vm_result_free(&res);

    /* More than the contract holds: fault, nothing moved. */
    util_put_u64le(in, 701);
    assert_int_equal(call(&w, p, 10000, &res), VM_E_BALANCE);
    assert_string_equal(vm_status_name(res.status), "pay over balance");
    assert_int_equal(vm_memhost_balance(w.h, SELF), 700);
    assert_int_equal(vm_memhost_balance(w.h, BOB), 305);
    assert_int_equal(res.n_events, 0);
    vm_result_free(&res);
    util_put_u64le(in, UINT64_MAX);
    assert_int_equal(call(&w, p, 10000, &res), VM_E_BALANCE);
    vm_result_free(&res);

    /* Exactly the balance is fine. */
    util_put_u64le(in, 700);
    assert_int_equal(call(&w, p, 10000, &res), VM_OK);
    assert_int_equal(vm_memhost_balance(w.h, SELF), 0);
    vm_result_free(&res);
    vm_program_free(p);
    vm_memhost_free(w.h);
}

static void test_rollback_on_every_failure(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    /* Pay 10 to Bob, write a slot, log, then end as the input says:
     * 0 stop, 1 revert, 2 fault (div by zero), 3 loop until out of gas. */
    vm_program *p = build(".data\nbob: .hex \"b0b0000000000000000000000000000000000000\"\n"
                          "msg: .ascii \"nope\"\n.code\n"
                          "ldi r1, 100\nldi r2, 0\nldi r3, 8\nsys input\n"
                          "ldi r1, bob\nldi r2, 10\nsys pay\n"
                          "ldi r1, 200\nldi r2, 240\nldi r3, 7\nst64 [r2], r3\nsys sstore\n"
                          "ldi r1, 300\nldi r2, 0\nldi r3, 0\nsys emit\n"
                          "ld64 r4, [r15+100]\nbeqz r4, ok\naddi r4, r4, -1\nbeqz r4, rev\n"
                          "addi r4, r4, -1\nbeqz r4, div\nspin:\njmp spin\n"
                          "ok:\nstop\nrev:\nldi r1, msg\nldi r2, 4\nrevert r1, r2\n"
                          "div:\ndivu r1, r1, r0\nstop\n");
    uint8_t in[8];
    w.env.input = in;
    w.env.input_len = 8;
    static const int want[] = {VM_OK, VM_REVERTED, VM_E_DIVZERO, VM_E_GAS};
    for (int mode = 3; mode >= 0; mode--) {
        util_put_u64le(in, (uint64_t)mode);
        vm_result res;
        assert_int_equal(call(&w, p, 50000, &res), want[mode]);
        uint8_t key[32] = {0}, val[32];
        int stored = vm_memhost_sget(w.h, key, val);
        if (mode == 0) {
            assert_int_equal(vm_memhost_balance(w.h, BOB), 15);
            assert_int_equal(stored, 1);
            assert_int_equal(res.n_events, 2);
            assert_int_equal(res.events[1].kind, VM_EVENT_LOG);
        } else {
            assert_int_equal(vm_memhost_balance(w.h, BOB), 5);
            assert_int_equal(vm_memhost_balance(w.h, SELF), 1000);
            assert_int_equal(stored, 0);
            assert_int_equal(vm_memhost_slots(w.h), 0);
            assert_int_equal(res.n_events, 0);
            assert_null(res.events);
        }
        if (mode == 1) {
            assert_int_equal(res.revert_len, 4);
            assert_memory_equal(res.revert, "nope", 4);
        }
        if (mode == 3)
            assert_int_equal(res.gas_used, 50000);
        else
            assert_true(res.gas_used > 2000 && res.gas_used < 50000);
        vm_result_free(&res);
    }

    /* A host failure is not a receipt: vm_call reports it and the host
     * rolls back. */
    vm_memhost_free(w.h);
    for (long k = 0; k < 2; k++) {
        world_init(&w);
        w.env.input = in;
        w.env.input_len = 8;
        vm_memhost *h = w.h;
        vm_memhost_fail_after(h, k);
        util_put_u64le(in, 0);
        vm_result res;
        util_err err = {0};
        assert_int_equal(vm_memhost_call(h, p, &w.env, 50000, &res, &err), UTIL_EIO);
        assert_null(res.events);
        assert_int_equal(vm_memhost_balance(h, BOB), 5);
        assert_int_equal(vm_memhost_slots(h), 0);
        vm_result_free(&res);
        vm_memhost_free(h);
    }
    vm_program_free(p);
}

static void test_storage(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    /* slot[key=input byte] = value from input, then read it and another. */
    vm_program *p = build("ldi r1, 0\nldi r2, 0\nldi r3, 9\nsys input\n"
                          "ld8 r4, [r15]\nst8 [r15+100], r4\nld64 r5, [r15+1]\nst64 [r15+200], r5\n"
                          "ldi r1, 100\nldi r2, 200\nsys sstore\n"
                          "ldi r2, 300\nsys sload\nst64 [r15+400], r0\n"
                          "ldi r1, 500\nldi r2, 600\nsys sload\nst64 [r15+408], r0\n"
                          "ld64 r6, [r15+300]\nst64 [r15+416], r6\n"
                          "ldi r1, 400\nldi r2, 24\nreturn r1, r2\n");
    uint8_t in[9] = {7, 0x11, 0x22};
    w.env.input = in;
    w.env.input_len = 9;
    vm_result res;
    assert_int_equal(call(&w, p, 100000, &res), VM_OK);
    assert_int_equal(util_get_u64le(res.ret), 1);
    assert_int_equal(util_get_u64le(res.ret + 8), 0); /* key 0 is empty */
    assert_int_equal(util_get_u64le(res.ret + 16), 0x2211);
    assert_int_equal(vm_memhost_slots(w.h), 1);
    vm_result_free(&res);
    /* Writing zeros empties the slot. */
    memset(in + 1, 0, 8);
    assert_int_equal(call(&w, p, 100000, &res), VM_OK);
    assert_int_equal(util_get_u64le(res.ret), 0);
    assert_int_equal(vm_memhost_slots(w.h), 0);
    vm_result_free(&res);
    vm_program_free(p);

    vm_memhost_free(w.h);
    /* The write limit: n writes of distinct keys. */
    for (int n = VM_MAX_SSTORES; n <= VM_MAX_SSTORES + 1; n++) {
        world_init(&w);
        char src[512];
        snprintf(src, sizeof src,
                 "ldi r1, 0\nldi r2, 64\nldi r3, 1\nst64 [r2], r3\nldi r4, %d\n"
                 "loop:\naddi r3, r3, 1\nst64 [r1], r3\nsys sstore\naddi r4, r4, -1\n"
                 "bnez r4, loop\nstop\n",
                 n);
        p = build(src);
        assert_int_equal(call(&w, p, 10000000, &res), n <= VM_MAX_SSTORES ? VM_OK : VM_E_STORAGE);
        assert_int_equal(vm_memhost_slots(w.h), n <= VM_MAX_SSTORES ? (size_t)n : 0);
        if (n > VM_MAX_SSTORES)
            assert_string_equal(vm_status_name(res.status), "storage write limit");
        vm_result_free(&res);
        vm_program_free(p);
        vm_memhost_free(w.h);
    }
}

/* sstore: 2,000 static gas plus VM_GAS_SSTORE_BYTE (200) per byte of key +
 * value (64), for a delete too; with one gas too few nothing is written. */
static void test_sstore_gas(void **state)
{
    (void)state;
    assert_int_equal(VM_GAS_SSTORE_BYTE, 200);
    assert_int_equal(VM_SSTORE_BYTES, 64);
    static const char *srcs[2] = {
        "ldi r1, 0\nldi r2, 64\nldi r3, 7\nst64 [r2], r3\nsys sstore\nstop\n",
        "ldi r1, 0\nldi r2, 64\nldi r3, 0\nst64 [r2], r3\nsys sstore\nstop\n", /* delete */
    };
    /* ldi x3 + st64 + sstore + stop, all one block, then 64 x 200 */
    const uint64_t want = 3 + 2 + 2000 + 1 + 12800;
    assert_int_equal(want, 14806);
    for (int i = 0; i < 2; i++) {
        world w;
        world_init(&w);
        vm_program *p = build(srcs[i]);
        vm_result res;
        assert_int_equal(call(&w, p, want, &res), VM_OK);
        assert_int_equal(res.gas_used, want);
        assert_int_equal(vm_memhost_slots(w.h), i == 0 ? 1 : 0);
        vm_result_free(&res);
        vm_memhost_free(w.h);
        world_init(&w);
        assert_int_equal(call(&w, p, want - 1, &res), VM_E_GAS);
        assert_int_equal(res.gas_used, want - 1);
        assert_int_equal(vm_memhost_slots(w.h), 0);
        vm_result_free(&res);
        vm_memhost_free(w.h);
        vm_program_free(p);
    }
}

static void test_events_and_limits(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    vm_result res;
    vm_program *p = build(".data\ntopic: .ascii \"t\"\n.zero 31\nbody: .ascii \"hello\"\n.code\n"
                          "ldi r1, topic\nldi r2, body\nldi r3, 5\nsys emit\n"
                          "ldi r3, 0\nsys emit\nstop\n");
    assert_int_equal(call(&w, p, 10000, &res), VM_OK);
    assert_int_equal(res.n_events, 2);
    assert_int_equal(res.events[0].kind, VM_EVENT_LOG);
    assert_int_equal(res.events[0].topic[0], 't');
    assert_int_equal(res.events[0].data_len, 5);
    assert_memory_equal(res.event_data + res.events[0].data_off, "hello", 5);
    assert_int_equal(res.events[1].data_len, 0);
    assert_int_equal(res.event_data_len, 5);
    /* emit: 100 static + 8 per word of data */
    assert_int_equal(res.gas_used, 3 + 100 + 8 + 1 + 100 + 1);
    vm_result_free(&res);
    vm_program_free(p);

    /* One log of 1024 bytes is fine, 1025 is not. */
    for (int len = VM_MAX_LOG_DATA; len <= VM_MAX_LOG_DATA + 1; len++) {
        char src[256];
        snprintf(src, sizeof src, "ldi r1, 0\nldi r2, 0\nldi r3, %d\nsys emit\nstop\n", len);
        p = build(src);
        assert_int_equal(call(&w, p, 10000, &res), len <= VM_MAX_LOG_DATA ? VM_OK : VM_E_EVENTS);
        vm_result_free(&res);
        vm_program_free(p);
    }
    /* Event count limit: n empty logs. */
    for (int n = VM_MAX_EVENTS; n <= VM_MAX_EVENTS + 1; n++) {
        char src[256];
        snprintf(src, sizeof src,
                 "ldi r1, 0\nldi r2, 0\nldi r3, 0\nli r4, %d\nloop:\nsys emit\naddi r4, r4, -1\n"
                 "bnez r4, loop\nstop\n",
                 n);
        p = build(src);
        assert_int_equal(call(&w, p, 10000000, &res), n <= VM_MAX_EVENTS ? VM_OK : VM_E_EVENTS);
        assert_int_equal(res.n_events, n <= VM_MAX_EVENTS ? (size_t)n : 0);
        vm_result_free(&res);
        vm_program_free(p);
    }
    /* Total log data: 64 logs of 1024 bytes fit, the 65th does not. */
    for (int n = 64; n <= 65; n++) {
        char src[256];
        snprintf(src, sizeof src,
                 "ldi r1, 0\nldi r2, 0\nli r3, 1024\nli r4, %d\nloop:\nsys emit\naddi r4, r4, -1\n"
                 "bnez r4, loop\nstop\n",
                 n);
        p = build(src);
        assert_int_equal(call(&w, p, 10000000, &res), n <= 64 ? VM_OK : VM_E_EVENTS);
        vm_result_free(&res);
        vm_program_free(p);
    }
    /* Pays count as events too. */
    p = build(".data\nbob: .hex \"b0b0000000000000000000000000000000000000\"\n.code\n"
              "ldi r1, 0\nldi r2, 1\nli r4, 4097\nloop:\nsys pay\naddi r4, r4, -1\n"
              "bnez r4, loop\nstop\n");
    assert_int_equal(vm_memhost_set_balance(w.h, SELF, 5000), 0);
    assert_int_equal(call(&w, p, 10000000, &res), VM_E_EVENTS);
    assert_int_equal(vm_memhost_balance(w.h, SELF), 5000);
    vm_result_free(&res);
    vm_program_free(p);
    vm_memhost_free(w.h);
}

static void test_return_and_revert_data(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    vm_result res;
    char src[128];
    for (int len = VM_MAX_RETURN; len <= VM_MAX_RETURN + 1; len++) {
        snprintf(src, sizeof src, "ldi r1, 0\nli r2, %d\nreturn r1, r2\n", len);
        vm_program *p = build(src);
        assert_int_equal(call(&w, p, 10000, &res), len <= VM_MAX_RETURN ? VM_OK : VM_E_RETURN);
        assert_int_equal(res.ret_len, len <= VM_MAX_RETURN ? (size_t)len : 0);
        vm_result_free(&res);
        vm_program_free(p);
    }
    /* Revert messages are cut at VM_MAX_REVERT bytes. */
    vm_program *p = build("ldi r1, 0\nli r2, 1000\nrevert r1, r2\n");
    assert_int_equal(call(&w, p, 10000, &res), VM_REVERTED);
    assert_int_equal(res.revert_len, VM_MAX_REVERT);
    vm_result_free(&res);
    vm_program_free(p);
    /* Return data outside memory. */
    p = build("li r1, 65535\nldi r2, 2\nreturn r1, r2\n");
    assert_int_equal(call(&w, p, 10000, &res), VM_E_MEMORY);
    vm_result_free(&res);
    vm_program_free(p);
    p = build("li r1, 65535\nldi r2, 2\nrevert r1, r2\n");
    assert_int_equal(call(&w, p, 10000, &res), VM_E_MEMORY);
    vm_result_free(&res);
    vm_program_free(p);
    vm_memhost_free(w.h);
}

static void test_status_names(void **state)
{
    (void)state;
    for (int s = 0; s <= VM_STATUS_MAX; s++)
        assert_string_not_equal(vm_status_name(s), "unknown");
    assert_string_equal(vm_status_name(VM_STATUS_MAX + 1), "unknown");
    assert_string_equal(vm_status_name(-1), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_pay),
        cmocka_unit_test(test_rollback_on_every_failure),
        cmocka_unit_test(test_storage),
        cmocka_unit_test(test_sstore_gas),
        cmocka_unit_test(test_events_and_limits),
        cmocka_unit_test(test_return_and_revert_data),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
