/* The beacon API client of rollup/l1/beacon.h: GET requests on
 * util/net_uv.h, the slot rule found once per client (SECONDS_PER_SLOT from
 * /eth/v1/config/spec, genesis_time from /eth/v1/beacon/genesis; an endpoint
 * without the spec, anvil, takes the execution block number), and the strict
 * parser of a blobs answer. */
#include "rollup/l1/beacon.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rollup/eth/kzg.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/net_uv.h"

/* The biggest answer: MAX_BLOBS hex blobs and some room for the envelope. */
#define BEACON_MAX_BODY                                                                            \
    ((size_t)ROLLUP_BEACON_MAX_BLOBS * (2 * ROLLUP_BEACON_BLOB_BYTES + 8) + 64 * 1024)

enum { RULE_UNKNOWN, RULE_SLOT, RULE_NUMBER };
enum { ST_SPEC, ST_GENESIS, ST_BLOBS };

typedef struct beacon_work beacon_work;

typedef struct beacon_req {
    rollup_beacon *b;
    int stage;
    uint64_t number, timestamp;
    uint8_t (*hashes)[32];
    uint8_t (*commits)[48]; /* NULL: the caller checks the blobs */
    beacon_work *work;      /* the check on the thread pool, while it runs */
    size_t n;
    rollup_beacon_cb cb;
    void *ctx;
    struct beacon_req *prev, *next;
} beacon_req;

struct rollup_beacon {
    uv_loop_t *loop;
    util_net_uv *net;
    char *url; /* without a trailing '/' */
    int rule;
    uint64_t seconds_per_slot, genesis_time;
    beacon_req *reqs; /* callback not run yet */
    int closing;
};

int rollup_beacon_new(rollup_beacon **out, uv_loop_t *loop, const char *url, util_err *err)
{
    *out = NULL;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return util_err_set(err, UTIL_EINVAL, "beacon URL %s is not http:// or https://", url);
    rollup_beacon *b = calloc(1, sizeof *b);
    if (!b || !(b->url = strdup(url))) {
        free(b);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    size_t l = strlen(b->url);
    while (l > 8 && b->url[l - 1] == '/')
        b->url[--l] = 0;
    util_net_opts o = {.max_response = BEACON_MAX_BODY, .peer_name = "beacon endpoint"};
    int rc = util_net_uv_new(&b->net, loop, &o, err);
    if (rc) {
        free(b->url);
        free(b);
        return rc;
    }
    b->loop = loop;
    *out = b;
    return 0;
}

const char *rollup_beacon_url(const rollup_beacon *b)
{
    return b->url;
}

static void finish(beacon_req *q, int rc, uint8_t **blobs, const util_err *err);

/* The KZG check of one answer: it owns the blobs until it hands them over. */
struct beacon_work {
    uv_work_t w;
    beacon_req *q; /* NULL: cancelled, the work only frees itself */
    uint8_t **blobs;
    uint8_t (*commits)[48]; /* owned: taken from the request */
    size_t n, bad;
    int rc;
    util_err err;
};

void rollup_beacon_close(rollup_beacon *b)
{
    if (!b || b->closing) return;
    b->closing = 1;
    /* Runs the callbacks of running requests (UTIL_ESTATE) before it returns. */
    util_net_uv_close(b->net);
    /* What is left is being checked on the thread pool: cancelled now, the
     * work frees itself when it is done. */
    while (b->reqs) {
        beacon_req *q = b->reqs;
        util_err e = {0};
        util_err_set(&e, UTIL_ESTATE, "beacon endpoint: the client is closing");
        if (q->work) {
            q->work->q = NULL;
            q->work = NULL;
        }
        finish(q, UTIL_ESTATE, NULL, &e);
    }
    free(b->url);
    free(b);
}

void rollup_beacon_blobs_free(uint8_t **blobs, size_t n)
{
    if (!blobs) return;
    for (size_t i = 0; i < n; i++)
        free(blobs[i]);
    free(blobs);
}

/* --- parsers ----------------------------------------------------------------- */

/* A decimal string of at most 64 bits, as the beacon API writes numbers. */
static int parse_dec(json_t *v, uint64_t *out, const char *what, util_err *err)
{
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 20 || (s[0] == '0' && s[1]))
        return util_err_set(err, UTIL_EIO, "beacon endpoint: %s is not a decimal string", what);
    uint64_t x = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return util_err_set(err, UTIL_EIO, "beacon endpoint: %s is not a decimal string", what);
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *out = x;
    return 0;
}

/* data.<field> of an answer, as a decimal. */
static int parse_data_field(const util_net_resp *resp, const char *field, uint64_t *out,
                            util_err *err)
{
    json_error_t je;
    json_t *doc = json_loadb(resp->body ? resp->body : "", resp->len, 0, &je);
    if (!doc) {
        return util_err_set(err, UTIL_EIO, "beacon endpoint: the answer is not JSON (%s)", je.text);
    }
    int rc = parse_dec(json_object_get(json_object_get(doc, "data"), field), out, field, err);
    json_decref(doc);
    return rc;
}

int rollup_beacon_parse_blobs(const char *body, size_t len, size_t n, uint8_t ***blobs,
                              util_err *err)
{
    *blobs = NULL;
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) return util_err_set(err, UTIL_EINVAL, "blobs answer: not JSON (%s)", je.text);
    int rc = 0;
    json_t *data = json_object_get(doc, "data");
    if (!json_is_array(data)) {
        rc = util_err_set(err, UTIL_EINVAL, "blobs answer: no \"data\" array");
        goto out;
    }
    if (json_array_size(data) != n) {
        rc = util_err_set(err, UTIL_EINVAL, "blobs answer: %zu blobs, %zu asked for",
                          json_array_size(data), n);
        goto out;
    }
    uint8_t **bs = calloc(n ? n : 1, sizeof *bs);
    if (!bs) {
        rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(data, i);
        const char *s = json_string_value(v);
        if (!s || json_string_length(v) != 2 + 2 * (size_t)ROLLUP_BEACON_BLOB_BYTES ||
            s[0] != '0' || s[1] != 'x') {
            rc = util_err_set(err, UTIL_EINVAL,
                              "blobs answer: blob %zu is not \"0x\" and %u bytes of hex", i,
                              ROLLUP_BEACON_BLOB_BYTES);
            rollup_beacon_blobs_free(bs, i);
            goto out;
        }
        if (!(bs[i] = malloc(ROLLUP_BEACON_BLOB_BYTES))) {
            rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
            rollup_beacon_blobs_free(bs, i);
            goto out;
        }
        if (util_hex_decode_exact(bs[i], ROLLUP_BEACON_BLOB_BYTES, s + 2)) {
            rc = util_err_set(err, UTIL_EINVAL, "blobs answer: blob %zu is not hex", i);
            rollup_beacon_blobs_free(bs, i + 1);
            goto out;
        }
    }
    *blobs = bs;
out:
    json_decref(doc);
    return rc;
}

/* --- requests ------------------------------------------------------------------ */

static void req_unlink(beacon_req *q)
{
    rollup_beacon *b = q->b;
    if (q->prev)
        q->prev->next = q->next;
    else
        b->reqs = q->next;
    if (q->next) q->next->prev = q->prev;
}

/* Runs the caller's callback once and frees the request. */
static void finish(beacon_req *q, int rc, uint8_t **blobs, const util_err *err)
{
    req_unlink(q);
    rollup_beacon_cb cb = q->cb;
    void *ctx = q->ctx;
    size_t n = q->n;
    free(q->hashes);
    free(q->commits);
    free(q);
    cb(ctx, rc, rc ? NULL : blobs, rc ? 0 : n, rc ? err : NULL);
}

static void on_resp(void *ctx, int rc, util_net_resp *resp, const util_err *nerr);

static int send_stage(beacon_req *q, util_err *err)
{
    rollup_beacon *b = q->b;
    size_t cap = strlen(b->url) + 128 + q->n * 67;
    char *url = malloc(cap);
    if (!url) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    if (q->stage == ST_SPEC) {
        snprintf(url, cap, "%s/eth/v1/config/spec", b->url);
    } else if (q->stage == ST_GENESIS) {
        snprintf(url, cap, "%s/eth/v1/beacon/genesis", b->url);
    } else {
        uint64_t id = q->number;
        if (b->rule == RULE_SLOT) {
            if (q->timestamp < b->genesis_time) {
                free(url);
                return util_err_set(err, UTIL_EINVAL,
                                    "beacon endpoint: L1 block %" PRIu64
                                    " is older than the beacon genesis",
                                    q->number);
            }
            id = (q->timestamp - b->genesis_time) / b->seconds_per_slot;
        }
        int off =
            snprintf(url, cap, "%s/eth/v1/beacon/blobs/%" PRIu64 "?versioned_hashes=", b->url, id);
        for (size_t i = 0; i < q->n; i++) {
            if (i) url[off++] = ',';
            url[off++] = '0', url[off++] = 'x';
            util_hex_encode(url + off, q->hashes[i], 32);
            off += 64;
        }
    }
    int rc = util_net_uv_post(b->net, url, NULL, 0, NULL, 0, on_resp, q, NULL, err);
    free(url);
    return rc;
}

/* The rule is known: the blobs request, else the next discovery request. */
static int next_stage(beacon_req *q, util_err *err)
{
    rollup_beacon *b = q->b;
    if (b->rule != RULE_UNKNOWN)
        q->stage = ST_BLOBS;
    else if (q->stage == ST_SPEC && b->seconds_per_slot)
        q->stage = ST_GENESIS;
    return send_stage(q, err);
}

static void work_run(uv_work_t *w)
{
    beacon_work *k = w->data;
    k->rc = rollup_kzg_verify_blobs((const uint8_t *const *)k->blobs,
                                    (const uint8_t(*)[48])k->commits, k->n, &k->bad, &k->err);
}

static void work_done(uv_work_t *w, int status)
{
    beacon_work *k = w->data;
    beacon_req *q = k->q;
    if (q) {
        q->work = NULL;
        util_err e = {0};
        if (status) {
            util_err_set(&e, UTIL_EIO, "beacon: the thread pool did not run the KZG check");
            finish(q, UTIL_EIO, NULL, &e);
        } else if (k->rc == UTIL_EINVAL) {
            char h[65];
            util_hex_encode(h, q->hashes[k->bad < k->n ? k->bad : 0], 32);
            util_err_set(&e, UTIL_EINVAL,
                         "beacon endpoint %s: its blob for versioned hash 0x%s does not match the "
                         "commitment (%s)",
                         q->b->url, h, k->err.msg);
            finish(q, UTIL_EINVAL, NULL, &e);
        } else if (k->rc) {
            finish(q, k->rc, NULL, &k->err);
        } else {
            finish(q, 0, k->blobs, NULL);
            k->blobs = NULL; /* handed over */
        }
    }
    rollup_beacon_blobs_free(k->blobs, k->n);
    free(k->commits);
    free(k);
}

/* Hands the blobs to the thread pool for their KZG check; 0 or UTIL_ENOMEM
 * (the blobs freed). */
static int check_blobs(beacon_req *q, uint8_t **blobs, util_err *err)
{
    beacon_work *k = calloc(1, sizeof *k);
    if (!k) {
        rollup_beacon_blobs_free(blobs, q->n);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    k->w.data = k;
    k->q = q;
    k->blobs = blobs;
    k->n = q->n;
    k->commits = q->commits;
    q->commits = NULL;
    q->work = k;
    if (uv_queue_work(q->b->loop, &k->w, work_run, work_done) == 0) return 0;
    /* No thread pool: check here (the loop waits a few tens of ms). */
    work_run(&k->w);
    work_done(&k->w, 0);
    return 0;
}

static void on_resp(void *ctx, int rc, util_net_resp *resp, const util_err *nerr)
{
    beacon_req *q = ctx;
    rollup_beacon *b = q->b;
    util_err e = {0};
    if (rc == UTIL_ESTATE || b->closing) {
        util_err_set(&e, UTIL_ESTATE, "beacon endpoint: the client is closing");
        finish(q, UTIL_ESTATE, NULL, &e);
        return;
    }
    switch (q->stage) {
    case ST_SPEC:
        if (rc && resp->status == 404) {
            /* anvil: no spec, and its blobs API takes the block number. */
            if (b->rule == RULE_UNKNOWN)
                LOG_INFO("beacon",
                         "%s has no /eth/v1/config/spec: asking for blobs by execution block "
                         "number (anvil's rule), not by slot",
                         b->url);
            b->rule = RULE_NUMBER;
        } else if (rc) {
            e = *nerr;
            goto fail;
        } else {
            uint64_t sps;
            if (parse_data_field(resp, "SECONDS_PER_SLOT", &sps, &e)) goto fail;
            if (sps == 0) {
                util_err_set(&e, UTIL_EIO, "beacon endpoint: SECONDS_PER_SLOT is 0");
                goto fail;
            }
            b->seconds_per_slot = sps;
        }
        break;
    case ST_GENESIS:
        if (rc) {
            e = *nerr;
            goto fail;
        }
        if (parse_data_field(resp, "genesis_time", &b->genesis_time, &e)) goto fail;
        if (b->rule == RULE_UNKNOWN)
            LOG_INFO("beacon",
                     "%s: asking for blobs by slot (genesis time %" PRIu64 ", %" PRIu64
                     " s per slot)",
                     b->url, b->genesis_time, b->seconds_per_slot);
        b->rule = RULE_SLOT;
        break;
    default: {
        if (rc) {
            e = *nerr;
            goto fail;
        }
        uint8_t **blobs = NULL;
        if ((rc = rollup_beacon_parse_blobs(resp->body ? resp->body : "", resp->len, q->n, &blobs,
                                            &e))) {
            util_err_prefix(&e, "beacon endpoint %s: ", b->url);
            finish(q, rc, NULL, &e);
            return;
        }
        if (!q->commits) {
            finish(q, 0, blobs, NULL);
            return;
        }
        /* q may be finished inside (no thread pool). */
        if (check_blobs(q, blobs, &e)) finish(q, UTIL_ENOMEM, NULL, &e);
        return;
    }
    }
    if ((rc = next_stage(q, &e)) == 0) return;
    finish(q, rc, NULL, &e);
    return;
fail:
    /* Unreachable, an HTTP error, not a beacon answer. A too-big answer has
     * more than was asked for. */
    if (nerr && rc == UTIL_ELIMIT) {
        finish(q, UTIL_EINVAL, NULL, &e);
        return;
    }
    if (!e.msg[0]) util_err_set(&e, UTIL_EIO, "beacon endpoint %s: no answer", b->url);
    finish(q, UTIL_EIO, NULL, &e);
}

static int start(rollup_beacon *b, uint64_t l1_number, uint64_t l1_timestamp,
                 const uint8_t (*hashes)[32], const uint8_t (*commits)[48], size_t n,
                 rollup_beacon_cb cb, void *ctx, util_err *err)
{
    if (b->closing) return util_err_set(err, UTIL_ESTATE, "beacon client closing");
    if (n == 0 || n > ROLLUP_BEACON_MAX_BLOBS)
        return util_err_set(err, UTIL_EINVAL, "beacon: %zu blobs asked for (1 to %d)", n,
                            ROLLUP_BEACON_MAX_BLOBS);
    beacon_req *q = calloc(1, sizeof *q);
    if (!q || !(q->hashes = malloc(n * sizeof *q->hashes))) {
        free(q);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    memcpy(q->hashes, hashes, n * sizeof *q->hashes);
    if (commits) {
        if (!(q->commits = malloc(n * sizeof *q->commits))) {
            free(q->hashes);
            free(q);
            return util_err_set(err, UTIL_ENOMEM, "out of memory");
        }
        memcpy(q->commits, commits, n * sizeof *q->commits);
    }
    q->b = b;
    q->n = n;
    q->number = l1_number;
    q->timestamp = l1_timestamp;
    q->cb = cb;
    q->ctx = ctx;
    q->stage = b->rule == RULE_UNKNOWN ? ST_SPEC : ST_BLOBS;
    int rc = send_stage(q, err);
    if (rc) {
        free(q->hashes);
        free(q->commits);
        free(q);
        return rc;
    }
    q->next = b->reqs;
    if (b->reqs) b->reqs->prev = q;
    b->reqs = q;
    return 0;
}

int rollup_beacon_get_blobs(rollup_beacon *b, uint64_t l1_number, uint64_t l1_timestamp,
                            const uint8_t (*hashes)[32], size_t n, rollup_beacon_cb cb, void *ctx,
                            util_err *err)
{
    return start(b, l1_number, l1_timestamp, hashes, NULL, n, cb, ctx, err);
}

int rollup_beacon_get_checked_blobs(rollup_beacon *b, uint64_t l1_number, uint64_t l1_timestamp,
                                    const uint8_t (*hashes)[32], const uint8_t (*commitments)[48],
                                    size_t n, rollup_beacon_cb cb, void *ctx, util_err *err)
{
    return start(b, l1_number, l1_timestamp, hashes, commitments, n, cb, ctx, err);
}

/* --- the blocking form ----------------------------------------------------------- */

typedef struct sync_ctx {
    int done, rc;
    uint8_t **blobs;
    util_err err;
} sync_ctx;

static void on_sync(void *ctx, int rc, uint8_t **blobs, size_t n, const util_err *err)
{
    (void)n;
    sync_ctx *s = ctx;
    s->done = 1;
    s->rc = rc;
    s->blobs = blobs;
    if (rc && err) s->err = *err;
}

int rollup_beacon_get_blobs_sync(const char *url, uint64_t l1_number, uint64_t l1_timestamp,
                                 const uint8_t (*hashes)[32], size_t n, uint8_t ***blobs,
                                 util_err *err)
{
    *blobs = NULL;
    uv_loop_t loop;
    if (uv_loop_init(&loop)) return util_err_set(err, UTIL_EIO, "cannot start an event loop");
    rollup_beacon *b = NULL;
    sync_ctx s = {0};
    int rc = rollup_beacon_new(&b, &loop, url, err);
    if (!rc) rc = rollup_beacon_get_blobs(b, l1_number, l1_timestamp, hashes, n, on_sync, &s, err);
    if (!rc) {
        while (!s.done && uv_run(&loop, UV_RUN_ONCE)) {
        }
        if (!s.done) rc = util_err_set(err, UTIL_EIO, "beacon endpoint %s: no answer", url);
    }
    rollup_beacon_close(b);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop)) { /* a handle still open: leak it rather than crash */
    }
    if (rc) {
        rollup_beacon_blobs_free(s.blobs, n);
        return rc;
    }
    if (s.rc) {
        if (err) *err = s.err;
        return s.rc;
    }
    *blobs = s.blobs;
    return 0;
}
