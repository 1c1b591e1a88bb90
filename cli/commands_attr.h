/* Private to the attribution commands (cli/commands_attr*.c): printing the
 * node's attribution objects as text, and finding the object a transaction
 * just created. */
#ifndef OL_CLI_COMMANDS_ATTR_H
#define OL_CLI_COMMANDS_ATTR_H

#include <jansson.h>

#include "cli/cli.h"
#include "util/err.h"

/* Text renderings of the JSON shapes of docs/attribution.md. */
void cli_attr_print_datanet(cli_ctx *ctx, const json_t *d);
void cli_attr_print_contribution(cli_ctx *ctx, const json_t *c);
void cli_attr_print_model(cli_ctx *ctx, const json_t *m);
void cli_attr_print_record(cli_ctx *ctx, const json_t *r);
/* "1.25 OPEN" from a decimal base-unit string field ("?" when malformed). */
void cli_attr_open(char *out, size_t cap, const json_t *obj, const char *key);

/* Walks `method` pages of [filter, cursor, 100, "desc"] (newest first) and
 * returns a new reference to the first item for which match() returns 1;
 * stops at match() returning -1 (too old) or after max_pages. NULL when not
 * found or on error (err set then). */
OL_MUST_CHECK json_t *cli_attr_find(cli_ctx *ctx, const char *method, json_t *filter,
                                    int (*match)(const json_t *item, void *arg), void *arg,
                                    int max_pages, util_err *err);

#endif
