/* libFuzzer target: arbitrary bytes as the consensus WAL's current file
 * (consensus/wal.h). Open either refuses, saying why and leaving the file
 * as it was, or recovers; a recovered WAL replays what open counted, opens
 * again with nothing left to repair and the same records, and takes a new
 * record. Real files in a temporary directory (tmpfs when there is one),
 * with syncs skipped (through the test env of
 * tests/unit/consensus/cons_fault_env.h) for speed. The
 * seeds are WAL files in the format of docs/consensus_wal.md: records,
 * end-height markers, a torn tail, damage before synced data. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consensus/wal.h"
#include "tests/unit/consensus/cons_fault_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], cur[128], prev[128];
static cons_fault fault;

static void cleanup(void)
{
    unlink(cur);
    unlink(prev);
    rmdir(dir);
}

static int init(void)
{
    if (dir[0]) return 0;
    /* tmpfs where there is one: truncation and renames sync for real. */
    snprintf(dir, sizeof dir, "/dev/shm/fuzz_cons_wal.XXXXXX");
    if (!mkdtemp(dir)) {
        snprintf(dir, sizeof dir, "/tmp/fuzz_cons_wal.XXXXXX");
        if (!mkdtemp(dir)) return -1;
    }
    snprintf(cur, sizeof cur, "%s/%s", dir, CONS_WAL_FILE);
    snprintf(prev, sizeof prev, "%s/%s", dir, CONS_WAL_PREV_FILE);
    cons_fault_init(&fault);
    fault.skip_sync = 1;
    atexit(cleanup);
    return 0;
}

static int count(void *ctx, uint8_t type, const uint8_t *d, size_t n, util_err *err)
{
    (void)d;
    (void)err;
    if (type < CONS_WAL_MSG || type > CONS_WAL_TIMEOUT || n > CONS_WAL_MAX_RECORD) abort();
    ++*(uint64_t *)ctx;
    return 0;
}

static uint8_t *slurp(size_t *n)
{
    FILE *f = fopen(cur, "rb");
    if (!f) abort();
    uint8_t *buf = malloc(1 << 20);
    if (!buf) abort();
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (init() || size > (1 << 20)) return 0;
    unlink(prev);
    FILE *f = fopen(cur, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    if (fclose(f)) abort();

    cons_wal *w = NULL;
    util_err err = {0};
    if (cons_wal_open(&fault.env, dir, &w, &err) != 0) {
        size_t n;
        uint8_t *after = slurp(&n);
        if (w || err.msg[0] == 0 || n != size || (size && memcmp(after, data, size))) abort();
        free(after);
        return 0;
    }
    cons_wal_info info;
    cons_wal_get_info(w, &info);
    uint64_t n1 = 0;
    if (cons_wal_replay(w, count, &n1, &err) != 0 || n1 != info.replay_records) abort();
    if (info.repaired_bytes && info.repaired_at + info.repaired_bytes != size) abort();
    cons_wal_close(w);

    /* Recovery is stable: nothing more to repair, the same records. */
    w = NULL;
    if (cons_wal_open(&fault.env, dir, &w, &err) != 0) abort();
    cons_wal_info again;
    cons_wal_get_info(w, &again);
    uint64_t n2 = 0;
    if (again.repaired_bytes || again.has_end_height != info.has_end_height ||
        again.end_height != info.end_height || cons_wal_replay(w, count, &n2, &err) != 0 ||
        n2 != n1)
        abort();
    /* And it takes a new record. */
    if (cons_wal_append(w, CONS_WAL_OWN, "vote", 4, 1, &err) != 0) abort();
    cons_wal_close(w);
    w = NULL;
    uint64_t n3 = 0;
    if (cons_wal_open(&fault.env, dir, &w, &err) != 0 ||
        cons_wal_replay(w, count, &n3, &err) != 0 || n3 != n1 + 1)
        abort();
    cons_wal_close(w);
    return 0;
}
