/* openledger-cli internals shared by the command files.
 *
 * The program is a plain blocking client: one command per run, each command a
 * function taking the parsed arguments and returning an exit code. Every
 * command writes through ctx->out / ctx->err (not stdout directly) so the
 * unit tests can run commands in-process and capture what they print. */
#ifndef OL_CLI_CLI_H
#define OL_CLI_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "chain/crypto/address.h"
#include "chain/crypto/keys.h"
#include "util/err.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_ERR = 1, CLI_EXIT_USAGE = 2 };

#define CLI_DEFAULT_RPC "http://127.0.0.1:8545"
#define CLI_RPC_TIMEOUT_MS 30000
#define CLI_MAX_POS 8

/* Every option any command knows. Global options are accepted anywhere. */
enum cli_opt {
    CLI_OPT_RPC,
    CLI_OPT_CACERT,
    CLI_OPT_JSON,
    CLI_OPT_KEYSTORE,
    CLI_OPT_PASSWORD_FILE,
    CLI_OPT_HELP,
    CLI_OPT_VERSION,
    CLI_OPT_NAME,
    CLI_OPT_SECRET,
    CLI_OPT_SECRET_HEX,
    CLI_OPT_FROM,
    CLI_OPT_TO,
    CLI_OPT_AMOUNT,
    CLI_OPT_GAS_PRICE,
    CLI_OPT_GAS_LIMIT,
    CLI_OPT_NONCE,
    CLI_OPT_NO_WAIT,
    CLI_OPT_TIMEOUT,
    /* attribution (cli/commands_attr.c) */
    CLI_OPT_BOND,
    CLI_OPT_REVIEW,
    CLI_OPT_URI,
    CLI_OPT_DATANET,
    CLI_OPT_ACCEPT,
    CLI_OPT_REJECT,
    CLI_OPT_ATTESTOR,
    CLI_OPT_SPLIT,
    CLI_OPT_REWARD_CONTRACT,
    CLI_OPT_MODEL,
    CLI_OPT_FEE,
    CLI_OPT_ENTRIES,
    CLI_OPT_OUTPUT_HASH,
    CLI_OPT_EVIDENCE_HASH,
    CLI_OPT_METHOD,
    /* contracts (cli/commands_contract.c) */
    CLI_OPT_OUTPUT,
    CLI_OPT_INPUT,
    CLI_OPT_VALUE,
    CLI_OPT_READ,
    /* light-client checks (cli/light.h) */
    CLI_OPT_GENESIS,
    /* the bridge (cli/commands_bridge.c) */
    CLI_OPT_L1,
    CLI_OPT_FORCE,
    CLI_OPT_VERIFY,
    CLI_OPT_COUNT
};

/* Option masks are 64-bit: there are more than 32 options. */
#define CLI_OPTBIT(o) ((uint64_t)1 << (o))
#define CLI_GLOBAL_OPTS                                                                            \
    (CLI_OPTBIT(CLI_OPT_RPC) | CLI_OPTBIT(CLI_OPT_CACERT) | CLI_OPTBIT(CLI_OPT_JSON) |             \
     CLI_OPTBIT(CLI_OPT_KEYSTORE) | CLI_OPTBIT(CLI_OPT_PASSWORD_FILE) | CLI_OPTBIT(CLI_OPT_HELP) | \
     CLI_OPTBIT(CLI_OPT_VERSION))

typedef struct cli_optdef {
    const char *name; /* without the leading "--" */
    const char *arg;  /* metavariable, NULL for a flag */
    const char *help;
    int repeatable; /* may be given several times (cli_args_values) */
} cli_optdef;

extern const cli_optdef cli_optdefs[CLI_OPT_COUNT];

/* argv after parsing: positionals in order and each option's value ("" for a
 * set flag, NULL when absent). Values point into argv. */
#define CLI_MAX_REPEAT 16
typedef struct cli_args {
    const char *pos[CLI_MAX_POS];
    int npos;
    const char *opt[CLI_OPT_COUNT]; /* a repeatable option: its first value */
    /* Every value of the repeatable options, in order, with its option. */
    const char *rep[CLI_MAX_REPEAT];
    int rep_opt[CLI_MAX_REPEAT];
    int nrep;
} cli_args;

struct cli_ctx;
typedef int (*cli_cmd_fn)(struct cli_ctx *ctx, const cli_args *a);

typedef struct cli_command {
    const char *name;  /* "balance", "key new", ... */
    const char *usage; /* positional part: "ADDRESS|KEYNAME" */
    int min_pos, max_pos;
    uint64_t opts;     /* CLI_OPTBIT mask of the command's own options */
    uint64_t required; /* subset of opts that must be given */
    const char *summary;
    const char *details; /* NULL or extra paragraphs for --help */
    cli_cmd_fn fn;
    /* A signing command: the chain_tx type it sends, from which its --help
     * derives the real default of --gas-limit. 0 for the others. */
    int tx_type;
} cli_command;

extern const cli_command cli_commands[];
extern const size_t cli_ncommands;

typedef struct cli_ctx {
    const char *rpc_url;
    const char *cacert; /* --cacert: CAs for an https:// node, or NULL for the system's */
    int json;
    const char *keystore_opt; /* --keystore, or NULL */
    const char *password_file;
    int rpc_timeout_ms;
    FILE *out;
    FILE *err;
    const cli_command *cmd; /* the command being run */
    /* The JSON-RPC connection, opened by the first cli_rpc_call and kept
     * alive for the next ones; closed by cli_rpc_close. */
    struct util_net_client *net;
} cli_ctx;

/* Whole program: parses argv, runs the command, returns the exit code.
 * cli/main.c is only a call to this. */
OL_MUST_CHECK int cli_main(int argc, char **argv, FILE *out, FILE *err);

/* Parses argv[from..argc) into a. Unknown options and repeated options are
 * usage errors. Accepts "--opt value", "--opt=value" and "--" to end options. */
OL_MUST_CHECK int cli_args_parse(cli_args *a, int argc, char **argv, int from, util_err *err);
/* Values of a repeatable option, in the order given; returns how many (<= max). */
OL_MUST_CHECK int cli_args_values(const cli_args *a, int opt, const char **out, int max);
/* Looks a command up by its leading positionals; *used = words consumed. */
OL_MUST_CHECK const cli_command *cli_command_find(const cli_args *a, int *used);
/* Checks the parsed options and positional count against cmd's spec. */
OL_MUST_CHECK int cli_args_check(const cli_command *cmd, const cli_args *a, int used,
                                 util_err *err);
void cli_print_help(FILE *f, const cli_command *cmd); /* cmd NULL: program help */

/* Output helpers. cli_fail prints "error: ..." and returns CLI_EXIT_ERR;
 * cli_usage_fail prints the message and the command's usage, returns 2. */
int cli_fail(cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_fail_err(cli_ctx *ctx, const util_err *err);
int cli_usage_fail(cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Pretty JSON (any value) to ctx->out, for --json. */
OL_MUST_CHECK int cli_print_json(cli_ctx *ctx, const json_t *v);
/* "1.25 OPEN (1250000000 base units)" into out (>= 96 bytes). */
void cli_format_amount(char *out, size_t cap, uint64_t base);

/* Strict unsigned decimal (no sign, no spaces, no overflow). */
OL_MUST_CHECK int cli_parse_u64(const char *s, uint64_t *out);

/* --- JSON-RPC (cli/rpc_client.c) ------------------------------------------ */

typedef struct cli_rpc_error {
    int code;        /* JSON-RPC error code, 0 when the failure was not a node answer */
    char reason[64]; /* error.data.reason when present */
} cli_rpc_error;

/* Calls method with params (stolen; NULL means []). On success *result is a
 * new reference. A JSON-RPC error answer returns UTIL_ENOTFOUND for -32001 and
 * UTIL_ESTATE otherwise, err->msg holding the node's message and reason, and
 * rerr (optional) the code and reason. Transport problems return UTIL_EIO. */
OL_MUST_CHECK int cli_rpc_call(cli_ctx *ctx, const char *method, json_t *params, json_t **result,
                               cli_rpc_error *rerr, util_err *err);
/* Closes the connection cli_rpc_call keeps in ctx (cli_main does it after the
 * command). */
void cli_rpc_close(cli_ctx *ctx);

/* Typed field getters for node answers; fail with a message naming the field. */
OL_MUST_CHECK int cli_json_u64(const json_t *obj, const char *key, uint64_t *out, util_err *err);
OL_MUST_CHECK int cli_json_amount(const json_t *obj, const char *key, uint64_t *out, util_err *err);
const char *cli_json_str(const json_t *obj, const char *key, util_err *err);
OL_MUST_CHECK int cli_json_hex32(const json_t *obj, const char *key, uint8_t out[32],
                                 util_err *err);

/* --- key references (cli/keyref.c) ---------------------------------------- */

/* 0..9 for "dev0".."dev9", else -1. */
OL_MUST_CHECK int cli_dev_index(const char *s);
/* The address of development key idx (0..9). */
OL_MUST_CHECK int cli_dev_address(int idx, chain_addr *a, util_err *err);
/* Resolves the keystore directory: --keystore, $OPENLEDGER_KEYSTORE, or
 * $HOME/.openledger/keystore. */
OL_MUST_CHECK int cli_keystore_dir(const cli_ctx *ctx, char *out, size_t cap, util_err *err);
/* "ol1..." address, devN, or a keystore name -> address (no passphrase). */
OL_MUST_CHECK int cli_resolve_address(cli_ctx *ctx, const char *s, chain_addr *a,
                                      char str[CHAIN_ADDR_STR_LEN + 1], util_err *err);
/* devN or a keystore name -> key pair (asks for the passphrase). The caller
 * wipes kp with chain_keypair_clear. */
OL_MUST_CHECK int cli_resolve_signer(cli_ctx *ctx, const char *name, chain_keypair *kp,
                                     util_err *err);

/* --- passphrases (cli/passphrase.c) --------------------------------------- */

/* Sources, in order: --password-file (first line), $OPENLEDGER_PASSWORD, a
 * prompt on /dev/tty without echo. confirm = a new passphrase: asked twice on
 * the terminal and must not be empty. Caller releases with
 * cli_passphrase_free, which wipes it. */
OL_MUST_CHECK int cli_passphrase_get(const cli_ctx *ctx, const char *prompt, int confirm,
                                     char **out, size_t *len, util_err *err);
void cli_passphrase_free(char *p, size_t len);

/* Prints the committed/pending state of a chain_getTransaction result: status,
 * block, gas used, fee, error. Returns 0, or UTIL_EIO if the answer is malformed. */
OL_MUST_CHECK int cli_print_tx_outcome(cli_ctx *ctx, const json_t *res, util_err *err);
/* The structured failure of a receipt or contract_call result, when present:
 * "failure:" (failureCode), "revert data:" (revertData, 0x hex) and "revert
 * text:" (revertText, sent only when the data is valid UTF-8). */
void cli_print_failure(cli_ctx *ctx, const json_t *r);
/* Prints node-supplied text with control characters (C0, DEL, C1) escaped,
 * so a contract's revert message cannot drive the terminal. */
void cli_print_safe(FILE *o, const char *s);
/* "2025-11-24 16:00:00.000 UTC" from unix ms (out >= 40 bytes). */
void cli_format_time_ms(char *out, size_t cap, uint64_t ms);

/* --- commands ------------------------------------------------------------- */

OL_MUST_CHECK int cli_cmd_key_new(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_key_list(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_key_show(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_key_import(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_balance(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_status(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_tx(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_block(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_send(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_prove(cli_ctx *ctx, const cli_args *a);
/* attribution (cli/commands_attr.c, cli/commands_attr_query.c) */
OL_MUST_CHECK int cli_cmd_datanet_create(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_datanet_show(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_datanet_list(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_contribute(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_review(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_model_register(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_model_show(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_model_list(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_attribute(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_impact(cli_ctx *ctx, const cli_args *a);
/* impact --verify (cli/commands_impact_verify.c) */
OL_MUST_CHECK int cli_cmd_impact_verify(cli_ctx *ctx, const cli_args *a);
/* contracts (cli/commands_contract.c) */
OL_MUST_CHECK int cli_cmd_asm(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_disasm(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_contract_deploy(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_contract_call(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_contract_show(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_contract_storage(cli_ctx *ctx, const cli_args *a);
/* the bridge (cli/commands_bridge.c, cli/commands_withdraw.c) */
OL_MUST_CHECK int cli_cmd_bridge_deposit(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_bridge_l1_address(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_withdraw(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_bridge_status(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_bridge_finalize(cli_ctx *ctx, const cli_args *a);

#endif
