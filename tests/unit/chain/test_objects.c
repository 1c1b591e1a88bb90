/* The readers' getters of chain/state/objects.h on a real store: state
 * entries and index entries are written raw through one block (as execution
 * writes them), then read back as objects: attribution objects and their
 * absence or corruption, contributor totals, the paged lists with their
 * cursors and "more" flag, an address's payouts newest first, contract code
 * and storage, a block's summary, and an account's proof against the
 * committed root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/objects.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "util/bytes.h"

static char g_dir[256];
static chain_store *g_st;
static chain_addr g_a, g_b, g_contract;

static void put(chain_exec *ex, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    util_err err = {0};
    if (chain_exec_put(ex, k, kl, v, vl, &err)) fail_msg("put: %s", err.msg);
}

static void put_obj(chain_exec *ex, char kind, uint64_t id, const util_buf *b)
{
    uint8_t k[9];
    chain_key_id(k, kind, id);
    put(ex, k, sizeof k, b->data, b->len);
}

static void put_ix(chain_exec *ex, char ix, const uint8_t *a, size_t alen, uint64_t id,
                   const uint8_t *tail, size_t tlen, const uint8_t *v, size_t vl)
{
    uint8_t k[CHAIN_IXKEY_MAX];
    size_t n = chain_ixkey_attr(k, ix, a, alen, id, tail, tlen);
    assert_true(n > 0);
    util_err err = {0};
    if (chain_exec_index_put(ex, k, n, v, vl, &err)) fail_msg("index put: %s", err.msg);
}

static void put_ix_id(chain_exec *ex, char ix, uint64_t of, uint64_t id)
{
    uint8_t be[8];
    util_put_u64be(be, of);
    put_ix(ex, ix, be, 8, id, NULL, 0, NULL, 0);
}

static void datanet(chain_exec *ex, uint64_t id, const char *name)
{
    chain_datanet d;
    memset(&d, 0, sizeof d);
    d.id = id;
    d.owner = g_a;
    snprintf(d.name, sizeof d.name, "%s", name);
    d.height = 1;
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_datanet_encode(&d, &b), 0);
    put_obj(ex, CHAIN_SK_DATANET, id, &b);
    util_buf_free(&b);
}

static void contribution(chain_exec *ex, uint64_t id, uint64_t ds, const chain_addr *who)
{
    chain_contribution c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.datanet = ds;
    c.contributor = *who;
    c.size = 100 + id;
    c.times_used = id * 10;
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_contribution_encode(&c, &b), 0);
    put_obj(ex, CHAIN_SK_CONTRIB, id, &b);
    util_buf_free(&b);
    put_ix_id(ex, CHAIN_IX_CONTRIB_BY_DATANET, ds, id);
    put_ix(ex, CHAIN_IX_CONTRIB_BY_CONTRIBUTOR, who->b, CHAIN_ADDR_LEN, id, NULL, 0, NULL, 0);
}

/* The store of every test:
 *   datanets 1 "one", 2 "two", 3 "three", and 9 whose value is garbage;
 *   contributions 1 (datanet 1, A), 2 (datanet 1, B), 3 (datanet 2, A), and
 *   an index entry of datanet 5 naming contribution 77, which does not exist;
 *   model 1 "m" (datanet 1); record 1 (model 1, two entries, one payout);
 *   A's contributor totals; A's payouts of records 1..5 (seq 0; record 5
 *   also seq 1) and a malformed payout entry of record 0;
 *   contract code and two storage words (one of 16 bytes, corrupt). */
static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-objects-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    util_err err = {0};
    assert_int_equal(chain_store_open(&g_st, g_dir, &err), 0);
    assert_int_equal(chain_store_init_genesis(g_st, fx_devnet(), &err), 0);
    fx_dev_addr(&g_a, 1);
    fx_dev_addr(&g_b, 2);
    memset(&g_contract, 0xc0, sizeof g_contract);

    const chain_header *parent = chain_store_head_header(g_st);
    chain_block blk;
    memset(&blk, 0, sizeof blk);
    blk.h.version = CHAIN_BLOCK_VERSION;
    snprintf(blk.h.chain_id, sizeof blk.h.chain_id, "%s", fx_devnet()->chain_id);
    blk.h.height = parent->height + 1;
    chain_store_head_id(g_st, blk.h.parent);
    blk.h.time_ms = parent->time_ms + 1000;
    fx_dev_addr(&blk.h.proposer, 1000);
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = blk.h.height,
                          .time_ms = blk.h.time_ms,
                          .proposer = blk.h.proposer,
                          .min_gas_price = 1};
    chain_exec *ex = chain_exec_new(g_st, &ctx);
    assert_non_null(ex);

    datanet(ex, 1, "one");
    datanet(ex, 2, "two");
    datanet(ex, 3, "three");
    uint8_t k[53];
    chain_key_id(k, CHAIN_SK_DATANET, 9);
    put(ex, k, 9, (const uint8_t *)"xx", 2);
    contribution(ex, 1, 1, &g_a);
    contribution(ex, 2, 1, &g_b);
    contribution(ex, 3, 2, &g_a);
    put_ix_id(ex, CHAIN_IX_CONTRIB_BY_DATANET, 5, 77);

    chain_model m;
    memset(&m, 0, sizeof m);
    m.id = 1;
    m.owner = g_b;
    snprintf(m.name, sizeof m.name, "m");
    m.ndatanets = 1;
    m.datanets[0] = 1;
    m.owner_bp = 2000;
    m.validators_bp = 1000;
    m.contributors_bp = 7000;
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_model_encode(&m, &b), 0);
    put_obj(ex, CHAIN_SK_MODEL, 1, &b);
    util_buf_free(&b);
    put_ix_id(ex, CHAIN_IX_MODEL_BY_DATANET, 1, 1);

    chain_record_entry es[2] = {{.contribution = 1, .weight = 3, .contributor = g_a},
                                {.contribution = 3, .weight = 1, .contributor = g_a}};
    chain_payout py = {
        .recipient = g_a, .role = CHAIN_ROLE_CONTRIBUTOR, .contribution = 1, .amount = 70};
    chain_record r;
    memset(&r, 0, sizeof r);
    r.id = 1;
    r.model = 1;
    r.fee = 100;
    r.nentries = 2;
    r.entries = es;
    r.npayouts = 1;
    r.payouts = &py;
    util_buf_init(&b);
    assert_int_equal(chain_record_encode(&r, &b), 0);
    put_obj(ex, CHAIN_SK_RECORD, 1, &b);
    util_buf_free(&b);
    put_ix_id(ex, CHAIN_IX_RECORD_BY_MODEL, 1, 1);

    chain_contributor ct = {
        .earned = 70, .contributions = 2, .accepted = 1, .rejected = 0, .payouts = 1};
    uint8_t ctv[40];
    chain_contributor_encode(ctv, &ct);
    chain_key_contributor(k, &g_a);
    put(ex, k, 21, ctv, sizeof ctv);

    for (uint64_t rec = 1; rec <= 5; rec++) {
        for (uint16_t seq = 0; seq < (rec == 5 ? 2 : 1); seq++) {
            chain_payout_entry p = {.model = 1,
                                    .contribution = seq ? 0 : rec,
                                    .role = seq ? CHAIN_ROLE_OWNER : CHAIN_ROLE_CONTRIBUTOR,
                                    .amount = 1000 * rec + seq};
            uint8_t v[CHAIN_PAYOUT_IXVAL_LEN], sq[2] = {0, (uint8_t)seq};
            chain_payout_ixval_encode(v, &p);
            put_ix(ex, CHAIN_IX_PAYOUT_BY_RECIPIENT, g_a.b, CHAIN_ADDR_LEN, rec, sq, 2, v,
                   sizeof v);
        }
    }
    uint8_t sq[2] = {0, 0}, shortv[3] = {1, 2, 3};
    put_ix(ex, CHAIN_IX_PAYOUT_BY_RECIPIENT, g_a.b, CHAIN_ADDR_LEN, 0, sq, 2, shortv, 3);

    chain_key_code(k, &g_contract);
    put(ex, k, 21, (const uint8_t *)"\x01\x02\x03\x04", 4);
    uint8_t skey[32], word[32];
    memset(skey, 0x11, 32);
    memset(word, 0x77, 32);
    chain_key_storage(k, &g_contract, skey);
    put(ex, k, 53, word, 32);
    memset(skey, 0x22, 32);
    chain_key_storage(k, &g_contract, skey);
    put(ex, k, 53, word, 16);

    assert_int_equal(chain_exec_finish(ex, blk.h.state_root, &err), 0);
    chain_block_tx_root(&blk, blk.h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    if (chain_store_commit_block(g_st, &blk, NULL, ex, &c, &err)) fail_msg("commit: %s", err.msg);
    chain_exec_free(ex);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    chain_store_close(g_st);
    fx_rm_tree(g_dir);
    return 0;
}

static void test_attr_objects(void **state)
{
    (void)state;
    util_err err = {0};
    chain_datanet d;
    assert_int_equal(chain_store_get_datanet(g_st, 2, &d, &err), 0);
    assert_int_equal(d.id, 2);
    assert_string_equal(d.name, "two");
    assert_memory_equal(d.owner.b, g_a.b, CHAIN_ADDR_LEN);
    assert_int_equal(chain_store_get_datanet(g_st, 4, &d, &err), UTIL_ENOTFOUND);
    assert_string_equal(err.msg, "datanet 4 not found");
    assert_int_equal(chain_store_get_datanet(g_st, 9, &d, &err), UTIL_EIO);
    assert_string_equal(err.msg, "stored datanet does not decode");

    chain_contribution c;
    assert_int_equal(chain_store_get_contribution(g_st, 3, &c, &err), 0);
    assert_int_equal(c.datanet, 2);
    assert_int_equal(c.times_used, 30);
    assert_int_equal(chain_store_get_contribution(g_st, 77, &c, &err), UTIL_ENOTFOUND);
    assert_string_equal(err.msg, "contribution 77 not found");

    chain_model m;
    assert_int_equal(chain_store_get_model(g_st, 1, &m, &err), 0);
    assert_string_equal(m.name, "m");
    assert_int_equal(m.contributors_bp, 7000);
    assert_int_equal(chain_store_get_model(g_st, 2, &m, &err), UTIL_ENOTFOUND);

    chain_record r;
    assert_int_equal(chain_store_get_record(g_st, 1, &r, &err), 0);
    assert_int_equal(r.model, 1);
    assert_int_equal(r.nentries, 2);
    assert_int_equal(r.entries[1].contribution, 3);
    assert_int_equal(r.npayouts, 1);
    assert_int_equal(r.payouts[0].amount, 70);
    chain_record_free(&r);
    assert_int_equal(chain_store_get_record(g_st, 2, &r, &err), UTIL_ENOTFOUND);
    assert_string_equal(err.msg, "attribution record 2 not found");

    chain_attr_obj o;
    assert_int_equal(chain_store_get_attr(g_st, CHAIN_SK_MODEL, 1, &o, &err), 0);
    assert_int_equal(o.kind, CHAIN_SK_MODEL);
    assert_int_equal(o.u.model.id, 1);
    chain_attr_obj_free(&o);
    assert_int_equal(chain_store_get_attr(g_st, CHAIN_SK_ACCOUNT, 1, &o, &err), UTIL_EINVAL);
    chain_attr_obj_free(&o); /* safe after a failure */
}

static void test_contributor_totals(void **state)
{
    (void)state;
    util_err err = {0};
    chain_contributor ct;
    assert_int_equal(chain_store_get_contributor(g_st, &g_a, &ct, &err), 0);
    assert_int_equal(ct.earned, 70);
    assert_int_equal(ct.contributions, 2);
    assert_int_equal(ct.accepted, 1);
    assert_int_equal(ct.payouts, 1);
    /* Never contributed: zeros, not an error. */
    memset(&ct, 0xff, sizeof ct);
    assert_int_equal(chain_store_get_contributor(g_st, &g_b, &ct, &err), 0);
    assert_int_equal(ct.earned, 0);
    assert_int_equal(ct.contributions, 0);
    assert_int_equal(ct.payouts, 0);
}

typedef struct page {
    uint64_t ids[8];
    size_t n;
    uint8_t cursor[CHAIN_ATTR_CURSOR_MAX];
    size_t clen;
} page;

static int collect(void *ctx, const chain_attr_obj *o, const uint8_t *cursor, size_t clen)
{
    page *p = ctx;
    assert_true(p->n < 8);
    assert_true(clen <= CHAIN_ATTR_CURSOR_MAX);
    switch (o->kind) {
    case CHAIN_SK_DATANET: p->ids[p->n++] = o->u.datanet.id; break;
    case CHAIN_SK_CONTRIB: p->ids[p->n++] = o->u.contribution.id; break;
    case CHAIN_SK_MODEL: p->ids[p->n++] = o->u.model.id; break;
    case CHAIN_SK_RECORD: p->ids[p->n++] = o->u.record.id; break;
    default: fail_msg("kind %d", o->kind);
    }
    memcpy(p->cursor, cursor, clen);
    p->clen = clen;
    return 0;
}

static int list(const chain_attr_list *q, const page *after, int reverse, size_t limit, page *out,
                int *more, util_err *err)
{
    memset(out, 0, sizeof *out);
    return chain_store_attr_list(g_st, q, after ? after->cursor : NULL, after ? after->clen : 0,
                                 reverse, limit, collect, out, more, err);
}

static void test_lists_page(void **state)
{
    (void)state;
    util_err err = {0};
    chain_attr_list q;
    page p1, p2, p3;
    int more;
    chain_attr_list_all(&q, CHAIN_SK_DATANET);
    assert_int_equal(list(&q, NULL, 0, 2, &p1, &more, &err), 0);
    assert_int_equal(p1.n, 2);
    assert_int_equal(p1.ids[0], 1);
    assert_int_equal(p1.ids[1], 2);
    assert_true(more);
    assert_true(chain_attr_list_cursor_ok(&q, p1.cursor, p1.clen));
    /* Datanet 9 follows 3: "more" is known without reading it. */
    assert_int_equal(list(&q, &p1, 0, 1, &p2, &more, &err), 0);
    assert_int_equal(p2.n, 1);
    assert_int_equal(p2.ids[0], 3);
    assert_true(more);
    assert_int_equal(list(&q, &p2, 0, 5, &p3, &more, &err), UTIL_EIO);
    assert_string_equal(err.msg, "stored datanet does not decode");
    /* Descending, from before datanet 2's position. */
    assert_int_equal(list(&q, &p1, 1, 5, &p3, &more, &err), 0);
    assert_int_equal(p3.n, 1);
    assert_int_equal(p3.ids[0], 1);
    assert_false(more);

    chain_attr_list_by_id(&q, CHAIN_IX_CONTRIB_BY_DATANET, 1);
    assert_int_equal(q.kind, CHAIN_SK_CONTRIB);
    assert_int_equal(list(&q, NULL, 1, 10, &p1, &more, &err), 0);
    assert_int_equal(p1.n, 2);
    assert_int_equal(p1.ids[0], 2);
    assert_int_equal(p1.ids[1], 1);
    assert_false(more);
    /* A cursor of another list is refused. */
    assert_false(chain_attr_list_cursor_ok(&q, p3.cursor, p3.clen));
    assert_int_equal(list(&q, &p3, 0, 10, &p2, &more, &err), UTIL_EINVAL);
    assert_false(chain_attr_list_cursor_ok(&q, p1.cursor, p1.clen - 1));

    chain_attr_list_by_addr(&q, CHAIN_IX_CONTRIB_BY_CONTRIBUTOR, &g_a);
    assert_int_equal(list(&q, NULL, 0, 10, &p1, &more, &err), 0);
    assert_int_equal(p1.n, 2);
    assert_int_equal(p1.ids[0], 1);
    assert_int_equal(p1.ids[1], 3);

    chain_attr_list_by_id(&q, CHAIN_IX_RECORD_BY_MODEL, 1);
    assert_int_equal(list(&q, NULL, 0, 10, &p1, &more, &err), 0);
    assert_int_equal(p1.n, 1);
    assert_int_equal(p1.ids[0], 1);

    chain_attr_list_by_id(&q, CHAIN_IX_MODEL_BY_DATANET, 2);
    assert_int_equal(list(&q, NULL, 0, 10, &p1, &more, &err), 0);
    assert_int_equal(p1.n, 0);
    assert_false(more);
}

static void test_lists_broken(void **state)
{
    (void)state;
    util_err err = {0};
    chain_attr_list q;
    page p;
    int more;
    chain_attr_list_by_id(&q, CHAIN_IX_CONTRIB_BY_DATANET, 5);
    assert_int_equal(list(&q, NULL, 0, 10, &p, &more, &err), UTIL_EIO);
    assert_string_equal(err.msg, "index names contribution 77, which does not exist");
    /* An index that names no attribution object lists nothing. */
    chain_attr_list_by_addr(&q, CHAIN_IX_TX_BY_ADDR, &g_a);
    assert_int_equal(q.kind, 0);
    assert_int_equal(list(&q, NULL, 0, 10, &p, &more, &err), UTIL_EINVAL);
}

typedef struct payouts {
    chain_payout_entry e[8];
    size_t n;
} payouts;

static int collect_payout(void *ctx, const chain_payout_entry *p)
{
    payouts *ps = ctx;
    assert_true(ps->n < 8);
    ps->e[ps->n++] = *p;
    return 0;
}

static void test_payouts_newest_first(void **state)
{
    (void)state;
    util_err err = {0};
    payouts ps = {0};
    int more;
    assert_int_equal(chain_store_payouts_of(g_st, &g_a, 3, collect_payout, &ps, &more, &err), 0);
    assert_int_equal(ps.n, 3);
    assert_true(more);
    /* Record 5's two payouts (seq 1 first, descending), then record 4. */
    assert_int_equal(ps.e[0].record, 5);
    assert_int_equal(ps.e[0].seq, 1);
    assert_int_equal(ps.e[0].role, CHAIN_ROLE_OWNER);
    assert_int_equal(ps.e[0].amount, 5001);
    assert_int_equal(ps.e[1].record, 5);
    assert_int_equal(ps.e[1].seq, 0);
    assert_int_equal(ps.e[1].contribution, 5);
    assert_int_equal(ps.e[1].role, CHAIN_ROLE_CONTRIBUTOR);
    assert_int_equal(ps.e[1].model, 1);
    assert_int_equal(ps.e[2].record, 4);
    assert_int_equal(ps.e[2].amount, 4000);

    /* All of them; the malformed entry of record 0 is skipped, and is not
     * taken for an older payout. */
    memset(&ps, 0, sizeof ps);
    assert_int_equal(chain_store_payouts_of(g_st, &g_a, 10, collect_payout, &ps, &more, &err), 0);
    assert_int_equal(ps.n, 6);
    assert_false(more);
    assert_int_equal(ps.e[5].record, 1);
    memset(&ps, 0, sizeof ps);
    assert_int_equal(chain_store_payouts_of(g_st, &g_a, 6, collect_payout, &ps, &more, &err), 0);
    assert_int_equal(ps.n, 6);
    assert_false(more);

    memset(&ps, 0, sizeof ps);
    assert_int_equal(chain_store_payouts_of(g_st, &g_b, 10, collect_payout, &ps, &more, &err), 0);
    assert_int_equal(ps.n, 0);
}

static void test_contract_reads(void **state)
{
    (void)state;
    util_err err = {0};
    uint8_t *code = NULL;
    size_t len = 0;
    assert_int_equal(chain_store_get_code(g_st, &g_contract, &code, &len, &err), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(code, "\x01\x02\x03\x04", 4);
    free(code);
    assert_int_equal(chain_store_get_code(g_st, &g_a, &code, &len, &err), UTIL_ENOTFOUND);
    assert_null(code);

    uint8_t key[32], val[32], want[32];
    memset(key, 0x11, 32);
    memset(want, 0x77, 32);
    assert_int_equal(chain_store_get_storage(g_st, &g_contract, key, val, &err), 0);
    assert_memory_equal(val, want, 32);
    memset(key, 0x33, 32); /* never written: zero */
    memset(want, 0, 32);
    memset(val, 0xee, 32);
    assert_int_equal(chain_store_get_storage(g_st, &g_contract, key, val, &err), 0);
    assert_memory_equal(val, want, 32);
    memset(key, 0x22, 32); /* 16 bytes stored */
    assert_int_equal(chain_store_get_storage(g_st, &g_contract, key, val, &err), UTIL_EIO);
}

/* The summary agrees with the whole block, for the genesis block (which
 * holds no transactions here either) and the head. */
static void test_block_summary(void **state)
{
    (void)state;
    util_err err = {0};
    for (uint64_t height = 0; height <= 1; height++) {
        uint8_t id[32];
        assert_int_equal(chain_store_block_id_at(g_st, height, id, &err), 0);
        chain_block b;
        size_t size = 0, ssize = 0;
        assert_int_equal(chain_store_get_block(g_st, id, &b, &size, &err), 0);
        chain_header h;
        uint64_t ntx = 99;
        assert_int_equal(chain_store_get_block_summary(g_st, id, &h, &ntx, &ssize, &err), 0);
        assert_int_equal(h.height, height);
        assert_memory_equal(h.state_root, b.h.state_root, 32);
        assert_memory_equal(h.parent, b.h.parent, 32);
        assert_int_equal(ntx, b.ntx);
        assert_int_equal(ssize, size);
        chain_block_free(&b);
    }
    uint8_t nope[32];
    memset(nope, 0x5a, sizeof nope);
    chain_header h;
    uint64_t ntx;
    size_t size;
    assert_int_equal(chain_store_get_block_summary(g_st, nope, &h, &ntx, &size, &err),
                     UTIL_ENOTFOUND);
}

static void test_account_proof(void **state)
{
    (void)state;
    util_err err = {0};
    chain_account_proof *p = malloc(sizeof *p);
    assert_non_null(p);
    const uint8_t *root = chain_store_head_header(g_st)->state_root;
    chain_addr dev0;
    fx_dev_addr(&dev0, 0);
    assert_int_equal(chain_store_prove_account(g_st, &dev0, p, &err), 0);
    assert_true(p->exists);
    chain_account acc;
    assert_int_equal(chain_store_get_account(g_st, &dev0, &acc, &err), 0);
    assert_true(acc.balance > 0);
    assert_int_equal(p->account.balance, acc.balance);
    assert_int_equal(p->account.nonce, acc.nonce);
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN], path[32], val[CHAIN_ACCOUNT_VALUE_LEN], vh[32];
    chain_account_key(key, &dev0);
    chain_sha256(path, key, sizeof key);
    assert_memory_equal(p->key, key, sizeof key);
    assert_memory_equal(p->path, path, 32);
    chain_account_encode(val, &acc);
    assert_memory_equal(p->value, val, sizeof val);
    chain_sha256(vh, p->value, sizeof p->value);
    assert_int_equal(chain_smt_verify(root, p->path, vh, &p->proof, &err), 0);

    chain_addr nobody;
    memset(&nobody, 0x42, sizeof nobody);
    assert_int_equal(chain_store_prove_account(g_st, &nobody, p, &err), 0);
    assert_false(p->exists);
    assert_int_equal(p->account.balance, 0);
    assert_int_equal(chain_smt_verify(root, p->path, NULL, &p->proof, &err), 0);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_attr_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contributor_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payouts_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_proof, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
