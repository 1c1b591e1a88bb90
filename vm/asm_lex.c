/* Assembler: tokens, symbols, expressions and string literals. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/asm_int.h"
#include "vm/vm.h"

int asm_error(asm_state *a, int col, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return util_err_set(a->err, UTIL_EINVAL, "%s:%d:%d: %s", a->name, a->line, col, msg);
}

static int is_id0(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
}

static int is_id(char c)
{
    return is_id0(c) || (c >= '0' && c <= '9');
}

static int digit_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}

static int push(asm_state *a, const asm_tok *t)
{
    if (a->ntk == a->tkcap) {
        size_t cap = a->tkcap ? a->tkcap * 2 : 16;
        asm_tok *n = realloc(a->tk, cap * sizeof *n);
        if (!n) return util_err_set(a->err, UTIL_ENOMEM, "out of memory");
        a->tk = n;
        a->tkcap = cap;
    }
    a->tk[a->ntk++] = *t;
    return 0;
}

static int lex_number(asm_state *a, const char *p, size_t n, size_t *i, asm_tok *t)
{
    size_t j = *i;
    unsigned base = 10;
    if (j + 1 < n && p[j] == '0' && (p[j + 1] == 'x' || p[j + 1] == 'X'))
        base = 16, j += 2;
    else if (j + 1 < n && p[j] == '0' && (p[j + 1] == 'b' || p[j + 1] == 'B'))
        base = 2, j += 2;
    uint64_t v = 0;
    int digits = 0;
    for (; j < n && is_id(p[j]); j++) {
        if (p[j] == '_') continue;
        unsigned d = (unsigned)digit_val(p[j]);
        if (d >= base) return asm_error(a, t->col, "bad digit '%c' in a number", p[j]);
        if (v > (UINT64_MAX - d) / base)
            return asm_error(a, t->col, "number does not fit in 64 bits");
        v = v * base + d;
        digits++;
    }
    if (!digits) return asm_error(a, t->col, "number without digits");
    t->t = T_NUM;
    t->num = v;
    *i = j;
    return 0;
}

int asm_lex(asm_state *a, const char *p, size_t n)
{
    a->ntk = a->pos = 0;
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        asm_tok t = {.s = p + i, .n = 1, .col = (int)i + 1};
        if (c == ' ' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        if (c == ';' || c == '#') break;
        if (c >= '0' && c <= '9') {
            if (lex_number(a, p, n, &i, &t)) return UTIL_EINVAL;
        } else if (is_id0(c)) {
            size_t j = i;
            while (j < n && is_id(p[j]))
                j++;
            t.t = T_ID;
            t.n = j - i;
            i = j;
        } else if (c == '"') {
            size_t j = i + 1;
            while (j < n && p[j] != '"')
                j += p[j] == '\\' ? 2 : 1;
            if (j >= n) return asm_error(a, t.col, "unterminated string");
            t.t = T_STR;
            t.s = p + i + 1;
            t.n = j - i - 1;
            i = j + 1;
        } else if (strchr(",:[]+-*()", c)) {
            t.t = T_PUNCT;
            i++;
        } else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
            return asm_error(a, t.col, "unexpected byte 0x%02x", (unsigned char)c);
        } else {
            return asm_error(a, t.col, "unexpected character '%c'", c);
        }
        if (push(a, &t)) return UTIL_ENOMEM;
    }
    asm_tok end = {.t = T_END, .s = p + n, .col = (int)n + 1};
    return push(a, &end);
}

const asm_tok *asm_peek(asm_state *a)
{
    return &a->tk[a->pos];
}

int asm_is_punct(const asm_tok *t, char c)
{
    return t->t == T_PUNCT && t->s[0] == c;
}

static void describe(const asm_tok *t, char *out, size_t n)
{
    if (t->t == T_END)
        snprintf(out, n, "end of line");
    else if (t->t == T_STR)
        snprintf(out, n, "a string");
    else
        snprintf(out, n, "'%.*s'", (int)(t->n > 32 ? 32 : t->n), t->s);
}

int asm_expect(asm_state *a, char c)
{
    const asm_tok *t = asm_peek(a);
    if (!asm_is_punct(t, c)) {
        char d[48];
        describe(t, d, sizeof d);
        return asm_error(a, t->col, "expected '%c', found %s", c, d);
    }
    a->pos++;
    return 0;
}

int asm_reg_name(const asm_tok *t, uint8_t *r)
{
    if (t->t != T_ID || t->n < 2 || t->n > 3 || t->s[0] != 'r') return 0;
    unsigned v = 0;
    for (size_t i = 1; i < t->n; i++) {
        if (t->s[i] < '0' || t->s[i] > '9') return 0;
        v = v * 10 + (unsigned)(t->s[i] - '0');
    }
    if (t->n == 3 && t->s[1] == '0') return 0; /* "r05" is a name, not a register */
    if (v >= VM_NREGS) return 0;
    *r = (uint8_t)v;
    return 1;
}

int asm_reg(asm_state *a, uint8_t *r)
{
    const asm_tok *t = asm_peek(a);
    if (!asm_reg_name(t, r)) {
        char d[48];
        describe(t, d, sizeof d);
        return asm_error(a, t->col, "expected a register (r0..r15), found %s", d);
    }
    a->pos++;
    return 0;
}

asm_sym *asm_find(asm_state *a, const char *s, size_t n)
{
    for (size_t i = 0; i < a->nsyms; i++)
        if (strlen(a->syms[i].name) == n && memcmp(a->syms[i].name, s, n) == 0) return &a->syms[i];
    return NULL;
}

int asm_define(asm_state *a, const asm_tok *t, uint64_t val, int kind)
{
    uint8_t r;
    if (asm_reg_name(t, &r))
        return asm_error(a, t->col, "'%.*s' is a register and cannot be defined", (int)t->n, t->s);
    asm_sym *old = asm_find(a, t->s, t->n);
    if (old)
        return asm_error(a, t->col, "'%.*s' is already defined at line %d", (int)t->n, t->s,
                         old->line);
    if (a->nsyms == a->symcap) {
        size_t cap = a->symcap ? a->symcap * 2 : 32;
        asm_sym *ns = realloc(a->syms, cap * sizeof *ns);
        if (!ns) return util_err_set(a->err, UTIL_ENOMEM, "out of memory");
        a->syms = ns;
        a->symcap = cap;
    }
    char *name = malloc(t->n + 1);
    if (!name) return util_err_set(a->err, UTIL_ENOMEM, "out of memory");
    memcpy(name, t->s, t->n);
    name[t->n] = 0;
    a->syms[a->nsyms++] = (asm_sym){name, val, kind, a->line};
    return 0;
}

static int expr_sum(asm_state *a, uint64_t *v, int *known, int depth);

static int expr_unary(asm_state *a, uint64_t *v, int *known, int depth)
{
    const asm_tok *t = asm_peek(a);
    if (depth > 64) return asm_error(a, t->col, "expression nested too deeply");
    if (asm_is_punct(t, '-')) {
        a->pos++;
        if (expr_unary(a, v, known, depth + 1)) return UTIL_EINVAL;
        *v = 0 - *v;
        return 0;
    }
    if (asm_is_punct(t, '(')) {
        a->pos++;
        if (expr_sum(a, v, known, depth + 1)) return UTIL_EINVAL;
        return asm_expect(a, ')');
    }
    if (t->t == T_NUM) {
        *v = t->num;
        a->pos++;
        return 0;
    }
    if (t->t == T_ID) {
        uint8_t r;
        if (asm_reg_name(t, &r))
            return asm_error(a, t->col, "register '%.*s' where a value is expected", (int)t->n,
                             t->s);
        asm_sym *s = asm_find(a, t->s, t->n);
        if (!s) {
            if (a->pass == 2 || t->s[0] == '.')
                return asm_error(a, t->col, "undefined name '%.*s'", (int)t->n, t->s);
            *known = 0;
            *v = 0;
        } else {
            *v = s->val;
        }
        a->pos++;
        return 0;
    }
    char d[48];
    describe(t, d, sizeof d);
    return asm_error(a, t->col, "expected a value, found %s", d);
}

static int expr_prod(asm_state *a, uint64_t *v, int *known, int depth)
{
    if (expr_unary(a, v, known, depth)) return UTIL_EINVAL;
    while (asm_is_punct(asm_peek(a), '*')) {
        uint64_t r;
        a->pos++;
        if (expr_unary(a, &r, known, depth)) return UTIL_EINVAL;
        *v *= r;
    }
    return 0;
}

static int expr_sum(asm_state *a, uint64_t *v, int *known, int depth)
{
    if (expr_prod(a, v, known, depth)) return UTIL_EINVAL;
    for (;;) {
        const asm_tok *t = asm_peek(a);
        int neg = asm_is_punct(t, '-');
        if (!neg && !asm_is_punct(t, '+')) return 0;
        uint64_t r;
        a->pos++;
        if (expr_prod(a, &r, known, depth)) return UTIL_EINVAL;
        *v = neg ? *v - r : *v + r;
    }
}

int asm_expr(asm_state *a, uint64_t *v, int *known)
{
    *known = 1;
    return expr_sum(a, v, known, 0);
}

int asm_string(asm_state *a, const asm_tok *t, util_buf *out)
{
    for (size_t i = 0; i < t->n; i++) {
        char c = t->s[i];
        if (c != '\\') {
            util_buf_u8(out, (uint8_t)c);
            continue;
        }
        int col = t->col + 1 + (int)i;
        if (++i >= t->n) return asm_error(a, col, "bad escape at the end of a string");
        switch (t->s[i]) {
        case 'n': util_buf_u8(out, '\n'); break;
        case 't': util_buf_u8(out, '\t'); break;
        case 'r': util_buf_u8(out, '\r'); break;
        case '0': util_buf_u8(out, 0); break;
        case '\\': util_buf_u8(out, '\\'); break;
        case '"': util_buf_u8(out, '"'); break;
        case 'x': {
            int h = i + 2 < t->n ? digit_val(t->s[i + 1]) : 99;
            int l = i + 2 < t->n ? digit_val(t->s[i + 2]) : 99;
            if (h > 15 || l > 15) return asm_error(a, col, "\\x needs two hex digits");
            util_buf_u8(out, (uint8_t)(h * 16 + l));
            i += 2;
            break;
        }
        default: return asm_error(a, col, "unknown escape '\\%c'", t->s[i]);
        }
    }
    return out->oom ? util_err_set(a->err, UTIL_ENOMEM, "out of memory") : 0;
}
