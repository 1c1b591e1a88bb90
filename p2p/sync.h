/* Block sync scheduling (docs/p2p.md, "Block sync"), without I/O: which
 * ranges of blocks to ask which peers for, which answers to accept, which
 * peers to ban, and which arrived range to apply next. The caller sends the
 * GET_BLOCKS, receives BLOCKS, validates and applies the blocks in order
 * (chain_blockexec_validate then _apply) and tells the scheduler.
 *
 *   - The target is the highest height a connected peer claimed (STATUS).
 *   - Ranges of at most `range` blocks (<= P2P_GET_BLOCKS_MAX_COUNT) are
 *     asked from several peers at once: each request goes to a peer that
 *     claimed the range's first height, with the fewest requests in flight
 *     (at most max_per_peer each), and nothing past height + window is asked
 *     for, which bounds the blocks held in memory.
 *   - An answer must match a request in flight from that peer (same first
 *     height, at most the count asked). Fewer blocks than asked is allowed
 *     (a response is capped in bytes): the rest is asked again. No block at
 *     all for a height the peer claimed, or no answer within timeout_ms, is
 *     misbehaviour: the caller bans the peer, whose requests go to others.
 *   - Heights not covered by a request or an arrived range (a peer left, a
 *     range failed) are simply asked again.
 *   - Caught up (height >= target) the same machinery follows the head: each
 *     STATUS announcing height + 1 makes a request for that block.
 *
 * Peers are named by caller-chosen non-zero tokens. Times are the caller's
 * monotonic milliseconds. An arrived range is an opaque `user` pointer the
 * scheduler holds until p2p_sync_pop_ready hands it back, or releases with
 * cfg.free_user when it is no longer needed. One thread uses a p2p_sync. */
#ifndef OL_P2P_SYNC_H
#define OL_P2P_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct p2p_sync_cfg {
    uint32_t range;        /* blocks per request, 1..64; 0: 64 */
    uint32_t max_per_peer; /* requests in flight per peer; 0: 2 */
    uint64_t window;       /* blocks ahead of the head asked for; 0: 1024 */
    uint64_t timeout_ms;   /* per request; 0: 15000 */
    void (*free_user)(void *user);
} p2p_sync_cfg;

typedef struct p2p_sync p2p_sync;

/* A scheduler for a node whose head is at `height`. NULL: out of memory. */
OL_MUST_CHECK p2p_sync *p2p_sync_new(const p2p_sync_cfg *cfg, uint64_t height);
void p2p_sync_free(p2p_sync *s);

/* A peer connected or announced its head: claimed heights only grow (a
 * lower claim is ignored). 0 or UTIL_ENOMEM. */
OL_MUST_CHECK int p2p_sync_peer_status(p2p_sync *s, uint64_t peer, uint64_t height);
/* The peer is gone: its requests in flight are dropped (asked again from
 * others); ranges it already served stay. */
void p2p_sync_peer_remove(p2p_sync *s, uint64_t peer);
/* The peer's claimed height, 0 when unknown. */
uint64_t p2p_sync_peer_height(const p2p_sync *s, uint64_t peer);

/* The next request to send now, if any: 1 and *peer, *from, *count filled
 * (the request is then in flight until now_ms + timeout_ms), or 0. Call
 * until it returns 0. */
OL_MUST_CHECK int p2p_sync_next_request(p2p_sync *s, uint64_t now_ms, uint64_t *peer,
                                        uint64_t *from, uint32_t *count);

/* 1 when peer has a request in flight (a BLOCKS from it may be read). */
OL_MUST_CHECK int p2p_sync_expecting(const p2p_sync *s, uint64_t peer);

enum p2p_sync_verdict {
    P2P_SYNC_ACCEPTED = 0, /* held: user now belongs to the scheduler */
    P2P_SYNC_STALE,        /* answered a request the head has passed: drop user */
    P2P_SYNC_BAN,          /* misbehaviour (err says what): ban the peer, drop user */
};
/* A BLOCKS answer from peer: n blocks from `from`. Returns a verdict. */
OL_MUST_CHECK int p2p_sync_on_blocks(p2p_sync *s, uint64_t peer, uint64_t from, uint32_t n,
                                     void *user, util_err *err);

/* A peer whose request passed its deadline: 1 and *peer filled (the caller
 * bans it; err says why), or 0. The request is dropped. Call until 0. */
OL_MUST_CHECK int p2p_sync_expired(p2p_sync *s, uint64_t now_ms, uint64_t *peer, util_err *err);

/* The next arrived range to apply: the one holding the lowest height above
 * the head that no popped range covers (height + 1 when none is being
 * applied). 1 with *peer (who served it), *from, *n and *user (now the
 * caller's), or 0. Popped ranges are not asked again; several may be popped
 * ahead (their signatures checked while an earlier one executes), and are
 * applied in the order popped. */
OL_MUST_CHECK int p2p_sync_pop_ready(p2p_sync *s, uint64_t *peer, uint64_t *from, uint32_t *n,
                                     void **user);
/* The head is now at height (blocks applied from popped ranges, or arrived
 * by other means): releases the ranges it passed. */
void p2p_sync_applied(p2p_sync *s, uint64_t height);
/* A popped range failed (a bad block): forgets every popped range not yet
 * passed by the head, whose heights are then asked again. The caller drops
 * those ranges. */
void p2p_sync_abandon(p2p_sync *s);

uint64_t p2p_sync_height(const p2p_sync *s);
/* The highest height a connected peer claimed (at least the height). */
uint64_t p2p_sync_target(const p2p_sync *s);
/* 1 while more than `lag` blocks behind the target. */
OL_MUST_CHECK int p2p_sync_behind(const p2p_sync *s, uint64_t lag);
/* Requests in flight, and arrived ranges held. */
size_t p2p_sync_in_flight(const p2p_sync *s);
size_t p2p_sync_held(const p2p_sync *s);

#endif
