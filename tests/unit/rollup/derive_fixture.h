/* The harness of the derivation tests (test_derive.c, test_derive_blobs.c):
 * a source chain of NBLOCKS blocks produced on one store, a fake L1 that
 * answers derivation's JSON-RPC calls from memory (blocks holding
 * transactions of any type and their logs), and a deriver on its own loop
 * and store. Header-only: each test is its own program. */
#ifndef OL_TESTS_DERIVE_FIXTURE_H
#define OL_TESTS_DERIVE_FIXTURE_H

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
#include "rollup/l1/beacon.h"
#include "rollup/output.h"
#include "util/hex.h"

/* Each test program uses some of these. */
#define DFX_HELPER static __attribute__((unused))

#define NBLOCKS 40

/* --- the source chain ------------------------------------------------------ */

static char src_dir[64];
static chain_store *src;
static chain_block blocks[NBLOCKS + 1]; /* by height */
static chain_commit commits[NBLOCKS + 1];

DFX_HELPER void build_source(void)
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

DFX_HELPER json_t *hexj(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    s[0] = '0', s[1] = 'x';
    util_hex_encode(s + 2, p, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

DFX_HELPER json_t *qj(uint64_t v)
{
    char s[32];
    snprintf(s, sizeof s, "0x%llx", (unsigned long long)v);
    return json_string(s);
}

DFX_HELPER void block_hash(uint8_t out[32], uint64_t n)
{
    uint8_t in[12];
    memcpy(in, &n, 8);
    memcpy(in + 8, &l1_salt, 4);
    rollup_keccak256(out, in, sizeof in);
}

/* A transaction of a fake L1 block: logs (a JSON array, stolen, may be NULL)
 * get their block, transaction and log index fields when the block is made. */
typedef struct fx_l1tx {
    const rollup_eth_addr *from, *to;
    const uint8_t *input;
    size_t ilen;
    uint8_t type;            /* 0: none given; 3: blob transaction */
    const uint8_t (*bh)[32]; /* type 3: blobVersionedHashes */
    size_t nbh;
    json_t *logs;
} fx_l1tx;

/* A new L1 block holding txs[0..n) in that order. Returns its number. */
DFX_HELPER uint64_t l1_add_block_txs(const fx_l1tx *t, size_t ntx)
{
    uint64_t n = json_array_size(l1_blocks);
    uint8_t h[32], ph[32] = {0};
    block_hash(h, n);
    if (n) {
        const char *p =
            json_string_value(json_object_get(json_array_get(l1_blocks, n - 1), "hash"));
        assert_int_equal(util_hex_decode_exact(ph, 32, p + 2), 0);
    }
    json_t *txs = json_array();
    uint64_t log_index = 0;
    for (size_t i = 0; i < ntx; i++) {
        uint8_t th[32], ix = (uint8_t)i;
        rollup_keccak_ctx k;
        rollup_keccak_init(&k);
        rollup_keccak_update(&k, t[i].input, t[i].ilen);
        rollup_keccak_update(&k, h, 32);
        rollup_keccak_update(&k, &ix, 1);
        rollup_keccak_final(&k, th);
        json_t *tx = json_pack("{s:o,s:o,s:o,s:o,s:o}", "hash", hexj(th, 32), "from",
                               hexj(t[i].from->b, 20), "to", hexj(t[i].to->b, 20),
                               "transactionIndex", qj(i), "input", hexj(t[i].input, t[i].ilen));
        if (t[i].type) json_object_set_new(tx, "type", qj(t[i].type));
        if (t[i].type == 3) {
            json_t *bh = json_array();
            for (size_t j = 0; j < t[i].nbh; j++)
                json_array_append_new(bh, hexj(t[i].bh[j], 32));
            json_object_set_new(tx, "blobVersionedHashes", bh);
        }
        json_array_append_new(txs, tx);
        for (size_t j = 0; j < json_array_size(t[i].logs); j++) {
            json_t *log = json_array_get(t[i].logs, j);
            json_object_set_new(log, "blockNumber", qj(n));
            json_object_set_new(log, "blockHash", hexj(h, 32));
            json_object_set_new(log, "transactionHash", hexj(th, 32));
            json_object_set_new(log, "transactionIndex", qj(i));
            json_object_set_new(log, "logIndex", qj(log_index++));
            json_object_set_new(log, "removed", json_false());
            json_array_append(l1_logs, log);
        }
        json_decref(t[i].logs);
    }
    l1_time += 12;
    json_array_append_new(l1_blocks, json_pack("{s:o,s:o,s:o,s:o,s:o}", "number", qj(n), "hash",
                                               hexj(h, 32), "parentHash", hexj(ph, 32), "timestamp",
                                               qj(l1_time), "transactions", txs));
    return n;
}

/* A new L1 block holding at most one transaction (from, to, input) and its
 * log (NULL: none). Returns the block number. */
DFX_HELPER uint64_t l1_add_block(const rollup_eth_addr *from, const rollup_eth_addr *to,
                                 const uint8_t *input, size_t ilen, json_t *log)
{
    fx_l1tx t = {.from = from, .to = to, .input = input, .ilen = ilen};
    if (log) t.logs = json_pack("[o]", log);
    return l1_add_block_txs(&t, from ? 1 : 0);
}

DFX_HELPER void l1_reset(void)
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
DFX_HELPER void l1_reorg(uint64_t n)
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

DFX_HELPER void topic_of(uint8_t out[32], const char *sig)
{
    rollup_keccak256(out, sig, strlen(sig));
}

DFX_HELPER uint64_t l1_post_frame(const uint8_t *frame, size_t n)
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
DFX_HELPER void l1_post(uint64_t first, uint64_t last, int tamper)
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

DFX_HELPER void l1_output(uint64_t height, int wrong)
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

DFX_HELPER json_t *answer_for(const char *method, json_t *params)
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

/* Calls in flight, answered in call order from a timer (never inside the
 * call), each answer made when it is delivered (so an L1 changed meanwhile
 * shows). With fx_hold_blocks, full-block calls (eth_getBlockByNumber with
 * transactions) of blocks >= fx_hold_from wait until fx_release(). */
#define FX_MAX_PEND 64
typedef struct fx_pend {
    rollup_l1_cb cb;
    void *ctx;
    char method[32];
    json_t *params;
    int full_block;
    uint64_t number;
} fx_pend;
static fx_pend pend[FX_MAX_PEND];
static size_t npend;
static uv_timer_t answer_timer;
static uint64_t calls;
static int fx_hold_blocks;
static uint64_t fx_hold_from; /* only blocks from this number on are held */
/* Full-block calls: made in all, and the highest block number asked. */
static uint64_t fx_full_calls, fx_full_max;
/* Not 0: the next full-block call for this L1 block fails (UTIL_EIO). */
static uint64_t fx_fail_block;

DFX_HELPER int fx_is_held(const fx_pend *p)
{
    return fx_hold_blocks && p->full_block && p->number >= fx_hold_from;
}

DFX_HELPER size_t fx_held(void)
{
    size_t n = 0;
    for (size_t i = 0; i < npend; i++)
        n += (size_t)fx_is_held(&pend[i]);
    return n;
}

/* Answers pend[i] (removed first: the callback may call again). */
DFX_HELPER void answer_one(size_t i)
{
    fx_pend p = pend[i];
    memmove(&pend[i], &pend[i + 1], (npend - i - 1) * sizeof *pend);
    npend--;
    if (p.full_block && fx_fail_block && p.number == fx_fail_block) {
        fx_fail_block = 0;
        json_decref(p.params);
        util_err e = {0};
        util_err_set(&e, UTIL_EIO, "eth_getBlockByNumber: connection reset (fake)");
        p.cb(p.ctx, UTIL_EIO, NULL, &e);
        return;
    }
    json_t *r = answer_for(p.method, p.params);
    json_decref(p.params);
    p.cb(p.ctx, 0, r, NULL);
    json_decref(r);
}

DFX_HELPER void deliver(uv_timer_t *t)
{
    (void)t;
    for (size_t i = 0; i < npend; i++)
        if (!fx_is_held(&pend[i])) {
            answer_one(i);
            break;
        }
    if (npend > fx_held()) uv_timer_start(&answer_timer, deliver, 0, 0);
}

DFX_HELPER void fx_release(void)
{
    fx_hold_blocks = 0;
    if (npend) uv_timer_start(&answer_timer, deliver, 0, 0);
}

DFX_HELPER int fake_call(void *call_ctx, const char *method, json_t *params, rollup_l1_cb cb,
                         void *ctx, util_err *err)
{
    (void)call_ctx, (void)err;
    assert_true(npend < FX_MAX_PEND);
    calls++;
    fx_pend *p = &pend[npend++];
    memset(p, 0, sizeof *p);
    p->cb = cb;
    p->ctx = ctx;
    snprintf(p->method, sizeof p->method, "%s", method);
    p->params = json_incref(params);
    json_t *which = json_array_get(params, 0);
    if (strcmp(method, "eth_getBlockByNumber") == 0 && json_is_true(json_array_get(params, 1)) &&
        strncmp(json_string_value(which), "0x", 2) == 0) {
        p->full_block = 1;
        p->number = strtoull(json_string_value(which) + 2, NULL, 16);
        fx_full_calls++;
        if (p->number > fx_full_max) fx_full_max = p->number;
    }
    uv_timer_start(&answer_timer, deliver, 0, 0);
    return 0;
}

/* --- the deriving side ------------------------------------------------------ */

typedef struct deriver deriver;
struct deriver {
    char dir[64];
    chain_store *st;
    rollup_derive *d;
    uv_loop_t loop;
    uint64_t on_block_calls;
    rollup_beacon *beacon;
    /* Called after each derived block (NULL: none). */
    void (*hook)(deriver *dv, const chain_block *b);
};

/* The beacon endpoint derivers get (NULL: none). */
static const char *fx_beacon_url;
/* L1 blocks per step of the derivers opened next. */
static uint32_t fx_max_range = 7;

DFX_HELPER void on_block(void *ctx, const chain_block *b, const uint8_t id[32],
                         const chain_receipt *rs, size_t nrs)
{
    (void)id, (void)rs, (void)nrs;
    deriver *dv = ctx;
    dv->on_block_calls++;
    if (dv->hook) dv->hook(dv, b);
}

/* dir NULL: a new data directory. */
DFX_HELPER void deriver_reopen(deriver *dv, const char *dir)
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
    npend = 0;
    fx_hold_blocks = 0;
    fx_hold_from = 0;
    fx_fail_block = 0;
    fx_full_calls = fx_full_max = 0;
    if (fx_beacon_url)
        assert_int_equal(rollup_beacon_new(&dv->beacon, &dv->loop, fx_beacon_url, &err), 0);
    rollup_derive_opts o = {.poll_ms = 5,
                            .max_range = fx_max_range,
                            .call = fake_call,
                            .beacon = dv->beacon,
                            .on_block = on_block,
                            .ctx = dv};
    if (rollup_derive_new(&dv->d, &dv->loop, NULL, &cfg, fx_devnet(), dv->st, &o, &err))
        fail_msg("derive_new: %s", err.msg);
    assert_int_equal(rollup_derive_start(dv->d, &err), 0);
}

DFX_HELPER void deriver_open(deriver *dv)
{
    deriver_reopen(dv, NULL);
}

DFX_HELPER void deriver_stop(deriver *dv, int remove)
{
    rollup_derive_close(dv->d);
    rollup_beacon_close(dv->beacon); /* its pending answers, if any, run now */
    uv_close((uv_handle_t *)&answer_timer, NULL);
    /* Answers still to come arrive after the close (as they may from the
     * L1): the deriver frees itself once its own came back, and what it
     * fetched ahead is freed as it arrives. */
    while (npend)
        answer_one(0);
    uv_run(&dv->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&dv->loop), 0);
    chain_store_close(dv->st);
    if (remove) fx_rm_tree(dv->dir);
}

DFX_HELPER void deriver_close(deriver *dv)
{
    deriver_stop(dv, 1);
}

DFX_HELPER rollup_derive_status st_of(deriver *dv)
{
    rollup_derive_status s;
    rollup_derive_status_get(dv->d, &s);
    return s;
}

/* Runs the loop until the L2 head is h (or halted / rolled back as asked),
 * at most a bounded number of L1 calls. */
DFX_HELPER void run_until(deriver *dv, int (*done)(deriver *, uint64_t), uint64_t arg)
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

DFX_HELPER int at_height(deriver *dv, uint64_t h)
{
    return chain_store_height(dv->st) == h && !npend &&
           st_of(dv).l1_scanned + 1 >= json_array_size(l1_blocks);
}

DFX_HELPER int halted(deriver *dv, uint64_t unused)
{
    (void)unused;
    return st_of(dv).halted;
}

DFX_HELPER int rolled_back(deriver *dv, uint64_t n)
{
    return st_of(dv).rollbacks >= n;
}

DFX_HELPER void same_as_source(deriver *dv, uint64_t upto)
{
    util_err err = {0};
    for (uint64_t h = 1; h <= upto; h++) {
        uint8_t a[32], b[32];
        assert_int_equal(chain_store_block_id_at(dv->st, h, a, &err), 0);
        assert_int_equal(chain_store_block_id_at(src, h, b, &err), 0);
        assert_memory_equal(a, b, 32);
    }
}

DFX_HELPER int setup(void **state)
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

DFX_HELPER int teardown(void **state)
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

#endif
