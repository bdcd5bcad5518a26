/* Random numbers for the generator: xoshiro256** seeded by splitmix64, a
 * keyed bijection for collision-free scattering, heavy-tailed draws and
 * Walker/Vose alias tables for O(1) Zipf sampling. */
#include "gen.h"

#include <math.h>
#include <stdlib.h>

void gen_rng_seed(gen_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ULL;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        r->s[i] = z ^ (z >> 31);
    }
    /* xoshiro must not start all-zero; splitmix64 output never is, but be sure */
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
}

uint64_t gen_perm(uint64_t x, unsigned bits, uint64_t key)
{
    uint64_t mask = bits >= 64 ? ~0ULL : ((1ULL << bits) - 1);
    unsigned sh = (bits + 1) / 2;
    x &= mask;
    /* Each step is invertible modulo 2^bits: multiplication by an odd
     * number, addition, and x ^= x >> sh with sh >= 1. The multiply moves
     * entropy up, the shift brings it back down. */
    for (unsigned round = 0; round < 4; round++) {
        uint64_t k = gen_mix64(key + round);
        x = (x * (k | 1)) & mask;
        x = (x + (k >> 17)) & mask;
        if (sh < 64)
            x ^= x >> sh;
    }
    return x;
}

uint64_t gen_rng_pareto(gen_rng *r, double xm, double alpha, uint64_t cap)
{
    double u = 1.0 - gen_rng_unit(r); /* (0, 1] */
    double v = xm / pow(u, 1.0 / alpha);
    if (!(v < (double)cap))
        return cap;
    return (uint64_t)v;
}

uint32_t gen_rng_geom(gen_rng *r, double q, uint32_t cap)
{
    uint32_t k = 1;
    uint32_t q32 = GEN_P32(q);
    while (k < cap && gen_rng_chance(r, q32))
        k++;
    return k;
}

int gen_alias_build(gen_alias *a, const double *w, uint32_t n)
{
    a->n = n;
    a->cell = malloc((size_t)n * sizeof *a->cell);
    double *p = malloc((size_t)n * sizeof *p);
    uint32_t *small = malloc((size_t)n * sizeof *small);
    uint32_t *large = malloc((size_t)n * sizeof *large);
    if (!a->cell || !p || !small || !large) {
        free(p);
        free(small);
        free(large);
        gen_alias_free(a);
        return -1;
    }
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += w[i];
    uint32_t ns = 0, nl = 0;
    for (uint32_t i = 0; i < n; i++) {
        p[i] = sum > 0 ? w[i] * n / sum : 1.0;
        a->cell[i].alias = i;
        if (p[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns && nl) {
        uint32_t s = small[--ns], l = large[nl - 1];
        a->cell[s].alias = l;
        double t = p[s] * 4294967296.0;
        a->cell[s].prob = t >= 4294967295.0 ? UINT32_MAX : (uint32_t)t;
        p[l] -= 1.0 - p[s];
        if (p[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* What is left has probability 1 up to rounding. */
    while (nl)
        a->cell[large[--nl]].prob = UINT32_MAX;
    while (ns)
        a->cell[small[--ns]].prob = UINT32_MAX;
    free(p);
    free(small);
    free(large);
    return 0;
}

int gen_alias_zipf(gen_alias *a, uint32_t n, double s)
{
    double *w = malloc((size_t)n * sizeof *w);
    if (!w)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        w[i] = pow((double)i + 1.0, -s);
    int rc = gen_alias_build(a, w, n);
    free(w);
    return rc;
}

void gen_alias_free(gen_alias *a)
{
    free(a->cell);
    a->cell = NULL;
    a->n = 0;
}
