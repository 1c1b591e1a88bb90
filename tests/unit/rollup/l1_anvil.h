/* A real anvil (the local L1) for the rollup's L1 client and tx manager
 * tests: started on a free 127.0.0.1 port with chain id 31337, killed in
 * the test's teardown and, should the test process die first, by the kernel
 * (PR_SET_PDEATHSIG). Header-only: each test is its own program. */
#ifndef OL_TESTS_L1_ANVIL_H
#define OL_TESTS_L1_ANVIL_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "rollup/l1/client.h"

typedef struct l1_anvil {
    pid_t pid;
    int port;
    char url[64];
    const char *hardfork; /* set before starting: anvil --hardfork; NULL: anvil's default */
} l1_anvil;

static inline int l1_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &l)) {
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* Calls method with params given as JSON text; the result (owned) or NULL. */
static inline json_t *l1_rpc(const char *url, const char *method, const char *params)
{
    json_t *p = json_loads(params ? params : "[]", 0, NULL);
    json_t *r = NULL;
    util_err err = {0};
    if (!p) return NULL;
    if (rollup_l1_call_sync(url, method, p, &r, &err)) {
        fprintf(stderr, "l1_rpc %s: %s\n", method, err.msg);
        r = NULL;
    }
    json_decref(p);
    return r;
}

static inline void l1_anvil_stop(l1_anvil *a)
{
    if (a->pid > 0) {
        kill(a->pid, SIGKILL);
        waitpid(a->pid, NULL, 0);
    }
    a->pid = 0;
}

/* 0 once anvil answers eth_chainId, -1 when it did not start. */
static inline int l1_anvil_start(l1_anvil *a)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        a->port = l1_free_port();
        if (a->port <= 0) return -1;
        snprintf(a->url, sizeof a->url, "http://127.0.0.1:%d", a->port);
        char port[16];
        snprintf(port, sizeof port, "%d", a->port);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) return -1;
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(1);
            int nul = open("/dev/null", O_RDWR);
            if (nul >= 0) {
                dup2(nul, 1);
                dup2(nul, 2);
            }
            char *argv[] = {"anvil",      "-q",    "--host", "127.0.0.1", "--port", port,
                            "--chain-id", "31337", NULL,     NULL,        NULL};
            if (a->hardfork) {
                argv[8] = "--hardfork";
                argv[9] = (char *)a->hardfork;
            }
            execv(OL_ANVIL, argv);
            _exit(127);
        }
        a->pid = pid;
        for (int i = 0; i < 200; i++) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
            if (waitpid(pid, NULL, WNOHANG) == pid) {
                a->pid = 0;
                break;
            }
            json_t *p = json_array(), *r = NULL;
            int rc = rollup_l1_call_sync(a->url, "eth_chainId", p, &r, NULL);
            json_decref(p);
            json_decref(r);
            if (rc == 0) return 0;
        }
        l1_anvil_stop(a);
    }
    return -1;
}

/* cmocka setup and teardown giving each test a fresh anvil: the l1_anvil is
 * the test's initial state (L1_ANVIL_TEST), which the test may ignore when
 * it reads the same l1_anvil from a global. */
static inline int l1_anvil_setup(void **state)
{
    return l1_anvil_start(*state);
}

static inline int l1_anvil_teardown(void **state)
{
    l1_anvil_stop(*state);
    return 0;
}

/* A cmocka test f run on its own anvil, started into *a before it and
 * stopped after it (also when f fails). */
#define L1_ANVIL_TEST(f, a)                                                                        \
    cmocka_unit_test_prestate_setup_teardown(f, l1_anvil_setup, l1_anvil_teardown, a)

#endif
