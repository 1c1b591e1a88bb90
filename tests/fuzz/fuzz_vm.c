/* Fuzz target for the VM. The first byte picks how the rest is read:
 *   0: a code blob, as deployed;
 *   1: instructions, wrapped in a valid header (entry from the next byte),
 *      so the fuzzer spends its time in the verifier and interpreter;
 *   2: assembler source.
 * Whatever verifies runs twice under a small gas limit on the in-memory
 * host (same result both times, total balance conserved), and must
 * disassemble to text that reassembles to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "vm/host_mem.h"
#include "vm/vm.h"

#define GAS 20000

static void check(int ok)
{
    if (!ok) abort();
}

static void run_once(const vm_program *p, const uint8_t *input, size_t ilen, vm_result *res,
                     uint64_t *total)
{
    static const uint8_t self[VM_ADDR_LEN] = {0x5e, 0x1f};
    vm_entry entries[3] = {{1, {0xe1}, 5}, {2, {0xe2}, 0}, {3, {0xe3}, UINT64_MAX}};
    vm_record rec = {.id = 1,
                     .model = 2,
                     .fee = 1000,
                     .owner_bp = 5000,
                     .validators_bp = 2500,
                     .contributors_bp = 2500,
                     .n_entries = 3,
                     .entries = entries};
    memset(rec.owner, 0x0a, VM_ADDR_LEN);
    memset(rec.validators, 0x0b, VM_ADDR_LEN);
    vm_env env = {.value = 3,
                  .height = 9,
                  .time_ms = 1000,
                  .input = input,
                  .input_len = ilen,
                  .record = &rec};
    memcpy(env.self, self, VM_ADDR_LEN);
    vm_memhost *h = vm_memhost_new(self);
    check(h != NULL);
    check(vm_memhost_set_balance(h, self, 100000) == 0);
    check(vm_memhost_set_balance(h, rec.owner, 7) == 0);
    util_err err;
    int rc = vm_memhost_call(h, p, &env, GAS, res, &err);
    check(rc == 0);
    check(res->gas_used <= GAS);
    check(res->status >= 0 && res->status <= VM_STATUS_MAX);
    if (res->status != VM_OK) check(res->n_events == 0 && res->ret == NULL);
    *total = vm_memhost_total(h);
    check(*total == 100007);
    if (res->status != VM_OK) check(vm_memhost_balance(h, self) == 100000);
    vm_memhost_free(h);
}

static void exercise(const uint8_t *code, size_t len)
{
    vm_program *p;
    util_err err;
    if (vm_verify(code, len, &p, NULL, &err) != 0) {
        /* Rejected blobs with a sane header still disassemble and round trip. */
        util_buf t;
        util_buf_init(&t);
        if (vm_disasm(code, len, &t, &err) == 0) {
            uint8_t *again;
            size_t n2;
            check(vm_asm_source("fuzz", (char *)t.data, t.len, &again, &n2, &err) == 0);
            check(n2 == len && memcmp(again, code, len) == 0);
            free(again);
        }
        util_buf_free(&t);
        return;
    }
    vm_result a, b;
    uint64_t ta, tb;
    run_once(p, code, len < 64 ? len : 64, &a, &ta);
    run_once(p, code, len < 64 ? len : 64, &b, &tb);
    check(a.status == b.status && a.gas_used == b.gas_used && a.end_pc == b.end_pc);
    check(a.ret_len == b.ret_len && (!a.ret_len || memcmp(a.ret, b.ret, a.ret_len) == 0));
    check(a.n_events == b.n_events && a.revert_len == b.revert_len);
    check(memcmp(a.revert, b.revert, a.revert_len) == 0);
    vm_result_free(&a);
    vm_result_free(&b);
    vm_program_free(p);

    util_buf t;
    util_buf_init(&t);
    check(vm_disasm(code, len, &t, &err) == 0);
    uint8_t *again;
    size_t n2;
    check(vm_asm_source("fuzz", (char *)t.data, t.len, &again, &n2, &err) == 0);
    check(n2 == len && memcmp(again, code, len) == 0);
    free(again);
    util_buf_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t mode = data[0] % 3;
    data++;
    size--;
    if (mode == 0) {
        exercise(data, size);
    } else if (mode == 1) {
        if (size < 1) return 0;
        size_t n = (size - 1) / 8;
        if (n == 0 || 16 + 8 * n > VM_CODE_MAX) return 0;
        uint8_t *b = malloc(16 + 8 * n);
        check(b != NULL);
        uint32_t entry = 16 + 8 * (uint32_t)(data[0] % n);
        memcpy(b, "OLVM\x01\x00", 6);
        b[6] = (uint8_t)entry;
        b[7] = (uint8_t)(entry >> 8);
        util_put_u32le(b + 8, (uint32_t)(8 * n));
        util_put_u32le(b + 12, 0);
        memcpy(b + 16, data + 1, 8 * n);
        exercise(b, 16 + 8 * n);
        free(b);
    } else {
        uint8_t *code;
        size_t n;
        util_err err;
        if (vm_asm_source("fuzz", (const char *)data, size, &code, &n, &err) == 0) {
            exercise(code, n);
            free(code);
        }
    }
    return 0;
}
