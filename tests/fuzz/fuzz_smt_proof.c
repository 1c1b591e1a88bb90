/* Proof decoding takes bytes from RPC peers: it must never crash, a decoded
 * proof must re-encode to the same bytes (the encoding is canonical), and
 * verifying whatever decoded must be safe. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/state/smt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Takes a result the fuzzer does not judge: which one a call gives depends on
 * the input, and only memory safety is checked. Passing it here, rather than
 * dropping it, says so to the reader and to warn_unused_result. */
static void any_result(int rc)
{
    (void)rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static chain_smt_proof p;
    static const uint8_t root[32] = {0x5e, 0x11, 0x0a, 0x42, 0x99};
    static const uint8_t zero[32];
    util_err err;
    if (chain_smt_proof_decode(&p, data, size, &err) != 0) return 0;

    util_buf b;
    util_buf_init(&b);
    if (chain_smt_proof_encode(&p, &b) != 0) abort();
    if (b.len != size || memcmp(b.data, data, size) != 0) abort();
    util_buf_free(&b);

    uint8_t path[32];
    memcpy(path, p.nsib ? p.siblings[0] : zero, 32);
    any_result(chain_smt_verify(root, path, NULL, &p, &err));
    any_result(chain_smt_verify(root, path, p.leaf_value_hash, &p, &err));
    any_result(chain_smt_verify(root, p.leaf_path, p.leaf_value_hash, &p, &err));
    any_result(chain_smt_verify(zero, p.leaf_path, NULL, &p, &err));
    return 0;
}
