/* libFuzzer target: the decoder of KZG commitments (48-byte compressed G1
 * points, read from L1 calldata) accepts exactly the canonical encodings of
 * points of the G1 subgroup: whatever it accepts encodes back to the same
 * bytes, the point with the sign flag flipped (its negation) is accepted too,
 * and every refusal says why. The input is cut into 48-byte pieces. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/eth/bls12_381.h"
#include "rollup/eth/kzg_internal.h"

static void one(const uint8_t in[48])
{
    util_err err = {0};
    int rc = rollup_kzg_check_point(in, &err);
    rollup_g1_affine a;
    int inf = 0;
    const char *why = NULL;
    int dec = rollup_g1_decode(in, &a, &inf, &why);
    if ((rc == 0) != (dec == 0)) abort();
    if (rc != 0) {
        if (rc != UTIL_EINVAL || !err.msg[0] || !why) abort();
        return;
    }
    rollup_g1 p;
    uint8_t back[48];
    if (inf) {
        rollup_g1_set_inf(&p);
    } else {
        if (!rollup_g1_affine_on_curve(&a)) abort();
        rollup_g1_from_affine(&p, &a);
    }
    rollup_g1_encode(&p, back);
    if (memcmp(back, in, 48) != 0) abort();
    if (inf) return;
    uint8_t neg[48];
    memcpy(neg, in, 48);
    neg[0] ^= 0x20;
    rollup_g1 np;
    rollup_g1_neg(&np, &p);
    rollup_g1_encode(&np, back);
    if (memcmp(back, neg, 48) != 0 || rollup_kzg_check_point(neg, &err) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    util_err err;
    if (rollup_kzg_init(&err) != 0) abort();
    for (size_t at = 0; at + 48 <= size && at < 4 * 48; at += 48)
        one(data + at);
    return 0;
}
