/* Bodies of the attribution, contract and bridge transaction types: canonical
 * encoding, decoding with stateless validation, deep copy and free. Layouts
 * are in chain/types/tx.h; rules and messages in docs/transactions.md. */
#include <stdlib.h>
#include <string.h>

#include "chain/types/tx_internal.h"

#define ENTRY_SIZE 16 /* contribution u64 | weight u64 */
/* l1_block u64 | l1_block_hash[32] | l1_tx_hash[32] | log_index u32 |
 * l1_from[20] | to[20] | amount u64 */
#define DEPOSIT_SIZE (8 + 32 + 32 + 4 + 20 + CHAIN_ADDR_LEN + 8)

/* ---- rules shared by the decoder and chain_tx_finalize ---- */

static int check_text(const uint8_t *p, size_t n, const char *what, uint8_t lo, int nonempty,
                      util_err *err)
{
    if (nonempty && n == 0) return util_err_set(err, UTIL_EINVAL, "transaction: %s is empty", what);
    for (size_t i = 0; i < n; i++)
        if (p[i] < lo || p[i] > 0x7e)
            return util_err_set(err, UTIL_EINVAL,
                                "transaction: %s has byte 0x%02x at position %zu (allowed "
                                "0x%02x..0x7e)",
                                what, p[i], i, lo);
    return 0;
}

static int too_long(const char *what, uint64_t n, size_t max, util_err *err)
{
    return util_err_set(err, UTIL_EINVAL, "transaction: %s too long (%llu bytes, at most %zu)",
                        what, (unsigned long long)n, max);
}

/* An owned body string (NULL is empty) of at most max bytes. */
static int check_str(const char *s, size_t max, const char *what, uint8_t lo, int nonempty,
                     util_err *err)
{
    size_t n = strnlen(chain_tx_str(s), max + 1);
    if (n > max) return too_long(what, n, max, err);
    return check_text((const uint8_t *)chain_tx_str(s), n, what, lo, nonempty, err);
}

static int check_name(const char *s, util_err *err)
{
    return check_str(s, CHAIN_NAME_MAX, "name", 0x20, 1, err);
}

static int check_uri(const char *s, const char *what, util_err *err)
{
    return check_str(s, CHAIN_URI_MAX, what, 0x21, 0, err);
}

static int check_flag(uint8_t v, const char *what, util_err *err)
{
    if (v > 1)
        return util_err_set(err, UTIL_EINVAL, "transaction: %s flag must be 0 or 1, got %u", what,
                            v);
    return 0;
}

static int check_review(const chain_tx_review *b, util_err *err)
{
    if (check_flag(b->accept, "accept", err)) return UTIL_EINVAL;
    if (b->accept && b->reason)
        return util_err_set(err, UTIL_EINVAL,
                            "transaction: an accepting review must have reason 0, got %u",
                            b->reason);
    return 0;
}

static int check_ndatanets(uint64_t n, util_err *err)
{
    if (n < 1 || n > CHAIN_MODEL_MAX_DATANETS)
        return util_err_set(err, UTIL_EINVAL, "transaction: a model needs 1..%d datanets, got %llu",
                            CHAIN_MODEL_MAX_DATANETS, (unsigned long long)n);
    return 0;
}

static int check_model(const chain_tx_model_register *b, util_err *err)
{
    for (uint32_t i = 1; i < b->ndatanets; i++)
        for (uint32_t j = 0; j < i; j++)
            if (b->datanets[i] == b->datanets[j])
                return util_err_set(err, UTIL_EINVAL, "transaction: duplicate datanet %llu",
                                    (unsigned long long)b->datanets[i]);
    uint32_t sum = (uint32_t)b->owner_bp + b->validators_bp + b->contributors_bp;
    if (sum != CHAIN_BP_TOTAL)
        return util_err_set(err, UTIL_EINVAL,
                            "transaction: split must sum to %d basis points, got %u",
                            CHAIN_BP_TOTAL, sum);
    return 0;
}

static int check_method(uint8_t m, util_err *err)
{
    if (m > CHAIN_ATTR_OTHER)
        return util_err_set(err, UTIL_EINVAL, "transaction: unknown attribution method %u (0..%d)",
                            m, CHAIN_ATTR_OTHER);
    return 0;
}

static int check_nentries(uint64_t n, util_err *err)
{
    if (n > CHAIN_ATTR_MAX_ENTRIES)
        return util_err_set(err, UTIL_EINVAL, "transaction: %llu attribution entries, at most %d",
                            (unsigned long long)n, CHAIN_ATTR_MAX_ENTRIES);
    return 0;
}

/* Quadratic, but n <= 256: at most 32640 comparisons, no allocation. */
static int check_entries(const chain_attr_entry *e, uint32_t n, util_err *err)
{
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = 0; j < i; j++)
            if (e[i].contribution == e[j].contribution)
                return util_err_set(err, UTIL_EINVAL,
                                    "transaction: duplicate entry for contribution %llu",
                                    (unsigned long long)e[i].contribution);
    return 0;
}

static int check_code_len(uint64_t n, util_err *err)
{
    if (n == 0) return util_err_set(err, UTIL_EINVAL, "transaction: contract code is empty");
    if (n > CHAIN_CODE_MAX)
        return util_err_set(err, UTIL_EINVAL,
                            "transaction: contract code too large (%llu bytes, at most %d)",
                            (unsigned long long)n, CHAIN_CODE_MAX);
    return 0;
}

static int check_input_len(uint64_t n, util_err *err)
{
    if (n > CHAIN_INPUT_MAX)
        return util_err_set(err, UTIL_EINVAL,
                            "transaction: call input too large (%llu bytes, at most %d)",
                            (unsigned long long)n, CHAIN_INPUT_MAX);
    return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static int check_amount(uint64_t amount, const char *what, util_err *err)
{
    if (amount == 0) return util_err_set(err, UTIL_EINVAL, "transaction: %s amount is zero", what);
    return 0;
}

static int check_withdraw(const chain_tx_withdraw *b, util_err *err)
{
    if (all_zero(b->l1_recipient, sizeof b->l1_recipient))
        return util_err_set(err, UTIL_EINVAL, "transaction: withdraw to the zero L1 address");
    return check_amount(b->amount, "withdraw", err);
}

int chain_tx_envelope_check(const chain_tx *tx, util_err *err)
{
    if (tx->type != CHAIN_TX_DEPOSIT) return 0;
    if (!all_zero(tx->sender, CHAIN_PUBKEY_LEN) || tx->gas_limit || tx->gas_price ||
        !all_zero(tx->sig, CHAIN_SIG_LEN))
        return util_err_set(err, UTIL_EINVAL,
                            "transaction: a deposit's sender key, gas limit, gas price and "
                            "signature must be zero (a system transaction)");
    return 0;
}

int chain_tx_body_check(const chain_tx *tx, util_err *err)
{
    switch (tx->type) {
    case CHAIN_TX_TRANSFER: return 0;
    case CHAIN_TX_DATANET_CREATE: {
        const chain_tx_datanet_create *b = &tx->body.datanet_create;
        if (check_name(b->name, err) || check_uri(b->meta_uri, "meta_uri", err) ||
            check_flag(b->review, "review", err))
            return UTIL_EINVAL;
        return 0;
    }
    case CHAIN_TX_CONTRIBUTE: return check_uri(tx->body.contribute.uri, "uri", err);
    case CHAIN_TX_REVIEW: return check_review(&tx->body.review, err);
    case CHAIN_TX_MODEL_REGISTER: {
        const chain_tx_model_register *b = &tx->body.model_register;
        if (check_name(b->name, err) || check_ndatanets(b->ndatanets, err)) return UTIL_EINVAL;
        if (!b->datanets)
            return util_err_set(err, UTIL_EINVAL, "transaction: %u datanets but no datanet array",
                                b->ndatanets);
        return check_model(b, err);
    }
    case CHAIN_TX_ATTRIBUTE: {
        const chain_tx_attribute *b = &tx->body.attribute;
        if (check_method(b->method, err) || check_nentries(b->nentries, err)) return UTIL_EINVAL;
        if (b->nentries && !b->entries)
            return util_err_set(err, UTIL_EINVAL, "transaction: %u entries but no entry array",
                                b->nentries);
        return check_entries(b->entries, b->nentries, err);
    }
    case CHAIN_TX_DEPLOY:
        if (check_code_len(tx->body.deploy.len, err)) return UTIL_EINVAL;
        if (!tx->body.deploy.code)
            return util_err_set(err, UTIL_EINVAL, "transaction: contract code missing");
        return 0;
    case CHAIN_TX_CALL:
        if (check_input_len(tx->body.call.len, err)) return UTIL_EINVAL;
        if (tx->body.call.len && !tx->body.call.input)
            return util_err_set(err, UTIL_EINVAL, "transaction: call input missing");
        return 0;
    case CHAIN_TX_DEPOSIT: return check_amount(tx->body.deposit.amount, "deposit", err);
    case CHAIN_TX_WITHDRAW: return check_withdraw(&tx->body.withdraw, err);
    default: return util_err_set(err, UTIL_EINVAL, "unsupported transaction type %u", tx->type);
    }
}

/* ---- encoding ---- */

static size_t lenbytes_len(size_t n)
{
    return util_varint_len(n) + n;
}

/* An array pointer that is NULL encodes as empty, whatever the count says. */
static uint32_t model_n(const chain_tx_model_register *b)
{
    if (!b->datanets) return 0;
    return b->ndatanets > CHAIN_MODEL_MAX_DATANETS ? CHAIN_MODEL_MAX_DATANETS : b->ndatanets;
}

/* Length of an owned string as encoded (NULL is empty; clamped like counts). */
static size_t str_n(const char *s, size_t max)
{
    return s ? strnlen(s, max) : 0;
}

static uint32_t attr_n(const chain_tx_attribute *b)
{
    return b->entries ? b->nentries : 0;
}

static uint32_t code_n(const chain_tx_deploy *b)
{
    return b->code ? b->len : 0;
}

static uint32_t input_n(const chain_tx_call *b)
{
    return b->input ? b->len : 0;
}

size_t chain_tx_body_len(const chain_tx *tx)
{
    switch (tx->type) {
    case CHAIN_TX_TRANSFER: return CHAIN_ADDR_LEN + 8;
    case CHAIN_TX_DATANET_CREATE: {
        const chain_tx_datanet_create *b = &tx->body.datanet_create;
        return lenbytes_len(str_n(b->name, CHAIN_NAME_MAX)) + 32 +
               lenbytes_len(str_n(b->meta_uri, CHAIN_URI_MAX)) + 8 + 1;
    }
    case CHAIN_TX_CONTRIBUTE:
        return 8 + 32 + 8 + lenbytes_len(str_n(tx->body.contribute.uri, CHAIN_URI_MAX));
    case CHAIN_TX_REVIEW: return 8 + 1 + 4;
    case CHAIN_TX_MODEL_REGISTER: {
        const chain_tx_model_register *b = &tx->body.model_register;
        uint32_t n = model_n(b);
        return lenbytes_len(str_n(b->name, CHAIN_NAME_MAX)) + util_varint_len(n) + 8 * (size_t)n +
               32 + CHAIN_ADDR_LEN + 3 * 2;
    }
    case CHAIN_TX_ATTRIBUTE: {
        uint32_t n = attr_n(&tx->body.attribute);
        return 8 + 32 + 8 + 1 + 32 + util_varint_len(n) + (size_t)ENTRY_SIZE * n;
    }
    case CHAIN_TX_DEPLOY: return lenbytes_len(code_n(&tx->body.deploy));
    case CHAIN_TX_CALL: return CHAIN_ADDR_LEN + 8 + lenbytes_len(input_n(&tx->body.call));
    case CHAIN_TX_DEPOSIT: return DEPOSIT_SIZE;
    case CHAIN_TX_WITHDRAW: return 20 + 8;
    default: return 0;
    }
}

void chain_tx_body_encode(const chain_tx *tx, util_buf *out)
{
    switch (tx->type) {
    case CHAIN_TX_TRANSFER:
        util_buf_put(out, tx->body.transfer.to.b, CHAIN_ADDR_LEN);
        util_buf_u64(out, tx->body.transfer.amount);
        break;
    case CHAIN_TX_DATANET_CREATE: {
        const chain_tx_datanet_create *b = &tx->body.datanet_create;
        util_buf_lenbytes(out, b->name, str_n(b->name, CHAIN_NAME_MAX));
        util_buf_put(out, b->meta_hash, 32);
        util_buf_lenbytes(out, b->meta_uri, str_n(b->meta_uri, CHAIN_URI_MAX));
        util_buf_u64(out, b->bond);
        util_buf_u8(out, b->review);
        break;
    }
    case CHAIN_TX_CONTRIBUTE: {
        const chain_tx_contribute *b = &tx->body.contribute;
        util_buf_u64(out, b->datanet);
        util_buf_put(out, b->content_hash, 32);
        util_buf_u64(out, b->size);
        util_buf_lenbytes(out, b->uri, str_n(b->uri, CHAIN_URI_MAX));
        break;
    }
    case CHAIN_TX_REVIEW:
        util_buf_u64(out, tx->body.review.contribution);
        util_buf_u8(out, tx->body.review.accept);
        util_buf_u32(out, tx->body.review.reason);
        break;
    case CHAIN_TX_MODEL_REGISTER: {
        const chain_tx_model_register *b = &tx->body.model_register;
        uint32_t n = model_n(b);
        util_buf_lenbytes(out, b->name, str_n(b->name, CHAIN_NAME_MAX));
        util_buf_varint(out, n);
        for (uint32_t i = 0; i < n; i++)
            util_buf_u64(out, b->datanets[i]);
        util_buf_put(out, b->attestor, 32);
        util_buf_put(out, b->reward_contract.b, CHAIN_ADDR_LEN);
        util_buf_u16(out, b->owner_bp);
        util_buf_u16(out, b->validators_bp);
        util_buf_u16(out, b->contributors_bp);
        break;
    }
    case CHAIN_TX_ATTRIBUTE: {
        const chain_tx_attribute *b = &tx->body.attribute;
        uint32_t n = attr_n(b);
        util_buf_u64(out, b->model);
        util_buf_put(out, b->output_hash, 32);
        util_buf_u64(out, b->fee);
        util_buf_u8(out, b->method);
        util_buf_put(out, b->evidence_hash, 32);
        util_buf_varint(out, n);
        for (uint32_t i = 0; i < n; i++) {
            util_buf_u64(out, b->entries[i].contribution);
            util_buf_u64(out, b->entries[i].weight);
        }
        break;
    }
    case CHAIN_TX_DEPLOY:
        util_buf_lenbytes(out, tx->body.deploy.code, code_n(&tx->body.deploy));
        break;
    case CHAIN_TX_CALL:
        util_buf_put(out, tx->body.call.contract.b, CHAIN_ADDR_LEN);
        util_buf_u64(out, tx->body.call.value);
        util_buf_lenbytes(out, tx->body.call.input, input_n(&tx->body.call));
        break;
    case CHAIN_TX_DEPOSIT: {
        const chain_tx_deposit *b = &tx->body.deposit;
        util_buf_u64(out, b->l1_block);
        util_buf_put(out, b->l1_block_hash, 32);
        util_buf_put(out, b->l1_tx_hash, 32);
        util_buf_u32(out, b->log_index);
        util_buf_put(out, b->l1_from, 20);
        util_buf_put(out, b->to.b, CHAIN_ADDR_LEN);
        util_buf_u64(out, b->amount);
        break;
    }
    case CHAIN_TX_WITHDRAW:
        util_buf_put(out, tx->body.withdraw.l1_recipient, 20);
        util_buf_u64(out, tx->body.withdraw.amount);
        break;
    default: break;
    }
}

/* ---- decoding ---- */

/* Reads lenbytes text into a fresh NUL-terminated allocation of its exact
 * size (NULL when empty), checked before anything is allocated. The length is
 * checked before the bytes are read, so an over-long length is reported as
 * such and not as truncation. */
static int read_text(util_rd *r, size_t start, char **dst, size_t max, const char *what, uint8_t lo,
                     int nonempty, util_err *err)
{
    uint64_t n;
    const uint8_t *p;
    if (util_rd_varint(r, &n, UINT64_MAX)) return chain_tx_rd_error(r, start, err);
    if (n > max) return too_long(what, n, max, err);
    if (util_rd_bytes(r, &p, (size_t)n)) return chain_tx_rd_error(r, start, err);
    if (check_text(p, (size_t)n, what, lo, nonempty, err)) return UTIL_EINVAL;
    *dst = NULL;
    if (n == 0) return 0;
    char *s = malloc((size_t)n + 1);
    if (!s) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    *dst = s;
    return 0;
}

static int read_name(util_rd *r, size_t start, char **dst, util_err *err)
{
    return read_text(r, start, dst, CHAIN_NAME_MAX, "name", 0x20, 1, err);
}

static int read_uri(util_rd *r, size_t start, char **dst, const char *what, util_err *err)
{
    return read_text(r, start, dst, CHAIN_URI_MAX, what, 0x21, 0, err);
}

static int read_datanet_create(chain_tx_datanet_create *b, util_rd *r, size_t start, util_err *err)
{
    int rc;
    if ((rc = read_name(r, start, &b->name, err))) return rc;
    if (util_rd_copy(r, b->meta_hash, 32)) return chain_tx_rd_error(r, start, err);
    if ((rc = read_uri(r, start, &b->meta_uri, "meta_uri", err))) return rc;
    if (util_rd_u64(r, &b->bond) || util_rd_u8(r, &b->review))
        return chain_tx_rd_error(r, start, err);
    return check_flag(b->review, "review", err);
}

static int read_contribute(chain_tx_contribute *b, util_rd *r, size_t start, util_err *err)
{
    if (util_rd_u64(r, &b->datanet) || util_rd_copy(r, b->content_hash, 32) ||
        util_rd_u64(r, &b->size))
        return chain_tx_rd_error(r, start, err);
    return read_uri(r, start, &b->uri, "uri", err);
}

static int read_review(chain_tx_review *b, util_rd *r, size_t start, util_err *err)
{
    if (util_rd_u64(r, &b->contribution) || util_rd_u8(r, &b->accept) || util_rd_u32(r, &b->reason))
        return chain_tx_rd_error(r, start, err);
    return check_review(b, err);
}

static int read_model(chain_tx_model_register *b, util_rd *r, size_t start, util_err *err)
{
    uint64_t n;
    const uint8_t *p;
    int rc;
    if ((rc = read_name(r, start, &b->name, err))) return rc;
    if (util_rd_varint(r, &n, UINT64_MAX)) return chain_tx_rd_error(r, start, err);
    if (check_ndatanets(n, err)) return UTIL_EINVAL;
    /* Borrow first: nothing is allocated for ids that are not there. */
    if (util_rd_bytes(r, &p, (size_t)n * 8)) return chain_tx_rd_error(r, start, err);
    b->datanets = malloc((size_t)n * sizeof *b->datanets);
    if (!b->datanets) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    b->ndatanets = (uint32_t)n;
    for (uint32_t i = 0; i < b->ndatanets; i++)
        b->datanets[i] = util_get_u64le(p + (size_t)i * 8);
    if (util_rd_copy(r, b->attestor, 32) || util_rd_copy(r, b->reward_contract.b, CHAIN_ADDR_LEN) ||
        util_rd_u16(r, &b->owner_bp) || util_rd_u16(r, &b->validators_bp) ||
        util_rd_u16(r, &b->contributors_bp))
        return chain_tx_rd_error(r, start, err);
    return check_model(b, err);
}

static int read_attribute(chain_tx_attribute *b, util_rd *r, size_t start, util_err *err)
{
    uint64_t n;
    const uint8_t *p;
    if (util_rd_u64(r, &b->model) || util_rd_copy(r, b->output_hash, 32) ||
        util_rd_u64(r, &b->fee) || util_rd_u8(r, &b->method))
        return chain_tx_rd_error(r, start, err);
    if (check_method(b->method, err)) return UTIL_EINVAL;
    if (util_rd_copy(r, b->evidence_hash, 32) || util_rd_varint(r, &n, UINT64_MAX))
        return chain_tx_rd_error(r, start, err);
    if (check_nentries(n, err)) return UTIL_EINVAL;
    /* Borrow first: nothing is allocated for entries that are not there. */
    if (util_rd_bytes(r, &p, (size_t)n * ENTRY_SIZE)) return chain_tx_rd_error(r, start, err);
    if (n == 0) return 0;
    chain_attr_entry *e = malloc((size_t)n * sizeof *e);
    if (!e) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        e[i].contribution = util_get_u64le(p + i * ENTRY_SIZE);
        e[i].weight = util_get_u64le(p + i * ENTRY_SIZE + 8);
    }
    if (check_entries(e, (uint32_t)n, err)) {
        free(e);
        return UTIL_EINVAL;
    }
    b->entries = e;
    b->nentries = (uint32_t)n;
    return 0;
}

/* Reads lenbytes into a fresh allocation (NULL when empty). */
static int read_blob(util_rd *r, size_t start, uint64_t n, uint8_t **out, util_err *err)
{
    const uint8_t *p;
    if (util_rd_bytes(r, &p, (size_t)n)) return chain_tx_rd_error(r, start, err);
    *out = NULL;
    if (n == 0) return 0;
    *out = malloc((size_t)n);
    if (!*out) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    memcpy(*out, p, (size_t)n);
    return 0;
}

static int read_deploy(chain_tx_deploy *b, util_rd *r, size_t start, util_err *err)
{
    uint64_t n;
    if (util_rd_varint(r, &n, UINT64_MAX)) return chain_tx_rd_error(r, start, err);
    if (check_code_len(n, err)) return UTIL_EINVAL;
    int rc = read_blob(r, start, n, &b->code, err);
    if (rc) return rc;
    b->len = (uint32_t)n;
    return 0;
}

static int read_call(chain_tx_call *b, util_rd *r, size_t start, util_err *err)
{
    uint64_t n;
    if (util_rd_copy(r, b->contract.b, CHAIN_ADDR_LEN) || util_rd_u64(r, &b->value) ||
        util_rd_varint(r, &n, UINT64_MAX))
        return chain_tx_rd_error(r, start, err);
    if (check_input_len(n, err)) return UTIL_EINVAL;
    int rc = read_blob(r, start, n, &b->input, err);
    if (rc) return rc;
    b->len = (uint32_t)n;
    return 0;
}

static int read_deposit(chain_tx_deposit *b, util_rd *r, size_t start, util_err *err)
{
    if (util_rd_u64(r, &b->l1_block) || util_rd_copy(r, b->l1_block_hash, 32) ||
        util_rd_copy(r, b->l1_tx_hash, 32) || util_rd_u32(r, &b->log_index) ||
        util_rd_copy(r, b->l1_from, 20) || util_rd_copy(r, b->to.b, CHAIN_ADDR_LEN) ||
        util_rd_u64(r, &b->amount))
        return chain_tx_rd_error(r, start, err);
    return check_amount(b->amount, "deposit", err);
}

static int read_withdraw(chain_tx_withdraw *b, util_rd *r, size_t start, util_err *err)
{
    if (util_rd_copy(r, b->l1_recipient, 20) || util_rd_u64(r, &b->amount))
        return chain_tx_rd_error(r, start, err);
    return check_withdraw(b, err);
}

static int body_read(chain_tx *tx, util_rd *r, size_t start, util_err *err)
{
    switch (tx->type) {
    case CHAIN_TX_TRANSFER:
        if (util_rd_copy(r, tx->body.transfer.to.b, CHAIN_ADDR_LEN) ||
            util_rd_u64(r, &tx->body.transfer.amount))
            return chain_tx_rd_error(r, start, err);
        return 0;
    case CHAIN_TX_DATANET_CREATE:
        return read_datanet_create(&tx->body.datanet_create, r, start, err);
    case CHAIN_TX_CONTRIBUTE: return read_contribute(&tx->body.contribute, r, start, err);
    case CHAIN_TX_REVIEW: return read_review(&tx->body.review, r, start, err);
    case CHAIN_TX_MODEL_REGISTER: return read_model(&tx->body.model_register, r, start, err);
    case CHAIN_TX_ATTRIBUTE: return read_attribute(&tx->body.attribute, r, start, err);
    case CHAIN_TX_DEPLOY: return read_deploy(&tx->body.deploy, r, start, err);
    case CHAIN_TX_CALL: return read_call(&tx->body.call, r, start, err);
    case CHAIN_TX_DEPOSIT: return read_deposit(&tx->body.deposit, r, start, err);
    case CHAIN_TX_WITHDRAW: return read_withdraw(&tx->body.withdraw, r, start, err);
    default: return util_err_set(err, UTIL_EINVAL, "unsupported transaction type %u", tx->type);
    }
}

int chain_tx_body_read(chain_tx *tx, util_rd *r, size_t start, util_err *err)
{
    /* A reader may have allocated a name before a later field failed: the
     * body owns whatever it stored, so freeing it leaves nothing behind. */
    int rc = body_read(tx, r, start, err);
    if (rc) chain_tx_body_free(tx);
    return rc;
}

/* ---- ownership ---- */

const char *chain_tx_str(const char *s)
{
    return s ? s : "";
}

/* Owned string bytes: the text and its NUL (0 for NULL). */
static size_t str_heap(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

int chain_tx_set_str(char **dst, const char *s, size_t max)
{
    char *copy = NULL;
    size_t n = s ? strnlen(s, max + 1) : 0;
    if (n > max) return UTIL_ELIMIT;
    if (n) {
        copy = malloc(n + 1);
        if (!copy) return UTIL_ENOMEM;
        memcpy(copy, s, n + 1);
    }
    free(*dst);
    *dst = copy;
    return 0;
}

int chain_tx_set_datanets(chain_tx_model_register *b, const uint64_t *ids, uint32_t n)
{
    uint64_t *copy = NULL;
    if (n > CHAIN_MODEL_MAX_DATANETS) return UTIL_ELIMIT;
    if (n) {
        copy = malloc((size_t)n * sizeof *copy);
        if (!copy) return UTIL_ENOMEM;
        memcpy(copy, ids, (size_t)n * sizeof *copy);
    }
    free(b->datanets);
    b->datanets = copy;
    b->ndatanets = n;
    return 0;
}

size_t chain_tx_heap_bytes(const chain_tx *tx)
{
    switch (tx->type) {
    case CHAIN_TX_DATANET_CREATE:
        return str_heap(tx->body.datanet_create.name) + str_heap(tx->body.datanet_create.meta_uri);
    case CHAIN_TX_CONTRIBUTE: return str_heap(tx->body.contribute.uri);
    case CHAIN_TX_MODEL_REGISTER:
        return str_heap(tx->body.model_register.name) +
               (tx->body.model_register.datanets
                    ? (size_t)tx->body.model_register.ndatanets * sizeof(uint64_t)
                    : 0);
    case CHAIN_TX_ATTRIBUTE:
        return tx->body.attribute.entries
                   ? (size_t)tx->body.attribute.nentries * sizeof(chain_attr_entry)
                   : 0;
    case CHAIN_TX_DEPLOY: return tx->body.deploy.code ? tx->body.deploy.len : 0;
    case CHAIN_TX_CALL: return tx->body.call.input ? tx->body.call.len : 0;
    default: return 0;
    }
}

static int dup_bytes(void **dst, const void *src, size_t n)
{
    *dst = NULL;
    if (!src || n == 0) return 0;
    *dst = malloc(n);
    if (!*dst) return UTIL_ENOMEM;
    memcpy(*dst, src, n);
    return 0;
}

/* Copies an owned string; dst is NULL on failure. */
static int dup_str(char **dst, const char *src)
{
    void *p;
    int rc = dup_bytes(&p, src, str_heap(src));
    *dst = p;
    return rc;
}

int chain_tx_body_copy(chain_tx *dst, const chain_tx *src)
{
    void *p;
    int rc = 0;
    switch (src->type) {
    case CHAIN_TX_DATANET_CREATE: {
        chain_tx_datanet_create *d = &dst->body.datanet_create;
        d->meta_uri = NULL;
        if (!(rc = dup_str(&d->name, src->body.datanet_create.name)))
            rc = dup_str(&d->meta_uri, src->body.datanet_create.meta_uri);
        break;
    }
    case CHAIN_TX_CONTRIBUTE:
        rc = dup_str(&dst->body.contribute.uri, src->body.contribute.uri);
        break;
    case CHAIN_TX_MODEL_REGISTER: {
        const chain_tx_model_register *b = &src->body.model_register;
        dst->body.model_register.datanets = NULL;
        if (!(rc = dup_str(&dst->body.model_register.name, b->name))) {
            rc = dup_bytes(&p, b->datanets, (size_t)b->ndatanets * sizeof *b->datanets);
            dst->body.model_register.datanets = p;
        }
        break;
    }
    case CHAIN_TX_ATTRIBUTE:
        rc = dup_bytes(&p, src->body.attribute.entries,
                       (size_t)src->body.attribute.nentries * sizeof(chain_attr_entry));
        dst->body.attribute.entries = p;
        break;
    case CHAIN_TX_DEPLOY:
        rc = dup_bytes(&p, src->body.deploy.code, src->body.deploy.len);
        dst->body.deploy.code = p;
        break;
    case CHAIN_TX_CALL:
        rc = dup_bytes(&p, src->body.call.input, src->body.call.len);
        dst->body.call.input = p;
        break;
    default: break;
    }
    /* Partial copies are released here, so dst owns nothing on failure. */
    if (rc) chain_tx_body_free(dst);
    return rc;
}

void chain_tx_body_free(chain_tx *tx)
{
    switch (tx->type) {
    case CHAIN_TX_DATANET_CREATE:
        free(tx->body.datanet_create.name);
        free(tx->body.datanet_create.meta_uri);
        tx->body.datanet_create.name = NULL;
        tx->body.datanet_create.meta_uri = NULL;
        break;
    case CHAIN_TX_CONTRIBUTE:
        free(tx->body.contribute.uri);
        tx->body.contribute.uri = NULL;
        break;
    case CHAIN_TX_MODEL_REGISTER:
        free(tx->body.model_register.name);
        free(tx->body.model_register.datanets);
        tx->body.model_register.name = NULL;
        tx->body.model_register.datanets = NULL;
        tx->body.model_register.ndatanets = 0;
        break;
    case CHAIN_TX_ATTRIBUTE:
        free(tx->body.attribute.entries);
        tx->body.attribute.entries = NULL;
        tx->body.attribute.nentries = 0;
        break;
    case CHAIN_TX_DEPLOY:
        free(tx->body.deploy.code);
        tx->body.deploy.code = NULL;
        tx->body.deploy.len = 0;
        break;
    case CHAIN_TX_CALL:
        free(tx->body.call.input);
        tx->body.call.input = NULL;
        tx->body.call.len = 0;
        break;
    default: break;
    }
}
