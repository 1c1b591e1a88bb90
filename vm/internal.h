/* Verified program representation shared by the verifier and the
 * interpreter. Not part of the public API. */
#ifndef OL_VM_INTERNAL_H
#define OL_VM_INTERNAL_H

#include <stdint.h>

#include "vm/vm.h"

/* One decoded instruction. Control transfers carry the static gas of the
 * block they enter, so the interpreter charges a block with no lookup:
 *   branches: gas = target block, gas2 = fall-through block;
 *   JMP: gas = target block; CALL: gas = callee block, gas2 = block after
 *   the CALL (charged by the matching RET); OP_GAS: gas = the block that
 *   starts at the next instruction. */
typedef struct vm_insn {
    uint8_t op, a, b, c;
    uint32_t target; /* index into vm_program.code */
    int64_t imm;     /* sign-extended; shift amounts already masked */
    uint32_t gas, gas2;
} vm_insn;

struct vm_program {
    vm_insn *code;     /* decoded, with OP_GAS inserted where blocks are entered by falling through */
    uint32_t *origin;  /* code index -> blob offset of its instruction */
    uint32_t n;        /* entries in code */
    uint32_t entry;    /* code index of the entry instruction */
    uint32_t entry_gas;/* static gas of the entry block */
    uint32_t n_insns;  /* instructions in the blob */
    uint32_t n_blocks;
    uint8_t *data;
    uint32_t data_len;
};

#endif
