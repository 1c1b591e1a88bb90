/* consensus/wal: records come back in order after a restart, heights
 * rotate, a torn tail is cut at every byte offset of the last record, damage
 * before synced data is refused naming the file and offset, and a failed
 * write, sync or rotation is reported and latched. Real files in a
 * temporary directory; failures come from tests/unit/consensus/cons_fault_env.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "consensus/wal.h"
#include "tests/seed.h"
#include "tests/unit/consensus/cons_fault_env.h"
#include "util/bytes.h"
#include "util/env_mem.h"

#define REC_HDR 13u
#define FILE_HDR 16u

typedef struct rec {
    uint8_t type;
    size_t n;
    uint8_t data[512];
} rec;

typedef struct got {
    rec r[64];
    size_t n;
} got;

static int collect(void *ctx, uint8_t type, const uint8_t *d, size_t n, util_err *err)
{
    got *g = ctx;
    if (g->n == 64 || n > sizeof g->r[0].data)
        return util_err_set(err, UTIL_ELIMIT, "too many records for the test");
    g->r[g->n].type = type;
    g->r[g->n].n = n;
    memcpy(g->r[g->n].data, d, n);
    g->n++;
    return 0;
}

static char g_dir[64];
static char g_cur[128], g_prev[128];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/test_wal.XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    snprintf(g_cur, sizeof g_cur, "%s/%s", g_dir, CONS_WAL_FILE);
    snprintf(g_prev, sizeof g_prev, "%s/%s", g_dir, CONS_WAL_PREV_FILE);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_cur);
    unlink(g_prev);
    return rmdir(g_dir);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static cons_wal *open_ok(const util_env *env)
{
    cons_wal *w = NULL;
    util_err err = {0};
    int rc = cons_wal_open(env, g_dir, &w, &err);
    if (rc) fail_msg("open: %s", err.msg);
    return w;
}

static void append_ok(cons_wal *w, uint8_t type, const char *s, int sync)
{
    util_err err = {0};
    int rc = cons_wal_append(w, type, s, strlen(s), sync, &err);
    if (rc) fail_msg("append: %s", err.msg);
}

static got replay_all(cons_wal *w)
{
    got g = {0};
    util_err err = {0};
    int rc = cons_wal_replay(w, collect, &g, &err);
    if (rc) fail_msg("replay: %s", err.msg);
    return g;
}

static void assert_rec(const got *g, size_t i, uint8_t type, const char *s)
{
    assert_true(i < g->n);
    assert_int_equal(g->r[i].type, type);
    assert_int_equal(g->r[i].n, strlen(s));
    assert_memory_equal(g->r[i].data, s, strlen(s));
}

static void test_roundtrip(void **state)
{
    (void)state;
    cons_wal *w = open_ok(NULL);
    cons_wal_info info;
    cons_wal_get_info(w, &info);
    assert_int_equal(info.has_end_height, 0);
    assert_int_equal(info.replay_records, 0);
    append_ok(w, CONS_WAL_MSG, "a vote", 0);
    append_ok(w, CONS_WAL_OWN, "our prevote", 1);
    append_ok(w, CONS_WAL_TIMEOUT, "", 0);
    util_err err = {0};
    assert_int_equal(cons_wal_append(w, CONS_WAL_END_HEIGHT, "12345678", 8, 1, &err), UTIL_EINVAL);
    assert_int_equal(cons_wal_append(w, 0, "x", 1, 1, &err), UTIL_EINVAL);
    assert_int_equal(
        cons_wal_append(w, CONS_WAL_MSG, "x", (size_t)CONS_WAL_MAX_RECORD + 1, 1, &err),
        UTIL_ELIMIT);
    cons_wal_close(w);

    w = open_ok(NULL);
    cons_wal_get_info(w, &info);
    assert_int_equal(info.replay_records, 3);
    assert_int_equal(info.repaired_bytes, 0);
    got g = replay_all(w);
    assert_int_equal(g.n, 3);
    assert_rec(&g, 0, CONS_WAL_MSG, "a vote");
    assert_rec(&g, 1, CONS_WAL_OWN, "our prevote");
    assert_rec(&g, 2, CONS_WAL_TIMEOUT, "");
    cons_wal_close(w);
}

static int count_files(void)
{
    DIR *d = opendir(g_dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void test_rotation(void **state)
{
    (void)state;
    util_err err = {0};
    cons_wal *w = open_ok(NULL);
    append_ok(w, CONS_WAL_MSG, "h1", 0);
    assert_int_equal(cons_wal_end_height(w, 1, &err), 0);
    append_ok(w, CONS_WAL_MSG, "h2a", 0);
    append_ok(w, CONS_WAL_OWN, "h2b", 1);
    cons_wal_close(w);

    w = open_ok(NULL);
    cons_wal_info info;
    cons_wal_get_info(w, &info);
    assert_int_equal(info.has_end_height, 1);
    assert_int_equal(info.end_height, 1);
    assert_int_equal(info.replay_records, 2);
    got g = replay_all(w);
    assert_int_equal(g.n, 2);
    assert_rec(&g, 0, CONS_WAL_MSG, "h2a");
    assert_rec(&g, 1, CONS_WAL_OWN, "h2b");
    assert_int_equal(cons_wal_end_height(w, 1, &err), UTIL_ESTATE);
    assert_int_equal(cons_wal_end_height(w, 2, &err), 0);
    append_ok(w, CONS_WAL_MSG, "h3", 1);
    cons_wal_close(w);

    /* Only the current and the previous height are kept. */
    assert_int_equal(count_files(), 2);
    w = open_ok(NULL);
    cons_wal_get_info(w, &info);
    assert_int_equal(info.end_height, 2);
    g = replay_all(w);
    assert_int_equal(g.n, 1);
    assert_rec(&g, 0, CONS_WAL_MSG, "h3");
    cons_wal_close(w);
    size_t n;
    uint8_t *prev = slurp(g_prev, &n);
    assert_non_null(memmem(prev, n, "h2b", 3));
    assert_null(memmem(prev, n, "h1", 2));
    free(prev);
}

/* Writes records A, B (synced) and C (last_sync), returns C's offset. */
static size_t three_records(int last_sync)
{
    cons_wal *w = open_ok(NULL);
    append_ok(w, CONS_WAL_MSG, "record A", 1);
    append_ok(w, CONS_WAL_OWN, "record B", 1);
    append_ok(w, CONS_WAL_MSG, "record C, the last one, forty bytes long", last_sync);
    cons_wal_close(w);
    return FILE_HDR + 2 * (REC_HDR + 8);
}

static void test_torn_tail_every_offset(void **state)
{
    (void)state;
    for (int last_sync = 0; last_sync <= 1; last_sync++) {
        size_t offc = three_records(last_sync);
        size_t n;
        uint8_t *full = slurp(g_cur, &n);
        assert_int_equal(n, offc + REC_HDR + 40);
        for (size_t cut = offc; cut < n; cut++) {
            spit(g_cur, full, cut);
            cons_wal *w = open_ok(NULL);
            cons_wal_info info;
            cons_wal_get_info(w, &info);
            assert_int_equal(info.repaired_bytes, cut - offc);
            if (cut > offc) assert_int_equal(info.repaired_at, offc);
            assert_int_equal(file_size(g_cur), (long)offc);
            got g = replay_all(w);
            assert_int_equal(g.n, 2);
            assert_rec(&g, 0, CONS_WAL_MSG, "record A");
            assert_rec(&g, 1, CONS_WAL_OWN, "record B");
            /* The repaired WAL takes new records where the torn one was. */
            append_ok(w, CONS_WAL_TIMEOUT, "D", 1);
            cons_wal_close(w);
            w = open_ok(NULL);
            g = replay_all(w);
            assert_int_equal(g.n, 3);
            assert_rec(&g, 2, CONS_WAL_TIMEOUT, "D");
            cons_wal_close(w);
        }
        free(full);
        unlink(g_cur);
    }
}

static void test_garbage_tail(void **state)
{
    (void)state;
    uint64_t rng = ol_test_seed("test_garbage_tail", 0x5eedf00d);
    size_t offc = three_records(1);
    size_t n;
    uint8_t *full = slurp(g_cur, &n);
    uint8_t *buf = malloc(n + 4096);
    assert_non_null(buf);
    for (int round = 0; round < 50; round++) {
        memcpy(buf, full, n);
        size_t extra = 1 + (size_t)(rng % 4000);
        for (size_t i = 0; i < extra; i++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            /* Half the rounds: zeros, as a file extended by a crash. */
            buf[n + i] = (uint8_t)(round & 1 ? 0 : rng);
        }
        spit(g_cur, buf, n + extra);
        cons_wal *w = open_ok(NULL);
        cons_wal_info info;
        cons_wal_get_info(w, &info);
        assert_int_equal(info.repaired_bytes, extra);
        assert_int_equal(info.repaired_at, n);
        got g = replay_all(w);
        assert_int_equal(g.n, 3);
        cons_wal_close(w);
    }
    (void)offc;
    free(buf);
    free(full);
}

/* Flips one bit of record B (offset offb + at) with C after it synced or
 * not: refused, file untouched, when C was synced; cut at B otherwise. */
static void corrupt_middle(int c_synced, size_t at)
{
    cons_wal *w = open_ok(NULL);
    append_ok(w, CONS_WAL_MSG, "record A", 1);
    append_ok(w, CONS_WAL_MSG, "record B", 0);
    append_ok(w, CONS_WAL_OWN, "record C", c_synced);
    cons_wal_close(w);
    size_t offb = FILE_HDR + REC_HDR + 8;
    size_t n;
    uint8_t *buf = slurp(g_cur, &n);
    buf[offb + at] ^= 0x10;
    spit(g_cur, buf, n);
    util_err err = {0};
    w = NULL;
    int rc = cons_wal_open(NULL, g_dir, &w, &err);
    if (c_synced) {
        assert_int_equal(rc, UTIL_EIO);
        assert_null(w);
        char want[160];
        snprintf(want, sizeof want, "%s: corrupt record at offset %zu before synced data", g_cur,
                 offb);
        if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
        size_t n2;
        uint8_t *after = slurp(g_cur, &n2);
        assert_int_equal(n2, n);
        assert_memory_equal(after, buf, n);
        free(after);
    } else {
        assert_int_equal(rc, 0);
        cons_wal_info info;
        cons_wal_get_info(w, &info);
        assert_int_equal(info.repaired_at, offb);
        got g = replay_all(w);
        assert_int_equal(g.n, 1);
        assert_rec(&g, 0, CONS_WAL_MSG, "record A");
        cons_wal_close(w);
    }
    free(buf);
    unlink(g_cur);
}

static void test_corrupt_middle(void **state)
{
    (void)state;
    /* Every byte of B: header checksums, length, type, payload. */
    for (size_t at = 0; at < REC_HDR + 8; at++) {
        corrupt_middle(1, at);
        corrupt_middle(0, at);
    }
}

/* A record's bytes copied into a later payload (payloads come from peers)
 * are not a synced record: the header checksum binds the file's salt and
 * the offset. So cutting that later record is still a torn tail. */
static void test_embedded_record_is_not_synced_data(void **state)
{
    (void)state;
    cons_wal *w = open_ok(NULL);
    append_ok(w, CONS_WAL_OWN, "record A", 1);
    cons_wal_close(w);
    size_t n;
    uint8_t *a = slurp(g_cur, &n);
    uint8_t payload[200];
    memset(payload, 'x', sizeof payload);
    memcpy(payload + 10, a + FILE_HDR, REC_HDR + 8);
    w = open_ok(NULL);
    util_err err = {0};
    assert_int_equal(cons_wal_append(w, CONS_WAL_MSG, payload, sizeof payload, 0, &err), 0);
    cons_wal_close(w);
    free(a);
    uint8_t *full = slurp(g_cur, &n);
    spit(g_cur, full, n - 50); /* the copy is whole, its record is torn */
    w = open_ok(NULL);
    got g = replay_all(w);
    assert_int_equal(g.n, 1);
    assert_rec(&g, 0, CONS_WAL_OWN, "record A");
    cons_wal_close(w);
    free(full);
}

static void test_not_a_wal(void **state)
{
    (void)state;
    const char *junk = "this is not a write-ahead log at all";
    spit(g_cur, (const uint8_t *)junk, strlen(junk));
    cons_wal *w = NULL;
    util_err err = {0};
    assert_int_equal(cons_wal_open(NULL, g_dir, &w, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "is not a consensus WAL"));
    assert_int_equal(file_size(g_cur), (long)strlen(junk));
    uint8_t v2[16] = {'O', 'L', 'C', 'W', 'A', 'L', 0, 2};
    spit(g_cur, v2, sizeof v2);
    assert_int_equal(cons_wal_open(NULL, g_dir, &w, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "format version 2"));
    /* A creation torn inside the header is a new, empty WAL. */
    spit(g_cur, v2, 5);
    w = open_ok(NULL);
    assert_int_equal(file_size(g_cur), FILE_HDR);
    got g = replay_all(w);
    assert_int_equal(g.n, 0);
    cons_wal_close(w);
}

static void test_append_failure_latches(void **state)
{
    (void)state;
    cons_fault c;
    cons_fault_init(&c);
    cons_wal *w = open_ok(&c.env);
    append_ok(w, CONS_WAL_MSG, "kept", 1);
    c.appends_ok = c.appends; /* the next append runs out of space halfway */
    c.partial = 7;
    util_err err = {0};
    assert_int_equal(cons_wal_append(w, CONS_WAL_OWN, "our vote", 8, 1, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "No space left on device"));
    /* Space is back, but the WAL's end is unknown: refused until restart. */
    c.appends_ok = -1;
    assert_int_equal(cons_wal_append(w, CONS_WAL_OWN, "our vote", 8, 1, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "unusable after an earlier failure"));
    assert_non_null(strstr(err.msg, "No space left on device"));
    assert_int_equal(cons_wal_end_height(w, 1, &err), UTIL_EIO);
    cons_wal_close(w);
    /* The restart cuts the partial record. */
    w = open_ok(NULL);
    cons_wal_info info;
    cons_wal_get_info(w, &info);
    assert_int_equal(info.repaired_bytes, 7);
    got g = replay_all(w);
    assert_int_equal(g.n, 1);
    assert_rec(&g, 0, CONS_WAL_MSG, "kept");
    cons_wal_close(w);
}

static void test_sync_failure_latches(void **state)
{
    (void)state;
    cons_fault c;
    cons_fault_init(&c);
    cons_wal *w = open_ok(&c.env);
    c.fail_sync = 1;
    util_err err = {0};
    assert_int_equal(cons_wal_append(w, CONS_WAL_OWN, "v", 1, 1, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "cannot sync"));
    c.fail_sync = 0;
    assert_int_equal(cons_wal_append(w, CONS_WAL_MSG, "m", 1, 0, &err), UTIL_EIO);
    cons_wal_close(w);
    /* An unsynced append that fails nothing is not refused. */
    long before = c.syncs;
    w = open_ok(&c.env);
    append_ok(w, CONS_WAL_MSG, "m", 0);
    assert_int_equal(c.syncs, before);
    cons_wal_close(w);
}

static void test_rotation_interrupted(void **state)
{
    (void)state;
    cons_fault c;
    cons_fault_init(&c);
    cons_wal *w = open_ok(&c.env);
    append_ok(w, CONS_WAL_MSG, "h7", 1);
    c.fail_rename = 1;
    util_err err = {0};
    assert_int_equal(cons_wal_end_height(w, 7, &err), UTIL_EIO);
    assert_int_equal(cons_wal_append(w, CONS_WAL_MSG, "h8", 2, 1, &err), UTIL_EIO);
    cons_wal_close(w);
    /* The marker was written: open finishes the rotation. */
    w = open_ok(NULL);
    cons_wal_info info;
    cons_wal_get_info(w, &info);
    assert_int_equal(info.has_end_height, 1);
    assert_int_equal(info.end_height, 7);
    assert_int_equal(replay_all(w).n, 0);
    assert_int_equal(file_size(g_cur), FILE_HDR);
    assert_true(file_size(g_prev) > (long)FILE_HDR);
    append_ok(w, CONS_WAL_MSG, "h8", 1);
    cons_wal_close(w);
    /* Renamed but no new file yet: the previous one still says height 7. */
    unlink(g_cur);
    w = open_ok(NULL);
    cons_wal_get_info(w, &info);
    assert_int_equal(info.end_height, 7);
    assert_int_equal(replay_all(w).n, 0);
    cons_wal_close(w);
}

/* Power cuts on the in-memory env (synced bytes stay, a random prefix of
 * the rest): open never refuses, and replays exactly the records appended
 * in this height up to at least the last synced one, in order. */
static void test_power_cut_keeps_synced_prefix(void **state)
{
    (void)state;
    uint64_t x = ol_test_seed("test_power_cut_keeps_synced_prefix", 0xabad1dea);
    long cut = 0;
    for (int run = 0; run < 300; run++) {
        util_memfs *m = util_memfs_new(NULL, x + (uint64_t)run);
        assert_non_null(m);
        const util_env *env = util_memfs_env(m);
        util_err err = {0};
        cons_wal *w = NULL;
        uint64_t height = 1;
        uint32_t appended = 0, synced = 0; /* records of this height */
        for (int step = 0; step < 40; step++) {
            if (!w) assert_int_equal(cons_wal_open(env, "d", &w, &err), 0);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            int what = (int)(x % 10);
            if (what < 7) {
                uint8_t p[64];
                memset(p, (int)appended, sizeof p);
                util_put_u32le(p, appended);
                int sync = what < 2;
                size_t n = 4 + (size_t)(x >> 8) % 60;
                assert_int_equal(cons_wal_append(w, CONS_WAL_MSG, p, n, sync, &err), 0);
                appended++;
                if (sync) synced = appended;
            } else if (what < 8) {
                assert_int_equal(cons_wal_end_height(w, height++, &err), 0);
                appended = synced = 0;
            } else {
                util_memfs_crash(m);
                cons_wal_close(w);
                int rc = cons_wal_open(env, "d", &w, &err);
                if (rc) fail_msg("run %d: %s", run, err.msg);
                cons_wal_info info;
                cons_wal_get_info(w, &info);
                assert_int_equal(info.end_height, height - 1);
                got g = replay_all(w);
                assert_true(g.n >= synced && g.n <= appended);
                for (size_t i = 0; i < g.n; i++)
                    assert_int_equal(util_get_u32le(g.r[i].data), i);
                cut += info.repaired_bytes > 0;
                appended = synced = (uint32_t)g.n;
            }
        }
        cons_wal_close(w);
        util_memfs_free(m);
    }
    assert_true(cut > 0); /* torn tails did happen */
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Not a timing assertion: prints what a synced record costs on this disk
 * (the price of every signature), next to an unsynced one. */
static void test_report_append_latency(void **state)
{
    (void)state;
    cons_wal *w = open_ok(NULL);
    uint8_t vote[200];
    memset(vote, 0x5a, sizeof vote);
    util_err err = {0};
    enum { N = 200 };
    for (int sync = 1; sync >= 0; sync--) {
        double t0 = now_us();
        for (int i = 0; i < N; i++)
            assert_int_equal(cons_wal_append(w, CONS_WAL_OWN, vote, sizeof vote, sync, &err), 0);
        double per = (now_us() - t0) / N;
        printf("wal append of a %zu-byte record%s: %.1f us per record (%d records)\n", sizeof vote,
               sync ? " + fdatasync" : ", no sync", per, N);
    }
    cons_wal_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_embedded_record_is_not_synced_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_failure_latches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_failure_latches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_interrupted, setup, teardown),
        cmocka_unit_test(test_power_cut_keeps_synced_prefix),
        cmocka_unit_test_setup_teardown(test_report_append_latency, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
