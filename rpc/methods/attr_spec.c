/* OpenRPC descriptions of the attribution methods (rpc_discover), attached
 * with rpc_dispatch_describe. Shapes: docs/attribution.md. */
#include "rpc/methods/attr.h"

/* clang-format off: the JSON fragments read better laid out by hand. */
// clang-format off
#define REF(x) "{\"$ref\":\"#/components/schemas/" x "\"}"
#define INT "{\"type\":\"integer\",\"minimum\":0}"
#define STR "{\"type\":\"string\"}"
#define BOOL "{\"type\":\"boolean\"}"
#define DEC "{\"type\":\"string\",\"pattern\":\"^[0-9]+$\"}"
#define NULLABLE_INT "{\"type\":[\"integer\",\"null\"],\"minimum\":0}"
#define P(name, req, schema) "{\"name\":\"" name "\",\"required\":" req ",\"schema\":" schema "}"
#define R(name, schema) "{\"name\":\"" name "\",\"schema\":" schema "}"
#define OBJ(props) "{\"type\":\"object\",\"properties\":{" props "}}"
#define ARR(items) "{\"type\":\"array\",\"items\":" items "}"
#define F(name, schema) "\"" name "\":" schema

#define DATANET OBJ( \
    F("id", INT) "," F("owner", REF("Address")) "," F("name", STR) "," \
    F("metaHash", REF("Hash")) "," F("metaUri", STR) "," F("bond", REF("Amount")) "," \
    F("review", BOOL) "," F("height", INT) "," F("contributions", INT) "," \
    F("accepted", INT) "," F("rejected", INT) "," F("pending", INT) "," F("models", INT))
#define CONTRIBUTION OBJ( \
    F("id", INT) "," F("datanet", INT) "," F("contributor", REF("Address")) "," \
    F("contentHash", REF("Hash")) "," F("size", DEC) "," F("uri", STR) "," \
    F("status", "{\"enum\":[\"pending\",\"accepted\",\"rejected\"]}") "," \
    F("reason", NULLABLE_INT) "," F("bond", REF("Amount")) "," F("height", INT) "," \
    F("timesUsed", INT) "," F("earned", REF("Amount")))
#define MODEL OBJ( \
    F("id", INT) "," F("owner", REF("Address")) "," F("name", STR) "," \
    F("datanets", ARR(INT)) "," F("attestor", REF("Hash")) "," \
    F("attestorAddress", REF("Address")) "," F("rewardContract", REF("Address")) "," \
    F("split", OBJ(F("owner", INT) "," F("validators", INT) "," F("contributors", INT))) "," \
    F("height", INT) "," F("inferences", INT) "," F("fees", REF("Amount")))
#define ROLE "{\"enum\":[\"owner\",\"validator\",\"contributor\"]}"
#define RECORD OBJ( \
    F("id", INT) "," F("model", INT) "," F("modelName", STR) "," F("timeMs", NULLABLE_INT) "," \
    F("payoutCount", INT) "," F("attestor", REF("Address")) "," F("owner", REF("Address")) "," F("outputHash", REF("Hash")) "," F("fee", REF("Amount")) "," \
    F("method", "{\"enum\":[\"gradient\",\"suffix-array\",\"other\"]}") "," \
    F("evidenceHash", REF("Hash")) "," F("height", INT) "," F("tx", REF("Hash")) "," \
    F("retained", REF("Amount")) "," \
    F("entries", ARR(OBJ(F("contribution", INT) "," F("weight", DEC) "," \
                         F("contributor", REF("Address"))))) "," \
    F("payouts", ARR(OBJ(F("recipient", REF("Address")) "," F("role", ROLE) "," \
                         F("contribution", NULLABLE_INT) "," F("amount", REF("Amount"))))))
#define TOTALS OBJ(F("amount", REF("Amount")) "," F("count", INT))
/* SERIES (docs/rpc.md, "contributor_impact"): day buckets carry day and
 * startMs, block buckets height and timeMs. */
#define SERIES OBJ( \
    F("bucket", "{\"enum\":[\"day\",\"block\"]}") "," F("from", INT) "," F("to", INT) "," \
    F("before", TOTALS) "," F("total", TOTALS) "," \
    F("buckets", ARR(OBJ(F("day", INT) "," F("startMs", INT) "," F("height", INT) "," \
                         F("timeMs", INT) "," F("amount", REF("Amount")) "," F("count", INT)))))
#define REF_SERIES SERIES
#define SERIES_PARAM(req) \
    P("series", req, "{\"type\":[\"object\",\"null\"],\"additionalProperties\":false," \
      "\"properties\":{\"bucket\":{\"enum\":[\"day\",\"block\"],\"default\":\"day\"}," \
      "\"from\":" INT ",\"to\":" INT "}}")
#define TOP_ITEM OBJ( \
    F("rank", INT) "," F("address", REF("Address")) "," F("earned", REF("Amount")) "," \
    F("payouts", INT) "," F("records", NULLABLE_INT))
#define IMPACT OBJ( \
    F("address", REF("Address")) "," F("earned", REF("Amount")) "," \
    F("contributions", INT) "," F("accepted", INT) "," F("rejected", INT) "," \
    F("pending", INT) "," F("payouts", INT) "," \
    F("scannedByRole", OBJ(F("contributor", REF("Amount")) "," F("owner", REF("Amount")) "," \
                           F("validator", REF("Amount")))) "," \
    F("byModel", ARR(OBJ(F("model", INT) "," F("name", STR) "," F("records", INT) "," \
                         F("payouts", INT) "," F("earned", REF("Amount"))))) "," \
    F("byDatanet", ARR(OBJ(F("datanet", INT) "," F("name", STR) "," F("contributions", INT) "," \
                           F("accepted", INT) "," F("rejected", INT) "," F("pending", INT) "," \
                           F("timesUsed", INT) "," F("earned", REF("Amount"))))) "," \
    F("recentPayouts", ARR(OBJ(F("record", INT) "," F("model", INT) "," \
                               F("contribution", NULLABLE_INT) "," F("role", ROLE) "," \
                               F("amount", REF("Amount"))))) "," \
    F("scanLimit", INT) "," F("payoutsTruncated", BOOL) "," F("contributionsTruncated", BOOL) "," \
    F("modelsTruncated", BOOL) "," F("earnings", REF_SERIES))

#define ID_PARAM "[" P("id", "true", REF("U64")) "]"
#define PAGE_PARAMS \
    P("cursor", "false", "{\"type\":[\"string\",\"null\"]}") "," \
    P("limit", "false", "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":30}") "," \
    P("order", "false", "{\"enum\":[\"asc\",\"desc\"],\"default\":\"asc\"}")
#define PAGE(item) OBJ(F("items", ARR(item)) "," F("nextCursor", "{\"type\":[\"string\",\"null\"]}"))
/* An object with exactly one of two keys. */
#define FILTER(a, as, b, bs) \
    "{\"type\":\"object\",\"minProperties\":1,\"maxProperties\":1," \
    "\"additionalProperties\":false,\"properties\":{" F(a, as) "," F(b, bs) "}}"

static const struct {
    const char *name;
    rpc_method_spec spec;
} specs[] = {
    {"datanet_get", {"A datanet by id.", ID_PARAM, R("datanet", DATANET)}},
    {"datanet_list", {"Every datanet, a page at a time, in id order.",
                      "[" PAGE_PARAMS "]", R("page", PAGE(DATANET))}},
    {"contribution_get", {"A contribution by id.", ID_PARAM, R("contribution", CONTRIBUTION)}},
    {"contribution_list", {"Every contribution, or those of a datanet or of a contributor, a page at a time.",
                           "[" P("filter", "false", FILTER("datanet", REF("U64"), "contributor", REF("Address")))
                           "," PAGE_PARAMS "]",
                           R("page", PAGE(CONTRIBUTION))}},
    {"model_get", {"A model by id.", ID_PARAM, R("model", MODEL)}},
    {"model_list", {"Every model, or the models of a datanet or of an owner, a page at a time.",
                    "[" P("filter", "false", FILTER("datanet", REF("U64"), "owner", REF("Address")))
                    "," PAGE_PARAMS "]",
                    R("page", PAGE(MODEL))}},
    {"attribution_get", {"An attribution record with its entries and payouts.", ID_PARAM,
                         R("record", RECORD)}},
    {"attribution_list", {"Every attribution record, or those of a model or of a contribution, a page at a time.",
                          "[" P("filter", "false", FILTER("model", REF("U64"), "contribution", REF("U64")))
                          "," PAGE_PARAMS "]",
                          R("page", PAGE(RECORD))}},
    {"contributor_impact", {"What an address contributed, which models used it and what it earned.",
                            "[" P("address", "true", REF("Address")) ","
                            P("recent", "false", "{\"type\":\"integer\",\"minimum\":0,\"maximum\":100,\"default\":10}") ","
                            SERIES_PARAM("false") "]",
                            R("impact", IMPACT)}},
    {"model_fees", {"A model's fees and inferences per UTC day or per block (at most 1000 buckets).",
                    "[" P("model", "true", REF("U64")) "," SERIES_PARAM("false") "]",
                    R("fees", OBJ(F("model", INT) "," F("name", STR) "," F("fees", REF("Amount")) ","
                                  F("inferences", INT) "," F("series", SERIES)))}},
    {"contributor_top", {"Contributors ranked by earnings, overall or from one model, a page at a time.",
                         "[" P("filter", "false", "{\"type\":[\"object\",\"null\"],\"additionalProperties\":false,"
                                                  "\"properties\":{\"model\":" REF("U64") "}}") ","
                         P("cursor", "false", "{\"type\":[\"string\",\"null\"]}") ","
                         P("limit", "false", "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":30}") "]",
                         R("page", PAGE(TOP_ITEM))}},
};
// clang-format on

int rpc_attr_describe(rpc_dispatch *d)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (rpc_dispatch_describe(d, specs[i].name, &specs[i].spec)) return -1;
    return 0;
}
