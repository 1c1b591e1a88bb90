/* Assembler internals shared by the lexer/expression part (asm_lex.c) and
 * the statement part (asm.c). Not part of the public API. */
#ifndef OL_VM_ASM_INT_H
#define OL_VM_ASM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

enum { T_END, T_ID, T_NUM, T_STR, T_PUNCT };

typedef struct asm_tok {
    int t;
    const char *s; /* T_ID, T_STR (without quotes, escapes not decoded), T_PUNCT */
    size_t n;
    int col;      /* 1-based */
    uint64_t num; /* T_NUM */
} asm_tok;

enum { SYM_CONST, SYM_CODE, SYM_DATA };

typedef struct asm_sym {
    char *name;
    uint64_t val;
    int kind;
    int line;
} asm_sym;

typedef struct asm_state {
    const char *name;
    util_err *err;
    int pass; /* 1: sizes and symbols, 2: encode */
    int line;
    asm_tok *tk;
    size_t ntk, tkcap, pos;
    asm_sym *syms;
    size_t nsyms, symcap;
    int in_data;
    uint32_t code_off, data_off;
    util_buf code, data;
    uint64_t entry;
    int entry_line, entry_col, has_entry;
    int raw; /* .unverified: the output is not verified */
    int *slot_line, *slot_col;
    size_t slot_cap;
    uint8_t *li_wide;
    size_t nli, li_cap, li_at;
    int last_line;
} asm_state;

/* Sets err to "name:line:col: message"; returns UTIL_EINVAL. */
int asm_error(asm_state *a, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Splits one line into tokens (comments dropped). */
OL_MUST_CHECK int asm_lex(asm_state *a, const char *p, size_t n);
/* The current token, and consuming helpers. */
OL_MUST_CHECK const asm_tok *asm_peek(asm_state *a);
OL_MUST_CHECK int asm_is_punct(const asm_tok *t, char c);
OL_MUST_CHECK int asm_expect(asm_state *a, char c);
/* Register r0..r15: 1 and *r set if t names one, else 0. */
OL_MUST_CHECK int asm_reg_name(const asm_tok *t, uint8_t *r);
OL_MUST_CHECK int asm_reg(asm_state *a, uint8_t *r);
/* Evaluates an expression (u64 wrapping arithmetic: + - * unary -, parens,
 * numbers, names). *known is 0 when a name is not defined yet (pass 1 only;
 * in pass 2 that is an error). */
OL_MUST_CHECK int asm_expr(asm_state *a, uint64_t *v, int *known);
OL_MUST_CHECK asm_sym *asm_find(asm_state *a, const char *s, size_t n);
OL_MUST_CHECK int asm_define(asm_state *a, const asm_tok *t, uint64_t val, int kind);
/* Decodes a string token's escapes into out. */
OL_MUST_CHECK int asm_string(asm_state *a, const asm_tok *t, util_buf *out);

#endif
