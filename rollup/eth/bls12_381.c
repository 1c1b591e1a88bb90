/* BLS12-381 G1 for rollup/eth/kzg.c: Montgomery arithmetic in Fp with
 * 6 x 64-bit limbs (CIOS on unsigned __int128), Jacobian points with mixed
 * additions, the ZCash point encoding, and a Pippenger multi-scalar
 * multiplication with signed window digits. Written from the curve's
 * parameters (draft-irtf-cfrg-pairing-friendly-curves) and the formulas of the
 * Explicit-Formulas Database (dbl-2009-l, add-2007-bl, madd-2007-bl). */
#include "rollup/eth/bls12_381.h"

#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

__extension__ typedef unsigned __int128 u128;

/* p, -p^-1 mod 2^64, 2^384 mod p (one), 2^768 mod p, 4 * 2^384 mod p (the
 * curve's b), p - 2, (p + 1) / 4 and (p - 1) / 2. */
static const uint64_t P[6] = {0xb9feffffffffaaabu, 0x1eabfffeb153ffffu, 0x6730d2a0f6b0f624u,
                              0x64774b84f38512bfu, 0x4b1ba7b6434bacd7u, 0x1a0111ea397fe69au};
static const uint64_t PINV = 0x89f3fffcfffcfffdu;
static const rollup_fp FP_ONE = {{0x760900000002fffdu, 0xebf4000bc40c0002u, 0x5f48985753c758bau,
                                  0x77ce585370525745u, 0x5c071a97a256ec6du, 0x15f65ec3fa80e493u}};
static const rollup_fp FP_R2 = {{0xf4df1f341c341746u, 0x0a76e6a609d104f1u, 0x8de5476c4c95b6d5u,
                                 0x67eb88a9939d83c0u, 0x9a793e85b519952du, 0x11988fe592cae3aau}};
static const rollup_fp FP_B = {{0xaa270000000cfff3u, 0x53cc0032fc34000au, 0x478fe97a6b0a807fu,
                                0xb1d37ebee6ba24d7u, 0x8ec9733bbf78ab2fu, 0x09d645513d83de7eu}};
static const uint64_t P_MINUS_2[6] = {0xb9feffffffffaaa9u, 0x1eabfffeb153ffffu,
                                      0x6730d2a0f6b0f624u, 0x64774b84f38512bfu,
                                      0x4b1ba7b6434bacd7u, 0x1a0111ea397fe69au};
static const uint64_t P_SQRT_EXP[6] = {0xee7fbfffffffeaabu, 0x07aaffffac54ffffu,
                                       0xd9cc34a83dac3d89u, 0xd91dd2e13ce144afu,
                                       0x92c6e9ed90d2eb35u, 0x0680447a8e5ff9a6u};
static const uint64_t P_HALF[6] = {0xdcff7fffffffd555u, 0x0f55ffff58a9ffffu, 0xb39869507b587b12u,
                                   0xb23ba5c279c2895fu, 0x258dd3db21a5d66bu, 0x0d0088f51cbff34du};
/* The order r of the G1 subgroup. */
static const uint64_t R_ORDER[4] = {0xffffffff00000001u, 0x53bda402fffe5bfeu, 0x3339d80809a1d805u,
                                    0x73eda753299d7d48u};

/* ---- multi-limb helpers ---- */

static int geq6(const uint64_t *a, const uint64_t *b)
{
#pragma GCC unroll 6
    for (int i = 5; i >= 0; i--) {
        if (a[i] != b[i]) return a[i] > b[i];
    }
    return 1;
}

static uint64_t sub6(uint64_t *r, const uint64_t *a, const uint64_t *b)
{
    uint64_t borrow = 0;
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
        u128 d = (u128)a[i] - b[i] - borrow;
        r[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    return borrow;
}

static void add6(uint64_t *r, const uint64_t *a, const uint64_t *b)
{
    u128 c = 0;
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
        c += (u128)a[i] + b[i];
        r[i] = (uint64_t)c;
        c >>= 64;
    }
}

/* ---- Fp ---- */

void rollup_fp_add(rollup_fp *r, const rollup_fp *a, const rollup_fp *b)
{
    /* a + b < 2p < 2^383: no carry out of the top limb. */
    add6(r->l, a->l, b->l);
    if (geq6(r->l, P)) sub6(r->l, r->l, P);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* {0, p}: a subtraction adds back the row its borrow selects. */
static const uint64_t ZERO_OR_P[12] = {0,
                                       0,
                                       0,
                                       0,
                                       0,
                                       0,
                                       0xb9feffffffffaaabu,
                                       0x1eabfffeb153ffffu,
                                       0x6730d2a0f6b0f624u,
                                       0x64774b84f38512bfu,
                                       0x4b1ba7b6434bacd7u,
                                       0x1a0111ea397fe69au};

/* One sbb chain and one adc chain without a branch: the borrow is random in
 * the MSM, and the compiler's version of this (a branch, or carries through
 * unsigned __int128) took a sixth of a commitment's time. */
void rollup_fp_sub(rollup_fp *r, const rollup_fp *a, const rollup_fp *b)
{
    __asm__ volatile("movq 0(%[a]), %%r8\n\t"
                     "subq 0(%[b]), %%r8\n\t"
                     "movq 8(%[a]), %%r9\n\t"
                     "sbbq 8(%[b]), %%r9\n\t"
                     "movq 16(%[a]), %%r10\n\t"
                     "sbbq 16(%[b]), %%r10\n\t"
                     "movq 24(%[a]), %%r11\n\t"
                     "sbbq 24(%[b]), %%r11\n\t"
                     "movq 32(%[a]), %%r12\n\t"
                     "sbbq 32(%[b]), %%r12\n\t"
                     "movq 40(%[a]), %%r13\n\t"
                     "sbbq 40(%[b]), %%r13\n\t"
                     "sbbq %%rax, %%rax\n\t"
                     "andq $48, %%rax\n\t"
                     "addq %[t], %%rax\n\t"
                     "addq 0(%%rax), %%r8\n\t"
                     "adcq 8(%%rax), %%r9\n\t"
                     "adcq 16(%%rax), %%r10\n\t"
                     "adcq 24(%%rax), %%r11\n\t"
                     "adcq 32(%%rax), %%r12\n\t"
                     "adcq 40(%%rax), %%r13\n\t"
                     "movq %%r8, 0(%[r])\n\t"
                     "movq %%r9, 8(%[r])\n\t"
                     "movq %%r10, 16(%[r])\n\t"
                     "movq %%r11, 24(%[r])\n\t"
                     "movq %%r12, 32(%[r])\n\t"
                     "movq %%r13, 40(%[r])\n\t"
                     :
                     : [r] "r"(r->l), [a] "r"(a->l), [b] "r"(b->l), [t] "r"(ZERO_OR_P)
                     : "rax", "r8", "r9", "r10", "r11", "r12", "r13", "cc", "memory");
}
#else
void rollup_fp_sub(rollup_fp *r, const rollup_fp *a, const rollup_fp *b)
{
    if (sub6(r->l, a->l, b->l)) add6(r->l, r->l, P);
}
#endif

static int fp_is_zero(const rollup_fp *a)
{
    return (a->l[0] | a->l[1] | a->l[2] | a->l[3] | a->l[4] | a->l[5]) == 0;
}

int rollup_fp_eq(const rollup_fp *a, const rollup_fp *b)
{
    return memcmp(a->l, b->l, sizeof a->l) == 0;
}

void rollup_fp_neg(rollup_fp *r, const rollup_fp *a)
{
    if (fp_is_zero(a)) {
        *r = *a;
        return;
    }
    sub6(r->l, P, a->l);
}

/* Montgomery multiplication, CIOS with the "no-carry" shortcut (p's top limb
 * is below 2^63 - 1, so t stays below 2p and needs no seventh limb; gnark-crypto
 * and others use it). Unrolled by hand: compilers leave the loops. */
#define MULADD(hi, lo, a, b, t, c)                                                                 \
    do {                                                                                           \
        u128 x_ = (u128)(a) * (b) + (t) + (c);                                                     \
        (lo) = (uint64_t)x_;                                                                       \
        (hi) = (uint64_t)(x_ >> 64);                                                               \
    } while (0)

#define FP_ROUND(bi)                                                                               \
    do {                                                                                           \
        uint64_t c_, c2_, m_, u_;                                                                  \
        MULADD(c_, t0, a0, bi, t0, 0);                                                             \
        m_ = t0 * PINV;                                                                            \
        MULADD(c2_, u_, m_, P[0], t0, 0);                                                          \
        (void)u_;                                                                                  \
        MULADD(c_, t1, a1, bi, t1, c_);                                                            \
        MULADD(c2_, t0, m_, P[1], t1, c2_);                                                        \
        MULADD(c_, t2, a2, bi, t2, c_);                                                            \
        MULADD(c2_, t1, m_, P[2], t2, c2_);                                                        \
        MULADD(c_, t3, a3, bi, t3, c_);                                                            \
        MULADD(c2_, t2, m_, P[3], t3, c2_);                                                        \
        MULADD(c_, t4, a4, bi, t4, c_);                                                            \
        MULADD(c2_, t3, m_, P[4], t4, c2_);                                                        \
        MULADD(c_, t5, a5, bi, t5, c_);                                                            \
        MULADD(c2_, t4, m_, P[5], t5, c2_);                                                        \
        t5 = c_ + c2_;                                                                             \
    } while (0)

static void fp_mul_c(rollup_fp *r, const rollup_fp *a, const rollup_fp *b)
{
    const uint64_t a0 = a->l[0], a1 = a->l[1], a2 = a->l[2], a3 = a->l[3], a4 = a->l[4],
                   a5 = a->l[5];
    uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0;
    FP_ROUND(b->l[0]);
    FP_ROUND(b->l[1]);
    FP_ROUND(b->l[2]);
    FP_ROUND(b->l[3]);
    FP_ROUND(b->l[4]);
    FP_ROUND(b->l[5]);
    uint64_t t[6] = {t0, t1, t2, t3, t4, t5};
    if (geq6(t, P)) sub6(t, t, P);
    memcpy(r->l, t, sizeof r->l);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same multiplication with BMI2's mulx and ADX's two carry chains (adcx
 * on CF for the row of partial products, adox on OF for adding it into t):
 * about a third of the instructions the compiler makes of the C above.
 * Chosen at run time (fp_mul), so the build needs no -march. Registers: a in
 * rsi, b (a copy, overwritten by the result) in rcx, K = {p, -p^-1} in rdi,
 * t in r8..r13, the row's top word in r14. */
#define ADX_ROW(SRC, BASE)                                                                         \
    "xorl %%eax, %%eax\n\t"                                                                        \
    "mulxq 0(" BASE "), %%rax, %%rbx\n\t"                                                          \
    "adoxq %%rax, %%r8\n\t"                                                                        \
    "mulxq 8(" BASE "), %%rax, %%r15\n\t"                                                          \
    "adcxq %%rbx, %%rax\n\t"                                                                       \
    "adoxq %%rax, %%r9\n\t"                                                                        \
    "mulxq 16(" BASE "), %%rax, %%rbx\n\t"                                                         \
    "adcxq %%r15, %%rax\n\t"                                                                       \
    "adoxq %%rax, %%r10\n\t"                                                                       \
    "mulxq 24(" BASE "), %%rax, %%r15\n\t"                                                         \
    "adcxq %%rbx, %%rax\n\t"                                                                       \
    "adoxq %%rax, %%r11\n\t"                                                                       \
    "mulxq 32(" BASE "), %%rax, %%rbx\n\t"                                                         \
    "adcxq %%r15, %%rax\n\t"                                                                       \
    "adoxq %%rax, %%r12\n\t"                                                                       \
    "mulxq 40(" BASE "), %%rax, %%r15\n\t"                                                         \
    "adcxq %%rbx, %%rax\n\t"                                                                       \
    "adoxq %%rax, %%r13\n\t"                                                                       \
    "movl $0, %%ebx\n\t"                                                                           \
    "adcxq %%rbx, %%r15\n\t"                                                                       \
    "adoxq %%rbx, %%r15\n\t"

/* t += a * b[i] (top word to r14); m = t0 * -p^-1; t = (t + m * p) / 2^64. */
#define ADX_ROUND(OFF)                                                                             \
    "movq " #OFF "(%%rcx), %%rdx\n\t" ADX_ROW(                                                     \
        "", "%%rsi") "movq %%r15, %%r14\n\t"                                                       \
                     "movq %%r8, %%rdx\n\t"                                                        \
                     "imulq 48(%%rdi), %%rdx\n\t" ADX_ROW("", "%%rdi") "addq %%r14, %%r15\n\t"     \
                                                                       "movq %%r9, %%r8\n\t"       \
                                                                       "movq %%r10, %%r9\n\t"      \
                                                                       "movq %%r11, %%r10\n\t"     \
                                                                       "movq %%r12, %%r11\n\t"     \
                                                                       "movq %%r13, %%r12\n\t"     \
                                                                       "movq %%r15, %%r13\n\t"

static const uint64_t ADX_K[7] = {0xb9feffffffffaaabu, 0x1eabfffeb153ffffu, 0x6730d2a0f6b0f624u,
                                  0x64774b84f38512bfu, 0x4b1ba7b6434bacd7u, 0x1a0111ea397fe69au,
                                  0x89f3fffcfffcfffdu};

/* t < 2p after the rounds: t - p replaces t unless it borrows, by cmov (the
 * branch would be mispredicted often). */
#define ADX_REDUCE                                                                                 \
    "movq %%r8, %%rax\n\t"                                                                         \
    "movq %%r9, %%rbx\n\t"                                                                         \
    "movq %%r10, %%rdx\n\t"                                                                        \
    "movq %%r11, %%r14\n\t"                                                                        \
    "movq %%r12, %%r15\n\t"                                                                        \
    "movq %%r13, %%rsi\n\t"                                                                        \
    "subq 0(%%rdi), %%rax\n\t"                                                                     \
    "sbbq 8(%%rdi), %%rbx\n\t"                                                                     \
    "sbbq 16(%%rdi), %%rdx\n\t"                                                                    \
    "sbbq 24(%%rdi), %%r14\n\t"                                                                    \
    "sbbq 32(%%rdi), %%r15\n\t"                                                                    \
    "sbbq 40(%%rdi), %%rsi\n\t"                                                                    \
    "cmovncq %%rax, %%r8\n\t"                                                                      \
    "cmovncq %%rbx, %%r9\n\t"                                                                      \
    "cmovncq %%rdx, %%r10\n\t"                                                                     \
    "cmovncq %%r14, %%r11\n\t"                                                                     \
    "cmovncq %%r15, %%r12\n\t"                                                                     \
    "cmovncq %%rsi, %%r13\n\t"

static void fp_mul_adx(rollup_fp *r, const rollup_fp *a, const rollup_fp *b)
{
    uint64_t t[6];
    const uint64_t *ap = a->l;
    memcpy(t, b->l, sizeof t);
    __asm__ volatile("xorl %%r8d, %%r8d\n\t"
                     "xorl %%r9d, %%r9d\n\t"
                     "xorl %%r10d, %%r10d\n\t"
                     "xorl %%r11d, %%r11d\n\t"
                     "xorl %%r12d, %%r12d\n\t"
                     "xorl %%r13d, %%r13d\n\t" ADX_ROUND(0) ADX_ROUND(8) ADX_ROUND(16) ADX_ROUND(24)
                         ADX_ROUND(32) ADX_ROUND(40) ADX_REDUCE "movq %%r8, 0(%%rcx)\n\t"
                                                                "movq %%r9, 8(%%rcx)\n\t"
                                                                "movq %%r10, 16(%%rcx)\n\t"
                                                                "movq %%r11, 24(%%rcx)\n\t"
                                                                "movq %%r12, 32(%%rcx)\n\t"
                                                                "movq %%r13, 40(%%rcx)\n\t"
                     : "+S"(ap)
                     : "c"(t), "D"(ADX_K)
                     : "rax", "rbx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
                       "cc", "memory");
    memcpy(r->l, t, sizeof r->l);
}

static int g_adx; /* set once by rollup_bls_init */

void rollup_bls_init(void)
{
    /* CPUID leaf 7: EBX bit 8 is BMI2 (mulx), bit 19 ADX (adcx, adox).
     * cpuid.h rather than __builtin_cpu_supports, which clang 14 lacks "adx" in. */
    unsigned a, b, c, d;
    g_adx = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 8 & 1) && (b >> 19 & 1);
}

int rollup_bls_portable(int on)
{
    rollup_bls_init();
    if (on) g_adx = 0;
    return !g_adx;
}

void rollup_fp_mul(rollup_fp *r, const rollup_fp *a, const rollup_fp *b)
{
    if (g_adx) {
        fp_mul_adx(r, a, b);
    } else {
        fp_mul_c(r, a, b);
    }
}
#else
void rollup_bls_init(void) {}

int rollup_bls_portable(int on)
{
    return 1;
}

void rollup_fp_mul(rollup_fp *r, const rollup_fp *a, const rollup_fp *b)
{
    fp_mul_c(r, a, b);
}
#endif

static void fp_sqr(rollup_fp *r, const rollup_fp *a)
{
    rollup_fp_mul(r, a, a);
}

static void fp_pow(rollup_fp *r, const rollup_fp *a, const uint64_t e[6])
{
    rollup_fp acc = FP_ONE;
    for (int i = 383; i >= 0; i--) {
        fp_sqr(&acc, &acc);
        if ((e[i / 64] >> (i % 64)) & 1) rollup_fp_mul(&acc, &acc, a);
    }
    *r = acc;
}

void rollup_fp_inv(rollup_fp *r, const rollup_fp *a)
{
    fp_pow(r, a, P_MINUS_2);
}

static void fp_from_canon(rollup_fp *r, const uint64_t v[6])
{
    rollup_fp t;
    memcpy(t.l, v, sizeof t.l);
    rollup_fp_mul(r, &t, &FP_R2);
}

static void fp_to_canon(uint64_t v[6], const rollup_fp *a)
{
    static const rollup_fp one = {{1, 0, 0, 0, 0, 0}};
    rollup_fp t;
    rollup_fp_mul(&t, a, &one);
    memcpy(v, t.l, sizeof t.l);
}

/* ---- G1 ---- */

void rollup_g1_set_inf(rollup_g1 *p)
{
    memset(p, 0, sizeof *p);
}

int rollup_g1_is_inf(const rollup_g1 *p)
{
    return fp_is_zero(&p->z);
}

void rollup_g1_from_affine(rollup_g1 *out, const rollup_g1_affine *a)
{
    out->x = a->x;
    out->y = a->y;
    out->z = FP_ONE;
}

void rollup_g1_neg(rollup_g1 *out, const rollup_g1 *p)
{
    *out = *p;
    rollup_fp_neg(&out->y, &p->y);
}

void rollup_g1_dbl(rollup_g1 *out, const rollup_g1 *p)
{
    if (rollup_g1_is_inf(p)) {
        *out = *p;
        return;
    }
    rollup_fp a, b, c, d, e, f, t, x3, y3, z3;
    fp_sqr(&a, &p->x);
    fp_sqr(&b, &p->y);
    fp_sqr(&c, &b);
    rollup_fp_add(&t, &p->x, &b);
    fp_sqr(&t, &t);
    rollup_fp_sub(&t, &t, &a);
    rollup_fp_sub(&t, &t, &c);
    rollup_fp_add(&d, &t, &t);
    rollup_fp_add(&e, &a, &a);
    rollup_fp_add(&e, &e, &a);
    fp_sqr(&f, &e);
    rollup_fp_sub(&x3, &f, &d);
    rollup_fp_sub(&x3, &x3, &d);
    rollup_fp_sub(&t, &d, &x3);
    rollup_fp_mul(&y3, &e, &t);
    rollup_fp_add(&c, &c, &c);
    rollup_fp_add(&c, &c, &c);
    rollup_fp_add(&c, &c, &c);
    rollup_fp_sub(&y3, &y3, &c);
    rollup_fp_mul(&z3, &p->y, &p->z);
    rollup_fp_add(&z3, &z3, &z3);
    out->x = x3;
    out->y = y3;
    out->z = z3;
}

void rollup_g1_add(rollup_g1 *out, const rollup_g1 *p, const rollup_g1 *q)
{
    if (rollup_g1_is_inf(p)) {
        *out = *q;
        return;
    }
    if (rollup_g1_is_inf(q)) {
        *out = *p;
        return;
    }
    rollup_fp z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t, x3, y3, z3;
    fp_sqr(&z1z1, &p->z);
    fp_sqr(&z2z2, &q->z);
    rollup_fp_mul(&u1, &p->x, &z2z2);
    rollup_fp_mul(&u2, &q->x, &z1z1);
    rollup_fp_mul(&s1, &p->y, &q->z);
    rollup_fp_mul(&s1, &s1, &z2z2);
    rollup_fp_mul(&s2, &q->y, &p->z);
    rollup_fp_mul(&s2, &s2, &z1z1);
    rollup_fp_sub(&h, &u2, &u1);
    rollup_fp_sub(&rr, &s2, &s1);
    if (fp_is_zero(&h)) {
        if (fp_is_zero(&rr)) {
            rollup_g1_dbl(out, p);
        } else {
            rollup_g1_set_inf(out);
        }
        return;
    }
    rollup_fp_add(&i, &h, &h);
    fp_sqr(&i, &i);
    rollup_fp_mul(&j, &h, &i);
    rollup_fp_add(&rr, &rr, &rr);
    rollup_fp_mul(&v, &u1, &i);
    fp_sqr(&x3, &rr);
    rollup_fp_sub(&x3, &x3, &j);
    rollup_fp_sub(&x3, &x3, &v);
    rollup_fp_sub(&x3, &x3, &v);
    rollup_fp_sub(&t, &v, &x3);
    rollup_fp_mul(&y3, &rr, &t);
    rollup_fp_mul(&t, &s1, &j);
    rollup_fp_add(&t, &t, &t);
    rollup_fp_sub(&y3, &y3, &t);
    rollup_fp_add(&z3, &p->z, &q->z);
    fp_sqr(&z3, &z3);
    rollup_fp_sub(&z3, &z3, &z1z1);
    rollup_fp_sub(&z3, &z3, &z2z2);
    rollup_fp_mul(&z3, &z3, &h);
    out->x = x3;
    out->y = y3;
    out->z = z3;
}

void rollup_g1_madd(rollup_g1 *acc, const rollup_g1_affine *q, int neg)
{
    if (rollup_g1_is_inf(acc)) {
        rollup_g1_from_affine(acc, q);
        if (neg) rollup_fp_neg(&acc->y, &acc->y);
        return;
    }
    rollup_fp z1z1, u2, s2, h, hh, i, j, rr, v, t;
    fp_sqr(&z1z1, &acc->z);
    rollup_fp_mul(&u2, &q->x, &z1z1);
    rollup_fp_mul(&s2, &q->y, &acc->z);
    rollup_fp_mul(&s2, &s2, &z1z1);
    if (neg) rollup_fp_neg(&s2, &s2);
    rollup_fp_sub(&h, &u2, &acc->x);
    rollup_fp_sub(&rr, &s2, &acc->y);
    if (fp_is_zero(&h)) {
        if (fp_is_zero(&rr)) {
            rollup_g1_dbl(acc, acc);
        } else {
            rollup_g1_set_inf(acc);
        }
        return;
    }
    fp_sqr(&hh, &h);
    rollup_fp_add(&i, &hh, &hh);
    rollup_fp_add(&i, &i, &i);
    rollup_fp_mul(&j, &h, &i);
    rollup_fp_add(&rr, &rr, &rr);
    rollup_fp_mul(&v, &acc->x, &i);
    /* Z3 first: it needs the old Z1; Y3 needs the old Y1. */
    rollup_fp_add(&t, &acc->z, &h);
    fp_sqr(&t, &t);
    rollup_fp_sub(&t, &t, &z1z1);
    rollup_fp_sub(&acc->z, &t, &hh);
    rollup_fp_mul(&t, &acc->y, &j);
    rollup_fp_add(&t, &t, &t);
    fp_sqr(&acc->x, &rr);
    rollup_fp_sub(&acc->x, &acc->x, &j);
    rollup_fp_sub(&acc->x, &acc->x, &v);
    rollup_fp_sub(&acc->x, &acc->x, &v);
    rollup_fp_sub(&v, &v, &acc->x);
    rollup_fp_mul(&acc->y, &rr, &v);
    rollup_fp_sub(&acc->y, &acc->y, &t);
}

int rollup_g1_eq(const rollup_g1 *p, const rollup_g1 *q)
{
    int pi = rollup_g1_is_inf(p), qi = rollup_g1_is_inf(q);
    if (pi || qi) return pi && qi;
    rollup_fp z1z1, z2z2, a, b;
    fp_sqr(&z1z1, &p->z);
    fp_sqr(&z2z2, &q->z);
    rollup_fp_mul(&a, &p->x, &z2z2);
    rollup_fp_mul(&b, &q->x, &z1z1);
    if (!rollup_fp_eq(&a, &b)) return 0;
    rollup_fp_mul(&z1z1, &z1z1, &p->z);
    rollup_fp_mul(&z2z2, &z2z2, &q->z);
    rollup_fp_mul(&a, &p->y, &z2z2);
    rollup_fp_mul(&b, &q->y, &z1z1);
    return rollup_fp_eq(&a, &b);
}

int rollup_g1_affine_on_curve(const rollup_g1_affine *a)
{
    rollup_fp lhs, rhs;
    fp_sqr(&lhs, &a->y);
    fp_sqr(&rhs, &a->x);
    rollup_fp_mul(&rhs, &rhs, &a->x);
    rollup_fp_add(&rhs, &rhs, &FP_B);
    return rollup_fp_eq(&lhs, &rhs);
}

int rollup_g1_affine_in_subgroup(const rollup_g1_affine *a)
{
    /* [r]a by double-and-add: about 100 microseconds, once per commitment
     * read from L1, against the tens of milliseconds of a commitment. */
    rollup_g1 acc;
    rollup_g1_set_inf(&acc);
    for (int i = 254; i >= 0; i--) {
        rollup_g1_dbl(&acc, &acc);
        if ((R_ORDER[i / 64] >> (i % 64)) & 1) rollup_g1_madd(&acc, a, 0);
    }
    return rollup_g1_is_inf(&acc);
}

/* ---- encoding ---- */

void rollup_g1_encode(const rollup_g1 *p, uint8_t out[48])
{
    memset(out, 0, 48);
    if (rollup_g1_is_inf(p)) {
        out[0] = 0xc0;
        return;
    }
    rollup_fp zi, zi2, x, y;
    rollup_fp_inv(&zi, &p->z);
    fp_sqr(&zi2, &zi);
    rollup_fp_mul(&x, &p->x, &zi2);
    rollup_fp_mul(&zi2, &zi2, &zi);
    rollup_fp_mul(&y, &p->y, &zi2);
    uint64_t xc[6], yc[6];
    fp_to_canon(xc, &x);
    fp_to_canon(yc, &y);
    for (int i = 0; i < 48; i++)
        out[i] = (uint8_t)(xc[5 - i / 8] >> (56 - 8 * (i % 8)));
    out[0] |= 0x80;
    /* The larger of y and p - y is the one above (p - 1) / 2. */
    if (!geq6(P_HALF, yc)) out[0] |= 0x20;
}

int rollup_g1_decode(const uint8_t in[48], rollup_g1_affine *out, int *inf, const char **why)
{
    if (!(in[0] & 0x80)) {
        *why = "not in compressed form (top bit clear)";
        return -1;
    }
    if (in[0] & 0x40) {
        uint8_t rest = (uint8_t)(in[0] & 0x3f);
        for (int i = 1; i < 48; i++)
            rest |= in[i];
        if (rest) {
            *why = "infinity flag set but the other bits are not zero";
            return -1;
        }
        *inf = 1;
        return 0;
    }
    uint64_t xc[6] = {0};
    for (int i = 0; i < 48; i++) {
        uint8_t byte = i == 0 ? (uint8_t)(in[0] & 0x1f) : in[i];
        xc[5 - i / 8] |= (uint64_t)byte << (56 - 8 * (i % 8));
    }
    if (geq6(xc, P)) {
        *why = "x is not below the field modulus";
        return -1;
    }
    rollup_g1_affine a;
    rollup_fp y2, y;
    fp_from_canon(&a.x, xc);
    fp_sqr(&y2, &a.x);
    rollup_fp_mul(&y2, &y2, &a.x);
    rollup_fp_add(&y2, &y2, &FP_B);
    /* p = 3 mod 4: a square's root is y2^((p+1)/4). */
    fp_pow(&y, &y2, P_SQRT_EXP);
    fp_sqr(&a.y, &y);
    if (!rollup_fp_eq(&a.y, &y2)) {
        *why = "not on the curve";
        return -1;
    }
    uint64_t yc[6];
    fp_to_canon(yc, &y);
    int larger = !geq6(P_HALF, yc);
    if (larger != !!(in[0] & 0x20)) rollup_fp_neg(&y, &y);
    a.y = y;
    if (!rollup_g1_affine_in_subgroup(&a)) {
        *why = "not in the G1 subgroup";
        return -1;
    }
    *out = a;
    *inf = 0;
    return 0;
}
