/* libFuzzer target: chain_genesis_parse on arbitrary bytes. Accepted
 * documents must satisfy the documented invariants and hash the same when
 * parsed again. Seed with genesis/devnet.json. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/types/genesis.h"
#include "vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chain_genesis g, g2;
    util_err err;
    if (chain_genesis_parse(&g, (const char *)data, size, &err) != 0) {
        /* A failed parse owns nothing and always says why. */
        if (g.vals || g.alloc || g.contracts || err.msg[0] == 0) abort();
        return 0;
    }
    if (g.nval < 1 || g.nval > CHAIN_MAX_VALIDATORS || g.nalloc > CHAIN_GENESIS_MAX_ALLOC) abort();
    if (!chain_id_valid(g.chain_id)) abort();
    if (g.params.tx_max_bytes > g.params.block_max_bytes ||
        g.params.block_max_bytes > CHAIN_BLOCK_MAX_SIZE)
        abort();
    uint64_t total = 0;
    for (size_t i = 0; i < g.nalloc; i++)
        if (g.alloc[i].balance == 0 || __builtin_add_overflow(total, g.alloc[i].balance, &total))
            abort();
    if (g.ncontracts > CHAIN_GENESIS_MAX_CONTRACTS) abort();
    for (size_t i = 0; i < g.ncontracts; i++) {
        vm_program *p = NULL;
        if (g.contracts[i].len == 0 || g.contracts[i].len > CHAIN_CODE_MAX ||
            vm_verify(g.contracts[i].code, g.contracts[i].len, &p, NULL, &err) != 0)
            abort();
        vm_program_free(p);
    }
    if (chain_genesis_parse(&g2, (const char *)data, size, &err) != 0) abort();
    if (memcmp(g.hash, g2.hash, 32) != 0 || memcmp(g.validators_hash, g2.validators_hash, 32))
        abort();
    chain_genesis_free(&g2);
    chain_genesis_free(&g);
    return 0;
}
