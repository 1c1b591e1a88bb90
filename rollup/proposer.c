/* The proposer: output roots signed by the validators and posted to the
 * OutputOracle; the oracle's latest and finalized heights followed
 * (rollup/proposer.h). */
#include "rollup/proposer.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/eth/abi.h"
#include "rollup/output.h"
#include "util/bytes.h"
#include "util/log.h"
#include "util/time.h"

typedef struct slot {
    int used;
    uint64_t height;
    uint8_t root[32];
    int checked; /* root is the one this node computed */
    int own;     /* our signature is in */
    uint8_t
        own_sig[ROLLUP_ETH_SIG_LEN]; /* kept for the record; peers get it from node/output_sigs.c */
    rollup_sigset set;
} slot;

struct rollup_proposer {
    uv_timer_t timer;
    rollup_l1 *l1;
    rollup_txmgr *tx;
    chain_store *store;
    const chain_genesis *g;
    rollup_config cfg;
    rollup_proposer_opts o;
    int has_sk;
    uint8_t sk[32];
    int closed;
    unsigned refs;
    int busy;     /* an eth_call in flight */
    int inflight; /* a proposeOutput in flight */
    uint64_t sent_height;
    uint8_t sent_root[32];
    uint64_t fin_h;    /* the height whose isFinalized is asked */
    int not_validator; /* the key's signature recovers to no validator */
    slot slots[ROLLUP_PROPOSER_SLOTS];
    rollup_proposer_info info;
};

static void maybe_free(rollup_proposer *p)
{
    if (p->closed && p->refs == 0) {
        OPENSSL_cleanse(p->sk, sizeof p->sk);
        free(p);
    }
}

static int unref_closed(rollup_proposer *p)
{
    p->refs--;
    if (!p->closed) return 0;
    maybe_free(p);
    return 1;
}

static int eth_call(rollup_proposer *p, const char *sig, const rollup_abi_val *args, size_t n,
                    rollup_l1_cb cb)
{
    util_buf data;
    util_buf_init(&data);
    rollup_abi_encode_call(&data, sig, args, n);
    json_t *params =
        data.oom ? NULL
                 : json_pack("[{s:o, s:o}, s]", "to", rollup_l1_address(&p->cfg.output_oracle),
                             "data", rollup_l1_data(data.data, data.len), "latest");
    util_buf_free(&data);
    util_err e = {0};
    int rc = params ? rollup_l1_call(p->l1, "eth_call", params, cb, p, &e) : UTIL_ENOMEM;
    json_decref(params);
    if (rc) {
        LOG_WARN("rollup", "proposer: eth_call %s: %s", sig, e.msg);
        return rc;
    }
    p->refs++;
    p->busy = 1;
    return 0;
}

/* The first word of an eth_call result as a u64 (a uint64 or a bool). */
static int call_u64(json_t *result, uint64_t *v)
{
    uint8_t *d = NULL;
    size_t n = 0;
    if (rollup_l1_parse_data(result, 4096, &d, &n, "eth_call", NULL)) return -1;
    int rc = rollup_abi_u64(d, n, 0, v, NULL);
    free(d);
    return rc ? -1 : 0;
}

/* The next output height to post: the one after the oracle's latest, unless
 * that lies more than ROLLUP_PROPOSER_SLOTS output heights below the store's
 * head. Validators keep their signatures of recent output heights only
 * (node/output_sigs.c), so a proposer that far behind (a new oracle on an old
 * chain, an L1 down for long) would wait forever for the others'; it moves
 * on to the oldest of the last ROLLUP_PROPOSER_SLOTS instead. The oracle
 * takes heights in any order, and a later final output covers the heights
 * below it. */
static uint64_t next_height(const rollup_proposer *p)
{
    uint64_t iv = p->info.interval, h = p->info.posted + iv;
    uint64_t top = chain_store_height(p->store) / iv * iv;
    uint64_t span = iv * (ROLLUP_PROPOSER_SLOTS - 1);
    if (top > span && top - span > h) h = top - span;
    return h;
}

static slot *find_slot(rollup_proposer *p, uint64_t height, int create)
{
    uint64_t next = next_height(p);
    slot *free_s = NULL;
    for (size_t i = 0; i < ROLLUP_PROPOSER_SLOTS; i++) {
        slot *s = &p->slots[i];
        if (s->used && s->height == height) return s;
        /* a slot of a posted or skipped height is free again */
        if (s->used && s->height < next) s->used = 0;
        if (!s->used && !free_s) free_s = s;
    }
    if (!create || !free_s) return NULL;
    memset(free_s, 0, sizeof *free_s);
    free_s->used = 1;
    free_s->height = height;
    return free_s;
}

static void set_root(rollup_proposer *p, slot *s, const uint8_t root[32])
{
    uint8_t digest[32];
    memcpy(s->root, root, 32);
    rollup_output_digest(digest, p->cfg.l2_genesis_hash, s->height, root);
    rollup_sigset_init(&s->set, digest, p->g);
    s->own = 0;
}

int rollup_proposer_add_sig(rollup_proposer *p, uint64_t height, const uint8_t root[32],
                            const uint8_t sig[ROLLUP_ETH_SIG_LEN], util_err *err)
{
    uint64_t iv = p->info.interval;
    if (height == 0 || height % iv)
        return util_err_set(err, UTIL_EINVAL, "output signature: %llu is not an output height",
                            (unsigned long long)height);
    uint64_t next = next_height(p);
    if (height < next || height >= next + iv * ROLLUP_PROPOSER_SLOTS)
        return util_err_set(err, UTIL_ESTATE, "output signature: height %llu not awaited",
                            (unsigned long long)height);
    slot *s = find_slot(p, height, 1);
    if (!s) return util_err_set(err, UTIL_ESTATE, "output signature: no free slot");
    if (s->set.total == 0) set_root(p, s, root);
    /* Our own root decides; a signature of another root is not counted. */
    if (memcmp(s->root, root, 32) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "output signature for height %llu signs another output root",
                            (unsigned long long)height);
    return rollup_sigset_add(&s->set, p->g, sig, err);
}

static void on_proposed(void *ctx, int rc, const rollup_l1_receipt *r, const util_err *err)
{
    rollup_proposer *p = ctx;
    if (unref_closed(p)) return;
    p->inflight = 0;
    if (r) {
        p->info.gas_used += r->gas_used;
        p->info.fee_wei += r->gas_used * r->effective_gas_price;
    }
    if (rc) {
        p->info.failures++;
        LOG_WARN("rollup", "proposer: output %llu: %s", (unsigned long long)p->sent_height,
                 err                 ? err->msg
                 : rc == UTIL_EINVAL ? "proposeOutput reverted"
                                     : "failed");
        return;
    }
    p->info.outputs++;
    p->info.has_latest = 1;
    p->info.latest_height = p->sent_height;
    memcpy(p->info.latest_root, p->sent_root, 32);
    p->info.latest_l1_block = r->block_number;
    memcpy(p->info.latest_tx, r->tx_hash, 32);
    if (p->sent_height > p->info.posted) p->info.posted = p->sent_height;
    char root[65];
    for (int i = 0; i < 32; i++)
        snprintf(root + 2 * i, 3, "%02x", p->sent_root[i]);
    LOG_INFO("rollup", "output %llu posted: root 0x%s, %llu gas, L1 block %llu",
             (unsigned long long)p->sent_height, root, (unsigned long long)r->gas_used,
             (unsigned long long)r->block_number);
}

static void send_output(rollup_proposer *p, slot *s)
{
    uint8_t sigs[CHAIN_MAX_VALIDATORS * ROLLUP_ETH_SIG_LEN];
    size_t n = rollup_sigset_pack(&s->set, sigs);
    rollup_abi_val args[3] = {
        {.kind = ROLLUP_ABI_UINT, .u64 = s->height},
        {.kind = ROLLUP_ABI_BYTES32},
        {.kind = ROLLUP_ABI_BYTES, .p = sigs, .n = n},
    };
    memcpy(args[1].word, s->root, 32);
    util_buf data;
    util_buf_init(&data);
    rollup_abi_encode_call(&data, "proposeOutput(uint64,bytes32,bytes)", args, 3);
    util_err e = {0};
    int rc = data.oom ? util_err_set(&e, UTIL_ENOMEM, "out of memory")
                      : rollup_txmgr_send(p->tx, &p->cfg.output_oracle, data.data, data.len, 0,
                                          on_proposed, p, &e);
    util_buf_free(&data);
    if (rc) {
        LOG_WARN("rollup", "proposer: output %llu: %s", (unsigned long long)s->height, e.msg);
        return;
    }
    p->refs++;
    p->inflight = 1;
    p->sent_height = s->height;
    memcpy(p->sent_root, s->root, 32);
}

/* Signs the next output once the store has its block, and sends it once the
 * signatures suffice. */
static void propose(rollup_proposer *p)
{
    uint64_t h = next_height(p);
    if (p->inflight || chain_store_height(p->store) < h) return;
    slot *s = find_slot(p, h, 1);
    if (!s) return;
    /* Our own root decides which signatures count, signing or not. */
    if (!s->checked) {
        uint8_t root[32];
        util_err e = {0};
        if (rollup_output_root_at(p->store, h, root, NULL, &e)) {
            LOG_WARN("rollup", "proposer: block %llu: %s", (unsigned long long)h, e.msg);
            return;
        }
        if (s->set.total == 0 || memcmp(s->root, root, 32) != 0) {
            if (s->set.total != 0)
                LOG_WARN("rollup",
                         "proposer: signatures for height %llu sign another root: "
                         "dropped",
                         (unsigned long long)h);
            set_root(p, s, root);
        }
        s->checked = 1;
    }
    /* A key outside the validator set cannot sign; the node may still post
     * what the validators signed. */
    if (!s->own && p->has_sk && !p->not_validator) {
        uint8_t sig[ROLLUP_ETH_SIG_LEN];
        util_err e = {0};
        if (rollup_output_sign(sig, s->set.digest, p->sk, &e) ||
            rollup_sigset_add(&s->set, p->g, sig, &e)) {
            LOG_WARN("rollup", "proposer: cannot sign output %llu: %s; signing no outputs",
                     (unsigned long long)h, e.msg);
            p->not_validator = 1;
        } else {
            s->own = 1;
            memcpy(s->own_sig, sig, sizeof sig);
        }
    }
    if (p->tx && rollup_sigset_quorum(&s->set)) send_output(p, s);
}

static void check_fin(rollup_proposer *p, uint64_t h);

static void on_fin(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_proposer *p = ctx;
    if (unref_closed(p)) return;
    p->busy = 0;
    uint64_t v;
    if (rc || call_u64(result, &v)) {
        LOG_DEBUG("rollup", "proposer: isFinalized: %s", rc && err ? err->msg : "bad answer");
        return propose(p);
    }
    uint64_t h = p->fin_h, iv = p->info.interval;
    if (v) {
        if (h > p->info.finalized) p->info.finalized = h;
        if (h < p->info.posted) return check_fin(p, p->info.posted);
    } else if (h == p->info.posted && p->info.finalized + iv < h) {
        return check_fin(p, p->info.finalized + iv);
    }
    propose(p);
}

static void check_fin(rollup_proposer *p, uint64_t h)
{
    rollup_abi_val a = {.kind = ROLLUP_ABI_UINT, .u64 = h};
    p->fin_h = h;
    if (eth_call(p, "isFinalized(uint64)", &a, 1, on_fin)) propose(p);
}

static void on_latest(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_proposer *p = ctx;
    if (unref_closed(p)) return;
    p->busy = 0;
    uint64_t v;
    if (rc || call_u64(result, &v)) {
        LOG_DEBUG("rollup", "proposer: latestOutputHeight: %s",
                  rc && err ? err->msg : "bad answer");
        return;
    }
    if (!p->info.ready)
        LOG_INFO("rollup", "proposer: the oracle's latest output is at height %llu",
                 (unsigned long long)v);
    else if (v < p->info.posted)
        LOG_WARN("rollup",
                 "proposer: the oracle's latest output went back from %llu to %llu "
                 "(L1 reorganisation): posting again",
                 (unsigned long long)p->info.posted, (unsigned long long)v);
    p->info.ready = 1;
    p->info.posted = v;
    if (p->info.finalized > v) p->info.finalized = v;
    if (v > p->info.finalized) return check_fin(p, v);
    propose(p);
}

static void on_head(void *ctx, int rc, json_t *result, const util_err *err)
{
    rollup_proposer *p = ctx;
    if (unref_closed(p)) return;
    p->busy = 0;
    uint64_t v;
    if (rc || rollup_l1_parse_u64(result, &v, "eth_blockNumber", NULL)) {
        LOG_DEBUG("rollup", "proposer: eth_blockNumber: %s", rc && err ? err->msg : "bad answer");
        return;
    }
    p->info.l1_head = v;
    if (eth_call(p, "latestOutputHeight()", NULL, 0, on_latest)) { /* next tick */
    }
}

static void on_tick(uv_timer_t *t)
{
    rollup_proposer *p = t->data;
    if (p->closed || p->busy) return;
    util_err e = {0};
    if (rollup_l1_call(p->l1, "eth_blockNumber", NULL, on_head, p, &e)) {
        LOG_DEBUG("rollup", "proposer: %s", e.msg);
        return;
    }
    p->refs++;
    p->busy = 1;
}

static void on_timer_closed(uv_handle_t *h)
{
    rollup_proposer *p = h->data;
    p->refs--;
    maybe_free(p);
}

int rollup_proposer_new(rollup_proposer **out, uv_loop_t *loop, rollup_l1 *l1, rollup_txmgr *txmgr,
                        chain_store *store, const chain_genesis *g, const rollup_config *cfg,
                        const uint8_t *validator_sk, const rollup_proposer_opts *opts,
                        util_err *err)
{
    if (g->params.output_interval_blocks == 0)
        return util_err_set(err, UTIL_EINVAL, "the genesis has no outputIntervalBlocks");
    rollup_proposer *p = calloc(1, sizeof *p);
    if (!p) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    p->l1 = l1;
    p->tx = txmgr;
    p->store = store;
    p->g = g;
    p->cfg = *cfg;
    if (opts) p->o = *opts;
    if (!p->o.poll_ms) p->o.poll_ms = ROLLUP_PROPOSER_POLL_MS;
    if (validator_sk) {
        memcpy(p->sk, validator_sk, 32);
        p->has_sk = 1;
    }
    p->info.interval = g->params.output_interval_blocks;
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    p->refs = 1;
    uv_timer_start(&p->timer, on_tick, 0, p->o.poll_ms);
    *out = p;
    return 0;
}

void rollup_proposer_close(rollup_proposer *p)
{
    if (!p || p->closed) return;
    p->closed = 1;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_timer_closed);
}

void rollup_proposer_get_info(const rollup_proposer *p, rollup_proposer_info *out)
{
    *out = p->info;
}
