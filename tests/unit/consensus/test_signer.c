/* consensus/signer: the double-sign check, the state file surviving
 * restarts, a state that cannot be written refusing the signature with the
 * state in memory unchanged, a WAL that cannot be written stopping signing
 * before it starts, and a validator killed between "WAL record written" and
 * "signature sent" never signing a conflicting message after its restart
 * (a real child process, killed with _exit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain/crypto/keys.h"
#include "consensus/signer.h"
#include "consensus/wal.h"
#include "tests/unit/consensus/cons_fault_env.h"
#include "tests/seed.h"
#include "util/bytes.h"
#include "util/env_mem.h"

static char g_dir[64], g_state[128], g_wal_cur[128], g_wal_prev[128];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/test_signer.XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    snprintf(g_state, sizeof g_state, "%s/signer_state", g_dir);
    snprintf(g_wal_cur, sizeof g_wal_cur, "%s/%s", g_dir, CONS_WAL_FILE);
    snprintf(g_wal_prev, sizeof g_wal_prev, "%s/%s", g_dir, CONS_WAL_PREV_FILE);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_state);
    unlink(g_wal_cur);
    unlink(g_wal_prev);
    return rmdir(g_dir);
}

static void digest_of(uint8_t d[32], const char *what)
{
    memset(d, 0, 32);
    memcpy(d, what, strlen(what) < 32 ? strlen(what) : 32);
}

/* A signer that counts its calls and signs with the devnet key 0. */
typedef struct key {
    chain_keypair kp;
    int calls;
} key;

static int sign_with(void *ctx, const uint8_t digest[32], uint8_t sig[64], util_err *err)
{
    key *k = ctx;
    k->calls++;
    uint8_t aux[32] = {0};
    util_put_u32le(aux, (uint32_t)k->calls); /* a fresh signature each call, as in production */
    if (chain_sign(sig, digest, &k->kp, aux) != 0)
        return util_err_set(err, UTIL_ECRYPTO, "signing failed");
    return 0;
}

static void key_init(key *k)
{
    memset(k, 0, sizeof *k);
    assert_int_equal(chain_keypair_dev(&k->kp, 0), 0);
}

static void assert_state_eq(const cons_signer_state *a, const cons_signer_state *b)
{
    assert_int_equal(a->height, b->height);
    assert_int_equal(a->round, b->round);
    assert_int_equal(a->step, b->step);
    assert_memory_equal(a->digest, b->digest, 32);
    assert_memory_equal(a->sig, b->sig, 64);
}

static cons_signer *open_signer(const util_env *env, int flags)
{
    cons_signer *s = NULL;
    util_err err = {0};
    int rc = cons_signer_open(env, g_state, flags, &s, &err);
    if (rc) fail_msg("signer open: %s", err.msg);
    return s;
}

static void test_allow(void **state)
{
    (void)state;
    cons_signer_state st = {.height = 5, .round = 2, .step = CONS_SIGN_PREVOTE};
    digest_of(st.digest, "block X");
    uint8_t same[32], other[32];
    digest_of(same, "block X");
    digest_of(other, "block Y");
    util_err err = {0};
    struct {
        uint64_t h;
        uint32_t r;
        uint8_t step;
        const uint8_t *d;
        int verdict;
    } cases[] = {
        {5, 2, CONS_SIGN_PREVOTE, same, CONS_SIGNER_SAME},
        {5, 2, CONS_SIGN_PREVOTE, other, CONS_SIGNER_CONFLICT},
        {5, 2, CONS_SIGN_PRECOMMIT, other, CONS_SIGNER_FRESH},
        {5, 3, CONS_SIGN_PROPOSAL, other, CONS_SIGNER_FRESH},
        {6, 0, CONS_SIGN_PROPOSAL, other, CONS_SIGNER_FRESH},
        {5, 2, CONS_SIGN_PROPOSAL, same, CONS_SIGNER_REGRESSION},
        {5, 1, CONS_SIGN_PRECOMMIT, same, CONS_SIGNER_REGRESSION},
        {4, 9, CONS_SIGN_PRECOMMIT, same, CONS_SIGNER_REGRESSION},
        {6, 0, 0, same, CONS_SIGNER_REGRESSION},
        {6, 0, 4, same, CONS_SIGNER_REGRESSION},
        {0, 0, CONS_SIGN_PROPOSAL, same, CONS_SIGNER_REGRESSION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err.msg[0] = 0;
        int v = cons_signer_allow(&st, cases[i].h, cases[i].r, cases[i].step, cases[i].d, &err);
        if (v != cases[i].verdict)
            fail_msg("case %zu: verdict %d, want %d", i, v, cases[i].verdict);
        if (v >= CONS_SIGNER_CONFLICT) assert_true(err.msg[0] != 0);
    }
    /* Nothing signed yet: anything valid is fresh. */
    cons_signer_state zero = {0};
    assert_int_equal(cons_signer_allow(&zero, 1, 0, CONS_SIGN_PROPOSAL, same, &err),
                     CONS_SIGNER_FRESH);
}

static void test_open_create_and_refuse_damage(void **state)
{
    (void)state;
    cons_signer *s = NULL;
    util_err err = {0};
    assert_int_equal(cons_signer_open(NULL, g_state, 0, &s, &err), UTIL_ENOTFOUND);
    s = open_signer(NULL, CONS_SIGNER_CREATE);
    assert_int_equal(cons_signer_get(s)->height, 0);
    cons_signer_close(s);
    struct stat sb;
    assert_int_equal(stat(g_state, &sb), 0);
    assert_int_equal(sb.st_size, CONS_SIGNER_FILE_SIZE);
    assert_int_equal(sb.st_mode & 0777, 0600);
    s = open_signer(NULL, 0);
    cons_signer_close(s);

    /* A damaged state is never replaced by a fresh one. */
    FILE *f = fopen(g_state, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 30, SEEK_SET), 0);
    assert_int_equal(fputc('!', f), '!');
    assert_int_equal(fclose(f), 0);
    assert_int_equal(cons_signer_open(NULL, g_state, CONS_SIGNER_CREATE, &s, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, g_state));
    assert_non_null(strstr(err.msg, "checksum"));
    assert_int_equal(truncate(g_state, 50), 0);
    assert_int_equal(cons_signer_open(NULL, g_state, CONS_SIGNER_CREATE, &s, &err), UTIL_EINVAL);
    assert_int_equal(stat(g_state, &sb), 0);
    assert_int_equal(sb.st_size, 50);
}

static void test_sign_and_restart(void **state)
{
    (void)state;
    key k;
    key_init(&k);
    cons_signer *s = open_signer(NULL, CONS_SIGNER_CREATE);
    uint8_t dx[32], dy[32], sig1[64], sig2[64];
    digest_of(dx, "prevote for X");
    digest_of(dy, "prevote for Y");
    util_err err = {0};
    assert_int_equal(cons_signer_sign(s, 3, 0, CONS_SIGN_PREVOTE, dx, sign_with, &k, sig1, &err),
                     0);
    assert_int_equal(chain_verify(sig1, dx, k.kp.pubkey), 1);
    assert_int_equal(k.calls, 1);
    /* The same vote again: the stored signature, nothing newly signed. */
    assert_int_equal(cons_signer_sign(s, 3, 0, CONS_SIGN_PREVOTE, dx, sign_with, &k, sig2, &err),
                     0);
    assert_memory_equal(sig1, sig2, 64);
    assert_int_equal(k.calls, 1);
    /* A different vote for the same height, round and step: refused. */
    memset(sig2, 0xee, 64);
    assert_int_equal(cons_signer_sign(s, 3, 0, CONS_SIGN_PREVOTE, dy, sign_with, &k, sig2, &err),
                     UTIL_ESTATE);
    assert_non_null(strstr(err.msg, "conflict"));
    assert_int_equal(k.calls, 1);
    assert_int_equal(sig2[0], 0xee);
    cons_signer_close(s);

    /* After a restart the file says the same. */
    s = open_signer(NULL, 0);
    const cons_signer_state *st = cons_signer_get(s);
    assert_int_equal(st->height, 3);
    assert_int_equal(st->step, CONS_SIGN_PREVOTE);
    assert_memory_equal(st->sig, sig1, 64);
    assert_int_equal(cons_signer_sign(s, 3, 0, CONS_SIGN_PREVOTE, dy, sign_with, &k, sig2, &err),
                     UTIL_ESTATE);
    assert_int_equal(cons_signer_sign(s, 3, 0, CONS_SIGN_PREVOTE, dx, sign_with, &k, sig2, &err),
                     0);
    assert_memory_equal(sig1, sig2, 64);
    assert_int_equal(cons_signer_sign(s, 3, 0, CONS_SIGN_PRECOMMIT, dy, sign_with, &k, sig2, &err),
                     0);
    assert_int_equal(cons_signer_sign(s, 3, 0, CONS_SIGN_PREVOTE, dx, sign_with, &k, sig2, &err),
                     UTIL_ESTATE);
    assert_non_null(strstr(err.msg, "regression"));
    assert_int_equal(cons_signer_sign(s, 2, 5, CONS_SIGN_PRECOMMIT, dx, sign_with, &k, sig2, &err),
                     UTIL_ESTATE);
    assert_int_equal(k.calls, 2);
    cons_signer_close(s);
}

static void test_state_write_failure_refuses(void **state)
{
    (void)state;
    key k;
    key_init(&k);
    cons_fault c;
    cons_fault_init(&c);
    cons_signer *s = open_signer(&c.env, CONS_SIGNER_CREATE);
    uint8_t d1[32], d2[32], sig[64];
    digest_of(d1, "proposal h1");
    digest_of(d2, "prevote h1");
    util_err err = {0};
    assert_int_equal(cons_signer_sign(s, 1, 0, CONS_SIGN_PROPOSAL, d1, sign_with, &k, sig, &err),
                     0);
    cons_signer_state before = *cons_signer_get(s);
    size_t n0;
    struct stat sb;
    assert_int_equal(stat(g_state, &sb), 0);
    n0 = (size_t)sb.st_size;

    c.fail_replace = 1; /* the disk is full */
    uint8_t out[64];
    memset(out, 0xaa, sizeof out);
    assert_int_equal(cons_signer_sign(s, 1, 0, CONS_SIGN_PREVOTE, d2, sign_with, &k, out, &err),
                     UTIL_EIO);
    assert_non_null(strstr(err.msg, "refusing to sign prevote at height 1 round 0"));
    assert_non_null(strstr(err.msg, "No space left on device"));
    /* Nothing handed out, nothing advanced. */
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0xaa);
    assert_state_eq(cons_signer_get(s), &before);
    cons_signer_close(s);
    s = open_signer(NULL, 0);
    assert_state_eq(cons_signer_get(s), &before);
    assert_int_equal(stat(g_state, &sb), 0);
    assert_int_equal((size_t)sb.st_size, n0);
    cons_signer_close(s);

    /* Space again: the same vote is signed, once. */
    c.fail_replace = 0;
    s = open_signer(&c.env, 0);
    assert_int_equal(cons_signer_sign(s, 1, 0, CONS_SIGN_PREVOTE, d2, sign_with, &k, out, &err), 0);
    assert_int_equal(chain_verify(out, d2, k.kp.pubkey), 1);
    assert_int_equal(cons_signer_get(s)->step, CONS_SIGN_PREVOTE);
    cons_signer_close(s);
}

/* What the node does for each vote of its own: record it (synced), then
 * sign through the signer state; only then may it be sent. The record is
 * height, round, step and digest. */
static int cast(cons_wal *w, cons_signer *s, key *k, uint64_t h, uint32_t r, uint8_t step,
                const uint8_t d[32], uint8_t sig[64], util_err *err)
{
    uint8_t rec[8 + 4 + 1 + 32];
    util_put_u64le(rec, h);
    util_put_u32le(rec + 8, r);
    rec[12] = step;
    memcpy(rec + 13, d, 32);
    int rc = cons_wal_append(w, CONS_WAL_OWN, rec, sizeof rec, 1, err);
    if (rc) return rc;
    return cons_signer_sign(s, h, r, step, d, sign_with, k, sig, err);
}

static void test_wal_failure_signs_nothing(void **state)
{
    (void)state;
    key k;
    key_init(&k);
    cons_fault c;
    cons_fault_init(&c);
    cons_wal *w = NULL;
    util_err err = {0};
    assert_int_equal(cons_wal_open(&c.env, g_dir, &w, &err), 0);
    cons_signer *s = open_signer(&c.env, CONS_SIGNER_CREATE);
    long replaces = c.replaces;
    uint8_t d[32], sig[64];
    digest_of(d, "prevote h4");
    c.appends_ok = c.appends; /* disk full */
    assert_int_equal(cast(w, s, &k, 4, 0, CONS_SIGN_PREVOTE, d, sig, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "No space left on device"));
    /* Restarted, space again, but now fsync fails. */
    cons_wal_close(w);
    c.appends_ok = -1;
    assert_int_equal(cons_wal_open(&c.env, g_dir, &w, &err), 0);
    c.fail_sync = 1;
    assert_int_equal(cast(w, s, &k, 4, 0, CONS_SIGN_PREVOTE, d, sig, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "cannot sync"));
    assert_int_equal(k.calls, 0);
    assert_int_equal(c.replaces, replaces);
    assert_int_equal(cons_signer_get(s)->height, 0);
    cons_wal_close(w);
    cons_signer_close(s);
}

typedef struct own {
    int n;
    uint64_t h;
    uint32_t r;
    uint8_t step;
    uint8_t d[32];
} own;

static int find_own(void *ctx, uint8_t type, const uint8_t *data, size_t n, util_err *err)
{
    (void)err;
    own *o = ctx;
    if (type != CONS_WAL_OWN || n != 45) return 0;
    o->n++;
    o->h = util_get_u64le(data);
    o->r = util_get_u32le(data + 8);
    o->step = data[12];
    memcpy(o->d, data + 13, 32);
    return 0;
}

/* A child records and signs a prevote, then dies before sending it (after
 * the signer state was saved, or before): the restarted validator replays
 * its WAL, finds its own vote, and can only ever sign that one. */
static void crash_between_wal_and_send(int signed_before_crash)
{
    uint8_t dx[32], dy[32];
    digest_of(dx, "prevote for block X");
    digest_of(dy, "prevote for block Y");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        key k;
        if (chain_keypair_dev(&k.kp, 0) != 0) _exit(10);
        k.calls = 0;
        cons_wal *w = NULL;
        cons_signer *s = NULL;
        util_err err = {0};
        if (cons_wal_open(NULL, g_dir, &w, &err) ||
            cons_signer_open(NULL, g_state, CONS_SIGNER_CREATE, &s, &err))
            _exit(11);
        uint8_t rec[45] = {0}, sig[64];
        util_put_u64le(rec, 9);
        rec[12] = CONS_SIGN_PREVOTE;
        memcpy(rec + 13, dx, 32);
        if (cons_wal_append(w, CONS_WAL_OWN, rec, sizeof rec, 1, &err)) _exit(12);
        if (signed_before_crash &&
            cons_signer_sign(s, 9, 0, CONS_SIGN_PREVOTE, dx, sign_with, &k, sig, &err))
            _exit(13);
        _exit(0); /* killed before the vote went out; nothing closed or flushed */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    key k;
    key_init(&k);
    util_err err = {0};
    cons_wal *w = NULL;
    assert_int_equal(cons_wal_open(NULL, g_dir, &w, &err), 0);
    cons_signer *s = open_signer(NULL, 0);
    own o = {0};
    assert_int_equal(cons_wal_replay(w, find_own, &o, &err), 0);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.h, 9);
    assert_memory_equal(o.d, dx, 32);
    uint8_t sig[64], sig2[64];
    /* The engine, restarted, may want another block (say a new proposal
     * arrived): refused if the old vote was signed, since it may have gone
     * out. */
    int rc = cons_signer_sign(s, 9, 0, CONS_SIGN_PREVOTE, dy, sign_with, &k, sig, &err);
    if (signed_before_crash) {
        assert_int_equal(rc, UTIL_ESTATE);
        assert_int_equal(k.calls, 0);
        /* Replaying its own vote gives the signature already made. */
        assert_int_equal(
            cons_signer_sign(s, 9, 0, CONS_SIGN_PREVOTE, o.d, sign_with, &k, sig2, &err), 0);
        assert_int_equal(k.calls, 0);
        assert_memory_equal(sig2, cons_signer_get(s)->sig, 64);
        assert_int_equal(chain_verify(sig2, dx, k.kp.pubkey), 1);
    } else {
        /* Nothing was signed, so nothing was sent: one vote, whichever,
         * and never a second. */
        assert_int_equal(rc, 0);
        assert_int_equal(
            cons_signer_sign(s, 9, 0, CONS_SIGN_PREVOTE, dx, sign_with, &k, sig2, &err),
            UTIL_ESTATE);
        assert_int_equal(k.calls, 1);
    }
    cons_wal_close(w);
    cons_signer_close(s);
    unlink(g_state);
    unlink(g_wal_cur);
    unlink(g_wal_prev);
}

static void test_crash_between_wal_and_send(void **state)
{
    (void)state;
    crash_between_wal_and_send(1);
    crash_between_wal_and_send(0);
}

static void test_encode_decode(void **state)
{
    (void)state;
    cons_signer_state st = {.height = 77, .round = 3, .step = CONS_SIGN_PRECOMMIT}, back;
    memset(st.digest, 1, 32);
    memset(st.sig, 2, 64);
    uint8_t buf[CONS_SIGNER_FILE_SIZE];
    cons_signer_encode(&st, buf);
    util_err err = {0};
    assert_int_equal(cons_signer_decode(buf, sizeof buf, &back, &err), 0);
    assert_state_eq(&st, &back);
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] ^= 1;
        assert_int_equal(cons_signer_decode(buf, sizeof buf, &back, &err), UTIL_EINVAL);
        buf[i] ^= 1;
    }
    assert_int_equal(cons_signer_decode(buf, sizeof buf - 1, &back, &err), UTIL_EINVAL);
}

/* A validator over the in-memory env, killed (util_memfs_crash: synced
 * bytes stay, a random prefix of the rest) or out of disk at random points,
 * and restarted from its WAL and signer state each time. After a restart
 * it redoes its last recorded vote, with the same digest or, to stand for
 * an engine that rebuilt a different block, another one. Property: at no
 * height/round/step do two signatures that went out cover different
 * digests, and a re-sent one is the very same signature. */
enum { H = 6, R = 2, STEPS = 3, SLOTS = (H + 1) * R * (STEPS + 1) };

typedef struct sent {
    int any;
    uint8_t d[32], sig[64];
} sent;

typedef struct last_own {
    int any;
    uint64_t h;
    uint32_t r;
    uint8_t step;
} last_own;

static int last_own_fn(void *ctx, uint8_t type, const uint8_t *data, size_t n, util_err *err)
{
    (void)err;
    last_own *o = ctx;
    if (type != CONS_WAL_OWN || n != 45) return 0;
    o->any = 1;
    o->h = util_get_u64le(data);
    o->r = util_get_u32le(data + 8);
    o->step = data[12];
    return 0;
}

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_crash_anywhere_never_equivocates(void **state)
{
    (void)state;
    uint64_t seed = ol_test_seed("test_crash_anywhere_never_equivocates", 0xfeedbeef);
    long total_sent = 0, total_crashes = 0, total_refused = 0;
    for (int run = 0; run < 100; run++) {
        uint64_t x = seed + (uint64_t)run * UINT64_C(0x9e3779b97f4a7c15);
        util_memfs *m = util_memfs_new(NULL, x);
        assert_non_null(m);
        const util_env *env = util_memfs_env(m);
        key k;
        key_init(&k);
        sent table[SLOTS];
        memset(table, 0, sizeof table);
        util_err err = {0};
        cons_wal *w = NULL;
        cons_signer *s = NULL;
        uint64_t h = 1;
        uint32_t r = 0;
        uint8_t step = CONS_SIGN_PROPOSAL;
        int restarted = 1;
        while (h <= H) {
            if (!w) {
                /* (Re)start: the WAL says where we were. */
                if (cons_wal_open(env, "wal", &w, &err) != 0) fail_msg("open: %s", err.msg);
                if (cons_signer_open(env, "signer", CONS_SIGNER_CREATE, &s, &err) != 0)
                    fail_msg("signer: %s", err.msg);
                cons_wal_info info;
                cons_wal_get_info(w, &info);
                last_own o = {0};
                assert_int_equal(cons_wal_replay(w, last_own_fn, &o, &err), 0);
                if (o.any) {
                    h = o.h;
                    r = o.r;
                    step = o.step;
                } else {
                    h = info.end_height + 1;
                    r = 0;
                    step = CONS_SIGN_PROPOSAL;
                }
                restarted = 1;
                if (h > H) break;
            }
            /* The block voted for: fixed per height and round, unless a
             * restart rebuilt it differently. */
            uint8_t d[32] = {0};
            util_put_u64le(d, h);
            util_put_u32le(d + 8, r);
            d[12] = step;
            d[13] = restarted && (rnd(&x) & 1);
            restarted = 0;
            int crash_at = (int)(rnd(&x) % 8); /* 0..2: crash there; else none */
            int full = rnd(&x) % 16 == 0;
            util_memfs_set_full(m, full);
            uint8_t rec[45], sig[64];
            util_put_u64le(rec, h);
            util_put_u32le(rec + 8, r);
            rec[12] = step;
            memcpy(rec + 13, d, 32);
            int rc =
                crash_at == 0 ? -1 : cons_wal_append(w, CONS_WAL_OWN, rec, sizeof rec, 1, &err);
            if (rc == 0 && crash_at != 1)
                rc = cons_signer_sign(s, h, r, step, d, sign_with, &k, sig, &err);
            else if (rc == 0)
                rc = -1;
            util_memfs_set_full(m, 0);
            if (rc == 0 && crash_at != 2) {
                /* Sent. */
                sent *t = &table[(h * R + r) * (STEPS + 1) + step];
                if (t->any && memcmp(t->d, d, 32) != 0)
                    fail_msg("run %d: equivocation at height %llu round %u step %u", run,
                             (unsigned long long)h, (unsigned)r, (unsigned)step);
                if (t->any) assert_memory_equal(t->sig, sig, 64);
                t->any = 1;
                memcpy(t->d, d, 32);
                memcpy(t->sig, sig, 64);
                total_sent++;
            } else if (rc == UTIL_ESTATE) {
                total_refused++; /* this step is not voted; move on */
            } else {
                /* Crashed, or the disk filled and the node stopped. */
                total_crashes++;
                util_memfs_crash(m);
                cons_wal_close(w);
                cons_signer_close(s);
                w = NULL;
                s = NULL;
                continue;
            }
            if (step < STEPS) {
                step++;
            } else if (r + 1 < R && (rnd(&x) & 1)) {
                r++;
                step = CONS_SIGN_PROPOSAL;
            } else {
                if (cons_wal_end_height(w, h, &err) != 0) fail_msg("end: %s", err.msg);
                h++;
                r = 0;
                step = CONS_SIGN_PROPOSAL;
            }
        }
        cons_wal_close(w);
        cons_signer_close(s);
        util_memfs_free(m);
    }
    printf("%ld votes sent, %ld crashes or full disks, %ld conflicting votes refused\n", total_sent,
           total_crashes, total_refused);
    assert_true(total_sent > 0 && total_crashes > 0 && total_refused > 0);
}

static int fake_sign(void *ctx, const uint8_t digest[32], uint8_t sig[64], util_err *err)
{
    (void)ctx;
    (void)err;
    memcpy(sig, digest, 32);
    memcpy(sig + 32, digest, 32);
    return 0;
}

/* Not a timing assertion: prints what recording the signer state costs on
 * this disk (write, fsync, rename, directory fsync), without the signing. */
static void test_report_state_write_latency(void **state)
{
    (void)state;
    cons_signer *s = open_signer(NULL, CONS_SIGNER_CREATE);
    enum { N = 100 };
    uint8_t d[32] = {0}, sig[64];
    util_err err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint32_t i = 0; i < N; i++) {
        util_put_u32le(d, i);
        assert_int_equal(
            cons_signer_sign(s, 1 + i / 3, 0, (uint8_t)(1 + i % 3), d, fake_sign, NULL, sig, &err),
            0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long us =
        ((long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec)) / 1000 / N;
    printf("signer state recorded (write, fsync, rename, dir fsync): %lld us per signature (%d)\n",
           us, N);
    cons_signer_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allow),
        cmocka_unit_test(test_encode_decode),
        cmocka_unit_test_setup_teardown(test_open_create_and_refuse_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_write_failure_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_failure_signs_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_between_wal_and_send, setup, teardown),
        cmocka_unit_test(test_crash_anywhere_never_equivocates),
        cmocka_unit_test_setup_teardown(test_report_state_write_latency, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
