/* Internal to p2p/: the peer book, what the transport remembers about other
 * nodes across restarts: addresses it learned (configuration, peer exchange,
 * inbound peers' announced ports) and bans by node id with their expiry and
 * reason. Kept as JSON at one path in the datadir (docs/p2p.md, "Peer
 * book"), replaced atomically on save; without a path it lives in memory.
 *
 * Bounded: at most P2P_BOOK_MAX_ADDRS addresses and P2P_BOOK_MAX_BANS bans;
 * past that the least useful entry is evicted (an address never reached,
 * then the oldest; the ban expiring first). Times are wall-clock
 * milliseconds from the env, since they must mean something after a restart.
 *
 * One thread uses a book (the net's loop). */
#ifndef OL_P2P_BOOK_H
#define OL_P2P_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "p2p/msg.h"
#include "util/env.h"
#include "util/err.h"

#define P2P_BOOK_MAX_ADDRS 1024
#define P2P_BOOK_MAX_BANS 1024
#define P2P_BOOK_FILE_MAX (1024u * 1024u)
#define P2P_BAN_REASON_MAX 127

typedef struct p2p_book_addr {
    p2p_peer_addr a;
    uint64_t last_ok_ms;  /* wall clock of the last authenticated session; 0: never */
    uint32_t failures;    /* dials failed since the last success */
    uint64_t next_try_ms; /* not before (wall clock), backoff after failures; not saved */
} p2p_book_addr;

typedef struct p2p_ban {
    uint8_t id[P2P_NODE_ID_LEN];
    uint64_t until_ms;
    char reason[P2P_BAN_REASON_MAX + 1];
} p2p_ban;

typedef struct p2p_book p2p_book;

/* path may be NULL (memory only); both env and path are copied/borrowed:
 * env is borrowed, path copied. NULL on out of memory. */
OL_MUST_CHECK p2p_book *p2p_book_new(const util_env *env, const char *path);
void p2p_book_free(p2p_book *b);

/* Reads the file (absent: an empty book) and drops bans expired at now_ms.
 * UTIL_EINVAL when the file is not a peer book, UTIL_EIO on a read error. */
OL_MUST_CHECK int p2p_book_load(p2p_book *b, uint64_t now_ms, util_err *err);
/* Replaces the file atomically (written to PATH.tmp, synced, renamed, the
 * directory synced). 0 without a path. */
OL_MUST_CHECK int p2p_book_save(p2p_book *b, util_err *err);
/* 1 when something changed since the last load or save. */
OL_MUST_CHECK int p2p_book_dirty(const p2p_book *b);

/* Adds the address, or updates host and port of a known id. */
void p2p_book_add(p2p_book *b, const p2p_peer_addr *a);
void p2p_book_remove(p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN]);
/* A session with id opened / a dial to it failed (the next try is then put
 * off by backoff_ms << failures, at most max_ms). */
void p2p_book_mark_ok(p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN], uint64_t now_ms);
void p2p_book_mark_failed(p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN], uint64_t now_ms,
                          uint64_t backoff_ms, uint64_t max_ms);
size_t p2p_book_count(const p2p_book *b);
/* Borrowed until the next call that changes the book. */
OL_MUST_CHECK const p2p_book_addr *p2p_book_at(const p2p_book *b, size_t i);
OL_MUST_CHECK const p2p_book_addr *p2p_book_find(const p2p_book *b,
                                                 const uint8_t id[P2P_NODE_ID_LEN]);

/* Bans id until until_ms (a longer existing ban is kept). */
void p2p_book_ban(p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN], uint64_t until_ms,
                  const char *reason);
/* The ban in force on id at now_ms, or NULL (an expired one is dropped). */
OL_MUST_CHECK const p2p_ban *p2p_book_banned(p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN],
                                             uint64_t now_ms);
size_t p2p_book_ban_count(const p2p_book *b);

#endif
