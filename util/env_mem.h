/* An in-memory file system behind a util_env, for tests and the consensus
 * simulation: files live in memory, a sync makes what was appended durable,
 * and util_memfs_crash() is a power cut: every file keeps what was synced
 * plus a random prefix of what was not (a torn write), drawn from the seed,
 * so a run replays exactly. It can also run out of space on request.
 * LevelDB's helpers/memenv is the model.
 *
 * Simplifications, on the safe side for what uses it: names (creation,
 * rename, replace_file) are durable at once; there are no directories (any
 * path can be created); replace_file is atomic, as its contract says. The
 * clock and randomness are the base env's (NULL: the default).
 *
 * The memfs owns its files; util_memfs_free releases them, and must come
 * after every handle was closed. Not thread-safe. */
#ifndef OL_UTIL_ENV_MEM_H
#define OL_UTIL_ENV_MEM_H

#include <stdint.h>

#include "util/env.h"

typedef struct util_memfs util_memfs;

/* NULL when out of memory. */
OL_MUST_CHECK util_memfs *util_memfs_new(const util_env *base, uint64_t seed);
void util_memfs_free(util_memfs *m);

/* The env to pass around; borrowed from m. */
OL_MUST_CHECK const util_env *util_memfs_env(util_memfs *m);

/* A power cut: each file is cut to its synced length plus a random part of
 * the bytes appended since (all, none, or a prefix). Handles opened before
 * stay valid to close (and keep working on the cut files). */
void util_memfs_crash(util_memfs *m);

/* While full, appends and file writes fail with "No space left on device"
 * (an append writes a random prefix first, as a real short write may). */
void util_memfs_set_full(util_memfs *m, int full);

#endif
