/* A util_env over the real file system that fails on request, for the
 * consensus WAL and signer-state tests (and the WAL fuzz target): an append
 * that runs out of space (optionally after writing part of the data, as a
 * real short write does), a sync that fails, a rename or an atomic replace
 * that fails, and syncs that do nothing (for speed where durability is not
 * under test). It forwards everything else to util_env_default(), whose
 * util_file handles it passes through. Header-only: each test is a program. */
#ifndef OL_TESTS_CONS_FAULT_ENV_H
#define OL_TESTS_CONS_FAULT_ENV_H

#include <stdint.h>
#include <string.h>

#include "util/env.h"

typedef struct cons_fault {
    /* Appends that succeed before every later one fails (-1: never fail). */
    long appends_ok;
    /* Bytes a failing append writes before it fails (a short write). */
    size_t partial;
    int fail_sync, fail_rename, fail_replace;
    int skip_sync;                 /* syncs succeed without syncing */
    long appends, syncs, replaces; /* calls seen */
    util_env env;
} cons_fault;

static inline int cf_append(void *ctx, util_file *f, const void *data, size_t n, util_err *err)
{
    cons_fault *c = ctx;
    c->appends++;
    if (c->appends_ok >= 0 && c->appends > c->appends_ok) {
        size_t k = c->partial < n ? c->partial : n;
        if (k && util_env_default()->file_append(NULL, f, data, k, err)) return UTIL_EIO;
        return util_err_set(err, UTIL_EIO, "cannot write: No space left on device");
    }
    return util_env_default()->file_append(NULL, f, data, n, err);
}

static inline int cf_sync(void *ctx, util_file *f, util_err *err)
{
    cons_fault *c = ctx;
    c->syncs++;
    if (c->fail_sync) return util_err_set(err, UTIL_EIO, "cannot sync: Input/output error");
    if (c->skip_sync) return 0;
    return util_env_default()->file_sync(NULL, f, err);
}

static inline int cf_rename(void *ctx, const char *from, const char *to, util_err *err)
{
    cons_fault *c = ctx;
    if (c->fail_rename)
        return util_err_set(err, UTIL_EIO, "cannot rename %s: Input/output error", from);
    return util_env_default()->file_rename(NULL, from, to, err);
}

static inline int cf_replace(void *ctx, const char *path, const void *data, size_t n, unsigned mode,
                             util_err *err)
{
    cons_fault *c = ctx;
    c->replaces++;
    if (c->fail_replace)
        return util_err_set(err, UTIL_EIO, "cannot write %s: No space left on device", path);
    return util_env_default()->replace_file(NULL, path, data, n, mode, err);
}

/* Sets c up with nothing failing; c->env is the env to pass. */
static inline void cons_fault_init(cons_fault *c)
{
    memset(c, 0, sizeof *c);
    c->appends_ok = -1;
    c->env = *util_env_default();
    c->env.ctx = c;
    c->env.file_append = cf_append;
    c->env.file_sync = cf_sync;
    c->env.file_rename = cf_rename;
    c->env.replace_file = cf_replace;
}

#endif
