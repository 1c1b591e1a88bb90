/* Multi-scalar multiplication over BLS12-381 G1 (rollup/eth/bls12_381.h):
 * Pippenger's buckets with signed window digits. For many points (a blob's
 * 4096) each window's buckets are summed in affine coordinates, a pass at a
 * time: every bucket's points are added pairwise, all the pairs of a pass
 * sharing one field inversion (Montgomery's trick), so an addition costs
 * about 6 multiplications instead of the 11 of a mixed Jacobian addition.
 * For a few points (the commitments of one L1 block) plain Jacobian buckets. */
#include "rollup/eth/bls12_381.h"

#include <string.h>

/* Below this many points the inversion per pass does not pay. */
#define MSM_AFFINE_MIN 64
/* Windows summed together in affine, so that they share each pass's
 * inversion (a sixth of the work with one window at a time). */
#define MSM_GROUP 4

/* The window that minimises (windows) x (the additions of the points + the
 * bucket sum): about 6.5 multiplications per point in affine, 11 in
 * Jacobian, and 27 per bucket for the running sum. */
static unsigned msm_window(size_t n)
{
    double per_point = n >= MSM_AFFINE_MIN ? 6.5 : 11.0;
    unsigned best = 2;
    double best_cost = 0;
    for (unsigned c = 2; c <= 15; c++) {
        double windows = (double)((256 + c - 1) / c);
        double cost = windows * (per_point * (double)n + 27.0 * (double)(1u << (c - 1)));
        if (c == 2 || cost < best_cost) {
            best = c;
            best_cost = cost;
        }
    }
    return best;
}

/* The scratch: Jacobian buckets, then (affine path) bucket counts and
 * starts, the points sorted by bucket, two arrays of denominators, the
 * pending moves, then the digits. Every part is a multiple of 8 bytes. */
typedef struct {
    rollup_g1 *jac;           /* nb */
    uint32_t *cnt, *start;    /* nb each */
    rollup_g1_affine *sorted; /* n */
    rollup_fp *den, *pre;     /* n / 2 each */
    uint32_t *pair;           /* n / 2 x 2: first input, output position */
    uint32_t *move;           /* nb x 2: from, to */
    int16_t *digits;          /* windows x n */
} msm_scratch;

static size_t round8(size_t v)
{
    return (v + 7) & ~(size_t)7;
}

static size_t scratch_layout(size_t n, msm_scratch *s, void *base)
{
    unsigned c = msm_window(n);
    int affine = n >= MSM_AFFINE_MIN;
    size_t g = affine ? MSM_GROUP : 1;
    size_t windows = (256 + c - 1) / c, nb = g * ((size_t)1 << (c - 1)), half = g * n / 2 + 1;
    size_t sizes[9] = {
        nb * sizeof(rollup_g1),
        affine ? nb * sizeof(uint32_t) : 0,
        affine ? nb * sizeof(uint32_t) : 0,
        affine ? g * n * sizeof(rollup_g1_affine) : 0,
        affine ? half * sizeof(rollup_fp) : 0,
        affine ? half * sizeof(rollup_fp) : 0,
        affine ? half * 2 * sizeof(uint32_t) : 0,
        affine ? nb * 2 * sizeof(uint32_t) : 0,
        n * windows * sizeof(int16_t),
    };
    void **parts[9] = {(void **)&s->jac,    (void **)&s->cnt,  (void **)&s->start,
                       (void **)&s->sorted, (void **)&s->den,  (void **)&s->pre,
                       (void **)&s->pair,   (void **)&s->move, (void **)&s->digits};
    size_t off = 0;
    for (int i = 0; i < 9; i++) {
        if (base) *parts[i] = (char *)base + off;
        off += round8(sizes[i]);
    }
    return off;
}

size_t rollup_g1_msm_scratch_size(size_t n)
{
    msm_scratch s;
    return scratch_layout(n, &s, NULL);
}

static uint32_t scalar_bits(const uint64_t s[4], unsigned off, unsigned c)
{
    unsigned li = off / 64, sh = off % 64;
    if (li >= 4) return 0;
    uint64_t v = s[li] >> sh;
    if (sh + c > 64 && li + 1 < 4) v |= s[li + 1] << (64 - sh);
    return (uint32_t)(v & ((1u << c) - 1));
}

/* Jacobian buckets: s->jac[b] = sum of the window's points with digit
 * +-(b + 1). */
static void fill_jacobian(const rollup_g1_affine *points, const int16_t *dw, size_t n,
                          msm_scratch *s)
{
    for (size_t i = 0; i < n; i++) {
        int d = dw[i];
        if (d > 0) {
            rollup_g1_madd(&s->jac[d - 1], &points[i], 0);
        } else if (d < 0) {
            rollup_g1_madd(&s->jac[-d - 1], &points[i], 1);
        }
    }
}

/* Affine buckets of g consecutive windows (dw: their digits, window after
 * window), nb per window: bucket k * nb + b of window k holds the points of
 * digit +-(b + 1), sorted by bucket (negated for a negative digit), then
 * summed pairwise until each bucket holds at most one point,
 * s->sorted[s->start[b]] when s->cnt[b] is 1. A pair with equal x (a
 * doubling, or a point and its negation) has no affine formula without a
 * second inversion: both go to the Jacobian bucket s->jac[b] instead. */
static void fill_affine(const rollup_g1_affine *points, const int16_t *dw, size_t n, size_t g,
                        size_t nb1, msm_scratch *s)
{
    size_t nb = g * nb1;
    memset(s->cnt, 0, nb * sizeof *s->cnt);
    for (size_t k = 0; k < g; k++) {
        for (size_t i = 0; i < n; i++) {
            int d = dw[k * n + i];
            if (d) s->cnt[k * nb1 + (size_t)(d > 0 ? d : -d) - 1]++;
        }
    }
    uint32_t at = 0;
    for (size_t b = 0; b < nb; b++) {
        s->start[b] = at;
        at += s->cnt[b];
        s->cnt[b] = 0;
    }
    for (size_t k = 0; k < g; k++) {
        for (size_t i = 0; i < n; i++) {
            int d = dw[k * n + i];
            if (!d) continue;
            size_t b = k * nb1 + (size_t)(d > 0 ? d : -d) - 1;
            rollup_g1_affine *dst = &s->sorted[s->start[b] + s->cnt[b]++];
            *dst = points[i];
            if (d < 0) rollup_fp_neg(&dst->y, &dst->y);
        }
    }
    for (;;) {
        size_t np = 0, nmove = 0;
        for (size_t b = 0; b < nb; b++) {
            uint32_t k = s->cnt[b], base = s->start[b], out = 0;
            if (k < 2) continue;
            for (uint32_t j = 0; j + 1 < k; j += 2) {
                const rollup_g1_affine *p = &s->sorted[base + j], *q = p + 1;
                if (rollup_fp_eq(&p->x, &q->x)) {
                    rollup_g1_madd(&s->jac[b], p, 0);
                    rollup_g1_madd(&s->jac[b], q, 0);
                    continue;
                }
                rollup_fp_sub(&s->den[np], &q->x, &p->x);
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
            /* No affine pair left, but an odd bucket whose pairs all went
             * to its Jacobian sum still has its last point to move down. */
            for (size_t i = 0; i < nmove; i++)
                s->sorted[s->move[2 * i + 1]] = s->sorted[s->move[2 * i]];
            break;
        }
        /* den[i] = 1 / den[i], with one inversion. */
        rollup_fp acc = s->den[0], inv, t;
        s->pre[0] = acc;
        for (size_t i = 1; i < np; i++) {
            rollup_fp_mul(&acc, &acc, &s->den[i]);
            s->pre[i] = acc;
        }
        rollup_fp_inv(&inv, &acc);
        for (size_t i = np; i-- > 1;) {
            rollup_fp_mul(&t, &inv, &s->pre[i - 1]);
            rollup_fp_mul(&inv, &inv, &s->den[i]);
            s->den[i] = t;
        }
        s->den[0] = inv;
        /* In creation order: a pair's output position is at most its first
         * input's, and no later pair reads below its own inputs. */
        for (size_t i = 0; i < np; i++) {
            const rollup_g1_affine *p = &s->sorted[s->pair[2 * i]], *q = p + 1;
            rollup_fp lambda, x3, y3;
            rollup_fp_sub(&lambda, &q->y, &p->y);
            rollup_fp_mul(&lambda, &lambda, &s->den[i]);
            rollup_fp_mul(&x3, &lambda, &lambda);
            rollup_fp_sub(&x3, &x3, &p->x);
            rollup_fp_sub(&x3, &x3, &q->x);
            rollup_fp_sub(&y3, &p->x, &x3);
            rollup_fp_mul(&y3, &y3, &lambda);
            rollup_fp_sub(&y3, &y3, &p->y);
            rollup_g1_affine *dst = &s->sorted[s->pair[2 * i + 1]];
            dst->x = x3;
            dst->y = y3;
        }
        for (size_t i = 0; i < nmove; i++)
            s->sorted[s->move[2 * i + 1]] = s->sorted[s->move[2 * i]];
    }
}

void rollup_g1_msm(rollup_g1 *out, const rollup_g1_affine *points, const uint64_t (*scalars)[4],
                   size_t n, void *scratch)
{
    msm_scratch s;
    scratch_layout(n, &s, scratch);
    unsigned c = msm_window(n);
    unsigned windows = (256 + c - 1) / c;
    size_t nb = (size_t)1 << (c - 1);
    /* Signed digits in [-2^(c-1), 2^(c-1)]: half the buckets. Scalars are
     * below 2^255 and windows * c >= 256, so the top digit takes the last
     * carry without making one. */
    for (size_t i = 0; i < n; i++) {
        uint32_t carry = 0;
        for (unsigned w = 0; w < windows; w++) {
            int32_t d = (int32_t)(scalar_bits(scalars[i], w * c, c) + carry);
            carry = 0;
            if (d > (int32_t)nb) {
                d -= (int32_t)(1u << c);
                carry = 1;
            }
            s.digits[(size_t)w * n + i] = (int16_t)d;
        }
    }
    int affine = n >= MSM_AFFINE_MIN;
    unsigned g = affine ? MSM_GROUP : 1;
    rollup_g1 acc;
    rollup_g1_set_inf(&acc);
    /* Windows from the top, g at a time: their buckets first, then for each
     * window (top first) c doublings of the total and its bucket sum. */
    for (unsigned top = windows; top > 0;) {
        unsigned w0 = top >= g ? top - g : 0, gw = top - w0;
        for (size_t b = 0; b < gw * nb; b++)
            rollup_g1_set_inf(&s.jac[b]);
        const int16_t *dw = s.digits + (size_t)w0 * n;
        if (affine) {
            fill_affine(points, dw, n, gw, nb, &s);
        } else {
            fill_jacobian(points, dw, n, &s);
        }
        for (unsigned w = top; w-- > w0;) {
            for (unsigned k = 0; k < c; k++)
                rollup_g1_dbl(&acc, &acc);
            /* sum((b + 1) * bucket b) as a running sum from the top down. */
            size_t first = (size_t)(w - w0) * nb;
            rollup_g1 run, tot;
            rollup_g1_set_inf(&run);
            rollup_g1_set_inf(&tot);
            for (size_t b = first + nb; b-- > first;) {
                if (affine && s.cnt[b] == 1) rollup_g1_madd(&run, &s.sorted[s.start[b]], 0);
                rollup_g1_add(&run, &run, &s.jac[b]);
                rollup_g1_add(&tot, &tot, &run);
            }
            rollup_g1_add(&acc, &acc, &tot);
        }
        top = w0;
    }
    *out = acc;
}
