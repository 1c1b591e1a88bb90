/* JSON-RPC 2.0 over util/net (http:// or https://, one kept-alive
 * connection per run), and typed readers for the node's answers. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/http_client.h"
#include "util/amount.h"
#include "util/hex.h"
#include "util/net.h"

/* The first call opens the client; the following ones reuse it, and with it
 * the connection (and TLS session) to the node. */
static int net_client(cli_ctx *ctx, util_err *err)
{
    if (ctx->net) return 0;
    util_net_opts o = {.ca_file = ctx->cacert,
                       .timeout_ms = ctx->rpc_timeout_ms > 0 ? ctx->rpc_timeout_ms : 1,
                       .connect_timeout_ms = CLI_HTTP_CONNECT_TIMEOUT_MS,
                       .user_agent = "openledger-cli/" OL_VERSION,
                       .peer_name = "node"};
    int rc = util_net_client_new(&ctx->net, &o, err);
    if (rc && ctx->cacert) util_err_prefix(err, "--cacert: ");
    return rc;
}

void cli_rpc_close(cli_ctx *ctx)
{
    util_net_client_free(ctx->net);
    ctx->net = NULL;
}

void cli_cert_hint(const char *cacert, util_net_fail fail, util_err *err)
{
    if (!err || fail != UTIL_NET_FAIL_CERT) return;
    char msg[sizeof err->msg];
    memcpy(msg, err->msg, sizeof msg);
    if (cacert)
        util_err_fill(err, err->code, "%s (not issued by a CA in %s)", msg, cacert);
    else
        util_err_fill(err, err->code, "%s (give the node's CA certificate with --cacert FILE)",
                      msg);
}

/* The transport error, with what the user can do about an untrusted
 * certificate. */
static void transport_error(const cli_ctx *ctx, const util_net_resp *r, util_err *err)
{
    cli_cert_hint(ctx->cacert, r->fail, err);
}

static void fill_rpc_error(const json_t *e, cli_rpc_error *rerr, util_err *err, int *rc)
{
    json_t *jc = json_object_get(e, "code");
    json_t *jm = json_object_get(e, "message");
    json_t *data = json_object_get(e, "data");
    int code = json_is_integer(jc) ? (int)json_integer_value(jc) : 0;
    const char *msg = json_is_string(jm) ? json_string_value(jm) : "(no message)";
    const char *reason = NULL;
    if (json_is_object(data) && json_is_string(json_object_get(data, "reason")))
        reason = json_string_value(json_object_get(data, "reason"));
    if (rerr) {
        rerr->code = code;
        snprintf(rerr->reason, sizeof rerr->reason, "%s", reason ? reason : "");
    }
    *rc = code == -32001 ? UTIL_ENOTFOUND : UTIL_ESTATE;
    if (reason)
        util_err_set(err, *rc, "%s (reason: %s)", msg, reason);
    else if (code == -32000 || code == -32001)
        util_err_set(err, *rc, "%s", msg);
    else
        util_err_set(err, *rc, "%s (code %d)", msg, code);
}

int cli_rpc_call(cli_ctx *ctx, const char *method, json_t *params, json_t **result,
                 cli_rpc_error *rerr, util_err *err)
{
    *result = NULL;
    if (rerr) memset(rerr, 0, sizeof *rerr);
    json_t *req = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 1, "method", method,
                            "params", params ? params : json_array());
    if (!req) return util_err_set(err, UTIL_ENOMEM, "out of memory building the request");
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!body) return util_err_set(err, UTIL_ENOMEM, "out of memory building the request");

    int rc = net_client(ctx, err);
    if (rc) {
        free(body);
        return rc;
    }
    util_net_resp hr;
    rc = util_net_post_json(ctx->net, ctx->rpc_url, body, strlen(body), &hr, err);
    free(body);
    if (rc) {
        transport_error(ctx, &hr, err);
        util_net_resp_free(&hr);
        return rc;
    }

    json_error_t je;
    json_t *doc = json_loadb(hr.body, hr.len, 0, &je);
    util_net_resp_free(&hr);
    if (!doc)
        return util_err_set(err, UTIL_EIO, "node answered %s with invalid JSON: %s", method,
                            je.text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return util_err_set(err, UTIL_EIO, "node answered %s with JSON that is not an object",
                            method);
    }
    json_t *e = json_object_get(doc, "error");
    if (e && !json_is_null(e)) {
        if (!json_is_object(e)) {
            json_decref(doc);
            return util_err_set(err, UTIL_EIO, "node answered %s with a malformed error", method);
        }
        fill_rpc_error(e, rerr, err, &rc);
        json_decref(doc);
        return rc;
    }
    json_t *id = json_object_get(doc, "id");
    if (!json_is_integer(id) || json_integer_value(id) != 1) {
        json_decref(doc);
        return util_err_set(err, UTIL_EIO, "node answered %s with the wrong id", method);
    }
    json_t *r = json_object_get(doc, "result");
    if (!r) {
        json_decref(doc);
        return util_err_set(err, UTIL_EIO, "node answered %s without a result", method);
    }
    *result = json_incref(r);
    json_decref(doc);
    return 0;
}

int cli_json_u64(const json_t *obj, const char *key, uint64_t *out, util_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return util_err_set(err, UTIL_EIO, "node answer: '%s' is not a non-negative integer", key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int cli_json_amount(const json_t *obj, const char *key, uint64_t *out, util_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || util_amount_parse_base(json_string_value(v), out))
        return util_err_set(err, UTIL_EIO, "node answer: '%s' is not a decimal amount string", key);
    return 0;
}

const char *cli_json_str(const json_t *obj, const char *key, util_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) {
        util_err_set(err, UTIL_EIO, "node answer: '%s' is missing or not a string", key);
        return NULL;
    }
    return json_string_value(v);
}

int cli_json_hex32(const json_t *obj, const char *key, uint8_t out[32], util_err *err)
{
    const char *s = cli_json_str(obj, key, err);
    if (!s) return UTIL_EIO;
    if (strncmp(s, "0x", 2) != 0 || util_hex_decode_exact(out, 32, s))
        return util_err_set(err, UTIL_EIO, "node answer: '%s' is not 0x + 64 hex digits", key);
    return 0;
}
