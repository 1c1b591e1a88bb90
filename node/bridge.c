/* The node's side of the OPEN bridge (node/bridge.h): the deposit watcher
 * on the node's loop, the DEPOSIT transactions a proposer includes, the
 * check before a vote, and the bridge's /metrics.
 *
 * One poll every NODE_BRIDGE_POLL_MS, one L1 call at a time:
 *   eth_blockNumber;
 *   eth_getBlockByNumber of one kept deposit's block (round robin): a hash
 *     that changed (an L1 reorganisation deeper than depositConfirmations)
 *     drops that deposit and the later ones, and their blocks are read
 *     again;
 *   eth_getLogs of DepositInitiated, at most NODE_BRIDGE_LOG_RANGE blocks a
 *     call, up to head - depositConfirmations only (a shallower
 *     reorganisation never reaches what is kept);
 *   eth_getLogs of OutputProposed, Frozen and WithdrawalFinalized up to the
 *     head (the withdrawals' status only: a reorganisation there changes
 *     nothing the chain depends on). */
#include "node/bridge.h"

#include <stdlib.h>
#include <string.h>

#include "node/consensus.h"
#include "node/node_internal.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/keccak.h"
#include "util/hex.h"
#include "util/log.h"

typedef struct bridge_output {
    uint64_t height;
    uint64_t l1_time;
} bridge_output;

enum { ST_IDLE, ST_HEAD, ST_VERIFY, ST_DEPOSITS, ST_EVENTS };

struct node_bridge {
    node *n;
    uint64_t refused; /* blocks this validator did not vote for */

    /* The watcher (running with an L1). */
    int running;
    rollup_l1 *l1;
    rollup_config cfg;
    char url[160];
    uv_timer_t timer;
    int timer_inited;
    int stage;
    int has_head;
    uint64_t head;
    uint64_t dep_from; /* the next L1 block to read deposits from */
    uint64_t ev_from;  /* the next L1 block to read status events from */
    uint64_t req_to;   /* the last block of the range in flight */
    uint64_t range;    /* L1 blocks per DepositInitiated call: halved on an answer too big */
    uint64_t ev_range; /* the same for the status events */
    unsigned ev_calls; /* status-event calls in this poll */
    rollup_deposit deps[NODE_BRIDGE_MAX_DEPOSITS]; /* consecutive nonces, not minted */
    size_t ndeps;
    size_t verify_i;
    uint64_t gap_logged;        /* the nonce of the last gap logged, +1 (0: none) */
    uint64_t unmakeable_logged; /* the same for a deposit chain_tx_deposit_make refused */
    bridge_output outs[NODE_BRIDGE_MAX_OUTPUTS]; /* by height */
    size_t nouts;
    uint64_t *fin; /* finalized withdrawal ids, sorted */
    size_t nfin, capfin;
    int fin_full_logged;
    int frozen;
    uint8_t t_dep[32], t_fin[32], t_out[32], t_frozen[32];
};

static node_bridge *get(node *n)
{
    return n ? n->bridge : NULL;
}

int node_bridge_new(node *n, util_err *err)
{
    node_bridge *b = calloc(1, sizeof *b);
    if (!b) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    b->n = n;
    n->bridge = b;
    return 0;
}

void node_bridge_free(node *n)
{
    node_bridge *b = get(n);
    if (!b) return;
    free(b->fin);
    free(b);
    n->bridge = NULL;
}

/* ---- the view ---- */

/* Drops the deposits the chain minted. */
static void prune(node_bridge *b)
{
    chain_bridge_state st;
    util_err e = {0};
    if (chain_bridge_get(b->n->store, &st, &e)) return;
    size_t k = 0;
    while (k < b->ndeps && b->deps[k].nonce < st.next_deposit)
        k++;
    if (!k) return;
    memmove(b->deps, b->deps + k, (b->ndeps - k) * sizeof b->deps[0]);
    b->ndeps -= k;
    b->verify_i = 0;
}

static void view_of(node_bridge *b, node_bridge_view *v)
{
    memset(v, 0, sizeof *v);
    v->has_l1 = b->running && b->has_head;
    v->l1_head = b->head;
    v->confirmations = b->cfg.deposit_confirmations;
    v->deps = b->deps;
    v->ndeps = b->ndeps;
}

int node_bridge_deposit_txs(node *n, chain_tx *out, size_t max, size_t *nout, util_err *err)
{
    *nout = 0;
    node_bridge *b = get(n);
    if (!b || !b->running || !b->ndeps) return 0;
    chain_bridge_state st;
    int rc = chain_bridge_get(n->store, &st, err);
    if (rc) return rc;
    for (size_t i = 0; i < b->ndeps && *nout < max; i++) {
        const rollup_deposit *d = &b->deps[i];
        if (d->nonce < st.next_deposit) continue;
        if (d->nonce != st.next_deposit + *nout) break;
        /* Confirmed when read; a head that went back (another endpoint)
         * waits. */
        if (d->l1_block + b->cfg.deposit_confirmations > b->head) break;
        chain_tx_deposit body;
        node_bridge_deposit_body(&body, d);
        util_err e = {0};
        if (chain_tx_deposit_make(&out[*nout], n->genesis.chain_id, d->nonce, &body, &e)) {
            /* Not a deposit the chain can take (the contract refuses what
             * would be): the chain goes on without it; the log says why. */
            if (b->unmakeable_logged != d->nonce + 1)
                LOG_ERROR("bridge", "deposit %llu cannot be proposed: %s",
                          (unsigned long long)d->nonce, e.msg);
            b->unmakeable_logged = d->nonce + 1;
            break;
        }
        (*nout)++;
    }
    return 0;
}

int node_bridge_check_block(node *n, const chain_block *blk)
{
    node_bridge *b = get(n);
    if (!b) return 0;
    chain_bridge_state st;
    util_err e = {0};
    if (chain_bridge_get(n->store, &st, &e)) {
        LOG_WARN("bridge", "not voting for block %llu: reading the bridge state: %s",
                 (unsigned long long)blk->h.height, e.msg);
        b->refused++;
        return 1;
    }
    node_bridge_view v;
    view_of(b, &v);
    char why[512];
    if (!node_bridge_check_deposits(&v, &st, blk, why, sizeof why)) return 0;
    LOG_WARN("bridge", "not voting for block %llu: %s", (unsigned long long)blk->h.height, why);
    b->refused++;
    return 1;
}

/* ---- what the RPC methods read ---- */

void node_bridge_l1info_get(node *n, node_bridge_l1info *out)
{
    memset(out, 0, sizeof *out);
    node_bridge *b = get(n);
    if (!b || !b->running) return;
    out->running = 1;
    out->has_head = b->has_head;
    out->head = b->head;
    out->frozen = b->frozen;
    out->cfg = &b->cfg;
    out->url = b->url;
}

int node_bridge_pending(node *n, uint64_t nonce, rollup_deposit *out)
{
    node_bridge *b = get(n);
    if (!b || !b->ndeps || nonce < b->deps[0].nonce || nonce - b->deps[0].nonce >= b->ndeps)
        return UTIL_ENOTFOUND;
    *out = b->deps[nonce - b->deps[0].nonce];
    return 0;
}

int node_bridge_output_at_or_above(node *n, uint64_t height, uint64_t *out_height,
                                   uint64_t *l1_time)
{
    node_bridge *b = get(n);
    if (!b) return UTIL_ENOTFOUND;
    for (size_t i = 0; i < b->nouts; i++)
        if (b->outs[i].height >= height) {
            *out_height = b->outs[i].height;
            *l1_time = b->outs[i].l1_time;
            return 0;
        }
    return UTIL_ENOTFOUND;
}

static size_t fin_lower(const node_bridge *b, uint64_t id)
{
    size_t lo = 0, hi = b->nfin;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->fin[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int node_bridge_is_finalized(node *n, uint64_t id)
{
    node_bridge *b = get(n);
    if (!b || !b->nfin) return 0;
    size_t i = fin_lower(b, id);
    return i < b->nfin && b->fin[i] == id;
}

/* ---- the watcher ---- */

static void stage_fail(node_bridge *b, const char *what, const util_err *err)
{
    LOG_DEBUG("bridge", "%s: %s", what, err ? err->msg : "failed");
    b->stage = ST_IDLE;
}

static void call(node_bridge *b, int stage, const char *method, json_t *params, rollup_l1_cb cb)
{
    util_err e = {0};
    b->stage = stage;
    if (!params || rollup_l1_call(b->l1, method, params, cb, b, &e)) {
        if (!params) util_err_set(&e, UTIL_ENOMEM, "out of memory");
        stage_fail(b, method, &e);
    }
    json_decref(params);
}

static void on_events(void *ctx, int rc, json_t *result, const util_err *err);
static void on_deposits(void *ctx, int rc, json_t *result, const util_err *err);

static void request_events(node_bridge *b)
{
    /* Catching up with a long history is spread over several polls, so
     * that deposits are read every poll. */
    if (b->ev_from > b->head || b->ev_calls++ >= NODE_BRIDGE_EVENT_CALLS) {
        b->stage = ST_IDLE;
        return;
    }
    uint64_t to = b->head - b->ev_from >= b->ev_range ? b->ev_from + b->ev_range - 1 : b->head;
    b->req_to = to;
    json_t *filter = json_pack(
        "{s:[o,o], s:o, s:o, s:[[o,o,o]]}", "address", rollup_l1_address(&b->cfg.output_oracle),
        rollup_l1_address(&b->cfg.bridge), "fromBlock", rollup_l1_quantity(b->ev_from), "toBlock",
        rollup_l1_quantity(to), "topics", rollup_l1_data(b->t_out, 32),
        rollup_l1_data(b->t_frozen, 32), rollup_l1_data(b->t_fin, 32));
    call(b, ST_EVENTS, "eth_getLogs", filter ? json_pack("[o]", filter) : NULL, on_events);
}

static void request_deposits(node_bridge *b)
{
    uint32_t conf = b->cfg.deposit_confirmations;
    if (b->head < conf || b->dep_from > b->head - conf || b->ndeps >= NODE_BRIDGE_MAX_DEPOSITS)
        return request_events(b);
    uint64_t top = b->head - conf;
    uint64_t to = top - b->dep_from >= b->range ? b->dep_from + b->range - 1 : top;
    b->req_to = to;
    json_t *filter =
        json_pack("{s:o, s:o, s:o, s:[o]}", "address", rollup_l1_address(&b->cfg.bridge),
                  "fromBlock", rollup_l1_quantity(b->dep_from), "toBlock", rollup_l1_quantity(to),
                  "topics", rollup_l1_data(b->t_dep, 32));
    call(b, ST_DEPOSITS, "eth_getLogs", filter ? json_pack("[o]", filter) : NULL, on_deposits);
}

/* Drops deposit i and the ones after it, and reads their blocks again. */
static void drop_from(node_bridge *b, size_t i)
{
    if (i >= b->ndeps) return;
    b->dep_from = b->deps[i].l1_block;
    b->ndeps = i;
    b->verify_i = 0;
}

static int stopped(node_bridge *b, int rc)
{
    if (rc == UTIL_ESTATE || !b->running) {
        b->stage = ST_IDLE;
        return 1;
    }
    return 0;
}

static void on_verify(void *ctx, int rc, json_t *result, const util_err *err)
{
    node_bridge *b = ctx;
    if (stopped(b, rc)) return;
    node_lock(b->n);
    if (rc) {
        stage_fail(b, "eth_getBlockByNumber", err);
        node_unlock(b->n);
        return;
    }
    size_t i = b->verify_i;
    rollup_l1_block blk;
    util_err e = {0};
    if (i < b->ndeps && json_is_null(result)) {
        /* The L1 is shorter than it was: the block is gone. */
        LOG_WARN("bridge",
                 "deposit %llu: L1 block %llu is gone (an L1 reorganisation deeper than %u "
                 "blocks): dropped with the later ones, read again",
                 (unsigned long long)b->deps[i].nonce, (unsigned long long)b->deps[i].l1_block,
                 b->cfg.deposit_confirmations);
        drop_from(b, i);
    } else if (i < b->ndeps && rollup_l1_parse_block(result, 0, 0, &blk, &e) == 0) {
        if (memcmp(blk.hash, b->deps[i].l1_block_hash, 32) != 0) {
            LOG_WARN("bridge",
                     "deposit %llu: L1 block %llu is no longer the one its log was in (an L1 "
                     "reorganisation deeper than %u blocks): dropped with the later ones, "
                     "read again",
                     (unsigned long long)b->deps[i].nonce, (unsigned long long)b->deps[i].l1_block,
                     b->cfg.deposit_confirmations);
            drop_from(b, i);
        } else
            b->verify_i = i + 1 < b->ndeps ? i + 1 : 0;
        rollup_l1_block_free(&blk);
    } else if (i < b->ndeps)
        LOG_DEBUG("bridge", "eth_getBlockByNumber: %s", e.msg);
    request_deposits(b);
    node_unlock(b->n);
}

static void on_head(void *ctx, int rc, json_t *result, const util_err *err)
{
    node_bridge *b = ctx;
    if (stopped(b, rc)) return;
    node_lock(b->n);
    uint64_t head;
    util_err e = {0};
    if (rc || rollup_l1_parse_u64(result, &head, "eth_blockNumber", &e)) {
        stage_fail(b, "eth_blockNumber", rc ? err : &e);
        node_unlock(b->n);
        return;
    }
    b->head = head;
    b->has_head = 1;
    prune(b);
    if (b->ndeps) {
        if (b->verify_i >= b->ndeps) b->verify_i = 0;
        call(b, ST_VERIFY, "eth_getBlockByNumber",
             json_pack("[o,b]", rollup_l1_quantity(b->deps[b->verify_i].l1_block), 0), on_verify);
    } else
        request_deposits(b);
    node_unlock(b->n);
}

/* One DepositInitiated log; 1 when the range must be read again from
 * dep_from (a gap), else 0. */
static int take_deposit(node_bridge *b, const rollup_l1_log *log, uint64_t next_state, int *added)
{
    rollup_deposit d;
    util_err e = {0};
    if (rollup_bridge_parse_deposit(log, &d, &e)) {
        char h[67] = "0x";
        util_hex_encode(h + 2, log->tx_hash, 32);
        LOG_WARN("bridge", "L1 tx %s: ignoring a malformed DepositInitiated log: %s", h, e.msg);
        return 0;
    }
    uint64_t want = b->ndeps ? b->deps[b->ndeps - 1].nonce + 1 : next_state;
    if (d.nonce < want) {
        if (!b->ndeps || d.nonce < b->deps[0].nonce) return 0; /* minted */
        rollup_deposit *k = &b->deps[d.nonce - b->deps[0].nonce];
        if (memcmp(k->l1_block_hash, d.l1_block_hash, 32) == 0 && k->log_index == d.log_index)
            return 0;
        /* The same nonce somewhere else: the L1 reorganised under it. */
        LOG_WARN("bridge",
                 "deposit %llu moved to L1 block %llu (an L1 reorganisation): kept from there",
                 (unsigned long long)d.nonce, (unsigned long long)d.l1_block);
        b->ndeps = (size_t)(d.nonce - b->deps[0].nonce);
        want = d.nonce;
    }
    if (d.nonce > want) {
        if (b->gap_logged != d.nonce + 1)
            LOG_WARN("bridge",
                     "deposit nonces have a gap: expected %llu, L1 block %llu has %llu; "
                     "reading the L1 again from block %llu",
                     (unsigned long long)want, (unsigned long long)d.l1_block,
                     (unsigned long long)d.nonce,
                     (unsigned long long)(b->ndeps ? b->deps[b->ndeps - 1].l1_block
                                                   : b->cfg.deploy_block));
        b->gap_logged = d.nonce + 1;
        b->dep_from = b->ndeps ? b->deps[b->ndeps - 1].l1_block : b->cfg.deploy_block;
        return 1;
    }
    if (b->ndeps >= NODE_BRIDGE_MAX_DEPOSITS) {
        b->dep_from = d.l1_block; /* read again once the chain minted some */
        return 1;
    }
    b->deps[b->ndeps++] = d;
    *added = 1;
    return 0;
}

static void on_deposits(void *ctx, int rc, json_t *result, const util_err *err)
{
    node_bridge *b = ctx;
    if (stopped(b, rc)) return;
    node_lock(b->n);
    rollup_l1_log *logs = NULL;
    size_t n = 0;
    util_err e = {0};
    chain_bridge_state st;
    int prc = rc ? rc : rollup_l1_parse_logs(result, NODE_BRIDGE_MAX_LOGS, 256, &logs, &n, &e);
    if (prc || chain_bridge_get(b->n->store, &st, &e)) {
        /* Too many logs for one answer: fewer blocks a call. */
        if (prc == UTIL_ELIMIT && b->range > 1) b->range /= 2;
        stage_fail(b, "eth_getLogs DepositInitiated", rc ? err : &e);
        rollup_l1_logs_free(logs, n);
        node_unlock(b->n);
        return;
    }
    int added = 0, again = 0;
    for (size_t i = 0; i < n && !again; i++) {
        if (logs[i].removed || memcmp(logs[i].address.b, b->cfg.bridge.b, 20) != 0) continue;
        again = take_deposit(b, &logs[i], st.next_deposit, &added);
    }
    rollup_l1_logs_free(logs, n);
    if (!again) b->dep_from = b->req_to + 1;
    if (b->range < NODE_BRIDGE_LOG_RANGE) b->range++;
    if (added) {
        LOG_INFO("bridge", "deposits confirmed on the L1, not yet minted: %zu (up to nonce %llu)",
                 b->ndeps, (unsigned long long)b->deps[b->ndeps - 1].nonce);
        /* A waiting proposer builds now, as for a new transaction. */
        node_cons_tx_admitted(b->n);
    }
    if (again)
        request_events(b);
    else
        request_deposits(b);
    node_unlock(b->n);
}

static void add_output(node_bridge *b, uint64_t height, uint64_t t)
{
    size_t i = 0;
    while (i < b->nouts && b->outs[i].height < height)
        i++;
    if (i < b->nouts && b->outs[i].height == height) {
        b->outs[i].l1_time = t; /* posted again (after an L1 reorganisation) */
        return;
    }
    if (b->nouts == NODE_BRIDGE_MAX_OUTPUTS) {
        if (i == 0) return; /* older than everything kept */
        memmove(b->outs, b->outs + 1, (b->nouts - 1) * sizeof b->outs[0]);
        b->nouts--;
        i--;
    }
    memmove(b->outs + i + 1, b->outs + i, (b->nouts - i) * sizeof b->outs[0]);
    b->outs[i] = (bridge_output){height, t};
    b->nouts++;
}

static void add_finalized(node_bridge *b, uint64_t id)
{
    size_t i = fin_lower(b, id);
    if (i < b->nfin && b->fin[i] == id) return;
    if (b->nfin == NODE_BRIDGE_MAX_FINALIZED) {
        if (!b->fin_full_logged)
            LOG_WARN("bridge",
                     "%d finalized withdrawals remembered: later ones are not shown "
                     "as finalized (status only)",
                     NODE_BRIDGE_MAX_FINALIZED);
        b->fin_full_logged = 1;
        return;
    }
    if (b->nfin == b->capfin) {
        size_t cap = b->capfin ? 2 * b->capfin : 64;
        uint64_t *p = realloc(b->fin, cap * sizeof *p);
        if (!p) return;
        b->fin = p;
        b->capfin = cap;
    }
    memmove(b->fin + i + 1, b->fin + i, (b->nfin - i) * sizeof *b->fin);
    b->fin[i] = id;
    b->nfin++;
}

static void on_events(void *ctx, int rc, json_t *result, const util_err *err)
{
    node_bridge *b = ctx;
    if (stopped(b, rc)) return;
    node_lock(b->n);
    rollup_l1_log *logs = NULL;
    size_t n = 0;
    util_err e = {0};
    int prc = rc ? rc : rollup_l1_parse_logs(result, NODE_BRIDGE_MAX_LOGS, 256, &logs, &n, &e);
    if (prc) {
        if (prc == UTIL_ELIMIT && b->ev_range > 1) b->ev_range /= 2;
        stage_fail(b, "eth_getLogs of the oracle and the bridge", rc ? err : &e);
        node_unlock(b->n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const rollup_l1_log *l = &logs[i];
        if (l->removed || !l->ntopics) continue;
        int from_oracle = memcmp(l->address.b, b->cfg.output_oracle.b, 20) == 0;
        uint64_t a, t, amount;
        rollup_eth_addr to;
        if (from_oracle && memcmp(l->topics[0], b->t_frozen, 32) == 0) {
            if (!b->frozen)
                LOG_WARN("bridge",
                         "OutputOracle frozen in L1 block %llu: no withdrawal can be "
                         "finalized any more",
                         (unsigned long long)l->block_number);
            b->frozen = 1;
        } else if (from_oracle && memcmp(l->topics[0], b->t_out, 32) == 0 && l->ntopics >= 2 &&
                   rollup_abi_u64(l->topics[1], 32, 0, &a, &e) == 0 &&
                   rollup_abi_u64(l->data, l->data_len, 1, &t, &e) == 0) {
            add_output(b, a, t);
        } else if (!from_oracle && rollup_bridge_parse_finalized(l, &a, &to, &amount, &e) == 0) {
            add_finalized(b, a);
        }
    }
    rollup_l1_logs_free(logs, n);
    b->ev_from = b->req_to + 1;
    if (b->ev_range < NODE_BRIDGE_LOG_RANGE) b->ev_range++;
    request_events(b);
    node_unlock(b->n);
}

static void on_timer(uv_timer_t *t)
{
    node_bridge *b = t->data;
    if (!b->running || b->stage != ST_IDLE) return;
    b->ev_calls = 0;
    call(b, ST_HEAD, "eth_blockNumber", json_array(), on_head);
}

int node_bridge_start(node *n, rollup_l1 *l1, const rollup_config *cfg, const char *url_origin,
                      util_err *err)
{
    node_bridge *b = get(n);
    if (!b) return util_err_set(err, UTIL_ESTATE, "bridge: not set up");
    b->l1 = l1;
    b->cfg = *cfg;
    snprintf(b->url, sizeof b->url, "%s", url_origin);
    rollup_bridge_topic_deposit(b->t_dep);
    rollup_bridge_topic_finalized(b->t_fin);
    rollup_keccak256(b->t_out, "OutputProposed(uint64,bytes32,uint64)", 37);
    rollup_keccak256(b->t_frozen, "Frozen(uint64,bytes32,bytes32)", 30);
    /* A restart reads again from the L1 block of the last deposit minted:
     * the ones not minted yet come after it. */
    chain_bridge_state st;
    int rc = chain_bridge_get(n->store, &st, err);
    if (rc) return util_err_prefix(err, "bridge: "), rc;
    b->dep_from =
        st.last_deposit_l1_block > cfg->deploy_block ? st.last_deposit_l1_block : cfg->deploy_block;
    b->ev_from = cfg->deploy_block;
    b->range = b->ev_range = NODE_BRIDGE_LOG_RANGE;
    b->running = 1;
    uv_timer_init(&n->loop, &b->timer);
    b->timer.data = b;
    b->timer_inited = 1;
    uv_timer_start(&b->timer, on_timer, 0, NODE_BRIDGE_POLL_MS);
    LOG_INFO("bridge", "watching deposits of Bridge from L1 block %llu, %u confirmations",
             (unsigned long long)b->dep_from, cfg->deposit_confirmations);
    return 0;
}

void node_bridge_stop(node *n)
{
    node_bridge *b = get(n);
    if (!b || !b->running) return;
    b->running = 0;
    if (b->timer_inited) {
        uv_timer_stop(&b->timer);
        uv_close((uv_handle_t *)&b->timer, NULL);
        b->timer_inited = 0;
    }
    b->l1 = NULL;
}

void node_bridge_metrics(node *n, char **body, size_t *len)
{
    node_bridge *b = get(n);
    if (!b) return;
    chain_bridge_state st;
    util_err e = {0};
    if (chain_bridge_get(n->store, &st, &e)) memset(&st, 0, sizeof st);
    uint64_t genesis = chain_genesis_supply(&n->genesis);
    node_metrics_appendf(
        body, len,
        "# HELP openledger_supply_base_units L2 supply: genesis + minted - burned.\n"
        "# TYPE openledger_supply_base_units gauge\n"
        "openledger_supply_base_units %llu\n"
        "# HELP openledger_bridge_locked_base_units What the L2 owes the bridge: minted - "
        "burned.\n"
        "# TYPE openledger_bridge_locked_base_units gauge\n"
        "openledger_bridge_locked_base_units %llu\n"
        "# TYPE openledger_bridge_minted_base_units counter\n"
        "openledger_bridge_minted_base_units %llu\n"
        "# TYPE openledger_bridge_burned_base_units counter\n"
        "openledger_bridge_burned_base_units %llu\n"
        "# HELP openledger_bridge_deposits_confirmed_pending Deposits confirmed on the L1, not "
        "yet minted.\n"
        "# TYPE openledger_bridge_deposits_confirmed_pending gauge\n"
        "openledger_bridge_deposits_confirmed_pending %llu\n"
        "# HELP openledger_bridge_blocks_refused_total Proposals not voted for by the L1-view "
        "rules.\n"
        "# TYPE openledger_bridge_blocks_refused_total counter\n"
        "openledger_bridge_blocks_refused_total %llu\n",
        (unsigned long long)(genesis + st.minted - st.burned),
        (unsigned long long)(st.minted - st.burned), (unsigned long long)st.minted,
        (unsigned long long)st.burned, (unsigned long long)b->ndeps,
        (unsigned long long)b->refused);
}
