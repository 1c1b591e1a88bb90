/* bridge deposit and bridge l1-address, and what every bridge command shares:
 * the key's L1 account, the node's bridge_info and the L1 endpoint
 * (docs/rollup.md, "Bridge", "CLI"). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli/bridge.h"
#include "cli/keystore.h"
#include "rollup/eth/abi.h"
#include "util/amount.h"
#include "util/time.h"

/* --- keys ------------------------------------------------------------------- */

static int not_an_address(const char *name, util_err *err)
{
    if (strncasecmp(name, "ol1", 3) == 0 || strncasecmp(name, "0x", 2) == 0)
        return util_err_set(err, UTIL_EINVAL,
                            "'%s' is an address; the L1 account is a key's: give a key name "
                            "(keystore or dev0..dev9)",
                            name);
    return 0;
}

int cli_bridge_key_address(cli_ctx *ctx, const char *name, rollup_eth_addr *a, util_err *err)
{
    int rc = not_an_address(name, err);
    if (rc) return rc;
    uint8_t pub[CHAIN_PUBKEY_LEN];
    int idx = cli_dev_index(name);
    if (idx >= 0) {
        chain_keypair kp;
        if (chain_keypair_dev(&kp, (uint32_t)idx))
            return util_err_set(err, UTIL_ECRYPTO, "cannot derive development key %s", name);
        memcpy(pub, kp.pubkey, sizeof pub);
        chain_keypair_clear(&kp);
    } else {
        char dir[4096];
        cli_keyinfo info;
        if ((rc = cli_keystore_dir(ctx, dir, sizeof dir, err))) return rc;
        if (cli_key_name_valid(name, NULL))
            return util_err_set(err, UTIL_EINVAL, "'%s' is not a key name", name);
        if ((rc = cli_keystore_load(dir, name, NULL, &info, err))) return rc;
        memcpy(pub, info.pubkey, sizeof pub);
    }
    /* The even-y point of the x-only key: the address the secret normalised
     * by cli_bridge_key_secret signs for. */
    return rollup_eth_addr_from_xonly(a, pub, err);
}

int cli_bridge_key_secret(cli_ctx *ctx, const char *name, uint8_t sk[32], rollup_eth_addr *a,
                          util_err *err)
{
    int rc = not_an_address(name, err);
    if (rc) return rc;
    chain_keypair kp;
    if ((rc = cli_resolve_signer(ctx, name, &kp, err))) return rc;
    rc = rollup_eth_seckey_even(sk, kp.seckey, err);
    chain_keypair_clear(&kp);
    if (!rc) rc = rollup_eth_addr_from_seckey(a, sk, err);
    if (rc) OPENSSL_cleanse(sk, 32);
    return rc;
}

/* --- the node's bridge and the L1 ------------------------------------------ */

static int addr_field(const json_t *info, const char *key, rollup_eth_addr *a, int *has,
                      util_err *err)
{
    json_t *v = json_object_get(info, key);
    *has = 0;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v) || rollup_eth_addr_parse(a, json_string_value(v), NULL))
        return util_err_set(err, UTIL_EIO, "node answer: bridge_info.%s is not an L1 address", key);
    *has = 1;
    return 0;
}

int cli_bridge_env_open(cli_ctx *ctx, const cli_args *a, int need_l1, int need_bridge,
                        cli_bridge_env *b, util_err *err)
{
    memset(b, 0, sizeof *b);
    int rc = cli_rpc_call(ctx, "bridge_info", NULL, &b->info, NULL, err);
    if (rc) {
        if (rc == UTIL_ESTATE && strstr(err->msg, "ethod not found"))
            util_err_set(err, rc, "the node at %s has no bridge (bridge_info unknown)",
                         ctx->rpc_url);
        return rc;
    }
    if (!json_is_object(b->info))
        return util_err_set(err, UTIL_EIO, "node answer: bridge_info is not an object");
    if ((rc = addr_field(b->info, "token", &b->token, &b->has_token, err)) ||
        (rc = addr_field(b->info, "bridge", &b->bridge, &b->has_bridge, err)) ||
        (rc = addr_field(b->info, "outputOracle", &b->oracle, &b->has_oracle, err)))
        return rc;
    json_t *c = json_object_get(b->info, "depositConfirmations");
    if (json_is_integer(c) && json_integer_value(c) >= 0)
        b->confirmations = (uint64_t)json_integer_value(c);
    if (need_bridge && (!b->has_token || !b->has_bridge))
        return util_err_set(err, UTIL_ESTATE,
                            "the node knows no bridge contracts (bridge_info.token and .bridge "
                            "are null): it runs without --rollup-config, or its rollup.json "
                            "predates the bridge");
    if (!need_l1) return 0;

    const char *url = a->opt[CLI_OPT_L1], *env = getenv("OPENLEDGER_L1"), *src = "--l1";
    if (!url && env && *env) {
        url = env;
        src = "$OPENLEDGER_L1";
    }
    if (!url) {
        url = json_string_value(json_object_get(b->info, "l1Url"));
        src = "the node's bridge_info.l1Url";
    }
    if (!url || !*url)
        return util_err_set(err, UTIL_ESTATE,
                            "no L1 configured: give --l1 URL or set OPENLEDGER_L1 (the node runs "
                            "without --l1, so bridge_info.l1Url is null)");
    if ((rc = cli_l1_open(&b->l1, url, err))) {
        util_err_prefix(err, "(from %s) ", src);
        return rc;
    }
    b->l1_open = 1;
    json_t *ci = json_object_get(b->info, "l1ChainId");
    if (json_is_integer(ci) && (uint64_t)json_integer_value(ci) != b->l1.chain_id)
        return util_err_set(err, UTIL_ESTATE,
                            "the L1 at %s is chain %llu, the node's bridge is on chain %lld", url,
                            (unsigned long long)b->l1.chain_id, (long long)json_integer_value(ci));
    return 0;
}

void cli_bridge_env_free(cli_bridge_env *b)
{
    if (b->l1_open) cli_l1_close(&b->l1);
    b->l1_open = 0;
    json_decref(b->info);
    b->info = NULL;
}

int cli_bridge_timeout(cli_ctx *ctx, const cli_args *a, uint64_t *s)
{
    *s = CLI_BRIDGE_TIMEOUT_S;
    const char *v = a->opt[CLI_OPT_TIMEOUT];
    if (v && (cli_parse_u64(v, s) || *s > 86400))
        return cli_usage_fail(ctx, "--timeout '%s' must be whole seconds from 0 to 86400", v);
    return 0;
}

int cli_bridge_open_balance(cli_bridge_env *b, const rollup_eth_addr *a, uint8_t word[32],
                            util_err *err)
{
    util_buf cd;
    util_buf_init(&cd);
    int rc = rollup_token_balance_of_calldata(&cd, a);
    if (rc)
        rc = util_err_set(err, rc, "out of memory");
    else
        rc = cli_l1_call_word(&b->l1, &b->token, &cd, word, err);
    util_buf_free(&cd);
    if (rc) util_err_prefix(err, "OPEN balance: ");
    return rc;
}

static int allowance(cli_bridge_env *b, const rollup_eth_addr *owner, uint8_t word[32],
                     util_err *err)
{
    util_buf cd;
    util_buf_init(&cd);
    rollup_abi_val v[2] = {{.kind = ROLLUP_ABI_ADDRESS, .addr = *owner},
                           {.kind = ROLLUP_ABI_ADDRESS, .addr = b->bridge}};
    rollup_abi_encode_call(&cd, "allowance(address,address)", v, 2);
    int rc = cli_l1_call_word(&b->l1, &b->token, &cd, word, err);
    util_buf_free(&cd);
    if (rc) util_err_prefix(err, "OPEN allowance: ");
    return rc;
}

static void print_hash(FILE *f, const char *label, const uint8_t h[32])
{
    char s[65];
    util_hex_encode(s, h, 32);
    fprintf(f, "%-15s0x%s\n", label, s);
}

static json_t *hash_json(const uint8_t h[32])
{
    return rollup_l1_data(h, 32);
}

/* --- bridge deposit ----------------------------------------------------------- */

/* Sends one transaction and waits for its receipt; a revert is an error. */
static int send_and_wait(cli_ctx *ctx, cli_bridge_env *b, const uint8_t sk[32],
                         const rollup_eth_addr *from, const rollup_eth_addr *to, const util_buf *cd,
                         const char *what, uint64_t timeout_s, uint8_t txhash[32], json_t **receipt,
                         rollup_l1_receipt *r, util_err *e)
{
    int rc = cli_l1_send(&b->l1, sk, from, to, cd, txhash, e);
    if (rc) return util_err_prefix(e, "%s: ", what);
    char h[65];
    util_hex_encode(h, txhash, 32);
    fprintf(ctx->err, "%s: sent L1 transaction 0x%s, waiting for it to be mined\n", what, h);
    if ((rc = cli_l1_wait_receipt(&b->l1, txhash, timeout_s, receipt, r, e))) return rc;
    if (r->status != 1) {
        json_decref(*receipt);
        *receipt = NULL;
        return util_err_set(e, UTIL_ESTATE, "%s: L1 transaction 0x%s reverted in block %llu", what,
                            h, (unsigned long long)r->block_number);
    }
    return 0;
}

/* The DepositInitiated log of the bridge in a receipt. */
static int deposit_from_receipt(const json_t *receipt, const rollup_eth_addr *bridge,
                                rollup_deposit *d, util_err *err)
{
    rollup_l1_log *logs = NULL;
    size_t n = 0;
    int rc = rollup_l1_parse_logs(json_object_get(receipt, "logs"), 256, 4096, &logs, &n, err);
    if (rc) return rc;
    uint8_t topic[32];
    rollup_bridge_topic_deposit(topic);
    rc = util_err_set(err, UTIL_EIO, "the deposit's receipt has no DepositInitiated log");
    for (size_t i = 0; i < n; i++) {
        if (memcmp(logs[i].address.b, bridge->b, 20) != 0 || logs[i].ntopics == 0 ||
            memcmp(logs[i].topics[0], topic, 32) != 0)
            continue;
        rc = rollup_bridge_parse_deposit(&logs[i], d, err);
        break;
    }
    rollup_l1_logs_free(logs, n);
    return rc;
}

static void sleep_poll(void)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = CLI_BRIDGE_POLL_MS * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Polls bridge_getDeposit until "minted", telling on stderr how many L1
 * confirmations are still missing. *dep: the node's last answer. */
static int wait_minted(cli_ctx *ctx, cli_bridge_env *b, uint64_t nonce, uint64_t l1_block,
                       uint64_t timeout_s, json_t **dep, util_err *e)
{
    uint64_t deadline = util_mono_ns() + timeout_s * 1000000000ull;
    int64_t last_left = -1;
    int said_confirmed = 0;
    for (;;) {
        json_t *r = NULL;
        int rc = cli_rpc_call(ctx, "bridge_getDeposit", json_pack("[I]", (json_int_t)nonce), &r,
                              NULL, e);
        if (rc) return rc;
        const char *st = json_string_value(json_object_get(r, "status"));
        if (st && strcmp(st, "minted") == 0) {
            *dep = r;
            return 0;
        }
        int seen = st != NULL;
        json_decref(r);
        json_t *hj = NULL;
        uint64_t head = 0;
        if (cli_l1_call(&b->l1, "eth_blockNumber", NULL, &hj, NULL, NULL) == 0 &&
            rollup_l1_parse_u64(hj, &head, "eth_blockNumber", NULL) == 0 && head >= l1_block) {
            /* As the node counts them (node/bridge.c): the L1 blocks on
             * top of the deposit's, which it mints at depositConfirmations. */
            uint64_t have = head - l1_block;
            int64_t left = have >= b->confirmations ? 0 : (int64_t)(b->confirmations - have);
            if (left > 0 && left != last_left)
                fprintf(ctx->err, "waiting for L1 confirmations: %llu of %llu (%lld to go)\n",
                        (unsigned long long)have, (unsigned long long)b->confirmations,
                        (long long)left);
            else if (left == 0 && !said_confirmed) {
                fprintf(ctx->err,
                        "confirmed on the L1 (%llu blocks deep); waiting for a validator to mint "
                        "it on the L2\n",
                        (unsigned long long)have);
                said_confirmed = 1;
            }
            last_left = left;
        }
        json_decref(hj);
        if (util_mono_ns() >= deadline)
            return util_err_set(e, UTIL_ESTATE,
                                "deposit %llu not minted on the L2 after %llu s (%s); follow it "
                                "with: openledger-cli rpc bridge_getDeposit %llu",
                                (unsigned long long)nonce, (unsigned long long)timeout_s,
                                seen ? "the node has seen it on the L1"
                                     : "the node has not seen it on the L1 yet",
                                (unsigned long long)nonce);
        sleep_poll();
    }
}

/* approve (when asked) then deposit, both from the key's L1 account: one
 * passphrase prompt for both. *receipt: the deposit's. */
static int send_deposit(cli_ctx *ctx, cli_bridge_env *b, const char *from,
                        const rollup_eth_addr *me, uint64_t amount, const chain_addr *to,
                        int approve, uint64_t timeout_s, uint8_t dh[32], json_t **receipt,
                        rollup_l1_receipt *r, util_err *e)
{
    uint8_t sk[32], ah[32];
    rollup_eth_addr me2;
    int rc = cli_bridge_key_secret(ctx, from, sk, &me2, e);
    if (rc) return rc;
    util_buf cd;
    util_buf_init(&cd);
    if (approve) {
        if (rollup_token_approve_calldata(&cd, &b->bridge, amount))
            rc = util_err_set(e, UTIL_ENOMEM, "out of memory");
        else
            rc = send_and_wait(ctx, b, sk, me, &b->token, &cd, "approve", timeout_s, ah, receipt, r,
                               e);
        json_decref(*receipt);
        *receipt = NULL;
        if (!rc && !ctx->json) print_hash(ctx->out, "approve tx:", ah);
        util_buf_reset(&cd);
    }
    if (!rc) {
        if (rollup_bridge_deposit_calldata(&cd, amount, to->b))
            rc = util_err_set(e, UTIL_ENOMEM, "out of memory");
        else
            rc = send_and_wait(ctx, b, sk, me, &b->bridge, &cd, "deposit", timeout_s, dh, receipt,
                               r, e);
    }
    OPENSSL_cleanse(sk, 32);
    util_buf_free(&cd);
    return rc;
}

int cli_cmd_bridge_deposit(cli_ctx *ctx, const cli_args *a)
{
    uint64_t amount, timeout_s;
    if (util_amount_parse_open(a->opt[CLI_OPT_AMOUNT], &amount) || amount == 0)
        return cli_usage_fail(ctx,
                              "--amount '%s' is not a positive OPEN amount (digits, optionally "
                              "'.' and at most 9 decimals, e.g. 1.25)",
                              a->opt[CLI_OPT_AMOUNT]);
    if (cli_bridge_timeout(ctx, a, &timeout_s)) return CLI_EXIT_USAGE;
    const char *to_s = a->opt[CLI_OPT_TO], *from = a->opt[CLI_OPT_FROM];
    if (strncasecmp(to_s, "0x", 2) == 0)
        return cli_usage_fail(ctx, "--to is the L2 recipient (ol1... or a key name), not an L1 "
                                   "address");
    if (!from) {
        /* Depositing to one's own key: that key's L1 account pays. */
        if (strncasecmp(to_s, "ol1", 3) == 0)
            return cli_usage_fail(ctx, "'bridge deposit' needs --from KEY (the L1 account that "
                                       "pays) when --to is an address");
        from = to_s;
    }
    util_err e;
    chain_addr to;
    char tostr[CHAIN_ADDR_STR_LEN + 1];
    rollup_eth_addr me;
    if (cli_resolve_address(ctx, to_s, &to, tostr, &e) ||
        cli_bridge_key_address(ctx, from, &me, &e))
        return cli_fail_err(ctx, &e);

    cli_bridge_env b;
    int rc = cli_bridge_env_open(ctx, a, 1, 1, &b, &e);
    if (rc) {
        cli_bridge_env_free(&b);
        return cli_fail_err(ctx, &e);
    }
    char meh[ROLLUP_ETH_ADDR_HEX_LEN + 1], need[96], have[96];
    rollup_eth_addr_hex(meh, &me);
    uint8_t bal[32], allow[32], eth[32];
    uint64_t bal64 = UINT64_MAX, allow64 = UINT64_MAX;
    uint8_t amount_w[32] = {0};
    for (int i = 0; i < 8; i++)
        amount_w[31 - i] = (uint8_t)(amount >> (8 * i));
    cli_format_u256(need, sizeof need, amount_w, 9);
    if ((rc = cli_bridge_open_balance(&b, &me, bal, &e)) || (rc = allowance(&b, &me, allow, &e)) ||
        (rc = cli_l1_eth_balance(&b.l1, &me, eth, &e))) {
        cli_bridge_env_free(&b);
        return cli_fail_err(ctx, &e);
    }
    if (cli_u256_to_u64(bal, &bal64) == 0 && bal64 < amount) {
        cli_format_u256(have, sizeof have, bal, 9);
        cli_bridge_env_free(&b);
        return cli_fail(ctx, "insufficient L1 OPEN balance: %s has %s OPEN, the deposit needs %s",
                        meh, have, need);
    }
    static const uint8_t zero[32];
    if (memcmp(eth, zero, 32) == 0) {
        cli_bridge_env_free(&b);
        return cli_fail(ctx, "the L1 account %s has no ETH to pay for gas", meh);
    }
    /* Approves exactly what is deposited: nothing stays approved. */
    int approve = cli_u256_to_u64(allow, &allow64) == 0 && allow64 < amount;
    uint8_t dh[32];
    json_t *rcpt = NULL;
    rollup_l1_receipt r;
    rc = send_deposit(ctx, &b, from, &me, amount, &to, approve, timeout_s, dh, &rcpt, &r, &e);
    rollup_deposit d;
    if (!rc) rc = deposit_from_receipt(rcpt, &b.bridge, &d, &e);
    json_decref(rcpt);
    if (rc) {
        cli_bridge_env_free(&b);
        return cli_fail_err(ctx, &e);
    }
    if (!ctx->json) {
        fprintf(ctx->out, "%-15s%s\n%-15s%s\n", "L1 account:", meh, "L2 recipient:", tostr);
        print_hash(ctx->out, "deposit tx:", dh);
        fprintf(ctx->out, "%-15s%llu (gas used %llu)\n%-15s%llu\n",
                "L1 block:", (unsigned long long)r.block_number, (unsigned long long)r.gas_used,
                "deposit nonce:", (unsigned long long)d.nonce);
        fflush(ctx->out);
    }
    json_t *dep = NULL;
    if (!a->opt[CLI_OPT_NO_WAIT] &&
        (rc = wait_minted(ctx, &b, d.nonce, r.block_number, timeout_s, &dep, &e))) {
        cli_bridge_env_free(&b);
        return cli_fail_err(ctx, &e);
    }
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:o}", "l1Account", meh, "to", tostr,
                              "depositTx", hash_json(dh), "l1Block", (json_int_t)r.block_number,
                              "gasUsed", (json_int_t)r.gas_used, "nonce", (json_int_t)d.nonce,
                              "deposit", dep ? json_incref(dep) : json_null());
        rc = cli_print_json(ctx, o);
        json_decref(o);
    } else if (dep) {
        uint64_t h;
        const char *tx = cli_json_str(dep, "txid", NULL);
        if (cli_json_u64(dep, "height", &h, NULL) == 0)
            fprintf(ctx->out, "%-15sat L2 height %llu%s%s\n", "minted:", (unsigned long long)h,
                    tx ? ", tx " : "", tx ? tx : "");
        else
            fprintf(ctx->out, "%-15syes\n", "minted:");
    } else {
        fprintf(ctx->out,
                "not waiting for the mint (--no-wait): after %llu L1 confirmations a validator "
                "mints it; follow it with: openledger-cli rpc bridge_getDeposit %llu\n",
                (unsigned long long)b.confirmations, (unsigned long long)d.nonce);
    }
    json_decref(dep);
    cli_bridge_env_free(&b);
    return rc;
}

/* --- bridge l1-address -------------------------------------------------------- */

int cli_cmd_bridge_l1_address(cli_ctx *ctx, const cli_args *a)
{
    util_err e;
    rollup_eth_addr me;
    if (cli_bridge_key_address(ctx, a->opt[CLI_OPT_FROM], &me, &e)) return cli_fail_err(ctx, &e);
    char h[ROLLUP_ETH_ADDR_HEX_LEN + 1], eths[96] = "", opens[96] = "";
    rollup_eth_addr_hex(h, &me);
    /* Balances are a bonus: without a reachable L1 the address alone is the
     * answer (it needs neither the node nor the L1). */
    cli_bridge_env b;
    uint8_t eth[32] = {0}, open[32] = {0};
    int have_eth = 0, have_open = 0;
    const char *url = a->opt[CLI_OPT_L1] ? a->opt[CLI_OPT_L1] : getenv("OPENLEDGER_L1");
    if (cli_bridge_env_open(ctx, a, 1, 0, &b, &e) == 0) {
        if (cli_l1_eth_balance(&b.l1, &me, eth, &e) == 0) have_eth = 1;
        if (b.has_token && cli_bridge_open_balance(&b, &me, open, &e) == 0) have_open = 1;
    } else if (!b.l1_open && url && *url && cli_l1_open(&b.l1, url, NULL) == 0) {
        /* No node to name the token: ETH only. */
        b.l1_open = 1;
        have_eth = cli_l1_eth_balance(&b.l1, &me, eth, NULL) == 0;
    } else if (!ctx->json) {
        fprintf(ctx->err, "note: no L1 balances: %s\n", e.msg);
    }
    cli_bridge_env_free(&b);
    if (have_eth) cli_format_u256(eths, sizeof eths, eth, 18);
    if (have_open) cli_format_u256(opens, sizeof opens, open, 9);
    if (ctx->json) {
        char weis[96], bases[96];
        cli_format_u256(weis, sizeof weis, eth, 0);
        cli_format_u256(bases, sizeof bases, open, 0);
        json_t *o = json_pack("{s:s, s:o, s:o}", "address", h, "ethWei",
                              have_eth ? json_string(weis) : json_null(), "open",
                              have_open ? json_string(bases) : json_null());
        int rc = cli_print_json(ctx, o);
        json_decref(o);
        return rc;
    }
    fprintf(ctx->out, "%s\n", h);
    if (have_eth) fprintf(ctx->out, "ETH:   %s\n", eths);
    if (have_open) fprintf(ctx->out, "OPEN:  %s\n", opens);
    return CLI_EXIT_OK;
}
