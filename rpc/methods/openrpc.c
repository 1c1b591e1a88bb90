/* rpc_discover: the OpenRPC document of every registered method
 * (rpc/methods/openrpc.h). */
#include "rpc/methods/openrpc.h"

#include <string.h>

#define REF(x) "{\"$ref\":\"#/components/schemas/" x "\"}"
#define INT "{\"type\":\"integer\",\"minimum\":0}"
#define STR "{\"type\":\"string\"}"
#define BOOL "{\"type\":\"boolean\"}"
/* content descriptors */
#define P(name, req, schema) "{\"name\":\"" name "\",\"required\":" req ",\"schema\":" schema "}"
#define R(name, schema) "{\"name\":\"" name "\",\"schema\":" schema "}"
#define OBJ(props) "{\"type\":\"object\",\"properties\":{" props "}}"
#define ARR(items) "{\"type\":\"array\",\"items\":" items "}"
#define F(name, schema) "\"" name "\":" schema
#define NONE "[]"

/* The specs are laid out like the JSON they hold. */
// clang-format off
static const char components[] = "{\"schemas\":{"
    F("Hash", "{\"type\":\"string\",\"pattern\":\"^0x[0-9a-f]{64}$\"}") ","
    F("Bytes", "{\"type\":\"string\",\"pattern\":\"^0x([0-9a-f]{2})*$\"}") ","
    F("Address", "{\"type\":\"string\",\"pattern\":\"^ol1[02-9ac-hj-np-z]{38}$\","
                 "\"description\":\"bech32m, prefix ol\"}") ","
    F("Amount", "{\"type\":\"string\",\"pattern\":\"^[0-9]+$\","
                "\"description\":\"base units (1 OPEN = 10^9), decimal\"}") ","
    F("U64", "{\"oneOf\":[" INT ",{\"type\":\"string\",\"pattern\":\"^[0-9]+$\"}]}") ","
    F("BlockRef", "{\"oneOf\":[" REF("U64") ",{\"enum\":[\"latest\",\"finalized\"]}," REF("Hash")
                  "]}") ","
    F("Header", OBJ(F("version", INT) "," F("chainId", STR) "," F("height", INT) ","
                    F("parentHash", REF("Hash")) "," F("timestamp", INT) ","
                    F("proposer", REF("Address")) "," F("txRoot", REF("Hash")) ","
                    F("stateRoot", REF("Hash")) "," F("receiptsRoot", REF("Hash")) ","
                    F("validatorsHash", REF("Hash")) "," F("nextValidatorsHash", REF("Hash")) ","
                    F("consensusParamsHash", REF("Hash")) ","
                    F("evidenceHash", REF("Hash")) "," F("lastCommit", REF("Commit"))))
    ","
    F("Commit", OBJ(F("round", INT) "," F("signatures", ARR(OBJ(
                        F("validator", INT) "," F("signature", REF("Bytes"))))))) ","
    F("Tx", OBJ(F("hash", REF("Hash")) "," F("type", STR) "," F("chainId", STR) ","
                F("from", REF("Address")) "," F("senderPubkey", REF("Hash")) ","
                F("nonce", INT) "," F("gasLimit", INT) "," F("gasPrice", REF("Amount")) ","
                F("signature", REF("Bytes")) "," F("size", INT) "," F("to", REF("Address")) ","
                F("amount", REF("Amount")))) ","
    F("Event", OBJ(F("emitter", REF("Address")) "," F("topic", REF("Hash")) ","
                   F("data", REF("Bytes")))) ","
    F("Receipt", OBJ(F("status", "{\"enum\":[\"success\",\"failed\"]}") ","
                     F("failureCode", "{\"type\":[\"string\",\"null\"]}") ","
                     F("gasUsed", INT) "," F("fee", REF("Amount")) ","
                     F("error", "{\"type\":[\"string\",\"null\"]}") ","
                     F("returnData", REF("Bytes")) "," F("revertData", REF("Bytes")) ","
                     F("revertText", "{\"type\":\"string\"}") ","
                     F("events", ARR(REF("Event"))) "," F("contractAddress", REF("Address")))) ","
    F("Evidence", OBJ(F("validator", INT) "," F("height", INT) "," F("round", INT) ","
                      F("type", "{\"enum\":[\"prevote\",\"precommit\",\"unknown\"]}") ","
                      F("blockHashA", "{\"type\":[\"string\",\"null\"]}") ","
                      F("blockHashB", "{\"type\":[\"string\",\"null\"]}") ","
                      F("signatureA", REF("Bytes")) "," F("signatureB", REF("Bytes")))) ","
    F("Block", OBJ(F("hash", REF("Hash")) "," F("size", INT) "," F("header", REF("Header")) ","
                   F("txs", ARR(REF("Tx"))) "," F("evidence", ARR(REF("Evidence"))))) ","
    F("BlockSummary", OBJ(F("hash", REF("Hash")) "," F("height", INT) "," F("txCount", INT) ","
                          F("size", INT) "," F("header", REF("Header")))) ","
    F("SubscriptionId", "{\"type\":\"string\",\"pattern\":\"^0x[0-9a-f]{16}$\"}") ","
    F("EventFilter",
      "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
      F("contract", "{\"oneOf\":[" REF("Address") "," ARR(REF("Address")) "]}") ","
      F("topic", "{\"oneOf\":[" REF("Hash") "," ARR(REF("Hash")) "]}") ","
      F("model", "{\"oneOf\":[" REF("U64") "," ARR(REF("U64")) "]}") ","
      F("recipient", "{\"oneOf\":[" REF("Address") "," ARR(REF("Address")) "]}") "}}")
    "}}";

typedef struct builtin {
    const char *name;
    rpc_method_spec spec;
} builtin;

static const builtin builtins[] = {
    {"node_status",
     {"Chain id, genesis hash, head and mempool size of the node, its node id and sync state.",
      NONE,
      R("status", OBJ(F("chainId", STR) "," F("genesisHash", REF("Hash")) "," F("height", INT) ","
                      F("headHash", REF("Hash")) "," F("headTime", INT) "," F("version", STR) ","
                      F("mempoolSize", INT) ","
                      F("nodeId", "{\"type\":[\"string\",\"null\"],\"pattern\":\"^[0-9a-f]{40}$\"}") ","
                      F("p2pListen", "{\"type\":[\"string\",\"null\"]}") ","
                      F("syncing", BOOL) "," F("syncTarget", INT) "," F("peers", INT) ","
                      F("consensus", "{\"type\":[\"object\",\"null\"]}")))}},
    {"node_peers",
     {"The connected peers: id, address, direction, claimed height, misbehaviour score, bytes.",
      NONE,
      R("peers", ARR(OBJ(F("id", "{\"type\":\"string\",\"pattern\":\"^[0-9a-f]{40}$\"}") ","
                         F("address", STR) ","
                         F("direction", "{\"enum\":[\"inbound\",\"outbound\"]}") ","
                         F("height", INT) "," F("score", INT) "," F("bytesIn", INT) ","
                         F("bytesOut", INT))))}},
    {"consensus_state",
     {"The consensus engine's height, round, step, lock, proposal and the votes of the round.",
      NONE,
      R("state", OBJ(F("running", BOOL) "," F("height", INT) "," F("round", INT) ","
                     F("step", STR) "," F("votes", ARR("{\"type\":\"object\"}")) ","
                     F("evidence", ARR("{\"type\":\"object\"}"))))}},
    {"chain_getBlock",
     {"A block with its header and transactions.", "[" P("block", "true", REF("BlockRef")) "]",
      R("block", REF("Block"))}},
    {"chain_getCommit",
     {"A block's header with the commit that finalised it (empty for block 0); the head's "
      "own commit too, before any later block carries it.",
      "[" P("block", "true", REF("BlockRef")) "]",
      R("commit", OBJ(F("height", INT) "," F("blockHash", REF("Hash")) ","
                      F("header", REF("Header")) "," F("headerRaw", REF("Bytes")) ","
                      F("commit", REF("Commit")) "," F("commitRaw", REF("Bytes"))))}},
    {"chain_getTransaction",
     {"A transaction with its receipt and location, or pending from the mempool.",
      "[" P("hash", "true", REF("Hash")) "]",
      R("transaction", OBJ(F("tx", REF("Tx")) "," F("receipt", REF("Receipt")) ","
                           F("blockHeight", INT) "," F("blockHash", REF("Hash")) ","
                           F("index", INT) "," F("pending", BOOL)))}},
    {"tx_send",
     {"Submits a signed transaction to the mempool.", "[" P("tx", "true", REF("Bytes")) "]",
      R("hash", REF("Hash"))}},
    {"account_get",
     {"Committed balance and nonce of an account, and its pending nonce.",
      "[" P("address", "true", REF("Address")) "]",
      R("account", OBJ(F("address", REF("Address")) "," F("balance", REF("Amount")) ","
                       F("nonce", INT) "," F("pendingNonce", INT)))}},
    {"state_getProof",
     {"Merkle proof of a state object (account, datanet, contribution, model, attribution "
      "record, contributor totals) or of its absence, against the state root of the head or "
      "of the block at a given height, with that block's header and the commit that "
      "finalised it (docs/proofs.md).",
      "[" P("object", "true",
            "{\"oneOf\":[" REF("Address") "," OBJ(F("account", REF("Address"))) ","
            OBJ(F("datanet", REF("U64"))) "," OBJ(F("contribution", REF("U64"))) ","
            OBJ(F("model", REF("U64"))) "," OBJ(F("record", REF("U64"))) ","
            OBJ(F("contributorTotals", REF("Address"))) "]}") ","
      P("options", "false", OBJ(F("height", REF("U64")))) "]",
      R("proof", OBJ(F("kind", STR) "," F("height", INT) "," F("address", REF("Address")) ","
                     F("id", INT) "," F("stateKey", REF("Bytes")) "," F("path", REF("Hash")) ","
                     F("value", "{\"oneOf\":[" REF("Bytes") ",{\"type\":\"null\"}]}") ","
                     F("account", "{\"type\":[\"object\",\"null\"]}") ","
                     F("datanet", "{\"type\":[\"object\",\"null\"]}") ","
                     F("contribution", "{\"type\":[\"object\",\"null\"]}") ","
                     F("model", "{\"type\":[\"object\",\"null\"]}") ","
                     F("record", "{\"type\":[\"object\",\"null\"]}") ","
                     F("contributorTotals", "{\"type\":[\"object\",\"null\"]}") ","
                     F("proof", REF("Bytes")) "," F("header", REF("Header")) ","
                     F("headerRaw", REF("Bytes")) "," F("headerHash", REF("Hash")) ","
                     F("commit", REF("Commit")) "," F("commitRaw", REF("Bytes"))))}},
    {"contract_get",
     {"Code hash, code size and balance of a deployed contract.",
      "[" P("address", "true", REF("Address")) "]",
      R("contract", OBJ(F("address", REF("Address")) "," F("codeHash", REF("Hash")) ","
                        F("codeSize", INT) "," F("balance", REF("Amount")) ","
                        F("height", INT)))}},
    {"contract_call",
     {"Runs a contract call read-only against the head state.",
      "[" P("to", "true", REF("Address")) "," P("input", "false", REF("Bytes")) ","
      P("options", "false", OBJ(F("from", REF("Address")) "," F("value", REF("U64")) ","
                                F("gasLimit", REF("U64")))) "]",
      R("receipt", REF("Receipt"))}},
    {"contract_getStorage",
     {"A contract storage slot (32 zero bytes when unset).",
      "[" P("address", "true", REF("Address")) "," P("key", "true", REF("Hash")) "]",
      R("value", REF("Bytes"))}},
    {"chain_getBlockRange",
     {"A page of block headers, ascending or descending from a height.",
      "[" P("from", "true", REF("BlockRef")) "," P("limit", "false",
      "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":30}") ","
      P("order", "false", "{\"enum\":[\"asc\",\"desc\"],\"default\":\"asc\"}") "]",
      R("range", OBJ(F("blocks", ARR(REF("BlockSummary"))) ","
                     F("next", "{\"type\":[\"integer\",\"null\"]}")))}},
    {"chain_getReceipt",
     {"The receipt of a committed transaction, with its location.",
      "[" P("hash", "true", REF("Hash")) "]",
      R("receipt", "{\"allOf\":[" REF("Receipt") "," OBJ(F("txHash", REF("Hash")) ","
                   F("blockHeight", INT) "," F("blockHash", REF("Hash")) "," F("index", INT))
                   "]}")}},
    {"chain_getGenesis",
     {"The genesis document the chain started from (allocations summarized).", NONE,
      R("genesis", OBJ(F("hash", REF("Hash")) "," F("chainId", STR) "," F("genesisTime", STR) ","
                       F("genesisTimeMs", INT) "," F("params", "{\"type\":\"object\"}") ","
                       F("validators", ARR(OBJ(F("name", STR) "," F("pubkey", REF("Hash")) ","
                                               F("address", REF("Address")) ","
                                               F("power", INT)))) ","
                       F("validatorsHash", REF("Hash")) ","
                       F("consensusParamsHash", REF("Hash")) "," F("allocCount", INT) ","
                       F("allocTotal", REF("Amount"))))}},
    {"tx_list",
     {"Transactions sent or received by an address, newest first, paged.",
      "[" P("address", "true", REF("Address")) ","
      P("cursor", "false", "{\"type\":[\"string\",\"null\"],\"pattern\":\"^0x[0-9a-f]{24}$\"}") ","
      P("limit", "false", "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":30}")
      "]",
      R("page", OBJ(F("txs", ARR(OBJ(F("hash", REF("Hash")) "," F("blockHeight", INT) ","
                                     F("index", INT) "," F("tx", REF("Tx")) ","
                                     F("receipt", REF("Receipt"))))) ","
                    F("nextCursor", "{\"type\":[\"string\",\"null\"]}")))}},
    {"tx_estimateGas",
     {"Gas of a signed or unsigned transaction (intrinsic gas; exact for native bodies).",
      "[" P("tx", "true", REF("Bytes")) "]",
      R("estimate", OBJ(F("gas", INT) "," F("exact", BOOL) "," F("type", STR) ","
                        F("signed", BOOL)))}},
    {"mempool_status",
     {"Size and limits of the mempool.", NONE,
      R("mempool", OBJ(F("count", INT) "," F("bytes", INT) "," F("maxCount", INT) ","
                       F("maxBytes", INT) "," F("minGasPrice", REF("Amount")) ","
                       F("maxNonceAhead", INT)))}},
    {"admin_mempoolFlush",
     {"Admin: drops every transaction from the mempool.", NONE,
      R("result", OBJ(F("removed", INT)))}},
    {"admin_setLogLevel",
     {"Admin: changes the log level.",
      "[" P("level", "true", "{\"enum\":[\"debug\",\"info\",\"warn\",\"error\"]}") "]",
      R("result", OBJ(F("previous", STR) "," F("level", STR)))}},
    {"subscribe_newBlocks",
     {"WebSocket: a notification for each committed block.", NONE,
      R("subscription", REF("SubscriptionId"))}},
    {"subscribe_events",
     {"WebSocket: a notification for each receipt event matching the filter.",
      "[" P("filter", "false", REF("EventFilter")) "]", R("subscription", REF("SubscriptionId"))}},
    {"subscribe_pendingTransactions",
     {"WebSocket: a notification for each transaction admitted to the mempool.",
      "[" P("full", "false", "{\"type\":\"boolean\",\"default\":false}") "]",
      R("subscription", REF("SubscriptionId"))}},
    {"unsubscribe",
     {"WebSocket: cancels a subscription of this connection.",
      "[" P("id", "true", REF("SubscriptionId")) "]", R("removed", BOOL)}},
    {"rpc_discover",
     {"This OpenRPC document.", NONE,
      R("document", "{\"$ref\":\"https://meta.open-rpc.org/\"}")}},
};

// clang-format on

const rpc_method_spec *rpc_openrpc_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0) return &builtins[i].spec;
    return NULL;
}

static json_t *parse(const char *text)
{
    return json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
}

static json_t *method_doc(const rpc_dispatch *d, size_t i)
{
    const char *name = rpc_dispatch_name(d, i);
    const rpc_method_spec *sp = rpc_dispatch_spec(d, i);
    if (!sp) sp = rpc_openrpc_builtin(name);
    json_t *params = sp ? parse(sp->params) : json_array();
    json_t *result = sp ? parse(sp->result) : json_pack("{s:s,s:{}}", "name", "result", "schema");
    if (!params || !result) {
        json_decref(params);
        json_decref(result);
        return NULL;
    }
    json_t *m = json_pack("{s:s,s:s,s:o,s:o,s:s}", "name", name, "summary",
                          sp && sp->summary ? sp->summary : "", "params", params, "result", result,
                          "paramStructure", "by-position");
    unsigned fl = rpc_dispatch_flags(d, i);
    if (m && (fl & RPC_METHOD_ADMIN)) json_object_set_new(m, "x-admin", json_true());
    if (m && (fl & RPC_METHOD_SESSION)) json_object_set_new(m, "x-websocket-only", json_true());
    return m;
}

static json_t *m_discover(void *ctx, json_t *params, rpc_error *e)
{
    rpc_dispatch *d = ctx;
    if (json_array_size(params) != 0)
        return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "expected 0 params, got %zu",
                        json_array_size(params));
    json_t *methods = json_array(), *comp = parse(components);
    for (size_t i = 0; methods && comp && i < rpc_dispatch_count(d); i++) {
        json_t *m = method_doc(d, i);
        if (!m) {
            json_decref(methods);
            json_decref(comp);
            return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "bad spec for %s",
                            rpc_dispatch_name(d, i));
        }
        json_array_append_new(methods, m);
    }
    if (!methods || !comp) {
        json_decref(methods);
        json_decref(comp);
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    }
    return json_pack("{s:s,s:{s:s,s:s,s:s},s:o,s:o}", "openrpc", "1.2.6", "info", "title",
                     "OpenLedger node JSON-RPC", "version", OL_VERSION, "description",
                     "Positional params; conventions in docs/rpc-protocol.md.", "methods", methods,
                     "components", comp);
}

int rpc_openrpc_register(rpc_dispatch *d)
{
    return rpc_dispatch_add(d, "rpc_discover", m_discover, d) ? -1 : 0;
}
