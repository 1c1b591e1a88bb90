/* Compact JSON text of a jansson value, written straight into a util_buf.
 *
 * The RPC server answers every request with JSON; jansson's json_dumpb
 * spends most of a small reply's time in per-fragment callbacks. This writer
 * produces byte for byte what json_dumpb(v, JSON_COMPACT | JSON_ENCODE_ANY)
 * produces (same escapes, same key order, reals through jansson itself), so a
 * reply reads the same whichever wrote it (tests/unit/rpc/test_json_write.c and
 * tests/fuzz/fuzz_json_write.c compare the two). Parsing stays with jansson.
 *
 * The buffer is the caller's; a failed allocation latches b->oom. */
#ifndef OL_RPC_JSON_WRITE_H
#define OL_RPC_JSON_WRITE_H

#include <jansson.h>

#include "util/bytes.h"
#include "util/err.h"

/* Appends v. Returns 0, or -1 when memory ran out (b->oom) or v nests deeper
 * than RPC_JSON_WRITE_MAX_DEPTH (the depth jansson parses; replies are built
 * by methods and never come near it). */
#define RPC_JSON_WRITE_MAX_DEPTH 2048
OL_MUST_CHECK int rpc_json_write(util_buf *b, const json_t *v);

/* Appends s (n bytes, UTF-8 as jansson holds it) as a JSON string literal. */
void rpc_json_write_string(util_buf *b, const char *s, size_t n);

#endif
