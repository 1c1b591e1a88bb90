/* An authenticated, encrypted session between two peers, without I/O: the
 * caller moves bytes between the socket and the session (CometBFT's
 * SecretConnection and Noise's XX pattern are the models; docs/p2p.md,
 * "Handshake" and "Framing", is the specification).
 *
 *   1. each side sends HELLO in the clear: magic "OLP2", le16 protocol
 *      version, its fresh ephemeral secp256k1 public key (33 bytes);
 *   2. both derive shared = ECDH(eph, peer eph) (libsecp256k1 ecdh), the
 *      transcript hash th = SHA-256("openledger/p2p/hs/v1" || lo || hi)
 *      over the two HELLOs sorted bytewise, and with HKDF-SHA-256 (salt th)
 *      one ChaCha20-Poly1305 key per direction;
 *   3. each side sends AUTH, sealed: its node public key, chain id, genesis
 *      hash, protocol version, listen port, and a BIP-340 signature by its
 *      node key over th and those fields. The receiver checks the signature,
 *      chain id, genesis hash, version, and (when dialled by id) the id.
 * Then frames flow: le32 length || u8 type (both in the clear, authenticated
 * as AAD) || ciphertext || 16-byte tag, nonce = 4 zero bytes || le64 counter
 * per direction. The type's own size limit (p2p_msg_max_len) is checked on
 * the 5-byte header, before the body is buffered.
 *
 * Memory: a session owns its keys (wiped on free) and nothing else; the
 * caller owns every buffer it passes. One thread drives a session. */
#ifndef OL_P2P_SESSION_H
#define OL_P2P_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/keys.h"
#include "util/bytes.h"
#include "util/err.h"

#define P2P_PROTOCOL_VERSION 1
#define P2P_NODE_ID_LEN 20  /* bytes; printed as 40 lowercase hex digits */
#define P2P_HELLO_LEN 39    /* "OLP2" || le16 version || 33-byte key */
#define P2P_FRAME_HDR_LEN 5 /* le32 ciphertext length (tag included) || u8 type */
#define P2P_TAG_LEN 16
/* AUTH is the first sealed frame (type P2P_MSG_AUTH = 0); its payload is at
 * most this long. */
#define P2P_AUTH_MAX 256

/* Node id: the first 20 bytes of SHA-256("openledger/p2p/node-id" || x-only
 * public key). */
void p2p_node_id(const uint8_t pubkey[CHAIN_PUBKEY_LEN], uint8_t id[P2P_NODE_ID_LEN]);
/* 40 hex digits + NUL. */
void p2p_node_id_hex(const uint8_t id[P2P_NODE_ID_LEN], char out[2 * P2P_NODE_ID_LEN + 1]);
/* Parses 40 hex digits (no 0x). 0 or UTIL_EINVAL. */
OL_MUST_CHECK int p2p_node_id_parse(const char *s, uint8_t id[P2P_NODE_ID_LEN], util_err *err);

typedef struct p2p_session_cfg {
    const chain_keypair *node_key; /* borrowed for the call to p2p_session_new */
    const char *chain_id;
    uint8_t genesis_hash[32];
    uint16_t listen_port; /* announced in AUTH (0: does not accept) */
    int expect_id_set;    /* dialled by id: the peer must prove this id */
    uint8_t expect_id[P2P_NODE_ID_LEN];
} p2p_session_cfg;

/* What the peer proved in its AUTH. */
typedef struct p2p_peer_info {
    uint8_t pubkey[CHAIN_PUBKEY_LEN];
    uint8_t id[P2P_NODE_ID_LEN];
    uint16_t version;
    uint16_t listen_port;
} p2p_peer_info;

typedef struct p2p_session p2p_session;

/* A new session; *hello gets the HELLO to send first (appended). The
 * ephemeral key comes from OpenSSL's CSPRNG. */
OL_MUST_CHECK int p2p_session_new(p2p_session **out, const p2p_session_cfg *cfg, util_buf *hello,
                                  util_err *err);
void p2p_session_free(p2p_session *s);

/* 1 once both AUTHs were exchanged and checked, 0 again once dead. The peer
 * is known from then on, also after a later error (to name whom to ban);
 * NULL before. */
int p2p_session_open(const p2p_session *s);
const p2p_peer_info *p2p_session_peer(const p2p_session *s);

/* A message received from the peer. payload points into the session's
 * buffer, valid until the next p2p_session_recv. */
typedef struct p2p_frame {
    uint8_t type;
    const uint8_t *payload;
    size_t len;
} p2p_frame;

/* Per-type size limit for received frames: the largest payload a type may
 * carry, or 0 when the type may not be received now (unknown, reserved, or
 * a response nobody asked for). The session calls it on each frame header. */
typedef size_t (*p2p_max_len_fn)(void *ctx, uint8_t type);

/* Feeds bytes read from the socket: consumes what it can (*used), and
 * returns at most one event per call:
 *   *got = 0  need more bytes (everything usable was consumed);
 *   *got = 1  the handshake just completed (send what *out holds, if any);
 *   *got = 2  a message in *msg.
 * During the handshake the session may append bytes to *out (its AUTH) that
 * the caller must send. Call again while *used > 0 or *got != 0.
 * UTIL_EINVAL on anything the peer did wrong (bad magic or version, wrong
 * chain or genesis, bad signature, unexpected id, bad tag, replayed or
 * reordered frame, oversized or unexpected frame type): err starts with a
 * stable token ("wrong_genesis: ...", docs/p2p.md lists them) and the session
 * is dead. Other UTIL_E* codes are local failures; they end the session too,
 * and a dead session answers every call with UTIL_ESTATE. max_len may be NULL:
 * then every type but AUTH may carry up to P2P_FRAME_MAX (tests, benchmarks). */
OL_MUST_CHECK int p2p_session_recv(p2p_session *s, const uint8_t *p, size_t n, size_t *used,
                                   p2p_max_len_fn max_len, void *max_ctx, util_buf *out, int *got,
                                   p2p_frame *msg, util_err *err);

/* Seals one message into *out (appended): header, ciphertext, tag. Only
 * once open (UTIL_ESTATE before, and once dead). UTIL_EINVAL for type 0
 * (AUTH) and UTIL_ELIMIT past P2P_FRAME_MAX payload, the session unharmed;
 * UTIL_ELIMIT when the nonce counter would wrap, which ends it. */
#define P2P_FRAME_MAX (16u * 1024u * 1024u + 65536u)
OL_MUST_CHECK int p2p_session_seal(p2p_session *s, uint8_t type, const uint8_t *payload, size_t len,
                                   util_buf *out, util_err *err);

#endif
