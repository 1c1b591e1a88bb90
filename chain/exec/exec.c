/* The transaction envelope rules (validity, fee, nonce) and the dispatch to
 * each type's body. A body that fails is reverted to the checkpoint taken
 * after the fee, so a failed transaction costs its fee and nonce only. */
#include <stdio.h>
#include <string.h>

#include "chain/exec/exec_internal.h"
#include "util/amount.h"

static int invalid(util_err *err, const char *what, uint64_t x, uint64_t y)
{
    return util_err_set(err, UTIL_EINVAL, what, (unsigned long long)x, (unsigned long long)y);
}

int chain_exec_transfer_coded(chain_exec *ex, const chain_addr *from, const chain_addr *to,
                              uint64_t amount, util_err *err)
{
    chain_account acc;
    int rc;
    if ((rc = chain_exec_get_account(ex, from, &acc, err))) return rc;
    if (acc.balance < amount)
        return util_err_set(err, UTIL_EINVAL, "insufficient_funds: balance %llu < amount %llu",
                            (unsigned long long)acc.balance, (unsigned long long)amount);
    rc = chain_exec_transfer(ex, from, to, amount, err);
    if (rc == UTIL_EINVAL)
        return util_err_set(err, UTIL_EINVAL,
                            "balance_overflow: the amount overflows the recipient's balance");
    return rc;
}

static int body_transfer(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err)
{
    (void)r;
    return chain_exec_transfer_coded(ex, &tx->from, &tx->body.transfer.to, tx->body.transfer.amount,
                                     err);
}

int chain_exec_apply_tx(chain_exec *ex, chain_tx *tx, chain_receipt *r, util_err *err)
{
    const chain_exec_ctx *c = chain_exec_context(ex);
    if (tx->version != CHAIN_TX_VERSION)
        return util_err_set(err, UTIL_EINVAL, "unsupported transaction version %u", tx->version);
    if (strcmp(tx->chain_id, c->chain_id) != 0)
        return util_err_set(err, UTIL_EINVAL, "wrong chain: transaction is for '%s', this is '%s'",
                            tx->chain_id, c->chain_id);
    chain_body_fn body = NULL;
    switch (tx->type) {
    case CHAIN_TX_TRANSFER: body = body_transfer; break;
    case CHAIN_TX_DATANET_CREATE: body = chain_body_datanet_create; break;
    case CHAIN_TX_CONTRIBUTE: body = chain_body_contribute; break;
    case CHAIN_TX_REVIEW: body = chain_body_review; break;
    case CHAIN_TX_MODEL_REGISTER: body = chain_body_model_register; break;
    case CHAIN_TX_ATTRIBUTE: body = chain_body_attribute; break;
    case CHAIN_TX_DEPLOY: body = chain_body_deploy; break;
    case CHAIN_TX_CALL: body = chain_body_call; break;
    case CHAIN_TX_WITHDRAW: body = chain_body_withdraw; break;
    case CHAIN_TX_DEPOSIT:
        /* No account signs or pays for it: the block executor applies it
         * (chain_bridge_apply_deposit), never this envelope. */
        return util_err_set(err, UTIL_EINVAL,
                            "deposit: a system transaction, only a block proposer includes one");
    default: return util_err_set(err, UTIL_EINVAL, "unsupported transaction type %u", tx->type);
    }
    uint64_t gas = chain_tx_intrinsic_gas(tx);
    if (tx->gas_limit < gas)
        return invalid(err, "gas limit %llu below intrinsic gas %llu", tx->gas_limit, gas);
    if (tx->gas_price < c->min_gas_price)
        return invalid(err, "gas price %llu below minimum %llu", tx->gas_price, c->min_gas_price);
    if (!chain_tx_check_sig(tx, c->genesis_hash))
        return util_err_set(err, UTIL_EINVAL, "bad signature");

    chain_account from;
    int rc;
    if ((rc = chain_exec_get_account(ex, &tx->from, &from, err))) return rc;
    if (from.nonce != tx->nonce)
        return invalid(err, "nonce mismatch: account nonce %llu, transaction nonce %llu",
                       from.nonce, tx->nonce);
    uint64_t max_fee;
    if (util_mul_u64(tx->gas_limit, tx->gas_price, &max_fee))
        return util_err_set(err, UTIL_EINVAL, "gas limit x gas price overflows");
    if (from.balance < max_fee)
        return invalid(err, "insufficient funds for gas: balance %llu < %llu", from.balance,
                       max_fee);

    /* Gas is bought up front (gas_limit x gas_price) with the nonce, the body
     * runs on what is left, and unused gas is refunded: a body can never spend
     * the fee. Fixed-cost types use their intrinsic gas; metered types raise
     * r->gas_used. */
    memset(r, 0, sizeof *r);
    size_t cp0 = chain_exec_checkpoint(ex);
    from.nonce++;
    from.balance -= max_fee;
    if ((rc = chain_exec_set_account(ex, &tx->from, &from, err))) goto fatal;

    r->gas_used = gas;
    size_t cp = chain_exec_checkpoint(ex);
    util_err berr = {0};
    rc = body(ex, tx, r, &berr);
    if (rc == UTIL_EINVAL || rc == UTIL_ELIMIT || rc == UTIL_ESTATE || rc == UTIL_EEXIST ||
        rc == UTIL_ENOTFOUND) {
        chain_exec_revert(ex, cp);
        /* A failed body leaves no events, return data or created contract;
         * a revert keeps its data, which the call put in r. */
        chain_receipt_fail(r, berr.msg);
    } else if (rc) {
        util_err_set(err, rc, "%s", berr.msg);
        goto fatal;
    } else {
        r->status = CHAIN_RECEIPT_OK;
    }
    if (r->gas_used > tx->gas_limit) r->gas_used = tx->gas_limit;
    r->fee = r->gas_used * tx->gas_price; /* <= max_fee, no overflow */

    chain_account acc;
    if ((rc = chain_exec_get_account(ex, &tx->from, &acc, err))) goto fatal;
    if (util_add_u64(acc.balance, max_fee - r->fee, &acc.balance)) {
        rc = util_err_set(err, UTIL_EINVAL, "refund overflows the sender's balance");
        goto fatal;
    }
    if ((rc = chain_exec_set_account(ex, &tx->from, &acc, err))) goto fatal;
    if ((rc = chain_exec_get_account(ex, &c->proposer, &acc, err))) goto fatal;
    if (util_add_u64(acc.balance, r->fee, &acc.balance)) {
        rc = util_err_set(err, UTIL_EINVAL, "fee overflows the proposer's balance");
        goto fatal;
    }
    if ((rc = chain_exec_set_account(ex, &c->proposer, &acc, err))) goto fatal;
    return 0;
fatal:
    chain_receipt_free(r);
    chain_exec_revert(ex, cp0);
    return rc;
}
