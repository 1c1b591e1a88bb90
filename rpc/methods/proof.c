/* state_getProof: any state object a user sees (an account, a datanet, a
 * contribution, a model, an attribution record with its payouts, a
 * contributor's totals), or its absence, proven against the state root of a
 * committed header, with that header and the commit that finalised it.
 * Shapes in docs/rpc.md; how to check an answer in docs/proofs.md. */
#include <stdlib.h>
#include <string.h>

#include "chain/state/objects.h"
#include "rpc/methods/attr.h"
#include "rpc/methods/methods.h"
#include "rpc/params.h"

/* The object named by the first parameter. */
typedef struct target {
    const char *kind; /* "account", "datanet", ..., "contributorTotals" */
    char sk;          /* its state key kind (chain/state/dbkey.h) */
    uint64_t id;
    chain_addr addr;
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN];
    size_t klen;
} target;

static const struct {
    const char *name;
    char sk;
    int by_addr;
} KINDS[] = {
    {"account", CHAIN_SK_ACCOUNT, 1},      {"datanet", CHAIN_SK_DATANET, 0},
    {"contribution", CHAIN_SK_CONTRIB, 0}, {"model", CHAIN_SK_MODEL, 0},
    {"record", CHAIN_SK_RECORD, 0},        {"contributorTotals", CHAIN_SK_CONTRIBUTOR, 1},
};

static int parse_target(json_t *params, target *t, rpc_error *e)
{
    memset(t, 0, sizeof *t);
    json_t *p0 = json_array_get(params, 0);
    if (json_is_string(p0)) {
        /* The first form, [address]: an account. */
        if (rpc_param_addr(params, 0, "address", &t->addr, e)) return -1;
        t->kind = "account";
        t->sk = CHAIN_SK_ACCOUNT;
    } else {
        if (!json_is_object(p0) || json_object_size(p0) != 1) {
            rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                     "param 0 (object): expected an address or one of {\"account\": address}, "
                     "{\"datanet\": id}, {\"contribution\": id}, {\"model\": id}, {\"record\": "
                     "id}, {\"contributorTotals\": address}");
            return -1;
        }
        const char *name = json_object_iter_key(json_object_iter(p0));
        json_t *val = json_object_iter_value(json_object_iter(p0));
        size_t i = 0;
        while (i < sizeof KINDS / sizeof KINDS[0] && strcmp(KINDS[i].name, name) != 0)
            i++;
        if (i == sizeof KINDS / sizeof KINDS[0]) {
            rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                     "param 0 (object): unknown kind \"%s\" (account, datanet, contribution, "
                     "model, record or contributorTotals)",
                     name);
            return -1;
        }
        t->kind = KINDS[i].name;
        t->sk = KINDS[i].sk;
        /* The member's value, checked by the usual parameter readers. */
        json_t *one = json_pack("[O]", val);
        if (!one) {
            rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
            return -1;
        }
        int rc = KINDS[i].by_addr ? rpc_param_addr(one, 0, name, &t->addr, e)
                                  : rpc_param_u64(one, 0, name, &t->id, e);
        json_decref(one);
        if (rc) return -1;
    }
    if (t->sk == CHAIN_SK_ACCOUNT) {
        chain_account_key(t->key, &t->addr);
        t->klen = CHAIN_ACCOUNT_KEY_LEN;
    } else if (t->sk == CHAIN_SK_CONTRIBUTOR) {
        t->klen = chain_key_contributor(t->key, &t->addr);
    } else {
        t->klen = chain_key_id(t->key, t->sk, t->id);
    }
    return 0;
}

/* The decoded value under the kind's name, as the kind's get method shows
 * it; NULL with *e set when the stored value does not decode. */
static json_t *decoded(const target *t, const uint8_t *v, size_t n, rpc_error *e)
{
    json_t *out = NULL;
    int bad = 0;
    switch (t->sk) {
    case CHAIN_SK_ACCOUNT: {
        chain_account a;
        if (chain_account_decode(&a, v, n)) {
            bad = 1;
            break;
        }
        out = json_pack("{s:o,s:I}", "balance", rpc_json_u64str(a.balance), "nonce",
                        (json_int_t)a.nonce);
        break;
    }
    case CHAIN_SK_CONTRIBUTOR: {
        chain_contributor c;
        if (chain_contributor_decode(&c, v, n)) {
            bad = 1;
            break;
        }
        out = json_pack("{s:o,s:I,s:I,s:I,s:I,s:I}", "earned", rpc_json_u64str(c.earned),
                        "contributions", (json_int_t)c.contributions, "accepted",
                        (json_int_t)c.accepted, "rejected", (json_int_t)c.rejected, "pending",
                        (json_int_t)(c.contributions - c.accepted - c.rejected), "payouts",
                        (json_int_t)c.payouts);
        break;
    }
    case CHAIN_SK_DATANET: {
        chain_datanet d;
        if (chain_datanet_decode(&d, v, n)) {
            bad = 1;
            break;
        }
        out = rpc_json_datanet(&d);
        break;
    }
    case CHAIN_SK_CONTRIB: {
        chain_contribution c;
        if (chain_contribution_decode(&c, v, n)) {
            bad = 1;
            break;
        }
        out = rpc_json_contribution(&c);
        break;
    }
    case CHAIN_SK_MODEL: {
        chain_model m;
        if (chain_model_decode(&m, v, n)) {
            bad = 1;
            break;
        }
        out = rpc_json_model(&m);
        break;
    }
    case CHAIN_SK_RECORD: {
        chain_record r;
        if (chain_record_decode(&r, v, n)) {
            bad = 1;
            break;
        }
        out = rpc_json_record(&r);
        chain_record_free(&r);
        break;
    }
    default: bad = 1; break;
    }
    if (bad) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "stored %s does not decode", t->kind);
    return out ? out : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}

static json_t *fail_err(rpc_error *e, const util_err *ue)
{
    if (ue->code == UTIL_ENOTFOUND) return rpc_fail(e, RPC_NOT_FOUND, NULL, "%s", ue->msg);
    return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue->msg);
}

/* The optional second parameter: {"height": H} or null. */
static int parse_height(json_t *params, uint64_t head, uint64_t *height, rpc_error *e)
{
    *height = head;
    if (!rpc_param_present(params, 1)) return 0;
    json_t *p1 = json_array_get(params, 1);
    if (!json_is_object(p1)) {
        rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 1 (options): expected {\"height\": H}");
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(p1, k, v)
    {
        if (strcmp(k, "height") != 0) {
            rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 1 (options): unknown option \"%s\"", k);
            return -1;
        }
    }
    json_t *jh = json_object_get(p1, "height");
    if (!jh || json_is_null(jh)) return 0;
    json_t *one = json_pack("[O]", jh);
    if (!one) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        return -1;
    }
    int rc = rpc_param_u64(one, 0, "height", height, e);
    json_decref(one);
    if (rc) return -1;
    if (*height > head) {
        rpc_fail(e, RPC_NOT_FOUND, NULL, "no block at height %llu: the head is %llu",
                 (unsigned long long)*height, (unsigned long long)head);
        return -1;
    }
    return 0;
}

static json_t *m_get_proof(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    target t;
    uint64_t height;
    if (rpc_param_count(params, 1, 2, e) || parse_target(params, &t, e) ||
        parse_height(params, chain_store_height(env->store), &height, e))
        return NULL;

    /* The header is read from the block at that height, never from the
     * moving head, so header, commit and proof are of one block. */
    util_err ue = {0};
    uint8_t hid[32];
    chain_header h;
    uint64_t ntx;
    size_t bsize;
    if (chain_store_block_id_at(env->store, height, hid, &ue) ||
        chain_store_get_block_summary(env->store, hid, &h, &ntx, &bsize, &ue))
        return fail_err(e, &ue);
    /* The commit that finalised it: with it a client checks the header
     * against the validator set instead of trusting this node for it.
     * Block 0 has none (no one votes on it): its stored commit is empty. */
    chain_commit commit;
    if (chain_store_get_commit(env->store, height, &commit, &ue)) return fail_err(e, &ue);

    chain_state_proof *sp = malloc(sizeof *sp); /* about 8 KiB of siblings */
    if (!sp) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    json_t *out = NULL, *obj = NULL;
    util_buf pb, hb, cb;
    util_buf_init(&pb);
    util_buf_init(&hb);
    util_buf_init(&cb);
    int rc = chain_store_prove_at(env->store, t.key, t.klen, height, h.state_root, sp, &ue);
    if (rc == UTIL_ENOTFOUND) {
        rpc_fail(e, RPC_UNAVAILABLE, json_pack("{s:s}", "reason", "value_not_kept"),
                 "%s at height %llu: %s", t.kind, (unsigned long long)height, ue.msg);
        goto out;
    }
    if (rc) {
        fail_err(e, &ue);
        goto out;
    }
    if (chain_smt_proof_encode(&sp->proof, &pb) || chain_header_encode(&h, &hb) ||
        chain_commit_encode(&commit, &cb)) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        goto out;
    }
    obj = sp->exists ? decoded(&t, sp->value, sp->vlen, e) : json_null();
    if (!obj) goto out;
    out = json_pack("{s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "kind", t.kind, "height",
                    (json_int_t)height, "stateKey", rpc_json_hex(t.key, t.klen), "path",
                    rpc_json_hex(sp->path, 32), "value",
                    sp->exists ? rpc_json_hex(sp->value, sp->vlen) : json_null(), "proof",
                    rpc_json_hex(pb.data, pb.len), "header", rpc_json_header(&h), "headerRaw",
                    rpc_json_hex(hb.data, hb.len), "headerHash", rpc_json_hex(hid, 32), "commit",
                    rpc_json_commit(&commit), "commitRaw", rpc_json_hex(cb.data, cb.len));
    if (out && (json_object_set_new(out, t.kind, obj) ||
                (t.sk == CHAIN_SK_ACCOUNT || t.sk == CHAIN_SK_CONTRIBUTOR
                     ? json_object_set_new(out, "address", rpc_json_addr(&t.addr))
                     : json_object_set_new(out, "id", json_integer((json_int_t)t.id))))) {
        json_decref(out);
        out = NULL;
    } else if (!out) {
        json_decref(obj);
    }
    obj = NULL;
    if (!out) rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
out:
    json_decref(obj);
    util_buf_free(&pb);
    util_buf_free(&hb);
    util_buf_free(&cb);
    chain_state_proof_free(sp);
    free(sp);
    return out;
}

int rpc_methods_proof_register(rpc_dispatch *d, rpc_env *env)
{
    return rpc_dispatch_add(d, "state_getProof", m_get_proof, env);
}
