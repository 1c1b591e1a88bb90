/* What a user may type where a key or account is expected: an "ol1..."
 * address, a development key dev0..dev9, or a keystore name. */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/keystore.h"

int cli_dev_index(const char *s)
{
    if (strlen(s) == 4 && strncmp(s, "dev", 3) == 0 && s[3] >= '0' && s[3] <= '9')
        return s[3] - '0';
    return -1;
}

int cli_dev_address(int idx, chain_addr *a, util_err *err)
{
    chain_keypair kp;
    if (idx < 0 || chain_keypair_dev(&kp, (uint32_t)idx))
        return util_err_set(err, UTIL_ECRYPTO, "cannot derive development key dev%d", idx);
    chain_addr_from_pubkey(a, kp.pubkey);
    chain_keypair_clear(&kp);
    return 0;
}

int cli_keystore_dir(const cli_ctx *ctx, char *out, size_t cap, util_err *err)
{
    const char *d = ctx->keystore_opt;
    if (!d || !*d) d = getenv("OPENLEDGER_KEYSTORE");
    int n;
    if (d && *d) {
        n = snprintf(out, cap, "%s", d);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (!home)
            return util_err_set(err, UTIL_EINVAL,
                                "cannot find the home directory; use --keystore DIR");
        n = snprintf(out, cap, "%s/.openledger/keystore", home);
    }
    if (n < 0 || (size_t)n >= cap)
        return util_err_set(err, UTIL_EINVAL, "keystore directory path too long");
    /* Trailing slashes would only make paths ugly ("dir//name.json"). */
    while (n > 1 && out[n - 1] == '/')
        out[--n] = 0;
    return 0;
}

int cli_resolve_address(cli_ctx *ctx, const char *s, chain_addr *a,
                        char str[CHAIN_ADDR_STR_LEN + 1], util_err *err)
{
    int rc;
    if (strncasecmp(s, "ol1", 3) == 0) {
        if ((rc = chain_addr_decode(a, s, err))) {
            util_err_prefix(err, "address '%s': ", s);
            return rc;
        }
    } else if (cli_dev_index(s) >= 0) {
        if ((rc = cli_dev_address(cli_dev_index(s), a, err))) return rc;
    } else {
        char dir[4096];
        cli_keyinfo info;
        if ((rc = cli_keystore_dir(ctx, dir, sizeof dir, err))) return rc;
        if (cli_key_name_valid(s, NULL))
            return util_err_set(err, UTIL_EINVAL,
                                "'%s' is neither an ol1... address nor a key name", s);
        if ((rc = cli_keystore_load(dir, s, NULL, &info, err))) return rc;
        *a = info.addr;
    }
    chain_addr_encode(str, a);
    return 0;
}

int cli_resolve_signer(cli_ctx *ctx, const char *name, chain_keypair *kp, util_err *err)
{
    int idx = cli_dev_index(name);
    if (idx >= 0) {
        if (chain_keypair_dev(kp, (uint32_t)idx))
            return util_err_set(err, UTIL_ECRYPTO, "cannot derive development key %s", name);
        return 0;
    }
    if (strncasecmp(name, "ol1", 3) == 0)
        return util_err_set(err, UTIL_EINVAL,
                            "'%s' is an address; signing needs a key name (keystore or dev0..dev9)",
                            name);
    char dir[4096];
    int rc = cli_keystore_dir(ctx, dir, sizeof dir, err);
    if (rc) return rc;
    json_t *doc = NULL;
    cli_keyinfo info;
    if ((rc = cli_keystore_load(dir, name, &doc, &info, err))) return rc;
    char prompt[128];
    snprintf(prompt, sizeof prompt, "Passphrase for key '%s': ", name);
    char *pass = NULL;
    size_t plen = 0;
    rc = cli_passphrase_get(ctx, prompt, 0, &pass, &plen, err);
    if (!rc) rc = cli_keystore_decrypt(doc, pass, plen, kp, err);
    cli_passphrase_free(pass, plen);
    json_decref(doc);
    if (rc) util_err_prefix(err, "key '%s': ", name);
    return rc;
}
