/* The rollup in the node: with --l1 and --rollup-config, the L1 client, the
 * transaction manager, the batcher and the proposer on the node's loop, and
 * what node_status and /metrics show of them (node/rollup.h). */
#include "node/rollup.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/bridge.h"
#include "node/node_internal.h"
#include "node/output_sigs.h"
#include "rollup/batcher.h"
#include "rollup/config.h"
#include "rollup/inbox.h"
#include "rollup/inbox_watch.h"
#include "rollup/l1/beacon.h"
#include "rollup/l1/client.h"
#include "rollup/l1/txmgr.h"
#include "rollup/proposer.h"
#include "util/hex.h"
#include "util/log.h"

struct node_rollup {
    rollup_config cfg;
    rollup_eth_addr addr;
    char endpoint[160];        /* scheme://host[:port] of --l1: no path, no credentials */
    char beacon_endpoint[160]; /* the same of --l1-beacon (default --l1) */
    rollup_l1 *l1;
    rollup_beacon *beacon; /* blob posts for the inbox scans (batcher, watch) */
    rollup_txmgr *tx;
    rollup_batcher *batcher;
    rollup_proposer *prop;
    /* A node that does not post watches the inbox for its `safe` head. */
    rollup_inbox_watch *inbox;
    uv_timer_t watch;
    int watch_inited, scanning, watch_ready;
    uint64_t watch_head, watch_safe;
};

/* How often a node that does not post reads the inbox. Its watch
 * (rollup/inbox_watch.h) reads the whole inbox once, then at each tick only
 * the L1 blocks past the last one read: one request when the L1 has no new
 * block. */
#define NODE_ROLLUP_WATCH_MS 5000

/* The validators' output signatures the node gathers (node/output_sigs.c)
 * go to the proposer; UTIL_ESTATE (a height it does not await yet) has them
 * offered again later. */
static int feed_proposer(void *ctx, uint64_t height, const uint8_t root[32], const uint8_t sig[65])
{
    util_err err = {0};
    int rc = rollup_proposer_add_sig(ctx, height, root, sig, &err);
    if (rc && rc != UTIL_ESTATE)
        LOG_WARN("rollup", "proposer refused an output signature: %s", err.msg);
    return rc;
}

/* Only the origin of the URL is shown: paths and queries often carry keys. */
static void url_origin(char *out, size_t n, const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strchr(p, '@'), *end = p + strcspn(p, "/?#");
    const char *host = at && at < end ? at + 1 : p;
    snprintf(out, n, "%.*s%.*s", (int)(p - url), url, (int)(end - host), host);
}

/* safe: the last height of the newest batch, among those that count by
 * derivation's rule, that is cfg.confirmations (at least 1) blocks deep. */
static void on_watch_scan(void *ctx, int rc, const rollup_inbox_batch *bs, size_t nb, uint64_t head,
                          const util_err *err)
{
    node_rollup *r = ctx;
    r->scanning = 0;
    if (rc) {
        if (rc != UTIL_ESTATE)
            LOG_DEBUG("rollup", "inbox watch: %s", err ? err->msg : "scan failed");
        return;
    }
    size_t used;
    (void)rollup_inbox_next(bs, nb, &used);
    uint32_t conf = r->cfg.confirmations ? r->cfg.confirmations : 1;
    uint64_t want = 1, safe = 0;
    for (size_t i = 0; used != SIZE_MAX && i <= used; i++) {
        if (!(bs[i].first <= want && bs[i].last >= want)) continue;
        want = bs[i].last + 1;
        if (head >= bs[i].l1_block && head - bs[i].l1_block + 1 >= conf) safe = bs[i].last;
    }
    r->watch_head = head;
    r->watch_safe = safe;
    r->watch_ready = 1;
}

static void on_watch(uv_timer_t *t)
{
    node_rollup *r = t->data;
    if (r->scanning || !r->inbox) return;
    util_err e = {0};
    if (rollup_inbox_watch_tick(r->inbox, on_watch_scan, r, &e))
        LOG_DEBUG("rollup", "inbox watch: %s", e.msg);
    else
        r->scanning = 1;
}

int node_rollup_start(node *n, util_err *err)
{
    if (!n->cfg.l1_url[0]) return 0;
    if (!n->cfg.rollup_config_path[0])
        return util_err_set(err, UTIL_EINVAL,
                            "--l1 needs --rollup-config FILE (written by "
                            "`openledgerd rollup-deploy`)");
    node_rollup *r = calloc(1, sizeof *r);
    if (!r) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    n->rollup = r;
    int rc = rollup_config_load(&r->cfg, n->cfg.rollup_config_path, err);
    if (rc) return util_err_prefix(err, "%s: ", n->cfg.rollup_config_path), rc;
    url_origin(r->endpoint, sizeof r->endpoint, n->cfg.l1_url);
    uint8_t sk[32];
    int created = 0;
    if ((rc = node_l1_key_load_or_create(n->cfg.env, n->cfg.datadir, sk, &r->addr, &created, err)))
        return rc;
    char hex[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(hex, &r->addr);
    if (created) LOG_INFO("rollup", "created %s/%s", n->cfg.datadir, NODE_L1_KEY_FILE);
    const char *beacon_url = n->cfg.l1_beacon_url[0] ? n->cfg.l1_beacon_url : n->cfg.l1_url;
    url_origin(r->beacon_endpoint, sizeof r->beacon_endpoint, beacon_url);
    rc = rollup_l1_new(&r->l1, &n->loop, n->cfg.l1_url, NULL, err);
    if (!rc) rc = rollup_beacon_new(&r->beacon, &n->loop, beacon_url, err);
    int posts = memcmp(r->addr.b, r->cfg.batcher.b, 20) == 0;
    if (!rc && posts) {
        /* Receipts are taken as soon as mined: the batcher and the proposer
         * watch the L1 themselves for reorganisations. */
        rollup_txmgr_opts to = {.chain_id = r->cfg.l1_chain_id, .confirmations = 0};
        rc = rollup_txmgr_new(&r->tx, r->l1, sk, &to, err);
    }
    OPENSSL_cleanse(sk, sizeof sk);
    if (!rc && posts) {
        rollup_batcher_opts bo = {.max_blocks = n->cfg.batch_max_blocks,
                                  .max_delay_ms = n->cfg.batch_max_delay_ms,
                                  .frame_max = n->cfg.batch_frame_max,
                                  .blobs = n->cfg.batch_blobs,
                                  .beacon = r->beacon};
        rc = rollup_batcher_new(&r->batcher, &n->loop, r->l1, r->tx, n->store, &r->cfg, &bo, err);
    }
    if (!rc)
        rc = rollup_proposer_new(&r->prop, &n->loop, r->l1, r->tx, n->store, &n->genesis, &r->cfg,
                                 n->has_validator_key ? n->validator.seckey : NULL, NULL, err);
    if (!rc && !r->batcher) rc = rollup_inbox_watch_new(&r->inbox, r->l1, r->beacon, &r->cfg, err);
    if (!rc && !r->batcher) {
        uv_timer_init(&n->loop, &r->watch);
        r->watch.data = r;
        r->watch_inited = 1;
        uv_timer_start(&r->watch, on_watch, 0, NODE_ROLLUP_WATCH_MS);
    }
    if (!rc) rc = node_bridge_start(n, r->l1, &r->cfg, r->endpoint, err);
    if (rc) return util_err_prefix(err, "rollup: "), rc;
    node_outsig_set_sink(n, feed_proposer, r->prop);
    LOG_INFO("rollup", "L1 %s, L1 account %s: %s", r->endpoint, hex,
             r->batcher && n->cfg.batch_blobs ? "posting batches (in blobs) and outputs"
             : r->batcher                     ? "posting batches (in calldata) and outputs"
             : r->tx                          ? "posting outputs"
                     : "not the config's batcher: following the oracle only");
    LOG_INFO("rollup", "blob posts read from the beacon API at %s", r->beacon_endpoint);
    return 0;
}

void node_rollup_stop(node *n)
{
    node_rollup *r = n->rollup;
    if (!r) return;
    node_outsig_set_sink(n, NULL, NULL);
    node_bridge_stop(n);
    if (r->watch_inited) {
        uv_timer_stop(&r->watch);
        uv_close((uv_handle_t *)&r->watch, NULL);
        r->watch_inited = 0;
    }
    rollup_batcher_close(r->batcher);
    rollup_proposer_close(r->prop);
    rollup_txmgr_close(r->tx);
    rollup_beacon_close(r->beacon);
    rollup_l1_close(r->l1); /* ends a watch tick in flight */
    rollup_inbox_watch_free(r->inbox);
    r->inbox = NULL;
    r->beacon = NULL;
    r->batcher = NULL;
    r->prop = NULL;
    r->tx = NULL;
    r->l1 = NULL;
}

void node_rollup_free(node *n)
{
    free(n->rollup);
    n->rollup = NULL;
}

static json_t *hash_json(const uint8_t h[32])
{
    char s[67] = "0x";
    util_hex_encode(s + 2, h, 32);
    return json_string(s);
}

static json_t *addr_json(const rollup_eth_addr *a)
{
    char s[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(s, a);
    return json_string(s);
}

static json_t *batcher_json(const rollup_batcher_info *i, int blobs)
{
    json_t *latest =
        i->has_latest ? json_pack("{s:I, s:I, s:I, s:o}", "first", (json_int_t)i->latest_first,
                                  "last", (json_int_t)i->latest_last, "l1Block",
                                  (json_int_t)i->latest_l1_block, "l1Tx", hash_json(i->latest_tx))
                      : json_null();
    return json_pack("{s:b, s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "ready",
                     i->ready, "da", blobs ? "blobs" : "calldata", "posted", (json_int_t)i->posted,
                     "safe", (json_int_t)i->safe, "latestBatch", latest, "batches",
                     (json_int_t)i->batches, "blocks", (json_int_t)i->blocks, "bytes",
                     (json_int_t)i->bytes, "l1Txs", (json_int_t)i->txs, "blobs",
                     (json_int_t)i->blobs, "gasUsed", (json_int_t)i->gas_used, "blobGasUsed",
                     (json_int_t)i->blob_gas_used, "reorgs", (json_int_t)i->reorgs);
}

static json_t *proposer_json(const rollup_proposer_info *i)
{
    json_t *latest =
        i->has_latest ? json_pack("{s:I, s:o, s:I, s:o}", "height", (json_int_t)i->latest_height,
                                  "root", hash_json(i->latest_root), "l1Block",
                                  (json_int_t)i->latest_l1_block, "l1Tx", hash_json(i->latest_tx))
                      : json_null();
    return json_pack("{s:b, s:I, s:I, s:I, s:o, s:I, s:I}", "ready", i->ready, "outputInterval",
                     (json_int_t)i->interval, "posted", (json_int_t)i->posted, "finalized",
                     (json_int_t)i->finalized, "latestOutput", latest, "outputs",
                     (json_int_t)i->outputs, "gasUsed", (json_int_t)i->gas_used);
}

/* The inbox watch of a node that does not post: how much it read, and its
 * reorganisations (rollup/inbox_watch.h). */
static json_t *watch_json(const rollup_inbox_watch *w)
{
    rollup_inbox_watch_stats s;
    rollup_inbox_watch_get_stats(w, &s);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "ticks", (json_int_t)s.ticks,
                     "l1Requests", (json_int_t)s.l1_requests, "blobs", (json_int_t)s.blobs,
                     "reorgs", (json_int_t)s.reorgs, "rewinds", (json_int_t)s.rewinds, "rescans",
                     (json_int_t)s.rescans, "beaconRequests", (json_int_t)s.blob_requests, "cursor",
                     s.has_cursor ? json_integer((json_int_t)s.cursor) : json_null());
}

int node_rollup_status_json(void *ctx, json_t *status)
{
    node *n = ctx;
    node_rollup *r = n->rollup;
    rollup_batcher_info bi;
    rollup_proposer_info pi;
    if (r && r->batcher) rollup_batcher_get_info(r->batcher, &bi);
    if (r && r->prop) rollup_proposer_get_info(r->prop, &pi);
    json_t *l1 = json_null();
    if (r)
        l1 = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "mode",
                       r->batcher ? "post" : "follow", "endpoint", r->endpoint, "beacon",
                       r->beacon_endpoint, "l1ChainId", (json_int_t)r->cfg.l1_chain_id,
                       "batchInbox", addr_json(&r->cfg.batch_inbox), "outputOracle",
                       addr_json(&r->cfg.output_oracle), "account", addr_json(&r->addr), "explorer",
                       n->cfg.l1_explorer[0] ? json_string(n->cfg.l1_explorer) : json_null(),
                       "batcher", r->batcher ? batcher_json(&bi, n->cfg.batch_blobs) : json_null(),
                       "proposer", r->prop ? proposer_json(&pi) : json_null());
    if (!l1) return -1;
    /* No rollup: `l1` is null, not an object, and has no fields to add. */
    if (r && json_object_set_new(l1, "watch", r->inbox ? watch_json(r->inbox) : json_null())) {
        json_decref(l1);
        return -1;
    }
    int bad = json_object_set_new(status, "l1", l1);
    /* The batcher's view of the L1 head when it runs, else the proposer's;
     * `safe` is the batcher's, or the inbox watch's on a node that does not
     * post. */
    json_t *head = r && r->batcher && bi.ready  ? json_integer((json_int_t)bi.l1_head)
                   : r && r->prop && pi.l1_head ? json_integer((json_int_t)pi.l1_head)
                   : r && r->watch_ready        ? json_integer((json_int_t)r->watch_head)
                                                : json_null();
    bad |= json_object_set_new(status, "l1Head", head);
    bad |= json_object_set_new(status, "safe",
                               r && r->batcher && bi.ready ? json_integer((json_int_t)bi.safe)
                               : r && r->watch_ready       ? json_integer((json_int_t)r->watch_safe)
                                                           : json_null());
    bad |= json_object_set_new(status, "finalized",
                               r && r->prop && pi.ready ? json_integer((json_int_t)pi.finalized)
                                                        : json_null());
    return bad ? -1 : 0;
}

void node_rollup_metrics(node *n, char **body, size_t *len)
{
    node_rollup *r = n->rollup;
    if (!r) return;
    rollup_batcher_info b;
    rollup_proposer_info p;
    if (r->batcher) rollup_batcher_get_info(r->batcher, &b);
    if (r->prop) rollup_proposer_get_info(r->prop, &p);
    /* One block per family: Prometheus wants a family's lines together. */
    node_metrics_appendf(body, len,
                         "# HELP openledger_rollup_l1_gas_total L1 gas spent by this process.\n"
                         "# TYPE openledger_rollup_l1_gas_total counter\n");
    if (r->batcher)
        node_metrics_appendf(body, len, "openledger_rollup_l1_gas_total{kind=\"batch\"} %llu\n",
                             (unsigned long long)b.gas_used);
    if (r->prop)
        node_metrics_appendf(body, len, "openledger_rollup_l1_gas_total{kind=\"output\"} %llu\n",
                             (unsigned long long)p.gas_used);
    if (r->batcher) {
        node_metrics_appendf(
            body, len,
            "# HELP openledger_rollup_batches_total Batches posted to the L1 inbox.\n"
            "# TYPE openledger_rollup_batches_total counter\n"
            "openledger_rollup_batches_total %llu\n"
            "# TYPE openledger_rollup_batch_bytes_total counter\n"
            "openledger_rollup_batch_bytes_total %llu\n"
            "# HELP openledger_rollup_blobs_total EIP-4844 blobs posted (one frame each).\n"
            "# TYPE openledger_rollup_blobs_total counter\n"
            "openledger_rollup_blobs_total %llu\n"
            "# HELP openledger_rollup_l1_blob_gas_total L1 blob gas spent by this process.\n"
            "# TYPE openledger_rollup_l1_blob_gas_total counter\n"
            "openledger_rollup_l1_blob_gas_total{kind=\"batch\"} %llu\n",
            (unsigned long long)b.batches, (unsigned long long)b.bytes, (unsigned long long)b.blobs,
            (unsigned long long)b.blob_gas_used);
        node_metrics_appendf(body, len,
                             "# TYPE openledger_rollup_l2_height gauge\n"
                             "openledger_rollup_l2_height{head=\"posted\"} %llu\n"
                             "openledger_rollup_l2_height{head=\"safe\"} %llu\n"
                             "# TYPE openledger_rollup_l1_reorgs_total counter\n"
                             "openledger_rollup_l1_reorgs_total %llu\n",
                             (unsigned long long)b.posted, (unsigned long long)b.safe,
                             (unsigned long long)b.reorgs);
    }
    uint64_t head = r->batcher ? b.l1_head : r->prop ? p.l1_head : 0;
    node_metrics_appendf(body, len,
                         "# TYPE openledger_rollup_l1_head gauge\nopenledger_rollup_l1_head %llu\n",
                         (unsigned long long)head);
    if (r->prop)
        node_metrics_appendf(
            body, len,
            "# HELP openledger_rollup_output_height Output heights on the L1 oracle.\n"
            "# TYPE openledger_rollup_output_height gauge\n"
            "openledger_rollup_output_height{state=\"posted\"} %llu\n"
            "openledger_rollup_output_height{state=\"finalized\"} %llu\n"
            "# TYPE openledger_rollup_outputs_total counter\n"
            "openledger_rollup_outputs_total %llu\n",
            (unsigned long long)p.posted, (unsigned long long)p.finalized,
            (unsigned long long)p.outputs);
    if (r->inbox) {
        rollup_inbox_watch_stats w;
        rollup_inbox_watch_get_stats(r->inbox, &w);
        node_metrics_appendf(
            body, len,
            "# HELP openledger_rollup_inbox_watch_requests_total L1 and beacon requests of the "
            "inbox watch.\n"
            "# TYPE openledger_rollup_inbox_watch_requests_total counter\n"
            "openledger_rollup_inbox_watch_requests_total{endpoint=\"l1\"} %llu\n"
            "openledger_rollup_inbox_watch_requests_total{endpoint=\"beacon\"} %llu\n"
            "# HELP openledger_rollup_inbox_watch_reorgs_total L1 reorganisations the watch met, "
            "by how it recovered.\n"
            "# TYPE openledger_rollup_inbox_watch_reorgs_total counter\n"
            "openledger_rollup_inbox_watch_reorgs_total{recovery=\"rewind\"} %llu\n"
            "openledger_rollup_inbox_watch_reorgs_total{recovery=\"rescan\"} %llu\n",
            (unsigned long long)w.l1_requests, (unsigned long long)w.blob_requests,
            (unsigned long long)w.rewinds, (unsigned long long)w.rescans);
    }
}
