/* The node's side of the rollup (docs/rollup.md, "Operating"): its L1
 * account key, the batcher and proposer it runs with --l1 and
 * --rollup-config, what node_status and /metrics show of them, and the
 * commands l1-address, rollup-deploy and l1-inbox.
 *
 * DATADIR/l1_key.json holds the L1 account key, in the layout of the other
 * key files (node/validator_key.h) with "type": "openledger-l1-key" and
 * "ethAddress" beside the secret. The key signs with its secret normalised
 * to the even-y point (rollup_eth_seckey_even), so its Ethereum address is
 * rollup_eth_addr_from_xonly(publicKey): the file alone shows it. */
#ifndef OL_NODE_ROLLUP_H
#define OL_NODE_ROLLUP_H

#include <jansson.h>

#include "node/node.h"
#include "rollup/eth/ecdsa.h"
#include "util/env.h"
#include "util/err.h"

#define NODE_L1_KEY_FILE "l1_key.json"
#define NODE_L1_KEY_TYPE "openledger-l1-key"

typedef struct node_rollup node_rollup;

/* Loads DATADIR/l1_key.json, creating it (mode 0600) when absent: sk gets
 * the signing secret, addr its Ethereum address. */
OL_MUST_CHECK int node_l1_key_load_or_create(const util_env *env, const char *datadir,
                                             uint8_t sk[32], rollup_eth_addr *addr, int *created,
                                             util_err *err);

/* With cfg.l1_url: loads the rollup config and the L1 key, and starts the
 * L1 client, the transaction manager, the batcher (when the L1 key is the
 * config's batcher) and the proposer. 0 without an L1. */
OL_MUST_CHECK int node_rollup_start(node *n, util_err *err);
/* Before the loop closes its handles. */
void node_rollup_stop(node *n);
void node_rollup_free(node *n);
/* rpc_env.l1_status. */
int node_rollup_status_json(void *ctx, json_t *status);
/* Appends the rollup's metrics to a /metrics body. */
void node_rollup_metrics(node *n, char **body, size_t *len);

/* The commands (argv[0] is the command's name); returns as node_init_main. */
OL_MUST_CHECK int node_l1_address_main(int argc, char **argv, util_err *err);
OL_MUST_CHECK int node_rollup_deploy_main(int argc, char **argv, util_err *err);
OL_MUST_CHECK int node_l1_inbox_main(int argc, char **argv, util_err *err);

#endif
