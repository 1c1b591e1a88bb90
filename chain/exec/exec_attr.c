/* The attribution transactions: datanets, contributions, reviews, models and
 * attribution records (docs/attribution.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/exec_internal.h"
#include "chain/crypto/hash.h"
#include "chain/state/attr_ix.h"
#include "chain/state/dbkey.h"
#include "chain/state/objects.h"
#include "util/amount.h"

#define FAIL(err, code, ...) util_err_set(err, code, __VA_ARGS__)

static int next_id(chain_exec *ex, char kind, uint64_t *id, util_err *err)
{
    uint8_t k[2];
    const uint8_t *v;
    size_t vl;
    chain_key_next(k, kind);
    int rc = chain_exec_get(ex, k, 2, &v, &vl, err);
    uint64_t next = 1;
    if (rc == 0) {
        if (vl != 8) return FAIL(err, UTIL_EIO, "corrupt id counter");
        next = util_get_u64le(v);
    } else if (rc != UTIL_ENOTFOUND) {
        return rc;
    }
    uint8_t nv[8];
    util_put_u64le(nv, next + 1);
    if ((rc = chain_exec_put(ex, k, 2, nv, 8, err))) return rc;
    *id = next;
    return 0;
}

typedef int (*decode_fn)(void *obj, const uint8_t *p, size_t n);

static int load(chain_exec *ex, char kind, uint64_t id, void *obj, decode_fn dec, const char *what,
                util_err *err)
{
    uint8_t k[9];
    const uint8_t *v;
    size_t vl;
    chain_key_id(k, kind, id);
    int rc = chain_exec_get(ex, k, 9, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND)
        return FAIL(err, UTIL_ENOTFOUND, "unknown_%s: %s %llu does not exist", what, what,
                    (unsigned long long)id);
    if (rc) return rc;
    if (dec(obj, v, vl))
        return FAIL(err, UTIL_EIO, "corrupt %s %llu", what, (unsigned long long)id);
    return 0;
}

typedef int (*encode_fn)(const void *obj, util_buf *b);

static int save(chain_exec *ex, char kind, uint64_t id, const void *obj, encode_fn enc,
                util_err *err)
{
    uint8_t k[9];
    util_buf b;
    util_buf_init(&b);
    chain_key_id(k, kind, id);
    int rc = enc(obj, &b);
    if (!rc)
        rc = chain_exec_put(ex, k, 9, b.data, b.len, err);
    else
        FAIL(err, rc, "out of memory");
    util_buf_free(&b);
    return rc;
}

#define LOAD_DATANET(ex, id, d, err)                                                               \
    load(ex, CHAIN_SK_DATANET, id, d, (decode_fn)chain_datanet_decode, "datanet", err)
#define LOAD_CONTRIB(ex, id, c, err)                                                               \
    load(ex, CHAIN_SK_CONTRIB, id, c, (decode_fn)chain_contribution_decode, "contribution", err)
#define LOAD_MODEL(ex, id, m, err)                                                                 \
    load(ex, CHAIN_SK_MODEL, id, m, (decode_fn)chain_model_decode, "model", err)
#define SAVE_DATANET(ex, d, err)                                                                   \
    save(ex, CHAIN_SK_DATANET, (d)->id, d, (encode_fn)chain_datanet_encode, err)
#define SAVE_CONTRIB(ex, c, err)                                                                   \
    save(ex, CHAIN_SK_CONTRIB, (c)->id, c, (encode_fn)chain_contribution_encode, err)
#define SAVE_MODEL(ex, m, err)                                                                     \
    save(ex, CHAIN_SK_MODEL, (m)->id, m, (encode_fn)chain_model_encode, err)

static int load_contributor(chain_exec *ex, const chain_addr *a, chain_contributor *c,
                            util_err *err)
{
    uint8_t k[21];
    const uint8_t *v;
    size_t vl;
    chain_key_contributor(k, a);
    memset(c, 0, sizeof *c);
    int rc = chain_exec_get(ex, k, sizeof k, &v, &vl, err);
    if (rc == UTIL_ENOTFOUND) return 0;
    if (rc) return rc;
    return chain_contributor_decode(c, v, vl) ? FAIL(err, UTIL_EIO, "corrupt contributor") : 0;
}

static int save_contributor(chain_exec *ex, const chain_addr *a, const chain_contributor *c,
                            util_err *err)
{
    uint8_t k[21], v[40];
    chain_key_contributor(k, a);
    chain_contributor_encode(v, c);
    return chain_exec_put(ex, k, sizeof k, v, sizeof v, err);
}

/* An attribution index entry (chain_ixkey_attr): kind | a (an id u64be or an
 * address) | id u64be [| tail] -> val. */
static int index_put(chain_exec *ex, char kind, const uint8_t *a, size_t alen, uint64_t id,
                     const uint8_t *tail, size_t tlen, const uint8_t *val, size_t vlen,
                     util_err *err)
{
    uint8_t k[CHAIN_IXKEY_MAX];
    size_t n = chain_ixkey_attr(k, kind, a, alen, id, tail, tlen);
    if (!n) return util_err_set(err, UTIL_EINVAL, "index key too long");
    return chain_exec_index_put(ex, k, n, val, vlen, err);
}

static void be64(uint8_t out[8], uint64_t v)
{
    util_put_u64be(out, v);
}

/* The series entries of the explorer (chain/state/attr_ix.h): the running
 * totals after this block and after its UTC day. A later write of the same
 * day or block replaces the entry, so the last one in the batch stands. */
static int series_put(chain_exec *ex, char by_day, char by_block, const uint8_t *a, size_t alen,
                      uint64_t amount, uint64_t count, util_err *err)
{
    const chain_exec_ctx *c = chain_exec_context(ex);
    uint8_t v[CHAIN_SERIES_BLOCK_LEN];
    size_t n = chain_series_encode(v, amount, count, 0, 0);
    int rc = index_put(ex, by_day, a, alen, CHAIN_DAY_OF(c->time_ms), NULL, 0, v, n, err);
    if (rc) return rc;
    n = chain_series_encode(v, amount, count, 1, c->time_ms);
    return index_put(ex, by_block, a, alen, c->height, NULL, 0, v, n, err);
}

/* A ranking key (CHAIN_IX_TOP, _TOP_BY_MODEL) moves from the old earnings to
 * the new: deleted, then written. had: the old key exists. Earnings only
 * grow, so a key of higher earnings than the old is one the store never
 * held: when a later payout of the block moves it on, neither write reaches
 * the store. */
static int rank_move(chain_exec *ex, char ix, const uint8_t *a, size_t alen, int had,
                     uint64_t old_earned, uint64_t new_earned, const chain_addr *who, util_err *err)
{
    uint8_t k[CHAIN_IXKEY_MAX];
    size_t n;
    int rc;
    if (had) {
        n = chain_ixkey_attr(k, ix, a, alen, old_earned, who->b, CHAIN_ADDR_LEN);
        if (!n) return util_err_set(err, UTIL_EINVAL, "index key too long");
        if ((rc = chain_exec_index_del(ex, k, n, err))) return rc;
    }
    n = chain_ixkey_attr(k, ix, a, alen, new_earned, who->b, CHAIN_ADDR_LEN);
    if (!n) return util_err_set(err, UTIL_EINVAL, "index key too long");
    if (!had || new_earned > old_earned) return chain_exec_index_put_new(ex, k, n, NULL, 0, err);
    return chain_exec_index_put(ex, k, n, NULL, 0, err);
}

/* A contributor payout's explorer entries: the contributor's earnings from
 * the model (accumulated: the one index read back) and both rankings. ct_old
 * and ct are the contributor's totals before and after this payout;
 * first_in_record: no earlier payout of the record went to this address. */
static int index_contributor_payout(chain_exec *ex, uint64_t model, const chain_addr *to,
                                    uint64_t amount, const chain_contributor *ct_old,
                                    const chain_contributor *ct, int first_in_record, util_err *err)
{
    int rc;
    if ((rc = rank_move(ex, CHAIN_IX_TOP, (const uint8_t *)"", 0, ct_old->payouts > 0,
                        ct_old->earned, ct->earned, to, err)))
        return rc;
    uint8_t k[CHAIN_IXKEY_MAX], mb[8];
    size_t n = chain_ixkey_attr(k, CHAIN_IX_EARN_BY_MODEL, to->b, CHAIN_ADDR_LEN, model, NULL, 0);
    const uint8_t *v;
    size_t vl;
    chain_model_earnings me = {.model = model}, old;
    rc = chain_exec_index_get(ex, k, n, &v, &vl, err);
    int had = rc == 0;
    if (had && chain_model_earnings_decode(&me, v, vl))
        return util_err_set(err, UTIL_EIO, "corrupt earnings index entry");
    if (rc && rc != UTIL_ENOTFOUND) return rc;
    old = me;
    /* Bounded by the contributor's total, which was checked. */
    me.earned += amount;
    me.payouts++;
    me.records += first_in_record != 0;
    uint8_t ev[CHAIN_MODEL_EARNINGS_LEN];
    chain_model_earnings_encode(ev, &me);
    if ((rc = chain_exec_index_put(ex, k, n, ev, sizeof ev, err))) return rc;
    util_put_u64be(mb, model);
    return rank_move(ex, CHAIN_IX_TOP_BY_MODEL, mb, 8, had, old.earned, me.earned, to, err);
}

int chain_body_datanet_create(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err)
{
    (void)r;
    const chain_tx_datanet_create *b = &tx->body.datanet_create;
    chain_datanet d;
    memset(&d, 0, sizeof d);
    int rc;
    if ((rc = next_id(ex, CHAIN_SK_DATANET, &d.id, err))) return rc;
    d.owner = tx->from;
    snprintf(d.name, sizeof d.name, "%s", chain_tx_str(b->name));
    memcpy(d.meta_hash, b->meta_hash, 32);
    snprintf(d.meta_uri, sizeof d.meta_uri, "%s", chain_tx_str(b->meta_uri));
    d.bond = b->bond;
    d.review = b->review;
    d.height = chain_exec_context(ex)->height;
    return SAVE_DATANET(ex, &d, err);
}

int chain_body_contribute(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err)
{
    (void)r;
    const chain_tx_contribute *b = &tx->body.contribute;
    chain_datanet d;
    int rc;
    if ((rc = LOAD_DATANET(ex, b->datanet, &d, err))) return rc;
    uint8_t hk[41];
    const uint8_t *v;
    size_t vl;
    chain_key_content(hk, b->datanet, b->content_hash);
    rc = chain_exec_get(ex, hk, sizeof hk, &v, &vl, err);
    if (rc == 0)
        return FAIL(
            err, UTIL_EEXIST,
            "duplicate_contribution: this content is already contribution %llu of datanet %llu",
            (unsigned long long)(vl == 8 ? util_get_u64le(v) : 0), (unsigned long long)b->datanet);
    if (rc != UTIL_ENOTFOUND) return rc;

    chain_addr escrow;
    chain_bond_escrow_addr(&escrow);
    if (d.bond && (rc = chain_exec_transfer_coded(ex, &tx->from, &escrow, d.bond, err))) {
        if (rc == UTIL_EINVAL && chain_fail_from_msg(err->msg) == CHAIN_FAIL_INSUFFICIENT_FUNDS)
            return FAIL(err, UTIL_EINVAL,
                        "insufficient_funds: the datanet's bond is %llu base units",
                        (unsigned long long)d.bond);
        return rc;
    }
    chain_contribution c;
    memset(&c, 0, sizeof c);
    if ((rc = next_id(ex, CHAIN_SK_CONTRIB, &c.id, err))) return rc;
    c.datanet = d.id;
    c.contributor = tx->from;
    memcpy(c.content_hash, b->content_hash, 32);
    c.size = b->size;
    snprintf(c.uri, sizeof c.uri, "%s", chain_tx_str(b->uri));
    c.status = d.review ? CHAIN_CONTRIB_PENDING : CHAIN_CONTRIB_ACCEPTED;
    c.bond = d.bond;
    c.height = chain_exec_context(ex)->height;

    d.contributions++;
    if (d.review)
        d.pending++;
    else
        d.accepted++;
    chain_contributor ct;
    if ((rc = load_contributor(ex, &tx->from, &ct, err))) return rc;
    ct.contributions++;
    if (!d.review) ct.accepted++;
    /* Without review the bond goes straight back: the contribution is accepted. */
    if (!d.review && d.bond &&
        (rc = chain_exec_transfer_coded(ex, &escrow, &tx->from, d.bond, err)))
        return rc;
    uint8_t idv[8], dn[8];
    util_put_u64le(idv, c.id);
    be64(dn, d.id);
    if ((rc = chain_exec_put(ex, hk, sizeof hk, idv, 8, err)) || (rc = SAVE_CONTRIB(ex, &c, err)) ||
        (rc = SAVE_DATANET(ex, &d, err)) || (rc = save_contributor(ex, &tx->from, &ct, err)) ||
        (rc = index_put(ex, CHAIN_IX_CONTRIB_BY_DATANET, dn, 8, c.id, NULL, 0, NULL, 0, err)) ||
        (rc = index_put(ex, CHAIN_IX_CONTRIB_BY_CONTRIBUTOR, tx->from.b, CHAIN_ADDR_LEN, c.id, NULL,
                        0, NULL, 0, err)))
        return rc;
    return 0;
}

int chain_body_review(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err)
{
    (void)r;
    const chain_tx_review *b = &tx->body.review;
    chain_contribution c;
    chain_datanet d;
    int rc;
    if ((rc = LOAD_CONTRIB(ex, b->contribution, &c, err))) return rc;
    if ((rc = LOAD_DATANET(ex, c.datanet, &d, err))) return rc;
    if (memcmp(d.owner.b, tx->from.b, CHAIN_ADDR_LEN) != 0)
        return FAIL(err, UTIL_EINVAL,
                    "not_datanet_owner: only the owner of datanet %llu may review",
                    (unsigned long long)d.id);
    if (c.status != CHAIN_CONTRIB_PENDING)
        return FAIL(err, UTIL_ESTATE, "not_pending: contribution %llu was already %s",
                    (unsigned long long)c.id,
                    c.status == CHAIN_CONTRIB_ACCEPTED ? "accepted" : "rejected");
    chain_addr escrow;
    chain_bond_escrow_addr(&escrow);
    chain_contributor ct;
    if ((rc = load_contributor(ex, &c.contributor, &ct, err))) return rc;
    d.pending--;
    if (b->accept) {
        c.status = CHAIN_CONTRIB_ACCEPTED;
        d.accepted++;
        ct.accepted++;
        if (c.bond && (rc = chain_exec_transfer_coded(ex, &escrow, &c.contributor, c.bond, err)))
            return rc;
    } else {
        c.status = CHAIN_CONTRIB_REJECTED;
        c.reason = b->reason;
        d.rejected++;
        ct.rejected++;
        /* A rejected contribution's bond is forfeited to the datanet owner. */
        if (c.bond && (rc = chain_exec_transfer_coded(ex, &escrow, &d.owner, c.bond, err)))
            return rc;
    }
    if ((rc = SAVE_CONTRIB(ex, &c, err)) || (rc = SAVE_DATANET(ex, &d, err)) ||
        (rc = save_contributor(ex, &c.contributor, &ct, err)))
        return rc;
    return 0;
}

int chain_body_model_register(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err)
{
    (void)r;
    const chain_tx_model_register *b = &tx->body.model_register;
    if ((uint32_t)b->owner_bp + b->validators_bp + b->contributors_bp != CHAIN_BP_TOTAL)
        return FAIL(err, UTIL_EINVAL, "bad_split: split must sum to %u basis points",
                    (unsigned)CHAIN_BP_TOTAL);
    chain_model m;
    memset(&m, 0, sizeof m);
    int rc;
    chain_datanet ds[CHAIN_MODEL_MAX_DATANETS];
    for (uint32_t i = 0; i < b->ndatanets; i++)
        if ((rc = LOAD_DATANET(ex, b->datanets[i], &ds[i], err))) return rc;
    if ((rc = next_id(ex, CHAIN_SK_MODEL, &m.id, err))) return rc;
    m.owner = tx->from;
    snprintf(m.name, sizeof m.name, "%s", chain_tx_str(b->name));
    m.ndatanets = b->ndatanets;
    if (b->ndatanets) memcpy(m.datanets, b->datanets, (size_t)b->ndatanets * sizeof *b->datanets);
    memcpy(m.attestor, b->attestor, 32);
    static const chain_addr zero;
    if (memcmp(b->reward_contract.b, zero.b, CHAIN_ADDR_LEN) == 0)
        chain_default_reward_addr(&m.reward_contract);
    else
        m.reward_contract = b->reward_contract;
    m.owner_bp = b->owner_bp;
    m.validators_bp = b->validators_bp;
    m.contributors_bp = b->contributors_bp;
    m.height = chain_exec_context(ex)->height;
    if ((rc = SAVE_MODEL(ex, &m, err))) return rc;
    for (uint32_t i = 0; i < b->ndatanets; i++) {
        uint8_t dn[8];
        be64(dn, ds[i].id);
        ds[i].models++;
        if ((rc = SAVE_DATANET(ex, &ds[i], err)) ||
            (rc = index_put(ex, CHAIN_IX_MODEL_BY_DATANET, dn, 8, m.id, NULL, 0, NULL, 0, err)))
            return rc;
    }
    return index_put(ex, CHAIN_IX_MODEL_BY_OWNER, tx->from.b, CHAIN_ADDR_LEN, m.id, NULL, 0, NULL,
                     0, err);
}

static int model_has_datanet(const chain_model *m, uint64_t d)
{
    for (uint32_t i = 0; i < m->ndatanets; i++)
        if (m->datanets[i] == d) return 1;
    return 0;
}

int chain_body_attribute(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err)
{
    const chain_tx_attribute *b = &tx->body.attribute;
    chain_model m;
    int rc;
    if ((rc = LOAD_MODEL(ex, b->model, &m, err))) return rc;
    chain_addr attestor;
    chain_addr_from_pubkey(&attestor, m.attestor);
    if (memcmp(attestor.b, tx->from.b, CHAIN_ADDR_LEN) != 0)
        return FAIL(err, UTIL_EINVAL, "not_attestor: only model %llu's attestor may attribute",
                    (unsigned long long)m.id);
    if (b->nentries > CHAIN_ATTR_MAX_ENTRIES)
        return FAIL(err, UTIL_ELIMIT, "too_many_entries: at most %d", CHAIN_ATTR_MAX_ENTRIES);

    chain_record rec;
    memset(&rec, 0, sizeof rec);
    rec.entries = calloc(b->nentries ? b->nentries : 1, sizeof *rec.entries);
    rec.payouts = calloc(CHAIN_RECORD_MAX_PAYOUTS, sizeof *rec.payouts);
    chain_contribution *cs = calloc(b->nentries ? b->nentries : 1, sizeof *cs);
    if (!rec.entries || !rec.payouts || !cs) {
        rc = FAIL(err, UTIL_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < b->nentries; i++) {
        const chain_attr_entry *e = &b->entries[i];
        for (uint32_t j = 0; j < i; j++)
            if (b->entries[j].contribution == e->contribution) {
                rc = FAIL(err, UTIL_EINVAL, "duplicate_entry: contribution %llu appears twice",
                          (unsigned long long)e->contribution);
                goto out;
            }
        if ((rc = LOAD_CONTRIB(ex, e->contribution, &cs[i], err))) goto out;
        if (cs[i].status != CHAIN_CONTRIB_ACCEPTED) {
            rc = FAIL(err, UTIL_EINVAL, "contribution_not_accepted: contribution %llu is %s",
                      (unsigned long long)e->contribution,
                      cs[i].status == CHAIN_CONTRIB_PENDING ? "pending review" : "rejected");
            goto out;
        }
        if (!model_has_datanet(&m, cs[i].datanet)) {
            rc =
                FAIL(err, UTIL_EINVAL,
                     "foreign_contribution: contribution %llu is in datanet %llu, not a datanet of "
                     "model %llu",
                     (unsigned long long)e->contribution, (unsigned long long)cs[i].datanet,
                     (unsigned long long)m.id);
            goto out;
        }
        rec.entries[i].contribution = e->contribution;
        rec.entries[i].weight = e->weight;
        rec.entries[i].contributor = cs[i].contributor;
    }
    rec.nentries = b->nentries;

    /* Escrow the fee to the reward contract, then let it pay out. */
    chain_account before;
    if ((rc = chain_exec_transfer_coded(ex, &tx->from, &m.reward_contract, b->fee, err))) {
        if (rc == UTIL_EINVAL && chain_fail_from_msg(err->msg) == CHAIN_FAIL_INSUFFICIENT_FUNDS)
            FAIL(err, UTIL_EINVAL,
                 "insufficient_funds: the fee of %llu base units exceeds the balance",
                 (unsigned long long)b->fee);
        goto out;
    }
    if ((rc = chain_exec_get_account(ex, &m.reward_contract, &before, err))) goto out;
    if ((rc = next_id(ex, CHAIN_SK_RECORD, &rec.id, err))) goto out;
    rec.model = m.id;
    rec.attestor = tx->from;
    rec.owner = m.owner;
    memcpy(rec.output_hash, b->output_hash, 32);
    rec.fee = b->fee;
    rec.method = b->method;
    memcpy(rec.evidence_hash, b->evidence_hash, 32);
    rec.height = chain_exec_context(ex)->height;
    memcpy(rec.tx, tx->id, 32);
    if ((rc = chain_reward_run(ex, tx, &m, &rec, r, err))) goto out;

    /* The host's conservation check, whatever the contract did: what left the
     * contract is exactly the listed payouts, and it never paid more than the fee. */
    chain_account after;
    if ((rc = chain_exec_get_account(ex, &m.reward_contract, &after, err))) goto out;
    uint64_t paid = 0;
    for (uint32_t i = 0; i < rec.npayouts; i++)
        if (util_add_u64(paid, rec.payouts[i].amount, &paid)) {
            rc = FAIL(err, UTIL_EINVAL, "conservation: payouts overflow");
            goto out;
        }
    if (paid > rec.fee || before.balance - after.balance != paid) {
        rc = FAIL(err, UTIL_EINVAL, "conservation: contract paid %llu of a %llu fee",
                  (unsigned long long)paid, (unsigned long long)rec.fee);
        goto out;
    }
    rec.retained = rec.fee - paid;

    /* Totals, indexes and the stored record. */
    m.inferences++;
    if (util_add_u64(m.fees, rec.fee, &m.fees)) m.fees = UINT64_MAX;
    if ((rc = SAVE_MODEL(ex, &m, err))) goto out;
    uint8_t mb[8];
    be64(mb, m.id);
    if ((rc = series_put(ex, CHAIN_IX_FEES_BY_DAY, CHAIN_IX_FEES_BY_BLOCK, mb, 8, m.fees,
                         m.inferences, err)))
        goto out;
    if ((rc = index_put(ex, CHAIN_IX_RECORD_BY_MODEL, mb, 8, rec.id, NULL, 0, NULL, 0, err)))
        goto out;
    for (uint32_t i = 0; i < rec.nentries; i++) {
        uint8_t cb[8];
        be64(cb, rec.entries[i].contribution);
        cs[i].times_used++;
        if ((rc = index_put(ex, CHAIN_IX_RECORD_BY_CONTRIB, cb, 8, rec.id, NULL, 0, NULL, 0, err)))
            goto out;
    }
    for (uint32_t i = 0; i < rec.npayouts; i++) {
        const chain_payout *p = &rec.payouts[i];
        if (p->role == CHAIN_ROLE_CONTRIBUTOR) {
            /* Totals are checked, never wrapped: a total that cannot hold a
             * payout fails the record rather than show a wrong figure. */
            for (uint32_t j = 0; j < rec.nentries; j++)
                if (cs[j].id == p->contribution &&
                    util_add_u64(cs[j].earned, p->amount, &cs[j].earned)) {
                    rc = FAIL(err, UTIL_EINVAL,
                              "earnings_overflow: contribution %llu's earnings would pass 2^64-1",
                              (unsigned long long)cs[j].id);
                    goto out;
                }
            chain_contributor ct, ct_old;
            if ((rc = load_contributor(ex, &p->recipient, &ct, err))) goto out;
            ct_old = ct;
            if (util_add_u64(ct.earned, p->amount, &ct.earned) ||
                util_add_u64(ct.payouts, 1, &ct.payouts)) {
                rc = FAIL(err, UTIL_EINVAL,
                          "earnings_overflow: a contributor's earnings would pass 2^64-1");
                goto out;
            }
            if ((rc = save_contributor(ex, &p->recipient, &ct, err))) goto out;
            int first = 1;
            for (uint32_t j = 0; first && j < i; j++)
                first = rec.payouts[j].role != CHAIN_ROLE_CONTRIBUTOR ||
                        memcmp(rec.payouts[j].recipient.b, p->recipient.b, CHAIN_ADDR_LEN) != 0;
            if ((rc = index_contributor_payout(ex, m.id, &p->recipient, p->amount, &ct_old, &ct,
                                               first, err)))
                goto out;
            /* The earnings series once per recipient and record, after its
             * last payout in the record: the running totals then. */
            int last = 1;
            for (uint32_t j = i + 1; last && j < rec.npayouts; j++)
                last = rec.payouts[j].role != CHAIN_ROLE_CONTRIBUTOR ||
                       memcmp(rec.payouts[j].recipient.b, p->recipient.b, CHAIN_ADDR_LEN) != 0;
            if (last &&
                (rc = series_put(ex, CHAIN_IX_EARN_BY_DAY, CHAIN_IX_EARN_BY_BLOCK, p->recipient.b,
                                 CHAIN_ADDR_LEN, ct.earned, ct.payouts, err)))
                goto out;
        }
        uint8_t seq[2] = {(uint8_t)(i >> 8), (uint8_t)i}, val[CHAIN_PAYOUT_IXVAL_LEN];
        chain_payout_entry pe = {
            .model = m.id, .contribution = p->contribution, .role = p->role, .amount = p->amount};
        chain_payout_ixval_encode(val, &pe);
        if ((rc = index_put(ex, CHAIN_IX_PAYOUT_BY_RECIPIENT, p->recipient.b, CHAIN_ADDR_LEN,
                            rec.id, seq, 2, val, sizeof val, err)))
            goto out;
    }
    for (uint32_t i = 0; i < rec.nentries; i++)
        if ((rc = SAVE_CONTRIB(ex, &cs[i], err))) goto out;
    rc = save(ex, CHAIN_SK_RECORD, rec.id, &rec, (encode_fn)chain_record_encode, err);
out:
    free(cs);
    chain_record_free(&rec);
    return rc;
}
