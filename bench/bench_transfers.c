/* bench_transfers: committed transfers per second through JSON-RPC.
 *
 * Funds S fresh senders, pre-signs N transfers and pre-builds every batch body
 * (none of that is timed), then times from the first tx_send batch to the
 * moment the mempool is empty, and counts what the blocks in between hold.
 * The last line on stdout is the result line that bench/run reads. */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench/bench_rpc.h"
#include "chain/crypto/address.h"
#include "chain/crypto/keys.h"
#include "chain/types/tx.h"
#include "cli/http_client.h"
#include "util/bytes.h"
#include "util/hex.h"
#include "util/time.h"

#define DEV_ACCOUNTS 10
#define SENDER_KEY_BASE 100000u
#define MAX_THREADS 16
/* The node's JSON-RPC batch limit. */
#define MAX_BATCH 1000
#define POLL_NS (10ull * 1000000)
#define TX_GAS CHAIN_GAS_TRANSFER
#define TX_PRICE 1u
/* Per-sender funding beyond the fees and amounts of its transfers. */
#define FUND_SLACK 1000000u

typedef struct opts {
    const char *rpc;
    size_t txs, senders, batch, threads;
    size_t conns;  /* batches in flight at once, each on its own connection */
    double wait_s; /* give up waiting for the mempool to drain after this long */
} opts;

typedef struct tx_job {
    const opts *o;
    const chain_keypair *keys;
    const chain_addr *addrs;
    const uint64_t *base_nonce;
    const char *chain_id;
    char **hex;
    size_t from, to;
    int failed;
} tx_job;

static void usage(FILE *f)
{
    fprintf(f, "Usage: bench_transfers --rpc URL [--txs N] [--senders S] [--batch B]\n"
               "                       [--threads T] [--conns C] [--wait-s SECONDS]\n"
               "Pre-signs N transfers (default 200000) from S funded senders (default 2000),\n"
               "submits them in tx_send batches of B (default 1000, at most 1000) over C\n"
               "connections at once (default 1; batches are taken in order), and prints\n"
               "  transfers: committed_per_s=X txs=COMMITTED submitted=N rejected=R blocks=K "
               "seconds=T\n");
}

static void parse_opts(opts *o, int argc, char **argv)
{
    *o = (opts){
        .rpc = NULL, .txs = 200000, .senders = 2000, .batch = 1000, .threads = 2, .wait_s = 600};
    static const struct option lo[] = {
        {"rpc", required_argument, 0, 'r'},
        {"txs", required_argument, 0, 'n'},
        {"senders", required_argument, 0, 's'},
        {"batch", required_argument, 0, 'b'},
        {"threads", required_argument, 0, 't'},
        {"wait-s", required_argument, 0, 'w'},
        {"conns", required_argument, 0, 'c'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'r': o->rpc = optarg; break;
        case 'n': o->txs = bench_parse_size("--txs", optarg, 1, 100000000); break;
        case 's': o->senders = bench_parse_size("--senders", optarg, 1, 40000); break;
        case 'b': o->batch = bench_parse_size("--batch", optarg, 1, MAX_BATCH); break;
        case 't': o->threads = bench_parse_size("--threads", optarg, 1, MAX_THREADS); break;
        case 'c': o->conns = bench_parse_size("--conns", optarg, 1, MAX_THREADS); break;
        case 'w': o->wait_s = (double)bench_parse_size("--wait-s", optarg, 1, 86400); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (!o->rpc || optind < argc) {
        usage(stderr);
        exit(2);
    }
}

/* The node's genesis hash, half of the signing domain (docs/encoding.md); set
 * once from node_status before any signing thread starts. */
static uint8_t g_genesis_hash[32];

/* Signs a transfer and returns the hex of its encoding (malloc'd). */
static char *sign_transfer(const char *chain_id, const chain_keypair *kp, uint64_t nonce,
                           const chain_addr *to, uint64_t amount)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain_id);
    tx.type = CHAIN_TX_TRANSFER;
    tx.nonce = nonce;
    tx.gas_limit = TX_GAS;
    tx.gas_price = TX_PRICE;
    tx.body.transfer.to = *to;
    tx.body.transfer.amount = amount;
    util_err err = {0};
    if (chain_tx_sign(&tx, kp, g_genesis_hash, &err)) {
        fprintf(stderr, "bench_transfers: signing: %s\n", err.msg);
        return NULL;
    }
    util_buf b;
    util_buf_init(&b);
    char *hex = NULL;
    if (chain_tx_encode(&tx, &b) == 0 && !b.oom && (hex = malloc(b.len * 2 + 1)))
        util_hex_encode(hex, b.data, b.len);
    util_buf_free(&b);
    chain_tx_free(&tx);
    return hex;
}

static void *sign_range(void *arg)
{
    tx_job *j = arg;
    size_t s = j->o->senders;
    for (size_t t = j->from; t < j->to && !j->failed; t++) {
        size_t from = t % s, to = (from + 1) % s;
        j->hex[t] = sign_transfer(j->chain_id, &j->keys[from], j->base_nonce[from] + t / s,
                                  &j->addrs[to], 1);
        if (!j->hex[t]) j->failed = 1;
    }
    return NULL;
}

typedef struct submit_ctx {
    const opts *o;
    const util_buf *bodies;
    size_t nbatches;
    atomic_size_t next;
    atomic_size_t rejected;
    atomic_size_t shown;
} submit_ctx;

static void *submit_loop(void *arg)
{
    submit_ctx *c = arg;
    const opts *o = c->o;
    for (;;) {
        size_t b = atomic_fetch_add(&c->next, 1);
        if (b >= c->nbatches) return NULL;
        size_t cnt = (b + 1) * o->batch <= o->txs ? o->batch : o->txs - b * o->batch;
        atomic_fetch_add(&c->rejected, bench_post_batch(o->rpc, (const char *)c->bodies[b].data,
                                                        c->bodies[b].len, cnt, &c->shown));
    }
}

/* Submits every batch over o->conns connections; returns the rejected count. */
static size_t submit_all(const opts *o, const util_buf *bodies, size_t nbatches)
{
    submit_ctx c = {.o = o, .bodies = bodies, .nbatches = nbatches};
    atomic_init(&c.next, 0);
    atomic_init(&c.rejected, 0);
    atomic_init(&c.shown, 0);
    pthread_t th[MAX_THREADS];
    for (size_t i = 1; i < o->conns; i++)
        if (pthread_create(&th[i], NULL, submit_loop, &c)) bench_die("pthread_create failed");
    submit_loop(&c);
    for (size_t i = 1; i < o->conns; i++)
        pthread_join(th[i], NULL);
    return atomic_load(&c.rejected);
}

/* Runs sign_range over [0, n) on o->threads threads. */
static void sign_all(const opts *o, tx_job *proto, size_t n)
{
    pthread_t th[MAX_THREADS];
    tx_job jobs[MAX_THREADS];
    size_t nt = o->threads;
    for (size_t i = 0; i < nt; i++) {
        jobs[i] = *proto;
        jobs[i].from = n * i / nt;
        jobs[i].to = n * (i + 1) / nt;
        if (pthread_create(&th[i], NULL, sign_range, &jobs[i])) bench_die("pthread_create failed");
    }
    for (size_t i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].failed) bench_die("pre-signing failed");
    }
}

/* Batches account_get for every address; fills balance and committed nonce. */
static void get_accounts(const opts *o, const chain_addr *addrs, size_t n, uint64_t *balance,
                         uint64_t *nonce, uint64_t *pending)
{
    for (size_t start = 0; start < n; start += MAX_BATCH) {
        size_t end = start + MAX_BATCH < n ? start + MAX_BATCH : n;
        json_t *req = json_array();
        for (size_t i = start; i < end; i++) {
            char a[CHAIN_ADDR_STR_LEN + 1];
            chain_addr_encode(a, &addrs[i]);
            json_array_append_new(req,
                                  json_pack("{s:s,s:I,s:s,s:[s]}", "jsonrpc", "2.0", "id",
                                            (json_int_t)i, "method", "account_get", "params", a));
        }
        char *body = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        if (!body) bench_die("out of memory");
        json_t *doc = bench_post_json(o->rpc, body, strlen(body));
        free(body);
        if (json_array_size(doc) != end - start) bench_die("account_get batch: wrong answer count");
        for (size_t k = 0; k < end - start; k++) {
            json_t *r = json_object_get(json_array_get(doc, k), "result");
            json_t *id = json_object_get(json_array_get(doc, k), "id");
            const char *bal = json_string_value(json_object_get(r, "balance"));
            json_t *jn = json_object_get(r, "nonce"), *jp = json_object_get(r, "pendingNonce");
            if (!json_is_integer(id) || (size_t)json_integer_value(id) < start ||
                (size_t)json_integer_value(id) >= end || !bal || !json_is_integer(jn) ||
                !json_is_integer(jp))
                bench_die("account_get: unexpected answer");
            size_t i = (size_t)json_integer_value(id);
            if (balance) balance[i] = strtoull(bal, NULL, 10);
            if (nonce) nonce[i] = (uint64_t)json_integer_value(jn);
            if (pending) pending[i] = (uint64_t)json_integer_value(jp);
        }
        json_decref(doc);
    }
}

/* Polls node_status until the mempool is empty; returns the time it was seen. */
static uint64_t wait_drained(const opts *o)
{
    uint64_t start = util_mono_ns(), limit = (uint64_t)(o->wait_s * 1e9);
    for (;;) {
        uint64_t now = util_mono_ns();
        if (bench_status_u64(o->rpc, "mempoolSize") == 0) return util_mono_ns();
        if (now - start > limit) bench_die("the mempool did not drain within %.0f s", o->wait_s);
        struct timespec ts = {0, (long)POLL_NS};
        nanosleep(&ts, NULL);
    }
}

/* Funds every sender from dev0..dev9 and waits until that is committed. */
static void fund_senders(const opts *o, const char *chain_id, const chain_addr *addrs,
                         uint64_t amount)
{
    chain_keypair dev[DEV_ACCOUNTS];
    chain_addr dev_addr[DEV_ACCOUNTS];
    uint64_t dev_nonce[DEV_ACCOUNTS];
    for (uint32_t d = 0; d < DEV_ACCOUNTS; d++) {
        if (chain_keypair_dev(&dev[d], d)) bench_die("no dev key %u", d);
        chain_addr_from_pubkey(&dev_addr[d], dev[d].pubkey);
    }
    get_accounts(o, dev_addr, DEV_ACCOUNTS, NULL, NULL, dev_nonce);
    size_t s = o->senders, rejected = 0;
    atomic_size_t shown;
    atomic_init(&shown, 0);
    util_buf body;
    util_buf_init(&body);
    for (size_t start = 0; start < s; start += MAX_BATCH) {
        size_t end = start + MAX_BATCH < s ? start + MAX_BATCH : s;
        util_buf_reset(&body);
        for (size_t i = start; i < end; i++) {
            char *hex =
                sign_transfer(chain_id, &dev[i % DEV_ACCOUNTS],
                              dev_nonce[i % DEV_ACCOUNTS] + i / DEV_ACCOUNTS, &addrs[i], amount);
            if (!hex) bench_die("signing a funding transfer failed");
            bench_put_entry(&body, i, hex);
            free(hex);
        }
        util_buf_put(&body, "]", 1);
        if (body.oom) bench_die("out of memory");
        rejected +=
            bench_post_batch(o->rpc, (const char *)body.data, body.len, end - start, &shown);
    }
    util_buf_free(&body);
    for (size_t d = 0; d < DEV_ACCOUNTS; d++)
        chain_keypair_clear(&dev[d]);
    if (rejected) bench_die("%zu funding transfers were rejected", rejected);
    wait_drained(o);
}

/* Transactions in blocks from..to, from chain_getBlockRange's summaries
 * (txCount): a block of more than ~27,000 transfers is past the RPC reply
 * limit as chain_getBlock's JSON, while a page of 100 summaries is small. */
static size_t count_range_txs(const opts *o, uint64_t from, uint64_t to)
{
    size_t n = 0;
    for (uint64_t h = from; h <= to;) {
        json_t *r =
            bench_call(o->rpc, "chain_getBlockRange", json_pack("[I,i]", (json_int_t)h, 100), 0);
        json_t *blocks = json_object_get(r, "blocks");
        if (!json_is_array(blocks) || json_array_size(blocks) == 0)
            bench_die("chain_getBlockRange from %" PRIu64 ": no blocks", h);
        size_t i;
        json_t *b;
        json_array_foreach(blocks, i, b)
        {
            json_int_t bh = json_integer_value(json_object_get(b, "height"));
            json_t *c = json_object_get(b, "txCount");
            if ((uint64_t)bh != h || !json_is_integer(c))
                bench_die("chain_getBlockRange: unexpected summary at %" PRIu64, h);
            n += (size_t)json_integer_value(c);
            if (h++ == to) break;
        }
        json_decref(r);
    }
    return n;
}

int main(int argc, char **argv)
{
    bench_prog = "bench_transfers";
    opts o;
    parse_opts(&o, argc, argv);
    size_t n = o.txs, s = o.senders;
    if (s < 2) bench_die("--senders must be at least 2 (each sender pays the next one)");
    size_t per_sender = (n + s - 1) / s;
    if (per_sender > 4096)
        fprintf(stderr,
                "bench_transfers: warning: %zu transfers per sender exceed the node's "
                "nonce window (4096); use more --senders\n",
                per_sender);

    json_t *st = bench_call(o.rpc, "node_status", NULL, 0);
    const char *cid = json_string_value(json_object_get(st, "chainId"));
    if (!cid || !chain_id_valid(cid)) bench_die("node_status has no valid chainId");
    char chain_id[CHAIN_ID_MAX + 1];
    snprintf(chain_id, sizeof chain_id, "%s", cid);
    const char *gh = json_string_value(json_object_get(st, "genesisHash"));
    if (!gh || util_hex_decode_exact(g_genesis_hash, 32, gh))
        bench_die("node_status has no valid genesisHash");
    json_decref(st);

    chain_keypair *keys = calloc(s, sizeof *keys);
    chain_addr *addrs = calloc(s, sizeof *addrs);
    uint64_t *bal = calloc(s, sizeof *bal), *nonce = calloc(s, sizeof *nonce);
    char **hex = calloc(n, sizeof *hex);
    if (!keys || !addrs || !bal || !nonce || !hex) bench_die("out of memory");
    for (size_t i = 0; i < s; i++) {
        if (chain_keypair_dev(&keys[i], SENDER_KEY_BASE + (uint32_t)i))
            bench_die("no sender key %zu", i);
        chain_addr_from_pubkey(&addrs[i], keys[i].pubkey);
    }

    /* Each sender pays per_sender * (fee + 1) and receives as much from its
     * neighbour; fund it for the worst case anyway. */
    uint64_t need = (uint64_t)per_sender * (TX_GAS * TX_PRICE + 1) + FUND_SLACK;
    get_accounts(&o, addrs, s, bal, NULL, NULL);
    int underfunded = 0;
    for (size_t i = 0; i < s; i++)
        underfunded |= bal[i] < need;
    uint64_t t_fund = util_mono_ns();
    if (underfunded) fund_senders(&o, chain_id, addrs, need);
    get_accounts(&o, addrs, s, bal, nonce, NULL);
    for (size_t i = 0; i < s; i++)
        if (bal[i] < need) bench_die("sender %zu is still underfunded after funding", i);
    fprintf(stderr, "bench_transfers: %zu senders funded (%.1f s)\n", s,
            (double)(util_mono_ns() - t_fund) / 1e9);

    uint64_t t_sign = util_mono_ns();
    tx_job proto = {.o = &o,
                    .keys = keys,
                    .addrs = addrs,
                    .base_nonce = nonce,
                    .chain_id = chain_id,
                    .hex = hex};
    sign_all(&o, &proto, n);
    size_t nbatches = (n + o.batch - 1) / o.batch;
    util_buf *bodies = calloc(nbatches, sizeof *bodies);
    if (!bodies) bench_die("out of memory");
    for (size_t b = 0; b < nbatches; b++) {
        util_buf_init(&bodies[b]);
        for (size_t t = b * o.batch; t < n && t < (b + 1) * o.batch; t++) {
            bench_put_entry(&bodies[b], t, hex[t]);
            free(hex[t]);
        }
        util_buf_put(&bodies[b], "]", 1);
        if (bodies[b].oom) bench_die("out of memory");
    }
    free(hex);
    fprintf(stderr, "bench_transfers: %zu transfers signed in %zu batches (%.1f s)\n", n, nbatches,
            (double)(util_mono_ns() - t_sign) / 1e9);

    uint64_t h0 = bench_status_u64(o.rpc, "height");
    uint64_t t0 = util_mono_ns();
    size_t rejected = submit_all(&o, bodies, nbatches);
    uint64_t t_sent = util_mono_ns();
    uint64_t t1 = wait_drained(&o);
    double secs = (double)(t1 - t0) / 1e9;
    fprintf(
        stderr, "bench_transfers: submitted in %.2f s (%.0f/s accepted), drained after %.2f s\n",
        (double)(t_sent - t0) / 1e9, (double)(n - rejected) / ((double)(t_sent - t0) / 1e9), secs);

    uint64_t h1 = bench_status_u64(o.rpc, "height");
    size_t committed = h1 > h0 ? count_range_txs(&o, h0 + 1, h1) : 0;
    for (size_t b = 0; b < nbatches; b++)
        util_buf_free(&bodies[b]);
    free(bodies);
    for (size_t i = 0; i < s; i++)
        chain_keypair_clear(&keys[i]);
    free(keys);
    free(addrs);
    free(bal);
    free(nonce);

    printf("transfers: committed_per_s=%.0f txs=%zu submitted=%zu rejected=%zu blocks=%" PRIu64
           " seconds=%.3f\n",
           (double)committed / secs, committed, n, rejected, h1 - h0, secs);
    return committed + rejected == n ? 0 : 1;
}
