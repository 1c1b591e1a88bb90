/* Attribution JSON-RPC methods: single objects and paged lists, read through
 * chain/state/objects.h. A list is every object of one kind or the objects an
 * explorer index names (chain_attr_list); the cursor is the position of the
 * last item returned, so a page never skips or repeats entries however the
 * store grows in between. */
#include "rpc/methods/attr.h"

#include <stdlib.h>
#include <string.h>

#include "rpc/params.h"
#include "util/hex.h"

/* A cursor as clients send it: longer ones are refused before decoding. */
#define KEY_MAX 64

static const char *status_name(uint8_t s)
{
    switch (s) {
    case CHAIN_CONTRIB_PENDING: return "pending";
    case CHAIN_CONTRIB_ACCEPTED: return "accepted";
    case CHAIN_CONTRIB_REJECTED: return "rejected";
    default: return "unknown";
    }
}

const char *rpc_attr_role_name(uint8_t role)
{
    switch (role) {
    case CHAIN_ROLE_OWNER: return "owner";
    case CHAIN_ROLE_VALIDATOR: return "validator";
    case CHAIN_ROLE_CONTRIBUTOR: return "contributor";
    default: return "unknown";
    }
}

const char *rpc_attr_method_name(uint8_t method)
{
    switch (method) {
    case CHAIN_ATTR_GRADIENT: return "gradient";
    case CHAIN_ATTR_SUFFIX_ARRAY: return "suffix-array";
    case CHAIN_ATTR_OTHER: return "other";
    default: return "unknown";
    }
}

/* ---- shapes ---------------------------------------------------------- */

json_t *rpc_json_datanet(const chain_datanet *d)
{
    return json_pack("{s:I,s:o,s:s,s:o,s:s,s:o,s:b,s:I,s:I,s:I,s:I,s:I,s:I}", "id",
                     (json_int_t)d->id, "owner", rpc_json_addr(&d->owner), "name", d->name,
                     "metaHash", rpc_json_hex(d->meta_hash, 32), "metaUri", d->meta_uri, "bond",
                     rpc_json_u64str(d->bond), "review", d->review != 0, "height",
                     (json_int_t)d->height, "contributions", (json_int_t)d->contributions,
                     "accepted", (json_int_t)d->accepted, "rejected", (json_int_t)d->rejected,
                     "pending", (json_int_t)d->pending, "models", (json_int_t)d->models);
}

json_t *rpc_json_contribution(const chain_contribution *c)
{
    /* size and weight are chosen by users and may pass 2^63: decimal strings. */
    return json_pack("{s:I,s:I,s:o,s:o,s:o,s:s,s:s,s:o,s:o,s:I,s:I,s:o}", "id", (json_int_t)c->id,
                     "datanet", (json_int_t)c->datanet, "contributor",
                     rpc_json_addr(&c->contributor), "contentHash",
                     rpc_json_hex(c->content_hash, 32), "size", rpc_json_u64str(c->size), "uri",
                     c->uri, "status", status_name(c->status), "reason",
                     c->status == CHAIN_CONTRIB_REJECTED ? json_integer(c->reason) : json_null(),
                     "bond", rpc_json_u64str(c->bond), "height", (json_int_t)c->height, "timesUsed",
                     (json_int_t)c->times_used, "earned", rpc_json_u64str(c->earned));
}

static json_t *id_array(const uint64_t *ids, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_integer((json_int_t)ids[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *rpc_json_model(const chain_model *m)
{
    chain_addr att;
    chain_addr_from_pubkey(&att, m->attestor);
    return json_pack("{s:I,s:o,s:s,s:o,s:o,s:o,s:o,s:{s:i,s:i,s:i},s:I,s:I,s:o}", "id",
                     (json_int_t)m->id, "owner", rpc_json_addr(&m->owner), "name", m->name,
                     "datanets", id_array(m->datanets, m->ndatanets), "attestor",
                     rpc_json_hex(m->attestor, 32), "attestorAddress", rpc_json_addr(&att),
                     "rewardContract", rpc_json_addr(&m->reward_contract), "split", "owner",
                     (int)m->owner_bp, "validators", (int)m->validators_bp, "contributors",
                     (int)m->contributors_bp, "height", (json_int_t)m->height, "inferences",
                     (json_int_t)m->inferences, "fees", rpc_json_u64str(m->fees));
}

static json_t *payout_json(const chain_payout *p)
{
    return json_pack("{s:o,s:s,s:o,s:o}", "recipient", rpc_json_addr(&p->recipient), "role",
                     rpc_attr_role_name(p->role), "contribution",
                     p->role == CHAIN_ROLE_CONTRIBUTOR ? json_integer((json_int_t)p->contribution)
                                                       : json_null(),
                     "amount", rpc_json_u64str(p->amount));
}

json_t *rpc_json_record(const chain_record *r)
{
    json_t *entries = json_array(), *payouts = json_array();
    int oom = !entries || !payouts;
    for (uint32_t i = 0; !oom && i < r->nentries; i++)
        oom = json_array_append_new(entries,
                                    json_pack("{s:I,s:o,s:o}", "contribution",
                                              (json_int_t)r->entries[i].contribution, "weight",
                                              rpc_json_u64str(r->entries[i].weight), "contributor",
                                              rpc_json_addr(&r->entries[i].contributor)));
    for (uint32_t i = 0; !oom && i < r->npayouts; i++)
        oom = json_array_append_new(payouts, payout_json(&r->payouts[i]));
    if (oom) {
        json_decref(entries);
        json_decref(payouts);
        return NULL;
    }
    return json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:s,s:o,s:I,s:o,s:o,s:o,s:o}", "id",
                     (json_int_t)r->id, "model", (json_int_t)r->model, "attestor",
                     rpc_json_addr(&r->attestor), "owner", rpc_json_addr(&r->owner), "outputHash",
                     rpc_json_hex(r->output_hash, 32), "fee", rpc_json_u64str(r->fee), "method",
                     rpc_attr_method_name(r->method), "evidenceHash",
                     rpc_json_hex(r->evidence_hash, 32), "height", (json_int_t)r->height, "tx",
                     rpc_json_hex(r->tx, 32), "retained", rpc_json_u64str(r->retained), "entries",
                     entries, "payouts", payouts);
}

static int set(json_t *o, const char *k, json_t *v)
{
    return json_object_set_new(o, k, v) ? -1 : 0;
}

int rpc_json_attr_tx_body(json_t *o, const chain_tx *tx)
{
    static const chain_addr zero;
    int rc = 0;
    switch (tx->type) {
    case CHAIN_TX_DATANET_CREATE: {
        const chain_tx_datanet_create *b = &tx->body.datanet_create;
        rc = set(o, "name", json_string(chain_tx_str(b->name))) |
             set(o, "metaHash", rpc_json_hex(b->meta_hash, 32)) |
             set(o, "metaUri", json_string(chain_tx_str(b->meta_uri))) |
             set(o, "bond", rpc_json_u64str(b->bond)) | set(o, "review", json_boolean(b->review));
        break;
    }
    case CHAIN_TX_CONTRIBUTE: {
        const chain_tx_contribute *b = &tx->body.contribute;
        rc = set(o, "datanet", json_integer((json_int_t)b->datanet)) |
             set(o, "contentHash", rpc_json_hex(b->content_hash, 32)) |
             set(o, "size", rpc_json_u64str(b->size)) |
             set(o, "uri", json_string(chain_tx_str(b->uri)));
        break;
    }
    case CHAIN_TX_REVIEW: {
        const chain_tx_review *b = &tx->body.review;
        rc = set(o, "contribution", json_integer((json_int_t)b->contribution)) |
             set(o, "accept", json_boolean(b->accept)) | set(o, "reason", json_integer(b->reason));
        break;
    }
    case CHAIN_TX_MODEL_REGISTER: {
        const chain_tx_model_register *b = &tx->body.model_register;
        int dflt = memcmp(b->reward_contract.b, zero.b, CHAIN_ADDR_LEN) == 0;
        rc = set(o, "name", json_string(chain_tx_str(b->name))) |
             set(o, "datanets", id_array(b->datanets, b->ndatanets)) |
             set(o, "attestor", rpc_json_hex(b->attestor, 32)) |
             set(o, "rewardContract", dflt ? json_null() : rpc_json_addr(&b->reward_contract)) |
             set(o, "split",
                 json_pack("{s:i,s:i,s:i}", "owner", (int)b->owner_bp, "validators",
                           (int)b->validators_bp, "contributors", (int)b->contributors_bp));
        break;
    }
    case CHAIN_TX_ATTRIBUTE: {
        const chain_tx_attribute *b = &tx->body.attribute;
        json_t *es = json_array();
        for (uint32_t i = 0; es && i < b->nentries; i++)
            if (json_array_append_new(es,
                                      json_pack("{s:I,s:o}", "contribution",
                                                (json_int_t)b->entries[i].contribution, "weight",
                                                rpc_json_u64str(b->entries[i].weight)))) {
                json_decref(es);
                es = NULL;
            }
        rc = set(o, "model", json_integer((json_int_t)b->model)) |
             set(o, "outputHash", rpc_json_hex(b->output_hash, 32)) |
             set(o, "fee", rpc_json_u64str(b->fee)) |
             set(o, "method", json_string(rpc_attr_method_name(b->method))) |
             set(o, "evidenceHash", rpc_json_hex(b->evidence_hash, 32)) | set(o, "entries", es);
        break;
    }
    default: break;
    }
    return rc ? -1 : 0;
}

/* ---- loading --------------------------------------------------------- */

/* What a list row of records shows without another call (docs/rpc.md,
 * "attribution_list"): the model's name, the block's time, the payout count.
 * The last model and block read are kept: a page's records often share them. */
typedef struct record_ctx {
    uint64_t model, height;
    char name[CHAIN_NAME_MAX + 1];
    json_t *time; /* null when the block cannot be read */
    int have_model, have_height;
} record_ctx;

static json_t *record_json(rpc_env *env, record_ctx *rc, const chain_record *r)
{
    json_t *o = rpc_json_record(r);
    if (!o) return NULL;
    util_err ue = {0};
    if (!rc->have_model || rc->model != r->model) {
        chain_model m;
        rc->name[0] = 0;
        if (chain_store_get_model(env->store, r->model, &m, &ue) == 0)
            memcpy(rc->name, m.name, sizeof rc->name);
        rc->model = r->model;
        rc->have_model = 1;
    }
    if (!rc->have_height || rc->height != r->height) {
        uint8_t id[32];
        chain_header h;
        uint64_t ntx;
        size_t size;
        json_decref(rc->time);
        rc->time = json_null();
        if (chain_store_block_id_at(env->store, r->height, id, &ue) == 0 &&
            chain_store_get_block_summary(env->store, id, &h, &ntx, &size, &ue) == 0) {
            json_decref(rc->time);
            rc->time = json_integer((json_int_t)h.time_ms);
        }
        rc->height = r->height;
        rc->have_height = 1;
    }
    if (set(o, "modelName", json_string(rc->name)) || set(o, "timeMs", json_incref(rc->time)) ||
        set(o, "payoutCount", json_integer((json_int_t)r->npayouts))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The JSON of an object read by chain/state/objects.h. */
static json_t *obj_json(rpc_env *env, record_ctx *rc, const chain_attr_obj *o)
{
    switch (o->kind) {
    case CHAIN_SK_DATANET: return rpc_json_datanet(&o->u.datanet);
    case CHAIN_SK_CONTRIB: return rpc_json_contribution(&o->u.contribution);
    case CHAIN_SK_MODEL: return rpc_json_model(&o->u.model);
    case CHAIN_SK_RECORD: return record_json(env, rc, &o->u.record);
    default: return NULL;
    }
}

/* The object, or NULL with *e set: -32001 when absent. */
static json_t *get_one(rpc_env *env, char kind, uint64_t id, rpc_error *e)
{
    chain_attr_obj o;
    util_err ue = {0};
    int rc = chain_store_get_attr(env->store, kind, id, &o, &ue);
    if (rc == UTIL_ENOTFOUND) return rpc_fail(e, RPC_NOT_FOUND, NULL, "%s", ue.msg);
    if (rc) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
    record_ctx rctx = {0};
    json_t *out = obj_json(env, &rctx, &o);
    json_decref(rctx.time);
    chain_attr_obj_free(&o);
    return out ? out : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}

static json_t *get_method(void *ctx, json_t *params, rpc_error *e, char kind)
{
    uint64_t id;
    if (rpc_param_count(params, 1, 1, e) || rpc_param_u64(params, 0, "id", &id, e)) return NULL;
    return get_one(ctx, kind, id, e);
}

static json_t *m_datanet_get(void *ctx, json_t *params, rpc_error *e)
{
    return get_method(ctx, params, e, CHAIN_SK_DATANET);
}

static json_t *m_contribution_get(void *ctx, json_t *params, rpc_error *e)
{
    return get_method(ctx, params, e, CHAIN_SK_CONTRIB);
}

static json_t *m_model_get(void *ctx, json_t *params, rpc_error *e)
{
    return get_method(ctx, params, e, CHAIN_SK_MODEL);
}

static json_t *m_attribution_get(void *ctx, json_t *params, rpc_error *e)
{
    return get_method(ctx, params, e, CHAIN_SK_RECORD);
}

/* ---- paged lists ----------------------------------------------------- */

typedef struct list_req {
    chain_attr_list list;
    uint8_t cursor[CHAIN_ATTR_CURSOR_MAX];
    size_t clen; /* 0: from the start */
    size_t limit;
    int desc;
} list_req;

typedef struct pager {
    rpc_env *env;
    record_ctx rc;
    json_t *items;
    uint8_t last[CHAIN_ATTR_CURSOR_MAX];
    size_t lastlen;
    int failed;
} pager;

static int page_visit(void *ctx, const chain_attr_obj *o, const uint8_t *cursor, size_t clen)
{
    pager *p = ctx;
    json_t *item = obj_json(p->env, &p->rc, o);
    if (!item || json_array_append_new(p->items, item) || clen > sizeof p->last) {
        p->failed = 1;
        return 1;
    }
    memcpy(p->last, cursor, clen);
    p->lastlen = clen;
    return 0;
}

static json_t *run_list(rpc_env *env, const list_req *q, rpc_error *e)
{
    pager p = {.env = env, .items = json_array()};
    if (!p.items) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    util_err ue = {0};
    int more = 0;
    int rc = chain_store_attr_list(env->store, &q->list, q->clen ? q->cursor : NULL, q->clen,
                                   q->desc, q->limit, page_visit, &p, &more, &ue);
    json_decref(p.rc.time);
    if (rc || p.failed) {
        json_decref(p.items);
        if (rc) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    }
    json_t *next = json_null();
    if (more) {
        char hex[2 * CHAIN_ATTR_CURSOR_MAX + 1];
        util_hex_encode(hex, p.last, p.lastlen);
        next = json_string(hex);
    }
    return json_pack("{s:o,s:o}", "items", p.items, "nextCursor", next);
}

/* cursor, limit and order at params[i], [i+1], [i+2]; each may be null or absent. */
static int page_params(json_t *params, size_t i, list_req *q, rpc_error *e)
{
    q->limit = RPC_ATTR_LIMIT_DEFAULT;
    q->clen = 0;
    q->desc = 0;
    if (rpc_param_present(params, i)) {
        const char *c;
        uint8_t *raw = NULL;
        size_t n = 0;
        if (rpc_param_str(params, i, "cursor", 2 * KEY_MAX, &c, e)) return -1;
        if (util_hex_decode_alloc(c, KEY_MAX, &raw, &n) ||
            !chain_attr_list_cursor_ok(&q->list, raw, n)) {
            free(raw);
            rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                     "param %zu (cursor): not a cursor of this list (use the nextCursor of the "
                     "previous page)",
                     i);
            return -1;
        }
        memcpy(q->cursor, raw, n);
        q->clen = n;
        free(raw);
    }
    if (rpc_param_present(params, i + 1)) {
        uint64_t l;
        if (rpc_param_u64(params, i + 1, "limit", &l, e)) return -1;
        if (l < 1 || l > RPC_ATTR_LIMIT_MAX) {
            rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param %zu (limit): must be 1..%d", i + 1,
                     RPC_ATTR_LIMIT_MAX);
            return -1;
        }
        q->limit = (size_t)l;
    }
    if (rpc_param_present(params, i + 2)) {
        const char *o;
        if (rpc_param_str(params, i + 2, "order", 8, &o, e)) return -1;
        if (strcmp(o, "desc") == 0) {
            q->desc = 1;
        } else if (strcmp(o, "asc") != 0) {
            rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param %zu (order): \"asc\" or \"desc\"", i + 2);
            return -1;
        }
    }
    return 0;
}

/* A list filter: params[0], an object with one of the keys named in keys
 * (NULL-terminated; a key starting with '@' is an address, else an id). With
 * optional, null / absent / {} is accepted and *which is -1. */
static int parse_filter(json_t *params, const char *const *keys, int optional, int *which,
                        uint64_t *id, chain_addr *addr, rpc_error *e)
{
    *which = -1;
    json_t *f = json_array_get(params, 0);
    if ((!f || json_is_null(f)) && optional) return 0;
    if (!json_is_object(f)) goto bad;
    if (json_object_size(f) == 0 && optional) return 0;
    if (json_object_size(f) != 1) goto bad;
    for (int i = 0; keys[i]; i++) {
        const char *name = keys[i][0] == '@' ? keys[i] + 1 : keys[i];
        json_t *v = json_object_get(f, name);
        if (!v) continue;
        json_t *arr = json_pack("[O]", v);
        if (!arr) {
            rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
            return -1;
        }
        char pname[32];
        snprintf(pname, sizeof pname, "filter.%s", name);
        int rc = keys[i][0] == '@' ? rpc_param_addr(arr, 0, pname, addr, e)
                                   : rpc_param_u64(arr, 0, pname, id, e);
        json_decref(arr);
        if (rc) return -1;
        *which = i;
        return 0;
    }
bad:;
    char list[128] = "";
    for (int i = 0; keys[i]; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s{\"%s\": ...}", i ? " or " : "",
                 keys[i][0] == '@' ? keys[i] + 1 : keys[i]);
    }
    rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 0 (filter): expected %s%s", list,
             optional ? " or null" : "");
    return -1;
}

/* -32001 unless the object exists, so a typo in a filter is not an empty list. */
static int must_exist(rpc_env *env, char kind, uint64_t id, rpc_error *e)
{
    chain_attr_obj o;
    util_err ue = {0};
    int rc = chain_store_get_attr(env->store, kind, id, &o, &ue);
    chain_attr_obj_free(&o);
    if (rc == UTIL_ENOTFOUND)
        rpc_fail(e, RPC_NOT_FOUND, NULL, "%s", ue.msg);
    else if (rc)
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
    return rc ? -1 : 0;
}

static json_t *m_datanet_list(void *ctx, json_t *params, rpc_error *e)
{
    list_req q;
    chain_attr_list_all(&q.list, CHAIN_SK_DATANET);
    if (rpc_param_count(params, 0, 3, e) || page_params(params, 0, &q, e)) return NULL;
    return run_list(ctx, &q, e);
}

static json_t *m_contribution_list(void *ctx, json_t *params, rpc_error *e)
{
    static const char *const keys[] = {"datanet", "@contributor", NULL};
    list_req q;
    int which;
    uint64_t id = 0;
    chain_addr a;
    if (rpc_param_count(params, 0, 4, e) || parse_filter(params, keys, 1, &which, &id, &a, e))
        return NULL;
    if (which == 0) {
        if (must_exist(ctx, CHAIN_SK_DATANET, id, e)) return NULL;
        chain_attr_list_by_id(&q.list, CHAIN_IX_CONTRIB_BY_DATANET, id);
    } else if (which == 1) {
        chain_attr_list_by_addr(&q.list, CHAIN_IX_CONTRIB_BY_CONTRIBUTOR, &a);
    } else {
        /* Every contribution: ids are given in order, so the state entries
         * in key order are the list, no index needed. */
        chain_attr_list_all(&q.list, CHAIN_SK_CONTRIB);
    }
    if (page_params(params, 1, &q, e)) return NULL;
    return run_list(ctx, &q, e);
}

static json_t *m_model_list(void *ctx, json_t *params, rpc_error *e)
{
    static const char *const keys[] = {"datanet", "@owner", NULL};
    list_req q;
    int which;
    uint64_t id = 0;
    chain_addr a;
    if (rpc_param_count(params, 0, 4, e) || parse_filter(params, keys, 1, &which, &id, &a, e))
        return NULL;
    if (which == 0) {
        if (must_exist(ctx, CHAIN_SK_DATANET, id, e)) return NULL;
        chain_attr_list_by_id(&q.list, CHAIN_IX_MODEL_BY_DATANET, id);
    } else if (which == 1) {
        chain_attr_list_by_addr(&q.list, CHAIN_IX_MODEL_BY_OWNER, &a);
    } else {
        chain_attr_list_all(&q.list, CHAIN_SK_MODEL);
    }
    if (page_params(params, 1, &q, e)) return NULL;
    return run_list(ctx, &q, e);
}

static json_t *m_attribution_list(void *ctx, json_t *params, rpc_error *e)
{
    static const char *const keys[] = {"model", "contribution", NULL};
    list_req q;
    int which;
    uint64_t id = 0;
    if (rpc_param_count(params, 0, 4, e) || parse_filter(params, keys, 1, &which, &id, NULL, e))
        return NULL;
    if (which < 0) {
        /* Every record, the front page's "latest records" in desc order. */
        chain_attr_list_all(&q.list, CHAIN_SK_RECORD);
    } else {
        if (must_exist(ctx, which == 0 ? CHAIN_SK_MODEL : CHAIN_SK_CONTRIB, id, e)) return NULL;
        chain_attr_list_by_id(
            &q.list, which == 0 ? CHAIN_IX_RECORD_BY_MODEL : CHAIN_IX_RECORD_BY_CONTRIB, id);
    }
    if (page_params(params, 1, &q, e)) return NULL;
    return run_list(ctx, &q, e);
}

static json_t *m_contributor_impact(void *ctx, json_t *params, rpc_error *e)
{
    return rpc_attr_impact(ctx, params, e);
}

int rpc_methods_attr_register(rpc_dispatch *d, rpc_env *env)
{
    static const struct {
        const char *name;
        rpc_method_fn fn;
    } m[] = {
        {"datanet_get", m_datanet_get},
        {"datanet_list", m_datanet_list},
        {"contribution_get", m_contribution_get},
        {"contribution_list", m_contribution_list},
        {"model_get", m_model_get},
        {"model_list", m_model_list},
        {"attribution_get", m_attribution_get},
        {"attribution_list", m_attribution_list},
        {"contributor_impact", m_contributor_impact},
        {"model_fees", rpc_attr_model_fees},
        {"contributor_top", rpc_attr_top},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (rpc_dispatch_add(d, m[i].name, m[i].fn, env)) return -1;
    return rpc_attr_describe(d);
}
