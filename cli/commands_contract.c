/* Contracts from the command line (docs/contracts.md, docs/vm.md):
 *   asm FILE.olasm [-o FILE.bin]       assemble (the assembler also verifies)
 *   disasm FILE.bin [-o FILE.olasm]    disassemble; reassembles to the same bytes
 *   contract deploy FILE               DEPLOY, wait, print the new address
 *   contract call ADDRESS              CALL as a transaction, or --read (contract_call)
 *   contract show ADDRESS              contract_get
 *   contract storage ADDRESS KEY       contract_getStorage
 * Transactions go through cli_tx_submit like every other signed command. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/contract.h"
#include "chain/crypto/hash.h"
#include "cli/cli.h"
#include "cli/tx_submit.h"
#include "util/amount.h"
#include "util/hex.h"
#include "vm/vm.h"

/* Biggest binary read as code: one byte past the limit tells "too large". */
#define READ_MAX (CHAIN_CODE_MAX + 1)

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads at most max bytes of path into a malloc'd buffer; *len > max - 1
 * means the file is larger than max - 1. */
static int read_binary(cli_ctx *ctx, const char *path, size_t max, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return cli_fail(ctx, "cannot open '%s': %s", path, strerror(errno));
    uint8_t *buf = malloc(max);
    if (!buf) {
        fclose(f);
        return cli_fail(ctx, "out of memory");
    }
    size_t n = fread(buf, 1, max, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return cli_fail(ctx, "cannot read '%s'", path);
    }
    *out = buf;
    *len = n;
    return CLI_EXIT_OK;
}

static int write_file(cli_ctx *ctx, const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return cli_fail(ctx, "cannot create '%s': %s", path, strerror(errno));
    size_t w = fwrite(p, 1, n, f);
    if (fclose(f) != 0 || w != n) return cli_fail(ctx, "cannot write '%s'", path);
    return CLI_EXIT_OK;
}

/* Code of a contract file: FILE.olasm is assembled (and so verified), any
 * other file is the code blob as is, left for the node to verify. */
static int load_code(cli_ctx *ctx, const char *path, uint8_t **code, size_t *len)
{
    util_err e = {0};
    if (ends_with(path, ".olasm")) {
        if (vm_asm_file(path, code, len, &e)) return cli_fail_err(ctx, &e);
    } else {
        int rc = read_binary(ctx, path, READ_MAX, code, len);
        if (rc) return rc;
    }
    if (*len == 0) {
        free(*code);
        return cli_fail(ctx, "'%s' is empty: no code to deploy", path);
    }
    if (*len > CHAIN_CODE_MAX) {
        free(*code);
        return cli_fail(ctx, "'%s' is larger than the code size limit of %d bytes", path,
                        CHAIN_CODE_MAX);
    }
    return CLI_EXIT_OK;
}

int cli_cmd_asm(cli_ctx *ctx, const cli_args *a)
{
    const char *in = a->pos[0];
    char def[4096];
    const char *outp = a->opt[CLI_OPT_OUTPUT];
    if (!outp) {
        size_t n = strlen(in);
        if (ends_with(in, ".olasm")) n -= 6;
        if (n + 5 > sizeof def) return cli_usage_fail(ctx, "file name too long: give -o");
        snprintf(def, sizeof def, "%.*s.bin", (int)n, in);
        outp = def;
    }
    uint8_t *code;
    size_t len;
    util_err e = {0};
    if (vm_asm_file(in, &code, &len, &e)) return cli_fail_err(ctx, &e);
    int rc = write_file(ctx, outp, code, len);
    uint8_t h[32];
    char hex[65];
    chain_sha256(h, code, len);
    util_hex_encode(hex, h, 32);
    free(code);
    if (rc) return rc;
    if (ctx->json) {
        json_t *j = json_pack("{s:s,s:I,s:s+}", "output", outp, "size", (json_int_t)len, "codeHash",
                              "0x", hex);
        rc = cli_print_json(ctx, j);
        json_decref(j);
        return rc;
    }
    fprintf(ctx->out, "%s: %zu bytes, code hash 0x%s\n", outp, len, hex);
    return CLI_EXIT_OK;
}

int cli_cmd_disasm(cli_ctx *ctx, const cli_args *a)
{
    uint8_t *code;
    size_t len;
    int rc = read_binary(ctx, a->pos[0], VM_CODE_MAX + 1, &code, &len);
    if (rc) return rc;
    util_buf b;
    util_buf_init(&b);
    util_err e = {0};
    rc = vm_disasm(code, len, &b, &e);
    free(code);
    if (rc) {
        util_buf_free(&b);
        return cli_fail(ctx, "%s: %s", a->pos[0], e.msg);
    }
    if (a->opt[CLI_OPT_OUTPUT])
        rc = write_file(ctx, a->opt[CLI_OPT_OUTPUT], b.data, b.len);
    else
        fwrite(b.data, 1, b.len, ctx->out);
    util_buf_free(&b);
    return rc;
}

/* The part of a receipt only contracts have: created address, revert
 * message or fault, return data, events (docs/contracts.md, "Receipts"). */
static void print_contract_receipt(cli_ctx *ctx, const json_t *r)
{
    FILE *o = ctx->out;
    const char *s;
    if ((s = json_string_value(json_object_get(r, "contractAddress"))))
        fprintf(o, "contract:  %s\n", s);
    /* A node that gives no failureCode: the outcome is read from the error's
     * prefix (cli_print_failure shows the structured fields otherwise). */
    if (!json_object_get(r, "failureCode") &&
        (s = json_string_value(json_object_get(r, "error")))) {
        if (strncmp(s, "reverted: ", 10) == 0) {
            fputs("revert:    ", o);
            cli_print_safe(o, s + 10);
            fputc('\n', o);
        }
        if (strncmp(s, "vm_fault: ", 10) == 0) {
            fputs("fault:     ", o);
            cli_print_safe(o, s + 10);
            fputc('\n', o);
        }
    }
    s = json_string_value(json_object_get(r, "returnData"));
    if (s && strcmp(s, "0x") != 0) fprintf(o, "return:    %s\n", s);
    const json_t *evs = json_object_get(r, "events");
    size_t n = json_array_size(evs);
    if (n == 0) return;
    uint8_t pay[32];
    char payhex[67] = "0x";
    chain_pay_topic(pay);
    util_hex_encode(payhex + 2, pay, 32);
    fprintf(o, "events:    %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        const json_t *ev = json_array_get(evs, i);
        const char *topic = json_string_value(json_object_get(ev, "topic"));
        const char *data = json_string_value(json_object_get(ev, "data"));
        const char *em = json_string_value(json_object_get(ev, "emitter"));
        if (!topic || !data || !em) continue;
        uint8_t t[32];
        char label[40] = "";
        /* A topic that is text padded with zeros reads better as text. */
        if (util_hex_decode_exact(t, 32, topic) == 0 && t[0] >= 0x20 && t[0] < 0x7f) {
            size_t k = 0;
            while (k < 32 && t[k] >= 0x20 && t[k] < 0x7f)
                k++;
            int rest_zero = 1;
            for (size_t m = k; m < 32; m++)
                rest_zero &= t[m] == 0;
            if (rest_zero) snprintf(label, sizeof label, " \"%.*s\"", (int)k, (const char *)t);
        }
        if (strcmp(topic, payhex) == 0) snprintf(label, sizeof label, " (pay)");
        fprintf(o, "  [%zu] from %s topic %s%s\n       data %s\n", i, em, topic, label, data);
    }
}

int cli_cmd_contract_deploy(cli_ctx *ctx, const cli_args *a)
{
    if (!a->opt[CLI_OPT_FROM]) return cli_usage_fail(ctx, "'contract deploy' needs --from");
    uint8_t *code = NULL;
    size_t len = 0;
    int rc = load_code(ctx, a->pos[0], &code, &len);
    if (rc) return rc;
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = CHAIN_TX_DEPLOY;
    tx.body.deploy.code = code; /* owned by tx from here */
    tx.body.deploy.len = (uint32_t)len;
    cli_submit s = {.extra_gas = 0, .caller_prints_no_wait_json = 1};
    rc = cli_tx_submit(ctx, a, &tx, &s);
    if (rc == CLI_EXIT_OK && !s.result) {
        /* --no-wait: the address is known before inclusion, from the sender
         * and the nonce just signed (chain/exec/exec_contract.c). */
        chain_addr ca;
        char str[CHAIN_ADDR_STR_LEN + 1];
        chain_contract_addr(&ca, &tx.from, tx.nonce);
        chain_addr_encode(str, &ca);
        if (ctx->json) {
            json_t *j = json_pack("{s:s, s:s}", "hash", s.txid, "contractAddress", str);
            rc = j ? cli_print_json(ctx, j) : cli_fail(ctx, "out of memory");
            json_decref(j);
        } else {
            fprintf(ctx->out, "contract:  %s (once included)\n", str);
        }
    }
    chain_tx_free(&tx);
    if (rc || !s.result) return rc;
    if (ctx->json)
        rc = cli_print_json(ctx, s.result);
    else
        print_contract_receipt(ctx, json_object_get(s.result, "receipt"));
    if (rc == CLI_EXIT_OK && !s.included_ok) rc = cli_tx_report_failure(ctx, &s);
    json_decref(s.result);
    return rc;
}

/* The read-only variant: contract_call against the head state. */
static int call_read(cli_ctx *ctx, const cli_args *a, const char *to, const char *input,
                     uint64_t value)
{
    static const int tx_only[] = {CLI_OPT_GAS_PRICE, CLI_OPT_NONCE, CLI_OPT_NO_WAIT,
                                  CLI_OPT_TIMEOUT};
    for (size_t i = 0; i < sizeof tx_only / sizeof tx_only[0]; i++)
        if (a->opt[tx_only[i]])
            return cli_usage_fail(ctx, "--read does not take --%s (nothing is sent)",
                                  cli_optdefs[tx_only[i]].name);
    json_t *opt = json_object();
    util_err e = {0};
    if (!opt) return cli_fail(ctx, "out of memory");
    if (a->opt[CLI_OPT_FROM]) {
        chain_addr fa;
        char fs[CHAIN_ADDR_STR_LEN + 1];
        if (cli_resolve_address(ctx, a->opt[CLI_OPT_FROM], &fa, fs, &e)) {
            json_decref(opt);
            return cli_fail_err(ctx, &e);
        }
        json_object_set_new(opt, "from", json_string(fs));
    }
    char vs[24];
    snprintf(vs, sizeof vs, "%llu", (unsigned long long)value);
    json_object_set_new(opt, "value", json_string(vs));
    if (a->opt[CLI_OPT_GAS_LIMIT]) {
        uint64_t g;
        if (cli_parse_u64(a->opt[CLI_OPT_GAS_LIMIT], &g)) {
            json_decref(opt);
            return cli_usage_fail(ctx, "--gas-limit '%s' is not a whole number",
                                  a->opt[CLI_OPT_GAS_LIMIT]);
        }
        snprintf(vs, sizeof vs, "%llu", (unsigned long long)g);
        json_object_set_new(opt, "gasLimit", json_string(vs));
    }
    json_t *res = NULL;
    if (cli_rpc_call(ctx, "contract_call", json_pack("[s,s,o]", to, input, opt), &res, NULL, &e))
        return cli_fail_err(ctx, &e);
    int rc = CLI_EXIT_OK;
    const char *st = json_string_value(json_object_get(res, "status"));
    if (ctx->json) {
        rc = cli_print_json(ctx, res);
    } else {
        uint64_t gas = 0;
        fprintf(ctx->out, "status:    %s (read-only, nothing was changed)\n", st ? st : "?");
        const char *er = json_string_value(json_object_get(res, "error"));
        if (er) {
            fputs("error:     ", ctx->out);
            cli_print_safe(ctx->out, er);
            fputc('\n', ctx->out);
        }
        cli_print_failure(ctx, res);
        if (cli_json_u64(res, "gasUsed", &gas, &e) == 0)
            fprintf(ctx->out, "gas used:  %llu\n", (unsigned long long)gas);
        print_contract_receipt(ctx, res);
    }
    if (rc == CLI_EXIT_OK && (!st || strcmp(st, "success") != 0)) {
        const char *er = json_string_value(json_object_get(res, "error"));
        fputs("error: call failed", ctx->err);
        if (er) {
            fputs(": ", ctx->err);
            cli_print_safe(ctx->err, er);
        }
        fputc('\n', ctx->err);
        rc = CLI_EXIT_ERR;
    }
    json_decref(res);
    return rc;
}

int cli_cmd_contract_call(cli_ctx *ctx, const cli_args *a)
{
    util_err e = {0};
    chain_addr to;
    char tostr[CHAIN_ADDR_STR_LEN + 1];
    if (cli_resolve_address(ctx, a->pos[0], &to, tostr, &e)) return cli_fail_err(ctx, &e);
    uint64_t value = 0;
    const char *v = a->opt[CLI_OPT_VALUE];
    if (v && util_amount_parse_open(v, &value))
        return cli_usage_fail(ctx,
                              "--value '%s' is not an OPEN amount (digits, optionally '.' and at "
                              "most 9 decimals, e.g. 1.25)",
                              v);
    const char *in = a->opt[CLI_OPT_INPUT] ? a->opt[CLI_OPT_INPUT] : "0x";
    uint8_t *input = NULL;
    size_t len = 0;
    if (util_hex_decode_alloc(in, CHAIN_INPUT_MAX, &input, &len))
        return cli_usage_fail(ctx, "--input: not hex, or more than %d bytes", CHAIN_INPUT_MAX);
    if (a->opt[CLI_OPT_READ]) {
        char *norm = malloc(2 * len + 3);
        if (!norm) {
            free(input);
            return cli_fail(ctx, "out of memory");
        }
        memcpy(norm, "0x", 2);
        util_hex_encode(norm + 2, input, len);
        free(input);
        int rc = call_read(ctx, a, tostr, norm, value);
        free(norm);
        return rc;
    }
    if (!a->opt[CLI_OPT_FROM]) {
        free(input);
        return cli_usage_fail(ctx, "'contract call' needs --from (or --read)");
    }
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = CHAIN_TX_CALL;
    tx.body.call.contract = to;
    tx.body.call.value = value;
    tx.body.call.input = len ? input : NULL;
    tx.body.call.len = (uint32_t)len;
    if (!len) free(input);
    cli_submit s = {.extra_gas = CLI_CALL_VM_GAS};
    int rc = cli_tx_submit(ctx, a, &tx, &s);
    chain_tx_free(&tx);
    if (rc || !s.result) return rc;
    if (ctx->json)
        rc = cli_print_json(ctx, s.result);
    else
        print_contract_receipt(ctx, json_object_get(s.result, "receipt"));
    if (rc == CLI_EXIT_OK && !s.included_ok) rc = cli_tx_report_failure(ctx, &s);
    json_decref(s.result);
    return rc;
}

int cli_cmd_contract_show(cli_ctx *ctx, const cli_args *a)
{
    util_err e = {0};
    chain_addr ca;
    char str[CHAIN_ADDR_STR_LEN + 1];
    if (cli_resolve_address(ctx, a->pos[0], &ca, str, &e)) return cli_fail_err(ctx, &e);
    json_t *res = NULL;
    if (cli_rpc_call(ctx, "contract_get", json_pack("[s]", str), &res, NULL, &e))
        return cli_fail_err(ctx, &e);
    int rc = CLI_EXIT_OK;
    uint64_t size, bal, height;
    const char *hash;
    if (ctx->json) {
        rc = cli_print_json(ctx, res);
    } else if (!(hash = cli_json_str(res, "codeHash", &e)) ||
               cli_json_u64(res, "codeSize", &size, &e) ||
               cli_json_amount(res, "balance", &bal, &e) ||
               cli_json_u64(res, "height", &height, &e)) {
        rc = cli_fail_err(ctx, &e);
    } else {
        char amt[96];
        cli_format_amount(amt, sizeof amt, bal);
        fprintf(ctx->out,
                "contract:  %s\ncode hash: %s\ncode size: %llu bytes\nbalance:   %s\nat block:  "
                "%llu\n",
                str, hash, (unsigned long long)size, amt, (unsigned long long)height);
    }
    json_decref(res);
    return rc;
}

int cli_cmd_contract_storage(cli_ctx *ctx, const cli_args *a)
{
    util_err e = {0};
    chain_addr ca;
    char str[CHAIN_ADDR_STR_LEN + 1], key[67] = "0x";
    uint8_t k[32];
    if (cli_resolve_address(ctx, a->pos[0], &ca, str, &e)) return cli_fail_err(ctx, &e);
    if (util_hex_decode_exact(k, 32, a->pos[1]))
        return cli_usage_fail(ctx, "KEY '%s' is not 32 bytes of hex (64 hex digits, optional 0x)",
                              a->pos[1]);
    util_hex_encode(key + 2, k, 32);
    json_t *res = NULL;
    if (cli_rpc_call(ctx, "contract_getStorage", json_pack("[s,s]", str, key), &res, NULL, &e))
        return cli_fail_err(ctx, &e);
    int rc = CLI_EXIT_OK;
    if (ctx->json)
        rc = cli_print_json(ctx, res);
    else if (!json_is_string(res))
        rc = cli_fail(ctx, "node answer to contract_getStorage is not a hex string");
    else
        fprintf(ctx->out, "%s\n", json_string_value(res));
    json_decref(res);
    return rc;
}
