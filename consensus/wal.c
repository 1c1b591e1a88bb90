/* The consensus WAL (consensus/wal.h): record framing and checksums, the
 * scan that tells a torn tail from damage, repair at open, replay, and the
 * rotation of the current and previous height's files. */
#include "consensus/wal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/crc32c.h"

/* File header: magic with a version, then a random salt mixed into every
 * record's header checksum, so that a record's bytes are valid only in the
 * file and at the offset they were written to: a peer's message that embeds
 * a well-formed record (payloads come from outside) never passes for one
 * when the scan looks past a torn record. */
static const uint8_t MAGIC[8] = {'O', 'L', 'C', 'W', 'A', 'L', 0, 1};
#define FILE_HDR 16u
/* Record header: hcrc(4) dcrc(4) len(4) type(1). hcrc covers the salt, the
 * record's offset and the other header fields; dcrc covers the payload. */
#define REC_HDR 13u
#define SYNCED 0x80u
#define KIND_MASK 0x7fu

struct cons_wal {
    const util_env *env;
    char *path, *prev_path;
    util_file *f;
    uint8_t salt[8];
    uint64_t size;        /* end of the last valid record */
    uint64_t replay_from; /* offset just after the last end-height marker in cons.wal */
    int has_end;
    uint64_t end_height;
    cons_wal_info info;
    uint8_t *buf; /* reading and writing */
    size_t cap;
    int broken; /* an earlier write failed: refuse everything */
    char broken_why[200];
};

static int kind_valid(uint8_t kind)
{
    return kind >= CONS_WAL_MSG && kind <= CONS_WAL_END_HEIGHT;
}

static uint32_t header_crc(const uint8_t salt[8], uint64_t off, const uint8_t *hdr)
{
    uint8_t o[8];
    util_put_u64le(o, off);
    uint32_t c = util_crc32c(0, salt, 8);
    c = util_crc32c(c, o, 8);
    return util_crc32c(c, hdr + 4, REC_HDR - 4);
}

static int grow(cons_wal *w, size_t n, util_err *err)
{
    if (n <= w->cap) return 0;
    uint8_t *p = realloc(w->buf, n);
    if (!p) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    w->buf = p;
    w->cap = n;
    return 0;
}

static int read_exact(cons_wal *w, util_file *f, const char *path, uint64_t off, void *buf,
                      size_t n, util_err *err)
{
    size_t got = 0;
    int rc = util_env_file_read(w->env, f, off, buf, n, &got, err);
    if (rc) return rc;
    if (got != n)
        return util_err_set(err, UTIL_EIO, "%s: short read at offset %llu", path,
                            (unsigned long long)off);
    return 0;
}

/* Whether a record whose header hdr was read at off, with payload length
 * fitting in size, is whole and intact: reads the payload into w->buf. */
static int record_ok(cons_wal *w, util_file *f, const char *path, uint64_t off, uint64_t size,
                     const uint8_t *hdr, int *ok, util_err *err)
{
    *ok = 0;
    uint32_t len = util_get_u32le(hdr + 8);
    if (len > CONS_WAL_MAX_RECORD || off + REC_HDR + len > size) return 0;
    if (util_get_u32le(hdr) != header_crc(w->salt, off, hdr)) return 0;
    int rc = grow(w, len ? len : 1, err);
    if (rc) return rc;
    rc = read_exact(w, f, path, off + REC_HDR, w->buf, len, err);
    if (rc) return rc;
    *ok = util_get_u32le(hdr + 4) == util_crc32c(0, w->buf, len);
    return 0;
}

/* Looks past a bad record at bad for any intact record that was synced.
 * Every offset is tried: after damage, lengths cannot be trusted. The
 * header checksum makes a false candidate cost one short CRC. */
static int find_synced_after(cons_wal *w, util_file *f, const char *path, uint64_t bad,
                             uint64_t size, uint64_t *found, int *any, util_err *err)
{
    *any = 0;
    enum { CHUNK = 1 << 16 };
    uint8_t *win = malloc(CHUNK + REC_HDR);
    if (!win) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = 0;
    for (uint64_t base = bad + 1; base + REC_HDR <= size && !*any && !rc;) {
        uint64_t want = size - base < CHUNK + REC_HDR ? size - base : CHUNK + REC_HDR;
        size_t got = 0;
        rc = util_env_file_read(w->env, f, base, win, (size_t)want, &got, err);
        if (rc || got < REC_HDR) break;
        size_t last = got - REC_HDR; /* last start position inside this window */
        for (size_t i = 0; i <= last && !*any; i++) {
            const uint8_t *h = win + i;
            uint8_t t = h[12];
            if (!(t & SYNCED) || !kind_valid(t & KIND_MASK)) continue;
            uint64_t off = base + i;
            if (util_get_u32le(h) != header_crc(w->salt, off, h)) continue;
            int ok = 0;
            rc = record_ok(w, f, path, off, size, h, &ok, err);
            if (rc) break;
            if (ok) {
                *any = 1;
                *found = off;
            }
        }
        base += last + 1;
    }
    free(win);
    return rc;
}

typedef struct scan_res {
    uint64_t good_end; /* end of the last intact record */
    int has_end;
    uint64_t end_height;
    uint64_t after_end; /* offset just after the last end marker */
    uint64_t records;   /* intact records from `from` */
    uint8_t last_kind;
} scan_res;

/* Reads the intact records of f from `from`, calling fn (if any) on each,
 * and stops at the end or at the first bad one (res->good_end < size). A
 * checksummed record of an unknown type is an error: a newer version wrote
 * it, or the damage fooled a CRC, and nothing after it can be trusted. */
static int scan(cons_wal *w, util_file *f, const char *path, uint64_t from, uint64_t size,
                cons_wal_replay_fn fn, void *ctx, scan_res *res, util_err *err)
{
    memset(res, 0, sizeof *res);
    uint64_t off = from;
    while (size - off >= REC_HDR) {
        uint8_t hdr[REC_HDR];
        int rc = read_exact(w, f, path, off, hdr, REC_HDR, err);
        if (rc) return rc;
        int ok = 0;
        rc = record_ok(w, f, path, off, size, hdr, &ok, err);
        if (rc) return rc;
        if (!ok) break;
        uint32_t len = util_get_u32le(hdr + 8);
        uint8_t kind = hdr[12] & KIND_MASK;
        if (!kind_valid(kind) || (kind == CONS_WAL_END_HEIGHT && len != 8))
            return util_err_set(err, UTIL_EINVAL,
                                "%s: record of unknown type %u (length %u) at offset %llu", path,
                                (unsigned)kind, (unsigned)len, (unsigned long long)off);
        off += REC_HDR + len;
        if (kind == CONS_WAL_END_HEIGHT) {
            res->has_end = 1;
            res->end_height = util_get_u64le(w->buf);
            res->after_end = off;
        }
        res->records++;
        res->last_kind = kind;
        if (fn) {
            rc = fn(ctx, kind, w->buf, len, err);
            if (rc) return rc;
        }
    }
    res->good_end = off;
    return 0;
}

static int write_header(cons_wal *w, util_err *err)
{
    int rc = util_env_random(w->env, w->salt, sizeof w->salt, err);
    if (rc) return rc;
    uint8_t hdr[FILE_HDR];
    memcpy(hdr, MAGIC, 8);
    memcpy(hdr + 8, w->salt, 8);
    rc = util_env_file_append(w->env, w->f, hdr, sizeof hdr, err);
    if (!rc) rc = util_env_file_sync(w->env, w->f, err);
    if (rc) return rc;
    w->size = FILE_HDR;
    w->replay_from = FILE_HDR;
    return 0;
}

/* Checks the file header of an open file; *fresh when the file holds less
 * than a header that starts like one (a creation torn by a crash, or a new
 * file), which the caller rewrites. */
static int read_header(cons_wal *w, util_file *f, const char *path, uint64_t size, int *fresh,
                       util_err *err)
{
    uint8_t hdr[FILE_HDR];
    size_t n = size < FILE_HDR ? (size_t)size : FILE_HDR;
    int rc = read_exact(w, f, path, 0, hdr, n, err);
    if (rc) return rc;
    size_t m = n < 8 ? n : 8;
    if (memcmp(hdr, MAGIC, m) != 0) {
        if (m == 8 && memcmp(hdr, MAGIC, 6) == 0)
            return util_err_set(err, UTIL_EINVAL, "%s: WAL format version %u, this node reads 1",
                                path, (unsigned)hdr[6] << 8 | hdr[7]);
        return util_err_set(err, UTIL_EINVAL, "%s is not a consensus WAL", path);
    }
    *fresh = n < FILE_HDR;
    if (!*fresh) memcpy(w->salt, hdr + 8, 8);
    return 0;
}

/* Scans one file and applies the recovery rule at its first bad record:
 * cut when no synced record follows (repair), fail otherwise. */
static int check_file(cons_wal *w, util_file *f, const char *path, uint64_t size, int repair,
                      scan_res *res, util_err *err)
{
    int rc = scan(w, f, path, FILE_HDR, size, NULL, NULL, res, err);
    if (rc || res->good_end == size) return rc;
    uint64_t bad = res->good_end, found = 0;
    int any = 0;
    rc = find_synced_after(w, f, path, bad, size, &found, &any, err);
    if (rc) return rc;
    if (any)
        return util_err_set(err, UTIL_EIO,
                            "%s: corrupt record at offset %llu before synced data (a record at "
                            "offset %llu): not a torn tail, refusing to repair",
                            path, (unsigned long long)bad, (unsigned long long)found);
    if (!repair) return 0;
    rc = util_env_file_truncate(w->env, f, bad, err);
    if (rc) return rc;
    w->info.repaired_bytes = size - bad;
    w->info.repaired_at = bad;
    return 0;
}

/* Reads cons.wal.prev, if present, for the last height it ended. Not
 * repaired: it is only read. */
static int load_prev(cons_wal *w, util_err *err)
{
    util_file *f = NULL;
    int rc = util_env_file_open(w->env, w->prev_path, 0, 0600, &f, err);
    if (rc == UTIL_ENOTFOUND) {
        util_err_clear(err);
        return 0;
    }
    if (rc) return rc;
    uint64_t size = 0;
    int fresh = 0;
    scan_res res;
    uint8_t salt[8];
    memcpy(salt, w->salt, 8);
    rc = util_env_file_size(w->env, f, &size, err);
    if (!rc) rc = read_header(w, f, w->prev_path, size, &fresh, err);
    if (!rc && !fresh) rc = check_file(w, f, w->prev_path, size, 0, &res, err);
    if (!rc && !fresh && res.has_end) {
        w->has_end = 1;
        w->end_height = res.end_height;
    }
    memcpy(w->salt, salt, 8);
    util_env_file_close(w->env, f);
    return rc;
}

static int create_current(cons_wal *w, util_err *err)
{
    int rc = util_env_file_open(w->env, w->path, UTIL_FILE_CREATE, 0600, &w->f, err);
    if (rc) return rc;
    uint64_t size = 0;
    rc = util_env_file_size(w->env, w->f, &size, err);
    if (!rc && size) rc = util_env_file_truncate(w->env, w->f, 0, err);
    if (!rc) rc = write_header(w, err);
    return rc;
}

/* cons.wal ends with an end marker: it becomes the previous file, and a new
 * current one starts. A crash anywhere in between leaves either the old
 * cons.wal (rotated again at the next open) or no cons.wal (created). */
static int rotate(cons_wal *w, util_err *err)
{
    util_env_file_close(w->env, w->f);
    w->f = NULL;
    int rc = util_env_file_rename(w->env, w->path, w->prev_path, err);
    if (!rc) rc = create_current(w, err);
    return rc;
}

static int open_current(cons_wal *w, util_err *err)
{
    int rc = util_env_file_open(w->env, w->path, UTIL_FILE_CREATE, 0600, &w->f, err);
    if (rc) return rc;
    uint64_t size = 0;
    int fresh = 0;
    rc = util_env_file_size(w->env, w->f, &size, err);
    if (!rc) rc = read_header(w, w->f, w->path, size, &fresh, err);
    if (rc) return rc;
    if (fresh) {
        if (size) rc = util_env_file_truncate(w->env, w->f, 0, err);
        return rc ? rc : write_header(w, err);
    }
    scan_res res;
    rc = check_file(w, w->f, w->path, size, 1, &res, err);
    if (rc) return rc;
    w->size = res.good_end;
    w->replay_from = FILE_HDR;
    if (res.has_end) {
        w->has_end = 1;
        w->end_height = res.end_height;
        w->replay_from = res.after_end;
        if (res.last_kind == CONS_WAL_END_HEIGHT) return rotate(w, err);
    }
    w->info.replay_records = res.records;
    if (res.has_end) {
        /* Records after the marker only: count them again from there. */
        scan_res tail;
        rc = scan(w, w->f, w->path, w->replay_from, w->size, NULL, NULL, &tail, err);
        if (rc) return rc;
        w->info.replay_records = tail.records;
    }
    return 0;
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

void cons_wal_close(cons_wal *w)
{
    if (!w) return;
    util_env_file_close(w->env, w->f);
    free(w->path);
    free(w->prev_path);
    free(w->buf);
    free(w);
}

int cons_wal_open(const util_env *env, const char *dir, cons_wal **out, util_err *err)
{
    cons_wal *w = calloc(1, sizeof *w);
    if (!w) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    w->env = env;
    w->path = join(dir, CONS_WAL_FILE);
    w->prev_path = join(dir, CONS_WAL_PREV_FILE);
    int rc = w->path && w->prev_path ? 0 : util_err_set(err, UTIL_ENOMEM, "out of memory");
    if (!rc) rc = load_prev(w, err);
    if (!rc) rc = open_current(w, err);
    if (rc) {
        util_err_prefix(err, "consensus WAL: ");
        cons_wal_close(w);
        return rc;
    }
    w->info.has_end_height = w->has_end;
    w->info.end_height = w->end_height;
    *out = w;
    return 0;
}

void cons_wal_get_info(const cons_wal *w, cons_wal_info *out)
{
    *out = w->info;
}

/* Latches the first failure: later calls repeat it instead of writing
 * after a record whose end is unknown. */
static int fail(cons_wal *w, int rc, util_err *err)
{
    if (!w->broken) {
        w->broken = rc ? rc : UTIL_EIO;
        snprintf(w->broken_why, sizeof w->broken_why, "%s",
                 err && err->msg[0] ? err->msg : "write failed");
    }
    util_err_prefix(err, "consensus WAL: ");
    return rc;
}

static int refuse_broken(cons_wal *w, util_err *err)
{
    return util_err_set(err, UTIL_EIO,
                        "consensus WAL %s is unusable after an earlier failure (%s); restart to "
                        "repair it",
                        w->path, w->broken_why);
}

static int append_record(cons_wal *w, uint8_t kind, const void *data, size_t n, int sync,
                         util_err *err)
{
    int rc = grow(w, REC_HDR + n, err);
    if (rc) return rc;
    uint8_t *h = w->buf;
    util_put_u32le(h + 4, util_crc32c(0, data, n));
    util_put_u32le(h + 8, (uint32_t)n);
    h[12] = (uint8_t)(kind | (sync ? SYNCED : 0));
    util_put_u32le(h, header_crc(w->salt, w->size, h));
    if (n) memcpy(h + REC_HDR, data, n);
    rc = util_env_file_append(w->env, w->f, h, REC_HDR + n, err);
    if (!rc && sync) rc = util_env_file_sync(w->env, w->f, err);
    if (rc) return fail(w, rc, err);
    w->size += REC_HDR + n;
    return 0;
}

int cons_wal_append(cons_wal *w, uint8_t type, const void *data, size_t n, int sync, util_err *err)
{
    if (w->broken) return refuse_broken(w, err);
    if (type != CONS_WAL_MSG && type != CONS_WAL_OWN && type != CONS_WAL_TIMEOUT)
        return util_err_set(err, UTIL_EINVAL, "consensus WAL: record type %u cannot be appended",
                            (unsigned)type);
    if (n > CONS_WAL_MAX_RECORD)
        return util_err_set(err, UTIL_ELIMIT, "consensus WAL: record of %zu bytes, at most %u", n,
                            (unsigned)CONS_WAL_MAX_RECORD);
    return append_record(w, type, data, n, sync, err);
}

int cons_wal_end_height(cons_wal *w, uint64_t height, util_err *err)
{
    if (w->broken) return refuse_broken(w, err);
    if (w->has_end && height <= w->end_height)
        return util_err_set(err, UTIL_ESTATE, "consensus WAL: height %llu ended after height %llu",
                            (unsigned long long)height, (unsigned long long)w->end_height);
    uint8_t p[8];
    util_put_u64le(p, height);
    int rc = append_record(w, CONS_WAL_END_HEIGHT, p, sizeof p, 1, err);
    if (rc) return rc;
    w->has_end = 1;
    w->end_height = height;
    rc = rotate(w, err);
    if (rc) return fail(w, rc, err);
    return 0;
}

int cons_wal_replay(cons_wal *w, cons_wal_replay_fn fn, void *ctx, util_err *err)
{
    if (w->broken) return refuse_broken(w, err);
    scan_res res;
    int rc = scan(w, w->f, w->path, w->replay_from, w->size, fn, ctx, &res, err);
    if (!rc && res.good_end != w->size)
        rc = util_err_set(err, UTIL_EIO, "consensus WAL: %s changed under the node at offset %llu",
                          w->path, (unsigned long long)res.good_end);
    return rc;
}
