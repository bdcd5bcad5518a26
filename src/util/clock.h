/* Monotonic wall clock (no domain knowledge). */
#ifndef NETAGM_UTIL_CLOCK_H
#define NETAGM_UTIL_CLOCK_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC, for elapsed times and rates. Thread-safe. */
static inline double nagm_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
