/* send: build, sign and submit a TRANSFER, then wait for its receipt. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "chain/tx.h"
#include "cli/cli.h"
#include "util/amount.h"
#include "util/hex.h"
#include "util/time.h"

#define POLL_MS 200
#define TIMEOUT_MAX_S 86400

typedef struct send_args {
    uint64_t amount, gas_price, gas_limit, nonce, timeout_s;
    int have_nonce;
} send_args;

static int parse_opts(cli_ctx *ctx, const cli_args *a, send_args *s)
{
    const char *v;
    s->gas_price = 1;
    s->gas_limit = CHAIN_GAS_TRANSFER;
    s->timeout_s = 30;
    if (util_amount_parse_open(a->opt[CLI_OPT_AMOUNT], &s->amount))
        return cli_usage_fail(ctx,
                              "--amount '%s' is not an OPEN amount (digits, optionally '.' and at "
                              "most 9 decimals, e.g. 1.25)",
                              a->opt[CLI_OPT_AMOUNT]);
    if ((v = a->opt[CLI_OPT_GAS_PRICE]) && cli_parse_u64(v, &s->gas_price))
        return cli_usage_fail(ctx, "--gas-price '%s' is not a whole number of base units", v);
    if ((v = a->opt[CLI_OPT_GAS_LIMIT]) && cli_parse_u64(v, &s->gas_limit))
        return cli_usage_fail(ctx, "--gas-limit '%s' is not a whole number", v);
    if ((v = a->opt[CLI_OPT_NONCE])) {
        if (cli_parse_u64(v, &s->nonce))
            return cli_usage_fail(ctx, "--nonce '%s' is not a whole number", v);
        s->have_nonce = 1;
    }
    if ((v = a->opt[CLI_OPT_TIMEOUT]) &&
        (cli_parse_u64(v, &s->timeout_s) || s->timeout_s > TIMEOUT_MAX_S))
        return cli_usage_fail(ctx, "--timeout '%s' must be whole seconds from 0 to %d", v,
                              TIMEOUT_MAX_S);
    uint64_t cost;
    if (util_mul_u64(s->gas_limit, s->gas_price, &cost) || util_add_u64(cost, s->amount, &cost))
        return cli_usage_fail(ctx, "gas limit x gas price + amount overflows 64 bits");
    return 0;
}

/* chainId from node_status and, unless given, the pending nonce of from. */
static int fetch_chain_and_nonce(cli_ctx *ctx, const char *from, send_args *s, char *chain_id,
                                 util_err *e)
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
    json_decref(res);
    if (s->have_nonce) return 0;
    if ((rc = cli_rpc_call(ctx, "account_get", json_pack("[s]", from), &res, NULL, e))) return rc;
    rc = cli_json_u64(res, "pendingNonce", &s->nonce, e);
    json_decref(res);
    return rc;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Polls until the tx is no longer pending. *res gets the last answer. */
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

static int build_and_encode(cli_ctx *ctx, const cli_args *a, const send_args *s,
                            const char *chain_id, const chain_addr *to, char **hex, char txid[67])
{
    util_err e;
    chain_keypair kp;
    if (cli_resolve_signer(ctx, a->opt[CLI_OPT_FROM], &kp, &e)) return cli_fail_err(ctx, &e);
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain_id);
    tx.type = CHAIN_TX_TRANSFER;
    tx.nonce = s->nonce;
    tx.gas_limit = s->gas_limit;
    tx.gas_price = s->gas_price;
    tx.body.transfer.to = *to;
    tx.body.transfer.amount = s->amount;
    int rc = chain_tx_sign(&tx, &kp, &e);
    chain_keypair_clear(&kp);
    util_buf b;
    util_buf_init(&b);
    if (!rc) rc = chain_tx_encode(&tx, &b);
    if (rc) {
        chain_tx_free(&tx);
        util_buf_free(&b);
        return rc == UTIL_ENOMEM ? cli_fail(ctx, "out of memory") : cli_fail_err(ctx, &e);
    }
    txid[0] = '0';
    txid[1] = 'x';
    util_hex_encode(txid + 2, tx.id, 32);
    chain_tx_free(&tx);
    *hex = malloc(2 * b.len + 3);
    if (!*hex) {
        util_buf_free(&b);
        return cli_fail(ctx, "out of memory");
    }
    (*hex)[0] = '0';
    (*hex)[1] = 'x';
    util_hex_encode(*hex + 2, b.data, b.len);
    util_buf_free(&b);
    return CLI_EXIT_OK;
}

int cli_cmd_send(cli_ctx *ctx, const cli_args *a)
{
    send_args s;
    memset(&s, 0, sizeof s);
    int rc = parse_opts(ctx, a, &s);
    if (rc) return rc;
    util_err e;
    chain_addr to, from;
    char tostr[CHAIN_ADDR_STR_LEN + 1], fromstr[CHAIN_ADDR_STR_LEN + 1];
    if (cli_resolve_address(ctx, a->opt[CLI_OPT_TO], &to, tostr, &e)) return cli_fail_err(ctx, &e);
    if (strncasecmp(a->opt[CLI_OPT_FROM], "ol1", 3) == 0)
        return cli_usage_fail(ctx, "--from needs a key name (keystore or dev0..dev9), not an "
                                   "address");
    if (cli_resolve_address(ctx, a->opt[CLI_OPT_FROM], &from, fromstr, &e))
        return cli_fail_err(ctx, &e);

    char chain_id[CHAIN_ID_MAX + 1];
    if (fetch_chain_and_nonce(ctx, fromstr, &s, chain_id, &e)) return cli_fail_err(ctx, &e);
    char *hex = NULL, txid[67];
    if ((rc = build_and_encode(ctx, a, &s, chain_id, &to, &hex, txid))) return rc;

    json_t *res = NULL;
    rc = cli_rpc_call(ctx, "tx_send", json_pack("[s]", hex), &res, NULL, &e);
    free(hex);
    if (rc) return cli_fail_err(ctx, &e);
    if (!json_is_string(res)) {
        json_decref(res);
        return cli_fail(ctx, "node answer to tx_send is not a hash string");
    }
    if (strcmp(json_string_value(res), txid) != 0)
        fprintf(ctx->err, "warning: node reports hash %s, computed %s\n", json_string_value(res),
                txid);
    if (a->opt[CLI_OPT_NO_WAIT]) {
        if (ctx->json)
            rc = cli_print_json(ctx, res);
        else
            fprintf(ctx->out, "hash:      %s\n", txid);
        json_decref(res);
        return rc;
    }
    json_decref(res);
    if (!ctx->json) {
        fprintf(ctx->out, "hash:      %s\n", txid);
        fflush(ctx->out);
    }
    json_t *txr = NULL;
    if ((rc = wait_tx(ctx, txid, s.timeout_s, &txr))) return rc;
    if (ctx->json)
        rc = cli_print_json(ctx, txr);
    else if (cli_print_tx_outcome(ctx, txr, &e))
        rc = cli_fail_err(ctx, &e);
    const json_t *rcpt = json_object_get(txr, "receipt");
    const char *st = cli_json_str(rcpt, "status", NULL);
    if (!rc && (!st || strcmp(st, "success") != 0)) {
        json_t *er = json_object_get(rcpt, "error");
        rc = cli_fail(ctx, "transaction failed%s%s", json_is_string(er) ? ": " : "",
                      json_is_string(er) ? json_string_value(er) : "");
    }
    json_decref(txr);
    return rc;
}
