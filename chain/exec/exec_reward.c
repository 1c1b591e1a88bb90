/* Settlement of an attribution record by the model's reward contract.
 *
 * The rules of the default contract (genesis/contracts/proportional_split.olasm,
 * docs/attribution.md), paid in this order with 128-bit intermediates:
 *   1. owner       = fee * owner_bp / 10000, to the model owner
 *   2. validators  = fee * validators_bp / 10000, to the block proposer
 *   3. entry i     = (fee * contributors_bp / 10000) * w_i / W, in the entries'
 *                    order (W = sum of weights, which must fit in 64 bits)
 *   4. remainder   = fee - everything above, to the model owner
 * With W == 0 the contributors' share is part of the remainder: nothing
 * divides by zero. Zero amounts are not paid (no empty payout events).
 *
 * A reward contract is a contract: chain_reward_run runs the code stored at
 * the model's reward contract address in the VM (chain_reward_run_vm), and a
 * model whose reward contract holds no code cannot settle ("no_contract").
 * The devnet genesis installs the default contract at
 * chain_default_reward_addr (docs/contracts.md). chain_reward_run_native is
 * the same contract in C, kept as the reference the tests hold the VM
 * contract to: the same payouts, roles and order for every record. */
#include <string.h>

#include "chain/exec/contract.h"
#include "chain/exec/exec_internal.h"
#include "chain/crypto/hash.h"
#include "util/amount.h"

void chain_default_reward_addr(chain_addr *a)
{
    static const char tag[] = "openledger:reward:proportional_split";
    chain_addr_from_hash_of(a, tag, sizeof tag - 1);
}

static int pay(chain_exec *ex, const chain_model *m, chain_record *rec, chain_receipt *r,
               const chain_addr *to, uint8_t role, uint64_t contribution, uint64_t amount,
               util_err *err)
{
    if (amount == 0) return 0;
    int rc = chain_exec_transfer_coded(ex, &m->reward_contract, to, amount, err);
    if (rc) return rc;
    chain_payout p = {
        .recipient = *to, .role = role, .contribution = contribution, .amount = amount};
    return chain_record_add_payout(rec, r, &m->reward_contract, &p, err);
}

static uint64_t muldiv(uint64_t a, uint64_t b, unsigned __int128 c)
{
    return (uint64_t)((unsigned __int128)a * b / c);
}

static int total_weight(const chain_record *rec, uint64_t *w, util_err *err)
{
    *w = 0;
    for (uint32_t i = 0; i < rec->nentries; i++)
        if (util_add_u64(*w, rec->entries[i].weight, w))
            return util_err_set(err, UTIL_EINVAL,
                                "weights_overflow: the total weight does not fit in 64 bits");
    return 0;
}

int chain_reward_run(chain_exec *ex, const chain_tx *tx, const chain_model *m, chain_record *rec,
                     chain_receipt *r, util_err *err)
{
    /* A host rule, checked before any contract runs: whatever the contract,
     * the total weight of a record fits in 64 bits. */
    uint64_t w;
    int rc;
    if ((rc = total_weight(rec, &w, err))) return rc;
    uint8_t k[21];
    const uint8_t *code;
    size_t len;
    chain_key_code(k, &m->reward_contract);
    rc = chain_exec_get(ex, k, sizeof k, &code, &len, err);
    if (rc == 0) return chain_reward_run_vm(ex, tx, m, rec, r, err);
    if (rc != UTIL_ENOTFOUND) return rc;
    char s[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(s, &m->reward_contract);
    return util_err_set(err, UTIL_ENOTFOUND,
                        "no_contract: the reward contract %s of model %llu has no code", s,
                        (unsigned long long)m->id);
}

int chain_reward_run_native(chain_exec *ex, const chain_tx *tx, const chain_model *m,
                            chain_record *rec, chain_receipt *r, util_err *err)
{
    (void)tx;
    const chain_exec_ctx *c = chain_exec_context(ex);
    uint64_t fee = rec->fee;
    uint64_t owner = muldiv(fee, m->owner_bp, CHAIN_BP_TOTAL);
    uint64_t vals = muldiv(fee, m->validators_bp, CHAIN_BP_TOTAL);
    uint64_t contrib = muldiv(fee, m->contributors_bp, CHAIN_BP_TOTAL);
    uint64_t w;
    int rc;
    if ((rc = total_weight(rec, &w, err))) return rc;
    uint64_t paid = 0;
    if ((rc = pay(ex, m, rec, r, &m->owner, CHAIN_ROLE_OWNER, 0, owner, err))) return rc;
    paid += owner;
    /* The validators' share is role "validator" even when the proposer owns
     * the model (chain_reward_run_vm tells it from the owner share). */
    if ((rc = pay(ex, m, rec, r, &c->proposer, CHAIN_ROLE_VALIDATOR, 0, vals, err))) return rc;
    paid += vals;
    if (w > 0) {
        for (uint32_t i = 0; i < rec->nentries; i++) {
            uint64_t amt = muldiv(contrib, rec->entries[i].weight, w);
            if ((rc = pay(ex, m, rec, r, &rec->entries[i].contributor, CHAIN_ROLE_CONTRIBUTOR,
                          rec->entries[i].contribution, amt, err)))
                return rc;
            paid += amt;
        }
    }
    /* The remainder (with the contributors' share when no weight was given)
     * goes to the model owner, the fixed recipient, never "whoever is last". */
    return pay(ex, m, rec, r, &m->owner, CHAIN_ROLE_OWNER, 0, fee - paid, err);
}
