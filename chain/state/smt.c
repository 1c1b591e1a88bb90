/* The compressed sparse Merkle tree over state keys: updates, roots, proofs
 * and their verification (chain/state/smt.h). */
#include "chain/state/smt.h"

#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "util/hex.h"

static const uint8_t ZERO[32];

static int bit_at(const uint8_t p[32], unsigned i)
{
    return (p[i >> 3] >> (7 - (i & 7))) & 1;
}

/* First nbits bits of a and b are equal. */
static int prefix_eq(const uint8_t a[32], const uint8_t b[32], unsigned nbits)
{
    unsigned full = nbits >> 3, rest = nbits & 7;
    if (memcmp(a, b, full) != 0) return 0;
    if (!rest) return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return ((a[full] ^ b[full]) & mask) == 0;
}

static int is_zero(const uint8_t h[32])
{
    return memcmp(h, ZERO, 32) == 0;
}

static void leaf_hash(uint8_t out[32], const uint8_t path[32], const uint8_t vh[32])
{
    chain_hash_tagged2(out, CHAIN_TAG_SMT_LEAF, path, 32, vh, 32);
}

static void node_hash(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
    chain_hash_tagged2(out, CHAIN_TAG_SMT_NODE, l, 32, r, 32);
}

static int corrupt(util_err *err, const uint8_t h[32], const char *why)
{
    char hx[65];
    util_hex_encode(hx, h, 32);
    return util_err_set(err, UTIL_EIO, "smt: state corrupted: node %s %s", hx, why);
}

/* A subtree as seen during an update. The kind is learnt lazily: an untouched
 * child is only a hash, and is read from the store only if the update walks
 * into it or must know whether it is a lone leaf (to move it up). */
enum { K_EMPTY, K_HASH, K_LEAF, K_NODE };

typedef struct ref {
    uint8_t kind;
    uint8_t hash[32];
    uint8_t a[32]; /* leaf: path; node: left */
    uint8_t b[32]; /* leaf: value hash; node: right */
} ref;

static void ref_from_hash(ref *r, const uint8_t h[32])
{
    r->kind = is_zero(h) ? K_EMPTY : K_HASH;
    memcpy(r->hash, h, 32);
}

/* Reads r (K_HASH) from the store. A leaf must lie below the position it was
 * reached at: its first depth bits equal those of `prefix`. */
static int load(const chain_smt_store *st, ref *r, unsigned depth, const uint8_t prefix[32],
                util_err *err)
{
    uint8_t buf[CHAIN_SMT_NODE_LEN];
    int rc = st->get(st->ctx, r->hash, buf);
    if (rc == UTIL_ENOTFOUND) return corrupt(err, r->hash, "is missing from the store");
    if (rc) {
        char hx[65];
        util_hex_encode(hx, r->hash, 32);
        return util_err_set(err, rc, "smt: reading node %s failed", hx);
    }
    memcpy(r->a, buf + 1, 32);
    memcpy(r->b, buf + 33, 32);
    if (buf[0] == 0x00) {
        if (!prefix_eq(r->a, prefix, depth)) return corrupt(err, r->hash, "is a misplaced leaf");
        r->kind = K_LEAF;
        return 0;
    }
    if (buf[0] == 0x01) {
        if (depth >= CHAIN_SMT_MAX_DEPTH) return corrupt(err, r->hash, "is too deep");
        r->kind = K_NODE;
        return 0;
    }
    return corrupt(err, r->hash, "has an unknown type");
}

typedef struct apply_ctx {
    const chain_smt_store *st;
    const chain_smt_update *ups;
    util_err *err;
    /* Children of the node being rebuilt at each depth, kept off the C stack so
     * that a 257-deep recursion stays small. */
    ref kids[CHAIN_SMT_MAX_DEPTH + 1][2];
} apply_ctx;

static void make_leaf(const apply_ctx *c, ref *n, const chain_smt_update *u)
{
    uint8_t buf[CHAIN_SMT_NODE_LEN];
    n->kind = K_LEAF;
    memcpy(n->a, u->path, 32);
    memcpy(n->b, u->value_hash, 32);
    leaf_hash(n->hash, n->a, n->b);
    buf[0] = 0x00;
    memcpy(buf + 1, n->a, 32);
    memcpy(buf + 33, n->b, 32);
    c->st->put(c->st->ctx, n->hash, buf);
}

static void make_node(const apply_ctx *c, ref *n, const uint8_t l[32], const uint8_t r[32])
{
    uint8_t buf[CHAIN_SMT_NODE_LEN];
    n->kind = K_NODE;
    memcpy(n->a, l, 32);
    memcpy(n->b, r, 32);
    node_hash(n->hash, l, r);
    buf[0] = 0x01;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    c->st->put(c->st->ctx, n->hash, buf);
}

/* First index in [lo, hi) whose path has bit d set (the range is sorted and
 * shares its first d bits). */
static size_t split(const chain_smt_update *ups, unsigned d, size_t lo, size_t hi)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bit_at(ups[mid].path, d))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Rewrites n, the subtree at depth d whose keys share the first d bits of
 * ups[lo..hi), with those updates applied. Recursion depth is bounded by
 * CHAIN_SMT_MAX_DEPTH: distinct paths part at bit 255 at the latest. */
static int upd(apply_ctx *c, ref *n, unsigned d, size_t lo, size_t hi)
{
    if (lo == hi) return 0;
    const chain_smt_update *u = &c->ups[lo];
    if (n->kind == K_HASH) {
        int rc = load(c->st, n, d, u->path, c->err);
        if (rc) return rc;
    }
    if (hi - lo == 1 && n->kind != K_NODE) {
        int same = n->kind == K_LEAF && memcmp(n->a, u->path, 32) == 0;
        if (u->remove) {
            if (same) {
                n->kind = K_EMPTY;
                memset(n->hash, 0, 32);
            }
            return 0; /* deleting an absent key changes nothing */
        }
        if (n->kind == K_EMPTY || same) {
            if (!same || memcmp(n->b, u->value_hash, 32) != 0) make_leaf(c, n, u);
            return 0;
        }
        /* a lone leaf and a new key: push the leaf down until they part */
    }
    if (d >= CHAIN_SMT_MAX_DEPTH) return corrupt(c->err, n->hash, "has keys beyond depth 256");

    size_t mid = split(c->ups, d, lo, hi);
    ref *l = &c->kids[d][0], *r = &c->kids[d][1];
    switch (n->kind) {
    case K_EMPTY:
        l->kind = r->kind = K_EMPTY;
        memset(l->hash, 0, 32);
        memset(r->hash, 0, 32);
        break;
    case K_LEAF: {
        int side = bit_at(n->a, d);
        ref *e = side ? l : r;
        *(side ? r : l) = *n;
        e->kind = K_EMPTY;
        memset(e->hash, 0, 32);
        break;
    }
    default:
        ref_from_hash(l, n->a);
        ref_from_hash(r, n->b);
        break;
    }
    int rc = upd(c, l, d + 1, lo, mid);
    if (!rc) rc = upd(c, r, d + 1, mid, hi);
    if (rc) return rc;

    if (n->kind == K_NODE && memcmp(l->hash, n->a, 32) == 0 && memcmp(r->hash, n->b, 32) == 0)
        return 0;
    if (l->kind == K_EMPTY && r->kind == K_EMPTY) {
        n->kind = K_EMPTY;
        memset(n->hash, 0, 32);
        return 0;
    }
    if (l->kind == K_EMPTY || r->kind == K_EMPTY) {
        /* One side emptied: if the other is a lone leaf, it moves up. */
        int side = l->kind == K_EMPTY;
        ref *o = side ? r : l;
        if (o->kind == K_HASH) {
            /* an untouched sibling: its prefix is ours plus `side` */
            uint8_t pre[32];
            memcpy(pre, u->path, 32);
            pre[d >> 3] = (uint8_t)((pre[d >> 3] & ~(0x80 >> (d & 7))) | (side << (7 - (d & 7))));
            rc = load(c->st, o, d + 1, pre, c->err);
            if (rc) return rc;
        }
        if (o->kind == K_LEAF) {
            *n = *o;
            return 0;
        }
    }
    make_node(c, n, l->hash, r->hash);
    return 0;
}

static int cmp_update(const void *x, const void *y)
{
    return memcmp(((const chain_smt_update *)x)->path, ((const chain_smt_update *)y)->path, 32);
}

int chain_smt_apply(const chain_smt_store *st, const uint8_t root[32], chain_smt_update *ups,
                    size_t n, uint8_t new_root[32], util_err *err)
{
    if (n == 0) {
        memmove(new_root, root, 32);
        return 0;
    }
    if (!ups || !st || !st->get || !st->put)
        return util_err_set(err, UTIL_EINVAL, "smt: missing updates or store");
    qsort(ups, n, sizeof *ups, cmp_update);
    for (size_t i = 1; i < n; i++) {
        if (memcmp(ups[i - 1].path, ups[i].path, 32) == 0) {
            char hx[65];
            util_hex_encode(hx, ups[i].path, 32);
            return util_err_set(err, UTIL_EINVAL, "smt: path %s updated twice in one batch", hx);
        }
    }
    apply_ctx *c = malloc(sizeof *c);
    if (!c) return util_err_set(err, UTIL_ENOMEM, "smt: out of memory");
    c->st = st;
    c->ups = ups;
    c->err = err;
    ref top;
    ref_from_hash(&top, root);
    int rc = upd(c, &top, 0, 0, n);
    free(c);
    if (rc) return rc;
    memcpy(new_root, top.hash, 32);
    return 0;
}

int chain_smt_prove(const chain_smt_store *st, const uint8_t root[32], const uint8_t path[32],
                    chain_smt_proof *proof, util_err *err)
{
    memset(proof, 0, sizeof *proof);
    ref n;
    ref_from_hash(&n, root);
    for (unsigned d = 0;; d++) {
        if (n.kind == K_EMPTY) return 0;
        int rc = load(st, &n, d, path, err);
        if (rc) return rc;
        if (n.kind == K_LEAF) {
            proof->has_leaf = 1;
            memcpy(proof->leaf_path, n.a, 32);
            memcpy(proof->leaf_value_hash, n.b, 32);
            return 0;
        }
        /* load() refuses internal nodes at depth 256, so d < 256 here */
        int b = bit_at(path, d);
        memcpy(proof->siblings[proof->nsib++], b ? n.a : n.b, 32);
        uint8_t next[32];
        memcpy(next, b ? n.b : n.a, 32);
        ref_from_hash(&n, next);
    }
}

int chain_smt_verify(const uint8_t root[32], const uint8_t path[32], const uint8_t *value_hash,
                     const chain_smt_proof *proof, util_err *err)
{
    const chain_smt_proof *p = proof;
    if (p->nsib > CHAIN_SMT_MAX_DEPTH)
        return util_err_set(err, UTIL_EINVAL, "smt proof: %u siblings, at most %d allowed",
                            (unsigned)p->nsib, CHAIN_SMT_MAX_DEPTH);
    if (p->has_leaf != 0 && p->has_leaf != 1)
        return util_err_set(err, UTIL_EINVAL, "smt proof: bad has_leaf");
    if (value_hash) {
        if (!p->has_leaf)
            return util_err_set(err, UTIL_EINVAL, "smt proof: proves absence, not inclusion");
        if (memcmp(p->leaf_path, path, 32) != 0)
            return util_err_set(err, UTIL_EINVAL, "smt proof: proves another key");
        if (memcmp(p->leaf_value_hash, value_hash, 32) != 0)
            return util_err_set(err, UTIL_EINVAL, "smt proof: value does not match");
    } else if (p->has_leaf) {
        if (memcmp(p->leaf_path, path, 32) == 0)
            return util_err_set(err, UTIL_EINVAL, "smt proof: key is present");
        /* The other leaf must sit where the key would be, or it says nothing
         * about the key. */
        if (!prefix_eq(p->leaf_path, path, p->nsib))
            return util_err_set(err, UTIL_EINVAL, "smt proof: leaf is off the key's path");
    }
    uint8_t cur[32];
    if (p->has_leaf)
        leaf_hash(cur, p->leaf_path, p->leaf_value_hash);
    else
        memset(cur, 0, 32);
    for (uint32_t i = p->nsib; i-- > 0;) {
        if (bit_at(path, i))
            node_hash(cur, p->siblings[i], cur);
        else
            node_hash(cur, cur, p->siblings[i]);
    }
    if (memcmp(cur, root, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "smt proof: root does not match");
    return 0;
}

int chain_smt_proof_encode(const chain_smt_proof *p, util_buf *out)
{
    if (p->nsib > CHAIN_SMT_MAX_DEPTH || (p->has_leaf != 0 && p->has_leaf != 1)) return UTIL_EINVAL;
    util_buf_varint(out, p->nsib);
    util_buf_put(out, p->siblings, (size_t)p->nsib * 32);
    util_buf_u8(out, (uint8_t)p->has_leaf);
    if (p->has_leaf) {
        util_buf_put(out, p->leaf_path, 32);
        util_buf_put(out, p->leaf_value_hash, 32);
    }
    return out->oom ? UTIL_ENOMEM : 0;
}

int chain_smt_proof_decode(chain_smt_proof *p, const uint8_t *b, size_t n, util_err *err)
{
    util_rd r;
    uint64_t nsib = 0;
    uint8_t has = 0;
    memset(p, 0, sizeof *p);
    util_rd_init(&r, b, n);
    if (util_rd_varint(&r, &nsib, CHAIN_SMT_MAX_DEPTH) == 0 &&
        util_rd_copy(&r, p->siblings, (size_t)nsib * 32) == 0 && util_rd_u8(&r, &has) == 0) {
        if (has > 1)
            util_rd_fail(&r, "has_leaf is not 0 or 1");
        else if (has && util_rd_copy(&r, p->leaf_path, 32) == 0)
            util_rd_copy(&r, p->leaf_value_hash, 32);
        if (util_rd_end(&r)) {
            /* The reader latched the reason: r.err, reported below. */
        }
    }
    if (r.err) {
        memset(p, 0, sizeof *p);
        return util_err_set(err, UTIL_EINVAL, "smt proof: %s at byte %zu", r.err, r.err_at);
    }
    p->nsib = (uint32_t)nsib;
    p->has_leaf = has;
    return 0;
}
