/* What the RPC server knows per client address (used by rpc/transport/http.c; the
 * node makes one table for all its loops, rpc_http_cfg.addrtab), for the
 * per-address connection limit and the per-address rate limit
 * (docs/rpc-protocol.md, "Limits").
 *
 * Addresses are keyed as 16 bytes: an IPv4 address as its IPv4-mapped IPv6
 * form, an IPv6 address by its /64 prefix (one host usually holds a whole
 * /64, so counting single IPv6 addresses would let it open 2^64 "clients").
 *
 * The table has a fixed number of entries, chosen at creation: room for
 * every connection the servers sharing it can hold, plus
 * RPC_ADDRTAB_IDLE_ENTRIES for addresses without an open connection whose
 * rate state is kept (a client that reconnects does not get a fresh
 * allowance). An entry with connections is never evicted; when the table is
 * full, the idle entry used least recently is. Only a client with more than
 * RPC_ADDRTAB_IDLE_ENTRIES other addresses at hand can so wipe an idle
 * client's debt. Keys are hashed with a per-table random seed.
 *
 * Thread-safe (one mutex): the servers of several loops share one table
 * (openledgerd --rpc-threads), so limits hold per address, not per loop. */
#ifndef OL_RPC_ADDRTAB_H
#define OL_RPC_ADDRTAB_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>
#include "util/err.h"

#define RPC_ADDRTAB_IDLE_ENTRIES 4096

typedef struct rpc_addr_key {
    uint8_t b[16];
} rpc_addr_key;

typedef struct rpc_addrtab rpc_addrtab;

/* Fills *k from a peer address. Returns 0, or -1 for an address family
 * other than IPv4/IPv6 (the caller then does not count the connection). */
OL_MUST_CHECK int rpc_addr_key_from(const struct sockaddr *sa, rpc_addr_key *k);

/* A table for up to max_conns connections in total; per_addr connections
 * per address (0: no per-address limit). NULL when memory runs out. The
 * creator holds one reference. */
OL_MUST_CHECK rpc_addrtab *rpc_addrtab_new(size_t max_conns, unsigned per_addr);
void rpc_addrtab_ref(rpc_addrtab *t);
void rpc_addrtab_unref(rpc_addrtab *t); /* frees at the last reference; NULL: no-op */

/* A connection from k opens: 0, or UTIL_ELIMIT when k already holds
 * per_addr connections (or, should every entry hold connections, the table
 * is full). force skips the per-address limit: a connection moving from one
 * loop to another is counted on both for a moment. */
OL_MUST_CHECK int rpc_addrtab_conn_open(rpc_addrtab *t, const rpc_addr_key *k, int force);
/* A connection counted by rpc_addrtab_conn_open closes. */
void rpc_addrtab_conn_close(rpc_addrtab *t, const rpc_addr_key *k);
/* Open connections of k (for tests and logs). */
unsigned rpc_addrtab_conns(rpc_addrtab *t, const rpc_addr_key *k);

/* Rate limit per address, as a generic cell rate algorithm: each request
 * costs interval_ns and at most tolerance_ns of debt may be outstanding.
 * rpc_addrtab_rate_take charges n requests when all n fit and returns 1;
 * otherwise charges nothing and returns 0. n == 0 only asks whether one
 * more request would fit, without charging. */
OL_MUST_CHECK int rpc_addrtab_rate_take(rpc_addrtab *t, const rpc_addr_key *k, uint64_t now_ns,
                                        uint64_t interval_ns, uint64_t tolerance_ns, size_t n);

/* The same rule on one theoretical arrival time (*tat), for a connection
 * without a table. */
OL_MUST_CHECK int rpc_gcra_take(uint64_t *tat, uint64_t now_ns, uint64_t interval_ns,
                                uint64_t tolerance_ns, size_t n);

#endif
