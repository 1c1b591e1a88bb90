/* Private to chain/: the per-type transaction bodies. */
#ifndef OL_CHAIN_EXEC_INTERNAL_H
#define OL_CHAIN_EXEC_INTERNAL_H

#include "chain/state.h"

/* A transaction body. Runs after the nonce was taken and before the fee is
 * paid. Returns 0 (success), a "failed" code (UTIL_EINVAL, UTIL_ELIMIT,
 * UTIL_ESTATE, UTIL_EEXIST, UTIL_ENOTFOUND: the body's writes are reverted and
 * the receipt says failed with err's message), or any other code for a fatal
 * storage/memory error. It may raise r->gas_used (metered work). */
typedef int (*chain_body_fn)(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err);

#endif
