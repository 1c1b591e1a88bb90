/* The block executor (chain/exec/blockexec.h). The rules, in the order validate
 * checks them, are docs/blocks.md; keep the two in step. */
#include "chain/exec/blockexec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/bridge.h"
#include "chain/exec/exec_ctx.h"
#include "chain/exec/exec_internal.h"
#include "chain/state/dbkey.h"
#include "chain/state/state.h"
#include "util/hex.h"

static const char *const TOKENS[CHAIN_BLOCK_REASON_COUNT] = {
    [CHAIN_BLOCK_OK] = "ok",
    [CHAIN_BLOCK_MALFORMED] = "malformed",
    [CHAIN_BLOCK_BAD_VERSION] = "bad_version",
    [CHAIN_BLOCK_WRONG_CHAIN] = "wrong_chain",
    [CHAIN_BLOCK_WRONG_HEIGHT] = "wrong_height",
    [CHAIN_BLOCK_WRONG_PARENT] = "wrong_parent",
    [CHAIN_BLOCK_TIME_NOT_AFTER_PARENT] = "time_not_after_parent",
    [CHAIN_BLOCK_TIME_TOO_FAR_AHEAD] = "time_too_far_ahead",
    [CHAIN_BLOCK_UNKNOWN_PROPOSER] = "unknown_proposer",
    [CHAIN_BLOCK_WRONG_VALIDATORS_HASH] = "wrong_validators_hash",
    [CHAIN_BLOCK_WRONG_NEXT_VALIDATORS_HASH] = "wrong_next_validators_hash",
    [CHAIN_BLOCK_WRONG_CONSENSUS_PARAMS_HASH] = "wrong_consensus_params_hash",
    [CHAIN_BLOCK_BAD_LAST_COMMIT] = "bad_last_commit",
    [CHAIN_BLOCK_TOO_LARGE] = "block_too_large",
    [CHAIN_BLOCK_TX_TOO_LARGE] = "tx_too_large",
    [CHAIN_BLOCK_TX_GAS_TOO_HIGH] = "tx_gas_above_block_limit",
    [CHAIN_BLOCK_GAS_EXCEEDED] = "block_gas_exceeded",
    [CHAIN_BLOCK_DUPLICATE_TX] = "duplicate_tx",
    [CHAIN_BLOCK_WRONG_TX_ROOT] = "wrong_tx_root",
    [CHAIN_BLOCK_INVALID_TX] = "invalid_tx",
    [CHAIN_BLOCK_WRONG_STATE_ROOT] = "wrong_state_root",
    [CHAIN_BLOCK_WRONG_RECEIPTS_ROOT] = "wrong_receipts_root",
    [CHAIN_BLOCK_BAD_COMMIT] = "bad_commit",
    [CHAIN_BLOCK_TOO_MUCH_EVIDENCE] = "too_much_evidence",
    [CHAIN_BLOCK_WRONG_EVIDENCE_HASH] = "wrong_evidence_hash",
    [CHAIN_BLOCK_EVIDENCE_VOTES_DIFFER] = "evidence_votes_differ",
    [CHAIN_BLOCK_EVIDENCE_NOT_CONFLICTING] = "evidence_not_conflicting",
    [CHAIN_BLOCK_EVIDENCE_NOT_CANONICAL] = "evidence_not_canonical",
    [CHAIN_BLOCK_EVIDENCE_UNKNOWN_VALIDATOR] = "evidence_unknown_validator",
    [CHAIN_BLOCK_EVIDENCE_BAD_HEIGHT] = "evidence_bad_height",
    [CHAIN_BLOCK_EVIDENCE_TOO_OLD] = "evidence_too_old",
    [CHAIN_BLOCK_DUPLICATE_EVIDENCE] = "duplicate_evidence",
    [CHAIN_BLOCK_EVIDENCE_ALREADY_INCLUDED] = "evidence_already_included",
    [CHAIN_BLOCK_EVIDENCE_BAD_SIGNATURE] = "evidence_bad_signature",
    [CHAIN_BLOCK_DEPOSIT_OUT_OF_PLACE] = "deposit_out_of_place",
    [CHAIN_BLOCK_TOO_MANY_DEPOSITS] = "too_many_deposits",
    [CHAIN_BLOCK_DEPOSIT_WRONG_NONCE] = "deposit_wrong_nonce",
    [CHAIN_BLOCK_DEPOSIT_L1_BLOCK_BACKWARDS] = "deposit_l1_block_backwards",
};

const char *chain_block_reason_token(int reason)
{
    if (reason < 0 || reason >= CHAIN_BLOCK_REASON_COUNT) return "unknown";
    return TOKENS[reason];
}

/* Sets *reason and a message that starts with the reason's token, so a log
 * line or an RPC error names the rule without a lookup. */
#define REFUSE(reason_out, r, err, ...)                                                            \
    (*(reason_out) = (r), util_err_set((err), UTIL_EINVAL, __VA_ARGS__),                           \
     util_err_prefix((err), "%s: ", TOKENS[r]), UTIL_EINVAL)

void chain_block_result_free(chain_block_result *res)
{
    if (!res) return;
    for (size_t i = 0; i < res->n; i++)
        chain_receipt_free(&res->rs[i]);
    free(res->rs);
    chain_exec_free(res->ex);
    memset(res, 0, sizeof *res);
}

static int receipts_root(const chain_receipt *rs, size_t n, uint8_t out[32], util_err *err)
{
    uint8_t(*h)[32] = malloc((n ? n : 1) * 32);
    if (!h) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        chain_receipt_hash(&rs[i], h[i]);
    chain_merkle_root((const uint8_t(*)[32])h, n, out);
    free(h);
    return 0;
}

static const chain_validator *find_validator(const chain_genesis *g, const chain_addr *a)
{
    for (size_t i = 0; i < g->nval; i++)
        if (memcmp(g->vals[i].addr.b, a->b, CHAIN_ADDR_LEN) == 0) return &g->vals[i];
    return NULL;
}

int chain_blockexec_verify_commit(const chain_genesis *g, uint64_t height, const uint8_t id[32],
                                  const chain_commit *c, util_err *err)
{
    if (c->n > CHAIN_MAX_VALIDATORS)
        return util_err_set(err, UTIL_EINVAL, "commit has %u signatures", c->n);
    uint64_t total = 0, signed_power = 0;
    for (size_t i = 0; i < g->nval; i++)
        total += g->vals[i].power; /* the genesis parser checked the sum fits */
    uint8_t digest[32];
    chain_vote_digest(digest, g->chain_id, g->hash, height, c->round, CHAIN_VOTE_PRECOMMIT, id);
    for (uint32_t i = 0; i < c->n; i++) {
        uint32_t v = c->sigs[i].validator;
        if (v >= g->nval)
            return util_err_set(err, UTIL_EINVAL, "commit signature %u names validator %u of %zu",
                                i, v, g->nval);
        /* Decoded commits have strictly increasing indexes; a struct built
         * in memory might not, and a repeated validator must not count twice. */
        if (i > 0 && v <= c->sigs[i - 1].validator)
            return util_err_set(err, UTIL_EINVAL, "commit validator indexes not increasing");
        if (!chain_verify(c->sigs[i].sig, digest, g->vals[v].pubkey))
            return util_err_set(err, UTIL_EINVAL,
                                "commit signature of validator %u (%s) does not verify", v,
                                g->vals[v].name);
        signed_power += g->vals[v].power;
    }
    /* More than 2/3 without dividing: 3 * signed > 2 * total, in 128 bits. */
    if ((unsigned __int128)signed_power * 3 <= (unsigned __int128)total * 2)
        return util_err_set(err, UTIL_EINVAL,
                            "commit has %llu of %llu voting power, more than 2/3 is needed",
                            (unsigned long long)signed_power, (unsigned long long)total);
    return 0;
}

/* Header rules against the parent and the clock: cheap, no signatures. */
static int check_header(const chain_blockexec *bx, const chain_block *b, uint64_t now_ms,
                        int *reason, util_err *err)
{
    const chain_genesis *g = bx->g;
    const chain_header *h = &b->h;
    const chain_header *parent = chain_store_head_header(bx->st);
    uint8_t head_id[32];
    chain_store_head_id(bx->st, head_id);

    if (h->version != CHAIN_BLOCK_VERSION)
        return REFUSE(reason, CHAIN_BLOCK_BAD_VERSION, err, "version %u, this node knows %u",
                      h->version, (unsigned)CHAIN_BLOCK_VERSION);
    if (strcmp(h->chain_id, g->chain_id) != 0)
        return REFUSE(reason, CHAIN_BLOCK_WRONG_CHAIN, err, "block is for '%s', this is '%s'",
                      h->chain_id, g->chain_id);
    if (h->height != parent->height + 1)
        return REFUSE(reason, CHAIN_BLOCK_WRONG_HEIGHT, err, "height %llu does not follow %llu",
                      (unsigned long long)h->height, (unsigned long long)parent->height);
    if (memcmp(h->parent, head_id, 32) != 0) {
        char want[65], got[65];
        util_hex_encode(want, head_id, 32);
        util_hex_encode(got, h->parent, 32);
        return REFUSE(reason, CHAIN_BLOCK_WRONG_PARENT, err,
                      "parent 0x%.16s..., head is 0x%.16s...", got, want);
    }
    if (h->time_ms <= parent->time_ms)
        return REFUSE(reason, CHAIN_BLOCK_TIME_NOT_AFTER_PARENT, err,
                      "time %llu ms is not after the parent's %llu ms",
                      (unsigned long long)h->time_ms, (unsigned long long)parent->time_ms);
    /* Saturating: a clock near 2^64 cannot wrap the bound into the past. */
    uint64_t drift = g->params.max_clock_drift_ms;
    uint64_t latest = now_ms > UINT64_MAX - drift ? UINT64_MAX : now_ms + drift;
    if (h->time_ms > latest)
        return REFUSE(reason, CHAIN_BLOCK_TIME_TOO_FAR_AHEAD, err,
                      "time %llu ms is more than %llu ms past this validator's clock (%llu ms)",
                      (unsigned long long)h->time_ms, (unsigned long long)drift,
                      (unsigned long long)now_ms);
    if (!find_validator(g, &h->proposer)) {
        char a[CHAIN_ADDR_STR_LEN + 1];
        chain_addr_encode(a, &h->proposer);
        return REFUSE(reason, CHAIN_BLOCK_UNKNOWN_PROPOSER, err,
                      "proposer %s is not in the validator set", a);
    }
    if (memcmp(h->validators_hash, g->validators_hash, 32) != 0)
        return REFUSE(reason, CHAIN_BLOCK_WRONG_VALIDATORS_HASH, err,
                      "the header's validator set hash is not the genesis set's");
    /* The set never changes yet, so the next block's signers are this
     * block's: a header that announces another set would send a light
     * client after validators the chain does not have. */
    if (memcmp(h->next_validators_hash, g->validators_hash, 32) != 0)
        return REFUSE(reason, CHAIN_BLOCK_WRONG_NEXT_VALIDATORS_HASH, err,
                      "the header's next validator set hash is not the genesis set's (the set "
                      "does not change)");
    if (memcmp(h->consensus_params_hash, g->params_hash, 32) != 0)
        return REFUSE(reason, CHAIN_BLOCK_WRONG_CONSENSUS_PARAMS_HASH, err,
                      "the header's consensus parameters hash is not the genesis parameters'");
    return 0;
}

/* The commit of the parent that the header carries. Block 1's parent is
 * block 0, which no one votes on: its commit must be empty. */
static int check_last_commit(const chain_blockexec *bx, const chain_block *b, int *reason,
                             util_err *err)
{
    const chain_commit *c = &b->h.last_commit;
    if (b->h.height == 1) {
        if (c->n != 0 || c->round != 0)
            return REFUSE(reason, CHAIN_BLOCK_BAD_LAST_COMMIT, err,
                          "block 1 must carry an empty commit (block 0 is not voted on)");
        return 0;
    }
    util_err e = {0};
    if (chain_blockexec_verify_commit(bx->g, b->h.height - 1, b->h.parent, c, &e))
        return REFUSE(reason, CHAIN_BLOCK_BAD_LAST_COMMIT, err, "%s", e.msg);
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* Size, gas and uniqueness of the body, before anything executes. */
static int check_body(const chain_blockexec *bx, const chain_block *b, int *reason, util_err *err)
{
    const chain_params *p = &bx->g->params;
    util_buf hb;
    util_buf_init(&hb);
    if (chain_header_encode(&b->h, &hb)) {
        util_buf_free(&hb);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    /* The evidence count past its limit is refused later (too_much_evidence);
     * clamped here so the sum cannot wrap. */
    uint64_t nev = b->nev <= CHAIN_BLOCK_MAX_EVIDENCE ? b->nev : CHAIN_BLOCK_MAX_EVIDENCE + 1;
    uint64_t size =
                 hb.len + util_varint_len(b->ntx) + util_varint_len(nev) + nev * CHAIN_EVIDENCE_LEN,
             gas = 0;
    util_buf_free(&hb);
    for (size_t i = 0; i < b->ntx; i++) {
        const chain_tx *tx = &b->txs[i];
        size_t tl = chain_tx_encoded_len(tx);
        if (tl > p->tx_max_bytes)
            return REFUSE(reason, CHAIN_BLOCK_TX_TOO_LARGE, err,
                          "tx %zu is %zu bytes, at most %llu", i, tl,
                          (unsigned long long)p->tx_max_bytes);
        if (tx->gas_limit > p->block_gas_limit)
            return REFUSE(reason, CHAIN_BLOCK_TX_GAS_TOO_HIGH, err,
                          "tx %zu has gas limit %llu, the block gas limit is %llu", i,
                          (unsigned long long)tx->gas_limit,
                          (unsigned long long)p->block_gas_limit);
        size += util_varint_len(tl) + tl;
        gas += tx->gas_limit; /* each <= block gas limit: no overflow within 100000 txs */
    }
    if (size > p->block_max_bytes)
        return REFUSE(reason, CHAIN_BLOCK_TOO_LARGE, err, "block is %llu bytes, at most %llu",
                      (unsigned long long)size, (unsigned long long)p->block_max_bytes);
    if (gas > p->block_gas_limit)
        return REFUSE(reason, CHAIN_BLOCK_GAS_EXCEEDED, err,
                      "gas limits add up to %llu, the block gas limit is %llu",
                      (unsigned long long)gas, (unsigned long long)p->block_gas_limit);
    if (b->ntx > 1) {
        uint8_t(*ids)[32] = malloc(b->ntx * 32);
        if (!ids) return util_err_set(err, UTIL_ENOMEM, "out of memory");
        for (size_t i = 0; i < b->ntx; i++)
            memcpy(ids[i], b->txs[i].id, 32);
        qsort(ids, b->ntx, 32, cmp_id);
        int dup = 0;
        for (size_t i = 1; i < b->ntx && !dup; i++)
            dup = memcmp(ids[i - 1], ids[i], 32) == 0;
        free(ids);
        if (dup)
            return REFUSE(reason, CHAIN_BLOCK_DUPLICATE_TX, err,
                          "a transaction appears twice in the block");
    }
    uint8_t root[32];
    chain_block_tx_root(b, root);
    if (memcmp(root, b->h.tx_root, 32) != 0)
        return REFUSE(reason, CHAIN_BLOCK_WRONG_TX_ROOT, err,
                      "the header's tx root is not the root of the block's transactions");
    return 0;
}

/* The rules of one evidence item that need no signature and no store, for a
 * block at height h. */
static int evidence_rules(const chain_genesis *g, uint64_t h, const chain_evidence *e, size_t i,
                          int *reason, util_err *err)
{
    const chain_vote *a = &e->a, *b = &e->b;
    if (a->type != b->type || a->height != b->height || a->round != b->round ||
        a->validator != b->validator ||
        (a->type != CHAIN_VOTE_PREVOTE && a->type != CHAIN_VOTE_PRECOMMIT))
        return REFUSE(reason, CHAIN_BLOCK_EVIDENCE_VOTES_DIFFER, err,
                      "evidence %zu: the votes are not two prevotes or two precommits of one "
                      "validator at one height and round",
                      i);
    int c = memcmp(a->block_id, b->block_id, 32);
    if (c == 0)
        return REFUSE(reason, CHAIN_BLOCK_EVIDENCE_NOT_CONFLICTING, err,
                      "evidence %zu: both votes are for the same block", i);
    if (c > 0)
        return REFUSE(reason, CHAIN_BLOCK_EVIDENCE_NOT_CANONICAL, err,
                      "evidence %zu: the first vote's block id is not below the second's", i);
    /* The set never changes yet: the genesis set is the set of every height. */
    if (a->validator >= g->nval)
        return REFUSE(reason, CHAIN_BLOCK_EVIDENCE_UNKNOWN_VALIDATOR, err,
                      "evidence %zu: validator %u, the set has %zu", i, a->validator, g->nval);
    if (a->height == 0 || a->height >= h)
        return REFUSE(reason, CHAIN_BLOCK_EVIDENCE_BAD_HEIGHT, err,
                      "evidence %zu: votes at height %llu, the block is at %llu", i,
                      (unsigned long long)a->height, (unsigned long long)h);
    if (h - a->height > CHAIN_EVIDENCE_MAX_AGE)
        return REFUSE(reason, CHAIN_BLOCK_EVIDENCE_TOO_OLD, err,
                      "evidence %zu: votes at height %llu, more than %d below the block's %llu", i,
                      (unsigned long long)a->height, CHAIN_EVIDENCE_MAX_AGE, (unsigned long long)h);
    return 0;
}

static int same_offence(const chain_evidence *x, const chain_evidence *y)
{
    return x->a.height == y->a.height && x->a.round == y->a.round && x->a.type == y->a.type &&
           x->a.validator == y->a.validator;
}

/* Both votes verify against the validator's key (the vote digest, bound to
 * the genesis, as in commits). The caller checked the validator index. */
static int evidence_sigs_ok(const chain_genesis *g, const chain_evidence *e)
{
    const chain_vote *v[2] = {&e->a, &e->b};
    for (int k = 0; k < 2; k++) {
        uint8_t d[32];
        chain_vote_digest(d, g->chain_id, g->hash, v[k]->height, v[k]->round, v[k]->type,
                          v[k]->block_id);
        if (!chain_verify(v[k]->sig, d, g->vals[v[k]->validator].pubkey)) return 0;
    }
    return 1;
}

/* 0 when no committed block included the same double vote, UTIL_EEXIST (and
 * *at) when one did, another code on a storage failure. */
static int evidence_seen(chain_store *st, const chain_evidence *e, uint64_t *at, util_err *err)
{
    util_err e2 = {0};
    int rc = chain_store_evidence_included(st, e, at, &e2);
    if (rc == UTIL_ENOTFOUND) return 0;
    if (rc == 0) return UTIL_EEXIST;
    return util_err_set(err, rc, "reading the evidence records: %s", e2.msg);
}

/* The evidence the body carries: cheap rules of every item first, then the
 * store, then the signatures. */
static int check_evidence(const chain_blockexec *bx, const chain_block *b, int *reason,
                          util_err *err)
{
    if (b->nev > CHAIN_BLOCK_MAX_EVIDENCE)
        return REFUSE(reason, CHAIN_BLOCK_TOO_MUCH_EVIDENCE, err, "%zu evidence items, at most %d",
                      b->nev, CHAIN_BLOCK_MAX_EVIDENCE);
    uint8_t root[32];
    chain_block_evidence_hash(b, root);
    if (memcmp(root, b->h.evidence_hash, 32) != 0)
        return REFUSE(reason, CHAIN_BLOCK_WRONG_EVIDENCE_HASH, err,
                      "the header's evidence hash is not the root of the block's evidence");
    int rc;
    for (size_t i = 0; i < b->nev; i++)
        if ((rc = evidence_rules(bx->g, b->h.height, &b->ev[i], i, reason, err))) return rc;
    for (size_t i = 0; i < b->nev; i++)
        for (size_t j = 0; j < i; j++)
            if (same_offence(&b->ev[i], &b->ev[j]))
                return REFUSE(reason, CHAIN_BLOCK_DUPLICATE_EVIDENCE, err,
                              "evidence %zu and %zu prove the same double vote", j, i);
    for (size_t i = 0; i < b->nev; i++) {
        uint64_t at = 0;
        rc = evidence_seen(bx->st, &b->ev[i], &at, err);
        if (rc == UTIL_EEXIST)
            return REFUSE(reason, CHAIN_BLOCK_EVIDENCE_ALREADY_INCLUDED, err,
                          "evidence %zu: block %llu already included this double vote", i,
                          (unsigned long long)at);
        if (rc) return rc;
    }
    for (size_t i = 0; i < b->nev; i++)
        if (!evidence_sigs_ok(bx->g, &b->ev[i]))
            return REFUSE(reason, CHAIN_BLOCK_EVIDENCE_BAD_SIGNATURE, err,
                          "evidence %zu: a vote's signature by validator %u (%s) does not verify",
                          i, b->ev[i].a.validator, bx->g->vals[b->ev[i].a.validator].name);
    return 0;
}

/* The bridge's block rules, from the committed state alone: DEPOSITs first,
 * at most CHAIN_BLOCK_MAX_DEPOSITS, nonces consecutive from the state's next
 * deposit, L1 block numbers never going down. */
static int check_deposits(const chain_blockexec *bx, const chain_block *b, int *reason,
                          util_err *err)
{
    size_t ndep = 0;
    for (size_t i = 0; i < b->ntx; i++) {
        if (b->txs[i].type != CHAIN_TX_DEPOSIT) continue;
        if (i != ndep)
            return REFUSE(reason, CHAIN_BLOCK_DEPOSIT_OUT_OF_PLACE, err,
                          "tx %zu is a deposit after a transaction of another type", i);
        ndep++;
    }
    if (ndep > CHAIN_BLOCK_MAX_DEPOSITS)
        return REFUSE(reason, CHAIN_BLOCK_TOO_MANY_DEPOSITS, err, "%zu deposits, at most %d", ndep,
                      CHAIN_BLOCK_MAX_DEPOSITS);
    if (ndep == 0) return 0;
    chain_bridge_state s;
    int rc = chain_bridge_get(bx->st, &s, err);
    if (rc) return rc;
    uint64_t l1 = s.last_deposit_l1_block;
    for (size_t i = 0; i < ndep; i++) {
        const chain_tx *tx = &b->txs[i];
        if (tx->nonce != s.next_deposit + i)
            return REFUSE(reason, CHAIN_BLOCK_DEPOSIT_WRONG_NONCE, err,
                          "deposit %zu has nonce %llu, want %llu", i, (unsigned long long)tx->nonce,
                          (unsigned long long)(s.next_deposit + i));
        if (tx->body.deposit.l1_block < l1)
            return REFUSE(reason, CHAIN_BLOCK_DEPOSIT_L1_BLOCK_BACKWARDS, err,
                          "deposit %zu is from L1 block %llu, below %llu", i,
                          (unsigned long long)tx->body.deposit.l1_block, (unsigned long long)l1);
        l1 = tx->body.deposit.l1_block;
    }
    return 0;
}

/* One transaction of a block: a DEPOSIT through the bridge, any other type
 * through the signed envelope. */
static int apply_one(chain_exec *ex, chain_tx *tx, chain_receipt *r, util_err *err)
{
    if (tx->type == CHAIN_TX_DEPOSIT) return chain_bridge_apply_deposit(ex, tx, r, err);
    return chain_exec_apply_tx(ex, tx, r, err);
}

/* The block's own checks after its transactions ran: supply conserved, and
 * (for the block to be committed, index_root) the withdrawals root after it
 * in index CHAIN_IX_WROOT. Finishes ex (root filled). */
static int finish_block(chain_exec *ex, int index_root, uint8_t root[32], util_err *err)
{
    int rc = chain_bridge_check_block_supply(ex, err);
    if (!rc) rc = chain_exec_finish(ex, root, err);
    if (rc || !index_root) return rc;
    uint8_t bk[1], ik[CHAIN_IXKEY_ID_LEN], wroot[32] = {0};
    const uint8_t *v;
    size_t vl;
    rc = chain_exec_get(ex, bk, chain_key_bridge(bk), &v, &vl, err);
    if (rc == 0 && vl == CHAIN_BRIDGE_ENTRY_LEN)
        memcpy(wroot, v + CHAIN_BRIDGE_WROOT_OFF, 32);
    else if (rc == 0)
        return util_err_set(err, UTIL_EIO, "corrupt bridge entry");
    else if (rc != UTIL_ENOTFOUND)
        return rc;
    util_err_clear(err);
    /* An index write leaves the state root as it is. */
    return chain_exec_index_put(
        ex, ik, chain_ixkey_bridge_id(ik, CHAIN_IX_WROOT, chain_exec_context(ex)->height), wroot,
        32, err);
}

/* h is the header of the block after the head: validate checked its height
 * and parent, propose built it so. */
static chain_exec *new_exec(const chain_blockexec *bx, const chain_header *h)
{
    chain_exec_ctx ctx =
        chain_exec_ctx_next(bx->g, chain_store_head_header(bx->st), h->time_ms, &h->proposer);
    return chain_exec_new(bx->st, &ctx);
}

int chain_blockexec_validate(const chain_blockexec *bx, chain_block *b, uint64_t now_ms,
                             chain_block_result *res, int *reason, util_err *err)
{
    memset(res, 0, sizeof *res);
    *reason = CHAIN_BLOCK_OK;
    int rc;
    if ((rc = check_header(bx, b, now_ms, reason, err))) return rc;
    if ((rc = check_last_commit(bx, b, reason, err))) return rc;
    if ((rc = check_body(bx, b, reason, err))) return rc;
    if ((rc = check_evidence(bx, b, reason, err))) return rc;
    if ((rc = check_deposits(bx, b, reason, err))) return rc;

    res->ex = new_exec(bx, &b->h);
    res->rs = calloc(b->ntx ? b->ntx : 1, sizeof *res->rs);
    if (!res->ex || !res->rs) {
        rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < b->ntx; i++) {
        util_err te = {0};
        rc = apply_one(res->ex, &b->txs[i], &res->rs[i], &te);
        if (rc == UTIL_EINVAL) {
            char hex[65];
            util_hex_encode(hex, b->txs[i].id, 32);
            rc = REFUSE(reason, CHAIN_BLOCK_INVALID_TX, err, "tx %zu (0x%.16s...): %s", i, hex,
                        te.msg);
            goto fail;
        }
        if (rc) {
            rc = util_err_set(err, rc, "executing tx %zu: %s", i, te.msg);
            goto fail;
        }
        res->n = i + 1;
        res->gas_used += res->rs[i].gas_used;
    }
    uint8_t root[32];
    if ((rc = finish_block(res->ex, 1, root, err))) goto fail;
    if (memcmp(root, b->h.state_root, 32) != 0) {
        rc = REFUSE(reason, CHAIN_BLOCK_WRONG_STATE_ROOT, err,
                    "executing the block gives another state root");
        goto fail;
    }
    if ((rc = receipts_root(res->rs, res->n, root, err))) goto fail;
    if (memcmp(root, b->h.receipts_root, 32) != 0) {
        rc = REFUSE(reason, CHAIN_BLOCK_WRONG_RECEIPTS_ROOT, err,
                    "executing the block gives another receipts root");
        goto fail;
    }
    chain_header_hash(&b->h, res->id);
    return 0;
fail:
    chain_block_result_free(res);
    return rc;
}

int chain_blockexec_apply(const chain_blockexec *bx, const chain_block *b,
                          const chain_block_result *res, const chain_commit *commit, int *reason,
                          util_err *err)
{
    *reason = CHAIN_BLOCK_OK;
    util_err e = {0};
    if (!res->ex || res->n != b->ntx)
        return util_err_set(err, UTIL_ESTATE, "apply needs the result of validate");
    if (chain_blockexec_verify_commit(bx->g, b->h.height, res->id, commit, &e))
        return REFUSE(reason, CHAIN_BLOCK_BAD_COMMIT, err, "%s", e.msg);
    /* The store re-checks height, parent and state root against its head, so
     * a result validated on another head cannot be committed. */
    int rc = chain_store_commit_block(bx->st, b, res->rs, res->ex, commit, err);
#ifdef OL_CHECK_SUPPLY
    /* The test build's full scan: the per-block rule sees only the changed
     * accounts, this every one. */
    if (!rc) rc = chain_supply_check(bx->st, bx->g, NULL, err);
#endif
    return rc;
}

/* Bytes the block's header and tx count take, with the commit it carries
 * (the evidence is added by the caller). */
static int header_bytes(const chain_header *h, uint64_t *n, util_err *err)
{
    util_buf hb;
    util_buf_init(&hb);
    int rc = chain_header_encode(h, &hb);
    *n = hb.len + util_varint_len(CHAIN_BLOCK_MAX_TXS);
    util_buf_free(&hb);
    return rc ? util_err_set(err, UTIL_ENOMEM, "out of memory") : 0;
}

/* Fills b->ev with the first items of evs that validate accepts, as many as
 * `room` bytes hold (with their count). */
static int pick_evidence(const chain_blockexec *bx, chain_block *b, const chain_evidence *evs,
                         size_t nev, uint64_t room, util_err *err)
{
    for (size_t i = 0; i < nev && b->nev < CHAIN_BLOCK_MAX_EVIDENCE &&
                       1 + (b->nev + 1) * (uint64_t)CHAIN_EVIDENCE_LEN <= room;
         i++) {
        const chain_evidence *e = &evs[i];
        int reason, dup = 0;
        util_err skip = {0};
        if (evidence_rules(bx->g, b->h.height, e, i, &reason, &skip)) continue;
        for (size_t j = 0; j < b->nev && !dup; j++)
            dup = same_offence(e, &b->ev[j]);
        if (dup) continue;
        uint64_t at;
        int rc = evidence_seen(bx->st, e, &at, err);
        if (rc == UTIL_EEXIST) continue;
        if (rc) return rc;
        if (!evidence_sigs_ok(bx->g, e)) continue;
        b->ev[b->nev++] = *e;
    }
    chain_block_evidence_hash(b, b->h.evidence_hash);
    return 0;
}

int chain_blockexec_propose(const chain_blockexec *bx, chain_mempool *mp,
                            const chain_addr *proposer, uint64_t now_ms, int allow_empty,
                            chain_block *out, int *built, util_err *err)
{
    return chain_blockexec_propose_x(bx, mp, NULL, proposer, now_ms, allow_empty, out, built, err);
}

int chain_blockexec_propose_ev(const chain_blockexec *bx, chain_mempool *mp,
                               const chain_evidence *evs, size_t nev, const chain_addr *proposer,
                               uint64_t now_ms, int allow_empty, chain_block *out, int *built,
                               util_err *err)
{
    chain_propose_extra x = {.evs = evs, .nev = nev};
    return chain_blockexec_propose_x(bx, mp, &x, proposer, now_ms, allow_empty, out, built, err);
}

/* How many of deps[0..n) (skipping those already minted) the next block
 * takes: the consecutive run from the state's next deposit whose L1 blocks
 * never go down, at most CHAIN_BLOCK_MAX_DEPOSITS, within `room` bytes.
 * *first is the index of the first one taken. */
static int pick_deposits(const chain_blockexec *bx, const chain_tx *deps, size_t n, uint64_t room,
                         size_t *first, size_t *count, uint64_t *bytes, util_err *err)
{
    *first = *count = 0;
    *bytes = 0;
    if (n == 0) return 0;
    chain_bridge_state s;
    int rc = chain_bridge_get(bx->st, &s, err);
    if (rc) return rc;
    size_t i = 0;
    while (i < n && deps[i].nonce < s.next_deposit)
        i++;
    *first = i;
    uint64_t l1 = s.last_deposit_l1_block;
    for (; i < n && *count < CHAIN_BLOCK_MAX_DEPOSITS; i++) {
        const chain_tx *d = &deps[i];
        uint64_t need = d->size + util_varint_len(d->size);
        if (d->type != CHAIN_TX_DEPOSIT || strcmp(d->chain_id, bx->g->chain_id) != 0 ||
            d->nonce != s.next_deposit + *count || d->body.deposit.l1_block < l1 ||
            *bytes + need > room)
            break;
        l1 = d->body.deposit.l1_block;
        *bytes += need;
        (*count)++;
    }
    return 0;
}

int chain_blockexec_propose_x(const chain_blockexec *bx, chain_mempool *mp,
                              const chain_propose_extra *x, const chain_addr *proposer,
                              uint64_t now_ms, int allow_empty, chain_block *out, int *built,
                              util_err *err)
{
    static const chain_propose_extra none;
    if (!x) x = &none;
    *built = 0;
    const chain_params *p = &bx->g->params;
    const chain_header *parent = chain_store_head_header(bx->st);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", bx->g->chain_id);
    b.h.height = parent->height + 1;
    chain_store_head_id(bx->st, b.h.parent);
    b.h.time_ms = now_ms > parent->time_ms ? now_ms : parent->time_ms + 1;
    b.h.proposer = *proposer;
    chain_header_fill_sets(&b.h, bx->g);
    if (parent->height > 0 && chain_store_get_commit(bx->st, parent->height, &b.h.last_commit, err))
        return util_err_prefix(err, "loading the parent's commit: ");
    uint64_t hdr;
    int rc = header_bytes(&b.h, &hdr, err);
    if (rc) return rc;
    /* Evidence first: it is rare and small, and a block that leaves it out
     * for transactions would let a busy chain forget a double vote. */
    if ((rc = pick_evidence(bx, &b, x->evs, x->nev,
                            p->block_max_bytes > hdr ? p->block_max_bytes - hdr : 0, err)))
        return rc;
    hdr += util_varint_len(b.nev) + (uint64_t)b.nev * CHAIN_EVIDENCE_LEN;
    uint64_t max_bytes = p->block_max_bytes > hdr ? p->block_max_bytes - hdr : 0;
    /* Deposits next, first among the transactions (a block rule): the L1
     * holds their tokens until they are minted. */
    size_t dfirst, ndep;
    uint64_t bytes;
    if ((rc = pick_deposits(bx, x->deposits, x->ndeposits, max_bytes, &dfirst, &ndep, &bytes, err)))
        return rc;

    size_t cap = chain_mempool_count(mp);
    const chain_tx **sel = malloc((cap ? cap : 1) * sizeof *sel);
    if (!sel) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    size_t nsel =
        chain_mempool_select(mp, p->block_gas_limit, (size_t)(max_bytes - bytes), sel, cap);
    if (nsel == 0 && b.nev == 0 && ndep == 0 && !allow_empty) {
        free(sel);
        return 0;
    }
    size_t ncap = nsel + ndep;
    b.txs = calloc(ncap ? ncap : 1, sizeof *b.txs);
    chain_receipt *rs = calloc(ncap ? ncap : 1, sizeof *rs);
    uint8_t(*bad)[32] = calloc(nsel ? nsel : 1, 32);
    size_t nbad = 0;
    chain_exec *ex = new_exec(bx, &b.h);
    if (!b.txs || !rs || !bad || !ex) {
        rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ndep; i++) {
        chain_tx *tx = &b.txs[b.ntx];
        if (chain_tx_copy(tx, &x->deposits[dfirst + i])) {
            rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
            goto out;
        }
        util_err te = {0};
        int arc = chain_bridge_apply_deposit(ex, tx, &rs[b.ntx], &te);
        if (arc) {
            chain_tx_free(tx);
            if (arc == UTIL_EINVAL) break; /* not includable (its envelope): nor the next ones */
            rc = util_err_set(err, arc, "applying deposit %llu: %s",
                              (unsigned long long)x->deposits[dfirst + i].nonce, te.msg);
            goto out;
        }
        b.ntx++;
    }
    for (size_t i = 0; i < nsel; i++) {
        /* The pool counts transaction sizes; the block also prefixes each with
         * its length. Stop at the first that does not fit: the rest stays in
         * the pool for the next block. */
        uint64_t need = sel[i]->size + util_varint_len(sel[i]->size);
        if (bytes + need > max_bytes) break;
        chain_tx *tx = &b.txs[b.ntx];
        if (chain_tx_copy(tx, sel[i])) {
            rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
            goto out;
        }
        util_err te = {0};
        int arc = chain_exec_apply_tx(ex, tx, &rs[b.ntx], &te);
        if (arc == UTIL_EINVAL) {
            /* Valid when admitted, not includable now (e.g. funds spent by an
             * earlier transaction): a pool matter, not a block rule. */
            memcpy(bad[nbad++], tx->id, 32);
            chain_tx_free(tx);
            continue;
        }
        if (arc) {
            chain_tx_free(tx);
            rc = util_err_set(err, arc, "executing a transaction: %s", te.msg);
            goto out;
        }
        bytes += need;
        b.ntx++;
    }
    free(sel);
    sel = NULL; /* borrowed pointers die with the pool changes below */
    for (size_t i = 0; i < nbad; i++) {
        if (chain_mempool_remove(mp, bad[i])) {
            /* UTIL_ENOTFOUND: already gone, which is all this loop wants. */
        }
    }
    if (b.ntx == 0 && b.nev == 0 && !allow_empty) goto out;
    if ((rc = finish_block(ex, 0, b.h.state_root, err))) goto out;
    if ((rc = receipts_root(rs, b.ntx, b.h.receipts_root, err))) goto out;
    chain_block_tx_root(&b, b.h.tx_root);
    *out = b;
    memset(&b, 0, sizeof b); /* ownership moved to *out */
    *built = 1;
out:
    free(sel);
    free(bad);
    if (rs)
        for (size_t i = 0; i < ncap; i++)
            chain_receipt_free(&rs[i]);
    free(rs);
    chain_exec_free(ex);
    chain_block_free(&b);
    return rc;
}
