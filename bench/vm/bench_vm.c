/* VM benchmark, side by side with Lua 5.4 in the same run:
 *   1. loop: s = (s + i*7) % 1000003 for N iterations (bench/vm/loop.olasm
 *      vs bench/vm/loop.lua), gas metering on;
 *   2. split: the default reward contract over a 1,000-entry record vs the
 *      same algorithm in bench/vm/split.lua;
 *   3. settle: the reward contract on a 100-entry record, microseconds of VM
 *      time per settle (vm_call on the in-memory host, nothing else).
 * Both sides measure CPU time around the work only: the Lua scripts use
 * os.clock() around their loops (interpreter start-up not counted), the VM
 * side CLOCK_THREAD_CPUTIME_ID around vm_call (loop) and vm_memhost_call
 * (split, settle), which includes the VM's per-call set-up (zeroed 64 KiB
 * memory, result) and the in-memory host's journal.
 *
 * Usage: bench_vm [--src DIR] [--lua PROGRAM] [--n ITERATIONS] [--quick]
 * Output: one "name: ..." line per figure, then a summary line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/bytes.h"
#include "vm/host_mem.h"
#include "vm/vm.h"

#ifndef OL_SOURCE_DIR
#define OL_SOURCE_DIR "."
#endif

static const uint8_t SELF[VM_ADDR_LEN] = {0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0,
                                          0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0,
                                          0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0};

/* CPU time of this thread, like the os.clock() the Lua scripts use, so that
 * other load on the machine does not count against either side. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static vm_program *load(const char *src, const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", src, rel);
    uint8_t *code;
    size_t n;
    util_err err = {0};
    vm_program *p = NULL;
    if (vm_asm_file(path, &code, &n, &err) || vm_verify(code, n, &p, NULL, &err)) {
        fprintf(stderr, "bench_vm: %s\n", err.msg);
        exit(1);
    }
    free(code);
    return p;
}

/* Runs `lua script args` and reads "VALUE SECONDS_OR_US" from its output. */
static int run_lua(const char *lua, const char *src, const char *script, const char *args,
                   unsigned long long *value, double *t)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s/bench/vm/%s %s", lua, src, script, args);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    int got = fscanf(f, "%llu %lf", value, t);
    int rc = pclose(f);
    return got == 2 && rc == 0 ? 0 : -1;
}

typedef struct split_rec {
    vm_record rec;
    vm_entry *entries;
    vm_env env;
} split_rec;

/* The record split.lua builds: fee 10^12, 10% / 5% / 85%, weights 1..n. */
static void split_init(split_rec *s, size_t n)
{
    memset(s, 0, sizeof *s);
    s->entries = calloc(n, sizeof *s->entries);
    if (!s->entries) exit(1);
    for (size_t i = 0; i < n; i++) {
        s->entries[i].contribution = i;
        s->entries[i].weight = i + 1;
        char a[32];
        snprintf(a, sizeof a, "%020zu", 100 + i);
        memcpy(s->entries[i].addr, a, VM_ADDR_LEN);
    }
    s->rec = (vm_record){.id = 77,
                         .fee = 1000000000000ull,
                         .owner_bp = 1000,
                         .validators_bp = 500,
                         .contributors_bp = 8500,
                         .n_entries = n,
                         .entries = s->entries};
    memset(s->rec.owner, 0x0a, VM_ADDR_LEN);
    memset(s->rec.validators, 0x0b, VM_ADDR_LEN);
    memcpy(s->env.self, SELF, VM_ADDR_LEN);
    s->env.record = &s->rec;
}

/* Mean microseconds per settle over reps calls; *paid = paid to contributors. */
static double vm_split(const vm_program *p, split_rec *s, int reps, unsigned long long *paid,
                       uint64_t *gas)
{
    vm_memhost *h = vm_memhost_new(SELF);
    if (!h) exit(1);
    double total = 0;
    for (int r = 0; r < reps; r++) {
        if (vm_memhost_set_balance(h, SELF, s->rec.fee)) exit(1);
        vm_result res;
        util_err err;
        double t0 = now();
        int rc = vm_memhost_call(h, p, &s->env, 100000000, &res, &err);
        total += now() - t0;
        if (rc || res.status != VM_OK) {
            fprintf(stderr, "bench_vm: split failed: %s %s\n", vm_status_name(res.status),
                    res.detail);
            exit(1);
        }
        *paid = 0;
        /* Events: owner, validators, (pay, log) per entry, remainder. */
        for (size_t i = 2; i + 1 < res.n_events; i++)
            if (res.events[i].kind == VM_EVENT_PAY) *paid += res.events[i].amount;
        *gas = res.gas_used;
        vm_result_free(&res);
    }
    vm_memhost_free(h);
    return total / reps * 1e6;
}

int main(int argc, char **argv)
{
    const char *src = OL_SOURCE_DIR, *lua = "lua5.4";
    unsigned long long n = 100000000ull;
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--src") && i + 1 < argc)
            src = argv[++i];
        else if (!strcmp(argv[i], "--lua") && i + 1 < argc)
            lua = argv[++i];
        else if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else {
            fprintf(stderr, "usage: bench_vm [--src DIR] [--lua PROGRAM] [--n N] [--quick]\n");
            return 2;
        }
    }
    if (quick) n = n < 1000000 ? n : 1000000;

    /* 1. The loop. */
    vm_program *loop = load(src, "bench/vm/loop.olasm");
    uint8_t input[8];
    util_put_u64le(input, n);
    vm_env env = {.input = input, .input_len = 8};
    memcpy(env.self, SELF, VM_ADDR_LEN);
    vm_memhost *h = vm_memhost_new(SELF);
    vm_host host;
    vm_memhost_table(h, &host);
    vm_result res;
    util_err err;
    double t0 = now();
    int rc = vm_call(loop, &host, &env, UINT64_MAX, &res, &err);
    double vm_loop = now() - t0;
    if (rc || res.status != VM_OK || res.ret_len != 8) {
        fprintf(stderr, "bench_vm: loop failed: %s\n", rc ? err.msg : vm_status_name(res.status));
        return 1;
    }
    unsigned long long s_vm = util_get_u64le(res.ret), loop_gas = res.gas_used;
    vm_result_free(&res);
    vm_memhost_free(h);
    vm_program_free(loop);
    char args[64];
    snprintf(args, sizeof args, "%llu", n);
    unsigned long long s_lua;
    double lua_loop;
    if (run_lua(lua, src, "loop.lua", args, &s_lua, &lua_loop)) {
        fprintf(stderr, "bench_vm: %s loop.lua failed\n", lua);
        return 1;
    }
    if (s_lua != s_vm) {
        fprintf(stderr, "bench_vm: loop results differ: vm %llu, lua %llu\n", s_vm, s_lua);
        return 1;
    }
    printf("loop: %llu iterations, vm %.3f s (%llu gas, %.0f Mgas/s), lua5.4 %.3f s, "
           "lua/vm %.2f\n",
           n, vm_loop, loop_gas, (double)loop_gas / vm_loop / 1e6, lua_loop, lua_loop / vm_loop);

    /* 2. Split over 1,000 entries. */
    vm_program *contract = load(src, "genesis/contracts/proportional_split.olasm");
    int reps = quick ? 20 : 1000;
    split_rec big;
    split_init(&big, 1000);
    unsigned long long paid_vm = 0, paid_lua;
    uint64_t split_gas = 0;
    double vm_us = vm_split(contract, &big, reps, &paid_vm, &split_gas), lua_us;
    snprintf(args, sizeof args, "1000 %d", reps);
    if (run_lua(lua, src, "split.lua", args, &paid_lua, &lua_us)) {
        fprintf(stderr, "bench_vm: %s split.lua failed\n", lua);
        return 1;
    }
    if (paid_lua != paid_vm) {
        fprintf(stderr, "bench_vm: split results differ: vm %llu, lua %llu\n", paid_vm, paid_lua);
        return 1;
    }
    printf("split: 1000 entries, vm %.1f us (%llu gas), lua5.4 %.1f us, lua/vm %.2f\n", vm_us,
           (unsigned long long)split_gas, lua_us, lua_us / vm_us);
    free(big.entries);

    /* 3. The reward contract settling 100 entries. */
    split_rec small;
    split_init(&small, 100);
    uint64_t settle_gas = 0;
    double settle_us = vm_split(contract, &small, quick ? 100 : 20000, &paid_vm, &settle_gas);
    printf("settle: 100 entries, vm %.2f us per settle (%llu gas), target < 50 us\n", settle_us,
           (unsigned long long)settle_gas);
    free(small.entries);
    vm_program_free(contract);

    printf("summary: loop lua/vm %.2f (target >= 1), split lua/vm %.2f, settle %.2f us "
           "(target < 50)\n",
           lua_loop / vm_loop, lua_us / vm_us, settle_us);
    return 0;
}
