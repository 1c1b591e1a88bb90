/* Signing, submitting and waiting for any transaction type: what `send` does
 * for a transfer, for commands that fill other bodies (cli/commands_attr.c).
 *
 * Options read: --from (required by the command), --gas-price (default 1),
 * --gas-limit (default: the intrinsic gas plus the command's allowance),
 * --nonce (default: the account's pending nonce), --no-wait, --timeout
 * (default 30 s). */
#ifndef OL_CLI_TX_SUBMIT_H
#define OL_CLI_TX_SUBMIT_H

#include <jansson.h>

#include "chain/types/tx.h"
#include "cli/cli.h"
#include "util/err.h"

/* VM gas a command allows on top of the intrinsic gas when --gas-limit is not
 * given (unused gas is refunded). ATTRIBUTE runs the model's reward contract:
 * the genesis split needs under 1,000 gas an entry. */
#define CLI_ATTR_VM_GAS_BASE 50000u
#define CLI_ATTR_VM_GAS_PER_ENTRY 1000u
#define CLI_CALL_VM_GAS 1000000u

typedef struct cli_submit {
    uint64_t extra_gas; /* added to the intrinsic gas for the default gas limit */
    /* With --json --no-wait the caller prints the JSON (contract deploy adds
     * the address); otherwise cli_tx_submit prints the hash as a JSON string. */
    int caller_prints_no_wait_json;
    /* Filled by cli_tx_submit: */
    char txid[67];   /* "0x" + 64 hex digits */
    json_t *result;  /* chain_getTransaction answer once included (NULL with --no-wait) */
    int included_ok; /* included with status success */
} cli_submit;

/* Signs tx (type and body filled in by the caller; the rest is set here),
 * sends it with tx_send, prints its hash and, unless --no-wait, waits for its
 * receipt and prints the outcome (text mode only: with --json the caller
 * prints). Returns an exit code: CLI_EXIT_OK also when the transaction was
 * included but failed, which s->included_ok tells (the caller reports it
 * after its own output with cli_tx_report_failure). Release s->result with
 * json_decref. */
OL_MUST_CHECK int cli_tx_submit(cli_ctx *ctx, const cli_args *a, chain_tx *tx, cli_submit *s);
/* Prints "error: transaction failed: <receipt error>" and returns CLI_EXIT_ERR. */
OL_MUST_CHECK int cli_tx_report_failure(cli_ctx *ctx, const cli_submit *s);

#endif
