/* netagm-memfloor: what random memory access costs on this machine, the
 * floor under any exact count of (source, field, value) entries that do not
 * fit in the caches.
 *
 * usage: netagm-memfloor [--mb N] [--ops N]
 *
 * Over a table of N MiB (default 128, about the size of the 1 GB benchmark's
 * tables and records) it times:
 *  - independent: 8-byte increments at random places, each independent of
 *    the last, so the CPU overlaps as many misses as it can (the best case
 *    for a counting loop: its throughput floor);
 *  - dependent: a walk where each load's address comes from the previous
 *    load (a random cycle over the table's cache lines): one full miss
 *    latency per step, the worst case.
 * Prints one JSON line: {"mb": N, "independent_ns": X, "dependent_ns": Y}.
 * bench/run puts it under the results table beside cat's read time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE_WORDS 8 /* 64-byte cache lines of 8-byte words */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: netagm-memfloor [--mb N] [--ops N]\n"
                "  --mb N    table size in MiB (default 128)\n"
                "  --ops N   random accesses to time (default 20000000)\n");
}

int main(int argc, char **argv)
{
    size_t mb = 128, ops = 20000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 < argc && !strcmp(argv[i], "--mb"))
            mb = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(argv[i], "--ops"))
            ops = strtoull(argv[++i], NULL, 10);
        else {
            usage(stderr);
            return 2;
        }
    }
    size_t words = mb * 1024 * 1024 / 8, lines = words / LINE_WORDS;
    if (mb == 0 || ops == 0 || lines < 2) {
        usage(stderr);
        return 2;
    }
    uint64_t *a = malloc(words * 8);
    uint32_t *perm = malloc(lines * sizeof *perm);
    if (!a || !perm) {
        fprintf(stderr, "netagm-memfloor: out of memory for %zu MiB\n", mb);
        return 1;
    }
    /* A random cycle over the lines (Sattolo's shuffle): the first word of
     * each line holds the index of the next line's first word. */
    uint64_t seed = 88172645463325252ull;
    for (size_t i = 0; i < lines; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = lines - 1; i > 0; i--) {
        size_t j = xorshift(&seed) % i;
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    memset(a, 0, words * 8);
    for (size_t i = 0; i < lines; i++)
        a[(size_t)perm[i] * LINE_WORDS] = (uint64_t)perm[(i + 1) % lines] * LINE_WORDS;
    free(perm);

    /* The walk first, while the chain is intact. */
    double t0 = now_s();
    size_t steps = ops / 8 ? ops / 8 : 1, at = 0;
    for (size_t i = 0; i < steps; i++)
        at = (size_t)a[at];
    double t1 = now_s();
    for (size_t i = 0; i < ops; i++)
        a[(xorshift(&seed) >> 11) % words]++;
    double t2 = now_s();
    volatile size_t keep = at; /* the walk's result is used */
    (void)keep;
    printf("{\"mb\": %zu, \"independent_ns\": %.2f, \"dependent_ns\": %.1f}\n", mb,
           (t2 - t1) / (double)ops * 1e9, (t1 - t0) / (double)steps * 1e9);
    free(a);
    return 0;
}
