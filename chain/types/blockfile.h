/* Block files: committed blocks with the commits that finalised them, as
 * `openledgerd export-blocks` writes them and `import-blocks` reads them
 * (docs/blocks.md, "Block files"):
 *
 *   magic "OLBLOCK1" [8] | genesis_hash [32] |
 *   per block, in height order: lenbytes(<=16 MiB)(block encoding) |
 *                               lenbytes(<=CHAIN_BLOCKFILE_COMMIT_MAX)(commit)
 *
 * Only the format lives here; reading a block does not validate it (the
 * block executor does). The caller owns the FILE and the scratch buffer; a
 * block read is the caller's (chain_block_free). */
#ifndef OL_CHAIN_TYPES_BLOCKFILE_H
#define OL_CHAIN_TYPES_BLOCKFILE_H

#include <stdint.h>
#include <stdio.h>

#include "chain/types/block.h"
#include "util/bytes.h"
#include "util/err.h"

#define CHAIN_BLOCKFILE_MAGIC "OLBLOCK1"
/* round u32 | count varint | 64 x (index varint | sig[64]), with room. */
#define CHAIN_BLOCKFILE_COMMIT_MAX (8 + 10 + CHAIN_MAX_VALIDATORS * 80)

/* Writes the magic and the genesis hash. 0 or UTIL_EIO. */
OL_MUST_CHECK int chain_blockfile_write_header(FILE *f, const uint8_t genesis_hash[32],
                                               util_err *err);
/* Appends one block and its commit (scratch is reused between calls). */
OL_MUST_CHECK int chain_blockfile_write(FILE *f, const chain_block *b, const chain_commit *c,
                                        util_buf *scratch, util_err *err);
/* Reads and checks the header: UTIL_EINVAL when it is not a block file or
 * holds blocks of another genesis (name is the file's name, for messages). */
OL_MUST_CHECK int chain_blockfile_read_header(FILE *f, const uint8_t genesis_hash[32],
                                              const char *name, util_err *err);
/* Reads the next block and its commit: 0 with *eof = 0 (b owned by the
 * caller), 0 with *eof = 1 at a clean end of file (nothing read), or UTIL_E*
 * (a truncated or malformed record: err says which, prefixed with
 * "malformed: " for a block that does not decode). */
OL_MUST_CHECK int chain_blockfile_read(FILE *f, chain_block *b, chain_commit *c, util_buf *scratch,
                                       int *eof, util_err *err);

#endif
