/* libFuzzer target: decoding a signed EIP-1559 transaction never crashes or
 * reads past its input; what decodes has its data inside the input, and
 * decoding is deterministic (the same fields and sender twice). A failed
 * decode leaves the caller's tx untouched. The same input goes to the
 * type-3 (blob) decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/eth/tx.h"

/* The type-3 decoder: what decodes points into the input, with 1..6 blobs. */
static void blob_tx(const uint8_t *data, size_t size)
{
    rollup_eth_blob_tx d;
    util_err err = {0};
    if (rollup_eth_tx_decode_blob(&d, data, size, &err) != 0) {
        if (err.msg[0] == '\0') abort();
        return;
    }
    if (d.n < 1 || d.n > ROLLUP_BLOBS_PER_TX || !d.tx.has_to) abort();
    for (size_t i = 0; i < d.n; i++)
        if (d.blobs[i] < data || d.blobs[i] + ROLLUP_BLOB_BYTES > data + size ||
            d.commitments[i] < data || d.commitments[i] + 48 > data + size || d.proofs[i] < data ||
            d.proofs[i] + 48 > data + size)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    blob_tx(data, size);
    rollup_eth_tx tx, again;
    rollup_eth_addr from, from2;
    util_err err;
    memset(&tx, 0x5a, sizeof tx);
    rollup_eth_tx untouched;
    memcpy(&untouched, &tx, sizeof tx);
    if (rollup_eth_tx_decode(&tx, &from, data, size, &err) != 0) {
        if (memcmp(&tx, &untouched, sizeof tx) != 0) abort();
        if (err.msg[0] == '\0') abort();
        return 0;
    }
    if (tx.data_len > 0 && (tx.data < data || tx.data + tx.data_len > data + size)) abort();
    if (rollup_eth_tx_decode(&again, &from2, data, size, &err) != 0) abort();
    if (memcmp(&tx, &again, sizeof tx) != 0 || memcmp(&from, &from2, sizeof from) != 0) abort();
    uint8_t h[32];
    if (rollup_eth_tx_sighash(&tx, h, &err) != 0) abort();
    return 0;
}
