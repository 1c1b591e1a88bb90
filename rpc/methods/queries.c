/* Query methods for wallets and explorers: block ranges, receipts, the genesis,
 * transactions by address, gas estimates, the mempool and peers
 * (rpc/methods/queries.h). */
#include "rpc/methods/queries.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/state/objects.h"
#include "rpc/methods/methods.h"
#include "rpc/params.h"
#include "util/bytes.h"
#include "util/hex.h"

static json_t *store_fail(rpc_error *e, const util_err *ue)
{
    if (ue->code == UTIL_ENOTFOUND) return rpc_fail(e, RPC_NOT_FOUND, NULL, "%s", ue->msg);
    return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue->msg);
}

/* Optional page size at params[i]: 1..RPC_PAGE_MAX, default RPC_PAGE_DEFAULT. */
static int page_limit(json_t *params, size_t i, size_t *out, rpc_error *e)
{
    *out = RPC_PAGE_DEFAULT;
    if (!rpc_param_present(params, i)) return 0;
    uint64_t v;
    if (rpc_param_u64(params, i, "limit", &v, e)) return -1;
    if (v < 1 || v > RPC_PAGE_MAX) {
        rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param %zu (limit): must be 1 to %d", i,
                 RPC_PAGE_MAX);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* --- chain_getBlockRange ------------------------------------------------ */

/* A block's summary: only the header and the tx count are decoded, so a page
 * of large blocks stays cheap. */
static json_t *block_summary(chain_store *st, uint64_t height, rpc_error *e)
{
    uint8_t id[32];
    util_err ue = {0};
    if (chain_store_block_id_at(st, height, id, &ue)) return store_fail(e, &ue);
    chain_header h;
    uint64_t ntx = 0;
    size_t size = 0;
    int rc = chain_store_get_block_summary(st, id, &h, &ntx, &size, &ue);
    if (rc == UTIL_ENOTFOUND)
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "block %llu missing from the store",
                        (unsigned long long)height);
    if (rc)
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "block %llu: %s", (unsigned long long)height,
                        ue.msg);
    json_t *out = json_pack("{s:o,s:I,s:I,s:I,s:o}", "hash", rpc_json_hex(id, 32), "height",
                            (json_int_t)height, "txCount", (json_int_t)ntx, "size",
                            (json_int_t)size, "header", rpc_json_header(&h));
    return out ? out : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}

static json_t *m_block_range(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    chain_store *st = env->store;
    rpc_block_ref ref;
    size_t limit;
    const char *order = "asc";
    if (rpc_param_count(params, 1, 3, e) || rpc_param_block_ref(params, 0, "from", &ref, e) ||
        page_limit(params, 1, &limit, e) ||
        (rpc_param_present(params, 2) && rpc_param_str(params, 2, "order", 4, &order, e)))
        return NULL;
    int desc = strcmp(order, "desc") == 0;
    if (!desc && strcmp(order, "asc") != 0)
        return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 2 (order): \"asc\" or \"desc\"");
    uint64_t head = chain_store_height(st), from;
    if (ref.kind == RPC_BLOCK_HASH)
        return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                        "param 0 (from): a height, \"latest\" or "
                        "\"finalized\"");
    from = ref.kind == RPC_BLOCK_NUMBER ? ref.number : head;
    if (from > head)
        return rpc_fail(e, RPC_NOT_FOUND, NULL, "block %llu not found: head is %llu",
                        (unsigned long long)from, (unsigned long long)head);
    json_t *blocks = json_array();
    if (!blocks) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    uint64_t h = from;
    size_t n = 0;
    int more = 1;
    while (n < limit) {
        json_t *b = block_summary(st, h, e);
        if (!b) {
            json_decref(blocks);
            return NULL;
        }
        json_array_append_new(blocks, b);
        n++;
        if (desc ? h == 0 : h == head) {
            more = 0;
            break;
        }
        h = desc ? h - 1 : h + 1;
    }
    return json_pack("{s:o,s:o}", "blocks", blocks, "next",
                     more ? json_integer((json_int_t)h) : json_null());
}

/* --- chain_getReceipt ----------------------------------------------------- */

static json_t *m_get_receipt(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    chain_store *st = env->store;
    uint8_t txid[32];
    if (rpc_param_count(params, 1, 1, e) || rpc_param_hash32(params, 0, "hash", txid, e))
        return NULL;
    uint64_t height;
    uint32_t index;
    util_err ue = {0};
    int rc = chain_store_tx_location(st, txid, &height, &index, &ue);
    if (rc == UTIL_ENOTFOUND) {
        int pending = chain_mempool_get(env->mempool, txid) != NULL;
        return rpc_fail(e, RPC_NOT_FOUND,
                        json_pack("{s:s}", "reason", pending ? "pending" : "unknown"),
                        pending ? "no receipt yet: the transaction is in the mempool"
                                : "transaction not found");
    }
    if (rc) return store_fail(e, &ue);
    uint8_t id[32];
    chain_receipt *rs = NULL;
    size_t nr = 0;
    if (chain_store_block_id_at(st, height, id, &ue) ||
        chain_store_get_receipts(st, id, &rs, &nr, &ue))
        return store_fail(e, &ue);
    json_t *out = NULL;
    if (index < nr) {
        out = rpc_json_receipt(&rs[index]);
        if (out && (json_object_set_new(out, "txHash", rpc_json_hex(txid, 32)) ||
                    json_object_set_new(out, "blockHeight", json_integer((json_int_t)height)) ||
                    json_object_set_new(out, "blockHash", rpc_json_hex(id, 32)) ||
                    json_object_set_new(out, "index", json_integer((json_int_t)index)))) {
            json_decref(out);
            out = NULL;
        }
        if (!out) rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    } else {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "transaction index is inconsistent with its block");
    }
    for (size_t i = 0; i < nr; i++)
        chain_receipt_free(&rs[i]);
    free(rs);
    return out;
}

/* --- tx_list ------------------------------------------------------------------ */

/* The cursor of tx_list: the position of the last transaction of the
 * previous page, height u64be | index u32be (12 bytes, in hex). */
#define TX_CURSOR_LEN 12

typedef struct tx_page {
    size_t n, want;
    uint64_t heights[RPC_PAGE_MAX + 1];
    uint32_t indexes[RPC_PAGE_MAX + 1];
    uint8_t ids[RPC_PAGE_MAX + 1][32];
} tx_page;

static int collect_tx(void *ctx, uint64_t height, uint32_t index, const uint8_t txid[32])
{
    tx_page *p = ctx;
    p->heights[p->n] = height;
    p->indexes[p->n] = index;
    memcpy(p->ids[p->n], txid, 32);
    return ++p->n >= p->want;
}

/* The block of the previous entry is kept: an address's transactions often
 * share blocks. */
typedef struct block_cache {
    uint64_t height;
    int have;
    chain_block b;
    chain_receipt *rs;
    size_t nr;
} block_cache;

static void cache_drop(block_cache *c)
{
    if (!c->have) return;
    chain_block_free(&c->b);
    for (size_t i = 0; i < c->nr; i++)
        chain_receipt_free(&c->rs[i]);
    free(c->rs);
    memset(c, 0, sizeof *c);
}

static int cache_load(chain_store *st, block_cache *c, uint64_t height, util_err *ue)
{
    if (c->have && c->height == height) return 0;
    cache_drop(c);
    uint8_t id[32];
    if (chain_store_block_id_at(st, height, id, ue) ||
        chain_store_get_block(st, id, &c->b, NULL, ue))
        return -1;
    if (chain_store_get_receipts(st, id, &c->rs, &c->nr, ue)) {
        chain_block_free(&c->b);
        return -1;
    }
    c->have = 1;
    c->height = height;
    return 0;
}

static json_t *m_tx_list(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    chain_store *st = env->store;
    chain_addr a;
    size_t limit;
    uint8_t cursor[TX_CURSOR_LEN] = {0};
    int have_cursor = 0;
    if (rpc_param_count(params, 1, 3, e) || rpc_param_addr(params, 0, "address", &a, e) ||
        page_limit(params, 2, &limit, e))
        return NULL;
    if (rpc_param_present(params, 1)) {
        if (rpc_param_hex_exact(params, 1, "cursor", cursor, TX_CURSOR_LEN, e)) return NULL;
        have_cursor = 1;
    }
    uint64_t after_height = util_get_u64be(cursor);
    uint32_t after_index = (uint32_t)cursor[8] << 24 | (uint32_t)cursor[9] << 16 |
                           (uint32_t)cursor[10] << 8 | cursor[11];
    tx_page *pg = calloc(1, sizeof *pg);
    if (!pg) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    pg->want = limit + 1; /* one more tells whether another page exists */
    util_err ue = {0};
    if (chain_store_addr_txs(st, &a, have_cursor, after_height, after_index, pg->want, collect_tx,
                             pg, &ue)) {
        free(pg);
        return store_fail(e, &ue);
    }
    json_t *txs = json_array();
    if (!txs) rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    block_cache cache = {0};
    size_t shown = pg->n < limit ? pg->n : limit;
    for (size_t i = 0; txs && i < shown; i++) {
        uint64_t height = pg->heights[i];
        uint32_t index = pg->indexes[i];
        if (cache_load(st, &cache, height, &ue)) {
            json_decref(txs);
            txs = NULL;
            store_fail(e, &ue);
            break;
        }
        if (index >= cache.b.ntx || index >= cache.nr ||
            memcmp(cache.b.txs[index].id, pg->ids[i], 32) != 0) {
            json_decref(txs);
            txs = NULL;
            rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "transaction index disagrees with block %llu",
                     (unsigned long long)height);
            break;
        }
        /* An entry that cannot be built fails the page: a list never skips
         * one silently. */
        if (json_array_append_new(txs, json_pack("{s:o,s:I,s:I,s:o,s:o}", "hash",
                                                 rpc_json_hex(pg->ids[i], 32), "blockHeight",
                                                 (json_int_t)height, "index", (json_int_t)index,
                                                 "tx", rpc_json_tx(&cache.b.txs[index]), "receipt",
                                                 rpc_json_receipt(&cache.rs[index])))) {
            json_decref(txs);
            txs = NULL;
            rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
            break;
        }
    }
    cache_drop(&cache);
    json_t *out = NULL;
    if (txs) {
        json_t *next = json_null();
        if (pg->n > limit) {
            util_put_u64be(cursor, pg->heights[limit - 1]);
            uint32_t ix = pg->indexes[limit - 1];
            cursor[8] = (uint8_t)(ix >> 24);
            cursor[9] = (uint8_t)(ix >> 16);
            cursor[10] = (uint8_t)(ix >> 8);
            cursor[11] = (uint8_t)ix;
            next = rpc_json_hex(cursor, TX_CURSOR_LEN);
        }
        out = json_pack("{s:o,s:o}", "txs", txs, "nextCursor", next);
        if (!out) rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    }
    free(pg);
    return out;
}

/* --- tx_estimateGas ----------------------------------------------------------- */

static json_t *m_estimate_gas(void *ctx, json_t *params, rpc_error *e)
{
    uint8_t *raw;
    size_t n;
    if (rpc_param_count(params, 1, 1, e) ||
        rpc_param_hex(params, 0, "tx", CHAIN_TX_MAX_SIZE, &raw, &n, e))
        return NULL;
    chain_tx tx;
    util_err ue = {0};
    int signed_ = 1;
    int rc = chain_tx_decode(&tx, raw, n, &ue);
    if (rc) {
        /* An unsigned transaction: the encoding without the 64 signature
         * bytes. Decode it with a zero signature. */
        uint8_t *full =
            n + CHAIN_SIG_LEN <= CHAIN_TX_MAX_SIZE ? calloc(1, n + CHAIN_SIG_LEN) : NULL;
        util_err ue2 = {0};
        if (full) {
            memcpy(full, raw, n);
            if (chain_tx_decode(&tx, full, n + CHAIN_SIG_LEN, &ue2) == 0) {
                rc = 0;
                signed_ = 0;
            }
            free(full);
        }
    }
    free(raw);
    if (rc) return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 0 (tx): %s", ue.msg);
    uint64_t gas = chain_tx_intrinsic_gas(&tx);
    /* Native bodies charge a fixed amount; a contract, or an attribution
     * whose reward runs contract code, may use more than the intrinsic gas. */
    int exact =
        tx.type != CHAIN_TX_DEPLOY && tx.type != CHAIN_TX_CALL && tx.type != CHAIN_TX_ATTRIBUTE;
    json_t *out = json_pack("{s:I,s:b,s:s,s:b}", "gas", (json_int_t)gas, "exact", exact, "type",
                            chain_tx_type_name(tx.type), "signed", signed_);
    chain_tx_free(&tx);
    return out;
}

/* --- mempool_status, node_peers, consensus_state, chain_getGenesis ---------------------------- */

static json_t *m_mempool_status(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    if (rpc_param_count(params, 0, 0, e)) return NULL;
    chain_mempool *mp = env->mempool;
    const chain_mempool_cfg *c = &env->mempool_cfg;
    return json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I}", "count", (json_int_t)chain_mempool_count(mp),
        "queued", (json_int_t)chain_mempool_queued(mp), "bytes",
        (json_int_t)chain_mempool_bytes(mp), "maxCount", (json_int_t)c->max_txs, "maxBytes",
        (json_int_t)c->max_bytes, "minGasPrice", rpc_json_u64str(c->min_gas_price), "maxNonceAhead",
        (json_int_t)c->max_nonce_ahead, "maxQueuedPerSender", (json_int_t)c->max_queued_per_sender,
        "queuedLifetimeS", (json_int_t)c->queued_lifetime_s);
}

static json_t *m_node_peers(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    if (rpc_param_count(params, 0, 0, e)) return NULL;
    json_t *peers = env->p2p_peers ? env->p2p_peers(env->ctx) : json_array();
    if (!peers) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    return peers;
}

static json_t *m_consensus_state(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    if (rpc_param_count(params, 0, 0, e)) return NULL;
    json_t *st = env->cons_state ? env->cons_state(env->ctx) : json_pack("{s:b}", "running", 0);
    if (!st) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    return st;
}

static json_t *m_genesis(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    if (rpc_param_count(params, 0, 0, e)) return NULL;
    const chain_genesis *g = env->genesis;
    char when[32] = "";
    time_t t = (time_t)(g->genesis_time_ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *vals = json_array();
    for (size_t i = 0; vals && i < g->nval; i++)
        json_array_append_new(vals, json_pack("{s:s,s:o,s:o,s:I}", "name", g->vals[i].name,
                                              "pubkey", rpc_json_hex(g->vals[i].pubkey, 32),
                                              "address", rpc_json_addr(&g->vals[i].addr), "power",
                                              (json_int_t)g->vals[i].power));
    uint64_t supply = 0;
    for (size_t i = 0; i < g->nalloc; i++)
        supply += g->alloc[i].balance; /* the genesis parser checked it fits u64 */
    const chain_params *p = &g->params;
    return json_pack(
        "{s:o,s:s,s:s,s:I,s:{s:o,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:o,s:o,s:o,s:I,"
        "s:o}",
        "hash", rpc_json_hex(g->hash, 32), "chainId", g->chain_id, "genesisTime", when,
        "genesisTimeMs", (json_int_t)g->genesis_time_ms, "params", "blockGasLimit",
        rpc_json_u64str(p->block_gas_limit), "blockMaxBytes", rpc_json_u64str(p->block_max_bytes),
        "txMaxBytes", rpc_json_u64str(p->tx_max_bytes), "minGasPrice",
        rpc_json_u64str(p->min_gas_price), "timeoutProposeMs", (json_int_t)p->timeout_propose_ms,
        "timeoutProposeDeltaMs", (json_int_t)p->timeout_propose_delta_ms, "timeoutPrevoteMs",
        (json_int_t)p->timeout_prevote_ms, "timeoutPrevoteDeltaMs",
        (json_int_t)p->timeout_prevote_delta_ms, "timeoutPrecommitMs",
        (json_int_t)p->timeout_precommit_ms, "timeoutPrecommitDeltaMs",
        (json_int_t)p->timeout_precommit_delta_ms, "timeoutCommitMs",
        (json_int_t)p->timeout_commit_ms, "maxClockDriftMs", (json_int_t)p->max_clock_drift_ms,
        "outputIntervalBlocks", (json_int_t)p->output_interval_blocks, "validators", vals,
        "validatorsHash", rpc_json_hex(g->validators_hash, 32), "consensusParamsHash",
        rpc_json_hex(g->params_hash, 32), "allocCount", (json_int_t)g->nalloc, "allocTotal",
        rpc_json_u64str(supply));
}

int rpc_methods_queries_register(rpc_dispatch *d, rpc_env *env)
{
    static const struct {
        const char *name;
        rpc_method_fn fn;
    } m[] = {
        {"chain_getBlockRange", m_block_range}, {"chain_getReceipt", m_get_receipt},
        {"chain_getGenesis", m_genesis},        {"tx_list", m_tx_list},
        {"tx_estimateGas", m_estimate_gas},     {"mempool_status", m_mempool_status},
        {"node_peers", m_node_peers},           {"consensus_state", m_consensus_state},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (rpc_dispatch_add(d, m[i].name, m[i].fn, env)) return -1;
    return 0;
}
