/* The typed parsers of rollup/l1/client.h: L1 answers (blocks, logs,
 * receipts, fee history) into C structs. Pure and strict, since the L1
 * endpoint is outside input: every field is type- and length-checked, and
 * quantities must be canonical. Fuzzed by tests/fuzz/fuzz_l1_parse.c. */
#include "rollup/l1/client.h"

#include <stdlib.h>
#include <string.h>

/* Biggest arrays accepted in a fee history (nodes cap blockCount at 1024). */
#define FEE_HISTORY_MAX 1024
/* Most blob hashes accepted in one transaction. Osaka allows 6 and no fork
 * so far more than 9; the bound only keeps a hostile answer from making us
 * allocate without limit. */
#define BLOB_HASHES_MAX 16

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* The hex digits after "0x", or NULL. */
static const char *hex_body(json_t *v, size_t *len)
{
    const char *s = json_string_value(v);
    if (!s) return NULL;
    size_t l = json_string_length(v);
    if (l < 2 || s[0] != '0' || s[1] != 'x' || strlen(s) != l) return NULL;
    *len = l - 2;
    return s + 2;
}

static int decode(uint8_t *out, const char *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
        if (a < 0 || b < 0) return -1;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return 0;
}

int rollup_l1_parse_u64(json_t *v, uint64_t *out, const char *what, util_err *err)
{
    size_t l;
    const char *h = hex_body(v, &l);
    /* Canonical: "0x0", or no leading zero; at most 16 digits. */
    if (!h || l == 0 || l > 16 || (l > 1 && h[0] == '0'))
        return util_err_set(err, UTIL_EINVAL, "L1 answer: %s is not a canonical 64-bit quantity",
                            what);
    uint64_t x = 0;
    for (size_t i = 0; i < l; i++) {
        int d = hexval(h[i]);
        if (d < 0)
            return util_err_set(err, UTIL_EINVAL, "L1 answer: %s is not a hex quantity", what);
        x = x << 4 | (uint64_t)d;
    }
    *out = x;
    return 0;
}

static int parse_u32(json_t *v, uint32_t *out, const char *what, util_err *err)
{
    uint64_t x;
    int rc = rollup_l1_parse_u64(v, &x, what, err);
    if (rc) return rc;
    if (x > UINT32_MAX) return util_err_set(err, UTIL_EINVAL, "L1 answer: %s is too large", what);
    *out = (uint32_t)x;
    return 0;
}

int rollup_l1_parse_fixed(json_t *v, uint8_t *out, size_t n, const char *what, util_err *err)
{
    size_t l;
    const char *h = hex_body(v, &l);
    if (!h || l != 2 * n)
        return util_err_set(err, UTIL_EINVAL, "L1 answer: %s is not 0x and %zu hex digits", what,
                            2 * n);
    uint8_t tmp[64];
    uint8_t *dst = n <= sizeof tmp ? tmp : out;
    if (decode(dst, h, n)) return util_err_set(err, UTIL_EINVAL, "L1 answer: %s is not hex", what);
    if (dst == tmp) memcpy(out, tmp, n);
    return 0;
}

int rollup_l1_parse_data(json_t *v, size_t max, uint8_t **out, size_t *n, const char *what,
                         util_err *err)
{
    size_t l;
    const char *h = hex_body(v, &l);
    if (!h || l % 2)
        return util_err_set(err, UTIL_EINVAL, "L1 answer: %s is not 0x hex data", what);
    if (l / 2 > max)
        return util_err_set(err, UTIL_EINVAL, "L1 answer: %s is longer than %zu bytes", what, max);
    if (l == 0) {
        *out = NULL;
        *n = 0;
        return 0;
    }
    uint8_t *b = malloc(l / 2);
    if (!b) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    if (decode(b, h, l / 2)) {
        free(b);
        return util_err_set(err, UTIL_EINVAL, "L1 answer: %s is not hex", what);
    }
    *out = b;
    *n = l / 2;
    return 0;
}

static json_t *field(json_t *o, const char *k)
{
    return json_object_get(o, k);
}

void rollup_l1_block_free(rollup_l1_block *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->ntx; i++) {
        free(b->txs[i].input);
        free(b->txs[i].blob_hashes);
    }
    free(b->txs);
    b->txs = NULL;
    b->ntx = 0;
}

/* "type" (absent: 0, as nodes before Berlin answer) and, for type 3, its
 * blobVersionedHashes: 1..BLOB_HASHES_MAX of them (EIP-4844 refuses a blob
 * transaction without blobs) and a blob transaction has a recipient. Another
 * type may say the field is null or empty but may not carry hashes, so that
 * a hash is never read from a transaction that cannot have blobs. */
static int parse_tx_type(json_t *t, rollup_l1_tx *out, util_err *err)
{
    json_t *ty = field(t, "type");
    uint64_t type = 0;
    int rc;
    if (ty && (rc = rollup_l1_parse_u64(ty, &type, "transaction type", err))) return rc;
    /* EIP-2718: a typed transaction's type is below 0x80. */
    if (type > 0x7f)
        return util_err_set(err, UTIL_EINVAL, "L1 answer: transaction type 0x%llx is not a type",
                            (unsigned long long)type);
    out->type = (uint8_t)type;
    json_t *bh = field(t, "blobVersionedHashes");
    size_t n = json_array_size(bh);
    if (type != 3) {
        if (bh && !json_is_null(bh) && !(json_is_array(bh) && n == 0))
            return util_err_set(err, UTIL_EINVAL,
                                "L1 answer: a type-%u transaction has blobVersionedHashes",
                                (unsigned)type);
        return 0;
    }
    if (!out->has_to)
        return util_err_set(err, UTIL_EINVAL, "L1 answer: blob transaction without recipient");
    if (!json_is_array(bh) || n == 0 || n > BLOB_HASHES_MAX)
        return util_err_set(err, UTIL_EINVAL,
                            "L1 answer: blobVersionedHashes is not an array of 1 to %d hashes",
                            BLOB_HASHES_MAX);
    out->blob_hashes = calloc(n, sizeof *out->blob_hashes);
    if (!out->blob_hashes) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    out->nblob_hashes = n;
    for (size_t i = 0; i < n; i++)
        if ((rc = rollup_l1_parse_fixed(json_array_get(bh, i), out->blob_hashes[i], 32,
                                        "blob versioned hash", err)))
            return rc;
    return 0;
}

static int parse_tx(json_t *t, size_t i, size_t max_input, rollup_l1_tx *out, util_err *err)
{
    if (!json_is_object(t))
        return util_err_set(err, UTIL_EINVAL, "L1 answer: transaction is not an object");
    int rc;
    if ((rc = rollup_l1_parse_fixed(field(t, "hash"), out->hash, 32, "transaction hash", err)) ||
        (rc = rollup_l1_parse_fixed(field(t, "from"), out->from.b, 20, "transaction from", err)) ||
        (rc = parse_u32(field(t, "transactionIndex"), &out->index, "transactionIndex", err)))
        return rc;
    if (out->index != i)
        return util_err_set(err, UTIL_EINVAL, "L1 answer: transaction %zu says it is at index %u",
                            i, out->index);
    json_t *to = field(t, "to");
    out->has_to = to && !json_is_null(to);
    if (out->has_to && (rc = rollup_l1_parse_fixed(to, out->to.b, 20, "transaction to", err)))
        return rc;
    if ((rc = parse_tx_type(t, out, err))) return rc;
    return rollup_l1_parse_data(field(t, "input"), max_input, &out->input, &out->input_len,
                                "transaction input", err);
}

int rollup_l1_parse_block(json_t *v, int full, size_t max_input, rollup_l1_block *out,
                          util_err *err)
{
    if (!json_is_object(v))
        return util_err_set(err, UTIL_EINVAL, "L1 answer: block is not an object");
    rollup_l1_block b = {0};
    int rc;
    if ((rc = rollup_l1_parse_u64(field(v, "number"), &b.number, "block number", err)) ||
        (rc = rollup_l1_parse_fixed(field(v, "hash"), b.hash, 32, "block hash", err)) ||
        (rc =
             rollup_l1_parse_fixed(field(v, "parentHash"), b.parent_hash, 32, "parentHash", err)) ||
        (rc = rollup_l1_parse_u64(field(v, "timestamp"), &b.timestamp, "timestamp", err)))
        return rc;
    json_t *bf = field(v, "baseFeePerGas");
    if (bf && (rc = rollup_l1_parse_u64(bf, &b.base_fee, "baseFeePerGas", err))) return rc;
    json_t *txs = field(v, "transactions");
    if (!json_is_array(txs))
        return util_err_set(err, UTIL_EINVAL, "L1 answer: block transactions is not an array");
    size_t n = json_array_size(txs);
    if (!full) {
        uint8_t h[32];
        for (size_t i = 0; i < n; i++)
            if ((rc =
                     rollup_l1_parse_fixed(json_array_get(txs, i), h, 32, "transaction hash", err)))
                return rc;
        *out = b;
        return 0;
    }
    if (n) {
        b.txs = calloc(n, sizeof *b.txs);
        if (!b.txs) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        rc = parse_tx(json_array_get(txs, i), i, max_input, &b.txs[i], err);
        if (rc) {
            b.ntx = i + 1; /* the failed one's buffers are NULL or its own */
            rollup_l1_block_free(&b);
            return rc;
        }
    }
    b.ntx = n;
    *out = b;
    return 0;
}

void rollup_l1_logs_free(rollup_l1_log *logs, size_t n)
{
    if (!logs) return;
    for (size_t i = 0; i < n; i++)
        free(logs[i].data);
    free(logs);
}

static int parse_log(json_t *o, size_t max_data, rollup_l1_log *l, util_err *err)
{
    if (!json_is_object(o))
        return util_err_set(err, UTIL_EINVAL, "L1 answer: log is not an object");
    int rc;
    if ((rc = rollup_l1_parse_fixed(field(o, "address"), l->address.b, 20, "log address", err)) ||
        (rc = rollup_l1_parse_u64(field(o, "blockNumber"), &l->block_number, "log blockNumber",
                                  err)) ||
        (rc = rollup_l1_parse_fixed(field(o, "blockHash"), l->block_hash, 32, "log blockHash",
                                    err)) ||
        (rc = rollup_l1_parse_fixed(field(o, "transactionHash"), l->tx_hash, 32,
                                    "log transactionHash", err)) ||
        (rc = parse_u32(field(o, "transactionIndex"), &l->tx_index, "log transactionIndex", err)) ||
        (rc = parse_u32(field(o, "logIndex"), &l->log_index, "logIndex", err)))
        return rc;
    json_t *topics = field(o, "topics");
    if (!json_is_array(topics) || json_array_size(topics) > ROLLUP_L1_MAX_TOPICS)
        return util_err_set(err, UTIL_EINVAL, "L1 answer: log topics is not an array of at most %d",
                            ROLLUP_L1_MAX_TOPICS);
    l->ntopics = json_array_size(topics);
    for (size_t i = 0; i < l->ntopics; i++)
        if ((rc = rollup_l1_parse_fixed(json_array_get(topics, i), l->topics[i], 32, "log topic",
                                        err)))
            return rc;
    json_t *removed = field(o, "removed");
    if (removed && !json_is_boolean(removed))
        return util_err_set(err, UTIL_EINVAL, "L1 answer: log removed is not a boolean");
    l->removed = json_is_true(removed);
    return rollup_l1_parse_data(field(o, "data"), max_data, &l->data, &l->data_len, "log data",
                                err);
}

int rollup_l1_parse_logs(json_t *v, size_t max_logs, size_t max_data, rollup_l1_log **out,
                         size_t *n, util_err *err)
{
    if (!json_is_array(v)) return util_err_set(err, UTIL_EINVAL, "L1 answer: logs is not an array");
    size_t cnt = json_array_size(v);
    if (cnt > max_logs)
        return util_err_set(err, UTIL_ELIMIT, "L1 answer: %zu logs, more than %zu", cnt, max_logs);
    rollup_l1_log *logs = NULL;
    if (cnt && !(logs = calloc(cnt, sizeof *logs)))
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        int rc = parse_log(json_array_get(v, i), max_data, &logs[i], err);
        if (rc) {
            rollup_l1_logs_free(logs, i + 1);
            return rc;
        }
    }
    *out = logs;
    *n = cnt;
    return 0;
}

int rollup_l1_parse_receipt(json_t *v, rollup_l1_receipt *out, util_err *err)
{
    if (!json_is_object(v))
        return util_err_set(err, UTIL_EINVAL, "L1 answer: receipt is not an object");
    rollup_l1_receipt r = {0};
    uint64_t status;
    int rc;
    if ((rc = rollup_l1_parse_fixed(field(v, "transactionHash"), r.tx_hash, 32,
                                    "receipt transactionHash", err)) ||
        (rc = rollup_l1_parse_u64(field(v, "status"), &status, "receipt status", err)) ||
        (rc = rollup_l1_parse_u64(field(v, "blockNumber"), &r.block_number, "receipt blockNumber",
                                  err)) ||
        (rc = rollup_l1_parse_fixed(field(v, "blockHash"), r.block_hash, 32, "receipt blockHash",
                                    err)) ||
        (rc = rollup_l1_parse_u64(field(v, "gasUsed"), &r.gas_used, "receipt gasUsed", err)) ||
        (rc = rollup_l1_parse_u64(field(v, "effectiveGasPrice"), &r.effective_gas_price,
                                  "receipt effectiveGasPrice", err)))
        return rc;
    if (status > 1)
        return util_err_set(err, UTIL_EINVAL, "L1 answer: receipt status is not 0 or 1");
    r.status = (int)status;
    /* Only blob transactions have these (absent: 0). */
    json_t *bg = field(v, "blobGasUsed"), *bp = field(v, "blobGasPrice");
    if ((bg && (rc = rollup_l1_parse_u64(bg, &r.blob_gas_used, "receipt blobGasUsed", err))) ||
        (bp && (rc = rollup_l1_parse_u64(bp, &r.blob_gas_price, "receipt blobGasPrice", err))))
        return rc;
    json_t *ca = field(v, "contractAddress");
    r.has_contract = ca && !json_is_null(ca);
    if (r.has_contract &&
        (rc = rollup_l1_parse_fixed(ca, r.contract_address.b, 20, "receipt contractAddress", err)))
        return rc;
    *out = r;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int rollup_l1_parse_fee_history(json_t *v, rollup_l1_fees *out, util_err *err)
{
    if (!json_is_object(v))
        return util_err_set(err, UTIL_EINVAL, "L1 answer: fee history is not an object");
    json_t *base = field(v, "baseFeePerGas");
    size_t nb = json_array_size(base);
    if (!json_is_array(base) || nb == 0 || nb > FEE_HISTORY_MAX + 1)
        return util_err_set(err, UTIL_EINVAL,
                            "L1 answer: fee history baseFeePerGas is not a "
                            "non-empty array of at most %d",
                            FEE_HISTORY_MAX + 1);
    uint64_t next_base = 0;
    int rc;
    for (size_t i = 0; i < nb; i++) {
        uint64_t x;
        if ((rc = rollup_l1_parse_u64(json_array_get(base, i), &x, "fee history baseFeePerGas",
                                      err)))
            return rc;
        next_base = x; /* the last entry is the next block's */
    }
    json_t *reward = field(v, "reward");
    uint64_t tips[FEE_HISTORY_MAX];
    size_t ntips = 0;
    if (reward) {
        if (!json_is_array(reward) || json_array_size(reward) != nb - 1)
            return util_err_set(
                err, UTIL_EINVAL,
                "L1 answer: fee history reward is not an array of one entry per block");
        for (size_t i = 0; i < nb - 1; i++) {
            json_t *r = json_array_get(reward, i);
            if (!json_is_array(r) || json_array_size(r) == 0)
                return util_err_set(err, UTIL_EINVAL,
                                    "L1 answer: fee history reward entry is not a non-empty array");
            uint64_t x;
            if ((rc = rollup_l1_parse_u64(json_array_get(r, 0), &x, "fee history reward", err)))
                return rc;
            /* Empty blocks report 0: they say nothing about the going tip. */
            if (x) tips[ntips++] = x;
        }
    }
    uint64_t tip = 1;
    if (ntips) {
        qsort(tips, ntips, sizeof tips[0], cmp_u64);
        tip = tips[(ntips - 1) / 2];
    }
    out->next_base_fee = next_base;
    out->tip = tip;
    return 0;
}
