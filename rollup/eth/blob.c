/* Frames in EIP-4844 blobs: the packing of rollup/eth/blob.h (31 data bytes
 * after a zero byte in each 32-byte field element, a u32 length first). The
 * batcher packs, derivation unpacks; unpacking is outside input (a blob an
 * endpoint returned, checked against its commitment but written by the
 * batcher), so it refuses anything but the one packing of its data. */
#include "rollup/eth/blob.h"

#include <string.h>

/* The data stream (length prefix, data, zeros) byte k lives in field element
 * k / 31, at byte 1 + k % 31. */
static size_t blob_pos(size_t k)
{
    return (k / 31) * 32 + 1 + k % 31;
}

int rollup_blob_pack(const uint8_t *data, size_t len, uint8_t blob[ROLLUP_BLOB_BYTES],
                     util_err *err)
{
    if (len > ROLLUP_BLOB_DATA_MAX)
        return util_err_set(err, UTIL_EINVAL, "blob: %zu bytes of data, more than %u", len,
                            (unsigned)ROLLUP_BLOB_DATA_MAX);
    if (len && !data) return util_err_set(err, UTIL_EINVAL, "blob: no data");
    memset(blob, 0, ROLLUP_BLOB_BYTES);
    uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    for (size_t k = 0; k < 4; k++)
        blob[blob_pos(k)] = hdr[k];
    /* Copy in runs that stay inside one field element. */
    size_t k = 4, i = 0;
    while (i < len) {
        size_t room = 31 - k % 31, n = len - i < room ? len - i : room;
        memcpy(blob + blob_pos(k), data + i, n);
        k += n;
        i += n;
    }
    return 0;
}

int rollup_blob_unpack(const uint8_t blob[ROLLUP_BLOB_BYTES], uint8_t *out, size_t cap, size_t *len,
                       util_err *err)
{
    for (size_t e = 0; e < ROLLUP_BLOB_FIELD_ELEMENTS; e++)
        if (blob[e * 32])
            return util_err_set(err, UTIL_EINVAL,
                                "blob: field element %zu does not start with a zero byte", e);
    size_t n = 0;
    for (size_t k = 0; k < 4; k++)
        n = n << 8 | blob[blob_pos(k)];
    if (n > ROLLUP_BLOB_DATA_MAX)
        return util_err_set(err, UTIL_EINVAL, "blob: data length %zu is over %u", n,
                            (unsigned)ROLLUP_BLOB_DATA_MAX);
    if (n > cap)
        return util_err_set(err, UTIL_EINVAL, "blob: %zu bytes of data, room for %zu", n, cap);
    size_t k = 4, i = 0;
    while (i < n) {
        size_t room = 31 - k % 31, m = n - i < room ? n - i : room;
        memcpy(out + i, blob + blob_pos(k), m);
        k += m;
        i += m;
    }
    for (; k < ROLLUP_BLOB_CAPACITY; k++)
        if (blob[blob_pos(k)])
            return util_err_set(err, UTIL_EINVAL, "blob: non-zero byte after the %zu bytes of data",
                                n);
    *len = n;
    return 0;
}
