/* Deterministic simulation of N consensus engines over a simulated network
 * (docs/consensus.md, "Simulation"). Everything is driven by one seeded PRNG
 * and a discrete event queue in simulated milliseconds, so a seed replays
 * exactly. */
#ifndef OL_TESTS_SIM_H
#define OL_TESTS_SIM_H

#include <stdint.h>

typedef struct sim_opts {
    int nodes;   /* 0: chosen by the seed among 4, 7, 10 */
    int verbose; /* print the run's configuration and each decision */
    int heights; /* heights every honest node must decide */
    int no_wal;  /* restarts lose the engine's state too (no WAL replay): the
                  * signer refuses what conflicts, as it must; an experiment */
} sim_opts;

typedef struct sim_result {
    int agreement_violation; /* two honest nodes decided differently at a height */
    int validity_violation;  /* a decided block was not proposed, or invalid */
    int termination_failure; /* not every honest node decided in time after healing */
    int safety_other;        /* an honest validator signed conflicting messages */
    char what[256];          /* the first violation, for the report */
    uint64_t events, decisions, rounds_max, evidence, sim_ms, restarts, refused;
    int n, byz;
} sim_result;

/* Runs one seed. */
void sim_run(uint64_t seed, const sim_opts *o, sim_result *r);

#endif
