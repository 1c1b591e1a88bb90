#include <stdlib.h>
#include <string.h>

#include "chain/block.h"
#include "chain/hash.h"
#include "chain/state.h"
#include "node/node_internal.h"
#include "util/bytes.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/time.h"

/* Room kept in the byte budget for the header and the tx count. */
#define HEADER_RESERVE (8 * 1024)

static void receipts_root(const chain_receipt *rs, size_t n, uint8_t out[32])
{
    uint8_t(*h)[32] = malloc((n ? n : 1) * 32);
    if (!h) {
        memset(out, 0, 32);
        return;
    }
    for (size_t i = 0; i < n; i++)
        chain_receipt_hash(&rs[i], h[i]);
    chain_merkle_root((const uint8_t(*)[32])h, n, out);
    free(h);
}

int node_produce_block(node *n, int allow_empty, int *produced, util_err *err)
{
    *produced = 0;
    const chain_params *p = &n->genesis.params;
    const chain_header *parent = chain_store_head_header(n->store);
    uint64_t max_bytes =
        p->block_max_bytes > HEADER_RESERVE ? p->block_max_bytes - HEADER_RESERVE : 0;

    size_t cap = chain_mempool_count(n->mempool);
    const chain_tx **sel = malloc((cap ? cap : 1) * sizeof *sel);
    if (!sel) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    size_t nsel = chain_mempool_select(n->mempool, p->block_gas_limit, (size_t)max_bytes, sel, cap);
    if (nsel == 0 && !allow_empty) {
        free(sel);
        return 0;
    }

    uint64_t t0 = util_mono_ns();
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", n->genesis.chain_id);
    b.h.height = parent->height + 1;
    chain_store_head_id(n->store, b.h.parent);
    uint64_t now = util_wall_ms();
    b.h.time_ms = now > parent->time_ms ? now : parent->time_ms + 1;
    chain_addr_from_pubkey(&b.h.proposer, n->validator.pubkey);
    memcpy(b.h.validators_hash, n->genesis.validators_hash, 32);
    if (parent->height > 0 &&
        chain_store_get_commit(n->store, parent->height, &b.h.last_commit, err)) {
        free(sel);
        return util_err_prefix(err, "loading the parent's commit: ");
    }

    b.txs = calloc(nsel ? nsel : 1, sizeof *b.txs);
    chain_receipt *rs = calloc(nsel ? nsel : 1, sizeof *rs);
    uint8_t(*bad)[32] = calloc(nsel ? nsel : 1, 32);
    size_t nbad = 0;
    chain_exec_ctx ectx = {.chain_id = n->genesis.chain_id,
                           .genesis_hash = n->genesis.hash,
                           .height = b.h.height,
                           .time_ms = b.h.time_ms,
                           .proposer = b.h.proposer,
                           .min_gas_price = p->min_gas_price};
    chain_exec *ex = chain_exec_new(n->store, &ectx);
    int rc = 0;
    if (!b.txs || !rs || !bad || !ex) {
        rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
        goto out;
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < nsel; i++) {
        /* The pool counts transaction sizes; the block also prefixes each with
         * its length. Stop at the first that does not fit: the rest of the
         * selection stays in the pool for the next block. */
        uint64_t need = sel[i]->size + util_varint_len(sel[i]->size);
        if (bytes + need > max_bytes) break;
        chain_tx *tx = &b.txs[b.ntx];
        if ((rc = chain_tx_copy(tx, sel[i]))) {
            rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
            goto out;
        }
        util_err txe = {0};
        int arc = chain_exec_apply_tx(ex, tx, &rs[b.ntx], &txe);
        if (arc == UTIL_EINVAL) {
            /* Valid when admitted, invalid now (e.g. funds spent by an earlier
             * transaction): drop it from the pool, not from the chain's rules. */
            char hex[65];
            util_hex_encode(hex, tx->id, 32);
            LOG_DEBUG("node", "dropping tx 0x%s: %s", hex, txe.msg);
            memcpy(bad[nbad++], tx->id, 32);
            chain_tx_free(tx);
            continue;
        }
        if (arc) {
            chain_tx_free(tx);
            rc = util_err_set(err, arc, "executing a transaction: %s", txe.msg);
            goto out;
        }
        bytes += need;
        b.ntx++;
    }
    free(sel);
    sel = NULL; /* borrowed pointers die with the pool changes below */
    for (size_t i = 0; i < nbad; i++)
        chain_mempool_remove(n->mempool, bad[i]);
    if (b.ntx == 0 && !allow_empty) goto out;

    if ((rc = chain_exec_finish(ex, b.h.state_root, err))) goto out;
    chain_block_tx_root(&b, b.h.tx_root);
    receipts_root(rs, b.ntx, b.h.receipts_root);
    uint64_t t1 = util_mono_ns();

    uint8_t id[32], digest[32];
    chain_header_hash(&b.h, id);
    chain_vote_digest(digest, b.h.chain_id, b.h.height, 0, CHAIN_VOTE_PRECOMMIT, id);
    chain_commit commit;
    memset(&commit, 0, sizeof commit);
    commit.n = 1;
    commit.sigs[0].validator = n->validator_index;
    if ((rc = chain_sign(commit.sigs[0].sig, digest, &n->validator, NULL))) {
        rc = util_err_set(err, UTIL_ECRYPTO, "signing the commit failed");
        goto out;
    }
    if ((rc = chain_store_commit_block(n->store, &b, rs, ex, &commit, err))) goto out;
    uint64_t t2 = util_mono_ns();
    chain_mempool_on_block(n->mempool, &b);
    node_block_committed(n, &b, id, rs, t1 - t0, t2 - t1);
    n->blocks_produced++;
    n->last_block_mono_ns = util_mono_ns();
    *produced = 1;

    uint64_t gas = 0;
    for (size_t i = 0; i < b.ntx; i++)
        gas += rs[i].gas_used;
    char hex[65];
    util_hex_encode(hex, id, 32);
    LOG_INFO("node", "block %llu txs=%zu gas=%llu exec=%.1fms commit=%.1fms hash=0x%.16s",
             (unsigned long long)b.h.height, b.ntx, (unsigned long long)gas,
             (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, hex);
out:
    free(sel);
    free(bad);
    if (rs)
        for (size_t i = 0; i < nsel; i++)
            chain_receipt_free(&rs[i]);
    free(rs);
    chain_exec_free(ex);
    chain_block_free(&b);
    return rc;
}
