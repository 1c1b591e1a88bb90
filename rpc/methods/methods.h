/* The chain's JSON-RPC methods (node_status, chain_getBlock,
 * chain_getTransaction, tx_send, account_get, state_getProof).
 *
 * They see the node through rpc_env (rpc/methods/env.h). Shapes are
 * documented in docs/rpc.md. */
#ifndef OL_RPC_METHODS_H
#define OL_RPC_METHODS_H

#include <jansson.h>

#include "chain/types/block.h"
#include "rpc/jsonrpc.h"
#include "rpc/methods/env.h"
#include "util/err.h"

/* Registers the chain methods and the other families that read the same
 * store (contracts, attribution). env is borrowed and must outlive d. */
OL_MUST_CHECK int rpc_methods_chain_register(rpc_dispatch *d, rpc_env *env);
OL_MUST_CHECK int rpc_methods_contract_register(rpc_dispatch *d, rpc_env *env);
/* state_getProof (rpc/methods/proof.c). */
OL_MUST_CHECK int rpc_methods_proof_register(rpc_dispatch *d, rpc_env *env);

/* JSON shapes shared by method families (new references, NULL on OOM). */
OL_MUST_CHECK json_t *rpc_json_header(const chain_header *h);
/* {round, signatures: [{validator, signature}]}, as in a header's lastCommit. */
OL_MUST_CHECK json_t *rpc_json_commit(const chain_commit *c);
/* One evidence item of a block: validator, height, round, type and the two
 * votes' block hashes (null for nil) with their signatures. */
OL_MUST_CHECK json_t *rpc_json_evidence(const chain_evidence *e);
OL_MUST_CHECK json_t *rpc_json_tx(const chain_tx *tx);
OL_MUST_CHECK json_t *
rpc_json_receipt(const chain_receipt *r); /* with events, return data, created */
OL_MUST_CHECK json_t *rpc_json_event(const chain_event *ev);

#endif
