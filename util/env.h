/* The environment a module reads time, randomness and files through, so a
 * test can substitute any of them: a clock it moves by hand, repeatable
 * randomness, files that fail on purpose. LevelDB's include/leveldb/env.h is
 * the model. Production uses util_env_default().
 *
 * Who uses it today: the node's block timer and block timestamps, the
 * mempool's hash seed and its expiry clock (chain_mempool_cfg.env), the
 * validator key file, and the store (chain_store_open_opts) for the one
 * thing it does outside LevelDB, the seed of its code cache. The consensus
 * WAL and signer state (consensus/wal.h, consensus/signer.h) do every write,
 * sync, truncation and rename through its file operations.
 *
 * What does not go through it: LevelDB's own files, its lock and its
 * directory (its C API takes no custom Env). The store keeps no file of its
 * own beside them: its format version and genesis record are LevelDB
 * records. Crash tests therefore inject faults below LevelDB instead
 * (tests/fault/unsynced.c, an LD_PRELOAD shim). Nor do the node's making
 * of its data directory at start-up (mkdir, mkdtemp: the env has no
 * directory operations yet) and the offline commands (init, export-blocks,
 * import-blocks), which open their stores with the default env.
 *
 * An env is borrowed: it must outlive whatever was given it. The default's
 * functions are thread-safe; a test's need only be as safe as its use. */
#ifndef OL_UTIL_ENV_H
#define OL_UTIL_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* An open file of an env (file_open); what it holds is the env's business. */
typedef struct util_file util_file;

typedef struct util_env {
    void *ctx;
    /* Unix time in milliseconds (block timestamps). */
    uint64_t (*wall_ms)(void *ctx);
    /* Monotonic nanoseconds (timers, intervals, expiry). */
    uint64_t (*mono_ns)(void *ctx);
    /* n bytes of randomness for seeds (not keys: keys use their own
     * generator); 0 or UTIL_EIO. */
    int (*random)(void *ctx, void *out, size_t n, util_err *err);
    /* Creates path with exactly data and mode, durably (written to a
     * temporary file, synced, then linked into place): a reader never sees
     * half of it, and an existing path is never replaced (UTIL_EEXIST). */
    int (*create_file)(void *ctx, const char *path, const void *data, size_t n, unsigned mode,
                       util_err *err);
    /* Reads a regular file of at most max bytes into *out (malloc'd, NUL
     * appended, *n without it) and its permission bits into *mode.
     * UTIL_ENOTFOUND when absent, UTIL_EINVAL when not a regular file or
     * larger than max, UTIL_EIO otherwise. */
    int (*read_file)(void *ctx, const char *path, size_t max, char **out, size_t *n, unsigned *mode,
                     util_err *err);

    /* Files the caller keeps open and appends to, and whole files replaced
     * in one step: the consensus WAL and the signer state. Each of these
     * fields may be NULL: the util_env_file_* shorthands then use the
     * default's, so an env written before they existed keeps working. They
     * come as a set: a util_file from one env's file_open is only given to
     * the same env's other file_* functions (a test's wrapper that forwards
     * to util_env_default()'s functions passes the handle through). All
     * return 0, UTIL_ENOTFOUND where said, or UTIL_EIO with the OS's reason
     * (ENOSPC says "No space left on device"). */

    /* Opens path for reading and appending. UTIL_FILE_CREATE creates it
     * (mode) when absent and then syncs its directory, so the name is as
     * durable as the data later synced into it; without it, an absent path
     * is UTIL_ENOTFOUND. */
    int (*file_open)(void *ctx, const char *path, int flags, unsigned mode, util_file **out,
                     util_err *err);
    int (*file_size)(void *ctx, util_file *f, uint64_t *size, util_err *err);
    /* Reads up to n bytes at off into buf; *got < n only at the end. */
    int (*file_read)(void *ctx, util_file *f, uint64_t off, void *buf, size_t n, size_t *got,
                     util_err *err);
    /* Appends all n bytes at the end, or fails; after a failure the end of
     * the file is unknown (part of the data may be there). */
    int (*file_append)(void *ctx, util_file *f, const void *data, size_t n, util_err *err);
    /* Makes what was appended durable (fdatasync). */
    int (*file_sync)(void *ctx, util_file *f, util_err *err);
    /* Cuts the file to size bytes and syncs it. */
    int (*file_truncate)(void *ctx, util_file *f, uint64_t size, util_err *err);
    /* Closes f (NULL: nothing). Never fails: what matters was synced. */
    void (*file_close)(void *ctx, util_file *f);
    /* Renames from to to, replacing to, then syncs to's directory. */
    int (*file_rename)(void *ctx, const char *from, const char *to, util_err *err);
    /* Replaces path (or creates it) with exactly data and mode, durably and
     * atomically: written to a temporary file, synced, renamed over path,
     * and the directory synced. A reader, or a restart after a crash at any
     * point, sees the old content or the new, never a mix. */
    int (*replace_file)(void *ctx, const char *path, const void *data, size_t n, unsigned mode,
                        util_err *err);
} util_env;

enum { UTIL_FILE_CREATE = 1 };

/* The real clock, getrandom(2) and the file system. */
const util_env *util_env_default(void);

/* Shorthands that call through env (NULL: the default). */
uint64_t util_env_wall_ms(const util_env *env);
uint64_t util_env_mono_ns(const util_env *env);
OL_MUST_CHECK int util_env_random(const util_env *env, void *out, size_t n, util_err *err);
OL_MUST_CHECK int util_env_create_file(const util_env *env, const char *path, const void *data,
                                       size_t n, unsigned mode, util_err *err);
OL_MUST_CHECK int util_env_read_file(const util_env *env, const char *path, size_t max, char **out,
                                     size_t *n, unsigned *mode, util_err *err);
OL_MUST_CHECK int util_env_file_open(const util_env *env, const char *path, int flags,
                                     unsigned mode, util_file **out, util_err *err);
OL_MUST_CHECK int util_env_file_size(const util_env *env, util_file *f, uint64_t *size,
                                     util_err *err);
OL_MUST_CHECK int util_env_file_read(const util_env *env, util_file *f, uint64_t off, void *buf,
                                     size_t n, size_t *got, util_err *err);
OL_MUST_CHECK int util_env_file_append(const util_env *env, util_file *f, const void *data,
                                       size_t n, util_err *err);
OL_MUST_CHECK int util_env_file_sync(const util_env *env, util_file *f, util_err *err);
OL_MUST_CHECK int util_env_file_truncate(const util_env *env, util_file *f, uint64_t size,
                                         util_err *err);
void util_env_file_close(const util_env *env, util_file *f);
OL_MUST_CHECK int util_env_file_rename(const util_env *env, const char *from, const char *to,
                                       util_err *err);
OL_MUST_CHECK int util_env_replace_file(const util_env *env, const char *path, const void *data,
                                        size_t n, unsigned mode, util_err *err);

#endif
