/* The mempool's policy: admission, the choice of eviction victims, block
 * selection, cleanup after a block, expiry. The indexes it works on are in
 * chain/mempool/mempool_index.c; their layout is in chain/mempool/mempool_internal.h. */
#include "chain/mempool/mempool_internal.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/amount.h"
#include "util/time.h"

static const struct {
    const char *token, *text;
} REASONS[CHAIN_MP_REASON_COUNT] = {
    [CHAIN_MP_OK] = {"ok", "ok"},
    [CHAIN_MP_MALFORMED] = {"malformed", "malformed"},
    [CHAIN_MP_BAD_SIGNATURE] = {"bad_signature", "bad signature"},
    [CHAIN_MP_WRONG_CHAIN] = {"wrong_chain", "wrong chain"},
    [CHAIN_MP_NONCE_TOO_LOW] = {"nonce_too_low", "nonce too low"},
    [CHAIN_MP_NONCE_TOO_HIGH] = {"nonce_too_high", "nonce too high"},
    [CHAIN_MP_INSUFFICIENT_FUNDS] = {"insufficient_funds", "insufficient funds"},
    [CHAIN_MP_FEE_TOO_LOW] = {"fee_too_low", "fee below minimum"},
    [CHAIN_MP_GAS_TOO_LOW] = {"gas_too_low", "gas limit too low"},
    [CHAIN_MP_GAS_TOO_HIGH] = {"gas_too_high", "gas limit above block gas limit"},
    [CHAIN_MP_TOO_LARGE] = {"too_large", "too large"},
    [CHAIN_MP_POOL_FULL] = {"pool_full", "pool full"},
    [CHAIN_MP_ALREADY_KNOWN] = {"already_known", "already known"},
    [CHAIN_MP_UNDERPRICED] = {"replacement_underpriced", "replacement underpriced"},
    [CHAIN_MP_UNSUPPORTED] = {"unsupported_type", "unsupported type"},
    [CHAIN_MP_INTERNAL] = {"internal_error", "internal error"},
    [CHAIN_MP_EXEC_FAILED] = {"execution_failed", "execution would fail"},
    [CHAIN_MP_TOO_MANY_QUEUED] = {"too_many_queued", "too many queued"},
};

const char *chain_mempool_reason_token(int reason)
{
    if (reason < 0 || reason >= CHAIN_MP_REASON_COUNT) return "unknown";
    return REASONS[reason].token;
}

const char *chain_mempool_reason_text(int reason)
{
    if (reason < 0 || reason >= CHAIN_MP_REASON_COUNT) return "unknown";
    return REASONS[reason].text;
}

/* ---- public API ---- */

chain_mempool *chain_mempool_new(const chain_mempool_cfg *cfg, chain_account_fn acct, void *ctx)
{
    if (!cfg || !acct) return NULL;
    chain_mempool *mp = calloc(1, sizeof *mp);
    if (!mp) return NULL;
    mp->cfg = *cfg;
    mp->cfg.chain_id[CHAIN_ID_MAX] = 0;
    mp->acct = acct;
    mp->ctx = ctx;
    uint64_t k[4];
    if (cfg->hash_seed) {
        uint64_t t = cfg->hash_seed;
        for (int i = 0; i < 4; i++)
            k[i] = t = chain_mp_mix(t ^ (uint64_t)0x9e3779b97f4a7c15ull,
                                    (uint64_t)0xbf58476d1ce4e5b9ull + (uint64_t)i);
    } else if (RAND_bytes((unsigned char *)k, sizeof k) != 1) {
        /* Keys only protect against bucket flooding; a weak seed degrades
         * that protection, it does not break correctness. */
        uint64_t t = util_mono_ns() ^ (uint64_t)(uintptr_t)mp;
        for (int i = 0; i < 4; i++)
            k[i] = t = chain_mp_mix(t ^ (uint64_t)0x9e3779b97f4a7c15ull,
                                    (uint64_t)0xbf58476d1ce4e5b9ull + (uint64_t)i);
    }
    mp->k0 = k[0] | 1;
    mp->k1 = k[1] | 1;
    mp->k2 = k[2] | 1;
    mp->k3 = k[3] | 1;
    mp->ids = calloc(INITIAL_BUCKETS, sizeof *mp->ids);
    mp->snd = calloc(INITIAL_BUCKETS, sizeof *mp->snd);
    if (!mp->ids || !mp->snd) {
        free(mp->ids);
        free(mp->snd);
        free(mp);
        return NULL;
    }
    mp->ids_mask = mp->snd_mask = INITIAL_BUCKETS - 1;
    mp->min_gas = UINT64_MAX;
    mp->min_size = SIZE_MAX;
    return mp;
}

void chain_mempool_free(chain_mempool *mp)
{
    if (!mp) return;
    for (size_t i = 0; i <= mp->snd_mask; i++)
        for (mp_sender *s = mp->snd[i], *nx; s; s = nx) {
            nx = s->next;
            for (size_t k = 0; k < s->n; k++)
                chain_mp_entry_free(s->txs[k]);
            chain_mp_sender_free(s);
        }
    free(mp->snd);
    free(mp->ids);
    free(mp->heap);
    free(mp->sel);
    free(mp);
}

static int reject(util_err *err, int reason, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int reject(util_err *err, int reason, int code, const char *fmt, ...)
{
    if (err) {
        char detail[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        util_err_set(err, code, "%s%s%s", REASONS[reason].text, *detail ? ": " : "", detail);
    }
    return reason;
}

/* Checks that need no account state. */
static int check_stateless(const chain_mempool *mp, const chain_tx *tx, util_err *err)
{
    const chain_mempool_cfg *c = &mp->cfg;
    if (tx->version != CHAIN_TX_VERSION || tx->size == 0)
        return reject(err, CHAIN_MP_MALFORMED, UTIL_EINVAL, "version %u", tx->version);
    if (tx->type == CHAIN_TX_DEPOSIT)
        return reject(err, CHAIN_MP_UNSUPPORTED, UTIL_EINVAL, "%s",
                      "deposit: a system transaction, only a block proposer includes one");
    if (tx->type < CHAIN_TX_TRANSFER || tx->type > CHAIN_TX_WITHDRAW)
        return reject(err, CHAIN_MP_UNSUPPORTED, UTIL_EINVAL, "type %u (%s) is not accepted",
                      tx->type, chain_tx_type_name(tx->type));
    if (chain_mp_id_find(mp, tx->id))
        return reject(err, CHAIN_MP_ALREADY_KNOWN, UTIL_EEXIST, "%s", "");
    if (strcmp(tx->chain_id, c->chain_id) != 0)
        return reject(err, CHAIN_MP_WRONG_CHAIN, UTIL_EINVAL, "\"%s\", this chain is \"%s\"",
                      tx->chain_id, c->chain_id);
    if (tx->size > c->max_tx_size)
        return reject(err, CHAIN_MP_TOO_LARGE, UTIL_ELIMIT, "%u bytes, limit %zu", tx->size,
                      c->max_tx_size);
    if (tx->gas_price < c->min_gas_price)
        return reject(err, CHAIN_MP_FEE_TOO_LOW, UTIL_EINVAL, "gas price %llu, minimum %llu",
                      (unsigned long long)tx->gas_price, (unsigned long long)c->min_gas_price);
    uint64_t ig = chain_tx_intrinsic_gas(tx);
    if (tx->gas_limit < ig)
        return reject(err, CHAIN_MP_GAS_TOO_LOW, UTIL_EINVAL, "gas limit %llu, intrinsic gas %llu",
                      (unsigned long long)tx->gas_limit, (unsigned long long)ig);
    if (tx->gas_limit > c->block_gas_limit)
        return reject(err, CHAIN_MP_GAS_TOO_HIGH, UTIL_EINVAL,
                      "gas limit %llu, block gas limit %llu", (unsigned long long)tx->gas_limit,
                      (unsigned long long)c->block_gas_limit);
    return CHAIN_MP_OK;
}

/* A replacement must pay at least BUMP percent more, and strictly more (a
 * zero price bumped by a percentage is still zero). */
static int replacement_ok(uint64_t old_price, uint64_t new_price)
{
    return new_price > old_price &&
           (unsigned __int128)new_price * 100 >=
               (unsigned __int128)old_price * (100 + CHAIN_MEMPOOL_REPLACE_BUMP_PCT);
}

/* Detaches the tail of the cheapest sender so that the pool can be restored
 * exactly by reattach() if the add fails later. A queued victim stays in the
 * expiry list until the add commits. */
static mp_entry *detach_tail(chain_mempool *mp, mp_sender *v)
{
    mp_entry *e = v->txs[--v->n];
    if (v->npend > v->n) v->npend = v->n;
    v->cost -= e->cost;
    chain_mp_id_remove(mp, e);
    mp->count--;
    mp->bytes -= e->tx.size;
    if (v->n == 0)
        chain_mp_heap_del(mp, v);
    else
        chain_mp_heap_fix(mp, v);
    return e;
}

static void reattach(chain_mempool *mp, mp_entry *e)
{
    mp_sender *v = e->s;
    v->txs[v->n++] = e;              /* the slot is still allocated: arrays never shrink */
    if (!e->queued) v->npend = v->n; /* a pending tail: the whole sender was pending */
    v->cost += e->cost;
    chain_mp_id_insert(mp, e);
    mp->count++;
    mp->bytes += e->tx.size;
    if (v->n == 1)
        chain_mp_heap_push(mp, v); /* heap_del freed exactly this slot */
    else
        chain_mp_heap_fix(mp, v);
}

/* The account's nonce moved without on_block hearing of it: entries below it
 * can never run. Returns s, or NULL if that emptied it. */
static mp_sender *resync(chain_mempool *mp, mp_sender *s, uint64_t nonce)
{
    s->nonce = nonce;
    size_t k = chain_mp_lower_bound(s, nonce);
    if (k == s->n) {
        chain_mp_drop_range(mp, s, 0, s->n);
        return NULL;
    }
    chain_mp_drop_range(mp, s, 0, k);
    chain_mp_reclass(mp, s);
    chain_mp_heap_fix(mp, s);
    return s;
}

/* What the checks found out, for the add. */
typedef struct precheck_out {
    mp_sender *s;  /* the sender's pooled transactions, or NULL */
    mp_entry *old; /* the pooled transaction tx replaces, or NULL */
    size_t pos;    /* where tx goes in s */
    int pend;      /* tx joins the sender's pending run (else it is queued) */
    uint64_t cost, nonce;
} precheck_out;

/* Checks 1-15 of docs/mempool.md; on success fills *o. */
static int precheck(chain_mempool *mp, const chain_tx *tx, util_err *err, precheck_out *o)
{
    chain_mempool_expire(mp);
    int r = check_stateless(mp, tx, err);
    if (r) return r;
    uint64_t cost;
    if (chain_tx_max_cost(tx, &cost))
        return reject(err, CHAIN_MP_INSUFFICIENT_FUNDS, UTIL_ESTATE,
                      "gas limit x gas price + value overflows");

    uint64_t bal = 0, nonce = 0;
    if (mp->acct(mp->ctx, &tx->from, &bal, &nonce))
        return reject(err, CHAIN_MP_INTERNAL, UTIL_EIO, "account lookup failed");
    if (tx->nonce < nonce)
        return reject(err, CHAIN_MP_NONCE_TOO_LOW, UTIL_ESTATE, "nonce %llu, account nonce %llu",
                      (unsigned long long)tx->nonce, (unsigned long long)nonce);
    uint64_t maxn;
    if (util_add_u64(nonce, mp->cfg.max_nonce_ahead, &maxn)) maxn = UINT64_MAX;
    if (tx->nonce > maxn)
        return reject(err, CHAIN_MP_NONCE_TOO_HIGH, UTIL_ESTATE,
                      "nonce %llu, account nonce %llu, at most %llu ahead",
                      (unsigned long long)tx->nonce, (unsigned long long)nonce,
                      (unsigned long long)mp->cfg.max_nonce_ahead);

    mp_sender *s = chain_mp_snd_find(mp, &tx->from);
    if (s && s->nonce != nonce) s = resync(mp, s, nonce);
    /* Pending if it extends (or replaces a member of) the run from the
     * account nonce; queued if a nonce is missing in front of it. */
    int pend = s ? tx->nonce - nonce <= s->npend : tx->nonce == nonce;
    size_t pos = s ? chain_mp_lower_bound(s, tx->nonce) : 0;
    mp_entry *old = (s && pos < s->n && s->txs[pos]->tx.nonce == tx->nonce) ? s->txs[pos] : NULL;
    if (old && !replacement_ok(old->tx.gas_price, tx->gas_price))
        return reject(err, CHAIN_MP_UNDERPRICED, UTIL_ESTATE,
                      "gas price %llu, pooled transaction with nonce %llu pays %llu (need +%d%%)",
                      (unsigned long long)tx->gas_price, (unsigned long long)tx->nonce,
                      (unsigned long long)old->tx.gas_price, CHAIN_MEMPOOL_REPLACE_BUMP_PCT);
    if (!pend && !old && s && mp->cfg.max_queued_per_sender &&
        s->n - s->npend >= mp->cfg.max_queued_per_sender)
        return reject(err, CHAIN_MP_TOO_MANY_QUEUED, UTIL_ELIMIT,
                      "%zu transactions of this sender wait behind a nonce gap (limit %zu); "
                      "nonce %llu is missing",
                      s->n - s->npend, mp->cfg.max_queued_per_sender,
                      (unsigned long long)(nonce + s->npend));
    uint64_t pooled = s ? s->cost - (old ? old->cost : 0) : 0, need;
    if (util_add_u64(pooled, cost, &need) || need > bal)
        return reject(err, CHAIN_MP_INSUFFICIENT_FUNDS, UTIL_ESTATE,
                      "balance %llu, needs %llu (this transaction) + %llu (pooled)",
                      (unsigned long long)bal, (unsigned long long)cost,
                      (unsigned long long)pooled);
    if (tx->size > mp->cfg.max_bytes || mp->cfg.max_txs == 0)
        return reject(err, CHAIN_MP_POOL_FULL, UTIL_ELIMIT, "%s", "");
    *o = (precheck_out){.s = s, .old = old, .pos = pos, .pend = pend, .cost = cost, .nonce = nonce};
    return CHAIN_MP_OK;
}

int chain_mempool_precheck(chain_mempool *mp, const chain_tx *tx, util_err *err)
{
    precheck_out o;
    return precheck(mp, tx, err, &o);
}

int chain_mempool_add(chain_mempool *mp, const chain_tx *tx, util_err *err)
{
    precheck_out o;
    int r = precheck(mp, tx, err, &o);
    if (r) return r;
    mp_sender *s = o.s;
    mp_entry *old = o.old;
    size_t pos = o.pos;
    int pend = o.pend;
    uint64_t cost = o.cost, nonce = o.nonce;

    /* Everything that can fail is allocated before the pool is touched. */
    mp_entry *e = calloc(1, sizeof *e);
    if (!e) return reject(err, CHAIN_MP_INTERNAL, UTIL_ENOMEM, "out of memory");
    if (chain_tx_copy(&e->tx, tx)) {
        free(e);
        return reject(err, CHAIN_MP_INTERNAL, UTIL_ENOMEM, "out of memory");
    }
    /* Only now, after the cheap checks: verification is the expensive part.
     * A caller that set sig_checked vouches for the signature. */
    if (chain_tx_check_sig(&e->tx, mp->cfg.genesis_hash) != 1) {
        chain_mp_entry_free(e);
        return reject(err, CHAIN_MP_BAD_SIGNATURE, UTIL_ECRYPTO, "%s", "");
    }
    mp_sender *ns = NULL;
    if (!s) {
        ns = calloc(1, sizeof *ns);
        if (!ns || chain_mp_txs_reserve(ns) || chain_mp_heap_reserve(mp)) {
            if (ns) chain_mp_sender_free(ns);
            chain_mp_entry_free(e);
            return reject(err, CHAIN_MP_INTERNAL, UTIL_ENOMEM, "out of memory");
        }
    } else if (!old && chain_mp_txs_reserve(s)) {
        chain_mp_entry_free(e);
        return reject(err, CHAIN_MP_INTERNAL, UTIL_ENOMEM, "out of memory");
    }

    /* Make room by evicting tails of other senders: queued ones first, then
     * the globally cheapest. A pending newcomer evicts any queued tail, and a
     * pending one only if it pays strictly less; a queued newcomer evicts only
     * a queued tail that pays strictly less, never a pending one. Never the
     * sender's own (that could open a nonce gap in front of the new
     * transaction, or remove the replaced one). */
    size_t cnt = mp->count - (old ? 1 : 0) + 1;
    size_t bytes = mp->bytes - (old ? old->tx.size : 0) + tx->size;
    int full = cnt > mp->cfg.max_txs || bytes > mp->cfg.max_bytes;
    mp_entry *victims = NULL;
    if (full && s) chain_mp_heap_del(mp, s); /* out of reach while choosing victims */
    while (cnt > mp->cfg.max_txs || bytes > mp->cfg.max_bytes) {
        mp_sender *v = mp->hn ? mp->heap[0] : NULL;
        int ok = 0;
        if (v) {
            int cheaper = chain_mp_tail(v)->tx.gas_price < tx->gas_price;
            ok = chain_mp_tail_queued(v) ? pend || cheaper : pend && cheaper;
        }
        if (!ok) {
            while (victims) {
                mp_entry *nx = victims->next;
                reattach(mp, victims);
                victims = nx;
            }
            if (full && s) chain_mp_heap_push(mp, s);
            if (ns) chain_mp_sender_free(ns);
            chain_mp_entry_free(e);
            if (!pend)
                return reject(err, CHAIN_MP_POOL_FULL, UTIL_ELIMIT,
                              "%zu transactions, %zu bytes; nonce %llu is missing in front of "
                              "this one, and it can only evict cheaper queued transactions",
                              mp->count, mp->bytes,
                              (unsigned long long)(nonce + (s ? s->npend : 0)));
            return reject(err, CHAIN_MP_POOL_FULL, UTIL_ELIMIT,
                          "%zu transactions, %zu bytes; gas price %llu does not outbid the "
                          "cheapest",
                          mp->count, mp->bytes, (unsigned long long)tx->gas_price);
        }
        mp_entry *ve = detach_tail(mp, v);
        cnt--;
        bytes -= ve->tx.size;
        ve->next = victims;
        victims = ve;
    }

    /* Commit. Victim senders left empty are freed once, after all victims. */
    mp_sender *dead = NULL;
    while (victims) {
        mp_entry *nx = victims->next;
        mp_sender *v = victims->s;
        if (victims->queued) chain_mp_q_unlink(mp, victims);
        if (v->n == 0 && v->txs) {
            chain_mp_snd_remove(mp, v);
            free(v->txs);
            v->txs = NULL;
            v->next = dead;
            dead = v;
        }
        chain_mp_entry_free(victims);
        victims = nx;
    }
    while (dead) {
        mp_sender *nx = dead->next;
        free(dead);
        dead = nx;
    }

    e->seq = mp->seq++;
    e->cost = cost;
    if (ns) {
        s = ns;
        s->addr = tx->from;
        s->hpos = NPOS;
        chain_mp_snd_insert(mp, s);
    }
    s->nonce = nonce;
    e->s = s;
    if (old) {
        s->txs[pos] = e;
        if (old->queued) chain_mp_q_replace(mp, old, e);
        s->cost -= old->cost;
        chain_mp_id_remove(mp, old);
        mp->count--;
        mp->bytes -= old->tx.size;
        chain_mp_entry_free(old);
    } else {
        memmove(s->txs + pos + 1, s->txs + pos, (s->n - pos) * sizeof *s->txs);
        s->txs[pos] = e;
        s->n++;
        if (pend) {
            /* pos == npend: the run grows, and swallows the queued entries
             * whose gap this transaction filled (promotion). */
            s->npend++;
            while (s->npend < s->n && s->txs[s->npend]->tx.nonce - nonce == s->npend)
                chain_mp_q_unlink(mp, s->txs[s->npend++]);
        } else {
            chain_mp_q_link(mp, e, chain_mp_pool_now(mp));
        }
    }
    s->cost += cost;
    chain_mp_id_insert(mp, e);
    mp->count++;
    mp->bytes += e->tx.size;
    if (ns || full)
        chain_mp_heap_push(mp, s);
    else
        chain_mp_heap_fix(mp, s);
    if (tx->gas_limit < mp->min_gas) mp->min_gas = tx->gas_limit;
    if (tx->size < mp->min_size) mp->min_size = tx->size;
    chain_mp_id_maybe_grow(mp);
    chain_mp_snd_maybe_grow(mp);
    return CHAIN_MP_OK;
}

/* ---- selection ---- */

/* 1 if a's next transaction goes first: higher price, then earlier arrival. */
static int sel_before(const sel_item *a, const sel_item *b)
{
    if (a->price != b->price) return a->price > b->price;
    return a->seq < b->seq;
}

static sel_item sel_at(mp_sender *s, size_t k)
{
    return (sel_item){s->txs[k]->tx.gas_price, s->txs[k]->seq, s, k};
}

static void sel_down(sel_item *h, size_t n, size_t i)
{
    sel_item it = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && sel_before(&h[c + 1], &h[c])) c++;
        if (!sel_before(&h[c], &it)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = it;
}

size_t chain_mempool_select(chain_mempool *mp, uint64_t max_gas, size_t max_bytes,
                            const chain_tx **out, size_t max_out)
{
    if (max_out == 0 || mp->nsenders == 0) return 0;
    if (mp->selcap < mp->nsenders) {
        sel_item *t = realloc(mp->sel, mp->nsenders * sizeof *t);
        if (!t) return 0;
        mp->sel = t;
        mp->selcap = mp->nsenders;
    }
    sel_item *h = mp->sel;
    size_t hn = 0;
    for (size_t i = 0; i <= mp->snd_mask; i++)
        for (mp_sender *s = mp->snd[i]; s; s = s->next) {
            if (s->npend) h[hn++] = sel_at(s, 0);
        }
    for (size_t i = hn / 2; i-- > 0;)
        sel_down(h, hn, i);

    size_t n = 0;
    uint64_t gas = 0;
    size_t bytes = 0;
    /* Once nothing admitted so far could fit, popping the rest is wasted work. */
    while (hn > 0 && n < max_out && max_gas - gas >= mp->min_gas &&
           max_bytes - bytes >= mp->min_size) {
        mp_sender *s = h[0].s;
        const mp_entry *e = s->txs[h[0].k];
        /* A transaction that does not fit ends its sender's run (its later
         * nonces cannot go without it); smaller ones of others may still fit. */
        if (e->tx.gas_limit <= max_gas - gas && e->tx.size <= max_bytes - bytes) {
            out[n++] = &e->tx;
            gas += e->tx.gas_limit;
            bytes += e->tx.size;
            size_t k = h[0].k + 1;
            if (k < s->npend) {
                h[0] = sel_at(s, k);
                sel_down(h, hn, 0);
                continue;
            }
        }
        h[0] = h[--hn];
        if (hn) sel_down(h, hn, 0);
    }
    return n;
}

/* ---- after a block, removal, queries ---- */

static void remove_entry(chain_mempool *mp, mp_entry *e)
{
    mp_sender *s = e->s;
    size_t k = chain_mp_lower_bound(s, e->tx.nonce);
    chain_mp_drop_range(mp, s, k, k + 1);
}

/* Re-reads the account: drops entries below the committed nonce, then every
 * entry from the first one the balance no longer covers (in nonce order). */
static void refresh_sender(chain_mempool *mp, mp_sender *s)
{
    uint64_t bal, nonce;
    if (mp->acct(mp->ctx, &s->addr, &bal, &nonce)) return;
    s->nonce = nonce;
    size_t k = chain_mp_lower_bound(s, nonce);
    uint64_t acc = 0;
    size_t cut = s->n;
    for (size_t i = k; i < s->n; i++)
        if (util_add_u64(acc, s->txs[i]->cost, &acc) || acc > bal) {
            cut = i;
            break;
        }
    /* Tail first, so that the sender is freed at most once, by the last call. */
    if (cut == k) {
        chain_mp_drop_range(mp, s, 0, s->n);
        return;
    }
    chain_mp_drop_range(mp, s, cut, s->n);
    chain_mp_drop_range(mp, s, 0, k);
    /* The new nonce may have filled a gap (a transaction this pool never saw). */
    chain_mp_reclass(mp, s);
    chain_mp_heap_fix(mp, s);
}

void chain_mempool_on_block(chain_mempool *mp, const chain_block *b)
{
    if (!b) return;
    /* Senders first: with the new nonce, the block's own transactions go in
     * one cut from the front, instead of one by one, each breaking the run
     * (and demoting the rest) until the nonce is re-read. */
    uint64_t mark = ++mp->mark;
    for (size_t i = 0; i < b->ntx; i++) {
        mp_sender *s = chain_mp_snd_find(mp, &b->txs[i].from);
        if (!s || s->mark == mark) continue;
        s->mark = mark;
        refresh_sender(mp, s);
    }
    /* Left only when an account lookup failed. */
    for (size_t i = 0; i < b->ntx; i++) {
        mp_entry *e = chain_mp_id_find(mp, b->txs[i].id);
        if (e) remove_entry(mp, e);
    }
    chain_mempool_expire(mp);
}

size_t chain_mempool_expire(chain_mempool *mp)
{
    if (!mp->cfg.queued_lifetime_s || !mp->qhead) return 0;
    uint64_t now = chain_mp_pool_now(mp), life;
    if (util_mul_u64(mp->cfg.queued_lifetime_s, 1000000000ull, &life)) life = UINT64_MAX;
    size_t n = 0;
    /* The list is in queued-since order: stop at the first one still young. */
    while (mp->qhead && now - mp->qhead->qsince >= life) {
        remove_entry(mp, mp->qhead);
        n++;
    }
    return n;
}

int chain_mempool_remove(chain_mempool *mp, const uint8_t id[32])
{
    mp_entry *e = chain_mp_id_find(mp, id);
    if (!e) return UTIL_ENOTFOUND;
    remove_entry(mp, e);
    return 0;
}

const chain_tx *chain_mempool_get(chain_mempool *mp, const uint8_t id[32])
{
    mp_entry *e = chain_mp_id_find(mp, id);
    return e ? &e->tx : NULL;
}

const chain_mempool_cfg *chain_mempool_config(const chain_mempool *mp)
{
    return &mp->cfg;
}

size_t chain_mempool_count(const chain_mempool *mp)
{
    return mp->count;
}

size_t chain_mempool_bytes(const chain_mempool *mp)
{
    return mp->bytes;
}

size_t chain_mempool_queued(const chain_mempool *mp)
{
    return mp->nqueued;
}

uint64_t chain_mempool_next_nonce(chain_mempool *mp, const chain_addr *a)
{
    mp_sender *s = chain_mp_snd_find(mp, a);
    uint64_t bal, n;
    if (mp->acct(mp->ctx, a, &bal, &n)) n = s ? s->nonce : 0;
    if (!s) return n;
    for (size_t k = chain_mp_lower_bound(s, n);
         k < s->n && s->txs[k]->tx.nonce == n && n < UINT64_MAX; k++)
        n++;
    return n;
}
