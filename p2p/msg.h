/* The messages peers exchange inside a session (p2p/session.h), with one
 * canonical encoding each and a hard size limit per type (docs/p2p.md,
 * "Messages"). Decoders take untrusted bytes: they check every length
 * against its limit before allocating, refuse trailing bytes, and fill err
 * with what was wrong. Blocks and transactions travel as their canonical
 * chain encodings; decoding them (chain_block_decode, chain_tx_decode) is
 * the receiver's next step, not this module's.
 *
 * Memory: a decoded message points into the payload it was decoded from
 * (borrowed: keep the payload alive while using it), except the arrays
 * p2p_txs_free and p2p_blocks_free release (safe on a zeroed struct and
 * twice). A failed decode leaves its output as it was and owns nothing.
 * Encoders append to a util_buf. */
#ifndef OL_P2P_MSG_H
#define OL_P2P_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "chain/types/block.h"
#include "consensus/msg.h"
#include "p2p/session.h"
#include "util/bytes.h"
#include "util/err.h"

enum p2p_msg_type {
    P2P_MSG_AUTH = 0x00,       /* handshake only (p2p/session.c) */
    P2P_MSG_STATUS = 0x01,     /* height, head id: sent on open and after each new head */
    P2P_MSG_TXS = 0x02,        /* gossiped transactions */
    P2P_MSG_GET_BLOCKS = 0x03, /* from height, count */
    P2P_MSG_BLOCKS = 0x04,     /* response: blocks with the commits that finalised them */
    P2P_MSG_GET_PEERS = 0x05,
    P2P_MSG_PEERS = 0x06,
    P2P_MSG_PING = 0x07,
    P2P_MSG_PONG = 0x08,
    /* 0x20..0x2f: consensus. The first three are consensus/msg.h's
     * encodings (docs/p2p.md, "Consensus messages"); the rest is reserved. */
    P2P_MSG_CONSENSUS_FIRST = 0x20,
    P2P_MSG_PROPOSAL = 0x20, /* signed proposal (CONS_PROPOSAL_LEN) then the block's encoding */
    P2P_MSG_VOTE = 0x21,     /* one signed prevote or precommit */
    P2P_MSG_EVIDENCE = 0x22, /* two conflicting signed votes */
    /* a validator's signature of an L2 output root (docs/rollup.md, "Proposer") */
    P2P_MSG_OUTPUT_SIG = 0x23,
    P2P_MSG_CONSENSUS_LAST = 0x2f,
};

/* Limits (docs/p2p.md). */
#define P2P_TXS_MAX_COUNT 256
#define P2P_TXS_MAX_LEN (1024u * 1024u)
/* One gossiped tx: the default genesis txMaxBytes. The receiver re-checks
 * each tx against its own genesis (chain_tx_decode, admission). */
#define P2P_TX_MAX_LEN 131072u
#define P2P_GET_BLOCKS_MAX_COUNT 64
#define P2P_BLOCKS_MAX_LEN P2P_FRAME_MAX /* one block may be blockMaxBytes (8 MiB) */
/* A proposal carries its block: the block's hard decoding limit. */
#define P2P_PROPOSAL_MAX_LEN (CONS_PROPOSAL_LEN + CHAIN_BLOCK_MAX_SIZE)
#define P2P_PEERS_MAX_COUNT 32
#define P2P_HOST_MAX 63 /* an IP literal or a host name */
#define P2P_PEERS_MAX_LEN (2u + P2P_PEERS_MAX_COUNT * (P2P_NODE_ID_LEN + 1u + P2P_HOST_MAX + 2u))

/* OUTPUT_SIG: height u64 | output root[32] | ECDSA signature[65]. */
#define P2P_OUTPUT_SIG_LEN (8u + 32u + 65u)

/* 1 when a peer may send this type on an open session (STATUS .. PONG,
 * PROPOSAL .. OUTPUT_SIG); 0 for AUTH (the session's own, during the
 * handshake only), for the rest of the consensus range (0x24..0x2f,
 * reserved), and for every other type. A receiver refuses (and bans for) a frame of a type that is
 * not known, whatever its length. */
OL_MUST_CHECK int p2p_msg_known(uint8_t type);
/* Largest payload of a known type; 0 for the others. For GET_PEERS, 0 is a
 * real limit (its payload is empty), not a refusal, so the rule is
 * p2p_msg_len_ok: p2p_msg_known(type) && len <= p2p_msg_max_len(type).
 * A p2p_max_len_fn cannot say "0 bytes allowed" (0 refuses the type in
 * p2p_session_recv): it answers at least 1 for GET_PEERS, and the receiver
 * refuses a non-empty one on delivery (p2p/net.c does both). A receiver that
 * did not ask for BLOCKS answers 0 for that type itself. */
size_t p2p_msg_max_len(uint8_t type);
OL_MUST_CHECK int p2p_msg_len_ok(uint8_t type, size_t len);
/* "status", "txs", ..., "consensus", "unknown". */
const char *p2p_msg_name(uint8_t type);

typedef struct p2p_status {
    uint64_t height; /* committed head height (0: genesis only) */
    uint8_t head[32];
} p2p_status;

typedef struct p2p_bytes {
    const uint8_t *p;
    size_t n;
} p2p_bytes;

typedef struct p2p_txs {
    p2p_bytes *txs; /* each a canonical chain_tx encoding; array owned */
    size_t n;
} p2p_txs;

typedef struct p2p_get_blocks {
    uint64_t from;
    uint32_t count; /* 1..P2P_GET_BLOCKS_MAX_COUNT */
} p2p_get_blocks;

typedef struct p2p_block_item {
    p2p_bytes block;  /* canonical chain_block encoding */
    p2p_bytes commit; /* canonical chain_commit that finalised it */
} p2p_block_item;

typedef struct p2p_blocks {
    uint64_t from;         /* height of items[0] */
    p2p_block_item *items; /* consecutive heights; array owned; n = 0: none served */
    size_t n;
} p2p_blocks;

typedef struct p2p_peer_addr {
    uint8_t id[P2P_NODE_ID_LEN];
    char host[P2P_HOST_MAX + 1];
    uint16_t port;
} p2p_peer_addr;

typedef struct p2p_peers {
    p2p_peer_addr addrs[P2P_PEERS_MAX_COUNT];
    size_t n;
} p2p_peers;

/* Encoders append; they return UTIL_ELIMIT when the result would pass the
 * type's limit, UTIL_EINVAL for what the decoder would refuse (an empty tx,
 * block or commit, no txs, a count out of range, an invalid host, port 0),
 * UTIL_ENOMEM when out ran out of memory (then latched in out); nothing is
 * appended on the other failures. Decoders return UTIL_EINVAL for
 * anything the peer got wrong, a payload past the type's limit included (so
 * a p2p_net_handler can return their code as is: EINVAL bans), or
 * UTIL_ENOMEM. Whatever decodes re-encodes to the same bytes. */
OL_MUST_CHECK int p2p_status_encode(const p2p_status *m, util_buf *out, util_err *err);
OL_MUST_CHECK int p2p_status_decode(p2p_status *m, const uint8_t *p, size_t n, util_err *err);
OL_MUST_CHECK int p2p_txs_encode(const p2p_bytes *txs, size_t n, util_buf *out, util_err *err);
OL_MUST_CHECK int p2p_txs_decode(p2p_txs *m, const uint8_t *p, size_t n, util_err *err);
void p2p_txs_free(p2p_txs *m);
OL_MUST_CHECK int p2p_get_blocks_encode(const p2p_get_blocks *m, util_buf *out, util_err *err);
OL_MUST_CHECK int p2p_get_blocks_decode(p2p_get_blocks *m, const uint8_t *p, size_t n,
                                        util_err *err);
OL_MUST_CHECK int p2p_blocks_encode(uint64_t from, const p2p_block_item *items, size_t n,
                                    util_buf *out, util_err *err);
OL_MUST_CHECK int p2p_blocks_decode(p2p_blocks *m, const uint8_t *p, size_t n, util_err *err);
void p2p_blocks_free(p2p_blocks *m);
OL_MUST_CHECK int p2p_peers_encode(const p2p_peers *m, util_buf *out, util_err *err);
OL_MUST_CHECK int p2p_peers_decode(p2p_peers *m, const uint8_t *p, size_t n, util_err *err);
typedef struct p2p_output_sig {
    uint64_t height;
    uint8_t root[32];
    uint8_t sig[65];
} p2p_output_sig;
OL_MUST_CHECK int p2p_output_sig_encode(const p2p_output_sig *m, util_buf *out, util_err *err);
OL_MUST_CHECK int p2p_output_sig_decode(p2p_output_sig *m, const uint8_t *p, size_t n,
                                        util_err *err);
/* PING and PONG carry a le64 nonce. */
OL_MUST_CHECK int p2p_ping_encode(uint64_t nonce, util_buf *out, util_err *err);
OL_MUST_CHECK int p2p_ping_decode(uint64_t *nonce, const uint8_t *p, size_t n, util_err *err);

/* 1 when host may be announced and dialled: 1..P2P_HOST_MAX characters, an
 * IPv4 literal, an IPv6 literal (without brackets), or a name of letters,
 * digits, '.', '-' and '_' not starting with '.' or '-'. PEERS decoding and
 * p2p_peer_addr_parse apply it. */
OL_MUST_CHECK int p2p_host_valid(const char *host);

/* Parses "ID@HOST:PORT" (ID 40 hex digits; HOST an IPv4 literal, [IPv6] or
 * a name) into a; 0 or UTIL_EINVAL with err saying what is wrong. */
OL_MUST_CHECK int p2p_peer_addr_parse(const char *s, p2p_peer_addr *a, util_err *err);
/* Writes "ID@HOST:PORT" (IPv6 hosts in brackets); out of at least 128 bytes. */
void p2p_peer_addr_format(const p2p_peer_addr *a, char *out, size_t n);

#endif
