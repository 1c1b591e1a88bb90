/* Opcode and host-function tables, the per-instruction encoding check, and
 * status names. */
#include "vm/isa.h"

#include <stdio.h>

#include "vm/vm.h"

const vm_opinfo vm_ops[256] = {
#define VM_X_INFO(name, code, mn, fmt, gas) [code] = {mn, fmt, gas},
    VM_OPS(VM_X_INFO)
#undef VM_X_INFO
};

const vm_sysinfo vm_sys[VM_SYS_MAX + 1] = {
#define VM_X_SINFO(name, no, mn, gas) [no] = {mn, gas},
    VM_SYSCALLS(VM_X_SINFO)
#undef VM_X_SINFO
};

static int bad_reg(uint8_t r, char field, char *why, size_t whylen)
{
    if (r < VM_NREGS) return 0;
    snprintf(why, whylen, "bad register %u in field %c (r0..r15)", r, field);
    return -1;
}

static int must_be_zero(uint32_t v, const char *field, char *why, size_t whylen)
{
    if (v == 0) return 0;
    snprintf(why, whylen, "unused field %s is not zero", field);
    return -1;
}

static int check_target(uint32_t at, int32_t imm, uint32_t code_len, char *why, size_t whylen)
{
    int64_t t = (int64_t)at + imm;
    if (t < 0 || t >= (int64_t)code_len) {
        snprintf(why, whylen, "jump target %+d is outside the code", (int)imm);
        return -1;
    }
    if (t % VM_INSN_SIZE) {
        snprintf(why, whylen, "jump target %+d is not on an instruction", (int)imm);
        return -1;
    }
    return 0;
}

int vm_insn_check(const uint8_t ins[8], uint32_t at, uint32_t code_len, char *why, size_t whylen)
{
    const vm_opinfo *oi = &vm_ops[ins[0]];
    uint8_t a = ins[1], b = ins[2], c = ins[3];
    int32_t imm = vm_insn_imm(ins);
    if (!oi->name) {
        snprintf(why, whylen, "unknown opcode 0x%02x", ins[0]);
        return -1;
    }
    /* Which fields the format uses: registers a, b, c, and imm. */
    int ua = 0, ub = 0, uc = 0, ui = 1;
    switch (oi->fmt) {
    case FMT_N: ui = 0; break;
    case FMT_RR: ua = ub = 1, ui = 0; break;
    case FMT_RRR: ua = ub = uc = 1, ui = 0; break;
    case FMT_RRRR: ua = ub = uc = 1; break;
    case FMT_RI:
    case FMT_RU:
    case FMT_RL: ua = 1; break;
    case FMT_L:
    case FMT_SYS: break;
    default: ua = ub = 1; break; /* RRI, RRS, RRNZ, LD, ST, RRL */
    }
    if ((ua ? bad_reg(a, 'a', why, whylen) : must_be_zero(a, "a", why, whylen)) ||
        (ub ? bad_reg(b, 'b', why, whylen) : must_be_zero(b, "b", why, whylen)) ||
        (uc ? bad_reg(c, 'c', why, whylen) : must_be_zero(c, "c", why, whylen)) ||
        (!ui && must_be_zero((uint32_t)imm, "imm", why, whylen)))
        return -1;
    switch (oi->fmt) {
    case FMT_RRRR:
        if (imm < 0 || imm >= VM_NREGS) {
            snprintf(why, whylen, "bad register %d in imm (r0..r15)", (int)imm);
            return -1;
        }
        break;
    case FMT_RRS:
        if (imm < 0 || imm > 63) {
            snprintf(why, whylen, "shift amount %d is not in 0..63", (int)imm);
            return -1;
        }
        break;
    case FMT_RRNZ:
        if (imm == 0) {
            snprintf(why, whylen, "%s by an immediate zero", oi->name);
            return -1;
        }
        break;
    case FMT_L:
    case FMT_RL:
    case FMT_RRL: return check_target(at, imm, code_len, why, whylen);
    case FMT_SYS:
        if (imm < 1 || imm > VM_SYS_MAX || !vm_sys[imm].name) {
            snprintf(why, whylen, "unknown host function %d", (int)imm);
            return -1;
        }
        break;
    default: break;
    }
    return 0;
}

const char *vm_status_name(int status)
{
    static const char *const names[] = {
        [VM_OK] = "ok",
        [VM_REVERTED] = "reverted",
        [VM_E_GAS] = "out of gas",
        [VM_E_DIVZERO] = "division by zero",
        [VM_E_OVERFLOW] = "arithmetic overflow",
        [VM_E_MEMORY] = "memory access out of bounds",
        [VM_E_DEPTH] = "call depth exceeded",
        [VM_E_HOST] = "invalid host call",
        [VM_E_BALANCE] = "pay over balance",
        [VM_E_STORAGE] = "storage write limit",
        [VM_E_EVENTS] = "event limit",
        [VM_E_RETURN] = "return data too large",
    };
    if (status < 0 || status > VM_STATUS_MAX) return "unknown";
    return names[status];
}
