/* PCA from the sample covariance matrix, eigendecomposed with LAPACK
 * (dsyevr). The covariance is accumulated block by block with BLAS dsyrk on
 * centred copies of the rows, so a million-row input needs no second full
 * matrix in memory. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_err.h"
#include "netagm/ml.h"

#define BLOCK 4096

void nagm_pca_clear(nagm_pca *p)
{
    free(p->mean);
    free(p->components);
    free(p->variance);
    free(p->ratio);
    memset(p, 0, sizeof *p);
}

int nagm_pca_fit(nagm_pca *p, const double *X, size_t n, size_t dim, size_t ncomp, char *errbuf)
{
    memset(p, 0, sizeof *p);
    if (dim == 0 || dim > 100000)
        return nagm_ml_fail(errbuf, NAGM_ML_EINVAL, "PCA: bad dimension %zu", dim);
    if (ncomp < 1)
        ncomp = 1;
    if (ncomp > dim)
        ncomp = dim;
    p->dim = dim;
    p->ncomp = ncomp;
    p->mean = calloc(dim, sizeof *p->mean);
    p->components = calloc(ncomp * dim, sizeof *p->components);
    p->variance = calloc(dim, sizeof *p->variance);
    p->ratio = calloc(dim, sizeof *p->ratio);
    double *C = calloc(dim * dim, sizeof *C);
    double *Z = calloc(dim * dim, sizeof *Z);
    double *w = calloc(dim, sizeof *w);
    lapack_int *isuppz = calloc(2 * dim, sizeof *isuppz);
    size_t brows = n < BLOCK ? (n ? n : 1) : BLOCK;
    double *B = malloc(brows * dim * sizeof *B);
    int rc = 0;
    if (!p->mean || !p->components || !p->variance || !p->ratio || !C || !Z || !w || !isuppz ||
        !B) {
        rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in PCA");
        goto out;
    }

    /* Means: the same blocked summation as the scaler. */
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t e = b + BLOCK < n ? b + BLOCK : n;
        memset(w, 0, dim * sizeof *w);
        for (size_t i = b; i < e; i++)
            for (size_t j = 0; j < dim; j++)
                w[j] += X[i * dim + j];
        for (size_t j = 0; j < dim; j++)
            p->mean[j] += w[j];
    }
    for (size_t j = 0; n && j < dim; j++)
        p->mean[j] /= (double)n;

    /* C = sum over blocks of B^T B, B the centred rows of a block (upper
     * triangle only). */
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t e = b + BLOCK < n ? b + BLOCK : n;
        for (size_t i = b; i < e; i++)
            for (size_t j = 0; j < dim; j++)
                B[(i - b) * dim + j] = X[i * dim + j] - p->mean[j];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)dim, (int)(e - b), 1.0, B,
                    (int)dim, 1.0, C, (int)dim);
    }
    if (n > 1)
        for (size_t i = 0; i < dim; i++)
            for (size_t j = i; j < dim; j++)
                C[i * dim + j] /= (double)(n - 1);
    else
        memset(C, 0, dim * dim * sizeof *C);

    lapack_int m = 0;
    lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'A', 'U', (lapack_int)dim, C,
                                     (lapack_int)dim, 0.0, 0.0, 0, 0, 0.0, &m, w, Z,
                                     (lapack_int)dim, isuppz);
    if (info != 0 || (size_t)m != dim) {
        rc = nagm_ml_fail(errbuf, NAGM_ML_ELAPACK, "PCA: LAPACKE_dsyevr failed (info %d)",
                          (int)info);
        goto out;
    }

    /* dsyevr gives ascending eigenvalues, eigenvectors in the columns of Z. */
    double total = 0;
    for (size_t c = 0; c < dim; c++) {
        double v = w[dim - 1 - c];
        p->variance[c] = v > 0 && isfinite(v) ? v : 0.0; /* rounding can make 0 slightly < 0 */
        total += p->variance[c];
    }
    for (size_t c = 0; c < dim; c++)
        p->ratio[c] = total > 0 ? p->variance[c] / total : 0.0;
    for (size_t c = 0; c < ncomp; c++) {
        size_t col = dim - 1 - c;
        double *comp = p->components + c * dim;
        size_t arg = 0;
        for (size_t j = 0; j < dim; j++) {
            comp[j] = Z[j * dim + col];
            if (fabs(comp[j]) > fabs(comp[arg]))
                arg = j;
        }
        if (comp[arg] < 0)
            for (size_t j = 0; j < dim; j++)
                comp[j] = -comp[j] + 0.0; /* + 0.0: no negative zeros in the model */
    }
out:
    free(C);
    free(Z);
    free(w);
    free(isuppz);
    free(B);
    if (rc)
        nagm_pca_clear(p);
    return rc;
}

void nagm_pca_transform_row(const nagm_pca *p, const double *x, double *out)
{
    for (size_t c = 0; c < p->ncomp; c++) {
        const double *comp = p->components + c * p->dim;
        double s = 0;
        for (size_t j = 0; j < p->dim; j++)
            s += (x[j] - p->mean[j]) * comp[j];
        out[c] = s;
    }
}

void nagm_pca_transform(const nagm_pca *p, const double *X, size_t n, double *Y)
{
    for (size_t i = 0; i < n; i++)
        nagm_pca_transform_row(p, X + i * p->dim, Y + i * p->ncomp);
}
