/* The contract commands of openledger-cli that need no node (asm, disasm) and
 * every usage error the contract commands catch before talking to one. The
 * node side (deploy, call, show, storage against a real node) is in
 * tests/integration/contracts.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/types/tx.h"
#include "cli/cli.h"
#include "util/hex.h"
#include "vm/vm.h"

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-clic-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_rm_tree(g_dir);
    return 0;
}

/* Port 1 on loopback: nothing listens, so a command that reached the network
 * would fail with a connection error, not a usage error. */
static int run(char **out, char **err, const char *const *args)
{
    const char *argv[32] = {"openledger-cli", "--rpc", "http://127.0.0.1:1"};
    int argc = 3;
    while (*args)
        argv[argc++] = *args++;
    size_t ol, el;
    FILE *fo = open_memstream(out, &ol), *fe = open_memstream(err, &el);
    int rc = cli_main(argc, (char **)argv, fo, fe);
    fclose(fo);
    fclose(fe);
    return rc;
}

#define RUN(...) run(&out, &err, (const char *const[]){__VA_ARGS__, NULL})
#define DROP() (free(out), free(err))

static const char *path(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

static void write_file(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(path(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static uint8_t *read_file(const char *name, size_t *n)
{
    FILE *f = fopen(path(name), "rb");
    if (!f) fail_msg("cannot open %s", path(name));
    uint8_t *b = malloc(65536);
    assert_non_null(b);
    *n = fread(b, 1, 65536, f);
    fclose(f);
    return b;
}

static const char SRC[] = "; echoes its input\n"
                          ".data\n"
                          "greeting: .ascii \"hi\"\n"
                          ".code\n"
                          "main:\n"
                          "    sys input_size\n"
                          "    mov r3, r0\n"
                          "    ldi r1, 0x100\n"
                          "    ldi r2, 0\n"
                          "    sys input\n"
                          "    return r1, r3\n";

static void test_asm_disasm(void **state)
{
    (void)state;
    char *out, *err;
    write_file("echo.olasm", SRC, strlen(SRC));
    uint8_t *want;
    size_t wn;
    util_err e = {0};
    assert_int_equal(vm_asm_source("x", SRC, strlen(SRC), &want, &wn, &e), 0);
    uint8_t h[32];
    char hex[65];
    chain_sha256(h, want, wn);
    util_hex_encode(hex, h, 32);

    /* -o, then the default name (FILE.olasm -> FILE.bin). */
    assert_int_equal(RUN("asm", path("echo.olasm"), "-o", path("a.bin")), 0);
    assert_non_null(strstr(out, hex));
    DROP();
    assert_int_equal(RUN("asm", path("echo.olasm")), 0);
    assert_non_null(strstr(out, "echo.bin: "));
    DROP();
    size_t n;
    uint8_t *got = read_file("echo.bin", &n);
    assert_int_equal(n, wn);
    assert_memory_equal(got, want, wn);
    free(got);
    assert_int_equal(RUN("--json", "asm", path("echo.olasm"), "--output", path("b.bin")), 0);
    assert_non_null(strstr(out, "\"codeHash\""));
    assert_non_null(strstr(out, hex));
    DROP();

    /* disasm to stdout and to a file; reassembling gives the same bytes. */
    assert_int_equal(RUN("disasm", path("echo.bin")), 0);
    assert_non_null(strstr(out, "sys input_size"));
    uint8_t *again;
    size_t an;
    assert_int_equal(vm_asm_source("d", out, strlen(out), &again, &an, &e), 0);
    assert_int_equal(an, wn);
    assert_memory_equal(again, want, wn);
    free(again);
    DROP();
    assert_int_equal(RUN("disasm", path("echo.bin"), "-o", path("echo2.olasm")), 0);
    assert_string_equal(out, "");
    DROP();
    assert_int_equal(RUN("asm", path("echo2.olasm")), 0);
    DROP();
    got = read_file("echo2.bin", &n);
    assert_int_equal(n, wn);
    assert_memory_equal(got, want, wn);
    free(got);
    free(want);
}

static void test_asm_disasm_errors(void **state)
{
    (void)state;
    char *out, *err;
    static const char bad[] = "main:\n    ldi r16, 1\n    stop\n";
    write_file("bad.olasm", bad, strlen(bad));
    assert_int_equal(RUN("asm", path("bad.olasm")), CLI_EXIT_ERR);
    assert_non_null(strstr(err, "bad.olasm:2:9: "));
    DROP();
    /* A verifier rejection points at the source line. */
    static const char fall[] = "main:\n    ldi r1, 1\n";
    write_file("fall.olasm", fall, strlen(fall));
    assert_int_equal(RUN("asm", path("fall.olasm")), CLI_EXIT_ERR);
    assert_non_null(strstr(err, "fall.olasm:2:"));
    DROP();
    assert_int_equal(RUN("asm", path("missing.olasm")), CLI_EXIT_ERR);
    assert_non_null(strstr(err, "missing.olasm"));
    DROP();
    assert_int_equal(RUN("asm"), CLI_EXIT_USAGE);
    DROP();
    /* Not a code blob. */
    write_file("junk.bin", "hello", 5);
    assert_int_equal(RUN("disasm", path("junk.bin")), CLI_EXIT_ERR);
    assert_non_null(strstr(err, "junk.bin: "));
    DROP();
    assert_int_equal(RUN("disasm", path("nothing.bin")), CLI_EXIT_ERR);
    assert_non_null(strstr(err, "cannot open"));
    DROP();
    /* A blob that does not verify still disassembles (.unverified). */
    uint8_t blob[24] = {'O', 'L', 'V', 'M', 1, 0, 16, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0xee};
    write_file("unverified.bin", blob, sizeof blob);
    assert_int_equal(RUN("disasm", path("unverified.bin")), 0);
    assert_non_null(strstr(out, ".unverified"));
    DROP();
}

/* Everything refused before any request: usage errors exit 2, bad files 1
 * with a message that is not about the connection. */
static void test_contract_usage_errors(void **state)
{
    (void)state;
    char *out, *err;
    const char *addr = "ol1asu3jk49yk9pthm8nlws3c6m4uf96n0843vsv8";
    write_file("empty.bin", "", 0);
    assert_int_equal(RUN("contract", "deploy", path("empty.bin"), "--from", "dev0"), CLI_EXIT_ERR);
    assert_non_null(strstr(err, "is empty"));
    DROP();
    uint8_t *big = calloc(1, CHAIN_CODE_MAX + 1);
    assert_non_null(big);
    write_file("big.bin", big, CHAIN_CODE_MAX + 1);
    free(big);
    assert_int_equal(RUN("contract", "deploy", path("big.bin"), "--from", "dev0"), CLI_EXIT_ERR);
    assert_non_null(strstr(err, "larger than the code size limit of 24576 bytes"));
    DROP();
    static const char bad[] = "main:\n    jmp nowhere\n";
    write_file("bad.olasm", bad, strlen(bad));
    assert_int_equal(RUN("contract", "deploy", path("bad.olasm"), "--from", "dev0"), CLI_EXIT_ERR);
    assert_non_null(strstr(err, "bad.olasm:2:"));
    DROP();
    assert_int_equal(RUN("contract", "deploy", path("bad.olasm")), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "needs --from"));
    DROP();

    assert_int_equal(RUN("contract", "call", addr), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "needs --from (or --read)"));
    DROP();
    assert_int_equal(RUN("contract", "call", addr, "--read", "--nonce", "3"), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "--read does not take --nonce"));
    DROP();
    assert_int_equal(RUN("contract", "call", addr, "--read", "--input", "0xabc"), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "--input"));
    DROP();
    assert_int_equal(RUN("contract", "call", addr, "--read", "--value", "1.0000000001"),
                     CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "--value"));
    DROP();
    assert_int_equal(RUN("contract", "call", "ol1nope", "--read"), CLI_EXIT_ERR);
    assert_non_null(strstr(err, "ol1nope"));
    DROP();
    assert_int_equal(RUN("contract", "storage", addr, "0x01"), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "not 32 bytes of hex"));
    DROP();
    assert_int_equal(RUN("contract", "storage", addr), CLI_EXIT_USAGE);
    DROP();
    assert_int_equal(RUN("contract", "show", addr, "--from", "dev0"), CLI_EXIT_USAGE);
    DROP();
    /* A well-formed command does reach for the node, and says it is not there. */
    assert_int_equal(RUN("contract", "show", addr), CLI_EXIT_ERR);
    assert_true(strlen(err) > 0);
    DROP();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_asm_disasm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_asm_disasm_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_usage_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
