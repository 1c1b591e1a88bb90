/* Committed objects read from the store and decoded (chain/state/objects.h):
 * the only place outside execution that builds state and index keys for
 * reading and decodes what it finds. */
#include "chain/state/objects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/store_internal.h"
#include "util/bytes.h"

/* --- blocks ------------------------------------------------------------------ */

int chain_store_get_block_summary(chain_store *st, const uint8_t id[32], chain_header *h,
                                  uint64_t *ntx, size_t *size, util_err *err)
{
    uint8_t *raw = NULL;
    size_t n = 0;
    int rc = chain_store_get_block_bytes(st, id, &raw, &n, err);
    if (rc) return rc;
    /* A block's encoding: header | ntx varint | transactions. */
    util_rd r;
    util_rd_init(&r, raw, n);
    util_err ue = {0};
    *ntx = 0;
    if (chain_header_read(h, &r, &ue) || util_rd_varint(&r, ntx, CHAIN_BLOCK_MAX_TXS))
        rc = util_err_set(err, UTIL_EIO, "stored block does not decode");
    else
        *size = n;
    free(raw);
    return rc;
}

/* --- accounts and contracts ------------------------------------------------ */

int chain_store_prove_account(chain_store *st, const chain_addr *a, chain_account_proof *out,
                              util_err *err)
{
    memset(out, 0, sizeof *out);
    chain_account_key(out->key, a);
    chain_sha256(out->path, out->key, sizeof out->key);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = chain_store_state_get(st, out->key, sizeof out->key, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) {
        util_err_clear(err);
        rc = 0;
    } else if (rc == 0) {
        if (vl != CHAIN_ACCOUNT_VALUE_LEN || chain_account_decode(&out->account, v, vl))
            rc = util_err_set(err, UTIL_EIO, "stored account does not decode");
        else
            memcpy(out->value, v, vl);
        out->exists = rc == 0;
    }
    free(v);
    if (rc) return rc;
    return chain_store_prove(st, out->key, sizeof out->key, &out->proof, err);
}

int chain_store_prove_at(chain_store *st, const uint8_t *key, size_t klen, uint64_t height,
                         const uint8_t root[32], chain_state_proof *out, util_err *err)
{
    memset(out, 0, sizeof *out);
    if (klen == 0 || klen > sizeof out->key)
        return util_err_set(err, UTIL_EINVAL, "state key of %zu bytes", klen);
    memcpy(out->key, key, klen);
    out->klen = klen;
    chain_sha256(out->path, key, klen);
    chain_smt_store sst = {.ctx = st, .get = chain_store_smt_get, .put = NULL};
    int rc = chain_smt_prove(&sst, root, out->path, &out->proof, err);
    if (rc) return rc;
    /* The tree says whether the key is there and which value it commits; the
     * value itself is read to match, never the other way round, so a commit
     * racing this read cannot pair a value with another root's proof. */
    if (!out->proof.has_leaf || memcmp(out->proof.leaf_path, out->path, 32) != 0) return 0;
    rc = chain_store_state_get_at(st, key, klen, height, out->proof.leaf_value_hash, &out->value,
                                  &out->vlen, err);
    if (rc) return rc;
    out->exists = 1;
    return 0;
}

void chain_state_proof_free(chain_state_proof *p)
{
    free(p->value);
    p->value = NULL;
    p->exists = 0;
}

int chain_store_get_code(chain_store *st, const chain_addr *a, uint8_t **code, size_t *len,
                         util_err *err)
{
    uint8_t k[21];
    chain_key_code(k, a);
    *code = NULL;
    *len = 0;
    return chain_store_state_get(st, k, sizeof k, code, len, err);
}

int chain_store_get_storage(chain_store *st, const chain_addr *a, const uint8_t key[32],
                            uint8_t val[32], util_err *err)
{
    uint8_t k[53], *v = NULL;
    size_t vl = 0;
    chain_key_storage(k, a, key);
    memset(val, 0, 32);
    int rc = chain_store_state_get(st, k, sizeof k, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) {
        util_err_clear(err);
        return 0;
    }
    if (rc == 0 && vl != 32)
        rc = util_err_set(err, UTIL_EIO, "stored storage word is not 32 bytes");
    if (rc == 0) memcpy(val, v, 32);
    free(v);
    return rc;
}

/* --- attribution objects --------------------------------------------------- */

const char *chain_attr_kind_name(char kind)
{
    switch (kind) {
    case CHAIN_SK_DATANET: return "datanet";
    case CHAIN_SK_CONTRIB: return "contribution";
    case CHAIN_SK_MODEL: return "model";
    case CHAIN_SK_RECORD: return "attribution record";
    default: return "object";
    }
}

/* Decodes a stored value of kind into *o. 0 or UTIL_EIO. */
static int decode_attr(char kind, const uint8_t *v, size_t n, chain_attr_obj *o, util_err *err)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    int bad;
    switch (kind) {
    case CHAIN_SK_DATANET: bad = chain_datanet_decode(&o->u.datanet, v, n); break;
    case CHAIN_SK_CONTRIB: bad = chain_contribution_decode(&o->u.contribution, v, n); break;
    case CHAIN_SK_MODEL: bad = chain_model_decode(&o->u.model, v, n); break;
    case CHAIN_SK_RECORD: bad = chain_record_decode(&o->u.record, v, n); break;
    default: return util_err_set(err, UTIL_EINVAL, "not a kind of attribution object");
    }
    if (bad) {
        o->kind = 0;
        return util_err_set(err, UTIL_EIO, "stored %s does not decode", chain_attr_kind_name(kind));
    }
    return 0;
}

int chain_store_get_attr(chain_store *st, char kind, uint64_t id, chain_attr_obj *o, util_err *err)
{
    memset(o, 0, sizeof *o);
    if (kind != CHAIN_SK_DATANET && kind != CHAIN_SK_CONTRIB && kind != CHAIN_SK_MODEL &&
        kind != CHAIN_SK_RECORD)
        return util_err_set(err, UTIL_EINVAL, "not a kind of attribution object");
    uint8_t k[9], *v = NULL;
    size_t vl = 0;
    chain_key_id(k, kind, id);
    int rc = chain_store_state_get(st, k, sizeof k, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND)
        rc = util_err_set(err, UTIL_ENOTFOUND, "%s %llu not found", chain_attr_kind_name(kind),
                          (unsigned long long)id);
    if (rc == 0) rc = decode_attr(kind, v, vl, o, err);
    free(v);
    return rc;
}

void chain_attr_obj_free(chain_attr_obj *o)
{
    if (o && o->kind == CHAIN_SK_RECORD) chain_record_free(&o->u.record);
    if (o) o->kind = 0;
}

int chain_store_get_datanet(chain_store *st, uint64_t id, chain_datanet *d, util_err *err)
{
    chain_attr_obj o;
    int rc = chain_store_get_attr(st, CHAIN_SK_DATANET, id, &o, err);
    if (rc == 0) *d = o.u.datanet;
    return rc;
}

int chain_store_get_contribution(chain_store *st, uint64_t id, chain_contribution *c, util_err *err)
{
    chain_attr_obj o;
    int rc = chain_store_get_attr(st, CHAIN_SK_CONTRIB, id, &o, err);
    if (rc == 0) *c = o.u.contribution;
    return rc;
}

int chain_store_get_model(chain_store *st, uint64_t id, chain_model *m, util_err *err)
{
    chain_attr_obj o;
    int rc = chain_store_get_attr(st, CHAIN_SK_MODEL, id, &o, err);
    if (rc == 0) *m = o.u.model;
    return rc;
}

int chain_store_get_record(chain_store *st, uint64_t id, chain_record *r, util_err *err)
{
    chain_attr_obj o;
    int rc = chain_store_get_attr(st, CHAIN_SK_RECORD, id, &o, err);
    if (rc == 0) *r = o.u.record; /* the arrays move to *r */
    return rc;
}

int chain_store_get_contributor(chain_store *st, const chain_addr *a, chain_contributor *c,
                                util_err *err)
{
    uint8_t k[21], *v = NULL;
    size_t vl = 0;
    memset(c, 0, sizeof *c);
    chain_key_contributor(k, a);
    int rc = chain_store_state_get(st, k, sizeof k, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) {
        util_err_clear(err);
        return 0;
    }
    if (rc == 0 && chain_contributor_decode(c, v, vl)) {
        memset(c, 0, sizeof *c);
        rc = util_err_set(err, UTIL_EIO, "stored contributor totals do not decode");
    }
    free(v);
    return rc;
}

/* --- attribution lists ----------------------------------------------------- */

void chain_attr_list_all(chain_attr_list *q, char kind)
{
    memset(q, 0, sizeof *q);
    q->kind = kind;
    q->from_state = 1;
    q->plen = chain_dbkey_state_kind(q->prefix, kind);
}

/* What an index's entries name. */
static char index_kind(char ix)
{
    switch (ix) {
    case CHAIN_IX_CONTRIB_BY_DATANET:
    case CHAIN_IX_CONTRIB_BY_CONTRIBUTOR: return CHAIN_SK_CONTRIB;
    case CHAIN_IX_MODEL_BY_DATANET:
    case CHAIN_IX_MODEL_BY_OWNER: return CHAIN_SK_MODEL;
    case CHAIN_IX_RECORD_BY_MODEL:
    case CHAIN_IX_RECORD_BY_CONTRIB: return CHAIN_SK_RECORD;
    default: return 0;
    }
}

void chain_attr_list_by_id(chain_attr_list *q, char ix, uint64_t id)
{
    uint8_t be[8];
    util_put_u64be(be, id);
    memset(q, 0, sizeof *q);
    q->kind = index_kind(ix);
    q->plen = chain_dbkey_index_prefix(q->prefix, ix, be, sizeof be);
}

void chain_attr_list_by_addr(chain_attr_list *q, char ix, const chain_addr *a)
{
    memset(q, 0, sizeof *q);
    q->kind = index_kind(ix);
    q->plen = chain_dbkey_index_prefix(q->prefix, ix, a->b, CHAIN_ADDR_LEN);
}

/* Every entry of a list is its prefix and an id u64be; the cursor is the
 * store key of the last one visited. */
int chain_attr_list_cursor_ok(const chain_attr_list *q, const uint8_t *c, size_t n)
{
    return n == q->plen + 8 && memcmp(c, q->prefix, q->plen) == 0;
}

typedef struct list_walk {
    chain_store *st;
    const chain_attr_list *q;
    size_t limit, n;
    chain_attr_fn fn;
    void *ctx;
    int more, rc;
    util_err *err;
} list_walk;

static int list_visit(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    list_walk *w = ctx;
    if (klen != w->q->plen + 8) return 0; /* not an entry of this list */
    if (w->n == w->limit) {
        w->more = 1;
        return 1;
    }
    chain_attr_obj o;
    if (w->q->from_state) {
        w->rc = decode_attr(w->q->kind, val, vlen, &o, w->err);
    } else {
        uint64_t id = util_get_u64be(key + klen - 8);
        w->rc = chain_store_get_attr(w->st, w->q->kind, id, &o, w->err);
        if (w->rc == UTIL_ENOTFOUND)
            w->rc = util_err_set(w->err, UTIL_EIO, "index names %s %llu, which does not exist",
                                 chain_attr_kind_name(w->q->kind), (unsigned long long)id);
    }
    if (w->rc) return 1;
    w->n++;
    int stop = w->fn(w->ctx, &o, key, klen);
    chain_attr_obj_free(&o);
    return stop;
}

int chain_store_attr_list(chain_store *st, const chain_attr_list *q, const uint8_t *after,
                          size_t alen, int reverse, size_t limit, chain_attr_fn fn, void *ctx,
                          int *more, util_err *err)
{
    *more = 0;
    if (!q->kind) return util_err_set(err, UTIL_EINVAL, "not a list of attribution objects");
    if (after && !chain_attr_list_cursor_ok(q, after, alen))
        return util_err_set(err, UTIL_EINVAL, "not a cursor of this list");
    list_walk w = {.st = st, .q = q, .limit = limit, .fn = fn, .ctx = ctx, .err = err};
    /* One more than the page, to know whether a next page exists. */
    int rc = chain_store_scan(st, q->prefix, q->plen, after, alen, reverse, limit + 1, list_visit,
                              &w, err);
    if (rc) return rc;
    *more = w.more;
    return w.rc;
}

/* --- payouts --------------------------------------------------------------- */

void chain_payout_ixval_encode(uint8_t out[CHAIN_PAYOUT_IXVAL_LEN], const chain_payout_entry *p)
{
    util_put_u64le(out, p->model);
    util_put_u64le(out + 8, p->contribution);
    out[16] = p->role;
    util_put_u64le(out + 17, p->amount);
}

typedef struct payout_walk {
    size_t plen, limit, n;
    chain_payout_fn fn;
    void *ctx;
    int more;
} payout_walk;

/* addr | record u64be | seq u16be -> chain_payout_ixval_encode */
static int payout_visit(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    payout_walk *w = ctx;
    if (klen != w->plen + 10 || vlen != CHAIN_PAYOUT_IXVAL_LEN) return 0;
    if (w->n == w->limit) {
        w->more = 1;
        return 1;
    }
    chain_payout_entry p = {.record = util_get_u64be(key + w->plen),
                            .seq = (uint16_t)(key[w->plen + 8] << 8 | key[w->plen + 9]),
                            .model = util_get_u64le(val),
                            .contribution = util_get_u64le(val + 8),
                            .role = val[16],
                            .amount = util_get_u64le(val + 17)};
    w->n++;
    return w->fn(w->ctx, &p);
}

int chain_store_payouts_of(chain_store *st, const chain_addr *a, size_t limit, chain_payout_fn fn,
                           void *ctx, int *more, util_err *err)
{
    uint8_t prefix[2 + CHAIN_ADDR_LEN];
    size_t plen =
        chain_dbkey_index_prefix(prefix, CHAIN_IX_PAYOUT_BY_RECIPIENT, a->b, CHAIN_ADDR_LEN);
    payout_walk w = {.plen = plen, .limit = limit, .fn = fn, .ctx = ctx};
    *more = 0;
    /* Newest first: record ids grow with time. */
    int rc = chain_store_scan(st, prefix, plen, NULL, 0, 1, limit + 1, payout_visit, &w, err);
    if (rc == 0) *more = w.more;
    return rc;
}
