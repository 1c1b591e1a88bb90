/* The validator key of a node: one file in its data directory.
 *
 * DATADIR/validator_key.json (docs/node.md, "Validator key"):
 *   { "type": "openledger-validator-key", "version": 1,
 *     "publicKey": "0x<32 bytes>", "address": "ol1...", "secretKey": "0x<32 bytes>" }
 * The secret is stored in the clear so a node can restart unattended; the file
 * is created with mode 0600 and a key readable by group or others is refused,
 * as ssh does. The public key and address are stored beside the secret so a
 * damaged or mismatched file is caught at load, and an operator can read
 * them without tools. */
#ifndef OL_NODE_VALIDATOR_KEY_H
#define OL_NODE_VALIDATOR_KEY_H

#include <stddef.h>

#include "chain/crypto/keys.h"
#include "util/env.h"
#include "util/err.h"

#define NODE_KEY_FILE "validator_key.json"
#define NODE_KEY_TYPE "openledger-validator-key"
#define NODE_KEY_VERSION 1

/* Writes DATADIR/validator_key.json path into out. UTIL_ELIMIT if too long. */
OL_MUST_CHECK int node_key_path(char *out, size_t n, const char *datadir, util_err *err);
/* Creates a fresh key in path (mode 0600) through env (NULL: the default).
 * Never replaces a file: UTIL_EEXIST when path exists. kp gets the key (clear
 * it after use). */
OL_MUST_CHECK int node_key_create(const util_env *env, const char *path, chain_keypair *kp,
                                  util_err *err);
/* Loads and checks the key in path: UTIL_ENOTFOUND when absent,
 * UTIL_ESTATE when group or others may read it, UTIL_EINVAL when the file is
 * not a well-formed key of this version or its public parts do not match. */
OL_MUST_CHECK int node_key_load(const util_env *env, const char *path, chain_keypair *kp,
                                util_err *err);

#endif
