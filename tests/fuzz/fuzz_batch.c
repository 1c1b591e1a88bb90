/* libFuzzer target: batch decoding (rollup_batch_decode) must never crash
 * or leak, whatever the L1 holds. The first input byte picks the layer:
 * even, the rest is a channel as posted (zstd frame headers, sizes, bombs);
 * odd, the rest is compressed here first, so the batch layout itself (counts,
 * heights, blocks, the commit) is what gets mutated. A decoded batch holds
 * consecutive heights within the limits and encodes again into a channel that
 * decodes to the same blocks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "rollup/batch.h"

static void check(const rollup_batch *b)
{
    if (b->count == 0 || b->count > ROLLUP_BATCH_MAX_BLOCKS) abort();
    for (size_t i = 0; i < b->count; i++)
        if (b->blocks[i].h.height != b->first + i) abort();
    uint8_t *chan;
    size_t len;
    util_err err;
    if (rollup_batch_encode(b->genesis_hash, b->blocks, b->count, &b->last_commit, 1, &chan, &len,
                            &err) != 0)
        return; /* a block that decodes may still break an encoder rule */
    rollup_batch again;
    if (rollup_batch_decode(chan, len, &again, &err) != 0) abort();
    if (again.count != b->count || again.first != b->first ||
        memcmp(again.genesis_hash, b->genesis_hash, 32) != 0)
        abort();
    rollup_batch_free(&again);
    free(chan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    uint8_t *packed = NULL;
    if (data[0] & 1) {
        size_t cap = ZSTD_compressBound(n);
        packed = malloc(cap ? cap : 1);
        if (!packed) return 0;
        size_t z = ZSTD_compress(packed, cap, p, n, 1);
        if (ZSTD_isError(z)) {
            free(packed);
            return 0;
        }
        p = packed;
        n = z;
    }
    rollup_batch b;
    util_err err;
    if (rollup_batch_decode(p, n, &b, &err) == 0) {
        check(&b);
        rollup_batch_free(&b);
    }
    free(packed);
    return 0;
}
