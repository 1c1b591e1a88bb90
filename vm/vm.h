/* The contract VM: a verified, gas-metered register machine (docs/vm.md).
 *
 * Life of a contract:
 *   1. vm_asm_source / vm_asm_file turn .olasm text into a code blob.
 *   2. vm_verify checks a blob once (at deploy) and builds a vm_program: the
 *      decoded instructions with the static gas of every basic block. A blob
 *      that fails is rejected with the offending byte offset and a reason.
 *   3. vm_call runs a program against a host (the VM's only access to the
 *      chain) and fills a vm_result: status, gas used, return data, events,
 *      revert message.
 *
 * The VM never changes state on its own: balances and storage change through
 * the host callbacks, events are only collected in the result. When a call
 * ends with any status other than VM_OK, the HOST must discard every change
 * made through its callbacks during the call (its journal); the VM has
 * already dropped the events and return data. gas_used is meaningful for
 * every status and is what the caller charges.
 *
 * Everything here is deterministic: the same program, environment, host state
 * and gas limit give the same result on every machine and build. */
#ifndef OL_VM_VM_H
#define OL_VM_VM_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

/* Limits (docs/vm.md, "Limits"). */
#define VM_ADDR_LEN 20
#define VM_KEY_LEN 32 /* storage key and value, event topic */
#define VM_NREGS 16
#define VM_INSN_SIZE 8
#define VM_HEADER_SIZE 16
#define VM_CODE_MAX 24576 /* whole blob: header + instructions + data */
#define VM_MEM_SIZE 65536
#define VM_CALL_DEPTH 64     /* nested internal CALLs */
#define VM_MAX_EVENTS 4096   /* logs + payouts per call */
#define VM_MAX_LOG_DATA 1024 /* data bytes of one log */
#define VM_MAX_LOG_TOTAL 65536
#define VM_MAX_SSTORES 256 /* storage writes per call */
#define VM_MAX_RETURN 4096
#define VM_MAX_REVERT 256 /* longer revert messages are truncated */

/* Call status: VM_OK, VM_REVERTED, or a fault. Stable numbers (receipts). */
enum vm_status {
    VM_OK = 0,
    VM_REVERTED = 1,   /* REVERT instruction; message in the result */
    VM_E_GAS = 2,      /* out of gas */
    VM_E_DIVZERO = 3,  /* division or modulo by zero, MULDIV by zero */
    VM_E_OVERFLOW = 4, /* checked arithmetic or MULDIV quotient overflow */
    VM_E_MEMORY = 5,   /* memory access outside [0, VM_MEM_SIZE) */
    VM_E_DEPTH = 6,    /* CALL nested deeper than VM_CALL_DEPTH */
    VM_E_HOST = 7,     /* invalid host call: no record, entry index or input range out of range */
    VM_E_BALANCE = 8,  /* pay of more than the contract holds */
    VM_E_STORAGE = 9,  /* more than VM_MAX_SSTORES storage writes */
    VM_E_EVENTS = 10,  /* event count or size limit */
    VM_E_RETURN = 11,  /* return data larger than VM_MAX_RETURN */
};
#define VM_STATUS_MAX 11

/* "ok", "reverted", "out of gas", ... ; "unknown" otherwise. */
const char *vm_status_name(int status);

/* ---- Verification ---- */

/* Opaque and immutable once built, so one program can be run by several
 * threads at once (chain/state/codecache.h shares them). Reference-counted:
 * vm_verify returns one reference, vm_program_ref adds one, vm_program_free
 * drops one and frees the program with the last; both are thread-safe. */
typedef struct vm_program vm_program;

/* Verifies a code blob and builds its program. Returns 0, UTIL_EINVAL (the
 * blob is rejected: err says "offset N: reason" and *err_off, if given, is
 * N, a byte offset into the blob) or UTIL_ENOMEM. The program does not
 * borrow code. */
OL_MUST_CHECK int vm_verify(const uint8_t *code, size_t len, vm_program **out, uint32_t *err_off,
                            util_err *err);
vm_program *vm_program_ref(vm_program *p);
void vm_program_free(vm_program *p);
/* Bytes of memory the program holds (what a cache of programs counts). */
size_t vm_program_mem(const vm_program *p);
/* 1 when a and b are the same program: what verifying the same blob gives. */
OL_MUST_CHECK int vm_program_equal(const vm_program *a, const vm_program *b);
/* Counts, for tools and tests. */
uint32_t vm_program_insns(const vm_program *p);
uint32_t vm_program_blocks(const vm_program *p);
uint32_t vm_program_data_len(const vm_program *p);

/* ---- Host interface ---- */

/* The attribution record being settled (ATTRIBUTE). Plain data owned by the
 * host for the duration of the call. */
typedef struct vm_entry {
    uint64_t contribution;
    uint8_t addr[VM_ADDR_LEN]; /* contributor */
    uint64_t weight;
} vm_entry;

typedef struct vm_record {
    uint64_t id;    /* record id */
    uint64_t model; /* model id */
    uint64_t fee;   /* escrowed to the contract before the call */
    uint8_t owner[VM_ADDR_LEN];
    uint8_t validators[VM_ADDR_LEN]; /* recipient of the validators' share */
    uint32_t owner_bp, validators_bp, contributors_bp;
    size_t n_entries;
    const vm_entry *entries;
} vm_record;

/* What the call sees of its context. */
typedef struct vm_env {
    uint8_t caller[VM_ADDR_LEN];
    uint8_t self[VM_ADDR_LEN]; /* the running contract */
    uint64_t value;            /* base units sent with the call (already credited) */
    uint64_t height;
    uint64_t time_ms;
    const uint8_t *input;
    size_t input_len;
    const vm_record *record; /* NULL when no record is being settled */
} vm_env;

/* Return values of host callbacks. */
enum {
    VM_HOST_OK = 0,
    VM_HOST_FUNDS = 1, /* pay: the contract holds less than amount; nothing moved */
    VM_HOST_EIO = -1,  /* the host itself failed (storage error, no memory) */
};

/* Callbacks act on the running contract (env->self). VM_HOST_EIO is not a
 * contract fault: vm_call stops and returns UTIL_EIO, and the caller must not
 * treat the result as a receipt (the node, not the contract, failed). */
typedef struct vm_host {
    void *ctx;
    /* Balance of addr (0 for an unknown account); VM_HOST_EIO on failure. */
    int (*balance)(void *ctx, const uint8_t addr[VM_ADDR_LEN], uint64_t *out);
    /* Moves amount > 0 from the contract to `to`. VM_HOST_FUNDS when the
     * contract holds less. */
    int (*pay)(void *ctx, const uint8_t to[VM_ADDR_LEN], uint64_t amount);
    /* 1 and val filled when the slot holds a value, 0 when it is empty. */
    int (*sload)(void *ctx, const uint8_t key[VM_KEY_LEN], uint8_t val[VM_KEY_LEN]);
    /* Writes a slot; 32 zero bytes empty it. */
    int (*sstore)(void *ctx, const uint8_t key[VM_KEY_LEN], const uint8_t val[VM_KEY_LEN]);
} vm_host;

/* ---- Results ---- */

enum { VM_EVENT_LOG = 1, VM_EVENT_PAY = 2 };

/* Every successful PAY is recorded by the VM as a VM_EVENT_PAY event, in
 * order with the contract's logs, so no payout is ever silent. */
typedef struct vm_event {
    uint8_t kind;
    uint8_t topic[VM_KEY_LEN]; /* LOG */
    uint8_t to[VM_ADDR_LEN];   /* PAY */
    uint64_t amount;           /* PAY */
    uint32_t data_off;         /* LOG: data is event_data[data_off .. +data_len) */
    uint32_t data_len;
} vm_event;

typedef struct vm_result {
    int status;        /* enum vm_status */
    uint32_t end_pc;   /* blob offset of the instruction that ended the call */
    uint64_t gas_used; /* gas_limit on VM_E_GAS */
    uint8_t *ret;      /* VM_OK: return data (NULL when empty) */
    size_t ret_len;
    uint8_t revert[VM_MAX_REVERT]; /* VM_REVERTED: message */
    size_t revert_len;
    vm_event *events; /* VM_OK only */
    size_t n_events;
    uint8_t *event_data;
    size_t event_data_len;
    char detail[128]; /* human-readable description of a fault, "" otherwise */
} vm_result;

void vm_result_free(vm_result *r);

/* Runs prog from its entry point with at most gas_limit gas. Returns 0 when
 * res holds the outcome (which may be a revert or a fault), UTIL_ENOMEM or
 * UTIL_EIO (a host callback failed) when the node could not run the call;
 * then res holds no receipt. Memory starts zeroed with the data segment at
 * address 0, and every register starts at 0. res is always safe to
 * vm_result_free. */
OL_MUST_CHECK int vm_call(const vm_program *prog, const vm_host *host, const vm_env *env,
                          uint64_t gas_limit, vm_result *res, util_err *err);

/* ---- Assembler and disassembler ---- */

/* Assembles source text; name is used in messages ("name:line:col: msg").
 * *out is malloc'ed. Returns 0, UTIL_EINVAL or UTIL_ENOMEM. Unless the source
 * says .unverified, the output is also verified, and verifier errors point
 * at the offending line. */
OL_MUST_CHECK int vm_asm_source(const char *name, const char *text, size_t len, uint8_t **out,
                                size_t *out_len, util_err *err);
/* Reads and assembles a file (UTIL_EIO if it cannot be read). */
OL_MUST_CHECK int vm_asm_file(const char *path, uint8_t **out, size_t *out_len, util_err *err);

/* Appends assembler text to out (NUL-terminated, the NUL not counted in
 * out->len). Reassembling the text gives back exactly the same bytes. Needs a
 * well-formed header (magic, version, flags, lengths that add up, at least
 * one instruction, within VM_CODE_MAX); a blob that does not verify is
 * written with .unverified and its invalid instructions as .insn lines.
 * Returns 0, UTIL_EINVAL or UTIL_ENOMEM. */
OL_MUST_CHECK int vm_disasm(const uint8_t *code, size_t len, util_buf *out, util_err *err);

#endif
