/* Deterministic pseudo-random numbers for the ML layer (xoshiro256**,
 * seeded through splitmix64). The same seed gives the same stream on every
 * machine, which is what makes every fit reproducible. */
#ifndef NETAGM_ML_RNG_H
#define NETAGM_ML_RNG_H

#include <stdint.h>

typedef struct nagm_rng {
    uint64_t s[4];
} nagm_rng;

static inline uint64_t nagm_rng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Seed from a seed and a stream number (independent runs of one fit). */
static inline void nagm_rng_seed(nagm_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = nagm_rng_splitmix(&x);
}

static inline uint64_t nagm_rng_next(nagm_rng *r)
{
    uint64_t *s = r->s;
    uint64_t t = s[1] << 17;
    uint64_t res = s[1] * 5;
    res = ((res << 7) | (res >> 57)) * 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return res;
}

/* Uniform in [0, 1). */
static inline double nagm_rng_uniform(nagm_rng *r)
{
    return (double)(nagm_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, bias < 2^-64 * n). */
static inline uint64_t nagm_rng_below(nagm_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)nagm_rng_next(r) * n) >> 64);
}

#endif
