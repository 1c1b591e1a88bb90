/* Node metrics in the Prometheus text format (version 0.0.4), served at
 * GET /metrics.
 *
 * Names follow Prometheus conventions: prefix openledger_, base units
 * (seconds, bytes), counters end in _total, histograms have _bucket/_sum/
 * _count. The only label is `method` on the RPC series, whose values are the
 * registered method names plus "unknown", so the number of series is fixed
 * by the code, never by clients. Every metric is listed in docs/rpc.md
 * ("Metrics").
 *
 * Loop thread only: the dispatcher, the block hook and the /metrics route
 * all run there. */
#ifndef OL_RPC_METRICS_H
#define OL_RPC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "rpc/transport/http.h"
#include "rpc/jsonrpc.h"
#include "util/err.h"

typedef struct rpc_metrics rpc_metrics;

/* Observes every call of d (rpc_dispatch_set_observer); d must outlive m.
 * NULL when memory runs out. */
OL_MUST_CHECK rpc_metrics *rpc_metrics_new(rpc_dispatch *d);
void rpc_metrics_free(rpc_metrics *m);

/* A block was committed. interval_ns: since the previous commit (0 for the
 * first block after start, which is not observed). */
void rpc_metrics_block(rpc_metrics *m, uint64_t interval_ns, uint64_t exec_ns, uint64_t commit_ns,
                       size_t ntx);
/* A transaction was admitted to the mempool. */
void rpc_metrics_tx_admitted(rpc_metrics *m);

/* Values read at scrape time. */
typedef struct rpc_metrics_gauges {
    uint64_t height;
    uint64_t mempool_txs, mempool_bytes;
    uint64_t leveldb_write_bytes;
    uint64_t subscriptions;
    rpc_http_stats http;
} rpc_metrics_gauges;

/* The exposition text (malloc'd, *len bytes, NUL-terminated), NULL on OOM. */
OL_MUST_CHECK char *rpc_metrics_render(const rpc_metrics *m, const rpc_metrics_gauges *g,
                                       size_t *len);

#define RPC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
