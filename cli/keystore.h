/* Encrypted keystore: one JSON file per key, KEYSTORE/NAME.json, mode 0600.
 *
 *   {"version":1,"name":"alice","address":"ol1...","pubkey":"<hex>",
 *    "crypto":{"kdf":"scrypt","n":32768,"r":8,"p":1,"salt":"<hex>",
 *              "cipher":"aes-256-gcm","iv":"<hex>","ciphertext":"<hex>","tag":"<hex>"}}
 *
 * The 32-byte secret key is encrypted with AES-256-GCM under a key derived
 * from the passphrase with scrypt (OpenSSL EVP_KDF "SCRYPT"); the address
 * string is the associated data, so a file whose address was edited does not
 * decrypt. Address and pubkey are in clear so keys can be listed without the
 * passphrase; after decrypting, the secret must give back both. */
#ifndef OL_CLI_KEYSTORE_H
#define OL_CLI_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chain/crypto/address.h"
#include "chain/crypto/keys.h"
#include "util/err.h"

#define CLI_KEYSTORE_VERSION 1
#define CLI_KEY_NAME_MAX 64
#define CLI_SCRYPT_N_DEFAULT (1u << 15)
#define CLI_SCRYPT_N_MAX (1u << 20)
#define CLI_SCRYPT_R 8
#define CLI_SCRYPT_P 1
#define CLI_KEYSTORE_FILE_MAX (64 * 1024)

typedef struct cli_keyinfo {
    char name[CLI_KEY_NAME_MAX + 1];
    char address[CHAIN_ADDR_STR_LEN + 1];
    chain_addr addr;
    uint8_t pubkey[CHAIN_PUBKEY_LEN];
} cli_keyinfo;

/* 1..64 chars of [A-Za-z0-9._-], not starting with '.' or '-', not dev0..dev9
 * (reserved for the development keys), not starting with "ol1" (an address). */
OL_MUST_CHECK int cli_key_name_valid(const char *name, util_err *err);

/* scrypt N for new keys: CLI_SCRYPT_N_DEFAULT, or $OPENLEDGER_SCRYPT_N (tests
 * only: a power of two in 2..2^20). */
OL_MUST_CHECK int cli_scrypt_n_for_new(uint64_t *n, util_err *err);

/* scrypt through OpenSSL's EVP_KDF, with the memory cap raised to what N and
 * r need (exposed for known-answer tests). */
OL_MUST_CHECK int cli_scrypt(uint8_t *out, size_t outlen, const char *pass, size_t passlen,
                             const uint8_t *salt, size_t saltlen, uint64_t n, uint32_t r,
                             uint32_t p, util_err *err);

/* Builds the keystore document of kp (new reference in *out). */
OL_MUST_CHECK int cli_keystore_encrypt(const chain_keypair *kp, const char *name, const char *pass,
                                       size_t passlen, uint64_t scrypt_n, json_t **out,
                                       util_err *err);
/* Checks the document's structure and reads its clear part. Errors name the
 * offending field. */
OL_MUST_CHECK int cli_keystore_check(const json_t *doc, cli_keyinfo *info, util_err *err);
/* Decrypts doc into kp. A wrong passphrase (or any tampering) gives
 * UTIL_ECRYPTO "wrong passphrase or corrupted keystore". */
OL_MUST_CHECK int cli_keystore_decrypt(const json_t *doc, const char *pass, size_t passlen,
                                       chain_keypair *kp, util_err *err);

/* DIR/NAME.json */
OL_MUST_CHECK int cli_keystore_path(char *out, size_t cap, const char *dir, const char *name,
                                    util_err *err);
/* Writes doc as DIR/NAME.json, mode 0600, creating DIR (and missing parents)
 * with mode 0700. Never overwrites: UTIL_EEXIST if the name is taken. */
OL_MUST_CHECK int cli_keystore_write(const char *dir, const char *name, const json_t *doc,
                                     util_err *err);
/* Reads and checks DIR/NAME.json. doc may be NULL when only info is wanted.
 * UTIL_ENOTFOUND if there is no such key. */
OL_MUST_CHECK int cli_keystore_load(const char *dir, const char *name, json_t **doc,
                                    cli_keyinfo *info, util_err *err);
/* All keys of DIR, sorted by name (malloc'd array, caller frees). A missing
 * DIR is an empty list; unreadable or malformed files are reported through
 * warn (may be NULL) and skipped. */
OL_MUST_CHECK int cli_keystore_list(const char *dir, cli_keyinfo **out, size_t *n,
                                    void (*warn)(void *ctx, const char *msg), void *warn_ctx,
                                    util_err *err);

#endif
