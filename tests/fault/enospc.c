/* A fault-injection shim (LD_PRELOAD) for "the disk fills" tests: while the
 * file named by $OL_FAULT_ENOSPC_FLAG exists, every write to a file under
 * $OL_FAULT_DIR fails with ENOSPC, as on a full disk; remove the flag and
 * writes work again. A test starts a node with it, touches the flag when it
 * wants the disk full (say, under the consensus WAL and signer state), and
 * checks that the node stops signing, says why, and after a restart does
 * not equivocate. Files outside the directory (logs, sockets) are never
 * touched, so the node can still report.
 *
 * Intercepted: write, pwrite, pwrite64, writev. The file behind a
 * descriptor is found through /proc/self/fd at each write: slow, but only
 * tests load this. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);

static void init(void)
{
    if (real_write) return;
    real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
    real_writev = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
}

/* Whether a write to fd must fail now; errno is kept. */
static int full(int fd)
{
    int e = errno;
    const char *flag = getenv("OL_FAULT_ENOSPC_FLAG"), *dir = getenv("OL_FAULT_DIR");
    int yes = 0;
    if (flag && dir && *dir && access(flag, F_OK) == 0) {
        char link[64], path[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (n > 0) {
            path[n] = 0;
            yes = strncmp(path, dir, strlen(dir)) == 0;
        }
    }
    errno = e;
    return yes;
}

ssize_t write(int fd, const void *b, size_t n)
{
    init();
    if (n && full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_write(fd, b, n);
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t off)
{
    init();
    if (n && full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_pwrite(fd, b, n, off);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t off)
{
    init();
    if (n && full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_pwrite64(fd, b, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    init();
    if (cnt > 0 && full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_writev(fd, iov, cnt);
}
