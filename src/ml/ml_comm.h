/* Private: training over rows split across processes (docs/cluster.md,
 * "Analysis under MPI"). The ML layer knows nothing of MPI: every step that
 * needs the other processes' rows goes through the callbacks below, which
 * src/mpi/ implements over MPI. A NULL comm (or one of size 1) is the plain
 * single-process run, and the helpers below then do the local work only.
 *
 * Exactness. Each process holds a contiguous range of the global rows that
 * starts at a multiple of NAGM_PAR_CHUNK (the last process with rows may end
 * inside a chunk). Every sum over rows is made of per-chunk (or per-block:
 * the scaler's 1,024 rows, PCA's 4,096, both divide the chunk) partial sums
 * that start from 0, then added up in chunk order; sum_ordered adds the
 * processes' partials in that same order. So every sum, and every decision
 * taken on it, is bit-identical to a single process on all the rows,
 * whatever the number of processes. Sequential passes over the points
 * (k-means++'s cumulative D^2) go through chain, one process after the
 * other. Decisions that need a few rows of another process (a k-means++
 * candidate, the farthest point) move those rows through max_f64: the owner
 * passes the values, everyone else -INFINITY.
 *
 * Every process must make the same calls in the same order (they are
 * collective). An allocation failure inside a distributed fit ends the job
 * through abort: the other processes are inside the same steps and cannot
 * go on without this one.
 */
#ifndef NETAGM_ML_COMM_H
#define NETAGM_ML_COMM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_err.h"
#include "netagm/ml.h"

typedef struct nagm_ml_comm {
    int rank, size;  /* this process, and how many there are */
    size_t row0;     /* global index of this process's first row (a multiple
                        of NAGM_PAR_CHUNK) */
    size_t n;        /* rows over every process */
    void *ctx;
    /* out[0..width) = (((0 + p_0) + p_1) + ...) where p_0, p_1, ... are the
     * rows of parts (nparts x width) of process 0, then of process 1, ...
     * The same out on every process. */
    void (*sum_ordered)(void *ctx, const double *parts, size_t nparts, size_t width, double *out);
    /* Element-wise sum of integers over every process, in place (exact). */
    void (*sum_u64)(void *ctx, uint64_t *v, size_t n);
    /* Element-wise maximum over every process, in place. */
    void (*max_f64)(void *ctx, double *v, size_t n);
    /* len bytes at buf from process root to every other process. */
    void (*bcast)(void *ctx, void *buf, size_t len, int root);
    /* Every process's len bytes (len may differ) to process 0: there *recv is
     * one malloc'd buffer (caller frees; NULL when empty) holding process s's
     * bytes at recvoff[s], recvlen[s] long (arrays of size entries). */
    void (*gather)(void *ctx, const void *send, size_t len, uint8_t **recv, size_t *recvlen,
                   size_t *recvoff);
    /* A sequential pass: state (width doubles) arrives from process rank - 1
     * (process 0 starts with the caller's), step(arg, state) continues it,
     * and it goes on to process rank + 1. */
    void (*chain)(void *ctx, double *state, size_t width, void (*step)(void *arg, double *state),
                  void *arg);
    /* End the whole job with msg. Does not return. */
    void (*abort)(void *ctx, const char *msg);
} nagm_ml_comm;

/* ---- helpers: local work when comm is NULL or has one process ---------------- */

static inline int mlc_multi(const nagm_ml_comm *c)
{
    return c && c->size > 1;
}

static inline int mlc_rank(const nagm_ml_comm *c)
{
    return c ? c->rank : 0;
}

static inline int mlc_size(const nagm_ml_comm *c)
{
    return c ? c->size : 1;
}

/* Rows over every process (n_local without a comm). */
static inline size_t mlc_n(const nagm_ml_comm *c, size_t n_local)
{
    return c ? c->n : n_local;
}

/* out += each row of parts, in order. */
static inline void nagm_ml_fold_into(double *out, const double *parts, size_t nparts,
                                     size_t width)
{
    for (size_t t = 0; t < nparts; t++)
        for (size_t j = 0; j < width; j++)
            out[j] += parts[t * width + j];
}

static inline void mlc_sum_ordered(const nagm_ml_comm *c, const double *parts, size_t nparts,
                                   size_t width, double *out)
{
    if (mlc_multi(c)) {
        c->sum_ordered(c->ctx, parts, nparts, width, out);
        return;
    }
    for (size_t j = 0; j < width; j++)
        out[j] = 0.0;
    nagm_ml_fold_into(out, parts, nparts, width);
}

static inline void mlc_sum_u64(const nagm_ml_comm *c, uint64_t *v, size_t n)
{
    if (mlc_multi(c))
        c->sum_u64(c->ctx, v, n);
}

static inline void mlc_max_f64(const nagm_ml_comm *c, double *v, size_t n)
{
    if (mlc_multi(c))
        c->max_f64(c->ctx, v, n);
}

static inline void mlc_bcast(const nagm_ml_comm *c, void *buf, size_t len, int root)
{
    if (mlc_multi(c))
        c->bcast(c->ctx, buf, len, root);
}

/* As the gather callback; recvlen and recvoff have mlc_size(c) entries.
 * Returns 0, or -1 on ENOMEM (single process only; a job ends instead). */
static inline int mlc_gather(const nagm_ml_comm *c, const void *send, size_t len, uint8_t **recv,
                             size_t *recvlen, size_t *recvoff)
{
    if (mlc_multi(c)) {
        c->gather(c->ctx, send, len, recv, recvlen, recvoff);
        return 0;
    }
    recvlen[0] = len;
    recvoff[0] = 0;
    *recv = NULL;
    if (len && !(*recv = malloc(len)))
        return -1;
    if (len)
        memcpy(*recv, send, len);
    return 0;
}

static inline void mlc_chain(const nagm_ml_comm *c, double *state, size_t width,
                             void (*step)(void *arg, double *state), void *arg)
{
    if (mlc_multi(c))
        c->chain(c->ctx, state, width, step, arg);
    else
        step(arg, state);
}

/* Out of memory: ends the job when distributed, else the usual error. */
static inline int mlc_nomem(const nagm_ml_comm *c, char *errbuf, const char *what)
{
    if (mlc_multi(c)) {
        char msg[160];
        snprintf(msg, sizeof msg, "out of memory %s", what);
        c->abort(c->ctx, msg);
    }
    return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory %s", what);
}

/* Every process's count (own: this process's), and the sum of the counts of
 * the processes before this one. all has mlc_size(c) entries. */
static inline uint64_t mlc_counts(const nagm_ml_comm *c, uint64_t own, uint64_t *all)
{
    int p = mlc_size(c), me = mlc_rank(c);
    for (int s = 0; s < p; s++)
        all[s] = s == me ? own : 0;
    mlc_sum_u64(c, all, (size_t)p);
    uint64_t off = 0;
    for (int s = 0; s < me; s++)
        off += all[s];
    return off;
}

/* ---- the steps, over this process's rows (n_local of them) ------------------- */

/* As nagm_nagm_fit, over the rows of every process: the categories come from
 * the mode counts of all the rows. */
int nagm_nagm_fit_comm(nagm_encoder *e, const nagm_agm_row *rows, size_t n_local,
                       const nagm_ml_comm *comm, char *errbuf);

/* As nagm_scaler_fit, from sums over every process's rows. */
int nagm_scaler_fit_comm(nagm_scaler *s, const double *X, size_t n_local, size_t dim,
                         const nagm_ml_comm *comm, char *errbuf);

/* As nagm_pca_fit, from the covariance over every process's rows. */
int nagm_pca_fit_comm(nagm_pca *p, const double *X, size_t n_local, size_t dim, size_t ncomp,
                      const nagm_ml_comm *comm, char *errbuf);

/* As nagm_cluster_fit over every process's points; labels (n_local) get
 * this process's points' clusters. */
int nagm_cluster_fit_comm(const double *X, size_t n_local, size_t dim,
                          const nagm_cluster_opts *opts, const nagm_ml_comm *comm,
                          nagm_clusters *c, int32_t *labels, char *errbuf);

/* As nagm_model_train over every process's rows; assign, pcs and X_out
 * cover this process's rows. Every process gets the same model. With
 * several processes the training summary (rows, sources, windows, first,
 * last) is left at zero: the caller that holds every row fills it with
 * nagm_model_summarize. */
int nagm_model_train_comm(const nagm_agm_row *rows, size_t n_local, const nagm_train_opts *o,
                          const nagm_ml_comm *comm, nagm_model **out, nagm_assign *assign,
                          double *pcs, double **X_out, char *errbuf);

/* Rows, distinct sources and windows, first and last time of rows (n >= 1).
 * Returns 0 or -1 on ENOMEM. */
int nagm_model_summarize(nagm_train_summary *s, const nagm_agm_row *rows, size_t n);

#endif
