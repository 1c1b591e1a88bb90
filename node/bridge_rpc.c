/* The bridge_* JSON-RPC methods (docs/rpc.md, docs/rollup.md "RPC"): the
 * bridge's figures, deposits, withdrawals with their status on the L1, an
 * address's history, and a withdrawal's proof for Bridge.finalizeWithdrawal.
 * What only the L1 knows (a pending deposit, a withdrawal's status) comes
 * from the deposit watcher (node/bridge.c); without --l1 it is null. */
#include <stdlib.h>
#include <string.h>

#include "node/bridge.h"
#include "node/node_internal.h"
#include "rollup/output.h"
#include "rpc/jsonrpc.h"
#include "rpc/params.h"
#include "util/env.h"
#include "util/hex.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000

static json_t *hexj(const uint8_t *p, size_t n)
{
    return rpc_json_hex(p, n);
}

static json_t *eth_addr_json(const uint8_t b[20])
{
    rollup_eth_addr a;
    memcpy(a.b, b, 20);
    char s[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(s, &a);
    return json_string(s);
}

static json_t *u64_or_null(int has, uint64_t v)
{
    return has ? json_integer((json_int_t)v) : json_null();
}

/* An optional options object at params[i] with only the key `key`, a u64
 * as rpc_param_u64 takes it. 0 (*has set), or -1 with e filled. */
static int opt_u64(json_t *params, size_t i, const char *key, uint64_t *out, int *has, rpc_error *e)
{
    *has = 0;
    if (!rpc_param_present(params, i)) return 0;
    json_t *o = json_array_get(params, i);
    if (!json_is_object(o)) {
        rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param %zu (options): must be an object", i);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (strcmp(k, key) != 0) {
            rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                     "param %zu (options): unknown field \"%.64s\" (only \"%s\")", i, k, key);
            return -1;
        }
    }
    v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    json_t *tmp = json_pack("[O]", v);
    if (!tmp) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        return -1;
    }
    char name[64];
    snprintf(name, sizeof name, "options.%s", key);
    int rc = rpc_param_u64(tmp, 0, name, out, e);
    json_decref(tmp);
    if (rc) {
        /* The helper names param 0; say where it really is. */
        char msg[sizeof e->message];
        snprintf(msg, sizeof msg, "%s", e->message);
        const char *p = strstr(msg, "param 0 ");
        if (p) snprintf(e->message, sizeof e->message, "param %zu %s", i, p + 8);
        return -1;
    }
    *has = 1;
    return 0;
}

/* ---- deposits ---- */

static json_t *deposit_json(uint64_t nonce, const char *status, const chain_tx_deposit *d,
                            int minted, uint64_t height, const uint8_t txid[32])
{
    char to[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(to, &d->to);
    return json_pack("{s:I,s:s,s:I,s:o,s:o,s:I,s:o,s:s,s:o,s:o,s:o}", "nonce", (json_int_t)nonce,
                     "status", status, "l1Block", (json_int_t)d->l1_block, "l1BlockHash",
                     hexj(d->l1_block_hash, 32), "l1TxHash", hexj(d->l1_tx_hash, 32), "logIndex",
                     (json_int_t)d->log_index, "from", eth_addr_json(d->l1_from), "to", to,
                     "amount", rpc_json_u64str(d->amount), "height", u64_or_null(minted, height),
                     "txid", minted ? hexj(txid, 32) : json_null());
}

/* Deposit nonce as JSON (minted or pending), JSON null when unknown, NULL
 * with e filled on a failure. */
static json_t *deposit_lookup(node *n, uint64_t nonce, rpc_error *e)
{
    uint64_t h;
    uint8_t txid[32];
    util_err err = {0};
    int rc = chain_deposit_find(n->store, nonce, &h, txid, &err);
    if (rc == 0) {
        uint8_t id[32];
        chain_block b;
        memset(&b, 0, sizeof b);
        if (chain_store_block_id_at(n->store, h, id, &err) ||
            chain_store_get_block(n->store, id, &b, NULL, &err))
            return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "block %llu: %s", (unsigned long long)h,
                            err.msg);
        chain_receipt *rs = NULL;
        size_t nr = 0;
        if (chain_store_get_receipts(n->store, id, &rs, &nr, &err)) {
            chain_block_free(&b);
            return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "receipts of block %llu: %s",
                            (unsigned long long)h, err.msg);
        }
        json_t *res = NULL;
        for (size_t i = 0; i < b.ntx && !res; i++)
            if (memcmp(b.txs[i].id, txid, 32) == 0 && b.txs[i].type == CHAIN_TX_DEPOSIT) {
                /* Included with a failed receipt (balance_overflow): its
                 * nonce is consumed, nothing was minted. */
                int ok = i >= nr || rs[i].status == CHAIN_RECEIPT_OK;
                res = deposit_json(nonce, ok ? "minted" : "failed", &b.txs[i].body.deposit, 1, h,
                                   txid);
            }
        for (size_t i = 0; i < nr; i++)
            chain_receipt_free(&rs[i]);
        free(rs);
        chain_block_free(&b);
        return res ? res
                   : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "deposit %llu: not in its block",
                              (unsigned long long)nonce);
    }
    if (rc != UTIL_ENOTFOUND) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", err.msg);
    rollup_deposit dep;
    if (node_bridge_pending(n, nonce, &dep) == 0) {
        chain_tx_deposit d;
        node_bridge_deposit_body(&d, &dep);
        return deposit_json(nonce, "pending", &d, 0, 0, NULL);
    }
    return json_null();
}

static json_t *m_get_deposit(void *ctx, json_t *params, rpc_error *e)
{
    node *n = ctx;
    uint64_t nonce;
    if (rpc_param_count(params, 1, 1, e) || rpc_param_u64(params, 0, "nonce", &nonce, e))
        return NULL;
    node_lock(n);
    json_t *r = deposit_lookup(n, nonce, e);
    node_unlock(n);
    return r;
}

/* ---- withdrawals ---- */

/* The withdrawal's L1 fields: status, outputHeight, outputIndex,
 * finalizesAt, secondsLeft (null where this node cannot know). */
static void withdrawal_status(node *n, json_t *o, uint64_t id, uint64_t height)
{
    node_bridge_l1info li;
    node_bridge_l1info_get(n, &li);
    uint64_t interval = n->genesis.params.output_interval_blocks;
    uint64_t oh = 0, t = 0;
    int has_out = li.running && node_bridge_output_at_or_above(n, height, &oh, &t) == 0;
    const char *status = NULL;
    uint64_t at = 0, left = 0;
    if (has_out) {
        at = t + li.cfg->finalization_period_s;
        uint64_t now = util_env_wall_ms(n->cfg.env) / 1000;
        left = at > now ? at - now : 0;
    }
    if (!li.running)
        status = NULL;
    else if (node_bridge_is_finalized(n, id))
        status = "finalized";
    else if (li.frozen)
        status = "frozen";
    else if (!has_out)
        status = "waiting_for_output";
    else
        status = left ? "waiting_for_finalization" : "ready";
    json_object_set_new(o, "status", status ? json_string(status) : json_null());
    json_object_set_new(o, "outputHeight", u64_or_null(has_out, oh));
    json_object_set_new(o, "outputIndex",
                        u64_or_null(has_out && interval, interval ? oh / interval : 0));
    json_object_set_new(o, "finalizesAt", u64_or_null(has_out, at));
    json_object_set_new(o, "secondsLeft", u64_or_null(has_out, left));
}

static json_t *withdrawal_json(node *n, const chain_withdrawal *w, uint64_t height,
                               const uint8_t txid[32])
{
    char sender[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(sender, &w->sender);
    json_t *o = json_pack("{s:I,s:s,s:o,s:o,s:o,s:I,s:o}", "id", (json_int_t)w->id, "sender",
                          sender, "senderBytes", hexj(w->sender.b, 20), "l1Recipient",
                          eth_addr_json(w->l1_recipient), "amount", rpc_json_u64str(w->amount),
                          "height", (json_int_t)height, "txid", hexj(txid, 32));
    if (o) withdrawal_status(n, o, w->id, height);
    return o;
}

static json_t *withdrawal_lookup(node *n, uint64_t id, rpc_error *e)
{
    chain_withdrawal w;
    uint64_t h;
    uint8_t txid[32];
    util_err err = {0};
    int rc = chain_withdrawal_get(n->store, id, &w, &h, txid, &err);
    if (rc == UTIL_ENOTFOUND) return json_null();
    if (rc) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", err.msg);
    json_t *r = withdrawal_json(n, &w, h, txid);
    return r ? r : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}

static json_t *m_get_withdrawal(void *ctx, json_t *params, rpc_error *e)
{
    node *n = ctx;
    uint64_t id;
    if (rpc_param_count(params, 1, 1, e) || rpc_param_u64(params, 0, "id", &id, e)) return NULL;
    node_lock(n);
    json_t *r = withdrawal_lookup(n, id, e);
    node_unlock(n);
    return r;
}

static json_t *m_list_by_address(void *ctx, json_t *params, rpc_error *e)
{
    node *n = ctx;
    chain_addr a;
    uint64_t limit = LIST_DEFAULT;
    int has;
    if (rpc_param_count(params, 1, 2, e) || rpc_param_addr(params, 0, "address", &a, e) ||
        opt_u64(params, 1, "limit", &limit, &has, e))
        return NULL;
    if (has && (limit < 1 || limit > LIST_MAX))
        return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                        "param 1 (options.limit): must be 1..%d, got %llu", LIST_MAX,
                        (unsigned long long)limit);
    chain_bridge_ref *refs = calloc(limit, sizeof *refs);
    json_t *deps = json_array(), *ws = json_array();
    if (!refs || !deps || !ws) {
        free(refs);
        json_decref(deps);
        json_decref(ws);
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    }
    node_lock(n);
    size_t cnt = 0;
    util_err err = {0};
    json_t *res = NULL;
    if (chain_bridge_list_by_addr(n->store, &a, refs, limit, &cnt, &err)) {
        res = rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < cnt; i++) {
        json_t *x = refs[i].kind == 'd' ? deposit_lookup(n, refs[i].id, e)
                                        : withdrawal_lookup(n, refs[i].id, e);
        if (!x) goto out;
        json_array_append_new(refs[i].kind == 'd' ? deps : ws, x);
    }
    res = json_pack("{s:O,s:O}", "deposits", deps, "withdrawals", ws);
    if (!res) res = rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
out:
    node_unlock(n);
    free(refs);
    json_decref(deps);
    json_decref(ws);
    return res;
}

static json_t *m_get_withdrawal_proof(void *ctx, json_t *params, rpc_error *e)
{
    node *n = ctx;
    uint64_t id, idx = 0;
    int has_idx;
    if (rpc_param_count(params, 1, 2, e) || rpc_param_u64(params, 0, "id", &id, e) ||
        opt_u64(params, 1, "outputIndex", &idx, &has_idx, e))
        return NULL;
    uint64_t interval = n->genesis.params.output_interval_blocks;
    if (!interval) return rpc_fail(e, RPC_UNAVAILABLE, NULL, "this chain has no output interval");
    node_lock(n);
    json_t *res = NULL;
    chain_smt_proof *proof = calloc(1, sizeof *proof);
    chain_withdrawal w;
    uint64_t wh, oh;
    uint8_t txid[32];
    util_err err = {0};
    if (!proof) {
        res = rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        goto out;
    }
    int rc = chain_withdrawal_get(n->store, id, &w, &wh, txid, &err);
    if (rc) {
        res = rpc_fail(e, rc == UTIL_ENOTFOUND ? RPC_NOT_FOUND : RPC_INTERNAL_ERROR, NULL,
                       rc == UTIL_ENOTFOUND ? "no withdrawal %llu" : "withdrawal %llu: %s",
                       (unsigned long long)id, err.msg);
        goto out;
    }
    if (has_idx) {
        if (idx == 0 || idx > UINT64_MAX / interval) {
            res = rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                           "param 1 (options.outputIndex): must be 1..%llu",
                           (unsigned long long)(UINT64_MAX / interval));
            goto out;
        }
        oh = idx * interval;
        if (oh < wh) {
            res = rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                           "param 1 (options.outputIndex): output %llu (L2 height %llu) is below "
                           "withdrawal %llu's height %llu",
                           (unsigned long long)idx, (unsigned long long)oh, (unsigned long long)id,
                           (unsigned long long)wh);
            goto out;
        }
    } else {
        node_bridge_l1info li;
        node_bridge_l1info_get(n, &li);
        uint64_t t;
        if (!li.running) {
            res = rpc_fail(e, RPC_UNAVAILABLE, NULL,
                           "this node has no L1 (--l1): give the output index "
                           "([id, {\"outputIndex\": N}])");
            goto out;
        }
        if (node_bridge_output_at_or_above(n, wh, &oh, &t)) {
            res = rpc_fail(e, RPC_NOT_FOUND, NULL,
                           "no output at or above L2 height %llu is posted on the L1 yet",
                           (unsigned long long)wh);
            goto out;
        }
        idx = oh / interval;
    }
    if (oh > chain_store_height(n->store)) {
        res = rpc_fail(e, RPC_NOT_FOUND, NULL, "L2 height %llu is above this node's head %llu",
                       (unsigned long long)oh, (unsigned long long)chain_store_height(n->store));
        goto out;
    }
    uint8_t wroot[32], oroot[32], bid[32];
    chain_block b;
    memset(&b, 0, sizeof b);
    if ((rc = chain_withdrawal_prove(n->store, id, oh, proof, wroot, &err)) ||
        (rc = chain_store_block_id_at(n->store, oh, bid, &err)) ||
        (rc = chain_store_get_block(n->store, bid, &b, NULL, &err))) {
        res = rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "proof of withdrawal %llu at %llu: %s",
                       (unsigned long long)id, (unsigned long long)oh, err.msg);
        goto out;
    }
    rollup_output_root(oroot, b.h.state_root, bid, wroot);
    json_t *sibs = json_array(), *words = json_array();
    json_array_append_new(words, hexj(b.h.state_root, 32));
    json_array_append_new(words, hexj(bid, 32));
    json_array_append_new(words, hexj(wroot, 32));
    for (uint32_t i = 0; i < proof->nsib; i++) {
        json_array_append_new(sibs, hexj(proof->siblings[i], 32));
        json_array_append_new(words, hexj(proof->siblings[i], 32));
    }
    res = json_pack("{s:o,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "withdrawal",
                    withdrawal_json(n, &w, wh, txid), "outputIndex", (json_int_t)idx,
                    "outputHeight", (json_int_t)oh, "stateRoot", hexj(b.h.state_root, 32),
                    "blockHash", hexj(bid, 32), "withdrawalsRoot", hexj(wroot, 32), "outputRoot",
                    hexj(oroot, 32), "siblings", sibs, "proof", words);
    chain_block_free(&b);
    if (!res) res = rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
out:
    node_unlock(n);
    free(proof);
    return res;
}

/* ---- bridge_info ---- */

static json_t *m_info(void *ctx, json_t *params, rpc_error *e)
{
    node *n = ctx;
    if (rpc_param_count(params, 0, 0, e)) return NULL;
    node_lock(n);
    chain_bridge_state st;
    util_err err = {0};
    if (chain_bridge_get(n->store, &st, &err)) {
        node_unlock(n);
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", err.msg);
    }
    node_bridge_l1info li;
    node_bridge_l1info_get(n, &li);
    uint64_t genesis = chain_genesis_supply(&n->genesis);
    const rollup_config *c = li.cfg;
    json_t *r = json_pack(
        "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:o,s:o}", "l1ChainId",
        c ? json_integer((json_int_t)c->l1_chain_id) : json_null(), "l1Url",
        c ? json_string(li.url) : json_null(), "token", c ? eth_addr_json(c->token.b) : json_null(),
        "bridge", c ? eth_addr_json(c->bridge.b) : json_null(), "outputOracle",
        c ? eth_addr_json(c->output_oracle.b) : json_null(), "depositConfirmations",
        c ? json_integer(c->deposit_confirmations) : json_null(), "finalizationPeriodSeconds",
        c ? json_integer((json_int_t)c->finalization_period_s) : json_null(),
        "outputIntervalBlocks", (json_int_t)n->genesis.params.output_interval_blocks,
        "genesisSupply", rpc_json_u64str(genesis), "minted", rpc_json_u64str(st.minted), "burned",
        rpc_json_u64str(st.burned), "locked", rpc_json_u64str(st.minted - st.burned), "supply",
        rpc_json_u64str(genesis + st.minted - st.burned), "nextDeposit",
        (json_int_t)st.next_deposit, "nextWithdrawal", (json_int_t)st.next_withdrawal, "l1Head",
        u64_or_null(li.has_head, li.head), "frozen", c ? json_boolean(li.frozen) : json_null());
    node_unlock(n);
    return r ? r : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}

/* ---- registration ---- */

/* clang-format off: the JSON fragments read better laid out by hand. */
// clang-format off
#define NULLABLE(x) "{\"oneOf\":[" x ",{\"type\":\"null\"}]}"
#define REF(x) "{\"$ref\":\"#/components/schemas/" x "\"}"
#define INT "{\"type\":\"integer\",\"minimum\":0}"
#define STR "{\"type\":\"string\"}"
#define L1ADDR "{\"type\":\"string\",\"pattern\":\"^0x[0-9a-fA-F]{40}$\"}"
#define DEPOSIT                                                                                    \
    "{\"type\":\"object\",\"properties\":{"                                                        \
    "\"nonce\":" INT ","                                                                           \
    "\"status\":{\"enum\":[\"pending\",\"minted\",\"failed\"]},"                                   \
    "\"l1Block\":" INT ","                                                                         \
    "\"l1BlockHash\":" REF("Hash") ","                                                             \
    "\"l1TxHash\":" REF("Hash") ","                                                                \
    "\"logIndex\":" INT ","                                                                        \
    "\"from\":" L1ADDR ","                                                                         \
    "\"to\":" REF("Address") ","                                                                   \
    "\"amount\":" REF("Amount") ","                                                                \
    "\"height\":" NULLABLE(INT) ","                                                                \
    "\"txid\":" NULLABLE(REF("Hash")) "}}"
#define WITHDRAWAL                                                                                 \
    "{\"type\":\"object\",\"properties\":{"                                                        \
    "\"id\":" INT ","                                                                              \
    "\"sender\":" REF("Address") ","                                                               \
    "\"senderBytes\":" REF("Bytes") ","                                                            \
    "\"l1Recipient\":" L1ADDR ","                                                                  \
    "\"amount\":" REF("Amount") ","                                                                \
    "\"height\":" INT ","                                                                          \
    "\"txid\":" REF("Hash") ","                                                                    \
    "\"status\":" NULLABLE("{\"enum\":[\"waiting_for_output\",\"waiting_for_finalization\","       \
                           "\"ready\",\"finalized\",\"frozen\"]}") ","                             \
    "\"outputHeight\":" NULLABLE(INT) ","                                                          \
    "\"outputIndex\":" NULLABLE(INT) ","                                                           \
    "\"finalizesAt\":" NULLABLE(INT) ","                                                           \
    "\"secondsLeft\":" NULLABLE(INT) "}}"

static const rpc_method_spec info_spec = {
    "The OPEN bridge: its L1 contracts (null without --l1), the L2 supply and what was minted "
    "and burned, the next deposit nonce and withdrawal id.",
    "[]",
    "{\"name\":\"bridgeInfo\",\"schema\":{\"type\":\"object\",\"properties\":{"
    "\"l1ChainId\":" NULLABLE(INT) ","
    "\"l1Url\":" NULLABLE(STR) ","
    "\"token\":" NULLABLE(L1ADDR) ","
    "\"bridge\":" NULLABLE(L1ADDR) ","
    "\"outputOracle\":" NULLABLE(L1ADDR) ","
    "\"depositConfirmations\":" NULLABLE(INT) ","
    "\"finalizationPeriodSeconds\":" NULLABLE(INT) ","
    "\"outputIntervalBlocks\":" INT ","
    "\"genesisSupply\":" REF("Amount") ","
    "\"minted\":" REF("Amount") ","
    "\"burned\":" REF("Amount") ","
    "\"locked\":" REF("Amount") ","
    "\"supply\":" REF("Amount") ","
    "\"nextDeposit\":" INT ","
    "\"nextWithdrawal\":" INT ","
    "\"l1Head\":" NULLABLE(INT) ","
    "\"frozen\":" NULLABLE("{\"type\":\"boolean\"}") "}}}",
};

static const rpc_method_spec deposit_spec = {
    "A deposit by nonce: minted on the L2, or pending (confirmed on the L1, not yet minted); "
    "null when unknown.",
    "[{\"name\":\"nonce\",\"required\":true,\"schema\":" REF("U64") "}]",
    "{\"name\":\"deposit\",\"schema\":" NULLABLE(DEPOSIT) "}",
};

static const rpc_method_spec withdrawal_spec = {
    "A withdrawal by id, with its status on the L1 (null without --l1); null when unknown.",
    "[{\"name\":\"id\",\"required\":true,\"schema\":" REF("U64") "}]",
    "{\"name\":\"withdrawal\",\"schema\":" NULLABLE(WITHDRAWAL) "}",
};

static const rpc_method_spec list_spec = {
    "An address's deposits (as recipient) and withdrawals (as sender), newest first.",
    "[{\"name\":\"address\",\"required\":true,\"schema\":" REF("Address") "},"
    "{\"name\":\"options\",\"required\":false,\"schema\":{\"type\":\"object\",\"properties\":{"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000}},"
    "\"additionalProperties\":false}}]",
    "{\"name\":\"history\",\"schema\":{\"type\":\"object\",\"properties\":{"
    "\"deposits\":{\"type\":\"array\",\"items\":" DEPOSIT "},"
    "\"withdrawals\":{\"type\":\"array\",\"items\":" WITHDRAWAL "}}}}",
};

static const rpc_method_spec proof_spec = {
    "A withdrawal's Merkle proof against the output root of an output height, and the proof "
    "argument of Bridge.finalizeWithdrawal.",
    "[{\"name\":\"id\",\"required\":true,\"schema\":" REF("U64") "},"
    "{\"name\":\"options\",\"required\":false,\"schema\":{\"type\":\"object\",\"properties\":{"
    "\"outputIndex\":" REF("U64") "},\"additionalProperties\":false}}]",
    "{\"name\":\"withdrawalProof\",\"schema\":{\"type\":\"object\",\"properties\":{"
    "\"withdrawal\":" WITHDRAWAL ","
    "\"outputIndex\":" INT ","
    "\"outputHeight\":" INT ","
    "\"stateRoot\":" REF("Hash") ","
    "\"blockHash\":" REF("Hash") ","
    "\"withdrawalsRoot\":" REF("Hash") ","
    "\"outputRoot\":" REF("Hash") ","
    "\"siblings\":{\"type\":\"array\",\"items\":" REF("Hash") "},"
    "\"proof\":{\"type\":\"array\",\"items\":" REF("Hash") "}}}}",
};
// clang-format on

int node_bridge_register(node *n, rpc_dispatch *d)
{
    static const struct {
        const char *name;
        rpc_method_fn fn;
        const rpc_method_spec *spec;
    } m[] = {
        {"bridge_info", m_info, &info_spec},
        {"bridge_getDeposit", m_get_deposit, &deposit_spec},
        {"bridge_getWithdrawal", m_get_withdrawal, &withdrawal_spec},
        {"bridge_listByAddress", m_list_by_address, &list_spec},
        {"bridge_getWithdrawalProof", m_get_withdrawal_proof, &proof_spec},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (rpc_dispatch_add(d, m[i].name, m[i].fn, n) ||
            rpc_dispatch_describe(d, m[i].name, m[i].spec))
            return -1;
    return 0;
}
