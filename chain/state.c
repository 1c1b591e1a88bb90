#include "chain/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/hash.h"
#include "chain/smt.h"
#include "chain/store_internal.h"
#include "util/amount.h"

/* Accounts touched by the block, in an open-addressing table keyed by address.
 * Iteration order of the table never reaches the state root: the tree sorts
 * its updates by path. */
typedef struct acct_slot {
    chain_addr addr;
    chain_account acc;
    uint8_t used;
    uint8_t dirty;
} acct_slot;

struct chain_exec {
    chain_store *st;
    chain_exec_ctx ctx;
    char chain_id[CHAIN_ID_MAX + 1];
    acct_slot *slots;
    size_t cap, used;
    util_buf nodes; /* new tree nodes: hash[32] | node[65] records */
    int finished;
    uint8_t root[32];
};

#define NODE_REC (32 + CHAIN_SMT_NODE_LEN)

chain_exec *chain_exec_new(chain_store *st, const chain_exec_ctx *ctx)
{
    chain_exec *ex = calloc(1, sizeof *ex);
    if (!ex) return NULL;
    ex->st = st;
    ex->ctx = *ctx;
    snprintf(ex->chain_id, sizeof ex->chain_id, "%s", ctx->chain_id ? ctx->chain_id : "");
    ex->ctx.chain_id = ex->chain_id;
    ex->cap = 1024;
    ex->slots = calloc(ex->cap, sizeof *ex->slots);
    if (!ex->slots) {
        free(ex);
        return NULL;
    }
    util_buf_init(&ex->nodes);
    return ex;
}

void chain_exec_free(chain_exec *ex)
{
    if (!ex) return;
    free(ex->slots);
    util_buf_free(&ex->nodes);
    free(ex);
}

static size_t addr_hash(const chain_addr *a)
{
    /* Addresses are already uniformly distributed hash output. */
    uint64_t h;
    memcpy(&h, a->b, 8);
    return (size_t)h;
}

static acct_slot *find_slot(acct_slot *slots, size_t cap, const chain_addr *a)
{
    size_t i = addr_hash(a) & (cap - 1);
    while (slots[i].used && memcmp(slots[i].addr.b, a->b, CHAIN_ADDR_LEN) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(chain_exec *ex)
{
    size_t ncap = ex->cap * 2;
    acct_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return UTIL_ENOMEM;
    for (size_t i = 0; i < ex->cap; i++)
        if (ex->slots[i].used) *find_slot(ns, ncap, &ex->slots[i].addr) = ex->slots[i];
    free(ex->slots);
    ex->slots = ns;
    ex->cap = ncap;
    return 0;
}

/* Returns the overlay slot of a, loading it from the committed state first. */
static acct_slot *slot_for(chain_exec *ex, const chain_addr *a, util_err *err)
{
    acct_slot *s = find_slot(ex->slots, ex->cap, a);
    if (s->used) return s;
    if ((ex->used + 1) * 2 > ex->cap) {
        if (grow(ex)) {
            util_err_set(err, UTIL_ENOMEM, "out of memory");
            return NULL;
        }
        s = find_slot(ex->slots, ex->cap, a);
    }
    chain_account acc;
    if (chain_store_get_account(ex->st, a, &acc, err)) return NULL;
    s->addr = *a;
    s->acc = acc;
    s->used = 1;
    s->dirty = 0;
    ex->used++;
    return s;
}

int chain_exec_get_account(chain_exec *ex, const chain_addr *a, chain_account *acc, util_err *err)
{
    acct_slot *s = slot_for(ex, a, err);
    if (!s) return err ? err->code : UTIL_EIO;
    *acc = s->acc;
    return 0;
}

int chain_exec_set_account(chain_exec *ex, const chain_addr *a, const chain_account *acc,
                           util_err *err)
{
    acct_slot *s = slot_for(ex, a, err);
    if (!s) return err ? err->code : UTIL_EIO;
    s->acc = *acc;
    s->dirty = 1;
    ex->finished = 0;
    return 0;
}

static int invalid(util_err *err, const char *fmt, const char *a, uint64_t x, uint64_t y)
{
    char msg[200];
    snprintf(msg, sizeof msg, fmt, a, (unsigned long long)x, (unsigned long long)y);
    return util_err_set(err, UTIL_EINVAL, "%s", msg);
}

int chain_exec_apply_tx(chain_exec *ex, chain_tx *tx, chain_receipt *r, util_err *err)
{
    if (tx->version != CHAIN_TX_VERSION)
        return util_err_set(err, UTIL_EINVAL, "unsupported transaction version %u", tx->version);
    if (strcmp(tx->chain_id, ex->chain_id) != 0)
        return util_err_set(err, UTIL_EINVAL, "wrong chain: transaction is for '%s', this is '%s'",
                            tx->chain_id, ex->chain_id);
    if (tx->type != CHAIN_TX_TRANSFER)
        return util_err_set(err, UTIL_EINVAL, "unsupported transaction type %u", tx->type);
    uint64_t gas = chain_tx_intrinsic_gas(tx);
    if (tx->gas_limit < gas)
        return invalid(err, "%sgas limit %llu below intrinsic gas %llu", "", tx->gas_limit, gas);
    if (tx->gas_price < ex->ctx.min_gas_price)
        return invalid(err, "%sgas price %llu below minimum %llu", "", tx->gas_price,
                       ex->ctx.min_gas_price);
    if (!chain_tx_check_sig(tx)) return util_err_set(err, UTIL_EINVAL, "bad signature");

    acct_slot *from = slot_for(ex, &tx->from, err);
    if (!from) return err ? err->code : UTIL_EIO;
    if (from->acc.nonce != tx->nonce)
        return invalid(err, "%snonce mismatch: account nonce %llu, transaction nonce %llu", "",
                       from->acc.nonce, tx->nonce);
    uint64_t max_fee, fee;
    if (util_mul_u64(tx->gas_limit, tx->gas_price, &max_fee))
        return util_err_set(err, UTIL_EINVAL, "gas limit x gas price overflows");
    if (from->acc.balance < max_fee)
        return invalid(err, "%sinsufficient funds for gas: balance %llu < %llu", "",
                       from->acc.balance, max_fee);
    fee = gas * tx->gas_price; /* gas <= gas_limit, so no overflow */

    /* Look the proposer up before changing anything, so a storage error leaves
     * the overlay untouched. */
    acct_slot *prop = slot_for(ex, &ex->ctx.proposer, err);
    if (!prop) return err ? err->code : UTIL_EIO;
    uint64_t prop_bal;
    if (util_add_u64(prop->acc.balance, fee, &prop_bal))
        return util_err_set(err, UTIL_EINVAL, "proposer balance overflow");

    memset(r, 0, sizeof *r);
    r->gas_used = gas;
    r->fee = fee;
    from->acc.balance -= fee;
    from->acc.nonce++;
    from->dirty = 1;
    prop = find_slot(ex->slots, ex->cap, &ex->ctx.proposer); /* table did not grow since */
    prop->acc.balance = prop_bal;
    prop->dirty = 1;
    ex->finished = 0;

    const chain_tx_transfer *t = &tx->body.transfer;
    from = find_slot(ex->slots, ex->cap, &tx->from);
    if (from->acc.balance < t->amount) {
        r->status = CHAIN_RECEIPT_FAILED;
        snprintf(r->error, sizeof r->error, "insufficient funds: balance %llu < amount %llu",
                 (unsigned long long)from->acc.balance, (unsigned long long)t->amount);
        return 0;
    }
    acct_slot *to = slot_for(ex, &t->to, err);
    if (!to) return err ? err->code : UTIL_EIO;
    from = find_slot(ex->slots, ex->cap, &tx->from); /* the table may have grown */
    if (to == from) {
        r->status = CHAIN_RECEIPT_OK;
        return 0;
    }
    uint64_t nb;
    if (util_add_u64(to->acc.balance, t->amount, &nb)) {
        r->status = CHAIN_RECEIPT_FAILED;
        snprintf(r->error, sizeof r->error, "amount overflows the recipient's balance");
        return 0;
    }
    from->acc.balance -= t->amount;
    to->acc.balance = nb;
    to->dirty = 1;
    r->status = CHAIN_RECEIPT_OK;
    return 0;
}

static int get_node(void *ctx, const uint8_t hash[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    return chain_store_smt_get(((chain_exec *)ctx)->st, hash, out);
}

static void put_node(void *ctx, const uint8_t hash[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    chain_exec *ex = ctx;
    util_buf_put(&ex->nodes, hash, 32);
    util_buf_put(&ex->nodes, node, CHAIN_SMT_NODE_LEN);
}

int chain_exec_finish(chain_exec *ex, uint8_t root[32], util_err *err)
{
    if (ex->finished) {
        memcpy(root, ex->root, 32);
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < ex->cap; i++)
        n += ex->slots[i].used && ex->slots[i].dirty;
    chain_smt_update *ups = calloc(n ? n : 1, sizeof *ups);
    if (!ups) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < ex->cap; i++) {
        acct_slot *s = &ex->slots[i];
        if (!s->used || !s->dirty) continue;
        uint8_t key[CHAIN_ACCOUNT_KEY_LEN], val[CHAIN_ACCOUNT_VALUE_LEN];
        chain_account_key(key, &s->addr);
        chain_account_encode(val, &s->acc);
        chain_sha256(ups[k].path, key, sizeof key);
        chain_sha256(ups[k].value_hash, val, sizeof val);
        k++;
    }
    util_buf_reset(&ex->nodes);
    /* Reads go to the committed tree; new nodes are collected for the batch. */
    chain_smt_store sst = {.ctx = ex, .get = get_node, .put = put_node};
    uint8_t old[32];
    chain_store_head_root(ex->st, old);
    int rc = chain_smt_apply(&sst, old, ups, n, ex->root, err);
    free(ups);
    if (rc) return rc;
    if (ex->nodes.oom) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    ex->finished = 1;
    memcpy(root, ex->root, 32);
    return 0;
}

void chain_exec_visit_changes(chain_exec *ex, chain_kv_visit_fn fn, void *ctx)
{
    for (size_t i = 0; i < ex->cap; i++) {
        acct_slot *s = &ex->slots[i];
        if (!s->used || !s->dirty) continue;
        uint8_t key[CHAIN_ACCOUNT_KEY_LEN], val[CHAIN_ACCOUNT_VALUE_LEN];
        chain_account_key(key, &s->addr);
        chain_account_encode(val, &s->acc);
        fn(ctx, key, sizeof key, val, sizeof val);
    }
}

void chain_exec_visit_nodes(chain_exec *ex, chain_kv_visit_fn fn, void *ctx)
{
    for (size_t off = 0; off + NODE_REC <= ex->nodes.len; off += NODE_REC)
        fn(ctx, ex->nodes.data + off, 32, ex->nodes.data + off + 32, CHAIN_SMT_NODE_LEN);
}

int chain_exec_finished(const chain_exec *ex, uint8_t root[32])
{
    if (ex->finished) memcpy(root, ex->root, 32);
    return ex->finished;
}
