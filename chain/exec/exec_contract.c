/* DEPLOY and CALL, and the host table through which the VM reaches the
 * block's state overlay. A call that does not end VM_OK is undone as a whole
 * by the transaction's checkpoint; the gas it used is still charged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/state/codecache.h"
#include "chain/exec/contract.h"
#include "chain/exec/exec_internal.h"
#include "chain/crypto/hash.h"
#include "chain/state/store_internal.h"
#include "vm/vm.h"

void chain_contract_addr(chain_addr *out, const chain_addr *deployer, uint64_t nonce)
{
    static const char tag[] = "openledger:contract";
    uint8_t buf[sizeof tag - 1 + CHAIN_ADDR_LEN + 8];
    memcpy(buf, tag, sizeof tag - 1);
    memcpy(buf + sizeof tag - 1, deployer->b, CHAIN_ADDR_LEN);
    util_put_u64le(buf + sizeof tag - 1 + CHAIN_ADDR_LEN, nonce);
    chain_addr_from_hash_of(out, buf, sizeof buf);
}

void chain_pay_topic(uint8_t out[32])
{
    chain_sha256(out, "pay", 3);
}

typedef struct host_ctx {
    chain_exec *ex;
    chain_addr self;
    util_err err; /* set when a callback fails with VM_HOST_EIO */
} host_ctx;

static int h_balance(void *ctx, const uint8_t addr[VM_ADDR_LEN], uint64_t *out)
{
    host_ctx *h = ctx;
    chain_addr a;
    chain_account acc;
    memcpy(a.b, addr, CHAIN_ADDR_LEN);
    if (chain_exec_get_account(h->ex, &a, &acc, &h->err)) return VM_HOST_EIO;
    *out = acc.balance;
    return VM_HOST_OK;
}

static int h_pay(void *ctx, const uint8_t to[VM_ADDR_LEN], uint64_t amount)
{
    host_ctx *h = ctx;
    chain_addr a;
    memcpy(a.b, to, CHAIN_ADDR_LEN);
    util_err e = {0};
    int rc = chain_exec_transfer(h->ex, &h->self, &a, amount, &e);
    if (rc == UTIL_EINVAL) return VM_HOST_FUNDS; /* nothing moved */
    if (rc) {
        h->err = e;
        return VM_HOST_EIO;
    }
    return VM_HOST_OK;
}

static int h_sload(void *ctx, const uint8_t key[VM_KEY_LEN], uint8_t val[VM_KEY_LEN])
{
    host_ctx *h = ctx;
    uint8_t k[53];
    const uint8_t *v;
    size_t vl;
    chain_key_storage(k, &h->self, key);
    int rc = chain_exec_get(h->ex, k, sizeof k, &v, &vl, &h->err);
    if (rc == UTIL_ENOTFOUND) return 0;
    if (rc || vl != VM_KEY_LEN) return VM_HOST_EIO;
    memcpy(val, v, VM_KEY_LEN);
    return 1;
}

static int h_sstore(void *ctx, const uint8_t key[VM_KEY_LEN], const uint8_t val[VM_KEY_LEN])
{
    host_ctx *h = ctx;
    uint8_t k[53];
    static const uint8_t zero[VM_KEY_LEN];
    chain_key_storage(k, &h->self, key);
    int rc = memcmp(val, zero, VM_KEY_LEN) == 0
                 ? chain_exec_del(h->ex, k, sizeof k, &h->err)
                 : chain_exec_put(h->ex, k, sizeof k, val, VM_KEY_LEN, &h->err);
    return rc ? VM_HOST_EIO : VM_HOST_OK;
}

/* Loads a contract's code, charges the run and code-load gas out of *gas
 * (raising r->gas_used) and gets its verified program from the store's cache.
 * UTIL_ENOTFOUND when the address has none; UTIL_EINVAL (all of *gas
 * charged) when *gas cannot pay for loading the code. The gas is the same
 * whether the program was cached or not: nodes' caches differ. */
static int load_program(chain_exec *ex, const chain_addr *a, uint64_t *gas, chain_receipt *r,
                        vm_program **prog, util_err *err)
{
    uint8_t k[21];
    const uint8_t *code;
    size_t len;
    chain_key_code(k, a);
    int rc = chain_exec_get(ex, k, sizeof k, &code, &len, err);
    if (rc == UTIL_ENOTFOUND) {
        char s[CHAIN_ADDR_STR_LEN + 1];
        chain_addr_encode(s, a);
        return util_err_set(err, UTIL_ENOTFOUND, "no_contract: %s has no code", s);
    }
    if (rc) return rc;
    /* len <= VM_CODE_MAX: no overflow */
    uint64_t load = CHAIN_GAS_VM_RUN + CHAIN_GAS_CODE_LOAD_PER_BYTE * (uint64_t)len;
    if (load > *gas) {
        r->gas_used += *gas;
        *gas = 0;
        return util_err_set(err, UTIL_EINVAL,
                            "vm_fault: out of gas: running %zu bytes of code needs %llu gas first",
                            len, (unsigned long long)load);
    }
    r->gas_used += load;
    *gas -= load;
    /* Verified at deploy; the cache keeps the program vm_verify builds (decoded
     * instructions, per-block gas) by the hash of these exact bytes. */
    util_err verr = {0};
    rc = chain_code_cache_get(chain_store_code_cache(chain_exec_store(ex)), a->b, code, len, prog,
                              &verr);
    if (rc == UTIL_ENOMEM) return util_err_set(err, rc, "out of memory");
    if (rc) return util_err_set(err, UTIL_EIO, "stored code of a contract no longer verifies");
    return 0;
}

static int run_ex(chain_exec *ex, const chain_addr *contract, const chain_addr *caller,
                  uint64_t value, const uint8_t *input, size_t len, const vm_record *rec,
                  uint64_t gas_limit, int settle, chain_receipt *r, vm_result *res, util_err *err);

/* The revert data goes into the receipt as bytes (the VM keeps
 * VM_MAX_REVERT == CHAIN_REVERT_MAX of them); the message shows it as text
 * only when it is well-formed UTF-8, so no reply built from it can be
 * invalid JSON. */
_Static_assert(VM_MAX_REVERT == CHAIN_REVERT_MAX, "the receipt keeps all the VM's revert data");

static int reverted(chain_receipt *r, const vm_result *res, util_err *err)
{
    size_t n = res->revert_len < CHAIN_REVERT_MAX ? res->revert_len : CHAIN_REVERT_MAX;
    free(r->revert);
    r->revert = NULL;
    r->revert_len = 0;
    if (n) {
        if (!(r->revert = malloc(n))) return util_err_set(err, UTIL_ENOMEM, "out of memory");
        memcpy(r->revert, res->revert, n);
        r->revert_len = (uint32_t)n;
    }
    if (chain_utf8_valid(res->revert, n))
        return util_err_set(err, UTIL_EINVAL, "reverted: %.*s", (int)n, (const char *)res->revert);
    return util_err_set(err, UTIL_EINVAL, "reverted: %zu bytes of revert data, not UTF-8 text", n);
}

/* Runs a call; on VM_OK records events and return data into r. Returns 0 on
 * VM_OK, UTIL_EINVAL for a revert or fault (r->error says which), other codes
 * when the node failed. Adds the VM's gas to r->gas_used in every case. */
static int run(chain_exec *ex, const chain_addr *contract, const chain_addr *caller, uint64_t value,
               const uint8_t *input, size_t len, const vm_record *rec, uint64_t gas_limit,
               chain_receipt *r, vm_result *res, util_err *err)
{
    return run_ex(ex, contract, caller, value, input, len, rec, gas_limit, 0, r, res, err);
}

static int run_ex(chain_exec *ex, const chain_addr *contract, const chain_addr *caller,
                  uint64_t value, const uint8_t *input, size_t len, const vm_record *rec,
                  uint64_t gas_limit, int settle, chain_receipt *r, vm_result *res, util_err *err)
{
    vm_program *prog = NULL;
    int rc = load_program(ex, contract, &gas_limit, r, &prog, err);
    if (rc) return rc;
    host_ctx h = {.ex = ex, .self = *contract};
    vm_host host = {
        .ctx = &h, .balance = h_balance, .pay = h_pay, .sload = h_sload, .sstore = h_sstore};
    const chain_exec_ctx *c = chain_exec_context(ex);
    vm_env env = {.value = value,
                  .height = c->height,
                  .time_ms = c->time_ms,
                  .input = input,
                  .input_len = len,
                  .record = rec};
    memcpy(env.caller, caller->b, VM_ADDR_LEN);
    memcpy(env.self, contract->b, VM_ADDR_LEN);
    size_t cp = chain_exec_checkpoint(ex);
    rc = vm_call(prog, &host, &env, gas_limit, res, err);
    vm_program_free(prog);
    if (rc) {
        chain_exec_revert(ex, cp);
        if (rc == UTIL_EIO && h.err.msg[0]) util_err_set(err, UTIL_EIO, "%s", h.err.msg);
        return rc;
    }
    r->gas_used += res->gas_used;
    if (res->status != VM_OK) {
        chain_exec_revert(ex, cp);
        if (res->status == VM_REVERTED) return reverted(r, res, err);
        {
            /* "vm_fault: NAME: detail", without repeating a detail that only
             * restates the name ("out of gas: out of gas"). */
            const char *name = vm_status_name(res->status);
            int same = !res->detail[0] || strcmp(res->detail, name) == 0;
            return util_err_set(err, UTIL_EINVAL, "vm_fault: %s%s%s", name, same ? "" : ": ",
                                same ? "" : res->detail);
        }
    }
    /* One limit on events: what a receipt holds. A call's events (a
     * settlement's payouts included) all land in the receipt. */
    if (res->n_events > CHAIN_RECEIPT_MAX_EVENTS - r->nevents) {
        chain_exec_revert(ex, cp);
        return util_err_set(err, UTIL_EINVAL,
                            "too_many_events: the call emitted %zu events, a receipt holds %d",
                            res->n_events, CHAIN_RECEIPT_MAX_EVENTS);
    }
    uint8_t pay_topic[32];
    chain_pay_topic(pay_topic);
    for (size_t i = 0; i < res->n_events; i++) {
        const vm_event *e = &res->events[i];
        if (e->kind == VM_EVENT_PAY && settle) {
            continue; /* a settlement records each payout as a payout event instead */
        } else if (e->kind == VM_EVENT_PAY) {
            uint8_t d[28];
            memcpy(d, e->to, 20);
            util_put_u64le(d + 20, e->amount);
            rc = chain_receipt_add_event(r, contract, pay_topic, d, sizeof d);
        } else {
            rc = chain_receipt_add_event(r, contract, e->topic, res->event_data + e->data_off,
                                         e->data_len);
        }
        if (rc) {
            chain_exec_revert(ex, cp);
            return util_err_set(err, UTIL_EINVAL, "too_many_events: receipt event limit");
        }
    }
    if (res->ret_len) {
        r->ret = malloc(res->ret_len);
        if (!r->ret) return util_err_set(err, UTIL_ENOMEM, "out of memory");
        memcpy(r->ret, res->ret, res->ret_len);
        r->ret_len = (uint32_t)res->ret_len;
    }
    return 0;
}

static uint64_t gas_left(const chain_tx *tx, const chain_receipt *r)
{
    return tx->gas_limit > r->gas_used ? tx->gas_limit - r->gas_used : 0;
}

int chain_body_deploy(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err)
{
    const chain_tx_deploy *b = &tx->body.deploy;
    vm_program *prog = NULL;
    uint32_t off = 0;
    util_err verr = {0};
    if (vm_verify(b->code, b->len, &prog, &off, &verr))
        return util_err_set(err, UTIL_EINVAL, "invalid_code: %s", verr.msg);
    vm_program_free(prog);
    chain_addr a;
    chain_contract_addr(&a, &tx->from, tx->nonce);
    uint8_t k[21];
    const uint8_t *v;
    size_t vl;
    chain_key_code(k, &a);
    int rc = chain_exec_get(ex, k, sizeof k, &v, &vl, err);
    if (rc == 0) return util_err_set(err, UTIL_EEXIST, "contract_exists: address already has code");
    if (rc != UTIL_ENOTFOUND) return rc;
    if ((rc = chain_exec_put(ex, k, sizeof k, b->code, b->len, err))) return rc;
    r->created = a;
    return 0;
}

int chain_body_call(chain_exec *ex, const chain_tx *tx, chain_receipt *r, util_err *err)
{
    const chain_tx_call *b = &tx->body.call;
    int rc;
    if (b->value && (rc = chain_exec_transfer_coded(ex, &tx->from, &b->contract, b->value, err)))
        return rc;
    vm_result res;
    memset(&res, 0, sizeof res);
    rc = run(ex, &b->contract, &tx->from, b->value, b->input, b->len, NULL, gas_left(tx, r), r,
             &res, err);
    vm_result_free(&res);
    return rc;
}

/* A contract labels a pay as a contributor payout with a log right after it
 * (topic "ol.reward.contribution", data = record id, contribution id,
 * amount, u64le each), as the default contract does. The role still comes
 * from the host: the label must name this record, the pay's exact amount and
 * an entry of the record whose contributor the pay went to, or the
 * settlement is refused (docs/attribution.md). */
static const char contribution_topic[32] = "ol.reward.contribution";

static int is_contribution_log(const vm_event *e)
{
    return e->kind == VM_EVENT_LOG && memcmp(e->topic, contribution_topic, 32) == 0;
}

static int contributor_label(const vm_result *res, size_t i, const chain_record *rec,
                             uint64_t *contribution, util_err *err)
{
    const vm_event *pay = &res->events[i], *l = &res->events[i + 1];
    if (l->data_len != 24)
        return util_err_set(err, UTIL_EINVAL,
                            "invalid_payout: a contribution log has %u data bytes, not 24",
                            (unsigned)l->data_len);
    const uint8_t *d = res->event_data + l->data_off;
    uint64_t id = util_get_u64le(d), c = util_get_u64le(d + 8), amount = util_get_u64le(d + 16);
    if (id != rec->id)
        return util_err_set(err, UTIL_EINVAL,
                            "invalid_payout: a contribution log names record %llu, not %llu",
                            (unsigned long long)id, (unsigned long long)rec->id);
    if (amount != pay->amount)
        return util_err_set(err, UTIL_EINVAL,
                            "invalid_payout: a contribution log says %llu, its pay moved %llu",
                            (unsigned long long)amount, (unsigned long long)pay->amount);
    for (uint32_t j = 0; j < rec->nentries; j++) {
        if (rec->entries[j].contribution != c) continue;
        if (memcmp(rec->entries[j].contributor.b, pay->to, CHAIN_ADDR_LEN) != 0)
            return util_err_set(err, UTIL_EINVAL,
                                "invalid_payout: a pay labelled for contribution %llu does not go "
                                "to its contributor",
                                (unsigned long long)c);
        *contribution = c;
        return 0;
    }
    return util_err_set(err, UTIL_EINVAL,
                        "invalid_payout: contribution %llu is not an entry of record %llu",
                        (unsigned long long)c, (unsigned long long)rec->id);
}

/* Roles of the unlabelled pays. A pay to the proposer is the validators'
 * share, to anyone else the owner's. When the proposer owns the model, the
 * validators' share is told from the owner's by the model's split: the first
 * pay of exactly fee * validators_bp / 10000 is it, unless that pay is also
 * exactly the owner share and no owner share was seen yet (the owner share
 * comes first, as in the default contract). */
typedef struct role_state {
    uint64_t owner_share, validators_share;
    int owner_seen, validators_seen;
} role_state;

static uint8_t pay_role(role_state *s, const vm_event *e, const vm_record *vr)
{
    int to_proposer = memcmp(e->to, vr->validators, VM_ADDR_LEN) == 0;
    if (!to_proposer) return CHAIN_ROLE_OWNER;
    if (memcmp(vr->validators, vr->owner, VM_ADDR_LEN) != 0) return CHAIN_ROLE_VALIDATOR;
    if (!s->validators_seen && e->amount == s->validators_share &&
        !(e->amount == s->owner_share && !s->owner_seen)) {
        s->validators_seen = 1;
        return CHAIN_ROLE_VALIDATOR;
    }
    if (e->amount == s->owner_share) s->owner_seen = 1;
    return CHAIN_ROLE_OWNER;
}

static uint64_t bp_share(uint64_t fee, uint16_t bp)
{
    return (uint64_t)((unsigned __int128)fee * bp / CHAIN_BP_TOTAL);
}

int chain_reward_run_vm(chain_exec *ex, const chain_tx *tx, const chain_model *m, chain_record *rec,
                        chain_receipt *r, util_err *err)
{
    const chain_exec_ctx *c = chain_exec_context(ex);
    vm_entry *ents = calloc(rec->nentries ? rec->nentries : 1, sizeof *ents);
    if (!ents) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < rec->nentries; i++) {
        ents[i].contribution = rec->entries[i].contribution;
        ents[i].weight = rec->entries[i].weight;
        memcpy(ents[i].addr, rec->entries[i].contributor.b, VM_ADDR_LEN);
    }
    vm_record vr = {.id = rec->id,
                    .model = m->id,
                    .fee = rec->fee,
                    .owner_bp = m->owner_bp,
                    .validators_bp = m->validators_bp,
                    .contributors_bp = m->contributors_bp,
                    .n_entries = rec->nentries,
                    .entries = ents};
    memcpy(vr.owner, m->owner.b, VM_ADDR_LEN);
    memcpy(vr.validators, c->proposer.b, VM_ADDR_LEN);
    vm_result res;
    memset(&res, 0, sizeof res);
    int rc = run_ex(ex, &m->reward_contract, &tx->from, rec->fee, NULL, 0, &vr, gas_left(tx, r), 1,
                    r, &res, err);
    role_state rs = {.owner_share = bp_share(rec->fee, m->owner_bp),
                     .validators_share = bp_share(rec->fee, m->validators_bp)};
    for (size_t i = 0; rc == 0 && i < res.n_events; i++) {
        const vm_event *e = &res.events[i];
        if (is_contribution_log(e) && (i == 0 || res.events[i - 1].kind != VM_EVENT_PAY))
            rc = util_err_set(err, UTIL_EINVAL,
                              "invalid_payout: a contribution log must follow the pay it labels");
        if (rc || e->kind != VM_EVENT_PAY) continue;
        chain_payout p = {.amount = e->amount};
        memcpy(p.recipient.b, e->to, CHAIN_ADDR_LEN);
        if (i + 1 < res.n_events && is_contribution_log(&res.events[i + 1])) {
            p.role = CHAIN_ROLE_CONTRIBUTOR;
            rc = contributor_label(&res, i, rec, &p.contribution, err);
        } else {
            p.role = pay_role(&rs, e, &vr);
        }
        if (!rc) rc = chain_record_add_payout(rec, r, &m->reward_contract, &p, err);
    }
    vm_result_free(&res);
    free(ents);
    return rc;
}

int chain_contract_call_readonly(chain_store *st, const chain_exec_ctx *ctx, const chain_addr *from,
                                 const chain_addr *to, uint64_t value, const uint8_t *input,
                                 size_t len, uint64_t gas_limit, chain_receipt *r, util_err *err)
{
    util_err local = {0};
    if (!err) err = &local; /* the failure's message goes into the receipt */
    chain_exec *ex = chain_exec_new(st, ctx);
    if (!ex) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    memset(r, 0, sizeof *r);
    int rc = 0;
    /* The value is credited in the throwaway overlay, as if the caller had it:
     * a read-only call answers "what would happen", it moves nothing. */
    if (value) {
        chain_account acc;
        if ((rc = chain_exec_get_account(ex, to, &acc, err)) == 0) {
            acc.balance = acc.balance > UINT64_MAX - value ? UINT64_MAX : acc.balance + value;
            rc = chain_exec_set_account(ex, to, &acc, err);
        }
    }
    vm_result res;
    memset(&res, 0, sizeof res);
    if (!rc) {
        rc = run(ex, to, from, value, input, len, NULL, gas_limit, r, &res, err);
        if (rc == UTIL_EINVAL) {
            /* Like a failed transaction: no events or return data, the
             * revert data kept. */
            chain_receipt_fail(r, err->msg);
            rc = 0;
        }
    }
    vm_result_free(&res);
    chain_exec_free(ex);
    return rc;
}
