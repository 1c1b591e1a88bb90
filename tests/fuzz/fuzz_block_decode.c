/* libFuzzer target: block, header and receipt decoding must never crash,
 * and whatever decodes must re-encode to the identical bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/types/block.h"

static void same(const util_buf *b, const uint8_t *data, size_t size)
{
    if (b->oom || b->len != size || memcmp(b->data, data, size) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    util_err err;
    util_buf b;
    uint8_t h[32];

    chain_block blk;
    if (chain_block_decode(&blk, data, size, &err) == 0) {
        util_buf_init(&b);
        if (chain_block_encode(&blk, &b) != 0) abort();
        same(&b, data, size);
        util_buf_free(&b);
        chain_block_tx_root(&blk, h);
        chain_block_evidence_hash(&blk, h);
        if (blk.nev > CHAIN_BLOCK_MAX_EVIDENCE) abort();
        chain_header_hash(&blk.h, h);
        chain_block_free(&blk);
    } else if (blk.txs || blk.ntx || blk.nev) {
        abort(); /* a failed decode owns nothing */
    }

    chain_header hd;
    if (chain_header_decode(&hd, data, size, &err) == 0) {
        util_buf_init(&b);
        if (chain_header_encode(&hd, &b) != 0) abort();
        same(&b, data, size);
        util_buf_free(&b);
    }

    chain_receipt r;
    if (chain_receipt_decode(&r, data, size, &err) == 0) {
        util_buf_init(&b);
        if (chain_receipt_encode(&r, &b) != 0) abort();
        same(&b, data, size);
        util_buf_free(&b);
        chain_receipt_hash(&r, h);
        chain_receipt_free(&r);
    }
    return 0;
}
