/* Micro-benchmarks of the hot primitives, one line each, in the style of
 * libsecp256k1's src/bench*.c: hashing, BIP-340 signing and verification,
 * the genesis-bound transaction signature check, sparse Merkle tree updates,
 * proofs and their verification, transaction decoding, mempool admission,
 * the VM's dispatch loop, the p2p session's handshake and frames, and the
 * KZG commitments and proofs of blob posts (rollup/eth/kzg.h). Each line gives the mean over
 * a fixed number of operations, timed with the thread's CPU clock (other processes do not count,
 * but a loaded machine still slows caches).
 *
 *   build/bench/bench_micro [NAME...]     (no NAME: all)
 *
 * bench/run micro runs it. No reference peer: these are ours alone, the
 * figures to compare before and after a change on the same machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"
#include "chain/crypto/schnorr_batch.h"
#include "chain/crypto/secp_arith.h"
#include "chain/mempool/mempool.h"
#include "chain/state/smt.h"
#include "chain/types/tx.h"
#include "p2p/session.h"
#include "rollup/eth/kzg.h"
#include "vm/host_mem.h"
#include "vm/vm.h"

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void report(const char *name, double ns, long ops, const char *unit)
{
    printf("%-22s %10.1f ns/%s  (%ld measured)\n", name, ns / (double)ops, unit, ops);
    fflush(stdout);
}

static void die(const char *what, const util_err *err)
{
    fprintf(stderr, "bench_micro: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    exit(1);
}

static const uint8_t GENESIS[32] = {0x6f, 0x6c, 0x2d, 0x62, 0x65, 0x6e, 0x63, 0x68};

static chain_tx make_transfer(uint32_t dev, uint64_t nonce)
{
    chain_keypair kp;
    chain_tx tx;
    util_err err = {0};
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    strcpy(tx.chain_id, "openledger-devnet");
    tx.type = CHAIN_TX_TRANSFER;
    tx.nonce = nonce;
    tx.gas_limit = CHAIN_GAS_TRANSFER;
    tx.gas_price = 1;
    tx.body.transfer.amount = 1;
    if (chain_keypair_dev(&kp, dev) || chain_tx_sign(&tx, &kp, GENESIS, &err)) die("sign", &err);
    return tx;
}

static void b_sha256(void)
{
    uint8_t in[64] = {1}, out[32];
    long n = 1000000;
    double t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        chain_sha256(out, in, sizeof in);
        in[0] = out[0];
    }
    report("sha256_64B", cpu_ns() - t0, n, "op");
}

/* chain_verify_batch per signature, beside single verification with a
 * parsed key (the sync's per-transaction check): 256 signatures by 16 keys,
 * keys lifted beforehand as the sync's key cache holds them. */
static void b_batch(void)
{
    enum { NS = 256, NK = 16 };
    static uint8_t sigs[NS][64], msgs[NS][32];
    static chain_keypair kp[NK];
    static chain_bpk bpk[NK];
    static chain_xonly xo[NK];
    const uint8_t *sp[NS], *mp[NS];
    const chain_bpk *pp[NS];
    for (int k = 0; k < NK; k++)
        if (chain_keypair_dev(&kp[k], (uint32_t)k) || !chain_bpk_lift(&bpk[k], kp[k].pubkey) ||
            !chain_xonly_parse(&xo[k], kp[k].pubkey))
            die("key", NULL);
    for (int i = 0; i < NS; i++) {
        memset(msgs[i], 0, 32);
        msgs[i][0] = (uint8_t)i;
        msgs[i][1] = (uint8_t)(i >> 8);
        if (chain_sign(sigs[i], msgs[i], &kp[i % NK], NULL)) die("sign", NULL);
        sp[i] = sigs[i];
        mp[i] = msgs[i];
        pp[i] = &bpk[i % NK];
    }
    long n = 2048;
    int ok = 1;
    double t0 = cpu_ns();
    for (long i = 0; i < n; i++)
        ok &= chain_verify_xonly(sigs[i % NS], msgs[i % NS], &xo[i % NS % NK]);
    report("bip340_verify_parsed", cpu_ns() - t0, n, "sig");
    static const int sizes[] = {64, 128, 256};
    for (int z = 0; z < 3; z++) {
        long calls = 8192 / sizes[z];
        t0 = cpu_ns();
        for (long c = 0; c < calls; c++)
            ok &= chain_verify_batch(sp, mp, pp, (size_t)sizes[z]);
        char name[32];
        snprintf(name, sizeof name, "bip340_batch_%d", sizes[z]);
        report(name, cpu_ns() - t0, calls * sizes[z], "sig");
    }
    if (!ok) die("batch verify failed", NULL);
}

/* The batch's field arithmetic (chain/crypto/secp_arith.h): a chain of
 * dependent multiplications (latency), squarings, a square root alone and
 * four side by side (per root). */
static void b_field(void)
{
    chain_secp_init();
    chain_fe a = chain_ge_g.x, b = chain_ge_g.y, r[4] = {{{0, 0, 0, 0}}};
    long n = 2000000;
    double t0 = cpu_ns();
    for (long i = 0; i < n; i++)
        chain_fe_mul(&a, &a, &b);
    report("secp_fe_mul", cpu_ns() - t0, n, "op");
    t0 = cpu_ns();
    for (long i = 0; i < n; i++)
        chain_fe_sqr(&b, &b);
    report("secp_fe_sqr", cpu_ns() - t0, n, "op");
    int ok[4] = {0, 0, 0, 0};
    chain_fe x[4] = {a, b, chain_ge_g.x, chain_ge_g.y};
    long m = 2000;
    t0 = cpu_ns();
    for (long i = 0; i < m; i++)
        ok[0] = chain_fe_sqrt(&r[0], &x[i & 3]);
    report("secp_fe_sqrt", cpu_ns() - t0, m, "op");
    t0 = cpu_ns();
    for (long i = 0; i < m / 4; i++)
        chain_fe_sqrt_many(r, ok, x, 4);
    report("secp_fe_sqrt_x4", cpu_ns() - t0, m, "op");
    if (r[0].l[0] == 1 && ok[1] == 7) die("unreachable", NULL); /* keep the results */
}

static void b_sign_verify(void)
{
    chain_keypair kp;
    uint8_t msg[32] = {7}, sig[64];
    if (chain_keypair_dev(&kp, 1)) die("key", NULL);
    long n = 5000;
    double t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        msg[0] = (uint8_t)i;
        if (chain_sign(sig, msg, &kp, NULL)) die("sign", NULL);
    }
    report("bip340_sign", cpu_ns() - t0, n, "op");
    t0 = cpu_ns();
    int ok = 1;
    for (long i = 0; i < n; i++)
        ok &= chain_verify(sig, msg, kp.pubkey);
    report("bip340_verify", cpu_ns() - t0, n, "op");
    if (!ok) die("verify failed", NULL);
    b_batch();
    b_field();
}

static void b_tx(void)
{
    chain_tx tx = make_transfer(2, 0);
    util_buf b;
    util_buf_init(&b);
    if (chain_tx_encode(&tx, &b)) die("encode", NULL);
    long n = 5000;
    double t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        tx.sig_checked = 0;
        if (chain_tx_check_sig(&tx, GENESIS) != 1) die("check_sig", NULL);
    }
    report("tx_check_sig", cpu_ns() - t0, n, "tx");
    n = 200000;
    t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        chain_tx d;
        if (chain_tx_decode(&d, b.data, b.len, NULL)) die("decode", NULL);
        chain_tx_free(&d);
    }
    report("tx_decode", cpu_ns() - t0, n, "tx");
    util_buf_free(&b);
    chain_tx_free(&tx);
}

/* An in-memory node store for the tree: a flat array searched linearly is
 * too slow at 100k nodes, so a small open-addressing table keyed by hash. */
typedef struct node_tab {
    uint8_t (*keys)[32];
    uint8_t (*vals)[CHAIN_SMT_NODE_LEN];
    size_t cap, n;
} node_tab;

static size_t slot_of(const node_tab *t, const uint8_t h[32])
{
    size_t i;
    memcpy(&i, h, sizeof i);
    i &= t->cap - 1;
    while (t->keys[i][0] | t->keys[i][1] | t->keys[i][2] | t->keys[i][3]) {
        if (memcmp(t->keys[i], h, 32) == 0) break;
        i = (i + 1) & (t->cap - 1);
    }
    return i;
}

static int tab_get(void *ctx, const uint8_t h[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    node_tab *t = ctx;
    size_t i = slot_of(t, h);
    if (memcmp(t->keys[i], h, 32) != 0) return UTIL_ENOTFOUND;
    memcpy(out, t->vals[i], CHAIN_SMT_NODE_LEN);
    return 0;
}

static void tab_put(void *ctx, const uint8_t h[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    node_tab *t = ctx;
    if (t->n * 2 >= t->cap) die("node table full", NULL);
    size_t i = slot_of(t, h);
    if (memcmp(t->keys[i], h, 32) != 0) t->n++;
    memcpy(t->keys[i], h, 32);
    memcpy(t->vals[i], node, CHAIN_SMT_NODE_LEN);
}

static void b_smt(void)
{
    node_tab t = {.cap = 1u << 22};
    t.keys = calloc(t.cap, 32);
    t.vals = calloc(t.cap, CHAIN_SMT_NODE_LEN);
    if (!t.keys || !t.vals) die("out of memory", NULL);
    chain_smt_store st = {.ctx = &t, .get = tab_get, .put = tab_put};
    enum { BATCH = 1000, BATCHES = 50 };
    chain_smt_update *ups = calloc(BATCH, sizeof *ups);
    uint8_t root[32] = {0}, seed[8];
    util_err err = {0};
    if (!ups) die("out of memory", NULL);
    double t0 = cpu_ns();
    for (int b = 0; b < BATCHES; b++) {
        for (int i = 0; i < BATCH; i++) {
            util_put_u64le(seed, (uint64_t)b * BATCH + (uint64_t)i);
            chain_sha256(ups[i].path, seed, sizeof seed);
            chain_sha256(ups[i].value_hash, ups[i].path, 32);
            ups[i].remove = 0;
        }
        if (chain_smt_apply(&st, root, ups, BATCH, root, &err)) die("smt apply", &err);
    }
    report("smt_apply_50k", cpu_ns() - t0, (long)BATCH * BATCHES, "key");
    chain_smt_proof *pr = malloc(sizeof *pr);
    if (!pr) die("out of memory", NULL);
    long n = 20000;
    uint8_t path[32], vh[32];
    t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        util_put_u64le(seed, (uint64_t)i % (BATCH * BATCHES));
        chain_sha256(path, seed, sizeof seed);
        if (chain_smt_prove(&st, root, path, pr, &err)) die("smt prove", &err);
    }
    report("smt_prove_50k", cpu_ns() - t0, n, "proof");
    chain_sha256(vh, path, 32);
    t0 = cpu_ns();
    for (long i = 0; i < n; i++)
        if (chain_smt_verify(root, path, vh, pr, &err)) die("smt verify", &err);
    report("smt_verify_50k", cpu_ns() - t0, n, "proof");
    free(pr);
    free(ups);
    free(t.keys);
    free(t.vals);
}

static int rich(void *ctx, const chain_addr *a, uint64_t *balance, uint64_t *nonce)
{
    (void)ctx, (void)a;
    *balance = 1000000000000ull;
    *nonce = 0;
    return 0;
}

/* Admission of pre-verified transfers (the signature is what tx_check_sig
 * measures): the pool's own bookkeeping per transaction. */
static void b_mempool(void)
{
    enum { N = 20000 };
    chain_mempool_cfg c = {.min_gas_price = 1,
                           .block_gas_limit = 50000000,
                           .max_tx_size = CHAIN_TX_MAX_SIZE,
                           .max_txs = N,
                           .max_bytes = 64u << 20,
                           .max_nonce_ahead = 64};
    strcpy(c.chain_id, "openledger-devnet");
    memcpy(c.genesis_hash, GENESIS, 32);
    chain_mempool *mp = chain_mempool_new(&c, rich, NULL);
    chain_tx *txs = calloc(N, sizeof *txs);
    if (!mp || !txs) die("out of memory", NULL);
    for (int i = 0; i < N; i++) {
        txs[i] = make_transfer((uint32_t)(i / 16), (uint64_t)(i % 16));
        txs[i].sig_checked = 1;
    }
    util_err err = {0};
    double t0 = cpu_ns();
    for (int i = 0; i < N; i++)
        if (chain_mempool_add(mp, &txs[i], &err)) die("mempool add", &err);
    report("mempool_add", cpu_ns() - t0, N, "tx");
    for (int i = 0; i < N; i++)
        chain_tx_free(&txs[i]);
    free(txs);
    chain_mempool_free(mp);
}

/* The dispatch loop: a contract that loops until its gas runs out. */
static void b_vm(void)
{
    static const char src[] = "loop:\n    addi r1, r1, 1\n    jmp loop\n";
    uint8_t *code;
    size_t len;
    util_err err = {0};
    vm_program *p = NULL;
    if (vm_asm_source("loop.olasm", src, sizeof src - 1, &code, &len, &err) ||
        vm_verify(code, len, &p, NULL, &err))
        die("assembling the loop", &err);
    static const uint8_t self[VM_ADDR_LEN] = {0xc0};
    vm_memhost *h = vm_memhost_new(self);
    vm_env env = {0};
    memcpy(env.self, self, VM_ADDR_LEN);
    uint64_t gas = 100000000, used = 0;
    double t0 = cpu_ns();
    for (int r = 0; r < 5; r++) {
        vm_result res;
        int rc = vm_memhost_call(h, p, &env, gas, &res, &err);
        if (rc || res.status != VM_E_GAS) die("vm loop did not run out of gas", &err);
        used += res.gas_used;
        vm_result_free(&res);
    }
    report("vm_dispatch", cpu_ns() - t0, (long)used, "gas");
    vm_memhost_free(h);
    vm_program_free(p);
    free(code);
}

/* Feeds everything `from` queued into `to`; dies on any refusal. */
static void p2p_deliver(util_buf *from, p2p_session *to, util_buf *to_out, int *opened,
                        p2p_frame *last)
{
    size_t off = 0;
    util_err err = {0};
    while (off < from->len) {
        size_t used;
        int got;
        if (p2p_session_recv(to, from->data + off, from->len - off, &used, NULL, NULL, to_out, &got,
                             last, &err))
            die("p2p recv", &err);
        off += used;
        if (got == 1) *opened = 1;
        if (!used && !got) break;
    }
    util_buf_reset(from);
}

static void p2p_pair(p2p_session **a, p2p_session **b, util_buf *oa, util_buf *ob,
                     const chain_keypair *ka, const chain_keypair *kb)
{
    util_err err = {0};
    p2p_session_cfg c;
    memset(&c, 0, sizeof c);
    c.chain_id = "openledger-devnet";
    memcpy(c.genesis_hash, GENESIS, 32);
    c.node_key = ka;
    if (p2p_session_new(a, &c, oa, &err)) die("p2p new", &err);
    c.node_key = kb;
    if (p2p_session_new(b, &c, ob, &err)) die("p2p new", &err);
    int opa = 0, opb = 0;
    p2p_frame f;
    for (int i = 0; i < 4 && (oa->len || ob->len); i++) {
        p2p_deliver(oa, *b, ob, &opb, &f);
        p2p_deliver(ob, *a, oa, &opa, &f);
    }
    if (!opa || !opb) die("p2p handshake did not complete", NULL);
}

static void b_p2p(void)
{
    chain_keypair ka, kb;
    if (chain_keypair_dev(&ka, 0) || chain_keypair_dev(&kb, 1)) die("dev key", NULL);
    util_buf oa, ob;
    util_buf_init(&oa);
    util_buf_init(&ob);
    p2p_session *a, *b;
    long n = 2000;
    double t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        p2p_pair(&a, &b, &oa, &ob, &ka, &kb);
        p2p_session_free(a);
        p2p_session_free(b);
    }
    report("p2p_handshake_2sides", cpu_ns() - t0, n, "op");

    p2p_pair(&a, &b, &oa, &ob, &ka, &kb);
    uint8_t payload[1024] = {1};
    util_err err = {0};
    int dummy = 0;
    p2p_frame f;
    n = 200000;
    t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        if (p2p_session_seal(a, 0x01, payload, sizeof payload, &oa, &err)) die("p2p seal", &err);
        p2p_deliver(&oa, b, &ob, &dummy, &f);
        if (f.len != sizeof payload) die("p2p frame lost", NULL);
    }
    double ns = cpu_ns() - t0;
    report("p2p_seal_open_1KiB", ns, n, "frame");
    printf("%-22s %10.1f MB/s of payload\n", "p2p_seal_open_rate",
           (double)n * 1024.0 / (ns / 1e9) / 1e6);
    p2p_session_free(a);
    p2p_session_free(b);
    util_buf_free(&oa);
    util_buf_free(&ob);
}

/* A batcher commits and proves every blob it posts; a deriving node checks
 * every blob of an L1 block against its commitment (1 to 6 per transaction). */
static void b_kzg(void)
{
    enum { NB = 6 };
    uint8_t *blobs[NB];
    uint8_t com[NB][48], proof[48];
    util_err err = {0};
    uint64_t x = 0x9e3779b97f4a7c15u;
    if (rollup_kzg_init(&err)) die("kzg init", &err);
    for (int j = 0; j < NB; j++) {
        blobs[j] = malloc(ROLLUP_BLOB_BYTES);
        if (!blobs[j]) die("out of memory", NULL);
        for (size_t i = 0; i < ROLLUP_BLOB_BYTES; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            blobs[j][i] = i % 32 ? (uint8_t)x : 0;
        }
    }
    long n = 12;
    double t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        if (rollup_kzg_commit(blobs[i % NB], com[i % NB], &err)) die("kzg commit", &err);
    }
    report("kzg_commit", cpu_ns() - t0, n, "blob");
    t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        if (rollup_kzg_proof(blobs[i % NB], com[i % NB], proof, &err)) die("kzg proof", &err);
    }
    report("kzg_proof", cpu_ns() - t0, n, "blob");
    const uint8_t *const *bp = (const uint8_t *const *)blobs;
    t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        if (rollup_kzg_verify_blobs(bp, com, 1, NULL, &err)) die("kzg verify", &err);
    }
    report("kzg_verify_1_blob", cpu_ns() - t0, n, "call");
    t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        if (rollup_kzg_verify_blobs(bp, com, NB, NULL, &err)) die("kzg verify", &err);
    }
    report("kzg_verify_6_blobs", cpu_ns() - t0, n, "call");
    for (int j = 0; j < NB; j++)
        free(blobs[j]);
}

static const struct {
    const char *name;
    void (*fn)(void);
} BENCHES[] = {
    {"hash", b_sha256},     {"sig", b_sign_verify}, {"tx", b_tx},   {"smt", b_smt},
    {"mempool", b_mempool}, {"vm", b_vm},           {"p2p", b_p2p}, {"kzg", b_kzg},
};

int main(int argc, char **argv)
{
    chain_hash_init();
    size_t nb = sizeof BENCHES / sizeof BENCHES[0];
    for (int a = 1; a < argc; a++) {
        int found = 0;
        for (size_t i = 0; i < nb; i++)
            found |= strcmp(argv[a], BENCHES[i].name) == 0;
        if (!found) {
            fprintf(stderr, "usage: bench_micro [hash|sig|tx|smt|mempool|vm|p2p|kzg]...\n");
            return 2;
        }
    }
    for (size_t i = 0; i < nb; i++) {
        int run = argc == 1;
        for (int a = 1; a < argc; a++)
            run |= strcmp(argv[a], BENCHES[i].name) == 0;
        if (run) BENCHES[i].fn();
    }
    return 0;
}
