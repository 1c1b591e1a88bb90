/* Contracts on chain: accounts with VM code (DEPLOY, CALL) and the host table
 * through which the VM reaches the state (docs/contracts.md).
 *
 * A contract's code and storage slots are state entries (chain_key_code,
 * chain_key_storage in chain/state/dbkey.h). A contract's address is the first 20 bytes of
 * SHA-256("openledger:contract" || deployer addr[20] || deployer nonce u64le),
 * the nonce being the one of the DEPLOY transaction. */
#ifndef OL_CHAIN_CONTRACT_H
#define OL_CHAIN_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/address.h"
#include "chain/state/dbkey.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "util/err.h"

/* Gas of every run of a contract's code (a CALL, an ATTRIBUTE's reward
 * contract), on top of the transaction's intrinsic gas and the VM's gas:
 *   CHAIN_GAS_VM_RUN             the VM's set-up of a call (64 KiB of memory
 *                                zeroed, the data segment copied, the result);
 *   CHAIN_GAS_CODE_LOAD_PER_BYTE per byte of the stored code: reading it from
 *                                the state and hashing it to find its verified
 *                                program (chain/state/codecache.h).
 * Charged the same whether the program was cached or not (nodes' caches
 * differ); verification itself is paid once, by the DEPLOY
 * (CHAIN_GAS_DEPLOY_PER_BYTE). Chosen at 2 gas per ns measured
 * (docs/contracts.md, "Gas"; bench/README.md, "call"). */
#define CHAIN_GAS_VM_RUN 2500u
#define CHAIN_GAS_CODE_LOAD_PER_BYTE 2u

void chain_contract_addr(chain_addr *out, const chain_addr *deployer, uint64_t nonce);

/* Topic of the event recorded for every VM PAY: SHA-256("pay"); data = to[20] | amount u64le. */
void chain_pay_topic(uint8_t out[32]);

/* Runs a read-only call of contract `to` against the committed head state
 * (contract_call): nothing is kept. Fills status/gas/ret/events of r. */
OL_MUST_CHECK int chain_contract_call_readonly(chain_store *st, const chain_exec_ctx *ctx,
                                               const chain_addr *from, const chain_addr *to,
                                               uint64_t value, const uint8_t *input, size_t len,
                                               uint64_t gas_limit, chain_receipt *r, util_err *err);

#endif
