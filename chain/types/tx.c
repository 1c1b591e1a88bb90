/* The transaction envelope: encoding, decoding, signing for one genesis, and
 * intrinsic gas (chain/types/tx.h). */
#include "chain/types/tx.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/types/tx_internal.h"
#include "util/amount.h"

int chain_id_valid(const char *s)
{
    if (!s) return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= CHAIN_ID_MAX) return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
    }
    return n >= 1;
}

const char *chain_tx_type_name(uint8_t type)
{
    switch (type) {
    case CHAIN_TX_TRANSFER: return "transfer";
    case CHAIN_TX_DATANET_CREATE: return "datanet_create";
    case CHAIN_TX_CONTRIBUTE: return "contribute";
    case CHAIN_TX_REVIEW: return "review";
    case CHAIN_TX_MODEL_REGISTER: return "model_register";
    case CHAIN_TX_ATTRIBUTE: return "attribute";
    case CHAIN_TX_DEPLOY: return "deploy";
    case CHAIN_TX_CALL: return "call";
    case CHAIN_TX_DEPOSIT: return "deposit";
    case CHAIN_TX_WITHDRAW: return "withdraw";
    default: return "unknown";
    }
}

int chain_tx_type_known(uint8_t type)
{
    return type >= CHAIN_TX_TRANSFER && type <= CHAIN_TX_WITHDRAW;
}

/* Everything the signature covers. */
static void encode_unsigned(const chain_tx *tx, util_buf *out)
{
    util_buf_u8(out, tx->version);
    util_buf_lenbytes(out, tx->chain_id, strnlen(tx->chain_id, CHAIN_ID_MAX));
    util_buf_u8(out, tx->type);
    util_buf_put(out, tx->sender, CHAIN_PUBKEY_LEN);
    util_buf_u64(out, tx->nonce);
    util_buf_u64(out, tx->gas_limit);
    util_buf_u64(out, tx->gas_price);
    chain_tx_body_encode(tx, out);
}

size_t chain_tx_encoded_len(const chain_tx *tx)
{
    size_t cid = strnlen(tx->chain_id, CHAIN_ID_MAX);
    return 1 + util_varint_len(cid) + cid + 1 + CHAIN_PUBKEY_LEN + 3 * 8 + chain_tx_body_len(tx) +
           CHAIN_SIG_LEN;
}

int chain_tx_encode(const chain_tx *tx, util_buf *out)
{
    encode_unsigned(tx, out);
    util_buf_put(out, tx->sig, CHAIN_SIG_LEN);
    return out->oom ? UTIL_ENOMEM : 0;
}

/* Derived fields from the exact encoded bytes p[0..n), which end with the
 * signature. */
static void derive(chain_tx *tx, const uint8_t *p, size_t n)
{
    chain_hash_tagged(tx->id, CHAIN_TAG_TX_ID, p, n);
    chain_addr_from_pubkey(&tx->from, tx->sender);
    tx->size = (uint32_t)n;
    tx->sig_checked = 0;
}

int chain_tx_rd_error(const util_rd *r, size_t base, util_err *err)
{
    return util_err_set(err, UTIL_EINVAL, "transaction: %s at byte %zu",
                        r->err ? r->err : "malformed", r->err_at - base);
}

static int read_tx(chain_tx *tx, util_rd *r, util_err *err)
{
    size_t start = r->pos;
    const uint8_t *cid;
    uint64_t cidn;
    memset(tx, 0, sizeof *tx);
    if (r->err) return chain_tx_rd_error(r, start, err);
    if (util_rd_u8(r, &tx->version)) return chain_tx_rd_error(r, start, err);
    if (tx->version != CHAIN_TX_VERSION)
        return util_err_set(err, UTIL_EINVAL, "transaction: unsupported version %u", tx->version);
    if (util_rd_varint(r, &cidn, UINT64_MAX)) return chain_tx_rd_error(r, start, err);
    if (cidn > CHAIN_ID_MAX)
        return util_err_set(err, UTIL_EINVAL, "transaction: bad chain id (%llu bytes, at most %d)",
                            (unsigned long long)cidn, CHAIN_ID_MAX);
    if (util_rd_bytes(r, &cid, (size_t)cidn)) return chain_tx_rd_error(r, start, err);
    memcpy(tx->chain_id, cid, (size_t)cidn);
    tx->chain_id[cidn] = 0;
    /* memchr catches an embedded NUL, which strlen-based validation would miss. */
    if (memchr(cid, 0, (size_t)cidn) || !chain_id_valid(tx->chain_id))
        return util_err_set(err, UTIL_EINVAL,
                            "transaction: bad chain id (1..32 characters of a-z, 0-9, '-')");
    if (util_rd_u8(r, &tx->type)) return chain_tx_rd_error(r, start, err);
    if (!chain_tx_type_known(tx->type))
        return util_err_set(err, UTIL_EINVAL, "unsupported transaction type %u", tx->type);
    if (util_rd_copy(r, tx->sender, CHAIN_PUBKEY_LEN) || util_rd_u64(r, &tx->nonce) ||
        util_rd_u64(r, &tx->gas_limit) || util_rd_u64(r, &tx->gas_price))
        return chain_tx_rd_error(r, start, err);
    int rc = chain_tx_body_read(tx, r, start, err);
    if (rc) return rc;
    if (util_rd_copy(r, tx->sig, CHAIN_SIG_LEN)) return chain_tx_rd_error(r, start, err);
    if ((rc = chain_tx_envelope_check(tx, err))) return rc;
    size_t n = r->pos - start;
    if (n > CHAIN_TX_MAX_SIZE)
        return util_err_set(err, UTIL_ELIMIT, "transaction too large: %zu bytes, at most %d", n,
                            CHAIN_TX_MAX_SIZE);
    derive(tx, r->p + start, n);
    return 0;
}

int chain_tx_read(chain_tx *tx, util_rd *r, util_err *err)
{
    int rc = read_tx(tx, r, err);
    if (rc) {
        /* Zeroed, not just freed: a half-read union could otherwise hold
         * bytes that look like pointers to a careless caller. */
        chain_tx_free(tx);
        memset(tx, 0, sizeof *tx);
    }
    return rc;
}

int chain_tx_decode(chain_tx *tx, const uint8_t *p, size_t n, util_err *err)
{
    if (n > CHAIN_TX_MAX_SIZE) {
        memset(tx, 0, sizeof *tx);
        return util_err_set(err, UTIL_ELIMIT, "transaction too large: %zu bytes, at most %d", n,
                            CHAIN_TX_MAX_SIZE);
    }
    util_rd r;
    util_rd_init(&r, p, n);
    int rc = chain_tx_read(tx, &r, err);
    if (rc) return rc;
    if (util_rd_end(&r)) {
        chain_tx_free(tx);
        memset(tx, 0, sizeof *tx);
        return chain_tx_rd_error(&r, 0, err);
    }
    return 0;
}

int chain_tx_finalize(chain_tx *tx, util_err *err)
{
    if (tx->version != CHAIN_TX_VERSION)
        return util_err_set(err, UTIL_EINVAL, "transaction: unsupported version %u", tx->version);
    if (memchr(tx->chain_id, 0, sizeof tx->chain_id) == NULL || !chain_id_valid(tx->chain_id))
        return util_err_set(err, UTIL_EINVAL,
                            "transaction: bad chain id (1..32 characters of a-z, 0-9, '-')");
    if (!chain_tx_type_known(tx->type))
        return util_err_set(err, UTIL_EINVAL, "unsupported transaction type %u", tx->type);
    int rc = chain_tx_body_check(tx, err);
    if (!rc) rc = chain_tx_envelope_check(tx, err);
    if (rc) return rc;
    util_buf b;
    util_buf_init(&b);
    if (chain_tx_encode(tx, &b)) {
        util_buf_free(&b);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    if (b.len > CHAIN_TX_MAX_SIZE) {
        size_t n = b.len;
        util_buf_free(&b);
        return util_err_set(err, UTIL_ELIMIT, "transaction too large: %zu bytes, at most %d", n,
                            CHAIN_TX_MAX_SIZE);
    }
    derive(tx, b.data, b.len);
    util_buf_free(&b);
    return 0;
}

int chain_tx_sighash(const chain_tx *tx, const uint8_t genesis_hash[32], uint8_t out[32])
{
    util_buf b;
    util_buf_init(&b);
    util_buf_u8(&b, CHAIN_TAG_TX_SIG);
    util_buf_put(&b, genesis_hash, 32);
    encode_unsigned(tx, &b);
    if (b.oom) {
        util_buf_free(&b);
        return UTIL_ENOMEM;
    }
    chain_sha256(out, b.data, b.len);
    util_buf_free(&b);
    return 0;
}

int chain_tx_sign(chain_tx *tx, const chain_keypair *kp, const uint8_t genesis_hash[32],
                  util_err *err)
{
    uint8_t aux[32], msg[32];
    memcpy(tx->sender, kp->pubkey, CHAIN_PUBKEY_LEN);
    memset(tx->sig, 0, CHAIN_SIG_LEN);
    /* Validates the content with the decoder's rules before anything is signed. */
    int rc = chain_tx_finalize(tx, err);
    if (rc) return rc;
    if (chain_tx_sighash(tx, genesis_hash, msg))
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    /* Fresh aux randomness per BIP-340's recommendation (protects against
     * fault and side-channel attacks on the nonce derivation). */
    if (RAND_bytes(aux, sizeof aux) != 1)
        return util_err_set(err, UTIL_ECRYPTO, "no randomness for signing");
    rc = chain_sign(tx->sig, msg, kp, aux);
    OPENSSL_cleanse(aux, sizeof aux);
    if (rc) return util_err_set(err, UTIL_ECRYPTO, "signing failed");
    return chain_tx_finalize(tx, err);
}

int chain_tx_check_sig(chain_tx *tx, const uint8_t genesis_hash[32])
{
    if (tx->sig_checked == 1) return 1;
    uint8_t msg[32];
    if (!genesis_hash || chain_tx_sighash(tx, genesis_hash, msg)) return 0;
    /* Only success is cached: other modules treat a set flag as "verified",
     * and an invalid transaction is dropped after its first check anyway. */
    if (!chain_verify(tx->sig, msg, tx->sender)) return 0;
    tx->sig_checked = 1;
    return 1;
}

uint64_t chain_tx_intrinsic_gas(const chain_tx *tx)
{
    /* Counts are u32, so no product below can overflow u64. */
    switch (tx->type) {
    case CHAIN_TX_TRANSFER: return CHAIN_GAS_TRANSFER;
    case CHAIN_TX_DATANET_CREATE: return CHAIN_GAS_DATANET_CREATE;
    case CHAIN_TX_CONTRIBUTE: return CHAIN_GAS_CONTRIBUTE;
    case CHAIN_TX_REVIEW: return CHAIN_GAS_REVIEW;
    case CHAIN_TX_MODEL_REGISTER:
        return CHAIN_GAS_MODEL_REGISTER +
               (uint64_t)CHAIN_GAS_MODEL_PER_DATANET * tx->body.model_register.ndatanets;
    case CHAIN_TX_ATTRIBUTE:
        return CHAIN_GAS_ATTRIBUTE +
               (uint64_t)CHAIN_GAS_ATTRIBUTE_PER_ENTRY * tx->body.attribute.nentries;
    case CHAIN_TX_DEPLOY:
        return CHAIN_GAS_DEPLOY + (uint64_t)CHAIN_GAS_DEPLOY_PER_BYTE * tx->body.deploy.len;
    case CHAIN_TX_CALL: return CHAIN_GAS_CALL;
    case CHAIN_TX_WITHDRAW: return CHAIN_GAS_WITHDRAW;
    default: return 0; /* DEPOSIT: a system transaction, no gas */
    }
}

uint64_t chain_tx_value(const chain_tx *tx)
{
    switch (tx->type) {
    case CHAIN_TX_TRANSFER: return tx->body.transfer.amount;
    case CHAIN_TX_ATTRIBUTE: return tx->body.attribute.fee;
    case CHAIN_TX_CALL: return tx->body.call.value;
    case CHAIN_TX_WITHDRAW: return tx->body.withdraw.amount;
    default:
        /* A CONTRIBUTE's bond is set by its datanet, which only execution
         * knows; so it is not part of the value. */
        return 0;
    }
}

int chain_tx_max_cost(const chain_tx *tx, uint64_t *cost)
{
    uint64_t fee, total;
    if (util_mul_u64(tx->gas_limit, tx->gas_price, &fee) ||
        util_add_u64(fee, chain_tx_value(tx), &total))
        return -1;
    *cost = total;
    return 0;
}

int chain_tx_copy(chain_tx *dst, const chain_tx *src)
{
    if (dst == src) return 0;
    memcpy(dst, src, sizeof *dst);
    if (chain_tx_body_copy(dst, src)) {
        memset(dst, 0, sizeof *dst);
        return UTIL_ENOMEM;
    }
    return 0;
}

void chain_tx_free(chain_tx *tx)
{
    if (tx) chain_tx_body_free(tx);
}
