/* The L1 JSON-RPC client (rollup/l1/client.h): one HTTP POST per call on
 * util/net_uv.h, the answer checked (JSON, matching id, result or error)
 * before the caller's callback sees it. The typed parsers are in parse.c. */
#include "rollup/l1/client.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/net_uv.h"

typedef struct l1_call {
    rollup_l1 *c;
    char method[64];
    uint64_t id;
    rollup_l1_cb cb;
    void *ctx;
    struct l1_call *prev, *next;
} l1_call;

struct rollup_l1 {
    util_net_uv *net;
    uv_loop_t *loop;
    char *url;
    uint64_t next_id;
    l1_call *calls; /* callback not run yet */
    size_t ncalls;
    int closing;
};

int rollup_l1_new(rollup_l1 **out, uv_loop_t *loop, const char *url, const util_net_opts *opts,
                  util_err *err)
{
    util_net_opts o = {0};
    if (opts) o = *opts;
    if (!o.max_response) o.max_response = ROLLUP_L1_MAX_BODY;
    if (!o.peer_name) o.peer_name = "L1 endpoint";
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return util_err_set(err, UTIL_EINVAL, "L1 URL %s is not http:// or https://", url);
    rollup_l1 *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(url))) {
        free(c);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    int rc = util_net_uv_new(&c->net, loop, &o, err);
    if (rc) {
        free(c->url);
        free(c);
        return rc;
    }
    c->next_id = 1;
    c->loop = loop;
    *out = c;
    return 0;
}

const char *rollup_l1_url(const rollup_l1 *c)
{
    return c->url;
}

uv_loop_t *rollup_l1_loop(const rollup_l1 *c)
{
    return c->loop;
}

size_t rollup_l1_pending(const rollup_l1 *c)
{
    return c->ncalls;
}

void rollup_l1_close(rollup_l1 *c)
{
    if (!c || c->closing) return;
    c->closing = 1;
    /* Runs the callbacks of every running call (UTIL_ESTATE) before it
     * returns, so nothing refers to c afterwards. */
    util_net_uv_close(c->net);
    free(c->url);
    free(c);
}

static void unlink_call(l1_call *k)
{
    rollup_l1 *c = k->c;
    if (k->prev)
        k->prev->next = k->next;
    else
        c->calls = k->next;
    if (k->next) k->next->prev = k->prev;
    c->ncalls--;
}

/* Checks a JSON-RPC answer: 0 with *result borrowed from doc, or an error.
 * A JSON-RPC error is UTIL_EINVAL (the endpoint refused the request); an
 * answer that is not a JSON-RPC answer to this request is UTIL_EIO. */
static int check_answer(json_t *doc, const l1_call *k, json_t **result, util_err *err)
{
    if (!json_is_object(doc))
        return util_err_set(err, UTIL_EIO, "%s: the L1 endpoint's answer is not a JSON object",
                            k->method);
    json_t *e = json_object_get(doc, "error");
    if (e && !json_is_null(e)) {
        json_t *code = json_object_get(e, "code");
        const char *msg = json_string_value(json_object_get(e, "message"));
        json_t *data = json_object_get(e, "data");
        const char *dstr = json_string_value(data);
        return util_err_set(err, UTIL_EINVAL, "%s: L1 error %" JSON_INTEGER_FORMAT ": %s%s%s",
                            k->method, json_is_integer(code) ? json_integer_value(code) : 0,
                            msg ? msg : "(no message)", dstr ? " " : "", dstr ? dstr : "");
    }
    json_t *id = json_object_get(doc, "id");
    if (!json_is_integer(id) || (uint64_t)json_integer_value(id) != k->id)
        return util_err_set(err, UTIL_EIO, "%s: the L1 endpoint answered with another id",
                            k->method);
    json_t *r = json_object_get(doc, "result");
    if (!r)
        return util_err_set(err, UTIL_EIO, "%s: the L1 endpoint's answer has no result", k->method);
    *result = r;
    return 0;
}

static void on_resp(void *ctx, int rc, util_net_resp *resp, const util_err *nerr)
{
    l1_call *k = ctx;
    unlink_call(k);
    util_err err = {0};
    json_t *doc = NULL, *result = NULL;
    if (resp->body) {
        json_error_t je;
        /* anvil and geth put a revert's raw data, NUL bytes included, in
         * the error message ("\u0000"): without JSON_ALLOW_NUL every revert
         * would read as an answer that is not JSON. */
        doc = json_loadb(resp->body, resp->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    }
    if (rc) {
        /* Some endpoints carry a JSON-RPC error in a non-2xx answer: its
         * message says more than the HTTP status. */
        if (!(doc && resp->fail == UTIL_NET_FAIL_HTTP &&
              json_is_object(json_object_get(doc, "error")) &&
              check_answer(doc, k, &result, &err) == UTIL_EINVAL)) {
            err = *nerr;
            util_err_prefix(&err, "%s: ", k->method);
        }
        if (!err.code) err.code = rc;
        rc = err.code;
        result = NULL;
    } else if (!doc) {
        rc = util_err_set(&err, UTIL_EIO, "%s: the L1 endpoint's answer is not JSON", k->method);
    } else {
        rc = check_answer(doc, k, &result, &err);
    }
    rollup_l1_cb cb = k->cb;
    void *cctx = k->ctx;
    free(k);
    cb(cctx, rc, rc ? NULL : result, rc ? &err : NULL);
    json_decref(doc);
}

int rollup_l1_call(rollup_l1 *c, const char *method, json_t *params, rollup_l1_cb cb, void *ctx,
                   util_err *err)
{
    if (c->closing) return util_err_set(err, UTIL_ESTATE, "%s: the L1 client is closing", method);
    if (strlen(method) >= sizeof((l1_call *)0)->method)
        return util_err_set(err, UTIL_EINVAL, "L1 method name too long");
    if (params && !json_is_array(params))
        return util_err_set(err, UTIL_EINVAL, "%s: params must be a JSON array", method);
    l1_call *k = calloc(1, sizeof *k);
    json_t *req = json_object();
    json_t *empty = params ? NULL : json_array();
    if (!k || !req || (!params && !empty)) goto oom;
    k->c = c;
    snprintf(k->method, sizeof k->method, "%s", method);
    k->id = c->next_id++;
    k->cb = cb;
    k->ctx = ctx;
    if (json_object_set_new(req, "jsonrpc", json_string("2.0")) ||
        json_object_set_new(req, "id", json_integer((json_int_t)k->id)) ||
        json_object_set_new(req, "method", json_string(method)) ||
        json_object_set(req, "params", params ? params : empty))
        goto oom;
    char *body = json_dumps(req, JSON_COMPACT);
    if (!body) goto oom;
    json_decref(req);
    json_decref(empty);
    int rc = util_net_uv_post(c->net, c->url, body, strlen(body), NULL, 0, on_resp, k, NULL, err);
    free(body);
    if (rc) {
        util_err_prefix(err, "%s: ", method);
        free(k);
        return rc;
    }
    k->next = c->calls;
    if (c->calls) c->calls->prev = k;
    c->calls = k;
    c->ncalls++;
    return 0;
oom:
    free(k);
    json_decref(req);
    json_decref(empty);
    return util_err_set(err, UTIL_ENOMEM, "out of memory");
}

typedef struct sync_ctx {
    int done, rc;
    json_t *result;
    util_err err;
} sync_ctx;

static void on_sync(void *ctx, int rc, json_t *result, const util_err *err)
{
    sync_ctx *s = ctx;
    s->done = 1;
    s->rc = rc;
    if (rc)
        s->err = *err;
    else
        s->result = json_incref(result);
}

int rollup_l1_call_sync(const char *url, const char *method, json_t *params, json_t **result,
                        util_err *err)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop)) return util_err_set(err, UTIL_EIO, "cannot start an event loop");
    rollup_l1 *c = NULL;
    sync_ctx s = {0};
    int rc = rollup_l1_new(&c, &loop, url, NULL, err);
    if (!rc) rc = rollup_l1_call(c, method, params, on_sync, &s, err);
    if (!rc) {
        while (!s.done && uv_run(&loop, UV_RUN_ONCE)) {
        }
        if (!s.done) rc = util_err_set(err, UTIL_EIO, "%s: no answer", method);
    }
    rollup_l1_close(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop)) {
        /* Every handle is closed by now; a busy loop here would be a leak in
         * util_net_uv, not something the caller can act on. */
    }
    if (rc) {
        json_decref(s.result);
        return rc;
    }
    if (s.rc) {
        if (err) *err = s.err;
        return s.rc;
    }
    *result = s.result;
    return 0;
}

json_t *rollup_l1_quantity(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return json_string(buf);
}

json_t *rollup_l1_data(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    if (!s) return NULL;
    s[0] = '0';
    s[1] = 'x';
    util_hex_encode(s + 2, p, n);
    json_t *j = json_stringn(s, 2 * n + 2);
    free(s);
    return j;
}

json_t *rollup_l1_address(const rollup_eth_addr *a)
{
    return rollup_l1_data(a->b, sizeof a->b);
}
