/* withdraw (a WITHDRAW transaction on the L2), bridge status and bridge
 * finalize (the proof, checked here, sent to the L1's Bridge): the way back
 * of the bridge (docs/rollup.md, "Bridge", "CLI"). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "chain/types/tx.h"
#include "cli/bridge.h"
#include "cli/keystore.h"
#include "cli/tx_submit.h"
#include "rollup/eth/abi.h"
#include "util/amount.h"
#include "util/time.h"

/* Withdrawals searched in the sender's history for a transaction's id. */
#define FIND_LIMIT 100

/* The withdrawal a WITHDRAW transaction recorded: the sender's history
 * (bridge_listByAddress) holds it with its txid. */
static int id_of_tx(cli_ctx *ctx, const char *from, const char *txid, uint64_t *id, util_err *e)
{
    json_t *r = NULL;
    int rc = cli_rpc_call(ctx, "bridge_listByAddress",
                          json_pack("[s, {s:i}]", from, "limit", FIND_LIMIT), &r, NULL, e);
    if (rc) return rc;
    json_t *ws = json_object_get(r, "withdrawals"), *w;
    size_t i;
    rc = util_err_set(e, UTIL_ENOTFOUND,
                      "transaction %s is not among the %d newest withdrawals of %s", txid,
                      FIND_LIMIT, from);
    json_array_foreach(ws, i, w)
    {
        const char *t = json_string_value(json_object_get(w, "txid"));
        if (t && strcasecmp(t, txid) == 0 && cli_json_u64(w, "id", id, e) == 0) {
            rc = 0;
            break;
        }
    }
    json_decref(r);
    return rc;
}

/* ID is a withdrawal id, or the hash of the WITHDRAW transaction. *w gets
 * bridge_getWithdrawal's object, or {"status": "pending", "txid"} for a
 * transaction still in the mempool. Errors are printed; returns an exit code. */
static int resolve(cli_ctx *ctx, const char *ref, uint64_t *id, json_t **w)
{
    util_err e;
    *w = NULL;
    if (strncasecmp(ref, "0x", 2) == 0 || strlen(ref) == 64) {
        uint8_t h[32];
        const char *hex = strncasecmp(ref, "0x", 2) == 0 ? ref + 2 : ref;
        if (util_hex_decode_exact(h, 32, hex))
            return cli_usage_fail(ctx,
                                  "'%s' is neither a withdrawal id nor a transaction hash (0x + "
                                  "64 hex digits)",
                                  ref);
        char txid[67] = "0x";
        util_hex_encode(txid + 2, h, 32);
        json_t *t = NULL;
        int rc = cli_rpc_call(ctx, "chain_getTransaction", json_pack("[s]", txid), &t, NULL, &e);
        if (rc == UTIL_ENOTFOUND) return cli_fail(ctx, "the node knows no transaction %s", txid);
        if (rc) return cli_fail_err(ctx, &e);
        json_t *tx = json_object_get(t, "tx");
        const char *type = json_string_value(json_object_get(tx, "type"));
        const char *from = json_string_value(json_object_get(tx, "from"));
        if (type && strcmp(type, chain_tx_type_name(CHAIN_TX_WITHDRAW)) != 0) {
            json_decref(t);
            return cli_fail(ctx, "transaction %s is a %s, not a withdrawal", txid, type);
        }
        if (json_is_true(json_object_get(t, "pending"))) {
            json_decref(t);
            *w = json_pack("{s:s, s:s}", "status", "pending", "txid", txid);
            return CLI_EXIT_OK;
        }
        json_t *rcpt = json_object_get(t, "receipt");
        const char *st = json_string_value(json_object_get(rcpt, "status"));
        if (st && strcmp(st, "success") != 0) {
            const char *er = json_string_value(json_object_get(rcpt, "error"));
            fputs("error: the WITHDRAW transaction failed, nothing was withdrawn", ctx->err);
            if (er) {
                fputs(": ", ctx->err);
                cli_print_safe(ctx->err, er);
            }
            fputc('\n', ctx->err);
            json_decref(t);
            return CLI_EXIT_ERR;
        }
        rc = from ? id_of_tx(ctx, from, txid, id, &e)
                  : util_err_set(&e, UTIL_EIO, "node answer: the transaction has no 'from'");
        json_decref(t);
        if (rc) return cli_fail_err(ctx, &e);
    } else if (cli_parse_u64(ref, id)) {
        return cli_usage_fail(ctx,
                              "'%s' is neither a withdrawal id nor a transaction hash (0x + 64 "
                              "hex digits)",
                              ref);
    }
    int rc =
        cli_rpc_call(ctx, "bridge_getWithdrawal", json_pack("[I]", (json_int_t)*id), w, NULL, &e);
    if (rc) return cli_fail_err(ctx, &e);
    if (!json_is_object(*w)) {
        json_decref(*w);
        *w = NULL;
        return cli_fail(ctx, "the node knows no withdrawal %llu", (unsigned long long)*id);
    }
    return CLI_EXIT_OK;
}

static void print_withdrawal(cli_ctx *ctx, uint64_t id, const json_t *w)
{
    FILE *o = ctx->out;
    char line[256], amt[96];
    uint64_t v;
    const char *s;
    if (json_is_integer(json_object_get(w, "id")))
        fprintf(o, "%-14s%llu\n", "withdrawal:", (unsigned long long)id);
    cli_bridge_status_text(line, sizeof line, w);
    fprintf(o, "%-14s%s\n", "status:", line);
    if (cli_json_amount(w, "amount", &v, NULL) == 0) {
        cli_format_amount(amt, sizeof amt, v);
        fprintf(o, "%-14s%s\n", "amount:", amt);
    }
    if ((s = cli_json_str(w, "sender", NULL))) fprintf(o, "%-14s%s\n", "from:", s);
    if ((s = cli_json_str(w, "l1Recipient", NULL))) fprintf(o, "%-14s%s\n", "L1 recipient:", s);
    if (cli_json_u64(w, "height", &v, NULL) == 0) {
        s = cli_json_str(w, "txid", NULL);
        fprintf(o, "%-14s%llu%s%s\n", "L2 block:", (unsigned long long)v, s ? ", tx " : "",
                s ? s : "");
    } else if ((s = cli_json_str(w, "txid", NULL))) {
        fprintf(o, "%-14s%s\n", "tx:", s);
    }
    uint64_t oi, oh;
    if (cli_json_u64(w, "outputIndex", &oi, NULL) == 0 &&
        cli_json_u64(w, "outputHeight", &oh, NULL) == 0)
        fprintf(o, "%-14sindex %llu, L2 height %llu\n", "output:", (unsigned long long)oi,
                (unsigned long long)oh);
    if (cli_json_u64(w, "finalizesAt", &v, NULL) == 0 && v <= UINT64_MAX / 1000) {
        char t[48];
        cli_format_time_ms(t, sizeof t, v * 1000);
        fprintf(o, "%-14s%s\n", "final at:", t);
    }
    const char *st = json_string_value(json_object_get(w, "status"));
    if (st && strcmp(st, "ready") == 0)
        fprintf(o, "%-14sopenledger-cli bridge finalize %llu\n", "next:", (unsigned long long)id);
}

/* --- withdraw ------------------------------------------------------------------ */

int cli_cmd_withdraw(cli_ctx *ctx, const cli_args *a)
{
    uint64_t amount;
    if (util_amount_parse_open(a->opt[CLI_OPT_AMOUNT], &amount) || amount == 0)
        return cli_usage_fail(ctx,
                              "--amount '%s' is not a positive OPEN amount (digits, optionally "
                              "'.' and at most 9 decimals, e.g. 1.25)",
                              a->opt[CLI_OPT_AMOUNT]);
    const char *to_s = a->opt[CLI_OPT_TO];
    rollup_eth_addr to;
    static const rollup_eth_addr zero;
    if (strncasecmp(to_s, "ol1", 3) == 0)
        return cli_usage_fail(ctx, "--to is the L1 recipient (0x + 40 hex digits); to move OPEN "
                                   "on the L2 use 'send'");
    util_err e;
    if (rollup_eth_addr_parse(&to, to_s, &e))
        return cli_usage_fail(ctx,
                              "--to '%s' is not an L1 address (0x + 40 hex digits, EIP-55 "
                              "checksum when mixed case)",
                              to_s);
    if (memcmp(to.b, zero.b, 20) == 0)
        return cli_usage_fail(ctx, "--to is the zero address: the tokens would be lost");

    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = CHAIN_TX_WITHDRAW;
    memcpy(tx.body.withdraw.l1_recipient, to.b, 20);
    tx.body.withdraw.amount = amount;
    cli_submit s;
    memset(&s, 0, sizeof s);
    s.caller_prints_no_wait_json = 0;
    int rc = cli_tx_submit(ctx, a, &tx, &s);
    chain_tx_free(&tx);
    if (rc || !s.result) {
        if (!rc && !ctx->json)
            fprintf(ctx->out,
                    "next:      openledger-cli bridge status %s (once it is in a block)\n", s.txid);
        json_decref(s.result);
        return rc;
    }
    if (!s.included_ok) {
        if (ctx->json) rc = cli_print_json(ctx, s.result);
        rc = cli_tx_report_failure(ctx, &s);
        json_decref(s.result);
        return rc;
    }
    const char *from = cli_json_str(json_object_get(s.result, "tx"), "from", &e);
    uint64_t id = 0;
    json_t *w = NULL;
    if (!from || id_of_tx(ctx, from, s.txid, &id, &e) ||
        cli_rpc_call(ctx, "bridge_getWithdrawal", json_pack("[I]", (json_int_t)id), &w, NULL, &e)) {
        json_decref(s.result);
        return cli_fail_err(ctx, &e);
    }
    if (ctx->json) {
        json_t *o = json_pack("{s:O, s:I, s:O}", "tx", s.result, "withdrawalId", (json_int_t)id,
                              "withdrawal", w);
        rc = cli_print_json(ctx, o);
        json_decref(o);
    } else {
        char line[256];
        cli_bridge_status_text(line, sizeof line, w);
        uint64_t h = 0;
        if (cli_json_u64(w, "height", &h, NULL)) h = 0;
        fprintf(ctx->out, "withdrawal id: %llu\nstatus:    %s\n", (unsigned long long)id, line);
        fprintf(ctx->out,
                "next:      once an output at or above L2 height %llu is final on the L1\n"
                "           (openledger-cli bridge status %llu tells when), run\n"
                "           openledger-cli bridge finalize %llu --from KEY\n",
                (unsigned long long)h, (unsigned long long)id, (unsigned long long)id);
    }
    json_decref(w);
    json_decref(s.result);
    return rc;
}

/* --- bridge status -------------------------------------------------------------- */

int cli_cmd_bridge_status(cli_ctx *ctx, const cli_args *a)
{
    uint64_t id = 0;
    json_t *w = NULL;
    int rc = resolve(ctx, a->pos[0], &id, &w);
    if (rc) return rc;
    if (ctx->json)
        rc = cli_print_json(ctx, w);
    else
        print_withdrawal(ctx, id, w);
    json_decref(w);
    return rc;
}

/* --- bridge finalize ------------------------------------------------------------ */

/* Why a withdrawal cannot be finalized now, or NULL when it is ready. */
static const char *not_ready(const json_t *w, char *buf, size_t cap)
{
    const char *st = json_string_value(json_object_get(w, "status"));
    if (st && strcmp(st, "ready") == 0) return NULL;
    char line[256];
    cli_bridge_status_text(line, sizeof line, w);
    if (!st)
        snprintf(buf, cap, "the node has no L1 and cannot tell whether it is final");
    else if (strcmp(st, "finalized") == 0)
        snprintf(buf, cap, "it was already finalized on the L1");
    else if (strcmp(st, "frozen") == 0)
        snprintf(buf, cap, "the OutputOracle is frozen: no withdrawal can be finalized");
    else
        snprintf(buf, cap, "it is not final yet (%s)", line);
    return buf;
}

/* The key whose address sent the withdrawal (dev0..dev9, then the
 * keystore): the default payer of finalize. */
static int key_of_sender(cli_ctx *ctx, const char *sender, char name[CLI_KEY_NAME_MAX + 1])
{
    chain_addr want;
    if (!sender || chain_addr_decode(&want, sender, NULL)) return 0;
    for (int i = 0; i < 10; i++) {
        chain_addr d;
        if (cli_dev_address(i, &d, NULL) == 0 && memcmp(d.b, want.b, CHAIN_ADDR_LEN) == 0) {
            snprintf(name, CLI_KEY_NAME_MAX + 1, "dev%d", i);
            return 1;
        }
    }
    char dir[4096];
    cli_keyinfo *keys = NULL;
    size_t n = 0;
    int found = 0;
    if (cli_keystore_dir(ctx, dir, sizeof dir, NULL) == 0 &&
        cli_keystore_list(dir, &keys, &n, NULL, NULL, NULL) == 0)
        for (size_t i = 0; i < n && !found; i++)
            if (memcmp(keys[i].addr.b, want.b, CHAIN_ADDR_LEN) == 0) {
                snprintf(name, CLI_KEY_NAME_MAX + 1, "%s", keys[i].name);
                found = 1;
            }
    free(keys);
    return found;
}

/* The oracle's root for the proof's output height must be the node's: the
 * proof is only as good as the root it leads to. */
static int check_l1_output(cli_bridge_env *b, const cli_bridge_proof *p, util_err *e)
{
    if (!b->has_oracle) return 0;
    util_buf cd, out;
    util_buf_init(&cd);
    util_buf_init(&out);
    rollup_abi_val v = {.kind = ROLLUP_ABI_UINT, .u64 = p->output_height};
    rollup_abi_encode_call(&cd, "getOutput(uint64)", &v, 1);
    int rc = cli_l1_eth_call(&b->l1, &b->oracle, cd.data, cd.len, &out, e);
    uint8_t root[32];
    static const uint8_t zero[32];
    if (!rc) rc = rollup_abi_word(out.data, out.len, 0, root, e);
    if (!rc && memcmp(root, zero, 32) == 0)
        rc = util_err_set(e, UTIL_ESTATE, "the L1 has no output at L2 height %llu yet",
                          (unsigned long long)p->output_height);
    else if (!rc && memcmp(root, p->output_root, 32) != 0)
        rc = util_err_set(e, UTIL_EINVAL,
                          "the node's output root for L2 height %llu is not the one on the L1: "
                          "the node is wrong or follows another chain",
                          (unsigned long long)p->output_height);
    util_buf_free(&cd);
    util_buf_free(&out);
    return rc;
}

static int finalize_with(cli_ctx *ctx, const cli_args *a, const char *from, uint64_t id,
                         uint64_t timeout_s, cli_bridge_env *b)
{
    util_err e;
    json_t *res = NULL;
    if (cli_rpc_call(ctx, "bridge_getWithdrawalProof", json_pack("[I]", (json_int_t)id), &res, NULL,
                     &e))
        return cli_fail_err(ctx, &e);
    cli_bridge_proof *p = malloc(sizeof *p);
    if (!p) {
        json_decref(res);
        return cli_fail(ctx, "out of memory");
    }
    int rc = cli_bridge_proof_parse(res, p, &e);
    json_decref(res);
    if (!rc && p->w.id != id)
        rc = util_err_set(&e, UTIL_EINVAL, "the node's proof is for withdrawal %llu",
                          (unsigned long long)p->w.id);
    if (!rc) rc = cli_bridge_proof_verify(p, &e);
    if (rc) {
        free(p);
        return cli_fail(ctx, "refusing to send: the node's proof does not hold: %s", e.msg);
    }
    if ((rc = check_l1_output(b, p, &e)) && !(rc == UTIL_ESTATE && a->opt[CLI_OPT_FORCE])) {
        free(p);
        return cli_fail(ctx, "refusing to send: %s", e.msg);
    }
    if (!ctx->json)
        fprintf(ctx->err,
                "proof checked: withdrawal %llu is in the withdrawals tree of the output at L2 "
                "height %llu (index %llu)\n",
                (unsigned long long)id, (unsigned long long)p->output_height,
                (unsigned long long)p->output_index);
    util_buf cd;
    util_buf_init(&cd);
    rc = cli_bridge_proof_calldata(p, &cd, &e);
    rollup_eth_addr rcpt_addr = p->w.l1_recipient;
    free(p);
    uint8_t sk[32], h[32];
    rollup_eth_addr me;
    if (!rc && !(rc = cli_bridge_key_secret(ctx, from, sk, &me, &e))) {
        /* The node says "ready" by its clock, the Bridge by the L1's latest
         * block: when they differ by a few seconds, wait for the L1 (within
         * --timeout) rather than fail; with --force the user asked for the
         * L1's answer as it is. */
        uint64_t deadline = util_mono_ns() + timeout_s * 1000000000ull;
        int told = 0;
        while ((rc = cli_l1_send(&b->l1, sk, &me, &b->bridge, &cd, h, &e)) &&
               !a->opt[CLI_OPT_FORCE] && strstr(e.msg, CLI_L1_NOT_FINAL_TEXT) &&
               util_mono_ns() < deadline) {
            if (!told && !ctx->json)
                fprintf(ctx->err, "the L1's latest block is not yet past the finalization time; "
                                  "waiting for it\n");
            told = 1;
            struct timespec ts = {.tv_sec = 1, .tv_nsec = 0};
            while (nanosleep(&ts, &ts) != 0) {
            }
        }
        OPENSSL_cleanse(sk, 32);
    }
    util_buf_free(&cd);
    if (rc) return cli_fail_err(ctx, &e);
    char hs[67] = "0x";
    util_hex_encode(hs + 2, h, 32);
    if (a->opt[CLI_OPT_NO_WAIT]) {
        if (ctx->json) {
            json_t *o = json_pack("{s:s}", "l1Tx", hs);
            rc = cli_print_json(ctx, o);
            json_decref(o);
        } else {
            fprintf(ctx->out, "L1 tx:      %s\n", hs);
        }
        return rc;
    }
    if (!ctx->json) fprintf(ctx->err, "sent L1 transaction %s, waiting for it to be mined\n", hs);
    json_t *receipt = NULL;
    rollup_l1_receipt r;
    if ((rc = cli_l1_wait_receipt(&b->l1, h, timeout_s, &receipt, &r, &e)))
        return cli_fail_err(ctx, &e);
    json_decref(receipt);
    if (r.status != 1)
        return cli_fail(ctx, "L1 transaction %s reverted in block %llu (gas used %llu)", hs,
                        (unsigned long long)r.block_number, (unsigned long long)r.gas_used);
    uint8_t bal[32];
    char bs[96] = "", rh[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(rh, &rcpt_addr);
    int have_bal = cli_bridge_open_balance(b, &rcpt_addr, bal, &e) == 0;
    if (have_bal) cli_format_u256(bs, sizeof bs, bal, 9);
    if (ctx->json) {
        char base[96];
        if (have_bal) cli_format_u256(base, sizeof base, bal, 0);
        json_t *o =
            json_pack("{s:I, s:s, s:I, s:I, s:s, s:o}", "id", (json_int_t)id, "l1Tx", hs, "l1Block",
                      (json_int_t)r.block_number, "gasUsed", (json_int_t)r.gas_used, "l1Recipient",
                      rh, "recipientBalance", have_bal ? json_string(base) : json_null());
        rc = cli_print_json(ctx, o);
        json_decref(o);
        return rc;
    }
    fprintf(ctx->out, "%-14s%llu\n%-14s%s\n%-14s%llu (gas used %llu)\n",
            "finalized:", (unsigned long long)id, "L1 tx:", hs,
            "L1 block:", (unsigned long long)r.block_number, (unsigned long long)r.gas_used);
    if (have_bal) fprintf(ctx->out, "%-14s%s now has %s OPEN on the L1\n", "recipient:", rh, bs);
    return CLI_EXIT_OK;
}

int cli_cmd_bridge_finalize(cli_ctx *ctx, const cli_args *a)
{
    uint64_t timeout_s;
    if (cli_bridge_timeout(ctx, a, &timeout_s)) return CLI_EXIT_USAGE;
    uint64_t id = 0;
    json_t *w = NULL;
    int rc = resolve(ctx, a->pos[0], &id, &w);
    if (rc) return rc;
    char why[320];
    const char *st = json_string_value(json_object_get(w, "status"));
    if (st && strcmp(st, "pending") == 0) {
        json_decref(w);
        return cli_fail(ctx, "the WITHDRAW transaction is not in a block yet: nothing to finalize");
    }
    if (not_ready(w, why, sizeof why) && !a->opt[CLI_OPT_FORCE]) {
        json_decref(w);
        return cli_fail(ctx, "withdrawal %llu cannot be finalized: %s (--force sends it anyway)",
                        (unsigned long long)id, why);
    }
    char keyname[CLI_KEY_NAME_MAX + 1];
    const char *from = a->opt[CLI_OPT_FROM];
    if (!from && key_of_sender(ctx, json_string_value(json_object_get(w, "sender")), keyname))
        from = keyname;
    json_decref(w);
    if (!from)
        return cli_usage_fail(ctx, "'bridge finalize' needs --from KEY: the L1 account that pays "
                                   "the gas (any key may finalize; the tokens go to the "
                                   "withdrawal's L1 recipient)");
    util_err e;
    rollup_eth_addr me;
    if (cli_bridge_key_address(ctx, from, &me, &e)) return cli_fail_err(ctx, &e);
    cli_bridge_env b;
    if (cli_bridge_env_open(ctx, a, 1, 1, &b, &e)) {
        cli_bridge_env_free(&b);
        return cli_fail_err(ctx, &e);
    }
    rc = finalize_with(ctx, a, from, id, timeout_s, &b);
    cli_bridge_env_free(&b);
    return rc;
}
