/* The cryptography under p2p/session.c, kept apart so the handshake reads
 * as protocol and tests can play a man in the middle with the same key
 * schedule: ephemeral keys, ECDH, the transcript hash and HKDF
 * (docs/p2p.md, "Handshake"), and ChaCha20-Poly1305 frames ("Framing").
 * Internal to p2p/: not an interface for other modules. */
#ifndef OL_P2P_SESSION_CRYPTO_H
#define OL_P2P_SESSION_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* 0 or -1: n bytes from OpenSSL's CSPRNG. */
OL_MUST_CHECK int p2p_random(uint8_t *out, size_t n);

/* A fresh ephemeral secp256k1 key: 32-byte secret, 33-byte compressed public
 * key. 0 or UTIL_ECRYPTO. */
OL_MUST_CHECK int p2p_eph_generate(uint8_t sec[32], uint8_t pub[33], util_err *err);

/* From our ephemeral secret and the peer's compressed ephemeral key, with the
 * two HELLOs in bytewise order (lo < hi): th = SHA-256("openledger/p2p/hs/v1"
 * || lo || hi), shared = libsecp256k1 ECDH (SHA-256 of the compressed shared
 * point), and k1 || k2 = HKDF-SHA-256(salt th, ikm shared, info
 * "openledger/p2p/keys/v1", 64 bytes). The side that sent lo sends with k1.
 * UTIL_EINVAL when the peer's key is not a point on the curve, UTIL_ECRYPTO
 * on a library failure. */
OL_MUST_CHECK int p2p_key_schedule(const uint8_t sec[32], const uint8_t peer_pub[33],
                                   const uint8_t *lo, const uint8_t *hi, uint8_t th[32],
                                   uint8_t k1[32], uint8_t k2[32], util_err *err);

/* One direction's ChaCha20-Poly1305 key; NULL when out of memory. */
typedef struct p2p_aead p2p_aead;
p2p_aead *p2p_aead_new(const uint8_t key[32], int encrypt);
void p2p_aead_free(p2p_aead *a);
/* Nonce = 4 zero bytes || le64 ctr; AAD = the 5-byte frame header. seal
 * writes n bytes of ciphertext and the 16-byte tag at ct (ct + n); open
 * decrypts ct in place when pt == ct. 0 or -1 (open: the tag is wrong). */
OL_MUST_CHECK int p2p_aead_seal(p2p_aead *a, uint64_t ctr, const uint8_t hdr[5], const uint8_t *pt,
                                size_t n, uint8_t *ct);
OL_MUST_CHECK int p2p_aead_open(p2p_aead *a, uint64_t ctr, const uint8_t hdr[5], uint8_t *pt,
                                size_t n, const uint8_t tag[16]);

/* For tests only: moves a session's nonce counters (send, receive), so the
 * refusal to wrap past 2^64 - 1 can be reached. */
typedef struct p2p_session p2p_session;
void p2p_session_set_counters(p2p_session *s, uint64_t tx, uint64_t rx);

#endif
