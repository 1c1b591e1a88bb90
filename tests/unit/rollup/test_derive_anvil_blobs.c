/* Blob posts end to end on a real anvil (--hardfork prague): the source
 * chain of derive_fixture.h posted to a real BatchInbox, partly as blobs
 * (rollup_txmgr_send_blobs, postBlobs with KZG commitments and proofs) and
 * partly as calldata in between, then derived by a deriver reading the L1
 * and anvil's beacon API (real client, real KZG check), and found by the
 * inbox scan; without a beacon endpoint the scan refuses to guess. */
#include "tests/unit/rollup/derive_fixture.h"

#include <inttypes.h>
#include <time.h>

#include "rollup/contracts/artifacts.h"
#include "rollup/eth/blob.h"
#include "rollup/eth/kzg.h"
#include "rollup/inbox.h"
#include "rollup/l1/txmgr.h"
#include "tests/unit/rollup/l1_anvil.h"

static const uint8_t SK0[32] = {0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6,
                                0xb4, 0xd2, 0x38, 0xff, 0x94, 0x4b, 0xac, 0xb4, 0x78, 0xcb, 0xed,
                                0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80};

static l1_anvil anvil = {.hardfork = "prague"};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct sent {
    int done, rc;
    rollup_l1_receipt r;
    util_err err;
} sent;

static void on_sent(void *ctx, int rc, const rollup_l1_receipt *r, const util_err *err)
{
    sent *s = ctx;
    s->done = 1;
    s->rc = rc;
    if (r) s->r = *r;
    if (rc) s->err = *err;
}

/* One postBlobs transaction carrying frames[0..n) in n blobs. */
static rollup_l1_receipt send_blob_frames(uint8_t **frames, size_t *lens, size_t n)
{
    util_err err = {0};
    uint8_t *blobs[ROLLUP_BLOBS_PER_TX];
    uint8_t comm[ROLLUP_BLOBS_PER_TX][48], proof[ROLLUP_BLOBS_PER_TX][48];
    assert_true(n >= 1 && n <= ROLLUP_BLOBS_PER_TX);
    for (size_t i = 0; i < n; i++) {
        blobs[i] = calloc(1, ROLLUP_BLOB_BYTES);
        assert_int_equal(rollup_blob_pack(frames[i], lens[i], blobs[i], &err), 0);
        assert_int_equal(rollup_kzg_commit(blobs[i], comm[i], &err), 0);
        assert_int_equal(rollup_kzg_proof(blobs[i], comm[i], proof[i], &err), 0);
    }
    util_buf cd;
    util_buf_init(&cd);
    rollup_abi_val v = {.kind = ROLLUP_ABI_BYTES, .p = comm[0], .n = 48 * n};
    rollup_abi_encode_call(&cd, "postBlobs(bytes)", &v, 1);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    rollup_l1 *l1 = NULL;
    rollup_txmgr *m = NULL;
    rollup_txmgr_opts o = {.chain_id = 31337, .poll_ms = 50};
    assert_int_equal(rollup_l1_new(&l1, &loop, anvil.url, NULL, &err), 0);
    assert_int_equal(rollup_txmgr_new(&m, l1, SK0, &o, &err), 0);
    sent out = {0};
    assert_int_equal(rollup_txmgr_send_blobs(m, &cfg.batch_inbox, cd.data, cd.len, 0,
                                             (const uint8_t *const *)blobs,
                                             (const uint8_t(*)[48])comm,
                                             (const uint8_t(*)[48])proof, n, on_sent, &out, &err),
                     0);
    uint64_t until = uv_now(&loop) + 60000;
    while (!out.done && uv_now(&loop) < until)
        uv_run(&loop, UV_RUN_ONCE);
    rollup_txmgr_close(m);
    rollup_l1_close(l1);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    util_buf_free(&cd);
    for (size_t i = 0; i < n; i++)
        free(blobs[i]);
    if (!out.done || out.rc)
        fail_msg("postBlobs: %s", out.done ? out.err.msg : "no answer in 60 s");
    assert_true(out.r.blob_gas_used == 131072 * n);
    return out.r;
}

static rollup_l1_receipt send_calldata_frame(const uint8_t *frame, size_t len)
{
    util_buf cd;
    util_buf_init(&cd);
    rollup_abi_val v = {.kind = ROLLUP_ABI_BYTES, .p = frame, .n = len};
    rollup_abi_encode_call(&cd, "post(bytes)", &v, 1);
    rollup_txmgr_opts o = {.chain_id = 31337, .poll_ms = 50};
    rollup_l1_receipt r;
    util_err err = {0};
    if (rollup_txmgr_send_sync(anvil.url, SK0, &o, &cfg.batch_inbox, cd.data, cd.len, 0, &r, &err))
        fail_msg("post: %s", err.msg);
    util_buf_free(&cd);
    return r;
}

/* Blocks first..last as frames of frame_max bytes: the first nblob frames
 * in one blob transaction, the rest as calldata posts. */
static void post(uint64_t first, uint64_t last, size_t frame_max, size_t nblob)
{
    util_err err = {0};
    uint8_t *chan, **frames;
    size_t clen, *lens, nf;
    assert_int_equal(rollup_batch_encode(fx_devnet()->hash, &blocks[first], last - first + 1,
                                         &commits[last], 3, &chan, &clen, &err),
                     0);
    assert_int_equal(rollup_frames_split(chan, clen, frame_max, &frames, &lens, &nf, &err), 0);
    assert_true(nblob <= nf);
    rollup_l1_receipt r = send_blob_frames(frames, lens, nblob);
    printf("blocks %" PRIu64 "..%" PRIu64 ": %zu frames, %zu in blobs (L1 block %" PRIu64
           ", gas %" PRIu64 ", blob gas %" PRIu64 ")\n",
           first, last, nf, nblob, r.block_number, r.gas_used, r.blob_gas_used);
    for (size_t i = nblob; i < nf; i++)
        send_calldata_frame(frames[i], lens[i]);
    rollup_frames_free(frames, lens, nf);
    free(chan);
}

static int setup_all(void **state)
{
    setup(state);
    if (l1_anvil_start(&anvil)) return -1;
    /* BatchInbox(batcher = anvil's first account, l2Genesis). */
    util_buf b;
    util_buf_init(&b);
    util_buf_put(&b, rollup_contract_batch_inbox_init, rollup_contract_batch_inbox_init_len);
    rollup_eth_addr acct0;
    util_err err = {0};
    assert_int_equal(rollup_eth_addr_from_seckey(&acct0, SK0, &err), 0);
    rollup_abi_val args[2] = {{.kind = ROLLUP_ABI_ADDRESS, .addr = acct0},
                              {.kind = ROLLUP_ABI_BYTES32}};
    memcpy(args[1].word, fx_devnet()->hash, 32);
    rollup_abi_encode(&b, args, 2);
    rollup_txmgr_opts o = {.chain_id = 31337, .poll_ms = 50};
    rollup_l1_receipt r;
    assert_int_equal(rollup_txmgr_send_sync(anvil.url, SK0, &o, NULL, b.data, b.len, 0, &r, &err),
                     0);
    util_buf_free(&b);
    assert_true(r.has_contract);
    cfg.batch_inbox = r.contract_address;
    cfg.batcher = acct0;
    memset(cfg.output_oracle.b, 0x22, 20); /* no code: no outputs */
    cfg.deploy_block = r.block_number;
    return 0;
}

static int teardown_all(void **state)
{
    l1_anvil_stop(&anvil);
    return teardown(state);
}

static void test_blobs_on_anvil(void **state)
{
    (void)state;
    util_err err = {0};
    assert_int_equal(rollup_kzg_init(&err), 0);
    post(1, 12, 800, 2);     /* two blobs, then calldata frames */
    post(13, 24, 100000, 1); /* one blob */
    /* Derive from the L1 and anvil's beacon API. */
    deriver dv;
    memset(&dv, 0, sizeof dv);
    snprintf(dv.dir, sizeof dv.dir, "/tmp/ol-test-derive-XXXXXX");
    assert_non_null(mkdtemp(dv.dir));
    chain_store_opts so = {.undo_blocks = 100};
    assert_int_equal(chain_store_open_opts(&dv.st, dv.dir, &so, &err), 0);
    assert_int_equal(chain_store_init_genesis(dv.st, fx_devnet(), &err), 0);
    uv_loop_init(&dv.loop);
    rollup_l1 *l1 = NULL;
    assert_int_equal(rollup_l1_new(&l1, &dv.loop, anvil.url, NULL, &err), 0);
    assert_int_equal(rollup_beacon_new(&dv.beacon, &dv.loop, anvil.url, &err), 0);
    rollup_derive_opts o = {.poll_ms = 50, .beacon = dv.beacon};
    assert_int_equal(rollup_derive_new(&dv.d, &dv.loop, l1, &cfg, fx_devnet(), dv.st, &o, &err), 0);
    double t0 = now_ms();
    assert_int_equal(rollup_derive_start(dv.d, &err), 0);
    while (chain_store_height(dv.st) < 24 && !st_of(&dv).halted && now_ms() - t0 < 60000)
        uv_run(&dv.loop, UV_RUN_ONCE);
    double t1 = now_ms();
    rollup_derive_status s = st_of(&dv);
    if (chain_store_height(dv.st) != 24)
        fail_msg("derived to %llu: halted %d (%s), last error %s",
                 (unsigned long long)chain_store_height(dv.st), s.halted, s.halt_reason,
                 s.last_error);
    printf("derived 24 blocks from 3 blobs and calldata in %.0f ms\n", t1 - t0);
    same_as_source(&dv, 24);
    assert_int_equal(s.frames_refused, 0);
    rollup_derive_close(dv.d);
    rollup_beacon_close(dv.beacon);
    rollup_l1_close(l1);
    uv_run(&dv.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&dv.loop), 0);
    chain_store_close(dv.st);
    fx_rm_tree(dv.dir);

    /* The inbox scan finds both batches; without a beacon it fails. */
    rollup_inbox_batch *bs = NULL;
    size_t n = 0;
    uint64_t head = 0;
    assert_int_equal(rollup_inbox_scan_sync(anvil.url, anvil.url, &cfg, &bs, &n, &head, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(bs[0].first, 1);
    assert_int_equal(bs[0].last, 12);
    assert_int_equal(bs[1].first, 13);
    assert_int_equal(bs[1].last, 24);
    assert_int_equal(rollup_inbox_next(bs, n, NULL), 25);
    free(bs);
    assert_int_equal(rollup_inbox_scan_sync(anvil.url, NULL, &cfg, &bs, &n, &head, &err),
                     UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "--l1-beacon"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blobs_on_anvil),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
