/* openledger-cli's generic commands: rpc (any method), methods, watch
 * (cli/commands_rpc.h). */
#include "cli/commands_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ws_client.h"

json_t *cli_rpc_params(const char *const *args, int n, util_err *err)
{
    if (n == 1 && args[0][0] == '[') {
        json_error_t je;
        json_t *arr = json_loads(args[0], JSON_REJECT_DUPLICATES, &je);
        if (!arr || !json_is_array(arr)) {
            json_decref(arr);
            util_err_set(err, UTIL_EINVAL, "params: not a JSON array: %s", je.text);
            return NULL;
        }
        return arr;
    }
    json_t *arr = json_array();
    for (int i = 0; arr && i < n; i++) {
        json_t *v = NULL;
        int dev = cli_dev_index(args[i]);
        if (dev >= 0) {
            chain_addr a;
            char s[CHAIN_ADDR_STR_LEN + 1];
            if (cli_dev_address(dev, &a, err)) {
                json_decref(arr);
                return NULL;
            }
            chain_addr_encode(s, &a);
            v = json_string(s);
        } else {
            v = json_loads(args[i], JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
            if (!v) v = json_string(args[i]);
        }
        if (!v) {
            util_err_set(err, UTIL_EINVAL, "param %d is not valid UTF-8", i);
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, v);
    }
    if (!arr) util_err_set(err, UTIL_ENOMEM, "out of memory");
    return arr;
}

int cli_cmd_rpc(cli_ctx *ctx, const cli_args *a)
{
    util_err e;
    json_t *params = cli_rpc_params(a->pos + 1, a->npos - 1, &e);
    if (!params) return cli_usage_fail(ctx, "%s", e.msg);
    json_t *res;
    if (cli_rpc_call(ctx, a->pos[0], params, &res, NULL, &e)) return cli_fail_err(ctx, &e);
    int rc = cli_print_json(ctx, res);
    json_decref(res);
    return rc;
}

int cli_cmd_methods(cli_ctx *ctx, const cli_args *a)
{
    util_err e;
    json_t *res;
    if (cli_rpc_call(ctx, "rpc_discover", NULL, &res, NULL, &e)) return cli_fail_err(ctx, &e);
    int rc = CLI_EXIT_OK;
    json_t *methods = json_object_get(res, "methods");
    if (ctx->json) {
        rc = cli_print_json(ctx, res);
    } else if (!json_is_array(methods)) {
        rc = cli_fail(ctx, "node answer: rpc_discover has no methods array");
    } else {
        size_t i;
        json_t *m;
        json_array_foreach(methods, i, m)
        {
            const char *name = json_string_value(json_object_get(m, "name"));
            const char *sum = json_string_value(json_object_get(m, "summary"));
            if (!name) continue;
            char params[160] = "";
            size_t k = 0, j;
            json_t *p;
            json_array_foreach(json_object_get(m, "params"), j, p)
            {
                const char *pn = json_string_value(json_object_get(p, "name"));
                int req = json_is_true(json_object_get(p, "required"));
                if (pn && k < sizeof params)
                    k += (size_t)snprintf(params + k, sizeof params - k, "%s%s%s%s", j ? " " : "",
                                          req ? "" : "[", pn, req ? "" : "]");
            }
            fprintf(ctx->out, "%-30s %s\n", name, params);
            if (sum && *sum) fprintf(ctx->out, "    %s\n", sum);
        }
    }
    json_decref(res);
    return rc;
}

int cli_watch_line(char *out, size_t cap, const json_t *b, uint64_t prev_ms)
{
    util_err e;
    uint64_t height, ntx, gas, ts;
    const char *hash = cli_json_str(b, "hash", &e);
    if (!hash || strlen(hash) < 66 || cli_json_u64(b, "height", &height, &e) ||
        cli_json_u64(b, "txCount", &ntx, &e) || cli_json_u64(b, "gasUsed", &gas, &e) ||
        cli_json_u64(b, "timestamp", &ts, &e))
        return -1;
    char when[48], gap[32] = "";
    cli_format_time_ms(when, sizeof when, ts);
    if (prev_ms && ts >= prev_ms)
        snprintf(gap, sizeof gap, "  +%llu.%03u s", (unsigned long long)((ts - prev_ms) / 1000),
                 (unsigned)((ts - prev_ms) % 1000));
    snprintf(out, cap, "#%llu  %.10s..%.4s  %llu tx%s  gas %llu  %s%s", (unsigned long long)height,
             hash, hash + 62, (unsigned long long)ntx, ntx == 1 ? "" : "s", (unsigned long long)gas,
             when, gap);
    return 0;
}

/* Reads messages until the answer with id 1 arrives. */
static int subscribe(cli_ctx *ctx, cli_ws *w, util_err *e)
{
    static const char req[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe_newBlocks\",\"params\":[]}";
    if (cli_ws_send_text(w, req, sizeof req - 1, e)) return -1;
    char *msg;
    if (cli_ws_recv_text(w, ctx->rpc_timeout_ms, &msg, NULL, e)) return -1;
    json_t *doc = json_loads(msg, 0, NULL);
    free(msg);
    json_t *err = json_object_get(doc, "error");
    int rc = 0;
    if (err) {
        util_err_set(e, UTIL_ESTATE, "subscribe_newBlocks: %s",
                     json_string_value(json_object_get(err, "message"))
                         ? json_string_value(json_object_get(err, "message"))
                         : "error");
        rc = -1;
    } else if (!json_is_string(json_object_get(doc, "result"))) {
        util_err_set(e, UTIL_EIO, "subscribe_newBlocks: unexpected answer");
        rc = -1;
    }
    json_decref(doc);
    return rc;
}

int cli_cmd_watch(cli_ctx *ctx, const cli_args *a)
{
    uint64_t count = 0;
    if (a->npos == 1 && (cli_parse_u64(a->pos[0], &count) || count == 0))
        return cli_usage_fail(ctx, "COUNT must be a positive number of blocks");
    util_err e;
    cli_ws *w;
    if (cli_ws_connect(&w, ctx->rpc_url, ctx->cacert, ctx->rpc_timeout_ms, &e))
        return cli_fail_err(ctx, &e);
    if (subscribe(ctx, w, &e)) {
        cli_ws_close(w);
        return cli_fail_err(ctx, &e);
    }
    if (!ctx->json) {
        fprintf(ctx->out, "watching new blocks at %s (Ctrl-C to stop)\n", ctx->rpc_url);
        fflush(ctx->out);
    }
    uint64_t seen = 0, prev_ms = 0;
    int rc = CLI_EXIT_OK;
    while (!count || seen < count) {
        char *msg;
        if (cli_ws_recv_text(w, -1, &msg, NULL, &e)) {
            rc = cli_fail_err(ctx, &e);
            break;
        }
        json_t *doc = json_loads(msg, 0, NULL);
        free(msg);
        json_t *params = json_object_get(doc, "params");
        json_t *res = json_object_get(params, "result");
        const char *method = json_string_value(json_object_get(doc, "method"));
        if (!method || strcmp(method, "subscription") != 0 || !json_is_object(res)) {
            json_decref(doc);
            continue;
        }
        if (ctx->json) {
            char *line = json_dumps(res, JSON_COMPACT);
            if (line) fprintf(ctx->out, "%s\n", line);
            free(line);
        } else {
            char line[256];
            uint64_t ts = 0;
            if (cli_watch_line(line, sizeof line, res, prev_ms) == 0)
                fprintf(ctx->out, "%s\n", line);
            else
                fprintf(ctx->out, "(malformed block notification)\n");
            if (!cli_json_u64(res, "timestamp", &ts, NULL)) prev_ms = ts;
        }
        fflush(ctx->out);
        json_decref(doc);
        seen++;
    }
    cli_ws_close(w);
    return rc;
}
