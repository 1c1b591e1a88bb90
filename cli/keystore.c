/* Keystore documents: scrypt + AES-256-GCM encryption of a secret key.
 * File handling is in keystore_file.c. */
#include "cli/keystore.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "util/hex.h"

#define SALT_LEN 32
#define SALT_MIN 16
#define SALT_MAX 64
#define IV_LEN 12
#define TAG_LEN 16
#define DK_LEN 32
/* Memory a keystore file may make us spend on scrypt (128 * r * N bytes). */
#define SCRYPT_MEM_MAX (1024ull * 1024 * 1024)

typedef struct ks_crypto {
    uint64_t n;
    uint32_t r, p;
    uint8_t salt[SALT_MAX];
    size_t salt_len;
    uint8_t iv[IV_LEN];
    uint8_t ct[CHAIN_SECKEY_LEN];
    uint8_t tag[TAG_LEN];
} ks_crypto;

static const char wrong_pass[] = "wrong passphrase or corrupted keystore";

int cli_key_name_valid(const char *name, util_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > CLI_KEY_NAME_MAX)
        return util_err_set(err, UTIL_EINVAL, "key name must have 1 to %d characters",
                            CLI_KEY_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok)
            return util_err_set(err, UTIL_EINVAL,
                                "key name '%s': only letters, digits, '.', '_' and '-' allowed",
                                name);
    }
    if (name[0] == '.' || name[0] == '-')
        return util_err_set(err, UTIL_EINVAL, "key name '%s' must not start with '%c'", name,
                            name[0]);
    if (n == 4 && strncmp(name, "dev", 3) == 0 && name[3] >= '0' && name[3] <= '9')
        return util_err_set(err, UTIL_EINVAL, "key name '%s' is reserved for a development key",
                            name);
    if (n >= 3 && strncasecmp(name, "ol1", 3) == 0)
        return util_err_set(err, UTIL_EINVAL,
                            "key name '%s' must not start with 'ol1' (it would read as an address)",
                            name);
    return 0;
}

static int scrypt_n_ok(uint64_t n)
{
    return n >= 2 && n <= CLI_SCRYPT_N_MAX && (n & (n - 1)) == 0;
}

int cli_scrypt_n_for_new(uint64_t *n, util_err *err)
{
    const char *s = getenv("OPENLEDGER_SCRYPT_N");
    if (!s || !*s) {
        *n = CLI_SCRYPT_N_DEFAULT;
        return 0;
    }
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > CLI_SCRYPT_N_MAX)
            return util_err_set(err, UTIL_EINVAL, "OPENLEDGER_SCRYPT_N='%s' is not a number", s);
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (!scrypt_n_ok(v))
        return util_err_set(err, UTIL_EINVAL,
                            "OPENLEDGER_SCRYPT_N must be a power of two from 2 to %u",
                            CLI_SCRYPT_N_MAX);
    *n = v;
    return 0;
}

int cli_scrypt(uint8_t *out, size_t outlen, const char *pass, size_t passlen, const uint8_t *salt,
               size_t saltlen, uint64_t n, uint32_t r, uint32_t p, util_err *err)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (!kctx) return util_err_set(err, UTIL_ECRYPTO, "scrypt is not available in OpenSSL");
    /* OpenSSL refuses by default above 32 MiB, which N = 2^15, r = 8 just exceeds. */
    uint64_t maxmem = 128ull * r * (n + 2) + 128ull * r * p + (1u << 20);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)(pass ? pass : ""),
                                          passlen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(kctx, out, outlen, params) == 1;
    EVP_KDF_CTX_free(kctx);
    if (!ok) return util_err_set(err, UTIL_ECRYPTO, "scrypt key derivation failed");
    return 0;
}

static int derive(uint8_t dk[DK_LEN], const char *pass, size_t passlen, const ks_crypto *c,
                  util_err *err)
{
    return cli_scrypt(dk, DK_LEN, pass, passlen, c->salt, c->salt_len, c->n, c->r, c->p, err);
}

/* AES-256-GCM over 32 bytes; enc = 1 encrypts in -> out and writes tag,
 * enc = 0 decrypts and checks tag. Returns 0 or -1. */
static int gcm(int enc, const uint8_t key[DK_LEN], const uint8_t iv[IV_LEN], const char *aad,
               const uint8_t *in, uint8_t *out, uint8_t tag[TAG_LEN])
{
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
    if (!cx) return -1;
    int ok = 0, l = 0, fl = 0;
    if (EVP_CipherInit_ex(cx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1) goto out;
    if (EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1) goto out;
    if (EVP_CipherInit_ex(cx, NULL, NULL, key, iv, enc) != 1) goto out;
    if (EVP_CipherUpdate(cx, NULL, &l, (const uint8_t *)aad, (int)strlen(aad)) != 1) goto out;
    if (EVP_CipherUpdate(cx, out, &l, in, CHAIN_SECKEY_LEN) != 1 || l != CHAIN_SECKEY_LEN) goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1) goto out;
    if (EVP_CipherFinal_ex(cx, out + l, &fl) != 1 || fl != 0) goto out;
    if (enc && EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1) goto out;
    ok = 1;
out:
    EVP_CIPHER_CTX_free(cx);
    if (!ok) OPENSSL_cleanse(out, CHAIN_SECKEY_LEN);
    return ok ? 0 : -1;
}

static void hexstr(char *out, const uint8_t *p, size_t n)
{
    util_hex_encode(out, p, n);
}

int cli_keystore_encrypt(const chain_keypair *kp, const char *name, const char *pass,
                         size_t passlen, uint64_t scrypt_n, json_t **out, util_err *err)
{
    int rc = cli_key_name_valid(name, err);
    if (rc) return rc;
    if (!scrypt_n_ok(scrypt_n))
        return util_err_set(err, UTIL_EINVAL, "scrypt N must be a power of two from 2 to %u",
                            CLI_SCRYPT_N_MAX);
    ks_crypto c = {.n = scrypt_n, .r = CLI_SCRYPT_R, .p = CLI_SCRYPT_P, .salt_len = SALT_LEN};
    if (RAND_bytes(c.salt, SALT_LEN) != 1 || RAND_bytes(c.iv, IV_LEN) != 1)
        return util_err_set(err, UTIL_ECRYPTO, "random number generator failed");
    chain_addr a;
    char addr[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_from_pubkey(&a, kp->pubkey);
    chain_addr_encode(addr, &a);

    uint8_t dk[DK_LEN];
    rc = derive(dk, pass, passlen, &c, err);
    if (rc) return rc;
    rc = gcm(1, dk, c.iv, addr, kp->seckey, c.ct, c.tag);
    OPENSSL_cleanse(dk, sizeof dk);
    if (rc) return util_err_set(err, UTIL_ECRYPTO, "AES-256-GCM encryption failed");

    char pub[2 * CHAIN_PUBKEY_LEN + 1], salt[2 * SALT_MAX + 1], iv[2 * IV_LEN + 1],
        ct[2 * CHAIN_SECKEY_LEN + 1], tag[2 * TAG_LEN + 1];
    hexstr(pub, kp->pubkey, CHAIN_PUBKEY_LEN);
    hexstr(salt, c.salt, c.salt_len);
    hexstr(iv, c.iv, IV_LEN);
    hexstr(ct, c.ct, CHAIN_SECKEY_LEN);
    hexstr(tag, c.tag, TAG_LEN);
    json_t *doc =
        json_pack("{s:i, s:s, s:s, s:s, s:{s:s, s:I, s:i, s:i, s:s, s:s, s:s, s:s, s:s}}",
                  "version", CLI_KEYSTORE_VERSION, "name", name, "address", addr, "pubkey", pub,
                  "crypto", "kdf", "scrypt", "n", (json_int_t)c.n, "r", (int)c.r, "p", (int)c.p,
                  "salt", salt, "cipher", "aes-256-gcm", "iv", iv, "ciphertext", ct, "tag", tag);
    if (!doc) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    *out = doc;
    return 0;
}

static int get_str(const json_t *o, const char *obj, const char *key, const char **out,
                   util_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v) return util_err_set(err, UTIL_EINVAL, "missing field '%s%s'", obj, key);
    if (!json_is_string(v))
        return util_err_set(err, UTIL_EINVAL, "field '%s%s' is not a string", obj, key);
    *out = json_string_value(v);
    return 0;
}

static int get_int(const json_t *o, const char *obj, const char *key, json_int_t lo, json_int_t hi,
                   json_int_t *out, util_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v) return util_err_set(err, UTIL_EINVAL, "missing field '%s%s'", obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return util_err_set(err, UTIL_EINVAL, "field '%s%s' must be an integer from %lld to %lld",
                            obj, key, (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

static int get_hex(const json_t *o, const char *obj, const char *key, uint8_t *out, size_t min,
                   size_t max, size_t *n, util_err *err)
{
    const char *s;
    int rc = get_str(o, obj, key, &s, err);
    if (rc) return rc;
    uint8_t *b = NULL;
    size_t bn = 0;
    if (util_hex_decode_alloc(s, max, &b, &bn) || bn < min) {
        free(b);
        if (min == max)
            return util_err_set(err, UTIL_EINVAL, "field '%s%s' must be %zu bytes of hex", obj, key,
                                min);
        return util_err_set(err, UTIL_EINVAL, "field '%s%s' must be %zu to %zu bytes of hex", obj,
                            key, min, max);
    }
    memcpy(out, b, bn);
    free(b);
    if (n) *n = bn;
    return 0;
}

static int check_doc(const json_t *doc, cli_keyinfo *info, ks_crypto *c, util_err *err)
{
    if (!json_is_object(doc)) return util_err_set(err, UTIL_EINVAL, "not a JSON object");
    json_int_t ver;
    const char *name, *addr, *s;
    int rc;
    if ((rc = get_int(doc, "", "version", 0, 1000000, &ver, err))) return rc;
    if (ver != CLI_KEYSTORE_VERSION)
        return util_err_set(err, UTIL_EINVAL, "unsupported keystore version %lld (expected %d)",
                            (long long)ver, CLI_KEYSTORE_VERSION);
    if ((rc = get_str(doc, "", "name", &name, err))) return rc;
    if ((rc = get_str(doc, "", "address", &addr, err))) return rc;
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", name);
    util_err e2;
    if (chain_addr_decode(&info->addr, addr, &e2))
        return util_err_set(err, UTIL_EINVAL, "field 'address': %s", e2.msg);
    chain_addr_encode(info->address, &info->addr);
    if ((rc = get_hex(doc, "", "pubkey", info->pubkey, CHAIN_PUBKEY_LEN, CHAIN_PUBKEY_LEN, NULL,
                      err)))
        return rc;
    chain_addr a;
    chain_addr_from_pubkey(&a, info->pubkey);
    if (memcmp(a.b, info->addr.b, CHAIN_ADDR_LEN) != 0)
        return util_err_set(err, UTIL_EINVAL, "'address' does not belong to 'pubkey'");

    const json_t *cr = json_object_get(doc, "crypto");
    if (!cr) return util_err_set(err, UTIL_EINVAL, "missing field 'crypto'");
    if (!json_is_object(cr)) return util_err_set(err, UTIL_EINVAL, "'crypto' is not an object");
    if ((rc = get_str(cr, "crypto.", "kdf", &s, err))) return rc;
    if (strcmp(s, "scrypt") != 0)
        return util_err_set(err, UTIL_EINVAL, "unsupported kdf '%s' (expected scrypt)", s);
    if ((rc = get_str(cr, "crypto.", "cipher", &s, err))) return rc;
    if (strcmp(s, "aes-256-gcm") != 0)
        return util_err_set(err, UTIL_EINVAL, "unsupported cipher '%s' (expected aes-256-gcm)", s);
    json_int_t n, r, p;
    if ((rc = get_int(cr, "crypto.", "n", 2, CLI_SCRYPT_N_MAX, &n, err))) return rc;
    if (!scrypt_n_ok((uint64_t)n))
        return util_err_set(err, UTIL_EINVAL, "'crypto.n' must be a power of two");
    if ((rc = get_int(cr, "crypto.", "r", 1, 32, &r, err))) return rc;
    if ((rc = get_int(cr, "crypto.", "p", 1, 16, &p, err))) return rc;
    if (128ull * (uint64_t)r * (uint64_t)n > SCRYPT_MEM_MAX)
        return util_err_set(err, UTIL_ELIMIT, "scrypt parameters need more than 1 GiB of memory");
    c->n = (uint64_t)n;
    c->r = (uint32_t)r;
    c->p = (uint32_t)p;
    if ((rc = get_hex(cr, "crypto.", "salt", c->salt, SALT_MIN, SALT_MAX, &c->salt_len, err)))
        return rc;
    if ((rc = get_hex(cr, "crypto.", "iv", c->iv, IV_LEN, IV_LEN, NULL, err))) return rc;
    if ((rc = get_hex(cr, "crypto.", "ciphertext", c->ct, CHAIN_SECKEY_LEN, CHAIN_SECKEY_LEN, NULL,
                      err)))
        return rc;
    return get_hex(cr, "crypto.", "tag", c->tag, TAG_LEN, TAG_LEN, NULL, err);
}

int cli_keystore_check(const json_t *doc, cli_keyinfo *info, util_err *err)
{
    ks_crypto c;
    return check_doc(doc, info, &c, err);
}

int cli_keystore_decrypt(const json_t *doc, const char *pass, size_t passlen, chain_keypair *kp,
                         util_err *err)
{
    ks_crypto c;
    cli_keyinfo info;
    int rc = check_doc(doc, &info, &c, err);
    if (rc) return rc;
    uint8_t dk[DK_LEN], sk[CHAIN_SECKEY_LEN];
    if ((rc = derive(dk, pass, passlen, &c, err))) return rc;
    rc = gcm(0, dk, c.iv, info.address, c.ct, sk, c.tag);
    OPENSSL_cleanse(dk, sizeof dk);
    if (rc) return util_err_set(err, UTIL_ECRYPTO, "%s", wrong_pass);
    rc = chain_keypair_from_seckey(kp, sk, NULL);
    OPENSSL_cleanse(sk, sizeof sk);
    if (rc || memcmp(kp->pubkey, info.pubkey, CHAIN_PUBKEY_LEN) != 0) {
        chain_keypair_clear(kp);
        return util_err_set(err, UTIL_ECRYPTO, "%s (the key does not match its pubkey)",
                            wrong_pass);
    }
    return 0;
}
