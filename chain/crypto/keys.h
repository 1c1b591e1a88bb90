/* BIP-340 Schnorr keys and signatures over secp256k1 (libsecp256k1).
 *
 * Public keys are 32-byte x-only keys. Messages signed are always 32-byte
 * digests (callers hash with a domain tag first). One shared, randomized
 * secp256k1 context is created on first use; all functions are thread-safe. */
#ifndef OL_CHAIN_KEYS_H
#define OL_CHAIN_KEYS_H

#include <stdint.h>

#include "util/err.h"

#define CHAIN_SECKEY_LEN 32
#define CHAIN_PUBKEY_LEN 32
#define CHAIN_SIG_LEN 64

typedef struct chain_keypair {
    uint8_t seckey[CHAIN_SECKEY_LEN];
    uint8_t pubkey[CHAIN_PUBKEY_LEN]; /* x-only */
} chain_keypair;

/* Fails (UTIL_ECRYPTO) if seckey is zero or >= the curve order. */
OL_MUST_CHECK int chain_keypair_from_seckey(chain_keypair *kp, const uint8_t seckey[32],
                                            util_err *err);
/* Fresh key from the OS CSPRNG (OpenSSL RAND_bytes). */
OL_MUST_CHECK int chain_keypair_generate(chain_keypair *kp, util_err *err);
/* Deterministic development key i: seckey = SHA-256("openledger devnet key" || le32(i)),
 * replaced by SHA-256(seckey) until valid in the (negligible) case it is not a
 * valid key. Returns 0, or -1 if no valid key was found (never in practice).
 * The derivation is published in docs/devnet.md. */
OL_MUST_CHECK int chain_keypair_dev(chain_keypair *kp, uint32_t index);
/* The shared, randomized libsecp256k1 context, for other users of the
 * library (the rollup's ECDSA): one context per process. */
struct secp256k1_context_struct;
const struct secp256k1_context_struct *chain_secp_ctx(void);

/* Wipes the secret key. */
void chain_keypair_clear(chain_keypair *kp);

/* BIP-340 sign of a 32-byte message with the caller's auxiliary randomness
 * aux32 (32 fresh random bytes are recommended); aux may be NULL for the
 * deterministic all-zero aux of the spec. Returns 0 or -1. */
OL_MUST_CHECK int chain_sign(uint8_t sig[64], const uint8_t msg[32], const chain_keypair *kp,
                             const uint8_t *aux32);
/* 1 if valid, 0 otherwise (including a pubkey that is not on the curve). */
OL_MUST_CHECK int chain_verify(const uint8_t sig[64], const uint8_t msg[32],
                               const uint8_t pubkey[32]);

/* A parsed x-only public key, for callers verifying many signatures of few
 * keys: parsing (a square root) is ~15% of a verification. Opaque. */
typedef struct chain_xonly {
    unsigned char data[64];
} chain_xonly;
/* 1 when pubkey is a valid x-only key (out filled), else 0. */
OL_MUST_CHECK int chain_xonly_parse(chain_xonly *out, const uint8_t pubkey[32]);
/* chain_verify with the key parsed by chain_xonly_parse. */
OL_MUST_CHECK int chain_verify_xonly(const uint8_t sig[64], const uint8_t msg[32],
                                     const chain_xonly *pk);

#endif
