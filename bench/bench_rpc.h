/* JSON-RPC plumbing shared by the benchmark drivers (bench_transfers,
 * bench_attribution): blocking calls through cli_http_post, tx_send batch
 * bodies and their answers. Every function exits the process with a message
 * on failure: a benchmark has nothing sensible to continue with. */
#ifndef OL_BENCH_RPC_H
#define OL_BENCH_RPC_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

/* Prefix of every message ("bench_transfers"); set it first thing in main. */
extern const char *bench_prog;

void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A decimal option value in [min, max]. */
size_t bench_parse_size(const char *name, const char *s, size_t min, size_t max);

/* POSTs a body and parses the answer (a new reference). */
json_t *bench_post_json(const char *url, const char *body, size_t len);
/* One call (params stolen, NULL = []); the result as a new reference. On an
 * error answer: exits, or returns NULL when soft. */
json_t *bench_call(const char *url, const char *method, json_t *params, int soft);
/* An integer field of node_status. */
uint64_t bench_status_u64(const char *url, const char *field);
/* Appends one tx_send entry for the hex of an encoded transaction (the
 * batch's '[' before the first; the caller closes it with ']'). */
void bench_put_entry(util_buf *b, size_t id, const char *hex);
/* Posts one batch body of `expect` entries; returns how many were refused,
 * printing the first few (shown counts them across calls and threads). */
size_t bench_post_batch(const char *url, const char *body, size_t len, size_t expect,
                        atomic_size_t *shown);

#endif
