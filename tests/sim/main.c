/* tests/sim: runs the consensus simulation over a range of seeds and reports
 * the first failing one, which replays exactly with --seed.
 *   cons_sim [--seeds N] [--from F] [--seed S] [--nodes 4|7|10] [--heights H]
 *            [--expect-violation [--keep-going]] [--no-wal] [-v|-vv]
 * --no-wal: restarted validators lose their engine's state (lock included)
 * and keep only the signer state, an experiment that shows what the WAL is
 * for; failures it finds are expected, not bugs.
 * --expect-violation (the mutant build): succeed when some seed shows an
 * agreement violation, fail when none of the seeds does; it stops at the
 * first unless --keep-going (to count them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sim/sim.h"

static uint64_t num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (!*s || *end) {
        fprintf(stderr, "cons_sim: '%s' is not a number\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    uint64_t from = 1, count = 100;
    int expect = 0, keep_going = 0;
    sim_opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--seeds") && more) {
            count = num(argv[++i]);
        } else if (!strcmp(a, "--from") && more) {
            from = num(argv[++i]);
        } else if (!strcmp(a, "--seed") && more) {
            from = num(argv[++i]);
            count = 1;
            if (!o.verbose) o.verbose = 1;
        } else if (!strcmp(a, "--nodes") && more) {
            o.nodes = (int)num(argv[++i]);
            if (o.nodes != 4 && o.nodes != 7 && o.nodes != 10) {
                fprintf(stderr, "cons_sim: --nodes takes 4, 7 or 10\n");
                return 2;
            }
        } else if (!strcmp(a, "--heights") && more) {
            o.heights = (int)num(argv[++i]);
            if (o.heights < 1 || o.heights > 60) {
                fprintf(stderr, "cons_sim: --heights takes 1..60\n");
                return 2;
            }
        } else if (!strcmp(a, "--no-wal")) {
            o.no_wal = 1;
        } else if (!strcmp(a, "--keep-going")) {
            keep_going = 1;
        } else if (!strcmp(a, "--expect-violation")) {
            expect = 1;
        } else if (!strcmp(a, "-v")) {
            o.verbose = 1;
        } else if (!strcmp(a, "-vv")) {
            o.verbose = 2;
        } else {
            fprintf(stderr,
                    "usage: cons_sim [--seeds N] [--from F] [--seed S] [--nodes 4|7|10] "
                    "[--heights H] [--expect-violation [--keep-going]] [--no-wal] [-v|-vv]\n");
            return 2;
        }
    }
    clock_t t0 = clock();
    uint64_t failures = 0, violations = 0, events = 0, decisions = 0, rounds = 0, evidence = 0,
             restarts = 0, refused = 0;
    uint64_t first_violation = 0;
    for (uint64_t seed = from; seed < from + count; seed++) {
        sim_result r;
        sim_run(seed, &o, &r);
        events += r.events;
        decisions += r.decisions;
        evidence += r.evidence;
        restarts += r.restarts;
        refused += r.refused;
        if (r.rounds_max > rounds) rounds = r.rounds_max;
        int bad = r.agreement_violation || r.validity_violation || r.termination_failure ||
                  r.safety_other;
        if (r.agreement_violation && !violations++) first_violation = seed;
        if (bad && !expect) {
            failures++;
            printf("FAIL seed %llu (%d validators, %d byzantine): %s\n  replay: tests/sim/run "
                   "--seed %llu\n",
                   (unsigned long long)seed, r.n, r.byz, r.what, (unsigned long long)seed);
        }
        if (expect && r.agreement_violation) {
            printf("seed %llu (%d validators, %d byzantine): %s\n", (unsigned long long)seed, r.n,
                   r.byz, r.what);
            if (!keep_going) break;
        }
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("cons_sim: seeds %llu..%llu: %llu failed; %llu events, %llu decisions, %llu evidence, "
           "%llu restarts%s, %llu signatures refused, max round %llu; %.2f s CPU\n",
           (unsigned long long)from, (unsigned long long)(from + count - 1),
           (unsigned long long)failures, (unsigned long long)events, (unsigned long long)decisions,
           (unsigned long long)evidence, (unsigned long long)restarts,
           o.no_wal ? " without WAL replay" : " from the WAL", (unsigned long long)refused,
           (unsigned long long)rounds, secs);
    if (expect) {
        if (violations) {
            printf("cons_sim: agreement violation found at seed %llu (%llu seeds with one), as "
                   "expected of this build\n",
                   (unsigned long long)first_violation, (unsigned long long)violations);
            return 0;
        }
        printf("cons_sim: no agreement violation in %llu seeds: the simulation missed the broken "
               "rule\n",
               (unsigned long long)count);
        return 1;
    }
    return failures ? 1 : 0;
}
