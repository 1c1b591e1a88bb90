/* rollup_post: puts L2 data on an L1 for the derivation tests and the
 * rollup benchmark, without depending on the batcher's timing
 * (tests/integration/rollup_*.sh, bench/run rollup).
 *
 *   rollup_post deploy  --l1 URL --key HEX --out FILE [--genesis FILE]
 *                       [--finalization S] [--confirmations N] [--channel-timeout N]
 *   rollup_post post    --l1 URL --config FILE --key HEX --datadir DIR --from A --to B
 *                       [--per-batch N] [--frame-max BYTES] [--level L] [--tamper] [--blobs]
 *   rollup_post outputs --l1 URL --config FILE --key HEX --datadir DIR --from A --to B
 *                       (--validator-key HEX | --dev-validator) [--genesis FILE]
 *   rollup_post raw     --l1 URL --config FILE --key HEX --bad-compression
 *   rollup_post freeze  --l1 URL --config FILE --key HEX --height H
 *                       (--validator-key HEX | --dev-validator) [--genesis FILE]
 *
 * deploy: BatchInbox and OutputOracle (rollup_deploy) with the key's address
 *   as the batcher; writes the rollup config. The genesis is --genesis FILE,
 *   or the embedded devnet genesis.
 * post: blocks A..B of the stopped node's data directory DIR, --per-batch
 *   blocks (default 100) per batch, each channel split into frames and each
 *   frame sent to BatchInbox.post. --tamper changes the state root of the
 *   first block (a block that fails validation, its batch well formed).
 *   Prints one line per frame: "frame L2 a..b raw R bytes frame F bytes gas G
 *   tx 0x..." (the benchmark reads them). With --blobs each frame goes into
 *   one EIP-4844 blob, ROLLUP_BLOBS_PER_TX blobs per BatchInbox.postBlobs
 *   transaction (docs/rollup.md, "Blobs"; the L1 must be at Prague), and
 *   the lines are one per transaction: "blobtx L2 a..b raw R bytes blobs K
 *   frame F bytes gas G blobgas BG gasprice P blobgasprice BP tx 0x..
 *   block N" (R on the batch's first transaction only).
 * outputs: proposeOutput for every multiple of the output interval in A..B,
 *   signed by the validator key (--dev-validator: the devnet's public one).
 * raw --bad-compression: a well-formed frame of a one-frame channel whose
 *   bytes are not zstd.
 * freeze: OutputOracle.freeze for height H with two different roots, both
 *   signed by the validator key: the equivocation evidence a single
 *   validator holding all the power can produce (the bridge tests).
 *
 * Exit status 0, or 1 with the reason on stderr. Built as a program of the
 * test tree (never installed). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"
#include "chain/state/store.h"
#include "chain/types/genesis.h"
#include "rollup/batch.h"
#include "rollup/config.h"
#include "rollup/deploy.h"
#include "rollup/eth/abi.h"
#include "rollup/eth/blob.h"
#include "rollup/eth/kzg.h"
#include "rollup/l1/txmgr.h"
#include "rollup/output.h"
#include "util/bytes.h"
#include "util/hex.h"

#define DEV_VALIDATOR_INDEX 1000 /* node/node.c: the devnet's validator key */

typedef struct args {
    const char *l1, *config, *key, *out, *genesis, *datadir, *vkey;
    uint64_t from, to, height, per_batch, frame_max, finalization, confirmations, timeout;
    int level, tamper, dev_validator, bad_compression, blobs;
} args;

static int die(const char *fmt, const char *msg)
{
    fprintf(stderr, "rollup_post: ");
    fprintf(stderr, fmt, msg);
    fprintf(stderr, "\n");
    return 1;
}

static int parse_key(uint8_t out[32], const char *s)
{
    if (!s) return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
    return util_hex_decode_exact(out, 32, s);
}

static int load_genesis(chain_genesis *g, const char *path, util_err *err)
{
    if (path) return chain_genesis_load_file(g, path, err);
    const char *js = chain_genesis_devnet_json();
    return chain_genesis_parse(g, js, strlen(js), err);
}

static void hex32(char out[67], const uint8_t *p)
{
    out[0] = '0', out[1] = 'x';
    util_hex_encode(out + 2, p, 32);
}

/* Sends data to `to` and waits for the receipt. */
static int l1_send(const args *a, const rollup_config *c, const uint8_t sk[32],
                   const rollup_eth_addr *to, const uint8_t *data, size_t len, rollup_l1_receipt *r,
                   util_err *err)
{
    rollup_txmgr_opts o = {.chain_id = c->l1_chain_id, .poll_ms = 100};
    return rollup_txmgr_send_sync(a->l1, sk, &o, to, data, len, 0, r, err);
}

static int post_frame(const args *a, const rollup_config *c, const uint8_t sk[32],
                      const uint8_t *frame, size_t n, rollup_l1_receipt *r, util_err *err)
{
    util_buf call;
    util_buf_init(&call);
    rollup_abi_val v = {.kind = ROLLUP_ABI_BYTES, .p = frame, .n = n};
    rollup_abi_encode_call(&call, "post(bytes)", &v, 1);
    int rc = call.oom ? util_err_set(err, UTIL_ENOMEM, "out of memory")
                      : l1_send(a, c, sk, &c->batch_inbox, call.data, call.len, r, err);
    util_buf_free(&call);
    return rc;
}

typedef struct blob_wait {
    int done, rc, has_r;
    rollup_l1_receipt r;
    util_err err;
} blob_wait;

static void on_blob_tx(void *ctx, int rc, const rollup_l1_receipt *r, const util_err *err)
{
    blob_wait *w = ctx;
    w->done = 1;
    w->rc = rc;
    if (r) {
        w->r = *r;
        w->has_r = 1;
    }
    if (rc && err) w->err = *err;
}

/* One postBlobs transaction with blobs[0..n), sent and mined on a private
 * loop (the transaction manager has no blocking form for blobs). */
static int post_blobs(const args *a, const rollup_config *c, const uint8_t sk[32],
                      const uint8_t *const *blobs, const uint8_t (*commits)[48],
                      const uint8_t (*proofs)[48], size_t n, rollup_l1_receipt *r, util_err *err)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop)) return util_err_set(err, UTIL_EIO, "cannot start an event loop");
    rollup_l1 *l1 = NULL;
    rollup_txmgr *m = NULL;
    blob_wait w = {0};
    util_buf call;
    util_buf_init(&call);
    rollup_abi_val v = {.kind = ROLLUP_ABI_BYTES, .p = commits[0], .n = n * 48};
    rollup_abi_encode_call(&call, "postBlobs(bytes)", &v, 1);
    rollup_txmgr_opts o = {.chain_id = c->l1_chain_id, .poll_ms = 100};
    int rc = call.oom ? util_err_set(err, UTIL_ENOMEM, "out of memory")
                      : rollup_l1_new(&l1, &loop, a->l1, NULL, err);
    if (!rc) rc = rollup_txmgr_new(&m, l1, sk, &o, err);
    if (!rc)
        rc = rollup_txmgr_send_blobs(m, &c->batch_inbox, call.data, call.len, 0, blobs, commits,
                                     proofs, n, on_blob_tx, &w, err);
    if (!rc)
        while (!w.done && uv_run(&loop, UV_RUN_ONCE)) {
        }
    util_buf_free(&call);
    rollup_txmgr_close(m);
    rollup_l1_close(l1);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop)) {
        /* every handle is closed by now */
    }
    if (rc) return rc;
    if (w.rc && err) *err = w.err;
    if (w.has_r) *r = w.r;
    return w.rc;
}

/* The frames of one batch in blobs, ROLLUP_BLOBS_PER_TX per transaction;
 * one line per transaction. */
static int post_frames_in_blobs(const args *a, const rollup_config *c, const uint8_t sk[32],
                                uint64_t first, uint64_t last, size_t raw, uint8_t **frames,
                                const size_t *lens, size_t nf, util_err *err)
{
    uint8_t *mem = malloc(ROLLUP_BLOBS_PER_TX * (size_t)ROLLUP_BLOB_BYTES);
    if (!mem) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < nf && !rc; i += ROLLUP_BLOBS_PER_TX) {
        size_t k = nf - i < ROLLUP_BLOBS_PER_TX ? nf - i : ROLLUP_BLOBS_PER_TX, bytes = 0;
        const uint8_t *blobs[ROLLUP_BLOBS_PER_TX];
        uint8_t commits[ROLLUP_BLOBS_PER_TX][48], proofs[ROLLUP_BLOBS_PER_TX][48];
        for (size_t j = 0; j < k && !rc; j++) {
            uint8_t *blob = mem + j * (size_t)ROLLUP_BLOB_BYTES;
            blobs[j] = blob;
            bytes += lens[i + j];
            rc = rollup_blob_pack(frames[i + j], lens[i + j], blob, err);
            if (!rc) rc = rollup_kzg_commit(blob, commits[j], err);
            if (!rc) rc = rollup_kzg_proof(blob, commits[j], proofs[j], err);
        }
        rollup_l1_receipt r;
        if (!rc)
            rc = post_blobs(a, c, sk, blobs, (const uint8_t(*)[48])commits,
                            (const uint8_t(*)[48])proofs, k, &r, err);
        if (rc) break;
        char th[67];
        hex32(th, r.tx_hash);
        printf("blobtx L2 %llu..%llu raw %zu bytes blobs %zu frame %zu bytes gas %llu blobgas %llu "
               "gasprice %llu blobgasprice %llu tx %s block %llu\n",
               (unsigned long long)first, (unsigned long long)last, i == 0 ? raw : (size_t)0, k,
               bytes, (unsigned long long)r.gas_used, (unsigned long long)r.blob_gas_used,
               (unsigned long long)r.effective_gas_price, (unsigned long long)r.blob_gas_price, th,
               (unsigned long long)r.block_number);
        fflush(stdout);
    }
    free(mem);
    return rc;
}

static int cmd_deploy(const args *a)
{
    util_err err = {0};
    uint8_t sk[32];
    chain_genesis g;
    if (!a->l1 || !a->out || parse_key(sk, a->key)) return die("%s", "deploy: --l1, --key, --out");
    if (load_genesis(&g, a->genesis, &err)) return die("genesis: %s", err.msg);
    rollup_eth_addr batcher;
    if (rollup_eth_addr_from_seckey(&batcher, sk, &err)) return die("%s", err.msg);
    rollup_deploy_opts o = {.finalization_period_s = a->finalization,
                            .confirmations = (uint32_t)a->confirmations,
                            .channel_timeout_blocks = (uint32_t)a->timeout};
    rollup_config c;
    int rc = rollup_deploy(a->l1, sk, &g, &batcher, &o, &c, &err);
    chain_genesis_free(&g);
    if (rc) return die("deploy: %s", err.msg);
    if (rollup_config_save(&c, a->out, &err)) return die("%s", err.msg);
    char ib[ROLLUP_ETH_ADDR_HEX_LEN + 1], oo[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(ib, &c.batch_inbox);
    rollup_eth_addr_hex(oo, &c.output_oracle);
    printf("deployed BatchInbox %s OutputOracle %s at L1 block %llu\n", ib, oo,
           (unsigned long long)c.deploy_block);
    return 0;
}

static int load_blocks(chain_store *st, uint64_t from, uint64_t n, chain_block *bs,
                       chain_commit *last, util_err *err)
{
    for (uint64_t i = 0; i < n; i++) {
        uint8_t id[32];
        if (chain_store_block_id_at(st, from + i, id, err) ||
            chain_store_get_block(st, id, &bs[i], NULL, err)) {
            for (uint64_t j = 0; j < i; j++)
                chain_block_free(&bs[j]);
            return UTIL_EIO;
        }
    }
    return chain_store_get_commit(st, from + n - 1, last, err);
}

static int cmd_post(const args *a, const rollup_config *c, const uint8_t sk[32])
{
    util_err err = {0};
    chain_store *st;
    if (!a->datadir || !a->from || a->to < a->from) return die("%s", "post: --datadir --from --to");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/chain", a->datadir);
    if (chain_store_open(&st, dir, &err)) return die("store: %s", err.msg);
    uint8_t gh[32];
    chain_store_genesis_hash(st, gh);
    uint64_t per = a->per_batch ? a->per_batch : 100;
    int rc = 0;
    for (uint64_t first = a->from; first <= a->to && !rc; first += per) {
        uint64_t n = a->to - first + 1 < per ? a->to - first + 1 : per;
        chain_block *bs = calloc(n, sizeof *bs);
        chain_commit last;
        if (!bs || load_blocks(st, first, n, bs, &last, &err)) {
            free(bs);
            rc = die("reading blocks: %s", err.msg);
            break;
        }
        size_t raw = 0;
        for (uint64_t i = 0; i < n; i++) {
            util_buf eb;
            util_buf_init(&eb);
            if (chain_block_encode(&bs[i], &eb) == 0) raw += eb.len;
            util_buf_free(&eb);
        }
        if (a->tamper) bs[0].h.state_root[0] ^= 1;
        uint8_t *chan = NULL, **frames = NULL;
        size_t clen = 0, *lens = NULL, nf = 0;
        rc = rollup_batch_encode(gh, bs, n, &last, a->level ? a->level : 19, &chan, &clen, &err);
        if (!rc) rc = rollup_frames_split(chan, clen, a->frame_max, &frames, &lens, &nf, &err);
        if (!rc && a->blobs)
            rc = post_frames_in_blobs(a, c, sk, first, first + n - 1, raw, frames, lens, nf, &err);
        for (size_t f = 0; f < nf && !rc && !a->blobs; f++) {
            rollup_l1_receipt r;
            rc = post_frame(a, c, sk, frames[f], lens[f], &r, &err);
            if (rc) break;
            char th[67];
            hex32(th, r.tx_hash);
            printf("frame L2 %llu..%llu raw %zu bytes frame %zu bytes gas %llu tx %s block %llu\n",
                   (unsigned long long)first, (unsigned long long)(first + n - 1),
                   f == 0 ? raw : (size_t)0, lens[f], (unsigned long long)r.gas_used, th,
                   (unsigned long long)r.block_number);
            fflush(stdout);
        }
        if (rc) rc = die("posting: %s", err.msg);
        rollup_frames_free(frames, lens, nf);
        free(chan);
        for (uint64_t i = 0; i < n; i++)
            chain_block_free(&bs[i]);
        free(bs);
    }
    chain_store_close(st);
    return rc;
}

/* The validator's secret: --dev-validator or --validator-key. */
static int validator_secret(const args *a, uint8_t vsk[32])
{
    if (a->dev_validator) {
        chain_keypair kp;
        if (chain_keypair_dev(&kp, DEV_VALIDATOR_INDEX)) return -1;
        memcpy(vsk, kp.seckey, 32);
        chain_keypair_clear(&kp);
        return 0;
    }
    return parse_key(vsk, a->vkey);
}

static int cmd_outputs(const args *a, const rollup_config *c, const uint8_t sk[32])
{
    util_err err = {0};
    uint8_t vsk[32];
    if (validator_secret(a, vsk))
        return die("%s", "outputs: --validator-key HEX or --dev-validator");
    chain_genesis g;
    if (load_genesis(&g, a->genesis, &err)) return die("genesis: %s", err.msg);
    uint64_t iv = g.params.output_interval_blocks;
    chain_store *st;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/chain", a->datadir ? a->datadir : ".");
    if (!iv || chain_store_open(&st, dir, &err)) {
        chain_genesis_free(&g);
        return die("store: %s", err.msg);
    }
    int rc = 0;
    for (uint64_t h = (a->from + iv - 1) / iv * iv; h <= a->to && !rc; h += iv) {
        if (h == 0) continue;
        uint8_t root[32], digest[32], sig[ROLLUP_ETH_SIG_LEN];
        if (rollup_output_root_at(st, h, root, NULL, &err)) {
            rc = die("reading block: %s", err.msg);
            break;
        }
        rollup_output_digest(digest, g.hash, h, root);
        if (rollup_output_sign(sig, digest, vsk, &err)) {
            rc = die("sign: %s", err.msg);
            break;
        }
        util_buf call;
        util_buf_init(&call);
        rollup_abi_val v[3] = {{.kind = ROLLUP_ABI_UINT, .u64 = h},
                               {.kind = ROLLUP_ABI_BYTES32},
                               {.kind = ROLLUP_ABI_BYTES, .p = sig, .n = sizeof sig}};
        memcpy(v[1].word, root, 32);
        rollup_abi_encode_call(&call, "proposeOutput(uint64,bytes32,bytes)", v, 3);
        rollup_l1_receipt r;
        rc = l1_send(a, c, sk, &c->output_oracle, call.data, call.len, &r, &err);
        util_buf_free(&call);
        if (rc) {
            rc = die("proposeOutput: %s", err.msg);
            break;
        }
        char th[67];
        hex32(th, r.tx_hash);
        printf("output L2 %llu gas %llu tx %s\n", (unsigned long long)h,
               (unsigned long long)r.gas_used, th);
    }
    chain_store_close(st);
    chain_genesis_free(&g);
    return rc;
}

static int cmd_raw(const args *a, const rollup_config *c, const uint8_t sk[32])
{
    util_err err = {0};
    if (!a->bad_compression) return die("%s", "raw: --bad-compression");
    /* A channel whose bytes are not a zstd frame, in one well-formed frame:
     * the assembler completes it (its id is the hash of its bytes) and the
     * batch decoder refuses it. */
    static const uint8_t junk[] = "this is not zstd: the batch decoder must refuse it";
    uint8_t **frames = NULL;
    size_t *lens = NULL, nf = 0;
    if (rollup_frames_split(junk, sizeof junk, 0, &frames, &lens, &nf, &err))
        return die("%s", err.msg);
    rollup_l1_receipt r;
    int rc = post_frame(a, c, sk, frames[0], lens[0], &r, &err);
    rollup_frames_free(frames, lens, nf);
    if (rc) return die("posting: %s", err.msg);
    char th[67];
    hex32(th, r.tx_hash);
    printf("raw frame tx %s block %llu\n", th, (unsigned long long)r.block_number);
    return 0;
}

static int cmd_freeze(const args *a, const rollup_config *c, const uint8_t sk[32])
{
    util_err err = {0};
    uint8_t vsk[32];
    if (validator_secret(a, vsk))
        return die("%s", "freeze: --validator-key HEX or --dev-validator");
    if (!a->height) return die("%s", "freeze: --height H");
    chain_genesis g;
    if (load_genesis(&g, a->genesis, &err)) return die("genesis: %s", err.msg);
    /* Two made-up roots: the oracle checks only that they differ and that
     * each is signed for the height. */
    uint8_t roots[2][32], sigs[2][ROLLUP_ETH_SIG_LEN];
    for (int i = 0; i < 2; i++) {
        char tag[32];
        snprintf(tag, sizeof tag, "freeze root %d", i);
        chain_sha256(roots[i], (const uint8_t *)tag, strlen(tag));
        uint8_t digest[32];
        rollup_output_digest(digest, g.hash, a->height, roots[i]);
        if (rollup_output_sign(sigs[i], digest, vsk, &err)) {
            chain_genesis_free(&g);
            return die("sign: %s", err.msg);
        }
    }
    chain_genesis_free(&g);
    rollup_abi_val v[5] = {{.kind = ROLLUP_ABI_UINT, .u64 = a->height},
                           {.kind = ROLLUP_ABI_BYTES32},
                           {.kind = ROLLUP_ABI_BYTES, .p = sigs[0], .n = ROLLUP_ETH_SIG_LEN},
                           {.kind = ROLLUP_ABI_BYTES32},
                           {.kind = ROLLUP_ABI_BYTES, .p = sigs[1], .n = ROLLUP_ETH_SIG_LEN}};
    memcpy(v[1].word, roots[0], 32);
    memcpy(v[3].word, roots[1], 32);
    util_buf call;
    util_buf_init(&call);
    rollup_abi_encode_call(&call, "freeze(uint64,bytes32,bytes,bytes32,bytes)", v, 5);
    rollup_l1_receipt r;
    int rc = call.oom ? util_err_set(&err, UTIL_ENOMEM, "out of memory")
                      : l1_send(a, c, sk, &c->output_oracle, call.data, call.len, &r, &err);
    util_buf_free(&call);
    if (rc) return die("freeze: %s", err.msg);
    char th[67];
    hex32(th, r.tx_hash);
    printf("freeze L2 %llu gas %llu tx %s\n", (unsigned long long)a->height,
           (unsigned long long)r.gas_used, th);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return die("%s", "usage: rollup_post deploy|post|outputs|raw|freeze ... (see source)");
    const char *cmd = argv[1];
    args a = {.finalization = 10, .confirmations = 2, .timeout = 50};
    static const struct option opts[] = {
        {"l1", required_argument, 0, 'l'},
        {"config", required_argument, 0, 'c'},
        {"key", required_argument, 0, 'k'},
        {"out", required_argument, 0, 'o'},
        {"genesis", required_argument, 0, 'g'},
        {"datadir", required_argument, 0, 'd'},
        {"from", required_argument, 0, 'f'},
        {"to", required_argument, 0, 't'},
        {"per-batch", required_argument, 0, 'p'},
        {"frame-max", required_argument, 0, 'm'},
        {"level", required_argument, 0, 'L'},
        {"tamper", no_argument, 0, 'T'},
        {"validator-key", required_argument, 0, 'v'},
        {"dev-validator", no_argument, 0, 'V'},
        {"bad-compression", no_argument, 0, 'B'},
        {"finalization", required_argument, 0, 'F'},
        {"confirmations", required_argument, 0, 'C'},
        {"channel-timeout", required_argument, 0, 'O'},
        {"height", required_argument, 0, 'H'},
        {"blobs", no_argument, 0, 'b'},
        {0, 0, 0, 0},
    };
    optind = 2;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'l': a.l1 = optarg; break;
        case 'c': a.config = optarg; break;
        case 'k': a.key = optarg; break;
        case 'o': a.out = optarg; break;
        case 'g': a.genesis = optarg; break;
        case 'd': a.datadir = optarg; break;
        case 'f': a.from = strtoull(optarg, NULL, 10); break;
        case 't': a.to = strtoull(optarg, NULL, 10); break;
        case 'p': a.per_batch = strtoull(optarg, NULL, 10); break;
        case 'm': a.frame_max = strtoull(optarg, NULL, 10); break;
        case 'L': a.level = atoi(optarg); break;
        case 'T': a.tamper = 1; break;
        case 'v': a.vkey = optarg; break;
        case 'V': a.dev_validator = 1; break;
        case 'B': a.bad_compression = 1; break;
        case 'F': a.finalization = strtoull(optarg, NULL, 10); break;
        case 'C': a.confirmations = strtoull(optarg, NULL, 10); break;
        case 'O': a.timeout = strtoull(optarg, NULL, 10); break;
        case 'H': a.height = strtoull(optarg, NULL, 10); break;
        case 'b': a.blobs = 1; break;
        default: return die("unknown option %s", argv[optind - 1]);
        }
    }
    chain_hash_init();
    if (strcmp(cmd, "deploy") == 0) return cmd_deploy(&a);
    util_err err = {0};
    rollup_config c;
    uint8_t sk[32];
    if (!a.l1 || !a.config || parse_key(sk, a.key))
        return die("%s", "--l1, --config, --key needed");
    if (rollup_config_load(&c, a.config, &err)) return die("config: %s", err.msg);
    if (strcmp(cmd, "post") == 0) return cmd_post(&a, &c, sk);
    if (strcmp(cmd, "outputs") == 0) return cmd_outputs(&a, &c, sk);
    if (strcmp(cmd, "raw") == 0) return cmd_raw(&a, &c, sk);
    if (strcmp(cmd, "freeze") == 0) return cmd_freeze(&a, &c, sk);
    return die("unknown command %s", cmd);
}
