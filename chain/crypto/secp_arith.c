/* secp256k1 field inversion and square root, scalars mod n, and point
 * arithmetic for the BIP-340 batch verification (secp_arith.h). The
 * multiplications themselves are inline in the header. */
#include "chain/crypto/secp_arith.h"

#include <pthread.h>
#include <string.h>
#ifdef CHAIN_FE_HAVE_ADX
#include <cpuid.h>
#endif

/* n, the group order, and 2^256 - n. */
static const uint64_t N[4] = {0xBFD25E8CD0364141ull, 0xBAAEDCE6AF48A03Bull, 0xFFFFFFFFFFFFFFFEull,
                              0xFFFFFFFFFFFFFFFFull};
static const uint64_t NC[3] = {0x402DA1732FC9BEBFull, 0x4551231950B75FC4ull, 1};
static const uint64_t P[4] = {0xFFFFFFFEFFFFFC2Full, 0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFFull,
                              0xFFFFFFFFFFFFFFFFull};

const chain_ge chain_ge_g = {
    {{0x59F2815B16F81798ull, 0x029BFCDB2DCE28D9ull, 0x55A06295CE870B07ull, 0x79BE667EF9DCBBACull}},
    {{0x9C47D08FFB10D4B8ull, 0xFD17B448A6855419ull, 0x5DA4FBFC0E1108A8ull, 0x483ADA7726A3C465ull}},
    0};

#ifdef CHAIN_FE_HAVE_ADX
int chain_fe_adx;

static void detect(void)
{
    /* CPUID leaf 7: EBX bit 8 is BMI2 (mulx), bit 19 ADX (adcx, adox). */
    unsigned a, b, c, d;
    int on = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 8 & 1) && (b >> 19 & 1);
    __atomic_store_n(&chain_fe_adx, on, __ATOMIC_RELAXED);
}
#else
static void detect(void) {}
#endif

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

void chain_secp_init(void)
{
    pthread_once(&g_once, detect);
}

void chain_secp_portable(int portable)
{
    chain_secp_init();
    if (portable) {
#ifdef CHAIN_FE_HAVE_ADX
        __atomic_store_n(&chain_fe_adx, 0, __ATOMIC_RELAXED);
#endif
    } else {
        detect();
    }
}

static void load_be(uint64_t l[4], const uint8_t b[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++)
            v = v << 8 | b[(3 - i) * 8 + k];
        l[i] = v;
    }
}

static void store_be(uint8_t b[32], const uint64_t l[4])
{
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 8; k++)
            b[(3 - i) * 8 + k] = (uint8_t)(l[i] >> (56 - 8 * k));
}

/* 1 when a >= m (both 4 limbs). */
static int ge4(const uint64_t a[4], const uint64_t m[4])
{
    for (int i = 3; i >= 0; i--)
        if (a[i] != m[i]) return a[i] > m[i];
    return 1;
}

/* a -= m mod 2^256. */
static void sub4(uint64_t a[4], const uint64_t m[4])
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        chain_u128 t = (chain_u128)a[i] - m[i] - borrow;
        a[i] = (uint64_t)t;
        borrow = (uint64_t)(t >> 127);
    }
}

int chain_fe_set_b32(chain_fe *r, const uint8_t b[32])
{
    load_be(r->l, b);
    return !ge4(r->l, P);
}

void chain_fe_get_b32(uint8_t b[32], const chain_fe *a)
{
    store_be(b, a->l);
}

/* Up to LANES exponentiations side by side: one squaring chain waits on the
 * multiplier's latency, several independent ones fill it (measured about
 * twice the throughput for four). */
#define LANES 4

typedef struct {
    chain_fe v[LANES];
} lanes;

static void l_sqr_n(lanes *r, const lanes *a, int times, size_t k)
{
    if (r != a) memcpy(r->v, a->v, k * sizeof *a->v);
    for (int t = 0; t < times; t++)
        for (size_t i = 0; i < k; i++)
            chain_fe_sqr(&r->v[i], &r->v[i]);
}

static void l_mul(lanes *r, const lanes *a, const lanes *b, size_t k)
{
    for (size_t i = 0; i < k; i++)
        chain_fe_mul(&r->v[i], &a->v[i], &b->v[i]);
}

/* p - 2 and (p + 1) / 4 both open with 223 one bits: x^(2^223 - 1) from
 * runs of ones (x_k = x^(2^k - 1), x_{j+k} = x_j^(2^k) x_k). */
static void pow_223(lanes *x223, lanes *x22, lanes *x2, const lanes *x, size_t k)
{
    lanes x3, x6, x9, x11, x44, x88, x176, x220, t;
    l_sqr_n(&t, x, 1, k);
    l_mul(x2, &t, x, k);
    l_sqr_n(&t, x2, 1, k);
    l_mul(&x3, &t, x, k);
    l_sqr_n(&t, &x3, 3, k);
    l_mul(&x6, &t, &x3, k);
    l_sqr_n(&t, &x6, 3, k);
    l_mul(&x9, &t, &x3, k);
    l_sqr_n(&t, &x9, 2, k);
    l_mul(&x11, &t, x2, k);
    l_sqr_n(&t, &x11, 11, k);
    l_mul(x22, &t, &x11, k);
    l_sqr_n(&t, x22, 22, k);
    l_mul(&x44, &t, x22, k);
    l_sqr_n(&t, &x44, 44, k);
    l_mul(&x88, &t, &x44, k);
    l_sqr_n(&t, &x88, 88, k);
    l_mul(&x176, &t, &x88, k);
    l_sqr_n(&t, &x176, 44, k);
    l_mul(&x220, &t, &x44, k);
    l_sqr_n(&t, &x220, 3, k);
    l_mul(x223, &t, &x3, k);
}

void chain_fe_inv(chain_fe *r, const chain_fe *a)
{
    /* p - 2 = [223 ones] 0 [22 ones] 0000 1 0 11 0 1. */
    lanes x, x223, x22, x2, t;
    x.v[0] = *a;
    pow_223(&x223, &x22, &x2, &x, 1);
    l_sqr_n(&t, &x223, 23, 1);
    l_mul(&t, &t, &x22, 1);
    l_sqr_n(&t, &t, 5, 1);
    l_mul(&t, &t, &x, 1);
    l_sqr_n(&t, &t, 3, 1);
    l_mul(&t, &t, &x2, 1);
    l_sqr_n(&t, &t, 2, 1);
    l_mul(&t, &t, &x, 1);
    *r = t.v[0];
}

void chain_fe_sqrt_many(chain_fe *r, int *ok, const chain_fe *a, size_t n)
{
    /* p = 3 mod 4: a^((p + 1) / 4), (p + 1) / 4 = [223 ones] 0 [22 ones]
     * 0000 11 00; a square root exactly when its square is a. */
    for (size_t at = 0; at < n; at += LANES) {
        size_t k = n - at < LANES ? n - at : LANES;
        lanes x, x223, x22, x2, t, c;
        memcpy(x.v, a + at, k * sizeof *a);
        pow_223(&x223, &x22, &x2, &x, k);
        l_sqr_n(&t, &x223, 23, k);
        l_mul(&t, &t, &x22, k);
        l_sqr_n(&t, &t, 6, k);
        l_mul(&t, &t, &x2, k);
        l_sqr_n(&t, &t, 2, k);
        l_sqr_n(&c, &t, 1, k);
        for (size_t i = 0; i < k; i++) {
            ok[at + i] = chain_fe_eq(&c.v[i], &a[at + i]);
            r[at + i] = t.v[i];
        }
    }
}

int chain_fe_sqrt(chain_fe *r, const chain_fe *a)
{
    int ok;
    chain_fe_sqrt_many(r, &ok, a, 1);
    return ok;
}

void chain_sc_set_b32(chain_sc *r, const uint8_t b[32], int *overflow)
{
    load_be(r->l, b);
    int over = ge4(r->l, N);
    if (over) sub4(r->l, N); /* 2^256 < 2n: once is enough */
    if (overflow) *overflow = over;
}

void chain_sc_get_b32(uint8_t b[32], const chain_sc *a)
{
    store_be(b, a->l);
}

void chain_sc_add(chain_sc *r, const chain_sc *a, const chain_sc *b)
{
    uint64_t t[4], carry = 0;
    for (int i = 0; i < 4; i++) {
        chain_u128 s = (chain_u128)a->l[i] + b->l[i] + carry;
        t[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    /* a + b < 2n: with a carry out, the wrapped subtraction is exact. */
    if (carry || ge4(t, N)) sub4(t, N);
    memcpy(r->l, t, sizeof t);
}

void chain_sc_neg(chain_sc *r, const chain_sc *a)
{
    uint64_t t[4];
    memcpy(t, N, sizeof t);
    if ((a->l[0] | a->l[1] | a->l[2] | a->l[3]) == 0) {
        memset(r->l, 0, sizeof r->l);
        return;
    }
    sub4(t, a->l);
    memcpy(r->l, t, sizeof t);
}

void chain_sc_mul(chain_sc *r, const chain_sc *a, const chain_sc *b)
{
    uint64_t x[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = 0; j < 4; j++) {
        chain_u128 c = 0;
        for (int i = 0; i < 4; i++) {
            c += (chain_u128)a->l[i] * b->l[j] + x[i + j];
            x[i + j] = (uint64_t)c;
            c >>= 64;
        }
        x[j + 4] = (uint64_t)c;
    }
    /* 2^256 = NC mod n: fold the high half down until there is none (each
     * fold shrinks the value: 512, 385, 259, then at most 257 bits). */
    while (x[4] | x[5] | x[6] | x[7]) {
        uint64_t y[8] = {x[0], x[1], x[2], x[3], 0, 0, 0, 0};
        for (int i = 0; i < 4; i++) {
            chain_u128 c = 0;
            for (int j = 0; j < 3; j++) {
                c += (chain_u128)x[4 + i] * NC[j] + y[i + j];
                y[i + j] = (uint64_t)c;
                c >>= 64;
            }
            for (int k = i + 3; k < 8 && c; k++) {
                c += y[k];
                y[k] = (uint64_t)c;
                c >>= 64;
            }
        }
        memcpy(x, y, sizeof y);
    }
    while (ge4(x, N))
        sub4(x, N);
    memcpy(r->l, x, sizeof r->l);
}

/* The endomorphism (x, y) -> (beta x, y) is multiplication by lambda
 * (beta, lambda: cube roots of 1 mod p and mod n, the matching pair). A
 * short basis of the lattice {(a, b): a + b lambda = 0 mod n}, from the
 * extended Euclidean algorithm on (n, lambda) (Gallant-Lambert-Vanstone):
 * (a1, b1) and (a2, b2) with b2 = a1, -b1 and b2 below 2^128. G1 and G2 are
 * round(2^384 b2 / n) and round(2^384 (-b1) / n), so that c1 = round(b2 k
 * / n) and c2 = round(-b1 k / n) are a product and a shift. */
static const chain_sc LAMBDA = {
    {0xDF02967C1B23BD72ull, 0x122E22EA20816678ull, 0xA5261C028812645Aull, 0x5363AD4CC05C30E0ull}};
static const chain_fe BETA = {
    {0xC1396C28719501EEull, 0x9CF0497512F58995ull, 0x6E64479EAC3434E9ull, 0x7AE96A2B657C0710ull}};
static const uint64_t G1[4] = {0xE893209A45DBB031ull, 0x3DAA8A1471E8CA7Full, 0xE86C90E49284EB15ull,
                               0x3086D221A7D46BCDull};
static const uint64_t G2[4] = {0x1571B4AE8AC47F71ull, 0x221208AC9DF506C6ull, 0x6F547FA90ABFE4C4ull,
                               0xE4437ED6010E8828ull};
/* -b1 and -b2 mod n. */
static const chain_sc MB1 = {{0x6F547FA90ABFE4C3ull, 0xE4437ED6010E8828ull, 0, 0}};
static const chain_sc MB2 = {
    {0xD765CDA83DB1562Cull, 0x8A280AC50774346Dull, 0xFFFFFFFFFFFFFFFEull, 0xFFFFFFFFFFFFFFFFull}};
/* (n - 1) / 2. */
static const uint64_t HALF_N[4] = {0xDFE92F46681B20A0ull, 0x5D576E7357A4501Dull,
                                   0xFFFFFFFFFFFFFFFFull, 0x7FFFFFFFFFFFFFFFull};

/* round(k g / 2^384), below 2^128 for k < n. */
static void mul_shift384(chain_sc *r, const chain_sc *k, const uint64_t g[4])
{
    uint64_t x[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = 0; j < 4; j++) {
        chain_u128 c = 0;
        for (int i = 0; i < 4; i++) {
            c += (chain_u128)k->l[i] * g[j] + x[i + j];
            x[i + j] = (uint64_t)c;
            c >>= 64;
        }
        x[j + 4] = (uint64_t)c;
    }
    /* + 2^383 (limb 5's top bit) for the rounding. */
    chain_u128 c = (chain_u128)x[5] + (1ull << 63);
    c = (c >> 64) + x[6];
    r->l[0] = (uint64_t)c;
    c = (c >> 64) + x[7];
    r->l[1] = (uint64_t)c;
    r->l[2] = r->l[3] = 0;
}

/* The smaller of a and n - a; 1 when that is n - a. */
static int sc_shorten(chain_sc *a)
{
    int big = 0;
    for (int i = 3; i >= 0; i--)
        if (a->l[i] != HALF_N[i]) {
            big = a->l[i] > HALF_N[i];
            break;
        }
    if (big) chain_sc_neg(a, a);
    return big;
}

void chain_sc_split_lambda(chain_sc *k1, int *neg1, chain_sc *k2, int *neg2, const chain_sc *k)
{
    chain_sc c1, c2, t;
    mul_shift384(&c1, k, G1);
    mul_shift384(&c2, k, G2);
    /* k2 = -(c1 b1 + c2 b2), k1 = k - lambda k2: k1 + lambda k2 = k holds
     * whatever the rounding did; the basis only makes both short. */
    chain_sc_mul(&c1, &c1, &MB1);
    chain_sc_mul(&c2, &c2, &MB2);
    chain_sc_add(k2, &c1, &c2);
    chain_sc_mul(&t, k2, &LAMBDA);
    chain_sc_neg(&t, &t);
    chain_sc_add(k1, k, &t);
    *neg1 = sc_shorten(k1);
    *neg2 = sc_shorten(k2);
}

void chain_ge_mul_lambda(chain_ge *r, const chain_ge *a)
{
    *r = *a;
    chain_fe_mul(&r->x, &a->x, &BETA);
}

int chain_ge_lift_x(chain_ge *r, const uint8_t xb[32])
{
    chain_fe x, c, y, seven;
    if (!chain_fe_set_b32(&x, xb)) return 0;
    chain_fe_set_int(&seven, 7);
    chain_fe_sqr(&c, &x);
    chain_fe_mul(&c, &c, &x);
    chain_fe_add(&c, &c, &seven);
    if (!chain_fe_sqrt(&y, &c)) return 0;
    if (y.l[0] & 1) chain_fe_neg(&y, &y);
    r->x = x;
    r->y = y;
    r->inf = 0;
    return 1;
}

void chain_ge_neg(chain_ge *r, const chain_ge *a)
{
    *r = *a;
    chain_fe_neg(&r->y, &a->y);
}

void chain_gej_set_inf(chain_gej *r)
{
    memset(r, 0, sizeof *r);
    r->inf = 1;
}

void chain_gej_set_ge(chain_gej *r, const chain_ge *a)
{
    if (a->inf) {
        chain_gej_set_inf(r);
        return;
    }
    r->x = a->x;
    r->y = a->y;
    chain_fe_set_int(&r->z, 1);
    r->inf = 0;
}

void chain_ge_set_gej(chain_ge *r, const chain_gej *a)
{
    if (a->inf) {
        memset(r, 0, sizeof *r);
        r->inf = 1;
        return;
    }
    chain_fe zi, zi2;
    chain_fe_inv(&zi, &a->z);
    chain_fe_sqr(&zi2, &zi);
    chain_fe_mul(&r->x, &a->x, &zi2);
    chain_fe_mul(&zi2, &zi2, &zi);
    chain_fe_mul(&r->y, &a->y, &zi2);
    r->inf = 0;
}

/* dbl-2009-l (a = 0). No point of the curve has y = 0 (the order is odd);
 * the check keeps the formula total. */
void chain_gej_dbl(chain_gej *r, const chain_gej *a)
{
    if (a->inf || chain_fe_is_zero(&a->y)) {
        chain_gej_set_inf(r);
        return;
    }
    chain_fe A, B, C, D, E, F, t, z3;
    chain_fe_mul(&z3, &a->y, &a->z);
    chain_fe_add(&z3, &z3, &z3);
    chain_fe_sqr(&A, &a->x);
    chain_fe_sqr(&B, &a->y);
    chain_fe_sqr(&C, &B);
    chain_fe_add(&t, &a->x, &B);
    chain_fe_sqr(&t, &t);
    chain_fe_sub(&t, &t, &A);
    chain_fe_sub(&t, &t, &C);
    chain_fe_add(&D, &t, &t);
    chain_fe_add(&E, &A, &A);
    chain_fe_add(&E, &E, &A);
    chain_fe_sqr(&F, &E);
    chain_fe_sub(&r->x, &F, &D);
    chain_fe_sub(&r->x, &r->x, &D);
    chain_fe_sub(&t, &D, &r->x);
    chain_fe_mul(&t, &E, &t);
    chain_fe_add(&C, &C, &C);
    chain_fe_add(&C, &C, &C);
    chain_fe_add(&C, &C, &C);
    chain_fe_sub(&r->y, &t, &C);
    r->z = z3;
    r->inf = 0;
}

/* The rest of add-2007-bl once U1, U2, S1, S2 are known (H = U2 - U1,
 * R = S2 - S1); zh is Z3 / H (Z1 Z2, or Z1 for a mixed addition). Equal
 * x: a doubling when the y agree too, else a point and its negation.
 * r may alias a: u1 and s1 (which may be a's) are read before r's x and y
 * are written, and the doubling happens before any write. */
static void add_tail(chain_gej *r, const chain_gej *a, const chain_fe *u1, const chain_fe *u2,
                     const chain_fe *s1, const chain_fe *s2, const chain_fe *zh)
{
    chain_fe h, rr, hh, hhh, v, t;
    chain_fe_sub(&h, u2, u1);
    chain_fe_sub(&rr, s2, s1);
    if (chain_fe_is_zero(&h)) {
        if (chain_fe_is_zero(&rr)) {
            chain_gej_dbl(r, a);
        } else {
            chain_gej_set_inf(r);
        }
        return;
    }
    chain_fe_sqr(&hh, &h);
    chain_fe_mul(&hhh, &h, &hh);
    chain_fe_mul(&v, u1, &hh);
    chain_fe_mul(&r->z, zh, &h);
    chain_fe_sqr(&t, &rr);
    chain_fe_sub(&t, &t, &hhh);
    chain_fe_sub(&t, &t, &v);
    chain_fe_sub(&r->x, &t, &v);
    chain_fe_sub(&t, &v, &r->x);
    chain_fe_mul(&t, &t, &rr);
    chain_fe_mul(&hhh, &hhh, s1);
    chain_fe_sub(&r->y, &t, &hhh);
    r->inf = 0;
}

void chain_gej_add(chain_gej *r, const chain_gej *a, const chain_gej *b)
{
    if (a->inf) {
        *r = *b;
        return;
    }
    if (b->inf) {
        *r = *a;
        return;
    }
    chain_fe z1z1, z2z2, u1, u2, s1, s2, zz;
    chain_fe_sqr(&z1z1, &a->z);
    chain_fe_sqr(&z2z2, &b->z);
    chain_fe_mul(&u1, &a->x, &z2z2);
    chain_fe_mul(&u2, &b->x, &z1z1);
    chain_fe_mul(&s1, &a->y, &b->z);
    chain_fe_mul(&s1, &s1, &z2z2);
    chain_fe_mul(&s2, &b->y, &a->z);
    chain_fe_mul(&s2, &s2, &z1z1);
    chain_fe_mul(&zz, &a->z, &b->z);
    add_tail(r, a, &u1, &u2, &s1, &s2, &zz);
}

void chain_gej_add_ge(chain_gej *r, const chain_gej *a, const chain_ge *b)
{
    if (b->inf) {
        *r = *a;
        return;
    }
    if (a->inf) {
        chain_gej_set_ge(r, b);
        return;
    }
    chain_fe z1z1, u2, s2, z1 = a->z;
    chain_fe_sqr(&z1z1, &a->z);
    chain_fe_mul(&u2, &b->x, &z1z1);
    chain_fe_mul(&s2, &b->y, &a->z);
    chain_fe_mul(&s2, &s2, &z1z1);
    add_tail(r, a, &a->x, &u2, &a->y, &s2, &z1);
}
