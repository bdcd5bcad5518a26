/* A small deterministic parallel-for for the ML layer. Work is cut into
 * tasks whose boundaries do not depend on the number of threads; each task
 * writes only its own outputs and the caller combines them in task order, so
 * results are bit-identical for any thread count. */
#ifndef NETAGM_ML_PAR_H
#define NETAGM_ML_PAR_H

#include <stddef.h>

/* Rows per task for row-parallel loops. */
#define NAGM_PAR_CHUNK 8192

typedef void (*nagm_par_fn)(void *ctx, size_t task);

/* Run fn(ctx, t) for every t < ntasks on up to nthreads threads (the caller
 * is one of them). Falls back to one thread if threads cannot be started. */
void nagm_par_for(int nthreads, size_t ntasks, nagm_par_fn fn, void *ctx);

/* Number of chunk tasks covering n rows. */
static inline size_t nagm_par_nchunks(size_t n)
{
    return (n + NAGM_PAR_CHUNK - 1) / NAGM_PAR_CHUNK;
}

/* Share n rows out to p processes in whole chunks: process r gets rows
 * lo[r] .. lo[r + 1] - 1 (lo holds p + 1 entries), as evenly as the chunks
 * go, the earlier processes taking one more when they do not. */
static inline void nagm_par_split(size_t n, int p, size_t *lo)
{
    size_t chunks = nagm_par_nchunks(n), base = chunks / (size_t)p, extra = chunks % (size_t)p;
    size_t at = 0;
    for (int r = 0; r < p; r++) {
        lo[r] = at * NAGM_PAR_CHUNK < n ? at * NAGM_PAR_CHUNK : n;
        at += base + ((size_t)r < extra);
    }
    lo[p] = n;
}

#endif
