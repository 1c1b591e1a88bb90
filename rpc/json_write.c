/* A JSON writer for replies, byte for byte what jansson's compact dump writes
 * (rpc/json_write.h). */
#include "rpc/json_write.h"

#include <string.h>

/* util_buf_put with the capacity check inline: a reply is written a few
 * bytes at a time, and the out-of-line call per token showed in profiles. */
static inline void put(util_buf *b, const void *p, size_t n)
{
    if (n && !b->oom && b->cap - b->len >= n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    } else {
        util_buf_put(b, p, n); /* grows, or keeps the latched failure */
    }
}

static inline void put_c(util_buf *b, char c)
{
    if (!b->oom && b->len < b->cap)
        b->data[b->len++] = (uint8_t)c;
    else
        util_buf_u8(b, (uint8_t)c);
}

/* Bytes that end a plain run inside a string: the two mandatory escapes and
 * the control characters. Everything else (including UTF-8 sequences, which
 * jansson validated when the string was made) is copied as is, as jansson
 * does without JSON_ENSURE_ASCII. */
static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

void rpc_json_write_string(util_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (util_buf_reserve(b, n + 2)) return;
    b->data[b->len++] = '"';
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c)) continue;
        put(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0};
        size_t k = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default: /* jansson writes the other controls as \u00XX, upper case */
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
        }
        put(b, esc, k);
    }
    put(b, s + run, n - run);
    put_c(b, '"');
}

static void write_int(util_buf *b, json_int_t v)
{
    char d[24];
    size_t k = sizeof d;
    /* Unsigned magnitude: -INT64_MIN does not fit a json_int_t. */
    unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        d[--k] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0) d[--k] = '-';
    put(b, d + k, sizeof d - k);
}

static int write_value(util_buf *b, const json_t *v, int depth)
{
    if (depth > RPC_JSON_WRITE_MAX_DEPTH) return -1;
    switch (json_typeof(v)) {
    case JSON_NULL: put(b, "null", 4); break;
    case JSON_TRUE: put(b, "true", 4); break;
    case JSON_FALSE: put(b, "false", 5); break;
    case JSON_INTEGER: write_int(b, json_integer_value(v)); break;
    case JSON_STRING: rpc_json_write_string(b, json_string_value(v), json_string_length(v)); break;
    case JSON_REAL: {
        /* Rare in replies (an id may be one): jansson's own formatting, so
         * precision and the ".0" suffix match exactly. */
        char tmp[64];
        size_t n = json_dumpb(v, tmp, sizeof tmp, JSON_COMPACT | JSON_ENCODE_ANY);
        if (n == 0 || n > sizeof tmp) return -1;
        put(b, tmp, n);
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        put_c(b, '[');
        for (size_t i = 0; i < n; i++) {
            if (i) put_c(b, ',');
            if (write_value(b, json_array_get(v, i), depth + 1)) return -1;
        }
        put_c(b, ']');
        break;
    }
    case JSON_OBJECT: {
        /* json_object_iter walks keys in insertion order, as json_dumpb does
         * without JSON_SORT_KEYS. */
        put_c(b, '{');
        int first = 1;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            if (!first) put_c(b, ',');
            first = 0;
            const char *key = json_object_iter_key(it);
            rpc_json_write_string(b, key, json_object_iter_key_len(it));
            put_c(b, ':');
            if (write_value(b, json_object_iter_value(it), depth + 1)) return -1;
        }
        put_c(b, '}');
        break;
    }
    default: return -1;
    }
    return b->oom ? -1 : 0;
}

int rpc_json_write(util_buf *b, const json_t *v)
{
    if (!v) return -1;
    return write_value(b, v, 1);
}
