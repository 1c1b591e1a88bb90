/* prove: fetch an account's state proof and check it here, trusting only a
 * genesis: the header must be finalised by a commit of more than 2/3 of its
 * validators, the proof must hold against its state root (cli/light.h,
 * docs/proofs.md; docs/cli.md says what that does and does not prove). */
#include <stdlib.h>
#include <string.h>

#include "chain/state/store.h"
#include "cli/cli.h"
#include "cli/light.h"
#include "util/amount.h"
#include "util/hex.h"

typedef struct proven {
    uint64_t height;
    uint8_t state_root[32];
    int present;
    chain_account acc;
} proven;

/* The proof (cli_light_check_proof), then the value: it must decode to an
 * account, and the account shown must be it. */
static int verify(const json_t *res, const chain_genesis *g, const char *addrstr,
                  const chain_addr *addr, proven *pv, util_err *err)
{
    const char *ra = cli_json_str(res, "address", err);
    if (!ra) return UTIL_EIO;
    if (strcmp(ra, addrstr) != 0)
        return util_err_set(err, UTIL_EINVAL, "the proof is for %s, not %s", ra, addrstr);
    const json_t *jacc = json_object_get(res, "account");
    const json_t *jval = json_object_get(res, "value");
    if (json_is_null(jacc) != json_is_null(jval) || (!json_is_null(jacc) && !json_is_object(jacc)))
        return util_err_set(err, UTIL_EINVAL,
                            "'account' and 'value' must both be null or both be present");
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN];
    chain_account_key(key, addr);
    cli_proven cp;
    int rc = cli_light_check_proof(res, g, key, sizeof key, "this address's account key", &cp, err);
    if (rc) return rc;
    pv->height = cp.h.height;
    memcpy(pv->state_root, cp.h.state_root, 32);
    pv->present = cp.present;
    if (cp.present) {
        chain_account shown;
        if (chain_account_decode(&pv->acc, cp.value, cp.vlen))
            rc = util_err_set(err, UTIL_EINVAL, "value is %zu bytes, not an account (%d)", cp.vlen,
                              CHAIN_ACCOUNT_VALUE_LEN);
        else if (!(rc = cli_json_amount(jacc, "balance", &shown.balance, err)) &&
                 !(rc = cli_json_u64(jacc, "nonce", &shown.nonce, err)) &&
                 (shown.balance != pv->acc.balance || shown.nonce != pv->acc.nonce))
            rc = util_err_set(
                err, UTIL_EINVAL,
                "the account shown (balance %llu, nonce %llu) is not the proven value "
                "(balance %llu, nonce %llu)",
                (unsigned long long)shown.balance, (unsigned long long)shown.nonce,
                (unsigned long long)pv->acc.balance, (unsigned long long)pv->acc.nonce);
    }
    cli_proven_free(&cp);
    return rc;
}

int cli_cmd_prove(cli_ctx *ctx, const cli_args *a)
{
    util_err e;
    chain_addr addr;
    char addrstr[CHAIN_ADDR_STR_LEN + 1];
    if (cli_resolve_address(ctx, a->pos[0], &addr, addrstr, &e)) return cli_fail_err(ctx, &e);
    chain_genesis g;
    if (cli_light_genesis(&g, a->opt[CLI_OPT_GENESIS], &e)) {
        util_err_prefix(&e, "trusted genesis: ");
        return cli_fail_err(ctx, &e);
    }
    json_t *res;
    if (cli_rpc_call(ctx, "state_getProof", json_pack("[s]", addrstr), &res, NULL, &e)) {
        chain_genesis_free(&g);
        return cli_fail_err(ctx, &e);
    }
    proven pv;
    memset(&pv, 0, sizeof pv);
    if (!json_is_object(res)) {
        json_decref(res);
        chain_genesis_free(&g);
        return cli_fail(ctx, "node answer to state_getProof is not an object");
    }
    int vrc = verify(res, &g, addrstr, &addr, &pv, &e);
    chain_genesis_free(&g);
    if (vrc) {
        json_decref(res);
        return cli_fail(ctx, "proof verification FAILED for %s: %s", addrstr, e.msg);
    }
    int rc = CLI_EXIT_OK;
    char root[67] = "0x";
    util_hex_encode(root + 2, pv.state_root, 32);
    if (ctx->json) {
        rc = cli_print_json(ctx, res);
    } else if (pv.present) {
        char amt[UTIL_AMOUNT_STR_MAX];
        util_amount_format_open(amt, pv.acc.balance);
        fprintf(ctx->out, "proof OK: %s has %s OPEN, nonce %llu at height %llu (state root %s)\n",
                addrstr, amt, (unsigned long long)pv.acc.nonce, (unsigned long long)pv.height,
                root);
    } else {
        fprintf(ctx->out, "proof OK: %s is absent at height %llu (state root %s)\n", addrstr,
                (unsigned long long)pv.height, root);
    }
    json_decref(res);
    return rc;
}
