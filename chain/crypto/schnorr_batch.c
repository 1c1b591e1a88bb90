/* BIP-340 batch verification on the project's own secp256k1 arithmetic
 * (secp_arith.h; the system libsecp256k1 exports no batch verification).
 * Checks
 *   (s_1 + a_2 s_2 + ...) G - R_1 - a_2 R_2 - ... - e_1 P_1 - a_2 e_2 P_2 - ... = O
 * with a_1 = 1 and a_i 128-bit randomizers hashed from all the inputs, by one
 * multi-scalar multiplication (chain_secp_msm) on 3n + 2 points, all with
 * 128-bit scalars: the 256-bit ones (G's, the P_i's) split in two by the
 * endomorphism (chain_sc_split_lambda). */
#include "chain/crypto/schnorr_batch.h"

#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/crypto/secp_arith.h"

_Static_assert(sizeof(chain_fe) == 32, "chain_bpk layout");

int chain_bpk_lift(chain_bpk *out, const uint8_t pk32[32])
{
    chain_ge p;
    chain_secp_init();
    if (!chain_ge_lift_x(&p, pk32)) return 0;
    memcpy(out->data, p.x.l, 32);
    memcpy(out->data + 32, p.y.l, 32);
    memcpy(out->data + 64, pk32, 32);
    return 1;
}

/* The 64-byte prefix of every BIP-340 challenge hash: SHA256(tag) twice. */
static void challenge_prefix(uint8_t pre[64])
{
    static const char tag[] = "BIP0340/challenge";
    chain_sha256(pre, tag, sizeof tag - 1);
    memcpy(pre + 32, pre, 32);
}

/* The randomizer seed commits to every input, so no input can be chosen
 * after the randomizers are known. 0 when the hash context cannot be had. */
static int batch_seed(uint8_t seed[32], const uint8_t *const *sigs, const uint8_t *const *msgs,
                      const chain_bpk *const *pks, size_t n)
{
    chain_sha256_ctx c;
    if (chain_sha256_begin(&c)) return 0;
    static const unsigned char tag[] = "openledger/bip340-batch";
    chain_sha256_update(&c, tag, sizeof tag);
    for (size_t i = 0; i < n; i++) {
        chain_sha256_update(&c, sigs[i], 64);
        chain_sha256_update(&c, msgs[i], 32);
        chain_sha256_update(&c, pks[i]->data + 64, 32);
    }
    chain_sha256_final(&c, seed);
    chain_sha256_free(&c);
    return 1;
}

/* Entries pt[0..1], sc[0..1] for k P: k split by the endomorphism into two
 * 128-bit halves, on P and on lambda P (half the windows of a 256-bit
 * scalar for one field multiplication). */
static void put_split(chain_ge *pt, chain_sc *sc, const chain_ge *p, const chain_sc *k)
{
    int neg1, neg2;
    chain_sc_split_lambda(&sc[0], &neg1, &sc[1], &neg2, k);
    pt[0] = *p;
    chain_ge_mul_lambda(&pt[1], p);
    if (neg1) chain_ge_neg(&pt[0], &pt[0]);
    if (neg2) chain_ge_neg(&pt[1], &pt[1]);
}

int chain_verify_batch(const uint8_t *const *sigs, const uint8_t *const *msgs,
                       const chain_bpk *const *pks, size_t n)
{
    if (n == 0) return 1;
    if (n > ((size_t)1 << 24)) return 0;
    chain_secp_init();
    uint8_t seed[32];
    if (!batch_seed(seed, sigs, msgs, pks, n)) return 0;
    uint8_t ch[160];
    challenge_prefix(ch);

    /* Entries: G and lambda G (the split of the sum of the a_i s_i); each
     * R_i negated with a_i (128 bits); each P_i and lambda P_i (the split of
     * -a_i e_i). */
    size_t ne = 3 * n + 2;
    chain_ge *pt = malloc(ne * sizeof *pt);
    chain_sc *sc = malloc(ne * sizeof *sc);
    int *lifted = malloc(n * sizeof *lifted);
    int ok = pt && sc && lifted;
    /* R_i = lift_x(r_i): x^3 + 7 for all first, then their square roots
     * several at a time (chain_fe_sqrt_many), in place in the y's. */
    chain_fe seven;
    chain_fe_set_int(&seven, 7);
    for (size_t i = 0; ok && i < n; i++) {
        chain_ge *ri = &pt[2 + i];
        chain_sc s;
        int overflow = 0;
        /* r >= p or s >= n: invalid (BIP-340 Verify). */
        chain_sc_set_b32(&s, sigs[i] + 32, &overflow);
        if (overflow || !chain_fe_set_b32(&ri->x, sigs[i])) {
            ok = 0;
            break;
        }
        chain_fe_sqr(&ri->y, &ri->x);
        chain_fe_mul(&ri->y, &ri->y, &ri->x);
        chain_fe_add(&ri->y, &ri->y, &seven);
        ri->inf = 0;
        sc[2 + i] = s; /* s_i until the randomizer takes its place */
    }
    if (ok) {
        chain_fe *ys = malloc(n * sizeof *ys);
        ok = ys != NULL;
        for (size_t i = 0; ok && i < n; i++)
            ys[i] = pt[2 + i].y;
        if (ok) chain_fe_sqrt_many(ys, lifted, ys, n);
        for (size_t i = 0; ok && i < n; i++) {
            /* No point with this x: invalid. Else -R_i: R_i has the even
             * y, so -R_i the odd one. */
            if (!lifted[i]) {
                ok = 0;
                break;
            }
            if (ys[i].l[0] & 1) {
                pt[2 + i].y = ys[i];
            } else {
                chain_fe_neg(&pt[2 + i].y, &ys[i]);
            }
        }
        free(ys);
    }
    chain_sc sum = {{0, 0, 0, 0}};
    for (size_t i = 0; ok && i < n; i++) {
        const uint8_t *sig = sigs[i];
        chain_ge pi;
        chain_sc s = sc[2 + i], e, a;
        memcpy(pi.x.l, pks[i]->data, 32);
        memcpy(pi.y.l, pks[i]->data + 32, 32);
        pi.inf = 0;

        uint8_t h[32];
        memcpy(ch + 64, sig, 32);
        memcpy(ch + 96, pks[i]->data + 64, 32);
        memcpy(ch + 128, msgs[i], 32);
        chain_sha256(h, ch, sizeof ch);
        chain_sc_set_b32(&e, h, NULL);

        if (i == 0) {
            memset(&a, 0, sizeof a);
            a.l[0] = 1;
        } else {
            uint8_t buf[40], ah[32];
            memcpy(buf, seed, 32);
            for (int k = 0; k < 8; k++)
                buf[32 + k] = (uint8_t)((uint64_t)i >> (8 * k));
            chain_sha256(ah, buf, sizeof buf);
            memset(ah, 0, 16); /* 128-bit randomizer: half the windows for R_i */
            chain_sc_set_b32(&a, ah, NULL);
        }
        sc[2 + i] = a;
        chain_sc_mul(&s, &s, &a);
        chain_sc_add(&sum, &sum, &s);
        chain_sc_mul(&e, &e, &a);
        chain_sc_neg(&e, &e);
        put_split(&pt[2 + n + 2 * i], &sc[2 + n + 2 * i], &pi, &e);
    }
    if (ok) {
        put_split(pt, sc, &chain_ge_g, &sum);
        chain_gej r;
        ok = chain_secp_msm(&r, pt, sc, ne) && r.inf;
    }
    free(pt);
    free(sc);
    free(lifted);
    return ok;
}

size_t chain_verify_many(const uint8_t *const *sigs, const uint8_t *const *msgs,
                         const chain_bpk *const *pks, const chain_xonly *const *xos, size_t n,
                         uint8_t *ok)
{
    if (n >= CHAIN_BATCH_MIN && chain_verify_batch(sigs, msgs, pks, n)) {
        memset(ok, 1, n);
        return n;
    }
    size_t good = 0;
    for (size_t i = 0; i < n; i++) {
        ok[i] = (uint8_t)(xos ? chain_verify_xonly(sigs[i], msgs[i], xos[i])
                              : chain_verify(sigs[i], msgs[i], pks[i]->data + 64));
        good += ok[i];
    }
    return good;
}
