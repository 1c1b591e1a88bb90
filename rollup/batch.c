/* Batches, frames and channel reassembly: the bytes the batcher posts to the
 * L1 and a deriving node reads back (rollup/batch.h, docs/rollup.md "Batch
 * format"). Everything read here comes from the L1, where anyone may have
 * written it (the inbox refuses other senders, but derivation must not trust
 * that): every limit is checked before the memory it would cost is taken. */
#include "rollup/batch.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "chain/crypto/hash.h"
#include "util/bytes.h"

/* Levels 1..19 never use a window above 2^23 (zstd's parameter tables); a
 * decoder refusing larger windows keeps a hostile frame from making it
 * allocate a 128 MiB history buffer. */
#define BATCH_WINDOW_LOG_MAX 23

static const uint8_t FRAME_MAGIC[2] = {'O', 'L'};

void rollup_batch_free(rollup_batch *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->count; i++)
        chain_block_free(&b->blocks[i]);
    free(b->blocks);
    b->blocks = NULL;
    b->count = 0;
}

int rollup_batch_encode(const uint8_t genesis_hash[32], const chain_block *blocks, size_t n,
                        const chain_commit *last_commit, int level, uint8_t **chan,
                        size_t *chan_len, util_err *err)
{
    if (n == 0) return util_err_set(err, UTIL_EINVAL, "batch: no blocks");
    if (n > ROLLUP_BATCH_MAX_BLOCKS)
        return util_err_set(err, UTIL_EINVAL, "batch: %zu blocks, at most %d", n,
                            ROLLUP_BATCH_MAX_BLOCKS);
    if (level < 1 || level > 19)
        return util_err_set(err, UTIL_EINVAL, "batch: zstd level %d outside 1..19", level);
    if (blocks[0].h.height == 0 || blocks[0].h.height > UINT64_MAX - n)
        return util_err_set(err, UTIL_EINVAL, "batch: first height %llu out of range",
                            (unsigned long long)blocks[0].h.height);
    for (size_t i = 1; i < n; i++)
        if (blocks[i].h.height != blocks[0].h.height + i)
            return util_err_set(err, UTIL_EINVAL, "batch: block %zu has height %llu, not %llu", i,
                                (unsigned long long)blocks[i].h.height,
                                (unsigned long long)(blocks[0].h.height + i));
    util_buf raw, tmp;
    util_buf_init(&raw);
    util_buf_init(&tmp);
    util_buf_u8(&raw, ROLLUP_BATCH_VERSION);
    util_buf_put(&raw, genesis_hash, 32);
    util_buf_u64(&raw, blocks[0].h.height);
    util_buf_varint(&raw, n);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        util_buf_reset(&tmp);
        rc = chain_block_encode(&blocks[i], &tmp);
        if (!rc) util_buf_lenbytes(&raw, tmp.data, tmp.len);
    }
    if (!rc) {
        util_buf_reset(&tmp);
        rc = chain_commit_encode(last_commit, &tmp);
        if (!rc) util_buf_lenbytes(&raw, tmp.data, tmp.len);
    }
    util_buf_free(&tmp);
    if (rc || raw.oom) {
        util_buf_free(&raw);
        return util_err_set(err, rc == UTIL_EINVAL ? UTIL_EINVAL : UTIL_ENOMEM,
                            "batch: cannot encode its blocks");
    }
    if (raw.len > ROLLUP_BATCH_MAX_RAW) {
        size_t len = raw.len;
        util_buf_free(&raw);
        return util_err_set(err, UTIL_EINVAL, "batch: %zu bytes raw, at most %u", len,
                            ROLLUP_BATCH_MAX_RAW);
    }
    size_t cap = ZSTD_compressBound(raw.len);
    uint8_t *out = malloc(cap);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    if (!out || !cc) {
        free(out);
        ZSTD_freeCCtx(cc);
        util_buf_free(&raw);
        return util_err_set(err, UTIL_ENOMEM, "batch: out of memory");
    }
    /* One frame that states its content size: a decoder can refuse an
     * oversized batch from its header before decompressing anything. */
    size_t z = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(z)) z = ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
    if (!ZSTD_isError(z)) z = ZSTD_compress2(cc, out, cap, raw.data, raw.len);
    ZSTD_freeCCtx(cc);
    util_buf_free(&raw);
    if (ZSTD_isError(z)) {
        free(out);
        return util_err_set(err, UTIL_ENOMEM, "batch: zstd: %s", ZSTD_getErrorName(z));
    }
    if (z > ROLLUP_CHANNEL_MAX_BYTES) {
        free(out);
        return util_err_set(err, UTIL_EINVAL, "batch: %zu bytes compressed, at most %u", z,
                            ROLLUP_CHANNEL_MAX_BYTES);
    }
    *chan = out;
    *chan_len = z;
    return 0;
}

/* Decompresses one zstd frame into a buffer of at most ROLLUP_BATCH_MAX_RAW
 * bytes. The buffer starts at the declared content size (checked against the
 * limit first) or, without one, small and doubling; decompression stops when
 * the buffer is full and the frame is not, so a frame that lies about its
 * size, or states none, costs at most the limit. */
static int decompress(const uint8_t *chan, size_t chan_len, uint8_t **out, size_t *out_len,
                      util_err *err)
{
    if (chan_len < 4 || util_get_u32le(chan) != ZSTD_MAGICNUMBER)
        return util_err_set(err, UTIL_EINVAL, "batch: not a zstd frame");
    unsigned long long cs = ZSTD_getFrameContentSize(chan, chan_len);
    if (cs == ZSTD_CONTENTSIZE_ERROR)
        return util_err_set(err, UTIL_EINVAL, "batch: bad zstd frame header");
    size_t cap;
    int known = cs != ZSTD_CONTENTSIZE_UNKNOWN;
    if (known) {
        if (cs > ROLLUP_BATCH_MAX_RAW)
            return util_err_set(err, UTIL_EINVAL, "batch: declares %llu bytes raw, at most %u", cs,
                                ROLLUP_BATCH_MAX_RAW);
        if (cs == 0) return util_err_set(err, UTIL_EINVAL, "batch: empty");
        cap = (size_t)cs;
    } else {
        cap = chan_len < ROLLUP_BATCH_MAX_RAW / 8 ? chan_len * 8 : ROLLUP_BATCH_MAX_RAW;
        if (cap < 65536) cap = 65536;
    }
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    uint8_t *buf = malloc(cap);
    if (!dc || !buf) {
        ZSTD_freeDCtx(dc);
        free(buf);
        return util_err_set(err, UTIL_ENOMEM, "batch: out of memory");
    }
    int rc = 0;
    size_t z = ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, BATCH_WINDOW_LOG_MAX);
    if (ZSTD_isError(z)) rc = util_err_set(err, UTIL_ENOMEM, "batch: zstd setup failed");
    ZSTD_inBuffer in = {chan, chan_len, 0};
    ZSTD_outBuffer ob = {buf, cap, 0};
    while (!rc) {
        z = ZSTD_decompressStream(dc, &ob, &in);
        if (ZSTD_isError(z)) {
            rc = util_err_set(err, UTIL_EINVAL, "batch: zstd: %s", ZSTD_getErrorName(z));
            break;
        }
        if (z == 0) break; /* the frame is complete and flushed */
        if (ob.pos < ob.size) {
            if (in.pos == in.size)
                rc = util_err_set(err, UTIL_EINVAL, "batch: truncated zstd frame");
            continue;
        }
        /* The buffer is full and the frame goes on. */
        if (known)
            rc = util_err_set(err, UTIL_EINVAL, "batch: decompresses past its declared %llu bytes",
                              cs);
        else if (ob.size >= ROLLUP_BATCH_MAX_RAW)
            rc = util_err_set(err, UTIL_EINVAL, "batch: decompresses past %u bytes",
                              ROLLUP_BATCH_MAX_RAW);
        else {
            size_t ncap =
                ob.size <= ROLLUP_BATCH_MAX_RAW / 2 ? ob.size * 2 : (size_t)ROLLUP_BATCH_MAX_RAW;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                rc = util_err_set(err, UTIL_ENOMEM, "batch: out of memory");
                break;
            }
            buf = nb;
            ob.dst = nb;
            ob.size = ncap;
        }
    }
    ZSTD_freeDCtx(dc);
    if (!rc && in.pos != in.size)
        rc = util_err_set(err, UTIL_EINVAL, "batch: %zu bytes after the zstd frame",
                          in.size - in.pos);
    if (!rc && known && ob.pos != cs)
        rc = util_err_set(err, UTIL_EINVAL, "batch: %zu bytes raw, the frame declares %llu", ob.pos,
                          cs);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = ob.pos;
    return 0;
}

static int decode_raw(const uint8_t *p, size_t n, rollup_batch *out, util_err *err)
{
    util_rd r;
    util_rd_init(&r, p, n);
    uint8_t version = 0;
    uint64_t first = 0, count = 0;
    if (util_rd_u8(&r, &version)) return util_err_set(err, UTIL_EINVAL, "batch: empty");
    if (version != ROLLUP_BATCH_VERSION)
        return util_err_set(err, UTIL_EINVAL, "batch: version %u, expected %d", version,
                            ROLLUP_BATCH_VERSION);
    rollup_batch b;
    memset(&b, 0, sizeof b);
    util_rd_copy(&r, b.genesis_hash, 32);
    util_rd_u64(&r, &first);
    if (util_rd_varint(&r, &count, UINT64_MAX))
        return util_err_set(err, UTIL_EINVAL, "batch: header: %s", r.err);
    if (count == 0) return util_err_set(err, UTIL_EINVAL, "batch: no blocks");
    if (count > ROLLUP_BATCH_MAX_BLOCKS)
        return util_err_set(err, UTIL_EINVAL, "batch: %llu blocks, at most %d",
                            (unsigned long long)count, ROLLUP_BATCH_MAX_BLOCKS);
    if (first == 0 || first > UINT64_MAX - count)
        return util_err_set(err, UTIL_EINVAL, "batch: first height %llu out of range",
                            (unsigned long long)first);
    b.first = first;
    /* The array grows with the blocks actually present: the count alone,
     * which costs the sender one varint, must not decide an allocation. */
    size_t cap = 0;
    int rc = 0;
    for (uint64_t i = 0; i < count && !rc; i++) {
        const uint8_t *bp;
        size_t bn;
        if (util_rd_lenbytes(&r, &bp, &bn, CHAIN_BLOCK_MAX_SIZE)) {
            rc = util_err_set(err, UTIL_EINVAL, "batch: block %llu: %s", (unsigned long long)i,
                              r.err);
            break;
        }
        if (b.count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            if (ncap > count) ncap = (size_t)count;
            chain_block *nb = realloc(b.blocks, ncap * sizeof *nb);
            if (!nb) {
                rc = util_err_set(err, UTIL_ENOMEM, "batch: out of memory");
                break;
            }
            b.blocks = nb;
            cap = ncap;
        }
        util_err e = {0};
        int brc = chain_block_decode(&b.blocks[b.count], bp, bn, &e);
        if (brc) {
            rc = util_err_set(err, brc == UTIL_ENOMEM ? UTIL_ENOMEM : UTIL_EINVAL,
                              "batch: block %llu: %s", (unsigned long long)i, e.msg);
            break;
        }
        b.count++;
        if (b.blocks[b.count - 1].h.height != first + i)
            rc = util_err_set(err, UTIL_EINVAL, "batch: block %llu has height %llu, expected %llu",
                              (unsigned long long)i,
                              (unsigned long long)b.blocks[b.count - 1].h.height,
                              (unsigned long long)(first + i));
    }
    if (!rc) {
        const uint8_t *cp;
        size_t cn;
        util_rd cr;
        if (util_rd_lenbytes(&r, &cp, &cn, UINT32_MAX)) {
            rc = util_err_set(err, UTIL_EINVAL, "batch: last commit: %s", r.err);
        } else {
            util_rd_init(&cr, cp, cn);
            util_err e = {0};
            if (chain_commit_read(&b.last_commit, &cr, &e) || util_rd_end(&cr))
                rc = util_err_set(err, UTIL_EINVAL, "batch: last commit: %s",
                                  e.msg[0] ? e.msg : (cr.err ? cr.err : "malformed"));
        }
    }
    if (!rc && util_rd_end(&r))
        rc = util_err_set(err, UTIL_EINVAL, "batch: %zu trailing bytes", util_rd_left(&r));
    if (rc) {
        rollup_batch_free(&b);
        return rc;
    }
    *out = b;
    return 0;
}

int rollup_batch_decode(const uint8_t *chan, size_t chan_len, rollup_batch *out, util_err *err)
{
    if (chan_len > ROLLUP_CHANNEL_MAX_BYTES)
        return util_err_set(err, UTIL_EINVAL, "batch: %zu bytes compressed, at most %u", chan_len,
                            ROLLUP_CHANNEL_MAX_BYTES);
    uint8_t *raw;
    size_t raw_len;
    int rc = decompress(chan, chan_len, &raw, &raw_len, err);
    if (rc) return rc;
    rc = decode_raw(raw, raw_len, out, err);
    free(raw);
    return rc;
}

/* --- frames -------------------------------------------------------------- */

static void channel_id(uint8_t id[16], const uint8_t *chan, size_t n)
{
    uint8_t h[32];
    chain_sha256(h, chan, n);
    memcpy(id, h, 16);
}

void rollup_frames_free(uint8_t **frames, size_t *lens, size_t n)
{
    if (frames)
        for (size_t i = 0; i < n; i++)
            free(frames[i]);
    free(frames);
    free(lens);
}

int rollup_frames_split(const uint8_t *chan, size_t chan_len, size_t frame_max, uint8_t ***frames,
                        size_t **lens, size_t *nframes, util_err *err)
{
    if (frame_max == 0) frame_max = ROLLUP_FRAME_MAX;
    if (frame_max > ROLLUP_FRAME_MAX)
        return util_err_set(err, UTIL_EINVAL, "frame: payload limit %zu above %u", frame_max,
                            ROLLUP_FRAME_MAX);
    if (chan_len == 0) return util_err_set(err, UTIL_EINVAL, "frame: empty channel");
    if (chan_len > ROLLUP_CHANNEL_MAX_BYTES)
        return util_err_set(err, UTIL_EINVAL, "frame: channel of %zu bytes, at most %u", chan_len,
                            ROLLUP_CHANNEL_MAX_BYTES);
    size_t total = (chan_len + frame_max - 1) / frame_max;
    if (total > ROLLUP_CHANNEL_MAX)
        return util_err_set(err, UTIL_EINVAL, "frame: channel needs %zu frames, at most %d", total,
                            ROLLUP_CHANNEL_MAX);
    uint8_t id[16];
    channel_id(id, chan, chan_len);
    uint8_t **fr = calloc(total, sizeof *fr);
    size_t *ln = calloc(total, sizeof *ln);
    if (!fr || !ln) {
        free(fr);
        free(ln);
        return util_err_set(err, UTIL_ENOMEM, "frame: out of memory");
    }
    for (size_t i = 0; i < total; i++) {
        size_t off = i * frame_max;
        size_t pl = chan_len - off < frame_max ? chan_len - off : frame_max;
        uint8_t *f = malloc(ROLLUP_FRAME_HEADER + pl);
        if (!f) {
            rollup_frames_free(fr, ln, total);
            return util_err_set(err, UTIL_ENOMEM, "frame: out of memory");
        }
        memcpy(f, FRAME_MAGIC, 2);
        f[2] = ROLLUP_FRAME_VERSION;
        memcpy(f + 3, id, 16);
        f[19] = (uint8_t)(i >> 8);
        f[20] = (uint8_t)i;
        f[21] = (uint8_t)(total >> 8);
        f[22] = (uint8_t)total;
        memcpy(f + ROLLUP_FRAME_HEADER, chan + off, pl);
        fr[i] = f;
        ln[i] = ROLLUP_FRAME_HEADER + pl;
    }
    *frames = fr;
    *lens = ln;
    *nframes = total;
    return 0;
}

int rollup_frame_parse(rollup_frame *f, const uint8_t *p, size_t n, util_err *err)
{
    if (n < ROLLUP_FRAME_HEADER)
        return util_err_set(err, UTIL_EINVAL, "frame: %zu bytes, shorter than its header", n);
    if (memcmp(p, FRAME_MAGIC, 2) != 0) return util_err_set(err, UTIL_EINVAL, "frame: bad magic");
    if (p[2] != ROLLUP_FRAME_VERSION)
        return util_err_set(err, UTIL_EINVAL, "frame: version %u, expected %d", p[2],
                            ROLLUP_FRAME_VERSION);
    uint16_t index = (uint16_t)(p[19] << 8 | p[20]);
    uint16_t total = (uint16_t)(p[21] << 8 | p[22]);
    if (total == 0 || total > ROLLUP_CHANNEL_MAX)
        return util_err_set(err, UTIL_EINVAL, "frame: total %u outside 1..%d", total,
                            ROLLUP_CHANNEL_MAX);
    if (index >= total)
        return util_err_set(err, UTIL_EINVAL, "frame: index %u, total %u", index, total);
    size_t pl = n - ROLLUP_FRAME_HEADER;
    if (pl == 0) return util_err_set(err, UTIL_EINVAL, "frame: empty payload");
    if (pl > ROLLUP_FRAME_MAX)
        return util_err_set(err, UTIL_EINVAL, "frame: payload of %zu bytes, at most %u", pl,
                            ROLLUP_FRAME_MAX);
    memcpy(f->channel_id, p + 3, 16);
    f->index = index;
    f->total = total;
    f->payload = p + ROLLUP_FRAME_HEADER;
    f->payload_len = pl;
    return 0;
}

/* --- reassembly ---------------------------------------------------------- */

typedef struct asm_channel {
    int used;
    uint8_t id[16];
    uint16_t total;
    uint16_t nrecv;
    uint64_t opened;  /* L1 block of its first frame */
    uint64_t seq;     /* order of opening: the smallest is the oldest */
    size_t bytes;     /* payload bytes held */
    uint8_t **parts;  /* total entries, NULL until that index arrives */
    size_t *part_len; /* total entries */
} asm_channel;

struct rollup_assembler {
    uint64_t timeout;
    uint64_t next_seq;
    asm_channel ch[ROLLUP_ASM_MAX_OPEN];
};

static void channel_drop(asm_channel *c)
{
    if (c->parts)
        for (size_t i = 0; i < c->total; i++)
            free(c->parts[i]);
    free(c->parts);
    free(c->part_len);
    memset(c, 0, sizeof *c);
}

int rollup_asm_new(rollup_assembler **out, uint64_t timeout_blocks, util_err *err)
{
    if (timeout_blocks == 0)
        return util_err_set(err, UTIL_EINVAL, "assembler: channel timeout must be at least 1");
    rollup_assembler *a = calloc(1, sizeof *a);
    if (!a) return util_err_set(err, UTIL_ENOMEM, "assembler: out of memory");
    a->timeout = timeout_blocks;
    *out = a;
    return 0;
}

void rollup_asm_reset(rollup_assembler *a)
{
    for (size_t i = 0; i < ROLLUP_ASM_MAX_OPEN; i++)
        if (a->ch[i].used) channel_drop(&a->ch[i]);
}

void rollup_asm_free(rollup_assembler *a)
{
    if (!a) return;
    rollup_asm_reset(a);
    free(a);
}

/* Concatenates a complete channel's parts and checks them against its id. */
static int channel_finish(asm_channel *c, uint8_t **chan, size_t *chan_len, util_err *err)
{
    uint8_t *buf = malloc(c->bytes);
    if (!buf) return util_err_set(err, UTIL_ENOMEM, "assembler: out of memory");
    size_t off = 0;
    for (size_t i = 0; i < c->total; i++) {
        memcpy(buf + off, c->parts[i], c->part_len[i]);
        off += c->part_len[i];
    }
    uint8_t id[16];
    channel_id(id, buf, off);
    if (memcmp(id, c->id, 16) != 0) {
        free(buf);
        return util_err_set(err, UTIL_EINVAL, "assembler: channel bytes do not hash to its id");
    }
    *chan = buf;
    *chan_len = off;
    return 0;
}

int rollup_asm_add(rollup_assembler *a, uint64_t l1_block, const rollup_frame *f, uint8_t **chan,
                   size_t *chan_len, util_err *err)
{
    *chan = NULL;
    *chan_len = 0;
    if (f->total == 0 || f->total > ROLLUP_CHANNEL_MAX || f->index >= f->total ||
        f->payload_len == 0 || f->payload_len > ROLLUP_FRAME_MAX)
        return util_err_set(err, UTIL_EINVAL, "assembler: malformed frame");
    /* Time out first, so a late frame cannot revive an expired channel: it
     * opens a new one instead. */
    for (size_t i = 0; i < ROLLUP_ASM_MAX_OPEN; i++) {
        asm_channel *c = &a->ch[i];
        if (c->used && l1_block > c->opened && l1_block - c->opened > a->timeout) channel_drop(c);
    }
    asm_channel *c = NULL;
    for (size_t i = 0; i < ROLLUP_ASM_MAX_OPEN && !c; i++)
        if (a->ch[i].used && memcmp(a->ch[i].id, f->channel_id, 16) == 0) c = &a->ch[i];
    if (c) {
        if (f->total != c->total)
            return util_err_set(err, UTIL_EINVAL,
                                "assembler: frame says %u frames, its channel %u (frame ignored)",
                                f->total, c->total);
        if (c->parts[f->index]) return 0; /* a repeat: the first copy counts */
        if (c->bytes + f->payload_len > ROLLUP_CHANNEL_MAX_BYTES) {
            channel_drop(c);
            return util_err_set(err, UTIL_EINVAL, "assembler: channel exceeds %u bytes (dropped)",
                                ROLLUP_CHANNEL_MAX_BYTES);
        }
    } else if (f->total == 1) {
        /* Complete on arrival: it takes no slot, so it evicts no one. */
        asm_channel one = {.used = 1, .total = 1, .nrecv = 1, .bytes = f->payload_len};
        uint8_t *parts[1] = {(uint8_t *)f->payload};
        size_t lens[1] = {f->payload_len};
        memcpy(one.id, f->channel_id, 16);
        one.parts = parts;
        one.part_len = lens;
        return channel_finish(&one, chan, chan_len, err);
    } else {
        /* A new channel: take a free slot, or the oldest one's. */
        for (size_t i = 0; i < ROLLUP_ASM_MAX_OPEN && !c; i++)
            if (!a->ch[i].used) c = &a->ch[i];
        if (!c) {
            c = &a->ch[0];
            for (size_t i = 1; i < ROLLUP_ASM_MAX_OPEN; i++)
                if (a->ch[i].seq < c->seq) c = &a->ch[i];
            channel_drop(c);
        }
        c->parts = calloc(f->total, sizeof *c->parts);
        c->part_len = calloc(f->total, sizeof *c->part_len);
        if (!c->parts || !c->part_len) {
            channel_drop(c);
            return util_err_set(err, UTIL_ENOMEM, "assembler: out of memory");
        }
        c->used = 1;
        memcpy(c->id, f->channel_id, 16);
        c->total = f->total;
        c->opened = l1_block;
        c->seq = a->next_seq++;
    }
    uint8_t *part = malloc(f->payload_len);
    if (!part) return util_err_set(err, UTIL_ENOMEM, "assembler: out of memory");
    memcpy(part, f->payload, f->payload_len);
    c->parts[f->index] = part;
    c->part_len[f->index] = f->payload_len;
    c->bytes += f->payload_len;
    c->nrecv++;
    if (c->nrecv < c->total) return 0;
    int rc = channel_finish(c, chan, chan_len, err);
    channel_drop(c);
    return rc;
}
