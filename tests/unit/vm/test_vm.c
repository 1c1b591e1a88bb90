/* VM verifier (every rejection, with its offset) and interpreter semantics:
 * arithmetic against a reference model in C, division by constants, memory,
 * calls, gas accounting, and the runtime faults. */
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

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- helpers ---- */

typedef struct insn {
    uint8_t op, a, b, c;
    int32_t imm;
} insn;

/* Builds header + instructions + data into out; returns the length. */
static size_t blob(uint8_t *out, uint16_t entry, const insn *ins, size_t n, const void *data,
                   size_t dlen)
{
    memcpy(out, "OLVM", 4);
    out[4] = VM_VERSION;
    out[5] = 0;
    out[6] = (uint8_t)entry;
    out[7] = (uint8_t)(entry >> 8);
    util_put_u32le(out + 8, (uint32_t)(n * 8));
    util_put_u32le(out + 12, (uint32_t)dlen);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = out + 16 + i * 8;
        p[0] = ins[i].op;
        p[1] = ins[i].a;
        p[2] = ins[i].b;
        p[3] = ins[i].c;
        util_put_u32le(p + 4, (uint32_t)ins[i].imm);
    }
    if (dlen) memcpy(out + 16 + n * 8, data, dlen);
    return 16 + n * 8 + dlen;
}

static void expect_reject(const uint8_t *code, size_t len, uint32_t off, const char *why)
{
    vm_program *p = (vm_program *)&p; /* must be reset to NULL */
    uint32_t at = 12345;
    util_err err = {0};
    assert_int_equal(vm_verify(code, len, &p, &at, &err), UTIL_EINVAL);
    assert_null(p);
    if (at != off || !strstr(err.msg, why))
        fail_msg("expected offset %u '%s', got offset %u '%s'", off, why, at, err.msg);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "offset %u: ", off);
    assert_true(strncmp(err.msg, prefix, strlen(prefix)) == 0);
}

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

static const uint8_t SELF[VM_ADDR_LEN] = {0x5e, 0x1f, 0, 0, 0};

static int run(vm_program *p, const void *input, size_t ilen, uint64_t gas, vm_result *res)
{
    vm_memhost *h = vm_memhost_new(SELF);
    vm_env env = {.input = input, .input_len = ilen};
    memcpy(env.self, SELF, VM_ADDR_LEN);
    util_err err;
    int rc = vm_memhost_call(h, p, &env, gas, res, &err);
    assert_int_equal(rc, 0);
    vm_memhost_free(h);
    return res->status;
}

static uint64_t run_u64(vm_program *p, const uint64_t *in, size_t nin, int *status)
{
    uint8_t buf[64];
    for (size_t i = 0; i < nin; i++)
        util_put_u64le(buf + 8 * i, in[i]);
    vm_result res;
    *status = run(p, buf, 8 * nin, 1000000, &res);
    uint64_t v = res.ret_len == 8 ? util_get_u64le(res.ret) : 0;
    vm_result_free(&res);
    return v;
}

/* ---- verifier ---- */

static void test_verify_header(void **state)
{
    (void)state;
    uint8_t b[VM_CODE_MAX + 64];
    insn stop = {OP_STOP, 0, 0, 0, 0};
    size_t n = blob(b, 16, &stop, 1, NULL, 0);
    vm_program *p;
    util_err err;
    assert_int_equal(vm_verify(b, n, &p, NULL, &err), 0);
    vm_program_free(p);

    expect_reject(b, 0, 0, "empty code");
    expect_reject(NULL, 10, 0, "empty code");
    expect_reject(b, 15, 0, "truncated header");
    b[0] = 'X';
    expect_reject(b, n, 0, "bad magic");
    b[0] = 'O';
    b[4] = 2;
    expect_reject(b, n, 4, "unsupported version");
    b[4] = VM_VERSION;
    b[5] = 1;
    expect_reject(b, n, 5, "flags");
    b[5] = 0;
    util_put_u32le(b + 8, 12);
    expect_reject(b, n, 8, "not a multiple of 8");
    util_put_u32le(b + 8, 0);
    expect_reject(b, 16, 8, "missing entry point: no instructions");
    util_put_u32le(b + 8, 8);
    expect_reject(b, n - 1, (uint32_t)n - 1, "truncated");
    b[n] = 0;
    expect_reject(b, n + 1, (uint32_t)n, "1 trailing bytes");
    util_put_u32le(b + 12, 1);
    expect_reject(b, n, (uint32_t)n, "truncated"); /* declared data missing */
    util_put_u32le(b + 12, 0xffffffffu);
    expect_reject(b, n, (uint32_t)n, "truncated");
    util_put_u32le(b + 12, 0);

    /* Entry point: outside the code, in the header, not on an instruction. */
    n = blob(b, 24, &stop, 1, NULL, 0);
    expect_reject(b, n, 6, "missing entry point");
    n = blob(b, 0, &stop, 1, NULL, 0);
    expect_reject(b, n, 6, "missing entry point");
    insn two[2] = {{OP_NOP, 0, 0, 0, 0}, {OP_STOP, 0, 0, 0, 0}};
    n = blob(b, 20, two, 2, NULL, 0);
    expect_reject(b, n, 6, "not on an instruction");
    n = blob(b, 24, two, 2, NULL, 0);
    assert_int_equal(vm_verify(b, n, &p, NULL, &err), 0);
    vm_program_free(p);
}

static void test_verify_size_limit(void **state)
{
    (void)state;
    static uint8_t b[VM_CODE_MAX + 64];
    static insn ins[VM_CODE_MAX / 8];
    size_t k = (VM_CODE_MAX - 16) / 8;
    for (size_t i = 0; i < k; i++)
        ins[i] = (insn){OP_NOP, 0, 0, 0, 0};
    ins[k - 1] = (insn){OP_STOP, 0, 0, 0, 0};
    size_t n = blob(b, 16, ins, k, NULL, 0);
    assert_int_equal(n, VM_CODE_MAX);
    vm_program *p;
    util_err err;
    assert_int_equal(vm_verify(b, n, &p, NULL, &err), 0);
    assert_int_equal(vm_program_insns(p), k);
    vm_program_free(p);
    /* One byte of data more is over the limit. */
    n = blob(b, 16, ins, k, "x", 1);
    expect_reject(b, n, VM_CODE_MAX, "over the limit");
    /* Data alone can push it over. */
    static uint8_t data[VM_CODE_MAX];
    n = blob(b, 16, ins + k - 1, 1, data, VM_CODE_MAX - 16);
    expect_reject(b, n, VM_CODE_MAX, "over the limit");
}

static void reject_one(insn bad, uint32_t index, const char *why)
{
    uint8_t b[256];
    insn ins[4] = {
        {OP_NOP, 0, 0, 0, 0}, {OP_NOP, 0, 0, 0, 0}, {OP_STOP, 0, 0, 0, 0}, {OP_STOP, 0, 0, 0, 0}};
    ins[index] = bad;
    size_t n = blob(b, 16, ins, 4, NULL, 0);
    expect_reject(b, n, 16 + index * 8, why);
}

static void test_verify_instructions(void **state)
{
    (void)state;
    reject_one((insn){0x00, 0, 0, 0, 0}, 0, "unknown opcode 0x00");
    reject_one((insn){0x7f, 0, 0, 0, 0}, 1, "unknown opcode 0x7f");
    reject_one((insn){0xff, 0, 0, 0, 0}, 1, "unknown opcode 0xff");
    /* Internal opcodes of a verified program are not valid in a blob. */
    reject_one((insn){OP_GAS, 0, 0, 0, 5}, 0, "unknown opcode 0xf0");
    reject_one((insn){0xf1, 0, 0, 0, 0}, 0, "unknown opcode 0xf1");
    reject_one((insn){0xf4, 0, 0, 0, 0}, 0, "unknown opcode 0xf4");

    reject_one((insn){OP_ADD, 16, 0, 0, 0}, 0, "bad register 16 in field a");
    reject_one((insn){OP_MOV, 1, 200, 0, 0}, 1, "bad register 200 in field b");
    reject_one((insn){OP_ADD, 1, 2, 16, 0}, 0, "bad register 16 in field c");
    reject_one((insn){OP_MULDIV, 1, 2, 3, 16}, 0, "bad register 16 in imm");
    reject_one((insn){OP_MULDIV, 1, 2, 3, -1}, 0, "bad register -1 in imm");
    reject_one((insn){OP_LD64, 1, 16, 0, 8}, 0, "bad register 16 in field b");
    reject_one((insn){OP_ST8, 17, 1, 0, 8}, 0, "bad register 17 in field a");

    reject_one((insn){OP_STOP, 1, 0, 0, 0}, 0, "unused field a is not zero");
    reject_one((insn){OP_ADD, 1, 2, 3, 1}, 0, "unused field imm is not zero");
    reject_one((insn){OP_LDI, 1, 0, 1, 5}, 0, "unused field c is not zero");
    reject_one((insn){OP_SYS, 0, 1, 0, SYS_VALUE}, 0, "unused field b is not zero");

    reject_one((insn){OP_JMP, 0, 0, 0, -8}, 0, "jump target -8 is outside the code");
    reject_one((insn){OP_JMP, 0, 0, 0, 32}, 0, "jump target +32 is outside the code");
    reject_one((insn){OP_JMP, 0, 0, 0, 4}, 0, "jump target +4 is not on an instruction");
    reject_one((insn){OP_CALL, 0, 0, 0, 1000}, 1, "outside the code");
    reject_one((insn){OP_BEQ, 1, 2, 0, -16}, 1, "outside the code");
    reject_one((insn){OP_BLTU, 1, 2, 0, 9}, 1, "not on an instruction");
    reject_one((insn){OP_BNEZ, 1, 0, 0, INT32_MIN}, 1, "outside the code");
    reject_one((insn){OP_BEQZ, 1, 2, 0, 8}, 1, "unused field b is not zero");

    reject_one((insn){OP_SHLI, 1, 2, 0, 64}, 0, "shift amount 64");
    reject_one((insn){OP_SARI, 1, 2, 0, -1}, 0, "shift amount -1");
    reject_one((insn){OP_DIVUI, 1, 2, 0, 0}, 0, "divui by an immediate zero");
    reject_one((insn){OP_MODUI, 1, 2, 0, 0}, 0, "modui by an immediate zero");
    reject_one((insn){OP_SYS, 0, 0, 0, 0}, 0, "unknown host function 0");
    reject_one((insn){OP_SYS, 0, 0, 0, VM_SYS_MAX + 1}, 0, "unknown host function");
    reject_one((insn){OP_SYS, 0, 0, 0, -5}, 0, "unknown host function -5");
}

static void test_verify_fall_off_end(void **state)
{
    (void)state;
    uint8_t b[64];
    static const insn ends[] = {{OP_ADD, 1, 2, 3, 0},
                                {OP_BEQZ, 1, 0, 0, -8},
                                {OP_CALL, 0, 0, 0, -8},
                                {OP_SYS, 0, 0, 0, SYS_VALUE},
                                {OP_NOP, 0, 0, 0, 0}};
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
        insn ins[2] = {{OP_NOP, 0, 0, 0, 0}, ends[i]};
        size_t n = blob(b, 16, ins, 2, NULL, 0);
        expect_reject(b, n, 24, "run past the end");
    }
    static const insn ok[] = {{OP_STOP, 0, 0, 0, 0},
                              {OP_RET, 0, 0, 0, 0},
                              {OP_JMP, 0, 0, 0, -8},
                              {OP_RETURN, 1, 2, 0, 0},
                              {OP_REVERT, 1, 2, 0, 0}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        insn ins[2] = {{OP_NOP, 0, 0, 0, 0}, ok[i]};
        size_t n = blob(b, 16, ins, 2, NULL, 0);
        vm_program *p;
        util_err err;
        assert_int_equal(vm_verify(b, n, &p, NULL, &err), 0);
        vm_program_free(p);
    }
}

/* ---- arithmetic against a reference model ---- */

static int ref(uint8_t op, uint64_t x, uint64_t y, uint64_t z, uint64_t *out)
{
    switch (op) {
    case OP_ADD: *out = x + y; return VM_OK;
    case OP_SUB: *out = x - y; return VM_OK;
    case OP_MUL: *out = x * y; return VM_OK;
    case OP_DIVU:
        if (!y) return VM_E_DIVZERO;
        *out = x / y;
        return VM_OK;
    case OP_MODU:
        if (!y) return VM_E_DIVZERO;
        *out = x % y;
        return VM_OK;
    case OP_AND: *out = x & y; return VM_OK;
    case OP_OR: *out = x | y; return VM_OK;
    case OP_XOR: *out = x ^ y; return VM_OK;
    case OP_SHL: *out = x << (y % 64); return VM_OK;
    case OP_SHR: *out = x >> (y % 64); return VM_OK;
    case OP_SAR: {
        /* Arithmetic shift written without signed shifts. */
        uint64_t r = x;
        for (uint64_t i = 0; i < y % 64; i++)
            r = (r >> 1) | (r & (1ULL << 63));
        *out = r;
        return VM_OK;
    }
    case OP_ADDC:
        if (x + y < x) return VM_E_OVERFLOW;
        *out = x + y;
        return VM_OK;
    case OP_SUBC:
        if (y > x) return VM_E_OVERFLOW;
        *out = x - y;
        return VM_OK;
    case OP_MULC:
        if (x && y > UINT64_MAX / x) return VM_E_OVERFLOW;
        *out = x * y;
        return VM_OK;
    case OP_SLTU: *out = x < y; return VM_OK;
    case OP_SLT: {
        int xn = (int)(x >> 63), yn = (int)(y >> 63);
        *out = xn != yn ? (uint64_t)xn : x < y;
        return VM_OK;
    }
    case OP_SEQ: *out = x == y; return VM_OK;
    case OP_MULDIV: {
        if (!z) return VM_E_DIVZERO;
        unsigned __int128 q = (unsigned __int128)x * y / z;
        if (q > UINT64_MAX) return VM_E_OVERFLOW;
        *out = (uint64_t)q;
        return VM_OK;
    }
    default: fail_msg("no reference for op %u", op);
    }
    return -1;
}

static uint64_t operand(void)
{
    static const uint64_t edge[] = {0,
                                    1,
                                    2,
                                    3,
                                    63,
                                    64,
                                    65,
                                    0x7fffffff,
                                    0x80000000,
                                    0xffffffff,
                                    1ULL << 32,
                                    1ULL << 63,
                                    (1ULL << 63) - 1,
                                    UINT64_MAX,
                                    UINT64_MAX - 1};
    switch (next() % 4) {
    case 0: return edge[next() % (sizeof edge / sizeof *edge)];
    case 1: return next() % 1000;
    case 2: return next() >> (next() % 64);
    default: return next();
    }
}

static void test_alu_reference(void **state)
{
    (void)state;
    static const uint8_t ops[] = {OP_ADD,  OP_SUB,  OP_MUL,  OP_DIVU, OP_MODU, OP_AND,
                                  OP_OR,   OP_XOR,  OP_SHL,  OP_SHR,  OP_SAR,  OP_ADDC,
                                  OP_SUBC, OP_MULC, OP_SLTU, OP_SLT,  OP_SEQ,  OP_MULDIV};
    for (size_t k = 0; k < sizeof ops / sizeof *ops; k++) {
        char src[512];
        const char *mn = vm_ops[ops[k]].name;
        snprintf(src, sizeof src,
                 "ldi r1, 0\nldi r2, 0\nldi r3, 24\nsys input\n"
                 "ld64 r1, [r2]\nld64 r3, [r2+16]\nld64 r2, [r2+8]\n"
                 "%s r5, r1, r2%s\n"
                 "ldi r6, 0\nst64 [r6], r5\nldi r7, 8\nreturn r6, r7\n",
                 mn, ops[k] == OP_MULDIV ? ", r3" : "");
        vm_program *p = build(src);
        for (int i = 0; i < 400; i++) {
            uint64_t in[3] = {operand(), operand(), operand()};
            if (ops[k] == OP_MULDIV && i % 2) in[2] = in[1] + next() % 3; /* mostly fits */
            uint64_t want = 0, got;
            int st, wst = ref(ops[k], in[0], in[1], in[2], &want);
            got = run_u64(p, in, 3, &st);
            if (st != wst || (st == VM_OK && got != want))
                fail_msg("%s %llx %llx %llx: status %d value %llx, expected %d %llx", mn,
                         (unsigned long long)in[0], (unsigned long long)in[1],
                         (unsigned long long)in[2], st, (unsigned long long)got, wst,
                         (unsigned long long)want);
        }
        vm_program_free(p);
    }
}

/* divui/modui by a constant run as multiplications: compare with the
 * hardware division (divu/modu by a register) for many divisors. */
static void test_division_by_constants(void **state)
{
    (void)state;
    int32_t divisors[600];
    size_t nd = 0;
    static const int32_t fixed[] = {1,
                                    2,
                                    3,
                                    5,
                                    7,
                                    10,
                                    64,
                                    1000,
                                    10000,
                                    1000003,
                                    641,
                                    0x40000000,
                                    -1,
                                    -2,
                                    INT32_MIN,
                                    INT32_MAX,
                                    INT32_MAX - 1,
                                    6700417,
                                    -3,
                                    -10000,
                                    (1 << 30) + 1};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        divisors[nd++] = fixed[i];
    for (int s = 0; s < 31; s++)
        divisors[nd++] = (int32_t)(1u << s) + 1;
    while (nd < sizeof divisors / sizeof *divisors) {
        int32_t d = (int32_t)(uint32_t)(next() >> (32 + next() % 32));
        if (d) divisors[nd++] = d;
    }
    for (size_t k = 0; k < nd; k++) {
        char src[512];
        snprintf(src, sizeof src,
                 "ldi r1, 0\nldi r2, 0\nldi r3, 8\nsys input\nld64 r1, [r2]\n"
                 "divui r3, r1, %d\nmodui r4, r1, %d\n"
                 "ldi r5, %d\ndivu r6, r1, r5\nmodu r7, r1, r5\n"
                 "bne r3, r6, bad\nbne r4, r7, bad\nstop\nbad:\nrevert r0, r0\n",
                 divisors[k], divisors[k], divisors[k]);
        vm_program *p = build(src);
        uint64_t d = (uint64_t)(int64_t)divisors[k];
        uint64_t vals[] = {0,
                           1,
                           d - 1,
                           d,
                           d + 1,
                           2 * d,
                           2 * d - 1,
                           UINT64_MAX,
                           UINT64_MAX - 1,
                           1ULL << 63,
                           (1ULL << 63) - 1,
                           UINT64_MAX / d * d,
                           UINT64_MAX / d * d - 1};
        for (size_t i = 0; i < sizeof vals / sizeof *vals + 40; i++) {
            uint64_t x = i < sizeof vals / sizeof *vals ? vals[i] : operand();
            int st;
            run_u64(p, &x, 1, &st);
            if (st != VM_OK)
                fail_msg("divisor %lld, n %llu: status %d", (long long)(int64_t)d,
                         (unsigned long long)x, st);
        }
        vm_program_free(p);
    }
}

static void test_immediates_and_loads(void **state)
{
    (void)state;
    vm_program *p = build("li r1, 0x0123456789abcdef\n"
                          "li r2, -2\n"
                          "ldi r3, -1\nldhi r3, 0x7\n"
                          "addi r4, r2, 5\n"
                          "andi r5, r1, -256\n"
                          "sari r6, r2, 1\nshri r7, r2, 60\nshli r8, r2, 63\n"
                          "not r9, r1\nxori r10, r9, -1\nori r11, r0, 0x55\nmuli r12, r2, -3\n"
                          "ldi r13, 0x10\n"
                          "st64 [r13], r1\nst8 [r13+8], r2\nst16 [r13+9], r2\nst32 [r13+11], r2\n"
                          "ld32 r14, [r13+4]\nld16 r15, [r13+1]\n"
                          "st64 [r0+64], r3\nst64 [r0+72], r4\nst64 [r0+80], r5\n"
                          "st64 [r0+88], r6\nst64 [r0+96], r7\nst64 [r0+104], r8\n"
                          "st64 [r0+112], r10\nst64 [r0+120], r11\nst64 [r0+128], r12\n"
                          "st64 [r0+136], r14\nst64 [r0+144], r15\n"
                          "ld8 r1, [r13+8]\nst64 [r0+152], r1\n"
                          "ldi r1, 16\nldi r2, 144\nreturn r1, r2\n");
    vm_result res;
    assert_int_equal(run(p, NULL, 0, 100000, &res), VM_OK);
    assert_int_equal(res.ret_len, 144);
    const uint8_t *r = res.ret;
    assert_true(util_get_u64le(r) == 0x0123456789abcdefull);
    assert_int_equal(r[8], 0xfe);
    assert_int_equal(r[9], 0xfe);
    assert_int_equal(r[10], 0xff);
    assert_true(util_get_u32le(r + 11) == 0xfffffffeu);
    const uint8_t *v = r + 48; /* address 64 */
    static const uint64_t want[] = {
        0x7ffffffffull, 3, 0x0123456789abcd00ull, UINT64_MAX, 15,  0, 0x0123456789abcdefull,
        0x55,           6, 0x01234567u,           0xabcd,     0xfe};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (util_get_u64le(v + 8 * i) != want[i])
            fail_msg("slot %zu: %llx, expected %llx", i,
                     (unsigned long long)util_get_u64le(v + 8 * i), (unsigned long long)want[i]);
    vm_result_free(&res);
    vm_program_free(p);
}

static void test_memory_faults(void **state)
{
    (void)state;
    vm_result res;
    char src[256];
    /* Last valid addresses of each width succeed, one further faults. */
    static const char *const w[] = {"8", "16", "32", "64"};
    for (int k = 0; k < 4; k++) {
        int size = 1 << k;
        for (int over = 0; over <= 1; over++) {
            snprintf(src, sizeof src, "li r1, %d\nld%s r2, [r1]\nst%s [r1], r2\nstop\n",
                     VM_MEM_SIZE - size + over, w[k], w[k]);
            vm_program *p = build(src);
            assert_int_equal(run(p, NULL, 0, 1000, &res), over ? VM_E_MEMORY : VM_OK);
            if (over) assert_int_equal(res.end_pc, 24);
            vm_result_free(&res);
            vm_program_free(p);
        }
    }
    /* Address arithmetic wraps modulo 2^64: -1 + 1 is address 0. */
    vm_program *p = build("ldi r1, -1\nld64 r2, [r1+1]\nldi r3, -8\nst64 [r3], r2\nstop\n");
    assert_int_equal(run(p, NULL, 0, 1000, &res), VM_E_MEMORY);
    assert_int_equal(res.end_pc, 16 + 24);
    assert_non_null(strstr(res.detail, "store of 8 bytes"));
    vm_result_free(&res);
    vm_program_free(p);
    /* mcopy: overlapping copies work, out-of-range ones fault. */
    p = build("ldi r1, 1\nldi r2, 0\nst64 [r2], r1\nldi r3, 100\nmcopy r1, r2, r3\n"
              "ld64 r4, [r0+1]\nst64 [r0+200], r4\nldi r5, 200\nldi r6, 8\nreturn r5, r6\n");
    assert_int_equal(run(p, NULL, 0, 1000, &res), VM_OK);
    assert_true(util_get_u64le(res.ret) == 1);
    vm_result_free(&res);
    vm_program_free(p);
    p = build("li r1, 65000\nldi r2, 0\nldi r3, 537\nmcopy r1, r2, r3\nstop\n");
    assert_int_equal(run(p, NULL, 0, 1000, &res), VM_E_MEMORY);
    vm_result_free(&res);
    vm_program_free(p);
    p = build("ldi r1, -1\nldi r2, 0\nldi r3, 2\nmcopy r2, r1, r3\nstop\n");
    assert_int_equal(run(p, NULL, 0, 1000, &res), VM_E_MEMORY);
    vm_result_free(&res);
    vm_program_free(p);
}

static void test_data_segment_and_fresh_memory(void **state)
{
    (void)state;
    /* Data sits at address 0; every call starts from it and zeroes. */
    vm_program *p = build(".data\nmsg: .ascii \"hi\"\n.u64 7\n.code\n"
                          "ld64 r1, [r0+2]\nld64 r2, [r0+100]\nbnez r2, dirty\n"
                          "st64 [r0+100], r1\nldi r3, 0\nldi r4, 10\nreturn r3, r4\n"
                          "dirty:\nrevert r0, r0\n");
    vm_result res;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(run(p, NULL, 0, 1000, &res), VM_OK);
        assert_int_equal(res.ret_len, 10);
        assert_memory_equal(res.ret, "hi\x07\0\0\0\0\0\0\0", 10);
        vm_result_free(&res);
    }
    assert_int_equal(vm_program_data_len(p), 10);
    vm_program_free(p);
}

static void test_calls_and_depth(void **state)
{
    (void)state;
    /* Recursive fib(20) = 6765 through call/ret. */
    vm_program *p = build(".entry main\n"
                          "fib:\n  ldi r2, 2\n  bltu r1, r2, base\n"
                          "  addi r1, r1, -1\n  call fib\n  st64 [r15], r0\n  addi r15, r15, 8\n"
                          "  addi r1, r1, -1\n  call fib\n  addi r15, r15, -8\n  ld64 r3, [r15]\n"
                          "  add r0, r0, r3\n  addi r1, r1, 2\n  ret\n"
                          "base:\n  mov r0, r1\n  ret\n"
                          "main:\n  ldi r1, 20\n  ldi r15, 1024\n  call fib\n"
                          "  st64 [r15], r0\n  ldi r2, 8\n  return r15, r2\n");
    vm_result res;
    assert_int_equal(run(p, NULL, 0, 10000000, &res), VM_OK);
    assert_true(util_get_u64le(res.ret) == 6765);
    vm_result_free(&res);
    vm_program_free(p);

    /* Depth: a chain of n nested calls. 64 is allowed, 65 faults. */
    for (int n = 63; n <= 65; n++) {
        char src[256];
        snprintf(src, sizeof src,
                 ".entry main\nf:\n  beqz r1, out\n  addi r1, r1, -1\n  call f\nout:\n  ret\n"
                 "main:\n  ldi r1, %d\n  call f\n  stop\n",
                 n - 1);
        p = build(src);
        assert_int_equal(run(p, NULL, 0, 100000, &res), n <= VM_CALL_DEPTH ? VM_OK : VM_E_DEPTH);
        vm_result_free(&res);
        vm_program_free(p);
    }
    /* Unbounded recursion ends with the depth fault, not a crash. */
    p = build("f:\ncall f\nret\n");
    assert_int_equal(run(p, NULL, 0, 100000, &res), VM_E_DEPTH);
    assert_int_equal(res.end_pc, 16);
    vm_result_free(&res);
    vm_program_free(p);
    /* ret at depth 0 ends the call like stop. */
    p = build("ldi r1, 1\nret\n");
    assert_int_equal(run(p, NULL, 0, 100, &res), VM_OK);
    assert_int_equal(res.gas_used, 3);
    vm_result_free(&res);
    vm_program_free(p);
}

static void test_gas_accounting(void **state)
{
    (void)state;
    vm_result res;
    /* Straight line: ldi 1 + ldi 1 + add 1 + mul 2 + stop 1. */
    vm_program *p = build("ldi r1, 3\nldi r2, 4\nadd r3, r1, r2\nmul r4, r3, r3\nstop\n");
    assert_int_equal(run(p, NULL, 0, 6, &res), VM_OK);
    assert_int_equal(res.gas_used, 6);
    vm_result_free(&res);
    /* The whole block is charged on entry: 5 gas runs nothing. */
    assert_int_equal(run(p, NULL, 0, 5, &res), VM_E_GAS);
    assert_int_equal(res.gas_used, 5);
    assert_int_equal(res.end_pc, 16);
    vm_result_free(&res);
    assert_int_equal(run(p, NULL, 0, 0, &res), VM_E_GAS);
    assert_int_equal(res.gas_used, 0);
    vm_result_free(&res);
    vm_program_free(p);

    /* A loop of n iterations: entry block (ldi, ldi: 2), loop block (addi,
     * bne: 2) n times, exit block (stop: 1). The loop label is entered by
     * falling through once. */
    p = build("ldi r1, 0\nldi r2, 10\nloop:\naddi r1, r1, 1\nbne r1, r2, loop\nstop\n");
    assert_int_equal(run(p, NULL, 0, 1000, &res), VM_OK);
    assert_int_equal(res.gas_used, 2 + 10 * 2 + 1);
    vm_result_free(&res);
    assert_int_equal(vm_program_blocks(p), 3);
    vm_program_free(p);

    /* An infinite loop runs out of gas, charging exactly the limit. */
    p = build("loop:\naddi r1, r1, 1\njmp loop\n");
    assert_int_equal(run(p, NULL, 0, 1000001, &res), VM_E_GAS);
    assert_int_equal(res.gas_used, 1000001);
    assert_string_equal(vm_status_name(res.status), "out of gas");
    vm_result_free(&res);
    vm_program_free(p);

    /* Dynamic gas: a 1000-byte mcopy costs 2 + 32 words. */
    p = build("ldi r1, 0\nldi r2, 2000\nldi r3, 1000\nmcopy r1, r2, r3\nstop\n");
    assert_int_equal(run(p, NULL, 0, 100, &res), VM_OK);
    assert_int_equal(res.gas_used, 3 + 2 + 32 + 1);
    vm_result_free(&res);
    assert_int_equal(run(p, NULL, 0, 3 + 2 + 32, &res), VM_E_GAS);
    vm_result_free(&res);
    vm_program_free(p);
}

static void test_arith_faults(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        int status;
    } cases[] = {
        {"ldi r1, 5\ndivu r2, r1, r0\nstop\n", VM_E_DIVZERO},
        {"ldi r1, 5\nmodu r2, r1, r0\nstop\n", VM_E_DIVZERO},
        {"ldi r1, 5\nmuldiv r2, r1, r1, r0\nstop\n", VM_E_DIVZERO},
        {"ldi r1, -1\nldi r2, 2\nldi r3, 1\nmuldiv r4, r1, r2, r3\nstop\n", VM_E_OVERFLOW},
        {"ldi r1, -1\nldi r2, 1\naddc r3, r1, r2\nstop\n", VM_E_OVERFLOW},
        {"ldi r1, 1\nldi r2, 2\nsubc r3, r1, r2\nstop\n", VM_E_OVERFLOW},
        {"li r1, 0x100000000\nmulc r3, r1, r1\nstop\n", VM_E_OVERFLOW},
        {"ldi r1, 1\nldi r2, 2\nrevert r1, r2\n", VM_REVERTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vm_program *p = build(cases[i].src);
        vm_result res;
        assert_int_equal(run(p, NULL, 0, 1000, &res), cases[i].status);
        assert_true(res.gas_used > 0);
        assert_null(res.ret);
        if (cases[i].status != VM_REVERTED) assert_true(res.detail[0] != 0);
        vm_result_free(&res);
        vm_program_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_header),
        cmocka_unit_test(test_verify_size_limit),
        cmocka_unit_test(test_verify_instructions),
        cmocka_unit_test(test_verify_fall_off_end),
        cmocka_unit_test(test_alu_reference),
        cmocka_unit_test(test_division_by_constants),
        cmocka_unit_test(test_immediates_and_loads),
        cmocka_unit_test(test_memory_faults),
        cmocka_unit_test(test_data_segment_and_fresh_memory),
        cmocka_unit_test(test_calls_and_depth),
        cmocka_unit_test(test_gas_accounting),
        cmocka_unit_test(test_arith_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
