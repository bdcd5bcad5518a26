/* k-means internals shared by k-means, bisecting k-means and mean shift. */
#ifndef NETAGM_ML_KMEANS_H
#define NETAGM_ML_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "ml/ml_rng.h"

/* Squared Euclidean distance. Every distance in the ML layer goes through
 * this one function, in this one summation order, so that training and
 * applying a model compute bit-identical numbers. */
static inline double nagm_sqdist(const double *a, const double *b, size_t dim)
{
    double s = 0;
    for (size_t j = 0; j < dim; j++) {
        double d = a[j] - b[j];
        s += d * d;
    }
    return s;
}

struct nagm_ml_comm;

/* A set of points: rows of X, or the rows listed in idx (ascending). Row
 * loops run over the chunks of NAGM_PAR_CHUNK rows of X (0..nrows-1), the
 * chunk of a point being that of its row, so that a subset's partial sums
 * fall into the same chunks on one process as across several (ml_comm.h).
 * With a comm, the set is the union of every process's points in process
 * order, and X, idx, m and nrows describe this process's share. */
typedef struct nagm_km_data {
    const double *X;
    size_t dim;
    const size_t *idx; /* NULL: rows 0..m-1 */
    size_t m;
    size_t nrows;      /* rows of X (>= every idx + 1; m when idx is NULL) */
    int threads;
    const struct nagm_ml_comm *comm; /* NULL: one process */
} nagm_km_data;

static inline const double *nagm_km_row(const nagm_km_data *d, size_t i)
{
    return d->X + (d->idx ? d->idx[i] : i) * d->dim;
}

/* Best of n_init k-means runs (k-means++ seeding with 2 + ln k local trials,
 * then Lloyd until labels stop changing, the centres move less than
 * tol_rel times the mean column variance, or max_iter). The best run has
 * the smallest inertia; the first one wins ties. centers: k x dim out;
 * labels: m out (nearest final centre, first on ties). Requires at least one
 * point over all processes. Returns 0 or -1 on ENOMEM (a distributed fit
 * ends the job instead). */
int nagm_km_fit(const nagm_km_data *d, int k, int n_init, int max_iter, double tol_rel,
                nagm_rng *rng, double *centers, int32_t *labels, double *inertia, int *n_iter);

/* Index of the nearest of k centres (first on ties); *d2 its squared distance. */
static inline int nagm_km_nearest(const double *x, const double *centers, int k, size_t dim,
                                  double *d2)
{
    int best = 0;
    double bd = nagm_sqdist(x, centers, dim);
    for (int c = 1; c < k; c++) {
        double v = nagm_sqdist(x, centers + (size_t)c * dim, dim);
        if (v < bd) {
            bd = v;
            best = c;
        }
    }
    *d2 = bd;
    return best;
}

#endif
