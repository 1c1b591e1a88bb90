/* Ephemeral keys, ECDH, the handshake key schedule and the frame AEAD of the
 * p2p session (p2p/session_crypto.h). libsecp256k1 does the curve, OpenSSL
 * the randomness, HKDF and ChaCha20-Poly1305. */
#include "p2p/session_crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "util/bytes.h"

/* Our own context: chain/crypto/keys.c keeps its context private, and ECDH
 * with an ephemeral key wants the same randomized blinding. */
static secp256k1_context *g_ctx;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void ctx_init(void)
{
    unsigned char seed[32];
    secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!c) return;
    if (RAND_bytes(seed, sizeof seed) != 1 || !secp256k1_context_randomize(c, seed)) {
        secp256k1_context_destroy(c);
        return;
    }
    OPENSSL_cleanse(seed, sizeof seed);
    g_ctx = c;
}

static const secp256k1_context *ctx(void)
{
    pthread_once(&g_once, ctx_init);
    return g_ctx;
}

int p2p_random(uint8_t *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

int p2p_eph_generate(uint8_t sec[32], uint8_t pub[33], util_err *err)
{
    const secp256k1_context *c = ctx();
    if (!c) return util_err_set(err, UTIL_ECRYPTO, "p2p: no secp256k1 context");
    secp256k1_pubkey pk;
    size_t len = 33;
    /* A random 32-byte string is a valid key but with probability ~2^-128. */
    for (int i = 0; i < 8; i++) {
        if (p2p_random(sec, 32)) break;
        if (secp256k1_ec_pubkey_create(c, &pk, sec) &&
            secp256k1_ec_pubkey_serialize(c, pub, &len, &pk, SECP256K1_EC_COMPRESSED))
            return 0;
    }
    OPENSSL_cleanse(sec, 32);
    return util_err_set(err, UTIL_ECRYPTO, "p2p: cannot create an ephemeral key");
}

static int hkdf(const uint8_t salt[32], const uint8_t ikm[32], uint8_t out[64])
{
    static const char info[] = "openledger/p2p/keys/v1";
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, sizeof info - 1),
        OSSL_PARAM_construct_end(),
    };
    int ok = kc && EVP_KDF_derive(kc, out, 64, params) == 1;
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

int p2p_key_schedule(const uint8_t sec[32], const uint8_t peer_pub[33], const uint8_t *lo,
                     const uint8_t *hi, uint8_t th[32], uint8_t k1[32], uint8_t k2[32],
                     util_err *err)
{
    static const char tag[] = "openledger/p2p/hs/v1";
    const secp256k1_context *c = ctx();
    if (!c) return util_err_set(err, UTIL_ECRYPTO, "no secp256k1 context");
    secp256k1_pubkey pk;
    /* Only compressed encodings: parse would also take 65-byte forms, and a
     * HELLO has exactly 33 bytes for the key. */
    if ((peer_pub[0] != 2 && peer_pub[0] != 3) || !secp256k1_ec_pubkey_parse(c, &pk, peer_pub, 33))
        return util_err_set(err, UTIL_EINVAL, "ephemeral key is not a compressed curve point");
    uint8_t shared[32], okm[64];
    if (!secp256k1_ecdh(c, shared, &pk, sec, NULL, NULL))
        return util_err_set(err, UTIL_ECRYPTO, "ECDH failed");
    chain_sha256_ctx h;
    if (chain_sha256_begin(&h)) {
        OPENSSL_cleanse(shared, sizeof shared);
        return util_err_set(err, UTIL_ECRYPTO, "SHA-256 failed");
    }
    chain_sha256_update(&h, tag, sizeof tag - 1);
    chain_sha256_update(&h, lo, 39);
    chain_sha256_update(&h, hi, 39);
    chain_sha256_final(&h, th);
    chain_sha256_free(&h);
    int rc = hkdf(th, shared, okm);
    OPENSSL_cleanse(shared, sizeof shared);
    if (rc) return util_err_set(err, UTIL_ECRYPTO, "HKDF failed");
    memcpy(k1, okm, 32);
    memcpy(k2, okm + 32, 32);
    OPENSSL_cleanse(okm, sizeof okm);
    return 0;
}

struct p2p_aead {
    EVP_CIPHER_CTX *c;
};

p2p_aead *p2p_aead_new(const uint8_t key[32], int encrypt)
{
    p2p_aead *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->c = EVP_CIPHER_CTX_new();
    /* The key is set once; each frame only sets its nonce. */
    if (!a->c || EVP_CipherInit_ex(a->c, EVP_chacha20_poly1305(), NULL, key, NULL, encrypt) != 1) {
        p2p_aead_free(a);
        return NULL;
    }
    return a;
}

void p2p_aead_free(p2p_aead *a)
{
    if (!a) return;
    EVP_CIPHER_CTX_free(a->c); /* wipes the key schedule */
    free(a);
}

static void nonce_of(uint8_t nonce[12], uint64_t ctr)
{
    memset(nonce, 0, 4);
    util_put_u64le(nonce + 4, ctr);
}

int p2p_aead_seal(p2p_aead *a, uint64_t ctr, const uint8_t hdr[5], const uint8_t *pt, size_t n,
                  uint8_t *ct)
{
    uint8_t nonce[12];
    int l;
    nonce_of(nonce, ctr);
    if (n > (size_t)INT32_MAX) return -1;
    if (EVP_CipherInit_ex(a->c, NULL, NULL, NULL, nonce, 1) != 1) return -1;
    if (EVP_CipherUpdate(a->c, NULL, &l, hdr, 5) != 1) return -1;
    if (n && EVP_CipherUpdate(a->c, ct, &l, pt, (int)n) != 1) return -1;
    if (EVP_CipherFinal_ex(a->c, ct + n, &l) != 1) return -1;
    return EVP_CIPHER_CTX_ctrl(a->c, EVP_CTRL_AEAD_GET_TAG, 16, ct + n) == 1 ? 0 : -1;
}

int p2p_aead_open(p2p_aead *a, uint64_t ctr, const uint8_t hdr[5], uint8_t *pt, size_t n,
                  const uint8_t tag[16])
{
    uint8_t nonce[12], t[16];
    int l;
    nonce_of(nonce, ctr);
    memcpy(t, tag, 16);
    if (n > (size_t)INT32_MAX) return -1;
    if (EVP_CipherInit_ex(a->c, NULL, NULL, NULL, nonce, 0) != 1) return -1;
    if (EVP_CIPHER_CTX_ctrl(a->c, EVP_CTRL_AEAD_SET_TAG, 16, t) != 1) return -1;
    if (EVP_CipherUpdate(a->c, NULL, &l, hdr, 5) != 1) return -1;
    if (n && EVP_CipherUpdate(a->c, pt, &l, pt, (int)n) != 1) return -1;
    return EVP_CipherFinal_ex(a->c, pt + n, &l) == 1 ? 0 : -1;
}
