/* WebSocket subscriptions: new heads, pending transactions, events, and their
 * fan-out (rpc/methods/subs.h). */
#include "rpc/methods/subs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/types/attr.h"
#include "rpc/methods/methods.h"
#include "rpc/params.h"
#include "rpc/transport/ws.h"
#include "util/bytes.h"

enum { SUB_BLOCKS, SUB_EVENTS, SUB_PENDING };

#define ID_LEN 18 /* "0x" + 16 hex digits */

typedef struct filter {
    size_t ncontract, ntopic, nmodel, nrecipient;
    chain_addr contract[RPC_SUBS_MAX_FILTER_VALUES];
    uint8_t topic[RPC_SUBS_MAX_FILTER_VALUES][32];
    uint64_t model[RPC_SUBS_MAX_FILTER_VALUES];
    chain_addr recipient[RPC_SUBS_MAX_FILTER_VALUES];
} filter;

typedef struct sub {
    uint64_t id;
    int kind;
    int full; /* pending: whole transactions instead of hashes */
    int dead; /* removed while the list was being walked */
    rpc_session *s;
    filter *f; /* events only; NULL matches every event */
} sub;

struct rpc_subs {
    sub **v;
    size_t n, cap;
    size_t live;
    int walking; /* > 0 while notifications are sent: removals only mark */
    uint64_t next_id;
};

rpc_subs *rpc_subs_new(void)
{
    return calloc(1, sizeof(rpc_subs));
}

static void sub_free(sub *x)
{
    free(x->f);
    free(x);
}

void rpc_subs_free(rpc_subs *h)
{
    if (!h) return;
    for (size_t i = 0; i < h->n; i++)
        sub_free(h->v[i]);
    free(h->v);
    free(h);
}

size_t rpc_subs_count(const rpc_subs *h)
{
    return h ? h->live : 0;
}

static void sweep(rpc_subs *h)
{
    if (h->walking) return;
    size_t k = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (h->v[i]->dead)
            sub_free(h->v[i]);
        else
            h->v[k++] = h->v[i];
    }
    h->n = k;
}

static void sub_kill(rpc_subs *h, sub *x)
{
    if (x->dead) return;
    x->dead = 1;
    h->live--;
}

void rpc_subs_session_closed(void *hub, rpc_session *s)
{
    rpc_subs *h = hub;
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i]->s == s) sub_kill(h, h->v[i]);
    sweep(h);
}

/* --- notifications -------------------------------------------------------- */

/* The notification text with a placeholder id, built once per event; each
 * subscriber's id is written into it before sending. */
typedef struct note {
    char *text;
    size_t len, id_off;
} note;

static int note_build(note *nt, json_t *result)
{
    memset(nt, 0, sizeof *nt);
    if (!result) return -1;
    char *r = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(result);
    if (!r) return -1;
    static const char pre[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":{\"subscription\":\"";
    size_t rl = strlen(r);
    nt->len = sizeof pre - 1 + ID_LEN + strlen("\",\"result\":") + rl + 2;
    nt->text = malloc(nt->len + 1);
    if (!nt->text) {
        free(r);
        return -1;
    }
    nt->id_off = sizeof pre - 1;
    snprintf(nt->text, nt->len + 1, "%s%0*d\",\"result\":%s}}", pre, ID_LEN, 0, r);
    free(r);
    return 0;
}

static void note_send(note *nt, const sub *x)
{
    char id[ID_LEN + 1];
    snprintf(id, sizeof id, "0x%016llx", (unsigned long long)x->id);
    memcpy(nt->text + nt->id_off, id, ID_LEN);
    if (rpc_session_send(x->s, nt->text, nt->len)) {
        /* A refusal means the session is closing (slow consumer); it is
         * dropped from the hub when its connection goes. */
    }
}

static int is_payout(const chain_event *ev)
{
    uint8_t t[32];
    chain_payout_topic(t);
    return ev->len == CHAIN_PAYOUT_EVENT_LEN && memcmp(ev->topic, t, 32) == 0;
}

static int matches(const filter *f, const chain_event *ev, int payout)
{
    if (!f) return 1;
    size_t i;
    if (f->ncontract) {
        for (i = 0; i < f->ncontract; i++)
            if (memcmp(f->contract[i].b, ev->emitter.b, CHAIN_ADDR_LEN) == 0) break;
        if (i == f->ncontract) return 0;
    }
    if (f->ntopic) {
        for (i = 0; i < f->ntopic; i++)
            if (memcmp(f->topic[i], ev->topic, 32) == 0) break;
        if (i == f->ntopic) return 0;
    }
    if ((f->nmodel || f->nrecipient) && !payout) return 0;
    if (f->nmodel) {
        uint64_t model = util_get_u64le(ev->data);
        for (i = 0; i < f->nmodel; i++)
            if (f->model[i] == model) break;
        if (i == f->nmodel) return 0;
    }
    if (f->nrecipient) {
        for (i = 0; i < f->nrecipient; i++)
            if (memcmp(f->recipient[i].b, ev->data + 16, CHAIN_ADDR_LEN) == 0) break;
        if (i == f->nrecipient) return 0;
    }
    return 1;
}

static json_t *event_json(const chain_block *b, const uint8_t id[32], size_t txi, size_t evi,
                          const chain_event *ev, int payout)
{
    json_t *o = json_pack(
        "{s:I,s:o,s:o,s:I,s:I,s:o,s:o,s:o}", "blockHeight", (json_int_t)b->h.height, "blockHash",
        rpc_json_hex(id, 32), "txHash", rpc_json_hex(b->txs[txi].id, 32), "txIndex",
        (json_int_t)txi, "eventIndex", (json_int_t)evi, "emitter", rpc_json_addr(&ev->emitter),
        "topic", rpc_json_hex(ev->topic, 32), "data", rpc_json_hex(ev->data, ev->len));
    if (o && payout) {
        const uint8_t *d = ev->data;
        chain_addr to;
        memcpy(to.b, d + 16, CHAIN_ADDR_LEN);
        static const char *const roles[] = {"owner", "validator", "contributor"};
        json_object_set_new(
            o, "payout",
            json_pack("{s:o,s:o,s:o,s:s,s:o,s:o}", "model", rpc_json_u64str(util_get_u64le(d)),
                      "contribution", rpc_json_u64str(util_get_u64le(d + 8)), "recipient",
                      rpc_json_addr(&to), "role", d[36] < 3 ? roles[d[36]] : "unknown", "amount",
                      rpc_json_u64str(util_get_u64le(d + 37)), "record",
                      rpc_json_u64str(util_get_u64le(d + 45))));
    }
    return o;
}

static void block_events(rpc_subs *h, const chain_block *b, const uint8_t id[32],
                         const chain_receipt *rs)
{
    for (size_t t = 0; t < b->ntx; t++) {
        for (uint32_t k = 0; k < rs[t].nevents; k++) {
            const chain_event *ev = &rs[t].events[k];
            int payout = is_payout(ev);
            note nt = {0};
            int built = 0;
            for (size_t i = 0; i < h->n; i++) {
                sub *x = h->v[i];
                if (x->dead || x->kind != SUB_EVENTS || !matches(x->f, ev, payout)) continue;
                if (!built) {
                    built = 1;
                    if (note_build(&nt, event_json(b, id, t, k, ev, payout))) return;
                }
                note_send(&nt, x);
            }
            free(nt.text);
        }
    }
}

void rpc_subs_block(rpc_subs *h, const chain_block *b, const uint8_t id[32],
                    const chain_receipt *rs)
{
    if (!h || h->live == 0) return;
    h->walking++;
    note nt = {0};
    int built = 0;
    for (size_t i = 0; i < h->n; i++) {
        sub *x = h->v[i];
        if (x->dead || x->kind != SUB_BLOCKS) continue;
        if (!built) {
            built = 1;
            uint64_t gas = 0;
            for (size_t t = 0; t < b->ntx; t++)
                gas += rs[t].gas_used;
            if (note_build(&nt,
                           json_pack("{s:o,s:I,s:I,s:I,s:I,s:o}", "hash", rpc_json_hex(id, 32),
                                     "height", (json_int_t)b->h.height, "timestamp",
                                     (json_int_t)b->h.time_ms, "txCount", (json_int_t)b->ntx,
                                     "gasUsed", (json_int_t)gas, "header", rpc_json_header(&b->h))))
                break;
        }
        note_send(&nt, x);
    }
    free(nt.text);
    block_events(h, b, id, rs);
    h->walking--;
    sweep(h);
}

void rpc_subs_pending_tx(rpc_subs *h, const chain_tx *tx)
{
    if (!h || h->live == 0) return;
    h->walking++;
    note hash = {0}, full = {0};
    int have_hash = 0, have_full = 0;
    for (size_t i = 0; i < h->n; i++) {
        sub *x = h->v[i];
        if (x->dead || x->kind != SUB_PENDING) continue;
        if (x->full && !have_full) {
            have_full = 1;
            if (note_build(&full, rpc_json_tx(tx))) continue;
        }
        if (!x->full && !have_hash) {
            have_hash = 1;
            if (note_build(&hash, rpc_json_hex(tx->id, 32))) continue;
        }
        note *nt = x->full ? &full : &hash;
        if (nt->text) note_send(nt, x);
    }
    free(hash.text);
    free(full.text);
    h->walking--;
    sweep(h);
}

/* --- methods ---------------------------------------------------------------- */

static json_t *add_sub(rpc_subs *h, const rpc_call *call, int kind, int full, filter *f,
                       rpc_error *e)
{
    size_t mine = 0;
    for (size_t i = 0; i < h->n; i++)
        mine += !h->v[i]->dead && h->v[i]->s == call->session;
    if (mine >= RPC_SUBS_MAX_PER_SESSION || h->live >= RPC_SUBS_MAX_TOTAL) {
        free(f);
        return rpc_fail(e, RPC_LIMIT_EXCEEDED, NULL,
                        "too many subscriptions (at most %d per connection)",
                        RPC_SUBS_MAX_PER_SESSION);
    }
    sub *x = calloc(1, sizeof *x);
    if (!x) goto oom;
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        sub **v = realloc(h->v, cap * sizeof *v);
        if (!v) goto oom;
        h->v = v;
        h->cap = cap;
    }
    *x = (sub){.id = ++h->next_id, .kind = kind, .full = full, .s = call->session, .f = f};
    h->v[h->n++] = x;
    h->live++;
    char id[ID_LEN + 1];
    snprintf(id, sizeof id, "0x%016llx", (unsigned long long)x->id);
    return json_string(id);
oom:
    free(x);
    free(f);
    return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}

static json_t *m_new_blocks(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    if (rpc_param_count(params, 0, 0, e)) return NULL;
    return add_sub(ctx, call, SUB_BLOCKS, 0, NULL, e);
}

static json_t *m_pending(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    int full = 0;
    if (rpc_param_count(params, 0, 1, e) ||
        (rpc_param_present(params, 0) && rpc_param_bool(params, 0, "full", &full, e)))
        return NULL;
    return add_sub(ctx, call, SUB_PENDING, full, NULL, e);
}

/* One filter field: a value or an array of 1..16 values. */
static int filter_field(json_t *fobj, const char *key, size_t *count, void *out, size_t width,
                        rpc_error *e)
{
    json_t *v = json_object_get(fobj, key);
    if (!v || json_is_null(v)) return 0;
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    if (n == 0 || n > RPC_SUBS_MAX_FILTER_VALUES) {
        rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 0 (filter.%s): 1 to %d values", key,
                 RPC_SUBS_MAX_FILTER_VALUES);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *one = json_pack("[O]", json_is_array(v) ? json_array_get(v, i) : v);
        if (!one) {
            rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
            return -1;
        }
        char name[48];
        snprintf(name, sizeof name, json_is_array(v) ? "filter.%s[%zu]" : "filter.%s", key, i);
        uint8_t *slot = (uint8_t *)out + i * width;
        int bad;
        if (width == sizeof(chain_addr))
            bad = rpc_param_addr(one, 0, name, (chain_addr *)slot, e);
        else if (width == 32)
            bad = rpc_param_hash32(one, 0, name, slot, e);
        else
            bad = rpc_param_u64(one, 0, name, (uint64_t *)(void *)slot, e);
        json_decref(one);
        if (bad) return -1;
    }
    *count = n;
    return 0;
}

static json_t *m_events(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    if (rpc_param_count(params, 0, 1, e)) return NULL;
    json_t *fobj = json_array_get(params, 0);
    if (!fobj || json_is_null(fobj)) return add_sub(ctx, call, SUB_EVENTS, 0, NULL, e);
    if (!json_is_object(fobj))
        return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 0 (filter): expected an object");
    const char *key;
    json_t *val;
    json_object_foreach(fobj, key, val)
    {
        if (strcmp(key, "contract") && strcmp(key, "topic") && strcmp(key, "model") &&
            strcmp(key, "recipient"))
            return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                            "param 0 (filter): unknown field '%.40s' (contract, topic, model, "
                            "recipient)",
                            key);
    }
    filter *f = calloc(1, sizeof *f);
    if (!f) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
    if (filter_field(fobj, "contract", &f->ncontract, f->contract, sizeof(chain_addr), e) ||
        filter_field(fobj, "topic", &f->ntopic, f->topic, 32, e) ||
        filter_field(fobj, "model", &f->nmodel, f->model, sizeof(uint64_t), e) ||
        filter_field(fobj, "recipient", &f->nrecipient, f->recipient, sizeof(chain_addr), e)) {
        free(f);
        return NULL;
    }
    return add_sub(ctx, call, SUB_EVENTS, 0, f, e);
}

static json_t *m_unsubscribe(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    rpc_subs *h = ctx;
    const char *id;
    if (rpc_param_count(params, 1, 1, e) || rpc_param_str(params, 0, "id", 64, &id, e)) return NULL;
    for (size_t i = 0; i < h->n; i++) {
        sub *x = h->v[i];
        char s[ID_LEN + 1];
        snprintf(s, sizeof s, "0x%016llx", (unsigned long long)x->id);
        if (!x->dead && x->s == call->session && strcmp(s, id) == 0) {
            sub_kill(h, x);
            sweep(h);
            return json_true();
        }
    }
    return json_false();
}

int rpc_subs_register(rpc_dispatch *d, rpc_subs *h)
{
    if (rpc_dispatch_add_ex(d, "subscribe_newBlocks", m_new_blocks, h, RPC_METHOD_SESSION) ||
        rpc_dispatch_add_ex(d, "subscribe_events", m_events, h, RPC_METHOD_SESSION) ||
        rpc_dispatch_add_ex(d, "subscribe_pendingTransactions", m_pending, h, RPC_METHOD_SESSION) ||
        rpc_dispatch_add_ex(d, "unsubscribe", m_unsubscribe, h, RPC_METHOD_SESSION))
        return -1;
    return 0;
}
