/* The /metrics exposition: Prometheus text format 0.0.4 line by line, the
 * naming rules (openledger_ prefix, _total counters, _seconds/_bytes units),
 * histograms cumulative with +Inf = count, and no label but `method`. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/methods/metrics.h"

static json_t *m_ok(void *ctx, json_t *params, rpc_error *e)
{
    return json_true();
}

static json_t *m_err(void *ctx, json_t *params, rpc_error *e)
{
    return rpc_fail(e, RPC_NOT_FOUND, NULL, "no");
}

typedef struct family {
    char name[96];
    char type[16];
} family;

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Checks the whole text; returns the number of sample lines. */
static int check_exposition(const char *text)
{
    family fam[64];
    int nfam = 0, samples = 0;
    char *copy = strdup(text), *save = NULL;
    assert_true(ends_with(text, "\n"));
    /* per histogram series: last cumulative count */
    char last_series[256] = "";
    unsigned long long last_cum = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# HELP ", 7) == 0) continue;
        if (strncmp(line, "# TYPE ", 7) == 0) {
            assert_true(nfam < 64);
            assert_int_equal(sscanf(line + 7, "%95s %15s", fam[nfam].name, fam[nfam].type), 2);
            const char *nm = fam[nfam].name, *ty = fam[nfam].type;
            assert_int_equal(strncmp(nm, "openledger_", 11), 0);
            for (const char *c = nm; *c; c++)
                assert_true(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_');
            if (strcmp(ty, "counter") == 0)
                assert_true(ends_with(nm, "_total"));
            else
                assert_false(ends_with(nm, "_total"));
            if (strcmp(ty, "histogram") == 0) assert_true(ends_with(nm, "_seconds"));
            assert_true(strcmp(ty, "counter") == 0 || strcmp(ty, "gauge") == 0 ||
                        strcmp(ty, "histogram") == 0);
            nfam++;
            continue;
        }
        assert_true(line[0] != '#');
        /* name{labels} value */
        char name[128], rest[256];
        size_t nl = strcspn(line, "{ ");
        assert_true(nl > 0 && nl < sizeof name);
        memcpy(name, line, nl);
        name[nl] = 0;
        const char *p = line + nl;
        char labels[200] = "";
        if (*p == '{') {
            const char *close = strchr(p, '}');
            assert_non_null(close);
            snprintf(labels, sizeof labels, "%.*s", (int)(close - p - 1), p + 1);
            p = close + 1;
            /* only method= and le= labels */
            char *lc = strdup(labels), *ls = NULL;
            for (char *l = strtok_r(lc, ",", &ls); l; l = strtok_r(NULL, ",", &ls))
                assert_true(strncmp(l, "method=\"", 8) == 0 || strncmp(l, "le=\"", 4) == 0);
            free(lc);
        }
        assert_int_equal(*p, ' ');
        snprintf(rest, sizeof rest, "%s", p + 1);
        char *end;
        strtod(rest, &end);
        assert_true(end != rest && *end == 0);
        /* belongs to the last declared family */
        assert_true(nfam > 0);
        family *f = &fam[nfam - 1];
        if (strcmp(f->type, "histogram") == 0) {
            char base[128];
            snprintf(base, sizeof base, "%s", name);
            if (ends_with(base, "_bucket")) {
                base[strlen(base) - 7] = 0;
                /* the series without le */
                char series[256];
                const char *le = strstr(labels, "le=\"");
                assert_non_null(le);
                snprintf(series, sizeof series, "%s{%.*s}", base, (int)(le - labels), labels);
                unsigned long long v = strtoull(rest, NULL, 10);
                if (strcmp(series, last_series) == 0) assert_true(v >= last_cum);
                snprintf(last_series, sizeof last_series, "%s", series);
                last_cum = v;
            } else if (ends_with(base, "_count")) {
                /* +Inf bucket equals the count */
                assert_int_equal(strtoull(rest, NULL, 10), last_cum);
            } else {
                assert_true(ends_with(base, "_sum"));
            }
            assert_int_equal(strncmp(name, f->name, strlen(f->name)), 0);
        } else {
            assert_string_equal(name, f->name);
        }
        samples++;
    }
    free(copy);
    return samples;
}

static void test_exposition(void **state)
{
    rpc_dispatch *d = rpc_dispatch_new();
    assert_int_equal(rpc_dispatch_add(d, "ok", m_ok, NULL), 0);
    rpc_metrics *m = rpc_metrics_new(d);
    assert_non_null(m);
    /* a method registered after the metrics were created is counted too */
    assert_int_equal(rpc_dispatch_add(d, "err", m_err, NULL), 0);
    rpc_error e;
    for (int i = 0; i < 3; i++)
        json_decref(rpc_dispatch_call(d, "ok", NULL, &e));
    assert_null(rpc_dispatch_call(d, "err", NULL, &e));
    rpc_error_clear(&e);
    assert_null(rpc_dispatch_call(d, "zzz", NULL, &e));
    rpc_error_clear(&e);
    rpc_metrics_block(m, 0, 2000000, 3000000, 4);            /* first block: no interval */
    rpc_metrics_block(m, 1000000000, 500000, 7000000000, 6); /* 1 s, 0.5 ms, 7 s */
    rpc_metrics_tx_admitted(m);
    rpc_metrics_gauges g = {.height = 42,
                            .mempool_txs = 3,
                            .mempool_bytes = 500,
                            .leveldb_write_bytes = 123456,
                            .subscriptions = 2,
                            .http = {.conns = 5, .ws_sessions = 2, .rate_limited = 7}};
    size_t len;
    char *text = rpc_metrics_render(m, &g, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    int samples = check_exposition(text);
    assert_true(samples > 50);
    static const char *const lines[] = {
        "openledger_chain_height 42\n",
        "openledger_txs_committed_total 10\n",
        "openledger_blocks_committed_total 2\n",
        "openledger_mempool_transactions 3\n",
        "openledger_mempool_bytes 500\n",
        "openledger_mempool_admitted_total 1\n",
        "openledger_leveldb_write_bytes_total 123456\n",
        "openledger_ws_clients 2\n",
        "openledger_ws_subscriptions 2\n",
        "openledger_rpc_connections 5\n",
        "openledger_rpc_rate_limited_total 7\n",
        "openledger_rpc_requests_total{method=\"ok\"} 3\n",
        "openledger_rpc_requests_total{method=\"err\"} 1\n",
        "openledger_rpc_errors_total{method=\"err\"} 1\n",
        "openledger_rpc_errors_total{method=\"ok\"} 0\n",
        "openledger_rpc_requests_total{method=\"unknown\"} 1\n",
        "openledger_block_interval_seconds_count 1\n",
        "openledger_block_interval_seconds_sum 1\n",
        "openledger_block_interval_seconds_bucket{le=\"0.5\"} 0\n",
        "openledger_block_interval_seconds_bucket{le=\"1\"} 1\n",
        "openledger_block_commit_seconds_bucket{le=\"0.0025\"} 0\n",
        "openledger_block_commit_seconds_bucket{le=\"0.005\"} 1\n",
        "openledger_block_commit_seconds_bucket{le=\"5\"} 1\n",
        "openledger_block_commit_seconds_bucket{le=\"+Inf\"} 2\n",
        "openledger_block_commit_seconds_sum 7.003\n",
        "openledger_block_execution_seconds_bucket{le=\"0.001\"} 1\n",
        "openledger_rpc_request_duration_seconds_count{method=\"ok\"} 3\n",
        "# TYPE openledger_rpc_request_duration_seconds histogram\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!strstr(text, lines[i])) fail_msg("missing line: %s", lines[i]);
    free(text);
    rpc_metrics_free(m);
    /* the observer is detached: calls after free do not touch it */
    json_decref(rpc_dispatch_call(d, "ok", NULL, &e));
    rpc_dispatch_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exposition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
