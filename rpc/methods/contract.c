/* contract_get, contract_call (read-only), contract_getStorage. */
#include <stdlib.h>
#include <string.h>

#include "chain/exec/contract.h"
#include "chain/exec/exec_ctx.h"
#include "chain/crypto/hash.h"
#include "chain/state/objects.h"
#include "rpc/methods/methods.h"
#include "rpc/params.h"

static json_t *m_contract_get(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    chain_addr a;
    if (rpc_param_count(params, 1, 1, e) || rpc_param_addr(params, 0, "address", &a, e))
        return NULL;
    uint8_t *code = NULL, h[32];
    size_t len = 0;
    util_err ue = {0};
    int rc = chain_store_get_code(env->store, &a, &code, &len, &ue);
    if (rc == UTIL_ENOTFOUND)
        return rpc_fail(e, RPC_NOT_FOUND, NULL, "no contract at that address");
    if (rc) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
    chain_sha256(h, code, len);
    free(code);
    chain_account acc;
    if (chain_store_get_account(env->store, &a, &acc, &ue))
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
    return json_pack("{s:o,s:o,s:I,s:o,s:I}", "address", rpc_json_addr(&a), "codeHash",
                     rpc_json_hex(h, 32), "codeSize", (json_int_t)len, "balance",
                     rpc_json_u64str(acc.balance), "height",
                     (json_int_t)chain_store_height(env->store));
}

/* A read-only call runs at most CALL_GAS_MAX gas (a larger gasLimit is
 * lowered to it), about 12 ms at 2.5 ns per gas in a release build. The gas
 * is taken from the request's work budgets before the call runs (the whole
 * limit, since the call may use all of it) and what it did not use is given
 * back; when they hold less, the call is refused with -32006 and
 * data.reason "budget_exhausted" (docs/rpc-protocol.md, "Budgets of work"). */
#define CALL_GAS_MAX 5000000u
#define CALL_GAS_DEFAULT CALL_GAS_MAX

/* params: [to, inputHex, options?] options: {from, value, gasLimit} */
static json_t *m_contract_call(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    chain_addr to, from;
    memset(&from, 0, sizeof from);
    uint8_t *input = NULL;
    size_t len = 0;
    uint64_t value = 0, gas = CALL_GAS_DEFAULT;
    if (rpc_param_count(params, 1, 3, e) || rpc_param_addr(params, 0, "to", &to, e)) return NULL;
    if (rpc_param_present(params, 1) &&
        rpc_param_hex(params, 1, "input", CHAIN_INPUT_MAX, &input, &len, e))
        return NULL;
    json_t *opt = json_array_get(params, 2);
    if (opt && !json_is_null(opt)) {
        if (!json_is_object(opt)) {
            free(input);
            return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param 2 (options): must be an object");
        }
        /* Reuse the positional helpers on one-element arrays for the same messages. */
        const char *keys[] = {"from", "value", "gasLimit"};
        for (size_t i = 0; i < 3; i++) {
            json_t *v = json_object_get(opt, keys[i]);
            if (!v) continue;
            json_t *arr = json_pack("[O]", v);
            int bad = i == 0   ? rpc_param_addr(arr, 0, keys[i], &from, e)
                      : i == 1 ? rpc_param_u64(arr, 0, keys[i], &value, e)
                               : rpc_param_u64(arr, 0, keys[i], &gas, e);
            json_decref(arr);
            if (bad) {
                free(input);
                return NULL;
            }
        }
        if (gas > CALL_GAS_MAX) gas = CALL_GAS_MAX;
    }
    if (gas == 0) gas = 1; /* runs nothing, and a take of 0 is not allowed */
    if (!rpc_budget_take(call, gas)) {
        uint64_t left = rpc_budget_left(call);
        free(input);
        return rpc_fail(e, RPC_LIMIT_EXCEEDED,
                        json_pack("{s:s,s:I,s:I}", "reason", "budget_exhausted", "gasNeeded",
                                  (json_int_t)gas, "gasLeft", (json_int_t)left),
                        "work budget exhausted: this call needs %llu gas, the request's budgets "
                        "hold %llu",
                        (unsigned long long)gas, (unsigned long long)left);
    }
    /* The head is copied while the node's lock is held: a commit replaces it. */
    const chain_header *h = chain_store_head_header(env->store);
    /* As the next block would run it. Its minimum gas price matters only to
     * transactions, and a read-only call is none. */
    chain_exec_ctx cx = chain_exec_ctx_next(env->genesis, h, h->time_ms, &h->proposer);
    chain_receipt r;
    memset(&r, 0, sizeof r);
    util_err ue = {0};
    /* The VM reads only the store, which any thread may read: other
     * requests and block production go on meanwhile. */
    unsigned tok = env->vm_begin ? env->vm_begin(env->ctx) : 0;
    int rc =
        chain_contract_call_readonly(env->store, &cx, &from, &to, value, input, len, gas, &r, &ue);
    if (env->vm_end) env->vm_end(env->ctx, tok);
    free(input);
    rpc_budget_give_back(call, r.gas_used >= gas ? 0 : gas - r.gas_used);
    if (rc == UTIL_ENOTFOUND) return rpc_fail(e, RPC_NOT_FOUND, NULL, "%s", ue.msg);
    if (rc) return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
    if (r.status != CHAIN_RECEIPT_OK) {
        /* A failed call emitted nothing: events recorded before the failure
         * (a call that exceeds the receipt's event limit) are dropped, as a
         * block drops them. */
        for (uint32_t i = 0; i < r.nevents; i++)
            free(r.events[i].data);
        free(r.events);
        r.events = NULL;
        r.nevents = 0;
    }
    json_t *out = rpc_json_receipt(&r);
    chain_receipt_free(&r);
    return out ? out : rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
}

static json_t *m_contract_storage(void *ctx, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    chain_addr a;
    uint8_t key[32], val[32];
    if (rpc_param_count(params, 2, 2, e) || rpc_param_addr(params, 0, "address", &a, e) ||
        rpc_param_hash32(params, 1, "key", key, e))
        return NULL;
    util_err ue = {0};
    /* An absent word reads as zero. */
    if (chain_store_get_storage(env->store, &a, key, val, &ue))
        return rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "%s", ue.msg);
    return rpc_json_hex(val, 32);
}

int rpc_methods_contract_register(rpc_dispatch *d, rpc_env *env)
{
    if (rpc_dispatch_add(d, "contract_get", m_contract_get, env) ||
        rpc_dispatch_add_ex(d, "contract_call", m_contract_call, env, 0) ||
        rpc_dispatch_add(d, "contract_getStorage", m_contract_storage, env))
        return -1;
    return 0;
}
