/* Derivation's L2 side: from a BatchPosted log and its transaction to
 * blocks committed through the block executor, the posted output roots
 * compared with our own, and the safe and finalized heads
 * (rollup/derive.h). Every rule here is deterministic: what a node derives
 * depends on the L1's canonical chain only. */
#include <stdlib.h>
#include <string.h>

#include "chain/exec/blockexec.h"
#include "chain/state/state.h"
#include "rollup/derive_internal.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/keccak.h"
#include "rollup/output.h"
#include "util/bytes.h"
#include "util/hex.h"
#include "util/log.h"

static void hex32(char out[67], const uint8_t *p)
{
    out[0] = '0', out[1] = 'x';
    util_hex_encode(out + 2, p, 32);
}

/* Puts one block through validate and apply with its commit, recording its
 * L1 origin in the same batch. 0, or halted. */
static int derive_block(rollup_derive *d, chain_block *b, const chain_commit *commit,
                        const rollup_l1_log *log, const char *txh)
{
    chain_blockexec bx = {.g = d->g, .st = d->st};
    chain_block_result res;
    util_err e = {0};
    int reason = 0;
    uint64_t h = b->h.height;
    derive_lock(d);
    /* The commit of 2/3 of the validators vouches for the block's time: the
     * deriving node's clock plays no part (it would make derivation depend
     * on when it runs), so validate sees the block's own time as "now". */
    int rc = chain_blockexec_validate(&bx, b, b->h.time_ms, &res, &reason, &e);
    if (rc) {
        derive_unlock(d);
        if (rc == UTIL_EINVAL)
            derive_halt(d, "L2 block %llu from L1 tx %s is invalid: %s", (unsigned long long)h, txh,
                        e.msg);
        else
            derive_halt(d, "L2 block %llu from L1 tx %s: local failure while validating: %s",
                        (unsigned long long)h, txh, e.msg);
        return -1;
    }
    uint8_t ix[CHAIN_IXKEY_L1_ORIGIN_LEN], val[40];
    chain_ixkey_l1_origin(ix, h);
    util_put_u64le(val, log->block_number);
    memcpy(val + 8, log->block_hash, 32);
    rc = chain_exec_index_put(res.ex, ix, sizeof ix, val, sizeof val, &e);
    if (rc == 0) rc = chain_blockexec_apply(&bx, b, &res, commit, &reason, &e);
    if (rc) {
        derive_unlock(d);
        chain_block_result_free(&res);
        if (reason)
            derive_halt(d, "L2 block %llu from L1 tx %s is refused: %s", (unsigned long long)h, txh,
                        e.msg);
        else
            derive_halt(d, "L2 block %llu from L1 tx %s: local failure while applying: %s",
                        (unsigned long long)h, txh, e.msg);
        return -1;
    }
    if (d->o.on_block) d->o.on_block(d->o.ctx, b, res.id, res.rs, res.n);
    derive_unlock(d);
    chain_block_result_free(&res);
    d->s.blocks_derived++;
    return 0;
}

static void derive_batch(rollup_derive *d, rollup_batch *bt, const rollup_l1_log *log,
                         const char *txh)
{
    if (memcmp(bt->genesis_hash, d->g->hash, 32) != 0) {
        derive_halt(d, "the batch in L1 tx %s is for another L2 chain (genesis hash)", txh);
        return;
    }
    d->s.batches++;
    d->s.has_last_batch = 1;
    memcpy(d->s.last_batch_tx, log->tx_hash, 32);
    d->s.last_batch_l1_block = log->block_number;
    d->s.last_batch_first = bt->first;
    d->s.last_batch_count = bt->count;
    /* The blocks above the head run; their signatures are checked ahead of
     * them on the other cores (rollup/derive_sigs.c). Heights in a batch
     * are consecutive, so those blocks are a suffix; one that starts above
     * head + 1 is skipped whole, unchecked. */
    uint64_t head0 = chain_store_height(d->st);
    size_t first = 0;
    while (first < bt->count && bt->blocks[first].h.height <= head0)
        first++;
    derive_sigs *sigs = NULL;
    if (first < bt->count && bt->blocks[first].h.height == head0 + 1)
        sigs = derive_sigs_start(bt->blocks + first, bt->count - first, d->g->hash,
                                 derive_sigs_workers());
    uint64_t wait_ns = 0, exec_ns = 0;
    int skipped = 0;
    for (size_t i = 0; i < bt->count && !d->s.halted; i++) {
        chain_block *b = &bt->blocks[i];
        uint64_t h = b->h.height, head = chain_store_height(d->st);
        if (h <= head) {
            uint8_t ours[32], theirs[32];
            util_err e = {0};
            if (chain_store_block_id_at(d->st, h, ours, &e)) {
                derive_halt(d, "reading our block %llu: %s", (unsigned long long)h, e.msg);
                break;
            }
            chain_header_hash(&b->h, theirs);
            if (memcmp(ours, theirs, 32) != 0) {
                char a[67], c[67];
                hex32(a, theirs);
                hex32(c, ours);
                derive_halt(d,
                            "L1 tx %s carries block %s at L2 height %llu, where this node has "
                            "derived %s",
                            txh, a, (unsigned long long)h, c);
                break;
            }
            d->s.blocks_skipped++;
            continue;
        }
        if (h > head + 1) {
            LOG_WARN("derive",
                     "the batch in L1 tx %s starts at L2 height %llu, above head %llu + 1: "
                     "skipped (blocks are derived in order; the batcher posts the gap again)",
                     txh, (unsigned long long)h, (unsigned long long)head);
            d->s.blocks_skipped += bt->count - i;
            skipped = 1;
            break;
        }
        const chain_commit *commit =
            i + 1 < bt->count ? &bt->blocks[i + 1].h.last_commit : &bt->last_commit;
        uint64_t t0 = uv_hrtime();
        if (i >= first) derive_sigs_wait(sigs, i - first);
        uint64_t t1 = uv_hrtime();
        int rc = derive_block(d, b, commit, log, txh);
        wait_ns += t1 - t0;
        exec_ns += uv_hrtime() - t1;
        if (rc) break;
        derive_check_outputs(d);
    }
    derive_sigs_stats ss = {0};
    derive_sigs_end(sigs, &ss);
    if (d->s.halted || skipped) return;
    LOG_INFO("derive",
             "L1 block %llu tx %s: L2 blocks %llu..%llu, head %llu (signatures %.1f ms waited, "
             "%zu checked on the loop in %.1f ms and %zu on %d workers in %.1f ms; blocks %.1f ms)",
             (unsigned long long)log->block_number, txh, (unsigned long long)bt->first,
             (unsigned long long)(bt->first + bt->count - 1),
             (unsigned long long)chain_store_height(d->st), (double)wait_ns / 1e6, ss.loop_txs,
             (double)ss.loop_ns / 1e6, ss.worker_txs, ss.workers, (double)ss.worker_ns / 1e6,
             (double)exec_ns / 1e6);
}

int derive_post(rollup_derive *d, const rollup_l1_log *log)
{
    char txh[67];
    hex32(txh, log->tx_hash);
    /* The inbox logs who posted; only the batcher's data counts (the
     * contract refuses others, this keeps a node safe from a wrong config). */
    if (log->ntopics < 2 || memcmp(log->topics[1] + 12, d->cfg.batcher.b, 20) != 0) return 0;
    if (log->data_len != 32) {
        derive_halt(d, "L1 tx %s: a BatchPosted log with %zu data bytes, not 32", txh,
                    log->data_len);
        return 0;
    }
    const rollup_l1_tx *tx = NULL;
    for (size_t i = 0; i < d->blk.ntx; i++)
        if (memcmp(d->blk.txs[i].hash, log->tx_hash, 32) == 0) tx = &d->blk.txs[i];
    if (!tx) return UTIL_ESTATE;
    /* The frame is the argument of post(bytes) in the transaction's own
     * calldata, sent by the batcher to the inbox: a frame posted through
     * another contract is not read (its calldata is not the frame). */
    uint8_t sel[4];
    rollup_abi_selector(sel, "post(bytes)");
    const uint8_t *frame = NULL;
    size_t flen = 0;
    util_err e = {0};
    if (memcmp(tx->from.b, d->cfg.batcher.b, 20) != 0 || !tx->has_to ||
        memcmp(tx->to.b, d->cfg.batch_inbox.b, 20) != 0 || tx->input_len < 4 ||
        memcmp(tx->input, sel, 4) != 0 ||
        rollup_abi_bytes(tx->input + 4, tx->input_len - 4, 0, &frame, &flen, &e)) {
        derive_halt(d, "L1 tx %s: not a post(frame) call from the batcher to the inbox", txh);
        return 0;
    }
    uint8_t hash[32];
    rollup_keccak256(hash, frame, flen);
    if (memcmp(hash, log->data, 32) != 0) {
        derive_halt(d, "L1 tx %s: keccak256 of the frame is not the logged dataHash", txh);
        return 0;
    }
    return derive_frame(d, log, frame, flen);
}

int derive_frame(rollup_derive *d, const rollup_l1_log *log, const uint8_t *frame, size_t flen)
{
    char txh[67];
    hex32(txh, log->tx_hash);
    util_err e = {0};
    d->s.frames++;
    rollup_frame f;
    if (rollup_frame_parse(&f, frame, flen, &e)) {
        derive_halt(d, "L1 tx %s: %s", txh, e.msg);
        return 0;
    }
    uint8_t *chan = NULL;
    size_t clen = 0;
    int rc = rollup_asm_add(d->as, log->block_number, &f, &chan, &clen, &e);
    if (rc == UTIL_EINVAL) {
        /* The assembler's rule (docs/rollup.md, "Reassembly"): a frame that
         * contradicts its channel is ignored, a channel whose bytes do not
         * hash to its id is dropped; every node does the same. */
        LOG_WARN("derive", "L1 tx %s: %s: ignored", txh, e.msg);
        d->s.frames_refused++;
        return 0;
    }
    if (rc) {
        derive_halt(d, "L1 tx %s: %s", txh, e.msg);
        return 0;
    }
    if (!chan) return 0;
    rollup_batch bt;
    memset(&bt, 0, sizeof bt);
    rc = rollup_batch_decode(chan, clen, &bt, &e);
    free(chan);
    if (rc) {
        derive_halt(d, "L1 tx %s: %s", txh, e.msg);
        return 0;
    }
    derive_batch(d, &bt, log, txh);
    rollup_batch_free(&bt);
    return 0;
}

/* --- outputs --------------------------------------------------------------- */

void derive_add_output(rollup_derive *d, uint64_t height, const uint8_t root[32], uint64_t ts,
                       uint64_t l1_block, const uint8_t tx[32])
{
    for (size_t i = 0; i < d->nouts; i++)
        if (d->outs[i].height == height) return; /* read again after a reset */
    if (d->nouts == d->cap_outs) {
        size_t cap = d->cap_outs ? d->cap_outs * 2 : 64;
        derive_output *o = realloc(d->outs, cap * sizeof *o);
        if (!o) {
            derive_halt(d, "out of memory keeping the posted outputs");
            return;
        }
        d->outs = o;
        d->cap_outs = cap;
    }
    derive_output *o = &d->outs[d->nouts++];
    memset(o, 0, sizeof *o);
    o->height = height;
    memcpy(o->root, root, 32);
    o->ts = ts;
    o->l1_block = l1_block;
    memcpy(o->tx, tx, 32);
    d->s.outputs_seen++;
    if (!d->s.has_last_output || height >= d->s.last_output_height) {
        d->s.has_last_output = 1;
        memcpy(d->s.last_output_tx, tx, 32);
        d->s.last_output_height = height;
        d->s.last_output_l1_block = l1_block;
    }
    derive_check_outputs(d);
}

void derive_oracle_log(rollup_derive *d, const rollup_l1_log *log)
{
    if (memcmp(log->topics[0], derive_topic_frozen, 32) == 0) {
        if (!d->s.frozen)
            LOG_WARN("derive",
                     "OutputOracle frozen in L1 block %llu: conflicting outputs were "
                     "signed; no output is final any more",
                     (unsigned long long)log->block_number);
        d->s.frozen = 1;
        return;
    }
    if (memcmp(log->topics[0], derive_topic_output, 32) != 0 || log->ntopics < 2) return;
    util_err e = {0};
    uint64_t height, ts;
    uint8_t root[32];
    if (rollup_abi_u64(log->topics[1], 32, 0, &height, &e) ||
        rollup_abi_word(log->data, log->data_len, 0, root, &e) ||
        rollup_abi_u64(log->data, log->data_len, 1, &ts, &e)) {
        char txh[67];
        hex32(txh, log->tx_hash);
        derive_halt(d, "L1 tx %s: malformed OutputProposed log: %s", txh, e.msg);
        return;
    }
    derive_add_output(d, height, root, ts, log->block_number, log->tx_hash);
}

void derive_check_outputs(rollup_derive *d)
{
    uint64_t head = chain_store_height(d->st);
    for (size_t i = 0; i < d->nouts && !d->s.halted; i++) {
        derive_output *o = &d->outs[i];
        if (o->checked || o->height > head || o->height == 0) continue;
        uint8_t ours[32];
        util_err e = {0};
        if (rollup_output_root_at(d->st, o->height, ours, NULL, &e)) {
            derive_halt(d, "reading our block %llu: %s", (unsigned long long)o->height, e.msg);
            return;
        }
        if (memcmp(ours, o->root, 32) != 0) {
            char a[67], c[67], t[67];
            hex32(a, o->root);
            hex32(c, ours);
            hex32(t, o->tx);
            derive_halt(d,
                        "output root mismatch at L2 height %llu: OutputOracle has %s (L1 tx %s), "
                        "this node's state gives %s",
                        (unsigned long long)o->height, a, t, c);
            return;
        }
        o->checked = 1;
        d->s.outputs_checked++;
        LOG_INFO("derive", "output root at L2 height %llu matches the posted one",
                 (unsigned long long)o->height);
    }
}

/* --- heads ------------------------------------------------------------------- */

void derive_update_heads(rollup_derive *d)
{
    uint64_t head = chain_store_height(d->st);
    d->s.head = head;
    /* safe: the highest L2 block whose origin is confirmations deep. Origins
     * never decrease with the height, so a binary search finds it. */
    uint64_t lo = 0, hi = head;
    if (d->s.has_l1_head && d->s.l1_head >= d->cfg.confirmations) {
        uint64_t deep = d->s.l1_head - d->cfg.confirmations;
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo + 1) / 2, n;
            uint8_t hh[32];
            int rc = rollup_derive_origin(d->st, mid, &n, hh, NULL);
            /* A block without an origin was not derived here: as deep as it gets. */
            if (rc == UTIL_ENOTFOUND || (rc == 0 && n <= deep))
                lo = mid;
            else
                hi = mid - 1;
        }
    }
    d->s.safe = lo;
    /* finalized: the highest height of an output that matched our block and
     * whose finalization period has passed by the L1 head's clock, while the
     * oracle is not frozen (OutputOracle.isFinalized's rule). */
    d->s.has_finalized = 0;
    d->s.finalized = 0;
    if (d->s.frozen || !d->s.has_l1_head) return;
    for (size_t i = 0; i < d->nouts; i++) {
        const derive_output *o = &d->outs[i];
        if (!o->checked || o->height > head) continue;
        if (o->ts + d->cfg.finalization_period_s > d->s.l1_head_time) continue;
        if (!d->s.has_finalized || o->height > d->s.finalized) d->s.finalized = o->height;
        d->s.has_finalized = 1;
    }
    /* What is below the finalized output is settled: forget it, so the list
     * stays a few entries long however long the chain. */
    if (!d->s.has_finalized) return;
    size_t k = 0;
    for (size_t i = 0; i < d->nouts; i++)
        if (!(d->outs[i].checked && d->outs[i].height < d->s.finalized)) d->outs[k++] = d->outs[i];
    d->nouts = k;
}
