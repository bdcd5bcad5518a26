/* Hashing helpers (no domain knowledge). */
#ifndef NETAGM_UTIL_HASH_H
#define NETAGM_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* A strong 64-bit finalizer (splitmix64 / murmur3 fmix family): every input
 * bit affects every output bit, so low bits can index power-of-two tables. */
static inline uint64_t nagm_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Hash of n bytes (n small: addresses). Deterministic across runs and
 * machines, so shard assignment is stable. */
static inline uint64_t nagm_hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = 0;
        for (int k = 0; k < 8; k++)
            w |= (uint64_t)p[i + k] << (8 * k);
        h = nagm_mix64(h ^ w);
    }
    uint64_t w = 0;
    for (int k = 0; i < n; i++, k++)
        w |= (uint64_t)p[i] << (8 * k);
    return nagm_mix64(h ^ w ^ 0x5851f42d4c957f2dULL);
}

#endif
