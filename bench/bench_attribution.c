/* bench_attribution: committed ATTRIBUTE transactions per second through
 * JSON-RPC, each with E entries (default 10).
 *
 * Setup, not timed: funds A attestors and C contributors, creates a datanet
 * without review, K contributions to it, and one model per attestor (each
 * attestor has its own nonce sequence, so the node's nonce window never
 * limits the run). Then it pre-signs N attribution records with E distinct
 * random contributions and random weights, pre-builds the tx_send batch
 * bodies, and times from the first batch to the moment the mempool is empty.
 * The last line on stdout is the result line that bench/run reads; beside
 * the rate it reports the state keys one record touches (computed from the
 * records sent, docs/attribution.md "State") and the index entries it adds. */
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
#include "chain/exec/contract.h"
#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"
#include "chain/types/tx.h"
#include "cli/http_client.h"
#include "util/bytes.h"
#include "util/hex.h"
#include "util/time.h"

#define ATTESTOR_KEY_BASE 200000u
#define CONTRIB_KEY_BASE 300000u
#define MAX_THREADS 16
#define MAX_BATCH 1000 /* the node's JSON-RPC batch limit */
#define MAX_ENTRIES CHAIN_ATTR_MAX_ENTRIES
#define POLL_NS (10ull * 1000000)
#define FEE 1000000u /* base units per inference */
#define VM_GAS_PER_ENTRY                                                                           \
    600u /* allowance when the reward contract runs in the VM: it uses ~460 an entry */
/* 3,000 for the contract's own set-up, plus the run and code-load gas of the
 * 780-byte default contract (CHAIN_GAS_VM_RUN + 2 x 780 = 4,060). */
#define VM_GAS_BASE (3000u + CHAIN_GAS_VM_RUN + CHAIN_GAS_CODE_LOAD_PER_BYTE * 780u)
#define PRICE 1u

typedef struct opts {
    const char *rpc;
    size_t txs, attestors, contributors, contributions, entries, batch, threads, conns;
    double wait_s;
} opts;

static void usage(FILE *f)
{
    fprintf(f, "Usage: bench_attribution --rpc URL [--txs N] [--entries E] [--attestors A]\n"
               "                         [--contributors C] [--contributions K] [--batch B]\n"
               "                         [--threads T] [--conns X] [--wait-s SECONDS]\n"
               "Pre-signs N attribution records (default 50000) of E entries (default 10) from\n"
               "A attestors (default 32) over K contributions (default 1000) of C contributors\n"
               "(default 100), submits them in tx_send batches of B (default 1000) over X\n"
               "connections (default 2), and prints\n"
               "  attribution: committed_per_s=R txs=COMMITTED submitted=N rejected=J blocks=H "
               "seconds=S entries=E state_keys_per_tx=K index_entries_per_tx=I\n");
}

static void parse_opts(opts *o, int argc, char **argv)
{
    *o = (opts){.txs = 50000,
                .attestors = 32,
                .contributors = 100,
                .contributions = 1000,
                .entries = 10,
                .batch = 1000,
                .threads = 2,
                .conns = 2,
                .wait_s = 600};
    static const struct option lo[] = {
        {"rpc", required_argument, 0, 'r'},
        {"txs", required_argument, 0, 'n'},
        {"entries", required_argument, 0, 'e'},
        {"attestors", required_argument, 0, 'a'},
        {"contributors", required_argument, 0, 'c'},
        {"contributions", required_argument, 0, 'k'},
        {"batch", required_argument, 0, 'b'},
        {"threads", required_argument, 0, 't'},
        {"conns", required_argument, 0, 'x'},
        {"wait-s", required_argument, 0, 'w'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'r': o->rpc = optarg; break;
        case 'n': o->txs = bench_parse_size("--txs", optarg, 1, 10000000); break;
        case 'e': o->entries = bench_parse_size("--entries", optarg, 1, MAX_ENTRIES); break;
        case 'a': o->attestors = bench_parse_size("--attestors", optarg, 1, MAX_BATCH / 2); break;
        case 'c':
            o->contributors = bench_parse_size("--contributors", optarg, 1, MAX_BATCH / 2);
            break;
        case 'k': o->contributions = bench_parse_size("--contributions", optarg, 1, 100000); break;
        case 'b': o->batch = bench_parse_size("--batch", optarg, 1, MAX_BATCH); break;
        case 't': o->threads = bench_parse_size("--threads", optarg, 1, MAX_THREADS); break;
        case 'x': o->conns = bench_parse_size("--conns", optarg, 1, MAX_THREADS); break;
        case 'w': o->wait_s = (double)bench_parse_size("--wait-s", optarg, 1, 86400); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (!o->rpc || optind < argc) {
        usage(stderr);
        exit(2);
    }
    if (o->entries > o->contributions) bench_die("--entries cannot exceed --contributions");
}

static uint64_t pending_nonce(const opts *o, const chain_addr *a)
{
    char s[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(s, a);
    json_t *r = bench_call(o->rpc, "account_get", json_pack("[s]", s), 0);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(r, "pendingNonce"));
    json_decref(r);
    return n;
}

static uint64_t wait_drained(const opts *o)
{
    uint64_t start = util_mono_ns(), limit = (uint64_t)(o->wait_s * 1e9);
    for (;;) {
        if (bench_status_u64(o->rpc, "mempoolSize") == 0) return util_mono_ns();
        if (util_mono_ns() - start > limit)
            bench_die("the mempool did not drain within %.0f s", o->wait_s);
        struct timespec ts = {0, (long)POLL_NS};
        nanosleep(&ts, NULL);
    }
}

/* ---- signing --------------------------------------------------------------- */

/* The node's genesis hash, half of the signing domain (docs/encoding.md); set
 * once from node_status before any signing thread starts. */
static uint8_t g_genesis_hash[32];

static char *sign_hex(chain_tx *tx, const char *chain_id, const chain_keypair *kp)
{
    tx->version = CHAIN_TX_VERSION;
    snprintf(tx->chain_id, sizeof tx->chain_id, "%s", chain_id);
    tx->gas_price = PRICE;
    util_err err = {0};
    if (chain_tx_sign(tx, kp, g_genesis_hash, &err)) bench_die("signing: %s", err.msg);
    util_buf b;
    util_buf_init(&b);
    char *hex = NULL;
    if (chain_tx_encode(tx, &b) == 0 && !b.oom && (hex = malloc(b.len * 2 + 1)))
        util_hex_encode(hex, b.data, b.len);
    util_buf_free(&b);
    if (!hex) bench_die("out of memory");
    return hex;
}

/* Sends pre-signed hex strings in batches (each freed), then waits for an
 * empty mempool; dies if any was refused. */
static void run_setup(const opts *o, const char *what, char **hex, size_t n)
{
    atomic_size_t shown;
    atomic_init(&shown, 0);
    size_t bad = 0;
    util_buf body;
    util_buf_init(&body);
    for (size_t start = 0; start < n; start += MAX_BATCH) {
        size_t end = start + MAX_BATCH < n ? start + MAX_BATCH : n;
        util_buf_reset(&body);
        for (size_t i = start; i < end; i++) {
            bench_put_entry(&body, i, hex[i]);
            free(hex[i]);
        }
        util_buf_put(&body, "]", 1);
        if (body.oom) bench_die("out of memory");
        bad += bench_post_batch(o->rpc, (const char *)body.data, body.len, end - start, &shown);
    }
    util_buf_free(&body);
    if (bad) bench_die("%s: %zu transactions refused", what, bad);
    wait_drained(o);
    bench_note("%s: %zu transactions committed", what, n);
}

typedef struct world {
    char chain_id[CHAIN_ID_MAX + 1];
    chain_keypair *att, *con, owner;
    chain_addr *att_addr, *con_addr, owner_addr, contract;
    uint64_t datanet;
    uint64_t *contrib_id;    /* contributions[i] */
    uint32_t *contrib_owner; /* contributor index of contributions[i] */
    uint64_t *model_of;      /* per attestor */
    uint64_t *base_nonce;    /* per attestor */
    uint64_t vm_gas;
} world;

static json_t *all_items(const opts *o, const char *method, json_t *filter)
{
    json_t *all = json_array(), *cursor = json_null();
    for (;;) {
        json_t *page = bench_call(o->rpc, method, json_pack("[O,o,i]", filter, cursor, 100), 0);
        json_array_extend(all, json_object_get(page, "items"));
        json_t *next = json_object_get(page, "nextCursor");
        if (!json_is_string(next)) {
            json_decref(page);
            return all;
        }
        cursor = json_incref(next);
        json_decref(page);
    }
}

static void setup(const opts *o, world *w)
{
    size_t A = o->attestors, C = o->contributors, K = o->contributions;
    uint64_t per_att = (o->txs + A - 1) / A;
    uint64_t gas_max = CHAIN_GAS_ATTRIBUTE + CHAIN_GAS_ATTRIBUTE_PER_ENTRY * o->entries +
                       VM_GAS_BASE + VM_GAS_PER_ENTRY * o->entries;
    uint64_t att_fund = per_att * (FEE + gas_max * PRICE) + 1000000000ull;
    chain_keypair dev0;
    chain_addr dev0_addr;
    if (chain_keypair_dev(&dev0, 0) || chain_keypair_dev(&w->owner, 1))
        bench_die("deriving the dev keys");
    chain_addr_from_pubkey(&dev0_addr, dev0.pubkey);
    chain_addr_from_pubkey(&w->owner_addr, w->owner.pubkey);

    /* Fund attestors and contributors. */
    uint64_t n0 = pending_nonce(o, &dev0_addr);
    char **hex = calloc(A + C + K + A, sizeof *hex);
    if (!hex) bench_die("out of memory");
    for (size_t i = 0; i < A + C; i++) {
        chain_tx tx = {.type = CHAIN_TX_TRANSFER, .nonce = n0 + i, .gas_limit = CHAIN_GAS_TRANSFER};
        tx.body.transfer.to = i < A ? w->att_addr[i] : w->con_addr[i - A];
        tx.body.transfer.amount = i < A ? att_fund : 1000000000ull;
        hex[i] = sign_hex(&tx, w->chain_id, &dev0);
    }
    run_setup(o, "fund attestors and contributors", hex, A + C);

    /* A datanet without review: contributions are accepted at once. */
    char name[32];
    snprintf(name, sizeof name, "bench-%016" PRIx64, util_mono_ns());
    chain_tx tx = {.type = CHAIN_TX_DATANET_CREATE,
                   .nonce = pending_nonce(o, &w->owner_addr),
                   .gas_limit = CHAIN_GAS_DATANET_CREATE};
    if (chain_tx_set_str(&tx.body.datanet_create.name, name, CHAIN_NAME_MAX))
        bench_die("out of memory");
    hex[0] = sign_hex(&tx, w->chain_id, &w->owner);
    chain_tx_free(&tx);
    run_setup(o, "create a datanet", hex, 1);
    json_t *ds = bench_call(o->rpc, "datanet_list", json_pack("[n,i,s]", 100, "desc"), 0);
    w->datanet = 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(ds, "items"), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "name")), name) == 0)
            w->datanet = (uint64_t)json_integer_value(json_object_get(it, "id"));
    }
    json_decref(ds);
    if (!w->datanet)
        bench_die("the new datanet is not listed (are the attribution methods registered?)");

    /* K contributions, contributor i % C. */
    uint64_t *cn = calloc(C, sizeof *cn);
    if (!cn) bench_die("out of memory");
    for (size_t c = 0; c < C; c++)
        cn[c] = pending_nonce(o, &w->con_addr[c]);
    for (size_t k = 0; k < K; k++) {
        size_t c = k % C;
        chain_tx t = {
            .type = CHAIN_TX_CONTRIBUTE, .nonce = cn[c]++, .gas_limit = CHAIN_GAS_CONTRIBUTE};
        t.body.contribute.datanet = w->datanet;
        char seed[64];
        int sl = snprintf(seed, sizeof seed, "%s/%zu", name, k);
        chain_sha256(t.body.contribute.content_hash, seed, (size_t)sl);
        t.body.contribute.size = 1000 + k;
        hex[k] = sign_hex(&t, w->chain_id, &w->con[c]);
    }
    free(cn);
    run_setup(o, "contribute", hex, K);
    json_t *f = json_pack("{s:I}", "datanet", (json_int_t)w->datanet);
    json_t *cs = all_items(o, "contribution_list", f);
    json_decref(f);
    if (json_array_size(cs) != K)
        bench_die("found %zu of %zu contributions", json_array_size(cs), K);
    json_array_foreach(cs, i, it)
    {
        w->contrib_id[i] = (uint64_t)json_integer_value(json_object_get(it, "id"));
        const char *who = json_string_value(json_object_get(it, "contributor"));
        w->contrib_owner[i] = 0;
        for (uint32_t c = 0; c < C; c++) {
            char s[CHAIN_ADDR_STR_LEN + 1];
            chain_addr_encode(s, &w->con_addr[c]);
            if (strcmp(s, who) == 0) w->contrib_owner[i] = c;
        }
    }
    json_decref(cs);

    /* One model per attestor, all owned by dev1. */
    uint64_t on = pending_nonce(o, &w->owner_addr);
    for (size_t a = 0; a < A; a++) {
        chain_tx t = {.type = CHAIN_TX_MODEL_REGISTER,
                      .nonce = on + a,
                      .gas_limit = CHAIN_GAS_MODEL_REGISTER + CHAIN_GAS_MODEL_PER_DATANET};
        chain_tx_model_register *b = &t.body.model_register;
        char mname[CHAIN_NAME_MAX + 1];
        snprintf(mname, sizeof mname, "%s/m%zu", name, a);
        if (chain_tx_set_str(&b->name, mname, CHAIN_NAME_MAX) ||
            chain_tx_set_datanets(b, &w->datanet, 1))
            bench_die("out of memory");
        memcpy(b->attestor, w->att[a].pubkey, 32);
        b->owner_bp = 2000;
        b->validators_bp = 1000;
        b->contributors_bp = 7000;
        hex[a] = sign_hex(&t, w->chain_id, &w->owner);
        chain_tx_free(&t);
    }
    run_setup(o, "register models", hex, A);
    free(hex);
    f = json_pack("{s:I}", "datanet", (json_int_t)w->datanet);
    json_t *ms = all_items(o, "model_list", f);
    json_decref(f);
    json_array_foreach(ms, i, it)
    {
        const char *att = json_string_value(json_object_get(it, "attestorAddress"));
        for (size_t a = 0; a < A; a++) {
            char s[CHAIN_ADDR_STR_LEN + 1];
            chain_addr_encode(s, &w->att_addr[a]);
            if (strcmp(s, att) == 0)
                w->model_of[a] = (uint64_t)json_integer_value(json_object_get(it, "id"));
        }
        util_err e = {0};
        if (chain_addr_decode(&w->contract,
                              json_string_value(json_object_get(it, "rewardContract")), &e))
            bench_die("rewardContract: %s", e.msg);
    }
    json_decref(ms);
    for (size_t a = 0; a < A; a++) {
        if (!w->model_of[a]) bench_die("no model for attestor %zu", a);
        w->base_nonce[a] = pending_nonce(o, &w->att_addr[a]);
    }
    /* A reward contract with code runs in the VM: give it gas. */
    char cstr[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(cstr, &w->contract);
    json_t *code = bench_call(o->rpc, "contract_get", json_pack("[s]", cstr), 1);
    w->vm_gas = code ? VM_GAS_BASE + VM_GAS_PER_ENTRY * o->entries : 0;
    bench_note("reward contract %s %s", cstr, code ? "runs in the VM" : "is the native split");
    json_decref(code);
    chain_keypair_clear(&dev0);
}

/* ---- the records ------------------------------------------------------------ */

typedef struct sign_job {
    const opts *o;
    const world *w;
    char **hex;
    uint32_t *keys; /* per tx: state keys touched */
    size_t from, to;
} sign_job;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void *sign_range(void *arg)
{
    sign_job *j = arg;
    const opts *o = j->o;
    const world *w = j->w;
    size_t A = o->attestors, E = o->entries, K = o->contributions;
    chain_attr_entry *es = calloc(E, sizeof *es);
    uint32_t *who = calloc(E, sizeof *who);
    if (!es || !who) bench_die("out of memory");
    for (size_t t = j->from; t < j->to; t++) {
        uint64_t rng = 0x5eed0000ull + t;
        size_t a = t % A;
        chain_tx tx = {.type = CHAIN_TX_ATTRIBUTE,
                       .nonce = w->base_nonce[a] + t / A,
                       .gas_limit =
                           CHAIN_GAS_ATTRIBUTE + CHAIN_GAS_ATTRIBUTE_PER_ENTRY * E + w->vm_gas};
        chain_tx_attribute *b = &tx.body.attribute;
        b->model = w->model_of[a];
        b->fee = FEE;
        b->method = CHAIN_ATTR_GRADIENT;
        util_put_u64le(b->output_hash, t);
        /* E distinct contributions: random picks, repeats drawn again. */
        size_t n = 0;
        while (n < E) {
            size_t k = (size_t)(splitmix(&rng) % K);
            int dup = 0;
            for (size_t q = 0; q < n; q++)
                dup |= es[q].contribution == w->contrib_id[k];
            if (dup) continue;
            es[n].contribution = w->contrib_id[k];
            es[n].weight = 1 + splitmix(&rng) % 1000;
            who[n] = w->contrib_owner[k];
            n++;
        }
        b->nentries = (uint32_t)E;
        b->entries = malloc(E * sizeof *es);
        if (!b->entries) bench_die("out of memory");
        memcpy(b->entries, es, E * sizeof *es);
        j->hex[t] = sign_hex(&tx, w->chain_id, &w->att[a]);
        chain_tx_free(&tx);
        /* State keys: E contributions, the distinct contributors' totals and
         * accounts, the attestor's, the contract's, the proposer's and the
         * owner's accounts, the model, the record and the record counter. */
        uint32_t distinct = 0;
        for (size_t q = 0; q < E; q++) {
            int seen = 0;
            for (size_t r = 0; r < q; r++)
                seen |= who[r] == who[q];
            distinct += !seen;
        }
        j->keys[t] = (uint32_t)E + 2 * distinct + 4 + 3;
    }
    free(es);
    free(who);
    return NULL;
}

typedef struct submit_ctx {
    const opts *o;
    const util_buf *bodies;
    size_t nbatches;
    atomic_size_t next, rejected, shown;
} submit_ctx;

static void *submit_loop(void *arg)
{
    submit_ctx *c = arg;
    for (;;) {
        size_t b = atomic_fetch_add(&c->next, 1);
        if (b >= c->nbatches) return NULL;
        size_t cnt = (b + 1) * c->o->batch <= c->o->txs ? c->o->batch : c->o->txs - b * c->o->batch;
        atomic_fetch_add(&c->rejected, bench_post_batch(c->o->rpc, (const char *)c->bodies[b].data,
                                                        c->bodies[b].len, cnt, &c->shown));
    }
}

int main(int argc, char **argv)
{
    bench_prog = "bench_attribution";
    opts o;
    parse_opts(&o, argc, argv);
    size_t N = o.txs, A = o.attestors, C = o.contributors, K = o.contributions;
    if ((N + A - 1) / A > 4096)
        bench_note(
            "warning: %zu records per attestor exceed the node's nonce window (4096); use more "
            "--attestors",
            (N + A - 1) / A);
    world w;
    memset(&w, 0, sizeof w);
    json_t *st = bench_call(o.rpc, "node_status", NULL, 0);
    const char *cid = json_string_value(json_object_get(st, "chainId"));
    if (!cid || !chain_id_valid(cid)) bench_die("node_status has no valid chainId");
    snprintf(w.chain_id, sizeof w.chain_id, "%s", cid);
    const char *gh = json_string_value(json_object_get(st, "genesisHash"));
    if (!gh || util_hex_decode_exact(g_genesis_hash, 32, gh))
        bench_die("node_status has no valid genesisHash");
    json_decref(st);
    w.att = calloc(A, sizeof *w.att);
    w.att_addr = calloc(A, sizeof *w.att_addr);
    w.con = calloc(C, sizeof *w.con);
    w.con_addr = calloc(C, sizeof *w.con_addr);
    w.contrib_id = calloc(K, sizeof *w.contrib_id);
    w.contrib_owner = calloc(K, sizeof *w.contrib_owner);
    w.model_of = calloc(A, sizeof *w.model_of);
    w.base_nonce = calloc(A, sizeof *w.base_nonce);
    char **hex = calloc(N, sizeof *hex);
    uint32_t *keys = calloc(N, sizeof *keys);
    if (!w.att || !w.att_addr || !w.con || !w.con_addr || !w.contrib_id || !w.contrib_owner ||
        !w.model_of || !w.base_nonce || !hex || !keys)
        bench_die("out of memory");
    for (size_t a = 0; a < A; a++) {
        if (chain_keypair_dev(&w.att[a], ATTESTOR_KEY_BASE + (uint32_t)a)) bench_die("no key");
        chain_addr_from_pubkey(&w.att_addr[a], w.att[a].pubkey);
    }
    for (size_t c = 0; c < C; c++) {
        if (chain_keypair_dev(&w.con[c], CONTRIB_KEY_BASE + (uint32_t)c)) bench_die("no key");
        chain_addr_from_pubkey(&w.con_addr[c], w.con[c].pubkey);
    }
    uint64_t t_setup = util_mono_ns();
    setup(&o, &w);
    bench_note("setup done in %.1f s", (double)(util_mono_ns() - t_setup) / 1e9);

    uint64_t t_sign = util_mono_ns();
    pthread_t th[MAX_THREADS];
    sign_job jobs[MAX_THREADS];
    for (size_t i = 0; i < o.threads; i++) {
        jobs[i] = (sign_job){&o, &w, hex, keys, N * i / o.threads, N * (i + 1) / o.threads};
        if (pthread_create(&th[i], NULL, sign_range, &jobs[i])) bench_die("pthread_create failed");
    }
    for (size_t i = 0; i < o.threads; i++)
        pthread_join(th[i], NULL);
    size_t nb = (N + o.batch - 1) / o.batch;
    util_buf *bodies = calloc(nb, sizeof *bodies);
    if (!bodies) bench_die("out of memory");
    uint64_t key_sum = 0;
    for (size_t b = 0; b < nb; b++) {
        util_buf_init(&bodies[b]);
        for (size_t t = b * o.batch; t < N && t < (b + 1) * o.batch; t++) {
            bench_put_entry(&bodies[b], t, hex[t]);
            free(hex[t]);
            key_sum += keys[t];
        }
        util_buf_put(&bodies[b], "]", 1);
        if (bodies[b].oom) bench_die("out of memory");
    }
    bench_note("%zu records signed in %zu batches (%.1f s)", N, nb,
               (double)(util_mono_ns() - t_sign) / 1e9);

    uint64_t h0 = bench_status_u64(o.rpc, "height"), t0 = util_mono_ns();
    submit_ctx sc = {.o = &o, .bodies = bodies, .nbatches = nb};
    atomic_init(&sc.next, 0);
    atomic_init(&sc.rejected, 0);
    atomic_init(&sc.shown, 0);
    for (size_t i = 1; i < o.conns; i++)
        if (pthread_create(&th[i], NULL, submit_loop, &sc)) bench_die("pthread_create failed");
    submit_loop(&sc);
    for (size_t i = 1; i < o.conns; i++)
        pthread_join(th[i], NULL);
    uint64_t t_sent = util_mono_ns();
    uint64_t t1 = wait_drained(&o);
    size_t rejected = atomic_load(&sc.rejected);
    double secs = (double)(t1 - t0) / 1e9;
    bench_note("submitted in %.2f s, drained after %.2f s", (double)(t_sent - t0) / 1e9, secs);

    /* What the chain says it settled: the models' inference counters. */
    uint64_t h1 = bench_status_u64(o.rpc, "height");
    json_t *f = json_pack("{s:I}", "datanet", (json_int_t)w.datanet);
    json_t *ms = all_items(&o, "model_list", f);
    json_decref(f);
    size_t committed = 0, i;
    json_t *it;
    json_array_foreach(ms, i, it) committed +=
        (size_t)json_integer_value(json_object_get(it, "inferences"));
    json_decref(ms);
    for (size_t b = 0; b < nb; b++)
        util_buf_free(&bodies[b]);
    free(bodies);
    free(hex);
    free(keys);
    /* Index entries each record writes: by model, by contribution (E),
     * payouts by recipient (validator + E contributors + owner), the
     * sender's txs-by-address. The series and rankings (E, e, F, f, T, U, V
     * in chain/state/dbkey.h) are not counted: a block writes them once per
     * recipient or model it touches, whatever its number of records. */
    size_t index_entries = 1 + o.entries + (o.entries + 2) + 1;
    printf("attribution: committed_per_s=%.0f txs=%zu submitted=%zu rejected=%zu blocks=%" PRIu64
           " seconds=%.3f entries=%zu state_keys_per_tx=%.1f index_entries_per_tx=%zu\n",
           (double)committed / secs, committed, N, rejected, h1 - h0, secs, o.entries,
           (double)key_sum / (double)N, index_entries);
    for (size_t a = 0; a < A; a++)
        chain_keypair_clear(&w.att[a]);
    for (size_t c = 0; c < C; c++)
        chain_keypair_clear(&w.con[c]);
    chain_keypair_clear(&w.owner);
    free(w.att);
    free(w.att_addr);
    free(w.con);
    free(w.con_addr);
    free(w.contrib_id);
    free(w.contrib_owner);
    free(w.model_of);
    free(w.base_nonce);
    return committed + rejected == N ? 0 : 1;
}
