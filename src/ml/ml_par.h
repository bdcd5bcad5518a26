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

#endif
