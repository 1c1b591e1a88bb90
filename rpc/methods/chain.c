/* The core chain methods: node_status, chain_getBlock, chain_getCommit,
 * chain_getTransaction, tx_send, account_get (rpc/methods/methods.h);
 * state_getProof is in rpc/methods/proof.c. */
#include <stdlib.h>
#include <string.h>

#include "chain/state/objects.h"
#include "rpc/methods/methods.h"
#include "rpc/methods/attr.h"
#include "rpc/params.h"
#include "util/hex.h"

static json_t *fail_err(rpc_error *e, const util_err *ue)
{
    if (ue->code == UTIL_ENOTFOUND) return rpc_fail(e, RPC_NOT_FOUND, NULL, "%s", ue->msg);
    return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue->msg);
}

static json_t *m_node_status(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    if (rpc_param_count(params, 0, 0, e)) return NULL;
    uint8_t gh[32], head[32];
    chain_store_genesis_hash(env->store, gh);
    chain_store_head_id(env->store, head);
    const chain_header *h = chain_store_head_header(env->store);
    json_t *out =
        json_pack("{s:s,s:o,s:I,s:o,s:I,s:s,s:I}", "chainId", env->genesis->chain_id, "genesisHash",
                  rpc_json_hex(gh, 32), "height", (json_int_t)h->height, "headHash",
                  rpc_json_hex(head, 32), "headTime", (json_int_t)h->time_ms, "version", OL_VERSION,
                  "mempoolSize", (json_int_t)chain_mempool_count(env->mempool));
    /* The peer-to-peer layer adds its own fields (rpc_env.p2p_status). */
    if (out && env->p2p_status && env->p2p_status(env->ctx, out)) {
        json_decref(out);
        out = NULL;
    }
    /* And the consensus engine's (rpc_env.cons_status). */
    if (out && env->cons_status && env->cons_status(env->ctx, out)) {
        json_decref(out);
        out = NULL;
    }
    /* And the rollup's heads (rpc_env.l1_status); without an L1 they are null. */
    if (out && env->l1_status) {
        if (env->l1_status(env->ctx, out)) {
            json_decref(out);
            out = NULL;
        }
    } else if (out && (json_object_set_new(out, "l1Head", json_null()) ||
                       json_object_set_new(out, "safe", json_null()) ||
                       json_object_set_new(out, "finalized", json_null()) ||
                       json_object_set_new(out, "l1", json_null()))) {
        json_decref(out);
        out = NULL;
    }
    return out ? out : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}

static json_t *block_json(const uint8_t id[32], const chain_block *b, size_t size)
{
    json_t *txs = json_array();
    for (size_t i = 0; i < b->ntx; i++)
        json_array_append_new(txs, rpc_json_tx(&b->txs[i]));
    json_t *evs = json_array();
    for (size_t i = 0; i < b->nev && i < CHAIN_BLOCK_MAX_EVIDENCE; i++)
        json_array_append_new(evs, rpc_json_evidence(&b->ev[i]));
    return json_pack("{s:o,s:I,s:o,s:o,s:o}", "hash", rpc_json_hex(id, 32), "size",
                     (json_int_t)size, "header", rpc_json_header(&b->h), "txs", txs, "evidence",
                     evs);
}

static json_t *m_get_block(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    rpc_block_ref ref;
    if (rpc_param_count(params, 1, 1, e) || rpc_param_block_ref(params, 0, "block", &ref, e))
        return NULL;
    uint8_t id[32];
    util_err ue = {0};
    switch (ref.kind) {
    case RPC_BLOCK_LATEST:
    case RPC_BLOCK_FINALIZED: /* single validator: every committed block is final */
        chain_store_head_id(env->store, id);
        break;
    case RPC_BLOCK_NUMBER:
        if (chain_store_block_id_at(env->store, ref.number, id, &ue)) return fail_err(e, &ue);
        break;
    case RPC_BLOCK_HASH: memcpy(id, ref.hash, 32); break;
    }
    chain_block b;
    size_t size;
    if (chain_store_get_block(env->store, id, &b, &size, &ue)) return fail_err(e, &ue);
    json_t *r = block_json(id, &b, size);
    chain_block_free(&b);
    return r;
}

/* The header of a block with the commit that finalised it: what a light
 * client follows the chain with, headers and commits alone. */
static json_t *m_get_commit(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    rpc_block_ref ref;
    if (rpc_param_count(params, 1, 1, e) || rpc_param_block_ref(params, 0, "block", &ref, e))
        return NULL;
    uint8_t id[32];
    util_err ue = {0};
    switch (ref.kind) {
    case RPC_BLOCK_LATEST:
    case RPC_BLOCK_FINALIZED: chain_store_head_id(env->store, id); break;
    case RPC_BLOCK_NUMBER:
        if (chain_store_block_id_at(env->store, ref.number, id, &ue)) return fail_err(e, &ue);
        break;
    case RPC_BLOCK_HASH: memcpy(id, ref.hash, 32); break;
    }
    chain_block b;
    chain_commit c;
    if (chain_store_get_block(env->store, id, &b, NULL, &ue)) return fail_err(e, &ue);
    int rc = chain_store_get_commit(env->store, b.h.height, &c, &ue);
    util_buf hb, cb;
    util_buf_init(&hb);
    util_buf_init(&cb);
    json_t *out = NULL;
    if (rc) {
        fail_err(e, &ue);
    } else if (chain_header_encode(&b.h, &hb) || chain_commit_encode(&c, &cb)) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    } else {
        out = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "height", (json_int_t)b.h.height, "blockHash",
                        rpc_json_hex(id, 32), "header", rpc_json_header(&b.h), "headerRaw",
                        rpc_json_hex(hb.data, hb.len), "commit", rpc_json_commit(&c), "commitRaw",
                        rpc_json_hex(cb.data, cb.len));
        if (!out) rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    }
    util_buf_free(&hb);
    util_buf_free(&cb);
    chain_block_free(&b);
    return out;
}

static json_t *m_get_tx(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    uint8_t txid[32];
    if (rpc_param_count(params, 1, 1, e) || rpc_param_hash32(params, 0, "hash", txid, e))
        return NULL;
    uint64_t height;
    uint32_t index;
    util_err ue = {0};
    int rc = chain_store_tx_location(env->store, txid, &height, &index, &ue);
    if (rc == UTIL_ENOTFOUND) {
        const chain_tx *p = chain_mempool_get(env->mempool, txid);
        if (!p) return rpc_fail(e, RPC_NOT_FOUND, NULL, "transaction not found");
        json_t *out = json_pack("{s:o,s:n,s:b}", "tx", rpc_json_tx(p), "receipt", "pending", 1);
        return out ? out : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    }
    if (rc) return fail_err(e, &ue);
    uint8_t id[32];
    chain_block b;
    chain_receipt *rs = NULL;
    size_t nr = 0;
    if (chain_store_block_id_at(env->store, height, id, &ue) ||
        chain_store_get_block(env->store, id, &b, NULL, &ue))
        return fail_err(e, &ue);
    json_t *out = NULL;
    if (chain_store_get_receipts(env->store, id, &rs, &nr, &ue)) {
        fail_err(e, &ue);
    } else if (index >= b.ntx || index >= nr) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "transaction index is inconsistent with its block");
    } else {
        out =
            json_pack("{s:o,s:o,s:I,s:o,s:I,s:b}", "tx", rpc_json_tx(&b.txs[index]), "receipt",
                      rpc_json_receipt(&rs[index]), "blockHeight", (json_int_t)height, "blockHash",
                      rpc_json_hex(id, 32), "index", (json_int_t)index, "pending", 0);
        /* A reply is whole or an error: never a NULL taken for success. */
        if (!out) rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    }
    for (size_t i = 0; i < nr; i++)
        chain_receipt_free(&rs[i]);
    free(rs);
    chain_block_free(&b);
    return out;
}

/* Admission order and the dry run: chain/exec/admit.h, docs/mempool.md. */
static json_t *m_tx_send(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    if (rpc_param_count(params, 1, 1, e)) return NULL;
    util_err ue = {0};
    chain_tx own;
    chain_tx *tx = env->batch_tx ? env->batch_tx(env->ctx, json_array_get(params, 0)) : NULL;
    if (!tx) {
        uint8_t *raw;
        size_t n;
        if (rpc_param_hex(params, 0, "tx", CHAIN_TX_MAX_SIZE, &raw, &n, e)) return NULL;
        int rc = chain_tx_decode(&own, raw, n, &ue);
        free(raw);
        if (rc) return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 0 (tx): %s", ue.msg);
        tx = &own;
    }
    int reason = env->submit_tx(env->ctx, call, tx, &ue);
    json_t *out = NULL;
    if (reason == CHAIN_MP_OK) {
        out = rpc_json_hex(tx->id, 32);
    } else if (reason == CHAIN_MP_EXEC_FAILED) {
        /* The dry run's reason token leads its message: "not_attestor: ...". */
        char tok[48];
        size_t i = 0;
        while (i < sizeof tok - 1 && ue.msg[i] && ue.msg[i] != ':' && ue.msg[i] != ' ') {
            tok[i] = ue.msg[i];
            i++;
        }
        tok[i] = 0;
        rpc_fail(e, RPC_TX_REJECTED,
                 json_pack("{s:s}", "reason", ue.msg[i] == ':' && i ? tok : "execution_failed"),
                 "transaction rejected: %s", ue.msg);
    } else {
        rpc_fail(
            e, RPC_TX_REJECTED, json_pack("{s:s}", "reason", chain_mempool_reason_token(reason)),
            "transaction rejected: %s", ue.msg[0] ? ue.msg : chain_mempool_reason_text(reason));
    }
    if (tx == &own) chain_tx_free(&own);
    return out;
}

static json_t *m_account_get(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    chain_addr a;
    if (rpc_param_count(params, 1, 1, e) || rpc_param_addr(params, 0, "address", &a, e))
        return NULL;
    chain_account acc;
    util_err ue = {0};
    if (chain_store_get_account(env->store, &a, &acc, &ue)) return fail_err(e, &ue);
    uint64_t pending = chain_mempool_next_nonce(env->mempool, &a);
    if (pending < acc.nonce) pending = acc.nonce;
    return json_pack("{s:o,s:o,s:I,s:I}", "address", rpc_json_addr(&a), "balance",
                     rpc_json_u64str(acc.balance), "nonce", (json_int_t)acc.nonce, "pendingNonce",
                     (json_int_t)pending);
}

int rpc_methods_chain_register(rpc_dispatch *d, rpc_env *env)
{
    /* tx_send sees its call: its dry run is charged to the call's budgets. */
    static const struct {
        const char *name;
        rpc_method_fn fn;
        rpc_method_ex_fn fn_ex;
    } m[] = {
        {"node_status", m_node_status, NULL},     {"chain_getBlock", m_get_block, NULL},
        {"chain_getTransaction", m_get_tx, NULL}, {"tx_send", NULL, m_tx_send},
        {"account_get", m_account_get, NULL},     {"chain_getCommit", m_get_commit, NULL},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (m[i].fn ? rpc_dispatch_add(d, m[i].name, m[i].fn, env)
                    : rpc_dispatch_add_ex(d, m[i].name, m[i].fn_ex, env, 0))
            return -1;
    if (rpc_methods_contract_register(d, env) || rpc_methods_proof_register(d, env)) return -1;
    return rpc_methods_attr_register(d, env);
}
