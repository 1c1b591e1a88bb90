/* Derivation (rollup/derive.h) against a fake L1 that answers from memory:
 * a chain produced on one store is posted as batches into fake L1 blocks and
 * derived into a second store through the block executor; outputs are
 * checked (a wrong one halts, naming the height); an L1 reorganisation that
 * drops a batch rolls the derived blocks back and the re-posted data is
 * followed; a batch above head + 1 is skipped; a corrupt channel and an
 * invalid block halt with their reason, leaving the store at the last good
 * block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/node_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/exec/blockexec.h"
#include "chain/mempool/mempool.h"
#include "chain/state/store.h"
#include "rollup/batch.h"
#include "rollup/derive.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/keccak.h"
#include "rollup/output.h"
#include "util/hex.h"

#define NBLOCKS 40

/* --- the source chain ------------------------------------------------------ */

static char src_dir[64];
static chain_store *src;
static chain_block blocks[NBLOCKS + 1]; /* by height */
static chain_commit commits[NBLOCKS + 1];

static void build_source(void)
{
    const chain_genesis *g = fx_devnet();
    util_err err = {0};
    snprintf(src_dir, sizeof src_dir, "/tmp/ol-test-derive-XXXXXX");
    assert_non_null(mkdtemp(src_dir));
    assert_int_equal(chain_store_open(&src, src_dir, &err), 0);
    assert_int_equal(chain_store_init_genesis(src, g, &err), 0);
    chain_mempool *mp = nfx_mempool_new(g, 0, nfx_store_account, &src);
    chain_blockexec bx = {.g = g, .st = src};
    chain_addr proposer;
    fx_dev_addr(&proposer, NFX_VALIDATOR_KEY);
    uint64_t now = g->genesis_time_ms + 5000;
    for (uint64_t h = 1; h <= NBLOCKS; h++) {
        /* A transfer in every other block, so state roots move. */
        if (h % 2) {
            chain_tx tx = nfx_transfer(g, 0, 1, h, h / 2);
            assert_int_equal(chain_mempool_add(mp, &tx, &err), CHAIN_MP_OK);
            chain_tx_free(&tx);
        }
        now += 1000;
        chain_block b;
        int built, reason;
        assert_int_equal(chain_blockexec_propose(&bx, mp, &proposer, now, 1, &b, &built, &err), 0);
        chain_block_result res;
        assert_int_equal(chain_blockexec_validate(&bx, &b, now, &res, &reason, &err), 0);
        nfx_sign_commit(g, h, res.id, &commits[h]);
        assert_int_equal(chain_blockexec_apply(&bx, &b, &res, &commits[h], &reason, &err), 0);
        chain_block_result_free(&res);
        chain_mempool_on_block(mp, &b);
        blocks[h] = b;
    }
    chain_mempool_free(mp);
}

/* --- the fake L1 ------------------------------------------------------------ */

static rollup_config cfg;
static json_t *l1_blocks; /* full blocks, by number from 0 */
static json_t *l1_logs;
static uint32_t l1_salt; /* changes the hashes of blocks made after a reorganisation */
static uint64_t l1_time = 1000;
/* What OutputOracle's storage holds: the latest output (eth_call). */
static uint64_t oracle_latest, oracle_ts;
static uint8_t oracle_root[32];

static json_t *hexj(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    s[0] = '0', s[1] = 'x';
    util_hex_encode(s + 2, p, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *qj(uint64_t v)
{
    char s[32];
    snprintf(s, sizeof s, "0x%llx", (unsigned long long)v);
    return json_string(s);
}

static void block_hash(uint8_t out[32], uint64_t n)
{
    uint8_t in[12];
    memcpy(in, &n, 8);
    memcpy(in + 8, &l1_salt, 4);
    rollup_keccak256(out, in, sizeof in);
}

/* A new L1 block holding at most one transaction (from, to, input) and its
 * log (NULL: none). Returns the block number. */
static uint64_t l1_add_block(const rollup_eth_addr *from, const rollup_eth_addr *to,
                             const uint8_t *input, size_t ilen, json_t *log)
{
    uint64_t n = json_array_size(l1_blocks);
    uint8_t h[32], ph[32] = {0}, th[32];
    block_hash(h, n);
    if (n) {
        const char *p =
            json_string_value(json_object_get(json_array_get(l1_blocks, n - 1), "hash"));
        assert_int_equal(util_hex_decode_exact(ph, 32, p + 2), 0);
    }
    json_t *txs = json_array();
    if (from) {
        rollup_keccak_ctx k;
        rollup_keccak_init(&k);
        rollup_keccak_update(&k, input, ilen);
        rollup_keccak_update(&k, h, 32);
        rollup_keccak_final(&k, th);
        json_array_append_new(txs,
                              json_pack("{s:o,s:o,s:o,s:o,s:o}", "hash", hexj(th, 32), "from",
                                        hexj(from->b, 20), "to", hexj(to->b, 20),
                                        "transactionIndex", qj(0), "input", hexj(input, ilen)));
    }
    l1_time += 12;
    json_array_append_new(l1_blocks, json_pack("{s:o,s:o,s:o,s:o,s:o}", "number", qj(n), "hash",
                                               hexj(h, 32), "parentHash", hexj(ph, 32), "timestamp",
                                               qj(l1_time), "transactions", txs));
    if (log) {
        json_object_set_new(log, "blockNumber", qj(n));
        json_object_set_new(log, "blockHash", hexj(h, 32));
        json_object_set_new(log, "transactionHash", hexj(th, 32));
        json_object_set_new(log, "transactionIndex", qj(0));
        json_object_set_new(log, "logIndex", qj(0));
        json_object_set_new(log, "removed", json_false());
        json_array_append_new(l1_logs, log);
    }
    return n;
}

static void l1_reset(void)
{
    json_decref(l1_blocks);
    json_decref(l1_logs);
    l1_blocks = json_array();
    l1_logs = json_array();
    l1_salt = 0;
    oracle_latest = oracle_ts = 0;
    for (int i = 0; i < 3; i++)
        l1_add_block(NULL, NULL, NULL, 0, NULL);
}

/* Drops L1 blocks from number n on (and their logs); new ones get new hashes. */
static void l1_reorg(uint64_t n)
{
    while (json_array_size(l1_blocks) > n)
        json_array_remove(l1_blocks, json_array_size(l1_blocks) - 1);
    size_t i = 0;
    while (i < json_array_size(l1_logs)) {
        const char *bn =
            json_string_value(json_object_get(json_array_get(l1_logs, i), "blockNumber"));
        if (strtoull(bn + 2, NULL, 16) >= n)
            json_array_remove(l1_logs, i);
        else
            i++;
    }
    l1_salt++;
}

static void topic_of(uint8_t out[32], const char *sig)
{
    rollup_keccak256(out, sig, strlen(sig));
}

static uint64_t l1_post_frame(const uint8_t *frame, size_t n)
{
    util_buf call;
    util_buf_init(&call);
    rollup_abi_val v = {.kind = ROLLUP_ABI_BYTES, .p = frame, .n = n};
    rollup_abi_encode_call(&call, "post(bytes)", &v, 1);
    uint8_t t0[32], t1[32] = {0}, dh[32];
    topic_of(t0, "BatchPosted(address,bytes32)");
    memcpy(t1 + 12, cfg.batcher.b, 20);
    rollup_keccak256(dh, frame, n);
    json_t *log = json_pack("{s:o,s:[o,o],s:o}", "address", hexj(cfg.batch_inbox.b, 20), "topics",
                            hexj(t0, 32), hexj(t1, 32), "data", hexj(dh, 32));
    uint64_t bn = l1_add_block(&cfg.batcher, &cfg.batch_inbox, call.data, call.len, log);
    util_buf_free(&call);
    return bn;
}

/* Posts blocks first..last (tamper 1: the first one's state root changed;
 * 2: a bad signature in the first one, 3: in the last one). */
static void l1_post(uint64_t first, uint64_t last, int tamper)
{
    util_err err = {0};
    size_t n = last - first + 1;
    chain_block *bs = calloc(n, sizeof *bs);
    memcpy(bs, &blocks[first], n * sizeof *bs); /* shallow: encode only reads */
    uint8_t saved = bs[0].h.state_root[0];
    if (tamper == 1) bs[0].h.state_root[0] ^= 1;
    chain_block *tb = tamper == 3 ? &bs[n - 1] : &bs[0];
    if (tamper >= 2) {
        /* A bad signature in a block whose tx root matches it. */
        assert_true(tb->ntx > 0);
        tb->txs[0].sig[7] ^= 1;
        assert_int_equal(chain_tx_finalize(&tb->txs[0], &err), 0);
        chain_block_tx_root(tb, tb->h.tx_root);
    }
    uint8_t *chan, **frames;
    size_t clen, *lens, nf;
    assert_int_equal(
        rollup_batch_encode(fx_devnet()->hash, bs, n, &commits[last], 3, &chan, &clen, &err), 0);
    bs[0].h.state_root[0] = saved;
    if (tamper >= 2) {
        tb->txs[0].sig[7] ^= 1;
        assert_int_equal(chain_tx_finalize(&tb->txs[0], &err), 0);
    }
    free(bs);
    /* Small frames: channels span several L1 blocks. */
    assert_int_equal(rollup_frames_split(chan, clen, 600, &frames, &lens, &nf, &err), 0);
    for (size_t i = 0; i < nf; i++)
        l1_post_frame(frames[i], lens[i]);
    rollup_frames_free(frames, lens, nf);
    free(chan);
}

static void l1_output(uint64_t height, int wrong)
{
    uint8_t root[32], id[32], zero[32] = {0}, t0[32], t1[32] = {0}, data[64] = {0};
    chain_header_hash(&blocks[height].h, id);
    /* These blocks make no withdrawal: their withdrawals root is empty. */
    rollup_output_root(root, blocks[height].h.state_root, id, zero);
    if (wrong) root[5] ^= 0x40;
    topic_of(t0, "OutputProposed(uint64,bytes32,uint64)");
    for (int i = 0; i < 8; i++)
        t1[31 - i] = (uint8_t)(height >> (8 * i));
    memcpy(data, root, 32);
    uint64_t ts = l1_time + 12;
    for (int i = 0; i < 8; i++)
        data[63 - i] = (uint8_t)(ts >> (8 * i));
    json_t *log = json_pack("{s:o,s:[o,o],s:o}", "address", hexj(cfg.output_oracle.b, 20), "topics",
                            hexj(t0, 32), hexj(t1, 32), "data", hexj(data, 64));
    l1_add_block(&cfg.batcher, &cfg.output_oracle, data, 4, log);
    if (height > oracle_latest) {
        oracle_latest = height;
        oracle_ts = ts;
        memcpy(oracle_root, root, 32);
    }
}

/* One answer in flight, delivered from a timer: never inside the call. */
static uv_timer_t answer_timer;
static rollup_l1_cb pend_cb;
static void *pend_ctx;
static json_t *pend_res;
static uint64_t calls;

static void deliver(uv_timer_t *t)
{
    (void)t;
    rollup_l1_cb cb = pend_cb;
    json_t *r = pend_res;
    pend_cb = NULL;
    pend_res = NULL;
    cb(pend_ctx, 0, r, NULL);
    json_decref(r);
}

static json_t *answer_for(const char *method, json_t *params)
{
    if (strcmp(method, "eth_getBlockByNumber") == 0) {
        json_t *which = json_array_get(params, 0);
        int full = json_is_true(json_array_get(params, 1));
        size_t n = json_array_size(l1_blocks), i;
        if (json_is_string(which) && strcmp(json_string_value(which), "latest") == 0)
            i = n - 1;
        else
            i = (size_t)strtoull(json_string_value(which) + 2, NULL, 16);
        if (i >= n) return json_null();
        json_t *b = json_deep_copy(json_array_get(l1_blocks, i));
        if (!full) {
            json_t *hs = json_array();
            json_t *txs = json_object_get(b, "transactions");
            for (size_t k = 0; k < json_array_size(txs); k++)
                json_array_append(hs, json_object_get(json_array_get(txs, k), "hash"));
            json_object_set_new(b, "transactions", hs);
        }
        return b;
    }
    if (strcmp(method, "eth_getLogs") == 0) {
        json_t *f = json_array_get(params, 0);
        uint64_t from = strtoull(json_string_value(json_object_get(f, "fromBlock")) + 2, NULL, 16);
        uint64_t to = strtoull(json_string_value(json_object_get(f, "toBlock")) + 2, NULL, 16);
        json_t *out = json_array();
        for (size_t i = 0; i < json_array_size(l1_logs); i++) {
            json_t *l = json_array_get(l1_logs, i);
            uint64_t bn =
                strtoull(json_string_value(json_object_get(l, "blockNumber")) + 2, NULL, 16);
            if (bn >= from && bn <= to) json_array_append(out, l);
        }
        return out;
    }
    if (strcmp(method, "eth_call") == 0) {
        const char *data = json_string_value(json_object_get(json_array_get(params, 0), "data"));
        uint8_t sel[4], out[64] = {0};
        char hx[9];
        rollup_abi_selector(sel, "latestOutputHeight()");
        util_hex_encode(hx, sel, 4);
        if (strncmp(data + 2, hx, 8) == 0) {
            for (int i = 0; i < 8; i++)
                out[31 - i] = (uint8_t)(oracle_latest >> (8 * i));
            return hexj(out, 32);
        }
        /* getOutput(latest): the fake keeps only the latest. */
        memcpy(out, oracle_root, 32);
        for (int i = 0; i < 8; i++)
            out[63 - i] = (uint8_t)(oracle_ts >> (8 * i));
        return hexj(out, 64);
    }
    fail_msg("unexpected L1 call %s", method);
    return NULL;
}

static int fake_call(void *call_ctx, const char *method, json_t *params, rollup_l1_cb cb, void *ctx,
                     util_err *err)
{
    (void)call_ctx, (void)err;
    assert_null(pend_cb);
    calls++;
    pend_cb = cb;
    pend_ctx = ctx;
    pend_res = answer_for(method, params);
    uv_timer_start(&answer_timer, deliver, 0, 0);
    return 0;
}

/* --- the deriving side ------------------------------------------------------ */

typedef struct deriver {
    char dir[64];
    chain_store *st;
    rollup_derive *d;
    uv_loop_t loop;
    uint64_t on_block_calls;
} deriver;

static void on_block(void *ctx, const chain_block *b, const uint8_t id[32], const chain_receipt *rs,
                     size_t nrs)
{
    (void)b, (void)id, (void)rs, (void)nrs;
    ((deriver *)ctx)->on_block_calls++;
}

/* dir NULL: a new data directory. */
static void deriver_reopen(deriver *dv, const char *dir)
{
    util_err err = {0};
    memset(dv, 0, sizeof *dv);
    if (dir) {
        snprintf(dv->dir, sizeof dv->dir, "%s", dir);
    } else {
        snprintf(dv->dir, sizeof dv->dir, "/tmp/ol-test-derive-XXXXXX");
        assert_non_null(mkdtemp(dv->dir));
    }
    chain_store_opts so = {.undo_blocks = 100};
    assert_int_equal(chain_store_open_opts(&dv->st, dv->dir, &so, &err), 0);
    assert_int_equal(chain_store_init_genesis(dv->st, fx_devnet(), &err), 0);
    uv_loop_init(&dv->loop);
    uv_timer_init(&dv->loop, &answer_timer);
    rollup_derive_opts o = {
        .poll_ms = 5, .max_range = 7, .call = fake_call, .on_block = on_block, .ctx = dv};
    if (rollup_derive_new(&dv->d, &dv->loop, NULL, &cfg, fx_devnet(), dv->st, &o, &err))
        fail_msg("derive_new: %s", err.msg);
    assert_int_equal(rollup_derive_start(dv->d, &err), 0);
}

static void deriver_open(deriver *dv)
{
    deriver_reopen(dv, NULL);
}

static void deriver_stop(deriver *dv, int remove)
{
    rollup_derive_close(dv->d);
    uv_close((uv_handle_t *)&answer_timer, NULL);
    /* The deriver frees itself once its pending answer came back. */
    while (pend_cb)
        uv_run(&dv->loop, UV_RUN_ONCE);
    uv_run(&dv->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&dv->loop), 0);
    chain_store_close(dv->st);
    if (remove) fx_rm_tree(dv->dir);
}

static void deriver_close(deriver *dv)
{
    deriver_stop(dv, 1);
}

static rollup_derive_status st_of(deriver *dv)
{
    rollup_derive_status s;
    rollup_derive_status_get(dv->d, &s);
    return s;
}

/* Runs the loop until the L2 head is h (or halted / rolled back as asked),
 * at most a bounded number of L1 calls. */
static void run_until(deriver *dv, int (*done)(deriver *, uint64_t), uint64_t arg)
{
    uint64_t start = calls;
    while (!done(dv, arg)) {
        if (calls - start > 20000) {
            rollup_derive_status s = st_of(dv);
            fail_msg("not reached: head %llu halted %d (%s) last error %s",
                     (unsigned long long)chain_store_height(dv->st), s.halted, s.halt_reason,
                     s.last_error);
        }
        uv_run(&dv->loop, UV_RUN_ONCE);
    }
}

static int at_height(deriver *dv, uint64_t h)
{
    return chain_store_height(dv->st) == h && !pend_cb &&
           st_of(dv).l1_scanned + 1 >= json_array_size(l1_blocks);
}

static int halted(deriver *dv, uint64_t unused)
{
    (void)unused;
    return st_of(dv).halted;
}

static int rolled_back(deriver *dv, uint64_t n)
{
    return st_of(dv).rollbacks >= n;
}

static void same_as_source(deriver *dv, uint64_t upto)
{
    util_err err = {0};
    for (uint64_t h = 1; h <= upto; h++) {
        uint8_t a[32], b[32];
        assert_int_equal(chain_store_block_id_at(dv->st, h, a, &err), 0);
        assert_int_equal(chain_store_block_id_at(src, h, b, &err), 0);
        assert_memory_equal(a, b, 32);
    }
}

/* --- tests ---------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    chain_hash_init();
    build_source();
    memset(&cfg, 0, sizeof cfg);
    cfg.l1_chain_id = 31337;
    memcpy(cfg.l2_genesis_hash, fx_devnet()->hash, 32);
    memset(cfg.batch_inbox.b, 0x11, 20);
    memset(cfg.output_oracle.b, 0x22, 20);
    memset(cfg.batcher.b, 0x33, 20);
    cfg.deploy_block = 1;
    cfg.confirmations = 2;
    cfg.finalization_period_s = 30;
    cfg.channel_timeout_blocks = 20;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int h = 1; h <= NBLOCKS; h++)
        chain_block_free(&blocks[h]);
    chain_store_close(src);
    fx_rm_tree(src_dir);
    json_decref(l1_blocks);
    json_decref(l1_logs);
    return 0;
}

static void test_derives_checks_outputs_heads(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 12, 0);
    l1_post(13, 30, 0);
    l1_output(10, 0);
    l1_output(20, 0);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, at_height, 30);
    same_as_source(&dv, 30);
    rollup_derive_status s = st_of(&dv);
    assert_int_equal(s.halted, 0);
    assert_int_equal(s.outputs_checked, 2);
    assert_int_equal(s.blocks_derived, 30);
    assert_int_equal(dv.on_block_calls, 30);
    assert_int_equal(s.l1_head, json_array_size(l1_blocks) - 1);
    /* Every batch is deeper than 2 blocks (two outputs came after). */
    assert_int_equal(s.safe, 30);
    /* Not final yet: 30 s have not passed on the L1. */
    assert_int_equal(s.has_finalized, 0);
    for (int i = 0; i < 4; i++)
        l1_add_block(NULL, NULL, NULL, 0, NULL);
    run_until(&dv, at_height, 30);
    s = st_of(&dv);
    assert_int_equal(s.has_finalized, 1);
    assert_int_equal(s.finalized, 20);
    /* The L1 origin of every block is recorded. */
    uint64_t n;
    uint8_t h[32];
    util_err err = {0};
    assert_int_equal(rollup_derive_origin(dv.st, 30, &n, h, &err), 0);
    assert_int_equal(rollup_derive_origin(dv.st, 0, &n, h, &err), UTIL_ENOTFOUND);
    /* The same data again (a batcher re-posting) is skipped, not a fault. */
    l1_post(25, 32, 0);
    run_until(&dv, at_height, 32);
    s = st_of(&dv);
    assert_int_equal(s.halted, 0);
    assert_true(s.blocks_skipped >= 6);
    /* A batch above head + 1 is skipped. */
    l1_post(35, 36, 0);
    l1_post(33, 34, 0);
    run_until(&dv, at_height, 34);
    assert_int_equal(st_of(&dv).halted, 0);
    same_as_source(&dv, 34);
    json_t *js = json_object();
    assert_int_equal(rollup_derive_status_json(dv.d, js), 0);
    assert_true(json_is_integer(json_object_get(js, "l1Head")));
    assert_true(json_is_integer(json_object_get(js, "safe")));
    assert_true(json_is_integer(json_object_get(js, "finalized")));
    assert_true(json_is_object(json_object_get(js, "l1")));
    json_decref(js);
    deriver_close(&dv);
}

static void test_reorg_rolls_back_and_follows(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 10, 0);
    uint64_t fork = json_array_size(l1_blocks);
    l1_post(11, 20, 0);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, at_height, 20);
    /* The L1 drops the second batch; other blocks take its place. */
    l1_reorg(fork);
    l1_add_block(NULL, NULL, NULL, 0, NULL);
    l1_add_block(NULL, NULL, NULL, 0, NULL);
    run_until(&dv, rolled_back, 1);
    rollup_derive_status s = st_of(&dv);
    assert_int_equal(s.blocks_rolled_back, 10);
    assert_true(chain_store_height(dv.st) == 10);
    /* Re-posted in other batches, followed again. */
    l1_post(11, 15, 0);
    l1_post(16, 25, 0);
    l1_output(20, 0);
    run_until(&dv, at_height, 25);
    same_as_source(&dv, 25);
    s = st_of(&dv);
    assert_int_equal(s.halted, 0);
    assert_int_equal(s.outputs_checked, 1);
    deriver_close(&dv);
}

/* After a restart the logs are read again from shortly before the head's
 * origin only; the oracle's latest output (eth_call) gives the finalized
 * head back, and nothing is derived again. */
static void test_restart_resumes(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 20, 0);
    l1_output(10, 0);
    l1_output(20, 0);
    for (int i = 0; i < 30; i++)
        l1_add_block(NULL, NULL, NULL, 0, NULL);
    l1_post(21, 30, 0); /* its origin is far past the outputs' logs */
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, at_height, 30);
    assert_int_equal(st_of(&dv).finalized, 20);
    char dir[64];
    snprintf(dir, sizeof dir, "%s", dv.dir);
    deriver_stop(&dv, 0);
    deriver_reopen(&dv, dir);
    run_until(&dv, at_height, 30);
    rollup_derive_status s = st_of(&dv);
    assert_int_equal(s.blocks_derived, 0);
    assert_int_equal(s.outputs_seen, 1); /* the seeded one; the logs are older than the rescan */
    assert_int_equal(s.has_finalized, 1);
    assert_int_equal(s.finalized, 20);
    assert_int_equal(s.halted, 0);
    deriver_close(&dv);
}

static void test_wrong_output_halts(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 12, 0);
    l1_output(10, 1);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, halted, 0);
    rollup_derive_status s = st_of(&dv);
    assert_non_null(strstr(s.halt_reason, "output root mismatch at L2 height 10"));
    deriver_close(&dv);
}

static void test_invalid_block_halts(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 5, 0);
    l1_post(6, 8, 1);
    l1_post(6, 8, 0); /* never read: derivation stopped */
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, halted, 0);
    rollup_derive_status s = st_of(&dv);
    assert_non_null(strstr(s.halt_reason, "L2 block 6"));
    assert_non_null(strstr(s.halt_reason, "wrong_state_root"));
    assert_int_equal(chain_store_height(dv.st), 5);
    deriver_close(&dv);
}

static void test_bad_signature_halts(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 6, 0);
    l1_post(7, 9, 2); /* block 7 holds a transfer */
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, halted, 0);
    rollup_derive_status s = st_of(&dv);
    assert_non_null(strstr(s.halt_reason, "L2 block 7"));
    assert_non_null(strstr(s.halt_reason, "invalid_tx"));
    assert_int_equal(chain_store_height(dv.st), 6);
    deriver_close(&dv);
}

/* The bad signature is in the last block of a batch, checked while the
 * blocks before it are applied: those stay, the bad one is refused. */
static void test_bad_signature_late_in_batch_halts(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 9, 3); /* block 9 holds a transfer */
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, halted, 0);
    rollup_derive_status s = st_of(&dv);
    assert_non_null(strstr(s.halt_reason, "L2 block 9"));
    assert_non_null(strstr(s.halt_reason, "invalid_tx"));
    assert_int_equal(chain_store_height(dv.st), 8);
    same_as_source(&dv, 8);
    deriver_close(&dv);
}

static void test_bad_compression_halts(void **state)
{
    (void)state;
    l1_reset();
    l1_post(1, 5, 0);
    static const uint8_t junk[] = "not a zstd frame at all";
    uint8_t **frames;
    size_t *lens, nf;
    util_err err = {0};
    assert_int_equal(rollup_frames_split(junk, sizeof junk, 0, &frames, &lens, &nf, &err), 0);
    l1_post_frame(frames[0], lens[0]);
    rollup_frames_free(frames, lens, nf);
    l1_post(6, 8, 0);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, halted, 0);
    rollup_derive_status s = st_of(&dv);
    assert_non_null(strstr(s.halt_reason, "batch"));
    assert_int_equal(chain_store_height(dv.st), 5);
    deriver_close(&dv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derives_checks_outputs_heads),
        cmocka_unit_test(test_reorg_rolls_back_and_follows),
        cmocka_unit_test(test_restart_resumes),
        cmocka_unit_test(test_wrong_output_halts),
        cmocka_unit_test(test_invalid_block_halts),
        cmocka_unit_test(test_bad_signature_halts),
        cmocka_unit_test(test_bad_signature_late_in_batch_halts),
        cmocka_unit_test(test_bad_compression_halts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
