/* The default environment: the real clock, getrandom(2) and the file system
 * (util/env.h): whole files created or replaced durably, and files kept open
 * for appending with explicit syncs. */
#include "util/env.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/time.h"

static uint64_t real_wall_ms(void *ctx)
{
    (void)ctx;
    return util_wall_ms();
}

static uint64_t real_mono_ns(void *ctx)
{
    (void)ctx;
    return util_mono_ns();
}

static int real_random(void *ctx, void *out, size_t n, util_err *err)
{
    (void)ctx;
    uint8_t *p = out;
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return util_err_set(err, UTIL_EIO, "getrandom: %s", strerror(errno));
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int real_create_file(void *ctx, const char *path, const void *data, size_t n, unsigned mode,
                            util_err *err)
{
    (void)ctx;
    if (access(path, F_OK) == 0) return util_err_set(err, UTIL_EEXIST, "%s already exists", path);
    char tmp[4200];
    int w = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (w < 0 || (size_t)w >= sizeof tmp) return util_err_set(err, UTIL_ELIMIT, "path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    if (fd < 0) return util_err_set(err, UTIL_EIO, "cannot create %s: %s", tmp, strerror(errno));
    /* The umask can only remove bits; fchmod makes the mode explicit. */
    int bad = fchmod(fd, (mode_t)mode) || write_all(fd, data, n) || fsync(fd);
    int e = errno;
    if (close(fd) && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        return util_err_set(err, UTIL_EIO, "cannot write %s: %s", tmp, strerror(e));
    }
    /* link() refuses an existing name: a file created meanwhile is never
     * replaced, and no reader sees a half-written one. */
    int rc = 0;
    if (link(tmp, path) != 0) {
        e = errno;
        rc = e == EEXIST ? util_err_set(err, UTIL_EEXIST, "%s already exists", path)
                         : util_err_set(err, UTIL_EIO, "cannot create %s: %s", path, strerror(e));
    }
    unlink(tmp);
    return rc;
}

static int real_read_file(void *ctx, const char *path, size_t max, char **out, size_t *len,
                          unsigned *mode, util_err *err)
{
    (void)ctx;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return util_err_set(err, UTIL_ENOTFOUND, "%s does not exist", path);
        return util_err_set(err, UTIL_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return util_err_set(err, UTIL_EINVAL, "%s is not a regular file", path);
    }
    if ((uint64_t)sb.st_size > max) {
        close(fd);
        return util_err_set(err, UTIL_EINVAL, "%s is too large (%lld bytes, at most %zu)", path,
                            (long long)sb.st_size, max);
    }
    char *buf = calloc(1, max + 1);
    if (!buf) {
        close(fd);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, max - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return util_err_set(err, UTIL_EIO, "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0 || (n += (size_t)r) == max) break;
    }
    close(fd);
    *out = buf;
    *len = n;
    *mode = (unsigned)(sb.st_mode & 07777);
    return 0;
}

/* The default env's open file: the descriptor, and the path for messages. */
struct util_file {
    int fd;
    char path[];
};

/* Syncs the directory holding path, so a name created or renamed there
 * survives a crash. */
static int sync_dir_of(const char *path, util_err *err)
{
    char dir[4200];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        dir[0] = '.';
        dir[1] = 0;
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir) return util_err_set(err, UTIL_ELIMIT, "path too long");
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return util_err_set(err, UTIL_EIO, "cannot open %s: %s", dir, strerror(errno));
    int rc = 0;
    if (fsync(fd) != 0)
        rc = util_err_set(err, UTIL_EIO, "cannot sync directory %s: %s", dir, strerror(errno));
    close(fd);
    return rc;
}

static int real_file_open(void *ctx, const char *path, int flags, unsigned mode, util_file **out,
                          util_err *err)
{
    (void)ctx;
    size_t plen = strlen(path);
    util_file *f = malloc(sizeof *f + plen + 1);
    if (!f) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    memcpy(f->path, path, plen + 1);
    int created = 0;
    f->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (f->fd < 0 && errno == ENOENT && (flags & UTIL_FILE_CREATE)) {
        f->fd =
            open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
        created = f->fd >= 0;
    }
    if (f->fd < 0) {
        int e = errno;
        free(f);
        if (e == ENOENT) return util_err_set(err, UTIL_ENOTFOUND, "%s does not exist", path);
        return util_err_set(err, UTIL_EIO, "cannot open %s: %s", path, strerror(e));
    }
    if (created) {
        int rc = sync_dir_of(path, err);
        if (rc) {
            close(f->fd);
            free(f);
            return rc;
        }
    }
    *out = f;
    return 0;
}

static int real_file_size(void *ctx, util_file *f, uint64_t *size, util_err *err)
{
    (void)ctx;
    struct stat sb;
    if (fstat(f->fd, &sb) != 0)
        return util_err_set(err, UTIL_EIO, "cannot stat %s: %s", f->path, strerror(errno));
    *size = (uint64_t)sb.st_size;
    return 0;
}

static int real_file_read(void *ctx, util_file *f, uint64_t off, void *buf, size_t n, size_t *got,
                          util_err *err)
{
    (void)ctx;
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(f->fd, (uint8_t *)buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            return util_err_set(err, UTIL_EIO, "cannot read %s: %s", f->path, strerror(errno));
        if (r == 0) break;
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

static int real_file_append(void *ctx, util_file *f, const void *data, size_t n, util_err *err)
{
    (void)ctx;
    if (write_all(f->fd, data, n) != 0)
        return util_err_set(err, UTIL_EIO, "cannot write %s: %s", f->path, strerror(errno));
    return 0;
}

static int real_file_sync(void *ctx, util_file *f, util_err *err)
{
    (void)ctx;
    if (fdatasync(f->fd) != 0)
        return util_err_set(err, UTIL_EIO, "cannot sync %s: %s", f->path, strerror(errno));
    return 0;
}

static int real_file_truncate(void *ctx, util_file *f, uint64_t size, util_err *err)
{
    (void)ctx;
    if (ftruncate(f->fd, (off_t)size) != 0 || fsync(f->fd) != 0)
        return util_err_set(err, UTIL_EIO, "cannot truncate %s: %s", f->path, strerror(errno));
    return 0;
}

static void real_file_close(void *ctx, util_file *f)
{
    (void)ctx;
    if (!f) return;
    close(f->fd);
    free(f);
}

static int real_file_rename(void *ctx, const char *from, const char *to, util_err *err)
{
    (void)ctx;
    if (rename(from, to) != 0)
        return util_err_set(err, UTIL_EIO, "cannot rename %s to %s: %s", from, to, strerror(errno));
    return sync_dir_of(to, err);
}

static int real_replace_file(void *ctx, const char *path, const void *data, size_t n, unsigned mode,
                             util_err *err)
{
    (void)ctx;
    char tmp[4200];
    int w = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (w < 0 || (size_t)w >= sizeof tmp) return util_err_set(err, UTIL_ELIMIT, "path too long");
    /* A temporary file left by a crash of this same pid is stale. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    if (fd < 0) return util_err_set(err, UTIL_EIO, "cannot create %s: %s", tmp, strerror(errno));
    int bad = fchmod(fd, (mode_t)mode) || write_all(fd, data, n) || fsync(fd);
    int e = errno;
    if (close(fd) && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        return util_err_set(err, UTIL_EIO, "cannot write %s: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return util_err_set(err, UTIL_EIO, "cannot replace %s: %s", path, strerror(e));
    }
    return sync_dir_of(path, err);
}

static const util_env DEFAULT_ENV = {
    .ctx = NULL,
    .wall_ms = real_wall_ms,
    .mono_ns = real_mono_ns,
    .random = real_random,
    .create_file = real_create_file,
    .read_file = real_read_file,
    .file_open = real_file_open,
    .file_size = real_file_size,
    .file_read = real_file_read,
    .file_append = real_file_append,
    .file_sync = real_file_sync,
    .file_truncate = real_file_truncate,
    .file_close = real_file_close,
    .file_rename = real_file_rename,
    .replace_file = real_replace_file,
};

const util_env *util_env_default(void)
{
    return &DEFAULT_ENV;
}

static const util_env *or_default(const util_env *env)
{
    return env ? env : &DEFAULT_ENV;
}

uint64_t util_env_wall_ms(const util_env *env)
{
    env = or_default(env);
    return env->wall_ms(env->ctx);
}

uint64_t util_env_mono_ns(const util_env *env)
{
    env = or_default(env);
    return env->mono_ns(env->ctx);
}

int util_env_random(const util_env *env, void *out, size_t n, util_err *err)
{
    env = or_default(env);
    return env->random(env->ctx, out, n, err);
}

int util_env_create_file(const util_env *env, const char *path, const void *data, size_t n,
                         unsigned mode, util_err *err)
{
    env = or_default(env);
    return env->create_file(env->ctx, path, data, n, mode, err);
}

int util_env_read_file(const util_env *env, const char *path, size_t max, char **out, size_t *n,
                       unsigned *mode, util_err *err)
{
    env = or_default(env);
    return env->read_file(env->ctx, path, max, out, n, mode, err);
}

/* The file_* fields may be NULL in an env made before they existed: each
 * shorthand then calls the default's, with the default's (NULL) ctx. */
#define FILE_OP(env, op) ((env) && (env)->op ? (env) : &DEFAULT_ENV)

int util_env_file_open(const util_env *env, const char *path, int flags, unsigned mode,
                       util_file **out, util_err *err)
{
    env = FILE_OP(env, file_open);
    return env->file_open(env->ctx, path, flags, mode, out, err);
}

int util_env_file_size(const util_env *env, util_file *f, uint64_t *size, util_err *err)
{
    env = FILE_OP(env, file_size);
    return env->file_size(env->ctx, f, size, err);
}

int util_env_file_read(const util_env *env, util_file *f, uint64_t off, void *buf, size_t n,
                       size_t *got, util_err *err)
{
    env = FILE_OP(env, file_read);
    return env->file_read(env->ctx, f, off, buf, n, got, err);
}

int util_env_file_append(const util_env *env, util_file *f, const void *data, size_t n,
                         util_err *err)
{
    env = FILE_OP(env, file_append);
    return env->file_append(env->ctx, f, data, n, err);
}

int util_env_file_sync(const util_env *env, util_file *f, util_err *err)
{
    env = FILE_OP(env, file_sync);
    return env->file_sync(env->ctx, f, err);
}

int util_env_file_truncate(const util_env *env, util_file *f, uint64_t size, util_err *err)
{
    env = FILE_OP(env, file_truncate);
    return env->file_truncate(env->ctx, f, size, err);
}

void util_env_file_close(const util_env *env, util_file *f)
{
    env = FILE_OP(env, file_close);
    env->file_close(env->ctx, f);
}

int util_env_file_rename(const util_env *env, const char *from, const char *to, util_err *err)
{
    env = FILE_OP(env, file_rename);
    return env->file_rename(env->ctx, from, to, err);
}

int util_env_replace_file(const util_env *env, const char *path, const void *data, size_t n,
                          unsigned mode, util_err *err)
{
    env = FILE_OP(env, replace_file);
    return env->replace_file(env->ctx, path, data, n, mode, err);
}
