/* The validator set: thresholds and the weighted, stateless proposer rotation
 * (the algorithm is described in valset.h and docs/consensus.md). */
#include "consensus/valset.h"

#include <string.h>

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static void finish(cons_valset *vs)
{
    uint64_t t = vs->total;
    /* floor(2T/3) without computing 2T (which may overflow). */
    vs->quorum = (t / 3) * 2 + ((t % 3) * 2) / 3 + 1;
    vs->one_third = t / 3 + 1;
    /* Golden-ratio stride, coprime with T so that s -> s*K mod T is a
     * permutation. 0.6180339887 as 6180339887 / 10^10. */
    unsigned __int128 k = (unsigned __int128)t * 6180339887u / 10000000000u;
    uint64_t s = (uint64_t)k;
    if (s == 0) s = 1;
    while (gcd_u64(s, t) != 1)
        s++;
    vs->stride = s;
}

int cons_valset_init_raw(cons_valset *vs, const uint8_t (*pubkeys)[32], const uint64_t *powers,
                         size_t n, util_err *err)
{
    if (n == 0 || n > CONS_MAX_VALIDATORS)
        return util_err_set(err, UTIL_EINVAL, "validator set: %zu validators (1..%d)", n,
                            CONS_MAX_VALIDATORS);
    cons_valset tmp;
    memset(&tmp, 0, sizeof tmp);
    for (size_t i = 0; i < n; i++) {
        if (powers[i] == 0)
            return util_err_set(err, UTIL_EINVAL, "validator set: validator %zu has power 0", i);
        if (tmp.total > UINT64_MAX - powers[i])
            return util_err_set(err, UTIL_EINVAL, "validator set: total power overflows");
        for (size_t j = 0; j < i; j++)
            if (memcmp(pubkeys[i], pubkeys[j], 32) == 0)
                return util_err_set(err, UTIL_EINVAL,
                                    "validator set: validators %zu and %zu share a key", j, i);
        memcpy(tmp.v[i].pubkey, pubkeys[i], 32);
        chain_addr_from_pubkey(&tmp.v[i].addr, pubkeys[i]);
        tmp.v[i].power = powers[i];
        tmp.total += powers[i];
    }
    tmp.n = (uint32_t)n;
    finish(&tmp);
    *vs = tmp;
    return 0;
}

int cons_valset_init(cons_valset *vs, const chain_validator *v, size_t n, util_err *err)
{
    if (n == 0 || n > CONS_MAX_VALIDATORS)
        return util_err_set(err, UTIL_EINVAL, "validator set: %zu validators (1..%d)", n,
                            CONS_MAX_VALIDATORS);
    uint8_t keys[CONS_MAX_VALIDATORS][32];
    uint64_t powers[CONS_MAX_VALIDATORS];
    for (size_t i = 0; i < n; i++) {
        memcpy(keys[i], v[i].pubkey, 32);
        powers[i] = v[i].power;
    }
    return cons_valset_init_raw(vs, (const uint8_t(*)[32])keys, powers, n, err);
}

int cons_valset_has_quorum(const cons_valset *vs, uint64_t power)
{
    return power >= vs->quorum;
}

int cons_valset_has_one_third(const cons_valset *vs, uint64_t power)
{
    return power >= vs->one_third;
}

uint32_t cons_valset_proposer(const cons_valset *vs, uint64_t height, uint32_t round)
{
    uint64_t t = vs->total;
    uint64_t s = (height % t + round % t) % t;
    uint64_t x = (uint64_t)(((unsigned __int128)s * vs->stride) % t);
    for (uint32_t i = 0; i < vs->n; i++) {
        if (x < vs->v[i].power) return i;
        x -= vs->v[i].power;
    }
    return 0; /* unreachable: x < T */
}

int cons_valset_find(const cons_valset *vs, const uint8_t pubkey[32])
{
    for (uint32_t i = 0; i < vs->n; i++)
        if (memcmp(vs->v[i].pubkey, pubkey, 32) == 0) return (int)i;
    return -1;
}
