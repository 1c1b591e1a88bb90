/* Multi-scalar multiplication on secp256k1 (chain_secp_msm, secp_arith.h)
 * for the BIP-340 batch verification: Pippenger's buckets with signed window
 * digits, each bucket's points summed in affine coordinates a pass at a time.
 * In a pass every bucket's points are added pairwise and all the pairs of
 * the pass share one field inversion (Montgomery's trick), so an addition
 * costs about 6 multiplications instead of the 11 of a mixed Jacobian one.
 * Several windows go through the passes together so that they share the
 * inversions too. The same scheme as rollup/eth/bls12_381_msm.c, for this
 * curve (chain/ cannot include rollup/). The windows stop at the longest
 * scalar (a batch's are all of 128 bits) and a window above a scalar's top
 * bit has no digit for it. */
#include "chain/crypto/secp_arith.h"

#include <stdlib.h>
#include <string.h>

/* Windows summed in affine together, sharing each pass's inversion: at
 * least MSM_GROUP, more for few points (up to MSM_GROUP_POINTS digits in a
 * group), so that a small batch does not pay an inversion for a handful of
 * additions. */
#define MSM_GROUP 4
#define MSM_GROUP_POINTS 1024

typedef struct {
    chain_fe x, y;
} aff;

/* Bits [off, off + c) of s. */
static uint32_t scalar_bits(const chain_sc *s, unsigned off, unsigned c)
{
    unsigned li = off / 64, sh = off % 64;
    if (li >= 4) return 0;
    uint64_t v = s->l[li] >> sh;
    if (sh + c > 64 && li + 1 < 4) v |= s->l[li + 1] << (64 - sh);
    return (uint32_t)(v & ((1u << c) - 1));
}

static unsigned bit_len(const chain_sc *s)
{
    for (int i = 3; i >= 0; i--)
        if (s->l[i]) return (unsigned)(64 * i + 64 - __builtin_clzll(s->l[i]));
    return 0;
}

/* The window minimising (the points' additions, ~6.5 multiplications each
 * per nonzero digit plus sorting and copying, ~12 in all) + (the bucket
 * sums, ~27 per bucket per window); checked against the MSM alone on the
 * batch's 3n + 2 points of 128 bits (n = 64: 6, 128: 6 or 7, 256: 7). */
static unsigned msm_window(const unsigned *bits_hist)
{
    unsigned best = 2;
    uint64_t best_cost = 0;
    for (unsigned c = 2; c <= 14; c++) {
        uint64_t digits = 0, maxw = 0;
        for (unsigned b = 1; b <= 256; b++) {
            uint64_t w = b / c + 1;
            digits += (uint64_t)bits_hist[b] * w;
            if (bits_hist[b] && w > maxw) maxw = w;
        }
        uint64_t cost = 24 * digits + maxw * 54 * ((uint64_t)1 << (c - 1));
        if (c == 2 || cost < best_cost) {
            best = c;
            best_cost = cost;
        }
    }
    return best;
}

typedef struct {
    chain_gej *jac;        /* g * nb: pairs with equal x, added in Jacobian */
    uint32_t *cnt, *start; /* g * nb each */
    aff *sorted;           /* g * n: the points by bucket */
    chain_fe *den, *pre;   /* g * n / 2 + 1 each */
    uint32_t *pair;        /* (g * n / 2 + 1) x 2: first input, output position */
    uint32_t *move;        /* g * nb x 2: from, to */
    int16_t *digits;       /* windows x n */
} scratch;

/* den[i] = 1 / den[i] for i < n (all nonzero), with one inversion
 * (Montgomery's trick). The running products form CHAINS interleaved chains
 * (i mod CHAINS) rather than one: each multiplication waits on the previous
 * one of its chain only, so the multiplier overlaps them; the chains' totals
 * share the inversion. pre: n elements of scratch. */
#define CHAINS 4
static void batch_inv(chain_fe *den, chain_fe *pre, size_t n)
{
    chain_fe tot[CHAINS], inv[CHAINS], t;
    for (size_t c = 0; c < CHAINS; c++)
        chain_fe_set_int(&tot[c], 1);
    for (size_t i = 0; i < n; i++) {
        size_t c = i % CHAINS;
        if (i < CHAINS) {
            tot[c] = den[i];
        } else {
            chain_fe_mul(&tot[c], &tot[c], &den[i]);
        }
        pre[i] = tot[c];
    }
    /* 1 / (t0 t1 t2 t3), then each 1 / t_c from the others' products. */
    chain_fe t01, t23, all, i01, i23;
    chain_fe_mul(&t01, &tot[0], &tot[1]);
    chain_fe_mul(&t23, &tot[2], &tot[3]);
    chain_fe_mul(&all, &t01, &t23);
    chain_fe_inv(&all, &all);
    chain_fe_mul(&i01, &all, &t23);
    chain_fe_mul(&i23, &all, &t01);
    chain_fe_mul(&inv[0], &i01, &tot[1]);
    chain_fe_mul(&inv[1], &i01, &tot[0]);
    chain_fe_mul(&inv[2], &i23, &tot[3]);
    chain_fe_mul(&inv[3], &i23, &tot[2]);
    for (size_t i = n; i-- > 0;) {
        size_t c = i % CHAINS;
        if (i >= CHAINS) {
            chain_fe_mul(&t, &inv[c], &pre[i - CHAINS]);
            chain_fe_mul(&inv[c], &inv[c], &den[i]);
            den[i] = t;
        } else {
            den[i] = inv[c];
        }
    }
}
_Static_assert(CHAINS == 4, "batch_inv combines four chains");

/* Affine buckets of g consecutive windows (dw: their digits, window after
 * window), nb per window: bucket k * nb + b holds window k's points of digit
 * +-(b + 1), negated for a negative digit, summed pairwise until at most one
 * is left, s->sorted[s->start[b]] when s->cnt[b] is 1. A pair with equal x
 * (the same point twice, or a point and its negation) has no affine sum
 * through the shared inversion (its denominator is 0, which would spoil
 * every other pair's inverse): both go to the Jacobian bucket s->jac[b],
 * whose addition handles the doubling and the cancellation. */
static void fill_affine(const chain_ge *pts, const int16_t *dw, size_t n, size_t g, size_t nb1,
                        scratch *s)
{
    size_t nb = g * nb1;
    memset(s->cnt, 0, nb * sizeof *s->cnt);
    for (size_t k = 0; k < g; k++)
        for (size_t i = 0; i < n; i++) {
            int d = dw[k * n + i];
            if (d) s->cnt[k * nb1 + (size_t)(d > 0 ? d : -d) - 1]++;
        }
    uint32_t at = 0;
    for (size_t b = 0; b < nb; b++) {
        s->start[b] = at;
        at += s->cnt[b];
        s->cnt[b] = 0;
    }
    for (size_t k = 0; k < g; k++)
        for (size_t i = 0; i < n; i++) {
            int d = dw[k * n + i];
            if (!d) continue;
            size_t b = k * nb1 + (size_t)(d > 0 ? d : -d) - 1;
            aff *dst = &s->sorted[s->start[b] + s->cnt[b]++];
            dst->x = pts[i].x;
            if (d < 0) {
                chain_fe_neg(&dst->y, &pts[i].y);
            } else {
                dst->y = pts[i].y;
            }
        }
    for (;;) {
        size_t np = 0, nmove = 0;
        for (size_t b = 0; b < nb; b++) {
            uint32_t k = s->cnt[b], base = s->start[b], out = 0;
            if (k < 2) continue;
            for (uint32_t j = 0; j + 1 < k; j += 2) {
                const aff *p = &s->sorted[base + j], *q = p + 1;
                if (chain_fe_eq(&p->x, &q->x)) {
                    chain_ge t = {p->x, p->y, 0};
                    chain_gej_add_ge(&s->jac[b], &s->jac[b], &t);
                    t.y = q->y;
                    chain_gej_add_ge(&s->jac[b], &s->jac[b], &t);
                    continue;
                }
                chain_fe_sub(&s->den[np], &q->x, &p->x);
                s->pair[2 * np] = base + j;
                s->pair[2 * np + 1] = base + out++;
                np++;
            }
            if (k & 1) {
                s->move[2 * nmove] = base + k - 1;
                s->move[2 * nmove + 1] = base + out++;
                nmove++;
            }
            s->cnt[b] = out;
        }
        if (np == 0) {
            /* Only equal-x pairs (now in the Jacobian buckets) and lone
             * points: the lone ones still have to move to their bucket's
             * start. */
            for (size_t i = 0; i < nmove; i++)
                s->sorted[s->move[2 * i + 1]] = s->sorted[s->move[2 * i]];
            break;
        }
        batch_inv(s->den, s->pre, np);
        /* In creation order: a pair's output position is at most its first
         * input's, and no later pair reads below its own inputs. */
        for (size_t i = 0; i < np; i++) {
            const aff *p = &s->sorted[s->pair[2 * i]], *q = p + 1;
            chain_fe lambda, x3, y3;
            chain_fe_sub(&lambda, &q->y, &p->y);
            chain_fe_mul(&lambda, &lambda, &s->den[i]);
            chain_fe_sqr(&x3, &lambda);
            chain_fe_sub(&x3, &x3, &p->x);
            chain_fe_sub(&x3, &x3, &q->x);
            chain_fe_sub(&y3, &p->x, &x3);
            chain_fe_mul(&y3, &y3, &lambda);
            chain_fe_sub(&y3, &y3, &p->y);
            aff *dst = &s->sorted[s->pair[2 * i + 1]];
            dst->x = x3;
            dst->y = y3;
        }
        for (size_t i = 0; i < nmove; i++)
            s->sorted[s->move[2 * i + 1]] = s->sorted[s->move[2 * i]];
    }
}

int chain_secp_msm(chain_gej *out, const chain_ge *pts, const chain_sc *sc, size_t n)
{
    chain_gej_set_inf(out);
    if (n == 0) return 1;
    if (n > ((size_t)1 << 26)) return 0;
    unsigned hist[257] = {0}, maxbits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned b = pts[i].inf ? 0 : bit_len(&sc[i]);
        hist[b]++;
        if (b > maxbits) maxbits = b;
    }
    if (maxbits == 0) return 1;
    unsigned c = msm_window(hist);
    /* Signed digits in [-2^(c-1), 2^(c-1)]: half the buckets. A scalar of
     * b bits has b / c + 1 windows, enough to take the last carry. */
    unsigned windows = maxbits / c + 1;
    size_t nb = (size_t)1 << (c - 1), g = MSM_GROUP_POINTS / n;
    if (g < MSM_GROUP) g = MSM_GROUP;
    if (g > windows) g = windows;
    size_t half = g * n / 2 + 1;
    scratch s;
    s.jac = malloc(g * nb * sizeof *s.jac);
    s.cnt = malloc(g * nb * sizeof *s.cnt);
    s.start = malloc(g * nb * sizeof *s.start);
    s.sorted = malloc(g * n * sizeof *s.sorted);
    s.den = malloc(half * sizeof *s.den);
    s.pre = malloc(half * sizeof *s.pre);
    s.pair = malloc(half * 2 * sizeof *s.pair);
    s.move = malloc(g * nb * 2 * sizeof *s.move);
    s.digits = malloc((size_t)windows * n * sizeof *s.digits);
    int ok =
        s.jac && s.cnt && s.start && s.sorted && s.den && s.pre && s.pair && s.move && s.digits;
    for (size_t i = 0; ok && i < n; i++) {
        uint32_t carry = 0;
        int skip = pts[i].inf;
        for (unsigned w = 0; w < windows; w++) {
            int32_t d = skip ? 0 : (int32_t)(scalar_bits(&sc[i], w * c, c) + carry);
            carry = 0;
            if (d > (int32_t)nb) {
                d -= (int32_t)(1u << c);
                carry = 1;
            }
            s.digits[(size_t)w * n + i] = (int16_t)d;
        }
    }
    chain_gej acc;
    chain_gej_set_inf(&acc);
    /* Windows from the top, g at a time: their buckets first, then for each
     * window (top first) c doublings of the total and its bucket sum. */
    for (unsigned top = windows; ok && top > 0;) {
        unsigned w0 = top >= g ? top - (unsigned)g : 0, gw = top - w0;
        for (size_t b = 0; b < gw * nb; b++)
            chain_gej_set_inf(&s.jac[b]);
        fill_affine(pts, s.digits + (size_t)w0 * n, n, gw, nb, &s);
        for (unsigned w = top; w-- > w0;) {
            for (unsigned k = 0; k < c; k++)
                chain_gej_dbl(&acc, &acc);
            /* sum((b + 1) bucket b) as a running sum from the top down. */
            size_t first = (size_t)(w - w0) * nb;
            chain_gej run, tot;
            chain_gej_set_inf(&run);
            chain_gej_set_inf(&tot);
            for (size_t b = first + nb; b-- > first;) {
                if (s.cnt[b] == 1) {
                    const aff *a = &s.sorted[s.start[b]];
                    chain_ge t = {a->x, a->y, 0};
                    chain_gej_add_ge(&run, &run, &t);
                }
                if (!s.jac[b].inf) chain_gej_add(&run, &run, &s.jac[b]);
                chain_gej_add(&tot, &tot, &run);
            }
            chain_gej_add(&acc, &acc, &tot);
        }
        top = w0;
    }
    if (ok) *out = acc;
    free(s.jac);
    free(s.cnt);
    free(s.start);
    free(s.sorted);
    free(s.den);
    free(s.pre);
    free(s.pair);
    free(s.move);
    free(s.digits);
    return ok;
}
