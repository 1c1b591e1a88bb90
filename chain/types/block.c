/* Headers, blocks, commits and receipts: their canonical encodings, hashes
 * and list Merkle roots, and vote digests (chain/types/block.h). */
#include "chain/types/block.h"

#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"

/* Smallest possible transaction encoding: version, a 1-byte chain id with its
 * length, type, sender, nonce, gas limit, gas price and signature (empty
 * body). Used to bound a declared tx count by the bytes actually present
 * before allocating. */
#define TX_MIN_SIZE (1 + 2 + 1 + CHAIN_PUBKEY_LEN + 3 * 8 + CHAIN_SIG_LEN)

/* The txs array starts with room for this many transactions. */
#define TXS_FIRST 64

/* Capacity of the txs array when it is full and the next transaction has
 * decoded: n transactions decoded, taking used bytes, left bytes unread.
 * First TXS_FIRST; then room for as many as the
 * unread bytes hold at the density seen so far, plus a quarter, so that a
 * block is normally reallocated once, after TXS_FIRST, and the copy is small;
 * at least half as many again, so a block whose transactions shrink is
 * reallocated O(log n) times. Never more than the declared count, which a
 * valid block has exactly: the margin costs nothing once it decodes. */
static size_t txs_cap(size_t n, size_t used, size_t left, uint64_t cnt)
{
    uint64_t want = n <= 1 ? TXS_FIRST : n + n / 2;
    /* left <= 16 MiB and n <= 100000: the product fits in 64 bits. */
    if (n > 1 && used) {
        uint64_t more = (uint64_t)left * n / used;
        uint64_t est = n + more + more / 4 + 1;
        if (est > want) want = est;
    }
    return (size_t)(want < cnt ? want : cnt);
}

static int id_ok(const uint8_t *p, size_t n)
{
    char s[CHAIN_ID_MAX + 1];
    if (n == 0 || n > CHAIN_ID_MAX || memchr(p, 0, n)) return 0;
    memcpy(s, p, n);
    s[n] = 0;
    return chain_id_valid(s);
}

static void put_commit(const chain_commit *c, uint32_t n, util_buf *out)
{
    util_buf_u32(out, c->round);
    util_buf_varint(out, n);
    for (uint32_t i = 0; i < n; i++) {
        util_buf_varint(out, c->sigs[i].validator);
        util_buf_put(out, c->sigs[i].sig, 64);
    }
}

int chain_commit_encode(const chain_commit *c, util_buf *out)
{
    if (c->n > CHAIN_MAX_VALIDATORS) return UTIL_EINVAL;
    put_commit(c, c->n, out);
    return out->oom ? UTIL_ENOMEM : 0;
}

int chain_commit_read(chain_commit *c, util_rd *r, util_err *err)
{
    uint64_t cnt;
    memset(c, 0, sizeof *c);
    if (util_rd_u32(r, &c->round) || util_rd_varint(r, &cnt, UINT64_MAX))
        return util_err_set(err, UTIL_EINVAL, "commit: %s", r->err);
    if (cnt > CHAIN_MAX_VALIDATORS)
        return util_err_set(err, UTIL_EINVAL, "commit has %llu signatures, at most %d",
                            (unsigned long long)cnt, CHAIN_MAX_VALIDATORS);
    c->n = (uint32_t)cnt;
    for (uint32_t i = 0; i < c->n; i++) {
        chain_commit_sig *s = &c->sigs[i];
        uint64_t v;
        if (util_rd_varint(r, &v, UINT64_MAX))
            return util_err_set(err, UTIL_EINVAL, "commit: %s", r->err);
        /* A validator set has at most CHAIN_MAX_VALIDATORS members. */
        if (v >= CHAIN_MAX_VALIDATORS)
            return util_err_set(err, UTIL_EINVAL, "commit validator index %llu out of range",
                                (unsigned long long)v);
        if (i > 0 && v <= c->sigs[i - 1].validator)
            return util_err_set(err, UTIL_EINVAL,
                                "commit validator indexes not strictly increasing");
        s->validator = (uint32_t)v;
        if (util_rd_copy(r, s->sig, 64))
            return util_err_set(err, UTIL_EINVAL, "commit: %s", r->err);
    }
    return 0;
}

/* Writes the header; a commit count above the limit is clamped so that a
 * corrupt struct can never make us read past sigs[]. Callers that must reject
 * it check first. */
static void put_header(const chain_header *h, util_buf *out)
{
    uint32_t n = h->last_commit.n;
    if (n > CHAIN_MAX_VALIDATORS) n = CHAIN_MAX_VALIDATORS;
    util_buf_u8(out, h->version);
    util_buf_lenbytes(out, h->chain_id, strnlen(h->chain_id, CHAIN_ID_MAX));
    util_buf_u64(out, h->height);
    util_buf_put(out, h->parent, 32);
    util_buf_u64(out, h->time_ms);
    util_buf_put(out, h->proposer.b, CHAIN_ADDR_LEN);
    util_buf_put(out, h->tx_root, 32);
    util_buf_put(out, h->state_root, 32);
    util_buf_put(out, h->receipts_root, 32);
    util_buf_put(out, h->validators_hash, 32);
    util_buf_put(out, h->next_validators_hash, 32);
    util_buf_put(out, h->consensus_params_hash, 32);
    util_buf_put(out, h->evidence_hash, 32);
    put_commit(&h->last_commit, n, out);
}

int chain_header_encode(const chain_header *h, util_buf *out)
{
    if (h->last_commit.n > CHAIN_MAX_VALIDATORS) return UTIL_EINVAL;
    put_header(h, out);
    return out->oom ? UTIL_ENOMEM : 0;
}

static int rd_error(const util_rd *r, size_t base, const char *what, util_err *err)
{
    return util_err_set(err, UTIL_EINVAL, "%s: %s at byte %zu", what, r->err ? r->err : "malformed",
                        r->err_at - base);
}

int chain_header_read(chain_header *h, util_rd *r, util_err *err)
{
    size_t start = r->pos;
    const uint8_t *cid;
    size_t cidn;
    memset(h, 0, sizeof *h);
    if (util_rd_u8(r, &h->version)) return rd_error(r, start, "header", err);
    if (h->version != CHAIN_BLOCK_VERSION)
        return util_err_set(err, UTIL_EINVAL, "header: unsupported version %u", h->version);
    if (util_rd_lenbytes(r, &cid, &cidn, CHAIN_ID_MAX)) return rd_error(r, start, "header", err);
    if (!id_ok(cid, cidn))
        return util_err_set(err, UTIL_EINVAL,
                            "header: bad chain id (1..32 characters of a-z, 0-9, '-')");
    memcpy(h->chain_id, cid, cidn);
    if (util_rd_u64(r, &h->height) || util_rd_copy(r, h->parent, 32) ||
        util_rd_u64(r, &h->time_ms) || util_rd_copy(r, h->proposer.b, CHAIN_ADDR_LEN) ||
        util_rd_copy(r, h->tx_root, 32) || util_rd_copy(r, h->state_root, 32) ||
        util_rd_copy(r, h->receipts_root, 32) || util_rd_copy(r, h->validators_hash, 32) ||
        util_rd_copy(r, h->next_validators_hash, 32) ||
        util_rd_copy(r, h->consensus_params_hash, 32) || util_rd_copy(r, h->evidence_hash, 32))
        return rd_error(r, start, "header", err);
    if (chain_commit_read(&h->last_commit, r, err)) {
        /* A reader failure is reported like the rest of the header, with the
         * offset; a rule the commit breaks keeps its own message. */
        if (r->err) return rd_error(r, start, "header", err);
        return util_err_prefix(err, "header: ");
    }
    return 0;
}

int chain_header_decode(chain_header *h, const uint8_t *p, size_t n, util_err *err)
{
    util_rd r;
    util_rd_init(&r, p, n);
    int rc = chain_header_read(h, &r, err);
    if (rc) return rc;
    if (util_rd_end(&r)) return rd_error(&r, 0, "header", err);
    return 0;
}

void chain_header_hash(const chain_header *h, uint8_t out[32])
{
    util_buf b;
    util_buf_init(&b);
    put_header(h, &b);
    /* A header is under 5 KB; failing to allocate that leaves no id to
     * return and no sane way to continue. */
    if (b.oom) abort();
    chain_hash_tagged(out, CHAIN_TAG_BLOCK_ID, b.data, b.len);
    util_buf_free(&b);
}

int chain_block_encode(const chain_block *b, util_buf *out)
{
    int rc = chain_header_encode(&b->h, out);
    if (rc) return rc;
    util_buf_varint(out, b->ntx);
    for (size_t i = 0; i < b->ntx; i++) {
        /* The prefix is computed, not taken from txs[i].size, so a stale
         * derived field can never produce a corrupt block. */
        util_buf_varint(out, chain_tx_encoded_len(&b->txs[i]));
        rc = chain_tx_encode(&b->txs[i], out);
        if (rc) return rc;
    }
    if (b->nev > CHAIN_BLOCK_MAX_EVIDENCE) return UTIL_EINVAL;
    util_buf_varint(out, b->nev);
    for (size_t i = 0; i < b->nev; i++) {
        uint8_t e[CHAIN_EVIDENCE_LEN];
        chain_evidence_encode(&b->ev[i], e);
        util_buf_put(out, e, sizeof e);
    }
    return out->oom ? UTIL_ENOMEM : 0;
}

static size_t vote_put(const chain_vote *v, uint8_t *p)
{
    size_t k = 0;
    p[k++] = v->type;
    util_put_u64le(p + k, v->height);
    k += 8;
    util_put_u32le(p + k, v->round);
    k += 4;
    /* One byte on the wire: a struct built in memory with a larger index
     * encodes as another validator, which validate then refuses. */
    p[k++] = (uint8_t)v->validator;
    memcpy(p + k, v->block_id, 32);
    k += 32;
    memcpy(p + k, v->sig, 64);
    return k + 64;
}

static size_t vote_get(chain_vote *v, const uint8_t *p)
{
    size_t k = 0;
    v->type = p[k++];
    v->height = util_get_u64le(p + k);
    k += 8;
    v->round = util_get_u32le(p + k);
    k += 4;
    v->validator = p[k++];
    memcpy(v->block_id, p + k, 32);
    k += 32;
    memcpy(v->sig, p + k, 64);
    return k + 64;
}

void chain_evidence_encode(const chain_evidence *e, uint8_t out[CHAIN_EVIDENCE_LEN])
{
    size_t k = vote_put(&e->a, out);
    vote_put(&e->b, out + k);
}

void chain_evidence_decode(chain_evidence *e, const uint8_t in[CHAIN_EVIDENCE_LEN])
{
    memset(e, 0, sizeof *e);
    size_t k = vote_get(&e->a, in);
    vote_get(&e->b, in + k);
}

void chain_evidence_id(const chain_evidence *e, uint8_t out[32])
{
    uint8_t enc[CHAIN_EVIDENCE_LEN];
    chain_evidence_encode(e, enc);
    chain_sha256(out, enc, sizeof enc);
}

void chain_block_evidence_hash(const chain_block *b, uint8_t out[32])
{
    uint8_t ids[CHAIN_BLOCK_MAX_EVIDENCE][32];
    size_t n = b->nev < CHAIN_BLOCK_MAX_EVIDENCE ? b->nev : CHAIN_BLOCK_MAX_EVIDENCE;
    for (size_t i = 0; i < n; i++)
        chain_evidence_id(&b->ev[i], ids[i]);
    chain_merkle_root((const uint8_t(*)[32])ids, n, out);
}

void chain_block_free(chain_block *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->ntx; i++)
        chain_tx_free(&b->txs[i]);
    free(b->txs);
    b->txs = NULL;
    b->ntx = 0;
    b->nev = 0;
}

int chain_block_decode(chain_block *b, const uint8_t *p, size_t n, util_err *err)
{
    memset(b, 0, sizeof *b);
    if (n > CHAIN_BLOCK_MAX_SIZE)
        return util_err_set(err, UTIL_ELIMIT, "block too large: %zu bytes, at most %u", n,
                            CHAIN_BLOCK_MAX_SIZE);
    util_rd r;
    util_rd_init(&r, p, n);
    int rc = chain_header_read(&b->h, &r, err);
    if (rc) return rc;
    uint64_t cnt;
    if (util_rd_varint(&r, &cnt, UINT64_MAX)) return rd_error(&r, 0, "block", err);
    if (cnt > CHAIN_BLOCK_MAX_TXS)
        return util_err_set(err, UTIL_ELIMIT, "block has %llu transactions, at most %d",
                            (unsigned long long)cnt, CHAIN_BLOCK_MAX_TXS);
    if (cnt > util_rd_left(&r) / (1 + TX_MIN_SIZE))
        return util_err_set(err, UTIL_EINVAL, "block: %llu transactions cannot fit in %zu bytes",
                            (unsigned long long)cnt, util_rd_left(&r));
    /* The array grows only after a transaction decoded: the declared count is
     * an upper bound, never a size to allocate up front, so a count the bytes
     * do not back costs nothing (docs/encoding.md, "Block"). */
    size_t cap = 0, first = r.pos;
    for (size_t i = 0; i < cnt; i++) {
        const uint8_t *tp;
        size_t tn;
        chain_tx tx;
        if (util_rd_lenbytes(&r, &tp, &tn, CHAIN_TX_MAX_SIZE)) {
            rc =
                util_err_set(err, UTIL_EINVAL, "block: tx %zu: %s at byte %zu", i, r.err, r.err_at);
            goto fail;
        }
        rc = chain_tx_decode(&tx, tp, tn, err);
        if (rc) {
            util_err_prefix(err, "block: tx %zu: ", i);
            goto fail;
        }
        if (i == cap) {
            size_t ncap = txs_cap(i + 1, r.pos - first, util_rd_left(&r), cnt);
            chain_tx *t = realloc(b->txs, ncap * sizeof *t);
            if (!t) {
                chain_tx_free(&tx);
                rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
                goto fail;
            }
            b->txs = t;
            cap = ncap;
        }
        b->txs[i] = tx; /* moves ownership of the body into the array */
        b->ntx = i + 1;
    }
    if (util_rd_varint(&r, &cnt, UINT64_MAX)) {
        rc = rd_error(&r, 0, "block", err);
        goto fail;
    }
    if (cnt > CHAIN_BLOCK_MAX_EVIDENCE) {
        rc = util_err_set(err, UTIL_ELIMIT, "block has %llu evidence items, at most %d",
                          (unsigned long long)cnt, CHAIN_BLOCK_MAX_EVIDENCE);
        goto fail;
    }
    for (size_t i = 0; i < cnt; i++) {
        const uint8_t *ep;
        if (util_rd_bytes(&r, &ep, CHAIN_EVIDENCE_LEN)) {
            rc = util_err_set(err, UTIL_EINVAL, "block: evidence %zu: %s at byte %zu", i, r.err,
                              r.err_at);
            goto fail;
        }
        chain_evidence_decode(&b->ev[i], ep);
        b->nev = i + 1;
    }
    if (util_rd_end(&r)) {
        rc = rd_error(&r, 0, "block", err);
        goto fail;
    }
    return 0;
fail:
    chain_block_free(b); /* the ntx decoded ones */
    return rc;
}

/* ---- receipts ---- */

static size_t receipt_ret_n(const chain_receipt *r)
{
    return r->ret ? r->ret_len : 0;
}

static size_t receipt_revert_n(const chain_receipt *r)
{
    return r->revert ? r->revert_len : 0;
}

static size_t receipt_nevents(const chain_receipt *r)
{
    return r->events ? r->nevents : 0;
}

static size_t event_data_n(const chain_event *e)
{
    return e->data ? e->len : 0;
}

/* Exact length of receipt_write's output. NULL arrays count as empty, so the
 * writer never dereferences one. */
static size_t receipt_len(const chain_receipt *r)
{
    size_t rn = receipt_ret_n(r), vn = receipt_revert_n(r), ne = receipt_nevents(r);
    size_t n = 1 + 1 + 8 + 8 + CHAIN_ADDR_LEN + util_varint_len(rn) + rn + util_varint_len(vn) +
               vn + util_varint_len(ne);
    for (size_t i = 0; i < ne; i++) {
        size_t dn = event_data_n(&r->events[i]);
        n += CHAIN_ADDR_LEN + 32 + util_varint_len(dn) + dn;
    }
    return n;
}

/* The one serializer: chain_receipt_encode and chain_receipt_hash both use
 * it, so the hash covers exactly the encoded bytes, and never the message. */
static void receipt_write(const chain_receipt *r, uint8_t *p)
{
    size_t rn = receipt_ret_n(r), vn = receipt_revert_n(r), ne = receipt_nevents(r), k = 0;
    p[k++] = r->status;
    p[k++] = r->code;
    util_put_u64le(p + k, r->gas_used);
    k += 8;
    util_put_u64le(p + k, r->fee);
    k += 8;
    memcpy(p + k, r->created.b, CHAIN_ADDR_LEN);
    k += CHAIN_ADDR_LEN;
    k += util_varint_put(p + k, rn);
    if (rn) memcpy(p + k, r->ret, rn);
    k += rn;
    k += util_varint_put(p + k, vn);
    if (vn) memcpy(p + k, r->revert, vn);
    k += vn;
    k += util_varint_put(p + k, ne);
    for (size_t i = 0; i < ne; i++) {
        const chain_event *e = &r->events[i];
        size_t dn = event_data_n(e);
        memcpy(p + k, e->emitter.b, CHAIN_ADDR_LEN);
        k += CHAIN_ADDR_LEN;
        memcpy(p + k, e->topic, 32);
        k += 32;
        k += util_varint_put(p + k, dn);
        if (dn) memcpy(p + k, e->data, dn);
        k += dn;
    }
}

/* The status, code and revert rules, shared by the encoder and the decoder. */
static const char *receipt_rule_broken(uint8_t status, uint8_t code, size_t revert_n)
{
    if (status != CHAIN_RECEIPT_OK && status != CHAIN_RECEIPT_FAILED) return "unknown status";
    if (code >= CHAIN_FAIL_COUNT) return "unknown failure code";
    if ((status == CHAIN_RECEIPT_OK) != (code == CHAIN_FAIL_NONE))
        return "failure code does not match the status";
    if (revert_n && code != CHAIN_FAIL_REVERTED) return "revert data without a revert";
    return NULL;
}

static int receipt_within_limits(const chain_receipt *r)
{
    if (receipt_ret_n(r) > CHAIN_RETURN_MAX || receipt_revert_n(r) > CHAIN_REVERT_MAX ||
        receipt_nevents(r) > CHAIN_RECEIPT_MAX_EVENTS ||
        receipt_rule_broken(r->status, r->code, receipt_revert_n(r)))
        return 0;
    for (size_t i = 0; i < receipt_nevents(r); i++)
        if (event_data_n(&r->events[i]) > CHAIN_EVENT_DATA_MAX) return 0;
    return 1;
}

int chain_receipt_encode(const chain_receipt *r, util_buf *out)
{
    /* Only a bug can build such a receipt (chain_receipt_add_event enforces
     * the limits); refusing keeps every stored receipt decodable. */
    if (!receipt_within_limits(r)) return UTIL_EINVAL;
    size_t n = receipt_len(r);
    if (util_buf_reserve(out, n)) return UTIL_ENOMEM;
    receipt_write(r, out->data + out->len);
    out->len += n;
    return 0;
}

static int message_ok(const chain_receipt *r, size_t n)
{
    return n <= CHAIN_RECEIPT_ERR_MAX && (r->status != CHAIN_RECEIPT_OK || n == 0) &&
           chain_utf8_valid((const uint8_t *)r->error, n);
}

int chain_receipt_encode_stored(const chain_receipt *r, util_buf *out)
{
    size_t mn = strnlen(r->error, CHAIN_RECEIPT_ERR_MAX + 1);
    if (!message_ok(r, mn)) return UTIL_EINVAL;
    int rc = chain_receipt_encode(r, out);
    if (rc) return rc;
    util_buf_lenbytes(out, r->error, mn);
    return out->oom ? UTIL_ENOMEM : 0;
}

void chain_receipt_free(chain_receipt *r)
{
    if (!r) return;
    for (uint32_t i = 0; r->events && i < r->nevents; i++)
        free(r->events[i].data);
    free(r->events);
    free(r->ret);
    free(r->revert);
    r->events = NULL;
    r->nevents = 0;
    r->ret = NULL;
    r->ret_len = 0;
    r->revert = NULL;
    r->revert_len = 0;
}

void chain_receipt_fail(chain_receipt *r, const char *msg)
{
    uint8_t *revert = r->revert;
    uint32_t revert_len = revert ? r->revert_len : 0;
    r->revert = NULL;
    chain_receipt_free(r);
    memset(r->created.b, 0, CHAIN_ADDR_LEN);
    r->status = CHAIN_RECEIPT_FAILED;
    r->code = chain_fail_from_msg(msg);
    chain_utf8_sanitize(r->error, sizeof r->error, (const uint8_t *)msg, strlen(msg));
    if (r->code == CHAIN_FAIL_REVERTED && revert_len) {
        r->revert = revert;
        r->revert_len = revert_len;
    } else {
        free(revert);
    }
}

int chain_receipt_add_event(chain_receipt *r, const chain_addr *emitter, const uint8_t topic[32],
                            const uint8_t *data, size_t len)
{
    if (r->nevents >= CHAIN_RECEIPT_MAX_EVENTS || len > CHAIN_EVENT_DATA_MAX) return UTIL_ELIMIT;
    if (len && !data) return UTIL_EINVAL;
    uint8_t *d = NULL;
    if (len) {
        d = malloc(len);
        if (!d) return UTIL_ENOMEM;
        memcpy(d, data, len);
    }
    /* Grows by one: at most 1024 events, and most receipts have none. */
    chain_event *ev = realloc(r->events, ((size_t)r->nevents + 1) * sizeof *ev);
    if (!ev) {
        free(d);
        return UTIL_ENOMEM;
    }
    r->events = ev;
    chain_event *e = &ev[r->nevents++];
    memcpy(e->emitter.b, emitter->b, CHAIN_ADDR_LEN);
    memcpy(e->topic, topic, 32);
    e->len = (uint32_t)len;
    e->data = d;
    return 0;
}

/* Smallest event: emitter, topic and a zero data length. */
#define EVENT_MIN_SIZE (CHAIN_ADDR_LEN + 32 + 1)

/* Reads a length-prefixed byte string of at most max bytes into a malloc'd
 * copy (NULL when empty). */
static int read_owned(util_rd *r, const char *what, size_t max, uint8_t **out, uint32_t *len,
                      util_err *err)
{
    const uint8_t *p;
    uint64_t n;
    if (util_rd_varint(r, &n, UINT64_MAX)) return rd_error(r, 0, "receipt", err);
    if (n > max)
        return util_err_set(err, UTIL_EINVAL, "receipt: %s too large (%llu bytes, at most %zu)",
                            what, (unsigned long long)n, max);
    if (util_rd_bytes(r, &p, (size_t)n)) return rd_error(r, 0, "receipt", err);
    if (n) {
        if (!(*out = malloc((size_t)n))) return util_err_set(err, UTIL_ENOMEM, "out of memory");
        memcpy(*out, p, (size_t)n);
        *len = (uint32_t)n;
    }
    return 0;
}

static int read_receipt(chain_receipt *rc, util_rd *r, util_err *err)
{
    const uint8_t *p;
    uint64_t n;
    int code;
    if (util_rd_u8(r, &rc->status) || util_rd_u8(r, &rc->code) || util_rd_u64(r, &rc->gas_used) ||
        util_rd_u64(r, &rc->fee) || util_rd_copy(r, rc->created.b, CHAIN_ADDR_LEN))
        return rd_error(r, 0, "receipt", err);
    if ((code = read_owned(r, "return data", CHAIN_RETURN_MAX, &rc->ret, &rc->ret_len, err)) ||
        (code = read_owned(r, "revert data", CHAIN_REVERT_MAX, &rc->revert, &rc->revert_len, err)))
        return code;
    const char *broken = receipt_rule_broken(rc->status, rc->code, rc->revert_len);
    if (broken)
        return util_err_set(err, UTIL_EINVAL, "receipt: %s (status %u, code %u)", broken,
                            rc->status, rc->code);

    if (util_rd_varint(r, &n, UINT64_MAX)) return rd_error(r, 0, "receipt", err);
    if (n > CHAIN_RECEIPT_MAX_EVENTS)
        return util_err_set(err, UTIL_EINVAL, "receipt: %llu events, at most %d",
                            (unsigned long long)n, CHAIN_RECEIPT_MAX_EVENTS);
    if (n > util_rd_left(r) / EVENT_MIN_SIZE)
        return util_err_set(err, UTIL_EINVAL, "receipt: %llu events cannot fit in %zu bytes",
                            (unsigned long long)n, util_rd_left(r));
    if (n) {
        if (!(rc->events = calloc((size_t)n, sizeof *rc->events)))
            return util_err_set(err, UTIL_ENOMEM, "out of memory");
        /* calloc'd events are safe to free while only some are filled. */
        rc->nevents = (uint32_t)n;
    }
    for (uint32_t i = 0; i < rc->nevents; i++) {
        chain_event *ev = &rc->events[i];
        uint64_t dn;
        if (util_rd_copy(r, ev->emitter.b, CHAIN_ADDR_LEN) || util_rd_copy(r, ev->topic, 32) ||
            util_rd_varint(r, &dn, UINT64_MAX))
            return rd_error(r, 0, "receipt", err);
        if (dn > CHAIN_EVENT_DATA_MAX)
            return util_err_set(err, UTIL_EINVAL,
                                "receipt: event %u data too large (%llu bytes, at most %d)", i,
                                (unsigned long long)dn, CHAIN_EVENT_DATA_MAX);
        if (util_rd_bytes(r, &p, (size_t)dn)) return rd_error(r, 0, "receipt", err);
        if (dn) {
            if (!(ev->data = malloc((size_t)dn)))
                return util_err_set(err, UTIL_ENOMEM, "out of memory");
            memcpy(ev->data, p, (size_t)dn);
            ev->len = (uint32_t)dn;
        }
    }
    return 0;
}

/* The stored message: well-formed UTF-8, at most CHAIN_RECEIPT_ERR_MAX
 * bytes, empty on a successful receipt. */
static int read_message(chain_receipt *rc, util_rd *r, util_err *err)
{
    const uint8_t *m;
    size_t mn;
    if (util_rd_lenbytes(r, &m, &mn, CHAIN_RECEIPT_ERR_MAX))
        return rd_error(r, 0, "receipt message", err);
    memcpy(rc->error, m, mn);
    rc->error[mn] = 0;
    if (!message_ok(rc, mn))
        return util_err_set(err, UTIL_EINVAL,
                            "receipt: message is not UTF-8 or is on a successful receipt");
    return 0;
}

static int decode(chain_receipt *rc, const uint8_t *p, size_t n, int stored, util_err *err)
{
    util_rd r;
    memset(rc, 0, sizeof *rc);
    util_rd_init(&r, p, n);
    int code = read_receipt(rc, &r, err);
    if (!code && stored) code = read_message(rc, &r, err);
    if (!code && util_rd_end(&r)) code = rd_error(&r, 0, "receipt", err);
    if (code) {
        chain_receipt_free(rc);
        rc->error[0] = 0;
    }
    return code;
}

int chain_receipt_decode(chain_receipt *rc, const uint8_t *p, size_t n, util_err *err)
{
    return decode(rc, p, n, 0, err);
}

int chain_receipt_decode_stored(chain_receipt *rc, const uint8_t *p, size_t n, util_err *err)
{
    return decode(rc, p, n, 1, err);
}

void chain_receipt_hash(const chain_receipt *r, uint8_t out[32])
{
    /* Receipts without return data or events (most of them) fit on the
     * stack; the rest can reach about a megabyte. */
    uint8_t small[512];
    size_t n = receipt_len(r);
    uint8_t *p = n <= sizeof small ? small : malloc(n);
    /* No error path: the signature is void, and without the hash the block
     * cannot be built or checked. */
    if (!p) abort();
    receipt_write(r, p);
    chain_hash_tagged(out, CHAIN_TAG_RECEIPT, p, n);
    if (p != small) free(p);
}

typedef const uint8_t *(*leaf_fn)(const void *ctx, size_t i);

/* RFC 6962: the left subtree holds the largest power of two below n. */
static void merkle(leaf_fn get, const void *ctx, size_t lo, size_t n, uint8_t out[32])
{
    if (n == 1) {
        chain_hash_tagged(out, CHAIN_TAG_MERKLE_LEAF, get(ctx, lo), 32);
        return;
    }
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    uint8_t l[32], r[32];
    merkle(get, ctx, lo, k, l);
    merkle(get, ctx, lo + k, n - k, r);
    chain_hash_tagged2(out, CHAIN_TAG_MERKLE_NODE, l, 32, r, 32);
}

static const uint8_t *item_at(const void *ctx, size_t i)
{
    return ((const uint8_t(*)[32])ctx)[i];
}

static const uint8_t *txid_at(const void *ctx, size_t i)
{
    return ((const chain_tx *)ctx)[i].id;
}

void chain_merkle_root(const uint8_t (*items)[32], size_t n, uint8_t out[32])
{
    if (n == 0) {
        memset(out, 0, 32);
        return;
    }
    merkle(item_at, items, 0, n, out);
}

void chain_block_tx_root(const chain_block *b, uint8_t out[32])
{
    if (b->ntx == 0) {
        memset(out, 0, 32);
        return;
    }
    merkle(txid_at, b->txs, 0, b->ntx, out);
}

void chain_vote_digest(uint8_t out[32], const char *chain_id, const uint8_t genesis_hash[32],
                       uint64_t height, uint32_t round, uint8_t type, const uint8_t block_id[32])
{
    uint8_t buf[1 + CHAIN_ID_MAX + 32 + 8 + 4 + 1 + 32];
    size_t n = strnlen(chain_id, CHAIN_ID_MAX), k = 0;
    k += util_varint_put(buf, n); /* n <= 32: one byte */
    memcpy(buf + k, chain_id, n);
    k += n;
    memcpy(buf + k, genesis_hash, 32);
    k += 32;
    util_put_u64le(buf + k, height);
    k += 8;
    util_put_u32le(buf + k, round);
    k += 4;
    buf[k++] = type;
    memcpy(buf + k, block_id, 32);
    k += 32;
    chain_hash_tagged(out, CHAIN_TAG_VOTE, buf, k);
}
