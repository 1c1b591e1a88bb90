/* The interpreter: computed-goto dispatch over a verified program. The
 * verifier guaranteed every opcode, register and target, so the only check
 * on the straight path is gas, charged per basic block by the control
 * transfer that enters it; memory, division and call depth are checked by
 * the instructions that need them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "vm/internal.h"
#include "vm/isa.h"

#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LE16(x) __builtin_bswap16(x)
#define LE32(x) __builtin_bswap32(x)
#define LE64(x) __builtin_bswap64(x)
#else
#define LE16(x) (x)
#define LE32(x) (x)
#define LE64(x) (x)
#endif

static inline uint64_t ld_n(const uint8_t *p, int n)
{
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (n) {
    case 1: memcpy(&v8, p, 1); return v8;
    case 2: memcpy(&v16, p, 2); return LE16(v16);
    case 4: memcpy(&v32, p, 4); return LE32(v32);
    default: memcpy(&v64, p, 8); return LE64(v64);
    }
}

static inline void st_n(uint8_t *p, uint64_t v, int n)
{
    uint8_t v8 = (uint8_t)v;
    uint16_t v16 = LE16((uint16_t)v);
    uint32_t v32 = LE32((uint32_t)v);
    uint64_t v64 = LE64(v);
    switch (n) {
    case 1: memcpy(p, &v8, 1); break;
    case 2: memcpy(p, &v16, 2); break;
    case 4: memcpy(p, &v32, 4); break;
    default: memcpy(p, &v64, 8); break;
    }
}

/* Signed order on two's complement bit patterns, without signed conversions. */
static inline int lt_signed(uint64_t x, uint64_t y)
{
    return (x ^ (1ULL << 63)) < (y ^ (1ULL << 63));
}

static inline uint64_t sar(uint64_t x, unsigned s)
{
    uint64_t r = x >> s;
    if (x >> 63) r |= ~(UINT64_MAX >> s);
    return r;
}

void vm_result_free(vm_result *r)
{
    if (!r) return;
    free(r->ret);
    free(r->events);
    free(r->event_data);
    r->ret = NULL;
    r->events = NULL;
    r->event_data = NULL;
    r->ret_len = r->n_events = r->event_data_len = 0;
}

static int end_data(vm_run *run, uint64_t p, uint64_t n, int revert, uint64_t *gas)
{
    vm_result *res = run->res;
    if (!vm_range_ok(p, n)) {
        snprintf(res->detail, sizeof res->detail,
                 "%s: %llu bytes at address %llu are outside memory", revert ? "revert" : "return",
                 (unsigned long long)n, (unsigned long long)p);
        return VM_E_MEMORY;
    }
    if (revert) {
        if (n > VM_MAX_REVERT) n = VM_MAX_REVERT;
    } else if (n > VM_MAX_RETURN) {
        snprintf(res->detail, sizeof res->detail, "return of %llu bytes, over the limit of %d",
                 (unsigned long long)n, VM_MAX_RETURN);
        return VM_E_RETURN;
    }
    uint64_t g = VM_GAS_COPY_WORD * vm_words(n);
    if (*gas < g) {
        *gas = 0;
        snprintf(res->detail, sizeof res->detail, "out of gas copying %s data",
                 revert ? "revert" : "return");
        return VM_E_GAS;
    }
    *gas -= g;
    if (revert) {
        memcpy(res->revert, run->mem + p, (size_t)n);
        res->revert_len = (size_t)n;
        return VM_REVERTED;
    }
    if (n) {
        res->ret = malloc((size_t)n);
        if (!res->ret) return VM_RUN_ENOMEM;
        memcpy(res->ret, run->mem + p, (size_t)n);
        res->ret_len = (size_t)n;
    }
    return VM_OK;
}

/* Executes the program; returns a vm_status or VM_RUN_EIO / VM_RUN_ENOMEM,
 * and the gas left and the index of the instruction that ended the run. */
static int exec(vm_run *run, uint64_t *gas_io, uint32_t *end, const void *const **table)
{
    static const void *const tbl[256] = {
#define VM_X_LBL(name, code, mn, fmt, g) [code] = &&L_##name,
        VM_OPS(VM_X_LBL)
#undef VM_X_LBL
            [OP_GAS] = &&L_GAS,
        [OP_DIVM] = &&L_DIVM,
        [OP_MODM] = &&L_MODM,
        [OP_DIVP] = &&L_DIVP,
        [OP_MODP] = &&L_MODP,
    };
    if (table) {
        *table = tbl;
        return 0;
    }
    const vm_insn *const code = run->p->code;
    const vm_insn *ip = code + run->p->entry;
    uint8_t *const mem = run->mem;
    uint64_t reg[VM_NREGS] = {0};
    uint32_t stack[VM_CALL_DEPTH];
    unsigned sp = 0;
    uint64_t gas = *gas_io;
    int st = VM_OK;
    char *detail = run->res->detail;
    const size_t dlen = sizeof run->res->detail;

#define DISPATCH() goto * ip->h
#define NEXT()                                                                                     \
    do {                                                                                           \
        ip++;                                                                                      \
        DISPATCH();                                                                                \
    } while (0)
#define JUMP(t)                                                                                    \
    do {                                                                                           \
        ip = code + (t);                                                                           \
        DISPATCH();                                                                                \
    } while (0)
#define CHARGE(g)                                                                                  \
    do {                                                                                           \
        uint64_t g_ = (g);                                                                         \
        if (UNLIKELY(gas < g_)) goto out_of_gas;                                                   \
        gas -= g_;                                                                                 \
    } while (0)
#define FAULT(s, ...)                                                                              \
    do {                                                                                           \
        snprintf(detail, dlen, __VA_ARGS__);                                                       \
        st = (s);                                                                                  \
        goto done;                                                                                 \
    } while (0)
#define A reg[ip->a]
#define B reg[ip->b]
#define C reg[ip->c]
#define IMM ((uint64_t)ip->imm)
#define BRANCH(cond)                                                                               \
    do {                                                                                           \
        if (cond) {                                                                                \
            CHARGE(ip->gas);                                                                       \
            JUMP(ip->target);                                                                      \
        }                                                                                          \
        CHARGE(ip->gas2);                                                                          \
        NEXT();                                                                                    \
    } while (0)
#define LOAD(n)                                                                                    \
    do {                                                                                           \
        uint64_t ad_ = B + IMM;                                                                    \
        if (UNLIKELY(ad_ > VM_MEM_SIZE - (n)))                                                     \
            FAULT(VM_E_MEMORY, "load of %d bytes at address %llu", n, (unsigned long long)ad_);    \
        A = ld_n(mem + ad_, n);                                                                    \
        NEXT();                                                                                    \
    } while (0)
#define STORE(n)                                                                                   \
    do {                                                                                           \
        uint64_t ad_ = A + IMM;                                                                    \
        if (UNLIKELY(ad_ > VM_MEM_SIZE - (n)))                                                     \
            FAULT(VM_E_MEMORY, "store of %d bytes at address %llu", n, (unsigned long long)ad_);   \
        st_n(mem + ad_, B, n);                                                                     \
        NEXT();                                                                                    \
    } while (0)

    CHARGE(run->p->entry_gas);
    DISPATCH();

L_GAS:
    CHARGE(ip->gas);
    NEXT();
L_NOP:
    NEXT();
L_STOP:
    goto done;
L_RETURN:
    st = end_data(run, A, B, 0, &gas);
    goto done;
L_REVERT:
    st = end_data(run, A, B, 1, &gas);
    goto done;
L_JMP:
    CHARGE(ip->gas);
    JUMP(ip->target);
L_CALL:
    if (UNLIKELY(sp == VM_CALL_DEPTH))
        FAULT(VM_E_DEPTH, "call nested deeper than %d", VM_CALL_DEPTH);
    stack[sp++] = (uint32_t)(ip - code);
    CHARGE(ip->gas);
    JUMP(ip->target);
L_RET:
    if (sp == 0) goto done; /* returning from the entry function ends the call */
    {
        uint32_t c = stack[--sp];
        CHARGE(code[c].gas2);
        JUMP(c + 1);
    }
L_BEQ:
    BRANCH(A == B);
L_BNE:
    BRANCH(A != B);
L_BLTU:
    BRANCH(A < B);
L_BGEU:
    BRANCH(A >= B);
L_BLT:
    BRANCH(lt_signed(A, B));
L_BGE:
    BRANCH(!lt_signed(A, B));
L_BEQZ:
    BRANCH(A == 0);
L_BNEZ:
    BRANCH(A != 0);
L_MOV:
    A = B;
    NEXT();
L_LDI:
    A = IMM;
    NEXT();
L_LDHI:
    A = (A & 0xffffffffu) | IMM;
    NEXT();
L_NOT:
    A = ~B;
    NEXT();
L_ADD:
    A = B + C;
    NEXT();
L_SUB:
    A = B - C;
    NEXT();
L_MUL:
    A = B * C;
    NEXT();
L_DIVU:
    if (UNLIKELY(C == 0)) FAULT(VM_E_DIVZERO, "divu by zero");
    A = B / C;
    NEXT();
L_MODU:
    if (UNLIKELY(C == 0)) FAULT(VM_E_DIVZERO, "modu by zero");
    A = B % C;
    NEXT();
L_AND:
    A = B & C;
    NEXT();
L_OR:
    A = B | C;
    NEXT();
L_XOR:
    A = B ^ C;
    NEXT();
L_SHL:
    A = B << (C & 63);
    NEXT();
L_SHR:
    A = B >> (C & 63);
    NEXT();
L_SAR:
    A = sar(B, (unsigned)(C & 63));
    NEXT();
L_ADDC:
    if (UNLIKELY(B > UINT64_MAX - C))
        FAULT(VM_E_OVERFLOW, "addc: %llu + %llu overflows", (unsigned long long)B,
              (unsigned long long)C);
    A = B + C;
    NEXT();
L_SUBC:
    if (UNLIKELY(B < C))
        FAULT(VM_E_OVERFLOW, "subc: %llu - %llu underflows", (unsigned long long)B,
              (unsigned long long)C);
    A = B - C;
    NEXT();
L_MULC : {
    uint64_t r;
    if (UNLIKELY(__builtin_mul_overflow(B, C, &r)))
        FAULT(VM_E_OVERFLOW, "mulc: %llu * %llu overflows", (unsigned long long)B,
              (unsigned long long)C);
    A = r;
    NEXT();
}
L_SLTU:
    A = B < C;
    NEXT();
L_SLT:
    A = (uint64_t)lt_signed(B, C);
    NEXT();
L_SEQ:
    A = B == C;
    NEXT();
L_MULDIV : {
    uint64_t d = reg[ip->imm];
    if (UNLIKELY(d == 0)) FAULT(VM_E_DIVZERO, "muldiv by zero");
    unsigned __int128 q = (unsigned __int128)B * C / d;
    if (UNLIKELY(q >> 64)) FAULT(VM_E_OVERFLOW, "muldiv quotient does not fit in 64 bits");
    A = (uint64_t)q;
    NEXT();
}
L_DIVM : {
    uint64_t x = B, t = (uint64_t)(((unsigned __int128)ip->magic * x) >> 64);
    A = (t + ((x - t) >> 1)) >> ip->target;
    NEXT();
}
L_MODM : {
    uint64_t x = B, t = (uint64_t)(((unsigned __int128)ip->magic * x) >> 64);
    A = x - ((t + ((x - t) >> 1)) >> ip->target) * IMM;
    NEXT();
}
L_DIVP:
    A = B >> ip->magic;
    NEXT();
L_MODP:
    A = B & ip->magic;
    NEXT();
L_ADDI:
    A = B + IMM;
    NEXT();
L_MULI:
    A = B * IMM;
    NEXT();
L_DIVUI:
    A = B / IMM;
    NEXT();
L_MODUI:
    A = B % IMM;
    NEXT();
L_ANDI:
    A = B & IMM;
    NEXT();
L_ORI:
    A = B | IMM;
    NEXT();
L_XORI:
    A = B ^ IMM;
    NEXT();
L_SHLI:
    A = B << IMM;
    NEXT();
L_SHRI:
    A = B >> IMM;
    NEXT();
L_SARI:
    A = sar(B, (unsigned)IMM);
    NEXT();
L_LD8:
    LOAD(1);
L_LD16:
    LOAD(2);
L_LD32:
    LOAD(4);
L_LD64:
    LOAD(8);
L_ST8:
    STORE(1);
L_ST16:
    STORE(2);
L_ST32:
    STORE(4);
L_ST64:
    STORE(8);
L_MCOPY : {
    uint64_t n = C;
    if (UNLIKELY(!vm_range_ok(A, n) || !vm_range_ok(B, n)))
        FAULT(VM_E_MEMORY, "mcopy of %llu bytes from %llu to %llu", (unsigned long long)n,
              (unsigned long long)B, (unsigned long long)A);
    CHARGE(VM_GAS_COPY_WORD * vm_words(n));
    memmove(mem + A, mem + B, (size_t)n);
    NEXT();
}
L_SYS:
    st = vm_syscall(run, reg, ip->imm, &gas);
    if (UNLIKELY(st != VM_OK)) goto done;
    NEXT();

out_of_gas:
    gas = 0;
    st = VM_E_GAS;
    snprintf(detail, dlen, "out of gas");
done:
    *gas_io = gas;
    *end = (uint32_t)(ip - code);
    return st;
#undef DISPATCH
#undef NEXT
#undef JUMP
#undef CHARGE
#undef FAULT
#undef A
#undef B
#undef C
#undef IMM
#undef BRANCH
#undef LOAD
#undef STORE
}

const void *const *vm_interp_handlers(void)
{
    const void *const *tbl = NULL;
    exec(NULL, NULL, NULL, &tbl);
    return tbl;
}

int vm_call(const vm_program *prog, const vm_host *host, const vm_env *env, uint64_t gas_limit,
            vm_result *res, util_err *err)
{
    memset(res, 0, sizeof *res);
    vm_run run = {.p = prog, .h = host, .env = env, .res = res};
    util_buf_init(&run.evdata);
    run.mem = calloc(1, VM_MEM_SIZE);
    if (!run.mem) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    if (prog->data_len) memcpy(run.mem, prog->data, prog->data_len);

    uint64_t gas = gas_limit;
    uint32_t end = prog->entry;
    int st = exec(&run, &gas, &end, NULL);
    free(run.mem);
    if (st < 0) {
        util_buf_free(&run.evdata);
        vm_result_free(res);
        if (st == VM_RUN_EIO) return util_err_set(err, UTIL_EIO, "host failed during the call");
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    res->status = st;
    res->end_pc = prog->origin[end];
    res->gas_used = gas_limit - gas;
    if (st != VM_OK) {
        /* Nothing of a failed call survives but its gas and revert message. */
        util_buf_free(&run.evdata);
        vm_result_free(res);
        return 0;
    }
    if (util_buf_take(&run.evdata, &res->event_data, &res->event_data_len)) {
        util_buf_free(&run.evdata);
        vm_result_free(res);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    return 0;
}
