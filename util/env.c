/* The default environment: the real clock, getrandom(2) and the file system
 * (util/env.h). */
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

static const util_env DEFAULT_ENV = {
    .ctx = NULL,
    .wall_ms = real_wall_ms,
    .mono_ns = real_mono_ns,
    .random = real_random,
    .create_file = real_create_file,
    .read_file = real_read_file,
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
