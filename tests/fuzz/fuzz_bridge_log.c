/* libFuzzer target: the Bridge's event parsers (rollup/bridge_abi.h) on
 * arbitrary logs. The input is flags u8 (bits 0-2: topics, capped at 4; bit 3:
 * removed) | topics (32 bytes each) | data (the rest). What a parser accepts
 * must re-encode to the same topics and data; a refusal must say why. The
 * seed corpus holds a valid log of each event and near misses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/bridge_abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    rollup_l1_log l;
    memset(&l, 0, sizeof l);
    uint8_t flags = data[0];
    size_t nt = flags & 7u;
    if (nt > ROLLUP_L1_MAX_TOPICS) nt = ROLLUP_L1_MAX_TOPICS;
    l.removed = (flags >> 3) & 1;
    data++;
    size--;
    size_t have = size / 32 < nt ? size / 32 : nt;
    for (size_t i = 0; i < have; i++)
        memcpy(l.topics[i], data + 32 * i, 32);
    l.ntopics = nt;
    data += 32 * have;
    size -= 32 * have;
    /* A private copy, so that a read past the end is the sanitizer's. */
    uint8_t *d = size ? malloc(size) : NULL;
    if (size && !d) return 0;
    if (size) memcpy(d, data, size);
    l.data = d;
    l.data_len = size;
    l.block_number = 7;
    l.log_index = 3;

    util_err err = {0};
    rollup_deposit dep;
    if (rollup_bridge_parse_deposit(&l, &dep, &err) == 0) {
        uint8_t w[32] = {0};
        if (l.removed || l.ntopics != 3 || size != 64) abort();
        for (int i = 0; i < 8; i++)
            w[31 - i] = (uint8_t)(dep.nonce >> (8 * i));
        if (memcmp(w, l.topics[1], 32) != 0) abort();
        memset(w, 0, 32);
        memcpy(w + 12, dep.from.b, 20);
        if (memcmp(w, l.topics[2], 32) != 0) abort();
        memset(w, 0, 32);
        memcpy(w, dep.l2_recipient, 20);
        if (memcmp(w, d, 32) != 0) abort();
        memset(w, 0, 32);
        for (int i = 0; i < 8; i++)
            w[31 - i] = (uint8_t)(dep.amount >> (8 * i));
        if (memcmp(w, d + 32, 32) != 0) abort();
        if (dep.l1_block != 7 || dep.log_index != 3) abort();
    } else if (!err.msg[0]) {
        abort();
    }
    err.msg[0] = 0;

    uint64_t id, amount;
    rollup_eth_addr to;
    if (rollup_bridge_parse_finalized(&l, &id, &to, &amount, &err) == 0) {
        if (l.removed || l.ntopics != 3 || size != 32) abort();
        uint8_t w[32] = {0};
        for (int i = 0; i < 8; i++)
            w[31 - i] = (uint8_t)(amount >> (8 * i));
        if (memcmp(w, d, 32) != 0) abort();
    } else if (!err.msg[0] || id != 0 || amount != 0) {
        abort();
    }
    free(d);
    return 0;
}
