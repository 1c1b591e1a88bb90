/* The validator key file in the data directory: created 0600, never replaced,
 * checked on load (node/validator_key.h). */
#define _POSIX_C_SOURCE 200809L
#include "node/validator_key.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/crypto/address.h"
#include "util/hex.h"

#define KEY_FILE_MAX 4096

int node_key_path(char *out, size_t n, const char *datadir, util_err *err)
{
    int w = snprintf(out, n, "%s/%s", datadir, NODE_KEY_FILE);
    if (w < 0 || (size_t)w >= n)
        return util_err_set(err, UTIL_ELIMIT, "data directory path too long");
    return 0;
}

static char *key_text(const chain_keypair *kp)
{
    char pk[67] = "0x", sk[67] = "0x", addr[CHAIN_ADDR_STR_LEN + 1];
    chain_addr a;
    util_hex_encode(pk + 2, kp->pubkey, 32);
    util_hex_encode(sk + 2, kp->seckey, 32);
    chain_addr_from_pubkey(&a, kp->pubkey);
    chain_addr_encode(addr, &a);
    char *text = malloc(512);
    if (text)
        snprintf(text, 512,
                 "{\n  \"type\": \"%s\",\n  \"version\": %d,\n  \"publicKey\": \"%s\",\n"
                 "  \"address\": \"%s\",\n  \"secretKey\": \"%s\"\n}\n",
                 NODE_KEY_TYPE, NODE_KEY_VERSION, pk, addr, sk);
    OPENSSL_cleanse(sk, sizeof sk);
    return text;
}

int node_key_create(const util_env *env, const char *path, chain_keypair *kp, util_err *err)
{
    int rc = chain_keypair_generate(kp, err);
    if (rc) return rc;
    char *text = key_text(kp);
    if (!text) {
        chain_keypair_clear(kp);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    rc = util_env_create_file(env, path, text, strlen(text), 0600, err);
    if (rc == UTIL_EEXIST)
        util_err_set(err, UTIL_EEXIST,
                     "%s already exists: refusing to replace a validator key (move it away "
                     "first if you really mean to)",
                     path);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    if (rc) chain_keypair_clear(kp);
    return rc;
}

/* Reads the key file; a secret readable by others may already be copied:
 * refuse it rather than sign with it, as ssh does. */
static int read_small(const util_env *env, const char *path, char **out, util_err *err)
{
    size_t n;
    unsigned mode;
    int rc = util_env_read_file(env, path, KEY_FILE_MAX, out, &n, &mode, err);
    if (rc == UTIL_EINVAL && err && strstr(err->msg, "too large"))
        return util_err_set(err, UTIL_EINVAL, "%s is not a validator key (over %d bytes)", path,
                            KEY_FILE_MAX);
    if (rc) return rc;
    if (mode & 077) {
        OPENSSL_cleanse(*out, n);
        free(*out);
        *out = NULL;
        return util_err_set(err, UTIL_ESTATE,
                            "%s is accessible by group or others (mode %03o): run chmod 600 %s",
                            path, mode & 0777, path);
    }
    return 0;
}

static int bad_key(util_err *err, const char *path, const char *what)
{
    return util_err_set(err, UTIL_EINVAL, "%s is not a valid validator key file: %s", path, what);
}

int node_key_load(const util_env *env, const char *path, chain_keypair *kp, util_err *err)
{
    char *text = NULL;
    int rc = read_small(env, path, &text, err);
    if (rc) return rc;
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    if (!j) return bad_key(err, path, "not JSON");
    const char *type = NULL, *pk = NULL, *addr = NULL, *sk = NULL;
    json_int_t version = 0;
    uint8_t seckey[32], pubkey[32];
    if (json_unpack_ex(j, &je, JSON_STRICT, "{s:s, s:I, s:s, s:s, s:s}", "type", &type, "version",
                       &version, "publicKey", &pk, "address", &addr, "secretKey", &sk)) {
        rc = bad_key(err, path, "expected exactly type, version, publicKey, address and secretKey");
        goto out;
    }
    if (strcmp(type, NODE_KEY_TYPE) != 0) {
        rc = bad_key(err, path, "type is not \"" NODE_KEY_TYPE "\"");
        goto out;
    }
    if (version != NODE_KEY_VERSION) {
        rc = util_err_set(err, UTIL_EINVAL, "%s: key file version %lld, this openledgerd reads %d",
                          path, (long long)version, NODE_KEY_VERSION);
        goto out;
    }
    if (util_hex_decode_exact(seckey, 32, sk) || util_hex_decode_exact(pubkey, 32, pk)) {
        rc = bad_key(err, path, "secretKey and publicKey must be 32 bytes of hex");
        goto out;
    }
    if (chain_keypair_from_seckey(kp, seckey, NULL)) {
        rc = bad_key(err, path, "secretKey is not a valid secp256k1 key");
        goto out;
    }
    chain_addr a;
    char astr[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_from_pubkey(&a, kp->pubkey);
    chain_addr_encode(astr, &a);
    if (memcmp(pubkey, kp->pubkey, 32) != 0 || strcmp(addr, astr) != 0) {
        chain_keypair_clear(kp);
        rc = bad_key(err, path, "publicKey or address does not match secretKey");
        goto out;
    }
out:
    OPENSSL_cleanse(seckey, sizeof seckey);
    json_decref(j); /* jansson does not wipe its copy of the secret string */
    return rc;
}
