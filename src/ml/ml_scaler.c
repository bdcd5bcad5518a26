/* Z-score scaler with the sample standard deviation (as Spark's
 * StandardScaler with withMean and withStd). A constant column maps to 0
 * rather than to NaN or to amplified rounding noise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_comm.h"
#include "ml/ml_err.h"
#include "netagm/ml.h"

/* Rows are summed in blocks and the block sums added up, which keeps the
 * rounding error of a million-row sum near that of a thousand-row one. The
 * block sums are added in block order (mlc_sum_ordered), also across
 * processes: a chunk of NAGM_PAR_CHUNK rows is a whole number of blocks. */
#define BLOCK 1024

/* parts[b] = the sum over block b of f(row) for this process's rows. */
static void block_sums(const double *X, size_t n, size_t dim, const double *mean, double *parts)
{
    for (size_t b = 0, t = 0; b < n; b += BLOCK, t++) {
        size_t e = b + BLOCK < n ? b + BLOCK : n;
        double *acc = parts + t * dim;
        memset(acc, 0, dim * sizeof *acc);
        for (size_t i = b; i < e; i++)
            for (size_t j = 0; j < dim; j++) {
                if (!mean) {
                    acc[j] += X[i * dim + j];
                } else {
                    double d = X[i * dim + j] - mean[j];
                    acc[j] += d * d;
                }
            }
    }
}

int nagm_scaler_fit(nagm_scaler *s, const double *X, size_t n, size_t dim, char *errbuf)
{
    return nagm_scaler_fit_comm(s, X, n, dim, NULL, errbuf);
}

int nagm_scaler_fit_comm(nagm_scaler *s, const double *X, size_t n_local, size_t dim,
                         const nagm_ml_comm *comm, char *errbuf)
{
    memset(s, 0, sizeof *s);
    s->dim = dim;
    size_t n = mlc_n(comm, n_local), nb = (n_local + BLOCK - 1) / BLOCK;
    s->mean = calloc(dim ? dim : 1, sizeof *s->mean);
    s->std = calloc(dim ? dim : 1, sizeof *s->std);
    double *parts = malloc((nb ? nb : 1) * (dim ? dim : 1) * sizeof *parts);
    if (!s->mean || !s->std || !parts) {
        free(parts);
        nagm_scaler_clear(s);
        return mlc_nomem(comm, errbuf, "fitting the scaler");
    }
    if (n == 0) {
        free(parts);
        return 0;
    }
    block_sums(X, n_local, dim, NULL, parts);
    mlc_sum_ordered(comm, parts, nb, dim, s->mean);
    for (size_t j = 0; j < dim; j++)
        s->mean[j] /= (double)n;
    /* Second pass on deviations: exact zero for a constant column. */
    double *ss = s->std;
    block_sums(X, n_local, dim, s->mean, parts);
    mlc_sum_ordered(comm, parts, nb, dim, ss);
    /* A column is constant when its variance is within rounding error of 0:
     * the bound scikit-learn uses (var <= n eps var + (n mean eps)^2), so
     * that a column of equal non-integers cannot scale rounding noise up to
     * +-1. */
    const double eps = 2.220446049250313e-16;
    for (size_t j = 0; j < dim; j++) {
        double var = n > 1 ? ss[j] / (double)(n - 1) : 0.0;
        double me = (double)n * s->mean[j] * eps;
        ss[j] = var > (double)n * eps * var + me * me ? sqrt(var) : 0.0;
    }
    free(parts);
    return 0;
}

void nagm_scaler_transform_row(const nagm_scaler *s, double *x)
{
    for (size_t j = 0; j < s->dim; j++)
        x[j] = s->std[j] > 0 ? (x[j] - s->mean[j]) / s->std[j] : 0.0;
}

void nagm_scaler_transform(const nagm_scaler *s, double *X, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nagm_scaler_transform_row(s, X + i * s->dim);
}

void nagm_scaler_clear(nagm_scaler *s)
{
    free(s->mean);
    free(s->std);
    s->mean = s->std = NULL;
    s->dim = 0;
}
