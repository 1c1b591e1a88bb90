/* libFuzzer target: transaction decoding must never crash, and whatever
 * decodes must re-encode to the identical bytes (one encoding per tx); a deep
 * copy encodes the same and outlives the original; a failed decode owns
 * nothing. Leaks are caught by the sanitizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/types/tx.h"

static void same_bytes(const chain_tx *tx, const uint8_t *data, size_t size)
{
    util_buf b;
    util_buf_init(&b);
    if (chain_tx_encode(tx, &b) != 0) abort();
    if (b.len != size || memcmp(b.data, data, size) != 0) abort();
    if (chain_tx_encoded_len(tx) != size) abort();
    util_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chain_tx tx;
    util_err err;
    if (chain_tx_decode(&tx, data, size, &err) != 0) {
        /* A failed decode leaves the tx all zero: any owned pointer set
         * (names, URIs, datanets, entries, code, input) would be a leak. */
        static const chain_tx zero;
        if (memcmp(&tx, &zero, sizeof tx) != 0) abort();
        return 0;
    }
    if (tx.size != size) abort();
    same_bytes(&tx, data, size);

    /* The copy is deep: it re-encodes the same after the original is gone. */
    chain_tx copy;
    if (chain_tx_copy(&copy, &tx) != 0) abort();
    /* Any genesis hash will do: the sighash depends on the content only
     * through the encoding, which must survive the copy and finalize. */
    static const uint8_t genesis[32] = {1};
    uint8_t id[32], sighash[32], sighash2[32];
    memcpy(id, tx.id, 32);
    if (chain_tx_sighash(&tx, genesis, sighash) != 0) abort();
    uint64_t gas = chain_tx_intrinsic_gas(&tx), value = chain_tx_value(&tx), cost;
    if (chain_tx_max_cost(&tx, &cost)) {
        /* Overflow is a right answer for fuzzed amounts: only memory safety is checked. */
    }
    chain_tx_free(&tx);
    chain_tx_free(&tx); /* idempotent */
    same_bytes(&copy, data, size);
    if (chain_tx_intrinsic_gas(&copy) != gas || chain_tx_value(&copy) != value) abort();

    /* Whatever decodes passes the in-memory rules too, and re-deriving gives
     * the same id. */
    if (chain_tx_finalize(&copy, &err) != 0) abort();
    if (chain_tx_sighash(&copy, genesis, sighash2) != 0) abort();
    if (memcmp(copy.id, id, 32) != 0 || memcmp(sighash2, sighash, 32) != 0) abort();
    chain_tx_free(&copy);
    return 0;
}
