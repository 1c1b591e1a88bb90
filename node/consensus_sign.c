/* The node's consensus wiring, its blocks and its signatures
 * (node/consensus_int.h): the blocks of the height in progress with their
 * validation results, and the one path every own proposal and vote takes:
 * WAL record (synced), signer state, key, broadcast, back to the engine. */
#include <stdlib.h>
#include <string.h>

#include "node/bridge.h"
#include "node/consensus_int.h"
#include "node/node_internal.h"
#include "node/p2p.h"
#include "util/log.h"

/* ---- blocks of the height ---- */

node_cons_blk *node_cons_blk_find(node_cons *c, const uint8_t id[32])
{
    for (size_t i = 0; i < NODE_CONS_BLOCKS; i++)
        if (c->blks[i].used && memcmp(c->blks[i].id, id, 32) == 0) return &c->blks[i];
    return NULL;
}

static void blk_release(node_cons_blk *k)
{
    if (!k->used) return;
    if (k->checked == 1) chain_block_result_free(&k->res);
    chain_block_free(&k->b);
    util_buf_free(&k->enc);
    memset(k, 0, sizeof *k);
}

void node_cons_blks_clear(node_cons *c)
{
    for (size_t i = 0; i < NODE_CONS_BLOCKS; i++)
        blk_release(&c->blks[i]);
}

/* Takes b (and its encoding) into the cache; the oldest entry makes room. */
node_cons_blk *node_cons_blk_add(node_cons *c, chain_block *b, const uint8_t id[32])
{
    node_cons_blk *k = node_cons_blk_find(c, id);
    if (k) {
        chain_block_free(b);
        return k;
    }
    k = &c->blks[c->blk_next++ % NODE_CONS_BLOCKS];
    blk_release(k);
    k->used = 1;
    memcpy(k->id, id, 32);
    k->b = *b;
    util_buf_init(&k->enc);
    if (chain_block_encode(&k->b, &k->enc) || k->enc.oom) util_buf_free(&k->enc);
    return k;
}

/* Signatures the pool verified at admission are not verified again: an
 * entry with the same id has the same bytes (the id hashes the whole
 * encoding, signature included), so validation reaches the same result.
 * Under load a validator's pool already holds most of a proposal (gossip),
 * and verifying is most of the cost of checking it. */
static void mark_pooled(node *n, chain_block *b)
{
    for (size_t i = 0; i < b->ntx; i++) {
        if (b->txs[i].sig_checked == 1) continue;
        const chain_tx *p = chain_mempool_get(n->mempool, b->txs[i].id);
        if (p && p->sig_checked == 1) b->txs[i].sig_checked = 1;
    }
}

/* Validates k on the head (once); 1 valid, 0 not. */
int node_cons_blk_valid(node_cons *c, node_cons_blk *k)
{
    if (k->checked) return k->checked == 1;
    node *n = c->n;
    mark_pooled(n, &k->b);
    chain_blockexec bx = {.g = &n->genesis, .st = n->store};
    util_err err = {0};
    int reason;
    int rc =
        chain_blockexec_validate(&bx, &k->b, util_env_wall_ms(n->cfg.env), &k->res, &reason, &err);
    k->checked = rc == 0 ? 1 : 2;
    if (rc)
        LOG_WARN("consensus", "block %llu proposed in this height refused: %s",
                 (unsigned long long)k->b.h.height, err.msg);
    return rc == 0;
}

/* Valid, and its deposits match this validator's view of the L1
 * (node_bridge_check_block logs why not). A refusal is checked again when
 * the block comes back in a later round: the view may have caught up with
 * the L1 meanwhile. Only proposals of the height in progress come here:
 * blocks from sync are not re-checked. */
int node_cons_blk_check(node_cons *c, node_cons_blk *k)
{
    if (!node_cons_blk_valid(c, k)) return 0;
    if (k->l1_checked != 1) k->l1_checked = node_bridge_check_block(c->n, &k->b) ? 2 : 1;
    return k->l1_checked == 1;
}

/* ---- signing: WAL first, then the signer state, then the key ---- */

void node_cons_signing_stop(node_cons *c, const char *why)
{
    if (c->signing_off) return;
    c->signing_off = 1;
    snprintf(c->signing_off_why, sizeof c->signing_off_why, "%s", why);
    LOG_ERROR("consensus",
              "this validator stops signing: %s; it keeps following the chain, and a restart "
              "(after the cause is fixed) lets it sign again",
              why);
}

int node_cons_wal_put(node_cons *c, uint8_t wtype, uint8_t tag, const uint8_t *a, size_t an,
                      const uint8_t *b, size_t bn, int sync)
{
    if (c->replaying || !c->wal) return 0;
    util_buf buf;
    util_buf_init(&buf);
    util_buf_u8(&buf, tag);
    util_buf_put(&buf, a, an);
    if (bn) util_buf_put(&buf, b, bn);
    util_err err = {0};
    int rc = buf.oom ? util_err_set(&err, UTIL_ENOMEM, "out of memory")
                     : cons_wal_append(c->wal, wtype, buf.data, buf.len, sync, &err);
    util_buf_free(&buf);
    if (rc) node_cons_signing_stop(c, err.msg);
    return rc;
}

static int sign_cb(void *ctx, const uint8_t digest[32], uint8_t sig[64], util_err *err)
{
    node *n = ctx;
    if (chain_sign(sig, digest, &n->validator, NULL))
        return util_err_set(err, UTIL_ECRYPTO, "signing failed");
    return 0;
}

static int sign_digest(node_cons *c, uint64_t h, uint32_t r, uint8_t step, const uint8_t d[32],
                       uint8_t sig[64])
{
    util_err err = {0};
    if (cons_signer_sign(c->signer, h, r, step, d, sign_cb, c->n, sig, &err)) {
        c->sign_failures++;
        if (err.code == UTIL_ESTATE) {
            /* The signer refused a conflict: safe, and a restart would not
             * change its mind; this message is simply not sent. */
            LOG_WARN("consensus", "signer refused: %s", err.msg);
            return -1;
        }
        node_cons_signing_stop(c, err.msg);
        return -1;
    }
    c->signed_msgs++;
    return 0;
}

void node_cons_send_proposal(node_cons *c, p2p_peer *to, const cons_proposal *p, node_cons_blk *k)
{
    node_p2p *np = c->n->p2p;
    if (!np || !k->enc.len) return;
    util_buf b;
    util_buf_init(&b);
    util_err err = {0};
    if (cons_proposal_encode(p, &b, &err) == 0) {
        util_buf_put(&b, k->enc.data, k->enc.len);
        if (b.oom) { /* nothing to send */
        } else if (to) {
            if (p2p_net_send(to, P2P_MSG_PROPOSAL, b.data, b.len, &err)) { /* slow peer: dropped */
            }
        } else
            p2p_net_broadcast(np->net, NULL, P2P_MSG_PROPOSAL, b.data, b.len);
    }
    util_buf_free(&b);
}

void node_cons_send_vote(node_cons *c, p2p_peer *to, const cons_vote *v)
{
    node_p2p *np = c->n->p2p;
    if (!np) return;
    util_buf b;
    util_buf_init(&b);
    util_err err = {0};
    if (cons_vote_encode(v, &b, &err) == 0 && !b.oom) {
        if (to) {
            if (p2p_net_send(to, P2P_MSG_VOTE, b.data, b.len, &err)) { /* slow peer: dropped */
            }
        } else
            p2p_net_broadcast(np->net, NULL, P2P_MSG_VOTE, b.data, b.len);
    }
    util_buf_free(&b);
}

void node_cons_own_proposal(node_cons *c, cons_proposal p)
{
    util_err err = {0};
    node_cons_blk *k = node_cons_blk_find(c, p.block_id);
    if (!k || !k->enc.len || c->signing_off) return;
    uint8_t enc[CONS_PROPOSAL_LEN], d[32];
    util_buf pb;
    util_buf_init(&pb);
    if (cons_proposal_encode(&p, &pb, &err) || pb.len != CONS_PROPOSAL_LEN) {
        util_buf_free(&pb);
        return;
    }
    memcpy(enc, pb.data, CONS_PROPOSAL_LEN);
    util_buf_free(&pb);
    if (node_cons_wal_put(c, CONS_WAL_OWN, P2P_MSG_PROPOSAL, enc, sizeof enc, k->enc.data,
                          k->enc.len, 1))
        return;
    cons_proposal_digest(&c->chain, &p, d);
    if (sign_digest(c, p.height, p.round, CONS_SIGN_PROPOSAL, d, p.sig)) return;
    node_cons_send_proposal(c, NULL, &p, k);
    if (cons_engine_on_proposal(c->e, &p, &err))
        LOG_WARN("consensus", "own proposal refused by the engine: %s", err.msg);
}

void node_cons_own_vote(node_cons *c, cons_vote v)
{
    util_err err = {0};
    if (c->signing_off) return;
    util_buf vb;
    util_buf_init(&vb);
    if (cons_vote_encode(&v, &vb, &err) || vb.oom) {
        util_buf_free(&vb);
        return;
    }
    int rc = node_cons_wal_put(c, CONS_WAL_OWN, P2P_MSG_VOTE, vb.data, vb.len, NULL, 0, 1);
    util_buf_free(&vb);
    if (rc) return;
    uint8_t d[32];
    cons_vote_digest(&c->chain, &v, d);
    uint8_t step = v.type == CHAIN_VOTE_PREVOTE ? CONS_SIGN_PREVOTE : CONS_SIGN_PRECOMMIT;
    if (sign_digest(c, v.height, v.round, step, d, v.sig)) return;
    /* The signed copy, so a replay feeds it back with its signature. */
    util_buf_init(&vb);
    if (cons_vote_encode(&v, &vb, &err) == 0 && !vb.oom)
        (void)node_cons_wal_put(c, CONS_WAL_MSG, P2P_MSG_VOTE, vb.data, vb.len, NULL, 0, 0);
    util_buf_free(&vb);
    node_cons_send_vote(c, NULL, &v);
    if (cons_engine_on_vote(c->e, &v, &err))
        LOG_WARN("consensus", "own vote refused by the engine: %s", err.msg);
}
