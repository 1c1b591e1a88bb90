/* prove: fetch an account's state proof and check it here, trusting only a
 * genesis: the header must be finalised by a commit of more than 2/3 of its
 * validators (cli/light.h), the proof must hold against its state root
 * (docs/cli.md says what that does and does not prove). */
#include <stdlib.h>
#include <string.h>

#include "chain/types/block.h"
#include "chain/crypto/hash.h"
#include "chain/state/smt.h"
#include "chain/state/store.h"
#include "cli/cli.h"
#include "cli/light.h"
#include "util/amount.h"
#include "util/hex.h"

#define HEADER_RAW_MAX (64 * 1024)
#define PROOF_MAX (CHAIN_SMT_MAX_DEPTH * 32 + 128)
/* round, count and CHAIN_MAX_VALIDATORS x (index varint, signature). */
#define COMMIT_RAW_MAX (4 + 1 + CHAIN_MAX_VALIDATORS * (1 + 64))

typedef struct proven {
    uint64_t height;
    uint8_t state_root[32];
    int present;
    chain_account acc;
} proven;

/* Decodes a "0x" hex field into a malloc'd buffer. */
static int get_bytes(const json_t *o, const char *key, size_t max, uint8_t **out, size_t *n,
                     util_err *err)
{
    const char *s = cli_json_str(o, key, err);
    if (!s) return UTIL_EIO;
    if (strncmp(s, "0x", 2) != 0 || util_hex_decode_alloc(s, max, out, n))
        return util_err_set(err, UTIL_EIO,
                            "node answer: '%s' is not 0x-prefixed hex of at most "
                            "%zu bytes",
                            key, max);
    return 0;
}

/* The header: decodes headerRaw, checks it hashes to headerHash and agrees
 * with the JSON header shown. */
static int check_header(const json_t *res, chain_header *h, util_err *err)
{
    uint8_t *raw = NULL, want[32], got[32];
    size_t n = 0;
    int rc = get_bytes(res, "headerRaw", HEADER_RAW_MAX, &raw, &n, err);
    if (rc) return rc;
    rc = chain_header_decode(h, raw, n, err);
    free(raw);
    if (rc) {
        util_err_prefix(err, "headerRaw does not decode: ");
        return UTIL_EINVAL;
    }
    if ((rc = cli_json_hex32(res, "headerHash", want, err))) return rc;
    chain_header_hash(h, got);
    if (memcmp(got, want, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "headerRaw does not hash to headerHash");
    const json_t *jh = json_object_get(res, "header");
    uint64_t height;
    uint8_t root[32];
    if (!json_is_object(jh)) return util_err_set(err, UTIL_EIO, "node answer: no 'header'");
    if ((rc = cli_json_u64(jh, "height", &height, err))) return rc;
    if (height != h->height)
        return util_err_set(err, UTIL_EINVAL, "header height %llu differs from headerRaw's %llu",
                            (unsigned long long)height, (unsigned long long)h->height);
    if ((rc = cli_json_hex32(jh, "stateRoot", root, err))) return rc;
    if (memcmp(root, h->state_root, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "header stateRoot differs from headerRaw's");
    return 0;
}

/* The proven key and value: the key must be this address's account key; the
 * value, when present, must decode to the account shown. *vh is set to
 * SHA-256(value) and *has_value to whether there is one. */
static int check_value(const json_t *res, const chain_addr *addr, uint8_t path[32], uint8_t vh[32],
                       proven *pv, util_err *err)
{
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN], *nk = NULL, npath[32];
    size_t nkl = 0;
    chain_account_key(key, addr);
    chain_sha256(path, key, sizeof key);
    int rc = get_bytes(res, "stateKey", 64, &nk, &nkl, err);
    if (rc) return rc;
    int same = nkl == sizeof key && memcmp(nk, key, nkl) == 0;
    free(nk);
    if (!same) return util_err_set(err, UTIL_EINVAL, "stateKey is not this address's account key");
    if ((rc = cli_json_hex32(res, "path", npath, err))) return rc;
    if (memcmp(npath, path, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "path is not SHA-256(stateKey)");

    const json_t *jacc = json_object_get(res, "account");
    const json_t *jval = json_object_get(res, "value");
    if (json_is_null(jacc) && json_is_null(jval)) {
        pv->present = 0;
        return 0;
    }
    if (!json_is_object(jacc) || !json_is_string(jval))
        return util_err_set(err, UTIL_EINVAL,
                            "'account' and 'value' must both be null or both be present");
    uint8_t *val = NULL;
    size_t vl = 0;
    if ((rc = get_bytes(res, "value", 1024, &val, &vl, err))) return rc;
    chain_account shown;
    if (chain_account_decode(&pv->acc, val, vl)) {
        free(val);
        return util_err_set(err, UTIL_EINVAL, "value is %zu bytes, not an account (%d)", vl,
                            CHAIN_ACCOUNT_VALUE_LEN);
    }
    chain_sha256(vh, val, vl);
    free(val);
    if ((rc = cli_json_amount(jacc, "balance", &shown.balance, err)) ||
        (rc = cli_json_u64(jacc, "nonce", &shown.nonce, err)))
        return rc;
    if (shown.balance != pv->acc.balance || shown.nonce != pv->acc.nonce)
        return util_err_set(err, UTIL_EINVAL,
                            "the account shown (balance %llu, nonce %llu) is not the proven value "
                            "(balance %llu, nonce %llu)",
                            (unsigned long long)shown.balance, (unsigned long long)shown.nonce,
                            (unsigned long long)pv->acc.balance, (unsigned long long)pv->acc.nonce);
    pv->present = 1;
    return 0;
}

/* The commit the node says finalised the header: decoded from commitRaw and
 * checked against the trusted genesis's validators, not the node's word. */
static int check_commit(const json_t *res, const chain_genesis *g, const chain_header *h,
                        util_err *err)
{
    uint8_t *raw = NULL;
    size_t n = 0;
    if (!json_object_get(res, "commitRaw"))
        return util_err_set(err, UTIL_EINVAL,
                            "the node sent no commit for the header (no 'commitRaw'), so nothing "
                            "shows that the validators signed it");
    int rc = get_bytes(res, "commitRaw", COMMIT_RAW_MAX, &raw, &n, err);
    if (rc) return rc;
    chain_commit c;
    util_rd r;
    util_rd_init(&r, raw, n);
    rc = chain_commit_read(&c, &r, err);
    if (!rc && util_rd_end(&r)) rc = util_err_set(err, UTIL_EINVAL, "trailing bytes");
    free(raw);
    if (rc) {
        util_err_prefix(err, "commitRaw does not decode: ");
        return UTIL_EINVAL;
    }
    return cli_light_verify(g, h, &c, err);
}

static int verify(const json_t *res, const chain_genesis *g, const char *addrstr,
                  const chain_addr *addr, proven *pv, util_err *err)
{
    const char *ra = cli_json_str(res, "address", err);
    if (!ra) return UTIL_EIO;
    if (strcmp(ra, addrstr) != 0)
        return util_err_set(err, UTIL_EINVAL, "the proof is for %s, not %s", ra, addrstr);
    chain_header h;
    int rc = check_header(res, &h, err);
    if (rc) return rc;
    if ((rc = check_commit(res, g, &h, err))) return rc;
    pv->height = h.height;
    memcpy(pv->state_root, h.state_root, 32);

    uint8_t path[32], vh[32];
    if ((rc = check_value(res, addr, path, vh, pv, err))) return rc;

    uint8_t *raw = NULL;
    size_t n = 0;
    if ((rc = get_bytes(res, "proof", PROOF_MAX, &raw, &n, err))) return rc;
    chain_smt_proof *proof = malloc(sizeof *proof);
    if (!proof) {
        free(raw);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    rc = chain_smt_proof_decode(proof, raw, n, err);
    free(raw);
    if (rc) {
        util_err_prefix(err, "proof does not decode: ");
    } else if ((rc = chain_smt_verify(h.state_root, path, pv->present ? vh : NULL, proof, err))) {
        util_err_prefix(err, "proof does not hold against the state root: ");
    }
    free(proof);
    return rc ? UTIL_EINVAL : 0;
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
