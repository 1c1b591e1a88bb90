/* Batches, frames and the channel assembler (rollup/batch.h): real blocks
 * produced through the block executor survive encode, split, reassembly and
 * decode, and a second node applies them; every malformed input (versions,
 * heights, truncation, trailing bytes, zip bombs, frame headers, channels
 * that time out or overflow) is refused with its reason. Also prints the
 * compressed size per transfer of a 100 x 100 batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/node_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "chain/crypto/hash.h"
#include "chain/exec/blockexec.h"
#include "chain/mempool/mempool.h"
#include "chain/state/store.h"
#include "rollup/batch.h"
#include "tests/seed.h"
#include "util/bytes.h"

#define NBLOCKS 6

/* Blocks 1..NBLOCKS of a devnet chain with transfers, and their commits. */
static chain_block g_blocks[NBLOCKS];
static chain_commit g_commits[NBLOCKS];
static uint8_t g_head_id[32];

/* A copy of b through its encoding. */
static void copy_block(chain_block *dst, const chain_block *b)
{
    util_buf buf;
    util_buf_init(&buf);
    assert_int_equal(chain_block_encode(b, &buf), 0);
    util_err err = {0};
    assert_int_equal(chain_block_decode(dst, buf.data, buf.len, &err), 0);
    util_buf_free(&buf);
}

static int make_chain(void **state)
{
    (void)state;
    nfx_node a;
    nfx_open(&a, fx_devnet(), NULL);
    util_err err = {0};
    for (uint64_t h = 0; h < NBLOCKS; h++) {
        for (uint32_t s = 0; s < 4; s++) {
            chain_tx t = nfx_transfer(a.g, s, (s + 1 + (uint32_t)h) % 10, 1000 + h, h);
            assert_int_equal(chain_mempool_add(a.mp, &t, &err), CHAIN_MP_OK);
            chain_tx_free(&t);
        }
        chain_block b;
        nfx_produce(&a, &b, &g_commits[h]);
        copy_block(&g_blocks[h], &b);
        assert_int_equal(b.ntx, 4);
        chain_block_free(&b);
    }
    chain_store_head_id(a.st, g_head_id);
    nfx_close(&a);
    return 0;
}

static int free_chain(void **state)
{
    (void)state;
    for (size_t i = 0; i < NBLOCKS; i++)
        chain_block_free(&g_blocks[i]);
    return 0;
}

static void encode_all(uint8_t **chan, size_t *len)
{
    util_err err = {0};
    if (rollup_batch_encode(fx_devnet()->hash, g_blocks, NBLOCKS, &g_commits[NBLOCKS - 1], 3, chan,
                            len, &err))
        fail_msg("encode: %s", err.msg);
}

static void same_block(const chain_block *a, const chain_block *b)
{
    util_buf x, y;
    util_buf_init(&x);
    util_buf_init(&y);
    assert_int_equal(chain_block_encode(a, &x), 0);
    assert_int_equal(chain_block_encode(b, &y), 0);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    util_buf_free(&x);
    util_buf_free(&y);
}

/* Encode, decode, then a fresh node applies the decoded blocks, each with
 * the commit found in the next block's header (the last: the batch's). */
static void test_round_trip_applies(void **state)
{
    (void)state;
    uint8_t *chan;
    size_t len;
    encode_all(&chan, &len);
    rollup_batch b;
    util_err err = {0};
    if (rollup_batch_decode(chan, len, &b, &err)) fail_msg("decode: %s", err.msg);
    free(chan);
    assert_memory_equal(b.genesis_hash, fx_devnet()->hash, 32);
    assert_int_equal(b.first, 1);
    assert_int_equal(b.count, NBLOCKS);
    for (size_t i = 0; i < NBLOCKS; i++)
        same_block(&b.blocks[i], &g_blocks[i]);
    util_buf x, y;
    util_buf_init(&x);
    util_buf_init(&y);
    assert_int_equal(chain_commit_encode(&b.last_commit, &x), 0);
    assert_int_equal(chain_commit_encode(&g_commits[NBLOCKS - 1], &y), 0);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    util_buf_free(&x);
    util_buf_free(&y);

    nfx_node n;
    nfx_open(&n, fx_devnet(), NULL);
    for (size_t i = 0; i < b.count; i++) {
        const chain_commit *c = i + 1 < b.count ? &b.blocks[i + 1].h.last_commit : &b.last_commit;
        chain_block_result res;
        int reason;
        n.now = b.blocks[i].h.time_ms + 1;
        if (chain_blockexec_validate(&n.bx, &b.blocks[i], n.now, &res, &reason, &err))
            fail_msg("block %zu refused: %s", i, err.msg);
        assert_int_equal(chain_blockexec_apply(&n.bx, &b.blocks[i], &res, c, &reason, &err), 0);
        chain_block_result_free(&res);
    }
    uint8_t id[32];
    chain_store_head_id(n.st, id);
    assert_memory_equal(id, g_head_id, 32);
    nfx_close(&n);
    rollup_batch_free(&b);
    rollup_batch_free(&b); /* idempotent */
}

/* A batch for another chain decodes: its genesis hash is reported, and the
 * caller (derivation) refuses it. */
static void test_other_genesis_reported(void **state)
{
    (void)state;
    uint8_t other[32];
    memset(other, 0x5a, 32);
    uint8_t *chan;
    size_t len;
    util_err err = {0};
    assert_int_equal(rollup_batch_encode(other, g_blocks, 2, &g_commits[1], 1, &chan, &len, &err),
                     0);
    rollup_batch b;
    assert_int_equal(rollup_batch_decode(chan, len, &b, &err), 0);
    assert_memory_equal(b.genesis_hash, other, 32);
    assert_memory_not_equal(b.genesis_hash, fx_devnet()->hash, 32);
    rollup_batch_free(&b);
    free(chan);
}

static void test_encode_refusals(void **state)
{
    (void)state;
    uint8_t *chan = NULL;
    size_t len = 0;
    util_err err = {0};
    const uint8_t *gh = fx_devnet()->hash;
    assert_int_equal(rollup_batch_encode(gh, g_blocks, 0, &g_commits[0], 3, &chan, &len, &err),
                     UTIL_EINVAL);
    chain_block two[2];
    two[0] = g_blocks[0];
    two[1] = g_blocks[2]; /* heights 1, 3 */
    assert_int_equal(rollup_batch_encode(gh, two, 2, &g_commits[2], 3, &chan, &len, &err),
                     UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "height"));
    assert_int_equal(rollup_batch_encode(gh, g_blocks, 1, &g_commits[0], 0, &chan, &len, &err),
                     UTIL_EINVAL);
    chain_block zero = g_blocks[0];
    zero.h.height = 0;
    assert_int_equal(rollup_batch_encode(gh, &zero, 1, &g_commits[0], 3, &chan, &len, &err),
                     UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "first height 0"));
    assert_null(chan);
}

/* --- hand-made batches --------------------------------------------------- */

/* Raw batch bytes: header, then blocks[idx[0..n)], then a commit. */
static void raw_batch(util_buf *raw, uint8_t version, uint64_t first, uint64_t count,
                      const size_t *idx, size_t n, int with_commit)
{
    util_buf_init(raw);
    util_buf_u8(raw, version);
    util_buf_put(raw, fx_devnet()->hash, 32);
    util_buf_u64(raw, first);
    util_buf_varint(raw, count);
    util_buf tmp;
    util_buf_init(&tmp);
    for (size_t i = 0; i < n; i++) {
        util_buf_reset(&tmp);
        assert_int_equal(chain_block_encode(&g_blocks[idx[i]], &tmp), 0);
        util_buf_lenbytes(raw, tmp.data, tmp.len);
    }
    if (with_commit) {
        util_buf_reset(&tmp);
        assert_int_equal(chain_commit_encode(&g_commits[idx[n - 1]], &tmp), 0);
        util_buf_lenbytes(raw, tmp.data, tmp.len);
    }
    util_buf_free(&tmp);
}

/* One zstd frame of p; content_size: write it in the header. */
static uint8_t *zstd_frame(const void *p, size_t n, int content_size, size_t *out_len)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    assert_non_null(cc);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1)));
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, content_size)));
    size_t cap = ZSTD_compressBound(n);
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    size_t z = ZSTD_compress2(cc, out, cap, p, n);
    assert_false(ZSTD_isError(z));
    ZSTD_freeCCtx(cc);
    *out_len = z;
    return out;
}

static void expect_decode_fails(const uint8_t *chan, size_t len, const char *why)
{
    rollup_batch b;
    memset(&b, 0x77, sizeof b);
    util_err err = {0};
    int rc = rollup_batch_decode(chan, len, &b, &err);
    if (rc != UTIL_EINVAL || !strstr(err.msg, why))
        fail_msg("expected refusal with \"%s\", got %d \"%s\"", why, rc, err.msg);
    assert_non_null(strstr(err.msg, "batch: "));
    /* Outputs untouched on failure. */
    uint8_t pattern[sizeof b];
    memset(pattern, 0x77, sizeof pattern);
    assert_memory_equal(&b, pattern, sizeof b);
}

static void expect_raw_fails(const util_buf *raw, const char *why)
{
    size_t len;
    uint8_t *chan = zstd_frame(raw->data, raw->len, 1, &len);
    expect_decode_fails(chan, len, why);
    free(chan);
}

static void test_raw_refusals(void **state)
{
    (void)state;
    size_t seq[3] = {0, 1, 2};
    util_buf raw;

    raw_batch(&raw, 0, 1, 3, seq, 3, 1); /* the good one, as control */
    size_t len;
    uint8_t *chan = zstd_frame(raw.data, raw.len, 1, &len);
    rollup_batch b;
    util_err err = {0};
    assert_int_equal(rollup_batch_decode(chan, len, &b, &err), 0);
    rollup_batch_free(&b);

    /* Trailing bytes after the batch, and after the zstd frame. */
    util_buf_u8(&raw, 0);
    expect_raw_fails(&raw, "trailing");
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, chan, len);
    longer[len] = 0;
    expect_decode_fails(longer, len + 1, "after the zstd frame");
    free(longer);
    /* A second zstd frame after the first is trailing data too. */
    uint8_t *two = malloc(2 * len);
    memcpy(two, chan, len);
    memcpy(two + len, chan, len);
    expect_decode_fails(two, 2 * len, "after the zstd frame");
    free(two);
    /* Truncated: the zstd frame, then the batch inside it. */
    expect_decode_fails(chan, len - 3, "zstd");
    expect_decode_fails(chan, 3, "not a zstd frame");
    free(chan);
    util_buf_free(&raw);
    raw_batch(&raw, 0, 1, 3, seq, 3, 0);
    expect_raw_fails(&raw, "last commit");
    util_buf_free(&raw);
    raw_batch(&raw, 0, 1, 4, seq, 3, 0);
    expect_raw_fails(&raw, "block 3");
    util_buf_free(&raw);

    raw_batch(&raw, 1, 1, 3, seq, 3, 1);
    expect_raw_fails(&raw, "version 1");
    util_buf_free(&raw);

    size_t gap[2] = {0, 2};
    raw_batch(&raw, 0, 1, 2, gap, 2, 1);
    expect_raw_fails(&raw, "block 1 has height 3, expected 2");
    util_buf_free(&raw);
    raw_batch(&raw, 0, 2, 2, seq, 2, 1); /* says first 2, holds 1 */
    expect_raw_fails(&raw, "block 0 has height 1, expected 2");
    util_buf_free(&raw);

    /* A count over the limit costs the sender a varint: refused before any
     * block is read. */
    raw_batch(&raw, 0, 1, ROLLUP_BATCH_MAX_BLOCKS + 1, seq, 0, 0);
    expect_raw_fails(&raw, "at most 10000");
    util_buf_free(&raw);
    raw_batch(&raw, 0, 1, 0, seq, 0, 0);
    expect_raw_fails(&raw, "no blocks");
    util_buf_free(&raw);
    raw_batch(&raw, 0, 0, 1, seq, 1, 1);
    expect_raw_fails(&raw, "first height");
    util_buf_free(&raw);
}

/* Offset and size of the frame content size field of a zstd frame header
 * (RFC 8878, 3.1.1.1). */
static void fcs_field(const uint8_t *f, size_t *off, size_t *size)
{
    uint8_t fhd = f[4];
    unsigned fcs_flag = fhd >> 6, single = (fhd >> 5) & 1, did = fhd & 3;
    static const size_t did_len[4] = {0, 1, 2, 4};
    static const size_t fcs_len[4] = {0, 2, 4, 8};
    *off = (size_t)5 + (single ? 0u : 1u) + did_len[did];
    *size = fcs_flag == 0 ? (single ? 1u : 0u) : fcs_len[fcs_flag];
}

static void test_zip_bombs(void **state)
{
    (void)state;
    size_t big = (size_t)ROLLUP_BATCH_MAX_RAW + 4096;
    uint8_t *zeros = calloc(1, big);
    assert_non_null(zeros);
    size_t len;

    /* An honest header past the limit: refused from the header. */
    uint8_t *chan = zstd_frame(zeros, big, 1, &len);
    assert_true(len < 8192); /* a few KiB that would cost 64 MiB */
    expect_decode_fails(chan, len, "declares");
    /* The same frame claiming 100 bytes: decompression stops there. */
    size_t off, size;
    fcs_field(chan, &off, &size);
    assert_int_equal(size, 4);
    util_put_u32le(chan + off, 100);
    assert_int_equal(ZSTD_getFrameContentSize(chan, len), 100);
    expect_decode_fails(chan, len, "batch: ");
    free(chan);

    /* No content size at all: decompression stops at the limit. */
    chan = zstd_frame(zeros, big, 0, &len);
    assert_int_equal(ZSTD_getFrameContentSize(chan, len), ZSTD_CONTENTSIZE_UNKNOWN);
    expect_decode_fails(chan, len, "decompresses past 67108864");
    free(chan);
    free(zeros);

    /* Without a content size a valid batch still decodes (the buffer grows). */
    size_t seq[3] = {0, 1, 2};
    util_buf raw;
    raw_batch(&raw, 0, 1, 3, seq, 3, 1);
    chan = zstd_frame(raw.data, raw.len, 0, &len);
    rollup_batch b;
    util_err err = {0};
    if (rollup_batch_decode(chan, len, &b, &err)) fail_msg("%s", err.msg);
    assert_int_equal(b.count, 3);
    rollup_batch_free(&b);
    /* A lying content size below the real one. */
    free(chan);
    chan = zstd_frame(raw.data, raw.len, 1, &len);
    fcs_field(chan, &off, &size);
    assert_true(size >= 2);
    if (size == 2)
        chan[off] = (uint8_t)(chan[off] - 1); /* stored as size - 256 */
    else
        util_put_u32le(chan + off, (uint32_t)raw.len - 1);
    expect_decode_fails(chan, len, "batch: ");
    free(chan);
    util_buf_free(&raw);

    /* Over the channel limit before anything is read. */
    expect_decode_fails(NULL, (size_t)ROLLUP_CHANNEL_MAX_BYTES + 1, "compressed");
}

/* --- frames and reassembly ----------------------------------------------- */

static void parse_all(uint8_t **frames, size_t *lens, size_t n, rollup_frame *out)
{
    util_err err = {0};
    for (size_t i = 0; i < n; i++)
        if (rollup_frame_parse(&out[i], frames[i], lens[i], &err)) fail_msg("%s", err.msg);
}

static uint64_t g_rng;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Split at several sizes; frames arrive shuffled, some twice, and the
 * channel comes back whole exactly when its last missing frame arrives. */
static void test_split_reassemble(void **state)
{
    (void)state;
    g_rng = ol_test_seed("test_batch", 0x9e3779b97f4a7c15ull);
    uint8_t *chan;
    size_t len;
    encode_all(&chan, &len);
    size_t sizes[] = {len / 200 + 1, 64, 333, 1000, len - 1, len, 0};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        uint8_t **frames;
        size_t *lens, n;
        util_err err = {0};
        if (rollup_frames_split(chan, len, sizes[s], &frames, &lens, &n, &err))
            fail_msg("split at %zu: %s", sizes[s], err.msg);
        size_t fmax = sizes[s] ? sizes[s] : ROLLUP_FRAME_MAX;
        assert_int_equal(n, (len + fmax - 1) / fmax);
        rollup_frame *f = calloc(n, sizeof *f);
        parse_all(frames, lens, n, f);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(f[i].index, i);
            assert_int_equal(f[i].total, n);
            assert_true(f[i].payload_len <= fmax);
        }
        size_t *order = calloc(n, sizeof *order);
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        for (size_t i = n; i > 1; i--) {
            size_t j = rnd() % i, t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        rollup_assembler *a;
        assert_int_equal(rollup_asm_new(&a, 10, &err), 0);
        uint8_t *out = NULL;
        size_t out_len = 0;
        for (size_t i = 0; i < n; i++) {
            /* Every frame of the channel within the timeout. */
            uint64_t blk = 100 + i * 10 / n;
            assert_int_equal(rollup_asm_add(a, blk, &f[order[i]], &out, &out_len, &err), 0);
            if (i + 1 < n) {
                assert_null(out);
                /* A repeat is ignored. */
                assert_int_equal(rollup_asm_add(a, blk, &f[order[i]], &out, &out_len, &err), 0);
                assert_null(out);
            }
        }
        assert_non_null(out);
        assert_int_equal(out_len, len);
        assert_memory_equal(out, chan, len);
        free(out);
        /* The completed channel is gone: a late repeat opens a new one. */
        if (n > 1) {
            assert_int_equal(rollup_asm_add(a, 105, &f[0], &out, &out_len, &err), 0);
            assert_null(out);
        }
        rollup_asm_free(a);
        free(order);
        free(f);
        rollup_frames_free(frames, lens, n);
    }
    /* Too many frames, too large a frame size. */
    uint8_t **frames;
    size_t *lens, n;
    util_err err = {0};
    assert_int_equal(rollup_frames_split(chan, len, len / 300, &frames, &lens, &n, &err),
                     UTIL_EINVAL);
    assert_int_equal(rollup_frames_split(chan, len, ROLLUP_FRAME_MAX + 1, &frames, &lens, &n, &err),
                     UTIL_EINVAL);
    assert_int_equal(rollup_frames_split(chan, 0, 0, &frames, &lens, &n, &err), UTIL_EINVAL);
    free(chan);
}

static void expect_frame_fails(const uint8_t *p, size_t n, const char *why)
{
    rollup_frame f;
    util_err err = {0};
    int rc = rollup_frame_parse(&f, p, n, &err);
    if (rc != UTIL_EINVAL || !strstr(err.msg, why))
        fail_msg("expected frame refusal \"%s\", got %d \"%s\"", why, rc, err.msg);
}

static void frame_bytes(uint8_t *p, uint8_t id_byte, uint16_t index, uint16_t total)
{
    p[0] = 'O';
    p[1] = 'L';
    p[2] = ROLLUP_FRAME_VERSION;
    memset(p + 3, id_byte, 16);
    p[19] = (uint8_t)(index >> 8);
    p[20] = (uint8_t)index;
    p[21] = (uint8_t)(total >> 8);
    p[22] = (uint8_t)total;
}

static void test_frame_refusals(void **state)
{
    (void)state;
    uint8_t p[ROLLUP_FRAME_HEADER + 4] = {0};
    frame_bytes(p, 1, 0, 2);
    rollup_frame f;
    util_err err = {0};
    assert_int_equal(rollup_frame_parse(&f, p, sizeof p, &err), 0);
    assert_int_equal(f.payload_len, 4);
    expect_frame_fails(p, ROLLUP_FRAME_HEADER - 1, "shorter than its header");
    expect_frame_fails(p, ROLLUP_FRAME_HEADER, "empty payload");
    frame_bytes(p, 1, 2, 2);
    expect_frame_fails(p, sizeof p, "index 2, total 2");
    frame_bytes(p, 1, 0x100, 0x0100);
    expect_frame_fails(p, sizeof p, "index 256, total 256");
    frame_bytes(p, 1, 0, 0);
    expect_frame_fails(p, sizeof p, "total 0");
    frame_bytes(p, 1, 0, ROLLUP_CHANNEL_MAX + 1);
    expect_frame_fails(p, sizeof p, "total 257");
    frame_bytes(p, 1, 0, 2);
    p[2] = 2;
    expect_frame_fails(p, sizeof p, "version 2");
    frame_bytes(p, 1, 0, 2);
    p[0] = 'X';
    expect_frame_fails(p, sizeof p, "magic");
    uint8_t *huge = calloc(1, ROLLUP_FRAME_HEADER + ROLLUP_FRAME_MAX + 1);
    frame_bytes(huge, 1, 0, 1);
    expect_frame_fails(huge, ROLLUP_FRAME_HEADER + ROLLUP_FRAME_MAX + 1, "at most");
    free(huge);
}

/* A frame of channel id_byte (a made-up id: such a channel never completes
 * with a good id). */
static rollup_frame fake_frame(uint8_t id_byte, uint16_t index, uint16_t total)
{
    static const uint8_t payload[8] = "payload";
    rollup_frame f;
    memset(f.channel_id, id_byte, 16);
    f.index = index;
    f.total = total;
    f.payload = payload;
    f.payload_len = sizeof payload;
    return f;
}

/* A real two-frame channel (its id matches). */
static void two_frames(uint8_t **chan, size_t *len, uint8_t ***frames, size_t **lens,
                       rollup_frame f[2])
{
    encode_all(chan, len);
    size_t n;
    util_err err = {0};
    assert_int_equal(rollup_frames_split(*chan, *len, *len / 2 + 1, frames, lens, &n, &err), 0);
    assert_int_equal(n, 2);
    parse_all(*frames, *lens, 2, f);
}

static void test_assembler_rules(void **state)
{
    (void)state;
    uint8_t *chan, **frames, *out = NULL;
    size_t len, *lens, out_len;
    rollup_frame f[2];
    two_frames(&chan, &len, &frames, &lens, f);
    rollup_assembler *a;
    util_err err = {0};
    assert_int_equal(rollup_asm_new(&a, 0, &err), UTIL_EINVAL);
    assert_int_equal(rollup_asm_new(&a, 5, &err), 0);

    /* Timeout: a channel opened at L1 block 10 takes frames up to block 15. */
    assert_int_equal(rollup_asm_add(a, 10, &f[0], &out, &out_len, &err), 0);
    assert_int_equal(rollup_asm_add(a, 15, &f[1], &out, &out_len, &err), 0);
    assert_non_null(out);
    free(out);
    out = NULL;
    assert_int_equal(rollup_asm_add(a, 10, &f[0], &out, &out_len, &err), 0);
    assert_int_equal(rollup_asm_add(a, 16, &f[1], &out, &out_len, &err), 0);
    assert_null(out); /* expired: frame 1 opened a new channel at 16 */
    assert_int_equal(rollup_asm_add(a, 21, &f[0], &out, &out_len, &err), 0);
    assert_non_null(out); /* the new one completes within its own timeout */
    free(out);
    out = NULL;

    /* Disagreeing totals: the frame is refused, the channel stays. */
    rollup_asm_reset(a);
    assert_int_equal(rollup_asm_add(a, 30, &f[0], &out, &out_len, &err), 0);
    rollup_frame bad = f[1];
    bad.total = 3;
    assert_int_equal(rollup_asm_add(a, 30, &bad, &out, &out_len, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "says 3 frames, its channel 2"));
    assert_null(out);
    assert_int_equal(rollup_asm_add(a, 30, &f[1], &out, &out_len, &err), 0);
    assert_non_null(out);
    free(out);
    out = NULL;

    /* Id mismatch: a corrupted payload byte; the channel is dropped. */
    uint8_t *copy = malloc(f[1].payload_len);
    memcpy(copy, f[1].payload, f[1].payload_len);
    copy[0] ^= 1;
    rollup_frame corrupt = f[1];
    corrupt.payload = copy;
    assert_int_equal(rollup_asm_add(a, 40, &f[0], &out, &out_len, &err), 0);
    assert_int_equal(rollup_asm_add(a, 40, &corrupt, &out, &out_len, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "do not hash to its id"));
    assert_null(out);
    assert_int_equal(rollup_asm_add(a, 40, &f[1], &out, &out_len, &err), 0);
    assert_null(out); /* the dropped channel starts over */
    free(copy);

    /* Overflow: ROLLUP_ASM_MAX_OPEN channels open, one more drops the oldest. */
    rollup_asm_reset(a);
    assert_int_equal(rollup_asm_add(a, 50, &f[0], &out, &out_len, &err), 0); /* oldest */
    for (int i = 0; i < ROLLUP_ASM_MAX_OPEN - 1; i++) {
        rollup_frame x = fake_frame((uint8_t)(0xa0 + i), 0, 2);
        assert_int_equal(rollup_asm_add(a, 50, &x, &out, &out_len, &err), 0);
    }
    /* A single-frame channel completes on arrival and evicts no one. */
    uint8_t *one, **oframes, *ochan;
    size_t *olens, on, olen;
    assert_int_equal(
        rollup_batch_encode(fx_devnet()->hash, g_blocks, 2, &g_commits[1], 1, &ochan, &olen, &err),
        0);
    assert_int_equal(rollup_frames_split(ochan, olen, 0, &oframes, &olens, &on, &err), 0);
    assert_int_equal(on, 1);
    rollup_frame of;
    parse_all(oframes, olens, 1, &of);
    assert_int_equal(rollup_asm_add(a, 50, &of, &one, &out_len, &err), 0);
    assert_non_null(one);
    assert_int_equal(out_len, olen);
    assert_memory_equal(one, ochan, olen);
    free(one);
    free(ochan);
    rollup_frames_free(oframes, olens, on);
    assert_int_equal(rollup_asm_add(a, 50, &f[1], &out, &out_len, &err), 0);
    assert_non_null(out); /* still open: nothing was evicted */
    free(out);
    out = NULL;
    assert_int_equal(rollup_asm_add(a, 51, &f[0], &out, &out_len, &err), 0); /* newest now */
    rollup_frame x = fake_frame(0xff, 0, 2);
    assert_int_equal(rollup_asm_add(a, 51, &x, &out, &out_len, &err), 0); /* drops 0xa0 */
    x = fake_frame(0xfe, 0, 2);
    assert_int_equal(rollup_asm_add(a, 51, &x, &out, &out_len, &err), 0); /* drops 0xa1 */
    assert_int_equal(rollup_asm_add(a, 51, &f[1], &out, &out_len, &err), 0);
    assert_non_null(out); /* ours survived: it was not among the oldest */
    free(out);
    out = NULL;
    /* Now fill with 16 fresh channels after ours: ours is the oldest. */
    assert_int_equal(rollup_asm_add(a, 52, &f[0], &out, &out_len, &err), 0);
    for (int i = 0; i < ROLLUP_ASM_MAX_OPEN; i++) {
        rollup_frame y = fake_frame((uint8_t)(0x10 + i), 0, 2);
        assert_int_equal(rollup_asm_add(a, 52, &y, &out, &out_len, &err), 0);
    }
    assert_int_equal(rollup_asm_add(a, 52, &f[1], &out, &out_len, &err), 0);
    assert_null(out); /* ours was dropped as the oldest; f[1] opened anew */

    /* A channel whose bytes are not what its id says never completes
     * silently, even with one frame. */
    rollup_frame single = fake_frame(0x33, 0, 1);
    assert_int_equal(rollup_asm_add(a, 60, &single, &out, &out_len, &err), UTIL_EINVAL);
    assert_null(out);

    rollup_asm_free(a);
    rollup_frames_free(frames, lens, 2);
    free(chan);
}

/* --- size ---------------------------------------------------------------- */

/* 100 blocks of 100 signed transfers each (10 senders, random recipients
 * and amounts), with devnet-shaped headers and commits: the bytes per
 * transfer raw and compressed. Not executed: the encoding is what is
 * measured. Prints the figures (docs/rollup.md quotes them). */
static void test_size_per_transfer(void **state)
{
    (void)state;
    enum { NB = 100, NT = 100 };
    const chain_genesis *g = fx_devnet();
    g_rng = ol_test_seed("test_batch", 0x9e3779b97f4a7c15ull);
    chain_block *blocks = calloc(NB, sizeof *blocks);
    assert_non_null(blocks);
    chain_keypair keys[10];
    for (uint32_t k = 0; k < 10; k++)
        assert_int_equal(chain_keypair_dev(&keys[k], k), 0);
    chain_keypair vk;
    assert_int_equal(chain_keypair_dev(&vk, NFX_VALIDATOR_KEY), 0);
    uint64_t nonce[10] = {0};
    uint8_t parent[32] = {0};
    for (size_t h = 0; h < NB; h++) {
        chain_block *b = &blocks[h];
        b->h.version = CHAIN_BLOCK_VERSION;
        snprintf(b->h.chain_id, sizeof b->h.chain_id, "%s", g->chain_id);
        b->h.height = h + 1;
        memcpy(b->h.parent, parent, 32);
        b->h.time_ms = g->genesis_time_ms + 1000 * (h + 1);
        fx_dev_addr(&b->h.proposer, NFX_VALIDATOR_KEY);
        for (int i = 0; i < 32; i++) {
            b->h.state_root[i] = (uint8_t)rnd();
            b->h.receipts_root[i] = (uint8_t)rnd();
        }
        chain_header_fill_sets(&b->h, g);
        if (h > 0) {
            b->h.last_commit.n = 1;
            for (int i = 0; i < 64; i++)
                b->h.last_commit.sigs[0].sig[i] = (uint8_t)rnd();
        }
        b->ntx = NT;
        b->txs = calloc(NT, sizeof *b->txs);
        assert_non_null(b->txs);
        util_err err = {0};
        for (size_t t = 0; t < NT; t++) {
            uint32_t from = (uint32_t)(t % 10);
            chain_tx *tx = &b->txs[t];
            tx->version = CHAIN_TX_VERSION;
            snprintf(tx->chain_id, sizeof tx->chain_id, "%s", g->chain_id);
            tx->type = CHAIN_TX_TRANSFER;
            tx->nonce = nonce[from]++;
            tx->gas_limit = CHAIN_GAS_TRANSFER;
            tx->gas_price = 1;
            fx_dev_addr(&tx->body.transfer.to, (uint32_t)(rnd() % 10));
            tx->body.transfer.amount = 1 + rnd() % 1000000;
            assert_int_equal(chain_tx_sign(tx, &keys[from], g->hash, &err), 0);
        }
        chain_block_tx_root(b, b->h.tx_root);
        chain_header_hash(&b->h, parent);
    }
    chain_commit last = {.n = 1};
    assert_int_equal(chain_sign(last.sigs[0].sig, parent, &vk, NULL), 0);

    size_t raw = 0;
    util_buf tmp;
    util_buf_init(&tmp);
    for (size_t h = 0; h < NB; h++) {
        util_buf_reset(&tmp);
        assert_int_equal(chain_block_encode(&blocks[h], &tmp), 0);
        raw += tmp.len;
    }
    util_buf_free(&tmp);
    int levels[] = {3, 19};
    for (size_t l = 0; l < 2; l++) {
        uint8_t *chan;
        size_t len;
        util_err err = {0};
        if (rollup_batch_encode(g->hash, blocks, NB, &last, levels[l], &chan, &len, &err))
            fail_msg("%s", err.msg);
        uint8_t **frames;
        size_t *lens, n;
        assert_int_equal(rollup_frames_split(chan, len, 0, &frames, &lens, &n, &err), 0);
        size_t framed = 0;
        for (size_t i = 0; i < n; i++)
            framed += lens[i];
        printf("batch of %d blocks x %d transfers, zstd level %d: raw blocks %zu B (%.1f B per "
               "transfer), channel %zu B (%.1f B per transfer, %.2fx), %zu frames %zu B\n",
               NB, NT, levels[l], raw, (double)raw / (NB * NT), len, (double)len / (NB * NT),
               (double)raw / (double)len, n, framed);
        assert_true(len < raw);
        rollup_batch b;
        assert_int_equal(rollup_batch_decode(chan, len, &b, &err), 0);
        assert_int_equal(b.count, NB);
        rollup_batch_free(&b);
        rollup_frames_free(frames, lens, n);
        free(chan);
    }
    for (size_t h = 0; h < NB; h++)
        chain_block_free(&blocks[h]);
    free(blocks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_applies), cmocka_unit_test(test_other_genesis_reported),
        cmocka_unit_test(test_encode_refusals),    cmocka_unit_test(test_raw_refusals),
        cmocka_unit_test(test_zip_bombs),          cmocka_unit_test(test_split_reassemble),
        cmocka_unit_test(test_frame_refusals),     cmocka_unit_test(test_assembler_rules),
        cmocka_unit_test(test_size_per_transfer),
    };
    return cmocka_run_group_tests(tests, make_chain, free_chain);
}
