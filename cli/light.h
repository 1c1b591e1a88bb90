/* Light-client checks of the CLI: is a header the chain's, judged from a
 * trusted genesis and a commit alone, never from the node that served it?
 *
 * A header is accepted when it is for the trusted genesis's chain, names the
 * genesis validator set (validators_hash, and next_validators_hash: the set
 * never changes yet) and consensus parameters, and a commit signed by more
 * than 2/3 of that set's voting power finalises its id at its height
 * (chain_blockexec_verify_commit, the node's own check). Block 0 has no
 * commit (no one votes on it): it is accepted when it is exactly the block 0
 * the genesis defines (chain_genesis_block0, state root included), whatever
 * commit comes with it. docs/cli.md, "prove". */
#ifndef OL_CLI_LIGHT_H
#define OL_CLI_LIGHT_H

#include <stdint.h>

#include "chain/types/block.h"
#include "chain/types/genesis.h"
#include "util/err.h"

/* The trusted genesis: the file `path`, or the devnet genesis compiled into
 * the binary when path is NULL. Free with chain_genesis_free. */
OL_MUST_CHECK int cli_light_genesis(chain_genesis *g, const char *path, util_err *err);

/* 0 when commit finalises header h (whose id is SHA-256(0x04 || encoding))
 * under genesis g, or h is g's block 0; UTIL_EINVAL with a message saying
 * which check failed, UTIL_ENOMEM. */
OL_MUST_CHECK int cli_light_verify(const chain_genesis *g, const chain_header *h,
                                   const chain_commit *commit, util_err *err);

#endif
