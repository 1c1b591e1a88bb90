/* Private to chain/: the per-type transaction bodies. */
#ifndef OL_CHAIN_EXEC_INTERNAL_H
#define OL_CHAIN_EXEC_INTERNAL_H

#include "chain/state/state.h"

/* A transaction body. Runs after the nonce was taken and before the fee is
 * paid. Returns 0 (success), a "failed" code (UTIL_EINVAL, UTIL_ELIMIT,
 * UTIL_ESTATE, UTIL_EEXIST, UTIL_ENOTFOUND: the body's writes are reverted and
 * the receipt says failed with err's message), or any other code for a fatal
 * storage/memory error. It may raise r->gas_used (metered work). */
typedef int (*chain_body_fn)(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err);

#endif

#include "chain/types/attr.h"
#include "util/err.h"

/* chain_exec_transfer for a transaction body: its failures carry a reason
 * token ("insufficient_funds: ...", "balance_overflow: ..."). */
OL_MUST_CHECK int chain_exec_transfer_coded(chain_exec *ex, const chain_addr *from,
                                            const chain_addr *to, uint64_t amount, util_err *err);

/* Attribution bodies (chain/exec/exec_attr.c). Failure messages start with a
 * stable reason token ("not_attestor: ..."), which the RPC reports as
 * data.reason. */
OL_MUST_CHECK int chain_body_datanet_create(chain_exec *ex, const chain_tx *tx, chain_receipt *r,
                                            util_err *err);
OL_MUST_CHECK int chain_body_contribute(chain_exec *ex, const chain_tx *tx, chain_receipt *r,
                                        util_err *err);
OL_MUST_CHECK int chain_body_review(chain_exec *ex, const chain_tx *tx, chain_receipt *r,
                                    util_err *err);
OL_MUST_CHECK int chain_body_model_register(chain_exec *ex, const chain_tx *tx, chain_receipt *r,
                                            util_err *err);
OL_MUST_CHECK int chain_body_attribute(chain_exec *ex, const chain_tx *tx, chain_receipt *r,
                                       util_err *err);

/* Contract bodies (chain/exec/exec_contract.c). */
OL_MUST_CHECK int chain_body_deploy(chain_exec *ex, const chain_tx *tx, chain_receipt *r,
                                    util_err *err);
OL_MUST_CHECK int chain_body_call(chain_exec *ex, const chain_tx *tx, chain_receipt *r,
                                  util_err *err);
/* The bridge (chain/exec/exec_bridge.c). WITHDRAW's body burns and records
 * the withdrawal. */
OL_MUST_CHECK int chain_body_withdraw(chain_exec *ex, const chain_tx *tx, chain_receipt *r,
                                      util_err *err);
/* Applies a DEPOSIT system transaction (no signature, fee or account
 * nonce): 0 when included (r filled: success, or failed "balance_overflow"
 * with nothing minted; the deposit nonce is consumed either way),
 * UTIL_EINVAL when it cannot be included (wrong chain, nonce or envelope; err
 * says why; nothing changed), another code on a local failure. */
OL_MUST_CHECK int chain_bridge_apply_deposit(chain_exec *ex, const chain_tx *tx, chain_receipt *r,
                                             util_err *err);
/* The block's supply rule, after its transactions ran in ex: the balances of
 * the changed accounts grew by exactly what the block minted minus what it
 * burned. UTIL_ESTATE naming both figures when not (a bug, never the
 * block's fault). */
OL_MUST_CHECK int chain_bridge_check_block_supply(chain_exec *ex, util_err *err);

/* Settles a record by running the reward contract's code in the VM. */
OL_MUST_CHECK int chain_reward_run_vm(chain_exec *ex, const chain_tx *tx, const chain_model *m,
                                      chain_record *rec, chain_receipt *r, util_err *err);

/* Settles a record through the model's reward contract: the fee is already in
 * the contract's account. Fills rec->payouts (and moves the funds), adds a
 * payout event per payout to r, may raise r->gas_used. Conservation (payouts +
 * retained == fee) is checked by the caller. */
OL_MUST_CHECK int chain_reward_run(chain_exec *ex, const chain_tx *tx, const chain_model *m,
                                   chain_record *rec, chain_receipt *r, util_err *err);

/* The same rules as genesis/contracts/proportional_split.olasm, in C: the
 * reference the tests hold the VM contract to (same payouts, roles, order and
 * failures). Not used by the chain: chain_reward_run fails a model whose
 * reward contract has no code with "no_contract". */
OL_MUST_CHECK int chain_reward_run_native(chain_exec *ex, const chain_tx *tx, const chain_model *m,
                                          chain_record *rec, chain_receipt *r, util_err *err);

/* The default reward contract's address (genesis): docs/attribution.md. */
void chain_default_reward_addr(chain_addr *a);
