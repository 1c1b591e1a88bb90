/* rollup_txmgr_send_sync (rollup/l1/txmgr.h): one transaction through a
 * transaction manager on a private loop, for commands and tests that have
 * no loop of their own. Only the public API of the manager. */
#include <stdint.h>

#include <uv.h>

#include "rollup/l1/txmgr.h"

typedef struct sync_ctx {
    int done, rc, has_r;
    rollup_l1_receipt r;
    util_err err;
} sync_ctx;

static void on_sync(void *ctx, int rc, const rollup_l1_receipt *r, const util_err *err)
{
    sync_ctx *s = ctx;
    s->done = 1;
    s->rc = rc;
    if (r) {
        s->r = *r;
        s->has_r = 1;
    }
    if (rc) s->err = *err;
}

int rollup_txmgr_send_sync(const char *url, const uint8_t sk[32], const rollup_txmgr_opts *opts,
                           const rollup_eth_addr *to, const uint8_t *data, size_t len,
                           uint64_t gas_limit, rollup_l1_receipt *r, util_err *err)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop)) return util_err_set(err, UTIL_EIO, "cannot start an event loop");
    rollup_l1 *l1 = NULL;
    rollup_txmgr *m = NULL;
    sync_ctx s = {0};
    int rc = rollup_l1_new(&l1, &loop, url, NULL, err);
    if (!rc) rc = rollup_txmgr_new(&m, l1, sk, opts, err);
    if (!rc) rc = rollup_txmgr_send(m, to, data, len, gas_limit, on_sync, &s, err);
    if (!rc)
        while (!s.done && uv_run(&loop, UV_RUN_ONCE)) {
        }
    rollup_txmgr_close(m);
    rollup_l1_close(l1);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop)) {
        /* Every handle is closed by now; nothing the caller can act on. */
    }
    if (rc) return rc;
    if (s.rc && err) *err = s.err;
    if (s.has_r) *r = s.r;
    return s.rc;
}
