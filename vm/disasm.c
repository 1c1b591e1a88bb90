/* Disassembler: a code blob back to assembler text that reassembles to the
 * same bytes. Branch targets and the entry point get labels named after
 * their blob offset (L0010); each instruction carries its offset as a
 * comment, the number that verifier errors and end_pc report. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "vm/isa.h"
#include "vm/vm.h"

static void out_fmt(util_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_fmt(util_buf *b, const char *fmt, ...)
{
    char s[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    if (n > 0) util_buf_put(b, s, (size_t)n < sizeof s ? (size_t)n : sizeof s - 1);
}

static int header(const uint8_t *code, size_t len, uint32_t *entry, uint32_t *clen, uint32_t *dlen,
                  util_err *err)
{
    if (len < VM_HEADER_SIZE || memcmp(code, VM_MAGIC, 4) != 0)
        return util_err_set(err, UTIL_EINVAL, "not an OLVM code blob");
    if (code[4] != VM_VERSION || code[5] != 0)
        return util_err_set(err, UTIL_EINVAL, "unsupported version %u or flags 0x%02x", code[4],
                            code[5]);
    if (len > VM_CODE_MAX)
        return util_err_set(err, UTIL_EINVAL, "code is %zu bytes, over the limit of %d bytes", len,
                            VM_CODE_MAX);
    *entry = (uint32_t)code[6] | (uint32_t)code[7] << 8;
    *clen = util_get_u32le(code + 8);
    *dlen = util_get_u32le(code + 12);
    if (*clen % VM_INSN_SIZE || *clen == 0 ||
        (uint64_t)VM_HEADER_SIZE + *clen + *dlen != (uint64_t)len)
        return util_err_set(err, UTIL_EINVAL,
                            "malformed header: code %u and data %u bytes in a %zu-byte blob", *clen,
                            *dlen, len);
    return 0;
}

static void mem_operand(util_buf *b, unsigned r, int32_t imm)
{
    if (imm == 0)
        out_fmt(b, "[r%u]", r);
    else if (imm < 0)
        out_fmt(b, "[r%u-%lld]", r, -(long long)imm);
    else
        out_fmt(b, "[r%u+%d]", r, (int)imm);
}

static void operands(util_buf *b, const uint8_t *ins, uint32_t off)
{
    const vm_opinfo *oi = &vm_ops[ins[0]];
    unsigned a = ins[1], r2 = ins[2], c = ins[3];
    int32_t imm = vm_insn_imm(ins);
    uint32_t target = (uint32_t)((int64_t)VM_HEADER_SIZE + off + imm);
    switch (oi->fmt) {
    case FMT_N: break;
    case FMT_RR: out_fmt(b, " r%u, r%u", a, r2); break;
    case FMT_RRR: out_fmt(b, " r%u, r%u, r%u", a, r2, c); break;
    case FMT_RRRR: out_fmt(b, " r%u, r%u, r%u, r%d", a, r2, c, (int)imm); break;
    case FMT_RI: out_fmt(b, " r%u, %d", a, (int)imm); break;
    case FMT_RU: out_fmt(b, " r%u, 0x%x", a, (unsigned)imm); break;
    case FMT_RRI:
    case FMT_RRS:
    case FMT_RRNZ: out_fmt(b, " r%u, r%u, %d", a, r2, (int)imm); break;
    case FMT_LD:
        out_fmt(b, " r%u, ", a);
        mem_operand(b, r2, imm);
        break;
    case FMT_ST:
        out_fmt(b, " ");
        mem_operand(b, a, imm);
        out_fmt(b, ", r%u", r2);
        break;
    case FMT_L: out_fmt(b, " L%04x", target); break;
    case FMT_RL: out_fmt(b, " r%u, L%04x", a, target); break;
    case FMT_RRL: out_fmt(b, " r%u, r%u, L%04x", a, r2, target); break;
    case FMT_SYS: out_fmt(b, " %s", vm_sys[imm].name); break;
    }
}

int vm_disasm(const uint8_t *code, size_t len, util_buf *out, util_err *err)
{
    uint32_t entry = 0, clen = 0, dlen = 0;
    if (!code) len = 0;
    int rc = header(code, len, &entry, &clen, &dlen, err);
    if (rc) return rc;
    uint32_t n = clen / VM_INSN_SIZE;
    const uint8_t *ins0 = code + VM_HEADER_SIZE;
    uint8_t *label = calloc(n, 1), *valid = calloc(n, 1);
    if (!label || !valid) {
        free(label);
        free(valid);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    char why[160];
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *ins = ins0 + (size_t)i * VM_INSN_SIZE;
        if (vm_insn_check(ins, i * VM_INSN_SIZE, clen, why, sizeof why)) continue;
        valid[i] = 1;
        if (vm_fmt_has_target(vm_ops[ins[0]].fmt))
            label[(i * VM_INSN_SIZE + (uint32_t)vm_insn_imm(ins)) / VM_INSN_SIZE] = 1;
    }
    int entry_ok = entry >= VM_HEADER_SIZE && entry < VM_HEADER_SIZE + clen &&
                   (entry - VM_HEADER_SIZE) % VM_INSN_SIZE == 0;
    if (entry_ok) label[(entry - VM_HEADER_SIZE) / VM_INSN_SIZE] = 1;

    vm_program *p;
    util_err verr;
    int verified = vm_verify(code, len, &p, NULL, &verr) == 0;
    if (verified) vm_program_free(p);
    out_fmt(out, "; OLVM version %u: %u instructions, %u data bytes\n", (unsigned)VM_VERSION, n,
            dlen);
    if (!verified) {
        out_fmt(out, "; does not verify: %s\n", verr.msg);
        out_fmt(out, ".unverified\n");
    }
    if (entry_ok)
        out_fmt(out, ".entry L%04x\n", entry);
    else
        out_fmt(out, ".entry %u\n", entry);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *ins = ins0 + (size_t)i * VM_INSN_SIZE;
        uint32_t off = VM_HEADER_SIZE + i * VM_INSN_SIZE;
        if (label[i]) out_fmt(out, "L%04x:\n", off);
        size_t start = out->len;
        if (valid[i]) {
            out_fmt(out, "    %s", vm_ops[ins[0]].name);
            operands(out, ins, i * VM_INSN_SIZE);
        } else {
            out_fmt(out, "    .insn 0x%02x, 0x%02x, 0x%02x, 0x%02x, 0x%02x, 0x%02x, 0x%02x, 0x%02x",
                    ins[0], ins[1], ins[2], ins[3], ins[4], ins[5], ins[6], ins[7]);
        }
        size_t w = out->len - start;
        out_fmt(out, "%*s; %u\n", w < 36 ? (int)(36 - w) : 1, "", off);
    }
    if (dlen) out_fmt(out, ".data\n");
    const uint8_t *d = ins0 + clen;
    for (uint32_t i = 0; i < dlen; i += 16) {
        out_fmt(out, "    .byte");
        for (uint32_t k = i; k < dlen && k < i + 16; k++)
            out_fmt(out, "%s0x%02x", k == i ? " " : ", ", d[k]);
        out_fmt(out, "\n");
    }
    free(label);
    free(valid);
    util_buf_u8(out, 0);
    if (out->oom) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    out->len--;
    return 0;
}
