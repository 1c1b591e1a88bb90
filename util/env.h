/* The environment a module reads time, randomness and files through, so a
 * test can substitute any of them: a clock it moves by hand, repeatable
 * randomness, files that fail on purpose. LevelDB's include/leveldb/env.h is
 * the model. Production uses util_env_default().
 *
 * Who uses it today: the node's block timer and block timestamps, the
 * mempool's hash seed and its expiry clock (chain_mempool_cfg.env), the
 * validator key file, and the store (chain_store_open_opts) for the one
 * thing it does outside LevelDB, the seed of its code cache.
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
} util_env;

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

#endif
