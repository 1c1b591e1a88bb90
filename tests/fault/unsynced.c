/* A fault-injection shim for crash tests (LD_PRELOAD): data written to files
 * under $OL_FAULT_DIR stays in this process's memory until the file is
 * synced (fsync/fdatasync), so a SIGKILL loses exactly what was never synced,
 * as a power cut would, instead of leaving it to the kernel's page cache.
 * LevelDB's db/fault_injection_test.cc drops unsynced data the same way,
 * through its Env; its C API cannot take a custom Env, so the injection sits
 * below it, on the file calls. Closing a file writes its data out (a file
 * closed before the crash is treated as flushed, not synced: the pessimistic
 * case is the still-open log, which is what a block commit syncs).
 *
 * Intercepted: open/open64/openat/creat (to know the files), write, fsync,
 * fdatasync, close. Not thread-safe beyond a mutex per call: the node's
 * LevelDB writes come from one thread at a time. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 4096

typedef struct pending {
    int tracked;
    char *buf;
    size_t len, cap;
} pending;

static pending fds[MAX_FD];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const char *dir;
static size_t dirlen;

static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_close)(int);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);

static void init(void)
{
    if (real_write) return;
    real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    real_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
    real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    dir = getenv("OL_FAULT_DIR");
    dirlen = dir ? strlen(dir) : 0;
}

static void track(int fd, const char *path, int flags)
{
    if (fd < 0 || fd >= MAX_FD || !dirlen || !path) return;
    if (!(flags & (O_WRONLY | O_RDWR)) || strncmp(path, dir, dirlen) != 0) return;
    pthread_mutex_lock(&mu);
    free(fds[fd].buf);
    fds[fd] = (pending){.tracked = 1};
    pthread_mutex_unlock(&mu);
    /* The crash test checks this line: proof the shim sits under LevelDB. */
    static const char msg[] = "unsynced: tracking a file of OL_FAULT_DIR\n";
    if (getenv("OL_FAULT_VERBOSE") && real_write(2, msg, sizeof msg - 1) < 0) {
        /* stderr gone: nothing to report to */
    }
}

/* Writes out what fd holds; the caller holds mu. */
static int flush(int fd)
{
    pending *p = &fds[fd];
    size_t off = 0;
    while (off < p->len) {
        ssize_t n = real_write(fd, p->buf + off, p->len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        off += (size_t)n;
    }
    p->len = 0;
    return 0;
}

#define OPEN_WRAPPER(name, real)                                                                   \
    int name(const char *path, int flags, ...)                                                     \
    {                                                                                              \
        init();                                                                                    \
        mode_t mode = 0;                                                                           \
        if (flags & (O_CREAT | O_TMPFILE)) {                                                       \
            va_list ap;                                                                            \
            va_start(ap, flags);                                                                   \
            mode = (mode_t)va_arg(ap, int);                                                        \
            va_end(ap);                                                                            \
        }                                                                                          \
        int fd = real(path, flags, mode);                                                          \
        track(fd, path, flags);                                                                    \
        return fd;                                                                                 \
    }
OPEN_WRAPPER(open, real_open)
OPEN_WRAPPER(open64, real_open64)

int openat(int dirfd, const char *path, int flags, ...)
{
    init();
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int fd = real_openat(dirfd, path, flags, mode);
    track(fd, path, flags);
    return fd;
}

ssize_t write(int fd, const void *b, size_t n)
{
    init();
    if (fd >= 0 && fd < MAX_FD && fds[fd].tracked) {
        pthread_mutex_lock(&mu);
        pending *p = &fds[fd];
        if (p->len + n > p->cap) {
            size_t cap = p->cap ? p->cap : 65536;
            while (cap < p->len + n)
                cap *= 2;
            char *nb = realloc(p->buf, cap);
            if (!nb) {
                pthread_mutex_unlock(&mu);
                errno = ENOMEM;
                return -1;
            }
            p->buf = nb;
            p->cap = cap;
        }
        memcpy(p->buf + p->len, b, n);
        p->len += n;
        pthread_mutex_unlock(&mu);
        return (ssize_t)n;
    }
    return real_write(fd, b, n);
}

static int sync_with(int fd, int (*real)(int))
{
    init();
    if (fd >= 0 && fd < MAX_FD && fds[fd].tracked) {
        pthread_mutex_lock(&mu);
        int rc = flush(fd);
        pthread_mutex_unlock(&mu);
        if (rc) return rc;
    }
    return real(fd);
}

int fsync(int fd)
{
    init();
    return sync_with(fd, real_fsync);
}

int fdatasync(int fd)
{
    init();
    return sync_with(fd, real_fdatasync);
}

int close(int fd)
{
    init();
    if (fd >= 0 && fd < MAX_FD && fds[fd].tracked) {
        pthread_mutex_lock(&mu);
        flush(fd);
        free(fds[fd].buf);
        fds[fd] = (pending){0};
        pthread_mutex_unlock(&mu);
    }
    return real_close(fd);
}
