/* SHA-256 through OpenSSL EVP with one-byte domain tags
 * (chain/crypto/hash.h). */
#include "chain/crypto/hash.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

static EVP_MD *g_sha256;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
/* One reusable EVP_MD_CTX per thread saves an allocation per hash; the key's
 * destructor frees it when a thread exits. */
static _Thread_local EVP_MD_CTX *t_ctx;
static pthread_key_t g_key;

static void free_ctx(void *p)
{
    EVP_MD_CTX_free(p);
}

static void do_init(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!g_sha256) abort(); /* the process cannot run without SHA-256 */
    if (pthread_key_create(&g_key, free_ctx)) abort();
}

void chain_hash_init(void)
{
    pthread_once(&g_once, do_init);
}

static EVP_MD_CTX *tctx(void)
{
    chain_hash_init();
    if (!t_ctx) {
        t_ctx = EVP_MD_CTX_new();
        if (!t_ctx) abort();
        pthread_setspecific(g_key, t_ctx);
    }
    return t_ctx;
}

static void h3(uint8_t out[32], const void *t, size_t tn, const void *a, size_t an, const void *b,
               size_t bn)
{
    EVP_MD_CTX *c = tctx();
    unsigned int len = 32;
    if (EVP_DigestInit_ex2(c, g_sha256, NULL) != 1) abort();
    if (tn) EVP_DigestUpdate(c, t, tn);
    if (an) EVP_DigestUpdate(c, a, an);
    if (bn) EVP_DigestUpdate(c, b, bn);
    EVP_DigestFinal_ex(c, out, &len);
}

void chain_sha256(uint8_t out[32], const void *p, size_t n)
{
    h3(out, NULL, 0, p, n, NULL, 0);
}

void chain_hash_tagged(uint8_t out[32], uint8_t tag, const void *p, size_t n)
{
    h3(out, &tag, 1, p, n, NULL, 0);
}

void chain_hash_tagged2(uint8_t out[32], uint8_t tag, const void *a, size_t an, const void *b,
                        size_t bn)
{
    h3(out, &tag, 1, a, an, b, bn);
}

int chain_sha256_begin(chain_sha256_ctx *c)
{
    chain_hash_init();
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    if (!x) return -1;
    if (EVP_DigestInit_ex2(x, g_sha256, NULL) != 1) {
        EVP_MD_CTX_free(x);
        return -1;
    }
    c->evp = x;
    return 0;
}

void chain_sha256_update(chain_sha256_ctx *c, const void *p, size_t n)
{
    if (n) EVP_DigestUpdate(c->evp, p, n);
}

void chain_sha256_final(chain_sha256_ctx *c, uint8_t out[32])
{
    unsigned int len = 32;
    EVP_DigestFinal_ex(c->evp, out, &len);
}

void chain_sha256_free(chain_sha256_ctx *c)
{
    EVP_MD_CTX_free(c->evp);
    c->evp = NULL;
}
