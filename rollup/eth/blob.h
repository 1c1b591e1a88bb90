/* How a frame travels in an EIP-4844 blob (docs/rollup.md, "Blobs").
 *
 * A blob is 4096 field elements of 32 bytes. Each element's first byte is 0
 * (so it is always below the BLS12-381 modulus) and its other 31 bytes carry
 * data, 126,976 bytes per blob. The data is
 *
 *   u32 big-endian length N | N bytes (one frame, rollup/batch.h) | zeros
 *
 * so a blob holds one frame of at most ROLLUP_BLOB_DATA_MAX bytes, more than
 * ROLLUP_FRAME_MAX. Unpacking is strict: an element whose first byte is not
 * 0, a length over ROLLUP_BLOB_DATA_MAX, or a non-zero byte after the data is
 * refused, so a blob has exactly one reading. Pure functions, no allocation
 * but the caller's buffers. */
#ifndef OL_ROLLUP_BLOB_H
#define OL_ROLLUP_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "rollup/eth/kzg.h"
#include "util/err.h"

#define ROLLUP_BLOB_CAPACITY (31u * ROLLUP_BLOB_FIELD_ELEMENTS) /* 126976 */
#define ROLLUP_BLOB_DATA_MAX (ROLLUP_BLOB_CAPACITY - 4)         /* 126972 */
/* Blobs per L1 transaction: Osaka's per-transaction limit (EIP-7594). */
#define ROLLUP_BLOBS_PER_TX 6

/* Writes data (len <= ROLLUP_BLOB_DATA_MAX) into blob. 0 or UTIL_EINVAL. */
OL_MUST_CHECK int rollup_blob_pack(const uint8_t *data, size_t len, uint8_t blob[ROLLUP_BLOB_BYTES],
                                   util_err *err);

/* Reads the data back into out (cap >= ROLLUP_BLOB_DATA_MAX is always
 * enough): *len bytes. 0 or UTIL_EINVAL ("blob: ..."). */
OL_MUST_CHECK int rollup_blob_unpack(const uint8_t blob[ROLLUP_BLOB_BYTES], uint8_t *out,
                                     size_t cap, size_t *len, util_err *err);

#endif
