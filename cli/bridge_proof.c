/* A withdrawal proof from the node (bridge_getWithdrawalProof), checked here
 * before any gas is spent on it: the same SHA-256 rules the Bridge applies
 * on the L1 (docs/rollup.md, "The withdrawals tree and its proofs"), with
 * the chain's own verifier (chain_smt_verify) and output root
 * (rollup_output_root). A node that hands out a wrong proof is caught here,
 * not by a reverted L1 transaction. */
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/exec/bridge.h"
#include "cli/bridge.h"
#include "rollup/output.h"

static int hex32(const json_t *v, uint8_t out[32], const char *what, util_err *err)
{
    const char *s = json_string_value(v);
    if (!s || strncmp(s, "0x", 2) != 0 || util_hex_decode_exact(out, 32, s + 2))
        return util_err_set(err, UTIL_EIO, "node answer: %s is not 0x + 64 hex digits", what);
    return 0;
}

static int u64f(const json_t *o, const char *key, uint64_t *v, util_err *err)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return util_err_set(err, UTIL_EIO, "node answer: '%s' is not a non-negative integer", key);
    *v = (uint64_t)json_integer_value(j);
    return 0;
}

int cli_bridge_proof_parse(const json_t *res, cli_bridge_proof *p, util_err *err)
{
    memset(p, 0, sizeof *p);
    const json_t *w = json_object_get(res, "withdrawal");
    if (!json_is_object(w))
        return util_err_set(err, UTIL_EIO, "node answer: 'withdrawal' is not an object");
    const char *sender = json_string_value(json_object_get(w, "sender"));
    const char *rcpt = json_string_value(json_object_get(w, "l1Recipient"));
    int rc;
    if ((rc = u64f(w, "id", &p->w.id, err)) ||
        (rc = cli_json_amount(w, "amount", &p->w.amount, err)))
        return rc;
    if (!sender || chain_addr_decode(&p->sender, sender, NULL))
        return util_err_set(err, UTIL_EIO,
                            "node answer: the withdrawal's sender is not an address");
    memcpy(p->w.sender, p->sender.b, 20);
    if (!rcpt || rollup_eth_addr_parse(&p->w.l1_recipient, rcpt, NULL))
        return util_err_set(err, UTIL_EIO,
                            "node answer: the withdrawal's l1Recipient is not an L1 address");
    if ((rc = u64f(res, "outputIndex", &p->output_index, err)) ||
        (rc = u64f(res, "outputHeight", &p->output_height, err)) ||
        (rc = hex32(json_object_get(res, "stateRoot"), p->state_root, "stateRoot", err)) ||
        (rc = hex32(json_object_get(res, "blockHash"), p->block_hash, "blockHash", err)) ||
        (rc = hex32(json_object_get(res, "withdrawalsRoot"), p->withdrawals_root, "withdrawalsRoot",
                    err)) ||
        (rc = hex32(json_object_get(res, "outputRoot"), p->output_root, "outputRoot", err)))
        return rc;
    const json_t *sib = json_object_get(res, "siblings"), *proof = json_object_get(res, "proof");
    if (!json_is_array(sib) || !json_is_array(proof))
        return util_err_set(err, UTIL_EIO, "node answer: 'siblings' or 'proof' is not an array");
    size_t ns = json_array_size(sib);
    if (ns > ROLLUP_BRIDGE_MAX_SIBLINGS)
        return util_err_set(err, UTIL_EIO, "node answer: %zu siblings, at most %d", ns,
                            ROLLUP_BRIDGE_MAX_SIBLINGS);
    if (json_array_size(proof) != 3 + ns)
        return util_err_set(err, UTIL_EINVAL,
                            "the proof has %zu words, not the 3 roots and %zu siblings",
                            json_array_size(proof), ns);
    for (size_t i = 0; i < 3 + ns; i++)
        if ((rc = hex32(json_array_get(proof, i), p->words[i], "a proof word", err))) return rc;
    p->nwords = 3 + ns;
    for (size_t i = 0; i < ns; i++) {
        uint8_t s[32];
        if ((rc = hex32(json_array_get(sib, i), s, "a sibling", err))) return rc;
        if (memcmp(s, p->words[3 + i], 32) != 0)
            return util_err_set(err, UTIL_EINVAL, "proof word %zu is not sibling %zu", 3 + i, i);
    }
    return 0;
}

int cli_bridge_proof_verify(const cli_bridge_proof *p, util_err *err)
{
    if (p->nwords < 3 || p->nwords > ROLLUP_BRIDGE_PROOF_MAX_WORDS)
        return util_err_set(err, UTIL_EINVAL, "the proof has %zu words (3 to %d)", p->nwords,
                            ROLLUP_BRIDGE_PROOF_MAX_WORDS);
    if (memcmp(p->words[0], p->state_root, 32) || memcmp(p->words[1], p->block_hash, 32) ||
        memcmp(p->words[2], p->withdrawals_root, 32))
        return util_err_set(err, UTIL_EINVAL,
                            "the proof does not start with the state root, block hash and "
                            "withdrawals root it claims");
    uint8_t root[32];
    rollup_output_root(root, p->state_root, p->block_hash, p->withdrawals_root);
    if (memcmp(root, p->output_root, 32) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "the state root, block hash and withdrawals root do not hash to the "
                            "output root of L2 height %llu",
                            (unsigned long long)p->output_height);

    chain_withdrawal cw = {.id = p->w.id, .sender = p->sender, .amount = p->w.amount};
    memcpy(cw.l1_recipient, p->w.l1_recipient.b, 20);
    uint8_t value[CHAIN_WITHDRAWAL_LEN], path[32];
    chain_withdrawal_encode(&cw, value);
    chain_withdrawal_path(path, cw.id);
    chain_smt_proof sp;
    memset(&sp, 0, sizeof sp);
    sp.nsib = (uint32_t)(p->nwords - 3);
    for (size_t i = 0; i < sp.nsib; i++)
        memcpy(sp.siblings[i], p->words[3 + i], 32);
    sp.has_leaf = 1;
    memcpy(sp.leaf_path, path, 32);
    chain_sha256(sp.leaf_value_hash, value, sizeof value);
    util_err e;
    if (chain_smt_verify(p->withdrawals_root, path, sp.leaf_value_hash, &sp, &e))
        return util_err_set(err, UTIL_EINVAL,
                            "the Merkle proof of withdrawal %llu does not lead to the withdrawals "
                            "root (%s)",
                            (unsigned long long)p->w.id, e.msg);
    return 0;
}

int cli_bridge_proof_calldata(const cli_bridge_proof *p, util_buf *out, util_err *err)
{
    return rollup_bridge_finalize_calldata(out, &p->w, p->output_index,
                                           (const uint8_t(*)[32])p->words, p->nwords, err);
}
