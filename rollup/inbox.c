/* Scanning the BatchInbox for the L2 heights already on the L1
 * (rollup/inbox.h): one tick of a new inbox watch (rollup/inbox_watch.c
 * holds the engine), and derivation's rule over the batches found. */
#include "rollup/inbox.h"

#include <stdlib.h>
#include <string.h>

#include "rollup/eth/keccak.h"
#include "rollup/inbox_watch.h"

void rollup_inbox_topic(uint8_t out[32])
{
    static const char sig[] = "BatchPosted(address,bytes32)";
    rollup_keccak256(out, sig, sizeof sig - 1);
}

void rollup_inbox_blob_topic(uint8_t out[32])
{
    static const char sig[] = "BlobPosted(address,bytes32)";
    rollup_keccak256(out, sig, sizeof sig - 1);
}

uint64_t rollup_inbox_next(const rollup_inbox_batch *b, size_t n, size_t *last_used)
{
    uint64_t next = 1;
    size_t used = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (b[i].first <= next && b[i].last >= next) {
            next = b[i].last + 1;
            used = i;
        }
    }
    if (last_used) *last_used = used;
    return next;
}

typedef struct oneshot {
    rollup_inbox_watch *w;
    rollup_inbox_cb cb;
    void *ctx;
} oneshot;

static void on_oneshot(void *ctx, int rc, const rollup_inbox_batch *b, size_t n, uint64_t head,
                       const util_err *err)
{
    oneshot *o = ctx;
    o->cb(o->ctx, rc, b, n, head, err);
    rollup_inbox_watch_free(o->w); /* freed once this callback returns */
    free(o);
}

int rollup_inbox_scan(rollup_l1 *l1, rollup_beacon *beacon, const rollup_config *cfg,
                      rollup_inbox_cb cb, void *ctx, util_err *err)
{
    oneshot *o = calloc(1, sizeof *o);
    if (!o) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    o->cb = cb;
    o->ctx = ctx;
    int rc = rollup_inbox_watch_new(&o->w, l1, beacon, cfg, err);
    if (!rc) rc = rollup_inbox_watch_tick(o->w, on_oneshot, o, err);
    if (rc) {
        rollup_inbox_watch_free(o->w);
        free(o);
    }
    return rc;
}

typedef struct sync_out {
    int done, rc;
    util_err err;
    rollup_inbox_batch *b;
    size_t n;
    uint64_t head;
} sync_out;

static void on_sync(void *ctx, int rc, const rollup_inbox_batch *b, size_t n, uint64_t head,
                    const util_err *err)
{
    sync_out *o = ctx;
    o->done = 1;
    o->rc = rc;
    if (rc) {
        if (err) o->err = *err;
        return;
    }
    o->head = head;
    if (n) {
        o->b = malloc(n * sizeof *b);
        if (!o->b) {
            o->rc = util_err_set(&o->err, UTIL_ENOMEM, "out of memory");
            return;
        }
        memcpy(o->b, b, n * sizeof *b);
        o->n = n;
    }
}

int rollup_inbox_scan_sync(const char *url, const char *beacon_url, const rollup_config *cfg,
                           rollup_inbox_batch **out, size_t *n, uint64_t *l1_head, util_err *err)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop)) return util_err_set(err, UTIL_EIO, "cannot create an event loop");
    rollup_l1 *l1 = NULL;
    rollup_beacon *beacon = NULL;
    sync_out o = {0};
    int rc = rollup_l1_new(&l1, &loop, url, NULL, err);
    if (!rc && beacon_url) rc = rollup_beacon_new(&beacon, &loop, beacon_url, err);
    if (!rc) rc = rollup_inbox_scan(l1, beacon, cfg, on_sync, &o, err);
    if (!rc) {
        while (!o.done && uv_run(&loop, UV_RUN_ONCE))
            ;
        rc = o.done ? o.rc : util_err_set(&o.err, UTIL_EIO, "inbox scan did not finish");
        if (rc && err) *err = o.err;
    }
    rollup_beacon_close(beacon);
    rollup_l1_close(l1);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop)) { /* a handle still open: leak it rather than crash */
    }
    if (rc) {
        free(o.b);
        return rc;
    }
    *out = o.b;
    *n = o.n;
    if (l1_head) *l1_head = o.head;
    return 0;
}
