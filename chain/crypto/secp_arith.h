/* secp256k1 arithmetic for BIP-340 batch verification (schnorr_batch.c):
 * the field mod p = 2^256 - 2^32 - 977, scalars mod the group order n, and
 * points of y^2 = x^3 + 7 in affine and Jacobian coordinates. Written from
 * the curve's parameters (SEC 2) and the Explicit-Formulas Database
 * (dbl-2009-l, add-2007-bl, madd-2007-bl) for the project's own use; the
 * system libsecp256k1 exports none of this. Nothing is constant-time: every
 * input of a verification is public.
 *
 * Field elements and scalars are 4 x 64-bit limbs, least significant first,
 * always fully reduced (below p, below n), so equality is limb equality.
 * Internal to chain/crypto (and its unit tests). */
#ifndef OL_CHAIN_SECP_ARITH_H
#define OL_CHAIN_SECP_ARITH_H

#include <stddef.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 chain_u128;

/* x86-64 assembly for the field's add, sub, mul and sqr (mul and sqr only
 * when the CPU has BMI2 and ADX); the C versions elsewhere, or everywhere
 * with CHAIN_SECP_NO_ASM defined (how they are tested on x86-64). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(CHAIN_SECP_NO_ASM)
#define CHAIN_SECP_ASM 1
#endif

typedef struct chain_fe {
    uint64_t l[4];
} chain_fe;

/* A scalar mod n. */
typedef struct chain_sc {
    uint64_t l[4];
} chain_sc;

/* An affine point; inf set for the point at infinity (x, y then unused). */
typedef struct chain_ge {
    chain_fe x, y;
    int inf;
} chain_ge;

/* Jacobian (X, Y, Z) for (X / Z^2, Y / Z^3). */
typedef struct chain_gej {
    chain_fe x, y, z;
    int inf;
} chain_gej;

/* 2^256 - p: reducing mod p folds the bits from 2^256 up multiplied by it. */
#define CHAIN_FE_C 0x1000003D1ull

static inline int chain_fe_eq(const chain_fe *a, const chain_fe *b)
{
    return ((a->l[0] ^ b->l[0]) | (a->l[1] ^ b->l[1]) | (a->l[2] ^ b->l[2]) |
            (a->l[3] ^ b->l[3])) == 0;
}

static inline int chain_fe_is_zero(const chain_fe *a)
{
    return (a->l[0] | a->l[1] | a->l[2] | a->l[3]) == 0;
}

static inline void chain_fe_set_int(chain_fe *r, uint64_t v)
{
    r->l[0] = v;
    r->l[1] = r->l[2] = r->l[3] = 0;
}

/* r = v mod p for v = (hi, l) below 2^256 + p: v - p = v + C - 2^256. */
static inline void fe_final(chain_fe *r, const uint64_t l[4], uint64_t hi)
{
    chain_u128 t = (chain_u128)l[0] + CHAIN_FE_C;
    uint64_t s0 = (uint64_t)t;
    t = (t >> 64) + l[1];
    uint64_t s1 = (uint64_t)t;
    t = (t >> 64) + l[2];
    uint64_t s2 = (uint64_t)t;
    t = (t >> 64) + l[3];
    uint64_t s3 = (uint64_t)t;
    if (hi | (uint64_t)(t >> 64)) {
        r->l[0] = s0;
        r->l[1] = s1;
        r->l[2] = s2;
        r->l[3] = s3;
    } else {
        r->l[0] = l[0];
        r->l[1] = l[1];
        r->l[2] = l[2];
        r->l[3] = l[3];
    }
}

static inline void chain_fe_add(chain_fe *r, const chain_fe *a, const chain_fe *b)
{
#ifdef CHAIN_SECP_ASM
    /* gcc's carry chains through unsigned __int128 cost twice these. */
    uint64_t t0, t1, t2, t3, u0, u1, u2, u3, h, c;
    __asm__("movq 0(%[a]), %[t0]\n\t"
            "addq 0(%[b]), %[t0]\n\t"
            "movq 8(%[a]), %[t1]\n\t"
            "adcq 8(%[b]), %[t1]\n\t"
            "movq 16(%[a]), %[t2]\n\t"
            "adcq 16(%[b]), %[t2]\n\t"
            "movq 24(%[a]), %[t3]\n\t"
            "adcq 24(%[b]), %[t3]\n\t"
            "movl $0, %k[h]\n\t"
            "adcq $0, %[h]\n\t"
            "movabsq $0x1000003D1, %[c]\n\t"
            "movq %[t0], %[u0]\n\t"
            "addq %[c], %[u0]\n\t"
            "movq %[t1], %[u1]\n\t"
            "adcq $0, %[u1]\n\t"
            "movq %[t2], %[u2]\n\t"
            "adcq $0, %[u2]\n\t"
            "movq %[t3], %[u3]\n\t"
            "adcq $0, %[u3]\n\t"
            "adcq $0, %[h]\n\t"
            "testq %[h], %[h]\n\t"
            "cmovnzq %[u0], %[t0]\n\t"
            "cmovnzq %[u1], %[t1]\n\t"
            "cmovnzq %[u2], %[t2]\n\t"
            "cmovnzq %[u3], %[t3]\n\t"
            : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [u0] "=&r"(u0),
              [u1] "=&r"(u1), [u2] "=&r"(u2), [u3] "=&r"(u3), [h] "=&r"(h), [c] "=&r"(c)
            : [a] "r"(a->l), [b] "r"(b->l), "m"(*a), "m"(*b)
            : "cc");
    r->l[0] = t0;
    r->l[1] = t1;
    r->l[2] = t2;
    r->l[3] = t3;
#else
    uint64_t l[4];
    chain_u128 t = (chain_u128)a->l[0] + b->l[0];
    l[0] = (uint64_t)t;
    t = (t >> 64) + a->l[1] + b->l[1];
    l[1] = (uint64_t)t;
    t = (t >> 64) + a->l[2] + b->l[2];
    l[2] = (uint64_t)t;
    t = (t >> 64) + a->l[3] + b->l[3];
    l[3] = (uint64_t)t;
    fe_final(r, l, (uint64_t)(t >> 64));
#endif
}

static inline void chain_fe_sub(chain_fe *r, const chain_fe *a, const chain_fe *b)
{
#ifdef CHAIN_SECP_ASM
    /* On a borrow, + p = - C mod 2^256 (branch-free: m = C or 0). */
    uint64_t t0, t1, t2, t3, m, c;
    __asm__(
        "movq 0(%[a]), %[t0]\n\t"
        "subq 0(%[b]), %[t0]\n\t"
        "movq 8(%[a]), %[t1]\n\t"
        "sbbq 8(%[b]), %[t1]\n\t"
        "movq 16(%[a]), %[t2]\n\t"
        "sbbq 16(%[b]), %[t2]\n\t"
        "movq 24(%[a]), %[t3]\n\t"
        "sbbq 24(%[b]), %[t3]\n\t"
        "sbbq %[m], %[m]\n\t"
        "movabsq $0x1000003D1, %[c]\n\t"
        "andq %[c], %[m]\n\t"
        "subq %[m], %[t0]\n\t"
        "sbbq $0, %[t1]\n\t"
        "sbbq $0, %[t2]\n\t"
        "sbbq $0, %[t3]\n\t"
        : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [m] "=&r"(m), [c] "=&r"(c)
        : [a] "r"(a->l), [b] "r"(b->l), "m"(*a), "m"(*b)
        : "cc");
    r->l[0] = t0;
    r->l[1] = t1;
    r->l[2] = t2;
    r->l[3] = t3;
#else
    uint64_t l[4], borrow;
    chain_u128 t = (chain_u128)a->l[0] - b->l[0];
    l[0] = (uint64_t)t;
    borrow = (uint64_t)(t >> 127);
    t = (chain_u128)a->l[1] - b->l[1] - borrow;
    l[1] = (uint64_t)t;
    borrow = (uint64_t)(t >> 127);
    t = (chain_u128)a->l[2] - b->l[2] - borrow;
    l[2] = (uint64_t)t;
    borrow = (uint64_t)(t >> 127);
    t = (chain_u128)a->l[3] - b->l[3] - borrow;
    l[3] = (uint64_t)t;
    borrow = (uint64_t)(t >> 127);
    if (borrow) {
        /* a - b + 2^256 above; + p is - C mod 2^256 (no borrow out: the
         * true a - b + p is not negative). */
        t = (chain_u128)l[0] - CHAIN_FE_C;
        l[0] = (uint64_t)t;
        borrow = (uint64_t)(t >> 127);
        t = (chain_u128)l[1] - borrow;
        l[1] = (uint64_t)t;
        borrow = (uint64_t)(t >> 127);
        t = (chain_u128)l[2] - borrow;
        l[2] = (uint64_t)t;
        borrow = (uint64_t)(t >> 127);
        l[3] -= borrow;
    }
    r->l[0] = l[0];
    r->l[1] = l[1];
    r->l[2] = l[2];
    r->l[3] = l[3];
#endif
}

static inline void chain_fe_neg(chain_fe *r, const chain_fe *a)
{
    chain_fe z = {{0, 0, 0, 0}};
    chain_fe_sub(r, &z, a);
}

/* r = (t[0..3] + 2^256 t[4..7]) mod p: 2^256 = C mod p, twice (the first
 * fold leaves 34 bits above 2^256), then the final conditional subtraction. */
static inline void fe_reduce512(chain_fe *r, const uint64_t t[8])
{
    uint64_t l[4];
    chain_u128 a = (chain_u128)t[4] * CHAIN_FE_C + t[0];
    l[0] = (uint64_t)a;
    a = (a >> 64) + (chain_u128)t[5] * CHAIN_FE_C + t[1];
    l[1] = (uint64_t)a;
    a = (a >> 64) + (chain_u128)t[6] * CHAIN_FE_C + t[2];
    l[2] = (uint64_t)a;
    a = (a >> 64) + (chain_u128)t[7] * CHAIN_FE_C + t[3];
    l[3] = (uint64_t)a;
    uint64_t top = (uint64_t)(a >> 64);
    a = (chain_u128)top * CHAIN_FE_C + l[0];
    l[0] = (uint64_t)a;
    a = (a >> 64) + l[1];
    l[1] = (uint64_t)a;
    a = (a >> 64) + l[2];
    l[2] = (uint64_t)a;
    a = (a >> 64) + l[3];
    l[3] = (uint64_t)a;
    if ((uint64_t)(a >> 64)) {
        /* Wrapped past 2^256: what is left is below 2^68, so adding C
         * once more cannot carry. */
        a = (chain_u128)l[0] + CHAIN_FE_C;
        l[0] = (uint64_t)a;
        a = (a >> 64) + l[1];
        l[1] = (uint64_t)a;
        l[2] += (uint64_t)(a >> 64);
    }
    fe_final(r, l, 0);
}

#ifdef CHAIN_SECP_ASM
#define CHAIN_FE_HAVE_ADX 1
/* Set (relaxed atomics) when the CPU has BMI2 and ADX; see
 * chain_secp_init. */
extern int chain_fe_adx;

/* t0..t7 (the 512-bit product) mod p into t0..t3: the two folds of
 * fe_reduce512, then fe_final's subtraction (t4..t7, lo, hi clobbered). */
#define CHAIN_FE_ASM_REDUCE                                                                        \
    "movabsq $0x1000003D1, %%rdx\n\t"                                                              \
    "xorl %k[lo], %k[lo]\n\t"                                                                      \
    "mulxq %[t4], %[lo], %[hi]\n\t"                                                                \
    "adcxq %[lo], %[t0]\n\t"                                                                       \
    "adoxq %[hi], %[t1]\n\t"                                                                       \
    "mulxq %[t5], %[lo], %[hi]\n\t"                                                                \
    "adcxq %[lo], %[t1]\n\t"                                                                       \
    "adoxq %[hi], %[t2]\n\t"                                                                       \
    "mulxq %[t6], %[lo], %[hi]\n\t"                                                                \
    "adcxq %[lo], %[t2]\n\t"                                                                       \
    "adoxq %[hi], %[t3]\n\t"                                                                       \
    "mulxq %[t7], %[lo], %[t4]\n\t"                                                                \
    "adcxq %[lo], %[t3]\n\t"                                                                       \
    "movl $0, %k[lo]\n\t"                                                                          \
    "adoxq %[lo], %[t4]\n\t"                                                                       \
    "adcxq %[lo], %[t4]\n\t"                                                                       \
    "mulxq %[t4], %[lo], %[hi]\n\t"                                                                \
    "addq %[lo], %[t0]\n\t"                                                                        \
    "adcq %[hi], %[t1]\n\t"                                                                        \
    "adcq $0, %[t2]\n\t"                                                                           \
    "adcq $0, %[t3]\n\t" /* v = t4 2^256 + t below 2^256 + 2^68: v mod p is t + C                  \
                          * (mod 2^256) when t4 is set or t + C carries, else t (as                \
                          * fe_final). */                                                          \
    "movl $0, %k[t4]\n\t"                                                                          \
    "adcq $0, %[t4]\n\t"                                                                           \
    "movq %[t0], %[t5]\n\t"                                                                        \
    "addq %%rdx, %[t5]\n\t"                                                                        \
    "movq %[t1], %[t6]\n\t"                                                                        \
    "adcq $0, %[t6]\n\t"                                                                           \
    "movq %[t2], %[t7]\n\t"                                                                        \
    "adcq $0, %[t7]\n\t"                                                                           \
    "movq %[t3], %[lo]\n\t"                                                                        \
    "adcq $0, %[lo]\n\t"                                                                           \
    "adcq $0, %[t4]\n\t"                                                                           \
    "testq %[t4], %[t4]\n\t"                                                                       \
    "cmovnzq %[t5], %[t0]\n\t"                                                                     \
    "cmovnzq %[t6], %[t1]\n\t"                                                                     \
    "cmovnzq %[t7], %[t2]\n\t"                                                                     \
    "cmovnzq %[lo], %[t3]\n\t"

/* (The operands are read through "memory": with "m" inputs as well gcc
 * runs out of registers at -O0.) */
/* a * b mod p with mulx and the two carry chains of adcx / adox: the
 * schoolbook rows, both folds of fe_reduce512 and fe_final's subtraction. gcc's code for the
 * unsigned __int128 version spills and is about twice as slow. */
__attribute__((always_inline)) static inline void fe_mul_adx(chain_fe *r, const chain_fe *a,
                                                             const chain_fe *b)
{
    uint64_t t0, t1, t2, t3, t4, t5, t6, t7, lo, hi;
    __asm__("movq 0(%[b]), %%rdx\n\t"
            "mulxq 0(%[a]), %[t0], %[t1]\n\t"
            "mulxq 8(%[a]), %[lo], %[t2]\n\t"
            "addq %[lo], %[t1]\n\t"
            "mulxq 16(%[a]), %[lo], %[t3]\n\t"
            "adcq %[lo], %[t2]\n\t"
            "mulxq 24(%[a]), %[lo], %[t4]\n\t"
            "adcq %[lo], %[t3]\n\t"
            "adcq $0, %[t4]\n\t"
            "movq 8(%[b]), %%rdx\n\t"
            "xorl %k[lo], %k[lo]\n\t"
            "mulxq 0(%[a]), %[lo], %[hi]\n\t"
            "adcxq %[lo], %[t1]\n\t"
            "adoxq %[hi], %[t2]\n\t"
            "mulxq 8(%[a]), %[lo], %[hi]\n\t"
            "adcxq %[lo], %[t2]\n\t"
            "adoxq %[hi], %[t3]\n\t"
            "mulxq 16(%[a]), %[lo], %[hi]\n\t"
            "adcxq %[lo], %[t3]\n\t"
            "adoxq %[hi], %[t4]\n\t"
            "mulxq 24(%[a]), %[lo], %[t5]\n\t"
            "adcxq %[lo], %[t4]\n\t"
            "movl $0, %k[lo]\n\t"
            "adoxq %[lo], %[t5]\n\t"
            "adcxq %[lo], %[t5]\n\t"
            "movq 16(%[b]), %%rdx\n\t"
            "xorl %k[lo], %k[lo]\n\t"
            "mulxq 0(%[a]), %[lo], %[hi]\n\t"
            "adcxq %[lo], %[t2]\n\t"
            "adoxq %[hi], %[t3]\n\t"
            "mulxq 8(%[a]), %[lo], %[hi]\n\t"
            "adcxq %[lo], %[t3]\n\t"
            "adoxq %[hi], %[t4]\n\t"
            "mulxq 16(%[a]), %[lo], %[hi]\n\t"
            "adcxq %[lo], %[t4]\n\t"
            "adoxq %[hi], %[t5]\n\t"
            "mulxq 24(%[a]), %[lo], %[t6]\n\t"
            "adcxq %[lo], %[t5]\n\t"
            "movl $0, %k[lo]\n\t"
            "adoxq %[lo], %[t6]\n\t"
            "adcxq %[lo], %[t6]\n\t"
            "movq 24(%[b]), %%rdx\n\t"
            "xorl %k[lo], %k[lo]\n\t"
            "mulxq 0(%[a]), %[lo], %[hi]\n\t"
            "adcxq %[lo], %[t3]\n\t"
            "adoxq %[hi], %[t4]\n\t"
            "mulxq 8(%[a]), %[lo], %[hi]\n\t"
            "adcxq %[lo], %[t4]\n\t"
            "adoxq %[hi], %[t5]\n\t"
            "mulxq 16(%[a]), %[lo], %[hi]\n\t"
            "adcxq %[lo], %[t5]\n\t"
            "adoxq %[hi], %[t6]\n\t"
            "mulxq 24(%[a]), %[lo], %[t7]\n\t"
            "adcxq %[lo], %[t6]\n\t"
            "movl $0, %k[lo]\n\t"
            "adoxq %[lo], %[t7]\n\t"
            "adcxq %[lo], %[t7]\n\t" CHAIN_FE_ASM_REDUCE
            : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
              [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [a] "r"(a->l), [b] "r"(b->l)
            : "rdx", "cc", "memory");
    r->l[0] = t0;
    r->l[1] = t1;
    r->l[2] = t2;
    r->l[3] = t3;
}

/* a^2 mod p: the six cross products, doubled, plus the four squares (10
 * multiplications instead of 16), then the same reduction. */
__attribute__((always_inline)) static inline void fe_sqr_adx(chain_fe *r, const chain_fe *a)
{
    uint64_t t0, t1, t2, t3, t4, t5, t6, t7, lo, hi;
    __asm__("movq 0(%[a]), %%rdx\n\t"
            "mulxq 8(%[a]), %[t1], %[t2]\n\t"
            "mulxq 16(%[a]), %[lo], %[t3]\n\t"
            "addq %[lo], %[t2]\n\t"
            "mulxq 24(%[a]), %[lo], %[t4]\n\t"
            "adcq %[lo], %[t3]\n\t"
            "adcq $0, %[t4]\n\t"
            "movq 8(%[a]), %%rdx\n\t"
            "mulxq 16(%[a]), %[lo], %[hi]\n\t"
            "mulxq 24(%[a]), %[t0], %[t5]\n\t"
            "addq %[lo], %[t3]\n\t"
            "adcq %[hi], %[t4]\n\t"
            "adcq $0, %[t5]\n\t"
            "addq %[t0], %[t4]\n\t"
            "adcq $0, %[t5]\n\t"
            "movq 16(%[a]), %%rdx\n\t"
            "mulxq 24(%[a]), %[lo], %[t6]\n\t"
            "addq %[lo], %[t5]\n\t"
            "adcq $0, %[t6]\n\t"
            "xorl %k[t7], %k[t7]\n\t"
            "addq %[t1], %[t1]\n\t"
            "adcq %[t2], %[t2]\n\t"
            "adcq %[t3], %[t3]\n\t"
            "adcq %[t4], %[t4]\n\t"
            "adcq %[t5], %[t5]\n\t"
            "adcq %[t6], %[t6]\n\t"
            "adcq $0, %[t7]\n\t"
            "movq 0(%[a]), %%rdx\n\t"
            "mulxq %%rdx, %[t0], %[hi]\n\t"
            "addq %[hi], %[t1]\n\t"
            "movq 8(%[a]), %%rdx\n\t"
            "mulxq %%rdx, %[lo], %[hi]\n\t"
            "adcq %[lo], %[t2]\n\t"
            "adcq %[hi], %[t3]\n\t"
            "movq 16(%[a]), %%rdx\n\t"
            "mulxq %%rdx, %[lo], %[hi]\n\t"
            "adcq %[lo], %[t4]\n\t"
            "adcq %[hi], %[t5]\n\t"
            "movq 24(%[a]), %%rdx\n\t"
            "mulxq %%rdx, %[lo], %[hi]\n\t"
            "adcq %[lo], %[t6]\n\t"
            "adcq %[hi], %[t7]\n\t" CHAIN_FE_ASM_REDUCE
            : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
              [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [a] "r"(a->l)
            : "rdx", "cc", "memory");
    r->l[0] = t0;
    r->l[1] = t1;
    r->l[2] = t2;
    r->l[3] = t3;
}
#endif

/* One row of the schoolbook product: t[j..j+4] += a * b_j (t[j+4] is
 * still free when the row starts). */
#define CHAIN_FE_ROW(j)                                                                            \
    do {                                                                                           \
        const uint64_t bj = b->l[j];                                                               \
        chain_u128 c = (chain_u128)a0 * bj + t[j];                                                 \
        t[j] = (uint64_t)c;                                                                        \
        c = (c >> 64) + (chain_u128)a1 * bj + t[j + 1];                                            \
        t[j + 1] = (uint64_t)c;                                                                    \
        c = (c >> 64) + (chain_u128)a2 * bj + t[j + 2];                                            \
        t[j + 2] = (uint64_t)c;                                                                    \
        c = (c >> 64) + (chain_u128)a3 * bj + t[j + 3];                                            \
        t[j + 3] = (uint64_t)c;                                                                    \
        t[j + 4] = (uint64_t)(c >> 64);                                                            \
    } while (0)

static inline void fe_mul_c(chain_fe *r, const chain_fe *a, const chain_fe *b)
{
    uint64_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const uint64_t a0 = a->l[0], a1 = a->l[1], a2 = a->l[2], a3 = a->l[3];
    CHAIN_FE_ROW(0);
    CHAIN_FE_ROW(1);
    CHAIN_FE_ROW(2);
    CHAIN_FE_ROW(3);
    fe_reduce512(r, t);
}

static inline void chain_fe_mul(chain_fe *r, const chain_fe *a, const chain_fe *b)
{
#ifdef CHAIN_FE_HAVE_ADX
    if (__atomic_load_n(&chain_fe_adx, __ATOMIC_RELAXED)) {
        fe_mul_adx(r, a, b);
        return;
    }
#endif
    fe_mul_c(r, a, b);
}

static inline void fe_sqr_c(chain_fe *r, const chain_fe *a)
{
    const uint64_t a0 = a->l[0], a1 = a->l[1], a2 = a->l[2], a3 = a->l[3];
    uint64_t c1, c2, c3, c4, c5, c6, t[8];
    /* The cross products a_i a_j (i < j), then doubled, then the squares. */
    chain_u128 x = (chain_u128)a0 * a1;
    c1 = (uint64_t)x;
    x = (x >> 64) + (chain_u128)a0 * a2;
    c2 = (uint64_t)x;
    x = (x >> 64) + (chain_u128)a0 * a3;
    c3 = (uint64_t)x;
    c4 = (uint64_t)(x >> 64);
    x = (chain_u128)a1 * a2 + c3;
    c3 = (uint64_t)x;
    x = (x >> 64) + (chain_u128)a1 * a3 + c4;
    c4 = (uint64_t)x;
    c5 = (uint64_t)(x >> 64);
    x = (chain_u128)a2 * a3 + c5;
    c5 = (uint64_t)x;
    c6 = (uint64_t)(x >> 64);
    const uint64_t c7 = c6 >> 63;
    c6 = c6 << 1 | c5 >> 63;
    c5 = c5 << 1 | c4 >> 63;
    c4 = c4 << 1 | c3 >> 63;
    c3 = c3 << 1 | c2 >> 63;
    c2 = c2 << 1 | c1 >> 63;
    c1 = c1 << 1;
    x = (chain_u128)a0 * a0;
    t[0] = (uint64_t)x;
    x = (x >> 64) + c1;
    t[1] = (uint64_t)x;
    x = (x >> 64) + c2 + (chain_u128)a1 * a1;
    t[2] = (uint64_t)x;
    x = (x >> 64) + c3;
    t[3] = (uint64_t)x;
    x = (x >> 64) + c4 + (chain_u128)a2 * a2;
    t[4] = (uint64_t)x;
    x = (x >> 64) + c5;
    t[5] = (uint64_t)x;
    x = (x >> 64) + c6 + (chain_u128)a3 * a3;
    t[6] = (uint64_t)x;
    x = (x >> 64) + c7;
    t[7] = (uint64_t)x;
    fe_reduce512(r, t);
}

static inline void chain_fe_sqr(chain_fe *r, const chain_fe *a)
{
#ifdef CHAIN_FE_HAVE_ADX
    if (__atomic_load_n(&chain_fe_adx, __ATOMIC_RELAXED)) {
        fe_sqr_adx(r, a);
        return;
    }
#endif
    fe_sqr_c(r, a);
}

/* 1 when b (big-endian) is below p (r filled), else 0. */
int chain_fe_set_b32(chain_fe *r, const uint8_t b[32]);
void chain_fe_get_b32(uint8_t b[32], const chain_fe *a);
/* r = 1 / a (a^(p-2)); 0 for a = 0. */
void chain_fe_inv(chain_fe *r, const chain_fe *a);
/* 1 when a is a square (r = its square root a^((p+1)/4)), else 0. */
int chain_fe_sqrt(chain_fe *r, const chain_fe *a);
/* chain_fe_sqrt of a[0..n) into r, ok (several at once: faster). r and a
 * may be the same array. */
void chain_fe_sqrt_many(chain_fe *r, int *ok, const chain_fe *a, size_t n);

/* Picks the multiplication for this CPU (mulx / adcx / adox when it has
 * them); idempotent, thread-safe. portable = 1 forces the C one (tests). */
void chain_secp_init(void);
void chain_secp_portable(int portable);

/* b (big-endian) mod n; *overflow (when not NULL) says whether b >= n. */
void chain_sc_set_b32(chain_sc *r, const uint8_t b[32], int *overflow);
void chain_sc_get_b32(uint8_t b[32], const chain_sc *a);
void chain_sc_add(chain_sc *r, const chain_sc *a, const chain_sc *b);
void chain_sc_mul(chain_sc *r, const chain_sc *a, const chain_sc *b);
void chain_sc_neg(chain_sc *r, const chain_sc *a);

/* k = k1 + lambda k2 mod n, with lambda the scalar of the endomorphism
 * (chain_ge_mul_lambda): k1 and k2 are returned as their absolute values,
 * below 2^128 (neg1, neg2: whether the term is negated). */
void chain_sc_split_lambda(chain_sc *k1, int *neg1, chain_sc *k2, int *neg2, const chain_sc *k);

extern const chain_ge chain_ge_g; /* the generator */

/* r = lambda a, as (beta x, y): one field multiplication. */
void chain_ge_mul_lambda(chain_ge *r, const chain_ge *a);

/* 1 when x (big-endian) is below p and a point's x; r the point with even y. */
int chain_ge_lift_x(chain_ge *r, const uint8_t x[32]);
void chain_ge_neg(chain_ge *r, const chain_ge *a);
void chain_gej_set_inf(chain_gej *r);
void chain_gej_set_ge(chain_gej *r, const chain_ge *a);
/* r = a in affine (one inversion). */
void chain_ge_set_gej(chain_ge *r, const chain_gej *a);
void chain_gej_dbl(chain_gej *r, const chain_gej *a);
/* r = a + b; any of them may alias, a == b and a == -b included. */
void chain_gej_add(chain_gej *r, const chain_gej *a, const chain_gej *b);
void chain_gej_add_ge(chain_gej *r, const chain_gej *a, const chain_ge *b);

/* out = sum of sc[i] pts[i], the scalars any 256-bit values (not reduced),
 * the points any, infinity included. Pippenger with buckets summed in affine
 * coordinates. 0 when memory ran out, else 1. */
int chain_secp_msm(chain_gej *out, const chain_ge *pts, const chain_sc *sc, size_t n);

#endif
