/* send: a TRANSFER, signed, submitted and waited for through cli_tx_submit. */
#include <string.h>

#include "chain/types/tx.h"
#include "cli/cli.h"
#include "cli/tx_submit.h"
#include "util/amount.h"

int cli_cmd_send(cli_ctx *ctx, const cli_args *a)
{
    uint64_t amount;
    if (util_amount_parse_open(a->opt[CLI_OPT_AMOUNT], &amount))
        return cli_usage_fail(ctx,
                              "--amount '%s' is not an OPEN amount (digits, optionally '.' and at "
                              "most 9 decimals, e.g. 1.25)",
                              a->opt[CLI_OPT_AMOUNT]);
    util_err e;
    chain_addr to;
    char tostr[CHAIN_ADDR_STR_LEN + 1];
    if (cli_resolve_address(ctx, a->opt[CLI_OPT_TO], &to, tostr, &e)) return cli_fail_err(ctx, &e);

    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = CHAIN_TX_TRANSFER;
    tx.body.transfer.to = to;
    tx.body.transfer.amount = amount;
    cli_submit s;
    memset(&s, 0, sizeof s);
    int rc = cli_tx_submit(ctx, a, &tx, &s);
    chain_tx_free(&tx);
    if (!rc && s.result) {
        if (ctx->json) rc = cli_print_json(ctx, s.result);
        if (!rc && !s.included_ok) rc = cli_tx_report_failure(ctx, &s);
    }
    json_decref(s.result);
    return rc;
}
