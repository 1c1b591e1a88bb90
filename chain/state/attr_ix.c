/* Readers and value codecs of the explorer's series and rankings
 * (chain/state/attr_ix.h). */
#include "chain/state/attr_ix.h"

#include <stdlib.h>
#include <string.h>

#include "chain/state/dbkey.h"
#include "chain/state/store_internal.h"
#include "util/bytes.h"

size_t chain_series_encode(uint8_t out[CHAIN_SERIES_BLOCK_LEN], uint64_t amount, uint64_t count,
                           int by_block, uint64_t time_ms)
{
    util_put_u64le(out, amount);
    util_put_u64le(out + 8, count);
    if (!by_block) return CHAIN_SERIES_DAY_LEN;
    util_put_u64le(out + 16, time_ms);
    return CHAIN_SERIES_BLOCK_LEN;
}

void chain_model_earnings_encode(uint8_t out[CHAIN_MODEL_EARNINGS_LEN],
                                 const chain_model_earnings *m)
{
    util_put_u64le(out, m->earned);
    util_put_u64le(out + 8, m->payouts);
    util_put_u64le(out + 16, m->records);
}

int chain_model_earnings_decode(chain_model_earnings *m, const uint8_t *v, size_t n)
{
    if (n != CHAIN_MODEL_EARNINGS_LEN) return -1;
    m->earned = util_get_u64le(v);
    m->payouts = util_get_u64le(v + 8);
    m->records = util_get_u64le(v + 16);
    return 0;
}

void chain_series_of_addr(chain_series_q *q, char ix, const chain_addr *a)
{
    q->ix = ix;
    memcpy(q->a, a->b, CHAIN_ADDR_LEN);
    q->alen = CHAIN_ADDR_LEN;
}

void chain_series_of_model(chain_series_q *q, char ix, uint64_t model)
{
    q->ix = ix;
    util_put_u64be(q->a, model);
    q->alen = 8;
}

typedef struct series_walk {
    size_t plen, vlen;
    uint64_t to;
    chain_bucket prev; /* running totals so far */
    chain_bucket_fn fn;
    void *ctx;
    int bad, first_only;
} series_walk;

static int series_visit(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    series_walk *w = ctx;
    if (klen != w->plen + 8 || vlen != w->vlen) {
        w->bad = 1;
        return 1;
    }
    uint64_t at = util_get_u64be(key + w->plen);
    chain_bucket cur = {.at = at,
                        .amount = util_get_u64le(val),
                        .count = util_get_u64le(val + 8),
                        .time_ms = vlen == CHAIN_SERIES_BLOCK_LEN ? util_get_u64le(val + 16) : 0};
    if (w->first_only) {
        w->prev = cur;
        return 1;
    }
    if (at > w->to) return 1;
    /* Running totals never fall; a saturated model fee total stops growing,
     * and its buckets read 0 rather than wrap. */
    chain_bucket b = {.at = at,
                      .amount = cur.amount >= w->prev.amount ? cur.amount - w->prev.amount : 0,
                      .count = cur.count >= w->prev.count ? cur.count - w->prev.count : 0,
                      .time_ms = cur.time_ms};
    w->prev = cur;
    return w->fn(w->ctx, &b);
}

int chain_store_series(chain_store *st, const chain_series_q *q, uint64_t from, uint64_t to,
                       chain_bucket_fn fn, void *ctx, chain_bucket *before, util_err *err)
{
    if (to < from) return util_err_set(err, UTIL_EINVAL, "range ends before it starts");
    int by_block = q->ix == CHAIN_IX_EARN_BY_BLOCK || q->ix == CHAIN_IX_FEES_BY_BLOCK;
    uint8_t prefix[2 + CHAIN_ADDR_LEN], k[2 + CHAIN_ADDR_LEN + 8];
    size_t plen = chain_dbkey_index_prefix(prefix, q->ix, q->a, q->alen);
    series_walk w = {.plen = plen,
                     .vlen = by_block ? CHAIN_SERIES_BLOCK_LEN : CHAIN_SERIES_DAY_LEN,
                     .to = to,
                     .fn = fn,
                     .ctx = ctx,
                     .first_only = 1};
    memcpy(k, prefix, plen);
    /* The totals before `from`: the last entry below it. */
    util_put_u64be(k + plen, from);
    int rc = chain_store_scan(st, prefix, plen, k, plen + 8, 1, 1, series_visit, &w, err);
    if (!rc && !w.bad) {
        if (before) *before = w.prev;
        w.first_only = 0;
        /* Forward from `from`: after from - 1 (or from the start). */
        if (from) util_put_u64be(k + plen, from - 1);
        size_t n = to - from < SIZE_MAX - 1 ? (size_t)(to - from) + 1 : SIZE_MAX;
        rc = chain_store_scan(st, prefix, plen, from ? k : NULL, from ? plen + 8 : 0, 0, n,
                              series_visit, &w, err);
    }
    if (!rc && w.bad) rc = util_err_set(err, UTIL_EIO, "malformed series index entry");
    return rc;
}

typedef struct top_walk {
    size_t plen, limit, n;
    chain_top_fn fn;
    void *ctx;
    int more, bad;
} top_walk;

static int top_visit(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)val, (void)vlen;
    top_walk *w = ctx;
    if (klen != w->plen + CHAIN_TOP_CURSOR_LEN) {
        w->bad = 1;
        return 1;
    }
    if (w->n == w->limit) {
        w->more = 1;
        return 1;
    }
    w->n++;
    const uint8_t *c = key + w->plen;
    chain_addr a;
    memcpy(a.b, c + 8, CHAIN_ADDR_LEN);
    return w->fn(w->ctx, &a, util_get_u64be(c), c);
}

int chain_store_top(chain_store *st, int by_model, uint64_t model, const uint8_t *after,
                    size_t limit, chain_top_fn fn, void *ctx, int *more, util_err *err)
{
    uint8_t mb[8], prefix[2 + CHAIN_ADDR_LEN], k[2 + 8 + CHAIN_TOP_CURSOR_LEN];
    util_put_u64be(mb, model);
    size_t plen = by_model ? chain_dbkey_index_prefix(prefix, CHAIN_IX_TOP_BY_MODEL, mb, 8)
                           : chain_dbkey_index_prefix(prefix, CHAIN_IX_TOP, NULL, 0);
    if (after) {
        memcpy(k, prefix, plen);
        memcpy(k + plen, after, CHAIN_TOP_CURSOR_LEN);
    }
    top_walk w = {.plen = plen, .limit = limit, .fn = fn, .ctx = ctx};
    /* Highest first: the key order is earnings ascending. */
    int rc =
        chain_store_scan(st, prefix, plen, after ? k : NULL,
                         after ? plen + CHAIN_TOP_CURSOR_LEN : 0, 1, limit + 1, top_visit, &w, err);
    if (!rc && w.bad) rc = util_err_set(err, UTIL_EIO, "malformed ranking index entry");
    *more = !rc && w.more;
    return rc;
}

typedef struct me_walk {
    size_t plen, limit, n;
    chain_model_earnings_fn fn;
    void *ctx;
    int more, bad;
} me_walk;

static int me_visit(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    me_walk *w = ctx;
    chain_model_earnings m;
    if (klen != w->plen + 8 || chain_model_earnings_decode(&m, val, vlen)) {
        w->bad = 1;
        return 1;
    }
    if (w->n == w->limit) {
        w->more = 1;
        return 1;
    }
    w->n++;
    m.model = util_get_u64be(key + w->plen);
    return w->fn(w->ctx, &m);
}

int chain_store_earnings_by_model(chain_store *st, const chain_addr *a, size_t limit,
                                  chain_model_earnings_fn fn, void *ctx, int *more, util_err *err)
{
    uint8_t prefix[2 + CHAIN_ADDR_LEN];
    size_t plen = chain_dbkey_index_prefix(prefix, CHAIN_IX_EARN_BY_MODEL, a->b, CHAIN_ADDR_LEN);
    me_walk w = {.plen = plen, .limit = limit, .fn = fn, .ctx = ctx};
    int rc = chain_store_scan(st, prefix, plen, NULL, 0, 0, limit + 1, me_visit, &w, err);
    if (!rc && w.bad) rc = util_err_set(err, UTIL_EIO, "malformed earnings index entry");
    *more = !rc && w.more;
    return rc;
}

int chain_store_earnings_of_model(chain_store *st, const chain_addr *a, uint64_t model,
                                  chain_model_earnings *out, util_err *err)
{
    uint8_t ix[CHAIN_IXKEY_MAX], k[CHAIN_DBKEY_MAX];
    size_t n = chain_dbkey_index(
        k, ix, chain_ixkey_attr(ix, CHAIN_IX_EARN_BY_MODEL, a->b, CHAIN_ADDR_LEN, model, NULL, 0));
    memset(out, 0, sizeof *out);
    out->model = model;
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = chain_store_db_get(st, k, n, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) {
        util_err_clear(err);
        return 0;
    }
    if (!rc && chain_model_earnings_decode(out, v, vl))
        rc = util_err_set(err, UTIL_EIO, "malformed earnings index entry");
    out->model = model;
    free(v);
    return rc;
}
