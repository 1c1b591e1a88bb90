/* Program entry (cli_main), the command table and output helpers. */
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "util/amount.h"

#define B CLI_OPTBIT

const cli_command cli_commands[] = {
    {"key new", "", 0, 0, B(CLI_OPT_NAME), 0,
     "Create a new key, encrypt it with a passphrase, print its name and address.",
     "The key is written to KEYSTORE/NAME.json (mode 0600, directory 0700) and is never\n"
     "overwritten. The passphrase comes from --password-file, $OPENLEDGER_PASSWORD, or is\n"
     "asked twice on the terminal; it must not be empty.",
     cli_cmd_key_new},
    {"key list", "", 0, 0, 0, 0, "List the keystore's keys with their addresses.", NULL,
     cli_cmd_key_list},
    {"key show", "NAME", 1, 1, B(CLI_OPT_SECRET), 0,
     "Show a key's address and public key (NAME may be dev0..dev9).",
     "The secret key is printed only with --secret, after the passphrase was checked.",
     cli_cmd_key_show},
    {"key import", "NAME", 1, 1, B(CLI_OPT_SECRET_HEX), B(CLI_OPT_SECRET_HEX),
     "Store an existing secret key in the keystore under NAME.",
     "Handy for tests; note that the secret is visible in the process list while it runs.",
     cli_cmd_key_import},
    {"balance", "ADDRESS|KEYNAME", 1, 1, 0, 0, "Show an account's balance and nonce.", NULL,
     cli_cmd_balance},
    {"send", "", 0, 0,
     B(CLI_OPT_FROM) | B(CLI_OPT_TO) | B(CLI_OPT_AMOUNT) | B(CLI_OPT_GAS_PRICE) |
         B(CLI_OPT_GAS_LIMIT) | B(CLI_OPT_NONCE) | B(CLI_OPT_NO_WAIT) | B(CLI_OPT_TIMEOUT),
     B(CLI_OPT_FROM) | B(CLI_OPT_TO) | B(CLI_OPT_AMOUNT),
     "Sign and submit a transfer of OPEN, then wait until it is in a block.",
     "The chain id comes from the node (node_status) and the nonce from account_get\n"
     "(pendingNonce) unless --nonce is given. Prints the transaction hash, then, unless\n"
     "--no-wait, polls every 200 ms until the transaction is in a block and prints its\n"
     "status, block height, gas used and fee. Exits with 1 if the transaction failed, was\n"
     "rejected, or was not included within the timeout.",
     cli_cmd_send},
    {"tx", "HASH", 1, 1, 0, 0, "Show a transaction and its receipt.", NULL, cli_cmd_tx},
    {"block", "[HEIGHT|latest|HASH]", 0, 1, 0, 0,
     "Show a block header and its transactions (default: latest).", NULL, cli_cmd_block},
    {"status", "", 0, 0, 0, 0, "Show the node's chain id, height, head hash and version.", NULL,
     cli_cmd_status},
    {"prove", "ADDRESS|KEYNAME", 1, 1, 0, 0,
     "Fetch a state proof of an account and verify it locally.",
     "Checks that the header decodes and hashes to the header hash the node gave, then\n"
     "verifies the sparse Merkle proof of the account (or of its absence) against the\n"
     "header's state root, and that the proven value is the balance and nonce shown. It\n"
     "does not check the validators' signatures on the header: compare the header hash\n"
     "with another source to trust it.",
     cli_cmd_prove},
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

int cli_fail(cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", ctx->err);
    vfprintf(ctx->err, fmt, ap);
    fputc('\n', ctx->err);
    va_end(ap);
    return CLI_EXIT_ERR;
}

int cli_fail_err(cli_ctx *ctx, const util_err *err)
{
    return cli_fail(ctx, "%s", err->msg[0] ? err->msg : "unknown error");
}

static void usage_hint(cli_ctx *ctx)
{
    if (ctx->cmd)
        fprintf(ctx->err, "Run 'openledger-cli %s --help' for its usage.\n", ctx->cmd->name);
    else
        fputs("Run 'openledger-cli --help' for the list of commands.\n", ctx->err);
}

int cli_usage_fail(cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", ctx->err);
    vfprintf(ctx->err, fmt, ap);
    fputc('\n', ctx->err);
    va_end(ap);
    usage_hint(ctx);
    return CLI_EXIT_USAGE;
}

int cli_print_json(cli_ctx *ctx, const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (!s) return cli_fail(ctx, "out of memory");
    fprintf(ctx->out, "%s\n", s);
    free(s);
    return CLI_EXIT_OK;
}

void cli_format_amount(char *out, size_t cap, uint64_t base)
{
    char open[UTIL_AMOUNT_STR_MAX];
    util_amount_format_open(open, base);
    snprintf(out, cap, "%s OPEN (%llu base units)", open, (unsigned long long)base);
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    return util_amount_parse_base(s, out);
}

/* "help", "help send", "help key new" */
static int run_help(cli_ctx *ctx, const cli_args *a)
{
    if (a->npos == 1) {
        cli_print_help(ctx->out, NULL);
        return CLI_EXIT_OK;
    }
    cli_args sub = *a;
    memmove(sub.pos, sub.pos + 1, (size_t)(sub.npos - 1) * sizeof sub.pos[0]);
    sub.npos--;
    int used;
    const cli_command *c = cli_command_find(&sub, &used);
    if (!c || used != sub.npos) return cli_usage_fail(ctx, "no command '%s'", sub.pos[0]);
    cli_print_help(ctx->out, c);
    return CLI_EXIT_OK;
}

static void list_key_commands(FILE *f)
{
    fputs("key commands:\n", f);
    for (size_t i = 0; i < cli_ncommands; i++)
        if (strncmp(cli_commands[i].name, "key ", 4) == 0)
            fprintf(f, "  %-12s %s\n", cli_commands[i].name, cli_commands[i].summary);
}

/* jansson frees through this, so JSON that held a secret (key show --secret
 * --json) does not linger in freed memory. Both sides stay malloc/free, so
 * objects allocated before the switch are freed correctly. */
static void wipe_free(void *p)
{
    if (!p) return;
    OPENSSL_cleanse(p, malloc_usable_size(p));
    free(p);
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
    json_set_alloc_funcs(malloc, wipe_free);
    cli_ctx ctx = {.out = out, .err = err, .rpc_timeout_ms = CLI_RPC_TIMEOUT_MS};
    cli_args a;
    util_err e;
    if (cli_args_parse(&a, argc, argv, 1, &e)) return cli_usage_fail(&ctx, "%s", e.msg);

    const char *env_rpc = getenv("OPENLEDGER_RPC");
    ctx.rpc_url = a.opt[CLI_OPT_RPC]      ? a.opt[CLI_OPT_RPC]
                  : (env_rpc && *env_rpc) ? env_rpc
                                          : CLI_DEFAULT_RPC;
    ctx.json = a.opt[CLI_OPT_JSON] != NULL;
    ctx.keystore_opt = a.opt[CLI_OPT_KEYSTORE];
    ctx.password_file = a.opt[CLI_OPT_PASSWORD_FILE];

    if (a.opt[CLI_OPT_VERSION]) {
        fprintf(out, "openledger-cli %s\n", OL_VERSION);
        return CLI_EXIT_OK;
    }
    if (a.npos == 0) {
        if (a.opt[CLI_OPT_HELP]) {
            cli_print_help(out, NULL);
            return CLI_EXIT_OK;
        }
        cli_print_help(err, NULL);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(a.pos[0], "help") == 0) return run_help(&ctx, &a);

    int used = 0;
    const cli_command *cmd = cli_command_find(&a, &used);
    if (!cmd) {
        if (strcmp(a.pos[0], "key") == 0) {
            if (a.npos == 1 && a.opt[CLI_OPT_HELP]) {
                list_key_commands(out);
                return CLI_EXIT_OK;
            }
            if (a.npos == 1)
                fputs("error: 'key' needs a subcommand\n", err);
            else
                fprintf(err, "error: unknown key command '%s'\n", a.pos[1]);
            list_key_commands(err);
            return CLI_EXIT_USAGE;
        }
        return cli_usage_fail(&ctx, "unknown command '%s'", a.pos[0]);
    }
    ctx.cmd = cmd;
    if (a.opt[CLI_OPT_HELP]) {
        cli_print_help(out, cmd);
        return CLI_EXIT_OK;
    }
    if (cli_args_check(cmd, &a, used, &e)) return cli_usage_fail(&ctx, "%s", e.msg);

    /* Commands see only their own positionals. */
    cli_args own = a;
    memmove(own.pos, a.pos + used, (size_t)(a.npos - used) * sizeof a.pos[0]);
    own.npos = a.npos - used;
    int rc = cmd->fn(&ctx, &own);
    fflush(out);
    return rc;
}
