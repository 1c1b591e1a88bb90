/* Undo records and chain_store_rollback (chain/state/store.h, docs/storage.md
 * "Undo records"): a chain of 30 blocks with transfers, a contract deploy and
 * calls, a datanet and contributions, produced through the block executor;
 * rollbacks to several heights, each leaving every key outside the tree
 * nodes and the undo records exactly as it was when that height was the
 * head; the same blocks re-applied give the same ids; floor and refusals; a
 * reopen after a rollback; pruning to undo_blocks; a store with undo records
 * off writing none. Also prints the bytes and time the records cost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/node_fixture.h"
#include "chain/state/objects.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "chain/crypto/hash.h"
#include "chain/exec/blockexec.h"
#include "chain/mempool/mempool.h"
#include "chain/state/dbkey.h"
#include "chain/state/store.h"
#include "vm/vm.h"

#define NBLOCKS 30
#define NDEV 6
#define GAS_PRICE 1

/* Stores a value under key 01 from its 32-byte input and pays half the
 * value to a fixed payee (tests/unit/chain/test_contract_exec.c's vault). */
static const char VAULT[] = ".data\n"
                            "payee: .hex \"abababababababababababababababababababab\"\n"
                            ".const KEY 0x100\n"
                            ".const VAL 0x140\n"
                            ".code\n"
                            ".entry main\n"
                            "main:\n"
                            "    ldi r1, KEY\n"
                            "    ldi r2, 1\n"
                            "    st8 [r1], r2\n"
                            "    ldi r1, VAL\n"
                            "    ldi r2, 0\n"
                            "    ldi r3, 32\n"
                            "    sys input\n"
                            "    ldi r1, KEY\n"
                            "    ldi r2, VAL\n"
                            "    sys sstore\n"
                            "    sys value\n"
                            "    ldi r3, 2\n"
                            "    divu r2, r0, r3\n"
                            "    ldi r1, payee\n"
                            "    sys pay\n"
                            "    ldi r1, 0\n"
                            "    ldi r2, 0\n"
                            "    return r1, r2\n";

typedef struct node_fx {
    char dir[64];
    chain_store *st;
    chain_blockexec bx;
} node_fx;

/* What the chain produced, per height: the block, its commit and what the
 * store looked like with it as head. */
typedef struct height_snap {
    util_buf bytes;
    chain_commit commit;
    uint8_t id[32], root[32];
    uint8_t digest[32]; /* every key but tree nodes and undo records */
    chain_account acc[NDEV + 2];
    size_t naddr_txs[NDEV + 2];
    size_t ntx;
    uint8_t txids[8][32];
} height_snap;

static height_snap g_snap[NBLOCKS + 1];
static chain_addr g_addrs[NDEV + 2]; /* dev 0..NDEV-1, the contract, the payee */
static char g_dir[64];

static int g_state_only; /* store_open: chain_store_opts.undo_state_only */

static void store_open(node_fx *n, uint32_t undo_blocks)
{
    util_err err = {0};
    chain_store_opts o = {.undo_blocks = undo_blocks, .undo_state_only = g_state_only};
    if (chain_store_open_opts(&n->st, n->dir, &o, &err)) fail_msg("open: %s", err.msg);
    assert_int_equal(chain_store_init_genesis(n->st, fx_devnet(), &err), 0);
    n->bx = (chain_blockexec){.g = fx_devnet(), .st = n->st};
}

static void node_new(node_fx *n, uint32_t undo_blocks)
{
    memset(n, 0, sizeof *n);
    snprintf(n->dir, sizeof n->dir, "/tmp/ol-test-undo-XXXXXX");
    assert_non_null(mkdtemp(n->dir));
    store_open(n, undo_blocks);
}

static void node_reopen(node_fx *n, uint32_t undo_blocks)
{
    chain_store_close(n->st);
    store_open(n, undo_blocks);
}

static void node_free(node_fx *n)
{
    chain_store_close(n->st);
    fx_rm_tree(n->dir);
}

static uint64_t g_nonce[NDEV];

static chain_tx mk(uint32_t dev, uint8_t type, uint64_t gas_limit)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", fx_devnet()->chain_id);
    tx.type = type;
    tx.nonce = g_nonce[dev]++;
    tx.gas_limit = gas_limit;
    tx.gas_price = GAS_PRICE;
    return tx;
}

static void sign_add(chain_mempool *mp, chain_tx *tx, uint32_t dev)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, dev), 0);
    util_err err = {0};
    if (chain_tx_sign(tx, &kp, fx_devnet()->hash, &err)) fail_msg("sign: %s", err.msg);
    int rc = chain_mempool_add(mp, tx, &err);
    if (rc != CHAIN_MP_OK) fail_msg("mempool refused a tx (%d): %s", rc, err.msg);
    chain_tx_free(tx);
}

/* --- what the store holds ------------------------------------------------ */

static int digest_fn(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    if (key[0] == CHAIN_DB_NODE || key[0] == CHAIN_DB_UNDO) return 0;
    uint8_t len[16];
    util_put_u64le(len, klen);
    util_put_u64le(len + 8, vlen);
    chain_sha256_update(ctx, len, sizeof len);
    chain_sha256_update(ctx, key, klen);
    chain_sha256_update(ctx, val, vlen);
    return 0;
}

static void store_digest(chain_store *st, uint8_t out[32])
{
    chain_sha256_ctx c;
    assert_int_equal(chain_sha256_begin(&c), 0);
    util_err err = {0};
    assert_int_equal(
        chain_store_scan(st, (const uint8_t *)"", 0, NULL, 0, 0, SIZE_MAX, digest_fn, &c, &err), 0);
    chain_sha256_final(&c, out);
    chain_sha256_free(&c);
}

typedef struct addr_count {
    size_t n;
    uint64_t max_height;
} addr_count;

static int count_tx(void *ctx, uint64_t height, uint32_t index, const uint8_t txid[32])
{
    (void)index, (void)txid;
    addr_count *ac = ctx;
    ac->n++;
    if (height > ac->max_height) ac->max_height = height;
    return 0;
}

static addr_count addr_txs(chain_store *st, const chain_addr *a)
{
    addr_count ac = {0};
    util_err err = {0};
    assert_int_equal(chain_store_addr_txs(st, a, 0, 0, 0, 100000, count_tx, &ac, &err), 0);
    return ac;
}

static int count_fn(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)key, (void)klen, (void)val, (void)vlen;
    ++*(size_t *)ctx;
    return 0;
}

static size_t undo_records(chain_store *st)
{
    uint8_t prefix[CHAIN_DBKEY_HEIGHT_LEN];
    chain_dbkey_undo(prefix, 0);
    size_t n = 0;
    util_err err = {0};
    assert_int_equal(chain_store_scan(st, prefix, 1, NULL, 0, 0, SIZE_MAX, count_fn, &n, &err), 0);
    return n;
}

/* Records what the store looks like with height h as its head. */
static void take_snap(chain_store *st, uint64_t h)
{
    height_snap *s = &g_snap[h];
    chain_store_head_id(st, s->id);
    memcpy(s->root, chain_store_head_header(st)->state_root, 32);
    store_digest(st, s->digest);
    for (size_t i = 0; i < NDEV + 2; i++) {
        assert_int_equal(chain_store_get_account(st, &g_addrs[i], &s->acc[i], NULL), 0);
        s->naddr_txs[i] = addr_txs(st, &g_addrs[i]).n;
    }
}

/* The store is exactly as when h was the head. */
static void expect_at(chain_store *st, uint64_t h)
{
    const height_snap *s = &g_snap[h];
    util_err err = {0};
    assert_int_equal(chain_store_height(st), h);
    uint8_t id[32];
    chain_store_head_id(st, id);
    assert_memory_equal(id, s->id, 32);
    const chain_header *hh = chain_store_head_header(st);
    assert_int_equal(hh->height, h);
    chain_header_hash(hh, id);
    assert_memory_equal(id, s->id, 32);
    assert_memory_equal(hh->state_root, s->root, 32);
    uint8_t d[32];
    store_digest(st, d);
    assert_memory_equal(d, s->digest, 32);
    for (size_t i = 0; i < NDEV + 2; i++) {
        chain_account acc;
        assert_int_equal(chain_store_get_account(st, &g_addrs[i], &acc, NULL), 0);
        assert_int_equal(acc.balance, s->acc[i].balance);
        assert_int_equal(acc.nonce, s->acc[i].nonce);
        addr_count ac = addr_txs(st, &g_addrs[i]);
        assert_int_equal(ac.n, s->naddr_txs[i]);
        assert_true(ac.max_height <= h);
    }
    /* Every block above h is gone, with its receipts, commit and txs. */
    for (uint64_t x = h + 1; x <= NBLOCKS; x++) {
        const height_snap *r = &g_snap[x];
        assert_int_equal(chain_store_block_id_at(st, x, id, &err), UTIL_ENOTFOUND);
        chain_block b;
        assert_int_equal(chain_store_get_block(st, r->id, &b, NULL, &err), UTIL_ENOTFOUND);
        chain_receipt *rs;
        size_t nr;
        assert_int_equal(chain_store_get_receipts(st, r->id, &rs, &nr, &err), UTIL_ENOTFOUND);
        chain_commit c;
        assert_int_equal(chain_store_get_commit(st, x, &c, &err), UTIL_ENOTFOUND);
        for (size_t t = 0; t < r->ntx; t++) {
            uint64_t th;
            uint32_t ti;
            assert_int_equal(chain_store_tx_location(st, r->txids[t], &th, &ti, &err),
                             UTIL_ENOTFOUND);
        }
    }
    /* The state root is the one the tree holds: a proof of an account checks. */
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN];
    chain_account_key(key, &g_addrs[0]);
    chain_smt_proof proof;
    assert_int_equal(chain_store_prove(st, key, sizeof key, &proof, &err), 0);
}

static uint64_t elapsed(const struct timespec *a, const struct timespec *b)
{
    return (uint64_t)(b->tv_sec - a->tv_sec) * 1000000000u + (uint64_t)b->tv_nsec -
           (uint64_t)a->tv_nsec;
}

/* Validates and applies the recorded blocks from..to, checking the same ids
 * and roots come back; *ns and *cpu (when not NULL) grow by the wall and
 * thread CPU time spent in apply (the commit). */
static void reapply(node_fx *n, uint64_t from, uint64_t to, uint64_t *ns, uint64_t *cpu)
{
    util_err err = {0};
    for (uint64_t h = from; h <= to; h++) {
        chain_block b;
        if (chain_block_decode(&b, g_snap[h].bytes.data, g_snap[h].bytes.len, &err))
            fail_msg("decode: %s", err.msg);
        chain_block_result res;
        int reason;
        uint64_t now = b.h.time_ms + 1000;
        if (chain_blockexec_validate(&n->bx, &b, now, &res, &reason, &err))
            fail_msg("height %llu refused on re-apply: %s", (unsigned long long)h, err.msg);
        assert_memory_equal(res.id, g_snap[h].id, 32);
        struct timespec t0, t1, c0, c1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        if (chain_blockexec_apply(&n->bx, &b, &res, &g_snap[h].commit, &reason, &err))
            fail_msg("apply: %s", err.msg);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (ns) *ns += elapsed(&t0, &t1);
        if (cpu) *cpu += elapsed(&c0, &c1);
        chain_block_result_free(&res);
        chain_block_free(&b);
        assert_memory_equal(chain_store_head_header(n->st)->state_root, g_snap[h].root, 32);
    }
}

/* --- the chain ----------------------------------------------------------- */

static void add_block_txs(chain_mempool *mp, uint64_t h)
{
    /* Transfers every block, among the devs. */
    for (uint32_t k = 0; k < 2; k++) {
        uint32_t from = (uint32_t)(h + k) % NDEV, to = (uint32_t)(h + k + 1) % NDEV;
        chain_tx tx = mk(from, CHAIN_TX_TRANSFER, CHAIN_GAS_TRANSFER);
        fx_dev_addr(&tx.body.transfer.to, to);
        tx.body.transfer.amount = 1000 + h;
        sign_add(mp, &tx, from);
    }
    if (h == 3) {
        uint8_t *code;
        size_t len;
        util_err err = {0};
        if (vm_asm_source("vault", VAULT, strlen(VAULT), &code, &len, &err))
            fail_msg("asm: %s", err.msg);
        chain_tx tx =
            mk(0, CHAIN_TX_DEPLOY, CHAIN_GAS_DEPLOY + CHAIN_GAS_DEPLOY_PER_BYTE * (uint64_t)len);
        tx.body.deploy.code = code;
        tx.body.deploy.len = (uint32_t)len;
        sign_add(mp, &tx, 0);
    }
    if (h > 4 && h % 2 == 1) { /* calls: storage slot and a payment change */
        chain_tx tx = mk(1, CHAIN_TX_CALL, 200000);
        tx.body.call.contract = g_addrs[NDEV];
        tx.body.call.value = 10 + h;
        tx.body.call.input = calloc(1, 32);
        assert_non_null(tx.body.call.input);
        tx.body.call.input[31] = (uint8_t)h;
        tx.body.call.len = 32;
        sign_add(mp, &tx, 1);
    }
    if (h == 6) {
        chain_tx tx = mk(2, CHAIN_TX_DATANET_CREATE, CHAIN_GAS_DATANET_CREATE);
        assert_int_equal(chain_tx_set_str(&tx.body.datanet_create.name, "open", CHAIN_NAME_MAX), 0);
        sign_add(mp, &tx, 2);
    }
    if (h >= 7 && h <= 20 && h % 3 == 0) {
        chain_tx tx = mk(3, CHAIN_TX_CONTRIBUTE, CHAIN_GAS_CONTRIBUTE);
        tx.body.contribute.datanet = 1;
        memset(tx.body.contribute.content_hash, (int)h, 32);
        tx.body.contribute.size = 10;
        sign_add(mp, &tx, 3);
    }
}

/* A pool on n's store (followed across a reopen). */
static chain_mempool *new_pool(node_fx *n)
{
    return nfx_mempool_new(fx_devnet(), 0, nfx_store_account, &n->st);
}

/* Produces the chain on a store with undo records on, snapshotting every height. */
static void produce_chain(node_fx *n)
{
    const chain_genesis *g = fx_devnet();
    chain_mempool *mp = new_pool(n);
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    util_err err = {0};
    take_snap(n->st, 0);
    uint64_t now = g->genesis_time_ms;
    for (uint64_t h = 1; h <= NBLOCKS; h++) {
        add_block_txs(mp, h);
        now += 1000;
        chain_block b;
        int built, reason;
        if (chain_blockexec_propose(&n->bx, mp, &proposer, now, 1, &b, &built, &err))
            fail_msg("propose: %s", err.msg);
        assert_int_equal(built, 1);
        chain_block_result res;
        if (chain_blockexec_validate(&n->bx, &b, now, &res, &reason, &err))
            fail_msg("own block refused: %s", err.msg);
        for (size_t i = 0; i < res.n; i++)
            if (res.rs[i].status != CHAIN_RECEIPT_OK)
                fail_msg("height %llu tx %zu failed: %s", (unsigned long long)h, i,
                         res.rs[i].error);
        if (h == 3) {
            int found = 0;
            for (size_t i = 0; i < b.ntx; i++)
                if (b.txs[i].type == CHAIN_TX_DEPLOY) {
                    g_addrs[NDEV] = res.rs[i].created;
                    found = 1;
                }
            assert_true(found);
        }
        height_snap *s = &g_snap[h];
        nfx_sign_commit(fx_devnet(), b.h.height, res.id, &s->commit);
        assert_int_equal(chain_blockexec_apply(&n->bx, &b, &res, &s->commit, &reason, &err), 0);
        chain_block_result_free(&res);
        chain_mempool_on_block(mp, &b);
        util_buf_init(&s->bytes);
        assert_int_equal(chain_block_encode(&b, &s->bytes), 0);
        assert_true(b.ntx >= 2 && b.ntx <= 8);
        s->ntx = b.ntx;
        for (size_t i = 0; i < b.ntx; i++)
            memcpy(s->txids[i], b.txs[i].id, 32);
        chain_block_free(&b);
        take_snap(n->st, h);
    }
    chain_mempool_free(mp);
}

static int setup(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < NDEV; i++)
        fx_dev_addr(&g_addrs[i], i);
    memset(g_addrs[NDEV + 1].b, 0xab, CHAIN_ADDR_LEN);
    node_fx n;
    node_new(&n, 64);
    produce_chain(&n);
    chain_store_close(n.st);
    snprintf(g_dir, sizeof g_dir, "%s", n.dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_rm_tree(g_dir);
    for (size_t h = 1; h <= NBLOCKS; h++)
        util_buf_free(&g_snap[h].bytes);
    return 0;
}

/* A copy of the produced chain's store, so that each test starts from it. */
static void node_copy(node_fx *n, uint32_t undo_blocks)
{
    memset(n, 0, sizeof *n);
    snprintf(n->dir, sizeof n->dir, "/tmp/ol-test-undo-XXXXXX");
    assert_non_null(mkdtemp(n->dir));
    char cmd[200];
    snprintf(cmd, sizeof cmd, "cp -r %s/. %s/", g_dir, n->dir);
    assert_int_equal(system(cmd), 0);
    store_open(n, undo_blocks);
}

/* --- tests --------------------------------------------------------------- */

static void test_rollback_and_reapply(void **state)
{
    (void)state;
    node_fx n;
    node_copy(&n, 64);
    util_err err = {0};
    expect_at(n.st, NBLOCKS);
    assert_int_equal(undo_records(n.st), NBLOCKS); /* block 0 has none */
    assert_int_equal(chain_store_rollback_floor(n.st), 0);

    /* Rolling back to the head changes nothing; above it is refused. */
    uint64_t wb = chain_store_write_bytes(n.st);
    assert_int_equal(chain_store_rollback(n.st, NBLOCKS, &err), 0);
    assert_int_equal(chain_store_write_bytes(n.st), wb);
    assert_int_equal(chain_store_rollback(n.st, NBLOCKS + 1, &err), UTIL_EINVAL);
    expect_at(n.st, NBLOCKS);

    /* Several depths: across transfers only, the contract calls and the
     * contributions, the deploy, and down to block 0. */
    static const uint64_t to[] = {29, 25, 17, 12, 3, 2, 0};
    for (size_t i = 0; i < sizeof to / sizeof to[0]; i++) {
        if (chain_store_rollback(n.st, to[i], &err)) fail_msg("rollback: %s", err.msg);
        expect_at(n.st, to[i]);
        assert_int_equal(undo_records(n.st), to[i]);
        reapply(&n, to[i] + 1, NBLOCKS, NULL, NULL);
        expect_at(n.st, NBLOCKS);
        assert_int_equal(undo_records(n.st), NBLOCKS);
    }

    /* Several rollbacks in a row, then partial re-applies. */
    assert_int_equal(chain_store_rollback(n.st, 20, &err), 0);
    assert_int_equal(chain_store_rollback(n.st, 10, &err), 0);
    expect_at(n.st, 10);
    reapply(&n, 11, 15, NULL, NULL);
    expect_at(n.st, 15);
    assert_int_equal(chain_store_rollback(n.st, 5, &err), 0);
    expect_at(n.st, 5);

    /* The rollback is durable, and the records below it stay usable. */
    node_reopen(&n, 64);
    expect_at(n.st, 5);
    assert_int_equal(chain_store_rollback_floor(n.st), 0);
    assert_int_equal(chain_store_rollback(n.st, 4, &err), 0);
    node_reopen(&n, 64);
    expect_at(n.st, 4);
    reapply(&n, 5, NBLOCKS, NULL, NULL);
    expect_at(n.st, NBLOCKS);
    node_free(&n);
}

/* An L1 reorganisation's case: after a rollback, other blocks (here empty
 * ones, with a later time) take the heights; they roll back in turn, and the
 * first chain re-applies. */
static void test_other_fork(void **state)
{
    (void)state;
    node_fx n;
    node_copy(&n, 64);
    util_err err = {0};
    assert_int_equal(chain_store_rollback(n.st, 15, &err), 0);
    chain_mempool *mp = new_pool(&n);
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    uint64_t now = chain_store_head_header(n.st)->time_ms;
    for (int i = 0; i < 4; i++) {
        now += 1500;
        chain_block b;
        int built, reason;
        assert_int_equal(chain_blockexec_propose(&n.bx, mp, &proposer, now, 1, &b, &built, &err),
                         0);
        assert_int_equal(built, 1);
        chain_block_result res;
        assert_int_equal(chain_blockexec_validate(&n.bx, &b, now, &res, &reason, &err), 0);
        assert_memory_not_equal(res.id, g_snap[b.h.height].id, 32);
        chain_commit c;
        nfx_sign_commit(fx_devnet(), b.h.height, res.id, &c);
        assert_int_equal(chain_blockexec_apply(&n.bx, &b, &res, &c, &reason, &err), 0);
        chain_block_result_free(&res);
        chain_block_free(&b);
    }
    chain_mempool_free(mp);
    assert_int_equal(chain_store_height(n.st), 19);
    assert_int_equal(undo_records(n.st), 19);
    assert_int_equal(chain_store_rollback(n.st, 15, &err), 0);
    expect_at(n.st, 15);
    reapply(&n, 16, NBLOCKS, NULL, NULL);
    expect_at(n.st, NBLOCKS);
    node_free(&n);
}

static void test_floor_and_pruning(void **state)
{
    (void)state;
    node_fx n;
    node_copy(&n, 5);
    util_err err = {0};
    /* Opening with a smaller undo_blocks drops the records beyond it. */
    assert_int_equal(undo_records(n.st), 5);
    assert_int_equal(chain_store_rollback_floor(n.st), NBLOCKS - 5);
    assert_int_equal(chain_store_rollback(n.st, NBLOCKS - 6, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "undo records reach down to"));
    expect_at(n.st, NBLOCKS);
    assert_int_equal(chain_store_rollback(n.st, NBLOCKS - 5, &err), 0);
    expect_at(n.st, NBLOCKS - 5);
    assert_int_equal(undo_records(n.st), 0);
    assert_int_equal(chain_store_rollback_floor(n.st), NBLOCKS - 5);
    assert_int_equal(chain_store_rollback(n.st, NBLOCKS - 6, &err), UTIL_EINVAL);

    /* Back down to 10 on the full copy, then forward with undo_blocks 5:
     * never more than 5 records. */
    node_free(&n);
    node_copy(&n, 64);
    assert_int_equal(chain_store_rollback(n.st, 10, &err), 0);
    node_reopen(&n, 5);
    assert_int_equal(undo_records(n.st), 5);
    for (uint64_t h = 11; h <= NBLOCKS; h++) {
        reapply(&n, h, h, NULL, NULL);
        assert_int_equal(undo_records(n.st), 5);
        assert_int_equal(chain_store_rollback_floor(n.st), h - 5);
    }
    expect_at(n.st, NBLOCKS);
    assert_int_equal(chain_store_rollback(n.st, NBLOCKS - 5, &err), 0);
    expect_at(n.st, NBLOCKS - 5);
    node_free(&n);
}

static void test_undo_off(void **state)
{
    (void)state;
    node_fx n;
    node_copy(&n, 64);
    util_err err = {0};
    assert_int_equal(chain_store_rollback(n.st, 20, &err), 0);
    /* Off: no records written, no rollback below the head; the records
     * left from before stay untouched. */
    node_reopen(&n, 0);
    assert_int_equal(chain_store_rollback_floor(n.st), 20);
    reapply(&n, 21, 25, NULL, NULL);
    expect_at(n.st, 25);
    assert_int_equal(undo_records(n.st), 20);
    assert_int_equal(chain_store_rollback_floor(n.st), 25);
    assert_int_equal(chain_store_rollback(n.st, 24, &err), UTIL_EINVAL);
    /* On again: the records below the gap cannot take the store back (the
     * blocks 21..25 have none), so they are deleted; new ones start. */
    node_reopen(&n, 64);
    assert_int_equal(undo_records(n.st), 0);
    assert_int_equal(chain_store_rollback_floor(n.st), 25);
    reapply(&n, 26, NBLOCKS, NULL, NULL);
    assert_int_equal(undo_records(n.st), 5);
    assert_int_equal(chain_store_rollback_floor(n.st), 25);
    assert_int_equal(chain_store_rollback(n.st, 25, &err), 0);
    expect_at(n.st, 25);
    node_free(&n);
}

/* State-only records (what --proof-history keeps): past values of state
 * keys are served, rollback across them is refused with ESTATE, and they are
 * smaller than full records. */
static void test_state_only(void **state)
{
    (void)state;
    node_fx n;
    node_copy(&n, 64);
    util_err err = {0};
    assert_int_equal(chain_store_rollback(n.st, 20, &err), 0);
    g_state_only = 1;
    node_reopen(&n, 64);
    reapply(&n, 21, NBLOCKS, NULL, NULL);
    g_state_only = 0;
    expect_at(n.st, NBLOCKS);
    /* Values at height 22 of every tracked account, checked against the
     * tree's commitment at that height (what state_getProof does). */
    size_t served = 0;
    for (size_t i = 0; i < NDEV + 2; i++) {
        uint8_t key[CHAIN_ACCOUNT_KEY_LEN];
        chain_account_key(key, &g_addrs[i]);
        chain_state_proof *p = calloc(1, sizeof *p);
        assert_non_null(p);
        assert_int_equal(chain_store_prove_at(n.st, key, sizeof key, 22, g_snap[22].root, p, &err),
                         0);
        if (!p->exists) {
            chain_state_proof_free(p);
            free(p);
            continue;
        }
        chain_account acc;
        assert_int_equal(chain_account_decode(&acc, p->value, p->vlen), 0);
        assert_int_equal(acc.balance, g_snap[22].acc[i].balance);
        assert_int_equal(acc.nonce, g_snap[22].acc[i].nonce);
        chain_state_proof_free(p);
        free(p);
        served++;
    }
    assert_true(served >= NDEV);
    assert_int_equal(chain_store_rollback(n.st, NBLOCKS - 1, &err), UTIL_ESTATE);
    assert_non_null(strstr(err.msg, "holds the state only"));
    expect_at(n.st, NBLOCKS);
    node_free(&n);
}

/* Writes v under the undo record key of height h, straight into LevelDB (the
 * store closed), as damage would. */
static void damage_undo(const char *dir, uint64_t h, const char *v, size_t vl)
{
    leveldb_options_t *o = leveldb_options_create();
    char *e = NULL;
    leveldb_t *db = leveldb_open(o, dir, &e);
    assert_null(e);
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    uint8_t k[CHAIN_DBKEY_HEIGHT_LEN];
    leveldb_put(db, wo, (const char *)k, chain_dbkey_undo(k, h), v, vl, &e);
    assert_null(e);
    leveldb_writeoptions_destroy(wo);
    leveldb_close(db);
    leveldb_options_destroy(o);
}

/* A malformed record anywhere in the range refuses the whole rollback with
 * its height, and nothing is written. */
static void test_malformed_record(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        size_t len;
    } bad[] = {
        {"", 0},                  /* empty */
        {"\x03\x00", 2},          /* another version */
        {"\x01\x05", 2},          /* entries missing */
        {"\x01\x01\x01H\x02", 5}, /* a presence byte of 2 */
        {"\x01\x00\x00", 3},      /* trailing bytes */
        {"\x01\x01\x00\x00", 4},  /* an empty key */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        node_fx n;
        node_copy(&n, 64);
        chain_store_close(n.st);
        damage_undo(n.dir, 27, bad[i].v, bad[i].len);
        store_open(&n, 64);
        util_err err = {0};
        uint64_t wb = chain_store_write_bytes(n.st);
        assert_int_equal(chain_store_rollback(n.st, 20, &err), UTIL_EIO);
        assert_non_null(strstr(err.msg, "malformed undo record at height 27"));
        assert_int_equal(chain_store_write_bytes(n.st), wb);
        expect_at(n.st, NBLOCKS);
        /* Above the damage, the records still work. */
        assert_int_equal(chain_store_rollback(n.st, 27, &err), 0);
        expect_at(n.st, 27);
        node_free(&n);
    }
}

/* A rollback under the unsynced-write shim (tests/fault/unsynced.c), the
 * process killed right after it returns: what a power cut leaves is the
 * store after the whole rollback, so its one batch was synced with
 * everything in it. The child is this program, re-executed with the shim
 * preloaded; skipped when the shim is not built next to it. */
static void test_rollback_survives_power_cut(void **state)
{
    (void)state;
    char exe[512], shim[600];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(len > 0);
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    assert_non_null(slash);
    *slash = 0;
    snprintf(shim, sizeof shim, "%s/libol_fault_unsynced.so", exe);
    *slash = '/';
    if (access(shim, R_OK) != 0) {
        print_message("no %s: build ol_fault_unsynced to run this test\n", shim);
        skip();
    }
    node_fx n;
    node_copy(&n, 64);
    chain_store_close(n.st); /* the child takes the store's lock */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("LD_PRELOAD", shim, 1);
        setenv("OL_FAULT_DIR", n.dir, 1);
        setenv("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0", 1);
        setenv("OL_UNDO_CHILD_DIR", n.dir, 1);
        setenv("OL_UNDO_CHILD_TO", "12", 1);
        execl(exe, exe, (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("the child did not die by SIGKILL after its rollback (status %d)", status);
    store_open(&n, 64);
    expect_at(n.st, 12);
    reapply(&n, 13, NBLOCKS, NULL, NULL);
    expect_at(n.st, NBLOCKS);
    node_free(&n);
}

/* The child of test_rollback_survives_power_cut. */
static int child_rollback(const char *dir, uint64_t to)
{
    chain_store *st;
    util_err err = {0};
    chain_store_opts o = {.undo_blocks = 64};
    if (chain_store_open_opts(&st, dir, &o, &err) || chain_store_rollback(st, to, &err)) {
        fprintf(stderr, "child: %s\n", err.msg);
        return 1;
    }
    kill(getpid(), SIGKILL);
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

#define MEASURE_ROUNDS 5

/* The same chain, from block 0, on a store with records off and one with
 * them on, MEASURE_ROUNDS times each, alternating: the bytes written per
 * block and the median time of apply (validate excluded; the synced write
 * included, so the disk's noise too), then the time of rolling the whole
 * chain back. Printed only. */
static void test_measure(void **state)
{
    (void)state;
    uint64_t bytes[2] = {0}, ns[2][MEASURE_ROUNDS * NBLOCKS], cpu[2][MEASURE_ROUNDS * NBLOCKS],
             rb_ns[MEASURE_ROUNDS];
    for (int round = 0; round < MEASURE_ROUNDS; round++)
        for (int k = 0; k < 2; k++) {
            int on = (round + k) % 2;
            node_fx n;
            node_new(&n, on ? 64 : 0);
            uint64_t b0 = chain_store_write_bytes(n.st);
            for (uint64_t h = 1; h <= NBLOCKS; h++) {
                size_t at = (size_t)round * NBLOCKS + h - 1;
                ns[on][at] = cpu[on][at] = 0;
                reapply(&n, h, h, &ns[on][at], &cpu[on][at]);
            }
            bytes[on] = chain_store_write_bytes(n.st) - b0;
            expect_at(n.st, NBLOCKS);
            assert_int_equal(undo_records(n.st), on ? NBLOCKS : 0);
            if (on) {
                struct timespec t0, t1;
                util_err err = {0};
                clock_gettime(CLOCK_MONOTONIC, &t0);
                assert_int_equal(chain_store_rollback(n.st, 0, &err), 0);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                rb_ns[round] = elapsed(&t0, &t1);
                expect_at(n.st, 0);
            }
            node_free(&n);
        }
    size_t m = MEASURE_ROUNDS * NBLOCKS;
    for (int on = 0; on < 2; on++) {
        qsort(ns[on], m, sizeof ns[on][0], cmp_u64);
        qsort(cpu[on], m, sizeof cpu[on][0], cmp_u64);
        print_message("undo %s: %llu bytes/block, apply median %llu us wall, %llu us CPU\n",
                      on ? "on " : "off", (unsigned long long)(bytes[on] / NBLOCKS),
                      (unsigned long long)(ns[on][m / 2] / 1000),
                      (unsigned long long)(cpu[on][m / 2] / 1000));
    }
    qsort(rb_ns, MEASURE_ROUNDS, sizeof rb_ns[0], cmp_u64);
    print_message("rollback of %d blocks: median %llu us\n", NBLOCKS,
                  (unsigned long long)(rb_ns[MEASURE_ROUNDS / 2] / 1000));
    assert_true(bytes[1] > bytes[0]);
}

int main(void)
{
    const char *child = getenv("OL_UNDO_CHILD_DIR");
    if (child) return child_rollback(child, strtoull(getenv("OL_UNDO_CHILD_TO"), NULL, 10));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollback_and_reapply),
        cmocka_unit_test(test_other_fork),
        cmocka_unit_test(test_floor_and_pruning),
        cmocka_unit_test(test_undo_off),
        cmocka_unit_test(test_state_only),
        cmocka_unit_test(test_rollback_survives_power_cut),
        cmocka_unit_test(test_malformed_record),
        cmocka_unit_test(test_measure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
