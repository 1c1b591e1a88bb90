/* Writes tests/data/smt_vectors.json: the state-proof test vectors that every
 * verifier of the project checks (the C one in tests/unit/chain/
 * test_smt_vectors.c, the explorer's JavaScript one, later a Solidity one).
 * The trees are built with the node's own SMT (chain/state/smt.h) from real
 * state keys and values encoded by chain/types, so the vectors are exactly
 * what state_getProof serves. The output is deterministic: a ctest test
 * (tools/smt_vectors) checks that the committed file equals it.
 *
 * Usage: smt_vectors [OUT]   (stdout without OUT) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/dbkey.h"
#include "chain/state/smt.h"
#include "chain/state/store.h"
#include "chain/types/attr.h"
#include "util/bytes.h"
#include "util/hex.h"

/* --- an in-memory node store ------------------------------------------------ */

#define MAX_NODES 4096

typedef struct mem_store {
    size_t n;
    uint8_t hash[MAX_NODES][32];
    uint8_t node[MAX_NODES][CHAIN_SMT_NODE_LEN];
} mem_store;

static int ms_get(void *ctx, const uint8_t hash[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    mem_store *s = ctx;
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->hash[i], hash, 32) == 0) {
            memcpy(out, s->node[i], CHAIN_SMT_NODE_LEN);
            return 0;
        }
    return UTIL_ENOTFOUND;
}

static void ms_put(void *ctx, const uint8_t hash[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    mem_store *s = ctx;
    uint8_t tmp[CHAIN_SMT_NODE_LEN];
    if (ms_get(s, hash, tmp) == 0) return;
    if (s->n == MAX_NODES) {
        fprintf(stderr, "smt_vectors: node store full\n");
        exit(1);
    }
    memcpy(s->hash[s->n], hash, 32);
    memcpy(s->node[s->n], node, CHAIN_SMT_NODE_LEN);
    s->n++;
}

/* --- state entries ---------------------------------------------------------- */

typedef struct entry {
    uint8_t key[64];
    size_t klen;
    uint8_t *val;
    size_t vlen;
} entry;

#define MAX_ENTRIES 64

typedef struct tree {
    mem_store *ms;
    chain_smt_store st;
    uint8_t root[32];
    entry e[MAX_ENTRIES];
    size_t n;
} tree;

static void die(const char *what)
{
    fprintf(stderr, "smt_vectors: %s\n", what);
    exit(1);
}

static void tree_init(tree *t)
{
    memset(t, 0, sizeof *t);
    t->ms = calloc(1, sizeof *t->ms);
    if (!t->ms) die("out of memory");
    t->st.ctx = t->ms;
    t->st.get = ms_get;
    t->st.put = ms_put;
}

static void tree_free(tree *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->e[i].val);
    free(t->ms);
}

static void tree_put(tree *t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    if (t->n == MAX_ENTRIES) die("too many entries");
    entry *e = &t->e[t->n++];
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->val = malloc(vlen);
    if (!e->val) die("out of memory");
    memcpy(e->val, val, vlen);
    e->vlen = vlen;
    chain_smt_update u = {0};
    chain_sha256(u.path, key, klen);
    chain_sha256(u.value_hash, val, vlen);
    util_err err = {0};
    if (chain_smt_apply(&t->st, t->root, &u, 1, t->root, &err)) die(err.msg);
}

static const entry *tree_find(const tree *t, const uint8_t *key, size_t klen)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].klen == klen && memcmp(t->e[i].key, key, klen) == 0) return &t->e[i];
    return NULL;
}

static void addr_of(chain_addr *a, const char *who)
{
    chain_addr_from_hash_of(a, who, strlen(who));
}

static void put_account(tree *t, const char *who, uint64_t balance, uint64_t nonce)
{
    chain_addr a;
    addr_of(&a, who);
    uint8_t k[CHAIN_ACCOUNT_KEY_LEN], v[CHAIN_ACCOUNT_VALUE_LEN];
    chain_account acc = {.balance = balance, .nonce = nonce};
    chain_account_key(k, &a);
    chain_account_encode(v, &acc);
    tree_put(t, k, sizeof k, v, sizeof v);
}

static void put_buf(tree *t, char kind, uint64_t id, util_buf *b, int rc)
{
    if (rc || b->oom) die("encoding failed");
    uint8_t k[9];
    size_t kl = chain_key_id(k, kind, id);
    tree_put(t, k, kl, b->data, b->len);
    util_buf_free(b);
}

static void put_datanet(tree *t, uint64_t id, const char *owner, const char *name, uint64_t n)
{
    chain_datanet d = {0};
    d.id = id;
    addr_of(&d.owner, owner);
    snprintf(d.name, sizeof d.name, "%s", name);
    chain_sha256(d.meta_hash, name, strlen(name));
    snprintf(d.meta_uri, sizeof d.meta_uri, "ipfs://bafy%s", name);
    d.bond = 1000000;
    d.review = 1;
    d.height = 10 + id;
    d.contributions = n;
    d.accepted = n - 1;
    d.pending = 1;
    d.models = 1;
    util_buf b;
    util_buf_init(&b);
    put_buf(t, CHAIN_SK_DATANET, id, &b, chain_datanet_encode(&d, &b));
}

static void put_contribution(tree *t, uint64_t id, uint64_t datanet, const char *who,
                             uint64_t earned)
{
    chain_contribution c = {0};
    c.id = id;
    c.datanet = datanet;
    addr_of(&c.contributor, who);
    char body[32];
    snprintf(body, sizeof body, "sample-%llu", (unsigned long long)id);
    chain_sha256(c.content_hash, body, strlen(body));
    c.size = 4096 * id;
    snprintf(c.uri, sizeof c.uri, "ipfs://bafysample%llu", (unsigned long long)id);
    c.status = CHAIN_CONTRIB_ACCEPTED;
    c.bond = 1000000;
    c.height = 20 + id;
    c.times_used = 3;
    c.earned = earned;
    util_buf b;
    util_buf_init(&b);
    put_buf(t, CHAIN_SK_CONTRIB, id, &b, chain_contribution_encode(&c, &b));
}

static void put_model(tree *t, uint64_t id, const char *owner, const char *name)
{
    chain_model m = {0};
    m.id = id;
    addr_of(&m.owner, owner);
    snprintf(m.name, sizeof m.name, "%s", name);
    m.ndatanets = 2;
    m.datanets[0] = 1;
    m.datanets[1] = 2;
    chain_sha256(m.attestor, "attestor", 8);
    m.owner_bp = 2000;
    m.validators_bp = 1000;
    m.contributors_bp = 7000;
    m.height = 40 + id;
    m.inferences = 2;
    m.fees = 5000000;
    util_buf b;
    util_buf_init(&b);
    put_buf(t, CHAIN_SK_MODEL, id, &b, chain_model_encode(&m, &b));
}

/* A settled record: fee 2500000, 20% to the owner, 10% to the validator,
 * 70% split between two contributions by weight 3:1. */
static void put_record(tree *t, uint64_t id, uint64_t model)
{
    chain_record_entry ents[2] = {0};
    chain_payout pays[4] = {0};
    chain_record r = {0};
    r.id = id;
    r.model = model;
    addr_of(&r.attestor, "attestor");
    addr_of(&r.owner, "olivia");
    chain_sha256(r.output_hash, "output", 6);
    r.fee = 2500000;
    r.method = 1;
    chain_sha256(r.evidence_hash, "evidence", 8);
    r.height = 60 + id;
    chain_sha256(r.tx, &id, sizeof id);
    ents[0].contribution = 1;
    ents[0].weight = 3;
    addr_of(&ents[0].contributor, "alice");
    ents[1].contribution = 2;
    ents[1].weight = 1;
    addr_of(&ents[1].contributor, "bob");
    r.nentries = 2;
    r.entries = ents;
    addr_of(&pays[0].recipient, "olivia");
    pays[0].role = CHAIN_ROLE_OWNER;
    pays[0].amount = 500000;
    addr_of(&pays[1].recipient, "validator");
    pays[1].role = CHAIN_ROLE_VALIDATOR;
    pays[1].amount = 250000;
    addr_of(&pays[2].recipient, "alice");
    pays[2].role = CHAIN_ROLE_CONTRIBUTOR;
    pays[2].contribution = 1;
    pays[2].amount = 1312500;
    addr_of(&pays[3].recipient, "bob");
    pays[3].role = CHAIN_ROLE_CONTRIBUTOR;
    pays[3].contribution = 2;
    pays[3].amount = 437500;
    r.npayouts = 4;
    r.payouts = pays;
    util_buf b;
    util_buf_init(&b);
    put_buf(t, CHAIN_SK_RECORD, id, &b, chain_record_encode(&r, &b));
}

static void put_contributor(tree *t, const char *who, uint64_t earned, uint64_t contributions,
                            uint64_t payouts)
{
    chain_addr a;
    addr_of(&a, who);
    chain_contributor c = {.earned = earned,
                           .contributions = contributions,
                           .accepted = contributions,
                           .payouts = payouts};
    uint8_t k[21], v[40];
    size_t kl = chain_key_contributor(k, &a);
    chain_contributor_encode(v, &c);
    tree_put(t, k, kl, v, sizeof v);
}

/* --- JSON ------------------------------------------------------------------- */

static json_t *hexj(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    if (!s) die("out of memory");
    s[0] = '0';
    s[1] = 'x';
    util_hex_encode(s + 2, p, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *proof_json(const chain_smt_proof *p)
{
    json_t *sibs = json_array();
    for (uint32_t i = 0; i < p->nsib; i++)
        json_array_append_new(sibs, hexj(p->siblings[i], 32));
    json_t *leaf = json_null();
    if (p->has_leaf)
        leaf = json_pack("{s:o,s:o}", "path", hexj(p->leaf_path, 32), "valueHash",
                         hexj(p->leaf_value_hash, 32));
    return json_pack("{s:o,s:o}", "siblings", sibs, "leaf", leaf);
}

/* Adds a vector. value NULL: the proof claims absence. The C verifier must
 * agree with `valid`, or the vectors would teach other verifiers a mistake. */
static void add(json_t *out, const char *name, const uint8_t root[32], const uint8_t *key,
                size_t klen, const uint8_t *value, size_t vlen, const chain_smt_proof *p, int valid,
                const char *reason)
{
    uint8_t path[32], vh[32];
    chain_sha256(path, key, klen);
    if (value) chain_sha256(vh, value, vlen);
    util_err err = {0};
    int rc = chain_smt_verify(root, path, value ? vh : NULL, p, &err);
    if ((rc == 0) != valid) {
        fprintf(stderr, "smt_vectors: %s: expected %s, verifier says %s\n", name,
                valid ? "valid" : "invalid", rc ? err.msg : "valid");
        exit(1);
    }
    util_buf enc;
    util_buf_init(&enc);
    if (chain_smt_proof_encode(p, &enc)) die("proof encoding failed");
    json_t *v = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "name", name, "root",
                          hexj(root, 32), "key", hexj(key, klen), "path", hexj(path, 32), "value",
                          value ? hexj(value, vlen) : json_null(), "valueHash",
                          value ? hexj(vh, 32) : json_null(), "proof", proof_json(p),
                          "encodedProof", hexj(enc.data, enc.len), "valid", valid);
    util_buf_free(&enc);
    if (!v) die("out of memory");
    if (reason) json_object_set_new(v, "reason", json_string(reason));
    json_array_append_new(out, v);
}

static void prove(tree *t, const uint8_t *key, size_t klen, chain_smt_proof *p)
{
    uint8_t path[32];
    chain_sha256(path, key, klen);
    util_err err = {0};
    if (chain_smt_prove(&t->st, t->root, path, p, &err)) die(err.msg);
}

/* A true statement about key in t: inclusion with its value, or absence. */
static void add_true(json_t *out, tree *t, const char *name, const uint8_t *key, size_t klen)
{
    chain_smt_proof *p = malloc(sizeof *p);
    if (!p) die("out of memory");
    prove(t, key, klen, p);
    const entry *e = tree_find(t, key, klen);
    add(out, name, t->root, key, klen, e ? e->val : NULL, e ? e->vlen : 0, p, 1, NULL);
    free(p);
}

static void fold(uint8_t out[32], const uint8_t path[32], const chain_smt_proof *p)
{
    if (p->has_leaf)
        chain_hash_tagged2(out, CHAIN_TAG_SMT_LEAF, p->leaf_path, 32, p->leaf_value_hash, 32);
    else
        memset(out, 0, 32);
    for (uint32_t i = p->nsib; i-- > 0;) {
        int bit = (path[i >> 3] >> (7 - (i & 7))) & 1;
        if (bit)
            chain_hash_tagged2(out, CHAIN_TAG_SMT_NODE, p->siblings[i], 32, out, 32);
        else
            chain_hash_tagged2(out, CHAIN_TAG_SMT_NODE, out, 32, p->siblings[i], 32);
    }
}

/* The main tree: a small chain's state after a few attribution rounds. */
static void build_main(tree *t)
{
    put_account(t, "alice", 25000000, 4);
    put_account(t, "bob", 9000000, 2);
    put_account(t, "olivia", 120000000, 7);
    put_account(t, "validator", 3000000, 0);
    put_account(t, "attestor", 1000000, 12);
    put_datanet(t, 1, "olivia", "medical-notes", 3);
    put_datanet(t, 2, "olivia", "legal-clauses", 2);
    put_contribution(t, 1, 1, "alice", 2625000);
    put_contribution(t, 2, 1, "bob", 875000);
    put_contribution(t, 3, 2, "alice", 0);
    put_contribution(t, 4, 2, "carol", 0);
    put_model(t, 1, "olivia", "triage-7b");
    put_model(t, 2, "olivia", "clause-finder");
    put_record(t, 1, 1);
    put_record(t, 2, 1);
    put_contributor(t, "alice", 2625000, 2, 2);
    put_contributor(t, "bob", 875000, 1, 2);
    put_contributor(t, "carol", 0, 1, 0);
}

static const char *kind_name(uint8_t k)
{
    switch (k) {
    case CHAIN_SK_ACCOUNT: return "account";
    case CHAIN_SK_DATANET: return "datanet";
    case CHAIN_SK_CONTRIB: return "contribution";
    case CHAIN_SK_MODEL: return "model";
    case CHAIN_SK_RECORD: return "record";
    case CHAIN_SK_CONTRIBUTOR: return "contributorTotals";
    default: return "entry";
    }
}

int main(int argc, char **argv)
{
    chain_hash_init();
    json_t *vecs = json_array();
    chain_smt_proof *p = calloc(1, sizeof *p);
    tree *t = malloc(sizeof *t);
    if (!vecs || !p || !t) die("out of memory");
    char name[160];
    uint8_t k[64];
    size_t kl;
    chain_addr a;

    /* The empty tree: root is 32 zero bytes, every key is absent. */
    tree_init(t);
    addr_of(&a, "alice");
    chain_account_key(k, &a);
    add_true(vecs, t, "empty tree: account absent", k, CHAIN_ACCOUNT_KEY_LEN);
    tree_free(t);

    /* One key: the root is that key's leaf hash, no siblings. */
    tree_init(t);
    put_account(t, "alice", 25000000, 4);
    add_true(vecs, t, "one key: account included, no siblings", k, CHAIN_ACCOUNT_KEY_LEN);
    addr_of(&a, "bob");
    chain_account_key(k, &a);
    add_true(vecs, t, "one key: another account absent, alice's leaf at the root", k,
             CHAIN_ACCOUNT_KEY_LEN);
    tree_free(t);

    /* The main tree: one inclusion per kind, at the depth the kind's key
     * lands at. */
    tree_init(t);
    build_main(t);
    const entry *deepest = NULL, *shallowest = NULL;
    unsigned dmax = 0, dmin = 1000;
    int seen[256] = {0};
    for (size_t i = 0; i < t->n; i++) {
        const entry *e = &t->e[i];
        prove(t, e->key, e->klen, p);
        if (p->nsib > dmax) dmax = p->nsib, deepest = e;
        if (p->nsib < dmin) dmin = p->nsib, shallowest = e;
        if (seen[e->key[0]]++) continue;
        snprintf(name, sizeof name, "%s included at depth %u", kind_name(e->key[0]),
                 (unsigned)p->nsib);
        add_true(vecs, t, name, e->key, e->klen);
    }
    prove(t, shallowest->key, shallowest->klen, p);
    snprintf(name, sizeof name, "%s included at depth %u (the shallowest key)",
             kind_name(shallowest->key[0]), (unsigned)p->nsib);
    add_true(vecs, t, name, shallowest->key, shallowest->klen);
    prove(t, deepest->key, deepest->klen, p);
    snprintf(name, sizeof name, "%s included at depth %u (the deepest key)",
             kind_name(deepest->key[0]), (unsigned)p->nsib);
    add_true(vecs, t, name, deepest->key, deepest->klen);

    /* Absent keys: the first contribution id past the last whose position is
     * empty, and the first whose position holds another key's leaf. */
    int got_empty = 0, got_leaf = 0;
    for (uint64_t id = 5; id < 1000 && !(got_empty && got_leaf); id++) {
        kl = chain_key_id(k, CHAIN_SK_CONTRIB, id);
        prove(t, k, kl, p);
        if (!p->has_leaf && !got_empty) {
            got_empty = 1;
            snprintf(name, sizeof name,
                     "contribution %llu absent: its position (depth %u) is empty",
                     (unsigned long long)id, (unsigned)p->nsib);
            add_true(vecs, t, name, k, kl);
        } else if (p->has_leaf && !got_leaf) {
            got_leaf = 1;
            snprintf(name, sizeof name,
                     "contribution %llu absent: another key's leaf occupies its position "
                     "(depth %u)",
                     (unsigned long long)id, (unsigned)p->nsib);
            add_true(vecs, t, name, k, kl);
        }
    }
    if (!got_empty || !got_leaf) die("no absent key of each shape found");
    addr_of(&a, "dave");
    kl = chain_key_contributor(k, &a);
    add_true(vecs, t, "contributorTotals of an address that never contributed: absent", k, kl);

    /* Invalid ones: each a true proof with one thing changed. */
    addr_of(&a, "alice");
    kl = chain_key_contributor(k, &a);
    const entry *ea = tree_find(t, k, kl);
    prove(t, k, kl, p);
    if (p->nsib < 2) die("alice's totals are too shallow for the vectors");
    {
        uint8_t *v = malloc(ea->vlen);
        if (!v) die("out of memory");
        memcpy(v, ea->val, ea->vlen);
        v[0] ^= 0x01; /* earned + 1 (u64le, low byte first) */
        add(vecs, "invalid: wrong value (contributor totals with earned one unit higher)", t->root,
            k, kl, v, ea->vlen, p, 0,
            "the value's hash differs from the leaf's valueHash (and a verifier that folds "
            "with the claimed value reaches another root)");
        free(v);
    }
    {
        chain_smt_proof *q = malloc(sizeof *q);
        if (!q) die("out of memory");
        *q = *p;
        q->siblings[0][31] ^= 0x01;
        add(vecs, "invalid: flipped sibling (lowest bit of siblings[0])", t->root, k, kl, ea->val,
            ea->vlen, q, 0, "folding reaches another root");
        *q = *p;
        q->nsib--;
        add(vecs, "invalid: missing sibling (the deepest one dropped)", t->root, k, kl, ea->val,
            ea->vlen, q, 0, "folding one level short reaches another root");
        *q = *p;
        memcpy(q->siblings[q->nsib], q->siblings[q->nsib - 1], 32);
        q->nsib++;
        add(vecs, "invalid: extra sibling (the deepest one repeated)", t->root, k, kl, ea->val,
            ea->vlen, q, 0, "folding one level too deep reaches another root");

        /* The key's own leaf presented as absence. */
        add(vecs, "invalid: the key's own inclusion proof presented as absence", t->root, k, kl,
            NULL, 0, p, 0,
            "the leaf's path equals the key's path: the key is present, so this proves "
            "inclusion, not absence");

        /* The non-inclusion trap. Take bob's totals' inclusion proof and claim
         * it proves alice's totals absent. bob's leaf path does not share
         * alice's path prefix for the proof's length. The root is what
         * folding along alice's path bits gives, so that only the off-path
         * check rejects it: a verifier without it would accept. */
        addr_of(&a, "bob");
        uint8_t kb[21];
        size_t kbl = chain_key_contributor(kb, &a);
        prove(t, kb, kbl, q);
        uint8_t pa[32], forged[32];
        chain_sha256(pa, k, kl);
        fold(forged, pa, q);
        add(vecs,
            "invalid: non-inclusion trap: another key's leaf off the key's path (root "
            "folded along the key's bits)",
            forged, k, kl, NULL, 0, q, 0,
            "the leaf's path does not share the key's first len(siblings) bits: the leaf is "
            "not at the key's position, so it says nothing about the key. Folding alone "
            "matches this root; only the off-path check rejects it");
        /* The same with the real root: the fold fails too. */
        add(vecs, "invalid: non-inclusion trap against the real root", t->root, k, kl, NULL, 0, q,
            0,
            "the leaf's path does not share the key's first len(siblings) bits, and folding "
            "along the key's bits reaches another root");
        free(q);
    }
    {
        /* Wrong root: a true proof checked against the root before the last
         * update (carol's totals). */
        addr_of(&a, "carol");
        uint8_t kc[21];
        size_t kcl = chain_key_contributor(kc, &a);
        /* Rebuild the tree without carol's totals to get the earlier root. */
        tree *old = malloc(sizeof *old);
        if (!old) die("out of memory");
        tree_init(old);
        for (size_t i = 0; i + 1 < t->n; i++)
            tree_put(old, t->e[i].key, t->e[i].klen, t->e[i].val, t->e[i].vlen);
        if (memcmp(t->e[t->n - 1].key, kc, kcl) != 0) die("carol's totals are not last");
        add(vecs, "invalid: wrong root (alice's totals proven against the previous block's root)",
            old->root, k, kl, ea->val, ea->vlen, p, 0,
            "the proof is of the current root; folding does not reach the given one");
        tree_free(old);
        free(old);
    }
    tree_free(t);
    free(t);
    free(p);

    json_t *doc = json_pack("{s:i,s:o}", "version", 1, "vectors", vecs);
    if (!doc) die("out of memory");
    FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
    if (!f) die("cannot open the output file");
    if (json_dumpf(doc, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) || fputc('\n', f) == EOF)
        die("write failed");
    if (f != stdout && fclose(f)) die("write failed");
    json_decref(doc);
    return 0;
}
