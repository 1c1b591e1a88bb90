/* An in-memory host for the VM: balances of any number of accounts and the
 * storage of one contract, with a journal so a failed call leaves no trace.
 * Used by the tests, the fuzz target, the benchmark and tools; the node has
 * its own host over the chain state.
 *
 * vm_memhost_call is the pattern every host follows: begin a journal, run,
 * then keep the changes only when the status is VM_OK. */
#ifndef OL_VM_HOST_MEM_H
#define OL_VM_HOST_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "vm/vm.h"
#include "util/err.h"

typedef struct vm_memhost vm_memhost;

OL_MUST_CHECK vm_memhost *vm_memhost_new(const uint8_t self[VM_ADDR_LEN]);
void vm_memhost_free(vm_memhost *h);

/* Fills a host table whose callbacks act on h. */
void vm_memhost_table(vm_memhost *h, vm_host *out);

/* Direct state access (not journaled). */
OL_MUST_CHECK int vm_memhost_set_balance(vm_memhost *h, const uint8_t addr[VM_ADDR_LEN],
                                         uint64_t amount);
uint64_t vm_memhost_balance(const vm_memhost *h, const uint8_t addr[VM_ADDR_LEN]);
/* Sum of all balances, saturating at UINT64_MAX. */
uint64_t vm_memhost_total(const vm_memhost *h);
/* 1 and val filled if the slot is non-empty, else 0. */
OL_MUST_CHECK int vm_memhost_sget(const vm_memhost *h, const uint8_t key[VM_KEY_LEN],
                                  uint8_t val[VM_KEY_LEN]);
/* Non-empty storage slots. */
size_t vm_memhost_slots(const vm_memhost *h);

/* After `n` more successful host callbacks, every callback fails with
 * VM_HOST_EIO (tests of the node-failure path); n < 0 turns this off. */
void vm_memhost_fail_after(vm_memhost *h, long n);

/* Runs prog with env->self as the contract and rolls every change back
 * unless the result is VM_OK (or vm_call failed). Same returns as vm_call. */
OL_MUST_CHECK int vm_memhost_call(vm_memhost *h, const vm_program *prog, const vm_env *env,
                                  uint64_t gas_limit, vm_result *res, util_err *err);

#endif
