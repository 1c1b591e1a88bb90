/* libFuzzer target: transaction decoding must never crash, and whatever
 * decodes must re-encode to the identical bytes (one encoding per tx). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chain_tx tx;
    util_err err;
    if (chain_tx_decode(&tx, data, size, &err) != 0) return 0;
    util_buf b;
    util_buf_init(&b);
    if (chain_tx_encode(&tx, &b) != 0) abort();
    if (b.len != size || memcmp(b.data, data, size) != 0) abort();
    if (tx.size != size || chain_tx_encoded_len(&tx) != size) abort();
    util_buf_free(&b);

    /* Re-deriving from the decoded content gives the same id. */
    chain_tx copy;
    chain_tx_copy(&copy, &tx);
    if (chain_tx_finalize(&copy, &err) != 0) abort();
    if (memcmp(copy.id, tx.id, 32) != 0 || memcmp(copy.sighash, tx.sighash, 32) != 0) abort();
    uint64_t cost;
    (void)chain_tx_max_cost(&tx, &cost);
    chain_tx_free(&copy);
    chain_tx_free(&tx);
    return 0;
}
