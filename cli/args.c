/* Command-line parsing and the help text.
 *
 * Help is generated from the same tables the parser checks against (option
 * definitions and each command's option mask), so `--help` cannot drift from
 * what the code accepts. */
#include <stdio.h>
#include <string.h>

#include "chain/types/tx.h"
#include "cli/cli.h"
#include "cli/tx_submit.h"

const cli_optdef cli_optdefs[CLI_OPT_COUNT] = {
    [CLI_OPT_RPC] =
        {"rpc", "URL",
         "node JSON-RPC endpoint, http:// or https:// (default $OPENLEDGER_RPC or " CLI_DEFAULT_RPC
         ")"},
    [CLI_OPT_CACERT] = {"cacert", "FILE",
                        "trust the CA certificates in FILE (PEM) for an https:// node, instead "
                        "of the system's"},
    [CLI_OPT_JSON] = {"json", NULL, "print the node's JSON result (pretty) instead of text"},
    [CLI_OPT_KEYSTORE] = {"keystore", "DIR",
                          "keystore directory (default $OPENLEDGER_KEYSTORE or "
                          "~/.openledger/keystore)"},
    [CLI_OPT_PASSWORD_FILE] = {"password-file", "FILE",
                               "read the passphrase from the first line of FILE (else "
                               "$OPENLEDGER_PASSWORD, else a prompt on the terminal)"},
    [CLI_OPT_HELP] = {"help", NULL, "show help (also -h)"},
    [CLI_OPT_VERSION] = {"version", NULL, "print the version"},
    [CLI_OPT_NAME] = {"name", "NAME",
                      "keystore name: letters, digits, '.', '_', '-' (default key-<address "
                      "prefix>)"},
    [CLI_OPT_SECRET] = {"secret", NULL, "also print the secret key (asks for the passphrase)"},
    [CLI_OPT_SECRET_HEX] = {"secret-hex", "HEX", "the 32-byte secret key to import, in hex"},
    [CLI_OPT_FROM] = {"from", "KEY", "signing key: a keystore name or dev0..dev9"},
    [CLI_OPT_TO] = {"to", "ADDRESS|KEYNAME",
                    "recipient: an ol1... address or a key name (withdraw: an L1 address, 0x...)"},
    [CLI_OPT_AMOUNT] = {"amount", "OPEN", "amount in OPEN, up to 9 decimals (e.g. 1.25)"},
    [CLI_OPT_GAS_PRICE] = {"gas-price", "N", "gas price in base units (default 1)"},
    /* Each signing command says its own default: gas_limit_help. */
    [CLI_OPT_GAS_LIMIT] = {"gas-limit", "N",
                           "gas limit (default: the transaction's intrinsic gas)"},
    [CLI_OPT_NONCE] = {"nonce", "N", "nonce to use (default: the account's pending nonce)"},
    [CLI_OPT_NO_WAIT] = {"no-wait", NULL, "print the hash and return without waiting"},
    [CLI_OPT_TIMEOUT] = {"timeout", "S",
                         "seconds to wait for inclusion (default 30; bridge commands: 300)"},
    [CLI_OPT_BOND] = {"bond", "OPEN", "bond each contribution locks until reviewed (default 0)"},
    [CLI_OPT_REVIEW] = {"review", NULL, "contributions wait for the owner's review"},
    [CLI_OPT_URI] = {"uri", "URI", "where the data can be found (printable ASCII, no spaces)"},
    [CLI_OPT_DATANET] = {"datanet", "ID", "datanet id (model register: repeatable)", 1},
    [CLI_OPT_ACCEPT] = {"accept", NULL, "accept the contribution (its bond is returned)"},
    [CLI_OPT_REJECT] = {"reject", "REASON",
                        "reject with a numeric reason code (the bond goes to the owner)"},
    [CLI_OPT_ATTESTOR] = {"attestor", "KEY|PUBKEY",
                          "key allowed to attribute: a key name, devN or 32-byte hex public key "
                          "(default the --from key)"},
    [CLI_OPT_SPLIT] = {"split", "O/V/C",
                       "owner/validators/contributors share in basis points, summing to 10000"},
    [CLI_OPT_REWARD_CONTRACT] = {"reward-contract", "ADDRESS",
                                 "reward contract (default the genesis proportional split)"},
    [CLI_OPT_MODEL] = {"model", "ID", "model id"},
    [CLI_OPT_FEE] = {"fee", "OPEN", "inference fee in OPEN, paid to the reward contract"},
    [CLI_OPT_ENTRIES] = {"entries", "FILE",
                         "JSON entries: [{\"contribution\": ID, \"weight\": N}, ...]"},
    [CLI_OPT_OUTPUT_HASH] = {"output-hash", "HEX", "32-byte hash of the inference output"},
    [CLI_OPT_EVIDENCE_HASH] = {"evidence-hash", "HEX", "32-byte hash of the attribution evidence"},
    [CLI_OPT_METHOD] = {"method", "M", "gradient, suffix-array or other (default other)"},
    [CLI_OPT_OUTPUT] = {"output", "FILE", "output file (also -o)"},
    [CLI_OPT_INPUT] = {"input", "HEX", "call input bytes in hex (default none)"},
    [CLI_OPT_VALUE] = {"value", "OPEN", "OPEN sent to the contract with the call (default 0)"},
    [CLI_OPT_READ] = {"read", NULL,
                      "read-only call against the latest state (contract_call): nothing is "
                      "signed or changed"},
    [CLI_OPT_GENESIS] = {"genesis", "FILE",
                         "trusted genesis of the network whose validators must have signed the "
                         "header (default: the devnet genesis built in)"},
    [CLI_OPT_L1] = {"l1", "URL",
                    "the L1's JSON-RPC endpoint (default $OPENLEDGER_L1, else the node's own, "
                    "bridge_info.l1Url)"},
    [CLI_OPT_FORCE] = {"force", NULL,
                       "send even when the withdrawal is not ready, to see the L1's own error"},
    [CLI_OPT_VERIFY] = {"verify", NULL,
                        "check every figure against a header the genesis validators signed "
                        "(docs/proofs.md); print only what was proven"},
};

static int find_opt(const char *name, size_t n)
{
    for (int i = 0; i < CLI_OPT_COUNT; i++)
        if (strlen(cli_optdefs[i].name) == n && memcmp(cli_optdefs[i].name, name, n) == 0) return i;
    return -1;
}

int cli_args_parse(cli_args *a, int argc, char **argv, int from, util_err *err)
{
    memset(a, 0, sizeof *a);
    int only_pos = 0;
    for (int i = from; i < argc; i++) {
        const char *s = argv[i];
        if (only_pos || s[0] != '-' || s[1] == 0) {
            if (a->npos == CLI_MAX_POS)
                return util_err_set(err, UTIL_EINVAL, "too many arguments ('%s')", s);
            a->pos[a->npos++] = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(s, "-h") == 0) s = "--help";
        if (strcmp(s, "-o") == 0) s = "--output";
        if (s[1] != '-') return util_err_set(err, UTIL_EINVAL, "unknown option '%s'", argv[i]);
        const char *name = s + 2;
        const char *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        int o = find_opt(name, n);
        if (o < 0) return util_err_set(err, UTIL_EINVAL, "unknown option '%.*s'", (int)n + 2, s);
        if (a->opt[o] && !cli_optdefs[o].repeatable)
            return util_err_set(err, UTIL_EINVAL, "option --%s given twice", cli_optdefs[o].name);
        if (!cli_optdefs[o].arg) {
            if (eq)
                return util_err_set(err, UTIL_EINVAL, "option --%s takes no value",
                                    cli_optdefs[o].name);
            a->opt[o] = "";
            continue;
        }
        if (!eq && i + 1 >= argc)
            return util_err_set(err, UTIL_EINVAL, "option --%s needs a value (%s)",
                                cli_optdefs[o].name, cli_optdefs[o].arg);
        const char *v = eq ? eq + 1 : argv[++i];
        if (!a->opt[o]) a->opt[o] = v;
        if (cli_optdefs[o].repeatable) {
            if (a->nrep == CLI_MAX_REPEAT)
                return util_err_set(err, UTIL_EINVAL, "option --%s given too often (at most %d)",
                                    cli_optdefs[o].name, CLI_MAX_REPEAT);
            a->rep_opt[a->nrep] = o;
            a->rep[a->nrep++] = v;
        }
    }
    return 0;
}

int cli_args_values(const cli_args *a, int opt, const char **out, int max)
{
    int n = 0;
    for (int i = 0; i < a->nrep && n < max; i++)
        if (a->rep_opt[i] == opt) out[n++] = a->rep[i];
    return n;
}

/* Number of words in a command name ("key new" = 2). */
static int name_words(const char *name)
{
    int w = 1;
    for (const char *p = name; *p; p++)
        w += *p == ' ';
    return w;
}

static int name_matches(const char *name, const cli_args *a, int words)
{
    if (a->npos < words) return 0;
    const char *p = name;
    for (int i = 0; i < words; i++) {
        size_t l = strlen(a->pos[i]);
        if (strncmp(p, a->pos[i], l) != 0 || (p[l] != ' ' && p[l] != 0)) return 0;
        p += l + (p[l] == ' ');
    }
    return 1;
}

const cli_command *cli_command_find(const cli_args *a, int *used)
{
    for (size_t i = 0; i < cli_ncommands; i++) {
        int w = name_words(cli_commands[i].name);
        if (name_matches(cli_commands[i].name, a, w)) {
            *used = w;
            return &cli_commands[i];
        }
    }
    return NULL;
}

int cli_args_check(const cli_command *cmd, const cli_args *a, int used, util_err *err)
{
    uint64_t allowed = cmd->opts | CLI_GLOBAL_OPTS;
    for (int o = 0; o < CLI_OPT_COUNT; o++) {
        if (a->opt[o] && !(allowed & CLI_OPTBIT(o)))
            return util_err_set(err, UTIL_EINVAL, "'%s' does not take --%s", cmd->name,
                                cli_optdefs[o].name);
        if (!a->opt[o] && (cmd->required & CLI_OPTBIT(o)))
            return util_err_set(err, UTIL_EINVAL, "'%s' needs --%s", cmd->name,
                                cli_optdefs[o].name);
        if (a->opt[o] && cli_optdefs[o].arg && a->opt[o][0] == 0)
            return util_err_set(err, UTIL_EINVAL, "option --%s has an empty value",
                                cli_optdefs[o].name);
    }
    int n = a->npos - used;
    if (n < cmd->min_pos)
        return util_err_set(err, UTIL_EINVAL, "'%s' needs %s", cmd->name, cmd->usage);
    if (n > cmd->max_pos)
        return util_err_set(err, UTIL_EINVAL, "unexpected argument '%s'",
                            a->pos[used + cmd->max_pos]);
    return 0;
}

/* Prints text word-wrapped to 80 columns, continuation lines indented by col
 * (the cursor is assumed at col). '\x01' is a space that does not break. */
static void print_wrapped(FILE *f, const char *text, int col)
{
    int pos = col;
    const char *p = text;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (pos > col && pos + 1 + (int)w > 80) {
            fprintf(f, "\n%*s", col, "");
            pos = col;
        } else if (pos > col) {
            fputc(' ', f);
            pos++;
        }
        for (size_t i = 0; i < w; i++)
            fputc(p[i] == '\x01' ? ' ' : p[i], f);
        pos += (int)w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

static void print_usage_line(FILE *f, const cli_command *c)
{
    char line[512];
    size_t n = (size_t)snprintf(line, sizeof line, "openledger-cli %s%s%s", c->name,
                                c->usage[0] ? " " : "", c->usage);
    for (int o = 0; o < CLI_OPT_COUNT && n < sizeof line; o++) {
        if (!(c->opts & CLI_OPTBIT(o))) continue;
        int req = (c->required & CLI_OPTBIT(o)) != 0;
        n += (size_t)snprintf(line + n, sizeof line - n, " %s--%s%s%s%s", req ? "" : "[",
                              cli_optdefs[o].name, cli_optdefs[o].arg ? "\x01" : "",
                              cli_optdefs[o].arg ? cli_optdefs[o].arg : "", req ? "" : "]");
    }
    fputs("usage: ", f);
    print_wrapped(f, line, 7);
}

/* Intrinsic gas of a transaction of this type with n entries, datanets or
 * code bytes: the numbers come from chain_tx_intrinsic_gas itself, so the
 * help cannot drift from what the node charges. */
static unsigned long long intrinsic(int type, uint32_t n)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = (uint8_t)type;
    if (type == CHAIN_TX_MODEL_REGISTER)
        tx.body.model_register.ndatanets = n;
    else if (type == CHAIN_TX_ATTRIBUTE)
        tx.body.attribute.nentries = n;
    else if (type == CHAIN_TX_DEPLOY)
        tx.body.deploy.len = n;
    return (unsigned long long)chain_tx_intrinsic_gas(&tx);
}

/* The --gas-limit default of a signing command, as cli_tx_submit computes
 * it: the intrinsic gas plus the command's extra VM gas (cli/tx_submit.h). */
static void gas_limit_help(const cli_command *c, char *out, size_t cap)
{
    unsigned long long base = intrinsic(c->tx_type, 0), per = intrinsic(c->tx_type, 1) - base;
    switch (c->tx_type) {
    case CHAIN_TX_MODEL_REGISTER:
        snprintf(out, cap, "gas limit (default %llu + %llu per --datanet, the intrinsic gas)", base,
                 per);
        break;
    case CHAIN_TX_ATTRIBUTE:
        snprintf(out, cap,
                 "gas limit (default %llu + %llu per entry: the intrinsic %llu + %llu per entry, "
                 "plus %u + %u per entry for the reward contract's VM gas; unused gas is refunded)",
                 base + CLI_ATTR_VM_GAS_BASE, per + CLI_ATTR_VM_GAS_PER_ENTRY, base, per,
                 CLI_ATTR_VM_GAS_BASE, CLI_ATTR_VM_GAS_PER_ENTRY);
        break;
    case CHAIN_TX_DEPLOY:
        snprintf(out, cap, "gas limit (default %llu + %llu per code byte, the intrinsic gas)", base,
                 per);
        break;
    case CHAIN_TX_CALL:
        snprintf(out, cap,
                 "gas limit (default %llu: the intrinsic %llu plus %u for the VM; unused gas is "
                 "refunded). With --read, the VM gas cap (default: the node's, see "
                 "contract_call)",
                 base + CLI_CALL_VM_GAS, base, CLI_CALL_VM_GAS);
        break;
    default: snprintf(out, cap, "gas limit (default %llu, the intrinsic gas)", base); break;
    }
}

static void print_opt(FILE *f, const cli_command *cmd, int o)
{
    char left[64], help[320];
    snprintf(left, sizeof left, "--%s%s%s", cli_optdefs[o].name, cli_optdefs[o].arg ? " " : "",
             cli_optdefs[o].arg ? cli_optdefs[o].arg : "");
    fprintf(f, "  %-24s ", left);
    if (strlen(left) > 24) fprintf(f, "\n%*s", 27, "");
    const char *text = cli_optdefs[o].help;
    if (o == CLI_OPT_GAS_LIMIT && cmd && cmd->tx_type) {
        gas_limit_help(cmd, help, sizeof help);
        text = help;
    }
    print_wrapped(f, text, 27);
}

static void print_global_opts(FILE *f)
{
    fputs("Global options (accepted before or after the command):\n", f);
    for (int o = 0; o < CLI_OPT_COUNT; o++)
        if (CLI_GLOBAL_OPTS & CLI_OPTBIT(o)) print_opt(f, NULL, o);
}

void cli_print_help(FILE *f, const cli_command *cmd)
{
    if (cmd) {
        print_usage_line(f, cmd);
        fprintf(f, "\n%s\n", cmd->summary);
        if (cmd->details) fprintf(f, "\n%s\n", cmd->details);
        if (cmd->opts) {
            fputs("\nOptions:\n", f);
            for (int o = 0; o < CLI_OPT_COUNT; o++)
                if (cmd->opts & CLI_OPTBIT(o)) print_opt(f, cmd, o);
        }
        fputc('\n', f);
        print_global_opts(f);
        return;
    }
    fputs("usage: openledger-cli [GLOBAL OPTIONS] COMMAND [ARGUMENTS] [OPTIONS]\n"
          "\n"
          "Wallet and query client for an OpenLedger node (JSON-RPC over http:// or https://).\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < cli_ncommands; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s %s", cli_commands[i].name, cli_commands[i].usage);
        fprintf(f, "  %-26s ", left);
        print_wrapped(f, cli_commands[i].summary, 29);
    }
    fputc('\n', f);
    print_global_opts(f);
    fputs("\n"
          "Keys named dev0 .. dev9 are the published development keys of the devnet; they\n"
          "need no keystore and no passphrase.\n"
          "\n"
          "Environment:\n"
          "  OPENLEDGER_RPC        default for --rpc\n"
          "  OPENLEDGER_KEYSTORE   default for --keystore\n"
          "  OPENLEDGER_PASSWORD   passphrase when --password-file is not given\n"
          "  OPENLEDGER_SCRYPT_N   scrypt cost of new keys; for tests only (weakens the "
          "keystore)\n"
          "  https_proxy, http_proxy, all_proxy, no_proxy\n"
          "                        proxy for the node (never used for a loopback node)\n"
          "\n"
          "Exit codes: 0 success, 1 error, 2 usage error.\n"
          "Run 'openledger-cli COMMAND --help' for the options of one command.\n",
          f);
}
