/* Calldata for OpenToken and Bridge and the parsers of the Bridge's events
 * (rollup/bridge_abi.h): the only place the node and the CLI spell the
 * bridge's ABI, so that the signatures live in one file. */
#include "rollup/bridge_abi.h"

#include <string.h>

#include "rollup/eth/abi.h"
#include "rollup/eth/keccak.h"

#define SIG_APPROVE "approve(address,uint256)"
#define SIG_BALANCE_OF "balanceOf(address)"
#define SIG_MINT "mint(address,uint256)"
#define SIG_DEPOSIT "deposit(uint64,bytes20)"
#define SIG_FINALIZED "finalized(uint64)"
#define SIG_FINALIZE "finalizeWithdrawal((uint64,bytes20,address,uint64),uint64,bytes32[])"
#define SIG_EV_DEPOSIT "DepositInitiated(uint64,address,bytes20,uint64)"
#define SIG_EV_FINALIZED "WithdrawalFinalized(uint64,address,uint64)"

static rollup_abi_val v_uint(uint64_t x)
{
    rollup_abi_val v;
    memset(&v, 0, sizeof v);
    v.kind = ROLLUP_ABI_UINT;
    v.u64 = x;
    return v;
}

static rollup_abi_val v_addr(const rollup_eth_addr *a)
{
    rollup_abi_val v;
    memset(&v, 0, sizeof v);
    v.kind = ROLLUP_ABI_ADDRESS;
    v.addr = *a;
    return v;
}

/* bytes20: left-aligned in its word, zero padded on the right. */
static rollup_abi_val v_bytes20(const uint8_t b[20])
{
    rollup_abi_val v;
    memset(&v, 0, sizeof v);
    v.kind = ROLLUP_ABI_BYTES32;
    memcpy(v.word, b, 20);
    return v;
}

static int finish(util_buf *out)
{
    return out->oom ? UTIL_ENOMEM : 0;
}

int rollup_token_approve_calldata(util_buf *out, const rollup_eth_addr *spender, uint64_t amount)
{
    rollup_abi_val v[2] = {v_addr(spender), v_uint(amount)};
    rollup_abi_encode_call(out, SIG_APPROVE, v, 2);
    return finish(out);
}

int rollup_token_balance_of_calldata(util_buf *out, const rollup_eth_addr *owner)
{
    rollup_abi_val v[1] = {v_addr(owner)};
    rollup_abi_encode_call(out, SIG_BALANCE_OF, v, 1);
    return finish(out);
}

int rollup_token_mint_calldata(util_buf *out, const rollup_eth_addr *to, uint64_t amount)
{
    rollup_abi_val v[2] = {v_addr(to), v_uint(amount)};
    rollup_abi_encode_call(out, SIG_MINT, v, 2);
    return finish(out);
}

int rollup_bridge_deposit_calldata(util_buf *out, uint64_t amount, const uint8_t l2_recipient[20])
{
    rollup_abi_val v[2] = {v_uint(amount), v_bytes20(l2_recipient)};
    rollup_abi_encode_call(out, SIG_DEPOSIT, v, 2);
    return finish(out);
}

int rollup_bridge_finalized_calldata(util_buf *out, uint64_t id)
{
    rollup_abi_val v[1] = {v_uint(id)};
    rollup_abi_encode_call(out, SIG_FINALIZED, v, 1);
    return finish(out);
}

int rollup_bridge_finalize_calldata(util_buf *out, const rollup_bridge_withdrawal *w,
                                    uint64_t output_index, const uint8_t (*proof)[32],
                                    size_t nwords, util_err *err)
{
    if (nwords < 3 || nwords > ROLLUP_BRIDGE_PROOF_MAX_WORDS)
        return util_err_set(err, UTIL_EINVAL,
                            "finalizeWithdrawal: proof of %zu words, expected 3 to %d", nwords,
                            ROLLUP_BRIDGE_PROOF_MAX_WORDS);
    /* The struct is static, so the ABI puts its four fields inline in the
     * head, exactly as four separate arguments. */
    rollup_abi_val v[6] = {v_uint(w->id), v_bytes20(w->sender), v_addr(&w->l1_recipient),
                           v_uint(w->amount), v_uint(output_index)};
    memset(&v[5], 0, sizeof v[5]);
    v[5].kind = ROLLUP_ABI_BYTES32_ARR;
    v[5].words = proof;
    v[5].n = nwords;
    rollup_abi_encode_call(out, SIG_FINALIZE, v, 6);
    if (out->oom) return util_err_set(err, UTIL_ENOMEM, "finalizeWithdrawal: out of memory");
    return 0;
}

void rollup_bridge_topic_deposit(uint8_t out[32])
{
    rollup_keccak256(out, SIG_EV_DEPOSIT, strlen(SIG_EV_DEPOSIT));
}

void rollup_bridge_topic_finalized(uint8_t out[32])
{
    rollup_keccak256(out, SIG_EV_FINALIZED, strlen(SIG_EV_FINALIZED));
}

static int zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static uint64_t be64_tail(const uint8_t w[32])
{
    uint64_t x = 0;
    for (int i = 24; i < 32; i++)
        x = x << 8 | w[i];
    return x;
}

/* A topic or data word holding a uint64: the high 24 bytes zero. */
static int word_u64(const uint8_t w[32], uint64_t *out)
{
    if (!zero(w, 24)) return 0;
    *out = be64_tail(w);
    return 1;
}

static int word_addr(const uint8_t w[32], rollup_eth_addr *out)
{
    if (!zero(w, 12)) return 0;
    memcpy(out->b, w + 12, 20);
    return 1;
}

int rollup_bridge_parse_deposit(const rollup_l1_log *log, rollup_deposit *out, util_err *err)
{
    uint8_t t0[32];
    rollup_bridge_topic_deposit(t0);
    memset(out, 0, sizeof *out);
    if (log->removed) return util_err_set(err, UTIL_EINVAL, "DepositInitiated: log was removed");
    if (log->ntopics != 3)
        return util_err_set(err, UTIL_EINVAL, "DepositInitiated: %zu topics, expected 3",
                            log->ntopics);
    if (memcmp(log->topics[0], t0, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "DepositInitiated: wrong topic0");
    if (!word_u64(log->topics[1], &out->nonce))
        return util_err_set(err, UTIL_EINVAL, "DepositInitiated: nonce exceeds 64 bits");
    if (!word_addr(log->topics[2], &out->from))
        return util_err_set(err, UTIL_EINVAL, "DepositInitiated: from is not an address");
    if (log->data_len != 64 || !log->data)
        return util_err_set(err, UTIL_EINVAL, "DepositInitiated: %zu bytes of data, expected 64",
                            log->data_len);
    if (!zero(log->data + 20, 12))
        return util_err_set(err, UTIL_EINVAL, "DepositInitiated: recipient is not a bytes20");
    if (!word_u64(log->data + 32, &out->amount))
        return util_err_set(err, UTIL_EINVAL, "DepositInitiated: amount exceeds 64 bits");
    memcpy(out->l2_recipient, log->data, 20);
    out->l1_block = log->block_number;
    memcpy(out->l1_block_hash, log->block_hash, 32);
    memcpy(out->l1_tx_hash, log->tx_hash, 32);
    out->log_index = log->log_index;
    return 0;
}

int rollup_bridge_parse_finalized(const rollup_l1_log *log, uint64_t *id,
                                  rollup_eth_addr *l1_recipient, uint64_t *amount, util_err *err)
{
    uint8_t t0[32];
    rollup_bridge_topic_finalized(t0);
    *id = 0;
    *amount = 0;
    memset(l1_recipient, 0, sizeof *l1_recipient);
    if (log->removed) return util_err_set(err, UTIL_EINVAL, "WithdrawalFinalized: log was removed");
    if (log->ntopics != 3)
        return util_err_set(err, UTIL_EINVAL, "WithdrawalFinalized: %zu topics, expected 3",
                            log->ntopics);
    if (memcmp(log->topics[0], t0, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "WithdrawalFinalized: wrong topic0");
    uint64_t i = 0, a = 0;
    rollup_eth_addr r;
    if (!word_u64(log->topics[1], &i))
        return util_err_set(err, UTIL_EINVAL, "WithdrawalFinalized: id exceeds 64 bits");
    if (!word_addr(log->topics[2], &r))
        return util_err_set(err, UTIL_EINVAL, "WithdrawalFinalized: recipient is not an address");
    if (log->data_len != 32 || !log->data)
        return util_err_set(err, UTIL_EINVAL, "WithdrawalFinalized: %zu bytes of data, expected 32",
                            log->data_len);
    if (!word_u64(log->data, &a))
        return util_err_set(err, UTIL_EINVAL, "WithdrawalFinalized: amount exceeds 64 bits");
    *id = i;
    *l1_recipient = r;
    *amount = a;
    return 0;
}
