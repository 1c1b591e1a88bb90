/* Keccak-256 with the original Keccak padding, on nettle's Keccak-f[1600]
 * permutation (rollup/eth/keccak.h). */
#include "rollup/eth/keccak.h"

#include <nettle/sha3.h>
#include <string.h>

#include "util/bytes.h"

_Static_assert(sizeof(((struct sha3_state *)0)->a) == sizeof(((rollup_keccak_ctx *)0)->a),
               "the context's state must be nettle's");

/* Lanes are absorbed little-endian whatever the host's byte order, as
 * nettle's own sha3 does. */
static void absorb(rollup_keccak_ctx *c, const uint8_t *block)
{
    struct sha3_state st;
    for (size_t i = 0; i < ROLLUP_KECCAK256_RATE / 8; i++)
        c->a[i] ^= util_get_u64le(block + 8 * i);
    memcpy(st.a, c->a, sizeof st.a);
    sha3_permute(&st);
    memcpy(c->a, st.a, sizeof c->a);
}

void rollup_keccak_init(rollup_keccak_ctx *c)
{
    memset(c, 0, sizeof *c);
}

void rollup_keccak_update(rollup_keccak_ctx *c, const void *p, size_t n)
{
    const uint8_t *in = p;
    if (c->used > 0) {
        size_t take = ROLLUP_KECCAK256_RATE - c->used;
        if (take > n) take = n;
        memcpy(c->buf + c->used, in, take);
        c->used += take;
        in += take;
        n -= take;
        if (c->used < ROLLUP_KECCAK256_RATE) return;
        absorb(c, c->buf);
        c->used = 0;
    }
    while (n >= ROLLUP_KECCAK256_RATE) {
        absorb(c, in);
        in += ROLLUP_KECCAK256_RATE;
        n -= ROLLUP_KECCAK256_RATE;
    }
    if (n > 0) memcpy(c->buf, in, n);
    c->used = n;
}

void rollup_keccak_final(rollup_keccak_ctx *c, uint8_t out[32])
{
    /* Keccak's pad10*1 with domain bits 0x01 (FIPS 202 would use 0x06); both
     * bits land in one byte when a single pad byte is left. */
    memset(c->buf + c->used, 0, ROLLUP_KECCAK256_RATE - c->used);
    c->buf[c->used] ^= 0x01;
    c->buf[ROLLUP_KECCAK256_RATE - 1] ^= 0x80;
    absorb(c, c->buf);
    for (size_t i = 0; i < 4; i++)
        util_put_u64le(out + 8 * i, c->a[i]);
    c->used = 0;
}

void rollup_keccak256(uint8_t out[32], const void *p, size_t n)
{
    rollup_keccak_ctx c;
    rollup_keccak_init(&c);
    rollup_keccak_update(&c, p, n);
    rollup_keccak_final(&c, out);
}
