/* The attribution JSON-RPC methods: datanet_get, datanet_list,
 * contribution_get, contribution_list, model_get, model_list,
 * attribution_get, attribution_list, contributor_impact, and the explorer's
 * series and rankings model_fees and contributor_top.
 *
 * They read committed state (chain/types/attr.h entries) and the explorer
 * indexes through chain/state/objects.h, as objects, never keys or bytes;
 * they never write. Lists are
 * paged: a cursor (opaque string, the "nextCursor" of the previous page) and a
 * limit (default RPC_ATTR_LIMIT_DEFAULT, at most RPC_ATTR_LIMIT_MAX). Shapes
 * and parameters are documented in docs/attribution.md ("JSON-RPC"). */
#ifndef OL_RPC_METHODS_ATTR_H
#define OL_RPC_METHODS_ATTR_H

#include <jansson.h>

#include "chain/state/objects.h"
#include "chain/types/attr.h"
#include "rpc/jsonrpc.h"
#include "rpc/methods/methods.h"
#include "util/err.h"

#define RPC_ATTR_LIMIT_DEFAULT 30
#define RPC_ATTR_LIMIT_MAX 100
/* contributor_impact reads at most this many of the address's most recent
 * payouts and of its contributions; beyond, the answer says it is truncated. */
#define RPC_ATTR_IMPACT_SCAN_MAX 10000
#define RPC_ATTR_IMPACT_RECENT_DEFAULT 10

/* Registers the methods; env is borrowed and must outlive d. 0 or -1. */
OL_MUST_CHECK int rpc_methods_attr_register(rpc_dispatch *d, rpc_env *env);

/* JSON shapes (new references, NULL when memory runs out). */
OL_MUST_CHECK json_t *rpc_json_datanet(const chain_datanet *d);
OL_MUST_CHECK json_t *rpc_json_contribution(const chain_contribution *c);
OL_MUST_CHECK json_t *rpc_json_model(const chain_model *m);
OL_MUST_CHECK json_t *rpc_json_record(const chain_record *r);
const char *rpc_attr_role_name(uint8_t role);     /* "owner", "validator", "contributor" */
const char *rpc_attr_method_name(uint8_t method); /* "gradient", "suffix-array", "other" */
/* Adds the body fields of an attribution transaction (DATANET_CREATE ..
 * ATTRIBUTE) to a transaction object such as rpc_json_tx's. Other types are
 * left alone. 0, or -1 when memory runs out. */
OL_MUST_CHECK int rpc_json_attr_tx_body(json_t *obj, const chain_tx *tx);

/* Private to the rpc attribution files. */
OL_MUST_CHECK int rpc_attr_describe(rpc_dispatch *d); /* OpenRPC specs (rpc/methods/attr_spec.c) */
OL_MUST_CHECK json_t *rpc_attr_impact(rpc_env *env, json_t *params, rpc_error *e);
/* The explorer's series and rankings (rpc/methods/attr_series.c). */
#define RPC_ATTR_BUCKETS_MAX 1000
#define RPC_ATTR_DAYS_DEFAULT 30
#define RPC_ATTR_BLOCKS_DEFAULT 100
/* A contributor's earnings by model read by contributor_impact, at most. */
#define RPC_ATTR_IMPACT_MODELS_MAX 1000
/* SERIES (docs/rpc.md) of the series q names (ix of its day index; the block
 * index is chosen by the spec's "bucket"); spec is params[i] (absent or null:
 * {"bucket": "day"}). NULL with *e set. */
OL_MUST_CHECK json_t *rpc_attr_series(rpc_env *env, json_t *params, size_t i, char day_ix,
                                      char block_ix, const uint8_t *a, size_t alen, rpc_error *e);
OL_MUST_CHECK json_t *rpc_attr_model_fees(void *env, json_t *params, rpc_error *e);
OL_MUST_CHECK json_t *rpc_attr_top(void *env, json_t *params, rpc_error *e);

#endif
