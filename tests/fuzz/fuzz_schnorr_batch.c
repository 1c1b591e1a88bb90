/* libFuzzer target: BIP-340 batch verification (chain/crypto/schnorr_batch.h)
 * must give the AND of libsecp256k1's single verdicts (chain_verify), and
 * chain_verify_many exactly those verdicts, whatever the signatures, keys and
 * messages. A 1 for a batch holding an invalid signature would be a
 * consensus bug. The input is a list of items, each opened by a mode byte:
 *   0: a valid signature from a fixed pool (next byte: which);
 *   1: a pool signature with the next 8 bytes XORed into r, s, message or key
 *      (the byte after them says where);
 *   2: raw: signature, message and key from the next 128 bytes;
 *   3: a copy of the previous item (the same point twice in the buckets);
 *   4: a pool signature with s set to n + the next byte (s >= n), or r to
 *      p + it (r >= p).
 * Items whose key does not lift are left out, as callers do. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/keys.h"
#include "chain/crypto/schnorr_batch.h"

#define POOL 16
#define MAXN 48

typedef struct item {
    uint8_t sig[64], msg[32], pk[32];
} item;

static item pool[POOL];
static int pool_ready;

static const uint8_t N_ORDER[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};
static const uint8_t P_FIELD[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFC, 0x2F};

static void init_pool(void)
{
    for (uint32_t i = 0; i < POOL; i++) {
        chain_keypair kp;
        if (chain_keypair_dev(&kp, i % 5)) abort();
        memset(pool[i].msg, (int)(i * 37 + 1), 32);
        memcpy(pool[i].pk, kp.pubkey, 32);
        if (chain_sign(pool[i].sig, pool[i].msg, &kp, NULL)) abort();
    }
    pool_ready = 1;
}

/* v (big-endian) + k, carry dropped past 2^256. */
static void add_small(uint8_t v[32], unsigned k)
{
    for (int i = 31; i >= 0 && k; i--) {
        unsigned t = v[i] + (k & 0xff);
        v[i] = (uint8_t)t;
        k = (k >> 8) + (t >> 8);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pool_ready) init_pool();
    static item it[MAXN];
    static chain_bpk bp[MAXN];
    const uint8_t *sigs[MAXN], *msgs[MAXN];
    const chain_bpk *pks[MAXN];
    uint8_t ok[MAXN];
    size_t n = 0, at = 0;
    while (at < size && n < MAXN) {
        uint8_t mode = data[at++] % 5;
        item x;
        if (mode == 2) {
            if (size - at < 128) break;
            memcpy(x.sig, data + at, 64);
            memcpy(x.msg, data + at + 64, 32);
            memcpy(x.pk, data + at + 96, 32);
            at += 128;
        } else if (mode == 3) {
            if (n == 0) continue;
            x = it[n - 1];
        } else {
            if (at >= size) break;
            x = pool[data[at++] % POOL];
            if (mode == 1) {
                if (size - at < 9) break;
                uint8_t where = data[at + 8] % 4;
                uint8_t *dst = where == 0   ? x.sig + (data[at] % 25)
                               : where == 1 ? x.sig + 32 + (data[at] % 25)
                               : where == 2 ? x.msg + (data[at] % 25)
                                            : x.pk + (data[at] % 25);
                for (size_t k = 0; k < 8; k++)
                    dst[k] ^= data[at + k];
                at += 9;
            } else if (mode == 4) {
                if (at >= size) break;
                uint8_t k = data[at++];
                if (k & 1) {
                    memcpy(x.sig + 32, N_ORDER, 32);
                    add_small(x.sig + 32, k >> 1);
                } else {
                    memcpy(x.sig, P_FIELD, 32);
                    add_small(x.sig, k >> 1);
                }
            }
        }
        if (!chain_bpk_lift(&bp[n], x.pk)) continue;
        it[n] = x;
        n++;
    }
    int want = 1;
    for (size_t i = 0; i < n; i++) {
        sigs[i] = it[i].sig;
        msgs[i] = it[i].msg;
        pks[i] = &bp[i];
        want &= chain_verify(it[i].sig, it[i].msg, it[i].pk);
    }
    if (chain_verify_batch(sigs, msgs, pks, n) != want) abort();
    size_t good = chain_verify_many(sigs, msgs, pks, NULL, n, ok), count = 0;
    for (size_t i = 0; i < n; i++) {
        if (ok[i] != chain_verify(it[i].sig, it[i].msg, it[i].pk)) abort();
        count += ok[i];
    }
    if (good != count) abort();
    return 0;
}
