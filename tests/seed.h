/* Seeds of randomized tests (unit tests and the fuzz replay driver).
 *
 * Every randomized test prints the seed it runs with and takes OL_TEST_SEED
 * from the environment (decimal, 0x hex, or "random" for a fresh one), so a
 * failure can be replayed exactly: OL_TEST_SEED=0x1f2e... build-test/test_smt.
 * Without it a test runs with its own fixed default, so CI runs repeat.
 * libsecp256k1's src/testrand_impl.h is the model. Header-only: each test is
 * its own program. */
#ifndef OL_TESTS_SEED_H
#define OL_TESTS_SEED_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The seed to use instead of `dflt` (never 0: xorshift would stay at 0). */
static inline uint64_t ol_test_seed(const char *name, uint64_t dflt)
{
    const char *env = getenv("OL_TEST_SEED");
    uint64_t s = dflt;
    if (env && strcmp(env, "random") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)clock();
    } else if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 0);
        if (*end) {
            fprintf(stderr, "%s: OL_TEST_SEED '%s' is not a number or \"random\"\n", name, env);
            exit(2);
        }
        s = v;
    }
    if (s == 0) s = dflt;
    printf("%s: seed 0x%016llx (replay with OL_TEST_SEED=0x%016llx)\n", name, (unsigned long long)s,
           (unsigned long long)s);
    fflush(stdout);
    return s;
}

#endif
