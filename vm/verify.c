/* Deploy-time verification: header, every instruction's encoding, control
 * flow targets, then basic blocks and their static gas, producing the
 * decoded program the interpreter runs without further checks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "vm/internal.h"
#include "vm/isa.h"

static int reject(util_err *err, uint32_t *err_off, uint32_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int reject(util_err *err, uint32_t *err_off, uint32_t off, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (err_off) *err_off = off;
    return util_err_set(err, UTIL_EINVAL, "offset %u: %s", off, why);
}

static uint32_t static_gas(const uint8_t *ins)
{
    if (ins[0] == OP_SYS) return vm_sys[vm_insn_imm(ins)].gas;
    return vm_ops[ins[0]].gas;
}

static int check_header(const uint8_t *code, size_t len, uint32_t *entry_i, uint32_t *n,
                        uint32_t *data_len, uint32_t *err_off, util_err *err)
{
    if (len == 0) return reject(err, err_off, 0, "empty code");
    if (len > VM_CODE_MAX)
        return reject(err, err_off, VM_CODE_MAX, "code is %zu bytes, over the limit of %d bytes",
                      len, VM_CODE_MAX);
    if (len < VM_HEADER_SIZE)
        return reject(err, err_off, 0, "truncated header: %zu of %d bytes", len, VM_HEADER_SIZE);
    if (memcmp(code, VM_MAGIC, 4) != 0)
        return reject(err, err_off, 0, "bad magic: not an OLVM code blob");
    if (code[4] != VM_VERSION)
        return reject(err, err_off, 4, "unsupported version %u (expected %u)", code[4],
                      (unsigned)VM_VERSION);
    if (code[5] != 0) return reject(err, err_off, 5, "flags must be 0, got 0x%02x", code[5]);
    uint32_t entry = (uint32_t)code[6] | (uint32_t)code[7] << 8;
    uint32_t clen = util_get_u32le(code + 8), dlen = util_get_u32le(code + 12);
    if (clen % VM_INSN_SIZE)
        return reject(err, err_off, 8,
                      "code length %u is not a multiple of %d (truncated instruction)", clen,
                      VM_INSN_SIZE);
    if (clen == 0) return reject(err, err_off, 8, "missing entry point: no instructions");
    uint64_t want = (uint64_t)VM_HEADER_SIZE + clen + dlen;
    if (want > len)
        return reject(err, err_off, (uint32_t)len,
                      "truncated: the header declares %llu bytes, the blob has %zu",
                      (unsigned long long)want, len);
    if (want < len)
        return reject(err, err_off, (uint32_t)want, "%zu trailing bytes after the data segment",
                      len - (size_t)want);
    if (entry < VM_HEADER_SIZE || entry >= VM_HEADER_SIZE + clen)
        return reject(err, err_off, 6, "missing entry point: entry offset %u is not in the code",
                      entry);
    if ((entry - VM_HEADER_SIZE) % VM_INSN_SIZE)
        return reject(err, err_off, 6, "entry offset %u is not on an instruction", entry);
    *entry_i = (entry - VM_HEADER_SIZE) / VM_INSN_SIZE;
    *n = clen / VM_INSN_SIZE;
    *data_len = dlen;
    return 0;
}

/* Execution can continue into the next instruction without a control
 * transfer that already charges the next block (branches charge their
 * fall-through block, RET charges the block after its CALL). */
static int plain_fallthrough(uint8_t op)
{
    return !vm_op_is_terminator(op) && !vm_fmt_has_target(vm_ops[op].fmt);
}

static void decode(vm_insn *d, const uint8_t *ins)
{
    int32_t imm = vm_insn_imm(ins);
    d->op = ins[0];
    d->a = ins[1];
    d->b = ins[2];
    d->c = ins[3];
    d->imm = imm;
    if (vm_ops[ins[0]].fmt == FMT_RU) d->imm = (int64_t)((uint64_t)(uint32_t)imm << 32);
    if (d->op == OP_DIVUI || d->op == OP_MODUI) vm_div_prepare(d);
}

void vm_div_prepare(vm_insn *d)
{
    uint64_t dv = (uint64_t)d->imm;
    int div = d->op == OP_DIVUI;
    if ((dv & (dv - 1)) == 0) {
        d->op = div ? OP_DIVP : OP_MODP;
        d->magic = div ? (uint64_t)__builtin_ctzll(dv) : dv - 1;
        return;
    }
    /* l = ceil(log2 dv) in 2..64; m = floor(2^64 (2^l - dv) / dv) + 1 < 2^64. */
    unsigned l = 64 - (unsigned)__builtin_clzll(dv - 1);
    uint64_t two_l_minus_d = (l == 64 ? 0 : (1ULL << l)) - dv;
    d->op = div ? OP_DIVM : OP_MODM;
    d->magic = (uint64_t)(((unsigned __int128)two_l_minus_d << 64) / dv) + 1;
    d->target = l - 1;
}

static int build(vm_program *p, const uint8_t *ins0, uint32_t n, uint32_t entry_i)
{
    uint8_t *leader = calloc(n, 1);
    uint32_t *bgas = calloc(n, sizeof *bgas);
    uint32_t *idx = calloc(n, sizeof *idx);
    int rc = UTIL_ENOMEM;
    if (!leader || !bgas || !idx) goto out;

    leader[0] = leader[entry_i] = 1;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *ins = ins0 + (size_t)i * VM_INSN_SIZE;
        if (vm_fmt_has_target(vm_ops[ins[0]].fmt))
            leader[(i * VM_INSN_SIZE + (uint32_t)vm_insn_imm(ins)) / VM_INSN_SIZE] = 1;
        if ((vm_fmt_has_target(vm_ops[ins[0]].fmt) || vm_op_is_terminator(ins[0])) && i + 1 < n)
            leader[i + 1] = 1;
    }
    uint32_t extra = 0, start = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (leader[i]) {
            start = i;
            p->n_blocks++;
            if (i > 0 && plain_fallthrough(ins0[(size_t)(i - 1) * VM_INSN_SIZE])) extra++;
        }
        bgas[start] += static_gas(ins0 + (size_t)i * VM_INSN_SIZE);
    }
    p->n = n + extra;
    p->code = calloc(p->n, sizeof *p->code);
    p->origin = calloc(p->n, sizeof *p->origin);
    if (!p->code || !p->origin) goto out;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t off = VM_HEADER_SIZE + i * VM_INSN_SIZE;
        if (leader[i] && i > 0 && plain_fallthrough(ins0[(size_t)(i - 1) * VM_INSN_SIZE])) {
            p->code[k].op = OP_GAS;
            p->code[k].gas = bgas[i];
            p->origin[k++] = off;
        }
        idx[i] = k;
        decode(&p->code[k], ins0 + (size_t)i * VM_INSN_SIZE);
        p->origin[k++] = off;
    }
    for (uint32_t i = 0; i < n; i++) {
        vm_insn *d = &p->code[idx[i]];
        if (!vm_fmt_has_target(vm_ops[d->op].fmt)) continue;
        uint32_t t = (uint32_t)((int64_t)i * VM_INSN_SIZE + d->imm) / VM_INSN_SIZE;
        d->target = idx[t];
        d->gas = bgas[t];
        /* Not a terminator except JMP, so the verifier guaranteed i + 1 < n. */
        if (d->op != OP_JMP) d->gas2 = bgas[i + 1];
    }
    const void *const *handlers = vm_interp_handlers();
    for (uint32_t j = 0; j < p->n; j++)
        p->code[j].h = handlers[p->code[j].op];
    p->entry = idx[entry_i];
    p->entry_gas = bgas[entry_i];
    rc = 0;
out:
    free(leader);
    free(bgas);
    free(idx);
    return rc;
}

int vm_verify(const uint8_t *code, size_t len, vm_program **out, uint32_t *err_off, util_err *err)
{
    uint32_t entry_i = 0, n = 0, dlen = 0;
    *out = NULL;
    if (!code) len = 0;
    int rc = check_header(code, len, &entry_i, &n, &dlen, err_off, err);
    if (rc) return rc;
    const uint8_t *ins0 = code + VM_HEADER_SIZE;
    uint32_t clen = n * VM_INSN_SIZE;
    char why[160];
    for (uint32_t i = 0; i < n; i++) {
        if (vm_insn_check(ins0 + (size_t)i * VM_INSN_SIZE, i * VM_INSN_SIZE, clen, why, sizeof why))
            return reject(err, err_off, VM_HEADER_SIZE + i * VM_INSN_SIZE, "%s", why);
    }
    if (!vm_op_is_terminator(ins0[(size_t)(n - 1) * VM_INSN_SIZE]))
        return reject(err, err_off, VM_HEADER_SIZE + (n - 1) * VM_INSN_SIZE,
                      "execution can run past the end of the code: the last instruction must "
                      "be stop, return, revert, jmp or ret");

    vm_program *p = calloc(1, sizeof *p);
    if (!p) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    atomic_init(&p->refs, 1);
    p->n_insns = n;
    p->data_len = dlen;
    if (dlen) {
        p->data = malloc(dlen);
        if (!p->data) goto oom;
        memcpy(p->data, ins0 + clen, dlen);
    }
    if (build(p, ins0, n, entry_i)) goto oom;
    *out = p;
    return 0;
oom:
    vm_program_free(p);
    return util_err_set(err, UTIL_ENOMEM, "out of memory");
}

vm_program *vm_program_ref(vm_program *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void vm_program_free(vm_program *p)
{
    if (!p) return;
    /* acq_rel: the last owner must see every other owner's reads finished. */
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1) return;
    free(p->code);
    free(p->origin);
    free(p->data);
    free(p);
}

uint32_t vm_program_insns(const vm_program *p)
{
    return p->n_insns;
}

uint32_t vm_program_blocks(const vm_program *p)
{
    return p->n_blocks;
}

uint32_t vm_program_data_len(const vm_program *p)
{
    return p->data_len;
}

size_t vm_program_mem(const vm_program *p)
{
    return sizeof *p + (size_t)p->n * (sizeof *p->code + sizeof *p->origin) + p->data_len;
}

int vm_program_equal(const vm_program *a, const vm_program *b)
{
    if (a->n != b->n || a->entry != b->entry || a->entry_gas != b->entry_gas ||
        a->n_insns != b->n_insns || a->n_blocks != b->n_blocks || a->data_len != b->data_len)
        return 0;
    for (uint32_t i = 0; i < a->n; i++) {
        const vm_insn *x = &a->code[i], *y = &b->code[i];
        if (x->h != y->h || x->op != y->op || x->a != y->a || x->b != y->b || x->c != y->c ||
            x->target != y->target || x->imm != y->imm || x->magic != y->magic ||
            a->origin[i] != b->origin[i])
            return 0;
    }
    return a->data_len == 0 || memcmp(a->data, b->data, a->data_len) == 0;
}
