/* Derivation of blob posts (docs/rollup.md, "Blobs") against the fake L1 of
 * derive_fixture.h and a fake beacon endpoint (a thread serving
 * /eth/v1/beacon/blobs/N as anvil does, with no /eth/v1/config/spec): a
 * chain posted in blobs, mixed with calldata posts in the same L1 blocks, is
 * derived in L1 log order; a blob that does not match its commitment is read
 * again, not a halt; a malformed postBlobs transaction, a blob that does not
 * unpack and a blob post without a beacon endpoint halt, naming the L1
 * transaction. */
#include "tests/unit/rollup/derive_fixture.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "rollup/eth/blob.h"
#include "rollup/eth/kzg.h"
#include "rollup/derive_internal.h"
#include "tests/unit/fake_http.h"

/* --- the fake beacon endpoint ------------------------------------------------ */

#define MAX_BLOBS 64

static fake_http FH;

static struct {
    pthread_mutex_t mu;
    /* Blobs by L1 block, in block order. */
    uint64_t block[MAX_BLOBS];
    uint8_t hash[MAX_BLOBS][32];
    uint8_t *blob[MAX_BLOBS];
    size_t n;
    int tamper; /* answers left to serve with one bit flipped */
    int requests, spec_requests;
    volatile int hold; /* blob requests wait (counted first) until it is 0 */
} B;

static void serve(int fd, const char *method, const char *path)
{
    if (strcmp(method, "GET") != 0) return fh_reply(fd, 404, "{}");
    pthread_mutex_lock(&B.mu);
    if (strcmp(path, "/eth/v1/config/spec") == 0) {
        B.spec_requests++;
        pthread_mutex_unlock(&B.mu);
        return fh_reply(fd, 404, "");
    }
    unsigned long long bn;
    int off = 0;
    if (sscanf(path, "/eth/v1/beacon/blobs/%llu?versioned_hashes=%n", &bn, &off) != 1 || !off) {
        pthread_mutex_unlock(&B.mu);
        return fh_reply(fd, 404, "{\"code\":404,\"message\":\"Block not found\"}");
    }
    B.requests++;
    while (B.hold) {
        pthread_mutex_unlock(&B.mu);
        usleep(1000);
        pthread_mutex_lock(&B.mu);
    }
    const char *q = path + off;
    size_t cap = MAX_BLOBS * (2 * ROLLUP_BLOB_BYTES + 8) + 128, len = 0;
    char *body = malloc(cap);
    len += (size_t)snprintf(body, cap, "{\"execution_optimistic\":false,\"data\":[");
    int first = 1;
    for (size_t i = 0; i < B.n; i++) {
        char hx[67] = "0x";
        util_hex_encode(hx + 2, B.hash[i], 32);
        if (B.block[i] != bn || !strstr(q, hx)) continue;
        if (!first) body[len++] = ',';
        first = 0;
        body[len++] = '"', body[len++] = '0', body[len++] = 'x';
        util_hex_encode(body + len, B.blob[i], ROLLUP_BLOB_BYTES);
        if (B.tamper) { /* element 1, a data byte: still hex, another blob */
            char *c = &body[len + 2 * 40 + 1];
            *c = *c == '0' ? '1' : '0';
        }
        len += 2 * ROLLUP_BLOB_BYTES;
        body[len++] = '"';
    }
    if (B.tamper && !first) B.tamper--;
    pthread_mutex_unlock(&B.mu);
    snprintf(body + len, cap - len, "]}");
    fh_reply(fd, 200, body);
    free(body);
}

static void beacon_start(void)
{
    memset(&B, 0, sizeof B);
    pthread_mutex_init(&B.mu, NULL);
    fh_start(&FH, serve);
}

static void beacon_stop(void)
{
    fh_stop(&FH);
    for (size_t i = 0; i < B.n; i++)
        free(B.blob[i]);
    pthread_mutex_destroy(&B.mu);
}

static void beacon_forget(void)
{
    pthread_mutex_lock(&B.mu);
    for (size_t i = 0; i < B.n; i++)
        free(B.blob[i]);
    B.n = 0;
    B.tamper = 0;
    B.requests = 0;
    B.spec_requests = 0;
    pthread_mutex_unlock(&B.mu);
}

/* --- blob posts on the fake L1 ------------------------------------------------- */

enum {
    BAD_NONE,
    BAD_COMMITMENTS, /* 47 bytes of commitments per blob */
    BAD_TYPE,        /* a type-2 transaction */
    BAD_HASH,        /* the log's hash is not the transaction's */
    BAD_UNPACK,      /* the blob matches its commitment but does not unpack */
};

/* A blob transaction carrying frames[0..n), its blobs given to the fake
 * beacon under block `block`. *input is malloc'd. */
static fx_l1tx blob_tx(uint64_t block, uint8_t **frames, size_t *lens, size_t n, int bad,
                       uint8_t **input, uint8_t (**bh)[32])
{
    util_err err = {0};
    uint8_t cm[ROLLUP_BLOBS_PER_TX * 48];
    *bh = calloc(n, 32);
    assert_true(n <= ROLLUP_BLOBS_PER_TX);
    uint8_t t0[32], t1[32] = {0};
    rollup_keccak256(t0, "BlobPosted(address,bytes32)", 27);
    memcpy(t1 + 12, cfg.batcher.b, 20);
    json_t *logs = json_array();
    for (size_t i = 0; i < n; i++) {
        uint8_t *blob = calloc(1, ROLLUP_BLOB_BYTES);
        assert_int_equal(rollup_blob_pack(frames[i], lens[i], blob, &err), 0);
        if (bad == BAD_UNPACK) blob[ROLLUP_BLOB_BYTES - 1] = 7; /* after the frame */
        assert_int_equal(rollup_kzg_commit(blob, cm + 48 * i, &err), 0);
        rollup_kzg_versioned_hash(cm + 48 * i, (*bh)[i]);
        pthread_mutex_lock(&B.mu);
        assert_true(B.n < MAX_BLOBS);
        B.block[B.n] = block;
        memcpy(B.hash[B.n], (*bh)[i], 32);
        B.blob[B.n++] = blob;
        pthread_mutex_unlock(&B.mu);
        uint8_t logged[32];
        memcpy(logged, (*bh)[i], 32);
        if (bad == BAD_HASH) logged[9] ^= 1;
        json_array_append_new(logs, json_pack("{s:o,s:[o,o],s:o}", "address",
                                              hexj(cfg.batch_inbox.b, 20), "topics", hexj(t0, 32),
                                              hexj(t1, 32), "data", hexj(logged, 32)));
    }
    util_buf call;
    util_buf_init(&call);
    rollup_abi_val v = {
        .kind = ROLLUP_ABI_BYTES, .p = cm, .n = bad == BAD_COMMITMENTS ? 47 * n : 48 * n};
    rollup_abi_encode_call(&call, "postBlobs(bytes)", &v, 1);
    *input = call.data;
    fx_l1tx t = {.from = &cfg.batcher,
                 .to = &cfg.batch_inbox,
                 .input = call.data,
                 .ilen = call.len,
                 .type = bad == BAD_TYPE ? 2 : 3,
                 .bh = bad == BAD_TYPE ? NULL : (const uint8_t(*)[32]) * bh,
                 .nbh = bad == BAD_TYPE ? 0 : n,
                 .logs = logs};
    return t;
}

/* A calldata post(frame) transaction. *input is malloc'd. */
static fx_l1tx calldata_tx(const uint8_t *frame, size_t n, uint8_t **input)
{
    util_buf call;
    util_buf_init(&call);
    rollup_abi_val v = {.kind = ROLLUP_ABI_BYTES, .p = frame, .n = n};
    rollup_abi_encode_call(&call, "post(bytes)", &v, 1);
    uint8_t t0[32], t1[32] = {0}, dh[32];
    rollup_keccak256(t0, "BatchPosted(address,bytes32)", 28);
    memcpy(t1 + 12, cfg.batcher.b, 20);
    rollup_keccak256(dh, frame, n);
    json_t *log = json_pack("{s:o,s:[o,o],s:o}", "address", hexj(cfg.batch_inbox.b, 20), "topics",
                            hexj(t0, 32), hexj(t1, 32), "data", hexj(dh, 32));
    *input = call.data;
    fx_l1tx t = {.from = &cfg.batcher,
                 .to = &cfg.batch_inbox,
                 .input = call.data,
                 .ilen = call.len,
                 .logs = json_pack("[o]", log)};
    return t;
}

/* Posts blocks first..last as frames of frame_max bytes, in one L1 block:
 * the frames alternate between blob transactions (blobs_per_tx frames
 * each) and calldata transactions (one frame), so that log order matters.
 * bad applies to the first blob transaction. */
static void l1_post_mixed(uint64_t first, uint64_t last, size_t frame_max, size_t blobs_per_tx,
                          int bad)
{
    util_err err = {0};
    size_t n = last - first + 1;
    uint8_t *chan, **frames;
    size_t clen, *lens, nf;
    assert_int_equal(rollup_batch_encode(fx_devnet()->hash, &blocks[first], n, &commits[last], 3,
                                         &chan, &clen, &err),
                     0);
    assert_int_equal(rollup_frames_split(chan, clen, frame_max, &frames, &lens, &nf, &err), 0);
    uint64_t bn = json_array_size(l1_blocks);
    fx_l1tx txs[64] = {0};
    uint8_t *inputs[64];
    uint8_t(*hashes[64])[32];
    size_t nt = 0, i = 0;
    int blob_turn = 1, first_blob = 1;
    while (i < nf) {
        assert_true(nt < 64);
        hashes[nt] = NULL;
        if (blob_turn) {
            size_t k = nf - i < blobs_per_tx ? nf - i : blobs_per_tx;
            txs[nt] = blob_tx(bn, frames + i, lens + i, k, first_blob ? bad : BAD_NONE, &inputs[nt],
                              &hashes[nt]);
            first_blob = 0;
            i += k;
        } else {
            txs[nt] = calldata_tx(frames[i], lens[i], &inputs[nt]);
            i++;
        }
        nt++;
        blob_turn = !blob_turn;
    }
    l1_add_block_txs(txs, nt);
    for (size_t t = 0; t < nt; t++) {
        free(inputs[t]);
        free(hashes[t]);
    }
    rollup_frames_free(frames, lens, nf);
    free(chan);
}

/* Posts blocks first..last as frames of frame_max bytes, six blobs (one
 * blob transaction) per L1 block. Returns the number of L1 blocks made. */
static size_t l1_post_blob_blocks(uint64_t first, uint64_t last, size_t frame_max)
{
    util_err err = {0};
    uint8_t *chan, **frames;
    size_t clen, *lens, nf, nb = 0;
    assert_int_equal(rollup_batch_encode(fx_devnet()->hash, &blocks[first], last - first + 1,
                                         &commits[last], 3, &chan, &clen, &err),
                     0);
    assert_int_equal(rollup_frames_split(chan, clen, frame_max, &frames, &lens, &nf, &err), 0);
    for (size_t i = 0; i < nf; i += ROLLUP_BLOBS_PER_TX, nb++) {
        size_t k = nf - i < ROLLUP_BLOBS_PER_TX ? nf - i : ROLLUP_BLOBS_PER_TX;
        uint8_t *input;
        uint8_t(*bh)[32];
        fx_l1tx t =
            blob_tx(json_array_size(l1_blocks), frames + i, lens + i, k, BAD_NONE, &input, &bh);
        l1_add_block_txs(&t, 1);
        free(input);
        free(bh);
    }
    rollup_frames_free(frames, lens, nf);
    free(chan);
    return nb;
}

/* --- tests ------------------------------------------------------------------------ */

static void test_blob_posts_derived(void **state)
{
    (void)state;
    l1_reset();
    beacon_forget();
    l1_post_mixed(1, 12, 700, 3, BAD_NONE);
    l1_post(13, 16, 0); /* calldata only */
    l1_post_mixed(17, 30, 900, 2, BAD_NONE);
    l1_output(30, 0);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, at_height, 30);
    same_as_source(&dv, 30);
    rollup_derive_status s = st_of(&dv);
    assert_int_equal(s.halted, 0);
    assert_int_equal(s.outputs_checked, 1);
    assert_int_equal(s.frames_refused, 0);
    /* One beacon request per L1 block with blobs; the rule asked until the
     * first answer (both blocks' requests are in flight at once). */
    assert_int_equal(B.requests, 2);
    assert_true(B.spec_requests >= 1 && B.spec_requests <= 2);
    json_t *js = json_object();
    assert_int_equal(rollup_derive_status_json(dv.d, js), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(js, "l1"), "beacon")),
                        FH.url);
    json_decref(js);
    deriver_close(&dv);
}

static int head_and_requests(deriver *dv, uint64_t h)
{
    return at_height(dv, h) && B.requests >= 3;
}

/* The endpoint's fault: read again, not a halt. */
static void test_blob_mismatch_retried(void **state)
{
    (void)state;
    l1_reset();
    beacon_forget();
    l1_post(1, 4, 0);
    l1_post_mixed(5, 12, 800, 3, BAD_NONE);
    pthread_mutex_lock(&B.mu);
    B.tamper = 2;
    pthread_mutex_unlock(&B.mu);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, head_and_requests, 12);
    same_as_source(&dv, 12);
    rollup_derive_status s = st_of(&dv);
    assert_int_equal(s.halted, 0);
    assert_int_equal(B.requests, 3); /* two wrong answers, then the right one */
    assert_int_equal(B.tamper, 0);
    deriver_close(&dv);
}

static void halts_with(int bad, const char *why)
{
    l1_reset();
    beacon_forget();
    l1_post(1, 5, 0);
    l1_post_mixed(6, 10, 600, 2, bad);
    deriver dv;
    deriver_open(&dv);
    run_until(&dv, halted, 0);
    rollup_derive_status s = st_of(&dv);
    if (!strstr(s.halt_reason, why) || !strstr(s.halt_reason, "L1 tx 0x"))
        fail_msg("halt reason \"%s\" lacks \"%s\"", s.halt_reason, why);
    assert_int_equal(chain_store_height(dv.st), 5);
    deriver_close(&dv);
}

static void test_malformed_post_halts(void **state)
{
    (void)state;
    halts_with(BAD_COMMITMENTS, "commitments");
    halts_with(BAD_TYPE, "postBlobs");
    halts_with(BAD_HASH, "versioned hash");
    halts_with(BAD_UNPACK, "does not unpack");
}

static void test_no_beacon_halts(void **state)
{
    (void)state;
    fx_beacon_url = NULL;
    halts_with(BAD_NONE, "no beacon endpoint (--l1-beacon)");
    fx_beacon_url = FH.url;
}

/* L1 blocks of six blobs each (768 KiB) and a beacon endpoint that holds
 * its answers: the queue takes as many blocks as DERIVE_FETCH_BYTES allows
 * (within its window), and derives them once the blobs come. */
#define SIX_BLOBS (6u * ROLLUP_BEACON_BLOB_BYTES)
#define BLOB_BLOCKS_QUEUED                                                                         \
    (DERIVE_FETCH_BYTES / SIX_BLOBS < DERIVE_FETCH_WINDOW ? DERIVE_FETCH_BYTES / SIX_BLOBS         \
                                                          : DERIVE_FETCH_WINDOW)

static int beacon_requests(void)
{
    pthread_mutex_lock(&B.mu);
    int n = B.requests;
    pthread_mutex_unlock(&B.mu);
    return n;
}

/* Opens a deriver on blocks of six blobs with the beacon holding its
 * answers, and runs until the queue is full and waits for the first. */
static size_t open_held(deriver *dv)
{
    l1_reset();
    beacon_forget();
    size_t nb = l1_post_blob_blocks(1, 30, 100);
    assert_true(nb > BLOB_BLOCKS_QUEUED + 1);
    fx_max_range = 100;
    B.hold = 1;
    deriver_open(dv);
    for (int i = 0; i < 10000; i++) {
        uv_run(&dv->loop, UV_RUN_NOWAIT);
        if (beacon_requests() >= 1 && npend == 0) break;
        usleep(1000);
    }
    assert_true(dv->d->fq_waiting);
    return nb;
}

static void test_blob_blocks_fetched_within_bytes(void **state)
{
    (void)state;
    deriver dv;
    size_t nb = open_held(&dv);
    assert_int_equal(dv.d->fq_n, BLOB_BLOCKS_QUEUED);
    assert_int_equal(fx_full_calls, BLOB_BLOCKS_QUEUED);
    assert_true(dv.d->fq_bytes <= DERIVE_FETCH_BYTES);
    B.hold = 0;
    fx_max_range = 7;
    run_until(&dv, at_height, 30);
    same_as_source(&dv, 30);
    assert_int_equal(st_of(&dv).halted, 0);
    /* Each block and its blobs asked for once. */
    assert_int_equal(fx_full_calls, nb);
    assert_int_equal(beacon_requests(), (int)nb);
    deriver_close(&dv);
}

/* Closed while blob requests are in flight (one at the endpoint, the KZG
 * check not begun): the beacon client cancels them, the queue's entries are
 * freed (ASan). */
static void test_close_with_blobs_in_flight(void **state)
{
    (void)state;
    deriver dv;
    open_held(&dv);
    deriver_close(&dv);
    B.hold = 0;
}

static int setup_all(void **state)
{
    setup(state);
    beacon_start();
    fx_beacon_url = FH.url;
    return 0;
}

static int teardown_all(void **state)
{
    beacon_stop();
    return teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blob_posts_derived),
        cmocka_unit_test(test_blob_mismatch_retried),
        cmocka_unit_test(test_malformed_post_halts),
        cmocka_unit_test(test_no_beacon_halts),
        cmocka_unit_test(test_blob_blocks_fetched_within_bytes),
        cmocka_unit_test(test_close_with_blobs_in_flight),
    };
    signal(SIGPIPE, SIG_IGN); /* the fake endpoint answers a closed client */
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
