/* contributor_impact: what an address contributed, which models used it and
 * what it earned.
 *
 * Exact totals come from state (the contributor's totals and each
 * contribution's times used / earned). The per-model breakdown comes from the
 * earnings-by-model index, exact, for up to RPC_ATTR_IMPACT_MODELS_MAX models
 * ("modelsTruncated"). The earnings by role and the recent payouts are read
 * from the address's payout index, newest first, up to
 * RPC_ATTR_IMPACT_SCAN_MAX payouts ("payoutsTruncated"). The per-datanet
 * breakdown reads up to the same number of the address's contributions
 * ("contributionsTruncated"). Earnings over time, when asked for, are a
 * SERIES (rpc_attr_series). */
#include <stdlib.h>
#include <string.h>

#include "chain/state/attr_ix.h"
#include "rpc/methods/attr.h"
#include "rpc/params.h"

#define IMPACT_RECENT_MAX 100

typedef struct payout_row {
    uint64_t record, model, contribution, amount;
    uint8_t role;
} payout_row;

typedef struct contrib_row {
    uint64_t datanet, times_used, earned;
    uint8_t status;
} contrib_row;

typedef struct scan {
    size_t n, cap;
    int more, bad;
    void *rows;
    size_t rowsize;
} scan;

static int add_row(scan *s, const void *row)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        void *p = realloc(s->rows, cap * s->rowsize);
        if (!p) return -1;
        s->rows = p;
        s->cap = cap;
    }
    memcpy((uint8_t *)s->rows + s->n * s->rowsize, row, s->rowsize);
    s->n++;
    return 0;
}

static int visit_payout(void *ctx, const chain_payout_entry *p)
{
    scan *s = ctx;
    payout_row r = {.record = p->record,
                    .model = p->model,
                    .contribution = p->contribution,
                    .role = p->role,
                    .amount = p->amount};
    if (add_row(s, &r)) {
        s->bad = 1;
        return 1;
    }
    return 0;
}

static int visit_contrib(void *ctx, const chain_attr_obj *o, const uint8_t *cursor, size_t clen)
{
    (void)cursor, (void)clen;
    scan *s = ctx;
    const chain_contribution *c = &o->u.contribution;
    contrib_row r = {.datanet = c->datanet,
                     .times_used = c->times_used,
                     .earned = c->earned,
                     .status = c->status};
    if (add_row(s, &r)) {
        s->bad = 1;
        return 1;
    }
    return 0;
}

static int cmp_contrib_datanet(const void *a, const void *b)
{
    const contrib_row *x = a, *y = b;
    return x->datanet < y->datanet ? -1 : x->datanet > y->datanet;
}

/* The name of a model (is_model) or datanet, "" when it cannot be read. */
static void name_of(rpc_env *env, int is_model, uint64_t id, char out[CHAIN_NAME_MAX + 1])
{
    util_err ue = {0};
    out[0] = 0;
    if (is_model) {
        chain_model m;
        if (chain_store_get_model(env->store, id, &m, &ue) == 0) memcpy(out, m.name, sizeof m.name);
    } else {
        chain_datanet d;
        if (chain_store_get_datanet(env->store, id, &d, &ue) == 0)
            memcpy(out, d.name, sizeof d.name);
    }
}

/* Saturating: a breakdown must never wrap around. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static void role_sums(const payout_row *rows, size_t n, uint64_t role_sum[3])
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].role <= CHAIN_ROLE_CONTRIBUTOR)
            role_sum[rows[i].role] = sat_add(role_sum[rows[i].role], rows[i].amount);
}

typedef struct model_rows {
    rpc_env *env;
    json_t *out;
    int failed;
} model_rows;

static int visit_model(void *ctx, const chain_model_earnings *m)
{
    model_rows *r = ctx;
    char name[CHAIN_NAME_MAX + 1];
    name_of(r->env, 1, m->model, name);
    if (json_array_append_new(
            r->out, json_pack("{s:I,s:s,s:I,s:I,s:o}", "model", (json_int_t)m->model, "name", name,
                              "records", (json_int_t)m->records, "payouts", (json_int_t)m->payouts,
                              "earned", rpc_json_u64str(m->earned)))) {
        r->failed = 1;
        return 1;
    }
    return 0;
}

/* Exact, from the earnings-by-model index (chain/state/attr_ix.h). */
static json_t *by_model(rpc_env *env, const chain_addr *a, int *more, util_err *ue, int *rc)
{
    model_rows r = {.env = env, .out = json_array()};
    if (!r.out) return NULL;
    *rc = chain_store_earnings_by_model(env->store, a, RPC_ATTR_IMPACT_MODELS_MAX, visit_model, &r,
                                        more, ue);
    if (*rc || r.failed) {
        json_decref(r.out);
        return NULL;
    }
    return r.out;
}

static json_t *by_datanet(rpc_env *env, contrib_row *rows, size_t n)
{
    json_t *out = json_array();
    if (!out) return NULL;
    if (n) qsort(rows, n, sizeof *rows, cmp_contrib_datanet);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t cnt[3] = {0, 0, 0}, used = 0, earned = 0;
        for (; j < n && rows[j].datanet == rows[i].datanet; j++) {
            if (rows[j].status <= CHAIN_CONTRIB_REJECTED) cnt[rows[j].status]++;
            used = sat_add(used, rows[j].times_used);
            earned = sat_add(earned, rows[j].earned);
        }
        char name[CHAIN_NAME_MAX + 1];
        name_of(env, 0, rows[i].datanet, name);
        if (json_array_append_new(out,
                                  json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "datanet",
                                            (json_int_t)rows[i].datanet, "name", name,
                                            "contributions", (json_int_t)(j - i), "accepted",
                                            (json_int_t)cnt[CHAIN_CONTRIB_ACCEPTED], "rejected",
                                            (json_int_t)cnt[CHAIN_CONTRIB_REJECTED], "pending",
                                            (json_int_t)cnt[CHAIN_CONTRIB_PENDING], "timesUsed",
                                            (json_int_t)used, "earned", rpc_json_u64str(earned)))) {
            json_decref(out);
            return NULL;
        }
        i = j;
    }
    return out;
}

static json_t *recent(const payout_row *rows, size_t n, size_t max)
{
    json_t *out = json_array();
    for (size_t i = 0; out && i < n && i < max; i++) {
        const payout_row *r = &rows[i];
        if (json_array_append_new(out, json_pack("{s:I,s:I,s:o,s:s,s:o}", "record",
                                                 (json_int_t)r->record, "model",
                                                 (json_int_t)r->model, "contribution",
                                                 r->role == CHAIN_ROLE_CONTRIBUTOR
                                                     ? json_integer((json_int_t)r->contribution)
                                                     : json_null(),
                                                 "role", rpc_attr_role_name(r->role), "amount",
                                                 rpc_json_u64str(r->amount)))) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *rpc_attr_impact(rpc_env *env, json_t *params, rpc_error *e)
{
    chain_addr a;
    uint64_t nrecent = RPC_ATTR_IMPACT_RECENT_DEFAULT;
    if (rpc_param_count(params, 1, 3, e) || rpc_param_addr(params, 0, "address", &a, e))
        return NULL;
    if (rpc_param_present(params, 1)) {
        if (rpc_param_u64(params, 1, "recent", &nrecent, e)) return NULL;
        if (nrecent > IMPACT_RECENT_MAX)
            return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 1 (recent): must be 0..%d",
                            IMPACT_RECENT_MAX);
    }

    /* Exact totals, from state. */
    chain_contributor ct;
    util_err ue = {0};
    if (chain_store_get_contributor(env->store, &a, &ct, &ue))
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "contributor totals: %s", ue.msg);

    json_t *out = NULL, *jm = NULL, *jd = NULL, *jr = NULL, *js = NULL;
    if (rpc_param_present(params, 2) &&
        !(js = rpc_attr_series(env, params, 2, CHAIN_IX_EARN_BY_DAY, CHAIN_IX_EARN_BY_BLOCK, a.b,
                               CHAIN_ADDR_LEN, e)))
        return NULL;
    scan ps = {.rowsize = sizeof(payout_row)}, cs = {.rowsize = sizeof(contrib_row)};
    /* Newest first. */
    int rc = chain_store_payouts_of(env->store, &a, RPC_ATTR_IMPACT_SCAN_MAX, visit_payout, &ps,
                                    &ps.more, &ue);
    if (!rc && !ps.bad) {
        chain_attr_list q;
        chain_attr_list_by_addr(&q, CHAIN_IX_CONTRIB_BY_CONTRIBUTOR, &a);
        rc = chain_store_attr_list(env->store, &q, NULL, 0, 0, RPC_ATTR_IMPACT_SCAN_MAX,
                                   visit_contrib, &cs, &cs.more, &ue);
    }
    if (rc) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
        goto out;
    }
    if (ps.bad || cs.bad) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        goto out;
    }

    uint64_t role_sum[3] = {0, 0, 0};
    int models_more = 0;
    role_sums(ps.rows, ps.n, role_sum);
    jr = recent(ps.rows, ps.n, (size_t)nrecent);
    jm = by_model(env, &a, &models_more, &ue, &rc);
    jd = by_datanet(env, cs.rows, cs.n);
    if (rc) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
        goto out;
    }
    if (!jr || !jm || !jd) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        goto out;
    }
    uint64_t pending = ct.contributions - ct.accepted - ct.rejected;
    out = json_pack(
        "{s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:{s:o,s:o,s:o},s:o,s:o,s:o,s:I,s:b,s:b,s:b}", "address",
        rpc_json_addr(&a), "earned", rpc_json_u64str(ct.earned), "contributions",
        (json_int_t)ct.contributions, "accepted", (json_int_t)ct.accepted, "rejected",
        (json_int_t)ct.rejected, "pending", (json_int_t)pending, "payouts", (json_int_t)ct.payouts,
        "scannedByRole", "contributor", rpc_json_u64str(role_sum[CHAIN_ROLE_CONTRIBUTOR]), "owner",
        rpc_json_u64str(role_sum[CHAIN_ROLE_OWNER]), "validator",
        rpc_json_u64str(role_sum[CHAIN_ROLE_VALIDATOR]), "byModel", jm, "byDatanet", jd,
        "recentPayouts", jr, "scanLimit", (json_int_t)RPC_ATTR_IMPACT_SCAN_MAX, "payoutsTruncated",
        ps.more, "contributionsTruncated", cs.more, "modelsTruncated", models_more);
    jm = jd = jr = NULL; /* stolen by json_pack, also on its failure */
    if (!out) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    } else if (js) {
        if (json_object_set_new(out, "earnings", js)) {
            json_decref(out);
            out = rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        }
        js = NULL;
    }
out:
    json_decref(js);
    json_decref(jm);
    json_decref(jd);
    json_decref(jr);
    free(ps.rows);
    free(cs.rows);
    return out;
}
