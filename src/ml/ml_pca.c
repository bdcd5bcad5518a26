/* PCA from the sample covariance matrix, eigendecomposed with LAPACK
 * (dsyevr). The covariance is accumulated block by block with BLAS dsyrk on
 * centred copies of the rows, so a million-row input needs no second full
 * matrix in memory. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/blas_dl.h"
#include "ml/ml_comm.h"
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
    return nagm_pca_fit_comm(p, X, n, dim, ncomp, NULL, errbuf);
}

static int pca_fit(nagm_pca *p, const double *X, size_t n_local, size_t dim, size_t ncomp,
                   const nagm_ml_comm *comm, char *errbuf);

int nagm_pca_fit_comm(nagm_pca *p, const double *X, size_t n_local, size_t dim, size_t ncomp,
                      const nagm_ml_comm *comm, char *errbuf)
{
    return pca_fit(p, X, n_local, dim, ncomp, comm, errbuf);
}

/* Eigendecomposition of the covariance C (upper triangle; destroyed) into
 * p's components, variances and ratios. Returns 0 or -NAGM_ML_ELAPACK. */
static int eigen(const nagm_blas *bl, nagm_pca *p, double *C, double *Z, double *w,
                 lapack_int *isuppz, char *errbuf)
{
    size_t dim = p->dim, ncomp = p->ncomp;
    lapack_int m = 0;
    lapack_int info = bl->dsyevr(LAPACK_ROW_MAJOR, 'V', 'A', 'U', (lapack_int)dim, C,
                                 (lapack_int)dim, 0.0, 0.0, 0, 0, 0.0, &m, w, Z, (lapack_int)dim,
                                 isuppz);
    if (info != 0 || (size_t)m != dim)
        return nagm_ml_fail(errbuf, NAGM_ML_ELAPACK, "PCA: LAPACKE_dsyevr failed (info %d)",
                            (int)info);

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
    return 0;
}

/* Over several processes: the block sums of the means and the blocks'
 * B^T B (upper triangle, packed) are added in block order across processes
 * (ml_comm.h), so C is bit-identical to a single process's; process 0
 * decomposes it and sends the result to the others. */
static int pca_fit(nagm_pca *p, const double *X, size_t n_local, size_t dim, size_t ncomp,
                   const nagm_ml_comm *comm, char *errbuf)
{
    memset(p, 0, sizeof *p);
    const nagm_blas *bl = nagm_blas_get(errbuf);
    if (!bl)
        return -NAGM_ML_ELAPACK;
    if (dim == 0 || dim > 100000)
        return nagm_ml_fail(errbuf, NAGM_ML_EINVAL, "PCA: bad dimension %zu", dim);
    if (ncomp < 1)
        ncomp = 1;
    if (ncomp > dim)
        ncomp = dim;
    size_t n = mlc_n(comm, n_local), nb = (n_local + BLOCK - 1) / BLOCK;
    size_t tri = dim * (dim + 1) / 2;
    int multi = mlc_multi(comm);
    p->dim = dim;
    p->ncomp = ncomp;
    p->mean = calloc(dim, sizeof *p->mean);
    p->components = calloc(ncomp * dim, sizeof *p->components);
    p->variance = calloc(dim, sizeof *p->variance);
    p->ratio = calloc(dim, sizeof *p->ratio);
    double *C = calloc(dim * dim, sizeof *C);
    double *Z = calloc(dim * dim, sizeof *Z);
    double *T = malloc(dim * dim * sizeof *T);
    double *w = calloc(dim, sizeof *w);
    lapack_int *isuppz = calloc(2 * dim, sizeof *isuppz);
    size_t brows = n_local < BLOCK ? (n_local ? n_local : 1) : BLOCK;
    double *B = malloc(brows * dim * sizeof *B);
    /* Block partials: the means', and with several processes the packed
     * covariance blocks' (a single process adds each block as it goes). */
    double *parts = malloc((nb ? nb : 1) * (multi ? (tri > dim ? tri : dim) : dim) * sizeof *parts);
    int rc = 0;
    if (!p->mean || !p->components || !p->variance || !p->ratio || !C || !Z || !T || !w ||
        !isuppz || !B || !parts) {
        rc = mlc_nomem(comm, errbuf, "in PCA");
        goto out;
    }

    /* Means: the same blocked summation as the scaler. */
    for (size_t b = 0, t = 0; b < n_local; b += BLOCK, t++) {
        size_t e = b + BLOCK < n_local ? b + BLOCK : n_local;
        double *acc = parts + t * dim;
        memset(acc, 0, dim * sizeof *acc);
        for (size_t i = b; i < e; i++)
            for (size_t j = 0; j < dim; j++)
                acc[j] += X[i * dim + j];
    }
    mlc_sum_ordered(comm, parts, nb, dim, p->mean);
    for (size_t j = 0; n && j < dim; j++)
        p->mean[j] /= (double)n;

    /* C = sum over blocks of B^T B, B the centred rows of a block (upper
     * triangle only). Each block's product is formed on its own (beta 0)
     * and then added, so that the sum is the same whichever process formed
     * which block. */
    for (size_t b = 0, t = 0; b < n_local; b += BLOCK, t++) {
        size_t e = b + BLOCK < n_local ? b + BLOCK : n_local;
        for (size_t i = b; i < e; i++)
            for (size_t j = 0; j < dim; j++)
                B[(i - b) * dim + j] = X[i * dim + j] - p->mean[j];
        bl->dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)dim, (int)(e - b), 1.0, B,
                    (int)dim, 0.0, T, (int)dim);
        double *pk = parts + t * tri;
        for (size_t i = 0, k = 0; i < dim; i++)
            for (size_t j = i; j < dim; j++, k++) {
                if (multi)
                    pk[k] = T[i * dim + j];
                else
                    C[i * dim + j] += T[i * dim + j];
            }
    }
    if (multi) {
        /* T is free again: the packed sum goes there, then into C. */
        mlc_sum_ordered(comm, parts, nb, tri, T);
        for (size_t i = 0, k = 0; i < dim; i++)
            for (size_t j = i; j < dim; j++, k++)
                C[i * dim + j] = T[k];
    }
    if (n > 1)
        for (size_t i = 0; i < dim; i++)
            for (size_t j = i; j < dim; j++)
                C[i * dim + j] /= (double)(n - 1);
    else
        memset(C, 0, dim * dim * sizeof *C);

    char err[NAGM_ML_ERRBUF] = "";
    int32_t erc = 0;
    if (mlc_rank(comm) == 0)
        erc = eigen(bl, p, C, Z, w, isuppz, err);
    if (multi) {
        mlc_bcast(comm, &erc, sizeof erc, 0);
        if (erc) {
            mlc_bcast(comm, err, sizeof err, 0);
        } else {
            mlc_bcast(comm, p->components, ncomp * dim * sizeof *p->components, 0);
            mlc_bcast(comm, p->variance, dim * sizeof *p->variance, 0);
            mlc_bcast(comm, p->ratio, dim * sizeof *p->ratio, 0);
        }
    }
    if (erc) {
        if (errbuf)
            memcpy(errbuf, err, NAGM_ML_ERRBUF);
        rc = erc;
    }
out:
    free(C);
    free(Z);
    free(T);
    free(w);
    free(isuppz);
    free(B);
    free(parts);
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
