/* BIP-340 keys and signatures over libsecp256k1, and the public devnet keys
 * (chain/crypto/keys.h). */
#include "chain/crypto/keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "util/bytes.h"

static secp256k1_context *g_ctx;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void ctx_init(void)
{
    unsigned char seed[32];
    g_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    /* Without a context or entropy the node cannot sign or verify anything. */
    if (!g_ctx) abort();
    /* Randomization blinds the signing computations against side channels;
     * it does not affect results, so failure to get entropy is fatal rather
     * than silently skipped. */
    if (RAND_bytes(seed, sizeof seed) != 1) abort();
    if (!secp256k1_context_randomize(g_ctx, seed)) abort();
    OPENSSL_cleanse(seed, sizeof seed);
}

static const secp256k1_context *ctx(void)
{
    pthread_once(&g_once, ctx_init);
    return g_ctx;
}

const secp256k1_context *chain_secp_ctx(void)
{
    return ctx();
}

/* Signing only reads the context after randomization, which libsecp256k1
 * documents as safe to share between threads. */
static int make_keypair(chain_keypair *kp, const uint8_t seckey[32])
{
    secp256k1_keypair k;
    secp256k1_xonly_pubkey xo;
    int ok = secp256k1_keypair_create(ctx(), &k, seckey) &&
             secp256k1_keypair_xonly_pub(ctx(), &xo, NULL, &k) &&
             secp256k1_xonly_pubkey_serialize(ctx(), kp->pubkey, &xo);
    OPENSSL_cleanse(&k, sizeof k);
    if (!ok) return -1;
    memcpy(kp->seckey, seckey, CHAIN_SECKEY_LEN);
    return 0;
}

int chain_keypair_from_seckey(chain_keypair *kp, const uint8_t seckey[32], util_err *err)
{
    if (make_keypair(kp, seckey))
        return util_err_set(err, UTIL_ECRYPTO,
                            "invalid secret key (zero or not below the "
                            "curve order)");
    return 0;
}

int chain_keypair_generate(chain_keypair *kp, util_err *err)
{
    uint8_t sk[32];
    /* A uniformly random 32-byte string is invalid with probability ~2^-128;
     * the loop bound only guards against a broken RNG. */
    for (int i = 0; i < 16; i++) {
        if (RAND_bytes(sk, sizeof sk) != 1) break;
        if (make_keypair(kp, sk) == 0) {
            OPENSSL_cleanse(sk, sizeof sk);
            return 0;
        }
    }
    OPENSSL_cleanse(sk, sizeof sk);
    return util_err_set(err, UTIL_ECRYPTO, "random key generation failed");
}

int chain_keypair_dev(chain_keypair *kp, uint32_t index)
{
    static const char tag[] = "openledger devnet key";
    uint8_t in[sizeof tag - 1 + 4], sk[32];
    memcpy(in, tag, sizeof tag - 1);
    util_put_u32le(in + sizeof tag - 1, index);
    chain_sha256(sk, in, sizeof in);
    /* Rehashing an invalid candidate is deterministic and terminates with
     * overwhelming probability on the first try. */
    for (int i = 0; i < 256; i++) {
        if (make_keypair(kp, sk) == 0) {
            OPENSSL_cleanse(sk, sizeof sk);
            return 0;
        }
        uint8_t t[32];
        chain_sha256(t, sk, sizeof sk);
        memcpy(sk, t, sizeof sk);
        OPENSSL_cleanse(t, sizeof t);
    }
    OPENSSL_cleanse(sk, sizeof sk);
    return -1;
}

void chain_keypair_clear(chain_keypair *kp)
{
    OPENSSL_cleanse(kp->seckey, sizeof kp->seckey);
}

int chain_sign(uint8_t sig[64], const uint8_t msg[32], const chain_keypair *kp,
               const uint8_t *aux32)
{
    secp256k1_keypair k;
    int ok = secp256k1_keypair_create(ctx(), &k, kp->seckey) &&
             secp256k1_schnorrsig_sign32(ctx(), sig, msg, &k, aux32);
    OPENSSL_cleanse(&k, sizeof k);
    return ok ? 0 : -1;
}

int chain_verify(const uint8_t sig[64], const uint8_t msg[32], const uint8_t pubkey[32])
{
    secp256k1_xonly_pubkey pk;
    if (!secp256k1_xonly_pubkey_parse(ctx(), &pk, pubkey)) return 0;
    return secp256k1_schnorrsig_verify(ctx(), sig, msg, 32, &pk) == 1;
}

_Static_assert(sizeof(chain_xonly) == sizeof(secp256k1_xonly_pubkey), "chain_xonly holds one key");

int chain_xonly_parse(chain_xonly *out, const uint8_t pubkey[32])
{
    secp256k1_xonly_pubkey pk;
    if (!secp256k1_xonly_pubkey_parse(ctx(), &pk, pubkey)) return 0;
    memcpy(out->data, &pk, sizeof pk);
    return 1;
}

int chain_verify_xonly(const uint8_t sig[64], const uint8_t msg[32], const chain_xonly *k)
{
    secp256k1_xonly_pubkey pk;
    memcpy(&pk, k->data, sizeof pk);
    return secp256k1_schnorrsig_verify(ctx(), sig, msg, 32, &pk) == 1;
}
