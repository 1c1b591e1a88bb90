/* Verified program representation shared by the verifier and the
 * interpreter. Not part of the public API. */
#ifndef OL_VM_INTERNAL_H
#define OL_VM_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "vm/vm.h"
#include "util/err.h"

/* One decoded instruction. Control transfers carry the static gas of the
 * block they enter, so the interpreter charges a block with no lookup:
 *   branches: gas = target block, gas2 = fall-through block;
 *   JMP: gas = target block; CALL: gas = callee block, gas2 = block after
 *   the CALL (charged by the matching RET); OP_GAS: gas = the block that
 *   starts at the next instruction.
 * h is the address of the instruction's handler in the interpreter (direct
 * threading), filled from vm_interp_handlers(). */
typedef struct vm_insn {
    const void *h;
    uint8_t op, a, b, c;
    uint32_t target; /* index into vm_program.code; division: shift */
    int64_t imm;     /* sign-extended; shift amounts already masked */
    union {
        struct {
            uint32_t gas, gas2;
        };
        uint64_t magic; /* division by a constant: multiplier, shift or mask */
    };
} vm_insn;

/* Internal opcodes, never valid in a blob. DIVUI and MODUI are rewritten to
 * these at verification: division by an invariant integer as a multiply
 * (Granlund and Montgomery, "Division by invariant integers using
 * multiplication", 1994, figure 4.1), or a shift and mask for powers of 2. */
enum {
    OP_DIVM = 0xf1,
    OP_MODM = 0xf2,
    OP_DIVP = 0xf3,
    OP_MODP = 0xf4,
};

/* The interpreter's handler table, indexed by opcode (internal ones too). */
const void *const *vm_interp_handlers(void);

/* Rewrites a DIVUI or MODUI to its internal form. */
void vm_div_prepare(vm_insn *d);

struct vm_program {
    vm_insn *code; /* decoded, with OP_GAS inserted where blocks are entered by falling through */
    uint32_t *origin;   /* code index -> blob offset of its instruction */
    uint32_t n;         /* entries in code */
    uint32_t entry;     /* code index of the entry instruction */
    uint32_t entry_gas; /* static gas of the entry block */
    uint32_t n_insns;   /* instructions in the blob */
    uint32_t n_blocks;
    uint8_t *data;
    uint32_t data_len;
    atomic_uint refs; /* vm_program_ref / vm_program_free; the program is shared read-only */
};

/* State of one call, shared by the interpreter and the host-call code. */
typedef struct vm_run {
    const vm_program *p;
    const vm_host *h;
    const vm_env *env;
    vm_result *res;
    uint8_t *mem;
    uint32_t sstores;
    size_t ev_cap;
    util_buf evdata;
} vm_run;

/* Internal outcomes of a host call besides a vm_status: the node failed. */
#define VM_RUN_EIO (-1)
#define VM_RUN_ENOMEM (-2)

/* Runs host function `no` with the registers and memory of the call; charges
 * its dynamic gas from *gas. Returns VM_OK, a fault status (detail filled),
 * or VM_RUN_EIO / VM_RUN_ENOMEM. */
OL_MUST_CHECK int vm_syscall(vm_run *run, uint64_t *reg, int64_t no, uint64_t *gas);

static inline int vm_range_ok(uint64_t p, uint64_t n)
{
    return n <= VM_MEM_SIZE && p <= VM_MEM_SIZE - n;
}

static inline uint64_t vm_words(uint64_t n)
{
    return (n + 31) / 32;
}

#endif
