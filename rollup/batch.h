/* Batches: how L2 blocks travel to the L1 and back (docs/rollup.md, "Batch
 * format").
 *
 * A batch carries consecutive L2 blocks first..first+count-1 and the commit
 * of the last one (every earlier block's commit is in the next block's
 * header), so a deriving node can put each block through
 * chain_blockexec_validate and _apply with the commit that finalised it:
 *
 *   batch  = version u8 (0) | l2 genesis hash[32] | first u64 | count varint |
 *            count x block lenbytes | last commit lenbytes      (LE, varints)
 *   channel = zstd(batch), a single zstd frame with its content size
 *   frame  = 'O' 'L' version u8 (1) | channel id[16] | index u16 | total u16 |
 *            payload                                              (big-endian u16)
 *
 * The channel id is the first 16 bytes of SHA-256(channel). One frame is the
 * calldata of one BatchInbox.post call; a channel larger than the frame limit
 * is split into `total` frames of at most that many payload bytes.
 *
 * Limits, all enforced before any large allocation: a frame's payload at most
 * ROLLUP_FRAME_MAX, a channel at most ROLLUP_CHANNEL_MAX frames and
 * ROLLUP_CHANNEL_MAX_BYTES compressed, a batch at most ROLLUP_BATCH_MAX_RAW
 * decompressed (the content size in the zstd header is checked first, and
 * decompression stops at the limit whatever the header says) and at most
 * ROLLUP_BATCH_MAX_BLOCKS blocks.
 *
 * Memory: encoders return malloc'd buffers the caller frees; a decoded
 * rollup_batch owns its blocks (rollup_batch_free). */
#ifndef OL_ROLLUP_BATCH_H
#define OL_ROLLUP_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types/block.h"
#include "util/err.h"

#define ROLLUP_BATCH_VERSION 0
#define ROLLUP_FRAME_VERSION 1
#define ROLLUP_FRAME_HEADER 23 /* 'O' 'L' version id[16] index u16 total u16 */
/* An L1 transaction is at most 128 KiB on geth and anvil: a frame stays
 * well below with the call's ABI wrapping. */
#define ROLLUP_FRAME_MAX (120u * 1024)
#define ROLLUP_CHANNEL_MAX 256
#define ROLLUP_CHANNEL_MAX_BYTES (16u * 1024 * 1024)
#define ROLLUP_BATCH_MAX_RAW (64u * 1024 * 1024)
#define ROLLUP_BATCH_MAX_BLOCKS 10000

typedef struct rollup_batch {
    uint8_t genesis_hash[32];
    uint64_t first;
    chain_block *blocks; /* count blocks, heights first.. */
    size_t count;
    chain_commit last_commit; /* finalises blocks[count - 1] */
} rollup_batch;

void rollup_batch_free(rollup_batch *b);

/* Encodes and compresses blocks[0..n) (consecutive heights) with the last
 * one's commit into a channel: *chan malloc'd. level: zstd level (1..19).
 * 0, UTIL_EINVAL (not consecutive, n == 0, too big) or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_batch_encode(const uint8_t genesis_hash[32], const chain_block *blocks,
                                      size_t n, const chain_commit *last_commit, int level,
                                      uint8_t **chan, size_t *chan_len, util_err *err);

/* Decompresses and decodes a channel. Checks the version, the limits, that
 * heights are consecutive from first and that each block decodes; not the
 * blocks' validity (the block executor's job). 0, UTIL_EINVAL (with a reason:
 * "batch: ...") or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_batch_decode(const uint8_t *chan, size_t chan_len, rollup_batch *out,
                                      util_err *err);

/* Splits a channel into frames of at most frame_max payload bytes
 * (0: ROLLUP_FRAME_MAX). *frames: *nframes malloc'd buffers, each with its
 * length in (*lens)[i]; free with rollup_frames_free. */
OL_MUST_CHECK int rollup_frames_split(const uint8_t *chan, size_t chan_len, size_t frame_max,
                                      uint8_t ***frames, size_t **lens, size_t *nframes,
                                      util_err *err);
void rollup_frames_free(uint8_t **frames, size_t *lens, size_t n);

typedef struct rollup_frame {
    uint8_t channel_id[16];
    uint16_t index;
    uint16_t total;
    const uint8_t *payload; /* points into the parsed bytes */
    size_t payload_len;
} rollup_frame;

/* Parses one frame (the calldata argument of BatchInbox.post). 0 or
 * UTIL_EINVAL ("frame: ..."). */
OL_MUST_CHECK int rollup_frame_parse(rollup_frame *f, const uint8_t *p, size_t n, util_err *err);

/* --- reassembly --------------------------------------------------------- *
 * Frames arrive in L1 order. The assembler keeps the frames of at most
 * ROLLUP_ASM_MAX_OPEN open channels (ROLLUP_CHANNEL_MAX_BYTES each at most);
 * a channel is complete when all `total` frames arrived (a repeated index is
 * ignored, a frame disagreeing with its channel's total is refused). A
 * channel still incomplete timeout_blocks L1 blocks after its first frame is
 * dropped; when a new channel would exceed ROLLUP_ASM_MAX_OPEN the oldest is
 * dropped. These rules are deterministic: every deriving node drops the same
 * channels (docs/rollup.md, "Derivation"). */
#define ROLLUP_ASM_MAX_OPEN 16

typedef struct rollup_assembler rollup_assembler;

OL_MUST_CHECK int rollup_asm_new(rollup_assembler **out, uint64_t timeout_blocks, util_err *err);
void rollup_asm_free(rollup_assembler *a);
/* Forgets every open channel (after an L1 reorganisation, derivation
 * restarts reassembly from an earlier L1 block). */
void rollup_asm_reset(rollup_assembler *a);

/* Adds a frame seen in L1 block l1_block. When it completes a channel,
 * *chan (malloc'd, caller frees) gets the channel's bytes, checked against
 * the id; otherwise *chan is NULL. 0, UTIL_EINVAL (a frame contradicting its
 * channel, or a completed channel whose bytes do not hash to its id: the
 * channel is dropped) or UTIL_ENOMEM. */
OL_MUST_CHECK int rollup_asm_add(rollup_assembler *a, uint64_t l1_block, const rollup_frame *f,
                                 uint8_t **chan, size_t *chan_len, util_err *err);

#endif
