/* openledger-cli argument parsing, exit codes, and the promise that --help
 * and docs/cli.md describe exactly the options the code accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/http_client.h"
#include "util/amount.h"

#define ARGV(...) ((char *[]){"openledger-cli", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)) + 1)
#define PARSE(a, e, ...) cli_args_parse(a, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), 1, e)

static void test_parse(void **state)
{
    cli_args a;
    util_err e;
    assert_int_equal(PARSE(&a, &e, "--json", "send", "--from", "dev0", "--to=ol1x", "--no-wait",
                           "--rpc", "http://h:1"),
                     0);
    assert_int_equal(a.npos, 1);
    assert_string_equal(a.pos[0], "send");
    assert_string_equal(a.opt[CLI_OPT_JSON], "");
    assert_string_equal(a.opt[CLI_OPT_FROM], "dev0");
    assert_string_equal(a.opt[CLI_OPT_TO], "ol1x");
    assert_string_equal(a.opt[CLI_OPT_RPC], "http://h:1");
    assert_string_equal(a.opt[CLI_OPT_NO_WAIT], "");
    assert_null(a.opt[CLI_OPT_AMOUNT]);

    assert_int_equal(PARSE(&a, &e, "-h"), 0);
    assert_non_null(a.opt[CLI_OPT_HELP]);
    assert_int_equal(PARSE(&a, &e, "key", "show", "--", "--name"), 0);
    assert_int_equal(a.npos, 3);
    assert_string_equal(a.pos[2], "--name");
    assert_int_equal(PARSE(&a, &e, "block", "-"), 0);
    assert_string_equal(a.pos[1], "-");

    assert_int_equal(PARSE(&a, &e, "--bogus"), UTIL_EINVAL);
    assert_string_equal(e.msg, "unknown option '--bogus'");
    assert_int_equal(PARSE(&a, &e, "--bogus=1"), UTIL_EINVAL);
    assert_string_equal(e.msg, "unknown option '--bogus'");
    assert_int_equal(PARSE(&a, &e, "-x"), UTIL_EINVAL);
    assert_int_equal(PARSE(&a, &e, "--json", "--json"), UTIL_EINVAL);
    assert_string_equal(e.msg, "option --json given twice");
    assert_int_equal(PARSE(&a, &e, "send", "--from"), UTIL_EINVAL);
    assert_string_equal(e.msg, "option --from needs a value (KEY)");
    assert_int_equal(PARSE(&a, &e, "--json=1"), UTIL_EINVAL);
    assert_int_equal(PARSE(&a, &e, "1", "2", "3", "4", "5", "6", "7", "8", "9"), UTIL_EINVAL);
}

static const cli_command *find(cli_args *a, int *used)
{
    const cli_command *c = cli_command_find(a, used);
    assert_non_null(c);
    return c;
}

static void test_find_and_check(void **state)
{
    cli_args a;
    util_err e;
    int used;
    assert_int_equal(PARSE(&a, &e, "key", "show", "alice", "--secret"), 0);
    const cli_command *c = find(&a, &used);
    assert_string_equal(c->name, "key show");
    assert_int_equal(used, 2);
    assert_int_equal(cli_args_check(c, &a, used, &e), 0);

    assert_int_equal(PARSE(&a, &e, "key", "show"), 0);
    c = find(&a, &used);
    assert_int_equal(cli_args_check(c, &a, used, &e), UTIL_EINVAL);
    assert_string_equal(e.msg, "'key show' needs NAME");
    assert_int_equal(PARSE(&a, &e, "status", "extra"), 0);
    c = find(&a, &used);
    assert_int_equal(cli_args_check(c, &a, used, &e), UTIL_EINVAL);
    assert_string_equal(e.msg, "unexpected argument 'extra'");
    assert_int_equal(PARSE(&a, &e, "balance", "dev0", "--amount", "1"), 0);
    c = find(&a, &used);
    assert_int_equal(cli_args_check(c, &a, used, &e), UTIL_EINVAL);
    assert_string_equal(e.msg, "'balance' does not take --amount");
    assert_int_equal(PARSE(&a, &e, "send", "--from", "dev0", "--amount", "1"), 0);
    c = find(&a, &used);
    assert_int_equal(cli_args_check(c, &a, used, &e), UTIL_EINVAL);
    assert_string_equal(e.msg, "'send' needs --to");
    assert_int_equal(PARSE(&a, &e, "send", "--from=", "--to", "x", "--amount", "1"), 0);
    c = find(&a, &used);
    assert_int_equal(cli_args_check(c, &a, used, &e), UTIL_EINVAL);
    assert_string_equal(e.msg, "option --from has an empty value");
    assert_int_equal(PARSE(&a, &e, "block"), 0);
    c = find(&a, &used);
    assert_int_equal(cli_args_check(c, &a, used, &e), 0);
    assert_int_equal(PARSE(&a, &e, "ke"), 0);
    assert_null(cli_command_find(&a, &used));
    assert_int_equal(PARSE(&a, &e, "key", "neww"), 0);
    assert_null(cli_command_find(&a, &used));
}

static int run(char **out, char **err, int argc, char **argv)
{
    size_t ol, el;
    FILE *fo = open_memstream(out, &ol), *fe = open_memstream(err, &el);
    int rc = cli_main(argc, argv, fo, fe);
    fclose(fo);
    fclose(fe);
    return rc;
}

#define RUN(...) run(&out, &err, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void test_exit_codes(void **state)
{
    char *out, *err;
    assert_int_equal(run(&out, &err, 1, ARGV(NULL)), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "usage: openledger-cli"));
    free(out), free(err);
    assert_int_equal(RUN("--version"), 0);
    assert_string_equal(out, "openledger-cli " OL_VERSION "\n");
    free(out), free(err);
    assert_int_equal(RUN("--help"), 0);
    assert_non_null(strstr(out, "Commands:"));
    assert_string_equal(err, "");
    free(out), free(err);
    assert_int_equal(RUN("help", "key", "new"), 0);
    assert_non_null(strstr(out, "usage: openledger-cli key new [--name NAME]"));
    free(out), free(err);
    assert_int_equal(RUN("help", "nope"), CLI_EXIT_USAGE);
    free(out), free(err);
    assert_int_equal(RUN("frobnicate"), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "error: unknown command 'frobnicate'"));
    free(out), free(err);
    assert_int_equal(RUN("key"), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "key new"));
    free(out), free(err);
    assert_int_equal(RUN("key", "--help"), 0);
    free(out), free(err);
    assert_int_equal(RUN("send", "--to", "dev1", "--amount", "1"), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "error: 'send' needs --from\n"));
    assert_non_null(strstr(err, "openledger-cli send --help"));
    free(out), free(err);
    assert_int_equal(RUN("send", "--from", "dev0", "--to", "dev1", "--amount", "1.0000000001"),
                     CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "is not an OPEN amount"));
    free(out), free(err);
    assert_int_equal(
        RUN("send", "--from", "dev0", "--to", "dev1", "--amount", "1", "--gas-price", "1e3"),
        CLI_EXIT_USAGE);
    free(out), free(err);
    assert_int_equal(RUN("send", "--from", "dev0", "--to", "dev1", "--amount", "1", "--gas-limit",
                         "18446744073709551615", "--gas-price", "2"),
                     CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "overflows"));
    free(out), free(err);
    assert_int_equal(RUN("tx", "0x12"), CLI_EXIT_USAGE);
    free(out), free(err);
    assert_int_equal(RUN("block", "-5"), CLI_EXIT_USAGE);
    free(out), free(err);
    assert_int_equal(RUN("block", "lates"), CLI_EXIT_USAGE);
    free(out), free(err);
    /* A command's --help wins over missing arguments. */
    for (size_t i = 0; i < cli_ncommands; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s", cli_commands[i].name);
        char *sp = strchr(name, ' ');
        if (sp) *sp = 0;
        char *argv[] = {"openledger-cli", name, sp ? sp + 1 : "--help", "--help", NULL};
        assert_int_equal(run(&out, &err, sp ? 4 : 3, argv), 0);
        assert_non_null(strstr(out, cli_commands[i].summary));
        free(out), free(err);
    }
}

static void test_amounts(void **state)
{
    char buf[96];
    uint64_t v;
    cli_format_amount(buf, sizeof buf, 1250000000);
    assert_string_equal(buf, "1.25 OPEN (1250000000 base units)");
    cli_format_amount(buf, sizeof buf, 1);
    assert_string_equal(buf, "0.000000001 OPEN (1 base units)");
    cli_format_amount(buf, sizeof buf, UINT64_MAX);
    assert_string_equal(buf, "18446744073.709551615 OPEN (18446744073709551615 base units)");
    assert_int_equal(cli_parse_u64("18446744073709551615", &v), 0);
    assert_int_equal(cli_parse_u64("18446744073709551616", &v), -1);
    assert_int_equal(cli_parse_u64("+1", &v), -1);
    assert_int_equal(cli_parse_u64(" 1", &v), -1);
    assert_int_equal(cli_parse_u64("", &v), -1);
}

static void test_url(void **state)
{
    cli_url u;
    util_err e;
    assert_int_equal(cli_url_parse(&u, "http://127.0.0.1:8545", &e), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_string_equal(u.port, "8545");
    assert_string_equal(u.path, "/");
    assert_string_equal(u.hosthdr, "127.0.0.1:8545");
    assert_int_equal(cli_url_parse(&u, "http://node.example/rpc/v1", &e), 0);
    assert_string_equal(u.host, "node.example");
    assert_string_equal(u.port, "80");
    assert_string_equal(u.path, "/rpc/v1");
    assert_int_equal(cli_url_parse(&u, "http://[::1]:9000/x", &e), 0);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.port, "9000");
    assert_string_equal(u.hosthdr, "[::1]:9000");
    assert_int_equal(cli_url_parse(&u, "http://h?a=1", &e), 0);
    assert_string_equal(u.path, "/?a=1");

    assert_int_equal(cli_url_parse(&u, "http://h?a=1", &e), 0);
    assert_int_equal(u.tls, 0);
    /* https:// is the node behind TLS: its WebSocket is wss://. */
    assert_int_equal(cli_url_parse(&u, "https://node.example/x", &e), 0);
    assert_int_equal(u.tls, 1);
    assert_string_equal(u.port, "443");
    assert_string_equal(u.path, "/x");
    assert_string_equal(u.hosthdr, "node.example");
    assert_int_equal(cli_url_parse(&u, "https://[::1]:9443", &e), 0);
    assert_string_equal(u.hosthdr, "[::1]:9443");
    assert_int_equal(cli_url_parse(&u, "ws://h", &e), UTIL_EINVAL);
    assert_non_null(strstr(e.msg, "http:// or https://"));
    static const char *const bad[] = {
        "ftp://h",      "127.0.0.1:8545", "https://",       "https://h:0",
        "http://",      "http://:80",     "http://h:0",     "http://h:65536",
        "http://h:8x",  "http://h:",      "http://[::1",    "http://u@h/",
        "http://h/a b", "http://h#frag",  "http://[::1]x/", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (cli_url_parse(&u, bad[i], &e) == 0) fail_msg("URL '%s' accepted", bad[i]);
}

/* Every "--word" in text must be an option in allowed; every option in
 * required must appear. */
static void check_options_in(const char *text, uint64_t allowed, uint64_t required,
                             const char *where)
{
    for (const char *p = strstr(text, "--"); p; p = strstr(p + 2, "--")) {
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '-')) continue;
        if (!isalnum((unsigned char)p[2])) continue;
        size_t n = 0;
        while (isalnum((unsigned char)p[2 + n]) || p[2 + n] == '-')
            n++;
        int found = -1;
        for (int o = 0; o < CLI_OPT_COUNT; o++)
            if (strlen(cli_optdefs[o].name) == n && strncmp(cli_optdefs[o].name, p + 2, n) == 0)
                found = o;
        if (found < 0 || !(allowed & CLI_OPTBIT(found)))
            fail_msg("%s mentions --%.*s, which it does not accept", where, (int)n, p + 2);
    }
    for (int o = 0; o < CLI_OPT_COUNT; o++) {
        char opt[40];
        snprintf(opt, sizeof opt, "--%s", cli_optdefs[o].name);
        if ((required & CLI_OPTBIT(o)) && !strstr(text, opt))
            fail_msg("%s does not mention %s", where, opt);
    }
}

static void test_help_matches_code(void **state)
{
    for (size_t i = 0; i < cli_ncommands; i++) {
        char *buf;
        size_t len;
        FILE *f = open_memstream(&buf, &len);
        cli_print_help(f, &cli_commands[i]);
        fclose(f);
        uint64_t all = cli_commands[i].opts | CLI_GLOBAL_OPTS;
        check_options_in(buf, all, all, cli_commands[i].name);
        free(buf);
    }
}

/* docs/cli.md: one "## <command>" section per command holding an example
 * "openledger-cli <command>" and every option of the command, no others. */
static void test_docs_match_code(void **state)
{
    FILE *f = fopen(OL_SOURCE_DIR "/docs/cli.md", "r");
    assert_non_null(f);
    char *doc = calloc(1, 1 << 20);
    size_t n = fread(doc, 1, (1 << 20) - 1, f);
    fclose(f);
    doc[n] = 0;
    for (size_t i = 0; i < cli_ncommands; i++) {
        char head[64], example[80];
        snprintf(head, sizeof head, "\n## %s\n", cli_commands[i].name);
        snprintf(example, sizeof example, "openledger-cli %s", cli_commands[i].name);
        char *sec = strstr(doc, head);
        if (!sec) fail_msg("docs/cli.md has no section '## %s'", cli_commands[i].name);
        sec += strlen(head);
        char *end = strstr(sec, "\n## ");
        char save = 0;
        if (end) {
            save = *end;
            *end = 0;
        }
        if (!strstr(sec, example))
            fail_msg("docs/cli.md section %s has no example", cli_commands[i].name);
        /* Global options need not be repeated in each section. */
        check_options_in(sec, cli_commands[i].opts | CLI_GLOBAL_OPTS, cli_commands[i].opts,
                         cli_commands[i].name);
        if (end) *end = save;
    }
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_find_and_check),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_amounts),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_help_matches_code),
        cmocka_unit_test(test_docs_match_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
