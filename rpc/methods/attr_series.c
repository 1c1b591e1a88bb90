/* The explorer's series and rankings over attribution (docs/rpc.md: SERIES,
 * model_fees, contributor_top), read through chain/state/attr_ix.h. Work per
 * request is bounded: a series reads one index entry per bucket asked for
 * (at most RPC_ATTR_BUCKETS_MAX) plus one, a ranking page limit + 1 entries
 * and one more read per item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/state/attr_ix.h"
#include "rpc/methods/attr.h"
#include "rpc/params.h"
#include "util/bytes.h"
#include "util/hex.h"

/* A u64 field of a params object, as rpc_param_u64 reads a param. */
static int field_u64(json_t *o, const char *key, size_t i, int *present, uint64_t *out,
                     rpc_error *e)
{
    json_t *v = json_object_get(o, key);
    *present = v && !json_is_null(v);
    if (!*present) return 0;
    json_t *arr = json_pack("[O]", v);
    if (!arr) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        return -1;
    }
    char name[48];
    snprintf(name, sizeof name, "param %zu (series).%s", i, key);
    int rc = rpc_param_u64(arr, 0, name, out, e);
    json_decref(arr);
    return rc;
}

typedef struct series_out {
    json_t *items;
    int by_block, failed;
    uint64_t amount, count; /* running totals after the last bucket visited */
} series_out;

static int bucket_visit(void *ctx, const chain_bucket *b)
{
    series_out *s = ctx;
    json_t *j = s->by_block ? json_pack("{s:I,s:I,s:o,s:I}", "height", (json_int_t)b->at, "timeMs",
                                        (json_int_t)b->time_ms, "amount",
                                        rpc_json_u64str(b->amount), "count", (json_int_t)b->count)
                            : json_pack("{s:I,s:I,s:o,s:I}", "day", (json_int_t)b->at, "startMs",
                                        (json_int_t)(b->at * CHAIN_DAY_MS), "amount",
                                        rpc_json_u64str(b->amount), "count", (json_int_t)b->count);
    if (!j || json_array_append_new(s->items, j)) {
        s->failed = 1;
        return 1;
    }
    s->amount = s->amount + b->amount < s->amount ? UINT64_MAX : s->amount + b->amount;
    s->count += b->count;
    return 0;
}

json_t *rpc_attr_series(rpc_env *env, json_t *params, size_t i, char day_ix, char block_ix,
                        const uint8_t *a, size_t alen, rpc_error *e)
{
    json_t *spec = json_array_get(params, i);
    int by_block = 0;
    uint64_t from = 0, to = 0;
    int has_from = 0, has_to = 0;
    if (spec && !json_is_null(spec)) {
        if (!json_is_object(spec))
            return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                            "param %zu (series): expected {\"bucket\": \"day\" | \"block\", "
                            "\"from\"?: n, \"to\"?: n}",
                            i);
        const char *key;
        json_t *v;
        json_object_foreach(spec, key, v)
        {
            if (strcmp(key, "bucket") && strcmp(key, "from") && strcmp(key, "to"))
                return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                                "param %zu (series): unknown field \"%s\" (bucket, from, to)", i,
                                key);
        }
        json_t *b = json_object_get(spec, "bucket");
        if (b && !json_is_null(b)) {
            const char *bs = json_string_value(b);
            if (bs && strcmp(bs, "block") == 0)
                by_block = 1;
            else if (!bs || strcmp(bs, "day") != 0)
                return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                                "param %zu (series).bucket: \"day\" or \"block\"", i);
        }
        if (field_u64(spec, "from", i, &has_from, &from, e) ||
            field_u64(spec, "to", i, &has_to, &to, e))
            return NULL;
    }
    const chain_header *h = chain_store_head_header(env->store);
    uint64_t head = by_block ? h->height : CHAIN_DAY_OF(h->time_ms);
    uint64_t span = by_block ? RPC_ATTR_BLOCKS_DEFAULT : RPC_ATTR_DAYS_DEFAULT;
    if (!has_to) to = has_from && from > head ? from : head;
    if (!has_from) from = to >= span - 1 ? to - (span - 1) : 0;
    if (to < from)
        return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                        "param %zu (series): to (%llu) is before from (%llu)", i,
                        (unsigned long long)to, (unsigned long long)from);
    if (to - from >= RPC_ATTR_BUCKETS_MAX)
        return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                        "param %zu (series): %llu buckets from %llu to %llu, at most %d per "
                        "request",
                        i, (unsigned long long)(to - from) + 1, (unsigned long long)from,
                        (unsigned long long)to, RPC_ATTR_BUCKETS_MAX);

    chain_series_q q = {.ix = by_block ? block_ix : day_ix, .alen = alen};
    memcpy(q.a, a, alen);
    series_out so = {.items = json_array(), .by_block = by_block};
    if (!so.items) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    chain_bucket before = {0};
    util_err ue = {0};
    /* The visitor adds each bucket to the totals before `from`, which the
     * store fills in before the first bucket. */
    int rc = chain_store_series(env->store, &q, from, to, bucket_visit, &so, &before, &ue);
    if (rc || so.failed) {
        json_decref(so.items);
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", rc ? ue.msg : "out of memory");
    }
    uint64_t amount =
                 before.amount + so.amount < before.amount ? UINT64_MAX : before.amount + so.amount,
             count = before.count + so.count;
    json_t *out = json_pack(
        "{s:s,s:I,s:I,s:{s:o,s:I},s:{s:o,s:I},s:o}", "bucket", by_block ? "block" : "day", "from",
        (json_int_t)from, "to", (json_int_t)to, "before", "amount", rpc_json_u64str(before.amount),
        "count", (json_int_t)before.count, "total", "amount", rpc_json_u64str(amount), "count",
        (json_int_t)count, "buckets", so.items);
    return out ? out : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}

json_t *rpc_attr_model_fees(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    uint64_t id;
    if (rpc_param_count(params, 1, 2, e) || rpc_param_u64(params, 0, "model", &id, e)) return NULL;
    chain_model m;
    util_err ue = {0};
    int rc = chain_store_get_model(env->store, id, &m, &ue);
    if (rc == UTIL_ENOTFOUND) return rpc_fail(e, RPC_NOT_FOUND, NULL, "%s", ue.msg);
    if (rc) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
    uint8_t mb[8];
    util_put_u64be(mb, id);
    json_t *series =
        rpc_attr_series(env, params, 1, CHAIN_IX_FEES_BY_DAY, CHAIN_IX_FEES_BY_BLOCK, mb, 8, e);
    if (!series) return NULL;
    json_t *out = json_pack("{s:I,s:s,s:o,s:I,s:o}", "model", (json_int_t)id, "name", m.name,
                            "fees", rpc_json_u64str(m.fees), "inferences", (json_int_t)m.inferences,
                            "series", series);
    return out ? out : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}

/* ---- contributor_top ------------------------------------------------- */

/* A page's cursor: the ranking key's tail of its last item, then the rank
 * of that item (u64be), so ranks go on across pages. */
#define TOP_CURSOR_LEN (CHAIN_TOP_CURSOR_LEN + 8)

typedef struct top_page {
    rpc_env *env;
    int by_model;
    uint64_t model, rank;
    json_t *items;
    uint8_t last[CHAIN_TOP_CURSOR_LEN];
    int failed;
    util_err ue;
    int rc;
} top_page;

static int top_visit(void *ctx, const chain_addr *a, uint64_t earned,
                     const uint8_t cursor[CHAIN_TOP_CURSOR_LEN])
{
    top_page *p = ctx;
    json_t *payouts, *records;
    if (p->by_model) {
        chain_model_earnings me;
        if ((p->rc = chain_store_earnings_of_model(p->env->store, a, p->model, &me, &p->ue)))
            return 1;
        payouts = json_integer((json_int_t)me.payouts);
        records = json_integer((json_int_t)me.records);
    } else {
        chain_contributor ct;
        if ((p->rc = chain_store_get_contributor(p->env->store, a, &ct, &p->ue))) return 1;
        payouts = json_integer((json_int_t)ct.payouts);
        records = json_null();
    }
    json_t *j = json_pack("{s:I,s:o,s:o,s:o,s:o}", "rank", (json_int_t)++p->rank, "address",
                          rpc_json_addr(a), "earned", rpc_json_u64str(earned), "payouts", payouts,
                          "records", records);
    if (!j || json_array_append_new(p->items, j)) {
        p->failed = 1;
        return 1;
    }
    memcpy(p->last, cursor, CHAIN_TOP_CURSOR_LEN);
    return 0;
}

json_t *rpc_attr_top(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    top_page p = {.env = env};
    if (rpc_param_count(params, 0, 3, e)) return NULL;
    json_t *f = json_array_get(params, 0);
    if (f && !json_is_null(f) && !(json_is_object(f) && json_object_size(f) == 0)) {
        json_t *mv =
            json_is_object(f) && json_object_size(f) == 1 ? json_object_get(f, "model") : NULL;
        if (!mv)
            return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                            "param 0 (filter): expected {\"model\": ...} or null");
        json_t *arr = json_pack("[O]", mv);
        if (!arr) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        int rc = rpc_param_u64(arr, 0, "filter.model", &p.model, e);
        json_decref(arr);
        if (rc) return NULL;
        chain_model m;
        util_err ue = {0};
        rc = chain_store_get_model(env->store, p.model, &m, &ue);
        if (rc == UTIL_ENOTFOUND) return rpc_fail(e, RPC_NOT_FOUND, NULL, "%s", ue.msg);
        if (rc) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
        p.by_model = 1;
    }
    uint8_t cur[TOP_CURSOR_LEN];
    int has_cursor = 0;
    if (rpc_param_present(params, 1)) {
        const char *c;
        uint8_t *raw = NULL;
        size_t n = 0;
        if (rpc_param_str(params, 1, "cursor", 4 * TOP_CURSOR_LEN, &c, e)) return NULL;
        if (util_hex_decode_alloc(c, TOP_CURSOR_LEN, &raw, &n) || n != TOP_CURSOR_LEN) {
            free(raw);
            return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                            "param 1 (cursor): not a cursor of this list (use the nextCursor of "
                            "the previous page)");
        }
        memcpy(cur, raw, n);
        free(raw);
        p.rank = util_get_u64be(cur + CHAIN_TOP_CURSOR_LEN);
        has_cursor = 1;
    }
    uint64_t limit = RPC_ATTR_LIMIT_DEFAULT;
    if (rpc_param_present(params, 2)) {
        if (rpc_param_u64(params, 2, "limit", &limit, e)) return NULL;
        if (limit < 1 || limit > RPC_ATTR_LIMIT_MAX)
            return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 2 (limit): must be 1..%d",
                            RPC_ATTR_LIMIT_MAX);
    }
    p.items = json_array();
    if (!p.items) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    int more = 0;
    util_err ue = {0};
    int rc = chain_store_top(env->store, p.by_model, p.model, has_cursor ? cur : NULL,
                             (size_t)limit, top_visit, &p, &more, &ue);
    if (rc || p.rc || p.failed) {
        json_decref(p.items);
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s",
                        rc     ? ue.msg
                        : p.rc ? p.ue.msg
                               : "out of memory");
    }
    json_t *next = json_null();
    if (more) {
        uint8_t nc[TOP_CURSOR_LEN];
        memcpy(nc, p.last, CHAIN_TOP_CURSOR_LEN);
        util_put_u64be(nc + CHAIN_TOP_CURSOR_LEN, p.rank);
        char hex[2 * TOP_CURSOR_LEN + 1];
        util_hex_encode(hex, nc, sizeof nc);
        next = json_string(hex);
    }
    json_t *out = json_pack("{s:o,s:o}", "items", p.items, "nextCursor", next);
    return out ? out : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}
