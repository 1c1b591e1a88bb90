/* `openledgerd --derive-from-l1 URL --rollup-config FILE`: a node with no
 * peers and no block production whose chain comes from the L1 alone
 * (rollup/derive.h, docs/rollup.md "Derivation"), blob posts read from
 * --l1-beacon (default: the same URL). It serves JSON-RPC from its own
 * state, and node_status reports the L1 heads. */
#include <stdlib.h>
#include <string.h>

#include "node/node_internal.h"
#include "rollup/derive.h"
#include "rollup/l1/beacon.h"
#include "util/log.h"

struct node_derive {
    rollup_config cfg;
    rollup_l1 *l1;
    rollup_beacon *beacon;
    rollup_derive *d;
};

static void lock_cb(void *ctx)
{
    node_lock(ctx);
}

static void unlock_cb(void *ctx)
{
    node_unlock(ctx);
}

static void on_block(void *ctx, const chain_block *b, const uint8_t id[32], const chain_receipt *rs,
                     size_t nrs)
{
    (void)nrs;
    node *n = ctx;
    node_block_committed(n, b, id, rs, 0, 0);
}

int node_derive_start(node *n, util_err *err)
{
    if (!n->cfg.derive_l1_url[0]) return 0;
    struct node_derive *nd = calloc(1, sizeof *nd);
    if (!nd) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    n->derive = nd;
    int rc = rollup_config_load(&nd->cfg, n->cfg.rollup_config_path, err);
    if (rc) {
        util_err_prefix(err, "--rollup-config %s: ", n->cfg.rollup_config_path);
        return rc;
    }
    if ((rc = rollup_l1_new(&nd->l1, &n->loop, n->cfg.derive_l1_url, NULL, err))) {
        util_err_prefix(err, "--derive-from-l1: ");
        return rc;
    }
    const char *beacon_url = n->cfg.l1_beacon_url[0] ? n->cfg.l1_beacon_url : n->cfg.derive_l1_url;
    if ((rc = rollup_beacon_new(&nd->beacon, &n->loop, beacon_url, err))) {
        util_err_prefix(err, "--l1-beacon: ");
        return rc;
    }
    rollup_derive_opts o = {
        .lock = lock_cb, .unlock = unlock_cb, .on_block = on_block, .ctx = n, .beacon = nd->beacon};
    if ((rc =
             rollup_derive_new(&nd->d, &n->loop, nd->l1, &nd->cfg, &n->genesis, n->store, &o, err)))
        return rc;
    if ((rc = rollup_derive_start(nd->d, err))) return rc;
    LOG_INFO("node", "deriving the chain from the L1 at %s (rollup config %s)",
             n->cfg.derive_l1_url, n->cfg.rollup_config_path);
    return 0;
}

void node_derive_stop(node *n)
{
    struct node_derive *nd = n->derive;
    if (!nd) return;
    /* The deriver frees itself once its pending L1 call is cancelled by the
     * client's close and its timer is closed by the loop. */
    rollup_derive_close(nd->d);
    nd->d = NULL;
    rollup_beacon_close(nd->beacon);
    nd->beacon = NULL;
    rollup_l1_close(nd->l1);
    nd->l1 = NULL;
}

void node_derive_free(node *n)
{
    free(n->derive);
    n->derive = NULL;
}

int node_derive_status_json(void *ctx, json_t *status)
{
    node *n = ctx;
    if (!n->derive || !n->derive->d) {
        int bad = json_object_set_new(status, "l1Head", json_null());
        bad |= json_object_set_new(status, "safe", json_null());
        bad |= json_object_set_new(status, "finalized", json_null());
        bad |= json_object_set_new(status, "l1", json_null());
        return bad ? -1 : 0;
    }
    return rollup_derive_status_json(n->derive->d, status);
}
