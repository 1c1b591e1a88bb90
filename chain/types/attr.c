/* Canonical encodings of the attribution state entries. */
#include "chain/types/attr.h"

#include <stdlib.h>
#include <string.h>

#include "chain/types/block.h"
#include "chain/crypto/hash.h"

void chain_bond_escrow_addr(chain_addr *a)
{
    static const char tag[] = "openledger:bond-escrow";
    chain_addr_from_hash_of(a, tag, sizeof tag - 1);
}

void chain_payout_topic(uint8_t out[32])
{
    chain_sha256(out, "payout", 6);
}

int chain_record_add_payout(chain_record *rec, chain_receipt *r, const chain_addr *emitter,
                            const chain_payout *p, util_err *err)
{
    if (rec->npayouts >= CHAIN_RECORD_MAX_PAYOUTS)
        return util_err_set(err, UTIL_ELIMIT, "too_many_payouts: at most %d",
                            CHAIN_RECORD_MAX_PAYOUTS);
    uint8_t topic[32], d[CHAIN_PAYOUT_EVENT_LEN];
    chain_payout_topic(topic);
    util_put_u64le(d, rec->model);
    util_put_u64le(d + 8, p->contribution);
    memcpy(d + 16, p->recipient.b, CHAIN_ADDR_LEN);
    d[36] = p->role;
    util_put_u64le(d + 37, p->amount);
    util_put_u64le(d + 45, rec->id);
    int rc = chain_receipt_add_event(r, emitter, topic, d, sizeof d);
    if (rc == UTIL_ENOMEM) return util_err_set(err, rc, "out of memory");
    if (rc) return util_err_set(err, UTIL_ELIMIT, "too_many_events: receipt event limit");
    rec->payouts[rec->npayouts++] = *p;
    return 0;
}

static void put_str(util_buf *b, const char *s)
{
    util_buf_lenbytes(b, s, strlen(s));
}

static int get_str(util_rd *r, char *out, size_t max)
{
    const uint8_t *p;
    size_t n;
    if (util_rd_lenbytes(r, &p, &n, max)) return -1;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

static int done(util_buf *b)
{
    return b->oom ? UTIL_ENOMEM : 0;
}

int chain_datanet_encode(const chain_datanet *d, util_buf *b)
{
    util_buf_u64(b, d->id);
    util_buf_put(b, d->owner.b, CHAIN_ADDR_LEN);
    put_str(b, d->name);
    util_buf_put(b, d->meta_hash, 32);
    put_str(b, d->meta_uri);
    util_buf_u64(b, d->bond);
    util_buf_u8(b, d->review);
    util_buf_u64(b, d->height);
    util_buf_u64(b, d->contributions);
    util_buf_u64(b, d->accepted);
    util_buf_u64(b, d->rejected);
    util_buf_u64(b, d->pending);
    util_buf_u64(b, d->models);
    return done(b);
}

int chain_datanet_decode(chain_datanet *d, const uint8_t *p, size_t n)
{
    util_rd r;
    util_rd_init(&r, p, n);
    memset(d, 0, sizeof *d);
    util_rd_u64(&r, &d->id);
    util_rd_copy(&r, d->owner.b, CHAIN_ADDR_LEN);
    get_str(&r, d->name, CHAIN_NAME_MAX);
    util_rd_copy(&r, d->meta_hash, 32);
    get_str(&r, d->meta_uri, CHAIN_URI_MAX);
    util_rd_u64(&r, &d->bond);
    util_rd_u8(&r, &d->review);
    util_rd_u64(&r, &d->height);
    util_rd_u64(&r, &d->contributions);
    util_rd_u64(&r, &d->accepted);
    util_rd_u64(&r, &d->rejected);
    util_rd_u64(&r, &d->pending);
    util_rd_u64(&r, &d->models);
    return util_rd_end(&r) ? UTIL_EIO : 0;
}

int chain_contribution_encode(const chain_contribution *c, util_buf *b)
{
    util_buf_u64(b, c->id);
    util_buf_u64(b, c->datanet);
    util_buf_put(b, c->contributor.b, CHAIN_ADDR_LEN);
    util_buf_put(b, c->content_hash, 32);
    util_buf_u64(b, c->size);
    put_str(b, c->uri);
    util_buf_u8(b, c->status);
    util_buf_u32(b, c->reason);
    util_buf_u64(b, c->bond);
    util_buf_u64(b, c->height);
    util_buf_u64(b, c->times_used);
    util_buf_u64(b, c->earned);
    return done(b);
}

int chain_contribution_decode(chain_contribution *c, const uint8_t *p, size_t n)
{
    util_rd r;
    util_rd_init(&r, p, n);
    memset(c, 0, sizeof *c);
    util_rd_u64(&r, &c->id);
    util_rd_u64(&r, &c->datanet);
    util_rd_copy(&r, c->contributor.b, CHAIN_ADDR_LEN);
    util_rd_copy(&r, c->content_hash, 32);
    util_rd_u64(&r, &c->size);
    get_str(&r, c->uri, CHAIN_URI_MAX);
    util_rd_u8(&r, &c->status);
    util_rd_u32(&r, &c->reason);
    util_rd_u64(&r, &c->bond);
    util_rd_u64(&r, &c->height);
    util_rd_u64(&r, &c->times_used);
    util_rd_u64(&r, &c->earned);
    if (c->status > CHAIN_CONTRIB_REJECTED) return UTIL_EIO;
    return util_rd_end(&r) ? UTIL_EIO : 0;
}

int chain_model_encode(const chain_model *m, util_buf *b)
{
    util_buf_u64(b, m->id);
    util_buf_put(b, m->owner.b, CHAIN_ADDR_LEN);
    put_str(b, m->name);
    util_buf_varint(b, m->ndatanets);
    for (uint32_t i = 0; i < m->ndatanets; i++)
        util_buf_u64(b, m->datanets[i]);
    util_buf_put(b, m->attestor, 32);
    util_buf_put(b, m->reward_contract.b, CHAIN_ADDR_LEN);
    util_buf_u16(b, m->owner_bp);
    util_buf_u16(b, m->validators_bp);
    util_buf_u16(b, m->contributors_bp);
    util_buf_u64(b, m->height);
    util_buf_u64(b, m->inferences);
    util_buf_u64(b, m->fees);
    return done(b);
}

int chain_model_decode(chain_model *m, const uint8_t *p, size_t n)
{
    util_rd r;
    util_rd_init(&r, p, n);
    memset(m, 0, sizeof *m);
    uint64_t nd = 0;
    util_rd_u64(&r, &m->id);
    util_rd_copy(&r, m->owner.b, CHAIN_ADDR_LEN);
    get_str(&r, m->name, CHAIN_NAME_MAX);
    util_rd_varint(&r, &nd, CHAIN_MODEL_MAX_DATANETS);
    m->ndatanets = (uint32_t)nd;
    for (uint32_t i = 0; i < m->ndatanets; i++)
        util_rd_u64(&r, &m->datanets[i]);
    util_rd_copy(&r, m->attestor, 32);
    util_rd_copy(&r, m->reward_contract.b, CHAIN_ADDR_LEN);
    util_rd_u16(&r, &m->owner_bp);
    util_rd_u16(&r, &m->validators_bp);
    util_rd_u16(&r, &m->contributors_bp);
    util_rd_u64(&r, &m->height);
    util_rd_u64(&r, &m->inferences);
    util_rd_u64(&r, &m->fees);
    return util_rd_end(&r) ? UTIL_EIO : 0;
}

int chain_record_encode(const chain_record *rec, util_buf *b)
{
    util_buf_u64(b, rec->id);
    util_buf_u64(b, rec->model);
    util_buf_put(b, rec->attestor.b, CHAIN_ADDR_LEN);
    util_buf_put(b, rec->owner.b, CHAIN_ADDR_LEN);
    util_buf_put(b, rec->output_hash, 32);
    util_buf_u64(b, rec->fee);
    util_buf_u8(b, rec->method);
    util_buf_put(b, rec->evidence_hash, 32);
    util_buf_u64(b, rec->height);
    util_buf_put(b, rec->tx, 32);
    util_buf_u64(b, rec->retained);
    util_buf_varint(b, rec->nentries);
    for (uint32_t i = 0; i < rec->nentries; i++) {
        util_buf_u64(b, rec->entries[i].contribution);
        util_buf_u64(b, rec->entries[i].weight);
        util_buf_put(b, rec->entries[i].contributor.b, CHAIN_ADDR_LEN);
    }
    util_buf_varint(b, rec->npayouts);
    for (uint32_t i = 0; i < rec->npayouts; i++) {
        util_buf_put(b, rec->payouts[i].recipient.b, CHAIN_ADDR_LEN);
        util_buf_u8(b, rec->payouts[i].role);
        util_buf_u64(b, rec->payouts[i].contribution);
        util_buf_u64(b, rec->payouts[i].amount);
    }
    return done(b);
}

void chain_record_free(chain_record *r)
{
    free(r->entries);
    free(r->payouts);
    r->entries = NULL;
    r->payouts = NULL;
    r->nentries = r->npayouts = 0;
}

int chain_record_decode(chain_record *rec, const uint8_t *p, size_t n)
{
    util_rd r;
    util_rd_init(&r, p, n);
    memset(rec, 0, sizeof *rec);
    uint64_t ne = 0, np = 0;
    util_rd_u64(&r, &rec->id);
    util_rd_u64(&r, &rec->model);
    util_rd_copy(&r, rec->attestor.b, CHAIN_ADDR_LEN);
    util_rd_copy(&r, rec->owner.b, CHAIN_ADDR_LEN);
    util_rd_copy(&r, rec->output_hash, 32);
    util_rd_u64(&r, &rec->fee);
    util_rd_u8(&r, &rec->method);
    util_rd_copy(&r, rec->evidence_hash, 32);
    util_rd_u64(&r, &rec->height);
    util_rd_copy(&r, rec->tx, 32);
    util_rd_u64(&r, &rec->retained);
    if (util_rd_varint(&r, &ne, CHAIN_ATTR_MAX_ENTRIES)) return UTIL_EIO;
    rec->entries = calloc(ne ? ne : 1, sizeof *rec->entries);
    if (!rec->entries) return UTIL_ENOMEM;
    rec->nentries = (uint32_t)ne;
    for (uint32_t i = 0; i < rec->nentries; i++) {
        util_rd_u64(&r, &rec->entries[i].contribution);
        util_rd_u64(&r, &rec->entries[i].weight);
        util_rd_copy(&r, rec->entries[i].contributor.b, CHAIN_ADDR_LEN);
    }
    if (util_rd_varint(&r, &np, CHAIN_RECORD_MAX_PAYOUTS)) goto bad;
    rec->payouts = calloc(np ? np : 1, sizeof *rec->payouts);
    if (!rec->payouts) {
        chain_record_free(rec);
        return UTIL_ENOMEM;
    }
    rec->npayouts = (uint32_t)np;
    for (uint32_t i = 0; i < rec->npayouts; i++) {
        util_rd_copy(&r, rec->payouts[i].recipient.b, CHAIN_ADDR_LEN);
        util_rd_u8(&r, &rec->payouts[i].role);
        util_rd_u64(&r, &rec->payouts[i].contribution);
        util_rd_u64(&r, &rec->payouts[i].amount);
    }
    if (util_rd_end(&r) == 0) return 0;
bad:
    chain_record_free(rec);
    return UTIL_EIO;
}

void chain_contributor_encode(uint8_t out[40], const chain_contributor *c)
{
    util_put_u64le(out, c->earned);
    util_put_u64le(out + 8, c->contributions);
    util_put_u64le(out + 16, c->accepted);
    util_put_u64le(out + 24, c->rejected);
    util_put_u64le(out + 32, c->payouts);
}

int chain_contributor_decode(chain_contributor *c, const uint8_t *p, size_t n)
{
    if (n != 40) return UTIL_EIO;
    c->earned = util_get_u64le(p);
    c->contributions = util_get_u64le(p + 8);
    c->accepted = util_get_u64le(p + 16);
    c->rejected = util_get_u64le(p + 24);
    c->payouts = util_get_u64le(p + 32);
    return 0;
}
