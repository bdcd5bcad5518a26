/* Test helper: Marsaglia's xorshift64, a small seeded random sequence so that
 * randomized tests repeat exactly. */
#ifndef NETAGM_TESTS_XORSHIFT_H
#define NETAGM_TESTS_XORSHIFT_H

#include <stdint.h>

/* Next value of the sequence in *state (which must not be 0). */
static inline uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

#endif
