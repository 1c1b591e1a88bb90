/* contributor_impact: what an address contributed, which models used it and
 * what it earned.
 *
 * Exact totals come from state (the contributor's totals and each
 * contribution's times used / earned). The per-model breakdown has no state
 * of its own: it is summed from the address's payout index, newest first, up
 * to RPC_ATTR_IMPACT_SCAN_MAX payouts; the answer says when older payouts were
 * left out ("payoutsTruncated"). The per-datanet breakdown reads up to the
 * same number of the address's contributions ("contributionsTruncated"). */
#include <stdlib.h>
#include <string.h>

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
    size_t plen, n, cap;
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

/* CHAIN_IX_PAYOUT_BY_RECIPIENT: addr | record u64be | seq u16be -> model u64le |
 * contribution u64le | role u8 | amount u64le */
static int visit_payout(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    scan *s = ctx;
    if (klen != s->plen + 10 || vlen != 25) return 0;
    if (s->n == RPC_ATTR_IMPACT_SCAN_MAX) {
        s->more = 1;
        return 1;
    }
    payout_row r = {.record = util_get_u64be(key + s->plen),
                    .model = util_get_u64le(val),
                    .contribution = util_get_u64le(val + 8),
                    .role = val[16],
                    .amount = util_get_u64le(val + 17)};
    if (add_row(s, &r)) {
        s->bad = 1;
        return 1;
    }
    return 0;
}

typedef struct contrib_scan {
    scan s;
    rpc_env *env;
    rpc_error *e;
} contrib_scan;

/* CHAIN_IX_CONTRIB_BY_CONTRIBUTOR: addr | contribution u64be -> "" */
static int visit_contrib(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                         size_t vlen)
{
    (void)val, (void)vlen;
    contrib_scan *cs = ctx;
    if (klen != cs->s.plen + 8) return 0;
    if (cs->s.n == RPC_ATTR_IMPACT_SCAN_MAX) {
        cs->s.more = 1;
        return 1;
    }
    uint64_t id = util_get_u64be(key + cs->s.plen);
    uint8_t *v;
    size_t n;
    chain_contribution c;
    int rc = rpc_attr_load(cs->env, CHAIN_SK_CONTRIB, id, &v, &n, cs->e);
    if (rc == 0 && chain_contribution_decode(&c, v, n)) rc = UTIL_EIO;
    free(v);
    if (rc) {
        if (!cs->e->code)
            rpc_fail(cs->e, RPC_INTERNAL_ERROR, NULL, "contribution %llu missing or corrupt",
                     (unsigned long long)id);
        cs->s.bad = 1;
        return 1;
    }
    contrib_row r = {
        .datanet = c.datanet, .times_used = c.times_used, .earned = c.earned, .status = c.status};
    if (add_row(&cs->s, &r)) {
        cs->s.bad = 1;
        return 1;
    }
    return 0;
}

static int cmp_payout_model(const void *a, const void *b)
{
    const payout_row *x = a, *y = b;
    if (x->model != y->model) return x->model < y->model ? -1 : 1;
    /* Newest first within a model, as scanned (record descending). */
    return x->record > y->record ? -1 : x->record < y->record;
}

static int cmp_contrib_datanet(const void *a, const void *b)
{
    const contrib_row *x = a, *y = b;
    return x->datanet < y->datanet ? -1 : x->datanet > y->datanet;
}

static void name_of(rpc_env *env, char kind, uint64_t id, char out[CHAIN_NAME_MAX + 1])
{
    uint8_t *v;
    size_t n;
    rpc_error e = {0};
    out[0] = 0;
    if (rpc_attr_load(env, kind, id, &v, &n, &e) == 0) {
        if (kind == CHAIN_SK_MODEL) {
            chain_model m;
            if (chain_model_decode(&m, v, n) == 0) memcpy(out, m.name, sizeof m.name);
        } else {
            chain_datanet d;
            if (chain_datanet_decode(&d, v, n) == 0) memcpy(out, d.name, sizeof d.name);
        }
    }
    free(v);
    rpc_error_clear(&e);
}

/* Saturating: a breakdown must never wrap around. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static json_t *by_model(rpc_env *env, payout_row *rows, size_t n, uint64_t role_sum[3])
{
    payout_row *c = malloc((n ? n : 1) * sizeof *c);
    json_t *out = json_array();
    if (!c || !out) goto oom;
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].role <= CHAIN_ROLE_CONTRIBUTOR)
            role_sum[rows[i].role] = sat_add(role_sum[rows[i].role], rows[i].amount);
        if (rows[i].role == CHAIN_ROLE_CONTRIBUTOR) c[nc++] = rows[i];
    }
    if (nc) qsort(c, nc, sizeof *c, cmp_payout_model);
    for (size_t i = 0; i < nc;) {
        size_t j = i;
        uint64_t earned = 0, records = 0, last_record = 0;
        for (; j < nc && c[j].model == c[i].model; j++) {
            earned = sat_add(earned, c[j].amount);
            if (j == i || c[j].record != last_record) records++;
            last_record = c[j].record;
        }
        char name[CHAIN_NAME_MAX + 1];
        name_of(env, CHAIN_SK_MODEL, c[i].model, name);
        if (json_array_append_new(
                out, json_pack("{s:I,s:s,s:I,s:I,s:o}", "model", (json_int_t)c[i].model, "name",
                               name, "records", (json_int_t)records, "payouts", (json_int_t)(j - i),
                               "earned", rpc_json_u64str(earned))))
            goto oom;
        i = j;
    }
    free(c);
    return out;
oom:
    free(c);
    json_decref(out);
    return NULL;
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
        name_of(env, CHAIN_SK_DATANET, rows[i].datanet, name);
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
    if (rpc_param_count(params, 1, 2, e) || rpc_param_addr(params, 0, "address", &a, e))
        return NULL;
    if (rpc_param_present(params, 1)) {
        if (rpc_param_u64(params, 1, "recent", &nrecent, e)) return NULL;
        if (nrecent > IMPACT_RECENT_MAX)
            return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 1 (recent): must be 0..%d",
                            IMPACT_RECENT_MAX);
    }

    /* Exact totals, from state. */
    uint8_t k[21], *v = NULL;
    size_t vl = 0;
    chain_contributor ct;
    memset(&ct, 0, sizeof ct);
    chain_key_contributor(k, &a);
    util_err ue = {0};
    int rc = chain_store_state_get(env->store, k, sizeof k, &v, &vl, &ue);
    if (rc == 0 && chain_contributor_decode(&ct, v, vl)) rc = UTIL_EIO;
    free(v);
    if (rc && rc != UTIL_ENOTFOUND)
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "contributor totals: %s",
                        ue.msg[0] ? ue.msg : "corrupt");

    uint8_t pp[2 + CHAIN_ADDR_LEN], cp[2 + CHAIN_ADDR_LEN];
    size_t ppl = chain_dbkey_index_prefix(pp, CHAIN_IX_PAYOUT_BY_RECIPIENT, a.b, CHAIN_ADDR_LEN);
    size_t cpl = chain_dbkey_index_prefix(cp, CHAIN_IX_CONTRIB_BY_CONTRIBUTOR, a.b, CHAIN_ADDR_LEN);
    json_t *out = NULL, *jm = NULL, *jd = NULL, *jr = NULL;

    scan ps = {.plen = ppl, .rowsize = sizeof(payout_row)};
    /* Newest first: record ids grow with time. One more than the cap tells
     * whether older payouts exist. */
    rc = chain_store_scan(env->store, pp, ppl, NULL, 0, 1, RPC_ATTR_IMPACT_SCAN_MAX + 1,
                          visit_payout, &ps, &ue);
    contrib_scan cs = {.s = {.plen = cpl, .rowsize = sizeof(contrib_row)}, .env = env, .e = e};
    if (!rc && !ps.bad)
        rc = chain_store_scan(env->store, cp, cpl, NULL, 0, 0, RPC_ATTR_IMPACT_SCAN_MAX + 1,
                              visit_contrib, &cs, &ue);
    if (rc) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
        goto out;
    }
    if (ps.bad || cs.s.bad) {
        if (!e->code) rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        goto out;
    }

    uint64_t role_sum[3] = {0, 0, 0};
    jr = recent(ps.rows, ps.n, (size_t)nrecent);
    jm = by_model(env, ps.rows, ps.n, role_sum);
    jd = by_datanet(env, cs.s.rows, cs.s.n);
    if (!jr || !jm || !jd) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        goto out;
    }
    uint64_t pending = ct.contributions - ct.accepted - ct.rejected;
    out = json_pack("{s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:{s:o,s:o,s:o},s:o,s:o,s:o,s:I,s:b,s:b}",
                    "address", rpc_json_addr(&a), "earned", rpc_json_u64str(ct.earned),
                    "contributions", (json_int_t)ct.contributions, "accepted",
                    (json_int_t)ct.accepted, "rejected", (json_int_t)ct.rejected, "pending",
                    (json_int_t)pending, "payouts", (json_int_t)ct.payouts, "scannedByRole",
                    "contributor", rpc_json_u64str(role_sum[CHAIN_ROLE_CONTRIBUTOR]), "owner",
                    rpc_json_u64str(role_sum[CHAIN_ROLE_OWNER]), "validator",
                    rpc_json_u64str(role_sum[CHAIN_ROLE_VALIDATOR]), "byModel", jm, "byDatanet", jd,
                    "recentPayouts", jr, "scanLimit", (json_int_t)RPC_ATTR_IMPACT_SCAN_MAX,
                    "payoutsTruncated", ps.more, "contributionsTruncated", cs.s.more);
    jm = jd = jr = NULL; /* stolen by json_pack, also on its failure */
    if (!out) rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
out:
    json_decref(jm);
    json_decref(jd);
    json_decref(jr);
    free(ps.rows);
    free(cs.s.rows);
    return out;
}
