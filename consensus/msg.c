/* Consensus messages: canonical encodings, strict decoders, sign digests and
 * signature checks (formats in msg.h). */
#include "consensus/msg.h"

#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"

size_t cons_msg_max_len(uint8_t type)
{
    switch (type) {
    case CONS_MSG_PROPOSAL: return CONS_PROPOSAL_LEN;
    case CONS_MSG_VOTE: return CONS_VOTE_LEN;
    case CONS_MSG_EVIDENCE: return CONS_EVIDENCE_LEN;
    default: return 0;
    }
}

int cons_id_is_nil(const uint8_t id[32])
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= id[i];
    return acc == 0;
}

void cons_vote_digest(const cons_chain *c, const cons_vote *v, uint8_t out[32])
{
    chain_vote_digest(out, c->chain_id, c->genesis_hash, v->height, v->round, v->type, v->block_id);
}

void cons_proposal_digest(const cons_chain *c, const cons_proposal *p, uint8_t out[32])
{
    uint8_t buf[1 + CHAIN_ID_MAX + 32 + 8 + 4 + 4 + 32];
    size_t n = strnlen(c->chain_id, CHAIN_ID_MAX), k = 0;
    k += util_varint_put(buf, n); /* n <= 32: one byte */
    memcpy(buf + k, c->chain_id, n);
    k += n;
    memcpy(buf + k, c->genesis_hash, 32);
    k += 32;
    util_put_u64le(buf + k, p->height);
    k += 8;
    util_put_u32le(buf + k, p->round);
    k += 4;
    util_put_u32le(buf + k, p->pol_round);
    k += 4;
    memcpy(buf + k, p->block_id, 32);
    k += 32;
    chain_hash_tagged(out, CONS_TAG_PROPOSAL, buf, k);
}

static int vote_check(const cons_vote *v, util_err *err)
{
    if (v->type != CHAIN_VOTE_PREVOTE && v->type != CHAIN_VOTE_PRECOMMIT)
        return util_err_set(err, UTIL_EINVAL, "vote: type %u is not prevote (1) or precommit (2)",
                            (unsigned)v->type);
    if (v->height == 0) return util_err_set(err, UTIL_EINVAL, "vote: height 0");
    if (v->validator >= CONS_MAX_VALIDATORS)
        return util_err_set(err, UTIL_EINVAL, "vote: validator index %u out of range",
                            (unsigned)v->validator);
    return 0;
}

static int proposal_check(const cons_proposal *p, util_err *err)
{
    if (p->height == 0) return util_err_set(err, UTIL_EINVAL, "proposal: height 0");
    if (p->pol_round != CONS_POL_NONE && p->pol_round >= p->round)
        return util_err_set(err, UTIL_EINVAL, "proposal: pol_round %u not below round %u",
                            (unsigned)p->pol_round, (unsigned)p->round);
    if (cons_id_is_nil(p->block_id))
        return util_err_set(err, UTIL_EINVAL, "proposal: nil block id");
    if (p->proposer >= CONS_MAX_VALIDATORS)
        return util_err_set(err, UTIL_EINVAL, "proposal: proposer index %u out of range",
                            (unsigned)p->proposer);
    return 0;
}

static void vote_put(util_buf *out, const cons_vote *v)
{
    util_buf_u8(out, v->type);
    util_buf_u64(out, v->height);
    util_buf_u32(out, v->round);
    util_buf_u8(out, (uint8_t)v->validator);
    util_buf_put(out, v->block_id, 32);
    util_buf_put(out, v->sig, 64);
}

static void vote_get(util_rd *r, cons_vote *v)
{
    uint8_t idx = 0;
    memset(v, 0, sizeof *v);
    (void)util_rd_u8(r, &v->type);
    (void)util_rd_u64(r, &v->height);
    (void)util_rd_u32(r, &v->round);
    (void)util_rd_u8(r, &idx);
    (void)util_rd_copy(r, v->block_id, 32);
    (void)util_rd_copy(r, v->sig, 64);
    v->validator = idx;
}

int cons_vote_encode(const cons_vote *v, util_buf *out, util_err *err)
{
    int rc = vote_check(v, err);
    if (rc) return rc;
    vote_put(out, v);
    return out->oom ? util_err_set(err, UTIL_ENOMEM, "vote: out of memory") : 0;
}

int cons_vote_decode(cons_vote *v, const uint8_t *p, size_t n, util_err *err)
{
    if (n != CONS_VOTE_LEN)
        return util_err_set(err, UTIL_EINVAL, "vote: %zu bytes, want %d", n, CONS_VOTE_LEN);
    util_rd r;
    util_rd_init(&r, p, n);
    cons_vote tmp;
    vote_get(&r, &tmp);
    if (util_rd_end(&r)) return util_err_set(err, UTIL_EINVAL, "vote: %s", r.err);
    int rc = vote_check(&tmp, err);
    if (rc) return rc;
    *v = tmp;
    return 0;
}

int cons_proposal_encode(const cons_proposal *p, util_buf *out, util_err *err)
{
    int rc = proposal_check(p, err);
    if (rc) return rc;
    util_buf_u64(out, p->height);
    util_buf_u32(out, p->round);
    util_buf_u32(out, p->pol_round);
    util_buf_put(out, p->block_id, 32);
    util_buf_u8(out, (uint8_t)p->proposer);
    util_buf_put(out, p->sig, 64);
    return out->oom ? util_err_set(err, UTIL_ENOMEM, "proposal: out of memory") : 0;
}

int cons_proposal_decode(cons_proposal *p, const uint8_t *b, size_t n, util_err *err)
{
    if (n != CONS_PROPOSAL_LEN)
        return util_err_set(err, UTIL_EINVAL, "proposal: %zu bytes, want %d", n, CONS_PROPOSAL_LEN);
    util_rd r;
    util_rd_init(&r, b, n);
    cons_proposal tmp;
    uint8_t idx = 0;
    memset(&tmp, 0, sizeof tmp);
    (void)util_rd_u64(&r, &tmp.height);
    (void)util_rd_u32(&r, &tmp.round);
    (void)util_rd_u32(&r, &tmp.pol_round);
    (void)util_rd_copy(&r, tmp.block_id, 32);
    (void)util_rd_u8(&r, &idx);
    (void)util_rd_copy(&r, tmp.sig, 64);
    if (util_rd_end(&r)) return util_err_set(err, UTIL_EINVAL, "proposal: %s", r.err);
    tmp.proposer = idx;
    int rc = proposal_check(&tmp, err);
    if (rc) return rc;
    *p = tmp;
    return 0;
}

static int evidence_check(const cons_vote *a, const cons_vote *b, int ordered, util_err *err)
{
    int rc = vote_check(a, err);
    if (!rc) rc = vote_check(b, err);
    if (rc) return rc;
    if (a->type != b->type || a->height != b->height || a->round != b->round ||
        a->validator != b->validator)
        return util_err_set(err, UTIL_EINVAL,
                            "evidence: votes differ in type, height, round or validator");
    int c = memcmp(a->block_id, b->block_id, 32);
    if (c == 0) return util_err_set(err, UTIL_EINVAL, "evidence: votes for the same block id");
    if (ordered && c > 0)
        return util_err_set(err, UTIL_EINVAL, "evidence: votes not in block id order");
    return 0;
}

int cons_evidence_make(cons_evidence *e, const cons_vote *x, const cons_vote *y, util_err *err)
{
    int rc = evidence_check(x, y, 0, err);
    if (rc) return rc;
    int first_x = memcmp(x->block_id, y->block_id, 32) < 0;
    e->a = first_x ? *x : *y;
    e->b = first_x ? *y : *x;
    return 0;
}

int cons_evidence_encode(const cons_evidence *e, util_buf *out, util_err *err)
{
    int rc = evidence_check(&e->a, &e->b, 1, err);
    if (rc) return rc;
    vote_put(out, &e->a);
    vote_put(out, &e->b);
    return out->oom ? util_err_set(err, UTIL_ENOMEM, "evidence: out of memory") : 0;
}

int cons_evidence_decode(cons_evidence *e, const uint8_t *p, size_t n, util_err *err)
{
    if (n != CONS_EVIDENCE_LEN)
        return util_err_set(err, UTIL_EINVAL, "evidence: %zu bytes, want %d", n, CONS_EVIDENCE_LEN);
    util_rd r;
    util_rd_init(&r, p, n);
    cons_evidence tmp;
    vote_get(&r, &tmp.a);
    vote_get(&r, &tmp.b);
    if (util_rd_end(&r)) return util_err_set(err, UTIL_EINVAL, "evidence: %s", r.err);
    int rc = evidence_check(&tmp.a, &tmp.b, 1, err);
    if (rc) return rc;
    *e = tmp;
    return 0;
}

int cons_vote_verify(const cons_chain *c, const cons_valset *vs, const cons_vote *v, util_err *err)
{
    int rc = vote_check(v, err);
    if (rc) return rc;
    if (v->validator >= vs->n)
        return util_err_set(err, UTIL_EINVAL, "vote: validator %u not in the set of %u",
                            (unsigned)v->validator, (unsigned)vs->n);
    uint8_t d[32];
    cons_vote_digest(c, v, d);
    if (!chain_verify(v->sig, d, vs->v[v->validator].pubkey))
        return util_err_set(err, UTIL_ECRYPTO, "vote: bad signature of validator %u",
                            (unsigned)v->validator);
    return 0;
}

int cons_proposal_verify(const cons_chain *c, const cons_valset *vs, const cons_proposal *p,
                         util_err *err)
{
    int rc = proposal_check(p, err);
    if (rc) return rc;
    uint32_t want = cons_valset_proposer(vs, p->height, p->round);
    if (p->proposer != want)
        return util_err_set(err, UTIL_EINVAL,
                            "proposal: validator %u is not the proposer of %llu/%u (%u is)",
                            (unsigned)p->proposer, (unsigned long long)p->height,
                            (unsigned)p->round, (unsigned)want);
    uint8_t d[32];
    cons_proposal_digest(c, p, d);
    if (!chain_verify(p->sig, d, vs->v[p->proposer].pubkey))
        return util_err_set(err, UTIL_ECRYPTO, "proposal: bad signature of validator %u",
                            (unsigned)p->proposer);
    return 0;
}

int cons_evidence_verify(const cons_chain *c, const cons_valset *vs, const cons_evidence *e,
                         util_err *err)
{
    int rc = evidence_check(&e->a, &e->b, 0, err);
    if (!rc) rc = cons_vote_verify(c, vs, &e->a, err);
    if (!rc) rc = cons_vote_verify(c, vs, &e->b, err);
    return rc;
}
