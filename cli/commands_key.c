/* key new | list | show | import */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/keystore.h"
#include "util/hex.h"

#define DIR_MAX 4096

static int print_key(cli_ctx *ctx, const char *name, const char *address, const uint8_t pubkey[32],
                     const char *path, const uint8_t *seckey)
{
    char pub[2 * CHAIN_PUBKEY_LEN + 3] = "0x", sec[2 * CHAIN_SECKEY_LEN + 3] = "0x";
    util_hex_encode(pub + 2, pubkey, CHAIN_PUBKEY_LEN);
    if (seckey) util_hex_encode(sec + 2, seckey, CHAIN_SECKEY_LEN);
    int rc = CLI_EXIT_OK;
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "name", name, "address", address, "pubkey", pub);
        if (o && path) json_object_set_new(o, "file", json_string(path));
        if (o && seckey) json_object_set_new(o, "secret", json_string(sec));
        rc = o ? cli_print_json(ctx, o) : cli_fail(ctx, "out of memory");
        json_decref(o);
    } else {
        fprintf(ctx->out, "name:    %s\naddress: %s\npubkey:  %s\n", name, address, pub);
        if (path) fprintf(ctx->out, "file:    %s\n", path);
        if (seckey) fprintf(ctx->out, "secret:  %s\n", sec);
    }
    OPENSSL_cleanse(sec, sizeof sec);
    return rc;
}

/* Encrypts kp under name and writes it; shared by new and import. */
static int store_key(cli_ctx *ctx, const char *name, const chain_keypair *kp)
{
    util_err e;
    char dir[DIR_MAX], path[DIR_MAX + 80];
    uint64_t n;
    if (cli_keystore_dir(ctx, dir, sizeof dir, &e) || cli_scrypt_n_for_new(&n, &e) ||
        cli_keystore_path(path, sizeof path, dir, name, &e))
        return cli_fail_err(ctx, &e);
    /* Fail before asking for a passphrase the user would type for nothing. */
    if (access(path, F_OK) == 0)
        return cli_fail(ctx, "a key named '%s' already exists in %s", name, dir);
    char *pass = NULL;
    size_t plen = 0;
    char prompt[160];
    snprintf(prompt, sizeof prompt, "New passphrase for key '%s': ", name);
    if (cli_passphrase_get(ctx, prompt, 1, &pass, &plen, &e)) return cli_fail_err(ctx, &e);
    json_t *doc = NULL;
    int rc = cli_keystore_encrypt(kp, name, pass, plen, n, &doc, &e);
    cli_passphrase_free(pass, plen);
    if (!rc) rc = cli_keystore_write(dir, name, doc, &e);
    json_decref(doc);
    if (rc) return cli_fail_err(ctx, &e);
    chain_addr a;
    char addr[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_from_pubkey(&a, kp->pubkey);
    chain_addr_encode(addr, &a);
    return print_key(ctx, name, addr, kp->pubkey, path, NULL);
}

int cli_cmd_key_new(cli_ctx *ctx, const cli_args *a)
{
    util_err e;
    const char *name = a->opt[CLI_OPT_NAME];
    if (name && cli_key_name_valid(name, &e)) return cli_usage_fail(ctx, "%s", e.msg);
    chain_keypair kp;
    if (chain_keypair_generate(&kp, &e)) return cli_fail_err(ctx, &e);
    char defname[32];
    if (!name) {
        chain_addr ad;
        char addr[CHAIN_ADDR_STR_LEN + 1];
        chain_addr_from_pubkey(&ad, kp.pubkey);
        chain_addr_encode(addr, &ad);
        snprintf(defname, sizeof defname, "key-%.8s", addr + 3);
        name = defname;
    }
    int rc = store_key(ctx, name, &kp);
    chain_keypair_clear(&kp);
    return rc;
}

int cli_cmd_key_import(cli_ctx *ctx, const cli_args *a)
{
    util_err e;
    const char *name = a->pos[0];
    if (cli_key_name_valid(name, &e)) return cli_usage_fail(ctx, "%s", e.msg);
    uint8_t sk[CHAIN_SECKEY_LEN];
    if (util_hex_decode_exact(sk, sizeof sk, a->opt[CLI_OPT_SECRET_HEX]))
        return cli_usage_fail(ctx, "--secret-hex must be 32 bytes as 64 hex digits");
    chain_keypair kp;
    int rc = chain_keypair_from_seckey(&kp, sk, &e);
    OPENSSL_cleanse(sk, sizeof sk);
    if (rc) return cli_fail_err(ctx, &e);
    rc = store_key(ctx, name, &kp);
    chain_keypair_clear(&kp);
    return rc;
}

static void warn_cb(void *c, const char *msg)
{
    fprintf(((cli_ctx *)c)->err, "warning: %s (skipped)\n", msg);
}

int cli_cmd_key_list(cli_ctx *ctx, const cli_args *a)
{
    util_err e;
    char dir[DIR_MAX];
    if (cli_keystore_dir(ctx, dir, sizeof dir, &e)) return cli_fail_err(ctx, &e);
    cli_keyinfo *keys = NULL;
    size_t n = 0;
    if (cli_keystore_list(dir, &keys, &n, warn_cb, ctx, &e)) return cli_fail_err(ctx, &e);
    int rc = CLI_EXIT_OK;
    if (ctx->json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            json_array_append_new(
                arr, json_pack("{s:s, s:s}", "name", keys[i].name, "address", keys[i].address));
        rc = arr ? cli_print_json(ctx, arr) : cli_fail(ctx, "out of memory");
        json_decref(arr);
    } else if (n == 0) {
        fprintf(ctx->out, "no keys in %s\n", dir);
    } else {
        size_t w = 4;
        for (size_t i = 0; i < n; i++)
            if (strlen(keys[i].name) > w) w = strlen(keys[i].name);
        for (size_t i = 0; i < n; i++)
            fprintf(ctx->out, "%-*s  %s\n", (int)w, keys[i].name, keys[i].address);
    }
    free(keys);
    return rc;
}

int cli_cmd_key_show(cli_ctx *ctx, const cli_args *a)
{
    util_err e;
    const char *name = a->pos[0];
    int want_secret = a->opt[CLI_OPT_SECRET] != NULL;
    chain_keypair kp;
    chain_addr ad;
    char addr[CHAIN_ADDR_STR_LEN + 1];
    int rc;
    if (cli_dev_index(name) >= 0) {
        if (cli_resolve_signer(ctx, name, &kp, &e)) return cli_fail_err(ctx, &e);
        chain_addr_from_pubkey(&ad, kp.pubkey);
        chain_addr_encode(addr, &ad);
        rc = print_key(ctx, name, addr, kp.pubkey, NULL, want_secret ? kp.seckey : NULL);
        chain_keypair_clear(&kp);
        return rc;
    }
    char dir[DIR_MAX], path[DIR_MAX + 80];
    cli_keyinfo info;
    if (cli_key_name_valid(name, &e) || cli_keystore_dir(ctx, dir, sizeof dir, &e) ||
        cli_keystore_path(path, sizeof path, dir, name, &e) ||
        cli_keystore_load(dir, name, NULL, &info, &e))
        return cli_fail_err(ctx, &e);
    if (!want_secret) return print_key(ctx, name, info.address, info.pubkey, path, NULL);
    if (cli_resolve_signer(ctx, name, &kp, &e)) return cli_fail_err(ctx, &e);
    rc = print_key(ctx, name, info.address, info.pubkey, path, kp.seckey);
    chain_keypair_clear(&kp);
    return rc;
}
