/* The inbox watch on a real anvil (--hardfork prague), behind a proxy that
 * counts every request the watch sends (rollup/inbox_watch.h): a tick with
 * no new L1 block sends one request; new posts, a channel split across
 * ticks, an L1 reorganisation and blob posts give the batches a full scan
 * (rollup_inbox_scan_sync) gives, reading only the new blocks and each blob
 * once. The batches come from the source chain of derive_fixture.h. */
#include "tests/unit/rollup/derive_fixture.h"

#include <inttypes.h>

#include "rollup/contracts/artifacts.h"
#include "rollup/eth/blob.h"
#include "rollup/eth/kzg.h"
#include "rollup/inbox.h"
#include "rollup/inbox_watch.h"
#include "rollup/l1/txmgr.h"
#include "tests/unit/rollup/l1_anvil.h"
#include "tests/unit/rollup/l1_proxy.h"

static const uint8_t SK0[32] = {0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6,
                                0xb4, 0xd2, 0x38, 0xff, 0x94, 0x4b, 0xac, 0xb4, 0x78, 0xcb, 0xed,
                                0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80};

static l1_anvil anvil = {.hardfork = "prague"};
static l1_proxy proxy;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* --- posting ---------------------------------------------------------------- */

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
    return out.r;
}

static uint64_t send_calldata_frame(const uint8_t *frame, size_t len)
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
    return r.block_number;
}

/* L2 blocks first..last as one channel, split into `parts` frames. */
static void channel_frames(uint64_t first, uint64_t last, size_t parts, uint8_t ***frames,
                           size_t **lens, size_t *nf)
{
    util_err err = {0};
    uint8_t *chan;
    size_t clen;
    assert_int_equal(rollup_batch_encode(fx_devnet()->hash, &blocks[first], last - first + 1,
                                         &commits[last], 3, &chan, &clen, &err),
                     0);
    assert_int_equal(
        rollup_frames_split(chan, clen, (clen + parts - 1) / parts, frames, lens, nf, &err), 0);
    assert_int_equal(*nf, parts);
    free(chan);
}

/* L2 blocks first..last in one calldata post; its L1 block. */
static uint64_t post(uint64_t first, uint64_t last)
{
    uint8_t **frames;
    size_t *lens, nf;
    channel_frames(first, last, 1, &frames, &lens, &nf);
    uint64_t bn = send_calldata_frame(frames[0], lens[0]);
    rollup_frames_free(frames, lens, nf);
    return bn;
}

static uint64_t l1_number(void)
{
    json_t *r = l1_rpc(anvil.url, "eth_blockNumber", "[]");
    assert_non_null(r);
    uint64_t n = strtoull(json_string_value(r) + 2, NULL, 16);
    json_decref(r);
    return n;
}

static void mine(int n)
{
    for (int i = 0; i < n; i++)
        json_decref(l1_rpc(anvil.url, "evm_mine", "[]"));
}

/* --- the watch, through the proxy --------------------------------------------- */

typedef struct watcher {
    uv_loop_t loop;
    rollup_l1 *l1;
    rollup_beacon *beacon;
    rollup_inbox_watch *w;
    /* the last tick's answer */
    int done, rc;
    util_err err;
    rollup_inbox_batch *b;
    size_t n;
    uint64_t head;
} watcher;

static void watcher_open(watcher *x)
{
    util_err err = {0};
    memset(x, 0, sizeof *x);
    assert_int_equal(uv_loop_init(&x->loop), 0);
    assert_int_equal(rollup_l1_new(&x->l1, &x->loop, proxy.url, NULL, &err), 0);
    assert_int_equal(rollup_beacon_new(&x->beacon, &x->loop, proxy.url, &err), 0);
    assert_int_equal(rollup_inbox_watch_new(&x->w, x->l1, x->beacon, &cfg, &err), 0);
}

static void watcher_close(watcher *x)
{
    rollup_beacon_close(x->beacon);
    rollup_l1_close(x->l1);
    rollup_inbox_watch_free(x->w);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&x->loop), 0);
    free(x->b);
}

static void on_tick(void *ctx, int rc, const rollup_inbox_batch *b, size_t n, uint64_t head,
                    const util_err *err)
{
    watcher *x = ctx;
    x->done = 1;
    x->rc = rc;
    if (rc) {
        x->err = *err;
        return;
    }
    free(x->b);
    x->b = n ? malloc(n * sizeof *b) : NULL;
    if (n) memcpy(x->b, b, n * sizeof *b);
    x->n = n;
    x->head = head;
}

/* One tick; the requests it sent are what the proxy recorded since. */
static void tick(watcher *x)
{
    util_err err = {0};
    l1_proxy_clear(&proxy);
    x->done = 0;
    assert_int_equal(rollup_inbox_watch_tick(x->w, on_tick, x, &err), 0);
    /* One at a time. */
    assert_int_equal(rollup_inbox_watch_tick(x->w, on_tick, x, &err), UTIL_ESTATE);
    while (!x->done)
        uv_run(&x->loop, UV_RUN_ONCE);
    if (x->rc) fail_msg("tick: %s", x->err.msg);
}

/* The watch's batches are a full scan's, at the same head. */
static void same_as_full_scan(const watcher *x)
{
    rollup_inbox_batch *b = NULL;
    size_t n = 0;
    uint64_t head = 0;
    util_err err = {0};
    if (rollup_inbox_scan_sync(anvil.url, anvil.url, &cfg, &b, &n, &head, &err))
        fail_msg("full scan: %s", err.msg);
    assert_int_equal(head, x->head);
    assert_int_equal(n, x->n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(b[i].first, x->b[i].first);
        assert_int_equal(b[i].last, x->b[i].last);
        assert_int_equal(b[i].l1_block, x->b[i].l1_block);
        assert_memory_equal(b[i].l1_block_hash, x->b[i].l1_block_hash, 32);
        assert_memory_equal(b[i].tx_hash, x->b[i].tx_hash, 32);
        assert_int_equal(b[i].frames, x->b[i].frames);
    }
    free(b);
}

/* The eth_getLogs and block requests recorded start above block `above`. */
static void only_above(uint64_t above)
{
    pthread_mutex_lock(&proxy.mu);
    for (size_t i = 0; i < proxy.nlog; i++) {
        json_t *j = json_loads(proxy.log[i] + 5, 0, NULL); /* after "POST " */
        if (!j) continue;                                  /* a beacon GET */
        const char *m = json_string_value(json_object_get(j, "method"));
        json_t *p0 = json_array_get(json_object_get(j, "params"), 0);
        uint64_t at = UINT64_MAX;
        if (m && strcmp(m, "eth_getLogs") == 0)
            at = strtoull(json_string_value(json_object_get(p0, "fromBlock")) + 2, NULL, 16);
        else if (m && strcmp(m, "eth_getBlockByNumber") == 0 &&
                 json_is_true(json_array_get(json_object_get(j, "params"), 1)))
            at = strtoull(json_string_value(p0) + 2, NULL, 16);
        json_decref(j);
        if (at != UINT64_MAX && at <= above)
            fail_msg("request over an old block %" PRIu64 " (cursor %" PRIu64 "): %s", at, above,
                     proxy.log[i]);
    }
    pthread_mutex_unlock(&proxy.mu);
}

static uint64_t cursor_of(const watcher *x)
{
    rollup_inbox_watch_stats s;
    rollup_inbox_watch_get_stats(x->w, &s);
    assert_true(s.has_cursor);
    return s.cursor;
}

/* --- tests -------------------------------------------------------------------- */

/* (a) A tick with no new L1 block sends one request; (b) posts added
 * between ticks are found reading only the new blocks. */
static void test_idle_and_new_posts(void **state)
{
    (void)state;
    post(1, 4);
    post(5, 8);
    mine(3);
    watcher x;
    watcher_open(&x);
    tick(&x);
    size_t first = l1_proxy_count(&proxy, NULL);
    assert_int_equal(x.n, 2);
    same_as_full_scan(&x);
    /* What a full scan costs on this chain, through the same proxy. */
    rollup_inbox_batch *b = NULL;
    size_t n = 0;
    util_err err = {0};
    l1_proxy_clear(&proxy);
    assert_int_equal(rollup_inbox_scan_sync(proxy.url, proxy.url, &cfg, &b, &n, NULL, &err), 0);
    size_t full = l1_proxy_count(&proxy, NULL);
    free(b);

    tick(&x);
    printf("chain of %" PRIu64 " L1 blocks, 2 posts: first tick %zu requests, full scan %zu, "
           "idle tick %zu\n",
           x.head, first, full, l1_proxy_count(&proxy, NULL));
    assert_int_equal(l1_proxy_count(&proxy, NULL), 1);
    assert_int_equal(l1_proxy_count(&proxy, "\"latest\""), 1);
    assert_int_equal(l1_proxy_count(&proxy, "eth_getLogs"), 0);
    assert_int_equal(x.n, 2);

    /* New posts, and empty blocks: only (cursor, head] is read. */
    uint64_t cur = cursor_of(&x);
    post(9, 12);
    mine(2);
    post(13, 14);
    tick(&x);
    only_above(cur);
    assert_int_equal(l1_proxy_count(&proxy, "eth_getLogs"), 1);
    assert_int_equal(x.n, 4);
    same_as_full_scan(&x);
    tick(&x);
    assert_int_equal(l1_proxy_count(&proxy, NULL), 1);
    rollup_inbox_watch_stats s;
    rollup_inbox_watch_get_stats(x.w, &s);
    assert_int_equal(s.block_requests, 4); /* each post's block once */
    assert_int_equal(s.reorgs, 0);
    watcher_close(&x);
}

/* (c) A channel whose frames are in blocks read by different ticks. */
static void test_channel_across_ticks(void **state)
{
    (void)state;
    watcher x;
    watcher_open(&x);
    tick(&x);
    size_t before = x.n;
    uint8_t **frames;
    size_t *lens, nf;
    channel_frames(15, 20, 3, &frames, &lens, &nf);
    send_calldata_frame(frames[0], lens[0]);
    tick(&x);
    assert_int_equal(x.n, before);
    uint64_t cur = cursor_of(&x);
    for (size_t i = 1; i < nf - 1; i++)
        send_calldata_frame(frames[i], lens[i]);
    mine(1);
    tick(&x);
    assert_int_equal(x.n, before);
    send_calldata_frame(frames[nf - 1], lens[nf - 1]);
    tick(&x);
    only_above(cur);
    assert_int_equal(x.n, before + 1);
    assert_int_equal(x.b[x.n - 1].first, 15);
    assert_int_equal(x.b[x.n - 1].last, 20);
    assert_int_equal(x.b[x.n - 1].frames, nf);
    same_as_full_scan(&x);
    rollup_frames_free(frames, lens, nf);
    watcher_close(&x);
}

/* (d) An L1 reorganisation that drops a post: seen at the next tick, the
 * watch rewinds to a checkpoint still canonical and equals a full scan. */
static void test_reorg(void **state)
{
    (void)state;
    watcher x;
    watcher_open(&x);
    mine(1);
    tick(&x);
    size_t before = x.n;
    uint64_t good = cursor_of(&x);
    json_t *snap = l1_rpc(anvil.url, "evm_snapshot", "[]");
    assert_non_null(snap);
    post(21, 24);
    mine(2);
    tick(&x);
    assert_int_equal(x.n, before + 1);
    uint64_t old_head = x.head;
    /* Back to the snapshot, then a longer branch with another post. */
    json_t *p = json_pack("[O]", snap);
    json_t *ok = NULL;
    util_err err = {0};
    assert_int_equal(rollup_l1_call_sync(anvil.url, "evm_revert", p, &ok, &err), 0);
    assert_true(json_is_true(ok));
    json_decref(ok);
    json_decref(p);
    json_decref(snap);
    assert_int_equal(l1_number(), good);
    mine(1);
    post(21, 22);
    mine(2);
    assert_true(l1_number() >= old_head);
    tick(&x);
    rollup_inbox_watch_stats s;
    rollup_inbox_watch_get_stats(x.w, &s);
    assert_int_equal(s.reorgs, 1);
    assert_int_equal(s.rewinds, 1);
    assert_int_equal(s.rescans, 0);
    only_above(good);
    assert_int_equal(x.n, before + 1);
    assert_int_equal(x.b[x.n - 1].last, 22);
    same_as_full_scan(&x);

    /* The head below the cursor (a shorter branch) is a reorganisation too. */
    snap = l1_rpc(anvil.url, "evm_snapshot", "[]");
    uint64_t at = l1_number();
    mine(3);
    tick(&x);
    p = json_pack("[O]", snap);
    assert_int_equal(rollup_l1_call_sync(anvil.url, "evm_revert", p, &ok, &err), 0);
    json_decref(ok);
    json_decref(p);
    json_decref(snap);
    assert_int_equal(l1_number(), at);
    tick(&x);
    rollup_inbox_watch_get_stats(x.w, &s);
    assert_int_equal(s.reorgs, 2);
    assert_int_equal(x.head, at);
    same_as_full_scan(&x);
    watcher_close(&x);
}

static void revert_to(json_t *snap)
{
    json_t *p = json_pack("[O]", snap);
    json_t *ok = NULL;
    util_err err = {0};
    assert_int_equal(rollup_l1_call_sync(anvil.url, "evm_revert", p, &ok, &err), 0);
    assert_true(json_is_true(ok));
    json_decref(ok);
    json_decref(p);
    json_decref(snap);
}

/* A reorganisation while a channel is open: no checkpoint is taken while a
 * channel may be open (rewinding there would lose its first frame), so the
 * watch rewinds to the one before its first frame; one deeper than every
 * checkpoint scans again from deployBlock. */
static void test_reorg_open_channel(void **state)
{
    (void)state;
    watcher x;
    watcher_open(&x);
    mine(1);
    tick(&x);
    size_t before = x.n;
    uint8_t **frames;
    size_t *lens, nf;
    channel_frames(25, 28, 3, &frames, &lens, &nf);
    send_calldata_frame(frames[0], lens[0]);
    tick(&x);
    json_t *snap = l1_rpc(anvil.url, "evm_snapshot", "[]");
    assert_non_null(snap);
    send_calldata_frame(frames[1], lens[1]);
    tick(&x);
    revert_to(snap);
    mine(1);
    send_calldata_frame(frames[1], lens[1]);
    send_calldata_frame(frames[2], lens[2]);
    tick(&x);
    rollup_frames_free(frames, lens, nf);
    rollup_inbox_watch_stats s;
    rollup_inbox_watch_get_stats(x.w, &s);
    assert_int_equal(s.reorgs, 1);
    assert_int_equal(s.rewinds, 1);
    assert_int_equal(x.n, before + 1);
    assert_int_equal(x.b[x.n - 1].first, 25);
    assert_int_equal(x.b[x.n - 1].last, 28);
    same_as_full_scan(&x);
    watcher_close(&x);

    /* Deeper than every checkpoint (a new watch has one, its first head). */
    watcher y;
    watcher_open(&y);
    snap = l1_rpc(anvil.url, "evm_snapshot", "[]");
    assert_non_null(snap);
    post(29, 30);
    tick(&y);
    revert_to(snap);
    mine(3);
    tick(&y);
    rollup_inbox_watch_get_stats(y.w, &s);
    assert_int_equal(s.reorgs, 1);
    assert_int_equal(s.rewinds, 0);
    assert_int_equal(s.rescans, 1);
    same_as_full_scan(&y);
    watcher_close(&y);
}

/* (e) Blob posts: each blob fetched (and KZG-checked) once, not per tick. */
static void test_blobs_once(void **state)
{
    (void)state;
    util_err err = {0};
    assert_int_equal(rollup_kzg_init(&err), 0);
    watcher x;
    watcher_open(&x);
    tick(&x);
    size_t before = x.n;
    uint8_t **frames;
    size_t *lens, nf;
    channel_frames(23, 30, 3, &frames, &lens, &nf);
    send_blob_frames(frames, lens, nf);
    rollup_frames_free(frames, lens, nf);
    mine(1);
    tick(&x);
    assert_int_equal(l1_proxy_count(&proxy, "/eth/v1/beacon/blobs/"), 1);
    assert_int_equal(x.n, before + 1);
    assert_int_equal(x.b[x.n - 1].last, 30);
    same_as_full_scan(&x);
    for (int i = 0; i < 3; i++) {
        if (i) mine(1);
        tick(&x);
        assert_int_equal(l1_proxy_count(&proxy, "/eth/v1/beacon/"), 0);
    }
    rollup_inbox_watch_stats s;
    rollup_inbox_watch_get_stats(x.w, &s);
    assert_int_equal(s.blob_requests, 1);
    assert_int_equal(s.blobs, nf);
    watcher_close(&x);
}

/* What a tick costs against a full scan on a chain with more posts (printed
 * for bench/README.md-style numbers; only the counts are asserted). */
static void test_cost(void **state)
{
    (void)state;
    util_err err = {0};
    for (uint64_t h = 1; h <= 30; h++)
        post(h, h);
    for (int i = 0; i < 4; i++) {
        uint8_t **frames;
        size_t *lens, nf;
        channel_frames(31 + 2 * (uint64_t)i, 32 + 2 * (uint64_t)i, 3, &frames, &lens, &nf);
        send_blob_frames(frames, lens, nf);
        rollup_frames_free(frames, lens, nf);
    }
    watcher x;
    watcher_open(&x);
    double t0 = now_ms();
    tick(&x);
    double t1 = now_ms();
    size_t first = l1_proxy_count(&proxy, NULL);
    rollup_inbox_batch *b = NULL;
    size_t n = 0;
    l1_proxy_clear(&proxy);
    double t2 = now_ms();
    assert_int_equal(rollup_inbox_scan_sync(proxy.url, proxy.url, &cfg, &b, &n, NULL, &err), 0);
    double t3 = now_ms();
    size_t full = l1_proxy_count(&proxy, NULL);
    size_t full_blobs = l1_proxy_count(&proxy, "/eth/v1/beacon/blobs/");
    free(b);
    double t4 = now_ms();
    tick(&x);
    double t5 = now_ms();
    size_t idle = l1_proxy_count(&proxy, NULL);
    post(1, 2);
    mine(1);
    double t6 = now_ms();
    tick(&x);
    double t7 = now_ms();
    size_t one = l1_proxy_count(&proxy, NULL);
    printf("%zu batches on %" PRIu64 " L1 blocks (4 blob posts of 3 blobs): full scan %zu "
           "requests (%zu beacon) in %.0f ms; watch: first tick %zu in %.0f ms, idle tick %zu in "
           "%.0f ms, tick after one new post %zu in %.0f ms\n",
           n, x.head, full, full_blobs, t3 - t2, first, t1 - t0, idle, t5 - t4, one, t7 - t6);
    assert_int_equal(idle, 1);
    /* latest, the cursor block, one eth_getLogs, the post's block */
    assert_int_equal(one, 4);
    same_as_full_scan(&x);
    watcher_close(&x);
}

static int setup_all(void **state)
{
    setup(state);
    if (l1_anvil_start(&anvil)) return -1;
    if (l1_proxy_start(&proxy, anvil.port)) return -1;
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
    cfg.deploy_block = r.block_number;
    return 0;
}

static int teardown_all(void **state)
{
    l1_proxy_stop(&proxy);
    l1_anvil_stop(&anvil);
    return teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_and_new_posts),
        cmocka_unit_test(test_channel_across_ticks),
        cmocka_unit_test(test_reorg),
        cmocka_unit_test(test_reorg_open_channel),
        cmocka_unit_test(test_blobs_once),
        cmocka_unit_test(test_cost),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
