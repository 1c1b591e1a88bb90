/* The explorer's series and rankings over attribution (docs/attribution.md,
 * "Explorer indexes"): contributor earnings and model fees per UTC day and per
 * block, contributors ranked by earnings (overall and per model), and a
 * contributor's earnings per model. chain/exec writes them in the block's
 * batch (chain_exec_index_put); readers go through the functions here, which
 * read the committed head, never keys of their own.
 *
 * A series entry holds the running totals after its day or block, not the
 * amount of the day: the block writes it from totals it already has (the
 * contributor's or the model's), without reading the index, and a bucket is
 * the difference with the entry before. Work per question is bounded by the
 * number of buckets asked for, one index entry each, plus one. */
#ifndef OL_CHAIN_ATTR_IX_H
#define OL_CHAIN_ATTR_IX_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/address.h"
#include "chain/state/store.h"
#include "util/err.h"

#define CHAIN_DAY_MS 86400000ull
/* The UTC day of a block's time (days since 1970-01-01). */
#define CHAIN_DAY_OF(time_ms) ((time_ms) / CHAIN_DAY_MS)

/* --- values (written by chain/exec/exec_attr.c) ---------------------------- */

/* A series entry: running totals after a day or block (an amount: earned or
 * fees; a count: payouts or inferences); time_ms only in by-block entries. */
#define CHAIN_SERIES_DAY_LEN 16
#define CHAIN_SERIES_BLOCK_LEN 24
size_t chain_series_encode(uint8_t out[CHAIN_SERIES_BLOCK_LEN], uint64_t amount, uint64_t count,
                           int by_block, uint64_t time_ms);

/* A contributor's earnings from one model (CHAIN_IX_EARN_BY_MODEL). */
typedef struct chain_model_earnings {
    uint64_t model;
    uint64_t earned, payouts, records;
} chain_model_earnings;
#define CHAIN_MODEL_EARNINGS_LEN 24
void chain_model_earnings_encode(uint8_t out[CHAIN_MODEL_EARNINGS_LEN],
                                 const chain_model_earnings *m);
OL_MUST_CHECK int chain_model_earnings_decode(chain_model_earnings *m, const uint8_t *v, size_t n);

/* --- series ---------------------------------------------------------------- */

/* ix: CHAIN_IX_EARN_BY_DAY or _BY_BLOCK (a: the address's 20 bytes),
 * CHAIN_IX_FEES_BY_DAY or _BY_BLOCK (a: the model id u64be). */
typedef struct chain_series_q {
    char ix;
    uint8_t a[CHAIN_ADDR_LEN];
    size_t alen;
} chain_series_q;

void chain_series_of_addr(chain_series_q *q, char ix, const chain_addr *a);
void chain_series_of_model(chain_series_q *q, char ix, uint64_t model);

/* One bucket with activity: at (a day or a height), what it added, and
 * (by block) the block's time. */
typedef struct chain_bucket {
    uint64_t at;
    uint64_t amount, count;
    uint64_t time_ms;
} chain_bucket;
typedef int (*chain_bucket_fn)(void *ctx, const chain_bucket *b);

/* Visits the buckets from..to (inclusive) that had activity, in order; the
 * others had none. *before gets the running totals before `from`. Reads at
 * most to - from + 2 index entries: the caller bounds the range. 0,
 * UTIL_EINVAL (to < from), UTIL_EIO (a malformed entry), or an error of the
 * store. */
OL_MUST_CHECK int chain_store_series(chain_store *st, const chain_series_q *q, uint64_t from,
                                     uint64_t to, chain_bucket_fn fn, void *ctx,
                                     chain_bucket *before, util_err *err);

/* --- rankings -------------------------------------------------------------- */

/* A cursor of a ranking: earned u64be | addr[20]. */
#define CHAIN_TOP_CURSOR_LEN 28
typedef int (*chain_top_fn)(void *ctx, const chain_addr *a, uint64_t earned,
                            const uint8_t cursor[CHAIN_TOP_CURSOR_LEN]);
/* Contributors by earnings, highest first (equal earnings: the higher
 * address first), overall (by_model 0) or from one model; after the cursor
 * of the previous page (NULL: from the top). At most limit, and limit + 1
 * entries read; *more when another follows. 0, UTIL_EIO, or an error. */
OL_MUST_CHECK int chain_store_top(chain_store *st, int by_model, uint64_t model,
                                  const uint8_t *after, size_t limit, chain_top_fn fn, void *ctx,
                                  int *more, util_err *err);

/* An address's earnings per model, in model order, at most limit (*more
 * when more exist). */
typedef int (*chain_model_earnings_fn)(void *ctx, const chain_model_earnings *m);
OL_MUST_CHECK int chain_store_earnings_by_model(chain_store *st, const chain_addr *a, size_t limit,
                                                chain_model_earnings_fn fn, void *ctx, int *more,
                                                util_err *err);
/* An address's earnings from one model; zeros when it earned nothing there. */
OL_MUST_CHECK int chain_store_earnings_of_model(chain_store *st, const chain_addr *a,
                                                uint64_t model, chain_model_earnings *out,
                                                util_err *err);

#endif
