/* openledgerd's RPC flags: --rpc with a bracketed IPv6 address (parsed and
 * listened on), the per-address and reply limits, and how the connection cap
 * is fitted to the open-files limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/resource.h>
#include <sys/wait.h>

#include "node/node.h"
#include "tests/unit/rpc_http_test_util.h"

static int parse(node_cfg *cfg, util_err *err, const char *a1, const char *a2)
{
    char *argv[] = {"openledgerd", "--dev", (char *)a1, (char *)a2, NULL};
    memset(err, 0, sizeof *err);
    return node_cfg_parse(cfg, a2 ? 4 : 3, argv, err);
}

static void test_parse_rpc_address(void **state)
{
    node_cfg cfg;
    util_err err;
    assert_int_equal(parse(&cfg, &err, "--rpc", "[::1]:8546"), NODE_CFG_RUN);
    assert_string_equal(cfg.rpc_host, "::1");
    assert_int_equal(cfg.rpc_port, 8546);
    assert_int_equal(parse(&cfg, &err, "--rpc", "[2001:db8::7]:0"), NODE_CFG_RUN);
    assert_string_equal(cfg.rpc_host, "2001:db8::7");
    assert_int_equal(parse(&cfg, &err, "--rpc", "127.0.0.1:80"), NODE_CFG_RUN);
    assert_string_equal(cfg.rpc_host, "127.0.0.1");
    const char *bad[] = {"[::1]", "[::1]8545", "[]:1", "[::1:8545", "::1:8545", "[::1]:x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (parse(&cfg, &err, "--rpc", bad[i]) != NODE_CFG_USAGE) fail_msg("accepted %s", bad[i]);
}

static void test_parse_limits(void **state)
{
    node_cfg cfg;
    util_err err;
    assert_int_equal(parse(&cfg, &err, "--rpc-max-conns-per-ip", "8"), NODE_CFG_RUN);
    assert_int_equal(cfg.rpc_max_conns_per_ip, 8);
    assert_int_equal(parse(&cfg, &err, "--rpc-max-conns-per-ip", "0"), NODE_CFG_USAGE);
    assert_int_equal(parse(&cfg, &err, "--rpc-max-reply", "1048576"), NODE_CFG_RUN);
    assert_int_equal(cfg.rpc_max_reply, 1048576);
    assert_int_equal(parse(&cfg, &err, "--rpc-max-reply", "100"), NODE_CFG_USAGE);
}

/* The connection cap never lets the descriptors run out first: LevelDB's
 * 512 and a margin are kept. */
static void test_fd_cap(void **state)
{
    int other1 = NODE_FD_LEVELDB + NODE_FD_MARGIN + NODE_FD_PER_LOOP;
    assert_int_equal(node_fd_conn_cap(1048576, 1, 1024), 1024);
    assert_int_equal(node_fd_conn_cap(1024, 1, 1024), 1024 - other1);
    assert_int_equal(node_fd_conn_cap((uint64_t)other1 + 1, 1, 1024), 1);
    assert_int_equal(node_fd_conn_cap((uint64_t)other1, 1, 1024), 0);
    int other4 = NODE_FD_LEVELDB + NODE_FD_MARGIN + 4 * NODE_FD_PER_LOOP;
    assert_int_equal(node_fd_conn_cap(4096, 4, 1024), (4096 - other4) / 4);
    /* in a child: with a soft and hard limit of 700 the cap is lowered */
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {700, 700};
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(3);
        int mc = 1024;
        util_err err = {0};
        if (node_fit_fd_limit(1, &mc, &err) != 0) _exit(4);
        _exit(mc == 700 - other1 ? 0 : 5);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* The server listens on ::1 (what --rpc [::1]:PORT passes it). */
static void test_listen_ipv6(void **state)
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 lo = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (probe < 0 || bind(probe, (struct sockaddr *)&lo, sizeof lo) != 0) {
        if (probe >= 0) close(probe);
        skip(); /* no IPv6 loopback here */
    }
    close(probe);
    rpc_http_cfg cfg = {.host = "::1"};
    server *s = server_start(&cfg);
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    lo.sin6_port = htons((uint16_t)s->port);
    assert_int_equal(connect(fd, (struct sockaddr *)&lo, sizeof lo), 0);
    client *c = calloc(1, sizeof *c);
    c->fd = fd;
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    send_echo(c, 6, NULL);
    expect_echo(c, 6);
    client_close(c);
    server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rpc_address),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_fd_cap),
        cmocka_unit_test(test_listen_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
