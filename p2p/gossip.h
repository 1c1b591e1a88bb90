/* Transaction gossip bookkeeping: a bounded seen-cache of transaction ids,
 * each with the peers known to hold the transaction (the ones that sent it
 * to us), so a transaction is relayed once and never echoed back to a peer
 * that sent it (docs/p2p.md, "Gossip").
 *
 * A node notes every transaction it receives or admits; when the note says
 * it is new (and the node's admission accepts it), the node sends it to
 * every peer for which p2p_gossip_peer_has is 0. The cache keeps the last
 * `capacity` ids in arrival order: the oldest is forgotten first, so memory
 * is bounded whatever peers send. A forgotten transaction that comes back is
 * offered to admission again, which refuses it if it is already pooled or
 * committed: the cache saves work, it does not decide validity.
 *
 * Peers are named by a caller-chosen non-zero token (a connection serial);
 * token 0 stands for this node (RPC). One thread uses a p2p_gossip. */
#ifndef OL_P2P_GOSSIP_H
#define OL_P2P_GOSSIP_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Peers remembered per transaction; a transaction received from more peers
 * is still never sent to the first ones. */
#define P2P_GOSSIP_HOLDERS 4

typedef struct p2p_gossip p2p_gossip;

/* A cache of `capacity` ids (at least 1); seed keys the hash (a secret, so
 * peers cannot aim ids at one bucket). NULL when memory runs out. */
OL_MUST_CHECK p2p_gossip *p2p_gossip_new(size_t capacity, uint64_t seed);
void p2p_gossip_free(p2p_gossip *g);

/* Records that `from` (0: this node) holds transaction id. Returns 1 when
 * the id was not in the cache (the caller admits and relays it), 0 when it
 * was (from is added to its holders). */
OL_MUST_CHECK int p2p_gossip_note(p2p_gossip *g, const uint8_t id[32], uint64_t from);
/* 1 when peer is known to hold id (it sent it to us), so relaying it there
 * would be an echo. */
OL_MUST_CHECK int p2p_gossip_peer_has(const p2p_gossip *g, const uint8_t id[32], uint64_t peer);
/* 1 when id is in the cache. */
OL_MUST_CHECK int p2p_gossip_seen(const p2p_gossip *g, const uint8_t id[32]);
/* Forgets id (a transaction admission refused for a reason that may pass,
 * such as a full pool, so a later copy is tried again). */
void p2p_gossip_forget(p2p_gossip *g, const uint8_t id[32]);
size_t p2p_gossip_count(const p2p_gossip *g);

#endif
