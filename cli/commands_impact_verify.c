/* impact --verify: a contributor's earnings, every figure checked here
 * against one committed header, trusting only a genesis (docs/proofs.md,
 * "Checking an impact").
 *
 * The contributor's totals are proven at the head, which fixes the header;
 * the node's lists (contributions, then the records that used each) only
 * name candidates; each record is proven against that same header, and the
 * proven records' contributor payouts to the address must add up to the
 * proven totals, in amount and in count. So a node that leaves out a
 * record, alters a payout or a total, or serves another header is caught,
 * and nothing is printed that was not proven. */
#include <stdlib.h>
#include <string.h>

#include "chain/state/dbkey.h"
#include "chain/types/attr.h"
#include "cli/cli.h"
#include "cli/commands_attr.h"
#include "cli/light.h"
#include "util/amount.h"
#include "util/hex.h"

#define PAGE 100
/* More candidate records than this is refused rather than fetched one proof
 * at a time for minutes. */
#define MAX_RECORDS 100000

typedef struct ids {
    uint64_t *v;
    size_t n, cap;
} ids;

static int ids_add(ids *s, uint64_t x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint64_t *p = realloc(s->v, cap * sizeof *p);
        if (!p) return -1;
        s->v = p;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts and drops duplicates (a record that used two of the address's
 * contributions is listed under both). */
static void ids_unique(ids *s)
{
    if (!s->n) return;
    qsort(s->v, s->n, sizeof *s->v, cmp_u64);
    size_t k = 1;
    for (size_t i = 1; i < s->n; i++)
        if (s->v[i] != s->v[k - 1]) s->v[k++] = s->v[i];
    s->n = k;
}

/* Every id of a paged list (method with filter), into out. */
static int list_ids(cli_ctx *ctx, const char *method, json_t *filter, ids *out, util_err *err)
{
    json_t *cursor = json_null();
    for (;;) {
        json_t *res;
        int rc =
            cli_rpc_call(ctx, method, json_pack("[O,o,i]", filter, cursor, PAGE), &res, NULL, err);
        if (rc) return rc;
        json_t *items = json_object_get(res, "items"), *it;
        size_t i;
        if (!json_is_array(items)) {
            json_decref(res);
            return util_err_set(err, UTIL_EIO, "node answer to %s: no 'items'", method);
        }
        json_array_foreach(items, i, it)
        {
            uint64_t id;
            if (cli_json_u64(it, "id", &id, err) || ids_add(out, id) || out->n > MAX_RECORDS) {
                json_decref(res);
                if (out->n > MAX_RECORDS)
                    return util_err_set(err, UTIL_ELIMIT, "more than %d records to verify",
                                        MAX_RECORDS);
                return err->code ? err->code : util_err_set(err, UTIL_ENOMEM, "out of memory");
            }
        }
        json_t *next = json_object_get(res, "nextCursor");
        cursor = json_is_string(next) ? json_incref(next) : NULL;
        json_decref(res);
        if (!cursor) return 0;
    }
}

typedef struct model_sum {
    uint64_t model, amount, payouts;
} model_sum;

typedef struct tally {
    uint64_t amount, payouts;
    model_sum *m;
    size_t nm;
    int oom;
} tally;

static int cmp_model(const void *a, const void *b)
{
    return cmp_u64(&((const model_sum *)a)->model, &((const model_sum *)b)->model);
}

static void tally_add(tally *t, uint64_t model, uint64_t amount)
{
    t->amount += amount; /* no overflow: the proven total bounds the sum, checked after */
    t->payouts++;
    for (size_t i = 0; i < t->nm; i++)
        if (t->m[i].model == model) {
            t->m[i].amount += amount;
            t->m[i].payouts++;
            return;
        }
    model_sum *p = realloc(t->m, (t->nm + 1) * sizeof *p);
    if (!p) {
        t->oom = 1;
        return;
    }
    t->m = p;
    t->m[t->nm++] = (model_sum){model, amount, 1};
}

/* The record's payouts as the node shows them must be the proven ones. */
static int shown_payouts_match(const json_t *jr, const chain_record *r, util_err *err)
{
    const json_t *jp = json_object_get(jr, "payouts");
    if (!json_is_array(jp) || json_array_size(jp) != r->npayouts)
        return util_err_set(err, UTIL_EINVAL,
                            "the payouts shown are not the %u proven ones (a different count)",
                            (unsigned)r->npayouts);
    for (uint32_t i = 0; i < r->npayouts; i++) {
        const json_t *p = json_array_get(jp, i);
        uint64_t amount;
        char rs[CHAIN_ADDR_STR_LEN + 1];
        chain_addr_encode(rs, &r->payouts[i].recipient);
        const char *shown = json_string_value(json_object_get(p, "recipient"));
        if (cli_json_amount(p, "amount", &amount, err)) return UTIL_EINVAL;
        if (amount != r->payouts[i].amount || !shown || strcmp(shown, rs) != 0)
            return util_err_set(err, UTIL_EINVAL,
                                "payout %u shown (%llu base units) is not the proven one (%llu to "
                                "%s)",
                                (unsigned)i, (unsigned long long)amount,
                                (unsigned long long)r->payouts[i].amount, rs);
    }
    return 0;
}

/* Proves record id against the totals' header (hash) and adds its
 * contributor payouts to a. 0, or an error saying what failed. */
static int prove_record(cli_ctx *ctx, const chain_genesis *g, const chain_addr *a, uint64_t id,
                        uint64_t height, const uint8_t hash[32], tally *t, util_err *err)
{
    json_t *res;
    int rc = cli_rpc_call(
        ctx, "state_getProof",
        json_pack("[{s:I},{s:I}]", "record", (json_int_t)id, "height", (json_int_t)height), &res,
        NULL, err);
    if (rc) return rc;
    uint8_t key[9];
    chain_key_id(key, CHAIN_SK_RECORD, id);
    char what[64];
    snprintf(what, sizeof what, "record %llu's key", (unsigned long long)id);
    cli_proven cp;
    rc = cli_light_check_proof(res, g, key, sizeof key, what, &cp, err);
    if (!rc && memcmp(cp.hash, hash, 32) != 0)
        rc = util_err_set(err, UTIL_EINVAL,
                          "it is proven against another header than the totals' (height %llu)",
                          (unsigned long long)cp.h.height);
    if (!rc && cp.present) {
        chain_record r;
        if (chain_record_decode(&r, cp.value, cp.vlen)) {
            rc = util_err_set(err, UTIL_EINVAL, "the proven value is not a record");
        } else {
            if (r.id != id)
                rc = util_err_set(err, UTIL_EINVAL, "the proven value is record %llu, not %llu",
                                  (unsigned long long)r.id, (unsigned long long)id);
            else
                rc = shown_payouts_match(json_object_get(res, "record"), &r, err);
            for (uint32_t i = 0; !rc && i < r.npayouts; i++)
                if (r.payouts[i].role == CHAIN_ROLE_CONTRIBUTOR &&
                    memcmp(r.payouts[i].recipient.b, a->b, CHAIN_ADDR_LEN) == 0)
                    tally_add(t, r.model, r.payouts[i].amount);
            chain_record_free(&r);
        }
    }
    /* Absent at the header's height: listed by the node but made later;
     * nothing of it is counted. */
    cli_proven_free(&cp);
    json_decref(res);
    return rc;
}

/* The totals at the head: their proof fixes the header. */
static int prove_totals(cli_ctx *ctx, const chain_genesis *g, const chain_addr *a, const char *astr,
                        chain_contributor *ct, cli_proven *cp, util_err *err)
{
    json_t *res;
    int rc = cli_rpc_call(ctx, "state_getProof", json_pack("[{s:s}]", "contributorTotals", astr),
                          &res, NULL, err);
    if (rc) return rc;
    uint8_t key[21];
    size_t kl = chain_key_contributor(key, a);
    rc = cli_light_check_proof(res, g, key, kl, "this address's contributor totals key", cp, err);
    memset(ct, 0, sizeof *ct);
    if (!rc && cp->present) {
        const json_t *shown = json_object_get(res, "contributorTotals");
        uint64_t earned, payouts;
        if (chain_contributor_decode(ct, cp->value, cp->vlen))
            rc = util_err_set(err, UTIL_EINVAL, "the proven value is not contributor totals");
        else if (cli_json_amount(shown, "earned", &earned, err) ||
                 cli_json_u64(shown, "payouts", &payouts, err))
            rc = UTIL_EINVAL;
        else if (earned != ct->earned || payouts != ct->payouts)
            rc = util_err_set(err, UTIL_EINVAL,
                              "the totals shown (earned %llu, %llu payouts) are not the proven "
                              "ones (earned %llu, %llu payouts)",
                              (unsigned long long)earned, (unsigned long long)payouts,
                              (unsigned long long)ct->earned, (unsigned long long)ct->payouts);
        if (rc) cli_proven_free(cp);
    }
    json_decref(res);
    return rc;
}

static int failed(cli_ctx *ctx, const char *astr, const char *figure, const util_err *e)
{
    return cli_fail(ctx, "impact verification FAILED for %s: %s: %s", astr, figure, e->msg);
}

int cli_cmd_impact_verify(cli_ctx *ctx, const cli_args *a)
{
    util_err e = {0};
    chain_addr addr;
    char astr[CHAIN_ADDR_STR_LEN + 1];
    if (cli_resolve_address(ctx, a->pos[0], &addr, astr, &e)) return cli_fail_err(ctx, &e);
    chain_genesis g;
    if (cli_light_genesis(&g, a->opt[CLI_OPT_GENESIS], &e)) {
        util_err_prefix(&e, "trusted genesis: ");
        return cli_fail_err(ctx, &e);
    }
    chain_contributor ct;
    cli_proven top = {0};
    ids contribs = {0}, recs = {0};
    tally t = {0};
    int rc = CLI_EXIT_OK;
    if (prove_totals(ctx, &g, &addr, astr, &ct, &top, &e)) {
        rc = failed(ctx, astr, "contributor totals", &e);
        goto out;
    }
    /* The candidates: every record that used one of the address's
     * contributions. Unproven; a record left out shows in the sums. */
    json_t *f = json_pack("{s:s}", "contributor", astr);
    int lrc = list_ids(ctx, "contribution_list", f, &contribs, &e);
    json_decref(f);
    for (size_t i = 0; !lrc && i < contribs.n; i++) {
        f = json_pack("{s:I}", "contribution", (json_int_t)contribs.v[i]);
        lrc = list_ids(ctx, "attribution_list", f, &recs, &e);
        json_decref(f);
    }
    if (lrc) {
        rc = failed(ctx, astr, "listing the records to check", &e);
        goto out;
    }
    ids_unique(&recs);
    for (size_t i = 0; i < recs.n; i++) {
        if (prove_record(ctx, &g, &addr, recs.v[i], top.h.height, top.hash, &t, &e)) {
            char fig[64];
            snprintf(fig, sizeof fig, "record %llu", (unsigned long long)recs.v[i]);
            rc = failed(ctx, astr, fig, &e);
            goto out;
        }
        if (t.oom) {
            rc = cli_fail(ctx, "out of memory");
            goto out;
        }
    }
    if (t.amount != ct.earned || t.payouts != ct.payouts) {
        char got[UTIL_AMOUNT_STR_MAX], want[UTIL_AMOUNT_STR_MAX];
        util_amount_format_open(got, t.amount);
        util_amount_format_open(want, ct.earned);
        util_err_set(&e, UTIL_EINVAL,
                     "the proven records pay %s OPEN in %llu payout%s, the proven totals say %s "
                     "OPEN in %llu payout%s (the node left out or altered a record)",
                     got, (unsigned long long)t.payouts, t.payouts == 1 ? "" : "s", want,
                     (unsigned long long)ct.payouts, ct.payouts == 1 ? "" : "s");
        rc = failed(ctx, astr, "earned", &e);
        goto out;
    }

    if (t.nm) qsort(t.m, t.nm, sizeof *t.m, cmp_model);
    char hh[67] = "0x", amt[UTIL_AMOUNT_STR_MAX];
    util_hex_encode(hh + 2, top.hash, 32);
    if (ctx->json) {
        json_t *ms = json_array();
        char s[24];
        for (size_t i = 0; ms && i < t.nm; i++) {
            snprintf(s, sizeof s, "%llu", (unsigned long long)t.m[i].amount);
            json_array_append_new(ms,
                                  json_pack("{s:I,s:s,s:I}", "model", (json_int_t)t.m[i].model,
                                            "earned", s, "payouts", (json_int_t)t.m[i].payouts));
        }
        snprintf(s, sizeof s, "%llu", (unsigned long long)ct.earned);
        json_t *o =
            json_pack("{s:s,s:b,s:s,s:I,s:I,s:s,s:I,s:o}", "address", astr, "verified", 1, "earned",
                      s, "payouts", (json_int_t)ct.payouts, "records", (json_int_t)recs.n,
                      "headerHash", hh, "height", (json_int_t)top.h.height, "byModel", ms);
        if (!o) {
            rc = cli_fail(ctx, "out of memory");
            goto out;
        }
        rc = cli_print_json(ctx, o);
        json_decref(o);
        goto out;
    }
    util_amount_format_open(amt, ct.earned);
    fprintf(ctx->out,
            "%s OPEN in %llu payout%s across %zu model%s, verified at height %llu "
            "against header %s\n",
            amt, (unsigned long long)ct.payouts, ct.payouts == 1 ? "" : "s", t.nm,
            t.nm == 1 ? "" : "s", (unsigned long long)top.h.height, hh);
    for (size_t i = 0; i < t.nm; i++) {
        util_amount_format_open(amt, t.m[i].amount);
        fprintf(ctx->out, "  model %llu: %s OPEN in %llu payout%s\n",
                (unsigned long long)t.m[i].model, amt, (unsigned long long)t.m[i].payouts,
                t.m[i].payouts == 1 ? "" : "s");
    }
out:
    cli_proven_free(&top);
    free(contribs.v);
    free(recs.v);
    free(t.m);
    chain_genesis_free(&g);
    return rc;
}
