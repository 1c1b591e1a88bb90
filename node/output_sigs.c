/* Output signatures between validators (node/output_sigs.h): signing the
 * output root at each output height, the OUTPUT_SIG gossip with its cheap
 * checks before the ECDSA recovery, the bounded per-height store, evidence
 * of validators signing another root, and rollup_outputSignatures. */
#include "node/output_sigs.h"

#include <stdlib.h>
#include <string.h>

#include "chain/exec/bridge.h"
#include "node/consensus.h"
#include "node/node_internal.h"
#include "node/p2p.h"
#include "p2p/msg.h"
#include "rollup/output.h"
#include "rpc/params.h"
#include "util/hex.h"
#include "util/log.h"

typedef struct outsig_entry {
    uint8_t has;
    uint8_t fed; /* the sink took it */
    uint8_t root[32];
    uint8_t sig[ROLLUP_ETH_SIG_LEN];
} outsig_entry;

/* One output height: the first valid signature of each validator, whatever
 * root it signs, and this node's own root once it has the block. */
typedef struct outsig_slot {
    uint64_t height; /* 0: free */
    int has_own;
    int diverged; /* our key signed another root: never sign here (logged once) */
    uint8_t own[32];
    outsig_entry v[CHAIN_MAX_VALIDATORS];
} outsig_slot;

/* A validator signed a root other than this node's (kind "wrongRoot", a is
 * the node's own root, without a signature) or two roots for one height
 * ("conflict"). */
typedef struct outsig_evidence {
    uint64_t height;
    uint32_t validator;
    int conflict;
    uint8_t root_a[32], root_b[32];
    uint8_t sig_a[ROLLUP_ETH_SIG_LEN], sig_b[ROLLUP_ETH_SIG_LEN];
} outsig_evidence;

typedef struct node_outsig {
    struct node *n;
    uint64_t interval;
    rollup_eth_addr addrs[CHAIN_MAX_VALIDATORS];
    outsig_slot slots[NODE_OUTSIG_SLOTS];
    outsig_evidence ev[NODE_OUTSIG_EVIDENCE]; /* a ring: the last ones */
    uint64_t nev;
    node_outsig_sink_fn sink;
    void *sink_ctx;
    /* counters */
    uint64_t signed_own, accepted, relayed, duplicates, outside, refused;
} node_outsig;

static node_outsig *get(const node *n)
{
    return n->outsig;
}

int node_outsig_start(node *n, util_err *err)
{
    node_outsig *o = calloc(1, sizeof *o);
    if (!o) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    o->n = n;
    o->interval = n->genesis.params.output_interval_blocks;
    int rc = rollup_validator_addrs(&n->genesis, o->addrs, err);
    if (rc) {
        free(o);
        return util_err_prefix(err, "output signatures: ");
    }
    if (o->interval == 0) o->interval = 1; /* the genesis refuses 0; never divide by it */
    n->outsig = o;
    return 0;
}

void node_outsig_free(node *n)
{
    free(n->outsig);
    n->outsig = NULL;
}

void node_outsig_set_sink(node *n, node_outsig_sink_fn fn, void *ctx)
{
    node_outsig *o = get(n);
    if (!o) return;
    o->sink = fn;
    o->sink_ctx = ctx;
}

/* ---- the window ---- */

/* Output heights lo..hi (both multiples of the interval) around the head. */
static void window(const node_outsig *o, uint64_t *lo, uint64_t *hi)
{
    uint64_t head = chain_store_height(o->n->store), i = o->interval;
    uint64_t top = head / i * i;
    uint64_t back = (uint64_t)(NODE_OUTSIG_BEHIND - 1) * i;
    *lo = top > back + i ? top - back : i;
    uint64_t ahead = (uint64_t)NODE_OUTSIG_AHEAD * i;
    *hi = top <= UINT64_MAX - ahead ? top + ahead : top;
}

static int in_window(const node_outsig *o, uint64_t h)
{
    uint64_t lo, hi;
    window(o, &lo, &hi);
    return h % o->interval == 0 && h >= lo && h <= hi;
}

/* The slot of an in-window height: NODE_OUTSIG_SLOTS consecutive output
 * heights never share one, so an occupant of another height has left the
 * window and makes room. */
static outsig_slot *slot_for(node_outsig *o, uint64_t h)
{
    outsig_slot *s = &o->slots[(h / o->interval) % NODE_OUTSIG_SLOTS];
    if (s->height != h) {
        memset(s, 0, sizeof *s);
        s->height = h;
    }
    return s;
}

static outsig_slot *slot_find(node_outsig *o, uint64_t h)
{
    outsig_slot *s = &o->slots[(h / o->interval) % NODE_OUTSIG_SLOTS];
    return s->height == h ? s : NULL;
}

/* ---- evidence ---- */

static const outsig_evidence *evidence_find(const node_outsig *o, uint64_t h, uint32_t idx,
                                            const uint8_t root[32])
{
    uint64_t n = o->nev < NODE_OUTSIG_EVIDENCE ? o->nev : NODE_OUTSIG_EVIDENCE;
    for (uint64_t i = 0; i < n; i++) {
        const outsig_evidence *e = &o->ev[i];
        if (e->height == h && e->validator == idx && memcmp(e->root_b, root, 32) == 0) return e;
    }
    return NULL;
}

static void evidence_add(node_outsig *o, uint64_t h, uint32_t idx, int conflict,
                         const uint8_t root_a[32], const uint8_t *sig_a, const uint8_t root_b[32],
                         const uint8_t sig_b[ROLLUP_ETH_SIG_LEN])
{
    outsig_evidence *e = &o->ev[o->nev++ % NODE_OUTSIG_EVIDENCE];
    memset(e, 0, sizeof *e);
    e->height = h;
    e->validator = idx;
    e->conflict = conflict;
    memcpy(e->root_a, root_a, 32);
    if (sig_a) memcpy(e->sig_a, sig_a, ROLLUP_ETH_SIG_LEN);
    memcpy(e->root_b, root_b, 32);
    memcpy(e->sig_b, sig_b, ROLLUP_ETH_SIG_LEN);
    char a[65], b[65];
    util_hex_encode(a, root_a, 32);
    util_hex_encode(b, root_b, 32);
    if (conflict)
        LOG_ERROR("rollup",
                  "validator %u (%s) signed two output roots for height %llu: 0x%s and 0x%s", idx,
                  o->n->genesis.vals[idx].name, (unsigned long long)h, a, b);
    else
        LOG_ERROR("rollup",
                  "validator %u (%s) signed output root 0x%s for height %llu; this node's root "
                  "is 0x%s",
                  idx, o->n->genesis.vals[idx].name, b, (unsigned long long)h, a);
}

/* ---- sending ---- */

static void send_sig(node_outsig *o, p2p_peer *to, p2p_peer *except, uint64_t h, uint32_t idx,
                     const uint8_t root[32], const uint8_t sig[ROLLUP_ETH_SIG_LEN])
{
    node_p2p *np = o->n->p2p;
    if (!np || !np->net) return;
    p2p_output_sig m = {.height = h, .validator = (uint16_t)idx};
    memcpy(m.root, root, 32);
    memcpy(m.sig, sig, ROLLUP_ETH_SIG_LEN);
    util_buf b;
    util_buf_init(&b);
    util_err err = {0};
    if (p2p_output_sig_encode(&m, &b, &err) == 0) {
        if (to) {
            if (p2p_net_send(to, P2P_MSG_OUTPUT_SIG, b.data, b.len, &err)) {
                /* a slow peer is dropped by the net */
            }
        } else {
            p2p_net_broadcast(np->net, except, P2P_MSG_OUTPUT_SIG, b.data, b.len);
            o->relayed++;
        }
    }
    util_buf_free(&b);
}

/* Offers the slot's signatures of its own root that the sink has not
 * taken. */
static void to_sink(node_outsig *o, outsig_slot *s)
{
    if (!o->sink || !s->has_own) return;
    for (uint32_t i = 0; i < o->n->genesis.nval; i++) {
        outsig_entry *e = &s->v[i];
        if (!e->has || e->fed || memcmp(e->root, s->own, 32) != 0) continue;
        if (o->sink(o->sink_ctx, s->height, e->root, e->sig) != UTIL_ESTATE) e->fed = 1;
    }
}

/* ---- own root and signature ---- */

/* On a validator: signs the slot's own root, unless its key already
 * signed another one for this height. */
static void sign_own(node_outsig *o, outsig_slot *s)
{
    node *n = o->n;
    uint32_t self = n->validator_index;
    if (!n->has_validator_key || n->cfg.follower || self >= n->genesis.nval) return;
    outsig_entry *e = &s->v[self];
    if (s->diverged || (e->has && memcmp(e->root, s->own, 32) == 0)) return;
    if (e->has) {
        s->diverged = 1;
        /* Our own earlier signature (echoed back by a peer after a restart)
         * names another root: the store diverged from what this key
         * signed. Signing again would be equivocation. */
        LOG_ERROR("rollup",
                  "height %llu: this validator signed another output root before; not signing "
                  "again",
                  (unsigned long long)s->height);
        return;
    }
    uint8_t digest[32], sig[ROLLUP_ETH_SIG_LEN];
    util_err err = {0};
    rollup_output_digest(digest, n->genesis.hash, s->height, s->own);
    if (rollup_output_sign(sig, digest, n->validator.seckey, &err)) {
        LOG_ERROR("rollup", "signing the output root of height %llu: %s",
                  (unsigned long long)s->height, err.msg);
        return;
    }
    e->has = 1;
    memcpy(e->root, s->own, 32);
    memcpy(e->sig, sig, ROLLUP_ETH_SIG_LEN);
    o->signed_own++;
    send_sig(o, NULL, NULL, s->height, self, s->own, sig);
}

/* What needs the network or the proposer, so only ever on the main loop
 * (RPC methods may run on worker loops): the validator's signature and the
 * sink. */
static void settle(node_outsig *o, outsig_slot *s)
{
    if (!s->has_own) return;
    sign_own(o, s);
    to_sink(o, s);
}

/* This node's root of the slot's height: each signature already there now
 * agrees or is evidence. */
static void set_own(node_outsig *o, outsig_slot *s, const uint8_t root[32])
{
    s->has_own = 1;
    memcpy(s->own, root, 32);
    for (uint32_t i = 0; i < o->n->genesis.nval; i++)
        if (s->v[i].has && memcmp(s->v[i].root, root, 32) != 0 &&
            !evidence_find(o, s->height, i, s->v[i].root))
            evidence_add(o, s->height, i, 0, root, NULL, s->v[i].root, s->v[i].sig);
}

/* A slot made for a height the store already holds (committed before a
 * restart, or in a part of the window the slot had left): its root from the
 * stored block, once. */
static void load_own(node_outsig *o, outsig_slot *s)
{
    if (s->has_own || s->height > chain_store_height(o->n->store)) return;
    uint8_t root[32];
    util_err err = {0};
    if (rollup_output_root_at(o->n->store, s->height, root, NULL, &err)) {
        LOG_WARN("rollup", "output root of height %llu: %s", (unsigned long long)s->height,
                 err.msg);
        return;
    }
    set_own(o, s, root);
}

void node_outsig_block_committed(node *n, const chain_block *b, const uint8_t id[32])
{
    node_outsig *o = get(n);
    uint64_t h = b->h.height;
    if (!o) return;
    node_lock(n);
    if (h && h % o->interval == 0) {
        /* The withdrawals root after the block is in the store now. */
        uint8_t root[32], wroot[32];
        util_err err = {0};
        if (chain_bridge_wroot_at(n->store, h, wroot, &err) == 0) {
            rollup_output_root(root, b->h.state_root, id, wroot);
            set_own(o, slot_for(o, h), root);
        } else
            LOG_WARN("rollup", "output root of height %llu: %s", (unsigned long long)h, err.msg);
    }
    /* Every output height of the window the store holds: after a restart
     * the validator signs them again (the same bytes), and the sink is
     * offered what it refused before (a proposer that had not posted the
     * output before them). */
    uint64_t lo, hi, head = chain_store_height(n->store);
    window(o, &lo, &hi);
    for (uint64_t x = lo; x <= hi && x <= head; x += o->interval) {
        outsig_slot *s = slot_for(o, x);
        load_own(o, s);
        settle(o, s);
    }
    node_unlock(n);
}

/* ---- from peers ---- */

static int on_message_locked(node_outsig *o, p2p_peer *from, const p2p_output_sig *m, util_err *err)
{
    node *n = o->n;
    uint64_t h = m->height;
    uint32_t idx = m->validator;
    /* Cheap checks first: a correct relayer never sends these, ... */
    if (h % o->interval) {
        o->refused++;
        return util_err_set(err, UTIL_EINVAL,
                            "bad_output_sig: height %llu is not a multiple of the output "
                            "interval %llu",
                            (unsigned long long)h, (unsigned long long)o->interval);
    }
    if (idx >= n->genesis.nval) {
        o->refused++;
        return util_err_set(err, UTIL_EINVAL, "bad_output_sig: validator %u of %zu", idx,
                            n->genesis.nval);
    }
    /* ... while a height outside the window or a repeat may come from an
     * honest peer a little ahead or behind: ignored, without the ECDSA. */
    if (!in_window(o, h)) {
        o->outside++;
        return 0;
    }
    outsig_slot *s = slot_find(o, h);
    const outsig_entry *e = s ? &s->v[idx] : NULL;
    if ((e && e->has && memcmp(e->root, m->root, 32) == 0) || evidence_find(o, h, idx, m->root)) {
        o->duplicates++;
        return 0;
    }
    uint8_t digest[32];
    rollup_output_digest(digest, n->genesis.hash, h, m->root);
    rollup_eth_addr who;
    util_err rerr = {0};
    if (rollup_eth_recover(&who, digest, m->sig, &rerr) ||
        memcmp(who.b, o->addrs[idx].b, ROLLUP_ETH_ADDR_LEN) != 0) {
        o->refused++;
        return util_err_set(err, UTIL_EINVAL,
                            "bad_output_sig: height %llu: the signature is not validator %u's%s%s",
                            (unsigned long long)h, idx, rerr.msg[0] ? ": " : "", rerr.msg);
    }
    s = slot_for(o, h);
    load_own(o, s);
    outsig_entry *w = &s->v[idx];
    if (w->has) {
        /* A valid signature of another root by the same validator. */
        evidence_add(o, h, idx, 1, w->root, w->sig, m->root, m->sig);
        send_sig(o, NULL, from, h, idx, m->root, m->sig); /* once: now in the evidence */
        return 0;
    }
    w->has = 1;
    memcpy(w->root, m->root, 32);
    memcpy(w->sig, m->sig, ROLLUP_ETH_SIG_LEN);
    o->accepted++;
    if (s->has_own && memcmp(s->own, m->root, 32) != 0)
        evidence_add(o, h, idx, 0, s->own, NULL, m->root, m->sig);
    else
        settle(o, s);
    send_sig(o, NULL, from, h, idx, m->root, m->sig);
    return 0;
}

int node_outsig_on_message(node *n, p2p_peer *from, const uint8_t *payload, size_t len,
                           util_err *err)
{
    p2p_output_sig m;
    int rc = p2p_output_sig_decode(&m, payload, len, err);
    if (rc) return rc;
    node_outsig *o = get(n);
    if (!o) return 0;
    node_lock(n);
    rc = on_message_locked(o, from, &m, err);
    node_unlock(n);
    return rc;
}

void node_outsig_peer_status(node *n, p2p_peer *p, uint64_t from, uint64_t to)
{
    node_outsig *o = get(n);
    if (!o) return;
    node_lock(n);
    for (size_t k = 0; k < NODE_OUTSIG_SLOTS; k++) {
        const outsig_slot *s = &o->slots[k];
        if (!s->height || s->height <= from || s->height > to || !in_window(o, s->height)) continue;
        for (uint32_t i = 0; i < n->genesis.nval; i++)
            if (s->v[i].has) send_sig(o, p, NULL, s->height, i, s->v[i].root, s->v[i].sig);
    }
    node_unlock(n);
}

/* ---- JSON-RPC ---- */

static json_t *hex_json(const uint8_t *p, size_t len)
{
    char *h = malloc(2 + 2 * len + 1);
    if (!h) return NULL;
    h[0] = '0';
    h[1] = 'x';
    util_hex_encode(h + 2, p, len);
    json_t *s = json_string(h);
    free(h);
    return s;
}

/* The root the answer is about: this node's own once it has the block,
 * else the one signed by the most power (ties: the lowest root). */
static int pick_root(const node_outsig *o, const outsig_slot *s, uint8_t root[32])
{
    if (s->has_own) {
        memcpy(root, s->own, 32);
        return 1;
    }
    uint64_t best = 0;
    int found = 0;
    for (uint32_t i = 0; i < o->n->genesis.nval; i++) {
        if (!s->v[i].has) continue;
        uint64_t p = 0;
        for (uint32_t j = 0; j < o->n->genesis.nval; j++)
            if (s->v[j].has && memcmp(s->v[j].root, s->v[i].root, 32) == 0)
                p += o->n->genesis.vals[j].power;
        if (!found || p > best || (p == best && memcmp(s->v[i].root, root, 32) < 0)) {
            memcpy(root, s->v[i].root, 32);
            best = p;
            found = 1;
        }
    }
    return 0;
}

static json_t *m_output_signatures(void *ctx, json_t *params, rpc_error *e)
{
    node *n = ctx;
    node_outsig *o = get(n);
    if (rpc_param_count(params, 0, 1, e)) return NULL;
    if (!o) return rpc_fail(e, RPC_UNAVAILABLE, NULL, "output signatures are not running");
    node_lock(n);
    uint64_t h, lo, hi;
    window(o, &lo, &hi);
    json_t *res = NULL;
    if (rpc_param_present(params, 0)) {
        if (rpc_param_u64(params, 0, "height", &h, e)) goto out;
    } else {
        h = chain_store_height(n->store) / o->interval * o->interval;
        if (h == 0) {
            res = rpc_fail(e, RPC_NOT_FOUND, NULL, "no output height yet (the first is %llu)",
                           (unsigned long long)o->interval);
            goto out;
        }
    }
    if (h == 0 || h % o->interval) {
        res = rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                       "height %llu is not an output height (a multiple of %llu above 0)",
                       (unsigned long long)h, (unsigned long long)o->interval);
        goto out;
    }
    if (h < lo || h > hi) {
        res = rpc_fail(e, RPC_NOT_FOUND, NULL,
                       "height %llu is outside the output heights kept (%llu..%llu)",
                       (unsigned long long)h, (unsigned long long)lo, (unsigned long long)hi);
        goto out;
    }
    outsig_slot *s = slot_for(o, h);
    load_own(o, s);
    uint8_t root[32] = {0};
    int own = pick_root(o, s, root);
    /* The signatures were checked on arrival: the set is filled directly,
     * without recovering each again. */
    rollup_sigset *set = calloc(1, sizeof *set);
    json_t *signers = json_array();
    if (!set || !signers) {
        free(set);
        json_decref(signers);
        res = rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        goto out;
    }
    uint8_t digest[32];
    rollup_output_digest(digest, n->genesis.hash, h, root);
    rollup_sigset_init(set, digest, &n->genesis);
    for (uint32_t i = 0; i < n->genesis.nval; i++) {
        if (!s->v[i].has || memcmp(s->v[i].root, root, 32) != 0) continue;
        set->signer[set->n] = o->addrs[i];
        memcpy(set->sig[set->n], s->v[i].sig, ROLLUP_ETH_SIG_LEN);
        set->n++;
        set->power += n->genesis.vals[i].power;
        char addr[ROLLUP_ETH_ADDR_HEX_LEN + 1];
        rollup_eth_addr_hex(addr, &o->addrs[i]);
        json_array_append_new(signers, json_pack("{s:i,s:s,s:s}", "validator", (int)i, "name",
                                                 n->genesis.vals[i].name, "address", addr));
    }
    uint8_t packed[CHAIN_MAX_VALIDATORS * ROLLUP_ETH_SIG_LEN];
    size_t plen = rollup_sigset_pack(set, packed);
    res = json_pack("{s:I,s:o,s:b,s:o,s:I,s:I,s:b,s:o}", "height", (json_int_t)h, "outputRoot",
                    set->n || own ? hex_json(root, 32) : json_null(), "ownRoot", own, "signers",
                    signers, "power", (json_int_t)set->power, "totalPower", (json_int_t)set->total,
                    "quorum", rollup_sigset_quorum(set), "sigs", hex_json(packed, plen));
    free(set);
    if (!res) res = rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
out:
    node_unlock(n);
    return res;
}

static const rpc_method_spec output_signatures_spec = {
    "Validators' signatures of the output root of an L2 output height (default: the latest at or "
    "below the head), as this node holds them; sigs is OutputOracle.proposeOutput's argument.",
    "[{\"name\":\"height\",\"required\":false,\"schema\":{\"$ref\":\"#/components/schemas/"
    "U64\"}}]",
    "{\"name\":\"outputSignatures\",\"schema\":{\"type\":\"object\",\"properties\":{"
    "\"height\":{\"type\":\"integer\",\"minimum\":0},"
    "\"outputRoot\":{\"oneOf\":[{\"$ref\":\"#/components/schemas/Hash\"},{\"type\":\"null\"}]},"
    "\"ownRoot\":{\"type\":\"boolean\"},"
    "\"signers\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"validator\":{\"type\":\"integer\",\"minimum\":0},\"name\":{\"type\":\"string\"},"
    "\"address\":{\"type\":\"string\",\"pattern\":\"^0x[0-9a-fA-F]{40}$\"}}}},"
    "\"power\":{\"type\":\"integer\",\"minimum\":0},"
    "\"totalPower\":{\"type\":\"integer\",\"minimum\":0},"
    "\"quorum\":{\"type\":\"boolean\"},"
    "\"sigs\":{\"$ref\":\"#/components/schemas/Bytes\"}}}}",
};

int node_outsig_register(node *n, rpc_dispatch *d)
{
    if (rpc_dispatch_add(d, "rollup_outputSignatures", m_output_signatures, n) ||
        rpc_dispatch_describe(d, "rollup_outputSignatures", &output_signatures_spec))
        return -1;
    return 0;
}

json_t *node_outsig_cons_state_json(void *ctx)
{
    node *n = ctx;
    json_t *st = node_cons_state_json(ctx);
    node_outsig *o = get(n);
    if (!st || !o) return st;
    node_lock(n);
    json_t *evs = json_array();
    uint64_t cnt = o->nev < NODE_OUTSIG_EVIDENCE ? o->nev : NODE_OUTSIG_EVIDENCE;
    for (uint64_t k = 0; evs && k < cnt; k++) {
        /* oldest first */
        const outsig_evidence *ev = &o->ev[(o->nev - cnt + k) % NODE_OUTSIG_EVIDENCE];
        json_t *x =
            json_pack("{s:I,s:i,s:s,s:s,s:o,s:o}", "height", (json_int_t)ev->height, "validator",
                      (int)ev->validator, "name", n->genesis.vals[ev->validator].name, "kind",
                      ev->conflict ? "conflict" : "wrongRoot", "rootA", hex_json(ev->root_a, 32),
                      "rootB", hex_json(ev->root_b, 32));
        if (x && ev->conflict) json_object_set_new(x, "sigA", hex_json(ev->sig_a, 65));
        if (x) json_object_set_new(x, "sigB", hex_json(ev->sig_b, 65));
        json_array_append_new(evs, x);
    }
    json_t *os =
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "interval", (json_int_t)o->interval,
                  "signed", (json_int_t)o->signed_own, "accepted", (json_int_t)o->accepted,
                  "relayed", (json_int_t)o->relayed, "duplicates", (json_int_t)o->duplicates,
                  "outsideWindow", (json_int_t)o->outside, "refused", (json_int_t)o->refused,
                  "evidenceTotal", (json_int_t)o->nev, "evidence", evs ? evs : json_array());
    node_unlock(n);
    if (os) json_object_set_new(st, "outputSignatures", os);
    return st;
}
