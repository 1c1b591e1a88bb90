/* Attribution queries: datanet show/list, model show/list, impact, and the
 * text renderings shared with the transaction commands. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands_attr.h"
#include "util/amount.h"

#define LIST_PAGE 100

static const char *s_(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "?";
}

static long long i_(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

void cli_attr_open(char *out, size_t cap, const json_t *obj, const char *key)
{
    uint64_t v;
    char open[UTIL_AMOUNT_STR_MAX];
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s || util_amount_parse_base(s, &v)) {
        snprintf(out, cap, "?");
        return;
    }
    util_amount_format_open(open, v);
    snprintf(out, cap, "%s OPEN", open);
}

static void amount_line(cli_ctx *ctx, const char *label, const json_t *o, const char *k)
{
    uint64_t v;
    char buf[96];
    const char *s = json_string_value(json_object_get(o, k));
    if (s && util_amount_parse_base(s, &v) == 0)
        cli_format_amount(buf, sizeof buf, v);
    else
        snprintf(buf, sizeof buf, "?");
    fprintf(ctx->out, "%-14s%s\n", label, buf);
}

void cli_attr_print_datanet(cli_ctx *ctx, const json_t *d)
{
    FILE *o = ctx->out;
    fprintf(o, "%-14s%lld\n%-14s%s\n%-14s%s\n", "datanet", i_(d, "id"), "name", s_(d, "name"),
            "owner", s_(d, "owner"));
    amount_line(ctx, "bond", d, "bond");
    fprintf(o, "%-14s%s\n", "review", json_is_true(json_object_get(d, "review")) ? "on" : "off");
    fprintf(o, "%-14s%s\n", "meta hash", s_(d, "metaHash"));
    if (*s_(d, "metaUri")) fprintf(o, "%-14s%s\n", "meta uri", s_(d, "metaUri"));
    fprintf(o, "%-14sblock %lld\n", "created at", i_(d, "height"));
    fprintf(o, "%-14s%lld (%lld accepted, %lld rejected, %lld pending)\n", "contributions",
            i_(d, "contributions"), i_(d, "accepted"), i_(d, "rejected"), i_(d, "pending"));
    fprintf(o, "%-14s%lld\n", "models", i_(d, "models"));
}

void cli_attr_print_contribution(cli_ctx *ctx, const json_t *c)
{
    FILE *o = ctx->out;
    fprintf(o, "%-14s%lld\n%-14s%lld\n%-14s%s\n%-14s%s\n%-14s%s bytes\n", "contribution",
            i_(c, "id"), "datanet", i_(c, "datanet"), "contributor", s_(c, "contributor"),
            "content hash", s_(c, "contentHash"), "size", s_(c, "size"));
    if (*s_(c, "uri")) fprintf(o, "%-14s%s\n", "uri", s_(c, "uri"));
    if (json_is_integer(json_object_get(c, "reason")))
        fprintf(o, "%-14s%s (reason %lld)\n", "status", s_(c, "status"), i_(c, "reason"));
    else
        fprintf(o, "%-14s%s\n", "status", s_(c, "status"));
    amount_line(ctx, "bond", c, "bond");
    fprintf(o, "%-14sblock %lld\n%-14s%lld\n", "created at", i_(c, "height"), "times used",
            i_(c, "timesUsed"));
    amount_line(ctx, "earned", c, "earned");
}

static void print_ids(FILE *o, const json_t *a)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        fprintf(o, "%s%lld", i ? ", " : "", (long long)json_integer_value(v));
}

void cli_attr_print_model(cli_ctx *ctx, const json_t *m)
{
    FILE *o = ctx->out;
    fprintf(o, "%-14s%lld\n%-14s%s\n%-14s%s\n%-14s", "model", i_(m, "id"), "name", s_(m, "name"),
            "owner", s_(m, "owner"), "datanets");
    print_ids(o, json_object_get(m, "datanets"));
    const json_t *sp = json_object_get(m, "split");
    fprintf(o, "\n%-14s%s (%s)\n%-14s%s\n", "attestor", s_(m, "attestorAddress"), s_(m, "attestor"),
            "reward", s_(m, "rewardContract"));
    fprintf(o, "%-14sowner %lld, validators %lld, contributors %lld basis points\n", "split",
            i_(sp, "owner"), i_(sp, "validators"), i_(sp, "contributors"));
    fprintf(o, "%-14sblock %lld\n%-14s%lld\n", "registered at", i_(m, "height"), "inferences",
            i_(m, "inferences"));
    amount_line(ctx, "fees", m, "fees");
}

void cli_attr_print_record(cli_ctx *ctx, const json_t *r)
{
    FILE *o = ctx->out;
    char amt[64];
    fprintf(o, "%-14s%lld\n%-14s%lld\n", "record", i_(r, "id"), "model", i_(r, "model"));
    amount_line(ctx, "fee", r, "fee");
    fprintf(o, "%-14s%s\n%-14s%s\n%-14s%s\n%-14s%s\n%-14sblock %lld, tx %s\n", "method",
            s_(r, "method"), "attestor", s_(r, "attestor"), "output hash", s_(r, "outputHash"),
            "evidence hash", s_(r, "evidenceHash"), "settled in", i_(r, "height"), s_(r, "tx"));
    const json_t *es = json_object_get(r, "entries"), *ps = json_object_get(r, "payouts");
    size_t i;
    json_t *it;
    fprintf(o, "%-14s%zu\n", "entries", json_array_size(es));
    json_array_foreach(es, i, it)
        fprintf(o, "  contribution %-8lld weight %-12s %s\n", i_(it, "contribution"),
                s_(it, "weight"), s_(it, "contributor"));
    fprintf(o, "%-14s%zu\n", "payouts", json_array_size(ps));
    json_array_foreach(ps, i, it)
    {
        cli_attr_open(amt, sizeof amt, it, "amount");
        fprintf(o, "  %-12s %s %22s", s_(it, "role"), s_(it, "recipient"), amt);
        if (json_is_integer(json_object_get(it, "contribution")))
            fprintf(o, "  (contribution %lld)", i_(it, "contribution"));
        fputc('\n', o);
    }
    amount_line(ctx, "retained", r, "retained");
}

json_t *cli_attr_find(cli_ctx *ctx, const char *method, json_t *filter,
                      int (*match)(const json_t *item, void *arg), void *arg, int max_pages,
                      util_err *err)
{
    json_t *cursor = json_null();
    for (int page = 0; page < max_pages; page++) {
        json_t *params = filter ? json_pack("[O,o,i,s]", filter, cursor, LIST_PAGE, "desc")
                                : json_pack("[o,i,s]", cursor, LIST_PAGE, "desc");
        json_t *res;
        if (cli_rpc_call(ctx, method, params, &res, NULL, err)) return NULL;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(res, "items"), i, it)
        {
            int m = match(it, arg);
            if (m) {
                json_t *found = m > 0 ? json_incref(it) : NULL;
                json_decref(res);
                return found;
            }
        }
        json_t *next = json_object_get(res, "nextCursor");
        if (!json_is_string(next)) {
            json_decref(res);
            return NULL;
        }
        cursor = json_incref(next);
        json_decref(res);
    }
    json_decref(cursor);
    return NULL;
}

static int show(cli_ctx *ctx, const cli_args *a, const char *method,
                void (*print)(cli_ctx *, const json_t *))
{
    uint64_t id;
    if (cli_parse_u64(a->pos[0], &id) || id == 0 || id > (uint64_t)INT64_MAX)
        return cli_usage_fail(ctx, "'%s' is not an id (a whole number from 1)", a->pos[0]);
    json_t *res;
    util_err e;
    if (cli_rpc_call(ctx, method, json_pack("[I]", (json_int_t)id), &res, NULL, &e))
        return cli_fail_err(ctx, &e);
    int rc = CLI_EXIT_OK;
    if (ctx->json)
        rc = cli_print_json(ctx, res);
    else
        print(ctx, res);
    json_decref(res);
    return rc;
}

int cli_cmd_datanet_show(cli_ctx *ctx, const cli_args *a)
{
    return show(ctx, a, "datanet_get", cli_attr_print_datanet);
}

int cli_cmd_model_show(cli_ctx *ctx, const cli_args *a)
{
    return show(ctx, a, "model_get", cli_attr_print_model);
}

/* Every page of a list, oldest first; one line per item, or a JSON array. */
static int list_all(cli_ctx *ctx, const char *method, int has_filter,
                    void (*line)(cli_ctx *, const json_t *))
{
    json_t *all = json_array(), *cursor = json_null();
    util_err e;
    int rc = CLI_EXIT_OK;
    for (;;) {
        json_t *res;
        json_t *params = has_filter ? json_pack("[n,o,i]", cursor, LIST_PAGE)
                                    : json_pack("[o,i]", cursor, LIST_PAGE);
        if (cli_rpc_call(ctx, method, params, &res, NULL, &e)) {
            rc = cli_fail_err(ctx, &e);
            break;
        }
        json_array_extend(all, json_object_get(res, "items"));
        json_t *next = json_object_get(res, "nextCursor");
        cursor = json_is_string(next) ? json_incref(next) : NULL;
        json_decref(res);
        if (!cursor) break;
    }
    if (!rc) {
        if (ctx->json) {
            rc = cli_print_json(ctx, all);
        } else {
            size_t i;
            json_t *it;
            json_array_foreach(all, i, it) line(ctx, it);
            if (!json_array_size(all)) fputs("(none)\n", ctx->out);
        }
    }
    json_decref(all);
    return rc;
}

static void datanet_line(cli_ctx *ctx, const json_t *d)
{
    char bond[64];
    cli_attr_open(bond, sizeof bond, d, "bond");
    fprintf(ctx->out,
            "%4lld  %-24s owner %s  bond %s  review %s  %lld contributions, %lld models\n",
            i_(d, "id"), s_(d, "name"), s_(d, "owner"), bond,
            json_is_true(json_object_get(d, "review")) ? "on" : "off", i_(d, "contributions"),
            i_(d, "models"));
}

static void model_line(cli_ctx *ctx, const json_t *m)
{
    char fees[64];
    cli_attr_open(fees, sizeof fees, m, "fees");
    fprintf(ctx->out, "%4lld  %-24s owner %s  datanets ", i_(m, "id"), s_(m, "name"),
            s_(m, "owner"));
    print_ids(ctx->out, json_object_get(m, "datanets"));
    fprintf(ctx->out, "  %lld inferences, fees %s\n", i_(m, "inferences"), fees);
}

int cli_cmd_datanet_list(cli_ctx *ctx, const cli_args *a)
{
    (void)a;
    return list_all(ctx, "datanet_list", 0, datanet_line);
}

int cli_cmd_model_list(cli_ctx *ctx, const cli_args *a)
{
    (void)a;
    return list_all(ctx, "model_list", 1, model_line);
}

/* ---- impact ---- */

static void print_impact(cli_ctx *ctx, const json_t *im)
{
    FILE *o = ctx->out;
    char amt[64];
    size_t i;
    json_t *it;
    fprintf(o, "impact of %s\n\n", s_(im, "address"));
    amount_line(ctx, "earned", im, "earned");
    fprintf(o, "%-14s%lld (%lld accepted, %lld rejected, %lld pending)\n", "contributions",
            i_(im, "contributions"), i_(im, "accepted"), i_(im, "rejected"), i_(im, "pending"));
    fprintf(o, "%-14s%lld\n", "payouts", i_(im, "payouts"));

    const json_t *bd = json_object_get(im, "byDatanet");
    fprintf(o, "\nby datanet:\n");
    if (!json_array_size(bd)) fprintf(o, "  (no contributions)\n");
    json_array_foreach(bd, i, it)
    {
        cli_attr_open(amt, sizeof amt, it, "earned");
        fprintf(o,
                "  datanet %lld \"%s\": %lld contributions (%lld accepted, %lld rejected, %lld "
                "pending), used %lld times, earned %s\n",
                i_(it, "datanet"), s_(it, "name"), i_(it, "contributions"), i_(it, "accepted"),
                i_(it, "rejected"), i_(it, "pending"), i_(it, "timesUsed"), amt);
    }
    const json_t *bm = json_object_get(im, "byModel");
    fprintf(o, "\nmodels that used your data:\n");
    if (!json_array_size(bm)) fprintf(o, "  (none yet)\n");
    json_array_foreach(bm, i, it)
    {
        cli_attr_open(amt, sizeof amt, it, "earned");
        fprintf(o, "  model %lld \"%s\": %lld inferences, %lld payouts, earned %s\n",
                i_(it, "model"), s_(it, "name"), i_(it, "records"), i_(it, "payouts"), amt);
    }
    const json_t *roles = json_object_get(im, "scannedByRole");
    uint64_t own = 0, val = 0;
    /* A field missing or malformed in the node's reply counts as nothing
     * earned: the line is left out, as for zero. */
    if (util_amount_parse_base(s_(roles, "owner"), &own)) own = 0;
    if (util_amount_parse_base(s_(roles, "validator"), &val)) val = 0;
    if (own || val) {
        fprintf(o, "\nother payouts:\n");
        cli_attr_open(amt, sizeof amt, roles, "owner");
        if (own) fprintf(o, "  as model owner  %s\n", amt);
        cli_attr_open(amt, sizeof amt, roles, "validator");
        if (val) fprintf(o, "  as validator    %s\n", amt);
    }
    const json_t *rp = json_object_get(im, "recentPayouts");
    if (json_array_size(rp)) fprintf(o, "\nrecent payouts (newest first):\n");
    json_array_foreach(rp, i, it)
    {
        cli_attr_open(amt, sizeof amt, it, "amount");
        fprintf(o, "  record %-8lld model %-6lld %-12s %22s", i_(it, "record"), i_(it, "model"),
                s_(it, "role"), amt);
        if (json_is_integer(json_object_get(it, "contribution")))
            fprintf(o, "  (contribution %lld)", i_(it, "contribution"));
        fputc('\n', o);
    }
    if (json_is_true(json_object_get(im, "payoutsTruncated")))
        fprintf(o, "\nnote: other payouts count only the most recent %lld payouts\n",
                i_(im, "scanLimit"));
    if (json_is_true(json_object_get(im, "contributionsTruncated")))
        fprintf(o, "note: the per-datanet figures count only the first %lld contributions\n",
                i_(im, "scanLimit"));
}

int cli_cmd_impact(cli_ctx *ctx, const cli_args *a)
{
    if (a->opt[CLI_OPT_VERIFY]) return cli_cmd_impact_verify(ctx, a);
    chain_addr addr;
    char str[CHAIN_ADDR_STR_LEN + 1];
    util_err e;
    if (cli_resolve_address(ctx, a->pos[0], &addr, str, &e)) return cli_fail_err(ctx, &e);
    json_t *res;
    if (cli_rpc_call(ctx, "contributor_impact", json_pack("[s]", str), &res, NULL, &e))
        return cli_fail_err(ctx, &e);
    int rc = CLI_EXIT_OK;
    if (ctx->json)
        rc = cli_print_json(ctx, res);
    else
        print_impact(ctx, res);
    json_decref(res);
    return rc;
}
