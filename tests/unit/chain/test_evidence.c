/* Evidence in blocks (docs/blocks.md, rules 18 to 28): propose takes the
 * pending evidence, validate refuses each broken rule with its own reason and
 * leaves the store as it was, a double vote is included once only, and a
 * rollback takes the inclusion record back with the block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/node_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/blockexec.h"
#include "chain/crypto/hash.h"
#include "chain/mempool/mempool.h"
#include "chain/state/store.h"

/* A vote signed by the devnet validator (or by the key given). */
static void sign_vote(const chain_genesis *g, chain_vote *v, uint32_t key)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, key), 0);
    uint8_t d[32];
    chain_vote_digest(d, g->chain_id, g->hash, v->height, v->round, v->type, v->block_id);
    assert_int_equal(chain_sign(v->sig, d, &kp, NULL), 0);
}

/* Validator 0 prevotes for two blocks at height h, round r: valid evidence. */
static chain_evidence double_vote(const chain_genesis *g, uint64_t h, uint32_t r, uint8_t fill)
{
    chain_evidence e;
    memset(&e, 0, sizeof e);
    e.a.type = e.b.type = CHAIN_VOTE_PREVOTE;
    e.a.height = e.b.height = h;
    e.a.round = e.b.round = r;
    memset(e.a.block_id, fill, 32);
    memset(e.b.block_id, fill + 1, 32);
    sign_vote(g, &e.a, NFX_VALIDATOR_KEY);
    sign_vote(g, &e.b, NFX_VALIDATOR_KEY);
    return e;
}

static void produce(nfx_node *n, const chain_evidence *evs, size_t nev)
{
    chain_block b;
    nfx_build(n, evs, nev, &b);
    nfx_commit(n, &b, NULL);
    chain_block_free(&b);
}

/* The block goes through the bytes, as it would from a peer. */
static void reencode(chain_block *b)
{
    util_buf u;
    util_buf_init(&u);
    util_err err = {0};
    assert_int_equal(chain_block_encode(b, &u), 0);
    chain_block_free(b);
    if (chain_block_decode(b, u.data, u.len, &err)) fail_msg("decode: %s", err.msg);
    util_buf_free(&u);
}

/* validate refuses b with `want`, and the store is as it was. */
static void expect_refused(nfx_node *n, chain_block *b, int want)
{
    uint64_t h0 = chain_store_height(n->st);
    uint8_t id0[32], id1[32];
    chain_store_head_id(n->st, id0);
    chain_block_result res;
    util_err err = {0};
    int reason = -1;
    int rc = chain_blockexec_validate(&n->bx, b, n->now, &res, &reason, &err);
    if (rc != UTIL_EINVAL || reason != want)
        fail_msg("want %s, got rc %d reason %s (%s)", chain_block_reason_token(want), rc,
                 chain_block_reason_token(reason), err.msg);
    const char *tok = chain_block_reason_token(want);
    if (strncmp(err.msg, tok, strlen(tok)) != 0)
        fail_msg("message '%s' does not start with '%s'", err.msg, tok);
    assert_int_equal(chain_store_height(n->st), h0);
    chain_store_head_id(n->st, id1);
    assert_memory_equal(id0, id1, 32);
}

enum {
    M_TOO_MUCH,
    M_WRONG_HASH,
    M_ROUND_DIFFERS,
    M_UNKNOWN_TYPE,
    M_SAME_BLOCK,
    M_ORDER,
    M_VALIDATOR,
    M_HEIGHT_SAME,
    M_HEIGHT_ZERO,
    M_TOO_OLD,
    M_DUPLICATE,
    M_SIGNATURE,
    M_COUNT
};

/* A block at height head + 1 carrying mutated evidence, and its reason. */
static int mutate(nfx_node *n, chain_block *b, int m)
{
    const chain_genesis *g = n->g;
    uint64_t h = b->h.height;
    chain_evidence e = double_vote(g, h - 1, 0, 0x10);
    int want = 0, fix_hash = 1;
    b->nev = 1;
    switch (m) {
    case M_TOO_MUCH:
        for (size_t i = 0; i < CHAIN_BLOCK_MAX_EVIDENCE; i++)
            b->ev[i] = double_vote(g, h - 1, (uint32_t)i, 0x10);
        /* One past the limit: the decoder refuses such bytes, a block built
         * in memory reaches validate. ev[] has no room for it: validate must
         * refuse before reading one. */
        b->nev = CHAIN_BLOCK_MAX_EVIDENCE + 1;
        return CHAIN_BLOCK_TOO_MUCH_EVIDENCE;
    case M_WRONG_HASH:
        fix_hash = 0;
        want = CHAIN_BLOCK_WRONG_EVIDENCE_HASH;
        break;
    case M_ROUND_DIFFERS:
        e.b.round = 1;
        sign_vote(g, &e.b, NFX_VALIDATOR_KEY);
        want = CHAIN_BLOCK_EVIDENCE_VOTES_DIFFER;
        break;
    case M_UNKNOWN_TYPE:
        e.a.type = e.b.type = 3;
        want = CHAIN_BLOCK_EVIDENCE_VOTES_DIFFER;
        break;
    case M_SAME_BLOCK:
        memcpy(e.b.block_id, e.a.block_id, 32);
        sign_vote(g, &e.b, NFX_VALIDATOR_KEY);
        want = CHAIN_BLOCK_EVIDENCE_NOT_CONFLICTING;
        break;
    case M_ORDER: {
        chain_vote t = e.a;
        e.a = e.b;
        e.b = t;
        want = CHAIN_BLOCK_EVIDENCE_NOT_CANONICAL;
        break;
    }
    case M_VALIDATOR:
        e.a.validator = e.b.validator = (uint32_t)g->nval;
        want = CHAIN_BLOCK_EVIDENCE_UNKNOWN_VALIDATOR;
        break;
    case M_HEIGHT_SAME:
        e = double_vote(g, h, 0, 0x10);
        want = CHAIN_BLOCK_EVIDENCE_BAD_HEIGHT;
        break;
    case M_HEIGHT_ZERO:
        e = double_vote(g, 0, 0, 0x10);
        want = CHAIN_BLOCK_EVIDENCE_BAD_HEIGHT;
        break;
    case M_TOO_OLD:
        e = double_vote(g, h - CHAIN_EVIDENCE_MAX_AGE - 1, 0, 0x10);
        want = CHAIN_BLOCK_EVIDENCE_TOO_OLD;
        break;
    case M_DUPLICATE:
        /* The same double vote proven by another pair of its votes. */
        b->ev[1] = double_vote(g, h - 1, 0, 0x30);
        b->nev = 2;
        want = CHAIN_BLOCK_DUPLICATE_EVIDENCE;
        break;
    case M_SIGNATURE:
        e.b.sig[7] ^= 1;
        want = CHAIN_BLOCK_EVIDENCE_BAD_SIGNATURE;
        break;
    default: fail();
    }
    b->ev[0] = e;
    if (fix_hash) chain_block_evidence_hash(b, b->h.evidence_hash);
    if (b->nev <= CHAIN_BLOCK_MAX_EVIDENCE) reencode(b);
    return want;
}

/* Each rule, one block each, refused with its own reason; the evidence is
 * at the edge of its age window so that too_old needs one block more. */
static void test_each_refusal(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), &(nfx_opts){.max_txs = 100});
    for (uint64_t i = 0; i < CHAIN_EVIDENCE_MAX_AGE + 1; i++)
        produce(&n, NULL, 0);
    assert_int_equal(chain_store_height(n.st), CHAIN_EVIDENCE_MAX_AGE + 1);
    for (int m = 0; m < M_COUNT; m++) {
        chain_block b;
        nfx_build(&n, NULL, 0, &b);
        int want = mutate(&n, &b, m);
        expect_refused(&n, &b, want);
        if (b.nev > CHAIN_BLOCK_MAX_EVIDENCE) b.nev = 0;
        chain_block_free(&b);
    }
    /* The oldest height the window allows is accepted. */
    chain_block b;
    nfx_build(&n, NULL, 0, &b);
    b.ev[0] = double_vote(n.g, b.h.height - CHAIN_EVIDENCE_MAX_AGE, 0, 0x10);
    b.nev = 1;
    chain_block_evidence_hash(&b, b.h.evidence_hash);
    nfx_commit(&n, &b, NULL);
    chain_block_free(&b);
    nfx_close(&n);
}

/* propose includes the pending evidence (oldest first, the bad and the
 * duplicate skipped), the block validates and commits with its record, a
 * second block carrying the same double vote is refused, and propose leaves
 * it out from then on. */
static void test_propose_and_include_once(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), &(nfx_opts){.max_txs = 100});
    produce(&n, NULL, 0);
    produce(&n, NULL, 0);
    chain_evidence pool[4];
    pool[0] = double_vote(n.g, 1, 0, 0x10);
    pool[1] = double_vote(n.g, 2, 1, 0x20);
    pool[1].a.sig[0] ^= 1;                  /* bad: skipped */
    pool[2] = double_vote(n.g, 1, 0, 0x30); /* the same double vote as pool[0]: skipped */
    pool[3] = double_vote(n.g, 2, 0, 0x40);
    chain_block b;
    nfx_build(&n, pool, 4, &b);
    assert_int_equal(b.nev, 2);
    assert_int_equal(b.ev[0].a.height, 1);
    assert_memory_equal(b.ev[0].a.block_id, pool[0].a.block_id, 32);
    assert_int_equal(b.ev[1].a.height, 2);
    assert_memory_equal(b.ev[1].b.block_id, pool[3].b.block_id, 32);
    uint8_t root[32];
    chain_block_evidence_hash(&b, root);
    assert_memory_equal(root, b.h.evidence_hash, 32);
    reencode(&b);
    nfx_commit(&n, &b, NULL);
    chain_block_free(&b);

    util_err err = {0};
    uint64_t at = 0;
    assert_int_equal(chain_store_evidence_included(n.st, &pool[0], &at, &err), 0);
    assert_int_equal(at, 3);
    /* Keyed by the double vote, not the pair: pool[2] is the same one. */
    assert_int_equal(chain_store_evidence_included(n.st, &pool[2], &at, &err), 0);
    assert_int_equal(chain_store_evidence_included(n.st, &pool[1], &at, &err), UTIL_ENOTFOUND);
    chain_evidence other = double_vote(n.g, 2, 5, 0x50);
    assert_int_equal(chain_store_evidence_included(n.st, &other, &at, &err), UTIL_ENOTFOUND);

    /* Included once only. */
    nfx_build(&n, NULL, 0, &b);
    b.ev[0] = pool[3];
    b.nev = 1;
    chain_block_evidence_hash(&b, b.h.evidence_hash);
    expect_refused(&n, &b, CHAIN_BLOCK_EVIDENCE_ALREADY_INCLUDED);
    chain_block_free(&b);
    nfx_build(&n, pool, 4, &b);
    assert_int_equal(b.nev, 0);
    chain_block_free(&b);

    /* Evidence alone makes a block when empty blocks are not wanted. */
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    int built = 0;
    assert_int_equal(chain_blockexec_propose_ev(&n.bx, n.mp, &other, 1, &proposer, n.now + 1000, 0,
                                                &b, &built, &err),
                     0);
    assert_int_equal(built, 1);
    assert_int_equal(b.nev, 1);
    chain_block_free(&b);
    assert_int_equal(chain_blockexec_propose_ev(&n.bx, n.mp, NULL, 0, &proposer, n.now + 1000, 0,
                                                &b, &built, &err),
                     0);
    assert_int_equal(built, 0);
    nfx_close(&n);
}

/* blockMaxBytes counts the evidence: a block whose evidence alone passes
 * the genesis limit is refused as too large. */
static void test_evidence_counted_in_block_size(void **state)
{
    (void)state;
    /* A header and 6 items, not 16 (a shallow copy: nothing is freed). */
    static chain_genesis g;
    g = *fx_devnet();
    g.params.block_max_bytes = 2048;
    nfx_node n;
    nfx_open(&n, &g, &(nfx_opts){.max_txs = 100});
    produce(&n, NULL, 0);
    produce(&n, NULL, 0);
    chain_block b;
    nfx_build(&n, NULL, 0, &b);
    for (size_t i = 0; i < CHAIN_BLOCK_MAX_EVIDENCE; i++)
        b.ev[i] = double_vote(n.g, 1, (uint32_t)i, 0x10);
    b.nev = CHAIN_BLOCK_MAX_EVIDENCE;
    chain_block_evidence_hash(&b, b.h.evidence_hash);
    expect_refused(&n, &b, CHAIN_BLOCK_TOO_LARGE);
    chain_block_free(&b);
    /* propose fills what fits. */
    chain_evidence pool[CHAIN_BLOCK_MAX_EVIDENCE];
    for (size_t i = 0; i < CHAIN_BLOCK_MAX_EVIDENCE; i++)
        pool[i] = double_vote(n.g, 1, (uint32_t)i, 0x10);
    nfx_build(&n, pool, CHAIN_BLOCK_MAX_EVIDENCE, &b);
    util_buf u;
    util_buf_init(&u);
    assert_int_equal(chain_block_encode(&b, &u), 0);
    assert_true(u.len <= 2048);
    assert_true(b.nev > 0 && b.nev < CHAIN_BLOCK_MAX_EVIDENCE);
    util_buf_free(&u);
    nfx_commit(&n, &b, NULL);
    chain_block_free(&b);
    nfx_close(&n);
}

/* A rollback takes back the inclusion record with the block: the same
 * evidence is includable again, exactly as before the block. */
static void test_rollback_takes_back_the_record(void **state)
{
    (void)state;
    nfx_node n;
    nfx_open(&n, fx_devnet(), &(nfx_opts){.undo_blocks = 8, .max_txs = 100});
    produce(&n, NULL, 0);
    produce(&n, NULL, 0);
    chain_evidence e = double_vote(n.g, 2, 0, 0x10);
    produce(&n, &e, 1);
    util_err err = {0};
    uint64_t at = 0;
    assert_int_equal(chain_store_evidence_included(n.st, &e, &at, &err), 0);
    assert_int_equal(at, 3);
    assert_int_equal(chain_store_rollback(n.st, 2, &err), 0);
    assert_int_equal(chain_store_evidence_included(n.st, &e, &at, &err), UTIL_ENOTFOUND);
    chain_block b;
    nfx_build(&n, &e, 1, &b);
    assert_int_equal(b.nev, 1);
    nfx_commit(&n, &b, NULL);
    chain_block_free(&b);
    nfx_close(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_propose_and_include_once),
        cmocka_unit_test(test_evidence_counted_in_block_size),
        cmocka_unit_test(test_rollback_takes_back_the_record),
        cmocka_unit_test(test_each_refusal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
