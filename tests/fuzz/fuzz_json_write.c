/* libFuzzer target: any JSON jansson accepts, written back by rpc_json_write,
 * must be byte for byte what json_dumpb(JSON_COMPACT | JSON_ENCODE_ANY)
 * writes, and must parse back to an equal value. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/json_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v) return 0;
    util_buf b;
    util_buf_init(&b);
    if (rpc_json_write(&b, v) != 0) abort();
    size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    char *ref = malloc(n ? n : 1);
    if (!ref || json_dumpb(v, ref, n, JSON_COMPACT | JSON_ENCODE_ANY) != n) abort();
    if (n != b.len || memcmp(ref, b.data, n) != 0) abort();
    json_t *back = json_loadb((const char *)b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!back || !json_equal(v, back)) abort();
    json_decref(back);
    free(ref);
    util_buf_free(&b);
    json_decref(v);
    return 0;
}
