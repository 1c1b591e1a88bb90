/* The in-memory file system env (util/env_mem.h): files as growable
 * buffers with a synced length, a seeded generator for torn writes, and
 * POSIX's rule that an unlinked file lives on while a handle holds it. */
#include "util/env_mem.h"

#include <stdlib.h>
#include <string.h>

typedef struct mnode {
    char *path; /* NULL once unlinked (replaced or renamed over) */
    uint8_t *data;
    size_t len, cap, synced;
    unsigned mode;
    int refs; /* open handles */
} mnode;

struct util_file {
    mnode *n;
};

struct util_memfs {
    util_env env;
    const util_env *base;
    mnode **nodes;
    size_t nn, capn;
    uint64_t rng;
    int full;
};

static uint64_t next(util_memfs *m)
{
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    return m->rng;
}

static mnode *find(util_memfs *m, const char *path)
{
    for (size_t i = 0; i < m->nn; i++)
        if (m->nodes[i]->path && strcmp(m->nodes[i]->path, path) == 0) return m->nodes[i];
    return NULL;
}

static void drop(util_memfs *m, mnode *n)
{
    for (size_t i = 0; i < m->nn; i++)
        if (m->nodes[i] == n) {
            m->nodes[i] = m->nodes[--m->nn];
            break;
        }
    free(n->path);
    free(n->data);
    free(n);
}

/* Unlinks n: freed now if no handle holds it, else at the last close. */
static void unlink_node(util_memfs *m, mnode *n)
{
    free(n->path);
    n->path = NULL;
    if (n->refs == 0) drop(m, n);
}

static int full_err(const char *path, util_err *err)
{
    return util_err_set(err, UTIL_EIO, "cannot write %s: No space left on device", path);
}

static int put(mnode *n, const void *data, size_t len, util_err *err)
{
    if (len > n->cap - n->len) {
        size_t cap = n->cap ? n->cap : 256;
        while (cap - n->len < len)
            cap *= 2;
        uint8_t *p = realloc(n->data, cap);
        if (!p) return util_err_set(err, UTIL_ENOMEM, "out of memory");
        n->data = p;
        n->cap = cap;
    }
    if (len) memcpy(n->data + n->len, data, len);
    n->len += len;
    return 0;
}

static mnode *add(util_memfs *m, const char *path, unsigned mode, util_err *err)
{
    if (m->nn == m->capn) {
        size_t cap = m->capn ? m->capn * 2 : 8;
        mnode **p = realloc(m->nodes, cap * sizeof *p);
        if (!p) {
            util_err_fill(err, UTIL_ENOMEM, "out of memory");
            return NULL;
        }
        m->nodes = p;
        m->capn = cap;
    }
    mnode *n = calloc(1, sizeof *n);
    if (n) n->path = strdup(path);
    if (!n || !n->path) {
        free(n);
        util_err_fill(err, UTIL_ENOMEM, "out of memory");
        return NULL;
    }
    n->mode = mode;
    m->nodes[m->nn++] = n;
    return n;
}

static uint64_t mem_wall(void *ctx)
{
    return util_env_wall_ms(((util_memfs *)ctx)->base);
}

static uint64_t mem_mono(void *ctx)
{
    return util_env_mono_ns(((util_memfs *)ctx)->base);
}

static int mem_random(void *ctx, void *out, size_t n, util_err *err)
{
    return util_env_random(((util_memfs *)ctx)->base, out, n, err);
}

static int mem_create(void *ctx, const char *path, const void *data, size_t n, unsigned mode,
                      util_err *err)
{
    util_memfs *m = ctx;
    if (find(m, path)) return util_err_set(err, UTIL_EEXIST, "%s already exists", path);
    if (m->full) return full_err(path, err);
    mnode *f = add(m, path, mode, err);
    if (!f) return UTIL_ENOMEM;
    int rc = put(f, data, n, err);
    if (rc) {
        unlink_node(m, f);
        return rc;
    }
    f->synced = f->len;
    return 0;
}

static int mem_read(void *ctx, const char *path, size_t max, char **out, size_t *len,
                    unsigned *mode, util_err *err)
{
    mnode *f = find(ctx, path);
    if (!f) return util_err_set(err, UTIL_ENOTFOUND, "%s does not exist", path);
    if (f->len > max)
        return util_err_set(err, UTIL_EINVAL, "%s is too large (%zu bytes, at most %zu)", path,
                            f->len, max);
    char *buf = malloc(f->len + 1);
    if (!buf) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    if (f->len) memcpy(buf, f->data, f->len);
    buf[f->len] = 0;
    *out = buf;
    *len = f->len;
    *mode = f->mode;
    return 0;
}

static int mem_open(void *ctx, const char *path, int flags, unsigned mode, util_file **out,
                    util_err *err)
{
    util_memfs *m = ctx;
    util_file *h = malloc(sizeof *h);
    if (!h) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    mnode *f = find(m, path);
    if (!f && !(flags & UTIL_FILE_CREATE)) {
        free(h);
        return util_err_set(err, UTIL_ENOTFOUND, "%s does not exist", path);
    }
    if (!f && !(f = add(m, path, mode, err))) {
        free(h);
        return UTIL_ENOMEM;
    }
    f->refs++;
    h->n = f;
    *out = h;
    return 0;
}

static int mem_size(void *ctx, util_file *h, uint64_t *size, util_err *err)
{
    (void)ctx;
    (void)err;
    *size = h->n->len;
    return 0;
}

static int mem_file_read(void *ctx, util_file *h, uint64_t off, void *buf, size_t n, size_t *got,
                         util_err *err)
{
    (void)ctx;
    (void)err;
    size_t k = 0;
    if (off < h->n->len) {
        k = h->n->len - (size_t)off;
        if (k > n) k = n;
        memcpy(buf, h->n->data + off, k);
    }
    *got = k;
    return 0;
}

static int mem_append(void *ctx, util_file *h, const void *data, size_t n, util_err *err)
{
    util_memfs *m = ctx;
    const char *name = h->n->path ? h->n->path : "(unlinked file)";
    if (m->full) {
        size_t part = n ? (size_t)(next(m) % n) : 0;
        int rc = put(h->n, data, part, err);
        return rc ? rc : full_err(name, err);
    }
    return put(h->n, data, n, err);
}

static int mem_sync(void *ctx, util_file *h, util_err *err)
{
    (void)ctx;
    (void)err;
    h->n->synced = h->n->len;
    return 0;
}

static int mem_truncate(void *ctx, util_file *h, uint64_t size, util_err *err)
{
    (void)ctx;
    mnode *f = h->n;
    if (size > f->len) {
        size_t add_n = (size_t)size - f->len;
        uint8_t *zeros = calloc(1, add_n);
        if (!zeros) return util_err_set(err, UTIL_ENOMEM, "out of memory");
        int rc = put(f, zeros, add_n, err);
        free(zeros);
        if (rc) return rc;
    }
    f->len = (size_t)size;
    f->synced = f->len;
    return 0;
}

static void mem_close(void *ctx, util_file *h)
{
    if (!h) return;
    mnode *f = h->n;
    free(h);
    if (--f->refs == 0 && !f->path) drop(ctx, f);
}

static int mem_rename(void *ctx, const char *from, const char *to, util_err *err)
{
    util_memfs *m = ctx;
    mnode *f = find(m, from);
    if (!f)
        return util_err_set(err, UTIL_EIO, "cannot rename %s to %s: No such file or directory",
                            from, to);
    if (strcmp(from, to) == 0) return 0;
    char *p = strdup(to);
    if (!p) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    mnode *old = find(m, to);
    if (old) unlink_node(m, old);
    free(f->path);
    f->path = p;
    return 0;
}

static int mem_replace(void *ctx, const char *path, const void *data, size_t n, unsigned mode,
                       util_err *err)
{
    util_memfs *m = ctx;
    if (m->full) return full_err(path, err);
    mnode *old = find(m, path);
    /* Built under no name, then put in place in one step. */
    mnode *f = add(m, "", mode, err);
    if (!f) return UTIL_ENOMEM;
    int rc = put(f, data, n, err);
    char *p = rc ? NULL : strdup(path);
    if (rc || !p) {
        unlink_node(m, f);
        return rc ? rc : util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    f->synced = f->len;
    if (old) unlink_node(m, old);
    free(f->path);
    f->path = p;
    return 0;
}

util_memfs *util_memfs_new(const util_env *base, uint64_t seed)
{
    util_memfs *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->base = base;
    m->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    m->env = (util_env){
        .ctx = m,
        .wall_ms = mem_wall,
        .mono_ns = mem_mono,
        .random = mem_random,
        .create_file = mem_create,
        .read_file = mem_read,
        .file_open = mem_open,
        .file_size = mem_size,
        .file_read = mem_file_read,
        .file_append = mem_append,
        .file_sync = mem_sync,
        .file_truncate = mem_truncate,
        .file_close = mem_close,
        .file_rename = mem_rename,
        .replace_file = mem_replace,
    };
    return m;
}

void util_memfs_free(util_memfs *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->nn; i++) {
        free(m->nodes[i]->path);
        free(m->nodes[i]->data);
        free(m->nodes[i]);
    }
    free(m->nodes);
    free(m);
}

const util_env *util_memfs_env(util_memfs *m)
{
    return &m->env;
}

void util_memfs_crash(util_memfs *m)
{
    for (size_t i = 0; i < m->nn; i++) {
        mnode *f = m->nodes[i];
        if (f->len > f->synced) f->len = f->synced + (size_t)(next(m) % (f->len - f->synced + 1));
        f->synced = f->len;
    }
}

void util_memfs_set_full(util_memfs *m, int full)
{
    m->full = full;
}
