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

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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

/* An answer of state_getProof checked against a trusted genesis. */
typedef struct cli_proven {
    chain_header h;   /* the header, decoded from headerRaw */
    uint8_t hash[32]; /* its id (headerHash) */
    int present;      /* 0: the proof is of absence */
    uint8_t *value;   /* the proven value when present (malloc'd) */
    size_t vlen;
} cli_proven;

/* Checks res, an answer of state_getProof for state key `key` (klen bytes),
 * exactly as docs/proofs.md says: headerRaw decodes and hashes to headerHash
 * and agrees with the JSON header's height and stateRoot; commitRaw
 * finalises it under g (cli_light_verify); stateKey is key (`what` names it
 * in the message, e.g. "this address's account key"); path is its SHA-256;
 * the proof holds against the header's state root for value, or for absence
 * when value is null. Fills *out (cli_proven_free) and returns 0;
 * UTIL_EINVAL with the failed check in err; UTIL_EIO for a malformed answer;
 * UTIL_ENOMEM. Decoding the value is the caller's. */
OL_MUST_CHECK int cli_light_check_proof(const json_t *res, const chain_genesis *g,
                                        const uint8_t *key, size_t klen, const char *what,
                                        cli_proven *out, util_err *err);
void cli_proven_free(cli_proven *p);

#endif
