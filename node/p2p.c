/* The node's peer-to-peer layer (node/p2p.h): start and stop of the
 * transport, the message handler, transaction gossip through the node's
 * admission, and what RPC and /metrics show of peers. Block sync is
 * node/p2p_sync.c. */
#include "node/p2p.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/consensus.h"
#include "node/node_internal.h"
#include "node/output_sigs.h"
#include "node/validator_key.h"
#include "rpc/jsonrpc.h"
#include "util/hex.h"
#include "util/log.h"

#define TICK_MS 250
#define GOSSIP_CACHE 65536
#define OUTBOX_MAX_TXS 20000
#define OUTBOX_MAX_BYTES (32u << 20)
#define PENALTY_BAD_TX 20 /* a relayed tx that fails stateless checks */

node_peer *node_p2p_find(node_p2p *np, uint64_t token)
{
    for (size_t i = 0; i < np->npeers; i++)
        if (np->peers[i].token == token) return &np->peers[i];
    return NULL;
}

static void refresh_snapshot(node_p2p *np)
{
    uv_mutex_lock(&np->snap_lock);
    np->nsnap = 0;
    for (size_t i = 0; i < np->npeers; i++) {
        node_peer_snap *s = &np->snap[np->nsnap++];
        p2p_peer_get_stats(np->peers[i].p, &s->st);
        s->height = p2p_sync_peer_height(np->sync, np->peers[i].token);
    }
    p2p_net_get_stats(np->net, &np->net_stats);
    np->snap_height = p2p_sync_height(np->sync);
    np->snap_target = p2p_sync_target(np->sync);
    np->snap_syncing = p2p_sync_behind(np->sync, 2);
    np->snap_blocks = np->blocks_synced;
    uv_mutex_unlock(&np->snap_lock);
}

void node_p2p_send_status(node_p2p *np, p2p_peer *to)
{
    node *n = np->n;
    p2p_status st;
    node_lock(n);
    st.height = chain_store_height(n->store);
    chain_store_head_id(n->store, st.head);
    node_unlock(n);
    util_buf b;
    util_buf_init(&b);
    util_err err = {0};
    if (p2p_status_encode(&st, &b, &err) == 0) {
        if (to) {
            if (p2p_net_send(to, P2P_MSG_STATUS, b.data, b.len, &err)) {
                /* a slow peer is dropped by the net; nothing else to do */
            }
        } else
            p2p_net_broadcast(np->net, NULL, P2P_MSG_STATUS, b.data, b.len);
    }
    util_buf_free(&b);
}

static void on_peer_up(void *ctx, p2p_peer *p)
{
    node_p2p *np = ctx;
    if (np->npeers == NODE_P2P_MAX_PEERS) {
        p2p_net_disconnect(p, "too many peers");
        return;
    }
    node_peer *pp = &np->peers[np->npeers++];
    pp->token = ++np->next_token;
    pp->p = p;
    p2p_peer_set_user(p, (void *)(uintptr_t)pp->token);
    node_p2p_send_status(np, p);
    node_cons_peer_up(np->n, p);
    refresh_snapshot(np);
}

static void on_peer_down(void *ctx, p2p_peer *p)
{
    node_p2p *np = ctx;
    uint64_t token = (uint64_t)(uintptr_t)p2p_peer_user(p);
    for (size_t i = 0; i < np->npeers; i++)
        if (np->peers[i].p == p) {
            np->peers[i] = np->peers[--np->npeers];
            break;
        }
    if (token) p2p_sync_peer_remove(np->sync, token);
    refresh_snapshot(np);
    node_p2p_sync_pump(np);
}

static size_t on_max_len(void *ctx, p2p_peer *p, uint8_t type)
{
    node_p2p *np = ctx;
    if (type == P2P_MSG_BLOCKS) {
        uint64_t token = (uint64_t)(uintptr_t)p2p_peer_user(p);
        return token && p2p_sync_expecting(np->sync, token) ? p2p_msg_max_len(type) : 0;
    }
    return p2p_msg_max_len(type);
}

/* A transaction from a peer: the node's admission, as tx_send, with the
 * dry run charged to a per-message budget. */
static int on_txs(node_p2p *np, node_peer *pp, const uint8_t *payload, size_t len, util_err *err)
{
    node *n = np->n;
    p2p_txs m;
    int rc = p2p_txs_decode(&m, payload, len, err);
    if (rc) return rc;
    rpc_budget budget = {.gas = RPC_BODY_GAS};
    rpc_call call = {.body = &budget};
    for (size_t i = 0; i < m.n && !rc; i++) {
        chain_tx tx;
        util_err terr = {0};
        if (chain_tx_decode(&tx, m.txs[i].p, m.txs[i].n, &terr)) {
            rc = util_err_set(err, UTIL_EINVAL, "bad_tx: %s", terr.msg);
            break;
        }
        np->txs_in++;
        if (!p2p_gossip_note(np->gossip, tx.id, pp->token)) {
            chain_tx_free(&tx);
            continue;
        }
        uint64_t token = pp->token;
        node_lock(n);
        int reason = node_submit_tx(n, &call, &tx, &terr);
        node_unlock(n);
        chain_tx_free(&tx);
        switch (reason) {
        case CHAIN_MP_MALFORMED:
        case CHAIN_MP_BAD_SIGNATURE:
        case CHAIN_MP_WRONG_CHAIN:
        case CHAIN_MP_TOO_LARGE:
        case CHAIN_MP_UNSUPPORTED:
            /* A relayer checks these before relaying: sending one is
             * misbehaviour, though not proof of malice (rules can differ
             * between versions), so points rather than a ban. */
            p2p_peer_penalize(pp->p, PENALTY_BAD_TX, chain_mempool_reason_text(reason));
            break;
        case CHAIN_MP_POOL_FULL:
        case CHAIN_MP_INTERNAL:
        case CHAIN_MP_NONCE_TOO_HIGH:
        case CHAIN_MP_TOO_MANY_QUEUED:
            /* May pass later: let a later copy be tried again. */
            p2p_gossip_forget(np->gossip, tx.id);
            break;
        default: break; /* admitted (relayed by the hook), or a race */
        }
        if (!(pp = node_p2p_find(np, token))) break; /* penalized away */
    }
    p2p_txs_free(&m);
    return rc;
}

static int on_message(void *ctx, p2p_peer *p, uint8_t type, const uint8_t *payload, size_t len,
                      util_err *err)
{
    node_p2p *np = ctx;
    node_peer *pp = node_p2p_find(np, (uint64_t)(uintptr_t)p2p_peer_user(p));
    if (!pp) return util_err_set(err, UTIL_ESTATE, "message from an unknown peer");
    switch (type) {
    case P2P_MSG_STATUS: {
        p2p_status st;
        int rc = p2p_status_decode(&st, payload, len, err);
        if (rc) return rc;
        uint64_t before = p2p_sync_peer_height(np->sync, pp->token);
        if (p2p_sync_peer_status(np->sync, pp->token, st.height))
            return util_err_set(err, UTIL_ENOMEM, "out of memory");
        if (st.height > before) node_outsig_peer_status(np->n, p, before, st.height);
        node_p2p_sync_pump(np);
        return 0;
    }
    case P2P_MSG_TXS: return on_txs(np, pp, payload, len, err);
    case P2P_MSG_GET_BLOCKS: return node_p2p_on_get_blocks(np, pp, payload, len, err);
    case P2P_MSG_BLOCKS: return node_p2p_on_blocks(np, pp, payload, len, err);
    case P2P_MSG_PROPOSAL:
    case P2P_MSG_VOTE:
    case P2P_MSG_EVIDENCE: return node_cons_on_message(np->n, p, type, payload, len, err);
    case P2P_MSG_OUTPUT_SIG: return node_outsig_on_message(np->n, p, payload, len, err);
    default: return util_err_set(err, UTIL_EINVAL, "unexpected_type: message type 0x%02x", type);
    }
}

/* Sends the outbox: each transaction to every peer that did not send it to
 * us, batched into TXS messages. */
static void flush_outbox(node_p2p *np)
{
    uv_mutex_lock(&np->out_lock);
    util_buf txs = np->out_txs;
    size_t *lens = np->out_len, cnt = np->out_n;
    util_buf_init(&np->out_txs);
    np->out_len = NULL;
    np->out_n = np->out_cap = 0;
    int announce = np->announce;
    np->announce = 0;
    uv_mutex_unlock(&np->out_lock);

    if (announce) {
        node_lock(np->n);
        uint64_t h = chain_store_height(np->n->store);
        node_unlock(np->n);
        p2p_sync_applied(np->sync, h);
        node_p2p_send_status(np, NULL);
    }
    if (cnt) {
        p2p_bytes *items = malloc(cnt * sizeof *items);
        uint8_t(*ids)[32] = malloc(cnt * 32);
        p2p_bytes *sel = malloc(cnt * sizeof *sel);
        if (items && ids && sel) {
            size_t off = 0;
            for (size_t i = 0; i < cnt; i++) {
                items[i] = (p2p_bytes){txs.data + off, lens[i]};
                off += lens[i];
                chain_tx tx;
                if (chain_tx_decode(&tx, items[i].p, items[i].n, NULL) == 0) {
                    memcpy(ids[i], tx.id, 32);
                    chain_tx_free(&tx);
                } else
                    memset(ids[i], 0, 32);
                if (p2p_gossip_note(np->gossip, ids[i], 0)) {
                    /* admitted over RPC: new to gossip */
                }
            }
            util_buf b;
            util_buf_init(&b);
            for (size_t k = 0; k < np->npeers; k++) {
                node_peer *pp = &np->peers[k];
                size_t ns = 0, bytes = 0;
                for (size_t i = 0; i <= cnt; i++) {
                    int flush = i == cnt || ns == P2P_TXS_MAX_COUNT ||
                                bytes + items[i].n + 16 > P2P_TXS_MAX_LEN;
                    if (flush && ns) {
                        util_buf_reset(&b);
                        util_err err = {0};
                        if (p2p_txs_encode(sel, ns, &b, &err) == 0 &&
                            p2p_net_send(pp->p, P2P_MSG_TXS, b.data, b.len, &err) == 0)
                            np->txs_relayed += ns;
                        ns = bytes = 0;
                    }
                    if (i == cnt) break;
                    if (p2p_gossip_peer_has(np->gossip, ids[i], pp->token)) continue;
                    sel[ns++] = items[i];
                    bytes += items[i].n + 16;
                }
            }
            util_buf_free(&b);
        }
        free(items);
        free(ids);
        free(sel);
    }
    util_buf_free(&txs);
    free(lens);
}

static void on_wake(uv_async_t *a)
{
    node_p2p *np = a->data;
    if (np->stopping) return;
    flush_outbox(np);
    node_p2p_sync_pump(np);
}

static void on_tick(uv_timer_t *t)
{
    node_p2p *np = t->data;
    if (np->stopping) return;
    node_p2p_sync_pump(np);
    refresh_snapshot(np);
}

void node_p2p_tx_admitted(node *n, const chain_tx *tx)
{
    node_p2p *np = n->p2p;
    if (!np) return;
    util_buf enc;
    util_buf_init(&enc);
    if (chain_tx_encode(tx, &enc) == 0 && !enc.oom) {
        uv_mutex_lock(&np->out_lock);
        if (np->out_n < OUTBOX_MAX_TXS && np->out_txs.len + enc.len <= OUTBOX_MAX_BYTES) {
            if (np->out_n == np->out_cap) {
                size_t nc = np->out_cap ? 2 * np->out_cap : 64;
                size_t *nl = realloc(np->out_len, nc * sizeof *nl);
                if (nl) {
                    np->out_len = nl;
                    np->out_cap = nc;
                }
            }
            if (np->out_n < np->out_cap) {
                util_buf_put(&np->out_txs, enc.data, enc.len);
                np->out_len[np->out_n++] = enc.len;
            }
        }
        /* A full outbox drops the transaction from gossip only: it stays
         * pooled here and reaches blocks from this node's pool. */
        uv_mutex_unlock(&np->out_lock);
        uv_async_send(&np->wake);
    }
    util_buf_free(&enc);
}

void node_p2p_head_changed(node *n)
{
    node_p2p *np = n->p2p;
    if (!np) return;
    uv_mutex_lock(&np->out_lock);
    np->announce = 1;
    uv_mutex_unlock(&np->out_lock);
    uv_async_send(&np->wake);
}

static int parse_peers(const char *list, p2p_peer_addr **out, size_t *n, util_err *err)
{
    *out = NULL;
    *n = 0;
    if (!list || !*list) return 0;
    char *copy = strdup(list);
    if (!copy) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    size_t cap = 1;
    for (const char *c = list; *c; c++)
        cap += *c == ',';
    p2p_peer_addr *a = calloc(cap, sizeof *a);
    int rc = a ? 0 : util_err_set(err, UTIL_ENOMEM, "out of memory");
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        if (!*tok) continue;
        rc = p2p_peer_addr_parse(tok, &a[*n], err);
        if (rc)
            util_err_prefix(err, "--peers: ");
        else
            (*n)++;
    }
    free(copy);
    if (rc) {
        free(a);
        *n = 0;
        return rc;
    }
    *out = a;
    return 0;
}

static void destroy(node_p2p *np)
{
    if (np->net) p2p_net_free(np->net);
    for (size_t i = 0; i < np->npipe; i++)
        node_p2p_range_free(np->pipe[i]);
    while (np->graves) {
        node_range *r = np->graves;
        np->graves = r->grave_next;
        node_p2p_range_free(r);
    }
    uv_mutex_destroy(&np->sig_lock);
    chain_sig_cache_free(np->loop_keys);
    p2p_sync_free(np->sync);
    p2p_gossip_free(np->gossip);
    util_buf_free(&np->out_txs);
    free(np->out_len);
    uv_mutex_destroy(&np->out_lock);
    uv_mutex_destroy(&np->snap_lock);
    chain_keypair_clear(&np->key);
    free(np);
}

static int start(node *n, node_p2p *np, util_err *err);

int node_p2p_start(node *n, util_err *err)
{
    if (!n->cfg.p2p_host[0]) return 0;
    node_p2p *np = calloc(1, sizeof *np);
    if (!np) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    np->n = n;
    uv_mutex_init(&np->out_lock);
    uv_mutex_init(&np->snap_lock);
    uv_mutex_init(&np->sig_lock);
    util_buf_init(&np->out_txs);
    int rc = start(n, np, err);
    if (rc) {
        destroy(np);
        return rc;
    }
    /* RPC worker threads read n->p2p under the lock (node_tx_admitted):
     * publish it only now that its handles exist, and under the lock. */
    node_lock(n);
    n->p2p = np;
    node_unlock(n);
    return 0;
}

static int start(node *n, node_p2p *np, util_err *err)
{
    int created, rc;
    rc = node_keyfile_load_or_create(&node_node_key_kind, n->cfg.env, n->cfg.datadir, &np->key,
                                     &created, err);
    if (rc) return rc;
    p2p_node_id(np->key.pubkey, np->id);
    p2p_node_id_hex(np->id, np->id_hex);
    if (created) LOG_INFO("p2p", "created node key %s/%s", n->cfg.datadir, NODE_NODE_KEY_FILE);

    uint64_t seed;
    if ((rc = util_env_random(n->cfg.env, &seed, sizeof seed, err))) return rc;
    np->gossip = p2p_gossip_new(GOSSIP_CACHE, seed);
    p2p_sync_cfg scfg = {.free_user = node_p2p_range_free};
    np->sync = p2p_sync_new(&scfg, chain_store_height(n->store));
    if (!np->gossip || !np->sync) return util_err_set(err, UTIL_ENOMEM, "out of memory");

    p2p_peer_addr *peers = NULL;
    size_t npeers = 0;
    if ((rc = parse_peers(n->cfg.p2p_peers, &peers, &npeers, err))) return rc;
    char book[PATH_MAX + 32];
    snprintf(book, sizeof book, "%s/peers.json", n->cfg.datadir);
    p2p_net_cfg ncfg = {
        .loop = &n->loop,
        .env = n->cfg.env,
        .node_key = &np->key,
        .chain_id = n->genesis.chain_id,
        .listen_port = (uint16_t)n->cfg.p2p_port,
        .persistent = peers,
        .n_persistent = npeers,
        .pex = !n->cfg.p2p_no_pex,
        .book_path = book,
        .handler = {.ctx = np,
                    .peer_up = on_peer_up,
                    .peer_down = on_peer_down,
                    .max_len = on_max_len,
                    .message = on_message},
    };
    memcpy(ncfg.genesis_hash, n->genesis.hash, 32);
    snprintf(ncfg.listen_host, sizeof ncfg.listen_host, "%s", n->cfg.p2p_host);
    rc = p2p_net_start(&np->net, &ncfg, err);
    if (rc && n->cfg.p2p_default) {
        /* The default address is taken (another node on this machine): run
         * without accepting peers rather than refuse to start, so a second
         * `--dev` node keeps working; --p2p chooses a free one. */
        LOG_WARN("p2p",
                 "cannot listen on %s:%d (%s): not accepting peers; choose another "
                 "address with --p2p HOST:PORT",
                 n->cfg.p2p_host, n->cfg.p2p_port, err->msg);
        ncfg.listen_host[0] = 0;
        rc = p2p_net_start(&np->net, &ncfg, err);
    }
    free(peers);
    if (rc)
        return util_err_prefix(err, "peer-to-peer on %s:%d: ", n->cfg.p2p_host, n->cfg.p2p_port);
    /* The net logs "node id ID listening on HOST:PORT". */
    uint16_t port = p2p_net_listen_port(np->net);
    if (port) {
        const char *lb = strchr(n->cfg.p2p_host, ':') ? "[" : "", *rb = *lb ? "]" : "";
        snprintf(np->listen, sizeof np->listen, "%s%s%s:%u", lb, n->cfg.p2p_host, rb, port);
    } else
        LOG_INFO("p2p", "node id %s, not accepting peers", np->id_hex);

    uv_timer_init(&n->loop, &np->tick);
    uv_async_init(&n->loop, &np->wake, on_wake);
    np->tick.data = np->wake.data = np;
    np->handles = 1;
    uv_timer_start(&np->tick, on_tick, TICK_MS, TICK_MS);
    refresh_snapshot(np);
    return 0;
}

static void on_net_stopped(void *arg)
{
    node_p2p *np = arg;
    np->stopped = 1;
}

void node_p2p_stop(node *n)
{
    node_p2p *np = n->p2p;
    if (!np || !np->net || np->stopping) return;
    np->stopping = 1;
    uv_mutex_lock(&np->sig_lock);
    np->sig_stop = 1; /* before wake closes */
    uv_mutex_unlock(&np->sig_lock);
    if (np->handles) {
        uv_timer_stop(&np->tick);
        uv_close((uv_handle_t *)&np->tick, NULL);
        uv_close((uv_handle_t *)&np->wake, NULL);
    }
    p2p_net_stop(np->net, on_net_stopped, np);
    /* Bounded: the net closes its sockets within a few loop turns. */
    for (int i = 0; i < 2000 && !np->stopped; i++)
        if (uv_run(&n->loop, UV_RUN_NOWAIT) == 0 && !np->stopped) uv_sleep(1);
}

void node_p2p_free(node *n)
{
    if (!n->p2p) return;
    destroy(n->p2p);
    n->p2p = NULL;
}

/* ---- RPC and metrics (any thread) ---- */

int node_p2p_status_json(void *ctx, json_t *st)
{
    node *n = ctx;
    node_p2p *np = n->p2p;
    if (!np) {
        json_object_set_new(st, "nodeId", json_null());
        json_object_set_new(st, "p2pListen", json_null());
        json_object_set_new(st, "syncing", json_false());
        json_object_set_new(st, "syncTarget",
                            json_integer((json_int_t)chain_store_height(n->store)));
        json_object_set_new(st, "peers", json_integer(0));
        return 0;
    }
    uv_mutex_lock(&np->snap_lock);
    json_object_set_new(st, "nodeId", json_string(np->id_hex));
    json_object_set_new(st, "p2pListen", np->listen[0] ? json_string(np->listen) : json_null());
    json_object_set_new(st, "syncing", json_boolean(np->snap_syncing));
    uint64_t h = chain_store_height(n->store);
    json_object_set_new(st, "syncTarget",
                        json_integer((json_int_t)(np->snap_target > h ? np->snap_target : h)));
    json_object_set_new(st, "peers", json_integer((json_int_t)np->nsnap));
    uv_mutex_unlock(&np->snap_lock);
    return 0;
}

json_t *node_p2p_peers_json(void *ctx)
{
    node *n = ctx;
    json_t *arr = json_array();
    node_p2p *np = n->p2p;
    if (!np || !arr) return arr;
    uv_mutex_lock(&np->snap_lock);
    for (size_t i = 0; i < np->nsnap; i++) {
        const node_peer_snap *s = &np->snap[i];
        char id[2 * P2P_NODE_ID_LEN + 1];
        p2p_node_id_hex(s->st.id, id);
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:s,s:I,s:i,s:I,s:I}", "id", id, "address", s->st.addr,
                           "direction", s->st.outbound ? "outbound" : "inbound", "height",
                           (json_int_t)s->height, "score", s->st.score, "bytesIn",
                           (json_int_t)s->st.bytes_in, "bytesOut", (json_int_t)s->st.bytes_out));
    }
    uv_mutex_unlock(&np->snap_lock);
    return arr;
}

void node_p2p_metrics(node *n, char **body, size_t *len)
{
    node_p2p *np = n->p2p;
    if (!np || !*body) return;
    uv_mutex_lock(&np->snap_lock);
    const p2p_net_stats *s = &np->net_stats;
    node_metrics_appendf(body, len,
                         "# HELP openledger_p2p_peers Connected peers by direction.\n"
                         "# TYPE openledger_p2p_peers gauge\n");
    node_metrics_appendf(body, len, "openledger_p2p_peers{direction=\"inbound\"} %llu\n",
                         (unsigned long long)s->peers_in);
    node_metrics_appendf(body, len, "openledger_p2p_peers{direction=\"outbound\"} %llu\n",
                         (unsigned long long)s->peers_out);
    node_metrics_appendf(body, len, "# TYPE openledger_p2p_bytes_total counter\n");
    node_metrics_appendf(body, len, "openledger_p2p_bytes_total{direction=\"in\"} %llu\n",
                         (unsigned long long)s->bytes_in);
    node_metrics_appendf(body, len, "openledger_p2p_bytes_total{direction=\"out\"} %llu\n",
                         (unsigned long long)s->bytes_out);
    node_metrics_appendf(body, len, "# TYPE openledger_p2p_messages_total counter\n");
    for (int t = 0; t < 256; t++) {
        if (s->msgs_in[t])
            node_metrics_appendf(
                body, len, "openledger_p2p_messages_total{type=\"%s\",direction=\"in\"} %llu\n",
                p2p_msg_name((uint8_t)t), (unsigned long long)s->msgs_in[t]);
        if (s->msgs_out[t])
            node_metrics_appendf(
                body, len, "openledger_p2p_messages_total{type=\"%s\",direction=\"out\"} %llu\n",
                p2p_msg_name((uint8_t)t), (unsigned long long)s->msgs_out[t]);
    }
    node_metrics_appendf(
        body, len, "# TYPE openledger_p2p_bans_total counter\nopenledger_p2p_bans_total %llu\n",
        (unsigned long long)s->bans);
    node_metrics_appendf(body, len,
                         "# TYPE openledger_p2p_handshake_failures_total counter\n"
                         "openledger_p2p_handshake_failures_total %llu\n",
                         (unsigned long long)s->handshake_failures);
    node_metrics_appendf(body, len,
                         "# TYPE openledger_p2p_dropped_slow_total counter\n"
                         "openledger_p2p_dropped_slow_total %llu\n",
                         (unsigned long long)s->dropped_slow);
    node_metrics_appendf(
        body, len,
        "# HELP openledger_sync_target_height Highest height a peer claimed.\n"
        "# TYPE openledger_sync_target_height gauge\nopenledger_sync_target_height %llu\n",
        (unsigned long long)np->snap_target);
    node_metrics_appendf(body, len,
                         "# TYPE openledger_sync_syncing gauge\nopenledger_sync_syncing %d\n",
                         np->snap_syncing);
    node_metrics_appendf(
        body, len,
        "# TYPE openledger_sync_blocks_total counter\nopenledger_sync_blocks_total %llu\n",
        (unsigned long long)np->snap_blocks);
    uv_mutex_unlock(&np->snap_lock);
}
