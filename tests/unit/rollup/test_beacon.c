/* The beacon API client (rollup/l1/beacon.h) against a fake endpoint (a
 * thread answering from a script): the block-number rule when there is no
 * /eth/v1/config/spec (anvil), the slot rule from the spec and the genesis,
 * the blobs handed over in order, the refusals (count, malformed blob, an
 * HTTP error, an unreachable endpoint), the KZG check of
 * rollup_beacon_get_checked_blobs, and cancellation by close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollup/eth/kzg.h"
#include "rollup/l1/beacon.h"
#include "util/hex.h"

#include "tests/unit/fake_http.h"

/* --- the fake endpoint ------------------------------------------------------ */

static fake_http FH;

static struct {
    char url[64];
    int has_spec;      /* answers /eth/v1/config/spec */
    int blobs_status;  /* HTTP status of the blobs answer */
    size_t extra;      /* blobs answered beyond those asked for */
    int short_blob;    /* the first blob is one byte short */
    char last[4096];   /* the last blobs path asked for */
    int spec_requests; /* how often the rule was asked for */
} S;

static uint8_t blob_a[ROLLUP_BLOB_BYTES], blob_b[ROLLUP_BLOB_BYTES];

static size_t put_blob(char *out, const uint8_t *b, size_t bytes)
{
    out[0] = '"', out[1] = '0', out[2] = 'x';
    util_hex_encode(out + 3, b, bytes);
    out[3 + 2 * bytes] = '"';
    return 4 + 2 * bytes;
}

static void serve(int fd, const char *method, const char *path)
{
    if (strcmp(method, "GET") != 0) return fh_reply(fd, 400, "{}");
    if (strcmp(path, "/eth/v1/config/spec") == 0) {
        S.spec_requests++;
        return S.has_spec ? fh_reply(fd, 200, "{\"data\":{\"SECONDS_PER_SLOT\":\"12\"}}")
                          : fh_reply(fd, 404, "");
    }
    if (strcmp(path, "/eth/v1/beacon/genesis") == 0)
        return fh_reply(fd, 200, "{\"data\":{\"genesis_time\":\"1000\"}}");
    snprintf(S.last, sizeof S.last, "%s", path);
    if (S.blobs_status != 200)
        return fh_reply(fd, S.blobs_status, "{\"code\":404,\"message\":\"Block not found\"}");
    /* As many blobs as hashes asked for (a, b, a, ...), plus extra. */
    const char *q = strstr(path, "versioned_hashes=");
    size_t n = 0;
    for (const char *p = q; p && (p = strstr(p, "0x")); p += 2)
        n++;
    n += S.extra;
    char *body = malloc(n * (2 * ROLLUP_BLOB_BYTES + 8) + 64);
    size_t len = (size_t)sprintf(body, "{\"execution_optimistic\":false,\"data\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) body[len++] = ',';
        len += put_blob(body + len, i % 2 ? blob_b : blob_a,
                        ROLLUP_BLOB_BYTES - (i == 0 && S.short_blob));
    }
    strcpy(body + len, "]}");
    fh_reply(fd, 200, body);
    free(body);
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < ROLLUP_BLOB_BYTES; i += 32) {
        blob_a[i + 5] = (uint8_t)(i >> 5);
        blob_b[i + 7] = (uint8_t)(i >> 7) ^ 0x5a;
    }
    memset(&S, 0, sizeof S);
    fh_start(&FH, serve);
    snprintf(S.url, sizeof S.url, "%s/", FH.url);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fh_stop(&FH);
    return 0;
}

static void script(int has_spec, int status, size_t extra, int short_blob)
{
    S.has_spec = has_spec;
    S.blobs_status = status;
    S.extra = extra;
    S.short_blob = short_blob;
    S.last[0] = 0;
    S.spec_requests = 0;
}

static const uint8_t H[2][32] = {{0x01, 0xaa}, {0x01, 0xbb}};

/* --- tests ---------------------------------------------------------------------- */

static void test_block_number_rule(void **state)
{
    (void)state;
    script(0, 200, 0, 0);
    uint8_t **blobs = NULL;
    util_err err = {0};
    assert_int_equal(rollup_beacon_get_blobs_sync(S.url, 77, 5000, H, 2, &blobs, &err), 0);
    assert_memory_equal(blobs[0], blob_a, ROLLUP_BLOB_BYTES);
    assert_memory_equal(blobs[1], blob_b, ROLLUP_BLOB_BYTES);
    rollup_beacon_blobs_free(blobs, 2);
    char want[512];
    char h0[65], h1[65];
    util_hex_encode(h0, H[0], 32);
    util_hex_encode(h1, H[1], 32);
    snprintf(want, sizeof want, "/eth/v1/beacon/blobs/77?versioned_hashes=0x%s,0x%s", h0, h1);
    assert_string_equal(S.last, want);
}

static void test_slot_rule(void **state)
{
    (void)state;
    script(1, 200, 0, 0);
    uint8_t **blobs = NULL;
    util_err err = {0};
    /* genesis 1000, 12 s slots: timestamp 1000 + 7 x 12 + 5 is slot 7. */
    assert_int_equal(rollup_beacon_get_blobs_sync(S.url, 77, 1089, H, 1, &blobs, &err), 0);
    rollup_beacon_blobs_free(blobs, 1);
    assert_non_null(strstr(S.last, "/eth/v1/beacon/blobs/7?"));
    /* Before the beacon genesis: refused, nothing asked. */
    S.last[0] = 0;
    assert_int_equal(rollup_beacon_get_blobs_sync(S.url, 77, 999, H, 1, &blobs, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "older than the beacon genesis"));
    assert_string_equal(S.last, "");
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t **blobs = NULL;
    util_err err = {0};
    script(0, 200, 1, 0);
    assert_int_equal(rollup_beacon_get_blobs_sync(S.url, 5, 0, H, 1, &blobs, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "2 blobs, 1 asked for"));
    assert_null(blobs);
    script(0, 200, 0, 1);
    assert_int_equal(rollup_beacon_get_blobs_sync(S.url, 5, 0, H, 1, &blobs, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "blob 0 is not"));
    script(0, 404, 0, 0);
    assert_int_equal(rollup_beacon_get_blobs_sync(S.url, 5, 0, H, 1, &blobs, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "404"));
    assert_int_equal(rollup_beacon_get_blobs_sync("http://127.0.0.1:1", 5, 0, H, 1, &blobs, &err),
                     UTIL_EIO);
    assert_int_equal(rollup_beacon_get_blobs_sync(S.url, 5, 0, H, 0, &blobs, &err), UTIL_EINVAL);
    assert_int_equal(rollup_beacon_get_blobs_sync("ftp://x", 5, 0, H, 1, &blobs, &err),
                     UTIL_EINVAL);
}

typedef struct got {
    int calls, rc;
    size_t n;
    uint8_t **blobs;
    util_err err;
} got;

static void on_got(void *ctx, int rc, uint8_t **blobs, size_t n, const util_err *err)
{
    got *g = ctx;
    g->calls++;
    g->rc = rc;
    g->n = n;
    g->blobs = blobs;
    if (err) g->err = *err;
}

static void run_checked(const uint8_t (*commits)[48], size_t n, got *g, int close_early)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    rollup_beacon *b = NULL;
    util_err err = {0};
    assert_int_equal(rollup_beacon_new(&b, &loop, S.url, &err), 0);
    /* The trailing '/' dropped: paths are appended to it. */
    assert_int_equal(strlen(rollup_beacon_url(b)), strlen(S.url) - 1);
    assert_memory_equal(rollup_beacon_url(b), S.url, strlen(S.url) - 1);
    memset(g, 0, sizeof *g);
    assert_int_equal(rollup_beacon_get_checked_blobs(b, 9, 0, H, commits, n, on_got, g, &err), 0);
    assert_int_equal(g->calls, 0); /* never inside the call */
    if (close_early) {
        rollup_beacon_close(b);
        assert_int_equal(g->calls, 1);
        assert_int_equal(g->rc, UTIL_ESTATE);
        b = NULL;
    }
    while (!g->calls && uv_run(&loop, UV_RUN_ONCE)) {
    }
    rollup_beacon_close(b);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(g->calls, 1);
}

static void test_checked(void **state)
{
    (void)state;
    util_err err = {0};
    uint8_t c[2][48];
    assert_int_equal(rollup_kzg_commit(blob_a, c[0], &err), 0);
    assert_int_equal(rollup_kzg_commit(blob_b, c[1], &err), 0);
    script(0, 200, 0, 0);
    got g;
    run_checked((const uint8_t(*)[48])c, 2, &g, 0);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 2);
    assert_memory_equal(g.blobs[1], blob_b, ROLLUP_BLOB_BYTES);
    rollup_beacon_blobs_free(g.blobs, g.n);
    /* The endpoint gives blob a where b was asked for. */
    memcpy(c[1], c[0], 48);
    run_checked((const uint8_t(*)[48])c, 2, &g, 0);
    assert_int_equal(g.rc, UTIL_EINVAL);
    assert_non_null(strstr(g.err.msg, "does not match"));
    assert_null(g.blobs);
    /* Closed before the answer: the callback runs inside the close. */
    run_checked((const uint8_t(*)[48])c, 2, &g, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_number_rule),
        cmocka_unit_test(test_slot_rule),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
