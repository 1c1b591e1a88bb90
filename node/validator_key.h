/* The key files of a node's data directory: the validator key that signs
 * blocks and the node key that authenticates peer-to-peer sessions
 * (docs/node.md, "Keys"). One code path writes and checks both; a kind
 * (node_key_kind) names the file, its "type" and the public field derived
 * from the key beside the secret.
 *
 * DATADIR/validator_key.json (docs/node.md, "Validator key"):
 *   { "type": "openledger-validator-key", "version": 1,
 *     "publicKey": "0x<32 bytes>", "address": "ol1...", "secretKey": "0x<32 bytes>" }
 * The secret is stored in the clear so a node can restart unattended; the file
 * is created with mode 0600 and a key readable by group or others is refused,
 * as ssh does. The public key and address are stored beside the secret so a
 * damaged or mismatched file is caught at load, and an operator can read
 * them without tools.
 *
 * DATADIR/node_key.json (docs/node.md, "Node key") has the same layout with
 *   "type": "openledger-node-key" and "nodeId": "<40 hex digits>" (p2p_node_id)
 * in place of "address"; it is created on the first start of a node that
 * runs the peer-to-peer layer, or by `openledgerd node-id`. */
#ifndef OL_NODE_VALIDATOR_KEY_H
#define OL_NODE_VALIDATOR_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/keys.h"
#include "util/env.h"
#include "util/err.h"

#define NODE_KEY_FILE "validator_key.json"
#define NODE_KEY_TYPE "openledger-validator-key"
#define NODE_KEY_VERSION 1
#define NODE_NODE_KEY_FILE "node_key.json"
#define NODE_NODE_KEY_TYPE "openledger-node-key"

typedef struct node_key_kind {
    const char *file;  /* name in the data directory */
    const char *type;  /* the file's "type" */
    const char *what;  /* "validator key", in messages */
    const char *field; /* the derived public field: "address", "nodeId" */
    /* Writes the field's value for pubkey into out (at least 96 bytes). */
    void (*derive)(const uint8_t pubkey[CHAIN_PUBKEY_LEN], char *out);
} node_key_kind;

extern const node_key_kind node_validator_key_kind, node_node_key_kind;

/* The generic forms; node_key_path/create/load below are these with
 * node_validator_key_kind. */
OL_MUST_CHECK int node_keyfile_path(const node_key_kind *k, char *out, size_t n,
                                    const char *datadir, util_err *err);
OL_MUST_CHECK int node_keyfile_create(const node_key_kind *k, const util_env *env, const char *path,
                                      chain_keypair *kp, util_err *err);
OL_MUST_CHECK int node_keyfile_load(const node_key_kind *k, const util_env *env, const char *path,
                                    chain_keypair *kp, util_err *err);
/* Loads DATADIR/node_key.json, creating it first when absent (*created = 1). */
OL_MUST_CHECK int node_keyfile_load_or_create(const node_key_kind *k, const util_env *env,
                                              const char *datadir, chain_keypair *kp, int *created,
                                              util_err *err);

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
