/* Checked readers of JSON-RPC parameters (counts, strings, hex, addresses,
 * block references) with -32602 errors (rpc/params.h). */
#include "rpc/params.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/amount.h"
#include "util/err.h"
#include "util/hex.h"

static int pfail(rpc_error *e, size_t i, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int pfail(rpc_error *e, size_t i, const char *name, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    rpc_fail(e, RPC_INVALID_PARAMS, NULL, "param %zu (%s): %s", i, name ? name : "?", why);
    return -1;
}

int rpc_param_count(json_t *params, size_t min, size_t max, rpc_error *e)
{
    size_t n = json_array_size(params);
    if (n >= min && n <= max) return 0;
    if (min == max)
        rpc_fail(e, RPC_INVALID_PARAMS, NULL, "expected %zu param%s, got %zu", min,
                 min == 1 ? "" : "s", n);
    else
        rpc_fail(e, RPC_INVALID_PARAMS, NULL, "expected %zu to %zu params, got %zu", min, max, n);
    return -1;
}

int rpc_param_present(json_t *params, size_t i)
{
    json_t *v = json_array_get(params, i);
    return v && !json_is_null(v);
}

static json_t *get(json_t *params, size_t i, const char *name, rpc_error *e)
{
    json_t *v = json_array_get(params, i);
    if (!v) pfail(e, i, name, "missing");
    return v;
}

/* A string without embedded NUL, so C string functions see all of it. */
static const char *get_str(json_t *params, size_t i, const char *name, const char *what,
                           rpc_error *e)
{
    json_t *v = get(params, i, name, e);
    if (!v) return NULL;
    if (!json_is_string(v)) {
        pfail(e, i, name, "expected %s", what);
        return NULL;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        pfail(e, i, name, "contains a NUL character");
        return NULL;
    }
    return s;
}

static int u64_value(json_t *v, uint64_t *out, const char **why)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0) {
            *why = "must not be negative";
            return -1;
        }
        *out = (uint64_t)x;
        return 0;
    }
    if (json_is_real(v)) {
        *why = "must be an integer";
        return -1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        int digits = n > 0 && strlen(s) == n;
        for (size_t k = 0; digits && k < n; k++)
            digits = s[k] >= '0' && s[k] <= '9';
        if (!digits) {
            *why = "expected a decimal string of digits";
            return -1;
        }
        if (util_amount_parse_base(s, out) != 0) {
            *why = "expected a decimal string of digits not above 18446744073709551615";
            return -1;
        }
        return 0;
    }
    *why = "expected a non-negative integer or a decimal string";
    return -1;
}

int rpc_param_u64(json_t *params, size_t i, const char *name, uint64_t *out, rpc_error *e)
{
    json_t *v = get(params, i, name, e);
    if (!v) return -1;
    const char *why = NULL;
    if (u64_value(v, out, &why) != 0) return pfail(e, i, name, "%s", why);
    return 0;
}

int rpc_param_bool(json_t *params, size_t i, const char *name, int *out, rpc_error *e)
{
    json_t *v = get(params, i, name, e);
    if (!v) return -1;
    if (!json_is_boolean(v)) return pfail(e, i, name, "expected true or false");
    *out = json_is_true(v);
    return 0;
}

int rpc_param_str(json_t *params, size_t i, const char *name, size_t max_len, const char **out,
                  rpc_error *e)
{
    const char *s = get_str(params, i, name, "a string", e);
    if (!s) return -1;
    if (max_len && strlen(s) > max_len) return pfail(e, i, name, "longer than %zu bytes", max_len);
    *out = s;
    return 0;
}

/* Checks the "0x" prefix and the digits; returns the digits or NULL. */
static const char *hex_digits(json_t *params, size_t i, const char *name, rpc_error *e)
{
    const char *s = get_str(params, i, name, "a 0x-prefixed hex string", e);
    if (!s) return NULL;
    if (s[0] != '0' || s[1] != 'x') {
        pfail(e, i, name, "expected a 0x-prefixed hex string");
        return NULL;
    }
    s += 2;
    size_t n = strlen(s);
    for (size_t k = 0; k < n; k++) {
        char c = s[k];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            pfail(e, i, name, "invalid hex character at offset %zu", k + 2);
            return NULL;
        }
    }
    if (n % 2) {
        pfail(e, i, name, "odd number of hex digits");
        return NULL;
    }
    return s;
}

int rpc_param_hex(json_t *params, size_t i, const char *name, size_t max_bytes, uint8_t **out,
                  size_t *n, rpc_error *e)
{
    const char *s = hex_digits(params, i, name, e);
    if (!s) return -1;
    size_t len = strlen(s) / 2;
    if (len > max_bytes) return pfail(e, i, name, "longer than %zu bytes", max_bytes);
    if (util_hex_decode_alloc(s, max_bytes, out, n) != 0) {
        rpc_fail(e, RPC_INTERNAL_ERROR, NULL, "out of memory");
        return -1;
    }
    return 0;
}

int rpc_param_hex_exact(json_t *params, size_t i, const char *name, uint8_t *out, size_t n,
                        rpc_error *e)
{
    const char *s = hex_digits(params, i, name, e);
    if (!s) return -1;
    if (strlen(s) != 2 * n)
        return pfail(e, i, name, "expected %zu bytes (%zu hex digits), got %zu digits", n, 2 * n,
                     strlen(s));
    if (util_hex_decode_exact(out, n, s) != 0) return pfail(e, i, name, "invalid hex");
    return 0;
}

int rpc_param_hash32(json_t *params, size_t i, const char *name, uint8_t out[32], rpc_error *e)
{
    return rpc_param_hex_exact(params, i, name, out, 32, e);
}

int rpc_param_addr(json_t *params, size_t i, const char *name, chain_addr *out, rpc_error *e)
{
    const char *s = get_str(params, i, name, "a bech32m address string", e);
    if (!s) return -1;
    util_err err = {0};
    if (chain_addr_decode(out, s, &err) != 0)
        return pfail(e, i, name, "invalid address: %s", err.msg);
    return 0;
}

int rpc_param_block_ref(json_t *params, size_t i, const char *name, rpc_block_ref *out,
                        rpc_error *e)
{
    json_t *v = get(params, i, name, e);
    if (!v) return -1;
    memset(out, 0, sizeof *out);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "latest") == 0) {
            out->kind = RPC_BLOCK_LATEST;
            return 0;
        }
        if (strcmp(s, "finalized") == 0) {
            out->kind = RPC_BLOCK_FINALIZED;
            return 0;
        }
        if (s[0] == '0' && s[1] == 'x') {
            out->kind = RPC_BLOCK_HASH;
            return rpc_param_hash32(params, i, name, out->hash, e);
        }
    }
    const char *why = NULL;
    if (u64_value(v, &out->number, &why) != 0)
        return pfail(e, i, name,
                     "expected a block height, \"latest\", \"finalized\" or a 0x block hash");
    out->kind = RPC_BLOCK_NUMBER;
    return 0;
}

json_t *rpc_json_hex(const uint8_t *p, size_t n)
{
    if (n > (SIZE_MAX - 3) / 2) return NULL;
    char *s = malloc(2 * n + 3);
    if (!s) return NULL;
    s[0] = '0';
    s[1] = 'x';
    util_hex_encode(s + 2, p, n);
    json_t *j = json_stringn_nocheck(s, 2 * n + 2);
    free(s);
    return j;
}

json_t *rpc_json_u64str(uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return json_stringn_nocheck(buf, (size_t)n);
}

json_t *rpc_json_addr(const chain_addr *a)
{
    char buf[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(buf, a);
    return json_string_nocheck(buf);
}
