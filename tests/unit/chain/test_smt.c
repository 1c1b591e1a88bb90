/* Compressed sparse Merkle tree: roots checked against a naive from-scratch
 * reference, order independence, proofs against every historical root, and
 * the corruption paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/smt.h"
#include "tests/seed.h"

/* ---- in-memory store --------------------------------------------------- */

typedef struct mem_node {
    int used;
    int hidden; /* simulates a node lost from the database */
    uint8_t hash[32];
    uint8_t node[CHAIN_SMT_NODE_LEN];
    unsigned get_epoch, put_epoch;
} mem_node;

typedef struct mem_store {
    mem_node *t;
    size_t cap, count;
    unsigned epoch; /* one per apply: catches double reads / writes */
    size_t dup_gets, dup_puts, gets, puts;
    int fail_code; /* nonzero: every get returns it */
} mem_store;

static size_t slot_of(const mem_store *s, const uint8_t h[32])
{
    uint64_t x;
    memcpy(&x, h, 8);
    size_t i = (size_t)x & (s->cap - 1);
    while (s->t[i].used && memcmp(s->t[i].hash, h, 32) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static void ms_init(mem_store *s)
{
    memset(s, 0, sizeof *s);
    s->cap = 1024;
    s->t = calloc(s->cap, sizeof *s->t);
    assert_non_null(s->t);
}

static void ms_free(mem_store *s)
{
    free(s->t);
    s->t = NULL;
}

static void ms_grow(mem_store *s)
{
    mem_store n = *s;
    n.cap = s->cap * 2;
    n.t = calloc(n.cap, sizeof *n.t);
    assert_non_null(n.t);
    for (size_t i = 0; i < s->cap; i++)
        if (s->t[i].used) n.t[slot_of(&n, s->t[i].hash)] = s->t[i];
    free(s->t);
    *s = n;
}

static int ms_get(void *ctx, const uint8_t hash[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    mem_store *s = ctx;
    if (s->fail_code) return s->fail_code;
    mem_node *e = &s->t[slot_of(s, hash)];
    if (!e->used || e->hidden) return UTIL_ENOTFOUND;
    s->gets++;
    if (e->get_epoch == s->epoch) s->dup_gets++;
    e->get_epoch = s->epoch;
    memcpy(out, e->node, CHAIN_SMT_NODE_LEN);
    return 0;
}

static void ms_put(void *ctx, const uint8_t hash[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    mem_store *s = ctx;
    uint8_t h[32];
    chain_sha256(h, node, CHAIN_SMT_NODE_LEN);
    assert_memory_equal(h, hash, 32); /* content-addressed */
    if (2 * (s->count + 1) > s->cap) ms_grow(s);
    mem_node *e = &s->t[slot_of(s, hash)];
    s->puts++;
    if (e->used) {
        if (e->put_epoch == s->epoch) s->dup_puts++;
        e->put_epoch = s->epoch;
        return;
    }
    e->used = 1;
    memcpy(e->hash, hash, 32);
    memcpy(e->node, node, CHAIN_SMT_NODE_LEN);
    e->put_epoch = s->epoch;
    s->count++;
}

static chain_smt_store ms_api(mem_store *s)
{
    chain_smt_store st = {s, ms_get, ms_put};
    return st;
}

/* Applies and checks that no node was read or written twice in the batch. */
static int apply(mem_store *s, const uint8_t root[32], chain_smt_update *u, size_t n,
                 uint8_t out[32], util_err *err)
{
    chain_smt_store st = ms_api(s);
    s->epoch++;
    s->dup_gets = s->dup_puts = 0;
    int rc = chain_smt_apply(&st, root, u, n, out, err);
    assert_int_equal(s->dup_gets, 0);
    assert_int_equal(s->dup_puts, 0);
    return rc;
}

/* ---- naive reference --------------------------------------------------- */

typedef struct kv {
    uint8_t path[32];
    uint8_t vh[32];
} kv;

static int bit(const uint8_t *p, unsigned i)
{
    return (p[i / 8] >> (7 - i % 8)) & 1;
}

static int cmp_kv(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static void hash_leaf(uint8_t out[32], const uint8_t path[32], const uint8_t vh[32])
{
    uint8_t buf[65];
    buf[0] = 0;
    memcpy(buf + 1, path, 32);
    memcpy(buf + 33, vh, 32);
    chain_sha256(out, buf, sizeof buf);
}

static void hash_node(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
    uint8_t buf[65];
    buf[0] = 1;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    chain_sha256(out, buf, sizeof buf);
}

/* Root of sorted keys[0..n) sharing their first d bits, straight from the
 * definition. */
static void naive(uint8_t out[32], const kv *keys, size_t n, unsigned d)
{
    if (n == 0) {
        memset(out, 0, 32);
        return;
    }
    if (n == 1) {
        hash_leaf(out, keys[0].path, keys[0].vh);
        return;
    }
    size_t m = 0;
    while (m < n && !bit(keys[m].path, d))
        m++;
    uint8_t l[32], r[32];
    naive(l, keys, m, d + 1);
    naive(r, keys + m, n - m, d + 1);
    hash_node(out, l, r);
}

static void naive_root(uint8_t out[32], kv *keys, size_t n)
{
    qsort(keys, n, sizeof *keys, cmp_kv);
    naive(out, keys, n, 0);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void rnd_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

static void set_up(chain_smt_update *u, const uint8_t path[32], const uint8_t vh[32])
{
    memset(u, 0, sizeof *u);
    memcpy(u->path, path, 32);
    if (vh)
        memcpy(u->value_hash, vh, 32);
    else
        u->remove = 1;
}

static void check_proof(mem_store *s, const uint8_t root[32], const uint8_t path[32],
                        const uint8_t *vh)
{
    chain_smt_store st = ms_api(s);
    chain_smt_proof p;
    util_err err;
    uint8_t other[32];
    assert_int_equal(chain_smt_prove(&st, root, path, &p, &err), 0);
    assert_int_equal(chain_smt_verify(root, path, vh, &p, &err), 0);
    if (vh) {
        assert_int_not_equal(chain_smt_verify(root, path, NULL, &p, &err), 0);
        memcpy(other, vh, 32);
        other[0] ^= 1;
        assert_int_equal(chain_smt_verify(root, path, other, &p, &err), UTIL_EINVAL);
    } else {
        memset(other, 7, 32);
        assert_int_equal(chain_smt_verify(root, path, other, &p, &err), UTIL_EINVAL);
    }
}

/* ---- tests ------------------------------------------------------------- */

static void test_empty(void **state)
{
    mem_store s;
    ms_init(&s);
    chain_smt_store st = ms_api(&s);
    uint8_t zero[32] = {0}, root[32], path[32];
    util_err err;
    memset(root, 0xaa, 32);
    assert_int_equal(apply(&s, zero, NULL, 0, root, &err), 0);
    assert_memory_equal(root, zero, 32);

    /* removing from the empty tree leaves it empty, writing nothing */
    chain_smt_update u;
    memset(path, 3, 32);
    set_up(&u, path, NULL);
    assert_int_equal(apply(&s, zero, &u, 1, root, &err), 0);
    assert_memory_equal(root, zero, 32);
    assert_int_equal(s.puts, 0);

    chain_smt_proof p;
    assert_int_equal(chain_smt_prove(&st, zero, path, &p, &err), 0);
    assert_int_equal(p.nsib, 0);
    assert_int_equal(p.has_leaf, 0);
    check_proof(&s, zero, path, NULL);
    ms_free(&s);
}

static void test_single_and_two(void **state)
{
    mem_store s;
    ms_init(&s);
    uint8_t zero[32] = {0}, r1[32], r2[32], a[32], b[32], va[32], vb[32], la[32], lb[32], x[32];
    util_err err;
    chain_smt_update u[2];
    memset(a, 0x11, 32); /* first bit 0 */
    memset(b, 0x91, 32); /* first bit 1 */
    chain_sha256(va, "A", 1);
    chain_sha256(vb, "B", 1);
    hash_leaf(la, a, va);
    hash_leaf(lb, b, vb);

    set_up(&u[0], a, va);
    assert_int_equal(apply(&s, zero, u, 1, r1, &err), 0);
    assert_memory_equal(r1, la, 32);

    set_up(&u[0], b, vb);
    assert_int_equal(apply(&s, r1, u, 1, r2, &err), 0);
    hash_node(x, la, lb);
    assert_memory_equal(r2, x, 32);

    /* same value again and deleting an absent key: no change, no writes */
    size_t puts = s.puts;
    set_up(&u[0], a, va);
    memset(x, 0x55, 32);
    set_up(&u[1], x, NULL);
    assert_int_equal(apply(&s, r2, u, 2, x, &err), 0);
    assert_memory_equal(x, r2, 32);
    assert_int_equal(s.puts, puts);

    /* deleting b moves a back up to the root */
    set_up(&u[0], b, NULL);
    assert_int_equal(apply(&s, r2, u, 1, x, &err), 0);
    assert_memory_equal(x, la, 32);

    check_proof(&s, r1, a, va);
    check_proof(&s, r1, b, NULL);
    check_proof(&s, r2, a, va);
    check_proof(&s, r2, b, vb);

    /* duplicates in one batch are refused */
    set_up(&u[0], a, va);
    set_up(&u[1], a, NULL);
    assert_int_equal(apply(&s, r2, u, 2, x, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "twice"));
    ms_free(&s);
}

static void test_long_prefix(void **state)
{
    mem_store s;
    ms_init(&s);
    uint8_t zero[32] = {0}, p0[32] = {0}, p1[32] = {0}, p2[32] = {0}, v[32], l0[32], l1[32], l2[32],
            h[32], r[32], r2[32];
    util_err err;
    chain_smt_update u[3];
    p1[31] = 1;   /* differs from p0 only in the last bit */
    p2[0] = 0x80; /* differs from both in the first */
    chain_sha256(v, "v", 1);
    hash_leaf(l0, p0, v);
    hash_leaf(l1, p1, v);
    hash_leaf(l2, p2, v);

    set_up(&u[0], p1, v);
    set_up(&u[1], p0, v);
    assert_int_equal(apply(&s, zero, u, 2, r, &err), 0);
    hash_node(h, l0, l1);
    for (int d = 254; d >= 0; d--)
        hash_node(h, h, zero);
    assert_memory_equal(r, h, 32);

    chain_smt_store st = ms_api(&s);
    chain_smt_proof p;
    assert_int_equal(chain_smt_prove(&st, r, p1, &p, &err), 0);
    assert_int_equal(p.nsib, 256);
    assert_memory_equal(p.siblings[255], l0, 32);
    assert_memory_equal(p.siblings[0], zero, 32);
    check_proof(&s, r, p1, v);
    check_proof(&s, r, p0, v);
    check_proof(&s, r, p2, NULL);

    /* a third key, then removing p1 pulls p0 up from depth 256 to 1 */
    set_up(&u[0], p2, v);
    assert_int_equal(apply(&s, r, u, 1, r2, &err), 0);
    check_proof(&s, r2, p2, v);
    set_up(&u[0], p1, NULL);
    assert_int_equal(apply(&s, r2, u, 1, r2, &err), 0);
    hash_node(h, l0, l2);
    assert_memory_equal(r2, h, 32);

    /* a lone leaf pushed down by a key sharing 100 bits */
    uint8_t q[32];
    memcpy(q, p2, 32);
    q[12] ^= 0x08; /* bit 100 */
    set_up(&u[0], q, v);
    assert_int_equal(apply(&s, r2, u, 1, r2, &err), 0);
    kv ks[3];
    memcpy(ks[0].path, p0, 32);
    memcpy(ks[1].path, p2, 32);
    memcpy(ks[2].path, q, 32);
    for (int i = 0; i < 3; i++)
        memcpy(ks[i].vh, v, 32);
    naive_root(h, ks, 3);
    assert_memory_equal(r2, h, 32);
    assert_int_equal(chain_smt_prove(&st, r2, q, &p, &err), 0);
    assert_int_equal(p.nsib, 101);
    check_proof(&s, r2, q, v);

    /* all gone: back to zero */
    set_up(&u[0], p0, NULL);
    set_up(&u[1], p2, NULL);
    set_up(&u[2], q, NULL);
    assert_int_equal(apply(&s, r2, u, 3, r2, &err), 0);
    assert_memory_equal(r2, zero, 32);
    ms_free(&s);
}

#define NUNI 360
#define NROUNDS 50

/* Random batches over a key universe with long shared prefixes mixed in,
 * checked against the naive root each round; then every key is proven
 * present or absent against every root along the way. */
static void test_random_vs_naive(void **state)
{
    mem_store s;
    ms_init(&s);
    static uint8_t uni[NUNI][32];
    static uint8_t vals[4][32];
    static uint8_t model[NROUNDS + 1][NUNI]; /* 0 absent, else 1 + value index */
    static uint8_t roots[NROUNDS + 1][32];
    static kv keys[NUNI];
    static chain_smt_update ups[NUNI];
    util_err err;
    for (int i = 0; i < 4; i++)
        rnd_bytes(vals[i], 32);
    for (int i = 0; i < 300; i++)
        rnd_bytes(uni[i], 32);
    for (int i = 300; i < NUNI; i++) { /* near copies of keys 0..5, sharing >= 200 bits */
        int dup;
        do {
            memcpy(uni[i], uni[(i - 300) % 6], 32);
            for (int f = 0; f < 2; f++) {
                unsigned b = 200 + (unsigned)(rnd() % 56);
                uni[i][b / 8] ^= (uint8_t)(0x80 >> (b % 8));
            }
            dup = 0;
            for (int j = 0; j < i; j++)
                dup |= !memcmp(uni[i], uni[j], 32);
        } while (dup);
    }
    memset(roots[0], 0, 32);
    memset(model[0], 0, NUNI);
    for (int r = 1; r <= NROUNDS; r++) {
        memcpy(model[r], model[r - 1], NUNI);
        size_t n = 0, want = 1 + rnd() % (r < 10 ? 120 : 40);
        uint8_t picked[NUNI] = {0};
        while (n < want) {
            size_t k = rnd() % NUNI;
            if (picked[k]) continue;
            picked[k] = 1;
            int op = (int)(rnd() % 10);
            int v = (int)(rnd() % 4);
            set_up(&ups[n++], uni[k], op < 3 ? NULL : vals[v]);
            model[r][k] = op < 3 ? 0 : (uint8_t)(1 + v);
        }
        assert_int_equal(apply(&s, roots[r - 1], ups, n, roots[r], &err), 0);
        size_t nk = 0;
        for (int k = 0; k < NUNI; k++) {
            if (!model[r][k]) continue;
            memcpy(keys[nk].path, uni[k], 32);
            memcpy(keys[nk].vh, vals[model[r][k] - 1], 32);
            nk++;
        }
        uint8_t want_root[32];
        naive_root(want_root, keys, nk);
        assert_memory_equal(roots[r], want_root, 32);
    }
    for (int r = 0; r <= NROUNDS; r++)
        for (int k = 0; k < NUNI; k++)
            check_proof(&s, roots[r], uni[k], model[r][k] ? vals[model[r][k] - 1] : NULL);

    /* deleting everything present returns the zero root */
    size_t n = 0;
    for (int k = 0; k < NUNI; k++)
        if (model[NROUNDS][k]) set_up(&ups[n++], uni[k], NULL);
    uint8_t z[32], zero[32] = {0};
    assert_int_equal(apply(&s, roots[NROUNDS], ups, n, z, &err), 0);
    assert_memory_equal(z, zero, 32);
    ms_free(&s);
}

static void shuffle(chain_smt_update *u, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd() % i;
        chain_smt_update t = u[i - 1];
        u[i - 1] = u[j];
        u[j] = t;
    }
}

/* Applies u[0..n) in random-sized batches (shuffled first). */
static void apply_batched(mem_store *s, uint8_t root[32], chain_smt_update *u, size_t n,
                          size_t maxb)
{
    util_err err;
    shuffle(u, n);
    for (size_t i = 0; i < n;) {
        size_t b = 1 + rnd() % maxb;
        if (b > n - i) b = n - i;
        assert_int_equal(apply(s, root, u + i, b, root, &err), 0);
        i += b;
    }
}

static void test_order_independence(void **state)
{
    enum { N = 500, EXTRA = 200 };
    static kv keys[N + EXTRA];
    static chain_smt_update u[N + EXTRA];
    mem_store s;
    ms_init(&s);
    util_err err;
    uint8_t zero[32] = {0}, want[32], r[32];
    for (int i = 0; i < N + EXTRA; i++) {
        rnd_bytes(keys[i].path, 32);
        rnd_bytes(keys[i].vh, 32);
    }
    for (int i = 0; i < 20; i++) { /* a cluster sharing 192-bit prefixes */
        memcpy(keys[i].path, keys[20].path, 24);
        keys[i].path[24] = (uint8_t)i;
    }
    naive_root(want, keys, N);

    for (int i = 0; i < N; i++)
        set_up(&u[i], keys[i].path, keys[i].vh);
    assert_int_equal(apply(&s, zero, u, N, r, &err), 0);
    assert_memory_equal(r, want, 32);

    for (size_t maxb = 1; maxb <= 64; maxb *= 4) {
        for (int i = 0; i < N; i++)
            set_up(&u[i], keys[i].path, keys[i].vh);
        memset(r, 0, 32);
        apply_batched(&s, r, u, N, maxb);
        assert_memory_equal(r, want, 32);
    }

    /* insert N + EXTRA with other values first, then overwrite and delete in
     * mixed batches: same root */
    for (int i = 0; i < N + EXTRA; i++) {
        uint8_t v[32];
        memset(v, i & 0xff, 32);
        set_up(&u[i], keys[i].path, v);
    }
    memset(r, 0, 32);
    apply_batched(&s, r, u, N + EXTRA, 50);
    for (int i = 0; i < N + EXTRA; i++)
        set_up(&u[i], keys[i].path, i < N ? keys[i].vh : NULL);
    apply_batched(&s, r, u, N + EXTRA, 30);
    assert_memory_equal(r, want, 32);

    for (int i = 0; i < N; i++)
        set_up(&u[i], keys[i].path, NULL);
    apply_batched(&s, r, u, N, 40);
    assert_memory_equal(r, zero, 32);
    ms_free(&s);
}

/* Builds a 64-key tree; returns its root, keys in ks. */
static void build64(mem_store *s, uint8_t root[32], kv *ks)
{
    chain_smt_update u[64];
    uint8_t zero[32] = {0};
    util_err err;
    for (int i = 0; i < 64; i++) {
        rnd_bytes(ks[i].path, 32);
        rnd_bytes(ks[i].vh, 32);
        set_up(&u[i], ks[i].path, ks[i].vh);
    }
    assert_int_equal(apply(s, zero, u, 64, root, &err), 0);
}

static void test_bad_proofs(void **state)
{
    mem_store s;
    ms_init(&s);
    chain_smt_store st = ms_api(&s);
    kv ks[64];
    uint8_t root[32], wrong[32], absent[32];
    util_err err;
    chain_smt_proof p, q, t;
    build64(&s, root, ks);
    assert_int_equal(chain_smt_prove(&st, root, ks[0].path, &p, &err), 0);
    assert_int_equal(chain_smt_prove(&st, root, ks[1].path, &q, &err), 0);
    assert_true(p.nsib >= 2);
    assert_int_equal(chain_smt_verify(root, ks[0].path, ks[0].vh, &p, &err), 0);

    memcpy(wrong, root, 32);
    wrong[5] ^= 1;
    assert_int_equal(chain_smt_verify(wrong, ks[0].path, ks[0].vh, &p, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "root"));
    assert_int_equal(chain_smt_verify(root, ks[0].path, ks[1].vh, &p, &err), UTIL_EINVAL);
    /* proof of another key */
    assert_int_equal(chain_smt_verify(root, ks[0].path, ks[0].vh, &q, &err), UTIL_EINVAL);
    assert_int_equal(chain_smt_verify(root, ks[1].path, ks[1].vh, &p, &err), UTIL_EINVAL);
    assert_int_equal(chain_smt_verify(root, ks[0].path, NULL, &q, &err), UTIL_EINVAL);
    /* truncated and extra siblings */
    t = p;
    t.nsib--;
    assert_int_equal(chain_smt_verify(root, ks[0].path, ks[0].vh, &t, &err), UTIL_EINVAL);
    t = p;
    memset(t.siblings[t.nsib++], 0, 32);
    assert_int_equal(chain_smt_verify(root, ks[0].path, ks[0].vh, &t, &err), UTIL_EINVAL);
    t = p;
    memcpy(t.siblings[t.nsib], t.siblings[t.nsib - 1], 32);
    t.nsib++;
    assert_int_equal(chain_smt_verify(root, ks[0].path, ks[0].vh, &t, &err), UTIL_EINVAL);
    /* a sibling changed */
    t = p;
    t.siblings[0][0] ^= 1;
    assert_int_equal(chain_smt_verify(root, ks[0].path, ks[0].vh, &t, &err), UTIL_EINVAL);
    /* an inclusion proof offered as non-inclusion: the leaf is the key */
    assert_int_equal(chain_smt_verify(root, ks[0].path, NULL, &p, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "present"));
    /* inclusion claimed without a leaf */
    t = p;
    t.has_leaf = 0;
    assert_int_equal(chain_smt_verify(root, ks[0].path, ks[0].vh, &t, &err), UTIL_EINVAL);
    rnd_bytes(absent, 32);
    assert_int_equal(chain_smt_prove(&st, root, absent, &t, &err), 0);
    assert_int_equal(chain_smt_verify(root, absent, NULL, &t, &err), 0);
    assert_int_equal(chain_smt_verify(root, absent, ks[0].vh, &t, &err), UTIL_EINVAL);
    t.has_leaf = 2;
    assert_int_equal(chain_smt_verify(root, absent, NULL, &t, &err), UTIL_EINVAL);
    t = p;
    t.nsib = 257;
    assert_int_equal(chain_smt_verify(root, ks[0].path, ks[0].vh, &t, &err), UTIL_EINVAL);
    t.nsib = UINT32_MAX;
    assert_int_equal(chain_smt_verify(root, ks[0].path, NULL, &t, &err), UTIL_EINVAL);

    /* A leaf off the key's path, in a forged root where it would hash right:
     * a leaf with first bit 1 placed on the left of the root. */
    uint8_t a[32], x[32], la[32], sib[32], forged[32];
    memset(a, 0xf0, 32);
    memset(x, 0x01, 32); /* first bit 0, so x's position is the left child */
    memset(sib, 0x33, 32);
    hash_leaf(la, a, ks[0].vh);
    hash_node(forged, la, sib);
    memset(&t, 0, sizeof t);
    t.nsib = 1;
    memcpy(t.siblings[0], sib, 32);
    t.has_leaf = 1;
    memcpy(t.leaf_path, a, 32);
    memcpy(t.leaf_value_hash, ks[0].vh, 32);
    assert_int_equal(chain_smt_verify(forged, x, NULL, &t, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "off the key's path"));
    ms_free(&s);
}

static void roundtrip(const chain_smt_proof *p)
{
    util_buf b;
    chain_smt_proof d;
    util_err err;
    util_buf_init(&b);
    assert_int_equal(chain_smt_proof_encode(p, &b), 0);
    assert_int_equal(b.len, util_varint_len(p->nsib) + 32 * p->nsib + 1 + (p->has_leaf ? 64 : 0));
    assert_int_equal(chain_smt_proof_decode(&d, b.data, b.len, &err), 0);
    assert_int_equal(d.nsib, p->nsib);
    assert_int_equal(d.has_leaf, p->has_leaf);
    assert_memory_equal(d.siblings, p->siblings, 32 * (size_t)p->nsib);
    if (p->has_leaf) {
        assert_memory_equal(d.leaf_path, p->leaf_path, 32);
        assert_memory_equal(d.leaf_value_hash, p->leaf_value_hash, 32);
    }
    /* every strict prefix is truncated, and one more byte is trailing */
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(chain_smt_proof_decode(&d, b.data, i, &err), UTIL_EINVAL);
    util_buf_u8(&b, 0);
    assert_int_equal(chain_smt_proof_decode(&d, b.data, b.len, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "trailing"));
    util_buf_free(&b);
}

static void test_proof_codec(void **state)
{
    static chain_smt_proof p;
    mem_store s;
    ms_init(&s);
    chain_smt_store st = ms_api(&s);
    kv ks[64];
    uint8_t root[32], absent[32];
    util_err err;
    build64(&s, root, ks);
    assert_int_equal(chain_smt_prove(&st, root, ks[3].path, &p, &err), 0);
    roundtrip(&p);
    rnd_bytes(absent, 32);
    assert_int_equal(chain_smt_prove(&st, root, absent, &p, &err), 0);
    roundtrip(&p);
    memset(&p, 0, sizeof p);
    roundtrip(&p); /* empty tree */
    p.nsib = 256;
    memset(p.siblings, 0x42, sizeof p.siblings);
    p.has_leaf = 1;
    roundtrip(&p);

    util_buf b;
    util_buf_init(&b);
    p.nsib = 257;
    assert_int_equal(chain_smt_proof_encode(&p, &b), UTIL_EINVAL);
    p.nsib = 0;
    p.has_leaf = 2;
    assert_int_equal(chain_smt_proof_encode(&p, &b), UTIL_EINVAL);
    util_buf_free(&b);

    static uint8_t raw[2 + 257 * 32 + 65];
    memset(raw, 0, sizeof raw);
    raw[0] = 0x81, raw[1] = 0x02; /* nsib 257 */
    assert_int_equal(chain_smt_proof_decode(&p, raw, sizeof raw, &err), UTIL_EINVAL);
    raw[0] = 0x80, raw[1] = 0x00; /* non-minimal 0 */
    assert_int_equal(chain_smt_proof_decode(&p, raw, 3, &err), UTIL_EINVAL);
    raw[0] = 0x00, raw[1] = 0x02; /* has_leaf 2 */
    assert_int_equal(chain_smt_proof_decode(&p, raw, 2, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "has_leaf"));
    raw[1] = 0x01;
    assert_int_equal(chain_smt_proof_decode(&p, raw, 66, &err), 0);
    assert_int_equal(chain_smt_proof_decode(&p, raw, 65, &err), UTIL_EINVAL);
    assert_int_equal(chain_smt_proof_decode(&p, raw, 0, &err), UTIL_EINVAL);
    ms_free(&s);
}

static void test_corruption(void **state)
{
    mem_store s;
    ms_init(&s);
    chain_smt_store st = ms_api(&s);
    kv ks[64];
    chain_smt_update u[64];
    chain_smt_proof p;
    uint8_t root[32], out[32];
    util_err err;
    build64(&s, root, ks); /* the store holds exactly this tree */

    /* each node in turn goes missing: deleting every key touches all nodes */
    size_t checked = 0;
    for (size_t i = 0; i < s.cap; i++) {
        if (!s.t[i].used) continue;
        s.t[i].hidden = 1;
        for (int k = 0; k < 64; k++)
            set_up(&u[k], ks[k].path, NULL);
        assert_int_equal(apply(&s, root, u, 64, out, &err), UTIL_EIO);
        assert_non_null(strstr(err.msg, "missing"));
        int failed = 0;
        for (int k = 0; k < 64; k++)
            if (chain_smt_prove(&st, root, ks[k].path, &p, &err) == UTIL_EIO) failed++;
        assert_true(failed >= 1);
        s.t[i].hidden = 0;
        checked++;
    }
    assert_int_equal(checked, s.count);

    /* a root that is not in the store at all */
    uint8_t bogus[32];
    memset(bogus, 0x5a, 32);
    set_up(&u[0], ks[0].path, ks[1].vh);
    assert_int_equal(apply(&s, bogus, u, 1, out, &err), UTIL_EIO);
    assert_int_equal(chain_smt_prove(&st, bogus, ks[0].path, &p, &err), UTIL_EIO);

    /* other store errors are passed through */
    s.fail_code = UTIL_ENOMEM;
    assert_int_equal(apply(&s, root, u, 1, out, &err), UTIL_ENOMEM);
    assert_int_equal(chain_smt_prove(&st, root, ks[0].path, &p, &err), UTIL_ENOMEM);
    s.fail_code = 0;

    /* a node with a bad type byte */
    mem_node *e = &s.t[slot_of(&s, root)];
    e->node[0] = 7;
    assert_int_equal(apply(&s, root, u, 1, out, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "type"));
    e->node[0] = 1;
    assert_int_equal(apply(&s, root, u, 1, out, &err), 0);

    /* a leaf that does not belong where it is stored */
    for (int k = 0; k < 64; k++) {
        assert_int_equal(chain_smt_prove(&st, root, ks[k].path, &p, &err), 0);
        if (p.nsib == 0) continue;
        uint8_t lh[32];
        hash_leaf(lh, ks[k].path, ks[k].vh);
        mem_node *l = &s.t[slot_of(&s, lh)];
        l->node[1] ^= 0x80; /* flips the first path bit */
        assert_int_equal(chain_smt_prove(&st, root, ks[k].path, &p, &err), UTIL_EIO);
        assert_non_null(strstr(err.msg, "misplaced"));
        l->node[1] ^= 0x80;
        break;
    }
    ms_free(&s);
}

int main(void)
{
    rng = ol_test_seed("test_smt", rng);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_single_and_two),
        cmocka_unit_test(test_long_prefix),
        cmocka_unit_test(test_random_vs_naive),
        cmocka_unit_test(test_order_independence),
        cmocka_unit_test(test_bad_proofs),
        cmocka_unit_test(test_proof_codec),
        cmocka_unit_test(test_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
