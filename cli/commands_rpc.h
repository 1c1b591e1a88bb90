/* Generic JSON-RPC commands: `rpc` (any method), `methods` (rpc_discover)
 * and `watch` (new blocks over WebSocket). */
#ifndef OL_CLI_COMMANDS_RPC_H
#define OL_CLI_COMMANDS_RPC_H

#include <jansson.h>

#include "cli/cli.h"
#include "util/err.h"

OL_MUST_CHECK int cli_cmd_rpc(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_methods(cli_ctx *ctx, const cli_args *a);
OL_MUST_CHECK int cli_cmd_watch(cli_ctx *ctx, const cli_args *a);

/* The params array of `rpc METHOD ARG...`: one argument that is a JSON array
 * is the whole params array; otherwise each argument is one param, taken as
 * JSON when it parses (numbers, true, objects, "quoted strings") and as a
 * plain string otherwise (addresses, 0x hex, latest), except that dev0..dev9
 * stand for their addresses, as in every other command ("\"dev0\"" is the
 * literal string). NULL on a bad argument, with err filled. */
OL_MUST_CHECK json_t *cli_rpc_params(const char *const *args, int n, util_err *err);

/* One line for a newBlocks notification result, e.g.
 * "#12  0x1f3a4b5c..e9f0  3 txs  gas 3000  2026-11-25 15:40:01.123 UTC  +1.002 s".
 * prev_ms: the previous block's timestamp (0: none). */
OL_MUST_CHECK int cli_watch_line(char *out, size_t cap, const json_t *block, uint64_t prev_ms);

#endif
