/* Keystore files: KEYSTORE/NAME.json, written once (never overwritten) with
 * mode 0600 in a 0700 directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/keystore.h"

int cli_keystore_path(char *out, size_t cap, const char *dir, const char *name, util_err *err)
{
    int n = snprintf(out, cap, "%s/%s.json", dir, name);
    if (n < 0 || (size_t)n >= cap) return util_err_set(err, UTIL_EINVAL, "keystore path too long");
    return 0;
}

/* mkdir -p with mode 0700 for the components it creates. */
static int mkdirs(const char *dir, util_err *err)
{
    char p[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof p) return util_err_set(err, UTIL_EINVAL, "bad keystore directory");
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char c = p[i];
        p[i] = 0;
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return util_err_set(err, UTIL_EIO, "cannot create keystore directory %s: %s", p,
                                strerror(errno));
        p[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return util_err_set(err, UTIL_EIO, "keystore path %s is not a directory", dir);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int cli_keystore_write(const char *dir, const char *name, const json_t *doc, util_err *err)
{
    int rc = cli_key_name_valid(name, err);
    if (rc) return rc;
    if ((rc = mkdirs(dir, err))) return rc;
    char path[4096], tmp[4200];
    if ((rc = cli_keystore_path(path, sizeof path, dir, name, err))) return rc;
    snprintf(tmp, sizeof tmp, "%s/.%s.json.%ld.tmp", dir, name, (long)getpid());
    if (access(path, F_OK) == 0)
        return util_err_set(err, UTIL_EEXIST, "a key named '%s' already exists in %s", name, dir);

    char *text = json_dumps(doc, JSON_INDENT(2));
    if (!text) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    size_t tl = strlen(text);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = util_err_set(err, UTIL_EIO, "cannot create %s: %s", tmp, strerror(errno));
        free(text);
        return rc;
    }
    /* The umask can only remove bits; fchmod makes 0600 explicit anyway. */
    int bad = fchmod(fd, 0600) || write_all(fd, text, tl) || write_all(fd, "\n", 1) || fsync(fd);
    int e = errno;
    free(text);
    if (close(fd) && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        return util_err_set(err, UTIL_EIO, "cannot write %s: %s", tmp, strerror(e));
    }
    /* link() fails if the name was taken meanwhile, so an existing key is
     * never replaced, and readers never see a half-written file. */
    if (link(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        if (e == EEXIST)
            return util_err_set(err, UTIL_EEXIST, "a key named '%s' already exists in %s", name,
                                dir);
        return util_err_set(err, UTIL_EIO, "cannot create %s: %s", path, strerror(e));
    }
    unlink(tmp);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static int read_file(const char *path, char **out, size_t *len, util_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return util_err_set(err, UTIL_ENOTFOUND, "%s does not exist", path);
        return util_err_set(err, UTIL_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CLI_KEYSTORE_FILE_MAX) {
        close(fd);
        return util_err_set(err, UTIL_EINVAL,
                            "%s is not a keystore file (not a regular file "
                            "of at most 64 KiB)",
                            path);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    *out = buf;
    *len = got;
    return 0;
}

int cli_keystore_load(const char *dir, const char *name, json_t **doc, cli_keyinfo *info,
                      util_err *err)
{
    int rc = cli_key_name_valid(name, err);
    if (rc) return rc;
    char path[4096];
    if ((rc = cli_keystore_path(path, sizeof path, dir, name, err))) return rc;
    char *text = NULL;
    size_t len = 0;
    if ((rc = read_file(path, &text, &len, err))) {
        if (rc == UTIL_ENOTFOUND)
            util_err_set(err, rc, "no key named '%s' in %s (dev0..dev9 need no keystore)", name,
                         dir);
        return rc;
    }
    json_error_t je;
    json_t *d = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!d)
        return util_err_set(err, UTIL_EINVAL, "keystore %s is not valid JSON: %s (line %d)", path,
                            je.text, je.line);
    cli_keyinfo tmp;
    if ((rc = cli_keystore_check(d, info ? info : &tmp, err))) {
        json_decref(d);
        util_err_prefix(err, "keystore %s is malformed: ", path);
        return rc;
    }
    if (info) snprintf(info->name, sizeof info->name, "%s", name);
    if (doc)
        *doc = d;
    else
        json_decref(d);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const cli_keyinfo *)a)->name, ((const cli_keyinfo *)b)->name);
}

int cli_keystore_list(const char *dir, cli_keyinfo **out, size_t *n,
                      void (*warn)(void *ctx, const char *msg), void *warn_ctx, util_err *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        return util_err_set(err, UTIL_EIO, "cannot read keystore directory %s: %s", dir,
                            strerror(errno));
    }
    cli_keyinfo *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l <= 5 || strcmp(de->d_name + l - 5, ".json") != 0) continue;
        char name[CLI_KEY_NAME_MAX + 1];
        if (l - 5 > CLI_KEY_NAME_MAX) continue;
        memcpy(name, de->d_name, l - 5);
        name[l - 5] = 0;
        cli_keyinfo info;
        util_err e;
        if (cli_keystore_load(dir, name, NULL, &info, &e)) {
            if (warn) warn(warn_ctx, e.msg);
            continue;
        }
        if (cnt == cap) {
            cap = cap ? 2 * cap : 16;
            cli_keyinfo *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        v[cnt++] = info;
    }
    closedir(d);
    if (rc) {
        free(v);
        return rc;
    }
    if (cnt) qsort(v, cnt, sizeof *v, by_name);
    *out = v;
    *n = cnt;
    return 0;
}
