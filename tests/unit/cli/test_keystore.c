/* Keystore: scrypt known answers, encrypt/decrypt, tampering, files and
 * their modes, malformed documents, and the key commands run in-process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/keystore.h"
#include "util/hex.h"

#define TEST_N 16 /* tiny scrypt cost: tests only */

static char g_dir[256];

static int setup(void **state)
{
    strcpy(g_dir, "/tmp/ol-keystore-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    setenv("OPENLEDGER_SCRYPT_N", "16", 1);
    unsetenv("OPENLEDGER_PASSWORD");
    unsetenv("OPENLEDGER_KEYSTORE");
    return 0;
}

static int teardown(void **state)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void keypair(chain_keypair *kp, uint8_t fill)
{
    uint8_t sk[32];
    memset(sk, fill, sizeof sk);
    assert_int_equal(chain_keypair_from_seckey(kp, sk, NULL), 0);
}

static json_t *encrypt(const chain_keypair *kp, const char *pass)
{
    json_t *doc = NULL;
    util_err e;
    assert_int_equal(cli_keystore_encrypt(kp, "k", pass, strlen(pass), TEST_N, &doc, &e), 0);
    return doc;
}

static void test_scrypt_rfc7914(void **state)
{
    uint8_t out[64], want[64];
    assert_int_equal(cli_scrypt(out, 64, "", 0, (const uint8_t *)"", 0, 16, 1, 1, NULL), 0);
    assert_int_equal(util_hex_decode_exact(
                         want, 64,
                         "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069d"
                         "ed0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"),
                     0);
    assert_memory_equal(out, want, 64);
    assert_int_equal(
        cli_scrypt(out, 64, "password", 8, (const uint8_t *)"NaCl", 4, 1024, 8, 16, NULL), 0);
    assert_int_equal(util_hex_decode_exact(
                         want, 64,
                         "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d9"
                         "2e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"),
                     0);
    assert_memory_equal(out, want, 64);
}

static void test_roundtrip(void **state)
{
    chain_keypair kp, back;
    keypair(&kp, 0x11);
    json_t *doc = encrypt(&kp, "correct horse");
    cli_keyinfo info;
    assert_int_equal(cli_keystore_check(doc, &info, NULL), 0);
    chain_addr a;
    char addr[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_from_pubkey(&a, kp.pubkey);
    chain_addr_encode(addr, &a);
    assert_string_equal(info.address, addr);
    assert_string_equal(json_string_value(json_object_get(doc, "address")), addr);
    json_t *cr = json_object_get(doc, "crypto");
    assert_int_equal(json_integer_value(json_object_get(cr, "n")), TEST_N);
    assert_int_equal(json_integer_value(json_object_get(cr, "r")), 8);
    assert_int_equal(json_integer_value(json_object_get(cr, "p")), 1);
    assert_string_equal(json_string_value(json_object_get(cr, "cipher")), "aes-256-gcm");
    /* The secret is not in the document in clear. */
    char skhex[65];
    util_hex_encode(skhex, kp.seckey, 32);
    char *text = json_dumps(doc, 0);
    assert_null(strstr(text, skhex));
    free(text);
    assert_int_equal(cli_keystore_decrypt(doc, "correct horse", 13, &back, NULL), 0);
    assert_memory_equal(back.seckey, kp.seckey, 32);
    assert_memory_equal(back.pubkey, kp.pubkey, 32);
    /* Two encryptions of the same key differ (fresh salt and iv). */
    json_t *doc2 = encrypt(&kp, "correct horse");
    assert_string_not_equal(
        json_string_value(json_object_get(cr, "ciphertext")),
        json_string_value(json_object_get(json_object_get(doc2, "crypto"), "ciphertext")));
    json_decref(doc2);
    json_decref(doc);
}

static void test_wrong_passphrase(void **state)
{
    chain_keypair kp, back;
    keypair(&kp, 0x22);
    json_t *doc = encrypt(&kp, "secret");
    util_err e;
    assert_int_equal(cli_keystore_decrypt(doc, "Secret", 6, &back, &e), UTIL_ECRYPTO);
    assert_string_equal(e.msg, "wrong passphrase or corrupted keystore");
    assert_int_equal(cli_keystore_decrypt(doc, "", 0, &back, &e), UTIL_ECRYPTO);
    assert_int_equal(cli_keystore_decrypt(doc, "secret!", 7, &back, &e), UTIL_ECRYPTO);
    json_decref(doc);
}

/* Flips one hex digit of crypto.<field>. */
static void flip(json_t *doc, const char *field)
{
    json_t *cr = json_object_get(doc, "crypto");
    char *s = strdup(json_string_value(json_object_get(cr, field)));
    s[3] = s[3] == '0' ? '1' : '0';
    json_object_set_new(cr, field, json_string(s));
    free(s);
}

static void test_tampering(void **state)
{
    static const char *const fields[] = {"ciphertext", "tag", "iv", "salt"};
    chain_keypair kp, other, back;
    keypair(&kp, 0x33);
    keypair(&other, 0x44);
    util_err e;
    for (size_t i = 0; i < 4; i++) {
        json_t *doc = encrypt(&kp, "pw");
        flip(doc, fields[i]);
        assert_int_equal(cli_keystore_decrypt(doc, "pw", 2, &back, &e), UTIL_ECRYPTO);
        assert_non_null(strstr(e.msg, "wrong passphrase or corrupted keystore"));
        json_decref(doc);
    }
    /* Associated data: another (consistent) address and pubkey. */
    json_t *doc = encrypt(&kp, "pw");
    json_t *od = encrypt(&other, "pw");
    json_object_set(doc, "address", json_object_get(od, "address"));
    json_object_set(doc, "pubkey", json_object_get(od, "pubkey"));
    assert_int_equal(cli_keystore_check(doc, &(cli_keyinfo){0}, NULL), 0);
    assert_int_equal(cli_keystore_decrypt(doc, "pw", 2, &back, &e), UTIL_ECRYPTO);
    json_decref(doc);
    /* Pubkey alone replaced: caught before decrypting. */
    doc = encrypt(&kp, "pw");
    json_object_set(doc, "pubkey", json_object_get(od, "pubkey"));
    assert_int_equal(cli_keystore_decrypt(doc, "pw", 2, &back, &e), UTIL_EINVAL);
    assert_non_null(strstr(e.msg, "does not belong"));
    json_decref(doc);
    json_decref(od);
}

/* Applies a JSON patch to a good document and expects check to fail with a
 * message containing want. */
static void expect_bad(const char *path, json_t *val, const char *want)
{
    chain_keypair kp;
    keypair(&kp, 0x55);
    json_t *doc = encrypt(&kp, "pw");
    json_t *obj = doc;
    const char *key = path;
    if (strncmp(path, "crypto.", 7) == 0) {
        obj = json_object_get(doc, "crypto");
        key = path + 7;
    }
    if (val)
        json_object_set_new(obj, key, val);
    else
        json_object_del(obj, key);
    util_err e;
    cli_keyinfo info;
    int rc = cli_keystore_check(doc, &info, &e);
    if (rc == 0 || !strstr(e.msg, want))
        fail_msg("patch %s: rc %d msg '%s', want '%s'", path, rc, rc ? e.msg : "", want);
    chain_keypair back;
    assert_int_not_equal(cli_keystore_decrypt(doc, "pw", 2, &back, &e), 0);
    json_decref(doc);
}

static void test_malformed_docs(void **state)
{
    expect_bad("version", json_integer(2), "unsupported keystore version 2");
    expect_bad("version", json_string("1"), "'version' must be an integer");
    expect_bad("version", NULL, "missing field 'version'");
    expect_bad("address", json_string("ol1qqqq"), "field 'address'");
    expect_bad("address", json_integer(5), "'address' is not a string");
    expect_bad("pubkey", json_string("abcd"), "'pubkey' must be 32 bytes");
    expect_bad("crypto", NULL, "missing field 'crypto'");
    expect_bad("crypto", json_string("x"), "'crypto' is not an object");
    expect_bad("crypto.kdf", json_string("pbkdf2"), "unsupported kdf 'pbkdf2'");
    expect_bad("crypto.cipher", json_string("aes-128-ctr"), "unsupported cipher");
    expect_bad("crypto.n", json_integer(1000), "power of two");
    expect_bad("crypto.n", json_integer(1 << 30), "'crypto.n' must be an integer");
    expect_bad("crypto.n", json_integer(-16), "'crypto.n' must be an integer");
    expect_bad("crypto.r", json_integer(0), "'crypto.r'");
    expect_bad("crypto.p", json_integer(100), "'crypto.p'");
    expect_bad("crypto.salt", NULL, "missing field 'crypto.salt'");
    expect_bad("crypto.salt", json_string("zz"), "'crypto.salt' must be 16 to 64 bytes");
    expect_bad("crypto.iv", json_string("00112233"), "'crypto.iv' must be 12 bytes");
    expect_bad("crypto.tag", json_string("0011"), "'crypto.tag' must be 16 bytes");
    expect_bad("crypto.ciphertext", json_string("0x00"), "'crypto.ciphertext' must be 32 bytes");

    json_t *arr = json_array();
    util_err e;
    assert_int_equal(cli_keystore_check(arr, &(cli_keyinfo){0}, &e), UTIL_EINVAL);
    assert_string_equal(e.msg, "not a JSON object");
    json_decref(arr);
}

static void test_names(void **state)
{
    static const char *const good[] = {"alice", "a", "Key_1.b-c", "dev10", "devx", "o1"};
    static const char *const bad[] = {"",    "dev0",   "dev9", ".hidden", "-x",  "a/b",
                                      "a b", "ol1abc", "OL1x", "é",       "../x"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(cli_key_name_valid(good[i], NULL), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (cli_key_name_valid(bad[i], NULL) == 0) fail_msg("name '%s' accepted", bad[i]);
    char longname[CLI_KEY_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(cli_key_name_valid(longname, NULL), UTIL_EINVAL);
    longname[CLI_KEY_NAME_MAX] = 0;
    assert_int_equal(cli_key_name_valid(longname, NULL), 0);
}

static void test_scrypt_n_env(void **state)
{
    uint64_t n;
    unsetenv("OPENLEDGER_SCRYPT_N");
    assert_int_equal(cli_scrypt_n_for_new(&n, NULL), 0);
    assert_int_equal(n, 1u << 15);
    setenv("OPENLEDGER_SCRYPT_N", "1024", 1);
    assert_int_equal(cli_scrypt_n_for_new(&n, NULL), 0);
    assert_int_equal(n, 1024);
    static const char *const bad[] = {"1000",   "0", "1", "-2", "2x", "99999999999999999999",
                                      "2097152"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv("OPENLEDGER_SCRYPT_N", bad[i], 1);
        if (cli_scrypt_n_for_new(&n, NULL) == 0) fail_msg("N '%s' accepted", bad[i]);
    }
    setenv("OPENLEDGER_SCRYPT_N", "16", 1);
}

static void test_files(void **state)
{
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/a/b/keystore", g_dir);
    chain_keypair kp, back;
    keypair(&kp, 0x66);
    json_t *doc = NULL;
    util_err e;
    assert_int_equal(cli_keystore_encrypt(&kp, "alice", "pw", 2, TEST_N, &doc, &e), 0);
    assert_int_equal(cli_keystore_write(dir, "alice", doc, &e), 0);
    struct stat st;
    snprintf(path, sizeof path, "%s/alice.json", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/a", g_dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* Never overwritten. */
    assert_int_equal(cli_keystore_write(dir, "alice", doc, &e), UTIL_EEXIST);
    assert_non_null(strstr(e.msg, "already exists"));
    json_decref(doc);

    json_t *loaded = NULL;
    cli_keyinfo info;
    assert_int_equal(cli_keystore_load(dir, "alice", &loaded, &info, &e), 0);
    assert_string_equal(info.name, "alice");
    assert_int_equal(cli_keystore_decrypt(loaded, "pw", 2, &back, &e), 0);
    assert_memory_equal(back.seckey, kp.seckey, 32);
    json_decref(loaded);
    assert_int_equal(cli_keystore_load(dir, "bob", NULL, &info, &e), UTIL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "no key named 'bob'"));

    /* A broken file is reported by load and skipped by list. */
    snprintf(path, sizeof path, "%s/broken.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"version\": 1, \"name\": ", f);
    fclose(f);
    assert_int_equal(cli_keystore_load(dir, "broken", NULL, &info, &e), UTIL_EINVAL);
    assert_non_null(strstr(e.msg, "is not valid JSON"));
    snprintf(path, sizeof path, "%s/nocrypto.json", dir);
    f = fopen(path, "w");
    fprintf(f, "{\"version\":1,\"name\":\"x\",\"address\":\"%s\",\"pubkey\":\"", info.address);
    for (int i = 0; i < 32; i++)
        fprintf(f, "%02x", info.pubkey[i]);
    fputs("\"}", f);
    fclose(f);
    assert_int_equal(cli_keystore_load(dir, "nocrypto", NULL, &info, &e), UTIL_EINVAL);
    assert_non_null(strstr(e.msg, "is malformed: missing field 'crypto'"));

    keypair(&kp, 0x67);
    assert_int_equal(cli_keystore_encrypt(&kp, "aaron", "pw", 2, TEST_N, &doc, &e), 0);
    assert_int_equal(cli_keystore_write(dir, "aaron", doc, &e), 0);
    json_decref(doc);
    cli_keyinfo *keys;
    size_t n;
    assert_int_equal(cli_keystore_list(dir, &keys, &n, NULL, NULL, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(keys[0].name, "aaron");
    assert_string_equal(keys[1].name, "alice");
    free(keys);
    snprintf(path, sizeof path, "%s/none", g_dir);
    assert_int_equal(cli_keystore_list(path, &keys, &n, NULL, NULL, &e), 0);
    assert_int_equal(n, 0);
}

/* Runs the program in-process; returns the exit code, output in out and err. */
static int run(char **out, char **err, const char *const *argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    size_t ol, el;
    FILE *fo = open_memstream(out, &ol), *fe = open_memstream(err, &el);
    int rc = cli_main(argc, (char **)argv, fo, fe);
    fclose(fo);
    fclose(fe);
    return rc;
}

#define RUN(...) run(&out, &err, (const char *const[]){"openledger-cli", __VA_ARGS__, NULL})
#define DROP()                                                                                     \
    do {                                                                                           \
        free(out);                                                                                 \
        free(err);                                                                                 \
    } while (0)

static void test_key_commands(void **state)
{
    char ks[300], pf[300];
    snprintf(ks, sizeof ks, "%s/cmd-ks", g_dir);
    snprintf(pf, sizeof pf, "%s/pass.txt", g_dir);
    FILE *f = fopen(pf, "w");
    fputs("file pass\r\nignored second line\n", f);
    fclose(f);
    char *out, *err;

    assert_int_equal(RUN("--keystore", ks, "--password-file", pf, "key", "new", "--name", "al"), 0);
    assert_non_null(strstr(out, "name:    al\naddress: ol1"));
    DROP();
    /* Same passphrase through the environment; the file's second line was not part of it. */
    setenv("OPENLEDGER_PASSWORD", "file pass", 1);
    assert_int_equal(RUN("key", "show", "al", "--secret", "--keystore", ks), 0);
    assert_non_null(strstr(out, "secret:  0x"));
    DROP();
    setenv("OPENLEDGER_PASSWORD", "nope", 1);
    assert_int_equal(RUN("key", "show", "al", "--secret", "--keystore", ks), 1);
    assert_string_equal(err, "error: key 'al': wrong passphrase or corrupted keystore\n");
    DROP();
    /* --password-file wins over the environment. */
    assert_int_equal(RUN("key", "show", "al", "--secret", "--keystore", ks, "--password-file", pf),
                     0);
    DROP();
    /* Without --secret no passphrase is needed and no secret printed. */
    unsetenv("OPENLEDGER_PASSWORD");
    assert_int_equal(RUN("--json", "key", "show", "al", "--keystore", ks), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_null(json_object_get(j, "secret"));
    assert_string_equal(json_string_value(json_object_get(j, "name")), "al");
    json_decref(j);
    DROP();

    setenv("OPENLEDGER_PASSWORD", "pw2", 1);
    const char *sk = "0000000000000000000000000000000000000000000000000000000000000003";
    assert_int_equal(RUN("key", "import", "bo", "--secret-hex", sk, "--keystore", ks), 0);
    DROP();
    assert_int_equal(RUN("key", "import", "bo", "--secret-hex", sk, "--keystore", ks), 1);
    assert_non_null(strstr(err, "already exists"));
    DROP();
    assert_int_equal(RUN("key", "import", "dev1", "--secret-hex", sk, "--keystore", ks), 2);
    DROP();
    assert_int_equal(RUN("key", "import", "bo2", "--keystore", ks), 2);
    assert_non_null(strstr(err, "needs --secret-hex"));
    DROP();
    assert_int_equal(RUN("key", "show", "bo", "--secret", "--keystore", ks), 0);
    assert_non_null(strstr(out, sk));
    DROP();
    setenv("OPENLEDGER_PASSWORD", "", 1);
    assert_int_equal(RUN("key", "new", "--keystore", ks), 1);
    assert_non_null(strstr(err, "must not be empty"));
    DROP();
    unsetenv("OPENLEDGER_PASSWORD");

    assert_int_equal(RUN("key", "list", "--keystore", ks), 0);
    assert_non_null(strstr(out, "al    ol1"));
    assert_non_null(strstr(out, "bo    ol1"));
    DROP();
    /* dev keys need no keystore. */
    assert_int_equal(RUN("key", "show", "dev0", "--keystore", "/nonexistent"), 0);
    assert_non_null(strstr(out, "address: ol1"));
    assert_null(strstr(out, "secret"));
    DROP();
    assert_int_equal(RUN("key", "show", "nobody", "--keystore", ks), 1);
    assert_non_null(strstr(err, "no key named 'nobody'"));
    DROP();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scrypt_rfc7914),   cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_wrong_passphrase), cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_malformed_docs),   cmocka_unit_test(test_names),
        cmocka_unit_test(test_scrypt_n_env),     cmocka_unit_test(test_files),
        cmocka_unit_test(test_key_commands),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
