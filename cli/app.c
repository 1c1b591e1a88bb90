/* Program entry (cli_main), the command table and output helpers. */
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "chain/types/tx.h"
#include "cli/cli.h"
#include "cli/commands_rpc.h"
#include "util/amount.h"

#define B CLI_OPTBIT
/* Options of every command that signs a transaction (cli/tx_submit.h). */
#define CLI_ATTR_TX_OPTS                                                                           \
    (B(CLI_OPT_FROM) | B(CLI_OPT_GAS_PRICE) | B(CLI_OPT_GAS_LIMIT) | B(CLI_OPT_NONCE) |            \
     B(CLI_OPT_NO_WAIT) | B(CLI_OPT_TIMEOUT))

const cli_command cli_commands[] = {
    {"key new", "", 0, 0, B(CLI_OPT_NAME), 0,
     "Create a new key, encrypt it with a passphrase, print its name and address.",
     "The key is written to KEYSTORE/NAME.json (mode 0600, directory 0700) and is never\n"
     "overwritten. The passphrase comes from --password-file, $OPENLEDGER_PASSWORD, or is\n"
     "asked twice on the terminal; it must not be empty.",
     cli_cmd_key_new, 0},
    {"key list", "", 0, 0, 0, 0, "List the keystore's keys with their addresses.", NULL,
     cli_cmd_key_list, 0},
    {"key show", "NAME", 1, 1, B(CLI_OPT_SECRET), 0,
     "Show a key's address and public key (NAME may be dev0..dev9).",
     "The secret key is printed only with --secret, after the passphrase was checked.",
     cli_cmd_key_show, 0},
    {"key import", "NAME", 1, 1, B(CLI_OPT_SECRET_HEX), B(CLI_OPT_SECRET_HEX),
     "Store an existing secret key in the keystore under NAME.",
     "Handy for tests; note that the secret is visible in the process list while it runs.",
     cli_cmd_key_import, 0},
    {"balance", "ADDRESS|KEYNAME", 1, 1, 0, 0, "Show an account's balance and nonce.", NULL,
     cli_cmd_balance, 0},
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
     cli_cmd_send, CHAIN_TX_TRANSFER},
    {"tx", "HASH", 1, 1, 0, 0, "Show a transaction and its receipt.", NULL, cli_cmd_tx, 0},
    {"block", "[HEIGHT|latest|HASH]", 0, 1, 0, 0,
     "Show a block header and its transactions (default: latest).", NULL, cli_cmd_block, 0},
    {"status", "", 0, 0, 0, 0, "Show the node's chain id, height, head hash and version.", NULL,
     cli_cmd_status, 0},
    {"prove", "ADDRESS|KEYNAME", 1, 1, CLI_OPTBIT(CLI_OPT_GENESIS), 0,
     "Fetch a state proof of an account and verify it locally.",
     "Checks that the header decodes and hashes to the header hash the node gave, that\n"
     "validators holding more than 2/3 of the voting power of a trusted genesis (the\n"
     "devnet's, or --genesis FILE) signed it, then verifies the sparse Merkle proof of\n"
     "the account (or of its absence) against the header's state root, and that the\n"
     "proven value is the balance and nonce shown. A node alone cannot fool it.",
     cli_cmd_prove, 0},
    /* attribution: cli/commands_attr.c, cli/commands_attr_query.c, docs/attribution.md */
    {"datanet create", "NAME [FILE]", 1, 2,
     CLI_ATTR_TX_OPTS | B(CLI_OPT_BOND) | B(CLI_OPT_REVIEW) | B(CLI_OPT_URI), B(CLI_OPT_FROM),
     "Create a datanet owned by the --from key, then show it.",
     "FILE, a description of the datanet, is hashed (SHA-256) into its metadata hash;\n"
     "--uri says where the description lives. With --review, contributions stay pending\n"
     "until the owner reviews them, and each locks the --bond until then.",
     cli_cmd_datanet_create, CHAIN_TX_DATANET_CREATE},
    {"datanet show", "ID", 1, 1, 0, 0, "Show a datanet.", NULL, cli_cmd_datanet_show, 0},
    {"datanet list", "", 0, 0, 0, 0, "List every datanet.", NULL, cli_cmd_datanet_list, 0},
    {"contribute", "FILE", 1, 1, CLI_ATTR_TX_OPTS | B(CLI_OPT_DATANET) | B(CLI_OPT_URI),
     B(CLI_OPT_FROM) | B(CLI_OPT_DATANET), "Contribute a file's hash to a datanet.",
     "The file never leaves this machine: its SHA-256 and size are sent, with --uri\n"
     "saying where it can be fetched. The datanet's bond is locked from the --from\n"
     "account until the owner reviews the contribution (or returned at once when the\n"
     "datanet does not review).",
     cli_cmd_contribute, CHAIN_TX_CONTRIBUTE},
    {"review", "ID", 1, 1, CLI_ATTR_TX_OPTS | B(CLI_OPT_ACCEPT) | B(CLI_OPT_REJECT),
     B(CLI_OPT_FROM), "Accept or reject a pending contribution (datanet owner only).",
     "--accept returns the bond to the contributor; --reject REASON records the reason\n"
     "code and forfeits the bond to the datanet owner.",
     cli_cmd_review, CHAIN_TX_REVIEW},
    {"model register", "NAME", 1, 1,
     CLI_ATTR_TX_OPTS | B(CLI_OPT_DATANET) | B(CLI_OPT_ATTESTOR) | B(CLI_OPT_SPLIT) |
         B(CLI_OPT_REWARD_CONTRACT),
     B(CLI_OPT_FROM) | B(CLI_OPT_DATANET) | B(CLI_OPT_SPLIT),
     "Register a model trained on datanets, with its attestor and fee split.", NULL,
     cli_cmd_model_register, CHAIN_TX_MODEL_REGISTER},
    {"model show", "ID", 1, 1, 0, 0, "Show a model.", NULL, cli_cmd_model_show, 0},
    {"model list", "", 0, 0, 0, 0, "List every model.", NULL, cli_cmd_model_list, 0},
    {"attribute", "", 0, 0,
     CLI_ATTR_TX_OPTS | B(CLI_OPT_MODEL) | B(CLI_OPT_FEE) | B(CLI_OPT_ENTRIES) |
         B(CLI_OPT_OUTPUT_HASH) | B(CLI_OPT_EVIDENCE_HASH) | B(CLI_OPT_METHOD),
     B(CLI_OPT_FROM) | B(CLI_OPT_MODEL) | B(CLI_OPT_FEE) | B(CLI_OPT_ENTRIES),
     "Record a paid inference of a model and who influenced it (attestor only).",
     "The fee goes to the model's reward contract, which pays the validators, the\n"
     "contributors in proportion to their weights, and the model owner. Prints the\n"
     "stored record with every payout.",
     cli_cmd_attribute, CHAIN_TX_ATTRIBUTE},
    {"impact", "ADDRESS|KEYNAME", 1, 1, B(CLI_OPT_VERIFY) | B(CLI_OPT_GENESIS), 0,
     "Show what an address contributed, which models used it and what it earned.",
     "With --verify, proves the contributor's totals and every record that paid\n"
     "it against one header signed by the trusted genesis validators (--genesis\n"
     "FILE, default the devnet's), checks that the proven payouts add up to the\n"
     "proven totals, and prints only what was proven; any failed check names the\n"
     "figure and exits 1.",
     cli_cmd_impact, 0},
    {"rpc", "METHOD [PARAM...]", 1, CLI_MAX_POS - 1, 0, 0,
     "Call any JSON-RPC method and print its result as JSON.",
     "PARAMS: a single JSON array is the whole params array; otherwise each PARAM is one\n"
     "positional param, read as JSON when it parses (numbers, true, {...}, \"quoted\") and\n"
     "as a string otherwise (addresses, 0x hex, latest); dev0..dev9 stand for their\n"
     "addresses (quote one, '\"dev0\"', for the string). Put -- before a param that starts\n"
     "with '-'. Examples:\n"
     "  openledger-cli rpc chain_getBlockRange latest 10 desc\n"
     "  openledger-cli rpc account_get dev1\n"
     "  openledger-cli rpc admin_setLogLevel debug\n"
     "'openledger-cli methods' lists every method the node serves.",
     cli_cmd_rpc, 0},
    {"methods", "", 0, 0, 0, 0, "List the node's JSON-RPC methods (rpc_discover).", NULL,
     cli_cmd_methods, 0},
    {"watch", "[COUNT]", 0, 1, 0, 0, "Follow new blocks over WebSocket, one line per block.",
     "Subscribes to subscribe_newBlocks on the node's /ws endpoint (derived from --rpc) and\n"
     "prints height, hash, transactions, gas, time and the gap to the previous block. With\n"
     "--json, prints each block notification as one line of JSON. Stops after COUNT blocks\n"
     "when given, else runs until interrupted.",
     cli_cmd_watch, 0},
    /* contracts: cli/commands_contract.c, docs/contracts.md */
    {"asm", "FILE.olasm", 1, 1, B(CLI_OPT_OUTPUT), 0,
     "Assemble a contract and verify it; writes the code blob.",
     "Writes to --output (default: FILE with .olasm replaced by .bin) and prints\n"
     "the size and code hash. Errors are reported as file:line:col: message; the\n"
     "verifier's rejections point at the offending source line (docs/vm.md).",
     cli_cmd_asm, 0},
    {"disasm", "FILE.bin", 1, 1, B(CLI_OPT_OUTPUT), 0,
     "Disassemble a code blob; the text assembles back to the same bytes.",
     "Prints to standard output, or writes --output.", cli_cmd_disasm, 0},
    {"contract deploy", "FILE.olasm|FILE.bin", 1, 1, CLI_ATTR_TX_OPTS, B(CLI_OPT_FROM),
     "Deploy a contract (DEPLOY), wait for it, print its address.",
     "A .olasm file is assembled (and verified) first; any other file is sent as\n"
     "the code blob and verified by the node, which refuses code that does not\n"
     "verify before it reaches a block. The address is derived from the --from\n"
     "address and the nonce.",
     cli_cmd_contract_deploy, CHAIN_TX_DEPLOY},
    {"contract call", "ADDRESS", 1, 1,
     CLI_ATTR_TX_OPTS | B(CLI_OPT_INPUT) | B(CLI_OPT_VALUE) | B(CLI_OPT_READ), 0,
     "Call a contract: a CALL transaction, or read-only with --read.",
     "As a transaction (--from needed) it waits for the receipt and prints status,\n"
     "gas used, return data, events and, when it failed, its failure code and revert\n"
     "data; unused gas is refunded. With --read the node runs the call against its\n"
     "latest state and keeps nothing (contract_call); --from then only names the\n"
     "caller, and --value and --gas-limit are passed on.",
     cli_cmd_contract_call, CHAIN_TX_CALL},
    {"contract show", "ADDRESS", 1, 1, 0, 0, "Show a contract's code hash, code size and balance.",
     NULL, cli_cmd_contract_show, 0},
    /* the bridge: cli/commands_bridge.c, cli/commands_withdraw.c, docs/rollup.md "Bridge" */
    {"bridge deposit", "", 0, 0,
     B(CLI_OPT_FROM) | B(CLI_OPT_TO) | B(CLI_OPT_AMOUNT) | B(CLI_OPT_L1) | B(CLI_OPT_NO_WAIT) |
         B(CLI_OPT_TIMEOUT),
     B(CLI_OPT_TO) | B(CLI_OPT_AMOUNT),
     "Lock OPEN in the L1 bridge for an L2 recipient, then wait until it is minted.",
     "The --from key's L1 account (default: the --to key's) pays: its OPEN balance is\n"
     "checked, the bridge is approved for the amount when the allowance is short, then\n"
     "Bridge.deposit is sent. Prints the L1 transaction, the deposit nonce and, unless\n"
     "--no-wait, waits (progress on stderr) until a validator has minted it after the\n"
     "bridge's depositConfirmations L1 blocks, and prints the L2 height. The L1 is --l1,\n"
     "else $OPENLEDGER_L1, else the node's (bridge_info.l1Url).",
     cli_cmd_bridge_deposit, 0},
    {"withdraw", "", 0, 0, CLI_ATTR_TX_OPTS | B(CLI_OPT_TO) | B(CLI_OPT_AMOUNT),
     B(CLI_OPT_FROM) | B(CLI_OPT_TO) | B(CLI_OPT_AMOUNT),
     "Burn OPEN on the L2 for an L1 recipient (WITHDRAW); prints the withdrawal id.",
     "Signed and sent like 'send'. Once an output at or above the withdrawal's height is\n"
     "final on the L1, 'bridge finalize ID' releases the tokens to --to.",
     cli_cmd_withdraw, CHAIN_TX_WITHDRAW},
    {"bridge status", "ID|TXHASH", 1, 1, 0, 0,
     "Show a withdrawal and where it stands (pending, waiting, ready, finalized).",
     "ID is the withdrawal id, or the hash of its WITHDRAW transaction. Statuses: pending\n"
     "(not in a block yet), waiting for an output, waiting for finalization (with the time\n"
     "left), ready, finalized, frozen. --json prints the node's bridge_getWithdrawal object.",
     cli_cmd_bridge_status, 0},
    {"bridge finalize", "ID|TXHASH", 1, 1,
     B(CLI_OPT_FROM) | B(CLI_OPT_L1) | B(CLI_OPT_NO_WAIT) | B(CLI_OPT_TIMEOUT) | B(CLI_OPT_FORCE),
     0, "Release a final withdrawal on the L1 with its proof from the node.",
     "Refuses unless the withdrawal is ready (--force sends anyway, to see the L1's error).\n"
     "The proof from bridge_getWithdrawalProof is checked here first: the withdrawal's leaf\n"
     "against the withdrawals root, the roots against the output root, the output root\n"
     "against the L1's OutputOracle. Then Bridge.finalizeWithdrawal is sent from the --from\n"
     "key's L1 account (default: the withdrawal sender's key, when this machine has it).\n"
     "Prints the L1 transaction, its gas and the recipient's new L1 OPEN balance.",
     cli_cmd_bridge_finalize, 0},
    {"bridge l1-address", "", 0, 0, B(CLI_OPT_FROM) | B(CLI_OPT_L1), B(CLI_OPT_FROM),
     "Print a key's Ethereum (L1) address, with its ETH and OPEN when an L1 is reachable.",
     "The key's secret, normalised to its even-y point, is the L1 key: the address follows\n"
     "from the public key, no passphrase is asked.",
     cli_cmd_bridge_l1_address, 0},
    {"contract storage", "ADDRESS KEY", 2, 2, 0, 0,
     "Show one storage slot of a contract (KEY: 32 bytes of hex).",
     "An empty slot reads as 32 zero bytes.", cli_cmd_contract_storage, 0},
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

/* The commands of a group ("key", "bridge"). */
static void list_group_commands(FILE *f, const char *group)
{
    size_t n = strlen(group);
    fprintf(f, "%s commands:\n", group);
    for (size_t i = 0; i < cli_ncommands; i++)
        if (strncmp(cli_commands[i].name, group, n) == 0 && cli_commands[i].name[n] == ' ')
            fprintf(f, "  %-18s %s\n", cli_commands[i].name, cli_commands[i].summary);
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
    ctx.cacert = a.opt[CLI_OPT_CACERT];
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
        if (strcmp(a.pos[0], "key") == 0 || strcmp(a.pos[0], "bridge") == 0) {
            if (a.npos == 1 && a.opt[CLI_OPT_HELP]) {
                list_group_commands(out, a.pos[0]);
                return CLI_EXIT_OK;
            }
            if (a.npos == 1)
                fprintf(err, "error: '%s' needs a subcommand\n", a.pos[0]);
            else
                fprintf(err, "error: unknown %s command '%s'\n", a.pos[0], a.pos[1]);
            list_group_commands(err, a.pos[0]);
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
    cli_rpc_close(&ctx);
    fflush(out);
    return rc;
}
