/* Prometheus metrics of the RPC service and the chain, rendered for /metrics
 * (rpc/methods/metrics.h). */
#include "rpc/methods/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

#define MS 1000000ull
#define US 1000ull
#define S 1000000000ull

/* Bucket upper bounds in nanoseconds. */
static const uint64_t interval_bounds[] = {100 * MS, 250 * MS, 500 * MS, 1 * S,  2 * S,
                                           5 * S,    10 * S,   30 * S,   60 * S, 300 * S};
static const uint64_t block_bounds[] = {1 * MS,   2500 * US, 5 * MS,   10 * MS, 25 * MS,   50 * MS,
                                        100 * MS, 250 * MS,  500 * MS, 1 * S,   2500 * MS, 5 * S};
static const uint64_t rpc_bounds[] = {50 * US, 100 * US, 250 * US, 500 * US, 1 * MS,   2500 * US,
                                      5 * MS,  10 * MS,  25 * MS,  100 * MS, 250 * MS, 1 * S};

#define NB(a) (sizeof(a) / sizeof((a)[0]))
#define RPC_NB NB(rpc_bounds)

typedef struct hist {
    uint64_t counts[16]; /* per bucket, not cumulative; last used = +Inf */
    uint64_t sum_ns, n;
} hist;

typedef struct method_stats {
    uint64_t calls, errors;
    hist lat;
} method_stats;

struct rpc_metrics {
    rpc_dispatch *d;
    method_stats *ms; /* one per registered method, grown on demand */
    size_t nms;
    method_stats unknown;
    hist interval, exec, commit;
    uint64_t blocks, txs, admitted;
};

static void observe(hist *h, const uint64_t *bounds, size_t nb, uint64_t ns)
{
    size_t i = 0;
    while (i < nb && ns > bounds[i])
        i++;
    h->counts[i]++;
    h->sum_ns += ns;
    h->n++;
}

static void on_call(void *ctx, size_t method, uint64_t ns, int code)
{
    rpc_metrics *m = ctx;
    method_stats *s = &m->unknown;
    if (method != SIZE_MAX) {
        if (method >= m->nms) {
            size_t n = rpc_dispatch_count(m->d);
            if (n <= method) n = method + 1;
            method_stats *v = realloc(m->ms, n * sizeof *v);
            if (!v) return;
            memset(v + m->nms, 0, (n - m->nms) * sizeof *v);
            m->ms = v;
            m->nms = n;
        }
        s = &m->ms[method];
    }
    s->calls++;
    if (code) s->errors++;
    observe(&s->lat, rpc_bounds, RPC_NB, ns);
}

rpc_metrics *rpc_metrics_new(rpc_dispatch *d)
{
    rpc_metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->d = d;
    rpc_dispatch_set_observer(d, on_call, m);
    return m;
}

void rpc_metrics_free(rpc_metrics *m)
{
    if (!m) return;
    rpc_dispatch_set_observer(m->d, NULL, NULL);
    free(m->ms);
    free(m);
}

void rpc_metrics_block(rpc_metrics *m, uint64_t interval_ns, uint64_t exec_ns, uint64_t commit_ns,
                       size_t ntx)
{
    if (!m) return;
    if (interval_ns) observe(&m->interval, interval_bounds, NB(interval_bounds), interval_ns);
    observe(&m->exec, block_bounds, NB(block_bounds), exec_ns);
    observe(&m->commit, block_bounds, NB(block_bounds), commit_ns);
    m->blocks++;
    m->txs += ntx;
}

void rpc_metrics_tx_admitted(rpc_metrics *m)
{
    if (m) m->admitted++;
}

/* --- rendering ---------------------------------------------------------- */

static void put(util_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(util_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) util_buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Nanoseconds as exact decimal seconds, without floating point. */
static const char *secs(char *out, uint64_t ns)
{
    int n = snprintf(out, 32, "%llu.%09llu", (unsigned long long)(ns / S),
                     (unsigned long long)(ns % S));
    while (n > 0 && out[n - 1] == '0')
        out[--n] = 0;
    if (n > 0 && out[n - 1] == '.') out[--n] = 0;
    return out;
}

static void header(util_buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void scalar(util_buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
    header(b, name, type, help);
    put(b, "%s %llu\n", name, (unsigned long long)v);
}

/* label: "" or `method="x",` (with the trailing comma) */
static void hist_lines(util_buf *b, const char *name, const char *label, const hist *h,
                       const uint64_t *bounds, size_t nb)
{
    char s[32];
    uint64_t cum = 0;
    for (size_t i = 0; i < nb; i++) {
        cum += h->counts[i];
        put(b, "%s_bucket{%sle=\"%s\"} %llu\n", name, label, secs(s, bounds[i]),
            (unsigned long long)cum);
    }
    put(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, label, (unsigned long long)h->n);
    size_t ll = strlen(label);
    if (ll) {
        /* label without the trailing comma */
        put(b, "%s_sum{%.*s} %s\n%s_count{%.*s} %llu\n", name, (int)(ll - 1), label,
            secs(s, h->sum_ns), name, (int)(ll - 1), label, (unsigned long long)h->n);
    } else {
        put(b, "%s_sum %s\n%s_count %llu\n", name, secs(s, h->sum_ns), name,
            (unsigned long long)h->n);
    }
}

static void hist_metric(util_buf *b, const char *name, const char *help, const hist *h,
                        const uint64_t *bounds, size_t nb)
{
    header(b, name, "histogram", help);
    hist_lines(b, name, "", h, bounds, nb);
}

/* Method names are identifiers we registered, but escape anyway. */
static void method_label(char *out, size_t cap, const char *name)
{
    size_t k = (size_t)snprintf(out, cap, "method=\"");
    for (const char *p = name; *p && k + 4 < cap; p++) {
        if (*p == '"' || *p == '\\') out[k++] = '\\';
        out[k++] = *p == '\n' ? ' ' : *p;
    }
    snprintf(out + k, cap - k, "\",");
}

typedef void (*method_fn)(util_buf *b, const char *label, const method_stats *s);

static void each_method(const rpc_metrics *m, util_buf *b, method_fn fn)
{
    char label[160];
    size_t n = rpc_dispatch_count(m->d);
    static const method_stats zero;
    for (size_t i = 0; i < n; i++) {
        method_label(label, sizeof label, rpc_dispatch_name(m->d, i));
        fn(b, label, i < m->nms ? &m->ms[i] : &zero);
    }
    fn(b, "method=\"unknown\",", &m->unknown);
}

static void calls_line(util_buf *b, const char *label, const method_stats *s)
{
    put(b, "openledger_rpc_requests_total{%.*s} %llu\n", (int)strlen(label) - 1, label,
        (unsigned long long)s->calls);
}

static void errors_line(util_buf *b, const char *label, const method_stats *s)
{
    put(b, "openledger_rpc_errors_total{%.*s} %llu\n", (int)strlen(label) - 1, label,
        (unsigned long long)s->errors);
}

static void latency_lines(util_buf *b, const char *label, const method_stats *s)
{
    hist_lines(b, "openledger_rpc_request_duration_seconds", label, &s->lat, rpc_bounds, RPC_NB);
}

char *rpc_metrics_render(const rpc_metrics *m, const rpc_metrics_gauges *g, size_t *len)
{
    util_buf b;
    util_buf_init(&b);
    scalar(&b, "openledger_chain_height", "gauge", "Height of the committed head block.",
           g->height);
    scalar(&b, "openledger_blocks_committed_total", "counter",
           "Blocks committed since the node started.", m->blocks);
    scalar(&b, "openledger_txs_committed_total", "counter",
           "Transactions committed in blocks since the node started.", m->txs);
    hist_metric(&b, "openledger_block_interval_seconds", "Time between consecutive block commits.",
                &m->interval, interval_bounds, NB(interval_bounds));
    hist_metric(&b, "openledger_block_execution_seconds",
                "Time to select, execute and root a block.", &m->exec, block_bounds,
                NB(block_bounds));
    hist_metric(&b, "openledger_block_commit_seconds",
                "Time to sign a block and write it to the store.", &m->commit, block_bounds,
                NB(block_bounds));
    scalar(&b, "openledger_mempool_transactions", "gauge", "Transactions in the mempool.",
           g->mempool_txs);
    scalar(&b, "openledger_mempool_bytes", "gauge",
           "Encoded bytes of the transactions in the mempool.", g->mempool_bytes);
    scalar(&b, "openledger_mempool_admitted_total", "counter",
           "Transactions admitted to the mempool since the node started.", m->admitted);
    scalar(&b, "openledger_leveldb_write_bytes_total", "counter",
           "Bytes of the batches written to LevelDB since the node started.",
           g->leveldb_write_bytes);

    header(&b, "openledger_rpc_requests_total", "counter",
           "JSON-RPC calls by method (batch entries count one each).");
    each_method(m, &b, calls_line);
    header(&b, "openledger_rpc_errors_total", "counter",
           "JSON-RPC calls by method that returned an error.");
    each_method(m, &b, errors_line);
    header(&b, "openledger_rpc_request_duration_seconds", "histogram",
           "Time spent in a JSON-RPC method.");
    each_method(m, &b, latency_lines);

    scalar(&b, "openledger_rpc_connections", "gauge", "Open RPC connections (HTTP and WebSocket).",
           g->http.conns);
    scalar(&b, "openledger_rpc_connections_refused_total", "counter",
           "Connections refused because a connection limit (total or per address) was reached.",
           g->http.conns_refused);
    scalar(&b, "openledger_rpc_rate_limited_total", "counter",
           "Requests refused by the per-address rate limit.", g->http.rate_limited);
    scalar(&b, "openledger_ws_clients", "gauge", "Open WebSocket sessions.", g->http.ws_sessions);
    scalar(&b, "openledger_ws_subscriptions", "gauge", "Live WebSocket subscriptions.",
           g->subscriptions);
    scalar(&b, "openledger_ws_slow_consumer_disconnects_total", "counter",
           "WebSocket sessions closed because their send buffer passed the limit.",
           g->http.ws_slow_consumers);
    util_buf_u8(&b, 0);
    uint8_t *p;
    size_t n;
    if (b.oom || util_buf_take(&b, &p, &n) != 0) {
        util_buf_free(&b);
        return NULL;
    }
    *len = n - 1;
    return (char *)p;
}
