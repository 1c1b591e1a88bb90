/* openledgerd start-up and shutdown: genesis, store, key, mempool, RPC and
 * the block timer wired on one libuv loop (node/node.h). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/crypto/hash.h"
#include "node/bridge.h"
#include "node/consensus.h"
#include "node/node_internal.h"
#include "node/output_sigs.h"
#include "node/p2p.h"
#include "node/rollup.h"
#include "node/validator_key.h"
#include "rollup/derive.h"
#include "rpc/transport/addrtab.h"
#include "rpc/explorer/explorer.h"
#include "rpc/transport/http.h"
#include "rpc/jsonrpc.h"
#include "rpc/methods/env.h"
#include "rpc/methods/metrics.h"
#include "rpc/methods/subs.h"
#include "util/amount.h"
#include "util/env.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/time.h"

#define DEV_ACCOUNTS 10
#define DEV_VALIDATOR_INDEX 1000

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void print_dev_accounts(const node *n)
{
    printf("\nOpenLedger devnet: chain id %s\n\n", n->genesis.chain_id);
    printf("Development accounts (keys are PUBLIC: seckey = SHA-256(\"openledger devnet key\" || "
           "le32(i)), see docs/devnet.md)\n\n");
    for (uint32_t i = 0; i < DEV_ACCOUNTS; i++) {
        chain_keypair kp;
        chain_addr a;
        char addr[CHAIN_ADDR_STR_LEN + 1], sk[65], bal[UTIL_AMOUNT_STR_MAX] = "0";
        if (chain_keypair_dev(&kp, i)) continue;
        chain_addr_from_pubkey(&a, kp.pubkey);
        chain_addr_encode(addr, &a);
        util_hex_encode(sk, kp.seckey, 32);
        chain_account acc;
        if (chain_store_get_account(n->store, &a, &acc, NULL) == 0)
            util_amount_format_open(bal, acc.balance);
        printf("(%u) dev%u  %s  %s OPEN\n    secret 0x%s\n", i, i, addr, bal, sk);
        chain_keypair_clear(&kp);
    }
    /* An IPv6 host goes in brackets in a URL. */
    char host[sizeof n->cfg.rpc_host + 2];
    snprintf(host, sizeof host, strchr(n->cfg.rpc_host, ':') ? "[%s]" : "%s", n->cfg.rpc_host);
    printf("\nExplorer: http://%s:%d/\nJSON-RPC: http://%s:%d   (openledger-cli --rpc http://%s:%d "
           "status)\n\n",
           host, rpc_http_port(n->http), host, rpc_http_port(n->http), host,
           rpc_http_port(n->http));
    fflush(stdout);
}

static int account_cb(void *ctx, const chain_addr *a, uint64_t *balance, uint64_t *nonce)
{
    node *n = ctx;
    chain_account acc;
    int rc = chain_store_get_account(n->store, a, &acc, NULL);
    if (rc) return rc;
    *balance = acc.balance;
    *nonce = acc.nonce;
    return 0;
}

void node_block_committed(node *n, const chain_block *b, const uint8_t id[32],
                          const chain_receipt *rs, uint64_t exec_ns, uint64_t commit_ns)
{
    uint64_t now = util_mono_ns();
    rpc_metrics_block(n->metrics, n->last_commit_ns ? now - n->last_commit_ns : 0, exec_ns,
                      commit_ns, b->ntx);
    n->last_commit_ns = now;
    rpc_subs_block(n->subs, b, id, rs);
    node_outsig_block_committed(n, b, id);
    node_p2p_head_changed(n);
    node_cons_head_changed(n);
}

void node_tx_admitted(node *n, const chain_tx *tx)
{
    rpc_metrics_tx_admitted(n->metrics);
    rpc_subs_pending_tx(n->subs, tx);
    node_p2p_tx_admitted(n, tx);
    node_cons_tx_admitted(n);
}

/* admin_mempoolFlush: a fresh, empty pool replaces the old one. */
static size_t flush_mempool(void *ctx)
{
    node *n = ctx;
    chain_mempool *fresh = chain_mempool_new(&n->mempool_cfg, account_cb, n);
    if (!fresh) return 0;
    size_t dropped = chain_mempool_count(n->mempool);
    chain_mempool_free(n->mempool);
    n->mempool = fresh;
    n->rpc_env.mempool = fresh;
    return dropped;
}

int node_register_rpc(node *n, rpc_dispatch *d)
{
    if (rpc_methods_register(d, &n->rpc_env)) return -1;
    if (node_bridge_register(n, d)) return -1;
    return node_outsig_register(n, d);
}

static char *dup_text(const char *s, size_t *len)
{
    *len = strlen(s);
    return strdup(s);
}

int node_http_get(void *ctx, const char *path, int *status, const char **ctype, char **body,
                  size_t *len)
{
    node *n = ctx;
    return node_http_get_srv(n, n ? n->http : NULL, path, status, ctype, body, len);
}

int node_http_get_srv(node *n, struct rpc_http *srv, const char *path, int *status,
                      const char **ctype, char **body, size_t *len)
{
    if (strcmp(path, "/health") == 0) {
        char b[128];
        /* A single validator is synced once its store is open and its loop
         * runs; with peers this will also need the head to be current. */
        snprintf(b, sizeof b, "{\"status\":\"%s\",\"height\":%llu}\n",
                 n->running ? "ok" : "starting", (unsigned long long)chain_store_height(n->store));
        *status = n->running ? 200 : 503;
        *ctype = "application/json";
        *body = dup_text(b, len);
        return 0;
    }
    if (strcmp(path, "/metrics") == 0) {
        rpc_metrics_gauges g = {.height = chain_store_height(n->store),
                                .mempool_txs = chain_mempool_count(n->mempool),
                                .mempool_bytes = chain_mempool_bytes(n->mempool),
                                .leveldb_write_bytes = chain_store_write_bytes(n->store),
                                .subscriptions = rpc_subs_count(n->subs)};
        rpc_http_get_stats(srv, &g.http);
        *body = rpc_metrics_render(n->metrics, &g, len);
        node_p2p_metrics(n, body, len);
        node_cons_metrics(n, body, len);
        node_rollup_metrics(n, body, len);
        node_bridge_metrics(n, body, len);
        *status = *body ? 200 : 500;
        *ctype = RPC_METRICS_CONTENT_TYPE;
        return 0;
    }
    /* The block explorer page; POST / stays JSON-RPC (the route only sees GET/HEAD). */
    if (rpc_explorer_path(path)) return rpc_explorer_get(path, status, ctype, body, len);
    return 1;
}

void node_metrics_appendf(char **body, size_t *len, const char *fmt, ...)
{
    if (!*body) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *nb = w < 0 ? NULL : realloc(*body, *len + (size_t)w + 1);
    if (!nb) {
        free(*body);
        *body = NULL;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(nb + *len, (size_t)w + 1, fmt, ap);
    va_end(ap);
    *len += (size_t)w;
    *body = nb;
}

static void on_block_timer(uv_timer_t *t)
{
    node *n = t->data;
    int allow_empty =
        n->cfg.empty_block_ms &&
        util_env_mono_ns(n->cfg.env) - n->last_block_mono_ns >= n->cfg.empty_block_ms * 1000000ull;
    int produced;
    util_err err = {0};
    node_lock(n);
    /* An idle pool would otherwise keep expired queued transactions until
     * the next add or block. */
    chain_mempool_expire(n->mempool);
    int rc = node_produce_block(n, allow_empty, &produced, &err);
    node_unlock(n);
    if (rc) {
        /* A failed commit leaves the store at its last block; stopping is the
         * only safe answer to a storage that refuses writes. */
        LOG_ERROR("node", "block production failed: %s; stopping", err.msg);
        uv_stop(&n->loop);
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    node *n = s->data;
    node_lock(n);
    uint64_t height = chain_store_height(n->store);
    node_unlock(n);
    LOG_INFO("node", "signal %d: shutting down at height %llu", signum, (unsigned long long)height);
    uv_stop(&n->loop);
}

/* --dev signs with the public development key; any other node with the key
 * that `openledgerd init` left in its data directory. */
static int load_validator_key(node *n, util_err *err)
{
    /* A follower signs nothing: it needs no validator key. */
    if (n->cfg.follower) return 0;
    if (n->cfg.dev) {
        if (chain_keypair_dev(&n->validator, DEV_VALIDATOR_INDEX))
            return util_err_set(err, UTIL_ECRYPTO, "no development key");
        n->has_validator_key = 1;
        return 0;
    }
    char path[PATH_MAX + 32];
    int rc = node_key_path(path, sizeof path, n->cfg.datadir, err);
    if (!rc) rc = node_key_load(n->cfg.env, path, &n->validator, err);
    if (rc == 0) n->has_validator_key = 1;
    /* With peers to follow, a data directory without a validator key is a
     * follower's (docs/node.md, "Followers"). */
    if (rc == UTIL_ENOTFOUND && n->cfg.p2p_peers[0] && n->cfg.p2p_host[0]) {
        LOG_INFO("node", "no validator key in %s: following the peers", n->cfg.datadir);
        return 0;
    }
    if (rc == UTIL_ENOTFOUND)
        return util_err_set(err, rc,
                            "no validator key in %s: create one with `openledgerd init --datadir "
                            "%s`, or run a development chain with --dev",
                            n->cfg.datadir, n->cfg.datadir);
    return rc;
}

/* A block is final with signatures of more than 2/3 of the voting power.
 * Until consensus between validators exists, a node produces only when its
 * own key holds that much; any other node serves the chain it has, read-only. */
static void decide_producing(node *n)
{
    uint64_t total = 0, mine = 0;
    n->validator_index = UINT32_MAX;
    if (!n->has_validator_key) {
        n->producing = 0;
        LOG_INFO("node", "follower: this node produces no blocks; it verifies and executes "
                         "the blocks of its peers");
        return;
    }
    for (size_t i = 0; i < n->genesis.nval; i++) {
        total += n->genesis.vals[i].power; /* the genesis checked that the sum fits */
        if (memcmp(n->genesis.vals[i].pubkey, n->validator.pubkey, 32) == 0) {
            n->validator_index = (uint32_t)i;
            mine = n->genesis.vals[i].power;
        }
    }
    uint64_t others = total - mine;
    n->producing =
        n->validator_index != UINT32_MAX && others <= UINT64_MAX / 2 && mine > 2 * others;
    char addr[CHAIN_ADDR_STR_LEN + 1], pk[65];
    chain_addr a;
    chain_addr_from_pubkey(&a, n->validator.pubkey);
    chain_addr_encode(addr, &a);
    util_hex_encode(pk, n->validator.pubkey, 32);
    if (n->validator_index == UINT32_MAX)
        LOG_WARN("node",
                 "key %s (0x%s) is not in the genesis validator set: this node does not produce "
                 "blocks; it follows its peers (--peers) and serves JSON-RPC",
                 addr, pk);
    else if (!n->producing)
        LOG_INFO("node",
                 "validator %s, key %s (0x%s), power %llu of %llu: blocks are decided by "
                 "consensus with the other validators",
                 n->genesis.vals[n->validator_index].name, addr, pk, (unsigned long long)mine,
                 (unsigned long long)total);
    else
        LOG_INFO("node", "validator %s, key %s (0x%s)", n->genesis.vals[n->validator_index].name,
                 addr, pk);
}

int node_start(node **out, const node_cfg *cfg, util_err *err)
{
    node *n = calloc(1, sizeof *n);
    if (!n) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    n->cfg = *cfg;
    util_log_set_level(cfg->log_level);
    chain_hash_init();
    int rc;

    if (cfg->genesis_path[0])
        rc = chain_genesis_load_file(&n->genesis, cfg->genesis_path, err);
    else {
        const char *js = chain_genesis_devnet_json();
        rc = chain_genesis_parse(&n->genesis, js, strlen(js), err);
    }
    if (rc) {
        util_err_prefix(err, "genesis: ");
        goto fail;
    }

    if ((rc = load_validator_key(n, err))) goto fail;
    decide_producing(n);

    if (!n->cfg.datadir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(n->cfg.datadir, sizeof n->cfg.datadir, "%s/openledger-dev-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(n->cfg.datadir)) {
            rc = util_err_set(err, UTIL_EIO, "cannot create a temporary data directory");
            goto fail;
        }
        n->remove_datadir = 1;
    } else if (mkdir(n->cfg.datadir, 0700) && access(n->cfg.datadir, W_OK)) {
        rc = util_err_set(err, UTIL_EIO, "cannot use data directory %s", n->cfg.datadir);
        goto fail;
    }
    char dbdir[PATH_MAX + 8];
    snprintf(dbdir, sizeof dbdir, "%s/chain", n->cfg.datadir);
    chain_store_opts sopts = {.env = n->cfg.env};
    /* Undo records serve proofs at past heights (--proof-history); deriving
     * from the L1, they also let an L1 reorganisation take blocks back. */
    sopts.undo_blocks = n->cfg.proof_history;
    /* Proofs need the state's past values only; rollback needs everything. */
    sopts.undo_state_only = 1;
    if (n->cfg.derive_l1_url[0]) {
        sopts.undo_state_only = 0;
        if (sopts.undo_blocks < ROLLUP_DERIVE_UNDO_BLOCKS)
            sopts.undo_blocks = ROLLUP_DERIVE_UNDO_BLOCKS;
    }
    if ((rc = chain_store_open_opts(&n->store, dbdir, &sopts, err))) goto fail;
    if ((rc = chain_store_init_genesis(n->store, &n->genesis, err))) goto fail;
    LOG_INFO("node", "data directory %s%s, head at height %llu", n->cfg.datadir,
             n->remove_datadir ? " (temporary)" : "",
             (unsigned long long)chain_store_height(n->store));

    chain_mempool_cfg mcfg = {
        .min_gas_price = n->genesis.params.min_gas_price,
        .block_gas_limit = n->genesis.params.block_gas_limit,
        .max_tx_size = (size_t)n->genesis.params.tx_max_bytes,
        .max_txs = 200000,
        .max_bytes = 64u << 20,
        .max_nonce_ahead = 4096,
        .max_queued_per_sender = 64,
        .queued_lifetime_s = 600,
        .env = n->cfg.env,
    };
    snprintf(mcfg.chain_id, sizeof mcfg.chain_id, "%s", n->genesis.chain_id);
    memcpy(mcfg.genesis_hash, n->genesis.hash, 32);
    if ((rc = util_env_random(n->cfg.env, &mcfg.hash_seed, sizeof mcfg.hash_seed, err))) goto fail;
    n->mempool_cfg = mcfg;
    n->mempool = chain_mempool_new(&mcfg, account_cb, n);
    if (!n->mempool) {
        rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
        goto fail;
    }

    uv_loop_init(&n->loop);
    n->loop_inited = 1;
    if ((rc = node_outsig_start(n, err))) goto fail;
    if ((rc = node_bridge_new(n, err))) goto fail;
    n->dispatch = rpc_dispatch_new();
    if (!n->dispatch) {
        rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
        goto fail;
    }
    n->subs = rpc_subs_new();
    n->rpc_env = (rpc_env){.store = n->store,
                           .genesis = &n->genesis,
                           .mempool = n->mempool,
                           .mempool_cfg = n->mempool_cfg,
                           .subs = n->subs,
                           .submit_tx = node_submit_tx,
                           .batch_tx = node_batch_tx,
                           .vm_begin = node_vm_begin,
                           .vm_end = node_vm_end,
                           .mempool_flush = flush_mempool,
                           .p2p_status = node_p2p_status_json,
                           .p2p_peers = node_p2p_peers_json,
                           .cons_status = node_cons_status_json,
                           .cons_state = node_outsig_cons_state_json,
                           .l1_status = n->cfg.derive_l1_url[0] ? node_derive_status_json
                                                                : node_rollup_status_json,
                           .ctx = n};
    if (!n->subs || node_register_rpc(n, n->dispatch) ||
        !(n->metrics = rpc_metrics_new(n->dispatch))) {
        rc = util_err_set(err, UTIL_ENOMEM, "registering RPC methods failed");
        goto fail;
    }
    rpc_dispatch_set_batch_hook(n->dispatch, node_batch_hook, node_batch_end, n);
    /* One connection table for every loop, so the per-address limits hold
     * across them; sized from the connection cap that fits the fd limit. */
    unsigned loops = n->cfg.rpc_threads > 1 ? n->cfg.rpc_threads : 1;
    int max_conns = n->cfg.rpc_max_conns ? n->cfg.rpc_max_conns : RPC_HTTP_DEFAULT_MAX_CONNS;
    if ((rc = node_fit_fd_limit(loops, &max_conns, err))) goto fail;
    rpc_addrtab *tab =
        rpc_addrtab_new((size_t)max_conns * loops, n->cfg.rpc_max_conns_per_ip
                                                       ? (unsigned)n->cfg.rpc_max_conns_per_ip
                                                       : RPC_HTTP_DEFAULT_MAX_CONNS_PER_IP);
    if (!tab) {
        rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
        goto fail;
    }
    rpc_http_cfg hcfg = {.host = n->cfg.rpc_host,
                         .port = n->cfg.rpc_port,
                         .max_body = (size_t)n->cfg.rpc_max_body,
                         .max_conns = max_conns,
                         .max_reply = (size_t)n->cfg.rpc_max_reply,
                         .addrtab = tab,
                         .cors_origin = n->cfg.rpc_cors[0] ? n->cfg.rpc_cors : NULL,
                         .auth_token = n->cfg.rpc_auth_token[0] ? n->cfg.rpc_auth_token : NULL,
                         .rate_limit = n->cfg.rpc_rate_limit,
                         .ws_send_limit = (size_t)n->cfg.rpc_ws_send_limit,
                         .session_closed = rpc_subs_session_closed,
                         .session_ctx = n->subs};
    if (n->cfg.rpc_threads > 1 && (rc = node_rpc_workers_prepare(n, &hcfg, err))) {
        rpc_addrtab_unref(tab);
        goto fail;
    }
    rc = rpc_http_start(&n->http, &n->loop, &hcfg, n->dispatch, node_http_get, n, err);
    if (rc == 0 && n->cfg.rpc_threads > 1) rc = node_rpc_workers_start(n, &hcfg, err);
    rpc_addrtab_unref(tab); /* the servers hold their references */
    if (rc) {
        util_err_prefix(err, "JSON-RPC on %s:%d: ", n->cfg.rpc_host, n->cfg.rpc_port);
        goto fail;
    }
    if (!hcfg.auth_token && strncmp(n->cfg.rpc_host, "127.", 4) != 0 &&
        strcmp(n->cfg.rpc_host, "localhost") != 0 && strcmp(n->cfg.rpc_host, "::1") != 0)
        LOG_WARN("node", "JSON-RPC on %s without --rpc-auth-token: admin methods are disabled",
                 n->cfg.rpc_host);

    if ((rc = node_p2p_start(n, err))) goto fail;
    if ((rc = node_cons_start(n, err))) goto fail;
    if ((rc = node_rollup_start(n, err))) goto fail;
    if ((rc = node_derive_start(n, err))) goto fail;

    uv_timer_init(&n->loop, &n->block_timer);
    n->block_timer.data = n;
    if (n->producing)
        uv_timer_start(&n->block_timer, on_block_timer, n->cfg.block_time_ms, n->cfg.block_time_ms);
    uv_signal_init(&n->loop, &n->sig_int);
    uv_signal_init(&n->loop, &n->sig_term);
    n->sig_int.data = n->sig_term.data = n;
    uv_signal_start(&n->sig_int, on_signal, SIGINT);
    uv_signal_start(&n->sig_term, on_signal, SIGTERM);
    n->last_block_mono_ns = util_env_mono_ns(n->cfg.env);

    if (n->cfg.dev && !n->cfg.quiet_accounts) print_dev_accounts(n);
    const char *lb = strchr(n->cfg.rpc_host, ':') ? "[" : "", *rb = *lb ? "]" : "";
    if (n->producing)
        LOG_INFO("node", "JSON-RPC listening on http://%s%s%s:%d, block time %llu ms", lb,
                 n->cfg.rpc_host, rb, rpc_http_port(n->http),
                 (unsigned long long)n->cfg.block_time_ms);
    else
        LOG_INFO("node", "JSON-RPC listening on http://%s%s%s:%d, %s", lb, n->cfg.rpc_host, rb,
                 rpc_http_port(n->http), n->cons ? "blocks by consensus" : "not producing blocks");
    *out = n;
    return 0;
fail:
    node_free(n);
    return rc ? rc : UTIL_EINVAL;
}

int node_run(node *n)
{
    n->running = 1;
    uv_run(&n->loop, UV_RUN_DEFAULT);
    n->running = 0;
    return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

void node_free(node *n)
{
    if (!n) return;
    /* Workers first: they may still hand sockets to this loop. */
    node_rpc_workers_stop(n);
    if (n->http) rpc_http_stop(n->http);
    n->http = NULL;
    if (n->loop_inited) {
        node_rollup_stop(n);
        node_cons_stop(n);
        node_derive_stop(n);
        node_p2p_stop(n); /* the net closes its own handles first */
        uv_walk(&n->loop, close_walk, NULL);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        uv_loop_close(&n->loop);
    }
    node_rollup_free(n);
    node_cons_free(n);
    node_derive_free(n);
    node_p2p_free(n);
    node_outsig_free(n);
    node_bridge_free(n);
    node_rpc_workers_free(n);
    rpc_metrics_free(n->metrics);
    rpc_subs_free(n->subs);
    rpc_dispatch_free(n->dispatch);
    chain_mempool_free(n->mempool);
    chain_store_close(n->store);
    chain_genesis_free(&n->genesis);
    chain_keypair_clear(&n->validator);
    if (n->remove_datadir) nftw(n->cfg.datadir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(n);
}
