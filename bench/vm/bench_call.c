/* Calls per second to a maximum-size (24,576-byte) contract through the real
 * chain path: chain_exec_apply_tx of signed CALL transactions against a
 * LevelDB store in a temporary directory with the devnet genesis.
 *
 * The contract increments a storage counter (one sload, one sstore) and
 * stops; the rest of its 3,070 instructions are code the call never runs, so
 * the figure is dominated by what a call costs besides its own instructions:
 * loading the code, verifying it (or finding it verified), setting up the VM.
 *
 *   block:    one overlay (one block) runs B calls, as the block producer
 *             does; the code is read from LevelDB once per block.
 *   readonly: chain_contract_call_readonly, a fresh overlay per call, as a
 *             contract_call or an admission dry run does: every call reads the
 *             code from LevelDB.
 *
 * Signatures are checked once before the timing starts (the producer runs
 * transactions whose signature the pool already checked). Times are CPU time
 * of this thread.
 *
 * Usage: bench_call [--blocks R] [--calls B] [--quick]
 * Output: one "name: ..." line per figure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain/exec/contract.h"
#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "util/bytes.h"
#include "vm/host_mem.h"
#include "vm/vm.h"

#define SENDER 0
#define PROPOSER 1000
#define CALL_GAS_LIMIT 1000000

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const util_err *err)
{
    fprintf(stderr, "bench_call: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static void dev_addr(chain_addr *a, uint32_t i)
{
    chain_keypair kp;
    if (chain_keypair_dev(&kp, i)) die("dev key", NULL);
    chain_addr_from_pubkey(a, kp.pubkey);
}

static chain_genesis *devnet(void);

/* The one place that signs, for the devnet genesis. */
static void sign(chain_tx *tx, uint32_t dev)
{
    chain_keypair kp;
    util_err err = {0};
    const uint8_t *gh = devnet()->hash;
    if (chain_keypair_dev(&kp, dev) || chain_tx_sign(tx, &kp, gh, &err)) die("sign", &err);
    if (!chain_tx_check_sig(tx, gh)) die("signature does not verify", NULL);
}

/* The counter contract padded with never-run blocks to VM_CODE_MAX bytes. */
static uint8_t *max_contract(size_t *len)
{
    static const char head[] = ".entry main\n"
                               "main:\n"
                               "    ldi r1, 0\n"
                               "    ldi r2, 64\n"
                               "    sys sload\n"
                               "    ld64 r3, [r2]\n"
                               "    addi r3, r3, 1\n"
                               "    st64 [r2], r3\n"
                               "    sys sstore\n"
                               "    stop\n";
    const int head_insns = 8, total = (VM_CODE_MAX - VM_HEADER_SIZE) / VM_INSN_SIZE;
    util_buf src;
    util_buf_init(&src);
    util_buf_put(&src, head, sizeof head - 1);
    char line[64];
    for (int i = head_insns, g = 0; i < total - 1; i++) {
        int n;
        if ((i - head_insns) % 8 == 0)
            n = snprintf(line, sizeof line, "g%d:\n    addi r4, r4, %d\n", g, i);
        else if ((i - head_insns) % 8 == 7)
            n = snprintf(line, sizeof line, "    bnez r4, g%d\n", g++);
        else
            n = snprintf(line, sizeof line, "    xori r4, r4, %d\n", i);
        util_buf_put(&src, line, (size_t)n);
    }
    util_buf_put(&src, "    stop\n", 9);
    if (src.oom) die("out of memory", NULL);
    uint8_t *code;
    util_err err = {0};
    if (vm_asm_source("max", (const char *)src.data, src.len, &code, len, &err))
        die("assembling", &err);
    util_buf_free(&src);
    if (*len != VM_CODE_MAX) {
        fprintf(stderr, "bench_call: contract is %zu bytes, not %d\n", *len, VM_CODE_MAX);
        exit(1);
    }
    return code;
}

static chain_genesis *devnet(void)
{
    static chain_genesis g;
    static int loaded;
    util_err err = {0};
    const char *js = chain_genesis_devnet_json();
    if (!loaded && chain_genesis_parse(&g, js, strlen(js), &err)) die("devnet genesis", &err);
    loaded = 1;
    return &g;
}

static chain_tx mk(uint8_t type, uint64_t nonce, uint64_t gas_limit)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", devnet()->chain_id);
    tx.type = type;
    tx.nonce = nonce;
    tx.gas_limit = gas_limit;
    tx.gas_price = 1;
    return tx;
}

static chain_exec *block_exec(chain_store *st)
{
    const chain_header *h = chain_store_head_header(st);
    chain_exec_ctx ctx = {.chain_id = h->chain_id,
                          .genesis_hash = devnet()->hash,
                          .height = h->height + 1,
                          .time_ms = h->time_ms + 1000,
                          .min_gas_price = 1};
    dev_addr(&ctx.proposer, PROPOSER);
    chain_exec *ex = chain_exec_new(st, &ctx);
    if (!ex) die("out of memory", NULL);
    return ex;
}

/* Deploys code (taken over) in block 1 and returns the contract's address. */
static chain_addr deploy(chain_store *st, uint8_t *code, size_t len)
{
    chain_tx tx = mk(CHAIN_TX_DEPLOY, 0, CHAIN_GAS_DEPLOY + CHAIN_GAS_DEPLOY_PER_BYTE * len);
    dev_addr(&tx.from, SENDER);
    tx.body.deploy.code = code;
    tx.body.deploy.len = (uint32_t)len;
    sign(&tx, SENDER);
    chain_exec *ex = block_exec(st);
    chain_receipt r;
    util_err err = {0};
    if (chain_exec_apply_tx(ex, &tx, &r, &err)) die("deploy", &err);
    if (r.status != CHAIN_RECEIPT_OK) {
        fprintf(stderr, "bench_call: deploy failed: %s\n", r.error);
        exit(1);
    }
    chain_addr a = r.created;
    const chain_header *parent = chain_store_head_header(st);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", parent->chain_id);
    b.h.height = parent->height + 1;
    chain_store_head_id(st, b.h.parent);
    b.h.time_ms = parent->time_ms + 1000;
    b.h.proposer = chain_exec_context(ex)->proposer;
    if (chain_exec_finish(ex, b.h.state_root, &err)) die("finish", &err);
    b.ntx = 1;
    b.txs = &tx;
    chain_block_tx_root(&b, b.h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    if (chain_store_commit_block(st, &b, &r, ex, &c, &err)) die("commit", &err);
    chain_receipt_free(&r);
    chain_exec_free(ex);
    chain_tx_free(&tx);
    return a;
}

/* Writes 256 distinct slots: key = input u64 | i u64 | zeros, value = 1. */
static const char writer_src[] = ".entry main\n"
                                 "main:\n"
                                 "    ldi r1, 0\n"
                                 "    ldi r2, 0\n"
                                 "    ldi r3, 8\n"
                                 "    sys input\n"
                                 "    ldi r6, 0\n"
                                 "    ldi r7, 256\n"
                                 "    ldi r2, 64\n"
                                 "    ldi r8, 1\n"
                                 "    st64 [r2], r8\n"
                                 "loop:\n"
                                 "    st64 [r1 + 8], r6\n"
                                 "    sys sstore\n"
                                 "    addi r6, r6, 1\n"
                                 "    bne r6, r7, loop\n"
                                 "    stop\n";

/* Measures the parts of a call's cost that do not depend on its
 * instructions, per byte where they scale with bytes: what the gas for code
 * loading and storage writes is chosen from (docs/vm.md, "Gas"). */
static void parts(chain_store *st, const chain_addr *contract, const uint8_t *code, size_t len,
                  int reps)
{
    util_err err = {0};
    double t0 = now();
    for (int i = 0; i < reps; i++) {
        vm_program *p;
        if (vm_verify(code, len, &p, NULL, &err)) die("verify", &err);
        vm_program_free(p);
    }
    double verify = (now() - t0) / reps;
    vm_program *vp;
    if (vm_verify(code, len, &vp, NULL, &err)) die("verify", &err);
    size_t mem = vm_program_mem(vp);
    vm_program_free(vp);
    uint8_t h[32];
    t0 = now();
    for (int i = 0; i < reps * 4; i++)
        chain_sha256(h, code, len);
    double sha = (now() - t0) / (reps * 4);
    uint8_t k[21];
    chain_key_code(k, contract);
    const chain_header *hd = chain_store_head_header(st);
    chain_exec_ctx ctx = {
        .chain_id = hd->chain_id, .genesis_hash = devnet()->hash, .height = hd->height + 1};
    t0 = now();
    for (int i = 0; i < reps * 4; i++) {
        chain_exec *ex = chain_exec_new(st, &ctx);
        const uint8_t *v;
        size_t vl;
        if (!ex || chain_exec_get(ex, k, sizeof k, &v, &vl, &err) || vl != len) die("load", &err);
        chain_exec_free(ex);
    }
    double load = (now() - t0) / (reps * 4);
    printf("parts: %zu-byte code: vm_verify %.1f us (%.2f ns/byte, a %zu-byte program), SHA-256 "
           "%.1f us (%.2f ns/byte), load into a fresh overlay %.1f us (%.2f ns/byte)\n",
           len, verify * 1e6, verify / (double)len * 1e9, mem, sha * 1e6, sha / (double)len * 1e9,
           load * 1e6, load / (double)len * 1e9);

    /* The VM's own fixed cost: a call of `stop` on the in-memory host. */
    size_t slen;
    uint8_t *scode;
    vm_program *sp;
    if (vm_asm_source("stop", "stop\n", 5, &scode, &slen, &err) ||
        vm_verify(scode, slen, &sp, NULL, &err))
        die("stop", &err);
    uint8_t self[VM_ADDR_LEN] = {1};
    vm_memhost *mh = vm_memhost_new(self);
    vm_host host;
    vm_memhost_table(mh, &host);
    vm_env env = {.height = 1};
    memcpy(env.self, self, VM_ADDR_LEN);
    t0 = now();
    for (int i = 0; i < reps * 10; i++) {
        vm_result res;
        if (vm_call(sp, &host, &env, 100, &res, &err)) die("vm_call", &err);
        vm_result_free(&res);
    }
    double setup = (now() - t0) / (reps * 10);
    vm_memhost_free(mh);
    vm_program_free(sp);
    free(scode);
    printf("parts: vm_call of `stop` (64 KiB memory zeroed, result): %.2f us\n", setup * 1e6);

    /* Storage: B calls of 256 distinct new slots each, in one committed block. */
    size_t wlen;
    uint8_t *wcode;
    if (vm_asm_source("writer", writer_src, sizeof writer_src - 1, &wcode, &wlen, &err))
        die("writer", &err);
    chain_tx dtx = mk(CHAIN_TX_DEPLOY, 0, CHAIN_GAS_DEPLOY + CHAIN_GAS_DEPLOY_PER_BYTE * wlen);
    dev_addr(&dtx.from, 2);
    dtx.body.deploy.code = wcode;
    dtx.body.deploy.len = (uint32_t)wlen;
    sign(&dtx, 2);
    chain_exec *ex = block_exec(st);
    chain_receipt dr;
    if (chain_exec_apply_tx(ex, &dtx, &dr, &err) || dr.status != CHAIN_RECEIPT_OK)
        die("deploy writer", &err);
    chain_addr writer = dr.created;
    chain_receipt_free(&dr);
    chain_tx_free(&dtx);
    enum { B = 20 };
    chain_tx txs[B];
    chain_receipt rs[B];
    for (int i = 0; i < B; i++) {
        txs[i] = mk(CHAIN_TX_CALL, 1 + (uint64_t)i, 5000000);
        dev_addr(&txs[i].from, 2);
        txs[i].body.call.contract = writer;
        txs[i].body.call.input = malloc(8);
        if (!txs[i].body.call.input) die("out of memory", NULL);
        util_put_u64le(txs[i].body.call.input, (uint64_t)i);
        txs[i].body.call.len = 8;
        sign(&txs[i], 2);
    }
    t0 = now();
    for (int i = 0; i < B; i++)
        if (chain_exec_apply_tx(ex, &txs[i], &rs[i], &err) || rs[i].status != CHAIN_RECEIPT_OK)
            die("writer call", &err);
    double apply = now() - t0;
    const chain_header *parent = chain_store_head_header(st);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", parent->chain_id);
    b.h.height = parent->height + 1;
    chain_store_head_id(st, b.h.parent);
    b.h.time_ms = parent->time_ms + 1000;
    b.h.proposer = chain_exec_context(ex)->proposer;
    t0 = now();
    if (chain_exec_finish(ex, b.h.state_root, &err)) die("finish", &err);
    double finish = now() - t0;
    b.ntx = B;
    b.txs = txs;
    chain_block_tx_root(&b, b.h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    uint64_t wb0 = chain_store_write_bytes(st);
    t0 = wall();
    if (chain_store_commit_block(st, &b, rs, ex, &c, &err)) die("commit", &err);
    double commit = wall() - t0;
    uint64_t wb = chain_store_write_bytes(st) - wb0;
    chain_exec_free(ex);
    const double n = B * 256.0;
    printf("parts: %d new storage slots in one block: VM+overlay %.2f us, state root %.2f us, "
           "commit %.2f us (wall) per slot; %.0f bytes committed per slot (%.2f ns/byte)\n",
           (int)n, apply / n * 1e6, finish / n * 1e6, commit / n * 1e6, (double)wb / n,
           commit / (double)wb * 1e9);
    for (int i = 0; i < B; i++) {
        chain_tx_free(&txs[i]);
        chain_receipt_free(&rs[i]);
    }
}

int main(int argc, char **argv)
{
    int blocks = 20, calls = 1000, ro = 20000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--blocks") && i + 1 < argc)
            blocks = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
            calls = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            blocks = 2, calls = 100, ro = 200;
        else {
            fprintf(stderr, "usage: bench_call [--blocks R] [--calls B] [--quick]\n");
            return 2;
        }
    }
    if (blocks < 1 || calls < 1) return 2;

    char dir[] = "/tmp/ol-bench-call-XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp", NULL);
    chain_store *st;
    util_err err = {0};
    if (chain_store_open(&st, dir, &err) || chain_store_init_genesis(st, devnet(), &err))
        die("store", &err);
    size_t len;
    uint8_t *code = max_contract(&len);
    uint8_t *copy = malloc(len);
    if (!copy) die("out of memory", NULL);
    memcpy(copy, code, len);
    chain_addr contract = deploy(st, code, len);

    /* Block: calls pre-signed with nonces 1..B, run on the same head each round. */
    chain_tx *txs = calloc((size_t)calls, sizeof *txs);
    if (!txs) die("out of memory", NULL);
    for (int i = 0; i < calls; i++) {
        txs[i] = mk(CHAIN_TX_CALL, 1 + (uint64_t)i, CALL_GAS_LIMIT);
        dev_addr(&txs[i].from, SENDER);
        txs[i].body.call.contract = contract;
        sign(&txs[i], SENDER);
    }
    double t = 0;
    uint64_t gas = 0;
    for (int b = 0; b < blocks; b++) {
        chain_exec *ex = block_exec(st);
        double t0 = now();
        for (int i = 0; i < calls; i++) {
            chain_receipt r;
            if (chain_exec_apply_tx(ex, &txs[i], &r, &err)) die("call", &err);
            if (r.status != CHAIN_RECEIPT_OK) {
                fprintf(stderr, "bench_call: call failed: %s\n", r.error);
                return 1;
            }
            gas = r.gas_used;
            chain_receipt_free(&r);
        }
        t += now() - t0;
        chain_exec_free(ex);
    }
    double n = (double)blocks * calls;
    printf("call_block: %zu-byte contract, %d blocks of %d CALLs: %.2f us per call, "
           "%.0f calls/s, gas per call %llu\n",
           len, blocks, calls, t / n * 1e6, n / t, (unsigned long long)gas);

    /* Read-only: a fresh overlay per call. */
    const chain_header *h = chain_store_head_header(st);
    chain_exec_ctx ctx = {.chain_id = h->chain_id, .height = h->height + 1, .time_ms = h->time_ms};
    chain_addr from;
    dev_addr(&from, SENDER);
    t = 0;
    for (int i = 0; i < ro; i++) {
        chain_receipt r;
        double t0 = now();
        if (chain_contract_call_readonly(st, &ctx, &from, &contract, 0, NULL, 0, CALL_GAS_LIMIT, &r,
                                         &err))
            die("readonly call", &err);
        t += now() - t0;
        if (r.status != CHAIN_RECEIPT_OK) {
            fprintf(stderr, "bench_call: read-only call failed: %s\n", r.error);
            return 1;
        }
        gas = r.gas_used;
        chain_receipt_free(&r);
    }
    printf("call_readonly: %zu-byte contract, %d read-only calls: %.2f us per call, "
           "%.0f calls/s, gas per call %llu\n",
           len, ro, t / ro * 1e6, ro / t, (unsigned long long)gas);

    parts(st, &contract, copy, len, ro / 10 ? ro / 10 : 1);
    free(copy);
    for (int i = 0; i < calls; i++)
        chain_tx_free(&txs[i]);
    free(txs);
    chain_store_close(st);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_call: could not remove %s\n", dir);
    return 0;
}
