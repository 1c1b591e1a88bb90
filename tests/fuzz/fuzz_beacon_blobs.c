/* libFuzzer target: the parser of a beacon node's blobs answer
 * (rollup_beacon_parse_blobs, rollup/l1/beacon.h) on arbitrary bytes. The
 * first byte says how many blobs are expected (0 to 3), the rest is the
 * answer. What it accepts must hold exactly that many blobs; a refusal must
 * say why and hand nothing over. Seeded with an answer of one blob (as
 * anvil gives it) and near misses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/l1/beacon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t n = data[0] % 4;
    uint8_t **blobs = NULL;
    util_err err = {0};
    int rc = rollup_beacon_parse_blobs((const char *)data + 1, size - 1, n, &blobs, &err);
    if (rc == 0) {
        if (!blobs || err.code) abort();
        for (size_t i = 0; i < n; i++)
            if (!blobs[i]) abort();
        rollup_beacon_blobs_free(blobs, n);
    } else if (blobs || !err.msg[0] || (rc != UTIL_EINVAL && rc != UTIL_ENOMEM)) {
        abort();
    }
    return 0;
}
