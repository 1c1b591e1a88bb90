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

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
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

int node_key_create(const char *path, chain_keypair *kp, util_err *err)
{
    if (access(path, F_OK) == 0)
        return util_err_set(err, UTIL_EEXIST,
                            "%s already exists: refusing to replace a validator key (move it "
                            "away first if you really mean to)",
                            path);
    char tmp[4200];
    int w = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (w < 0 || (size_t)w >= sizeof tmp) return util_err_set(err, UTIL_ELIMIT, "path too long");
    int rc = chain_keypair_generate(kp, err);
    if (rc) return rc;
    char *text = key_text(kp);
    if (!text) {
        chain_keypair_clear(kp);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = util_err_set(err, UTIL_EIO, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    /* The umask can only remove bits; fchmod makes 0600 explicit anyway. */
    int bad = fchmod(fd, 0600) || write_all(fd, text, strlen(text)) || fsync(fd);
    int e = errno;
    if (close(fd) && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        rc = util_err_set(err, UTIL_EIO, "cannot write %s: %s", tmp, strerror(e));
        goto out;
    }
    /* link() refuses an existing name, so a key created meanwhile is never
     * replaced, and no reader sees a half-written file. */
    if (link(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        rc = e == EEXIST
                 ? util_err_set(err, UTIL_EEXIST,
                                "%s already exists: refusing to replace a validator key", path)
                 : util_err_set(err, UTIL_EIO, "cannot create %s: %s", path, strerror(e));
        goto out;
    }
    unlink(tmp);
out:
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    if (rc) chain_keypair_clear(kp);
    return rc;
}

static int read_small(const char *path, char **out, util_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return util_err_set(err, UTIL_ENOTFOUND, "%s does not exist", path);
        return util_err_set(err, UTIL_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return util_err_set(err, UTIL_EINVAL, "%s is not a regular file", path);
    }
    /* A secret readable by others may already be copied: refuse it rather
     * than sign with it, as ssh does. */
    if (sb.st_mode & 077) {
        close(fd);
        return util_err_set(err, UTIL_ESTATE,
                            "%s is accessible by group or others (mode %03o): run chmod 600 %s",
                            path, (unsigned)(sb.st_mode & 0777), path);
    }
    if (sb.st_size > KEY_FILE_MAX) {
        close(fd);
        return util_err_set(err, UTIL_EINVAL, "%s is not a validator key (%lld bytes)", path,
                            (long long)sb.st_size);
    }
    char *buf = calloc(1, KEY_FILE_MAX + 1);
    if (!buf) {
        close(fd);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, KEY_FILE_MAX - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return util_err_set(err, UTIL_EIO, "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0 || (n += (size_t)r) == KEY_FILE_MAX) break;
    }
    close(fd);
    *out = buf;
    return 0;
}

static int bad_key(util_err *err, const char *path, const char *what)
{
    return util_err_set(err, UTIL_EINVAL, "%s is not a valid validator key file: %s", path, what);
}

int node_key_load(const char *path, chain_keypair *kp, util_err *err)
{
    char *text = NULL;
    int rc = read_small(path, &text, err);
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
