/* Assembler (syntax, encodings, every error with file:line:col) and
 * disassembler (exact round trip on the corpus, the reward contract, random
 * valid programs and random invalid ones). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/bytes.h"
#include "vm/isa.h"
#include "vm/vm.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t assemble(const char *src, uint8_t **out)
{
    size_t n;
    util_err err = {0};
    if (vm_asm_source("t.olasm", src, strlen(src), out, &n, &err)) fail_msg("%s", err.msg);
    return n;
}

static void expect_error(const char *src, const char *msg)
{
    uint8_t *out = (uint8_t *)&out;
    size_t n = 99;
    util_err err = {0};
    assert_int_equal(vm_asm_source("t.olasm", src, strlen(src), &out, &n, &err), UTIL_EINVAL);
    assert_null(out);
    assert_int_equal(n, 0);
    if (strncmp(err.msg, msg, strlen(msg)) != 0)
        fail_msg("source:\n%s\nexpected \"%s\"\n     got \"%s\"", src, msg, err.msg);
}

static void ins_at(const uint8_t *blob, size_t i, uint8_t op, uint8_t a, uint8_t b, uint8_t c,
                   int32_t imm)
{
    const uint8_t *p = blob + 16 + 8 * i;
    uint8_t want[8] = {op, a, b, c};
    util_put_u32le(want + 4, (uint32_t)imm);
    assert_memory_equal(p, want, 8);
}

static void test_encoding(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = assemble("; a comment line\n"
                        "# another\n"
                        ".const TEN 10\n"
                        ".const MASK 0xff_ff + TEN - 2*(3 - 1)   ; expressions\n"
                        ".entry start\n"
                        "helper: ret\n"
                        "start: a2: ldi r1, -TEN\n"
                        "  li r2, 0x123456789\n"
                        "  li r3, later          ; a forward name: always two slots\n"
                        "  ld64 r4, [r1]\n"
                        "  st32 [r4 - 8], r5\n"
                        "  ld8 r6, [ r7 + MASK ]\n"
                        "  muldiv r1, r2, r3, r15\n"
                        "  shli r1, r1, 0b101\n"
                        "  sys pay\n"
                        "  sys 11\n"
                        "  beq r1, r2, start\n"
                        "  call helper\n"
                        "later:\n"
                        "  ldhi r9, 0xffffffff\n"
                        "  stop\n"
                        ".data\n"
                        "d0: .byte 1, 0xff, -1\n"
                        "    .u16 0x1234\n"
                        "    .u32 -2\n"
                        "    .u64 1\n"
                        "    .ascii \"a\\n\\x41\\\\\", \"\\\"\"\n"
                        "    .hex \"00FF10\"\n"
                        "    .zero 3\n",
                        &b);
    /* Header: entry = second instruction. */
    assert_memory_equal(b, "OLVM\x01\x00\x18\x00", 8);
    size_t ninsn = util_get_u32le(b + 8) / 8;
    assert_int_equal(ninsn, 17);
    ins_at(b, 0, OP_RET, 0, 0, 0, 0);
    ins_at(b, 1, OP_LDI, 1, 0, 0, -10);
    ins_at(b, 2, OP_LDI, 2, 0, 0, 0x23456789);
    ins_at(b, 3, OP_LDHI, 2, 0, 0, 1);
    ins_at(b, 4, OP_LDI, 3, 0, 0, 16 + 15 * 8);
    ins_at(b, 5, OP_LDHI, 3, 0, 0, 0);
    ins_at(b, 6, OP_LD64, 4, 1, 0, 0);
    ins_at(b, 7, OP_ST32, 4, 5, 0, -8);
    ins_at(b, 8, OP_LD8, 6, 7, 0, 0xffff + 10 - 4);
    ins_at(b, 9, OP_MULDIV, 1, 2, 3, 15);
    ins_at(b, 10, OP_SHLI, 1, 1, 0, 5);
    ins_at(b, 11, OP_SYS, 0, 0, 0, SYS_PAY);
    ins_at(b, 12, OP_SYS, 0, 0, 0, SYS_HEIGHT);
    ins_at(b, 13, OP_BEQ, 1, 2, 0, -12 * 8);
    ins_at(b, 14, OP_CALL, 0, 0, 0, -14 * 8);
    ins_at(b, 15, OP_LDHI, 9, 0, 0, -1);
    ins_at(b, 16, OP_STOP, 0, 0, 0, 0);
    static const uint8_t data[] = {1,    0xff, 0xff, 0x34, 0x12, 0xfe, 0xff, 0xff, 0xff, 1,
                                   0,    0,    0,    0,    0,    0,    0,    'a',  '\n', 'A',
                                   '\\', '"',  0x00, 0xff, 0x10, 0,    0,    0};
    assert_int_equal(util_get_u32le(b + 12), sizeof data);
    assert_int_equal(n, 16 + ninsn * 8 + sizeof data);
    assert_memory_equal(b + 16 + ninsn * 8, data, sizeof data);
    free(b);

    /* li picks one slot for values that fit in a sign-extended 32 bits. */
    n = assemble("li r1, -2147483648\nli r2, 2147483647\nli r3, 0x80000000\nstop\n", &b);
    assert_int_equal(util_get_u32le(b + 8), 5 * 8);
    free(b);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", "t.olasm:1:1: no instructions");
    expect_error("; only a comment\n.data\n.byte 1\n", "t.olasm:3:1: no instructions");
    expect_error("stop\nfoo r1\n", "t.olasm:2:1: unknown instruction 'foo'");
    expect_error("add r1, r2, r16\nstop\n",
                 "t.olasm:1:13: expected a register (r0..r15), found 'r16'");
    expect_error("add r1 r2, r3\nstop\n", "t.olasm:1:8: expected ',', found 'r2'");
    expect_error("add r1, r2\nstop\n", "t.olasm:1:11: expected ',', found end of line");
    expect_error("stop r1\n", "t.olasm:1:6: unexpected text after the operands");
    expect_error("jmp nowhere\n", "t.olasm:1:5: undefined name 'nowhere'");
    expect_error("a:\nnop\n  a: stop\n", "t.olasm:3:3: 'a' is already defined at line 1");
    expect_error(".const X 1\nX: stop\n", "t.olasm:2:1: 'X' is already defined at line 1");
    expect_error("r1: stop\n", "t.olasm:1:1: 'r1' is a register and cannot be defined");
    expect_error(".x: stop\n", "t.olasm:1:1: a label cannot start with '.'");
    expect_error("ldi r1, 0x80000000\nstop\n",
                 "t.olasm:1:9: immediate 2147483648 is out of range (-2147483648..2147483647)");
    expect_error("ldhi r1, 0x100000000\nstop\n",
                 "t.olasm:1:10: immediate 4294967296 is out of range");
    expect_error("shli r1, r2, 64\nstop\n",
                 "t.olasm:1:14: shift amount 64 is out of range (0..63)");
    expect_error("divui r1, r2, 5 - 5\nstop\n", "t.olasm:1:15: divui by zero");
    expect_error("ldi r1, r2\nstop\n", "t.olasm:1:9: register 'r2' where a value is expected");
    expect_error("ldi r1, 12ab\nstop\n", "t.olasm:1:9: bad digit 'a' in a number");
    expect_error("ldi r1, 0x\nstop\n", "t.olasm:1:9: number without digits");
    expect_error("ldi r1, 99999999999999999999\nstop\n",
                 "t.olasm:1:9: number does not fit in 64 bits");
    expect_error("ldi r1, (1 + 2\nstop\n", "t.olasm:1:15: expected ')', found end of line");
    expect_error("ldi r1, @\n", "t.olasm:1:9: unexpected character '@'");
    expect_error("ldi r1, 1\x01\n", "t.olasm:1:10: unexpected byte 0x01");
    expect_error("sys nothing\nstop\n", "t.olasm:1:5: undefined name 'nothing'");
    expect_error("ld64 r1, r2\nstop\n", "t.olasm:1:10: expected '[', found 'r2'");
    expect_error("ld64 r1, [r2 + 8\nstop\n", "t.olasm:1:17: expected ']', found end of line");
    expect_error(".byte 1\nstop\n", "t.olasm:1:1: .byte belongs in the .data section");
    expect_error("stop\n.data\nnop\n", "t.olasm:3:1: instruction 'nop' in the .data section");
    expect_error("stop\n.data\n.byte 256\n", "t.olasm:3:7: value 256 is out of range (-128..255)");
    expect_error("stop\n.data\n.u16 -32769\n", "t.olasm:3:6: value -32769 is out of range");
    expect_error("stop\n.data\n.ascii \"abc\n", "t.olasm:3:8: unterminated string");
    expect_error("stop\n.data\n.ascii \"a\\q\"\n", "t.olasm:3:10: unknown escape '\\q'");
    expect_error("stop\n.data\n.ascii \"\\x4\"\n", "t.olasm:3:9: \\x needs two hex digits");
    expect_error("stop\n.data\n.hex \"abc\"\n", "t.olasm:3:6: .hex needs an even number");
    expect_error("stop\n.data\n.hex \"zz\"\n", "t.olasm:3:7: not a hex digit");
    expect_error("stop\n.data\n.ascii 5\n", "t.olasm:3:8: expected a string");
    expect_error("stop\n.data\n.zero N\n.const N 3\n",
                 "t.olasm:3:7: .zero needs a count defined above");
    expect_error(".const A B\n.const B 1\nstop\n",
                 "t.olasm:1:8: constants may only use names defined above");
    expect_error(".const 5 1\nstop\n", "t.olasm:1:8: .const needs a name");
    expect_error(".bogus\nstop\n", "t.olasm:1:1: unknown directive '.bogus'");
    expect_error(".entry a\n.entry a\na: stop\n", "t.olasm:2:1: more than one .entry");
    expect_error(".entry 70000\nstop\n", "t.olasm:1:8: entry offset 70000 is out of range");
    expect_error("stop\n.data\n.zero 30000\n", "t.olasm:3:7: .zero count 30000 is too large");
    expect_error("stop\n.data\n.zero 20000\n.zero 5000\n",
                 "t.olasm:4:1: the program exceeds the code size limit of 24576 bytes");
    expect_error(".insn 1, 2, 3\nstop\n", "t.olasm:1:14: expected ',', found end of line");
    expect_error(".insn 1, 2, 3, 4, 5, 6, 7, 256\nstop\n",
                 "t.olasm:1:28: byte 256 is out of range");
    /* Verifier rejections point at the offending line. */
    expect_error("ldi r1, 1\nadd r1, r1, r1\n",
                 "t.olasm:2:1: execution can run past the end of the code");
    expect_error(".entry 20\nnop\nstop\n", "t.olasm:1:8: entry offset 20 is not on an instruction");
    expect_error("nop\n  .insn 0x7f, 0, 0, 0, 0, 0, 0, 0\nstop\n",
                 "t.olasm:2:3: unknown opcode 0x7f");
}

static void test_file(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    util_err err = {0};
    assert_int_equal(vm_asm_file("/nonexistent/x.olasm", &b, &n, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.olasm"));
    char dir[] = "/tmp/olvm-asm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/bad.olasm", dir);
    FILE *f = fopen(path, "w");
    fputs("nop\n\n  add r1\n", f);
    fclose(f);
    assert_int_equal(vm_asm_file(path, &b, &n, &err), UTIL_EINVAL);
    char want[128];
    snprintf(want, sizeof want, "%s:3:9: expected ','", path);
    assert_true(strncmp(err.msg, want, strlen(want)) == 0);
    remove(path);
    rmdir(dir);
}

static void roundtrip(const uint8_t *code, size_t n, const char *what)
{
    util_buf text;
    util_buf_init(&text);
    util_err err = {0};
    if (vm_disasm(code, n, &text, &err)) fail_msg("%s: disasm: %s", what, err.msg);
    assert_int_equal(strlen((char *)text.data), text.len);
    uint8_t *again;
    size_t n2;
    if (vm_asm_source("disasm", (char *)text.data, text.len, &again, &n2, &err))
        fail_msg("%s: reassembly: %s\n%s", what, err.msg, (char *)text.data);
    if (n2 != n || memcmp(again, code, n) != 0)
        fail_msg("%s: different bytes\n%s", what, text.data);
    free(again);
    util_buf_free(&text);
}

static void roundtrip_file(const char *path)
{
    uint8_t *b;
    size_t n;
    util_err err = {0};
    if (vm_asm_file(path, &b, &n, &err)) fail_msg("%s", err.msg);
    roundtrip(b, n, path);
    free(b);
}

static void test_roundtrip_corpus(void **state)
{
    (void)state;
    roundtrip_file(OL_SOURCE_DIR "/genesis/contracts/proportional_split.olasm");
    DIR *d = opendir(OL_SOURCE_DIR "/tests/unit/data/vm");
    assert_non_null(d);
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 7 || strcmp(e->d_name + len - 6, ".olasm") != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", OL_SOURCE_DIR "/tests/unit/data/vm", e->d_name);
        roundtrip_file(path);
        count++;
    }
    closedir(d);
    assert_true(count >= 20);
}

/* A random instruction that passes vm_insn_check at index i of n. */
static void random_insn(uint8_t *p, uint32_t i, uint32_t n)
{
    char why[160];
    do {
        uint8_t op;
        do
            op = (uint8_t)next();
        while (!vm_ops[op].name);
        p[0] = op;
        p[1] = (uint8_t)(next() % 16);
        p[2] = (uint8_t)(next() % 16);
        p[3] = (uint8_t)(next() % 16);
        int32_t imm = (int32_t)(uint32_t)next();
        switch (vm_ops[op].fmt) {
        case FMT_RRRR: imm = (int32_t)(next() % 16); break;
        case FMT_RRS: imm = (int32_t)(next() % 64); break;
        case FMT_SYS: imm = 1 + (int32_t)(next() % VM_SYS_MAX); break;
        case FMT_L:
        case FMT_RL:
        case FMT_RRL: imm = (int32_t)(next() % n) * 8 - (int32_t)i * 8; break;
        default:
            if (next() % 2) imm %= 1000;
        }
        util_put_u32le(p + 4, (uint32_t)imm);
        /* Clear the fields the format does not use. */
        switch (vm_ops[op].fmt) {
        case FMT_N:
        case FMT_L:
        case FMT_SYS: p[1] = 0; /* fall through */
        case FMT_RI:
        case FMT_RU:
        case FMT_RL: p[2] = 0; /* fall through */
        case FMT_RR:
        case FMT_RRI:
        case FMT_RRS:
        case FMT_RRNZ:
        case FMT_LD:
        case FMT_ST:
        case FMT_RRL: p[3] = 0; break;
        default: break;
        }
        if (vm_ops[op].fmt == FMT_N || vm_ops[op].fmt == FMT_RR || vm_ops[op].fmt == FMT_RRR)
            memset(p + 4, 0, 4);
    } while (vm_insn_check(p, i * 8, n * 8, why, sizeof why) != 0);
}

static void test_roundtrip_random(void **state)
{
    (void)state;
    static uint8_t b[VM_CODE_MAX];
    for (int iter = 0; iter < 400; iter++) {
        uint32_t n = 1 + (uint32_t)(next() % 200), dlen = (uint32_t)(next() % 64);
        if (iter % 4 == 0) dlen = 0;
        for (uint32_t i = 0; i < n; i++)
            random_insn(b + 16 + 8 * i, i, n);
        b[16 + 8 * (n - 1)] = OP_STOP;
        memset(b + 16 + 8 * (n - 1) + 1, 0, 7);
        for (uint32_t i = 0; i < dlen; i++)
            b[16 + 8 * n + i] = (uint8_t)next();
        uint32_t entry = 16 + 8 * (uint32_t)(next() % n);
        memcpy(b, "OLVM\x01\x00", 6);
        b[6] = (uint8_t)entry;
        b[7] = (uint8_t)(entry >> 8);
        util_put_u32le(b + 8, 8 * n);
        util_put_u32le(b + 12, dlen);
        size_t len = 16 + 8 * n + dlen;
        vm_program *p;
        util_err err;
        if (vm_verify(b, len, &p, NULL, &err)) fail_msg("generated program: %s", err.msg);
        vm_program_free(p);
        roundtrip(b, len, "random valid program");

        /* Corrupt it: random bytes in some instructions, maybe a bad entry.
         * Still disassembles (.unverified, .insn) and reassembles exactly. */
        for (int k = 0; k < 3; k++)
            b[16 + next() % (8 * n)] = (uint8_t)next();
        if (next() % 4 == 0) {
            b[6] = (uint8_t)next();
            b[7] = (uint8_t)(next() % 0x60);
        }
        roundtrip(b, len, "random corrupted program");
    }
}

static void test_disasm_rejects(void **state)
{
    (void)state;
    util_buf out;
    util_buf_init(&out);
    util_err err;
    uint8_t b[32] = "OLVM\x01\x00\x10\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01";
    assert_int_equal(vm_disasm(b, 24, &out, &err), 0);
    assert_non_null(strstr((char *)out.data, "stop"));
    util_buf_reset(&out);
    assert_int_equal(vm_disasm(NULL, 0, &out, &err), UTIL_EINVAL);
    assert_int_equal(vm_disasm(b, 15, &out, &err), UTIL_EINVAL);
    assert_int_equal(vm_disasm(b, 23, &out, &err), UTIL_EINVAL);
    assert_int_equal(vm_disasm(b, 25, &out, &err), UTIL_EINVAL);
    b[4] = 2;
    assert_int_equal(vm_disasm(b, 24, &out, &err), UTIL_EINVAL);
    b[4] = 1;
    b[5] = 1;
    assert_int_equal(vm_disasm(b, 24, &out, &err), UTIL_EINVAL);
    b[5] = 0;
    b[8] = 0;
    assert_int_equal(vm_disasm(b, 16, &out, &err), UTIL_EINVAL);
    b[8] = 4;
    assert_int_equal(vm_disasm(b, 20, &out, &err), UTIL_EINVAL);
    b[0] = 'X';
    assert_int_equal(vm_disasm(b, 24, &out, &err), UTIL_EINVAL);
    util_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_roundtrip_corpus),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_disasm_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
