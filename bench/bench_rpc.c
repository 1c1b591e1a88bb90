#include "bench/bench_rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/http_client.h"
#include "util/err.h"

#define POST_TIMEOUT_MS 120000
#define MAX_SHOWN_ERRORS 5

const char *bench_prog = "bench";

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", bench_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void bench_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", bench_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

size_t bench_parse_size(const char *name, const char *s, size_t min, size_t max)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || *s == '-' || v < min || v > max)
        bench_die("%s: expected an integer in %zu..%zu, got '%s'", name, min, max, s);
    return (size_t)v;
}

json_t *bench_post_json(const char *url, const char *body, size_t len)
{
    char *resp = NULL;
    size_t rlen = 0;
    util_err err = {0};
    if (cli_http_post(url, "application/json", body, len, POST_TIMEOUT_MS, &resp, &rlen, &err))
        bench_die("%s", err.msg);
    json_error_t je;
    json_t *doc = json_loadb(resp, rlen, 0, &je);
    free(resp);
    if (!doc) bench_die("invalid JSON from the node: %s", je.text);
    return doc;
}

json_t *bench_call(const char *url, const char *method, json_t *params, int soft)
{
    json_t *req = json_pack("{s:s,s:i,s:s,s:o}", "jsonrpc", "2.0", "id", 1, "method", method,
                            "params", params ? params : json_array());
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) bench_die("out of memory");
    json_t *doc = bench_post_json(url, body, strlen(body));
    free(body);
    json_t *res = json_object_get(doc, "result");
    if (!res) {
        if (soft) {
            json_decref(doc);
            return NULL;
        }
        char *e = json_dumps(json_object_get(doc, "error"), JSON_COMPACT);
        bench_die("%s failed: %s", method, e ? e : "(no error object)");
    }
    json_incref(res);
    json_decref(doc);
    return res;
}

uint64_t bench_status_u64(const char *url, const char *field)
{
    json_t *st = bench_call(url, "node_status", NULL, 0);
    json_t *v = json_object_get(st, field);
    if (!json_is_integer(v)) bench_die("node_status has no integer %s", field);
    uint64_t r = (uint64_t)json_integer_value(v);
    json_decref(st);
    return r;
}

void bench_put_entry(util_buf *b, size_t id, const char *hex)
{
    char head[96];
    int n = snprintf(head, sizeof head,
                     "%s{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"tx_send\",\"params\":[\"0x",
                     b->len ? "," : "[", id);
    util_buf_put(b, head, (size_t)n);
    util_buf_put(b, hex, strlen(hex));
    util_buf_put(b, "\"]}", 3);
}

size_t bench_post_batch(const char *url, const char *body, size_t len, size_t expect,
                        atomic_size_t *shown)
{
    json_t *doc = bench_post_json(url, body, len);
    if (!json_is_array(doc) || json_array_size(doc) != expect)
        bench_die("a batch of %zu was not answered entry by entry", expect);
    size_t bad = 0;
    for (size_t i = 0; i < expect; i++) {
        json_t *e = json_object_get(json_array_get(doc, i), "error");
        if (!e) continue;
        bad++;
        if (atomic_fetch_add(shown, 1) < MAX_SHOWN_ERRORS) {
            char *s = json_dumps(e, JSON_COMPACT);
            bench_note("rejected: %s", s ? s : "?");
            free(s);
        }
    }
    json_decref(doc);
    return bad;
}
