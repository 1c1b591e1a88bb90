/* Read-only commands: balance, status, tx, block. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "util/amount.h"
#include "util/hex.h"

void cli_format_time_ms(char *out, size_t cap, uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, cap, "%llu ms", (unsigned long long)ms);
        return;
    }
    char d[32];
    strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03u UTC", d, (unsigned)(ms % 1000));
}

/* Runs one call; on failure prints the error and returns 1. */
static int call(cli_ctx *ctx, const char *method, json_t *params, json_t **res)
{
    util_err e;
    if (cli_rpc_call(ctx, method, params, res, NULL, &e)) return cli_fail_err(ctx, &e);
    return 0;
}

int cli_cmd_balance(cli_ctx *ctx, const cli_args *a)
{
    util_err e;
    chain_addr ad;
    char addr[CHAIN_ADDR_STR_LEN + 1];
    if (cli_resolve_address(ctx, a->pos[0], &ad, addr, &e)) return cli_fail_err(ctx, &e);
    json_t *res;
    if (call(ctx, "account_get", json_pack("[s]", addr), &res)) return CLI_EXIT_ERR;
    int rc = CLI_EXIT_OK;
    uint64_t bal, nonce, pending;
    if (ctx->json) {
        rc = cli_print_json(ctx, res);
    } else if (cli_json_amount(res, "balance", &bal, &e) ||
               cli_json_u64(res, "nonce", &nonce, &e) ||
               cli_json_u64(res, "pendingNonce", &pending, &e)) {
        rc = cli_fail_err(ctx, &e);
    } else {
        char amt[96];
        cli_format_amount(amt, sizeof amt, bal);
        fprintf(ctx->out, "%s, nonce %llu", amt, (unsigned long long)nonce);
        if (pending != nonce) fprintf(ctx->out, " (pending %llu)", (unsigned long long)pending);
        fputc('\n', ctx->out);
    }
    json_decref(res);
    return rc;
}

int cli_cmd_status(cli_ctx *ctx, const cli_args *a)
{
    util_err e;
    json_t *res;
    if (call(ctx, "node_status", NULL, &res)) return CLI_EXIT_ERR;
    int rc = CLI_EXIT_OK;
    const char *chain, *head, *ver, *gen;
    uint64_t height, htime, mp;
    if (ctx->json) {
        rc = cli_print_json(ctx, res);
    } else if (!(chain = cli_json_str(res, "chainId", &e)) ||
               cli_json_u64(res, "height", &height, &e) ||
               !(head = cli_json_str(res, "headHash", &e)) ||
               !(ver = cli_json_str(res, "version", &e))) {
        rc = cli_fail_err(ctx, &e);
    } else {
        fprintf(ctx->out, "chain id:     %s\nheight:       %llu\nhead hash:    %s\n", chain,
                (unsigned long long)height, head);
        if (!cli_json_u64(res, "headTime", &htime, NULL)) {
            char t[48];
            cli_format_time_ms(t, sizeof t, htime);
            fprintf(ctx->out, "head time:    %s\n", t);
        }
        if ((gen = cli_json_str(res, "genesisHash", NULL)))
            fprintf(ctx->out, "genesis hash: %s\n", gen);
        if (!cli_json_u64(res, "mempoolSize", &mp, NULL))
            fprintf(ctx->out, "mempool:      %llu transactions\n", (unsigned long long)mp);
        fprintf(ctx->out, "version:      %s\n", ver);
    }
    json_decref(res);
    return rc;
}

/* Accepts 64 hex digits with or without 0x; writes the canonical "0x" + lowercase. */
static int norm_hash(const char *s, char out[67])
{
    uint8_t h[32];
    if (util_hex_decode_exact(h, 32, s)) return -1;
    out[0] = '0';
    out[1] = 'x';
    util_hex_encode(out + 2, h, 32);
    return 0;
}

static void print_tx_body(cli_ctx *ctx, const json_t *tx, const char *indent)
{
    const char *type = cli_json_str(tx, "type", NULL);
    const char *s;
    uint64_t v;
    char amt[96];
    FILE *o = ctx->out;
    fprintf(o, "%shash:      %s\n", indent, (s = cli_json_str(tx, "hash", NULL)) ? s : "?");
    fprintf(o, "%stype:      %s\n", indent, type ? type : "?");
    if ((s = cli_json_str(tx, "chainId", NULL))) fprintf(o, "%schain id:  %s\n", indent, s);
    if ((s = cli_json_str(tx, "from", NULL))) fprintf(o, "%sfrom:      %s\n", indent, s);
    if ((s = cli_json_str(tx, "to", NULL))) fprintf(o, "%sto:        %s\n", indent, s);
    if (!cli_json_amount(tx, "amount", &v, NULL)) {
        cli_format_amount(amt, sizeof amt, v);
        fprintf(o, "%samount:    %s\n", indent, amt);
    }
    /* The bridge's transactions (docs/rollup.md): WITHDRAW's L1 recipient,
     * DEPOSIT's L1 origin. */
    if ((s = cli_json_str(tx, "l1Recipient", NULL))) fprintf(o, "%sL1 to:     %s\n", indent, s);
    if ((s = cli_json_str(tx, "l1From", NULL))) fprintf(o, "%sL1 from:   %s\n", indent, s);
    if (!cli_json_u64(tx, "l1Block", &v, NULL))
        fprintf(o, "%sL1 block:  %llu\n", indent, (unsigned long long)v);
    if ((s = cli_json_str(tx, "l1TxHash", NULL))) {
        fprintf(o, "%sL1 tx:     %s", indent, s);
        if (!cli_json_u64(tx, "logIndex", &v, NULL))
            fprintf(o, " (log %llu)", (unsigned long long)v);
        fputc('\n', o);
    }
    if (!cli_json_u64(tx, "nonce", &v, NULL))
        fprintf(o, "%snonce:     %llu\n", indent, (unsigned long long)v);
    if (!cli_json_u64(tx, "gasLimit", &v, NULL))
        fprintf(o, "%sgas limit: %llu\n", indent, (unsigned long long)v);
    if (!cli_json_amount(tx, "gasPrice", &v, NULL))
        fprintf(o, "%sgas price: %llu base units\n", indent, (unsigned long long)v);
    if (!cli_json_u64(tx, "size", &v, NULL))
        fprintf(o, "%ssize:      %llu bytes\n", indent, (unsigned long long)v);
}

void cli_print_safe(FILE *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        /* C0 controls, DEL, and the C1 controls (U+0080..U+009F, UTF-8
         * C2 80..C2 9F: CSI is one) could drive the terminal. */
        if (*p < 0x20 || *p == 0x7f) {
            fprintf(o, "\\x%02x", *p);
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            fprintf(o, "\\u%04x", p[1]);
            p++;
        } else {
            fputc(*p, o);
        }
    }
}

void cli_print_failure(cli_ctx *ctx, const json_t *r)
{
    FILE *o = ctx->out;
    const char *code = json_string_value(json_object_get(r, "failureCode"));
    const char *data = json_string_value(json_object_get(r, "revertData"));
    const char *text = json_string_value(json_object_get(r, "revertText"));
    if (code) {
        fputs("failure:   ", o);
        cli_print_safe(o, code);
        fputc('\n', o);
    }
    if (data) {
        fputs("revert data: ", o);
        cli_print_safe(o, data);
        fputc('\n', o);
    }
    if (text) {
        fputs("revert text: ", o);
        cli_print_safe(o, text);
        fputc('\n', o);
    }
}

int cli_print_tx_outcome(cli_ctx *ctx, const json_t *res, util_err *err)
{
    FILE *o = ctx->out;
    json_t *pending = json_object_get(res, "pending");
    if (!json_is_boolean(pending))
        return util_err_set(err, UTIL_EIO, "node answer: 'pending' is not a boolean");
    if (json_is_true(pending)) {
        fputs("status:    pending (in the mempool)\n", o);
        return 0;
    }
    const json_t *rc = json_object_get(res, "receipt");
    uint64_t height, idx, gas, fee;
    const char *status, *bhash;
    if (!json_is_object(rc))
        return util_err_set(err, UTIL_EIO, "node answer: 'receipt' is not an object");
    if (!(status = cli_json_str(rc, "status", err)) || cli_json_u64(rc, "gasUsed", &gas, err) ||
        cli_json_amount(rc, "fee", &fee, err) || cli_json_u64(res, "blockHeight", &height, err) ||
        !(bhash = cli_json_str(res, "blockHash", err)) || cli_json_u64(res, "index", &idx, err))
        return UTIL_EIO;
    char amt[96];
    cli_format_amount(amt, sizeof amt, fee);
    fprintf(o, "status:    %s\n", status);
    json_t *er = json_object_get(rc, "error");
    if (json_is_string(er) && json_string_length(er)) {
        fputs("error:     ", o);
        cli_print_safe(o, json_string_value(er));
        fputc('\n', o);
    }
    cli_print_failure(ctx, rc);
    fprintf(o, "block:     %llu (%s), index %llu\n", (unsigned long long)height, bhash,
            (unsigned long long)idx);
    fprintf(o, "gas used:  %llu\nfee:       %s\n", (unsigned long long)gas, amt);
    return 0;
}

int cli_cmd_tx(cli_ctx *ctx, const cli_args *a)
{
    char h[67];
    if (norm_hash(a->pos[0], h))
        return cli_usage_fail(ctx, "'%s' is not a transaction hash (0x + 64 hex digits)",
                              a->pos[0]);
    json_t *res;
    if (call(ctx, "chain_getTransaction", json_pack("[s]", h), &res)) return CLI_EXIT_ERR;
    int rc = CLI_EXIT_OK;
    util_err e;
    if (ctx->json) {
        rc = cli_print_json(ctx, res);
    } else if (!json_is_object(json_object_get(res, "tx"))) {
        rc = cli_fail(ctx, "node answer: 'tx' is not an object");
    } else {
        print_tx_body(ctx, json_object_get(res, "tx"), "");
        if (cli_print_tx_outcome(ctx, res, &e)) rc = cli_fail_err(ctx, &e);
    }
    json_decref(res);
    return rc;
}

static json_t *block_ref(const char *s)
{
    uint64_t h;
    char hash[67];
    if (strcmp(s, "latest") == 0) return json_string("latest");
    if (isdigit((unsigned char)s[0]) && !cli_parse_u64(s, &h)) {
        if (h > (uint64_t)INT64_MAX) return NULL;
        return json_integer((json_int_t)h);
    }
    if (!norm_hash(s, hash)) return json_string(hash);
    return NULL;
}

static void print_header(cli_ctx *ctx, const json_t *hd)
{
    FILE *o = ctx->out;
    static const char *const fields[][2] = {
        {"chainId", "chain id"},          {"parentHash", "parent"},
        {"proposer", "proposer"},         {"txRoot", "tx root"},
        {"stateRoot", "state root"},      {"receiptsRoot", "receipts root"},
        {"validatorsHash", "validators"},
    };
    uint64_t v;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *s = cli_json_str(hd, fields[i][0], NULL);
        if (s) fprintf(o, "%-14s %s\n", fields[i][1], s);
        if (i == 1 && !cli_json_u64(hd, "timestamp", &v, NULL)) {
            char t[48];
            cli_format_time_ms(t, sizeof t, v);
            fprintf(o, "%-14s %s\n", "time", t);
        }
    }
    const json_t *lc = json_object_get(hd, "lastCommit");
    if (json_is_object(lc) && !cli_json_u64(lc, "round", &v, NULL))
        fprintf(o, "%-14s round %llu, %zu signature(s)\n", "last commit", (unsigned long long)v,
                json_array_size(json_object_get(lc, "signatures")));
}

int cli_cmd_block(cli_ctx *ctx, const cli_args *a)
{
    const char *ref = a->npos ? a->pos[0] : "latest";
    json_t *jr = block_ref(ref);
    if (!jr)
        return cli_usage_fail(ctx, "'%s' is not a height, 'latest' or a block hash (0x + 64 hex)",
                              ref);
    json_t *res;
    if (call(ctx, "chain_getBlock", json_pack("[o]", jr), &res)) return CLI_EXIT_ERR;
    int rc = CLI_EXIT_OK;
    util_err e;
    const json_t *hd = json_object_get(res, "header");
    const json_t *txs = json_object_get(res, "txs");
    const char *hash;
    uint64_t height, size;
    if (ctx->json) {
        rc = cli_print_json(ctx, res);
    } else if (!json_is_object(hd) || !json_is_array(txs)) {
        rc = cli_fail(ctx, "node answer: block without 'header' object or 'txs' array");
    } else if (!(hash = cli_json_str(res, "hash", &e)) || cli_json_u64(hd, "height", &height, &e)) {
        rc = cli_fail_err(ctx, &e);
    } else {
        FILE *o = ctx->out;
        fprintf(o, "%-14s %llu\n%-14s %s\n", "block", (unsigned long long)height, "hash", hash);
        print_header(ctx, hd);
        if (!cli_json_u64(res, "size", &size, NULL))
            fprintf(o, "%-14s %llu bytes\n", "size", (unsigned long long)size);
        fprintf(o, "%-14s %zu\n", "transactions", json_array_size(txs));
        size_t i;
        json_t *tx;
        json_array_foreach(txs, i, tx)
        {
            const char *th = cli_json_str(tx, "hash", NULL), *ty = cli_json_str(tx, "type", NULL),
                       *fr = cli_json_str(tx, "from", NULL), *to = cli_json_str(tx, "to", NULL);
            uint64_t amt, nonce = 0;
            char as[UTIL_AMOUNT_STR_MAX] = "";
            if (!cli_json_amount(tx, "amount", &amt, NULL)) util_amount_format_open(as, amt);
            /* A listing line: a nonce the node left out prints as 0. */
            if (cli_json_u64(tx, "nonce", &nonce, NULL)) nonce = 0;
            fprintf(o, "  %zu. %s %s from %s nonce %llu", i, th ? th : "?", ty ? ty : "?",
                    fr ? fr : "?", (unsigned long long)nonce);
            if (to) fprintf(o, " to %s", to);
            if (as[0]) fprintf(o, " amount %s OPEN", as);
            fputc('\n', o);
        }
    }
    json_decref(res);
    return rc;
}
