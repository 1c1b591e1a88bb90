/* The L2 side of the OPEN bridge (chain/exec/bridge.h, docs/rollup.md
 * "Bridge"): the bridge entry and withdrawal codecs, the WITHDRAW body, the
 * DEPOSIT system transaction, the per-block supply check, and the reads of
 * the committed bridge state and its indexes. */
#include "chain/exec/bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/exec/exec_internal.h"
#include "chain/state/dbkey.h"
#include "chain/state/store_internal.h"
#include "util/amount.h"
#include "util/bytes.h"

_Static_assert(CHAIN_BRIDGE_WROOT_OFF + 32 == CHAIN_BRIDGE_ENTRY_LEN,
               "chain_exec_finish writes the withdrawals root at the end of the bridge entry");

#define IX_LOC_LEN 40 /* height u64le | txid[32] */

void chain_bridge_encode(const chain_bridge_state *s, uint8_t out[CHAIN_BRIDGE_ENTRY_LEN])
{
    util_put_u64le(out, s->next_deposit);
    util_put_u64le(out + 8, s->next_withdrawal);
    util_put_u64le(out + 16, s->minted);
    util_put_u64le(out + 24, s->burned);
    util_put_u64le(out + 32, s->last_deposit_l1_block);
    memcpy(out + CHAIN_BRIDGE_WROOT_OFF, s->withdrawals_root, 32);
}

int chain_bridge_decode(chain_bridge_state *s, const uint8_t *b, size_t n, util_err *err)
{
    if (n != CHAIN_BRIDGE_ENTRY_LEN)
        return util_err_set(err, UTIL_EIO, "corrupt bridge entry: %zu bytes, want %d", n,
                            CHAIN_BRIDGE_ENTRY_LEN);
    s->next_deposit = util_get_u64le(b);
    s->next_withdrawal = util_get_u64le(b + 8);
    s->minted = util_get_u64le(b + 16);
    s->burned = util_get_u64le(b + 24);
    s->last_deposit_l1_block = util_get_u64le(b + 32);
    memcpy(s->withdrawals_root, b + CHAIN_BRIDGE_WROOT_OFF, 32);
    return 0;
}

void chain_withdrawal_encode(const chain_withdrawal *w, uint8_t out[CHAIN_WITHDRAWAL_LEN])
{
    util_put_u64le(out, w->id);
    memcpy(out + 8, w->sender.b, CHAIN_ADDR_LEN);
    memcpy(out + 28, w->l1_recipient, 20);
    util_put_u64le(out + 48, w->amount);
}

int chain_withdrawal_decode(chain_withdrawal *w, const uint8_t *b, size_t n, util_err *err)
{
    if (n != CHAIN_WITHDRAWAL_LEN)
        return util_err_set(err, UTIL_EIO, "corrupt withdrawal: %zu bytes, want %d", n,
                            CHAIN_WITHDRAWAL_LEN);
    w->id = util_get_u64le(b);
    memcpy(w->sender.b, b + 8, CHAIN_ADDR_LEN);
    memcpy(w->l1_recipient, b + 28, 20);
    w->amount = util_get_u64le(b + 48);
    return 0;
}

void chain_withdrawal_path(uint8_t path[32], uint64_t id)
{
    uint8_t k[CHAIN_WITHDRAWAL_KEY_LEN];
    chain_sha256(path, k, chain_key_withdrawal(k, id));
}

int chain_tx_deposit_make(chain_tx *tx, const char *chain_id, uint64_t nonce,
                          const chain_tx_deposit *d, util_err *err)
{
    memset(tx, 0, sizeof *tx);
    tx->version = CHAIN_TX_VERSION;
    if (!chain_id || strlen(chain_id) > CHAIN_ID_MAX)
        return util_err_set(err, UTIL_EINVAL, "deposit: bad chain id");
    snprintf(tx->chain_id, sizeof tx->chain_id, "%s", chain_id);
    tx->type = CHAIN_TX_DEPOSIT;
    tx->nonce = nonce;
    tx->body.deposit = *d;
    return chain_tx_finalize(tx, err);
}

/* --- the overlay's bridge entry -------------------------------------------- */

static int get_bridge(chain_exec *ex, chain_bridge_state *s, util_err *err)
{
    uint8_t k[1];
    const uint8_t *v;
    size_t vl;
    memset(s, 0, sizeof *s);
    int rc = chain_exec_get(ex, k, chain_key_bridge(k), &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) return 0;
    if (rc) return rc;
    return chain_bridge_decode(s, v, vl, err);
}

static int put_bridge(chain_exec *ex, const chain_bridge_state *s, util_err *err)
{
    uint8_t k[1], v[CHAIN_BRIDGE_ENTRY_LEN];
    chain_bridge_encode(s, v);
    return chain_exec_put(ex, k, chain_key_bridge(k), v, sizeof v, err);
}

/* height u64le | txid: where an index entry's deposit or withdrawal is. */
static int put_loc(chain_exec *ex, const uint8_t *k, size_t kl, const chain_tx *tx, util_err *err)
{
    uint8_t v[IX_LOC_LEN];
    util_put_u64le(v, chain_exec_context(ex)->height);
    memcpy(v + 8, tx->id, 32);
    return chain_exec_index_put(ex, k, kl, v, sizeof v, err);
}

static int put_addr_ref(chain_exec *ex, const chain_addr *a, char kind, uint64_t id,
                        const chain_tx *tx, util_err *err)
{
    uint8_t k[CHAIN_IXKEY_BRIDGE_ADDR_LEN];
    return put_loc(ex, k, chain_ixkey_bridge_by_addr(k, a, kind, id), tx, err);
}

static int put_id_ref(chain_exec *ex, char ix, uint64_t id, const chain_tx *tx, util_err *err)
{
    uint8_t k[CHAIN_IXKEY_ID_LEN];
    return put_loc(ex, k, chain_ixkey_bridge_id(k, ix, id), tx, err);
}

static int add_event(chain_receipt *r, const char *name, const uint8_t *data, size_t len,
                     util_err *err)
{
    static const chain_addr system; /* the bridge is no account: the zero address emits */
    uint8_t topic[32];
    chain_sha256(topic, name, strlen(name));
    int rc = chain_receipt_add_event(r, &system, topic, data, len);
    if (rc == UTIL_ENOMEM) return util_err_set(err, rc, "out of memory");
    if (rc) return util_err_set(err, UTIL_ELIMIT, "too_many_events: receipt event limit");
    return 0;
}

/* --- WITHDRAW ------------------------------------------------------------- */

int chain_body_withdraw(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err)
{
    const chain_tx_withdraw *b = &tx->body.withdraw;
    chain_bridge_state s;
    chain_account acc;
    int rc;
    if ((rc = get_bridge(ex, &s, err))) return rc;
    if ((rc = chain_exec_get_account(ex, &tx->from, &acc, err))) return rc;
    if (acc.balance < b->amount)
        return util_err_set(err, UTIL_EINVAL, "insufficient_funds: balance %llu < amount %llu",
                            (unsigned long long)acc.balance, (unsigned long long)b->amount);
    /* The L1 caps what is locked at 10^19, so neither can overflow there;
     * checked anyway, since the state must never wrap. */
    if (util_add_u64(s.burned, b->amount, &s.burned) || s.next_withdrawal == UINT64_MAX)
        return util_err_set(err, UTIL_EINVAL, "balance_overflow: the bridge's burned total");
    chain_withdrawal w = {.id = s.next_withdrawal, .sender = tx->from, .amount = b->amount};
    memcpy(w.l1_recipient, b->l1_recipient, 20);
    s.next_withdrawal++;
    acc.balance -= b->amount;
    uint8_t k[CHAIN_WITHDRAWAL_KEY_LEN], v[CHAIN_WITHDRAWAL_LEN];
    chain_withdrawal_encode(&w, v);
    if ((rc = chain_exec_set_account(ex, &tx->from, &acc, err)) ||
        (rc = chain_exec_put(ex, k, chain_key_withdrawal(k, w.id), v, sizeof v, err)) ||
        (rc = put_bridge(ex, &s, err)) ||
        (rc = put_id_ref(ex, CHAIN_IX_WITHDRAWAL, w.id, tx, err)) ||
        (rc = put_addr_ref(ex, &tx->from, 'w', w.id, tx, err)) ||
        (rc = add_event(r, "withdrawal", v, sizeof v, err)))
        return rc;
    return 0;
}

/* --- DEPOSIT -------------------------------------------------------------- */

int chain_bridge_apply_deposit(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err)
{
    const chain_exec_ctx *c = chain_exec_context(ex);
    if (tx->type != CHAIN_TX_DEPOSIT)
        return util_err_set(err, UTIL_EINVAL, "not a deposit: %s", chain_tx_type_name(tx->type));
    if (strcmp(tx->chain_id, c->chain_id) != 0)
        return util_err_set(err, UTIL_EINVAL, "wrong chain: transaction is for '%s', this is '%s'",
                            tx->chain_id, c->chain_id);
    if (tx->gas_limit || tx->gas_price || tx->body.deposit.amount == 0)
        return util_err_set(err, UTIL_EINVAL, "deposit: not a system transaction's envelope");
    const chain_tx_deposit *d = &tx->body.deposit;
    chain_bridge_state s;
    int rc;
    if ((rc = get_bridge(ex, &s, err))) return rc;
    if (tx->nonce != s.next_deposit)
        return util_err_set(err, UTIL_EINVAL, "deposit nonce %llu, the next deposit is %llu",
                            (unsigned long long)tx->nonce, (unsigned long long)s.next_deposit);
    if (d->l1_block < s.last_deposit_l1_block)
        return util_err_set(
            err, UTIL_EINVAL, "deposit from L1 block %llu, below the last deposit's %llu",
            (unsigned long long)d->l1_block, (unsigned long long)s.last_deposit_l1_block);

    memset(r, 0, sizeof *r);
    size_t cp = chain_exec_checkpoint(ex);
    /* The nonce is consumed whatever happens: the L1 locked the tokens, and
     * the next deposit must not wait for this one. */
    s.next_deposit++;
    s.last_deposit_l1_block = d->l1_block;
    chain_account acc;
    uint64_t minted;
    if ((rc = chain_exec_get_account(ex, &d->to, &acc, err))) goto fatal;
    if (acc.balance > UINT64_MAX - d->amount || util_add_u64(s.minted, d->amount, &minted)) {
        chain_receipt_fail(r, "balance_overflow: the amount overflows the recipient's balance");
    } else {
        uint8_t ev[8 + CHAIN_ADDR_LEN + 8];
        util_put_u64le(ev, tx->nonce);
        memcpy(ev + 8, d->to.b, CHAIN_ADDR_LEN);
        util_put_u64le(ev + 8 + CHAIN_ADDR_LEN, d->amount);
        acc.balance += d->amount;
        s.minted = minted;
        if ((rc = chain_exec_set_account(ex, &d->to, &acc, err)) ||
            (rc = put_addr_ref(ex, &d->to, 'd', tx->nonce, tx, err)) ||
            (rc = add_event(r, "deposit", ev, sizeof ev, err)))
            goto fatal;
        r->status = CHAIN_RECEIPT_OK;
    }
    if ((rc = put_bridge(ex, &s, err)) ||
        (rc = put_id_ref(ex, CHAIN_IX_DEPOSIT, tx->nonce, tx, err)))
        goto fatal;
    return 0;
fatal:
    chain_receipt_free(r);
    chain_exec_revert(ex, cp);
    return rc;
}

/* --- supply --------------------------------------------------------------- */

static int committed_bridge(chain_store *st, chain_bridge_state *s, util_err *err)
{
    uint8_t k[1], *v = NULL;
    size_t vl = 0;
    memset(s, 0, sizeof *s);
    int rc = chain_store_state_get(st, k, chain_key_bridge(k), &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) {
        util_err_clear(err);
        return 0;
    }
    if (!rc) rc = chain_bridge_decode(s, v, vl, err);
    free(v);
    return rc;
}

int chain_bridge_check_block_supply(chain_exec *ex, util_err *err)
{
    unsigned __int128 before, after;
    chain_bridge_state s0, s1;
    int rc;
    if ((rc = chain_exec_balance_sums(ex, &before, &after, err)) ||
        (rc = committed_bridge(chain_exec_store(ex), &s0, err)) || (rc = get_bridge(ex, &s1, err)))
        return rc;
    /* Both sides as before + created - destroyed, in 128 bits: no sign. */
    unsigned __int128 lhs = after + (unsigned __int128)(s1.burned - s0.burned);
    unsigned __int128 rhs = before + (unsigned __int128)(s1.minted - s0.minted);
    if (s1.minted < s0.minted || s1.burned < s0.burned || lhs != rhs)
        return util_err_set(
            err, UTIL_ESTATE,
            "supply: the block changed the balances from %llu to %llu (x 2^64: %llu to %llu) "
            "but minted %llu and burned %llu (a bug)",
            (unsigned long long)before, (unsigned long long)after,
            (unsigned long long)(before >> 64), (unsigned long long)(after >> 64),
            (unsigned long long)(s1.minted - s0.minted),
            (unsigned long long)(s1.burned - s0.burned));
    return 0;
}

uint64_t chain_genesis_supply(const chain_genesis *g)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < g->nalloc; i++)
        sum += g->alloc[i].balance; /* the genesis parser checked the total fits */
    return sum;
}

typedef struct sum_ctx {
    unsigned __int128 sum;
    int bad;
} sum_ctx;

static int sum_account(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)key;
    sum_ctx *c = ctx;
    chain_account a;
    if (klen != 1 + CHAIN_ACCOUNT_KEY_LEN || chain_account_decode(&a, val, vlen)) {
        c->bad = 1;
        return 1;
    }
    c->sum += a.balance;
    return 0;
}

int chain_supply_check(chain_store *st, const chain_genesis *g, uint64_t *supply, util_err *err)
{
    uint8_t prefix[2];
    sum_ctx c = {0};
    chain_bridge_state s;
    int rc = chain_store_scan(st, prefix, chain_dbkey_state_kind(prefix, CHAIN_SK_ACCOUNT), NULL, 0,
                              0, SIZE_MAX, sum_account, &c, err);
    if (rc) return rc;
    if (c.bad) return util_err_set(err, UTIL_EIO, "corrupt account entry");
    if ((rc = committed_bridge(st, &s, err))) return rc;
    unsigned __int128 want = (unsigned __int128)chain_genesis_supply(g) + s.minted;
    if (supply) *supply = (uint64_t)c.sum;
    if (c.sum + s.burned != want)
        return util_err_set(err, UTIL_ESTATE,
                            "supply: the balances sum to %llu (x 2^64: %llu), genesis %llu + "
                            "minted %llu - burned %llu says otherwise (a bug)",
                            (unsigned long long)c.sum, (unsigned long long)(c.sum >> 64),
                            (unsigned long long)chain_genesis_supply(g),
                            (unsigned long long)s.minted, (unsigned long long)s.burned);
    return 0;
}

/* --- committed reads ------------------------------------------------------ */

int chain_bridge_get(chain_store *st, chain_bridge_state *out, util_err *err)
{
    return committed_bridge(st, out, err);
}

/* An index entry height u64le | txid[32]. */
static int get_loc(chain_store *st, const uint8_t *ik, size_t ikl, uint64_t *height,
                   uint8_t txid[32], util_err *err)
{
    uint8_t k[CHAIN_DBKEY_MAX], *v = NULL;
    size_t vl = 0;
    int rc = chain_store_db_get(st, k, chain_dbkey_index(k, ik, ikl), &v, &vl, err);
    if (rc) return rc;
    if (vl != IX_LOC_LEN) rc = util_err_set(err, UTIL_EIO, "corrupt bridge index entry");
    if (!rc && height) *height = util_get_u64le(v);
    if (!rc && txid) memcpy(txid, v + 8, 32);
    free(v);
    return rc;
}

int chain_withdrawal_get(chain_store *st, uint64_t id, chain_withdrawal *w, uint64_t *height,
                         uint8_t txid[32], util_err *err)
{
    uint8_t k[CHAIN_WITHDRAWAL_KEY_LEN], *v = NULL;
    size_t vl = 0;
    int rc = chain_store_state_get(st, k, chain_key_withdrawal(k, id), &v, &vl, err);
    if (rc == UTIL_ENOTFOUND)
        return util_err_set(err, rc, "no withdrawal %llu", (unsigned long long)id);
    if (!rc) rc = chain_withdrawal_decode(w, v, vl, err);
    free(v);
    if (rc || (!height && !txid)) return rc;
    uint8_t ik[CHAIN_IXKEY_ID_LEN];
    rc = get_loc(st, ik, chain_ixkey_bridge_id(ik, CHAIN_IX_WITHDRAWAL, id), height, txid, err);
    if (rc == UTIL_ENOTFOUND)
        rc = util_err_set(err, UTIL_EIO, "withdrawal %llu has no index entry",
                          (unsigned long long)id);
    return rc;
}

int chain_deposit_find(chain_store *st, uint64_t nonce, uint64_t *height, uint8_t txid[32],
                       util_err *err)
{
    uint8_t ik[CHAIN_IXKEY_ID_LEN];
    int rc = get_loc(st, ik, chain_ixkey_bridge_id(ik, CHAIN_IX_DEPOSIT, nonce), height, txid, err);
    if (rc == UTIL_ENOTFOUND)
        return util_err_set(err, rc, "deposit %llu not minted", (unsigned long long)nonce);
    return rc;
}

int chain_bridge_wroot_at(chain_store *st, uint64_t height, uint8_t root[32], util_err *err)
{
    if (height > chain_store_height(st))
        return util_err_set(err, UTIL_ENOTFOUND, "height %llu is above the head %llu",
                            (unsigned long long)height, (unsigned long long)chain_store_height(st));
    if (height == 0) {
        memset(root, 0, 32); /* the genesis records no withdrawal */
        return 0;
    }
    uint8_t ik[CHAIN_IXKEY_ID_LEN], k[CHAIN_DBKEY_MAX], *v = NULL;
    size_t vl = 0;
    int rc = chain_store_db_get(
        st, k, chain_dbkey_index(k, ik, chain_ixkey_bridge_id(ik, CHAIN_IX_WROOT, height)), &v, &vl,
        err);
    if (rc == UTIL_ENOTFOUND)
        return util_err_set(err, UTIL_EIO, "no withdrawals root recorded for block %llu",
                            (unsigned long long)height);
    if (!rc && vl != 32) rc = util_err_set(err, UTIL_EIO, "corrupt withdrawals root entry");
    if (!rc) memcpy(root, v, 32);
    free(v);
    return rc;
}

int chain_withdrawal_prove(chain_store *st, uint64_t id, uint64_t height, chain_smt_proof *proof,
                           uint8_t root[32], util_err *err)
{
    int rc = chain_bridge_wroot_at(st, height, root, err);
    if (rc) return rc;
    uint8_t path[32];
    chain_withdrawal_path(path, id);
    /* The nodes of every past root stay in the store (archive mode). */
    chain_smt_store sst = {.ctx = st, .get = chain_store_smt_get, .put = NULL};
    if ((rc = chain_smt_prove(&sst, root, path, proof, err))) return rc;
    if (!proof->has_leaf || memcmp(proof->leaf_path, path, 32) != 0)
        return util_err_set(err, UTIL_ENOTFOUND, "withdrawal %llu is not in the tree of block %llu",
                            (unsigned long long)id, (unsigned long long)height);
    return 0;
}

typedef struct list_ctx {
    chain_bridge_ref *out;
    size_t max, n;
    int bad;
} list_ctx;

static int list_one(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    list_ctx *c = ctx;
    /* CHAIN_DB_INDEX | CHAIN_IX_BRIDGE_BY_ADDR | addr | kind | id */
    if (klen != 1 + CHAIN_IXKEY_BRIDGE_ADDR_LEN || vlen != IX_LOC_LEN ||
        (key[22] != 'd' && key[22] != 'w')) {
        c->bad = 1;
        return 1;
    }
    chain_bridge_ref *r = &c->out[c->n++];
    r->kind = (char)key[22];
    r->id = util_get_u64be(key + 23);
    r->height = util_get_u64le(val);
    memcpy(r->txid, val + 8, 32);
    return c->n >= c->max;
}

static int newer(const void *a, const void *b)
{
    const chain_bridge_ref *x = a, *y = b;
    if (x->height != y->height) return x->height > y->height ? -1 : 1;
    if (x->kind != y->kind) return x->kind > y->kind ? -1 : 1; /* withdrawals after deposits */
    return x->id > y->id ? -1 : x->id < y->id;
}

int chain_bridge_list_by_addr(chain_store *st, const chain_addr *a, chain_bridge_ref *out,
                              size_t max, size_t *n, util_err *err)
{
    *n = 0;
    if (max == 0) return 0;
    /* The index is ordered by kind then id; each kind is newest first when
     * read backwards. Take up to max of each, then merge by height. */
    chain_bridge_ref *tmp = calloc(2 * max, sizeof *tmp);
    if (!tmp) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    size_t got = 0;
    int rc = 0;
    const char kinds[2] = {'d', 'w'};
    for (int i = 0; i < 2 && !rc; i++) {
        uint8_t p[2 + CHAIN_ADDR_LEN + 1];
        chain_dbkey_index_prefix(p, CHAIN_IX_BRIDGE_BY_ADDR, a->b, CHAIN_ADDR_LEN);
        p[2 + CHAIN_ADDR_LEN] = (uint8_t)kinds[i];
        list_ctx c = {.out = tmp + got, .max = max};
        rc = chain_store_scan(st, p, sizeof p, NULL, 0, 1, max, list_one, &c, err);
        if (!rc && c.bad) rc = util_err_set(err, UTIL_EIO, "corrupt bridge index entry");
        got += c.n;
    }
    if (!rc) {
        qsort(tmp, got, sizeof *tmp, newer);
        *n = got < max ? got : max;
        memcpy(out, tmp, *n * sizeof *out);
    }
    free(tmp);
    return rc;
}
