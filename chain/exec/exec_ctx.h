/* The execution context of the block after the head: one constructor for
 * every place that runs transactions on "head + 1" (building or checking a
 * block, a dry run before admission, a read-only contract call), so they
 * cannot drift apart in what a transaction sees of its block.
 *
 * The context borrows the genesis's chain id and hash: the genesis must
 * outlive it. */
#ifndef OL_CHAIN_EXEC_CTX_H
#define OL_CHAIN_EXEC_CTX_H

#include <stdint.h>

#include "chain/crypto/address.h"
#include "chain/state/state.h"
#include "chain/types/block.h"
#include "chain/types/genesis.h"

/* The context of a block at height parent->height + 1 on chain g (its chain
 * id, signing domain and minimum gas price), with the block's time and
 * proposer. A block being built or checked passes its own header's; a
 * simulation of the next block (a dry run, a read-only call), which has no
 * header yet, passes the parent's time and the proposer it assumes. */
chain_exec_ctx chain_exec_ctx_next(const chain_genesis *g, const chain_header *parent,
                                   uint64_t time_ms, const chain_addr *proposer);

#endif
