/* The genesis document: JSON parsing, every validation rule, and its
 * canonical hash (chain/types/genesis.h). */
#include "chain/types/genesis.h"

#include <errno.h>
#include <jansson.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/crypto/hash.h"
#include "util/bytes.h"
#include "util/hex.h"
#include "vm/vm.h"

/* Generated at configure time from genesis/devnet.json (see CMakeLists.txt). */
extern const unsigned char ol_devnet_genesis_json[];

/* Version byte at the start of the canonical encoding hashed into the genesis
 * hash, so a later schema can never hash to the same bytes as this one. */
#define GENESIS_ENCODING_VERSION 5
/* Bounds on params: below these a chain cannot carry a transfer or make progress. */
#define GENESIS_MIN_TX_BYTES 1024
#define GENESIS_NAME_MAX 63

static const char *const TOP_FIELDS[] = {"chainId", "genesisTime", "params", "validators",
                                         "alloc",   "contracts",   NULL};
static const char *const PARAM_FIELDS[] = {"blockGasLimit",        "blockMaxBytes",
                                           "txMaxBytes",           "minGasPrice",
                                           "timeoutProposeMs",     "timeoutProposeDeltaMs",
                                           "timeoutPrevoteMs",     "timeoutPrevoteDeltaMs",
                                           "timeoutPrecommitMs",   "timeoutPrecommitDeltaMs",
                                           "timeoutCommitMs",      "maxClockDriftMs",
                                           "outputIntervalBlocks", NULL};
static const char *const VAL_FIELDS[] = {"name", "pubkey", "power", NULL};
static const char *const ALLOC_FIELDS[] = {"address", "balance", NULL};
static const char *const CONTRACT_FIELDS[] = {"address", "code", NULL};

const char *chain_genesis_devnet_json(void)
{
    return (const char *)ol_devnet_genesis_json;
}

static int fail(util_err *err, const char *path, const char *what)
{
    return util_err_set(err, UTIL_EINVAL, "%s: %s", path, what);
}

/* Typos in field names must not be silently ignored: a misspelled param would
 * otherwise leave the chain running with a default nobody asked for. */
static int check_fields(json_t *obj, const char *prefix, const char *const *allowed, util_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return util_err_set(err, UTIL_EINVAL, "%s%s%.64s: unknown field", prefix,
                                *prefix ? "." : "", key);
    }
    return 0;
}

static json_t *need(json_t *obj, const char *key, const char *path, util_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) fail(err, path, "missing");
    return v;
}

/* Decimal string of a u64: digits only, no sign, no leading zeros, no overflow. */
static int parse_u64_str(json_t *v, uint64_t *out, const char *path, const char *what,
                         util_err *err)
{
    if (!json_is_string(v)) {
        char m[96];
        snprintf(m, sizeof m, "%s (must be a string of digits)", what);
        return fail(err, path, m);
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0')) return fail(err, path, what);
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return fail(err, path, what);
        if (__builtin_mul_overflow(acc, 10, &acc) ||
            __builtin_add_overflow(acc, (uint64_t)(s[i] - '0'), &acc))
            return fail(err, path, "out of range (max 18446744073709551615)");
    }
    *out = acc;
    return 0;
}

static int parse_u32_num(json_t *v, uint32_t lo, uint32_t hi, uint32_t *out, const char *path,
                         util_err *err)
{
    if (!json_is_integer(v)) return fail(err, path, "not an integer");
    json_int_t x = json_integer_value(v);
    if (x < (json_int_t)lo || x > (json_int_t)hi) {
        char m[96];
        snprintf(m, sizeof m, "out of range (%u..%u)", lo, hi);
        return fail(err, path, m);
    }
    *out = (uint32_t)x;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Exactly "YYYY-MM-DDTHH:MM:SSZ": one spelling per instant keeps documents
 * comparable by eye, and whole seconds avoid fractional parsing. */
static int parse_time(const char *s, size_t n, uint64_t *ms)
{
    int y, mo, d, h, mi, se;
    if (n != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != 'Z')
        return -1;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        se > 59)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    if (t < 0) return -1;
    *ms = (uint64_t)t * 1000u;
    return 0;
}

static int parse_params(chain_params *p, json_t *o, util_err *err)
{
    if (!json_is_object(o)) return fail(err, "params", "not an object");
    if (check_fields(o, "params", PARAM_FIELDS, err)) return UTIL_EINVAL;
    static const struct {
        const char *key;
        size_t off;
    } u64s[] = {
        {"blockGasLimit", offsetof(chain_params, block_gas_limit)},
        {"blockMaxBytes", offsetof(chain_params, block_max_bytes)},
        {"txMaxBytes", offsetof(chain_params, tx_max_bytes)},
        {"minGasPrice", offsetof(chain_params, min_gas_price)},
    };
    /* A step timeout of 0 would let a validator leave the step before any
     * message can arrive, round after round: it spins. A delta of 0 is
     * allowed (fixed timeouts); so is a commit wait of 0 (the next height
     * starts as soon as the block is stored). */
    static const struct {
        const char *key;
        size_t off;
        uint32_t lo;
    } u32s[] = {
        {"timeoutProposeMs", offsetof(chain_params, timeout_propose_ms), CHAIN_TIMEOUT_MIN_MS},
        {"timeoutProposeDeltaMs", offsetof(chain_params, timeout_propose_delta_ms), 0},
        {"timeoutPrevoteMs", offsetof(chain_params, timeout_prevote_ms), CHAIN_TIMEOUT_MIN_MS},
        {"timeoutPrevoteDeltaMs", offsetof(chain_params, timeout_prevote_delta_ms), 0},
        {"timeoutPrecommitMs", offsetof(chain_params, timeout_precommit_ms), CHAIN_TIMEOUT_MIN_MS},
        {"timeoutPrecommitDeltaMs", offsetof(chain_params, timeout_precommit_delta_ms), 0},
        {"timeoutCommitMs", offsetof(chain_params, timeout_commit_ms), 0},
        {"maxClockDriftMs", offsetof(chain_params, max_clock_drift_ms), 1},
        /* Every this many blocks the validators sign an output root for the
         * L1 (docs/rollup.md); 0 would never commit the chain to the L1. */
        {"outputIntervalBlocks", offsetof(chain_params, output_interval_blocks), 1},
    };
    char path[64];
    for (size_t i = 0; i < sizeof u64s / sizeof u64s[0]; i++) {
        snprintf(path, sizeof path, "params.%s", u64s[i].key);
        json_t *v = need(o, u64s[i].key, path, err);
        uint64_t x = 0;
        if (!v || parse_u64_str(v, &x, path, "not a decimal integer", err)) return UTIL_EINVAL;
        memcpy((char *)p + u64s[i].off, &x, sizeof x);
    }
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
        snprintf(path, sizeof path, "params.%s", u32s[i].key);
        json_t *v = need(o, u32s[i].key, path, err);
        uint32_t x = 0;
        if (!v || parse_u32_num(v, u32s[i].lo, CHAIN_TIMEOUT_MAX_MS, &x, path, err))
            return UTIL_EINVAL;
        memcpy((char *)p + u32s[i].off, &x, sizeof x);
    }
    if (p->block_gas_limit < CHAIN_GAS_TRANSFER)
        return util_err_set(err, UTIL_EINVAL,
                            "params.blockGasLimit: below the gas of one transfer (%u)",
                            CHAIN_GAS_TRANSFER);
    if (p->tx_max_bytes < GENESIS_MIN_TX_BYTES || p->tx_max_bytes > CHAIN_TX_MAX_SIZE)
        return util_err_set(err, UTIL_EINVAL, "params.txMaxBytes: out of range (%u..%u)",
                            (unsigned)GENESIS_MIN_TX_BYTES, (unsigned)CHAIN_TX_MAX_SIZE);
    if (p->block_max_bytes > CHAIN_BLOCK_MAX_SIZE)
        return util_err_set(err, UTIL_EINVAL,
                            "params.blockMaxBytes: above the block size limit (%u)",
                            CHAIN_BLOCK_MAX_SIZE);
    if (p->block_max_bytes < p->tx_max_bytes)
        return fail(err, "params.blockMaxBytes", "below params.txMaxBytes");
    return 0;
}

static int parse_validators(chain_genesis *g, json_t *a, util_err *err)
{
    if (!json_is_array(a)) return fail(err, "validators", "not an array");
    size_t n = json_array_size(a);
    if (n == 0) return fail(err, "validators", "empty (at least one validator is needed)");
    if (n > CHAIN_MAX_VALIDATORS)
        return util_err_set(err, UTIL_EINVAL, "validators: more than %d", CHAIN_MAX_VALIDATORS);
    g->vals = calloc(n, sizeof *g->vals);
    if (!g->vals) return util_err_set(err, UTIL_ENOMEM, "validators: out of memory");
    uint64_t total = 0;
    char pre[32], path[64];
    for (size_t i = 0; i < n; i++) {
        chain_validator *v = &g->vals[i];
        json_t *o = json_array_get(a, i);
        snprintf(pre, sizeof pre, "validators[%zu]", i);
        if (!json_is_object(o)) return fail(err, pre, "not an object");
        if (check_fields(o, pre, VAL_FIELDS, err)) return UTIL_EINVAL;

        snprintf(path, sizeof path, "%s.name", pre);
        json_t *x = need(o, "name", path, err);
        if (!x) return UTIL_EINVAL;
        if (!json_is_string(x)) return fail(err, path, "not a string");
        const char *name = json_string_value(x);
        size_t nl = json_string_length(x);
        if (nl == 0 || nl > GENESIS_NAME_MAX)
            return util_err_set(err, UTIL_EINVAL, "%s: must be 1..%d characters", path,
                                GENESIS_NAME_MAX);
        for (size_t k = 0; k < nl; k++)
            if (name[k] < 0x20 || name[k] > 0x7e) return fail(err, path, "must be printable ASCII");
        memcpy(v->name, name, nl + 1);

        snprintf(path, sizeof path, "%s.pubkey", pre);
        if (!(x = need(o, "pubkey", path, err))) return UTIL_EINVAL;
        secp256k1_xonly_pubkey xo;
        if (!json_is_string(x) || util_hex_decode_exact(v->pubkey, 32, json_string_value(x)))
            return fail(err, path, "not 32 bytes of hex");
        if (!secp256k1_xonly_pubkey_parse(secp256k1_context_static, &xo, v->pubkey))
            return fail(err, path, "not a valid x-only public key");
        for (size_t k = 0; k < i; k++)
            if (memcmp(g->vals[k].pubkey, v->pubkey, 32) == 0)
                return util_err_set(err, UTIL_EINVAL, "%s: duplicate of validators[%zu]", path, k);
        chain_addr_from_pubkey(&v->addr, v->pubkey);

        snprintf(path, sizeof path, "%s.power", pre);
        if (!(x = need(o, "power", path, err))) return UTIL_EINVAL;
        if (!json_is_integer(x)) return fail(err, path, "not an integer");
        if (json_integer_value(x) < 1) return fail(err, path, "must be at least 1");
        v->power = (uint64_t)json_integer_value(x);
        if (__builtin_add_overflow(total, v->power, &total))
            return fail(err, path, "total voting power overflows u64");
        g->nval = i + 1;
    }
    return 0;
}

typedef struct addr_ix {
    chain_addr a;
    size_t i;
} addr_ix;

static int cmp_addr_ix(const void *x, const void *y)
{
    const addr_ix *a = x, *b = y;
    int c = memcmp(a->a.b, b->a.b, CHAIN_ADDR_LEN);
    if (c) return c;
    return a->i < b->i ? -1 : a->i > b->i;
}

static int parse_alloc(chain_genesis *g, json_t *a, util_err *err)
{
    if (!json_is_array(a)) return fail(err, "alloc", "not an array");
    size_t n = json_array_size(a);
    if (n > CHAIN_GENESIS_MAX_ALLOC)
        return util_err_set(err, UTIL_EINVAL, "alloc: more than %d entries",
                            CHAIN_GENESIS_MAX_ALLOC);
    if (n == 0) return 0;
    g->alloc = calloc(n, sizeof *g->alloc);
    if (!g->alloc) return util_err_set(err, UTIL_ENOMEM, "alloc: out of memory");
    uint64_t total = 0;
    char pre[32], path[64];
    for (size_t i = 0; i < n; i++) {
        chain_alloc *e = &g->alloc[i];
        json_t *o = json_array_get(a, i);
        snprintf(pre, sizeof pre, "alloc[%zu]", i);
        if (!json_is_object(o)) return fail(err, pre, "not an object");
        if (check_fields(o, pre, ALLOC_FIELDS, err)) return UTIL_EINVAL;

        snprintf(path, sizeof path, "%s.address", pre);
        json_t *x = need(o, "address", path, err);
        if (!x) return UTIL_EINVAL;
        if (!json_is_string(x)) return fail(err, path, "not a string");
        util_err aerr = {0};
        if (chain_addr_decode(&e->addr, json_string_value(x), &aerr))
            return fail(err, path, aerr.msg);

        snprintf(path, sizeof path, "%s.balance", pre);
        if (!(x = need(o, "balance", path, err))) return UTIL_EINVAL;
        if (parse_u64_str(x, &e->balance, path, "not a decimal amount", err)) return UTIL_EINVAL;
        /* A zero allocation would make "account exists with 0" and "no
         * account" two states for the same thing. */
        if (e->balance == 0) return fail(err, path, "must be positive");
        if (__builtin_add_overflow(total, e->balance, &total))
            return fail(err, path, "total supply overflows u64");
        if (total > CHAIN_GENESIS_MAX_SUPPLY) {
            char why[160];
            snprintf(why, sizeof why,
                     "total supply above %llu base units (the bridge may lock up to "
                     "10^19 more, and every balance must stay within u64)",
                     (unsigned long long)CHAIN_GENESIS_MAX_SUPPLY);
            return fail(err, path, why);
        }
        g->nalloc = i + 1;
    }
    /* Sorting a copy finds duplicates in n log n even at the 100k limit. */
    addr_ix *s = malloc(n * sizeof *s);
    if (!s) return util_err_set(err, UTIL_ENOMEM, "alloc: out of memory");
    for (size_t i = 0; i < n; i++) {
        s[i].a = g->alloc[i].addr;
        s[i].i = i;
    }
    qsort(s, n, sizeof *s, cmp_addr_ix);
    size_t dup = n, first = 0, g0 = 0;
    for (size_t i = 1; i < n; i++) {
        if (memcmp(s[i].a.b, s[i - 1].a.b, CHAIN_ADDR_LEN) != 0)
            g0 = i;
        else if (i == g0 + 1 && s[i].i < dup) {
            /* Within a group the first entry is the first occurrence and the
             * second the earliest repeat; report the earliest repeat overall. */
            dup = s[i].i;
            first = s[g0].i;
        }
    }
    free(s);
    if (dup != n)
        return util_err_set(err, UTIL_EINVAL, "alloc[%zu].address: duplicate of alloc[%zu]", dup,
                            first);
    return 0;
}

/* Contracts installed at genesis. Few and small, so duplicates are found by
 * comparing every pair. A contract may also have an alloc entry: that is its
 * starting balance. */
static int parse_contracts(chain_genesis *g, json_t *a, util_err *err)
{
    if (!json_is_array(a)) return fail(err, "contracts", "not an array");
    size_t n = json_array_size(a);
    if (n > CHAIN_GENESIS_MAX_CONTRACTS)
        return util_err_set(err, UTIL_EINVAL, "contracts: more than %d entries",
                            CHAIN_GENESIS_MAX_CONTRACTS);
    if (n == 0) return 0;
    g->contracts = calloc(n, sizeof *g->contracts);
    if (!g->contracts) return util_err_set(err, UTIL_ENOMEM, "contracts: out of memory");
    char pre[32], path[64];
    for (size_t i = 0; i < n; i++) {
        chain_genesis_contract *c = &g->contracts[i];
        json_t *o = json_array_get(a, i);
        snprintf(pre, sizeof pre, "contracts[%zu]", i);
        if (!json_is_object(o)) return fail(err, pre, "not an object");
        if (check_fields(o, pre, CONTRACT_FIELDS, err)) return UTIL_EINVAL;

        snprintf(path, sizeof path, "%s.address", pre);
        json_t *x = need(o, "address", path, err);
        if (!x) return UTIL_EINVAL;
        if (!json_is_string(x)) return fail(err, path, "not a string");
        util_err aerr = {0};
        if (chain_addr_decode(&c->addr, json_string_value(x), &aerr))
            return fail(err, path, aerr.msg);
        for (size_t k = 0; k < i; k++)
            if (memcmp(g->contracts[k].addr.b, c->addr.b, CHAIN_ADDR_LEN) == 0)
                return util_err_set(err, UTIL_EINVAL, "%s: duplicate of contracts[%zu]", path, k);

        snprintf(path, sizeof path, "%s.code", pre);
        if (!(x = need(o, "code", path, err))) return UTIL_EINVAL;
        if (!json_is_string(x)) return fail(err, path, "not a string");
        const char *hex = json_string_value(x);
        size_t hl = json_string_length(x);
        if (hl >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hl -= 2;
        if (hl == 0) return fail(err, path, "empty");
        if (hl > 2 * (size_t)CHAIN_CODE_MAX)
            return util_err_set(err, UTIL_EINVAL, "%s: larger than %d bytes", path, CHAIN_CODE_MAX);
        uint8_t *code = NULL;
        size_t len = 0;
        if (util_hex_decode_alloc(hex, CHAIN_CODE_MAX, &code, &len))
            return fail(err, path, "not hex (an even number of hex digits, optional 0x)");
        c->code = code;
        c->len = (uint32_t)len;
        g->ncontracts = i + 1;
        vm_program *prog = NULL;
        util_err verr = {0};
        int rc = vm_verify(code, len, &prog, NULL, &verr);
        vm_program_free(prog);
        if (rc == UTIL_ENOMEM) return util_err_set(err, rc, "%s: out of memory", path);
        if (rc) return util_err_set(err, UTIL_EINVAL, "%s: invalid code: %s", path, verr.msg);
    }
    return 0;
}

void chain_validators_hash(const chain_validator *v, size_t n, uint8_t out[32])
{
    chain_sha256_ctx c;
    uint8_t b[UTIL_VARINT_MAX + 1];
    /* Allocation failure of a digest context leaves nothing sensible to return. */
    if (chain_sha256_begin(&c)) abort();
    b[0] = CHAIN_TAG_VALSET;
    size_t l = util_varint_put(b + 1, n);
    chain_sha256_update(&c, b, l + 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t p[8];
        util_put_u64le(p, v[i].power);
        chain_sha256_update(&c, v[i].pubkey, 32);
        chain_sha256_update(&c, p, 8);
    }
    chain_sha256_final(&c, out);
    chain_sha256_free(&c);
}

void chain_params_write(const chain_params *p, util_buf *out)
{
    util_buf_u64(out, p->block_gas_limit);
    util_buf_u64(out, p->block_max_bytes);
    util_buf_u64(out, p->tx_max_bytes);
    util_buf_u64(out, p->min_gas_price);
    util_buf_u32(out, p->timeout_propose_ms);
    util_buf_u32(out, p->timeout_propose_delta_ms);
    util_buf_u32(out, p->timeout_prevote_ms);
    util_buf_u32(out, p->timeout_prevote_delta_ms);
    util_buf_u32(out, p->timeout_precommit_ms);
    util_buf_u32(out, p->timeout_precommit_delta_ms);
    util_buf_u32(out, p->timeout_commit_ms);
    util_buf_u32(out, p->max_clock_drift_ms);
    util_buf_u32(out, p->output_interval_blocks);
}

void chain_params_hash(const chain_params *p, uint8_t out[32])
{
    util_buf b;
    util_buf_init(&b);
    util_buf_u8(&b, CHAIN_PARAMS_ENCODING_VERSION);
    chain_params_write(p, &b);
    /* 69 bytes: failing to allocate them leaves no hash to return. */
    if (b.oom) abort();
    chain_hash_tagged(out, CHAIN_TAG_PARAMS, b.data, b.len);
    util_buf_free(&b);
}

void chain_header_fill_sets(chain_header *h, const chain_genesis *g)
{
    memcpy(h->validators_hash, g->validators_hash, 32);
    memcpy(h->next_validators_hash, g->validators_hash, 32);
    memcpy(h->consensus_params_hash, g->params_hash, 32);
}

/* The canonical encoding, documented in docs/genesis.md. */
static int genesis_hash(chain_genesis *g, util_err *err)
{
    util_buf b;
    util_buf_init(&b);
    util_buf_u8(&b, CHAIN_TAG_GENESIS);
    util_buf_u8(&b, GENESIS_ENCODING_VERSION);
    util_buf_lenbytes(&b, g->chain_id, strlen(g->chain_id));
    util_buf_u64(&b, g->genesis_time_ms);
    chain_params_write(&g->params, &b);
    util_buf_varint(&b, g->nval);
    for (size_t i = 0; i < g->nval; i++) {
        util_buf_lenbytes(&b, g->vals[i].name, strlen(g->vals[i].name));
        util_buf_put(&b, g->vals[i].pubkey, 32);
        util_buf_u64(&b, g->vals[i].power);
    }
    util_buf_varint(&b, g->nalloc);
    for (size_t i = 0; i < g->nalloc; i++) {
        util_buf_put(&b, g->alloc[i].addr.b, CHAIN_ADDR_LEN);
        util_buf_u64(&b, g->alloc[i].balance);
    }
    util_buf_varint(&b, g->ncontracts);
    for (size_t i = 0; i < g->ncontracts; i++) {
        util_buf_put(&b, g->contracts[i].addr.b, CHAIN_ADDR_LEN);
        util_buf_lenbytes(&b, g->contracts[i].code, g->contracts[i].len);
    }
    if (b.oom) {
        util_buf_free(&b);
        return util_err_set(err, UTIL_ENOMEM, "genesis: out of memory");
    }
    chain_sha256(g->hash, b.data, b.len);
    util_buf_free(&b);
    return 0;
}

static int parse_doc(chain_genesis *g, json_t *root, util_err *err)
{
    if (!json_is_object(root)) return util_err_set(err, UTIL_EINVAL, "genesis: not a JSON object");
    if (check_fields(root, "", TOP_FIELDS, err)) return UTIL_EINVAL;

    json_t *x = need(root, "chainId", "chainId", err);
    if (!x) return UTIL_EINVAL;
    if (!json_is_string(x)) return fail(err, "chainId", "not a string");
    const char *id = json_string_value(x);
    if (json_string_length(x) > CHAIN_ID_MAX || !chain_id_valid(id))
        return fail(err, "chainId", "must be 1..32 characters of [a-z0-9-]");
    memcpy(g->chain_id, id, strlen(id) + 1);

    if (!(x = need(root, "genesisTime", "genesisTime", err))) return UTIL_EINVAL;
    if (!json_is_string(x) ||
        parse_time(json_string_value(x), json_string_length(x), &g->genesis_time_ms))
        return fail(err, "genesisTime", "not a valid UTC time of the form YYYY-MM-DDTHH:MM:SSZ");

    if (!(x = need(root, "params", "params", err))) return UTIL_EINVAL;
    if (parse_params(&g->params, x, err)) return UTIL_EINVAL;
    if (!(x = need(root, "validators", "validators", err))) return UTIL_EINVAL;
    int rc = parse_validators(g, x, err);
    if (rc) return rc;
    if (!(x = need(root, "alloc", "alloc", err))) return UTIL_EINVAL;
    if ((rc = parse_alloc(g, x, err))) return rc;
    /* Optional: a chain without contracts needs no empty array. */
    if ((x = json_object_get(root, "contracts")) && (rc = parse_contracts(g, x, err))) return rc;

    chain_validators_hash(g->vals, g->nval, g->validators_hash);
    chain_params_hash(&g->params, g->params_hash);
    return genesis_hash(g, err);
}

int chain_genesis_parse(chain_genesis *g, const char *json, size_t len, util_err *err)
{
    memset(g, 0, sizeof *g);
    if (len > CHAIN_GENESIS_MAX_BYTES)
        return util_err_set(err, UTIL_ELIMIT, "genesis: larger than %u bytes",
                            CHAIN_GENESIS_MAX_BYTES);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root)
        return util_err_set(err, UTIL_EINVAL, "genesis: not valid JSON (line %d, column %d): %s",
                            je.line, je.column, je.text);
    int rc = parse_doc(g, root, err);
    json_decref(root);
    if (rc) chain_genesis_free(g);
    return rc;
}

int chain_genesis_load_file(chain_genesis *g, const char *path, util_err *err)
{
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "rb");
    if (!f) return util_err_set(err, UTIL_EIO, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            /* One byte past the limit is enough to tell that the file is too big. */
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > CHAIN_GENESIS_MAX_BYTES + 1) ncap = CHAIN_GENESIS_MAX_BYTES + 1;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = util_err_set(err, UTIL_ENOMEM, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (len > CHAIN_GENESIS_MAX_BYTES) {
            rc = util_err_set(err, UTIL_ELIMIT, "%s: larger than %u bytes", path,
                              CHAIN_GENESIS_MAX_BYTES);
            break;
        }
        if (r == 0) {
            if (ferror(f)) rc = util_err_set(err, UTIL_EIO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (rc == 0) {
        rc = chain_genesis_parse(g, buf, len, err);
        if (rc) util_err_prefix(err, "%s: ", path);
    }
    free(buf);
    return rc;
}

void chain_genesis_free(chain_genesis *g)
{
    if (!g) return;
    free(g->vals);
    free(g->alloc);
    for (size_t i = 0; i < g->ncontracts; i++)
        free(g->contracts[i].code);
    free(g->contracts);
    g->vals = NULL;
    g->alloc = NULL;
    g->contracts = NULL;
    g->nval = 0;
    g->nalloc = 0;
    g->ncontracts = 0;
}
