/* cli_tx_submit: sign with --from, tx_send, wait for the receipt. */
#include "cli/tx_submit.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/amount.h"
#include "util/hex.h"
#include "util/time.h"

#define POLL_MS 200
#define TIMEOUT_MAX_S 86400

typedef struct txopts {
    uint64_t gas_price, gas_limit, nonce, timeout_s;
    int have_nonce, have_gas_limit;
} txopts;

static int parse_opts(cli_ctx *ctx, const cli_args *a, txopts *o)
{
    const char *v;
    memset(o, 0, sizeof *o);
    o->gas_price = 1;
    o->timeout_s = 30;
    if ((v = a->opt[CLI_OPT_GAS_PRICE]) && cli_parse_u64(v, &o->gas_price))
        return cli_usage_fail(ctx, "--gas-price '%s' is not a whole number of base units", v);
    if ((v = a->opt[CLI_OPT_GAS_LIMIT])) {
        if (cli_parse_u64(v, &o->gas_limit))
            return cli_usage_fail(ctx, "--gas-limit '%s' is not a whole number", v);
        o->have_gas_limit = 1;
    }
    if ((v = a->opt[CLI_OPT_NONCE])) {
        if (cli_parse_u64(v, &o->nonce))
            return cli_usage_fail(ctx, "--nonce '%s' is not a whole number", v);
        o->have_nonce = 1;
    }
    if ((v = a->opt[CLI_OPT_TIMEOUT]) &&
        (cli_parse_u64(v, &o->timeout_s) || o->timeout_s > TIMEOUT_MAX_S))
        return cli_usage_fail(ctx, "--timeout '%s' must be whole seconds from 0 to %d", v,
                              TIMEOUT_MAX_S);
    return 0;
}

/* One node_status gives both halves of the signing domain: the chain id and
 * the genesis hash (docs/encoding.md). */
static int fetch_chain_and_nonce(cli_ctx *ctx, const char *from, txopts *o, char *chain_id,
                                 uint8_t genesis_hash[32], util_err *e)
{
    json_t *res;
    int rc = cli_rpc_call(ctx, "node_status", NULL, &res, NULL, e);
    if (rc) return rc;
    const char *cid = cli_json_str(res, "chainId", e);
    if (!cid || !chain_id_valid(cid)) {
        json_decref(res);
        return cid ? util_err_set(e, UTIL_EIO, "node answer: invalid chainId") : UTIL_EIO;
    }
    snprintf(chain_id, CHAIN_ID_MAX + 1, "%s", cid);
    rc = cli_json_hex32(res, "genesisHash", genesis_hash, e);
    json_decref(res);
    if (rc) return rc;
    if (o->have_nonce) return 0;
    if ((rc = cli_rpc_call(ctx, "account_get", json_pack("[s]", from), &res, NULL, e))) return rc;
    rc = cli_json_u64(res, "pendingNonce", &o->nonce, e);
    json_decref(res);
    return rc;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Polls until the tx is no longer pending; *res gets the last answer. */
static int wait_tx(cli_ctx *ctx, const char *hash, uint64_t timeout_s, json_t **res)
{
    uint64_t deadline = util_mono_ns() + timeout_s * 1000000000ull;
    int seen = 0;
    for (;;) {
        util_err e;
        json_t *r = NULL;
        int rc = cli_rpc_call(ctx, "chain_getTransaction", json_pack("[s]", hash), &r, NULL, &e);
        if (rc && rc != UTIL_ENOTFOUND) return cli_fail_err(ctx, &e);
        if (!rc) {
            seen = 1;
            json_t *p = json_object_get(r, "pending");
            if (!json_is_boolean(p)) {
                json_decref(r);
                return cli_fail(ctx, "node answer: 'pending' is not a boolean");
            }
            if (json_is_false(p)) {
                *res = r;
                return CLI_EXIT_OK;
            }
            json_decref(r);
        }
        if (util_mono_ns() >= deadline)
            return cli_fail(ctx, "transaction %s not in a block after %llu s (%s)", hash,
                            (unsigned long long)timeout_s,
                            seen ? "still pending" : "the node does not know it: dropped?");
        sleep_ms(POLL_MS);
    }
}

/* Signs and hex-encodes ("0x..."); *hex is malloc'd. */
static int sign_and_encode(cli_ctx *ctx, const char *from, chain_tx *tx,
                           const uint8_t genesis_hash[32], char **hex, char txid[67])
{
    util_err e;
    chain_keypair kp;
    if (cli_resolve_signer(ctx, from, &kp, &e)) return cli_fail_err(ctx, &e);
    int rc = chain_tx_sign(tx, &kp, genesis_hash, &e);
    chain_keypair_clear(&kp);
    if (rc) return cli_fail_err(ctx, &e);
    util_buf b;
    util_buf_init(&b);
    if (chain_tx_encode(tx, &b) || !(*hex = malloc(2 * b.len + 3))) {
        util_buf_free(&b);
        return cli_fail(ctx, "out of memory");
    }
    (*hex)[0] = '0';
    (*hex)[1] = 'x';
    util_hex_encode(*hex + 2, b.data, b.len);
    util_buf_free(&b);
    txid[0] = '0';
    txid[1] = 'x';
    util_hex_encode(txid + 2, tx->id, 32);
    return CLI_EXIT_OK;
}

int cli_tx_submit(cli_ctx *ctx, const cli_args *a, chain_tx *tx, cli_submit *s)
{
    s->result = NULL;
    s->included_ok = 0;
    s->txid[0] = 0;
    txopts o;
    int rc = parse_opts(ctx, a, &o);
    if (rc) return rc;
    const char *from = a->opt[CLI_OPT_FROM];
    if (strncasecmp(from, "ol1", 3) == 0)
        return cli_usage_fail(ctx, "--from needs a key name (keystore or dev0..dev9), not an "
                                   "address");
    /* Usage errors first, before asking the node anything. */
    tx->version = CHAIN_TX_VERSION;
    tx->gas_price = o.gas_price;
    tx->gas_limit = o.have_gas_limit ? o.gas_limit : chain_tx_intrinsic_gas(tx) + s->extra_gas;
    uint64_t cost;
    if (chain_tx_max_cost(tx, &cost))
        return cli_usage_fail(ctx, "gas limit x gas price + value overflows 64 bits");

    util_err e;
    chain_addr fa;
    char fromstr[CHAIN_ADDR_STR_LEN + 1], chain_id[CHAIN_ID_MAX + 1];
    uint8_t genesis_hash[32];
    if (cli_resolve_address(ctx, from, &fa, fromstr, &e) ||
        fetch_chain_and_nonce(ctx, fromstr, &o, chain_id, genesis_hash, &e))
        return cli_fail_err(ctx, &e);
    snprintf(tx->chain_id, sizeof tx->chain_id, "%s", chain_id);
    tx->nonce = o.nonce;

    char *hex = NULL;
    if ((rc = sign_and_encode(ctx, from, tx, genesis_hash, &hex, s->txid))) return rc;
    json_t *res = NULL;
    rc = cli_rpc_call(ctx, "tx_send", json_pack("[s]", hex), &res, NULL, &e);
    free(hex);
    if (rc) return cli_fail_err(ctx, &e);
    if (!json_is_string(res)) {
        json_decref(res);
        return cli_fail(ctx, "node answer to tx_send is not a hash string");
    }
    if (strcmp(json_string_value(res), s->txid) != 0)
        fprintf(ctx->err, "warning: node reports hash %s, computed %s\n", json_string_value(res),
                s->txid);
    json_decref(res);
    if (!ctx->json) {
        fprintf(ctx->out, "hash:      %s\n", s->txid);
        fflush(ctx->out);
    }
    if (a->opt[CLI_OPT_NO_WAIT]) {
        if (ctx->json && !s->caller_prints_no_wait_json) {
            json_t *h = json_string(s->txid);
            rc = cli_print_json(ctx, h);
            json_decref(h);
        }
        return rc;
    }
    if ((rc = wait_tx(ctx, s->txid, o.timeout_s, &s->result))) return rc;
    if (!ctx->json && cli_print_tx_outcome(ctx, s->result, &e)) return cli_fail_err(ctx, &e);
    const char *st = cli_json_str(json_object_get(s->result, "receipt"), "status", NULL);
    s->included_ok = st && strcmp(st, "success") == 0;
    return CLI_EXIT_OK;
}

int cli_tx_report_failure(cli_ctx *ctx, const cli_submit *s)
{
    json_t *er = json_object_get(json_object_get(s->result, "receipt"), "error");
    /* The error can carry a contract's revert message: escaped like every
     * node-supplied text (cli_print_safe). */
    fputs("error: transaction failed", ctx->err);
    if (json_is_string(er)) {
        fputs(": ", ctx->err);
        cli_print_safe(ctx->err, json_string_value(er));
    }
    fputc('\n', ctx->err);
    return CLI_EXIT_ERR;
}
