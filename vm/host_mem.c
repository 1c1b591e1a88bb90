/* In-memory host: two open-addressing tables (balances, storage) and an undo
 * journal of previous values. */
#include "vm/host_mem.h"

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

typedef struct slot {
    uint8_t used;
    uint8_t key[VM_KEY_LEN];
    uint8_t val[VM_KEY_LEN]; /* balances: u64 little-endian in the first 8 bytes */
} slot;

typedef struct table {
    slot *s;
    size_t cap, n;
} table;

typedef struct undo {
    uint8_t storage; /* 0: balance, 1: storage slot */
    uint8_t key[VM_KEY_LEN];
    uint8_t old[VM_KEY_LEN];
} undo;

struct vm_memhost {
    uint8_t self[VM_ADDR_LEN];
    table bal, sto;
    undo *j;
    size_t jn, jcap;
    long fail_after;
};

static uint64_t hash_key(const uint8_t *k)
{
    /* Word-wise multiply-xor, then MurmurHash3's finalizer so that the low
     * bits, which index the table, depend on every input bit. */
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < VM_KEY_LEN; i += 8) {
        uint64_t w;
        memcpy(&w, k + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static slot *probe(slot *s, size_t cap, const uint8_t *key)
{
    size_t i = (size_t)hash_key(key) & (cap - 1);
    while (s[i].used && memcmp(s[i].key, key, VM_KEY_LEN) != 0)
        i = (i + 1) & (cap - 1);
    return &s[i];
}

static const slot *tfind(const table *t, const uint8_t *key)
{
    if (!t->cap) return NULL;
    const slot *e = probe(t->s, t->cap, key);
    return e->used ? e : NULL;
}

static slot *tput(table *t, const uint8_t *key)
{
    if ((t->n + 1) * 10 > t->cap * 7) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        slot *ns = calloc(cap, sizeof *ns);
        if (!ns) return NULL;
        for (size_t i = 0; i < t->cap; i++)
            if (t->s[i].used) *probe(ns, cap, t->s[i].key) = t->s[i];
        free(t->s);
        t->s = ns;
        t->cap = cap;
    }
    slot *e = probe(t->s, t->cap, key);
    if (!e->used) {
        e->used = 1;
        memcpy(e->key, key, VM_KEY_LEN);
        memset(e->val, 0, VM_KEY_LEN);
        t->n++;
    }
    return e;
}

static void addr_key(uint8_t key[VM_KEY_LEN], const uint8_t addr[VM_ADDR_LEN])
{
    memset(key, 0, VM_KEY_LEN);
    memcpy(key, addr, VM_ADDR_LEN);
}

vm_memhost *vm_memhost_new(const uint8_t self[VM_ADDR_LEN])
{
    vm_memhost *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    memcpy(h->self, self, VM_ADDR_LEN);
    h->fail_after = -1;
    return h;
}

void vm_memhost_free(vm_memhost *h)
{
    if (!h) return;
    free(h->bal.s);
    free(h->sto.s);
    free(h->j);
    free(h);
}

void vm_memhost_fail_after(vm_memhost *h, long n)
{
    h->fail_after = n;
}

static int failing(vm_memhost *h)
{
    if (h->fail_after < 0) return 0;
    if (h->fail_after == 0) return 1;
    h->fail_after--;
    return 0;
}

int vm_memhost_set_balance(vm_memhost *h, const uint8_t addr[VM_ADDR_LEN], uint64_t amount)
{
    uint8_t key[VM_KEY_LEN];
    addr_key(key, addr);
    slot *e = tput(&h->bal, key);
    if (!e) return UTIL_ENOMEM;
    util_put_u64le(e->val, amount);
    return 0;
}

uint64_t vm_memhost_balance(const vm_memhost *h, const uint8_t addr[VM_ADDR_LEN])
{
    uint8_t key[VM_KEY_LEN];
    addr_key(key, addr);
    const slot *e = tfind(&h->bal, key);
    return e ? util_get_u64le(e->val) : 0;
}

uint64_t vm_memhost_total(const vm_memhost *h)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < h->bal.cap; i++) {
        if (!h->bal.s[i].used) continue;
        uint64_t v = util_get_u64le(h->bal.s[i].val);
        sum = v > UINT64_MAX - sum ? UINT64_MAX : sum + v;
    }
    return sum;
}

static int is_zero(const uint8_t *v)
{
    for (int i = 0; i < VM_KEY_LEN; i++)
        if (v[i]) return 0;
    return 1;
}

int vm_memhost_sget(const vm_memhost *h, const uint8_t key[VM_KEY_LEN], uint8_t val[VM_KEY_LEN])
{
    const slot *e = tfind(&h->sto, key);
    if (!e || is_zero(e->val)) return 0;
    memcpy(val, e->val, VM_KEY_LEN);
    return 1;
}

size_t vm_memhost_slots(const vm_memhost *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->sto.cap; i++)
        if (h->sto.s[i].used && !is_zero(h->sto.s[i].val)) n++;
    return n;
}

/* Records the current value of a slot (creating it) before a change. */
static slot *journaled(vm_memhost *h, int storage, const uint8_t key[VM_KEY_LEN])
{
    if (h->jn == h->jcap) {
        size_t cap = h->jcap ? h->jcap * 2 : 64;
        undo *j = realloc(h->j, cap * sizeof *j);
        if (!j) return NULL;
        h->j = j;
        h->jcap = cap;
    }
    slot *e = tput(storage ? &h->sto : &h->bal, key);
    if (!e) return NULL;
    undo *u = &h->j[h->jn++];
    u->storage = (uint8_t)storage;
    memcpy(u->key, key, VM_KEY_LEN);
    memcpy(u->old, e->val, VM_KEY_LEN);
    return e;
}

static int cb_balance(void *ctx, const uint8_t addr[VM_ADDR_LEN], uint64_t *out)
{
    vm_memhost *h = ctx;
    if (failing(h)) return VM_HOST_EIO;
    *out = vm_memhost_balance(h, addr);
    return VM_HOST_OK;
}

static int cb_pay(void *ctx, const uint8_t to[VM_ADDR_LEN], uint64_t amount)
{
    vm_memhost *h = ctx;
    if (failing(h)) return VM_HOST_EIO;
    uint64_t have = vm_memhost_balance(h, h->self);
    if (have < amount) return VM_HOST_FUNDS;
    if (memcmp(to, h->self, VM_ADDR_LEN) == 0) return VM_HOST_OK;
    uint64_t dest = vm_memhost_balance(h, to);
    if (dest > UINT64_MAX - amount) return VM_HOST_EIO; /* beyond any supply */
    uint8_t ks[VM_KEY_LEN], kt[VM_KEY_LEN];
    addr_key(ks, h->self);
    addr_key(kt, to);
    slot *s = journaled(h, 0, ks);
    if (!s) return VM_HOST_EIO;
    util_put_u64le(s->val, have - amount);
    slot *t = journaled(h, 0, kt);
    if (!t) return VM_HOST_EIO;
    util_put_u64le(t->val, dest + amount);
    return VM_HOST_OK;
}

static int cb_sload(void *ctx, const uint8_t key[VM_KEY_LEN], uint8_t val[VM_KEY_LEN])
{
    vm_memhost *h = ctx;
    if (failing(h)) return VM_HOST_EIO;
    return vm_memhost_sget(h, key, val);
}

static int cb_sstore(void *ctx, const uint8_t key[VM_KEY_LEN], const uint8_t val[VM_KEY_LEN])
{
    vm_memhost *h = ctx;
    if (failing(h)) return VM_HOST_EIO;
    slot *e = journaled(h, 1, key);
    if (!e) return VM_HOST_EIO;
    memcpy(e->val, val, VM_KEY_LEN);
    return VM_HOST_OK;
}

void vm_memhost_table(vm_memhost *h, vm_host *out)
{
    out->ctx = h;
    out->balance = cb_balance;
    out->pay = cb_pay;
    out->sload = cb_sload;
    out->sstore = cb_sstore;
}

static void rollback(vm_memhost *h, size_t mark)
{
    while (h->jn > mark) {
        undo *u = &h->j[--h->jn];
        /* The slot exists: journaled() created it before recording. */
        slot *e =
            probe(u->storage ? h->sto.s : h->bal.s, u->storage ? h->sto.cap : h->bal.cap, u->key);
        memcpy(e->val, u->old, VM_KEY_LEN);
    }
}

int vm_memhost_call(vm_memhost *h, const vm_program *prog, const vm_env *env, uint64_t gas_limit,
                    vm_result *res, util_err *err)
{
    vm_host host;
    vm_memhost_table(h, &host);
    memcpy(h->self, env->self, VM_ADDR_LEN);
    size_t mark = h->jn;
    int rc = vm_call(prog, &host, env, gas_limit, res, err);
    if (rc || res->status != VM_OK) rollback(h, mark);
    if (mark == 0) h->jn = 0; /* outermost call: the journal is no longer needed */
    return rc;
}
