/* Driver that runs a libFuzzer target without libFuzzer, so the regular
 * (gcc, ASan+UBSan) test build exercises every fuzz target on each run:
 * first every file given on the command line (seed corpus, past crashes),
 * then OL_FUZZ_RANDOM_RUNS pseudo-random inputs from a fixed seed, some of
 * them mutations of the seed files. Deterministic: a fixed seed unless
 * OL_TEST_SEED says otherwise (tests/seed.h); the seed is printed. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/seed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

typedef struct seed {
    uint8_t *p;
    size_t n;
} seed;

static seed *seeds;
static size_t nseeds;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return;
    uint8_t *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    if (!buf) return;
    LLVMFuzzerTestOneInput(buf, n);
    seed *s = realloc(seeds, (nseeds + 1) * sizeof *s);
    if (!s) {
        free(buf);
        return;
    }
    seeds = s;
    seeds[nseeds].p = buf;
    seeds[nseeds].n = n;
    nseeds++;
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st)) return;
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        run_file(p);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    rng = ol_test_seed("fuzz replay", rng);
    for (int i = 1; i < argc; i++)
        run_path(argv[i]);
    const char *env = getenv("OL_FUZZ_RANDOM_RUNS");
    long runs = env ? atol(env) : 20000;
    uint8_t *buf = malloc(4096);
    if (!buf) return 1;
    for (long r = 0; r < runs; r++) {
        size_t n;
        if (nseeds && (next() & 1)) {
            /* Mutate a seed: flip, overwrite or truncate a few bytes. */
            seed *s = &seeds[next() % nseeds];
            n = s->n < 4096 ? s->n : 4096;
            memcpy(buf, s->p, n);
            int edits = 1 + (int)(next() % 4);
            for (int k = 0; k < edits && n; k++) {
                size_t at = next() % n;
                switch (next() % 3) {
                case 0: buf[at] ^= (uint8_t)(1u << (next() % 8)); break;
                case 1: buf[at] = (uint8_t)next(); break;
                default: n = at; break;
                }
            }
        } else {
            n = next() % 512;
            for (size_t k = 0; k < n; k++)
                buf[k] = (uint8_t)next();
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    free(buf);
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i].p);
    free(seeds);
    printf("ran %d seed paths and %ld generated inputs\n", argc - 1, runs);
    return 0;
}
