/* Instruction set of the contract VM: opcodes, encodings, static gas, host
 * functions. docs/vm.md is the prose version of these tables; keep the two
 * in step.
 *
 * Blob layout (all integers little-endian):
 *   0  magic "OLVM"
 *   4  u8  version (VM_VERSION)
 *   5  u8  flags, must be 0
 *   6  u16 entry: blob offset of the first instruction to run
 *   8  u32 code_len: bytes of instructions, a multiple of 8
 *   12 u32 data_len: bytes of the data segment
 *   16 instructions, then the data segment; nothing after it.
 *
 * Instruction (8 bytes): op u8 | a u8 | b u8 | c u8 | imm i32.
 * Fields an opcode does not use must be zero, so every valid blob has
 * exactly one text form. Branch targets are imm = target - (offset of the
 * branch), in bytes. */
#ifndef OL_VM_ISA_H
#define OL_VM_ISA_H

#include <stddef.h>
#include <stdint.h>
#include "util/err.h"

#define VM_MAGIC "OLVM"
#define VM_VERSION 1

/* Operand formats; the assembler syntax of each is in docs/vm.md. */
enum vm_fmt {
    FMT_N = 1, /* op */
    FMT_RR,    /* op ra, rb */
    FMT_RRR,   /* op ra, rb, rc */
    FMT_RRRR,  /* op ra, rb, rc, rd        (rd in imm) */
    FMT_RI,    /* op ra, imm               (imm sign-extended) */
    FMT_RU,    /* op ra, imm               (imm as an unsigned 32-bit pattern) */
    FMT_RRI,   /* op ra, rb, imm */
    FMT_RRS,   /* op ra, rb, imm           (shift amount 0..63) */
    FMT_RRNZ,  /* op ra, rb, imm           (imm != 0) */
    FMT_LD,    /* op ra, [rb + imm] */
    FMT_ST,    /* op [ra + imm], rb */
    FMT_L,     /* op target */
    FMT_RL,    /* op ra, target */
    FMT_RRL,   /* op ra, rb, target */
    FMT_SYS,   /* op hostfn                (imm = host function number) */
};

/* X(NAME, opcode, mnemonic, format, static gas) */
#define VM_OPS(X)                                                                                  \
    X(STOP, 0x01, "stop", FMT_N, 1)                                                                \
    X(RETURN, 0x02, "return", FMT_RR, 2)                                                           \
    X(REVERT, 0x03, "revert", FMT_RR, 2)                                                           \
    X(JMP, 0x04, "jmp", FMT_L, 1)                                                                  \
    X(CALL, 0x05, "call", FMT_L, 3)                                                                \
    X(RET, 0x06, "ret", FMT_N, 2)                                                                  \
    X(NOP, 0x07, "nop", FMT_N, 1)                                                                  \
    X(BEQ, 0x08, "beq", FMT_RRL, 1)                                                                \
    X(BNE, 0x09, "bne", FMT_RRL, 1)                                                                \
    X(BLTU, 0x0a, "bltu", FMT_RRL, 1)                                                              \
    X(BGEU, 0x0b, "bgeu", FMT_RRL, 1)                                                              \
    X(BLT, 0x0c, "blt", FMT_RRL, 1)                                                                \
    X(BGE, 0x0d, "bge", FMT_RRL, 1)                                                                \
    X(BEQZ, 0x0e, "beqz", FMT_RL, 1)                                                               \
    X(BNEZ, 0x0f, "bnez", FMT_RL, 1)                                                               \
    X(MOV, 0x10, "mov", FMT_RR, 1)                                                                 \
    X(LDI, 0x11, "ldi", FMT_RI, 1)                                                                 \
    X(LDHI, 0x12, "ldhi", FMT_RU, 1)                                                               \
    X(NOT, 0x13, "not", FMT_RR, 1)                                                                 \
    X(ADD, 0x20, "add", FMT_RRR, 1)                                                                \
    X(SUB, 0x21, "sub", FMT_RRR, 1)                                                                \
    X(MUL, 0x22, "mul", FMT_RRR, 2)                                                                \
    X(DIVU, 0x23, "divu", FMT_RRR, 4)                                                              \
    X(MODU, 0x24, "modu", FMT_RRR, 4)                                                              \
    X(AND, 0x25, "and", FMT_RRR, 1)                                                                \
    X(OR, 0x26, "or", FMT_RRR, 1)                                                                  \
    X(XOR, 0x27, "xor", FMT_RRR, 1)                                                                \
    X(SHL, 0x28, "shl", FMT_RRR, 1)                                                                \
    X(SHR, 0x29, "shr", FMT_RRR, 1)                                                                \
    X(SAR, 0x2a, "sar", FMT_RRR, 1)                                                                \
    X(ADDC, 0x2b, "addc", FMT_RRR, 1)                                                              \
    X(SUBC, 0x2c, "subc", FMT_RRR, 1)                                                              \
    X(MULC, 0x2d, "mulc", FMT_RRR, 2)                                                              \
    X(SLTU, 0x2e, "sltu", FMT_RRR, 1)                                                              \
    X(SLT, 0x2f, "slt", FMT_RRR, 1)                                                                \
    X(SEQ, 0x30, "seq", FMT_RRR, 1)                                                                \
    X(MULDIV, 0x31, "muldiv", FMT_RRRR, 8)                                                         \
    X(ADDI, 0x40, "addi", FMT_RRI, 1)                                                              \
    X(MULI, 0x41, "muli", FMT_RRI, 2)                                                              \
    X(DIVUI, 0x42, "divui", FMT_RRNZ, 4)                                                           \
    X(MODUI, 0x43, "modui", FMT_RRNZ, 4)                                                           \
    X(ANDI, 0x44, "andi", FMT_RRI, 1)                                                              \
    X(ORI, 0x45, "ori", FMT_RRI, 1)                                                                \
    X(XORI, 0x46, "xori", FMT_RRI, 1)                                                              \
    X(SHLI, 0x47, "shli", FMT_RRS, 1)                                                              \
    X(SHRI, 0x48, "shri", FMT_RRS, 1)                                                              \
    X(SARI, 0x49, "sari", FMT_RRS, 1)                                                              \
    X(LD8, 0x50, "ld8", FMT_LD, 2)                                                                 \
    X(LD16, 0x51, "ld16", FMT_LD, 2)                                                               \
    X(LD32, 0x52, "ld32", FMT_LD, 2)                                                               \
    X(LD64, 0x53, "ld64", FMT_LD, 2)                                                               \
    X(ST8, 0x54, "st8", FMT_ST, 2)                                                                 \
    X(ST16, 0x55, "st16", FMT_ST, 2)                                                               \
    X(ST32, 0x56, "st32", FMT_ST, 2)                                                               \
    X(ST64, 0x57, "st64", FMT_ST, 2)                                                               \
    X(MCOPY, 0x58, "mcopy", FMT_RRR, 2)                                                            \
    X(SYS, 0x60, "sys", FMT_SYS, 0)

enum vm_op {
#define VM_X_ENUM(name, code, mn, fmt, gas) OP_##name = code,
    VM_OPS(VM_X_ENUM)
#undef VM_X_ENUM
    /* Internal to a vm_program, never valid in a blob: charges the static
     * gas of the block that execution falls through into. */
    OP_GAS = 0xf0,
};

/* Host functions: X(NAME, number, mnemonic, static gas). Arguments in r1..r3,
 * result (if any) in r0; every other register is preserved. */
#define VM_SYSCALLS(X)                                                                             \
    X(CALLER, 1, "caller", 3)                                                                      \
    X(SELF, 2, "self", 3)                                                                          \
    X(VALUE, 3, "value", 2)                                                                        \
    X(INPUT_SIZE, 4, "input_size", 2)                                                              \
    X(INPUT, 5, "input", 3)                                                                        \
    X(BALANCE, 6, "balance", 100)                                                                  \
    X(PAY, 7, "pay", 300)                                                                          \
    X(SLOAD, 8, "sload", 200)                                                                      \
    X(SSTORE, 9, "sstore", 2000)                                                                   \
    X(EMIT, 10, "emit", 100)                                                                       \
    X(HEIGHT, 11, "height", 2)                                                                     \
    X(TIME, 12, "time", 2)                                                                         \
    X(REC_HAS, 13, "rec_has", 2)                                                                   \
    X(REC_ID, 14, "rec_id", 2)                                                                     \
    X(REC_MODEL, 15, "rec_model", 2)                                                               \
    X(REC_FEE, 16, "rec_fee", 2)                                                                   \
    X(REC_OWNER, 17, "rec_owner", 3)                                                               \
    X(REC_SPLIT, 18, "rec_split", 3)                                                               \
    X(REC_VALIDATORS, 19, "rec_validators", 3)                                                     \
    X(REC_COUNT, 20, "rec_count", 2)                                                               \
    X(REC_ENTRY, 21, "rec_entry", 4)

enum vm_sysno {
#define VM_X_SYS(name, no, mn, gas) SYS_##name = no,
    VM_SYSCALLS(VM_X_SYS)
#undef VM_X_SYS
};
#define VM_SYS_MAX 21

/* Dynamic gas: per started 32-byte word copied (INPUT, MCOPY, RETURN,
 * REVERT) and per started word of log data (EMIT). */
#define VM_GAS_COPY_WORD 1
#define VM_GAS_LOG_WORD 8
/* Dynamic gas of SSTORE per byte of key + value written (32 + 32, whatever
 * the value, zeros included: deleting a slot costs the tree and the database
 * as much as writing it), on top of its static gas: a written slot's share of
 * the state root update and of the block's database write (docs/vm.md, "Gas"). */
#define VM_GAS_SSTORE_BYTE 200
#define VM_SSTORE_BYTES (2 * VM_KEY_LEN)

typedef struct vm_opinfo {
    const char *name; /* NULL: not an opcode */
    uint8_t fmt;
    uint8_t gas;
} vm_opinfo;

typedef struct vm_sysinfo {
    const char *name; /* NULL: not a host function */
    uint32_t gas;
} vm_sysinfo;

extern const vm_opinfo vm_ops[256];
extern const vm_sysinfo vm_sys[VM_SYS_MAX + 1];

/* Opcode after which execution never continues with the next instruction. */
static inline int vm_op_is_terminator(uint8_t op)
{
    return op == OP_STOP || op == OP_RETURN || op == OP_REVERT || op == OP_JMP || op == OP_RET;
}

static inline int vm_fmt_has_target(uint8_t fmt)
{
    return fmt == FMT_L || fmt == FMT_RL || fmt == FMT_RRL;
}

/* Per-instruction check shared by the verifier and the disassembler: the
 * encoding of the instruction at code offset `at` (0 = first instruction)
 * in a code section of code_len bytes. Returns 0 if valid, else -1 with the
 * reason in why. */
OL_MUST_CHECK int vm_insn_check(const uint8_t ins[8], uint32_t at, uint32_t code_len, char *why,
                                size_t whylen);

static inline int32_t vm_insn_imm(const uint8_t ins[8])
{
    return (int32_t)((uint32_t)ins[4] | (uint32_t)ins[5] << 8 | (uint32_t)ins[6] << 16 |
                     (uint32_t)ins[7] << 24);
}

#endif
