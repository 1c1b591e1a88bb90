/* The consensus write-ahead log: what the engine received, decided to send,
 * and timed out on, recorded in order so that a validator that crashes can
 * replay its current height and never act against what it did before the
 * crash. LevelDB's log (db/log_format.h) is the model: records with a
 * length, a type and a CRC-32C, appended to a file; here each record also
 * says whether it was synced, so that open can tell a torn tail (cut) from
 * damage before synced data (refused). docs/consensus_wal.md has the format.
 *
 * The WAL keeps two files in its directory: cons.wal, the current height
 * (everything after the last "end height" marker), and cons.wal.prev, the
 * height before it. cons_wal_end_height rotates them. All I/O goes through a
 * util_env (NULL: the default), so tests can make any write fail.
 *
 * After any write, sync or rotation failure the WAL refuses every later
 * append with the first failure's reason: the end of the file is then
 * unknown, and only a restart (open repairs the tail) makes it usable
 * again. The caller must not sign or send anything whose record failed.
 *
 * Not thread-safe: one owner (the consensus loop). */
#ifndef OL_CONSENSUS_WAL_H
#define OL_CONSENSUS_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types/block.h"
#include "util/env.h"
#include "util/err.h"

/* Record types. The payload is the engine's encoding; the WAL only keeps
 * the type. */
enum cons_wal_type {
    CONS_WAL_MSG = 1,        /* a message received (proposal, vote, block part) */
    CONS_WAL_OWN = 2,        /* our own proposal or vote, before it is signed and sent */
    CONS_WAL_TIMEOUT = 3,    /* a timeout that fired */
    CONS_WAL_END_HEIGHT = 4, /* written by cons_wal_end_height only: 8-byte height */
};

/* The largest payload: a proposal carrying a block of the largest size, and
 * room for its framing. */
#define CONS_WAL_MAX_RECORD (CHAIN_BLOCK_MAX_SIZE + 65536u)

/* File names inside the WAL's directory. */
#define CONS_WAL_FILE "cons.wal"
#define CONS_WAL_PREV_FILE "cons.wal.prev"

typedef struct cons_wal cons_wal;

/* What open found, for the node's log. */
typedef struct cons_wal_info {
    int has_end_height;      /* 1 when an end-height marker was found */
    uint64_t end_height;     /* the last height ended (0 when none) */
    uint64_t replay_records; /* records after that marker, as cons_wal_replay gives them */
    uint64_t repaired_bytes; /* bytes of a torn tail cut from cons.wal at open; 0: none */
    uint64_t repaired_at;    /* the offset it was cut at */
} cons_wal_info;

/* Opens the WAL in dir (which must exist), creating cons.wal if absent.
 * A torn tail of cons.wal (a partial or corrupt record with no synced record
 * after it) is cut off and synced. Fails, touching nothing, when a corrupt
 * record precedes a synced one, when a file is not a WAL, or on I/O errors;
 * the message names the file and the offset. *out is owned by the caller
 * (cons_wal_close). */
OL_MUST_CHECK int cons_wal_open(const util_env *env, const char *dir, cons_wal **out,
                                util_err *err);

/* What open found (end height, records to replay, repair). */
void cons_wal_get_info(const cons_wal *w, cons_wal_info *out);

/* Appends one record of type CONS_WAL_MSG, _OWN or _TIMEOUT (n at most
 * CONS_WAL_MAX_RECORD). With sync, returns only once the record is durable
 * (fdatasync): use it for every record that precedes a signature. On
 * failure nothing may be assumed written, and the WAL refuses all later
 * appends (see above). */
OL_MUST_CHECK int cons_wal_append(cons_wal *w, uint8_t type, const void *data, size_t n, int sync,
                                  util_err *err);

/* Records, synced, that height is over (it must exceed the last one), then
 * makes cons.wal the previous file and starts an empty current one. */
OL_MUST_CHECK int cons_wal_end_height(cons_wal *w, uint64_t height, util_err *err);

/* Called for each record to replay, in order; data is borrowed for the
 * call. A non-zero return stops the replay and is returned. */
typedef int (*cons_wal_replay_fn)(void *ctx, uint8_t type, const uint8_t *data, size_t n,
                                  util_err *err);

/* Gives fn the records after the last end-height marker (those of the
 * height in progress), as they are in cons.wal now. Call it after open and
 * before appending. */
OL_MUST_CHECK int cons_wal_replay(cons_wal *w, cons_wal_replay_fn fn, void *ctx, util_err *err);

/* Closes the file (NULL: nothing). What was synced stays; what was not may
 * be lost on a crash, and is still on disk after a clean close. */
void cons_wal_close(cons_wal *w);

#endif
