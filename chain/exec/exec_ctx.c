/* The execution context of the block after the head (chain/exec/exec_ctx.h). */
#include "chain/exec/exec_ctx.h"

chain_exec_ctx chain_exec_ctx_next(const chain_genesis *g, const chain_header *parent,
                                   uint64_t time_ms, const chain_addr *proposer)
{
    return (chain_exec_ctx){.chain_id = g->chain_id,
                            .genesis_hash = g->hash,
                            .height = parent->height + 1,
                            .time_ms = time_ms,
                            .proposer = *proposer,
                            .min_gas_price = g->params.min_gas_price};
}
