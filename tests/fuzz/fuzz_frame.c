/* libFuzzer target: frame parsing and channel reassembly on a sequence of
 * frames, as derivation sees them in L1 order. Input: records of
 * (L1 block step u8, length u16 big-endian, frame bytes). Nothing may crash
 * or leak; a parsed frame's fields are within the limits; a completed
 * channel hashes to its id (the assembler checks it, and so does this). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "rollup/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rollup_assembler *a;
    util_err err;
    if (rollup_asm_new(&a, 3, &err) != 0) abort();
    uint64_t l1 = 1;
    size_t pos = 0;
    while (size - pos >= 3) {
        l1 += data[pos] & 7;
        if (data[pos] == 0xff) rollup_asm_reset(a);
        size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
        pos += 3;
        if (len > size - pos) len = size - pos;
        rollup_frame f;
        if (rollup_frame_parse(&f, data + pos, len, &err) == 0) {
            if (f.total == 0 || f.total > ROLLUP_CHANNEL_MAX || f.index >= f.total ||
                f.payload_len == 0 || f.payload_len > ROLLUP_FRAME_MAX ||
                f.payload != data + pos + ROLLUP_FRAME_HEADER)
                abort();
            uint8_t *chan = NULL;
            size_t clen = 0;
            int rc = rollup_asm_add(a, l1, &f, &chan, &clen, &err);
            if (rc != 0 && chan) abort();
            if (chan) {
                uint8_t h[32];
                chain_sha256(h, chan, clen);
                if (memcmp(h, f.channel_id, 16) != 0) abort();
                free(chan);
            }
        }
        pos += len;
    }
    rollup_asm_free(a);
    return 0;
}
