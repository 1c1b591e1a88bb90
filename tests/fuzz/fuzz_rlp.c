/* libFuzzer target: the RLP decoder never reads past its input, and since it
 * is strict (one encoding per value), re-encoding whatever it walks gives
 * back exactly the bytes it consumed. Lists are walked recursively down to a
 * depth bound; integers that decode re-encode the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/eth/rlp.h"

#define MAX_DEPTH 64

/* Walks the items of p[0..n) into out; -1 when the input is refused or too
 * deep (nothing to compare then). */
static int walk(const uint8_t *p, size_t n, int depth, util_buf *out)
{
    if (depth > MAX_DEPTH) return -1;
    while (n > 0) {
        rollup_rlp_item it;
        const uint8_t *before = p;
        size_t left = n;
        util_err err;
        if (rollup_rlp_next(&p, &n, &it, &err) != 0) {
            /* Refusal consumes nothing. */
            if (p != before || n != left) abort();
            return -1;
        }
        if (it.p < before || it.p + it.n > before + left || n >= left) abort();
        if (it.is_list) {
            size_t mark = rollup_rlp_list_begin(out);
            if (walk(it.p, it.n, depth + 1, out) != 0) return -1;
            rollup_rlp_list_end(out, mark);
        } else {
            uint64_t v;
            size_t at = out->len;
            rollup_rlp_bytes(out, it.p, it.n);
            if (rollup_rlp_item_uint(&it, &v, &err) == 0) {
                util_buf u;
                util_buf_init(&u);
                rollup_rlp_uint(&u, v);
                if (u.oom || u.len != out->len - at || memcmp(u.data, out->data + at, u.len) != 0)
                    abort();
                util_buf_free(&u);
            }
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    util_buf out;
    util_buf_init(&out);
    if (walk(data, size, 0, &out) == 0) {
        if (out.oom) abort();
        if (out.len != size || (size && memcmp(out.data, data, size) != 0)) abort();
    }
    util_buf_free(&out);
    return 0;
}
