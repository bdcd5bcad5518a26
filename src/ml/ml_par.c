/* Deterministic parallel-for (see ml_par.h). Tasks are handed out through
 * an atomic counter; which thread runs a task never changes its result. */
#include <pthread.h>
#include <stdatomic.h>

#include "ml/ml_par.h"

#define MAX_THREADS 64

typedef struct par_job {
    nagm_par_fn fn;
    void *ctx;
    size_t ntasks;
    atomic_size_t next;
} par_job;

static void *worker(void *arg)
{
    par_job *j = arg;
    for (;;) {
        size_t t = atomic_fetch_add(&j->next, 1);
        if (t >= j->ntasks)
            break;
        j->fn(j->ctx, t);
    }
    return NULL;
}

void nagm_par_for(int nthreads, size_t ntasks, nagm_par_fn fn, void *ctx)
{
    par_job j = {fn, ctx, ntasks, 0};
    if (nthreads > MAX_THREADS)
        nthreads = MAX_THREADS;
    if ((size_t)nthreads > ntasks)
        nthreads = (int)ntasks;
    pthread_t th[MAX_THREADS];
    int started = 0;
    for (int i = 1; i < nthreads; i++) {
        if (pthread_create(&th[started], NULL, worker, &j) != 0)
            break;
        started++;
    }
    worker(&j);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
}
