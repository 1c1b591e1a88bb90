/* Assembler: two passes over the source. Pass 1 assigns every label its
 * address and decides the size of each `li`; pass 2 evaluates operands and
 * encodes. The result is verified (unless the source says .unverified) and
 * verifier errors are reported at the source line of the offending
 * instruction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "vm/asm_int.h"
#include "vm/isa.h"
#include "vm/vm.h"

static int oom(asm_state *a)
{
    return util_err_set(a->err, UTIL_ENOMEM, "out of memory");
}

static int tok_is(const asm_tok *t, const char *s)
{
    return t->t == T_ID && strlen(s) == t->n && memcmp(t->s, s, t->n) == 0;
}

static int end_of_line(asm_state *a)
{
    const asm_tok *t = asm_peek(a);
    if (t->t == T_END) return 0;
    return asm_error(a, t->col, "unexpected %s after the operands",
                     t->t == T_STR ? "string" : "text");
}

static int range(asm_state *a, int col, uint64_t v, int64_t lo, int64_t hi, const char *what)
{
    int64_t s = (int64_t)v;
    if (s >= lo && s <= hi) return 0;
    return asm_error(a, col, "%s %lld is out of range (%lld..%lld)", what, (long long)s,
                     (long long)lo, (long long)hi);
}

/* One 8-byte code slot. Pass 1 only counts it. */
static int emit(asm_state *a, uint8_t op, uint8_t ra, uint8_t rb, uint8_t rc, uint32_t imm, int col)
{
    if (a->pass == 2) {
        size_t slot = a->code_off / VM_INSN_SIZE;
        if (slot >= a->slot_cap) {
            size_t cap = a->slot_cap ? a->slot_cap * 2 : 256;
            int *l = realloc(a->slot_line, cap * sizeof *l);
            if (!l) return oom(a);
            a->slot_line = l;
            int *c = realloc(a->slot_col, cap * sizeof *c);
            if (!c) return oom(a);
            a->slot_col = c;
            a->slot_cap = cap;
        }
        a->slot_line[slot] = a->line;
        a->slot_col[slot] = col;
        uint8_t b[8] = {op, ra, rb, rc};
        util_put_u32le(b + 4, imm);
        util_buf_put(&a->code, b, 8);
        if (a->code.oom) return oom(a);
    }
    a->code_off += VM_INSN_SIZE;
    return 0;
}

static int operand_expr(asm_state *a, uint64_t *v, int *col)
{
    int known;
    *col = asm_peek(a)->col;
    return asm_expr(a, v, &known);
}

static int comma(asm_state *a)
{
    return asm_expect(a, ',');
}

/* [rB], [rB + expr], [rB - expr] */
static int mem_operand(asm_state *a, uint8_t *r, uint64_t *off, int *col)
{
    if (asm_expect(a, '[') || asm_reg(a, r)) return UTIL_EINVAL;
    *off = 0;
    *col = asm_peek(a)->col;
    const asm_tok *t = asm_peek(a);
    if (asm_is_punct(t, '+') || asm_is_punct(t, '-')) {
        int neg = asm_is_punct(t, '-');
        a->pos++;
        if (operand_expr(a, off, col)) return UTIL_EINVAL;
        if (neg) *off = 0 - *off;
    }
    return asm_expect(a, ']');
}

static int host_fn(asm_state *a, uint64_t *v, int *col)
{
    const asm_tok *t = asm_peek(a);
    *col = t->col;
    if (t->t == T_ID) {
        for (int i = 1; i <= VM_SYS_MAX; i++) {
            if (vm_sys[i].name && tok_is(t, vm_sys[i].name)) {
                *v = (uint64_t)i;
                a->pos++;
                return 0;
            }
        }
    }
    return operand_expr(a, v, col);
}

static int instruction(asm_state *a, uint8_t op, int col)
{
    uint8_t ra = 0, rb = 0, rc = 0;
    uint64_t v = 0;
    int vcol = col, fmt = vm_ops[op].fmt;
    int rv = 0;
    switch (fmt) {
    case FMT_N: break;
    case FMT_RR: rv = asm_reg(a, &ra) || comma(a) || asm_reg(a, &rb); break;
    case FMT_RRR:
        rv = asm_reg(a, &ra) || comma(a) || asm_reg(a, &rb) || comma(a) || asm_reg(a, &rc);
        break;
    case FMT_RRRR: {
        uint8_t rd = 0;
        rv = asm_reg(a, &ra) || comma(a) || asm_reg(a, &rb) || comma(a) || asm_reg(a, &rc) ||
             comma(a) || asm_reg(a, &rd);
        v = rd;
        break;
    }
    case FMT_RI:
    case FMT_RU:
    case FMT_RL: rv = asm_reg(a, &ra) || comma(a) || operand_expr(a, &v, &vcol); break;
    case FMT_RRI:
    case FMT_RRS:
    case FMT_RRNZ:
    case FMT_RRL:
        rv = asm_reg(a, &ra) || comma(a) || asm_reg(a, &rb) || comma(a) ||
             operand_expr(a, &v, &vcol);
        break;
    case FMT_LD: rv = asm_reg(a, &ra) || comma(a) || mem_operand(a, &rb, &v, &vcol); break;
    case FMT_ST: rv = mem_operand(a, &ra, &v, &vcol) || comma(a) || asm_reg(a, &rb); break;
    case FMT_L: rv = operand_expr(a, &v, &vcol); break;
    case FMT_SYS: rv = host_fn(a, &v, &vcol); break;
    }
    if (rv || end_of_line(a)) return UTIL_EINVAL;
    if (a->pass == 2) {
        if (vm_fmt_has_target((uint8_t)fmt)) v -= (uint64_t)VM_HEADER_SIZE + a->code_off;
        if (fmt == FMT_RU)
            rv = range(a, vcol, v, INT32_MIN, UINT32_MAX, "immediate");
        else if (fmt == FMT_RRS)
            rv = range(a, vcol, v, 0, 63, "shift amount");
        else if (vm_fmt_has_target((uint8_t)fmt))
            rv = range(a, vcol, v, INT32_MIN, INT32_MAX, "jump distance");
        else
            rv = range(a, vcol, v, INT32_MIN, INT32_MAX, "immediate");
        if (rv) return rv;
        if (fmt == FMT_RRNZ && v == 0) return asm_error(a, vcol, "%s by zero", vm_ops[op].name);
    }
    return emit(a, op, ra, rb, rc, (uint32_t)v, col);
}

/* li rA, value: ldi when the value is a sign-extended 32-bit number known in
 * pass 1, else ldi + ldhi. */
static int load_imm(asm_state *a, int col)
{
    uint8_t ra;
    uint64_t v;
    int known;
    if (asm_reg(a, &ra) || comma(a)) return UTIL_EINVAL;
    if (asm_expr(a, &v, &known) || end_of_line(a)) return UTIL_EINVAL;
    int wide;
    if (a->pass == 1) {
        wide = !known || (int64_t)v < INT32_MIN || (int64_t)v > INT32_MAX;
        if (a->nli == a->li_cap) {
            size_t cap = a->li_cap ? a->li_cap * 2 : 64;
            uint8_t *n = realloc(a->li_wide, cap);
            if (!n) return oom(a);
            a->li_wide = n;
            a->li_cap = cap;
        }
        a->li_wide[a->nli++] = (uint8_t)wide;
    } else {
        wide = a->li_wide[a->li_at++];
    }
    if (emit(a, OP_LDI, ra, 0, 0, (uint32_t)v, col)) return UTIL_EINVAL;
    return wide ? emit(a, OP_LDHI, ra, 0, 0, (uint32_t)(v >> 32), col) : 0;
}

static int data_put(asm_state *a, const void *p, size_t n)
{
    if (a->pass == 2) {
        util_buf_put(&a->data, p, n);
        if (a->data.oom) return oom(a);
    }
    a->data_off += (uint32_t)n;
    return 0;
}

static int data_ints(asm_state *a, int width)
{
    static const int64_t lo[] = {0, -128, -32768, 0, INT32_MIN};
    static const uint64_t hi[] = {0, 255, 65535, 0, UINT32_MAX};
    do {
        uint64_t v;
        int col;
        if (operand_expr(a, &v, &col)) return UTIL_EINVAL;
        if (a->pass == 2 && width < 8 && range(a, col, v, lo[width], (int64_t)hi[width], "value"))
            return UTIL_EINVAL;
        uint8_t b[8];
        util_put_u64le(b, v);
        if (data_put(a, b, (size_t)width)) return UTIL_EINVAL;
        if (!asm_is_punct(asm_peek(a), ',')) break;
        a->pos++;
    } while (1);
    return end_of_line(a);
}

static int data_hex(asm_state *a, const asm_tok *t)
{
    if (t->n % 2) return asm_error(a, t->col, ".hex needs an even number of hex digits");
    for (size_t i = 0; i < t->n; i += 2) {
        char s[3] = {t->s[i], t->s[i + 1], 0};
        char *e;
        if (!strchr("0123456789abcdefABCDEF", s[0]) || !strchr("0123456789abcdefABCDEF", s[1]))
            return asm_error(a, t->col + 1 + (int)i, "not a hex digit");
        uint8_t b = (uint8_t)strtoul(s, &e, 16);
        if (data_put(a, &b, 1)) return UTIL_EINVAL;
    }
    return 0;
}

static int data_strings(asm_state *a, int hex)
{
    do {
        const asm_tok *t = asm_peek(a);
        if (t->t != T_STR) return asm_error(a, t->col, "expected a string");
        a->pos++;
        if (hex) {
            if (data_hex(a, t)) return UTIL_EINVAL;
        } else {
            util_buf s;
            util_buf_init(&s);
            int rc = asm_string(a, t, &s);
            if (!rc) rc = data_put(a, s.data, s.len);
            util_buf_free(&s);
            if (rc) return rc;
        }
        if (!asm_is_punct(asm_peek(a), ',')) break;
        a->pos++;
    } while (1);
    return end_of_line(a);
}

static int directive(asm_state *a, const asm_tok *d)
{
    int col = d->col;
    if (tok_is(d, ".code") || tok_is(d, ".data")) {
        a->in_data = tok_is(d, ".data");
        return end_of_line(a);
    }
    if (tok_is(d, ".unverified")) {
        a->raw = 1;
        return end_of_line(a);
    }
    if (tok_is(d, ".const")) {
        const asm_tok *n = asm_peek(a);
        if (n->t != T_ID) return asm_error(a, n->col, ".const needs a name");
        a->pos++;
        uint64_t v;
        int known;
        if (asm_expr(a, &v, &known) || end_of_line(a)) return UTIL_EINVAL;
        if (a->pass == 2) return 0;
        if (!known) return asm_error(a, n->col, "constants may only use names defined above");
        return asm_define(a, n, v, SYM_CONST);
    }
    if (tok_is(d, ".entry")) {
        uint64_t v;
        int vcol;
        if (operand_expr(a, &v, &vcol) || end_of_line(a)) return UTIL_EINVAL;
        if (a->pass == 1) {
            if (a->has_entry) return asm_error(a, col, "more than one .entry");
            a->has_entry = 1;
            return 0;
        }
        a->entry = v;
        a->entry_line = a->line;
        a->entry_col = vcol;
        return range(a, vcol, v, 0, 65535, "entry offset");
    }
    if (tok_is(d, ".insn")) {
        if (a->in_data) return asm_error(a, col, ".insn belongs in the code section");
        uint8_t b[8];
        for (int i = 0; i < 8; i++) {
            uint64_t v;
            int vcol;
            if ((i && comma(a)) || operand_expr(a, &v, &vcol)) return UTIL_EINVAL;
            if (a->pass == 2 && range(a, vcol, v, 0, 255, "byte")) return UTIL_EINVAL;
            b[i] = (uint8_t)v;
        }
        if (end_of_line(a)) return UTIL_EINVAL;
        return emit(a, b[0], b[1], b[2], b[3], util_get_u32le(b + 4), col);
    }
    static const char *const data_dirs[] = {".byte",  ".u16", ".u32", ".u64",
                                            ".ascii", ".hex", ".zero"};
    int k = -1;
    for (int i = 0; i < 7; i++)
        if (tok_is(d, data_dirs[i])) k = i;
    if (k < 0) return asm_error(a, col, "unknown directive '%.*s'", (int)d->n, d->s);
    if (!a->in_data) return asm_error(a, col, "%s belongs in the .data section", data_dirs[k]);
    switch (k) {
    case 0: return data_ints(a, 1);
    case 1: return data_ints(a, 2);
    case 2: return data_ints(a, 4);
    case 3: return data_ints(a, 8);
    case 4: return data_strings(a, 0);
    case 5: return data_strings(a, 1);
    default: break;
    }
    uint64_t n;
    int known, vcol = asm_peek(a)->col;
    if (asm_expr(a, &n, &known) || end_of_line(a)) return UTIL_EINVAL;
    if (!known) return asm_error(a, vcol, ".zero needs a count defined above");
    if (n > VM_CODE_MAX)
        return asm_error(a, vcol, ".zero count %llu is too large", (unsigned long long)n);
    if (a->pass == 2) {
        if (util_buf_reserve(&a->data, (size_t)n)) return oom(a);
        memset(a->data.data + a->data.len, 0, (size_t)n);
        a->data.len += (size_t)n;
    }
    a->data_off += (uint32_t)n;
    return 0;
}

static int statement(asm_state *a)
{
    /* Labels: NAME ':' (any number). */
    while (asm_peek(a)->t == T_ID && asm_is_punct(&a->tk[a->pos + 1], ':')) {
        const asm_tok *l = asm_peek(a);
        if (l->s[0] == '.') return asm_error(a, l->col, "a label cannot start with '.'");
        if (a->pass == 1) {
            uint64_t v = a->in_data ? a->data_off : (uint64_t)VM_HEADER_SIZE + a->code_off;
            if (asm_define(a, l, v, a->in_data ? SYM_DATA : SYM_CODE)) return UTIL_EINVAL;
        }
        a->pos += 2;
    }
    const asm_tok *t = asm_peek(a);
    if (t->t == T_END) return 0;
    if (t->t != T_ID) return asm_error(a, t->col, "expected an instruction or a directive");
    a->pos++;
    if (t->s[0] == '.') return directive(a, t);
    if (a->in_data)
        return asm_error(a, t->col, "instruction '%.*s' in the .data section", (int)t->n, t->s);
    if (tok_is(t, "li")) return load_imm(a, t->col);
    for (int op = 1; op < 256; op++)
        if (vm_ops[op].name && tok_is(t, vm_ops[op].name))
            return instruction(a, (uint8_t)op, t->col);
    return asm_error(a, t->col, "unknown instruction '%.*s'", (int)(t->n > 32 ? 32 : t->n), t->s);
}

static int run_pass(asm_state *a, const char *text, size_t len, int pass)
{
    a->pass = pass;
    a->in_data = 0;
    a->code_off = a->data_off = 0;
    a->li_at = 0;
    a->line = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        a->line++;
        if (asm_lex(a, text + i, j - i) || statement(a)) return a->err->code;
        if ((uint64_t)VM_HEADER_SIZE + a->code_off + a->data_off > VM_CODE_MAX)
            return asm_error(a, 1, "the program exceeds the code size limit of %d bytes",
                             VM_CODE_MAX);
        if (a->ntk > 1) a->last_line = a->line;
        i = j + 1;
    }
    return 0;
}

/* Maps a verifier rejection back to the source. */
static int verify_output(asm_state *a, const uint8_t *blob, size_t n)
{
    vm_program *p;
    uint32_t off = 0;
    util_err verr = {0};
    int rc = vm_verify(blob, n, &p, &off, &verr);
    if (rc == 0) {
        vm_program_free(p);
        return 0;
    }
    if (rc != UTIL_EINVAL) return util_err_set(a->err, rc, "%s", verr.msg);
    const char *why = strchr(verr.msg, ':');
    why = why ? why + 2 : verr.msg;
    if (off >= VM_HEADER_SIZE && off < (uint64_t)VM_HEADER_SIZE + a->code_off) {
        size_t slot = (off - VM_HEADER_SIZE) / VM_INSN_SIZE;
        a->line = a->slot_line[slot];
        return asm_error(a, a->slot_col[slot], "%s", why);
    }
    a->line = a->entry_line ? a->entry_line : 1;
    return asm_error(a, a->entry_line ? a->entry_col : 1, "%s", why);
}

int vm_asm_source(const char *name, const char *text, size_t len, uint8_t **out, size_t *out_len,
                  util_err *err)
{
    asm_state a = {.name = name, .err = err};
    util_err local;
    if (!err) a.err = &local;
    util_buf_init(&a.code);
    util_buf_init(&a.data);
    *out = NULL;
    *out_len = 0;
    a.entry = VM_HEADER_SIZE;
    int rc = run_pass(&a, text, len, 1);
    if (!rc && a.code_off == 0) {
        a.line = a.last_line ? a.last_line : 1;
        rc = asm_error(&a, 1, "no instructions");
    }
    if (!rc) rc = run_pass(&a, text, len, 2);
    util_buf blob;
    util_buf_init(&blob);
    if (!rc) {
        uint8_t h[VM_HEADER_SIZE] = {'O', 'L', 'V', 'M', VM_VERSION, 0};
        h[6] = (uint8_t)a.entry;
        h[7] = (uint8_t)(a.entry >> 8);
        util_put_u32le(h + 8, a.code_off);
        util_put_u32le(h + 12, a.data_off);
        util_buf_put(&blob, h, sizeof h);
        util_buf_put(&blob, a.code.data, a.code.len);
        util_buf_put(&blob, a.data.data, a.data.len);
        rc = blob.oom ? oom(&a) : 0;
    }
    if (!rc && !a.raw) rc = verify_output(&a, blob.data, blob.len);
    if (!rc) rc = util_buf_take(&blob, out, out_len) ? oom(&a) : 0;
    util_buf_free(&blob);
    util_buf_free(&a.code);
    util_buf_free(&a.data);
    for (size_t i = 0; i < a.nsyms; i++)
        free(a.syms[i].name);
    free(a.syms);
    free(a.tk);
    free(a.slot_line);
    free(a.slot_col);
    free(a.li_wide);
    return rc;
}

int vm_asm_file(const char *path, uint8_t **out, size_t *out_len, util_err *err)
{
    *out = NULL;
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return util_err_set(err, UTIL_EIO, "%s: %s", path, strerror(errno));
    util_buf b;
    util_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        util_buf_put(&b, chunk, n);
        /* Far more text than any program within the code size limit needs. */
        if (b.len > 16 * 1024 * 1024) break;
    }
    int rerr = ferror(f);
    fclose(f);
    int rc;
    if (rerr)
        rc = util_err_set(err, UTIL_EIO, "%s: read error", path);
    else if (b.oom)
        rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
    else if (b.len > 16 * 1024 * 1024)
        rc = util_err_set(err, UTIL_ELIMIT, "%s: file too large", path);
    else
        rc = vm_asm_source(path, b.len ? (const char *)b.data : "", b.len, out, out_len, err);
    util_buf_free(&b);
    return rc;
}
