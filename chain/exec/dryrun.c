/* Dry runs of transactions before admission (chain/exec/dryrun.h). */
#include "chain/exec/dryrun.h"

#include <string.h>

#include "chain/mempool/mempool.h"

uint64_t chain_dry_run_limit(const chain_tx *tx, uint64_t cap)
{
    uint64_t ig = chain_tx_intrinsic_gas(tx), lim;
    if (__builtin_add_overflow(ig, cap, &lim)) lim = UINT64_MAX;
    return tx->gas_limit < lim ? tx->gas_limit : lim;
}

int chain_dry_run(chain_store *st, const chain_exec_ctx *ctx, const chain_tx *tx, uint64_t limit,
                  chain_dry_run_out *out, util_err *err)
{
    memset(out, 0, sizeof *out);
    chain_exec *ex = chain_exec_new(st, ctx);
    if (!ex) return util_err_set(err, CHAIN_MP_INTERNAL, "out of memory");
    chain_tx copy;
    chain_receipt r;
    memset(&r, 0, sizeof r);
    if (chain_tx_copy(&copy, tx)) {
        chain_exec_free(ex);
        return util_err_set(err, CHAIN_MP_INTERNAL, "out of memory");
    }
    copy.sig_checked = 1; /* the caller verified it */
    copy.gas_limit = limit;
    int reason = CHAIN_MP_OK;
    chain_account acc;
    util_err e = {0};
    int arc = chain_exec_get_account(ex, &tx->from, &acc, &e);
    if (!arc) {
        acc.nonce = tx->nonce;
        arc = chain_exec_set_account(ex, &tx->from, &acc, &e);
    }
    if (arc) {
        /* Going on would admit the transaction unchecked or refuse it for a
         * nonce it does not have, and lose the storage error either way. */
        reason = util_err_set(err, CHAIN_MP_INTERNAL, "dry run: %s", e.msg);
    } else {
        int rc = chain_exec_apply_tx(ex, &copy, &r, &e);
        out->gas_used = r.gas_used;
        if (rc)
            reason = util_err_set(err, CHAIN_MP_EXEC_FAILED, "%s", e.msg);
        else if (r.status != CHAIN_RECEIPT_OK) {
            if (limit < tx->gas_limit && r.gas_used >= limit)
                out->capped = 1;
            else
                reason = util_err_set(err, CHAIN_MP_EXEC_FAILED, "%s", r.error);
        }
    }
    chain_receipt_free(&r);
    chain_tx_free(&copy);
    chain_exec_free(ex);
    return reason;
}
