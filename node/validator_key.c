/* The key files in the data directory (validator key, node key): created
 * 0600, never replaced, checked on load (node/validator_key.h). */
#define _POSIX_C_SOURCE 200809L
#include "node/validator_key.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/crypto/address.h"
#include "p2p/session.h"
#include "util/hex.h"

#define KEY_FILE_MAX 4096

#define DERIVED_MAX 96

static void derive_address(const uint8_t pubkey[CHAIN_PUBKEY_LEN], char *out)
{
    chain_addr a;
    chain_addr_from_pubkey(&a, pubkey);
    chain_addr_encode(out, &a);
}

static void derive_node_id(const uint8_t pubkey[CHAIN_PUBKEY_LEN], char *out)
{
    uint8_t id[P2P_NODE_ID_LEN];
    p2p_node_id(pubkey, id);
    p2p_node_id_hex(id, out);
}

const node_key_kind node_validator_key_kind = {NODE_KEY_FILE, NODE_KEY_TYPE, "validator key",
                                               "address", derive_address};
const node_key_kind node_node_key_kind = {NODE_NODE_KEY_FILE, NODE_NODE_KEY_TYPE, "node key",
                                          "nodeId", derive_node_id};

int node_keyfile_path(const node_key_kind *k, char *out, size_t n, const char *datadir,
                      util_err *err)
{
    int w = snprintf(out, n, "%s/%s", datadir, k->file);
    if (w < 0 || (size_t)w >= n)
        return util_err_set(err, UTIL_ELIMIT, "data directory path too long");
    return 0;
}

int node_key_path(char *out, size_t n, const char *datadir, util_err *err)
{
    return node_keyfile_path(&node_validator_key_kind, out, n, datadir, err);
}

static char *key_text(const node_key_kind *k, const chain_keypair *kp)
{
    char pk[67] = "0x", sk[67] = "0x", derived[DERIVED_MAX];
    util_hex_encode(pk + 2, kp->pubkey, 32);
    util_hex_encode(sk + 2, kp->seckey, 32);
    k->derive(kp->pubkey, derived);
    char *text = malloc(512);
    if (text)
        snprintf(text, 512,
                 "{\n  \"type\": \"%s\",\n  \"version\": %d,\n  \"publicKey\": \"%s\",\n"
                 "  \"%s\": \"%s\",\n  \"secretKey\": \"%s\"\n}\n",
                 k->type, NODE_KEY_VERSION, pk, k->field, derived, sk);
    OPENSSL_cleanse(sk, sizeof sk);
    return text;
}

int node_keyfile_create(const node_key_kind *k, const util_env *env, const char *path,
                        chain_keypair *kp, util_err *err)
{
    int rc = chain_keypair_generate(kp, err);
    if (rc) return rc;
    char *text = key_text(k, kp);
    if (!text) {
        chain_keypair_clear(kp);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    rc = util_env_create_file(env, path, text, strlen(text), 0600, err);
    if (rc == UTIL_EEXIST)
        util_err_set(err, UTIL_EEXIST,
                     "%s already exists: refusing to replace a %s (move it away "
                     "first if you really mean to)",
                     path, k->what);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    if (rc) chain_keypair_clear(kp);
    return rc;
}

int node_key_create(const util_env *env, const char *path, chain_keypair *kp, util_err *err)
{
    return node_keyfile_create(&node_validator_key_kind, env, path, kp, err);
}

/* Reads the key file; a secret readable by others may already be copied:
 * refuse it rather than sign with it, as ssh does. */
static int read_small(const node_key_kind *k, const util_env *env, const char *path, char **out,
                      util_err *err)
{
    size_t n;
    unsigned mode;
    int rc = util_env_read_file(env, path, KEY_FILE_MAX, out, &n, &mode, err);
    if (rc == UTIL_EINVAL && err && strstr(err->msg, "too large"))
        return util_err_set(err, UTIL_EINVAL, "%s is not a %s (over %d bytes)", path, k->what,
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

static int bad_key(const node_key_kind *k, util_err *err, const char *path, const char *what)
{
    return util_err_set(err, UTIL_EINVAL, "%s is not a valid %s file: %s", path, k->what, what);
}

int node_key_load(const util_env *env, const char *path, chain_keypair *kp, util_err *err)
{
    return node_keyfile_load(&node_validator_key_kind, env, path, kp, err);
}

int node_keyfile_load(const node_key_kind *k, const util_env *env, const char *path,
                      chain_keypair *kp, util_err *err)
{
    char *text = NULL;
    int rc = read_small(k, env, path, &text, err);
    if (rc) return rc;
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    if (!j) return bad_key(k, err, path, "not JSON");
    const char *type = NULL, *pk = NULL, *addr = NULL, *sk = NULL;
    json_int_t version = 0;
    uint8_t seckey[32], pubkey[32];
    if (json_unpack_ex(j, &je, JSON_STRICT, "{s:s, s:I, s:s, s:s, s:s}", "type", &type, "version",
                       &version, "publicKey", &pk, k->field, &addr, "secretKey", &sk)) {
        char what[128];
        snprintf(what, sizeof what, "expected exactly type, version, publicKey, %s and secretKey",
                 k->field);
        rc = bad_key(k, err, path, what);
        goto out;
    }
    if (strcmp(type, k->type) != 0) {
        char what[96];
        snprintf(what, sizeof what, "type is not \"%s\"", k->type);
        rc = bad_key(k, err, path, what);
        goto out;
    }
    if (version != NODE_KEY_VERSION) {
        rc = util_err_set(err, UTIL_EINVAL, "%s: key file version %lld, this openledgerd reads %d",
                          path, (long long)version, NODE_KEY_VERSION);
        goto out;
    }
    if (util_hex_decode_exact(seckey, 32, sk) || util_hex_decode_exact(pubkey, 32, pk)) {
        rc = bad_key(k, err, path, "secretKey and publicKey must be 32 bytes of hex");
        goto out;
    }
    if (chain_keypair_from_seckey(kp, seckey, NULL)) {
        rc = bad_key(k, err, path, "secretKey is not a valid secp256k1 key");
        goto out;
    }
    char derived[DERIVED_MAX];
    k->derive(kp->pubkey, derived);
    if (memcmp(pubkey, kp->pubkey, 32) != 0 || strcmp(addr, derived) != 0) {
        chain_keypair_clear(kp);
        char what[128];
        snprintf(what, sizeof what, "publicKey or %s does not match secretKey", k->field);
        rc = bad_key(k, err, path, what);
        goto out;
    }
out:
    OPENSSL_cleanse(seckey, sizeof seckey);
    json_decref(j); /* jansson does not wipe its copy of the secret string */
    return rc;
}

int node_keyfile_load_or_create(const node_key_kind *k, const util_env *env, const char *datadir,
                                chain_keypair *kp, int *created, util_err *err)
{
    char path[PATH_MAX + 32];
    *created = 0;
    int rc = node_keyfile_path(k, path, sizeof path, datadir, err);
    if (rc) return rc;
    rc = node_keyfile_load(k, env, path, kp, err);
    if (rc != UTIL_ENOTFOUND) return rc;
    rc = node_keyfile_create(k, env, path, kp, err);
    if (rc == 0) *created = 1;
    return rc;
}
